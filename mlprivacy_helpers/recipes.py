"""The CIFAR-10 training recipes: the CNN to attack, compiled as notebook 02 trains it.

Notebook 02 shows these functions' code where it first trains each model; notebook 04 trains
its target and reference models with the same recipes, so the two notebooks cannot drift
apart. Notebook 06 trains its federated LeNet centrally with :func:`compiled_cifar10_lenet`, to
attack a model that has learned something. Each call returns a new, compiled model.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from .dp_sgd.poisson import PoissonDPModel, poisson_dp_cifar10_cnn
from .models import cifar10_cnn, cifar10_lenet


def _check_learning_rate(learning_rate: float) -> float:
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float):
        raise TypeError(f"learning_rate must be a number, got {type(learning_rate).__name__}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    return float(learning_rate)


def compiled_cifar10_cnn(learning_rate: float) -> tf.keras.Model:
    """Return a new CIFAR-10 CNN (models.cifar10_cnn) compiled with Adam at learning_rate
    and the cross-entropy of its logits as the loss, accuracy as the metric."""
    learning_rate = _check_learning_rate(learning_rate)
    model = cifar10_cnn()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def compiled_cifar10_lenet(learning_rate: float) -> tf.keras.Model:
    """Return a new DLG LeNet (models.cifar10_lenet) compiled like the CNN: Adam at
    learning_rate, the cross-entropy of its logits as the loss, accuracy as the metric."""
    learning_rate = _check_learning_rate(learning_rate)
    model = cifar10_lenet()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def compiled_poisson_dp_cifar10_cnn(
    l2_norm_clip: float,
    noise_multiplier: float,
    expected_batch_size: int,
    sampling_seed: int,
    learning_rate: float,
) -> PoissonDPModel:
    """Return the same CNN trained by DP-SGD with Poisson sampling, compiled like the plain one.

    Each example's gradient is clipped to l2_norm_clip, Gaussian noise of standard deviation
    noise_multiplier * l2_norm_clip is added to each batch's sum, and each batch takes every
    training example with probability expected_batch_size / n, drawn from sampling_seed
    (dp_sgd.PoissonDPModel).
    """
    learning_rate = _check_learning_rate(learning_rate)
    model = poisson_dp_cifar10_cnn(
        l2_norm_clip, noise_multiplier, expected_batch_size, sampling_seed=sampling_seed
    )
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def source(recipe: Callable[..., Any]) -> Any:
    """Return a recipe's source code as an IPython ``Code`` object (shown highlighted)."""
    if not callable(recipe):
        raise TypeError(f"recipe must be a function, got {type(recipe).__name__}")
    from IPython.display import Code

    return Code(inspect.getsource(recipe), language="python")
