"""Membership-inference plumbing: TF Privacy's attacks on a Keras model (notebooks 02, 04).

The attack calls themselves (``run_attacks``, ``SlicingSpec``, ``AttackType``) stay in the
notebook; this module holds what is too long to inline there:

* :func:`logits_and_losses` -- a model's logits and per-example cross-entropy losses.
* :func:`attack_input_from_model` -- TF Privacy's ``AttackInputData`` from a Keras model.
* :func:`pick`, :func:`slice_label`, :func:`slice_table` -- results of one slice or attack,
  readable slice names, and the per-slice AUC/advantage table.
* :func:`seeded_numpy` -- a context manager that seeds NumPy's global generator (TF
  Privacy's trained attacks draw their folds from it) and restores it afterwards.
* :func:`known_attack_warnings_ignored` -- a context manager around ``run_attacks`` that
  hides exactly the warnings TF Privacy 0.8.12's attacks are known to raise harmlessly.
* :func:`run_attacks_cached` -- ``run_attacks``, seeded, kept in the model cache (its trained
  attackers' grid searches take tens of seconds and a re-run need not repeat them).
* :class:`EpochAttackCallback` -- runs TF Privacy's attacks after every epoch and writes
  the AUC/advantage into Keras' ``logs``, so ``train_cached`` keeps them in the history.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pickle
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
    membership_inference_attack as mia,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
    AttackInputData,
    AttackResults,
    AttackType,
    SingleAttackResult,
    SingleSliceSpec,
    SlicingFeature,
    SlicingSpec,
)

from .cache import cache_dir, cache_key, cached_result, fingerprint
from .config import installed_version


def _check_xy(name: str, x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(f"{name}: x and y must have the same length, got {len(x)} and {len(y)}")
    if len(x) == 0:
        raise ValueError(f"{name}: x must not be empty")


def logits_and_losses(
    model: tf.keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(logits, losses)`` of ``model`` on ``(x, y)`` in inference mode.

    ``logits`` is float32 of shape ``(n, num_classes)``; ``losses`` holds each example's
    sparse categorical cross-entropy (from logits), shape ``(n,)``. ``y`` may have shape
    ``(n,)`` or ``(n, 1)``.
    """
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"model must be a tf.keras.Model, got {type(model).__name__}")
    _check_xy("logits_and_losses", x, y)
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    labels = np.asarray(y).reshape(-1)
    losses = tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return logits.astype(np.float32), np.asarray(losses, dtype=np.float32)


def attack_input_from_model(
    model: tf.keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    batch_size: int = 1024,
) -> AttackInputData:
    """Return TF Privacy's ``AttackInputData`` for ``model`` on members and non-members.

    ``(x_train, y_train)`` are the members (the model's training data), ``(x_test,
    y_test)`` the non-members. Holds the model's logits, each example's cross-entropy loss
    (from logits, as ``SparseCategoricalCrossentropy(from_logits=True, reduction="none")``
    computes it) and the labels flattened to shape ``(n,)``; see
    :func:`logits_and_losses`. The model must output logits. Used by notebook 02 and by
    :class:`EpochAttackCallback`.
    """
    logits_train, loss_train = logits_and_losses(model, x_train, y_train, batch_size)
    logits_test, loss_test = logits_and_losses(model, x_test, y_test, batch_size)
    return AttackInputData(
        logits_train=logits_train,
        logits_test=logits_test,
        loss_train=loss_train,
        loss_test=loss_test,
        labels_train=np.asarray(y_train).reshape(-1),
        labels_test=np.asarray(y_test).reshape(-1),
    )


