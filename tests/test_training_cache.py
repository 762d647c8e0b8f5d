"""The model cache: hits reuse weights, any changed setting misses."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import subprocess
import sys
import warnings
from pathlib import Path

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


class Marker(tf.keras.callbacks.Callback):
    """Records ``offset + epoch`` into the logs; ``offset`` is its (keyed) input."""

    def __init__(self, offset: float = 10.0):
        super().__init__()
        self.offset = offset

    def on_epoch_end(self, epoch, logs=None):
        logs["marker"] = self.offset + epoch

    def cache_key(self):
        return {"offset": self.offset}


def test_callback_logs_are_recorded_and_survive_a_cache_hit():
    _, history = train(callbacks=[Marker()])
    assert history["marker"] == [10.0, 11.0]
    _, cached = train(callbacks=[Marker()])
    assert cached["cached"] is True and cached["marker"] == [10.0, 11.0]


def test_a_changed_callback_input_misses_the_cache():
    train(callbacks=[Marker(10.0)])
    _, history = train(callbacks=[Marker(20.0)])
    assert history["cached"] is False and history["marker"] == [20.0, 21.0]


def test_a_callback_without_cache_key_is_refused_before_training():
    class Unkeyed(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["unkeyed"] = 1.0

    with pytest.raises(TypeError, match="cache_key"):
        train(callbacks=[Unkeyed()])


def test_changed_non_members_of_the_attack_callback_miss_the_cache():
    # Issue #9: the non-member set was not part of the key, so a cache hit returned the
    # mia_* history (and test accuracy) measured on the old non-members.
    from mlprivacy_helpers import membership

    x, y = tiny_data(96)
    members = (x[:32], y[:32])

    def run(non_members):
        callback = membership.EpochAttackCallback(members, non_members, seed=0)
        return training.train_cached(
            "mia", build(), *members, epochs=2, batch_size=16, seed=0, callbacks=[callback]
        )[1]

    first = run((x[32:64], y[32:64]))
    assert first["cached"] is False
    assert run((x[32:64], y[32:64]))["cached"] is True
    other = run((x[64:], y[64:]))
    assert other["cached"] is False
    assert other["mia_test_accuracy"] != first["mia_test_accuracy"]


# --- damaged entries, unusable cache locations, failed saves ---------------------------


@contextlib.contextmanager
def warns_cache_warning(match: str):
    """Like pytest.warns(CacheWarning, match=...), but leaves other warnings to the
    configured filters (pytest.warns shows every warning raised inside its block)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", cache.CacheWarning)
        yield
    ours = [w for w in caught if issubclass(w.category, cache.CacheWarning)]
    assert any(re.search(match, str(w.message)) for w in ours), (
        f"no CacheWarning matching {match!r}; got {[str(w.message) for w in ours]}"
    )
    for w in caught:
        if w not in ours:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def entries(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if not p.name.startswith("."))


def only_entry() -> Path:
    (entry,) = entries(cache.cache_dir())
    return entry


def hidden(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize(
    "damage",
    [
        ("weights.h5", "truncate"),
        ("weights.h5", b"this is not an HDF5 file"),
        ("history.json", b"{not json"),
        ("history.json", b"[1, 2, 3]"),
    ],
    ids=["truncated-weights", "garbage-weights", "garbage-history", "history-not-a-dict"],
)
def test_a_damaged_entry_is_reported_and_retrained(damage):
    model, history = train()
    entry = only_entry()
    filename, content = damage
    path = entry / filename
    if content == "truncate":
        content = path.read_bytes()[: path.stat().st_size // 3]
    path.write_bytes(content)

    with warns_cache_warning(re.escape(str(entry))):
        again, retrained = train()
    assert retrained["cached"] is False
    assert retrained["loss"] == history["loss"]  # retrained from the same seed
    for w1, w2 in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)
    _, third = train()  # the entry was rewritten
    assert third["cached"] is True
    assert hidden(cache.cache_dir()) == []


@pytest.fixture
def refuse_writes(monkeypatch):
    """Make a folder read-only: chmod 0o555, and, where that does not stop us (root),
    refuse os.mkdir inside it with the PermissionError the kernel would give."""
    folders: list[Path] = []
    real_mkdir = os.mkdir

    def mkdir(path, mode=0o777, *, dir_fd=None):
        target = Path(os.fspath(path)).absolute()
        if any(target.is_relative_to(f) for f in folders):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_mkdir(path, mode, dir_fd=dir_fd)

    def make_read_only(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o555)
        if os.access(folder, os.W_OK):
            folders.append(folder.absolute())
            monkeypatch.setattr(os, "mkdir", mkdir)
        return folder

    yield make_read_only
    for folder in folders:
        folder.chmod(0o755)


class FitSpy(tf.keras.callbacks.Callback):
    started = False

    def on_train_begin(self, logs=None):
        FitSpy.started = True

    def cache_key(self):
        return {}


def test_a_read_only_cache_fails_before_training(refuse_writes, tmp_path, monkeypatch):
    root = refuse_writes(tmp_path / "read-only-cache")
    monkeypatch.setenv("MLPRIVACY_CACHE", str(root))
    FitSpy.started = False
    with pytest.raises(cache.CacheUnavailableError) as info:
        train(callbacks=[FitSpy()])
    assert not FitSpy.started, "training must not start when its result cannot be cached"
    message = str(info.value)
    assert "MLPRIVACY_CACHE" in message and "MLPRIVACY_CACHE=off" in message
    assert str(root) in message


def test_a_cache_path_that_is_a_file_fails_before_training(tmp_path, monkeypatch):
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    monkeypatch.setenv("MLPRIVACY_CACHE", str(path))
    FitSpy.started = False
    with pytest.raises(cache.CacheUnavailableError, match="MLPRIVACY_CACHE=off"):
        train(callbacks=[FitSpy()])
    assert not FitSpy.started
    monkeypatch.setenv("MLPRIVACY_CACHE", str(path / "below-a-file"))
    with pytest.raises(cache.CacheUnavailableError, match="MLPRIVACY_CACHE"):
        train()


def test_a_read_only_cache_still_serves_its_entries(refuse_writes):
    _, history = train()
    refuse_writes(cache.cache_dir())
    _, again = train()
    assert again["cached"] is True and again["loss"] == history["loss"]


def test_a_failed_save_warns_and_returns_the_trained_model(monkeypatch):
    def disk_full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tf.keras.Model, "save_weights", disk_full)
    with warns_cache_warning("No space left"):
        model, history = train()
    assert history["cached"] is False and len(history["loss"]) == 2
    x, y = tiny_data()
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(history["loss"][-1], rel=0.5)
    root = cache.cache_dir()
    assert entries(root) == [] and hidden(root) == []


