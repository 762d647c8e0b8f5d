"""Committed notebooks carry no outputs and follow the series' skeleton."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mlprivacy_build import check_notebooks_clean

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = (
    "01_differential_privacy_basics.ipynb",
    "02_membership_inference_cifar10.ipynb",
    "03_model_inversion_mnist.ipynb",
    "04_auditing_membership_inference.ipynb",
    "05_memorization_secret_sharer.ipynb",
)


def test_the_series_notebooks_exist():
    missing = [n for n in EXPECTED if not (ROOT / "notebooks" / n).is_file()]
    assert not missing, f"missing notebooks: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    dirty = check_notebooks_clean.dirty_cells(path)
    assert not dirty, f"{path.name}: cells {dirty} store outputs; clear them before committing"


def test_the_pre_commit_checker_refuses_outputs(tmp_path):
    clean = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    dirty = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("text"),
            nbformat.v4.new_code_cell(
                "1 + 1",
                execution_count=1,
                outputs=[
                    nbformat.v4.new_output(
                        "execute_result", data={"text/plain": "2"}, execution_count=1
                    )
                ],
            ),
        ]
    )
    nbformat.write(clean, tmp_path / "clean.ipynb")
    nbformat.write(dirty, tmp_path / "dirty.ipynb")
    assert check_notebooks_clean.dirty_cells(tmp_path / "dirty.ipynb") == [1]

    def run(*names):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "mlprivacy_build.check_notebooks_clean",
                *(str(tmp_path / n) for n in names),
            ],
            capture_output=True,
            text=True,
        )

    assert run("clean.ipynb").returncode == 0
    refused = run("clean.ipynb", "dirty.ipynb")
    assert refused.returncode == 1
    assert "dirty.ipynb: cells [1] store outputs" in refused.stdout
    assert "clean.ipynb" not in refused.stdout


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_one_parameters_cell_and_saves_results(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one 'parameters'-tagged cell"
    assert tagged[0].cell_type == "code"
    # Plain assignments of literals only: papermill injects its overrides in a cell after this
    # one, so anything computed here (sizes from the profile, say) would ignore them.
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign | ast.AnnAssign), (
            f"{path.name}: the parameters cell may only assign, found {ast.dump(node)[:80]}"
        )
        try:
            ast.literal_eval(node.value)
        except ValueError:
            pytest.fail(
                f"{path.name}: parameters must be literals; derive "
                f"{ast.unparse(node)!r} in the next cell"
            )
    names = {t.id for n in ast.parse(tagged[0].source).body for t in getattr(n, "targets", [])}
    assert {"PROFILE", "SEED"} <= names, f"{path.name}: PROFILE and SEED must be parameters"
    # (The last cell's save_results call is checked against the results schema in test_results.)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        for node in ast.walk(ast.parse(cell.source)):
            is_sys_path = (
                isinstance(node, ast.Attribute)
                and node.attr == "path"
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            )
            assert not is_sys_path, f"{path.name}: import the installed package, not sys.path"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
@pytest.mark.parametrize(
    "environment, injected, expected",
    [
        ({"MLPRIVACY_PROFILE": " Quick ", "MLPRIVACY_SEED": "3"}, "", ("quick", 3)),
        ({}, "", ("full", 0)),
        # papermill's overrides come in a cell right after the parameters cell, and win.
        ({"MLPRIVACY_PROFILE": "full"}, "PROFILE = 'quick'\nSEED = 7", ("quick", 7)),
    ],
)
def test_profile_and_seed_come_from_the_parameters_or_the_environment(
    path, environment, injected, expected, monkeypatch, capsys
):
    # The parameters cell and the cell after it, run as a learner or papermill would run them.
    nb = nbformat.read(path, as_version=4)
    (index,) = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    for name in ("MLPRIVACY_PROFILE", "MLPRIVACY_SEED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    namespace: dict = {}
    exec("from mlprivacy_helpers import config", namespace)
    for source in (nb.cells[index].source, injected, nb.cells[index + 1].source):
        exec(source, namespace)
    assert (namespace["PROFILE"], namespace["SEED"]) == expected
    assert f"profile={expected[0]}" in capsys.readouterr().out.replace(" ", "")
