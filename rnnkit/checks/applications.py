"""Checks for notebook 07-applications: sample_with_temperature, lm_train_step, make_windows.

Each check calls the student's function with rnnkit's own version trapped, compares the
result with a reference, and when they differ, compares it with what each usual mistake
would give, so that the message names the mistake rather than only the wrong number.

Each exercise is graded in parts, one grade cell each (see :mod:`rnnkit.checks.lstm`): its
values (float64), float32 inputs, and extreme inputs together with its arguments left as
they were. The student's function receives copies; expected values come from the check's
own arrays. Numbers in messages print plainly (0.435, never np.float64(0.435)).
"""
import math

import numpy as np

from .. import layers
from ..data import sliding_windows
from ..loss import temporal_softmax_loss
from ..lstm import lstm_backward, lstm_cell_state, lstm_forward
from ..sampling import temperature_probs
from ..testing import assert_close, assert_shape
from .lstm import call as _call
from .lstm import check_untouched, copied, passes, values_charge

# ---------------------------------------------------------------- calling the student


def call(fn, name, *args, forbid=(), caught=None, hint=None):
    """fn(*args) on copies of args, with rnnkit's ``forbid`` functions trapped.

    An exception raised by the student's code becomes an AssertionError naming the function;
    a warning fails with ``hint`` first (or is collected into ``caught``).
    """
    return _call(fn, name, *copied(args), forbid=forbid, caught=caught,
                 hint=hint or "subtract the largest logit of each row before exp, so that exp never overflows")


def plain(values, digits=3):
    """A list of numbers as plain text: [0.435, 1.0], never [np.float64(0.435), ...]."""
    return "[" + ", ".join(f"{float(v):.{digits}g}" for v in np.ravel(values)) + "]"


# ---------------------------------------------------------------- sample_with_temperature

def _float32_says_so(check):
    """Run check; with float32 logits only when the same check passes with float64 logits (a
    mistake of value costs the values' part alone), and then a failure says float32 first."""
    def run(fn, *args, dtype=np.float64, **kwargs):
        if np.dtype(dtype) == np.float32 and not passes(check, fn, *args, dtype=np.float64, **kwargs):
            return None
        try:
            return check(fn, *args, dtype=dtype, **kwargs)
        except AssertionError as exc:
            if np.dtype(dtype) == np.float32 and not str(exc).startswith("with float32"):
                raise AssertionError(f"with float32 logits: {exc}") from exc
            raise
    run.__doc__, run.__name__ = check.__doc__, check.__name__
    return run


_SAMPLING = ("sampling.sample_logits", "sampling.temperature_probs", "sampling.lstm_lm_generate")


GREEDY_HINT = ("temperature 0 means greedy decoding: return the argmax of each row before dividing by "
               "the temperature (logits / 0 divides by zero)")


def _draws(fn, logits, temperature, seed):
    hint = GREEDY_HINT if temperature == 0 else None
    out = call(fn, "sample_with_temperature", logits, temperature, np.random.default_rng(seed),
               forbid=_SAMPLING, hint=hint)
    out = np.asarray(out)
    assert_shape(out, (logits.shape[0],), "sample_with_temperature(logits, ...) for logits of shape "
                 f"({logits.shape[0]}, {logits.shape[1]})")
    if out.dtype.kind not in "iu":
        raise AssertionError(f"sample_with_temperature should return integer indices, got dtype {out.dtype}")
    if out.size and (out.min() < 0 or out.max() >= logits.shape[1]):
        raise AssertionError(
            f"sample_with_temperature returned index {int(out.max())}, outside [0, V) with V = {logits.shape[1]}")
    return out


@_float32_says_so
def check_sampling_shape(fn, N=3, V=5, dtype=np.float64, seed=0):
    """One integer index per row, for logits of the given dtype."""
    logits = np.random.default_rng(seed).normal(size=(N, V)).astype(dtype)
    _draws(fn, logits, 1.0, seed)


def check_sampling_inputs(fn, N=3, V=5, seed=6):
    """sample_with_temperature must leave the logits as they were (at every temperature)."""
    logits = np.random.default_rng(seed).normal(size=(N, V))
    for temperature in (0.0, 0.5, 1.0):
        check_untouched(fn, "sample_with_temperature", (logits, temperature, np.random.default_rng(seed)),
                        ("logits", "temperature", "rng"), _SAMPLING, skip=("rng",))


