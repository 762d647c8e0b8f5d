"""Every notebook in a real JupyterLab in a real browser: Run All twice, no error, a screenshot.

Run by `make test-browser` (never by `make test`): the project's JupyterLab server
(mlprivacy_build/labserver.py) on 127.0.0.1 with a token, driven by Playwright for Python
through the system's Chromium (no `playwright install`). Each notebook is run twice in one
kernel, as a learner who re-runs cells would (the second pass must show no error either).
Kernels run in the quick profile unless MLPRIVACY_PROFILE says otherwise, with the model cache
in MLPRIVACY_CACHE (`.ci/run` shares the one `make test` filled, so no model is trained twice).
Screenshots: build/screenshots/.

The learner editions (mlprivacy_build/make_learner.py, written into the server's folder under
learner/) open too, after the solved notebooks: every solution must be folded in a closed
"Show solution" block, with an answer stub to write in. The first one (notebook 01's) also
runs, with the same model cache: every exercise must say "not attempted yet" and no error may
show. The others are not run here: their code is the solved notebook's, which ran twice above,
and `make test` runs every learner edition under nbval, where each checker must print "not
attempted yet" and a cell that writes to stderr fails (mlprivacy_build/pytest_nbval_cells.py);
running them here again would add about 7 minutes to CI for no check of its own.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, sync_playwright

from mlprivacy_build import make_learner
from mlprivacy_build.labserver import ROOT, running_lab_server

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LEARNER_EDITIONS = [f"learner/{name}" for name in NOTEBOOKS]
LEARNER_EDITIONS_RUN = LEARNER_EDITIONS[:1]  # the others are run by `make test` (see above)
SCREENSHOTS = ROOT / "build" / "screenshots"
RUN_TIMEOUT_S = float(os.environ.get("MLPRIVACY_BROWSER_TIMEOUT", "1200"))
# Chromium flags for a machine with no network, no GPU and (in CI) running as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Test-only user settings: attach every cell to the page, so that the checks see every output
# and the screenshot holds the whole notebook (JupyterLab otherwise skips off-screen cells);
# no autosave (the server also serves copies, never the committed notebooks).
TEST_USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
}


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail("Chromium not found: install it with `sudo apt-get install chromium`")
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    for name, text in TEST_USER_SETTINGS.items():
        target = tmp / "user-settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    copies = tmp / "notebooks"
    copies.mkdir()
    (copies / "learner").mkdir()
    for name in NOTEBOOKS:
        shutil.copy2(ROOT / "notebooks" / name, copies / name)
        solved = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        nbformat.write(make_learner.learner_notebook(solved, name), copies / "learner" / name)
    env = dict(os.environ)
    env.setdefault("MLPRIVACY_PROFILE", "quick")
    env.setdefault("MLPRIVACY_RESULTS", str(ROOT / "build" / "browser-results"))
    with running_lab_server(
        tmp, env=env, extra_args=["--LabApp.expose_app_in_browser=True"], root_dir=copies
    ) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def wait_for_idle_kernel(page: Page, timeout_s: float) -> None:
    """Wait until the status bar says the kernel is Idle (not Starting, Busy or Connecting)."""
    page.locator("#jp-main-statusbar").get_by_text("Idle", exact=False).first.wait_for(
        timeout=timeout_s * 1000
    )


def open_notebook(page: Page, lab, name: str) -> None:
    # A workspace of its own: only this notebook open, and it is the one Run All runs. The
    # learner edition gets another one than its solved notebook (same stem, other folder).
    workspace = "test-" + name.removesuffix(".ipynb").replace("/", "-")
    page.goto(lab.lab_url(name, workspace=workspace))
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
    # Cells sent before the kernel is really idle are dropped (JupyterLab issue #15420).
    wait_for_idle_kernel(page, 180)


def execution_counts(page: Page) -> list[int | None]:
    """The execution count of each code cell of the notebook shown (None while not run).

    Read from JupyterLab's notebook model, not from the prompts: a cell whose input is
    collapsed (the learner edition's checkers) shows no prompt.
    """
    return page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.widgets
            .filter(c => c.model.type === 'code')
            .map(c => c.model.executionCount ?? null)"""
    )


def run_all_and_wait(page: Page, timeout_s: float) -> None:
    """Run All, then wait until every code cell has a count from this run and the kernel
    is idle (a second Run All in the same kernel must renumber every cell)."""
    before = max((c for c in execution_counts(page) if c is not None), default=0)
    page.evaluate("window.jupyterapp.commands.execute('runmenu:run-all')")
    page.wait_for_function(
        """(before) => {
            const cells = window.jupyterapp.shell.currentWidget.content.widgets
                .filter(c => c.model.type === 'code');
            const status = document.querySelector('#jp-main-statusbar')?.textContent || '';
            return cells.length > 0 && status.includes('Idle') &&
                cells.every(c => (c.model.executionCount ?? 0) > before);
        }""",
        arg=before,
        timeout=timeout_s * 1000,
        polling=1000,
    )


def watch_for_progress_bars(page: Page) -> None:
    """Record in the page whether a live progress bar (mlprivacy_helpers.progress) ever shows."""
    page.evaluate(
        """() => {
            window.__mlprivacyProgressSeen = false;
            new MutationObserver(() => {
                if (document.querySelector('.jp-OutputArea .mlprivacy-progress progress')) {
                    window.__mlprivacyProgressSeen = true;
                }
            }).observe(document.body, {subtree: true, childList: true});
        }"""
    )


