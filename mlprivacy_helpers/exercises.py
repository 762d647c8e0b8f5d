"""The exercise checker shared by all notebooks.

An exercise cell sets a variable (``None`` until the learner answers) and calls
:func:`check` with the value the *notebook* computed as the reference, so no answer is
ever written in this module. The checker says one of three things:

* ``None`` -- "not attempted yet" (the notebook still runs top to bottom);
* a right answer -- "correct";
* a wrong answer -- a precise hint (too large or too small, off by more than 10x, wrong
  shape or type, plus the exercise's own hint) without revealing the expected value. By default
  it raises :class:`ExerciseError` (an ``AssertionError``) so a notebook run in CI fails
  when a committed solution is wrong; pass ``raise_if_wrong=False`` to only print.

Three checkers share these outcomes: :func:`check` for a value (a number, an array, or
anything with a ``compare`` rule), :func:`check_function` for a function the learner wrote
(called on inputs the notebook chooses and compared with the notebook's reference function
or outputs; :class:`Seeded` gives both the same random numbers) and :func:`check_fields` for
an object whose attributes must match the notebook's (e.g. TF Privacy's ``AttackInputData``).

Used by every notebook's exercises (the convention is in README.md; ``make learner`` builds
the edition in which the learner writes the solutions).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mlprivacy_helpers import audit

NOT_ATTEMPTED = "not attempted yet"
CORRECT = "correct"
WRONG = "wrong"


class ExerciseError(AssertionError):
    """A learner's answer is wrong; the message says what is off and gives the hint.

    In IPython and Jupyter the error shows as this short message alone, in red, with no
    traceback frames (IPython prints :meth:`_render_traceback_` instead of the traceback);
    the cell still fails, so Run All and nbval stop on a wrong solution.
    """

    def _render_traceback_(self) -> list[str]:
        """Return the lines IPython shows for this error: the verdict, then the hint."""
        verdict, _, hint = str(self).partition(" Hint: ")
        lines = [f"\x1b[1;31m{verdict}\x1b[0m"]
        if hint:
            lines.append(f"\x1b[31mHint: {hint}\x1b[0m")
        return lines


def _numeric_hint(answer: Any, expected: Any, rtol: float, atol: float) -> str | None:
    """Return why a numeric ``answer`` is not close to ``expected`` (``None`` if it is)."""
    if isinstance(answer, bool | str | bytes) or answer is None:
        return f"expected a number, got {type(answer).__name__} {answer!r}"
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return f"expected a number, got {type(answer).__name__}"
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        return f"expected shape {want.shape}, got shape {got.shape}"
    if not np.all(np.isfinite(got)):
        return "the answer contains NaN or infinity"
    close = np.isclose(got, want, rtol=rtol, atol=atol)
    if np.all(close):
        return None
    if want.ndim == 0:  # direction and rough size only: an exact factor would give it away
        direction = "too large" if got > want else "too small"
        if want != 0 and got != 0 and not 0.1 < abs(float(got / want)) < 10:
            return f"far {direction} (off by more than a factor of 10)"
        return direction
    wrong = int(np.size(close) - np.count_nonzero(close))
    return f"{wrong} of {close.size} values are not right yet"


def check(
    name: str,
    answer: Any,
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 0.0,
    compare: Callable[[Any, Any], bool] | None = None,
    hint: str = "",
    raise_if_wrong: bool = True,
) -> str:
    """Check a learner's ``answer`` against the notebook's computed ``expected`` value.

    Numbers and arrays are compared with ``np.isclose(answer, expected, rtol, atol)``;
    anything else, or a custom rule, with ``compare(answer, expected) -> bool``. Prints a
    one-line verdict and returns :data:`NOT_ATTEMPTED` (``answer is None``),
    :data:`CORRECT` or :data:`WRONG`. A wrong answer's message says what is off (too large
    or too small, by more than 10x, wrong shape or type, how many array values) and adds
    ``hint``; it never shows ``expected``. With ``raise_if_wrong`` (the default) a wrong
    answer raises :class:`ExerciseError` with that message instead of returning. Raises
    ``ValueError`` for an empty ``name`` or negative tolerances, ``TypeError`` for a
    non-callable ``compare``.
    """
    _check_arguments(name, rtol, atol, compare)
    if answer is None:
        return _not_attempted(name)
    if compare is not None:
        problem = _compare_problem(compare, answer, expected)
    else:
        problem = _numeric_hint(answer, expected, rtol, atol)
    return _verdict(name, f"{answer!r} is", problem, hint, raise_if_wrong)


def _check_arguments(name: str, rtol: float, atol: float, compare: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    for label, tol in (("rtol", rtol), ("atol", atol)):
        if not isinstance(tol, numbers.Real) or not math.isfinite(tol) or tol < 0:
            raise ValueError(f"{label} must be a non-negative number, got {tol!r}")
    if compare is not None and not callable(compare):
        raise TypeError(f"compare must be a function (answer, expected) -> bool, got {compare!r}")


def _not_attempted(name: str) -> str:
    print(f"{name}: {NOT_ATTEMPTED} (set the variable and rerun the cell).")
    return NOT_ATTEMPTED


def _compare_problem(compare: Callable[[Any, Any], bool], answer: Any, expected: Any) -> str | None:
    """Return why ``compare(answer, expected)`` fails (``None`` when it holds)."""
    try:
        ok = bool(compare(answer, expected))
    except Exception as exc:  # a learner's answer of the wrong kind breaks the rule
        return f"it could not be checked ({type(exc).__name__}: {exc})"
    return None if ok else "it does not satisfy the exercise's condition"


def _verdict(name: str, subject: str, problem: str | None, hint: str, raise_if_wrong: bool) -> str:
    """Print "correct" (``problem is None``) or the hint; raise or return :data:`WRONG`."""
    if problem is None:
        print(f"{name}: {CORRECT}!")
        return CORRECT
    message = f"{name}: {subject} not right yet: {problem}."
    if hint:
        message += f" Hint: {hint}"
    if raise_if_wrong:
        raise ExerciseError(message)
    print(message)
    return WRONG


def _fields_problem(
    answer: Any, expected: Any, fields: Sequence[str], rtol: float, atol: float
) -> str | None:
    """Return why ``answer``'s ``fields`` differ from ``expected``'s (``None`` if they match)."""
    if not isinstance(answer, type(expected)):
        return f"expected a {type(expected).__name__}, got {type(answer).__name__}"
    for field in fields:
        got = getattr(answer, field, None)
        if got is None:
            return f"its field {field} is not set"
        failed = _numeric_hint(got, getattr(expected, field), rtol, atol)
        if failed is not None:
            return f"its field {field} is off: {failed}"
    return None


def _check_fields_argument(fields: Sequence[str] | None) -> list[str] | None:
    if fields is None:
        return None
    if isinstance(fields, str) or not all(isinstance(f, str) for f in fields) or not fields:
        raise ValueError(f"fields must be a non-empty list of attribute names, got {fields!r}")
    return list(fields)


class Seeded:
    """A placeholder argument of :func:`check_function`: each call gets a fresh
    ``np.random.default_rng(seed)`` in its place, so the learner's function and the
    reference draw the same random numbers."""

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)

    def generator(self) -> np.random.Generator:
        """Return a new generator seeded with ``seed``."""
        return np.random.default_rng(self.seed)

    def __repr__(self) -> str:
        return f"rng(seed={self.seed})"


def _describe(value: Any) -> str:
    """A short description of one argument: shapes for arrays, never their values."""
    if isinstance(value, tuple) and len(value) <= 4 and all(isinstance(v, int) for v in value):
        return repr(value)  # a shape such as size=(2, 3)
    if isinstance(value, np.ndarray | list | tuple) and np.ndim(value) > 0:
        return f"array of shape {np.shape(value)}"
    if isinstance(value, Seeded | numbers.Number | str) or value is None:
        return repr(value)
    return type(value).__name__


def _split_call(call: Any) -> tuple[tuple, dict]:
    """A call is a tuple of positional arguments or a dict of keyword arguments."""
    if isinstance(call, dict):
        return (), dict(call)
    if isinstance(call, tuple):
        return call, {}
    raise TypeError(f"each call must be a tuple of arguments or a dict, got {type(call).__name__}")


def _fresh(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Replace every :class:`Seeded` placeholder by a new generator."""

    def swap(v: Any) -> Any:
        return v.generator() if isinstance(v, Seeded) else v

    return tuple(swap(a) for a in args), {k: swap(v) for k, v in kwargs.items()}


