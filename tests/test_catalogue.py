"""Every wrong answer in tests/catalogue/ is caught by its notebook's tests, with the right message.

For each notebook the solutions notebook is executed once, in this process, by an IPython
shell (with NBGRADER_EXECUTION=autograde, so heavy cells shrink, and matplotlib's Agg
backend). Each mistake then runs in a copy of that namespace in place of its exercise's
solution cell, followed by the exercise's grade cells (the grade cells between the
solution cell and the next one, hidden tests included): one of them must raise, and the
message must match the mistake's ``message`` (re.search, case-insensitive). The correct
solution must pass the same cells without a warning, and every exercise needs at least
five mistakes. The harness that runs the notebook and its grade cells is
tests/catalogue/harness.py, shared with tests/test_fairness.py.

Run the tests of one notebook with ``pytest tests/test_catalogue.py -k 01-rnn-basics``;
the summary at the end counts the mistakes caught per notebook.
"""
import re

import pytest

from catalogue import harness
from catalogue.harness import load
from notebook_tools import exercises, notebook_ids, read, solution_path

MIN_MISTAKES = 5

CATALOGUES = load("CATALOGUE")
NAMES = notebook_ids()


def _exercises(name):
    path = solution_path(name)
    return exercises(read(path)) if path.exists() else []


EXERCISES = {name: _exercises(name) for name in NAMES}


def _group(name):
    # One worker executes a notebook and runs all of its entries, for both test modules.
    return pytest.mark.xdist_group(harness.group(name))


@pytest.fixture
def executed(tmp_path_factory):
    def get(name):
        run = harness.executed(name, tmp_path_factory)
        if isinstance(run, Exception):
            pytest.fail(f"{name} does not execute in process: {run}")
        return run
    return get


def _describe(errors):
    return "; ".join(f"{grade_id}: {type(exc).__name__}: {exc}" for grade_id, exc in errors)


# ---------------------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_catalogue_names_a_notebook_and_its_exercises(name):
    assert name in NAMES, f"a catalogue module names NOTEBOOK = {name!r}, but there is no notebooks/{name}.py"
    known = {ex.grade_id for ex in EXERCISES[name]}
    unknown = sorted({m.exercise for m in CATALOGUES[name]} - known)
    assert not unknown, f"{name}: catalogue entries for {unknown}, which are not solution cells ({sorted(known)})"
    seen = set()
    for m in CATALOGUES[name]:
        key = (m.exercise, m.name)
        assert key not in seen, f"{name}: two mistakes of {m.exercise} are called {m.name!r}"
        seen.add(key)
        re.compile(m.message)


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_enough_mistakes(name):
    assert solution_path(name).exists(), f"{solution_path(name)} is missing: run `make release`"
    counts = {ex.grade_id: 0 for ex in EXERCISES[name]}
    for m in CATALOGUES.get(name, []):
        if m.exercise in counts:
            counts[m.exercise] += 1
    short = {k: v for k, v in counts.items() if v < MIN_MISTAKES}
    assert not short, (f"{name}: these exercises have fewer than {MIN_MISTAKES} mistakes in "
                       f"tests/catalogue/: {short}")


@pytest.mark.parametrize("name,exercise", [
    pytest.param(name, ex.grade_id, id=f"{name}:{ex.grade_id}", marks=_group(name))
    for name in NAMES for ex in EXERCISES[name] if ex.tests
])
def test_solution_passes_its_grade_cells(name, exercise, executed):
    run = executed(name)
    errors, caught = run.grade(exercise, run.exercises[exercise].source)
    assert not errors, f"{name}: the solution of {exercise} fails its own tests: {_describe(errors)}"
    assert not caught, (f"{name}: the solution of {exercise} warns in a graded cell (nbgrader scores it zero): "
                        + "; ".join(f"{w.category.__name__}: {w.message}" for w in caught))


@pytest.mark.parametrize("name,mistake", [
    pytest.param(name, m, id=f"{name}:{m.exercise}:{m.name}", marks=_group(name))
    for name in NAMES for m in CATALOGUES.get(name, [])
])
def test_mistake_is_caught(name, mistake, executed, record_property):
    record_property("catalogue_notebook", name)
    run = executed(name)
    assert mistake.exercise in run.exercises, f"{name} has no solution cell {mistake.exercise!r}"
    errors, _ = run.grade(mistake.exercise, mistake.code)
    assert errors, f"{name}: the tests of {mistake.exercise} pass the mistake {mistake.name!r}"
    messages = [f"{type(exc).__name__}: {exc}" for _, exc in errors]
    assert any(str(exc) for _, exc in errors), (
        f"{name}: the mistake {mistake.name!r} fails {mistake.exercise}'s tests without a message: {messages}")
    assert any(re.search(mistake.message, str(exc), re.IGNORECASE) for _, exc in errors), (
        f"{name}: the mistake {mistake.name!r} of {mistake.exercise} is caught, but no message matches "
        f"/{mistake.message}/: {_describe(errors)}")
