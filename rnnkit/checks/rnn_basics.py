"""Checks for notebook 01-rnn-basics: sigmoid, softmax, rnn_step_forward, rnn_forward.

Each exercise is graded by requirement, one grade cell each (CONTRIBUTING.md): its values
(``check_<function>``), its stability at extreme inputs (``check_<function>_is_stable``),
and its dtype and inputs (``check_<function>_keeps``: float32 in, float32 out; the
arguments unchanged). Each check runs the student's function on copies, with rnnkit's
implementation trapped, and compares the result with rnnkit's. When they differ it
probes further to say where the error is:

- sigmoid and softmax are compared with what the usual wrong formulas give (the sign of
  z flipped, tanh, normalising along the wrong axis, ...), and are called on very large
  inputs one value at a time, so that an overflow warning names the input that caused it;
- rnn_step_forward is called again with all inputs zeroed but one (x alone, h_prev alone,
  b alone), so that the term that is wrong is the one whose probe fails;
- rnn_forward is compared step by step, and with what a state that is not carried, a
  state that starts from zeros, or states stored one step late would give. It is also
  compared with the steps of the student's own rnn_step_forward: a loop that is right
  around a wrong step keeps its points, and the message sends the student to the step.
"""
import numpy as np

import rnnkit
from . import assert_inputs_unchanged, copies, dtype_note, invoke, plain, size_text
from ..testing import AXES, assert_close, assert_shape, first_bad_step


def tolerances(dtype):
    """(rtol, atol) for comparing a result of the given dtype with the reference."""
    if np.dtype(dtype) == np.float32:
        return 1e-4, 1e-6
    return 1e-7, 1e-10


# The rnnkit functions that answer this notebook's exercises: an answer may not call them
# (the checks trap them; the instructor's scan looks for these, and only these). rnnkit's
# other functions are the student's to use.
REFERENCE = ("sigmoid", "softmax", "log_softmax", "rnn_step_forward", "rnn_forward")


def run_quietly(fn, name, *args, forbid=(), hint=None, **kwargs):
    """(fn(*args, **kwargs), warnings it issued), with rnnkit's ``forbid`` functions trapped.

    An exception raised inside the student's code becomes an AssertionError naming the
    function (and ``hint``, if given); NotImplementedError passes unchanged, so that an
    exercise not yet done reads as such.
    """
    return invoke(fn, name, args, kwargs, forbid=forbid, hint=hint)


def call(fn, name, *args, forbid=(), hint=None, **kwargs):
    """Like :func:`run_quietly`, but a warning is a failure (nbgrader scores stderr zero)."""
    result, caught = run_quietly(fn, name, *args, forbid=forbid, hint=hint, **kwargs)
    if caught:
        w = caught[0]
        raise AssertionError(
            f"{name} issued a warning ({w.category.__name__}: {w.message}); a correct answer "
            "computes without warnings, and nbgrader scores a cell that writes to stderr zero")
    return result


def _same(got, other, rtol, atol):
    other = np.asarray(other)
    return (isinstance(got, np.ndarray) and got.shape == other.shape
            and bool(np.allclose(got, other, rtol=rtol, atol=atol, equal_nan=False)))


def _explain(got, expected, name, mistakes=None, axes=None, hint=None):
    """Fail unless got equals expected, naming the mistake when got equals a known wrong result.

    Only the values count here: the dtype has its own test. mistakes: a function returning
    (wrong result, explanation) pairs, called only on a mismatch (the wrong formulas may
    overflow; they are computed silently). They are tried before the shape, because a
    wrong shape is often better explained by the mistake that produced it.
    """
    expected = np.asarray(expected)
    rtol, atol = tolerances(expected.dtype)
    if _same(got, expected, rtol, atol):
        return
    with np.errstate(all="ignore"):
        known = mistakes() if mistakes else []
    for wrong, explanation in known:
        if _same(got, wrong, rtol, atol):
            raise AssertionError(f"{name} is wrong: {explanation}")
    assert_shape(got, expected.shape, name)
    assert_close(got, expected, name, axes=axes, hint=hint, rtol=rtol, atol=atol)


def _dtype(got, dtype, name):
    if got.dtype != np.dtype(dtype):
        raise AssertionError(
            f"{name} has dtype {got.dtype} for {np.dtype(dtype)} inputs: keep the dtype of the "
            "inputs (float32 in, float32 out); a float64 array or constant created along the way "
            "(np.zeros((N, H)), .astype(float), a np.float64 constant) promotes the result")


