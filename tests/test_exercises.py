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


# --- check_function: a learner's function, called on inputs the notebook chooses ---------------


def reference_laplace(true_result, sensitivity, epsilon, rng, size=None):
    return true_result + rng.laplace(0.0, sensitivity / epsilon, size=size)


LAPLACE_CALLS = [
    (0.01, 0.01, 1.0, exercises.Seeded(0), 5),
    (0.5, 1.0, 0.1, exercises.Seeded(3), (2, 3)),
]


def test_check_function_none_is_not_attempted_yet(capsys):
    verdict = exercises.check_function("Ex", None, LAPLACE_CALLS, reference=reference_laplace)
    assert verdict == exercises.NOT_ATTEMPTED
    assert "Ex: not attempted yet" in capsys.readouterr().out


def test_check_function_accepts_a_right_function_with_seeded_randomness(capsys):
    def mine(true_result, sensitivity, epsilon, rng, size=None):
        b = sensitivity / epsilon
        return rng.laplace(loc=true_result, scale=b, size=size)  # the same draws, another form

    verdict = exercises.check_function("Ex", mine, LAPLACE_CALLS, reference=reference_laplace)
    assert verdict == exercises.CORRECT
    assert capsys.readouterr().out.strip() == "Ex: correct!"


def test_check_function_against_expected_outputs_and_keyword_calls():
    calls = [{"a": np.arange(3.0)}, {"a": np.ones(2)}]
    expected = [np.arange(3.0) ** 2, np.ones(2)]
    assert exercises.check_function("Sq", lambda a: a * a, calls, expected=expected) == "correct"
    with pytest.raises(
        exercises.ExerciseError, match=r"called with \(a=array of shape \(3,\)\), its result"
    ):
        exercises.check_function("Sq", lambda a: a + a, calls, expected=expected)


@pytest.mark.parametrize(
    "answer, says",
    [
        (
            lambda t, s, e, rng, size=None: t + rng.laplace(0.0, 2 * s / e, size=size),
            "its result is off",
        ),
        (lambda t, s, e, rng, size=None: t + rng.normal(0.0, s / e, size=size), "of 5 values"),
        (lambda t, s, e, rng, size=None: t + rng.laplace(0.0, s / e), "expected shape (5,)"),
        (lambda t, s, e, rng, size=None: None, "returned None (did you forget `return`?)"),
        (lambda t, s, e: t, "raised TypeError"),
        (0.2, "expected a function, got float"),
    ],
)
def test_check_function_gives_a_precise_hint_for_a_wrong_function(answer, says):
    with pytest.raises(exercises.ExerciseError) as info:
        exercises.check_function(
            "Ex",
            answer,
            LAPLACE_CALLS,
            reference=reference_laplace,
            hint="scale = sensitivity / eps",
        )
    message = str(info.value)
    assert message.startswith("Ex: ") and "not right yet" in message
    assert says in message and message.endswith("Hint: scale = sensitivity / eps")
    assert "called with" in message or "expected a function" in message
    assert "rng(seed=0)" in message or "expected a function" in message


def test_check_function_with_a_custom_comparison_and_printed_verdict(capsys):
    verdict = exercises.check_function(
        "Ex",
        lambda n: n + 1,
        [(1,), (2,)],
        expected=[2, 4],
        compare=lambda got, want: got == want,
        raise_if_wrong=False,
    )
    assert verdict == exercises.WRONG
    out = capsys.readouterr().out
    assert "called with (2), its result is off: it does not satisfy" in out


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"calls": []}, ValueError),
        ({"reference": None, "expected": None}, ValueError),
        ({"reference": abs, "expected": [1]}, ValueError),
        ({"reference": None, "expected": [1, 2]}, ValueError),
        ({"calls": [5]}, TypeError),
        ({"reference": "abs"}, TypeError),
    ],
)
def test_check_function_rejects_bad_arguments(kwargs, error):
    args = {"calls": [(1.0,)], "reference": abs, **kwargs}
    with pytest.raises(error):
        exercises.check_function("Ex", abs, args.pop("calls"), **args)


def test_seeded_rejects_bad_seeds_and_gives_fresh_generators():
    seeded = exercises.Seeded(7)
    assert seeded.generator().random() == seeded.generator().random()
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError):
            exercises.Seeded(bad)


# --- check_fields: an object whose attributes must match the notebook's -----------------------


class Record:
    def __init__(self, loss=None, labels=None):
        self.loss, self.labels = loss, labels


