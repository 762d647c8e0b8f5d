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


def inversion_grid(
    inversions: Mapping[int, np.ndarray],
    class_means: np.ndarray,
    judge_predictions: Mapping[int, Sequence[int]] | None = None,
) -> Figure:
    """Return a grid: one row per epoch count (``inversions[e]``: 10 images, one per digit),
    then a last row with the class-mean training images.

    With ``judge_predictions[e]`` (the judge's predicted digit for each inversion) every cell
    is captioned "judge: k", green when k is the target digit, red otherwise. Used by
    notebook 03, section "Inversion versus training".
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
                ax.set_xlabel(
                    f"judge: {pred}", fontsize=8, color=_GOOD if pred == c else _BAD, labelpad=1
                )
        unit = "epoch" if epochs == 1 else "epochs"
        axes[r, 0].set_ylabel(f"{epochs} {unit}", fontsize=9)
    for c in range(n_cols):
        _image(axes[-1, c], means[c])
        if n_rows == 1:
            axes[-1, c].set_title(f"digit {c}", fontsize=9)
    axes[-1, 0].set_ylabel("class mean", fontsize=9)
    fig.suptitle("MIFace inversions (rows: training epochs) and the class-mean training images")
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
    evenly (0, 1, 2, 5, 10 would crowd a linear axis). Used by notebook 03.
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
    """Return a grid comparing MIFace start points: one row per start.

    Column 0 shows the start image of the first target (``starts[name][0]``), the next
    columns the inversion for each digit, titled with the attacked model's confidence for the
    target, red when below ``min_confidence`` (the attack did not get there). Used by
    notebook 03, section "Where to start".
    """
    if not starts:
        raise ValueError("starts must not be empty")
    names = list(starts)
    for mapping, label in ((inversions, "inversions"), (confidences, "confidences")):
        missing = [k for k in names if k not in mapping]
        if missing:
            raise ValueError(f"{label} is missing the starts {missing}")
    n_cols = len(_as_images(inversions[names[0]], "inversions")) + 1
    fig, axes = plt.subplots(
        len(names), n_cols, figsize=(1.05 * n_cols + 0.8, 1.35 * len(names)), squeeze=False
    )
    for r, name in enumerate(names):
        imgs = _as_images(inversions[name], f"inversions[{name!r}]")
        conf = np.asarray(confidences[name], dtype=float)
        if len(imgs) != n_cols - 1 or len(conf) != n_cols - 1:
            raise ValueError(f"start {name!r} needs {n_cols - 1} inversions and confidences")
        _image(axes[r, 0], _as_images(starts[name], f"starts[{name!r}]")[0])
        axes[r, 0].set_ylabel(name, fontsize=9)
        if r == 0:
            axes[r, 0].set_title("start", fontsize=9)
        for c in range(n_cols - 1):
            ax = axes[r, c + 1]
            _image(ax, imgs[c])
            colour = _GOOD if conf[c] >= min_confidence else _BAD
            ax.set_title(f"{c}: p={conf[c]:.2f}", fontsize=8, color=colour)
    fig.suptitle("Inversions from different start points (title: target digit, confidence)")
    fig.tight_layout()
    return fig