def _pair(result, name, first):
    if not isinstance(result, tuple) or len(result) != 2:
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise AssertionError(f"{name} should return a tuple ({first}, cache), but it returned {got}")
    return result


def _label(name, dtype):
    return name + dtype_note(dtype)


def _keeps(student, name, make_args, arg_names, outputs, forbid, hint=None):
    """The dtype and inputs test: for float64 and float32 arguments, each output in
    ``outputs(result)`` ((label, array) pairs) has the inputs' dtype, and no argument changed."""
    for dtype in (np.float64, np.float32):
        args = make_args(dtype)
        passed = copies(args)
        result, _ = invoke(student, name, passed, forbid=forbid, hint=hint)
        assert_inputs_unchanged(name, arg_names, args, passed)
        for label, value in outputs(result):
            if not isinstance(value, np.ndarray):
                raise AssertionError(f"{label} should be a NumPy array, but it is {type(value).__name__}")
            _dtype(value, dtype, label)


# ---------------------------------------------------------------- sigmoid

FORBID_SIGMOID = ("sigmoid",)
SIGMOID_EXTREMES = (-1e4, -1000.0, -100.0, -88.0, 88.0, 100.0, 1000.0, 1e4)
SIGMOID_WARNS = ("compute exp only of -|z|, which lies in (0, 1] and cannot overflow: e = exp(-|z|), then "
                 "1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0")


def check_sigmoid(student, z, dtype=np.float64):
    """Compare student(z) with rnnkit.sigmoid on an array ``z``; names the usual wrong formulas.

    Values only: the dtype of the result is the test of :func:`check_sigmoid_keeps`.
    """
    z = np.asarray(z, dtype=dtype)
    expected = rnnkit.sigmoid(z)
    got, _ = invoke(student, "sigmoid", (z.copy(),), forbid=FORBID_SIGMOID, on_warning=SIGMOID_WARNS,
                    dtype=dtype)
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"sigmoid should return a NumPy array, but it returned {type(got).__name__}")
    _explain(got, expected, _label("sigmoid(z)", dtype), lambda: [
        (rnnkit.sigmoid(-z), "it computes sigmoid(-z) = 1 / (1 + exp(z)); the sign of z is flipped, "
                             "the formula is 1 / (1 + exp(-z))"),
        (np.tanh(z), "it computes tanh(z); the sigmoid is 1 / (1 + exp(-z)), with values in (0, 1)"),
        (rnnkit.sigmoid(np.abs(z)), "it is right for z >= 0 but gives sigmoid(|z|) for z < 0: for negative z "
                                    "use exp(z) / (1 + exp(z))"),
        (np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))), "it gives exp(-|z|) / (1 + exp(-|z|)) everywhere; "
                                                         "that is the formula for z < 0 only, for z >= 0 "
                                                         "use 1 / (1 + exp(-z))"),
        (np.exp(-z), "it is missing the 1 / (1 + ...) around exp(-z)"),
    ], hint=_sigmoid_hint(got, expected, z))
    return got


def _sigmoid_hint(got, expected, z):
    """The formula, and a word about clipping when only the values far from 0 differ."""
    hint = "sigmoid(z) = 1 / (1 + exp(-z))"
    if isinstance(got, np.ndarray) and got.shape == z.shape:
        rtol, atol = tolerances(z.dtype)
        with np.errstate(all="ignore"):
            bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
        if bad.any() and np.abs(z[bad]).min() >= 10:
            hint = (f"only values with |z| >= {plain(np.abs(z[bad]).min(), 3)} differ: is z clipped or rounded "
                    "somewhere? Far from 0 the sigmoid tends to exactly 0 and 1; " + hint)
    return hint


def _sigmoid_warnings(student, dtype, extremes):
    """{z: warning text} for the extremes at which student(z) warns, one value at a time."""
    results, warned = {}, {}
    for value in extremes:
        z = np.array([value], dtype=dtype)
        results[value], caught = invoke(student, "sigmoid", (z,), forbid=FORBID_SIGMOID)
        if caught:
            warned[value] = f"{caught[0].category.__name__}: {caught[0].message}"
    return results, warned


MODERATE_Z = [[-3.0, -0.5, 0.0], [0.7, 2.0, 5.0]]


def _right_on(student, name, reference, z, dtype, forbid):
    """Whether student(z) agrees with the reference on ordinary inputs. A stability test
    compares values at the extremes only when it does: a function whose values are wrong
    everywhere loses the values test's points, not the stability test's as well."""
    z = np.asarray(z, dtype=dtype)
    got, _ = invoke(student, name, (z.copy(),), forbid=forbid)
    return _same(got, reference(z), *tolerances(dtype))


