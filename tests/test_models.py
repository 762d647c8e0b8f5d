"""The attacked architectures match the original posts."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from mlprivacy_helpers import models


def test_cifar10_cnn_architecture():
    model = models.cifar10_cnn()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D",
                     "MaxPooling2D", "Flatten", "Dense", "Dense"]  # fmt: skip
    assert model.output_shape == (None, 10)
    assert model.layers[-1].get_config()["activation"] == "linear"  # logits


def test_cifar10_lenet_is_dlgs_sigmoid_lenet():
    model = models.cifar10_lenet()
    conv = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides, c.padding) for c in conv] == [
        (12, (5, 5), (2, 2), "same"),
        (12, (5, 5), (2, 2), "same"),
        (12, (5, 5), (1, 1), "same"),
    ]
    assert all(c.get_config()["activation"] == "sigmoid" for c in conv)
    assert model.output_shape == (None, 10)
    assert model.layers[-1].get_config()["activation"] == "linear"  # logits
    # 15 826 weights: three convolutions (3 -> 12 -> 12 -> 12 channels), 8 x 8 x 12 -> 10
    assert model.count_params() == (5 * 5 * 3 + 1) * 12 + 2 * (5 * 5 * 12 + 1) * 12 + 769 * 10


def test_cifar10_small_cnn_is_a_small_relu_cnn():
    model = models.cifar10_small_cnn()
    conv = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides) for c in conv] == [
        (16, (3, 3), (2, 2)),
        (32, (3, 3), (2, 2)),
    ]
    assert all(c.get_config()["activation"] == "relu" for c in conv)
    assert model.output_shape == (None, 10)
    assert model.layers[-1].get_config()["activation"] == "linear"  # logits
    # (3 x 3 x 3 + 1) x 16 + (3 x 3 x 16 + 1) x 32 + (32 + 1) x 10 = 5 418 weights
    assert model.count_params() == 448 + 4640 + 330 == 5418


def test_mnist_convnet_logits_and_softmax_variants():
    logits = models.mnist_convnet()
    assert logits.output_shape == (None, 10)
    assert logits.layers[-1].get_config()["activation"] == "linear"
    with_softmax = models.mnist_convnet(softmax_output=True)
    assert isinstance(with_softmax.layers[-1], tf.keras.layers.Softmax)
    conv = [layer for layer in logits.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides, c.padding) for c in conv] == [
        (16, (8, 8), (2, 2), "same"),
        (32, (4, 4), (2, 2), "valid"),
    ]


def test_judge_differs_from_the_attacked_model():
    judge = models.mnist_judge()
    attacked = models.mnist_convnet()
    assert judge.output_shape == (None, 10)
    assert [type(x).__name__ for x in judge.layers] != [type(x).__name__ for x in attacked.layers]


@pytest.mark.parametrize(
    "builder",
    [
        models.cifar10_cnn,
        models.cifar10_lenet,
        models.cifar10_small_cnn,
        models.mnist_convnet,
        models.mnist_judge,
        models.faces_softmax,
        models.faces_mlp,
    ],
)
def test_builders_reject_too_few_classes(builder):
    with pytest.raises(ValueError, match="num_classes"):
        builder(num_classes=1)


def test_face_models_are_softmax_regression_and_a_sigmoid_mlp():
    softmax = models.faces_softmax()
    assert [type(x).__name__ for x in softmax.layers] == ["Flatten", "Dense"]
    assert softmax.output_shape == (None, 40) and softmax.count_params() == 4096 * 40 + 40
    mlp = models.faces_mlp(hidden=16)
    assert mlp.layers[1].get_config()["activation"] == "sigmoid"
    assert mlp.layers[-1].get_config()["activation"] == "linear"  # logits
    assert mlp.output_shape == (None, 40)
    with pytest.raises(ValueError, match="hidden"):
        models.faces_mlp(hidden=0)


def test_char_language_model_scores_any_number_of_positions():
    model = models.char_language_model(vocab_size=11, context=5, embedding=3, hidden=7)
    windows = np.random.default_rng(0).integers(0, 11, (2, 9, 5)).astype("int32")
    assert model(windows).shape == (2, 9, 11)
    assert model(windows[:, :1]).shape == (2, 1, 11)
    # The same weights at every position: a window scores the same wherever it stands.
    np.testing.assert_allclose(
        model(windows)[:, 4].numpy(), model(windows[:, 4:5])[:, 0], atol=1e-6
    )
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer", "Embedding", "Reshape", "Dense", "Dense"]
    with pytest.raises(ValueError, match="context must be a positive int"):
        models.char_language_model(vocab_size=11, context=0)
