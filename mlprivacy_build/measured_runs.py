"""Keep the seed and variant runs that the baseline's tolerances come from: `make record-runs`.

`make update-expected` derives each key's spread from the seed sweep (seeds 0-9) and the machine
variants (`mlprivacy_build/check_results.py`). On a 2-core laptop a sweep of notebooks 02-04 takes
about half an hour per seed: more than one sitting, and ``build/`` is neither committed nor kept
from one machine to the next. So that a sweep done in parts, on several days or machines, adds
up, `mlprivacy-record-runs` copies each finished run out of ``build/`` into the committed folder
``tests/measured_runs/``, in the layout that `mlprivacy-seeds` and `mlprivacy-variants` write, so
that the same tools read it::

    tests/measured_runs/seeds/seed-N/<notebook>.status.json    (seed, pass, seconds, fingerprints,
    tests/measured_runs/seeds/seed-N/results/<notebook>.json    machine; and the results)
    tests/measured_runs/variants/NAME/...                       (the same, per machine variant)

The executed notebooks and model caches stay in ``build/``. Only a run that passed and ran this
checkout's code cells and lock is recorded (a failed run measured no spread; a run of other code
measured other numbers); a newer run of the same seed (or variant) and notebook replaces the
recorded one. When a notebook's code cells or the lock change, its recorded runs go stale:
`make update-expected` refuses them (``check_results.stale_runs``) and ``--prune`` removes them,
so that the sweep is run again. ``mlprivacy-seeds --report --out tests/measured_runs/seeds``
prints their tables.

Usage: mlprivacy-record-runs [--seeds DIR ...] [--variants DIR ...] [--prune] [--to DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlprivacy_build import check_results

ROOT = Path(__file__).resolve().parents[1]
MEASURED_RUNS = ROOT / "tests" / "measured_runs"
KINDS = ("seeds", "variants")


def _why_not(status: Mapping, result: Path, now: Mapping[str, str]) -> str:
    """Return why a run must not be recorded ("" when it may be)."""
    if not status.get("passed"):
        return f"it failed ({status.get('error', '')})"
    if not result.is_file():
        return f"no {result.name} in its results folder"
    recorded = status.get("fingerprints", {})
    for name in (status.get("notebook", result.stem), "requirements-lock.txt"):
        if recorded.get(name) != now.get(name):
            return f"it ran another {name} than this checkout's"
    return ""


def record(
    run_dir: Path, dest: Path, now: Mapping[str, str] | None = None
) -> tuple[list[str], list[str]]:
    """Copy the recordable runs of ``run_dir`` (``build/seeds/seed-3``, say) into ``dest/<its
    name>``; return ``(recorded, skipped)``: a line per notebook run each.

    ``now``: the fingerprints to require (default: this checkout's, ``check_results.fingerprints``).
    Raises ``ValueError`` when ``run_dir`` holds no run outcome (``*.status.json``).
    """
    run_dir = Path(run_dir)
    statuses = sorted(run_dir.glob("*.status.json"))
    if not statuses:
        raise ValueError(f"{run_dir}: no *.status.json (not a run of mlprivacy-seeds or -variants)")
    now = check_results.fingerprints() if now is None else now
    target = Path(dest) / run_dir.name
    recorded, skipped = [], []
    for status_path in statuses:
        status = json.loads(status_path.read_text())
        stem = status_path.name[: -len(".status.json")]
        result = run_dir / "results" / f"{stem}.json"
        why = _why_not(status, result, now)
        if why:
            skipped.append(f"{run_dir.name}/{stem}: not recorded: {why}")
            continue
        (target / "results").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(status_path, target / status_path.name)
        shutil.copyfile(result, target / "results" / result.name)
        recorded.append(f"{run_dir.name}/{stem}")
    return recorded, skipped


def prune(folder: Path = MEASURED_RUNS, now: Mapping[str, str] | None = None) -> list[str]:
    """Remove the recorded runs under ``folder`` whose fingerprints are not this checkout's (or
    ``now``'s), and folders left empty; return a line per removed run."""
    now = check_results.fingerprints() if now is None else now
    removed = []
    for status_path in sorted(Path(folder).glob("*/*/*.status.json")):
        status = json.loads(status_path.read_text())
        stem = status_path.name[: -len(".status.json")]
        result = status_path.parent / "results" / f"{stem}.json"
        why = _why_not(status, result, now)
        if why:
            status_path.unlink()
            result.unlink(missing_ok=True)
            run = f"{status_path.parent.parent.name}/{status_path.parent.name}"
            removed.append(f"{run}/{stem}: {why}")
    for run_dir in sorted(Path(folder).glob("*/*")):
        results = run_dir / "results"
        if results.is_dir() and not any(results.iterdir()):
            results.rmdir()
        if run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()
    return removed


def run_folders(kind: str, folder: Path = MEASURED_RUNS) -> list[Path]:
    """Return the results folders of the recorded runs of ``kind`` (``"seeds"`` or ``"variants"``),
    sorted by name (seeds by number)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def order(path: Path) -> tuple[int, str]:
        name = path.parent.name
        number = name.removeprefix("seed-")
        return (int(number), "") if number.isdigit() else (-1, name)

    return sorted((p for p in (Path(folder) / kind).glob("*/results") if p.is_dir()), key=order)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="*", type=Path, default=[], help="build/seeds/seed-N")
    parser.add_argument("--variants", nargs="*", type=Path, default=[], help="build/variants/NAME")
    parser.add_argument("--prune", action="store_true", help="remove the stale recorded runs")
    parser.add_argument("--to", type=Path, default=MEASURED_RUNS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (args.seeds or args.variants or args.prune):
        parser.error("nothing to do: give --seeds, --variants or --prune")
    now = check_results.fingerprints()
    if args.prune:
        for line in prune(args.to, now):
            print(f"removed {line}")
    n_recorded = 0
    for kind, dirs in (("seeds", args.seeds), ("variants", args.variants)):
        for run_dir in dirs:
            if not run_dir.is_dir() or run_dir.name in ("model-cache", "results"):
                continue
            try:
                recorded, skipped = record(run_dir, args.to / kind, now)
            except ValueError as exc:
                print(exc)
                continue
            n_recorded += len(recorded)
            for line in skipped:
                print(line)
    print(f"recorded {n_recorded} run(s) in {args.to}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
