"""The Keras models the notebooks attack. Each builder returns a new, uncompiled model.

The architectures follow the original blog posts so that their numbers can be compared.
Notebook 03 compiles its models (optimizer, loss) in plain sight; the CIFAR-10 CNN is compiled by
:mod:`mlprivacy_helpers.recipes`, whose code notebook 02 shows and notebook 04 reuses.
"""

from __future__ import annotations

import tensorflow as tf

layers = tf.keras.layers


def cifar10_cnn(input_shape: tuple[int, int, int] = (32, 32, 3), num_classes: int = 10):
    """Return the deliberately unregularised CIFAR-10 CNN of notebook 02 (logits output).

    Conv2D(32, 3x3, relu) -> MaxPool -> Conv2D(64) -> MaxPool -> Conv2D(64) -> MaxPool ->
    Flatten -> Dense(128, relu) -> Dense(num_classes). No softmax: compile it with
    ``SparseCategoricalCrossentropy(from_logits=True)``.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    return tf.keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(num_classes),
        ],
        name="cifar10_cnn",
    )


def cifar10_lenet(input_shape: tuple[int, int, int] = (32, 32, 3), num_classes: int = 10):
    """Return the LeNet of "Deep Leakage from Gradients" (Zhu et al. 2019), the shared model of
    notebook 06's federated rounds (logits output, Keras' default initialisers).

    Conv2D(12, 5, strides 2, same, sigmoid) -> Conv2D(12, 5, strides 2, same, sigmoid) ->
    Conv2D(12, 5, strides 1, same, sigmoid) -> Flatten -> Dense(num_classes). Sigmoids, as
    Zhu et al. chose them: gradient matching differentiates the gradient once more, and a ReLU
    network's second derivative is zero almost everywhere.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    return tf.keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Conv2D(12, 5, strides=2, padding="same", activation="sigmoid"),
            layers.Conv2D(12, 5, strides=2, padding="same", activation="sigmoid"),
            layers.Conv2D(12, 5, strides=1, padding="same", activation="sigmoid"),
            layers.Flatten(),
            layers.Dense(num_classes),
        ],
        name="cifar10_lenet",
    )


def cifar10_small_cnn(input_shape: tuple[int, int, int] = (32, 32, 3), num_classes: int = 10):
    """Return a small ReLU CNN (5 418 weights for CIFAR-10), the model notebook 06 trains with
    DP at the client (logits output, Keras' default initialisers).

    Conv2D(16, 3, strides 2, relu) -> Conv2D(32, 3, strides 2, relu) -> GlobalAveragePooling2D
    -> Dense(num_classes). DP's Gaussian noise adds the same variance to every weight, so its
    norm grows with the square root of the number of weights while the clipped signal does
    not: a third of the LeNet's weights, and ReLUs, which train fast with Adam, let a few
    hundred rounds of noisy federated training learn something.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    return tf.keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Conv2D(16, 3, strides=2, activation="relu"),
            layers.Conv2D(32, 3, strides=2, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(num_classes),
        ],
        name="cifar10_small_cnn",
    )


def mnist_convnet(softmax_output: bool = False, num_classes: int = 10):
    """Return the MNIST ConvNet of notebook 03 (the original MIFace post's architecture).

    Conv2D(16, 8, strides 2, same, relu) -> MaxPool(2, 1) -> Conv2D(32, 4, strides 2,
    valid, relu) -> MaxPool(2, 1) -> Flatten -> Dense(32, relu) -> Dense(num_classes).
    With ``softmax_output=False`` (default) the last layer emits logits, to be compiled
    with ``from_logits=True``; ``True`` appends the softmax the original post had.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    stack = [
        layers.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, 8, strides=2, padding="same", activation="relu"),
        layers.MaxPooling2D(2, 1),
        layers.Conv2D(32, 4, strides=2, padding="valid", activation="relu"),
        layers.MaxPooling2D(2, 1),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Dense(num_classes),
    ]
    if softmax_output:
        stack.append(layers.Softmax())
    return tf.keras.Sequential(stack, name="mnist_convnet")


def mnist_judge(num_classes: int = 10):
    """Return notebook 03's independent judge: an MLP, unlike the attacked ConvNet (logits).

    Flatten -> Dense(256, relu) -> Dropout(0.2) -> Dense(128, relu) -> Dense(num_classes).
    A different architecture keeps the judge from sharing the attacked model's quirks.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    return tf.keras.Sequential(
        [
            layers.Input(shape=(28, 28, 1)),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(128, activation="relu"),
            layers.Dense(num_classes),
        ],
        name="mnist_judge",
    )


def faces_softmax(num_classes: int = 40, input_shape: tuple[int, int, int] = (64, 64, 1)):
    """Return Fredrikson et al.'s simplest face recogniser: softmax regression (logits).

    Flatten -> Dense(num_classes): one weight per pixel and person. Notebook 03 (Olivetti
    faces, 64x64 grey, 40 people); compile with ``from_logits=True``.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    return tf.keras.Sequential(
        [layers.Input(shape=input_shape), layers.Flatten(), layers.Dense(num_classes)],
        name="faces_softmax",
    )


def faces_mlp(
    hidden: int = 128, num_classes: int = 40, input_shape: tuple[int, int, int] = (64, 64, 1)
):
    """Return notebook 03's small face MLP (logits), after Fredrikson et al.'s MLP.

    Flatten -> Dense(hidden, sigmoid) -> Dense(num_classes). Sigmoid hidden units as in the
    paper (which used 3000); with ReLU units and raw [0, 1] pixels plain SGD left this
    model at chance on the Olivetti faces.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if hidden < 1:
        raise ValueError(f"hidden must be positive, got {hidden}")
    return tf.keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Flatten(),
            layers.Dense(hidden, activation="sigmoid"),
            layers.Dense(num_classes),
        ],
        name="faces_mlp",
    )


def char_language_model(vocab_size: int, context: int, embedding: int = 16, hidden: int = 256):
    """Return notebook 05's character-level language model (logits), a neural n-gram model.

    Input ``(batch, positions, context)`` int ids: for every position of a record, the
    ``context`` characters before it; output ``(batch, positions, vocab_size)`` logits of the
    next character. Embedding(vocab_size, embedding) -> Reshape to ``(positions, context *
    embedding)`` -> Dense(hidden, relu) -> Dense(vocab_size), the same weights at every
    position (Bengio et al.'s neural probabilistic language model). The number of positions
    is free, so one model scores records and single windows alike. Every trainable layer has
    an exact fast per-example clipping function
    (:func:`mlprivacy_helpers.dp_sgd.make_sequence_layer_registry`).
    """
    for name, value in (
        ("vocab_size", vocab_size),
        ("context", context),
        ("embedding", embedding),
        ("hidden", hidden),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    windows = layers.Input(shape=(None, context), dtype="int32")
    h = layers.Embedding(vocab_size, embedding)(windows)
    h = layers.Reshape((-1, context * embedding))(h)
    h = layers.Dense(hidden, activation="relu")(h)
    return tf.keras.Model(windows, layers.Dense(vocab_size)(h), name="char_language_model")
