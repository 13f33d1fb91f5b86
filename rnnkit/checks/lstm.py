"""Checks for notebook 04-lstm: lstm_step_forward, lstm_forward, lstm_step_backward, lstm_backward.

A check runs the student's function with rnnkit's LSTM trapped, compares each result
with rnnkit, and when one differs it looks for the cause in two ways:

- it compares the result with what each usual mistake would give (gate blocks read in
  another order, a sigmoid where a tanh belongs, the forget gate not applied, ...) and
  names the mistake that matches;
- it repeats the call with every input but one set to zero (forward), or with every
  upstream gradient but one set to zero (backward), and says which term is at fault.

The helpers of the first part are shared with :mod:`rnnkit.checks.gru`.
"""
import itertools
import warnings

import numpy as np

import rnnkit
from ..testing import assert_close, assert_shape, forbid_reference

# ---------------------------------------------------------------- shared helpers


def tolerances(dtype):
    """(rtol, atol) for comparing a result of the given dtype with the reference."""
    if np.dtype(dtype) == np.float32:
        return 2e-4, 2e-5
    return 1e-6, 1e-9


def call(fn, name, *args, forbid=(), **kwargs):
    """fn(*args, **kwargs) with rnnkit's ``forbid`` functions trapped and warnings made failures.

    An exception raised by the student's code becomes an AssertionError naming the function;
    NotImplementedError (an exercise not yet done) and AssertionError pass unchanged.
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
            "computes without warnings (use a stable sigmoid)")
    return result


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


def compare(got, expected, name, axes=None, mistakes=(), hint=None, dtype=np.float64):
    """Fail unless got equals expected; name the mistake when got equals one of ``mistakes``.

    mistakes: (array, explanation) pairs, the result each usual mistake would produce.
    """
    expected = np.asarray(expected)
    if not same(got, expected, dtype):
        for wrong, explanation in mistakes:
            if same(got, wrong, dtype):
                raise AssertionError(f"{name} is wrong: {explanation}")
        rtol, atol = tolerances(dtype)
        assert_shape(got, expected.shape, name)
        assert_close(got, expected, name, axes=axes, hint=hint, rtol=rtol, atol=atol)
    if got.dtype != np.dtype(dtype):
        raise AssertionError(
            f"{name} has dtype {got.dtype}, expected {np.dtype(dtype)}: keep the dtype of the "
            "inputs (float32 in, float32 out)")


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


# ---------------------------------------------------------------- LSTM inputs and mistakes

LSTM = ("lstm_step_forward", "lstm_forward", "lstm_step_backward", "lstm_backward")
GATES = ("input gate i", "forget gate f", "candidate g", "output gate o")


def random_lstm(N, T, D, H, dtype=np.float64, seed=0, scale=1.0):
    """x (N, T, D), h0 (N, H), c0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).

    scale sets the size of the pre-activations; a large scale saturates the gates.
    """
    rng = np.random.default_rng(seed)
    return (draw(rng, (N, T, D), 1.0, dtype), draw(rng, (N, H), 0.5, dtype), draw(rng, (N, H), 1.0, dtype),
            draw(rng, (D, 4 * H), scale / np.sqrt(D), dtype), draw(rng, (H, 4 * H), scale / np.sqrt(H), dtype),
            draw(rng, (4 * H,), 0.5 * scale, dtype))


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


def _locate_forward(student, args, names, ref_fn, outputs, dtype, **kwargs):
    """Which input, when zeroed, makes the student agree with the reference: a sentence or ''."""
    for k, name in enumerate(names):
        if not np.any(args[k]):
            continue
        probe = list(args)
        probe[k] = np.zeros_like(args[k])
        try:
            got = call(student, "", *probe, forbid=LSTM + ("gru_step_forward", "gru_forward"), **kwargs)
        except AssertionError:
            continue
        ref = ref_fn(*probe, **kwargs)
        if all(same(got[j], ref[j], dtype) for j in outputs):
            return (f"Setting {name} to zero makes your result agree with the reference, "
                    f"so the term that involves {name} is the faulty one.")
    return ""


# ---------------------------------------------------------------- lstm_step_forward


def check_lstm_step_forward(student, N=3, D=4, H=5, dtype=np.float64, seed=0, scale=1.0):
    """Compare student(x, h_prev, c_prev, Wx, Wh, b) with rnnkit on one step."""
    x, h_prev, c_prev, Wx, Wh, b = random_lstm(N, 1, D, H, dtype, seed, scale)
    x = x[:, 0]
    args = (x, h_prev, c_prev, Wx, Wh, b)
    got = unpack(call(student, "lstm_step_forward", *args, forbid=LSTM),
                 "lstm_step_forward", ("h_next", "c_next", "cache"))
    h_ref, c_ref, _ = rnnkit.lstm_step_forward(*args)
    mistakes = step_mistakes(*args)
    where = ""
    if not (same(got[1], c_ref, dtype) and same(got[0], h_ref, dtype)):
        where = _locate_forward(student, args, ("x", "h_prev", "c_prev", "Wx", "Wh", "b"),
                                rnnkit.lstm_step_forward, (0, 1), dtype)
    compare(got[1], c_ref, "c_next", "N H", dtype=dtype, mistakes=[(c, e) for _, c, e in mistakes],
            hint=where or "expected c_next = f * c_prev + i * g")
    compare(got[0], h_ref, "h_next", "N H", dtype=dtype, mistakes=[(h, e) for h, _, e in mistakes],
            hint=where or "expected h_next = o * tanh(c_next)")


# ---------------------------------------------------------------- lstm_forward


def check_lstm_forward(student, N=3, T=4, D=4, H=5, dtype=np.float64, seed=0, scale=1.0, with_c0=True):
    """Compare student(x, h0, Wx, Wh, b, c0) with rnnkit over a sequence (c0=None if not with_c0)."""
    x, h0, c0, Wx, Wh, b = random_lstm(N, T, D, H, dtype, seed, scale)
    c0 = c0 if with_c0 else None
    got = call(student, "lstm_forward", x, h0, Wx, Wh, b, c0=c0, forbid=LSTM)
    got = unpack(got, "lstm_forward", ("h", "cache"))[0]
    h_ref = rnnkit.lstm_forward(x, h0, Wx, Wh, b, c0=c0)[0]
    c_init = np.zeros_like(h0) if c0 is None else c0
    # Usual mistakes, built step by step from the right step function.
    stale, c_reset, h_kept = [], [], []
    h, c = h0, c_init
    h_cr, c_cr = h0, c_init
    for t in range(T):
        stale.append(_step(x[:, t], h0, c_init, Wx, Wh, b)[0])
        h_cr, _ = _step(x[:, t], h_cr, c_init, Wx, Wh, b)
        c_reset.append(h_cr)
        h, c = _step(x[:, t], h, c, Wx, Wh, b)
    no_c0 = rnnkit.lstm_forward(x, h0, Wx, Wh, b)[0]
    with_h0 = np.concatenate([h0[:, None], h_ref], axis=1)
    mistakes = [
        (np.stack(stale, axis=1), "every step starts again from h0 and c0: carry h and c from "
                                  "one step to the next"),
        (np.stack(c_reset, axis=1), "the cell state is not carried: each step must start from "
                                    "the previous step's c, not from c0"),
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


# ---------------------------------------------------------------- lstm_step_backward

STEP_GRADS = ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")


def _forward_for_backward(student_forward, name, args):
    """Run the student's forward, which must pass its own check, to get a cache."""
    out = call(student_forward, name, *args, forbid=LSTM)
    if not isinstance(out, tuple) or len(out) < 2:
        raise AssertionError(f"{name} must return its cache as the last item; check {name} first")
    return out


