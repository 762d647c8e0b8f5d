"""The compiled ART estimator of notebook 03 gives ART's numbers; the inversion metrics."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from art.attacks.inference.model_inversion import MIFace  # noqa: E402
from art.estimators.classification import TensorFlowV2Classifier  # noqa: E402
from art.preprocessing.standardisation_mean_std.numpy import StandardisationMeanStd  # noqa: E402

from mlprivacy_helpers import inversion, inversion_metrics, models  # noqa: E402
from mlprivacy_helpers.cache import CacheWarning  # noqa: E402

SHAPE = (28, 28, 1)


@pytest.fixture(scope="module")
def softmax_model():
    """The notebook's ConvNet with a softmax, random weights and non-zero biases."""
    tf.keras.utils.set_random_seed(0)
    model = models.mnist_convnet(softmax_output=True)
    rng = np.random.default_rng(0)
    model.set_weights(
        [w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in model.get_weights()]
    )
    return model


def _pair(model, **kwargs):
    args = dict(model=model, nb_classes=10, input_shape=SHAPE, clip_values=(0.0, 1.0), **kwargs)
    return TensorFlowV2Classifier(**args), inversion.CompiledTensorFlowV2Classifier(**args)


def _x(n=6, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, size=(n, *SHAPE)).astype(np.float32)


LABELS = {
    "all classes (None)": None,
    "int": 3,
    "array per sample": np.array([0, 9, 3, 3, 7, 1]),
    "list per sample": [2, 2, 2, 5, 5, 8],
}


@pytest.mark.parametrize("label", LABELS.values(), ids=LABELS.keys())
@pytest.mark.parametrize("training_mode", [False, True])
def test_class_gradient_equals_art(softmax_model, label, training_mode):
    art, fast = _pair(softmax_model)
    x = _x()
    expected = art.class_gradient(x, label=label, training_mode=training_mode)
    got = fast.class_gradient(x, label=label, training_mode=training_mode)
    assert got.shape == expected.shape
    assert np.abs(expected).max() > 1e-4  # a non-trivial comparison
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_predict_equals_art(softmax_model):
    art, fast = _pair(softmax_model)
    x = _x(9)
    np.testing.assert_allclose(fast.predict(x), art.predict(x), atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        fast.predict(x, training_mode=True), art.predict(x, training_mode=True), atol=1e-5
    )


def test_framework_preprocessing_matches_art_and_fixes_its_label_none_gradient(softmax_model):
    std = 0.5
    art, fast = _pair(softmax_model, preprocessing=(0.1, std))
    assert fast.all_framework_preprocessing
    x = _x()
    np.testing.assert_allclose(fast.predict(x), art.predict(x), atol=1e-5)
    for label in (4, LABELS["array per sample"]):
        np.testing.assert_allclose(
            fast.class_gradient(x, label), art.class_gradient(x, label), atol=1e-5
        )
    # ART differentiates label=None w.r.t. the *preprocessed* input; we chain through (x-m)/s.
    np.testing.assert_allclose(
        fast.class_gradient(x, None), art.class_gradient(x, None) / std, atol=1e-5
    )


def test_numpy_preprocessing_matches_art(softmax_model):
    mean, std = 0.2, 0.7
    defence = StandardisationMeanStd(mean=mean, std=std)
    art, fast = _pair(softmax_model, preprocessing_defences=defence, preprocessing=None)
    assert not fast.all_framework_preprocessing
    x = _x()
    np.testing.assert_allclose(fast.predict(x), art.predict(x), atol=1e-5)
    # ART 1.20.1's own class_gradient crashes here (it hands a tf.Tensor to the NumPy
    # defence); compare with ART on pre-standardised input, chained through 1 / std.
    with pytest.raises(AttributeError):
        art.class_gradient(x, 3)
    plain, _ = _pair(softmax_model, preprocessing=None)
    for label in LABELS.values():
        expected = plain.class_gradient((x - mean) / std, label) / std
        np.testing.assert_allclose(fast.class_gradient(x, label), expected, atol=1e-5)


