"""Every variant's backward pass against centred differences, in float64.

Each case builds its inputs as a tree (dicts, lists, tuples of arrays), runs the forward
pass, draws a random upstream gradient and compares every gradient the backward pass
returns with the numerical gradient of sum(out * dout) with respect to that array.
"""
import numpy as np
import pytest

import rnnkit.variants as V
from rnnkit import numerical_gradient
from rnnkit.variants._cells import init_params

TOL = 1e-7


def scaled_error(a, b):
    """max |a - b| over the largest gradient entry: the worst error relative to the gradient's scale.

    The elementwise relative error of rnnkit.rel_error is ruled by the smallest entries: a
    centred difference with h = 1e-5 of an objective of size ~10 carries a rounding error
    of about 1e-16 * 10 / 1e-5 = 1e-10, which is 1e-6 of an entry of size 1e-4 although
    the analytic gradient is exact. Measured against the scale of the whole gradient the
    same rounding stays below 1e-9, while a wrong term (a missing product, a sign) gives
    errors of 1e-3 and more, so 1e-7 separates the two by orders of magnitude.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, f"analytic gradient has shape {a.shape}, numerical {b.shape}"
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-12)
    return float(np.abs(a - b).max() / scale)


def leaves(tree, path=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, path + (key,))
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from leaves(value, path + (i,))
    else:
        yield path, tree


def get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def gradient_errors(forward, backward, inputs, seed=0):
    """{path: scaled_error} for every gradient that backward returns.

    forward(inputs) -> (out, cache); backward(dout, cache) -> a tree of gradients whose
    paths are paths of ``inputs``.
    """
    rng = np.random.default_rng(seed)
    out, cache = forward(inputs)
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    errors = {}
    for path, analytic in leaves(grads):
        x = get(inputs, path)
        numeric = numerical_gradient(lambda _: forward(inputs)[0], x, dout, h=1e-5)
        errors[path] = scaled_error(analytic, numeric)
    assert errors, "backward returned no gradients"
    return errors


def assert_gradients(forward, backward, inputs):
    errors = gradient_errors(forward, backward, inputs)
    path, worst = max(errors.items(), key=lambda item: item[1])
    assert worst < TOL, f"gradient of {path} has relative error {worst:.2e} (all: {errors})"


def rng():
    return np.random.default_rng(1)


CELLS = ["rnn", "lstm", "gru", "gru_before"]


def cell_params(cell, D, H, r):
    if cell == "gru_before":
        return "gru", init_params("gru", D, H, r, reset_after=False)
    return cell, init_params(cell, D, H, r)


@pytest.mark.parametrize("which", CELLS)
def test_bidirectional(which):
    r = rng()
    N, T, D, H = 2, 4, 3, 5
    cell, pf = cell_params(which, D, H, r)
    _, pb = cell_params(which, D, H, r)
    inputs = {"x": r.standard_normal((N, T, D)), "params_f": pf, "params_b": pb,
              "h0": (r.standard_normal((N, H)), r.standard_normal((N, H)))}

    def forward(i):
        return V.bidirectional_forward(i["x"], i["params_f"], i["params_b"], cell, h0=i["h0"])

    def backward(dout, cache):
        dx, dh0, gf, gb = V.bidirectional_backward(dout, cache)
        return {"x": dx, "h0": dh0, "params_f": gf, "params_b": gb}

    assert_gradients(forward, backward, inputs)


@pytest.mark.parametrize("which", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_stacked_and_residual(which, bidirectional, residual):
    r = rng()
    N, T, D, H, L = 2, 3, 3, 4, 3
    width = 2 * H if bidirectional else H
    layers = []
    for l in range(L):
        d_in = D if l == 0 else width
        if bidirectional:
            cell, pf = cell_params(which, d_in, H, r)
            _, pb = cell_params(which, d_in, H, r)
            layers.append((pf, pb))
        else:
            cell, p = cell_params(which, d_in, H, r)
            layers.append(p)
    inputs = {"x": r.standard_normal((N, T, D)), "layers": layers}
    forward_fn = V.residual_forward if residual else V.stacked_forward
    backward_fn = V.residual_backward if residual else V.stacked_backward

    def forward(i):
        return forward_fn(i["x"], i["layers"], cell, bidirectional)

    def backward(dout, cache):
        dx, _, grads = backward_fn(dout, cache)
        return {"x": dx, "layers": grads}

    out, cache = forward(inputs)
    if residual:  # layers 2 and 3 keep their width, so they carry a skip connection
        assert [skip for _, skip in cache[2]] == [False, True, True]
    assert_gradients(forward, backward, inputs)


def test_residual_adds_the_input():
    r = rng()
    layers = [init_params("gru", 4, 4, r) for _ in range(2)]
    x = r.standard_normal((2, 3, 4))
    plain, _ = V.stacked_forward(x, layers[:1], "gru")
    res, _ = V.residual_forward(x, layers[:1], "gru")
    np.testing.assert_allclose(res, plain + x, rtol=0, atol=1e-15)


def test_peephole_step_and_sequence():
    r = rng()
    N, T, D, H = 2, 4, 3, 5
    p = init_params("lstm", D, H, r)
    inputs = {"x": r.standard_normal((N, T, D)), "h0": r.standard_normal((N, H)),
              "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"], "P": r.standard_normal((3, H)),
              "c0": r.standard_normal((N, H))}

    def forward(i):
        return V.peephole_forward(i["x"], i["h0"], i["Wx"], i["Wh"], i["b"], i["P"], i["c0"])

    def backward(dout, cache):
        return dict(zip(("x", "h0", "Wx", "Wh", "b", "P"), V.peephole_backward(dout, cache)))

    assert_gradients(forward, backward, inputs)

    step = {"x": inputs["x"][:, 0].copy(), "h_prev": inputs["h0"], "c_prev": inputs["c0"],
            "Wx": p["Wx"], "Wh": p["Wh"], "b": p["b"], "P": inputs["P"]}

    def step_forward(i):  # one output: h and c side by side, so dc_next is tested too
        h, c, cache = V.peephole_step_forward(*i.values())
        return np.concatenate([h, c], axis=1), cache

    def step_backward(dout, cache):
        g = V.peephole_step_backward(dout[:, :H], dout[:, H:], cache)
        return dict(zip(("x", "h_prev", "c_prev", "Wx", "Wh", "b", "P"), g))

    assert_gradients(step_forward, step_backward, step)


def test_peephole_with_zero_peepholes_is_the_lstm():
    from rnnkit import lstm_forward
    r = rng()
    p = init_params("lstm", 3, 4, r)
    x, h0 = r.standard_normal((2, 5, 3)), r.standard_normal((2, 4))
    h, _ = V.peephole_forward(x, h0, p["Wx"], p["Wh"], p["b"], np.zeros((3, 4)))
    np.testing.assert_allclose(h, lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"])[0], rtol=1e-12)


def test_mgu_step_and_sequence():
    r = rng()
    N, T, D, H = 2, 4, 3, 5
    inputs = {"x": r.standard_normal((N, T, D)), "h0": r.standard_normal((N, H)),
              "Wx": r.standard_normal((D, 2 * H)) * 0.5, "Wh": r.standard_normal((H, 2 * H)) * 0.5,
              "b": r.standard_normal(2 * H) * 0.5}

    def forward(i):
        return V.mgu_forward(*i.values())

    def backward(dout, cache):
        return dict(zip(("x", "h0", "Wx", "Wh", "b"), V.mgu_backward(dout, cache)))

    assert_gradients(forward, backward, inputs)
    step = dict(inputs, x=inputs["x"][:, 0].copy())
    step["h_prev"] = step.pop("h0")
    step = {k: step[k] for k in ("x", "h_prev", "Wx", "Wh", "b")}

    def step_forward(i):
        return V.mgu_step_forward(*i.values())

    def step_backward(dout, cache):
        return dict(zip(("x", "h_prev", "Wx", "Wh", "b"), V.mgu_step_backward(dout, cache)))

    assert_gradients(step_forward, step_backward, step)
    h_seq, _ = V.mgu_forward(*inputs.values())
    h_step, _ = V.mgu_step_forward(inputs["x"][:, 0], inputs["h0"], inputs["Wx"], inputs["Wh"], inputs["b"])
    np.testing.assert_allclose(h_seq[:, 0], h_step, rtol=1e-13)


@pytest.mark.parametrize("which", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_dilated(which, dilation):
    r = rng()
    N, T, D, H = 2, 7, 3, 4
    cell, p = cell_params(which, D, H, r)
    inputs = {"x": r.standard_normal((N, T, D)), "h0": r.standard_normal((N, H)), "params": p}

    def forward(i):
        return V.dilated_forward(i["x"], i["params"], dilation, cell, i["h0"])

    def backward(dout, cache):
        dx, dh0, g = V.dilated_backward(dout, cache)
        return {"x": dx, "h0": dh0, "params": g}

    assert_gradients(forward, backward, inputs)


def test_dilated_recurrence_skips_d_steps():
    """h_t = tanh(x_t Wx + h_{t-d} Wh + b), written out step by step."""
    r = rng()
    N, T, D, H, d = 2, 7, 3, 4, 3
    p = init_params("rnn", D, H, r)
    x, h0 = r.standard_normal((N, T, D)), r.standard_normal((N, H))
    h, _ = V.dilated_forward(x, p, d, "rnn", h0)
    for t in range(T):
        prev = h0 if t < d else h[:, t - d]
        np.testing.assert_allclose(h[:, t], np.tanh(x[:, t] @ p["Wx"] + prev @ p["Wh"] + p["b"]), rtol=1e-12)


def test_stacked_dilated():
    r = rng()
    layers = [init_params("gru", 3, 4, r), init_params("gru", 4, 4, r)]
    inputs = {"x": r.standard_normal((2, 6, 3)), "layers": layers}

    def backward(dout, caches):
        dx, grads = V.stacked_dilated_backward(dout, caches)
        return {"x": dx, "layers": grads}

    assert_gradients(lambda i: V.stacked_dilated(i["x"], i["layers"], [1, 2], "gru"), backward, inputs)


def test_phased_lstm():
    r = rng()
    N, T, D, H = 2, 6, 3, 4
    p = init_params("lstm", D, H, r)
    times = np.cumsum(r.uniform(0.1, 1.0, (N, T)), axis=1)
    tau = np.array([0.5, 1.0, 2.0, 4.0])
    shift = r.uniform(0, 1, H) * tau
    inputs = {"x": r.standard_normal((N, T, D)), "h0": r.standard_normal((N, H)), **p}

    def forward(i):
        return V.phased_lstm_forward(i["x"], times, i["h0"], i["Wx"], i["Wh"], i["b"], tau, shift, r_on=0.3)

    def backward(dout, cache):
        return dict(zip(("x", "h0", "Wx", "Wh", "b"), V.phased_lstm_backward(dout, cache)))

    out, cache = forward(inputs)
    k = cache[0]
    assert (k > 0.5).any() and (k < 0.01).any(), "the test should see open and closed units"
    assert_gradients(forward, backward, inputs)


def test_phased_lstm_always_open_is_the_lstm():
    """With the gate fully open (k = 1 at every sample) the phased LSTM is rnnkit's LSTM."""
    from rnnkit import lstm_forward
    r = rng()
    p = init_params("lstm", 3, 4, r)
    x, h0 = r.standard_normal((2, 5, 3)), r.standard_normal((2, 4))
    times = np.arange(5) + 0.5  # phase 0.5 with tau = 1, r_on = 1: the peak of the gate
    h, cache = V.phased_lstm_forward(x, times, h0, p["Wx"], p["Wh"], p["b"], np.ones(4), np.zeros(4), r_on=1.0)
    np.testing.assert_array_equal(cache[0], 1.0)
    np.testing.assert_allclose(h, lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"])[0], rtol=1e-12)


def test_time_gate_shape_of_the_openness():
    tau, shift, r_on = np.array([1.0]), np.array([0.0]), 0.2
    t = np.array([0.05, 0.1, 0.15, 0.5, 1.05])
    k = V.time_gate(t, tau, shift, r_on, alpha=0.0)[:, 0]
    np.testing.assert_allclose(k, [0.5, 1.0, 0.5, 0.0, 0.5], atol=1e-12)


def test_grid_lstm():
    r = rng()
    params = V.init_grid_params(3, 4, 2, r)
    inputs = {"x": r.standard_normal((2, 3, 3)), "params": params}

    def backward(dout, cache):
        dx, grads = V.grid_lstm_backward(dout, cache)
        return {"x": dx, "params": grads}

    assert_gradients(lambda i: V.grid_lstm_forward(i["x"], i["params"]), backward, inputs)


def test_grid_lstm_time_memory_carries_along_the_sequence():
    """The output at step 0 does not depend on later inputs; the last one depends on the first."""
    r = rng()
    params = V.init_grid_params(3, 4, 2, r)
    x = r.standard_normal((1, 4, 3))
    h, _ = V.grid_lstm_forward(x, params)
    x2 = x.copy()
    x2[0, 3] += 1.0
    h2, _ = V.grid_lstm_forward(x2, params)
    np.testing.assert_array_equal(h[:, :3], h2[:, :3])
    x3 = x.copy()
    x3[0, 0] += 1.0
    assert not np.allclose(V.grid_lstm_forward(x3, params)[0][:, 3], h[:, 3])


@pytest.mark.parametrize("single", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_dot_attention(single, masked):
    r = rng()
    N, Q, S, H = 2, 3, 5, 4
    q_shape = (N, H) if single else (N, Q, H)
    mask = np.ones((N, S), dtype=bool)
    if masked:
        mask[0, 3:] = False
    inputs = {"query": r.standard_normal(q_shape), "keys": r.standard_normal((N, S, H))}
    dw = r.standard_normal((N, S) if single else (N, Q, S))

    def forward(i):  # context and weights side by side, so both upstream paths are checked
        context, weights, cache = V.dot_attention_forward(i["query"], i["keys"], mask if masked else None)
        return np.concatenate([context, weights * dw], axis=-1), cache

    def backward(dout, cache):
        dq, dk = V.dot_attention_backward(dout[..., :H], cache, dout[..., H:] * dw)
        return {"query": dq, "keys": dk}

    assert_gradients(forward, backward, inputs)
    _, w, _ = V.dot_attention_forward(inputs["query"], inputs["keys"], mask)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    if masked:
        assert (w[0, ..., 3:] == 0).all()


@pytest.mark.parametrize("single", [True, False])
def test_additive_attention(single):
    r = rng()
    N, Q, S, Hq, Hk, A = 2, 3, 4, 5, 3, 6
    inputs = {"query": r.standard_normal((N, Hq) if single else (N, Q, Hq)),
              "keys": r.standard_normal((N, S, Hk)),
              "params": {"Wq": r.standard_normal((Hq, A)), "Wk": r.standard_normal((Hk, A)),
                         "b": r.standard_normal(A), "v": r.standard_normal(A)}}
    mask = np.array([[True, True, False, True], [True] * 4])
    dw = r.standard_normal((N, S) if single else (N, Q, S))

    def forward(i):
        context, weights, cache = V.additive_attention_forward(i["query"], i["keys"], i["params"], mask)
        return np.concatenate([context, weights * dw], axis=-1), cache

    def backward(dout, cache):
        dq, dk, g = V.additive_attention_backward(dout[..., :Hk], cache, dout[..., Hk:] * dw)
        return {"query": dq, "keys": dk, "params": g}

    assert_gradients(forward, backward, inputs)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("attention", ["dot", "additive"])
def test_seq2seq(cell, attention):
    r = rng()
    N, S, T, D, E, H = 2, 4, 3, 3, 2, 4
    params = V.init_seq2seq(D, E, H, r, cell, attention)
    if attention == "additive":  # weights of unit size, so that every gradient is well above rounding
        params["att"] = {k: r.standard_normal(v.shape) for k, v in params["att"].items()}
    params["bc"] = r.standard_normal(H) * 0.3
    mask = np.ones((N, S), dtype=bool)
    mask[1, 0] = False
    inputs = {"src": r.standard_normal((N, S, D)), "tgt": r.standard_normal((N, T, E)), "params": params}

    def forward(i):
        out, weights, cache = V.seq2seq_forward(i["src"], i["tgt"], i["params"], cell, attention, mask)
        assert weights.shape == (N, T, S)
        return out, cache

    def backward(dout, cache):
        grads, dsrc, dtgt = V.seq2seq_backward(dout, cache)
        return {"src": dsrc, "tgt": dtgt, "params": grads}

    assert_gradients(forward, backward, inputs)
