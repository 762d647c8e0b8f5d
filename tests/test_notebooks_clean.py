"""Committed notebooks carry no outputs and follow the series' skeleton."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = (
    "01_differential_privacy_basics.ipynb",
    "02_membership_inference_cifar10.ipynb",
    "03_model_inversion_mnist.ipynb",
)


def test_the_three_notebooks_exist():
    missing = [n for n in EXPECTED if not (ROOT / "notebooks" / n).is_file()]
    assert not missing, f"missing notebooks: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} store outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_one_parameters_cell_and_saves_results(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one 'parameters'-tagged cell"
    assert tagged[0].cell_type == "code"
    assert "get_profile()" in tagged[0].source and "get_seed()" in tagged[0].source
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "save_results(" in code[-1], f"{path.name}: the last code cell must save results"
    assert "sys.path" not in "\n".join(code), f"{path.name}: import the installed package"
