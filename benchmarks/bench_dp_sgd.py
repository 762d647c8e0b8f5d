"""Benchmark: plain epoch vs DP-SGD epoch for notebook 02's CIFAR-10 CNN on the same data.

Compares, at batch size 128 with per-example clipping:

* ``plain``      -- the CNN with Adam (the notebook's non-private model);
* ``fast-dp``    -- TF Privacy's ``DPModel`` with our Conv2D registry function
                    (``mlprivacy_helpers.dp_sgd``), XLA off, shuffled fixed batches;
* ``poisson-dp`` -- the same clipping with Poisson sampling (``dp_sgd.PoissonDPModel``, as
                    notebook 02 trains): variable batches of expected size 128, one traced
                    step for all sizes (``--pad-multiple`` pads each batch with
                    zero-weight rows to a multiple of that many rows; default 1);
* ``fast-dp-xla``-- the same with ``use_xla=True`` (optional, ``--xla``);
* ``vectorized`` -- TF Privacy's ``VectorizedDPKerasAdamOptimizer`` with one microbatch per
                    example (optional, ``--vectorized``; timed on a few steps only because
                    it is slow, and scaled to an epoch).

Prints the median epoch seconds of each and the ratio to the plain epoch (``--plain-only``:
the plain one alone, the README's *reference epoch*, ``--n 10000``). Run it alone
on the machine (nothing else busy) so the timings are honest::

    MLPRIVACY_DATA=../shared/data .venv/bin/python benchmarks/bench_dp_sgd.py \
        --n 10000 --epochs 4 --vectorized
"""

from __future__ import annotations

# First: sets tf.keras to Keras 2 and TF Privacy's import switch before TensorFlow loads.
import mlprivacy_helpers  # noqa: F401

# isort: split
import argparse
import statistics
import time

import numpy as np
import tensorflow as tf
from tensorflow_privacy.privacy.optimizers.dp_optimizer_keras_vectorized import (
    VectorizedDPKerasAdamOptimizer,
)

from mlprivacy_helpers import data, dp_sgd, models
from mlprivacy_helpers.config import set_seed


class StepTimer(tf.keras.callbacks.Callback):
    """Record wall seconds per epoch and per batch."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[float] = []
        self.batches: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(time.perf_counter() - self._epoch)

    def on_train_batch_begin(self, batch, logs=None):
        self._batch = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(time.perf_counter() - self._batch)


def _fit(model, x, y, epochs: int, batch_size: int) -> StepTimer:
    timer = StepTimer()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[timer])
    return timer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="training images (class-balanced)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per variant (1st: warm-up)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--pad-multiple", type=int, default=1, help="poisson-dp batch padding")
    parser.add_argument("--xla", action="store_true", help="also time DPModel with use_xla=True")
    parser.add_argument("--vectorized", action="store_true", help="also time the vectorized optim.")
    parser.add_argument("--vectorized-steps", type=int, default=6, help="steps (1st: warm-up)")
    parser.add_argument(
        "--plain-only", action="store_true", help="only the plain epoch (the reference epoch)"
    )
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is a warm-up)")

    (x_train, y_train), _ = data.load_cifar10()
    x, y = data.balanced_subset(x_train, y_train, args.n // 10, seed=0)
    x = data.scale_images(x)
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    steps_per_epoch = int(np.ceil(len(x) / args.batch_size))
    medians: dict[str, float] = {}

    set_seed(0)
    plain = models.cifar10_cnn()
    plain.compile(tf.keras.optimizers.Adam(1e-3), loss)
    medians["plain"] = statistics.median(_fit(plain, x, y, args.epochs, args.batch_size).epochs[1:])

    variants = [("fast-dp", False)] + ([("fast-dp-xla", True)] if args.xla else [])
    for name, use_xla in [] if args.plain_only else variants:
        set_seed(0)
        dp = dp_sgd.dp_cifar10_cnn(l2_norm_clip=1.0, noise_multiplier=1.1, use_xla=use_xla)
        assert dp_sgd.uses_fast_clipping(dp)
        dp.compile(tf.keras.optimizers.Adam(1e-3), loss)
        medians[name] = statistics.median(_fit(dp, x, y, args.epochs, args.batch_size).epochs[1:])

    if args.plain_only:
        print(
            f"{len(x)} images, batch {args.batch_size}: plain epoch {medians['plain']:.2f} s "
            f"(median of {args.epochs - 1} after a warm-up; the README's reference epoch)"
        )
        return
    set_seed(0)
    poisson = dp_sgd.poisson_dp_cifar10_cnn(
        l2_norm_clip=1.0,
        noise_multiplier=1.1,
        expected_batch_size=args.batch_size,
        sampling_seed=0,
        pad_multiple=args.pad_multiple,
    )
    assert dp_sgd.uses_fast_clipping(poisson)
    poisson.compile(tf.keras.optimizers.Adam(1e-3), loss)
    timer = _fit(poisson, x, y, args.epochs, args.batch_size)
    medians["poisson-dp"] = statistics.median(timer.epochs[1:])

    if args.vectorized:
        set_seed(0)
        vec = models.cifar10_cnn()
        vec.compile(
            VectorizedDPKerasAdamOptimizer(
                l2_norm_clip=1.0,
                noise_multiplier=1.1,
                num_microbatches=args.batch_size,
                learning_rate=1e-3,
            ),
            tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none"),
        )
        k = args.vectorized_steps * args.batch_size
        timer = _fit(vec, x[:k], y[:k], 1, args.batch_size)
        medians["vectorized"] = statistics.median(timer.batches[1:]) * steps_per_epoch

    print(f"{len(x)} images, batch {args.batch_size}, {steps_per_epoch} steps per epoch")
    print(f"{'variant':<12} {'median epoch s':>15} {'x plain':>8}")
    for name, seconds in medians.items():
        print(f"{name:<12} {seconds:>15.2f} {seconds / medians['plain']:>8.1f}")


if __name__ == "__main__":
    main()
