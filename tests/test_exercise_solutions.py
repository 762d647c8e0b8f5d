"""Every exercise's solution cell against the definition its checker compares with.

An exercise states a definition in words, and its checker compares the learner's answer with
what a library or the notebook computed (TF Privacy, TensorFlow, the package's own
functions). Where two plausible readings of the words could give different numbers (signs,
absolute values, ties, ``>=`` vs ``>``, rounding of rates, degenerate inputs), the notebook's
run only shows them equal for the data of that run. These tests execute the solution cells
(tagged ``solution``) of the notebooks on small crafted inputs on which the readings
differ, and check that the solution gives the checker's number.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
import tensorflow as tf
from scipy import special, stats
from sklearn import metrics
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
    membership_inference_attack as mia,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
    AttackInputData,
    AttackType,
    DataSize,
    EpsilonLowerBoundValue,
    RocCurve,
    SingleAttackResult,
    SingleSliceSpec,
    SlicingSpec,
)

from mlprivacy_helpers import attack_metrics, audit, dp_sgd, inversion_metrics, membership
from mlprivacy_helpers.memorization import exposure
from mlprivacy_helpers.plotting import dp as dp_plots

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NB01 = "01_differential_privacy_basics.ipynb"
NB02 = "02_membership_inference_cifar10.ipynb"
NB03 = "03_model_inversion_mnist.ipynb"
NB04 = "04_auditing_membership_inference.ipynb"
NB05 = "05_memorization_secret_sharer.ipynb"


# --- Reading the notebooks ----------------------------------------------------------------


@functools.cache
def _code_cells(path: Path) -> tuple[tuple[str, bool], ...]:
    """``(source, is a solution cell)`` of every code cell of the notebook at ``path``."""
    nb = nbformat.read(path, as_version=4)
    return tuple(
        (cell.source, "solution" in cell.metadata.get("tags", []))
        for cell in nb.cells
        if cell.cell_type == "code"
    )


def _top_level_names(source: str) -> set[str]:
    """The names a cell defines at top level: functions and assignment targets."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def solution_names(notebook: str) -> set[str]:
    """Every name that the solution cells of ``notebook`` define."""
    cells = _code_cells(NOTEBOOKS / notebook)
    return set().union(*(_top_level_names(src) for src, is_solution in cells if is_solution))


def solution(notebook: str, name: str, **namespace: Any) -> Any:
    """Execute the solution cell of ``notebook`` that defines ``name``; return its value.

    The cell runs in a fresh namespace holding NumPy (``np``), SciPy's ``stats`` and
    ``special`` (as the notebooks import them) and ``namespace``: what else the cell reads.
    """
    cells = [
        src
        for src, is_solution in _code_cells(NOTEBOOKS / notebook)
        if is_solution and name in _top_level_names(src)
    ]
    assert len(cells) == 1, f"{notebook}: {len(cells)} solution cells define {name}"
    scope = {"np": np, "stats": stats, "special": special, **namespace}
    exec(compile(cells[0], f"{notebook}:solution:{name}", "exec"), scope)
    return scope[name]


def notebook_functions(notebook: str, scope: dict[str, Any], *names: str) -> dict[str, Any]:
    """Define the notebook's own functions ``names`` (from any code cell) in ``scope``.

    Only the ``def`` statements run, not the rest of their cells; the functions read their
    globals (the notebook's constants) from ``scope``, which is returned.
    """
    wanted = set(names)
    for src, is_solution in _code_cells(NOTEBOOKS / notebook):
        if is_solution:
            continue
        for node in ast.parse(src).body:
            if isinstance(node, ast.FunctionDef) and node.name in wanted:
                exec(compile(ast.Module([node], []), f"{notebook}:{node.name}", "exec"), scope)
                wanted.discard(node.name)
    assert not wanted, f"{notebook} defines no function {sorted(wanted)}"
    return scope


