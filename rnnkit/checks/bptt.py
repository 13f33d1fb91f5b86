"""Checks for notebook 02-bptt: rnn_step_backward, rnn_backward, temporal_softmax_loss,
and the student's own gradient check.

A check runs the student's function with rnnkit's implementation trapped, compares the
result with rnnkit, and when they differ, compares it with what each usual mistake would
have produced, so that the message names the mistake. Sequence checks also feed an
upstream gradient that is zero at every time step but one, which tells whether the
gradient travels backwards in time, forwards, or not at all.

Each exercise is graded by requirement, one grade cell each (CONTRIBUTING.md): its values
(``check_<function>``), its stability at extreme inputs (the loss), and its dtype and inputs
(``check_<function>_keeps``). The student's function always receives copies; expected
values come from the check's own arrays. ``check_rnn_backward`` also compares with the
steps of the student's own rnn_step_backward, so that a loop that is right around a wrong
step keeps its points, and every call of rnn_backward gets a cache of its own (a backward
may take its cache apart).

The first part holds the helpers that the checks of notebook 03 share.
"""
import contextlib
import sys
import warnings

import numpy as np

import rnnkit
from . import assert_inputs_unchanged, copies, dtype_note, invoke, plain, size_text
from ..testing import assert_close, assert_shape, first_bad_step, forbid_reference

# ---------------------------------------------------------------- shared helpers


def tolerances(dtype):
    """(rtol, atol) for comparing a result of the given dtype with the reference."""
    if np.dtype(dtype) == np.float32:
        return 2e-4, 2e-5
    return 1e-6, 1e-9


# The rnnkit functions that answer this notebook's exercises: an answer may not call them
# (the checks trap them; the instructor's scan looks for these, and only these).
# numerical_gradient and rel_error are the tools the notebook tells the student to use.
REFERENCE = ("rnn_step_backward", "rnn_backward", "temporal_softmax_loss", "check_gradients")


def call(fn, name, *args, forbid=(), **kwargs):
    """fn(*args) with rnnkit's ``forbid`` functions trapped and any warning made a failure.

    An exception raised inside the student's code becomes an AssertionError that names
    the function; NotImplementedError (an exercise not yet done) passes unchanged.
    """
    with forbid_reference(fn, *forbid), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except (AssertionError, NotImplementedError):
            raise
        except Exception as exc:
            raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}") from exc
    if caught:
        w = caught[0]
        raise AssertionError(
            f"{name} issued a warning ({w.category.__name__}: {w.message}); a correct answer "
            "computes without warnings, and nbgrader scores a cell that writes to stderr zero")
    return result


def unpack(result, name, names):
    """Check that result is a tuple with one entry per name, and return it."""
    if not isinstance(result, tuple) or len(result) != len(names):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise AssertionError(f"{name} should return a tuple ({', '.join(names)}), but it returned {got}")
    return result


def _same(got, other, rtol, atol):
    other = np.asarray(other)
    return (isinstance(got, np.ndarray) and got.shape == other.shape
            and bool(np.allclose(got, other, rtol=rtol, atol=atol)))


def compare(got, expected, name, axes=None, mistakes=(), hint=None, dtype=np.float64):
    """Fail unless got equals expected; name the mistake when got equals one of ``mistakes``.

    mistakes: (array, explanation) pairs, the result that each usual mistake produces.
    They are tried before the shape is checked, because a wrong shape often names the
    mistake better than the shapes alone.
    """
    rtol, atol = tolerances(dtype)
    expected = np.asarray(expected)
    if not _same(got, expected, rtol, atol):
        for wrong, explanation in mistakes:
            if _same(got, wrong, rtol, atol):
                raise AssertionError(f"{name} is wrong: {explanation}")
        assert_shape(got, expected.shape, name)
        assert_close(got, expected, name, axes=axes, hint=hint, rtol=rtol, atol=atol)
    if got.dtype != np.dtype(dtype):
        raise AssertionError(
            f"{name} has dtype {got.dtype}, expected {np.dtype(dtype)}: keep the dtype of the "
            "inputs (float32 in, float32 out)")


def compare_values(got, expected, name, axes=None, mistakes=(), hint=None, dtype=np.float64):
    """Like :func:`compare`, for the values only: the dtype has a test of its own."""
    rtol, atol = tolerances(dtype)
    expected = np.asarray(expected)
    if not _same(got, expected, rtol, atol):
        for wrong, explanation in mistakes:
            if _same(got, wrong, rtol, atol):
                raise AssertionError(f"{name}{dtype_note(dtype)} is wrong: {explanation}")
        assert_shape(got, expected.shape, name)
        assert_close(got, expected, name + dtype_note(dtype), axes=axes, hint=hint, rtol=rtol, atol=atol)


def assert_dtypes(fn_name, got, names, dtype, excuse=None):
    """Every array of ``got`` has ``dtype``; ``excuse(name, array)`` may accept a difference
    that is another function's fault (it prints why and returns True)."""
    for name, g in zip(names, got):
        if g.dtype == np.dtype(dtype) or (excuse is not None and excuse(name, g)):
            continue
        raise AssertionError(
            f"{name} from {fn_name} has dtype {g.dtype} for {np.dtype(dtype)} inputs: keep the dtype of the "
            "inputs (float32 in, float32 out); a float64 array created along the way (np.zeros(H), "
            "np.zeros((N, H)), .astype(float)) promotes everything it touches, and so does a NumPy scalar "
            "such as a np.float64 constant or a np.int64 count (mask.sum()): create arrays with the inputs' dtype "
            "(np.zeros_like, dtype=...), and turn NumPy scalars into Python ones (float(...), int(...))")


