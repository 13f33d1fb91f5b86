"""Checks for notebook 04-lstm: lstm_step_forward, lstm_forward, lstm_step_backward, lstm_backward.

Every exercise is graded in parts, one grade cell each: its values (float64 inputs of
ordinary size), its dtype (float32 inputs give float32 outputs), and its behaviour at
extreme inputs (saturated gates: no warning, finite and right) together with its inputs
left as they were. A check passes the student copies of its arrays and computes every
expected value from its own untouched arrays; a backward gets a fresh cache from the
student's forward for every call.

A check runs the student's function with rnnkit's LSTM trapped, compares each result
with rnnkit, and when one differs it looks for the cause in two ways:

- it compares the result with what each usual mistake would give (gate blocks read in
  another order, a sigmoid where a tanh belongs, the forget gate not applied, ...) and
  names the mistake that matches;
- it repeats the call with every input but one set to zero (forward), or with every
  upstream gradient but one set to zero (backward), and says which term is at fault.

A backward is graded on its own: when the student's forward differs from rnnkit's, the
backward is checked against numerical (directional) derivatives of the student's own
forward, so that the exact derivative of a wrong forward earns its points, and the
message says first that the forward is wrong.

The helpers of the first part are shared with :mod:`rnnkit.checks.gru`,
:mod:`rnnkit.checks.variants` and :mod:`rnnkit.checks.applications`.
"""
import itertools
import warnings

import numpy as np

import rnnkit
from ..testing import assert_close, assert_shape, forbid_reference

# ---------------------------------------------------------------- shared helpers

STABLE_HINT = ("use the stable sigmoid (rnnkit.sigmoid, or your own from notebook 01) and np.tanh, "
               "which stay finite and silent for any finite input")


def tolerances(dtype):
    """(rtol, atol) for comparing a result of the given dtype with the reference."""
    if np.dtype(dtype) == np.float32:
        return 2e-4, 2e-5
    return 1e-6, 1e-9


def copied(obj):
    """A copy of obj in which every array, list, tuple and dict is new (a deep copy of the data)."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: copied(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(copied(v) for v in obj)
    return obj


def changed(before, after, path):
    """A description of the first place where ``after`` differs from ``before``, or None."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape or after.dtype != before.dtype:
            return f"{path} was replaced or reshaped"
        if after.dtype.kind == "f":
            diff = ~((after == before) | (np.isnan(after) & np.isnan(before)))
        else:
            diff = after != before
        if diff.any():
            index = tuple(int(i) for i in np.argwhere(diff)[0])
            return (f"{path}{list(index)} was {float(before[index]):.6g} and is now "
                    f"{float(after[index]):.6g}")
        return None
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            return f"the keys of {path} changed"
        for k in before:
            found = changed(before[k], after[k], f"{path}[{k!r}]")
            if found:
                return found
        return None
    if isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(after) != len(before):
            return f"{path} changed length (items were removed or added)"
        for k, (b, a) in enumerate(zip(before, after)):
            found = changed(b, a, f"{path}[{k}]")
            if found:
                return found
    return None


def warning_message(name, caught, hint):
    w = caught[0]
    return (f"{name} issued a warning: {hint} ({w.category.__name__}: {w.message}; a correct answer "
            "computes without warnings)")


def call(fn, name, *args, forbid=(), caught=None, hint=STABLE_HINT, **kwargs):
    """fn(*args, **kwargs) with rnnkit's ``forbid`` functions trapped.

    An exception raised by the student's code becomes an AssertionError naming the function;
    NotImplementedError (an exercise not yet done) and AssertionError pass unchanged.
    Warnings are collected into the list ``caught`` when one is given, so that the check
    can name the mistake first; without it a warning fails at once with ``hint``.
    """
    with forbid_reference(fn, *forbid), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except (AssertionError, NotImplementedError):
            raise
        except Exception as exc:
            raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}") from exc
    seen = [w for w in seen if issubclass(w.category, (RuntimeWarning, UserWarning, FutureWarning,
                                                           DeprecationWarning))] or list(seen)
    if seen:
        if caught is None:
            raise AssertionError(warning_message(name, seen, hint))
        caught.extend(seen)
    return result


def report_warnings(name, caught, hint=STABLE_HINT):
    """Fail with ``hint`` when the student's calls issued warnings (after the value checks)."""
    if caught:
        raise AssertionError(warning_message(name, caught, hint))


class values_charge:
    """Around the student's call in a graded part: in the dtype and extreme parts, a failure (a
    crash, a wrong return) of a function whose ordinary values are wrong (base() is False) is
    the values' part's to charge, so it is swallowed, and the caller finds its result None."""

    def __init__(self, part, base):
        self.part, self.base = part, base

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, traceback):
        return kind is AssertionError and self.part != "values" and not self.base()


def once(fn):
    """fn() computed on the first call only."""
    memo = []

    def get():
        if not memo:
            memo.append(fn())
        return memo[0]
    return get


def passes(check, *args, **kwargs):
    """True when check(*args, **kwargs) raises no AssertionError (used to grade one part at a time)."""
    try:
        check(*args, **kwargs)
    except AssertionError:
        return False
    return True


def unpack(result, name, names):
    """Check that result is a tuple with one entry per name, and return it."""
    if not isinstance(result, tuple) or len(result) != len(names):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise AssertionError(f"{name} should return a tuple ({', '.join(names)}), but it returned {got}")
    return result


def same(got, other, dtype):
    rtol, atol = tolerances(dtype)
    other = np.asarray(other)
    return (isinstance(got, np.ndarray) and got.shape == other.shape
            and bool(np.allclose(got, other, rtol=rtol, atol=atol)))


def labelled(name, dtype):
    """The name of a result as a message shows it: float32 failures say float32."""
    return f"{name} (float32 inputs)" if np.dtype(dtype) == np.float32 else name


