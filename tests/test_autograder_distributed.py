"""Grading across machines: Celery workers over a real Redis, started here on loopback.

The workers are separate processes, each with its own scratch folder and working
directory; they share no files with the course root (the course travels in the jobs).
Each test checks one promise: the grades equal serial ``nbgrader autograde``'s, cell by
cell; workers and the coordinator killed with SIGKILL at any moment lose no grade and
count none twice; a worker that fails its canary grades nothing and is named.
"""
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.autograder_fixtures import course, hostile
from tests.test_autograder_cycle import VENV_BIN, gradebook_rows, journal_count, submit_equivalence_class
from tests.test_autograder_hostile import run_tool, sandbox_or_skip

pytestmark = pytest.mark.xdist_group("autograder")

ROOT = Path(__file__).resolve().parent.parent
VISIBILITY = 8      # seconds before the task of a killed worker goes back to the queue


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A password-protected redis-server on 127.0.0.1, for this module only: (host:port, password)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; make system-deps)")
    sandbox_or_skip()
    folder = tmp_path_factory.mktemp("redis")
    port, password = _free_port(), secrets.token_hex(12)
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--requirepass", password,
         "--save", "", "--appendonly", "no", "--dir", str(folder), "--databases", "8"],
        stdout=open(folder / "redis.log", "w"), stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, password=password)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert process.poll() is None and time.monotonic() < deadline, (folder / "redis.log").read_text()
            time.sleep(0.1)
    try:
        yield f"127.0.0.1:{port}", password
    finally:
        process.terminate()
        process.wait(timeout=30)


class Workers:
    """`python -m autograder worker` processes, each in a folder of its own under ``base``."""

    def __init__(self, address, password, db, base):
        self.url = f"redis://{address}/{db}"     # the password comes from the environment
        self.password = password
        self.base = Path(base)
        self.processes = {}

    def start(self, name, env=None):
        folder = self.base / name
        folder.mkdir(parents=True, exist_ok=True)
        environment = dict(os.environ, PYTHONPATH=str(ROOT), AUTOGRADER_BROKER_PASSWORD=self.password,
                           PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {}))
        log = open(folder / "worker.log", "a")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "autograder", "worker", "--broker", self.url, "--name", name,
             "--scratch", str(folder / "scratch"), "--visibility-timeout", str(VISIBILITY)],
            cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill(self, name):
        """SIGKILL to the worker and its pool, at whatever it is doing."""
        process = self.processes.pop(name)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def stop(self):
        for name in list(self.processes):
            self.kill(name)

    def logs(self):
        return "\n".join(f"--- {p.name}:\n{p.read_text()[-3000:]}" for p in sorted(self.base.glob("*/worker.log")))


@pytest.fixture
def workers(redis_server, tmp_path, request):
    """Workers on a database of their own (flushed first); all killed after the test."""
    import redis

    address, password = redis_server
    db = 1 + len(request.node.name) % 7
    host, port = address.split(":")
    redis.Redis(host=host, port=int(port), password=password, db=db).flushdb()
    pool = Workers(address, password, db, tmp_path / "workers")
    pool.coordinator_url = f"redis://:{password}@{address}/{db}"
    try:
        yield pool
    finally:
        pool.stop()


def grade(root, workers, *extra, timeout=600):
    return run_tool(root, "grade", "--broker", workers.coordinator_url, "--workers", "2", "--quiet", *extra,
                    timeout=timeout)


def test_grades_identical_to_serial_nbgrader(tmp_path, workers):
    serial = course.make_course(tmp_path / "serial")
    ours = course.make_course(tmp_path / "ours")
    submit_equivalence_class(serial)
    submit_equivalence_class(ours)
    workers.start("w1")
    workers.start("w2")
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    stock = subprocess.run([str(VENV_BIN / "nbgrader"), "autograde", course.ASSIGNMENT, "--force"],
                           cwd=serial, capture_output=True, text=True, timeout=600, env=env)
    assert stock.returncode == 0, stock.stderr[-2000:]
    result = grade(ours, workers)
    assert result.returncode == 0, result.stderr[-2000:] + workers.logs()
    expected, got = gradebook_rows(serial), gradebook_rows(ours)
    assert got[0] == expected[0]        # grades, cell by cell
    assert got[1] == expected[1]        # nbgrader's automatic comments
    assert got[2] == expected[2]        # late penalties
    assert "graded by: w1@" in result.stdout or "graded by: w2@" in result.stdout
    # the executed notebooks came back to the coordinator, where nbgrader's feedback finds them
    assert run_tool(ours, "feedback").returncode == 0
    assert (ours / "feedback" / "alice" / course.ASSIGNMENT / f"{course.ASSIGNMENT}.html").exists()


