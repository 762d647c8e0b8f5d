"""The model cache: hits reuse weights, any changed setting misses."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from mlprivacy_helpers import cache, training


def tiny_data(n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return x, y


def build(lr: float = 0.1):
    def _build():
        model = tf.keras.Sequential([tf.keras.layers.Input((4,)), tf.keras.layers.Dense(2)])
        model.compile(
            tf.keras.optimizers.SGD(lr),
            tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        return model

    return _build


def train(**overrides):
    x, y = tiny_data()
    kwargs = {"epochs": 2, "batch_size": 16, "seed": 0, "validation_data": (x[:8], y[:8])}
    kwargs.update(overrides)
    lr = kwargs.pop("lr", 0.1)
    xs = kwargs.pop("x", x)
    return training.train_cached("tiny", build(lr), xs, y, **kwargs)


def test_second_run_is_a_cache_hit_with_identical_weights():
    model, history = train()
    assert history["cached"] is False
    assert len(history["epoch_seconds"]) == 2 and len(history["val_loss"]) == 2
    again, history2 = train()
    assert history2["cached"] is True
    assert history2["loss"] == history["loss"]
    for w1, w2 in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)


@pytest.mark.parametrize(
    "change",
    [{"epochs": 3}, {"seed": 1}, {"batch_size": 8}, {"lr": 0.05}, {"key_extra": {"note": 1}}],
    ids=["epochs", "seed", "batch_size", "optimizer", "key_extra"],
)
def test_a_changed_setting_misses_the_cache(change):
    _, first = train()
    assert first["cached"] is False
    _, changed = train(**change)
    assert changed["cached"] is False


def test_changed_data_misses_the_cache():
    train()
    x, _ = tiny_data()
    x = x.copy()
    x[0, 0] += 1.0
    _, history = train(x=x)
    assert history["cached"] is False


def test_cache_off_never_stores(monkeypatch, tmp_path):
    monkeypatch.setenv("MLPRIVACY_CACHE", "off")
    assert cache.cache_dir() is None
    train()
    _, history = train()
    assert history["cached"] is False


def test_callback_logs_are_recorded_and_survive_a_cache_hit():
    class Marker(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["marker"] = 10.0 + epoch

    _, history = train(callbacks=[Marker()])
    assert history["marker"] == [10.0, 11.0]
    _, cached = train(callbacks=[Marker()])
    assert cached["cached"] is True and cached["marker"] == [10.0, 11.0]


def test_cache_key_depends_on_parts_and_library_versions(monkeypatch):
    key = cache.cache_key({"a": 1, "b": [1, 2]})
    assert key == cache.cache_key({"b": [1, 2], "a": 1})
    assert key != cache.cache_key({"a": 2, "b": [1, 2]})
    monkeypatch.setattr(cache, "library_versions", lambda: {"tensorflow": "9.9"})
    assert key != cache.cache_key({"a": 1, "b": [1, 2]})
    with pytest.raises(TypeError, match="parts"):
        cache.cache_key([1])


def test_fingerprint_sees_values_dtype_and_shape():
    a = np.arange(6, dtype=np.uint8)
    assert cache.fingerprint(a) == cache.fingerprint(a.copy())
    assert cache.fingerprint(a) != cache.fingerprint(a.reshape(2, 3))
    assert cache.fingerprint(a) != cache.fingerprint(a.astype(np.int16))
    b = a.copy()
    b[3] = 0
    assert cache.fingerprint(a) != cache.fingerprint(b)


def test_model_description_ignores_keras_layer_numbering():
    assert training.model_description(build()()) == training.model_description(build()())


def test_train_cached_rejects_bad_arguments():
    x, y = tiny_data()
    with pytest.raises(ValueError, match="epochs"):
        training.train_cached("t", build(), x, y, epochs=0, batch_size=4, seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        training.train_cached("t", build(), x, y, epochs=1, batch_size=2.0, seed=0)
    with pytest.raises(ValueError, match="same length"):
        training.train_cached("t", build(), x, y[:-1], epochs=1, batch_size=4, seed=0)

    def uncompiled():
        return tf.keras.Sequential([tf.keras.layers.Input((4,)), tf.keras.layers.Dense(2)])

    with pytest.raises(ValueError, match="compiled"):
        training.train_cached("t", uncompiled, x, y, epochs=1, batch_size=4, seed=0)