@contextlib.contextmanager
def spy(student_fn, name):
    """Record the calls to rnnkit's ``name`` made inside the block; yields the list of calls.

    Like :func:`rnnkit.testing.forbid_reference` it patches rnnkit's modules and the
    student's globals, but lets every call through. A function that the grader calls in
    another process (it has ``remote_spy``) counts the calls there.
    """
    if hasattr(student_fn, "remote_spy"):
        with student_fn.remote_spy(name) as calls:
            yield calls
        return
    original = getattr(rnnkit, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    spaces = [vars(m) for n, m in list(sys.modules.items())
              if m is not None and (n == "rnnkit" or n.startswith("rnnkit."))]
    spaces.append(getattr(student_fn, "__globals__", {}))
    saved = []
    for space in spaces:
        for key, value in list(space.items()):
            if value is original:
                saved.append((space, key))
                space[key] = wrapper
    try:
        yield calls
    finally:
        for space, key in saved:
            space[key] = original


def assert_grad_shapes(fn_name, got, expected):
    """got: the tuple a backward returned; expected: {gradient name: shape}, in order.

    A wrong shape is explained when it is the transpose of the right one, or the shape of
    another of the gradients.
    """
    got = unpack(got, fn_name, tuple(expected))
    for g, (name, shape) in zip(got, expected.items()):
        if not isinstance(g, np.ndarray):
            raise AssertionError(f"{name} should be a NumPy array, but it is {type(g).__name__}")
        if g.shape == tuple(shape):
            continue
        msg = f"{name} has shape {g.shape}, expected {tuple(shape)}"
        others = [n for n, s in expected.items() if n != name and tuple(s) == g.shape]
        if len(shape) == 2 and g.shape == tuple(shape)[::-1]:
            msg += (f": it is transposed; a gradient has the shape of its variable "
                    f"({name[1:]} is {tuple(shape)})")
        elif len(shape) == 1 and g.ndim == 2 and g.shape[1] == shape[0]:
            msg += f": {name} must be summed over the batch rows (axis 0)"
        elif len(shape) == 3 and g.shape == (shape[1], shape[0], shape[2]):
            msg += ": it is time-major (T, N, ...); return it batch first, (N, T, ...)"
        elif others:
            msg += f", which is the shape of {others[0]}: are two formulas swapped?"
        raise AssertionError(msg)
    return got


def random_rnn(N, T, D, H, dtype=np.float64, seed=0, scale=0.5):
    """Inputs of a tanh RNN: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,).

    scale sets the size of the pre-activations; a large scale saturates tanh.
    """
    rng = np.random.default_rng(seed)

    def draw(*shape, s=1.0):
        return (s * rng.standard_normal(shape)).astype(dtype)

    return (draw(N, T, D), draw(N, H), draw(D, H, s=scale / np.sqrt(D)),
            draw(H, H, s=scale / np.sqrt(H)), draw(H, s=0.1))


# ---------------------------------------------------------------- rnn_step_backward

STEP_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")
FORBID_STEP_BACKWARD = ("rnn_step_backward", "rnn_backward")
BACKWARD_WARNS = ("the backward pass of a tanh step needs no exp, log or division: da = dh_next * "
                  "(1 - h_next**2), then five products")

# Sizes the visible tests try: N, D, H all different, then each equal to 1, and all at once.
STEP_SIZES = [(3, 4, 5), (1, 2, 3), (3, 1, 2), (3, 2, 1), (1, 1, 1)]
SEQUENCE_SIZES = [(3, 4, 5, 6), (1, 3, 2, 3), (3, 1, 2, 3), (3, 2, 1, 2), (3, 2, 2, 1), (1, 1, 1, 1)]
# The dtype-and-inputs tests use sizes with no 1, so that a shape bug costs the values test only.
KEEPS_STEP_SIZES = [(3, 4, 5), (2, 3, 2)]
KEEPS_SEQUENCE_SIZES = [(3, 4, 5, 6), (2, 3, 2, 3)]


def step_case(N, D, H, dtype=np.float64, seed=0, scale=0.5):
    """(dh_next, cache, h_next) of one step, cache and h_next from rnnkit.rnn_step_forward."""
    x, h_prev, Wx, Wh, b = random_rnn(N, 1, D, H, dtype, seed, scale)
    dh_next = np.random.default_rng(seed + 1).standard_normal((N, H)).astype(dtype)
    h_next, cache = rnnkit.rnn_step_forward(x[:, 0], np.tanh(h_prev), Wx, Wh, b)
    return dh_next, cache, h_next


def run_step_backward(student, dh_next, cache, dtype):
    """The student's five step gradients, on copies, with rnnkit trapped."""
    N, H = dh_next.shape
    result, _ = invoke(student, "rnn_step_backward", copies((dh_next, cache)), forbid=FORBID_STEP_BACKWARD,
                       on_warning=BACKWARD_WARNS, dtype=dtype,
                       sizes=size_text(N=N, D=cache[0].shape[1], H=H))
    return result


def check_rnn_step_backward(student, N=3, D=4, H=5, dtype=np.float64, seed=0, scale=0.5):
    """Compare student(dh_next, cache) with rnnkit on one step; cache from rnnkit.rnn_step_forward.

    The defaults make N, D and H all different, so that a transposed product shows
    in a shape. Values only: the dtype is :func:`check_rnn_step_backward_keeps`'s.
    """
    dh_next, cache, h_next = step_case(N, D, H, dtype, seed, scale)
    x, h_prev, Wx, Wh, _ = cache
    expected = rnnkit.rnn_step_backward(dh_next, cache)
    got = assert_grad_shapes("rnn_step_backward", run_step_backward(student, dh_next, cache, dtype),
                             dict(zip(STEP_GRADS, (e.shape for e in expected))))

    da = dh_next * (1 - h_next ** 2)
    no_tanh = dh_next
    at_prev = dh_next * (1 - h_prev ** 2)
    tanh_twice = dh_next * (1 - np.tanh(h_next) ** 2)
    not_squared = dh_next * (1 - h_next)

    def usual(f):
        """What f(da) would be if da were computed by one of the usual wrong formulas."""
        return [(f(no_tanh), "the derivative of tanh is missing: multiply dh_next by "
                             "1 - h_next**2 before the products"),
                (f(at_prev), "the derivative of tanh is taken at h_prev; it belongs to this "
                             "step's output, 1 - h_next**2"),
                (f(tanh_twice), "h_next is already tanh(a), so the derivative is "
                                "1 - h_next**2, not 1 - tanh(h_next)**2"),
                (f(not_squared), "the derivative of tanh is 1 - h_next**2 (squared), "
                                 "not 1 - h_next")]

    names = dict(zip(STEP_GRADS, got))
    compare_values(names["dx"], expected[0], "dx", "N D", dtype=dtype, mistakes=[
        (da @ Wh.T, "it has the shape and value of dh_prev: dx = da @ Wx.T uses Wx, not Wh"),
        *usual(lambda d: d @ Wx.T)], hint="expected dx = da @ Wx.T with da = dh_next * (1 - h_next**2)")
    compare_values(names["dh_prev"], expected[1], "dh_prev", "N H", dtype=dtype, mistakes=[
        (da @ Wh, "Wh is not transposed: h_prev enters as h_prev @ Wh, so dh_prev = da @ Wh.T"),
        (da @ Wx.T, "it has the value of dx: dh_prev = da @ Wh.T uses Wh"),
        *usual(lambda d: d @ Wh.T)], hint="expected dh_prev = da @ Wh.T")
    compare_values(names["dWx"], expected[2], "dWx", ("input feature", "hidden unit"), dtype=dtype, mistakes=[
        (da.T @ x, "it is transposed: dWx has the shape of Wx, (D, H) = x.T @ da"),
        (h_prev.T @ da, "it uses h_prev; the input of Wx is x, so dWx = x.T @ da"),
        *usual(lambda d: x.T @ d)], hint="expected dWx = x.T @ da")
    compare_values(names["dWh"], expected[3], "dWh", ("hidden unit (from)", "hidden unit (to)"), dtype=dtype,
                   mistakes=[
        (da.T @ h_prev, "it is transposed: the product is h_prev @ Wh, so dWh = h_prev.T @ da"),
        (h_next.T @ da, "it uses h_next; Wh multiplies the previous state, so dWh = h_prev.T @ da"),
        *usual(lambda d: h_prev.T @ d)], hint="expected dWh = h_prev.T @ da")
    compare_values(names["db"], expected[4], "db", ("hidden unit",), dtype=dtype, mistakes=[
        (da, "db must be summed over the batch rows: db = da.sum(axis=0)"),
        (da.mean(axis=0), "db is averaged over the batch; the bias is added to every row, "
                          "so its gradient is the sum da.sum(axis=0)"),
        *usual(lambda d: d.sum(axis=0))], hint="expected db = da.sum(axis=0)")


def check_rnn_step_backward_keeps(student, N=3, D=4, H=5):
    """float32 in, five float32 gradients out (float64 likewise); dh_next and the cache unchanged."""
    for dtype in (np.float64, np.float32):
        dh_next, cache, _ = step_case(N, D, H, dtype, seed=4)
        passed = copies((dh_next, cache))
        result, _ = invoke(student, "rnn_step_backward", passed, forbid=FORBID_STEP_BACKWARD)
        assert_inputs_unchanged("rnn_step_backward", ("dh_next", "the cache"), (dh_next, cache), passed,
                                hint="the caller may still need dh_next, and the cache belongs to the forward "
                                     "pass: write da = dh_next * (1 - h_next**2), not dh_next *= ...")
        got = [np.asarray(g) for g in unpack(result, "rnn_step_backward", STEP_GRADS)]  # shapes: the values test's
        assert_dtypes("rnn_step_backward", got, STEP_GRADS, dtype)


# ---------------------------------------------------------------- rnn_backward

SEQ_GRADS = ("dx", "dh0", "dWx", "dWh", "db")


def _through_time(dh, x, h0, Wx, Wh, hs, carry=True, add_upstream=True, reverse=True):
    """Backward through time with switches for the usual mistakes; returns the five gradients.

    carry=False forgets the gradient from step t+1; add_upstream=False replaces dh[:, t]
    by the carried gradient instead of adding the two; reverse=False loops forwards.
    """
    N, T, H = dh.shape
    da = np.zeros_like(dh)
    c = np.zeros_like(h0)
    order = range(T - 1, -1, -1) if reverse else range(T)
    for t in order:
        up = dh[:, t] if (add_upstream or t == order[0]) else 0
        g = up + (c if carry else 0)
        da[:, t] = g * (1 - hs[:, t] ** 2)
        c = da[:, t] @ Wh.T
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    return (da @ Wx.T, c, np.einsum("ntd,nth->dh", x, da),
            np.einsum("ntg,nth->gh", h_prev, da), da.sum(axis=(0, 1)))


def rnn_forward_steps(x, h0, Wx, Wh, b):
    """The forward pass of notebook 02: h (N, T, H) and the list of rnnkit's T step caches."""
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    caches, h_t = [], h0
    for t in range(T):
        h_t, step_cache = rnnkit.rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


FORBID_BACKWARD = ("rnn_backward",)
STEP_FIRST = ("your rnn_step_backward does not agree with rnnkit (its own test says how), and rnn_backward "
              "depends on it: fix rnn_step_backward first. ")


def _own_backward(step_fn, dh, caches, carry_on=True, add_upstream=True, reverse=True):
    """The five gradients of the loop of the notebook around the student's own rnn_step_backward
    (None if that step fails). The switches make the usual mistakes of the loop, as in
    :func:`_through_time`."""
    N, T, H = dh.shape
    try:
        carry, dxs, sums = np.zeros((N, H), dh.dtype), [None] * T, None
        order = range(T - 1, -1, -1) if reverse else range(T)
        for t in order:
            up = dh[:, t] if (add_upstream or t == order[0]) else 0
            result, _ = invoke(step_fn, "rnn_step_backward", copies((up + (carry if carry_on else 0), caches[t])),
                               forbid=FORBID_STEP_BACKWARD)
            grads = [np.asarray(g) for g in unpack(result, "rnn_step_backward", STEP_GRADS)]
            dxs[t], carry = grads[0], grads[1]
            sums = grads[2:] if sums is None else [s_ + g for s_, g in zip(sums, grads[2:])]
        return (np.stack(dxs, axis=1), carry, *sums)
    except (AssertionError, ValueError, TypeError, IndexError, NotImplementedError):
        return None


def check_rnn_backward(student, N=3, T=4, D=5, H=6, dtype=np.float64, seed=0, scale=0.5, step=None):
    """Compare student(dh, cache) with rnnkit, where cache is the list of rnnkit's step caches.

    step: the student's rnn_step_backward. A loop that runs that step correctly passes even
    when the step itself is wrong (the step's own test takes its points); when the loop is
    wrong too, the message says first that the step is. Every call gets a cache of its own.
    Values only: the dtype is :func:`check_rnn_backward_keeps`'s.
    """
    x, h0, Wx, Wh, b = random_rnn(N, T, D, H, dtype, seed, scale)
    _, cache = rnn_forward_steps(x, h0, Wx, Wh, b)
    ref_h, ref_cache = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    rng = np.random.default_rng(seed + 1)
    sizes = size_text(N=N, T=T, D=D, H=H)

    def run(dh):
        try:
            result, _ = invoke(student, "rnn_backward", copies((dh, cache)), forbid=FORBID_BACKWARD,
                               on_warning=BACKWARD_WARNS, dtype=dtype, sizes=sizes)
            return unpack(result, "rnn_backward", SEQ_GRADS)
        except AssertionError as exc:  # a loop that cannot run around a broken step: the step first
            raise AssertionError(first + str(exc)) from exc

    # 1. shapes, with a full upstream gradient
    dh = rng.standard_normal((N, T, H)).astype(dtype)
    expected = rnnkit.rnn_backward(dh, ref_cache)
    rtol, atol = tolerances(dtype)
    own = _own_backward(step, dh, cache) if step is not None else None
    # the student's step is right on these inputs when the loop around it gives rnnkit's gradients
    step_right = step is None or (own is not None and all(_same(g, e, rtol, atol) for g, e in zip(own, expected)))
    first = "" if step_right else STEP_FIRST
    got = run(dh)
    try:
        full = assert_grad_shapes("rnn_backward", got, dict(zip(SEQ_GRADS, (e.shape for e in expected))))
    except AssertionError as exc:
        raise AssertionError(first + str(exc)) from exc
    if all(_same(g, e, rtol, atol) for g, e in zip(full, expected)):
        return
    if own is not None and all(_same(g, e, rtol, atol) for g, e in zip(full, own)):
        print("rnn_backward runs your rnn_step_backward correctly, so this test passes; rnn_step_backward "
              "itself is wrong, and its own test says how")
        return
    if not step_right:
        why = {"carry_on": "the gradient is not carried back from step t+1 to step t: add dh_prev returned by "
                           "step t+1 to dh[:, t]",
               "add_upstream": "dh[:, t] is replaced by the carried gradient instead of added to it",
               "reverse": "the loop runs forwards in time; it must run from T-1 down to 0"}
        for key, explanation in why.items():
            wrong = _own_backward(step, dh, cache, **{key: False})
            if wrong is not None and all(_same(g, w, rtol, atol) for g, w in zip(full, wrong)):
                raise AssertionError(f"{first}rnn_backward is wrong: {explanation}")

    def per_step(name, got_dx, ref_dx, entry, mistakes):
        t = first_bad_step(got_dx, ref_dx, rtol, atol)
        if t is None:
            return
        for wrong, explanation in mistakes:
            if _same(got_dx, wrong, rtol, atol):
                raise AssertionError(f"{first}{name} is wrong at time step {t} when dh is zero except at "
                                     f"time step {entry}: {explanation}")
        assert_close(got_dx, ref_dx, f"{first}{name} (dh zero except at time step {entry})", "N T D",
                     rtol=rtol, atol=atol, hint="look at how the gradient moves from one step to the next")

    # 2. the gradient enters at step 0 only: nothing may reach later steps
    dh_first = np.zeros((N, T, H), dtype)
    dh_first[:, 0] = rng.standard_normal((N, H))
    got = run(dh_first)
    ref = rnnkit.rnn_backward(dh_first, ref_cache)
    args = (x, h0, Wx, Wh, ref_h)
    per_step("dx", got[0], ref[0], 0, [
        (_through_time(dh_first, *args, reverse=False)[0],
         "the gradient flows forwards in time; loop over t from T-1 down to 0"),
        (_through_time(dh_first, *args, add_upstream=False)[0],
         "dh[:, t] is replaced by the carried gradient; the backward of step t takes the sum "
         "dh[:, t] + dh_prev from step t+1"),
        (ref[0][:, ::-1], "dx[:, t] holds the gradient of step T-1-t: the loop visits the steps "
                          "in reverse, but each dx must be stored at its own time step t"),
        (np.zeros_like(ref[0]), "dx is zero: the upstream gradient dh[:, 0] of the first step is lost")])

    # 3. the gradient enters at the last step only: it must reach every earlier step
    dh_last = np.zeros((N, T, H), dtype)
    dh_last[:, -1] = rng.standard_normal((N, H))
    got = run(dh_last)
    ref = rnnkit.rnn_backward(dh_last, ref_cache)
    per_step("dx", got[0], ref[0], T - 1, [
        (_through_time(dh_last, *args, carry=False)[0],
         "dx is zero before the last step, so the gradient is not carried back in time: "
         "add dh_prev returned by step t+1 to dh[:, t] before the backward of step t"),
        (ref[0][:, ::-1], "dx[:, t] holds the gradient of step T-1-t: the loop visits the steps "
                          "in reverse, but each dx must be stored at its own time step t"),
        (np.zeros_like(ref[0]), "dx is zero: is the upstream gradient dh used at all?")])

    # 4. the full upstream gradient: every output against the reference and the usual mistakes
    got = full
    wrong = {key: _through_time(dh, *args, **{key: False}) for key in ("carry", "add_upstream", "reverse")}
    why = {"carry": "the gradient is not carried back from step t+1 to step t",
           "add_upstream": "dh[:, t] is replaced by the carried gradient instead of added to it",
           "reverse": "the loop runs forwards in time; it must run from T-1 down to 0"}
    h_prev = np.concatenate([h0[:, None], ref_h[:, :-1]], axis=1)
    da = np.zeros_like(dh)
    c = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da[:, t] = (dh[:, t] + c) * (1 - ref_h[:, t] ** 2)
        c = da[:, t] @ Wh.T
    one_step = {
        "dWx": [x[:, t].T @ da[:, t] for t in (0, T - 1)],
        "dWh": [h_prev[:, t].T @ da[:, t] for t in (0, T - 1)],
        "db": [da[:, t].sum(axis=0) for t in (0, T - 1)]}
    axes = {"dx": "N T D", "dh0": "N H", "dWx": ("input feature", "hidden unit"),
            "dWh": ("hidden unit (from)", "hidden unit (to)"), "db": ("hidden unit",)}
    for i, name in enumerate(SEQ_GRADS):
        mistakes = [(wrong[key][i], why[key]) for key in wrong] if T > 1 else []
        if name in one_step and T > 1:
            mistakes += [(one_step[name][0], f"{name} holds the contribution of time step 0 only: the "
                                             "weights are shared by every step, so add up the "
                                             "contributions of all T steps"),
                         (one_step[name][1], f"{name} holds the contribution of the last time step "
                                             "only: add up the contributions of all T steps")]
        if name == "dh0":
            mistakes += [(dh[:, 0], "dh0 is the gradient carried out of step 0 (the dh_prev of the "
                                    "step-0 backward), not dh[:, 0]"),
                         (np.zeros_like(h0), "dh0 is zero; it is the dh_prev of the step-0 backward")]
        compare_values(got[i], expected[i], first + name, axes[name], mistakes, dtype=dtype,
                       hint=f"the other outputs may be right; check how {name} is built")


def check_rnn_backward_keeps(student, N=3, T=4, D=5, H=6, step=None):
    """float32 in, five float32 gradients out (float64 likewise); dh unchanged.

    The cache is the backward's to use up: each call gets its own. Gradients whose dtype
    is only that of the student's own rnn_step_backward pass here (that step's test takes
    the point).
    """
    for dtype in (np.float64, np.float32):
        x, h0, Wx, Wh, b = random_rnn(N, T, D, H, dtype, seed=5)
        _, cache = rnn_forward_steps(x, h0, Wx, Wh, b)
        dh = np.random.default_rng(6).standard_normal((N, T, H)).astype(dtype)
        passed = copies((dh, cache))
        try:
            result, _ = invoke(student, "rnn_backward", passed, forbid=FORBID_BACKWARD)
        except AssertionError as exc:  # a loop that cannot run around a broken step: the step first
            own = None if step is None else _own_backward(step, dh, copies(cache))
            ref = rnnkit.rnn_backward(dh, rnnkit.rnn_forward(x, h0, Wx, Wh, b)[1])
            if step is None or (own is not None and all(_same(g, e, *tolerances(dtype)) for g, e in zip(own, ref))):
                raise
            raise AssertionError(STEP_FIRST + str(exc)) from exc
        assert_inputs_unchanged("rnn_backward", ("dh",), (dh,), passed[:1],
                                hint="the caller may still need dh: add the carried gradient into a new "
                                     "array, dh[:, t] + carry, rather than dh[:, t] += carry")
        got = [np.asarray(g) for g in unpack(result, "rnn_backward", SEQ_GRADS)]  # shapes: the values test's
        own = _own_backward(step, dh, copies(cache)) if step is not None else None

        def excuse(name, g, own=own, dtype=dtype):
            if own is None:
                return False
            mine = own[SEQ_GRADS.index(name)]
            if mine.dtype != np.dtype(dtype) and g.dtype == mine.dtype:
                print(f"{name} from rnn_backward has dtype {g.dtype} for {np.dtype(dtype)} inputs because your "
                      "rnn_step_backward returns that dtype: its own test takes the point, this one passes")
                return True
            return False

        assert_dtypes("rnn_backward", got, SEQ_GRADS, dtype, excuse)


# ---------------------------------------------------------------- temporal_softmax_loss


def _loss_variants(scores, y, mask):
    """(loss, dscores) of the usual mistakes, keyed by explanation."""
    N, T, V = scores.shape
    s = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    onehot = np.eye(V, dtype=scores.dtype)[y]
    m = mask.astype(scores.dtype)
    count = m.sum()
    d = p - onehot
    return {
        "loss": [
            ((nll * m).sum() / N, "the loss is divided by N, the number of sequences; the contract "
                                  "averages over the counted positions, (nll * mask).sum() / mask.sum()"),
            ((nll * m).sum(), "the loss is summed; divide by the number of counted positions, mask.sum()"),
            (nll.mean(), "the mask is ignored: only positions where mask is True count"),
            ((nll * m).sum() / (N * T), "masked positions are left out of the sum but still counted: "
                                        "divide by mask.sum(), not N * T"),
        ],
        "dscores": [
            (d * m[..., None], "dscores is not divided by the number of counted positions mask.sum()"),
            (d * m[..., None] / N, "dscores is divided by N; divide by mask.sum() as the loss is"),
            (d / count, "dscores must be zero at the masked positions: multiply by the mask"),
            (d / (N * T), "dscores ignores the mask: zero it where mask is False and divide by mask.sum()"),
            (p * m[..., None] / count, "the 1 at the true class is missing: dscores = (p - onehot(y)) * mask / count"),
            (-d * m[..., None] / count, "the sign is flipped: the gradient of -log p_y is p - onehot(y)"),
        ],
    }


FORBID_LOSS = ("temporal_softmax_loss",)
LOSS_SIZES = [(2, 3, 4), (1, 1, 2), (1, 4, 3), (4, 1, 3), (3, 2, 1)]


def _loss_warning(caught, dtype, where):
    """The check's own message for warnings met in the loss: the cause first, then the warning."""
    text = " ".join(str(w.message) for w in caught)
    if "overflow" in text:
        why = ("exp(scores) overflows: subtract each row's maximum first, shifted = scores - "
               "scores.max(axis=-1, keepdims=True); the softmax does not change")
    elif "divide by zero" in text or "log" in text:
        why = ("np.log meets a probability that underflowed to 0 (np.log of a softmax): take the "
               "log-probabilities as shifted - log(sum(exp(shifted))), with shifted = scores minus the row "
               "maximum, never as log(softmax(scores))")
    else:
        why = ("subtract each row's maximum before exponentiating, and take log-probabilities as "
               "shifted - log(sum(exp(shifted)))")
    w = caught[0]
    return (f"temporal_softmax_loss warns on {where}{dtype_note(dtype)}: {why} "
            f"(the warning: {w.category.__name__}: {w.message}; a graded cell that writes a warning to "
            "stderr scores zero)")


def loss_case(N, T, V, dtype=np.float64, seed=0, scale=1.0, use_mask=True):
    """(scores, y, mask or None): the mask hides at least one position when there are two."""
    rng = np.random.default_rng(seed)
    scores = (scale * rng.standard_normal((N, T, V))).astype(dtype)
    y = rng.integers(0, V, size=(N, T))
    if not use_mask:
        return scores, y, None
    mask = rng.random((N, T)) < 0.6
    mask.flat[0] = True
    if N * T > 1:
        mask.flat[-1] = False
    return scores, y, mask


def run_loss(student, args, dtype, where="these scores"):
    passed = copies(args)
    result, caught = invoke(student, "temporal_softmax_loss", passed, forbid=FORBID_LOSS,
                            sizes=size_text(N=args[0].shape[0], T=args[0].shape[1], V=args[0].shape[2]))
    if caught:
        raise AssertionError(_loss_warning(caught, dtype, where))
    loss, dscores = unpack(result, "temporal_softmax_loss", ("loss", "dscores"))
    if np.ndim(loss) != 0:
        raise AssertionError(f"loss should be a single number, but it has shape {plain(np.shape(loss))}: "
                             "average the per-position losses into one value")
    return float(loss), dscores, passed


def check_temporal_softmax_loss(student, N=2, T=3, V=4, dtype=np.float64, seed=0, scale=1.0,
                                use_mask=True):
    """Compare student(scores, y, mask) with rnnkit; the mask hides at least one position.

    Values only: the dtype of dscores is :func:`check_temporal_softmax_loss_keeps`'s.
    """
    scores, y, mask = loss_case(N, T, V, dtype, seed, scale, use_mask)
    args = (scores, y, mask) if use_mask else (scores, y)
    loss, dscores, _ = run_loss(student, args, dtype)
    ref_loss, ref_d = rnnkit.temporal_softmax_loss(*args)
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    variants = _loss_variants(scores.astype(np.float64), y, mask)
    rtol, atol = tolerances(dtype)
    if not np.isfinite(loss):
        raise AssertionError(
            f"loss is {plain(loss)} for scores of size up to {plain(np.abs(scores).max(), 3)}: exp overflows or "
            "log meets 0; subtract the row maximum and compute log-probabilities as "
            "shifted - log(sum(exp(shifted)))")
    if not np.isclose(loss, ref_loss, rtol=rtol, atol=atol):
        for wrong, explanation in variants["loss"]:
            if np.isclose(loss, wrong, rtol=rtol, atol=atol):
                raise AssertionError(f"loss is {plain(loss)}, expected {plain(ref_loss)}: {explanation}")
        raise AssertionError(
            f"loss{dtype_note(dtype)} is {plain(loss)}, expected {plain(ref_loss)} (the mean of "
            f"-log softmax(scores)[y] over the {int(mask.sum())} positions where mask is True)")
    compare_values(dscores, ref_d, "dscores", "N T V", variants["dscores"], dtype=dtype,
                   hint="dscores = (softmax(scores) - onehot(y)) * mask / mask.sum()")


STABLE_SCORES = [[[1000.0, 0.0, -1000.0], [-2000.0, 2000.0, 0.0]]]
STABLE_TARGETS = [[2, 0]]


def check_softmax_loss_stability(student, dtype=np.float64, scores=None, y=None):
    """Large scores and a true class far below the best: no overflow, no log(0), no warning."""
    scores = np.asarray(STABLE_SCORES if scores is None else scores, dtype=dtype)
    y = np.asarray(STABLE_TARGETS if y is None else y)
    where = (f"scores of size {plain(np.abs(scores).max(), 3)} (a true class "
             f"{plain(float((scores.max(axis=-1) - np.take_along_axis(scores, y[..., None], -1)[..., 0]).max()), 3)}"
             " below the best)")
    loss, dscores, _ = run_loss(student, (scores, y), dtype, where)
    ref_loss, ref_d = rnnkit.temporal_softmax_loss(scores, y)
    if not np.isfinite(loss):
        raise AssertionError(
            f"loss is {plain(loss)} for {where}{dtype_note(dtype)}: exp(scores) overflows or log(p) meets "
            "p = 0; subtract each row's maximum, and take log-probabilities as shifted - log(sum(exp(shifted))) "
            "rather than log(softmax)")
    # values wrong on ordinary scores are the values test's business; here only the extremes count
    ordinary = loss_case(2, 3, 4, dtype, seed=1)
    o_loss, o_d, _ = run_loss(student, ordinary, dtype)
    r_loss, r_d = rnnkit.temporal_softmax_loss(*ordinary)
    if not (np.isclose(o_loss, r_loss, *tolerances(dtype)) and _same(o_d, r_d, *tolerances(dtype))):
        return
    if not np.isclose(loss, ref_loss, rtol=1e-5):
        raise AssertionError(f"loss is {plain(loss)} for {where}{dtype_note(dtype)}, expected {plain(ref_loss)}: "
                             "subtract each row's maximum, and take log-probabilities as "
                             "shifted - log(sum(exp(shifted)))")
    compare_values(dscores, ref_d, "dscores (large scores)", "N T V", dtype=dtype,
                   hint="compute softmax from scores minus their row maximum")


def check_temporal_softmax_loss_keeps(student, N=2, T=3, V=4):
    """float32 scores give float32 dscores (float64 likewise); scores, y and mask unchanged."""
    for dtype in (np.float64, np.float32):
        for use_mask in (True, False):
            scores, y, mask = loss_case(N, T, V, dtype, seed=3, use_mask=use_mask)
            args = (scores, y, mask) if use_mask else (scores, y)
            _, dscores, passed = run_loss(student, args, dtype)
            assert_inputs_unchanged("temporal_softmax_loss", ("scores", "y", "mask")[:len(args)], args, passed,
                                    hint="shift into a new array, shifted = scores - max, not scores -= max")
            if not isinstance(dscores, np.ndarray):
                raise AssertionError(f"dscores should be a NumPy array, but it is {type(dscores).__name__}")
            assert_dtypes("temporal_softmax_loss", (dscores,), ("dscores",), dtype)


# ---------------------------------------------------------------- the student's gradient check

PARAMS = ("x", "h0", "Wx", "Wh", "b")


def reference_rnn_backward(dh, caches, scale=None):
    """rnn_backward for the notebook's cache (the list of step caches), built on rnnkit.

    scale: {name: factor} multiplies the named gradients, to make a wrong backward.
    """
    N, T, H = dh.shape
    x0, _, Wx, Wh, _ = caches[0]
    dx = np.zeros((N, T, x0.shape[1]), dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dh.dtype)
    c = np.zeros((N, H), dh.dtype)
    for t in range(T - 1, -1, -1):
        dx[:, t], c, gx, gh, gb = rnnkit.rnn_step_backward(dh[:, t] + c, caches[t])
        dWx += gx
        dWh += gh
        db += gb
    grads = dict(zip(PARAMS, (dx, c, dWx, dWh, db)))
    for name, factor in (scale or {}).items():
        grads[name] = grads[name] * factor
    return tuple(grads[p] for p in PARAMS)


def _numeric_errors(forward, backward, inputs, dh):
    """The relative errors a correct gradient check reports for backward."""
    out, cache = forward(*inputs)
    analytic = backward(dh.copy(), cache)
    errors = {}
    for i, name in enumerate(PARAMS):
        def f(_):
            return forward(*inputs)[0]
        numeric = rnnkit.numerical_gradient(f, inputs[i], dh)
        errors[name] = rnnkit.rel_error(analytic[i], numeric)
    return errors


def _errors_of(student, forward, backward, inputs, dh):
    errors = call(student, "gradient_check_rnn", forward, backward, *copies(inputs), dh.copy(),
                  forbid=("check_gradients",))
    if not isinstance(errors, dict) or set(errors) != set(PARAMS):
        got = sorted(errors) if isinstance(errors, dict) else type(errors).__name__
        raise AssertionError(f"gradient_check_rnn should return a dict with keys {list(PARAMS)}, got {got}")
    for name, e in errors.items():
        if np.ndim(e) != 0 or not np.isfinite(float(e)):
            shown = plain(e) if np.ndim(e) == 0 else f"an array of shape {plain(np.shape(e))}"
            raise AssertionError(f"the error reported for {name} should be one finite number, got {shown}")
    return {k: float(v) for k, v in errors.items()}


def check_gradient_check(student, forward=None, seed=0):
    """The student's gradient_check_rnn must pass a correct backward and catch wrong ones.

    It must call rnnkit.numerical_gradient, report rnnkit.rel_error's values, and find a
    gradient that is off by 5 percent in any one of the five inputs. forward defaults to
    the notebook's forward pass, :func:`rnn_forward_steps`.
    """
    forward = forward or rnn_forward_steps
    inputs = random_rnn(2, 3, 3, 4, np.float64, seed)
    dh = np.random.default_rng(seed + 1).standard_normal((2, 3, 4))
    with spy(student, "numerical_gradient") as calls:
        errors = _errors_of(student, forward, reference_rnn_backward, inputs, dh)
    if len(calls) < len(PARAMS):
        raise AssertionError(
            f"gradient_check_rnn called rnnkit.numerical_gradient {len(calls)} times; call it once "
            "for each of the five inputs x, h0, Wx, Wh, b")
    reference = _numeric_errors(forward, reference_rnn_backward, inputs, dh)
    for name in PARAMS:
        if errors[name] > 1e-6:
            raise AssertionError(
                f"with a correct backward, your check reports a relative error of {errors[name]:.3g} "
                f"for {name} (a correct check gives {reference[name]:.1e}): is the numerical gradient "
                f"taken of sum(forward(...)[0] * dh) with respect to {name} itself, the array that "
                "numerical_gradient perturbs in place (df = dh)?")
    for name in PARAMS:
        wrong = lambda d, c, name=name: reference_rnn_backward(d, c, scale={name: 1.05})  # noqa: E731
        errors = _errors_of(student, forward, wrong, inputs, dh)
        expected = _numeric_errors(forward, wrong, inputs, dh)
        if errors[name] < 1e-3:
            raise AssertionError(
                f"your check misses a backward whose d{name} is 5% too large: it reports "
                f"{errors[name]:.3g} for {name}. Compare the backward's d{name} with the numerical "
                f"gradient of {name} (not with itself, not with another input's gradient)")
        if not np.isclose(errors[name], expected[name], rtol=1e-2):
            raise AssertionError(
                f"for a backward whose d{name} is 5% too large your check reports {errors[name]:.4g} "
                f"for {name}, but the relative error is {expected[name]:.4g}: report "
                "rnnkit.rel_error(analytic, numeric)")
        others = {k: v for k, v in errors.items() if k != name and v > 1e-6}
        if others:
            raise AssertionError(
                f"when only d{name} is wrong your check also reports large errors for "
                f"{sorted(others)}: each input's gradient should be compared with its own numerical gradient")


def check_own_gradients(student, backward, forward=None, seed=3, threshold=1e-6):
    """The student's gradient check, run on the student's own rnn_backward, reports what a
    correct check reports: tiny errors where the backward is right, large ones where it is not.

    The grade is the gradient check's: a wrong rnn_backward costs its own test, not this one.
    If rnn_backward does not run at all, the check is run on the reference backward instead.
    """
    forward = forward or rnn_forward_steps
    inputs = random_rnn(2, 4, 3, 5, np.float64, seed)
    dh = np.random.default_rng(seed + 1).standard_normal((2, 4, 5))
    student_backward = backward

    def backward(dh, cache):  # a backward that changes dh in place is rnn_backward's test's business
        return student_backward(dh.copy(), cache)

    try:
        expected = _numeric_errors(forward, backward, inputs, dh)
    except Exception as exc:  # noqa: BLE001 (any failure of the student's backward)
        print(f"your rnn_backward does not run ({type(exc).__name__}: {exc}); your check is run on a correct "
              "backward instead")
        backward = reference_rnn_backward
        expected = _numeric_errors(forward, backward, inputs, dh)
    errors = _errors_of(student, forward, backward, inputs, dh)
    for name in PARAMS:
        both_small = errors[name] < threshold and expected[name] < threshold
        if not both_small and not np.isclose(errors[name], expected[name], rtol=1e-2):
            raise AssertionError(
                f"on your rnn_backward your check reports {plain(errors[name], 3)} for {name}, but the relative "
                f"error of its d{name} against the numerical gradient is {plain(expected[name], 3)}: compare each "
                "analytic gradient with the numerical gradient of its own input, with rnnkit.rel_error")
    bad = {k: v for k, v in expected.items() if not v < threshold}
    if bad:
        worst = max(bad, key=bad.get)
        print(f"your check finds d{worst} of your rnn_backward wrong (relative error {plain(bad[worst], 3)}): "
              "rnn_backward's own test takes those points; fix it there")
    return errors
