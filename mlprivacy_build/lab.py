"""Start the project's JupyterLab: the command behind `make lab`, `make lab-learner` and the tests.

Opens on notebooks/ (the solved notebooks), or with ``--learner`` on build/learner/ (the
learner edition, see mlprivacy_build/make_learner.py), with this environment's kernel, the project's
settings overrides (jupyter/settings/overrides.json: no "get notified about Jupyter news?"
pop-up, no update check; the user's own settings are untouched) and results written to
build/results/. Extra arguments go to `jupyter lab` unchanged, e.g. `--port=9999
--no-browser`; a folder of the user's own (`--ServerApp.root_dir=DIR` or `--notebook-dir=DIR`)
replaces the default one.

Start-up noise that tells a learner nothing is left out: the served notebooks are signed as
trusted before the server starts (they are the project's own and carry no outputs, so there is
nothing to distrust; the server warned "Notebook ... is not trusted" for each one opened), and
jupyter-lsp does not look for language servers, none of which the project installs. Kernels
talk to the server over TCP on 127.0.0.1 encrypted with CurveZMQ keys that the server
provisions for each kernel (ipykernel's kernelspec declares the support), so ipykernel no
longer warns "Kernel is running over TCP without encryption". (Its IPC transport would also
silence that, but IPC socket paths under Jupyter's runtime folder exceed the 104-107
characters Unix sockets allow in deep home folders.)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import nbformat
from nbformat.sign import NotebookNotary

ROOT = Path(__file__).resolve().parents[1]
SOLVED_DIR = ROOT / "notebooks"
LEARNER_DIR = ROOT / "build" / "learner"
# Options with which a user names the folder to serve (jupyter_server's alias and traits).
ROOT_DIR_OPTIONS = ("--ServerApp.root_dir", "--notebook-dir", "--ServerApp.notebook_dir")


def user_root_dir(extra_args: Sequence[str]) -> str | None:
    """Return the folder the user asked to serve in ``extra_args`` (None if not given)."""
    for i, arg in enumerate(extra_args):
        name, equals, value = arg.partition("=")
        if name in ROOT_DIR_OPTIONS:
            if equals:
                return value
            if i + 1 < len(extra_args):
                return extra_args[i + 1]
    return None


def lab_command(extra_args: list[str], root_dir: Path = SOLVED_DIR) -> list[str]:
    """Return the argv that starts JupyterLab for this project, serving ``root_dir``.

    A folder given in ``extra_args`` (see :data:`ROOT_DIR_OPTIONS`) wins over ``root_dir``.
    """
    argv = [sys.executable, "-m", "jupyterlab"]
    if user_root_dir(extra_args) is None:
        argv.append(f"--ServerApp.root_dir={root_dir}")
    argv += [
        f"--LabApp.app_settings_dir={ROOT / 'jupyter' / 'settings'}",
        "--LanguageServerManager.autodetect=False",
        "--KernelManager.transport_encryption=auto",
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


def trust_notebooks(folder: Path, env: dict[str, str]) -> list[Path]:
    """Sign every notebook directly in ``folder`` that has no outputs as trusted.

    Uses the signature store of the Jupyter data folder that ``env`` selects (the server's
    own), and returns the notebooks signed. A notebook with outputs is left as it is: only
    its author can vouch for them.
    """
    keys = ("JUPYTER_DATA_DIR", "JUPYTER_PREFER_ENV_PATH")
    with mock.patch.dict(os.environ, {k: env[k] for k in keys if env.get(k) is not None}):
        notary = NotebookNotary()
        signed = []
        for path in sorted(folder.glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            if any(c.cell_type == "code" and c.get("outputs") for c in nb.cells):
                continue
            if not notary.check_signature(nb):
                notary.sign(nb)
            signed.append(path)
        return signed


def main(argv: list[str] | None = None) -> None:
    """Start JupyterLab (``--learner``: on the learner edition); does not return."""
    args = list(sys.argv[1:] if argv is None else argv)
    root_dir = SOLVED_DIR
    if "--learner" in args:
        args.remove("--learner")
        root_dir = LEARNER_DIR
    env = lab_environment(dict(os.environ))
    served = Path(user_root_dir(args) or root_dir).expanduser()
    if not served.is_dir():
        sys.exit(f"lab: no folder {served} to serve (the learner edition: `make lab-learner`)")
    trust_notebooks(served, env)
    command = lab_command(args, root_dir)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv[1:])
