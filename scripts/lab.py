"""Start the project's JupyterLab: the command behind `make lab` and the JupyterLab tests.

Opens on notebooks/ with this environment's kernel, the project's settings overrides
(jupyter/settings/overrides.json: no "get notified about Jupyter news?" pop-up, no update
check; the user's own settings are untouched) and results written to build/results/.
Extra arguments go to `jupyter lab` unchanged, e.g. `--port=9999 --no-browser`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lab_command(extra_args: list[str], root_dir: Path = ROOT / "notebooks") -> list[str]:
    """Return the argv that starts JupyterLab for this project, serving `root_dir`."""
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.app_settings_dir={ROOT / 'jupyter' / 'settings'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI run as root
    return argv + extra_args


def lab_environment(base: dict[str, str]) -> dict[str, str]:
    """Return the environment for the server and its kernels."""
    env = dict(base)
    # Kernels and settings of this environment win over any in the user's home folder,
    # so the notebooks run on the pinned stack even if ~/.local has a `python3` kernel.
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    env.setdefault("MLPRIVACY_RESULTS", str(ROOT / "build" / "results"))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if env.get("MLPRIVACY_DATA"):
        env["MLPRIVACY_DATA"] = str(Path(env["MLPRIVACY_DATA"]).expanduser().resolve())
    return env


if __name__ == "__main__":
    argv = lab_command(sys.argv[1:])
    os.execve(argv[0], argv, lab_environment(dict(os.environ)))
