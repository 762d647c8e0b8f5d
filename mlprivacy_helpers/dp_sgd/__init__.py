"""DP-SGD in four rooms: clipping of images and of sequences, Poisson sampling, accounting.

* :mod:`.clipping` -- fast per-example clipping for Conv2D layers in TF Privacy's ``DPModel``
  (:func:`make_dp_model`, :func:`dp_cifar10_cnn`, :func:`uses_fast_clipping`, ...);
* :mod:`.sequence_clipping` -- exact fast clipping when one example is a sequence and a
  ``Dense`` layer runs on each of its positions (:func:`make_sequence_layer_registry`,
  :class:`SequenceCrossEntropy`), which TF Privacy's own ``Dense`` function gets wrong;
* :mod:`.poisson` -- DP-SGD with Poisson sampling (:class:`PoissonDPModel`,
  :func:`poisson_dp_cifar10_cnn`, :func:`steps_taken`, :func:`realised_batch_sizes`, ...);
* :mod:`.accounting` -- the ε of those steps with ``dp_accounting`` (:func:`dp_sgd_epsilons`,
  :func:`epsilon`, the ``*_event`` functions, :func:`group_privacy`, the privacy profile and
  the trade-off bound it puts on any attack, :func:`tradeoff_tpr_bound`, ...); it imports no
  TensorFlow.

Every public name of the four is also reachable here (``dp_sgd.steps_taken``); a submodule is
imported on first use, so ``from mlprivacy_helpers.dp_sgd import accounting`` (or
``dp_sgd.epsilon``) does not load TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = {
    "clipping": (
        "conv2d_layer_computation",
        "make_layer_registry",
        "make_dp_model",
        "dp_cifar10_cnn",
        "uses_fast_clipping",
    ),
    "sequence_clipping": (
        "dense_sequence_layer_computation",
        "make_sequence_layer_registry",
        "SequenceCrossEntropy",
    ),
    "poisson": (
        "PoissonSampler",
        "PoissonDPModel",
        "make_poisson_dp_model",
        "poisson_dp_cifar10_cnn",
        "steps_taken",
        "realised_batch_sizes",
    ),
    "accounting": (
        "Accountant",
        "ACCOUNTANTS",
        "poisson_dp_sgd_event",
        "group_poisson_dp_sgd_event",
        "shuffled_dp_sgd_event",
        "epsilon",
        "steps_per_epoch",
        "dp_sgd_epsilons",
        "group_privacy",
        "privacy_profile",
        "tpr_bound_from_profile",
        "tradeoff_tpr_bound",
    ),
}
_HOME = {name: module for module, names in _SUBMODULES.items() for name in names}
__all__ = sorted(_HOME) + sorted(_SUBMODULES)


def __getattr__(name: str) -> Any:
    """Return a submodule, or a public name of one, importing that submodule on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _HOME:
        value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
