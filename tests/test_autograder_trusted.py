"""Trusted grading: submissions of 01-rnn-basics that reach for the reference or forge a verdict.

One class is graded once by the command-line tool, sandboxed: honest students (complete,
one with an overflowing sigmoid, blank) beside submissions that try, each its own way,
to earn points without writing the exercises: capturing rnnkit's functions, rebinding
the names the test cells use, faking the grader's modules, leaving NumPy's state
behind, digging through the garbage collector, frames and tracebacks, importing by
computed names, unpickling, ctypes, patching builtins, threads that act after the cell,
and forging the kernel's answers. Each gets exactly what its honest part earns (the
grades of its honest twin, cell by cell); the honest students get what serial
``nbgrader autograde`` gives them. Then the sealed rnnkit, the canary and the feedback.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.autograder_fixtures import course
from tests.test_autograder_hostile import sandbox_or_skip

pytestmark = pytest.mark.xdist_group("autograder")

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
A = "01-rnn-basics"
EXERCISES = ("sigmoid", "softmax", "rnn_step_forward", "rnn_forward")

NAIVE_SIGMOID = "import numpy as np\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))"

# student -> (answer cells by grade_id, an extra cell appended after the first answer or None,
#             the honest twin whose grades it must get: None for zero everywhere)
CASES = {
    "capture_default_argument": ({
        name: (f"def {name}(*a, _f=getattr(__import__('sys').modules['rnn' + 'kit'], '{name[:3]}' + '{name[3:]}'), **k):\n"
               "    return _f(*a, **k)") for name in EXERCISES}, None, None),
    "rebind_checks": ({}, "class _Pass:\n    def __getattr__(self, name):\n        return lambda *a, **k: None\n"
                          "checks = _Pass()\nnp = _Pass()", None),
    "fake_guard_and_server": ({}, (
        "import sys, types\n"
        "fake = types.ModuleType('_autograder_guard')\n"
        "fake.check = lambda phase, nonce: None\n"
        "fake.answer = lambda: repr({'nonce': '', 'found': []})\n"
        "sys.modules['_autograder_guard'] = fake\n"
        "server = sys.modules['_autograder_server']\n"
        "def call(token, scratch, request, forget=False):\n"
        "    open(scratch + '/rpc-' + token + '.out', 'wb').write(b'AGW1')\n"
        "server.call = call"), None),
    "seterr_ignore": ({"sigmoid": "import numpy as np\nnp.seterr(all='ignore')\n" + NAIVE_SIGMOID.split("\n", 1)[1]},
                      None, "honest_naive_sigmoid"),
    "closure_and_class_attribute": ({
        "softmax": "def _make():\n    import rnnkit\n    f = rnnkit.softmax\n"
                   "    def softmax(z, axis=-1):\n        return f(z, axis)\n    return softmax\nsoftmax = _make()",
        "rnn_step_forward": "import rnnkit\nclass K:\n    ref = staticmethod(rnnkit.rnn_step_forward)\n"
                            "def rnn_step_forward(*a):\n    return K.ref(*a)"}, None, None),
    "garbage_collector": ({"sigmoid": (
        "import gc\n"
        "def sigmoid(z):\n"
        "    for o in gc.get_objects():\n"
        "        if callable(o) and getattr(o, '__name__', '') == 'sigmoid' and o is not sigmoid:\n"
        "            try:\n"
        "                return o(z)\n"
        "            except Exception:\n"
        "                pass\n"
        "    for o in gc.get_referrers(z):\n"
        "        if isinstance(o, dict) and 'expected' in o:\n"
        "            return o['expected']\n"
        "    raise NotImplementedError()")}, None, None),
    "frames_and_tracebacks": ({"sigmoid": (
        "import sys\n"
        "def sigmoid(z):\n"
        "    f = sys._getframe(1)\n"
        "    while f is not None:\n"
        "        for name in ('expected', 'reference', 'want'):\n"
        "            if name in f.f_locals:\n"
        "                return f.f_locals[name]\n"
        "        f = f.f_back\n"
        "    try:\n"
        "        raise RuntimeError()\n"
        "    except RuntimeError as exc:\n"
        "        tb = exc.__traceback__\n"
        "        while tb is not None:\n"
        "            if 'expected' in tb.tb_frame.f_locals:\n"
        "                return tb.tb_frame.f_locals['expected']\n"
        "            tb = tb.tb_next\n"
        "    raise NotImplementedError()")}, None, None),
    "computed_imports_and_source": ({
        "sigmoid": "def sigmoid(z):\n    m = __import__('rnn' + 'kit.activ' + 'ations', fromlist=['x'])\n    return m.sigmoid(z)",
        "softmax": ("import importlib, importlib.util\n"
                    "def softmax(z, axis=-1):\n"
                    "    spec = importlib.util.find_spec('rnn' + 'kit.activations')\n"
                    "    ns = {'__name__': 'copy'}\n"
                    "    exec(open(spec.origin).read().replace('from .', 'from rnnkit.'), ns)\n"
                    "    return ns['softmax'](z, axis)"),
        "rnn_forward": ("import importlib\n"
                        "def rnn_forward(*a):\n"
                        "    return importlib.import_module('rnn' + 'kit.rnn').rnn_forward(*a)")}, None, None),
    "pickle_and_copyreg": ({"sigmoid": (
        "import pickle\n"
        "def sigmoid(z):\n"
        "    return pickle.loads(b'c' + b'rnnkit.activations\\nsigmoid\\n.')(z)")}, None, None),
    "ctypes_and_builtins": ({}, (
        "import builtins, ctypes, numpy as np, rnnkit.testing\n"
        "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
        "builtins.abs = builtins.round = lambda *a: 0\n"
        "np.allclose = lambda *a, **k: True\n"
        "rnnkit.testing.assert_close = lambda *a, **k: None\n"
        "ctypes.pythonapi.Py_IncRef(ctypes.py_object(np))"), None),
    "thread_forges_answers": ({}, (
        "import os, threading, time\n"
        "def forge():\n"
        "    while True:\n"
        "        for name in os.listdir('..'):\n"
        "            if name.startswith('rpc-') and name.endswith('.out'):\n"
        "                try:\n"
        "                    open('../' + name, 'wb').write(b'AGW1' + bytes(8))\n"
        "                except OSError:\n"
        "                    pass\n"
        "        time.sleep(0.001)\n"
        "threading.Thread(target=forge, daemon=True).start()\n"
        "threading.Timer(0.2, lambda: None).start()"), None),
    "numpy_global_state": ({"sigmoid": NAIVE_SIGMOID}, (
        "import numpy as np\nnp.seterr(all='ignore')\nnp.set_printoptions(threshold=0)\nnp.random.seed(0)\n"
        "import warnings\nwarnings.simplefilter('ignore')\nwarnings.catch_warnings = None"),
        "honest_naive_sigmoid"),
    "patch_the_wire": ({"sigmoid": NAIVE_SIGMOID}, (
        "import sys\n"
        "wire = sys.modules['_autograder_wire']\n"
        "_encode = wire.encode\n"
        "def encode(value, side, extra=None):\n"
        "    if extra:\n"
        "        extra = dict(extra, warnings=[])\n"
        "    return _encode(value, side, extra)\n"
        "wire.encode = encode"), "honest_naive_sigmoid"),
}


def course_root(tmp):
    """A course root holding 01-rnn-basics only, with its own configuration and gradebook."""
    return course.copy_of_the_course(tmp, [A])


def solution_answers():
    nb = nbformat.read(str(ROOT / "solutions" / A / f"{A}.ipynb"), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def notebook(answers, extra=None):
    """The release with the given answer cells (and an extra cell after the first answer)."""
    nb = nbformat.read(str(ROOT / "course" / A / f"{A}.ipynb"), as_version=4)
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
        cells.append(cell)
        if meta.get("grade_id") == "sigmoid" and extra:
            cells.append(nbformat.v4.new_code_cell(extra))
    nb.cells = cells
    return nb


def submit(root, student, nb):
    folder = root / "autograder" / "submitted" / student / A
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / f"{A}.ipynb"))


def cell_grades(db):
    """{student: {grade_id: score}} from a gradebook."""
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT s.student_id, c.name, COALESCE(g.manual_score, g.auto_score) FROM grade g "
            "JOIN base_cell c ON g.cell_id = c.id JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment s ON n.assignment_id = s.id").fetchall()
    out = {}
    for student, cell, score in rows:
        out.setdefault(student, {})[cell] = score
    return out


def run_tool(root, *args, timeout=900):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "autograder", "--config",
                           str(root / "autograder" / "nbgrader_config.py"), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=str(root))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    sandbox_or_skip()
    root = course_root(tmp_path_factory.mktemp("trusted"))
    full = solution_answers()
    submit(root, "honest", notebook(full))
    submit(root, "blank", notebook({}))
    submit(root, "honest_naive_sigmoid", notebook({"sigmoid": NAIVE_SIGMOID}))
    for student, (answers, extra, _) in CASES.items():
        submit(root, student, notebook(answers, extra))
    result = run_tool(root, "grade", "--workers", "2", "--quiet", "--cell-timeout", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    return root, cell_grades(root / "autograder" / "gradebook.db"), result.stdout


def test_honest_students_get_what_serial_nbgrader_gives(graded, tmp_path):
    root, grades, _ = graded
    serial = course_root(tmp_path)
    for student in ("honest", "blank", "honest_naive_sigmoid"):
        shutil.copytree(root / "autograder" / "submitted" / student, serial / "autograder" / "submitted" / student)
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}", NBGRADER_EXECUTION="autograde")
    subprocess.run([str(VENV_BIN / "nbgrader"), "generate_assignment", A, "--force"], cwd=serial / "autograder",
                   capture_output=True, text=True, timeout=300, env=env, check=True)
    stock = subprocess.run([str(VENV_BIN / "nbgrader"), "autograde", A, "--force"], cwd=serial / "autograder",
                           capture_output=True, text=True, timeout=600, env=env)
    assert stock.returncode == 0, stock.stderr[-3000:]
    expected = cell_grades(serial / "autograder" / "gradebook.db")
    for student in ("honest", "blank", "honest_naive_sigmoid"):
        assert grades[student] == expected[student], student
    assert sum(grades["honest"].values()) > 0 and sum(grades["blank"].values()) == 0
    assert sum(grades["honest_naive_sigmoid"].values()) < sum(grades["honest"].values())


def test_what_the_solution_also_does_is_not_a_flag(graded):
    """The notebook draws figures (matplotlib's hooks): the solution triggers that too, so no flag."""
    _, _, report = graded
    review = report.split("For review:", 1)[-1] if "For review:" in report else ""
    assert "- honest/" not in review and "- honest_naive_sigmoid/" not in review, review
    assert "- capture_default_argument/" in review, "a submission that reaches for rnnkit's functions is flagged"


@pytest.mark.parametrize("student", sorted(CASES))
def test_no_unearned_point(graded, student):
    _, grades, _ = graded
    twin = CASES[student][2]
    expected = grades[twin] if twin else {cell: 0.0 for cell in grades["honest"]}
    assert grades[student] == expected, f"{student} should get its honest twin's grades ({twin or 'zero'})"


def test_feedback_shows_results_not_hidden_tests(graded):
    root, _, _ = graded
    result = run_tool(root, "feedback", "--student", "honest_naive_sigmoid")
    assert result.returncode == 0, result.stderr
    html = (root / "autograder" / "feedback" / "honest_naive_sigmoid" / A / f"{A}.html").read_text()
    source = nbformat.read(str(ROOT / "solutions" / A / f"{A}.ipynb"), as_version=4)
    hidden = [line.strip() for c in source.cells if "### BEGIN HIDDEN TESTS" in c.source
              for line in c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
              if len(line.strip()) > 25]
    assert hidden, "the source has hidden tests to look for"
    import html as html_lib
    text = html_lib.unescape(html)
    leaked = [line for line in hidden if line in text]
    assert not leaked, f"the feedback shows hidden tests: {leaked[:3]}"
    assert "sigmoid" in text and "warning" in text.lower(), "the feedback shows the failing test's message"


def test_canary_stops_before_any_student_when_the_release_earns_points(tmp_path):
    sandbox_or_skip()
    root = course_root(tmp_path)
    release = root / "course" / A / f"{A}.ipynb"
    nb = nbformat.read(str(release), as_version=4)
    full = solution_answers()
    for cell in nb.cells:   # a release with the answers left in: the canary must refuse
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            cell.source = full[meta["grade_id"]]
    nbformat.write(nb, str(release))
    submit(root, "someone", notebook({}))
    result = run_tool(root, "grade", "--workers", "2", "--quiet")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "the blank release scores" in result.stderr and "no student was graded" in result.stderr
    assert not (root / "autograder" / "gradebook.db").exists() or cell_grades(root / "autograder" / "gradebook.db") == {}