def check_function(
    name: str,
    answer: Any,
    calls: Sequence[tuple | dict],
    *,
    reference: Callable[..., Any] | None = None,
    expected: Sequence[Any] | None = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
    compare: Callable[[Any, Any], bool] | None = None,
    fields: Sequence[str] | None = None,
    hint: str = "",
    raise_if_wrong: bool = True,
) -> str:
    """Check a learner's function ``answer`` by calling it on the notebook's ``calls``.

    Each call is a tuple of positional arguments or a dict of keyword arguments; a
    :class:`Seeded` argument becomes a fresh generator for every call. The result of call
    ``i`` is compared (as in :func:`check`: ``np.isclose`` with ``rtol``/``atol``, or
    ``compare``, or attribute by attribute for the names in ``fields`` as in
    :func:`check_fields`) with ``reference(*call)`` or with ``expected[i]`` -- give exactly
    one of the two. Prints and returns :data:`NOT_ATTEMPTED` for ``None``, :data:`CORRECT`, or a
    hint naming the first failing call by its arguments' shapes (never the expected
    output); a wrong function raises :class:`ExerciseError` unless ``raise_if_wrong`` is
    false. Raises ``ValueError`` for no calls, for both or neither of ``reference`` and
    ``expected``, or when their lengths differ.
    """
    _check_arguments(name, rtol, atol, compare)
    fields = _check_fields_argument(fields)
    if fields is not None and compare is not None:
        raise ValueError("give at most one of compare and fields")
    calls = [_split_call(c) for c in calls]
    if not calls:
        raise ValueError("calls must hold at least one call")
    if (reference is None) == (expected is None):
        raise ValueError("give exactly one of reference (a function) and expected (outputs)")
    if reference is not None and not callable(reference):
        raise TypeError(f"reference must be a function, got {reference!r}")
    if expected is not None and len(expected) != len(calls):
        raise ValueError(f"{len(calls)} calls but {len(expected)} expected outputs")

    if answer is None:
        return _not_attempted(name)
    if not callable(answer):
        problem = f"expected a function, got {type(answer).__name__}"
        return _verdict(name, "your answer is", problem, hint, raise_if_wrong)
    problem = None
    for i, (args, kwargs) in enumerate(calls):
        if reference is not None:
            ref_args, ref_kwargs = _fresh(args, kwargs)
            want = reference(*ref_args, **ref_kwargs)
        else:
            want = expected[i]
        described = ", ".join(
            [_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kwargs.items()]
        )
        where = f"called with ({described}),"
        fresh_args, fresh_kwargs = _fresh(args, kwargs)
        try:
            got = answer(*fresh_args, **fresh_kwargs)
        except Exception as exc:  # the learner's code failed: say how, and for which input
            problem = f"{where} it raised {type(exc).__name__}: {exc}"
            break
        if got is None:
            problem = f"{where} it returned None (did you forget `return`?)"
            break
        if compare is not None:
            failed = _compare_problem(compare, got, want)
        elif fields is not None:
            failed = _fields_problem(got, want, fields, rtol, atol)
        else:
            failed = _numeric_hint(got, want, rtol, atol)
        if failed is not None:
            problem = f"{where} its result is off: {failed}"
            break
    return _verdict(
        name,
        f"your function {getattr(answer, '__name__', 'answer')} is",
        problem,
        hint,
        raise_if_wrong,
    )


