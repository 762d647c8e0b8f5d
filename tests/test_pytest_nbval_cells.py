"""`make test`'s nbval cells (mlprivacy_build/pytest_nbval_cells.py): a notebook cell that writes
to stderr fails under nbval, naming the text, other cells and other tests are untouched; nbval
waits longer for a cell's outputs; progress bars stay still under it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlprivacy_build import pytest_nbval_cells
from mlprivacy_build.pytest_nbval_cells import stderr_texts


def test_stderr_texts_picks_the_stderr_streams_only():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "fine\n"},
        {"output_type": "stream", "name": "stderr", "text": ["a ", "warning\n"]},
        {"output_type": "execute_result", "data": {"text/plain": "1"}},
        {"output_type": "stream", "name": "stderr", "text": "  \n"},  # blank: nothing shows
        {"output_type": "stream", "name": "stderr", "text": "I0000 a log line\n"},
    ]
    assert stderr_texts(outputs) == ["a warning\n", "I0000 a log line\n"]
    assert stderr_texts(None) == []
    with pytest.raises(TypeError, match="mappings"):
        stderr_texts(["not an output"])


def _run_pytest(folder: Path, *plugin: str) -> subprocess.CompletedProcess:
    # Without PYTEST_* (this run's) and MLPRIVACY_PROGRESS (which this plugin set in this run).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_") and k != "MLPRIVACY_PROGRESS"
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "nb.ipynb",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            *plugin,
            "-q",
        ],  # fmt: skip
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_cell_that_writes_to_stderr_fails_and_the_others_pass(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("print('to stdout')\n1 + 1"),
        nbformat.v4.new_code_cell(
            "import warnings\nwarnings.warn('lbfgs failed to converge', RuntimeWarning)"
        ),
        nbformat.v4.new_code_cell("import sys\nprint('after', file=sys.stdout)"),
    ]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    checked = _run_pytest(tmp_path, "-p", "mlprivacy_build.pytest_nbval_cells")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "1 failed, 2 passed" in checked.stdout, checked.stdout
    assert "wrote to stderr" in checked.stdout and "lbfgs failed to converge" in checked.stdout
    # The control: nbval alone passes the same notebook, so the plugin is what fails it.
    plain = _run_pytest(tmp_path)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "3 passed" in plain.stdout, plain.stdout


def test_nbval_cells_wait_longer_for_their_outputs_and_other_items_are_left_alone():
    class IPyNbCell:  # stands in for nbval's item class, matched by name
        output_timeout = 5

    class Function:
        output_timeout = 5

    cell, other = IPyNbCell(), Function()
    pytest_nbval_cells.pytest_collection_modifyitems(None, [cell, other])
    assert cell.output_timeout == pytest_nbval_cells.OUTPUT_TIMEOUT >= 60
    assert other.output_timeout == 5


def test_the_output_timeout_reaches_nbvals_items(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    (tmp_path / "conftest.py").write_text(
        "def pytest_collection_finish(session):\n"
        "    print('timeouts', sorted({i.output_timeout for i in session.items}))\n"
    )
    run = _run_pytest(tmp_path, "-p", "mlprivacy_build.pytest_nbval_cells", "-s")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"timeouts [{pytest_nbval_cells.OUTPUT_TIMEOUT}]" in run.stdout, run.stdout


def test_a_long_redrawing_progress_bar_loses_nbvals_last_messages_unless_the_plugin_stills_it(
    tmp_path,
):
    # 10 000 redraws while nbval is not reading: past the buffers' limits the cell's last
    # output and the kernel's "idle" are dropped and nbval times out waiting for them. (3 000
    # pass on an idle machine, 5 000 fail here too; 30 000 took the control run 60 s, not 35.)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from mlprivacy_helpers.progress import Progress\n"
            "bar = Progress(10000, 'steps', min_interval=0)\n"
            "for _ in range(10000):\n"
            "    bar.update(1)\n"
            "bar.close('done')\n"
            "print('the last line')"
        ),
        nbformat.v4.new_code_cell("1 + 1"),
    ]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    still = _run_pytest(tmp_path, "-p", "mlprivacy_build.pytest_nbval_cells")
    assert still.returncode == 0 and "2 passed" in still.stdout, still.stdout + still.stderr
    # The control: nbval alone, the bar redrawing.
    plain = _run_pytest(tmp_path)
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert "waiting for output" in plain.stdout, plain.stdout
