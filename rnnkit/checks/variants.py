"""Checks for notebook 06-variants: bidirectional_rnn_forward, stacked_rnn_forward, dot_attention.

Each check runs the student's function with rnnkit's own variant trapped, compares the
result with rnnkit.variants, and when they differ, with what each usual mistake would
produce, so that the message names the mistake. Probes that change a single input (one
time step of x, one source position) locate errors the value comparison cannot name:
which half of the output, which direction in time, which position.

Each exercise is graded in the parts of :mod:`rnnkit.checks.lstm`: its values (float64),
its dtype (float32 in, float32 out) and extreme inputs together with its arguments left as
they were. The student's function always receives copies; every expected value comes from
the check's own arrays.
"""
import numpy as np

import rnnkit
import rnnkit.variants as V
from ..testing import assert_close, assert_shape
from .lstm import (_finish, _start_part, call, check_untouched, compare, copied, labelled, once, passes,
                   report_warnings, require_finite, tolerances, values_charge)

PARTS = ("values", "dtype", "extreme")
EXTREME = ("with large pre-activations (weights 30 times the usual size)",
           "np.tanh stays finite and silent for any input; keep to it")


def _part(part, dtype, scale, usual, extreme):
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    if dtype is None:
        dtype = np.float32 if part == "dtype" else np.float64
    if scale is None:
        scale = extreme if part == "extreme" else usual
    return np.dtype(dtype), scale


FORBID = ("variants.bidirectional_forward", "variants.stacked_forward", "variants.residual_forward",
          "variants.dot_attention_forward", "variants.additive_attention_forward")


def _draw(rng, shape, scale, dtype):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def random_rnn_params(rng, D, H, dtype=np.float64, scale=0.5):
    """A tanh RNN's parameters {"Wx": (D, H), "Wh": (H, H), "b": (H,)}."""
    return {"Wx": _draw(rng, (D, H), scale / np.sqrt(D), dtype),
            "Wh": _draw(rng, (H, H), scale / np.sqrt(H), dtype),
            "b": _draw(rng, (H,), 0.1, dtype)}


def _rnn(x, h0, p):
    return rnnkit.rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])[0]


def _cat(a, b):
    return np.concatenate([a, b], axis=-1)


# ---------------------------------------------------------------- bidirectional_rnn_forward


def random_birnn(N=2, T=5, D=3, H=4, dtype=np.float64, seed=0, scale=0.5):
    """x (N, T, D), h0_f, h0_b (N, H), params_f, params_b."""
    rng = np.random.default_rng(seed)
    return (_draw(rng, (N, T, D), 1.0, dtype), _draw(rng, (N, H), 0.5, dtype), _draw(rng, (N, H), 0.5, dtype),
            random_rnn_params(rng, D, H, dtype, scale), random_rnn_params(rng, D, H, dtype, scale))


