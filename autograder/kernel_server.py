"""The grader's server inside the student's kernel: it calls the student's functions.

This file is not imported by the grader: its text is sent to the kernel once, before
the first cell (before the guard, which then watches it), and registers the modules
``_autograder_wire`` (wire.py) and ``_autograder_server``.

While a grade cell is graded, the grader runs the cell's code itself, outside the
sandbox (verdicts.py). Each time that code calls one of the student's functions, it
sends the call over a Unix socket that the grader listens on (its folder is mounted
read-only into the sandbox); a thread of this module, connected once when it is
installed, receives it, calls the function of that name in the notebook's namespace
(under NumPy's default error handling, with every warning recorded and what it prints
dropped) and sends back the result, the arguments as the call left them, the warnings
and the exception, if any. A grader callable among the arguments is called back over
the same socket, and it may in turn call the student's functions: the protocol is
strictly nested, one frame after the other. The calls run in that thread while the
kernel's main thread is idle between cells; ``interrupt()`` stops a call that has run
out of time.

Nothing here decides a grade: a kernel that answers wrongly only loses its own points.
"""


def _install(wire_source, socket_path):
    import builtins
    import contextlib
    import ctypes
    import importlib
    import socket
    import struct
    import sys
    import threading
    import types
    import warnings

    import numpy as np

    wire = types.ModuleType("_autograder_wire")
    exec(compile(wire_source, "autograder/wire.py", "exec"), vars(wire))
    sys.modules["_autograder_wire"] = wire
    shell = get_ipython()  # noqa: F821 (the kernel's shell)
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    channel.connect(socket_path)

    def send(packet):
        channel.sendall(struct.pack("<Q", len(packet)) + packet)

    def receive():
        def exactly(n):
            chunks = []
            while n:
                chunk = channel.recv(min(n, 1 << 20))
                if not chunk:
                    raise EOFError("the grader closed the connection")
                chunks.append(chunk)
                n -= len(chunk)
            return b"".join(chunks)
        (size,) = struct.unpack("<Q", exactly(8))
        return wire.decode(exactly(size), side)

    def exception(error):
        name, message = (list(error) + ["", ""])[:2]
        cls = getattr(builtins, str(name), None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            return cls(message)
        return RuntimeError(f"{name}: {message}")

    def make_callback(key, name):
        def callback(*args, **kwargs):
            send(wire.encode({"args": list(args), "kwargs": kwargs}, side, extra={"kind": "callback", "callback": key}))
            while True:
                value, extra = receive()
                if extra.get("kind") == "call":   # the grader's callable calls a student function
                    send(perform(value, extra))
                    continue
                if extra.get("error"):
                    raise exception(extra["error"])
                return value
        callback.__name__ = callback.__qualname__ = name
        return callback

    def resolve(node):
        if node[0] == "fn":
            name = str(node[1])
            if name not in shell.user_ns:
                raise NameError(f"name {name!r} is not defined")
            return shell.user_ns[name]
        if node[0] == "cb":
            return make_callback(node[1], str(node[2]))
        if node[0] == "rk":
            module, _, name = str(node[1]).rpartition(".")
            if not (module == "rnnkit" or module.startswith("rnnkit.")):
                raise ValueError(f"{node[1]} is not a function of rnnkit")
            return getattr(importlib.import_module(module), name)
        return None

    side = wire.Side("kernel", resolve=resolve)

    def rnnkit_spaces():
        return [vars(m) for n, m in list(sys.modules.items())
                if m is not None and (n == "rnnkit" or n.startswith("rnnkit."))]

    def spying(names, fn):
        """Count the calls of rnnkit's ``names`` made during the call; returns (counts, undo)."""
        counts, saved = {}, []
        rnnkit = sys.modules.get("rnnkit")
        for name in names:
            original = getattr(rnnkit, str(name), None)
            if original is None:
                continue
            counts[name] = 0

            def wrapper(*a, _name=name, _original=original, **k):
                counts[_name] += 1
                return _original(*a, **k)

            for space in rnnkit_spaces() + [getattr(fn, "__globals__", {})]:
                for key, value in list(space.items()):
                    if value is original:
                        saved.append((space, key, value))
                        space[key] = wrapper

        def undo():
            for space, key, value in saved:
                space[key] = value
        return counts, undo

    class Sink:
        """What the student's function prints during a call: dropped (the grader reports results)."""

        def write(self, text):
            return len(text)

        def flush(self):
            pass

    def perform(value, extra):
        """Make the call that ``value`` describes; the packet of the answer."""
        try:
            fn, args, kwargs = value["fn"], value["args"], value["kwargs"]
        except BaseException as exc:
            return wire.encode(None, side, extra={"kind": "result", "seq": extra.get("seq"), "status": "error",
                                                  "error": [type(exc).__name__, str(exc)[:2000]]})
        counts, undo = spying(extra.get("spy", []), fn)
        status, error, result = "ok", None, None
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(Sink()), \
                contextlib.redirect_stderr(Sink()):
            warnings.simplefilter("always")
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # the grader's interrupt on timeout, sys.exit: the call failed
                    status = "error"
                    try:
                        error = [type(exc).__name__, str(exc)[:2000]]
                    except BaseException:
                        error = [type(exc).__name__, ""]
                finally:
                    undo()
        seen = []
        for w in caught[:20]:
            try:
                seen.append([w.category.__name__, str(w.message)[:500]])
            except BaseException:
                seen.append(["Warning", ""])
        extra = {"kind": "result", "seq": extra.get("seq"), "status": status, "error": error, "warnings": seen,
                 "spied": counts}
        try:
            return wire.encode({"result": result, "args": args, "kwargs": kwargs}, side, extra=extra)
        except BaseException as exc:
            return wire.encode(None, side, extra={
                "kind": "result", "seq": extra.get("seq"), "status": "error", "warnings": seen,
                "error": ["TypeError", f"the result could not be sent to the grader ({type(exc).__name__}: {exc})"]})

    def serve():
        while True:
            try:
                value, extra = receive()
            except (EOFError, OSError):
                return
            except BaseException as exc:  # a malformed request, or an interrupt that came late
                send(wire.encode(None, side, extra={"kind": "result", "status": "error",
                                                    "error": [type(exc).__name__, str(exc)[:2000]]}))
                continue
            if extra.get("forget"):
                side.forget()
            send(perform(value, extra))

    thread = threading.Thread(target=serve, name="autograder-calls", daemon=True)
    thread.start()

    def interrupt():
        """Stop the call running in the server's thread (its time is up)."""
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt))

    module = types.ModuleType("_autograder_server")
    module.interrupt = interrupt
    sys.modules["_autograder_server"] = module
