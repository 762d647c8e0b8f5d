"""Persistent settings: where the datasets and the model cache are, and the profile.

A workshop laptop is set up once (``make install-kit`` writes the file) and then every shell
and every JupyterLab started later finds the kit's data, its model cache and the quick
profile, with no variable to export. The settings are TOML, three optional keys::

    data = "/media/usb/kit/data"      # like MLPRIVACY_DATA
    cache = "/media/usb/kit/models"   # like MLPRIVACY_CACHE ("off" disables the cache)
    profile = "quick"                 # like MLPRIVACY_PROFILE

Where they are read from, later files overriding earlier ones key by key:

1. the per-user file ``$XDG_CONFIG_HOME/mlprivacy/mlprivacy.toml`` (default
   ``~/.config/mlprivacy/mlprivacy.toml``);
2. the project's file ``mlprivacy.toml`` at the root of the checkout (not committed).

``MLPRIVACY_SETTINGS=FILE`` reads that one file instead of both. The environment variables
``MLPRIVACY_DATA``, ``MLPRIVACY_CACHE`` and ``MLPRIVACY_PROFILE`` always win when set and not
empty. Relative paths in a file are relative to the file's folder. Used by
:mod:`mlprivacy_helpers.data`, :mod:`mlprivacy_helpers.cache` and
:mod:`mlprivacy_helpers.config`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

FILE_NAME = "mlprivacy.toml"
#: Each setting and the environment variable that overrides it.
KEYS = {"data": "MLPRIVACY_DATA", "cache": "MLPRIVACY_CACHE", "profile": "MLPRIVACY_PROFILE"}
_PATH_KEYS = ("data", "cache")


class SettingsError(ValueError):
    """A settings file cannot be read or holds an unknown key or a wrong value; the message
    names the file and the key."""


def project_file() -> Path:
    """Return the project's settings file (``mlprivacy.toml`` at the checkout's root)."""
    return Path(__file__).resolve().parents[1] / FILE_NAME


def user_file() -> Path:
    """Return the per-user settings file (``$XDG_CONFIG_HOME/mlprivacy/mlprivacy.toml``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "mlprivacy" / FILE_NAME


def user_cache_root() -> Path:
    """Return the per-user cache folder of the series, ``$XDG_CACHE_HOME/mlprivacy`` (default
    ``~/.cache/mlprivacy``), which holds ``models/`` and ``data/`` (not created here)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mlprivacy"


def settings_files() -> list[Path]:
    """Return the files read, in order (later ones win): ``MLPRIVACY_SETTINGS`` alone when set,
    else the per-user file and the project's file. Files that do not exist are skipped."""
    explicit = os.environ.get("MLPRIVACY_SETTINGS", "").strip()
    candidates = [Path(explicit).expanduser()] if explicit else [user_file(), project_file()]
    return [path for path in candidates if path.is_file()]


def read_file(path: Path) -> dict[str, str]:
    """Return the settings in one TOML file, paths made absolute; raise :class:`SettingsError`
    for a file that is not TOML, an unknown key or a value that is not a non-empty string."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: not a readable TOML settings file ({exc})") from exc
    values = {}
    for key, value in raw.items():
        if key not in KEYS:
            raise SettingsError(f"{path}: unknown setting {key!r} (known: {', '.join(KEYS)})")
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{path}: {key} must be a non-empty string, got {value!r}")
        value = value.strip()
        if key in _PATH_KEYS and not (key == "cache" and value.lower() == "off"):
            value = str((Path(path).parent / Path(value).expanduser()).resolve())
        values[key] = value
    return values


def file_settings() -> dict[str, str]:
    """Return the settings of every file of :func:`settings_files`, later files winning."""
    merged: dict[str, str] = {}
    for path in settings_files():
        merged.update(read_file(path))
    return merged


def setting(key: str) -> str | None:
    """Return the value of ``key`` (``"data"``, ``"cache"`` or ``"profile"``): its environment
    variable when set and not empty, else the settings files' value, else ``None``."""
    if key not in KEYS:
        raise ValueError(f"unknown setting {key!r} (known: {', '.join(KEYS)})")
    from_env = os.environ.get(KEYS[key], "").strip()
    if from_env:
        return from_env
    return file_settings().get(key)


def source(key: str) -> str:
    """Return where :func:`setting` found ``key``, for messages: the variable, or a file."""
    if key not in KEYS:
        raise ValueError(f"unknown setting {key!r} (known: {', '.join(KEYS)})")
    if os.environ.get(KEYS[key], "").strip():
        return KEYS[key]
    for path in reversed(settings_files()):
        if key in read_file(path):
            return f"{key} in {path}"
    return f"{KEYS[key]} (unset)"


def write_file(path: Path, values: Mapping[str, str]) -> Path:
    """Write ``values`` (keys of :data:`KEYS`) as a TOML settings file at ``path``; return it.

    Raises :class:`SettingsError` for an unknown key or an empty value.
    """
    lines = ["# mlprivacy settings (see mlprivacy_helpers/settings.py); environment variables win."]
    for key, value in values.items():
        if key not in KEYS:
            raise SettingsError(f"unknown setting {key!r} (known: {', '.join(KEYS)})")
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{key} must be a non-empty string, got {value!r}")
        escaped = value.strip().replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{key} = "{escaped}"')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
