"""On-disk cache for trained models, keyed by everything that determines the weights.

A notebook re-run then skips training, while any changed setting (architecture,
optimizer, data subset, epochs, seed, library versions, ...) gives a new key and
never reuses a stale model. Location: ``MLPRIVACY_CACHE`` (default
``$XDG_CACHE_HOME/mlprivacy/models``); ``MLPRIVACY_CACHE=off`` disables it.
:func:`mlprivacy_helpers.training.train_cached` builds the key and trains; this module holds
the folder, the key and the entries (:func:`load_entry`, :func:`store_entry`), and
:func:`cached_result` for a result kept in one file (notebook 02's attack results, notebook
03's inversions).

Entries are created group-shareable (folders ``0o775``, files ``0o664``, both minus the
process umask), so a workshop can point everyone's ``MLPRIVACY_CACHE`` at one folder.
A cache that cannot be written is reported by :func:`ensure_writable` *before* any
training starts, with :class:`CacheUnavailableError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from . import settings
from .config import installed_version
from .data import write_atomic

T = TypeVar("T")

#: Distributions whose version can change the trained weights.
KEY_LIBRARIES = ("tensorflow", "keras", "tensorflow-privacy", "numpy")

_OFF_VALUES = {"off", "0", "false", "none", "no"}


class CacheUnavailableError(RuntimeError):
    """The model cache folder cannot be used; the message names ``MLPRIVACY_CACHE`` and
    the fix (a writable folder, or ``MLPRIVACY_CACHE=off``)."""


class CacheWarning(UserWarning):
    """A cache entry was damaged (and is retrained) or a trained model could not be stored."""


def cache_dir() -> Path | None:
    """Return the model cache folder, or ``None`` when ``MLPRIVACY_CACHE=off``.

    ``MLPRIVACY_CACHE``, else ``cache`` in a settings file (:mod:`.settings`), else the
    per-user default. The folder is not created here (see :func:`ensure_writable`).
    """
    value = (settings.setting("cache") or "").strip()
    if value.lower() in _OFF_VALUES:
        return None
    if value:
        return Path(value).expanduser()
    return settings.user_cache_root() / "models"


def _umask() -> int:
    """Return the process umask (read from ``/proc`` where possible, which changes nothing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # portable fallback: read by setting, then restore at once
    os.umask(mask)
    return mask


def dir_mode() -> int:
    """Return the permission bits for new cache folders: ``0o775`` minus the umask."""
    return 0o775 & ~_umask()


def file_mode() -> int:
    """Return the permission bits for new cache files: ``0o664`` minus the umask."""
    return 0o664 & ~_umask()


def _setting() -> str:
    value = (settings.setting("cache") or "").strip()
    if not value:
        return "the default (MLPRIVACY_CACHE is unset)"
    return f"{settings.source('cache')} = {value!r}"


def ensure_writable(root: Path) -> Path:
    """Create the cache folder ``root`` if needed and check that entries can be written.

    Call this before training, so an unusable location fails before an hour of training
    rather than after it. Returns ``root``. Raises :class:`CacheUnavailableError` (naming
    ``MLPRIVACY_CACHE`` and the value ``off``) when ``root`` is a file, cannot be created
    or is not writable.
    """
    root = Path(root)
    try:
        if root.exists() and not root.is_dir():
            raise NotADirectoryError(f"{root} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True, mode=dir_mode())
        probe = tempfile.mkdtemp(dir=root, prefix=".write-test.")
        os.rmdir(probe)
    except OSError as exc:
        raise CacheUnavailableError(
            f"The model cache {root} cannot be used ({type(exc).__name__}: {exc}); its "
            f"location comes from {_setting()}. Nothing has been trained yet. Fix: set "
            "MLPRIVACY_CACHE to a folder you can write to, or MLPRIVACY_CACHE=off to train "
            "without a cache (every run then trains again)."
        ) from exc
    return root


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


# --- one entry: a folder with weights.h5 and history.json ------------------------------

MISSING, DAMAGED = object(), object()  #: what :func:`load_entry` returns when it loads nothing


def load_entry(entry: Path, model: Any) -> dict[str, Any] | object:
    """Load ``entry`` into ``model``; return its history, :data:`MISSING` or :data:`DAMAGED`.

    ``model`` is a built Keras model of the entry's architecture (its ``load_weights`` is used).

    ``history.json`` is written last, so an entry without it does not exist yet. A damaged
    entry is reported with a :class:`CacheWarning` naming its path, and removed.
    """
    history_path = entry / "history.json"
    if not history_path.is_file():
        return MISSING
    try:
        history = json.loads(history_path.read_text())
        if not isinstance(history, dict):
            raise ValueError(f"history.json holds a {type(history).__name__}, not an object")
        model.load_weights(str(entry / "weights.h5"))
    except (OSError, ValueError, KeyError) as exc:  # h5py: OSError; JSON, shapes: ValueError
        warnings.warn(
            f"Damaged model-cache entry {entry} ({type(exc).__name__}: {exc}); "
            "removing it and training again.",
            CacheWarning,
            stacklevel=3,
        )
        discard_entry(entry)
        return DAMAGED
    return history


def discard_entry(entry: Path) -> None:
    """Remove a damaged entry: rename it out of the way first, so no reader sees half of it."""
    trash = entry.with_name(f".{entry.name}.damaged-{os.getpid()}")
    try:
        os.replace(entry, trash)
    except OSError:
        return  # read-only cache or already gone: ensure_writable reports the former
    shutil.rmtree(trash, ignore_errors=True)


def store_entry(entry: Path, model: Any, history: dict[str, Any]) -> bool:
    """Write weights and history into ``entry`` atomically (temp folder + rename).

    Returns ``True`` when ``entry`` now holds a complete entry (ours, or that of another
    process that stored the same training first). Any failure only warns
    (:class:`CacheWarning`) and returns ``False``: the caller still has the trained model.
    An interrupt (``KeyboardInterrupt``) removes the temp folder and propagates.
    """
    tmp: Path | None = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode())
        tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}."))
        model.save_weights(str(tmp / "weights.h5"))
        (tmp / "history.json").write_text(json.dumps(history))
        for path in (tmp / "weights.h5", tmp / "history.json"):
            os.chmod(path, file_mode())
        os.chmod(tmp, dir_mode())  # mkdtemp creates 0o700; let the group share the cache
        os.replace(tmp, entry)
    except Exception as exc:  # never lose a trained model to a failed save
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if (entry / "history.json").is_file():
            return True  # another process stored the same training first: keep theirs
        warnings.warn(
            f"Could not store the trained model in the cache entry {entry} "
            f"({type(exc).__name__}: {exc}); the model is returned but not cached.",
            CacheWarning,
            stacklevel=3,
        )
        return False
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    return True


