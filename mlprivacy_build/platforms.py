"""Can learners' laptops install the lock? And a wheelhouse for a room without Wi-Fi.

``check [PLATFORM ...] [--python 3.11 3.12 3.13]`` (``make check-platforms``) resolves
requirements-lock.txt for each platform and each Python with pip's ``install --dry-run
--ignore-installed --target <tmp> --platform ... --python-version X.Y --only-binary=:all:``:
every pin must come as a wheel for that platform and Python, except the pure-Python packages
in ``SOURCE_ONLY`` (no wheel on the index), which are built into wheels first and must come
out as ``*-none-any.whl``. pip installs the pins with ``--no-deps`` (the lock lists every
package) and reports each wheel's metadata; this script then checks that every dependency
those wheels declare for the target platform and Python is pinned in the lock at a version
that satisfies it (``Target.allowed_unmet`` lists documented exceptions). The pins of
requirements-no-deps.txt (TF Privacy) are resolved the way ``make venv`` installs them,
with ``--ignore-requires-python``, and their declared dependencies are not checked: the lock
pins what their code imports instead (see that file). Needs the package index.

``wheelhouse --platform PLATFORM --python X.Y [X.Y ...] --dest DIR`` (``make wheelhouse``)
downloads every pinned wheel for the platform and each Python into one folder (pure-Python
wheels are shared), the wheels built from ``SOURCE_ONLY``, and pip and setuptools (to
install the helper package), so that ``make venv WHEELHOUSE=DIR`` installs with no network
on any of those Pythons.

Platforms: linux-x86_64 (glibc 2.17 to 2.35 wheels: any Linux of the last decade),
macos-arm64 (macOS 14 or newer on Apple silicon), windows-x86_64 (native Windows; resolved
here, not run here). Pythons: 3.11 (3.11.5 or newer), 3.12, 3.13.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements-lock.txt"
# Installed after the lock with `pip install --no-deps --ignore-requires-python` (TF Privacy).
NO_DEPS = ROOT / "requirements-no-deps.txt"
# The Pythons the lock is for, each with the oldest release it installs on (soupsieve 3.0.2
# and later require Python >= 3.11.5).
PYTHONS = {"3.11": "3.11.5", "3.12": "3.12.0", "3.13": "3.13.0"}
# Pinned packages that publish no wheel, only an sdist; all pure Python (checked when built).
# None since TF Privacy's declared dependencies (tf-models-official brought promise and
# seqeval) are no longer installed.
SOURCE_ONLY: tuple[str, ...] = ()
# pip and setuptools for `make venv WHEELHOUSE=...` (pip upgrade, `pip install -e .`).
BOOTSTRAP = ("pip>=23.2", "setuptools>=77")


@dataclass(frozen=True)
class Target:
    """One platform: pip's --platform tags and the environment its markers are evaluated in."""

    tags: tuple[str, ...]
    markers: dict[str, str]
    # (package, dependency) pairs whose dependency is deliberately not installed there.
    allowed_unmet: tuple[tuple[str, str], ...] = ()


def _markers(sys_platform: str, system: str, machine: str, os_name: str) -> dict[str, str]:
    """The marker environment of a platform (the Python is filled in by :func:`markers_for`)."""
    env = dict(default_environment())
    env.update(
        sys_platform=sys_platform,
        platform_system=system,
        platform_machine=machine,
        os_name=os_name,
        implementation_name="cpython",
        platform_python_implementation="CPython",
        platform_release="",
        platform_version="",
    )
    return env


TARGETS: dict[str, Target] = {
    "linux-x86_64": Target(
        tags=tuple(f"manylinux_2_{minor}_x86_64" for minor in range(35, 16, -1))
        + ("manylinux2014_x86_64",),
        markers=_markers("linux", "Linux", "x86_64", "posix"),
    ),
    "macos-arm64": Target(
        tags=("macosx_14_0_arm64",),  # pip adds 11.0 to 13.x and universal2
        markers=_markers("darwin", "Darwin", "arm64", "posix"),
    ),
    "windows-x86_64": Target(
        tags=("win_amd64",),
        markers=_markers("win32", "Windows", "AMD64", "nt"),
    ),
}
SUPPORTED = ("linux-x86_64", "macos-arm64", "windows-x86_64")


def markers_for(target: Target, python: str) -> dict[str, str]:
    """Return ``target``'s marker environment on Python ``python`` (a key of PYTHONS)."""
    if python not in PYTHONS:
        raise ValueError(f"python must be one of {', '.join(PYTHONS)}, got {python!r}")
    return {**target.markers, "python_version": python, "python_full_version": PYTHONS[python]}


