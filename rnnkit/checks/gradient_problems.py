"""Checks for notebook 03-gradient-problems: clip_grad_norm and gradient_norm_by_lag.

As in :mod:`rnnkit.checks.bptt`, each check runs the student's function with rnnkit's own
implementation trapped, compares the result with a reference built on rnnkit, and when
they differ compares it with what each usual mistake produces, to name the mistake. Each
exercise is graded by requirement: the values in one grade cell, the inputs (and, for
clip_grad_norm, the dtype) in another.
"""
import numpy as np

import rnnkit
from . import assert_inputs_unchanged, copies, dtype_note, invoke, plain, size_text
from ..testing import assert_shape
from .bptt import random_rnn, tolerances

# ---------------------------------------------------------------- gradient_norm_by_lag

FORBID_LAG = ("rnn_backward", "rnn_step_backward")

# The rnnkit functions that answer this notebook's exercises: an answer may not call them
# (the checks trap them; the instructor's scan looks for these, and only these). The
# forward functions are the student's to use in gradient_norm_by_lag, as the notebook says.
REFERENCE = FORBID_LAG + ("clip_grad_norm", "clip_grad_value")


def _states(x, h0, Wx, Wh, b):
    """The step caches of rnnkit.rnn_step_forward over the sequence."""
    caches, h = [], h0
    for t in range(x.shape[1]):
        h, cache = rnnkit.rnn_step_forward(x[:, t], h, Wx, Wh, b)
        caches.append(cache)
    return caches


def reference_gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    """norms[k] = ||dL/dh[:, T-1-k]|| (Frobenius over the batch) for L = sum(h[:, T-1] * dh_last).

    The gradient is carried back with rnnkit.rnn_step_backward; float64 result.
    """
    caches = _states(x, h0, Wx, Wh, b)
    T = x.shape[1]
    norms = np.empty(T)
    g = dh_last
    for k in range(T):
        norms[k] = np.linalg.norm(g)
        g = rnnkit.rnn_step_backward(g, caches[T - 1 - k])[1]
    return norms


def _lag_variants(x, h0, Wx, Wh, b, dh_last, ref):
    """(norms, explanation) of the usual mistakes."""
    caches = _states(x, h0, Wx, Wh, b)
    T = x.shape[1]

    def carried(step, record_after=False, norm=np.linalg.norm, start=dh_last):
        out, g = np.empty(T), start
        for k in range(T):
            _, h_prev, _, _, h = caches[T - 1 - k]
            if not record_after:
                out[k] = norm(g)
            g = step(g, h, h_prev)
            if record_after:
                out[k] = norm(g)
        return out

    right = lambda g, h, hp: (g * (1 - h * h)) @ Wh.T  # noqa: E731
    return [
        (carried(lambda g, h, hp: g @ Wh.T),
         "the derivative of tanh is missing: each step back multiplies by diag(1 - h_t**2) "
         "before Wh.T, dh_(t-1) = (dh_t * (1 - h_t**2)) @ Wh.T"),
        (carried(lambda g, h, hp: (g * (1 - h * h)) @ Wh),
         "Wh is not transposed: the state enters as h_(t-1) @ Wh, so dh_(t-1) = da_t @ Wh.T"),
        (carried(lambda g, h, hp: (g * (1 - hp * hp)) @ Wh.T),
         "the derivative is taken at h_(t-1); the step from h_t back to h_(t-1) multiplies by "
         "1 - h_t**2, the derivative at the step's own output"),
        (ref[::-1], "the lags are in reverse order: norms[0] belongs to the last state (lag 0), "
                    "norms[T-1] to the first"),
        (carried(right, record_after=True),
         "the norms are one step late: norms[0] is the norm of dh_last itself (lag 0), recorded "
         "before the first step back"),
        (carried(right, norm=lambda g: np.linalg.norm(g, axis=1).mean()),
         "it averages the norms of the batch rows; use the Frobenius norm of the whole (N, H) "
         "gradient, np.linalg.norm(dh)"),
        (carried(right, norm=lambda g: float(np.sum(g * g))),
         "these are squared norms: take the square root, np.linalg.norm(dh)"),
        (carried(right, start=np.ones_like(dh_last)),
         "dh_last is ignored: the gradient placed on the last state is dh_last, not ones"),
        (ref / ref[0], "the norms are divided by the norm at lag 0; return the norms themselves"),
    ]


