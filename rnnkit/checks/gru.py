"""Checks for notebook 05-gru: gru_step_forward, gru_forward, gru_step_backward, gru_backward.

The same approach as :mod:`rnnkit.checks.lstm`: compare with rnnkit, then name the
mistake whose result matches (z on the wrong side of the update, the reset gate placed
before the recurrent product when it belongs after, or the reverse, gate blocks read in
another order, ...), or find the faulty term by zeroing every input but one. Every check
runs for either placement of the reset gate (``reset_after``), and each exercise is graded
in the parts of :mod:`rnnkit.checks.lstm` (values, dtype, extreme inputs and inputs left
as they were), the backward on its own against the student's own forward.
"""
import itertools

import numpy as np

import rnnkit
from .lstm import (_finish, _forward_note, values_charge, excused, extreme_bias, forward_leaks_float64, own_backward_loop, _start_part, call, check_untouched, compare, compare_blocks, copied,
                   directional_check, draw, gate_blocks, labelled, once, own_forward, part_defaults, passes,
                   same, unpack)
from ..testing import assert_shape

GRU = ("gru_step_forward", "gru_forward", "gru_step_backward", "gru_backward")
GATES = ("reset gate r", "update gate z", "candidate n")


def random_gru(N, T, D, H, dtype=np.float64, seed=0, scale=1.0, reset_after=False):
    """x (N, T, D), h0 (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,) or (2, 3H) with reset_after."""
    rng = np.random.default_rng(seed)
    b_shape = (2, 3 * H) if reset_after else (3 * H,)
    return (draw(rng, (N, T, D), 1.0, dtype), draw(rng, (N, H), 0.5, dtype),
            draw(rng, (D, 3 * H), scale / np.sqrt(D), dtype), draw(rng, (H, 3 * H), scale / np.sqrt(H), dtype),
            extreme_bias(draw(rng, b_shape, 0.5 * scale, dtype), scale))


def _step(x, h_prev, Wx, Wh, b, reset_after, order="rzn", flip_z=False, place=None, use_r=True,
          n_act="tanh", bias_out=False, drop_bhn=False):
    """A GRU step with switches for the usual mistakes; the defaults give the right step.

    place: None for the placement that reset_after asks for, or "before" / "after" to force one.
    bias_out: with reset_after, add the recurrent bias of n outside r * (...).
    drop_bhn: with reset_after, leave out the recurrent bias of n altogether.
    """
    H = h_prev.shape[1]
    bx, bh = (b[0], b[1].copy()) if reset_after else (b, np.zeros_like(b))
    if drop_bhn:
        bh[2 * H :] = 0.0
    ax = x @ Wx + bx
    blk = {name: k for k, name in enumerate(order)}

    def cols(a, name):
        k = blk[name]
        return a[:, k * H : (k + 1) * H] if a.ndim == 2 else a[k * H : (k + 1) * H]

    r = rnnkit.sigmoid(cols(ax, "r") + h_prev @ cols(Wh, "r") + cols(bh, "r"))
    z = rnnkit.sigmoid(cols(ax, "z") + h_prev @ cols(Wh, "z") + cols(bh, "z"))
    r_eff = r if use_r else 1.0
    after = reset_after if place is None else place == "after"
    if after:
        inner = h_prev @ cols(Wh, "n") + (0.0 if bias_out else cols(bh, "n"))
        an = cols(ax, "n") + r_eff * inner + (cols(bh, "n") if bias_out else 0.0)
    else:
        an = cols(ax, "n") + (r_eff * h_prev) @ cols(Wh, "n") + cols(bh, "n")
    n = np.tanh(an) if n_act == "tanh" else rnnkit.sigmoid(an)
    return z * n + (1 - z) * h_prev if flip_z else (1 - z) * n + z * h_prev