EXPECTED_RECORD = Record(loss=np.array([0.1, 0.2, 0.3]), labels=np.array([0, 1, 2]))


def test_check_fields_none_is_not_attempted_yet(capsys):
    assert exercises.check_fields("Ex", None, EXPECTED_RECORD, ["loss"]) == "not attempted yet"
    assert "not attempted yet" in capsys.readouterr().out


def test_check_fields_accepts_matching_fields(capsys):
    mine = Record(loss=[0.1, 0.2, 0.3 + 1e-9], labels=[0, 1, 2])
    assert exercises.check_fields("Ex", mine, EXPECTED_RECORD, ["loss", "labels"]) == "correct"
    assert capsys.readouterr().out.strip() == "Ex: correct!"


@pytest.mark.parametrize(
    "answer, says",
    [
        (Record(loss=np.array([0.1, 0.2, 0.3])), "its field labels is not set"),
        (Record(loss=np.array([0.1, 0.2, 0.4]), labels=np.arange(3)), "field loss is off: 1 of 3"),
        (Record(loss=np.zeros(2), labels=np.arange(3)), "field loss is off: expected shape (3,)"),
        ({"loss": [0.1, 0.2, 0.3]}, "expected a Record, got dict"),
    ],
)
def test_check_fields_names_the_field_that_is_off(answer, says):
    with pytest.raises(exercises.ExerciseError) as info:
        exercises.check_fields("Ex", answer, EXPECTED_RECORD, ["loss", "labels"], hint="h")
    assert says in str(info.value) and str(info.value).endswith("Hint: h")
    assert "0.3" not in str(info.value).replace("0.3]", "")


def test_check_fields_rejects_bad_arguments():
    with pytest.raises(ValueError):
        exercises.check_fields("Ex", EXPECTED_RECORD, EXPECTED_RECORD, [])
    with pytest.raises(ValueError, match="no value for 'entropy'"):
        exercises.check_fields("Ex", EXPECTED_RECORD, EXPECTED_RECORD, ["entropy"])


def test_check_function_compares_the_fields_of_returned_objects(capsys):
    calls = [(np.array([0.1, 0.2]),)]
    expected = [Record(loss=np.array([0.1, 0.2]), labels=np.array([0, 1]))]

    def mine(loss):
        return Record(loss=loss, labels=np.arange(len(loss)))

    fields = ["loss", "labels"]
    assert exercises.check_function("Ex", None, calls, expected=expected, fields=fields) == (
        "not attempted yet"
    )
    assert (
        exercises.check_function("Ex", mine, calls, expected=expected, fields=fields) == "correct"
    )
    with pytest.raises(exercises.ExerciseError, match="its field labels is off: 2 of 2 values"):
        exercises.check_function(
            "Ex", lambda loss: Record(loss, labels=[5, 5]), calls, expected=expected, fields=fields
        )
    with pytest.raises(ValueError, match="at most one of compare and fields"):
        exercises.check_function(
            "Ex", mine, calls, expected=expected, fields=fields, compare=lambda a, b: True
        )
    with pytest.raises(ValueError, match="fields must be"):
        exercises.check_function("Ex", mine, calls, expected=expected, fields="loss")


