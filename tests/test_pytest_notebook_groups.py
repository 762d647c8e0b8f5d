"""`make test`'s xdist grouping (mlprivacy_build/pytest_notebook_groups.py): a notebook and its
learner edition run on one worker, the solved notebook first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlprivacy_build.pytest_notebook_groups import notebook_group


def test_a_notebook_and_its_learner_edition_share_a_group():
    assert notebook_group(Path("notebooks/02_membership.ipynb")) == "02_membership"
    assert notebook_group(Path("build/test-learner/02_membership.ipynb")) == "02_membership"
    assert notebook_group(Path("tests/test_data.py")) is None
    with pytest.raises(TypeError, match="must be a path"):
        notebook_group("notebooks/02_membership.ipynb")


def _logging_notebook(path: Path, label: str, log: Path, cells: int) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import os, time\n"
            f"with open({str(log)!r}, 'a') as f:\n"
            f"    f.write('{label} {k} ' + os.environ.get('PYTEST_XDIST_WORKER', '-') + '\\n')\n"
            "time.sleep(0.2)"
        )
        for k in range(cells)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_two_workers_run_each_notebook_pair_on_one_worker_solved_first(tmp_path):
    log = tmp_path / "log.txt"
    for name in ("a", "b"):
        _logging_notebook(tmp_path / "notebooks" / f"{name}.ipynb", f"{name}-solved", log, 3)
        _logging_notebook(tmp_path / "learner" / f"{name}.ipynb", f"{name}-learner", log, 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "notebooks",
            "learner",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            "-p",
            "mlprivacy_build.pytest_notebook_groups",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-q",
        ],  # fmt: skip
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line.split() for line in log.read_text().splitlines()]
    assert len(lines) == 10
    for name in ("a", "b"):
        mine = [(label, worker) for label, _, worker in lines if label.startswith(name)]
        workers = {worker for _, worker in mine}
        assert len(workers) == 1 and workers != {"-"}, mine  # one xdist worker for the pair
        labels = [label for label, _ in mine]
        assert labels == [f"{name}-solved"] * 3 + [f"{name}-learner"] * 2, labels
    # Two workers were used, one per pair.
    assert len({worker for *_, worker in lines}) == 2
