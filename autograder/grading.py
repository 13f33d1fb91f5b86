"""Parallel, sandboxed autograding into nbgrader's gradebook.

nbgrader autogrades a notebook in two passes of preprocessors: *sanitize* (ClearOutput,
DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata: restore what
the student must not change, from the gradebook's copy of the source) and *autograde*
(Execute, then IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
AssignLatePenalties). This module runs the same preprocessors, split three ways:

    parent   sanitize a submission's notebooks                 (no student code runs)
    workers  Execute them, N at a time, the kernel sandboxed   (execute.py, sandbox.py)
    parent   score them and write the gradebook                (the only writer)

The parent writes a submission's grades, comments, late penalties and its journal row
(journal.py) in one transaction, after the executed notebooks are on disk, so a run
killed at any point and started again finishes the class with every grade once.
"""
import concurrent.futures
import copy
import ctypes
import dataclasses
import fcntl
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
import warnings
from pathlib import Path

import nbformat
import nbformat.warnings
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, IgnorePattern,
                                    LimitOutput, OverwriteCells, OverwriteKernelspec)

from . import canary, journal, repair, scan, seal
from .execute import cell_kind, error_output, execute
from .sandbox import Limits, prepare_scratch

SANITIZE = (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata)
AFTER_EXECUTE = (IgnorePattern, ClearMetadataPreprocessor, LimitOutput)
LARGEST_NOTEBOOK = 32 * 1024 * 1024
MACHINERY_TRIES = 2   # a notebook whose grading machinery failed is run once more before it is reported


@dataclasses.dataclass
class Job:
    student: str
    assignment: str
    notebook: str
    sanitized: Path
    executed: Path
    scratch: Path
    source: Path = None      # the instructor's source notebook, whose grade cells the worker runs
    sealed: Path = None      # the sealed copy of rnnkit the kernel gets (seal.py)
    tries: int = 0


@dataclasses.dataclass
class Outcome:
    """One graded submission: a row of the summary table."""
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    problems: list = dataclasses.field(default_factory=list)
    flags: list = dataclasses.field(default_factory=list)
    skipped: bool = False
    ungraded: bool = False   # the grading machinery failed: nothing recorded, a rerun grades it


# ---------------------------------------------------------------------------------------
# the gradebook's view of the course


def ensure_assignment(config, coursedir, assignment):
    """Register the assignment's source notebooks in the gradebook if they are not there.

    nbgrader's generate_assignment does it, releasing into a throwaway folder so that the
    committed release is not touched.
    """
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            if gb.find_assignment(assignment).notebooks:
                return
        except MissingEntry:
            pass
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    with tempfile.TemporaryDirectory(prefix="autograder-release-") as tmp:
        cfg = config.copy()
        cfg.CourseDirectory.release_directory = tmp
        cfg.CourseDirectory.assignment_id = assignment
        converter = GenerateAssignment(coursedir=CourseDirectory(config=cfg), config=cfg)
        converter.force = True
        converter.log.setLevel("WARNING")
        converter.start()


def submissions(coursedir, students=None, assignments=None):
    """(student, assignment, folder) of every submission in submitted/, sorted.

    Folders whose names are not valid ids (collect.ID_RULE: hidden folders, ``.``,
    ``..``) and links are not submissions; ``import`` never makes them.
    """
    from .collect import valid_id

    root = Path(coursedir.root) / coursedir.submitted_directory
    out = []
    if not root.is_dir():
        return out
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        if not valid_id(student_dir.name) or (students and student_dir.name not in students):
            continue
        for folder in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.is_symlink()):
            if not valid_id(folder.name) or (assignments and folder.name not in assignments):
                continue
            out.append((student_dir.name, folder.name, folder))
    return out


def read_timestamp(folder):
    """(submission time, None), (None, None) without timestamp.txt, or (None, why) for a bad one.

    The time is the one ``import`` wrote into timestamp.txt (from the LMS export or the
    collected folder, never from the student's upload); it is read here without
    nbgrader's CourseDirectory, which stops the whole run on a bad one.
    """
    path = Path(folder) / "timestamp.txt"
    if not path.is_file() or path.is_symlink():
        return None, None
    text = path.read_bytes()[:200].decode("utf-8", "replace").strip()
    if not text:
        return None, None
    try:
        return utils.parse_utc(text), None
    except (ValueError, OverflowError, TypeError) as exc:
        return None, (f"timestamp.txt says {text[:40]!r}, which is not a time ({type(exc).__name__}); "
                      "graded without a submission time, so without a late penalty "
                      "(import the submission again to set its time)")


