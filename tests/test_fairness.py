"""Fair grading: every requirement is visible before submitting, and costs only its own points.

The rule (CONTRIBUTING.md, "Grading by requirement"): hidden tests add sizes, seeds and
dtypes, never a requirement that no visible test states. This module enforces it.

- For every entry of tests/catalogue/ (the wrong answers of ``CATALOGUE`` and the
  students' answers of ``ANSWERS``), each grade cell of its exercise runs on its own,
  twice: its visible part, as the release shows it, and the whole cell, hidden tests
  included. The two verdicts must agree: an answer the visible tests pass, the hidden
  tests pass too.
- An entry that states ``fails`` must fail exactly those grade cells, among its own
  exercise's cells and those of every later exercise: a mistake costs the requirement it
  breaks, and a later exercise that uses the broken function is graded on its own.
- An answer of ``ANSWERS`` that is mathematically right loses at most a third of its
  exercise's points; a buggy one loses points, with a message that names the bug.
- Messages print plain numbers, never a NumPy repr such as ``np.float64(0.435)``.
- Each grade cell runs in the namespace a grade cell may use (the notebook's imports and
  the exercise functions, never a variable of a demonstration cell), uses no legacy
  global random state, and ends with no expression that has a value.

To add a notebook's entries, give them ``fails`` where the verdict per requirement is
known; every entry is held to the visible-equals-hidden rule in any case. One notebook:
``pytest tests/test_fairness.py -k 02-bptt``.
"""
import ast
import re

import pytest

from catalogue import harness
from catalogue.harness import load, visible_part
from notebook_tools import HIDDEN_BEGIN, exercises, is_grade, nbgrader_meta, notebook_ids, read, solution_path

NAMES = notebook_ids()
MISTAKES = load("CATALOGUE")
ANSWERS = load("ANSWERS")


def _nb(name):
    path = solution_path(name)
    return read(path) if path.exists() else None


NOTEBOOKS = {name: _nb(name) for name in NAMES}


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


def _show(verdicts, keys=None):
    return "; ".join(f"{g}: visible {'fails (' + v.visible[:300] + ')' if v.visible else 'passes'}, "
                     f"with the hidden tests {'fails (' + v.full[:300] + ')' if v.full else 'passes'}"
                     for g, v in verdicts.items() if keys is None or g in keys)


def _judge(run, entry):
    """The verdicts of the grade cells an entry is held to."""
    cells = run.cells_from(entry.exercise) if entry.fails is not None else None
    return run.verdicts(entry.exercise, entry.code, cells)


NUMPY_REPR = re.compile(r"\bnp\.(float|int|uint|bool|str)\w*\((-?[\d.]|nan|inf|True|False|')")


def _check_fair(name, entry, verdicts):
    reprs = [g for g, v in verdicts.items() if NUMPY_REPR.search(v.visible + v.full)]
    assert not reprs, (f"{name}: {entry.exercise} / {entry.name!r}: a message prints a NumPy repr such as "
                       f"np.float64(0.435) instead of a plain number: {_show(verdicts, reprs)}")
    unfair = [g for g, v in verdicts.items() if not v.fair]
    assert not unfair, (f"{name}: {entry.exercise} / {entry.name!r}: the hidden tests judge a requirement that "
                        f"the visible tests do not: {_show(verdicts, unfair)}")
    if entry.fails is not None:
        failing = {g for g, v in verdicts.items() if v.full}
        assert failing == set(entry.fails), (
            f"{name}: {entry.exercise} / {entry.name!r} should fail exactly {sorted(entry.fails)}, "
            f"but fails {sorted(failing)}: {_show(verdicts)}")


# ---------------------------------------------------------------------------------------
# the rule, checked on the grade cells themselves


def _grade_cells(name):
    nb = NOTEBOOKS[name]
    return [] if nb is None else [c for c in nb.cells if c.cell_type == "code" and is_grade(c)]


