"""Empirical audits of differential-privacy guarantees, with honest confidence intervals.

A DP claim ``Pr[K(D1) in S] <= e^eps * Pr[K(D2) in S]`` can be checked on samples of a
mechanism's outputs: take histogram bins as the events ``S`` and estimate each bin's
log-ratio ``ln(P1(S) / P2(S))``. :func:`empirical_log_ratios` does that with exact
(Clopper-Pearson) intervals, made simultaneous over all bins (Bonferroni), so "every lower
bound <= eps and every upper bound >= -eps" is a test with false-alarm probability at most
``alpha``.

Notebook 04 audits DP-SGD itself in one training run (Steinke, Nasr, Jagielski, 2023):
:func:`one_run_audit` turns the scores of randomly inserted canaries into an ε lower bound
at 95 % confidence, valid whatever the attack.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize, special, stats


def empirical_log_ratios(
    outputs_1: np.ndarray,
    outputs_2: np.ndarray,
    edges: np.ndarray,
    min_count: int,
    alpha: float,
) -> dict[str, np.ndarray]:
    """Return per-bin estimates of ``ln(P1(S) / P2(S))`` with simultaneous bounds.

    ``outputs_1`` and ``outputs_2`` are equally many outputs of a mechanism on two
    neighbouring datasets (equal sizes make ``q = P1 / (P1 + P2)`` the probability that an
    output of the bin came from ``outputs_1``). ``edges`` are the histogram bin edges
    (strictly increasing; outputs outside them are ignored, as by ``np.histogram``). Only
    bins with at least ``min_count`` outputs in total are kept: a choice that depends on
    the total count alone, not on how it splits. For each kept bin, given its total
    ``t = c1 + c2``, ``c1`` is taken as Binomial(t, q) (exact for Poisson sample sizes; with
    fixed equal sizes it is Fisher's noncentral hypergeometric, slightly narrower, so the
    bounds are conservative); the Clopper-Pearson bounds for ``q``, each
    one-sided at level ``alpha / (2 * bins kept)``, become bounds for the log-ratio
    ``logit(q)``, and hold for all kept bins at once with probability ``>= 1 - alpha``.

    Returns a dict of equally long arrays, in this order: ``"centers"`` (bin centres),
    ``"log_ratio"`` (``ln c1 - ln c2``; ``+inf``/``-inf`` when one count is zero),
    ``"lower"`` and ``"upper"`` (the simultaneous bounds; ``-inf`` lower bound when
    ``c1 == 0``, ``+inf`` upper bound when ``c2 == 0``). Raises ``ValueError`` for unequal
    or empty samples, NaN outputs, edges that are not a strictly increasing 1-D array of at
    least two finite values, ``min_count < 1`` or ``alpha`` outside (0, 1); ``TypeError``
    for a non-integer ``min_count``.
    """
    outputs_1 = np.asarray(outputs_1, dtype=float).reshape(-1)
    outputs_2 = np.asarray(outputs_2, dtype=float).reshape(-1)
    edges = np.asarray(edges, dtype=float)
    if len(outputs_1) != len(outputs_2):
        raise ValueError(
            f"outputs_1 and outputs_2 must hold equally many samples (then q = P1 / (P1 + P2)), "
            f"got {len(outputs_1)} and {len(outputs_2)}"
        )
    if len(outputs_1) == 0:
        raise ValueError("outputs_1 and outputs_2 must not be empty")
    if np.isnan(outputs_1).any() or np.isnan(outputs_2).any():
        raise ValueError("outputs_1 and outputs_2 must not contain NaN")
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.isfinite(edges)):
        raise ValueError(f"edges must be a 1-D array of at least two finite values, got {edges!r}")
    if not np.all(np.diff(edges) > 0):
        raise ValueError("edges must be strictly increasing")
    if isinstance(min_count, bool) or not isinstance(min_count, numbers.Integral):
        raise TypeError(f"min_count must be an int, got {type(min_count).__name__}")
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1 (empty bins say nothing), got {min_count}")
    if not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a probability in (0, 1), got {alpha!r}")

    c1 = np.histogram(outputs_1, edges)[0]
    c2 = np.histogram(outputs_2, edges)[0]
    keep = (c1 + c2) >= min_count  # well-populated bins, chosen from the total count only
    c1, c2 = c1[keep], c2[keep]
    level = alpha / (2 * max(keep.sum(), 1))  # Bonferroni: two one-sided bounds per bin
    q_low = np.where(c1 > 0, stats.beta.ppf(level, np.maximum(c1, 1), c2 + 1), 0.0)
    q_high = np.where(c2 > 0, stats.beta.ppf(1 - level, c1 + 1, np.maximum(c2, 1)), 1.0)
    with np.errstate(divide="ignore"):  # ln(0) and logit(0), logit(1): infinite on purpose
        return {
            "centers": (0.5 * (edges[:-1] + edges[1:]))[keep],
            "log_ratio": np.log(c1) - np.log(c2),
            "lower": special.logit(q_low),
            "upper": special.logit(q_high),
        }


def laplace_test_edges(true_1: float, true_2: float, scale: float, epsilon: float) -> np.ndarray:
    """Return histogram edges for auditing an ``epsilon``-DP mechanism with noise ``scale``.

    Bins ``scale / 2`` wide on both sides out to ``8 * scale`` beyond ``true_1`` and
    ``true_2`` (the lower and the larger of the two true results), and ``ceil(2 * epsilon)``
    bins between them: the events of notebook 01's experiment. They depend on the claim
    only, never on the outputs, so the test of :func:`empirical_log_ratios` stays valid.
    """
    low, high = sorted((float(true_1), float(true_2)))
    tail = np.arange(1, 17) * scale / 2
    middle = np.linspace(low, high, int(np.ceil(2 * epsilon)) + 1)
    if high == low:
        middle = middle[:1]
    return np.concatenate([low - tail[::-1], middle, high + tail])


@dataclasses.dataclass(frozen=True)
class MechanismAudit:
    """What :func:`audit_mechanism` found: the claim's test and the noise's size."""

    epsilon: float  # the claimed epsilon
    confidence: float  # 1 - alpha
    n_samples: int  # outputs per dataset
    epsilon_lower_bound: float  # measured: the mechanism is not epsilon'-DP for smaller ones
    consistent: bool  # no evidence against the claim at this confidence
    noise_ratio: float  # mean |output - true result| / (sensitivity / epsilon)
    offset: float  # mean (output - true result), in units of sensitivity / epsilon
    offset_standard_error: float  # its standard error, same units


def audit_mechanism(
    mechanism: Callable[[float, np.random.Generator, int], np.ndarray],
    true_1: float,
    true_2: float,
    sensitivity: float,
    epsilon: float,
    rng: np.random.Generator,
    n_samples: int = 200_000,
    alpha: float = 0.05,
) -> MechanismAudit:
    """Test the claim "``mechanism`` is ``epsilon``-DP" on two neighbouring true results.

    ``mechanism(true_result, rng, n)`` returns ``n`` outputs. It runs ``n_samples`` times on
    each of ``true_1`` and ``true_2`` (whose difference is at most ``sensitivity``), and
    :func:`empirical_log_ratios` bounds every bin's log-ratio (bins of
    :func:`laplace_test_edges` at the Laplace scale ``sensitivity / epsilon``) simultaneously
    at confidence ``1 - alpha``. ``epsilon_lower_bound`` is the largest bound found in
    either direction (0 when none is positive); the claim is ``consistent`` when it is at
    most ``epsilon``, which happens with probability at least ``1 - alpha`` for a mechanism
    that is ``epsilon``-DP, however it draws its noise. ``noise_ratio`` and ``offset``
    compare the outputs with the true results in units of the Laplace scale (1 and 0 for the
    Laplace mechanism). Raises ``ValueError`` for bad parameters, or when the mechanism's
    outputs are not ``n`` finite numbers.
    """
    if not isinstance(sensitivity, numbers.Real) or not sensitivity > 0:
        raise ValueError(f"sensitivity must be positive, got {sensitivity!r}")
    if not isinstance(epsilon, numbers.Real) or not 0 < epsilon < np.inf:
        raise ValueError(f"epsilon must be a positive number, got {epsilon!r}")
    if abs(true_2 - true_1) > sensitivity * (1 + 1e-9):
        raise ValueError("true_1 and true_2 must differ by at most the sensitivity")
    n_samples = _check_count("n_samples", n_samples, minimum=1000)
    _check_probability("alpha", alpha)
    scale = sensitivity / epsilon
    outputs = []
    for true_result in (true_1, true_2):
        out = np.asarray(mechanism(true_result, rng, n_samples), dtype=float)
        if out.shape != (n_samples,) or not np.all(np.isfinite(out)):
            raise ValueError(f"the mechanism must return {n_samples} finite numbers")
        outputs.append(out)
    edges = laplace_test_edges(true_1, true_2, scale, epsilon)
    min_count = max(50, int(0.001 * 2 * n_samples))
    bins = empirical_log_ratios(outputs[0], outputs[1], edges, min_count, alpha)
    measured = max(
        0.0, float(np.max(bins["lower"], initial=0)), -float(np.min(bins["upper"], initial=0))
    )
    errors = np.concatenate([outputs[0] - true_1, outputs[1] - true_2]) / scale
    return MechanismAudit(
        epsilon=float(epsilon),
        confidence=1 - alpha,
        n_samples=n_samples,
        epsilon_lower_bound=measured,
        consistent=measured <= epsilon,
        noise_ratio=float(np.mean(np.abs(errors))),
        offset=float(np.mean(errors)),
        offset_standard_error=float(np.std(errors) / np.sqrt(errors.size)),
    )


# --- Auditing DP-SGD in one training run (Steinke, Nasr, Jagielski, 2023) -------------------
#
# m canaries are each inserted into the training set with probability 1/2, independently. After
# one training run an auditor scores every canary, guesses "in" for the k highest scores and
# "out" for the k lowest, and abstains on the rest. If training is (eps, delta)-DP, the number
# of correct guesses W among r guesses is (up to a delta term) no more likely to be large than
# a Binomial(r, e^eps / (1 + e^eps)) count: a large W rejects small eps.


def _check_probability(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


def _check_count(name: str, value: int, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def one_run_p_value(
    epsilon: float, n_canaries: int, n_guesses: int, n_correct: int, delta: float = 0.0
) -> float:
    """Return the largest probability that an ``(epsilon, delta)``-DP training run lets an
    auditor get at least ``n_correct`` of ``n_guesses`` guesses right (Steinke et al. 2023,
    Theorem 5.2).

    With ``p = e^eps / (1 + e^eps)`` and ``tail(v) = P[Binomial(n_guesses, p) >= v]``, the bound
    is ``tail(n_correct) + 2 * n_canaries * delta * max_{1<=i<=n_correct} (tail(n_correct - i)
    - tail(n_correct)) / i``, capped at 1. A small value is evidence that the run is *not*
    ``(epsilon, delta)``-DP. Raises ``ValueError`` for a negative ``epsilon``, ``delta`` outside
    [0, 1), counts that are negative or inconsistent (``n_correct <= n_guesses <= n_canaries``).
    Used by :func:`one_run_epsilon_lower_bound`.
    """
    if not isinstance(epsilon, numbers.Real) or not epsilon >= 0:
        raise ValueError(f"epsilon must be a non-negative number, got {epsilon!r}")
    if not isinstance(delta, numbers.Real) or not 0 <= delta < 1:
        raise ValueError(f"delta must be in [0, 1), got {delta!r}")
    m = _check_count("n_canaries", n_canaries, 1)
    r = _check_count("n_guesses", n_guesses)
    v = _check_count("n_correct", n_correct)
    if r > m or v > r:
        raise ValueError(f"need n_correct <= n_guesses <= n_canaries, got {v}, {r}, {m}")
    if v == 0:
        return 1.0
    p = float(special.expit(epsilon))
    tails = stats.binom.sf(np.arange(v, -1, -1) - 1, r, p)  # tail(v), tail(v - 1), ..., tail(0)
    bound = tails[0]
    if delta > 0:
        steps = np.arange(1, v + 1)
        bound += 2 * m * delta * float(np.max((tails[1:] - tails[0]) / steps))
    return float(min(bound, 1.0))


def one_run_epsilon_lower_bound(
    n_canaries: int,
    n_guesses: int,
    n_correct: int,
    confidence: float = 0.95,
    delta: float = 0.0,
) -> float:
    """Return the ε lower bound at ``confidence`` from ``n_correct`` of ``n_guesses`` guesses.

    The largest ``eps`` whose :func:`one_run_p_value` is at most ``1 - confidence``: every
    ``(eps', delta)`` claim with ``eps' < eps`` is rejected at that level. ``0.0`` when even
    ``eps = 0`` is not rejected (e.g. half of the guesses right: no evidence). Hand-checkable:
    with ``delta = 0`` and all ``r`` guesses right, it is ``logit((1 - confidence) ** (1 / r))``.
    Raises ``ValueError`` as :func:`one_run_p_value` does and for ``confidence`` outside (0, 1).
    Used by notebook 04 through :func:`one_run_audit`.
    """
    alpha = 1 - _check_probability("confidence", confidence)
    one_run_p_value(0.0, n_canaries, n_guesses, n_correct, delta)  # validates the arguments

    def excess(eps: float) -> float:
        return one_run_p_value(eps, n_canaries, n_guesses, n_correct, delta) - alpha

    if excess(0.0) > 0:
        return 0.0
    high = 1.0
    while excess(high) <= 0:  # ends: as eps grows, p -> 1 and the p-value -> 1 > alpha
        high *= 2
    return float(optimize.brentq(excess, 0.0, high, xtol=1e-9))


@dataclasses.dataclass(frozen=True)
class OneRunAudit:
    """What :func:`one_run_audit` found: the bound and the guesses behind it."""

    epsilon_lower_bound: float  #: the largest bound over the guess counts (Bonferroni-corrected)
    guesses_per_side: int  #: k of the best bound: k "in" guesses and k "out" guesses
    n_guesses: int  #: 2 k
    n_correct: int  #: correct guesses among them
    n_canaries: int
    confidence: float
    delta: float
    table: tuple[tuple[int, int, float], ...]  #: (k, correct of 2k, bound) for every k tried


def one_run_audit(
    scores: np.ndarray,
    inserted: np.ndarray,
    guesses_per_side: Sequence[int],
    confidence: float = 0.95,
    delta: float = 0.0,
) -> OneRunAudit:
    """Audit one training run from its canaries' scores; return a :class:`OneRunAudit`.

    ``scores[i]`` is the attack's score of canary ``i`` (higher = "more likely trained on",
    e.g. minus its loss), ``inserted[i]`` whether it really was in the training set (each
    canary inserted with probability 1/2, independently). For every ``k`` in
    ``guesses_per_side`` the auditor guesses "in" for the ``k`` highest scores and "out" for
    the ``k`` lowest (ties broken by index, which is independent of insertion) and computes
    :func:`one_run_epsilon_lower_bound` at level ``(1 - confidence) / len(guesses_per_side)``
    (Bonferroni: trying several ``k`` and keeping the best is paid for). The result is the
    best of them, valid at ``confidence``. Raises ``ValueError`` for mismatched or empty
    inputs, NaN scores, non-boolean ``inserted``, an empty or repeated ``guesses_per_side``,
    or ``k < 1`` or ``2 k > m``.
    """
    scores = np.asarray(scores, dtype=float).reshape(-1)
    inserted = np.asarray(inserted)
    if inserted.dtype != bool:
        raise ValueError(f"inserted must be a boolean array, got dtype {inserted.dtype}")
    inserted = inserted.reshape(-1)
    if len(scores) != len(inserted) or len(scores) == 0:
        raise ValueError(
            f"scores and inserted must be non-empty and equally long, got {len(scores)} "
            f"and {len(inserted)}"
        )
    if np.isnan(scores).any():
        raise ValueError("scores must not contain NaN")
    ks = [_check_count("guesses_per_side", k, 1) for k in guesses_per_side]
    m = len(scores)
    if not ks or len(set(ks)) != len(ks):
        raise ValueError(f"guesses_per_side must be non-empty without repeats, got {ks}")
    if 2 * max(ks) > m:
        raise ValueError(f"2 * guesses_per_side must be at most the {m} canaries, got {max(ks)}")
    level = _check_probability("confidence", confidence)
    per_test = 1 - (1 - level) / len(ks)
    order = np.argsort(-scores, kind="stable")  # highest score first
    table = []
    for k in ks:
        correct = int(inserted[order[:k]].sum() + (~inserted[order[m - k :]]).sum())
        table.append((k, correct, one_run_epsilon_lower_bound(m, 2 * k, correct, per_test, delta)))
    best = max(table, key=lambda row: row[2])
    return OneRunAudit(
        epsilon_lower_bound=best[2],
        guesses_per_side=best[0],
        n_guesses=2 * best[0],
        n_correct=best[1],
        n_canaries=m,
        confidence=float(level),
        delta=float(delta),
        table=tuple(table),
    )


def one_run_best_possible_bound(
    n_canaries: int,
    guesses_per_side: Sequence[int],
    confidence: float = 0.95,
    delta: float = 0.0,
) -> float:
    """Return the largest ε lower bound that :func:`one_run_audit` can give with this design.

    The bound when every guess is right (all ``2 k`` of them, for each ``k`` in
    ``guesses_per_side``), with the same Bonferroni level as :func:`one_run_audit`: the
    ceiling set by the number of canaries, the number of guesses, ``delta`` and the
    correction, whatever the model. A measured bound below it comes from wrong guesses.
    Raises ``ValueError`` as :func:`one_run_audit` does.
    """
    m = _check_count("n_canaries", n_canaries, 1)
    scores = np.r_[np.ones(m - m // 2), np.zeros(m // 2)]  # "in" canaries score higher
    return one_run_audit(
        scores, scores > 0, guesses_per_side, confidence, delta
    ).epsilon_lower_bound


def random_other_labels(labels: np.ndarray, num_classes: int, seed: int) -> np.ndarray:
    """Return, for each label, a uniformly random *different* label (int64, shape ``(n,)``).

    Canaries of the one-run audit: images with a wrong label are atypical, so a model that
    trains on them memorises them. Raises ``ValueError`` for ``num_classes < 2`` or labels
    outside ``[0, num_classes)``.
    """
    num_classes = _check_count("num_classes", num_classes, 2)
    labels = np.asarray(labels).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}"
        )
    shift = np.random.default_rng(seed).integers(1, num_classes, size=labels.size)
    return ((labels.astype(np.int64) + shift) % num_classes).astype(np.int64)
