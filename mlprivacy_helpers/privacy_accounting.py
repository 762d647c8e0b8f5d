"""Privacy accounting for DP-SGD with Google's ``dp_accounting`` library (notebook 02).

The guarantee of DP-SGD depends on how batches are drawn:

* **Poisson sampling** (what :class:`~mlprivacy_helpers.dp_sgd.PoissonDPModel` runs): in
  each step every example joins the batch independently with probability ``q``. One step
  is a ``PoissonSampledDpEvent`` of a ``GaussianDpEvent``; ``steps`` of them compose
  (``SelfComposedDpEvent``). Sampling *amplifies* privacy.
* **Shuffled fixed batches without amplification** (what Keras ``fit`` does): every
  example is in exactly one batch per epoch, so each epoch is one Gaussian mechanism on
  that example; epochs compose. No amplification by sampling may be claimed.

Both are computed with the RDP accountant (Rényi DP, as TF Privacy's
``compute_dp_sgd_privacy_statement``) and the PLD accountant (privacy loss distributions,
pessimistic estimate: a tighter upper bound). Add-or-remove-one-example adjacency, no
microbatching (one clipped gradient per example).
"""

from __future__ import annotations

import math
import numbers
from typing import Literal

import dp_accounting
from dp_accounting import pld, rdp

Accountant = Literal["rdp", "pld"]
ACCOUNTANTS: tuple[Accountant, ...] = ("rdp", "pld")


def _check_positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _check_noise(noise_multiplier: float) -> float:
    if isinstance(noise_multiplier, bool) or not isinstance(noise_multiplier, int | float):
        raise TypeError(f"noise_multiplier must be a number, got {noise_multiplier!r}")
    if not noise_multiplier > 0 or math.isinf(noise_multiplier):
        raise ValueError(f"noise_multiplier must be positive and finite, got {noise_multiplier}")
    return float(noise_multiplier)


def poisson_dp_sgd_event(
    noise_multiplier: float, sampling_probability: float, steps: int
) -> dp_accounting.DpEvent:
    """Return the ``DpEvent`` of ``steps`` DP-SGD steps with Poisson sampling.

    ``SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), steps)``.
    ``sampling_probability`` (q) must be in (0, 1]. Used by :func:`dp_sgd_epsilons`.
    """
    sigma = _check_noise(noise_multiplier)
    if not 0 < sampling_probability <= 1:
        raise ValueError(f"sampling_probability must be in (0, 1], got {sampling_probability}")
    steps = _check_positive_int("steps", steps)
    step = dp_accounting.PoissonSampledDpEvent(
        sampling_probability=float(sampling_probability),
        event=dp_accounting.GaussianDpEvent(sigma),
    )
    return dp_accounting.SelfComposedDpEvent(event=step, count=steps)


def shuffled_dp_sgd_event(noise_multiplier: float, epochs: int) -> dp_accounting.DpEvent:
    """Return the ``DpEvent`` of ``epochs`` epochs of shuffled fixed batches, no amplification.

    Each example is in exactly one batch per epoch: one ``GaussianDpEvent(sigma)`` per
    epoch, composed ``epochs`` times (TF Privacy's "once per epoch" line). Used by
    :func:`dp_sgd_epsilons`.
    """
    sigma = _check_noise(noise_multiplier)
    epochs = _check_positive_int("epochs", epochs)
    return dp_accounting.SelfComposedDpEvent(
        event=dp_accounting.GaussianDpEvent(sigma), count=epochs
    )


def epsilon(event: dp_accounting.DpEvent, delta: float, accountant: Accountant = "rdp") -> float:
    """Return the ε of ``event`` at ``delta`` with the ``"rdp"`` or ``"pld"`` accountant.

    RDP: ``dp_accounting.rdp.RdpAccountant`` with its default orders. PLD:
    ``dp_accounting.pld.PLDAccountant`` with its defaults (pessimistic estimate, so the
    value is an upper bound). Used by :func:`dp_sgd_epsilons`.
    """
    if not isinstance(event, dp_accounting.DpEvent):
        raise TypeError(f"event must be a dp_accounting.DpEvent, got {type(event).__name__}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if accountant == "rdp":
        engine = rdp.RdpAccountant()
    elif accountant == "pld":
        engine = pld.PLDAccountant()
    else:
        raise ValueError(f"accountant must be one of {ACCOUNTANTS}, got {accountant!r}")
    return float(engine.compose(event).get_epsilon(delta))


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Return ``ceil(n / batch_size)``: the steps of one Keras ``fit`` epoch, which is also
    the number of Poisson steps that :class:`~mlprivacy_helpers.dp_sgd.PoissonDPModel`
    runs per epoch (``batch_size`` is then the *expected* batch size)."""
    n = _check_positive_int("n", n)
    batch_size = _check_positive_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size ({batch_size}) must not exceed n ({n})")
    return -(-n // batch_size)


def dp_sgd_epsilons(
    *, n: int, batch_size: int, steps: int, noise_multiplier: float, delta: float
) -> dict[str, float]:
    """Return ε of DP-SGD for the same noise and steps under two sampling schemes.

    Keys: ``"poisson_rdp"``, ``"poisson_pld"`` (Poisson sampling with ``q = batch_size / n``
    for ``steps`` steps), ``"shuffled_rdp"``, ``"shuffled_pld"`` (shuffled fixed batches of
    ``batch_size``, no amplification: ``ceil(steps / steps_per_epoch(n, batch_size))``
    epochs). Used by notebook 02 (section 8 and exercise 2).
    """
    steps = _check_positive_int("steps", steps)
    per_epoch = steps_per_epoch(n, batch_size)
    events = {
        "poisson": poisson_dp_sgd_event(noise_multiplier, batch_size / n, steps),
        "shuffled": shuffled_dp_sgd_event(noise_multiplier, -(-steps // per_epoch)),
    }
    return {
        f"{scheme}_{accountant}": epsilon(event, delta, accountant)
        for scheme, event in events.items()
        for accountant in ACCOUNTANTS
    }
