"""Tests of mlprivacy_helpers.reference_attacks: LiRA through TF Privacy, and RMIA."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from scipy import stats
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import advanced_mia

from mlprivacy_helpers import attack_metrics
from mlprivacy_helpers import reference_attacks as ra


def test_in_masks_put_each_example_in_half_of_the_models():
    masks = ra.reference_in_masks(8, 1000, seed=0)
    assert masks.shape == (8, 1000) and masks.dtype == bool
    assert np.all(masks.sum(axis=0) == 4)
    assert 400 < masks[0].sum() < 600  # each model trains on about half of the pool
    for k in (2, 4, 6):  # the first k models: every example k/2 times in, k/2 times out
        assert np.all(masks[:k].sum(axis=0) == k // 2)
    assert np.array_equal(masks[1], ~masks[0])
    assert abs(np.corrcoef(masks[0], masks[2])[0, 1]) < 0.1  # pairs are independent
    assert np.array_equal(masks, ra.reference_in_masks(8, 1000, seed=0))
    assert not np.array_equal(masks, ra.reference_in_masks(8, 1000, seed=1))
    with pytest.raises(ValueError, match="even"):
        ra.reference_in_masks(3, 10, seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        ra.reference_in_masks(0, 10, seed=0)


def synthetic(seed=0, n=2000, k=8, gap=1.0):
    """Per-example difficulty d_i; statistic = d_i + gap * in + noise (LiRA's model)."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0, 3, n)
    masks = ra.reference_in_masks(k, n, seed)
    reference = difficulty + gap * masks + rng.normal(0, 0.3, (k, n))
    member = rng.random(n) < 0.5
    target = difficulty + gap * member + rng.normal(0, 0.3, n)
    return target, reference, masks, member


def _tf_privacy_lira(target, reference, masks):
    """TF Privacy's own scores, called as its API wants: one array per example."""
    stat_in = [reference[masks[:, i], i][:, None] for i in range(target.size)]
    stat_out = [reference[~masks[:, i], i][:, None] for i in range(target.size)]
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # examples with no "in"/"out" model
        online = -advanced_mia.compute_score_lira(
            target[:, None], stat_in, stat_out, option="both", fix_variance=True
        )
        offline = advanced_mia.compute_score_offset(
            target[:, None], stat_in, stat_out, option="out"
        )
    return online, offline


def _uneven(seed=0, n=500, k=5):
    """Random masks: any number of "in" models per example, some with none or all."""
    target, reference, _, _ = synthetic(seed=seed, n=n, k=6)
    masks = np.random.default_rng(seed).random((k, n)) < 0.5
    masks[:, :3] = False  # no "in" model
    masks[:, 3:6] = True  # no "out" model
    return target, reference[:k], masks


@pytest.mark.parametrize(
    "case",
    [
        lambda: synthetic()[:3],
        lambda: synthetic(seed=1, k=2)[:3],
        lambda: _uneven(),
        lambda: _uneven(seed=2, k=3),
    ],
    ids=["pairs-k8", "pairs-k2", "uneven-k5", "uneven-k3"],
)
def test_lira_gives_tf_privacys_numbers_negated(case):
    # lira_scores computes TF Privacy's compute_score_lira (online, negated: TF Privacy's
    # members score low) and compute_score_offset (offline) for all examples at once.
    target, reference, masks = case()
    online, offline = _tf_privacy_lira(target, reference, masks)
    np.testing.assert_allclose(ra.lira_scores(target, reference, masks, online=True), online,
                               rtol=1e-12, atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(ra.lira_scores(target, reference, masks, online=False), offline,
                               rtol=1e-12, atol=1e-12)  # fmt: skip


def test_lira_is_fast_on_notebook_04s_pool():
    # TF Privacy's per-example loop: ~6 s for these two calls on 5 000 examples here.
    target, reference, masks, _ = synthetic(n=5000, k=4)
    start = time.perf_counter()
    for online in (True, False):
        ra.lira_scores(target, reference, masks, online=online)
    assert time.perf_counter() - start < 1.0  # ~0.01 s here; TF Privacy's loop ~6 s


def test_offline_lira_is_the_papers_one_sided_test():
    # The score Phi((phi - mu_out) / sigma), one shared sigma, ranks like phi - median(out).
    target, reference, masks, member = synthetic()
    out_median = np.array([np.median(reference[~masks[:, i], i]) for i in range(target.size)])
    sigma = np.std(
        np.concatenate([reference[~masks[:, i], i] - out_median[i] for i in range(target.size)])
    )
    one_sided = stats.norm.sf((target - out_median) / sigma)  # small p-value = member
    scores = ra.lira_scores(target, reference, masks, online=False)
    assert np.array_equal(np.argsort(scores, kind="stable"), np.argsort(-one_sided, kind="stable"))


def test_lira_beats_a_global_threshold_when_difficulty_varies():
    target, reference, masks, member = synthetic()
    global_auc = attack_metrics.auc(target[member], target[~member])
    for online in (True, False):
        scores = ra.lira_scores(target, reference, masks, online=online)
        assert attack_metrics.auc(scores[member], scores[~member]) > global_auc + 0.2


def test_lira_with_one_model_uses_the_column_mean_quietly():
    target, reference, masks, member = synthetic(k=2)
    with np.errstate(all="raise"):
        scores = ra.lira_scores(target, reference[:1], masks[:1], online=True)
    assert np.all(np.isfinite(scores))


def test_lira_statistic_is_tf_privacys_logit_confidence():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]])
    labels = np.array([0, 2])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    p_true = p[[0, 1], labels]
    np.testing.assert_allclose(
        ra.lira_statistic(logits, labels), np.log(p_true) - np.log(1 - p_true), rtol=1e-9
    )
    np.testing.assert_allclose(ra.true_label_probability(logits, labels[:, None]), p_true)
    with pytest.raises(ValueError, match="shape"):
        ra.lira_statistic(logits[0], labels)


