"""Execute one sanitized notebook with nbgrader's Execute preprocessor, the kernel sandboxed.

This runs in a worker process of the grading pool, outside the sandbox: only the kernel
is confined, so student code can neither see nor tamper with the process that reads
its results. Around the instructor's cells the executor asks the kernel guard
(kernel_guard.py) to put back what student code changed; a grade cell during which the
guarded state changed, or that ran after the kernel stopped answering the guard, is
voided with an error output, which nbgrader scores as zero.

The notebook as a whole is bounded: a wall-clock limit, an output budget (bytes of text
and data the kernel may send), and the sandbox's rlimits. When one of them ends the run,
or the kernel dies (os._exit, a crash), the grade cells not yet run get an error output
saying why, so that they score zero rather than counting as passed or missing.

Grade cells do not run in the kernel at all: the worker runs the instructor's source of
each one itself (verdicts.py), calling the student's functions in the kernel through the
server that is installed there before the first cell (kernel_server.py, wire.py). A
failure of this machinery before any student code ran (the kernel does not start, the
server or the guard cannot be installed) is reported as ``machinery``, never as a grade.
"""
import ast
import copy
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError
from nbgrader import utils
from nbgrader.preprocessors import Execute

from . import seal
from .remote import KernelCalls, KernelGone
from .sandbox import SandboxedKernelManager
from .verdicts import SourceCells, TrustedCells, error_output

HERE = Path(__file__).parent
GUARD_SOURCE = (HERE / "kernel_guard.py").read_text(encoding="utf-8")
SERVER_SOURCE = (HERE / "kernel_server.py").read_text(encoding="utf-8")
GUARD = "__import__('sys').modules['_autograder_guard']"


def cell_kind(cell):
    """'test' for the instructor's grade cells, 'locked' for their other cells, else 'student'."""
    if cell.cell_type != "code":
        return "other"
    if utils.is_grade(cell) and not utils.is_solution(cell):
        return "test"
    if utils.is_locked(cell) and not utils.is_solution(cell):
        return "locked"
    return "student"