def check_sigmoid_is_stable(student, dtype=np.float64, extremes=SIGMOID_EXTREMES):
    """sigmoid of each very large |z|, one at a time: no warning, no NaN, the right limit."""
    results, warned = _sigmoid_warnings(student, dtype, extremes)
    if warned:
        order = sorted(warned, key=abs)
        negative = [v for v in order if v < 0]
        positive = [v for v in order if v > 0]
        where = " and at ".join(f"z = {plain(v)}" for v in (negative[:1] + positive[:1]))
        float32_only = (np.dtype(dtype) == np.float32
                        and not _sigmoid_warnings(student, np.float64, list(warned))[1])
        if float32_only:
            why = ("only with float32 inputs, float64 copes: float32's largest number is about 3.4e38 = "
                   "exp(88.7), so exp of anything above 88.7 overflows in float32 (a clip at +-500, say, "
                   "is too wide for float32); " + SIGMOID_WARNS)
        elif negative and positive:
            why = ("np.where evaluates both of its branches on every element, so each branch must be safe for "
                   "every z: exponentiate only -|z|, e.g. e = exp(-|z|), then 1 / (1 + e) or e / (1 + e)")
        elif negative:
            why = ("for large negative z, exp(-z) overflows: compute exp(-|z|) instead, which lies in (0, 1], "
                   "and use exp(z) / (1 + exp(z)) when z < 0")
        else:
            why = ("for large positive z something computes exp(z), which overflows; if you use np.where, "
                   "remember that it evaluates both branches on every element")
        raise AssertionError(f"sigmoid warns at {where}{dtype_note(dtype)}: {why} "
                             f"(the warning: {warned[order[0]]})")
    ordinary = _right_on(student, "sigmoid", rnnkit.sigmoid, MODERATE_Z, dtype, FORBID_SIGMOID)
    for value, got in results.items():
        name = _label(f"sigmoid(z = {plain(value)})", dtype)
        assert_shape(got, (1,), name)
        if not np.isfinite(got).all():
            raise AssertionError(f"{name} gives {plain(got[0])}, not a number between 0 and 1: for very "
                                 "large |z| the sigmoid is 0 or 1; exponentiate only -|z|, which cannot "
                                 "overflow")
        if not ordinary:  # wrong values everywhere are the values test's; here only the extremes count
            continue
        _explain(got, rnnkit.sigmoid(np.array([value], dtype=dtype)), name,
                 hint="far from 0 the sigmoid is exp(z) for z < 0 and 1 - exp(-z) for z > 0, so it tends to "
                      "exactly 0 and 1: is the input clipped or rounded somewhere?")


