"""Every backward of the core, checked against centred differences in float64.

Also the tools of the check themselves (numerical_gradient, rel_error, check_gradients)
and gradient clipping.
"""
import numpy as np
import pytest

from rnnkit import (check_gradients, clip_grad_norm, clip_grad_value, gru_backward, gru_forward,
                    gru_step_backward, gru_step_forward, lstm_backward, lstm_forward,
                    lstm_step_backward, lstm_step_forward, numerical_gradient, rel_error,
                    rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward,
                    temporal_softmax_loss, worst_error)

N, T, D, H, V = 3, 4, 5, 6, 7  # all different, so that a transposed product cannot pass

# A centred difference with step h has an absolute error of order h^2 |f'''| + eps |f| / h,
# about the same for every entry whatever its size. Divided by a gradient entry that happens
# to be near zero, it can exceed 1e-7 although the backward is right: on these very inputs the
# contract's elementwise rel_error reaches 2e-7 on a dWh entry of 1e-4. So the criterion is the
# error measured against the scale of the whole gradient, max |analytic - numeric| / max |numeric|:
# a correct backward gives 1e-11 to 3e-10 here, and any wrong formula 1e-3 or more (see
# test_the_criterion_catches_a_small_mistake). The bound 1e-8 leaves a factor 30 for roundoff.
TOL = 1e-8


def scaled_error(analytic, numeric):
    return float(np.max(np.abs(analytic - numeric)) / np.max(np.abs(numeric)))


def gradient_errors(forward, backward, inputs, wrt, seed=0):
    """{name: scaled error} of ``backward`` for the inputs named in ``wrt``.

    forward(**inputs) returns (*outputs, cache); backward(*douts, cache) returns the
    gradients in the order of ``wrt``. The upstream gradients are random.
    """
    rng = np.random.default_rng(seed)
    *outs, cache = forward(**inputs)
    douts = [rng.standard_normal(o.shape) for o in outs]
    grads = backward(*douts, cache)
    assert len(grads) == len(wrt)
    stacked = np.stack(douts)

    def f(_):
        return np.stack(forward(**inputs)[: len(outs)])

    errors = {}
    for name, analytic in zip(wrt, grads):
        assert analytic.shape == inputs[name].shape, f"d{name} has shape {analytic.shape}"
        errors[name] = scaled_error(analytic, numerical_gradient(f, inputs[name], stacked))
    return errors


def assert_gradients(forward, backward, inputs, wrt):
    errors = gradient_errors(forward, backward, inputs, wrt)
    bad = {name: e for name, e in errors.items() if not e < TOL}
    assert not bad, f"gradients off: {bad} (all: {errors})"


def params(G, seed, reset_after=False, step=False):
    """Well-conditioned float64 inputs: weights scaled by 1/sqrt(fan-in) keep the gates
    away from saturation, where the derivatives would be tiny."""
    rng = np.random.default_rng(seed)
    x_shape = (N, D) if step else (N, T, D)
    h_name = "h_prev" if step else "h0"
    return {
        "x": rng.standard_normal(x_shape),
        h_name: rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, G * H)) / np.sqrt(D),
        "Wh": rng.standard_normal((H, G * H)) / np.sqrt(H),
        "b": rng.standard_normal((2, G * H) if reset_after else (G * H,)) * 0.5,
    }


# ---------------------------------------------------------------- RNN

def test_rnn_step_backward():
    assert_gradients(rnn_step_forward, rnn_step_backward, params(1, 1, step=True),
                     ("x", "h_prev", "Wx", "Wh", "b"))


def test_rnn_backward():
    assert_gradients(rnn_forward, rnn_backward, params(1, 2), ("x", "h0", "Wx", "Wh", "b"))


# ---------------------------------------------------------------- LSTM

def test_lstm_step_backward():
    inputs = params(4, 3, step=True)
    inputs["c_prev"] = np.random.default_rng(33).standard_normal((N, H))
    assert_gradients(lstm_step_forward, lstm_step_backward, inputs,
                     ("x", "h_prev", "c_prev", "Wx", "Wh", "b"))


def test_lstm_backward_with_zero_c0():
    assert_gradients(lstm_forward, lstm_backward, params(4, 4), ("x", "h0", "Wx", "Wh", "b"))


