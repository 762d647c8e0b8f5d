"""Training with an on-disk cache, and per-epoch timing.

A re-run loads the trained weights instead of training again; any changed setting trains a
new model (the folder, the key and the entries: :mod:`mlprivacy_helpers.cache`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import tensorflow as tf

from .cache import (
    DAMAGED,
    cache_dir,
    cache_key,
    ensure_writable,
    fingerprint,
    load_entry,
    store_entry,
)
from .config import set_seed
from .progress import Progress
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


class ProgressCallback(tf.keras.callbacks.Callback):
    """Advance a :class:`~mlprivacy_helpers.progress.Progress` bar by one unit per epoch, in
    steps of one batch (Keras' ``params["steps"]``), so that the estimate moves within an
    epoch too. It records nothing, so it never enters a cache key."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        if not isinstance(progress, Progress):
            raise TypeError(f"progress must be a Progress, got {type(progress).__name__}")
        self.progress = progress

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._steps = max(int((self.params or {}).get("steps") or 1), 1)
        self._done_in_epoch = 0.0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._done_in_epoch < 1.0:
            step = min(1.0 / self._steps, 1.0 - self._done_in_epoch)
            self._done_in_epoch += step
            self.progress.update(step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.progress.update(max(0.0, 1.0 - self._done_in_epoch))


def model_description(model: tf.keras.Model) -> dict[str, Any]:
    """Return a JSON-able description of a compiled model: architecture, optimizer, loss.

    Works for subclassed models (e.g. TF Privacy's ``DPModel``) whose ``to_json`` fails,
    by falling back to the class name and each layer's config. A DP-SGD model's clipping norm,
    noise multiplier and microbatches (TF Privacy's ``DPModel`` keeps them as attributes, not in
    its config), and a Poisson model's expected batch size, sampling seed and padding, are part
    of it: a model trained with other noise never shares a cache entry.
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
    dp = {
        name: getattr(model, attribute)
        for name, attribute in (
            ("l2_norm_clip", "_l2_norm_clip"),
            ("noise_multiplier", "_noise_multiplier"),
            ("num_microbatches", "_num_microbatches"),
            ("expected_batch_size", "expected_batch_size"),
            ("sampling_seed", "sampling_seed"),
            ("pad_multiple", "pad_multiple"),
        )
        if hasattr(model, attribute)
    }
    if dp:
        description["dp"] = {
            k: v if isinstance(v, int | float | None) else str(v) for k, v in dp.items()
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


@runtime_checkable
class CacheKeyedCallback(Protocol):
    """A Keras callback that says what in it can change :func:`train_cached`'s result.

    ``cache_key()`` returns a JSON-able mapping covering everything that determines what
    the callback writes into ``logs`` or how it changes training: its data (as
    :func:`~mlprivacy_helpers.cache.fingerprint` digests), its settings, and a version
    number to bump when its code changes what it records. A callback that records nothing
    and changes nothing returns ``{}``.
    """

    def cache_key(self) -> Mapping[str, Any]: ...


def callback_cache_keys(callbacks: Sequence[tf.keras.callbacks.Callback]) -> list[dict[str, Any]]:
    """Return each callback's contribution to the cache key: its class and ``cache_key()``.

    Raises ``TypeError`` for a callback without a ``cache_key()`` method (see
    :class:`CacheKeyedCallback`): the cache could not tell whether the numbers it recorded
    into the history are still valid, and would serve stale ones.
    """
    keys = []
    for callback in callbacks:
        kind = f"{type(callback).__module__}.{type(callback).__qualname__}"
        if not isinstance(callback, tf.keras.callbacks.Callback):
            raise TypeError(f"callbacks must be Keras callbacks, got {kind}")
        if not isinstance(callback, CacheKeyedCallback):
            raise TypeError(
                f"callback {kind} has no cache_key() method, so train_cached cannot key the "
                "model cache on what it records into the history or changes in training. Add "
                "`def cache_key(self) -> dict` returning everything that determines its "
                "effect (data fingerprints, settings; {} if it records and changes nothing)."
            )
        contribution = callback.cache_key()
        if not isinstance(contribution, Mapping):
            raise TypeError(
                f"{kind}.cache_key() must return a mapping, got {type(contribution).__name__}"
            )
        keys.append({"class": kind, "key": dict(contribution)})
    return keys


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
    progress: Progress | bool = True,
) -> tuple[tf.keras.Model, dict[str, Any]]:
    """Train ``build()`` on ``(x, y)``, or load the same training from the cache.

    ``build`` must return a freshly built and compiled model. The seed is set before
    building, so initial weights and shuffling are reproducible. Returns
    ``(model, history)``, where ``history`` is a plain dict of per-epoch lists (Keras'
    metrics, anything ``callbacks`` wrote into ``logs`` and ``"epoch_seconds"``) plus
    ``"cached"``: whether the weights came from the cache. The cache key covers ``name``,
    the model's architecture, optimizer and loss, fingerprints of the data, ``epochs``,
    ``batch_size``, ``seed``, every callback's ``cache_key()`` (callbacks without one are
    refused with ``TypeError``, see :class:`CacheKeyedCallback`), ``key_extra`` and the
    library versions.

    ``progress``: ``True`` shows a bar over the epochs while training (in a notebook; see
    :mod:`~mlprivacy_helpers.progress`) that ends as one line, ``"training NAME: E epochs in
    T"`` or ``"NAME: loaded from the model cache"``; a :class:`Progress` is advanced by
    ``epochs`` instead (a loop over several models shares one bar) and left open; ``False``
    shows nothing.

    Failure handling: a damaged cache entry (unreadable weights or history) is reported
    with a :class:`~mlprivacy_helpers.cache.CacheWarning` naming it, removed and trained
    again; a cache location that cannot be written raises
    :class:`~mlprivacy_helpers.cache.CacheUnavailableError` *before* training; a save that
    fails after training only warns, and the trained model is returned. An interrupted
    training stores nothing.
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
    callback_keys = callback_cache_keys(callbacks)
    if not isinstance(progress, bool | Progress):
        raise TypeError(f"progress must be a bool or a Progress, got {type(progress).__name__}")

    def fresh_model() -> tf.keras.Model:
        set_seed(seed)
        model = build()
        if not isinstance(model, tf.keras.Model):
            raise TypeError(f"build() must return a tf.keras.Model, got {type(model).__name__}")
        if getattr(model, "optimizer", None) is None:
            raise ValueError("build() must return a compiled model (call model.compile in build)")
        return model

    model = fresh_model()
    parts = {
        "name": name,
        "model": model_description(model),
        "data": fingerprint(x, y),
        "validation": fingerprint(*(validation_data or (None,))),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "seed": int(seed),
        "callbacks": callback_keys,
        "extra": dict(key_extra or {}),
    }
    root = cache_dir()
    entry = root / f"{name}-{cache_key(parts)[:20]}" if root is not None else None
    if entry is not None:
        outcome = load_entry(entry, model)
        if isinstance(outcome, dict):
            outcome["cached"] = True
            if isinstance(progress, Progress):
                progress.update(int(epochs))
            elif progress:
                print(f"{name}: loaded from the model cache")
            return model, outcome
        if outcome is DAMAGED:
            model = fresh_model()  # load_weights may have half-filled it; restart seeded
        ensure_writable(root)  # fail now, not after training

    bar = progress if isinstance(progress, Progress) else None
    if progress is True:
        bar = Progress(int(epochs), f"training {name}", "epochs")
    try:
        fit_history = model.fit(
            x,
            y,
            epochs=int(epochs),
            batch_size=int(batch_size),
            validation_data=validation_data,
            callbacks=[EpochTimer(), *callbacks, *([ProgressCallback(bar)] if bar else [])],
            verbose=verbose,
        )
    finally:
        if progress is True:  # also when training fails: the bar must not stay frozen
            bar.close()
    history = to_jsonable({k: list(v) for k, v in fit_history.history.items()})
    if entry is not None:
        store_entry(entry, model, history)
    history["cached"] = False
    return model, history
