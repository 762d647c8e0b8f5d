"""Google Colab: the "Open in Colab" links and each notebook's Colab setup cell, from one URL.

The repository's address is kept in one place, ``[project.urls] Repository`` in
pyproject.toml. From it this module builds

* each notebook's Colab address, ``https://colab.research.google.com/github/OWNER/REPO/blob/
  BRANCH/notebooks/NAME.ipynb``, linked from the README's table, the landing page and the
  notebook's own header (a plain link: a badge image would be fetched from the network by the
  offline pages);
* the setup cell, the first code cell of every notebook: on Colab (``google.colab`` is
  imported in Colab's kernels) it installs exactly what Colab's runtime lacks, at the lock's
  versions: IBM ART with dependency resolution (all of its dependencies are there, so pip adds
  nothing), then dp-accounting, TF Privacy and the series' helper package from the repository
  without their declared dependencies (dp-accounting declares attrs<24, TF Privacy see
  requirements-no-deps.txt; tests/test_colab.py checks that Colab has everything else the
  helper package declares); then it selects the quick profile. Anywhere else it does nothing.

``mlprivacy-colab --write`` puts the current link and cell into the notebooks and the README;
``--check`` (run by tests/test_colab.py) fails if any of them is out of date.
``mlprivacy-test-colab`` (``make test-colab``) runs notebooks 01 and 02 in a Colab-like
environment (mlprivacy_build/colab_runtime.txt) through the setup cell.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "main"
NOTEBOOKS = ROOT / "notebooks"
# What the setup cell installs from the lock with pip's dependency resolution (pip adds nothing
# Colab has: IBM ART's dependencies are all there), and what without it: dp-accounting 0.6.0
# declares attrs<24 and Colab has attrs 26.1.0, which pip would downgrade (a restart prompt),
# also when it resolves the helper package, which depends on dp-accounting; so those two, and
# TF Privacy (requirements-no-deps.txt), go in without their declared dependencies. Their code
# runs on Colab's versions: `make test-colab` runs notebooks 01 and 02 so, and
# tests/test_colab.py checks that Colab has everything else the helper package declares.
WITH_DEPS = ("adversarial-robustness-toolbox",)
LOCK_NO_DEPS = ("dp-accounting",)
PACKAGE = "mlprivacy-helpers"
SETUP_MARKER = "# Google Colab only:"
LINK_TEXT = "Open in Colab"


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """Return ``[project.urls] Repository`` of pyproject.toml, without a trailing slash.

    Raises ``ValueError`` unless it is a ``https://github.com/OWNER/REPO`` address (Colab
    opens notebooks from GitHub)."""
    url = tomllib.loads(pyproject.read_text())["project"]["urls"]["Repository"].rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"Repository must be https://github.com/OWNER/REPO, got {url!r}")
    return url


def colab_url(notebook: str, url: str | None = None) -> str:
    """Return the address that opens ``notebook`` (a file name in notebooks/) in Colab."""
    if not re.fullmatch(r"\d\d_[\w-]+\.ipynb", notebook):
        raise ValueError(f"notebook must be a file name like 02_name.ipynb, got {notebook!r}")
    owner_repo = (url or repository_url()).removeprefix("https://github.com/")
    return (
        f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/notebooks/{notebook}"
    )


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def package_source(url: str | None = None) -> str:
    """Return the pip requirement that installs the helper package from the repository."""
    return f"{PACKAGE} @ git+{url or repository_url()}@{BRANCH}"


def setup_cell(url: str | None = None) -> str:
    """Return the source of the Colab setup cell, with the lock's versions."""
    lock = _pins(ROOT / "requirements-lock.txt")
    no_deps = _pins(ROOT / "requirements-no-deps.txt")
    with_deps = [f"{name}=={lock[name]}" for name in WITH_DEPS]
    without = [
        *(f"{name}=={lock[name]}" for name in LOCK_NO_DEPS),
        *(f"{name}=={version}" for name, version in no_deps.items()),
        package_source(url),
    ]
    listed = "".join(f'        "{p}",\n' for p in without)
    return f"""{SETUP_MARKER} install what its runtime lacks, at the versions this series is
# tested with: IBM ART, then dp-accounting, TF Privacy and the series' helper package without
# their declared dependencies (stale caps that would downgrade Colab's own packages; see
# requirements-no-deps.txt), and use the quick profile. Elsewhere this cell does nothing:
# `make lab` (or `make venv`) has installed everything.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    PACKAGES = [{", ".join(f'"{p}"' for p in with_deps)}]
    NO_DEPS = [
{listed}    ]
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    for command in (
        [*pip, *PACKAGES],
        [*pip, "--no-deps", "--ignore-requires-python", *NO_DEPS],
    ):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{{' '.join(command)}} failed:\\n{{done.stdout}}{{done.stderr}}")
    os.environ.setdefault("MLPRIVACY_PROFILE", "quick")"""


