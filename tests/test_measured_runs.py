"""mlprivacy_build/measured_runs.py (`make record-runs`): the seed and variant runs kept in the
repository, from which `make update-expected` measures the baseline's spreads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlprivacy_build import check_results, measured_runs, seed_sweep

NOW = {"02_x": "a" * 64, "03_y": "b" * 64, "04_z": "d" * 64, "requirements-lock.txt": "c" * 64}


def _run(run_dir: Path, stem: str, *, passed: bool = True, fingerprints=None, value=0.5) -> None:
    """Write one run outcome as mlprivacy-seeds does: status file and results JSON."""
    (run_dir / "results").mkdir(parents=True, exist_ok=True)
    results = {"auc": value}
    (run_dir / "results" / f"{stem}.json").write_text(json.dumps(results))
    status = {
        "seed": 0,
        "notebook": stem,
        "fingerprints": NOW if fingerprints is None else fingerprints,
        "passed": passed,
        "error": "" if passed else "cell 3: AssertionError: the claim",
        "seconds": 1.0,
        "results": results,
    }
    (run_dir / f"{stem}.status.json").write_text(json.dumps(status))


def test_only_passed_runs_of_this_code_and_lock_are_recorded_and_a_newer_run_replaces(tmp_path):
    run_dir, ledger = tmp_path / "build" / "seeds" / "seed-3", tmp_path / "measured" / "seeds"
    _run(run_dir, "02_x")
    _run(run_dir, "03_y", passed=False)
    _run(run_dir, "04_z", fingerprints={**NOW, "requirements-lock.txt": "e" * 64})
    recorded, skipped = measured_runs.record(run_dir, ledger, NOW)
    assert recorded == ["seed-3/02_x"]
    assert skipped == [
        "seed-3/03_y: not recorded: it failed (cell 3: AssertionError: the claim)",
        "seed-3/04_z: not recorded: it ran another requirements-lock.txt than this checkout's",
    ]
    assert sorted(p.relative_to(ledger).as_posix() for p in ledger.rglob("*.json")) == [
        "seed-3/02_x.status.json",
        "seed-3/results/02_x.json",
    ]
    _run(run_dir, "02_x", value=0.7)  # the seed run again: the newer run replaces the old
    measured_runs.record(run_dir, ledger, NOW)
    assert json.loads((ledger / "seed-3" / "results" / "02_x.json").read_text()) == {"auc": 0.7}
    with pytest.raises(ValueError, match="no \\*.status.json"):
        measured_runs.record(tmp_path / "build", ledger, NOW)


def test_a_run_of_another_notebook_code_is_not_recorded_and_is_pruned_when_the_code_changes(
    tmp_path,
):
    run_dir, folder = tmp_path / "seed-1", tmp_path / "measured"
    _run(run_dir, "02_x", fingerprints={**NOW, "02_x": "f" * 64})
    assert measured_runs.record(run_dir, folder / "seeds", NOW)[0] == []
    _run(run_dir, "02_x")
    _run(run_dir, "03_y")
    measured_runs.record(run_dir, folder / "seeds", NOW)
    assert measured_runs.prune(folder, NOW) == []
    changed = {**NOW, "03_y": "0" * 64}  # notebook 03's code cells changed since
    assert measured_runs.prune(folder, changed) == [
        "seeds/seed-1/03_y: it ran another 03_y than this checkout's"
    ]
    assert [p.name for p in (folder / "seeds" / "seed-1" / "results").iterdir()] == ["02_x.json"]
    measured_runs.prune(folder, {**changed, "requirements-lock.txt": "1" * 64})  # a new lock
    assert not (folder / "seeds").exists() or not any((folder / "seeds").iterdir())


def test_run_folders_lists_the_recorded_runs_by_seed_number(tmp_path):
    for name in ("seed-10", "seed-2", "seed-0"):
        _run(tmp_path / "seeds" / name, "02_x")
    _run(tmp_path / "variants" / "onednn-on", "02_x")
    assert [p.parent.name for p in measured_runs.run_folders("seeds", tmp_path)] == [
        "seed-0",
        "seed-2",
        "seed-10",
    ]
    assert [p.parent.name for p in measured_runs.run_folders("variants", tmp_path)] == ["onednn-on"]
    with pytest.raises(ValueError, match="kind"):
        measured_runs.run_folders("seed", tmp_path)


def test_the_command_records_and_update_expected_reads_the_recorded_folders(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(check_results, "fingerprints", lambda: NOW)
    _run(tmp_path / "build" / "seeds" / "seed-4", "02_x")
    _run(tmp_path / "build" / "seeds" / "seed-5", "02_x", passed=False)
    ledger = tmp_path / "measured"
    argv = ["--seeds", str(tmp_path / "build/seeds/seed-4"), str(tmp_path / "build/seeds/seed-5")]
    assert measured_runs.main([*argv, "--to", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "seed-5/02_x: not recorded: it failed" in out and "recorded 1 run(s)" in out
    (folder,) = measured_runs.run_folders("seeds", ledger)
    assert check_results.stale_runs([folder]) == []  # what `make update-expected` checks
    assert check_results.load_results(folder) == {"02_x": {"auc": 0.5}}
    with pytest.raises(SystemExit):
        measured_runs.main(["--to", str(ledger)])  # nothing to do


def test_a_run_records_the_machine_it_ran_on():
    info = seed_sweep.machine()
    assert set(info) == {"cpu", "isa", "cores", "os", "python", "tensorflow"}
    assert isinstance(info["isa"], list) and info["python"].count(".") == 2


def test_the_committed_runs_passed_and_their_results_are_the_ones_their_status_recorded():
    statuses = sorted(measured_runs.MEASURED_RUNS.glob("*/*/*.status.json"))
    for path in statuses:
        status = json.loads(path.read_text())
        stem = path.name[: -len(".status.json")]
        assert status["passed"] and status["notebook"] == stem, path
        result = path.parent / "results" / f"{stem}.json"
        assert json.loads(result.read_text()) == status["results"], path
        assert set(status["fingerprints"]) >= {stem, "requirements-lock.txt"}, path
