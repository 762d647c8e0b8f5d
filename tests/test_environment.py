"""The pinned lock, environment.yml and Binder: they agree, and build what the notebooks check."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import nbformat
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
# name==version, optionally with an environment marker (`; sys_platform != "darwin"`).
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)(?:\s*;\s*(.+))?$")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(name: str = "requirements-lock.txt") -> dict[str, str]:
    pins = {}
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{name}: not an exact pin: {line!r}"
        package = normalise(match.group(1))
        assert package not in pins, f"{name} pins {package} twice"
        pins[package] = match.group(2) + (f" ; {match.group(3)}" if match.group(3) else "")
    return pins


def installed_pins() -> dict[str, str]:
    """What `make venv` installs: the lock, then requirements-no-deps.txt (TF Privacy)."""
    lock, no_deps = lock_pins(), lock_pins("requirements-no-deps.txt")
    assert not set(lock) & set(no_deps), set(lock) & set(no_deps)
    return {**lock, **no_deps}


def environment_pins() -> tuple[list, dict[str, str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip_section = [], None
    for dep in env["dependencies"]:
        if isinstance(dep, dict) and "pip" in dep:
            pip_section = dep["pip"]
        else:
            conda.append(dep)
    assert pip_section is not None, "environment.yml has no pip: section"
    pins = {}
    for line in pip_section:
        match = PIN.match(line.strip())
        assert match, f"environment.yml pip entry is not an exact pin: {line!r}"
        marker = f" ; {match.group(3)}" if match.group(3) else ""
        pins[normalise(match.group(1))] = match.group(2) + marker
    return conda, pins


def test_lock_and_environment_agree_on_every_version():
    lock = lock_pins()
    conda, env = environment_pins()
    assert "python=3.13" in conda
    only_lock = sorted(set(lock) - set(env))
    only_env = sorted(set(env) - set(lock))
    differ = {n: (lock[n], env[n]) for n in set(lock) & set(env) if lock[n] != env[n]}
    assert not only_lock, f"pinned in requirements-lock.txt only: {only_lock}"
    assert not only_env, f"pinned in environment.yml only: {only_env}"
    assert not differ, f"versions differ (lock, environment.yml): {differ}"


def _notebook_version_checks() -> dict[str, dict[str, str]]:
    """Each notebook's ``config.check_versions({...})`` argument, read from its first cells."""
    checks = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells[:5]:
            for node in ast.walk(
                ast.parse(cell.source) if cell.cell_type == "code" else ast.Module()
            ):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", "") == "check_versions"
                ):
                    checks[path.name] = ast.literal_eval(node.args[0])
    return checks


def test_an_environment_built_from_the_lock_passes_every_notebooks_version_check():
    lock = installed_pins()
    checks = _notebook_version_checks()
    assert len(checks) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    for notebook, required in checks.items():
        for name, spec in required.items():
            pinned = lock[normalise(name)].split(";")[0].strip()
            assert Version(pinned) in SpecifierSet(spec), f"{notebook}: {name} {pinned} {spec}"


def test_every_library_the_packages_import_is_in_the_lock():
    owners = metadata.packages_distributions()
    lock = installed_pins()
    for folder in ("mlprivacy_helpers", "mlprivacy_build"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in (
                        "mlprivacy_helpers",
                        "mlprivacy_build",
                    ):
                        continue
                    distributions = {normalise(d) for d in owners.get(top, [])}
                    assert distributions & set(lock), f"{path.name} imports {top}: not in the lock"


def test_non_obvious_pins_are_explained():
    text = (ROOT / "requirements-lock.txt").read_text()
    for name in ("tensorflow", "tf-keras", "keras", "numpy", "scikit-learn", "scipy", "pytest"):
        assert re.search(rf"^# {re.escape(name)}: .+", text, re.M), f"no comment for {name}"
    no_deps = (ROOT / "requirements-no-deps.txt").read_text()
    assert re.search(r"^# tensorflow-privacy: .+", no_deps, re.M)
    assert list(lock_pins("requirements-no-deps.txt")) == ["tensorflow-privacy"]


def test_platform_markers_only_where_explained():
    """A marker leaves a package out somewhere: each one needs its reason in a comment."""
    text = (ROOT / "requirements-lock.txt").read_text()
    marked = {name: v for name, v in lock_pins().items() if ";" in v}
    assert set(marked) == {"appnope", "colorama", "overrides", "pywinpty"}, marked
    for name in marked:
        assert re.search(rf"^# {re.escape(name)}: .+", text, re.M), f"no comment for {name}"


def _requirements(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file, following its ``-r`` includes."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            lines += _requirements((path.parent / line[3:].strip()).resolve())
        else:
            lines.append(line)
    return lines


def test_binder_builds_the_locked_environment_with_the_package(tmp_path):
    binder = ROOT / ".binder"
    # repo2docker's Python: runtime.txt, which pyproject.toml's requires-python must accept.
    python = (binder / "runtime.txt").read_text().strip().removeprefix("python-")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert Version(python) in SpecifierSet(requires)
    # repo2docker installs .binder/requirements.txt: it must resolve to exactly the lock.
    pins = {
        normalise(PIN.match(line).group(1)): line
        for line in _requirements(binder / "requirements.txt")
    }
    assert set(pins) == set(lock_pins())
    # Then it runs postBuild from the repository root: it must install TF Privacy as `make venv`
    # does (requirements-no-deps.txt, without dependencies) and this checkout's package,
    # editable and without touching the locked dependencies. A stand-in pip records the calls.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pip").write_text(f'#!/bin/sh\necho "$PWD $*" >> {tmp_path}/calls\n')
    (fake / "pip").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    subprocess.run(["bash", str(binder / "postBuild")], cwd=ROOT, env=env, check=True)
    first, second = (call.split() for call in (tmp_path / "calls").read_text().splitlines())
    for cwd, *args in (first, second):
        assert Path(cwd) == ROOT and args[0] == "install" and "--no-deps" in args
    assert "--ignore-requires-python" in first
    assert first[first.index("-r") + 1] == "requirements-no-deps.txt"
    assert second[second.index("-e") + 1] == "."
