"""Execute the tutorial notebooks in order and render them to HTML (``make run``).

Writes ``build/executed/<name>.ipynb``, ``build/html/<name>.html``, the landing page
``build/html/index.html`` and the JavaScript the pages need offline (``build/html/_static/``,
see pages.py); the notebooks themselves write ``build/results/<name>.json``. The
landing page lists every notebook rendered so far (a run of one notebook keeps the others'
pages, times and numbers; times are kept in ``build/run-times.json``).
The source notebooks in ``notebooks/`` are never modified. Progress (one line per cell)
is printed while a notebook runs. The profile, seed and results folder are read as the
notebooks read them (``config.get_profile``, ``config.get_seed``, ``results.results_dir``:
``MLPRIVACY_PROFILE`` or a settings file, default ``full``).

Usage: mlprivacy-run [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from mlprivacy_build import pages
from mlprivacy_helpers import config, results

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
RUN_TIMES = BUILD / "run-times.json"


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


def write_index(profile: str, results_dir: Path) -> Path:
    """Write the landing page build/html/index.html for every notebook with a rendered page."""
    times = json.loads(RUN_TIMES.read_text()) if RUN_TIMES.is_file() else {}
    entries = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if not (BUILD / "html" / f"{path.stem}.html").is_file():
            continue
        run = times.get(path.stem, {})
        entries.append(
            {
                "stem": path.stem,
                "html": f"{path.stem}.html",
                "overview": pages.notebook_overview(nbformat.read(path, as_version=4), path.stem),
                "results": pages.read_results(results_dir, path.stem),
                "seconds": run.get("seconds"),
                "error": run.get("error"),
                "profile": run.get("profile"),
            }
        )
    run_info = {
        "profile": profile,
        "seed": str(config.get_seed()),
        "executed": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    index = BUILD / "html" / "index.html"
    index.write_text(pages.landing_page(entries, run_info))
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
    profile = config.get_profile()  # as the notebooks read it (variable or settings file)
    (BUILD / "executed").mkdir(parents=True, exist_ok=True)
    (BUILD / "html").mkdir(parents=True, exist_ok=True)
    try:
        pages.copy_offline_assets(BUILD / "html")
    except pages.MissingAssetsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    exporter = pages.offline_exporter()
    results_dir = results.results_dir()
    times = json.loads(RUN_TIMES.read_text()) if RUN_TIMES.is_file() else {}
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
        entries.append({"html": html_name, "seconds": seconds, "error": error})
        times[path.stem] = {"seconds": round(seconds, 1), "error": error, "profile": profile}
        RUN_TIMES.write_text(json.dumps(times, indent=2, sort_keys=True) + "\n")
    index = write_index(profile, results_dir)
    summary = {e["html"]: round(e["seconds"], 1) for e in entries}
    print(f"==> wrote {index} ; seconds per notebook: {json.dumps(summary)}")
    return 0 if all(e["error"] is None for e in entries) else 1


if __name__ == "__main__":
    sys.exit(main())