@_float32_says_so
def check_sampling_greedy(fn, N=4, V=6, dtype=np.float64, seed=1):
    """temperature 0 must return the argmax of every row."""
    logits = np.random.default_rng(seed).normal(size=(N, V)).astype(dtype) * 3
    got = _draws(fn, logits, 0.0, seed)
    want = logits.argmax(axis=1)
    if not np.array_equal(got, want):
        row = int(np.argmax(got != want))
        raise AssertionError(
            f"with temperature 0 the answer must be the argmax of each row (greedy decoding): "
            f"row {row} gave index {int(got[row])}, its largest logit is at {int(want[row])}")


def _frequencies(fn, logits_row, temperature, draws, seed):
    logits = np.tile(logits_row, (draws, 1))
    got = _draws(fn, logits, temperature, seed)
    return np.bincount(got, minlength=len(logits_row)) / draws


@_float32_says_so
def check_sampling_distribution(fn, temperature, logits_row=(2.0, 0.5, -1.0, 1.0), draws=20000, seed=2,
                                dtype=np.float64):
    """The frequencies of many draws must match softmax(logits / temperature)."""
    z = np.asarray(logits_row, dtype=dtype)
    freq = _frequencies(fn, z, temperature, draws, seed)
    want = temperature_probs(z.astype(np.float64), temperature)
    # 5 standard deviations of a frequency estimated from `draws` draws
    tol = 5 * np.sqrt(want * (1 - want) / draws) + 1e-3
    if np.all(np.abs(freq - want) <= tol):
        return
    candidates = {
        "the temperature multiplies the logits instead of dividing them":
            temperature_probs(z * temperature * temperature, temperature) if temperature > 0 else None,
        "the temperature is ignored (you sample from softmax(logits))": temperature_probs(z, 1.0),
        "every index is equally likely: the logits are not used": np.full(len(z), 1 / len(z)),
        "you always return the argmax: draw from the distribution when temperature > 0":
            temperature_probs(z, 0.0),
    }
    for mistake, p in candidates.items():
        if p is not None and np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / draws) + 1e-3):
            raise AssertionError(
                f"with temperature {temperature:g} and logits {plain(z)}, your frequencies "
                f"{plain(freq)} do not match softmax(logits / T) = {plain(want)}: "
                f"{mistake}")
    k = int(np.argmax(np.abs(freq - want)))
    raise AssertionError(
        f"with temperature {temperature:g} and logits {plain(z)}, index {k} was drawn with "
        f"frequency {freq[k]:.3f} over {draws} draws, but softmax(logits / T) gives it {want[k]:.3f}; "
        "draw each row from p = exp(z / T) / sum(exp(z / T))")


def check_sampling_rows_independent(fn, seed=3):
    """Each row is its own distribution: the softmax is over the vocabulary axis."""
    logits = np.array([[6.0, 0.0, 0.0], [0.0, 0.0, 6.0]])
    got = _draws(fn, np.repeat(logits, 500, axis=0), 1.0, seed)
    first, second = got[:500], got[500:]
    if (first == 0).mean() >= 0.9 and (second == 0).mean() >= 0.9:
        raise AssertionError(
            "rows with logits [6, 0, 0] and [0, 0, 6] should mostly draw index 0 and index 2, but the second "
            f"row drew index 0 {np.mean(second == 0):.0%} of the time, as the first row does: every row is "
            "drawn from the first row's distribution. Draw row n from its own probabilities p[n] (with "
            "rng.choice, call it once per row with p=p[n]; or compare one uniform number per row with "
            "that row's cumulative sum)")
    if (first == 0).mean() < 0.9 or (second == 2).mean() < 0.9:
        raise AssertionError(
            "rows with logits [6, 0, 0] and [0, 0, 6] should mostly draw index 0 and index 2, but drew "
            f"index 0 {np.mean(first == 0):.0%} and index 2 {np.mean(second == 2):.0%} of the time: "
            "normalise each row over the vocabulary (axis=-1), not over the batch")


def check_sampling_uses_rng(fn, N=50, V=8, seed=4):
    """The same generator state gives the same draws; another seed gives others."""
    logits = np.zeros((N, V))
    a = _draws(fn, logits, 1.0, seed)
    b = _draws(fn, logits, 1.0, seed)
    c = _draws(fn, logits, 1.0, seed + 1)
    if not np.array_equal(a, b):
        raise AssertionError(
            "two calls with generators built from the same seed gave different draws: draw with the "
            "rng argument (rng.random, rng.choice, ...), not with np.random")
    if np.array_equal(a, c):
        raise AssertionError(
            "generators with different seeds gave the same draws: the rng argument is not used")


