# The two commands of the README are `make course` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_COURSE := $(VENV)/.course-installed
STAMP_TEST := $(VENV)/.test-installed
PORT ?= 8888
# Jupyter refuses to run as root without being told (a container, a fresh cloud machine).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# The course's matrices are small: one BLAS thread is faster than several, and it keeps
# parallel test workers from oversubscribing the cores.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: course test test-fast release bench clean system-deps

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP_COURSE): pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[course]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP_COURSE) $@

## Start JupyterLab on the student notebooks (installs into .venv first).
course: $(STAMP_COURSE)
	cd course && ../$(VENV)/bin/jupyter lab --port=$(PORT) $(ALLOW_ROOT)

## Debian packages that the sandbox and browser tests need (root only; skipped otherwise).
system-deps:
	@sh tools/system-deps.sh

## Run the whole test suite.
test: $(STAMP_TEST) system-deps
	$(PY) -m pytest -n 2 --dist loadgroup

## Regenerate solutions/*.ipynb from notebooks/*.py and the student release course/ from solutions/.
release: $(STAMP_TEST)
	$(PY) -m autograder release

## Measure rnnkit against PyTorch on the CPU.
bench: $(STAMP_TEST)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
