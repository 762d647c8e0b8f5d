"""An honest-but-curious server reconstructs a client's images from the gradient it received.

* :func:`label_from_gradient` -- iDLG's label read-out (Zhao et al., "iDLG: Improved Deep
  Leakage from Gradients", 2020): for one image and softmax cross-entropy, the gradient of the
  last ``Dense`` layer's kernel is ``h (p - onehot(y))^T`` with ``h`` the layer's input, so
  where ``h >= 0`` (after a ReLU or a sigmoid) only the true label's column is negative.
* :func:`invert_gradients` -- optimise dummy images until the gradient they produce matches
  the received one: with ``distance="l2"`` the squared Euclidean distance of the gradients (Deep
  Leakage from Gradients, Zhu et al. 2019, here with the labels known, as in iDLG; Zhu et al.
  optimised with L-BFGS, here with the same optimiser as the cosine loss), with
  ``distance="cosine"`` one minus their cosine similarity over all layers at once, plus a
  total-variation prior (Inverting Gradients, Geiping et al. 2020). Adam on signed gradients,
  pixels kept in ``[0, 1]``, the learning rate divided by 10 at 3/8, 5/8 and 7/8 of the
  iterations, several random restarts optimised side by side, the restart whose gradient
  matches best (the prior left out) kept. :func:`invert_gradients_cached` keeps each result in
  the model cache, so a re-run of notebook 06 inverts nothing twice.

The whole optimisation step is one compiled ``tf.function`` (the model's gradient inside an
outer ``GradientTape``, so the loss is differentiated through it: a second derivative), with all
restarts in one variable.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from ..cache import cache_dir, cache_key, cached_result, fingerprint
from ..training import model_description

__all__ = [
    "InversionResult",
    "invert_gradients",
    "invert_gradients_cached",
    "label_from_gradient",
    "total_variation",
]

DISTANCES = ("cosine", "l2")


def label_from_gradient(kernel_gradient: np.ndarray) -> int:
    """Return the label iDLG reads from the gradient of the last ``Dense`` layer's kernel
    (shape ``(features, classes)``, Keras' layout) for a single image: the class whose column
    sums to the most negative value. Valid when the layer's inputs are non-negative (after a
    ReLU or a sigmoid) and the loss is softmax cross-entropy of one image."""
    g = np.asarray(kernel_gradient)
    if g.ndim != 2 or g.shape[1] < 2:
        raise ValueError(f"expected a (features, classes) kernel gradient, got shape {g.shape}")
    return int(np.argmin(g.sum(axis=0)))


def total_variation(images: tf.Tensor) -> tf.Tensor:
    """Return the mean absolute difference between horizontally and between vertically
    neighbouring pixels, summed (images ``(..., height, width, channels)``), per leading index:
    shape ``images.shape[:-3]``."""
    dx = tf.reduce_mean(tf.abs(images[..., :, 1:, :] - images[..., :, :-1, :]), axis=[-3, -2, -1])
    dy = tf.reduce_mean(tf.abs(images[..., 1:, :, :] - images[..., :-1, :, :]), axis=[-3, -2, -1])
    return dx + dy


@dataclass(frozen=True)
class InversionResult:
    """The outcome of :func:`invert_gradients`.

    ``images``: the best restart's reconstruction, shape ``(batch, *image_shape)``, in
    ``[0, 1]``; ``loss``: its final gradient-matching loss (without the prior);
    ``restart_losses``: every restart's; ``seconds_per_iteration``: wall time of one
    optimisation step (all restarts), after the first (compiling) step.
    """

    images: np.ndarray
    loss: float
    restart_losses: np.ndarray
    seconds_per_iteration: float


def _check_positive(name: str, value: float, integer: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}")
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


def invert_gradients(
    model: tf.keras.Model,
    target_gradient: Sequence[np.ndarray],
    labels: np.ndarray,
    *,
    iterations: int,
    distance: str = "cosine",
    tv_weight: float = 0.0,
    restarts: int = 1,
    learning_rate: float = 0.1,
    seed: int = 0,
    compiled: bool = True,
) -> InversionResult:
    """Reconstruct the batch whose gradient is ``target_gradient`` (one array per trainable
    variable of ``model``, as :func:`~.client.client_gradient` returns) and whose labels are
    ``labels``; see the module docstring for the method. The dummy images start from a uniform
    draw in ``[0, 1]`` seeded with ``seed`` (one per restart); ``model`` (logits out) is not
    changed. The image shape comes from ``model.input_shape``. ``compiled=False`` runs the
    same step eagerly, without ``tf.function`` (for ``benchmarks/bench_gradient_inversion.py``)."""
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")
    _check_positive("iterations", iterations, integer=True)
    _check_positive("restarts", restarts, integer=True)
    _check_positive("learning_rate", learning_rate)
    if isinstance(tv_weight, bool) or not tv_weight >= 0:
        raise ValueError(f"tv_weight must be a number >= 0, got {tv_weight!r}")
    variables = model.trainable_variables
    if len(target_gradient) != len(variables):
        raise ValueError(
            f"target_gradient has {len(target_gradient)} arrays, the model "
            f"{len(variables)} trainable variables"
        )
    for g, v in zip(target_gradient, variables, strict=True):
        if tuple(np.shape(g)) != tuple(v.shape):
            raise ValueError(f"gradient of shape {np.shape(g)} for variable {v.name} {v.shape}")
    labels = np.asarray(labels).reshape(-1)
    if not np.issubdtype(labels.dtype, np.integer) or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty integer array, got {labels!r}")
    image_shape = tuple(model.input_shape[1:])
    if None in image_shape:
        raise ValueError(f"the model needs a fixed input shape, got {model.input_shape}")

    target = [tf.constant(g, tf.float32) for g in target_gradient]
    target_norm = tf.sqrt(tf.add_n([tf.reduce_sum(t * t) for t in target]))
    y = tf.constant(labels, tf.int32)
    start = np.random.default_rng(seed).uniform(
        0.0, 1.0, size=(restarts, len(labels), *image_shape)
    )
    x = tf.Variable(start.astype(np.float32))
    m = tf.Variable(tf.zeros_like(x))
    v = tf.Variable(tf.zeros_like(x))
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    milestones = [int(iterations * f) for f in (3 / 8, 5 / 8, 7 / 8)]
    use_cosine = distance == "cosine"

    def restart_loss(images: tf.Tensor, prior: bool = True) -> tf.Tensor:
        with tf.GradientTape() as inner:
            logits = model(images, training=False)
            loss = tf.reduce_mean(
                tf.keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
            )
        grads = inner.gradient(loss, variables)
        if use_cosine:
            dot = tf.add_n([tf.reduce_sum(g * t) for g, t in zip(grads, target, strict=True)])
            norm = tf.sqrt(tf.add_n([tf.reduce_sum(g * g) for g in grads]))
            match = 1.0 - dot / (norm * target_norm + 1e-12)
        else:
            match = tf.add_n(
                [tf.reduce_sum((g - t) ** 2) for g, t in zip(grads, target, strict=True)]
            )
        if not prior:
            return match
        return match + tv_weight * tf.reduce_mean(total_variation(images))

    def step(t: tf.Tensor, lr: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as outer:
            losses = tf.stack([restart_loss(x[r]) for r in range(restarts)])
            total = tf.reduce_sum(losses)
        grad = tf.sign(outer.gradient(total, x))  # signed gradients, as Geiping et al.
        m.assign(beta1 * m + (1 - beta1) * grad)
        v.assign(beta2 * v + (1 - beta2) * grad * grad)
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        x.assign(tf.clip_by_value(x - lr * m_hat / (tf.sqrt(v_hat) + eps), 0.0, 1.0))
        return losses

    if compiled:
        step = tf.function(step)
    timed_from = None
    for i in range(iterations):
        lr = float(learning_rate) * 0.1 ** sum(1 for mark in milestones if 0 < mark <= i)
        step(tf.constant(i + 1, tf.float32), tf.constant(lr, tf.float32))
        if i == 0:
            timed_from = time.perf_counter()
    per_iteration = (time.perf_counter() - timed_from) / max(iterations - 1, 1)
    # eagerly: a tf.function called once per inversion would be traced on every call
    losses = tf.stack([restart_loss(x[r], prior=False) for r in range(restarts)]).numpy()
    best = int(np.argmin(losses))
    return InversionResult(
        images=x.numpy()[best],
        loss=float(losses[best]),
        restart_losses=losses,
        seconds_per_iteration=per_iteration,
    )


#: Bump when :func:`invert_gradients_cached`'s key or what it stores changes meaning.
_CACHE_VERSION = 1


def invert_gradients_cached(
    model: tf.keras.Model,
    target_gradient: Sequence[np.ndarray],
    labels: np.ndarray,
    **settings: Any,
) -> tuple[InversionResult, bool]:
    """Return ``(invert_gradients(model, target_gradient, labels, **settings), cached)``,
    loaded from the model cache when the same inversion ran before.

    ``cached`` says whether it came from the cache. The key holds everything that determines
    the result: the model's architecture and weights, the gradient, the labels, every setting
    (defaults filled in; not ``compiled``: the eager step is the same computation) and the
    libraries' versions, so another model, gradient or setting never reuses an inversion. A
    loaded result's ``seconds_per_iteration`` is the one measured when it was computed. With
    ``MLPRIVACY_CACHE=off`` this is :func:`invert_gradients`; a damaged entry is reported
    with a :class:`~mlprivacy_helpers.cache.CacheWarning` and computed again
    (:func:`~mlprivacy_helpers.cache.cached_result`). Raises ``TypeError`` for a setting
    :func:`invert_gradients` does not take, and what it raises for bad input.
    """
    parameters = inspect.signature(invert_gradients).parameters
    unknown = sorted(set(settings) - {n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY})
    if unknown:
        raise TypeError(f"invert_gradients takes no setting {', '.join(unknown)}")
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"model must be a Keras model, got {type(model).__name__}")

    def run() -> InversionResult:
        return invert_gradients(model, target_gradient, labels, **settings)

    root = cache_dir()
    if root is None:
        return run(), False
    filled = {
        name: settings.get(name, p.default)
        for name, p in parameters.items()
        if p.kind is p.KEYWORD_ONLY and name != "compiled"  # eager or compiled: the same steps
    }
    if filled["iterations"] is inspect.Parameter.empty:
        raise TypeError("invert_gradients needs iterations")
    key = cache_key(
        {
            "kind": "gradient-inversion",
            "version": _CACHE_VERSION,
            "settings": filled,
            "model": model_description(model),
            "weights": fingerprint(*model.get_weights()),
            "gradient": fingerprint(*[np.asarray(g) for g in target_gradient]),
            "labels": fingerprint(np.asarray(labels)),
        }
    )

    def load(entry: Path) -> InversionResult:
        with np.load(entry, allow_pickle=False) as stored:
            return InversionResult(
                images=stored["images"],
                loss=float(stored["loss"]),
                restart_losses=stored["restart_losses"],
                seconds_per_iteration=float(stored["seconds_per_iteration"]),
            )

    def save(handle: Any, result: InversionResult) -> None:
        np.savez(
            handle,
            images=result.images,
            loss=result.loss,
            restart_losses=result.restart_losses,
            seconds_per_iteration=result.seconds_per_iteration,
        )

    return cached_result(
        root / f"inversion-{key[:20]}.npz",
        run,
        load=load,
        save=save,
        what="the reconstruction",
        load_errors=(OSError, ValueError, KeyError),
    )
