"""mlprivacy_build/pages.py: the offline assets, the nbconvert template and the landing page of
`make run` (the browser check of the pages is browser_tests/test_offline_pages.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from mlprivacy_build import pages

ROOT = Path(__file__).resolve().parents[1]


def markdown_nb(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(s) for s in sources]
    return nb


HEADING_STYLE = """# Title one

**Notebook 01 of the series.**

A story paragraph with $b = \\Delta/\\varepsilon$.

### What you will learn
After this notebook you can

1. explain one thing;
2. add noise with scale $b$
   over two lines;

### Time needed
About 45 minutes; quick: 30 s, full: 2 min.

### Prerequisites
Python.
"""

BOLD_STYLE = """# Title two

The story of two.

**You will learn to**

1. run an attack;
2. read its result.

**Time needed:** about 2 minutes (quick) or 6 minutes (full).
**Prerequisites:** Keras.
"""

OTHER_BOLD_STYLE = """# Title three

Story.

**Time needed**: about 1 minute to run (quick profile)
or 2 minutes (full).
**Prerequisites**: gradients.
"""


def test_overview_with_the_colon_after_the_bold_label():
    ov = pages.notebook_overview(markdown_nb(OTHER_BOLD_STYLE), "fallback")
    assert ov.time_needed == "About 1 minute to run (quick profile)\nor 2 minutes (full)."


def test_overview_with_headings():
    ov = pages.notebook_overview(markdown_nb(HEADING_STYLE), "fallback")
    assert ov.title == "Title one"
    assert ov.summary.startswith("A story paragraph")
    assert ov.goals == ["explain one thing;", "add noise with scale $b$ over two lines;"]
    assert ov.time_needed == "About 45 minutes; quick: 30 s, full: 2 min."


def test_overview_with_bold_lines():
    ov = pages.notebook_overview(markdown_nb(BOLD_STYLE), "fallback")
    assert ov.title == "Title two"
    assert ov.summary == "The story of two."
    assert ov.goals == ["run an attack;", "read its result."]
    # the bold label goes (the page has a heading), and so does the next bold line
    assert ov.time_needed == "About 2 minutes (quick) or 6 minutes (full)."


def test_overview_of_a_notebook_without_one():
    ov = pages.notebook_overview(markdown_nb(), "04_something")
    assert (ov.title, ov.summary, ov.goals, ov.time_needed) == ("04_something", "", [], "")


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
def test_every_notebook_has_goals_and_times_for_the_landing_page(path):
    ov = pages.notebook_overview(nbformat.read(path, as_version=4), path.stem)
    assert ov.title != path.stem and ov.summary and ov.goals and ov.time_needed


def test_key_numbers_of_a_known_notebook_skip_what_is_missing():
    results = {"train_accuracy": 0.88, "test_accuracy": 0.5, "lr_auc_entire": 0.73}
    pairs = dict(pages.key_numbers("02_membership_inference_cifar10", results))
    assert pairs["Undefended CNN: train / test accuracy"] == "0.88 / 0.50"
    # the advantage is missing: that line is left out, not the page
    assert not any("AUC, advantage" in label for label in pairs)
    assert len(pairs) == 1


def test_key_numbers_per_epsilon():
    results = {"epsilons": [0.1, 1.0], "overlap_area": [0.95, 0.61],
               "max_empirical_log_ratio": [0.11, 1.05], "n_samples": 1000}  # fmt: skip
    pairs = dict(pages.key_numbers("01_differential_privacy_basics", results))
    assert pairs["Overlap of the two Laplace output densities at ε = 1"] == "0.61"
    assert pairs["Samples per experiment"] == "1,000"
    assert "ε = 0.1: 0.11, ε = 1: 1.05" in pairs.values()


def test_key_numbers_of_an_unknown_notebook_are_its_scalars():
    results = {"profile": "quick", "seed": 0, "seconds": 3.0, "auc": 0.61234, "n": 5,
               "flag": True, "curve": [1, 2]}  # fmt: skip
    assert pages.key_numbers("09_new", results) == [("auc", "0.6123"), ("n", "5")]
    assert pages.key_numbers("09_new", None) == []


def test_key_numbers_of_notebook_04():
    results = {"tpr_at_1pct_fpr": {"lr": 0.032, "lira_online": 0.0948, "rmia_offline": 0.0928},
               "k_reference_models": 4, "dp_epsilon": 3.847, "dp_delta": 1e-5,
               "dp_tpr_at_1pct_fpr": {"lr": 0.0104, "rmia_offline": 0.0084},
               "dp_tpr_bound_at_1pct_fpr": 0.148, "dp_tpr_bound_at_1pct_fpr_single_eps": 0.998,
               "audit_epsilon_lower_bound_plain": 1.67, "audit_epsilon_lower_bound_dp": 0.0,
               "audit_canaries": 500}  # fmt: skip
    pairs = dict(pages.key_numbers("04_auditing_membership_inference", results))
    label = "Members found at 1 % false positives: LR attack vs LiRA online vs RMIA offline"
    assert pairs[label] == ("3.2% vs 9.5% vs 9.3%")
    label = (
        "DP-SGD model: ε, add/remove (δ); TPR allowed on the pool at 1 % FPR by the whole "
        "replace-one profile (by its single pair); strongest attack's"
    )
    assert pairs[label] == "3.85 (δ = 1e-05); 14.8% (100%); 1.0%"
    assert "1.67 / 0.00 (500 canaries)" in pairs.values()


def test_key_numbers_of_notebook_05():
    results = {"secret_space_size": 10_000,
               "exposure_by_repetitions": {"1": 3.45, "8": 7.35, "32": 13.29},
               "dp_exposure_by_repetitions": {"1": 1.45, "8": 1.91, "32": 6.17},
               "dp_epsilon": 4.236, "validation_perplexity": 9.481,
               "dp_validation_perplexity": 14.89}  # fmt: skip
    pairs = dict(pages.key_numbers("05_memorization_secret_sharer", results))
    label = "Mean exposure of the canaries inserted 1 / 8 / 32 times (plain model)"
    assert pairs[label] == "3.5 / 7.3 / 13.3 bits (maximum 13.3)"
    assert pairs["The same under DP-SGD"] == "1.4 / 1.9 / 6.2 bits (ε = 4.2 per record)"
    assert pairs["Validation perplexity per character: plain / DP-SGD"] == "9.48 / 14.89"


def test_read_results_tolerates_missing_and_broken_files(tmp_path):
    (tmp_path / "a.json").write_text('{"x": 1}')
    (tmp_path / "b.json").write_text("{broken")
    (tmp_path / "c.json").write_text("[1, 2]")
    assert pages.read_results(tmp_path, "a") == {"x": 1}
    assert pages.read_results(tmp_path, "b") is None
    assert pages.read_results(tmp_path, "c") is None
    assert pages.read_results(tmp_path, "missing") is None


def test_landing_page_lists_goals_times_numbers_and_failures():
    ov = pages.notebook_overview(markdown_nb(HEADING_STYLE), "x")
    entries = [
        {"stem": "01_differential_privacy_basics", "html": "01_a.html", "overview": ov,
         "seconds": 7.6, "error": None, "results": {"epsilons": [1.0], "overlap_area": [0.61]}},
        {"stem": "02_b", "html": "02_b.html", "overview": pages.NotebookOverview("B"),
         "seconds": 3.0, "error": "ValueError: boom", "results": None},
    ]  # fmt: skip
    page = pages.landing_page(entries, {"profile": "quick", "seed": "0", "executed": "now"})
    assert page.count('<section class="notebook"') == 2
    assert 'href="01_a.html"' in page and 'href="02_b.html"' in page
    assert "<li>explain one thing;</li>" in page
    assert "About 45 minutes" in page and "Last run: 8 s" in page
    assert "<td>0.61</td>" in page
    assert "FAILED: ValueError: boom" in page
    assert pages.MATHJAX_URL in page and "http" not in page.split("<body>")[0]


def test_copy_offline_assets(tmp_path):
    modules = tmp_path / "node_modules"
    for src, _ in pages.OFFLINE_ASSETS:
        target = modules / src
        if target.suffix == ".js":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("// js")
        else:
            target.mkdir(parents=True)
            (target / "embed-amd.js").write_text("// js")
            (target / "embed-amd.js.map").write_text("{}")
    html = tmp_path / "html"
    (html / "_static" / "stale").mkdir(parents=True)
    pages.copy_offline_assets(html, modules)
    static = html / "_static"
    assert (html / pages.MATHJAX_URL).is_file()
    assert (html / pages.REQUIRE_JS_URL).is_file()
    assert (html / pages.WIDGET_RENDERER_URL).is_file()
    assert not (static / "html-manager" / "embed-amd.js.map").exists()
    assert not (static / "stale").exists()


def test_copy_offline_assets_says_how_to_install_them(tmp_path):
    with pytest.raises(pages.MissingAssetsError, match="make web-assets"):
        pages.copy_offline_assets(tmp_path / "html", tmp_path / "nothing")


def test_offline_template_points_every_script_at_static_files():
    nb = markdown_nb("# T\n\nInline $x^2$ math.")
    nb.cells.append(nbformat.v4.new_code_cell("1 + 1"))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    body, _ = pages.offline_exporter().from_notebook_node(nb)
    assert f'src="{pages.MATHJAX_URL}"' in body
    assert f'src="{pages.REQUIRE_JS_URL}"' in body
    assert pages.WIDGET_RENDERER_URL in body
    assert "cdnjs" not in body and "jsdelivr" not in body and "unpkg" not in body
    assert 'href="index.html"' in body


def test_widget_output_keeps_its_static_png():
    nb = markdown_nb("# T")
    cell = nbformat.v4.new_code_cell("slider")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {
                    "model_id": "abc", "version_major": 2, "version_minor": 0},
                "image/png": "iVBORw0KGgo=",
                "text/plain": "slider",
            },
        )
    ]  # fmt: skip
    nb.cells.append(cell)
    model = {"model_name": "IntSliderModel", "model_module": "@jupyter-widgets/controls",
             "model_module_version": "2.0.0", "state": {}}  # fmt: skip
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {"abc": model}, "version_major": 2, "version_minor": 0}
    }  # fmt: skip
    body, _ = pages.offline_exporter().from_notebook_node(nb)
    assert "application/vnd.jupyter.widget-view+json" in body
    assert 'class="mlp-static-fallback"' in body
    assert "data:image/png;base64,iVBORw0KGgo=" in body
