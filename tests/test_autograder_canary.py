"""The canary on the real course: every solution notebook graded as the autograder grades it.

``python -m autograder canary`` grades each assignment's solution and its blank release in
the sandbox, with the sealed rnnkit and the grade cells run outside the kernel: the
solution must earn every point, the release none, and no grade cell may end with an
expression that shows a value (nbgrader would read it as a partial score). A grade cell
of the small demo course that does end so is refused by name.
"""
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.autograder_fixtures import course
from tests.test_autograder_hostile import sandbox_or_skip

pytestmark = pytest.mark.xdist_group("autograder")

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def course_copy(tmp):
    """The whole course, copied with its own configuration; the path of that configuration."""
    return course.copy_of_the_course(tmp) / "autograder" / "nbgrader_config.py"


def canary(config, *args):
    return subprocess.run([sys.executable, "-m", "autograder", "--config", str(config), "canary", "--workers", "2",
                           *args], capture_output=True, text=True, timeout=1200, cwd=str(ROOT))


def test_every_solution_earns_full_marks_and_every_release_none(tmp_path):
    sandbox_or_skip()
    result = canary(course_copy(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    assert "canary passed" in result.stdout and all(a in result.stdout for a in ASSIGNMENTS)


def test_a_grade_cell_that_shows_a_value_fails_the_canary(tmp_path):
    sandbox_or_skip()
    root = course.make_course(tmp_path)
    source = root / "source" / course.ASSIGNMENT / f"{course.ASSIGNMENT}.ipynb"
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "add_tests":
            cell.source += "\nfloat('nan')"
    nbformat.write(nb, str(source))
    result = canary(root / "nbgrader_config.py", "--assignment", course.ASSIGNMENT)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "add_tests" in result.stderr and "shows a value" in result.stderr


def test_a_failure_of_the_machinery_is_reported_and_never_recorded(tmp_path):
    """A notebook whose grading machinery failed twice: no grade, no journal row; the rerun grades it."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.coursedir import CourseDirectory

    from autograder import journal
    from autograder.grading import Grader, RunFolder

    root = course.make_course(tmp_path)
    course.submit(root, "alice", course.answers(course.FULL, root))
    config = course.load_config(root)
    coursedir = CourseDirectory(config=config)
    grader = Grader(config, coursedir, workers=1)
    folder = root / "submitted" / "alice" / course.ASSIGNMENT
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb, RunFolder() as tmp:
        journal.create(gb)
        state = grader._prepare(gb, "alice", course.ASSIGNMENT, folder, journal.digest(folder), tmp)
        assert state["jobs"], state["problems"]
        for job in state["jobs"]:
            state["results"][job.notebook] = {"seconds": 0.0, "problems": [], "findings": [], "records": [],
                                              "machinery": "the grading worker failed: BrokenProcessPool"}
        outcome = grader._record(gb, state)
        assert outcome.ungraded and "a rerun grades it" in outcome.problems[0]
        assert journal.done(gb) == {}
        with pytest.raises(MissingEntry):
            gb.find_submission(course.ASSIGNMENT, "alice")


def test_a_passing_cell_must_show_every_check_the_solution_runs(tmp_path):
    """A grade cell whose code skips a check for some answer: the trusted record is short, no points."""
    sandbox_or_skip()
    import sqlite3

    root = course.make_course(tmp_path)
    source = root / "source" / course.ASSIGNMENT / f"{course.ASSIGNMENT}.ipynb"
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "double_tests":
            cell.source = ("result = double(np.arange(3.0))\n"
                           "if not isinstance(result, str):\n"
                           "    assert_close(result, np.array([0.0, 2.0, 4.0]), 'double(x)')")
    nbformat.write(nb, str(source))
    course.submit(root, "honest", course.answers(course.FULL, root))
    course.submit(root, "dodger", course.answers(dict(course.FULL, double="def double(x):\n    return 'no'"), root))
    result = subprocess.run([sys.executable, "-m", "autograder", "--config", str(root / "nbgrader_config.py"), "grade",
                             "--workers", "2", "--quiet"], capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(root / "gradebook.db") as con:
        scores = dict(con.execute(
            "SELECT s.student_id || '/' || c.name, g.auto_score FROM grade g JOIN base_cell c ON g.cell_id = c.id "
            "JOIN submitted_notebook n ON g.notebook_id = n.id JOIN submitted_assignment s "
            "ON n.assignment_id = s.id").fetchall())
    assert scores["honest/double_tests"] == 1.0 and scores["dodger/double_tests"] == 0.0, scores
    assert scores["dodger/add_tests"] == scores["honest/add_tests"] == 2.0
    assert "the trusted record is short" in result.stdout and "assert_close ran 0 times" in result.stdout
