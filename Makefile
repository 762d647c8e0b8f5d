# Two commands do everything: `make test` and `make run` (see README.md).
# Each first builds .venv from requirements-lock.txt when .venv is missing or the lock
# (or pyproject.toml) changed, then runs its target.

SHELL := /bin/bash
# Python 3.11, 3.12 or 3.13 (the lock is the same on all three): the newest that runs here,
# from PATH, pyenv or uv (scripts/find_python.sh); with none of them but uv, uv makes the venv
# with a Python of its own (below); else scripts/check_python.sh explains how to get one.
PYTHON ?= $(shell bash scripts/find_python.sh)
# `make VENV=.venv-3.11 PYTHON=... test-unit` builds and tests a second environment beside .venv.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
WEB_STAMP := web/node_modules/.installed-from-lock
# `make venv WHEELHOUSE=wheelhouse` installs from a folder made by `make wheelhouse`, offline.
WHEELHOUSE ?=
PIP_SOURCE := $(if $(WHEELHOUSE),--no-index --find-links "$(abspath $(WHEELHOUSE))")

# Quieter TensorFlow C++ logging; a relative MLPRIVACY_DATA is made absolute because
# notebooks run with notebooks/ as their working directory.
export TF_CPP_MIN_LOG_LEVEL ?= 2
# One OpenBLAS thread per process (NumPy's and SciPy's; TensorFlow does not use it): the
# notebooks' BLAS work is small (TF Privacy's attack classifiers, eigenfaces), and there extra
# threads cost more than they give. Notebook 02's per-epoch attacks: 0.7-3.2 s an epoch with
# two threads, 0.7-0.85 s with one. Set OPENBLAS_NUM_THREADS to override.
export OPENBLAS_NUM_THREADS ?= 1
ifneq ($(strip $(MLPRIVACY_DATA)),)
export MLPRIVACY_DATA := $(abspath $(MLPRIVACY_DATA))
endif

.PHONY: test test-unit test-notebook test-seeds test-variants plant-regressions test-browser \
	test-pages test-colab test-tf-privacy \
	update-expected record-runs run web-assets lab lab-learner learner data kit install-kit test-kit clean \
	distclean venv check-platforms wheelhouse

venv: $(STAMP)

# With no Python 3.11-3.13 (3.11.5+) but uv on PATH, uv makes .venv with a Python of its own
# (downloaded where there is internet); with neither, check_python.sh says how to get one.
# TensorFlow Privacy comes last, from requirements-no-deps.txt, without its declared
# dependencies (their caps are stale; see that file); the lock pins what its code imports.
$(STAMP): requirements-lock.txt requirements-no-deps.txt pyproject.toml
	@bash scripts/check_python.sh "$(PYTHON)" 2>/dev/null || command -v uv >/dev/null || \
		bash scripts/check_python.sh "$(PYTHON)"
	@echo "==> Building $(VENV) from requirements-lock.txt$(if $(WHEELHOUSE), from $(WHEELHOUSE) (offline))"
	rm -rf $(VENV)
	@if bash scripts/check_python.sh "$(PYTHON)" 2>/dev/null; then \
		echo "$(PYTHON) -m venv $(VENV)"; $(PYTHON) -m venv $(VENV); \
	else \
		echo "==> no Python 3.11-3.13 here: uv venv --seed --python '>=3.11.5,<3.14' $(VENV)"; \
		uv venv --seed --python '>=3.11.5,<3.14' $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) --upgrade "pip>=23.2"
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) -r requirements-lock.txt
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) --no-deps --ignore-requires-python \
		-r requirements-no-deps.txt
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) --no-deps -e .
	@touch $(STAMP)
	@echo "==> $(VENV) ready: $$($(BIN)/python -c 'import sys; print("Python", sys.version.split()[0])')"