def slice_label(slice_spec: SingleSliceSpec, class_names: Sequence[str] | None = None) -> str:
    """Return a readable name for one slice of TF Privacy's attack results.

    ``"entire dataset"``; ``"class 3"`` (or ``"class cat"`` with ``class_names``);
    ``"loss percentiles 10-20%"``; ``"correctly classified"`` / ``"misclassified"``;
    ``"custom slice <name>"`` or ``"custom group <value>"`` for custom-index slices.
    Raises ``TypeError`` for
    anything but a ``SingleSliceSpec``, ``ValueError`` for a class outside
    ``class_names`` or an unknown feature.
    """
    if not isinstance(slice_spec, SingleSliceSpec):
        raise TypeError(f"slice_spec must be a SingleSliceSpec, got {type(slice_spec).__name__}")
    feature, value = slice_spec.feature, slice_spec.value
    if slice_spec.entire_dataset:
        return "entire dataset"
    if feature == SlicingFeature.CLASS:
        k = int(value)
        if class_names is None:
            return f"class {k}"
        if not 0 <= k < len(class_names):
            raise ValueError(f"class {k} has no name in class_names ({len(class_names)} names)")
        return f"class {class_names[k]}"
    if feature == SlicingFeature.PERCENTILE:
        low, high = value
        return f"loss percentiles {low:g}-{high:g}%"
    if feature == SlicingFeature.CORRECTLY_CLASSIFIED:
        return "correctly classified" if bool(value) else "misclassified"
    if feature == SlicingFeature.CUSTOM:
        _, _, group_value, group_name = value
        if group_name is not None:
            return f"custom slice {group_name}"
        return f"custom group {group_value}"
    raise ValueError(f"unknown slicing feature {feature!r}")


def _same_value(a: Any, b: Any) -> bool:
    """Compare slice values: ints, bools, tuples (percentiles) or custom tuples of arrays."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)


def pick(
    results: AttackResults,
    attack_type: AttackType | None = None,
    feature: SlicingFeature | None = None,
    value: Any = None,
) -> list[SingleAttackResult]:
    """Return the single-attack results of one slice of ``results``, in their order.

    ``feature=None`` selects the entire-dataset slice; otherwise the slice with that
    ``SlicingFeature`` and ``value`` (e.g. ``SlicingFeature.CLASS, 3``;
    ``SlicingFeature.CORRECTLY_CLASSIFIED, False``; ``SlicingFeature.PERCENTILE, (0, 10)``).
    ``attack_type`` keeps only that attack. Returns an empty list when nothing matches.
    Raises ``TypeError`` for arguments of the wrong kind and
    ``ValueError`` for a ``value`` without a ``feature``.
    """
    if not isinstance(results, AttackResults):
        raise TypeError(f"results must be AttackResults, got {type(results).__name__}")
    if attack_type is not None and not isinstance(attack_type, AttackType):
        raise TypeError(f"attack_type must be an AttackType or None, got {attack_type!r}")
    if feature is not None and not isinstance(feature, SlicingFeature):
        raise TypeError(f"feature must be a SlicingFeature or None, got {feature!r}")
    if feature is None and value is not None:
        raise ValueError("value needs a feature (feature=None means the entire dataset)")
    chosen = []
    for result in results.single_attack_results:
        spec = result.slice_spec
        if feature is None:
            if not spec.entire_dataset:
                continue
        elif spec.feature != feature or not _same_value(spec.value, value):
            continue
        if attack_type is None or result.attack_type == attack_type:
            chosen.append(result)
    return chosen


#: Columns of :func:`slice_table`, after ``"slice"``; names as TF Privacy's DataFrame has them.
SLICE_TABLE_COLUMNS = ("attack type", "train size", "test size", "AUC", "Attacker advantage")


def slice_table(results: AttackResults, class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the per-slice AUC / attacker-advantage table of ``results`` (pandas).

    The numbers are TF Privacy's own ``AttackResults.calculate_pd_dataframe()`` (one row
    per single-attack result, same order); a ``"slice"`` column with :func:`slice_label`
    names replaces its ``slice feature``/``slice value`` strings, and ``"attack type"``
    holds the ``AttackType`` names. Columns: ``"slice"``, then :data:`SLICE_TABLE_COLUMNS`.
    """
    if not isinstance(results, AttackResults):
        raise TypeError(f"results must be AttackResults, got {type(results).__name__}")
    frame = results.calculate_pd_dataframe()
    table = frame[list(SLICE_TABLE_COLUMNS)].copy()
    table["attack type"] = [r.attack_type.name for r in results.single_attack_results]
    table.insert(
        0, "slice", [slice_label(r.slice_spec, class_names) for r in results.single_attack_results]
    )
    return table.reset_index(drop=True)


