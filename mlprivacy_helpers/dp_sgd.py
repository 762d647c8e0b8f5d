"""DP-SGD for notebook 02: fast per-example clipping for Conv2D, Poisson sampling, accounting.

TF Privacy's ``DPModel`` (``tensorflow_privacy.privacy.keras_models.dp_keras_model``)
clips per-example gradients with the "ghost norm" trick when every trainable layer has a
*registry function* in its ``LayerRegistry``; the library ships them for ``Dense`` and
``Embedding`` only. A CNN therefore falls back to ``tf.vectorized_map`` over examples,
which is tens of times slower than a plain epoch on a CPU. This module adds the missing
piece:

* :func:`conv2d_layer_computation` -- the registry function for ``tf.keras.layers.Conv2D``
  (same contract as the library's ``dense_layer_computation``);
* :func:`make_layer_registry` -- TF Privacy's default registry plus Conv2D;
* :func:`make_dp_model` / :func:`dp_cifar10_cnn` -- wrap a Keras model in ``DPModel``
  with that registry (the clipping, noise and optimizer step are TF Privacy's own code);
* :func:`uses_fast_clipping` -- whether a ``DPModel`` took the fast path (fails loudly if
  TF Privacy's private flag is gone);
* :class:`PoissonSampler`, :class:`PoissonDPModel`, :func:`poisson_dp_cifar10_cnn` --
  DP-SGD with **Poisson sampling**, the sampling that the accountant (below) assumes: in
  every step each example joins
  the batch independently with probability ``q = batch_size / n``, and the noisy sum of
  clipped gradients is divided by the *expected* batch size ``batch_size``;
* :func:`steps_taken`, :func:`realised_batch_sizes` -- what a Poisson training run did,
  read from its (cached) history;
* :func:`dp_sgd_epsilons` (with :func:`poisson_dp_sgd_event`, :func:`shuffled_dp_sgd_event`,
  :func:`epsilon`, :func:`steps_per_epoch`) -- the ε of those steps with Google's
  ``dp_accounting`` library, RDP and PLD accountants, for Poisson sampling and, for
  comparison, for shuffled fixed batches without amplification.

Accounting. With **Poisson sampling** one step is a ``PoissonSampledDpEvent`` of a
``GaussianDpEvent``; ``steps`` of them compose (``SelfComposedDpEvent``), and sampling
*amplifies* privacy. With **shuffled fixed batches** (what Keras ``fit`` does) every example
is in exactly one batch per epoch, so each epoch is one Gaussian mechanism on it and no
amplification may be claimed. The RDP accountant is the one TF Privacy's
``compute_dp_sgd_privacy_statement`` uses; the PLD accountant (privacy loss distributions,
pessimistic estimate) gives a tighter upper bound. No microbatching (one clipped gradient per
example). Adjacency differs between the two rows: the Poisson row holds for adding or removing
one example (each step's sampled set changes by at most that example). The shuffled row's
"one Gaussian per epoch" holds for *zero-out* adjacency (the example's gradient replaced by
zero, so every batch keeps its place), or for substitution with sensitivity 2C; under
add/remove, one more example shifts every later batch boundary of the epoch, and the row is
not a bound for it.

How Poisson batches avoid retracing: :meth:`PoissonDPModel.fit` feeds Keras a
``tf.data`` pipeline whose batch dimension is unknown (``None``), so Keras traces the
training step once for all batch sizes. Each batch is padded to a multiple of
``pad_multiple`` rows (at least one row, so an empty Poisson batch is still a step that
adds noise); padding rows are zero images with sample weight 0, and TF Privacy's clipping
multiplies each example's gradient by its weight, so they contribute nothing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import dp_accounting
import numpy as np
import tensorflow as tf
from dp_accounting import pld, rdp
from tensorflow_privacy.privacy.fast_gradient_clipping import (
    clip_grads,
    common_manip_utils,
    gradient_clipping_utils,
    type_aliases,
)
from tensorflow_privacy.privacy.fast_gradient_clipping import layer_registry as lr
from tensorflow_privacy.privacy.keras_models.dp_keras_model import DPModel, DPSequential

from .models import cifar10_cnn

# TF Privacy 0.8.12 records in this private attribute whether a DP model takes the fast
# ("ghost norm") clipping path; there is no public accessor.
_FAST_PATH_ATTRIBUTE = "_enable_fast_peg_computation"


def conv2d_layer_computation(
    layer_instance: tf.keras.layers.Conv2D,
    input_args: Sequence[Any],
    input_kwargs: Mapping[str, Any],
    tape: tf.GradientTape,
    num_microbatches: tf.Tensor | int | None = None,
) -> type_aliases.RegistryFunctionOutput:
    """Registry function for ``tf.keras.layers.Conv2D`` (TF Privacy's fast clipping contract).

    Returns ``(base_vars, outputs, sqr_norm_fn)``: ``base_vars`` is the pre-activation
    output ``Z`` (watched by ``tape``), ``outputs`` the layer's output, and
    ``sqr_norm_fn(dL/dZ)`` the per-example (or per-microbatch) squared L2 norm of the
    gradient of the kernel and bias, shape ``(batch,)``.

    A convolution is a dense layer applied to every image patch, so the per-example kernel
    gradient is ``P_i^T G_i`` with ``P_i`` the example's patches (``tf.image.extract_patches``,
    same padding, strides and dilation as the layer) and ``G_i = dL/dZ_i``; a column of ones
    appended to ``P_i`` yields the bias gradient. One einsum builds these gradients (small
    here: kernel size x filters per example), whose squares are summed. Supports
    ``padding`` 'valid'/'same', any strides or dilation, with or without bias;
    ``channels_first`` and grouped convolutions raise ``NotImplementedError``.
    """
    if not isinstance(layer_instance, tf.keras.layers.Conv2D):
        raise TypeError(f"layer_instance must be a Conv2D, got {type(layer_instance).__name__}")
    if input_kwargs:
        raise ValueError("Conv2D layer calls should not receive kwargs.")
    if len(input_args) != 1:
        raise ValueError("Only layer inputs of length 1 are permitted.")
    if layer_instance.data_format != "channels_last":
        raise NotImplementedError("conv2d_layer_computation supports data_format='channels_last'.")
    if layer_instance.groups != 1:
        raise NotImplementedError("conv2d_layer_computation supports groups=1 only.")
    if layer_instance.padding not in ("valid", "same"):
        raise NotImplementedError(f"Unsupported padding {layer_instance.padding!r}.")

    (inputs,) = input_args
    orig_activation = layer_instance.activation
    layer_instance.activation = None
    try:
        base_vars = layer_instance(inputs)
    finally:
        layer_instance.activation = orig_activation
    tape.watch(base_vars)
    outputs = orig_activation(base_vars) if orig_activation else base_vars

    def sqr_norm_fn(base_vars_grads: tf.Tensor) -> tf.Tensor:
        kh, kw = layer_instance.kernel_size
        sh, sw = layer_instance.strides
        dh, dw = layer_instance.dilation_rate
        patches = tf.image.extract_patches(
            inputs,
            sizes=[1, kh, kw, 1],
            strides=[1, sh, sw, 1],
            rates=[1, dh, dw, 1],
            padding=layer_instance.padding.upper(),
        )
        batch = tf.shape(patches)[0]
        patches = tf.reshape(patches, [batch, -1, patches.shape[-1]])
        grads = tf.reshape(base_vars_grads, [batch, -1, base_vars_grads.shape[-1]])
        if layer_instance.use_bias:
            patches = tf.concat([patches, tf.ones_like(patches[..., :1])], axis=-1)
        per_example = tf.einsum("blk,blc->bkc", patches, grads)
        if num_microbatches is not None:
            per_example = tf.reduce_sum(
                common_manip_utils.maybe_add_microbatch_axis(per_example, num_microbatches),
                axis=1,
            )
        return tf.reduce_sum(tf.square(per_example), axis=[1, 2])

    return base_vars, outputs, sqr_norm_fn


def make_layer_registry() -> lr.LayerRegistry:
    """Return TF Privacy's default ``LayerRegistry`` (Dense, Embedding) plus Conv2D.

    Used by notebook 02 and :func:`make_dp_model`.
    """
    registry = lr.make_default_layer_registry()
    registry.insert(tf.keras.layers.Conv2D, conv2d_layer_computation)
    return registry


def _check_dp_arguments(base: tf.keras.Model, l2_norm_clip: float, noise_multiplier: float) -> None:
    """Raise ``TypeError``/``ValueError`` for arguments no DP model can be built from."""
    if not isinstance(base, tf.keras.Model):
        raise TypeError(f"base must be a tf.keras.Model, got {type(base).__name__}")
    if not l2_norm_clip > 0:
        raise ValueError(f"l2_norm_clip must be positive, got {l2_norm_clip}")
    if not noise_multiplier >= 0:
        raise ValueError(f"noise_multiplier must be non-negative, got {noise_multiplier}")


def make_dp_model(
    base: tf.keras.Model,
    l2_norm_clip: float,
    noise_multiplier: float,
    *,
    num_microbatches: int | None = None,
    use_xla: bool = False,
    layer_registry: lr.LayerRegistry | None = None,
) -> DPModel:
    """Return an uncompiled TF Privacy ``DPModel`` with the same layers (and weights) as ``base``.

    ``base`` must be a functional or Sequential Keras model. ``layer_registry`` defaults
    to :func:`make_layer_registry`; when all trainable layers are registered, TF Privacy
    takes its fast clipping path (check with :func:`uses_fast_clipping`). ``use_xla``
    defaults to False: XLA was slower on a 2-core CPU. Compile the result with a plain
    Keras optimizer and a reduced loss. Used by notebook 02.
    """
    _check_dp_arguments(base, l2_norm_clip, noise_multiplier)
    if layer_registry is None:
        layer_registry = make_layer_registry()
    return DPModel(
        l2_norm_clip=float(l2_norm_clip),
        noise_multiplier=float(noise_multiplier),
        num_microbatches=num_microbatches,
        use_xla=use_xla,
        layer_registry=layer_registry,
        inputs=base.inputs,
        outputs=base.outputs,
        name=f"dp_{base.name}",
    )


def dp_cifar10_cnn(
    l2_norm_clip: float,
    noise_multiplier: float,
    *,
    num_microbatches: int | None = None,
    use_xla: bool = False,
) -> DPModel:
    """Return notebook 02's CIFAR-10 CNN (:func:`~mlprivacy_helpers.models.cifar10_cnn`) as an
    uncompiled ``DPModel`` that clips per example with the fast Conv2D/Dense registry."""
    return make_dp_model(
        cifar10_cnn(),
        l2_norm_clip,
        noise_multiplier,
        num_microbatches=num_microbatches,
        use_xla=use_xla,
    )


def uses_fast_clipping(model: tf.keras.Model) -> bool:
    """Return True when the TF Privacy DP model ``model`` takes the fast clipping path.

    Reads TF Privacy's private flag ``_enable_fast_peg_computation``. Raises ``TypeError``
    if ``model`` is not a TF Privacy ``DPModel``/``DPSequential``, and ``RuntimeError`` if
    the flag is missing (TF Privacy renamed it): without this check the slow path, ~100x
    slower on a CPU, would go unnoticed. Used by notebook 02 and :class:`PoissonDPModel`.
    """
    if not isinstance(model, DPModel | DPSequential):
        raise TypeError(
            f"model must be a TF Privacy DPModel or DPSequential, got {type(model).__name__}"
        )
    try:
        flag = getattr(model, _FAST_PATH_ATTRIBUTE)
    except AttributeError:
        import tensorflow_privacy

        raise RuntimeError(
            f"TF Privacy's DPModel has no attribute {_FAST_PATH_ATTRIBUTE!r} (installed "
            f"tensorflow-privacy {tensorflow_privacy.__version__}; tested with 0.8.12), so "
            "mlprivacy_helpers.dp_sgd cannot tell whether fast per-example clipping is used. "
            "Install the pinned version (requirements-lock.txt) or update uses_fast_clipping."
        ) from None
    return bool(flag)


def _check_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


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
        self.n = _check_int("n", n)
        self.expected_batch_size = _check_int("expected_batch_size", expected_batch_size)
        if self.expected_batch_size > self.n:
            raise ValueError(f"expected_batch_size ({expected_batch_size}) exceeds n ({n})")
        self.pad_multiple = _check_int("pad_multiple", pad_multiple)
        self.sampling_probability = self.expected_batch_size / self.n
        self._rng = np.random.default_rng(rng)

    def sample(self) -> np.ndarray:
        """Return the (sorted) indices of one Poisson batch; it may be empty."""
        return np.flatnonzero(self._rng.random(self.n) < self.sampling_probability)

    def padded_size(self, size: int) -> int:
        """Return ``max(size, 1)`` rounded up to a multiple of ``pad_multiple``."""
        size = max(_check_int("size", size, minimum=0), 1)
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
    The loss and accuracy metrics are means over the sampled examples. Used by notebook 02.
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
        self.expected_batch_size = _check_int("expected_batch_size", expected_batch_size)
        self.pad_multiple = _check_int("pad_multiple", pad_multiple)
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
    with a plain Keras optimizer and a mean-reduced loss. Used by notebook 02.
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
    the number of steps the accountant must be told. Used by notebook 02.
    """
    steps = history.get("dp_steps") if isinstance(history, Mapping) else None
    if not steps:
        raise ValueError("history has no 'dp_steps': was it trained by a PoissonDPModel?")
    return int(steps[-1])


