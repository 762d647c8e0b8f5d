"""mlprivacy_helpers.pooled_evaluation: every model plays the target, scores pooled."""

from __future__ import annotations

import numpy as np
import pytest

from mlprivacy_helpers import attack_metrics, pooled_evaluation, reference_attacks


def stand_in_models(
    signal: float, n_models: int = 6, n: int = 600, seed: int = 0, noise: float = 0.2,
    target: bool = False,
):  # fmt: skip
    """Logits of ``n_models`` models on a pool and a population, where training on an example
    raises its true-label logit by ``signal``; examples differ a lot in difficulty, the same for
    every model, so only an attack that calibrates per example sees the signal clearly. The
    models come in complementary pairs (``reference_in_masks``); with ``target``, one more model
    first, trained on an independent random half (notebook 04's design)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    labels_z = rng.integers(0, 10, 300)
    masks = reference_attacks.reference_in_masks(n_models, n, seed)
    if target:
        masks = np.concatenate([(rng.random(n) < 0.5)[None], masks])
    difficulty = rng.normal(0, 3, n)
    difficulty_z = rng.normal(0, 3, 300)
    logits = rng.normal(0, 0.1, (len(masks), n, 10))
    shift = signal * masks + rng.normal(0, noise, masks.shape)
    logits[:, np.arange(n), labels] += difficulty + shift
    logits_z = rng.normal(0, 0.1, (len(masks), 300, 10))
    logits_z[:, np.arange(300), labels_z] += difficulty_z + rng.normal(0, noise, (len(masks), 300))
    return logits, labels, logits_z, labels_z, masks


def test_a_calibrated_attack_finds_a_signal_that_a_global_threshold_misses():
    logits, labels, logits_z, labels_z, masks = stand_in_models(signal=2.0)
    scores = pooled_evaluation.leave_one_out_scores(logits, labels, logits_z, labels_z, masks)
    assert set(scores) == set(pooled_evaluation.ATTACKS)
    tpr = {a: pooled_evaluation.pooled_tpr_at_fpr(s, masks, 0.01) for a, s in scores.items()}
    assert tpr["lira_offline"] > 0.9 and tpr["lira_online"] > 0.9 and tpr["rmia_offline"] > 0.8
    assert tpr["threshold"] < 0.2


def test_with_no_signal_every_attack_is_at_chance_on_both_sides():
    # Reference models in complementary pairs: were a target's complement among its references,
    # its members would always have one more "out" model than its non-members, and the pooled
    # TPR of a coin flip would fall below the FPR (offline LiRA: 0.5 % at 1 %). Notebook 04's
    # design: a target and two pairs; 5 targets x 2 500 non-members: a coin flip's TPR at 1 %
    # FPR is 0.010 +- 0.0009.
    logits, labels, logits_z, labels_z, masks = stand_in_models(
        signal=0.0, n_models=4, n=5000, noise=1.0, target=True
    )
    scores = pooled_evaluation.leave_one_out_scores(logits, labels, logits_z, labels_z, masks)
    for attack, s in scores.items():
        tpr = pooled_evaluation.pooled_tpr_at_fpr(s, masks, 0.01)
        assert 0.0075 < tpr < 0.0125, (attack, tpr)


def test_each_target_is_attacked_with_the_other_models_but_its_complement():
    logits, labels, logits_z, labels_z, masks = stand_in_models(signal=1.0, n_models=6)
    scores = pooled_evaluation.leave_one_out_scores(logits, labels, logits_z, labels_z, masks)
    stat = np.stack([reference_attacks.lira_statistic(lg, labels) for lg in logits])
    for j in range(6):
        assert np.array_equal(masks[j ^ 1], ~masks[j])  # the pairs of reference_in_masks
        others = (np.arange(6) != j) & (np.arange(6) != (j ^ 1))
        direct = reference_attacks.lira_scores(stat[j], stat[others], masks[others], False)
        assert np.array_equal(scores["lira_offline"][j], direct)


def test_pooling_is_one_roc_over_all_targets_and_the_interval_holds_it():
    rng = np.random.default_rng(1)
    masks = rng.random((5, 200)) < 0.5
    scores = rng.normal(size=(5, 200)) + 0.8 * masks
    pooled = pooled_evaluation.pooled_tpr_at_fpr(scores, masks, 0.01)
    by_hand = attack_metrics.tpr_at_fpr(scores[masks], scores[~masks], 0.01).tpr
    assert pooled == by_hand
    per_target = pooled_evaluation.per_target_tpr(scores, masks, 0.01)
    assert per_target.shape == (5,)
    low, high = pooled_evaluation.pooled_tpr_interval(scores, masks, 0.01, n_boot=200, seed=0)
    assert low <= pooled <= high
    assert pooled_evaluation.pooled_tpr_interval(scores, masks, 0.01, n_boot=200, seed=0) == (
        low,
        high,
    )


def test_bad_input():
    masks = np.zeros((3, 10), bool)
    masks[:, :5] = True
    with pytest.raises(ValueError, match="same shape"):
        pooled_evaluation.pooled_tpr_at_fpr(np.zeros((3, 9)), masks, 0.1)
    with pytest.raises(ValueError, match="members and non-members"):
        pooled_evaluation.pooled_tpr_at_fpr(np.zeros((3, 10)), np.ones((3, 10), bool), 0.1)
    no_members = masks.copy()
    no_members[1] = False
    with pytest.raises(ValueError, match="members and non-members"):
        pooled_evaluation.pooled_tpr_at_fpr(np.zeros((3, 10)), no_members, 0.1)
    with pytest.raises(ValueError, match="at least 3 models"):
        pooled_evaluation.leave_one_out_scores(
            np.zeros((2, 10, 3)), np.zeros(10, int), np.zeros((2, 4, 3)), np.zeros(4, int),
            masks[:2],
        )  # fmt: skip
    with pytest.raises(ValueError, match="n_boot"):
        pooled_evaluation.pooled_tpr_interval(np.zeros((3, 10)), masks, 0.1, n_boot=3)