def compare(got, expected, name, axes=None, mistakes=(), hint=None, dtype=np.float64, check_dtype=False):
    """Fail unless got equals expected; name the mistake when got equals one of ``mistakes``.

    mistakes: (array, explanation) pairs, the result each usual mistake would produce.
    The dtype of got is checked only with check_dtype (the dtype is a part of its own).
    """
    expected = np.asarray(expected)
    label = labelled(name, dtype)
    if not same(got, expected, dtype):
        for wrong, explanation in mistakes:
            if same(got, wrong, dtype):
                raise AssertionError(f"{label} is wrong: {explanation}")
        rtol, atol = tolerances(dtype)
        assert_shape(got, expected.shape, label)
        assert_close(got, expected, label, axes=axes, hint=hint, rtol=rtol, atol=atol)
    if check_dtype:
        require_dtype(got, name, dtype)


def require_dtype(got, name, dtype, fn_name=None):
    """got must be an array of ``dtype``; the message says where float64 usually comes from."""
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"{name} should be a NumPy array, but it is {type(got).__name__}")
    if got.dtype != np.dtype(dtype):
        where = f"{fn_name} returned " if fn_name else ""
        raise AssertionError(
            f"with {np.dtype(dtype)} inputs {where}{name} of dtype {got.dtype}: keep the dtype of the "
            "inputs (float32 in, float32 out). Arrays made with np.zeros(shape), np.empty(shape) or "
            "np.ones(shape) are float64 unless you pass dtype=x.dtype (or use np.zeros_like), and "
            "a float64 array mixed into the sums makes every result float64")


def require_finite(got, name, context, hint=STABLE_HINT):
    if isinstance(got, np.ndarray) and got.dtype.kind == "f" and not np.isfinite(got).all():
        raise AssertionError(f"{name} contains inf or NaN {context}: {hint}")


def check_untouched(fn, name, args, names, forbid=(), kwargs=None, skip=()):
    """Call fn on copies of args and fail when it changed one of them in place (except ``skip``)."""
    kwargs = kwargs or {}
    mine = copied(args)
    my_kwargs = copied(kwargs)
    call(fn, name, *mine, forbid=forbid, caught=[], **my_kwargs)
    for arg_name, before, after in itertools.chain(zip(names, args, mine),
                                                   ((k, kwargs[k], my_kwargs[k]) for k in kwargs)):
        if arg_name in skip:
            continue
        found = changed(before, after, arg_name)
        if found:
            raise AssertionError(
                f"{name} changed its argument {arg_name} in place ({found}): the caller still needs "
                f"{arg_name} as it was. Compute into a new array (y = y + z, or y = y.copy() first) "
                "instead of y += z, y[...] = ... or y *= ... on an argument")


def draw(rng, shape, scale, dtype):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def bad_block(got, expected, gate_names, dtype):
    """Name of the first gate block (along the last axis) where got differs, or None."""
    G = len(gate_names)
    H = expected.shape[-1] // G
    for k, gate in enumerate(gate_names):
        sl = (Ellipsis, slice(k * H, (k + 1) * H))
        if not same(np.ascontiguousarray(got[sl]), expected[sl], dtype):
            return f"the {gate} block (columns {k * H}:{(k + 1) * H})"
    return None


def compare_blocks(got, expected, name, gate_names, hint, dtype):
    """Like compare, but when a gate-stacked gradient differs, say in which gate block."""
    if isinstance(got, np.ndarray) and got.shape == expected.shape and not same(got, expected, dtype):
        where = bad_block(got, expected, gate_names, dtype)
        if where:
            hint = f"the error is in {where}; {hint}"
    compare(got, expected, name, dtype=dtype, hint=hint)


def directional_check(loss, args, grads, names, blocks, seed, context):
    """Compare each gradient with the numerical derivative of loss(*args) along random directions.

    loss: a function of the argument arrays returning a float (it calls the student's forward).
    grads: the student's gradients, one per name (grads[k] belongs to args[k]); blocks: {name: list of (label, slice of the
    last axis)} for the gate-stacked ones. Two calls of loss per direction; raises AssertionError
    naming the gradient and the gate block whose derivative disagrees.
    """
    rng = np.random.default_rng(seed)
    eps = 1e-6
    for k, name in enumerate(names):
        grad = grads[k]
        parts = blocks.get(name, [("", slice(None))])
        for label, cols in parts:
            v = np.zeros_like(args[k])
            v[..., cols] = rng.standard_normal(v[..., cols].shape)
            plus, minus = list(args), list(args)
            plus[k] = args[k] + eps * v
            minus[k] = args[k] - eps * v
            measured = (loss(*plus) - loss(*minus)) / (2 * eps)
            claimed = float(np.sum(grad * v))
            if not abs(measured - claimed) <= 1e-5 * (1.0 + abs(measured)):
                where = f" in {label}" if label else ""
                raise AssertionError(
                    f"{context}: {name} is not the derivative of your forward{where}: along a random direction it gives {claimed:.6g}, the numerical "
                    f"derivative is {measured:.6g}")


# ---------------------------------------------------------------- LSTM inputs and mistakes

LSTM = ("lstm_step_forward", "lstm_forward", "lstm_step_backward", "lstm_backward")
GATES = ("input gate i", "forget gate f", "candidate g", "output gate o")
PARTS = ("values", "dtype", "extreme")
SATURATED = "with saturated gates (pre-activations of about 1000 in size)"


