"""DP-SGD with Poisson sampling, the sampling that the accountant assumes.

In every step each example joins the batch independently with probability
``q = batch_size / n``, and the noisy sum of clipped gradients is divided by the *expected*
batch size ``batch_size``: :class:`PoissonSampler`, :class:`PoissonDPModel` (TF Privacy's
``DPModel`` with the fast clipping of :mod:`.clipping`), :func:`make_poisson_dp_model`,
:func:`poisson_dp_cifar10_cnn`; and what a training run did, read from its (cached) history:
:func:`steps_taken`, :func:`realised_batch_sizes`.

How Poisson batches avoid retracing: :meth:`PoissonDPModel.fit` feeds Keras a
``tf.data`` pipeline whose batch dimension is unknown (``None``), so Keras traces the
training step once for all batch sizes. Each batch is padded to a multiple of
``pad_multiple`` rows (at least one row, so an empty Poisson batch is still a step that
adds noise); padding rows are zero images with sample weight 0, and TF Privacy's clipping
multiplies each example's gradient by its weight, so they contribute nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow_privacy.privacy.fast_gradient_clipping import clip_grads, gradient_clipping_utils
from tensorflow_privacy.privacy.fast_gradient_clipping import layer_registry as lr
from tensorflow_privacy.privacy.keras_models.dp_keras_model import DPModel

from ..models import cifar10_cnn
from .accounting import check_int, steps_per_epoch
from .clipping import _check_dp_arguments, make_layer_registry, uses_fast_clipping


class PoissonSampler:
    """Poisson sampling of batches from ``n`` examples.

    Every call of :meth:`sample` is one step: each example joins the batch independently
    with probability ``q = expected_batch_size / n``, so the batch size is
    Binomial(n, q) with mean ``expected_batch_size``. ``rng`` is a NumPy ``Generator`` or
    a seed; draws continue across calls (never replayed). :meth:`batch` pads the batch to
    a multiple of ``pad_multiple`` rows (at least 1) with zero rows of sample weight 0.
    Used by :class:`PoissonDPModel`.
    """

    def __init__(
        self,
        n: int,
        expected_batch_size: int,
        *,
        rng: np.random.Generator | int | None = None,
        pad_multiple: int = 1,
    ) -> None:
        self.n = check_int("n", n)
        self.expected_batch_size = check_int("expected_batch_size", expected_batch_size)
        if self.expected_batch_size > self.n:
            raise ValueError(f"expected_batch_size ({expected_batch_size}) exceeds n ({n})")
        self.pad_multiple = check_int("pad_multiple", pad_multiple)
        self.sampling_probability = self.expected_batch_size / self.n
        self._rng = np.random.default_rng(rng)

    def sample(self) -> np.ndarray:
        """Return the (sorted) indices of one Poisson batch; it may be empty."""
        return np.flatnonzero(self._rng.random(self.n) < self.sampling_probability)

    def padded_size(self, size: int) -> int:
        """Return ``max(size, 1)`` rounded up to a multiple of ``pad_multiple``."""
        size = max(check_int("size", size, minimum=0), 1)
        return -(-size // self.pad_multiple) * self.pad_multiple

    def batch(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return one step's ``(x_batch, y_batch, weights)``.

        The sampled examples come first (weight 1.0), then zero padding rows (weight 0.0)
        up to :meth:`padded_size`. ``x`` and ``y`` must have ``n`` rows.
        """
        if len(x) != self.n or len(y) != self.n:
            raise ValueError(f"x and y must have n={self.n} rows, got {len(x)} and {len(y)}")
        idx = self.sample()
        size = self.padded_size(len(idx))
        x_batch = np.zeros((size, *x.shape[1:]), dtype=x.dtype)
        y_batch = np.zeros((size, *y.shape[1:]), dtype=y.dtype)
        weights = np.zeros(size, dtype=np.float32)
        x_batch[: len(idx)], y_batch[: len(idx)], weights[: len(idx)] = x[idx], y[idx], 1.0
        return x_batch, y_batch, weights

    def dataset(self, x: np.ndarray, y: np.ndarray) -> tf.data.Dataset:
        """Return an endless ``tf.data.Dataset`` of :meth:`batch` triples.

        Its batch dimension is unknown (``None``), so a ``tf.function`` consuming it is
        traced once for every batch size.
        """
        x, y = np.asarray(x), np.asarray(y)

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            while True:
                yield self.batch(x, y)

        signature = (
            tf.TensorSpec((None, *x.shape[1:]), tf.as_dtype(x.dtype)),
            tf.TensorSpec((None, *y.shape[1:]), tf.as_dtype(y.dtype)),
            tf.TensorSpec((None,), tf.float32),
        )
        return tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(2)


