"""Every notebook's results, declared once: key, type, unit, tolerance, landing-page line.

A notebook's last cell writes its numbers with :func:`mlprivacy_helpers.results.save_results`,
which checks them against the notebook's :class:`Schema` here: an undeclared or missing key,
or a value of another type, is an error naming the notebook and the key. The same schema
tells the regression check (``mlprivacy-check-results``) each key's tolerance floor and
whether it is a timing (machine-dependent: type-checked, never compared), and tells the
landing page (``mlprivacy_build.pages``) which numbers to show, with which label and format.
The committed baseline, ``tests/expected_results_quick.json``, holds each key's value and, for
a float, the spread and tolerance measured for it (``mlprivacy_build.check_results``).

Types are JSON types: ``"float"`` (``null`` allowed: a non-finite float is stored as null),
``"int"``, ``"str"``, ``"list[float]"``, ``"list[int]"``, ``"dict[float]"`` (one number per
name, e.g. per attack), ``"dict[list[float]]"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

TYPES = ("float", "int", "str", "list[float]", "list[int]", "dict[float]", "dict[list[float]]")


@dataclasses.dataclass(frozen=True)
class Field:
    """One results key: its JSON type, unit, tolerance floor, and landing-page line."""

    type: str  #: one of :data:`TYPES`
    unit: str = ""  #: what the number counts or measures ("fraction", "ε", "s", ...)
    tol: float = 0.0  #: smallest tolerance of the regression check (floats; see check_results)
    timing: bool = False  #: machine-dependent: type-checked, never compared
    label: str = ""  #: the landing page's label for this number ("": not shown)
    show: Callable[[Mapping[str, Any]], str] | None = None  #: its text, from all the results

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"type must be one of {TYPES}, got {self.type!r}")
        if bool(self.label) != (self.show is not None):
            raise ValueError("a landing-page line needs both a label and a show function")


@dataclasses.dataclass(frozen=True)
class Schema:
    """A notebook's results: ``notebook`` is its file stem, ``fields`` its keys in order."""

    notebook: str
    fields: Mapping[str, Field]

    def landing_lines(self) -> list[tuple[str, Callable[[Mapping[str, Any]], str]]]:
        """Return the (label, show) pairs of the landing page, in declaration order."""
        return [(f.label, f.show) for f in self.fields.values() if f.show is not None]


#: Bookkeeping keys that every notebook writes.
COMMON = {
    "profile": Field("str", unit="quick or full"),
    "seed": Field("int"),
    "seconds": Field("float", unit="s", timing=True),
}


def json_type(value: Any) -> str:
    """Return the JSON type of ``value`` in :data:`TYPES`' notation (``"null"`` for None,
    ``"bool"``, ``"dict"`` for a dict that matches none of them). Raises ``TypeError`` for
    a value that JSON cannot hold."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        inner = sorted({json_type(v) for v in value} - {"null"}) or ["float"]
        if inner == ["float", "int"]:
            inner = ["float"]
        return f"list[{'|'.join(inner)}]"
    if isinstance(value, dict):
        inner = sorted({json_type(v) for v in value.values()} - {"null"})
        if inner == ["float", "int"]:
            inner = ["float"]
        return f"dict[{inner[0]}]" if len(inner) == 1 else "dict"
    raise TypeError(f"not a JSON value: {value!r}")


def conforms(value: Any, declared: str) -> bool:
    """Whether the JSON ``value`` has the ``declared`` type (an int where a float is declared
    and ``null`` for a non-finite float are accepted)."""
    actual = json_type(value)
    if actual == declared or (actual == "null" and declared == "float"):
        return True
    widened = {"int": "float", "list[int]": "list[float]", "dict[int]": "dict[float]"}
    return widened.get(actual) == declared or (
        declared == "dict[list[float]]" and actual == "dict[list[int]]"
    )


def validate(schema: Schema, results: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the notebook and key when ``results`` (JSON values) miss a
    declared key, hold an undeclared one, or hold a value of another type."""
    declared, given = set(schema.fields), set(results)
    problems = [f"key {k!r} is missing" for k in sorted(declared - given)]
    problems += [
        f"key {k!r} is not declared in mlprivacy_helpers.results_schema"
        for k in sorted(given - declared)
    ]
    problems += [
        f"key {k!r} should be {schema.fields[k].type}, got {json_type(results[k])}"
        for k in sorted(declared & given)
        if not conforms(results[k], schema.fields[k].type)
    ]
    if problems:
        raise ValueError(f"results of {schema.notebook}: " + "; ".join(problems))


