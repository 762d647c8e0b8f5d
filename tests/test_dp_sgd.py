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


# --- Poisson sampling -----------------------------------------------------------------


def test_uses_fast_clipping_fails_loudly_without_the_private_flag():
    model = dp_sgd.make_dp_model(_small_cnn(), 1.0, 1.0)
    assert dp_sgd.uses_fast_clipping(model)
    object.__delattr__(model, "_enable_fast_peg_computation")
    with pytest.raises(RuntimeError, match="_enable_fast_peg_computation"):
        dp_sgd.uses_fast_clipping(model)
    with pytest.raises(TypeError, match="DPModel"):
        dp_sgd.uses_fast_clipping(_small_cnn())


def test_poisson_sampler_inclusion_rate_and_independence():
    n, expected, steps = 200, 20, 4000
    q = expected / n
    sampler = dp_sgd.PoissonSampler(n, expected, rng=0)
    member = np.zeros((steps, n), dtype=bool)
    for t in range(steps):
        member[t, sampler.sample()] = True
    # Inclusion rate q, overall and per example (binomial standard errors).
    assert abs(member.mean() - q) < 4 * np.sqrt(q * (1 - q) / member.size)
    assert np.abs(member.mean(axis=0) - q).max() < 5 * np.sqrt(q * (1 - q) / steps)
    # Batch size ~ Binomial(n, q): mean nq, variance nq(1-q) (fixed batches: variance 0).
    sizes = member.sum(axis=1)
    assert abs(sizes.mean() - n * q) < 4 * np.sqrt(n * q * (1 - q) / steps)
    assert abs(sizes.var() / (n * q * (1 - q)) - 1) < 0.1
    # Independence between examples: P(i and j in the same batch) = q^2 (sampling a fixed
    # batch without replacement would give q (nq - 1) / (n - 1), 4.5 % less here) ...
    pair = ((sizes.astype(float) ** 2 - sizes).sum()) / (steps * n * (n - 1))
    assert abs(pair / q**2 - 1) < 0.02
    corr = np.corrcoef(member.T)[np.triu_indices(n, 1)]
    assert np.abs(corr).max() < 5.5 / np.sqrt(steps) and abs(corr.mean()) < 0.002
    # ... and between steps: being in step t says nothing about step t + 1.
    both = (member[1:] & member[:-1]).mean()
    assert abs(both / q**2 - 1) < 0.05
    # A fresh sampler with the same seed draws the same batches; draws never replay.
    again = dp_sgd.PoissonSampler(n, expected, rng=0)
    np.testing.assert_array_equal(again.sample(), np.flatnonzero(member[0]))
    assert not np.array_equal(again.sample(), again.sample())


def test_poisson_sampler_pads_with_zero_weight_rows():
    sampler = dp_sgd.PoissonSampler(50, 10, rng=1, pad_multiple=8)
    assert [sampler.padded_size(s) for s in (0, 1, 8, 9)] == [8, 8, 8, 16]
    assert dp_sgd.PoissonSampler(50, 10).padded_size(0) == 1  # an empty batch is still a step
    x = np.arange(50 * 2, dtype=np.float32).reshape(50, 2) + 1
    y = np.arange(50).reshape(50, 1)
    for _ in range(20):
        xb, yb, w = sampler.batch(x, y)
        k = int(w.sum())
        assert len(xb) % 8 == 0 and len(xb) >= max(k, 1)
        np.testing.assert_array_equal(w, np.r_[np.ones(k), np.zeros(len(xb) - k)])
        np.testing.assert_array_equal(xb[:k], x[yb[:k, 0]])  # real rows are examples
        assert not xb[k:].any()


def _poisson_model(expected_batch_size=4, noise=0.0, clip=0.5, **kwargs):
    model = dp_sgd.make_poisson_dp_model(
        _small_cnn(), clip, noise, expected_batch_size, sampling_seed=0, **kwargs
    )
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=1.0), loss=LOSS)
    return model


