"""Shared fixtures: every test runs with an empty model cache and private cache folders."""

from __future__ import annotations

import os

import pytest

import mlprivacy_helpers.stack

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Before any test module imports TensorFlow or TF Privacy: tf.keras as Keras 2 and TF Privacy's
# import switch (what `import mlprivacy_helpers` does in the notebooks).
mlprivacy_helpers.stack.configure()


@pytest.fixture(autouse=True)
def _isolated_caches(tmp_path, monkeypatch):
    """Point the model cache, data cache and results folder at fresh temporary folders."""
    monkeypatch.setenv("MLPRIVACY_CACHE", str(tmp_path / "model-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("MLPRIVACY_RESULTS", str(tmp_path / "results"))
    # No settings file of the developer's (~/.config/mlprivacy, the checkout's mlprivacy.toml)
    # may steer a test: point the settings at a file that does not exist.
    monkeypatch.setenv("MLPRIVACY_SETTINGS", str(tmp_path / "no-settings.toml"))