def _schema(notebook: str, **fields: Field) -> Schema:
    return Schema(notebook, {**fields, **COMMON})


def _at_epsilon(r: Mapping[str, Any], key: str, epsilon: float) -> float:
    return r[key][list(r["epsilons"]).index(epsilon)]


def _per_epsilon(r: Mapping[str, Any], key: str) -> str:
    return ", ".join(f"ε = {e:g}: {v:.2f}" for e, v in zip(r["epsilons"], r[key], strict=True))


def _at_1_8_32(r: Mapping[str, Any], key: str) -> str:
    return " / ".join(f"{r[key][k]:.1f}" for k in ("1", "8", "32"))


def _by_epochs(r: Mapping[str, Any], key: str, spec: str) -> str:
    return ", ".join(f"{e}: {a:{spec}}" for e, a in zip(r["epochs"], r[key], strict=True))


# Tolerance floors (see mlprivacy_build.check_results for the relative and absolute ones):
# keys counted in tenths (10 digits judged) may flip one or two digits on another machine;
# keys counted in fortieths (40 faces identified) up to four faces. TPRs at a low FPR count a
# few dozen members of 2 500: a retrained model moves them by a few. One-run audit bounds
# count correct guesses about canaries on the same scale. The DP-SGD face models near chance:
# their held-out accuracy counts a few of 120 photos and their inversions' correlations are
# noise around 0, so neither has a relative scale. The fitted a of offline RMIA is a grid
# point (0, 0.1, ..., 1): a neighbour may win on another machine.
SCHEMAS: dict[str, Schema] = {
    s.notebook: s
    for s in (
        _schema(
            "01_differential_privacy_basics",
            epsilons=Field("list[float]", unit="ε"),
            overlap_area=Field(
                "list[float]",
                unit="fraction",
                label="Overlap of the two Laplace output densities at ε = 1",
                show=lambda r: f"{_at_epsilon(r, 'overlap_area', 1.0):.2f}",
            ),
            max_empirical_log_ratio=Field(
                "list[float]",
                unit="log-ratio",
                label="Largest empirical log-ratio of output probabilities (must stay near or "
                "below ε)",
                show=lambda r: _per_epsilon(r, "max_empirical_log_ratio"),
            ),
            gaussian_violation_mass=Field("float", unit="probability"),
            delta=Field("float", unit="δ"),
            n_samples=Field(
                "int",
                unit="samples",
                label="Samples per experiment",
                show=lambda r: f"{r['n_samples']:,}",
            ),
        ),
        _schema(
            "02_membership_inference_cifar10",
            train_accuracy=Field(
                "float",
                unit="fraction",
                label="Undefended CNN: train / test accuracy",
                show=lambda r: f"{r['train_accuracy']:.2f} / {r['test_accuracy']:.2f}",
            ),
            test_accuracy=Field("float", unit="fraction"),
            lr_auc_entire=Field(
                "float",
                unit="AUC",
                label="Membership attack on it (logistic regression, entire data): AUC, advantage",
                show=lambda r: f"{r['lr_auc_entire']:.3f}, {r['lr_advantage_entire']:.3f}",
            ),
            lr_advantage_entire=Field("float", unit="max |TPR - FPR|"),
            threshold_auc_entire=Field("float", unit="AUC"),
            best_auc_misclassified=Field("float", unit="AUC"),
            best_advantage_misclassified=Field("float", unit="max |TPR - FPR|"),
            auc_by_epoch=Field("list[float]", unit="AUC"),
            dp_epsilon=Field(
                "float",
                unit="ε (PLD, Poisson)",
                label="DP-SGD model: ε (δ, accountant)",
                show=lambda r: (
                    f"{r['dp_epsilon']:.2f} (δ = {r['dp_delta']:g}, PLD; "
                    f"RDP bound {r['dp_epsilon_rdp']:.2f})"
                ),
            ),
            dp_epsilon_rdp=Field("float", unit="ε"),
            dp_epsilon_pld=Field("float", unit="ε"),
            dp_epsilon_shuffled_no_amplification=Field("float", unit="ε"),
            dp_epsilon_replace_one=Field("float", unit="ε (PLD, replace-one)"),
            dp_tpr_bound_at_1pct_fpr=Field("float", unit="TPR"),
            dp_sampling=Field("str"),
            dp_steps=Field("int", unit="steps"),
            # read from the trained model: the noise its steps added (ε assumes the setting's)
            dp_noise_multiplier_trained=Field("float", unit="σ"),
            dp_batch_size_mean=Field("float", unit="examples"),
            dp_batch_size_std=Field("float", unit="examples"),
            dp_delta=Field("float", unit="δ"),
            dp_test_accuracy=Field(
                "float",
                unit="fraction",
                label="DP-SGD model: test accuracy, attack AUC",
                show=lambda r: f"{r['dp_test_accuracy']:.2f}, {r['dp_lr_auc_entire']:.3f}",
            ),
            dp_lr_auc_entire=Field("float", unit="AUC"),
            dp_epoch_seconds=Field("float", unit="s", timing=True),
            plain_epoch_seconds=Field("float", unit="s", timing=True),
            epsilon_best_threshold_uncorrected=Field("float", unit="ε (not a bound)"),
            dp_epsilon_best_threshold_uncorrected=Field("float", unit="ε (not a bound)"),
        ),
        _schema(
            "03_model_inversion_mnist",
            epochs=Field("list[int]", unit="epochs"),
            test_accuracy=Field(
                "list[float]",
                unit="fraction",
                label="Classifier test accuracy after each number of epochs",
                show=lambda r: _by_epochs(r, "test_accuracy", ".3f"),
            ),
            target_confidence=Field("list[float]", unit="probability"),
            judge_accuracy=Field(
                "list[float]",
                unit="fraction of 10 digits",
                tol=0.2,
                label="Inversions recognised by the independent judge, by epochs",
                show=lambda r: _by_epochs(r, "judge_accuracy", ".0%"),
            ),
            corr_to_class_mean=Field("list[float]", unit="Pearson r"),
            miface_iterations=Field(
                "int",
                unit="iterations",
                label="MIFace iterations per digit",
                show=lambda r: f"{r['miface_iterations']:,}",
            ),
            start_iterations=Field("int", unit="iterations"),
            art_seconds_per_iter=Field("float", unit="s", timing=True),
            compiled_seconds_per_iter=Field("float", unit="s", timing=True),
            speedup=Field(
                "float",
                unit="×",
                timing=True,
                label="Speed-up of the compiled MIFace step over ART's",
                show=lambda r: f"{r['speedup']:.0f}×",
            ),
            faces_test_accuracy=Field("float", unit="fraction"),
            faces_mlp_test_accuracy=Field("float", unit="fraction"),
            faces_top1_identification=Field("float", unit="fraction of 40 persons", tol=0.1),
            faces_top5_identification=Field("float", unit="fraction of 40 persons", tol=0.1),
            faces_top1_identification_heldout=Field(
                "float",
                unit="fraction of 40 persons",
                tol=0.1,
                label="Faces: softmax inversions naming the person (top-1), training photos / "
                "held-out photos as the gallery",
                show=lambda r: (
                    f"{r['faces_top1_identification']:.0%} / "
                    f"{r['faces_top1_identification_heldout']:.0%} (chance "
                    f"{r['faces_chance_top1']:.1%})"
                ),
            ),
            faces_top5_identification_heldout=Field(
                "float", unit="fraction of 40 persons", tol=0.1
            ),
            # The eigenface recognisers train no Keras model, so no TensorFlow variant moves
            # them, but their PCA is OpenBLAS's SVD, which picks kernels by CPU: a near tie may
            # flip a photo or two elsewhere (floor: about 2 of 120 photos, 5 of 280).
            faces_heldout_gallery_accuracy=Field("float", unit="fraction of 280 photos", tol=0.02),
            faces_corr_to_own_mean=Field("float", unit="Pearson r"),
            faces_mlp_top1_identification=Field("float", unit="fraction of 40 persons", tol=0.1),
            faces_chance_top1=Field("float", unit="fraction"),
            faces_recogniser_accuracy=Field("float", unit="fraction", tol=0.02),
            dp_noise_multipliers=Field("list[float]", unit="σ"),
            dp_delta=Field("float", unit="δ"),
            dp_epsilons=Field("list[float]", unit="ε"),
            dp_faces_epsilons=Field("list[float]", unit="ε per image"),
            faces_person_level_epsilons=Field("list[float]", unit="ε (group privacy)"),
            faces_person_level_epsilons_direct=Field("list[float]", unit="ε (direct)"),
            dp_mnist_test_accuracy=Field("list[float]", unit="fraction"),
            dp_mnist_judge_accuracy=Field("list[float]", unit="fraction of 10 digits", tol=0.2),
            dp_mnist_corr_to_class_mean=Field("list[float]", unit="Pearson r"),
            dp_mnist_reference_judge_accuracy=Field("float", unit="fraction of 10 digits", tol=0.2),
            dp_mnist_reference_corr_to_class_mean=Field("float", unit="Pearson r"),
            dp_faces_test_accuracy=Field("list[float]", unit="fraction", tol=0.025),
            dp_faces_top1_identification=Field(
                "list[float]", unit="fraction of 40 persons", tol=0.1
            ),
            dp_faces_top5_identification=Field(
                "list[float]", unit="fraction of 40 persons", tol=0.1
            ),
            dp_faces_corr_to_own_mean=Field("list[float]", unit="Pearson r", tol=0.02),
        ),
        _schema(
            "04_auditing_membership_inference",
            k_reference_models=Field(
                "int",
                unit="models",
                label="Reference models",
                show=lambda r: f"{r['k_reference_models']}",
            ),
            reference_model_counts=Field("list[int]", unit="models"),
            tpr_at_1pct_fpr=Field(
                "dict[float]",
                unit="TPR",
                tol=0.01,
                label="Members found at 1 % false positives: LR attack vs LiRA online vs RMIA "
                "offline",
                show=lambda r: " vs ".join(
                    f"{r['tpr_at_1pct_fpr'][a]:.1%}" for a in ("lr", "lira_online", "rmia_offline")
                ),
            ),
            tpr_at_01pct_fpr=Field("dict[float]", unit="TPR", tol=0.005),
            tpr_at_1pct_fpr_interval=Field("dict[list[float]]", unit="TPR", tol=0.01),
            tpr_at_01pct_fpr_interval=Field("dict[list[float]]", unit="TPR", tol=0.005),
            rmia_offline_a=Field("float", unit="a", tol=0.2),
            dp_rmia_offline_a=Field("float", unit="a", tol=0.2),
            auc=Field("dict[float]", unit="AUC"),
            tpr_at_1pct_by_k=Field("dict[list[float]]", unit="TPR", tol=0.01),
            train_accuracy=Field("float", unit="fraction"),
            test_accuracy=Field("float", unit="fraction"),
            pooled_targets=Field("int", unit="models"),
            tpr_at_1pct_fpr_pooled=Field("dict[float]", unit="TPR", tol=0.01),
            tpr_at_01pct_fpr_pooled=Field(
                "dict[float]",
                unit="TPR",
                tol=0.005,
                label="Pooled over every model as the target, at 0.1 % FPR: LiRA offline vs "
                "RMIA offline vs loss threshold",
                show=lambda r: (
                    " vs ".join(
                        f"{r['tpr_at_01pct_fpr_pooled'][a]:.2%}"
                        for a in ("lira_offline", "rmia_offline", "threshold")
                    )
                    + f" ({r['pooled_targets']} targets)"
                ),
            ),
            dp_epsilon=Field(
                "float",
                unit="ε",
                label="DP-SGD model: ε, add/remove (δ); TPR allowed on the pool at 1 % FPR by the "
                "whole replace-one profile (by its single pair); strongest attack's",
                show=lambda r: (
                    f"{r['dp_epsilon']:.2f} (δ = {r['dp_delta']:g}); "
                    f"{r['dp_tpr_bound_at_1pct_fpr']:.1%} "
                    f"({r['dp_tpr_bound_at_1pct_fpr_single_eps']:.0%}); "
                    f"{max(r['dp_tpr_at_1pct_fpr'].values()):.1%}"
                ),
            ),
            dp_noise_multiplier=Field("float", unit="σ"),
            dp_sampling_probability=Field("float", unit="q"),
            dp_steps=Field("int", unit="steps"),
            dp_tpr_bound_at_1pct_fpr=Field("float", unit="TPR"),
            dp_tpr_bound_at_01pct_fpr=Field("float", unit="TPR"),
            dp_tpr_bound_at_1pct_fpr_single_eps=Field("float", unit="TPR"),
            dp_tpr_bound_at_1pct_fpr_add_remove=Field("float", unit="TPR"),
            dp_epsilon_replace_one=Field("float", unit="ε (PLD, replace-one)"),
            dp_delta=Field("float", unit="δ"),
            dp_test_accuracy=Field("float", unit="fraction"),
            dp_tpr_at_1pct_fpr=Field("dict[float]", unit="TPR", tol=0.01),
            audit_epsilon_lower_bound_plain=Field(
                "float",
                unit="ε",
                tol=0.3,
                label="One-run audit, ε lower bound at 95 %: non-private / DP-SGD",
                show=lambda r: (
                    f"{r['audit_epsilon_lower_bound_plain']:.2f} / "
                    f"{r['audit_epsilon_lower_bound_dp']:.2f} ({r['audit_canaries']} canaries)"
                ),
            ),
            audit_epsilon_lower_bound_dp=Field("float", unit="ε", tol=0.3),
            audit_epsilon_best_possible=Field("float", unit="ε"),
            audit_canaries=Field("int", unit="canaries"),
            audit_canaries_inserted=Field("int", unit="canaries"),
        ),
        _schema(
            "05_memorization_secret_sharer",
            secret_space_size=Field("int", unit="secrets"),
            repetitions=Field("list[int]", unit="insertions"),
            exposure_by_repetitions=Field(
                "dict[float]",
                unit="bits",
                tol=1.0,
                label="Mean exposure of the canaries inserted 1 / 8 / 32 times (plain model)",
                show=lambda r: (
                    _at_1_8_32(r, "exposure_by_repetitions")
                    + f" bits (maximum {math.log2(r['secret_space_size']):.1f})"
                ),
            ),
            dp_exposure_by_repetitions=Field(
                "dict[float]",
                unit="bits",
                tol=1.0,
                label="The same under DP-SGD",
                show=lambda r: (
                    _at_1_8_32(r, "dp_exposure_by_repetitions")
                    + f" bits (ε = {r['dp_epsilon']:.1f} per record)"
                ),
            ),
            # A fraction of 3 canaries (quick): one canary more or fewer is another run's noise
            # (seeds 0-9 moved the 16x count by one or two); a lost 32x canary moves it by 1/3.
            extracted_by_repetitions=Field("dict[float]", unit="fraction", tol=0.34),
            dp_extracted_by_repetitions=Field("dict[float]", unit="fraction", tol=0.34),
            extrapolation_max_error=Field("float", unit="bits", tol=1.0),
            validation_perplexity=Field(
                "float",
                unit="perplexity",
                tol=0.2,
                label="Validation perplexity per character: plain / DP-SGD",
                show=lambda r: (
                    f"{r['validation_perplexity']:.2f} / {r['dp_validation_perplexity']:.2f}"
                ),
            ),
            dp_validation_perplexity=Field("float", unit="perplexity", tol=0.3),
            dp_epsilon=Field("float", unit="ε"),
            dp_delta=Field("float", unit="δ"),
            dp_epoch_ratio=Field("float", unit="x", timing=True),
        ),
    )
}


def schema_for(notebook: str) -> Schema:
    """Return the :class:`Schema` of ``notebook`` (its file stem). Raises ``KeyError`` with
    the declared stems when there is none."""
    try:
        return SCHEMAS[notebook]
    except KeyError:
        raise KeyError(f"no results schema for {notebook!r}; declared: {sorted(SCHEMAS)}") from None