def realised_batch_sizes(history: Mapping[str, Any]) -> tuple[float, float]:
    """Return the mean and standard deviation of the realised Poisson batch sizes.

    Pools the per-epoch ``batch_size_mean`` and ``batch_size_sq_mean`` of a
    :class:`PoissonDPModel` history (every epoch has the same number of steps). Used by
    notebook 02.
    """
    if not isinstance(history, Mapping) or not history.get("batch_size_mean"):
        raise ValueError("history has no 'batch_size_mean': was it trained by a PoissonDPModel?")
    mean = float(np.mean(history["batch_size_mean"]))
    second_moment = float(np.mean(history["batch_size_sq_mean"]))
    return mean, math.sqrt(max(second_moment - mean**2, 0.0))


# --- accounting -------------------------------------------------------------------------

Accountant = Literal["rdp", "pld"]
ACCOUNTANTS: tuple[Accountant, ...] = ("rdp", "pld")


def _check_noise(noise_multiplier: float) -> float:
    if isinstance(noise_multiplier, bool) or not isinstance(noise_multiplier, int | float):
        raise TypeError(f"noise_multiplier must be a number, got {noise_multiplier!r}")
    if not noise_multiplier > 0 or math.isinf(noise_multiplier):
        raise ValueError(f"noise_multiplier must be positive and finite, got {noise_multiplier}")
    return float(noise_multiplier)


