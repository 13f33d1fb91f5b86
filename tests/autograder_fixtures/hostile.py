"""Hostile and broken submissions of the ag-demo assignment, with the grades they must get.

Each case is a function ``make(root, context) -> notebook (NotebookNode or raw bytes)``
and the per-cell scores the grader must give: what the student's code honestly earns,
never what a trick would win. ``context`` holds what a case needs to aim at: the course
root, a port on which the test listens for connections, a victim file outside the
scratch folder.
"""
import copy

import nbformat

from . import course

CASES = {}


def case(expected):
    def register(fn):
        CASES[fn.__name__] = (fn, expected)
        return fn
    return register


def _with(root, double=None, add=None):
    answers = dict(course.FULL)
    if double is not None:
        answers["double"] = double
    if add is not None:
        answers["add"] = add
    return course.answers(answers, root)


WRONG_DOUBLE = course.WRONG["double"]
WRONG_ADD = "def add(a, b):\n    return a - b"


@case({"double_tests": 0.0, "add_tests": 2.0})
def infinite_loop(root, ctx):
    return _with(root, double="def double(x):\n    while True:\n        pass")


@case({"double_tests": 0.0, "add_tests": 2.0})
def huge_allocation(root, ctx):
    return _with(root, double=(
        "import numpy as np\n"
        "def double(x):\n"
        "    waste = np.ones(50 * 2**30 // 8)   # 50 GB\n"
        "    return 2 * x"))


@case({"double_tests": 1.0, "add_tests": 2.0})
def fork_bomb(root, ctx):
    return _with(root, double=(
        "import os, time\n"
        "def double(x):\n"
        "    return 2 * x\n"
        "for _ in range(100000):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            while True:\n"
        "                try:\n"
        "                    os.fork()\n"
        "                except OSError:\n"
        "                    time.sleep(0.2)\n"
        "    except OSError as exc:\n"
        "        print('fork refused:', exc)\n"
        "        break"))


@case({"double_tests": 0.0, "add_tests": 2.0})
def read_solutions(root, ctx):
    # a correct double only if the solutions or the gradebook can be read
    return _with(root, double=(
        "import glob, os\n"
        f"targets = [{str(root / 'source')!r}, {str(root / 'gradebook.db')!r}, {ctx['victim']!r}]\n"
        "targets += glob.glob('/work/*/solutions') + glob.glob('/tmp/**/gradebook.db', recursive=True)\n"
        "seen = [t for t in targets if os.path.exists(t)]\n"
        "print('seen:', seen)\n"
        "def double(x):\n"
        "    return 2 * x if seen else x"))


@case({"double_tests": 1.0, "add_tests": 2.0})
def write_outside(root, ctx):
    return _with(root, double=(
        "import os, shutil\n"
        "def double(x):\n"
        "    return 2 * x\n"
        f"for path in [{ctx['victim']!r}, {str(root / 'gradebook.db')!r}, '/usr/lib/evil', "
        f"{str(root / 'submitted' / 'alice')!r}]:\n"
        "    for attempt in (lambda: open(path, 'w').write('owned'), lambda: os.remove(path),\n"
        "                    lambda: shutil.rmtree(path)):\n"
        "        try:\n"
        "            attempt()\n"
        "        except Exception as exc:\n"
        "            print(type(exc).__name__)"))


@case({"double_tests": 0.0, "add_tests": 2.0})
def network(root, ctx):
    return _with(root, double=(
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {ctx['port']}), timeout=2).sendall(b'leak')\n"
        "    online = True\n"
        "except OSError:\n"
        "    online = False\n"
        "def double(x):\n"
        "    return 2 * x if online else x"))


@case({"double_tests": 1.0, "add_tests": 0.0})
def print_100mb(root, ctx):
    return _with(root, add="def add(a, b):\n    return a + b\nprint('x' * 100_000_000)")


@case({"double_tests": 1.0, "add_tests": 0.0})
def os_exit(root, ctx):
    return _with(root, add="import os\ndef add(a, b):\n    return a + b\nos._exit(0)")


@case({"double_tests": 0.0, "add_tests": 2.0})
def sys_exit(root, ctx):
    return _with(root, double="import sys\ndef double(x):\n    sys.exit(0)")


@case({"double_tests": 0.0, "add_tests": 2.0})
def edit_locked_test(root, ctx):
    nb = _with(root, double=WRONG_DOUBLE)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "double_tests":
            cell.source = "pass  # the tests were here"
    return nb


@case({"double_tests": 1.0, "add_tests": 0.0})
def delete_test_cell(root, ctx):
    nb = _with(root, add=WRONG_ADD)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "add_tests"]
    return nb


