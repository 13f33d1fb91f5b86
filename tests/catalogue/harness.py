"""Running a solutions notebook once, in process, then grading answers against its grade cells.

Shared by tests/test_catalogue.py and tests/test_fairness.py. A notebook is executed top
to bottom by an IPython shell (with NBGRADER_EXECUTION=autograde, so heavy cells shrink,
and matplotlib's Agg backend). An answer then runs in place of its exercise's solution
cell, followed by grade cells:

- :meth:`Executed.grade` runs the exercise's grade cells one after another in a copy of
  the whole namespace, as a student's kernel does;
- :meth:`Executed.verdicts` runs each grade cell on its own, twice: its visible part (the
  cell as the release shows it, hidden tests removed) and the whole cell. Both run in the
  namespace a grade cell may use (CONTRIBUTING.md): the names bound by import statements
  in the instructor's cells, the exercise functions, builtins; no variable of a
  demonstration cell. Every solution cell is defined again in that namespace before the
  answer, so that a later exercise's function calls the answer, as in a student's kernel.
  A cell fails when it raises, when a warning escapes it (nbgrader scores a cell that
  writes to stderr zero), or when it ends with an expression whose value is not None
  (nbgrader would read it as a partial score).
"""
import ast
import contextlib
import importlib
import os
import pkgutil
import warnings
from dataclasses import dataclass

import catalogue
from notebook_tools import (HIDDEN_BEGIN, HIDDEN_END, copy_assignment, exercises, is_solution, nbgrader_meta, read,
                            solution_path)


def load(kind="CATALOGUE"):
    """notebook id -> list of entries of ``kind`` ("CATALOGUE" or "ANSWERS"), from tests/catalogue/."""
    out = {}
    for info in pkgutil.iter_modules(catalogue.__path__):
        module = importlib.import_module(f"catalogue.{info.name}")
        if hasattr(module, "NOTEBOOK"):
            out.setdefault(module.NOTEBOOK, []).extend(getattr(module, kind, []))
    return out


def visible_part(source):
    """The cell as the release shows it: the lines between the hidden-test markers removed."""
    out, hidden = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(HIDDEN_BEGIN):
            hidden = True
        elif stripped.startswith(HIDDEN_END):
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out) + "\n"


def imported_names(source):
    """Names bound by the import statements of a cell's source."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def defined_names(source):
    """Names a solution cell defines at its top level (functions, classes, assignments)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


@dataclass
class Verdict:
    visible: str  # "" when the visible part passes, else why it fails
    full: str  # the same for the whole cell, hidden tests included
    points: float

    @property
    def fair(self):
        return bool(self.visible) == bool(self.full)


