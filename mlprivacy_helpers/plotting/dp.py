"""Plots for notebook 01 (differential privacy basics).

Only drawing and the small numerical plumbing the drawings need (the overlap area of two
densities on a grid) live here. The mechanisms themselves (Laplace, Gaussian, ...) and the
empirical privacy check stay visible in the notebook: they are the lesson.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "overlap_area",
    "overlap",
    "overlap_grid",
    "privacy_loss_grid",
    "exp_vs_linear",
    "loss_tail",
    "utility",
    "composition",
]

#: ``densities(eps) -> (x, p1, p2)``: output densities of K(D1) and K(D2) on a common grid.
DensityFn = Callable[[float], tuple[np.ndarray, np.ndarray, np.ndarray]]
#: ``loss_curve(eps) -> (r, loss)``: privacy loss ln(p1(r) / p2(r)) on a grid of outputs r.
LossFn = Callable[[float], tuple[np.ndarray, np.ndarray]]

_COLOURS = ("tab:blue", "tab:orange")


def _as_grid(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"{name} must be a 1-D array with at least 2 points, got shape {x.shape}")
    if not np.all(np.diff(x) > 0):
        raise ValueError(f"{name} must be strictly increasing")
    return x


def _as_density(p: np.ndarray, n: int, name: str) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.shape != (n,):
        raise ValueError(f"{name} must have the same shape as x ({n},), got {p.shape}")
    if np.any(~np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return p


def _check_epsilons(epsilons: Sequence[float]) -> list[float]:
    eps = [float(e) for e in epsilons]
    if not eps:
        raise ValueError("epsilons must not be empty")
    if any(not np.isfinite(e) or e <= 0 for e in eps):
        raise ValueError(f"epsilons must be positive and finite, got {eps}")
    return eps


def _grid(n_panels: int, ncols: int, panel_size: tuple[float, float]) -> tuple[Figure, list[Axes]]:
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, n_panels)
    nrows = -(-n_panels // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
        squeeze=False,
        layout="constrained",
    )
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        fig.delaxes(ax)
    return fig, flat[:n_panels]


def overlap_area(x: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    """Return the area under ``min(p, q)`` on the grid ``x`` (trapezoid rule).

    For two probability densities this is ``1 - total variation distance``: 1 when the two
    output distributions are identical, 0 when they never overlap.
    """
    x = _as_grid(x, "x")
    p = _as_density(p, x.size, "p")
    q = _as_density(q, x.size, "q")
    m = np.minimum(p, q)
    return float(np.sum(0.5 * (m[1:] + m[:-1]) * np.diff(x)))


def overlap(
    ax: Axes,
    x: np.ndarray,
    p1: np.ndarray,
    p2: np.ndarray,
    *,
    epsilon: float,
    labels: tuple[str, str] = ("K(D1)", "K(D2)"),
    true_values: tuple[float, float] | None = None,
    legend: bool = True,
    xlim: tuple[float, float] | None = None,
) -> float:
    """Draw the densities ``p1``, ``p2`` on ``ax`` with their overlap shaded.

    The panel title shows ``epsilon`` (three significant digits, as a slider reads it) and
    the overlap area (computed on the whole grid);
    dotted vertical lines mark the noiseless answers ``true_values`` if given. ``xlim``
    defaults to the part of the grid where either density exceeds 1% of its peak. Returns
    the overlap area (see :func:`overlap_area`).
    """
    area = overlap_area(x, p1, p2)
    if len(labels) != 2:
        raise ValueError(f"labels must hold two names, got {labels!r}")
    if true_values is not None and len(true_values) != 2:
        raise ValueError(f"true_values must hold two numbers, got {true_values!r}")
    x, p1, p2 = (np.asarray(a, dtype=float) for a in (x, p1, p2))
    if xlim is None:
        visible = np.flatnonzero(np.maximum(p1, p2) >= 0.01 * max(p1.max(), p2.max()))
        xlim = (x[visible[0]], x[visible[-1]]) if visible.size > 1 else (x[0], x[-1])
    for p, label, colour in zip((p1, p2), labels, _COLOURS, strict=True):
        ax.plot(x, p, color=colour, lw=2, label=label)
    ax.fill_between(x, np.minimum(p1, p2), color="tab:purple", alpha=0.35, label="overlap")
    if true_values is not None:
        for value, colour in zip(true_values, _COLOURS, strict=True):
            ax.axvline(value, color=colour, ls=":", lw=1.2)
    ax.set_title(f"ε = {epsilon:.3g}   overlap = {area:.2f}")
    ax.set_xlabel("published result r")
    ax.set_ylabel("density")
    ax.set_xlim(*xlim)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_ylim(bottom=0)
    if legend:
        ax.legend(loc="upper right", fontsize="small")
    return area


def overlap_grid(
    densities: DensityFn,
    epsilons: Sequence[float],
    *,
    ncols: int = 3,
    labels: tuple[str, str] = ("K(D1)", "K(D2)"),
    true_values: tuple[float, float] | None = None,
    panel_size: tuple[float, float] = (4.3, 3.2),
    suptitle: str | None = None,
) -> Figure:
    """Return a grid of overlap panels, one per epsilon (see :func:`overlap`).

    ``densities(eps)`` must return ``(x, p1, p2)``. Each panel is titled with its epsilon and
    overlap area; only the first panel carries a legend.
    """
    eps = _check_epsilons(epsilons)
    fig, axes = _grid(len(eps), ncols, panel_size)
    for i, (ax, e) in enumerate(zip(axes, eps, strict=True)):
        x, p1, p2 = densities(e)
        overlap(ax, x, p1, p2, epsilon=e, labels=labels, true_values=true_values, legend=i == 0)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def privacy_loss_grid(
    loss_curve: LossFn,
    epsilons: Sequence[float],
    *,
    empirical: Sequence[Mapping[str, np.ndarray] | None] | None = None,
    interval_label: str = "confidence interval",
    ncols: int = 3,
    panel_size: tuple[float, float] = (4.3, 3.2),
    suptitle: str | None = None,
) -> Figure:
    """Return one panel per epsilon: the privacy-loss curve inside its shaded ±ε band.

    ``loss_curve(eps)`` returns ``(r, loss)`` with ``loss = ln(p1(r) / p2(r))``. If
    ``empirical`` is given it holds, per epsilon, a mapping with arrays ``"centers"`` (bin
    centres), ``"log_ratio"`` (empirical ln(P1(S)/P2(S)) per bin) and ``"lower"``/``"upper"``
    (a confidence interval per bin, described by ``interval_label``); these are drawn as
    points with error bars, the y-range grows to show every finite interval whole, and the
    panel title states what notebook 01 asserts: the largest lower bound (≤ ε for an ε-DP
    mechanism) and the smallest upper bound (≥ −ε). The raw largest |log ratio| is not
    shown: it exceeds ε by sampling error alone. A shared legend sits below the panels.
    """
    eps = _check_epsilons(epsilons)
    if empirical is not None and len(empirical) != len(eps):
        raise ValueError(
            f"empirical must have one entry per epsilon ({len(eps)}), got {len(empirical)}"
        )
    fig, axes = _grid(len(eps), ncols, panel_size)
    for i, (ax, e) in enumerate(zip(axes, eps, strict=True)):
        r, loss = loss_curve(e)
        r = _as_grid(r, "r")
        loss = np.asarray(loss, dtype=float)
        if loss.shape != r.shape:
            raise ValueError(f"loss must have the shape of r {r.shape}, got {loss.shape}")
        ax.axhspan(-e, e, color="tab:green", alpha=0.15, label="allowed band |loss| ≤ ε")
        ax.axhline(e, color="tab:green", lw=1)
        ax.axhline(-e, color="tab:green", lw=1)
        ax.plot(r, loss, color="black", lw=2, label="theory: ln p1(r)/p2(r)")
        title = f"ε = {e:g}"
        half_range = 1.8 * e
        emp = None if empirical is None else empirical[i]
        if emp is not None:
            centers = np.asarray(emp["centers"], dtype=float)
            ratio = np.asarray(emp["log_ratio"], dtype=float)
            lower = np.asarray(emp["lower"], dtype=float)
            upper = np.asarray(emp["upper"], dtype=float)
            if not (centers.shape == ratio.shape == lower.shape == upper.shape):
                raise ValueError("empirical arrays centers/log_ratio/lower/upper differ in shape")
            ax.errorbar(
                centers,
                ratio,
                yerr=np.vstack([ratio - lower, upper - ratio]),
                fmt="o",
                ms=3.5,
                color="tab:red",
                ecolor="tab:red",
                elinewidth=1,
                capsize=2,
                label=f"histogram bins: ln(c1/c2) with {interval_label}",
            )
            bounds = np.concatenate([lower, upper])
            finite = bounds[np.isfinite(bounds)]
            if finite.size:
                half_range = max(half_range, 1.1 * float(np.max(np.abs(finite))))
            if ratio.size:
                title += f"\nlower bounds ≤ {np.max(lower):.2f}, upper bounds ≥ {np.min(upper):.2f}"
        ax.set_ylim(-half_range, half_range)
        ax.set_xlim(r[0], r[-1])
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_title(title)
        ax.set_xlabel("published result r")
        ax.set_ylabel("privacy loss")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def exp_vs_linear(
    eps_max: float = 3.0, *, per_query_epsilon: float = 0.1, k_max: int = 30
) -> Figure:
    """Return a two-panel figure explaining why the definition uses e^ε and not 1+ε.

    Left: e^ε and 1+ε for ε in [0, eps_max] (close for small ε). Right: the guarantee after k
    mechanisms with ``per_query_epsilon`` each: multiplying e^ε factors gives exactly
    e^{kε} (so budgets simply add up in the exponent), while the naive linear reading 1+kε
    underestimates it.
    """
    if not (np.isfinite(eps_max) and eps_max > 0):
        raise ValueError(f"eps_max must be positive, got {eps_max}")
    if not (np.isfinite(per_query_epsilon) and per_query_epsilon > 0):
        raise ValueError(f"per_query_epsilon must be positive, got {per_query_epsilon}")
    if k_max < 2:
        raise ValueError(f"k_max must be >= 2, got {k_max}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    e = np.linspace(0, eps_max, 300)
    left.plot(e, np.exp(e), lw=2, label="$e^{ε}$ (the definition)")
    left.plot(e, 1 + e, lw=2, ls="--", label="$1 + ε$")
    left.fill_between(e, 1 + e, np.exp(e), color="grey", alpha=0.2)
    left.set_xlabel("ε")
    left.set_ylabel("allowed probability ratio")
    left.set_title("Close for small ε, far apart for large ε")
    left.legend()
    k = np.arange(1, k_max + 1)
    right.plot(k, np.exp(k * per_query_epsilon), "o-", ms=3, lw=2, label="$(e^{ε})^k = e^{kε}$")
    right.plot(k, 1 + k * per_query_epsilon, "s--", ms=3, lw=2, label="$1 + kε$")
    right.set_xlabel("number of mechanisms k")
    right.set_ylabel("allowed probability ratio")
    right.set_title(f"Composing k mechanisms, ε = {per_query_epsilon:g} each")
    right.legend()
    return fig


def loss_tail(
    r: np.ndarray,
    loss: np.ndarray,
    loss_samples: np.ndarray,
    epsilon: float,
    *,
    mass: float,
    delta: float,
    bins: int = 120,
) -> Figure:
    """Return a two-panel figure of an (ε, δ) mechanism's privacy loss and its tail.

    Left: the privacy-loss curve ``loss`` over outputs ``r`` with the ±ε band (for the
    Gaussian mechanism it is a straight line that leaves the band). Right: a histogram
    (log y axis) of ``loss_samples`` (privacy loss of sampled outputs) with the part above ε
    shaded; the title reports ``mass`` (probability that the loss exceeds ε) and ``delta``.
    """
    r = _as_grid(r, "r")
    loss = np.asarray(loss, dtype=float)
    if loss.shape != r.shape:
        raise ValueError(f"loss must have the shape of r {r.shape}, got {loss.shape}")
    samples = np.asarray(loss_samples, dtype=float).ravel()
    if samples.size == 0:
        raise ValueError("loss_samples must not be empty")
    if not (np.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.9), layout="constrained")
    left.axhspan(-epsilon, epsilon, color="tab:green", alpha=0.15, label="|loss| ≤ ε")
    left.plot(r, loss, color="black", lw=2, label="ln p1(r)/p2(r)")
    outside = np.abs(loss) > epsilon
    left.fill_between(
        r,
        loss,
        np.clip(loss, -epsilon, epsilon),
        where=outside,
        color="tab:red",
        alpha=0.5,
        label="|loss| > ε",
    )
    left.set_xlim(r[0], r[-1])
    left.set_xlabel("published result r")
    left.set_ylabel("privacy loss")
    left.set_title("Gaussian privacy loss is unbounded")
    left.legend(loc="upper right", fontsize="small")

    lo, hi = min(samples.min(), -epsilon), max(samples.max(), 1.05 * epsilon)
    edges = np.linspace(lo, hi, bins + 1)
    counts, edges = np.histogram(samples, bins=edges)
    centers = 0.5 * (edges[:-1] + edges[1:])
    above = centers > epsilon
    right.bar(
        centers[~above],
        counts[~above],
        width=np.diff(edges)[~above],
        color="tab:blue",
        alpha=0.7,
        label="loss ≤ ε",
    )
    n_above = int(np.sum(samples > epsilon))
    right.bar(
        centers[above],
        counts[above],
        width=np.diff(edges)[above],
        color="tab:red",
        alpha=0.9,
        label=f"loss > ε ({n_above} outputs)",
    )
    right.axvline(epsilon, color="tab:red", ls="--", lw=1.5)
    right.set_yscale("log")
    right.set_xlabel("privacy loss of a sampled output")
    right.set_ylabel(f"count (of {samples.size:,})")
    right.set_title(f"P[loss > ε={epsilon:g}] = {mass:.2g}  ≤  δ = {delta:.0e}")
    right.legend(loc="upper left", fontsize="small")
    return fig


def utility(
    epsilons: np.ndarray,
    mae: Mapping[int, np.ndarray],
    expected: Mapping[int, np.ndarray] | None = None,
    *,
    reference: tuple[float, str] | None = None,
) -> Figure:
    """Return a log-log plot of mean absolute error versus epsilon, one line per dataset size.

    ``mae[n]`` holds the measured error for each epsilon (markers); ``expected[n]`` the
    theoretical value (dashed lines). ``reference=(value, label)`` adds a horizontal guide.
    """
    eps = np.asarray(epsilons, dtype=float)
    if eps.ndim != 1 or eps.size == 0 or np.any(eps <= 0):
        raise ValueError("epsilons must be a non-empty 1-D array of positive numbers")
    if not mae:
        raise ValueError("mae must hold at least one dataset size")
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for i, (n, values) in enumerate(sorted(mae.items())):
        values = np.asarray(values, dtype=float)
        if values.shape != eps.shape:
            raise ValueError(f"mae[{n}] must have one value per epsilon, got {values.shape}")
        colour = f"C{i}"
        ax.plot(eps, values, "o", color=colour, ms=5, label=f"n = {n:,} (measured)")
        if expected is not None and n in expected:
            ax.plot(eps, expected[n], "--", color=colour, lw=1.5, label=f"n = {n:,}: 1/(nε)")
    if reference is not None:
        ax.axhline(reference[0], color="grey", ls=":", lw=1.5)
        ax.text(eps[0], reference[0] * 1.15, reference[1], color="grey", fontsize="small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ε (log scale)")
    ax.set_ylabel("mean absolute error of the noisy share")
    ax.set_title("Privacy–utility trade-off of the Laplace mechanism")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", ncols=2)
    return fig


def composition(
    ks: Sequence[int],
    accuracy: Sequence[float],
    bound: Sequence[float],
    *,
    epsilon: float,
    averages: Mapping[int, tuple[np.ndarray, np.ndarray]] | None = None,
    threshold: float | None = None,
) -> Figure:
    """Return the composition figure: an attacker averaging k noisy answers.

    Right: the attacker's accuracy (markers) versus the number of queries k (log x), the best
    accuracy (k·ε)-DP allows (``bound``) and chance level; a top axis shows the total budget
    k·ε. Left (if ``averages`` is given): one small panel per listed k with histograms of the
    attacker's average under D1 and D2 (``averages[k] = (avg_d1, avg_d2)``) and the decision
    ``threshold``.
    """
    ks_arr = np.asarray(ks, dtype=float)
    acc = np.asarray(accuracy, dtype=float)
    bnd = np.asarray(bound, dtype=float)
    if ks_arr.ndim != 1 or ks_arr.size == 0 or np.any(ks_arr < 1):
        raise ValueError("ks must be a non-empty sequence of positive integers")
    if acc.shape != ks_arr.shape or bnd.shape != ks_arr.shape:
        raise ValueError("accuracy and bound must have one value per k")
    if not (np.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    if averages:
        rows = len(averages)
        fig = plt.figure(figsize=(12, max(4.2, 1.9 * rows)), layout="constrained")
        grid = fig.add_gridspec(rows, 2, width_ratios=(1, 1.25))
        right = fig.add_subplot(grid[:, 1])
        for j, (k, (avg1, avg2)) in enumerate(sorted(averages.items())):
            ax = fig.add_subplot(grid[j, 0])
            avg1, avg2 = np.asarray(avg1, dtype=float), np.asarray(avg2, dtype=float)
            both = np.concatenate([avg1, avg2])
            edges = np.linspace(np.quantile(both, 0.005), np.quantile(both, 0.995), 70)
            for avg, colour, name in ((avg1, _COLOURS[0], "D1"), (avg2, _COLOURS[1], "D2")):
                ax.hist(avg, bins=edges, color=colour, alpha=0.5, density=True, label=name)
            if threshold is not None:
                ax.axvline(threshold, color="black", ls="--", lw=1, label="threshold")
            ax.set_yticks([])
            ax.set_title(f"average of k = {k} answers", fontsize="medium")
            if j == 0:
                ax.legend(fontsize="small", loc="upper right")
            if j == rows - 1:
                ax.set_xlabel("attacker's average of the noisy shares")
    else:
        fig, right = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    right.plot(ks_arr, acc, "o-", lw=2, label="attacker (measured)")
    right.plot(ks_arr, bnd, "--", lw=2, color="tab:red", label="best possible under (kε)-DP")
    right.axhline(0.5, color="grey", ls=":", label="coin flip")
    right.set_xscale("log")
    right.set_ylim(0.45, 1.02)
    right.set_xlabel("number of identical queries k (log scale)")
    right.set_ylabel("P(attacker guesses x's status)")
    right.set_title(f"Each answer is {epsilon:g}-DP; the total budget k·ε grows")
    right.legend(loc="lower right", fontsize="small")
    top = right.secondary_xaxis("top", functions=(lambda k: k * epsilon, lambda t: t / epsilon))
    top.set_xlabel("total privacy budget k·ε")
    return fig
