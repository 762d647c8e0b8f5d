"""mlprivacy_build/check_results.py: tolerances measured from machine variants and seeds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mlprivacy_build import check_results
from mlprivacy_helpers.results_schema import SCHEMAS, Field, Schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = {
    "02_x": Schema(
        "02_x",
        {
            "auc": Field("float"),
            "aucs": Field("list[float]"),
            "epsilon": Field("float"),
            "n": Field("int"),
            "profile": Field("str"),
            "seconds": Field("float", timing=True),
            "judged": Field("list[float]", tol=0.2),
            "tpr": Field("dict[float]", tol=0.001),
        },
    )
}
RUN_A = {
    "02_x": {
        "auc": 0.72,
        "epsilon": 3.84,
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


# Machine variants: the AUC moves by at most 0.01, epsilon never (it depends on settings only).
VARIANTS = [run(auc=0.73, aucs=[0.51, 0.6], **{"tpr.lr": 0.02}), run(auc=0.715)]
SEEDS = [run(auc=a, **{"tpr.lr": t}) for a, t in [(0.70, 0.01), (0.74, 0.03), (0.72, 0.0)]]


def baseline():
    return check_results.build_expected(RUN_A, VARIANTS, SEEDS, SCHEMA)


def failing(expected, actual):
    return {r.key for r in check_results.compare(expected, actual, SCHEMA) if not r.ok}


def test_spread_is_the_largest_machine_move_or_the_seed_sd_if_the_key_moves_at_all():
    entries = baseline()["results"]["02_x"]
    auc = entries["auc"]
    # moved 0.01 on a variant; seeds' sd is 0.02: the spread is the larger
    assert auc["spread"] == pytest.approx(0.02) and auc["tolerance"] == pytest.approx(0.08)
    eps = entries["epsilon"]  # never moved: float noise only
    assert eps["spread"] == 0.0 and eps["tolerance"] == pytest.approx(3.84e-6)
    assert entries["aucs"]["spread"] == [0.01, 0.0] and entries["aucs"]["tolerance"][1] < 1e-5
    assert entries["judged"]["tolerance"] == [0.2, 0.2]  # the schema's floor
    assert "seconds" not in entries and entries["n"] == {"value": 250}
    # TPR of LR: moves by 0.008 and has a seed sd of 0.015: 4 x 0.015 exceeds its value.
    assert entries["tpr.lr"]["informational"] and not entries["auc"]["informational"]


def test_a_key_no_variant_moved_but_the_seeds_did_spreads_as_far_as_the_seeds():
    seeds = [run(aucs=[0.5, x]) for x in (0.58, 0.6, 0.62)]
    entries = check_results.build_expected(RUN_A, VARIANTS, seeds, SCHEMA)["results"]["02_x"]
    # aucs[1]: no variant moved it, the seeds did (sd 0.02); aucs[0]: a variant moved it by 0.01
    assert entries["aucs"]["spread"] == pytest.approx([0.01, 0.02])
    assert entries["epsilon"]["spread"] == 0.0  # neither: float noise only
    fewer = check_results.build_expected(RUN_A, VARIANTS, seeds[:2], SCHEMA)["results"]["02_x"]
    assert fewer["aucs"]["spread"][1] == 0.0  # two seeds give no standard deviation to use


def test_a_seed_run_without_a_notebook_is_left_out_for_it_and_counted():
    # A sweep may give one notebook more seeds: runs without it count neither way for it.
    other = {"05_y": {"auc": 0.5}}
    with_others = check_results.build_expected(RUN_A, VARIANTS, [*SEEDS, other, other], SCHEMA)
    assert with_others["results"] == baseline()["results"]
    assert with_others["runs"]["seeds"] == 3
    assert with_others["runs"]["seeds_by_notebook"] == {"02_x": 3}
    # A seed run that holds the notebook but not one of its keys is still refused.
    with pytest.raises(ValueError, match="seed run"):
        check_results.build_expected(RUN_A, VARIANTS, [*SEEDS, run(auc=None)], SCHEMA)
    # A variant run must hold every notebook.
    with pytest.raises(ValueError, match="variant run"):
        check_results.build_expected(RUN_A, [*VARIANTS, other], SEEDS, SCHEMA)


def test_moves_within_the_tolerance_pass_and_beyond_it_fail_with_their_spread_count(capsys):
    expected = baseline()
    assert failing(expected, run(auc=0.79)) == set()
    assert failing(expected, run(auc=0.82)) == {"auc"}
    assert failing(expected, run(epsilon=3.85)) == {"epsilon"}  # a settings key: any move
    assert failing(expected, run(n=251)) == {"n"}
    assert failing(expected, run(**{"tpr.lr": 0.0})) == set()  # informational: never fails
    rows = check_results.compare(expected, run(auc=0.82, epsilon=3.85), SCHEMA)
    by_key = {r.key: r for r in rows}
    assert by_key["auc"].spreads == pytest.approx(5.0)
    assert math.isinf(by_key["epsilon"].spreads)
    text, ok = check_results.report(rows, "baseline")
    assert not ok
    assert "5.0x" in text and "2 key(s) moved beyond 4x their cross-machine spread" in text
    assert "this is a change, not this machine" in text


def test_structural_differences_fail():
    expected = baseline()
    assert failing(expected, run(profile="full")) == {"profile"}
    assert failing(expected, run(aucs=[0.5])) == {"aucs"}
    rows = {r.key: r for r in check_results.compare(expected, run(aucs=[0.9]), SCHEMA)}
    assert rows["aucs"].tolerance == "size" and rows["aucs"].spreads == pytest.approx(40.0)
    rows = {r.key: r for r in check_results.compare(expected, run(aucs=0.5), SCHEMA)}
    assert rows["aucs"].spreads is None  # no list to measure
    assert failing(expected, run(auc=None)) == {"auc"}
    assert failing(expected, run(extra=1.0)) == {"extra"}
    assert failing(expected, run(seconds=1.0)) == set()  # timings only type-checked


def test_without_runs_the_previous_spreads_are_kept_or_refused():
    previous = baseline()
    kept = check_results.build_expected(run(auc=0.70), schemas=SCHEMA, previous=previous)
    assert kept["results"]["02_x"]["auc"]["value"] == 0.70
    assert (
        kept["results"]["02_x"]["auc"]["tolerance"]
        == previous["results"]["02_x"]["auc"]["tolerance"]
    )
    with pytest.raises(ValueError, match="no measured spread"):
        check_results.build_expected(RUN_A, schemas=SCHEMA)
    with pytest.raises(ValueError, match="variant run"):
        check_results.build_expected(RUN_A, [run(auc=None)], SEEDS, SCHEMA)


def test_command_line_update_then_check(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(check_results, "SCHEMAS", SCHEMA)

    def write(folder, values):
        folder.mkdir(parents=True, exist_ok=True)
        nested = {k: v for k, v in values["02_x"].items() if not k.startswith("tpr.")}
        nested["tpr"] = {"lr": values["02_x"]["tpr.lr"], "rmia": values["02_x"]["tpr.rmia"]}
        (folder / "02_x.json").write_text(json.dumps(nested))
        return str(folder)

    base = write(tmp_path / "base", RUN_A)
    variants = [write(tmp_path / f"v{i}", v) for i, v in enumerate(VARIANTS)]
    seeds = [write(tmp_path / f"s{i}", s) for i, s in enumerate(SEEDS)]
    expected = tmp_path / "expected.json"
    with pytest.raises(SystemExit):  # no measured runs
        check_results.main(["--update", base, "--expected", str(expected)])
    with pytest.raises(SystemExit):  # variants without seeds
        check_results.main(["--update", base, "--variants", *variants, "--expected", str(expected)])
    monkeypatch.setattr(check_results, "stale_runs", lambda folders: [])  # no status files here
    args = ["--update", base, "--variants", *variants, "--seeds", *seeds]
    assert check_results.main([*args, "--expected", str(expected)]) == 0
    runs = json.loads(expected.read_text())["runs"]
    assert runs["folders"] == {
        "variants": [f"v{i}" for i in range(len(variants))],
        "seeds": [f"s{i}" for i in range(len(seeds))],
    }
    assert check_results._run_name(Path("build/seeds/seed-3/results")) == "seed-3"
    assert check_results.main([base, "--expected", str(expected)]) == 0
    bad = write(tmp_path / "bad", run(auc=0.5))
    assert check_results.main([bad, "--expected", str(expected)]) == 1
    out = capsys.readouterr().out
    assert "auc" in out and "make update-expected" in out
    assert check_results.main([bad, "--expected", str(expected), "--only", "02_x"]) == 1
    with pytest.raises(SystemExit):
        check_results.main([base, "--expected", str(expected), "--only", "09_z"])


def test_the_committed_baseline_passes_against_its_own_values_with_the_real_schemas():
    baseline = check_results.read_baseline(check_results.DEFAULT_EXPECTED)
    values = {nb: {k: e["value"] for k, e in entries.items()}
              for nb, entries in baseline["results"].items()}  # fmt: skip
    rows = check_results.compare(baseline, values)
    assert rows and all(r.ok for r in rows), [r for r in rows if not r.ok]
    assert set(baseline["results"]) == set(SCHEMAS)
    # Measured, not guessed: at least one machine variant, and three seeds (the fewest whose
    # standard deviation measure() uses). README.md, Tests, says which runs the baseline holds.
    assert baseline["runs"]["variants"] >= 1 and baseline["runs"]["seeds"] >= 3


# Planted regressions (mlprivacy_build/plant_regressions.py): each one's results must fail
# against today's baseline; the fixtures are the notebooks' results with the regression in.
PLANTED = ROOT / "tests" / "planted_regressions"
PLANTS = sorted(p.name for p in PLANTED.iterdir() if p.is_dir()) if PLANTED.is_dir() else []


def test_every_planted_regression_has_its_fixture():
    from mlprivacy_build import plant_regressions

    assert PLANTS == sorted(p.name for p in plant_regressions.PLANTS)


@pytest.mark.parametrize("plant", PLANTS)
def test_each_planted_regression_fails_the_check_on_a_number(plant):
    baseline = check_results.read_baseline(check_results.DEFAULT_EXPECTED)
    manifest = json.loads((PLANTED / plant / "plant.json").read_text())
    results = check_results.load_results(PLANTED / plant / "results")
    assert list(results) == [manifest["notebook"]]
    # The fixture was made against this baseline's values (not an older one's).
    assert manifest["baseline_sha256"] == check_results.baseline_digest(list(results)), (
        f"{plant}: made against another baseline; run `make plant-regressions` again"
    )
    expected = {**baseline, "results": {n: baseline["results"][n] for n in results}}
    rows = check_results.compare(expected, results)
    numeric = [r for r in rows if not r.ok and r.spreads is not None]
    assert numeric, f"{plant}: no number caught it: {[r for r in rows if not r.ok]}"
    text, ok = check_results.report(rows, "baseline")
    assert not ok and "this is a change, not this machine" in text


def test_a_key_at_zero_or_moved_by_float_noise_is_still_checked_and_nan_is_a_failure():
    base = run(auc=0.0, epsilon=3.84)
    variants = [run(auc=0.0, epsilon=3.84 + 1e-10), run(auc=0.0, epsilon=3.84)]
    expected = check_results.build_expected(base, variants, SEEDS, SCHEMA)
    entries = expected["results"]["02_x"]
    assert not entries["auc"]["informational"]  # stable at 0: checked, not informational
    assert entries["epsilon"]["tolerance"] >= 3.84e-6  # float noise never tightens it
    assert failing(expected, run(auc=0.9, epsilon=3.84)) == {"auc"}
    assert failing(expected, run(auc=0.0, epsilon=3.84 + 1e-7)) == set()
    assert failing(expected, run(auc=float("nan"), epsilon=3.84)) == {"auc"}
    with pytest.raises(ValueError, match="NaN"):
        check_results.build_expected(base, [run(auc=float("nan"))], SEEDS, SCHEMA)


def test_runs_of_other_code_or_another_lock_are_refused(tmp_path):
    folder = tmp_path / "seed-0" / "results"
    folder.mkdir(parents=True)
    (folder / "01_differential_privacy_basics.json").write_text("{}")
    assert check_results.stale_runs([folder]) == [
        f"{folder / '01_differential_privacy_basics.json'}: no "
        "01_differential_privacy_basics.status.json beside it"
    ]
    status = tmp_path / "seed-0" / "01_differential_privacy_basics.status.json"
    status.write_text(json.dumps({"fingerprints": check_results.fingerprints()}))
    assert check_results.stale_runs([folder]) == []
    old = {**check_results.fingerprints(), "requirements-lock.txt": "0" * 64}
    status.write_text(json.dumps({"fingerprints": old}))
    assert check_results.stale_runs([folder])[0].endswith("made with another requirements-lock.txt")