def step_mistakes(x, h_prev, Wx, Wh, b, reset_after):
    """(h_next, explanation) for each usual mistake of gru_step_forward."""
    args = (x, h_prev, Wx, Wh, b, reset_after)
    out = []
    for perm in itertools.permutations("rzn"):
        order = "".join(perm)
        if order != "rzn":
            out.append((_step(*args, order=order), f"the gate blocks are read in the order "
                        f"{', '.join(order)}; the contract stacks them r, z, n along the last axis"))
    wrong_place = "before" if reset_after else "after"
    placement = ("reset_after=True puts r after the recurrent product: "
                 "n = tanh(x Wx_n + b_x,n + r * (h_prev Wh_n + b_h,n))" if reset_after else
                 "reset_after=False puts r before the recurrent product: n = tanh(x Wx_n + (r * h_prev) Wh_n + b_n)")
    out += [
        (_step(*args, flip_z=True), "z is on the wrong side of the update: rnnkit keeps the old state "
                                    "with z, h_next = (1 - z) * n + z * h_prev"),
        (_step(*args, place=wrong_place), f"the reset gate is placed {wrong_place} the recurrent product; "
                                          + placement),
        (_step(*args, place=wrong_place, drop_bhn=True), f"the reset gate is placed {wrong_place} the "
                                                         "recurrent product; " + placement),
        (_step(*args, use_r=False), "the reset gate r is not applied to the candidate"),
        (_step(*args, n_act="sigmoid"), "the candidate n uses a sigmoid; it is tanh, so it can be negative"),
        (_step(x, h_prev, Wx, Wh, np.zeros_like(b), reset_after), "the bias b is missing"),
        (_step(np.zeros_like(x), h_prev, Wx, Wh, b, reset_after), "the input term x @ Wx is missing"),
    ]
    if reset_after:
        out.append((_step(*args, bias_out=True), "the recurrent bias of n, b[1, 2H:], belongs inside "
                                                 "the reset: r * (h_prev Wh_n + b_h,n)"))
    return out


def _locate(student, args, names, ref_fn, dtype, reset_after):
    """Which input, when zeroed, makes the student agree with the reference: a sentence or ''."""
    for k, name in enumerate(names):
        if not np.any(args[k]):
            continue
        probe = list(copied(args))
        probe[k] = np.zeros_like(args[k])
        try:
            got = call(student, "", *probe, reset_after=reset_after, forbid=GRU, caught=[])
        except AssertionError:
            continue
        probe[k] = np.zeros_like(args[k])
        if isinstance(got, tuple) and same(got[0], ref_fn(*copied(probe), reset_after=reset_after)[0], dtype):
            return (f"Setting {name} to zero makes your result agree with the reference, "
                    f"so the term that involves {name} is the faulty one.")
    return ""


# ---------------------------------------------------------------- gru_step_forward

STEP_INPUTS = ("x", "h_prev", "Wx", "Wh", "b")


def check_gru_step_forward(student, reset_after=False, N=3, D=4, H=5, dtype=None, seed=0, scale=None,
                           part="values"):
    """Compare student(x, h_prev, Wx, Wh, b, reset_after) with rnnkit on one step.

    part: "values", "dtype" (float32) or "extreme" (saturated gates), as in rnnkit.checks.lstm.
    """
    dtype, scale = part_defaults(part, dtype, scale)
    x, h_prev, Wx, Wh, b = random_gru(N, 1, D, H, dtype, seed, scale, reset_after)
    args = (x[:, 0], h_prev, Wx, Wh, b)
    caught = []
    name = f"h_next (reset_after={reset_after})"
    base = once(lambda: passes(check_gru_step_forward, student, reset_after, N, D, H, np.float64, seed, 1.0))
    got = None
    with values_charge(part, base):
        got = unpack(call(student, "gru_step_forward", *copied(args), reset_after=reset_after, forbid=GRU,
                          caught=caught), "gru_step_forward", ("h_next", "cache"))[0]
        if part == "values":
            assert_shape(got, (N, H), name)
    if got is None:
        return
    if not _start_part(part, ((name, got),), dtype, "gru_step_forward", caught, base):
        return
    ref = rnnkit.gru_step_forward(*args, reset_after=reset_after)[0]
    where = ""
    if not same(got, ref, dtype):
        where = _locate(student, args, STEP_INPUTS, rnnkit.gru_step_forward, dtype, reset_after)
    compare(got, ref, name, "N H", dtype=dtype, mistakes=step_mistakes(*args, reset_after),
            hint=where or "expected h_next = (1 - z) * n + z * h_prev")
    _finish(part, "gru_step_forward", caught)


def check_gru_step_forward_inputs(student, reset_after=False, N=2, D=3, H=4, seed=5):
    """gru_step_forward must leave its arguments as they were."""
    x, h_prev, Wx, Wh, b = random_gru(N, 1, D, H, np.float64, seed, 1.0, reset_after)
    check_untouched(student, "gru_step_forward", (x[:, 0], h_prev, Wx, Wh, b), STEP_INPUTS, GRU,
                    kwargs={"reset_after": reset_after})


