"""rnnkit.layers: gradient checks, PyTorch parity, dtypes and the errors of bad input."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit import numerical_gradient
from rnnkit.layers import (affine_backward, affine_forward, embedding_backward, embedding_forward,
                           mse_loss, sigmoid_backward, sigmoid_cross_entropy_loss, sigmoid_forward,
                           softmax_backward, softmax_forward, softmax_loss, temporal_affine_backward,
                           temporal_affine_forward)

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Every test draws from its own seeded stream, whatever order (or worker) runs it."""
    global rng
    rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- gradient checks (float64)
# A centred difference of a scalar f is exact only to about eps * |f| / h (rounding),
# here 1e-11 to 7e-10 in absolute terms (worst over 60 random draws of each check below).
# rnnkit's rel_error divides by max(1e-8, |a| + |n|), so an entry of the gradient that
# happens to be near zero turns that noise into relative errors of 1e-7 and more (seen
# on some seeds, never with a wrong formula). The checks here divide by
# max(FLOOR, |a| + |n|) instead: a relative 1e-7 for every entry above FLOOR, an absolute
# 1e-9 below it. Over the same 60 draws the worst such error is 8.5e-9; a wrong backward
# is off by the size of the entries themselves.
FLOOR = 1e-2


def grad_error(analytic, numeric):
    return float(np.max(np.abs(analytic - numeric) / np.maximum(FLOOR, np.abs(analytic) + np.abs(numeric))))


def check_pair(forward, backward, inputs):
    """{input name: grad_error} of a forward/backward pair for a random upstream gradient.

    backward(dout, cache) returns a dict of the gradients of some of ``inputs``.
    """
    out, cache = forward(**inputs)
    dout = rng.standard_normal(out.shape)
    errors = {}
    for name, analytic in backward(dout, cache).items():
        numeric = numerical_gradient(lambda _: forward(**inputs)[0], inputs[name], dout)
        errors[name] = grad_error(analytic, numeric)
    return errors


def test_affine_gradients():
    errors = check_pair(
        affine_forward,
        lambda dout, cache: dict(zip(("x", "W", "b"), affine_backward(dout, cache))),
        dict(x=randn(4, 5), W=randn(5, 3), b=randn(3)))
    assert max(errors.values()) < 1e-7, errors


def test_temporal_affine_gradients():
    errors = check_pair(
        temporal_affine_forward,
        lambda dout, cache: dict(zip(("x", "W", "b"), temporal_affine_backward(dout, cache))),
        dict(x=randn(3, 4, 5), W=randn(5, 6), b=randn(6)))
    assert max(errors.values()) < 1e-7, errors


def test_embedding_gradient_counts_repeated_indices():
    x = np.array([[0, 2, 2], [2, 3, 0]])
    W = randn(5, 4)
    errors = check_pair(lambda W: embedding_forward(x, W),
                        lambda dout, cache: {"W": embedding_backward(dout, cache)}, dict(W=W))
    assert errors["W"] < 1e-7, errors
    _, cache = embedding_forward(x, W)
    dW = embedding_backward(np.ones((2, 3, 4)), cache)
    np.testing.assert_array_equal(dW[:, 0], [2, 0, 3, 1, 0])  # row 4 is never looked up


@pytest.mark.parametrize("pair", [(sigmoid_forward, sigmoid_backward), (softmax_forward, softmax_backward)],
                         ids=["sigmoid", "softmax"])
def test_output_activation_gradients(pair):
    forward, backward = pair
    errors = check_pair(lambda z: forward(z), lambda d, c: {"z": backward(d, c)}, dict(z=randn(3, 4, 5)))
    assert errors["z"] < 1e-7, errors


def _loss_grad_error(loss_fn, pred, target):
    _, analytic = loss_fn(pred, target)
    return grad_error(analytic, numerical_gradient(lambda p: loss_fn(p, target)[0], pred, 1.0))


def test_loss_gradients():
    assert _loss_grad_error(softmax_loss, randn(6, 4), np.array([0, 3, 1, 1, 2, 0])) < 1e-7
    assert _loss_grad_error(sigmoid_cross_entropy_loss, randn(5, 3), rng.random((5, 3))) < 1e-7
    assert _loss_grad_error(mse_loss, randn(5, 2), randn(5, 2)) < 1e-7



