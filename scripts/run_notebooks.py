"""Execute the tutorial notebooks in order and render them to HTML (``make run``).

Writes ``build/executed/<name>.ipynb``, ``build/html/<name>.html`` and
``build/html/index.html``; the notebooks themselves write ``build/results/<name>.json``.
The source notebooks in ``notebooks/`` are never modified. Progress (one line per cell)
is printed while a notebook runs. The profile comes from ``MLPRIVACY_PROFILE``
(default ``full``).

Usage: python scripts/run_notebooks.py [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def execute(path: Path, timeout: int) -> tuple[nbformat.NotebookNode, float, str | None]:
    """Run one notebook top to bottom; return (executed notebook, seconds, error or None)."""
    nb = nbformat.read(path, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in nb.cells)
    state = {"done": 0, "start": 0.0}

    def on_cell_start(cell, cell_index):  # noqa: ARG001 - nbclient hook signature
        state["start"] = time.perf_counter()

    def on_cell_executed(cell, cell_index, execute_reply):  # noqa: ARG001
        if cell.cell_type != "code":
            return
        state["done"] += 1
        first = (cell.source.strip().splitlines() or [""])[0][:60]
        took = time.perf_counter() - state["start"]
        print(f"  [{state['done']:>3}/{code_cells}] {took:6.1f} s  {first}", flush=True)

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc).splitlines()[-1] if str(exc) else type(exc).__name__
    return nb, time.perf_counter() - start, error


def write_index(entries: list[dict], profile: str) -> Path:
    """Write build/html/index.html linking the rendered notebooks in order."""
    rows = []
    for e in entries:
        status = "ok" if e["error"] is None else f"FAILED: {html.escape(e['error'])}"
        rows.append(
            f'<li><a href="{e["html"]}">{html.escape(e["title"])}</a> '
            f"&mdash; {e['seconds']:.0f} s, {status}</li>"
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>ML privacy tutorials</title></head><body>"
        "<h1>ML privacy tutorials: executed notebooks</h1>"
        f"<p>Profile: <b>{html.escape(profile)}</b>, seed "
        f"{html.escape(os.environ.get('MLPRIVACY_SEED', '0') or '0')}, executed "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}. Key numbers are in build/results/.</p>"
        f"<ol>{''.join(rows)}</ol></body></html>\n"
    )
    index = BUILD / "html" / "index.html"
    index.write_text(page)
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb in order")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)

    paths = [Path(p).resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    profile = os.environ.get("MLPRIVACY_PROFILE") or "full"
    (BUILD / "executed").mkdir(parents=True, exist_ok=True)
    (BUILD / "html").mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    entries = []
    for i, path in enumerate(paths, 1):
        print(f"==> [{i}/{len(paths)}] {path.name} (profile {profile})", flush=True)
        nb, seconds, error = execute(path, args.timeout)
        nbformat.write(nb, BUILD / "executed" / path.name)
        body, _ = exporter.from_notebook_node(nb)
        html_name = path.with_suffix(".html").name
        (BUILD / "html" / html_name).write_text(body)
        outcome = "ok" if error is None else f"FAILED ({error})"
        print(f"    {path.name}: {seconds:.1f} s, {outcome}", flush=True)
        entries.append(
            {
                "title": _title(nb, path.stem),
                "html": html_name,
                "seconds": seconds,
                "error": error,
            }
        )
    index = write_index(entries, profile)
    summary = {e["html"]: round(e["seconds"], 1) for e in entries}
    print(f"==> wrote {index} ; seconds per notebook: {json.dumps(summary)}")
    return 0 if all(e["error"] is None for e in entries) else 1


if __name__ == "__main__":
    sys.exit(main())
