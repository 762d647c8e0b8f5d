"""Saving a notebook's key numbers as JSON, for CI, instructors and the README tables.

Used by the last cell of every notebook.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def results_dir() -> Path:
    """Return the results folder (not created).

    ``MLPRIVACY_RESULTS`` if set; else ``build/results`` at the repository root when the
    package is used from a checkout (a notebook's working directory is ``notebooks/``);
    else ``build/results`` below the working directory.
    """
    configured = os.environ.get("MLPRIVACY_RESULTS", "").strip()
    if configured:
        return Path(configured).expanduser()
    checkout = Path(__file__).resolve().parents[1]
    root = checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()
    return root / "build" / "results"


def to_jsonable(value: Any) -> Any:
    """Return ``value`` with NumPy scalars/arrays and tuples turned into plain JSON types.

    Non-finite floats become ``None`` (JSON has no NaN/inf), so the file stays valid JSON.
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or isinstance(value, int | str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in the results JSON: {value!r}")


def save_results(notebook_stem: str, results: Mapping[str, Any]) -> Path:
    """Write ``results`` to ``<results_dir()>/<notebook_stem>.json`` and return the path.

    ``notebook_stem`` is the notebook's file name without ``.ipynb``, e.g.
    ``"01_differential_privacy_basics"``. Raises ``ValueError`` for a stem with a path
    separator or suffix, ``TypeError`` for values JSON cannot hold.
    """
    if not notebook_stem or "/" in notebook_stem or notebook_stem.endswith(".ipynb"):
        raise ValueError(f"notebook_stem must be a bare file stem, got {notebook_stem!r}")
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be a mapping, got {type(results).__name__}")
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{notebook_stem}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(to_jsonable(results), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path
