"""Tests of mlprivacy_helpers.attack_metrics: AUC, TPR at a fixed FPR, DP bound."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics

from mlprivacy_helpers import attack_metrics as am


def test_clopper_pearson_matches_the_beta_quantiles():
    low, high = am.clopper_pearson(7, 50)
    assert low == pytest.approx(stats.beta.ppf(0.025, 7, 44))
    assert high == pytest.approx(stats.beta.ppf(0.975, 8, 43))
    assert am.clopper_pearson(0, 50)[0] == 0.0
    assert am.clopper_pearson(50, 50)[1] == 1.0
    # 0 of n: the upper end solves (1 - p)^n = 0.025
    assert am.clopper_pearson(0, 100)[1] == pytest.approx(1 - 0.025 ** (1 / 100))


def test_tpr_at_fpr_counts_by_hand():
    non_members = np.arange(100.0)  # 1 % FPR: at most one non-member above the threshold
    members = np.array([99.5, 98.5, 150.0, 10.0])
    result = am.tpr_at_fpr(members, non_members, 0.01)
    assert result.false_positives == 1  # only 99 > 98
    assert result.true_positives == 3  # 99.5, 98.5, 150 are above 98
    assert result.tpr == 0.75 and result.n_members == 4 and result.n_non_members == 100
    assert result.low < 0.75 < result.high
    strict = am.tpr_at_fpr(members, non_members, 0.005)  # no false positive allowed
    assert strict.false_positives == 0 and strict.true_positives == 2


def test_tpr_at_fpr_agrees_with_the_roc_curve():
    rng = np.random.default_rng(0)
    members, non_members = rng.normal(1, 1, 3000), rng.normal(0, 1, 2500)
    fpr, tpr = am.roc_points(members, non_members)
    for target in (0.001, 0.01, 0.1):
        expected = tpr[fpr <= target + 1e-12].max()
        assert am.tpr_at_fpr(members, non_members, target).tpr == pytest.approx(expected)
    labels = np.r_[np.ones(3000), np.zeros(2500)]
    assert am.auc(members, non_members) == pytest.approx(
        metrics.roc_auc_score(labels, np.r_[members, non_members])
    )


def test_chance_attack_has_tpr_near_fpr():
    rng = np.random.default_rng(1)
    result = am.tpr_at_fpr(rng.random(20000), rng.random(20000), 0.01)
    assert result.low < 0.01 < result.high


def test_dp_bound():
    assert am.dp_tpr_bound(0.01, 1.0, 0.0) == pytest.approx(np.e * 0.01)
    assert am.dp_tpr_bound(0.01, 1.0, 1e-5) == pytest.approx(np.e * 0.01 + 1e-5)
    assert am.dp_tpr_bound(0.0, 0.0, 0.0) == 0.0
    # near FPR = 1 the symmetric constraint binds: TPR <= 1 - (1 - FPR - delta) / e^eps
    assert am.dp_tpr_bound(0.9, 1.0, 0.0) == pytest.approx(1 - 0.1 / np.e)
    curve = am.dp_tpr_bound(np.array([0.0, 0.5, 1.0]), 10.0, 0.0)
    assert curve[-1] == 1.0 and np.all(np.diff(curve) >= 0)


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        am.tpr_at_fpr(np.array([np.nan]), np.arange(3.0), 0.1)
    with pytest.raises(ValueError, match="empty"):
        am.auc(np.array([]), np.arange(3.0))
    with pytest.raises(ValueError, match="fpr"):
        am.tpr_at_fpr(np.arange(3.0), np.arange(3.0), 1.0)
    with pytest.raises(ValueError, match="successes"):
        am.clopper_pearson(5, 3)
    with pytest.raises(TypeError, match="int"):
        am.clopper_pearson(1.5, 3)
    with pytest.raises(ValueError, match="epsilon"):
        am.dp_tpr_bound(0.1, -1.0, 0.0)
    with pytest.raises(ValueError, match="fpr"):
        am.dp_tpr_bound(1.5, 1.0, 0.0)


def test_attack_table_rows_agree_with_the_single_metrics():
    rng = np.random.default_rng(2)
    is_member = np.r_[np.ones(1000, bool), np.zeros(1000, bool)]
    scores = {"strong": rng.normal(is_member * 2.0), "weak": rng.normal(is_member * 0.2)}
    table = am.attack_table(scores, is_member)
    assert list(table.index) == ["strong", "weak"]
    for name, s in scores.items():
        assert table.loc[name, "AUC"] == pytest.approx(am.auc(s[is_member], s[~is_member]))
        at01 = am.tpr_at_fpr(s[is_member], s[~is_member], 0.001)
        assert table.loc[name, "TPR @ 0.1% FPR"] == at01.tpr
        # The interval is the bootstrap one, which also covers the threshold's uncertainty.
        boot = am.tpr_at_fpr_bootstrap(s[is_member], s[~is_member], 0.001, seed=0)
        assert (table.loc[name, "low (0.1%)"], table.loc[name, "high (0.1%)"]) == boot
        assert boot[0] <= at01.tpr <= boot[1]
    assert table.loc["strong", "TPR @ 1% FPR"] > table.loc["weak", "TPR @ 1% FPR"]
    with pytest.raises(ValueError, match="boolean"):
        am.attack_table(scores, is_member.astype(int))
    with pytest.raises(ValueError, match="some members"):
        am.attack_table(scores, np.ones(2000, bool))
    with pytest.raises(ValueError, match="scores for"):
        am.attack_table({"short": np.zeros(3)}, is_member)


# --- An interval that also covers the threshold's uncertainty ---------------------------------


@pytest.mark.parametrize("fpr", [0.01, 0.001])
def test_the_bootstrap_interval_covers_the_true_tpr_where_clopper_pearson_does_not(fpr):
    # Members N(2, 1), non-members N(0, 1): the true TPR at FPR f is 1 - Phi(Phi^-1(1 - f) - 2).
    truth = 1 - stats.norm.cdf(stats.norm.ppf(1 - fpr) - 2.0)
    bootstrap_hits = clopper_pearson_hits = 0
    for replicate in range(100):
        rng = np.random.default_rng(replicate)
        members, non_members = rng.normal(2.0, 1.0, 2500), rng.normal(0.0, 1.0, 2500)
        low, high = am.tpr_at_fpr_bootstrap(members, non_members, fpr, n_boot=400, seed=replicate)
        bootstrap_hits += low <= truth <= high
        fixed = am.tpr_at_fpr(members, non_members, fpr)
        clopper_pearson_hits += fixed.low <= truth <= fixed.high
    assert bootstrap_hits >= 88, f"95 % bootstrap interval covered {bootstrap_hits} of 100"
    assert clopper_pearson_hits <= 70, "the members-only interval should under-cover here"


def test_the_bootstrap_interval_is_seeded_contains_the_estimate_and_refuses_bad_input():
    rng = np.random.default_rng(0)
    members, non_members = rng.normal(1.0, 1.0, 500), rng.normal(0.0, 1.0, 500)
    first = am.tpr_at_fpr_bootstrap(members, non_members, 0.05, seed=3)
    assert first == am.tpr_at_fpr_bootstrap(members, non_members, 0.05, seed=3)
    estimate = am.tpr_at_fpr(members, non_members, 0.05).tpr
    assert first[0] <= estimate <= first[1]
    for kwargs, match in (
        ({"fpr": 0.0}, "fpr"),
        ({"fpr": 0.1, "confidence": 1.0}, "confidence"),
        ({"fpr": 0.1, "n_boot": 10}, "n_boot"),
    ):
        with pytest.raises(ValueError, match=match):
            am.tpr_at_fpr_bootstrap(members, non_members, **kwargs)