def check_lstm_step_backward(student, student_forward, N=3, D=4, H=5, dtype=np.float64, seed=0, scale=1.0):
    """Compare student(dh_next, dc_next, cache) with rnnkit, cache from student_forward.

    Three probes: dh_next and dc_next both random; dh_next alone (dc_next zero); dc_next
    alone (dh_next zero). The message names the probe that fails.
    """
    x, h_prev, c_prev, Wx, Wh, b = random_lstm(N, 1, D, H, dtype, seed, scale)
    x = x[:, 0]
    args = (x, h_prev, c_prev, Wx, Wh, b)
    cache = _forward_for_backward(student_forward, "lstm_step_forward", args)[-1]
    _, _, ref_cache = rnnkit.lstm_step_forward(*args)
    rng = np.random.default_rng(seed + 1)
    dh = draw(rng, (N, H), 1.0, dtype)
    dc = draw(rng, (N, H), 1.0, dtype)
    zero = np.zeros_like(dh)
    probes = [
        (zero, dc, "with dh_next zero and dc_next random (the path through the cell state alone)"),
        (dh, zero, "with dc_next zero and dh_next random (the path through h_next = o * tanh(c_next))"),
        (dh, dc, "with dh_next and dc_next both random"),
    ]
    H4 = x @ Wx + h_prev @ Wh + b
    i, f, o = (rnnkit.sigmoid(H4[:, k * H : (k + 1) * H]) for k in (0, 1, 3))
    g = np.tanh(H4[:, 2 * H : 3 * H])
    tanh_c = np.tanh(f * c_prev + i * g)
    for dh_next, dc_next, probe in probes:
        got = unpack(call(student, "lstm_step_backward", dh_next, dc_next, cache, forbid=LSTM),
                     "lstm_step_backward", STEP_GRADS)
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
        for k, name in enumerate(STEP_GRADS):
            if not isinstance(got[k], np.ndarray):
                raise AssertionError(f"{name} should be a NumPy array, but it is {type(got[k]).__name__}")
        compare(got[2], ref[2], "dc_prev", "N H", dtype=dtype, mistakes=[
            (dc_next * f, f"{probe}: dc_prev only carries dc_next; the gradient that reaches c_next "
                          "through h_next (dh_next * o * (1 - tanh(c_next)**2)) must be added first"),
            (dc_total, f"{probe}: dc_prev is missing the factor f, since c_next = f * c_prev + ..."),
        ], hint=f"{probe}: {hints['dc_prev']}")
        for k in (0, 1):
            name = STEP_GRADS[k]
            W = Wx if k == 0 else Wh
            compare(got[k], ref[k], name, "N D" if k == 0 else "N H", dtype=dtype,
                    mistakes=[(da @ W, f"{probe}: {name} uses {'Wx' if k == 0 else 'Wh'} without the "
                                       f"transpose; {hints[name]}")] if W.shape[0] == W.shape[1] else (),
                    hint=f"{probe}: {hints[name]}")
            if not same(got[k], ref[k], dtype):
                break
        mistakes_db = [(da, f"{probe}: db must be summed over the batch rows, db = da.sum(axis=0)")]
        for k in (3, 4, 5):
            name = STEP_GRADS[k]
            if k == 5 and not same(got[k], ref[k], dtype):
                for wrong, e in mistakes_db:
                    if same(got[k], wrong, dtype):
                        raise AssertionError(f"db is wrong: {e}")
            compare_blocks(got[k], ref[k], name, GATES, f"{probe}: {hints[name]}", dtype)


