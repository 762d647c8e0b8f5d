"""The series' build and maintenance tools: what the Makefile runs, never what learners import.

Learners import :mod:`mlprivacy_helpers`; this package runs the notebooks, renders the pages,
builds the learner edition and the workshop kit, and checks the results. It works from a
checkout (``pip install -e .``, which ``make venv`` does): paths such as ``notebooks/`` and
``build/`` are the checkout's. Each command is a console script declared in ``pyproject.toml``:

* ``mlprivacy-run`` (:mod:`.run_notebooks`, with :mod:`.pages`): ``make run``;
* ``mlprivacy-seeds`` (:mod:`.seed_sweep`): ``make test-seeds``;
* ``mlprivacy-check-results`` (:mod:`.check_results`): ``make test``, ``make update-expected``;
* ``mlprivacy-learner`` (:mod:`.make_learner`): ``make learner``, ``make lab-learner``;
* ``mlprivacy-lab`` (:mod:`.lab`): ``make lab``, ``make lab-learner``;
* ``mlprivacy-fetch-data`` (:mod:`.fetch_data`): ``make data``;
* ``mlprivacy-kit`` (:mod:`.kit`): ``make kit``, ``make install-kit``;
* ``mlprivacy-test-kit`` (:mod:`.kit_offline_test`): ``make test-kit``;
* ``mlprivacy-platforms`` (:mod:`.platforms`): ``make check-platforms``, ``make wheelhouse``;
* ``mlprivacy-check-clean`` (:mod:`.check_notebooks_clean`): the pre-commit hook.

:mod:`.pages` (offline assets, the nbconvert template, the landing page) is a library of
:mod:`.run_notebooks` and :mod:`.seed_sweep`.
"""
