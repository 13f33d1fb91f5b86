"""The instructor's grading cycle, one command each.

    python -m autograder release                    rebuild solutions/ and course/ from notebooks/
    python -m autograder import EXPORT.zip ...      submissions into autograder/submitted/ (import --help)
    python -m autograder canary                     the solution must earn full marks, the release none
    python -m autograder grade --workers 2          the canary, then parallel, sandboxed autograde
    python -m autograder worker --broker URL        grade the jobs of `grade --broker URL` on this machine
    python -m autograder feedback                   HTML feedback: points and messages, no hidden tests
    python -m autograder export --to grades.csv     the gradebook as a CSV

The course's nbgrader configuration (autograder/nbgrader_config.py) says where
everything is; --config names another, --db-url another database (any URL nbgrader
accepts, SQLite by default). Grading needs bubblewrap (Debian package bubblewrap) and
root, to give each submission's kernel its own unprivileged uid; without them it
refuses, unless --no-sandbox is given, which runs student code with your rights.
"""
import argparse
import csv
import os
import sys
import textwrap
import time
import warnings
from pathlib import Path

from .collect import ID_RULE, MiB
from .collect import Limits as ImportLimits
from .sandbox import Limits, SandboxUnavailable, check_available

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "autograder" / "nbgrader_config.py"

NO_SANDBOX_WARNING = """\
************************************************************************
*  WARNING: --no-sandbox. Student code runs unconfined, with YOUR       *
*  rights: it can read the solutions and the gradebook, change files,   *
*  use the network and exhaust this machine. Grade only code you trust. *
************************************************************************"""


def load(args):
    """(config, coursedir) from --config and --db-url."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    quiet_gradebook_warnings()
    path = Path(args.config).resolve()
    config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    if args.db_url:
        config.CourseDirectory.db_url = args.db_url
    _venv_on_path()
    return config, CourseDirectory(config=config)


def quiet_gradebook_warnings():
    """nbgrader's Gradebook builds its rows in a way SQLAlchemy warns about (autoflush of an
    object not yet in the session, on a new gradebook); the rows are right, the warning is noise."""
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning, message=r"Object of type <\w+> not in session")


def _venv_on_path():
    """nbgrader runs its environment's ``alembic`` script when it creates a gradebook."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def assignments_of(coursedir):
    source = Path(coursedir.root) / coursedir.source_directory
    return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []


# ---------------------------------------------------------------------------------------


def cmd_release(args):
    from . import release

    return release.main(args.release_args)


def cmd_import(args):
    from .collect import import_any

    config, coursedir = load(args)
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    assignments = set(assignments_of(coursedir))
    limits = ImportLimits(notebook=args.max_notebook_mb * MiB, upload=args.max_upload_mb * MiB,
                    export=args.max_export_mb * MiB, members=args.max_members, ratio=args.max_ratio)
    result = import_any(args.sources, submitted, assignments, limits)
    for student, assignment in result.submissions:
        notes = result.notes.get((student, assignment), [])
        print(one_line(f"imported {student}/{assignment}" + (f": {'; '.join(notes)}" if notes else "")))
    for where, why in result.refused:
        print(one_line(f"refused {where}: {why}"), file=sys.stderr)
    print(f"{len(result.submissions)} submissions imported into {submitted}, {len(result.refused)} refused"
          + ("" if result.refused else "."))
    if not result.submissions and not result.refused:
        print(f"nothing found to import (known assignments: {', '.join(sorted(assignments)) or 'none'}); "
              "see python -m autograder import --help", file=sys.stderr)
    return 0 if result.submissions else 1