# `make lint` first, then the unit tests of the helpers (with a JupyterLab server smoke test)
# and every notebook end to end under nbval (quick profile). The model cache is an empty
# temporary folder, or TEST_MODEL_CACHE if given (.ci/run shares one between `make test` and
# `make test-browser` so that no model is trained twice). One pytest run, one summary line.
# Last, the numbers the notebooks wrote are compared with tests/expected_results_quick.json
# (mlprivacy-check-results): a library upgrade that moves an AUC fails here, not silently.
# The learner editions (build/test-learner/, see `make learner`) run after the solved notebooks,
# with the same model cache, and every exercise's checker must print "not attempted yet".
# A cell that writes to stderr fails, as it shows red in JupyterLab
# (mlprivacy_build/pytest_nbval_cells.py).
# Two pytest-xdist workers (TEST_WORKERS=0: none) share the tests: each notebook and its learner
# edition run on one worker, in that order (mlprivacy_build/pytest_notebook_groups.py). The
# notebooks are handed out first, in the order given, to whichever worker is free; the unit
# tests fill the time left.
TEST_WORKERS ?= 2
# That order: the longest from an empty model cache first. In a fresh-clone .ci/run on the
# 2-core AMD machine (2026-12-07) notebook 04 took ~2 200 s, 02 and 03 ~950 s each, 05 ~250 s,
# 01 ~30 s. In file order 04 started only when 01 and then 02 or 03 were done, ~1 000 s in,
# and ran on alone long after the other worker had finished everything else: `make test`
# took 3 356 s for about 5 200 s of work. Notebooks not listed here follow in file order.
TEST_ORDER := 04 02 03 05 01
TEST_NOTEBOOKS = $(foreach n,$(TEST_ORDER),$(filter notebooks/$(n)_%,$(NOTEBOOKS))) \
	$(filter-out $(foreach n,$(TEST_ORDER),notebooks/$(n)_%),$(NOTEBOOKS))
# nbval's limit per cell, against a hung kernel. Notebook 04's cold reference-model cell (four
# CNNs) took 879 s of the old 900 in a fresh-clone .ci/run on the 2-core AMD machine on a slow
# day (its reference epoch 6-7 s), sharing the cores with notebook 03: a limit that close
# fails a correct run, so 1 800.
CELL_TIMEOUT ?= 1800
# Where `make test` and `make test-notebook` write the notebooks' numbers (.ci/run's Python 3.11
# lane gives its own, so that `make update-expected` reads the main run's).
TEST_RESULTS ?= build/test-results
# The numbers' kernels: TensorFlow with oneDNN off (Eigen's kernels) unless TF_ENABLE_ONEDNN_OPTS
# is set. TensorFlow turns oneDNN on by default only on CPUs with AVX-512 VNNI/BF16 or AMX, so
# without this such a CPU trains other models than every other one (README.md, Tests). The seed
# sweep, the machine variants and the planted regressions do the same (seed_sweep.NUMBERS_ENV).
NUMBERS_ONEDNN := $(or $(TF_ENABLE_ONEDNN_OPTS),0)
test: lint $(STAMP)
	@rm -rf $(TEST_RESULTS) build/test-learner
	$(BIN)/mlprivacy-learner --expect-not-attempted --out build/test-learner $(NOTEBOOKS)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	MLPRIVACY_PROFILE=quick MLPRIVACY_SEED=0 MLPRIVACY_CACHE="$${TEST_MODEL_CACHE:-$$tmp/models}" \
	MLPRIVACY_RESULTS="$(abspath $(TEST_RESULTS))" TF_ENABLE_ONEDNN_OPTS=$(NUMBERS_ONEDNN) \
	$(BIN)/python -m pytest $(TEST_NOTEBOOKS) $(addprefix build/test-learner/,$(notdir $(TEST_NOTEBOOKS))) tests \
		--nbval-lax --nbval-cell-timeout=$(CELL_TIMEOUT) \
		-p no:cacheprovider -p mlprivacy_build.pytest_notebook_groups -p mlprivacy_build.pytest_nbval_cells \
		-n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder -ra --durations=8
	$(BIN)/mlprivacy-check-results $(TEST_RESULTS)

# The unit tests alone (tests/, two workers): what .ci/run's Python 3.11 lane runs with
# `make test-unit test-notebook VENV=.venv-3.11 PYTHON=...` besides one CIFAR-10 notebook.
test-unit: $(STAMP)
	$(BIN)/python -m pytest tests -p no:cacheprovider -n $(TEST_WORKERS) -ra --durations=5

