"""mlprivacy_build/check_results.py: the regression check of the notebooks' numbers."""

from __future__ import annotations

import json

import pytest

from mlprivacy_build import check_results

RUN_A = {"02_x": {"auc": 0.72, "profile": "quick", "n": 250, "seconds": 90.0, "aucs": [0.5, 0.6]}}
RUN_B = {"02_x": {"auc": 0.73, "profile": "quick", "n": 250, "seconds": 95.0, "aucs": [0.5, 0.64]}}


def failing(expected, actual):
    return {(r[0], r[1]) for r in check_results.compare(expected, actual) if not r[5]}


def test_baseline_from_repeated_runs():
    expected = check_results.build_expected([RUN_A, RUN_B])["02_x"]
    assert expected["profile"] == {"type": "str", "value": "quick"}
    assert expected["n"] == {"type": "int", "value": 250}
    assert expected["seconds"] == {"type": "float"}  # a timing: type only
    # Tolerance: max(abs floor 0.02 for values >= 0.05, 5 % of the value, 3 x the spread).
    assert expected["auc"]["tol"] == pytest.approx(max(0.02, 0.05 * 0.72, 3 * 0.01))
    assert expected["aucs"]["tol"] == pytest.approx([0.025, 3 * 0.04])


def test_tiny_values_get_relative_tolerances_only():
    runs = [{"01_x": {"delta": 1e-5, "areas": [0.95, 0.001]}}]
    expected = check_results.build_expected(runs)["01_x"]
    assert expected["delta"]["tol"] == pytest.approx(5e-7)
    assert expected["areas"]["tol"] == pytest.approx([0.0475, 5e-5])


def test_same_numbers_pass_and_timings_are_not_compared():
    expected = check_results.build_expected([RUN_A, RUN_B])
    slower = json.loads(json.dumps(RUN_B))
    slower["02_x"]["seconds"] = 900.0
    assert failing(expected, slower) == set()


@pytest.mark.parametrize(
    ("key", "value"),
    [("auc", 0.60), ("n", 251), ("profile", "full"), ("aucs", [0.5, 0.9]), ("auc", "0.72")],
)
def test_a_moved_number_or_changed_type_fails(key, value):
    expected = check_results.build_expected([RUN_A])
    moved = json.loads(json.dumps(RUN_A))
    moved["02_x"][key] = value
    assert failing(expected, moved) == {("02_x", key)}


def test_missing_and_undocumented_keys_and_files_fail():
    expected = check_results.build_expected([RUN_A])
    changed = json.loads(json.dumps(RUN_A))
    del changed["02_x"]["n"]
    changed["02_x"]["new_key"] = 1
    assert failing(expected, changed) == {("02_x", "n"), ("02_x", "new_key")}
    assert failing(expected, {}) == {("02_x", "(results file)")}


def test_command_line_update_then_check(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "02_x.json").write_text(json.dumps(RUN_A["02_x"]))
    baseline = tmp_path / "expected.json"
    assert check_results.main(["--update", str(run), "--expected", str(baseline)]) == 0
    assert check_results.main([str(run), "--expected", str(baseline)]) == 0
    (run / "02_x.json").write_text(json.dumps({**RUN_A["02_x"], "auc": 0.5}))
    assert check_results.main([str(run), "--expected", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "auc" in out and "make update-expected" in out


def test_keys_counted_in_tenths_get_their_minimum_tolerance():
    runs = [{"03_x": {"judge_accuracy": [0.1, 0.9, 0.5]}}]
    expected = check_results.build_expected(runs)
    assert (
        expected["03_x"]["judge_accuracy"]["tol"] == [check_results.MIN_TOL["judge_accuracy"]] * 3
    )


def test_dicts_of_numbers_are_checked_entry_by_entry(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    numbers = {"tpr_at_1pct_fpr": {"lr": 0.012, "rmia": 0.12}, "profile": "quick"}
    (run / "04_x.json").write_text(json.dumps(numbers))
    loaded = check_results.load_results(run)
    assert loaded == {
        "04_x": {"tpr_at_1pct_fpr.lr": 0.012, "tpr_at_1pct_fpr.rmia": 0.12, "profile": "quick"}
    }
    expected = check_results.build_expected([loaded])
    # the minimum tolerance of the dict's name applies to each entry
    assert expected["04_x"]["tpr_at_1pct_fpr.lr"]["tol"] == 0.01
    moved = {"04_x": {**loaded["04_x"], "tpr_at_1pct_fpr.rmia": 0.05}}
    assert failing(expected, moved) == {("04_x", "tpr_at_1pct_fpr.rmia")}
    assert failing(expected, loaded) == set()