def test_a_wrong_answer_shows_the_verdict_and_hint_without_a_traceback_in_a_kernel():
    """In a real kernel (nbclient) the error output is the message alone, in at most 3 lines."""
    import nbformat
    from nbclient import NotebookClient

    source = (
        "from mlprivacy_helpers import exercises\n"
        "exercises.check('Exercise 1', 0.3, 0.2, hint='think of the worst-case neighbour')"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert error.ename == "ExerciseError"  # the cell still fails: Run All and nbval stop
    lines = "\n".join(error.traceback).splitlines()
    assert 1 <= len(lines) <= 3, lines
    text = "\n".join(lines)
    assert "Exercise 1: 0.3 is not right yet: too large." in text
    assert "Hint: think of the worst-case neighbour" in text
    for frame_marker in ("Traceback", "File ", "exercises.py", "_verdict", "raise_if_wrong"):
        assert frame_marker not in text, f"{frame_marker!r} in {text!r}"


def test_the_rendered_error_is_the_verdict_then_the_hint():
    error = exercises.ExerciseError("Exercise 2: 3 is not right yet: too small. Hint: a sum")
    verdict, hint = error._render_traceback_()
    assert "Exercise 2: 3 is not right yet: too small." in verdict and "Hint" not in verdict
    assert hint.endswith("Hint: a sum\x1b[0m")
    assert exercises.ExerciseError("no hint here")._render_traceback_() == [
        "\x1b[1;31mno hint here\x1b[0m"
    ]


# --- check_dp_mechanism: the property (epsilon-DP), not equality with our random numbers -----
NEIGHBOURS = {"sensitivity": 1 / 200, "epsilon": 0.5, "true_results": (0.08, 0.085)}


def laplace(true_result, sensitivity, epsilon, rng, size=None):
    return true_result + rng.laplace(0.0, sensitivity / epsilon, size)


def laplace_from_exponentials(true_result, sensitivity, epsilon, rng, size=None):
    # The same distribution drawn another way: no equal-seed comparison could accept it.
    scale = sensitivity / epsilon
    return true_result + rng.exponential(scale, size) - rng.exponential(scale, size)


def test_a_correct_mechanism_that_draws_its_noise_differently_passes(capsys):
    verdict = exercises.check_dp_mechanism("Ex", laplace_from_exponentials, seed=1, **NEIGHBOURS)
    assert verdict == exercises.CORRECT
    out = capsys.readouterr().out
    assert "claims ε = 0.5: no evidence against it at 95% confidence" in out and "1.00x" in out


def test_the_level_is_printed_as_given_not_rounded_to_100_percent(capsys):
    exercises.check_dp_mechanism("Ex", laplace, seed=1, confidence=0.999, **NEIGHBOURS)
    assert "no evidence against it at 99.9% confidence" in capsys.readouterr().out
    assert [exercises.percent(c) for c in (0.95, 0.999, 0.9999)] == ["95%", "99.9%", "99.99%"]

    def too_little(true_result, sensitivity, epsilon, rng, size=None):
        return true_result + rng.laplace(0.0, 0.3 * sensitivity / epsilon, size)

    with pytest.raises(exercises.ExerciseError, match=r"with 99\.9% confidence"):
        exercises.check_dp_mechanism("Ex", too_little, seed=0, confidence=0.999, **NEIGHBOURS)


@pytest.mark.parametrize(
    "scale_factor, says",
    [
        (0.5, r"NOT ε = 0\.5: measured ε ≥ 0\.9\d with 95% confidence \(too little noise\)"),
        (4.0, r"private, but its noise is 4\.0x larger than needed for ε = 0\.5"),
    ],
)
def test_too_little_or_too_much_noise_is_caught(scale_factor, says):
    def scaled(true_result, sensitivity, epsilon, rng, size=None):
        return true_result + rng.laplace(0.0, scale_factor * sensitivity / epsilon, size)

    with pytest.raises(exercises.ExerciseError, match=says):
        exercises.check_dp_mechanism("Ex", scaled, seed=0, **NEIGHBOURS)


@pytest.mark.parametrize(
    "mechanism, says",
    [
        (lambda t, s, e, rng, size=None: rng.laplace(0.0, s / e, size), "not centred on the"),
        (lambda t, s, e, rng, size=None: t + rng.laplace(0.0, s / e, 3), "size=None it returned"),
        (lambda t, s, e, rng, size=None: None, "returned None"),
        (lambda t, s, e, rng, size=None: t + rng.laplace(0.0, e / s, size), "larger than needed"),
        (lambda t, s, e, rng: t, "it raised TypeError"),
    ],
)
def test_a_wrong_mechanism_gets_a_precise_reason(mechanism, says):
    with pytest.raises(exercises.ExerciseError, match=says):
        exercises.check_dp_mechanism("Ex", mechanism, seed=0, **NEIGHBOURS)


def test_a_correct_mechanism_fails_no_more_often_than_the_stated_confidence_allows():
    # 200 seeds at 95 %: a false-alarm rate of 5 % would give 10 on average; more than 20
    # has probability 0.1 % at that rate (the Bonferroni-corrected test is below it).
    failures = sum(
        exercises.check_dp_mechanism(
            "Ex", laplace, seed=seed, n_samples=50_000, raise_if_wrong=False, **NEIGHBOURS
        )
        == exercises.WRONG
        for seed in range(200)
    )
    assert failures <= 20, f"{failures} of 200 correct runs were called wrong"


def test_check_dp_mechanism_none_is_not_attempted_and_bad_confidence_is_refused(capsys):
    assert exercises.check_dp_mechanism("Ex", None, seed=0, **NEIGHBOURS) == "not attempted yet"
    with pytest.raises(ValueError, match="confidence"):
        exercises.check_dp_mechanism("Ex", laplace, seed=0, confidence=1.0, **NEIGHBOURS)
