"""Plotting pieces shared by several notebooks."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


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
    optional.
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


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """Return ``fig`` rendered as PNG bytes (the figure stays open)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return buffer.getvalue()


def widget_bundle_with_static_fallback(widget, fig: Figure) -> dict[str, object]:
    """Return the display bundle of an ipywidget plus a PNG of ``fig`` as its fallback.

    A front end with a widget manager (JupyterLab) renders the live widget and ignores the
    PNG; one without (an exported page without widget state, a notebook viewer) shows the
    PNG. So JupyterLab shows one figure, not a static copy above the interactive one.
    ``fig`` is closed. Raises ``TypeError`` if ``widget`` is not a displayable ipywidget.
    Works with ipywidgets 8 (``_repr_mimebundle_``) and 7 (Google Colab's, which displays
    through ``_ipython_display_``: the same view bundle is built from its ``model_id``).
    Used by notebook 01 (the ε slider) through :func:`display_widget_with_static_fallback`.
    """
    if hasattr(widget, "_repr_mimebundle_"):
        bundle = widget._repr_mimebundle_()
    elif getattr(widget, "_view_name", None) and getattr(widget, "model_id", None):
        # ipywidgets 7's _ipython_display_ sends exactly this (widget protocol 2.0).
        view = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
        bundle = {"text/plain": repr(widget), WIDGET_VIEW_MIME: view}
    else:
        bundle = None
    if not isinstance(bundle, dict) or WIDGET_VIEW_MIME not in bundle:
        raise TypeError(f"expected a displayable ipywidget, got {type(widget).__name__}")
    png = figure_png(fig)
    plt.close(fig)
    return {**bundle, "image/png": base64.b64encode(png).decode("ascii")}


def display_widget_with_static_fallback(widget, fig: Figure) -> None:
    """Display ``widget`` with a static PNG of ``fig`` for front ends without widgets.

    Returns ``None``. See :func:`widget_bundle_with_static_fallback`.
    """
    from IPython.display import display

    display(widget_bundle_with_static_fallback(widget, fig), raw=True)
