"""The workshop kit: one folder to copy to a USB stick, and the install from it (``make kit``).

``build --dest KIT --platform P [P ...] [--python X.Y ...] [--pages DIR] [--models DIR]``
writes::

    KIT/wheels/<platform>/   every pinned wheel for each Python (mlprivacy-platforms
                             wheelhouse; pure-Python wheels once, shared by the Pythons)
    KIT/data/                mnist.npz, cifar10.npz, olivetti_faces.npz, tiny_shakespeare.txt,
                             SHA256SUMS
    KIT/pages/               the rendered notebooks (--pages: build/html of a quick `make run`)
    KIT/models/              a warm model cache (--models), with models/NOTE.md
    KIT/README.md            what a learner types, in order

and prints the size of each part. ``install --kit KIT`` runs on a learner's laptop after
``make venv WHEELHOUSE=KIT/wheels/<platform>`` (``make install-kit`` does both, with no
network): it copies the datasets into the per-user data cache (verified against
``SHA256SUMS``), merges the kit's model cache into the per-user model cache, and writes the
project's settings file (``mlprivacy.toml``: the kit's data folder and the quick profile), so
that ``make lab-learner`` works later with no network and no exported variable.

Usage: mlprivacy-kit build --dest build/kit --platform linux-x86_64 [--pages build/html]
       mlprivacy-kit install --kit /media/usb/kit
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from mlprivacy_build import platforms
from mlprivacy_helpers import cache, data, settings

ROOT = Path(__file__).resolve().parents[1]

LEARNER_README = """\
# Workshop kit: install on your laptop, with no network

You need: this folder (on the USB stick or copied to your disk), a clone of the course
repository, Python {pythons}, `make` (macOS: `xcode-select --install`; Windows: WSL2), and
about 3 GB of free disk space for the environment.

1. In the course repository, install everything from the kit, with no network:

       make install-kit KIT={kit}

   (where `{kit}` is this folder; it builds `.venv` from `wheels/`, copies the datasets
   and the trained models into your caches and remembers the settings in `mlprivacy.toml`.)

2. Open the exercises:

       make lab-learner

   and open the URL it prints. Run notebook 01 first (Run All): its first cell prints the
   versions it found.

No laptop that works? Read along in `pages/index.html` in this folder (it opens in any
browser, offline), or ask for the dev container / Binder link.

Platforms in this kit: {platforms}; Pythons: {pythons}.
"""

MODELS_NOTE = """\
# A warm model cache

{size:.0f} MB of models trained by the quick profile (`MLPRIVACY_PROFILE=quick make run`) on
the instructor's machine. A cache entry is keyed by the library versions, the seed, the data and
the training settings, so these models are used only by the same pinned library versions (the
kit's wheels) and the quick profile; anything else trains again, it never loads a stale model.
`make install-kit` merges them into `~/.cache/mlprivacy/models`.
"""


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def build(
    dest: Path,
    platform_names: list[str],
    pages: Path | None,
    models: Path | None,
    pythons: list[str] | None = None,
) -> int:
    """Write the kit into ``dest`` with wheels for each platform and Python (default: all of
    ``platforms.PYTHONS``); return the exit status (0 when every part is there)."""
    unknown = [p for p in platform_names if p not in platforms.TARGETS]
    if unknown:
        print(f"kit: unknown platform(s) {unknown}; choose from {', '.join(platforms.TARGETS)}")
        return 2
    pythons = list(pythons or platforms.PYTHONS)
    unknown = [p for p in pythons if p not in platforms.PYTHONS]
    if unknown:
        print(f"kit: unknown Python(s) {unknown}; choose from {', '.join(platforms.PYTHONS)}")
        return 2
    dest.mkdir(parents=True, exist_ok=True)
    for name in platform_names:
        print(f"==> wheels for {name}, Python {', '.join(pythons)}", flush=True)
        if platforms.wheelhouse(name, dest / "wheels" / name, pythons):
            return 1
    print("==> datasets", flush=True)
    fetched = data.fetch_all()
    (dest / "data").mkdir(exist_ok=True)
    for item in fetched:
        shutil.copyfile(item.path, dest / "data" / item.path.name)
    (dest / "data" / "SHA256SUMS").write_text(
        "".join(f"{item.sha256}  {item.path.name}\n" for item in fetched)
    )
    if pages is not None:
        if not (pages / "index.html").is_file():
            print(f"kit: no rendered pages in {pages} (make run first)", file=sys.stderr)
            return 2
        shutil.rmtree(dest / "pages", ignore_errors=True)
        shutil.copytree(pages, dest / "pages")
    if models is not None and models.resolve() != (dest / "models").resolve():
        shutil.copytree(models, dest / "models", dirs_exist_ok=True)
    if (dest / "models").is_dir():
        note = MODELS_NOTE.format(size=_size(dest / "models") / 1e6)
        (dest / "models" / "NOTE.md").write_text(note)
    (dest / "README.md").write_text(
        LEARNER_README.format(
            kit=dest.resolve(), platforms=", ".join(platform_names), pythons=" or ".join(pythons)
        )
    )
    print(f"==> kit in {dest.resolve()}")
    for part in ("wheels", "data", "pages", "models"):
        if (dest / part).exists():
            print(f"  {part:<7} {_size(dest / part) / 1e6:8.0f} MB")
    print(f"  total   {_size(dest) / 1e6:8.0f} MB")
    return 0


def install(kit: Path) -> int:
    """Set this checkout up from ``kit`` (after its .venv was built from the kit's wheels)."""
    if not (kit / "data" / "SHA256SUMS").is_file():
        print(f"kit: {kit} is not a workshop kit (no data/SHA256SUMS)", file=sys.stderr)
        return 2
    os.environ["MLPRIVACY_DATA"] = str((kit / "data").resolve())
    try:
        fetched = data.fetch_all()
    except data.DatasetUnavailableError as exc:
        print(f"kit: {exc}", file=sys.stderr)
        return 2
    print(f"==> datasets verified and copied into {data.data_cache_dir()} ({len(fetched)} files)")
    models = kit / "models"
    target = cache.cache_dir()
    if models.is_dir() and target is not None:
        shutil.copytree(models, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md"))
        print(f"==> the kit's trained models merged into {target}")
    written = settings.write_file(
        settings.project_file(), {"data": str((kit / "data").resolve()), "profile": "quick"}
    )
    print(f"==> settings written to {written} (data folder and the quick profile)")
    print("==> done. Open the exercises with:  make lab-learner")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write the kit")
    b.add_argument("--dest", type=Path, default=ROOT / "build" / "kit")
    b.add_argument("--platform", nargs="+", default=None, help="default: this machine's")
    b.add_argument("--python", nargs="+", default=None, help="default: 3.11, 3.12 and 3.13")
    b.add_argument("--pages", type=Path, default=None, help="rendered pages (build/html)")
    b.add_argument("--models", type=Path, default=None, help="a model cache to include")
    i = sub.add_parser("install", help="set this checkout up from a kit (after make venv)")
    i.add_argument("--kit", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "build":
        names = args.platform or [platforms.host_target()]
        return build(args.dest, names, args.pages, args.models, args.python)
    return install(args.kit)


if __name__ == "__main__":
    sys.exit(main())