def test_miface_gives_the_same_inversions(softmax_model):
    art, fast = _pair(softmax_model)
    x0 = _x(10, seed=2) * 0.2
    targets = np.arange(10)

    def run(estimator):
        attack = MIFace(estimator, max_iter=8, window_length=3, batch_size=10, verbose=False)
        return attack.infer(x0, targets)

    expected, got = run(art), run(fast)
    assert np.abs(expected - x0).max() > 1e-3  # the attack moved
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_varying_batch_sizes_do_not_retrace(softmax_model):
    _, fast = _pair(softmax_model)
    for n in (1, 4, 9):
        fast.class_gradient(_x(n), np.zeros(n, dtype=int))
        fast.predict(_x(n))
    assert fast.tracing_counts() == {
        "per_sample[training=False]": 1,
        "predict[training=False]": 1,
    }


def test_bad_labels_are_rejected(softmax_model):
    _, fast = _pair(softmax_model)
    x = _x(3)
    with pytest.raises(ValueError, match="label"):
        fast.class_gradient(x, [1, 2])
    with pytest.raises(ValueError, match="label"):
        fast.class_gradient(x, [1, 2, 10])
    with pytest.raises(TypeError, match="label"):
        fast.class_gradient(x, np.array([0.5, 1.0, 2.0]))


def test_time_miface(softmax_model):
    _, fast = _pair(softmax_model)
    seconds, inv = inversion.time_miface(fast, _x(2) * 0.2, np.array([1, 7]), max_iter=3, repeats=2)
    assert seconds > 0 and inv.shape == (2, *SHAPE)
    with pytest.raises(ValueError, match="max_iter"):
        inversion.time_miface(fast, _x(2), np.array([1, 7]), max_iter=0)


def test_class_mean_images():
    x = np.arange(4 * 2 * 2, dtype=np.float32).reshape(4, 2, 2)
    y = np.array([1, 0, 1, 0])
    means = inversion_metrics.class_mean_images(x, y, nb_classes=2)
    np.testing.assert_allclose(means[0], (x[1] + x[3]) / 2)
    np.testing.assert_allclose(means[1], (x[0] + x[2]) / 2)
    with pytest.raises(ValueError, match="classes"):
        inversion_metrics.class_mean_images(x, y, nb_classes=3)
    with pytest.raises(ValueError, match="same length"):
        inversion_metrics.class_mean_images(x, y[:3])


def test_pearson_correlations():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 5, 5))
    b = np.stack([a[0], -a[1], np.zeros((5, 5))])
    np.testing.assert_allclose(
        inversion_metrics.pearson_to_class_mean(a, b), [1.0, -1.0, 0.0], atol=1e-12
    )
    m = inversion_metrics.pearson_matrix(a, b)
    assert m.shape == (3, 3)
    np.testing.assert_allclose(m[0, 0], 1.0)
    expected = np.corrcoef(a[2].ravel(), a[0].ravel())[0, 1]
    np.testing.assert_allclose(m[2, 0], expected)
    with pytest.raises(ValueError, match="match"):
        inversion_metrics.pearson_to_class_mean(a, b[:2])
    with pytest.raises(ValueError, match="pixels"):
        inversion_metrics.pearson_matrix(a, np.zeros((2, 4, 4)))


def test_own_and_nearest_other():
    means = np.random.default_rng(0).uniform(size=(4, 8, 8))
    inv = means + 0.01 * np.random.default_rng(1).normal(size=means.shape)
    own, other = inversion_metrics.own_and_nearest_other(inv, means)
    assert own.shape == other.shape == (4,)
    assert np.all(own > 0.99) and np.all(other < own)
    full = inversion_metrics.pearson_matrix(inv, means)
    np.testing.assert_allclose(other[0], full[0, 1:].max())
    with pytest.raises(ValueError, match="class mean"):
        inversion_metrics.own_and_nearest_other(inv, means[:2])


def fake_people(n_people=6, per_person=5, seed=0):
    """Each person a fixed random face plus small noise per image."""
    rng = np.random.default_rng(seed)
    faces = rng.uniform(size=(n_people, 16, 16))
    x = np.repeat(faces, per_person, axis=0) + 0.05 * rng.normal(
        size=(n_people * per_person, 16, 16)
    )
    return faces, x, np.repeat(np.arange(n_people), per_person)