@_float32_says_so
def check_sampling_large_logits(fn, dtype=np.float64, temperature=1.0):
    """No overflow and no warning: logits of 1000 are fine once the largest is subtracted.

    Graded once the draws at this temperature are right for ordinary logits: a mistake of
    value (the temperature used wrongly, say) costs the values' part alone."""
    if not passes(check_sampling_distribution, fn, temperature) or not passes(check_sampling_greedy, fn):
        return
    logits = np.array([[1000.0, 999.0, -1000.0]], dtype=dtype)
    freq = _frequencies(fn, logits[0], temperature, 4000, 5)
    want = temperature_probs(logits[0].astype(np.float64), temperature)
    if abs(freq[0] - want[0]) > 0.05 or freq[2] > 0:
        raise AssertionError(
            f"for logits [1000, 999, -1000] the probabilities are {plain(want)} but your "
            f"frequencies are {plain(freq)}: subtract the largest logit of each row "
            "before exp, or exp overflows")
    check_sampling_greedy(fn, dtype=dtype)


# ---------------------------------------------------------------- lm_train_step

PARAM_NAMES = ("W_embed", "Wx", "Wh", "b", "W_out", "b_out")


def init_lm_params(V, E, H, rng=0, dtype=np.float64, scale=0.5):
    """Small random parameters of the embedding -> LSTM -> affine model."""
    rng = np.random.default_rng(rng)
    shapes = {"W_embed": (V, E), "Wx": (E, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,),
              "W_out": (H, V), "b_out": (V,)}
    return {n: (scale * rng.normal(size=s)).astype(dtype) for n, s in shapes.items()}


def lm_loss_and_grads(params, x, y, state):
    """Reference forward and backward: (loss, grads, (h_T, c_T))."""
    p = params
    h0, c0 = state
    emb, emb_cache = layers.embedding_forward(x, p["W_embed"])
    h, cache = lstm_forward(emb, h0, p["Wx"], p["Wh"], p["b"], c0=c0)
    scores, out_cache = layers.temporal_affine_forward(h, p["W_out"], p["b_out"])
    loss, dscores = temporal_softmax_loss(scores, y)
    dh, dW_out, db_out = layers.temporal_affine_backward(dscores, out_cache)
    demb, _, dWx, dWh, db = lstm_backward(dh, cache)
    grads = {"W_embed": layers.embedding_backward(demb, emb_cache), "Wx": dWx, "Wh": dWh, "b": db,
             "W_out": dW_out, "b_out": db_out}
    return loss, grads, (h[:, -1].copy(), lstm_cell_state(cache)[:, -1].copy())


def reference_lm_train_step(params, x, y, state, lr, max_norm):
    """One SGD step with clipping by global norm; returns (loss, (h_T, c_T), norm before clipping)."""
    loss, grads, final = lm_loss_and_grads(params, x, y, state)
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    scale = max_norm / norm if norm > max_norm else 1.0
    for n in PARAM_NAMES:
        params[n] -= (lr * scale * grads[n]).astype(params[n].dtype)
    return loss, final, norm


def _lm_case(N, T, V, E, H, dtype, seed, state_scale=0.5):
    rng = np.random.default_rng(seed)
    params = init_lm_params(V, E, H, rng, dtype)
    x = rng.integers(0, V, size=(N, T))
    y = rng.integers(0, V, size=(N, T))
    state = tuple((state_scale * rng.normal(size=(N, H))).astype(dtype) for _ in range(2))
    return params, x, y, state


def _copy(params):
    return {n: p.copy() for n, p in params.items()}


LM_FORBID = ("clip_grad_norm", "global_norm", "clip_grad_value")
LM_EXTREME = ("with a large initial state (entries of about 30) and saturated gates",
              "keep to rnnkit's layers and np.sqrt, which stay finite and silent")