class GuardedExecute(Execute):
    """nbgrader's Execute, with the kernel in the sandbox, a guard, and hard limits."""

    def __init__(self, sandbox, limits, source=None, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = sandbox
        self.limits = limits
        self.kernel_name = "python3"
        self.findings = []
        self.problems = []
        self.records = []
        self.abort = None
        self.machinery = None
        self.source = source
        self.trusted = None
        self.calls = None
        self._output_bytes = 0
        self._guarded = False
        self._last_found = []
        self._silence = ""
        self._guard_sync = run_sync(self._guard)

    # -- the kernel ---------------------------------------------------------------------

    def create_kernel_manager(self):
        scratch = self.sandbox["scratch"]
        self.km = SandboxedKernelManager(
            sandbox=self.sandbox if self.sandbox["confined"] else None, sealed=self.sandbox.get("sealed"),
            kernel_name=self.kernel_name, config=self.config, transport="ipc",
            ip=str(Path(scratch) / "kernel"), connection_file=str(Path(scratch) / "kernel.json"))
        return self.km

    def kill_kernel(self, reason):
        if self.abort is None:
            self.abort = reason
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)

    # -- output budget ------------------------------------------------------------------

    def count_output(self, size):
        """Count ``size`` bytes against the budget; False (and the kernel killed) when it is spent."""
        self._output_bytes += size
        if self._output_bytes > self.limits.output_bytes:
            self.kill_kernel(f"the notebook sent more than {self.limits.output_bytes // 1024} KiB of output")
            return False
        return True

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
        if not self.count_output(size):
            return None
        return super().output(outs, msg, display_id, cell_index)

    # -- the guard ----------------------------------------------------------------------

    async def _guard(self, code, phase):
        nonce = secrets.token_hex(12)
        if phase:
            code = f"{GUARD}.check({phase!r}, {nonce!r})"
        msg_id = self.kc.execute(code, silent=False, store_history=False, allow_stdin=False,
                                 user_expressions={"answer": f"{GUARD}.answer()"})
        reply = await self.async_wait_for_reply(msg_id)
        if reply is None:
            self._silence = "the kernel did not answer the grader's check (it is hung or busy)"
            return None
        answer = reply["content"].get("user_expressions", {}).get("answer", {})
        try:
            parsed = ast.literal_eval(ast.literal_eval(answer["data"]["text/plain"]))
        except (KeyError, ValueError, SyntaxError, TypeError):
            parsed = None
        if phase is None:
            content = reply["content"]
            if content.get("status") != "ok":
                self._silence = f"{content.get('ename')}: {content.get('evalue')}"
            return content.get("status") == "ok"
        if not isinstance(parsed, dict) or parsed.get("nonce") != nonce:
            content = reply["content"]
            if content.get("status") == "error":
                self.problems.append(f"the grader's check failed: {content.get('ename')}: {content.get('evalue')}")
            self._silence = ("the kernel did not run the grader's check: "
                             "its execution machinery was replaced")
            return None
        return list(parsed.get("found", []))

    def guard(self, phase, cell_index):
        """Run a guard phase; record what it restored; False when the kernel did not answer."""
        try:
            found = self._guard_sync(None, phase)
        except (CellTimeoutError, TimeoutError):
            found, self._silence = None, "the kernel did not answer the grader's check (it is hung or busy)"
        if found is None:
            self.abort = self.abort or f"at cell {cell_index}, {self._silence}"
            if "replaced" in self._silence:
                self.findings.append(self.abort)
            return False
        for item in found:
            self.findings.append(f"cell {cell_index} ({phase.replace('_', ' ')}): {item}")
        self._last_found = found
        return True

    # -- cells --------------------------------------------------------------------------

    def preprocess_cell(self, cell, resources, index):
        kind = cell_kind(cell)
        if kind == "other":
            return cell, resources
        if self.abort is not None:
            return self._skip(cell, index), resources
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if kind == "test" and self.source is not None and grade_id not in self.source.tests:
            kind = "student"  # grade metadata the source does not know: the student's own cell
        try:
            if not self._guarded:
                self._guarded = True
                if not self._install():
                    return self._skip(cell, index), resources
            if kind == "test" and not self.guard("before_grade", index):
                return self._skip(cell, index), resources
            if kind == "locked" and not self.guard("before_locked", index):
                return self._skip(cell, index), resources
            if kind == "test" and self.trusted is not None:
                try:
                    cell.outputs, record = self.trusted.run(grade_id, self.timeout)
                except KernelGone:
                    return self._skip(cell, index), resources
                cell.execution_count = None
                self.records.append(record)
                if record["status"] == "timeout":
                    self.problems.append(f"cell {index} timed out after {self.timeout} s")
            else:
                cell, resources = super().preprocess_cell(cell, resources, index)
            if self.abort is not None:
                return self._skip(cell, index), resources
            if kind == "test":
                if not self.guard("after_grade", index):
                    return self._skip(cell, index), resources
                if self._last_found:
                    cell.outputs.append(error_output(
                        "GradingIntegrityError",
                        "this test was voided: during it, code changed what the tests rely on ("
                        + "; ".join(self._last_found) + ")"))
            elif kind == "locked":
                self.guard("after_locked", index)
        except CellTimeoutError:
            self.problems.append(f"cell {index} timed out after {self.timeout} s")
            if not run_sync(self.km.is_alive)():
                self.abort = self.abort or f"the kernel died after cell {index} timed out"
                return self._skip(cell, index), resources
            if cell.cell_type == "code" and not any(o.get("output_type") == "error" for o in cell.outputs):
                cell.outputs.append(error_output("CellTimeoutError", f"the cell ran longer than {self.timeout} s"))
            return cell, resources
        except Exception as exc:  # DeadKernelError, a broken reply
            if self.abort is None:
                self.abort = f"the kernel stopped at cell {index}: {type(exc).__name__}: {exc}".strip()
            return self._skip(cell, index), resources
        return cell, resources

    def _install(self):
        """The server (when the grade cells run here) and the guard, in the kernel; False if either fails."""
        installs = [("guard", GUARD_SOURCE)]
        if self.source is not None:
            sealed = seal.sealed_functions(self.sandbox["assignment"]) if self.sandbox.get("sealed") else frozenset()
            self.calls = KernelCalls(self, self.sandbox["rpc"], sealed)
            installs.insert(0, ("server", self.calls.install_code(SERVER_SOURCE)))
        for what, code in installs:
            failed = not self._guard_sync(code, None)
            if not failed and what == "server":
                try:
                    self.calls.accept()
                except OSError as exc:
                    failed, self._silence = True, f"it did not connect to the grader: {exc}"
            if failed:
                self.abort = self.machinery = (f"the grader's {what} could not be installed in the kernel "
                                               f"({self._silence})" + _missing_module_hint(self._silence))
                return False
        if self.source is not None:
            self.trusted = TrustedCells(self.source, self.calls)
        return True

    def _skip(self, cell, index):
        if cell_kind(cell) == "test" or (utils.is_grade(cell) and cell.cell_type == "code"):
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
            cell.outputs.append(error_output("GradingAborted", f"not graded: {self.abort}"))
        return cell


