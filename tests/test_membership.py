"""Tests of mlprivacy_helpers.membership (its figures: test_plotting_membership.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import dataclasses  # noqa: E402
import warnings  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (  # noqa: E402
    dataset_slicing,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (  # noqa: E402
    membership_inference_attack as mia,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (  # noqa: E402
    models as attack_models,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (  # noqa: E402
    AttackInputData,
    AttackResults,
    AttackType,
    SingleSliceSpec,
    SlicingFeature,
    SlicingSpec,
)

from mlprivacy_helpers import membership  # noqa: E402
from mlprivacy_helpers.cache import CacheWarning  # noqa: E402


def _data(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0).astype("int64")
    return x, y.reshape(-1, 1)


def _model() -> tf.keras.Model:
    model = tf.keras.Sequential(
        [
            tf.keras.Input((6,)),
            tf.keras.layers.Dense(32, activation="relu"),
            tf.keras.layers.Dense(3),
        ]
    )
    model.compile(
        "adam",
        tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_logits_and_losses_match_keras_loss():
    tf.keras.utils.set_random_seed(0)
    model = _model()
    x, y = _data()
    logits, losses = membership.logits_and_losses(model, x, y)
    assert logits.shape == (120, 3) and losses.shape == (120,)
    expected = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(
        y, model(x)
    )
    np.testing.assert_allclose(losses, expected.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        membership.logits_and_losses(model, x, y[:5])
    with pytest.raises(TypeError, match="model"):
        membership.logits_and_losses("model", x, y)


def test_seeded_numpy_is_reproducible_and_restores_state():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    with membership.seeded_numpy(7):
        a = np.random.permutation(10)
    with membership.seeded_numpy(7):
        b = np.random.permutation(10)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    with pytest.raises(TypeError, match="seed"):
        with membership.seeded_numpy(1.5):
            pass


def test_callback_writes_library_numbers_into_history():
    tf.keras.utils.set_random_seed(0)
    x, y = _data(200)
    members, non_members = (x[:100], y[:100]), (x[100:], y[100:])
    callback = membership.EpochAttackCallback(members, non_members, seed=3)
    model = _model()
    history = model.fit(*members, epochs=3, batch_size=16, verbose=0, callbacks=[callback])
    for key in (
        "mia_logistic_regression_auc",
        "mia_logistic_regression_advantage",
        "mia_threshold_attack_auc",
        "mia_train_accuracy",
        "mia_test_loss",
    ):
        assert len(history.history[key]) == 3, key
    assert all(0.0 <= v <= 1.0 for v in history.history["mia_logistic_regression_auc"])
    # Same numbers as TF Privacy's own run_attacks on the final model with the same seed
    # (its epsilon lower bound divides by zero at the ROC end points: harmless here).
    with membership.seeded_numpy(3 + 2), np.errstate(divide="ignore", invalid="ignore"):
        results = mia.run_attacks(
            callback.attack_input(),
            SlicingSpec(entire_dataset=True),
            attack_types=(AttackType.THRESHOLD_ATTACK, AttackType.LOGISTIC_REGRESSION),
        )
    by_type = {r.attack_type: r for r in results.single_attack_results}
    assert history.history["mia_logistic_regression_auc"][-1] == pytest.approx(
        by_type[AttackType.LOGISTIC_REGRESSION].get_auc()
    )
    assert history.history["mia_threshold_attack_advantage"][-1] == pytest.approx(
        by_type[AttackType.THRESHOLD_ATTACK].get_attacker_advantage()
    )
    acc = np.mean(np.argmax(model.predict(x[:100], verbose=0), axis=1) == y[:100, 0])
    assert history.history["mia_train_accuracy"][-1] == pytest.approx(acc)


def test_callback_rejects_bad_input():
    x, y = _data(20)
    with pytest.raises(ValueError, match="members"):
        membership.EpochAttackCallback((x, y[:3]), (x, y))
    with pytest.raises(TypeError, match="AttackType"):
        membership.EpochAttackCallback((x, y), (x, y), attack_types=("lr",))


def test_attack_input_from_model_matches_notebook_02():
    tf.keras.utils.set_random_seed(0)
    model = _model()
    x, y = _data(200)
    data = membership.attack_input_from_model(model, x[:120], y[:120], x[120:], y[120:])
    assert isinstance(data, AttackInputData)
    # Notebook 02's own construction.
    cce = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    logits_train = model.predict(x[:120], batch_size=1024, verbose=0)
    logits_test = model.predict(x[120:], batch_size=1024, verbose=0)
    np.testing.assert_array_equal(data.logits_train, logits_train)
    np.testing.assert_array_equal(data.logits_test, logits_test)
    np.testing.assert_allclose(data.loss_train, cce(y[:120], logits_train).numpy(), rtol=1e-6)
    np.testing.assert_allclose(data.loss_test, cce(y[120:], logits_test).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(data.labels_train, y[:120].ravel())
    np.testing.assert_array_equal(data.labels_test, y[120:].ravel())
    with pytest.raises(ValueError, match="same length"):
        membership.attack_input_from_model(model, x, y[:5], x, y)


def _fake_attack_input(seed: int = 0, n_train: int = 300, n_test: int = 240) -> AttackInputData:
    """Logits, losses and labels of a pretend 3-class model that fits members better."""
    rng = np.random.default_rng(seed)
    labels_train, labels_test = rng.integers(0, 3, n_train), rng.integers(0, 3, n_test)
    logits_train = rng.normal(size=(n_train, 3)) + 2.0 * np.eye(3)[labels_train]
    logits_test = rng.normal(size=(n_test, 3)) + 1.0 * np.eye(3)[labels_test]

    def loss(logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_p[np.arange(len(labels)), labels]

    return AttackInputData(
        logits_train=logits_train,
        logits_test=logits_test,
        loss_train=loss(logits_train, labels_train),
        loss_test=loss(logits_test, labels_test),
        labels_train=labels_train,
        labels_test=labels_test,
    )


FULL_SLICING = SlicingSpec(
    entire_dataset=True,
    by_class=True,
    by_percentiles=True,
    by_classification_correctness=True,
    all_custom_train_indices=[np.arange(300) % 2],
    all_custom_test_indices=[np.arange(240) % 2],
    custom_slices_names={0: "even", 1: "odd"},
)
FULL_SLICING_ODD = (np.arange(300) % 2, np.arange(240) % 2, 1, "odd")
ATTACKS = (AttackType.THRESHOLD_ATTACK, AttackType.THRESHOLD_ENTROPY_ATTACK)


@pytest.fixture(scope="module")
def sliced_results() -> AttackResults:
    with membership.seeded_numpy(0), np.errstate(divide="ignore", invalid="ignore"):
        return mia.run_attacks(_fake_attack_input(), FULL_SLICING, attack_types=ATTACKS)


def test_slice_label_names_every_slicing_feature():
    specs = dataset_slicing.get_single_slice_specs(FULL_SLICING, num_classes=3)
    features = {spec.feature for spec in specs}
    assert features == {None, *SlicingFeature}, "the test must cover every SlicingFeature"
    labels = [membership.slice_label(spec) for spec in specs]
    assert len(set(labels)) == len(labels), f"slice names must be distinct: {labels}"
    assert labels[0] == "entire dataset"
    assert "class 2" in labels
    assert "loss percentiles 0-10%" in labels and "loss percentiles 90-100%" in labels
    assert "correctly classified" in labels and "misclassified" in labels
    assert "custom slice even" in labels and "custom slice odd" in labels


@pytest.mark.parametrize(
    "spec, label",
    [
        (SingleSliceSpec(), "entire dataset"),
        (SingleSliceSpec(SlicingFeature.CLASS, 3), "class cat"),
        (SingleSliceSpec(SlicingFeature.CLASS, np.int64(0)), "class airplane"),
        (SingleSliceSpec(SlicingFeature.PERCENTILE, (10, 20)), "loss percentiles 10-20%"),
        (SingleSliceSpec(SlicingFeature.PERCENTILE, (0, 10)), "loss percentiles 0-10%"),
        (SingleSliceSpec(SlicingFeature.CORRECTLY_CLASSIFIED, True), "correctly classified"),
        (SingleSliceSpec(SlicingFeature.CORRECTLY_CLASSIFIED, False), "misclassified"),
        (
            SingleSliceSpec(SlicingFeature.CUSTOM, (np.zeros(2), np.zeros(2), 4, None)),
            "custom group 4",
        ),
    ],
)
def test_slice_label_cases(spec, label):
    from mlprivacy_helpers.data import CIFAR10_CLASSES

    assert membership.slice_label(spec, CIFAR10_CLASSES) == label


def test_slice_label_rejects_bad_input():
    with pytest.raises(TypeError, match="SingleSliceSpec"):
        membership.slice_label("entire dataset")
    with pytest.raises(ValueError, match="class 5"):
        membership.slice_label(SingleSliceSpec(SlicingFeature.CLASS, 5), ["a", "b"])


def test_pick_selects_slices_and_attack_types(sliced_results):
    entire = membership.pick(sliced_results)
    assert [r.attack_type for r in entire] == list(ATTACKS)
    assert all(r.slice_spec.entire_dataset for r in entire)
    (threshold,) = membership.pick(sliced_results, AttackType.THRESHOLD_ATTACK)
    assert threshold is entire[0]
    misclassified = membership.pick(
        sliced_results, feature=SlicingFeature.CORRECTLY_CLASSIFIED, value=False
    )
    assert len(misclassified) == 2
    assert all(r.slice_spec.value is False for r in misclassified)
    (pct,) = membership.pick(
        sliced_results, AttackType.THRESHOLD_ENTROPY_ATTACK, SlicingFeature.PERCENTILE, (10, 20)
    )
    assert pct.slice_spec.value == (10, 20)
    assert len(membership.pick(sliced_results, feature=SlicingFeature.CLASS, value=1)) == 2
    (custom, _) = membership.pick(
        sliced_results, feature=SlicingFeature.CUSTOM, value=FULL_SLICING_ODD
    )
    assert membership.slice_label(custom.slice_spec) == "custom slice odd"
    assert membership.pick(sliced_results, feature=SlicingFeature.CLASS, value=7) == []


def test_pick_rejects_bad_input(sliced_results):
    with pytest.raises(TypeError, match="AttackResults"):
        membership.pick([])
    with pytest.raises(TypeError, match="AttackType"):
        membership.pick(sliced_results, "lr")
    with pytest.raises(TypeError, match="SlicingFeature"):
        membership.pick(sliced_results, feature="class", value=1)
    with pytest.raises(ValueError, match="feature"):
        membership.pick(sliced_results, value=1)


def test_slice_table_reproduces_tf_privacys_numbers(sliced_results):
    table = membership.slice_table(sliced_results, class_names=["a", "b", "c"])
    library = sliced_results.calculate_pd_dataframe()
    assert list(table.columns) == ["slice", *membership.SLICE_TABLE_COLUMNS]
    assert len(table) == len(library) == len(sliced_results.single_attack_results)
    for column in ("AUC", "Attacker advantage", "train size", "test size"):
        np.testing.assert_array_equal(table[column].to_numpy(), library[column].to_numpy())
    rows = table.itertuples(index=False)
    for row, result in zip(rows, sliced_results.single_attack_results, strict=True):
        assert row.AUC == pytest.approx(result.get_auc())
        assert row.slice == membership.slice_label(result.slice_spec, ["a", "b", "c"])
        assert row[1] == result.attack_type.name
    assert "class c" in set(table["slice"]) and "misclassified" in set(table["slice"])


def _small_attack_input(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    return AttackInputData(
        logits_train=rng.normal(size=(n, 10)),
        logits_test=rng.normal(size=(n, 10)),
        labels_train=rng.integers(0, 10, n),
        labels_test=rng.integers(0, 10, n),
        loss_train=rng.exponential(size=n) * 0.5,
        loss_test=rng.exponential(size=n),
    )


class _FewTreesGridSearchCV(attack_models.model_selection.GridSearchCV):
    """TF Privacy's ``GridSearchCV``, with its random-forest grid's ``n_estimators: [100]`` cut
    to 5 trees: the same 216 fits, the same failed ``max_features="auto"`` half and so the same
    warnings, in ~4 s instead of ~50 s (measured here, on 2 cores)."""

    def __init__(self, estimator, *, param_grid, **kwargs):
        if "n_estimators" in param_grid:
            param_grid = {**param_grid, "n_estimators": [5]}
        super().__init__(estimator, param_grid=param_grid, **kwargs)


def _warnings_of_all_attacks(monkeypatch: pytest.MonkeyPatch) -> list[warnings.WarningMessage]:
    """Every warning that all of TF Privacy's attacks and their ε lower bounds raise (the
    random forest with fewer trees: :class:`_FewTreesGridSearchCV`)."""
    selection = SimpleNamespace(GridSearchCV=_FewTreesGridSearchCV)
    monkeypatch.setattr(attack_models, "model_selection", selection)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with membership.seeded_numpy(0):
            results = mia.run_attacks(
                _small_attack_input(),
                SlicingSpec(entire_dataset=True),
                attack_types=list(AttackType),
            )
            for r in results.single_attack_results:
                r.get_epsilon_lower_bound()
    return seen


def _raise_again(warning: warnings.WarningMessage) -> None:
    """Raise a recorded warning again the way it was raised the first time."""
    message = str(warning.message)
    if warning.category is RuntimeWarning and message.startswith("divide by zero encountered"):
        np.divide(np.ones(1), np.zeros(1))  # NumPy's floating-point error, ruled by np.errstate
    elif warning.category is RuntimeWarning and message.startswith("invalid value encountered"):
        np.divide(np.zeros(1), np.zeros(1))
    else:
        warnings.warn_explicit(message, warning.category, warning.filename, warning.lineno)


def test_known_attack_warnings_are_hidden_and_others_are_not(monkeypatch):
    raised = _warnings_of_all_attacks(monkeypatch)
    messages = [str(w.message) for w in raised]
    # The attacks do raise these warnings (so the filter means something).
    assert any("fits failed" in m for m in messages), messages
    assert any("divide by zero" in m for m in messages), messages
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with membership.known_attack_warnings_ignored():
            for warning in raised:
                _raise_again(warning)
            warnings.warn("an unrelated warning", UserWarning, stacklevel=1)
            np.multiply(np.full(1, 1e308), 10.0)  # overflow: not one of the known warnings
    assert [str(w.message) for w in shown] == [
        "an unrelated warning",
        "overflow encountered in multiply",
    ]
    # Outside the block every warning shows again.
    with warnings.catch_warnings(record=True) as after:
        warnings.simplefilter("always")
        for warning in raised:
            _raise_again(warning)
    assert len(after) == len(raised)


def test_the_logistic_regression_attackers_convergence_warning_is_hidden_and_no_other():
    # What TF Privacy's LR attacker raises when one cross-validation fit stops at
    # scikit-learn's max_iter (it happened on notebook 02's DP model): here forced with 1.
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 4)), rng.integers(0, 2, 200)
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        LogisticRegression(solver="lbfgs", max_iter=1).fit(x, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in raised)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with membership.known_attack_warnings_ignored():
            LogisticRegression(solver="lbfgs", max_iter=1).fit(x, y)
            warnings.warn("a solver that failed to converge", ConvergenceWarning, stacklevel=1)
    assert [str(w.message) for w in shown] == ["a solver that failed to converge"]


def test_membership_scores_are_the_members_then_the_non_members(sliced_results):
    (threshold,) = membership.pick(sliced_results, AttackType.THRESHOLD_ATTACK)
    data = _fake_attack_input()
    scores = membership.membership_scores(threshold)
    np.testing.assert_allclose(scores, np.r_[-data.get_loss_train(), -data.get_loss_test()])
    (entropy,) = membership.pick(sliced_results, AttackType.THRESHOLD_ENTROPY_ATTACK)
    empty = dataclasses.replace(entropy, membership_scores_train=None)
    with pytest.raises(ValueError, match="no membership scores"):
        membership.membership_scores(empty)


def test_best_threshold_epsilon_is_the_maximum_of_tf_privacys_estimates(sliced_results):
    entire = membership.pick(sliced_results)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = max(float(np.max(r.get_epsilon_lower_bound())) for r in entire)
    assert expected > 0
    assert membership.best_threshold_epsilon(sliced_results) == expected
    with pytest.raises(TypeError, match="AttackResults"):
        membership.best_threshold_epsilon(entire)


# run_attacks_cached: TF Privacy's run_attacks, seeded, kept in the model cache.
_CHEAP_ATTACKS = [AttackType.THRESHOLD_ATTACK, AttackType.LOGISTIC_REGRESSION]
# TF Privacy's epsilon lower bound divides by zero at the ROC curve's end points (as in
# known_attack_warnings_ignored); nothing else is silenced.
_EPSILON_BOUND_WARNINGS = (
    "ignore:divide by zero encountered:RuntimeWarning",
    "ignore:invalid value encountered:RuntimeWarning",
)


def _summary(results: AttackResults) -> list[tuple[str, str, float, float]]:
    """Each attack's slice, type, AUC and advantage: what notebook 02's tables show."""
    return [
        (str(r.slice_spec), r.attack_type.name, r.get_auc(), r.get_attacker_advantage())
        for r in results.single_attack_results
    ]


@pytest.mark.filterwarnings(*_EPSILON_BOUND_WARNINGS)
def test_run_attacks_cached_gives_tf_privacys_results_and_then_loads_them(tmp_path):
    attack_input = _small_attack_input(n=200, seed=3)
    spec = SlicingSpec(entire_dataset=True, by_class=True)
    with membership.seeded_numpy(7):
        expected = mia.run_attacks(attack_input, spec, attack_types=_CHEAP_ATTACKS)
    first, cached_first = membership.run_attacks_cached(attack_input, spec, _CHEAP_ATTACKS, seed=7)
    assert not cached_first
    assert _summary(first) == _summary(expected)
    entries = list((tmp_path / "model-cache").glob("mia-*.pickle"))
    assert len(entries) == 1
    again, cached_again = membership.run_attacks_cached(attack_input, spec, _CHEAP_ATTACKS, seed=7)
    assert cached_again and isinstance(again, AttackResults)
    assert _summary(again) == _summary(expected)
    for got, want in zip(again.single_attack_results, expected.single_attack_results, strict=True):
        np.testing.assert_array_equal(got.membership_scores_train, want.membership_scores_train)
        np.testing.assert_array_equal(got.roc_curve.fpr, want.roc_curve.fpr)
    # The global generator is left as it was, as with seeded_numpy.
    np.random.seed(11)
    before = np.random.get_state()[1].copy()
    membership.run_attacks_cached(attack_input, spec, _CHEAP_ATTACKS, seed=7)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.filterwarnings(*_EPSILON_BOUND_WARNINGS)
def test_run_attacks_cached_never_reuses_other_attacks_results(tmp_path):
    """Each thing that changes run_attacks' result gives its own entry."""
    base = _small_attack_input(n=150, seed=1)
    entire = SlicingSpec(entire_dataset=True)
    calls = [
        (base, entire, _CHEAP_ATTACKS, 0),
        (base, entire, _CHEAP_ATTACKS, 1),  # another seed: other folds
        (base, entire, [AttackType.THRESHOLD_ATTACK], 0),  # other attacks
        (base, SlicingSpec(entire_dataset=True, by_class=True), _CHEAP_ATTACKS, 0),
        (dataclasses.replace(base, loss_train=base.loss_train * 2), entire, _CHEAP_ATTACKS, 0),
        (_small_attack_input(n=150, seed=2), entire, _CHEAP_ATTACKS, 0),
    ]
    for attack_input, spec, types, seed in calls:
        _, cached = membership.run_attacks_cached(attack_input, spec, types, seed=seed)
        assert not cached
    assert len(list((tmp_path / "model-cache").glob("mia-*.pickle"))) == len(calls)
    # The same call again, with an equal copy of the input: loaded.
    copy = dataclasses.replace(base, logits_train=base.logits_train.copy())
    _, cached = membership.run_attacks_cached(copy, entire, _CHEAP_ATTACKS, seed=0)
    assert cached