def test_rmia_by_hand():
    # ratio(x) = target / mean(reference); ratio(z) likewise for the population.
    target_x = np.array([0.9, 0.1])
    reference_x = np.array([[0.3, 0.1], [0.3, 0.1]])  # ratios 3 and 1
    target_z = np.array([0.2, 0.4, 0.6, 0.8])
    reference_z = np.full((2, 4), 0.4)  # ratios 0.5, 1, 1.5, 2
    # The paper's fractions 4/4 and 2/4; tie-breaking adds the rank of ratio(x) (1/2, then 0/2)
    # and divides by 4 + 1, which keeps the order of different fractions.
    np.testing.assert_allclose(
        ra.rmia_scores(target_x, reference_x, target_z, reference_z), [4.5 / 5, 2 / 5]
    )
    # gamma = 2: x must be at least twice as likely as z, relatively: 3 of 4, then 1 of 4.
    np.testing.assert_allclose(
        ra.rmia_scores(target_x, reference_x, target_z, reference_z, gamma=2.0), [3.5 / 5, 1 / 5]
    )


@pytest.mark.parametrize("gamma", [0.5, 1.0, 4.0])
def test_online_rmia_ranks_like_its_ratio_whatever_z_and_gamma_ties_broken_by_the_ratio(gamma):
    prob, ref_prob, masks, member, z_target, z_ref = _rmia_simulation(k=4)
    ratio = np.log(prob) - np.log(ref_prob.mean(axis=0))
    for z in (slice(None), slice(0, 10)):  # with 10 z, most x share a fraction: ties
        scores = ra.rmia_scores(prob, ref_prob, z_target[z], z_ref[:, z], gamma=gamma)
        assert np.array_equal(np.argsort(scores, kind="stable"), np.argsort(ratio, kind="stable"))
        for fpr in (0.01, 0.1):
            assert (
                attack_metrics.tpr_at_fpr(scores[member], scores[~member], fpr).tpr
                == attack_metrics.tpr_at_fpr(ratio[member], ratio[~member], fpr).tpr
            )


