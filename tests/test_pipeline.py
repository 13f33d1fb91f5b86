"""The nbgrader pipeline: notebooks/*.py -> solutions/ -> course/, and autograding both ends.

- solutions/ and course/ are what ``python -m autograder.release`` builds from notebooks/
  (checked by building in a temporary directory; nothing is rewritten);
- the committed notebooks carry no outputs;
- no solution and no hidden test reaches course/;
- an exercise named after a function of the contract is alone in its solution cell, with
  the contract's signature;
- every grade cell has points, and every assert in it a failure message;
- autograding the solutions as a student's submission gives full marks, and autograding
  the untouched release gives zero on every test cell, without crashing.

The autograder runs in a temporary course directory with its own gradebook. One notebook:
``pytest tests/test_pipeline.py -k 01-rnn-basics``.
"""
import ast
import json
import os
import shutil

import nbformat
import pytest

from autograder import release
from notebook_tools import (
    HIDDEN_BEGIN, HIDDEN_END, SOLUTION_BEGIN, SOLUTION_END, THREAD_ENV, block_bodies, exercises, is_grade,
    is_solution, nbgrader_meta, notebook_ids, read, release_path, solution_path)

NAMES = notebook_ids()

# The functional API of the contract: name -> parameters, exactly as the contract writes them.
CONTRACT = {
    "sigmoid": "z",
    "softmax": "z, axis=-1",
    "rnn_step_forward": "x, h_prev, Wx, Wh, b",
    "rnn_step_backward": "dh_next, cache",
    "rnn_forward": "x, h0, Wx, Wh, b",
    "rnn_backward": "dh, cache",
    "lstm_step_forward": "x, h_prev, c_prev, Wx, Wh, b",
    "lstm_step_backward": "dh_next, dc_next, cache",
    "lstm_forward": "x, h0, Wx, Wh, b, c0=None",
    "lstm_backward": "dh, cache",
    "gru_step_forward": "x, h_prev, Wx, Wh, b, reset_after=False",
    "gru_step_backward": "dh_next, cache",
    "gru_forward": "x, h0, Wx, Wh, b, reset_after=False",
    "gru_backward": "dh, cache",
    "temporal_softmax_loss": "scores, y, mask=None",
    "numerical_gradient": "f, x, df, h=1e-05",
    "rel_error": "a, b",
    "clip_grad_norm": "grads, max_norm",
}

# A line of a secret block shorter than this (without spaces) says nothing by itself:
# "else:", "pass", "return h", ")" ...
TRIVIAL = 12


def _python(source):
    """Cell source as Python: IPython magics and shell escapes become comments."""
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _need(path):
    assert path.exists(), f"{path} is missing: run `make release` and commit solutions/ and course/"
    return read(path)


_BUILDS = {}


def _built(name, tmp_path_factory):
    """Build a notebook once per worker: (throwaway course root, source JSON, release folder).

    The course root holds source/<name>/, release/<name>/ and the gradebook that nbgrader's
    generate_assignment filled; the autograding test starts from a copy of it.
    """
    if name not in _BUILDS:
        workdir = tmp_path_factory.mktemp(f"release-{name}")
        try:
            _BUILDS[name] = (workdir, *release.build(name, workdir))
        except Exception as exc:  # remember the failure: the next test need not rebuild to see it
            _BUILDS[name] = exc
    built = _BUILDS[name]
    if isinstance(built, Exception):
        pytest.fail(f"{name}: the release command fails: {type(built).__name__}: {built}")
    return built


def _group(name):
    # The tests that share a notebook's build run on one worker.
    return pytest.mark.xdist_group(f"pipeline-{name}")


@pytest.mark.parametrize("name", [pytest.param(n, marks=_group(n)) for n in NAMES])
def test_release_is_up_to_date(name, tmp_path_factory):
    _, source_json, built = _built(name, tmp_path_factory)
    out = release.stale(name, source_json, built)
    assert not out, (f"{name}: out of date with notebooks/{name}.py: {', '.join(map(str, out))}; "
                     "run `make release` (python -m autograder.release) and commit")


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_have_no_outputs(name):
    for path in (solution_path(name), release_path(name)):
        nb = _need(path)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path}: cell {index} has outputs"
                assert cell.execution_count is None, f"{path}: cell {index} has an execution count"


