"""Diagnostic checks used by the notebooks' test cells, one module per notebook.

Each check compares a student's function with rnnkit's reference on inputs built to
expose one mistake at a time, and fails with a message that names the mistake.

The helpers here are shared by the modules. They follow the course's grading rules
(CONTRIBUTING.md, "Grading by requirement"):

- the student's function always receives copies (:func:`copies`); every expected value
  is computed from the check's own arrays, which nothing else touches, and
  :func:`assert_inputs_unchanged` compares the copies afterwards to say which input the
  function changed in place;
- a warning raised inside the student's function becomes the check's own message
  (:func:`invoke` with ``on_warning``): the specific hint comes first, and a warning met
  only with float32 inputs says so;
- numbers in messages print plainly (:func:`plain`), never as ``np.float64(0.435)``.
"""
import warnings

import numpy as np

from ..testing import forbid_reference


def plain(value, digits=6):
    """A number, array entry or shape as plain text: 0.435, 3, (2, 3); never np.float64(...)."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(plain(v, digits) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}g}"
    return str(value)


def copies(value):
    """A deep copy of arrays nested in tuples, lists and dicts (other objects are shared)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(copies(v) for v in value)
    if isinstance(value, list):
        return [copies(v) for v in value]
    if isinstance(value, dict):
        return {k: copies(v) for k, v in value.items()}
    return value


def _equal(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True)))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return True  # other objects are not compared


def assert_inputs_unchanged(name, arg_names, originals, passed, hint=None):
    """Fail if an argument the student received (``passed``) no longer equals its original.

    arg_names: a name per argument; originals and passed: the arguments before and after
    the call (``passed`` are the copies the student's function received).
    """
    changed = [n for n, before, after in zip(arg_names, originals, passed) if not _equal(before, after)]
    if changed:
        what = " and ".join(changed)
        raise AssertionError(
            f"{name} changes its input {what} in place: the caller's array{'s' if len(changed) > 1 else ''} "
            f"no longer hold{'' if len(changed) > 1 else 's'} what it passed in. Compute into new arrays "
            "(a = a - m, not a -= m; no out= pointing at an input)" + (f"; {hint}" if hint else ""))


def dtype_note(dtype):
    """' (with float32 inputs)' for float32, '' otherwise: to say a failure is float32's."""
    return " with float32 inputs" if np.dtype(dtype) == np.float32 else ""


def invoke(fn, name, args, kwargs=None, forbid=(), hint=None, on_warning=None, dtype=None, sizes=None):
    """fn(*args, **kwargs), with rnnkit's ``forbid`` functions trapped; returns (result, warnings).

    An exception raised inside the student's code becomes an AssertionError naming the
    function, the sizes (``sizes``, e.g. "N=3, D=1, H=2") and ``hint``; NotImplementedError
    passes unchanged, so that an exercise not yet done reads as such.

    on_warning: None returns the warnings to the caller; a string makes any warning a
    failure whose message starts with that hint, then names the warning (and float32,
    when ``dtype`` is float32).
    """
    kwargs = kwargs or {}
    with forbid_reference(fn, *forbid), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except (AssertionError, NotImplementedError):
            raise
        except Exception as exc:
            where = f" for {sizes}" if sizes else ""
            msg = f"{name} raised {type(exc).__name__}{where}: {str(exc).strip()}"
            raise AssertionError(msg + (f"; {hint}" if hint else "")) from exc
    caught = list(caught)
    if caught and on_warning is not None:
        w = caught[0]
        raise AssertionError(
            f"{name} warns{dtype_note(dtype) if dtype is not None else ''}: {on_warning} "
            f"(the warning: {w.category.__name__}: {w.message}; a graded cell that writes a warning "
            "to stderr scores zero)")
    return result, caught


def size_text(**sizes):
    """'N=3, T=2, D=1, H=4', with a word about the sizes equal to 1, which squeezing breaks."""
    text = ", ".join(f"{k}={int(v)}" for k, v in sizes.items())
    ones = [k for k, v in sizes.items() if int(v) == 1]
    if ones:
        text += (f" (a size of 1: does the code drop an axis of length 1, with np.squeeze or by "
                 f"indexing, where {', '.join(ones)} = 1?)")
    return text
