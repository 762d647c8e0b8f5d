"""Saving a notebook's key numbers as JSON, for CI, instructors and the landing page.

Used by the last cell of every notebook; what each notebook writes is declared in
:mod:`mlprivacy_helpers.results_schema` and checked here on write.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .results_schema import Schema, schema_for, validate


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


def save_results(
    notebook_stem: str, results: Mapping[str, Any], schema: Schema | None = None
) -> Path:
    """Write ``results`` to ``<results_dir()>/<notebook_stem>.json`` and return the path.

    ``notebook_stem`` is the notebook's file name without ``.ipynb``, e.g.
    ``"01_differential_privacy_basics"``. The results must match the notebook's schema
    (``schema``, default ``results_schema.SCHEMAS[notebook_stem]``): every declared key,
    no other, each of its declared type. Raises ``ValueError`` for a stem with a path
    separator or suffix, a stem without a schema, or results that do not match it (naming
    the notebook and the key), ``TypeError`` for values JSON cannot hold.
    """
    if not notebook_stem or "/" in notebook_stem or notebook_stem.endswith(".ipynb"):
        raise ValueError(f"notebook_stem must be a bare file stem, got {notebook_stem!r}")
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be a mapping, got {type(results).__name__}")
    if schema is None:
        try:
            schema = schema_for(notebook_stem)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
    jsonable = to_jsonable(results)
    validate(schema, jsonable)
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{notebook_stem}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(jsonable, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path
