"""Regression-test the notebooks' numbers, not only their runs: `make test`, `make update-expected`.

The notebooks assert their claims loosely (an AUC above 0.55, say), so a library upgrade that
moves an AUC from 0.72 to 0.60 would pass them. This compares every results JSON that a
`make test` run wrote (quick profile, seed 0) with the committed baseline
`tests/expected_results_quick.json`, key by key, and prints what moved and by how much.

**Why tolerances are measured, not guessed.** Repeated runs on one machine are bit-identical,
but another machine need not be: a trained model depends on the last bit of every sum, and a
few hundred SGD steps amplify it into another model. The largest cause found (README.md, Tests,
has the measurements): TensorFlow 2.21 turns oneDNN on by default only on CPUs with AVX-512
VNNI/BF16 or AMX, so such a Xeon and every other CPU ran different kernels. `make test` and the
tools that make the baseline run with oneDNN off (``seed_sweep.NUMBERS_ENV``): Eigen's kernels,
which TensorFlow's wheel compiles for AVX rather than choosing by CPU (not yet checked on an
AVX-512 machine, so the tolerances do not rely on it). What that cannot fix — a machine
with more cores splits sums by its thread count, NumPy and OpenBLAS dispatch by CPU, a user
turns oneDNN back on — is measured: `mlprivacy-variants` imitates other machines on one
(oneDNN on, oneDNN limited to AVX or SSE4.1, one thread, deterministic ops, NumPy and OpenBLAS
on other kernels), and a variant that changes the model moves its numbers as far as another
training run would. So each key's tolerance comes from measurement:

* its **spread**: the largest move over the machine variants; for a key that moves with the
  machine or with the seed at all, at least its standard deviation over the seed sweep (at
  least 3 seeds), because another machine is effectively another training run, a handful of
  variants undersample small-sample statistics (a TPR at 0.1 % FPR rests on 2-3 scores, a
  judge on 10 images), and a model that no variant moved (notebook 03's face models: dense
  layers, which oneDNN left alone) may still move on a machine no variant imitates;
* its **tolerance**: ``SPREAD_FACTOR`` (4) times its spread, at least the floor its results
  schema declares (``mlprivacy_helpers.results_schema``); a key that moved neither on a
  variant nor with the seed keeps a tolerance of ``1e-6`` relative (float noise only);
* **informational** keys: those whose tolerance is at least their own value, so that even a
  fall to zero would pass. They are printed, never fail, and the README lists them.

Strings and integers must match exactly; timings are only type-checked; a dict of values
(notebook 04: one number per attack) is checked entry by entry as ``name.entry``. A failing
key is reported with its move in units of its spread, and a last line tells a change from this
machine. Planted regressions (tests/planted_regressions/, `mlprivacy-plant-regressions`) show
that the tolerances still catch real ones.

`--update BASE --variants DIR... --seeds DIR...` writes the baseline: values from BASE (a
`make test` results folder), spreads and tolerances from the variant and seed runs;
`--keep-spreads` keeps the spreads of the baseline it replaces (values only change).
`make update-expected` gives it the runs recorded in ``tests/measured_runs/`` (`make
record-runs`, ``mlprivacy_build/measured_runs.py``), so that a sweep done in parts adds up.

Usage:
    mlprivacy-check-results RESULTS_DIR [--expected FILE] [--only NOTEBOOK ...]
    mlprivacy-check-results --update BASE [--variants DIR ...] [--seeds DIR ...]
        [--keep-spreads] [--expected FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlprivacy_helpers.results_schema import SCHEMAS, Field, Schema, conforms, json_type

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EXPECTED = ROOT / "tests" / "expected_results_quick.json"
SPREAD_FACTOR = 4.0
STABLE_REL = 1e-6  # the tolerance of a key that no machine variant moved: float noise only
FORMAT = 2  # of the baseline file


@dataclasses.dataclass(frozen=True)
class Row:
    """One key of the comparison."""

    notebook: str
    key: str
    expected: str
    got: str
    tolerance: str
    ok: bool
    informational: bool = False
    spreads: float | None = None  #: the largest move in units of the key's spread


def _numbers(value: Any) -> list[float] | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        return [float(v) for v in value]
    return None


def entry_type(field: Field, key: str) -> str:
    """The declared type of a flattened key: a dict field's entries have its inner type."""
    if "." in key and field.type.startswith("dict["):
        return field.type[len("dict[") : -1]
    return field.type