# ---------------------------------------------------------------- gru_forward


def _own_chain(student_step, x, h0, Wx, Wh, b, reset_after):
    """h (N, T, H) from a loop over the student's own step, or None when the step fails."""
    h, out = h0, []
    try:
        for t in range(x.shape[1]):
            h, _ = call(student_step, "gru_step_forward", *copied((x[:, t], h, Wx, Wh, b)),
                        reset_after=reset_after, forbid=GRU, caught=[])
            out.append(np.asarray(h))
        return np.stack(out, axis=1)
    except (AssertionError, ValueError, TypeError):
        return None


def check_gru_forward(student, reset_after=False, N=3, T=4, D=4, H=5, dtype=None, seed=0, scale=None,
                      part="values", student_step=None):
    """Compare student(x, h0, Wx, Wh, b, reset_after) with rnnkit over a sequence.

    With student_step (the student's gru_step_forward) given and differing from rnnkit's,
    a loop over the student's own step is accepted too.
    """
    dtype, scale = part_defaults(part, dtype, scale)
    x, h0, Wx, Wh, b = random_gru(N, T, D, H, dtype, seed, scale, reset_after)
    caught = []
    name = f"h (reset_after={reset_after})"
    base = once(lambda: passes(check_gru_forward, student, reset_after, N, T, D, H, np.float64, seed, 1.0,
                               student_step=student_step))
    got = None
    with values_charge(part, base):
        try:
            got = call(student, "gru_forward", *copied((x, h0, Wx, Wh, b)), reset_after=reset_after, forbid=GRU,
                       caught=caught)
        except AssertionError as exc:
            if reset_after and " raised " in str(exc):
                raise AssertionError(f"{exc}. With reset_after=True, b has shape (2, 3H): does gru_forward pass "
                                     "reset_after on to gru_step_forward?") from exc
            raise
        got = unpack(got, "gru_forward", ("h", "cache"))[0]
    if got is None:
        return
    if part != "values" and excused(check_gru_step_forward, student_step,
                                    "(your gru_step_forward fails its own test of this part, and gru_forward calls it: "
                                    "the step's test charges it, so this part of gru_forward is not graded here)",
                                    student_step, reset_after, part=part):
        return
    if not _start_part(part, ((name, got),), dtype, "gru_forward", caught, base):
        return
    ref = rnnkit.gru_forward(x, h0, Wx, Wh, b, reset_after=reset_after)[0]
    if student_step is not None and not same(got, ref, dtype):
        own = _own_chain(student_step, x, h0, Wx, Wh, b, reset_after)
        step_ref = rnnkit.gru_step_forward(x[:, 0], h0, Wx, Wh, b, reset_after=reset_after)[0]
        if own is not None and not same(own[:, 0], step_ref, dtype):
            if same(got, own, dtype):
                _finish(part, "gru_forward", caught)
                return
            compare(got, own, name, "N T H", dtype=dtype, hint=(
                "your gru_step_forward differs from the reference (its own test says how), so gru_forward "
                "is compared with a loop over your gru_step_forward, carrying h from step to step with "
                "the same reset_after"))
    stale = np.stack([_step(x[:, t], h0, Wx, Wh, b, reset_after) for t in range(T)], axis=1)
    mistakes = [
        (stale, "every step starts again from h0: carry h from one step to the next"),
        (np.concatenate([h0[:, None], ref], axis=1), "h includes h0; it holds the T new states, (N, T, H)"),
        (ref.transpose(1, 0, 2), "h is time-major (T, N, H); the course is batch first, (N, T, H)"),
    ]
    h, wrong = h0, []
    for t in range(T):
        h = _step(x[:, t], h, Wx, Wh, b, reset_after, place="before" if reset_after else "after")
        wrong.append(h)
    mistakes.append((np.stack(wrong, axis=1), f"reset_after={reset_after} is not passed on to the step: "
                                             "call gru_step_forward(..., reset_after=reset_after)"))
    bad_t = None
    if isinstance(got, np.ndarray) and got.shape == ref.shape:
        bad_t = next((t for t in range(T) if not same(got[:, t], ref[:, t], dtype)), None)
    hint = None
    if bad_t == 0:
        hint = "the first step is already wrong: check the step formulas (does gru_step_forward pass?)"
    elif bad_t is not None:
        hint = (f"steps 0..{bad_t - 1} are right and step {bad_t} is not: what is carried from one "
                "step to the next is wrong")
    compare(got, ref, name, "N T H", dtype=dtype, mistakes=mistakes, hint=hint)
    _finish(part, "gru_forward", caught)


