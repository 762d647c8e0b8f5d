"""Tests of mlprivacy_helpers.reference_models: what each reference model trains on."""

from __future__ import annotations

import numpy as np
import pytest

from mlprivacy_helpers import reference_attacks, reference_models, training


class _Recorder:
    """Stands in for training.train_cached: records each call, returns a model of its seed."""

    def __init__(self):
        self.calls = []

    def __call__(self, name, build, x, y, *, epochs, batch_size, seed, key_extra=None, progress):
        self.calls.append({"name": name, "model": build(), "x": x, "y": y, "seed": seed})
        if progress is not False:  # the shared bar of all models: one unit per epoch
            progress.update(epochs)
        seed_model = _SeedModel(seed)
        return seed_model, {"cached": False}


class _SeedModel:
    def __init__(self, seed):
        self.seed = seed

    def predict(self, x, batch_size, verbose):
        return np.full((len(x), 3), float(self.seed))


@pytest.fixture
def recorder(monkeypatch):
    record = _Recorder()
    monkeypatch.setattr(training, "train_cached", record)
    return record


def _data(n_pool=40, n_candidates=30):
    x_pool = np.arange(n_pool, dtype=float)[:, None]  # an image's value is its pool index
    y_pool = np.arange(n_pool) % 3
    x_candidates = 1000 + np.arange(n_candidates, dtype=float)[:, None]
    y_candidates = np.arange(n_candidates) % 3
    return x_pool, y_pool, np.zeros((5, 1)), (x_candidates, y_candidates)


def test_each_model_trains_on_its_half_of_the_pool_and_its_own_random_label_images(recorder):
    x_pool, y_pool, x_population, candidates = _data()
    refs = reference_models.train_reference_models(
        "ref",
        lambda seed: ("built with", seed),
        x_pool,
        y_pool,
        x_population,
        n_models=4,
        seed=7,
        epochs=1,
        batch_size=8,
        random_label_candidates=candidates,
        num_classes=3,
        verbose=False,
    )
    # The masks are the ones the attacks are given: every pool example in exactly half.
    assert np.array_equal(refs.in_masks, reference_attacks.reference_in_masks(4, 40, 7))
    assert np.all(refs.in_masks.sum(axis=0) == 2)
    assert refs.seeds == (1007, 2007, 3007, 4007)
    noise_sets = []
    for k, call in enumerate(recorder.calls):
        assert call["seed"] == refs.seeds[k] and call["model"] == ("built with", refs.seeds[k])
        values = call["x"].ravel()
        pool_part, noise_part = values[values < 1000], values[values >= 1000]
        assert np.array_equal(pool_part, np.flatnonzero(refs.in_masks[k]))  # exactly its half
        assert np.array_equal(call["y"][: pool_part.size, 0], y_pool[refs.in_masks[k]])
        true_noise_labels = candidates[1][(noise_part - 1000).astype(int)]
        assert np.all(call["y"][pool_part.size :, 0] != true_noise_labels)  # all labels wrong
        assert len(noise_part) == refs.random_label_counts[k]
        noise_sets.append(set(noise_part))
    assert len({frozenset(s) for s in noise_sets}) == 4  # each model draws its own images
    assert all(5 <= c <= 25 for c in refs.random_label_counts)  # about half of 30
    assert refs.logits_pool.shape == (4, 40, 3) and refs.logits_population.shape == (4, 5, 3)
    assert np.all(refs.logits_pool[2] == 3007)  # logits of model k are model k's


def test_without_candidates_a_model_trains_on_its_pool_half_only(recorder, capsys):
    x_pool, y_pool, x_population, _ = _data()
    refs = reference_models.train_reference_models(
        "ref", lambda seed: None, x_pool, y_pool, x_population, 2, 0, epochs=3, batch_size=8
    )
    assert refs.random_label_counts == (0, 0)
    assert [len(c["x"]) for c in recorder.calls] == list(refs.in_masks.sum(axis=1))
    # One line for all models (the progress bar's summary; outside a notebook it is printed).
    line = capsys.readouterr().out.strip()
    assert line.startswith("2 reference models (2 trained, 0 from the model cache) in ")
    assert line.endswith("each on 20 pool images + 0 with a random label")


def test_random_label_images_are_seeded_and_mislabelled():
    x, y = np.arange(200)[:, None], np.arange(200) % 10
    x1, y1 = reference_models.random_label_images(x, y, 10, seed=3)
    x2, y2 = reference_models.random_label_images(x, y, 10, seed=3)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert 70 < len(x1) < 130 and np.all(y1 != y[x1.ravel()])
    assert not np.array_equal(x1, reference_models.random_label_images(x, y, 10, seed=4)[0])
    with pytest.raises(ValueError, match="labels"):
        reference_models.random_label_images(x, y[:5], 10, seed=0)


def test_bad_input(recorder):
    x_pool, y_pool, x_population, _ = _data()
    with pytest.raises(ValueError, match="labels"):
        reference_models.train_reference_models(
            "r", lambda s: None, x_pool, y_pool[:3], x_population, 2, 0, epochs=1, batch_size=8
        )
    with pytest.raises(ValueError, match="even"):
        reference_models.train_reference_models(
            "r", lambda s: None, x_pool, y_pool, x_population, 3, 0, epochs=1, batch_size=8
        )
    with pytest.raises(TypeError, match="seed"):
        reference_models.train_reference_models(
            "r", lambda s: None, x_pool, y_pool, x_population, 2, 0.5, epochs=1, batch_size=8
        )