def _missing_module_hint(error):
    """What to do when the kernel cannot import what the grader needs."""
    if "ModuleNotFoundError" not in error:
        return ""
    return ("; the kernel runs the Python environment of the grader (" + sys.prefix + ") with only its "
            "installation, rnnkit's package and the course data mounted: install the missing package there, "
            "and rnnkit from this course (pip install -e <course root>)")


def _calls_folder(scratch):
    """A new folder of the grader's, beside the run's scratch folders, for the socket of the calls."""
    base = scratch.parent.parent / "calls"
    base.mkdir(mode=0o700, exist_ok=True)
    if len(str(base)) > 60:
        base = Path(tempfile.gettempdir())
    folder = Path(tempfile.mkdtemp(prefix="calls-", dir=base))
    os.chmod(folder, 0o755)
    return folder


def execute(sanitized_path, executed_path, sandbox, limits, config, source_path=None):
    """Execute the notebook at ``sanitized_path``; write the result to ``executed_path``.

    sandbox: dict with scratch (the kernel's writable folder), cwd (its working folder,
    inside scratch), slot (the worker's number, which picks its uid) and confined (False
    only under --no-sandbox). source_path: the instructor's source notebook, whose grade
    cells the worker runs itself (None runs them in the kernel, as nbgrader does).
    Returns a dict: seconds, problems, findings, output_bytes, records (one per grade
    cell run here) and machinery (why the grading machinery failed, or None).
    """
    start = time.monotonic()
    nb = nbformat.read(sanitized_path, as_version=nbformat.NO_CONVERT)
    config = copy.deepcopy(config)
    config.Execute.timeout = limits.cell_timeout
    # a loaded machine may deliver a cell's last output late; lateness is not an error
    config.Execute.iopub_timeout = 30
    source = SourceCells(nbformat.read(str(source_path), as_version=4)) if source_path else None
    if source is not None:
        # the grader's own folder, read-only in the sandbox: the socket of the calls (remote.py),
        # on a short path (a Unix socket's path has at most 107 bytes)
        sandbox = dict(sandbox, rpc=_calls_folder(Path(sandbox["scratch"])))
    executor = GuardedExecute(sandbox, limits, source=source, config=config)
    timer = threading.Timer(limits.notebook_timeout, executor.kill_kernel,
                            args=(f"the notebook ran longer than {limits.notebook_timeout} s",))
    timer.daemon = True
    timer.start()
    resources = {"metadata": {"path": str(sandbox["cwd"])}}
    try:
        with utils.setenv(NBGRADER_EXECUTION="autograde"):
            executor.preprocess(nb, resources)
    except Exception as exc:
        if executor.abort is None and not executor._guarded:
            executor.machinery = f"the kernel could not start: {type(exc).__name__}: {exc}"
        executor.abort = executor.abort or f"the kernel could not run: {type(exc).__name__}: {exc}"
        for index, cell in enumerate(nb.cells):
            if not cell.get("outputs") and cell_kind(cell) == "test":
                executor._skip(cell, index)
    finally:
        timer.cancel()
        if executor.calls is not None:
            executor.calls.close()
        if sandbox.get("rpc") is not None:
            shutil.rmtree(sandbox["rpc"], ignore_errors=True)
        km = getattr(executor, "km", None)
        if km is not None:
            process = getattr(getattr(km, "provisioner", None), "process", None)
            if process is not None and process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
    problems = list(executor.problems)
    if executor.abort:
        problems.append(executor.abort)
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == "CellTimeoutError":
                message = f"cell {index} timed out after {limits.cell_timeout} s"
                if message not in problems:
                    problems.append(message)
    nbformat.write(nb, executed_path)
    return {"seconds": time.monotonic() - start, "problems": problems, "findings": executor.findings,
            "output_bytes": executor._output_bytes, "records": executor.records,
            "machinery": executor.machinery}