def check_gru_forward_inputs(student, reset_after=False, N=2, T=3, D=3, H=4, seed=6, student_step=None):
    """gru_forward must leave its arguments as they were (not charged when the student's
    gru_step_forward, given, changes its own arguments: its test charges that)."""
    if excused(check_gru_step_forward_inputs, student_step,
               "(your gru_step_forward changes its arguments in place, and gru_forward calls it: the step's test "
               "charges it, so gru_forward's arguments are not graded here)", student_step, reset_after):
        return
    x, h0, Wx, Wh, b = random_gru(N, T, D, H, np.float64, seed, 1.0, reset_after)
    check_untouched(student, "gru_forward", (x, h0, Wx, Wh, b), ("x", "h0", "Wx", "Wh", "b"), GRU,
                    kwargs={"reset_after": reset_after})


# ---------------------------------------------------------------- gru_step_backward

STEP_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")
HINTS = {
    "dx": "dx = dax @ Wx.T, with dax the gradient of the input pre-activations",
    "dh_prev": "dh_prev collects three paths: dh_next * z directly, through the gates r and z, "
               "and through the candidate n",
    "dWx": "dWx = x.T @ dax",
    "dWh": "dWh = h_prev.T @ dah for r and z; for n it multiplies what Wh_n multiplied in the forward "
           "pass, r * h_prev (reset before) or h_prev (reset after)",
    "db": "db sums the pre-activation gradients over the batch",
}


def _compare_grads(got, ref, probe, dtype, axes):
    # the gate-stacked gradients first: their message names the gate block that is wrong
    for k in (4, 2, 3, 0, 1):
        name = STEP_GRADS[k]
        if k >= 2:
            compare_blocks(got[k], ref[k], name, GATES, f"{probe}: {HINTS[name]}", dtype)
        else:
            compare(got[k], ref[k], name, axes[k], dtype=dtype, hint=f"{probe}: {HINTS[name]}")


def _grad_shapes(got, shapes, dtype, reset_after):
    for k, name in enumerate(STEP_GRADS):
        label = f"{name} (reset_after={reset_after}{', input and recurrent biases' if name == 'db' and reset_after else ''})"
        assert_shape(got[k], shapes[k], labelled(label, dtype))