def test_eigenface_recogniser_identifies_people_and_ignores_contrast():
    faces, x, y = fake_people()
    rec = inversion_metrics.EigenfaceRecogniser(n_components=10).fit(x, y)
    # brightness and contrast changes of a person's face do not change who it is
    queries = 0.3 * faces + 0.5
    np.testing.assert_array_equal(rec.predict(queries), np.arange(6))
    scores = rec.scores(queries)
    assert scores.shape == (6, 6) and np.all(scores <= 1 + 1e-9)
    assert inversion_metrics.top_k_rate(scores, np.arange(6), 1) == 1.0
    with pytest.raises(ValueError, match="n_components"):
        inversion_metrics.EigenfaceRecogniser(n_components=100).fit(x, y)
    with pytest.raises(TypeError, match="n_components"):
        inversion_metrics.EigenfaceRecogniser(n_components=2.5)
    with pytest.raises(RuntimeError, match="fit"):
        inversion_metrics.EigenfaceRecogniser().scores(queries)


def test_top_k_rate_counts_ties_against_the_target():
    scores = np.array([[0.9, 0.1, 0.0], [0.5, 0.4, 0.6], [0.2, 0.2, 0.2]])
    targets = np.array([0, 0, 1])
    assert inversion_metrics.top_k_rate(scores, targets, 1) == pytest.approx(1 / 3)
    assert inversion_metrics.top_k_rate(scores, targets, 2) == pytest.approx(2 / 3)
    assert inversion_metrics.top_k_rate(scores, targets, 3) == 1.0
    with pytest.raises(ValueError, match="k must be"):
        inversion_metrics.top_k_rate(scores, targets, 4)
    with pytest.raises(ValueError, match="scores"):
        inversion_metrics.top_k_rate(scores[:2], targets, 1)


def _logit_convnet(seed):
    """The notebook's ConvNet (logits), random weights that differ with ``seed``."""
    model = models.mnist_convnet()
    rng = np.random.default_rng(seed)
    model.set_weights(
        [w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in model.get_weights()]
    )
    return model


def test_miface_runner_equals_an_estimator_per_model_and_never_retraces():
    runner = inversion.MIFaceRunner(models.mnist_convnet(), nb_classes=10, input_shape=SHAPE)
    targets = np.array([0, 3, 7])
    x0 = _x(3, seed=4) * 0.2
    kwargs = dict(window_length=3, threshold=0.99, learning_rate=0.1)
    for seed in (1, 2):  # two different trained models through the same estimator
        model = _logit_convnet(seed)
        inv, conf = runner.invert(model, targets, x0, max_iter=6, **kwargs)
        own = TensorFlowV2Classifier(
            model=tf.keras.Sequential([model, tf.keras.layers.Softmax()]),
            nb_classes=10,
            input_shape=SHAPE,
            clip_values=(0.0, 1.0),
        )
        attack = MIFace(own, max_iter=6, batch_size=3, verbose=False, **kwargs)
        expected = attack.infer(x0, targets)
        assert np.abs(expected - x0).max() > 1e-3  # the attack moved
        np.testing.assert_allclose(inv, expected, atol=1e-5)
        np.testing.assert_allclose(conf, own.predict(expected)[np.arange(3), targets], atol=1e-5)
    assert set(runner.classifier.tracing_counts().values()) == {1}
    zeros_inv, _ = runner.invert(model, targets, max_iter=2, **kwargs)  # default start: zeros
    assert zeros_inv.shape == (3, *SHAPE)


def test_miface_runner_rejects_bad_input():
    runner = inversion.MIFaceRunner(models.mnist_convnet(), nb_classes=10, input_shape=SHAPE)
    model = models.mnist_convnet()
    with pytest.raises(TypeError, match="Keras model"):
        inversion.MIFaceRunner("convnet", nb_classes=10, input_shape=SHAPE)
    with pytest.raises(ValueError, match="targets"):
        runner.invert(model, [10], max_iter=2)
    with pytest.raises(ValueError, match="targets"):
        runner.invert(model, [0.5], max_iter=2)
    with pytest.raises(ValueError, match="max_iter"):
        runner.invert(model, [1], max_iter=0)
    with pytest.raises(ValueError, match="x0"):
        runner.invert(model, [1, 2], _x(3), max_iter=2)
    with pytest.raises(ValueError, match="architecture"):
        runner.invert(models.mnist_judge(), [1], max_iter=2)


