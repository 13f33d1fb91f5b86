"""Bad input to a variant raises a ValueError that names the argument and what was expected."""
import numpy as np
import pytest

import rnnkit.variants as V
from rnnkit.variants._cells import init_params

r = np.random.default_rng(0)
X = r.standard_normal((2, 5, 3))
P = init_params("lstm", 3, 4, r)
P_GRU = init_params("gru", 3, 4, r)


def raises(match, fn, *args, **kwargs):
    with pytest.raises(ValueError, match=match):
        fn(*args, **kwargs)


def test_unknown_cell():
    raises(r"cell: expected one of 'rnn', 'lstm', 'gru', got 'lsmt'", V.bidirectional_forward, X, P, P, "lsmt")


def test_bidirectional_names_the_direction():
    bad = dict(P, Wx=np.zeros((5, 16)))
    raises(r"params_b: Wx: expected shape \(D, 4H\) = \(3, 16\), got \(5, 16\)",
           V.bidirectional_forward, X, P, bad, "lstm")
    raises(r"params_b: Wh has 3 rows but params_f has 4", V.bidirectional_forward, X, P,
           init_params("lstm", 3, 3, r), "lstm")
    raises(r"h0: expected None or a pair", V.bidirectional_forward, X, P, P, "lstm", h0=np.zeros((2, 4)))
    raises(r"x: expected 3 dimensions \(N, T, D\), got shape \(5, 3\)", V.bidirectional_forward, X[0], P, P)
    raises(r"params_f: expected a dict with the arrays 'Wx', 'Wh' and 'b'", V.bidirectional_forward,
           X, (P["Wx"], P["Wh"], P["b"]), P)


def test_stacked_names_the_layer():
    layers = [P, init_params("lstm", 3, 4, r)]  # the second layer should read 4 features, not 3
    raises(r"layers\[1\]: Wx: expected shape \(D, 4H\) = \(4, 16\), got \(3, 16\)", V.stacked_forward, X, layers)
    raises(r"layers: expected a non-empty list", V.stacked_forward, X, [])
    raises(r"h0: expected 1 initial states", V.stacked_forward, X, [P], h0=[None, None])
    raises(r"layers\[0\]: expected a pair", V.stacked_forward, X, [P], bidirectional=True)


def test_dtype_is_kept_and_mixing_is_refused():
    p32 = {k: v.astype(np.float32) for k, v in P.items()}
    out, _ = V.bidirectional_forward(X.astype(np.float32), p32, p32)
    assert out.dtype == np.float32
    raises(r"dtype float32 does not match", V.bidirectional_forward, X, p32, p32)


@pytest.mark.parametrize("dilation", [0, -1, 1.5, True, "2"])
def test_dilation_must_be_a_positive_integer(dilation):
    raises(r"dilation: expected an integer >= 1", V.dilated_forward, X, P, dilation, "lstm")


def test_dilated_h0_shape():
    raises(r"h0: expected shape \(N, H\) = \(2, 4\), got \(2, 3\)", V.dilated_forward, X, P, 2, "lstm",
           np.zeros((2, 3)))


def test_phased_times_must_increase():
    times = np.array([0.0, 1.0, 1.0, 2.0, 3.0])
    args = (np.zeros((2, 4)), P["Wx"], P["Wh"], P["b"], np.ones(4), np.zeros(4))
    raises(r"times: time stamps must increase strictly.*batch row 0 step 2", V.phased_lstm_forward, X, times, *args)
    raises(r"times: expected shape \(N, T\) = \(2, 5\) or \(T,\), got \(4,\)", V.phased_lstm_forward,
           X, times[:4], *args)
    good = np.arange(5.0)
    raises(r"tau: expected shape \(H,\) = \(4,\), got \(3,\)", V.phased_lstm_forward, X, good,
           *args[:4], np.ones(3), np.zeros(3))
    raises(r"tau: expected a \(H,\) array of positive periods", V.time_gate, good, -np.ones(4), np.zeros(4))
    raises(r"r_on: expected a ratio in \(0, 1\]", V.time_gate, good, np.ones(4), np.zeros(4), r_on=0.0)


