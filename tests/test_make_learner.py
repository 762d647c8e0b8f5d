"""The learner edition (mlprivacy_build/make_learner.py): stubs, collapsed solutions, rules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mlprivacy_build import make_learner

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
Error = make_learner.LearnerEditionError


def solution(source: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["solution"]
    return cell


def notebook(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells))


def exercise(number=1, answer="my_x = 2 * 21", checker=None):
    checker = checker or f'exercises.check("Exercise {number}", my_x, 42)'
    return [
        new_markdown_cell(f"**Exercise {number}.** What is 2 x 21? Store it in `my_x`."),
        solution(answer),
        new_code_cell(checker),
    ]


def test_a_solution_becomes_stubs_and_a_collapsed_block():
    nb = notebook(
        new_code_cell("import numpy as np"),
        new_markdown_cell("### Exercise 1\nWrite `double` and compute `a, b`."),
        solution("def double(v):\n    return 2 * v\n\n\na, b = double(1), double(2)\nprint(a)"),
        new_code_cell('exercises.check_function("Exercise 1", double, [(1,)], expected=[2])'),
        new_code_cell("print(np.pi)"),
    )
    learner = make_learner.learner_notebook(nb)
    assert [c.cell_type for c in learner.cells] == ["code", "markdown", "code", "markdown"] + [
        "code",
        "code",
    ]
    stub, block = learner.cells[2], learner.cells[3]
    assert stub.source == (
        "double = None  # your code here: def double(v)\n"
        "a = None  # your code here\nb = None  # your code here"
    )
    assert stub.metadata["tags"] == ["learner-stub"]
    assert block.source.startswith("<details><summary>Show solution</summary>")
    assert "```python\ndef double(v):\n    return 2 * v" in block.source
    assert block.source.rstrip().endswith("</details>")
    assert nb.cells[2].metadata["tags"] == ["solution"], "the solved notebook is not modified"
    nbformat.validate(learner)
    assert len({c.id for c in learner.cells}) == len(learner.cells)


def test_the_test_build_stores_the_not_attempted_verdicts_for_nbval():
    nb = notebook(
        *exercise(
            1,
            checker='exercises.check("Exercise 1", my_x, 42)\nexercises.check("Bonus", my_x, 42)',
        )
    )
    learner = make_learner.learner_notebook(nb, expect_not_attempted=True)
    checker = learner.cells[-1]
    assert "nbval-check-output" in checker.metadata["tags"]
    assert checker.execution_count is not None, "nbval refuses outputs of an unrun cell"
    assert checker.outputs[1].data == {"text/plain": "'not attempted yet'"}  # nbval: no ";"
    assert checker.outputs[0].text == (
        "Exercise 1: not attempted yet (set the variable and rerun the cell).\n"
        "Bonus: not attempted yet (set the variable and rerun the cell).\n"
    )
    plain = make_learner.learner_notebook(nb)
    assert plain.cells[-1].outputs == [] and "tags" not in plain.cells[-1].metadata


def test_the_verdict_text_matches_the_checker(capsys):
    from mlprivacy_helpers import exercises

    exercises.check("Exercise 7", None, 1.0)
    assert capsys.readouterr().out == make_learner.NOT_ATTEMPTED_LINE.format(name="Exercise 7")


def test_a_solution_that_defines_nothing_is_an_error():
    nb = notebook(*exercise(answer="print(2 * 21)"))
    with pytest.raises(Error, match="cell 1: the solution cell defines no answer name"):
        make_learner.learner_notebook(nb, "nb.ipynb")


@pytest.mark.parametrize(
    "answer, says",
    [
        ("import math\nmy_x = 42", "found Import"),
        ("my_x = 42\nfor i in range(2):\n    my_x += 0", "found For"),
        ("d = {}\nd['k'] = 42", "only assign plain names"),
        ("my_x = (", "cannot parse"),
    ],
)
def test_a_solution_with_other_effects_is_an_error(answer, says):
    with pytest.raises(Error, match=re.escape(says)):
        make_learner.learner_notebook(notebook(*exercise(answer=answer)))


def test_a_later_cell_that_reads_an_answer_is_detected():
    nb = notebook(*exercise(), new_code_cell("print(f'{my_x:.1f}')"))
    with pytest.raises(Error, match=r"nb.ipynb, cell 3 reads \['my_x'\].*cell 1"):
        make_learner.learner_notebook(nb, "nb.ipynb")
    # a later exercise building on an earlier answer is a dependency too
    nb = notebook(
        *exercise(),
        *exercise(2, answer="my_y = my_x + 1", checker='exercises.check("E2", my_y, 43)'),
    )
    with pytest.raises(Error, match="reads"):
        make_learner.find_exercises(nb)


@pytest.mark.parametrize(
    "cells, says",
    [
        (
            [new_markdown_cell("Just text."), solution("my_x = 1"), new_code_cell("f(my_x)")],
            "must follow its question",
        ),
        ([new_markdown_cell("**Exercise 1.**"), solution("my_x = 1")], "followed by its checker"),
        (
            [new_markdown_cell("**Exercise 1.**"), solution("my_x = 1"), new_code_cell("print(1)")],
            "must call a checker",
        ),
    ],
)
def test_the_three_cell_shape_is_enforced(cells, says):
    with pytest.raises(Error, match=says):
        make_learner.find_exercises(notebook(*cells))


def test_a_solution_left_visible_in_the_question_or_checker_is_a_leak():
    leaky_question = exercise()
    leaky_question[0].source += "\n\nSolution: `my_x = 2 * 21`"
    with pytest.raises(Error, match="visible outside the collapsed blocks"):
        make_learner.learner_notebook(notebook(*leaky_question))
    leaky_checker = exercise(checker='my_x = 2 * 21\nexercises.check("Exercise 1", my_x, 42)')
    with pytest.raises(Error, match="visible"):
        make_learner.learner_notebook(notebook(*leaky_checker))
    hidden = exercise()
    hidden[0].source += "\n\n<details><summary>Hint</summary>\n\nmy_x = 2 * 21\n</details>"
    make_learner.learner_notebook(notebook(*hidden))  # inside a collapsed block: fine


def test_main_writes_every_notebook_and_fails_clearly(tmp_path, capsys):
    good, bad = tmp_path / "01_good.ipynb", tmp_path / "02_bad.ipynb"
    nbformat.write(notebook(*exercise()), good)
    nbformat.write(notebook(*exercise(answer="print(42)")), bad)
    assert make_learner.main([str(good), "--out", str(tmp_path / "out")]) == 0
    assert "1 exercises (0 coding, 1 numeric)" in capsys.readouterr().out
    assert (tmp_path / "out" / "01_good.ipynb").is_file()
    assert make_learner.main([str(bad), "--out", str(tmp_path / "out")]) == 1
    assert "02_bad.ipynb, cell 1: the solution cell defines no answer name" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_has_a_learner_edition_without_visible_solutions(path):
    nb = nbformat.read(path, as_version=4)
    learner = make_learner.learner_notebook(nb, path.name)  # raises on any leak or dependency
    solved = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    stubs = [c for c in learner.cells if "learner-stub" in c.metadata.get("tags", [])]
    assert len(stubs) == len(solved)
    assert all(
        re.fullmatch(r"(\w+ = None  # your code here(: def \w+\(.*\))?\n?)+", s.source)
        for s in stubs
    )
    assert not any("solution" in c.metadata.get("tags", []) for c in learner.cells)
    for cell in learner.cells:
        if "learner-solution" in cell.metadata.get("tags", []):
            assert cell.source.startswith("<details>") and cell.source.endswith("</details>")


@pytest.mark.parametrize("path", NOTEBOOKS[:3], ids=[p.name for p in NOTEBOOKS[:3]])
def test_notebooks_01_to_03_have_coding_exercises(path):
    counts = make_learner.summary(nbformat.read(path, as_version=4), path.name)
    assert counts["coding"] >= 4 and counts["numeric"] >= 2, counts


def test_nbval_fails_a_learner_edition_whose_checker_does_not_say_not_attempted(tmp_path):
    # The mechanism `make test` relies on, end to end on a tiny notebook (two kernel starts).
    checker = 'exercises.check("Exercise 1", my_x, 42);'
    nb = notebook(
        new_code_cell("from mlprivacy_helpers import exercises"), *exercise(checker=checker)
    )
    learner = make_learner.learner_notebook(nb, expect_not_attempted=True)

    def nbval(edition) -> subprocess.CompletedProcess:
        path = tmp_path / "01_tiny.ipynb"
        nbformat.write(edition, path)
        return subprocess.run(
            [sys.executable, "-m", "pytest", str(path), "--nbval-lax", "-p", "no:cacheprovider"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    unanswered = nbval(learner)
    assert unanswered.returncode == 0, unanswered.stdout[-2000:]
    learner.cells[2].source = "my_x = 42"  # a learner edition that answers the exercise
    answered = nbval(learner)
    assert answered.returncode != 0 and "Exercise 1: correct!" in answered.stdout


def test_checker_cells_are_collapsed_only_in_the_learner_edition():
    nb = notebook(*exercise())
    learner = make_learner.learner_notebook(nb)
    checker = learner.cells[-1]
    # It still runs and compares; its first line, all JupyterLab shows of it, says what it is.
    assert checker.source == f"{make_learner.CHECKER_HEADER}\n{nb.cells[-1].source}"
    assert checker.metadata["jupyter"] == {"source_hidden": True}
    assert "jupyter" not in nb.cells[-1].metadata
    assert not any(c.metadata.get("jupyter") for c in learner.cells[:-1])


def test_the_solved_editions_words_are_replaced_by_the_learner_introduction():
    intro = new_markdown_cell(
        "## Exercises\nRun the checkers. <!-- solved-edition -->In this solved notebook the "
        "answers are filled in.<!-- /solved-edition -->\nGood luck."
    )
    learner = make_learner.learner_notebook(notebook(intro, *exercise()))
    text = learner.cells[0].source
    assert make_learner.LEARNER_INTRO in text and "solved" not in text
    assert text.startswith("## Exercises\nRun the checkers. ") and text.endswith("\nGood luck.")

    unmarked = new_markdown_cell("In this solved notebook the answers are filled in.")
    with pytest.raises(Error, match="cell 1: text about the solved notebook"):
        make_learner.learner_notebook(notebook(unmarked, *exercise()))


def test_the_learner_edition_carries_the_metadata_jupyterlab_writes_for_this_kernel():
    from ipykernel.ipkernel import IPythonKernel

    learner = make_learner.learner_notebook(notebook(*exercise()))
    assert learner.metadata["language_info"] == dict(IPythonKernel.language_info)
    assert learner.metadata["kernelspec"]["name"] == "python3"
    assert learner.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_solved_notebooks_carry_the_kernels_metadata_so_they_open_unchanged(path):
    # The Python patch version is the one of the machine that last saved them.
    metadata = nbformat.read(path, as_version=4).metadata
    expected = make_learner.kernel_metadata()
    assert metadata["kernelspec"] == expected["kernelspec"]
    assert metadata["language_info"].keys() == expected["language_info"].keys()
    version = metadata["language_info"]["version"]
    assert {k: v for k, v in metadata["language_info"].items() if k != "version"} == {
        k: v for k, v in expected["language_info"].items() if k != "version"
    }
    assert re.fullmatch(r"3\.1[123]\.\d+", version), version


def test_a_rebuild_keeps_a_learners_answers_and_replaces_an_untouched_copy(tmp_path, capsys):
    source, out = tmp_path / "01_x.ipynb", tmp_path / "learner"
    nbformat.write(notebook(*exercise()), source)
    assert make_learner.main([str(source), "--out", str(out)]) == 0
    assert make_learner.main([str(source), "--out", str(out)]) == 0  # untouched: replaced
    assert not (out / make_learner.PREVIOUS_ANSWERS).exists()

    worked = nbformat.read(out / "01_x.ipynb", as_version=4)
    stub = next(c for c in worked.cells if "learner-stub" in c.metadata.get("tags", []))
    stub.source = "my_x = 42"
    nbformat.write(worked, out / "01_x.ipynb")
    capsys.readouterr()
    assert make_learner.main([str(source), "--out", str(out)]) == 0
    (kept,) = (out / make_learner.PREVIOUS_ANSWERS).glob("01_x-*.ipynb")
    assert "my_x = 42" in kept.read_text()
    assert f"had your answers: moved to {kept}" in capsys.readouterr().out
    assert "my_x = None" in (out / "01_x.ipynb").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_learner_edition_speaks_to_the_learner(path):
    learner = make_learner.learner_notebook(nbformat.read(path, as_version=4), path.name)
    markdown = "\n".join(c.source for c in learner.cells if c.cell_type == "markdown")
    assert make_learner.LEARNER_INTRO in markdown
    assert "solved notebook" not in make_learner.DETAILS.sub("", markdown)
