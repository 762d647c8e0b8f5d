"""mlprivacy_build.machine_variants and plant_regressions: the parts that run no notebook."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from mlprivacy_build import check_results, machine_variants, plant_regressions


def test_every_variant_changes_the_kernels_environment_except_the_default():
    assert machine_variants.VARIANTS["default"][1] == {}
    for name, (what, env) in machine_variants.VARIANTS.items():
        assert what and (name == "default" or env), name
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())


def write_run(folder, notebook, values, seconds=1.0):
    (folder / "results").mkdir(parents=True)
    (folder / "results" / f"{notebook}.json").write_text(json.dumps(values))
    (folder / f"{notebook}.status.json").write_text(
        json.dumps({"notebook": notebook, "seconds": seconds, "passed": True})
    )


def test_the_summary_counts_identical_and_moved_numbers(tmp_path, monkeypatch):
    notebook = "01_differential_privacy_basics"
    baseline = check_results.read_baseline(check_results.DEFAULT_EXPECTED)
    values = {k: e["value"] for k, e in baseline["results"][notebook].items()}
    nested = {}
    for key, value in values.items():  # load_results flattens dicts: nest them again
        head, _, tail = key.partition(".")
        if tail:
            nested.setdefault(head, {})[tail] = value
        else:
            nested[key] = value
    nested["seconds"] = 9.0
    write_run(tmp_path / "default", notebook, nested)
    write_run(tmp_path / "one-thread", notebook, nested, seconds=12.0)
    table = machine_variants.summary(tmp_path, ["default", "one-thread"])
    lines = table.splitlines()
    assert lines[0].startswith("| variant |") and len(lines) == 4
    assert "| one-thread | 01: 12 |" in lines[3]
    same, total = check_results.identical_numbers(
        check_results.load_results(tmp_path / "default" / "results"),
        check_results.load_results(tmp_path / "one-thread" / "results"),
    )
    assert same == total > 0 and f"{same} of {total}" in lines[3]


@pytest.mark.parametrize("plant", plant_regressions.PLANTS, ids=lambda p: p.name)
def test_each_plant_applies_to_its_notebook_exactly_once(plant):
    nb = plant_regressions.planted_notebook(plant)
    text = "\n".join(c.source for c in nb.cells)
    if plant.old:
        assert plant.new in text and plant.old not in text
    else:
        planted = [c for c in nb.cells if c.source.startswith("# PLANTED REGRESSION")]
        assert len(planted) == 1 and plant.patch in planted[0].source
        compile(planted[0].source, plant.name, "exec")  # valid Python
    original = nbformat.read(
        plant_regressions.ROOT / "notebooks" / f"{plant.notebook}.ipynb", as_version=4
    )
    assert len(nb.cells) - len(original.cells) == (0 if plant.old else 1)


def test_the_numpy_variant_disables_groups_numpy_really_dispatches():
    from numpy._core._multiarray_umath import __cpu_dispatch__

    env = machine_variants.VARIANTS["numpy-blas"][1]
    assert set(env["NPY_DISABLE_CPU_FEATURES"].split()) <= set(__cpu_dispatch__)


def test_the_numbers_run_on_one_kind_of_kernel_and_the_onednn_variants_turn_it_on():
    import os
    import re

    from mlprivacy_build import seed_sweep

    assert seed_sweep.NUMBERS_ENV == {
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "0")
    }
    makefile = (check_results.ROOT / "Makefile").read_text()
    for target in ("test", "test-notebook"):
        recipe = re.search(rf"^{target}:.*?\n((?:\t.*\n)+)", makefile, re.M).group(1)
        assert "TF_ENABLE_ONEDNN_OPTS=$(NUMBERS_ONEDNN)" in recipe, target
    assert "NUMBERS_ONEDNN := $(or $(TF_ENABLE_ONEDNN_OPTS),0)" in makefile
    for name, (_, env) in machine_variants.VARIANTS.items():
        if name.startswith("onednn-"):
            assert env["TF_ENABLE_ONEDNN_OPTS"] == "1", name  # oneDNN is off unless turned on


def test_recheck_recomputes_what_flags_a_stored_plant_and_refuses_other_values(
    tmp_path, monkeypatch
):
    plant = next(p for p in plant_regressions.PLANTS if p.name == "laplace_scale_halved")
    stored = plant_regressions.OUT / plant.name
    copy = tmp_path / plant.name
    shutil.copytree(stored, copy)
    manifest = json.loads((copy / "plant.json").read_text())
    manifest["caught_by"] = []  # as if yesterday's tolerances had let it pass
    (copy / "plant.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(plant_regressions, "OUT", tmp_path)
    assert plant_regressions.main(["--recheck", "--plants", plant.name]) == 0
    rechecked = json.loads((copy / "plant.json").read_text())
    assert [c["key"] for c in rechecked["caught_by"]] == ["max_empirical_log_ratio"]
    assert rechecked["seconds"] == manifest["seconds"]  # nothing ran
    manifest["baseline_sha256"] = "0" * 64  # run against other values: refuse
    (copy / "plant.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="run the plant again"):
        plant_regressions.main(["--recheck", "--plants", plant.name])