def poisson_dp_sgd_event(
    noise_multiplier: float, sampling_probability: float, steps: int
) -> dp_accounting.DpEvent:
    """Return the ``DpEvent`` of ``steps`` DP-SGD steps with Poisson sampling.

    ``SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), steps)``.
    ``sampling_probability`` (q) must be in (0, 1]. Used by :func:`dp_sgd_epsilons`.
    """
    sigma = _check_noise(noise_multiplier)
    if not 0 < sampling_probability <= 1:
        raise ValueError(f"sampling_probability must be in (0, 1], got {sampling_probability}")
    steps = _check_int("steps", steps)
    step = dp_accounting.PoissonSampledDpEvent(
        sampling_probability=float(sampling_probability),
        event=dp_accounting.GaussianDpEvent(sigma),
    )
    return dp_accounting.SelfComposedDpEvent(event=step, count=steps)


def group_poisson_dp_sgd_event(
    noise_multiplier: float, sampling_probability: float, steps: int, group_size: int
) -> dp_accounting.DpEvent:
    """Return a ``DpEvent`` that bounds Poisson DP-SGD for a group of ``group_size`` examples
    (a person with that many training images), accounted directly rather than through the
    generic group-privacy conversion (:func:`group_privacy`).

    Adding or removing the ``k`` examples changes one step only if at least one of them is
    sampled, which happens with probability ``q' = 1 - (1 - q)^k``; given that, the clipped
    sum moves by the sum of the sampled ones' gradients, a shift of L2 norm at most ``k C``.
    Each step is thus a mixture of Gaussian shifts of norm at most ``k C`` under noise of
    standard deviation ``sigma C``, which is dominated by the single shift ``k C``: a
    Poisson-sampled Gaussian with rate ``q'`` and noise multiplier ``sigma / k``, composed
    ``steps`` times. With ``k = 1`` this is :func:`poisson_dp_sgd_event`. Used by notebook 03
    (person-level ε of the faces model).
    """
    k = _check_int("group_size", group_size)
    if not 0 < sampling_probability <= 1:
        raise ValueError(f"sampling_probability must be in (0, 1], got {sampling_probability}")
    group_rate = 1.0 - (1.0 - float(sampling_probability)) ** k
    return poisson_dp_sgd_event(_check_noise(noise_multiplier) / k, group_rate, steps)


