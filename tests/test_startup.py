"""mlprivacy_helpers.startup: only the known start-up messages are removed, nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from mlprivacy_helpers import startup

NOISY_MODULE = textwrap.dedent(
    """
    import os, warnings
    os.write(2, b"2026-01-01 E cuda_dnn.cc:9261] Unable to register cuDNN factory: "
                b"Attempting to register factory for plugin cuDNN when one has already "
                b"been registered\\n")
    os.write(2, b"a real native error the learner must see\\n")
    warnings.warn("PyTorch not found. Not importing DeepZ or Interval Bound", UserWarning)
    warnings.warn("a real warning the learner must see", UserWarning)
    """
)


# What notebooks 02-04 do after the import: DP-SGD's Poisson sampling reads a generator dataset.
READ_A_GENERATOR = (
    "spec = tf.TensorSpec((), tf.int32)\n"
    "list(tf.data.Dataset.from_generator(lambda: iter((1, 2)), output_signature=spec))\n"
)


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=300
    )


def test_known_lines_and_warnings_are_removed_others_kept(tmp_path):
    (tmp_path / "noisy_module.py").write_text(NOISY_MODULE)
    code = (
        "from mlprivacy_helpers.startup import import_quietly\n"
        "import warnings; warnings.simplefilter('always')\n"
        "import_quietly('noisy_module'); import sys; print(sys.modules['noisy_module'].__name__)"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "noisy_module"
    assert "Unable to register cuDNN factory" not in result.stderr
    assert "PyTorch not found" not in result.stderr
    assert "a real native error the learner must see" in result.stderr
    assert "a real warning the learner must see" in result.stderr


def test_the_same_module_imported_plainly_is_noisy(tmp_path):
    # The control: without import_quietly every message shows, so the test above means something.
    (tmp_path / "noisy_module.py").write_text(NOISY_MODULE)
    result = run_python("import noisy_module", tmp_path)
    assert "Unable to register cuDNN factory" in result.stderr
    assert "PyTorch not found" in result.stderr


def test_import_errors_come_through(tmp_path):
    (tmp_path / "broken_module.py").write_text(
        "import os\nos.write(2, b'before\\n')\nraise ImportError('boom')\n"
    )
    code = "from mlprivacy_helpers.startup import import_quietly\nimport_quietly('broken_module')"
    result = run_python(code, tmp_path)
    assert result.returncode != 0
    assert "ImportError: boom" in result.stderr
    assert "before" in result.stderr


def test_tensorflow_and_art_start_silently(tmp_path):
    code = (
        "from mlprivacy_helpers.startup import import_quietly\n"
        "import_quietly('tensorflow', 'art.estimators.classification')\n"
        "import tensorflow as tf, art\n"
        "print(tf.__version__)\n" + READ_A_GENERATOR
    )
    result = run_python(code, tmp_path, TF_CPP_MIN_LOG_LEVEL="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == metadata.version("tensorflow")
    assert result.stderr.strip() == "", f"unexpected start-up output:\n{result.stderr}"


def test_already_imported_module_is_left_alone():
    module = sys.modules["json"]
    assert startup.import_quietly("json") is None
    assert sys.modules["json"] is module


@pytest.mark.parametrize(("name", "error"), [(3, TypeError), ("  ", ValueError)])
def test_bad_names(name, error):
    with pytest.raises(error):
        startup.import_quietly(name)


TF_2_21_STARTUP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796550645.018692    6148 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "I0000 00:00:1796550645.073324    6148 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    "with the appropriate compiler flags.",
    "E0000 00:00:1796550648.312731    6148 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "I0000 00:00:1796577873.769369   12190 generator_dataset_op.cc:213] Memory patch applied: "
    "M_TRIM_THRESHOLD=128 kb was set.",
)
# Lines that look alike but say something else: they must still show.
NEAR_MISSES = (
    "E0000 00:00:1796550648.312731    6148 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: CUDA_ERROR_OUT_OF_MEMORY",
    "E0000 00:00:1796550648.312731    6148 cuda_executor.cc:9] failed to allocate 4.0G",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR, "
    "and 3 were dropped",
    "W0000 00:00:1796577873.769369   12190 generator_dataset_op.cc:108] Error occurred when "
    "finalizing GeneratorDataset iterator: FAILED_PRECONDITION: Python interpreter state is not "
    "initialized. The process may be terminated.",
)


def known(line: str) -> bool:
    return any(p.search(line) for p in startup.KNOWN_NATIVE_STARTUP_LINES)


def test_tensorflow_2_21s_start_up_lines_are_known_and_their_look_alikes_are_not():
    assert all(known(line) for line in TF_2_21_STARTUP)
    assert not any(known(line) for line in NEAR_MISSES)


def test_without_the_filter_tensorflow_prints_its_start_up_lines(tmp_path):
    # The control for test_tensorflow_and_art_start_silently: the lines are really there.
    code = "import tensorflow as tf\ntf.config.list_physical_devices()\n" + READ_A_GENERATOR
    result = run_python(code, tmp_path, TF_CPP_MIN_LOG_LEVEL="0")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(known(line) for line in lines), result.stderr
    assert any("Memory patch applied" in line for line in lines), result.stderr
