"""The course's JupyterHub, started by the tests on 127.0.0.1 and taken down after.

One deployment serves the module: a fresh deployment folder (deploy/jupyterhub/hubctl.py
setup), Unix groups and accounts named after a random tag (an instructor, the students of
the browser test and of the load test), the hub run as root with the shared-password
authenticator on loopback, and nbgrader's exchange inside the folder. Afterwards the hub
is stopped (its proxy, the users' servers and the grading service with it), the accounts,
their home folders and the groups are deleted, and the folder removed.

Needs root (real accounts, grading in bubblewrap), bubblewrap, Debian's nodejs and npm
(configurable-http-proxy is installed into deploy/jupyterhub/node/ if it is missing) and
a Python that every account can run (Debian's python3-venv) for the users' environment,
which is built once and reused while the project's packages stay the same.
"""
import fcntl
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "jupyterhub"
HUBCTL = DEPLOY / "hubctl.py"
ARTIFACTS = ROOT / "test-artifacts" / "hub"
BROWSER_STUDENTS = 3
LOAD_STUDENTS = 30
STARTUP_SECONDS = 60


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing():
    if os.geteuid() != 0:
        return "the hub tests need root (real Unix accounts, the hub spawning servers as them, sandboxed grading)"
    for tool, package in (("bwrap", "bubblewrap"), ("npm", "npm"), ("node", "nodejs"), ("useradd", "passwd")):
        if shutil.which(tool) is None:
            return f"{tool} is missing: install Debian's {package} (make system-deps)"
    return None