def part_defaults(part, dtype, scale):
    """(dtype, scale) of a graded part: float32 for "dtype", large pre-activations for "extreme"."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    if dtype is None:
        dtype = np.float32 if part == "dtype" else np.float64
    if scale is None:
        scale = 400.0 if part == "extreme" else 1.0
    return np.dtype(dtype), scale


def gate_blocks(G, H, names):
    return [(f"the {name} block (columns {k * H}:{(k + 1) * H})", slice(k * H, (k + 1) * H))
            for k, name in enumerate(names[:G])]


def random_lstm(N, T, D, H, dtype=np.float64, seed=0, scale=1.0):
    """x (N, T, D), h0 (N, H), c0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).

    scale sets the size of the pre-activations; a large scale saturates the gates.
    """
    rng = np.random.default_rng(seed)
    return (draw(rng, (N, T, D), 1.0, dtype), draw(rng, (N, H), 0.5, dtype), draw(rng, (N, H), 1.0, dtype),
            draw(rng, (D, 4 * H), scale / np.sqrt(D), dtype), draw(rng, (H, 4 * H), scale / np.sqrt(H), dtype),
            extreme_bias(draw(rng, (4 * H,), 0.5 * scale, dtype), scale))


def extreme_bias(b, scale):
    """b, with a large scale (above 10) pushed to +-2.5 scale in alternate columns, so that every
    gate meets pre-activations of both signs far beyond where exp overflows (709)."""
    if scale <= 10:
        return b
    push = np.where(np.arange(b.shape[-1]) % 2 == 0, 2.5 * scale, -2.5 * scale).astype(b.dtype)
    return b + push


def _step(x, h_prev, c_prev, Wx, Wh, b, order="ifgo", sig="ifo", use_f=True, use_i=True,
          use_c_prev=True, tanh_c=True, use_o=True, h_from_c_prev=False):
    """An LSTM step with switches for the usual mistakes; the defaults give the right step."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    gate = {name: a[:, k * H : (k + 1) * H] for k, name in enumerate(order)}
    act = {name: rnnkit.sigmoid(v) if name in sig else np.tanh(v) for name, v in gate.items()}
    i, f, g, o = act["i"], act["f"], act["g"], act["o"]
    c = (f if use_f else 1.0) * c_prev * use_c_prev + (i if use_i else 1.0) * g
    c_out = c_prev if h_from_c_prev else c
    h = (o if use_o else 1.0) * (np.tanh(c_out) if tanh_c else c_out)
    return h, c


def step_mistakes(x, h_prev, c_prev, Wx, Wh, b):
    """(h, c, explanation) for each usual mistake of lstm_step_forward."""
    out = []
    for perm in itertools.permutations("ifgo"):
        order = "".join(perm)
        if order != "ifgo":
            out.append((order, f"the gate blocks are read in the order {', '.join(order)}; the "
                               "contract stacks them i, f, g, o along the last axis"))
    out = [(_step(x, h_prev, c_prev, Wx, Wh, b, order=o), e) for o, e in out]
    switches = [
        (dict(sig="ifgo"), "the candidate g uses a sigmoid; it is tanh(a_g), so it can be negative"),
        (dict(sig=""), "the gates i, f and o use tanh; they are sigmoids, values between 0 and 1"),
        (dict(sig="ifg"), "the output gate o uses tanh; it is a sigmoid, like i and f"),
        (dict(use_f=False), "the forget gate is not applied: c_next = f * c_prev + i * g"),
        (dict(use_i=False), "the input gate is not applied: c_next = f * c_prev + i * g"),
        (dict(use_c_prev=False), "c_prev is missing from the cell update: c_next = f * c_prev + i * g"),
        (dict(tanh_c=False), "h_next = o * tanh(c_next): the tanh of the cell state is missing"),
        (dict(use_o=False), "the output gate is not applied: h_next = o * tanh(c_next)"),
        (dict(h_from_c_prev=True), "h_next uses the old cell state; it is o * tanh(c_next), "
                                   "with the cell state of this step"),
    ]
    out += [(_step(x, h_prev, c_prev, Wx, Wh, b, **kw), e) for kw, e in switches]
    zero = np.zeros_like
    out += [
        (_step(x, h_prev, c_prev, Wx, Wh, zero(b)), "the bias b is missing from the pre-activations"),
        (_step(x, zero(h_prev), c_prev, Wx, Wh, b), "the recurrent term h_prev @ Wh is missing"),
        (_step(zero(x), h_prev, c_prev, Wx, Wh, b), "the input term x @ Wx is missing"),
    ]
    return [(h, c, e) for (h, c), e in out]


def _locate_forward(student, args, names, ref_fn, outputs, dtype, forbid=LSTM, **kwargs):
    """Which input, when zeroed, makes the student agree with the reference: a sentence or ''."""
    for k, name in enumerate(names):
        if not np.any(args[k]):
            continue
        probe = list(copied(args))
        probe[k] = np.zeros_like(args[k])
        try:
            got = call(student, "", *probe, forbid=forbid, caught=[], **kwargs)
        except AssertionError:
            continue
        probe[k] = np.zeros_like(args[k])
        ref = ref_fn(*copied(probe), **kwargs)
        if isinstance(got, tuple) and all(same(got[j], ref[j], dtype) for j in outputs):
            return (f"Setting {name} to zero makes your result agree with the reference, "
                    f"so the term that involves {name} is the faulty one.")
    return ""


def _extreme(part):
    return part == "extreme"


def _start_part(part, outputs, dtype, fn_name, caught, base_ok, extreme=None):
    """The common first half of a graded part. Returns False when the values need no comparison.

    outputs: (name, array) pairs. "dtype": every output must have the inputs' dtype, and the
    float32 values are compared only when the float64 values of the same case (base_ok(), the
    "values" part) are right, so that a float32-only failure says float32. "extreme": when the
    ordinary values of the same case are right, every output must be finite and no warning
    issued; the values themselves are not compared.
    """
    if part == "dtype":
        for name, got in outputs:
            require_dtype(got, name, dtype, fn_name)
        return base_ok()
    if part == "extreme":
        # Stability alone: a function whose ordinary values are wrong is charged by the values'
        # part, and values at extreme inputs are not compared, since a mistake of value that the
        # ordinary inputs hide (a clipping threshold, a saturated swap) would cost this part too.
        if not base_ok():
            return False
        context, hint = extreme or (SATURATED, STABLE_HINT)
        for name, got in outputs:
            require_finite(got, name, context, hint)
        report_warnings(fn_name, caught, f"{context}: {hint}")
        return False
    return True


def _finish(part, fn_name, caught, extreme=None, hint=STABLE_HINT):
    """After the values: fail on the warnings the student's calls issued, with the part's hint."""
    if part == "extreme":
        context, extreme_hint = extreme or (SATURATED, STABLE_HINT)
        hint = f"{context}: {extreme_hint}"
    report_warnings(fn_name, caught, hint)


# ---------------------------------------------------------------- lstm_step_forward

STEP_INPUTS = ("x", "h_prev", "c_prev", "Wx", "Wh", "b")


