"""The shared image grid."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlprivacy_helpers.plotting.common import show_images  # noqa: E402


def test_show_images_grid_and_titles():
    images = np.random.default_rng(0).integers(0, 256, (12, 8, 8, 3), dtype=np.uint8)
    fig = show_images(images, titles=[f"img {i}" for i in range(12)], ncols=5)
    assert len(fig.axes) == 15  # 3 rows x 5 columns, last 3 left blank
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12
    assert shown[11].get_title() == "img 11"
    plt.close(fig)


def test_show_images_grey_single_channel():
    fig = show_images(np.zeros((3, 28, 28, 1), dtype=np.float32))
    assert fig.axes[0].images[0].get_cmap().name == "gray"
    plt.close(fig)


def test_show_images_rejects_bad_input():
    with pytest.raises(ValueError, match="images"):
        show_images([])
    with pytest.raises(ValueError, match="titles"):
        show_images(np.zeros((2, 4, 4)), titles=["a"])
    with pytest.raises(ValueError, match="ncols"):
        show_images(np.zeros((2, 4, 4)), ncols=0)


def test_widget_bundle_carries_the_live_widget_and_a_png_fallback():
    import base64

    import ipywidgets as widgets

    from mlprivacy_helpers.plotting.common import (
        WIDGET_VIEW_MIME,
        widget_bundle_with_static_fallback,
    )

    slider = widgets.FloatSlider(value=1.0)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    bundle = widget_bundle_with_static_fallback(slider, fig)
    assert bundle[WIDGET_VIEW_MIME]["model_id"] == slider.model_id
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert not plt.fignum_exists(fig.number), "the fallback figure must be closed"


def test_an_ipywidgets_7_widget_gets_the_bundle_its_display_would_send():
    # Google Colab runs ipywidgets 7, whose widgets display through _ipython_display_ and have
    # no _repr_mimebundle_; `make test-colab` runs the real one.
    from mlprivacy_helpers.plotting.common import (
        WIDGET_VIEW_MIME,
        widget_bundle_with_static_fallback,
    )

    class Widget7:
        _view_name = "FloatSliderView"
        model_id = "abc123"

        def _ipython_display_(self):
            raise AssertionError("not called")

    fig, _ = plt.subplots()
    bundle = widget_bundle_with_static_fallback(Widget7(), fig)
    assert bundle[WIDGET_VIEW_MIME] == {
        "version_major": 2,
        "version_minor": 0,
        "model_id": "abc123",
    }
    assert "image/png" in bundle and "text/plain" in bundle


def test_widget_bundle_rejects_non_widgets():
    from mlprivacy_helpers.plotting.common import widget_bundle_with_static_fallback

    fig, _ = plt.subplots()
    with pytest.raises(TypeError):
        widget_bundle_with_static_fallback("not a widget", fig)
    plt.close(fig)