def check_sigmoid_keeps(student, shape=(2, 3), seed=0):
    """float32 in, float32 out (and float64 likewise); z itself unchanged."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3.0, size=shape)
    _keeps(student, "sigmoid", lambda dtype: (z.astype(dtype),), ("z",),
           lambda got: [("sigmoid(z)", got)], FORBID_SIGMOID)


# ---------------------------------------------------------------- softmax


FORBID_SOFTMAX = ("softmax", "log_softmax")
SOFTMAX_HINT = ("did you forget keepdims=True when taking the max or the sum along the axis, so that the "
                "result broadcasts back against z?")
SOFTMAX_WARNS = ("subtract the maximum of each slice along the axis, np.max(z, axis=axis, keepdims=True), "
                 "before exponentiating, so that the largest exponent is exp(0) = 1")


def check_softmax(student, z, axis=None, dtype=np.float64):
    """Compare student(z) (or student(z, axis=axis)) with rnnkit.softmax; names the usual mistakes.

    Values only: the dtype is the test of :func:`check_softmax_keeps`.
    """
    z = np.asarray(z, dtype=dtype)
    kwargs = {} if axis is None else {"axis": axis}
    ax = -1 if axis is None else axis
    label = _label("softmax(z)" if axis is None else f"softmax(z, axis={axis})", dtype)
    expected = rnnkit.softmax(z, axis=ax)
    got, _ = invoke(student, "softmax", (z.copy(),), kwargs, forbid=FORBID_SOFTMAX, hint=SOFTMAX_HINT,
                    on_warning=SOFTMAX_WARNS, dtype=dtype, sizes=f"z of shape {plain(z.shape)}")
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"softmax should return a NumPy array, but it returned {type(got).__name__}")
    _explain(got, expected, label, lambda: _softmax_mistakes(z, ax),
             hint="softmax(z) = exp(z - max) / sum(exp(z - max)) along the axis")
    return got


def _softmax_mistakes(z, ax):
    e = np.exp(z - z.max(axis=ax, keepdims=True))
    mistakes = [
        (e, "it returns exp(z - max) without dividing by the sum; the probabilities must sum to 1 along the axis"),
        (np.exp(z) / np.exp(z).sum(), "it normalises over the whole array; normalise along the axis only "
                                      "(np.sum(..., axis=axis, keepdims=True))"),
        (rnnkit.log_softmax(z, axis=ax), "it returns log-probabilities, log(softmax(z)); return the probabilities"),
    ]
    if z.ndim > 1:
        if ax not in (-1, z.ndim - 1):
            mistakes.append((rnnkit.softmax(z, axis=-1),
                             f"it normalises along the last axis whatever the axis argument says; it ignores "
                             f"axis={ax}"))
        other = 0 if ax in (-1, z.ndim - 1) else -1
        mistakes.append((rnnkit.softmax(z, axis=other),
                         f"it normalises along axis {other % z.ndim}, not along the axis argument "
                         f"(axis={ax}); the probabilities of each slice along axis {ax} must sum to 1"))
    if z.ndim == 2 and z.shape[0] == z.shape[1]:
        # without keepdims, a (N,) sum divides column j by the sum of row j
        mistakes.append((e / e.sum(axis=ax)[None, :] if ax in (-1, 1) else e / e.sum(axis=0)[:, None],
                         "the sums do not line up with their rows: take np.sum(..., keepdims=True) so that the "
                         "sum along the axis broadcasts back against the slice it came from"))
    return mistakes


STABILITY_SCORES = [[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.0]]


def check_softmax_is_stable(student, dtype=np.float64, z=None):
    """Very large scores, and rows whose scale differs wildly: no warning, no NaN."""
    z = np.asarray(STABILITY_SCORES if z is None else z, dtype=dtype)
    shown = "[[1000, 1001, 999], [-1000, -1001, -999]]" if z.shape == (2, 3) and np.array_equal(
        z, np.asarray(STABILITY_SCORES, dtype=dtype)) else f"large scores (up to {plain(np.abs(z).max(), 3)})"
    got, caught = invoke(student, "softmax", (z.copy(),), forbid=FORBID_SOFTMAX, hint=SOFTMAX_HINT)
    if caught:
        w = caught[0]
        if any("overflow" in str(c.message) for c in caught):
            why = ("exp overflows: subtract the maximum of each row, np.max(z, axis=axis, keepdims=True), "
                   "before exponentiating")
        else:
            why = ("the second row underflows to 0 / 0: subtract the maximum of each row (keepdims=True), not "
                   "the maximum of the whole array, so that every row keeps an exponent of exp(0) = 1")
        raise AssertionError(f"softmax warns on the scores {shown}{dtype_note(dtype)}: {why} "
                             f"(the warning: {w.category.__name__}: {w.message})")
    assert_shape(got, z.shape, "softmax(z)")
    bad = ~np.isfinite(got).all(axis=-1)
    if bad.any():
        row = int(np.argmax(bad))
        raise AssertionError(
            f"softmax gives NaN or infinity in row {row} of {shown}{dtype_note(dtype)}: "
            "subtract the maximum of each row (keepdims=True), not the maximum of the whole array, "
            "so that no row underflows to 0 / 0")
    if not _right_on(student, "softmax", rnnkit.softmax, MODERATE_Z, dtype, FORBID_SOFTMAX):
        return  # values wrong everywhere are the values test's business; here only the extremes count
    _explain(got, rnnkit.softmax(z), _label("softmax of large scores", dtype), axes=("row", "class"),
             hint="subtract the maximum of each row before exponentiating")


def check_softmax_keeps(student, shape=(3, 4), seed=0):
    """float32 in, float32 out (and float64 likewise); the scores z unchanged."""
    z = np.random.default_rng(seed).normal(scale=2.0, size=shape)
    _keeps(student, "softmax", lambda dtype: (z.astype(dtype),), ("z",),
           lambda got: [("softmax(z)", got)], FORBID_SOFTMAX, hint=SOFTMAX_HINT)


# ---------------------------------------------------------------- rnn_step_forward


FORBID_STEP = ("rnn_step_forward", "rnn_forward")
STEP_ARGS = ("x", "h_prev", "Wx", "Wh", "b")


def rnn_inputs(N, D, H, dtype=np.float64, seed=0, scale=1.0):
    """x (N, D), h_prev (N, H), Wx (D, H), Wh (H, H), b (H,) with entries of size ~scale."""
    rng = np.random.default_rng(seed)

    def draw(*shape, s=1.0):
        return (s * rng.standard_normal(shape)).astype(dtype)

    return (draw(N, D), np.tanh(draw(N, H)), draw(D, H, s=scale / np.sqrt(D)),
            draw(H, H, s=scale / np.sqrt(H)), draw(H, s=0.5 * scale))


STEP_HINT = "h_next = tanh(x @ Wx + h_prev @ Wh + b)"
SHAPE_HINT = ("check the shapes of the products: x (N, D) @ Wx (D, H) and h_prev (N, H) @ Wh (H, H), "
              "plus b (H,)")
TANH_WARNS = ("use np.tanh, which saturates at -1 and +1 without overflow; a tanh written with exp "
              "overflows once the pre-activation is large")

# Sizes the values tests try visibly: each of N, (T,) D, H equal to 1 on its own, and all
# at once (a np.squeeze breaks exactly these). The dtype-and-inputs tests use sizes with
# no 1, so that a shape bug costs the values test only.
STEP_SIZES = [(2, 3, 4), (1, 4, 3), (3, 1, 2), (3, 2, 1), (1, 1, 1)]
SEQUENCE_SIZES = [(2, 3, 4, 5), (1, 3, 2, 2), (3, 1, 2, 2), (3, 2, 1, 2), (3, 2, 2, 1), (1, 1, 1, 1)]
KEEPS_STEP_SIZES = [(3, 2, 4), (2, 5, 3)]
KEEPS_SEQUENCE_SIZES = [(3, 2, 2, 4), (2, 4, 3, 2)]


def step(student, x, h_prev, Wx, Wh, b, name="rnn_step_forward"):
    """h_next of the student's step, on copies, with rnnkit trapped and the return value checked."""
    N, D = x.shape
    result, _ = invoke(student, name, copies((x, h_prev, Wx, Wh, b)), forbid=FORBID_STEP, hint=SHAPE_HINT,
                       on_warning=TANH_WARNS, dtype=x.dtype, sizes=size_text(N=N, D=D, H=Wh.shape[0]))
    h_next, _ = _pair(result, name, "h_next")
    return h_next


