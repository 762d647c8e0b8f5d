"""Benchmark: ART's MIFace through ART's TensorFlowV2Classifier vs the compiled subclass.

Notebook 03's attacked model (the MNIST ConvNet, trained ``--epochs`` epochs, softmax on top)
is wrapped twice, in ART's own ``TensorFlowV2Classifier`` and in
``mlprivacy_helpers.inversion.CompiledTensorFlowV2Classifier``. The *same* MIFace call (all
ten digits in one batch, from zeros, ART's default window/threshold/learning rate,
``--iters`` iterations) runs through each, after one warm-up call, ``--repeats`` times.
Prints the median seconds per iteration of each, the ratio, and the largest pixel difference
between the two inversions. Run it alone on the machine so the timings are honest::

    MLPRIVACY_DATA=../shared/data .venv/bin/python benchmarks/bench_miface.py --iters 50 --repeats 5
"""

from __future__ import annotations

# First: sets tf.keras to Keras 2 and TF Privacy's import switch before TensorFlow loads.
import mlprivacy_helpers  # noqa: F401

# isort: split
import argparse
import time

import numpy as np
import tensorflow as tf
from art.estimators.classification import TensorFlowV2Classifier

from mlprivacy_helpers import data, inversion, models
from mlprivacy_helpers.config import set_seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=50, help="MIFace iterations per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per estimator")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs of the model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    set_seed(args.seed)
    (x_train, y_train), _ = data.load_mnist()
    x_train = data.scale_images(x_train)[..., None]
    model = models.mnist_convnet()
    model.compile(
        optimizer=tf.keras.optimizers.SGD(learning_rate=0.1),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=264, verbose=0)
    print(f"trained {args.epochs} epoch(s) in {time.perf_counter() - start:.1f} s")

    attacked = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    estimator_args = dict(
        model=attacked, nb_classes=10, input_shape=(28, 28, 1), clip_values=(0.0, 1.0)
    )
    x0, targets = np.zeros((10, 28, 28, 1), np.float32), np.arange(10)
    timings, inversions = {}, {}
    for name, cls in (
        ("ART TensorFlowV2Classifier", TensorFlowV2Classifier),
        ("CompiledTensorFlowV2Classifier", inversion.CompiledTensorFlowV2Classifier),
    ):
        timings[name], inversions[name] = inversion.time_miface(
            cls(**estimator_args), x0, targets, max_iter=args.iters, repeats=args.repeats
        )
        print(f"{name:32s} median {1e3 * timings[name]:8.2f} ms per iteration")
    art, fast = timings.values()
    diff = np.abs(np.subtract(*inversions.values())).max()
    print(f"ratio (ART / compiled): {art / fast:.1f}x; max pixel difference {diff:.1e}")
    print(
        f"10 000 iterations (ART's default) for 10 digits: ART {1e4 * art / 60:.1f} min, "
        f"compiled {1e4 * fast:.0f} s"
    )


if __name__ == "__main__":
    main()
