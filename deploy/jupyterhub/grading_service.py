"""Grading on submit: the hub-managed service that grades each submission as it arrives.

JupyterHub starts it as root (and starts it again if it exits). It watches the course's
inbound folder of nbgrader's exchange; whatever has arrived for an assignment is one batch:

    nbgrader collect --update A                              the latest submission of each student
    python -m autograder grade --assignment A --student S..  sandboxed, --workers 2
    python -m autograder feedback --assignment A --student S each graded student (no hidden tests' source)
    nbgrader release_feedback A                              the students' Assignment List fetches it

(collect and release_feedback through nbgrader's exchange classes, in the service's process.)

Submissions that arrive while a batch is graded form the next batch (up to MAX_BATCH
students), so a burst is graded several at a time. The instructor turns grading on submit
off for an assignment with `hubctl.py autograde off A` (its submissions then wait in
inbound, for nbgrader collect or for grading on submit to be turned on again), and
regrades with `hubctl.py regrade A`.

State, in <deployment>/service/ (root only):
    state.json     the inbound entries already dealt with, and the last grading seen per submission
    events.jsonl   one line per event: started, batch, graded, released, superseded, refused, failed
    grading.log    what nbgrader and the grader printed

Nothing is lost when the service or the hub is killed: an entry counts as dealt with only
once its feedback is in the exchange, and the grader's journal skips a submission whose
files it has graded already, so a batch started again grades nothing twice. A lock held by
the service and by the command it runs keeps a second copy from grading at the same time;
a command under way when the service stops finishes its batch, and the next service waits
for it. The process the hub starts is a supervisor that restarts the worker at once.
"""
import argparse
import fcntl
import grp
import json
import logging
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hubctl import DEFAULT_DIR, Hub  # noqa: E402

MAX_ATTEMPTS = 3
# Students in one batch at most: a longer queue waits for the next batch, so that the first
# to submit in a burst get their feedback before the whole burst is graded.
MAX_BATCH = 10
SETTLE_SECONDS = 2.0
# `python -m autograder feedback` once per student, in one process: argv is config, assignment, students.
FEEDBACK_EACH = """import sys
from autograder.cli import main
config, assignment, *students = sys.argv[1:]
failed = [s for s in students if main(["--config", config, "feedback", "--assignment", assignment, "--student", s])]
sys.exit(1 if failed else 0)
"""


class Entry:
    """A folder of the exchange's inbound: <student>+<assignment>+<timestamp>+<random>."""

    def __init__(self, path):
        self.path, self.name = path, path.name
        parts = self.name.split("+")
        self.student, self.assignment = parts[0], parts[1] if len(parts) > 1 else ""
        self.timestamp = parts[2] if len(parts) > 2 else ""

    def ready(self):
        """nbgrader submit makes the folder 0777 as its last step in inbound."""
        try:
            return ((self.path.stat().st_mode & 0o777) == 0o777 and (self.path / "timestamp.txt").exists()
                    and (self.path / "submission_secret.txt").exists())
        except OSError:
            return False


