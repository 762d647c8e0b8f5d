"""Run settings shared by every notebook: profile, seed and version checks.

Two environment variables steer a run:

* ``MLPRIVACY_PROFILE`` -- ``quick`` (CI and workshop laptops: small sizes, few
  epochs) or ``full`` (the faithful experiment, the default).
* ``MLPRIVACY_SEED`` -- an integer in ``[0, 2**32)`` (default 0) that seeds Python, NumPy and
  TensorFlow through :func:`set_seed`.

Used by all notebooks in their ``parameters`` cell.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Mapping
from importlib import metadata

import numpy as np
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import settings

PROFILES = ("quick", "full")
DEFAULT_PROFILE = "full"


def get_profile(value: str | None = None) -> str:
    """Return the run profile, ``"quick"`` or ``"full"``.

    ``value`` is the notebook's ``PROFILE`` parameter: ``None`` (the default in every
    ``parameters`` cell) reads ``MLPRIVACY_PROFILE`` instead (or ``profile`` in a settings
    file, :mod:`.settings`), where unset or empty means ``"full"``; a value set there, or
    injected by papermill (``-p PROFILE quick``), wins.
    Anything but the two profiles raises ``ValueError`` naming where it came from, so a typo
    never silently runs the long profile.
    """
    if value is None:
        source = settings.source("profile")
        value = (settings.setting("profile") or "").strip().lower() or DEFAULT_PROFILE
    else:
        source = "PROFILE"
        if not isinstance(value, str):
            raise TypeError(f"PROFILE must be a string or None, got {type(value).__name__}")
        value = value.strip().lower()
    if value not in PROFILES:
        raise ValueError(
            f"{source} must be one of {PROFILES}, got {value!r}. "
            "Use 'quick' for a fast run (CI, workshops) or 'full' for the faithful experiment."
        )
    return value


#: NumPy's legacy global generator (``np.random.seed``) accepts seeds in ``[0, 2**32)``.
MAX_SEED = 2**32 - 1


def get_seed(value: int | None = None) -> int:
    """Return the integer seed: ``value`` if given, else ``MLPRIVACY_SEED`` (default 0).

    ``value`` is the notebook's ``SEED`` parameter (``None`` in every ``parameters`` cell,
    so the environment decides unless papermill or the learner sets it). Raises
    ``ValueError`` naming ``MLPRIVACY_SEED`` (or ``SEED``) unless the seed is an integer with
    ``0 <= seed < 2**32`` (the range NumPy's ``np.random.seed`` accepts), so a bad value
    fails here and not deep inside NumPy; ``TypeError`` for a ``SEED`` that is not an int.
    """
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"SEED must be an int or None, got {type(value).__name__}")
        if not 0 <= value <= MAX_SEED:
            raise ValueError(f"SEED must be an integer with 0 <= seed < 2**32, got {value}")
        return int(value)
    raw = os.environ.get("MLPRIVACY_SEED", "").strip() or "0"
    if not raw.isascii() or not raw.isdecimal():
        raise ValueError(f"MLPRIVACY_SEED must be an integer with 0 <= seed < 2**32, got {raw!r}")
    seed = int(raw)
    if seed > MAX_SEED:
        raise ValueError(
            f"MLPRIVACY_SEED must be an integer with 0 <= seed < 2**32 "
            f"(NumPy's seed range), got {seed}"
        )
    return seed


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and, if imported, TensorFlow.

    TensorFlow is seeded (``tf.keras.utils.set_random_seed``) only when the notebook
    has already imported it, so notebook 01 never pays TensorFlow's import time.
    ``PYTHONHASHSEED`` is deliberately not touched: Python reads it once, when the
    interpreter starts, so setting it here would change nothing in this process (and
    would only leak into subprocesses). Nothing in the series depends on ``str`` hashes.
    Returns ``None``. Raises ``TypeError``/``ValueError`` for a seed that is not an
    ``int`` with ``0 <= seed < 2**32``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must satisfy 0 <= seed < 2**32, got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        tf.keras.utils.set_random_seed(seed)


def installed_version(distribution: str) -> str | None:
    """Return the installed version of a pip distribution, or ``None`` if absent."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def check_versions(required: Mapping[str, str]) -> dict[str, str]:
    """Check installed package versions against pip-style specifiers.

    ``required`` maps a distribution name to a specifier, e.g.
    ``{"tensorflow": "==2.15.*", "tensorflow-privacy": "==0.8.12"}``.
    Returns ``{name: installed_version}`` when all are met. Otherwise raises
    ``RuntimeError`` listing every mismatch and how to get the tested stack, because
    the libraries this series teaches change their APIs between releases.
    """
    if not isinstance(required, Mapping):
        raise TypeError(f"required must be a mapping of name -> specifier, got {type(required)}")
    found: dict[str, str] = {}
    problems = []
    for name, spec in required.items():
        try:
            specifier = SpecifierSet(spec)
        except InvalidSpecifier:
            raise ValueError(f"required[{name!r}] is not a valid specifier: {spec!r}") from None
        version = installed_version(name)
        if version is None:
            problems.append(f"  - {name}: not installed (need {spec})")
        elif Version(version) not in specifier:
            problems.append(f"  - {name}: {version} installed, need {spec}")
        else:
            found[name] = version
    if problems:
        raise RuntimeError(
            "This notebook was tested with a pinned stack and the installed versions differ:\n"
            + "\n".join(problems)
            + "\nFix: from the repository root run `make lab` (it builds .venv from "
            "requirements-lock.txt), or `pip install -r requirements-lock.txt && pip install -e .` "
            "in your own environment, then restart the kernel. See README.md, 'Troubleshooting'."
        )
    return found