def check_fields(
    name: str,
    answer: Any,
    expected: Any,
    fields: Sequence[str],
    *,
    rtol: float = 1e-6,
    atol: float = 0.0,
    hint: str = "",
    raise_if_wrong: bool = True,
) -> str:
    """Check that the object ``answer`` has the same type and the same numeric ``fields``
    (attributes, compared as in :func:`check`) as the notebook's ``expected`` object.

    Prints and returns :data:`NOT_ATTEMPTED` for ``None``, :data:`CORRECT`, or a hint
    naming the first field that is missing or off (never its expected value); a wrong
    answer raises :class:`ExerciseError` unless ``raise_if_wrong`` is false. Raises
    ``ValueError`` for no fields or a field that ``expected`` lacks.
    """
    _check_arguments(name, rtol, atol, None)
    fields = _check_fields_argument(fields)
    for field in fields:
        if getattr(expected, field, None) is None:
            raise ValueError(f"the expected {type(expected).__name__} has no value for {field!r}")
    if answer is None:
        return _not_attempted(name)
    problem = _fields_problem(answer, expected, fields, rtol, atol)
    return _verdict(name, f"your {type(answer).__name__} is", problem, hint, raise_if_wrong)


def check_dp_mechanism(
    name: str,
    answer: Any,
    *,
    sensitivity: float,
    epsilon: float,
    true_results: tuple[float, float],
    seed: int,
    n_samples: int = 200_000,
    confidence: float = 0.95,
    max_noise_ratio: float = 1.2,
    hint: str = "",
    raise_if_wrong: bool = True,
) -> str:
    """Check a learner's noise mechanism by its privacy and its noise, not by its numbers.

    ``answer(true_result, sensitivity, epsilon, rng, size=None)`` must return one noisy
    result (``size=None``) or an array of shape ``size``, like NumPy's samplers. It is run
    ``n_samples`` times on each of the two neighbouring ``true_results`` with generators
    seeded by ``seed``, and :func:`audit.audit_mechanism` tests the claim "``epsilon``-DP"
    (notebook 01's experiment). Wrong, with what is off: a measured epsilon above the claim
    at ``confidence`` ("too little noise"); outputs not centred on the true result; noise
    more than ``max_noise_ratio`` times the Laplace scale ``sensitivity / epsilon`` ("private,
    but its noise is 4x larger than needed"); outputs of the wrong shape. Any correct
    ``epsilon``-DP mechanism passes with probability at least ``confidence``, however it
    draws its noise. Prints and returns :data:`NOT_ATTEMPTED`, :data:`CORRECT` (with the
    measurement) or :data:`WRONG` (raised as :class:`ExerciseError` unless
    ``raise_if_wrong`` is false).
    """
    _check_arguments(name, 0.0, 0.0, None)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if answer is None:
        return _not_attempted(name)
    subject = f"your function {getattr(answer, '__name__', 'answer')} is"
    if not callable(answer):
        problem = f"expected a function, got {type(answer).__name__}"
        return _verdict(name, "your answer is", problem, hint, raise_if_wrong)
    rng = np.random.default_rng(seed)
    try:
        problem = _shape_problem(answer, true_results[0], sensitivity, epsilon, rng)
        if problem is None:
            found = audit.audit_mechanism(
                lambda t, g, n: answer(t, sensitivity, epsilon, g, size=n),
                *true_results,
                sensitivity,
                epsilon,
                rng,
                n_samples=n_samples,
                alpha=1 - confidence,
            )
            problem = _mechanism_problem(found, max_noise_ratio)
    except Exception as exc:  # the learner's code failed: say how
        problem = f"it raised {type(exc).__name__}: {exc}"
    if problem is not None:
        return _verdict(name, subject, problem, hint, raise_if_wrong)
    print(
        f"{name}: {CORRECT}! It claims ε = {epsilon:g}: no evidence against it at "
        f"{percent(confidence)} confidence ({n_samples:,} outputs per dataset); its noise is "
        f"{found.noise_ratio:.2f}x the Laplace scale."
    )
    return CORRECT


