"""What a federated client sends the server: the gradient of its private batch, or a noised one.

In one round of federated SGD (FedSGD) the server sends the shared model, a client computes the
gradient of the model's loss (mean cross-entropy of the model's logits) on its private batch
with ``tf.GradientTape`` (:func:`client_gradient`), and sends it back; in FedAvg the client
first takes several local SGD steps and sends the change of the weights
(:func:`local_update`). With DP at the client (DP-FedSGD), each example's gradient is clipped
to an L2 norm of at most ``l2_norm_clip``, the clipped gradients are summed, Gaussian noise of
standard deviation ``noise_multiplier * l2_norm_clip`` is added to every coordinate, and the sum
is divided by the batch size (a public number) before anything leaves the device
(:func:`dp_client_gradient`): the Gaussian mechanism on the sum, whose sensitivity is
``l2_norm_clip`` when one example is added or removed (``2 * l2_norm_clip`` when one is
replaced).
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import weakref
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import tensorflow as tf

__all__ = [
    "client_gradient",
    "dp_client_gradient",
    "local_update",
    "per_example_gradient_norms",
    "per_example_gradients",
]


def _batch(x: np.ndarray, y: np.ndarray) -> tuple[tf.Tensor, tf.Tensor]:
    """Return ``(x, y)`` as float32 images and int32 labels; checks that they match."""
    x = np.asarray(x)
    y = np.asarray(y).reshape(-1)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch, got shape {x.shape}")
    if len(y) != len(x):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    return tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(y, tf.int32)


def _loss(model: tf.keras.Model, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    logits = model(x, training=False)
    return tf.reduce_mean(
        tf.keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    )


def client_gradient(model: tf.keras.Model, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Return the gradient a FedSGD client sends: of the mean cross-entropy of ``model``'s
    logits on the batch ``(x, y)``, one array per trainable variable (in
    ``model.trainable_variables`` order)."""
    xt, yt = _batch(x, y)
    with tf.GradientTape() as tape:
        loss = _loss(model, xt, yt)
    return [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]


#: What TensorFlow logs when ``tf.vectorized_map`` traces the per-example gradient of a
#: convolution: its pfor converter has no vectorised rule for the filter gradient of stacked
#: inputs and computes it with a loop over the examples inside the graph (correct, slower). It
#: is written to stderr, where notebook 06's cells would show it as an error.
PFOR_CONV_LOOP_MESSAGE = "Conv2DBackpropFilter uses a while_loop. Fix that!"


