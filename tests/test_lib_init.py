"""rnnkit.init: orthogonality, identity, Xavier's variance, dtypes, and recurrent_params."""
import numpy as np
import pytest

from rnnkit.init import (as_rng, identity, orthogonal, recurrent_params, xavier_normal,
                         xavier_uniform)

INITS = [xavier_uniform, xavier_normal, orthogonal]


@pytest.mark.parametrize("shape", [(6, 6), (9, 4), (4, 9)])
def test_orthogonal_has_orthonormal_columns_or_rows(shape):
    Q = orthogonal(shape, rng=0)
    assert Q.shape == shape
    small = min(shape)
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_orthogonal_gain_sets_every_singular_value():
    Q = orthogonal((8, 8), gain=1.5, rng=1)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), 1.5, rtol=1e-12)


def test_orthogonal_sign_fix_makes_it_haar():
    # Without the sign fix, QR (Householder) makes the first column point into a fixed
    # half-space; with it, the mean of Q[0, 0] over draws is 0. Under the Haar measure
    # Q[0, 0] has variance 1/n, so the mean of 2000 draws has standard error 1/sqrt(2000 n).
    n, draws = 4, 2000
    rng = np.random.default_rng(2)
    corner = np.array([orthogonal((n, n), rng=rng)[0, 0] for _ in range(draws)])
    assert abs(corner.mean()) < 4.0 / np.sqrt(draws * n)
    assert corner.var() == pytest.approx(1.0 / n, rel=0.1)


def test_identity():
    np.testing.assert_array_equal(identity(3), np.eye(3))
    np.testing.assert_array_equal(identity(2, gain=0.5, dtype=np.float32), 0.5 * np.eye(2, dtype=np.float32))


@pytest.mark.parametrize("init", [xavier_uniform, xavier_normal])
def test_xavier_variance(init):
    # var = 2 / (fan_in + fan_out) = 2 / 450. For n = 50_000 draws the sample variance
    # has relative standard error sqrt(2/n) (normal) or sqrt(0.8/n) (uniform), at most 0.63 %;
    # the bound of 3 % is more than four standard errors, and the seed is fixed.
    W = init((200, 250), rng=3)
    assert W.var() == pytest.approx(2.0 / 450, rel=0.03)
    assert abs(W.mean()) < 4 * np.sqrt(2.0 / 450 / W.size)


def test_xavier_uniform_bound_and_gain():
    W = xavier_uniform((30, 50), gain=2.0, rng=4)
    a = 2.0 * np.sqrt(6.0 / 80)
    assert W.max() <= a and W.min() >= -a
    assert W.max() > 0.95 * a and W.min() < -0.95 * a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_are_honoured(dtype):
    for init in INITS:
        assert init((3, 4), rng=0, dtype=dtype).dtype == dtype
    assert identity(3, dtype=dtype).dtype == dtype
    for kind in ("rnn", "lstm", "gru"):
        assert all(p.dtype == dtype for p in recurrent_params(kind, 3, 4, rng=0, dtype=dtype).values())


def test_rng_makes_draws_reproducible():
    for init in INITS:
        np.testing.assert_array_equal(init((3, 4), rng=7), init((3, 4), rng=np.random.default_rng(7)))
    assert not np.array_equal(xavier_uniform((3, 4), rng=7), xavier_uniform((3, 4), rng=8))
    g = np.random.default_rng(0)
    assert as_rng(g) is g


@pytest.mark.parametrize("kind, G", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_recurrent_params_shapes_and_blocks(kind, G):
    D, H = 5, 4
    p = recurrent_params(kind, D, H, rng=0)
    assert p["Wx"].shape == (D, G * H) and p["Wh"].shape == (H, G * H) and p["b"].shape == (G * H,)
    for k in range(G):
        block = p["Wh"][:, k * H:(k + 1) * H]
        np.testing.assert_allclose(block.T @ block, np.eye(H), atol=1e-12)
    expected_b = np.zeros(G * H)
    if kind == "lstm":
        expected_b[H:2 * H] = 1.0  # forget gate, order i, f, g, o
    np.testing.assert_array_equal(p["b"], expected_b)
    assert np.abs(p["Wx"]).max() <= np.sqrt(6.0 / (D + H))


def test_recurrent_params_variants():
    p = recurrent_params("gru", 3, 4, reset_after=True, rng=0)
    assert p["b"].shape == (2, 12) and not p["b"].any()
    p = recurrent_params("rnn", 3, 4, recurrent_init="identity")
    np.testing.assert_array_equal(p["Wh"], np.eye(4))
    p = recurrent_params("lstm", 3, 2, forget_bias=2.0)
    np.testing.assert_array_equal(p["b"], [0, 0, 2, 2, 0, 0, 0, 0])


@pytest.mark.parametrize("call, match", [
    (lambda: recurrent_params("transformer", 3, 4),
     r"kind: expected one of \['gru', 'lstm', 'rnn'\], got 'transformer'"),
    (lambda: recurrent_params("lstm", 3, 0), r"H: expected a positive integer, got 0"),
    (lambda: recurrent_params("lstm", 3, 4, reset_after=True), r"reset_after: only a GRU"),
    (lambda: recurrent_params("rnn", 3, 4, recurrent_init="zeros"), r"recurrent_init: expected one of"),
    (lambda: xavier_uniform((3, 4, 5)),
     r"shape: expected a pair \(fan_in, fan_out\) of positive sizes, got \(3, 4, 5\)"),
    (lambda: orthogonal((3, 4), dtype=np.int64), r"dtype: expected float32 or float64, got int64"),
    (lambda: orthogonal((3, 4), rng="seed"), r"rng: expected a np.random.Generator, an integer seed or None, got str"),
    (lambda: identity(2.5), r"n: expected a positive integer, got 2.5"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