def test_lstm_backward_with_c0_given():
    inputs = params(4, 5)
    inputs["c0"] = np.random.default_rng(55).standard_normal((N, H))
    assert_gradients(lstm_forward, lstm_backward, inputs, ("x", "h0", "Wx", "Wh", "b"))


def test_lstm_c0_changes_the_output():
    """c0 is really used (a forward that ignored it would pass the check above)."""
    inputs = params(4, 6)
    h_zero, _ = lstm_forward(**inputs)
    h_given, _ = lstm_forward(**inputs, c0=np.ones((N, H)))
    assert np.abs(h_zero - h_given).max() > 1e-3


# ---------------------------------------------------------------- GRU

@pytest.mark.parametrize("reset_after", [False, True])
def test_gru_step_backward(reset_after):
    inputs = params(3, 7, reset_after=reset_after, step=True)
    assert_gradients(lambda **a: gru_step_forward(**a, reset_after=reset_after), gru_step_backward,
                     inputs, ("x", "h_prev", "Wx", "Wh", "b"))


@pytest.mark.parametrize("reset_after", [False, True])
def test_gru_backward(reset_after):
    inputs = params(3, 8, reset_after=reset_after)
    assert_gradients(lambda **a: gru_forward(**a, reset_after=reset_after), gru_backward,
                     inputs, ("x", "h0", "Wx", "Wh", "b"))


# ---------------------------------------------------------------- loss

@pytest.mark.parametrize("masked", [False, True])
def test_temporal_softmax_loss_gradient(masked):
    rng = np.random.default_rng(9)
    scores = rng.standard_normal((N, T, V))
    y = rng.integers(V, size=(N, T))
    mask = rng.random((N, T)) < 0.6 if masked else None
    if masked:
        mask[0, 0] = True
    loss, dscores = temporal_softmax_loss(scores, y, mask)
    numeric = numerical_gradient(lambda s: temporal_softmax_loss(s, y, mask)[0], scores, 1.0)
    assert scaled_error(dscores, numeric) < TOL
    if masked:
        assert np.all(dscores[~mask] == 0), "masked positions must get no gradient"


def test_temporal_softmax_loss_value():
    """Mean negative log-likelihood in nats over the unmasked positions only."""
    rng = np.random.default_rng(10)
    scores = rng.standard_normal((N, T, V))
    y = rng.integers(V, size=(N, T))
    mask = np.zeros((N, T), dtype=bool)
    mask[0, :2] = mask[2, 3] = True
    log_p = scores - np.log(np.exp(scores).sum(axis=2, keepdims=True))
    nll = -np.take_along_axis(log_p, y[..., None], axis=2)[..., 0]
    assert temporal_softmax_loss(scores, y)[0] == pytest.approx(nll.mean(), rel=1e-12)
    assert temporal_softmax_loss(scores, y, mask)[0] == pytest.approx(nll[mask].mean(), rel=1e-12)
    uniform = temporal_softmax_loss(np.zeros((N, T, V)), y)[0]
    assert uniform == pytest.approx(np.log(V), rel=1e-12)


# ---------------------------------------------------------------- the check itself

def test_the_criterion_catches_a_small_mistake():
    """A db off by 1 % (a mistake far subtler than a wrong formula) fails the check."""
    def slightly_wrong(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, dWx, dWh, db * 1.01
    errors = gradient_errors(rnn_forward, slightly_wrong, params(1, 2), ("x", "h0", "Wx", "Wh", "b"))
    assert errors["x"] < TOL and errors["b"] > 1e-3


def test_numerical_gradient_is_exact_for_a_quadratic_and_restores_x():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4))
    df = rng.standard_normal((3, 4))
    before = x.copy()
    seen = []

    def f(z):
        seen.append(z.copy())
        return z * z + 3 * z

    grad = numerical_gradient(f, x, df)
    np.testing.assert_array_equal(x, before)  # bit for bit
    np.testing.assert_allclose(grad, (2 * before + 3) * df, rtol=1e-8, atol=1e-10)
    assert grad.shape == x.shape and grad.dtype == x.dtype
    assert len(seen) == 2 * x.size and not np.array_equal(seen[0], before), "f must see x perturbed"


