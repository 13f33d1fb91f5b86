"""Checks for notebook 05-gru: gru_step_forward, gru_forward, gru_step_backward, gru_backward.

The same approach as :mod:`rnnkit.checks.lstm`: compare with rnnkit, then name the
mistake whose result matches (z on the wrong side of the update, the reset gate placed
before the recurrent product when it belongs after, or the reverse, gate blocks read in
another order, ...), or find the faulty term by zeroing every input but one. Every check
runs for either placement of the reset gate (``reset_after``).
"""
import itertools

import numpy as np

import rnnkit
from .lstm import call, compare, compare_blocks, draw, same, unpack
from ..testing import assert_shape

GRU = ("gru_step_forward", "gru_forward", "gru_step_backward", "gru_backward")
GATES = ("reset gate r", "update gate z", "candidate n")


def random_gru(N, T, D, H, dtype=np.float64, seed=0, scale=1.0, reset_after=False):
    """x (N, T, D), h0 (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,) or (2, 3H) with reset_after."""
    rng = np.random.default_rng(seed)
    b_shape = (2, 3 * H) if reset_after else (3 * H,)
    return (draw(rng, (N, T, D), 1.0, dtype), draw(rng, (N, H), 0.5, dtype),
            draw(rng, (D, 3 * H), scale / np.sqrt(D), dtype), draw(rng, (H, 3 * H), scale / np.sqrt(H), dtype),
            draw(rng, b_shape, 0.5 * scale, dtype))


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
        probe = list(args)
        probe[k] = np.zeros_like(args[k])
        try:
            got = call(student, "", *probe, reset_after=reset_after, forbid=GRU)
        except AssertionError:
            continue
        if same(got[0], ref_fn(*probe, reset_after=reset_after)[0], dtype):
            return (f"Setting {name} to zero makes your result agree with the reference, "
                    f"so the term that involves {name} is the faulty one.")
    return ""


# ---------------------------------------------------------------- gru_step_forward


def check_gru_step_forward(student, reset_after=False, N=3, D=4, H=5, dtype=np.float64, seed=0, scale=1.0):
    """Compare student(x, h_prev, Wx, Wh, b, reset_after) with rnnkit on one step."""
    x, h_prev, Wx, Wh, b = random_gru(N, 1, D, H, dtype, seed, scale, reset_after)
    args = (x[:, 0], h_prev, Wx, Wh, b)
    got = unpack(call(student, "gru_step_forward", *args, reset_after=reset_after, forbid=GRU),
                 "gru_step_forward", ("h_next", "cache"))[0]
    ref = rnnkit.gru_step_forward(*args, reset_after=reset_after)[0]
    where = ""
    if not same(got, ref, dtype):
        where = _locate(student, args, ("x", "h_prev", "Wx", "Wh", "b"), rnnkit.gru_step_forward,
                        dtype, reset_after)
    compare(got, ref, f"h_next (reset_after={reset_after})", "N H", dtype=dtype,
            mistakes=step_mistakes(*args, reset_after),
            hint=where or "expected h_next = (1 - z) * n + z * h_prev")


# ---------------------------------------------------------------- gru_forward


def check_gru_forward(student, reset_after=False, N=3, T=4, D=4, H=5, dtype=np.float64, seed=0, scale=1.0):
    """Compare student(x, h0, Wx, Wh, b, reset_after) with rnnkit over a sequence."""
    x, h0, Wx, Wh, b = random_gru(N, T, D, H, dtype, seed, scale, reset_after)
    try:
        got = call(student, "gru_forward", x, h0, Wx, Wh, b, reset_after=reset_after, forbid=GRU)
    except AssertionError as exc:
        if reset_after and " raised " in str(exc):
            raise AssertionError(f"{exc}. With reset_after=True, b has shape (2, 3H): does gru_forward pass "
                                 "reset_after on to gru_step_forward?") from exc
        raise
    got = unpack(got, "gru_forward", ("h", "cache"))[0]
    ref = rnnkit.gru_forward(x, h0, Wx, Wh, b, reset_after=reset_after)[0]
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
    compare(got, ref, f"h (reset_after={reset_after})", "N T H", dtype=dtype, mistakes=mistakes, hint=hint)


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


def _cache_from(student_forward, name, args, reset_after):
    out = call(student_forward, name, *args, reset_after=reset_after, forbid=GRU)
    if not isinstance(out, tuple) or len(out) < 2:
        raise AssertionError(f"{name} must return its cache as the last item; check {name} first")
    return out[-1]


