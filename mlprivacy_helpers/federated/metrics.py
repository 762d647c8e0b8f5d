"""How close a reconstruction is to the client's image: PSNR, and which original it matches.

The peak signal-to-noise ratio of a reconstruction ``r`` of an image ``x`` with pixel values in
``[0, data_range]`` is ``10 log10(data_range**2 / mean((r - x)**2))`` decibels: infinite for an
exact copy, 20 dB for a copy off by a tenth of the range in every pixel. A reconstruction of a
batch comes in no particular order, so each original is compared with the reconstruction that
matches it: :func:`matched_psnr` pairs them one to one (an honest-but-curious server
reconstructs as many images as the batch holds), :func:`best_psnr` lets each original take the
best of many candidates (a malicious server's trap neurons give one candidate each). NumPy and
SciPy only.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["best_psnr", "matched_psnr", "psnr", "psnr_matrix"]

#: The PSNR (dB) an exact copy counts as when pairs are chosen: finite, so a sum can be
#: maximised, and above any PSNR two float32 images that differ can reach.
EXACT_PSNR_FOR_MATCHING = 200.0
_CHUNK_ELEMENTS = 2**24  # differences held at once by psnr_matrix (128 MiB of float64)


def _images(a: np.ndarray, name: str) -> np.ndarray:
    """Return ``a`` as float64 rows, one flattened image each."""
    a = np.asarray(a)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array of images, got dtype {a.dtype}")
    if a.ndim < 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch of images, got shape {a.shape}")
    return a.reshape(len(a), -1).astype(np.float64)


def _check_range(data_range: float) -> float:
    if isinstance(data_range, bool) or not isinstance(data_range, int | float | np.floating):
        raise TypeError(f"data_range must be a number, got {type(data_range).__name__}")
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0, got {data_range}")
    return float(data_range)


def psnr_matrix(
    originals: np.ndarray, candidates: np.ndarray, data_range: float = 1.0
) -> np.ndarray:
    """Return the PSNR in dB of every candidate against every original, shape
    ``(len(originals), len(candidates))``; ``inf`` where a candidate equals an original.

    Images of any shape (the same for both), pixel values in ``[0, data_range]``.
    """
    rng = _check_range(data_range)
    a = _images(originals, "originals")
    b = _images(candidates, "candidates")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"originals and candidates must have images of one size, got {np.shape(originals)[1:]}"
            f" and {np.shape(candidates)[1:]}"
        )
    mse = np.empty((len(a), len(b)))
    chunk = max(1, _CHUNK_ELEMENTS // (len(b) * a.shape[1]))  # bounds the memory used
    for lo in range(0, len(a), chunk):
        mse[lo : lo + chunk] = ((a[lo : lo + chunk, None, :] - b[None, :, :]) ** 2).mean(axis=2)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(rng**2 / mse)


def psnr(originals: np.ndarray, reconstructions: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Return the PSNR in dB of each reconstruction against the original at the same index,
    shape ``(len(originals),)``; ``inf`` for an exact copy."""
    a = np.asarray(originals)
    b = np.asarray(reconstructions)
    if a.shape != b.shape:
        raise ValueError(f"originals and reconstructions differ in shape: {a.shape} vs {b.shape}")
    rng = _check_range(data_range)
    a, b = _images(a, "originals"), _images(b, "reconstructions")
    mse = ((a - b) ** 2).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(rng**2 / mse)


def matched_psnr(
    originals: np.ndarray, reconstructions: np.ndarray, data_range: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Pair reconstructions with originals one to one and return ``(psnr, index)``.

    The pairing maximises the summed PSNR (exact copies counted as
    :data:`EXACT_PSNR_FOR_MATCHING`; Hungarian algorithm). ``psnr[i]`` is original ``i``'s
    PSNR against reconstruction ``index[i]`` (``inf`` for an exact copy). Needs at least as
    many reconstructions as originals.
    """
    table = psnr_matrix(originals, reconstructions, data_range)
    if table.shape[1] < table.shape[0]:
        raise ValueError(
            f"need at least as many reconstructions as originals, got {table.shape[1]} for "
            f"{table.shape[0]}"
        )
    rows, cols = linear_sum_assignment(np.minimum(table, EXACT_PSNR_FOR_MATCHING), maximize=True)
    index = np.empty(table.shape[0], dtype=int)
    index[rows] = cols
    return table[np.arange(table.shape[0]), index], index


def best_psnr(
    originals: np.ndarray, candidates: np.ndarray, data_range: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(psnr, index)``: for each original the highest PSNR of any candidate and that
    candidate's index (several originals may pick the same candidate)."""
    table = psnr_matrix(originals, candidates, data_range)
    index = table.argmax(axis=1)
    return table[np.arange(table.shape[0]), index], index
