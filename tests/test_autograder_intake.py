"""The grading intake: real LMS-style exports and the accidents of a large class.

One class is imported from a Canvas-like export and a collected folder, graded by the
command-line tool, killed with SIGKILL part of the way and graded again; each test then
checks one promise: the honest students get exactly their grades, every accident gets
what its code earns and a one-line reason, the times come from the export, a killed run
leaves nothing that reads as zero and no temporary folder once the next run has started.
The import's limits, ids, help texts and the sandbox's uid leases are checked without
grading.
"""
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.autograder_fixtures import course, intake

pytestmark = pytest.mark.xdist_group("autograder")

ROOT = Path(__file__).resolve().parent.parent
A = course.ASSIGNMENT
GRADE = ("grade", "--workers", "2", "--cell-timeout", "20", "--quiet")


def sandbox_or_skip():
    sys.path.insert(0, str(ROOT))
    from autograder.sandbox import SandboxUnavailable, check_available

    try:
        check_available()
    except SandboxUnavailable as exc:
        pytest.skip(f"the grading sandbox cannot run here: {exc}")


def tool(root, *args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "autograder", "--config", str(root / "nbgrader_config.py"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def db_rows(root, query):
    db = sqlite3.connect(f"file:{root / 'gradebook.db'}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(query).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def journal(root):
    return {(s, a): json.loads(p) for s, a, p in
            db_rows(root, "select student_id, assignment_id, problems from autograder_journal")}


def gradebook_submissions(root):
    return {s for (s,) in db_rows(root, "select s.id from submitted_assignment a join student s "
                                        "on a.student_id = s.id")}


def run_folders():
    return set(Path(tempfile.gettempdir()).glob("autograder-run-*"))


def lock_is_free(folder):
    import fcntl

    try:
        fd = os.open(folder / ".lock", os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def line_of(text, *words):
    lines = [line for line in text.splitlines() if all(w in line for w in words)]
    assert len(lines) == 1, f"{words}: {len(lines)} lines in\n{text}"
    return lines[0]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    sandbox_or_skip()
    tmp = tmp_path_factory.mktemp("intake")
    root = course.make_course(tmp / "class")
    export = intake.lms_export(root, tmp)
    downloads = intake.collected_folder(root, tmp)
    imported = tool(root, "import", str(export), str(downloads))
    assert imported.returncode == 0, imported.stderr
    intake.place_by_hand(root)

    # the first run on a new gradebook, killed once two submissions are recorded
    before = run_folders()
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "--config", str(root / "nbgrader_config.py"), *GRADE],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 400
    while len(journal(root)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "the run ended before it could be killed:\n" + process.stderr.read()[-3000:]
    os.kill(process.pid, signal.SIGKILL)
    _, killed_stderr = process.communicate()
    time.sleep(2)
    killed = {
        "journal": journal(root), "gradebook": gradebook_submissions(root), "stderr": killed_stderr,
        "folders": {f for f in run_folders() - before if lock_is_free(f)},
        "export": tool(root, "export", "--to", str(tmp / "killed.csv")),
        "csv": None,
    }
    killed["csv"] = list(csv.DictReader(io.StringIO((tmp / "killed.csv").read_text())))

    rerun = tool(root, *GRADE)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    feedback = tool(root, "feedback", "--student", "copy-answer")
    per_cell, totals = course.grades(root)
    return {"root": root, "tmp": tmp, "imported": imported, "killed": killed, "rerun": rerun,
            "feedback": feedback, "per_cell": per_cell, "totals": totals, "journal": journal(root)}


# ---------------------------------------------------------------------------------------
# grades


@pytest.mark.parametrize("student", sorted(intake.HONEST))
def test_honest_students_get_exactly_their_grades(graded, student):
    _, expected = intake.HONEST[student]
    assert graded["per_cell"][student] == expected
    assert graded["totals"][student] == sum(expected.values())


@pytest.mark.parametrize("student", sorted(intake.STUDENTS))
def test_every_case_gets_what_its_code_earns(graded, student):
    assert graded["per_cell"][student] == intake.STUDENTS[student]


def test_the_gradebook_holds_the_class_and_nothing_else(graded):
    assert set(graded["per_cell"]) == set(intake.STUDENTS)
    assert set(graded["journal"]) == {(s, A) for s in intake.STUDENTS}


def test_honest_students_have_no_problem_reported(graded):
    for student in intake.HONEST:
        assert graded["journal"][(student, A)] == []


# ---------------------------------------------------------------------------------------
# copied cells


@pytest.mark.parametrize("student", ["copy-answer", "copy-answer-last", "copy-test", "copy-same-id"])
def test_a_copied_cell_is_repaired_and_reported(graded, student):
    problems = graded["journal"][(student, A)]
    assert any("a copied cell" in p and "appears 2 times" in p for p in problems), problems
    assert not any("could not be sanitized" in p for p in problems), problems


def test_stray_nbgrader_marks_are_removed_and_reported(graded):
    problems = graded["journal"][("stray-marks", A)]
    assert any("'bonus'" in p and "does not have" in p for p in problems), problems
    assert graded["totals"]["stray-marks"] == course.MAX_SCORE


def test_a_copied_answer_gets_its_feedback(graded):
    assert graded["feedback"].returncode == 0, graded["feedback"].stderr[-2000:]
    assert (graded["root"] / "feedback" / "copy-answer" / A / f"{A}.html").exists()


# ---------------------------------------------------------------------------------------
# times


@pytest.mark.parametrize("student", sorted(intake.TIMES))
def test_the_recorded_time_is_the_exports(graded, student):
    rows = db_rows(graded["root"], "select a.timestamp from submitted_assignment a join student s "
                                   f"on a.student_id = s.id where s.id = '{student}'")
    assert [datetime.fromisoformat(t) for (t,) in rows] == [intake.TIMES[student]]


@pytest.mark.parametrize("student", ["stamped", "notadate", "dana"])
def test_a_timestamp_in_the_upload_is_discarded_and_said(graded, student):
    line = line_of(graded["imported"].stdout, f"imported {student}/{A}")
    assert "left out: timestamp.txt (times come from the export" in line
    stamp = (graded["root"] / "submitted" / student / A / "timestamp.txt").read_text()
    assert not stamp.startswith("2000") and stamp.startswith("2026-11-2")


def test_of_two_attempts_the_newest_is_graded_and_the_other_named(graded):
    line = line_of(graded["imported"].stdout, f"imported twice/{A}")
    assert "twice_1200_5200" in line.split("older attempts", 1)[0]
    assert "older attempts not imported" in line and "twice_1200_5300" in line and "2026-11-19 08:00:00" in line


def test_a_bad_timestamp_is_one_students_problem(graded):
    problems = graded["journal"][("handplaced", A)]
    assert any("'not a date', which is not a time" in p for p in problems), problems
    assert graded["totals"]["handplaced"] == course.MAX_SCORE
    assert not (graded["root"] / "autograded" / "handplaced" / A / "timestamp.txt").exists()


# ---------------------------------------------------------------------------------------
# refusals


@pytest.mark.parametrize("where", sorted(intake.REFUSED))
def test_a_refusal_is_one_line_with_its_reason(graded, where):
    line = line_of(graded["imported"].stderr, "refused", where)
    assert intake.REFUSED[where] in line, line


def test_refused_uploads_are_neither_imported_nor_graded(graded):
    out = graded["imported"].stdout
    for student in ("big", "corrupt"):
        assert f"imported {student}/" not in out
        assert not (graded["root"] / "submitted" / student).exists()
        assert student not in graded["per_cell"]
    assert "submissions imported" in out and "4 refused" in out


def test_path_ids_write_nothing_outside_submitted(graded):
    root = graded["root"]
    assert sorted(p.name for p in (root / "submitted").iterdir()) == sorted(intake.STUDENTS)
    assert not (root / A).exists() and not (root / "submitted" / A).exists()
    assert sorted(p.name for p in root.iterdir()) == sorted(
        ["autograded", "feedback", "gradebook.db", "nbgrader_config.py", "release", "source", "submitted"])


# ---------------------------------------------------------------------------------------
# a killed run


def test_a_killed_run_leaves_no_submission_reading_zero(graded):
    killed = graded["killed"]
    recorded = {s for s, _ in killed["journal"]}
    assert 2 <= len(recorded) < len(intake.STUDENTS)
    # the gradebook holds exactly the submissions recorded: nothing prepared and not graded
    assert killed["gradebook"] == recorded


def test_the_export_of_a_killed_run_leaves_ungraded_scores_empty(graded):
    killed = graded["killed"]
    assert killed["export"].returncode == 0, killed["export"].stderr
    recorded = {s for s, _ in killed["journal"]}
    scores = {row["student_id"]: row["score"] for row in killed["csv"]}
    assert set(scores) == set(intake.STUDENTS)
    for student, score in scores.items():
        if student in recorded:
            assert float(score) == sum(intake.STUDENTS[student].values()), student
        else:
            assert score == "", f"{student} is not graded yet but exported as {score!r}"
    assert "not graded yet have empty scores" in killed["export"].stdout


def test_the_next_run_removes_the_killed_runs_folder(graded):
    folders = graded["killed"]["folders"]
    assert folders, "the killed run left no temporary folder to clean"
    assert not any(f.exists() for f in folders)


def test_no_library_warnings(graded):
    # the first run on the new gradebook (killed: Python's own note on the semaphores of the
    # killed pool may follow it), then a whole run
    assert "SAWarning" not in graded["killed"]["stderr"], graded["killed"]["stderr"][-3000:]
    assert "Warning" not in graded["rerun"].stderr, graded["rerun"].stderr[-3000:]


# ---------------------------------------------------------------------------------------
# without grading: limits, ids, help, folders


def _import_measured(root, *args):
    """python -m autograder import ... in a fresh process; (result, its peak resident memory in MiB).

    The peak is the process's VmHWM: getrusage's ru_maxrss would count the memory of the
    forked test process before the exec too."""
    code = ("import json, sys\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            "from autograder.cli import main\n"
            "rc = main(json.loads(sys.argv[1]))\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
            "print('MAXRSS', hwm, file=sys.stderr)\n"
            "sys.exit(rc)\n")
    argv = ["--config", str(root / "nbgrader_config.py"), "import", *args]
    result = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    peak = int(result.stderr.rsplit("MAXRSS", 1)[1].split()[0]) / 1024
    return result, peak


def _bomb(path, members=24, size=31 * 2**20):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(members):
            zf.writestr(f"bomb{i}_1_2_{A}.ipynb", b"\0" * size)
    return path


@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    return course.make_course(tmp_path_factory.mktemp("intake-import") / "c")


def _clean(root):
    import shutil

    shutil.rmtree(root / "submitted", ignore_errors=True)


def _honest_zip(root, path, extra=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"alice_1_2_{A}.ipynb", intake._bytes(course.answers(course.FULL, root)))
        for name, data in extra:
            zf.writestr(name, data)
    return path


def test_a_zip_bomb_is_refused_by_its_ratio_in_little_memory(small_course, tmp_path):
    _clean(small_course)
    bomb = _bomb(tmp_path / "bomb.zip")
    result, peak = _import_measured(small_course, str(bomb), str(_honest_zip(small_course, tmp_path / "h.zip")))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("over the limit of 100 (--max-ratio)") == 24
    assert "imported alice/" in result.stdout
    assert peak < 300, f"{peak:.0f} MiB"


def test_a_large_export_is_unpacked_file_by_file(small_course, tmp_path):
    _clean(small_course)
    bomb = _bomb(tmp_path / "bomb.zip")
    result, peak = _import_measured(small_course, "--max-ratio", "5000", str(bomb))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("imported bomb") == 24
    assert (small_course / "submitted" / "bomb7" / A / f"{A}.ipynb").stat().st_size == 31 * 2**20
    assert peak < 300, f"{peak:.0f} MiB"
    _clean(small_course)


@pytest.mark.parametrize("option, value, words", [
    ("--max-members", "10", "it has 24 members, over the limit of 10 (--max-members)"),
    ("--max-export-mb", "100", "over the limit of one export, 100.0 MiB (--max-export-mb)"),
])
def test_an_export_over_a_limit_is_refused_whole_with_the_limit_named(small_course, tmp_path, option, value, words):
    _clean(small_course)
    result = tool(small_course, "import", option, value, str(_bomb(tmp_path / "bomb.zip")),
                  str(_honest_zip(small_course, tmp_path / "h.zip")))
    assert words in line_of(result.stderr, "refused", "bomb.zip")
    assert "imported alice/" in result.stdout and result.returncode == 0


def test_an_upload_over_its_limit_is_refused_alone(small_course, tmp_path):
    _clean(small_course)
    data = os.urandom(3 * 2**20 // 2)
    path = _honest_zip(small_course, tmp_path / "h.zip", extra=[
        (f"tree/heavy/{A}/{A}.ipynb", intake._bytes(course.answers(course.FULL, small_course))),
        (f"tree/heavy/{A}/data.bin", data)])
    result = tool(small_course, "import", "--max-upload-mb", "1", str(path))
    assert "over the limit of one upload, 1.0 MiB (--max-upload-mb)" in line_of(result.stderr, "refused heavy/")
    assert "imported alice/" in result.stdout


def test_a_large_notebook_in_a_zip_is_refused_by_the_notebook_limit(small_course, tmp_path):
    _clean(small_course)
    nb = course.answers(course.FULL, small_course)
    nb.cells[0].outputs = [{"output_type": "stream", "name": "stdout", "text": "x" * (100 * 10**6)}]
    path = _honest_zip(small_course, tmp_path / "h.zip", extra=[(f"big_1_2_{A}.ipynb", intake._raw(nb))])
    result = tool(small_course, "import", str(path))
    line = line_of(result.stderr, "big")
    assert line.startswith("refused ") and "over the limit of one notebook, 32.0 MiB (--max-notebook-mb)" in line
    assert "imported alice/" in result.stdout and "imported big/" not in result.stdout


def test_a_limit_outside_its_range_is_an_error(small_course):
    result = tool(small_course, "import", "--max-notebook-mb", "500", "x.zip")
    assert result.returncode == 2 and "from 1 to 32" in result.stderr


def test_the_import_limit_of_a_notebook_is_what_grading_reads():
    sys.path.insert(0, str(ROOT))
    from autograder.collect import Limits
    from autograder.grading import LARGEST_NOTEBOOK

    assert Limits().notebook == LARGEST_NOTEBOOK


@pytest.mark.parametrize("student", ["..", ".", ".hidden", "tab\tname", "new\nline", "sp ace", "x" * 129])
def test_ids_outside_the_rule_are_refused_with_the_rule(small_course, tmp_path, student):
    _clean(small_course)
    path = _honest_zip(small_course, tmp_path / "ids.zip", extra=[(f"{student}_1_2_{A}.ipynb", "{}")])
    result = tool(small_course, "import", str(path))
    line = line_of(result.stderr, "refused")
    assert "not a valid student id" in line and "not beginning with a dot" in line, line
    assert "imported alice/" in result.stdout and result.returncode == 0
    assert sorted(p.name for p in (small_course / "submitted").iterdir()) == ["alice"]
    assert sorted(p.name for p in small_course.iterdir()) == [
        "gradebook.db", "nbgrader_config.py", "release", "source", "submitted"]


def test_one_students_folder_and_one_submission_folder_are_imported(small_course, tmp_path):
    _clean(small_course)
    ann = tmp_path / "ann" / A
    ann.mkdir(parents=True)
    (ann / f"{A}.ipynb").write_bytes(intake._bytes(course.answers(course.FULL, small_course)))
    result = tool(small_course, "import", str(tmp_path / "ann"))
    assert result.returncode == 0 and "imported ann/" in result.stdout, result.stdout + result.stderr
    result = tool(small_course, "import", str(ann))
    assert result.returncode == 0 and "imported ann/" in result.stdout and "replaces the earlier import" in result.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    result = tool(small_course, "import", str(empty))
    assert result.returncode == 1
    assert "no submissions in it" in result.stderr and "<student>/<assignment>/<notebook>.ipynb" in result.stderr


def test_an_attempt_older_than_the_one_imported_is_refused(small_course, tmp_path):
    _clean(small_course)
    nb = intake._bytes(course.answers(course.FULL, small_course))
    for name, date in (("new.zip", intake.NEWER), ("old.zip", intake.OLDER)):
        with zipfile.ZipFile(tmp_path / name, "w") as zf:
            zf.writestr(zipfile.ZipInfo(f"ann_1_2_{A}.ipynb", date_time=date), nb)
    assert "imported ann/" in tool(small_course, "import", str(tmp_path / "new.zip")).stdout
    result = tool(small_course, "import", str(tmp_path / "old.zip"))
    assert "older (2026-11-19 08:00:00 UTC) than the submission already imported" in line_of(result.stderr, "ann")
    assert (small_course / "submitted" / "ann" / A / "timestamp.txt").read_text().startswith("2026-11-20 11:00")


def test_help_texts(small_course):
    release = tool(small_course, "release", "--help")
    assert release.returncode == 0 and "usage: python -m autograder.release" in release.stdout
    text = tool(small_course, "import", "--help").stdout
    for words in ("<student>_<anything>_<notebook>.ipynb", "timestamp.txt inside a student's upload is discarded",
                  "the newest by that time", "--max-notebook-mb", "--max-upload-mb", "--max-export-mb",
                  "--max-members", "--max-ratio", "not beginning with a dot"):
        assert words in text, words


# ---------------------------------------------------------------------------------------
# the sandbox's uids and the run folders


LEASE = """
import sys
sys.path.insert(0, {root!r})
from autograder import sandbox
print(sandbox.slot_uid(0), sandbox.slot_uid(1), flush=True)
sys.stdin.read()
"""


def _leaser():
    process = subprocess.Popen([sys.executable, "-c", LEASE.format(root=str(ROOT))], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    return process, set(map(int, process.stdout.readline().split()))


def test_two_runs_never_share_a_sandbox_uid():
    first, first_uids = _leaser()
    second, second_uids = _leaser()
    try:
        assert len(first_uids) == len(second_uids) == 2
        assert not first_uids & second_uids
    finally:
        first.kill()
        first.wait()
    third, third_uids = _leaser()
    try:
        assert third_uids == first_uids     # a dead run's uids are free again
    finally:
        for process in (second, third):
            process.kill()
            process.wait()


def test_the_cleaner_spares_a_live_runs_folder(tmp_path):
    sys.path.insert(0, str(ROOT))
    from autograder.grading import RunFolder, clean_stale_run_folders

    code = ("import os, sys\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            "from autograder.grading import RunFolder\n"
            f"folder = RunFolder({str(tmp_path)!r}).__enter__()\n"
            "os.kill(os.getpid(), 9)\n")
    subprocess.run([sys.executable, "-c", code], timeout=60)
    [dead] = list(tmp_path.glob("autograder-run-*"))
    with RunFolder(tmp_path) as live:
        assert not dead.exists()          # removed as the live run started
        assert clean_stale_run_folders(tmp_path) == []
        assert live.exists()
    assert not live.exists()