def check_bidirectional_rnn_forward(student, N=2, T=5, D=3, H=4, dtype=None, seed=0, scale=None, part="values"):
    """Compare student(x, h0_f, h0_b, params_f, params_b) with rnnkit.variants.bidirectional_forward.

    part: "values" (float64), "dtype" (float32) or "extreme" (weights 30 times larger: saturated
    states, finite and right, no warning).
    """
    dtype, scale = _part(part, dtype, scale, 0.5, 15.0)
    x, h0_f, h0_b, pf, pb = random_birnn(N, T, D, H, dtype, seed, scale)
    caught = []
    base = once(lambda: passes(check_bidirectional_rnn_forward, student, N, T, D, H, np.float64, seed, 0.5))
    got = None
    with values_charge(part, base):
        got = call(student, "bidirectional_rnn_forward", *copied((x, h0_f, h0_b, pf, pb)), forbid=FORBID,
                   caught=caught)
        if part == "values" or base():
            assert_shape(got, (N, T, 2 * H), labelled("h", dtype))
    if got is None:
        return
    if not _start_part(part, (("h", got),), dtype, "bidirectional_rnn_forward", caught, base, EXTREME):
        return
    expected, _ = V.bidirectional_forward(x, pf, pb, "rnn", h0=(h0_f, h0_b))
    hf = _rnn(x, h0_f, pf)
    hb_rev = _rnn(x[:, ::-1], h0_b, pb)
    hb = hb_rev[:, ::-1]
    mistakes = [
        (_cat(hf, hb_rev), "the backward direction's states are still in reversed time order: flip "
                           "them back along time so that position t holds the state after reading x_T .. x_t"),
        (_cat(hf, _rnn(x, h0_b, pb)), "the backward direction reads x forwards: feed it the sequence "
                                       "reversed along time, x[:, ::-1], and flip its output back"),
        (_cat(hf, _rnn(x, h0_b, pb)[:, ::-1]), "the backward direction reads x forwards and its output is "
                                                "then flipped: reverse the input, not only the output"),
        (_cat(hb, hf), "the two halves are swapped: the forward direction comes first, h[..., :H]"),
        (_cat(hf, _rnn(x[:, ::-1], h0_b, pf)[:, ::-1]), "the backward direction uses params_f; each "
                                                         "direction has its own parameters"),
        (_cat(_rnn(x, h0_b, pf), _rnn(x[:, ::-1], h0_f, pb)[:, ::-1]),
         "the initial states are swapped: h0_f starts the forward direction, h0_b the backward one"),
        (np.concatenate([hf, hb], axis=1), "the directions are concatenated along time (axis 1); put them "
                                          "side by side on the last axis, (N, T, 2H)"),
        (hf + hb, "the directions are added; concatenate them on the last axis, (N, T, 2H)"),
    ]
    if N > 1:
        mistakes.append((_cat(hf, _rnn(x[::-1], h0_b, pb)[::-1]),
                         "the backward direction reverses the batch (axis 0), x[::-1]; reverse time, "
                         "axis 1: x[:, ::-1]"))
    rtol, atol = tolerances(dtype)
    hint = None
    if isinstance(got, np.ndarray) and got.shape == expected.shape:
        if np.allclose(got[..., :H], hf, rtol=rtol, atol=atol):
            hint = "the forward half h[..., :H] is right; the backward half h[..., H:] is not"
        elif np.allclose(got[..., H:], hb, rtol=rtol, atol=atol):
            hint = "the backward half h[..., H:] is right; the forward half h[..., :H] is not"
    compare(got, expected, "h", ("batch row", "time step", "unit (forward 0..H-1, backward H..2H-1)"),
            mistakes=mistakes, hint=hint, dtype=dtype)
    _finish(part, "bidirectional_rnn_forward", caught, EXTREME, "a correct answer computes without warnings")


def check_bidirectional_inputs(student, N=2, T=4, D=3, H=4, seed=5):
    """bidirectional_rnn_forward must leave x, the initial states and the parameter dicts as they were."""
    args = random_birnn(N, T, D, H, np.float64, seed)
    check_untouched(student, "bidirectional_rnn_forward", args, ("x", "h0_f", "h0_b", "params_f", "params_b"),
                    FORBID)


def check_bidirectional_directions(student, T=6, k=2, dtype=np.float64, seed=0):
    """Change x at one time step k only: the forward half may change at steps >= k only,
    the backward half at steps <= k only, and both must change at step k."""
    x, h0_f, h0_b, pf, pb = random_birnn(2, T, 3, 4, dtype, seed)
    H = 4
    x2 = x.copy()
    x2[:, k] += 1.0
    a = call(student, "bidirectional_rnn_forward", *copied((x, h0_f, h0_b, pf, pb)), forbid=FORBID, caught=[])
    b = call(student, "bidirectional_rnn_forward", *copied((x2, h0_f, h0_b, pf, pb)), forbid=FORBID, caught=[])
    assert_shape(a, (2, T, 2 * H), "h")
    # one batch row changed: the other row must not move (the batch rows are separate sequences)
    x3 = x.copy()
    x3[0, k] += 1.0
    c = call(student, "bidirectional_rnn_forward", *copied((x3, h0_f, h0_b, pf, pb)), forbid=FORBID, caught=[])
    if isinstance(c, np.ndarray) and c.shape == a.shape and not np.allclose(a[1], c[1]):
        half = "backward half h[..., H:]" if np.allclose(a[1, :, :H], c[1, :, :H]) else "output"
        raise AssertionError(
            f"changing x in batch row 0 only changed the {half} of batch row 1: the rows of a batch are "
            "separate sequences. Reversing x[::-1] reverses the batch (axis 0); the backward direction "
            "reverses time, axis 1: x[:, ::-1]")
    fwd = ~np.isclose(a[..., :H], b[..., :H]).all(axis=(0, 2))
    bwd = ~np.isclose(a[..., H:], b[..., H:]).all(axis=(0, 2))
    steps = np.arange(T)
    if fwd[:k].any():
        t = int(steps[:k][fwd[:k]][0])
        raise AssertionError(
            f"changing x at time step {k} changed the forward half h[..., :H] at time step {t}, before "
            f"it: the forward direction at step t may only see x_0 .. x_t")
    if bwd[k + 1:].any():
        t = int(steps[k + 1:][bwd[k + 1:]][0])
        if not bwd[:k].any() and bwd[k]:
            why = ("it reads x forwards in time. Reverse the sequence along time, x[:, ::-1], and flip its "
                   "states back the same way (x[::-1] reverses the batch rows, axis 0, not time)")
        else:
            why = "are its states in reversed time order? Flip them back along time, axis 1"
        raise AssertionError(
            f"changing x at time step {k} changed the backward half h[..., H:] at time step {t}, after "
            f"it: the backward direction at step t may only see x_t .. x_T-1; {why}")
    if not fwd[k] or not bwd[k]:
        half = "forward half h[..., :H]" if not fwd[k] else "backward half h[..., H:]"
        raise AssertionError(f"changing x at time step {k} did not change the {half} at step {k}: "
                             "both directions read x_t at position t")


