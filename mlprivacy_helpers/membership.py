"""Membership-inference plumbing for notebook 02 (TF Privacy's attacks on a Keras model).

The attack calls themselves (``run_attacks``, ``SlicingSpec``, ``AttackType``) stay in the
notebook; this module holds what is too long to inline there:

* :func:`logits_and_losses` -- a model's logits and per-example cross-entropy losses.
* :func:`seeded_numpy` -- a context manager that seeds NumPy's global generator (TF
  Privacy's trained attacks draw their folds from it) and restores it afterwards.
* :class:`EpochAttackCallback` -- runs TF Privacy's attacks after every epoch and writes
  the AUC/advantage into Keras' ``logs``, so ``train_cached`` keeps them in the history.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
    membership_inference_attack as mia,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
    AttackInputData,
    AttackType,
    SlicingSpec,
)

from .cache import fingerprint


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
    ``(n,)`` or ``(n, 1)``. Used by notebook 02 to build ``AttackInputData``.
    """
    if not isinstance(model, tf.keras.Model):
        raise TypeError(f"model must be a tf.keras.Model, got {type(model).__name__}")
    _check_xy("logits_and_losses", x, y)
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    labels = np.asarray(y).reshape(-1)
    losses = tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return logits.astype(np.float32), np.asarray(losses, dtype=np.float32)


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


class EpochAttackCallback(tf.keras.callbacks.Callback):
    """Run TF Privacy's membership inference attacks at the end of every epoch.

    For each attack type it writes ``logs["mia_<name>_auc"]`` and
    ``logs["mia_<name>_advantage"]`` (``<name>`` is the lower-case ``AttackType`` name,
    entire dataset), plus the inference-mode ``mia_train_accuracy``,
    ``mia_test_accuracy``, ``mia_train_loss`` and ``mia_test_loss`` on the member and
    non-member sets it attacks. Keras' ``History`` (and so ``train_cached``) records them,
    so they survive a cache hit. TF Privacy's own ``MembershipInferenceCallback`` only
    prints or writes to TensorBoard. Used by notebook 02.
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
        logits_in, loss_in = logits_and_losses(self.model, *self.members, self.batch_size)
        logits_out, loss_out = logits_and_losses(self.model, *self.non_members, self.batch_size)
        return AttackInputData(
            logits_train=logits_in,
            logits_test=logits_out,
            loss_train=loss_in,
            loss_test=loss_out,
            labels_train=np.asarray(self.members[1]).reshape(-1),
            labels_test=np.asarray(self.non_members[1]).reshape(-1),
        )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        data = self.attack_input()
        with seeded_numpy(self.seed + epoch):
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