# --- one computed result in one file (attack results, inversions) ----------------------


def cached_result(
    entry: Path,
    compute: Callable[[], T],
    *,
    load: Callable[[Path], T],
    save: Callable[[Any, T], None],
    what: str,
    load_errors: tuple[type[BaseException], ...] = (OSError, ValueError),
    save_errors: tuple[type[BaseException], ...] = (OSError,),
) -> tuple[T, bool]:
    """Return ``(value, cached)``: ``load(entry)`` when ``entry`` holds a good value, else
    ``compute()``, stored in ``entry`` through ``save(binary file, value)``.

    ``cached`` says whether the value came from the file. ``load`` raises one of
    ``load_errors`` for a damaged file: that is reported with a :class:`CacheWarning` naming
    the file and ``what`` is computed again. The value is written to a temp file renamed into
    place (:func:`~.data.write_atomic`: never a half entry, no temp file left behind on a
    failure or an interrupt) and made group-shareable (:func:`file_mode`); a save that fails
    with one of ``save_errors`` only warns, and the computed value is still returned. The
    caller checks that the cache is on (:func:`cache_dir`) and builds ``entry``'s name from
    :func:`cache_key`.
    """
    if entry.is_file():
        try:
            return load(entry), True
        except load_errors as exc:
            warnings.warn(
                f"Damaged model-cache entry {entry} ({type(exc).__name__}: {exc}); "
                f"removing it and computing {what} again.",
                CacheWarning,
                stacklevel=3,
            )
            entry.unlink(missing_ok=True)
    ensure_writable(entry.parent)
    value = compute()
    try:
        write_atomic(entry, lambda handle: save(handle, value))
        os.chmod(entry, file_mode())  # group-shareable, as the model entries
    except save_errors as exc:  # never lose a finished computation to a failed save
        warnings.warn(
            f"Could not store {what} in the cache entry {entry} "
            f"({type(exc).__name__}: {exc}); they are returned but not cached.",
            CacheWarning,
            stacklevel=3,
        )
    return value, False
