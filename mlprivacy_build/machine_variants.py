"""The quick profile, seed 0, as on other machines: how far do the numbers move? (#28)

A trained model depends on the last bit of every floating-point sum, and which kernels compute
those sums depends on the machine: TensorFlow 2.21 turns oneDNN on by default only on CPUs with
AVX-512 VNNI/BF16 or AMX, and oneDNN then picks kernels by instruction set (SSE4.1, AVX, AVX2,
AVX-512); TensorFlow splits work by its thread count; NumPy and OpenBLAS dispatch by CPU too.
`make test` and the tools here run with oneDNN off (``seed_sweep.NUMBERS_ENV``), so the first
cause is gone unless a variant brings it back. Each variant below imitates another machine on
this one; ``mlprivacy-variants`` runs the
notebooks (quick profile, seed 0, an empty model cache each) under every variant, and
``mlprivacy-check-results --update`` turns the spread of their numbers into each key's
tolerance (with the seed sweep's). Run on a machine with AVX2 (the variants can only take
instruction sets away); the default variant is the machine as it is.

Outputs: ``OUT/<variant>/results/*.json``, the executed notebooks, ``OUT/<variant>/*.status.json``
(time, pass/fail) and, printed and in ``OUT/summary.md``, a table of variant x keys moved.

Usage: mlprivacy-variants [NOTEBOOK ...] [--variants default onednn-sse41 ...]
       [--out build/variants] [--base DIR] [--report]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

from mlprivacy_build import check_results, seed_sweep

ROOT = Path(__file__).resolve().parents[1]

#: name -> (what it imitates, extra environment of the kernel)
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "default": ("this machine as `make test` runs it (oneDNN off: Eigen's kernels)", {}),
    "onednn-on": (
        "a CPU with AVX-512 VNNI/BF16 or AMX (recent Intel Xeons), where TensorFlow turns oneDNN "
        "on by default: oneDNN's kernels for this CPU",
        {"TF_ENABLE_ONEDNN_OPTS": "1"},
    ),
    "onednn-avx": (
        "oneDNN on, limited to its AVX kernels",
        {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX"},
    ),
    "onednn-sse41": (
        "oneDNN on, limited to its SSE4.1 kernels (an old CPU)",
        {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "SSE41"},
    ),
    "one-thread": (
        "a 1-core machine: one intra-op and one inter-op thread",
        {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"},
    ),
    "deterministic-ops": (
        "TensorFlow's deterministic op implementations (TF_DETERMINISTIC_OPS=1)",
        {"TF_DETERMINISTIC_OPS": "1"},
    ),
    "numpy-blas": (
        "another CPU's NumPy and OpenBLAS kernels: NumPy's SSE4.2 baseline kernels instead of "
        "its AVX2/AVX-512 ones, OpenBLAS's Sandy Bridge (AVX) kernels",
        {
            # NumPy 2.4's dispatched groups (numpy._core._multiarray_umath.__cpu_dispatch__):
            # off, NumPy runs its X86_V2 (SSE4.2) baseline kernels.
            "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
            "OPENBLAS_CORETYPE": "SANDYBRIDGE",
        },
    ),
}


def run(notebooks: list[Path], variants: list[str], out: Path, timeout: int) -> None:
    """Run every notebook under every variant (seed 0, quick, an empty model cache each)."""
    for name in variants:
        _, env = VARIANTS[name]
        run_dir = out / name
        cache = run_dir / "model-cache"
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        try:
            for path in notebooks:
                print(f"==> {name}: {path.name} ...", flush=True)
                outcome = seed_sweep.run_one(path, 0, out, timeout, env, run_dir)
                verdict = "passed" if outcome["passed"] else f"FAILED ({outcome['error']})"
                print(f"    {outcome['seconds']:.0f} s, {verdict}", flush=True)
        finally:
            shutil.rmtree(cache, ignore_errors=True)


def summary(out: Path, variants: list[str], base: Path | None = None) -> str:
    """Return a Markdown table: each variant's time per notebook, how many numbers are
    bit-identical to the default run's (``base``: a results folder, by default
    ``out/default/results``), how many keys moved beyond the baseline's tolerances, and the
    largest move of a key that moves with the machine, in units of its spread."""
    base = base or out / "default" / "results"
    if not base.is_dir():
        return f"no default run to compare with ({base})"
    try:
        expected = check_results.read_baseline(check_results.DEFAULT_EXPECTED)
    except (ValueError, FileNotFoundError):
        expected = None  # before the first measured baseline: no tolerances to compare with
    reference = check_results.load_results(base)
    lines = [
        "| variant | seconds (per notebook) | numbers identical to default | keys beyond "
        "tolerance | largest move / spread |",
        "|---|---|---|---|---|",
    ]
    for name in variants:
        folder = out / name / "results"
        if not folder.is_dir():
            continue
        statuses = [json.loads(p.read_text()) for p in sorted((out / name).glob("*.status.json"))]
        seconds = ", ".join(f"{s['notebook'][:2]}: {s['seconds']:.0f}" for s in statuses)
        got = check_results.load_results(folder)
        same, total = check_results.identical_numbers(reference, got)
        bad, worst_text = "-", "-"
        if expected is not None:
            present = {n: e for n, e in expected["results"].items() if n in got}
            rows = check_results.compare({**expected, "results": present}, got)
            bad = str(sum(not r.ok for r in rows))
            moved = [r for r in rows if r.spreads is not None and math.isfinite(r.spreads)]
            worst = max(moved, key=lambda r: r.spreads, default=None)
            if worst is not None:
                worst_text = f"{worst.spreads:.1f} ({worst.notebook[:2]} {worst.key})"
        lines.append(f"| {name} | {seconds} | {same} of {total} | {bad} | {worst_text} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "variants")
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--report", action="store_true", help="only print the summary")
    parser.add_argument(
        "--base", type=Path, default=None, help="the default run's results (seed 0 of a sweep)"
    )
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
    )
    if not args.report:
        run(notebooks, args.variants, args.out, args.timeout)
    table = summary(args.out, args.variants, args.base)
    (args.out / "summary.md").parent.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