def _activation_mistakes(a):
    return [
        (a, "no activation is applied: h_next = tanh(x @ Wx + h_prev @ Wh + b)"),
        (rnnkit.sigmoid(a), "it applies the sigmoid where the vanilla RNN applies tanh"),
        (np.maximum(a, 0), "it applies ReLU where this RNN applies tanh"),
        (rnnkit.sigmoid(a) * np.tanh(a), "it multiplies sigmoid(a) by tanh(a); the vanilla RNN applies one "
                                         "activation, tanh, not a product of two"),
    ]


def check_rnn_step_forward(student, N=2, D=3, H=4, dtype=np.float64, seed=0, scale=1.0):
    """Compare one step with rnnkit; on a mismatch, probe each term with the others zeroed.

    Values only (the dtype is :func:`check_rnn_step_forward_keeps`'s). Returns the
    student's h_next.
    """
    x, h_prev, Wx, Wh, b = rnn_inputs(N, D, H, dtype, seed, scale)
    expected, _ = rnnkit.rnn_step_forward(x, h_prev, Wx, Wh, b)
    got = step(student, x, h_prev, Wx, Wh, b)
    assert_shape(got, (N, H), "h_next")
    rtol, atol = tolerances(dtype)
    if not _same(got, expected, rtol, atol):
        a = x @ Wx + h_prev @ Wh + b
        for wrong, explanation in _activation_mistakes(a):
            if _same(got, wrong, rtol, atol):
                raise AssertionError(f"h_next is wrong: {explanation}")
        where = _first_difference(got, expected, "N H", rtol, atol)
        diagnosis = diagnose_rnn_step_forward(student, x, h_prev, Wx, Wh, b)
        raise AssertionError(f"h_next{dtype_note(dtype)} differs from the reference at {where}; {diagnosis}")
    return got


def check_rnn_step_forward_keeps(student, N=3, D=2, H=4):
    """float32 in, float32 h_next out (and float64 likewise); no argument changed."""
    _keeps(student, "rnn_step_forward", lambda dtype: rnn_inputs(N, D, H, dtype, seed=5), STEP_ARGS,
           lambda result: [("h_next", _pair(result, "rnn_step_forward", "h_next")[0])], FORBID_STEP,
           hint=SHAPE_HINT)


def _first_difference(got, expected, axes, rtol, atol):
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    index = tuple(np.argwhere(bad)[0])
    names = AXES[axes]
    return (", ".join(f"{axis} {int(i)}" for axis, i in zip(names, index))
            + f" (got {plain(got[index])}, expected {plain(expected[index])})")


