"""The learner's path in a real JupyterLab: `make lab-learner`, a wrong answer, a right one.

Run by `make test-browser`. The server is the one `make lab-learner` starts
(mlprivacy_build/lab.py on the learner edition that mlprivacy_build/make_learner.py writes, its
notebooks signed as trusted), on
127.0.0.1 with a token, driven by Playwright through the system's Chromium. In notebook 01's
learner edition it checks, as a learner would see it:

1. the notebook opens without JupyterLab marking it as changed, and no extension fails to load
   (no console error at all);
2. after Run All, every checker says "not attempted yet" and Exercise 1's checker shows its
   verdict but not its source (how the expected value is computed);
3. a wrong answer typed into Exercise 1 gives a red verdict of at most three lines, with the
   hint and without a traceback;
4. the right answer gives "correct".

Screenshots of each step: build/screenshots/learner-path-*.png.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page
from test_jupyterlab_browser import (
    SCREENSHOTS,
    TEST_USER_SETTINGS,
    browser,  # noqa: F401  (the Chromium fixture)
    run_all_and_wait,
    wait_for_idle_kernel,
)

from mlprivacy_build import lab as lab_script
from mlprivacy_build import make_learner
from mlprivacy_build.labserver import ROOT, running_lab_server

NOTEBOOK = "01_differential_privacy_basics.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
WRONG, RIGHT = "my_scale = 100 / 1000", "my_scale = 100 / 1000 / 0.5"


@pytest.fixture(scope="module")
def learner_lab(tmp_path_factory):
    """`make lab-learner`'s server on a fresh learner edition, with every console message."""
    tmp = tmp_path_factory.mktemp("learner-lab")
    for name, text in TEST_USER_SETTINGS.items():  # no autosave: a changed tab stays marked
        target = tmp / "user-settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    edition = tmp / "learner"
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert make_learner.main([*notebooks, "--out", str(edition)]) == 0
    env = dict(os.environ)
    env.setdefault("MLPRIVACY_PROFILE", "quick")
    env.setdefault("MLPRIVACY_RESULTS", str(ROOT / "build" / "browser-results"))
    env["JUPYTER_DATA_DIR"] = str(tmp / "data")
    lab_script.trust_notebooks(edition, lab_script.lab_environment(env))
    with running_lab_server(
        tmp, env=env, extra_args=["--LabApp.expose_app_in_browser=True"], root_dir=edition
    ) as server:
        yield server


def cell_index(page: Page, text: str) -> int:
    """The index of the first cell whose text (as rendered) contains ``text``."""
    texts = page.eval_on_selector_all(f"{PANEL} .jp-Cell", "els => els.map(e => e.textContent)")
    return next(i for i, t in enumerate(texts) if text in t)


def run_cell(page: Page, index: int) -> None:
    """Run one cell with JupyterLab's own command, then wait until the kernel is idle."""
    page.evaluate(
        """(i) => {
            const panel = window.jupyterapp.shell.currentWidget;
            panel.content.activeCellIndex = i;
            return window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        index,
    )
    page.wait_for_timeout(300)
    wait_for_idle_kernel(page, 60)


def type_answer(page: Page, index: int, code: str) -> None:
    """Click into the answer cell's editor, select everything and type ``code``."""
    editor = page.locator(f"{PANEL} .jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(code)


def shot(page: Page, index: int, name: str) -> None:
    page.locator(f"{PANEL} .jp-Cell").nth(index).evaluate(
        "e => e.scrollIntoView({block: 'center'})"
    )
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"learner-path-{name}.png"))


def test_a_learner_opens_answers_wrongly_then_rightly(learner_lab, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    try:
        page.goto(learner_lab.lab_url(NOTEBOOK, workspace="learner-path"))
        page.locator(f"{PANEL} .jp-Cell").first.wait_for(timeout=120_000)
        wait_for_idle_kernel(page, 180)
        page.wait_for_timeout(2000)  # the kernel's language_info has arrived by now
        shot(page, 0, "1-opened")
        assert page.locator(".lm-TabBar-tab.jp-mod-dirty").count() == 0, (
            "opening the learner edition must not mark it as changed"
        )
        errors = [m for m in console if m.startswith("error")]
        assert not errors, "console errors (an extension that fails to load?):\n" + "\n".join(
            errors
        )

        run_all_and_wait(page, 600)
        stub = cell_index(page, "my_scale = None")
        checker = stub + 2  # the answer cell, its folded solution, then the checker
        checker_cell = page.locator(f"{PANEL} .jp-Cell").nth(checker)
        assert "Exercise 1: not attempted yet" in checker_cell.inner_text()
        shown = page.locator(PANEL).inner_text()
        for method in ("survey_neighbour", "worst case", "hours_neighbour"):
            assert method not in shown, (
                f"{method!r} shows: a checker's source (how it computes the expected value) "
                "must stay folded"
            )
        assert make_learner.CHECKER_HEADER in checker_cell.inner_text()
        assert checker_cell.locator(".jp-InputPlaceholder, .jp-Placeholder").count() > 0

        type_answer(page, stub, WRONG)
        run_cell(page, stub)
        run_cell(page, checker)
        verdict = checker_cell.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        verdict.first.wait_for(timeout=30_000)
        text = verdict.first.inner_text().strip()
        shot(page, checker, "2-wrong-answer")
        lines = text.splitlines()
        assert 1 <= len(lines) <= 3, lines
        assert "Exercise 1: 0.1 is not right yet: too small." in text and "Hint: " in text
        for frame in ("Traceback", "File ", "exercises.py", "_verdict"):
            assert frame not in text, text

        type_answer(page, stub, RIGHT)
        run_cell(page, stub)
        run_cell(page, checker)
        page.wait_for_function(
            "(i) => document.querySelectorAll("
            "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')[i]"
            ".textContent.includes('Exercise 1: correct!')",
            arg=checker,
            timeout=30_000,
        )
        assert verdict.count() == 0, "the right answer must clear the red verdict"
        shot(page, checker, "3-right-answer")
        assert not [m for m in console if m.startswith("error")]
    except Exception:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "learner-path-failure.png"))
        raise
    finally:
        page.close()
