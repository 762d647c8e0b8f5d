"""Profile, seed and version-check helpers."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

from mlprivacy_helpers import config


def test_profile_defaults_to_full_and_validates(monkeypatch):
    monkeypatch.delenv("MLPRIVACY_PROFILE", raising=False)
    assert config.get_profile() == "full"
    monkeypatch.setenv("MLPRIVACY_PROFILE", " Quick ")
    assert config.get_profile() == "quick"
    monkeypatch.setenv("MLPRIVACY_PROFILE", "fast")
    with pytest.raises(ValueError, match="MLPRIVACY_PROFILE"):
        config.get_profile()


def test_seed_from_environment(monkeypatch):
    monkeypatch.delenv("MLPRIVACY_SEED", raising=False)
    assert config.get_seed() == 0
    monkeypatch.setenv("MLPRIVACY_SEED", "3")
    assert config.get_seed() == 3
    for bad in ("x", "-1"):
        monkeypatch.setenv("MLPRIVACY_SEED", bad)
        with pytest.raises(ValueError, match="MLPRIVACY_SEED"):
            config.get_seed()


@pytest.mark.parametrize("bad", ["99999999999", str(2**32), "1.5", "1e3", "0x10", "1_000", "+"])
def test_seed_outside_numpys_range_or_not_an_integer_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv("MLPRIVACY_SEED", bad)
    with pytest.raises(ValueError, match="MLPRIVACY_SEED") as info:
        config.get_seed()
    assert "2**32" in str(info.value)


def test_largest_numpy_seed_is_accepted_and_usable(monkeypatch):
    monkeypatch.setenv("MLPRIVACY_SEED", str(2**32 - 1))
    seed = config.get_seed()
    assert seed == 2**32 - 1
    config.set_seed(seed)  # NumPy accepts it
    with pytest.raises(ValueError, match="2\\*\\*32"):
        config.set_seed(2**32)


def test_set_seed_does_not_pretend_to_set_pythonhashseed(monkeypatch):
    # PYTHONHASHSEED is read once at interpreter start-up; setting it at run time has no
    # effect on this process, so set_seed must not touch it.
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    config.set_seed(5)
    assert "PYTHONHASHSEED" not in os.environ


def test_set_seed_makes_python_numpy_and_tensorflow_repeat():
    import tensorflow as tf

    def draw():
        return (random.random(), np.random.rand(), float(tf.random.uniform(())))

    config.set_seed(7)
    first = draw()
    config.set_seed(7)
    assert draw() == first
    config.set_seed(8)
    assert draw() != first


def test_set_seed_rejects_bad_seeds():
    with pytest.raises(TypeError, match="seed"):
        config.set_seed("1")
    with pytest.raises(TypeError, match="seed"):
        config.set_seed(True)
    with pytest.raises(ValueError, match="seed"):
        config.set_seed(-1)


def test_check_versions_passes_and_reports():
    found = config.check_versions({"numpy": ">=1.20", "pytest": ">0"})
    assert found["numpy"] == np.__version__


def test_check_versions_explains_mismatch_and_absence():
    with pytest.raises(RuntimeError) as info:
        config.check_versions({"numpy": "<1", "surely-not-installed-pkg": "==1.0"})
    message = str(info.value)
    assert f"numpy: {np.__version__} installed, need <1" in message
    assert "surely-not-installed-pkg: not installed" in message
    assert "requirements-lock.txt" in message
    with pytest.raises(ValueError, match="numpy"):
        config.check_versions({"numpy": "about two"})


def test_notebook_parameters_override_the_environment(monkeypatch):
    # The parameters cells hold PROFILE = None and SEED = None; papermill may inject values.
    monkeypatch.setenv("MLPRIVACY_PROFILE", "full")
    monkeypatch.setenv("MLPRIVACY_SEED", "7")
    assert config.get_profile(None) == "full" and config.get_seed(None) == 7
    assert config.get_profile("quick") == "quick" and config.get_profile(" Full ") == "full"
    assert config.get_seed(3) == 3


def test_bad_notebook_parameters_name_the_parameter():
    with pytest.raises(ValueError, match="PROFILE must be one of"):
        config.get_profile("fast")
    with pytest.raises(TypeError, match="PROFILE"):
        config.get_profile(1)
    with pytest.raises(ValueError, match="SEED"):
        config.get_seed(2**32)
    with pytest.raises(TypeError, match="SEED"):
        config.get_seed("3")
