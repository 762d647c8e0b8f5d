"""Membership attacks on many target models, scores pooled: low-FPR numbers that rest on data.

A TPR at 0.1 % FPR read off one target model with 2 500 non-members rests on the 2-3 highest
non-member scores. Carlini et al. (2022) evaluate LiRA the other way: every trained model plays
the target in turn, attacked with the others as its reference models, and the scores of all
targets are pooled, so the threshold at 0.1 % FPR rests on as many times more non-members as
there are targets. :func:`leave_one_out_scores` does the attacking (LiRA offline and online,
offline RMIA with its ``a`` fitted on the references of each target, and the loss threshold),
:func:`pooled_tpr_at_fpr` the pooling, :func:`pooled_tpr_interval` an interval (a bootstrap
that resamples target models and pool examples) and :func:`per_target_tpr` each target's own
number.

A reference trained on exactly the target's non-members (the other model of a complementary
pair, :func:`reference_attacks.reference_in_masks`) is left out: it would be "out" for every
member of the target and "in" for every non-member, so members would always have one more "out"
model than non-members, which biases every attack that averages over the "out" models. Scores of
different targets are pooled as the LiRA paper does; LiRA's and RMIA's scores are calibrated per
example (but a target whose scores are shifted as a whole, e.g. trained differently, still sits
on its own scale), and the loss threshold, not calibrated at all, is the baseline.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import attack_metrics, reference_attacks

ATTACKS = ("threshold", "lira_offline", "lira_online", "rmia_offline")


def _check(scores: np.ndarray, in_masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s, m = np.asarray(scores, dtype=float), np.asarray(in_masks)
    if s.ndim != 2 or m.shape != s.shape or m.dtype != bool:
        raise ValueError(
            f"scores (targets, n) and boolean in_masks of the same shape are needed, "
            f"got {s.shape} and {m.dtype} {m.shape}"
        )
    if np.any(m.all(axis=1)) or not np.all(m.any(axis=1)):
        raise ValueError("every target needs members and non-members")
    return s, m


def leave_one_out_scores(
    logits_pool: np.ndarray,
    labels_pool: np.ndarray,
    logits_population: np.ndarray,
    labels_population: np.ndarray,
    in_masks: np.ndarray,
    *,
    gamma: float = 1.0,
) -> dict[str, np.ndarray]:
    """Return ``{attack: scores}`` with ``scores[j]`` the attack on model ``j`` as the target
    and the other models as its reference models (shape ``(models, n)``), but for a model whose
    training set is exactly the complement of ``j``'s (see the module docstring).

    ``logits_pool`` ``(models, n, classes)``: every model's logits on the pool; ``in_masks``
    ``(models, n)``: which pool examples trained which model (the target's members included);
    ``logits_population`` ``(models, m, classes)``: on RMIA's population ``z``, which trained
    no model. Attacks (:data:`ATTACKS`): ``threshold`` (the example's log-probability of its
    label, minus its loss), offline and online LiRA (:func:`reference_attacks.lira_scores`) and
    offline RMIA with ``a`` fitted on the references alone
    (:func:`reference_attacks.fit_offline_a`). Needs at least 3 models, and every target at
    least 2 references. Raises ``ValueError`` for mismatched shapes.
    """
    logits = np.asarray(logits_pool, dtype=float)
    logits_z = np.asarray(logits_population, dtype=float)
    masks = np.asarray(in_masks)
    labels = np.asarray(labels_pool).reshape(-1)
    labels_z = np.asarray(labels_population).reshape(-1)
    if logits.ndim != 3 or logits.shape[:2] != masks.shape or masks.dtype != bool:
        raise ValueError(
            f"logits_pool (models, n, classes) and boolean in_masks (models, n) are needed, "
            f"got {logits.shape} and {masks.dtype} {masks.shape}"
        )
    n_models = logits.shape[0]
    if n_models < 3:
        raise ValueError(f"need at least 3 models (a target and 2 references), got {n_models}")
    if labels.size != logits.shape[1] or logits_z.shape[:2] != (n_models, labels_z.size):
        raise ValueError("labels and population logits do not match the pool logits")
    stat = np.stack([reference_attacks.lira_statistic(lg, labels) for lg in logits])
    prob_x = np.stack([reference_attacks.true_label_probability(lg, labels) for lg in logits])
    prob_z = np.stack([reference_attacks.true_label_probability(lg, labels_z) for lg in logits_z])
    out = {name: np.empty(masks.shape) for name in ATTACKS}
    for j in range(n_models):
        complement = np.all(masks == ~masks[j], axis=1)
        others = (np.arange(n_models) != j) & ~complement
        if others.sum() < 2:
            raise ValueError(f"model {j} has fewer than 2 references besides its complement")
        refs = masks[others]
        out["threshold"][j] = np.log(prob_x[j])
        out["lira_offline"][j] = reference_attacks.lira_scores(stat[j], stat[others], refs, False)
        out["lira_online"][j] = reference_attacks.lira_scores(stat[j], stat[others], refs, True)
        a = reference_attacks.fit_offline_a(prob_x[others], refs)
        out["rmia_offline"][j] = reference_attacks.rmia_offline_scores(
            prob_x[j], prob_x[others], refs, prob_z[j], prob_z[others], a, gamma=gamma
        )
    return out


def pooled_tpr_at_fpr(scores: np.ndarray, in_masks: np.ndarray, fpr: float) -> float:
    """Return the TPR at ``fpr`` of all targets' scores pooled: every target's members and
    non-members in one ROC (:func:`attack_metrics.tpr_at_fpr`)."""
    s, m = _check(scores, in_masks)
    return float(attack_metrics.tpr_at_fpr(s[m], s[~m], fpr).tpr)


def per_target_tpr(scores: np.ndarray, in_masks: np.ndarray, fpr: float) -> np.ndarray:
    """Return each target's own TPR at ``fpr`` (one ROC per target)."""
    s, m = _check(scores, in_masks)
    return np.array([attack_metrics.tpr_at_fpr(s[j][m[j]], s[j][~m[j]], fpr).tpr
                     for j in range(len(s))])  # fmt: skip


def pooled_tpr_interval(
    scores: np.ndarray,
    in_masks: np.ndarray,
    fpr: float,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Return a bootstrap interval of :func:`pooled_tpr_at_fpr`.

    Each of ``n_boot`` (seeded) draws resamples the target models and, independently, the pool
    examples (the same examples for every target), both with replacement, and recomputes the
    pooled TPR; the interval is the central ``confidence`` range. It covers both what another
    set of trained models and what another draw of examples would give. With a handful of
    targets that share their references it is rough, not exact.
    """
    s, m = _check(scores, in_masks)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 10:
        raise ValueError(f"n_boot must be an int >= 10, got {n_boot!r}")
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(int(n_boot)):
        rows = rng.integers(0, s.shape[0], size=s.shape[0])
        cols = rng.integers(0, s.shape[1], size=s.shape[1])
        sub_s, sub_m = s[np.ix_(rows, cols)], m[np.ix_(rows, cols)]
        if np.any(sub_m.all(axis=1)) or not np.all(sub_m.any(axis=1)):
            continue  # a draw with a target lacking members or non-members: skip it
        draws.append(pooled_tpr_at_fpr(sub_s, sub_m, fpr))
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)