@pytest.mark.filterwarnings(*_EPSILON_BOUND_WARNINGS)
def test_run_attacks_cached_off_damaged_failed_save_and_bad_input(tmp_path, monkeypatch):
    attack_input = _small_attack_input(n=100, seed=4)
    spec = SlicingSpec(entire_dataset=True)
    types = [AttackType.THRESHOLD_ATTACK]
    cache_root = tmp_path / "model-cache"
    _, cached = membership.run_attacks_cached(attack_input, spec, types, seed=0)
    (entry,) = cache_root.glob("mia-*.pickle")
    expected = _summary(membership.run_attacks_cached(attack_input, spec, types, seed=0)[0])
    entry.write_bytes(b"not a pickle")
    with pytest.warns(CacheWarning, match="Damaged model-cache entry"):
        got, cached = membership.run_attacks_cached(attack_input, spec, types, seed=0)
    assert not cached and _summary(got) == expected
    assert membership.run_attacks_cached(attack_input, spec, types, seed=0)[1]  # stored again

    # A failed or interrupted save leaves no entry and no temporary file.
    other = _small_attack_input(n=100, seed=5)
    before = sorted(cache_root.iterdir())

    def refuse(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(membership.pickle, "dump", refuse)
    with pytest.warns(CacheWarning, match="Could not store"):
        got, cached = membership.run_attacks_cached(other, spec, types, seed=0)
    assert not cached and isinstance(got, AttackResults)
    assert sorted(cache_root.iterdir()) == before

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(membership.pickle, "dump", interrupt)
    with pytest.raises(KeyboardInterrupt):
        membership.run_attacks_cached(other, spec, types, seed=0)
    assert sorted(cache_root.iterdir()) == before
    monkeypatch.undo()

    monkeypatch.setenv("MLPRIVACY_CACHE", "off")
    got, cached = membership.run_attacks_cached(other, spec, types, seed=0)
    assert not cached and isinstance(got, AttackResults)
    assert sorted(cache_root.iterdir()) == before

    with pytest.raises(TypeError, match="AttackInputData"):
        membership.run_attacks_cached({"logits_train": None}, spec, types, seed=0)
    with pytest.raises(TypeError, match="SlicingSpec"):
        membership.run_attacks_cached(attack_input, None, types, seed=0)
    with pytest.raises(TypeError, match="single AttackType"):
        membership.run_attacks_cached(attack_input, spec, AttackType.THRESHOLD_ATTACK, seed=0)
    with pytest.raises(TypeError, match="AttackType members"):
        membership.run_attacks_cached(attack_input, spec, ["threshold"], seed=0)
    with pytest.raises(ValueError, match="empty"):
        membership.run_attacks_cached(attack_input, spec, [], seed=0)
    with pytest.raises(TypeError, match="seed"):
        membership.run_attacks_cached(attack_input, spec, types, seed=1.5)