@contextlib.contextmanager
def seeded_numpy(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator inside the ``with`` block and restore it on exit.

    TF Privacy's trained attacks (``create_attacker_data``) shuffle with
    ``np.random.permutation``; seeding makes their AUCs reproducible. Yields ``None``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    state = np.random.get_state()
    np.random.seed(int(seed))
    try:
        yield
    finally:
        np.random.set_state(state)


#: (message regex, category) of the warnings that TF Privacy 0.8.12's trained attacks raise
#: through scikit-learn 1.6 / SciPy, each understood and harmless here:
KNOWN_ATTACK_WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    # The random-forest grid includes max_features="auto", which scikit-learn 1.5 removed:
    # those grid points fail and are skipped; the rest of the grid is searched as usual.
    (r"\s*\d+ fits failed out of a total of", FitFailedWarning),
    (r"One or more of the test scores are non-finite", UserWarning),
    # The MLP attacker stops at scikit-learn's default of 200 iterations.
    (r"Stochastic Optimizer: Maximum iterations", ConvergenceWarning),
    # The logistic-regression attacker grid-searches C with 3-fold cross-validation at
    # scikit-learn's default max_iter=100, which TF Privacy does not let one change; on a
    # DP model's near-random features one fold's fit can stop there. Measured on notebook
    # 02's DP model (quick, seed 0): with max_iter=10000 instead, the AUC and advantage of all
    # 13 slices were the same to 4 decimals.
    (r"lbfgs failed to converge", ConvergenceWarning),
    # scikit-learn's logistic regression passes options SciPy 1.17 deprecates.
    (r"scipy\.optimize: The `disp` and `iprint` options of the L-BFGS-B", DeprecationWarning),
)


@contextlib.contextmanager
def known_attack_warnings_ignored() -> Iterator[None]:
    """Hide, inside the ``with`` block, only the known harmless warnings of TF Privacy's attacks.

    These are :data:`KNOWN_ATTACK_WARNINGS` and NumPy's divide-by-zero/invalid-value warnings,
    which TF Privacy's ε lower bound raises at the ROC curve's end points (FPR = 0 or 1).
    Any other warning still shows. Yields ``None``.
    """
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        for message, category in KNOWN_ATTACK_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


#: Bump when what :func:`run_attacks_cached` stores changes, so old entries are not read.
_ATTACKS_CACHE_VERSION = 1

#: What unpickling a damaged or foreign file can raise.
_UNPICKLE_ERRORS = (
    OSError,
    EOFError,
    pickle.UnpicklingError,
    AttributeError,
    ImportError,
    IndexError,
    TypeError,
    ValueError,
)


def _attacks_key(
    attack_input: AttackInputData,
    slicing_spec: SlicingSpec,
    attack_types: list[AttackType],
    seed: int,
) -> dict[str, Any]:
    """Everything that determines ``run_attacks``' result: scikit-learn's and SciPy's versions
    (TensorFlow's, TF Privacy's and NumPy's are added by :func:`~.cache.cache_key`), every
    field of the attack input (arrays by fingerprint), the slicing, the attacks and the seed."""
    # run_attacks fills in loss_function_using_logits (left None) on the caller's object the
    # first time it asks for the training loss: key on the value it settles on, so that the
    # same input gives the same key before and after a run.
    probe = dataclasses.replace(attack_input)
    probe.get_loss_train()
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(probe):
        value = getattr(probe, field.name)
        if isinstance(value, np.ndarray):
            fields[field.name] = fingerprint(value)
        elif value is None or isinstance(value, bool | int | float | str):
            fields[field.name] = value
        else:  # e.g. the loss function (an enum member, or a callable: then a new key each run)
            fields[field.name] = repr(value)
    return {
        "kind": "tf_privacy_run_attacks",
        "version": _ATTACKS_CACHE_VERSION,
        "scikit-learn": installed_version("scikit-learn"),
        "scipy": installed_version("scipy"),
        "input": fields,
        "slicing_spec": repr(slicing_spec),
        "attack_types": [t.name for t in attack_types],
        "seed": int(seed),
    }