LAG_ARGS = ("x", "h0", "Wx", "Wh", "b", "dh_last")
LAG_SIZES = [(3, 6, 4, 5), (1, 4, 2, 3), (3, 1, 2, 3), (3, 4, 1, 2), (3, 4, 2, 1), (1, 1, 1, 1)]
KEEPS_LAG_SIZES = [(3, 4, 2, 3), (2, 5, 3, 2)]  # no 1: a shape bug costs the values test only
LAG_WARNS = ("carrying a gradient back needs no exp or division: dh_(t-1) = (dh_t * (1 - h_t**2)) @ Wh.T, "
             "and np.linalg.norm of each")


def lag_case(N, T, D, H, dtype=np.float64, seed=0, scale=1.0):
    x, h0, Wx, Wh, b = random_rnn(N, T, D, H, dtype, seed, scale)
    dh_last = np.random.default_rng(seed + 1).standard_normal((N, H)).astype(dtype)
    return x, h0, Wx, Wh, b, dh_last


def check_gradient_norm_by_lag(student, N=3, T=6, D=4, H=5, dtype=np.float64, seed=0, scale=1.0):
    """Compare student(x, h0, Wx, Wh, b, dh_last) with the reference built on rnnkit."""
    x, h0, Wx, Wh, b, dh_last = lag_case(N, T, D, H, dtype, seed, scale)
    norms, _ = invoke(student, "gradient_norm_by_lag", copies((x, h0, Wx, Wh, b, dh_last)), forbid=FORBID_LAG,
                      on_warning=LAG_WARNS, dtype=dtype, sizes=size_text(N=N, T=T, D=D, H=H))
    norms = np.asarray(norms) if isinstance(norms, (list, tuple)) else norms
    if not isinstance(norms, np.ndarray):
        raise AssertionError(f"gradient_norm_by_lag should return a NumPy array of T = {T} norms, "
                             f"got {type(norms).__name__}")
    if norms.shape == (N, T) or norms.shape == (T, N):
        raise AssertionError(f"norms has shape {plain(norms.shape)}, expected ({T},): one norm per lag, "
                             "taken over the whole (N, H) gradient, not one per batch row")
    if norms.shape == (T + 1,):
        raise AssertionError(f"norms has shape {plain(norms.shape)}, expected ({T},): one norm per hidden "
                             "state h[:, t]; the initial state h0 is not included")
    assert_shape(norms, (T,), "norms")
    ref = reference_gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last)
    rtol, atol = tolerances(dtype)
    rtol = max(rtol, 10 * rtol * T)  # T multiplications in float32 accumulate rounding
    if np.allclose(norms, ref, rtol=rtol, atol=atol * ref[0]):
        return
    variants = _lag_variants(x, h0, Wx, Wh, b, dh_last, ref)
    for wrong, explanation in variants:
        if np.allclose(norms, wrong, rtol=rtol, atol=atol * ref[0]):
            raise AssertionError(f"norms is wrong: {explanation}")
    bad = np.flatnonzero(~np.isclose(norms, ref, rtol=rtol, atol=atol * ref[0]))
    k = int(bad[0])
    if k == 0:
        raise AssertionError(
            f"norms[0] is {plain(norms[0])}, expected {plain(ref[0])}: at lag 0 the gradient is dh_last "
            "itself, so norms[0] = np.linalg.norm(dh_last)")
    raise AssertionError(
        f"norms{dtype_note(dtype)} differs from the reference at lag {k} (got {plain(norms[k])}, expected "
        f"{plain(ref[k])}); "
        f"lags 0 to {k - 1} agree, so the step back from h[:, {T - k}] to h[:, {T - 1 - k}] is wrong: "
        "dh_(t-1) = (dh_t * (1 - h_t**2)) @ Wh.T")