def header_link(notebook: str, url: str | None = None) -> str:
    """Return the Markdown line the notebook's first cell carries under its title."""
    return (
        f"[{LINK_TEXT}]({colab_url(notebook, url)}) — runs there top to bottom after its first "
        "code cell installs what Colab lacks (quick profile)."
    )


def _with_link(title_cell: str, link: str) -> str:
    lines = title_cell.split("\n")
    lines = [line for line in lines if not line.startswith(f"[{LINK_TEXT}](")]
    while len(lines) > 1 and lines[1] == "":
        del lines[1]
    return "\n".join([lines[0], "", link, "", *lines[1:]])


def update_notebook(path: Path, url: str | None = None) -> bool:
    """Put the current header link and setup cell into the notebook at ``path``; return
    whether anything changed. The setup cell goes before the first code cell (or replaces a
    setup cell already there)."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    nb.cells[0].source = _with_link(nb.cells[0].source, header_link(path.name, url))
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    cell = setup_cell(url)
    if nb.cells[code[0]].source.startswith(SETUP_MARKER):
        nb.cells[code[0]].source = cell
    else:
        nb.cells.insert(code[0], nbformat.v4.new_code_cell(cell))
    after = nbformat.writes(nb)
    if after != before:
        nbformat.write(nb, path)
    return after != before


def readme_links(text: str, url: str | None = None) -> str:
    """Return README text whose notebook table rows end with their current Colab link."""

    def fix(match: re.Match[str]) -> str:
        row, name = match.group(1), match.group(2)
        row = re.sub(rf" \[{LINK_TEXT}\]\([^)]*\) \|$", "", row.rstrip()).rstrip(" |")
        return f"{row} | [{LINK_TEXT}]({colab_url(name, url)}) |"

    return re.sub(
        r"^(\| \d\d \| \[[^]]+\]\(notebooks/(\d\d_[\w-]+\.ipynb)\).*)$", fix, text, flags=re.M
    )


def stale(url: str | None = None) -> list[str]:
    """Return the files whose Colab link or setup cell is not the current one."""
    out = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = next(c for c in nb.cells if c.cell_type == "code")
        if header_link(path.name, url) not in nb.cells[0].source or code.source != setup_cell(url):
            out.append(str(path.relative_to(ROOT)))
    readme = (ROOT / "README.md").read_text()
    if readme_links(readme, url) != readme:
        out.append("README.md")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="update notebooks and README")
    mode.add_argument("--check", action="store_true", help="fail if any is out of date")
    args = parser.parse_args(argv)
    if args.check:
        out = stale()
        for name in out:
            print(f"{name}: Colab link or setup cell out of date (run mlprivacy-colab --write)")
        return 1 if out else 0
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if update_notebook(path):
            print(f"updated {path.relative_to(ROOT)}")
    readme = ROOT / "README.md"
    text = readme.read_text()
    if readme_links(text) != text:
        readme.write_text(readme_links(text))
        print("updated README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
