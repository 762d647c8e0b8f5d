"""Fast per-example clipping for models whose examples are sequences (notebook 05's language model).

When one training example is a whole sequence (a record of text) and a ``Dense`` layer runs on
every position of it, the layer's input has shape ``(batch, positions, features)`` and the
example's kernel gradient is ``sum_t x_t g_t^T`` (``x_t`` the input, ``g_t`` the gradient of
the pre-activation at position ``t``), its bias gradient ``sum_t g_t``. The exact squared norm
of both is ``sum_{t,s} (x_t . x_s + 1)(g_t . g_s)``: the sum of the elementwise product of the
two Gram matrices of the example's positions (the ``+ 1`` is the bias, a constant input 1).
:func:`dense_sequence_layer_computation` computes that, with the contract of TF Privacy's
registry functions (rank-2 inputs are one position), and :func:`make_sequence_layer_registry`
puts it in place of TF Privacy's for ``Dense``. TF Privacy's ``Embedding`` function is exact
for any input rank.

TF Privacy 0.8.12's own ``Dense`` function is not valid for such inputs: it returns
``(sum_t |x_t|^2 + 1) * sum_t |g_t|^2``. Its kernel part is an upper bound (Cauchy-Schwarz),
but its bias part ``sum_t |g_t|^2`` can be smaller than ``|sum_t g_t|^2`` by up to a factor of
the number of positions, so the total can come out *below* the true norm (measured in
``tests/test_sequence_clipping.py``): DP-SGD would then clip too little, and the ε it reports
would not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf
from tensorflow_privacy.privacy.fast_gradient_clipping import type_aliases

from .clipping import make_layer_registry, pre_activation


def dense_sequence_layer_computation(
    layer_instance: tf.keras.layers.Dense,
    input_args: Sequence[Any],
    input_kwargs: Mapping[str, Any],
    tape: tf.GradientTape,
    num_microbatches: tf.Tensor | int | None = None,
) -> type_aliases.RegistryFunctionOutput:
    """Registry function for ``tf.keras.layers.Dense`` on inputs of any rank >= 2.

    Returns ``(base_vars, outputs, sqr_norm_fn)`` as TF Privacy's registry functions do:
    ``base_vars`` is the pre-activation output (watched by ``tape``), and
    ``sqr_norm_fn(dL/d base_vars)`` the exact per-example squared L2 norm of the kernel's and
    bias's gradients, shape ``(batch,)``. Microbatches are not supported (``ValueError``).
    """
    if not isinstance(layer_instance, tf.keras.layers.Dense):
        raise TypeError(f"layer_instance must be a Dense, got {type(layer_instance).__name__}")
    if input_kwargs:
        raise ValueError("Dense layer calls should not receive kwargs.")
    if len(input_args) != 1:
        raise ValueError("Only layer inputs of length 1 are permitted.")
    if num_microbatches is not None:
        raise ValueError("dense_sequence_layer_computation clips whole examples only")
    (inputs,) = input_args
    base_vars, outputs = pre_activation(layer_instance, inputs, tape)

    def sqr_norm_fn(base_vars_grads: tf.Tensor) -> tf.Tensor:
        batch = tf.shape(inputs)[0]
        x = tf.reshape(tf.cast(inputs, base_vars_grads.dtype), [batch, -1, inputs.shape[-1]])
        g = tf.reshape(base_vars_grads, [batch, -1, base_vars_grads.shape[-1]])
        x_gram = tf.matmul(x, x, transpose_b=True)  # (batch, positions, positions)
        if layer_instance.use_bias:
            x_gram += 1.0  # a constant 1 appended to every position's input
        g_gram = tf.matmul(g, g, transpose_b=True)
        return tf.reduce_sum(x_gram * g_gram, axis=[1, 2])

    return base_vars, outputs, sqr_norm_fn


def make_sequence_layer_registry():
    """Return the series' layer registry (TF Privacy's, plus Conv2D) with ``Dense`` computed by
    :func:`dense_sequence_layer_computation` (exact for sequence inputs too): a
    ``LayerRegistry`` for ``make_dp_model`` / ``make_poisson_dp_model``."""
    registry = make_layer_registry()
    registry.insert(tf.keras.layers.Dense, dense_sequence_layer_computation)
    return registry


class SequenceCrossEntropy(tf.keras.losses.Loss):
    """Cross-entropy from logits averaged over a sequence's positions: one loss per example.

    ``y_true`` ``(batch, positions)`` holds the next-character ids, ``y_pred`` ``(batch,
    positions, vocabulary)`` the logits. With Keras' reduction NONE (what TF Privacy's
    per-example clipping asks for) it returns ``(batch,)``: each sequence is one example.
    """

    def __init__(self, reduction: str = "sum_over_batch_size", name: str = "sequence_xent"):
        super().__init__(reduction=reduction, name=name)

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        per_position = tf.keras.losses.sparse_categorical_crossentropy(
            tf.cast(y_true, tf.int32), y_pred, from_logits=True
        )
        return tf.reduce_mean(per_position, axis=-1)
