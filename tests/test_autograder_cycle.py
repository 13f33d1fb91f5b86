"""The instructor's cycle: the same grades as serial nbgrader, crash safety, import, export, feedback."""
import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.autograder_fixtures import course, hostile
from tests.test_autograder_hostile import run_tool, sandbox_or_skip

pytestmark = pytest.mark.xdist_group("autograder")

VENV_BIN = Path(sys.executable).parent


def gradebook_rows(root):
    """Every grade and comment of the gradebook, as comparable tuples."""
    db = sqlite3.connect(root / "gradebook.db")
    grades = db.execute(
        "select s.id, c.name, g.auto_score, g.manual_score, g.needs_manual_grade "
        "from grade g join submitted_notebook n on g.notebook_id = n.id "
        "join submitted_assignment a on n.assignment_id = a.id join student s on a.student_id = s.id "
        "join base_cell c on g.cell_id = c.id order by s.id, c.name").fetchall()
    comments = db.execute(
        "select s.id, c.name, m.auto_comment from comment m join submitted_notebook n on m.notebook_id = n.id "
        "join submitted_assignment a on n.assignment_id = a.id join student s on a.student_id = s.id "
        "join base_cell c on m.cell_id = c.id order by s.id, c.name").fetchall()
    penalties = db.execute(
        "select s.id, n.late_submission_penalty from submitted_notebook n "
        "join submitted_assignment a on n.assignment_id = a.id join student s on a.student_id = s.id "
        "order by s.id").fetchall()
    db.close()
    return grades, comments, penalties


EQUIVALENCE_CASES = ("edit_locked_test", "delete_test_cell", "unknown_kernel", "sys_exit", "huge_allocation")


def submit_equivalence_class(root):
    for student, (answers, _) in hostile.HONEST.items():
        course.submit(root, student, course.answers(answers, root))
    for name in EQUIVALENCE_CASES:
        make, _ = hostile.CASES[name]
        course.submit(root, name.replace("_", "-"), make(root, {}))
    # a late one: same grades, and the late-penalty bookkeeping must agree too
    course.submit(root, "dave", course.answers(course.PARTIAL, root), timestamp="2099-01-01 00:00:00.000000 UTC")


