"""Write the learner edition of the notebooks (``make learner``): solutions hidden, to try first.

The solved notebooks in ``notebooks/`` are the single source. An exercise there is three
consecutive cells (README.md, "Exercises and the learner edition"):

1. a markdown question (it holds ``**Exercise`` or a ``### Exercise`` heading);
2. a code cell tagged ``solution`` that only defines the answer name(s) at top level
   (``name = ...`` and/or ``def name(...)``);
3. a code cell that calls a checker of ``mlprivacy_helpers.exercises`` on those names.

In the learner edition each solution cell becomes a stub cell (tag ``learner-stub``) with
``name = None  # your code here`` for every name it defines (for a function, followed by its
signature: ``# your code here: def name(args)``), followed by a markdown cell
with the solution in a collapsed ``<details><summary>Show solution</summary>`` block. The
edition must still run top to bottom, so no cell after an exercise may read its answer
names: this is checked statically (``ast``), as are the three-cell shape and that no
solution line is visible outside the collapsed blocks. Any violation stops with an error
naming the notebook and cell.

For the learner, each checker cell's code is folded (``"jupyter": {"source_hidden": true}``)
behind a first line that says what the cell is (JupyterLab shows that line), so the verdict
shows but not how the expected value is computed; the solved notebooks' sentences about the
solved edition (between ``<!-- solved-edition -->`` and ``<!-- /solved-edition -->``) become
the learner edition's introduction; and the notebook carries the ``kernelspec`` and
``language_info`` that JupyterLab writes for this environment's kernel, so opening it does not
mark it as changed. Rebuilding over a learner copy whose cells were edited moves that copy to
``previous-answers/`` first.

With ``--expect-not-attempted`` (used by ``make test``) every checker cell also stores the
output it must print when nothing was answered ("Exercise N: not attempted yet ...") and is
tagged ``nbval-check-output``, so that nbval fails if a learner edition does not run with
every exercise unanswered. Needs nbformat and ipykernel (for the kernel's metadata).

Usage: mlprivacy-learner [--out DIR] [--expect-not-attempted] NOTEBOOK.ipynb ...
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
STUB_TAG = "learner-stub"
SOLUTION_BLOCK_TAG = "learner-solution"
CHECKERS = ("check", "check_function", "check_fields", "check_dp_mechanism")
# The text every checker prints for an unanswered exercise (mlprivacy_helpers.exercises).
NOT_ATTEMPTED = "not attempted yet"
NOT_ATTEMPTED_LINE = "{name}: " + NOT_ATTEMPTED + " (set the variable and rerun the cell).\n"
QUESTION = re.compile(r"\*\*Exercise\b|^#{2,4} Exercise\b", re.MULTILINE)
DETAILS = re.compile(r"<details>.*?</details>", re.DOTALL)
# In a solved notebook's markdown, the sentences that speak of the solved edition stand between
# these comments (invisible when rendered); the learner edition has LEARNER_INTRO in their place.
SOLVED_ONLY = re.compile(r"<!-- solved-edition -->.*?<!-- /solved-edition -->", re.DOTALL)
LEARNER_INTRO = (
    "This is the **learner edition**: each answer cell below a question starts as `None`; "
    "write your answer there and run the checker below it. If you are stuck, each "
    'exercise\'s solution is folded under "Show solution" right below its answer cell: '
    "try first."
)
# The first line of a checker cell in the learner edition: JupyterLab shows a collapsed cell's
# first line, which must say what the cell is, not how it computes the expected answer.
CHECKER_HEADER = "# The checker: run this cell for the verdict (its code is folded: no spoilers)."
PREVIOUS_ANSWERS = "previous-answers"  # where a rebuild moves a learner copy that was worked on


class LearnerEditionError(ValueError):
    """A notebook breaks the exercise convention; the message names the notebook and cell."""


@dataclass
class Exercise:
    """One exercise: the indices of its three cells and the answer names it defines."""

    question: int
    solution: int
    checker: int
    names: list[str]
    coding: bool  # the solution defines a function
    signatures: dict[str, str]  # "def name(args)" of each function the solution defines
    checker_labels: list[str]  # the first argument of each checker call


def _parse(source: str, where: str) -> ast.Module:
    # IPython magics and shell escapes are not Python: blank them before parsing.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError as exc:
        raise LearnerEditionError(f"{where}: cannot parse the code ({exc})") from exc


def defined_names(source: str, where: str = "cell") -> tuple[list[str], bool]:
    """Return the top-level names a solution cell defines and whether one is a function.

    Accepts assignments (also to tuples of names and annotated ones) and ``def``; any other
    top-level statement except a bare expression (e.g. ``print``) raises
    :class:`LearnerEditionError`, as does a cell that defines nothing.
    """
    names: list[str] = []
    coding = False

    def add_target(target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                add_target(elt)
        else:
            raise LearnerEditionError(
                f"{where}: a solution may only assign plain names, not {ast.unparse(target)!r}"
            )

    for node in _parse(source, where).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add_target(target)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            add_target(node.target)
        elif isinstance(node, ast.FunctionDef):
            names.append(node.name)
            coding = True
        elif isinstance(node, ast.Expr):
            continue  # e.g. a print: no name, no effect later cells can use
        else:
            raise LearnerEditionError(
                f"{where}: a solution cell may only define its answer names "
                f"(assignments and def), found {type(node).__name__} at line {node.lineno}"
            )
    if not names:
        raise LearnerEditionError(
            f"{where}: the solution cell defines no answer name "
            "(it needs at least one top-level `name = ...` or `def name(...)`)"
        )
    return list(dict.fromkeys(names)), coding


def read_names(source: str, where: str = "cell") -> set[str]:
    """Return every name a code cell reads (loads), anywhere in it."""
    return {
        node.id
        for node in ast.walk(_parse(source, where))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def checker_labels(source: str, where: str = "cell") -> list[str]:
    """Return the exercise label (first argument) of every checker call in a cell."""
    labels = []
    for node in ast.walk(_parse(source, where)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CHECKERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            labels.append(node.args[0].value)
    return labels


def _ends_with_checker_call(source: str) -> bool:
    """Whether a cell's last statement is a bare checker call (its value: the verdict)."""
    body = _parse(source, "checker").body
    last = body[-1] if body else None
    return (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Attribute)
        and last.value.func.attr in CHECKERS
    )


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def find_exercises(nb: nbformat.NotebookNode, label: str = "notebook") -> list[Exercise]:
    """Return the notebook's exercises, checking the convention (see the module docstring)."""
    cells = nb.cells
    found = []
    for i, cell in enumerate(cells):
        if SOLUTION_TAG not in _tags(cell):
            continue
        where = f"{label}, cell {i}"
        if cell.cell_type != "code":
            raise LearnerEditionError(f"{where}: only code cells can be tagged {SOLUTION_TAG!r}")
        question = cells[i - 1] if i > 0 else None
        if (
            question is None
            or question.cell_type != "markdown"
            or not QUESTION.search(question.source)
        ):
            raise LearnerEditionError(
                f"{where}: a solution cell must follow its question, a markdown cell with "
                "'**Exercise N.**' or a '### Exercise N' heading"
            )
        names, coding = defined_names(cell.source, where)
        signatures = {
            node.name: f"def {node.name}({ast.unparse(node.args)})"
            for node in _parse(cell.source, where).body
            if isinstance(node, ast.FunctionDef)
        }
        if i + 1 >= len(cells) or cells[i + 1].cell_type != "code":
            raise LearnerEditionError(f"{where}: a solution cell must be followed by its checker")
        checker = cells[i + 1]
        labels = checker_labels(checker.source, f"{label}, cell {i + 1}")
        if not labels or not set(names) & read_names(checker.source):
            raise LearnerEditionError(
                f"{label}, cell {i + 1}: the cell after a solution must call a checker "
                f"(exercises.{'/'.join(CHECKERS)}) on its answer names {names}"
            )
        found.append(Exercise(i - 1, i, i + 1, names, coding, signatures, labels))

    for ex in found:
        for j in range(ex.checker + 1, len(cells)):
            if cells[j].cell_type != "code":
                continue
            used = set(ex.names) & read_names(cells[j].source, f"{label}, cell {j}")
            if used:
                raise LearnerEditionError(
                    f"{label}, cell {j} reads {sorted(used)}, the answer of the exercise in cell "
                    f"{ex.solution}: no later cell may depend on an exercise's result (the "
                    "learner edition sets it to None)"
                )
    return found