class Service:
    def __init__(self, hub, poll_seconds=1.0):
        self.hub, self.poll = hub, poll_seconds
        self.settings = hub.settings
        self.course_id = self.settings["course_id"]
        self.python = self.settings["python"]
        self.autograder_dir = hub.course / "autograder"
        self.state_file = hub.service / "state.json"
        self.events_file = hub.service / "events.jsonl"
        self.log = open(hub.service / "grading.log", "a", buffering=1)
        self.child = None
        self.stopping = False
        self.waiting = False
        self.max_batch = int(self.settings.get("max_batch", MAX_BATCH))
        self.state = {"done": {}, "attempts": {}, "graded": {}, "verified": {}}
        if self.state_file.exists():
            self.state.update(json.loads(self.state_file.read_text()))

    # -- bookkeeping ------------------------------------------------------------------------

    def save(self):
        tmp = self.state_file.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(self.state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_file)

    def event(self, kind, **fields):
        line = json.dumps({"event": kind, "at": time.time(), **fields})
        with open(self.events_file, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.log.write(line + "\n")

    def note_graded(self):
        """Record a "graded" event for every autograded submission written since last seen.

        The grader rewrites autograded/<student>/<assignment>/*.ipynb when it grades a
        submission; a run killed after grading some is accounted for by the next call.
        """
        root = self.hub.course / "autograder" / "autograded"
        for folder in sorted(root.glob("*/*")) if root.is_dir() else []:
            notebooks = list(folder.glob("*.ipynb"))
            if not notebooks:
                continue
            mark = max(p.stat().st_mtime_ns for p in notebooks)
            key = f"{folder.parent.name}/{folder.name}"
            if self.state["graded"].get(key) != mark:
                self.state["graded"][key] = mark
                self.event("graded", student=folder.parent.name, assignment=folder.name,
                           timestamp=_read(folder / "timestamp.txt"))
        self.save()

    # -- running a command --------------------------------------------------------------------

    def run(self, cmd, cwd):
        self.log.write(f"$ {' '.join(cmd)}\n")
        env = self.hub.env()
        # The command holds the service's lock (the inherited descriptor) until it ends, in its
        # own session: a service stopped or killed meanwhile leaves it to finish its batch, and
        # the next service waits for the lock before it looks at anything.
        self.child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                      start_new_session=True, pass_fds=(self.lock.fileno(),))
        try:
            return self.child.wait()
        finally:
            self.child = None

    def stop(self, *_):
        """SIGTERM or SIGINT: stop looking for work; a command under way is left to finish."""
        self.stopping = True
        if self.child is not None or self.waiting:
            raise SystemExit(0)

    # -- the loop -------------------------------------------------------------------------------

    def serve(self):
        os.umask(0o002)  # the course root is shared by the instructors' group
        self.lock = open(self.hub.service / "lock", "w")
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.event("started", pid=os.getpid())
        self.waiting = True  # for a command of the previous service, which may still run
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.waiting = False
        try:
            self.note_graded()
            while not self.stopping:
                worked = self.requests()
                pending = self.pending()
                if pending:
                    time.sleep(SETTLE_SECONDS)  # submissions a moment apart go in one batch
                    pending = self.pending()
                for assignment, entries in pending.items():
                    if self.stopping:
                        break
                    self.batch(assignment, entries)
                    worked = True
                if not worked:
                    time.sleep(self.poll)
        finally:
            self.event("stopped", pid=os.getpid())

    def pending(self):
        """The ready inbound entries not yet dealt with, by assignment (autograde on only)."""
        inbound = self.hub.inbound
        off = self.hub.autograde_off()
        known = set(self.hub.assignments())
        out = {}
        for path in sorted(inbound.iterdir()) if inbound.is_dir() else []:
            entry = Entry(path)
            if entry.name in self.state["done"]:
                continue
            if entry.name not in self.state["verified"] and not entry.ready():
                continue
            if entry.assignment not in known:
                self.finish(entry, "refused", reason=f"no assignment {entry.assignment!r} in this course")
                continue
            if entry.name not in self.state["verified"] and not self.verify(entry):
                continue
            if entry.assignment in off:
                continue
            batch = out.setdefault(entry.assignment, [])
            if len({e.student for e in batch} | {entry.student}) <= self.max_batch:
                batch.append(entry)
        return out

    def verify(self, entry):
        """Check who submitted, then take the entry out of everyone's reach but root's and the
        instructors' (nbgrader leaves a submission readable by anyone who knows its name)."""
        path = entry.path
        try:
            owner = pwd.getpwuid(path.stat().st_uid).pw_name
        except KeyError:
            owner = str(path.stat().st_uid)
        if owner != entry.student:
            # Someone submitting in another's name: moved out of inbound before nbgrader
            # collect could take it as that student's latest submission.
            quarantine = self.hub.course / "autograder" / "quarantine"
            quarantine.mkdir(exist_ok=True)
            shutil.move(str(path), quarantine / entry.name)
            self.finish(entry, "refused", reason=f"named {entry.student} but owned by {owner}")
            return False
        gid = grp.getgrnam(self.settings["instructors_group"]).gr_gid
        for folder, dirs, files in os.walk(path):
            os.chown(folder, 0, gid)
            os.chmod(folder, 0o2770)
            for name in files:
                os.chown(os.path.join(folder, name), 0, gid)
                os.chmod(os.path.join(folder, name), 0o660)
        self.state["verified"][entry.name] = owner
        self.save()
        return True

    def finish(self, entry, status, **fields):
        self.state["done"][entry.name] = status
        self.state["attempts"].pop(entry.name, None)
        self.state["verified"].pop(entry.name, None)
        self.save()
        self.event(status, entry=entry.name, student=entry.student, assignment=entry.assignment, **fields)

    def batch(self, assignment, entries):
        started = time.time()
        students = sorted({e.student for e in entries})
        self.event("batch", assignment=assignment, students=students)
        ok = self.grade_and_release(assignment, students, force=False)
        submitted = self.hub.course / "autograder" / "submitted"
        for entry in entries:
            current = _read(submitted / entry.student / assignment / "timestamp.txt")
            if current is not None and current != entry.timestamp and _newer(current, entry.timestamp):
                self.finish(entry, "superseded", by=current)
            elif current == entry.timestamp and self.released(entry.student, assignment):
                self.finish(entry, "released", submitted=_epoch(entry.timestamp),
                            seconds=time.time() - _epoch(entry.timestamp))
            else:
                attempts = self.state["attempts"].get(entry.name, 0) + 1
                self.state["attempts"][entry.name] = attempts
                self.save()
                if attempts >= MAX_ATTEMPTS:
                    self.finish(entry, "failed", reason="no feedback after "
                                f"{attempts} attempts; see {self.hub.service / 'grading.log'}")
        self.event("batch done", assignment=assignment, students=students, ok=ok, seconds=time.time() - started)

    def grade_and_release(self, assignment, students, force):
        """collect, grade, feedback, release_feedback; False if a step failed."""
        config = str(self.hub.config)
        steps_ok = self.exchange("collect", assignment)
        self.note_graded()
        if self.stopping:
            return False
        cmd = [self.python, "-m", "autograder", "--config", config, "grade", "--assignment", assignment,
               "--workers", str(self.settings.get("workers", 2)), "--quiet"]
        for student in students:
            cmd += ["--student", student]
        if force:
            cmd.append("--force")
        steps_ok &= self.run(cmd, cwd=self.settings["repo"]) == 0
        self.note_graded()
        course = self.hub.course / "autograder"
        graded = []
        for student in students:
            submitted = course / "submitted" / student / assignment
            autograded = course / "autograded" / student / assignment
            stamp = _read(submitted / "timestamp.txt")
            if stamp is None or stamp != _read(autograded / "timestamp.txt"):
                continue
            # nbgrader's release_feedback names a student's feedback by the secret of the
            # submission; generate_feedback copies it from autograded/ into feedback/.
            secret = submitted / "submission_secret.txt"
            if secret.exists():
                shutil.copyfile(secret, autograded / "submission_secret.txt")
            graded.append(student)
        if graded and not self.stopping:
            # `python -m autograder feedback --assignment A --student S` for each graded student,
            # one interpreter for the batch (the command takes one --student)
            steps_ok &= self.run([self.python, "-c", FEEDBACK_EACH, config, assignment, *graded],
                                 cwd=self.settings["repo"]) == 0
        if graded and not self.stopping:
            steps_ok &= self.exchange("release_feedback", assignment)
        return steps_ok

    def exchange(self, step, assignment):
        """nbgrader's collect --update or release_feedback for the assignment, in this process
        (the course's configuration read afresh each time)."""
        from nbgrader.auth import Authenticator
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.exchange import ExchangeError
        from nbgrader.exchange.default import ExchangeCollect, ExchangeReleaseFeedback
        from traitlets.config.loader import PyFileConfigLoader

        self.log.write(f"$ nbgrader {step} {assignment}\n")
        try:
            config = PyFileConfigLoader(self.hub.config.name, path=str(self.hub.config.parent)).load_config()
            coursedir = CourseDirectory(config=config)
            coursedir.assignment_id = assignment
            cls = ExchangeCollect if step == "collect" else ExchangeReleaseFeedback
            app = cls(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
            if step == "collect":
                app.update = True
                app.check_owner = False  # checked by verify(), which made root the owner
            handler = logging.StreamHandler(self.log)
            handler.setLevel(logging.INFO)
            app.log.handlers[:] = [handler]
            app.log.setLevel(logging.INFO)
            app.start()
            return True
        except (ExchangeError, OSError) as exc:
            self.log.write(f"nbgrader {step} {assignment} failed: {exc}\n")
            return False

    def released(self, student, assignment):
        """Every notebook's feedback of the student's collected submission is in the exchange."""
        from nbgrader.utils import notebook_hash

        feedback = self.hub.course / "autograder" / "feedback" / student / assignment
        secret = _read(feedback / "submission_secret.txt")
        stamp = _read(feedback / "timestamp.txt")
        submitted = _read(self.hub.course / "autograder" / "submitted" / student / assignment / "timestamp.txt")
        pages = sorted(feedback.glob("*.html"))
        if secret is None or stamp != submitted or not pages:
            return False
        outbound = self.hub.exchange / self.course_id / "feedback"
        return all((outbound / f"{notebook_hash(secret=secret, notebook_id=p.stem)}.html").exists() for p in pages)

    def requests(self):
        """Regrades asked for with `hubctl.py regrade`; True if there was one."""
        folder = self.hub.requests
        names = sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []
        for name in names:
            path = folder / name
            try:
                request = json.loads(path.read_text())
                assignment, students = request["assignment"], list(request.get("students") or [])
            except (OSError, ValueError, KeyError) as exc:
                self.answer(path, False, f"unreadable request {name}: {exc}")
                continue
            if assignment not in self.hub.assignments():
                self.answer(path, False, f"no assignment {assignment!r}")
                continue
            if not students:
                submitted = self.hub.course / "autograder" / "submitted"
                students = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())
            started = time.time()
            ok = self.grade_and_release(assignment, students, force=True) if students else True
            if self.stopping:
                return True
            released = [s for s in students if self.released(s, assignment)]
            self.event("regraded", assignment=assignment, students=students, released=released,
                       by=request.get("by"), seconds=time.time() - started)
            self.answer(path, ok and len(released) == len(students),
                        f"{assignment}: {len(released)} of {len(students)} submissions regraded and their "
                        f"feedback released, in {time.time() - started:.0f} s")
        return bool(names)

    def answer(self, path, ok, message):
        done = path.parent / "done"
        done.mkdir(exist_ok=True)
        tmp = done / f".{path.name}"
        tmp.write_text(json.dumps({"ok": ok, "message": message}))
        os.replace(tmp, done / path.name)
        path.unlink(missing_ok=True)


