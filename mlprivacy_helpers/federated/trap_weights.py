"""A malicious server's trap weights, and how it reads images off the gradient (Boenisch et al.,
"When the Curious Abandon Honesty: Federated Learning Is Not Private", IEEE EuroS&P 2023).

The server sends a model whose first layer is fully connected, ``h = ReLU(x W + b)`` on the
flattened image. For the batch-mean loss, neuron ``i``'s gradients are
``dL/dW[:, i] = (1/B) sum_n delta_in x_n`` and ``dL/db[i] = (1/B) sum_n delta_in``, summed over
the images ``n`` that switch the neuron on. So when exactly **one** image switches it on, the
kernel column divided by the bias gradient *is* that image (:func:`read_out`), with no
optimisation at all. Trap weights (:func:`trap_kernel`) make that common: each neuron's weights
are half negative, half positive, the positive ones the same magnitudes shrunk by
``scale_factor < 1``, so on non-negative pixels most images leave most neurons off and many
neurons are switched on by a single image. The weights' statistics stay unremarkable (zero-ish
mean, Gaussian magnitudes). :func:`sole_activators` is the structural measure of success
(which images are the only one to switch some neuron on: they are read off exactly); it needs
the client's data, so it is for us, not for the server.
"""

from __future__ import annotations

import numpy as np

__all__ = ["active_neurons", "read_out", "sole_activators", "trap_kernel"]


def trap_kernel(
    input_dim: int, neurons: int, *, sigma: float = 0.5, scale_factor: float = 0.95, seed: int
) -> np.ndarray:
    """Return a trap-weight kernel of shape ``(input_dim, neurons)`` (Keras' layout): for each
    neuron a random half of the inputs get weights ``-|N(0, sigma^2)|``, the other half the same
    magnitudes times ``+scale_factor`` (``0 < scale_factor < 1``), float32. Use it with a zero
    bias."""
    for name, value in (("input_dim", input_dim), ("neurons", neurons)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if input_dim < 2:
        raise ValueError("input_dim must be >= 2 (half the weights negative, half positive)")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    if not 0 < scale_factor < 1:
        raise ValueError(f"scale_factor must be in (0, 1), got {scale_factor}")
    rng = np.random.default_rng(seed)
    half = input_dim // 2
    kernel = np.zeros((input_dim, neurons))
    for i in range(neurons):
        order = rng.permutation(input_dim)
        magnitude = np.abs(rng.normal(0.0, sigma, size=half))
        kernel[order[:half], i] = -magnitude
        kernel[order[half : 2 * half], i] = scale_factor * magnitude
    return kernel.astype(np.float32)


def active_neurons(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Return which neurons each image switches on: booleans of shape ``(len(x), neurons)``,
    ``True`` where image ``n``'s pre-activation ``x_n W + b`` is positive for neuron ``i``."""
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"x must be a batch of images, got shape {x.shape}")
    flat = x.reshape(len(x), -1)
    if kernel.ndim != 2 or kernel.shape[0] != flat.shape[1]:
        raise ValueError(f"kernel must have shape ({flat.shape[1]}, neurons), got {kernel.shape}")
    bias = np.asarray(bias, dtype=np.float64).reshape(-1)
    if bias.shape != (kernel.shape[1],):
        raise ValueError(f"bias must have {kernel.shape[1]} entries, got {bias.shape}")
    return flat @ kernel + bias > 0


def sole_activators(active: np.ndarray) -> np.ndarray:
    """Return, for each image, whether it is the only image of the batch to switch on some
    neuron (``active`` from :func:`active_neurons`): the images trap weights recover
    exactly (Boenisch et al.'s extraction recall is their fraction)."""
    active = np.asarray(active, dtype=bool)
    if active.ndim != 2:
        raise ValueError(f"active must be (images, neurons), got shape {active.shape}")
    alone = active.sum(axis=0) == 1
    return (active & alone[None, :]).any(axis=1)


def read_out(
    kernel_gradient: np.ndarray,
    bias_gradient: np.ndarray,
    image_shape: tuple[int, ...],
    *,
    min_bias_gradient: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(candidates, neurons)``: for every neuron whose bias gradient is not zero
    (``|g| > min_bias_gradient``), its kernel-gradient column divided by its bias gradient,
    reshaped to ``image_shape``, and the indices of those neurons. A neuron switched on by one
    image gives that image exactly; by several, a weighted mix of them."""
    kg = np.asarray(kernel_gradient, dtype=np.float64)
    bg = np.asarray(bias_gradient, dtype=np.float64).reshape(-1)
    if kg.ndim != 2 or kg.shape[1] != bg.shape[0]:
        raise ValueError(
            f"kernel_gradient must be (inputs, neurons) with one bias per neuron, got "
            f"{kg.shape} and {bg.shape}"
        )
    if int(np.prod(image_shape)) != kg.shape[0]:
        raise ValueError(f"image_shape {image_shape} does not hold {kg.shape[0]} inputs")
    neurons = np.flatnonzero(np.abs(bg) > min_bias_gradient)
    candidates = (kg[:, neurons] / bg[neurons]).T.reshape(len(neurons), *image_shape)
    return candidates.astype(np.float32), neurons