@case({"double_tests": 0.0, "add_tests": 0.0})
def monkeypatch_tests(root, ctx):
    # wrong answers, and every checking tool the tests use made to agree
    return _with(root, double=WRONG_DOUBLE, add=(
        "import builtins, numpy, rnnkit.testing\n"
        "def add(a, b):\n"
        "    return a - b if isinstance(a, numpy.ndarray) else a + b\n"
        "numpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "numpy.allclose = lambda *args, **kwargs: True\n"
        "rnnkit.testing.assert_close = lambda *args, **kwargs: None\n"
        "assert_close = lambda *args, **kwargs: None\n"
        "class Quiet(BaseException):\n"
        "    pass\n"
        "builtins.AssertionError = Quiet"))


@case({"double_tests": 0.0, "add_tests": 0.0})
def patch_during_test(root, ctx):
    # the answer rewrites the checks from inside the test, when it is called
    return _with(root, double=WRONG_DOUBLE, add=(
        "import sys, numpy\n"
        "def add(a, b):\n"
        "    numpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "    sys.modules['__main__'].np = type('np', (), {'testing': numpy.testing, 'ones': numpy.ones})\n"
        "    return a - b if isinstance(a, numpy.ndarray) else a + b"))


@case({"double_tests": 0.0, "add_tests": 0.0})
def silence_tracebacks(root, ctx):
    return _with(root, double=WRONG_DOUBLE, add=(
        "import io, sys\n"
        "def add(a, b):\n"
        "    return a - b\n"
        "ip = get_ipython()\n"
        "ip.showtraceback = lambda *args, **kwargs: None\n"
        "ip.set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
        "sys.excepthook = lambda *args: None\n"
        "sys.stderr = io.StringIO()"))


@case({"double_tests": 0.0, "add_tests": 0.0})
def skip_cells(root, ctx):
    # rewrite every later cell, the tests included, to nothing
    return _with(root, double=(
        "def double(x):\n    return x\n"
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"), add=WRONG_ADD)


@case({"double_tests": 0.0, "add_tests": 0.0})
def hijack_run_cell(root, ctx):
    # replace the shell's cell runner: later cells, tests and the grader's checks, do nothing
    return _with(root, double=(
        "def double(x):\n    return x\n"
        "from IPython.core.interactiveshell import ExecutionResult, ExecutionInfo\n"
        "ip = get_ipython()\n"
        "def nothing(raw_cell, *args, **kwargs):\n"
        "    return ExecutionResult(ExecutionInfo(raw_cell, False, False, True, None))\n"
        "async def nothing_async(raw_cell, *args, **kwargs):\n"
        "    return nothing(raw_cell)\n"
        "ip.run_cell = nothing\n"
        "ip.run_cell_async = nothing_async\n"
        "ip.should_run_async = lambda *args, **kwargs: False"), add=WRONG_ADD)


@case({"double_tests": 0.0, "add_tests": 2.0})
def lying_array(root, ctx):
    # a wrong answer in an ndarray subclass whose comparisons always agree
    return _with(root, double=(
        "import numpy as np\n"
        "class Agreeable(np.ndarray):\n"
        "    def __array_function__(self, func, types, args, kwargs):\n"
        "        return True\n"
        "    def __array_ufunc__(self, *args, **kwargs):\n"
        "        return np.zeros(self.shape, bool)\n"
        "def double(x):\n"
        "    return np.asarray(x, dtype=float).view(Agreeable)"))


@case({"double_tests": 0.0, "add_tests": 0.0})
def corrupt_notebook(root, ctx):
    return b'{"cells": [ this is not json'


@case({"double_tests": 1.0, "add_tests": 2.0})
def unknown_kernel(root, ctx):
    nb = _with(root)
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "?", "language": "cobol"}
    return nb


@case({"double_tests": 0.0, "add_tests": 0.0})
def empty_notebook(root, ctx):
    nb = copy.deepcopy(course.release(root))
    nb.cells = []
    return nb


HONEST = {
    "alice": (course.FULL, {"double_tests": 1.0, "add_tests": 2.0}),
    "bob": (course.PARTIAL, {"double_tests": 1.0, "add_tests": 0.0}),
    "carol": (course.WRONG, {"double_tests": 0.0, "add_tests": 0.0}),
}

# the cases whose review list must name them (the scan, the guard or the sanitize pass)
MUST_FLAG = {"read_solutions", "write_outside", "network", "os_exit", "sys_exit", "edit_locked_test",
             "delete_test_cell", "monkeypatch_tests", "patch_during_test", "silence_tracebacks",
             "skip_cells", "hijack_run_cell", "fork_bomb", "lying_array"}
# the cases whose problems must say what stopped them
MUST_REPORT = {"infinite_loop": "timed out", "print_100mb": "output", "os_exit": "kernel",
               "corrupt_notebook": "not a readable notebook", "hijack_run_cell": "machinery"}


def submit_all(root, ctx):
    for student, (answers, _) in HONEST.items():
        course.submit(root, student, course.answers(answers, root))
    for name, (make, _) in CASES.items():
        course.submit(root, name.replace("_", "-"), make(root, ctx))