def test_entries_are_group_shareable_within_the_umask():
    previous = os.umask(0o002)
    try:
        train()
    finally:
        os.umask(previous)
    entry = only_entry()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o775
    for name in ("weights.h5", "history.json"):
        assert stat.S_IMODE((entry / name).stat().st_mode) == 0o664, name


def test_a_private_umask_is_respected(monkeypatch, tmp_path):
    monkeypatch.setenv("MLPRIVACY_CACHE", str(tmp_path / "private"))
    previous = os.umask(0o077)
    try:
        train()
    finally:
        os.umask(previous)
    entry = only_entry()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o700
    assert stat.S_IMODE((entry / "weights.h5").stat().st_mode) == 0o600


# --- interruptions and concurrent writers ----------------------------------------------


class Interrupt(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt

    def cache_key(self):
        return {}


def test_interrupted_training_stores_nothing():
    with pytest.raises(KeyboardInterrupt):
        train(callbacks=[Interrupt()])
    root = cache.cache_dir()
    assert not root.exists() or (entries(root) == [] and hidden(root) == [])
    _, history = train()
    assert history["cached"] is False


def test_an_interrupted_save_leaves_no_partial_entry(monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tf.keras.Model, "save_weights", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train()
    root = cache.cache_dir()
    assert entries(root) == [] and hidden(root) == []


def test_a_second_writer_of_the_same_entry_keeps_the_first(recwarn):
    # Two processes that train the same model both call cache.store_entry for the same entry: the
    # rename of the later one fails, it keeps the complete entry it finds and says nothing.
    model, history = train()
    entry = only_entry()
    before = (entry / "history.json").read_text()
    assert cache.store_entry(entry, model, {"loss": [123.0]}) is True
    assert (entry / "history.json").read_text() == before
    assert hidden(cache.cache_dir()) == []
    assert not [w for w in recwarn if issubclass(w.category, cache.CacheWarning)]
    assert train()[1]["cached"] is True


def test_two_processes_training_the_same_entry(tmp_path):
    # The real thing: two interpreters train the same tiny model at once into one cache.
    script = (
        "import sys, json\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import test_training_cache as t\n"
        "print(json.dumps(t.train()[1]['loss']))\n"
    )
    env = {**os.environ, "MLPRIVACY_CACHE": str(tmp_path / "shared"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(Path(__file__).parent)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    losses = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert losses[0] == losses[1]
    root = tmp_path / "shared"
    assert len(entries(root)) == 1 and hidden(root) == []


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


# cache.cached_result: one computed result in one file (notebook 02's attacks, 03's inversions).


def _json_result(tmp_path: Path, compute, **kwargs):
    return cache.cached_result(
        tmp_path / "entry.json",
        compute,
        load=lambda entry: json.loads(entry.read_text()),
        save=lambda handle, value: handle.write(json.dumps(value).encode()),
        what="the test value",
        **kwargs,
    )


def test_cached_result_computes_once_then_loads(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"x": len(calls)}

    assert _json_result(tmp_path, compute) == ({"x": 1}, False)
    assert _json_result(tmp_path, compute) == ({"x": 1}, True)  # loaded, not computed
    assert len(calls) == 1
    mode = stat.S_IMODE((tmp_path / "entry.json").stat().st_mode)
    assert mode == cache.file_mode()
    assert [p.name for p in tmp_path.iterdir()] == ["entry.json"]  # no temp file left


def test_cached_result_recomputes_a_damaged_entry_and_survives_a_failed_save(tmp_path):
    (tmp_path / "entry.json").write_text("{not json")
    with pytest.warns(cache.CacheWarning, match="Damaged model-cache entry .*the test value"):
        assert _json_result(tmp_path, lambda: [1, 2]) == ([1, 2], False)
    assert _json_result(tmp_path, lambda: [3]) == ([1, 2], True)  # stored again

    def failing_save(handle, value):
        raise OSError(errno.ENOSPC, "No space left on device")

    other = tmp_path / "other"
    with pytest.warns(cache.CacheWarning, match="Could not store the value"):
        got = cache.cached_result(
            other / "entry.json", lambda: 5, load=json.loads, save=failing_save, what="the value"
        )
    assert got == (5, False)
    assert list(other.iterdir()) == []  # neither the entry nor a temp file


def test_cached_result_leaves_no_temp_file_when_interrupted(tmp_path):
    def interrupted_save(handle, value):
        handle.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.cached_result(
            tmp_path / "entry.json", lambda: 1, load=json.loads, save=interrupted_save, what="x"
        )
    assert list(tmp_path.iterdir()) == []
