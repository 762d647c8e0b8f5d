"""The pinned lock and environment.yml must agree, and pin what the issues require."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# name==version, optionally with an environment marker (`; sys_platform != "darwin"`).
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)(?:\s*;\s*(.+))?$")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins() -> dict[str, str]:
    pins = {}
    for raw in (ROOT / "requirements-lock.txt").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"requirements-lock.txt: not an exact pin: {line!r}"
        name = normalise(match.group(1))
        assert name not in pins, f"requirements-lock.txt pins {name} twice"
        pins[name] = match.group(2) + (f" ; {match.group(3)}" if match.group(3) else "")
    return pins


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
    assert "python=3.11" in conda
    only_lock = sorted(set(lock) - set(env))
    only_env = sorted(set(env) - set(lock))
    differ = {n: (lock[n], env[n]) for n in set(lock) & set(env) if lock[n] != env[n]}
    assert not only_lock, f"pinned in requirements-lock.txt only: {only_lock}"
    assert not only_env, f"pinned in environment.yml only: {only_env}"
    assert not differ, f"versions differ (lock, environment.yml): {differ}"


def test_lock_holds_the_known_good_core():
    lock = lock_pins()
    assert lock["tensorflow"].startswith("2.15.")
    assert lock["tensorflow-privacy"] == "0.8.12"
    assert lock["scikit-learn"].startswith("1.5.")
    assert lock["adversarial-robustness-toolbox"] == "1.20.1"
    assert lock["numpy"].startswith("1.26.")
    for tool in ("jupyterlab", "matplotlib", "nbval", "ipywidgets", "tqdm", "pytest", "pyyaml"):
        assert tool in lock, f"{tool} missing from requirements-lock.txt"


def test_non_obvious_pins_are_explained():
    text = (ROOT / "requirements-lock.txt").read_text()
    for name in ("tensorflow", "tensorflow-privacy", "scikit-learn"):
        assert re.search(rf"^# {re.escape(name)}: .+", text, re.M), f"no comment for {name}"


def test_platform_markers_only_where_explained():
    """A marker leaves a package out somewhere: each one needs its reason in a comment."""
    text = (ROOT / "requirements-lock.txt").read_text()
    marked = {name: v for name, v in lock_pins().items() if ";" in v}
    assert set(marked) == {"appnope", "tensorflow-text"}, marked
    for name in marked:
        assert re.search(rf"^# {re.escape(name)}: .+", text, re.M), f"no comment for {name}"


def test_binder_installs_the_lock_on_python_311():
    binder = ROOT / ".binder"
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [
        line.strip()
        for line in (binder / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["-r ../requirements-lock.txt"]
    assert "pip install --no-cache-dir --no-deps -e ." in (binder / "postBuild").read_text()
