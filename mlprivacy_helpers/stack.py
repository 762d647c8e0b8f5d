"""The two switches the series' TensorFlow stack needs, set in one place before TensorFlow loads.

The series runs TensorFlow 2.20/2.21 with ``tf.keras`` as Keras 2 (the ``tf-keras`` package)
and TensorFlow Privacy 0.8.12, installed without its stale caps (requirements-no-deps.txt):

* ``TF_USE_LEGACY_KERAS=1`` makes ``tf.keras`` the ``tf_keras`` package instead of Keras 3.
  TF Privacy's ``DPModel`` fast gradient clipping fails under Keras 3 (``'Functional' object has
  no attribute '_flatten_to_reference_inputs'``); TensorFlow reads the variable the first time
  ``tf.keras`` is used, so it must be set before that;
* ``sys.skip_tf_privacy_import = True`` is TF Privacy's own switch: its top-level
  ``__init__`` then imports nothing, instead of its TF-1 estimators, whose
  ``tensorflow_estimator`` no longer exists. The series imports its submodules directly.

``import mlprivacy_helpers`` calls :func:`configure` (every notebook imports it first), and so
does the test configuration (tests/conftest.py). This module imports neither TensorFlow nor
TF Privacy.
"""

from __future__ import annotations

import os
import sys

LEGACY_KERAS_VARIABLE = "TF_USE_LEGACY_KERAS"
# The exact values TensorFlow reads as "on" (tensorflow/python/util/lazy_loader.py).
_TRUE_VALUES = ("1", "true", "True")


class KerasVersionError(RuntimeError):
    """TensorFlow is already serving Keras 3 as tf.keras in this process."""


def keras_is_legacy() -> bool | None:
    """Return whether ``tf.keras`` is Keras 2 (``tf_keras``) in this process.

    ``None`` if TensorFlow has not been imported yet (nothing is imported to find out).
    Reading ``tf.keras`` fixes which Keras TensorFlow serves for the rest of the process.
    """
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    return tf.keras.Sequential.__module__.startswith("tf_keras.")


def configure() -> None:
    """Set both switches; returns ``None``.

    Sets ``TF_USE_LEGACY_KERAS=1`` unless it is already set to a value TensorFlow reads as on,
    and TF Privacy's ``sys.skip_tf_privacy_import``. Raises ``ValueError`` if the variable is
    set to another value (e.g. ``0``): the series needs Keras 2, so it does not silently
    override a choice; and :class:`KerasVersionError` if TensorFlow was imported earlier in
    this process and already serves Keras 3 as ``tf.keras`` (restart the kernel and import
    ``mlprivacy_helpers`` first).
    """
    value = os.environ.get(LEGACY_KERAS_VARIABLE)
    if value is None or not value.strip():
        os.environ[LEGACY_KERAS_VARIABLE] = "1"
    elif value not in _TRUE_VALUES:
        raise ValueError(
            f"{LEGACY_KERAS_VARIABLE}={value!r} is set, but this series needs tf.keras to be "
            "Keras 2 (tf-keras): TF Privacy's DP-SGD fails under Keras 3. Unset it, or set it "
            f"to 1, before starting Python or the notebook's kernel."
        )
    sys.skip_tf_privacy_import = True
    if keras_is_legacy() is False:
        raise KerasVersionError(
            "TensorFlow was imported before mlprivacy_helpers, and tf.keras is already Keras 3 "
            "in this process; TF Privacy's DP-SGD needs Keras 2 (tf-keras). Restart the kernel "
            "(Colab: Runtime > Restart session) and run the notebook from its first cell, which "
            "imports mlprivacy_helpers before TensorFlow; in your own code, import "
            "mlprivacy_helpers (or set TF_USE_LEGACY_KERAS=1) before anything uses tf.keras."
        )