def percent(level: float) -> str:
    """Return a confidence level as a percentage with the digits it has: 0.999 -> "99.9%",
    0.95 -> "95%" (never rounded to "100%")."""
    return f"{100 * float(level):.6g}%"


def _shape_problem(
    answer: Callable,
    true_result: float,
    sensitivity: float,
    epsilon: float,
    rng: np.random.Generator,
) -> str | None:
    """Return what is off with the shapes ``answer`` returns for ``size`` None and (2, 3)."""
    for size, want in ((None, ()), ((2, 3), (2, 3))):
        got = answer(true_result, sensitivity, epsilon, rng, size=size)
        if got is None:
            return "it returned None (did you forget `return`?)"
        if np.shape(got) != want:
            return f"with size={size!r} it returned shape {np.shape(got)}, expected {want}"
    return None


def _mechanism_problem(found: audit.MechanismAudit, max_noise_ratio: float) -> str | None:
    """Return the verdict's reason for a mechanism audit (None when all is well)."""
    if not found.consistent:
        return (
            f"NOT ε = {found.epsilon:g}: measured ε ≥ {found.epsilon_lower_bound:.2f} "
            f"with {percent(found.confidence)} confidence (too little noise)"
        )
    if abs(found.offset) > 6 * found.offset_standard_error + 0.01:
        return "its outputs are not centred on the true result"
    if found.noise_ratio > max_noise_ratio:
        return (
            f"private, but its noise is {found.noise_ratio:.1f}x larger than needed "
            f"for ε = {found.epsilon:g}"
        )
    return None