def check_lm_train_step(fn, N=2, T=4, V=5, E=3, H=4, dtype=None, seed=0, lr=0.5, max_norm=0.1,
                        state_scale=None, part="values"):
    """Compare loss, final state, returned norm and updated parameters with the reference.

    part: "values" (float64), "dtype" (float32 parameters and state: float32 results and
    parameters that stay float32) or "extreme" (a large initial state: no warning, finite;
    graded when the ordinary values of the same sizes are right).
    """
    if dtype is None:
        dtype = np.float32 if part == "dtype" else np.float64
    if state_scale is None:
        state_scale = 30.0 if part == "extreme" else 0.5
    f32 = np.dtype(dtype) == np.float32
    params, x, y, state = _lm_case(N, T, V, E, H, dtype, seed, state_scale)
    mine = _copy(params)
    caught = []
    result = _call(fn, "lm_train_step", mine, x.copy(), y.copy(), copied(state), lr, max_norm,
                   forbid=LM_FORBID, caught=caught)
    if not isinstance(result, tuple) or len(result) != 3:
        raise AssertionError("lm_train_step should return a tuple (loss, (h_T, c_T), grad_norm)")
    loss, final, norm = result
    if not isinstance(final, tuple) or len(final) != 2:
        raise AssertionError("the second value returned should be the pair (h_T, c_T)")
    h_T, c_T = final
    where = " (float32 parameters and state)" if f32 else ""
    assert_shape(np.asarray(h_T), (N, H), "h_T" + where)
    assert_shape(np.asarray(c_T), (N, H), "c_T" + where)
    if part == "dtype":
        for name, arr in (("h_T", h_T), ("c_T", c_T)):
            if np.asarray(arr).dtype != np.dtype(dtype):
                raise AssertionError(
                    f"with float32 parameters and state lm_train_step returned {name} of dtype "
                    f"{np.asarray(arr).dtype}: keep the dtype of the state (float32 in, float32 out)")
        for n in PARAM_NAMES:
            if mine[n].dtype != params[n].dtype:
                raise AssertionError(f"params[{n!r}] changed dtype from {params[n].dtype} to {mine[n].dtype}: "
                                     "update the arrays in place (params[name] -= ...), which keeps their dtype")
        if not passes(check_lm_train_step, fn, N, T, V, E, H, np.float64, seed, lr, max_norm, 0.5):
            return
    if part == "extreme":
        # stability alone (as in rnnkit.checks.lstm): the values at extreme inputs are not compared
        if not passes(check_lm_train_step, fn, N, T, V, E, H, np.float64, seed, lr, max_norm, 0.5):
            return
        for name, arr in (("loss", np.asarray(loss, dtype=float)), ("h_T", np.asarray(h_T)),
                          ("c_T", np.asarray(c_T)), ("grad_norm", np.asarray(norm, dtype=float))):
            if not np.isfinite(arr).all():
                raise AssertionError(f"{name} contains inf or NaN {LM_EXTREME[0]}: {LM_EXTREME[1]}")
        _report(caught, part)
        return
    ref = _copy(params)
    r_loss, (r_h, r_c), r_norm = reference_lm_train_step(ref, x, y, state, lr, max_norm)
    rtol, atol = (2e-4, 2e-6) if f32 else (1e-6, 1e-9)
    # the loss says whether the forward pass read the initial state
    if not np.isclose(float(loss), r_loss, rtol=rtol, atol=atol):
        h0, c0 = state
        zero = np.zeros_like
        for probe, message in (
                ((zero(h0), zero(c0)), "it equals the loss from a zero initial state: pass state = (h0, c0) to "
                                       "the LSTM, so that each batch continues where the last ended"),
                ((h0, zero(c0)), "it equals the loss with c0 replaced by zeros: the initial cell state is not "
                                 "used; pass it on, rnnkit.lstm_forward(..., c0=c0)"),
                ((zero(h0), c0), "it equals the loss with h0 replaced by zeros: the initial hidden state is not "
                                 "used; pass h0 to rnnkit.lstm_forward")):
            if np.isclose(float(loss), lm_loss_and_grads(params, x, y, probe)[0], rtol=rtol, atol=atol):
                raise AssertionError(f"loss is {float(loss):.6g}{where}, expected {r_loss:.6g}; {message}")
        raise AssertionError(f"loss is {float(loss):.6g}{where}, expected {r_loss:.6g} (the mean cross-entropy "
                             "in nats of the scores of temporal_affine_forward against y)")
    if not np.allclose(h_T, r_h, rtol=rtol, atol=atol):
        h_all = lstm_forward(layers.embedding_forward(x, params["W_embed"])[0], state[0], params["Wx"],
                             params["Wh"], params["b"], c0=state[1])[0]
        if np.allclose(h_T, h_all[:, 0], rtol=rtol, atol=atol):
            raise AssertionError("h_T is the hidden state after the first time step; return the one "
                                 "after the last (h[:, -1]), which the next batch starts from")
        assert_close(np.asarray(h_T), r_h, "h_T" + where, axes="N H", rtol=rtol, atol=atol,
                     hint="return the hidden state after the last time step")
    if not np.allclose(c_T, r_c, rtol=rtol, atol=atol):
        if np.allclose(c_T, state[1], rtol=rtol, atol=atol):
            raise AssertionError("c_T equals the c0 you were given: return the cell state after the last step")
        assert_close(np.asarray(c_T), r_c, "c_T" + where, axes="N H", rtol=rtol, atol=atol,
                     hint="the cell state after the last step is in the LSTM cache "
                          "(rnnkit.lstm.lstm_cell_state(cache)[:, -1])")
    if not np.isclose(float(norm), r_norm, rtol=1e-4):
        _, grads, _ = lm_loss_and_grads(params, x, y, state)
        if np.isclose(float(norm), min(r_norm, max_norm), rtol=1e-4):
            raise AssertionError(
                f"grad_norm is {float(norm):.6g}, the norm after clipping; return the global norm before "
                f"clipping ({r_norm:.6g}), which tells how large the raw gradient was")
        if any(np.isclose(float(norm), np.linalg.norm(g), rtol=1e-4) for g in grads.values()):
            raise AssertionError(
                f"grad_norm is {float(norm):.6g}, the norm of one parameter's gradient; the global norm "
                f"is sqrt of the sum of squares over every parameter ({r_norm:.6g})")
        raise AssertionError(f"grad_norm is {float(norm):.6g}{where}, expected the global norm {r_norm:.6g}")
    _check_update(mine, ref, params, x, y, state, lr, max_norm, r_norm, rtol, atol)
    _report(caught, part)


