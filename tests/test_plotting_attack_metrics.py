"""Tests of mlprivacy_helpers.plotting.attack_metrics (figures of notebook 04)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlprivacy_helpers import attack_metrics  # noqa: E402
from mlprivacy_helpers.plotting import attack_metrics as attack_metrics_plots  # noqa: E402


def curves():
    rng = np.random.default_rng(0)
    members, non_members = rng.normal(1, 1, 500), rng.normal(0, 1, 500)
    return {"a": attack_metrics.roc_points(members, non_members)}


def test_log_log_roc_draws_curves_chance_and_the_dp_bound():
    fig = attack_metrics_plots.log_log_roc(curves(), title="t", epsilon=1.0, delta=1e-5)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["a", "chance (TPR = FPR)"] and any("DP bound" in s for s in labels)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    bound = next(line for line in ax.get_lines() if "DP bound" in line.get_label())
    x, y = bound.get_data()
    np.testing.assert_allclose(y, attack_metrics.dp_tpr_bound(x, 1.0, 1e-5))
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    assert attack_metrics_plots.log_log_roc(curves(), ax=axes[1]) is fig
    plt.close(fig)
    with pytest.raises(ValueError, match="at least one"):
        attack_metrics_plots.log_log_roc({})


def test_log_log_roc_shades_the_whole_profile_and_draws_the_single_pair_for_contrast():
    def exact(f):
        return np.minimum(1.0, 3 * f + 1e-4)

    fig = attack_metrics_plots.log_log_roc(curves(), epsilon=2.0, delta=1e-5, profile_bound=exact)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    x, y = lines["DP bound, whole profile"].get_data()
    np.testing.assert_allclose(y, exact(x))
    assert "DP bound, ε = 2.00, δ = 1e-05 only" in lines
    assert len(ax.collections) == 1  # one shaded region: the whole profile's
    plt.close(fig)
    with pytest.raises(ValueError, match="profile_bound"):
        attack_metrics_plots.log_log_roc(curves(), profile_bound=lambda f: f[:3])


def test_tpr_vs_models_and_canary_scores():
    fig = attack_metrics_plots.tpr_vs_models([1, 2, 4], {"lira": [0.01, 0.02, 0.05]})
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["lira", "chance"]
    plt.close(fig)
    with pytest.raises(ValueError, match="3 model counts"):
        attack_metrics_plots.tpr_vs_models([1, 2, 4], {"lira": [0.1]})
    inserted = np.arange(100) % 2 == 0
    fig = attack_metrics_plots.canary_scores(
        {"plain": inserted * 1.0, "dp": np.zeros(100)}, inserted
    )
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "plain"
    plt.close(fig)
    with pytest.raises(ValueError, match="canaries"):
        attack_metrics_plots.canary_scores({"plain": np.zeros(3)}, inserted)
