"""The instructor's grading cycle, one command each.

    python -m autograder release                    rebuild solutions/ and course/ from notebooks/
    python -m autograder import EXPORT.zip ...      submissions into autograder/submitted/
    python -m autograder grade --workers 2          parallel, sandboxed autograde into the gradebook
    python -m autograder feedback                   nbgrader's HTML feedback from the graded notebooks
    python -m autograder export --to grades.csv     the gradebook as a CSV

The course's nbgrader configuration (autograder/nbgrader_config.py) says where
everything is; --config names another, --db-url another database (any URL nbgrader
accepts, SQLite by default). Grading needs bubblewrap (Debian package bubblewrap) and
root, to give each submission's kernel its own unprivileged uid; without them it
refuses, unless --no-sandbox is given, which runs student code with your rights.
"""
import argparse
import os
import sys
import time
from pathlib import Path

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

    path = Path(args.config).resolve()
    config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    if args.db_url:
        config.CourseDirectory.db_url = args.db_url
    _venv_on_path()
    return config, CourseDirectory(config=config)


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
    result = import_any(args.sources, submitted, set(assignments_of(coursedir)))
    for student, assignment in result.submissions:
        print(f"imported {student}/{assignment}")
    for where, why in result.refused:
        print(f"refused {where}: {why}", file=sys.stderr)
    print(f"{len(result.submissions)} submissions imported into {submitted}, {len(result.refused)} refused")
    return 0 if result.submissions or not result.refused else 1


def cmd_grade(args):
    from .grading import Grader
    from .report import Progress, summary

    config, coursedir = load(args)
    if args.no_sandbox:
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
                    force=args.force, on_done=None if args.quiet else Progress())
    start = time.monotonic()
    outcomes = grader.run(students=args.student, assignments=args.assignment)
    print(summary(outcomes, time.monotonic() - start))
    if args.no_sandbox:
        print(NO_SANDBOX_WARNING, file=sys.stderr)
    return 0


def cmd_feedback(args):
    from nbgrader.converters import GenerateFeedback

    config, coursedir = load(args)
    autograded = Path(coursedir.root) / coursedir.autograded_directory
    graded = sorted({p.name for p in autograded.glob("*/*") if p.is_dir()})
    for assignment in [args.assignment] if args.assignment else graded:
        coursedir.assignment_id = assignment
        if args.student:
            coursedir.student_id = args.student
        converter = GenerateFeedback(coursedir=coursedir, config=config)
        converter.force = True
        converter.start()
    print(f"feedback in {Path(coursedir.root) / coursedir.feedback_directory}")
    return 0


def cmd_export(args):
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    config, coursedir = load(args)
    plugin = CsvExportPlugin(config=config)
    plugin.to = args.to
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        plugin.export(gb)
    print(f"grades written to {args.to}")
    return 0


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

    i = sub.add_parser("import", help="copy submissions (folders or LMS zip files) into submitted/")
    i.add_argument("sources", nargs="+", help="a folder <student>/<assignment>/<notebook>.ipynb, or zip files")
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
    g.set_defaults(run=cmd_grade)

    f = sub.add_parser("feedback", help="nbgrader's generate_feedback for the graded notebooks")
    f.add_argument("--assignment", help="only this assignment")
    f.add_argument("--student", help="only this student")
    f.set_defaults(run=cmd_feedback)

    e = sub.add_parser("export", help="the gradebook's grades as a CSV file")
    e.add_argument("--to", default="grades.csv", help="the CSV file (default: %(default)s)")
    e.set_defaults(run=cmd_export)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)
