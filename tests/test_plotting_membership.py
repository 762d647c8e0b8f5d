"""Tests of mlprivacy_helpers.plotting.membership: the figures of notebook 02."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlprivacy_helpers.plotting import membership as membership_plots  # noqa: E402

HISTORY = {
    "mia_train_accuracy": [0.4, 0.6, 0.8],
    "mia_test_accuracy": [0.38, 0.5, 0.55],
    "mia_train_loss": [1.6, 1.1, 0.6],
    "mia_test_loss": [1.7, 1.3, 1.35],
    "mia_logistic_regression_auc": [0.5, 0.55, 0.6],
    "mia_threshold_attack_auc": [0.5, 0.54, 0.59],
}


def test_training_curves_figure():
    fig = membership_plots.training_curves(HISTORY)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title() == "accuracy: train 0.80 vs test 0.55"
    assert len(fig.axes[1].lines) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="mia_train_accuracy"):
        membership_plots.training_curves({})


def test_auc_vs_epoch_figure():
    fig = membership_plots.auc_vs_epoch(HISTORY)
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), [0.02, 0.1, 0.25])
    assert len(fig.axes[0].lines) == 3  # two attacks + chance line
    plt.close(fig)


def test_auc_by_slice_figure():
    fig = membership_plots.auc_by_slice(
        ["Entire dataset", "CLASS=0", "CORRECTLY_CLASSIFIED=False"],
        {"LR": [0.6, 0.55, 0.7], "threshold": [0.58, 0.52, np.nan]},
    )
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.get_yticklabels()][2] == "CORRECTLY_CLASSIFIED=False"
    plt.close(fig)
    with pytest.raises(ValueError, match="LR"):
        membership_plots.auc_by_slice(["a"], {"LR": [0.5, 0.6]})


def test_roc_overlay_and_side_by_side():
    fig = membership_plots.roc_overlay(
        {"plain": (np.array([0, 0.2, 1.0]), np.array([0, 0.6, 1.0])), "dp": ([0, 1], [0, 1])}
    )
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["chance", "plain (AUC 0.700)", "dp (AUC 0.500)"]
    plt.close(fig)
    fig = membership_plots.side_by_side(
        {"test accuracy": {"plain": 0.6, "DP": 0.4}, "AUC": {"plain": 0.6, "DP": 0.5}}
    )
    assert [ax.get_title() for ax in fig.axes] == ["test accuracy", "AUC"]
    assert len(fig.axes[0].patches) == 2
    plt.close(fig)
