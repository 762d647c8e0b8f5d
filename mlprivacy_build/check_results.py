"""Regression-test the notebooks' numbers, not only their runs: `make test`, `make update-expected`.

The notebooks assert their claims loosely (an AUC above 0.55, say), so a library upgrade that
moves an AUC from 0.72 to 0.60 would pass them. This script compares every results JSON that a
`make test` run wrote (quick profile, seed 0) with the committed baseline
`tests/expected_results_quick.json`, key by key, and prints a table of what moved:

* every documented key must be present, with the documented type, and no key may be new;
* strings, booleans and integers must match exactly (profile, seed, sizes, epochs);
* floats must lie within the key's tolerance of the baseline value (lists: element-wise, each
  element with its own tolerance);
* timings (keys named ``seconds`` or containing ``seconds``/``speedup``) are type-checked only;
* a dict of values (notebook 04: one number per attack) is checked entry by entry, as the keys
  ``name.entry``.

Tolerances come from repeated runs: TensorFlow on a CPU is not bit-reproducible, so
`--update` takes one or more results folders (repeated runs of the same commit) and sets each
float's tolerance as :func:`tolerance` says (floors for another machine's float arithmetic,
widened to three times the spread seen between the runs).

Usage:
    mlprivacy-check-results RESULTS_DIR [--expected FILE]
    mlprivacy-check-results --update RESULTS_DIR [RESULTS_DIR ...] [--expected FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EXPECTED = ROOT / "tests" / "expected_results_quick.json"
# Repeated runs on one machine were bit-identical (measured: two empty-cache `make test` runs);
# the floors cover what another CPU's float arithmetic (oneDNN kernels, AVX-512 or not) moves.
ABS_FLOOR = 0.02  # for values of 0.05 and more (AUCs, accuracies, correlations)
ABS_FLOOR_FROM = 0.05
REL_FLOOR = 0.05
SPREAD_FACTOR = 3.0
# Keys counted in tenths (10 digits judged): one or two digits may flip on another machine;
# keys counted in fortieths (40 faces identified): up to four faces may flip.
# TPRs at a low FPR count a few dozen members of 2 500: a retrained model moves them by a few.
# One-run audit bounds count correct guesses about canaries on the same scale.
# The DP-SGD face models near chance: their held-out accuracy counts a few of 120 photos and
# their inversions' correlations are noise around 0, so neither has a relative scale.
MIN_TOL = {
    "judge_accuracy": 0.2,
    "dp_mnist_judge_accuracy": 0.2,
    "dp_mnist_reference_judge_accuracy": 0.2,
    "faces_top1_identification": 0.1,
    "faces_top5_identification": 0.1,
    "faces_mlp_top1_identification": 0.1,
    "dp_faces_top1_identification": 0.1,
    "dp_faces_top5_identification": 0.1,
    "dp_faces_test_accuracy": 0.025,
    "dp_faces_corr_to_own_mean": 0.02,
    "tpr_at_1pct_fpr": 0.01,
    "tpr_at_01pct_fpr": 0.005,
    "tpr_at_1pct_fpr_interval": 0.01,
    "tpr_at_01pct_fpr_interval": 0.005,
    "tpr_at_1pct_by_k": 0.01,
    "rmia_offline_a": 0.2,
    "dp_rmia_offline_a": 0.2,
    "dp_tpr_at_1pct_fpr": 0.01,
    "audit_epsilon_lower_bound_plain": 0.3,
    "audit_epsilon_lower_bound_dp": 0.3,
}


def is_timing(key: str) -> bool:
    """True for keys that hold wall times or speed ratios (machine-dependent, not compared)."""
    return key == "seconds" or "seconds" in key or "speedup" in key


def type_name(value: Any) -> str:
    """The JSON type of ``value``: bool, int, float, str, null, list[...] or dict."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        inner = sorted({type_name(v) for v in value})
        if inner == ["float", "int"]:
            inner = ["float"]
        return f"list[{'|'.join(inner)}]"
    if isinstance(value, dict):
        return "dict"
    raise TypeError(f"not a JSON value: {value!r}")


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