def test_judge_accuracy():
    judge = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Identity()])
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [2.0, 1.0]])
    assert inversion_metrics.judge_accuracy(judge, scores, np.array([0, 1, 0, 0])) == 0.75
    with pytest.raises(ValueError, match="length"):
        inversion_metrics.judge_accuracy(judge, scores, np.array([0, 1]))


def test_identification_metrics():
    faces, x, y = fake_people()
    rec = inversion_metrics.EigenfaceRecogniser(n_components=10).fit(x, y)
    means = inversion_metrics.class_mean_images(x, y, 6)
    # people 0-3 inverted well, 4 and 5 swapped: top-1 is 4/6 and the swapped pair is top-2
    inv = 0.3 * faces[[0, 1, 2, 3, 5, 4]] + 0.5
    got = inversion_metrics.identification_metrics(rec, inv, means)
    assert got["top1"] == pytest.approx(4 / 6)
    assert got["top5"] == 1.0
    assert got["own_wins"] == 4
    own, other = inversion_metrics.own_and_nearest_other(inv, means)
    assert got["corr_own"] == pytest.approx(own.mean())
    assert got["corr_other"] == pytest.approx(other.mean())


def synthetic_people(identity: float, seed: int = 0, n_people: int = 12):
    """Photos = the person's face * ``identity`` + a photo's own pattern; 7 training and 3
    held-out photos each (the notebook's split)."""
    rng = np.random.default_rng(seed)
    faces = rng.normal(size=(n_people, 16, 16))
    photos = identity * faces[:, None] + rng.normal(size=(n_people, 10, 16, 16))
    labels = np.repeat(np.arange(n_people), 10).reshape(n_people, 10)
    train = (photos[:, :7].reshape(-1, 16, 16), labels[:, :7].ravel())
    heldout = (photos[:, 7:].reshape(-1, 16, 16), labels[:, 7:].ravel())
    return faces, train, heldout


def test_a_copy_of_a_training_photo_is_not_evidence_of_the_person():
    # Persons barely differ: an inversion that copies one training photo per person is found
    # by the training-photo gallery every time, and by the held-out gallery at chance (1/40).
    _, train, heldout = synthetic_people(identity=0.05, n_people=40)
    copies = np.stack([train[0][train[1] == p][0] for p in range(40)])
    rates = inversion_metrics.identification_by_gallery(
        copies, {"training photos": train, "held-out photos": heldout}, n_components=20
    )
    assert rates["training photos"]["top1"] == 1.0  # each copy is one of the gallery's photos
    assert rates["held-out photos"]["top1"] <= 0.125  # 5 of 40; chance gives 1 on average


def test_an_image_of_the_person_is_found_in_both_galleries():
    faces, train, heldout = synthetic_people(identity=1.5)
    rates = inversion_metrics.identification_by_gallery(
        faces, {"training photos": train, "held-out photos": heldout}, n_components=20
    )
    assert rates["training photos"]["top1"] == 1.0 and rates["held-out photos"]["top1"] == 1.0
    assert rates["held-out photos"]["top5"] == 1.0


def test_a_gallery_must_hold_the_people_inverted():
    faces, train, _ = synthetic_people(identity=1.0)
    with pytest.raises(ValueError, match="exactly the people"):
        inversion_metrics.identification_by_gallery(
            faces, {"part": (train[0][train[1] < 6], train[1][train[1] < 6])}
        )
    with pytest.raises(ValueError, match="at least one"):
        inversion_metrics.identification_by_gallery(faces, {})


def _attack(estimator, **kwargs):
    return MIFace(estimator, max_iter=5, window_length=3, batch_size=3, verbose=False, **kwargs)


def test_infer_cached_returns_mifaces_inversions_and_then_loads_them(softmax_model, tmp_path):
    _, fast = _pair(softmax_model)
    x0, targets = _x(3, seed=5) * 0.2, np.array([1, 4, 8])
    expected = _attack(fast).infer(x0, targets)
    first, cached_first = inversion.infer_cached(_attack(fast), x0, targets)
    np.testing.assert_array_equal(first, expected)
    assert not cached_first
    entries = list((tmp_path / "model-cache").glob("miface-*.npy"))
    assert len(entries) == 1
    again, cached_again = inversion.infer_cached(_attack(fast), x0, targets)
    assert cached_again
    np.testing.assert_array_equal(again, expected)


