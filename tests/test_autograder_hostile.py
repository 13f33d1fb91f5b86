"""Hostile and broken submissions graded in one run beside honest ones.

One class is graded once by the command-line tool (two workers, sandboxed, short
limits); each test then checks one promise: the honest students get exactly their
grades, every hostile case gets only what its code honestly earns and a report, and
nothing outside the scratch folders was touched.
"""
import hashlib
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.autograder_fixtures import course, hostile

pytestmark = pytest.mark.xdist_group("autograder")

ROOT = Path(__file__).resolve().parent.parent


def sandbox_or_skip():
    sys.path.insert(0, str(ROOT))
    from autograder.sandbox import SandboxUnavailable, check_available

    try:
        check_available()
    except SandboxUnavailable as exc:
        pytest.skip(f"the grading sandbox cannot run here: {exc}")


def tree_digest(folder):
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


class Listener:
    """A TCP server on the host's loopback that records every connection it gets."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stopped = True
        self.thread.join()
        self.sock.close()


def run_tool(root, *args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "autograder", "--config", str(root / "nbgrader_config.py"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


GRADE_ARGS = ("grade", "--workers", "2", "--cell-timeout", "8", "--notebook-timeout", "90",
              "--processes", "48", "--max-output-kb", "2048", "--quiet")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    sandbox_or_skip()
    root = course.make_course(tmp_path_factory.mktemp("hostile"))
    victim = root / "instructor-notes.txt"
    victim.write_text("the instructor's own file")
    listener = Listener()
    ctx = {"port": listener.port, "victim": str(victim)}
    hostile.submit_all(root, ctx)
    before = {name: tree_digest(root / name) for name in ("source", "release", "submitted")}
    before["victim"] = hashlib.sha256(victim.read_bytes()).hexdigest()
    try:
        result = run_tool(root, *GRADE_ARGS)
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr[-3000:]
    per_cell, totals = course.grades(root)
    return {"root": root, "result": result, "per_cell": per_cell, "totals": totals, "before": before,
            "victim": victim, "listener": listener}


@pytest.mark.parametrize("student", sorted(hostile.HONEST))
def test_honest_students_get_exactly_their_grades(graded, student):
    _, expected = hostile.HONEST[student]
    assert graded["per_cell"][student] == expected
    assert graded["totals"][student] == sum(expected.values())


@pytest.mark.parametrize("name", sorted(hostile.CASES))
def test_hostile_submission_gets_only_what_it_earns(graded, name):
    _, expected = hostile.CASES[name]
    student = name.replace("_", "-")
    got = graded["per_cell"][student]
    # a score for every grade cell (None would be "missing", to grade by hand)
    assert got == expected, f"{name}: {got}"


@pytest.mark.parametrize("name", sorted(hostile.MUST_FLAG | set(hostile.MUST_REPORT)))
def test_hostile_submission_is_reported(graded, name):
    student = name.replace("_", "-")
    out = graded["result"].stdout
    review = out.split("For review:", 1)[1]
    block = review.split(f"- {student}/{course.ASSIGNMENT}\n", 1)
    assert len(block) == 2, f"{student} is not on the review list:\n{review}"
    entry = block[1].split("\n- ", 1)[0]
    if name in hostile.MUST_FLAG:
        assert "flag:" in entry, entry
    if name in hostile.MUST_REPORT:
        assert hostile.MUST_REPORT[name] in entry, entry


def test_honest_students_are_not_on_the_review_list(graded):
    review = graded["result"].stdout.split("For review:", 1)[1]
    for student in hostile.HONEST:
        assert f"- {student}/" not in review


def test_nothing_outside_the_scratch_folders_changed(graded):
    root = graded["root"]
    for name in ("source", "release", "submitted"):
        assert tree_digest(root / name) == graded["before"][name], f"{name}/ was changed"
    assert hashlib.sha256(graded["victim"].read_bytes()).hexdigest() == graded["before"]["victim"]
    assert not os.path.exists("/usr/lib/evil")
    # the gradebook holds the class and nothing else
    students = set(hostile.HONEST) | {n.replace("_", "-") for n in hostile.CASES}
    assert set(graded["per_cell"]) == students


def test_no_connection_left_the_sandbox(graded):
    assert graded["listener"].connections == 0


def test_no_sandboxed_process_outlives_the_run(graded):
    # a kernel of a finished run still alive would hold a connection file in a scratch
    # folder that the run has since removed (a run going on elsewhere keeps its folders)
    leftovers = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or not 61000 <= proc.stat().st_uid < 61100:
                continue
            args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        scratch = [a for a in args if "/autograder-" in a]
        if scratch and not Path(scratch[0]).parent.exists():
            leftovers.append(" ".join(args))
    assert leftovers == []


def test_refuses_to_grade_without_the_sandbox(graded, tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no bwrap, setpriv or prlimit on PATH
    result = run_tool(graded["root"], "grade", "--quiet", env=env, timeout=120)
    assert result.returncode == 2
    assert "refusing to grade" in result.stderr and "--no-sandbox" in result.stderr