def run_attacks_cached(
    attack_input: AttackInputData,
    slicing_spec: SlicingSpec,
    attack_types: Iterable[AttackType],
    *,
    seed: int,
) -> tuple[AttackResults, bool]:
    """Return ``(results, cached)``: TF Privacy's ``run_attacks(attack_input, slicing_spec,
    attack_types=attack_types)`` run inside :func:`seeded_numpy` ``(seed)``, loaded from the
    model cache when the same attacks ran on the same input before.

    ``cached`` says whether the results came from the cache. The entry is TF Privacy's own
    pickle of :class:`AttackResults` (``AttackResults.save``/``load``), keyed on everything that
    determines it (:func:`_attacks_key`), so another input, slicing, attack list, seed or
    library version never reuses it. With ``MLPRIVACY_CACHE=off`` this just runs the attacks.
    A damaged entry is reported with a :class:`~.cache.CacheWarning`, removed and computed
    again; a failed save only warns. Warnings the attacks raise are left to the caller (wrap
    the call in :func:`known_attack_warnings_ignored`). Raises ``TypeError`` for other input
    types and ``ValueError`` for an empty attack list.
    """
    if not isinstance(attack_input, AttackInputData):
        raise TypeError(f"attack_input must be AttackInputData, got {type(attack_input).__name__}")
    if not isinstance(slicing_spec, SlicingSpec):
        raise TypeError(f"slicing_spec must be a SlicingSpec, got {type(slicing_spec).__name__}")
    if isinstance(attack_types, AttackType):
        raise TypeError("attack_types must be a list of AttackType, got a single AttackType")
    types = list(attack_types)
    if not types:
        raise ValueError("attack_types is empty")
    if not all(isinstance(t, AttackType) for t in types):
        raise TypeError(f"attack_types must hold AttackType members, got {types!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")

    def run() -> AttackResults:
        with seeded_numpy(int(seed)):
            return mia.run_attacks(attack_input, slicing_spec, attack_types=types)

    root = cache_dir()
    if root is None:
        return run(), False
    key = cache_key(_attacks_key(attack_input, slicing_spec, types, seed))

    def load(entry: Path) -> AttackResults:  # as AttackResults.load, checked
        stored = AttackResults.load(entry)
        if not isinstance(stored, AttackResults):
            raise TypeError(f"holds a {type(stored).__name__}, not AttackResults")
        return stored

    return cached_result(
        root / f"mia-{key[:20]}.pickle",
        run,
        load=load,
        save=lambda handle, results: pickle.dump(results, handle),  # as AttackResults.save
        what="the attack results",
        load_errors=_UNPICKLE_ERRORS,
        save_errors=(OSError, pickle.PicklingError),
    )


