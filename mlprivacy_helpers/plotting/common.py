"""Plotting pieces shared by several notebooks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def show_images(
    images: np.ndarray | Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    cmap: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Draw ``images`` in a grid without axes and return the figure.

    ``images`` holds (H, W), (H, W, 1) or (H, W, 3) arrays, uint8 or floats in [0, 1];
    single-channel images default to a grey colour map. ``titles`` (one per image) is
    optional. Used by notebooks 02 (CIFAR-10 samples, most/least exposed images) and 03
    (digits and their inversions).
    """
    images = [np.asarray(img) for img in images]
    if not images:
        raise ValueError("images must not be empty")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles has {len(titles)} entries for {len(images)} images")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    ncols = min(ncols, len(images))
    nrows = math.ceil(len(images) / ncols)
    if figsize is None:
        figsize = (1.3 * ncols, 1.45 * nrows if titles is not None else 1.3 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        img = images[i]
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        grey = img.ndim == 2
        vmax = 255 if img.dtype == np.uint8 else 1.0
        ax.imshow(img, cmap=cmap or ("gray" if grey else None), vmin=0, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig
