# Two commands do everything: `make test` and `make run` (see README.md).
# Each first builds .venv from requirements-lock.txt when .venv is missing or the lock
# (or pyproject.toml) changed, then runs its target.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock

# Quieter TensorFlow C++ logging; a relative MLPRIVACY_DATA is made absolute because
# notebooks run with notebooks/ as their working directory.
export TF_CPP_MIN_LOG_LEVEL ?= 2
ifneq ($(strip $(MLPRIVACY_DATA)),)
export MLPRIVACY_DATA := $(abspath $(MLPRIVACY_DATA))
endif

.PHONY: test test-browser update-expected run lab learner clean distclean venv

venv: $(STAMP)

$(STAMP): requirements-lock.txt pyproject.toml
	@echo "==> Building $(VENV) from requirements-lock.txt with $(PYTHON)"
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), \
		"Python 3.11 is required (found %s); set PYTHON=/path/to/python3.11" % sys.version.split()[0]'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.2"
	$(BIN)/python -m pip install --quiet -r requirements-lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)
	@echo "==> $(VENV) ready"

# `make lint` first, then the unit tests of the helpers (with a JupyterLab server smoke test)
# and every notebook end to end under nbval (quick profile). The model cache is an empty
# temporary folder, or TEST_MODEL_CACHE if given (.ci/run shares one between `make test` and
# `make test-browser` so that no model is trained twice). One pytest run, one summary line.
# Last, the numbers the notebooks wrote are compared with tests/expected_results_quick.json
# (scripts/check_results.py): a library upgrade that moves an AUC fails here, not silently.
# The learner editions (build/test-learner/, see `make learner`) run after the solved notebooks,
# with the same model cache, and every exercise's checker must print "not attempted yet".
test: lint $(STAMP)
	@rm -rf build/test-results build/test-learner
	$(BIN)/python scripts/make_learner.py --expect-not-attempted --out build/test-learner $(NOTEBOOKS)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	MLPRIVACY_PROFILE=quick MLPRIVACY_SEED=0 MLPRIVACY_CACHE="$${TEST_MODEL_CACHE:-$$tmp/models}" \
	MLPRIVACY_RESULTS="$(CURDIR)/build/test-results" \
	$(BIN)/python -m pytest tests notebooks build/test-learner --nbval-lax --nbval-cell-timeout=900 \
		-p no:cacheprovider -ra --durations=8
	$(BIN)/python scripts/check_results.py build/test-results

# The learner edition: every notebook with its solution cells replaced by `name = None` stubs
# and collapsed "Show solution" blocks, in build/learner/ (scripts/make_learner.py, nbformat only).
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
learner: $(STAMP)
	$(BIN)/python scripts/make_learner.py --out build/learner $(NOTEBOOKS)

# After a deliberate change of the numbers: rewrite the baseline from the last `make test`
# (add the results folders of repeated runs, RUNS="dir1 dir2", to measure the tolerances).
update-expected: $(STAMP)
	$(BIN)/python scripts/check_results.py --update build/test-results $(RUNS)

# Every notebook in the project's JupyterLab in headless Chromium (quick profile): Run All,
# no error or stderr output, the ε slider redraws its figure; screenshots in build/screenshots/.
# Needs the system's Chromium (Debian/Ubuntu: `sudo apt-get install chromium`).
test-browser: $(STAMP)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$CHROMIUM" ] || \
		{ echo "make test-browser needs Chromium: install it with 'sudo apt-get install chromium' (or set CHROMIUM=/path/to/chrome)."; exit 2; }
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	MLPRIVACY_PROFILE=quick MLPRIVACY_CACHE="$${TEST_MODEL_CACHE:-$$tmp/models}" \
	$(BIN)/python -m pytest browser_tests -p no:cacheprovider -ra -s

# Lint and format check with the venv's pinned ruff (it reads .ipynb files directly).
.PHONY: lint
LINT_PATHS := mlprivacy_helpers tests browser_tests scripts benchmarks notebooks
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

# Execute the notebooks in order (full profile unless MLPRIVACY_PROFILE says otherwise)
# into build/executed/, render build/html/ with an index, write build/results/.
run: $(STAMP)
	MLPRIVACY_RESULTS="$(CURDIR)/build/results" $(BIN)/python scripts/run_notebooks.py

# JupyterLab on notebooks/ with this environment's kernel and the project's settings
# (scripts/lab.py); it prints the URL to open. Extra options: make lab LAB_ARGS="--port=9999".
lab: $(STAMP)
	$(BIN)/python scripts/lab.py $(LAB_ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache notebooks/.ipynb_checkpoints
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
