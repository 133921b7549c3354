# Networks Compression course -- `make lab` opens the course, `make test` runs every test.
# Both create the virtual environment (.venv) and install the course on first use.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.course-installed
# Extra pip arguments, e.g. a CPU-only PyTorch index:
#   make install PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu"
PIP_ARGS ?=
# pytest workers (pytest-xdist); notebooks stay whole on one worker.
JOBS ?= 2
# `make lab NO_BROWSER=1` starts JupyterLab without opening a browser.
NO_BROWSER ?=
# Jupyter refuses to start as root (containers, CI) unless told --allow-root.
LAB_FLAGS := $(if $(NO_BROWSER),--no-browser,) $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: help install prereqs data lab test test-numpy lint notebooks bench clean release grade check slides

help:
	@echo "make lab        open the course in JupyterLab (installs on first use)"
	@echo "make test       run every test: data check, ruff, pytest, notebooks (nbval)"
	@echo "make data       show the data status and download what is missing"
	@echo "make notebooks  re-execute every notebook in place (instructors)"
	@echo "make bench      run the benchmarks (ratios: ours vs reference, compressed vs dense)"
	@echo "make slides     export the lecture deck to offline HTML: slides/build/lecture.slides.html"
	@echo "make release    write the student versions of the notebooks into student/ (instructors)"
	@echo "make grade SUBMISSIONS=dir   grade a class into grades/gradebook.csv (instructors)"
	@echo "make check NOTEBOOK=student/01_weight_pruning.ipynb   check a notebook like the grader (students)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it, or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install $(PIP_ARGS) -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

data: install
	$(BIN)/python -m course_lib.data --download

lab: data
	@echo ""
	@echo "Starting JupyterLab in notebooks/. Open 00_introduction.ipynb first."
	@echo "The address to open is printed below (http://localhost:...); Ctrl-C stops the server."
	@echo ""
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_FLAGS) notebooks/00_introduction.ipynb

lint: install
	$(BIN)/ruff check course_lib tests hidden_tests

# System packages the tests and the grader need (Debian/Ubuntu names): installed when we can (root, or
# passwordless sudo), else make stops at once with the one command to run.
SYSTEM_PACKAGES := bubblewrap chromium nodejs npm
prereqs:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	if [ -z "$$COURSE_CHROMIUM" ] && [ ! -x /usr/bin/chromium ]; then missing="$$missing chromium"; fi; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "missing system packages:$$missing (no apt-get here: install them with your package manager)"; exit 1; \
	  elif [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else echo "missing system packages:$$missing. Install them, then run make again:"; \
	       echo "    sudo apt-get install$$missing"; exit 1; fi; \
	  echo "installing system packages:$$missing"; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

test: prereqs data lint test-numpy
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

# The NumPy technique modules under the newest Python found (a student's own Python is rarely
# 3.11), with nothing but numpy, scipy, hypothesis and pytest installed: no torch, no Jupyter.
NEWEST_PYTHON ?= $(shell for v in 3.14 3.13 3.12; do for p in $$(ls -d $$HOME/.pyenv/versions/$$v*/bin/python$$v 2>/dev/null) $$(command -v python$$v 2>/dev/null); do if $$p -c "" 2>/dev/null; then echo $$p; exit 0; fi; done; done)
NUMPY_VENV ?= .venv-numpy
NUMPY_TESTS := tests/pruning/test_pruning_numpy.py tests/pruning/test_neurons.py \
	tests/quantization/test_quantization_numpy.py tests/factorization --ignore=tests/factorization/nn \
	tests/exercises/test_compare.py tests/test_doctests.py tests/sharing --ignore=tests/sharing/nn \
	tests/llmquant --ignore=tests/llmquant/nn
test-numpy:
	@if [ -z "$(NEWEST_PYTHON)" ]; then echo "test-numpy: no Python 3.12+ found, the NumPy tests ran under 3.11 only"; \
	else \
	  test -x $(NUMPY_VENV)/bin/python || $(NEWEST_PYTHON) -m venv $(NUMPY_VENV); \
	  $(NUMPY_VENV)/bin/python -m pip install --quiet "numpy>=2.0,<3" "scipy>=1.13,<2" "hypothesis>=6.100,<7" "pytest>=8,<10"; \
	  echo "NumPy technique tests under $$($(NUMPY_VENV)/bin/python --version), without torch:"; \
	  PYTHONPATH=. $(NUMPY_VENV)/bin/python -m pytest -q -p no:cacheprovider -o addopts="" $(NUMPY_TESTS); \
	fi

notebooks: install
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 notebooks/*.ipynb

bench: install
	$(BIN)/python -m course_lib.bench

# The lecture deck as a self-contained offline HTML slideshow (slides/README.md): npm ci fetches the pinned
# reveal.js, MathJax 2 and widget manager into slides/node_modules once; the deck is run first, so its
# tables are the notebooks' latest measurements. Open slides/build/lecture.slides.html, no network needed.
slides: data
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m course_lib.slides --execute

clean:
	rm -rf $(VENV) $(NUMPY_VENV) .pytest_cache .ruff_cache .hypothesis

# Grading (docs/GRADING.md)
SUBMISSIONS ?=
NOTEBOOK ?=
GRADES ?= grades
GRADE_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

release: install
	$(BIN)/course-release --out student

grade: prereqs data
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder (one subfolder or .zip per student)"; exit 1; }
	$(BIN)/course-grade "$(SUBMISSIONS)" --out $(GRADES)/gradebook.csv --feedback $(GRADES)/feedback --jobs $(GRADE_JOBS)

check: data
	@test -n "$(NOTEBOOK)" || { echo "usage: make check NOTEBOOK=student/01_weight_pruning.ipynb"; exit 1; }
	$(BIN)/course-grade --self "$(NOTEBOOK)"
