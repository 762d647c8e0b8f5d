"""A pytest plugin for ``make test``: how nbval's notebook cells are judged and waited for.

**A cell that writes to stderr fails, as it shows in JupyterLab.** nbval's ``--nbval-lax``
runs every cell and fails only on an exception; it does not look at what a cell printed. In
JupyterLab, anything a cell writes to stderr (a Python warning, a C++ log line of
TensorFlow's) shows as a red box that a learner reads as a failure, and the browser
test (``make test-browser``) fails on it -- but only after ``make test``, and only where
Chromium is installed. This plugin makes ``make test`` and ``make test-notebook`` fail on the
same thing, naming the cell and the text: the notebooks silence only specific, understood
warnings, so any stderr output is something new.

**Progress bars stay still under nbval.** nbval reads a kernel's messages only after the
kernel has replied that a cell is done. Meanwhile they queue in ZeroMQ's and the system's
buffers, and past their limits ZeroMQ drops them: a cell whose progress bar redrew 30 000
times loses its last messages -- its final output and the kernel's "idle" -- and nbval fails
it after waiting ("Timeout of ... seconds exceeded waiting for output"), and every cell after
it (``tests/test_pytest_nbval_cells.py``; 3 000 redraws pass on an idle machine). That is how
notebook 04's reference-model cell failed in two fresh-clone ``.ci/run`` runs on this
project's 2-core machine (2026-12-06: after 868 s of training, redrawn every half second, 1 036
redraws arrived and no "idle"); how few messages suffice on a busy machine is not measured.
This plugin sets
``MLPRIVACY_PROGRESS=summary`` (unless set) before nbval starts its kernels, so a bar is drawn
once and replaced by its summary (:mod:`mlprivacy_helpers.progress`); JupyterLab, Colab and
nbclient read while a cell runs and keep the live bars.

**nbval waits longer for a cell's last outputs.** nbval gives up when no output arrives for
5 seconds after the reply (a constant, ``IPyNbCell.output_timeout``, no option);
:data:`OUTPUT_TIMEOUT` replaces it, for a machine busy enough to deliver them late. A cell that
hangs before its reply is still stopped by ``--nbval-cell-timeout``.

Loaded with ``-p mlprivacy_build.pytest_nbval_cells``; it changes only nbval's cell items.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Mapping
from typing import Any

import pytest

from mlprivacy_helpers import progress

#: Characters of each stderr output quoted in a failure.
QUOTED_CHARS = 800
#: Seconds nbval waits for each of a cell's outputs once the kernel has replied (nbval: 5).
OUTPUT_TIMEOUT = 60.0


def stderr_texts(outputs: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """Return the texts of the stderr stream outputs among a cell's ``outputs`` (nbformat
    output dicts, as nbval records them), in order; ``[]`` for ``None``."""
    texts = []
    for output in outputs or ():
        if not isinstance(output, Mapping):
            raise TypeError(f"outputs must be mappings, got {type(output).__name__}")
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = output.get("text", "")
            texts.append("".join(text) if isinstance(text, list) else str(text))
    return [text for text in texts if text.strip()]


def pytest_configure(config: pytest.Config) -> None:
    """Keep progress bars still in the kernels nbval starts (they inherit the environment)."""
    os.environ.setdefault(progress.MODE_VARIABLE, "summary")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every nbval cell item :data:`OUTPUT_TIMEOUT` seconds to deliver its outputs."""
    for item in items:
        if type(item).__name__ == "IPyNbCell" and hasattr(item, "output_timeout"):
            item.output_timeout = max(float(item.output_timeout), OUTPUT_TIMEOUT)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Turn a passed nbval cell whose outputs include stderr text into a failure."""
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.passed or type(item).__name__ != "IPyNbCell":
        return
    texts = stderr_texts(getattr(item, "test_outputs", None))
    if texts:
        quoted = "\n---\n".join(text[:QUOTED_CHARS] for text in texts)
        report.outcome = "failed"
        report.longrepr = (
            f"{item.name} of {item.path.name} wrote to stderr (a red box in JupyterLab); "
            f"silence only a specific, understood warning around the call that raises it, "
            f"or fix its cause:\n{quoted}"
        )
