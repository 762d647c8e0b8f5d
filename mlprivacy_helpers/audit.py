"""Empirical audits of differential-privacy guarantees, with honest confidence intervals.

A DP claim ``Pr[K(D1) in S] <= e^eps * Pr[K(D2) in S]`` can be checked on samples of a
mechanism's outputs: take histogram bins as the events ``S`` and estimate each bin's
log-ratio ``ln(P1(S) / P2(S))``. :func:`empirical_log_ratios` does that with exact
(Clopper-Pearson) intervals, made simultaneous over all bins (Bonferroni), so "every lower
bound <= eps and every upper bound >= -eps" is a test with false-alarm probability at most
``alpha``. Used by notebook 01, section 6 ("Proof by experiment").
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import special, stats


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
    ``t = c1 + c2``, ``c1`` is Binomial(t, q); the Clopper-Pearson bounds for ``q``, each
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