class _HidePforConvLoop(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != PFOR_CONV_LOOP_MESSAGE


@contextlib.contextmanager
def _pfor_conv_loop_message_hidden() -> Iterator[None]:
    """Drop :data:`PFOR_CONV_LOOP_MESSAGE`, and only it, from TensorFlow's logger inside."""
    logger, only = logging.getLogger("tensorflow"), _HidePforConvLoop()
    logger.addFilter(only)
    try:
        yield
    finally:
        logger.removeFilter(only)


def per_example_gradients(model: tf.keras.Model, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Return each example's own gradient of its cross-entropy: one array per trainable
    variable, each of shape ``(len(x), *variable.shape)`` (vectorised with
    ``tf.vectorized_map``)."""
    xt, yt = _batch(x, y)
    variables = model.trainable_variables

    def one(example: tuple[tf.Tensor, tf.Tensor]) -> list[tf.Tensor]:
        xi, yi = example
        with tf.GradientTape() as tape:
            loss = _loss(model, xi[None], yi[None])
        return tape.gradient(loss, variables)

    with _pfor_conv_loop_message_hidden():
        return [g.numpy() for g in tf.vectorized_map(one, (xt, yt))]


_NORM_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _squared_norms_function(model: tf.keras.Model) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """Return a ``tf.function`` (built once per model, any batch size) mapping ``(x, y)`` to
    each example's squared gradient norm."""
    fn = _NORM_FUNCTIONS.get(model)
    if fn is None:
        variables = model.trainable_variables
        model_ref = weakref.ref(model)  # the cached function must not keep the model alive

        def one(example: tuple[tf.Tensor, tf.Tensor]) -> tf.Tensor:
            xi, yi = example
            with tf.GradientTape() as tape:
                loss = _loss(model_ref(), xi[None], yi[None])
            grads = tape.gradient(loss, variables)
            return tf.add_n([tf.reduce_sum(tf.cast(g, tf.float64) ** 2) for g in grads])

        shape = [None, *model.input_shape[1:]]
        fn = tf.function(
            lambda x, y: tf.vectorized_map(one, (x, y)),
            input_signature=[tf.TensorSpec(shape, tf.float32), tf.TensorSpec([None], tf.int32)],
        )
        _NORM_FUNCTIONS[model] = fn
    return fn


def per_example_gradient_norms(
    model: tf.keras.Model, x: np.ndarray, y: np.ndarray, chunk: int = 16
) -> np.ndarray:
    """Return the L2 norm of each example's gradient (over all trainable variables together),
    shape ``(len(x),)``; ``chunk`` examples at a time, so that no more than ``chunk``
    per-example gradients are held at once. One compiled function per model serves every
    call."""
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")
    xt, yt = _batch(x, y)
    fn = _squared_norms_function(model)
    with _pfor_conv_loop_message_hidden():  # fn is traced (once per model) on its first call
        squares = [
            fn(xt[lo : lo + chunk], yt[lo : lo + chunk]).numpy() for lo in range(0, len(x), chunk)
        ]
    return np.sqrt(np.concatenate(squares))


def dp_client_gradient(
    model: tf.keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    l2_norm_clip: float,
    noise_multiplier: float,
    seed: int,
    denominator: float | None = None,
) -> list[np.ndarray]:
    """Return the gradient a DP-FedSGD client sends: per-example gradients clipped to an L2
    norm of at most ``l2_norm_clip`` (over all variables together), summed, with Gaussian
    noise of standard deviation ``noise_multiplier * l2_norm_clip`` added to each coordinate,
    divided by ``denominator`` (default ``len(x)``). The noise comes from a NumPy generator
    seeded with ``seed``; ``noise_multiplier = 0`` gives the clipped mean without noise.

    Under Poisson sampling the batch's size is random and must not be revealed, so DP-SGD
    divides by the *expected* batch size: pass it as ``denominator``. The batch may then be
    empty (``x`` of shape ``(0, ...)``): the client sends the noise alone.

    The clipped sum is computed without holding every per-example gradient: the norms first
    (:func:`per_example_gradient_norms`), then one backward pass of the loss with each
    example's cross-entropy weighted by its clipping factor ``min(1, C / norm)``.
    """
    for name, value in (("l2_norm_clip", l2_norm_clip), ("noise_multiplier", noise_multiplier)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not l2_norm_clip > 0:
        raise ValueError(f"l2_norm_clip must be > 0, got {l2_norm_clip}")
    if not noise_multiplier >= 0:
        raise ValueError(f"noise_multiplier must be >= 0, got {noise_multiplier}")
    if denominator is not None:
        if isinstance(denominator, bool) or not isinstance(denominator, numbers.Real):
            raise TypeError(f"denominator must be a number, got {type(denominator).__name__}")
        if not denominator > 0:
            raise ValueError(f"denominator must be > 0, got {denominator}")
        if len(x) == 0:
            rng = np.random.default_rng(seed)
            return [
                (
                    rng.normal(0.0, noise_multiplier * l2_norm_clip, size=v.shape) / denominator
                ).astype(np.float32)
                for v in model.trainable_variables
            ]
    norms = per_example_gradient_norms(model, x, y)
    scale = np.minimum(1.0, l2_norm_clip / np.maximum(norms, 1e-12))
    xt, yt = _batch(x, y)
    with tf.GradientTape() as tape:
        losses = tf.keras.losses.sparse_categorical_crossentropy(
            yt, model(xt, training=False), from_logits=True
        )
        clipped_sum_loss = tf.reduce_sum(tf.constant(scale, tf.float32) * losses)
    clipped_sums = tape.gradient(clipped_sum_loss, model.trainable_variables)
    denominator = len(x) if denominator is None else denominator
    rng = np.random.default_rng(seed)
    out = []
    for g in clipped_sums:
        noise = rng.normal(0.0, noise_multiplier * l2_norm_clip, size=g.shape)
        out.append(((g.numpy().astype(np.float64) + noise) / denominator).astype(np.float32))
    return out


def local_update(
    model: tf.keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    *,
    steps: int,
    learning_rate: float,
    batch_size: int | None = None,
) -> list[np.ndarray]:
    """Return what a FedAvg client sends after ``steps`` local SGD steps on its data: the
    change of each trainable variable, *divided by* ``-learning_rate`` (so that one full-batch
    step returns exactly :func:`client_gradient`). The steps go through the data in order,
    ``batch_size`` examples at a time (``None``: the whole batch each step); ``model`` is left
    as it was."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    xt, yt = _batch(x, y)
    size = len(x) if batch_size is None else int(batch_size)
    if not 1 <= size <= len(x):
        raise ValueError(f"batch_size must be in 1..{len(x)}, got {batch_size}")
    start: Sequence[np.ndarray] = [v.numpy() for v in model.trainable_variables]
    try:
        for step in range(steps):
            lo = (step * size) % len(x)
            idx = (np.arange(size) + lo) % len(x)
            with tf.GradientTape() as tape:
                loss = _loss(model, tf.gather(xt, idx), tf.gather(yt, idx))
            for v, g in zip(
                model.trainable_variables,
                tape.gradient(loss, model.trainable_variables),
                strict=True,
            ):
                v.assign_sub(learning_rate * g)
        return [
            (v.numpy() - s) / -learning_rate
            for v, s in zip(model.trainable_variables, start, strict=True)
        ]
    finally:
        for v, s in zip(model.trainable_variables, start, strict=True):
            v.assign(s)
