"""The stack's two switches (mlprivacy_helpers.stack) and how TF Privacy is installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement

from mlprivacy_helpers import stack

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, **env: str | None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter; a ``None`` value removes that variable."""
    full = {k: v for k, v in os.environ.items() if k != stack.LEGACY_KERAS_VARIABLE}
    for key, value in env.items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=300
    )


def first_code_cells(notebook: str) -> str:
    """The code of a notebook's cells up to and including its version check and quiet imports."""
    cells = nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells
    code = []
    for cell in cells:
        if cell.cell_type == "code":
            code.append(cell.source)
            if "import_quietly(" in cell.source:
                break
    return "\n".join(code)


def test_a_notebooks_first_cells_give_keras_2_and_tf_privacys_attacks():
    probe = (
        first_code_cells("02_membership_inference_cifar10.ipynb")
        + "\nimport json, os, sys, tensorflow as tf\n"
        "from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (\n"
        "    membership_inference_attack as mia)\n"
        "from tensorflow_privacy.privacy.keras_models.dp_keras_model import DPModel\n"
        "print(json.dumps({'sequential': tf.keras.Sequential.__module__,\n"
        "    'variable': os.environ['TF_USE_LEGACY_KERAS'],\n"
        "    'skip': getattr(sys, 'skip_tf_privacy_import', None),\n"
        "    'dp_model_is_keras_2': issubclass(DPModel, tf.keras.Model),\n"
        "    'run_attacks': callable(mia.run_attacks)}))"
    )
    result = run_python(probe, TF_USE_LEGACY_KERAS=None)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["sequential"].startswith("tf_keras.")
    assert found == {**found, "variable": "1", "skip": True, "dp_model_is_keras_2": True}
    assert found["run_attacks"]


def test_without_the_switch_tensorflow_serves_keras_3():
    # The control: the test above means something only if Keras 3 is what TF gives otherwise.
    result = run_python(
        "import tensorflow as tf; print(tf.keras.Sequential.__module__)", TF_USE_LEGACY_KERAS=None
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("keras.")


def test_tensorflow_imported_first_with_keras_3_gives_a_clear_error():
    result = run_python(
        "import tensorflow as tf\ntf.keras.Sequential\nimport mlprivacy_helpers",
        TF_USE_LEGACY_KERAS=None,
    )
    assert result.returncode != 0
    assert "KerasVersionError" in result.stderr
    assert "Restart the kernel" in result.stderr


def test_tensorflow_imported_first_but_keras_unused_is_fine():
    # TensorFlow picks its Keras when tf.keras is first used, so importing it early is no harm.
    result = run_python(
        "import tensorflow as tf\nimport mlprivacy_helpers\nprint(tf.keras.Sequential.__module__)",
        TF_USE_LEGACY_KERAS=None,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("tf_keras.")


def test_a_contrary_setting_is_refused_not_overridden(monkeypatch):
    monkeypatch.setenv(stack.LEGACY_KERAS_VARIABLE, "0")
    with pytest.raises(ValueError, match="needs tf.keras to be Keras 2"):
        stack.configure()
    monkeypatch.setenv(stack.LEGACY_KERAS_VARIABLE, "True")
    stack.configure()
    assert os.environ[stack.LEGACY_KERAS_VARIABLE] == "True"
    monkeypatch.delenv(stack.LEGACY_KERAS_VARIABLE)
    stack.configure()
    assert os.environ[stack.LEGACY_KERAS_VARIABLE] == "1"
    assert sys.skip_tf_privacy_import is True
    assert stack.keras_is_legacy() in (True, None)


def test_our_package_does_not_declare_tf_privacy_or_its_stale_pins():
    """A plain `pip install` of the package must not resolve TF Privacy's metadata again."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {Requirement(r).name.lower() for r in project["dependencies"]}
    assert "tensorflow-privacy" not in names
    assert not names & {"tensorflow-estimator", "tensorflow-probability", "tf-models-official"}


def test_pip_install_of_the_package_changes_nothing_in_the_locked_environment(tmp_path):
    # Dependency resolution on (no --no-deps), no index: everything the package declares must
    # already be installed at a version its ranges accept, and nothing else may be pulled in.
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--no-build-isolation",
            "--quiet",
            "--report",
            str(report),
            str(ROOT),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    installs = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert installs == ["mlprivacy-helpers"], installs