def host_target() -> str:
    """Return the TARGETS name of this machine; raises ValueError on another platform."""
    system, machine = platform.system(), platform.machine().lower()
    if system == "Linux" and machine in {"x86_64", "amd64"}:
        return "linux-x86_64"
    if system == "Darwin" and machine == "arm64":
        return "macos-arm64"
    raise ValueError(f"no wheelhouse platform for {system} {machine}; pass --platform")


def lock_requirements(path: Path = LOCK) -> list[Requirement]:
    """Return the lock's requirements (comments and blank lines skipped)."""
    reqs = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            if len(req.specifier) != 1 or next(iter(req.specifier)).operator != "==":
                raise ValueError(f"{path.name}: not an exact pin: {line!r}")
            reqs.append(req)
    return reqs


def pins_for(target: Target, reqs: list[Requirement], python: str = "3.13") -> dict[str, str]:
    """Return {canonical name: version} of the pins whose marker holds on ``target`` and
    Python ``python``."""
    env = markers_for(target, python)
    return {
        canonicalize_name(r.name): next(iter(r.specifier)).version
        for r in reqs
        if r.marker is None or r.marker.evaluate(env)
    }


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False
    )


def build_source_only(pins: dict[str, str], dest: Path) -> list[Path]:
    """Build wheels of the SOURCE_ONLY pins into ``dest`` and return their paths; raises
    RuntimeError if one fails to build or is not pure Python (``*-none-any.whl``)."""
    wanted = [f"{name}=={pins[name]}" for name in SOURCE_ONLY if name in pins]
    if not wanted:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        done = pip("wheel", "--quiet", "--no-deps", "--no-binary", ",".join(SOURCE_ONLY),
                   "--wheel-dir", tmp, *wanted)  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"building {wanted} failed:\n{done.stderr}")
        wheels = sorted(Path(tmp).glob("*.whl"))
        impure = [w.name for w in wheels if not w.name.endswith("-none-any.whl")]
        if impure:
            raise RuntimeError(f"SOURCE_ONLY must be pure Python, but built {impure}")
        dest.mkdir(parents=True, exist_ok=True)
        return [Path(shutil.copy2(w, dest / w.name)) for w in wheels]


def platform_args(target: Target, python: str = "3.13") -> list[str]:
    """pip's options that select wheels for ``target`` and Python ``python``."""
    markers_for(target, python)  # checks the Python
    args = ["--only-binary=:all:", "--python-version", PYTHONS[python],
            "--implementation", "cp", "--abi", f"cp{python.replace('.', '')}"]  # fmt: skip
    for tag in target.tags:
        args += ["--platform", tag]
    return args


def unmet_dependencies(
    report: dict, target: Target, pins: dict[str, str], python: str = "3.13"
) -> list[str]:
    """Return "package: requirement" for each dependency (for ``target`` on Python ``python``)
    of the resolved wheels that the pins do not satisfy."""
    problems = []
    env = {**markers_for(target, python), "extra": ""}
    for item in report.get("install", []):
        meta = item["metadata"]
        package = canonicalize_name(meta["name"])
        for text in meta.get("requires_dist", []) or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            name = canonicalize_name(req.name)
            if (package, name) in target.allowed_unmet:
                continue
            version = pins.get(name)
            if version is None or not req.specifier.contains(Version(version), prereleases=True):
                problems.append(f"{package}: {text} (lock: {version or 'not pinned'})")
    return problems


def resolve(
    target: Target,
    pins: dict[str, str],
    wheel_dir: Path,
    python: str = "3.13",
    ignore_requires_python: bool = False,
) -> tuple[list[str], dict]:
    """Run pip's dry run for ``pins`` on ``target`` and Python ``python``; return (pins without
    a wheel, report). ``ignore_requires_python`` resolves as ``make venv`` installs
    requirements-no-deps.txt.

    pip stops at the first pin without a wheel, so each one found is dropped and the rest
    resolved again, to list them all (at most 12 rounds)."""
    missing: list[str] = []
    pins = dict(pins)
    with tempfile.TemporaryDirectory() as tmp:
        req_file, report_file = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        for _ in range(12):
            req_file.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
            done = pip("install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
                       "--target", str(Path(tmp) / "target"), "--find-links", str(wheel_dir),
                       "--report", str(report_file), *platform_args(target, python),
                       *(["--ignore-requires-python"] if ignore_requires_python else []),
                       "-r", str(req_file))  # fmt: skip
            if done.returncode == 0:
                return missing, json.loads(report_file.read_text())
            found = re.findall(r"No matching distribution found for (\S+)", done.stderr)
            if not found:
                raise RuntimeError(f"pip failed:\n{done.stderr}")
            for spec in found:
                missing.append(spec)
                pins.pop(canonicalize_name(spec.split("==")[0]), None)
    return missing, {}