def _report(caught, part):
    if caught:
        w = caught[0]
        context = LM_EXTREME[0] + ": " if part == "extreme" else ""
        raise AssertionError(f"lm_train_step issued a warning: {context}{LM_EXTREME[1]} "
                             f"({w.category.__name__}: {w.message}; a correct answer computes without warnings)")


def check_lm_train_step_inputs(fn, N=2, T=3, V=5, E=3, H=4, seed=7):
    """lm_train_step updates params in place, and must leave x, y and the state as they were."""
    params, x, y, state = _lm_case(N, T, V, E, H, np.float64, seed)
    check_untouched(fn, "lm_train_step", (params, x, y, state, 0.1, 1.0),
                    ("params", "x", "y", "state", "lr", "max_norm"), LM_FORBID, skip=("params",))


def _check_update(mine, ref, params, x, y, state, lr, max_norm, r_norm, rtol, atol):
    if all(np.allclose(mine[n], ref[n], rtol=rtol, atol=atol) for n in PARAM_NAMES):
        return
    if all(np.array_equal(mine[n], params[n]) for n in PARAM_NAMES):
        raise AssertionError("no parameter changed: update the arrays of params in place (params[name] -= ...)")
    _, grads, _ = lm_loss_and_grads(params, x, y, state)
    step = {n: params[n] - mine[n] for n in PARAM_NAMES}  # what the student subtracted

    def matches(delta):
        return all(np.allclose(step[n], delta[n], rtol=1e-4, atol=atol * 10) for n in PARAM_NAMES)

    scale = max_norm / r_norm if r_norm > max_norm else 1.0
    hints = [
        ({n: -lr * scale * g for n, g in grads.items()},
         "the parameters moved up the gradient: subtract lr * gradient to go downhill"),
        ({n: lr * g for n, g in grads.items()},
         f"the gradient was not clipped: its global norm {r_norm:.4g} exceeds max_norm = {max_norm}, "
         "so scale every gradient by max_norm / norm before the step"),
        ({n: lr * g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-300)) for n, g in grads.items()},
         "each gradient was clipped by its own norm; clip by the global norm over all parameters "
         "together, so that the direction of the step is kept"),
        ({n: lr * g * max_norm / r_norm for n, g in grads.items()},
         f"every gradient was scaled to norm max_norm = {max_norm} although its norm {r_norm:.4g} is "
         "smaller: clip only when the norm exceeds max_norm"),
        ({n: scale * g for n, g in grads.items()},
         "the step is missing the learning rate lr"),
        ({n: lr * np.clip(g, -max_norm, max_norm) for n, g in grads.items()},
         "each entry was clipped to [-max_norm, max_norm] (clipping by value); clip by the global norm"),
    ]
    for delta, message in hints:
        if matches(delta):
            raise AssertionError(message)
    for n in PARAM_NAMES:
        assert_close(mine[n], ref[n], f"params[{n!r}] after the step", rtol=rtol, atol=atol,
                     hint="the update should be params -= lr * min(1, max_norm / global_norm) * grads")