def test_poisson_step_divides_clipped_sum_by_expected_batch_size_and_padding_adds_nothing():
    """The update is (sum of clipped gradients) / expected batch size, and zero-weight
    padding rows -- filled with large random values here -- change nothing."""
    tf.keras.utils.set_random_seed(4)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 8, 8, 3)).astype("float32") * 3
    y = np.array([[0], [1], [2]])
    pad_x = rng.normal(size=(5, 8, 8, 3)).astype("float32") * 50
    pad_y = np.array([[2], [1], [0], [1], [2]])
    model = _poisson_model(expected_batch_size=4, clip=0.5)
    start = model.get_weights()
    # Brute force: sum of per-example gradients clipped to 0.5, divided by 4 (not 3).
    expected_grads = [np.zeros(w.shape) for w in start]
    for i in range(3):
        with tf.GradientTape() as tape:
            loss = LOSS(y[i : i + 1], model(x[i : i + 1]))
        g = tape.gradient(loss, model.trainable_variables)
        norm = float(tf.linalg.global_norm(g))
        assert norm > 0.5, "clipping must be active for the test to test it"
        for acc, t in zip(expected_grads, g, strict=True):
            acc += t.numpy() * min(1.0, 0.5 / norm) / 4
    updates = {}
    for name, (xb, yb, wb) in {
        "unpadded": (x, y, np.ones(3, np.float32)),
        "padded": (np.r_[x, pad_x], np.r_[y, pad_y], np.r_[np.ones(3), np.zeros(5)]),
    }.items():
        model.set_weights(start)
        model.train_on_batch(xb, yb, sample_weight=wb.astype(np.float32))
        updates[name] = [b - a for a, b in zip(start, model.get_weights(), strict=True)]
    for padded, unpadded, want in zip(
        updates["padded"], updates["unpadded"], expected_grads, strict=True
    ):
        np.testing.assert_allclose(padded, unpadded, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(-unpadded, want, rtol=1e-4, atol=1e-7)


def test_empty_poisson_batch_is_a_step_that_adds_only_noise():
    tf.keras.utils.set_random_seed(5)
    x, y, w = np.ones((1, 8, 8, 3), np.float32), np.array([[1]]), np.zeros(1, np.float32)
    silent = _poisson_model(noise=0.0)
    start = silent.get_weights()
    silent.train_on_batch(x, y, sample_weight=w)
    for a, b in zip(start, silent.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    noisy = _poisson_model(noise=1.0, clip=1.0, expected_batch_size=4)
    noisy.set_weights(start)
    noisy.train_on_batch(x, y, sample_weight=w)
    after = noisy.get_weights()
    delta = np.concatenate([(b - a).ravel() for a, b in zip(start, after, strict=True)])
    # Noise N(0, (sigma C / expected batch size)^2) = N(0, 0.25^2) per coordinate.
    assert abs(delta.std() / 0.25 - 1) < 0.1


class _TracedPoissonDPModel(dp_sgd.PoissonDPModel):
    traces = 0

    def train_step(self, data):
        type(self).traces += 1  # Python side effect: runs once per trace
        return super().train_step(data)


def _fit_poisson(epochs, n=60, expected=6, cls=dp_sgd.PoissonDPModel, callbacks=()):
    tf.keras.utils.set_random_seed(6)
    base = _small_cnn()
    model = cls(1.0, 1.0, expected, sampling_seed=0, inputs=base.inputs, outputs=base.outputs)
    model.compile(tf.keras.optimizers.Adam(1e-3), LOSS, metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 8, 8, 3)).astype("float32")
    y = (np.arange(n) % 3).reshape(-1, 1)
    history = model.fit(x, y, batch_size=expected, epochs=epochs, callbacks=list(callbacks))
    return model, history.history


def test_train_step_is_not_retraced_for_new_batch_sizes():
    _TracedPoissonDPModel.traces = 0
    model, _ = _fit_poisson(1, cls=_TracedPoissonDPModel)
    # tf.function traces twice on its first call when it creates variables (Adam's slots).
    traces = _TracedPoissonDPModel.traces
    assert traces <= 2
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 8, 8, 3)).astype("float32")
    history = model.fit(x, (np.arange(60) % 3).reshape(-1, 1), batch_size=6, epochs=3).history
    sizes = [history["batch_size_mean"], history["batch_size_sq_mean"]]
    mean, std = dp_sgd.realised_batch_sizes(history)
    assert std > 0.5 and len(set(sizes[0])) > 1, "batch sizes must vary for the test to test it"
    assert abs(mean - 6) < 2
    assert _TracedPoissonDPModel.traces == traces, "a new batch size retraced the step"
    assert model.get_weights()[0].shape == model.trainable_variables[0].shape
    assert len(model.get_weights()) == len(model.trainable_variables)  # no metric state


class _CountSteps(tf.keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1


def test_steps_given_to_the_accountant_equal_the_steps_taken():
    counter = _CountSteps()
    model, history = _fit_poisson(2, n=60, expected=7, callbacks=[counter])
    steps = dp_sgd.steps_taken(history)
    assert steps == counter.steps == int(model.optimizer.iterations) == 2 * 9  # ceil(60/7)
    assert history["dp_steps"] == [9, 18]


def test_poisson_model_is_cached_under_its_own_key(monkeypatch, tmp_path):
    from mlprivacy_helpers import training

    monkeypatch.setenv("MLPRIVACY_CACHE", str(tmp_path))
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 8, 8, 3)).astype("float32")
    y = (np.arange(40) % 3).reshape(-1, 1)

    def build(poisson):
        def _build():
            base = _small_cnn()
            if poisson:
                model = dp_sgd.make_poisson_dp_model(base, 1.0, 1.0, 8, sampling_seed=0)
            else:
                model = dp_sgd.make_dp_model(base, 1.0, 1.0)
            model.compile(tf.keras.optimizers.Adam(1e-3), LOSS)
            return model

        return _build

    def train(poisson):
        return training.train_cached(
            "dp", build(poisson), x, y, epochs=2, batch_size=8, seed=0, key_extra={"clip": 1.0}
        )

    model, first = train(True)
    again, second = train(True)
    assert (first["cached"], second["cached"]) == (False, True)
    assert dp_sgd.steps_taken(second) == dp_sgd.steps_taken(first) == 10
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    _, fixed = train(False)  # same settings, shuffled fixed batches: a different model
    assert fixed["cached"] is False


def test_poisson_model_refuses_what_would_break_the_accounting():
    bn = tf.keras.Sequential(
        [tf.keras.Input((4, 4, 1)), layers.Conv2D(2, 2), layers.BatchNormalization()]
    )
    with pytest.raises(ValueError, match="fast clipping"):
        dp_sgd.make_poisson_dp_model(bn, 1.0, 1.0, 4)
    model = _poisson_model(expected_batch_size=4)
    x, y = np.zeros((20, 8, 8, 3), np.float32), np.zeros((20, 1), np.int64)
    with pytest.raises(ValueError, match="expected_batch_size"):
        model.fit(x, y, batch_size=5)
    with pytest.raises(TypeError, match="shuffle"):
        model.fit(x, y, batch_size=4, shuffle=False)
    with pytest.raises(ValueError, match="exceeds"):
        dp_sgd.PoissonSampler(3, 4)
    with pytest.raises(ValueError, match="pad_multiple"):
        dp_sgd.PoissonSampler(10, 4, pad_multiple=0)
    with pytest.raises(ValueError, match="dp_steps"):
        dp_sgd.steps_taken({"loss": [1.0]})
