"""A two-exercise nbgrader assignment, built in a temporary course root, and its students.

    root = make_course(tmp_path)                    # source, release and gradebook
    submit(root, "alice", answers(FULL))            # submitted/alice/ag-demo/ag-demo.ipynb

The assignment ``ag-demo`` has a locked setup cell, two exercises (``double``, 1 point;
``add``, 2 points) and a grade cell after each, with visible and hidden tests that use
rnnkit.testing.assert_close, numpy.testing and a bare assert.
"""
import json
import os
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "ag-demo"
POINTS = {"double_tests": 1.0, "add_tests": 2.0}
MAX_SCORE = sum(POINTS.values())

SETUP = "import numpy as np\nfrom rnnkit.testing import assert_close"
DOUBLE = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
DOUBLE_TESTS = (
    'assert_close(double(np.arange(3.0)), np.array([0.0, 2.0, 4.0]), "double(x)")\n'
    "### BEGIN HIDDEN TESTS\n"
    'assert_close(double(np.ones((2, 2))), 2 * np.ones((2, 2)), "double(x)")\n'
    "### END HIDDEN TESTS")
ADD = "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"
ADD_TESTS = (
    "np.testing.assert_allclose(add(np.ones(2), np.ones(2)), [2.0, 2.0])\n"
    'assert add(1, 2) == 3, "add(1, 2) should be 3"')

# answers: the source of the two solution cells
FULL = {"double": "def double(x):\n    return 2 * x", "add": "def add(a, b):\n    return a + b"}
PARTIAL = {"double": "def double(x):\n    return 2 * x", "add": "def add(a, b):\n    return a - b"}
WRONG = {"double": "def double(x):\n    return x", "add": "def add(a, b):\n    return a * b"}


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook():
    cells = [
        new_code_cell(SETUP, metadata=_meta("setup", locked=True)),
        new_markdown_cell("Write `double(x)`, which returns twice its argument."),
        new_code_cell(DOUBLE, metadata=_meta("double", solution=True)),
        new_code_cell(DOUBLE_TESTS, metadata=_meta("double_tests", grade=True, locked=True, points=1)),
        new_markdown_cell("Write `add(a, b)`."),
        new_code_cell(ADD, metadata=_meta("add", solution=True)),
        new_code_cell(ADD_TESTS, metadata=_meta("add_tests", grade=True, locked=True, points=2)),
    ]
    for index, cell in enumerate(cells):
        cell["id"] = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell-{index}")
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})


CONFIG = '''c = get_config()
c.CourseDirectory.course_id = "ag-test"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + {db!r}
c.Execute.timeout = 20
c.OverwriteCells.add_missing_cells = True
'''


def make_course(root):
    """Write the source, the config and the release (which also fills the gradebook)."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    root = Path(root)
    _venv_on_path()
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source_notebook(), str(root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    (root / "nbgrader_config.py").write_text(CONFIG.format(root=str(root), db=str(root / "gradebook.db")))
    config = load_config(root)
    config.CourseDirectory.assignment_id = ASSIGNMENT
    converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
    converter.force = True
    converter.log.setLevel("WARNING")
    converter.start()
    return root


def _venv_on_path():
    """nbgrader runs its environment's ``alembic`` script when it creates a gradebook."""
    bindir = os.path.dirname(os.path.abspath(os.sys.executable))
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def load_config(root):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def release(root):
    return nbformat.read(str(Path(root) / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)


def answers(solutions, root):
    """The release notebook with its solution cells replaced by ``solutions``."""
    nb = release(root)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    return nb


def submit(root, student, nb, timestamp="2026-11-20 12:00:00.000000 UTC"):
    """Place ``nb`` (a NotebookNode, or bytes/str for a raw file) as the student's submission."""
    folder = Path(root) / "submitted" / student / ASSIGNMENT
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    path = folder / f"{ASSIGNMENT}.ipynb"
    if isinstance(nb, (bytes, str)):
        path.write_bytes(nb if isinstance(nb, bytes) else nb.encode())
    else:
        nbformat.write(nb, str(path))
    (folder / "timestamp.txt").write_text(timestamp)
    return folder


def grades(root):
    """{student: {grade_id: auto_score}} and {student: total score} from the gradebook."""
    from nbgrader.api import Gradebook

    config = load_config(root)
    per_cell, totals = {}, {}
    with Gradebook(config.CourseDirectory.db_url, "ag-test") as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT):
            student = submission.student.id
            totals[student] = submission.score
            per_cell[student] = {g.name: g.auto_score for nb in submission.notebooks for g in nb.grades}
    return per_cell, totals


def copy_of_the_course(tmp, assignments=None):
    """A course root in ``tmp`` with the real course's ``assignments`` (all by default), from
    solutions/ and course/, and its own nbgrader configuration and gradebook."""
    import re

    repo = Path(__file__).resolve().parents[2]
    root = Path(tmp) / "course"
    for folder in ("solutions", "course"):
        names = assignments or sorted(p.name for p in (repo / "solutions").iterdir() if p.is_dir())
        for name in names:
            shutil.copytree(repo / folder / name, root / folder / name)
    (root / "autograder").mkdir()
    config = (repo / "autograder" / "nbgrader_config.py").read_text()
    config = re.sub(r"^HERE = .*$", f"HERE = {str(root / 'autograder')!r}", config, flags=re.M)
    config = re.sub(r"^ROOT = .*$", f"ROOT = {str(root)!r}", config, flags=re.M)
    (root / "autograder" / "nbgrader_config.py").write_text(config)
    return root
