"""Tests of mlprivacy_helpers.plotting.federated: notebook 06's reconstruction grid."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlprivacy_helpers.plotting import federated as federated_plots  # noqa: E402


def test_reconstruction_rows_show_each_row_with_its_label_and_captions():
    rng = np.random.default_rng(0)
    originals = rng.uniform(0, 1, (4, 8, 8, 3))
    rows = {"originals": originals, "B = 2": originals[:2] + 0.5}  # out of range: clipped
    fig = federated_plots.reconstruction_rows(rows, captions={"B = 2": ["12.3 dB", "9.8 dB"]})
    axes = np.array(fig.axes).reshape(2, 4)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["originals", "B = 2"]
    assert [ax.get_xlabel() for ax in axes[1, :2]] == ["12.3 dB", "9.8 dB"]
    shown = axes[1, 0].get_images()[0].get_array()
    assert shown.max() <= 1.0 and np.allclose(shown, np.clip(originals[0] + 0.5, 0, 1))
    assert not axes[1, 3].axison and not axes[1, 3].get_images()  # the short row's blanks
    plt.close(fig)


def test_reconstruction_rows_refuse_bad_input():
    with pytest.raises(ValueError, match="at least one row"):
        federated_plots.reconstruction_rows({})
    with pytest.raises(ValueError, match="expected"):
        federated_plots.reconstruction_rows({"x": np.zeros((2, 8, 8, 2))})
    with pytest.raises(ValueError, match="do not exist"):
        federated_plots.reconstruction_rows({"x": np.zeros((2, 8, 8, 3))}, captions={"y": []})
    with pytest.raises(ValueError, match="texts for"):
        federated_plots.reconstruction_rows({"x": np.zeros((2, 8, 8, 3))}, captions={"x": ["a"]})
