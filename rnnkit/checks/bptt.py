"""Checks for notebook 02-bptt: rnn_step_backward, rnn_backward, temporal_softmax_loss,
and the student's own gradient check.

A check runs the student's function with rnnkit's implementation trapped, compares the
result with rnnkit, and when they differ, compares it with what each usual mistake would
have produced, so that the message names the mistake. Sequence checks also feed an
upstream gradient that is zero at every time step but one, which tells whether the
gradient travels backwards in time, forwards, or not at all.

The first part holds the helpers that the checks of notebook 03 share.
"""
import contextlib
import sys
import warnings

import numpy as np

import rnnkit
from ..testing import assert_close, assert_shape, first_bad_step, forbid_reference

# ---------------------------------------------------------------- shared helpers


def tolerances(dtype):
    """(rtol, atol) for comparing a result of the given dtype with the reference."""
    if np.dtype(dtype) == np.float32:
        return 2e-4, 2e-5
    return 1e-6, 1e-9


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


@contextlib.contextmanager
def spy(student_fn, name):
    """Record the calls to rnnkit's ``name`` made inside the block; yields the list of calls.

    Like :func:`rnnkit.testing.forbid_reference` it patches rnnkit's modules and the
    student's globals, but lets every call through.
    """
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


def check_rnn_step_backward(student, N=3, D=4, H=5, dtype=np.float64, seed=0, scale=0.5):
    """Compare student(dh_next, cache) with rnnkit on one step; cache from rnnkit.rnn_step_forward.

    The defaults make N, D and H all different, so that a transposed product shows
    in a shape.
    """
    x, h_prev, Wx, Wh, b = random_rnn(N, 1, D, H, dtype, seed, scale)
    x = x[:, 0]
    h_prev = np.tanh(h_prev)
    dh_next = np.random.default_rng(seed + 1).standard_normal((N, H)).astype(dtype)
    h_next, cache = rnnkit.rnn_step_forward(x, h_prev, Wx, Wh, b)
    expected = rnnkit.rnn_step_backward(dh_next, cache)
    got = assert_grad_shapes("rnn_step_backward", call(student, "rnn_step_backward", dh_next, cache,
                                                       forbid=("rnn_step_backward", "rnn_backward")),
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
    compare(names["dx"], expected[0], "dx", "N D", dtype=dtype, mistakes=[
        (da @ Wh.T, "it has the shape and value of dh_prev: dx = da @ Wx.T uses Wx, not Wh"),
        *usual(lambda d: d @ Wx.T)], hint="expected dx = da @ Wx.T with da = dh_next * (1 - h_next**2)")
    compare(names["dh_prev"], expected[1], "dh_prev", "N H", dtype=dtype, mistakes=[
        (da @ Wh, "Wh is not transposed: h_prev enters as h_prev @ Wh, so dh_prev = da @ Wh.T"),
        (da @ Wx.T, "it has the value of dx: dh_prev = da @ Wh.T uses Wh"),
        *usual(lambda d: d @ Wh.T)], hint="expected dh_prev = da @ Wh.T")
    compare(names["dWx"], expected[2], "dWx", ("input feature", "hidden unit"), dtype=dtype, mistakes=[
        (da.T @ x, "it is transposed: dWx has the shape of Wx, (D, H) = x.T @ da"),
        (h_prev.T @ da, "it uses h_prev; the input of Wx is x, so dWx = x.T @ da"),
        *usual(lambda d: x.T @ d)], hint="expected dWx = x.T @ da")
    compare(names["dWh"], expected[3], "dWh", ("hidden unit (from)", "hidden unit (to)"), dtype=dtype, mistakes=[
        (da.T @ h_prev, "it is transposed: the product is h_prev @ Wh, so dWh = h_prev.T @ da"),
        (h_next.T @ da, "it uses h_next; Wh multiplies the previous state, so dWh = h_prev.T @ da"),
        *usual(lambda d: h_prev.T @ d)], hint="expected dWh = h_prev.T @ da")
    compare(names["db"], expected[4], "db", ("hidden unit",), dtype=dtype, mistakes=[
        (da, "db must be summed over the batch rows: db = da.sum(axis=0)"),
        (da.mean(axis=0), "db is averaged over the batch; the bias is added to every row, "
                          "so its gradient is the sum da.sum(axis=0)"),
        *usual(lambda d: d.sum(axis=0))], hint="expected db = da.sum(axis=0)")


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


def check_rnn_backward(student, forward, N=3, T=4, D=5, H=6, dtype=np.float64, seed=0, scale=0.5):
    """Compare student(dh, cache) with rnnkit, where cache comes from the notebook's forward.

    forward(x, h0, Wx, Wh, b) -> (h, cache) is the forward pass the notebook gives.
    """
    x, h0, Wx, Wh, b = random_rnn(N, T, D, H, dtype, seed, scale)
    h, cache = forward(x, h0, Wx, Wh, b)
    ref_h, ref_cache = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    rng = np.random.default_rng(seed + 1)
    forbid = ("rnn_backward",)

    def run(dh):
        return unpack(call(student, "rnn_backward", dh, cache, forbid=forbid), "rnn_backward", SEQ_GRADS)

    # 1. shapes, with a full upstream gradient
    dh = rng.standard_normal((N, T, H)).astype(dtype)
    expected = rnnkit.rnn_backward(dh, ref_cache)
    assert_grad_shapes("rnn_backward", run(dh), dict(zip(SEQ_GRADS, (e.shape for e in expected))))

    def per_step(name, got_dx, ref_dx, entry, mistakes):
        rtol, atol = tolerances(dtype)
        t = first_bad_step(got_dx, ref_dx, rtol, atol)
        if t is None:
            return
        for wrong, explanation in mistakes:
            if _same(got_dx, wrong, rtol, atol):
                raise AssertionError(f"{name} is wrong at time step {t} when dh is zero except at "
                                     f"time step {entry}: {explanation}")
        assert_close(got_dx, ref_dx, f"{name} (dh zero except at time step {entry})", "N T D",
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

    # 4. a full upstream gradient: every output against the reference and the usual mistakes
    got = run(dh)
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
        mistakes = [(wrong[key][i], why[key]) for key in wrong]
        if name in one_step:
            mistakes += [(one_step[name][0], f"{name} holds the contribution of time step 0 only: the "
                                             "weights are shared by every step, so add up the "
                                             "contributions of all T steps"),
                         (one_step[name][1], f"{name} holds the contribution of the last time step "
                                             "only: add up the contributions of all T steps")]
        if name == "dh0":
            mistakes += [(dh[:, 0], "dh0 is the gradient carried out of step 0 (the dh_prev of the "
                                    "step-0 backward), not dh[:, 0]"),
                         (np.zeros_like(h0), "dh0 is zero; it is the dh_prev of the step-0 backward")]
        compare(got[i], expected[i], name, axes[name], mistakes, dtype=dtype,
                hint=f"the other outputs may be right; check how {name} is built")


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


def check_temporal_softmax_loss(student, N=2, T=3, V=4, dtype=np.float64, seed=0, scale=1.0,
                                use_mask=True):
    """Compare student(scores, y, mask) with rnnkit; the mask hides at least one position."""
    rng = np.random.default_rng(seed)
    scores = (scale * rng.standard_normal((N, T, V))).astype(dtype)
    y = rng.integers(0, V, size=(N, T))
    if use_mask:
        mask = rng.random((N, T)) < 0.6
        mask.flat[0] = True
        if N * T > 1:
            mask.flat[-1] = False
    else:
        mask = np.ones((N, T), dtype=bool)
    args = (scores, y, mask) if use_mask else (scores, y)
    loss, dscores = unpack(call(student, "temporal_softmax_loss", *args, forbid=("temporal_softmax_loss",)),
                           "temporal_softmax_loss", ("loss", "dscores"))
    ref_loss, ref_d = rnnkit.temporal_softmax_loss(*args)
    if np.ndim(loss) != 0:
        raise AssertionError(f"loss should be a single number, but it has shape {np.shape(loss)}: "
                             "average the per-position losses into one value")
    loss = float(loss)
    variants = _loss_variants(scores.astype(np.float64), y, mask)
    rtol, atol = tolerances(dtype)
    if not np.isfinite(loss):
        raise AssertionError(
            f"loss is {loss} for scores of size up to {np.abs(scores).max():.3g}: exp overflows or "
            "log meets 0; subtract the row maximum and compute log-probabilities as "
            "shifted - log(sum(exp(shifted)))")
    if not np.isclose(loss, ref_loss, rtol=rtol, atol=atol):
        for wrong, explanation in variants["loss"]:
            if np.isclose(loss, wrong, rtol=rtol, atol=atol):
                raise AssertionError(f"loss is {loss:.6g}, expected {ref_loss:.6g}: {explanation}")
        raise AssertionError(
            f"loss is {loss:.6g}, expected {ref_loss:.6g} (the mean of -log softmax(scores)[y] over "
            f"the {int(mask.sum())} positions where mask is True)")
    compare(dscores, ref_d, "dscores", "N T V", variants["dscores"], dtype=dtype,
            hint="dscores = (softmax(scores) - onehot(y)) * mask / mask.sum()")


def check_softmax_loss_stability(student, dtype=np.float64):
    """Large scores and a true class far below the best: no overflow, no log(0)."""
    scores = np.array([[[1000.0, 0.0, -1000.0], [-2000.0, 2000.0, 0.0]]], dtype=dtype)
    y = np.array([[2, 0]])
    loss, dscores = unpack(call(student, "temporal_softmax_loss", scores, y,
                                forbid=("temporal_softmax_loss",)),
                           "temporal_softmax_loss", ("loss", "dscores"))
    ref_loss, ref_d = rnnkit.temporal_softmax_loss(scores, y)
    if not np.isfinite(float(loss)):
        raise AssertionError(
            f"loss is {float(loss)} for scores of size 2000 (a true class 4000 below the best): "
            "exp(scores) overflows or log(p) meets p = 0; subtract each row's maximum, and take "
            "log-probabilities as shifted - log(sum(exp(shifted))) rather than log(softmax)")
    if not np.isclose(float(loss), ref_loss, rtol=1e-6):
        raise AssertionError(f"loss is {float(loss):.6g} for large scores, expected {ref_loss:.6g}")
    compare(dscores, ref_d, "dscores (large scores)", "N T V", dtype=dtype,
            hint="compute softmax from scores minus their row maximum")


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
    analytic = backward(dh, cache)
    errors = {}
    for i, name in enumerate(PARAMS):
        def f(_):
            return forward(*inputs)[0]
        numeric = rnnkit.numerical_gradient(f, inputs[i], dh)
        errors[name] = rnnkit.rel_error(analytic[i], numeric)
    return errors


def _errors_of(student, forward, backward, inputs, dh):
    errors = call(student, "gradient_check_rnn", forward, backward, *inputs, dh,
                  forbid=("check_gradients",))
    if not isinstance(errors, dict) or set(errors) != set(PARAMS):
        got = sorted(errors) if isinstance(errors, dict) else type(errors).__name__
        raise AssertionError(f"gradient_check_rnn should return a dict with keys {list(PARAMS)}, got {got}")
    for name, e in errors.items():
        if np.ndim(e) != 0 or not np.isfinite(float(e)):
            raise AssertionError(f"the error reported for {name} should be one finite number, got {e!r}")
    return {k: float(v) for k, v in errors.items()}


def check_gradient_check(student, forward, seed=0):
    """The student's gradient_check_rnn must pass a correct backward and catch wrong ones.

    It must call rnnkit.numerical_gradient, report rnnkit.rel_error's values, and find a
    gradient that is off by 5 percent in any one of the five inputs.
    """
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


def check_own_gradients(student, forward, backward, seed=3, threshold=1e-6):
    """Run the student's gradient check on the student's own rnn_backward; every error small."""
    inputs = random_rnn(2, 4, 3, 5, np.float64, seed)
    dh = np.random.default_rng(seed + 1).standard_normal((2, 4, 5))
    errors = _errors_of(student, forward, backward, inputs, dh)
    bad = {k: v for k, v in errors.items() if not v < threshold}
    if bad:
        worst = max(bad, key=bad.get)
        raise AssertionError(
            f"your gradient check of your rnn_backward reports a relative error of {bad[worst]:.3g} "
            f"for {worst} (threshold {threshold:g}); d{worst} from rnn_backward disagrees with the "
            "numerical gradient: fix rnn_backward, or, if its own tests pass, gradient_check_rnn")
    return errors
