"""Tests of mlprivacy_helpers.plotting.inversion: the figures of notebook 03."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlprivacy_helpers.plotting import inversion as inversion_plots  # noqa: E402


def test_inversion_grid_figure():
    inv = {e: np.random.default_rng(e).uniform(size=(10, 28, 28, 1)) for e in (0, 1, 5)}
    preds = {0: [5] * 10, 1: list(range(10)), 5: [0] * 10}
    fig = inversion_plots.inversion_grid(inv, np.zeros((10, 28, 28, 1)), preds)
    axes = fig.axes
    assert len(axes) == 4 * 10
    assert [axes[r * 10].get_ylabel() for r in range(4)] == [
        "0 epochs",
        "1 epoch",
        "5 epochs",
        "class mean",
    ]
    # The judge's label sits inside its own image (not under it, where it reads as the
    # title of the row below), green when right and red when wrong.
    label = axes[10 + 3].texts[0]
    assert label.get_text() == "3" and axes[10 + 3].get_xlabel() == ""
    x, y = label.get_position()
    assert 0 <= x <= 1 and 0 <= y <= 1 and label.get_transform() == axes[10 + 3].transAxes
    assert (
        label.get_bbox_patch().get_facecolor() != axes[0].texts[0].get_bbox_patch().get_facecolor()
    )
    assert "judge" in fig._suptitle.get_text()
    assert axes[0].get_title() == "digit 0"
    plt.close(fig)
    with pytest.raises(ValueError, match="expected 10"):
        inversion_plots.inversion_grid({1: inv[1][:3]}, np.zeros((10, 28, 28)))


def test_metrics_vs_epochs_figure():
    fig = inversion_plots.metrics_vs_epochs(
        [0, 1, 10], [0.1, 0.9, 0.99], [0.1, 1.0, 1.0], [0.1, 0.8, 0.6], [0.0, 0.4, 0.3]
    )
    left, right = fig.axes
    assert len(left.get_lines()) == 2 and len(right.get_lines()) == 3  # + the chance line
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [0.1, 0.8, 0.6])
    assert [t.get_text() for t in right.get_xticklabels()] == ["0", "1", "10"]
    plt.close(fig)
    with pytest.raises(ValueError, match="judge_accuracy"):
        inversion_plots.metrics_vs_epochs([0, 1], [0, 1], [0, 1], [0], [0, 1])


def test_start_comparison_figure():
    starts = {n: np.zeros((10, 28, 28, 1)) for n in ("zeros", "noise")}
    conf = {"zeros": np.full(10, 0.99), "noise": np.linspace(0, 1, 10)}
    fig = inversion_plots.start_comparison(starts, starts, conf)
    assert len(fig.axes) == 2 * 11
    assert fig.axes[0].get_ylabel() == "zeros" and fig.axes[11].get_ylabel() == "noise"
    assert fig.axes[12].get_title() == "0: p=0.00"
    assert fig.axes[1].get_title() == "0: p=0.99"
    plt.close(fig)
    with pytest.raises(ValueError, match="missing"):
        inversion_plots.start_comparison(starts, {"zeros": starts["zeros"]}, conf)


def test_start_comparison_shows_each_target_its_own_start():
    # "other digit": every target starts from a different image, so every start is drawn.
    own = np.stack([np.full((28, 28, 1), i / 10) for i in range(10)])
    starts = {"zeros": np.zeros((10, 28, 28, 1)), "other digit": own}
    conf = {n: np.full(10, 0.99) for n in starts}
    fig = inversion_plots.start_comparison(starts, starts, conf)
    assert len(fig.axes) == 3 * 11  # zeros: one row; other digit: a start row + an inversion row
    start_row = fig.axes[11:22]
    assert [ax.get_title() for ax in start_row[1:]] == [f"start for {c}" for c in range(10)]
    shown = [ax.images[0].get_array().mean() for ax in start_row[1:]]
    np.testing.assert_allclose(shown, np.arange(10) / 10, atol=1e-6)
    assert fig.axes[22 + 4].get_title() == "3: p=0.99"
    plt.close(fig)


def test_faces_grid_figure():
    rng = np.random.default_rng(0)
    inv, train = rng.uniform(size=(10, 8, 8, 1)), rng.uniform(size=(10, 2, 8, 8, 1))
    fig = inversion_plots.faces_grid(
        inv, train, identified=[0, 1, 2, 9] + list(range(4, 10)), per_row=4
    )
    assert len(fig.axes) == 3 * 4 * 3  # 3 rows of 4 people, 3 images each
    first, wrong = fig.axes[0], fig.axes[3 * 3]
    assert first.get_title(loc="left") == "person 0" and wrong.get_title(loc="left") == "person 3"
    assert wrong.texts[0].get_text() == "9"
    assert (
        first.texts[0].get_bbox_patch().get_facecolor()
        != wrong.texts[0].get_bbox_patch().get_facecolor()
    )
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), train[0, 0, ..., 0])
    shown = fig.axes[0].images[0].get_array()  # contrast-stretched to [0, 1]
    assert shown.min() == 0 and shown.max() == 1
    np.testing.assert_allclose(shown, (inv[0, ..., 0] - inv[0].min()) / np.ptp(inv[0]), atol=1e-6)
    assert not fig.axes[-1].axison  # the two unused blocks of the last row stay empty
    assert "recogniser" in fig._suptitle.get_text()
    plt.close(fig)
    raw = inversion_plots.faces_grid(0.1 * inv, train, stretch=False)
    np.testing.assert_allclose(raw.axes[0].images[0].get_array(), 0.1 * inv[0, ..., 0], rtol=1e-6)
    assert "stretched" not in raw._suptitle.get_text()
    plt.close(raw)
    with pytest.raises(ValueError, match="training_images"):
        inversion_plots.faces_grid(inv, train[:5])
    with pytest.raises(ValueError, match="identified"):
        inversion_plots.faces_grid(inv, train, identified=[0])


def test_metrics_vs_epsilon_figure():
    eps = {"MNIST": [2.0, 0.5, np.inf], "faces": [np.inf, 10.0]}
    metrics = {
        "MNIST": {"judge accuracy": [0.6, 0.3, 0.9]},
        "faces": {"top-1": [1.0, 0.2], "top-5": [1.0, 0.5]},
    }
    fig = inversion_plots.metrics_vs_epsilon(eps, metrics, {"faces": {"top-1": 0.025}})
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["0.5", "2", "∞\n(non-private)"]
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), [0.3, 0.6, 0.9])  # sorted by ε
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [0.2, 1.0])
    assert len(right.get_lines()) == 3  # top-1, its chance line, top-5
    plt.close(fig)
    with pytest.raises(ValueError, match="values"):
        inversion_plots.metrics_vs_epsilon({"a": [1.0]}, {"a": {"m": [0.1, 0.2]}})
    with pytest.raises(ValueError, match="positive"):
        inversion_plots.metrics_vs_epsilon({"a": [0.0]}, {"a": {"m": [0.1]}})
