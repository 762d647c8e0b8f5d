"""Membership inference calibrated by reference ("shadow") models: LiRA and RMIA.

A loss threshold treats every example alike, but some examples are hard for *any* model
(loss high even when trained on) and some easy (loss low even when not). Reference models,
trained like the target on random halves of a data pool, tell for each example how its
statistic looks when it is "in" and when it is "out" of training; the attack compares the
target's value with those.

* **LiRA** (Carlini et al., 2022): fit a Gaussian to the example's logit-scaled confidence
  under "in" and "out" reference models; score = likelihood ratio (online), or how far above
  the "out" Gaussian the target's value lies (offline). The statistic is TF Privacy's own
  ``advanced_mia.calculate_statistic``; the scores are TF Privacy's ``compute_score_lira`` and
  ``compute_score_offset`` (its bundled example passes a ``convert_to_prob`` argument that does
  not exist; the functions work), computed for all examples at once: TF Privacy takes a list of
  arrays, one per example, and calls ``np.nanmedian`` on each in a Python loop, ~40 s of
  notebook 04's pooled evaluation (10 calls on 5 000 examples); the tests check that the
  numbers are TF Privacy's.
* **RMIA** (Zarifzadeh et al., 2024): compare the target's probability of the true label
  with its average under the reference models, *relative to* the same ratio for population
  examples ``z``; score = fraction of ``z`` the example beats. No installed library offers it,
  so :func:`rmia_scores` implements the paper's equations with ``Pr(x)`` the mean over all
  reference models (the online estimate when each example trained half of them), and
  :func:`rmia_offline_scores` the paper's offline version for few reference models: "out"
  models only, ``Pr(x) = ((1 + a) Pr_OUT(x) + (1 - a)) / 2`` (:func:`offline_pr_x`), with
  ``a`` fitted on the reference models (:func:`fit_offline_a`), ties broken by the ratio.

Every score here is "higher = more likely a member".
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy import stats
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import advanced_mia


def _check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def reference_in_masks(n_models: int, n_examples: int, seed: int) -> np.ndarray:
    """Return a boolean ``(n_models, n_examples)`` array: which examples train which model.

    Models come in complementary pairs: model ``2i`` trains on a random half of the examples
    (each with probability 1/2, independently of the other pairs) and model ``2i + 1`` on the
    other half. So every example is "in" for exactly half of the models, as in Carlini et al.'s
    design, each model trains on about half of the pool, and so do the first ``k`` models for
    any even ``k``: every example then has exactly ``k / 2`` "in" and ``k / 2`` "out" models,
    which makes a sweep over the number of reference models fair to every example and to
    offline and online attacks alike. ``n_models`` must be even. Raises
    ``ValueError``/``TypeError`` otherwise. Used by notebook 04.
    """
    k = _check_int("n_models", n_models, 2)
    n = _check_int("n_examples", n_examples, 1)
    if k % 2:
        raise ValueError(f"n_models must be even (each example in exactly half), got {k}")
    rng = np.random.default_rng(seed)
    first = rng.random((k // 2, n)) < 0.5
    return np.stack([first, ~first], axis=1).reshape(k, n)


def _check_stats(target: np.ndarray, reference: np.ndarray, in_masks: np.ndarray) -> tuple:
    target = np.asarray(target, dtype=float).reshape(-1)
    reference = np.asarray(reference, dtype=float)
    in_masks = np.asarray(in_masks)
    if reference.ndim != 2 or reference.shape[1] != target.size:
        raise ValueError(
            f"reference statistics must have shape (models, {target.size}), got {reference.shape}"
        )
    if in_masks.dtype != bool or in_masks.shape != reference.shape:
        raise ValueError(
            f"in_masks must be a boolean array of shape {reference.shape}, got "
            f"{in_masks.dtype} {in_masks.shape}"
        )
    if not np.all(np.isfinite(target)) or not np.all(np.isfinite(reference)):
        raise ValueError("statistics must be finite")
    return target, reference, in_masks


def lira_statistic(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Return LiRA's per-example statistic, the logit-scaled confidence ``log(p / (1 - p))``
    of the true label (TF Privacy's ``calculate_statistic(option="logit")`` on logits).

    ``logits`` has shape ``(n, classes)``, ``labels`` ``(n,)`` or ``(n, 1)``. Unlike the loss,
    this statistic is close to Gaussian over training runs, which LiRA's fit assumes. Used by
    notebook 04.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1).astype(int)
    if logits.ndim != 2 or logits.shape[0] != labels.size:
        raise ValueError(f"logits must have shape ({labels.size}, classes), got {logits.shape}")
    return advanced_mia.calculate_statistic(logits.copy(), labels, is_logits=True, option="logit")


def lira_scores(
    target_stat: np.ndarray,
    reference_stats: np.ndarray,
    in_masks: np.ndarray,
    online: bool,
) -> np.ndarray:
    """Return LiRA membership scores (higher = member) with a fixed, global variance.

    ``target_stat[i]`` is the target model's statistic of example ``i``
    (:func:`lira_statistic`), ``reference_stats[k, i]`` reference model ``k``'s, and
    ``in_masks[k, i]`` whether example ``i`` trained model ``k``. The variance is shared by
    all examples ("fixed variance"), which Carlini et al. recommend with few reference models.

    * *Online* LiRA: the log-likelihood ratio of the target's value under the "in" and the
      "out" Gaussian, TF Privacy's ``compute_score_lira(option="both", fix_variance=True)``,
      negated (TF Privacy's members score low).
    * *Offline* LiRA uses only the "out" models (no model trained on the example has to
      exist): the paper's one-sided test, score ``Phi((phi - mu_out) / sigma)`` (its p-value
      under "out" is ``1 - Phi(...)``, small for members). With one shared sigma it ranks
      examples exactly as ``phi - mu_out``, which is TF Privacy's
      ``compute_score_offset(option="out")``. (``compute_score_lira(option="out")`` scores a
      two-sided density instead, which also flags examples that the target fits *worse* than
      the reference models do.)

    Per-example centres are medians over the models, as in TF Privacy and Carlini et al.'s
    code. An example with no "in" (or "out") model gets the mean over examples, as TF Privacy
    does; the empty-slice warnings that this raises are silenced here.
    """
    target, reference, in_masks = _check_stats(target_stat, reference_stats, in_masks)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        # np.nanmedian/np.nanstd of an example that has no "in" (or "out") model: TF Privacy
        # replaces that NaN by the mean over examples. Expected with 1 or 2 reference models.
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        warnings.filterwarnings("ignore", "Degrees of freedom <= 0", RuntimeWarning)
        centre_out = _centre(reference, ~in_masks)
        if not online:  # compute_score_offset(option="out"): stat_target - offset
            return target - centre_out
        centre_in = _centre(reference, in_masks)
        std_in = _spread(reference, in_masks, centre_in)
        std_out = _spread(reference, ~in_masks, centre_out)
        # compute_score_lira(option="both", fix_variance=True) is -(log_pr_in - log_pr_out)
        log_pr_in = stats.norm.logpdf(target, centre_in, std_in + 1e-30)
        log_pr_out = stats.norm.logpdf(target, centre_out, std_out + 1e-30)
    return np.asarray(log_pr_in - log_pr_out, dtype=float)


def _centre(reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return TF Privacy's per-example centre: the ``np.nanmedian`` over the models in
    ``mask`` (shape ``(n,)``), NaN for an example with none replaced by the mean over
    examples (its ``replace_nan_with_column_mean``)."""
    centre = np.nanmedian(np.where(mask, reference, np.nan), axis=0)
    missing = np.isnan(centre)
    if missing.any():
        centre[missing] = np.nanmean(centre)
    return centre


