"""Tests of mlprivacy_helpers.membership and mlprivacy_helpers.plotting.membership."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (  # noqa: E402
    membership_inference_attack as mia,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (  # noqa: E402
    AttackType,
    SlicingSpec,
)

from mlprivacy_helpers import membership  # noqa: E402
from mlprivacy_helpers.plotting import membership as mplot  # noqa: E402


def _data(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0).astype("int64")
    return x, y.reshape(-1, 1)


def _model() -> tf.keras.Model:
    model = tf.keras.Sequential(
        [
            tf.keras.Input((6,)),
            tf.keras.layers.Dense(32, activation="relu"),
            tf.keras.layers.Dense(3),
        ]
    )
    model.compile(
        "adam",
        tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_logits_and_losses_match_keras_loss():
    tf.keras.utils.set_random_seed(0)
    model = _model()
    x, y = _data()
    logits, losses = membership.logits_and_losses(model, x, y)
    assert logits.shape == (120, 3) and losses.shape == (120,)
    expected = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(
        y, model(x)
    )
    np.testing.assert_allclose(losses, expected.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        membership.logits_and_losses(model, x, y[:5])
    with pytest.raises(TypeError, match="model"):
        membership.logits_and_losses("model", x, y)


def test_seeded_numpy_is_reproducible_and_restores_state():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    with membership.seeded_numpy(7):
        a = np.random.permutation(10)
    with membership.seeded_numpy(7):
        b = np.random.permutation(10)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    with pytest.raises(TypeError, match="seed"):
        with membership.seeded_numpy(1.5):
            pass


def test_callback_writes_library_numbers_into_history():
    tf.keras.utils.set_random_seed(0)
    x, y = _data(200)
    members, non_members = (x[:100], y[:100]), (x[100:], y[100:])
    callback = membership.EpochAttackCallback(members, non_members, seed=3)
    model = _model()
    history = model.fit(*members, epochs=3, batch_size=16, verbose=0, callbacks=[callback])
    for key in (
        "mia_logistic_regression_auc",
        "mia_logistic_regression_advantage",
        "mia_threshold_attack_auc",
        "mia_train_accuracy",
        "mia_test_loss",
    ):
        assert len(history.history[key]) == 3, key
    assert all(0.0 <= v <= 1.0 for v in history.history["mia_logistic_regression_auc"])
    # Same numbers as TF Privacy's own run_attacks on the final model with the same seed.
    with membership.seeded_numpy(3 + 2):
        results = mia.run_attacks(
            callback.attack_input(),
            SlicingSpec(entire_dataset=True),
            attack_types=(AttackType.THRESHOLD_ATTACK, AttackType.LOGISTIC_REGRESSION),
        )
    by_type = {r.attack_type: r for r in results.single_attack_results}
    assert history.history["mia_logistic_regression_auc"][-1] == pytest.approx(
        by_type[AttackType.LOGISTIC_REGRESSION].get_auc()
    )
    assert history.history["mia_threshold_attack_advantage"][-1] == pytest.approx(
        by_type[AttackType.THRESHOLD_ATTACK].get_attacker_advantage()
    )
    acc = np.mean(np.argmax(model.predict(x[:100], verbose=0), axis=1) == y[:100, 0])
    assert history.history["mia_train_accuracy"][-1] == pytest.approx(acc)


def test_callback_rejects_bad_input():
    x, y = _data(20)
    with pytest.raises(ValueError, match="members"):
        membership.EpochAttackCallback((x, y[:3]), (x, y))
    with pytest.raises(TypeError, match="AttackType"):
        membership.EpochAttackCallback((x, y), (x, y), attack_types=("lr",))


HISTORY = {
    "mia_train_accuracy": [0.4, 0.6, 0.8],
    "mia_test_accuracy": [0.38, 0.5, 0.55],
    "mia_train_loss": [1.6, 1.1, 0.6],
    "mia_test_loss": [1.7, 1.3, 1.35],
    "mia_logistic_regression_auc": [0.5, 0.55, 0.6],
    "mia_threshold_attack_auc": [0.5, 0.54, 0.59],
}


def test_training_curves_figure():
    fig = mplot.training_curves(HISTORY)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title() == "accuracy: train 0.80 vs test 0.55"
    assert len(fig.axes[1].lines) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="mia_train_accuracy"):
        mplot.training_curves({})


def test_auc_vs_epoch_figure():
    fig = mplot.auc_vs_epoch(HISTORY)
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), [0.02, 0.1, 0.25])
    assert len(fig.axes[0].lines) == 3  # two attacks + chance line
    plt.close(fig)


def test_auc_by_slice_figure():
    fig = mplot.auc_by_slice(
        ["Entire dataset", "CLASS=0", "CORRECTLY_CLASSIFIED=False"],
        {"LR": [0.6, 0.55, 0.7], "threshold": [0.58, 0.52, np.nan]},
    )
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.get_yticklabels()][2] == "CORRECTLY_CLASSIFIED=False"
    plt.close(fig)
    with pytest.raises(ValueError, match="LR"):
        mplot.auc_by_slice(["a"], {"LR": [0.5, 0.6]})


def test_roc_overlay_and_side_by_side():
    fig = mplot.roc_overlay(
        {"plain": (np.array([0, 0.2, 1.0]), np.array([0, 0.6, 1.0])), "dp": ([0, 1], [0, 1])}
    )
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["chance", "plain (AUC 0.700)", "dp (AUC 0.500)"]
    plt.close(fig)
    fig = mplot.side_by_side(
        {"test accuracy": {"plain": 0.6, "DP": 0.4}, "AUC": {"plain": 0.6, "DP": 0.5}}
    )
    assert [ax.get_title() for ax in fig.axes] == ["test accuracy", "AUC"]
    assert len(fig.axes[0].patches) == 2
    plt.close(fig)