def _descendants(pid):
    """The command lines of the processes below ``pid``."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            out.append(Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            pass
        todo += children.get(child, [])
    return out


class Chaos(threading.Thread):
    """Kills a worker with SIGKILL at random moments, most often one running a kernel, and starts it
    again; ``allow(n)`` lets it kill n more times."""

    def __init__(self, workers, names, seed):
        super().__init__(daemon=True)
        self.workers, self.names = workers, names
        self.random = random.Random(seed)
        self.kills = self.busy_kills = self.budget = 0
        self.done = threading.Event()

    def allow(self, kills):
        self.budget += kills

    def busy(self, name):
        process = self.workers.processes.get(name)
        return process is not None and any("bwrap" in c for c in _descendants(process.pid))

    def run(self):
        while not self.done.wait(self.random.uniform(2.0, 6.0)):
            if self.kills >= self.budget:
                continue
            busy = [n for n in self.names if self.busy(n)]
            name = self.random.choice(busy if busy and self.random.random() < 0.8 else self.names)
            self.busy_kills += name in busy
            self.workers.kill(name)
            self.kills += 1
            self.done.wait(self.random.uniform(0.5, 2.0))
            self.workers.start(name)

    def stop(self):
        self.done.set()
        self.join(timeout=60)


def test_workers_and_coordinator_killed_lose_and_double_nothing(tmp_path, workers):
    root = course.make_course(tmp_path / "crash")
    answers = [course.FULL, course.PARTIAL, course.WRONG]
    students = [f"s{i}" for i in range(9)]
    for i, student in enumerate(students):
        course.submit(root, student, course.answers(answers[i % 3], root))
    names = ["w1", "w2", "w3"]
    for name in names:
        workers.start(name)
    chaos = Chaos(workers, names, seed=os.getpid())
    chaos.allow(2)
    chaos.start()
    try:
        coordinator = subprocess.Popen(
            [sys.executable, "-m", "autograder", "--config", str(root / "nbgrader_config.py"), "grade",
             "--broker", workers.coordinator_url, "--workers", "2", "--quiet"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 300
        while journal_count(root) < 2 and coordinator.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert coordinator.poll() is None, "the run ended before it could be killed"
        killed_at = journal_count(root)
        os.killpg(coordinator.pid, signal.SIGKILL)
        coordinator.wait()
        assert 2 <= killed_at < len(students)

        chaos.allow(2)
        result = grade(root, workers)
    finally:
        chaos.stop()
    assert result.returncode == 0, result.stderr[-2000:] + workers.logs()
    assert chaos.busy_kills >= 2, f"no worker was killed while grading ({chaos.kills} kills in all)"
    assert "not graded" not in result.stdout
    assert journal_count(root) == len(students)
    per_cell, totals = course.grades(root)
    expected = {s: sum(hostile.HONEST[["alice", "bob", "carol"][i % 3]][1].values())
                for i, s in enumerate(students)}
    assert totals == expected
    assert per_cell == {s: hostile.HONEST[["alice", "bob", "carol"][i % 3]][1] for i, s in enumerate(students)}
    grades, _, _ = gradebook_rows(root)
    assert len(grades) == 2 * len(students) and len({(s, c) for s, c, *_ in grades}) == len(grades)

    # once more: nothing is graded again
    again = grade(root, workers)
    assert f"0 submissions graded, {len(students)} already in the journal" in again.stdout


def broken_kernelspec(folder):
    """A Jupyter path whose python3 kernel exits at once: a worker machine with a broken install."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["python", "-c", "raise SystemExit(3)", "-f", "{connection_file}"],
        "display_name": "Python 3 (broken)", "language": "python"}))
    return folder


def test_a_worker_that_fails_its_canary_grades_nothing_and_is_named(tmp_path, workers):
    root = course.make_course(tmp_path / "c")
    answers = [course.FULL, course.PARTIAL, course.WRONG]
    students = [f"s{i}" for i in range(5)]
    for i, student in enumerate(students):
        course.submit(root, student, course.answers(answers[i % 3], root))
    broken = {"JUPYTER_PATH": str(broken_kernelspec(tmp_path / "jupyter"))}

    # a broken worker alone: the run's own canary fails on it, and names it
    workers.start("broken", env=broken)
    refused = grade(root, workers)
    assert refused.returncode == 3, refused.stdout[-2000:] + refused.stderr[-2000:]
    assert "no student was graded" in refused.stderr and "on worker broken@" in refused.stderr
    assert journal_count(root) == 0
    workers.kill("broken")

    # the run's canary passes on a healthy worker, which is then replaced by the broken one:
    # the broken worker's own canary fails, so it grades nothing, and is named
    workers.start("healthy")
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "autograder", "--config", str(root / "nbgrader_config.py"), "grade",
         "--broker", workers.coordinator_url, "--workers", "1", "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while journal_count(root) < 1 and coordinator.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers.kill("healthy")
    workers.start("broken", env=broken)
    out, err = coordinator.communicate(timeout=300)
    assert coordinator.returncode == 0, err[-2000:] + workers.logs()
    ungraded = out.count("(not graded: the machinery failed)")
    assert ungraded >= 1, out
    assert "on worker broken@" in out and "failed its canary" in out
    assert re.search(r"^worker broken@\S+: the grading machinery failed \d+ times", out, re.M)
    _, totals = course.grades(root)     # the submissions not graded have no row at all
    expected = {s: sum(hostile.HONEST[["alice", "bob", "carol"][i % 3]][1].values())
                for i, s in enumerate(students)}
    assert journal_count(root) == len(totals) == len(students) - ungraded
    assert totals == {s: expected[s] for s in totals}

    # a healthy worker grades the rest on the next run
    workers.kill("broken")
    workers.start("healthy")
    third = grade(root, workers)
    assert third.returncode == 0, third.stderr[-2000:] + workers.logs()
    assert f"{ungraded} submissions graded, {len(students) - ungraded} already in the journal" in third.stdout
    _, totals = course.grades(root)
    assert totals == expected


def test_broker_refusals(tmp_path):
    root = course.make_course(tmp_path / "c")
    port = _free_port()
    down = run_tool(root, "grade", "--broker", f"redis://127.0.0.1:{port}/0", timeout=120)
    assert down.returncode == 2 and "does not answer" in down.stderr
    wrong = run_tool(root, "grade", "--broker", "amqp://127.0.0.1/", timeout=120)
    assert wrong.returncode == 2 and "the broker is Redis" in wrong.stderr
    both = run_tool(root, "grade", "--broker", f"redis://127.0.0.1:{port}/0", "--no-sandbox", timeout=120)
    assert both.returncode == 2 and "--no-sandbox does not apply" in both.stderr