def _spread(reference: np.ndarray, mask: np.ndarray, centre: np.ndarray) -> float:
    """Return TF Privacy's fixed-variance standard deviation: ``np.nanstd`` of every masked
    statistic minus its example's centre, taken example by example as TF Privacy
    concatenates them."""
    return float(np.nanstd((reference - centre[None, :]).T[mask.T]))


def true_label_probability(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Return each example's softmax probability of its true label (float64, shape ``(n,)``),
    as TF Privacy's ``calculate_statistic(option="conf with prob")`` computes it. RMIA's
    ``Pr(x | model)``."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1).astype(int)
    if logits.ndim != 2 or logits.shape[0] != labels.size:
        raise ValueError(f"logits must have shape ({labels.size}, classes), got {logits.shape}")
    return advanced_mia.calculate_statistic(
        logits.copy(), labels, is_logits=True, option="conf with prob"
    )


def rmia_scores(
    target_prob_x: np.ndarray,
    reference_prob_x: np.ndarray,
    target_prob_z: np.ndarray,
    reference_prob_z: np.ndarray,
    gamma: float = 1.0,
) -> np.ndarray:
    """Return online RMIA scores (higher = member), Zarifzadeh et al. (2024), Eq. 2-4.

    For an example ``x``: ``ratio(x) = Pr(x | target) / Pr(x)``, where ``Pr(x)`` is the mean of
    ``Pr(x | reference model)`` over all reference models. That is the paper's online
    estimate, the average of "in" and "out" models, only when every example trained exactly
    half of the models (:func:`reference_in_masks`); with a subset of them use
    :func:`rmia_offline_scores`. The same ratio is computed for population examples ``z``
    that trained no model. The paper's score of ``x`` is the fraction of ``z`` with
    ``ratio(x) / ratio(z) >= gamma``, a non-decreasing function of ``ratio(x)`` for one target
    model; ties are broken by ``ratio(x)`` (see :func:`rmia_offline_scores`). ``*_prob_x``
    have shapes ``(n,)`` (target) and ``(models, n)`` (references); ``*_prob_z`` likewise
    with the population. Probabilities must lie in (0, 1]. Raises ``ValueError`` for bad
    shapes or values or ``gamma <= 0``.
    """
    tx = np.asarray(target_prob_x, dtype=float).reshape(-1)
    tz = np.asarray(target_prob_z, dtype=float).reshape(-1)
    rx = np.asarray(reference_prob_x, dtype=float)
    rz = np.asarray(reference_prob_z, dtype=float)
    if rx.ndim != 2 or rx.shape[1] != tx.size:
        raise ValueError(f"reference_prob_x must have shape (models, {tx.size}), got {rx.shape}")
    if rz.ndim != 2 or rz.shape != (rx.shape[0], tz.size):
        raise ValueError(
            f"reference_prob_z must have shape ({rx.shape[0]}, {tz.size}), got {rz.shape}"
        )
    if tz.size == 0:
        raise ValueError("the population z must not be empty")
    for name, p in (("target_prob_x", tx), ("target_prob_z", tz), ("reference", rx), ("z", rz)):
        if not np.all((p > 0) & (p <= 1)):
            raise ValueError(f"{name} probabilities must lie in (0, 1]")
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not gamma > 0:
        raise ValueError(f"gamma must be a positive number, got {gamma!r}")
    log_ratio_x = np.log(tx) - np.log(rx.mean(axis=0))
    log_ratio_z = np.log(tz) - np.log(rz.mean(axis=0))
    return _rmia_fraction(log_ratio_x, log_ratio_z, gamma)


def _rmia_fraction(log_ratio_x: np.ndarray, log_ratio_z: np.ndarray, gamma: float) -> np.ndarray:
    """Return RMIA's score from the log-ratios of ``x`` and ``z``, ties broken by ``ratio(x)``.

    The paper's score is the fraction of ``z`` with ``ratio(x) / ratio(z) >= gamma``. It is a
    non-decreasing step function of ``ratio(x)``; the result is ``(beaten + r) / (len(z) + 1)``
    with ``r`` in [0, 1) the rank of ``ratio(x)`` among all ``x`` over their number, which
    orders equal fractions by ``ratio(x)`` and never reorders two different fractions.
    """
    log_ratio_z = np.sort(log_ratio_z)
    # ratio(x) / ratio(z) >= gamma  <=>  log ratio(z) <= log ratio(x) - log gamma
    beaten = np.searchsorted(log_ratio_z, log_ratio_x - np.log(gamma), side="right")
    rank = np.argsort(np.argsort(log_ratio_x, kind="stable"), kind="stable") / log_ratio_x.size
    return (beaten + rank) / (log_ratio_z.size + 1)


def offline_pr_x(reference_prob: np.ndarray, in_masks: np.ndarray, a: float) -> np.ndarray:
    """Return RMIA's offline estimate of ``Pr(x)`` for each example (Zarifzadeh et al. 2024).

    With few reference models, most of them "out" for ``x``, the paper approximates the
    average of the "in" and "out" probabilities from the "out" ones alone:
    ``Pr(x) = ((1 + a) Pr_OUT(x) + (1 - a)) / 2``, where ``Pr_OUT(x)`` is the mean of
    ``reference_prob[k, x]`` over the models ``k`` not trained on ``x`` (``in_masks[k, x]``
    false) and ``a`` in [0, 1] says how much an "in" model's probability rises above an "out"
    one's (``Pr_IN = a Pr_OUT + 1 - a``). An example that every given model trained on has no
    ``Pr_OUT``; it is estimated from the "in" models by inverting that relation (as ML Privacy
    Meter does with one reference model), clipped to (0, 1]; with ``a = 0`` that relation says
    nothing about ``Pr_OUT`` (``Pr_IN = 1``), and the "in" mean itself stands in for it.
    ``reference_prob`` has shape ``(models, n)``. Raises ``ValueError`` for bad shapes,
    probabilities outside (0, 1] or ``a`` outside [0, 1].
    """
    probs = np.asarray(reference_prob, dtype=float)
    masks = np.asarray(in_masks)
    if probs.ndim != 2 or masks.shape != probs.shape or masks.dtype != bool:
        raise ValueError(
            f"reference_prob (models, n) and boolean in_masks of the same shape are needed, "
            f"got {probs.shape} and {masks.dtype} {masks.shape}"
        )
    if not np.all((probs > 0) & (probs <= 1)):
        raise ValueError("reference probabilities must lie in (0, 1]")
    if isinstance(a, bool) or not isinstance(a, numbers.Real) or not 0 <= a <= 1:
        raise ValueError(f"a must be a number in [0, 1], got {a!r}")
    out = ~masks
    n_out = out.sum(axis=0)
    with np.errstate(invalid="ignore"):  # 0 / 0 where no model is "out": replaced below
        pr_out = np.where(out, probs, 0.0).sum(axis=0) / n_out
    if np.any(n_out == 0):
        pr_in = np.where(masks, probs, 0.0).sum(axis=0) / np.maximum(masks.sum(axis=0), 1)
        from_in = (pr_in - (1 - a)) / a if a > 0 else pr_in
        pr_out = np.where(n_out > 0, pr_out, np.clip(from_in, np.finfo(float).tiny, 1.0))
    return ((1 + a) * pr_out + (1 - a)) / 2


def rmia_offline_scores(
    target_prob_x: np.ndarray,
    reference_prob_x: np.ndarray,
    in_masks: np.ndarray,
    target_prob_z: np.ndarray,
    reference_prob_z: np.ndarray,
    a: float,
    gamma: float = 1.0,
) -> np.ndarray:
    """Return offline RMIA scores (higher = member), Zarifzadeh et al. (2024), ties broken.

    ``ratio(x) = Pr(x | target) / Pr(x)`` with ``Pr(x)`` from :func:`offline_pr_x` (the
    reference models that did not train on ``x``, and the constant ``a``); the population
    examples ``z`` trained no model, so every reference model is "out" for them. The paper's
    score is the fraction of ``z`` with ``ratio(x) / ratio(z) >= gamma``. For one target model
    and a fixed set of ``z`` that fraction is a non-decreasing function of ``ratio(x)``, so the
    ROC, the AUC and every TPR at a fixed FPR are those of ``ratio(x)`` itself: ``z`` and
    ``gamma`` change them only through ties (and matter when scores of different target models
    are compared, or a fixed threshold on the fraction is used). Ties are broken by
    ``ratio(x)``: the score is ``(beaten + r) / (len(z) + 1)``, with ``r`` in [0, 1) the rank of
    ``ratio(x)`` among all ``x`` divided by their number, which never reorders two different
    fractions. Shapes: ``(n,)`` and ``(models, n)`` for ``x``, ``(m,)`` and ``(models, m)``
    for ``z``. Raises ``ValueError`` for bad input.
    """
    tx = np.asarray(target_prob_x, dtype=float).reshape(-1)
    tz = np.asarray(target_prob_z, dtype=float).reshape(-1)
    rz = np.asarray(reference_prob_z, dtype=float)
    pr_x = offline_pr_x(reference_prob_x, in_masks, a)
    if pr_x.size != tx.size:
        raise ValueError(f"reference_prob_x must have shape (models, {tx.size})")
    if rz.ndim != 2 or rz.shape != (np.shape(reference_prob_x)[0], tz.size) or tz.size == 0:
        raise ValueError(
            f"reference_prob_z must have shape ({np.shape(reference_prob_x)[0]}, {tz.size}) "
            "with a non-empty population"
        )
    for name, p in (("target_prob_x", tx), ("target_prob_z", tz)):
        if not np.all((p > 0) & (p <= 1)):
            raise ValueError(f"{name} probabilities must lie in (0, 1]")
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not gamma > 0:
        raise ValueError(f"gamma must be a positive number, got {gamma!r}")
    pr_z = offline_pr_x(rz, np.zeros(rz.shape, dtype=bool), a)
    return _rmia_fraction(np.log(tx) - np.log(pr_x), np.log(tz) - np.log(pr_z), gamma)


def fit_offline_a(
    reference_prob_x: np.ndarray,
    in_masks: np.ndarray,
    grid: np.ndarray | None = None,
    default: float | None = None,
) -> float:
    """Return the ``a`` of :func:`offline_pr_x` fitted on the reference models alone.

    As the paper and ML Privacy Meter do it, without the target: each reference model in turn
    plays the target, the others are its references, and its own "in" and "out" examples
    are the members and non-members; the ``a`` of ``grid`` (default 0, 0.1, ..., 1) with the
    highest mean AUC of ``ratio(x)`` over these attacks wins (RMIA's AUC is that of
    ``ratio(x)``, see :func:`rmia_offline_scores`). A reference trained on exactly the
    pseudo-target's non-members (the other model of its complementary pair,
    :func:`reference_in_masks`) is left out: it would give every member an "out" model and
    every non-member none, which is not the real attack's situation. A pseudo-target left with
    no reference is skipped; if every one is (a single complementary pair), ``default`` is
    returned when given, else ``ValueError`` is raised. Also raises ``ValueError`` for fewer
    than two models or bad shapes.
    """
    from sklearn import metrics  # lazily: only the fit needs it

    probs = np.asarray(reference_prob_x, dtype=float)
    masks = np.asarray(in_masks)
    if probs.ndim != 2 or probs.shape[0] < 2:
        raise ValueError(
            f"fitting a needs at least 2 reference models (models, n), got {probs.shape}"
        )
    if masks.shape != probs.shape:
        raise ValueError(f"in_masks must have the shape of reference_prob_x, {probs.shape}")
    grid = np.round(np.linspace(0, 1, 11), 10) if grid is None else np.asarray(grid, float)
    usable = []
    for k in range(probs.shape[0]):
        complement = np.all(masks == ~masks[k], axis=1)
        others = (np.arange(probs.shape[0]) != k) & ~complement
        if others.any():
            usable.append((k, others))
    if not usable:
        if default is not None:
            return float(default)
        raise ValueError(
            "every reference model's only other model is its complement: a cannot be fitted "
            "without the target (give default=)"
        )
    mean_auc = []
    for a in grid:
        aucs = []
        for k, others in usable:
            log_ratio = np.log(probs[k]) - np.log(offline_pr_x(probs[others], masks[others], a))
            aucs.append(metrics.roc_auc_score(masks[k], log_ratio))
        mean_auc.append(np.mean(aucs))
    return float(grid[int(np.argmax(mean_auc))])


def out_model_accuracy(
    reference_logits: np.ndarray, labels: np.ndarray, in_masks: np.ndarray
) -> np.ndarray:
    """Return, per example, the fraction of reference models *not* trained on it that classify
    it correctly (NaN for an example that every model trained on).

    ``reference_logits`` has shape ``(models, n, classes)``, ``labels`` ``(n,)`` or ``(n, 1)``,
    ``in_masks`` ``(models, n)``. A low value marks a hard, atypical example: only a model that
    trains on it gets it right, which is what membership attacks exploit.
    """
    logits = np.asarray(reference_logits)
    labels = np.asarray(labels).reshape(-1)
    in_masks = np.asarray(in_masks)
    if logits.ndim != 3 or logits.shape[1] != labels.size:
        raise ValueError(
            f"reference_logits must have shape (models, {labels.size}, classes), got {logits.shape}"
        )
    if in_masks.dtype != bool or in_masks.shape != logits.shape[:2]:
        raise ValueError(
            f"in_masks must be boolean of shape {logits.shape[:2]}, got {in_masks.shape}"
        )
    correct = logits.argmax(axis=2) == labels[None, :]
    out = ~in_masks
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 -> NaN: no "out" model
        return (correct & out).sum(axis=0) / out.sum(axis=0)
