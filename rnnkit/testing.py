"""Assertions with messages that say what is wrong and where, for the notebooks' tests.

A failing check names the quantity, the position of the first mismatch in words
("batch row 1, time step 3"), the values, and a hint when one is given.
"""
import contextlib
import importlib
import sys

import numpy as np

AXES = {
    "N D": ("batch row", "feature"),
    "N H": ("batch row", "hidden unit"),
    "N T H": ("batch row", "time step", "hidden unit"),
    "N T D": ("batch row", "time step", "feature"),
    "N T V": ("batch row", "time step", "class"),
}


def _where(index, axes):
    if axes is None or len(axes) != len(index):
        return "index " + str(tuple(int(i) for i in index))
    return ", ".join(f"{axis} {int(i)}" for axis, i in zip(axes, index))


def assert_shape(got, expected, name):
    """got must be an ndarray of shape ``expected``."""
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{name} should be a NumPy array, but it is {type(got).__name__}")
    if got.shape != tuple(expected):
        raise AssertionError(f"{name} has shape {got.shape}, expected {tuple(expected)}")


def assert_dtype(got, expected, name):
    if got.dtype != np.dtype(expected):
        raise AssertionError(
            f"{name} has dtype {got.dtype}, expected {np.dtype(expected)}: "
            "keep the dtype of the inputs (float32 in, float32 out)")


def assert_close(got, expected, name, axes=None, hint=None, rtol=1e-6, atol=1e-8):
    """Raise AssertionError locating the first element where got and expected differ.

    axes names each axis in words, e.g. ("batch row", "time step", "hidden unit"),
    or is a key of AXES such as "N T H".
    """
    expected = np.asarray(expected)
    assert_shape(got, expected.shape, name)
    # compare plain arrays: an ndarray subclass could override the comparisons below
    got = np.asarray(got)
    if isinstance(axes, str):
        axes = AXES.get(axes)
    if np.array_equal(np.isnan(got), np.isnan(expected)) and np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
        return
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    index = tuple(np.argwhere(bad)[0])
    msg = (f"{name} differs from the reference at {_where(index, axes)}: "
           f"got {got[index]:.6g}, expected {expected[index]:.6g}")
    if bad.sum() > 1:
        msg += f" ({int(bad.sum())} of {bad.size} entries differ)"
    if hint:
        msg += f". {hint}"
    raise AssertionError(msg)


def first_bad_step(got, expected, rtol=1e-6, atol=1e-8):
    """Index of the first time step (axis 1 of an (N, T, ...) array) that differs, or None."""
    T = expected.shape[1]
    for t in range(T):
        if not np.allclose(got[:, t], expected[:, t], rtol=rtol, atol=atol):
            return t
    return None


def _rnnkit_modules():
    return [m for name, m in list(sys.modules.items())
            if m is not None and (name == "rnnkit" or name.startswith("rnnkit."))]


@contextlib.contextmanager
def forbid_reference(student_fn, *names):
    """Within the block, calling rnnkit's own ``names`` raises AssertionError.

    It patches rnnkit and its submodules, and any alias of those functions in the
    student's globals, so an answer that just calls the reference does not pass.
    A name is a function of rnnkit or a dotted path below it ("variants.stacked_forward").
    """
    import rnnkit

    def resolve(name):  # "rnn_forward", or a dotted path such as "variants.stacked_forward"
        obj = rnnkit
        for part in name.split("."):
            if not hasattr(obj, part):  # a subpackage not imported yet
                importlib.import_module(f"{obj.__name__}.{part}")
            obj = getattr(obj, part)
        return obj

    refs = {resolve(n): n for n in names}
    if student_fn in refs:
        raise AssertionError(
            f"{refs[student_fn]} is rnnkit's own implementation; define it yourself in the exercise cell")

    def trap(name):
        def refuse(*args, **kwargs):
            raise AssertionError(
                f"your code calls rnnkit.{name}, the reference implementation; "
                "write this exercise yourself with NumPy")
        return refuse

    spaces = [vars(m) for m in _rnnkit_modules()]
    spaces.append(getattr(student_fn, "__globals__", {}))
    saved = []
    for space in spaces:
        for key, value in list(space.items()):
            if callable(value) and value in refs:
                saved.append((space, key, value))
                space[key] = trap(refs[value])
    try:
        yield
    finally:
        for space, key, value in saved:
            space[key] = value
