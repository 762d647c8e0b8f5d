"""Training with an on-disk cache, and per-epoch timing.

Used by notebooks 02 and 03: a re-run loads the trained weights instead of training
again; any changed setting trains a new model (see :mod:`mlprivacy_helpers.cache`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from .cache import cache_dir, cache_key, fingerprint
from .config import set_seed
from .results import to_jsonable


class EpochTimer(tf.keras.callbacks.Callback):
    """Write each epoch's training wall time (seconds) into ``logs["epoch_seconds"]``.

    The clock stops before Keras' validation pass, so the number is the cost of the
    training steps alone (what a DP-SGD vs plain comparison needs).
    """

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self._stop: float | None = None

    def on_test_begin(self, logs: dict | None = None) -> None:
        if getattr(self, "_stop", 0.0) is None:
            self._stop = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        stop = self._stop if self._stop is not None else time.perf_counter()
        if logs is not None:
            logs["epoch_seconds"] = stop - self._start


def model_description(model: tf.keras.Model) -> dict[str, Any]:
    """Return a JSON-able description of a compiled model: architecture, optimizer, loss.

    Works for subclassed models (e.g. TF Privacy's ``DPModel``) whose ``to_json`` fails,
    by falling back to the class name and each layer's config.
    """
    try:
        architecture: Any = json.loads(model.to_json())
    except (NotImplementedError, TypeError, ValueError):
        architecture = {
            "class": f"{type(model).__module__}.{type(model).__qualname__}",
            "layers": [(type(layer).__name__, layer.get_config()) for layer in model.layers],
        }
    description: dict[str, Any] = {
        "class": type(model).__qualname__,
        "architecture": _without_layer_names(architecture),
    }
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        description["optimizer"] = [type(optimizer).__qualname__, optimizer.get_config()]
    loss = getattr(model, "loss", None)
    if loss is not None:
        try:
            description["loss"] = tf.keras.losses.serialize(loss)
        except (ValueError, TypeError):
            description["loss"] = repr(loss)
    return description


def _without_layer_names(config: Any) -> Any:
    """Drop the ``name`` entries of layer configs: Keras numbers them per session
    (``conv2d``, ``conv2d_1``, ...), so the same architecture built twice would differ."""
    if isinstance(config, dict):
        return {k: _without_layer_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list | tuple):
        return [_without_layer_names(v) for v in config]
    return config


def train_cached(
    name: str,
    build: Callable[[], tf.keras.Model],
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: Sequence[tf.keras.callbacks.Callback] = (),
    key_extra: Mapping[str, Any] | None = None,
    verbose: int = 0,
) -> tuple[tf.keras.Model, dict[str, Any]]:
    """Train ``build()`` on ``(x, y)``, or load the same training from the cache.

    ``build`` must return a freshly built and compiled model. The seed is set before
    building, so initial weights and shuffling are reproducible. Returns
    ``(model, history)``, where ``history`` is a plain dict of per-epoch lists (Keras'
    metrics, anything ``callbacks`` wrote into ``logs`` and ``"epoch_seconds"``) plus
    ``"cached"``: whether the weights came from the cache. The cache key covers ``name``,
    the model's architecture, optimizer and loss, fingerprints of the data, ``epochs``,
    ``batch_size``, ``seed``, ``key_extra`` and the library versions.
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not callable(build):
        raise TypeError(f"build must be a callable returning a compiled model, got {build!r}")
    for arg, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{arg} must be a positive int, got {value!r}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")

    set_seed(seed)
    model = build()
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"build() must return a tf.keras.Model, got {type(model).__name__}")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("build() must return a compiled model (call model.compile in build)")

    parts = {
        "name": name,
        "model": model_description(model),
        "data": fingerprint(x, y),
        "validation": fingerprint(*(validation_data or (None,))),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "seed": int(seed),
        "extra": dict(key_extra or {}),
    }
    root = cache_dir()
    entry = root / f"{name}-{cache_key(parts)[:20]}" if root is not None else None
    if entry is not None and (entry / "history.json").is_file():
        model.load_weights(str(entry / "weights.h5"))
        history = json.loads((entry / "history.json").read_text())
        history["cached"] = True
        return model, history

    fit_history = model.fit(
        x,
        y,
        epochs=int(epochs),
        batch_size=int(batch_size),
        validation_data=validation_data,
        callbacks=[EpochTimer(), *callbacks],
        verbose=verbose,
    )
    history = to_jsonable({k: list(v) for k, v in fit_history.history.items()})
    if entry is not None:
        _store(entry, model, history)
    history["cached"] = False
    return model, history


def _store(entry: Path, model: tf.keras.Model, history: dict[str, Any]) -> None:
    """Write weights and history into ``entry`` atomically (temp folder + rename)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}."))
    try:
        model.save_weights(str(tmp / "weights.h5"))
        (tmp / "history.json").write_text(json.dumps(history))
        os.replace(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (entry / "history.json").is_file():
            raise