def ensure_submission(gb, student, assignment, timestamp):
    """The student and the submission in the gradebook, staged in gb's open transaction.

    Nothing is committed here: the rows appear with the grades that the transaction of
    _record writes, so that a submission not yet graded (a run killed before it) has no
    row in the gradebook and never reads as a score of zero.
    """
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    with gb.db.no_autoflush:
        try:
            student_row = gb.find_student(student)
        except MissingEntry:
            student_row = Student(id=student)
            gb.db.add(student_row)
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            # every row added by name: SQLAlchemy 2 no longer adds them along the relationships
            submission = SubmittedAssignment(assignment=gb.find_assignment(assignment), student=student_row)
            rows = [submission]
            for notebook in submission.assignment.notebooks:
                nb = SubmittedNotebook(notebook=notebook, assignment=submission)
                rows.append(nb)
                rows += [Grade(cell_id=cell.id, notebook=nb) for cell in notebook.grade_cells]
                rows += [Comment(cell_id=cell.id, notebook=nb) for cell in notebook.solution_cells]
                for cell in notebook.task_cells:
                    rows += [Comment(cell_id=cell.id, notebook=nb), Grade(cell_id=cell.id, notebook=nb)]
            gb.db.add_all(rows)
        if timestamp is not None:
            submission.timestamp = timestamp
    gb.db.flush()
    return submission


# ---------------------------------------------------------------------------------------
# parent: sanitize


def _resources(student, assignment, notebook, db_url, path):
    return {"unique_key": notebook, "output_files_dir": f"{notebook}_files", "metadata": {"path": str(path)},
            "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook, "db_url": db_url}}


def sanitize(config, nb, student, assignment, notebook, db_url):
    """nbgrader's sanitize pass; deleted grade and task cells come back from the source."""
    resources = _resources(student, assignment, notebook, db_url, ".")
    for cls in SANITIZE:
        pp = cls(config=config)
        if cls is OverwriteCells:
            pp.add_missing_cells = True
        nb, resources = pp(nb, resources)
    return nb


def restored_cells(submitted, released, sanitized):
    """What the sanitize pass put back: locked cells that differ from the release, deleted grade cells.

    ``released`` is the student release of the notebook (None if it is not at hand, in
    which case the checksums nbgrader stored in the cells' metadata stand in for it).
    """
    def cells(nb):
        return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}

    before, reference = cells(submitted), cells(released) if released is not None else {}
    notes = []
    for grade_id, cell in cells(sanitized).items():
        meta = cell.metadata["nbgrader"]
        if not (meta.get("locked") or meta.get("grade")):
            continue
        if grade_id not in before:
            notes.append(f"{grade_id}: deleted, restored from the source")
        elif meta.get("locked"):
            old = before[grade_id]
            if grade_id in reference:
                edited = old.source.strip() != reference[grade_id].source.strip()
            else:
                edited = old.metadata.get("nbgrader", {}).get("checksum") != utils.compute_checksum(old)
            if edited:
                notes.append(f"{grade_id}: edited, restored from the source")
    return notes


def read_release(coursedir, assignment, notebook):
    return _read(Path(coursedir.root) / coursedir.release_directory / assignment / f"{notebook}.ipynb")


def read_source(coursedir, assignment, notebook):
    return _read(Path(coursedir.root) / coursedir.source_directory / assignment / f"{notebook}.ipynb")


def _read(path):
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError):
        return None


def read_submitted(path):
    """The submitted notebook, or (None, why) when it cannot be graded as one."""
    if path.stat().st_size > LARGEST_NOTEBOOK:
        return None, (f"{path.name} is larger than {LARGEST_NOTEBOOK // 2**20} MiB, the most grading reads "
                      "(import refuses such a notebook)")
    try:
        with warnings.catch_warnings():
            # cell ids that repeat or are missing (copied cells, older files) are made good by nbformat
            warnings.simplefilter("ignore", nbformat.warnings.DuplicateCellId)
            warnings.simplefilter("ignore", nbformat.warnings.MissingIDFieldWarning)
            nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:
        return None, f"{path.name} is not a readable notebook ({type(exc).__name__}: {str(exc)[:120]})"
    return nb, None


# ---------------------------------------------------------------------------------------
# parent: scoring and the transaction


