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
