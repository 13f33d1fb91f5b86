"""The grader's end of the calls into the student's kernel.

verdicts.py runs a grade cell's code in the grading worker, outside the sandbox; each
name of a student function in that code is bound to a ``StudentFunction``, whose call
sends the arguments as data (wire.py) to the kernel's server (kernel_server.py), waits
for its answer within the cell's time, and returns the result as data, having copied
back what the call changed in its arguments and re-issued its warnings here, so that the
checks see what they would see in one process. The answer is read from one regular file
of the scratch folder, opened without following links and bounded in size; what the
kernel prints meanwhile is counted against the output budget and dropped.

Everything the verdict depends on (the inputs, the reference, the comparison, the
message) stays in this process; the kernel contributes only the values its functions return.
"""
import base64
import builtins
import contextlib
import os
import re
import secrets
import stat
import time
import warnings

import zmq
import zmq.asyncio
from jupyter_core.utils import run_sync

from . import wire

CODE = "__import__('sys').modules['_autograder_server'].call({token!r}, {scratch!r}, {request!r}, {forget!r})"
INTERRUPT_GRACE = 10.0


class CellTimeout(BaseException):
    """The cell's time ran out during a call (BaseException: a check must not swallow it)."""


class KernelGone(BaseException):
    """The kernel died or stopped answering; nothing more can be graded in it."""


def read_answer(folder, name, limit):
    """The bytes of ``folder/name``: a regular file with one link, not a link, at most ``limit`` bytes."""
    path = os.path.join(folder, name)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise wire.WireError(f"the kernel's answer could not be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise wire.WireError("the kernel's answer is not a regular file")
        if info.st_size > limit:
            raise wire.WireError(f"the kernel's answer is larger than {limit // 2**20} MiB")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise wire.WireError(f"the kernel's answer is larger than {limit // 2**20} MiB")
        return b"".join(chunks)
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)


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
    """Calls of the student's functions in the kernel of ``executor`` (execute.GuardedExecute)."""

    def __init__(self, executor, scratch, answer_limit=wire.MAX_PACKET):
        self.executor = executor
        self.scratch = str(scratch)
        self.answer_limit = answer_limit
        self.side = wire.Side("grader", special=self._special)
        self.deadline = float("inf")
        self.counts = {}
        self.spies = {}
        self._forget = True
        self._busy = False
        self._call_sync = run_sync(self._call)

    def _special(self, value):
        if isinstance(value, StudentFunction):
            return ["fn", value.__name__]
        if callable(value) and not isinstance(value, (type, wire.Remote, StudentFunction)):
            return ["cb", self.side.keep(value), getattr(value, "__name__", "callback")[:80]]
        return None

    def new_cell(self, deadline):
        """A grade cell starts: its deadline, its call counts; the previous cell's objects are dropped."""
        self.deadline = deadline
        self.counts = {}
        self.side.forget()
        self._forget = True

    def call(self, fn, args, kwargs):
        if self._busy:
            raise RuntimeError(f"{fn.__name__} cannot be called from inside a callback of the student's code")
        if self.executor.abort is not None:
            raise KernelGone(self.executor.abort)
        self.counts[fn.__name__] = self.counts.get(fn.__name__, 0) + 1
        request = wire.encode({"fn": fn, "args": list(args), "kwargs": dict(kwargs)}, self.side,
                              extra={"spy": sorted(self.spies)})
        answer = self._call_sync(request, fn.__name__)
        value, extra = wire.decode(answer, self.side, self.answer_limit)
        if not isinstance(value, dict) or not isinstance(extra, dict):
            raise wire.WireError("a malformed answer from the kernel")
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

    async def _call(self, request, name):
        executor = self.executor
        token = secrets.token_hex(8)
        code = CODE.format(token=token, scratch=self.scratch, forget=self._forget,
                           request=base64.b64encode(request).decode("ascii"))
        self._forget = False
        msg_id = executor.kc.execute(code, silent=True, store_history=False, allow_stdin=True)
        reply = await self._wait(msg_id, token, self.deadline)
        if reply is None:
            # the cell's time is up: interrupt the student's function, or kill the kernel
            await executor.km.interrupt_kernel()
            reply = await self._wait(msg_id, token, time.monotonic() + INTERRUPT_GRACE)
            if reply is None:
                executor.kill_kernel(f"the kernel did not stop {name} when its time was up")
                raise KernelGone(executor.abort)
            raise CellTimeout(name)
        try:
            return read_answer(self.scratch, f"rpc-{token}.out", self.answer_limit)
        except wire.WireError as exc:
            status = reply.get("content", {}).get("status")
            if status != "ok":
                raise wire.WireError(f"the kernel did not make the call of {name}") from None
            raise exc

    async def _wait(self, msg_id, token, deadline):
        """The execute reply to ``msg_id``, answering callbacks meanwhile; None when time is up."""
        kc = self.executor.kc
        poller = zmq.asyncio.Poller()
        sockets = {kc.shell_channel.socket: "shell", kc.stdin_channel.socket: "stdin",
                   kc.iopub_channel.socket: "iopub"}
        for sock in sockets:
            poller.register(sock, zmq.POLLIN)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            events = dict(await poller.poll(timeout=int(min(remaining, 1.0) * 1000) + 1))
            if not events:
                if not await self.executor.km.is_alive():
                    self.executor.kill_kernel("the kernel died during a call of the student's function")
                    raise KernelGone(self.executor.abort)
                continue
            for sock in events:
                channel = sockets[sock]
                if channel == "iopub":
                    await self._drain_iopub()
                elif channel == "stdin":
                    msg = await kc.stdin_channel.get_msg(timeout=0)
                    await self._callback(msg, token)
                else:
                    msg = await kc.shell_channel.get_msg(timeout=0)
                    if msg.get("parent_header", {}).get("msg_id") == msg_id:
                        return msg
            if self.executor.abort is not None:
                raise KernelGone(self.executor.abort)

    async def _drain_iopub(self):
        kc = self.executor.kc
        for _ in range(1000):
            if not await kc.iopub_channel.msg_ready():
                return
            msg = await kc.iopub_channel.get_msg(timeout=0)
            content = msg.get("content", {})
            size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in content.get("data", {}).values())
            self.executor.count_output(size)

    async def _callback(self, msg, token):
        """Answer an input request: a call back into a grader callable, or nothing."""
        prompt = str(msg.get("content", {}).get("prompt", ""))
        match = re.fullmatch(r"autograder-callback ([0-9a-f]{16}) ([0-9]{1,9})", prompt)
        if not match or match.group(1) != token:
            self.executor.kc.input("")
            return
        extra_out = {}
        try:
            packet = read_answer(self.scratch, f"rpc-{token}-cb{match.group(2)}.out", self.answer_limit)
            value, extra = wire.decode(packet, self.side, self.answer_limit)
            target = self.side.kept.get(extra.get("callback"))
            if not callable(target) or not isinstance(value, dict):
                raise wire.WireError("a callback to nothing the grader sent")
            self._busy = True
            try:
                result = target(*value.get("args", ()), **value.get("kwargs", {}))
            finally:
                self._busy = False
        except Exception as exc:
            result, extra_out = None, {"error": [type(exc).__name__, str(exc)[:2000]]}
        answer = wire.encode(result, self.side, extra=extra_out)
        self.executor.kc.input(base64.b64encode(answer).decode("ascii"))


__all__ = ["KernelCalls", "StudentFunction", "CellTimeout", "KernelGone", "read_answer", "student_exception"]
