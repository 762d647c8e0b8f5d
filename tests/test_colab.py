"""Colab: one repository URL, the links built from it, and the setup cell (mlprivacy_build.colab).

`make test-colab` runs notebooks 01 and 02 in a Colab-like venv; these are the quick checks."""

from __future__ import annotations

import os
import re
import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from mlprivacy_build import colab, pages

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_link_and_setup_cell_is_built_from_the_one_url():
    assert colab.stale() == []
    url = colab.repository_url()
    assert url == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"][
        "Repository"
    ].rstrip("/")
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        link = colab.colab_url(path.name)
        assert link.startswith("https://colab.research.google.com/github/")
        assert link.endswith(f"/blob/main/notebooks/{path.name}")
        assert link in readme
        nb = nbformat.read(path, as_version=4)
        assert link in nb.cells[0].source
        assert next(c for c in nb.cells if c.cell_type == "code").source == colab.setup_cell()


def test_another_url_changes_every_link(tmp_path):
    other = "https://github.com/someone/fork"
    assert colab.colab_url("02_x.ipynb", other) == (
        "https://colab.research.google.com/github/someone/fork/blob/main/notebooks/02_x.ipynb"
    )
    assert "git+https://github.com/someone/fork@main" in colab.setup_cell(other)
    assert set(colab.stale(other)) == {
        *(str(p.relative_to(ROOT)) for p in NOTEBOOKS),
        "README.md",
    }
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[project.urls]\nRepository = "https://gitlab.com/a/b"\n')
    with pytest.raises(ValueError, match="github.com"):
        colab.repository_url(bad)
    with pytest.raises(ValueError, match="file name"):
        colab.colab_url("notebooks/02_x.ipynb")


def run_setup_cell(monkeypatch, on_colab: bool) -> list[list[str]]:
    """Execute the setup cell with subprocess.run recorded; return the commands it ran."""
    calls: list[list[str]] = []

    def fake_run(command, **kwargs):
        calls.append(list(command))
        return types.SimpleNamespace(returncode=0, stdout="", stderr="")

    monkeypatch.setattr("subprocess.run", fake_run)
    monkeypatch.delenv("MLPRIVACY_PROFILE", raising=False)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(colab.setup_cell(), "setup-cell", "exec"), {})
    return calls


def test_outside_colab_the_setup_cell_does_nothing(monkeypatch):
    assert run_setup_cell(monkeypatch, on_colab=False) == []
    assert "MLPRIVACY_PROFILE" not in os.environ


def test_on_colab_it_installs_the_lock_versions_and_tf_privacy_without_its_caps(monkeypatch):
    first, second = run_setup_cell(monkeypatch, on_colab=True)
    assert os.environ["MLPRIVACY_PROFILE"] == "quick"
    assert first[:4] == [sys.executable, "-m", "pip", "install"] and "--no-deps" not in first
    lock = colab._pins(ROOT / "requirements-lock.txt")
    assert first[-1] == f"adversarial-robustness-toolbox=={lock['adversarial-robustness-toolbox']}"
    assert "--no-deps" in second and "--ignore-requires-python" in second
    assert second[-3:] == [
        f"dp-accounting=={lock['dp-accounting']}",
        "tensorflow-privacy==0.8.12",
        colab.package_source(),
    ]


def colab_runtime() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "mlprivacy_build" / "colab_runtime.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_colabs_runtime_satisfies_the_package_so_pip_changes_nothing_there():
    """What Colab has must meet the package's ranges; what it lacks the setup cell names."""
    runtime = colab_runtime()
    assert runtime["tensorflow"].startswith("2.20") and runtime["numpy"] == "2.1.3"
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in dependencies:
        req = Requirement(text)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in runtime:
            assert Version(runtime[name]) in req.specifier, (name, runtime[name], text)
        else:
            assert name in colab.WITH_DEPS + colab.LOCK_NO_DEPS, (
                f"Colab lacks {name}; the setup cell must install it"
            )
    for name in colab.WITH_DEPS + colab.LOCK_NO_DEPS:
        assert name not in runtime


def test_the_notebooks_version_checks_accept_colab():
    runtime = colab_runtime()
    checked = 0
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells[:6]:
            match = re.search(r"check_versions\(\s*(\{.*?\})\s*\)", cell.source, re.S)
            if match:
                for name, spec in eval(match.group(1)).items():  # a dict literal
                    if name in runtime:
                        assert Version(runtime[name]) in Requirement(f"x{spec}").specifier
                        checked += 1
    assert checked >= 8


def test_the_landing_page_links_each_notebook_to_colab():
    ov = pages.NotebookOverview("A")
    page = pages.landing_page(
        [{"stem": "02_membership_inference_cifar10", "html": "02.html", "overview": ov}],
        {"profile": "quick", "seed": "0", "executed": "now"},
    )
    assert f'href="{colab.colab_url("02_membership_inference_cifar10.ipynb")}"' in page


def test_the_overview_skips_the_colab_line():
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    overview = pages.notebook_overview(nb, "x")
    assert colab.LINK_TEXT not in overview.summary and overview.summary