@pytest.mark.parametrize("name", NAMES)
def test_no_solution_or_hidden_test_reaches_the_release(name):
    source, course = _need(solution_path(name)), _need(release_path(name))
    text = "\n".join(cell.source for cell in course.cells)
    for marker in (SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END, "BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
        assert marker not in text, f"{name}: the release contains the marker {marker!r}"

    secret, public = set(), set()
    for cell in source.cells:
        bodies = (block_bodies(cell.source, SOLUTION_BEGIN, SOLUTION_END)
                  + block_bodies(cell.source, HIDDEN_BEGIN, HIDDEN_END))
        inside = {line.strip() for body in bodies for line in body}
        secret |= inside
        # A line that the source also shows outside every block is not a secret.
        public |= {line.strip() for line in _outside_blocks(cell.source)}
    release_lines = {line.strip() for line in text.splitlines()}
    leaked = sorted(line for line in secret - public
                    if len(line.replace(" ", "")) >= TRIVIAL and line in release_lines)
    assert not leaked, f"{name}: lines of solutions or hidden tests appear in the release: {leaked[:5]}"


def _outside_blocks(source):
    inside = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith((SOLUTION_BEGIN, HIDDEN_BEGIN)):
            inside = True
        elif stripped.startswith((SOLUTION_END, HIDDEN_END)):
            inside = False
        elif not inside:
            yield line


def _function_cell(source, where):
    tree = ast.parse(_python(source))
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    others = [ast.unparse(node).splitlines()[0] for node in tree.body if not isinstance(node, ast.FunctionDef)]
    assert len(functions) == 1 and not others, (
        f"{where}: a contract exercise must be alone in its solution cell, found functions "
        f"{[f.name for f in functions]} and statements {others}")
    return functions[0]


@pytest.mark.parametrize("name", NAMES)
def test_contract_exercises_are_alone_with_the_contract_signature(name):
    source, course = _need(solution_path(name)), _need(release_path(name))
    released = {nbgrader_meta(c).get("grade_id"): c for c in course.cells if is_solution(c)}
    for cell in source.cells:
        if cell.cell_type != "code" or not is_solution(cell):
            continue
        grade_id = nbgrader_meta(cell)["grade_id"]
        defined = [node.name for node in ast.parse(_python(cell.source)).body if isinstance(node, ast.FunctionDef)]
        for fn_name in defined:
            if fn_name in CONTRACT:
                assert grade_id == fn_name, (
                    f"{name}: the solution cell defining the contract function {fn_name} has grade_id {grade_id!r}")
        if grade_id not in CONTRACT:
            continue
        for where, cell_ in ((f"{name} solutions", cell), (f"{name} release", released.get(grade_id))):
            assert cell_ is not None, f"{where}: no solution cell {grade_id}"
            fn = _function_cell(cell_.source, f"{where}, cell {grade_id}")
            assert fn.name == grade_id, f"{where}: cell {grade_id} defines {fn.name}"
            assert ast.unparse(fn.args) == CONTRACT[grade_id], (
                f"{where}: {grade_id}({ast.unparse(fn.args)}) should be {grade_id}({CONTRACT[grade_id]})")


@pytest.mark.parametrize("name", NAMES)
def test_grade_cells_have_points_and_messages(name):
    nb = _need(solution_path(name))
    grade_ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("grade_id")]
    assert len(grade_ids) == len(set(grade_ids)), f"{name}: grade_ids repeat: {grade_ids}"
    assert any(is_grade(c) for c in nb.cells) or not exercises(nb), f"{name}: exercises without grade cells"
    for ex in exercises(nb):
        assert ex.tests, f"{name}: the exercise {ex.grade_id} has no grade cell after it"
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_grade(cell):
            continue
        meta = nbgrader_meta(cell)
        assert meta.get("points", 0) > 0, f"{name}: grade cell {meta['grade_id']} has no points"
        bare = [node.lineno for node in ast.walk(ast.parse(_python(cell.source)))
                if isinstance(node, ast.Assert) and node.msg is None]
        assert not bare, f"{name}: grade cell {meta['grade_id']} has asserts without a message on lines {bare}"


# ---------------------------------------------------------------------------------------
# autograding


