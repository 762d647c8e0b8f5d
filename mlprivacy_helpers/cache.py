"""On-disk cache for trained models, keyed by everything that determines the weights.

A notebook re-run then skips training, while any changed setting (architecture,
optimizer, data subset, epochs, seed, library versions, ...) gives a new key and
never reuses a stale model. Location: ``MLPRIVACY_CACHE`` (default
``$XDG_CACHE_HOME/mlprivacy/models``); ``MLPRIVACY_CACHE=off`` disables it.
Used through :func:`mlprivacy_helpers.training.train_cached` by notebooks 02 and 03.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .config import installed_version

#: Distributions whose version can change the trained weights.
KEY_LIBRARIES = ("tensorflow", "keras", "tensorflow-privacy", "numpy")


def cache_dir() -> Path | None:
    """Return the model cache folder, or ``None`` when ``MLPRIVACY_CACHE=off``.

    The folder is not created here.
    """
    value = os.environ.get("MLPRIVACY_CACHE", "").strip()
    if value.lower() in {"off", "0", "false", "none", "no"}:
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlprivacy" / "models"


def fingerprint(*arrays: Any) -> str:
    """Return a SHA-256 hex digest of arrays' dtype, shape and bytes (``None`` allowed).

    Two data subsets that differ in a single value get different fingerprints.
    """
    digest = hashlib.sha256()
    for arr in arrays:
        if arr is None:
            digest.update(b"<none>")
            continue
        a = np.ascontiguousarray(np.asarray(arr))
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str | None]:
    """Return ``{distribution: version}`` for the libraries that shape trained weights."""
    return {name: installed_version(name) for name in KEY_LIBRARIES}


def cache_key(parts: Mapping[str, Any]) -> str:
    """Return a stable hex key for ``parts`` plus the installed library versions.

    ``parts`` must be JSON-serialisable (anything else is turned into ``str``); key order
    does not matter. Raises ``TypeError`` if ``parts`` is not a mapping.
    """
    if not isinstance(parts, Mapping):
        raise TypeError(f"parts must be a mapping, got {type(parts).__name__}")
    payload = {"parts": dict(parts), "libraries": library_versions()}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