def _solution_block(source: str) -> str:
    return (
        "<details><summary>Show solution</summary>\n\n"
        f"```python\n{source.rstrip()}\n```\n\n</details>"
    )


def learner_notebook(
    nb: nbformat.NotebookNode, label: str = "notebook", expect_not_attempted: bool = False
) -> nbformat.NotebookNode:
    """Return the learner edition of a solved notebook (a new notebook; ``nb`` is unchanged)."""
    exercises = {ex.solution: ex for ex in find_exercises(nb, label)}
    checkers = {ex.checker: ex for ex in exercises.values()}
    out = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(out.cells):
        if i in exercises:
            ex = exercises[i]
            stub = nbformat.v4.new_code_cell(
                "\n".join(
                    f"{name} = None  # your code here"
                    + (f": {ex.signatures[name]}" if name in ex.signatures else "")
                    for name in ex.names
                )
            )
            stub.metadata = {k: v for k, v in cell.metadata.items() if k != "tags"}
            stub.metadata["tags"] = [t for t in _tags(cell) if t != SOLUTION_TAG] + [STUB_TAG]
            stub.id = f"{cell.id}-stub"[:64] if "id" in cell else stub.id
            answer = nbformat.v4.new_markdown_cell(_solution_block(cell.source))
            answer.metadata["tags"] = [SOLUTION_BLOCK_TAG]
            answer.id = f"{cell.id}-show"[:64] if "id" in cell else answer.id
            cells += [stub, answer]
            continue
        if cell.cell_type == "markdown":
            cell.source = SOLVED_ONLY.sub(LEARNER_INTRO, cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if i in checkers:  # the verdict shows; how the expected value is computed does not
                cell.source = f"{CHECKER_HEADER}\n{cell.source}"  # JupyterLab previews line 1
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            if expect_not_attempted and i in checkers:
                cell.outputs = [
                    nbformat.v4.new_output(
                        "stream",
                        name="stdout",
                        text="".join(
                            NOT_ATTEMPTED_LINE.format(name=n) for n in checkers[i].checker_labels
                        ),
                    )
                ]
                cell.execution_count = 1  # nbval compares only the outputs of "run" cells
                if _ends_with_checker_call(cell.source):
                    # nbval runs cells without history, so IPython ignores the trailing ";"
                    # and the verdict is also the cell's value.
                    cell.outputs.append(
                        nbformat.v4.new_output(
                            "execute_result",
                            data={"text/plain": repr(NOT_ATTEMPTED)},
                            execution_count=1,
                        )
                    )
                cell.metadata["tags"] = _tags(cell) + ["nbval-check-output"]
        cells.append(cell)
    out.cells = cells
    solved_talk = [
        j
        for j, c in enumerate(out.cells)
        if c.cell_type == "markdown"
        and re.search(r"solved (notebook|edition)", DETAILS.sub("", c.source))
    ]
    if solved_talk:
        raise LearnerEditionError(
            f"{label}, cell {solved_talk[0] + 1}: text about the solved notebook would reach the "
            "learner edition; put it between <!-- solved-edition --> and <!-- /solved-edition --> "
            "(the learner edition has its own introduction there)"
        )
    out.metadata.update(kernel_metadata())
    out.metadata["mlprivacy"] = {"learner_edition_of": label, "sources_sha256": sources_digest(out)}
    in_exercises = {j for ex in exercises.values() for j in (ex.question, ex.solution, ex.checker)}
    lesson = [c.source for j, c in enumerate(nb.cells) if j not in in_exercises]
    leaks = visible_solution_lines(out, [nb.cells[i].source for i in exercises], lesson)
    if leaks:
        raise LearnerEditionError(
            f"{label}: solution code is visible outside the collapsed blocks: {leaks[:3]}"
        )
    return out


def kernel_metadata() -> dict:
    """Return the ``kernelspec`` and ``language_info`` metadata that JupyterLab writes for this
    environment's ``python3`` kernel (ipykernel's own), so that opening a notebook that
    carries them does not mark it as changed. ``language_info`` holds this Python's version.
    """
    from ipykernel.ipkernel import IPythonKernel
    from ipykernel.kernelspec import KERNEL_NAME, get_kernel_dict

    spec = get_kernel_dict()
    return {
        "kernelspec": {
            "display_name": spec["display_name"],
            "language": spec["language"],
            "name": KERNEL_NAME,
        },
        "language_info": copy.deepcopy(dict(IPythonKernel.language_info)),
    }


def sources_digest(nb: nbformat.NotebookNode) -> str:
    """Return the SHA-256 of the notebook's cell sources (what a learner edits)."""
    digest = hashlib.sha256()
    for cell in nb.cells:
        digest.update(cell.source.encode() + b"\0")
    return digest.hexdigest()


def worked_on(nb: nbformat.NotebookNode) -> bool:
    """Whether a learner edition's cells were edited since it was written (its sources no
    longer match the digest stored when it was made; one without a digest counts as edited)."""
    stored = nb.metadata.get("mlprivacy", {}).get("sources_sha256")
    return stored != sources_digest(nb)


def _significant_lines(source: str) -> list[str]:
    """Lines of a solution that give it away: code, not comments, braces or short lines."""
    lines = []
    for line in source.splitlines():
        text = " ".join(line.split())
        if len(text) >= 12 and not text.startswith("#") and text not in {"return None"}:
            lines.append(text)
    return lines


def visible_solution_lines(
    learner: nbformat.NotebookNode, solutions: list[str], lesson: list[str] = ()
) -> list[str]:
    """Return the solution lines that appear in ``learner`` outside the collapsed blocks.

    Lines that also occur in ``lesson`` (the sources of the cells outside the exercises,
    which every learner reads anyway) are not counted as leaks."""
    visible = []
    for cell in learner.cells:
        text = cell.source
        if cell.cell_type == "markdown":
            text = DETAILS.sub("", text)
        visible.append(" ".join(text.split()))
    shown = "\n".join(visible)
    seen = "\n".join(" ".join(text.split()) for text in lesson)
    return [
        line
        for source in solutions
        for line in _significant_lines(source)
        if line in shown and line not in seen
    ]


def summary(nb: nbformat.NotebookNode, label: str = "notebook") -> dict[str, int]:
    """Count a notebook's exercises: ``{"exercises": n, "coding": c, "numeric": n - c}``."""
    found = find_exercises(nb, label)
    coding = sum(ex.coding for ex in found)
    return {"exercises": len(found), "coding": coding, "numeric": len(found) - coding}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/learner"))
    parser.add_argument("--expect-not-attempted", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        try:
            learner = learner_notebook(nb, path.name, args.expect_not_attempted)
        except LearnerEditionError as exc:
            print(f"make_learner: {exc}", file=sys.stderr)
            return 1
        nbformat.validate(learner)
        target = args.out / path.name
        if target.is_file() and worked_on(nbformat.read(target, as_version=4)):
            keep = (
                args.out / PREVIOUS_ANSWERS / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
            )
            keep.parent.mkdir(exist_ok=True)
            target.replace(keep)
            print(f"{target} had your answers: moved to {keep}")
        nbformat.write(learner, target)
        counts = summary(nb, path.name)
        print(
            f"{args.out / path.name}: {counts['exercises']} exercises "
            f"({counts['coding']} coding, {counts['numeric']} numeric)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
