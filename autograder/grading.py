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
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, IgnorePattern,
                                    LimitOutput, OverwriteCells, OverwriteKernelspec)

from . import journal, scan
from .execute import cell_kind, error_output, execute
from .sandbox import Limits, prepare_scratch

SANITIZE = (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata)
AFTER_EXECUTE = (IgnorePattern, ClearMetadataPreprocessor, LimitOutput)
LARGEST_NOTEBOOK = 32 * 1024 * 1024


@dataclasses.dataclass
class Job:
    student: str
    assignment: str
    notebook: str
    sanitized: Path
    executed: Path
    scratch: Path


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
    """(student, assignment, folder) of every submission in submitted/, sorted."""
    root = Path(coursedir.root) / coursedir.submitted_directory
    out = []
    if not root.is_dir():
        return out
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if students and student_dir.name not in students:
            continue
        for folder in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if assignments and folder.name not in assignments:
                continue
            out.append((student_dir.name, folder.name, folder))
    return out


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
        return None, f"{path.name} is larger than {LARGEST_NOTEBOOK // 2**20} MiB"
    try:
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


def _run(job, limits, confined, config):
    sandbox = {"scratch": job.scratch, "cwd": job.scratch / "work", "slot": _SLOT, "confined": confined,
               "limits": limits}
    if confined:
        prepare_scratch(job.scratch, _SLOT)
    try:
        return execute(str(job.sanitized), str(job.executed), sandbox, limits, config)
    finally:
        shutil.rmtree(job.scratch, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# the run


class Grader:
    """Grade submitted/ into the gradebook.

    config: the nbgrader Config (CourseDirectory.root, db_url, ...); workers: kernels
    run at once; confined: run kernels in the sandbox (False only with --no-sandbox);
    force: regrade submissions the journal already holds; on_done(outcome, done, total)
    is called as each submission is recorded.
    """

    def __init__(self, config, coursedir, limits=Limits(), workers=2, confined=True, force=False, on_done=None):
        self.config = config
        self.coursedir = coursedir
        self.limits = limits
        self.workers = workers
        self.confined = confined
        self.force = force
        self.on_done = on_done or (lambda outcome, done, total: None)

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
            with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
                outcomes += self._grade(gb, pending, Path(tmp))
            return outcomes
        finally:
            gb.close()

    def _grade(self, gb, pending, tmp):
        ctx = multiprocessing.get_context("spawn")
        slots = ctx.Queue()
        for slot in range(self.workers):
            slots.put(slot)
        outcomes = []
        total = len(pending)
        with concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_worker_init, initargs=(slots,)) as pool:
            waiting = {}   # future -> (submission key, job)
            open_subs = {}  # key -> dict(state)
            queue = list(pending)

            def start_next():
                student, assignment, folder, digest = queue.pop(0)
                state = self._prepare(gb, student, assignment, folder, digest, tmp)
                open_subs[(student, assignment)] = state
                for job in state["jobs"]:
                    future = pool.submit(_run, job, self.limits, self.confined, self.config)
                    waiting[future] = ((student, assignment), job)
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
                    try:
                        state["results"][job.notebook] = future.result()
                    except Exception as exc:
                        state["results"][job.notebook] = {
                            "seconds": 0.0, "problems": [f"{job.notebook}: the worker failed: {exc}"],
                            "findings": [], "failed": True}
                    if len(state["results"]) == len(state["jobs"]):
                        finish(key)
        return outcomes

    def _prepare(self, gb, student, assignment, folder, digest, tmp):
        """Create the submission in the gradebook, scan and sanitize its notebooks."""
        cd = self.coursedir
        timestamp = cd.get_existing_timestamp(str(folder))
        gb.update_or_create_student(student)
        if timestamp:
            gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gb.update_or_create_submission(assignment, student)
        source = Path(cd.root) / cd.source_directory / assignment
        state = {"student": student, "assignment": assignment, "digest": digest, "jobs": [],
                 "results": {}, "problems": [], "flags": [], "missing": [], "started": time.monotonic()}
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
            state["flags"] += [f"{notebook.name}: {f}" for f in scan.scan_notebook(
                nb, released, read_source(cd, assignment, notebook.name))]
            try:
                clean = sanitize(self.config, copy.deepcopy(nb),
                                 student, assignment, notebook.name, cd.db_url)
            except Exception as exc:
                state["missing"].append(notebook.name)
                state["problems"].append(
                    f"{notebook.name}.ipynb could not be sanitized, its nbgrader cells are missing or "
                    f"damaged ({type(exc).__name__}: {exc}); every grade of it is zero")
                continue
            state["flags"] += [f"{notebook.name}: {n}" for n in restored_cells(nb, released, clean)]
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
        for job in state["jobs"]:
            result = state["results"][job.notebook]
            outcome.problems += [f"{job.notebook}: {p}" for p in result["problems"]]
            outcome.flags += [f"{job.notebook}: {f}" for f in result["findings"]]
            if result.get("failed") or not job.executed.exists():
                state["missing"].append(job.notebook)
                continue
            nb = nbformat.read(str(job.executed), as_version=4)
            resources = _resources(student, assignment, job.notebook, cd.db_url, dest)
            for cls in AFTER_EXECUTE:
                nb, resources = cls(config=self.config)(nb, resources)
            executed[job.notebook] = nb
        _write_autograded(dest, Path(cd.root) / cd.source_directory / assignment,
                          Path(cd.root) / cd.submitted_directory / student / assignment, executed)
        try:
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


def _copy_work_files(submitted, source, work):
    """The kernel's working folder: the student's files, then the source's data files over them."""
    work.mkdir(parents=True)
    for base in (submitted, source):
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base)
            if path.is_symlink() or path.is_dir() or path.suffix == ".ipynb" or rel.name == "timestamp.txt":
                continue
            if ".ipynb_checkpoints" in rel.parts or path.stat().st_size > LARGEST_NOTEBOOK:
                continue
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, work / rel)


def _write_autograded(dest, source, submitted, executed):
    """autograded/<student>/<assignment>/, as nbgrader lays it out, each file replaced atomically."""
    dest.mkdir(parents=True, exist_ok=True)
    timestamp = submitted / "timestamp.txt"
    if timestamp.exists():
        shutil.copyfile(timestamp, dest / "timestamp.txt")
    for name, nb in executed.items():
        tmp = dest / f".{name}.ipynb.partial"
        nbformat.write(nb, str(tmp))
        os.replace(tmp, dest / f"{name}.ipynb")


__all__ = ["Grader", "Outcome", "submissions", "ensure_assignment", "cell_kind", "error_output"]
