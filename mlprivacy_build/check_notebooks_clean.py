"""Refuse notebooks that store outputs (the pre-commit hook and tests/test_notebooks_clean.py).

Committed notebooks carry no outputs and no execution counts: outputs hold numbers of one
machine's run, make diffs unreadable and can leak paths. Exit status 1 lists every
offending notebook and its cells; 0 when all are clean.

Usage: mlprivacy-check-clean NOTEBOOK.ipynb [...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def dirty_cells(path: str | Path) -> list[int]:
    """Return the indices of ``path``'s code cells that store outputs or an execution count."""
    nb = nbformat.read(str(path), as_version=4)
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]


def main(argv: list[str] | None = None) -> int:
    """Check the notebooks named in ``argv``; print the dirty ones; return the exit status."""
    status = 0
    for name in sys.argv[1:] if argv is None else argv:
        dirty = dirty_cells(name)
        if dirty:
            status = 1
            print(
                f"{name}: cells {dirty} store outputs; clear them before committing "
                f"(jupyter nbconvert --clear-output --inplace {name})"
            )
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
