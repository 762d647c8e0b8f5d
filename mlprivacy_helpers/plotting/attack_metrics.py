"""Figures of notebook 04: log-log ROC curves (with the region DP allows), TPR vs reference
models, and the canaries of the one-run audit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mlprivacy_helpers import attack_metrics


def log_log_roc(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    title: str = "",
    epsilon: float | None = None,
    delta: float = 0.0,
    ax=None,
    profile_bound: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Figure:
    """Return a log-log ROC plot of several attacks, with the chance diagonal.

    ``curves`` maps an attack's name to its ``(fpr, tpr)`` (e.g. from
    :func:`mlprivacy_helpers.attack_metrics.roc_points`); points with FPR = 0 cannot be drawn
    on a log axis and are dropped. Dotted verticals mark FPR = 0.1 % and 1 %. With
    ``epsilon``, the region that the single pair ``(epsilon, delta)`` allows
    (``TPR <= e^eps FPR + delta``) is drawn (dash-dot) and, without ``profile_bound``, shaded.
    ``profile_bound`` maps FPRs to the largest TPR the run's whole privacy profile allows
    (e.g. ``lambda f: dp_sgd.tpr_bound_from_profile(f, epsilons, deltas)``): that region is
    shaded and its boundary drawn solid; a DP model's curves must stay inside it. Draws into
    ``ax`` when given.
    """
    if not curves:
        raise ValueError("curves must hold at least one attack")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.6, 5.0))
    else:
        fig = ax.figure
    smallest = 1.0
    for name, (fpr, tpr) in curves.items():
        fpr, tpr = np.asarray(fpr, float), np.asarray(tpr, float)
        if fpr.shape != tpr.shape:
            raise ValueError(f"{name}: fpr and tpr must have the same shape")
        keep = fpr > 0
        smallest = min(smallest, float(fpr[keep].min()) if keep.any() else 1.0)
        ax.plot(fpr[keep], np.maximum(tpr[keep], 1e-5), lw=1.4, label=name)
    low = max(min(smallest, 1e-3) / 2, 1e-5)
    grid = np.logspace(np.log10(low), 0, 200)
    ax.plot(grid, grid, "k--", lw=1, label="chance (TPR = FPR)")
    if epsilon is not None:
        bound = attack_metrics.dp_tpr_bound(grid, epsilon, delta)
        if profile_bound is None:
            ax.fill_between(grid, low, bound, color="tab:cyan", alpha=0.1)
        ax.plot(
            grid,
            bound,
            color="darkslategray",
            ls="-.",
            lw=1.4,
            label=f"DP bound, ε = {epsilon:.2f}"
            + (f", δ = {delta:g} only" if profile_bound is not None else ""),
        )
    if profile_bound is not None:
        exact = np.asarray(profile_bound(grid), dtype=float)
        if exact.shape != grid.shape:
            raise ValueError("profile_bound must map an array of FPRs to as many TPRs")
        ax.fill_between(grid, low, exact, color="tab:cyan", alpha=0.15)
        ax.plot(grid, exact, color="darkslategray", lw=1.6, label="DP bound, whole profile")
    for x in (1e-3, 1e-2):
        ax.axvline(x, color="grey", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, 1)
    ax.set_ylim(low, 1)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.2, which="both")
    fig.tight_layout()
    return fig


def tpr_vs_models(
    ks: Sequence[int], tprs: Mapping[str, Sequence[float]], fpr: float = 0.01
) -> Figure:
    """Return TPR at ``fpr`` against the number of reference models, one line per attack.

    ``tprs[name][j]`` belongs to ``ks[j]`` reference models. A dashed line marks chance
    (TPR = FPR).
    """
    if not ks:
        raise ValueError("ks must not be empty")
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    for name, values in tprs.items():
        if len(values) != len(ks):
            raise ValueError(f"tprs[{name!r}] has {len(values)} values for {len(ks)} model counts")
        ax.plot(ks, values, "o-", label=name)
    ax.axhline(fpr, color="k", ls="--", lw=1, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(ks), [str(k) for k in ks])
    ax.set_xlabel("reference models")
    ax.set_ylabel(f"TPR at {fpr:.0%} FPR")
    ax.set_ylim(0, None)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def canary_scores(
    scores_by_run: Mapping[str, np.ndarray], inserted: np.ndarray, bins: int = 40
) -> Figure:
    """Return one histogram per training run of its canaries' scores, inserted vs left out.

    ``scores_by_run`` maps a run's name (e.g. "non-private", "DP-SGD") to the scores of the
    same canaries; ``inserted`` says which canaries were trained on.
    """
    inserted = np.asarray(inserted, dtype=bool)
    if not scores_by_run:
        raise ValueError("scores_by_run must hold at least one run")
    fig, axes = plt.subplots(1, len(scores_by_run), figsize=(5 * len(scores_by_run), 3.4))
    for ax, (name, scores) in zip(np.atleast_1d(axes), scores_by_run.items(), strict=True):
        scores = np.asarray(scores, dtype=float)
        if scores.shape != inserted.shape:
            raise ValueError(f"{name}: {scores.shape[0]} scores for {inserted.size} canaries")
        edges = np.histogram_bin_edges(scores, bins=bins)
        ax.hist(scores[inserted], edges, alpha=0.6, label="inserted (trained on)")
        ax.hist(scores[~inserted], edges, alpha=0.6, label="left out")
        ax.set_xlabel("score = − loss on the canary's (wrong) label")
        ax.set_ylabel("canaries")
        ax.set_title(name)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
