"""The rendered series (`make run`'s build/html/) in a real browser with no network at all.

Run by `make test-pages` after `make run` (never by `make test`). Headless Chromium, driven by
Playwright for Python like test_jupyterlab_browser.py, opens build/html/index.html from disk
(file://) with every request that is not a file:// one aborted, and follows the landing page's
links to every notebook page. Each page must load without a script error and without asking
for anything on the network; formulas are typeset by the local MathJax (containers present,
no TeX error, no `$...$` left in the text); notebook pages show figures and no error or stderr
output; notebook 01's ε slider is rendered from the saved widget state by the local widgets
HTML manager, and with JavaScript off the page shows its static figure instead. Full-page
screenshots: build/screenshots/pages-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, sync_playwright
from test_jupyterlab_browser import CHROMIUM_ARGS, SCREENSHOTS, chromium_path

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "build" / "html"
INDEX = HTML / "index.html"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Inline math left untypeset: `$`, something that is not a `$` or a line break, `$`.
RAW_MATH = re.compile(r"\$[^$\n]{1,200}\$")


@pytest.fixture(scope="module")
def browser():
    if not INDEX.is_file():
        pytest.fail(f"{INDEX} is missing: run `make run` first (MLPRIVACY_PROFILE=quick is enough)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class OfflinePage:
    """A browser tab where only file:// requests get through; records what was blocked and
    every uncaught script error."""

    def __init__(self, browser, javascript: bool = True):
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
        )
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, path: Path) -> Page:
        self.page.goto(path.as_uri(), wait_until="load")
        return self.page

    def close(self) -> None:
        self.context.close()


def wait_for_mathjax(page: Page) -> None:
    """Wait until MathJax has loaded and typeset the page (fails if it never loads)."""
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000
    )
    page.evaluate("() => MathJax.startup.promise")


def prose_text(page: Page) -> str:
    """The text of the page without code (inputs, outputs, <code> and <pre>)."""
    return page.evaluate(
        """() => {
            const copy = document.body.cloneNode(true);
            copy.querySelectorAll(
                'script, style, pre, code, .jp-InputArea, .jp-OutputArea, mjx-container'
            ).forEach(e => e.remove());
            return copy.innerText;
        }"""
    )


def has_math(stem: str) -> bool:
    """Whether the notebook's markdown holds inline TeX (`$...$`)."""
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    return any(RAW_MATH.search(c.source) for c in nb.cells if c.cell_type == "markdown")


def check_math(page: Page, name: str, expected: bool = True) -> int:
    """Assert every formula is typeset; return the number of MathJax containers."""
    wait_for_mathjax(page)
    containers = page.locator("mjx-container").count()
    assert containers > 0 or not expected, f"{name}: no formula typeset by MathJax"
    tex_errors = page.locator("mjx-merror").all_text_contents()
    assert not tex_errors, f"{name}: MathJax could not typeset: {tex_errors[:5]}"
    raw = RAW_MATH.findall(prose_text(page))
    assert not raw, f"{name}: formulas left as raw TeX: {raw[:5]}"
    return containers


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"pages-{name}.png"), full_page=True)


def test_landing_page(browser):
    tab = OfflinePage(browser)
    try:
        page = tab.open(INDEX)
        check_math(page, "index.html")
        links = page.eval_on_selector_all(
            "section.notebook h2 a", "els => els.map(e => e.getAttribute('href'))"
        )
        assert links == [f"{stem}.html" for stem in NOTEBOOKS], (
            "the landing page must link every notebook's page, in order "
            "(run `make run` for all notebooks)"
        )
        for section in page.locator("section.notebook").all():
            title = section.locator("h2").inner_text()
            assert section.locator("ol li").count() > 0, f"{title}: no learning goals"
            assert "Time needed" in section.inner_text(), f"{title}: no time per profile"
            assert section.locator("table.numbers tr").count() > 0, f"{title}: no key numbers"
        screenshot(page, "index")
        assert not tab.errors, f"script errors: {tab.errors}"
        assert not tab.blocked, f"the landing page asked the network for {tab.blocked}"
    finally:
        tab.close()


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_page_offline(browser, stem):
    tab = OfflinePage(browser)
    try:
        page = tab.open(HTML / f"{stem}.html")
        containers = check_math(page, stem, expected=has_math(stem))
        images = page.locator(".jp-OutputArea-output img").count()
        assert images > 0, f"{stem}: no figure on the page"
        problems = page.eval_on_selector_all(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
            "els => els.map(e => e.textContent.slice(0, 300))",
        )
        assert not problems, f"{stem}: error or stderr output on the page: {problems}"
        widget_views = page.locator(
            "script[type='application/vnd.jupyter.widget-view+json']"
        ).count()
        if widget_views:
            # The local HTML manager renders each saved view into a .widget-subarea.
            page.locator(".widget-subarea .jupyter-widgets").first.wait_for(timeout=30_000)
            page.wait_for_timeout(500)
        if stem.startswith("01_"):
            assert widget_views > 0, "notebook 01's ε slider is missing from the page"
            slider = page.locator(".widget-slider .noUi-handle, .widget-hslider input")
            assert slider.count() > 0, "notebook 01: the ε slider was not rendered"
            assert page.locator(".widget-output img").count() == 1, (
                "notebook 01: the slider's figure (saved widget state) is not shown"
            )
            assert not page.locator(".mlp-static-fallback").first.is_visible(), (
                "notebook 01: the static figure must give way to the rendered widget"
            )
        print(f"{stem}: {containers} formulas, {images} images, {widget_views} widget views")
        screenshot(page, stem)
        assert not tab.errors, f"{stem}: script errors: {tab.errors}"
        assert not tab.blocked, f"{stem}: the page asked the network for {tab.blocked}"
    finally:
        tab.close()


def test_widget_page_without_javascript(browser):
    """With JavaScript off, notebook 01 shows the static ε = 1 figure where the slider was."""
    stem = next((s for s in NOTEBOOKS if s.startswith("01_")), None)
    assert stem is not None, "notebook 01 is missing"
    tab = OfflinePage(browser, javascript=False)
    try:
        page = tab.open(HTML / f"{stem}.html")
        fallback = page.locator(".mlp-static-fallback img")
        assert fallback.count() == 1 and fallback.first.is_visible(), (
            "notebook 01 without JavaScript: no static figure in place of the widget"
        )
        box = fallback.first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, f"static figure: {box}"
        fallback.first.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"pages-{stem}-nojs-widget.png"))
    finally:
        tab.close()
