"""How strong is a membership inference attack? AUC, and TPR at a low FPR with intervals.

Since Carlini et al. (2022, "Membership Inference Attacks From First Principles") attacks are
compared by their **true-positive rate at a low false-positive rate** (1 %, 0.1 %) on a
log-log ROC: an attacker who is right about a few people with near certainty matters more
than one who is slightly better than a coin flip on everybody. Every function takes the
membership scores of members and non-members (higher = "more likely a member"), whatever
attack produced them.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics


def _scores(name: str, scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=float).reshape(-1)
    if scores.size == 0:
        raise ValueError(f"{name} must not be empty")
    if np.isnan(scores).any():
        raise ValueError(f"{name} must not contain NaN")
    return scores


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the exact two-sided Clopper-Pearson interval ``(low, high)`` for a binomial rate.

    ``successes`` out of ``trials``; each side has level ``(1 - confidence) / 2``. ``low`` is 0
    when ``successes == 0`` and ``high`` is 1 when ``successes == trials``. Raises
    ``ValueError`` for negative or inconsistent counts or ``confidence`` outside (0, 1),
    ``TypeError`` for non-integers.
    """
    for name, value in (("successes", successes), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    tail = (1 - confidence) / 2
    low = stats.beta.ppf(tail, successes, trials - successes + 1) if successes > 0 else 0.0
    high = (
        stats.beta.ppf(1 - tail, successes + 1, trials - successes) if successes < trials else 1.0
    )
    return float(low), float(high)


def roc_points(
    member_scores: np.ndarray, non_member_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the ROC curve ``(fpr, tpr)`` (scikit-learn's ``roc_curve``, all thresholds kept).

    Members are the positives. Raises ``ValueError`` for empty or NaN scores. Used by
    notebook 04 (log-log ROC plots) and :func:`tpr_at_fpr`.
    """
    members = _scores("member_scores", member_scores)
    non_members = _scores("non_member_scores", non_member_scores)
    labels = np.r_[np.ones(members.size), np.zeros(non_members.size)]
    fpr, tpr, _ = metrics.roc_curve(labels, np.r_[members, non_members], drop_intermediate=False)
    return fpr, tpr


def auc(member_scores: np.ndarray, non_member_scores: np.ndarray) -> float:
    """Return the area under the ROC curve (0.5 = chance)."""
    fpr, tpr = roc_points(member_scores, non_member_scores)
    return float(metrics.auc(fpr, tpr))


@dataclasses.dataclass(frozen=True)
class TprAtFpr:
    """The TPR of an attack at a fixed FPR, with a Clopper-Pearson interval on the members.

    That interval holds the threshold fixed, so it covers the sampling of the members only; the
    tables of notebook 04 report :func:`tpr_at_fpr_bootstrap`'s interval instead, which also
    covers the threshold's own uncertainty (it is read off the same non-members).
    """

    tpr: float  #: members caught, as a fraction of all members
    low: float  #: lower end of the 95 % Clopper-Pearson interval (of the member sampling)
    high: float  #: upper end
    true_positives: int
    n_members: int
    false_positives: int  #: non-members wrongly flagged at that threshold (at most fpr * n)
    n_non_members: int


def tpr_at_fpr(
    member_scores: np.ndarray,
    non_member_scores: np.ndarray,
    fpr: float,
    confidence: float = 0.95,
) -> TprAtFpr:
    """Return the largest TPR of any threshold whose FPR is at most ``fpr``, as a :class:`TprAtFpr`.

    The threshold flags every score strictly above it; it is the lowest one that flags at most
    ``floor(fpr * n_non_members)`` non-members (so with 2 500 non-members, TPR at 0.1 % FPR
    allows 2 false positives). This is how Carlini et al. (2022) report TPR at low FPR. The
    interval is Clopper-Pearson on the true positives out of the members; it reflects the
    sampling of members given the threshold (the threshold itself is read off the same
    non-members, as in the literature). Raises ``ValueError`` for empty or NaN scores or
    ``fpr`` outside (0, 1).
    """
    members = _scores("member_scores", member_scores)
    non_members = _scores("non_member_scores", non_member_scores)
    if isinstance(fpr, bool) or not isinstance(fpr, numbers.Real) or not 0 < fpr < 1:
        raise ValueError(f"fpr must be a number in (0, 1), got {fpr!r}")
    allowed = int(np.floor(fpr * non_members.size + 1e-9))
    ranked = np.sort(non_members)[::-1]  # highest first
    # Flag scores > t: t = the (allowed+1)-th highest non-member score flags at most `allowed`.
    threshold = ranked[allowed] if allowed < ranked.size else -np.inf
    true_positives = int(np.sum(members > threshold))
    false_positives = int(np.sum(non_members > threshold))
    low, high = clopper_pearson(true_positives, members.size, confidence)
    return TprAtFpr(
        tpr=true_positives / members.size,
        low=low,
        high=high,
        true_positives=true_positives,
        n_members=members.size,
        false_positives=false_positives,
        n_non_members=non_members.size,
    )


def tpr_at_fpr_bootstrap(
    member_scores: np.ndarray,
    non_member_scores: np.ndarray,
    fpr: float,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Return a ``(low, high)`` interval for the TPR at ``fpr`` that also covers the threshold.

    :func:`tpr_at_fpr`'s Clopper-Pearson interval treats the threshold as fixed, but it is read
    off the same non-members: at 0.1 % FPR with 2 500 of them it is the 3rd-highest score, and
    the real FPR of that threshold is itself uncertain: it follows a Beta(3, 2498) law, whose
    central 95 % range is about 0.025-0.29 %, a factor of about 12. This is a
    stratified, seeded percentile bootstrap: ``n_boot`` times, the members and the non-members
    are each resampled with replacement (their numbers kept), the threshold is read off the
    resampled non-members by :func:`tpr_at_fpr`'s rule and the TPR measured on the resampled
    members; the interval holds the central ``confidence`` of those TPRs. Raises
    ``ValueError`` for empty or NaN scores, ``fpr`` or ``confidence`` outside (0, 1), or
    ``n_boot < 100``.
    """
    members = _scores("member_scores", member_scores)
    non_members = _scores("non_member_scores", non_member_scores)
    for name, value in (("fpr", fpr), ("confidence", confidence)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
            raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 100:
        raise ValueError(f"n_boot must be an int of at least 100, got {n_boot!r}")
    rng = np.random.default_rng(seed)
    allowed = int(np.floor(fpr * non_members.size + 1e-9))
    tprs = np.empty(n_boot)
    for start in range(0, n_boot, 100):  # 100 resamples at a time bounds the memory
        rows = min(100, n_boot - start)
        outs = non_members[rng.integers(0, non_members.size, (rows, non_members.size))]
        if allowed < non_members.size:  # the (allowed+1)-th highest resampled non-member
            threshold = -np.partition(-outs, allowed, axis=1)[:, allowed]
        else:
            threshold = np.full(rows, -np.inf)
        ins = members[rng.integers(0, members.size, (rows, members.size))]
        tprs[start : start + rows] = (ins > threshold[:, None]).mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(tprs, [tail, 1 - tail])
    return float(low), float(high)


def dp_tpr_bound(fpr: np.ndarray | float, epsilon: float, delta: float) -> np.ndarray | float:
    """Return the largest TPR that ``(epsilon, delta)``-DP allows at ``fpr``.

    Any membership test against a DP training run obeys ``TPR <= e^eps * FPR + delta`` (and,
    by symmetry, ``1 - FPR <= e^eps (1 - TPR) + delta``); the result is the smaller of the two,
    capped at 1. Raises ``ValueError`` for negative ``epsilon`` or ``delta`` outside [0, 1).
    """
    if not isinstance(epsilon, numbers.Real) or not epsilon >= 0:
        raise ValueError(f"epsilon must be a non-negative number, got {epsilon!r}")
    if not isinstance(delta, numbers.Real) or not 0 <= delta < 1:
        raise ValueError(f"delta must be in [0, 1), got {delta!r}")
    f = np.asarray(fpr, dtype=float)
    if np.any((f < 0) | (f > 1)):
        raise ValueError("fpr must lie in [0, 1]")
    e = np.exp(float(epsilon))
    bound = np.minimum.reduce([e * f + delta, 1 - (1 - f - delta) / e, np.ones_like(f)])
    return float(bound) if np.ndim(fpr) == 0 else bound


def attack_table(
    scores_by_attack: dict[str, np.ndarray],
    is_member: np.ndarray,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Return one row per attack: AUC, TPR at 1 % and at 0.1 % FPR, each TPR with its interval.

    ``scores_by_attack`` maps an attack's name to the scores of the same examples, and
    ``is_member`` (boolean) says which of them are members. Columns: ``"AUC"``,
    ``"TPR @ 1% FPR"``, ``"low (1%)"``, ``"high (1%)"``, ``"TPR @ 0.1% FPR"``, ``"low (0.1%)"``,
    ``"high (0.1%)"``. The TPR is :func:`tpr_at_fpr`'s; its interval is
    :func:`tpr_at_fpr_bootstrap`'s at ``confidence`` (``n_boot`` resamples from ``seed``),
    which covers the sampling of the members *and* of the non-members the threshold is read
    from. Raises ``ValueError`` for a non-boolean mask, a mask without members or
    non-members, or scores of another length.
    """
    is_member = np.asarray(is_member)
    if is_member.dtype != bool or is_member.ndim != 1:
        raise ValueError("is_member must be a 1-D boolean array")
    if is_member.all() or not is_member.any():
        raise ValueError("is_member must mark some members and some non-members")
    rows = {}
    for name, scores in scores_by_attack.items():
        scores = np.asarray(scores, dtype=float)
        if scores.shape != is_member.shape:
            raise ValueError(f"{name}: {scores.size} scores for {is_member.size} examples")
        row = {"AUC": auc(scores[is_member], scores[~is_member])}
        for label, fpr in (("1%", 0.01), ("0.1%", 0.001)):
            members, non_members = scores[is_member], scores[~is_member]
            low, high = tpr_at_fpr_bootstrap(members, non_members, fpr, confidence, n_boot, seed)
            row.update(
                {
                    f"TPR @ {label} FPR": tpr_at_fpr(members, non_members, fpr).tpr,
                    f"low ({label})": low,
                    f"high ({label})": high,
                }
            )
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")