# ---------------------------------------------------------------- stacked_rnn_forward


def random_stack(N=2, T=4, D=3, H=5, L=3, dtype=np.float64, seed=0, scale=0.8):
    """x (N, T, D) and L layers of tanh-RNN parameters, the first reading D features, the rest H."""
    rng = np.random.default_rng(seed)
    x = _draw(rng, (N, T, D), 1.0, dtype)
    return x, [random_rnn_params(rng, D if l == 0 else H, H, dtype, scale) for l in range(L)]


def _chain(x, layers, start_from_last=False, tanh_between=False, every_reads_x=False):
    h = x
    h0 = np.zeros((x.shape[0], layers[0]["Wh"].shape[0]), dtype=x.dtype)
    outs = []
    for p in layers:
        h = _rnn(x if every_reads_x else h, h0, p)
        outs.append(h)
        if start_from_last:
            h0 = h[:, -1]
        if tanh_between:
            h = np.tanh(h)
    return outs


def check_stacked_rnn_forward(student, N=2, T=4, D=3, H=5, L=3, dtype=None, seed=0, scale=None, part="values"):
    """Compare student(x, layers) with rnnkit.variants.stacked_forward (tanh RNN, zero states).

    part: "values" (float64), "dtype" (float32) or "extreme" (weights 30 times larger).
    """
    dtype, scale = _part(part, dtype, scale, 0.8, 24.0)
    x, layers = random_stack(N, T, D, H, L, dtype, seed, scale)
    caught = []
    base = once(lambda: passes(check_stacked_rnn_forward, student, N, T, D, H, L, np.float64, seed, 0.8))
    got = None
    with values_charge(part, base):
        got = call(student, "stacked_rnn_forward", *copied((x, layers)), forbid=FORBID, caught=caught)
        if isinstance(got, (list, tuple)):
            raise AssertionError(f"stacked_rnn_forward returned a {type(got).__name__} of {len(got)} items; "
                                 "return only the top layer's states, an array (N, T, H)")
        if part != "values" and base():
            assert_shape(got, (N, T, H), labelled("h (top layer)", dtype))
    if got is None:
        return
    if not _start_part(part, (("h", got),), dtype, "stacked_rnn_forward", caught, base, EXTREME):
        return
    expected, _ = V.stacked_forward(x, layers, "rnn")
    outs = _chain(x, layers)
    mistakes = [
        (outs[0], "this is the first layer's output; return the states of the last layer"),
        (_chain(x, layers, start_from_last=True)[-1],
         "layer l+1 starts from the final state of layer l; every layer starts from a zero state "
         "(the layers are stacked in depth, not chained in time)"),
        (np.tanh(outs[-1]), "tanh is applied again to the output; the RNN's states are already tanh outputs"),
        (_chain(x, layers, tanh_between=True)[-1],
         "tanh is applied again between the layers; a layer reads the states of the one below as they are"),
        (np.stack(outs), "the states of every layer are stacked (L, N, T, H); return only the top layer's"),
    ]
    if len(layers) > 1:
        mistakes.append((outs[-2], f"this is layer {len(layers) - 2}'s output: the last layer is missing "
                                   "(is the loop one short?)"))
    if D == H:
        mistakes += [
            (_chain(x, layers, every_reads_x=True)[-1],
             "every layer reads x; layer l+1 must read the hidden states of layer l"),
            (_chain(x, layers[::-1])[-1], "the layers are applied in reverse order; layers[0] reads x"),
            (_chain(x, [layers[0]] * len(layers))[-1], "every layer uses the first layer's weights"),
        ]
    compare(got, expected, "h (top layer)", "N T H", mistakes=mistakes, dtype=dtype,
            hint="expected h = layer_L( ... layer_2(layer_1(x))), each an RNN from zero state")
    _finish(part, "stacked_rnn_forward", caught, EXTREME, "a correct answer computes without warnings")