def _read(path):
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _epoch(stamp):
    from nbgrader.utils import parse_utc

    return parse_utc(stamp).timestamp()


def _newer(a, b):
    try:
        return _epoch(a) > _epoch(b)
    except Exception:
        return False


def supervise(args):
    """The process JupyterHub manages: it runs the worker (``--worker``) and starts it again
    within a second if it dies; JupyterHub itself would notice only at its next poll."""
    state = {"stopping": False, "child": None}

    def stop(signum, _frame):
        state["stopping"] = True
        if state["child"] is not None:
            state["child"].send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--dir", args.dir, "--poll", str(args.poll), "--worker"]
    while not state["stopping"]:
        state["child"] = subprocess.Popen(cmd)
        code = state["child"].wait()
        if not state["stopping"]:
            print(f"grading service: the worker exited with code {code}; starting it again", file=sys.stderr)
            time.sleep(1)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", default=os.environ.get("HUB_DIR", DEFAULT_DIR), help="the deployment folder")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between looks at inbound (default: 1)")
    p.add_argument("--worker", action="store_true", help="be the worker (the supervisor starts it)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("the grading service runs as root: the grader sandboxes each kernel under its own uid")
    if not args.worker:
        return supervise(args)
    Service(Hub(args.dir), args.poll).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
