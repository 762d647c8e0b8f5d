"""Figures of notebook 03 (model inversion on MNIST with ART's MIFace)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

_GOOD, _BAD = "#1a7f37", "#c62828"


def _as_images(images: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3:
        raise ValueError(f"{name} must hold (H, W) or (H, W, 1) images, got shape {arr.shape}")
    return arr


def _image(ax, img: np.ndarray) -> None:
    ax.imshow(img, cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])


def _corner_label(ax, label: int, right: bool, fontsize: float, pad: float) -> None:
    """Write ``label`` in the top-left corner of ``ax``, white on green (right) or red."""
    ax.text(
        0.04,
        0.96,
        str(label),
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=fontsize,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": f"round,pad={pad}", "fc": _GOOD if right else _BAD, "ec": "none"},
    )


def inversion_grid(
    inversions: Mapping[int, np.ndarray],
    class_means: np.ndarray,
    judge_predictions: Mapping[int, Sequence[int]] | None = None,
) -> Figure:
    """Return a grid: one row per epoch count (``inversions[e]``: 10 images, one per digit),
    then a last row with the class-mean training images.

    With ``judge_predictions[e]`` (the judge's predicted digit for each inversion) every
    inversion carries the judge's label k in its top-left corner, green when k is the target
    digit, red otherwise (inside the image, so it cannot be read as the title of the row
    below).
    """
    if not inversions:
        raise ValueError("inversions must not be empty")
    means = _as_images(class_means, "class_means")
    n_cols = len(means)
    rows = {int(e): _as_images(v, f"inversions[{e}]") for e, v in inversions.items()}
    for e, imgs in rows.items():
        if len(imgs) != n_cols:
            raise ValueError(f"inversions[{e}] has {len(imgs)} images, expected {n_cols}")
    n_rows = len(rows) + 1
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.05 * n_cols + 0.8, 1.25 * n_rows), squeeze=False
    )
    for r, (epochs, imgs) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            _image(ax, imgs[c])
            if r == 0:
                ax.set_title(f"digit {c}", fontsize=9)
            if judge_predictions is not None:
                pred = int(judge_predictions[epochs][c])
                _corner_label(ax, pred, right=pred == c, fontsize=8, pad=0.15)
        unit = "epoch" if epochs == 1 else "epochs"
        axes[r, 0].set_ylabel(f"{epochs} {unit}", fontsize=9)
    for c in range(n_cols):
        _image(axes[-1, c], means[c])
        if n_rows == 1:
            axes[-1, c].set_title(f"digit {c}", fontsize=9)
    axes[-1, 0].set_ylabel("class mean", fontsize=9)
    title = "MIFace inversions (rows: training epochs) and the class-mean training images"
    if judge_predictions is not None:
        title += "\ncorner: the judge's label (green = the target digit, red = another digit)"
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def metrics_vs_epochs(
    epochs: Sequence[int],
    test_accuracy: Sequence[float],
    target_confidence: Sequence[float],
    judge_accuracy: Sequence[float],
    corr_to_class_mean: Sequence[float],
    chance: float = 0.1,
) -> Figure:
    """Return a two-panel figure of the inversion metrics against training epochs.

    Left: the attacked model's test accuracy and its mean confidence on its inversions.
    Right: the judge's accuracy on the inversions (with the ``chance`` level dashed) and the
    mean correlation of each inversion with its class-mean image. Epoch counts are spaced
    evenly (0, 1, 2, 5, 10 would crowd a linear axis).
    """
    n = len(epochs)
    series = {
        "test_accuracy": test_accuracy,
        "target_confidence": target_confidence,
        "judge_accuracy": judge_accuracy,
        "corr_to_class_mean": corr_to_class_mean,
    }
    for name, values in series.items():
        if len(values) != n:
            raise ValueError(f"{name} has {len(values)} values for {n} epoch counts")
    if n == 0:
        raise ValueError("epochs must not be empty")
    pos = np.arange(n)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(pos, test_accuracy, "o-", label="test accuracy of the attacked model")
    left.plot(pos, target_confidence, "s-", label="its confidence on its inversions")
    left.set_title("Attacked model")
    right.plot(pos, judge_accuracy, "o-", color="C2", label="judge accuracy on inversions")
    right.plot(pos, corr_to_class_mean, "s-", color="C3", label="correlation with class mean")
    right.axhline(chance, ls="--", color="grey", label=f"chance ({chance:g})")
    right.set_title("How recognisable are the inversions?")
    for ax in (left, right):
        ax.set_xticks(pos, [str(e) for e in epochs])
        ax.set_xlabel("training epochs")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def start_comparison(
    starts: Mapping[str, np.ndarray],
    inversions: Mapping[str, np.ndarray],
    confidences: Mapping[str, Sequence[float]],
    min_confidence: float = 0.5,
) -> Figure:
    """Return a grid comparing MIFace start points, one block of rows per start.

    Columns are the target digits. A start that is the same image for every target (zeros,
    the mean image, one noise image) is drawn once, left of its row of inversions; a start
    that differs per target (a real digit of another class) gets a row of its own, each
    target's start above its inversion. Inversions are titled with the target and the
    attacked model's confidence for it, red when below ``min_confidence`` (the attack did not
    get there).
    """
    if not starts:
        raise ValueError("starts must not be empty")
    names = list(starts)
    for mapping, label in ((inversions, "inversions"), (confidences, "confidences")):
        missing = [k for k in names if k not in mapping]
        if missing:
            raise ValueError(f"{label} is missing the starts {missing}")
    n_targets = len(_as_images(inversions[names[0]], "inversions"))
    start_images = {n: _as_images(starts[n], f"starts[{n!r}]") for n in names}
    for name in names:
        imgs = _as_images(inversions[name], f"inversions[{name!r}]")
        if len(imgs) != n_targets or len(np.asarray(confidences[name])) != n_targets:
            raise ValueError(f"start {name!r} needs {n_targets} inversions and confidences")
        if len(start_images[name]) not in (1, n_targets):
            raise ValueError(f"starts[{name!r}] needs 1 or {n_targets} images")
    shared = {n: bool(np.all(start_images[n] == start_images[n][:1])) for n in names}
    n_rows = sum(1 if shared[n] else 2 for n in names)
    fig, axes = plt.subplots(
        n_rows,
        n_targets + 1,
        figsize=(1.05 * (n_targets + 1) + 0.8, 1.35 * n_rows),
        squeeze=False,
    )
    r = 0
    for name in names:
        imgs = _as_images(inversions[name], f"inversions[{name!r}]")
        conf = np.asarray(confidences[name], dtype=float)
        if not shared[name]:  # one start per target: a row of starts above the inversions
            axes[r, 0].axis("off")
            axes[r, 0].text(0.5, 0.5, f"{name}:\nstarts", ha="center", va="center", fontsize=9)
            for c in range(n_targets):
                _image(axes[r, c + 1], start_images[name][c])
                axes[r, c + 1].set_title(f"start for {c}", fontsize=8)
            r += 1
            axes[r, 0].axis("off")
            axes[r, 0].text(0.5, 0.5, f"{name}:\ninversions", ha="center", va="center", fontsize=9)
        else:
            _image(axes[r, 0], start_images[name][0])
            axes[r, 0].set_ylabel(name, fontsize=9)
            axes[r, 0].set_title("start (all)", fontsize=8)
        for c in range(n_targets):
            ax = axes[r, c + 1]
            _image(ax, imgs[c])
            colour = _GOOD if conf[c] >= min_confidence else _BAD
            ax.set_title(f"{c}: p={conf[c]:.2f}", fontsize=8, color=colour)
        r += 1
    fig.suptitle("Inversions from different start points (title: target digit, confidence)")
    fig.tight_layout()
    return fig


def faces_grid(
    inversions: np.ndarray,
    training_images: np.ndarray,
    identified: Sequence[int] | None = None,
    per_row: int = 5,
    stretch: bool = True,
) -> Figure:
    """Return a grid of people: each person's inversion beside training images of theirs.

    ``inversions[p]`` is the inversion for person ``p``; ``training_images[p]`` holds a few
    (e.g. two) of that person's training images, shape ``(n_people, n_shown, H, W[, 1])``.
    Each person is a block of ``1 + n_shown`` columns, ``per_row`` blocks to a row; the
    inversion is titled with the person's number. With ``identified`` (the person an
    independent recogniser assigns to each inversion) the inversion carries that number in
    its corner, green when it is the right person, red otherwise. With ``stretch`` (the
    default) each inversion is drawn contrast-stretched to its own minimum and maximum (the
    raw inversions are faint: MIFace from zeros only raises a few pixels); training images
    are drawn as they are.
    """
    inv = _as_images(inversions, "inversions")
    if stretch:
        low = inv.min(axis=(1, 2), keepdims=True)
        span = inv.max(axis=(1, 2), keepdims=True) - low
        inv = np.divide(inv - low, span, out=np.zeros_like(inv), where=span > 0)
    train = np.asarray(training_images, dtype=np.float32)
    if train.ndim == 5 and train.shape[-1] == 1:
        train = train[..., 0]
    if train.ndim != 4 or train.shape[0] != len(inv) or train.shape[2:] != inv.shape[1:]:
        raise ValueError(
            f"training_images must have shape ({len(inv)}, n_shown, {inv.shape[1]}, "
            f"{inv.shape[2]}), got {train.shape}"
        )
    if identified is not None and len(identified) != len(inv):
        raise ValueError(f"identified has {len(identified)} entries for {len(inv)} inversions")
    if isinstance(per_row, bool) or not isinstance(per_row, int) or per_row < 1:
        raise ValueError(f"per_row must be a positive int, got {per_row!r}")
    n_people, n_shown = len(inv), train.shape[1]
    block = 1 + n_shown
    per_row = min(per_row, n_people)
    n_rows = -(-n_people // per_row)
    fig, axes = plt.subplots(
        n_rows,
        per_row * block,
        figsize=(0.95 * per_row * block, 1.2 * n_rows + 0.8),
        squeeze=False,
        gridspec_kw={"wspace": 0.06, "hspace": 0.32},
    )
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.8 / (1.2 * n_rows + 0.8))
    for ax in axes.flat:
        ax.axis("off")
    for p in range(n_people):
        r, c0 = divmod(p, per_row)
        c0 *= block
        ax = axes[r, c0]
        ax.axis("on")
        _image(ax, inv[p])
        for side in ax.spines.values():
            side.set_edgecolor("#1f4e9c")
            side.set_linewidth(2)
        ax.set_title(f"person {p}", fontsize=7, loc="left")
        if identified is not None:
            who = int(identified[p])
            _corner_label(ax, who, right=who == p, fontsize=6, pad=0.12)
        for j in range(n_shown):
            axes[r, c0 + 1 + j].axis("on")
            _image(axes[r, c0 + 1 + j], train[p, j])
    title = "MIFace inversion of each person (blue frame"
    title += ", contrast-stretched)" if stretch else ")"
    title += " beside two of their training images"
    if identified is not None:
        title += "\ncorner: the person an independent eigenface recogniser sees (green = right)"
    fig.suptitle(title, fontsize=10, y=0.995)
    return fig


def metrics_vs_epsilon(
    epsilons: Mapping[str, Sequence[float]],
    metrics: Mapping[str, Mapping[str, Sequence[float]]],
    chance: Mapping[str, Mapping[str, float]] | None = None,
) -> Figure:
    """Return one panel per model of inversion metrics against the DP-SGD ε.

    ``epsilons[model]`` lists the ε of each trained model, ``math.inf`` for the non-private
    one; ``metrics[model][name]`` one value per model, in the same order; ``chance[model]
    [name]`` an optional dashed reference line. Models are placed by decreasing privacy
    (smallest ε left, non-private "∞" right), evenly spaced.
    """
    if not epsilons:
        raise ValueError("epsilons must not be empty")
    if set(epsilons) != set(metrics):
        raise ValueError(
            f"epsilons and metrics name different models: {set(epsilons)}, {set(metrics)}"
        )
    chance = chance or {}
    fig, axes = plt.subplots(1, len(epsilons), figsize=(5.2 * len(epsilons), 3.8), squeeze=False)
    for ax, (model, eps) in zip(axes[0], epsilons.items(), strict=True):
        eps = np.asarray(eps, dtype=float)
        if eps.ndim != 1 or len(eps) == 0 or np.any(np.isnan(eps)) or np.any(eps <= 0):
            raise ValueError(f"epsilons[{model!r}] must be positive numbers, got {eps}")
        order = np.argsort(eps)
        pos = np.arange(len(eps))
        for i, (name, values) in enumerate(metrics[model].items()):
            values = np.asarray(values, dtype=float)
            if len(values) != len(eps):
                raise ValueError(
                    f"metrics[{model!r}][{name!r}] has {len(values)} values for {len(eps)} models"
                )
            ax.plot(pos, values[order], "os^dv"[i % 5] + "-", color=f"C{i}", label=name)
            level = chance.get(model, {}).get(name)
            if level is not None:
                ax.axhline(
                    level, ls="--", lw=1, color=f"C{i}", alpha=0.7, label=f"chance ({level:g})"
                )
        labels = ["∞\n(non-private)" if np.isinf(e) else f"{e:.2g}" for e in eps[order]]
        ax.set_xticks(pos, labels)
        ax.set_xlabel("ε of DP-SGD (per training example)")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(model)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