def check_stacked_inputs(student, N=2, T=3, D=3, H=4, L=3, seed=6):
    """stacked_rnn_forward must leave x and the list of layers (and their dicts) as they were."""
    x, layers = random_stack(N, T, D, H, L, np.float64, seed)
    check_untouched(student, "stacked_rnn_forward", (x, layers), ("x", "layers"), FORBID)


def check_stacked_depth(student, dtype=np.float64):
    # (values: with float32 it runs only when the float64 values are right, so that a mistake of
    # value costs the values' part alone)
    if np.dtype(dtype) != np.float64 and not passes(check_stacked_depth, student):
        return
    """With one layer the stack is rnnkit.rnn_forward from zeros; with two, the second reads the first."""
    x, layers = random_stack(2, 3, 4, 4, 2, dtype, seed=11)
    zeros = np.zeros((2, 4), dtype=dtype)
    one = call(student, "stacked_rnn_forward", *copied((x, layers[:1])), forbid=FORBID, caught=[])
    assert_close(one, _rnn(x, zeros, layers[0]), "h with a single layer", "N T H",
                 hint="with one layer the stack is one RNN from a zero state", **_tol(dtype))
    two = call(student, "stacked_rnn_forward", *copied((x, layers)), forbid=FORBID, caught=[])
    assert_close(two, _rnn(_rnn(x, zeros, layers[0]), zeros, layers[1]), "h with two layers", "N T H",
                 hint="the single layer is right, so the error is in how layer 2 gets its input or state",
                 **_tol(dtype))


def _tol(dtype):
    rtol, atol = tolerances(dtype)
    return {"rtol": rtol, "atol": atol}


# ---------------------------------------------------------------- dot_attention


def random_attention(N=2, S=5, H=4, dtype=np.float64, seed=0, scale=1.0, masked=False):
    """query (N, H), keys (N, S, H), mask (N, S) or None; row 0 of the mask hides the last two positions."""
    rng = np.random.default_rng(seed)
    q = _draw(rng, (N, H), scale, dtype)
    keys = _draw(rng, (N, S, H), 1.0, dtype)
    mask = None
    if masked:
        mask = np.ones((N, S), dtype=bool)
        mask[0, max(1, S - 2):] = False
    return q, keys, mask


def _softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ATTENTION_EXTREME = ("with scores in the thousands",
                     "subtract each row's largest score before exp (the largest of the unmasked scores "
                     "when there is a mask: set the masked scores to -inf first), so that exp never "
                     "overflows and the largest term is exp(0) = 1")


