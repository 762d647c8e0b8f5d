"""The CIFAR-10 recipes that notebooks 02 and 04 share compile the models as notebook 02 did."""

from __future__ import annotations

import pytest
import tensorflow as tf

from mlprivacy_helpers import dp_sgd, models, recipes, training


def _compiled_by_hand(learning_rate: float) -> tf.keras.Model:
    # How notebooks 02 and 04 compiled the CNN before the recipe moved into the package.
    model = models.cifar10_cnn()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_plain_recipe_is_the_cnn_with_adam_and_cross_entropy_on_logits():
    model = recipes.compiled_cifar10_cnn(1e-3)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(1e-3)
    assert isinstance(model.optimizer, tf.keras.optimizers.Adam)
    assert model.loss.get_config()["from_logits"] is True
    # The same description means the same model-cache key: models cached before the move
    # are found again.
    assert training.model_description(model) == training.model_description(_compiled_by_hand(1e-3))


def test_lenet_recipe_is_the_dlg_lenet_compiled_like_the_cnn():
    model = recipes.compiled_cifar10_lenet(2e-3)
    assert model.name == "cifar10_lenet"
    assert model.count_params() == models.cifar10_lenet().count_params()
    assert isinstance(model.optimizer, tf.keras.optimizers.Adam)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(2e-3)
    assert model.loss.get_config()["from_logits"] is True
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        recipes.compiled_cifar10_lenet(0.0)


def test_each_call_returns_a_new_model():
    assert recipes.compiled_cifar10_cnn(1e-3) is not recipes.compiled_cifar10_cnn(1e-3)


def test_dp_recipe_samples_poisson_batches_with_its_settings():
    model = recipes.compiled_poisson_dp_cifar10_cnn(
        1.5, 0.9, expected_batch_size=64, sampling_seed=7, learning_rate=2e-3
    )
    assert isinstance(model, dp_sgd.PoissonDPModel)
    assert dp_sgd.uses_fast_clipping(model)
    assert model._l2_norm_clip == 1.5
    assert model._noise_multiplier == 0.9
    assert model.expected_batch_size == 64
    assert model.sampling_seed == 7
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(2e-3)
    assert model.loss.get_config()["from_logits"] is True
    plain = models.cifar10_cnn()
    layers = [
        type(layer).__name__ for layer in model.layers if type(layer).__name__ != "InputLayer"
    ]
    assert layers == [type(layer).__name__ for layer in plain.layers]


@pytest.mark.parametrize("learning_rate", [0.0, -1e-3])
def test_non_positive_learning_rate_is_refused(learning_rate):
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        recipes.compiled_cifar10_cnn(learning_rate)


def test_learning_rate_must_be_a_number():
    with pytest.raises(TypeError, match="learning_rate must be a number"):
        recipes.compiled_cifar10_cnn("0.001")


def test_source_shows_the_recipe_code():
    code = recipes.source(recipes.compiled_cifar10_cnn)
    assert "def compiled_cifar10_cnn" in code.data
    assert "SparseCategoricalCrossentropy(from_logits=True)" in code.data
    with pytest.raises(TypeError, match="must be a function"):
        recipes.source("compiled_cifar10_cnn")


def test_the_dp_settings_are_part_of_the_cache_key():
    # TF Privacy's DPModel keeps its clipping norm and noise multiplier out of its Keras config;
    # a model trained with other noise must not load this one's cached weights.
    def description(noise, clip=1.0, seed=0):
        model = recipes.compiled_poisson_dp_cifar10_cnn(
            clip, noise, expected_batch_size=128, sampling_seed=seed, learning_rate=3e-3
        )
        return training.model_description(model)

    base = description(1.1)
    assert base == description(1.1)
    assert base["dp"]["noise_multiplier"] == 1.1 and base["dp"]["l2_norm_clip"] == 1.0
    assert description(0.55) != base
    assert description(1.1, clip=0.5) != base
    assert description(1.1, seed=1) != base