# --- Notebook 01: differential privacy basics -------------------------------------------


def _nb01_scope() -> dict[str, Any]:
    """Notebook 01's running example and its reference functions (sections 3, 4, 6, 7)."""
    scope: dict[str, Any] = {"np": np, "stats": stats}
    scope.update(SENSITIVITY=1 / 100, TRUE_D1=0.0, TRUE_D2=1 / 100)
    gauss_epsilon, delta = 0.5, 1e-5  # GAUSS_EPSILON and DELTA of the parameters cell
    sigma = scope["SENSITIVITY"] * np.sqrt(2 * np.log(1.25 / delta)) / gauss_epsilon
    scope.update(sigma=sigma, mu=scope["SENSITIVITY"] ** 2 / (2 * sigma**2))
    scope["s"] = scope["SENSITIVITY"] / sigma
    return notebook_functions(
        NB01,
        scope,
        "laplace_mechanism",
        "laplace_logpdf",
        "output_densities",
        "privacy_loss",
        "gaussian_mechanism",
        "gaussian_privacy_loss",
    )


def test_nb01_ex1_the_scale_is_the_mean_sensitivity_under_replacement_over_epsilon():
    my_scale = solution(NB01, "my_scale")
    survey, neighbour = np.zeros(1_000), np.zeros(1_000)  # the checker's worst case
    neighbour[0] = 100
    assert my_scale == pytest.approx(abs(neighbour.mean() - survey.mean()) / 0.5, rel=1e-9)


def test_nb01_ex2_the_sensitivity_of_a_clipped_sum_does_not_depend_on_n():
    my_sensitivity = solution(NB01, "my_sensitivity")
    for n in (5, 500):
        hours, neighbour = np.zeros(n), np.zeros(n)
        neighbour[0] = 40
        assert my_sensitivity == abs(neighbour.sum() - hours.sum())


def test_nb01_ex9_histogram_sensitivities_are_the_largest_l1_changes_of_each_kind():
    # Brute force on a small clinic: every neighbour of each kind, L1 change of the two counts.
    add_remove, replace_one = solution(NB01, "my_histogram_sensitivities")
    clinic = np.array([True, False, False, True, False])

    def histogram(d):
        return np.array([np.sum(~d), np.sum(d)])

    removed = [np.delete(clinic, i) for i in range(clinic.size)]
    added = [np.append(clinic, v) for v in (True, False)]
    replaced = []
    for i in range(clinic.size):
        for v in (True, False):
            neighbour = clinic.copy()
            neighbour[i] = v
            replaced.append(neighbour)
    l1 = [np.abs(histogram(clinic) - histogram(n)).sum() for n in removed + added]
    assert add_remove == max(l1)
    assert replace_one == max(np.abs(histogram(clinic) - histogram(n)).sum() for n in replaced)


def test_nb01_ex3_the_laplace_mechanism_draws_what_the_notebook_draws():
    scope = _nb01_scope()
    mine = solution(NB01, "my_laplace_mechanism")
    for args in [(0.01, 0.01, 1.0, 5), (0.5, 1.0, 0.1, (2, 3)), (0.0, 0.01, 5.0, None)]:
        got = mine(*args[:3], np.random.default_rng(7), args[3])
        want = scope["laplace_mechanism"](*args[:3], np.random.default_rng(7), args[3])
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_nb01_ex4_the_overlap_is_one_half_on_the_notebooks_grid():
    scope = _nb01_scope()
    my_epsilon = solution(NB01, "my_epsilon")
    assert np.exp(-my_epsilon / 2) == pytest.approx(0.5)
    assert abs(dp_plots.overlap_area(*scope["output_densities"](my_epsilon)) - 0.5) < 0.005


