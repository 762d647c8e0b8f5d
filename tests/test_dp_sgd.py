"""Tests of mlprivacy_helpers.dp_sgd: the Conv2D registry function must give the same
numbers as brute-force per-example gradients, and the fast DPModel the same update as
TF Privacy's own (vectorized_map) clipping path."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_privacy.privacy.fast_gradient_clipping import clip_grads
from tensorflow_privacy.privacy.keras_models.dp_keras_model import DPModel

from mlprivacy_helpers import dp_sgd

layers = tf.keras.layers
LOSS = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _conv_model(**conv_kwargs) -> tf.keras.Model:
    inputs = tf.keras.Input((9, 9, 3))
    h = layers.Conv2D(4, 3, activation="relu", **conv_kwargs)(inputs)
    h = layers.Flatten()(h)
    outputs = layers.Dense(5)(h)
    model = tf.keras.Model(inputs, outputs)
    model.compile(loss=LOSS)
    return model


def _brute_force_norms(model, x, y, group: int = 1) -> np.ndarray:
    """Per-example (or per-group of ``group`` examples, mean loss) gradient norms via tape."""
    norms = []
    for i in range(0, len(x), group):
        with tf.GradientTape() as tape:
            loss = LOSS(y[i : i + group], model(x[i : i + group]))
        grads = tape.gradient(loss, model.trainable_variables)
        norms.append(np.sqrt(sum(float(tf.reduce_sum(g**2)) for g in grads)))
    return np.array(norms)


CONFIGS = [
    {"padding": "valid"},
    {"padding": "same"},
    {"padding": "same", "strides": 2},
    {"padding": "valid", "strides": (2, 1), "use_bias": False},
    {"padding": "same", "dilation_rate": 2},
]


@pytest.mark.parametrize("conv_kwargs", CONFIGS, ids=lambda c: "-".join(map(str, c.values())))
def test_conv2d_norms_match_brute_force(conv_kwargs):
    tf.keras.utils.set_random_seed(0)
    model = _conv_model(**conv_kwargs)
    x = tf.random.normal((6, 9, 9, 3))
    y = tf.constant(np.arange(6) % 5)
    fast = clip_grads.compute_gradient_norms(model, dp_sgd.make_layer_registry(), x, y).numpy()
    np.testing.assert_allclose(fast, _brute_force_norms(model, x, y), rtol=1e-4)
    # Microbatches of 2 examples (mean loss per microbatch).
    fast_mb = clip_grads.compute_gradient_norms(
        model, dp_sgd.make_layer_registry(), x, y, num_microbatches=3
    ).numpy()
    np.testing.assert_allclose(fast_mb, _brute_force_norms(model, x, y, group=2), rtol=1e-4)


def test_norms_of_cifar_cnn_match_brute_force():
    tf.keras.utils.set_random_seed(1)
    model = dp_sgd.dp_cifar10_cnn(l2_norm_clip=1.0, noise_multiplier=0.0)
    model.compile(optimizer="sgd", loss=LOSS)
    x = tf.random.uniform((4, 32, 32, 3))
    y = tf.constant([0, 3, 7, 9])
    fast = clip_grads.compute_gradient_norms(model, dp_sgd.make_layer_registry(), x, y).numpy()
    np.testing.assert_allclose(fast, _brute_force_norms(model, x, y), rtol=1e-4)


def _small_cnn() -> tf.keras.Model:
    return tf.keras.Sequential(
        [
            tf.keras.Input((8, 8, 3)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(6, 2, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(8, activation="relu"),
            layers.Dense(3),
        ]
    )


def test_fast_dp_step_matches_library_reference_path():
    """One DP-SGD step (no noise) with our registry equals TF Privacy's own slow path."""
    tf.keras.utils.set_random_seed(2)
    base = _small_cnn()
    x = np.random.default_rng(0).normal(size=(8, 8, 8, 3)).astype("float32") * 3
    y = np.arange(8) % 3
    weights = base.get_weights()
    models = {}
    for name, registry in (("fast", dp_sgd.make_layer_registry()), ("reference", None)):
        model = DPModel(
            l2_norm_clip=0.5,
            noise_multiplier=0.0,
            use_xla=False,
            layer_registry=registry,
            inputs=base.inputs,
            outputs=base.outputs,
        )
        model.set_weights(weights)
        model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=1.0), loss=LOSS)
        model.train_on_batch(x, y)
        models[name] = model.get_weights()
    assert dp_sgd.uses_fast_clipping(dp_sgd.make_dp_model(_small_cnn(), 0.5, 0.0)), (
        "all layers are registered, the fast path must be taken"
    )
    # Clipping must have been active, or the test would not test it.
    norms = _brute_force_norms(base, x, y)
    assert norms.max() > 0.5
    for fast, ref, before in zip(models["fast"], models["reference"], weights, strict=True):
        assert not np.allclose(fast, before)
        np.testing.assert_allclose(fast, ref, rtol=1e-4, atol=1e-6)


def test_clipped_gradients_match_brute_force_clipping():
    tf.keras.utils.set_random_seed(3)
    model = dp_sgd.make_dp_model(_small_cnn(), l2_norm_clip=0.3, noise_multiplier=0.0)
    model.compile(optimizer="sgd", loss=LOSS)
    x = tf.random.normal((5, 8, 8, 3)) * 2
    y = tf.constant([0, 1, 2, 0, 1])
    grads, _, _ = clip_grads.compute_clipped_gradients_and_outputs(
        model, 0.3, dp_sgd.make_layer_registry(), x, y
    )
    expected = [np.zeros(v.shape) for v in model.trainable_variables]
    for i in range(5):
        with tf.GradientTape() as tape:
            loss = LOSS(y[i : i + 1], model(x[i : i + 1]))
        g = tape.gradient(loss, model.trainable_variables)
        norm = np.sqrt(sum(float(tf.reduce_sum(t**2)) for t in g))
        for acc, t in zip(expected, g, strict=True):
            acc += t.numpy() * min(1.0, 0.3 / norm) / 5
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-7)


def test_unregistered_layer_falls_back_to_slow_path():
    base = tf.keras.Sequential(
        [tf.keras.Input((4, 4, 1)), layers.Conv2D(2, 2), layers.Flatten(), layers.Dense(2)]
    )
    registry = dp_sgd.make_layer_registry()
    assert dp_sgd.uses_fast_clipping(dp_sgd.make_dp_model(base, 1.0, 1.0, layer_registry=registry))
    bn = tf.keras.Sequential(
        [tf.keras.Input((4, 4, 1)), layers.Conv2D(2, 2), layers.BatchNormalization()]
    )
    assert not dp_sgd.uses_fast_clipping(dp_sgd.make_dp_model(bn, 1.0, 1.0))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="l2_norm_clip"):
        dp_sgd.make_dp_model(_small_cnn(), 0.0, 1.0)
    with pytest.raises(ValueError, match="noise_multiplier"):
        dp_sgd.make_dp_model(_small_cnn(), 1.0, -1.0)
    with pytest.raises(TypeError, match="base"):
        dp_sgd.make_dp_model("cnn", 1.0, 1.0)
    conv = layers.Conv2D(2, 2, data_format="channels_first")
    conv.build((None, 1, 4, 4))
    with pytest.raises(NotImplementedError, match="channels_last"):
        dp_sgd.conv2d_layer_computation(conv, (tf.zeros((1, 1, 4, 4)),), {}, tf.GradientTape())