def _autograde(name, built, workdir):
    """Autograde two submissions of ``name``: the solutions and the untouched release.

    built: the course root of :func:`_built`, copied to ``workdir`` with its gradebook.
    Returns {student: {grade cell: (auto score, max score)}}.
    """
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    release.use_fast_gradebook()
    shutil.copytree(built, workdir, dirs_exist_ok=True)
    submissions = {"solution": workdir / "source" / name, "blank": workdir / "release" / name}
    for student, folder in submissions.items():
        shutil.copytree(folder, workdir / "submitted" / student / name)

    config = PyFileConfigLoader(release.CONFIG.name, path=str(release.CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(workdir)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "release"
    config.CourseDirectory.submitted_directory = "submitted"
    config.CourseDirectory.autograded_directory = "autograded"
    config.CourseDirectory.db_url = "sqlite:///" + str(workdir / "gradebook.db")
    config.CourseDirectory.assignment_id = name
    config.CourseDirectory.student_id = "*"
    converter = Autograde(coursedir=CourseDirectory(config=config), config=config)
    converter.force = True
    converter.start()

    scores = {}
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        for student in submissions:
            notebook = gb.find_submission_notebook(name, name, student)
            scores[student] = {grade.name: (grade.auto_score, grade.max_score) for grade in notebook.grades}
            assert not notebook.flagged, f"{name}: nbgrader flagged {student}'s notebook"
    return scores


# nbgrader's gradebook trips SQLAlchemy's autoflush warnings on creating a submission.
@pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")
@pytest.mark.parametrize("name", [pytest.param(n, marks=_group(n)) for n in NAMES])
def test_autograding_gives_full_marks_to_the_solutions_and_zero_to_the_release(
        name, tmp_path, tmp_path_factory, monkeypatch):
    built, source_json, _ = _built(name, tmp_path_factory)
    nb = nbformat.reads(source_json, as_version=4)
    for key, value in THREAD_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    scores = _autograde(name, built, tmp_path / "course")
    tests = {nbgrader_meta(c)["grade_id"] for c in nb.cells if c.cell_type == "code" and is_grade(c)}
    for student in ("solution", "blank"):
        missing = tests - set(scores[student])
        assert not missing, f"{name}: no grade for the {student} submission's cells {sorted(missing)}"
    short = {g: s for g, s in scores["solution"].items() if g in tests and s[0] != s[1]}
    assert not short, f"{name}: the solutions lose marks when autograded, (score, max): {short}" + _errors(
        tmp_path, "solution", name)
    given = {g: s for g, s in scores["blank"].items() if g in tests and s[0] != 0}
    assert not given, f"{name}: the untouched release earns marks, (score, max): {given}"


def _errors(workdir, student, name):
    """The errors of the autograded notebook's graded cells, to say why marks were lost."""
    path = workdir / "autograded" / student / name / f"{name}.ipynb"
    if not path.exists():
        return ""
    out = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" or output.get("name") == "stderr":
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
                text = output.get("evalue") or output.get("text", "")
                out.append(f"{grade_id}: {output.get('ename', 'stderr')}: {str(text).strip()[:300]}")
    return "\n" + "\n".join(out) if out else ""


def test_release_command_check_mode_reports_staleness(tmp_path, monkeypatch, capsys):
    """``--check`` names a stale file and exits 1 without writing; the up-to-date tree exits 0."""
    if not NAMES:
        pytest.skip("no notebooks yet")
    name = NAMES[0]
    fake = tmp_path / "repo"
    shutil.copytree(release.NOTEBOOKS, fake / "notebooks")
    shutil.copytree(release.SOLUTIONS / name, fake / "solutions" / name)
    shutil.copytree(release.COURSE / name, fake / "course" / name)
    for attr, sub in (("ROOT", ""), ("NOTEBOOKS", "notebooks"), ("SOLUTIONS", "solutions"), ("COURSE", "course")):
        monkeypatch.setattr(release, attr, fake / sub if sub else fake)
    assert release.main([name, "--check"]) == 0, capsys.readouterr().out
    stale_file = fake / "course" / name / f"{name}.ipynb"
    stale_file.write_text(stale_file.read_text() + " ")
    before = stale_file.read_bytes()
    assert release.main([name, "--check"]) == 1
    assert f"course/{name}/{name}.ipynb" in capsys.readouterr().out
    assert stale_file.read_bytes() == before, "--check rewrote a file"
    assert release.main([name]) == 0
    assert release.main([name, "--check"]) == 0
    assert os.path.getsize(stale_file) == len(before) - 1


def test_gradebook_head_is_alembic_head():
    """The release reads the gradebook's schema revision from nbgrader's migration scripts."""
    from alembic.script import ScriptDirectory
    from nbgrader import dbutil

    assert release.gradebook_head() == ScriptDirectory(dbutil.ALEMBIC_DIR).get_current_head()