# ---------------------------------------------------------------- make_windows


def check_make_windows(fn, T=12, input_len=4, horizon=3, dtype=None, seed=0, part="values"):
    """Shapes, time order and values of the windows of a series.

    part: "values" (a float64 series) or "dtype" (a float32 series: float32 windows, right values).
    """
    if dtype is None:
        dtype = np.float32 if part == "dtype" else np.float64
    rng = np.random.default_rng(seed)
    # a series whose value tells its position: any misplaced window shows where
    series = (np.arange(T) + rng.uniform(0, 0.1, size=T)).astype(dtype)
    base = lambda: passes(check_make_windows, fn, T, input_len, horizon, np.float64, seed)
    X = None
    with values_charge(part, base):
        result = call(fn, "make_windows", series, input_len, horizon,
                      forbid=("data.sliding_windows",))
        if not isinstance(result, tuple) or len(result) != 2:
            raise AssertionError("make_windows should return a pair (X, Y)")
        X, Y = (np.asarray(a) for a in result)
    if X is None:
        return
    if part == "dtype":
        for name, a in (("X", X), ("Y", Y)):
            if a.dtype != series.dtype:
                raise AssertionError(f"with a {series.dtype} series make_windows returned {name} of dtype "
                                     f"{a.dtype}: keep the series' dtype (index or slice it; do not convert)")
        if not base():
            return
    M = T - input_len - horizon + 1
    if X.ndim == 2 and X.shape == (M, input_len):
        raise AssertionError(
            f"X has shape {X.shape}; the recurrent layer reads (N, T, D), so add a last axis of size 1: "
            f"({M}, {input_len}, 1)")
    if X.ndim == 3 and X.shape[0] != M:
        hint = ""
        if X.shape[0] == M - 1:
            hint = ": the last window, whose target ends at the last value of the series, is missing"
        elif X.shape[0] == T - input_len + 1:
            hint = ": the last windows have targets that run past the end of the series"
        elif X.shape[0] == T - input_len:
            hint = f": leave room for a target of {horizon} steps (horizon), not 1"
        raise AssertionError(f"there should be T - input_len - horizon + 1 = {M} windows for T = {T}, "
                             f"input_len = {input_len}, horizon = {horizon}; you made {X.shape[0]}{hint}")
    assert_shape(X, (M, input_len, 1), "X")
    assert_shape(Y, (M, horizon), "Y")
    Xr, Yr = sliding_windows(series, input_len, horizon)
    Yr = Yr[:, :, 0]
    if not np.array_equal(X, Xr):
        if np.array_equal(X, Xr[:, ::-1]):
            raise AssertionError("each input window is reversed in time: X[m, 0] should be the oldest value")
        if np.array_equal(X[:, :, 0], Xr[::-1, :, 0]):
            raise AssertionError("the windows are in reverse order: window m should start at step m")
        m, k = (int(i) for i in np.argwhere(X[:, :, 0] != Xr[:, :, 0])[0])
        raise AssertionError(
            f"X[{m}, {k}, 0] is {X[m, k, 0]:.4g}, the value at step {int(X[m, k, 0])} of the series, "
            f"but window {m} should read steps {m} to {m + input_len - 1}, so X[{m}, {k}, 0] is step {m + k}")
    if not np.array_equal(Y, Yr):
        if np.array_equal(Y, series[np.arange(M)[:, None] + input_len - 1 + np.arange(horizon)]):
            raise AssertionError(
                "Y starts with the last input value: the targets are the horizon steps after the window, "
                "from series[m + input_len]")
        m, k = (int(i) for i in np.argwhere(Y != Yr)[0])
        raise AssertionError(
            f"Y[{m}, {k}] is {Y[m, k]:.4g} (step {int(Y[m, k])}); the target of window {m} at lead {k + 1} "
            f"is step {m + input_len + k}")


def check_make_windows_inputs(fn, T=12, input_len=4, horizon=3, seed=8):
    """make_windows must leave the series as it was."""
    series = np.arange(T) + np.random.default_rng(seed).uniform(0, 0.1, size=T)
    check_untouched(fn, "make_windows", (series, input_len, horizon), ("series", "input_len", "horizon"),
                    ("data.sliding_windows",))