def check_lstm_step_forward(student, N=3, D=4, H=5, dtype=None, seed=0, scale=None, part="values"):
    """Compare student(x, h_prev, c_prev, Wx, Wh, b) with rnnkit on one step.

    part: "values" (float64), "dtype" (float32 in, float32 out) or "extreme" (saturated gates:
    finite, no warning, and right when the ordinary values are).
    """
    dtype, scale = part_defaults(part, dtype, scale)
    x, h_prev, c_prev, Wx, Wh, b = random_lstm(N, 1, D, H, dtype, seed, scale)
    x = x[:, 0]
    args = (x, h_prev, c_prev, Wx, Wh, b)
    caught = []
    base = once(lambda: passes(check_lstm_step_forward, student, N, D, H, np.float64, seed, 1.0))
    got = None
    with values_charge(part, base):
        got = unpack(call(student, "lstm_step_forward", *copied(args), forbid=LSTM, caught=caught),
                     "lstm_step_forward", ("h_next", "c_next", "cache"))
        if part == "values":
            assert_shape(got[0], (N, H), "h_next")
            assert_shape(got[1], (N, H), "c_next")
    if got is None:
        return
    if not _start_part(part, (("h_next", got[0]), ("c_next", got[1])), dtype, "lstm_step_forward", caught, base):
        return
    h_ref, c_ref, _ = rnnkit.lstm_step_forward(*args)
    mistakes = step_mistakes(*args)
    where = ""
    if not (same(got[1], c_ref, dtype) and same(got[0], h_ref, dtype)):
        where = _locate_forward(student, args, STEP_INPUTS, rnnkit.lstm_step_forward, (0, 1), dtype)
    compare(got[1], c_ref, "c_next", "N H", dtype=dtype, mistakes=[(c, e) for _, c, e in mistakes],
            hint=where or "expected c_next = f * c_prev + i * g")
    compare(got[0], h_ref, "h_next", "N H", dtype=dtype, mistakes=[(h, e) for h, _, e in mistakes],
            hint=where or "expected h_next = o * tanh(c_next)")
    _finish(part, "lstm_step_forward", caught)


def check_lstm_step_forward_inputs(student, N=2, D=3, H=4, seed=5):
    """lstm_step_forward must leave its arguments as they were."""
    x, h_prev, c_prev, Wx, Wh, b = random_lstm(N, 1, D, H, np.float64, seed)
    check_untouched(student, "lstm_step_forward", (x[:, 0], h_prev, c_prev, Wx, Wh, b), STEP_INPUTS, LSTM)


# ---------------------------------------------------------------- lstm_forward

SEQ_INPUTS = ("x", "h0", "Wx", "Wh", "b")


def _own_chain(student_step, x, h0, c0, Wx, Wh, b):
    """h (N, T, H) from a loop over the student's own step, or None when the step fails."""
    h, c, out = h0, (np.zeros_like(h0) if c0 is None else c0), []
    try:
        for t in range(x.shape[1]):
            h, c, _ = call(student_step, "lstm_step_forward", *copied((x[:, t], h, c, Wx, Wh, b)),
                           forbid=LSTM, caught=[])
            out.append(np.asarray(h))
        return np.stack(out, axis=1)
    except (AssertionError, ValueError, TypeError):
        return None


def check_lstm_forward(student, N=3, T=4, D=4, H=5, dtype=None, seed=0, scale=None, with_c0=True,
                       part="values", student_step=None):
    """Compare student(x, h0, Wx, Wh, b, c0) with rnnkit over a sequence (c0=None if not with_c0).

    With student_step (the student's lstm_step_forward) given and differing from rnnkit's,
    a loop over the student's own step is accepted too: a mistake in the step costs the
    step's points, not these.
    """
    dtype, scale = part_defaults(part, dtype, scale)
    x, h0, c0, Wx, Wh, b = random_lstm(N, T, D, H, dtype, seed, scale)
    c0 = c0 if with_c0 else None
    caught = []
    base = once(lambda: passes(check_lstm_forward, student, N, T, D, H, np.float64, seed, 1.0, with_c0,
                               student_step=student_step))
    got = None
    with values_charge(part, base):
        got = call(student, "lstm_forward", *copied((x, h0, Wx, Wh, b)), c0=copied(c0), forbid=LSTM, caught=caught)
        got = unpack(got, "lstm_forward", ("h", "cache"))[0]
    if got is None:
        return
    if part != "values" and excused(check_lstm_step_forward, student_step,
                                    "(your lstm_step_forward fails its own test of this part, and lstm_forward calls "
                                    "it: the step's test charges it, so this part of lstm_forward is not graded here)",
                                    student_step, part=part):
        return
    if not _start_part(part, (("h", got),), dtype, "lstm_forward", caught, base):
        return
    h_ref = rnnkit.lstm_forward(x, h0, Wx, Wh, b, c0=c0)[0]
    if student_step is not None and not same(got, h_ref, dtype):
        own = _own_chain(student_step, x, h0, c0, Wx, Wh, b)
        step_ref = rnnkit.lstm_step_forward(x[:, 0], h0, np.zeros_like(h0) if c0 is None else c0, Wx, Wh, b)[0]
        if own is not None and not same(own[:, 0], step_ref, dtype):
            if same(got, own, dtype):
                _finish(part, "lstm_forward", caught)
                return
            compare(got, own, "h", "N T H", dtype=dtype, hint=(
                "your lstm_step_forward differs from the reference (its own test says how), so lstm_forward "
                "is compared with a loop over your lstm_step_forward, carrying h and c from step to step "
                "(and starting from c0, or zeros when c0 is None)"))
    c_init = np.zeros_like(h0) if c0 is None else c0
    # Usual mistakes, built step by step from the right step function.
    stale, c_reset, h_reset = [], [], []
    h_cr, c_hr = h0, c_init
    for t in range(T):
        stale.append(_step(x[:, t], h0, c_init, Wx, Wh, b)[0])
        h_cr, _ = _step(x[:, t], h_cr, c_init, Wx, Wh, b)
        c_reset.append(h_cr)
        h_hr, c_hr = _step(x[:, t], h0, c_hr, Wx, Wh, b)
        h_reset.append(h_hr)
    no_c0 = rnnkit.lstm_forward(x, h0, Wx, Wh, b)[0]
    with_h0 = np.concatenate([h0[:, None], h_ref], axis=1)
    mistakes = [
        (np.stack(stale, axis=1), "every step starts again from h0 and c0: carry h and c from "
                                  "one step to the next"),
        (np.stack(c_reset, axis=1), "the cell state is not carried: each step must start from "
                                    "the previous step's c, not from c0"),
        (np.stack(h_reset, axis=1), "the hidden state is not carried: each step must start from "
                                    "the previous step's h, not from h0"),
        (with_h0, "h includes h0; it holds the T new states h_1 .. h_T, shape (N, T, H)"),
        (h_ref.transpose(1, 0, 2), "h is time-major (T, N, H); the course is batch first, (N, T, H)"),
    ]
    if c0 is not None:
        mistakes.append((no_c0, "c0 is ignored: when it is given, the first step starts from c0"))
    bad_t = None
    if isinstance(got, np.ndarray) and got.shape == h_ref.shape:
        bad_t = next((t for t in range(T) if not same(got[:, t], h_ref[:, t], dtype)), None)
    hint = None
    if bad_t == 0:
        hint = "the first step is already wrong: check the step formulas (does lstm_step_forward pass?)"
    elif bad_t is not None:
        hint = (f"steps 0..{bad_t - 1} are right and step {bad_t} is not: what is carried from "
                f"one step to the next (h and c) is wrong")
    compare(got, h_ref, "h", "N T H", dtype=dtype, mistakes=mistakes, hint=hint)
    _finish(part, "lstm_forward", caught)


