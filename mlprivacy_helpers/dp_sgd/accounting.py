"""The ε of DP-SGD with Google's ``dp_accounting`` library (no TensorFlow needed).

With **Poisson sampling** one step is a ``PoissonSampledDpEvent`` of a ``GaussianDpEvent``;
``steps`` of them compose (``SelfComposedDpEvent``), and sampling *amplifies* privacy. With
**shuffled fixed batches** (what Keras ``fit`` does) every example is in exactly one batch per
epoch, so each epoch is one Gaussian mechanism on it and no amplification may be claimed. The
RDP accountant is the one TF Privacy's ``compute_dp_sgd_privacy_statement`` uses; the PLD
accountant (privacy loss distributions, pessimistic estimate) gives a tighter upper bound. No
microbatching (one clipped gradient per example). Adjacency differs between the two: the
Poisson events hold for adding or removing one example (each step's sampled set changes by at
most that example). The shuffled event's "one Gaussian per epoch" holds for *zero-out*
adjacency (the example's gradient replaced by zero, so every batch keeps its place), or for
substitution with sensitivity 2C; under add/remove, one more example shifts every later batch
boundary of the epoch, and it is not a bound for that. A person with several training images
is accounted either directly (:func:`group_poisson_dp_sgd_event`) or through the generic
group-privacy conversion (:func:`group_privacy`).

What a guarantee allows an attacker: a run satisfies its whole **privacy profile** δ(ε), one δ
for every ε at once, not just the (ε, δ) pair usually quoted. :func:`privacy_profile` computes
it with the PLD accountant and :func:`tradeoff_tpr_bound` turns it into the largest TPR any
membership test can reach at a given FPR: the f-DP trade-off curve of Dong, Roth and Su (2022),
which for a Gaussian mechanism is the Gaussian-DP curve ``Φ(Φ⁻¹(FPR) + 1/σ)``.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Literal

import dp_accounting
import numpy as np
from dp_accounting import pld, rdp


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int; raise ``ValueError`` unless it is an int ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


Accountant = Literal["rdp", "pld"]
ACCOUNTANTS: tuple[Accountant, ...] = ("rdp", "pld")


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
    steps = check_int("steps", steps)
    step = dp_accounting.PoissonSampledDpEvent(
        sampling_probability=float(sampling_probability),
        event=dp_accounting.GaussianDpEvent(sigma),
    )
    return dp_accounting.SelfComposedDpEvent(event=step, count=steps)


def group_poisson_dp_sgd_event(
    noise_multiplier: float, sampling_probability: float, steps: int, group_size: int
) -> dp_accounting.DpEvent:
    """Return a ``DpEvent`` that bounds Poisson DP-SGD for a group of ``group_size`` examples
    (a person with that many training images), accounted directly rather than through the
    generic group-privacy conversion (:func:`group_privacy`).

    Adding or removing the ``k`` examples changes one step only if at least one of them is
    sampled, which happens with probability ``q' = 1 - (1 - q)^k``; given that, the clipped
    sum moves by the sum of the sampled ones' gradients, a shift of L2 norm at most ``k C``.
    Each step is thus a mixture of Gaussian shifts of norm at most ``k C`` under noise of
    standard deviation ``sigma C``, which is dominated by the single shift ``k C``: a
    Poisson-sampled Gaussian with rate ``q'`` and noise multiplier ``sigma / k``, composed
    ``steps`` times. With ``k = 1`` this is :func:`poisson_dp_sgd_event`. The person-level ε
    of a model trained on several images per person.
    """
    k = check_int("group_size", group_size)
    if not 0 < sampling_probability <= 1:
        raise ValueError(f"sampling_probability must be in (0, 1], got {sampling_probability}")
    group_rate = 1.0 - (1.0 - float(sampling_probability)) ** k
    return poisson_dp_sgd_event(_check_noise(noise_multiplier) / k, group_rate, steps)


def shuffled_dp_sgd_event(noise_multiplier: float, epochs: int) -> dp_accounting.DpEvent:
    """Return the ``DpEvent`` of ``epochs`` epochs of shuffled fixed batches, no amplification.

    Each example is in exactly one batch per epoch: one ``GaussianDpEvent(sigma)`` per
    epoch, composed ``epochs`` times (TF Privacy's "once per epoch" line). This holds for
    zero-out adjacency (the example's gradient replaced by zero), not for adding or removing an
    example, which moves the later batch boundaries (see the module docstring). Used by
    :func:`dp_sgd_epsilons`.
    """
    sigma = _check_noise(noise_multiplier)
    epochs = check_int("epochs", epochs)
    return dp_accounting.SelfComposedDpEvent(
        event=dp_accounting.GaussianDpEvent(sigma), count=epochs
    )


def epsilon(
    event: dp_accounting.DpEvent,
    delta: float,
    accountant: Accountant = "rdp",
    *,
    pld_discretization: float = 1e-4,
    relation: str = "add_or_remove",
) -> float:
    """Return the ε of ``event`` at ``delta`` with the ``"rdp"`` or ``"pld"`` accountant.

    ``relation`` is the neighbouring relation the ε holds for: ``"add_or_remove"`` (one record
    added or removed; DP-SGD's with Poisson sampling) or ``"replace_one"`` (one record
    replaced by another), PLD accountant only.

    RDP: ``dp_accounting.rdp.RdpAccountant`` with its default orders. PLD:
    ``dp_accounting.pld.PLDAccountant`` (pessimistic estimate, so the value is an upper bound)
    with its privacy losses rounded up to multiples of ``pld_discretization`` (the library's
    default, 1e-4, unless given). Rounding up each of ``T`` composed steps adds at most
    ``T * pld_discretization`` to ε, and the time grows with ``1 / pld_discretization`` times
    the range of the privacy loss: for an ε in the thousands, 1e-3 is 12x faster at the same
    ε to four digits. Used by :func:`dp_sgd_epsilons`.
    """
    if not isinstance(event, dp_accounting.DpEvent):
        raise TypeError(f"event must be a dp_accounting.DpEvent, got {type(event).__name__}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if isinstance(pld_discretization, bool) or not isinstance(pld_discretization, int | float):
        raise TypeError("pld_discretization must be a number")
    if not 0 < pld_discretization <= 0.1:
        raise ValueError(f"pld_discretization must be in (0, 0.1], got {pld_discretization}")
    if relation not in _RELATIONS:
        raise ValueError(f"relation must be one of {tuple(_RELATIONS)}, got {relation!r}")
    if accountant == "rdp":
        if relation != "add_or_remove":
            raise ValueError("the RDP accountant is used for add/remove only; use 'pld'")
        engine = rdp.RdpAccountant()
        return float(engine.compose(event).get_epsilon(delta))
    if accountant == "pld":
        return float(_pld(event, relation, float(pld_discretization)).get_epsilon(delta))
    raise ValueError(f"accountant must be one of {ACCOUNTANTS}, got {accountant!r}")


def _pld(event: dp_accounting.DpEvent, relation: str, discretization: float) -> pld.PLDAccountant:
    """Return dp_accounting's PLD accountant for ``relation`` with ``event`` composed. The last
    few are kept (:func:`_composed_pld`): composing is the slow part (~1 s for notebook 04's
    DP-SGD run), and a notebook asks the same run for its ε and for its privacy profile. An
    event that cannot be hashed (one holding a list of events) is composed every time."""
    try:
        hash(event)
    except TypeError:
        return pld.PLDAccountant(_RELATIONS[relation], discretization).compose(event)
    return _composed_pld(event, relation, discretization)


@functools.lru_cache(maxsize=4)  # a composed PLD can take tens of MB: keep only a few
def _composed_pld(
    event: dp_accounting.DpEvent, relation: str, discretization: float
) -> pld.PLDAccountant:
    """Return a PLD accountant with ``event`` composed; callers only read it (``get_epsilon``,
    ``get_delta``), never compose more."""
    return pld.PLDAccountant(_RELATIONS[relation], discretization).compose(event)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Return ``ceil(n / batch_size)``: the steps of one Keras ``fit`` epoch, which is also
    the number of Poisson steps that :class:`~mlprivacy_helpers.dp_sgd.PoissonDPModel`
    runs per epoch (``batch_size`` is then the *expected* batch size)."""
    n = check_int("n", n)
    batch_size = check_int("batch_size", batch_size)
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
    epochs).
    """
    steps = check_int("steps", steps)
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


def group_privacy(epsilon: float, delta: float, k: int) -> tuple[float, float]:
    """Return the ``(ε_k, δ_k)`` that ``(ε, δ)``-DP implies for a group of ``k`` records.

    Group privacy (Dwork and Roth, 2014, Theorem 2.2 and its (ε, δ) form): datasets that
    differ in ``k`` records are ``(k ε, k e^{(k-1) ε} δ)``-indistinguishable. ``δ_k`` is
    returned as computed; at or above 1 the guarantee is vacuous. The person-level ε for a person
    with ``k`` training images, the generic way.
    """
    if not math.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be finite and non-negative, got {epsilon}")
    if not 0 <= delta < 1:
        raise ValueError(f"delta must be in [0, 1), got {delta}")
    k = check_int("k", k)
    if delta == 0:
        return k * epsilon, 0.0
    exponent = (k - 1) * epsilon + math.log(k)
    group_delta = math.exp(exponent) * delta if exponent < 700 else math.inf
    return k * epsilon, group_delta


Relation = Literal["add_or_remove", "replace_one"]
_RELATIONS: dict[str, dp_accounting.NeighboringRelation] = {
    "add_or_remove": dp_accounting.NeighboringRelation.ADD_OR_REMOVE_ONE,
    "replace_one": dp_accounting.NeighboringRelation.REPLACE_ONE,
}


def privacy_profile(
    event: dp_accounting.DpEvent,
    epsilons: np.ndarray | None = None,
    *,
    relation: Relation = "add_or_remove",
    pld_discretization: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(epsilons, deltas)``: the privacy profile δ(ε) of ``event`` at each ε.

    Computed with ``dp_accounting``'s PLD accountant for the neighbouring ``relation``
    (``"add_or_remove"``, DP-SGD's, or ``"replace_one"``); its pessimistic estimate makes each
    δ an upper bound, and for add/remove it is the larger of the two directions (adding or
    removing the record), so every pair ``(ε, δ(ε))`` is a valid guarantee. The default ε grid
    is 401 points from 0 to the ε at δ = 1e-12, plus the ε of δ = 1e-3, 1e-4, ..., 1e-10,
    so that the bound of :func:`tradeoff_tpr_bound` is never above a single pair's at those δ.
    """
    if not isinstance(event, dp_accounting.DpEvent):
        raise TypeError(f"event must be a dp_accounting.DpEvent, got {type(event).__name__}")
    if relation not in _RELATIONS:
        raise ValueError(f"relation must be one of {tuple(_RELATIONS)}, got {relation!r}")
    if not pld.PLDAccountant(_RELATIONS[relation]).supports(event):
        raise ValueError(f"dp_accounting's PLD accountant cannot account {event} ({relation})")
    engine = _pld(event, relation, float(pld_discretization))
    if epsilons is None:
        top = engine.get_epsilon(1e-12)
        if not np.isfinite(top):
            raise ValueError(f"{event} is not differentially private (ε is infinite)")
        standard = [engine.get_epsilon(10.0**-k) for k in range(3, 11)]
        epsilons = np.unique(np.r_[np.linspace(0.0, top, 401), standard])
    epsilons = np.asarray(epsilons, dtype=float)
    if epsilons.ndim != 1 or np.any(epsilons < 0) or not np.all(np.isfinite(epsilons)):
        raise ValueError("epsilons must be a 1-d array of finite values >= 0")
    deltas = np.array([engine.get_delta(float(e)) for e in epsilons])
    return epsilons, deltas


def tpr_bound_from_profile(
    fpr: np.ndarray | float, epsilons: np.ndarray, deltas: np.ndarray
) -> np.ndarray | float:
    """Return the largest TPR at ``fpr`` that a mechanism with the profile ``deltas`` at
    ``epsilons`` allows any test between neighbours.

    Each pair gives ``TPR <= min(e^ε FPR + δ, 1 - e^-ε (1 - FPR - δ), 1)`` (the test, and the
    same test with its verdicts swapped); all hold at once, so the bound is their minimum over
    the pairs: the f-DP trade-off curve that the profile implies (Dong, Roth and Su 2022,
    Proposition 2.13), up to the ε grid. With :func:`privacy_profile`'s δ, the larger of the two
    directions in both inequalities, it is valid and slightly conservative.
    """
    f = np.asarray(fpr, dtype=float)
    if np.any((f < 0) | (f > 1)):
        raise ValueError("fpr must lie in [0, 1]")
    e = np.asarray(epsilons, dtype=float)[:, None]
    d = np.asarray(deltas, dtype=float)[:, None]
    if e.shape != d.shape or e.size == 0:
        raise ValueError("epsilons and deltas must be non-empty and of the same length")
    flat = f.reshape(1, -1)
    bound = np.minimum.reduce(
        [np.exp(e) * flat + d, 1 - np.exp(-e) * (1 - flat - d), np.ones_like(e * flat)]
    ).min(axis=0)
    return float(bound[0]) if np.ndim(fpr) == 0 else bound.reshape(f.shape)


def tradeoff_tpr_bound(
    event: dp_accounting.DpEvent,
    fpr: np.ndarray | float,
    *,
    relation: Relation = "add_or_remove",
    pld_discretization: float = 1e-4,
) -> np.ndarray | float:
    """Return the largest TPR any membership test can reach at ``fpr`` against ``event``.

    The whole privacy profile (:func:`privacy_profile`) through :func:`tpr_bound_from_profile`:
    far below what the single pair ``(ε(δ), δ)`` allows at low FPR, because the same run also
    satisfies every smaller δ at a larger ε. For a Gaussian mechanism with noise multiplier σ
    and no subsampling it is the Gaussian-DP curve ``Φ(Φ⁻¹(FPR) + 1/σ)`` (up to the ε grid).
    """
    return tpr_bound_from_profile(
        fpr, *privacy_profile(event, relation=relation, pld_discretization=pld_discretization)
    )
