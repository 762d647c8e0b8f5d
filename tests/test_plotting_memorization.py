"""Tests of mlprivacy_helpers.plotting.memorization: notebook 05's exposure figure."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlprivacy_helpers.plotting import memorization as memorization_plots  # noqa: E402


def test_exposure_figure_has_one_mean_line_per_model_and_the_two_levels():
    exposures = {
        "plain": {1: [1.0, 3.0], 4: [6.0, 8.0], 16: [13.0, 13.2]},
        "DP-SGD": {1: [0.5, 1.5], 4: [1.0, 2.0], 16: [2.0, 4.0]},
    }
    fig = memorization_plots.exposure_by_repetitions(exposures, 10_000, title="t")
    (ax,) = fig.axes
    means = [line for line in ax.get_lines() if line.get_label().endswith("(mean)")]
    assert [line.get_label() for line in means] == ["plain (mean)", "DP-SGD (mean)"]
    np.testing.assert_allclose(means[0].get_ydata(), [2.0, 7.0, 13.1])
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines() if line not in means)
    np.testing.assert_allclose(levels, [math.log2(math.e), math.log2(10_000)])
    assert len(ax.collections) == 6  # one scatter per model and repetition count
    assert ax.get_xscale() == "log" and ax.get_title() == "t"
    plt.close(fig)


def test_exposure_figure_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one model"):
        memorization_plots.exposure_by_repetitions({}, 100)
    with pytest.raises(ValueError, match="space_size"):
        memorization_plots.exposure_by_repetitions({"m": {1: [1.0]}}, 1)
