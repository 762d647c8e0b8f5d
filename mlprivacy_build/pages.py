"""The rendered series (``make run``): offline pages and the landing page ``index.html``.

Used by run_notebooks and seed_sweep. The pages load MathJax, require.js and the Jupyter widgets
HTML manager from ``build/html/_static/``, copied from ``web/node_modules`` (exact versions in
``web/package-lock.json``, installed by ``make web-assets`` with ``npm ci``), so they work from
disk with no network. The landing page tells the series' story and, per notebook, its learning
goals, its time per profile (from the notebook's overview) and the key numbers of the run
(``build/results/<notebook>.json``). Tested by tests/test_pages.py and, in a browser with the
network blocked, by browser_tests/test_offline_pages.py (``make test-pages``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown import markdown2html

from mlprivacy_build import colab
from mlprivacy_helpers.results_schema import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "web" / "node_modules"
TEMPLATES = Path(__file__).resolve().parent / "nbconvert_templates"
STATIC = "_static"

# (source below web/node_modules, destination below build/html/_static); a folder is copied
# whole, without source maps. MathJax's tex-svg-full component holds every TeX extension and
# draws with SVG paths (no web fonts), so it needs no other file.
OFFLINE_ASSETS: tuple[tuple[str, str], ...] = (
    ("mathjax/es5/tex-svg-full.js", "mathjax/tex-svg-full.js"),
    ("requirejs/require.js", "require.js"),
    ("@jupyter-widgets/html-manager/dist", "html-manager"),
)
MATHJAX_URL = f"{STATIC}/mathjax/tex-svg-full.js"
REQUIRE_JS_URL = f"{STATIC}/require.js"
WIDGET_RENDERER_URL = f"{STATIC}/html-manager/embed-amd.js"


class MissingAssetsError(RuntimeError):
    """The JavaScript for the offline pages is not installed (run ``make web-assets``)."""


def copy_offline_assets(html_dir: Path, node_modules: Path = NODE_MODULES) -> list[Path]:
    """Copy MathJax, require.js and the widgets HTML manager into ``html_dir/_static``.

    Returns the copied top-level paths. Raises ``MissingAssetsError`` naming the missing
    files and the command that installs them.
    """
    missing = [src for src, _ in OFFLINE_ASSETS if not (node_modules / src).exists()]
    if missing:
        raise MissingAssetsError(
            f"missing in {node_modules}: {', '.join(missing)}; run `make web-assets` "
            "(npm ci in web/, needs Node.js and npm)"
        )
    static = html_dir / STATIC
    if static.is_dir():
        shutil.rmtree(static)
    copied = []
    for src, dst in OFFLINE_ASSETS:
        source, target = node_modules / src, static / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.map"))
        else:
            shutil.copy2(source, target)
        copied.append(target)
    return copied


def offline_exporter() -> HTMLExporter:
    """Return nbconvert's HTML exporter with the ``offline`` template (mlprivacy_build/
    nbconvert_templates/offline) and every script URL pointing into ``_static/``."""
    return HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="offline",
        mathjax_url=MATHJAX_URL,
        require_js_url=REQUIRE_JS_URL,
        widget_renderer_url=WIDGET_RENDERER_URL,
    )


# ---------------------------------------------------------------------------------------
# The landing page


@dataclass
class NotebookOverview:
    """What the landing page says about one notebook, read from its first markdown cell."""

    title: str
    summary: str = ""  # markdown: the first paragraph of the story
    goals: list[str] = field(default_factory=list)  # markdown, one per learning goal
    time_needed: str = ""  # markdown: the "Time needed" paragraph


_GOALS_HEADING = re.compile(r"(learn|objectives|goals)", re.IGNORECASE)
_TIME_HEADING = re.compile(r"^\W*time needed\W*", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+")


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def notebook_overview(nb: nbformat.NotebookNode, fallback_title: str) -> NotebookOverview:
    """Return the title, story paragraph, learning goals and "Time needed" text of ``nb``.

    Reads the notebook's first markdown cell: the ``# `` heading is the title; the first
    paragraph after it that is not bold-only (nor the "Open in Colab" line) is the summary;
    the numbered or bulleted list after a heading or bold line mentioning "learn",
    "objectives" or "goals" gives the goals;
    the paragraph starting with "Time needed" (a heading followed by text, or bold text)
    gives the times. Parts that are not found stay empty.
    """
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    overview = NotebookOverview(title=fallback_title)
    paragraphs = _paragraphs(first)
    awaiting_goals = awaiting_time = False
    for para in paragraphs:
        lines = para.splitlines()
        head = lines[0].strip()
        if head.startswith("# ") and overview.title == fallback_title:
            overview.title = head[2:].strip()
            lines = lines[1:]
            if not lines:
                continue
            para, head = "\n".join(lines), lines[0].strip()
        is_heading = head.startswith("#")
        if _TIME_HEADING.match(head.lstrip("#* ").strip()) or _TIME_HEADING.match(head):
            rest = "\n".join(lines[1:]).strip() if is_heading else _bold_paragraph_text(lines)
            if rest:
                overview.time_needed = rest
            else:
                awaiting_time = True
            awaiting_goals = False
            continue
        if awaiting_time and not is_heading:
            overview.time_needed, awaiting_time = para, False
            continue
        item_lines = [i for i, line in enumerate(lines) if _LIST_ITEM.match(line)]
        if (is_heading or head.startswith("**")) and _GOALS_HEADING.search(head):
            awaiting_goals = True
            if not item_lines:
                continue
        if awaiting_goals and item_lines:
            overview.goals = _list_items(lines[item_lines[0] :])
            awaiting_goals = False
            continue
        if is_heading or para.startswith(f"[{colab.LINK_TEXT}]("):
            continue
        if not overview.summary and not re.fullmatch(r"\*\*[^*]+\*\*", para.strip()):
            overview.summary = para
    return overview


def _bold_paragraph_text(lines: Sequence[str]) -> str:
    """The text of a "**Time needed:** ..." paragraph without its label, up to the next
    line that starts another bold label (e.g. "**Prerequisites:**")."""
    kept = [lines[0]]
    for line in lines[1:]:
        if line.lstrip().startswith("**"):
            break
        kept.append(line)
    text = "\n".join(kept).strip()
    text = re.sub(r"^\*\*\s*time needed\s*:?\s*\*\*\s*:?\s*", "", text, flags=re.IGNORECASE)
    return text[:1].upper() + text[1:]


def _list_items(lines: Sequence[str]) -> list[str]:
    items: list[str] = []
    for line in lines:
        if _LIST_ITEM.match(line):
            items.append(_LIST_ITEM.sub("", line, count=1).strip())
        elif items and line.strip():
            items[-1] += " " + line.strip()
    return items


_BOOKKEEPING_KEYS = {"profile", "seed", "seconds"}


def key_numbers(stem: str, results: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Return (label, text) pairs of the key numbers of notebook ``stem`` for the landing page.

    ``results`` is the notebook's results JSON (None when the file is missing: no numbers).
    The lines, labels and formats are those of the notebook's results schema
    (``mlprivacy_helpers.results_schema``); a line whose keys are missing or malformed is
    skipped, so a results file of an older run loses a line, not the page. A notebook
    without a schema gets the first eight scalar numbers of its file.
    """
    if not results:
        return []
    schema = SCHEMAS.get(stem)
    if schema is None:
        return [
            (key.replace("_", " "), f"{value:.4g}" if isinstance(value, float) else f"{value}")
            for key, value in results.items()
            if key not in _BOOKKEEPING_KEYS
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ][:8]
    pairs = []
    for label, show in schema.landing_lines():
        try:
            pairs.append((label, show(results)))
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return pairs