def test_rmia_separates_members_in_a_simulation():
    target, reference, masks, member = synthetic(gap=1.5)
    prob = 1 / (1 + np.exp(-np.clip(target, -30, 30)))
    ref_prob = 1 / (1 + np.exp(-np.clip(reference, -30, 30)))
    rng = np.random.default_rng(5)
    z_difficulty = rng.normal(0, 3, 500)  # population: trained no model
    z_target = 1 / (1 + np.exp(-(z_difficulty + rng.normal(0, 0.3, 500))))
    z_ref = 1 / (1 + np.exp(-(z_difficulty + rng.normal(0, 0.3, (8, 500)))))
    scores = ra.rmia_scores(prob, ref_prob, z_target, z_ref)
    assert attack_metrics.auc(scores[member], scores[~member]) > 0.75


def test_bad_input():
    target, reference, masks, _ = synthetic(n=20)
    with pytest.raises(ValueError, match="shape"):
        ra.lira_scores(target, reference[:, :10], masks, online=True)
    with pytest.raises(ValueError, match="boolean"):
        ra.lira_scores(target, reference, masks.astype(int), online=True)
    with pytest.raises(ValueError, match="finite"):
        ra.lira_scores(np.r_[np.inf, target[1:]], reference, masks, online=True)
    p = np.full(3, 0.5)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        ra.rmia_scores(np.zeros(3), np.full((2, 3), 0.5), p, np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="shape"):
        ra.rmia_scores(p, np.full((2, 4), 0.5), p, np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="gamma"):
        ra.rmia_scores(p, np.full((2, 3), 0.5), p, np.full((2, 3), 0.5), gamma=0)


def test_out_model_accuracy_counts_only_models_that_did_not_train_on_the_example():
    # 2 models, 3 examples, 2 classes; example 2 trained both models.
    logits = np.array(
        [
            [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],  # model 0 predicts 0, 1, 0
            [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]],  # model 1 predicts 1, 1, 0
        ]
    )
    labels = np.array([0, 1, 0])
    masks = np.array([[False, True, True], [False, False, True]])
    got = ra.out_model_accuracy(logits, labels, masks)
    np.testing.assert_allclose(got[:2], [0.5, 1.0])  # example 1: only model 1 is "out"
    assert np.isnan(got[2])
    with pytest.raises(ValueError, match="shape"):
        ra.out_model_accuracy(logits[0], labels, masks)
    with pytest.raises(ValueError, match="boolean"):
        ra.out_model_accuracy(logits, labels, masks.astype(int))


# --- Offline RMIA (few reference models): Pr(x) from "out" models and the constant a --------


def test_offline_pr_x_by_hand():
    probs = np.array([[0.4, 0.9, 0.8], [0.6, 0.5, 0.7]])
    masks = np.array([[False, True, True], [False, False, True]])
    # x0: out in both, Pr_OUT = 0.5; x1: out in model 1 only, Pr_OUT = 0.5;
    # x2: in both, Pr_OUT from Pr_IN = 0.75 = a Pr_OUT + 1 - a -> Pr_OUT = (0.75 - 0.7) / 0.3.
    got = ra.offline_pr_x(probs, masks, a=0.3)
    pr_out = np.array([0.5, 0.5, (0.75 - 0.7) / 0.3])
    np.testing.assert_allclose(got, ((1 + 0.3) * pr_out + 0.7) / 2)
    # a = 1: Pr(x) is the "out" mean itself.
    np.testing.assert_allclose(ra.offline_pr_x(probs, masks, a=1.0)[:2], [0.5, 0.5])


