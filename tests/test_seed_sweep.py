"""mlprivacy_build/seed_sweep.py (`make test-seeds`): every seed runs, failures are reported.

Tiny stand-in notebooks run in a real kernel (nbclient), so each run takes about a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from mlprivacy_build import seed_sweep

# A notebook that asserts a claim which holds for some seeds only, and saves a result.
CLAIM = """\
import os
from mlprivacy_helpers import config
from mlprivacy_helpers.results import save_results
from mlprivacy_helpers.results_schema import Field, Schema
seed = config.get_seed()
assert os.environ["MLPRIVACY_PROFILE"] == "quick"
assert os.listdir(os.environ["MLPRIVACY_CACHE"]) == [], "each seed starts with an empty cache"
open(os.path.join(os.environ["MLPRIVACY_CACHE"], "model"), "w").close()
schema = Schema("99_claim", {"seed": Field("int"), "value": Field("float")})
save_results("99_claim", {"seed": seed, "value": seed / 10}, schema=schema)
assert seed != 2, f"the claim fails on seed {seed}\\nsecond line"
"""


def _notebook(folder: Path) -> Path:
    path = folder / "99_claim.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CLAIM)]), path)
    return path


def test_every_seed_runs_and_a_failing_seed_fails_the_sweep_with_its_first_error_line(
    tmp_path, capsys
):
    notebook, out = _notebook(tmp_path), tmp_path / "seeds"

    status = seed_sweep.main([str(notebook), "--seeds", "1", "2", "3", "--out", str(out)])

    assert status == 1
    printed = capsys.readouterr().out
    assert "99_claim (profile quick): 2 of 3 seeds passed" in printed
    assert "FAIL: cell 1: AssertionError: the claim fails on seed 2 |" in printed
    assert "second line" not in printed
    for seed in (1, 2, 3):
        outcome = json.loads((out / f"seed-{seed}" / "99_claim.status.json").read_text())
        assert outcome["passed"] == (seed != 2)
        assert outcome["results"]["value"] == seed / 10  # the notebook's own results JSON
        assert not (out / f"seed-{seed}" / "model-cache").exists(), "caches are removed"
    assert (out / "tables.md").read_text() in printed


def test_the_report_counts_a_seed_without_a_run_as_failed(tmp_path, capsys):
    notebook, out = _notebook(tmp_path), tmp_path / "seeds"
    assert seed_sweep.main([str(notebook), "--seeds", "1", "--out", str(out)]) == 0
    capsys.readouterr()

    assert seed_sweep.main([str(notebook), "--seeds", "1", "5", "--out", str(out), "--report"]) == 1
    table = capsys.readouterr().out
    assert "1 of 2 seeds passed" in table
    assert "| 5 | not run |" in table
    (out / "tables.md").unlink()
    seed_sweep.main([str(notebook), "--seeds", "1", "--out", str(out), "--report"])
    assert not (out / "tables.md").exists(), "a report writes nothing"


def test_seeds_must_be_distinct_and_non_negative(tmp_path):
    notebook = _notebook(tmp_path)
    assert seed_sweep.main([str(notebook), "--seeds", "1", "1", "--report"]) == 2
    assert seed_sweep.main([str(notebook), "--seeds", "-1", "--report"]) == 2


def test_ranges_give_each_numbers_min_and_max_over_the_seeds_that_passed(tmp_path, capsys):
    notebook, out = _notebook(tmp_path), tmp_path / "seeds"
    seed_sweep.main([str(notebook), "--seeds", "1", "2", "4", "--out", str(out)])  # 2 fails
    capsys.readouterr()
    assert (
        seed_sweep.main([str(notebook), "--seeds", "1", "2", "4", "--out", str(out), "--ranges"])
        == 0
    )
    table = capsys.readouterr().out
    assert "99_claim: ranges over seeds 1, 4" in table
    assert "| value | 0.1 | 0.4 | 1 / 4 |" in table
    assert "| seed | 1 | 4 | 1 / 4 |" in table
    assert "profile" not in table  # strings are left out