def _compare_grads(got, ref, probe, dtype, axes):
    for k, name in enumerate(STEP_GRADS):
        if not isinstance(got[k], np.ndarray):
            raise AssertionError(f"{name} should be a NumPy array, but it is {type(got[k]).__name__}")
    for k, name in enumerate(STEP_GRADS):
        if k >= 2:
            compare_blocks(got[k], ref[k], name, GATES, f"{probe}: {HINTS[name]}", dtype)
        else:
            compare(got[k], ref[k], name, axes[k], dtype=dtype, hint=f"{probe}: {HINTS[name]}")


def check_gru_step_backward(student, student_forward, reset_after=False, N=3, D=4, H=5,
                            dtype=np.float64, seed=0, scale=1.0):
    """Compare student(dh_next, cache) with rnnkit, cache from student_forward.

    Probes: dh_next with one hidden unit nonzero, then random.
    """
    x, h_prev, Wx, Wh, b = random_gru(N, 1, D, H, dtype, seed, scale, reset_after)
    args = (x[:, 0], h_prev, Wx, Wh, b)
    cache = _cache_from(student_forward, "gru_step_forward", args, reset_after)
    ref_cache = rnnkit.gru_step_forward(*args, reset_after=reset_after)[1]
    rng = np.random.default_rng(seed + 1)
    full = draw(rng, (N, H), 1.0, dtype)
    one = np.zeros_like(full)
    one[:, H - 1] = full[:, H - 1]
    bx, bh = (b[0], b[1]) if reset_after else (b, 0.0)
    z = rnnkit.sigmoid((args[0] @ Wx + bx + h_prev @ Wh + bh)[:, H : 2 * H])
    for dh_next, probe in ((one, f"with dh_next zero except at hidden unit {H - 1}"),
                           (full, "with dh_next random")):
        got = unpack(call(student, "gru_step_backward", dh_next, cache, forbid=GRU),
                     "gru_step_backward", STEP_GRADS)
        ref = rnnkit.gru_step_backward(dh_next, ref_cache)
        if isinstance(got[1], np.ndarray) and not same(got[1], ref[1], dtype):
            flipped = ref[1] - dh_next * z + dh_next * (1 - z)
            if same(got[1], flipped, dtype):
                raise AssertionError(f"dh_prev is wrong {probe}: the direct path is dh_next * z "
                                     "(h_next = (1 - z) * n + z * h_prev), not dh_next * (1 - z)")
            if same(got[1], ref[1] - dh_next * z, dtype):
                raise AssertionError(f"dh_prev is wrong {probe}: the direct path dh_next * z (from the "
                                     "term z * h_prev of the update) is missing")
        _compare_grads(got, ref, probe, dtype, ("N D", "N H"))
        if reset_after:
            assert_shape(got[4], (2, 3 * H), "db (reset_after=True, input and recurrent biases)")


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
                       dtype=np.float64, seed=0, scale=1.0):
    """Compare student(dh, cache) with rnnkit over a sequence, cache from student_forward.

    Probes: dh zero except at the last step, except at a middle step, then random.
    """
    x, h0, Wx, Wh, b = random_gru(N, T, D, H, dtype, seed, scale, reset_after)
    args = (x, h0, Wx, Wh, b)
    cache = _cache_from(student_forward, "gru_forward", args, reset_after)
    ref_cache = rnnkit.gru_forward(*args, reset_after=reset_after)[1]
    rng = np.random.default_rng(seed + 1)
    full = draw(rng, (N, T, H), 1.0, dtype)
    probes = []
    for t in sorted({T - 1, T // 2}):
        only = np.zeros_like(full)
        only[:, t] = full[:, t]
        probes.append((only, t, f"with dh zero except at time step {t}"))
    probes.append((full, None, "with dh random at every time step"))
    for dh, t_only, probe in probes:
        got = unpack(call(student, "gru_backward", dh, cache, forbid=GRU), "gru_backward", STEP_GRADS)
        ref = rnnkit.gru_backward(dh, ref_cache)
        for k, name in enumerate(STEP_GRADS):
            if not isinstance(got[k], np.ndarray):
                raise AssertionError(f"{name} should be a NumPy array, but it is {type(got[k]).__name__}")
        dx = got[0]
        assert_shape(dx, ref[0].shape, "dx")
        if t_only is not None and not same(dx, ref[0], dtype):
            later = np.abs(dx[:, t_only + 1 :]).max() if t_only + 1 < T else 0.0
            if later > 0:
                raise AssertionError(
                    f"dx is wrong {probe}: dx is not zero after step {t_only}, but step {t_only} cannot "
                    "depend on later inputs; the gradient must go backwards in time, from t+1 to t")
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
