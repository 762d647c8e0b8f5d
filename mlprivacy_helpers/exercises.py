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

Used by notebooks 01, 02 and 03.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

NOT_ATTEMPTED = "not attempted yet"
CORRECT = "correct"
WRONG = "wrong"


class ExerciseError(AssertionError):
    """A learner's answer is wrong; the message is the hint."""


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
    non-callable ``compare``. Used by the exercise cells of notebooks 01-03.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    for label, tol in (("rtol", rtol), ("atol", atol)):
        if not isinstance(tol, numbers.Real) or not math.isfinite(tol) or tol < 0:
            raise ValueError(f"{label} must be a non-negative number, got {tol!r}")
    if compare is not None and not callable(compare):
        raise TypeError(f"compare must be a function (answer, expected) -> bool, got {compare!r}")

    if answer is None:
        print(f"{name}: {NOT_ATTEMPTED} (set the variable and rerun the cell).")
        return NOT_ATTEMPTED
    if compare is not None:
        try:
            ok = bool(compare(answer, expected))
        except Exception as exc:  # a learner's answer of the wrong kind breaks the rule
            ok, problem = False, f"it could not be checked ({type(exc).__name__}: {exc})"
        else:
            problem = "" if ok else "it does not satisfy the exercise's condition"
    else:
        problem = _numeric_hint(answer, expected, rtol, atol) or ""
        ok = not problem
    if ok:
        print(f"{name}: {CORRECT}!")
        return CORRECT
    message = f"{name}: {answer!r} is not right yet: {problem}."
    if hint:
        message += f" Hint: {hint}"
    if raise_if_wrong:
        raise ExerciseError(message)
    print(message)
    return WRONG