def score_notebook(gb, config, nb, student, assignment, notebook):
    """SaveAutoGrades and AssignLatePenalties for one notebook, in gb's open transaction."""
    for cell in nb.cells:
        if utils.is_grade(cell):
            grade = gb.find_grade(cell.metadata.nbgrader["grade_id"], notebook, assignment, student)
            grade.auto_score, _ = utils.determine_grade(cell)
            grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
        if utils.is_solution(cell) or utils.is_task(cell):
            comment = gb.find_comment(cell.metadata.nbgrader["grade_id"], notebook, assignment, student)
            unchanged = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
            comment.auto_comment = "No response." if unchanged and not utils.is_task(cell) else None
    gb.db.flush()
    late_penalty(gb, config, student, assignment, notebook)


def zero_notebook(gb, config, student, assignment, notebook):
    """A notebook that is missing or unreadable: every grade zero, as nbgrader does for missing ones."""
    submitted = gb.find_submission_notebook(notebook, assignment, student)
    for grade in submitted.grades:
        grade.auto_score = 0
        grade.needs_manual_grade = False
    gb.db.flush()
    late_penalty(gb, config, student, assignment, notebook)


def late_penalty(gb, config, student, assignment, notebook):
    submission = gb.find_submission(assignment, student)
    nb_row = gb.find_submission_notebook(notebook, assignment, student)
    nb_row.late_submission_penalty = None
    if submission.total_seconds_late > 0:
        penalty = LateSubmissionPlugin(config=config).late_submission_penalty(
            student, nb_row.score, submission.total_seconds_late)
        if penalty is not None:
            nb_row.late_submission_penalty = min(max(penalty, 0), nb_row.score)


# ---------------------------------------------------------------------------------------
# workers


def _worker_init(slots):
    """Die with the parent (SIGKILL included), take a sandbox slot, ignore Ctrl-C."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _SLOT
    _SLOT = slots.get()


def _result_of(future, job):
    """The worker's result dict for ``job``; a worker that raised is a failure of the machinery."""
    try:
        return future.result()
    except Exception as exc:
        return {"seconds": 0.0, "problems": [], "findings": [], "records": [],
                "machinery": f"the grading worker failed: {type(exc).__name__}: {exc}"}


