"""The workshop kit, tried as on a learner's laptop with no network (``make test-kit``).

1. builds a kit from this checkout (``make kit PAGES=0``: wheels for this machine and this
   environment's Python, and the datasets, from ``MLPRIVACY_DATA`` when set);
2. clones the repository's committed state into a fresh folder;
3. with the network cut off (``unshare -n``, loopback only, so it must run as root on Linux), runs
   ``make install-kit KIT=...`` in the clone, with empty per-user cache and config folders
   and no ``MLPRIVACY_*`` variable;
4. still offline and still with no variable, runs notebook 01 top to bottom and notebooks 02
   and 05 up to and including the cells that load CIFAR-10 and Tiny Shakespeare, in the
   clone's environment: the profile and the datasets must come from what ``install-kit`` set up;
5. starts ``make lab-learner`` there, offline, and checks that it serves the learner edition
   of every notebook.

Prints how long each step took and the kit's size per part; exit status 1 on any failure.
Not part of ``make test`` (it builds a 1 GB kit and a 3 GB environment); ``.ci/run`` runs it last.

Usage: mlprivacy-test-kit [--work build/kit-test]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB01 = "01_differential_privacy_basics.ipynb"
NB02 = "02_membership_inference_cifar10.ipynb"
NB05 = "05_memorization_secret_sharer.ipynb"
# The notebook code run inside the clone, offline: nb01 whole, nb02 and nb05 through their data
# cells (CIFAR-10; Tiny Shakespeare).
RUN_NOTEBOOKS = f"""
import os, sys, nbformat
from nbclient import NotebookClient
assert not [k for k in os.environ if k.startswith("MLPRIVACY_")], "no variable may help"
for name, upto in (("{NB01}", None), ("{NB02}", "data.load_cifar10()"),
                   ("{NB05}", "data.load_tiny_shakespeare()")):
    nb = nbformat.read(os.path.join("notebooks", name), as_version=4)
    if upto:
        last = next(i for i, c in enumerate(nb.cells) if upto in c.source)
        nb.cells = nb.cells[: last + 1]
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={{"metadata": {{"path": "notebooks"}}}}).execute()
    texts = [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])]
    assert any("profile=quick" in t for t in texts), "the settings file must select quick"
    print(f"{{name}}: {{len(nb.cells)}} cells ran offline", flush=True)
"""

# `make lab-learner` in the clone, offline: the server must start and serve the learner edition.
LAB_LEARNER = """
import glob, json, os, secrets, signal, socket, subprocess, sys, time, urllib.request
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
token = secrets.token_hex(8)
args = f"--no-browser --ServerApp.ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
server = subprocess.Popen(["make", "lab-learner", f"LAB_ARGS={args}"], start_new_session=True)
try:
    deadline = time.monotonic() + 120
    while True:
        try:
            url = f"http://127.0.0.1:{port}/api/contents/?token={token}"
            listing = json.load(urllib.request.urlopen(url, timeout=5))
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("make lab-learner did not serve the learner edition")
            time.sleep(1)
    names = sorted(i["name"] for i in listing["content"] if i["type"] == "notebook")
    want = sorted(os.path.basename(p) for p in glob.glob("notebooks/[0-9][0-9]_*.ipynb"))
    assert names == want, (names, want)
    print(f"make lab-learner served {len(names)} learner notebooks offline", flush=True)
finally:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
"""


def step(label: str, command: list[str], **kwargs) -> float:
    """Run ``command``; print and return its seconds; raise on failure."""
    shown = " ".join(command)
    print(f"==> {label}: {shown if len(shown) < 200 else shown[:120] + ' ...'}", flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    seconds = time.perf_counter() - start
    print(f"    {label}: {seconds:.0f} s", flush=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "kit-test")
    args = parser.parse_args(argv)
    tools = all(shutil.which(tool) for tool in ("unshare", "ip"))
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not tools:
        print("make test-kit cuts the network with `unshare -n` (and `ip`): root on Linux")
        return 2
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    kit, clone, home = work / "kit", work / "clone", work / "home"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    times = {}
    try:
        times["build the kit"] = step(
            "build the kit",
            ["make", "-C", str(ROOT), "kit", f"KIT={kit}", "PAGES=0", f"PYTHONS={python}"],
        )
        times["clone"] = step("clone", ["git", "clone", "--quiet", str(ROOT), str(clone)])
        # The clone's `make venv` must use this Python, the one the kit's wheels are for.
        env_python = [f"PYTHON={sys.base_prefix}/bin/python{python}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLPRIVACY_")}
        env.update(
            XDG_CACHE_HOME=str(home / "cache"),
            XDG_CONFIG_HOME=str(home / "config"),
            PIP_NO_INDEX="1",
            PIP_CACHE_DIR=str(home / "pip-cache"),
        )
        # A new network namespace: no network at all, and loopback up (as on a laptop with
        # its Wi-Fi off), which JupyterLab and its kernels need to talk to each other.
        offline = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]
        times["install from the kit, offline"] = step(
            "install from the kit, offline",
            [*offline, "make", "-C", str(clone), "install-kit", f"KIT={kit}", *env_python],
            env=env,
        )
        times["notebook 01, and 02's and 05's data, offline"] = step(
            "notebook 01, and 02's and 05's data, offline",
            [*offline, str(clone / ".venv" / "bin" / "python"), "-c", RUN_NOTEBOOKS],
            env=env,
            cwd=clone,
        )
        times["make lab-learner, offline"] = step(
            "make lab-learner, offline",
            [*offline, str(clone / ".venv" / "bin" / "python"), "-c", LAB_LEARNER],
            env=env,
            cwd=clone,
        )
    except subprocess.CalledProcessError as exc:
        print(f"make test-kit: FAILED at: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return 1
    print("==> the kit works offline")
    for label, seconds in times.items():
        print(f"  {label:<38} {seconds:6.0f} s")
    for part in sorted(p for p in kit.iterdir() if p.is_dir()):
        size = sum(f.stat().st_size for f in part.rglob("*") if f.is_file())
        print(f"  kit/{part.name:<34} {size / 1e6:6.0f} MB")
    venv_size = sum(f.stat().st_size for f in (clone / ".venv").rglob("*") if f.is_file())
    print(f"  {'the .venv it installed':<38} {venv_size / 1e6:6.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