# ---------------------------------------------------------------- lstm_backward

SEQ_GRADS = ("dx", "dh0", "dWx", "dWh", "db")


def backward_variant(dh, x, h0, Wx, Wh, b, carry_h=True, carry_c=True):
    """rnnkit's gradients through time with a carry switched off, from the public step functions.

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
        dx[:, t], dh_prev, dc_prev, gWx, gWh, gb = rnnkit.lstm_step_backward(
            dh[:, t] + (dh_carry if carry_h else 0.0), dc_carry if carry_c else np.zeros_like(dc_carry), caches[t])
        dh_carry, dc_carry = dh_prev, dc_prev
        dWx += gWx
        dWh += gWh
        db += gb
        per_step[t] = (gWx, gWh, gb)
    return dx, dh_carry, dWx, dWh, db, per_step


def check_lstm_backward(student, student_forward, N=3, T=5, D=4, H=6, dtype=np.float64, seed=0, scale=1.0):
    """Compare student(dh, cache) with rnnkit over a sequence, cache from student_forward.

    Probes: dh zero except at the last time step (the gradient must reach every earlier
    step), dh zero except at one middle step, then dh random everywhere.
    """
    x, h0, c0, Wx, Wh, b = random_lstm(N, T, D, H, dtype, seed, scale)
    args = (x, h0, Wx, Wh, b)
    cache = _forward_for_backward(student_forward, "lstm_forward", args)[-1]
    _, ref_cache = rnnkit.lstm_forward(*args)
    rng = np.random.default_rng(seed + 1)
    full = draw(rng, (N, T, H), 1.0, dtype)
    probes = []
    for t in sorted({T - 1, T // 2}):
        only = np.zeros_like(full)
        only[:, t] = full[:, t]
        probes.append((only, t, f"with dh zero except at time step {t}"))
    probes.append((full, None, "with dh random at every time step"))
    for dh, t_only, probe in probes:
        got = unpack(call(student, "lstm_backward", dh, cache, forbid=LSTM), "lstm_backward", SEQ_GRADS)
        ref = rnnkit.lstm_backward(dh, ref_cache)
        for k, name in enumerate(SEQ_GRADS):
            if not isinstance(got[k], np.ndarray):
                raise AssertionError(f"{name} should be a NumPy array, but it is {type(got[k]).__name__}")
        assert_shape(got[0], ref[0].shape, "dx")
        dx = got[0]
        if t_only is not None and not same(dx, ref[0], dtype):
            earlier = np.abs(dx[:, :t_only]).max() if t_only else 1.0
            later = np.abs(dx[:, t_only + 1 :]).max() if t_only + 1 < T else 0.0
            if later > 0:
                raise AssertionError(
                    f"dx is wrong {probe}: dx is not zero after step {t_only}, but the state at step "
                    f"{t_only} cannot depend on later inputs; the gradient must go backwards in time, "
                    f"from t+1 to t (loop t = T-1 down to 0)")
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
