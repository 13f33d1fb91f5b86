"""The grader's watchman inside the student's kernel.

This file is not imported by the grader: its text is sent to the kernel once, before
the first cell, and installs the module ``_autograder_guard``. Between cells the
executor (autograder/execute.py) calls ``check(phase, nonce)`` and reads the answer back
through a user expression. The guard keeps the state the grade cells rely on as the
instructor's cells left it:

- the attributes of builtins, numpy, numpy.testing and every rnnkit module, and their
  entries in sys.modules, as they were before any cell ran;
- sys.excepthook, sys.displayhook, sys.stdout, sys.stderr, the trace and profile hooks;
- the IPython shell and kernel: their classes' methods, instance attributes that shadow
  them, the input and AST transformers, the event callbacks, the message handlers;
- the names of the notebook's namespace that the instructor's (locked) cells bound.

Before a grade cell it puts back whatever student code changed and reports it; after a
grade cell it reports whatever changed during the test (the executor then voids the
test). The nonce proves the check really ran: a kernel whose execution machinery was
replaced cannot answer with it.

What it cannot stop, being in the same process as the student's code: code that finds
this module's snapshot through the garbage collector or ctypes and rewrites it, or that
rewrites C-level state. The static scan (scan.py) flags the routes to those.
"""


def _install():
    import builtins
    import importlib
    import pkgutil
    import sys
    import threading
    import types

    _vars, _id, _isinstance, _sorted, _repr = vars, id, isinstance, sorted, repr
    _setattr, _delattr, _list, _dict, _len = setattr, delattr, list, dict, len
    MISSING = object()

    import numpy
    import numpy.testing
    import rnnkit
    import rnnkit.testing

    for info in pkgutil.walk_packages(rnnkit.__path__, "rnnkit."):
        if info.name.startswith("rnnkit.checks"):
            try:
                importlib.import_module(info.name)
            except Exception:
                pass

    def watched_modules():
        # the grader's server in the kernel (kernel_server.py) and what it calls through
        names = ["builtins", "numpy", "numpy.testing", "numpy.linalg", "numpy.random", "math", "warnings",
                 "base64", "_autograder_server", "_autograder_wire"]
        names += [n for n in _list(sys.modules) if n.startswith("numpy.testing")]
        names += [n for n in _list(sys.modules) if n == "rnnkit" or n.startswith("rnnkit.")]
        return {n: sys.modules[n] for n in names if _isinstance(sys.modules.get(n), types.ModuleType)}

    # names the kernel itself swaps for each request (stdin forwarding)
    VOLATILE = {"builtins": ("input", "raw_input", "getpass"),
                "warnings": ("filters", "_filters_version", "defaultaction", "onceregistry")}
    SYS_HOOKS = ("displayhook", "stdout", "stderr", "breakpointhook", "unraisablehook")
    shell = get_ipython()  # noqa: F821 (the kernel's shell)
    kernel = getattr(shell, "kernel", None)
    ipython_objects = [o for o in (shell, kernel, getattr(kernel, "session", None)) if o is not None]
    ipython_classes = []
    for obj in ipython_objects:
        ipython_classes += [c for c in type(obj).__mro__ if c is not object]
    SHELL_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")

    def snapshot_modules():
        return {name: (module, _dict(_vars(module))) for name, module in watched_modules().items()}

    def snapshot_ipython():
        return {
            "classes": [(c, _dict(_vars(c))) for c in ipython_classes],
            "instances": [(o, {k: v for k, v in _vars(o).items() if callable(v)}) for o in ipython_objects],
            "lists": {name: _list(getattr(shell, name, [])) for name in SHELL_LISTS},
            "transformer_manager": [
                (name, _list(getattr(shell.input_transformer_manager, name, [])))
                for name in ("cleanup_transforms", "line_transforms", "token_transformers")],
            "events": {k: _list(v) for k, v in shell.events.callbacks.items()},
            "handlers": _dict(getattr(kernel, "shell_handlers", {}) or {}),
        }

    state = {
        "modules": snapshot_modules(),
        "sys": {k: getattr(sys, k, None) for k in SYS_HOOKS},
        "ipython": snapshot_ipython(),
        "instructor": {},
        "pending": None,
        "answer": None,
    }

    def restore_modules(found):
        for name, (module, attrs) in state["modules"].items():
            if sys.modules.get(name) is not module:
                found.append(f"sys.modules[{name!r}] was replaced")
                sys.modules[name] = module
            current = _vars(module)
            for key, value in attrs.items():
                if key not in current or current[key] is not value:
                    if key in VOLATILE.get(name, ()):
                        continue
                    if key not in ("__loader__", "__spec__", "__cached__", "__warningregistry__"):
                        found.append(f"{name}.{key} was {'deleted' if key not in current else 'replaced'}")
                    current[key] = value

    def restore_sys(found):
        for key, value in state["sys"].items():
            if getattr(sys, key, None) is not value:
                found.append(f"sys.{key} was replaced")
                _setattr(sys, key, value)
        if sys.gettrace() is not None:
            found.append("a trace function was set (sys.settrace)")
            sys.settrace(None)
        if sys.getprofile() is not None:
            found.append("a profile function was set (sys.setprofile)")
            sys.setprofile(None)
        if getattr(threading, "_trace_hook", None) is not None or getattr(threading, "_profile_hook", None) is not None:
            found.append("a thread trace or profile function was set")
            threading.settrace(None)
            threading.setprofile(None)

    def restore_ipython(found):
        snap = state["ipython"]
        for cls, attrs in snap["classes"]:
            current = _vars(cls)
            for key, value in attrs.items():
                if key not in current or current[key] is not value:
                    found.append(f"IPython {cls.__name__}.{key} was replaced")
                    _setattr(cls, key, value)
        for obj, attrs in snap["instances"]:
            for key, value in _list(_vars(obj).items()):
                if callable(value) and attrs.get(key) is not value and key not in attrs:
                    if any(key in _vars(c) for c in type(obj).__mro__):
                        found.append(f"IPython {type(obj).__name__}.{key} was overridden on the instance")
                        _delattr(obj, key)
            for key, value in attrs.items():
                if _vars(obj).get(key) is not value:
                    found.append(f"IPython {type(obj).__name__}.{key} was replaced")
                    _setattr(obj, key, value)
        for name, items in snap["lists"].items():
            current = getattr(shell, name, None)
            if current is None or _list(current) != items:
                found.append(f"IPython shell.{name} was changed")
                _setattr(shell, name, _list(items))
        manager = shell.input_transformer_manager
        for name, items in snap["transformer_manager"]:
            if _list(getattr(manager, name, [])) != items:
                found.append(f"IPython input_transformer_manager.{name} was changed")
                _setattr(manager, name, _list(items))
        events = shell.events.callbacks
        for key, items in snap["events"].items():
            if _list(events.get(key, [])) != items:
                found.append(f"IPython event callbacks for {key!r} were changed")
                events[key] = _list(items)
        handlers = getattr(kernel, "shell_handlers", None)
        if handlers is not None and _dict(handlers) != snap["handlers"]:
            found.append("the kernel's message handlers were changed")
            handlers.clear()
            handlers.update(snap["handlers"])

    def restore_namespace(found):
        user_ns = shell.user_ns
        for key, value in state["instructor"].items():
            if user_ns.get(key, MISSING) is not value:
                if _isinstance(value, (types.ModuleType, type)) or (
                        callable(value) and getattr(value, "__module__", "__main__") not in ("__main__", None)):
                    found.append(f"the notebook's name {key!r} was rebound by student code")
                user_ns[key] = value

    def check(phase, nonce):
        """phase: 'before_locked', 'after_locked', 'before_grade' or 'after_grade'."""
        found = []
        restore_modules(found)
        restore_sys(found)
        if phase != "after_locked":
            restore_ipython(found)
        if phase.startswith("before"):
            restore_namespace(found)
        if phase in ("before_locked", "before_grade"):
            state["pending"] = _dict(shell.user_ns)
        elif phase in ("after_locked", "after_grade") and state["pending"] is not None:
            before = state["pending"]
            for key, value in _list(shell.user_ns.items()):
                if not key.startswith("_") and before.get(key, MISSING) is not value:
                    state["instructor"][key] = value
            state["pending"] = None
            if phase == "after_locked":
                # an instructor's cell may legitimately register display hooks and the like
                state["ipython"] = snapshot_ipython()
        state["answer"] = _repr({"nonce": nonce, "found": _sorted(set(found))})

    module = types.ModuleType("_autograder_guard")
    module.check = check
    module.answer = lambda: state["answer"]
    sys.modules["_autograder_guard"] = module


_install()
del _install
