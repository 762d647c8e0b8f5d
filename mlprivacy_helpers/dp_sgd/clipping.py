"""Fast per-example clipping for DP-SGD with Conv2D layers, through TF Privacy's ``DPModel``.

TF Privacy's ``DPModel`` (``tensorflow_privacy.privacy.keras_models.dp_keras_model``)
clips per-example gradients with the "ghost norm" trick when every trainable layer has a
*registry function* in its ``LayerRegistry``; the library ships them for ``Dense`` and
``Embedding`` only. A CNN therefore falls back to ``tf.vectorized_map`` over examples,
which is tens of times slower than a plain epoch on a CPU. This module adds the missing
piece: :func:`conv2d_layer_computation` (the registry function for Conv2D, same contract as
the library's ``dense_layer_computation``), :func:`make_layer_registry` (TF Privacy's default
registry plus Conv2D), :func:`make_dp_model` / :func:`dp_cifar10_cnn` (a Keras model in
``DPModel`` with that registry: the clipping, noise and optimizer step are TF Privacy's own
code) and :func:`uses_fast_clipping` (whether a ``DPModel`` took the fast path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf
from tensorflow_privacy.privacy.fast_gradient_clipping import common_manip_utils, type_aliases
from tensorflow_privacy.privacy.fast_gradient_clipping import layer_registry as lr
from tensorflow_privacy.privacy.keras_models.dp_keras_model import DPModel, DPSequential

from ..models import cifar10_cnn

# TF Privacy 0.8.12 records in this private attribute whether a DP model takes the fast
# ("ghost norm") clipping path; there is no public accessor.
_FAST_PATH_ATTRIBUTE = "_enable_fast_peg_computation"


def pre_activation(
    layer_instance: tf.keras.layers.Layer, inputs: tf.Tensor, tape: tf.GradientTape
) -> tuple[tf.Tensor, tf.Tensor]:
    """Return ``(base_vars, outputs)`` of a layer with an ``activation``: its output before the
    activation (watched by ``tape``, as TF Privacy's registry functions need) and after it.
    The layer's activation is switched off for the call and restored even if it fails."""
    activation = layer_instance.activation
    layer_instance.activation = None
    try:
        base_vars = layer_instance(inputs)
    finally:
        layer_instance.activation = activation
    tape.watch(base_vars)
    return base_vars, (activation(base_vars) if activation else base_vars)


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
    base_vars, outputs = pre_activation(layer_instance, inputs, tape)

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

    Used by :func:`make_dp_model`.
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
    Keras optimizer and a reduced loss.
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
    slower on a CPU, would go unnoticed. Used by :class:`PoissonDPModel`.
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