def diagnose_rnn_step_forward(student, x, h_prev, Wx, Wh, b):
    """Say which term of the step is wrong, by zeroing all inputs but one."""
    rtol, atol = tolerances(x.dtype)
    zx, zh, zb = np.zeros_like(x), np.zeros_like(h_prev), np.zeros_like(b)
    probes = [
        ("b", "with x and h_prev zeroed it still differs, so the bias b is the problem",
         (zx, zh, Wx, Wh, b),
         [(np.zeros_like(h_prev), "the bias b seems to be missing"),
          (np.zeros_like(h_prev) + b, "b seems to be added after the tanh; it belongs inside, with the two "
                                      "products")]),
        ("x", "with h_prev and b zeroed it still differs, so the input term x @ Wx is the problem",
         (x, zh, Wx, Wh, zb),
         [(np.zeros_like(h_prev), "x seems to be ignored"),
          (np.tanh(x @ Wx.T) if Wx.shape[0] == Wx.shape[1] else None, "Wx seems to be transposed: use x @ Wx"),
          (np.tanh(x @ Wh) if x.shape[1] == Wh.shape[0] else None, "x is multiplied by Wh; the input "
                                                                    "weights are Wx")]),
        ("h_prev", "with x and b zeroed it still differs, so the recurrent term h_prev @ Wh is the problem",
         (zx, h_prev, Wx, Wh, zb),
         [(np.zeros_like(h_prev), "h_prev seems to be ignored: the previous hidden state enters through "
                                  "h_prev @ Wh"),
          (np.tanh(h_prev @ Wh.T), "Wh seems to be transposed: use h_prev @ Wh, not Wh @ h_prev or "
                                   "h_prev @ Wh.T"),
          (np.tanh(h_prev @ Wx) if Wx.shape[0] == h_prev.shape[1] else None, "h_prev is multiplied by Wx; "
                                                                              "the recurrent weights are Wh")]),
    ]
    for _, verdict, args, known in probes:
        expected, _ = rnnkit.rnn_step_forward(*args)
        got = step(student, *args)
        if _same(got, expected, rtol, atol):
            continue
        for wrong, explanation in known:
            if wrong is not None and _same(got, wrong, rtol, atol):
                return f"{verdict}: {explanation}"
        return f"{verdict} ({STEP_HINT})"
    return ("each term alone is right, but together they are not: are the terms added before the tanh? "
            f"({STEP_HINT})")


# ---------------------------------------------------------------- rnn_forward


FORBID_FORWARD = ("rnn_forward", "rnn_step_forward")
FORWARD_ARGS = ("x", "h0", "Wx", "Wh", "b")


def sequence_inputs(N, T, D, H, dtype=np.float64, seed=0, scale=1.0):
    """x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    rng = np.random.default_rng(seed)

    def draw(*shape, s=1.0):
        return (s * rng.standard_normal(shape)).astype(dtype)

    return (draw(N, T, D), np.tanh(draw(N, H)), draw(D, H, s=scale / np.sqrt(D)),
            draw(H, H, s=scale / np.sqrt(H)), draw(H, s=0.5 * scale))


FORWARD_HINT = ("step t's input is x[:, t, :]; run h_t = tanh(x_t @ Wx + h_(t-1) @ Wh + b) from h_0 = h0 and "
                "store every h_t in h[:, t, :]")


def forward(student, x, h0, Wx, Wh, b, step=None):
    """h of the student's rnn_forward, on copies. A warning fails, unless the student's own
    rnn_step_forward issues it too and h is what that step gives (the step's test takes it)."""
    N, T, D = x.shape
    result, caught = invoke(student, "rnn_forward", copies((x, h0, Wx, Wh, b)), forbid=FORBID_FORWARD,
                            hint=FORWARD_HINT, dtype=x.dtype, sizes=size_text(N=N, T=T, D=D, H=h0.shape[1]))
    h, _ = _pair(result, "rnn_forward", "h")
    if not isinstance(h, np.ndarray):
        raise AssertionError(f"h should be a NumPy array, but it is {type(h).__name__}")
    if caught:
        if step is not None:
            own_caught = []
            own = _own_steps(step, x, h0, Wx, Wh, b, warned=own_caught)
            if own_caught and own is not None and own.shape == h.shape and np.allclose(
                    h, own, *tolerances(x.dtype), equal_nan=True):
                print("rnn_forward warns because your rnn_step_forward does, whose own test takes the points; "
                      "this test passes")
                return None
        w = caught[0]
        raise AssertionError(f"rnn_forward warns{dtype_note(x.dtype)}: {TANH_WARNS} (the warning: "
                             f"{w.category.__name__}: {w.message}; a graded cell that writes a warning to "
                             "stderr scores zero)")
    return h


def _reference_steps(x, h0, Wx, Wh, b, start=None, step_fn=None):
    """Each step from a chosen previous state: start(t, h_prev) gives the h_prev step t uses.

    step_fn: the step to run (rnnkit's by default; the student's, to name a loop's mistake
    around a wrong step).
    """
    N, T, _ = x.shape
    out = np.empty((N, T, h0.shape[1]), dtype=np.float64)
    h = h0
    for t in range(T):
        h_prev = h if start is None else start(t, h)
        if step_fn is None:
            h, _ = rnnkit.rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)
        else:
            result, _ = invoke(step_fn, "rnn_step_forward", copies((x[:, t], h_prev, Wx, Wh, b)), forbid=FORBID_STEP)
            h = np.asarray(_pair(result, "rnn_step_forward", "h_next")[0])
        out[:, t] = h
    return out.astype(x.dtype)


