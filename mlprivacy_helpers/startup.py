"""Import the libraries the notebooks teach without their known, harmless start-up noise.

On a laptop without a GPU, importing TensorFlow 2.21 prints C++ log lines such as ``Could
not find cuda drivers`` (twice), ``All log messages before absl::InitializeLog() is called
are written to STDERR`` and the CPU-instructions notice, and the first use of its devices
prints ``failed call to cuInit`` (an ``E``-level line: there is no CUDA driver) and its first
generator dataset ``Memory patch applied: M_TRIM_THRESHOLD=128 kb was set``; TensorFlow
2.15 printed ``Unable to register cuDNN factory`` and ``Could not find TensorRT`` instead;
and IBM ART warns ``PyTorch not found`` because it also supports PyTorch. In JupyterLab each
of these appears as a red stderr box that looks like a failure. :func:`import_quietly`
imports a module once with exactly those messages removed; every other message is passed
through, so a real problem still shows. For TensorFlow it also lists the devices inside the
filter, and reads a one-element generator dataset there, so that the ``cuInit`` and memory-patch
lines come (and go) then rather than under a later cell. A
later ``import tensorflow as tf`` then finds the module already imported and prints nothing.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

# C++ log lines (written straight to file descriptor 2) that a CPU-only machine always
# prints while TensorFlow loads (2.21; the first three were 2.15's) and first looks for its
# devices. Each pattern matches one understood message.
KNOWN_NATIVE_STARTUP_LINES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"Unable to register cu(DNN|FFT|BLAS) factory: Attempting to register factory",
        r"Could not find cuda drivers on your machine, GPU will not be used",
        r"TF-TRT Warning: Could not find TensorRT",
        r"oneDNN custom operations are on\. You may see slightly different numerical results",
        r"This TensorFlow binary is optimized to use available CPU instructions",
        r"^To enable the following instructions: .* rebuild TensorFlow",
        r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
        r"STDERR$",
        r"cuda_platform\.cc:\d+\] failed call to cuInit: .*CUDA error: Failed call to cuInit: "
        r"(UNKNOWN ERROR \(303\)|CUDA_ERROR_NO_DEVICE|CUDA_ERROR_NOT_FOUND)",
        # 2.21, once per process, when the first generator dataset runs (TF fixes glibc's
        # malloc trim threshold): an INFO line, not a problem.
        r"generator_dataset_op\.cc:\d+\] Memory patch applied: M_TRIM_THRESHOLD=\d+ kb was set\.?$",
    )
)

# Python warnings raised while these libraries are imported: (message regex, category).
KNOWN_IMPORT_WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    # ART's certification module, which needs PyTorch; the notebooks do not use it.
    (r"PyTorch not found\. Not importing DeepZ", UserWarning),
)


@contextmanager
def _filtered_native_stderr(patterns: Sequence[re.Pattern[str]]) -> Iterator[None]:
    """Route file descriptor 2 to a temporary file; on exit, re-emit every unmatched line."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = [
                line
                for line in text.splitlines(keepends=True)
                if not any(p.search(line) for p in patterns)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _run_one_generator_dataset(tf) -> None:
    """Build and read a one-element ``tf.data.Dataset.from_generator``. Returns ``None``."""
    spec = tf.TensorSpec(shape=(), dtype=tf.int32)
    for _ in tf.data.Dataset.from_generator(lambda: iter((0,)), output_signature=spec):
        pass


def import_quietly(*module_names: str) -> None:
    """Import each named module with only the known start-up messages above removed.

    Returns ``None``: import the modules as usual afterwards (``import tensorflow as tf``),
    which then prints nothing. A module that is already imported is skipped (its start-up
    has happened). Any other message printed during the import, and any exception, comes
    through unchanged. Raises ``TypeError`` for a name that is not
    a string and ``ValueError`` for an empty one.
    """
    for name in module_names:
        if not isinstance(name, str):
            raise TypeError(f"module names must be strings, got {type(name).__name__}")
        if not name.strip():
            raise ValueError("module names must not be empty")
    for name in module_names:
        if name in sys.modules:
            continue
        with warnings.catch_warnings():
            for message, category in KNOWN_IMPORT_WARNINGS:
                warnings.filterwarnings("ignore", message=message, category=category)
            with _filtered_native_stderr(KNOWN_NATIVE_STARTUP_LINES):
                module = importlib.import_module(name)
                if name == "tensorflow":
                    # The first device lookup prints the cuInit line on a machine without
                    # CUDA; do it here, filtered, instead of under the first cell that runs an op.
                    module.config.list_physical_devices()
                    # TF 2.21's first generator dataset prints "Memory patch applied" once
                    # per process (notebooks 02-04 build one for Poisson-sampled DP-SGD).
                    _run_one_generator_dataset(module)