SERIES_STORY = """\
Machine-learning models remember more about the people in their training data than their
accuracy suggests. This series shows it with numbers you compute yourself, on a laptop CPU,
and shows what *differential privacy* (DP) does about it. It starts with the definition:
why any exact statistic can betray one person, and how calibrated noise, measured by
$\\varepsilon$ and $\\delta$, bounds what anyone can learn. It then attacks real models —
asking of a trained classifier whether a given record was in its training set (membership
inference), making it draw what it learned about a class (model inversion), or letting a
language model write out a secret from its training text (memorization) — and defends them
with DP-SGD, whose $\\varepsilon$ is computed for the model it trains. Each notebook
checks its claims with assertions; the numbers below are this run's.
"""


def _md(text: str) -> str:
    return markdown2html(text) if text else ""


def _md_inline(text: str) -> str:
    """Markdown of one line without the paragraph around it (for list items)."""
    rendered = _md(text).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return rendered


def landing_page(entries: Sequence[Mapping[str, Any]], run_info: Mapping[str, str]) -> str:
    """Return the HTML of ``index.html``.

    Each entry has ``stem``, ``html`` (the page's file name), ``overview``
    (a NotebookOverview), ``results`` (dict or None), ``seconds`` (float or None) and
    ``error`` (str or None), optionally ``profile`` (of that notebook's last run).
    ``run_info`` holds ``profile``, ``seed`` and ``executed``.
    MathJax is loaded from ``_static/`` like on the notebook pages.
    """
    cards = []
    for e in entries:
        ov: NotebookOverview = e["overview"]
        if e.get("error"):
            status = f'<p class="failed">This run FAILED: {html.escape(e["error"])}</p>'
        elif e.get("seconds") is not None:
            profile = f", profile {html.escape(e['profile'])}" if e.get("profile") else ""
            status = f'<p class="ran">Last run: {e["seconds"]:.0f} s{profile}.</p>'
        else:
            status = ""
        goals = "".join(f"<li>{_md_inline(g)}</li>" for g in ov.goals)
        numbers = key_numbers(e["stem"], e.get("results"))
        rows = "".join(
            f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>"
            for label, text in numbers
        )
        cards.append(
            f'<section class="notebook" id="nb-{html.escape(e["stem"])}">'
            f'<h2><a href="{html.escape(e["html"])}">{html.escape(ov.title)}</a></h2>'
            f"{_md(ov.summary)}"
            + (f"<h3>You will learn to</h3><ol>{goals}</ol>" if goals else "")
            + (f"<h3>Time needed</h3>{_md(ov.time_needed)}" if ov.time_needed else "")
            + status
            + (
                f'<h3>Key numbers of this run</h3><table class="numbers">{rows}</table>'
                if rows
                else ""
            )
            + f'<p><a class="open" href="{html.escape(e["html"])}">Open the notebook page'
            "&nbsp;&rarr;</a>"
            + (
                f' &middot; <a class="colab" href="{html.escape(colab.colab_url(name))}">'
                f"{colab.LINK_TEXT}</a>"
                if re.fullmatch(r"\d\d_[\w-]+\.ipynb", name := f"{e['stem']}.ipynb")
                else ""
            )
            + "</p></section>"
        )
    toc = "".join(
        f'<li><a href="#nb-{html.escape(e["stem"])}">{html.escape(e["overview"].title)}</a></li>'
        for e in entries
    )
    info = (
        f"Profile <b>{html.escape(run_info['profile'])}</b>, seed "
        f"{html.escape(run_info['seed'])}, executed {html.escape(run_info['executed'])}."
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Privacy attacks and defences for machine learning</title>
<script>
window.MathJax = {{tex: {{inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true}},
                  svg: {{fontCache: 'global'}}, options: {{enableMenu: false}}}};
</script>
<script id="MathJax-script" src="{MATHJAX_URL}"></script>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }}
h1 {{ margin-bottom: 0.2rem; }}
.run {{ color: #555; }}
section.notebook {{ border: 1px solid #ddd; border-radius: 8px; padding: 0.5rem 1.5rem 1rem;
                   margin: 1.5rem 0; }}
section.notebook h2 a {{ color: #1a4d8f; text-decoration: none; }}
table.numbers {{ border-collapse: collapse; }}
table.numbers th {{ text-align: left; font-weight: normal; color: #444; padding: 2px 1.5rem 2px 0;
                    vertical-align: top; }}
table.numbers td {{ font-variant-numeric: tabular-nums; padding: 2px 0; }}
.failed {{ color: #b00020; font-weight: bold; }}
.ran {{ color: #555; }}
a.open {{ font-weight: bold; }}
</style></head>
<body>
<h1>Privacy attacks and defences for machine learning</h1>
<p class="run">A hands-on tutorial series in Jupyter notebooks. {info}
These pages work offline.</p>
{_md(SERIES_STORY)}
<ol class="toc">{toc}</ol>
{"".join(cards)}
<p class="run">Each page is a notebook executed by <code>make run</code>; the notebooks
themselves are in <code>notebooks/</code> (open them with <code>make lab</code>), their numbers in
<code>build/results/</code>.</p>
</body></html>
"""


def read_results(results_dir: Path, stem: str) -> dict[str, Any] | None:
    """Return the parsed ``<results_dir>/<stem>.json``, or None if missing or unreadable."""
    path = results_dir / f"{stem}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