def test_attention_shapes_and_mask():
    q, keys = r.standard_normal((2, 4)), r.standard_normal((2, 6, 4))
    raises(r"query: expected shape \(N, H\) = \(2, 4\), got \(2, 3\)", V.dot_attention_forward, q[:, :3], keys)
    raises(r"mask: expected a boolean array of shape \(N, S\) = \(2, 6\)", V.dot_attention_forward,
           q, keys, np.ones((2, 6)))
    mask = np.ones((2, 6), dtype=bool)
    mask[1] = False
    raises(r"mask: batch row 1 masks every source position", V.dot_attention_forward, q, keys, mask)
    params = {"Wq": np.zeros((4, 3)), "Wk": np.zeros((5, 3)), "b": np.zeros(3), "v": np.zeros(3)}
    raises(r"params\['Wk'\]: expected shape \(Hk, A\) = \(4, 3\), got \(5, 3\)",
           V.additive_attention_forward, q, keys, params)


def test_seq2seq_arguments():
    params = V.init_seq2seq(3, 2, 4, r, "gru")
    raises(r"attention: expected 'dot' or 'additive'", V.seq2seq_forward, X, X[..., :2], params, "gru", "cosine")
    raises(r"params\['dec'\]: Wx: expected shape \(D, 3H\) = \(3, 12\), got \(2, 12\)", V.seq2seq_forward, X, X, params, "gru")


def test_grid_params():
    raises(r"params: expected a dict with 'Win'", V.grid_lstm_forward, X, {"layers": []})
    params = V.init_grid_params(3, 4, 2, r)
    params["layers"][1]["depth"]["Wh"] = np.zeros((4, 12))
    raises(r"params\['layers'\]\[1\]: Wh: expected shape \(H, 4H\)", V.grid_lstm_forward, X, params)


def test_backward_upstream_shapes():
    _, cache = V.bidirectional_forward(X, P, P)
    raises(r"dh: expected shape \(N, T, 2H\) with 2H = 8, got \(2, 5, 4\)", V.bidirectional_backward,
           np.zeros((2, 5, 4)), cache)
    _, cache = V.dilated_forward(X, P_GRU, 2, "gru")
    raises(r"dh: expected shape \(N, T, H\) with N = 2, T = 5", V.dilated_backward, np.zeros((2, 4, 4)), cache)


def test_attention_and_seq2seq_keep_float32():
    f32 = np.float32
    q, keys = np.ones((2, 3), f32), np.ones((2, 4, 3), f32)
    c, w, cache = V.dot_attention_forward(q, keys)
    assert c.dtype == w.dtype == f32
    assert all(g.dtype == f32 for g in V.dot_attention_backward(c, cache))
    params = {k: np.ones(s, f32) for k, s in (("Wq", (3, 2)), ("Wk", (3, 2)), ("b", 2), ("v", 2))}
    c, w, cache = V.additive_attention_forward(q, keys, params)
    dq, dk, g = V.additive_attention_backward(c, cache)
    assert c.dtype == w.dtype == dq.dtype == dk.dtype == f32 and all(v.dtype == f32 for v in g.values())
    p = V.init_seq2seq(3, 3, 4, np.random.default_rng(0), "lstm", "additive", dtype=f32)
    out, w, cache = V.seq2seq_forward(np.ones((2, 4, 3), f32), np.ones((2, 3, 3), f32), p, "lstm", "additive")
    grads, dsrc, dtgt = V.seq2seq_backward(out, cache)
    assert out.dtype == w.dtype == dsrc.dtype == dtgt.dtype == f32
    assert all(g.dtype == f32 for g in grads["enc"].values()) and grads["att"]["v"].dtype == f32
