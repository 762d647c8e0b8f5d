"""Planted regressions: does the numbers' check still catch real ones? (#28)

Each plant is a bug of the kind a change could bring in, put into one notebook on purpose: a
patch cell after its imports (or a one-line edit of its code), run in the quick profile with
seed 0 (``allow_errors``: the notebook's own assertions may fail, the results are still
written). ``mlprivacy-plant-regressions`` writes each plant's results JSON (``results/``) and a
``plant.json``
(what was planted, which keys the check flags and by how many spreads, and a digest of the
baseline values it was run against) into ``tests/planted_regressions/<plant>/``;
tests/test_check_results.py then asserts that ``mlprivacy-check-results`` fails on every one
with today's baseline. Run it again after `make update-expected` changed a notebook's values.

``--recheck`` runs nothing: it recomputes each stored plant's flagged keys against today's
baseline, for an update that changed the spreads but not the values the plants ran against.

Usage: mlprivacy-plant-regressions [--plants NAME ...] [--cache DIR] [--recheck]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import nbformat
from nbclient import NotebookClient

from mlprivacy_build import check_results, seed_sweep

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "planted_regressions"


@dataclass(frozen=True)
class Plant:
    """A regression: ``patch`` is a cell inserted after the cell holding ``after``, or, with
    ``old``, the notebook text ``old`` (exactly once) becomes ``new``."""

    name: str
    notebook: str
    description: str
    after: str = "config.set_seed(SEED)"
    patch: str = ""
    old: str = ""
    new: str = ""


PLANTS = (
    Plant(
        "lira_sign_flipped",
        "04_auditing_membership_inference",
        "LiRA's scores with their sign flipped (members score low)",
        patch="_lira = reference_attacks.lira_scores\n"
        "reference_attacks.lira_scores = lambda *a, **k: -_lira(*a, **k)",
    ),
    Plant(
        "laplace_scale_halved",
        "01_differential_privacy_basics",
        "the Laplace mechanism's noise scale halved (b = Δ/(2ε)), its ε claimed unchanged",
        old="scale=sensitivity / epsilon, size=size)",
        new="scale=sensitivity / epsilon / 2, size=size)",
    ),
    Plant(
        "dp_noise_halved",
        "02_membership_inference_cifar10",
        "DP-SGD trained with half the noise multiplier, its ε accounted for the full one",
        patch="_dp = recipes.compiled_poisson_dp_cifar10_cnn\n"
        "recipes.compiled_poisson_dp_cifar10_cnn = lambda clip, noise, **k: _dp(clip, noise / 2, "
        "**k)",
    ),
    Plant(
        "cnn_half_epochs",
        "02_membership_inference_cifar10",
        "the CNN trained for half its epochs, the notebook believing it trained them all",
        patch="_train = training.train_cached\n"
        "def _half(name, build, x, y, *, epochs, **k):\n"
        "    return _train(name, build, x, y, epochs=epochs // 2 if name == 'nb02_cnn' else "
        "epochs, **k)\n"
        "training.train_cached = _half",
    ),
    Plant(
        # In the notebook's own AttackInputData (section 2), which the attacks of sections 3-6
        # read: the losses are computed against shuffled labels.
        "attack_labels_shuffled",
        "02_membership_inference_cifar10",
        "TF Privacy's attacks fed shuffled labels (the losses of the wrong class)",
        old="loss_train = cce(y_members, logits_train).numpy()\n"
        "loss_test = cce(y_non, logits_test).numpy()",
        new="shuffle = np.random.default_rng(0).permutation\n"
        "loss_train = cce(shuffle(y_members), logits_train).numpy()\n"
        "loss_test = cce(shuffle(y_non), logits_test).numpy()",
    ),
    Plant(
        # TF Privacy's own Dense function: for a record of several positions it computes
        # another norm than the record's (tests/test_sequence_clipping.py: too large for the
        # kernel, too small for the bias), so the clipping is neither exact nor safe.
        "sequence_clipping_replaced",
        "05_memorization_secret_sharer",
        "DP-SGD on text with TF Privacy's one-position Dense norms instead of the exact ones",
        old="        layer_registry=dp_sgd.make_sequence_layer_registry(),\n",
        new="",
    ),
    Plant(
        "lm_noise_halved",
        "05_memorization_secret_sharer",
        "the language model's DP-SGD with half its noise multiplier, ε accounted for the full one",
        old="        noise_multiplier=DP_NOISE_MULTIPLIER,\n",
        new="        noise_multiplier=DP_NOISE_MULTIPLIER / 2,\n",
    ),
)


def planted_notebook(plant: Plant) -> nbformat.NotebookNode:
    """Return the notebook with the regression in it."""
    nb = nbformat.read(ROOT / "notebooks" / f"{plant.notebook}.ipynb", as_version=4)
    if plant.old:
        hits = sum(c.source.count(plant.old) for c in nb.cells)
        if hits != 1:
            raise ValueError(f"{plant.name}: {plant.old!r} found {hits} times, not once")
        for cell in nb.cells:
            cell.source = cell.source.replace(plant.old, plant.new)
        return nb
    index = next(i for i, c in enumerate(nb.cells) if plant.after in c.source)
    cell = nbformat.v4.new_code_cell(f"# PLANTED REGRESSION: {plant.description}\n{plant.patch}")
    nb.cells.insert(index + 1, cell)
    return nb


def caught_by(results_dir: Path, notebook: str) -> dict:
    """Return ``{"baseline_sha256", "caught_by"}`` for the results in ``results_dir``: the
    digest of today's baseline values of ``notebook`` and the keys that
    ``mlprivacy-check-results`` flags against today's baseline (expected, got, tolerance and the
    move in spreads of each)."""
    results = check_results.load_results(results_dir)
    baseline = check_results.read_baseline(check_results.DEFAULT_EXPECTED)
    expected = {**baseline, "results": {n: baseline["results"][n] for n in results}}
    rows = check_results.compare(expected, results)
    return {
        "baseline_sha256": check_results.baseline_digest([notebook]),
        "caught_by": [
            {
                "key": r.key,
                "expected": r.expected,
                "got": r.got,
                "tolerance": r.tolerance,
                "spreads": None
                if r.spreads is None
                else ("inf" if r.spreads == float("inf") else round(r.spreads, 1)),
            }
            for r in rows
            if not r.ok
        ],  # fmt: skip
    }


def recheck(plant: Plant) -> dict:
    """Recompute ``plant``'s ``caught_by`` against today's baseline from its stored results,
    running nothing, and rewrite its ``plant.json``; return the manifest. For a baseline update
    that kept the values and changed only spreads and tolerances (the stored results were run
    against the same values: ``ValueError`` otherwise)."""
    path = OUT / plant.name / "plant.json"
    manifest = json.loads(path.read_text())
    fresh = caught_by(OUT / plant.name / "results", plant.notebook)
    if fresh["baseline_sha256"] != manifest["baseline_sha256"]:
        raise ValueError(
            f"{plant.name}: the baseline's values of {plant.notebook} changed since it ran; run "
            "the plant again (mlprivacy-plant-regressions --plants ...)"
        )
    manifest.update(fresh)
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def run(plant: Plant, cache: Path) -> dict:
    """Run one plant with the model cache ``cache``; write its fixture (``results/`` and
    ``plant.json``); return its manifest."""
    out = OUT / plant.name
    shutil.rmtree(out, ignore_errors=True)
    (out / "results").mkdir(parents=True)
    env = {
        **seed_sweep.NUMBERS_ENV,  # the kernels of `make test`'s numbers
        "MLPRIVACY_PROFILE": "quick",
        "MLPRIVACY_SEED": "0",
        "MLPRIVACY_CACHE": str(cache),
        "MLPRIVACY_RESULTS": str(out / "results"),
    }
    nb = planted_notebook(plant)
    client = NotebookClient(nb, timeout=3600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})  # fmt: skip
    start = time.perf_counter()
    with mock.patch.dict(os.environ, env):
        client.execute()
    seconds = time.perf_counter() - start
    if not any((out / "results").glob("*.json")):
        raise RuntimeError(f"{plant.name}: the notebook wrote no results")
    manifest = {
        "plant": plant.name,
        "notebook": plant.notebook,
        "description": plant.description,
        "how": plant.patch or f"{plant.old!r} -> {plant.new!r}",
        "seconds": round(seconds),
        **caught_by(out / "results", plant.notebook),
    }
    (out / "plant.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", nargs="+", choices=[p.name for p in PLANTS], default=None)
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="a warm model cache to start from: each plant gets its own copy, so what a plant "
        "trains never reaches another plant or the original",
    )
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="run nothing: recompute what flags each stored plant against today's baseline "
        "(after a baseline update that changed spreads and tolerances, not values)",
    )
    args = parser.parse_args(argv)
    plants = [p for p in PLANTS if args.plants is None or p.name in args.plants]
    failed = False
    for plant in plants:
        print(f"==> {plant.name} ({plant.notebook}): {plant.description}", flush=True)
        if args.recheck:
            manifest = recheck(plant)
            keys = ", ".join(f"{c['key']} ({c['spreads']}x)" for c in manifest["caught_by"])
            print(
                f"    caught by {len(manifest['caught_by'])} key(s): {keys or 'NONE'}", flush=True
            )
            failed = failed or not manifest["caught_by"]
            continue
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "models"
            if args.cache is not None:
                shutil.copytree(args.cache, cache)
            try:
                manifest = run(plant, cache)
            except Exception as exc:  # one broken plant must not stop the others
                print(f"    FAILED: {type(exc).__name__}: {exc}", flush=True)
                failed = True
                continue
        keys = ", ".join(
            f"{c['key']} ({c['spreads']}x)" if c["spreads"] is not None else c["key"]
            for c in manifest["caught_by"]
        )
        print(f"    {manifest['seconds']} s; caught by {len(manifest['caught_by'])} key(s): "
              f"{keys or 'NONE'}", flush=True)  # fmt: skip
        failed = failed or not manifest["caught_by"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