def _own_steps(step_fn, x, h0, Wx, Wh, b, warned=None):
    """The states the student's own rnn_step_forward gives, step after step, or None if it fails.

    warned: a list that receives the warnings the steps issue.
    """
    try:
        h, out = h0, []
        for t in range(x.shape[1]):
            result, caught = invoke(step_fn, "rnn_step_forward", copies((x[:, t], h, Wx, Wh, b)),
                                    forbid=FORBID_STEP)
            if warned is not None:
                warned.extend(caught)
            h = np.asarray(_pair(result, "rnn_step_forward", "h_next")[0])
            out.append(h)
        return np.stack(out, axis=1)
    except (AssertionError, ValueError, TypeError, IndexError, NotImplementedError):
        return None


STEP_FIRST = ("your rnn_step_forward does not agree with rnnkit (its own test says how), and rnn_forward "
              "depends on it: fix rnn_step_forward first. ")


def assert_sequence_shape(h, N, T, H):
    """h must be the (N, T, H) array of every hidden state; explain the usual wrong shapes."""
    if not isinstance(h, np.ndarray):
        raise AssertionError(f"h should be a NumPy array, but it is {type(h).__name__}")
    if h.shape == (N, T, H):
        return
    if h.shape == (N, H):
        raise AssertionError(
            f"h has shape {plain(h.shape)} = (N, H): rnn_forward returns every hidden state, shape (N, T, H) = "
            f"{plain((N, T, H))}, not only the last one")
    if h.shape == (T, N, H):
        raise AssertionError(
            f"h has shape {plain(h.shape)} = (T, N, H): it is time-major; the course is batch first, return h "
            f"of shape (N, T, H) = {plain((N, T, H))}")
    if h.ndim == 3 and h.shape[0] == N and h.shape[2] == H and h.shape[1] != T:
        raise AssertionError(
            f"h has {h.shape[1]} time steps, expected T = {T}: store one state per input step, h_1 ... h_T")
    raise AssertionError(f"h has shape {plain(h.shape)}, expected (N, T, H) = {plain((N, T, H))}"
                         f" for {size_text(N=N, T=T, H=H)}")