def check(
    name: str,
    reqs: list[Requirement],
    wheel_dir: Path,
    python: str = "3.13",
    no_deps: list[Requirement] | None = None,
) -> bool:
    """Resolve the lock (and the ``no_deps`` pins, without their dependencies) for platform
    ``name`` and Python ``python``; print the outcome; return True if it installs."""
    target = TARGETS[name]
    pins = pins_for(target, reqs, python)
    missing, report = resolve(target, pins, wheel_dir, python)
    extra = pins_for(target, no_deps or [], python)
    if extra:
        missing_extra, report_extra = resolve(target, extra, wheel_dir, python, True)
        missing += missing_extra
    wheels = report.get("install", []) + (report_extra.get("install", []) if extra else [])
    unmet = unmet_dependencies(report, target, {**pins, **extra}, python) if report else []
    label = f"{name}, Python {python}"
    if missing or unmet:
        print(
            f"{label}: FAILS:"
            + (f" no wheel for {', '.join(missing)}." if missing else "")
            + (f" Dependencies the lock does not meet: {'; '.join(unmet)}." if unmet else "")
        )
        return False
    built = [
        w["metadata"]["name"]
        for w in wheels
        if w["download_info"]["url"].startswith(wheel_dir.resolve().as_uri())
    ]
    exceptions = ", ".join(f"{p} without {d}" for p, d in target.allowed_unmet)
    print(
        f"{label}: OK: {len(wheels)} wheels for {len(pins) + len(extra)} pins"
        + (f" ({', '.join(sorted(extra))} without its declared dependencies)" if extra else "")
        + (f" ({', '.join(sorted(built))} built from source, pure Python)" if built else "")
        + (f"; deliberately not installed: {exceptions}" if exceptions else "")
    )
    return True


def wheelhouse(name: str, dest: Path, pythons: list[str] | None = None) -> int:
    """Download every wheel the lock and requirements-no-deps.txt need on platform ``name``
    for each of ``pythons`` (default: all of PYTHONS) into ``dest``; return the exit status."""
    target = TARGETS[name]
    pythons = list(pythons or PYTHONS)
    dest.mkdir(parents=True, exist_ok=True)
    for python in pythons:
        pins = pins_for(target, lock_requirements(), python)
        extra = pins_for(target, lock_requirements(NO_DEPS), python)
        with tempfile.TemporaryDirectory() as tmp:
            for group, options in ((pins, []), (extra, ["--ignore-requires-python"])):
                req_file = Path(tmp) / "requirements.txt"
                req_file.write_text(
                    "".join(f"{n}=={v}\n" for n, v in sorted(group.items()) if n not in SOURCE_ONLY)
                )
                done = pip("download", "--quiet", "--no-deps", "--dest", str(dest), *options,
                           *platform_args(target, python), "-r", str(req_file))  # fmt: skip
                if done.returncode:
                    print(done.stderr, file=sys.stderr)
                    return 1
        build_source_only(pins, dest)
    done = pip("download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", str(dest),
               *BOOTSTRAP)  # fmt: skip
    if done.returncode:
        print(done.stderr, file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in dest.glob("*.whl"))
    count = len(list(dest.glob("*.whl")))
    print(
        f"{dest}: {count} wheels, {size / 2**20:.0f} MiB, for {name}, Python {', '.join(pythons)}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="resolve the lock for each platform and Python")
    c.add_argument("platforms", nargs="*", help=f"of {', '.join(TARGETS)}; default: all")
    c.add_argument("--python", nargs="+", choices=list(PYTHONS), default=list(PYTHONS))
    w = sub.add_parser("wheelhouse", help="download every pinned wheel for one platform")
    w.add_argument("--platform", choices=list(TARGETS), default=None, help="default: this one")
    w.add_argument("--python", nargs="+", choices=list(PYTHONS), default=None,
                   help="default: all of " + ", ".join(PYTHONS))  # fmt: skip
    w.add_argument("--dest", type=Path, default=ROOT / "wheelhouse")
    args = parser.parse_args(argv)
    if args.command == "wheelhouse":
        return wheelhouse(args.platform or host_target(), args.dest, args.python)
    unknown = [p for p in args.platforms if p not in TARGETS]
    if unknown:
        parser.error(f"unknown platform(s) {unknown}; choose from {', '.join(TARGETS)}")
    platforms = args.platforms or list(SUPPORTED)
    reqs, no_deps = lock_requirements(), lock_requirements(NO_DEPS)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = Path(tmp)
        build_source_only(pins_for(TARGETS["linux-x86_64"], reqs), wheel_dir)
        results = {
            (name, python): check(name, reqs, wheel_dir, python, no_deps)
            for name in platforms
            for python in args.python
        }
    failed = [key for key, ok in results.items() if not ok and key[0] in SUPPORTED]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
