"""Benchmark: seconds per Inverting-Gradients iteration, and what made them small (notebook 06).

The honest-but-curious server of notebook 06 optimises dummy images until their gradient on
the shared model (DLG's sigmoid LeNet, ``models.cifar10_lenet``) matches the client's. Each
iteration differentiates the model's gradient once more (a second derivative). Compares, on
CIFAR-10 images, for batch sizes ``--batch-sizes`` and ``--restarts`` random restarts:

* ``eager``      -- the step run eagerly, one restart after another (``compiled=False``);
* ``compiled``   -- the step as one ``tf.function``, one restart after another;
* ``batched``    -- the step as one ``tf.function`` for all restarts at once (what
                    ``gradient_inversion.invert_gradients`` does with ``restarts=R``).

Prints the median milliseconds per iteration of one restart (the first step of each run, which
traces and compiles, is not counted) and the speed-up over ``eager``. Run it alone on the
machine so that the timings are honest::

    MLPRIVACY_DATA=../shared/data .venv/bin/python benchmarks/bench_gradient_inversion.py
"""

from __future__ import annotations

# First: sets tf.keras to Keras 2 and TF Privacy's import switch before TensorFlow loads.
import mlprivacy_helpers  # noqa: F401

# isort: split
import argparse
import statistics

import numpy as np

from mlprivacy_helpers import data, models
from mlprivacy_helpers.config import set_seed
from mlprivacy_helpers.federated import client, gradient_inversion


def per_restart_ms(model, target, labels, iterations, restarts, compiled, batched, repeats):
    """Return the median over ``repeats`` runs of milliseconds per iteration per restart."""
    times = []
    for r in range(repeats):
        if batched:
            result = gradient_inversion.invert_gradients(
                model,
                target,
                labels,
                iterations=iterations,
                restarts=restarts,
                seed=r,
                tv_weight=1e-2,
                compiled=compiled,
            )
            times.append(1e3 * result.seconds_per_iteration / restarts)
        else:
            per_run = [
                gradient_inversion.invert_gradients(
                    model,
                    target,
                    labels,
                    iterations=iterations,
                    restarts=1,
                    seed=r * restarts + k,
                    tv_weight=1e-2,
                    compiled=compiled,
                ).seconds_per_iteration
                for k in range(restarts)
            ]
            times.append(1e3 * sum(per_run) / restarts)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=50, help="per run (1st: compiling)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant; median")
    args = parser.parse_args()
    set_seed(0)
    (x_train, y_train), _ = data.load_cifar10()
    x = x_train[: max(args.batch_sizes)].astype(np.float32) / 255.0
    y = y_train[: max(args.batch_sizes)].reshape(-1).astype(np.int64)
    model = models.cifar10_lenet()
    variants = {"eager": (False, False), "compiled": (True, False), "batched": (True, True)}
    print(f"ms per iteration and restart ({args.restarts} restarts, median of {args.repeats})")
    print("batch | " + " | ".join(f"{name:>9s}" for name in variants) + " | batched vs eager")
    for b in args.batch_sizes:
        target = client.client_gradient(model, x[:b], y[:b])
        ms = {
            name: per_restart_ms(
                model, target, y[:b], args.iterations, args.restarts, c, bat, args.repeats
            )
            for name, (c, bat) in variants.items()
        }
        print(
            f"{b:5d} | "
            + " | ".join(f"{ms[n]:9.2f}" for n in variants)
            + f" | {ms['eager'] / ms['batched']:.1f}x"
        )


if __name__ == "__main__":
    main()