def _check_calls(tree):
    """Names of the functions of the notebook's check module a piece of code calls (checks.<name>)."""
    return {node.func.attr for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"}


@pytest.mark.parametrize("name", NAMES)
def test_hidden_tests_call_only_checks_the_visible_tests_call(name):
    """A hidden block adds sizes, seeds and dtypes to the checks its cell already runs visibly."""
    for cell in _grade_cells(name):
        if HIDDEN_BEGIN not in cell.source:
            continue
        grade_id = nbgrader_meta(cell)["grade_id"]
        visible = _check_calls(ast.parse(visible_part(cell.source)))
        hidden = _check_calls(ast.parse(cell.source)) - visible
        assert not hidden, (f"{name}: the hidden tests of {grade_id} call checks.{', checks.'.join(sorted(hidden))}, "
                            "which its visible tests do not: a requirement only the hidden tests check")


LEGACY_RANDOM = re.compile(r"np\.random\.(seed|randn|rand|randint|normal|uniform|choice|shuffle|permutation|"
                           r"random|standard_normal)\(")


@pytest.mark.parametrize("name", NAMES)
def test_grade_cells_use_seeded_generators(name):
    for cell in _grade_cells(name):
        found = LEGACY_RANDOM.search(cell.source)
        assert not found, (f"{name}: grade cell {nbgrader_meta(cell)['grade_id']} uses the legacy global random "
                           f"state ({found.group(0)}); use a seeded np.random.default_rng(seed)")


@pytest.mark.parametrize("name", NAMES)
def test_split_grade_cells_follow_the_naming_scheme(name):
    nb = NOTEBOOKS[name]
    if nb is None:
        pytest.skip(f"{solution_path(name)} is missing")
    for ex in exercises(nb):
        ids = [nbgrader_meta(c)["grade_id"] for _, c in ex.tests]
        allowed = {f"{ex.grade_id}_tests"} | {f"{ex.grade_id}_tests_{k}" for k in range(2, 2 + len(ids))}
        assert set(ids) <= allowed, (f"{name}: the grade cells of {ex.grade_id} are {ids}; name them "
                                     f"{ex.grade_id}_tests, {ex.grade_id}_tests_2, ...")


@pytest.mark.parametrize("name,exercise", [
    pytest.param(name, ex.grade_id, id=f"{name}:{ex.grade_id}", marks=_group(name))
    for name in NAMES if NOTEBOOKS[name] is not None for ex in exercises(NOTEBOOKS[name]) if ex.tests
])
def test_solution_passes_every_cell_alone(name, exercise, executed):
    """The solution passes each grade cell run on its own, in the namespace a grade cell may use."""
    run = executed(name)
    verdicts = run.verdicts(exercise, run.exercises[exercise].source)
    failing = {g: v for g, v in verdicts.items() if v.visible or v.full}
    assert not failing, f"{name}: the solution of {exercise} fails: {_show(failing)}"


# ---------------------------------------------------------------------------------------
# every entry of the catalogue


@pytest.mark.parametrize("name,entry", [
    pytest.param(name, m, id=f"{name}:{m.exercise}:{m.name}", marks=_group(name))
    for name in NAMES for m in MISTAKES.get(name, [])
])
def test_mistake_gets_the_same_verdict_from_visible_and_hidden_tests(name, entry, executed):
    run = executed(name)
    verdicts = _judge(run, entry)
    _check_fair(name, entry, verdicts)


@pytest.mark.parametrize("name,entry", [
    pytest.param(name, a, id=f"{name}:{a.exercise}:{a.name}", marks=_group(name))
    for name in NAMES for a in ANSWERS.get(name, [])
])
def test_students_answer_is_graded_fairly(name, entry, executed):
    run = executed(name)
    verdicts = run.verdicts(entry.exercise, entry.code, run.cells_from(entry.exercise))
    _check_fair(name, entry, verdicts)
    own = {g: v for g, v in verdicts.items() if g in {nbgrader_meta(c)["grade_id"] for _, c in
                                                       run.exercises[entry.exercise].tests}}
    total = sum(v.points for v in own.values())
    lost = sum(v.points for v in own.values() if v.full)
    messages = [v.full for v in verdicts.values() if v.full]
    if entry.correct:
        assert lost <= total / 3, (f"{name}: {entry.exercise} / {entry.name!r} is right, yet loses {lost:g} of "
                                   f"{total:g} points: {_show(verdicts)}")
    else:
        assert lost > 0, f"{name}: {entry.exercise} / {entry.name!r} is wrong, yet loses no points"
    if entry.fails:
        assert entry.message, f"{name}: {entry.exercise} / {entry.name!r} fails {entry.fails} but states no message"
        assert any(re.search(entry.message, m, re.IGNORECASE) for m in messages), (
            f"{name}: {entry.exercise} / {entry.name!r}: no message matches /{entry.message}/: {_show(verdicts)}")
