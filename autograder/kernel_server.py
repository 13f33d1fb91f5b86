"""The grader's server inside the student's kernel: it calls the student's functions.

This file is not imported by the grader: its text is sent to the kernel once, before
the first cell (before the guard, which then watches it), and registers the modules
``_autograder_wire`` (wire.py) and ``_autograder_server``.

While a grade cell is graded, the grader runs the cell's code itself, outside the
sandbox (verdicts.py). Each time that code calls one of the student's functions, the
grader asks this module, through an execute request, to make the call: the request
holds the function's name and the arguments as data; the function runs in the
notebook's namespace under NumPy's default error handling with every warning recorded,
and the answer (the result, the arguments as the call left them, the warnings, the
exception if any) is written as a packet into the scratch folder, where the grader
reads it. A grader callable among the arguments is called back through the kernel's
input request, the one channel on which a kernel may ask its client something.

Nothing here decides a grade: a kernel that answers wrongly only loses its own points.
"""


def _install(wire_source):
    import base64
    import builtins
    import importlib
    import os
    import sys
    import types
    import warnings

    import numpy as np

    wire = types.ModuleType("_autograder_wire")
    exec(compile(wire_source, "autograder/wire.py", "exec"), vars(wire))
    sys.modules["_autograder_wire"] = wire
    shell = get_ipython()  # noqa: F821 (the kernel's shell)
    state = {"token": None, "scratch": None, "callbacks": 0, "nested": 0}

    def exception(error):
        name, message = (list(error) + ["", ""])[:2]
        cls = getattr(builtins, str(name), None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            return cls(message)
        return RuntimeError(f"{name}: {message}")

    def make_callback(key, name):
        def callback(*args, **kwargs):
            state["callbacks"] += 1
            number = state["callbacks"]
            path = os.path.join(state["scratch"], f"rpc-{state['token']}-cb{number}.out")
            with open(path, "wb") as f:
                f.write(wire.encode({"args": list(args), "kwargs": kwargs}, side, extra={"callback": key}))
            answer = builtins.input(f"autograder-callback {state['token']} {number}")
            while answer.startswith("call:"):
                # the grader's callable calls a student function: make the call, then wait again
                state["nested"] += 1
                nested = state["nested"]
                perform(base64.b64decode(answer[5:]),
                        os.path.join(state["scratch"], f"rpc-{state['token']}-r{nested}.out"))
                answer = builtins.input(f"autograder-result {state['token']} {nested}")
            value, extra = wire.decode(base64.b64decode(answer), side)
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

    def answer(path, value, extra):
        try:
            packet = wire.encode(value, side, extra=extra)
        except BaseException as exc:
            packet = wire.encode(None, side, extra={
                "status": "error", "warnings": extra.get("warnings", []),
                "error": ["TypeError", f"the result could not be sent to the grader ({type(exc).__name__}: {exc})"]})
        with open(path, "wb") as f:
            f.write(packet)

    def call(token, scratch, request, forget=False):
        state.update(token=token, scratch=scratch, callbacks=0, nested=0)
        if forget:
            side.forget()
        perform(base64.b64decode(request), os.path.join(scratch, f"rpc-{token}.out"))

    def perform(request, path):
        """Make the call a request describes; write the answer to ``path``."""
        try:
            value, extra = wire.decode(request, side)
            fn, args, kwargs = value["fn"], value["args"], value["kwargs"]
        except BaseException as exc:
            return answer(path, None, {"status": "error", "error": [type(exc).__name__, str(exc)[:2000]]})
        counts, undo = spying(extra.get("spy", []), fn)
        status, error = "ok", None
        result = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # an interrupt on timeout, sys.exit: the call failed
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
        answer(path, {"result": result, "args": args, "kwargs": kwargs},
               {"status": status, "error": error, "warnings": seen, "spied": counts})

    module = types.ModuleType("_autograder_server")
    module.call = call
    sys.modules["_autograder_server"] = module