def _run(job, limits, confined, config):
    sandbox = {"scratch": job.scratch, "cwd": job.scratch / "work", "slot": _SLOT, "confined": confined,
               "limits": limits, "sealed": job.sealed, "assignment": job.assignment}
    if confined:
        prepare_scratch(job.scratch, _SLOT)
    try:
        return execute(str(job.sanitized), str(job.executed), sandbox, limits, config, source_path=job.source)
    finally:
        shutil.rmtree(job.scratch, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# the run

RUN_PREFIX = "autograder-run-"


class RunFolder:
    """The run's temporary folder (/tmp/autograder-run-*), locked for as long as the run lives.

    A run killed with SIGKILL cannot remove its folder; the next run removes every such
    folder whose lock no process holds any more (the kernel drops a dead process's
    locks), and leaves those of runs still going.
    """

    def __init__(self, base=None):
        self.base = base

    def __enter__(self):
        clean_stale_run_folders(self.base)
        self.path = Path(tempfile.mkdtemp(prefix=RUN_PREFIX, dir=self.base))
        # locked before it takes the name the cleaner looks for, so no cleaner sees it unlocked
        self.fd = os.open(self.path / ".lock-new", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        os.rename(self.path / ".lock-new", self.path / ".lock")
        return self.path

    def __exit__(self, *exc):
        try:
            shutil.rmtree(self.path, ignore_errors=True)
        finally:
            os.close(self.fd)


def clean_stale_run_folders(base=None):
    """Remove the temporary folders of dead runs; return them."""
    removed = []
    for path in sorted(Path(base or tempfile.gettempdir()).glob(RUN_PREFIX + "*")):
        if path.is_symlink() or not path.is_dir():
            continue
        try:
            fd = os.open(path / ".lock", os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue    # not locked yet: a run that is starting
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue    # a live run's
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


class Grader:
    """Grade submitted/ into the gradebook.

    config: the nbgrader Config (CourseDirectory.root, db_url, ...); workers: kernels
    run at once; confined: run kernels in the sandbox (False only with --no-sandbox);
    force: regrade submissions the journal already holds; on_done(outcome, done, total)
    is called as each submission is recorded; pool: where the notebooks are executed,
    None for local worker processes, or a distributed.Broker (Celery workers over Redis).
    """

    def __init__(self, config, coursedir, limits=Limits(), workers=2, confined=True, force=False, on_done=None,
                 pool=None):
        self.config = config
        self.coursedir = coursedir
        self.limits = limits
        self.workers = workers
        self.confined = confined
        self.force = force
        self.on_done = on_done or (lambda outcome, done, total: None)
        self.pool = pool
        self.sealed = {}      # assignment -> its sealed copy of rnnkit (seal.py)
        self.baselines = {}   # (assignment, notebook) -> canary.Baseline of the solution's run

    def run(self, students=None, assignments=None):
        todo = submissions(self.coursedir, students, assignments)
        for assignment in sorted({a for _, a, _ in todo}):
            ensure_assignment(self.config, self.coursedir, assignment)
        gb = Gradebook(self.coursedir.db_url, self.coursedir.course_id)
        try:
            journal.create(gb)
            graded = journal.done(gb)
            outcomes = []
            pending = []
            for student, assignment, folder in todo:
                digest = journal.digest(folder)
                if not self.force and graded.get((student, assignment)) == digest:
                    outcomes.append(Outcome(student, assignment, skipped=True))
                else:
                    pending.append((student, assignment, folder, digest))
            with RunFolder() as tmp:
                outcomes += self._grade(gb, pending, tmp)
            return outcomes
        finally:
            gb.close()

    def canary(self, assignments):
        """Grade the solution and the blank release of ``assignments`` only; raises CanaryFailed."""
        for assignment in assignments:
            ensure_assignment(self.config, self.coursedir, assignment)
        gb = Gradebook(self.coursedir.db_url, self.coursedir.course_id)
        try:
            with RunFolder() as tmp, self._executor() as pool:
                self._canary(pool, gb, sorted(assignments), tmp)
        finally:
            gb.close()
        return self.baselines

    def _executor(self):
        """The pool the notebooks are executed in: local worker processes, or the broker's workers."""
        if self.pool is not None:
            return self.pool.executor(self.workers)
        ctx = multiprocessing.get_context("spawn")
        slots = ctx.Queue()
        for slot in range(self.workers):
            slots.put(slot)
        return concurrent.futures.ProcessPoolExecutor(
            self.workers, mp_context=ctx, initializer=_worker_init, initargs=(slots,))

    def _grade(self, gb, pending, tmp):
        outcomes = []
        total = len(pending)
        if not pending:
            return outcomes
        with self._executor() as pool:
            self._canary(pool, gb, sorted({a for _, a, _, _ in pending}), tmp)
            waiting = {}   # future -> (submission key, job)
            open_subs = {}  # key -> dict(state)
            queue = list(pending)

            def submit(key, job):
                job.tries += 1
                waiting[pool.submit(_run, job, self.limits, self.confined, self.config)] = (key, job)

            def start_next():
                student, assignment, folder, digest = queue.pop(0)
                state = self._prepare(gb, student, assignment, folder, digest, tmp)
                open_subs[(student, assignment)] = state
                for job in state["jobs"]:
                    self._trust(job)
                    submit((student, assignment), job)
                if not state["jobs"]:
                    finish((student, assignment))

            def finish(key):
                state = open_subs.pop(key)
                outcome = self._record(gb, state)
                outcomes.append(outcome)
                self.on_done(outcome, len(outcomes), total)

            # keep the workers fed: a little more work in flight than there are workers
            while queue or waiting:
                while queue and len(waiting) < 2 * self.workers:
                    start_next()
                if not waiting:
                    continue
                finished, _ = concurrent.futures.wait(waiting, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    key, job = waiting.pop(future)
                    state = open_subs[key]
                    result = _result_of(future, job)
                    if result.get("machinery") and job.tries < MACHINERY_TRIES:
                        submit(key, job)   # the machinery, not the student: once more
                        continue
                    state["results"][job.notebook] = result
                    if len(state["results"]) == len(state["jobs"]):
                        finish(key)
        return outcomes

    def _trust(self, job):
        """Point the job at its source notebook (the trusted grade cells) and its sealed rnnkit."""
        cd = self.coursedir
        job.source = Path(cd.root) / cd.source_directory / job.assignment / f"{job.notebook}.ipynb"
        job.sealed = self.sealed.get(job.assignment)

    def _canary(self, pool, gb, assignments, tmp):
        """Grade the solution and the blank release of each assignment; CanaryFailed stops the run."""
        cd = self.coursedir
        self.sealed, self.baselines = {}, {}
        for assignment in assignments:
            if assignment in seal.SEALED:
                self.sealed[assignment] = seal.build(assignment, tmp / "sealed" / assignment)
        futures = {}
        for assignment in assignments:
            source = Path(cd.root) / cd.source_directory / assignment
            for notebook in gb.find_assignment(assignment).notebooks:
                for who, folder in (("solution", source), ("release", Path(cd.root) / cd.release_directory / assignment)):
                    nb = _read(folder / f"{notebook.name}.ipynb")
                    if nb is None:
                        raise canary.CanaryFailed(f"{assignment}/{notebook.name}: the {who} notebook "
                                                  f"{folder / (notebook.name + '.ipynb')} cannot be read")
                    name = f"canary-{who}-{assignment}-{notebook.name}"
                    job = Job(f"({who})", assignment, notebook.name, tmp / "jobs" / name / "sanitized.ipynb",
                              tmp / "jobs" / name / "executed.ipynb", tmp / "scratch" / name)
                    job.sanitized.parent.mkdir(parents=True)
                    clean = sanitize(self.config, nb, "canary", assignment, notebook.name, cd.db_url)
                    nbformat.write(clean, str(job.sanitized))
                    _copy_work_files(source, source, job.scratch / "work")
                    self._trust(job)
                    job.tries = 1
                    futures[(assignment, notebook.name, who)] = (pool.submit(
                        _run, job, self.limits, self.confined, self.config), job)
        results = {}
        for key, (future, job) in futures.items():
            result = _result_of(future, job)
            nb = nbformat.read(str(job.executed), as_version=4) if job.executed.exists() else None
            results[key] = (nb, result)
        for assignment, notebook, who in futures:
            if who == "solution":
                self.baselines[(assignment, notebook)] = canary.judge(
                    assignment, notebook, results[(assignment, notebook, "solution")],
                    results[(assignment, notebook, "release")])

    def _prepare(self, gb, student, assignment, folder, digest, tmp):
        """Read the submission's time, repair, scan and sanitize its notebooks.

        Nothing is written to the gradebook here: _record creates the submission in the
        transaction that records its grades.
        """
        cd = self.coursedir
        timestamp, why = read_timestamp(folder)
        source = Path(cd.root) / cd.source_directory / assignment
        state = {"student": student, "assignment": assignment, "digest": digest, "jobs": [],
                 "results": {}, "problems": [], "flags": [], "missing": [], "started": time.monotonic(),
                 "timestamp": timestamp}
        if why:
            state["problems"].append(why)
        for notebook in gb.find_assignment(assignment).notebooks:
            path = folder / f"{notebook.name}.ipynb"
            if not path.exists():
                state["missing"].append(notebook.name)
                state["problems"].append(f"{notebook.name}.ipynb was not submitted")
                continue
            nb, why = read_submitted(path)
            if nb is None:
                state["missing"].append(notebook.name)
                state["problems"].append(why)
                continue
            released = read_release(cd, assignment, notebook.name)
            try:
                # copied cells and stray nbgrader marks first, so that sanitize can restore the rest
                repairs = repair.repair(nb, {cell.name for cell in notebook.source_cells})
                findings = scan.scan_notebook(nb, released, read_source(cd, assignment, notebook.name),
                                             assignment=assignment)
                clean = sanitize(self.config, copy.deepcopy(nb),
                                 student, assignment, notebook.name, cd.db_url)
                restored = restored_cells(nb, released, clean)
            except Exception as exc:
                state["missing"].append(notebook.name)
                state["problems"].append(
                    f"{notebook.name}.ipynb could not be sanitized, its nbgrader cells are missing or "
                    f"damaged ({type(exc).__name__}: {exc}); every grade of it is zero")
                continue
            state["problems"] += [f"{notebook.name}.ipynb: {n}" for n in repairs]
            state["flags"] += [f"{notebook.name}: {f}" for f in findings]
            state["flags"] += [f"{notebook.name}: {n}" for n in restored]
            job_dir = tmp / "jobs" / f"{student}-{assignment}-{notebook.name}"
            scratch = tmp / "scratch" / f"{student}-{assignment}-{notebook.name}"
            job_dir.mkdir(parents=True)
            _copy_work_files(folder, source, scratch / "work")
            job = Job(student, assignment, notebook.name, job_dir / "sanitized.ipynb",
                      job_dir / "executed.ipynb", scratch)
            nbformat.write(clean, str(job.sanitized))
            state["jobs"].append(job)
        return state

    def _record(self, gb, state):
        """Score the executed notebooks, then write grades and journal in one transaction."""
        cd = self.coursedir
        student, assignment = state["student"], state["assignment"]
        outcome = Outcome(student, assignment, problems=list(state["problems"]), flags=list(state["flags"]))
        dest = Path(cd.root) / cd.autograded_directory / student / assignment
        executed = {}
        broken = [f"{job.notebook}: {state['results'][job.notebook]['machinery']}" for job in state["jobs"]
                  if state["results"][job.notebook].get("machinery")]
        if broken:
            # the machinery failed, not the student: record nothing, so that a rerun grades it
            outcome.ungraded = True
            outcome.problems += [f"not graded, the grading machinery failed twice ({b}); a rerun grades it"
                                 for b in broken]
            return outcome
        for job in state["jobs"]:
            result = state["results"][job.notebook]
            baseline = self.baselines.get((assignment, job.notebook))
            outcome.problems += [f"{job.notebook}: {p}" for p in result["problems"]]
            outcome.flags += [f"{job.notebook}: {f}" for f in result["findings"]
                              if baseline is None or canary.normalise_flag(f) not in baseline.flags]
            if result.get("failed") or not job.executed.exists():
                state["missing"].append(job.notebook)
                continue
            nb = nbformat.read(str(job.executed), as_version=4)
            _void_short_records(nb, result.get("records", []), baseline, outcome, job.notebook)
            resources = _resources(student, assignment, job.notebook, cd.db_url, dest)
            for cls in AFTER_EXECUTE:
                nb, resources = cls(config=self.config)(nb, resources)
            executed[job.notebook] = nb
        _write_autograded(dest, Path(cd.root) / cd.source_directory / assignment,
                          Path(cd.root) / cd.submitted_directory / student / assignment, executed)
        try:
            ensure_submission(gb, student, assignment, state.get("timestamp"))
            for notebook, nb in executed.items():
                score_notebook(gb, self.config, nb, student, assignment, notebook)
            for notebook in state["missing"]:
                zero_notebook(gb, self.config, student, assignment, notebook)
            submission = gb.find_submission(assignment, student)
            outcome.score, outcome.max_score = float(submission.score), float(submission.max_score)
            outcome.seconds = time.monotonic() - state["started"]
            journal.record(gb, student, assignment, state["digest"], outcome.seconds, outcome.score,
                           outcome.max_score, outcome.problems, outcome.flags)
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise
        return outcome


def _void_short_records(nb, records, baseline, outcome, notebook):
    """A grade cell passes only if its trusted record shows every call the solution's run makes."""
    cells = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells
             if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}
    for record in records:
        why = canary.short_calls(record, baseline)
        if why and record["grade_id"] in cells:
            cells[record["grade_id"]].outputs.append(error_output(
                "GradingIntegrityError", f"not counted as passed: the grader's record of this test is short ({why})"))
            outcome.problems.append(f"{notebook}: {record['grade_id']}: the trusted record is short ({why})")


def _copy_work_files(submitted, source, work):
    """The kernel's working folder: the student's files, then the source's data files over them."""
    work.mkdir(parents=True)
    for base in (submitted, source):
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base)
            if path.is_symlink() or not path.is_file() or path.suffix == ".ipynb" or rel.name == "timestamp.txt":
                continue
            if ".ipynb_checkpoints" in rel.parts or path.stat().st_size > LARGEST_NOTEBOOK:
                continue
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, work / rel)


def _write_autograded(dest, source, submitted, executed):
    """autograded/<student>/<assignment>/, as nbgrader lays it out, each file replaced atomically."""
    dest.mkdir(parents=True, exist_ok=True)
    # the time as nbgrader reads it, or none: a bad one must not stop nbgrader's feedback
    timestamp, _ = read_timestamp(submitted)
    if timestamp is not None:
        (dest / "timestamp.txt").write_text(timestamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    elif (dest / "timestamp.txt").exists():
        (dest / "timestamp.txt").unlink()
    for name, nb in executed.items():
        tmp = dest / f".{name}.ipynb.partial"
        nbformat.write(nb, str(tmp))
        os.replace(tmp, dest / f"{name}.ipynb")


__all__ = ["Grader", "Outcome", "submissions", "ensure_assignment", "cell_kind", "error_output"]
