"""Run each solved notebook once per seed and print a table per notebook (``make test-seeds``).

Every assertion a notebook makes must hold on any seed, not only on the seed ``make test``
uses. For each seed (default 0-9) and each notebook this runs the solved notebook top to
bottom in the quick profile with ``MLPRIVACY_SEED`` set, each seed with its own empty model
cache (so no seed reuses another's models), and records its key numbers (the landing page's,
``pages.py``), its time and pass/fail with the failing cell's first error line.
It stops neither at the first failure nor silently: every run is attempted, then one table
per notebook is printed (a row per seed) and the exit status is 1 if any run failed.

Each run's outcome is kept in ``OUT/seed-N/<notebook>.status.json`` beside the executed
notebook and its results JSON, and the tables are also written to ``OUT/tables.md``.
``--report`` prints the tables from the outcomes already there, without running or writing
anything (e.g. after sweeping one notebook at a time, or of the runs recorded in
``tests/measured_runs/seeds``).

``--ranges`` prints, per notebook, each number of its results with its minimum and maximum
over the seeds that passed: the ranges the notebooks' prose quotes.

Usage: mlprivacy-seeds [NOTEBOOK ...] [--seeds 0 1 2 ...] [--out build/seeds]
       [--report | --ranges]   (notebooks first: --seeds takes every number after it)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from mlprivacy_build import check_results, pages

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_SEEDS = tuple(range(10))
PROFILE = "quick"
#: TensorFlow's kernels for the numbers of `make test`, the seed sweep, the machine variants and
#: the planted regressions: oneDNN off (Eigen's kernels), unless TF_ENABLE_ONEDNN_OPTS is set.
#: TensorFlow turns oneDNN on by default only on CPUs with AVX-512 VNNI/BF16 or AMX (recent
#: Intel Xeons), so without this an AMD or older Intel CPU and such a Xeon run other kernels
#: and train other models (#28; README.md, Tests).
NUMBERS_ENV = {"TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "0")}


def first_error(nb: nbformat.NotebookNode) -> str:
    """Return "cell N: Name: message" (first line) of the first error output in ``nb``.

    ``N`` counts code cells from 1, as the progress lines of ``make run`` do; an empty
    string when no cell stored an error.
    """
    code_index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code_index += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = (str(output.get("evalue", "")).strip().splitlines() or [""])[0]
                return f"cell {code_index}: {output.get('ename', 'Error')}: {message}"[:300]
    return ""


def machine() -> dict[str, Any]:
    """Return what a run's numbers may depend on besides the code: the CPU's model, the
    instruction sets that change TensorFlow's, NumPy's and OpenBLAS's kernels, the core count,
    the OS, Python's and TensorFlow's versions (``""`` where unknown)."""
    import platform
    from importlib import metadata

    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name" and not model:
                model = value.strip()
            elif name.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:  # not Linux
        model = platform.processor()
    try:
        tensorflow = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        tensorflow = ""
    isa = ["avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile"]
    return {
        "cpu": model,
        "isa": [f for f in isa if f in flags],
        "cores": os.cpu_count(),
        "os": platform.system(),
        "python": platform.python_version(),
        "tensorflow": tensorflow,
    }


def run_one(
    path: Path,
    seed: int,
    out: Path,
    timeout: int,
    extra_env: dict[str, str] | None = None,
    run_dir: Path | None = None,
) -> dict[str, Any]:
    """Run notebook ``path`` with ``seed`` in the quick profile; return its outcome.

    The outcome (also written to ``out/seed-<seed>/<stem>.status.json``, or ``run_dir``'s
    when given) holds ``seed``, ``notebook``, ``passed``, ``error`` (see :func:`first_error`),
    ``seconds``, ``finished`` (UTC), ``machine`` (:func:`machine`) and ``results`` (the
    notebook's results JSON, or None when it did not get that far). ``extra_env`` adds
    variables to the kernel's environment (the machine variants of ``mlprivacy-variants``).
    """
    seed_dir = run_dir if run_dir is not None else out / f"seed-{seed}"
    results_dir = seed_dir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{path.stem}.json").unlink(missing_ok=True)
    cache = seed_dir / "model-cache"  # empty at the start of each seed, see sweep()
    env = {
        **NUMBERS_ENV,
        "MLPRIVACY_PROFILE": PROFILE,
        "MLPRIVACY_SEED": str(seed),
        "MLPRIVACY_CACHE": str(cache),
        "MLPRIVACY_RESULTS": str(results_dir),
        **(extra_env or {}),
    }
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    error = ""
    with mock.patch.dict(os.environ, env):  # the kernel inherits this process's environment
        try:
            client.execute()
        except CellExecutionError:
            error = first_error(nb) or "a cell failed"
        except Exception as exc:  # a dead kernel or a timeout must not stop the sweep
            error = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"[:300]
    seconds = time.perf_counter() - start
    nbformat.write(nb, seed_dir / path.name)
    results_file = results_dir / f"{path.stem}.json"
    outcome = {
        "seed": seed,
        "notebook": path.stem,
        # What the numbers came from, so that `make update-expected` refuses stale runs.
        "fingerprints": check_results.fingerprints(),
        "passed": not error,
        "error": error,
        "seconds": round(seconds, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "results": json.loads(results_file.read_text()) if results_file.is_file() else None,
    }
    (seed_dir / f"{path.stem}.status.json").write_text(json.dumps(outcome, indent=2) + "\n")
    return outcome


def sweep(paths: Sequence[Path], seeds: Sequence[int], out: Path, timeout: int) -> None:
    """Run every notebook in ``paths`` for every seed, seed by seed, printing progress."""
    for seed in seeds:
        cache = out / f"seed-{seed}" / "model-cache"
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        try:
            for path in paths:
                print(f"==> seed {seed}: {path.name} ...", flush=True)
                outcome = run_one(path, seed, out, timeout)
                verdict = "passed" if outcome["passed"] else f"FAILED ({outcome['error']})"
                print(f"    {outcome['seconds']:.0f} s, {verdict}", flush=True)
        finally:
            shutil.rmtree(cache, ignore_errors=True)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def tables(paths: Sequence[Path], seeds: Sequence[int], out: Path) -> tuple[str, bool]:
    """Return the Markdown tables (one per notebook, a row per seed) and whether all passed.

    A seed with no recorded outcome for a notebook counts as failed ("not run").
    """
    parts = []
    all_passed = True
    for path in paths:
        outcomes = {}
        for seed in seeds:
            status = out / f"seed-{seed}" / f"{path.stem}.status.json"
            outcomes[seed] = json.loads(status.read_text()) if status.is_file() else None
        labels: list[str] = []
        for outcome in outcomes.values():
            for label, _ in pages.key_numbers(path.stem, (outcome or {}).get("results")):
                if label not in labels:
                    labels.append(label)
        header = ["seed", "result", "seconds", *labels]
        rows = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
        passed = 0
        for seed, outcome in outcomes.items():
            if outcome is None:
                all_passed = False
                cells = [str(seed), "not run", "", *[""] * len(labels)]
            else:
                numbers = dict(pages.key_numbers(path.stem, outcome.get("results")))
                verdict = "pass" if outcome["passed"] else f"FAIL: {outcome['error']}"
                passed += bool(outcome["passed"])
                all_passed &= bool(outcome["passed"])
                cells = [str(seed), verdict, f"{outcome['seconds']:.0f}"]
                cells += [numbers.get(label, "") for label in labels]
            rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        title = f"### {path.stem} (profile {PROFILE}): {passed} of {len(seeds)} seeds passed"
        parts.append("\n".join([title, "", *rows, ""]))
    return "\n".join(parts), all_passed


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def ranges(paths: Sequence[Path], seeds: Sequence[int], out: Path) -> str:
    """Return a Markdown table per notebook: each number of its results JSON (flattened as
    ``check_results.flatten`` does; a list entry by entry, ``key[i]``) with its minimum and
    maximum over the given seeds whose run passed, and which seeds gave them — the ranges the
    notebooks' prose quotes. Strings are left out; a number that is the same on every seed shows
    once."""
    parts = []
    for path in paths:
        runs: dict[int, dict[str, Any]] = {}
        for seed in seeds:
            status = out / f"seed-{seed}" / f"{path.stem}.status.json"
            if status.is_file():
                outcome = json.loads(status.read_text())
                if outcome.get("passed") and outcome.get("results") is not None:
                    runs[seed] = check_results.flatten(outcome["results"])
        title = f"### {path.stem}: ranges over seeds {', '.join(map(str, runs)) or '(none passed)'}"
        rows = [title, "", "| key | min | max | seed of min / max |", "|---|---|---|---|"]
        columns: dict[str, dict[int, float]] = {}
        for seed, flat in runs.items():
            for key, value in flat.items():
                values = value if isinstance(value, list) else [value]
                for i, v in enumerate(values):
                    if isinstance(v, bool) or not isinstance(v, int | float):
                        continue
                    name = f"{key}[{i}]" if isinstance(value, list) else key
                    columns.setdefault(name, {})[seed] = float(v)
        for name, by_seed in columns.items():
            lo = min(by_seed, key=by_seed.__getitem__)
            hi = max(by_seed, key=by_seed.__getitem__)
            if by_seed[lo] == by_seed[hi]:
                rows.append(f"| {name} | {_fmt(by_seed[lo])} | (same) | |")
            else:
                rows.append(f"| {name} | {_fmt(by_seed[lo])} | {_fmt(by_seed[hi])} | {lo} / {hi} |")
        parts.append("\n".join([*rows, ""]))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb in order")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "seeds")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument(
        "--report", action="store_true", help="print the tables of the runs already in OUT"
    )
    parser.add_argument(
        "--ranges",
        action="store_true",
        help="print each result's min and max over the seeds already in OUT (runs nothing)",
    )
    args = parser.parse_args(argv)
    paths = [Path(p).resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 2
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        print(f"--seeds must be distinct non-negative integers, got {args.seeds}", file=sys.stderr)
        return 2
    out = args.out.resolve()
    if args.ranges:
        print(ranges(paths, args.seeds, out))
        return 0
    if not args.report:
        sweep(paths, args.seeds, out, args.timeout)
    text, all_passed = tables(paths, args.seeds, out)
    where = ""
    if not args.report:  # a report only reads (tests/measured_runs/ holds runs, nothing else)
        out.mkdir(parents=True, exist_ok=True)
        (out / "tables.md").write_text(text)
        where = f"; tables in {out}"
    print(text)
    print(f"==> {'every seed passed' if all_passed else 'SOME SEEDS FAILED'}{where}")
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