def check_gru_step_backward(student, student_forward, reset_after=False, N=3, D=4, H=5,
                            dtype=None, seed=0, scale=None, part="values"):
    """Check student(dh_next, cache), the cache from student_forward on the same inputs.

    Probes: dh_next with one hidden unit nonzero, then random. Against rnnkit when the
    student's forward agrees with it, else against numerical derivatives of the student's
    own forward. Every call gets a fresh cache.
    """
    dtype, scale = part_defaults(part, dtype, scale)
    x, h_prev, Wx, Wh, b = random_gru(N, 1, D, H, dtype, seed, scale, reset_after)
    args = (x[:, 0], h_prev, Wx, Wh, b)
    out = own_forward(student_forward, "gru_step_forward", args, GRU, reset_after=reset_after)
    ref_h, ref_cache = rnnkit.gru_step_forward(*args, reset_after=reset_after)
    forward_right = same(out[0], ref_h, dtype)
    if part != "values" and forward_right:
        # saturated gates can hide a wrong forward (a mirrored z meets z = 0 or 1): judge it at scale 1
        x1, h1, Wx1, Wh1, b1 = random_gru(N, 1, D, H, np.float64, seed, 1.0, reset_after)
        plain = (x1[:, 0], h1, Wx1, Wh1, b1)
        forward_right = same(own_forward(student_forward, "gru_step_forward", plain, GRU, reset_after=reset_after)[0],
                             rnnkit.gru_step_forward(*plain, reset_after=reset_after)[0], np.float64)
    rng = np.random.default_rng(seed + 1)
    full = draw(rng, (N, H), 1.0, dtype)
    one = np.zeros_like(full)
    one[:, H - 1] = full[:, H - 1]
    bx, bh = (b[0], b[1]) if reset_after else (b, 0.0)
    z = rnnkit.sigmoid((args[0] @ Wx + bx + h_prev @ Wh + bh)[:, H : 2 * H])
    shapes = [(N, D), (N, H), (D, 3 * H), (H, 3 * H), b.shape]
    caught = []
    base = once(lambda: passes(check_gru_step_backward, student, student_forward, reset_after, N, D, H,
                               np.float64, seed, 1.0))
    probes = [(one, f"with dh_next zero except at hidden unit {H - 1}"), (full, "with dh_next random")]
    if not forward_right and part == "values":
        probes = probes[-1:]  # against numerical derivatives, the most general probe is enough
    for dh_next, probe in probes:
        cache = own_forward(student_forward, "gru_step_forward", args, GRU, reset_after=reset_after)[-1]
        got = None
        with values_charge(part, base):
            got = unpack(call(student, "gru_step_backward", copied(dh_next), cache, forbid=GRU, caught=caught),
                         "gru_step_backward", STEP_GRADS)
            if part == "values":
                _grad_shapes(got, shapes, dtype, reset_after)
        if got is None:
            return
        if part == "dtype" and forward_leaks_float64(out, dtype, "gru_step_forward", "gru_step_backward"):
            return
        if not _start_part(part, tuple(zip(STEP_GRADS, got)), dtype, "gru_step_backward", caught, base):
            return
        if not forward_right:
            if part != "values":
                continue
            upstream = dh_next

            def loss(*probe_args):
                h_ = call(student_forward, "gru_step_forward", *copied(probe_args), reset_after=reset_after,
                          forbid=GRU, caught=[])[0]
                return float(np.sum(h_ * upstream))

            blocks = {name: gate_blocks(3, H, GATES) for name in ("dWx", "dWh", "db")}
            directional_check(loss, [np.array(v) for v in args], got, STEP_GRADS, blocks, seed + 2,
                              f"{_forward_note('gru_step_forward', 'gru_step_backward')} "
                              f"(reset_after={reset_after}, {probe})")
            continue
        ref = rnnkit.gru_step_backward(dh_next, ref_cache)
        if not same(got[1], ref[1], dtype):
            flipped = ref[1] - dh_next * z + dh_next * (1 - z)
            if same(got[1], flipped, dtype):
                raise AssertionError(f"dh_prev is wrong {probe}: the direct path is dh_next * z "
                                     "(h_next = (1 - z) * n + z * h_prev), not dh_next * (1 - z)")
            if same(got[1], ref[1] - dh_next * z, dtype):
                raise AssertionError(f"dh_prev is wrong {probe}: the direct path dh_next * z (from the "
                                     "term z * h_prev of the update) is missing")
        _compare_grads(got, ref, f"reset_after={reset_after}, {probe}", dtype, ("N D", "N H"))
    _finish(part, "gru_step_backward", caught)


def check_gru_step_backward_inputs(student, student_forward, reset_after=False, N=2, D=3, H=4, seed=7):
    """gru_step_backward must leave dh_next as it was (it may take its cache apart)."""
    x, h_prev, Wx, Wh, b = random_gru(N, 1, D, H, np.float64, seed, 1.0, reset_after)
    cache = own_forward(student_forward, "gru_step_forward", (x[:, 0], h_prev, Wx, Wh, b), GRU,
                        reset_after=reset_after)[-1]
    dh = draw(np.random.default_rng(seed), (N, H), 1.0, np.float64)
    check_untouched(student, "gru_step_backward", (dh, cache), ("dh_next", "cache"), GRU, skip=("cache",))


# ---------------------------------------------------------------- gru_backward


def step_contributions(dh, x, h0, Wx, Wh, b, reset_after):
    """(dWx_t, dWh_t, db_t) of each step t alone, from rnnkit's public step functions."""
    N, T, _ = x.shape
    h, caches = h0, []
    for t in range(T):
        h, cache = rnnkit.gru_step_forward(x[:, t], h, Wx, Wh, b, reset_after=reset_after)
        caches.append(cache)
    carry = np.zeros_like(h0)
    out = [None] * T
    for t in range(T - 1, -1, -1):
        _, carry, gWx, gWh, gb = rnnkit.gru_step_backward(dh[:, t] + carry, caches[t])
        out[t] = (gWx, gWh, gb)
    return out