def test_nb01_ex5_the_overlap_is_the_trapezoid_rule_of_the_package():
    scope = _nb01_scope()
    my_overlap = solution(NB01, "my_overlap")
    for epsilon in (0.3, 1.0, 3.0):
        densities = scope["output_densities"](epsilon)
        assert my_overlap(*densities) == pytest.approx(dp_plots.overlap_area(*densities), rel=1e-9)
    # An uneven grid and densities that cross: the widths and the minimum both matter.
    r = np.array([0.0, 0.1, 0.5, 0.6, 2.0])
    p1, p2 = np.array([1.0, 0.2, 0.8, 0.0, 0.3]), np.array([0.5, 0.9, 0.1, 0.4, 0.3])
    assert my_overlap(r, p1, p2) == pytest.approx(dp_plots.overlap_area(r, p1, p2), rel=1e-9)


def test_nb01_ex6_the_privacy_loss_is_log_p1_over_p2_with_its_sign():
    scope = _nb01_scope()
    my_privacy_loss = solution(NB01, "my_privacy_loss", **scope)
    for epsilon in (0.5, 2.0):
        r, loss = scope["privacy_loss"](epsilon)
        np.testing.assert_allclose(my_privacy_loss(r, epsilon), loss, rtol=0, atol=1e-9)
    # Left of both true shares K(D1) is the likelier one: L = +epsilon, not -epsilon.
    assert my_privacy_loss(np.array([-1.0]), 1.0)[0] == pytest.approx(1.0)


def test_nb01_ex7_the_violation_mass_is_the_tail_of_the_loss_of_k_d1_outputs():
    scope = _nb01_scope()
    my_violation_mass = solution(NB01, "my_violation_mass", **scope)
    for epsilon in (0.0, 0.1, 0.2):
        exact = stats.norm.sf((epsilon - scope["mu"]) / scope["s"])  # the checker's value
        got = my_violation_mass(epsilon, 100_000, np.random.default_rng(0))
        assert got == pytest.approx(exact, abs=0.01)
    # The loss of K(D2)'s outputs has mean -mu: at epsilon = 0 its tail is 0.04 lower.
    assert stats.norm.sf(scope["mu"] / scope["s"]) < stats.norm.sf(-scope["mu"] / scope["s"]) - 0.03


def test_nb01_ex8_an_average_at_the_threshold_says_d1_and_both_datasets_weigh_equally():
    my_attacker_accuracy = solution(NB01, "my_attacker_accuracy")
    threshold = 0.005
    avg_1, avg_2 = np.array([0.005, 0.0, 0.01]), np.array([0.005, 0.01])  # ties, unequal sizes
    section_9 = (np.mean(avg_1 <= threshold) + np.mean(avg_2 > threshold)) / 2
    assert my_attacker_accuracy(avg_1, avg_2, threshold) == pytest.approx(section_9)
    pooled = (np.sum(avg_1 <= threshold) + np.sum(avg_2 > threshold)) / 5
    with_ties_to_d2 = (np.mean(avg_1 < threshold) + np.mean(avg_2 >= threshold)) / 2
    assert section_9 not in (pytest.approx(pooled), pytest.approx(with_ties_to_d2))


# --- Notebook 02: membership inference with TF Privacy ----------------------------------


def _tf_privacy_threshold_attack(scores_in: np.ndarray, scores_out: np.ndarray):
    """TF Privacy's loss-threshold attack on members' and non-members' scores (minus the loss)."""
    attack_input = AttackInputData(
        loss_train=-np.asarray(scores_in, dtype=float),
        loss_test=-np.asarray(scores_out, dtype=float),
    )
    with membership.known_attack_warnings_ignored():
        results = mia.run_attacks(
            attack_input,
            SlicingSpec(entire_dataset=True),
            attack_types=[AttackType.THRESHOLD_ATTACK],
        )
    (result,) = results.single_attack_results
    return result