def check_dot_attention(student, N=2, S=5, H=4, dtype=None, seed=0, scale=None, masked=False, part="values"):
    """Compare student(query, keys, mask) with rnnkit.variants.dot_attention_forward.

    part: "values" (float64), "dtype" (float32) or "extreme" (a query 1000 times larger: scores
    in the thousands; with a mask, the masked positions hold the largest scores).
    """
    dtype, scale = _part(part, dtype, scale, 1.0, 1000.0)
    q, keys, mask = random_attention(N, S, H, dtype, seed, scale, masked)
    if part == "extreme" and mask is not None:
        # the hidden positions get the largest scores: a maximum taken over them leaves exp(-huge) = 0
        keys[~mask] = (20.0 / scale) * np.broadcast_to(q[:, None], keys.shape)[~mask]
    caught = []
    base = once(lambda: passes(check_dot_attention, student, N, S, H, np.float64, seed, 1.0, masked))
    got = None
    with values_charge(part, base):
        got = call(student, "dot_attention", *copied((q, keys, mask)), forbid=FORBID, caught=caught)
        if not isinstance(got, tuple) or len(got) != 2:
            raise AssertionError("dot_attention should return a tuple (context, weights)")
        if part == "values" or base():
            assert_shape(got[0], (N, H), labelled("context", dtype))
            assert_shape(got[1], (N, S), labelled("weights", dtype))
    if got is None:
        return
    got_c, got_w = got
    if part == "extreme" and base():
        for arr, name in ((got_c, "context"), (got_w, "weights")):
            if isinstance(arr, np.ndarray) and not np.isfinite(arr).all():
                if mask is not None:
                    raise AssertionError(
                        f"{name} contains NaN when a hidden (masked) position holds the largest score: the "
                        "maximum subtracted before exp must be taken over the unmasked scores only; set the "
                        "masked scores to -inf, then subtract the row's maximum")
                raise AssertionError(f"{name} contains inf or NaN {ATTENTION_EXTREME[0]}: exp overflows; "
                                     f"{ATTENTION_EXTREME[1]}")
    if not _start_part(part, (("context", got_c), ("weights", got_w)), dtype, "dot_attention", caught, base,
                       ATTENTION_EXTREME):
        return
    context, weights, _ = V.dot_attention_forward(q, keys, mask)
    scores = np.einsum("nsh,nh->ns", keys, q)
    ninf = scores if mask is None else np.where(mask, scores, -np.inf)
    no_mask = _softmax(scores)
    wrong_w = [
        (scores, "the weights are the raw scores q . k_s; apply softmax over the source positions"),
        (_softmax(ninf, axis=0) if N > 1 else scores, "softmax is taken over the batch (axis 0); "
                                                      "normalise over the source positions, axis 1"),
        (_softmax(scores / np.sqrt(H)) if mask is None else _softmax(ninf / np.sqrt(H)),
         "the scores are divided by sqrt(H): that is the scaled form of the Transformer; "
         "Luong's dot product uses q . k_s as it is"),
        (np.exp(np.minimum(scores, 80.0)), "the weights are exp(score) without normalising; divide by "
                                            "their sum over s"),
    ]
    if mask is not None:
        wrong_w += [
            (no_mask, "the mask is ignored: positions where mask is False must get weight 0"),
            (no_mask * mask, "masked positions are zeroed after softmax, so the weights no longer sum to "
                             "one; set their scores to -inf before the softmax"),
        ]
    compare(got_w, weights, "weights", ("batch row", "source position"), mistakes=wrong_w, dtype=dtype,
            hint="expected weights = softmax over s of q . k_s (masked positions -inf)")
    compare(got_c, context, "context", "N H", dtype=dtype, mistakes=[
        (np.einsum("ns,nsh->nh", scores, keys),
         "the context is built from the scores; weight the keys by the softmax weights"),
        (keys.mean(axis=1), "the context is the plain mean of the keys; weight them by the attention weights"),
        (keys.sum(axis=1), "the context is the plain sum of the keys; weight them by the attention weights"),
        (keys[:, 0],
         "the context is the first key; it is the weighted sum over all source positions"),
    ], hint="expected context = sum over s of weights_s * keys_s")
    _finish(part, "dot_attention", caught, ATTENTION_EXTREME, ATTENTION_EXTREME[1])


def check_attention_inputs(student, N=2, S=5, H=4, seed=7):
    """dot_attention must leave query, keys and mask as they were."""
    q, keys, mask = random_attention(N, S, H, np.float64, seed, 1.0, masked=True)
    check_untouched(student, "dot_attention", (q, keys, mask), ("query", "keys", "mask"), FORBID)


def check_attention_focus(student, dtype=np.float64):
    """A query equal to a large multiple of one key puts (almost) all the weight on that key
    (with float32, only when the float64 values are right: a mistake of value costs the values'
    part alone)."""
    if np.dtype(dtype) != np.float64 and not passes(check_attention_focus, student):
        return
    keys = np.eye(4, dtype=dtype)[None].repeat(2, axis=0)  # orthogonal keys e_0..e_3
    for target in range(4):
        q = (20.0 * keys[:, target]).astype(dtype)
        context, weights = call(student, "dot_attention", *copied((q, keys, None)), forbid=FORBID, caught=[])
        assert_shape(weights, (2, 4), "weights")
        best = np.argmax(weights, axis=1)
        if (best != target).any():
            raise AssertionError(
                f"the query points at source position {target} (it is 20 * keys[:, {target}]), but the "
                f"largest weight is at position {int(best[0])}: are the scores q . k_s taken over the "
                "right axis?")