def check_gru_backward(student, student_forward, reset_after=False, N=3, T=5, D=4, H=6,
                       dtype=None, seed=0, scale=None, part="values", student_steps=None):
    """Check student(dh, cache), the cache from student_forward on the same inputs.

    With student_steps = (the student's gru_step_forward, gru_step_backward) given, a loop over
    the step backward is accepted too, and the dtype and extreme parts are not charged when the
    step backward fails its own.

    Probes: dh zero except at the last step, except at a middle step, then random. Against
    rnnkit when the student's forward agrees with it, else against numerical derivatives of
    the student's own forward. Every call gets a fresh cache.
    """
    dtype, scale = part_defaults(part, dtype, scale)
    x, h0, Wx, Wh, b = random_gru(N, T, D, H, dtype, seed, scale, reset_after)
    args = (x, h0, Wx, Wh, b)
    out = own_forward(student_forward, "gru_forward", args, GRU, reset_after=reset_after)
    ref_h, ref_cache = rnnkit.gru_forward(*args, reset_after=reset_after)
    forward_right = same(out[0], ref_h, dtype)
    if part != "values" and forward_right:
        # saturated gates can hide a wrong forward: judge it at scale 1
        plain = random_gru(N, T, D, H, np.float64, seed, 1.0, reset_after)
        forward_right = same(own_forward(student_forward, "gru_forward", plain, GRU, reset_after=reset_after)[0],
                             rnnkit.gru_forward(*plain, reset_after=reset_after)[0], np.float64)
    rng = np.random.default_rng(seed + 1)
    full = draw(rng, (N, T, H), 1.0, dtype)
    probes = []
    for t in sorted({T - 1, T // 2}):
        only = np.zeros_like(full)
        only[:, t] = full[:, t]
        probes.append((only, t, f"with dh zero except at time step {t}"))
    probes.append((full, None, "with dh random at every time step"))
    shapes = [(N, T, D), (N, H), (D, 3 * H), (H, 3 * H), b.shape]
    caught = []
    base = once(lambda: passes(check_gru_backward, student, student_forward, reset_after, N, T, D, H,
                               np.float64, seed, 1.0, student_steps=student_steps))
    step_forward, step_backward = student_steps or (None, None)
    if part != "values" and excused(check_gru_step_backward, step_backward,
                                    "(your gru_step_backward fails its own test of this part, and gru_backward calls "
                                    "it: the step's test charges it, so this part of gru_backward is not graded here)",
                                    step_backward, step_forward, reset_after, part=part):
        return
    if not forward_right and part == "values":
        probes = probes[-1:]  # against numerical derivatives, the most general probe is enough
    for dh, t_only, probe in probes:
        cache = own_forward(student_forward, "gru_forward", args, GRU, reset_after=reset_after)[-1]
        got = None
        with values_charge(part, base):
            got = unpack(call(student, "gru_backward", copied(dh), cache, forbid=GRU, caught=caught),
                         "gru_backward", STEP_GRADS)
        if got is None:
            return
        if part == "values" and step_backward is not None:
            loop = own_backward_loop(step_backward, own_forward(student_forward, "gru_forward", args, GRU,
                                                                reset_after=reset_after)[-1],
                                     dh, "gru_step_backward", GRU, carries_c=False)
            if loop is not None and all(same(g, l, dtype) for g, l in zip(got, loop)):
                continue  # the loop over the student's own step backward: right for this part
        if part == "values":
            _grad_shapes(got, shapes, dtype, reset_after)
        if part == "dtype" and forward_leaks_float64(out, dtype, "gru_forward", "gru_backward"):
            return
        if not _start_part(part, tuple(zip(STEP_GRADS, got)), dtype, "gru_backward", caught, base):
            return
        if step_backward is not None:
            loop = own_backward_loop(step_backward, own_forward(student_forward, "gru_forward", args, GRU,
                                                                reset_after=reset_after)[-1],
                                     dh, "gru_step_backward", GRU, carries_c=False)
            if loop is not None and all(same(g, l, dtype) for g, l in zip(got, loop)):
                continue  # the loop over the student's own step backward: right for this part
        if not forward_right:
            if part != "values":
                continue
            upstream = dh

            def loss(*probe_args):
                h_ = call(student_forward, "gru_forward", *copied(probe_args), reset_after=reset_after,
                          forbid=GRU, caught=[])[0]
                return float(np.sum(h_ * upstream))

            blocks = {name: gate_blocks(3, H, GATES) for name in ("dWx", "dWh", "db")}
            directional_check(loss, [np.array(v) for v in args], got, STEP_GRADS, blocks, seed + 2,
                              f"{_forward_note('gru_forward', 'gru_backward')} (reset_after={reset_after}, "
                              f"{probe})")
            continue
        ref = rnnkit.gru_backward(dh, ref_cache)
        dx = got[0]
        if not same(dx, ref[0], dtype) and all(not np.any(g) for g in got):
            raise AssertionError(
                f"every gradient gru_backward returned is zero {probe}: step t receives dh[:, t], the "
                "gradient of its own output, plus the dh_prev of step t+1; it looks as if dh[:, t] is "
                "never added")
        if t_only is not None and not same(dx, ref[0], dtype):
            later = np.abs(dx[:, t_only + 1 :]).max() if t_only + 1 < T else 0.0
            if later > 0:
                raise AssertionError(
                    f"dx is wrong {probe}: dx is not zero after step {t_only}, but step {t_only} cannot "
                    "depend on later inputs; the gradient must go backwards in time, from t+1 to t")
            if np.abs(dx[:, t_only]).max() == 0:
                raise AssertionError(
                    f"dx is wrong {probe}: dx is zero at step {t_only} itself, so dh[:, {t_only}] does not "
                    f"reach step {t_only}; step t receives dh[:, t] + the dh_prev of step t+1")
            if t_only and np.abs(dx[:, :t_only]).max() == 0:
                raise AssertionError(
                    f"dx is wrong {probe}: dx is zero before step {t_only}, so the gradient is not "
                    "carried from t+1 to t; add dh_prev of step t+1 to dh[:, t]")
        bad_t = None
        if dx.shape == ref[0].shape:
            bad_t = next((t for t in range(T - 1, -1, -1) if not same(dx[:, t], ref[0][:, t], dtype)), None)
        hint = None
        if bad_t is not None and bad_t < T - 1 and (t_only is None or bad_t < t_only):
            hint = (f"{probe} the last steps are right and step {bad_t} is not: what is carried from "
                    f"step {bad_t + 1} back to step {bad_t} is wrong")
        compare(dx, ref[0], "dx", "N T D", dtype=dtype, hint=hint)
        compare(got[1], ref[1], "dh0", "N H", dtype=dtype,
                hint=f"{probe}: dx is right, so dh0 should be the dh_prev of step 0")
        per_step = step_contributions(dh, *args, reset_after)
        for k, wname in ((2, "dWx"), (3, "dWh"), (4, "db")):
            g = got[k]
            if isinstance(g, np.ndarray) and not same(g, ref[k], dtype):
                for t in (0, T - 1):
                    if same(g, per_step[t][k - 2], dtype):
                        raise AssertionError(
                            f"{wname} is wrong {probe}: it holds the contribution of a single time step "
                            f"({t}); the weights are shared, so {wname} sums (+=) the contributions of every step")
        for k in (2, 3, 4):
            compare_blocks(got[k], ref[k], STEP_GRADS[k], GATES,
                           f"{probe}: dx and dh0 are right; {STEP_GRADS[k]} sums over the time steps "
                           "and the batch", dtype)
    _finish(part, "gru_backward", caught)


def check_gru_backward_inputs(student, student_forward, reset_after=False, N=2, T=3, D=3, H=4, seed=8,
                              student_steps=None):
    """gru_backward must leave dh as it was (it may take its cache apart); not charged when the
    student's gru_step_backward (student_steps = (step forward, step backward)) changes its own."""
    if student_steps is not None and excused(
            check_gru_step_backward_inputs, student_steps[1],
            "(your gru_step_backward changes its arguments in place, and gru_backward calls it: the step's test "
            "charges it, so gru_backward's arguments are not graded here)", student_steps[1], student_steps[0],
            reset_after):
        return
    x, h0, Wx, Wh, b = random_gru(N, T, D, H, np.float64, seed, 1.0, reset_after)
    cache = own_forward(student_forward, "gru_forward", (x, h0, Wx, Wh, b), GRU, reset_after=reset_after)[-1]
    dh = draw(np.random.default_rng(seed), (N, T, H), 1.0, np.float64)
    check_untouched(student, "gru_backward", (dh, cache), ("dh", "cache"), GRU, skip=("cache",))
