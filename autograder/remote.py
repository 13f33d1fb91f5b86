"""The grader's end of the calls into the student's kernel.

verdicts.py runs a grade cell's code in the grading worker, outside the sandbox; each
name of a student function in that code is bound to a ``StudentFunction``, whose call
sends the arguments as data (wire.py) to the kernel's server (kernel_server.py) over a
Unix socket, waits for its answer within the cell's time, and returns the result as data,
having copied back what the call changed in its arguments and re-issued its warnings
here, so that the checks see what they would see in one process.

The socket is the grader's: it listens in a folder of its own that is mounted read-only
into the sandbox, accepts the one connection the server makes when it is installed
(before any student code has run), and then listens no more. Every frame it reads is
bounded in size and decoded as data; a call that outlives the cell's time is interrupted
and, if it does not stop, the kernel is killed.

Everything the verdict depends on (the inputs, the reference, the comparison, the
message) stays in this process; the kernel contributes only the values its functions
return. One thing the kernel reports about itself: the warnings its functions issued.
A kernel whose code has rewritten the server could leave them out; the guard restores
the server's modules before every grade cell and voids a test during which they changed.
"""
import builtins
import contextlib
import os
import re
import socket
import struct
import sys
import time
import warnings

from jupyter_core.utils import run_sync

from . import wire

INTERRUPT_GRACE = 10.0
SOCKET_NAME = "calls.sock"


class CellTimeout(BaseException):
    """The cell's time ran out during a call (BaseException: a check must not swallow it)."""


class KernelGone(BaseException):
    """The kernel died or stopped answering; nothing more can be graded in it."""


class _Late(BaseException):
    """The cell's time ran out while the grader waited for the kernel."""


def student_exception(error):
    """The exception a student's function raised, rebuilt here from its name and message."""
    name, message = ((list(error) if isinstance(error, list) else ["Exception", ""]) + ["", ""])[:2]
    name, message = str(name)[:80], str(message)[:2000]
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        with contextlib.suppress(Exception):
            return cls(message)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        name = "Exception"
    if name in ("KeyboardInterrupt", "SystemExit", "GeneratorExit"):
        return RuntimeError(f"{name}: {message}")
    return type(name, (Exception,), {"__module__": "student"})(message)


def _warning_category(name):
    cls = getattr(builtins, str(name), None)
    return cls if isinstance(cls, type) and issubclass(cls, Warning) else UserWarning


class StudentFunction:
    """Stands, in the grader's namespace, for the student's function of that name."""

    def __init__(self, calls, name):
        self._calls = calls
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._calls.call(self, args, kwargs)

    def __repr__(self):
        return f"<function {self.__name__} of the student's notebook>"

    @contextlib.contextmanager
    def remote_spy(self, name):
        """The calls of rnnkit's ``name`` made by the student's code within the block, as a list."""
        calls = self._calls.spies.setdefault(name, [])
        try:
            yield calls
        finally:
            self._calls.spies.pop(name, None)