def check_gradient_norm_by_lag_keeps(student, N=3, T=4, D=2, H=3):
    """x, h0, Wx, Wh, b and dh_last unchanged, with float64 and float32 inputs."""
    for dtype in (np.float64, np.float32):
        args = lag_case(N, T, D, H, dtype, seed=4)
        passed = copies(args)
        invoke(student, "gradient_norm_by_lag", passed, forbid=FORBID_LAG)
        assert_inputs_unchanged("gradient_norm_by_lag", LAG_ARGS, args, passed,
                                hint="dh = dh_last shares dh_last's memory, so dh *= ... changes the caller's "
                                     "array: carry the gradient back into new arrays, dh = (dh * ...) @ Wh.T")


# ---------------------------------------------------------------- clip_grad_norm


def _grads(sizes, dtype, seed, scale):
    rng = np.random.default_rng(seed)
    return {name: (scale * rng.standard_normal(shape)).astype(dtype) for name, shape in sizes.items()}


def check_clip_grad_norm(student, max_norm, sizes=None, dtype=np.float64, seed=0, scale=1.0, grads=None):
    """Run student(grads, max_norm) on a dict of arrays and compare with rnnkit.clip_grad_norm.

    The arrays must be scaled in place (the arrays the caller holds see the clipped values),
    the total norm before clipping returned. ``grads`` given: used as they are (for the
    cases with inf or NaN).
    """
    if grads is None:
        sizes = sizes or {"Wx": (3, 4), "Wh": (4, 4), "b": (4,)}
        grads = _grads(sizes, dtype, seed, scale)
    originals = {k: g for k, g in grads.items()}
    before = {k: g.copy() for k, g in grads.items()}
    expected = {k: g.copy() for k, g in grads.items()}
    ref_total = rnnkit.clip_grad_norm(expected, max_norm)
    total, caught = invoke(student, "clip_grad_norm", (grads, max_norm), forbid=("clip_grad_norm", "clip_grad_value"))
    if caught:
        w = caught[0]
        if not np.isfinite(ref_total):
            why = (f"here a gradient holds inf or NaN, so the global norm is {plain(ref_total)}; scaling by "
                   "max_norm / total then multiplies inf by 0. When the norm is not finite, leave the gradients "
                   "unchanged (scaling would hide the problem) and return the norm")
        else:
            why = ("the global norm is the square root of the sum of g**2 over every array; scale by "
                   "max_norm / total only when total > max_norm")
        raise AssertionError(f"clip_grad_norm warns{dtype_note(dtype)}: {why} (the warning: "
                             f"{w.category.__name__}: {w.message}; a graded cell that writes a warning to stderr "
                             "scores zero)")
    rtol, atol = tolerances(dtype)

    norms = {k: float(np.linalg.norm(g)) for k, g in before.items()}
    if set(grads) != set(before):
        raise AssertionError(f"clip_grad_norm changed the keys of grads: {sorted(before)} became {sorted(grads)}")

    # the returned total
    if total is None or np.ndim(total) != 0:
        raise AssertionError(f"clip_grad_norm should return the total norm before clipping (one number), "
                             f"got {type(total).__name__}")
    total = float(total)
    if not (np.isclose(total, ref_total, rtol=rtol) or (np.isnan(total) and np.isnan(ref_total))
            or (np.isinf(total) and total == ref_total)):
        wrong_totals = [
            (min(ref_total, max_norm), "the norm after clipping; return the global norm before clipping"),
            (sum(norms.values()), "the sum of the arrays' norms; the global norm is the square root of "
                                  "the sum of the squares of every entry of every array"),
            (max(norms.values()), "the largest of the arrays' norms; the global norm takes all arrays together"),
            (ref_total ** 2, "the squared norm; take the square root"),
            (sum(float(np.abs(g).sum()) for g in before.values()), "the L1 norm (sum of absolute values); "
                                                                   "use the L2 norm"),
        ]
        for wrong, explanation in wrong_totals:
            if np.isclose(total, wrong, rtol=rtol):
                raise AssertionError(f"clip_grad_norm returned {plain(total)}, expected {plain(ref_total)}: "
                                     f"it is {explanation}")
        raise AssertionError(f"clip_grad_norm returned {plain(total)}, expected the global norm before "
                             f"clipping, {plain(ref_total)} = sqrt(sum of g**2 over every array)")

    # the clipped arrays
    def values_match(candidate):
        return all(np.allclose(grads[k], candidate[k], rtol=rtol, atol=atol, equal_nan=True) for k in grads)

    if not values_match(expected):
        clipped_alone = {k: g * min(1.0, max_norm / max(norms[k], 1e-300)) for k, g in before.items()}
        variants = [
            (before, f"the gradients are unchanged although their global norm {ref_total:.4g} exceeds "
                     f"max_norm = {max_norm:g}: scale each array in place, g *= max_norm / total "
                     "(g = g * scale only rebinds a name)" if ref_total > max_norm else
                     "the gradients are unchanged"),
            (clipped_alone, "each array is clipped to max_norm on its own; clip by the global norm of "
                            "all arrays together, so their directions relative to each other are kept"),
            ({k: g * (max_norm / ref_total) for k, g in before.items()},
             f"the gradients are scaled up to max_norm although their norm {ref_total:.4g} is below it; "
             "clip only when the norm exceeds max_norm"),
            ({k: g * (ref_total / max_norm) for k, g in before.items()},
             "the scale is inverted: multiply by max_norm / total, not total / max_norm"),
            ({k: np.clip(g, -max_norm, max_norm) for k, g in before.items()},
             "this clips every entry to [-max_norm, max_norm] (clipping by value); clip_grad_norm "
             "rescales the whole set of arrays"),
            ({k: np.zeros_like(g) for k, g in before.items()},
             "the gradients were set to zero" + (
                 f": their norm is {plain(ref_total)}, and scaling by max_norm / {plain(ref_total)} wipes them out; "
                 "leave them unchanged when the norm is not finite" if not np.isfinite(ref_total) else "")),
        ]
        for candidate, explanation in variants:
            if values_match(candidate):
                raise AssertionError(f"grads are wrong after clip_grad_norm: {explanation}")
        for k in grads:
            if not np.allclose(grads[k], expected[k], rtol=rtol, atol=atol, equal_nan=True):
                if not np.isfinite(ref_total) and not np.array_equal(grads[k], before[k], equal_nan=True):
                    raise AssertionError(
                        f"grads[{k!r}] changed although the global norm is {plain(ref_total)}: when the norm "
                        "is not finite, leave the gradients unchanged (scaling would hide the problem)")
                i = tuple(int(j) for j in np.argwhere(~np.isclose(grads[k], expected[k], rtol=rtol, atol=atol))[0])
                raise AssertionError(
                    f"grads[{k!r}] at index {plain(i)} is {plain(grads[k][i])} after clipping, expected "
                    f"{plain(expected[k][i])}: every array is multiplied by max_norm / total when "
                    "total > max_norm")
    for k in grads:
        held = originals[k]
        if not np.allclose(held, expected[k], rtol=rtol, atol=atol, equal_nan=True):
            raise AssertionError(
                f"grads[{k!r}] is a new array: the dict holds the clipped values, but the array the caller "
                "passed in does not. Scale the arrays in place (g *= scale), so that the optimiser, which holds "
                "the very same arrays, sees the clipped values")
        if grads[k].dtype != before[k].dtype:
            raise AssertionError(f"grads[{k!r}] changed dtype from {before[k].dtype} to {grads[k].dtype}: scale "
                                 "in place, g *= scale, which keeps the dtype")
