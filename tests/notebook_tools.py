"""Reading the course notebooks: which exist, their cells, their exercises and grade cells.

Shared by the pipeline, notebook and catalogue tests. A notebook is known by its
assignment id ``NN-name``; its source is notebooks/NN-name.py, its nbgrader source
solutions/NN-name/NN-name.ipynb and its release course/NN-name/NN-name.ipynb.
"""
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "solutions"
COURSE = ROOT / "course"

# Seconds a solutions notebook may take top to bottom on two idle cores (measured by
# benchmarks/bench_notebooks.py); 07-applications trains on real data and gets more.
TIME_LIMITS = {"07-applications": 120.0}
DEFAULT_TIME_LIMIT = 60.0
# A cell that runs longer than this has hung: the run stops there.
CELL_TIMEOUT = 600


def thread_env(n):
    """The environment variables that give NumPy's BLAS (and OpenMP, MKL, numexpr) n threads."""
    return {name: str(n) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "NUMEXPR_NUM_THREADS")}


# The suite runs two workers on two cores: one thread per kernel, or the BLAS threads of one
# notebook spin against the other worker's tests (measured: 05-gru 8 s alone with two
# threads, 22 s beside the suite; 07-applications 9 s and 72 s).
THREAD_ENV = thread_env(1)
# A student's run, as benchmarks/bench_notebooks.py measures it: two threads on two cores.
STUDENT_THREAD_ENV = thread_env(2)

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def notebook_ids():
    """Assignment ids that have a source in notebooks/, in order."""
    return sorted(p.stem for p in NOTEBOOKS.glob("*.py") if re.fullmatch(r"\d\d-[a-z0-9-]+", p.stem))


def time_limit(name):
    return TIME_LIMITS.get(name, DEFAULT_TIME_LIMIT)


def solution_path(name):
    return SOLUTIONS / name / f"{name}.ipynb"


def release_path(name):
    return COURSE / name / f"{name}.ipynb"


def read(path):
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution(cell):
    return bool(nbgrader_meta(cell).get("solution"))


def is_grade(cell):
    """An autograded test cell (grade cell that is not also a solution)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def is_graded(cell):
    """A cell whose output nbgrader looks at: a solution or a grade cell."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade") or meta.get("solution"))


@dataclass
class Exercise:
    """A code solution cell and the autograded test cells that follow it."""

    grade_id: str
    index: int  # position of the solution cell in the notebook
    source: str
    tests: list = field(default_factory=list)  # (index, cell) of each grade cell


def exercises(nb):
    """The code exercises of a notebook, each with the grade cells up to the next solution cell."""
    out = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if is_solution(cell):
            out.append(Exercise(nbgrader_meta(cell)["grade_id"], index, cell.source))
        elif is_grade(cell) and out:
            out[-1].tests.append((index, cell))
    return out


def block_bodies(source, begin, end):
    """The lines between each ``begin`` and ``end`` marker line of a cell."""
    bodies, inside = [], None
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(begin):
            inside = []
        elif stripped.startswith(end) and inside is not None:
            bodies.append(inside)
            inside = None
        elif inside is not None:
            inside.append(line)
    return bodies


def copy_assignment(name, dest):
    """Copy solutions/<name>/ (notebook and data files) into ``dest``; return dest."""
    shutil.copytree(SOLUTIONS / name, dest, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return Path(dest)


def kernel_env(threads=THREAD_ENV, **extra):
    """The environment of a notebook run: ``threads``, no display, plus ``extra``."""
    env = dict(os.environ, MPLBACKEND="Agg", PYDEVD_DISABLE_FILE_VALIDATION="1", **threads)
    env.pop("NBGRADER_EXECUTION", None)
    env.update(extra)
    return env