class EpochAttackCallback(tf.keras.callbacks.Callback):
    """Run TF Privacy's membership inference attacks at the end of every epoch.

    For each attack type it writes ``logs["mia_<name>_auc"]`` and
    ``logs["mia_<name>_advantage"]`` (``<name>`` is the lower-case ``AttackType`` name,
    entire dataset), plus the inference-mode ``mia_train_accuracy``,
    ``mia_test_accuracy``, ``mia_train_loss`` and ``mia_test_loss`` on the member and
    non-member sets it attacks. Keras' ``History`` (and so ``train_cached``) records them,
    so they survive a cache hit. TF Privacy's own ``MembershipInferenceCallback`` only
    prints or writes to TensorBoard.
    """

    def __init__(
        self,
        members: tuple[np.ndarray, np.ndarray],
        non_members: tuple[np.ndarray, np.ndarray],
        attack_types: Sequence[AttackType] = (
            AttackType.THRESHOLD_ATTACK,
            AttackType.LOGISTIC_REGRESSION,
        ),
        seed: int = 0,
        batch_size: int = 1024,
    ) -> None:
        super().__init__()
        _check_xy("members", *members)
        _check_xy("non_members", *non_members)
        if not attack_types:
            raise ValueError("attack_types must name at least one AttackType")
        for attack_type in attack_types:
            if not isinstance(attack_type, AttackType):
                raise TypeError(f"attack_types must hold AttackType values, got {attack_type!r}")
        self.members = members
        self.non_members = non_members
        self.attack_types = tuple(attack_types)
        self.seed = int(seed)
        self.batch_size = int(batch_size)

    #: Bump when what this callback records changes, so old cache entries are not reused.
    CACHE_VERSION = 1

    def cache_key(self) -> dict[str, Any]:
        """Return what determines the recorded ``mia_*`` numbers, for ``train_cached``'s key:
        fingerprints of the member and non-member data, the attack types, seed, batch size
        and :attr:`CACHE_VERSION`."""
        return {
            "version": self.CACHE_VERSION,
            "members": fingerprint(*self.members),
            "non_members": fingerprint(*self.non_members),
            "attack_types": [t.name for t in self.attack_types],
            "seed": self.seed,
            "batch_size": self.batch_size,
        }

    def attack_input(self) -> AttackInputData:
        """Return the ``AttackInputData`` of the model as it is now (logits, losses, labels)."""
        return attack_input_from_model(
            self.model, *self.members, *self.non_members, batch_size=self.batch_size
        )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        data = self.attack_input()
        # TF Privacy's epsilon lower bound divides by zero at the ROC curve's end points
        # (harmless: those points give no bound); silence only that, only here.
        with seeded_numpy(self.seed + epoch), np.errstate(divide="ignore", invalid="ignore"):
            results = mia.run_attacks(
                data,
                SlicingSpec(entire_dataset=True),
                attack_types=self.attack_types,
            )
        for result in results.single_attack_results:
            name = result.attack_type.name.lower()
            logs[f"mia_{name}_auc"] = float(result.get_auc())
            logs[f"mia_{name}_advantage"] = float(result.get_attacker_advantage())
        for split, labels, logits, losses in (
            ("train", data.labels_train, data.logits_train, data.loss_train),
            ("test", data.labels_test, data.logits_test, data.loss_test),
        ):
            logs[f"mia_{split}_accuracy"] = float(np.mean(np.argmax(logits, axis=1) == labels))
            logs[f"mia_{split}_loss"] = float(np.mean(losses))


def membership_scores(result: SingleAttackResult) -> np.ndarray:
    """Return a TF Privacy attack result's per-example membership scores: the members'
    (``membership_scores_train``) followed by the non-members' (``membership_scores_test``).

    Higher means "more likely a member" (the threshold attack's score is minus the loss).
    Raises ``ValueError`` when the result carries no scores.
    """
    train, test = result.membership_scores_train, result.membership_scores_test
    if train is None or test is None:
        raise ValueError(f"the {result.attack_type.name} result carries no membership scores")
    return np.r_[np.asarray(train, dtype=float).ravel(), np.asarray(test, dtype=float).ravel()]


def best_threshold_epsilon(results: AttackResults) -> float:
    """Return the largest of TF Privacy's per-threshold ε estimates over the entire-dataset attacks.

    Each entire-dataset result's ``get_epsilon_lower_bound()`` gives one ε estimate per ROC
    threshold; this returns the maximum over all of them (0.0 if there are none). It is what
    TF Privacy reports as an "ε lower bound", but a maximum over many thresholds, uncorrected
    for that choice: a statistic, not a bound (notebook 04 audits properly). Used by
    notebook 02. Raises ``TypeError`` if ``results`` is not ``AttackResults``.
    """
    with known_attack_warnings_ignored():  # log(0) at the ROC's end points
        values = [np.asarray(r.get_epsilon_lower_bound()) for r in pick(results)]
    return float(max((v.max() for v in values if v.size), default=0.0))