def _rmia_simulation(seed=0, n=2000, k=2):
    target, reference, masks, member = synthetic(seed=seed, n=n, k=k, gap=1.5)
    prob = 1 / (1 + np.exp(-np.clip(target, -30, 30)))
    ref_prob = 1 / (1 + np.exp(-np.clip(reference, -30, 30)))
    rng = np.random.default_rng(seed + 100)
    z_difficulty = rng.normal(0, 3, 500)
    z_target = 1 / (1 + np.exp(-(z_difficulty + rng.normal(0, 0.3, 500))))
    z_ref = 1 / (1 + np.exp(-(z_difficulty + rng.normal(0, 0.3, (k, 500)))))
    return prob, ref_prob, masks, member, z_target, z_ref


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 8.0])
def test_offline_rmia_ranks_exactly_like_its_likelihood_ratio_whatever_z_and_gamma(gamma):
    prob, ref_prob, masks, member, z_target, z_ref = _rmia_simulation()
    ratio = np.log(prob) - np.log(ra.offline_pr_x(ref_prob, masks, 0.4))
    for z in (slice(None), slice(0, 30)):  # 500 population examples, then 30
        scores = ra.rmia_offline_scores(
            prob, ref_prob, masks, z_target[z], z_ref[:, z], a=0.4, gamma=gamma
        )
        assert np.array_equal(np.argsort(scores, kind="stable"), np.argsort(ratio, kind="stable"))
        assert attack_metrics.auc(scores[member], scores[~member]) == pytest.approx(
            attack_metrics.auc(ratio[member], ratio[~member])
        )
        for fpr in (0.01, 0.1):
            assert (
                attack_metrics.tpr_at_fpr(scores[member], scores[~member], fpr).tpr
                == attack_metrics.tpr_at_fpr(ratio[member], ratio[~member], fpr).tpr
            )
        assert len(np.unique(scores)) == len(np.unique(ratio))  # ties broken by ratio(x)
    assert np.all((scores >= 0) & (scores < 1))


def test_offline_rmia_by_hand_before_tie_breaking():
    # One model, every x "out": Pr(x) = ((1 + a) p + 1 - a) / 2 with a = 1 is p itself.
    target_x, reference_x = np.array([0.9, 0.1]), np.array([[0.3, 0.1]])  # ratios 3 and 1
    masks = np.zeros((1, 2), dtype=bool)
    target_z, reference_z = np.array([0.2, 0.4, 0.6, 0.8]), np.full((1, 4), 0.4)  # 0.5 .. 2
    scores = ra.rmia_offline_scores(target_x, reference_x, masks, target_z, reference_z, a=1.0)
    # beats 4 and 2 of the 4 z; tie-breaking adds the rank (1 of 2, then 0 of 2) over 5.
    np.testing.assert_allclose(scores, [(4 + 0.5) / 5, (2 + 0) / 5])


def test_a_is_fitted_on_the_reference_models_only_and_is_the_best_of_the_grid():
    prob, ref_prob, masks, *_ = _rmia_simulation(k=4)
    a = ra.fit_offline_a(ref_prob, masks)
    assert a in np.round(np.linspace(0, 1, 11), 10)
    from sklearn import metrics

    def mean_auc(value):
        aucs = []
        for k in range(4):
            others = (np.arange(4) != k) & (np.arange(4) != (k ^ 1))  # its complement left out
            pr = ra.offline_pr_x(ref_prob[others], masks[others], value)
            aucs.append(metrics.roc_auc_score(masks[k], np.log(ref_prob[k]) - np.log(pr)))
        return np.mean(aucs)

    assert all(mean_auc(a) >= mean_auc(b) - 1e-12 for b in np.linspace(0, 1, 11))
    with pytest.raises(ValueError, match="at least 2 reference models"):
        ra.fit_offline_a(ref_prob[:1], masks[:1])
    # One complementary pair: each model's only reference would be its complement.
    assert np.array_equal(masks[1], ~masks[0])
    with pytest.raises(ValueError, match="complement"):
        ra.fit_offline_a(ref_prob[:2], masks[:2])
    assert ra.fit_offline_a(ref_prob[:2], masks[:2], default=1.0) == 1.0


def test_offline_rmia_refuses_bad_input():
    p = np.full(3, 0.5)
    masks = np.zeros((2, 3), dtype=bool)
    with pytest.raises(ValueError, match=r"a must be a number in \[0, 1\]"):
        ra.offline_pr_x(np.full((2, 3), 0.5), masks, a=1.5)
    with pytest.raises(ValueError, match="boolean in_masks"):
        ra.offline_pr_x(np.full((2, 3), 0.5), masks.astype(int), a=0.5)
    with pytest.raises(ValueError, match="gamma"):
        ra.rmia_offline_scores(p, np.full((2, 3), 0.5), masks, p, np.full((2, 3), 0.5), 0.5, 0)
    with pytest.raises(ValueError, match="non-empty population"):
        ra.rmia_offline_scores(p, np.full((2, 3), 0.5), masks, p[:0], np.full((2, 0), 0.5), 0.5)
