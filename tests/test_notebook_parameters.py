"""Papermill-style overrides are honoured: the injected parameters decide the run.

Papermill inserts a cell with the overrides right after the `parameters` cell. The test does
the same with nbformat and runs notebook 01 (NumPy only, seconds) with MLPRIVACY_PROFILE=full
in the environment but `PROFILE = "quick"` injected: the results must record the quick
profile and the quick sample size, and the injected seed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_differential_privacy_basics.ipynb"
QUICK_SAMPLES_PER_CHECK = 1_000_000  # the quick profile's size in notebook 01, as documented


def with_injected_parameters(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """Return a copy of `nb` with a cell `source` inserted after the parameters cell."""
    nb = nbformat.from_dict(nb)
    where = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(where + 1, injected)
    return nb


def test_injected_profile_and_seed_win_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MLPRIVACY_PROFILE", "full")
    monkeypatch.setenv("MLPRIVACY_SEED", "0")
    results_dir = Path(os.environ["MLPRIVACY_RESULTS"])  # a fresh folder (conftest.py)
    nb = with_injected_parameters(
        nbformat.read(NOTEBOOK, as_version=4), 'PROFILE = "quick"\nSEED = 3'
    )
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    saved = json.loads((results_dir / "01_differential_privacy_basics.json").read_text())
    assert saved["profile"] == "quick"
    assert saved["seed"] == 3
    assert saved["n_samples"] == QUICK_SAMPLES_PER_CHECK