# ---------------------------------------------------------------- values

def test_softmax_loss_of_uniform_scores_is_log_c():
    loss, _ = softmax_loss(np.zeros((3, 7)), np.array([0, 6, 2]))
    assert loss == pytest.approx(np.log(7), rel=1e-12)


def test_losses_stay_finite_for_huge_scores():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, d = softmax_loss(np.array([[1e4, -1e4, 0.0]]), np.array([1]))
        assert loss == pytest.approx(2e4) and np.isfinite(d).all()
        loss, d = sigmoid_cross_entropy_loss(np.array([1e4, -1e4]), np.array([0.0, 1.0]))
        assert loss == pytest.approx(1e4) and np.isfinite(d).all()
        p, _ = softmax_forward(np.array([1e4, 0.0], dtype=np.float32))
        np.testing.assert_array_equal(p, [1.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_are_preserved(dtype):
    x, W, b = randn(2, 3, 4, dtype=dtype), randn(4, 5, dtype=dtype), randn(5, dtype=dtype)
    out, cache = temporal_affine_forward(x, W, b)
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in temporal_affine_backward(np.ones_like(out), cache))
    out, cache = affine_forward(x[:, 0], W, b)
    assert out.dtype == dtype and all(g.dtype == dtype for g in affine_backward(out, cache))
    emb, cache = embedding_forward(np.array([[1, 0]]), W)
    assert emb.dtype == dtype and embedding_backward(emb, cache).dtype == dtype
    for loss_fn, target in ((mse_loss, out), (sigmoid_cross_entropy_loss, np.ones(out.shape)),
                            (softmax_loss, np.array([0, 4]))):
        assert loss_fn(out, target)[1].dtype == dtype


# ---------------------------------------------------------------- PyTorch parity (float64)

def test_affine_matches_torch_linear():
    torch = pytest.importorskip("torch")
    x, W, b, dout = randn(4, 5), randn(5, 3), randn(3), randn(4, 3)
    lin = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(W.T))  # torch stores (out, in)
        lin.bias.copy_(torch.from_numpy(b))
    xt = torch.from_numpy(x).requires_grad_()
    yt = lin(xt)
    yt.backward(torch.from_numpy(dout))
    out, cache = affine_forward(x, W, b)
    dx, dW, db = affine_backward(dout, cache)
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dW, lin.weight.grad.numpy().T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(db, lin.bias.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_temporal_affine_matches_torch_linear_over_time():
    torch = pytest.importorskip("torch")
    x, W, b, dout = randn(2, 5, 4), randn(4, 6), randn(6), randn(2, 5, 6)
    Wt = torch.from_numpy(W.T.copy()).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    yt = torch.nn.functional.linear(torch.from_numpy(x), Wt, bt)
    yt.backward(torch.from_numpy(dout))
    out, cache = temporal_affine_forward(x, W, b)
    _, dW, db = temporal_affine_backward(dout, cache)
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dW, Wt.grad.numpy().T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_embedding_matches_torch_embedding():
    torch = pytest.importorskip("torch")
    x = rng.integers(0, 7, size=(3, 5))
    W, dout = randn(7, 4), randn(3, 5, 4)
    emb = torch.nn.Embedding(7, 4, dtype=torch.float64)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(W))
    yt = emb(torch.from_numpy(x))
    yt.backward(torch.from_numpy(dout))
    out, cache = embedding_forward(x, W)
    np.testing.assert_array_equal(out, yt.detach().numpy())
    np.testing.assert_allclose(embedding_backward(dout, cache), emb.weight.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    scores, y = randn(6, 4), rng.integers(0, 4, size=6)
    st = torch.from_numpy(scores).requires_grad_()
    F.cross_entropy(st, torch.from_numpy(y)).backward()
    loss, d = softmax_loss(scores, y)
    assert loss == pytest.approx(F.cross_entropy(st, torch.from_numpy(y)).item(), rel=1e-12)
    np.testing.assert_allclose(d, st.grad.numpy(), rtol=1e-10, atol=1e-14)

    logits, target = randn(5, 3) * 4, rng.random((5, 3))
    lt = torch.from_numpy(logits).requires_grad_()
    ref = F.binary_cross_entropy_with_logits(lt, torch.from_numpy(target))
    ref.backward()
    loss, d = sigmoid_cross_entropy_loss(logits, target)
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(d, lt.grad.numpy(), rtol=1e-10, atol=1e-14)

    pred, target = randn(5, 2), randn(5, 2)
    pt = torch.from_numpy(pred).requires_grad_()
    ref = F.mse_loss(pt, torch.from_numpy(target))
    ref.backward()
    loss, d = mse_loss(pred, target)
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(d, pt.grad.numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("x, match", [
    (np.array([[0, 5]]), r"x: indices must lie in \[0, 5\).*found 5 at index \(0, 1\)"),
    (np.array([[-1, 0]]), r"x: indices must lie in \[0, 5\).*found -1"),
    (np.array([[0.0, 1.0]]), r"x: expected an integer array of indices, got dtype float64"),
    (np.array([0, 1]), r"x: expected 2 dimensions, got shape \(2,\)"),
])
def test_embedding_rejects_bad_indices(x, match):
    with pytest.raises(ValueError, match=match):
        embedding_forward(x, randn(5, 3))


def test_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"W: expected shape \(D, M\) = \(4, 3\), got \(5, 3\)"):
        affine_forward(randn(2, 4), randn(5, 3), randn(3))
    with pytest.raises(ValueError, match=r"b: expected shape \(V\) = \(6,\), got \(5,\)"):
        temporal_affine_forward(randn(2, 3, 4), randn(4, 6), randn(5))
    _, cache = affine_forward(randn(2, 4), randn(4, 3), randn(3))
    with pytest.raises(ValueError, match=r"dout: expected shape \(N, M\) = \(2, 3\), got \(3, 2\)"):
        affine_backward(randn(3, 2), cache)
    with pytest.raises(ValueError, match=r"y: expected shape \(N,\) = \(3,\), got \(2,\)"):
        softmax_loss(randn(3, 4), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"y: indices must lie in \[0, 4\)"):
        softmax_loss(randn(2, 4), np.array([0, 4]))
    with pytest.raises(ValueError, match=r"target: expected shape \(3, 1\) \(the shape of pred\), got \(3,\)"):
        mse_loss(randn(3, 1), randn(3))
    with pytest.raises(ValueError, match=r"y: binary targets must lie in \[0, 1\]"):
        sigmoid_cross_entropy_loss(randn(3), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"W: dtype float32 does not match the dtype of x \(float64\)"):
        affine_forward(randn(2, 4), randn(4, 3, dtype=np.float32), randn(3))


def test_nan_scores_are_reported():
    scores = randn(2, 3)
    scores[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"scores contains NaN or infinity \(first at index \(1, 2\)\)"):
        softmax_loss(scores, np.array([0, 1]))


# ---------------------------------------------------------------- properties over random sizes

sizes = st.integers(min_value=1, max_value=6)
float_dtypes = st.sampled_from([np.float32, np.float64])


@settings(max_examples=40, deadline=None)
@given(N=sizes, T=sizes, H=sizes, V=sizes, dtype=float_dtypes, seed=st.integers(0, 2**16))
def test_temporal_layers_shapes_and_dtypes(N, T, H, V, dtype, seed):
    r = np.random.default_rng(seed)
    x = r.standard_normal((N, T, H)).astype(dtype)
    W, b = r.standard_normal((H, V)).astype(dtype), r.standard_normal(V).astype(dtype)
    out, cache = temporal_affine_forward(x, W, b)
    assert out.shape == (N, T, V) and out.dtype == dtype
    dx, dW, db = temporal_affine_backward(np.ones_like(out), cache)
    assert (dx.shape, dW.shape, db.shape) == (x.shape, W.shape, b.shape)
    assert {dx.dtype, dW.dtype, db.dtype} == {np.dtype(dtype)}
    ids = r.integers(0, V, size=(N, T))
    emb, cache = embedding_forward(ids, W.T)  # W.T is a (V, H) table
    assert emb.shape == (N, T, H) and emb.dtype == dtype
    dout = r.standard_normal((N, T, H)).astype(dtype)
    expected = np.zeros((V, H), dtype=dtype)
    np.add.at(expected, ids.reshape(-1), dout.reshape(-1, H))
    got = embedding_backward(dout, cache)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    loss, dscores = softmax_loss(out[:, 0], ids[:, 0])
    assert np.isfinite(loss) and dscores.shape == (N, V) and dscores.dtype == dtype