def test_numerical_gradient_refuses_what_it_cannot_perturb():
    with pytest.raises(ValueError, match="x"):
        numerical_gradient(lambda z: z, [1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="x"):
        numerical_gradient(lambda z: z, np.arange(3), 1.0)


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.1, 2.0])) == pytest.approx(0.1 / 2.1)
    # the floor 1e-8 keeps two tiny numbers from counting as a large relative error
    assert rel_error(np.array([0.0]), np.array([1e-9])) == pytest.approx(0.1)
    assert rel_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert isinstance(rel_error(np.ones(2), np.ones(2)), float)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        rel_error(np.ones(2), np.ones(3))


def test_check_gradients_reports_every_input():
    """check_gradients on a pair whose gradients are nowhere small: cube and product."""
    def forward(x, w):
        return (x ** 3, x * w), (x, w)

    def backward(douts, cache):
        (d_cube, d_prod), (x, w) = douts, cache
        return {"x": 3 * x ** 2 * d_cube + w * d_prod, "w": x * d_prod}

    rng = np.random.default_rng(12)
    inputs = {"x": rng.uniform(1, 2, (3, 4)), "w": rng.uniform(1, 2, (3, 4))}
    errors = check_gradients(forward, backward, inputs)
    assert set(errors) == {"x", "w"} and max(errors.values()) < 1e-7, errors

    def wrong(douts, cache):
        grads = backward(douts, cache)
        grads["w"] = grads["w"] * 1.01
        return grads

    errors = check_gradients(forward, wrong, inputs)
    assert worst_error(errors)[0] == "w" and errors["w"] > 1e-3


# ---------------------------------------------------------------- clipping

def grads_of_norm(norm, dtype=np.float64):
    rng = np.random.default_rng(13)
    grads = {"W": rng.standard_normal((4, 5)).astype(dtype), "b": rng.standard_normal(5).astype(dtype)}
    total = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values()))
    for g in grads.values():
        g *= norm / total
    return grads


def global_norm64(grads):
    return np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_scales_to_exactly_max_norm(dtype):
    grads = grads_of_norm(10.0, dtype)
    before = {k: g.copy() for k, g in grads.items()}
    ids = {k: id(g) for k, g in grads.items()}
    total = clip_grad_norm(grads, 2.5)
    assert total == pytest.approx(10.0, rel=1e-6)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert global_norm64(grads) == pytest.approx(2.5, rel=rtol)
    for k, g in grads.items():
        assert id(g) == ids[k] and g.dtype == dtype, "clipping works in place"
        np.testing.assert_allclose(g, before[k] * 0.25, rtol=rtol)  # one common factor, direction kept


def test_clip_grad_norm_leaves_small_gradients_alone():
    grads = grads_of_norm(0.5)
    before = {k: g.copy() for k, g in grads.items()}
    assert clip_grad_norm(grads, 1.0) == pytest.approx(0.5, rel=1e-12)
    for k in grads:
        np.testing.assert_array_equal(grads[k], before[k])


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_clip_grad_norm_leaves_non_finite_gradients_alone(bad):
    grads = grads_of_norm(10.0)
    grads["b"][2] = bad
    before = {k: g.copy() for k, g in grads.items()}
    total = clip_grad_norm(grads, 1.0)
    assert not np.isfinite(total)
    for k in grads:
        np.testing.assert_array_equal(grads[k], before[k])


def test_clip_grad_norm_rejects_a_bad_threshold():
    for max_norm in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="max_norm"):
            clip_grad_norm(grads_of_norm(1.0), max_norm)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value(dtype):
    grads = {"W": np.array([[-3.0, -0.5], [0.25, 7.0]], dtype=dtype), "b": np.array([2.0, -2.0], dtype=dtype)}
    W = grads["W"]
    assert clip_grad_value(grads, 1.0) is None
    assert grads["W"] is W and W.dtype == dtype
    np.testing.assert_array_equal(W, np.array([[-1.0, -0.5], [0.25, 1.0]], dtype=dtype))
    np.testing.assert_array_equal(grads["b"], np.array([1.0, -1.0], dtype=dtype))
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value(grads, 0.0)