def check_lstm_forward_inputs(student, N=2, T=3, D=3, H=4, seed=6, student_step=None):
    """lstm_forward must leave its arguments (c0 included) as they were (not charged when the
    student's lstm_step_forward, given, changes its own arguments: its test charges that)."""
    if excused(check_lstm_step_forward_inputs, student_step,
               "(your lstm_step_forward changes its arguments in place, and lstm_forward calls it: the step's "
               "test charges it, so lstm_forward's arguments are not graded here)", student_step):
        return
    x, h0, c0, Wx, Wh, b = random_lstm(N, T, D, H, np.float64, seed)
    check_untouched(student, "lstm_forward", (x, h0, Wx, Wh, b), SEQ_INPUTS, LSTM, kwargs={"c0": c0})


# ---------------------------------------------------------------- lstm_step_backward

STEP_GRADS = ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")


def own_forward(student_forward, name, args, forbid, **kwargs):
    """Run the student's forward on copies of args, to get a cache; fail naming the forward first."""
    try:
        out = call(student_forward, name, *copied(args), forbid=forbid, caught=[], **kwargs)
    except AssertionError as exc:
        raise AssertionError(f"the backward is tested on the cache of your {name}, which fails: {exc}. "
                             f"Fix {name} first") from exc
    if not isinstance(out, tuple) or len(out) < 2:
        raise AssertionError(f"{name} must return its cache as the last item; check {name} first")
    return out