class PoissonDPModel(DPModel):
    """TF Privacy's ``DPModel`` trained with Poisson sampling (fast clipping path only).

    ``fit(x, y, batch_size=expected_batch_size, epochs=E)`` runs ``E`` epochs of
    ``ceil(n / expected_batch_size)`` steps each (as many steps as Keras' ``fit``); every
    step draws a fresh Poisson batch (:class:`PoissonSampler`, seeded with
    ``sampling_seed``). The training step uses TF Privacy's own clipping
    (``clip_grads.compute_clipped_gradients_and_outputs``, sample weights 1 for sampled
    rows and 0 for padding) and noise (``gradient_clipping_utils.add_aggregate_noise``),
    then rescales the update to ``(sum of clipped gradients + N(0, sigma^2 C^2 I)) /
    expected_batch_size`` -- the expected, not the realised, batch size, as the privacy
    analysis of Poisson-sampled DP-SGD requires (Opacus does the same).

    Each epoch's logs carry ``dp_steps`` (optimizer steps taken so far: the count for the
    accountant), ``batch_size_mean`` and ``batch_size_sq_mean`` (realised batch sizes).
    The loss and accuracy metrics are means over the sampled examples.
    """

    def __init__(
        self,
        l2_norm_clip: float,
        noise_multiplier: float,
        expected_batch_size: int,
        *args: Any,
        sampling_seed: int | None = None,
        pad_multiple: int = 1,
        layer_registry: lr.LayerRegistry | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            l2_norm_clip,
            noise_multiplier,
            None,  # num_microbatches: one clipped gradient per example
            False,  # use_xla
            layer_registry if layer_registry is not None else make_layer_registry(),
            *args,
            **kwargs,
        )
        self.expected_batch_size = check_int("expected_batch_size", expected_batch_size)
        self.pad_multiple = check_int("pad_multiple", pad_multiple)
        self.sampling_seed = sampling_seed
        self._sampling_rng = np.random.default_rng(sampling_seed)
        if not uses_fast_clipping(self):
            raise ValueError(
                "PoissonDPModel needs TF Privacy's fast clipping path: every trainable layer "
                "must be in the layer registry (see make_layer_registry)."
            )
        # Set past Keras' attribute tracking: metric variables must not join the model's
        # weights (which the cache saves); the `metrics` property below lists them instead.
        object.__setattr__(
            self,
            "_batch_size_metrics",
            (
                tf.keras.metrics.Mean(name="batch_size_mean"),
                tf.keras.metrics.Mean(name="batch_size_sq_mean"),
            ),
        )

    @property
    def metrics(self) -> list[tf.keras.metrics.Metric]:
        """Keras' metrics plus the realised batch size's mean and mean square (reset each
        epoch like every metric)."""
        return [*super().metrics, *self._batch_size_metrics]

    def fit(
        self,
        x: np.ndarray | None = None,
        y: np.ndarray | None = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: str | int = "auto",
        callbacks: Sequence[tf.keras.callbacks.Callback] | None = None,
        validation_data: Any = None,
        initial_epoch: int = 0,
        **kwargs: Any,
    ) -> tf.keras.callbacks.History:
        """Train on NumPy arrays ``x``, ``y`` with Poisson batches; return Keras' ``History``.

        ``batch_size`` must be ``None`` or ``expected_batch_size``. Other ``fit`` options
        (``shuffle``, ``sample_weight``, ``steps_per_epoch``, ...) are refused with a
        ``TypeError``: they would change the sampling the accountant is told about.
        """
        if kwargs:
            raise TypeError(f"PoissonDPModel.fit does not accept {sorted(kwargs)}")
        if x is None or y is None:
            raise ValueError("PoissonDPModel.fit needs NumPy arrays x and y")
        if batch_size is not None and batch_size != self.expected_batch_size:
            raise ValueError(
                f"batch_size ({batch_size}) must equal the model's expected_batch_size "
                f"({self.expected_batch_size}); the update is divided by the latter"
            )
        x, y = np.asarray(x), np.asarray(y)
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
        sampler = PoissonSampler(
            len(x), self.expected_batch_size, rng=self._sampling_rng, pad_multiple=self.pad_multiple
        )
        return super().fit(
            sampler.dataset(x, y),
            epochs=epochs,
            steps_per_epoch=steps_per_epoch(len(x), self.expected_batch_size),
            verbose=verbose,
            callbacks=callbacks,
            validation_data=validation_data,
            initial_epoch=initial_epoch,
        )

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One DP-SGD step on a padded Poisson batch ``(x, y, weights)``."""
        if self._clipping_loss is None:
            self._make_clipping_loss()
        if self.losses:
            raise NotImplementedError("PoissonDPModel does not support layer losses")
        if self.loss.reduction not in (
            tf.keras.losses.Reduction.AUTO,
            tf.keras.losses.Reduction.SUM_OVER_BATCH_SIZE,
        ):
            raise ValueError("PoissonDPModel needs a loss with the default (mean) reduction")
        x, y, weights = tf.keras.utils.unpack_x_y_sample_weight(data)
        rows = tf.shape(y)[0]  # realised batch size plus padding
        if weights is None:
            weights = tf.ones([rows], tf.float32)
        weights = tf.cast(weights, tf.float32)
        # TF Privacy's clipping; the mean loss divides the weighted sum by `rows`.
        clipped_grads, y_pred, _ = clip_grads.compute_clipped_gradients_and_outputs(
            input_model=self,
            x_batch=x,
            y_batch=y,
            weight_batch=weights,
            l2_norm_clip=self._l2_norm_clip,
            layer_registry=self._layer_registry,
            num_microbatches=None,
            clipping_loss=self._clipping_loss,
        )
        grads = clipped_grads
        if self._noise_multiplier > 0:
            # TF Privacy's noise: stddev sigma * C / rows, matching the division above.
            grads = gradient_clipping_utils.add_aggregate_noise(
                self, clipped_grads, rows, self._l2_norm_clip, self._noise_multiplier
            )
        # (noisy sum) / rows  ->  (noisy sum) / expected batch size.
        rescale = tf.cast(rows, tf.float32) / float(self.expected_batch_size)
        grads = [g * rescale for g in grads]
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))

        realised = tf.reduce_sum(weights)
        # Metrics over the sampled examples only: the loss's mean divides by `rows`.
        loss_weights = weights * tf.cast(rows, tf.float32) / tf.maximum(realised, 1.0)
        self.compiled_loss(y, y_pred, sample_weight=loss_weights)
        self.compiled_metrics.update_state(y, y_pred, sample_weight=weights)
        batch_size_mean, batch_size_sq_mean = self._batch_size_metrics
        batch_size_mean.update_state(realised)
        batch_size_sq_mean.update_state(tf.square(realised))
        logs = {m.name: m.result() for m in self.metrics}
        logs["dp_steps"] = self.optimizer.iterations
        return logs


def make_poisson_dp_model(
    base: tf.keras.Model,
    l2_norm_clip: float,
    noise_multiplier: float,
    expected_batch_size: int,
    *,
    sampling_seed: int | None = None,
    pad_multiple: int = 1,
    layer_registry: lr.LayerRegistry | None = None,
) -> PoissonDPModel:
    """Return an uncompiled :class:`PoissonDPModel` with the layers (and weights) of ``base``.

    Same checks as :func:`make_dp_model`; raises ``ValueError`` if a trainable layer is not
    in the registry (the Poisson step exists for the fast clipping path only). Compile it
    with a plain Keras optimizer and a mean-reduced loss.
    """
    _check_dp_arguments(base, l2_norm_clip, noise_multiplier)
    return PoissonDPModel(
        float(l2_norm_clip),
        float(noise_multiplier),
        expected_batch_size,
        sampling_seed=sampling_seed,
        pad_multiple=pad_multiple,
        layer_registry=layer_registry,
        inputs=base.inputs,
        outputs=base.outputs,
        name=f"poisson_dp_{base.name}",
    )


def poisson_dp_cifar10_cnn(
    l2_norm_clip: float,
    noise_multiplier: float,
    expected_batch_size: int,
    *,
    sampling_seed: int | None = None,
    pad_multiple: int = 1,
) -> PoissonDPModel:
    """Return notebook 02's CIFAR-10 CNN as an uncompiled :class:`PoissonDPModel`."""
    return make_poisson_dp_model(
        cifar10_cnn(),
        l2_norm_clip,
        noise_multiplier,
        expected_batch_size,
        sampling_seed=sampling_seed,
        pad_multiple=pad_multiple,
    )


def steps_taken(history: Mapping[str, Any]) -> int:
    """Return the optimizer steps of a :class:`PoissonDPModel` training run.

    Reads ``history["dp_steps"]`` (written by the training step, kept by the model cache):
    the number of steps the accountant must be told.
    """
    steps = history.get("dp_steps") if isinstance(history, Mapping) else None
    if not steps:
        raise ValueError("history has no 'dp_steps': was it trained by a PoissonDPModel?")
    return int(steps[-1])


def realised_batch_sizes(history: Mapping[str, Any]) -> tuple[float, float]:
    """Return the mean and standard deviation of the realised Poisson batch sizes.

    Pools the per-epoch ``batch_size_mean`` and ``batch_size_sq_mean`` of a
    :class:`PoissonDPModel` history (every epoch has the same number of steps).
    """
    if not isinstance(history, Mapping) or not history.get("batch_size_mean"):
        raise ValueError("history has no 'batch_size_mean': was it trained by a PoissonDPModel?")
    mean = float(np.mean(history["batch_size_mean"]))
    second_moment = float(np.mean(history["batch_size_sq_mean"]))
    return mean, math.sqrt(max(second_moment - mean**2, 0.0))
