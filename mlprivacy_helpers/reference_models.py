"""Training the reference ("shadow") models that LiRA and RMIA calibrate with.

Each reference model trains, with the target's recipe, on a random half of the attack pool
(:func:`reference_attacks.reference_in_masks`: every pool example trains exactly half of
the models), plus its own random-label images when the target's training set holds such
images too (the attacker trains the reference models *like* the target). Only the models'
logits on the pool and on the population are kept; the model cache makes a re-run instant.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from . import audit, reference_attacks, training
from .progress import Progress, format_seconds

SEED_STRIDE = 1000  #: model ``k`` (from 0) trains with seed ``seed + SEED_STRIDE * (k + 1)``


@dataclasses.dataclass(frozen=True)
class ReferenceModels:
    """What :func:`train_reference_models` returns: masks, seeds and the models' logits."""

    in_masks: np.ndarray  #: (models, pool) bool: pool example i trained model k
    seeds: tuple[int, ...]  #: model k's training seed (also its random-label draw)
    logits_pool: np.ndarray  #: (models, pool, classes)
    logits_population: np.ndarray  #: (models, population, classes)
    random_label_counts: tuple[int, ...]  #: random-label images each model trained on
    cached: tuple[bool, ...]  #: whether each model came from the model cache


def random_label_images(
    x_candidates: np.ndarray, y_candidates: np.ndarray, num_classes: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)``: each candidate kept with probability 1/2, with a random wrong label.

    The same rule that puts the one-run audit's canaries into the target's training set, with
    its own coins and labels for each ``seed``: a reference model that gets these trains on
    as many mislabelled images, in expectation, as the target does (but not on the target's
    canaries, which the attacker does not know). Raises ``ValueError`` for mismatched inputs.
    """
    x_candidates = np.asarray(x_candidates)
    y_candidates = np.asarray(y_candidates).reshape(-1)
    if len(x_candidates) != y_candidates.size:
        raise ValueError(f"{len(x_candidates)} candidate images for {y_candidates.size} labels")
    rng = np.random.default_rng(seed)
    kept = rng.random(y_candidates.size) < 0.5
    wrong = audit.random_other_labels(y_candidates, num_classes, seed=int(rng.integers(2**31)))
    return x_candidates[kept], wrong[kept]


def train_reference_models(
    name: str,
    build: Callable[[int], tf.keras.Model],
    x_pool: np.ndarray,
    y_pool: np.ndarray,
    x_population: np.ndarray,
    n_models: int,
    seed: int,
    *,
    epochs: int,
    batch_size: int,
    random_label_candidates: tuple[np.ndarray, np.ndarray] | None = None,
    num_classes: int = 10,
    key_extra: Mapping[str, Any] | None = None,
    verbose: bool = True,
) -> ReferenceModels:
    """Train ``n_models`` reference models (cached) and return a :class:`ReferenceModels`.

    Masks: ``reference_attacks.reference_in_masks(n_models, len(x_pool), seed)``. Model ``k``
    is ``build(seed_k)`` with ``seed_k = seed + SEED_STRIDE * (k + 1)``, trained by
    :func:`training.train_cached` under ``name`` on the pool examples of its mask, plus
    :func:`random_label_images` of ``random_label_candidates`` (images, true labels) drawn
    with ``seed_k`` when given. ``y_pool`` holds integer labels, shape ``(n,)`` or ``(n, 1)``.
    ``verbose``: show a progress bar over all models' epochs (in a notebook) that ends as
    one line saying how many models were trained and how many came from the cache.
    Raises ``ValueError`` for mismatched shapes or an odd or too small ``n_models``.
    """
    y_pool = np.asarray(y_pool).reshape(-1)
    if len(x_pool) != y_pool.size:
        raise ValueError(f"{len(x_pool)} pool images for {y_pool.size} labels")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {seed!r}")
    in_masks = reference_attacks.reference_in_masks(n_models, len(x_pool), seed)
    seeds = tuple(int(seed) + SEED_STRIDE * (k + 1) for k in range(n_models))
    logits_pool, logits_population, counts, cached = [], [], [], []
    bar = (
        Progress(n_models * int(epochs), f"{n_models} reference models", "epochs")
        if verbose
        else None
    )
    for k, seed_k in enumerate(seeds):
        x_train, y_train = x_pool[in_masks[k]], y_pool[in_masks[k]]
        if random_label_candidates is not None:
            x_noise, y_noise = random_label_images(*random_label_candidates, num_classes, seed_k)
            x_train = np.concatenate([x_train, x_noise])
            y_train = np.concatenate([y_train, y_noise])
            counts.append(len(y_noise))
        else:
            counts.append(0)
        model, history = training.train_cached(
            name,
            lambda seed_k=seed_k: build(seed_k),
            x_train,
            y_train[:, None],
            epochs=epochs,
            batch_size=batch_size,
            seed=seed_k,
            key_extra=key_extra,
            progress=bar if bar is not None else False,
        )
        logits_pool.append(model.predict(x_pool, batch_size=1024, verbose=0))
        logits_population.append(model.predict(x_population, batch_size=1024, verbose=0))
        cached.append(bool(history["cached"]))
    if bar is not None:
        bar.close(
            f"{n_models} reference models ({n_models - sum(cached)} trained, {sum(cached)} from "
            f"the model cache) in {format_seconds(bar.elapsed)}: each on "
            f"{int(np.mean([m.sum() for m in in_masks]))} pool images + "
            f"{int(np.mean(counts))} with a random label"
        )
    return ReferenceModels(
        in_masks=in_masks,
        seeds=seeds,
        logits_pool=np.stack(logits_pool),
        logits_population=np.stack(logits_population),
        random_label_counts=tuple(counts),
        cached=tuple(cached),
    )