def _float64_inside(obj):
    """True when obj (a result or a cache: arrays in tuples, lists and dicts) holds a float64 array."""
    if isinstance(obj, np.ndarray):
        return obj.dtype == np.float64
    if isinstance(obj, dict):
        return any(_float64_inside(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_float64_inside(v) for v in obj)
    return False


def forward_leaks_float64(out, dtype, forward_name, backward_name):
    """True (and a note printed) when the student's forward, given float32 inputs, returned float64
    arrays or put them in its cache: the backward's dtype is then not graded, since the forward's
    own dtype test charges the mistake and the backward cannot undo it."""
    if np.dtype(dtype) != np.float32 or not _float64_inside(out):
        return False
    print(f"(your {forward_name} returns or caches float64 arrays for float32 inputs, so the dtype of "
          f"{backward_name} is not graded here; {forward_name}'s own dtype test charges it)")
    return True


def _forward_note(forward_name, backward_name):
    return (f"your {forward_name} differs from the reference (its own test says how), so {backward_name} "
            f"is checked against numerical derivatives of your own {forward_name}")


def check_lstm_step_backward(student, student_forward, N=3, D=4, H=5, dtype=None, seed=0, scale=None,
                             part="values"):
    """Check student(dh_next, dc_next, cache), the cache from student_forward on the same inputs.

    Three probes: dc_next alone (dh_next zero), dh_next alone, and both. When the student's
    forward agrees with rnnkit the gradients are compared with rnnkit's and the message names
    the term and the gate; when it does not, with numerical derivatives of the student's forward.
    Every call gets a fresh cache.
    """
    dtype, scale = part_defaults(part, dtype, scale)
    x, h_prev, c_prev, Wx, Wh, b = random_lstm(N, 1, D, H, dtype, seed, scale)
    x = x[:, 0]
    args = (x, h_prev, c_prev, Wx, Wh, b)
    out = own_forward(student_forward, "lstm_step_forward", args, LSTM)
    h_ref, c_ref, ref_cache = rnnkit.lstm_step_forward(*args)
    forward_right = same(out[0], h_ref, dtype) and same(out[1], c_ref, dtype)
    if part != "values" and forward_right:
        # saturated gates can hide a wrong forward (a swap of two saturated blocks): judge it at scale 1
        plain = random_lstm(N, 1, D, H, np.float64, seed, 1.0)
        plain = (plain[0][:, 0],) + plain[1:]
        mine = own_forward(student_forward, "lstm_step_forward", plain, LSTM)
        h1, c1, _ = rnnkit.lstm_step_forward(*plain)
        forward_right = same(mine[0], h1, np.float64) and same(mine[1], c1, np.float64)
    rng = np.random.default_rng(seed + 1)
    dh = draw(rng, (N, H), 1.0, dtype)
    dc = draw(rng, (N, H), 1.0, dtype)
    zero = np.zeros_like(dh)
    probes = [
        (zero, dc, "with dh_next zero and dc_next random (the path through the cell state alone)"),
        (dh, zero, "with dc_next zero and dh_next random (the path through h_next = o * tanh(c_next))"),
        (dh, dc, "with dh_next and dc_next both random"),
    ]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o = (rnnkit.sigmoid(a[:, k * H : (k + 1) * H]) for k in (0, 1, 3))
    g = np.tanh(a[:, 2 * H : 3 * H])
    tanh_c = np.tanh(f * c_prev + i * g)
    shapes = [(N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)]
    caught = []
    base = once(lambda: passes(check_lstm_step_backward, student, student_forward, N, D, H, np.float64, seed, 1.0))
    if not forward_right and part == "values":
        probes = probes[-1:]  # against numerical derivatives, the most general probe is enough
    for dh_next, dc_next, probe in probes:
        cache = own_forward(student_forward, "lstm_step_forward", args, LSTM)[-1]
        got = None
        with values_charge(part, base):
            got = unpack(call(student, "lstm_step_backward", copied(dh_next), copied(dc_next), cache, forbid=LSTM,
                              caught=caught), "lstm_step_backward", STEP_GRADS)
            if part == "values":
                for k, name in enumerate(STEP_GRADS):
                    assert_shape(got[k], shapes[k], name)
        if got is None:
            return
        if part == "dtype" and forward_leaks_float64(out, dtype, "lstm_step_forward", "lstm_step_backward"):
            return
        if not _start_part(part, tuple(zip(STEP_GRADS, got)), dtype, "lstm_step_backward", caught, base):
            return
        if not forward_right:
            if part != "values":
                continue
            dh64, dc64 = dh_next, dc_next

            def loss(*probe_args):
                h_, c_, _ = call(student_forward, "lstm_step_forward", *copied(probe_args), forbid=LSTM,
                                 caught=[])
                return float(np.sum(h_ * dh64) + np.sum(c_ * dc64))

            blocks = {name: gate_blocks(4, H, GATES) for name in ("dWx", "dWh", "db")}
            directional_check(loss, [np.array(v) for v in args], got, STEP_GRADS, blocks, seed + 2,
                              f"{_forward_note('lstm_step_forward', 'lstm_step_backward')} ({probe})")
            continue
        ref = rnnkit.lstm_step_backward(dh_next, dc_next, ref_cache)
        dc_total = dc_next + dh_next * o * (1 - tanh_c ** 2)
        da = np.concatenate([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f),
                             dc_total * i * (1 - g ** 2), dh_next * tanh_c * o * (1 - o)], axis=1)
        hints = {
            "dx": "dx = da @ Wx.T, with da the gradient of the four stacked pre-activations",
            "dh_prev": "dh_prev = da @ Wh.T",
            "dc_prev": "dc_prev = f * dc, where dc = dc_next + dh_next * o * (1 - tanh(c_next)**2)",
            "dWx": "dWx = x.T @ da", "dWh": "dWh = h_prev.T @ da", "db": "db = da.sum(axis=0)",
        }
        compare(got[2], ref[2], "dc_prev", "N H", dtype=dtype, mistakes=[
            (dc_next * f, f"{probe}: dc_prev only carries dc_next; the gradient that reaches c_next "
                          "through h_next (dh_next * o * (1 - tanh(c_next)**2)) must be added first"),
            (dc_total, f"{probe}: dc_prev is missing the factor f, since c_next = f * c_prev + ..."),
            ((dc_total - dc_next) * f, f"{probe}: dc_next is not added into dc; the cell state receives "
                                       "dc_next from the next step plus dh_next * o * (1 - tanh(c_next)**2)"),
        ], hint=f"{probe}: {hints['dc_prev']}")
        # db names the gate whose gradient is wrong before dx and dh_prev mix the blocks together
        if not same(got[5], ref[5], dtype) and np.ndim(got[5]) == 1:
            df_next = dc_total * (f * c_prev + i * g) * f * (1 - f)
            if same(got[5][H : 2 * H], df_next.sum(axis=0), dtype):
                raise AssertionError(
                    f"db is wrong in the forget gate f block ({probe}): df uses c_next, the cell state this "
                    "step produced; c_next = f * c_prev + i * g, so df = dc * c_prev, with c_prev the cell "
                    "state this step started from (the c_prev of its cache)")
            compare_blocks(got[5], ref[5], "db", GATES, f"{probe}: "
                           "da = [di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)] with di = dc * g, "
                           "df = dc * c_prev, dg = dc * i, do = dh_next * tanh(c_next)", dtype)
        for k in (0, 1):
            name = STEP_GRADS[k]
            W = Wx if k == 0 else Wh
            compare(got[k], ref[k], name, "N D" if k == 0 else "N H", dtype=dtype,
                    mistakes=[(da @ W, f"{probe}: {name} uses {'Wx' if k == 0 else 'Wh'} without the "
                                       f"transpose; {hints[name]}")] if W.shape[0] == W.shape[1] else (),
                    hint=f"{probe}: {hints[name]}")
        for k in (3, 4, 5):
            name = STEP_GRADS[k]
            if k == 5 and not same(got[k], ref[k], dtype) and same(got[k], da, dtype):
                raise AssertionError(f"db is wrong: {probe}: db must be summed over the batch rows, "
                                     "db = da.sum(axis=0)")
            compare_blocks(got[k], ref[k], name, GATES, f"{probe}: {hints[name]}", dtype)
    _finish(part, "lstm_step_backward", caught)


def check_lstm_step_backward_inputs(student, student_forward, N=2, D=3, H=4, seed=7):
    """lstm_step_backward must leave dh_next and dc_next as they were (it may take its cache apart)."""
    x, h_prev, c_prev, Wx, Wh, b = random_lstm(N, 1, D, H, np.float64, seed)
    cache = own_forward(student_forward, "lstm_step_forward", (x[:, 0], h_prev, c_prev, Wx, Wh, b), LSTM)[-1]
    rng = np.random.default_rng(seed)
    dh, dc = draw(rng, (N, H), 1.0, np.float64), draw(rng, (N, H), 1.0, np.float64)
    check_untouched(student, "lstm_step_backward", (dh, dc, cache), ("dh_next", "dc_next", "cache"), LSTM,
                    skip=("cache",))


# ---------------------------------------------------------------- lstm_backward

SEQ_GRADS = ("dx", "dh0", "dWx", "dWh", "db")


