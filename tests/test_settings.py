"""Persistent settings (mlprivacy_helpers.settings): files, precedence, and their users."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlprivacy_helpers import cache, config, data, settings


@pytest.fixture
def settings_file(tmp_path, monkeypatch) -> Path:
    """A settings file that MLPRIVACY_SETTINGS points at, with no variable of its own set."""
    path = tmp_path / "kit" / "mlprivacy.toml"
    monkeypatch.setenv("MLPRIVACY_SETTINGS", str(path))
    for variable in settings.KEYS.values():
        monkeypatch.delenv(variable, raising=False)
    return path


def test_a_settings_file_steers_data_cache_and_profile_with_paths_relative_to_it(settings_file):
    settings.write_file(settings_file, {"data": "data", "cache": "models", "profile": "quick"})
    kit = settings_file.parent.resolve()
    assert settings.setting("data") == str(kit / "data")
    assert cache.cache_dir() == kit / "models"
    assert config.get_profile() == "quick"
    assert settings.source("profile") == f"profile in {settings_file}"


def test_environment_variables_win_over_the_file(settings_file, monkeypatch, tmp_path):
    settings.write_file(settings_file, {"data": "data", "cache": "off", "profile": "quick"})
    assert cache.cache_dir() is None  # "off" in a file disables the cache too
    monkeypatch.setenv("MLPRIVACY_PROFILE", "full")
    monkeypatch.setenv("MLPRIVACY_CACHE", str(tmp_path / "elsewhere"))
    assert config.get_profile() == "full"
    assert cache.cache_dir() == tmp_path / "elsewhere"
    assert settings.source("cache") == "MLPRIVACY_CACHE"
    monkeypatch.setenv("MLPRIVACY_DATA", "  ")  # empty: the file's value applies
    assert settings.setting("data") == str(settings_file.parent.resolve() / "data")


def test_the_project_file_overrides_the_users_key_by_key(tmp_path, monkeypatch):
    monkeypatch.delenv("MLPRIVACY_SETTINGS", raising=False)
    monkeypatch.delenv("MLPRIVACY_PROFILE", raising=False)
    monkeypatch.delenv("MLPRIVACY_DATA", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    project = tmp_path / "checkout" / settings.FILE_NAME
    monkeypatch.setattr(settings, "project_file", lambda: project)
    settings.write_file(settings.user_file(), {"profile": "quick", "data": "/user/data"})
    settings.write_file(project, {"data": "/kit/data"})
    assert settings.settings_files() == [settings.user_file(), project]
    assert settings.file_settings() == {"profile": "quick", "data": str(Path("/kit/data"))}


def test_the_data_loader_reads_the_folder_of_the_settings_file(settings_file, monkeypatch):
    monkeypatch.setattr(data, "DATASETS", (data._OLIVETTI,))
    folder = settings_file.parent / "data"
    folder.mkdir(parents=True)
    faces = np.zeros((400, 64, 64), dtype=np.uint8)
    np.savez(
        folder / "olivetti_faces.npz",
        images=faces,
        target=np.repeat(np.arange(40, dtype=np.uint8), 10),
    )
    settings.write_file(settings_file, {"data": "data"})
    images, target = data.load_olivetti_faces()
    assert images.shape == (400, 64, 64) and target.shape == (400,)
    (fetched,) = data.fetch_all()
    assert fetched.source == "copied from MLPRIVACY_DATA"


@pytest.mark.parametrize(
    "text, says",
    [
        ("dta = 'x'\n", "unknown setting 'dta'"),
        ("profile = 3\n", "profile must be a non-empty string"),
        ("profile = \n", "not a readable TOML"),
    ],
)
def test_a_bad_settings_file_is_refused_naming_the_file_and_key(settings_file, text, says):
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text(text)
    with pytest.raises(settings.SettingsError, match=says) as info:
        settings.setting("profile")
    assert str(settings_file) in str(info.value)


def test_a_bad_profile_in_the_file_names_the_file(settings_file):
    settings.write_file(settings_file, {"profile": "fast"})
    with pytest.raises(ValueError, match=r"profile in .*mlprivacy.toml must be one of"):
        config.get_profile()


def test_write_file_refuses_unknown_keys_and_empty_values(tmp_path):
    with pytest.raises(settings.SettingsError, match="unknown setting"):
        settings.write_file(tmp_path / "s.toml", {"seed": "3"})
    with pytest.raises(settings.SettingsError, match="non-empty"):
        settings.write_file(tmp_path / "s.toml", {"data": " "})
    with pytest.raises(ValueError, match="unknown setting"):
        settings.setting("seed")