def shows_live_progress(path: Path) -> bool:
    """Whether the notebook has a progress bar that runs even with a warm model cache."""
    text = path.read_text()
    return "progress.track(" in text or "progress.Progress(" in text


def visible_problems(page: Page) -> list[str]:
    """Texts of every error or stderr output shown in the notebook (red boxes)."""
    return page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) "
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        "els => els.map(e => e.textContent.slice(0, 500))",
    )


def full_page_screenshot(page: Page, path: Path) -> None:
    """Close the file browser, scroll to the top, grow the viewport to the notebook's height
    and screenshot the whole page."""
    page.evaluate(
        "() => { if (!window.jupyterapp.shell.leftCollapsed)"
        " window.jupyterapp.commands.execute('application:toggle-left-area'); }"
    )
    height = page.evaluate(
        """() => {
            const panel = document.querySelector(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
            if (!panel) return 1000;
            panel.scrollTop = 0;
            return panel.scrollHeight;
        }"""
    )
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 200, 30000)})
    page.wait_for_timeout(1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def widget_image(page: Page) -> str:
    """The src (a data: URL of the PNG) of the figure inside the slider's output widget."""
    img = page.locator(".widget-output img").first
    img.wait_for(timeout=60_000)
    return img.get_attribute("src")


def move_slider_and_compare(page: Page) -> tuple[str, str]:
    """Press → on the ε slider three times; return the figure before and after."""
    before = widget_image(page)
    handle = page.locator(".widget-slider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
    page.wait_for_function(
        "(before) => { const i = document.querySelector('.widget-output img');"
        " return i && i.getAttribute('src') !== before; }",
        arg=before,
        timeout=60_000,
    )
    wait_for_idle_kernel(page, 60)
    page.wait_for_timeout(500)
    return before, widget_image(page)


def exercise_verdicts(page: Page) -> list[str]:
    """The stdout texts of the notebook's outputs that hold an exercise verdict."""
    return page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) "
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']",
        "els => els.map(e => e.textContent).filter(t => /^Exercise[^:]*: /.test(t))",
    )


def solution_blocks(page: Page) -> list[dict]:
    """Every rendered "Show solution" block: whether it is open and its code's text."""
    return page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownOutput details",
        "els => els.filter(d => d.querySelector('summary')?.textContent.includes('Show solution'))"
        ".map(d => ({open: d.open, code: d.querySelector('pre')?.textContent || ''}))",
    )


@pytest.mark.parametrize("name", NOTEBOOKS + LEARNER_EDITIONS)
def test_notebook_runs_in_jupyterlab(lab, browser, name):
    learner = name.startswith("learner/")
    run = not learner or name in LEARNER_EDITIONS_RUN
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    stem = Path(name).stem + ("-learner" if learner else "")
    shot = SCREENSHOTS / f"{stem}.png"
    try:
        start = time.perf_counter()
        open_notebook(page, lab, name)
        if run:
            watch_for_progress_bars(page)
            run_all_and_wait(page, RUN_TIMEOUT_S)
            if shows_live_progress(ROOT / "notebooks" / Path(name).name):
                assert page.evaluate("window.__mlprivacyProgressSeen"), (
                    f"{name}: no live progress bar appeared during Run All"
                )
        first = time.perf_counter() - start
        if learner:  # the same code as the solved notebook, which ran twice above: once here
            print(f"{name}: " + (f"Run All {first:.1f} s" if run else f"opened ({first:.1f} s)"))
        else:  # Learners re-run cells: Run All again in the same kernel must work just as well.
            run_all_and_wait(page, RUN_TIMEOUT_S)
            second = time.perf_counter() - start - first
            print(f"{name}: Run All {first:.1f} s, Run All again in the same kernel {second:.1f} s")
        problems = visible_problems(page)
        if run and Path(name).name.startswith("01_"):
            images = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-output img")
            assert images.count() == 1, (
                "the slider section must show exactly one interactive figure"
            )
            before, after = move_slider_and_compare(page)
            assert before != after, "moving the ε slider must redraw the figure"
            problems += visible_problems(page)
        full_page_screenshot(page, shot)
        assert not problems, (
            f"{name} shows error or stderr output in JupyterLab:\n" + "\n---\n".join(problems)
        )
        if learner:
            solved = nbformat.read(ROOT / "notebooks" / Path(name).name, as_version=4)
            n_exercises = len(make_learner.find_exercises(solved, name))
            if run:
                verdicts = exercise_verdicts(page)
                assert len(verdicts) >= n_exercises, f"{name}: exercise verdicts {verdicts}"
                assert all("not attempted yet" in v for v in verdicts), verdicts
            blocks = solution_blocks(page)
            assert len(blocks) == n_exercises, f"{name}: {len(blocks)} solution blocks"
            assert not any(b["open"] for b in blocks), "every solution must start folded"
            assert all(b["code"].strip() for b in blocks), "every block must hold its solution"
            # A picture of the first exercise as a learner sees it (question, stub, folded block).
            stub = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").filter(
                has_text="# your code here"
            )
            stub.first.evaluate("e => e.scrollIntoView({block: 'center'})")
            page.wait_for_timeout(500)
            page.screenshot(path=str(shot.with_name(shot.stem + "-exercise.png")))
    except Exception:
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot.with_name(shot.stem + "-failure.png")))
        raise
    finally:
        page.close()