def backward_variant(dh, x, h0, Wx, Wh, b, carry_h=True, carry_c=True, use_dh="all"):
    """rnnkit's gradients through time with a carry switched off, from the public step functions.

    use_dh: "all" (right), "none" (dh[:, t] never added), "last" (only dh[:, T-1] enters).
    Returns (dx, dh0, dWx, dWh, db, per_step) where per_step[t] = (dWx_t, dWh_t, db_t),
    the contribution of step t alone, for the mistake of assigning instead of adding.
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h, c = h0, np.zeros_like(h0)
    caches = []
    for t in range(T):
        h, c, cache = rnnkit.lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        caches.append(cache)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_carry = np.zeros((N, H), dtype=x.dtype)
    dc_carry = np.zeros((N, H), dtype=x.dtype)
    per_step = [None] * T
    for t in range(T - 1, -1, -1):
        upstream = dh[:, t] if use_dh == "all" or (use_dh == "last" and t == T - 1) else 0.0 * dh[:, t]
        dx[:, t], dh_prev, dc_prev, gWx, gWh, gb = rnnkit.lstm_step_backward(
            upstream + (dh_carry if carry_h else 0.0), dc_carry if carry_c else np.zeros_like(dc_carry),
            caches[t])
        dh_carry, dc_carry = dh_prev, dc_prev
        dWx += gWx
        dWh += gWh
        db += gb
        per_step[t] = (gWx, gWh, gb)
    return dx, dh_carry, dWx, dWh, db, per_step


def own_backward_loop(step_backward, cache, dh, name, forbid, carries_c):
    """The gradients of a loop over the student's own step backward, carrying dh (and dc) from
    step t+1 to step t and summing the weight gradients, when the sequence cache is a list of T
    step caches that the step backward takes; else None."""
    N, T, H = dh.shape
    if not isinstance(cache, (list, tuple)) or len(cache) != T:
        return None
    try:
        dh_c = np.zeros_like(dh[:, 0])
        dc_c = np.zeros_like(dh[:, 0])
        dx, sums = [None] * T, None
        for t in range(T - 1, -1, -1):
            args = (dh[:, t] + dh_c, dc_c) if carries_c else (dh[:, t] + dh_c,)
            out = call(step_backward, name, *copied(args), copied(cache[t]), forbid=forbid, caught=[])
            if carries_c:
                dx[t], dh_c, dc_c, rest = out[0], out[1], out[2], out[3:]
            else:
                dx[t], dh_c, rest = out[0], out[1], out[2:]
            sums = list(rest) if sums is None else [a + g for a, g in zip(sums, rest)]
        return (np.stack([np.asarray(v) for v in dx], axis=1), np.asarray(dh_c), *sums)
    except Exception:  # noqa: BLE001 (a cache this loop cannot use: no alternative to offer)
        return None


def excused(check, step_fn, note, *args, **kwargs):
    """True (and ``note`` printed) when the student's step function, given, fails its own
    ``check`` (a part of a step exercise): the sequence function that calls it is then not
    charged for that part, since the step's own test charges it."""
    if step_fn is None or passes(check, *args, **kwargs):
        return False
    print(note)
    return True


