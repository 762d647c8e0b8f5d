"""The dev container (a learner with no working install, GitHub Codespaces or VS Code).

No container engine runs on the test machines, so the container itself is not started here;
this checks what can be checked: the file parses, it uses Python 3.13, its commands are
make targets that exist and that README.md gives, and it forwards the port it tells
learners to use.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
README = (ROOT / "README.md").read_text()


def _make_targets(command: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"\bmake ([a-z][\w-]*)", command)]


def test_the_container_uses_python_3_13_and_builds_the_environment_and_data():
    assert re.search(r"python:[\w.-]*3\.13", CONFIG["image"]), CONFIG["image"]
    assert _make_targets(CONFIG["postCreateCommand"]) == ["venv", "data"]
    assert CONFIG["containerEnv"]["MLPRIVACY_PROFILE"] == "quick"


def test_its_commands_are_make_targets_that_exist_and_that_the_readme_gives():
    commands = CONFIG["postCreateCommand"] + " " + CONFIG["postAttachCommand"]
    targets = _make_targets(commands)
    assert "lab-learner" in targets
    for target in targets:
        dry = subprocess.run(
            ["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True
        )
        assert "No rule to make target" not in dry.stderr, target
        assert f"make {target}" in README, f"README.md does not give `make {target}`"
    lab = re.search(r'make lab-learner LAB_ARGS=\\?"([^"\\]*)\\?"', CONFIG["postAttachCommand"])
    assert lab and f'make lab-learner LAB_ARGS="{lab.group(1)}"' in README


def test_the_port_it_forwards_is_the_one_jupyterlab_is_told_to_use():
    ports = {str(p) for p in CONFIG["forwardPorts"]}
    told = re.findall(r"--port=(\d+)", CONFIG["postAttachCommand"])
    assert told and set(told) <= ports and "--ip=0.0.0.0" in CONFIG["postAttachCommand"]
