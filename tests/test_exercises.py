"""Tests of mlprivacy_helpers.exercises: the three outcomes of the exercise checker."""

from __future__ import annotations

import numpy as np
import pytest

from mlprivacy_helpers import exercises

# The notebooks pass a value they computed; here, stand-ins computed the same way.
EXPECTED_SCALE = (100 - 0) / 1_000 / 0.5


def test_none_is_not_attempted_yet(capsys):
    verdict = exercises.check("Exercise 1", None, EXPECTED_SCALE)
    assert verdict == exercises.NOT_ATTEMPTED == "not attempted yet"
    assert "Exercise 1: not attempted yet" in capsys.readouterr().out


def test_a_right_answer_is_correct(capsys):
    assert exercises.check("Exercise 1", 0.1 / 0.5, EXPECTED_SCALE) == exercises.CORRECT
    assert capsys.readouterr().out.strip() == "Exercise 1: correct!"
    assert exercises.check("arrays", [1.0, 2.0], np.array([1.0, 2.0 + 1e-9])) == "correct"
    assert exercises.check("int vs float", 40, 40.0) == "correct"


@pytest.mark.parametrize(
    "answer, says",
    [
        (0.3, "too large"),
        (0.1, "too small"),
        (20.0, "far too large"),
        (0.002, "far too small"),
        ("0.2", "expected a number, got str"),
        (True, "expected a number, got bool"),
        ([0.2, 0.2], "expected shape ()"),
        (float("nan"), "NaN"),
    ],
)
def test_a_wrong_answer_gets_a_precise_hint_without_the_answer(answer, says):
    with pytest.raises(exercises.ExerciseError) as info:
        exercises.check("Exercise 1", answer, EXPECTED_SCALE, hint="b = sensitivity / epsilon")
    message = str(info.value)
    assert message.startswith(f"Exercise 1: {answer!r} is not right yet")
    assert says in message and "Hint: b = sensitivity / epsilon" in message
    assert "0.2" not in message.replace(repr(answer), ""), "the expected value must not leak"
    assert isinstance(info.value, AssertionError)  # a failing solution fails a CI run


def test_a_wrong_answer_can_be_printed_instead_of_raised(capsys):
    verdict = exercises.check("Exercise 2", 50, 40, raise_if_wrong=False, hint="clip range")
    assert verdict == exercises.WRONG
    assert capsys.readouterr().out.strip() == (
        "Exercise 2: 50 is not right yet: too large. Hint: clip range"
    )


def test_array_answers_report_how_many_values_are_off():
    with pytest.raises(exercises.ExerciseError, match="1 of 3 values"):
        exercises.check("arrays", [1.0, 2.0, 4.0], np.array([1.0, 2.0, 3.0]))


def test_tolerances_and_custom_comparisons():
    assert exercises.check("tol", 1.004, 1.0, atol=0.005) == "correct"
    with pytest.raises(exercises.ExerciseError):
        exercises.check("tol", 1.004, 1.0)

    def within_bounds(answer, expected):
        low, high = expected
        return low < answer < high

    assert exercises.check("range", 1.5, (1.0, 2.0), compare=within_bounds) == "correct"
    with pytest.raises(exercises.ExerciseError, match="does not satisfy"):
        exercises.check("range", 2.5, (1.0, 2.0), compare=within_bounds)
    with pytest.raises(exercises.ExerciseError, match="could not be checked"):
        exercises.check("range", "x", (1.0, 2.0), compare=within_bounds)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"name": ""}, ValueError),
        ({"rtol": -1.0}, ValueError),
        ({"atol": float("nan")}, ValueError),
        ({"compare": "isclose"}, TypeError),
    ],
)
def test_bad_checker_arguments_are_rejected(kwargs, error):
    args = {"name": "Exercise", "answer": 1.0, "expected": 1.0, **kwargs}
    name, answer, expected = args.pop("name"), args.pop("answer"), args.pop("expected")
    with pytest.raises(error):
        exercises.check(name, answer, expected, **args)