def shuffled_dp_sgd_event(noise_multiplier: float, epochs: int) -> dp_accounting.DpEvent:
    """Return the ``DpEvent`` of ``epochs`` epochs of shuffled fixed batches, no amplification.

    Each example is in exactly one batch per epoch: one ``GaussianDpEvent(sigma)`` per
    epoch, composed ``epochs`` times (TF Privacy's "once per epoch" line). This holds for
    zero-out adjacency (the example's gradient replaced by zero), not for adding or removing an
    example, which moves the later batch boundaries (see the module docstring). Used by
    :func:`dp_sgd_epsilons`.
    """
    sigma = _check_noise(noise_multiplier)
    epochs = _check_int("epochs", epochs)
    return dp_accounting.SelfComposedDpEvent(
        event=dp_accounting.GaussianDpEvent(sigma), count=epochs
    )


def epsilon(event: dp_accounting.DpEvent, delta: float, accountant: Accountant = "rdp") -> float:
    """Return the ε of ``event`` at ``delta`` with the ``"rdp"`` or ``"pld"`` accountant.

    RDP: ``dp_accounting.rdp.RdpAccountant`` with its default orders. PLD:
    ``dp_accounting.pld.PLDAccountant`` with its defaults (pessimistic estimate, so the
    value is an upper bound). Used by :func:`dp_sgd_epsilons`.
    """
    if not isinstance(event, dp_accounting.DpEvent):
        raise TypeError(f"event must be a dp_accounting.DpEvent, got {type(event).__name__}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if accountant == "rdp":
        engine = rdp.RdpAccountant()
    elif accountant == "pld":
        engine = pld.PLDAccountant()
    else:
        raise ValueError(f"accountant must be one of {ACCOUNTANTS}, got {accountant!r}")
    return float(engine.compose(event).get_epsilon(delta))


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Return ``ceil(n / batch_size)``: the steps of one Keras ``fit`` epoch, which is also
    the number of Poisson steps that :class:`~mlprivacy_helpers.dp_sgd.PoissonDPModel`
    runs per epoch (``batch_size`` is then the *expected* batch size)."""
    n = _check_int("n", n)
    batch_size = _check_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size ({batch_size}) must not exceed n ({n})")
    return -(-n // batch_size)


def dp_sgd_epsilons(
    *, n: int, batch_size: int, steps: int, noise_multiplier: float, delta: float
) -> dict[str, float]:
    """Return ε of DP-SGD for the same noise and steps under two sampling schemes.

    Keys: ``"poisson_rdp"``, ``"poisson_pld"`` (Poisson sampling with ``q = batch_size / n``
    for ``steps`` steps), ``"shuffled_rdp"``, ``"shuffled_pld"`` (shuffled fixed batches of
    ``batch_size``, no amplification: ``ceil(steps / steps_per_epoch(n, batch_size))``
    epochs). Used by notebook 02 (section 8 and exercise 2).
    """
    steps = _check_int("steps", steps)
    per_epoch = steps_per_epoch(n, batch_size)
    events = {
        "poisson": poisson_dp_sgd_event(noise_multiplier, batch_size / n, steps),
        "shuffled": shuffled_dp_sgd_event(noise_multiplier, -(-steps // per_epoch)),
    }
    return {
        f"{scheme}_{accountant}": epsilon(event, delta, accountant)
        for scheme, event in events.items()
        for accountant in ACCOUNTANTS
    }


def group_privacy(epsilon: float, delta: float, k: int) -> tuple[float, float]:
    """Return the ``(ε_k, δ_k)`` that ``(ε, δ)``-DP implies for a group of ``k`` records.

    Group privacy (Dwork and Roth, 2014, Theorem 2.2 and its (ε, δ) form): datasets that
    differ in ``k`` records are ``(k ε, k e^{(k-1) ε} δ)``-indistinguishable. ``δ_k`` is
    returned as computed; at or above 1 the guarantee is vacuous. Used by notebook 03
    (person-level ε for a person with ``k`` training images).
    """
    if not math.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be finite and non-negative, got {epsilon}")
    if not 0 <= delta < 1:
        raise ValueError(f"delta must be in [0, 1), got {delta}")
    k = _check_int("k", k)
    if delta == 0:
        return k * epsilon, 0.0
    exponent = (k - 1) * epsilon + math.log(k)
    group_delta = math.exp(exponent) * delta if exponent < 700 else math.inf
    return k * epsilon, group_delta
