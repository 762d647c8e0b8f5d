"""A pytest plugin for ``make test``: how nbval's notebook cells are judged and waited for.

**A cell that writes to stderr fails, as it shows in JupyterLab.** nbval's ``--nbval-lax``
runs every cell and fails only on an exception; it does not look at what a cell printed. In
JupyterLab, anything a cell writes to stderr (a Python warning, a C++ log line of
TensorFlow's) shows as a red box that a learner reads as a failure, and the browser
test (``make test-browser``) fails on it -- but only after ``make test``, and only where
Chromium is installed. This plugin makes ``make test`` and ``make test-notebook`` fail on the
same thing, naming the cell and the text: the notebooks silence only specific, understood
warnings, so any stderr output is something new.

**nbval waits longer for a cell's last outputs.** After the kernel replies that a cell is done,
nbval reads the cell's outputs and gives up when none arrives for 5 seconds (a constant,
``IPyNbCell.output_timeout``, no option), failing the cell and every cell after it. That
happened once on this project's 2-core machine, in a fresh-clone ``.ci/run`` (2026-12-06),
after notebook 04's reference models had trained for 868 s; the cause was not pinned down
(30 000 display updates sent at once reproduce the failure, 1 500 spread over 150 s do not).
:data:`OUTPUT_TIMEOUT` replaces the 5 s; a cell that hangs before its reply is still stopped
by ``--nbval-cell-timeout``.

Loaded with ``-p mlprivacy_build.pytest_nbval_cells``; it changes only nbval's cell items.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any

import pytest

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