def check_lstm_backward(student, student_forward, N=3, T=5, D=4, H=6, dtype=None, seed=0, scale=None,
                        part="values", student_steps=None):
    """Check student(dh, cache), the cache from student_forward on the same inputs (c0 None).

    With student_steps = (the student's lstm_step_forward, lstm_step_backward) given, a loop over
    the step backward is accepted too, and the dtype and extreme parts are not charged when the
    step backward fails its own: a mistake in the step costs the step's points, not these.

    Probes: dh zero except at the last time step (the gradient must reach every earlier
    step), dh zero except at one middle step, then dh random everywhere. Against rnnkit
    when the student's forward agrees with it, else against numerical derivatives of the
    student's own forward. Every call gets a fresh cache.
    """
    dtype, scale = part_defaults(part, dtype, scale)
    x, h0, c0, Wx, Wh, b = random_lstm(N, T, D, H, dtype, seed, scale)
    args = (x, h0, Wx, Wh, b)
    out = own_forward(student_forward, "lstm_forward", args, LSTM)
    h_ref, ref_cache = rnnkit.lstm_forward(*args)
    forward_right = same(out[0], h_ref, dtype)
    if part != "values" and forward_right:
        # saturated gates can hide a wrong forward (a swap of two saturated blocks): judge it at scale 1
        plain = random_lstm(N, T, D, H, np.float64, seed, 1.0)
        plain = (plain[0], plain[1], plain[3], plain[4], plain[5])
        forward_right = same(own_forward(student_forward, "lstm_forward", plain, LSTM)[0],
                             rnnkit.lstm_forward(*plain)[0], np.float64)
    rng = np.random.default_rng(seed + 1)
    full = draw(rng, (N, T, H), 1.0, dtype)
    probes = []
    for t in sorted({T - 1, T // 2}):
        only = np.zeros_like(full)
        only[:, t] = full[:, t]
        probes.append((only, t, f"with dh zero except at time step {t}"))
    probes.append((full, None, "with dh random at every time step"))
    shapes = [(N, T, D), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)]
    caught = []
    base = once(lambda: passes(check_lstm_backward, student, student_forward, N, T, D, H, np.float64, seed, 1.0,
                               student_steps=student_steps))
    step_forward, student_step_backward = student_steps or (None, None)
    step_note = (f"(your lstm_step_backward fails its own test of this part, and lstm_backward calls it: "
                 f"the step's test charges it, so this part of lstm_backward is not graded here)")
    if part != "values" and excused(check_lstm_step_backward, student_step_backward, step_note,
                                    student_step_backward, step_forward, part=part):
        return
    if not forward_right and part == "values":
        probes = probes[-1:]  # against numerical derivatives, the most general probe is enough
    for dh, t_only, probe in probes:
        cache = own_forward(student_forward, "lstm_forward", args, LSTM)[-1]
        got = None
        with values_charge(part, base):
            got = unpack(call(student, "lstm_backward", copied(dh), cache, forbid=LSTM, caught=caught),
                         "lstm_backward", SEQ_GRADS)
        if got is None:
            return
        if part == "values" and student_step_backward is not None:
            loop = own_backward_loop(student_step_backward, own_forward(student_forward, "lstm_forward", args, LSTM)[-1],
                                     dh, "lstm_step_backward", LSTM, carries_c=True)
            if loop is not None and all(same(g, l, dtype) for g, l in zip(got, loop)):
                continue  # the loop over the student's own step backward: right for this part
        if part == "values":
            for k, name in enumerate(SEQ_GRADS):
                assert_shape(got[k], shapes[k], name)
        if part == "dtype" and forward_leaks_float64(out, dtype, "lstm_forward", "lstm_backward"):
            return
        if not _start_part(part, tuple(zip(SEQ_GRADS, got)), dtype, "lstm_backward", caught, base):
            return
        if student_step_backward is not None:
            loop = own_backward_loop(student_step_backward, own_forward(student_forward, "lstm_forward", args, LSTM)[-1],
                                     dh, "lstm_step_backward", LSTM, carries_c=True)
            if loop is not None and all(same(g, l, dtype) for g, l in zip(got, loop)):
                continue  # the loop over the student's own step backward: right for this part
        if not forward_right:
            if part != "values":
                continue
            upstream = dh

            def loss(*probe_args):
                h_ = call(student_forward, "lstm_forward", *copied(probe_args), forbid=LSTM, caught=[])[0]
                return float(np.sum(h_ * upstream))

            blocks = {name: gate_blocks(4, H, GATES) for name in ("dWx", "dWh", "db")}
            directional_check(loss, [np.array(v) for v in args], got, SEQ_GRADS, blocks, seed + 2,
                              f"{_forward_note('lstm_forward', 'lstm_backward')} ({probe})")
            continue
        ref = rnnkit.lstm_backward(dh, ref_cache)
        dx = got[0]
        if not same(dx, ref[0], dtype) and all(not np.any(g) for g in got):
            raise AssertionError(
                f"every gradient lstm_backward returned is zero {probe}: step t receives dh[:, t], the "
                "gradient of its own output, plus the dh_prev of step t+1 (dh[:, t] + dh_next); it looks "
                "as if dh[:, t] is never added")
        if not same(dx, ref[0], dtype) and same(dx, backward_variant(dh, *args, use_dh="last")[0], dtype) \
                and t_only is None:
            raise AssertionError(
                f"dx is wrong {probe}: only dh[:, T-1] enters the loop; step t receives dh[:, t] + the "
                "dh_prev of step t+1, at every step")
        if t_only is not None and not same(dx, ref[0], dtype):
            earlier = np.abs(dx[:, :t_only]).max() if t_only else 1.0
            later = np.abs(dx[:, t_only + 1 :]).max() if t_only + 1 < T else 0.0
            if later > 0:
                raise AssertionError(
                    f"dx is wrong {probe}: dx is not zero after step {t_only}, but the state at step "
                    f"{t_only} cannot depend on later inputs; the gradient must go backwards in time, "
                    f"from t+1 to t (loop t = T-1 down to 0)")
            if np.abs(dx[:, t_only]).max() == 0:
                raise AssertionError(
                    f"dx is wrong {probe}: dx is zero at step {t_only} itself, so dh[:, {t_only}] does not "
                    f"reach step {t_only}; step t receives dh[:, t] + the dh_prev of step t+1")
            if t_only and earlier == 0:
                raise AssertionError(
                    f"dx is wrong {probe}: dx is zero before step {t_only}, so the gradient is not "
                    "carried from t+1 to t; pass dh_prev and dc_prev of step t+1 on to step t")
        no_dh = backward_variant(dh, *args, carry_h=False)[0]
        no_dc = backward_variant(dh, *args, carry_c=False)[0]
        per_step = backward_variant(dh, *args)[5]
        bad_t = None
        if dx.shape == ref[0].shape:
            bad_t = next((t for t in range(T - 1, -1, -1) if not same(dx[:, t], ref[0][:, t], dtype)), None)
        hint = None
        if bad_t is not None and bad_t < T - 1 and (t_only is None or bad_t < t_only):
            hint = (f"{probe} the last steps are right and step {bad_t} is not: what is carried "
                    f"from step {bad_t + 1} back to step {bad_t} is wrong")
        compare(dx, ref[0], "dx", "N T D", dtype=dtype, hint=hint, mistakes=[
            (no_dc, f"{probe}: the cell-state gradient is not carried back in time; "
                    "dc_prev of step t+1 is the dc_next of step t"),
            (no_dh, f"{probe}: the hidden-state gradient is not carried back in time; "
                    "step t receives dh[:, t] + dh_prev of step t+1"),
        ])
        compare(got[1], ref[1], "dh0", "N H", dtype=dtype,
                hint=f"{probe}: dx is right, so dh0 should be the dh_prev of step 0")
        for k, wname in ((2, "dWx"), (3, "dWh"), (4, "db")):
            g, r = got[k], ref[k]
            if isinstance(g, np.ndarray) and g.shape == r.shape and not same(g, r, dtype):
                for t in (0, T - 1):
                    if same(g, per_step[t][k - 2], dtype):
                        raise AssertionError(
                            f"{wname} is wrong {probe}: it holds the contribution of a single time "
                            f"step ({t}); the weights are shared, so {wname} sums (+=) the contributions "
                            "of every time step")
            compare_blocks(g, r, wname, GATES, f"{probe}: dx and dh0 are right; {wname} sums over "
                                               "the time steps and the batch", dtype)
    _finish(part, "lstm_backward", caught)


def check_lstm_backward_inputs(student, student_forward, N=2, T=3, D=3, H=4, seed=8, student_steps=None):
    """lstm_backward must leave dh as it was (it may take its cache apart); not charged when the
    student's lstm_step_backward (student_steps = (step forward, step backward)) changes its own."""
    if student_steps is not None and excused(
            check_lstm_step_backward_inputs, student_steps[1],
            "(your lstm_step_backward changes its arguments in place, and lstm_backward calls it: the step's "
            "test charges it, so lstm_backward's arguments are not graded here)", student_steps[1], student_steps[0]):
        return
    x, h0, _, Wx, Wh, b = random_lstm(N, T, D, H, np.float64, seed)
    cache = own_forward(student_forward, "lstm_forward", (x, h0, Wx, Wh, b), LSTM)[-1]
    dh = draw(np.random.default_rng(seed), (N, T, H), 1.0, np.float64)
    check_untouched(student, "lstm_backward", (dh, cache), ("dh", "cache"), LSTM, skip=("cache",))