def test_infer_cached_never_reuses_another_inversion(softmax_model, tmp_path):
    """Each thing that changes MIFace's result gives its own entry."""
    art, fast = _pair(softmax_model)
    x0, targets = _x(3, seed=5) * 0.2, np.array([1, 4, 8])
    inversion.infer_cached(_attack(fast), x0, targets)
    other_model = tf.keras.models.clone_model(softmax_model)
    other_model.set_weights([w * 1.01 for w in softmax_model.get_weights()])
    _, other_fast = _pair(other_model)
    changes = {
        "weights": (_attack(other_fast), x0, targets),
        "estimator class": (_attack(art), x0, targets),
        "start": (_attack(fast), x0 + 0.01, targets),
        "targets": (_attack(fast), x0, np.array([1, 4, 9])),
        "iterations": (
            MIFace(fast, max_iter=6, window_length=3, batch_size=3, verbose=False),
            x0,
            targets,
        ),
        "threshold": (_attack(fast, threshold=0.5), x0, targets),
        "learning rate": (_attack(fast, learning_rate=0.2), x0, targets),
    }
    for what, (attack, x, y) in changes.items():
        got, cached = inversion.infer_cached(attack, x, y)
        assert not cached, f"a changed {what} reused a cached inversion"
        np.testing.assert_array_equal(got, attack.infer(x, y))
    assert len(list((tmp_path / "model-cache").glob("miface-*.npy"))) == 1 + len(changes)


def test_infer_cached_off_damaged_and_bad_input(softmax_model, tmp_path, monkeypatch):
    _, fast = _pair(softmax_model)
    x0, targets = _x(3, seed=5) * 0.2, np.array([1, 4, 8])
    expected = _attack(fast).infer(x0, targets)
    inversion.infer_cached(_attack(fast), x0, targets)
    (entry,) = (tmp_path / "model-cache").glob("miface-*.npy")
    entry.write_bytes(b"not an array")
    with pytest.warns(CacheWarning, match="Damaged"):
        got, cached = inversion.infer_cached(_attack(fast), x0, targets)
    assert not cached
    np.testing.assert_array_equal(got, expected)
    assert inversion.infer_cached(_attack(fast), x0, targets)[1]  # stored again
    monkeypatch.setenv("MLPRIVACY_CACHE", "off")
    got, cached = inversion.infer_cached(_attack(fast), x0, targets)
    assert not cached
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(TypeError, match="MIFace"):
        inversion.infer_cached(fast, x0, targets)
    with pytest.raises(ValueError, match="same length"):
        inversion.infer_cached(_attack(fast), x0, targets[:2])


def test_miface_runner_loads_a_repeated_inversion_from_the_cache(tmp_path):
    runner = inversion.MIFaceRunner(models.mnist_convnet(), nb_classes=10, input_shape=SHAPE)
    model = _logit_convnet(3)
    kwargs = dict(window_length=3, threshold=0.99, learning_rate=0.1)
    first = runner.invert(model, np.array([2, 5]), max_iter=4, **kwargs)
    assert len(list((tmp_path / "model-cache").glob("miface-*.npy"))) == 1
    again = runner.invert(model, np.array([2, 5]), max_iter=4, **kwargs)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    runner.invert(_logit_convnet(4), np.array([2, 5]), max_iter=4, **kwargs)  # another model
    assert len(list((tmp_path / "model-cache").glob("miface-*.npy"))) == 2


def test_infer_cached_leaves_no_temporary_file_when_the_save_fails_or_is_interrupted(
    softmax_model, tmp_path, monkeypatch
):
    _, fast = _pair(softmax_model)
    x0, targets = _x(3, seed=5) * 0.2, np.array([1, 4, 8])
    cache_root = tmp_path / "model-cache"

    def refuse(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(inversion.np, "save", refuse)
    with pytest.warns(CacheWarning, match="Could not store"):
        got, cached = inversion.infer_cached(_attack(fast), x0, targets)
    assert not cached and got.shape == x0.shape
    assert list(cache_root.iterdir()) == []

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(inversion.np, "save", interrupt)
    with pytest.raises(KeyboardInterrupt):
        inversion.infer_cached(_attack(fast), x0, targets)
    assert list(cache_root.iterdir()) == []
