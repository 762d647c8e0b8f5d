"""The results JSON helper and the results schema it checks on write."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from mlprivacy_helpers import results
from mlprivacy_helpers.results_schema import SCHEMAS, Field, Schema, conforms, json_type

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DEMO = Schema(
    "01_demo",
    {
        "profile": Field("str"),
        "seed": Field("int"),
        "auc": Field("float"),
        "list": Field("list[float]"),
        "eps": Field("float"),
        "by_attack": Field("dict[float]"),
    },
)


def _demo_results(**changes):
    values = {
        "profile": "quick",
        "seed": np.int64(2),
        "auc": np.float32(0.625),
        "list": np.array([1.5, 2.5]),
        "eps": float("inf"),
        "by_attack": {"lr": np.float64(0.5), "lira": 1},
    }
    return {**values, **changes}


def test_save_results_writes_plain_json(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPRIVACY_RESULTS", str(tmp_path / "out"))
    path = results.save_results("01_demo", _demo_results(), schema=DEMO)
    assert path == tmp_path / "out" / "01_demo.json"
    stored = json.loads(path.read_text())
    assert stored == {
        "profile": "quick",
        "seed": 2,
        "auc": 0.625,
        "list": [1.5, 2.5],
        "eps": None,
        "by_attack": {"lr": 0.5, "lira": 1},
    }


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"extra": 1.0}, "01_demo: key 'extra' is not declared"),
        ({"auc": "high"}, "key 'auc' should be float, got str"),
        ({"list": [1, "a"]}, "key 'list' should be list[float]"),
        ({"by_attack": {"lr": [0.1]}}, "key 'by_attack' should be dict[float]"),
    ],
)
def test_save_results_refuses_what_the_schema_does_not_declare(
    tmp_path, monkeypatch, changes, message
):
    monkeypatch.setenv("MLPRIVACY_RESULTS", str(tmp_path))
    with pytest.raises(ValueError, match=re.escape(message)):
        results.save_results("01_demo", _demo_results(**changes), schema=DEMO)
    missing = _demo_results()
    del missing["seed"]
    with pytest.raises(ValueError, match="key 'seed' is missing"):
        results.save_results("01_demo", missing, schema=DEMO)
    assert not list(tmp_path.iterdir()), "nothing is written when the results do not match"


def test_save_results_rejects_bad_input():
    with pytest.raises(ValueError, match="notebook_stem"):
        results.save_results("02_x.ipynb", {})
    with pytest.raises(TypeError, match="results"):
        results.save_results("02_x", [1, 2])
    with pytest.raises(ValueError, match="no results schema for '02_x'"):
        results.save_results("02_x", {"seed": 0})
    with pytest.raises(TypeError, match="object"):
        results.save_results("01_demo", {"bad": object()}, schema=DEMO)


def test_json_types_and_their_widening():
    assert (
        json_type([1, 2.5]) == "list[float]" and json_type({"a": [1.0, 2.0]}) == "dict[list[float]]"
    )
    assert conforms(3, "float") and conforms(None, "float") and conforms([1, 2], "list[float]")
    assert not conforms(1.5, "int") and not conforms(True, "int") and not conforms("1", "float")
    with pytest.raises(ValueError, match="type must be one of"):
        Field("complex")
    with pytest.raises(ValueError, match="label and a show function"):
        Field("float", label="shown without a format")


def _saved_keys(path: Path) -> tuple[str, set[str]]:
    """The stem and the keys of the dict that a notebook's last cell passes to save_results."""
    code = nbformat.read(path, as_version=4).cells[-1].source
    tree = ast.parse(code)
    dicts = {
        node.targets[0].id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Dict)
    }
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    (call,) = [
        c for c in calls if getattr(c.func, "id", getattr(c.func, "attr", "")) == "save_results"
    ]
    stem, values = call.args
    values = dicts[values.id] if isinstance(values, ast.Name) else values
    return stem.value, {k.value for k in values.keys}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_every_notebook_saves_exactly_the_keys_its_schema_declares(path):
    stem, keys = _saved_keys(path)
    assert stem == path.stem
    assert keys == set(SCHEMAS[stem].fields)


def test_the_baseline_holds_values_of_declared_keys_only():
    baseline = json.loads((ROOT / "tests" / "expected_results_quick.json").read_text())
    assert baseline["format"] == 2
    assert set(baseline["results"]) == {p.stem for p in NOTEBOOKS}
    for notebook, entries in baseline["results"].items():
        fields = SCHEMAS[notebook].fields
        for key, entry in entries.items():
            field = fields[key.split(".")[0]]
            assert not field.timing, f"{notebook}: timing {key} is in the baseline"
            value = entry["value"]
            assert not isinstance(value, dict), f"{notebook}: {key} holds more than a value"
            assert set(entry) in ({"value"}, {"value", "spread", "tolerance", "informational"})