def is_float(field: Field, key: str) -> bool:
    """Whether the key is compared within a tolerance (floats and lists of floats)."""
    return entry_type(field, key) in ("float", "list[float]")


def _field(schema: Schema, key: str) -> Field | None:
    return schema.fields.get(key.split(".")[0])


def flatten(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` with every dict value spread into keys ``name.entry`` (recursively)."""
    flat: dict[str, Any] = {}
    for key, value in results.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in flatten(value).items()})
        else:
            flat[key] = value
    return flat


def load_results(folder: Path) -> dict[str, dict[str, Any]]:
    """``{notebook name: results dict}`` for every ``*.json`` in ``folder``, flattened."""
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no results JSON in {folder}")
    return {f.stem: flatten(json.loads(f.read_text())) for f in files}


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def measure(
    values: Sequence[float], variants: Sequence[Sequence[float]], seeds: Sequence[Sequence[float]]
) -> list[tuple[float, float]]:
    """Return ``(spread, tolerance)`` per number of a key, before the schema's floor.

    ``values``: the baseline's numbers; ``variants[v]``: the same key under machine variant
    ``v``; ``seeds[s]``: under seed ``s``. The spread is the largest move over the variants; a
    key that moved by more than float noise (``STABLE_REL`` relative) on a variant or over the
    seeds (given at least 3) may move with a machine like another training run, so its spread is
    at least its standard deviation over the seeds.
    The tolerance is ``SPREAD_FACTOR`` times the spread, and never below ``STABLE_REL``
    relative. Raises ``ValueError`` if a variant gave NaN where the baseline did not (or the
    reverse): that is a failure under the variant, not a spread.
    """
    out = []
    for i, base in enumerate(values):
        moves = []
        for v in variants:
            if math.isnan(v[i]) != math.isnan(base):
                raise ValueError("a machine variant gave NaN where the baseline did not")
            if math.isfinite(v[i]) and math.isfinite(base):
                moves.append(abs(v[i] - base))
        machine = max(moves, default=0.0)
        noise = STABLE_REL * max(abs(base) if math.isfinite(base) else 0.0, 1e-6)
        spread = machine
        column = [s[i] for s in seeds if math.isfinite(s[i])]
        if len(column) >= 3:
            seed_sd = statistics.stdev(column)
            # A key that moves with the machine, or with the seed (a trained model's number,
            # which a machine no variant imitated may move like another training run), spreads
            # at least as far as another seed's run would.
            if machine > noise or seed_sd > noise:
                spread = max(machine, seed_sd)
        out.append((_round(spread), _round(max(SPREAD_FACTOR * spread, noise))))
    return out


def build_expected(
    base: dict[str, dict[str, Any]],
    variants: Sequence[dict[str, dict[str, Any]]] = (),
    seeds: Sequence[dict[str, dict[str, Any]]] = (),
    schemas: Mapping[str, Schema] | None = None,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the baseline ``{"results": {notebook: {key: entry}}, ...}`` from the runs.

    ``base``: ``load_results`` of a ``make test`` run; ``variants`` and ``seeds``: of the
    machine-variant and seed runs. Every variant run holds every notebook; a seed run that
    holds no results of a notebook is left out for that notebook (a sweep may give one
    notebook more seeds than the others: ``runs["seeds_by_notebook"]`` counts them, and
    ``runs["seeds"]`` is the fewest). Each float key's entry holds its
    ``value``, ``spread``, ``tolerance`` (both lists for lists) and ``informational``; other
    keys hold ``value`` only (exact). With ``previous`` (a baseline) and no runs, the spreads
    and tolerances of ``previous`` are kept. Raises ``ValueError`` for a key missing from a run
    or not in its schema, or a float key with neither runs nor a previous spread.
    """
    schemas = SCHEMAS if schemas is None else schemas
    out: dict[str, dict[str, Any]] = {}
    seeds_by_notebook: dict[str, int] = {}
    for notebook, values in sorted(base.items()):
        schema = schemas[notebook]
        notebook_seeds = [run for run in seeds if notebook in run]
        seeds_by_notebook[notebook] = len(notebook_seeds)
        entries: dict[str, Any] = {}
        for key, value in sorted(values.items()):
            field = _field(schema, key)
            if field is None:
                raise ValueError(f"{notebook}: key {key!r} is not in its results schema")
            if field.timing:
                continue
            numbers = _numbers(value)
            if not is_float(field, key) or numbers is None:
                entries[key] = {"value": value}
                continue
            if variants or seeds:
                columns = []
                for kind, runs in (("variant", variants), ("seed", notebook_seeds)):
                    found = []
                    for run in runs:
                        got = _numbers(run.get(notebook, {}).get(key))
                        if got is None or len(got) != len(numbers):
                            raise ValueError(
                                f"{notebook}: {key} missing or mis-sized in a {kind} run"
                            )
                        found.append(got)
                    columns.append(found)
                try:
                    measured = measure(numbers, *columns)
                except ValueError as exc:
                    raise ValueError(f"{notebook}: {key}: {exc}") from None
                spread = [s for s, _ in measured]
                tol = [max(t, field.tol) for _, t in measured]
            else:
                old = (previous or {}).get("results", {}).get(notebook, {}).get(key)
                if not old or "tolerance" not in old:
                    raise ValueError(
                        f"{notebook}: {key} has no measured spread; give --variants and --seeds"
                    )
                spread, tol = _as_list(old["spread"]), _as_list(old["tolerance"])
                if len(tol) != len(numbers):
                    raise ValueError(f"{notebook}: {key} changed size; measure it again")
                tol = [max(t, field.tol) for t in tol]  # a floor raised since is applied
            # Informational: a key that moves with the machine so much that even a fall to zero
            # passes. A key that never moved is always checked, also at 0.
            informational = all(
                s > 0 and v != 0 and t >= abs(v)
                for s, t, v in zip(spread, tol, numbers, strict=True)
            )
            scalar = not isinstance(value, list)
            entries[key] = {
                "value": value,
                "spread": spread[0] if scalar else spread,
                "tolerance": tol[0] if scalar else tol,
                "informational": informational,
            }
        out[notebook] = entries
    return {
        "about": "Written by `make update-expected` (mlprivacy_build/check_results.py): values "
        "of a make test run (quick profile, seed 0); spread = largest move over the machine "
        "variants (at least the seed sweep's standard deviation for a key that moves with the "
        f"machine or the seed); tolerance = {SPREAD_FACTOR:g} x spread, at least the schema's "
        "floor; informational keys are printed, never fail.",
        "format": FORMAT,
        "spread_factor": SPREAD_FACTOR,
        "runs": {
            "variants": len(variants),
            "seeds": min(seeds_by_notebook.values(), default=0),
            "seeds_by_notebook": seeds_by_notebook,
        }
        if variants or seeds
        else (previous or {}).get("runs", {}),
        "results": out,
    }


def _run_name(folder: Path) -> str:
    """Return a run's name: the folder above its ``results`` folder (``seed-3``, ``one-thread``)."""
    folder = Path(folder)
    return folder.parent.name if folder.name == "results" else folder.name


def _as_list(x: Any) -> list[float]:
    return list(x) if isinstance(x, list) else [x]


def baseline_digest(notebooks: Sequence[str] | None = None, path: Path = DEFAULT_EXPECTED) -> str:
    """Return a SHA-256 of the baseline's *values* of ``notebooks`` (default: all): what a
    planted regression was run against (spreads and tolerances may change without it)."""
    import hashlib

    results = read_baseline(path)["results"]
    names = sorted(results) if notebooks is None else sorted(notebooks)
    values = {n: {k: e["value"] for k, e in results[n].items()} for n in names}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def fingerprints() -> dict[str, str]:
    """Return SHA-256 digests of what determines the numbers: each notebook's code cells (its
    prose may change without changing a number) and the lock; the seed and variant runs record
    them (``seed_sweep.run_one``)."""
    import hashlib

    import nbformat

    out = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        code = "\n# --- cell ---\n".join(c.source for c in cells if c.cell_type == "code")
        out[path.stem] = hashlib.sha256(code.encode()).hexdigest()
    lock = (ROOT / "requirements-lock.txt").read_bytes()
    out["requirements-lock.txt"] = hashlib.sha256(lock).hexdigest()
    return out


def stale_runs(folders: Sequence[Path]) -> list[str]:
    """Return a line for each results folder whose runs recorded other notebooks or another
    lock than this checkout's (``status.json`` files beside the folder), or recorded none."""
    now = fingerprints()
    problems = []
    for folder in folders:
        for result in sorted(Path(folder).glob("*.json")):
            status = Path(folder).parent / f"{result.stem}.status.json"
            if not status.is_file():
                problems.append(f"{result}: no {status.name} beside it")
                continue
            recorded = json.loads(status.read_text()).get("fingerprints", {})
            for name in (result.stem, "requirements-lock.txt"):
                if recorded.get(name) != now.get(name):
                    problems.append(f"{result}: made with another {name}")
    return problems


def read_baseline(path: Path) -> dict[str, Any]:
    """Return the baseline file's content; raises ``ValueError`` for another format."""
    data = json.loads(Path(path).read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a format-{FORMAT} baseline (make update-expected)")
    return data


def compare(
    expected: Mapping[str, Any],
    actual: dict[str, dict[str, Any]],
    schemas: Mapping[str, Schema] | None = None,
) -> list[Row]:
    """Rows for every key of either side: ``expected`` is a baseline (``read_baseline``)."""
    schemas = SCHEMAS if schemas is None else schemas
    rows: list[Row] = []
    for notebook, want_entries in sorted(expected["results"].items()):
        got = actual.get(notebook)
        if got is None:
            rows.append(Row(notebook, "(results file)", "present", "missing", "", False))
            continue
        schema = schemas[notebook]
        for key in sorted(set(want_entries) | set(got)):
            field = _field(schema, key)
            if field is None:
                rows.append(Row(notebook, key, "(undeclared)", _short(got[key]), "", False))
                continue
            declared = entry_type(field, key)
            if key not in got:
                rows.append(Row(notebook, key, declared, "missing", "", False))
                continue
            value = got[key]
            if not conforms(value, declared):
                rows.append(Row(notebook, key, declared, json_type(value), "type", False))
                continue
            if field.timing:
                rows.append(Row(notebook, key, declared, _short(value), "timing", True))
                continue
            if key not in want_entries:
                rows.append(Row(notebook, key, "(not in the baseline)", _short(value), "", False))
                continue
            rows.append(_compare_entry(notebook, key, want_entries[key], value))
    return rows


def _compare_entry(notebook: str, key: str, entry: Mapping[str, Any], value: Any) -> Row:
    want = entry["value"]
    if "tolerance" not in entry:
        return Row(notebook, key, _short(want), _short(value), "exact", value == want)
    a, b = _numbers(value), _numbers(want)
    tols, spreads = _as_list(entry["tolerance"]), _as_list(entry["spread"])
    informational = bool(entry.get("informational"))
    if a is None or b is None or not len(a) == len(b) == len(tols):
        # A list that changed size fails (a notebook stopped half-way through a loop, say); the
        # entries both have are still measured, so the report says how far they moved.
        worst = None
        if a is not None and b is not None and len(b) == len(tols) == len(spreads):
            moves = [
                abs(x - y) / s if s > 0 else (math.inf if x != y else 0.0)
                for x, y, s in zip(a, b, spreads, strict=False)
                if not math.isnan(x - y)
            ]
            worst = max(moves, default=None)
        return Row(notebook, key, _short(want), _short(value), "size", False, informational, worst)
    ok, worst = True, 0.0
    for x, y, t, s in zip(a, b, tols, spreads, strict=True):
        if (math.isnan(x) and math.isnan(y)) or x == y:
            continue
        move = abs(x - y)
        if math.isnan(move):  # NaN on one side only: as far as a number can move
            ok, worst = False, math.inf
            continue
        ok = ok and move <= t
        worst = max(worst, move / s if s > 0 else math.inf)
    tol_text = f"±{tols[0]:g}" if len(tols) == 1 else "±[" + ", ".join(f"{t:g}" for t in tols) + "]"
    return Row(notebook, key, _short(want), _short(value), tol_text, ok or informational,
               informational, worst)  # fmt: skip


def identical_numbers(
    reference: dict[str, dict[str, Any]], other: dict[str, dict[str, Any]]
) -> tuple[int, int]:
    """Return (numbers bit-identical in both runs, numbers compared), timings left out."""
    same = total = 0
    for notebook, values in reference.items():
        schema = SCHEMAS.get(notebook)
        for key, value in values.items():
            field = _field(schema, key) if schema else None
            if field is None or field.timing:
                continue
            a, b = _numbers(value), _numbers(other.get(notebook, {}).get(key))
            if a is None or b is None or len(a) != len(b):
                continue
            total += len(a)
            same += sum(
                x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True)
            )
    return same, total


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and len(value) > 4:
        return "[" + ", ".join(_short(v) for v in value[:3]) + f", … ({len(value)})]"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return json.dumps(value) if not isinstance(value, str) else value


def report(rows: Sequence[Row], name: str) -> tuple[str, bool]:
    """Return the printed report and whether the check passed."""
    bad = [r for r in rows if not r.ok]
    info_moved = [r for r in rows if r.informational and r.spreads and r.tolerance != "exact"
                  and r.expected != r.got]  # fmt: skip
    lines = []
    if info_moved:
        lines.append(
            f"results: {len(info_moved)} informational key(s) moved (not checked: their spread is "
            "too wide to catch anything): "
            + ", ".join(f"{r.notebook[:2]} {r.key} {r.expected} -> {r.got}" for r in info_moved)
        )
    if not bad:
        lines.append(f"results: all {len(rows)} keys as expected ({name})")
        return "\n".join(lines), True
    header = ("notebook", "key", "expected", "got", "tolerance", "move / spread")
    table = [
        (r.notebook, r.key, r.expected, r.got, r.tolerance,
         "" if r.spreads is None else ("∞" if math.isinf(r.spreads) else f"{r.spreads:.1f}x"))
        for r in bad
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(6)]
    lines.append(f"results: {len(bad)} of {len(rows)} keys moved ({name}):")
    for row in [header, *table]:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    numeric = [r for r in bad if r.spreads is not None]
    structural = len(bad) - len(numeric)
    verdict = []
    if numeric:
        verdict.append(
            f"{len(numeric)} key(s) moved beyond {SPREAD_FACTOR:g}x their cross-machine spread "
            "(∞: a key that no machine variant moved)"
        )
    if structural:
        verdict.append(f"{structural} key(s) are missing, new, of another type or size, or differ "
                       "where they must match exactly (settings, counts)")  # fmt: skip
    lines.append(
        "; ".join(verdict) + ": this is a change, not this machine (as far as the spreads, "
        "measured on x86-64 Linux, can tell: README, Tests). If the change is deliberate, "
        "rewrite the baseline with `make update-expected`."
    )
    return "\n".join(lines), False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="results folder (with --update: the base)")
    parser.add_argument("--expected", type=Path, default=DEFAULT_EXPECTED)
    parser.add_argument("--update", action="store_true", help="rewrite the baseline")
    parser.add_argument("--variants", nargs="*", type=Path, default=[])
    parser.add_argument("--seeds", nargs="*", type=Path, default=[])
    parser.add_argument("--keep-spreads", action="store_true")
    parser.add_argument(
        "--only", nargs="+", metavar="NOTEBOOK", help="compare these notebooks (file stems) only"
    )
    args = parser.parse_args(argv)
    if args.update:
        if args.keep_spreads == bool(args.variants or args.seeds):
            parser.error("give --variants and --seeds (measured runs), or --keep-spreads")
        if not args.keep_spreads and not (args.variants and args.seeds):
            parser.error("both --variants and --seeds are needed (make test-variants, test-seeds)")
        base = load_results(args.results)
        stale = stale_runs([*args.variants, *args.seeds])
        if stale:
            print("results: baseline not written: runs of other code or another lock:\n  "
                  + "\n  ".join(stale))  # fmt: skip
            return 1
        variants = [load_results(d) for d in args.variants]
        seeds = [load_results(d) for d in args.seeds]
        previous = read_baseline(args.expected) if args.keep_spreads else None
        try:
            baseline = build_expected(base, variants, seeds, previous=previous)
        except ValueError as exc:
            print(f"results: baseline not written: {exc}")
            return 1
        if baseline["runs"] and not args.keep_spreads:  # which runs, for the README's claims
            baseline["runs"]["folders"] = {
                "variants": [_run_name(d) for d in args.variants],
                "seeds": [_run_name(d) for d in args.seeds],
            }
        args.expected.write_text(
            json.dumps(baseline, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        )
        n_info = sum(e.get("informational", False) for nb in baseline["results"].values()
                     for e in nb.values())  # fmt: skip
        print(
            f"wrote {args.expected}: values from {args.results}, spreads from {len(variants)} "
            f"variant and {len(seeds)} seed runs; {n_info} informational keys"
        )
        return 0
    expected = read_baseline(args.expected)
    if args.only:
        unknown = sorted(set(args.only) - set(expected["results"]))
        if unknown:
            parser.error(f"not in the baseline: {unknown}")
        expected = {**expected, "results": {n: expected["results"][n] for n in args.only}}
    text, ok = report(compare(expected, load_results(args.results)), args.expected.name)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