def one_line(text):
    """A line of the report: control characters of file names shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cmd_grade(args):
    from .canary import CanaryFailed
    from .grading import Grader
    from .report import Progress, summary

    config, coursedir = load(args)
    broker = None
    if args.broker:
        # the workers run the notebooks, each in its own sandbox; this machine runs no student code
        from .distributed import Broker, BrokerUnavailable

        if args.no_sandbox:
            print("refusing to grade: --no-sandbox does not apply with --broker, "
                  "the workers always grade in their sandbox", file=sys.stderr)
            return 2
        try:
            broker = Broker(args.broker, reuse=not args.force)
        except BrokerUnavailable as exc:
            print(f"refusing to grade: {exc}", file=sys.stderr)
            return 2
    elif args.no_sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    else:
        try:
            check_available()
        except SandboxUnavailable as exc:
            print(f"refusing to grade: the sandbox is unavailable: {exc}\n"
                  "(--no-sandbox grades anyway, running student code with your rights)", file=sys.stderr)
            return 2
    cell_timeout = args.cell_timeout or int(config.Execute.get("timeout", None) or
                                            config.ExecutePreprocessor.get("timeout", None) or 120)
    limits = Limits(memory=args.memory_mb * 2**20, cpu_seconds=args.cpu_seconds, processes=args.processes,
                    output_bytes=args.max_output_kb * 1024, cell_timeout=cell_timeout,
                    notebook_timeout=args.notebook_timeout)
    grader = Grader(config, coursedir, limits=limits, workers=args.workers, confined=not args.no_sandbox,
                    force=args.force, on_done=None if args.quiet else Progress(), pool=broker)
    start = time.monotonic()
    try:
        outcomes = grader.run(students=args.student, assignments=args.assignment)
    except CanaryFailed as exc:
        print(f"refusing to grade: the canary failed, no student was graded.\n{exc}", file=sys.stderr)
        return 3
    print(summary(outcomes, time.monotonic() - start))
    for line in broker.report() if broker else ():
        print(line)
    if args.no_sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    return 0


def cmd_worker(args):
    from .distributed import BrokerUnavailable, broker_url, check_broker, run_worker

    try:
        check_available()
    except SandboxUnavailable as exc:
        print(f"refusing to start: the sandbox is unavailable: {exc}", file=sys.stderr)
        return 2
    try:
        url = broker_url(args.broker)
        check_broker(url)
    except BrokerUnavailable as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        return 2
    _venv_on_path()
    return run_worker(url, concurrency=args.concurrency, scratch=args.scratch, name=args.name,
                      visibility_timeout=args.visibility_timeout)


def cmd_canary(args):
    from .canary import CanaryFailed
    from .grading import Grader

    config, coursedir = load(args)
    if not args.no_sandbox:
        try:
            check_available()
        except SandboxUnavailable as exc:
            print(f"refusing to run: the sandbox is unavailable: {exc}", file=sys.stderr)
            return 2
    assignments = args.assignment or assignments_of(coursedir)
    grader = Grader(config, coursedir, workers=args.workers, confined=not args.no_sandbox)
    try:
        grader.canary(assignments)
    except CanaryFailed as exc:
        print(f"the canary failed: {exc}", file=sys.stderr)
        return 3
    print(f"canary passed: the solution earns every point and the blank release none in "
          f"{', '.join(sorted(assignments))}")
    return 0


def cmd_feedback(args):
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.converters import GenerateFeedback
    from nbgrader.preprocessors import ClearHiddenTests, GetGrades

    config, coursedir = load(args)
    autograded = Path(coursedir.root) / coursedir.autograded_directory
    graded = sorted({p.name for p in autograded.glob("*/*") if p.is_dir()})
    # the students see each test's points and message, never the hidden tests' source
    config.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
    for assignment in [args.assignment] if args.assignment else graded:
        coursedir.assignment_id = assignment
        if args.student:
            coursedir.student_id = args.student
        converter = GenerateFeedback(coursedir=coursedir, config=config)
        converter.force = True
        converter.start()
    print(f"feedback in {Path(coursedir.root) / coursedir.feedback_directory}")
    return 0


EXPORT_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                  "raw_score", "late_submission_penalty", "score", "max_score")


def export_rows(gb, submitted):
    """nbgrader's CSV export, row for row, except that a submission not yet graded has empty
    scores instead of zeros (``submitted``: the (student, assignment) pairs in submitted/,
    which get a row even before the gradebook knows the student). A student with nothing
    submitted scores zero, as in nbgrader."""
    from nbgrader.api import MissingEntry

    rows = []
    students = {s.id: s for s in gb.students}
    ids = sorted(set(students) | {student for student, _ in submitted})
    for assignment in gb.assignments:
        for student_id in ids:
            student = students.get(student_id)
            row = {"assignment": assignment.name, "duedate": assignment.duedate, "student_id": student_id,
                   "last_name": student and student.last_name, "first_name": student and student.first_name,
                   "email": student and student.email, "max_score": assignment.max_score}
            try:
                submission = gb.find_submission(assignment.name, student_id)
            except MissingEntry:
                submission = None
            if submission is not None and _graded(submission):
                penalty = submission.late_submission_penalty
                row.update(timestamp=submission.timestamp, raw_score=submission.score,
                           late_submission_penalty=penalty, score=max(0.0, submission.score - penalty))
            elif submission is not None or (student_id, assignment.name) in submitted:
                row.update(timestamp=submission and submission.timestamp, raw_score=None,
                           late_submission_penalty=None, score=None)    # submitted, not graded yet
            elif student is None:
                continue
            else:
                row.update(timestamp=None, raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            rows.append({k: "" if row.get(k) is None else str(row[k]) for k in EXPORT_COLUMNS})
    return rows


def _graded(submission):
    grades = [g for nb in submission.notebooks for g in nb.grades]
    return not grades or any(g.auto_score is not None or g.manual_score is not None for g in grades)


def cmd_export(args):
    from nbgrader.api import Gradebook

    from .grading import submissions

    config, coursedir = load(args)
    submitted = {(student, assignment) for student, assignment, _ in submissions(coursedir)}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        rows = export_rows(gb, submitted)
    with open(args.to, "w", newline="") as f:
        writer = csv.DictWriter(f, EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    waiting = sum(1 for r in rows if r["score"] == "")
    print(f"grades written to {args.to}" +
          (f" ({waiting} submissions not graded yet have empty scores)" if waiting else ""))
    return 0


IMPORT_EPILOG = """\
what is read:
  folders   <student>/<assignment>/<notebook>.ipynb and the files beside it, for a
            whole class; also one student's folder <student>/ or one submission's
            folder <student>/<assignment>/
  zip files the same tree under any top folders, or an LMS's flat list of files named
            <student>_<anything>_<notebook>.ipynb (Canvas's naming: the student id
            is the text before the first underscore, the name ends with the
            assignment's notebook, <notebook>-1.ipynb and the like included)

{rule}

submission times (nbgrader's timestamp.txt, from which lateness is computed) come
only from where your system put them: the date of the zip member in an LMS export
(read as UTC), or the newest modification time of the files of a folder you
collected. A timestamp.txt inside a student's upload is discarded. When the sources
hold several attempts of one submission, the newest by that time is imported and the
others are named; an attempt older than the submission already imported is refused.

report: one line per submission imported (its time, where it came from, attempts
not taken, files left out), one line per refusal, on stderr, with its reason and
the limit or rule it breaks. A refusal concerns that submission or file alone.
Exit status 0 if anything was imported, 1 otherwise.
""".format(rule=textwrap.fill(f"A student or assignment id is {ID_RULE}.", 84, initial_indent="  ",
                              subsequent_indent="  "))


# grading reads notebooks up to the import's default (grading.LARGEST_NOTEBOOK), no larger
LARGEST_IMPORT_MB = ImportLimits().notebook // MiB


def _count(most=None):
    def parse(text):
        value = int(text)
        if value < 1 or (most is not None and value > most):
            raise argparse.ArgumentTypeError(f"{text}: a whole number from 1 to {most or 'any'} is expected")
        return value
    return parse


def parser():
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="nbgrader_config.py of the course "
                   "(default: %(default)s)")
    p.add_argument("--db-url", help="the gradebook's database URL (default: the config's)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("release", help="rebuild solutions/ and course/ (python -m autograder.release)",
                       add_help=False)
    r.add_argument("release_args", nargs=argparse.REMAINDER)
    r.set_defaults(run=cmd_release)

    i = sub.add_parser("import", help="copy submissions (folders or LMS zip files) into submitted/",
                       description="Copy submissions into submitted/<student>/<assignment>/, as\n"
                                   "nbgrader lays them out, with nbgrader's timestamp.txt.",
                       epilog=IMPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="a folder <student>/<assignment>/<notebook>.ipynb (or one student's folder, or one "
                        "submission's), or an LMS export .zip")
    limits = ImportLimits()
    i.add_argument("--max-notebook-mb", type=_count(LARGEST_IMPORT_MB), default=limits.notebook // MiB,
                   metavar="MB", help=f"largest notebook (default: %(default)s, at most {LARGEST_IMPORT_MB}, "
                                      "the most grading reads)")
    i.add_argument("--max-upload-mb", type=_count(), default=limits.upload // MiB, metavar="MB",
                   help="largest submission, all its files (default: %(default)s)")
    i.add_argument("--max-export-mb", type=_count(), default=limits.export // MiB, metavar="MB",
                   help="largest export, what one zip or folder unpacks to (default: %(default)s)")
    i.add_argument("--max-members", type=_count(), default=limits.members, metavar="N",
                   help="most entries in one zip (default: %(default)s)")
    i.add_argument("--max-ratio", type=_count(), default=limits.ratio, metavar="N",
                   help="most a zip member over 1 MiB may expand, unpacked size / packed size "
                        "(default: %(default)s)")
    i.set_defaults(run=cmd_import)

    g = sub.add_parser("grade", help="autograde submitted/ into the gradebook, in parallel, sandboxed")
    g.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="kernels at once (default: %(default)s)")
    g.add_argument("--student", action="append", help="grade only this student (repeatable)")
    g.add_argument("--assignment", action="append", help="grade only this assignment (repeatable)")
    g.add_argument("--force", action="store_true", help="regrade submissions the journal already holds")
    g.add_argument("--no-sandbox", action="store_true",
                   help="run student code unconfined, with your rights (when bubblewrap is missing)")
    g.add_argument("--cell-timeout", type=int, help="seconds per cell (default: the config's Execute.timeout)")
    g.add_argument("--notebook-timeout", type=int, default=900, help="seconds per notebook (default: %(default)s)")
    g.add_argument("--memory-mb", type=int, default=4096, help="address space per process (default: %(default)s)")
    g.add_argument("--cpu-seconds", type=int, default=600, help="CPU time per process (default: %(default)s)")
    g.add_argument("--processes", type=int, default=128, help="processes and threads per kernel (default: %(default)s)")
    g.add_argument("--max-output-kb", type=int, default=8192, help="output per notebook (default: %(default)s)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument("--broker", metavar="URL", help="grade on the workers of this Redis broker, "
                   "redis://[:PASSWORD@]HOST:PORT/DB (see `worker`; the password may come from "
                   "$AUTOGRADER_BROKER_PASSWORD); --workers is then the jobs in flight")
    g.set_defaults(run=cmd_grade)

    w = sub.add_parser("worker", help="grade the jobs of `grade --broker` on this machine (Celery over Redis)",
                       description="A grading worker: takes the notebooks that `grade --broker` sends, grades each "
                                   "in this machine's sandbox with the trusted verdicts, and sends the results "
                                   "back. Needs this course's environment, bubblewrap and root; refuses to start "
                                   "without the sandbox. Each assignment's canary (solution and blank release) "
                                   "is graded here before its first submission.")
    w.add_argument("--broker", required=True, metavar="URL",
                   help="redis://[:PASSWORD@]HOST:PORT/DB (the password may come from $AUTOGRADER_BROKER_PASSWORD)")
    w.add_argument("--concurrency", type=_count(), default=1, metavar="N",
                   help="kernels at once on this machine (default: %(default)s)")
    w.add_argument("--name", help="this worker's name in the reports, NAME@HOST (default: autograder-PID@HOST)")
    w.add_argument("--scratch", help="this worker's own folder (default: a temporary one, removed at the end)")
    w.add_argument("--visibility-timeout", type=_count(), default=3600, metavar="SECONDS",
                   help="a job taken by a worker that died is given to another after this long; longer than "
                        "any notebook's grading (default: %(default)s)")
    w.set_defaults(run=cmd_worker)

    c = sub.add_parser("canary", help="grade the solution and the blank release only, as `grade` does first")
    c.add_argument("--assignment", action="append", help="only this assignment (repeatable; default: all)")
    c.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="kernels at once (default: %(default)s)")
    c.add_argument("--no-sandbox", action="store_true", help="run the notebooks unconfined")
    c.set_defaults(run=cmd_canary)

    f = sub.add_parser("feedback", help="nbgrader's generate_feedback for the graded notebooks")
    f.add_argument("--assignment", help="only this assignment")
    f.add_argument("--student", help="only this student")
    f.set_defaults(run=cmd_feedback)

    e = sub.add_parser("export", help="the gradebook's grades as a CSV file")
    e.add_argument("--to", default="grades.csv", help="the CSV file (default: %(default)s)")
    e.set_defaults(run=cmd_export)
    return p


def main(argv=None):
    p = parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    # ``release`` hands its arguments, --help included, to python -m autograder.release
    args, rest = p.parse_known_args(argv)
    if args.command == "release":
        args.release_args = rest + args.release_args
    elif rest:
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    return args.run(args)
