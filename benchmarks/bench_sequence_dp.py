"""Benchmark: plain epoch vs DP-SGD epoch for notebook 05's character language model.

One record (``--context`` characters of context, ``--positions`` predicted characters) is one
example. Compares, on the first ``--chars`` characters of Tiny Shakespeare, at the same
(expected) batch size:

* ``plain``          -- the model with Adam, shuffled batches;
* ``poisson-dp``     -- Poisson-sampled DP-SGD (``dp_sgd.PoissonDPModel``) with exact
                        per-example clipping of whole records
                        (``dp_sgd.make_sequence_layer_registry``);
* ``poisson-dp-tfp`` -- the same with TF Privacy's own ``Dense`` function, which is faster
                        but not valid for sequences (it can under-estimate a record's norm):
                        timed only to show what exactness costs.

Prints the median epoch seconds of each (the first epoch is a warm-up) and the ratio to the
plain epoch. Run it alone on the machine so that the timings are honest::

    MLPRIVACY_DATA=../shared/data .venv/bin/python benchmarks/bench_sequence_dp.py
"""

from __future__ import annotations

# First: sets tf.keras to Keras 2 and TF Privacy's import switch before TensorFlow loads.
import mlprivacy_helpers  # noqa: F401

# isort: split
import argparse
import statistics
import time

import tensorflow as tf

from mlprivacy_helpers import data, dp_sgd, models
from mlprivacy_helpers.config import set_seed
from mlprivacy_helpers.memorization import text


class EpochTimer(tf.keras.callbacks.Callback):
    """Record wall seconds per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(time.perf_counter() - self._start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=300_000, help="characters of training text")
    parser.add_argument("--context", type=int, default=10)
    parser.add_argument("--positions", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per variant (1st: warm-up)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is a warm-up)")

    corpus = data.load_tiny_shakespeare()
    vocab = text.vocabulary(corpus)
    records = text.text_records(corpus[: args.chars], args.context, args.positions)
    x, y = text.windows(records, vocab, args.context)
    loss = dp_sgd.SequenceCrossEntropy()
    medians: dict[str, float] = {}

    def timed(model: tf.keras.Model) -> float:
        timer = EpochTimer()
        model.compile(tf.keras.optimizers.Adam(2e-3), loss)
        model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
                  callbacks=[timer])  # fmt: skip
        return statistics.median(timer.epochs[1:])

    set_seed(0)
    medians["plain"] = timed(models.char_language_model(vocab.size, args.context))
    for name, registry in (
        ("poisson-dp", dp_sgd.make_sequence_layer_registry()),
        ("poisson-dp-tfp", dp_sgd.make_layer_registry()),
    ):
        set_seed(0)
        dp = dp_sgd.make_poisson_dp_model(
            models.char_language_model(vocab.size, args.context),
            l2_norm_clip=1.0,
            noise_multiplier=1.0,
            expected_batch_size=args.batch_size,
            sampling_seed=0,
            layer_registry=registry,
        )
        assert dp_sgd.uses_fast_clipping(dp)
        medians[name] = timed(dp)

    print(f"{len(x)} records of {args.positions} positions, batch {args.batch_size}")
    print(f"{'variant':<15} {'median epoch s':>15} {'x plain':>8}")
    for name, seconds in medians.items():
        print(f"{name:<15} {seconds:>15.2f} {seconds / medians['plain']:>8.2f}")


if __name__ == "__main__":
    main()
