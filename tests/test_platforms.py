"""mlprivacy_build/platforms.py (`make check-platforms`, `make wheelhouse`): the parts that need no
package index. The resolution itself needs the index and runs by hand (README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlprivacy_build import platforms

ROOT = Path(__file__).resolve().parents[1]


def test_the_lock_pins_the_same_versions_everywhere_but_for_platform_only_packages():
    reqs = platforms.lock_requirements()
    pins = {
        (name, python): platforms.pins_for(platforms.TARGETS[name], reqs, python)
        for name in platforms.TARGETS
        for python in platforms.PYTHONS
    }
    linux, macos = pins["linux-x86_64", "3.13"], pins["macos-arm64", "3.13"]
    windows = pins["windows-x86_64", "3.13"]
    assert linux["tensorflow"] == macos["tensorflow"] == windows["tensorflow"] == "2.21.0"
    assert "appnope" in macos and "appnope" not in linux
    assert "pywinpty" in windows and "colorama" in windows and "pywinpty" not in linux
    assert "overrides" in pins["linux-x86_64", "3.11"] and "overrides" not in linux
    # One version per package wherever it is installed.
    versions: dict[str, set[str]] = {}
    for found in pins.values():
        for package, version in found.items():
            versions.setdefault(package, set()).add(version)
    assert all(len(v) == 1 for v in versions.values())
    for name in platforms.SOURCE_ONLY:
        assert name in linux, f"SOURCE_ONLY lists {name}, which the lock does not pin"


def test_tf_privacy_is_pinned_apart_from_the_lock():
    no_deps = platforms.pins_for(
        platforms.TARGETS["linux-x86_64"], platforms.lock_requirements(platforms.NO_DEPS)
    )
    assert no_deps == {"tensorflow-privacy": "0.8.12"}
    assert "tensorflow-privacy" not in platforms.pins_for(
        platforms.TARGETS["linux-x86_64"], platforms.lock_requirements()
    )


def test_lock_requirements_rejects_a_range(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text("# comment\nnumpy==1.26.4\nscipy>=1.10\n")
    with pytest.raises(ValueError, match="not an exact pin: 'scipy>=1.10'"):
        platforms.lock_requirements(lock)


def report(*wheels: tuple[str, list[str]]) -> dict:
    return {"install": [{"metadata": {"name": n, "requires_dist": deps}} for n, deps in wheels]}


def test_unmet_dependencies_evaluates_markers_for_the_target():
    linux, macos = platforms.TARGETS["linux-x86_64"], platforms.TARGETS["macos-arm64"]
    pins = {"ipykernel": "7.4.0", "comm": "0.2.3"}
    r = report(("ipykernel", ["comm>=0.1.1", "appnope>=0.1.2; platform_system == 'Darwin'",
                              "pytest; extra == 'test'"]))  # fmt: skip
    assert platforms.unmet_dependencies(r, linux, pins) == []
    assert platforms.unmet_dependencies(r, macos, pins) == [
        "ipykernel: appnope>=0.1.2; platform_system == 'Darwin' (lock: not pinned)"
    ]
    assert platforms.unmet_dependencies(r, macos, {**pins, "appnope": "0.1.4"}) == []


def test_unmet_dependencies_checks_versions_python_markers_and_allowed_exceptions():
    linux = platforms.TARGETS["linux-x86_64"]
    r = report(("jupyter-server", ["overrides>=5.0; python_version < '3.12'", "numpy>=1.20"]))
    pins = {"numpy": "1.19.0", "jupyter-server": "2.21.1"}
    assert platforms.unmet_dependencies(r, linux, pins, "3.11") == [
        "jupyter-server: overrides>=5.0; python_version < '3.12' (lock: not pinned)",
        "jupyter-server: numpy>=1.20 (lock: 1.19.0)",
    ]
    assert platforms.unmet_dependencies(r, linux, pins, "3.13") == [
        "jupyter-server: numpy>=1.20 (lock: 1.19.0)"
    ]
    excused = platforms.Target(
        tags=linux.tags, markers=linux.markers, allowed_unmet=(("jupyter-server", "numpy"),)
    )
    assert platforms.unmet_dependencies(r, excused, pins, "3.13") == []
    with pytest.raises(ValueError, match="python must be one of"):
        platforms.unmet_dependencies(r, linux, pins, "3.10")


def test_platform_args_name_every_tag_and_the_oldest_release_of_the_python():
    args = platforms.platform_args(platforms.TARGETS["linux-x86_64"], "3.11")
    assert args[:3] == ["--only-binary=:all:", "--python-version", "3.11.5"]
    assert args[args.index("--abi") + 1] == "cp311"
    assert "manylinux2014_x86_64" in args and "manylinux_2_35_x86_64" in args
    args = platforms.platform_args(platforms.TARGETS["windows-x86_64"], "3.13")
    assert args[2:3] == ["3.13.0"] and args[args.index("--abi") + 1] == "cp313"


def test_host_target_is_a_known_platform_here():
    assert platforms.host_target() in platforms.TARGETS