def tolerance(runs: list[Any], key: str = "") -> float | list[float] | None:
    """Tolerance of a float-valued key from its values in repeated runs (None: exact).

    Per value: ``max(MIN_TOL[key], REL_FLOOR * |v|, ABS_FLOOR if |v| >= ABS_FLOOR_FROM,
    SPREAD_FACTOR * (max - min))``; a list gets a list of tolerances, one per element.
    """
    if type_name(runs[0]) not in ("float", "list[float]"):
        return None
    tols = []
    for column in zip(*[_numbers(r) for r in runs], strict=True):
        finite = [v for v in column if math.isfinite(v)]
        if not finite:
            tols.append(0.0)
            continue
        value, spread = abs(finite[0]), max(finite) - min(finite)
        tol = max(
            MIN_TOL.get(key.split(".")[0], 0.0),
            REL_FLOOR * value,
            ABS_FLOOR if value >= ABS_FLOOR_FROM else 0.0,
            SPREAD_FACTOR * spread,
        )
        tols.append(float(f"{tol:.4g}"))
    return tols if isinstance(runs[0], list) else tols[0]


def build_expected(runs: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Baseline ``{notebook: {key: {type, value, tol}}}`` from repeated runs (first values)."""
    if not runs:
        raise ValueError("need at least one results folder")
    expected: dict[str, dict[str, Any]] = {}
    for notebook, first in sorted(runs[0].items()):
        entries = {}
        for key, value in sorted(first.items()):
            values = [run[notebook][key] for run in runs]
            entry: dict[str, Any] = {"type": type_name(value)}
            if not is_timing(key):
                entry["value"] = value
                tol = tolerance(values, key)
                if tol is not None:
                    entry["tol"] = tol
            entries[key] = entry
        expected[notebook] = entries
    return expected


def compare(
    expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]
) -> list[tuple[str, str, str, str, str, bool]]:
    """Rows (notebook, key, expected, actual, tolerance, ok) for every documented key."""
    rows = []
    for notebook, keys in sorted(expected.items()):
        got = actual.get(notebook)
        if got is None:
            rows.append((notebook, "(results file)", "present", "missing", "", False))
            continue
        for key, spec in sorted(keys.items()):
            if key not in got:
                rows.append((notebook, key, spec["type"], "missing", "", False))
                continue
            value = got[key]
            if type_name(value) != spec["type"]:
                rows.append((notebook, key, spec["type"], type_name(value), "type", False))
                continue
            if "value" not in spec:
                rows.append((notebook, key, spec["type"], _short(value), "timing", True))
                continue
            want = spec["value"]
            tol = spec.get("tol")
            if tol is None:
                ok = value == want
            else:
                a, b = _numbers(value), _numbers(want)
                tols = tol if isinstance(tol, list) else [tol] * len(b)
                ok = len(a) == len(b) == len(tols) and all(
                    (math.isnan(x) and math.isnan(y)) or x == y or abs(x - y) <= t
                    for x, y, t in zip(a, b, tols, strict=True)
                )
            if tol is None:
                tol_text = "exact"
            elif isinstance(tol, list):
                tol_text = "±[" + ", ".join(f"{t:g}" for t in tol) + "]"
            else:
                tol_text = f"±{tol:g}"
            rows.append((notebook, key, _short(want), _short(value), tol_text, ok))
        for key in sorted(set(got) - set(keys)):
            rows.append((notebook, key, "(undocumented)", _short(got[key]), "", False))
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
    args = parser.parse_args(argv)
    runs = [load_results(folder) for folder in args.results]
    if args.update:
        args.expected.write_text(json.dumps(build_expected(runs), indent=1, sort_keys=True) + "\n")
        print(f"wrote {args.expected} from {len(runs)} run(s)")
        return 0
    if len(runs) != 1:
        parser.error("compare takes one results folder")
    expected = json.loads(args.expected.read_text())
    rows = compare(expected, runs[0])
    bad = [r for r in rows if not r[5]]
    if not bad:
        print(f"results: all {len(rows)} documented keys as expected ({args.expected.name})")
        return 0
    header = ("notebook", "key", "expected", "got", "tolerance")
    widths = [max(len(r[i]) for r in [header, *bad]) for i in range(5)]
    print(f"results: {len(bad)} of {len(rows)} documented keys moved ({args.expected.name}):")
    for row in [header, *[r[:5] for r in bad]]:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print("If the change is deliberate, rewrite the baseline with `make update-expected`.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
