"""Every command the instructor guide and the kit's README give is a make target that a test
runs (or that the guide says is not tested here).

A new command in docs/workshop.md or in the learner README of the kit (mlprivacy_build/kit.py) fails
this test until it is added below with the test that runs it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from mlprivacy_build import kit

ROOT = Path(__file__).resolve().parents[1]

# make target -> what runs it in the project's tests.
TESTED_BY = {
    "kit": "make test-kit (mlprivacy-test-kit builds a kit with PAGES=0)",
    "install-kit": "make test-kit (offline, in a fresh clone)",
    "lab-learner": "make test-kit (offline) and browser_tests/test_learner_path.py",
    "test-kit": "run by hand as root (it is the kit's test)",
    "learner": "make test (the learner editions under nbval) and tests/test_make_learner.py",
    "run": ".ci/run (MLPRIVACY_PROFILE=quick make run)",
    "data": "tests/test_data.py (data.fetch_all) and make test-kit (kit build)",
    "test-seeds": "tests/test_seed_sweep.py (on stand-in notebooks) and the weekly seeds workflow",
    "check-platforms": "run by hand (needs the package index); tests/test_platforms.py",
}


def _targets(text: str) -> set[str]:
    return set(re.findall(r"\bmake ([a-z][\w-]*)", text))


def test_every_command_of_the_guide_and_the_kit_readme_is_tested():
    named = _targets((ROOT / "docs" / "workshop.md").read_text()) | _targets(kit.LEARNER_README)
    assert named, "the guide names no make command?"
    untested = sorted(named - set(TESTED_BY))
    assert not untested, f"commands with no test: {untested} (add them to TESTED_BY)"
    for target in sorted(named):
        dry = subprocess.run(
            ["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True
        )
        assert "No rule to make target" not in dry.stderr, f"make {target} does not exist"
