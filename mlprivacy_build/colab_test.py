"""Notebooks 01 and 02 as on Google Colab, through their setup cell (``make test-colab``).

1. builds ``build/colab-venv``: Python 3.13 with exactly Colab's versions
   (mlprivacy_build/colab_runtime.txt, installed with ``--no-deps``), plus nbval and coverage
   from the lock to run the notebooks, and a stand-in ``google.colab`` module that every
   Python process of that venv imports at start (a ``.pth`` file), as Colab's kernels do;
2. copies notebooks 01 and 02, changing one thing: the setup cell installs the helper package
   from this checkout instead of from GitHub (this machine reaches only package registries);
3. runs both under nbval (``--nbval-lax``) in that venv, with no ``MLPRIVACY_PROFILE``: the
   setup cell must install what Colab lacks and select the quick profile;
4. compares ``pip freeze`` after the run with Colab's versions (colab_runtime.txt): exactly
   dp-accounting, IBM ART, TF Privacy and the helper package must have been added, at the
   lock's versions, and nothing Colab had may have changed (a changed package is what makes
   Colab ask for a restart).

Datasets come from ``MLPRIVACY_DATA`` when set (on Colab the loaders download them).
Usage: mlprivacy-test-colab [--work build/colab-test] [--venv build/colab-venv]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from mlprivacy_build import colab

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = Path(__file__).resolve().parent / "colab_runtime.txt"
NOTEBOOKS = ("01_differential_privacy_basics.ipynb", "02_membership_inference_cifar10.ipynb")
HARNESS = ("nbval", "coverage")
STUB = '"""Stand-in for Colab\'s google.colab (make test-colab): Colab\'s kernels import it."""\n'


def freeze(python: Path) -> dict[str, str]:
    """Return {normalised name: version} of the packages installed for ``python``."""
    out = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--all"], check=True, capture_output=True, text=True
    ).stdout
    pins = {}
    for line in out.splitlines():
        if " @ " in line:
            name, source = line.split(" @ ", 1)
            pins[name.lower().replace("_", "-")] = source
        elif "==" in line:
            name, version = line.split("==", 1)
            pins[name.lower().replace("_", "-")] = version
    return pins


def runtime_pins() -> dict[str, str]:
    """Return {normalised name: version} of mlprivacy_build/colab_runtime.txt."""
    return {
        name.lower().replace("_", "-"): version
        for name, version in (
            line.split("==") for line in RUNTIME.read_text().splitlines()
            if line and not line.startswith("#")
        )
    }  # fmt: skip


def lock_versions(*names: str) -> list[str]:
    """Return ``name==version`` from requirements-lock.txt for each of ``names``."""
    lock = colab._pins(ROOT / "requirements-lock.txt")
    return [f"{name}=={lock[name]}" for name in names]


def build_venv(venv: Path) -> Path:
    """Create (or reuse, if built from the same runtime file) the Colab-like venv; return its
    Python."""
    python = venv / "bin" / "python"
    stamp = venv / ".colab-runtime-sha256"
    digest = hashlib.sha256(RUNTIME.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    base = subprocess.run(
        ["bash", str(ROOT / "scripts" / "find_python.sh"), "3.13"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--no-deps", "-r", str(RUNTIME)], check=True)
    subprocess.run([*pip, "--no-deps", *lock_versions(*HARNESS)], check=True)
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    (site / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (site / "google" / "colab" / "__init__.py").write_text(STUB)
    (site / "zz_colab_stand_in.pth").write_text("import google.colab\n")
    stamp.write_text(digest)
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "colab-test")
    parser.add_argument("--venv", type=Path, default=ROOT / "build" / "colab-venv")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    python = build_venv(args.venv.resolve())
    # Each run starts from Colab's state: take back what an earlier run's setup cell added.
    added_before = [
        n for n in ("dp-accounting", "adversarial-robustness-toolbox", "tensorflow-privacy",
                    "mlprivacy-helpers") if n in freeze(python)
    ]  # fmt: skip
    if added_before:
        subprocess.run(
            [str(python), "-m", "pip", "uninstall", "--quiet", "-y", *added_before], check=True
        )
    before = freeze(python)
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version.split()[0])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    shown = ", ".join(f"{n} {before[n]}" for n in ("tensorflow", "tf-keras", "numpy", "ipython"))
    print(f"==> Colab-like venv ({time.perf_counter() - start:.0f} s): Python {version}, {shown}")
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    local = f"{colab.PACKAGE} @ {ROOT.as_uri()}"
    for name in NOTEBOOKS:
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        setup = next(c for c in nb.cells if c.cell_type == "code")
        if colab.package_source() not in setup.source:
            print(f"{name}: its first code cell is not the Colab setup cell", file=sys.stderr)
            return 1
        setup.source = setup.source.replace(colab.package_source(), local)
        nbformat.write(nb, work / name)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLPRIVACY_", "PYTEST_", "VIRTUAL_ENV"))
        and k not in ("TF_USE_LEGACY_KERAS", "PYTHONPATH")
    }
    if os.environ.get("MLPRIVACY_DATA"):
        env["MLPRIVACY_DATA"] = os.environ["MLPRIVACY_DATA"]
    env.update(
        MLPRIVACY_CACHE=str(work / "models"),
        MLPRIVACY_RESULTS=str(work / "results"),
        PATH=f"{python.parent}:{env.get('PATH', '')}",
    )
    run = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            *(str(work / n) for n in NOTEBOOKS),
            "--nbval-lax",
            "--nbval-cell-timeout=900",
            "-p",
            "no:cacheprovider",
            "-q",
        ],  # fmt: skip
        env=env,
        cwd=work,
    )
    after = freeze(python)
    # Against Colab's own versions (not "before": a venv an earlier run had spoiled would hide it).
    on_colab = {**runtime_pins(), **{n: before[n] for n in (*HARNESS, "pip") if n in before}}
    added = {n: v for n, v in after.items() if n not in on_colab}
    changed = {
        n: (on_colab[n], after[n]) for n in on_colab if n in after and after[n] != on_colab[n]
    }
    removed = sorted(set(on_colab) - set(after))
    expected = {
        **{n: v for n, v in colab._pins(ROOT / "requirements-lock.txt").items()
           if n in colab.WITH_DEPS + colab.LOCK_NO_DEPS},
        **colab._pins(ROOT / "requirements-no-deps.txt"),
    }  # fmt: skip
    problems = []
    if run.returncode:
        problems.append(f"nbval failed (exit {run.returncode})")
    if set(added) != {*expected, colab.PACKAGE}:
        problems.append(f"added {sorted(added)}, expected {sorted({*expected, colab.PACKAGE})}")
    problems += [f"{n} installed at {added[n]}, the lock has {v}"
                 for n, v in expected.items() if added.get(n, v) != v]  # fmt: skip
    if changed or removed:
        problems.append(f"the setup cell changed what Colab has: {changed or ''} {removed or ''}")
    print(f"==> added by the setup cell: {', '.join(f'{n} {v}' for n, v in sorted(added.items()))}")
    print(f"==> changed: {changed or 'nothing'}; removed: {removed or 'nothing'}")
    print(f"==> {time.perf_counter() - start:.0f} s in all")
    for problem in problems:
        print(f"make test-colab: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
