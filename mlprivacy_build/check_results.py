"""Regression-test the notebooks' numbers, not only their runs: `make test`, `make update-expected`.

The notebooks assert their claims loosely (an AUC above 0.55, say), so a library upgrade that
moves an AUC from 0.72 to 0.60 would pass them. This compares every results JSON that a
`make test` run wrote (quick profile, seed 0) with the committed baseline
`tests/expected_results_quick.json`, which holds values only, key by key, and prints a table
of what moved. Each key's type, tolerance floor and whether it is a timing come from the
notebook's results schema (`mlprivacy_helpers.results_schema`), the one place keys are
declared:

* every key of the baseline must be present with its declared type, and no key may be new;
* strings and integers must match exactly (profile, seed, sizes, epochs);
* floats must lie within their tolerance of the baseline value (lists: element-wise), the
  largest of the key's floor in the schema, 5 % of the value and, for values of 0.05 and more,
  0.02 (another CPU's float arithmetic; repeated runs on one machine are bit-identical);
* timings are type-checked only, and are not in the baseline;
* a dict of values (notebook 04: one number per attack) is checked entry by entry, as the keys
  ``name.entry``.

`--update` rewrites the baseline from one results folder; given repeated runs of the same
commit it first checks that three times their spread fits within every key's tolerance, and
names the keys whose floor in the schema must grow when it does not.

Usage:
    mlprivacy-check-results RESULTS_DIR [--expected FILE] [--only NOTEBOOK ...]
    mlprivacy-check-results --update RESULTS_DIR [RESULTS_DIR ...] [--expected FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlprivacy_helpers.results_schema import SCHEMAS, Field, Schema, conforms, json_type

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EXPECTED = ROOT / "tests" / "expected_results_quick.json"
ABS_FLOOR = 0.02  # for values of 0.05 and more (AUCs, accuracies, correlations)
ABS_FLOOR_FROM = 0.05
REL_FLOOR = 0.05
SPREAD_FACTOR = 3.0

Row = tuple[str, str, str, str, str, bool]  # notebook, key, expected, got, tolerance, ok


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


def tolerance(value: Any, field: Field, key: str = "") -> float | list[float] | None:
    """Return the tolerance of a baseline ``value`` (None: exact match, for non-floats).

    Per number: ``max(field.tol, REL_FLOOR * |v|, ABS_FLOOR if |v| >= ABS_FLOOR_FROM)``; a list
    gets one tolerance per element.
    """
    if entry_type(field, key) not in ("float", "list[float]"):
        return None
    numbers = _numbers(value)
    if numbers is None:
        return 0.0
    tols = []
    for v in numbers:
        floor = ABS_FLOOR if abs(v) >= ABS_FLOOR_FROM else 0.0
        tol = max(field.tol, REL_FLOOR * abs(v), floor) if math.isfinite(v) else 0.0
        tols.append(float(f"{tol:.4g}"))
    return tols if isinstance(value, list) else tols[0]


def _field(schema: Schema, key: str) -> Field | None:
    return schema.fields.get(key.split(".")[0])


def build_expected(
    runs: list[dict[str, dict[str, Any]]], schemas: Mapping[str, Schema] | None = None
) -> dict[str, dict[str, Any]]:
    """Baseline ``{notebook: {key: value}}`` from the first run, timings left out.

    With repeated runs of the same commit, raises ``ValueError`` naming every key whose
    spread times ``SPREAD_FACTOR`` exceeds its tolerance (raise its floor in the schema).
    """
    if not runs:
        raise ValueError("need at least one results folder")
    schemas = SCHEMAS if schemas is None else schemas
    expected: dict[str, dict[str, Any]] = {}
    too_noisy = []
    for notebook, first in sorted(runs[0].items()):
        schema = schemas[notebook]
        values = {}
        for key, value in sorted(first.items()):
            field = _field(schema, key)
            if field is None:
                raise ValueError(f"{notebook}: key {key!r} is not in its results schema")
            if field.timing:
                continue
            values[key] = value
            tol = tolerance(value, field, key)
            if tol is None or len(runs) < 2:
                continue
            columns = zip(*[_numbers(run[notebook][key]) for run in runs], strict=True)
            tols = tol if isinstance(tol, list) else [tol]
            if any(
                SPREAD_FACTOR * (max(c) - min(c)) > t
                for c, t in zip(columns, tols, strict=True)
                if all(math.isfinite(v) for v in c)
            ):
                too_noisy.append(f"{notebook}: {key}")
        expected[notebook] = values
    if too_noisy:
        raise ValueError(
            "repeated runs differ by more than a third of the tolerance of "
            + ", ".join(too_noisy)
            + "; raise those keys' tol in mlprivacy_helpers/results_schema.py"
        )
    return expected


def compare(
    expected: dict[str, dict[str, Any]],
    actual: dict[str, dict[str, Any]],
    schemas: Mapping[str, Schema] | None = None,
) -> list[Row]:
    """Rows (notebook, key, expected, actual, tolerance, ok) for every key of either side."""
    schemas = SCHEMAS if schemas is None else schemas
    rows: list[Row] = []
    for notebook, want_values in sorted(expected.items()):
        got = actual.get(notebook)
        if got is None:
            rows.append((notebook, "(results file)", "present", "missing", "", False))
            continue
        schema = schemas[notebook]
        for key in sorted(set(want_values) | set(got)):
            field = _field(schema, key)
            if field is None:
                rows.append((notebook, key, "(undeclared)", _short(got[key]), "", False))
                continue
            declared = entry_type(field, key)
            if key not in got:
                rows.append((notebook, key, declared, "missing", "", False))
                continue
            value = got[key]
            if not conforms(value, declared):
                rows.append((notebook, key, declared, json_type(value), "type", False))
                continue
            if field.timing:
                rows.append((notebook, key, declared, _short(value), "timing", True))
                continue
            if key not in want_values:
                rows.append((notebook, key, "(not in the baseline)", _short(value), "", False))
                continue
            want = want_values[key]
            tol = tolerance(want, field, key)
            if tol is None:
                ok = value == want
                tol_text = "exact"
            else:
                a, b = _numbers(value), _numbers(want)
                tols = tol if isinstance(tol, list) else [tol] * len(b or [])
                ok = (
                    a is not None
                    and b is not None
                    and len(a) == len(b) == len(tols)
                    and all(
                        (math.isnan(x) and math.isnan(y)) or x == y or abs(x - y) <= t
                        for x, y, t in zip(a, b, tols, strict=True)
                    )
                )
                if isinstance(tol, list):
                    tol_text = "±[" + ", ".join(f"{t:g}" for t in tol) + "]"
                else:
                    tol_text = f"±{tol:g}"
            rows.append((notebook, key, _short(want), _short(value), tol_text, ok))
    return rows


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and len(value) > 4:
        return "[" + ", ".join(_short(v) for v in value[:3]) + f", … ({len(value)})]"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return json.dumps(value) if not isinstance(value, str) else value


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="results folder(s)")
    parser.add_argument("--expected", type=Path, default=DEFAULT_EXPECTED)
    parser.add_argument("--update", action="store_true", help="rewrite the baseline")
    parser.add_argument(
        "--only", nargs="+", metavar="NOTEBOOK", help="compare these notebooks (file stems) only"
    )
    args = parser.parse_args(argv)
    runs = [load_results(folder) for folder in args.results]
    if args.update:
        try:
            baseline = build_expected(runs)
        except ValueError as exc:
            print(f"results: baseline not written: {exc}")
            return 1
        args.expected.write_text(json.dumps(baseline, indent=1, sort_keys=True) + "\n")
        print(f"wrote {args.expected} from {len(runs)} run(s)")
        return 0
    if len(runs) != 1:
        parser.error("compare takes one results folder")
    expected = json.loads(args.expected.read_text())
    if args.only:
        unknown = sorted(set(args.only) - set(expected))
        if unknown:
            parser.error(f"not in the baseline: {unknown}")
        expected = {name: expected[name] for name in args.only}
    rows = compare(expected, runs[0])
    bad = [r for r in rows if not r[5]]
    if not bad:
        print(f"results: all {len(rows)} keys as expected ({args.expected.name})")
        return 0
    header = ("notebook", "key", "expected", "got", "tolerance")
    widths = [max(len(r[i]) for r in [header, *bad]) for i in range(5)]
    print(f"results: {len(bad)} of {len(rows)} keys moved ({args.expected.name}):")
    for row in [header, *[r[:5] for r in bad]]:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print("If the change is deliberate, rewrite the baseline with `make update-expected`.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