class Hub:
    """A running deployment: its folder, URL, shared password, accounts, and the hub process."""

    def __init__(self, folder, tag):
        self.dir, self.tag = Path(folder), tag
        self.settings = json.loads((self.dir / "hub.json").read_text())
        self.url = f"http://127.0.0.1:{self.settings['port']}"
        self.password = (self.dir / "secrets" / "shared-password").read_text().strip()
        self.instructor = f"{tag}i"
        self.students = [f"{tag}s{i:02d}" for i in range(BROWSER_STUDENTS)]
        self.load_students = [f"{tag}l{i:02d}" for i in range(LOAD_STUDENTS)]
        self.course = self.dir / "course"
        self.config = self.course / "autograder" / "nbgrader_config.py"
        self.exchange = self.dir / "exchange" / self.settings["course_id"]
        self.process = None
        self.log = self.dir.parent / f"{self.dir.name}-hub.log"

    def hubctl(self, *args, **kwargs):
        return subprocess.run([sys.executable, str(HUBCTL), "--dir", str(self.dir), *args], check=True,
                              capture_output=True, text=True, **kwargs)

    def start(self):
        with open(self.log, "a") as out:
            self.process = subprocess.Popen([sys.executable, str(HUBCTL), "--dir", str(self.dir), "start"],
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the hub exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/hub/api/", timeout=5) as response:
                    json.loads(response.read())
                if self.service_pid():
                    return
            except OSError:
                pass
            time.sleep(0.3)
        pytest.fail(f"the hub did not answer within {STARTUP_SECONDS} s:\n{self.log_tail()}")

    def stop(self):
        """SIGTERM to the hub, which stops its proxy, the users' servers and the service."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def release_as_instructor(self, assignment):
        """nbgrader release_assignment, run by the instructor's account (as the formgrader does)."""
        venv = Path(self.settings["venv"]) / "bin"
        subprocess.run(["runuser", "-u", self.instructor, "--", "env", f"HOME=/home/{self.instructor}",
                        f"JUPYTER_CONFIG_PATH={self.dir / 'etc' / 'instructor'}", f"PATH={venv}:/usr/bin:/bin",
                        str(venv / "nbgrader"), "release_assignment", assignment], check=True, capture_output=True,
                       cwd="/")

    def wait_for_grading(self, seconds=300):
        """Wait until no command of the grading service runs (they hold its lock to the end)."""
        path = self.dir / "service" / "lock"
        if not path.exists():
            return
        with open(path) as lock:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(lock, fcntl.LOCK_UN)
                    return
                except BlockingIOError:
                    time.sleep(0.5)

    def service_pid(self):
        """The pid of the running grading service, from its "started" events."""
        events = self.events()
        started = [e for e in events if e["event"] == "started"]
        if not started:
            return None
        pid = started[-1]["pid"]
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def events(self):
        path = self.dir / "service" / "events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def log_tail(self, lines=60):
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        grading = self.dir / "service" / "grading.log"
        if grading.exists():
            text += "\n--- grading.log ---\n" + grading.read_text(errors="replace")[-6000:]
        return "\n".join(text.splitlines()[-lines:])


def _end_processes_of(users):
    """Processes still running as the test's own accounts (started by this hub): ended by pid."""
    uids = set()
    for name in users:
        try:
            uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            pass
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid in uids:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _reap_stale():
    """Take down what an earlier run of these tests left when it was killed before its
    teardown: its hub (stopped by the pid in its pid file, which stops the proxy, the servers
    and the service), its accounts, groups and folder. A run is stale when the pytest process
    named in its owner.json is gone, or, without owner.json, when its folder is over 10 minutes old."""
    for folder in Path(tempfile.gettempdir()).glob("rnn-hub-rh*-*"):
        owner = folder / "owner.json"
        try:
            if owner.exists():
                if _alive(json.loads(owner.read_text())["pid"]):
                    continue
            elif time.time() - folder.stat().st_mtime < 600:
                continue
            settings = json.loads((folder / "deployment" / "hub.json").read_text())
        except (OSError, ValueError, KeyError):
            shutil.rmtree(folder, ignore_errors=True)
            continue
        pidfile = folder / "deployment" / "hub" / "jupyterhub.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().strip() or 0)
            if pid and _alive(pid):
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 30
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.3)
        users = set()
        for role in ("students", "instructors"):
            try:
                users.update(grp.getgrnam(settings[f"{role}_group"]).gr_mem)
            except KeyError:
                pass
        _end_processes_of(users)
        for name in users:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        for role in ("students", "instructors"):
            subprocess.run(["groupdel", settings[f"{role}_group"]], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def hub():
    why = _missing()
    if why:
        pytest.skip(why)
    _reap_stale()
    started = time.monotonic()
    proxy = DEPLOY / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(DEPLOY / "node")], check=True,
                       capture_output=True)
    subprocess.run([sys.executable, str(HUBCTL), "build-env"], check=True, capture_output=True)
    tag = "rh" + secrets.token_hex(3)
    folder = Path(tempfile.mkdtemp(prefix=f"rnn-hub-{tag}-"))
    os.chmod(folder, 0o755)
    (folder / "owner.json").write_text(json.dumps({"pid": os.getpid()}))
    deployment = folder / "deployment"
    subprocess.run([sys.executable, str(HUBCTL), "--dir", str(deployment), "setup", "--group-prefix", tag,
                    "--port", str(_free_port()), "--api-port", str(_free_port()), "--hub-port", str(_free_port()),
                    "--auth", "shared"], check=True, capture_output=True)
    server = Hub(deployment, tag)
    users = [server.instructor, *server.students, *server.load_students]
    try:
        server.hubctl("add-instructor", server.instructor)
        server.hubctl("add-student", *server.students, *server.load_students)
        server.start()
        server.setup_seconds = time.monotonic() - started
        yield server
    finally:
        server.stop()
        server.wait_for_grading()
        _end_processes_of(users)
        for name in users:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        for group in (server.settings["students_group"], server.settings["instructors_group"]):
            try:
                grp.getgrnam(group)
                subprocess.run(["groupdel", group], capture_output=True)
            except KeyError:
                pass
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name in ("events.jsonl", "grading.log"):
            if (deployment / "service" / name).exists():
                shutil.copy2(deployment / "service" / name, ARTIFACTS / name)
        if server.log.exists():
            shutil.copy2(server.log, ARTIFACTS / "hub.log")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(chromium):
    """The session's Chromium (tests/conftest.py): one Playwright per process, shared with the browser tests."""
    return chromium


@pytest.fixture(scope="module")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
