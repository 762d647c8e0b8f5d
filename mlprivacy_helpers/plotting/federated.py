"""Figures of notebook 06 (federated learning): reconstructions next to the client's images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def _as_rgb(images: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"{name}: expected (N, H, W, 1 or 3) images, got shape {arr.shape}")
    return np.clip(arr, 0.0, 1.0)


def reconstruction_rows(
    rows: Mapping[str, np.ndarray],
    captions: Mapping[str, Sequence[str]] | None = None,
    max_columns: int = 16,
    size: float = 1.1,
) -> Figure:
    """Return a grid with one row of images per entry of ``rows`` (label -> images in
    ``[0, 1]``, shape ``(N, H, W, C)``), the label on the left; rows may differ in length
    (empty cells are left blank). ``captions[label]`` writes a short text under each image
    of that row (e.g. its PSNR). At most ``max_columns`` images per row."""
    if not rows:
        raise ValueError("rows must hold at least one row of images")
    captions = captions or {}
    unknown = set(captions) - set(rows)
    if unknown:
        raise ValueError(f"captions for rows that do not exist: {sorted(unknown)}")
    arrays = {label: _as_rgb(images, label)[:max_columns] for label, images in rows.items()}
    for label, texts in captions.items():
        if len(texts) < len(arrays[label]):
            raise ValueError(
                f"captions[{label!r}] has {len(texts)} texts for {len(arrays[label])} images"
            )
    columns = max(len(a) for a in arrays.values())
    fig, axes = plt.subplots(
        len(arrays),
        columns,
        figsize=(size * columns + 1.6, size * len(arrays) * 1.15),
        squeeze=False,
    )
    for r, (label, images) in enumerate(arrays.items()):
        for c in range(columns):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(images):
                ax.axis("off")
                continue
            image = images[c]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
            if label in captions:
                ax.set_xlabel(captions[label][c], fontsize=7)
        axes[r][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    return fig
