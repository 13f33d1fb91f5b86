"""Grade cells run by the grader, outside the student's kernel.

While a notebook is graded, its grade cells do not run in the student's kernel. The
grading worker runs the instructor's source of each grade cell (from the source
notebook, never from the submission) in a namespace of its own: the imports of the
instructor's other cells (as the source has them), then every name that a solution cell of the source defines bound to
a ``StudentFunction`` (remote.py), which calls the student's function of that name in
the kernel. So the inputs, the reference, the comparison and the message of every check
are computed here, and what the kernel prints or patches cannot raise a grade.

The cell's outputs are what nbgrader would score: its printed text, an error output
carrying only the exception's message (never the hidden tests' source), and, as in a
kernel, an execute result when the cell ends with an expression that has a value (which
nbgrader would read as a partial score; the canary refuses a source that does this).
Each run also leaves a record: the checks the cell ran (the calls, written in the cell,
of functions of rnnkit.checks and rnnkit.testing) and the student functions called, with
how often each.
"""
import ast
import builtins
import contextlib
import io
import time
import warnings

from nbformat.notebooknode import NotebookNode
from nbgrader import utils

from .remote import CellTimeout, KernelCalls, KernelGone, StudentFunction


def error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _parse(source):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def defined_names(source):
    """Names a cell binds at its top level (functions, classes, assignments)."""
    tree = _parse(source)
    names = []
    for node in tree.body if tree else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def import_statements(source):
    """The top-level import statements of a cell, as one module."""
    tree = _parse(source)
    body = [n for n in (tree.body if tree else []) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return ast.Module(body=body, type_ignores=[])


class SourceCells:
    """What the grader takes from the instructor's source notebook of an assignment."""

    def __init__(self, source_nb):
        self.tests, self.student_names, self.imports = {}, [], []
        for cell in source_nb.cells:
            if cell.cell_type != "code":
                continue
            if utils.is_solution(cell):
                self.student_names += [n for n in defined_names(cell.source) if n not in self.student_names]
            elif utils.is_grade(cell):
                self.tests[cell.metadata.nbgrader.get("grade_id")] = cell.source
            else:
                # the instructor's cells, as the source has them (the student's copy may differ)
                self.imports.append(import_statements(cell.source))


class TrustedCells:
    """Runs the grade cells of one notebook in the grading worker; see the module's docstring."""

    def __init__(self, source, calls: KernelCalls):
        self.source = source
        self.calls = calls
        self.ns = None
        self.checks = {}

    def _namespace(self):
        ns = {"__name__": "__main__", "__builtins__": builtins}
        for module in self.source.imports:
            exec(compile(module, "<the notebook's imports>", "exec"), ns)
        for name in self.source.student_names:
            ns[name] = StudentFunction(self.calls, name)
        return ns

    def run(self, grade_id, timeout):
        """(outputs, record) of the grade cell ``grade_id``; raises KernelGone if the kernel is lost."""
        record = {"grade_id": grade_id, "calls": {}, "checks": {}, "status": "passed"}
        outputs = []
        self.checks = {}
        self.calls.new_cell(time.monotonic() + timeout)
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
                    warnings.catch_warnings():
                warnings.simplefilter("default")
                if self.ns is None:
                    self.ns = self._namespace()
                value = self._execute(self.source.tests[grade_id])
            if value is not None:
                record["status"] = "value"
                outputs.append(NotebookNode(output_type="execute_result", execution_count=None, metadata={},
                                            data={"text/plain": _short_repr(value)}))
        except CellTimeout as exc:
            record["status"] = "timeout"
            outputs.append(error_output("CellTimeoutError", f"the cell ran longer than {timeout} s "
                                                            f"(in a call of {exc.args[0] if exc.args else 'a function'})"))
        except KernelGone:
            raise
        except Exception as exc:
            record["status"] = "failed"
            message = _message(exc)
            record["message"] = message[:500]
            outputs.append(error_output(type(exc).__name__, message))
        finally:
            record["calls"] = dict(self.calls.counts)
            record["checks"] = dict(self.checks)
        streams = [NotebookNode(output_type="stream", name=name, text=text[:100_000])
                   for name, text in (("stdout", stdout.getvalue()), ("stderr", stderr.getvalue())) if text]
        return streams + outputs, record

    def _execute(self, source):
        tree = _RecordChecks().visit(ast.parse(source))
        ast.fix_missing_locations(tree)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        self.ns[RECORD] = self._record_check
        exec(compile(tree, "<grade cell>", "exec"), self.ns)
        if last is None:
            return None
        return eval(compile(ast.Expression(last.value), "<grade cell>", "eval"), self.ns)

    def _record_check(self, fn):
        """Count a call, written in the grade cell, of a function of the checks (rnnkit.checks, rnnkit.testing)."""
        module = getattr(fn, "__module__", None) or ""
        if module.startswith(("rnnkit.checks", "rnnkit.testing")):
            name = f"{module}.{getattr(fn, '__qualname__', '?')}"
            self.checks[name] = self.checks.get(name, 0) + 1
        return fn


RECORD = "__grader_record__"


class _RecordChecks(ast.NodeTransformer):
    """f(...) written in a grade cell becomes __grader_record__(f)(...), which counts the checks it runs."""

    def visit_Call(self, node):
        self.generic_visit(node)
        node.func = ast.Call(func=ast.Name(id=RECORD, ctx=ast.Load()), args=[node.func], keywords=[])
        return node


def _message(exc):
    try:
        return str(exc)
    except Exception:
        return f"{type(exc).__name__} (its message could not be shown)"


def _short_repr(value):
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text[:1000]


__all__ = ["SourceCells", "TrustedCells", "error_output", "KernelGone"]