# One notebook and its learner edition under nbval (quick profile, seed 0, the model cache in
# TEST_MODEL_CACHE or a temporary folder), then its numbers against its part of the baseline.
# The GitHub workflow runs one job per notebook with it; `make test` runs them all.
# make test-notebook NOTEBOOK=notebooks/02_membership_inference_cifar10.ipynb
test-notebook: $(STAMP)
	@test -f "$(NOTEBOOK)" || { echo "usage: make test-notebook NOTEBOOK=notebooks/NN_name.ipynb"; exit 2; }
	@rm -rf $(TEST_RESULTS)/$(basename $(notdir $(NOTEBOOK))).json
	$(BIN)/mlprivacy-learner --expect-not-attempted --out build/test-learner $(NOTEBOOK)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	MLPRIVACY_PROFILE=quick MLPRIVACY_SEED=0 MLPRIVACY_CACHE="$${TEST_MODEL_CACHE:-$$tmp/models}" \
	MLPRIVACY_RESULTS="$(abspath $(TEST_RESULTS))" TF_ENABLE_ONEDNN_OPTS=$(NUMBERS_ONEDNN) \
	$(BIN)/python -m pytest $(NOTEBOOK) build/test-learner/$(notdir $(NOTEBOOK)) --nbval-lax \
		--nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider -p mlprivacy_build.pytest_nbval_cells -ra
	$(BIN)/mlprivacy-check-results $(TEST_RESULTS) --only $(basename $(notdir $(NOTEBOOK)))

# The learner edition: every notebook with its solution cells replaced by `name = None` stubs
# and collapsed "Show solution" blocks, in build/learner/ (mlprivacy-learner, nbformat only).
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
learner: $(STAMP)
	$(BIN)/mlprivacy-learner --out build/learner $(NOTEBOOKS)

# JupyterLab on the learner edition: `make lab`'s server, settings and kernel on build/learner/,
# each learner notebook (re)built first when it is missing or older than its solved notebook
# (a copy with a learner's answers in it is moved to build/learner/previous-answers/ first).
LEARNER_EDITION := $(patsubst notebooks/%,build/learner/%,$(NOTEBOOKS))
$(LEARNER_EDITION): build/learner/%.ipynb: notebooks/%.ipynb mlprivacy_build/make_learner.py | $(STAMP)
	$(BIN)/mlprivacy-learner --out build/learner $<

lab-learner: $(STAMP) $(LEARNER_EDITION)
	$(BIN)/mlprivacy-lab --learner $(LAB_ARGS)

# Every solved notebook once per seed (quick profile), each seed with its own empty model cache:
# one table per notebook, a row per seed with its key numbers and pass/fail (the failing cell's
# first error line), in build/seeds/tables.md too. It runs every seed before it exits, non-zero
# if any failed. About ten quick runs' time: run it after a library upgrade, not on every change.
# One notebook or a few seeds: make test-seeds SEEDS="3 4" SEED_NOTEBOOKS=notebooks/02_*.ipynb
SEEDS ?= 0 1 2 3 4 5 6 7 8 9
SEED_NOTEBOOKS ?= $(NOTEBOOKS)
test-seeds: $(STAMP)
	$(BIN)/mlprivacy-seeds $(SEED_NOTEBOOKS) --seeds $(SEEDS)

# After a deliberate change of the numbers: rewrite the baseline, tests/expected_results_quick.json,
# with the values of the last `make test` (build/test-results) and each key's spread and
# tolerance measured by `make test-variants` (the machine variants) and `make test-seeds` (seeds
# 0-9), as recorded in tests/measured_runs/ by `make record-runs`; see
# mlprivacy_build/check_results.py. KEEP_SPREADS=1 changes the values only and keeps
# the measured spreads (for a change that moves no number much); then run `make
# plant-regressions` to check that planted regressions still fail the check (when the values
# stayed and only spreads changed, `$(BIN)/mlprivacy-plant-regressions --recheck` reruns nothing).
VARIANT_RESULTS ?= $(sort $(wildcard tests/measured_runs/variants/*/results))
SEED_RESULTS ?= $(sort $(wildcard tests/measured_runs/seeds/seed-*/results))
update-expected: $(STAMP)
	$(BIN)/mlprivacy-check-results --update build/test-results \
		$(if $(KEEP_SPREADS),--keep-spreads,--variants $(VARIANT_RESULTS) --seeds $(SEED_RESULTS))

# Copy the seed and variant runs that passed on this checkout's code from build/ into
# tests/measured_runs/ (committed), where `make update-expected` reads them: a ten-seed sweep
# done in parts, on several days or machines, adds up (mlprivacy_build/measured_runs.py).
# PRUNE=1 first removes the recorded runs of other code cells or another lock.
record-runs: $(STAMP)
	$(BIN)/mlprivacy-record-runs $(if $(PRUNE),--prune) \
		--seeds $(wildcard build/seeds/seed-*) --variants $(wildcard build/variants/*)

# The quick profile, seed 0, under machine variants imitated on this one (oneDNN's instruction
# sets, oneDNN off, one thread, deterministic ops, other NumPy/OpenBLAS kernels): one table of
# variant x keys moved, in build/variants/summary.md (mlprivacy_build/machine_variants.py).
# About seven quick runs of every notebook. VARIANT_NAMES="onednn-sse41 one-thread" for fewer.
VARIANT_NAMES ?=
test-variants: $(STAMP)
	$(BIN)/mlprivacy-variants $(SEED_NOTEBOOKS) $(if $(VARIANT_NAMES),--variants $(VARIANT_NAMES))

# Planted regressions (LiRA's sign flipped, the Laplace scale halved, DP-SGD's noise halved, the
# CNN trained for half its epochs, an attack fed shuffled labels): each notebook run with one in,
# results into tests/planted_regressions/, which the unit tests check against the baseline.
plant-regressions: $(STAMP)
	$(BIN)/mlprivacy-plant-regressions

# Every notebook in the project's JupyterLab in headless Chromium (quick profile): Run All,
# no error or stderr output, the ε slider redraws its figure; screenshots in build/screenshots/.
# Needs the system's Chromium (Debian/Ubuntu: `sudo apt-get install chromium`).
test-browser: $(STAMP)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$CHROMIUM" ] || \
		{ echo "make test-browser needs Chromium: install it with 'sudo apt-get install chromium' (or set CHROMIUM=/path/to/chrome)."; exit 2; }
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	MLPRIVACY_PROFILE=quick MLPRIVACY_CACHE="$${TEST_MODEL_CACHE:-$$tmp/models}" \
	$(BIN)/python -m pytest browser_tests/test_learner_path.py browser_tests/test_jupyterlab_browser.py \
		-p no:cacheprovider -ra -s

# Notebooks 01 and 02 as on Google Colab (mlprivacy_build/colab_test.py): a Python 3.13 venv with
# Colab's versions (build/colab-venv), the notebooks' setup cell installing what Colab lacks,
# then nbval; fails if the setup cell changed anything Colab has. Needs the package index.
test-colab: $(STAMP)
	$(BIN)/mlprivacy-test-colab

# TF Privacy's own tests of the modules the series uses, against this environment
# (mlprivacy_build/tf_privacy_tests.py): known failures listed with their reason, anything else
# fails. Run it after every change of the lock (the weekly workflow runs it too).
test-tf-privacy: $(STAMP)
	$(BIN)/mlprivacy-tf-privacy-tests

# The pages of the last `make run` (build/html/) in headless Chromium, opened from disk with
# every network request blocked: each page loads, formulas are typeset, figures and notebook
# 01's ε slider are shown, no error output; screenshots build/screenshots/pages-*.png.
# `MLPRIVACY_PROFILE=quick make run` first is enough.
test-pages: $(STAMP)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$CHROMIUM" ] || \
		{ echo "make test-pages needs Chromium: install it with 'sudo apt-get install chromium' (or set CHROMIUM=/path/to/chrome)."; exit 2; }
	$(BIN)/python -m pytest browser_tests/test_offline_pages.py -p no:cacheprovider -ra -s

# Lint and format check with the venv's pinned ruff (it reads .ipynb files directly).
.PHONY: lint
LINT_PATHS := mlprivacy_helpers mlprivacy_build tests browser_tests benchmarks notebooks
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

# Execute the notebooks in order (full profile unless MLPRIVACY_PROFILE says otherwise)
# into build/executed/, render build/html/ with an index, write build/results/.
# The pages work offline: MathJax, require.js and the widgets HTML manager are copied beside
# them from web/node_modules (`make web-assets`: npm ci from web/package-lock.json).
run: $(STAMP) $(WEB_STAMP)
	MLPRIVACY_RESULTS="$(CURDIR)/build/results" $(BIN)/mlprivacy-run

# The JavaScript of the offline pages, exact versions from web/package-lock.json (Node.js + npm).
web-assets: $(WEB_STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "make run needs npm (Node.js) for the pages' JavaScript (MathJax, widgets): install Node.js (Debian/Ubuntu: sudo apt-get install npm; macOS: brew install node)."; exit 2; }
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	@touch $(WEB_STAMP)

# Does the lock install on learners' laptops? Resolves it with pip for Linux x86-64, macOS arm64
# and Windows x86-64, each on Python 3.11, 3.12 and 3.13 (PLATFORMS="macos-arm64" or
# CHECK_PYTHONS="3.13" for fewer). Needs the package index.
PLATFORMS ?=
CHECK_PYTHONS ?=
check-platforms: $(STAMP)
	$(BIN)/mlprivacy-platforms check $(PLATFORMS) $(if $(CHECK_PYTHONS),--python $(CHECK_PYTHONS))

# Every pinned wheel for one platform (default: this machine's; PLATFORM=macos-arm64 or
# linux-x86_64) and the Pythons in PYTHONS (default all three: 3.11 3.12 3.13) into
# wheelhouse/ (or WHEELHOUSE_DEST), for `make venv WHEELHOUSE=wheelhouse` without network.
PLATFORM ?=
PYTHONS ?=
WHEELHOUSE_DEST ?= wheelhouse
wheelhouse: $(STAMP)
	$(BIN)/mlprivacy-platforms wheelhouse $(if $(PLATFORM),--platform $(PLATFORM)) \
		$(if $(PYTHONS),--python $(PYTHONS)) --dest "$(WHEELHOUSE_DEST)"

# The workshop kit (docs/workshop.md): one folder for a USB stick, KIT (default build/kit), with
# the wheels for PLATFORM (one or more of linux-x86_64 macos-arm64; default this machine's) and
# PYTHONS (default 3.11 3.12 3.13: whatever Python a learner's laptop has), the datasets with
# their checksums, the rendered pages of a quick `make run` (PAGES=0 leaves them out; the run
# needs npm) and, with WARM=1, the model cache that run filled.
KIT ?= build/kit
PAGES ?= 1
WARM ?=
kit: $(STAMP)
ifneq ($(PAGES),0)
	MLPRIVACY_PROFILE=quick $(if $(WARM),MLPRIVACY_CACHE="$(abspath $(KIT))/models") $(MAKE) run
endif
	$(BIN)/mlprivacy-kit build --dest "$(KIT)" $(if $(PLATFORM),--platform $(PLATFORM)) \
		$(if $(PYTHONS),--python $(PYTHONS)) $(if $(filter-out 0,$(PAGES)),--pages build/html)

# On a learner's laptop, with no network: .venv from the kit's wheels, the datasets and models
# into the per-user caches, the settings (data folder, quick profile) into mlprivacy.toml.
KIT_PLATFORM := $(if $(filter Darwin,$(shell uname -s)),macos-arm64,linux-x86_64)
install-kit:
	@test -f "$(KIT)/data/SHA256SUMS" || { echo "make install-kit: no kit in KIT=$(KIT) (make kit builds one)"; exit 2; }
	$(MAKE) venv WHEELHOUSE="$(abspath $(KIT))/wheels/$(KIT_PLATFORM)"
	$(BIN)/mlprivacy-kit install --kit "$(abspath $(KIT))"

# The kit tried offline end to end (mlprivacy-test-kit; root on Linux: unshare -n).
test-kit: $(STAMP)
	$(BIN)/mlprivacy-test-kit

# The four datasets (MNIST, CIFAR-10, Olivetti faces, Tiny Shakespeare) into the per-user cache
# (~/.cache/mlprivacy/data), verified: copied from MLPRIVACY_DATA when set, else downloaded.
data: $(STAMP)
	$(BIN)/mlprivacy-fetch-data

# JupyterLab on notebooks/ (the solved notebooks) with this environment's kernel and the
# project's settings (mlprivacy-lab); it prints the URL to open. Extra options:
# make lab LAB_ARGS="--port=9999"; another folder: LAB_ARGS="--notebook-dir=DIR".
# The learner edition: make lab-learner (above).
lab: $(STAMP)
	$(BIN)/mlprivacy-lab $(LAB_ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache notebooks/.ipynb_checkpoints
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info web/node_modules