def check_rnn_forward(student, N=2, T=3, D=4, H=5, dtype=np.float64, seed=0, scale=1.0, step=None):
    """Compare the whole sequence with rnnkit, naming the usual mistakes; returns the student's h.

    step: the student's rnn_step_forward. A loop that runs that step correctly passes even
    when the step itself is wrong (the step's own test takes its points); when the loop
    is wrong too, the message says first that the step is.
    """
    x, h0, Wx, Wh, b = sequence_inputs(N, T, D, H, dtype, seed, scale)
    expected, _ = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    rtol, atol = tolerances(dtype)
    own = _own_steps(step, x, h0, Wx, Wh, b) if step is not None else None
    # the student's step is right on these inputs when the steps it gives are rnnkit's
    step_right = step is None or (own is not None and _same(own, expected, rtol, atol))
    try:
        got = forward(student, x, h0, Wx, Wh, b, step=step)
    except AssertionError as exc:
        if step_right:
            raise
        raise AssertionError(STEP_FIRST + str(exc)) from exc
    if got is None:  # the student's own step warns, and the loop is right around it
        return None
    if _same(got, expected, rtol, atol):
        return got
    if own is not None and _same(got, own, rtol, atol):
        print("rnn_forward runs your rnn_step_forward correctly, so this test passes; rnn_step_forward "
              "itself is wrong, and its own test says how")
        return got
    first = "" if step_right else STEP_FIRST

    assert_sequence_shape(got, N, T, H)
    zeros = np.zeros_like(h0)
    # the usual mistakes of the loop, around rnnkit's step, or around the student's when it is wrong
    step_fn = None if step_right else step
    try:
        around = _reference_steps(x, h0, Wx, Wh, b, step_fn=step_fn)
        known = [
            (_reference_steps(x, h0, Wx, Wh, b, start=lambda t, h: h0, step_fn=step_fn),
             "every step starts from h0: the state is not carried; pass each step's h_next on as the next "
             "step's h_prev"),
            (_reference_steps(x, h0, Wx, Wh, b, start=lambda t, h: zeros, step_fn=step_fn),
             "every step starts from zeros: the state is not carried from one step to the next"),
            (_reference_steps(x, zeros, Wx, Wh, b, step_fn=step_fn),
             "h0 is ignored: the first step must start from h0, not from zeros"),
            (np.concatenate([h0[:, None], around[:, :-1]], axis=1),
             "h[:, t] holds the state before step t (h[:, 0] is h0): store the new state h_t = h_next after "
             "each step, h_1 ... h_T"),
        ]
    except (AssertionError, ValueError, TypeError, IndexError):  # the student's step does not run here
        known = []
    for wrong, explanation in known:
        if _same(got, wrong, rtol, atol):
            raise AssertionError(f"{first}h is wrong: {explanation}")
    assert_shape(got, (N, T, H), "h")
    t = first_bad_step(got, expected, rtol=rtol, atol=atol)
    if t == 0:
        hint = ("the first step is already wrong: it should be rnn_step_forward(x[:, 0], h0, Wx, Wh, b); "
                + FORWARD_HINT)
    else:
        hint = (f"steps 0 to {t - 1} are right and step {t} is not: is the state carried from step {t - 1} "
                f"to step {t}, and does step {t} read x[:, {t}, :]?")
    assert_close(got, expected, f"{first}h{dtype_note(dtype)}", axes="N T H", hint=hint, rtol=rtol, atol=atol)
    return got


def _step_changes_inputs(step_fn, args):
    """Whether the student's rnn_step_forward changes an argument in place, on the first step of args."""
    x, h0, Wx, Wh, b = args
    first = (x[:, 0], h0, Wx, Wh, b)
    passed = copies(first)
    try:
        invoke(step_fn, "rnn_step_forward", passed, forbid=FORBID_STEP)
    except (AssertionError, NotImplementedError):
        return False
    return any(not np.array_equal(a, p) for a, p in zip(first, passed))


def check_rnn_forward_keeps(student, N=3, T=2, D=2, H=4, step=None):
    """float32 in, float32 h out (and float64 likewise); no argument changed.

    A float64 h that only passes on the float64 of the student's own rnn_step_forward
    passes here: that step's own test takes the point.
    """
    for dtype in (np.float64, np.float32):
        args = sequence_inputs(N, T, D, H, dtype, seed=6)
        passed = copies(args)
        try:
            result, _ = invoke(student, "rnn_forward", passed, forbid=FORBID_FORWARD, hint=FORWARD_HINT)
        except AssertionError as exc:  # a loop that cannot run around a broken step: the step first
            own = None if step is None else _own_steps(step, *args)
            if step is None or (own is not None and _same(own, rnnkit.rnn_forward(*args)[0], *tolerances(dtype))):
                raise
            raise AssertionError(STEP_FIRST + str(exc)) from exc
        try:
            assert_inputs_unchanged("rnn_forward", FORWARD_ARGS, args, passed)
        except AssertionError:
            if step is None or not _step_changes_inputs(step, args):
                raise
            print("rnn_forward changes its inputs because your rnn_step_forward changes its own: that step's "
                  "test takes the point, this one passes")
        h, _ = _pair(result, "rnn_forward", "h")
        if not isinstance(h, np.ndarray):
            raise AssertionError(f"h should be a NumPy array, but it is {type(h).__name__}")
        if h.dtype == np.dtype(dtype):
            continue
        if step is not None:
            own = _own_steps(step, args[0][:, :1], *args[1:])
            if own is not None and own.dtype != np.dtype(dtype) and own.dtype == h.dtype:
                print(f"h has dtype {h.dtype} for {np.dtype(dtype)} inputs because your rnn_step_forward "
                      "returns that dtype: its own test takes the point, this one passes")
                continue
        _dtype(h, dtype, "h")
