"""The sealed rnnkit of each assignment: the notebooks' imports work, the reference does not.

For each assignment the sealed copy is imported in a fresh interpreter, as the grading
kernel imports it: every module loads; rnnkit's own implementations of the exercises
raise ReferenceUnavailable with a message that says why; and no public callable of the
sealed package, called with an exercise's arguments, returns that exercise's result.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnnkit
import rnnkit.variants

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from autograder import seal  # noqa: E402

rng = np.random.default_rng(0)
N, T, D, H = 2, 3, 4, 5
x, x_step = rng.normal(size=(N, T, D)), rng.normal(size=(N, D))
h0 = rng.normal(size=(N, H))


def _params(G):
    return rng.normal(size=(D, G * H)) * 0.5, rng.normal(size=(H, G * H)) * 0.5, rng.normal(size=G * H) * 0.1


RNN, LSTM, GRU = _params(1), _params(4), _params(3)
z = rng.normal(scale=3.0, size=(3, 4))
scores, y = rng.normal(size=(N, T, 6)), rng.integers(0, 6, size=(N, T))
keys, query = rng.normal(size=(N, 4, H)), rng.normal(size=(N, H))
series = rng.normal(size=20)

# assignment -> (reference name under rnnkit, arguments) of what its exercises compute
EXERCISES = {
    "01-rnn-basics": [("sigmoid", (z,)), ("softmax", (z,)), ("rnn_step_forward", (x_step, h0, *RNN)),
                      ("rnn_forward", (x, h0, *RNN))],
    "02-bptt": [("temporal_softmax_loss", (scores, y))],
    "03-gradient-problems": [("clip_grad_norm", ({"a": z.copy()}, 1.0))],
    "04-lstm": [("lstm_step_forward", (x_step, h0, np.zeros_like(h0), *LSTM)), ("lstm_forward", (x, h0, *LSTM))],
    "05-gru": [("gru_step_forward", (x_step, h0, *GRU)), ("gru_forward", (x, h0, *GRU))],
    "06-variants": [("variants.dot_attention_forward", (query, keys))],
    "07-applications": [("data.sliding_windows", (series, 4, 2))],
}

# the references sealed by name, beyond those probed by value
SEALED_NAMES = {
    "02-bptt": ["rnn_step_backward", "rnn_backward", "checks.bptt.reference_rnn_backward"],
    "03-gradient-problems": ["rnn_backward", "checks.gradient_problems.reference_gradient_norm_by_lag"],
    "04-lstm": ["lstm_step_backward", "lstm_backward", "models.CharRNN"],
    "05-gru": ["gru_step_backward", "gru_backward"],
    "06-variants": ["variants.bidirectional_forward", "variants.stacked_forward"],
    "07-applications": ["sampling.sample_logits", "checks.applications.reference_lm_train_step"],
}

PROBE = r'''
import importlib, inspect, json, pkgutil, signal, sys, warnings
import numpy as np
import rnnkit
from rnnkit import ReferenceUnavailable
warnings.simplefilter("ignore")
cases = json.loads(sys.argv[1])
for info in pkgutil.walk_packages(rnnkit.__path__, "rnnkit."):
    importlib.import_module(info.name)

def resolve(name):
    obj = rnnkit
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj

report = {"refused": {}, "reproduced": [], "sealed_for": rnnkit.sealed_for()}
for name in cases["sealed"]:
    try:
        obj = resolve(name)
        obj(*[np.zeros(2)] * 2) if not isinstance(obj, type) else obj()
        report["refused"][name] = "no error"
    except ReferenceUnavailable as exc:
        report["refused"][name] = str(exc)
    except Exception as exc:
        report["refused"][name] = f"{type(exc).__name__}: {exc}"

callables = {}
for mname, module in list(sys.modules.items()):
    if mname == "rnnkit" or mname.startswith("rnnkit."):
        for attr, obj in vars(module).items():
            if not attr.startswith("_") and inspect.isfunction(obj) and obj.__module__.startswith("rnnkit"):
                callables[f"{obj.__module__}.{obj.__qualname__}"] = obj

def alarm(*_):
    raise TimeoutError()
signal.signal(signal.SIGALRM, alarm)
data = np.load(cases["data"], allow_pickle=True).item()
for label, (args, expected) in data.items():
    for name, fn in sorted(callables.items()):
        try:
            inspect.signature(fn).bind(*args)
        except (TypeError, ValueError):
            continue
        signal.alarm(2)
        try:
            out = fn(*[a.copy() if hasattr(a, "copy") else a for a in args])
        except BaseException:
            continue
        finally:
            signal.alarm(0)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        for o in outs:
            if isinstance(o, np.ndarray) and o.shape == expected.shape and np.allclose(o, expected):
                report["reproduced"].append(f"{name} reproduces {label}")
print(json.dumps(report))
'''


@pytest.mark.parametrize("assignment", sorted(seal.SEALED))
def test_sealed_rnnkit_refuses_the_reference_and_nothing_reproduces_it(assignment, tmp_path):
    package = seal.build(assignment, tmp_path / "sealed")
    assert not any(p.name == "__pycache__" for p in package.rglob("*"))
    data = {}
    for name, args in EXERCISES[assignment]:
        ref = rnnkit
        for part in name.split("."):
            ref = getattr(ref, part)
        copies = [a.copy() if hasattr(a, "copy") else a for a in args]
        out = ref(*copies)
        expected = out[0] if isinstance(out, tuple) else out
        if name == "clip_grad_norm":
            expected = copies[0]["a"]   # the exercise's result is the clipped gradient
        data[name] = (args, np.asarray(expected))
    np.save(tmp_path / "data.npy", np.array(data, dtype=object), allow_pickle=True)
    sealed_names = [n for n, _ in EXERCISES[assignment]] + SEALED_NAMES.get(assignment, [])
    cases = {"sealed": sealed_names, "data": str(tmp_path / "data.npy")}
    probe = subprocess.run([sys.executable, "-c", PROBE, json.dumps(cases)], capture_output=True, text=True,
                           cwd=tmp_path, timeout=600, env={"PYTHONPATH": str(package.parent), "PATH": "/usr/bin:/bin",
                                                           "MPLBACKEND": "Agg", "HOME": str(tmp_path)})
    assert probe.returncode == 0, probe.stderr[-3000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report["sealed_for"] == assignment
    for name, message in report["refused"].items():
        assert f"not available while {assignment} is graded" in message, f"rnnkit.{name}: {message}"
    assert report["reproduced"] == [], report["reproduced"]


def test_outside_grading_rnnkit_is_whole():
    assert rnnkit.sigmoid(np.array([0.0]))[0] == 0.5
    assert rnnkit.sealed_for() is None
    assert issubclass(rnnkit.ReferenceUnavailable, RuntimeError)


def test_the_scan_names_the_assignments_own_reference_not_the_helpers_it_gives():
    """04 tells students to use rnnkit's sigmoid: no flag; rnnkit's lstm_step_backward: flagged."""
    import nbformat

    from autograder import scan

    release = nbformat.read(str(ROOT / "course" / "04-lstm" / "04-lstm.ipynb"), as_version=4)
    source = nbformat.read(str(ROOT / "solutions" / "04-lstm" / "04-lstm.ipynb"), as_version=4)
    nb = nbformat.read(str(ROOT / "course" / "04-lstm" / "04-lstm.ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "lstm_step_backward":
            cell.source = ("def lstm_step_backward(dh_next, dc_next, cache):\n"
                           "    gate = sigmoid(cache[0])\n"
                           "    return rnnkit.lstm_step_backward(dh_next, dc_next, cache)")
    found = [f.message for f in scan.scan_notebook(nb, release, source, assignment="04-lstm")]
    assert found == ["uses the reference implementation: rnnkit.lstm_step_backward"], found