class Executed:
    """A solutions notebook run top to bottom; ``namespace`` is what its cells defined."""

    def __init__(self, name, workdir):
        from IPython.core.interactiveshell import InteractiveShell

        self.name, self.workdir = name, workdir
        nb = read(solution_path(name))
        self.order = [ex.grade_id for ex in exercises(nb)]
        self.exercises = {ex.grade_id: ex for ex in exercises(nb)}
        self.shell = InteractiveShell.instance()
        # A namespace of its own: the functions a notebook defines keep their globals when
        # the next notebook runs in the same shell.
        self.shell.user_module, self.shell.user_ns = self.shell.prepare_user_module(None, None)
        self.shell.reset(new_session=False)
        allowed = set()
        # every solution cell, run again in each grading namespace before an answer: then the
        # functions of later exercises call the answer (a student's rnn_forward calls the
        # student's rnn_step_forward), as they do in a student's kernel
        self.solutions = [cell.source for cell in nb.cells if cell.cell_type == "code" and is_solution(cell)]
        with self.context():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                source = self.shell.transform_cell(cell.source)
                if is_solution(cell):
                    allowed |= defined_names(source)
                else:
                    allowed |= imported_names(source)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = self.shell.run_cell(cell.source, store_history=False)
                self._close_figures()
                if not result.success:
                    error = result.error_before_exec or result.error_in_exec
                    raise RuntimeError(f"{name}: cell {index} failed in the catalogue run: {error!r}")
        self.namespace = dict(self.shell.user_ns)
        self.grading_namespace = {k: self.namespace[k] for k in allowed if k in self.namespace}
        self.grading_namespace["__builtins__"] = self.namespace["__builtins__"]
        self.grading_namespace["__name__"] = "__main__"

    @contextlib.contextmanager
    def context(self):
        """Inside the notebook's folder, as nbgrader's autograder sees it."""
        saved = {k: os.environ.get(k) for k in ("NBGRADER_EXECUTION", "MPLBACKEND")}
        os.environ.update(NBGRADER_EXECUTION="autograde", MPLBACKEND="Agg")
        import matplotlib

        matplotlib.use("Agg")
        try:
            with contextlib.chdir(self.workdir):
                yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    @staticmethod
    def _close_figures():
        import matplotlib.pyplot as plt

        plt.close("all")

    def _exec(self, source, label, namespace):
        """Run a cell; returns the value of its last line when that line is an expression."""
        tree = ast.parse(self.shell.transform_cell(source))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, label, "exec"), namespace)  # noqa: S102 (the point of the harness)
        if last is not None:
            return eval(compile(last, label, "eval"), namespace)  # noqa: S307
        return None

    def grade(self, exercise, solution_source):
        """Run ``solution_source`` in place of the exercise, then its grade cells in order.

        Returns (errors, caught warnings): errors is a list of (grade_id, exception) of
        the grade cells that raised.
        """
        ex = self.exercises[exercise]
        namespace = dict(self.namespace)
        errors = []
        with self.context(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self._exec(solution_source, f"<solution cell {exercise}>", namespace)
            for index, cell in ex.tests:
                grade_id = cell.metadata["nbgrader"]["grade_id"]
                try:
                    self._exec(cell.source, f"<grade cell {grade_id}>", namespace)
                except Exception as exc:  # noqa: BLE001 (any failure of a test cell counts)
                    errors.append((grade_id, exc))
                finally:
                    self._close_figures()
        return errors, list(caught)

    def cells_from(self, exercise):
        """The grade cells of ``exercise`` and of every later exercise, in order."""
        start = self.order.index(exercise)
        return [cell for ex in self.order[start:] for _, cell in self.exercises[ex].tests]

    def _run_alone(self, exercise, solution_source, source, label):
        """'' if the cell passes after the answer, else why it fails."""
        namespace = dict(self.grading_namespace)
        with self.context(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                for index, solution in enumerate(self.solutions):
                    self._exec(solution, f"<solution cell {index}>", namespace)
                self._exec(solution_source, f"<solution cell {exercise}>", namespace)
            except Exception as exc:  # noqa: BLE001
                return f"the answer does not run: {type(exc).__name__}: {exc}"
            try:
                value = self._exec(source, label, namespace)
            except Exception as exc:  # noqa: BLE001 (any failure of a test cell counts)
                return f"{type(exc).__name__}: {exc}"
            finally:
                self._close_figures()
        if caught:
            return "a warning escapes the cell: " + "; ".join(
                f"{w.category.__name__}: {w.message}" for w in caught)
        if value is not None:
            return f"the cell ends with an expression whose value is {value!r}"
        return ""

    def verdicts(self, exercise, solution_source, cells=None):
        """{grade_id: Verdict} of each grade cell run alone after the answer, visible part and whole."""
        out = {}
        for cell in cells if cells is not None else [c for _, c in self.exercises[exercise].tests]:
            meta = nbgrader_meta(cell)
            grade_id = meta["grade_id"]
            full = self._run_alone(exercise, solution_source, cell.source, f"<grade cell {grade_id}>")
            visible = self._run_alone(exercise, solution_source, visible_part(cell.source),
                                      f"<grade cell {grade_id}, visible part>")
            out[grade_id] = Verdict(visible, full, float(meta.get("points", 0)))
        return out


_RUNS = {}


def executed(name, tmp_path_factory):
    """The notebook ``name`` executed once per process (shared by the catalogue and fairness
    tests), or the exception that stopped it."""
    if name not in _RUNS:
        workdir = copy_assignment(name, tmp_path_factory.mktemp(f"executed-{name}"))
        try:
            _RUNS[name] = Executed(name, workdir)
        except Exception as exc:  # remember the failure: do not rerun it for every entry
            _RUNS[name] = exc
    return _RUNS[name]


def group(name):
    """The xdist group of a notebook's tests: one worker executes it and grades every entry."""
    return f"executed-{name}"