class KernelCalls:
    """Calls of the student's functions in the kernel of ``executor`` (execute.GuardedExecute).

    folder: a folder of the grader's, mounted read-only into the sandbox, where it listens;
    sealed: rnnkit's functions the kernel does not have (seal.sealed_functions).
    """

    def __init__(self, executor, folder, sealed=frozenset(), answer_limit=wire.MAX_PACKET):
        self.executor = executor
        self.path = os.path.join(str(folder), SOCKET_NAME)
        self.sealed = sealed
        self.answer_limit = answer_limit
        self.side = wire.Side("grader", special=self._special)
        self.deadline = float("inf")
        self.counts = {}
        self.spies = {}
        self.channel = None
        self._seq = 0
        self._forget = True
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        os.chmod(self.path, 0o777)   # the sandbox's uid connects
        self._listener.listen(1)
        self._interrupt = run_sync(self._interrupt_async)

    def install_code(self, server_source):
        """The code that installs the server in the kernel and connects it here."""
        return f"{server_source}\n_install({WIRE_SOURCE!r}, {self.path!r})\ndel _install\n"

    def accept(self, timeout=30.0):
        """Take the server's connection, and no other: the listener closes."""
        self._listener.settimeout(timeout)
        try:
            self.channel, _ = self._listener.accept()
        finally:
            self._listener.close()
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def close(self):
        for sock in (self.channel, self._listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def _special(self, value):
        if isinstance(value, StudentFunction):
            return ["fn", value.__name__]
        if callable(value) and not isinstance(value, (type, wire.Remote, StudentFunction)):
            name = self._in_kernel(value)
            if name is not None:
                return ["rk", name]   # the kernel's rnnkit has it: no call back needed
            return ["cb", self.side.keep(value), getattr(value, "__name__", "callback")[:80]]
        return None

    def _in_kernel(self, fn):
        """``module.name`` of a top-level function of rnnkit that the kernel's rnnkit also has, else None."""
        module, name = getattr(fn, "__module__", None) or "", getattr(fn, "__qualname__", "")
        if not (module == "rnnkit" or module.startswith("rnnkit.")) or not name.isidentifier():
            return None
        if getattr(sys.modules.get(module), name, None) is not fn or f"{module}.{name}" in self.sealed:
            return None
        return f"{module}.{name}"

    def new_cell(self, deadline):
        """A grade cell starts: its deadline, its call counts; the previous cell's objects are dropped."""
        self.deadline = deadline
        self.counts = {}
        self.side.forget()
        self._forget = True

    # -- one call ----------------------------------------------------------------------

    def call(self, fn, args, kwargs):
        if self.executor.abort is not None:
            raise KernelGone(self.executor.abort)
        if self.channel is None:
            raise KernelGone("the grader's server is not connected")
        self.counts[fn.__name__] = self.counts.get(fn.__name__, 0) + 1
        self._seq += 1
        seq = self._seq
        self._send(wire.encode({"fn": fn, "args": list(args), "kwargs": dict(kwargs)}, self.side,
                               extra={"kind": "call", "seq": seq, "spy": sorted(self.spies), "forget": self._forget}))
        self._forget = False
        try:
            value, extra = self._answer(seq)
        except _Late:
            self._time_up(fn.__name__)
        if not isinstance(value, dict):
            value = {}
        with contextlib.suppress(Exception):
            wire.write_back(list(args), value.get("args"))
            wire.write_back(dict(kwargs), value.get("kwargs"))
        spied = extra.get("spied") if isinstance(extra.get("spied"), dict) else {}
        for name, calls in self.spies.items():
            count = spied.get(name, 0)
            calls.extend([()] * (count if isinstance(count, int) and 0 <= count < 10**6 else 0))
        for item in (extra.get("warnings") or [])[:20]:
            if isinstance(item, list) and len(item) == 2:
                warnings.warn(str(item[1])[:500], _warning_category(item[0]), stacklevel=3)
        if extra.get("status") != "ok":
            raise student_exception(extra.get("error"))
        return value.get("result")

    def _answer(self, seq):
        """The kernel's answer to call ``seq``, serving its call backs meanwhile."""
        while True:
            value, extra = self._receive()
            if extra.get("kind") == "callback":
                self._callback(value, extra)
            elif extra.get("kind") == "result" and extra.get("seq") == seq:
                return value, extra
            # anything else is a late answer to a call that was interrupted: dropped

    def _callback(self, value, extra):
        """The student's code calls a grader callable: run it here (it may call the student's functions)."""
        out = {"kind": "return"}
        try:
            target = self.side.kept.get(extra.get("callback"))
            if not callable(target) or not isinstance(value, dict):
                raise wire.WireError("a call back to nothing the grader sent")
            result = target(*value.get("args", ()), **value.get("kwargs", {}))
        except (CellTimeout, KernelGone, _Late):
            raise
        except Exception as exc:
            result, out["error"] = None, [type(exc).__name__, str(exc)[:2000]]
        self._send(wire.encode(result, self.side, extra=out))

    # -- frames ------------------------------------------------------------------------

    def _send(self, packet):
        try:
            self.channel.sendall(struct.pack("<Q", len(packet)) + packet)
        except OSError as exc:
            self._gone(f"the kernel's server stopped answering ({exc.strerror or exc})")

    def _receive(self):
        """One frame from the kernel, decoded; _Late when the cell's time is up first."""
        try:
            (size,) = struct.unpack("<Q", self._exactly(8))
            if size > self.answer_limit:
                self._gone(f"the kernel sent an answer larger than {self.answer_limit // 2**20} MiB")
            packet = self._exactly(size)
        except OSError as exc:
            self._gone(f"the kernel's server stopped answering ({exc.strerror or exc})")
        try:
            value, extra = wire.decode(packet, self.side, self.answer_limit)
        except wire.WireError as exc:
            self._gone(f"the kernel sent a malformed answer ({exc})")
        return value, (extra if isinstance(extra, dict) else {})

    def _exactly(self, n):
        chunks = []
        while n:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise _Late()
            self.channel.settimeout(min(remaining, 1.0))
            try:
                chunk = self.channel.recv(min(n, 1 << 20))
            except socket.timeout:
                if self.executor.abort is not None:
                    raise KernelGone(self.executor.abort) from None
                if not run_sync(self.executor.km.is_alive)():
                    self._gone("the kernel died during a call of the student's function")
                continue
            if not chunk:
                self._gone("the kernel died during a call of the student's function")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _time_up(self, name):
        """Interrupt the call; its (error) answer comes within the grace, or the kernel is killed."""
        self._interrupt()
        self.deadline = time.monotonic() + INTERRUPT_GRACE
        try:
            while True:
                _, extra = self._receive()
                if extra.get("kind") == "result":
                    break
                if extra.get("kind") == "callback":
                    self._send(wire.encode(None, self.side, extra={"kind": "return",
                                                                   "error": ["TimeoutError", "time is up"]}))
        except _Late:
            self._gone(f"the kernel did not stop {name} when its time was up")
        raise CellTimeout(name)

    async def _interrupt_async(self):
        kc = self.executor.kc
        msg_id = kc.execute("__import__('sys').modules['_autograder_server'].interrupt()", silent=True,
                            store_history=False, allow_stdin=False)
        with contextlib.suppress(Exception):
            await self.executor.async_wait_for_reply(msg_id)

    def _gone(self, why):
        self.executor.kill_kernel(why)
        raise KernelGone(self.executor.abort)


WIRE_SOURCE = open(os.path.join(os.path.dirname(__file__), "wire.py"), encoding="utf-8").read()

__all__ = ["KernelCalls", "StudentFunction", "CellTimeout", "KernelGone", "student_exception"]
