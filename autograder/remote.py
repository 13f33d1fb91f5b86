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
import asyncio
import base64
import builtins
import contextlib
import os
import re
import secrets
import stat
import sys
import time
import warnings

from jupyter_core.utils import run_sync

from . import wire

CODE = "__import__('sys').modules['_autograder_server'].call({token!r}, {scratch!r}, {request!r}, {forget!r})"
INTERRUPT_GRACE = 10.0
POLL = 0.002                         # seconds between looks at the kernel's other channels
PAUSE_MIN, PAUSE_MAX = 0.0002, 0.02   # seconds between looks while a callback waits


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

    def __init__(self, executor, scratch, sealed=frozenset(), answer_limit=wire.MAX_PACKET):
        self.executor = executor
        self.scratch = str(scratch)
        self.sealed = sealed    # rnnkit's functions the kernel does not have (seal.sealed_functions)
        self.answer_limit = answer_limit
        self.side = wire.Side("grader", special=self._special)
        self.deadline = float("inf")
        self.counts = {}
        self.spies = {}
        self._forget = True
        self._callback_loop = None   # the event loop, while a grader callable runs in its thread
        self._nested_calls = 0
        self._token = None
        self._call_sync = run_sync(self._call)

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

    def call(self, fn, args, kwargs):
        if self.executor.abort is not None:
            raise KernelGone(self.executor.abort)
        self.counts[fn.__name__] = self.counts.get(fn.__name__, 0) + 1
        request = wire.encode({"fn": fn, "args": list(args), "kwargs": dict(kwargs)}, self.side,
                              extra={"spy": sorted(self.spies)})
        if self._callback_loop is not None:
            # a grader callable, called back from the student's code, calls a student function:
            # the kernel is waiting in its input request, which is answered with the call
            future = asyncio.run_coroutine_threadsafe(self._nested(request, fn.__name__), self._callback_loop)
            answer = future.result()
        else:
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
        token = self._token = secrets.token_hex(8)
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
        checked = time.monotonic()
        while True:
            # wake on the reply at once; look at the other channels between short waits
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await kc.shell_channel.socket.poll(timeout=int(min(remaining, POLL) * 1000) + 1)
            while await kc.shell_channel.msg_ready():
                msg = await kc.shell_channel.get_msg(timeout=0)
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return msg
            if await kc.iopub_channel.msg_ready():
                await self._drain_iopub()
            if await kc.stdin_channel.msg_ready():
                await self._callback(await kc.stdin_channel.get_msg(timeout=0), token)
            if self.executor.abort is not None:
                raise KernelGone(self.executor.abort)
            if time.monotonic() - checked > 1.0:
                checked = time.monotonic()
                if not await self.executor.km.is_alive():
                    self.executor.kill_kernel("the kernel died during a call of the student's function")
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
            if not callable(target) or not isinstance(value, dict) or self._callback_loop is not None:
                raise wire.WireError("a callback to nothing the grader sent")
            # the callable runs in a thread, so that this loop can serve the student functions it calls
            self._callback_loop = asyncio.get_running_loop()
            try:
                result = await self._callback_loop.run_in_executor(
                    None, lambda: target(*value.get("args", ()), **value.get("kwargs", {})))
            finally:
                self._callback_loop = None
        except KernelGone:
            raise
        except Exception as exc:
            result, extra_out = None, {"error": [type(exc).__name__, str(exc)[:2000]]}
        answer = wire.encode(result, self.side, extra=extra_out)
        self.executor.kc.input(base64.b64encode(answer).decode("ascii"))

    async def _nested(self, request, name):
        """A student function called by a grader callable: answer the kernel's pending input with it."""
        kc, token = self.executor.kc, self._token
        self._nested_calls += 1
        number = self._nested_calls
        kc.input("call:" + base64.b64encode(request).decode("ascii"))
        pause = PAUSE_MIN
        while True:
            busy = False
            if await kc.iopub_channel.msg_ready():
                await self._drain_iopub()
                busy = True
            if await kc.stdin_channel.msg_ready():
                msg = await kc.stdin_channel.get_msg(timeout=0)
                if str(msg.get("content", {}).get("prompt", "")) == f"autograder-result {token} {number}":
                    return read_answer(self.scratch, f"rpc-{token}-r{number}.out", self.answer_limit)
                kc.input("")
                busy = True
            if self.executor.abort is not None:
                raise KernelGone(self.executor.abort)
            if time.monotonic() >= self.deadline:
                raise CellTimeout(name)
            pause = PAUSE_MIN if busy else min(pause * 1.5, PAUSE_MAX)
            await asyncio.sleep(pause)


__all__ = ["KernelCalls", "StudentFunction", "CellTimeout", "KernelGone", "read_answer", "student_exception"]
