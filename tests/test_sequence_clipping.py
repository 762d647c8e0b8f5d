"""mlprivacy_helpers.dp_sgd.sequence_clipping: per-example norms and clipped gradients of a
model whose examples are sequences equal brute-force per-example gradients, and TF Privacy's
own Dense function does not (it can come out below the true norm)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_privacy.privacy.fast_gradient_clipping import clip_grads

from mlprivacy_helpers import dp_sgd
from mlprivacy_helpers.dp_sgd import sequence_clipping as sc

layers = tf.keras.layers
VOCAB, CONTEXT, POSITIONS = 13, 4, 6


def _sequence_model(use_bias: bool = True) -> tf.keras.Model:
    """Notebook 05's shape of model: each position's context -> embedding -> MLP -> logits."""
    windows = tf.keras.Input((POSITIONS, CONTEXT), dtype="int32")
    h = layers.Embedding(VOCAB, 3)(windows)
    h = layers.Reshape((POSITIONS, CONTEXT * 3))(h)
    h = layers.Dense(8, activation="relu", use_bias=use_bias)(h)
    logits = layers.Dense(VOCAB, use_bias=use_bias)(h)
    model = tf.keras.Model(windows, logits)
    model.compile(loss=sc.SequenceCrossEntropy())
    return model


def _data(n: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, (n, POSITIONS, CONTEXT)).astype("int32")
    x[0] = 3  # one example whose positions all see the same context
    return x, rng.integers(0, VOCAB, (n, POSITIONS))


def _brute_force_gradients(model: tf.keras.Model, x, y) -> list[list[np.ndarray]]:
    loss = sc.SequenceCrossEntropy()
    out = []
    for i in range(len(x)):
        with tf.GradientTape() as tape:
            value = loss(y[i : i + 1], model(x[i : i + 1]))
        grads = tape.gradient(value, model.trainable_variables)
        out.append([tf.convert_to_tensor(g).numpy() for g in grads])
    return out


def _norms(gradients: list[list[np.ndarray]]) -> np.ndarray:
    return np.array([np.sqrt(sum(float(np.sum(g**2)) for g in grads)) for grads in gradients])


@pytest.mark.parametrize("use_bias", [True, False])
def test_sequence_norms_equal_brute_force_and_tf_privacys_do_not(use_bias):
    tf.keras.utils.set_random_seed(0)
    model = _sequence_model(use_bias)
    x, y = _data()
    exact = _norms(_brute_force_gradients(model, x, y))
    fast = clip_grads.compute_gradient_norms(model, sc.make_sequence_layer_registry(), x, y)
    np.testing.assert_allclose(fast.numpy(), exact, rtol=1e-4)
    theirs = clip_grads.compute_gradient_norms(model, dp_sgd.make_layer_registry(), x, y).numpy()
    if use_bias:
        # The bias term counts sum_t |g_t|^2 for |sum_t g_t|^2: below the true norm here,
        # which would clip too little (measured: 0.489 against 0.574 for the first example).
        assert np.any(theirs < exact * 0.95), (theirs, exact)
    else:
        # Without a bias, Cauchy-Schwarz makes TF Privacy's an upper bound, not the norm.
        assert np.all(theirs >= exact * (1 - 1e-5)) and np.any(theirs > exact * 1.05)


def test_one_position_is_tf_privacys_dense_function():
    tf.keras.utils.set_random_seed(1)
    inputs = tf.keras.Input((5,))
    model = tf.keras.Model(inputs, layers.Dense(4)(layers.Dense(6, activation="tanh")(inputs)))
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(1).normal(size=(9, 5)).astype("float32")
    y = np.arange(9) % 4
    ours = clip_grads.compute_gradient_norms(model, sc.make_sequence_layer_registry(), x, y)
    theirs = clip_grads.compute_gradient_norms(model, dp_sgd.make_layer_registry(), x, y)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)


def test_clipped_gradients_equal_brute_force_clipping():
    tf.keras.utils.set_random_seed(2)
    model = _sequence_model()
    x, y = _data(n=5, seed=2)
    per_example = _brute_force_gradients(model, x, y)
    norms = _norms(per_example)
    clip = float(np.median(norms))  # some examples clipped, some not
    grads, _, _ = clip_grads.compute_clipped_gradients_and_outputs(
        model, clip, sc.make_sequence_layer_registry(), tf.constant(x), tf.constant(y)
    )
    for k, got in enumerate(grads):
        want = sum(g[k] * min(1.0, clip / n) for g, n in zip(per_example, norms, strict=True))
        np.testing.assert_allclose(tf.convert_to_tensor(got).numpy(), want / len(x), atol=1e-6)


def test_a_poisson_dp_model_of_sequences_takes_the_fast_path():
    model = dp_sgd.make_poisson_dp_model(
        _sequence_model(),
        l2_norm_clip=1.0,
        noise_multiplier=1.0,
        expected_batch_size=4,
        layer_registry=sc.make_sequence_layer_registry(),
    )
    assert dp_sgd.uses_fast_clipping(model)


def test_sequence_cross_entropy_is_one_loss_per_sequence():
    logits = np.log(np.array([[[0.5, 0.5], [0.25, 0.75]], [[1.0, 1e-9], [1.0, 1e-9]]]))
    labels = np.array([[0, 1], [0, 0]])
    per_sequence = sc.SequenceCrossEntropy(reduction="none")(labels, logits).numpy()
    np.testing.assert_allclose(per_sequence, [(np.log(2) + np.log(4 / 3)) / 2, 0.0], atol=1e-6)
    mean = sc.SequenceCrossEntropy()(labels, logits).numpy()
    np.testing.assert_allclose(mean, per_sequence.mean(), rtol=1e-6)


def test_bad_calls_raise():
    tape = tf.GradientTape()
    dense = layers.Dense(2)
    with pytest.raises(TypeError, match="Dense"):
        sc.dense_sequence_layer_computation(layers.Embedding(3, 2), (np.zeros((1, 2)),), {}, tape)
    with pytest.raises(ValueError, match="microbatches|whole examples"):
        sc.dense_sequence_layer_computation(dense, (np.zeros((1, 2)),), {}, tape, 2)
    with pytest.raises(ValueError, match="kwargs"):
        sc.dense_sequence_layer_computation(dense, (np.zeros((1, 2)),), {"training": True}, tape)
