"""A pytest plugin for ``make test``: each notebook and its learner edition on one worker, in order.

``make test`` runs pytest with pytest-xdist (``-n 2 --dist loadgroup``) so that two CPU cores
run tests at once. nbval runs a notebook's cells in one kernel, so all the cells of a notebook
must go to the same worker; and the learner edition (``build/test-learner/NN_name.ipynb``) must
run after its solved notebook (``notebooks/NN_name.ipynb``, given first on the command line),
so that it finds the models the solved notebook put into the model cache instead of training
them a second time, at the same time. This plugin puts every cell of both into one xdist group
named after the notebook; xdist sends a group to one worker, which runs it in collection order.
Unit tests are not grouped: they fill the time the workers have left.

**Longest first.** xdist hands the groups out in collection order (``--no-loadscope-reorder``),
each to the next worker that is free. In name order, notebook 04 (the longest: its reference
models) went out fourth and one worker ran notebooks 02 and 04 back to back while the other
finished early and waited for it; ``make test`` took 2 147 s of pytest in a fresh-clone
``.ci/run`` on the project's 2-core machine (2026-12-06). This plugin hands the notebooks out in
the order of :data:`LONGEST_FIRST` (their cold run times there, with their learner editions:
04 about 1 550 s, 03 about 950, 02 about 590, 05 about 170, 01 about 30), a notebook not in it
after them, and the unit tests last.

Loaded with ``-p mlprivacy_build.pytest_notebook_groups``; without xdist it changes nothing.
"""

from __future__ import annotations

import pytest

#: Notebook name prefixes, longest ``make test`` run first (see the module docstring).
LONGEST_FIRST = ("04_", "03_", "02_", "05_", "01_")


def notebook_group(path: object) -> str | None:
    """Return the xdist group of a collected test's file: the notebook's name, or ``None``.

    ``notebooks/02_membership.ipynb`` and ``build/test-learner/02_membership.ipynb`` both give
    ``"02_membership"``; any file that is not a notebook gives ``None``.
    """
    name = getattr(path, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"path must be a path, got {type(path).__name__}")
    if not name.endswith(".ipynb"):
        return None
    return name[: -len(".ipynb")]


def group_rank(group: str | None) -> int:
    """Return where a group goes in the hand-out order: its place in :data:`LONGEST_FIRST`, then
    other notebooks, then ``None`` (the unit tests)."""
    if group is None:
        return len(LONGEST_FIRST) + 1
    for rank, prefix in enumerate(LONGEST_FIRST):
        if group.startswith(prefix):
            return rank
    return len(LONGEST_FIRST)


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``xdist_group`` mark (as xdist does) so that runs without xdist accept it."""
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every cell of a notebook with ``xdist_group(<notebook name>)``, and put the
    notebooks in :func:`group_rank` order (stable: a solved notebook's cells stay before its
    learner edition's, every notebook's cells in order)."""
    for item in items:
        group = notebook_group(item.path)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: group_rank(notebook_group(item.path)))
