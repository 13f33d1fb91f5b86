# The two commands of the README are `make course` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_COURSE := $(VENV)/.course-installed
STAMP_TEST := $(VENV)/.test-installed
PORT ?= 8888
# The student's copy of the course (git-ignored), and the notebook that `make validate` checks.
WORKSPACE ?= my-work
NB ?=
# More options for JupyterLab, e.g. LAB_OPTIONS=--no-browser on a machine without a browser.
LAB_OPTIONS ?=
# Jupyter refuses to run as root without being told (a container, a fresh cloud machine).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# The course's matrices are small: one BLAS thread is faster than several, and it keeps
# parallel test workers from oversubscribing the cores.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: course update validate test test-fast release bench clean system-deps hub

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Twice quiet: errors only, without the notice that setuptools prints for every editable install.
$(STAMP_COURSE): pyproject.toml | $(PY)
	$(PIP) install --quiet --quiet -e ".[course]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP_COURSE) $@

## Start JupyterLab in the student's copy of the course, $(WORKSPACE)/ (installs into .venv
## first; the first run copies course/ there, later runs never overwrite it).
course: $(STAMP_COURSE)
	$(PY) tools/workspace.py lab --workspace $(WORKSPACE) --port=$(PORT) $(ALLOW_ROOT) $(LAB_OPTIONS)

## Bring a newer release (after git pull) into $(WORKSPACE)/, keeping the student's answers.
update: $(STAMP_COURSE)
	$(PY) tools/workspace.py update --workspace $(WORKSPACE)

## Validate a notebook of $(WORKSPACE)/ as JupyterLab's Validate button does: make validate NB=01-rnn-basics
validate: $(STAMP_COURSE)
	@test -n "$(NB)" || { echo "say which notebook: make validate NB=01-rnn-basics" >&2; exit 2; }
	$(PY) tools/workspace.py validate --workspace $(WORKSPACE) $(NB)

## The course on a JupyterHub on this machine, as root (deploy/jupyterhub/README.md): the
## users' environment, the deployment folder, the groups and nbgrader's exchange, then the hub
## in the foreground with grading on submit. Accounts: deploy/jupyterhub/hubctl.py add-student.
HUB_DIR ?= /srv/rnn-course-hub
HUB_VENV ?= /opt/rnn-course-hub/venv
HUB_IP ?= 127.0.0.1
HUB_PORT ?= 8000
HUB_AUTH ?= shared
HUB_PROXY := deploy/jupyterhub/node/node_modules/.bin/configurable-http-proxy
STAMP_HUB := $(VENV)/.hub-installed

$(STAMP_HUB): pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[course,hub]"
	touch $@

hub: system-deps $(STAMP_HUB)
	test -x $(HUB_PROXY) || npm ci --no-audit --no-fund --prefix deploy/jupyterhub/node
	$(PY) deploy/jupyterhub/hubctl.py build-env --venv $(HUB_VENV)
	$(PY) deploy/jupyterhub/hubctl.py --dir $(HUB_DIR) setup --venv $(HUB_VENV) --ip $(HUB_IP) --port $(HUB_PORT) --auth $(HUB_AUTH)
	$(PY) deploy/jupyterhub/hubctl.py --dir $(HUB_DIR) start

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