def _full_roc(scores_in: np.ndarray, scores_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Members-positive ROC over every threshold (no point of a straight stretch dropped)."""
    labels = np.r_[np.ones(len(scores_in)), np.zeros(len(scores_out))]
    fpr, tpr, _ = metrics.roc_curve(labels, np.r_[scores_in, scores_out], drop_intermediate=False)
    return fpr, tpr


# Scores on which max(TPR - FPR) and max |TPR - FPR| differ: the ROC dips below the diagonal.
ADVANTAGE_CASES = {
    "members score lower than every non-member": (np.arange(4.0), np.arange(4.0, 8.0)),
    "ties of a member with non-members": (np.array([5.0, 1, 0, 0]), np.ones(4)),
    "a model at chance": tuple(np.random.default_rng(3).normal(size=(2, 300))),
}


@pytest.mark.parametrize("scores", ADVANTAGE_CASES.values(), ids=ADVANTAGE_CASES.keys())
def test_nb02_ex1_the_advantage_is_tf_privacys_max_absolute_gap(scores):
    scores_in, scores_out = scores
    fpr, tpr = _full_roc(scores_in, scores_out)
    assert np.max(np.abs(tpr - fpr)) > np.max(tpr - fpr) + 0.01, "the two readings must differ"
    advantage = _tf_privacy_threshold_attack(scores_in, scores_out).get_attacker_advantage()
    my_advantage_from_scores = solution(NB02, "my_advantage_from_scores")
    assert my_advantage_from_scores(scores_in, scores_out) == pytest.approx(advantage, abs=1e-9)


def test_nb02_ex2_losses_and_attack_input_match_keras_and_the_package():
    my_losses = solution(NB02, "my_losses")
    rng = np.random.default_rng(0)
    logits = (rng.normal(size=(6, 4)) * [[1], [10], [100], [500], [1], [1]]).astype(np.float32)
    labels = np.array([0, 1, 2, 3, 3, 0])
    keras_loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    expected = keras_loss(labels, logits).numpy()  # section 3's losses; large logits overflow exp
    np.testing.assert_allclose(my_losses(logits, labels), expected, rtol=1e-4, atol=1e-5)

    my_attack_input_from_model = solution(
        NB02, "my_attack_input_from_model", AttackInputData=AttackInputData
    )
    init = tf.keras.initializers.GlorotUniform(seed=0)
    model = tf.keras.Sequential(
        [tf.keras.Input((5,)), tf.keras.layers.Dense(4, kernel_initializer=init)]
    )
    x_in, x_out = rng.normal(size=(2, 7, 5)).astype(np.float32)
    y_in, y_out = rng.integers(0, 4, size=(2, 7, 1))  # shape (n, 1), as CIFAR-10's labels
    got = my_attack_input_from_model(model, x_in, y_in, x_out, y_out)
    want = membership.attack_input_from_model(model, x_in, y_in, x_out, y_out)
    assert type(got) is type(want)
    for field in ("logits_train", "logits_test", "loss_train", "loss_test"):
        np.testing.assert_allclose(getattr(got, field), getattr(want, field), rtol=1e-4, atol=1e-5)
    for field in ("labels_train", "labels_test"):
        assert getattr(got, field).shape == (7,)
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))


def _lr_attack_result(scores_in: np.ndarray, scores_out: np.ndarray) -> SingleAttackResult:
    """A ``SingleAttackResult`` whose ROC is built as TF Privacy's trained (LR) attack builds it."""
    labels = np.r_[np.ones(len(scores_in)), np.zeros(len(scores_out))]  # 1 = member
    fpr, tpr, thresholds = metrics.roc_curve(labels, np.r_[scores_in, scores_out])
    return SingleAttackResult(
        slice_spec=SingleSliceSpec(None),
        data_size=DataSize(ntrain=len(scores_in), ntest=len(scores_out)),
        attack_type=AttackType.LOGISTIC_REGRESSION,
        roc_curve=RocCurve(
            tpr=tpr,
            fpr=fpr,
            thresholds=thresholds,
            test_train_ratio=len(scores_out) / len(scores_in),
        ),
        epsilon_lower_bound_value=EpsilonLowerBoundValue(bounds={}),
    )


@pytest.mark.parametrize("scores", ADVANTAGE_CASES.values(), ids=ADVANTAGE_CASES.keys())
def test_nb02_ex3_the_advantage_read_off_the_lr_roc_is_tf_privacys(scores):
    # P(member) of a logistic regression lies in (0, 1); a monotone map keeps the ROC.
    lr_entire = _lr_attack_result(*(special.expit(s) for s in scores))
    roc = lr_entire.roc_curve
    assert np.max(np.abs(roc.tpr - roc.fpr)) > np.max(roc.tpr - roc.fpr) + 0.01
    my_advantage = solution(NB02, "my_advantage", lr_entire=lr_entire)
    assert my_advantage == pytest.approx(lr_entire.get_attacker_advantage(), abs=1e-9)


def test_nb02_ex4_tpr_at_fpr_keeps_an_fpr_of_exactly_the_limit_and_handles_ties():
    my_tpr_at_fpr = solution(NB02, "my_tpr_at_fpr")
    scores_out = np.arange(100.0)  # 1 % FPR: one non-member (99) may be flagged
    scores_in = np.array([150.0, 99.0, 98.5, 97.0, 10.0])  # a member tied with the top one
    roc = _tf_privacy_threshold_attack(scores_in, scores_out).roc_curve
    for max_fpr in (0.01, 0.1):
        got = my_tpr_at_fpr(scores_in, scores_out, max_fpr)
        assert got == pytest.approx(roc.tpr[roc.fpr <= max_fpr].max(), abs=1e-9)
    assert my_tpr_at_fpr(scores_in, scores_out, 0.01) == pytest.approx(0.6)
    assert 1 - 99 / 100 > 0.01, "an FPR computed as 1 - k/n would lose the threshold at 99"


# Consecutive thresholds with equal (non-member, member) steps: (1, 1) at scores 2 and 1.
COLLINEAR_IN, COLLINEAR_OUT = np.array([3.0, 2.0, 1.0, 0.0]), np.array([2.0, 1.0, -1.0, -1.0])


def test_nb02_ex4_tpr_at_fpr_is_the_best_of_every_threshold():
    my_tpr_at_fpr = solution(NB02, "my_tpr_at_fpr")
    fpr, tpr = _full_roc(COLLINEAR_IN, COLLINEAR_OUT)
    assert my_tpr_at_fpr(COLLINEAR_IN, COLLINEAR_OUT, 0.25) == tpr[fpr <= 0.25].max() == 0.5


def test_nb02_ex4_the_checkers_roc_keeps_the_thresholds_tf_privacys_roc_drops():
    # The checker reads attack_metrics.roc_points (every threshold): TF Privacy's RocCurve comes
    # from scikit-learn's roc_curve(drop_intermediate=True), which drops (0.25, 0.5) here.
    my_tpr_at_fpr = solution(NB02, "my_tpr_at_fpr")
    fpr, tpr = attack_metrics.roc_points(COLLINEAR_IN, COLLINEAR_OUT)
    assert my_tpr_at_fpr(COLLINEAR_IN, COLLINEAR_OUT, 0.25) == tpr[fpr <= 0.25].max() == 0.5
    roc = _tf_privacy_threshold_attack(COLLINEAR_IN, COLLINEAR_OUT).roc_curve
    assert roc.tpr[roc.fpr <= 0.25].max() == pytest.approx(0.25)  # what the old checker used


def test_nb02_ex5_clipping_matches_tf_clip_by_norm_at_zero_and_at_the_clip_norm():
    my_clip = solution(NB02, "my_clip")
    grads = np.array(
        [[0.0, 0.0, 0.0], [0.6, 0.8, 0.0], [3.0, 4.0, 12.0], [1e-14, 0.0, -1e-14], [0.1, -0.2, 0.3]]
    )
    for clip in (1.0, 0.5):
        want = tf.clip_by_norm(grads, clip, axes=[1]).numpy()
        np.testing.assert_allclose(my_clip(grads, clip), want, rtol=1e-6, atol=1e-9)


# --- Notebook 03: model inversion -------------------------------------------------------


def test_nb03_ex2_the_judges_accuracy_is_keras_accuracy_metric():
    # A "judge" whose logits are its input: class mean i is labelled perm[i], 7 of 10 right.
    judge = tf.keras.Sequential(
        [
            tf.keras.Input((10,)),
            tf.keras.layers.Dense(10, use_bias=False, kernel_initializer="identity"),
        ]
    )
    judge.compile(
        optimizer="adam",
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    perm = np.array([0, 1, 2, 3, 4, 5, 6, 8, 9, 7])
    class_means, targets = np.eye(10, dtype=np.float32)[perm] * 3, np.arange(10)
    my_judge_on_means = solution(
        NB03, "my_judge_on_means", judge=judge, class_means=class_means, targets=targets
    )
    assert my_judge_on_means == pytest.approx(0.7)
    keras_accuracy = judge.evaluate(class_means, targets, verbose=0)[1]
    assert my_judge_on_means == pytest.approx(keras_accuracy, abs=1e-6)


def test_nb03_ex4_class_means_take_labels_of_shape_n_by_1():
    my_class_means = solution(NB03, "my_class_means")
    rng = np.random.default_rng(0)
    x = rng.random((40, 3, 3, 1), dtype=np.float32)
    y = np.r_[np.arange(10), rng.integers(0, 10, 30)].reshape(-1, 1)  # every digit, shape (n, 1)
    want = inversion_metrics.class_mean_images(x, y)
    np.testing.assert_allclose(my_class_means(x, y), want, rtol=1e-5, atol=1e-6)


def test_nb03_ex5_pearson_correlation_matches_the_package_on_images_that_vary():
    my_pearson = solution(NB03, "my_pearson_to_class_mean")
    rng = np.random.default_rng(0)
    images, means = rng.random((2, 10, 4, 4, 1), dtype=np.float32)
    means[3] = 2 * images[3] + 1  # correlation exactly 1
    want = inversion_metrics.pearson_to_class_mean(images, means)
    np.testing.assert_allclose(my_pearson(images, means), want, rtol=0, atol=1e-6)
    assert want[3] == pytest.approx(1.0)


def test_nb03_ex5_a_constant_image_has_the_packages_correlation():
    my_pearson = solution(NB03, "my_pearson_to_class_mean")
    rng = np.random.default_rng(0)
    images, means = rng.random((2, 3, 4, 4, 1), dtype=np.float32)
    images[0] = 0.0  # an inversion that never left the zero start
    want = inversion_metrics.pearson_to_class_mean(images, means)
    assert want[0] == 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        got = my_pearson(images, means)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_nb03_ex6_the_softmax_gradient_matches_autodiff_also_when_saturated():
    scope = notebook_functions(NB03, {"tf": tf}, "autodiff_softmax_gradient")
    my_softmax_gradient = solution(NB03, "my_softmax_gradient")
    rng = np.random.default_rng(0)
    cases = [
        (rng.normal(size=10), 3),
        (25 * rng.normal(size=10), 0),
        (np.r_[800.0, np.zeros(9)], 1),
    ]
    for logits, t in cases:
        want = scope["autodiff_softmax_gradient"](logits, t)
        np.testing.assert_allclose(my_softmax_gradient(logits, t), want, rtol=1e-6, atol=1e-12)


# --- Notebook 04: auditing ---------------------------------------------------------------

TPR_CASES = {
    "250 non-members: floor(2.5) = 2 may be flagged": (
        np.r_[np.arange(250.0), 247.0, 247.0, 248.0, 100.0],
        np.arange(250.0),
    ),
    "under 100 non-members: none may be flagged": (np.array([49.0, 49.5, 60.0]), np.arange(50.0)),
    "ties among the non-members at the threshold": (
        np.array([5.0, 4.0, 3.0, 3.0]),
        np.r_[np.full(3, 4.0), np.zeros(97)],
    ),
}


@pytest.mark.parametrize("scores", TPR_CASES.values(), ids=TPR_CASES.keys())
def test_nb04_ex1_tpr_at_1pct_fpr_counts_members_strictly_above_the_threshold(scores):
    my_tpr_at_1pct_fpr = solution(NB04, "my_tpr_at_1pct_fpr")
    members, non_members = scores
    want = attack_metrics.tpr_at_fpr(members, non_members, 0.01).tpr
    assert my_tpr_at_1pct_fpr(members, non_members) == pytest.approx(want, abs=1e-9)


def test_nb04_ex1_counting_ties_at_the_threshold_would_differ():
    members, non_members = TPR_CASES["250 non-members: floor(2.5) = 2 may be flagged"]
    threshold = np.sort(non_members)[::-1][2]
    assert (
        np.mean(members >= threshold) != attack_metrics.tpr_at_fpr(members, non_members, 0.01).tpr
    )


@pytest.mark.parametrize("epsilon", [0.5, 2.0, 4.0])
def test_nb04_ex2_the_dp_bound_is_the_packages_at_small_fpr(epsilon):
    my_dp_tpr_bound = solution(NB04, "my_dp_tpr_bound")
    for fpr in (1e-4, 1e-3, 1e-2):
        want = attack_metrics.dp_tpr_bound(fpr, epsilon, 1e-5)
        assert my_dp_tpr_bound(fpr, epsilon, 1e-5) == pytest.approx(want, rel=1e-6)


def test_nb04_ex2_the_dp_bound_is_the_packages_for_epsilon_5_where_the_first_term_exceeds_1():
    my_dp_tpr_bound = solution(NB04, "my_dp_tpr_bound")
    for fpr in (0.01, 0.5):
        want = attack_metrics.dp_tpr_bound(fpr, 5.0, 1e-5)  # at 1 %: 1 - 0.98999 / e^5 = 0.9933
        assert np.exp(5.0) * fpr + 1e-5 > 1 > want
        assert my_dp_tpr_bound(fpr, 5.0, 1e-5) == pytest.approx(want, rel=1e-6)


def test_nb04_ex3_the_p_value_is_the_packages_including_no_correct_guess():
    my_p_value = solution(NB04, "my_p_value")
    for epsilon in (0.0, 0.5, 2.0):
        for n_correct in (0, 1, 60, 99, 100):
            want = audit.one_run_p_value(epsilon, 500, 100, n_correct)
            assert my_p_value(epsilon, 100, n_correct) == pytest.approx(want, rel=1e-6)
    # P[count > v] (binom.sf(v)) would be another number.
    assert stats.binom.sf(60, 100, 0.5) < audit.one_run_p_value(0.0, 500, 100, 60) / 1.5


@pytest.mark.parametrize("n_canaries", [500, 1000])
def test_nb04_ex4_the_all_right_bound_is_the_packages(n_canaries):
    my_epsilon_all_right = solution(NB04, "my_epsilon_all_right")
    want = audit.one_run_epsilon_lower_bound(n_canaries=n_canaries, n_guesses=100, n_correct=100)
    assert my_epsilon_all_right == pytest.approx(want, rel=1e-5)


# --- Notebook 05 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rank", "space_size"), [(1, 10_000), (37, 10_000), (10**6, 10**6), (3, 1024), (5, 7)]
)
def test_nb05_ex1_exposure_is_bits_of_the_space_minus_bits_of_the_rank(rank, space_size):
    my_exposure = solution(NB05, "my_exposure")
    want = exposure.exposure_from_rank(rank, space_size)
    assert float(my_exposure(rank, space_size)) == pytest.approx(want, rel=1e-12, abs=1e-12)
    # Bits, not nats: the first of 1024 candidates has exposure 10.
    assert float(my_exposure(1, 1024)) == pytest.approx(10.0)


def test_nb05_ex1_works_on_an_array_of_ranks():
    my_exposure = solution(NB05, "my_exposure")
    ranks = np.array([1, 2, 8, 512, 1024])
    np.testing.assert_allclose(my_exposure(ranks, 1024), exposure.exposure_from_rank(ranks, 1024))


@pytest.mark.parametrize("space_size", [10**4, 10**6])
def test_nb05_ex2_chance_exposure_is_the_mean_over_uniform_ranks(space_size):
    my_chance_exposure = solution(NB05, "my_chance_exposure", math=__import__("math"))
    ranks = np.arange(1, space_size + 1)
    want = float(np.mean(exposure.exposure_from_rank(ranks, space_size)))
    assert my_chance_exposure == pytest.approx(want, rel=2e-3)  # the checker's tolerance
    # Not the exposure of the median rank (1 bit), which a "typical guess" reading gives.
    assert abs(my_chance_exposure - 1.0) > 0.4


def test_nb05_ex3_the_group_guarantee_is_the_packages_direct_group_accounting():
    sigma, q, steps, delta = 1.0, 256 / 6439, 260, 1e-5
    my_group_epsilon = solution(
        NB05,
        "my_group_epsilon",
        dp_sgd=dp_sgd,
        DP_NOISE_MULTIPLIER=sigma,
        q=q,
        dp_steps=steps,
        DP_DELTA=delta,
    )
    want = dp_sgd.epsilon(
        dp_sgd.group_poisson_dp_sgd_event(sigma, q, steps, 8), delta, "pld", pld_discretization=1e-2
    )
    assert my_group_epsilon == pytest.approx(want, rel=1e-3)  # the checker's tolerance
    # Group privacy from the per-record epsilon (8 * epsilon, delta grown) would be another number.
    per_record = dp_sgd.epsilon(dp_sgd.poisson_dp_sgd_event(sigma, q, steps), delta, "pld")
    assert my_group_epsilon > 8 * per_record


# --- Coverage: every solution cell is tested here, or says why not ---------------------------

TESTED = {
    NB01: {
        "my_scale",
        "my_sensitivity",
        "my_laplace_mechanism",
        "my_epsilon",
        "my_overlap",
        "my_privacy_loss",
        "my_violation_mass",
        "my_attacker_accuracy",
        "my_histogram_sensitivities",
    },
    NB02: {
        "my_advantage_from_scores",
        "my_losses",
        "my_attack_input_from_model",
        "my_advantage",
        "my_tpr_at_fpr",
        "my_clip",
    },
    NB03: {
        "my_judge_on_means",
        "my_class_means",
        "my_pearson_to_class_mean",
        "my_softmax_gradient",
    },
    NB04: {"my_tpr_at_1pct_fpr", "my_dp_tpr_bound", "my_p_value", "my_epsilon_all_right"},
    NB05: {"my_exposure", "my_chance_exposure", "my_group_epsilon"},
}
NOT_TESTED = {
    # The notebook's own accountant function, called with other arguments: one definition.
    NB02: {"eps_double"},
    # An experiment (a range check of MIFace's output), and one step of ART's MIFace, which the
    # checker compares with ART itself on fixed inputs: no second reading to separate here.
    NB03: {"few", "few_conf", "my_miface_step"},
}


@pytest.mark.parametrize("notebook", [NB01, NB02, NB03, NB04, NB05])
def test_every_solution_cell_is_tested_or_listed_as_not_needing_a_test(notebook):
    expected = TESTED[notebook] | NOT_TESTED.get(notebook, set())
    assert solution_names(notebook) == expected
