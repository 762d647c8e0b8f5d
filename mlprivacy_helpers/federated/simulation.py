"""Many rounds of federated SGD, simulated on one machine: what privacy at the client costs.

:func:`fedsgd_accuracy` trains a model the way a FedSGD server does (McMahan et al. 2017): each
round it samples ``clients_per_round`` of the clients, each sends the gradient of a Poisson-sampled
batch of its own examples (:func:`~.client.client_gradient`) or, with ``noise_multiplier`` set,
a clipped and noised one (:func:`~.client.dp_client_gradient`): DP-SGD's step at the client, so
that a client's ε is that of Poisson DP-SGD for the rounds it took part in. The server applies
the mean of the updates with Adam (a server-side adaptive optimiser, "FedAdam" in Reddi et al.
2021). It returns the model's accuracy on held-out examples every ``eval_every`` rounds.
:func:`fedsgd_accuracy_cached` keeps that curve in the model cache: it is the slow part of
notebook 06, and every re-run would train the same models again.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from ..cache import cache_dir, cache_key, cached_result, fingerprint
from ..config import set_seed
from ..training import model_description
from .client import client_gradient, dp_client_gradient

__all__ = ["fedsgd_accuracy", "fedsgd_accuracy_cached"]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _check(
    x: np.ndarray,
    y: np.ndarray,
    parts: Sequence[np.ndarray],
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    settings: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    y = np.asarray(y).reshape(-1)
    if len(x) != len(y) or len(x_eval) != len(np.asarray(y_eval).reshape(-1)):
        raise ValueError("x and y (and x_eval and y_eval) must have the same length")
    parts = [np.asarray(p) for p in parts]
    if not parts or any(p.ndim != 1 or not np.issubdtype(p.dtype, np.integer) for p in parts):
        raise ValueError("parts must be a non-empty list of integer index arrays, one per client")
    if any(p.size and (p.min() < 0 or p.max() >= len(x)) for p in parts):
        raise ValueError(f"parts must index x (0..{len(x) - 1})")
    for name in ("rounds", "clients_per_round", "batch_size", "eval_every"):
        settings[name] = _positive_int(name, settings[name])
    if settings["clients_per_round"] > len(parts):
        raise ValueError(f"clients_per_round must be at most the {len(parts)} clients")
    if any(len(p) < settings["batch_size"] for p in parts):
        raise ValueError(f"every client needs batch_size={settings['batch_size']} examples or more")
    if settings["eval_every"] > settings["rounds"]:
        raise ValueError("eval_every must be at most rounds")
    if not settings["learning_rate"] > 0:
        raise ValueError(f"learning_rate must be > 0, got {settings['learning_rate']}")
    if (settings["noise_multiplier"] is None) != (settings["l2_norm_clip"] is None):
        raise ValueError("give both l2_norm_clip and noise_multiplier (DP), or neither")
    return np.asarray(x), y, parts


def fedsgd_accuracy(
    build: Callable[[], tf.keras.Model],
    x: np.ndarray,
    y: np.ndarray,
    parts: Sequence[np.ndarray],
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    *,
    rounds: int,
    clients_per_round: int,
    batch_size: int,
    learning_rate: float,
    eval_every: int,
    seed: int,
    l2_norm_clip: float | None = None,
    noise_multiplier: float | None = None,
) -> list[float]:
    """Return the accuracy on ``(x_eval, y_eval)`` after every ``eval_every`` rounds of FedSGD.

    ``build()`` returns the shared model (logits out), built after seeding with ``seed``;
    client ``k`` holds the examples ``x[parts[k]], y[parts[k]]``. Each round draws
    ``clients_per_round`` distinct clients, and each of them takes every one of its examples
    into its batch independently with probability ``batch_size / len(parts[k])`` (Poisson
    sampling: ``batch_size`` examples on average; one NumPy generator seeded with ``seed``
    draws clients, batches and noise). Without DP a client sends the mean gradient of its batch
    (nothing when the batch is empty); with ``l2_norm_clip`` and ``noise_multiplier`` it clips
    each example's gradient, adds noise and divides by ``batch_size``, the expected size, as
    DP-SGD does. The server applies the mean of the ``clients_per_round`` updates with Adam at
    ``learning_rate``. Raises ``ValueError`` for inconsistent data or settings.
    """
    settings = {
        "rounds": rounds,
        "clients_per_round": clients_per_round,
        "batch_size": batch_size,
        "eval_every": eval_every,
        "learning_rate": learning_rate,
        "l2_norm_clip": l2_norm_clip,
        "noise_multiplier": noise_multiplier,
    }
    x, y, parts = _check(x, y, parts, x_eval, y_eval, settings)
    y_eval = np.asarray(y_eval).reshape(-1)
    set_seed(seed)
    model = build()
    optimizer = tf.keras.optimizers.Adam(learning_rate)
    rng = np.random.default_rng(seed)
    accuracy = []
    for r in range(1, settings["rounds"] + 1):
        total = None
        for k in rng.choice(len(parts), settings["clients_per_round"], replace=False):
            rate = settings["batch_size"] / len(parts[k])
            batch = parts[k][rng.random(len(parts[k])) < rate]
            if noise_multiplier is None:
                if len(batch) == 0:
                    continue
                update = client_gradient(model, x[batch], y[batch])
            else:
                update = dp_client_gradient(
                    model,
                    x[batch],
                    y[batch],
                    l2_norm_clip=l2_norm_clip,
                    noise_multiplier=noise_multiplier,
                    seed=int(rng.integers(2**31)),
                    denominator=settings["batch_size"],
                )
            total = update if total is None else [t + u for t, u in zip(total, update, strict=True)]
        if total is None:  # every sampled batch was empty (no DP): nothing to apply
            continue
        mean = [tf.constant(t / settings["clients_per_round"]) for t in total]
        optimizer.apply_gradients(zip(mean, model.trainable_variables, strict=True))
        if r % settings["eval_every"] == 0:
            logits = model.predict(x_eval, batch_size=500, verbose=0)
            accuracy.append(float(np.mean(logits.argmax(axis=1) == y_eval)))
    return accuracy


#: Bump when :func:`fedsgd_accuracy_cached`'s key or what it stores changes meaning.
_CACHE_VERSION = 2  # 2: Poisson-sampled client batches


def fedsgd_accuracy_cached(
    build: Callable[[], tf.keras.Model],
    x: np.ndarray,
    y: np.ndarray,
    parts: Sequence[np.ndarray],
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    **settings: Any,
) -> tuple[list[float], bool]:
    """Return ``(fedsgd_accuracy(build, x, y, parts, x_eval, y_eval, **settings), cached)``,
    loaded from the model cache when the same training ran before.

    The key holds the model's architecture and its seeded initial weights (``build()`` after
    seeding with ``settings["seed"]``), the clients' examples, their split and the held-out
    examples (by fingerprint), every setting and the
    libraries' versions (:func:`~mlprivacy_helpers.cache.cache_key`). With ``MLPRIVACY_CACHE=off``
    this is :func:`fedsgd_accuracy`; a damaged entry is reported with a
    :class:`~mlprivacy_helpers.cache.CacheWarning` and trained again.
    """

    def run() -> list[float]:
        return fedsgd_accuracy(build, x, y, parts, x_eval, y_eval, **settings)

    root = cache_dir()
    if root is None:
        return run(), False
    if "seed" not in settings:
        raise TypeError("fedsgd_accuracy needs seed")
    set_seed(settings["seed"])
    model = build()
    parts = [np.asarray(p) for p in parts]
    held = np.unique(np.concatenate(parts)).astype(np.int64)  # only these examples can matter
    x_held, y_held = np.asarray(x)[held], np.asarray(y).reshape(-1)[held]
    key = cache_key(
        {
            "kind": "fedsgd-accuracy",
            "version": _CACHE_VERSION,
            "settings": settings,
            "model": model_description(model),
            "weights": fingerprint(*model.get_weights()),
            "data": fingerprint(x_held, y_held, x_eval, y_eval, *parts),
        }
    )

    def load(entry: Path) -> list[float]:
        values = json.loads(entry.read_text())
        if not isinstance(values, list) or not all(isinstance(v, float) for v in values):
            raise ValueError("holds no list of accuracies")
        return values

    return cached_result(
        root / f"fedsgd-{key[:20]}.json",
        run,
        load=load,
        save=lambda handle, values: handle.write(json.dumps(values).encode()),
        what="the accuracies",
    )
