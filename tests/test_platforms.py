"""mlprivacy_build/platforms.py (`make check-platforms`, `make wheelhouse`): the parts that need no
package index. The resolution itself needs the index and runs by hand (README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlprivacy_build import platforms

ROOT = Path(__file__).resolve().parents[1]


def test_the_lock_is_exact_pins_and_macos_leaves_out_tensorflow_text():
    reqs = platforms.lock_requirements()
    linux = platforms.pins_for(platforms.TARGETS["linux-x86_64"], reqs)
    macos = platforms.pins_for(platforms.TARGETS["macos-arm64"], reqs)
    assert linux["tensorflow"] == macos["tensorflow"] == "2.15.1"
    assert "tensorflow-text" in linux and "tensorflow-text" not in macos
    assert "appnope" in macos and "appnope" not in linux
    for name in platforms.SOURCE_ONLY:
        assert name in linux, f"SOURCE_ONLY lists {name}, which the lock does not pin"


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


def test_unmet_dependencies_checks_versions_and_allowed_exceptions():
    linux, macos = platforms.TARGETS["linux-x86_64"], platforms.TARGETS["macos-arm64"]
    r = report(("tf-models-official", ["tensorflow-text~=2.15.0", "numpy>=1.20"]))
    pins = {"numpy": "1.19.0", "tf-models-official": "2.15.0"}
    assert platforms.unmet_dependencies(r, linux, pins) == [
        "tf-models-official: tensorflow-text~=2.15.0 (lock: not pinned)",
        "tf-models-official: numpy>=1.20 (lock: 1.19.0)",
    ]
    # macOS deliberately goes without tensorflow-text (TARGETS[...].allowed_unmet)
    assert platforms.unmet_dependencies(r, macos, pins) == [
        "tf-models-official: numpy>=1.20 (lock: 1.19.0)"
    ]


def test_platform_args_name_every_tag_and_the_oldest_python():
    args = platforms.platform_args(platforms.TARGETS["linux-x86_64"])
    assert args[:3] == ["--only-binary=:all:", "--python-version", "3.11.5"]
    assert "manylinux2014_x86_64" in args and "manylinux_2_35_x86_64" in args


def test_host_target_is_a_known_platform_here():
    assert platforms.host_target() in platforms.TARGETS
