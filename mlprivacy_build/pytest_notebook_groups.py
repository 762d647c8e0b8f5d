"""A pytest plugin for ``make test``: each notebook and its learner edition on one worker, in order.

``make test`` runs pytest with pytest-xdist (``-n 2 --dist loadgroup``) so that two CPU cores
run tests at once. nbval runs a notebook's cells in one kernel, so all the cells of a notebook
must go to the same worker; and the learner edition (``build/test-learner/NN_name.ipynb``) must
run after its solved notebook (``notebooks/NN_name.ipynb``, given first on the command line),
so that it finds the models the solved notebook put into the model cache instead of training
them a second time, at the same time. This plugin puts every cell of both into one xdist group
named after the notebook; xdist sends a group to one worker, which runs it in collection order.
Unit tests are not grouped: they fill the time the workers have left.

Loaded with ``-p mlprivacy_build.pytest_notebook_groups``; without xdist it changes nothing.
"""

from __future__ import annotations

import pytest


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


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``xdist_group`` mark (as xdist does) so that runs without xdist accept it."""
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every cell of a notebook with ``xdist_group(<notebook name>)``."""
    for item in items:
        group = notebook_group(item.path)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
