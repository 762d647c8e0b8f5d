"""mlprivacy_build/check_results.py: the regression check of the notebooks' numbers."""

from __future__ import annotations

import json

import pytest

from mlprivacy_build import check_results
from mlprivacy_helpers.results_schema import SCHEMAS, Field, Schema

SCHEMA = {
    "02_x": Schema(
        "02_x",
        {
            "auc": Field("float"),
            "aucs": Field("list[float]"),
            "n": Field("int"),
            "profile": Field("str"),
            "seconds": Field("float", timing=True),
            "judged": Field("list[float]", tol=0.2),
            "tpr": Field("dict[float]", tol=0.01),
        },
    )
}
RUN_A = {
    "02_x": {
        "auc": 0.72,
        "profile": "quick",
        "n": 250,
        "seconds": 90.0,
        "aucs": [0.5, 0.6],
        "judged": [0.1, 0.9],
        "tpr.lr": 0.012,
        "tpr.rmia": 0.12,
    }
}


def run(**changes):
    values = {**RUN_A["02_x"], **changes}
    return {"02_x": {k: v for k, v in values.items() if v is not None}}


def failing(expected, actual):
    return {(r[0], r[1]) for r in check_results.compare(expected, actual, SCHEMA) if not r[5]}


def test_the_baseline_holds_values_only_and_no_timing():
    expected = check_results.build_expected([RUN_A], SCHEMA)["02_x"]
    assert expected == {k: v for k, v in RUN_A["02_x"].items() if k != "seconds"}


def test_tolerances_come_from_the_schema_floors_and_the_value():
    fields = SCHEMA["02_x"].fields
    # max(floor in the schema, 5 % of the value, 0.02 for values of 0.05 and more)
    assert check_results.tolerance(0.72, fields["auc"]) == pytest.approx(0.05 * 0.72)
    assert check_results.tolerance([0.5, 0.001], fields["aucs"]) == pytest.approx([0.025, 5e-5])
    assert check_results.tolerance([0.1, 0.9], fields["judged"]) == [0.2, 0.2]  # counted in tenths
    assert check_results.tolerance(0.012, fields["tpr"], "tpr.lr") == 0.01  # per dict entry
    assert check_results.tolerance(250, fields["n"]) is None  # exact


def test_same_numbers_pass_and_timings_are_not_compared():
    expected = check_results.build_expected([RUN_A], SCHEMA)
    assert failing(expected, run(seconds=900.0, auc=0.73)) == set()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("auc", 0.60),
        ("n", 251),
        ("profile", "full"),
        ("aucs", [0.5, 0.9]),
        ("auc", "0.72"),
        ("tpr.rmia", 0.05),
        ("seconds", "slow"),
    ],
)
def test_a_moved_number_or_changed_type_fails(key, value):
    expected = check_results.build_expected([RUN_A], SCHEMA)
    assert failing(expected, run(**{key: value})) == {("02_x", key)}


def test_missing_undeclared_and_new_keys_and_files_fail():
    expected = check_results.build_expected([RUN_A], SCHEMA)
    assert failing(expected, run(n=None)) == {("02_x", "n")}
    assert failing(expected, run(new_key=1)) == {("02_x", "new_key")}  # not in the schema
    assert failing(expected, run(**{"tpr.lira": 0.1})) == {("02_x", "tpr.lira")}  # new entry
    assert failing(expected, {}) == {("02_x", "(results file)")}


def test_repeated_runs_that_differ_more_than_the_tolerance_name_the_key():
    noisy = run(auc=0.80)  # 3 x 0.08 > 0.036
    with pytest.raises(ValueError, match="02_x: auc; raise those keys' tol"):
        check_results.build_expected([RUN_A, noisy], SCHEMA)
    assert check_results.build_expected([RUN_A, run(auc=0.725)], SCHEMA)["02_x"]["auc"] == 0.72


def test_command_line_update_then_check(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(check_results, "SCHEMAS", SCHEMA)
    folder = tmp_path / "run"
    folder.mkdir()
    nested = {"auc": 0.72, "profile": "quick", "n": 250, "seconds": 9.0, "aucs": [0.5, 0.6],
              "judged": [0.1, 0.9], "tpr": {"lr": 0.012, "rmia": 0.12}}  # fmt: skip
    (folder / "02_x.json").write_text(json.dumps(nested))
    assert check_results.load_results(folder) == {"02_x": {**RUN_A["02_x"], "seconds": 9.0}}
    baseline = tmp_path / "expected.json"
    assert check_results.main(["--update", str(folder), "--expected", str(baseline)]) == 0
    assert check_results.main([str(folder), "--expected", str(baseline)]) == 0
    (folder / "02_x.json").write_text(json.dumps({**nested, "auc": 0.5}))
    assert check_results.main([str(folder), "--expected", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "auc" in out and "make update-expected" in out
    # --only: one notebook's results against its part of the baseline (a CI matrix job).
    baseline.write_text(json.dumps({**json.loads(baseline.read_text()), "03_y": {"n": 1}}))
    (folder / "02_x.json").write_text(json.dumps(nested))
    assert check_results.main([str(folder), "--expected", str(baseline)]) == 1  # 03_y missing
    assert check_results.main([str(folder), "--expected", str(baseline), "--only", "02_x"]) == 0
    with pytest.raises(SystemExit):
        check_results.main([str(folder), "--expected", str(baseline), "--only", "09_z"])


def test_the_committed_baseline_passes_against_itself_with_the_real_schemas(tmp_path):
    baseline = json.loads(check_results.DEFAULT_EXPECTED.read_text())
    rows = check_results.compare(baseline, baseline)
    assert rows and all(r[5] for r in rows)
    assert set(baseline) == set(SCHEMAS)