def test_grades_identical_to_serial_nbgrader(tmp_path):
    sandbox_or_skip()
    serial = course.make_course(tmp_path / "serial")
    ours = course.make_course(tmp_path / "ours")
    submit_equivalence_class(serial)
    submit_equivalence_class(ours)
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    stock = subprocess.run([str(VENV_BIN / "nbgrader"), "autograde", course.ASSIGNMENT, "--force"],
                           cwd=serial, capture_output=True, text=True, timeout=600, env=env)
    assert stock.returncode == 0, stock.stderr[-2000:]
    result = run_tool(ours, "grade", "--workers", "2", "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]
    expected, got = gradebook_rows(serial), gradebook_rows(ours)
    assert got[0] == expected[0]        # grades, cell by cell
    assert got[1] == expected[1]        # nbgrader's automatic comments
    assert got[2] == expected[2]        # late penalties
    assert len(got[0]) == 2 * (len(hostile.HONEST) + len(EQUIVALENCE_CASES) + 1)


def journal_count(root):
    try:
        db = sqlite3.connect(f"file:{root / 'gradebook.db'}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("select count(*) from autograder_journal").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_sigkill_mid_run_then_rerun_loses_and_doubles_nothing(tmp_path):
    sandbox_or_skip()
    root = course.make_course(tmp_path / "crash")
    answers = [course.FULL, course.PARTIAL, course.WRONG]
    students = [f"s{i}" for i in range(8)]
    for i, student in enumerate(students):
        course.submit(root, student, course.answers(answers[i % 3], root))
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "--config", str(root / "nbgrader_config.py"),
         "grade", "--workers", "2", "--quiet"],
        cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    deadline = time.monotonic() + 300
    while journal_count(root) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "the run ended before it could be killed"
    killed_at = journal_count(root)
    os.kill(process.pid, signal.SIGKILL)     # the parent alone: its workers and kernels must follow
    process.wait()
    assert 2 <= killed_at < len(students)
    time.sleep(3)
    leftovers = subprocess.run(["ps", "-s", str(process.pid), "-o", "pid=,args="],
                               capture_output=True, text=True).stdout.strip()
    assert leftovers == "", f"processes of the killed run survive:\n{leftovers}"

    result = run_tool(root, "grade", "--workers", "2", "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]
    already = journal_count(root)
    assert already == len(students)
    assert "already in the journal" in result.stdout
    per_cell, totals = course.grades(root)
    expected = {s: sum(hostile.HONEST[["alice", "bob", "carol"][i % 3]][1].values())
                for i, s in enumerate(students)}
    assert totals == expected
    grades, _, _ = gradebook_rows(root)
    assert len(grades) == 2 * len(students) and len(set((s, c) for s, c, *_ in grades)) == len(grades)

    # a third run grades nothing again, and the export has the class
    again = run_tool(root, "grade", "--workers", "2", "--quiet")
    assert f"0 submissions graded, {len(students)} already in the journal" in again.stdout
    out = tmp_path / "grades.csv"
    assert run_tool(root, "export", "--to", str(out)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["student_id"]: float(r["score"]) for r in rows} == expected

    # and nbgrader's feedback renders from the graded notebooks
    assert run_tool(root, "feedback").returncode == 0
    assert (root / "feedback" / "s0" / course.ASSIGNMENT / f"{course.ASSIGNMENT}.html").exists()


# ---------------------------------------------------------------------------------------
# import


def _notebook_bytes(root, answers):
    return nbformat.writes(course.answers(answers, root)).encode()


def test_import_folder_tree(tmp_path):
    root = course.make_course(tmp_path / "c")
    src = tmp_path / "downloads"
    for student in ("ann", "ben"):
        folder = src / student / course.ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{course.ASSIGNMENT}.ipynb").write_bytes(_notebook_bytes(root, course.FULL))
        (folder / "data.txt").write_text("a file the student made")
    (src / "ann" / "not-an-assignment").mkdir()
    result = run_tool(root, "import", str(src))
    assert result.returncode == 0, result.stderr
    assert "refused" in result.stderr and "not-an-assignment" in result.stderr
    for student in ("ann", "ben"):
        folder = root / "submitted" / student / course.ASSIGNMENT
        assert (folder / f"{course.ASSIGNMENT}.ipynb").exists() and (folder / "data.txt").exists()
        _check_timestamp(folder)


def _check_timestamp(folder):
    from nbgrader.utils import parse_utc

    stamp = (folder / "timestamp.txt").read_text()
    assert parse_utc(stamp).year >= 1980


def test_import_lms_zips(tmp_path):
    root = course.make_course(tmp_path / "c")
    nb = _notebook_bytes(root, course.PARTIAL)
    tree = tmp_path / "tree.zip"
    with zipfile.ZipFile(tree, "w") as zf:
        zf.writestr(zipfile.ZipInfo(f"export/cleo/{course.ASSIGNMENT}/{course.ASSIGNMENT}.ipynb",
                                    date_time=(2026, 11, 20, 9, 30, 0)), nb)
    flat = tmp_path / "canvas.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        zf.writestr(f"dan_12345_67890_{course.ASSIGNMENT}.ipynb", nb)
        zf.writestr(f"eve_LATE_555_{course.ASSIGNMENT}.ipynb", nb)
        zf.writestr(f"../../escape/{course.ASSIGNMENT}/{course.ASSIGNMENT}.ipynb", nb)
        zf.writestr("readme.txt", "not a submission")
    result = run_tool(root, "import", str(tree), str(flat))
    assert result.returncode == 0, result.stderr
    for student in ("cleo", "dan", "eve"):
        folder = root / "submitted" / student / course.ASSIGNMENT
        assert (folder / f"{course.ASSIGNMENT}.ipynb").read_bytes() == nb
        _check_timestamp(folder)
    assert (root / "submitted" / "cleo" / course.ASSIGNMENT / "timestamp.txt").read_text().startswith(
        "2026-11-20 09:30:00")
    assert "a path outside the archive" in result.stderr
    assert not (tmp_path / "escape").exists() and not (root.parent / "escape").exists()


# ---------------------------------------------------------------------------------------
# the static scan


def test_scan_flags_reaching_for_the_reference_and_spares_honest_answers(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from autograder.scan import scan_notebook

    root = course.make_course(tmp_path / "c")
    assert scan_notebook(course.answers(course.FULL, root)) == []
    cheat = course.answers({"double": "import rnnkit\ndef double(x):\n    return rnnkit.relu(x) * 2"}, root)
    messages = [f.message for f in scan_notebook(cheat)]
    assert any("reference implementation: rnnkit.relu" in m for m in messages)
    sneaky = course.answers({"double": "def double(x):\n    m = __import__('rnn' + 'kit')\n    return 2 * x"}, root)
    assert any("by name" in f.message for f in scan_notebook(sneaky))
