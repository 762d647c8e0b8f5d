"""The results JSON helper."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlprivacy_helpers import results


def test_save_results_writes_plain_json(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPRIVACY_RESULTS", str(tmp_path / "out"))
    path = results.save_results(
        "01_demo",
        {
            "profile": "quick",
            "seed": np.int64(2),
            "auc": np.float32(0.625),
            "list": np.array([1.5, 2.5]),
            "flag": np.bool_(True),
            "eps": float("inf"),
        },
    )
    assert path == tmp_path / "out" / "01_demo.json"
    stored = json.loads(path.read_text())
    assert stored == {
        "profile": "quick",
        "seed": 2,
        "auc": 0.625,
        "list": [1.5, 2.5],
        "flag": True,
        "eps": None,
    }


def test_save_results_rejects_bad_input():
    with pytest.raises(ValueError, match="notebook_stem"):
        results.save_results("02_x.ipynb", {})
    with pytest.raises(TypeError, match="results"):
        results.save_results("02_x", [1, 2])
    with pytest.raises(TypeError, match="object"):
        results.save_results("02_x", {"bad": object()})
