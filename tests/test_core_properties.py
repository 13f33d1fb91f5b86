"""Properties of the core over random sizes, N = 1, T = 1 and H = 1 included (hypothesis).

Shapes of every output, dtypes kept (float32 stays float32 through forward and
backward, float64 stays float64), the sequence functions agreeing with a loop over
the step functions, and the ranges of sigmoid and softmax.
"""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnnkit import (gru_backward, gru_forward, gru_step_backward, gru_step_forward, lstm_backward,
                    lstm_forward, lstm_step_backward, lstm_step_forward, rnn_backward, rnn_forward,
                    rnn_step_backward, rnn_step_forward, sigmoid, softmax, temporal_softmax_loss)

# per test, not as a profile: a loaded profile would also change other modules' tests
core = settings(max_examples=40, deadline=None, derandomize=True)

size = st.integers(1, 4)
dtypes = st.sampled_from([np.float32, np.float64])
CELLS = ["rnn", "lstm", "gru", "gru_after"]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


class Cell:
    """Random parameters and a uniform interface over the three cells."""

    def __init__(self, kind, N, T, D, H, dtype, seed):
        self.kind, self.N, self.T, self.D, self.H, self.dtype = kind, N, T, D, H, dtype
        rng = np.random.default_rng(seed)
        G = {"rnn": 1, "lstm": 4}.get(kind, 3)
        self.reset = {"gru": {"reset_after": False}, "gru_after": {"reset_after": True}}.get(kind, {})

        def r(*shape, scale=1.0):
            return (rng.standard_normal(shape) * scale).astype(dtype)

        self.x = r(N, T, D)
        self.h0 = r(N, H, scale=0.5)
        self.c0 = r(N, H, scale=0.5) if kind == "lstm" else None
        self.Wx = r(D, G * H, scale=1 / np.sqrt(D))
        self.Wh = r(H, G * H, scale=1 / np.sqrt(H))
        self.b = r(2, G * H, scale=0.5) if kind == "gru_after" else r(G * H, scale=0.5)
        self.dh = r(N, T, H)

    def forward(self):
        if self.kind == "rnn":
            return rnn_forward(self.x, self.h0, self.Wx, self.Wh, self.b)
        if self.kind == "lstm":
            return lstm_forward(self.x, self.h0, self.Wx, self.Wh, self.b, c0=self.c0)
        return gru_forward(self.x, self.h0, self.Wx, self.Wh, self.b, **self.reset)

    def backward(self, cache):
        backward = {"rnn": rnn_backward, "lstm": lstm_backward}.get(self.kind, gru_backward)
        return backward(self.dh, cache)

    def steps(self):
        """h (N, T, H) from a loop over the step forward, and the step caches."""
        h, c, hs, caches = self.h0, self.c0, [], []
        for t in range(self.T):
            x = self.x[:, t]
            if self.kind == "rnn":
                h, cache = rnn_step_forward(x, h, self.Wx, self.Wh, self.b)
            elif self.kind == "lstm":
                h, c, cache = lstm_step_forward(x, h, c, self.Wx, self.Wh, self.b)
            else:
                h, cache = gru_step_forward(x, h, self.Wx, self.Wh, self.b, **self.reset)
            hs.append(h)
            caches.append(cache)
        return np.stack(hs, axis=1), caches

    def step_backward(self, caches):
        """dx, dh0, dWx, dWh, db accumulated over a loop of step backwards."""
        dx = np.empty_like(self.x)
        dWx, dWh, db = np.zeros_like(self.Wx), np.zeros_like(self.Wh), np.zeros_like(self.b)
        dh_next = np.zeros_like(self.h0)
        dc_next = np.zeros_like(self.h0)
        for t in reversed(range(self.T)):
            dh = self.dh[:, t] + dh_next
            if self.kind == "rnn":
                dx[:, t], dh_next, gWx, gWh, gb = rnn_step_backward(dh, caches[t])
            elif self.kind == "lstm":
                dx[:, t], dh_next, dc_next, gWx, gWh, gb = lstm_step_backward(dh, dc_next, caches[t])
            else:
                dx[:, t], dh_next, gWx, gWh, gb = gru_step_backward(dh, caches[t])
            dWx += gWx
            dWh += gWh
            db += gb
        return dx, dh_next, dWx, dWh, db


cells = st.builds(Cell, st.sampled_from(CELLS), size, size, size, size, dtypes, st.integers(0, 2**16))


def with_ones(test):
    """Always try the degenerate sizes N = T = D = H = 1 of every cell, in both dtypes."""
    for kind in CELLS:
        for dtype in (np.float32, np.float64):
            test = example(Cell(kind, 1, 1, 1, 1, dtype, 0))(test)
    return test


@core
@given(cells)
@with_ones
def test_shapes_and_dtypes_of_the_sequence_functions(cell):
    h, cache = cell.forward()
    assert h.shape == (cell.N, cell.T, cell.H) and h.dtype == cell.dtype
    grads = cell.backward(cache)
    for name, g, like in zip(("dx", "dh0", "dWx", "dWh", "db"), grads,
                             (cell.x, cell.h0, cell.Wx, cell.Wh, cell.b)):
        assert g.shape == like.shape, f"{name}: {g.shape} != {like.shape}"
        assert g.dtype == cell.dtype, f"{name} is {g.dtype} for {np.dtype(cell.dtype)} input"


@core
@given(cells)
@with_ones
def test_shapes_and_dtypes_of_the_step_functions(cell):
    hs, caches = cell.steps()
    assert hs.dtype == cell.dtype
    grads = cell.step_backward(caches)  # accumulates into arrays of the input dtype ...
    if cell.kind == "lstm":  # ... so check each step backward's own outputs as well
        outs = lstm_step_backward(cell.dh[:, 0], cell.dh[:, 0], caches[0])
    elif cell.kind == "rnn":
        outs = rnn_step_backward(cell.dh[:, 0], caches[0])
    else:
        outs = gru_step_backward(cell.dh[:, 0], caches[0])
    for g in outs:
        assert g.dtype == cell.dtype
    assert outs[0].shape == (cell.N, cell.D) and outs[1].shape == (cell.N, cell.H)
    assert [g.shape for g in outs[-3:]] == [cell.Wx.shape, cell.Wh.shape, cell.b.shape]
    assert grads[0].shape == cell.x.shape


@core
@given(cells)
@with_ones
def test_first_step_of_the_sequence_is_the_step_forward(cell):
    h, _ = cell.forward()
    if cell.kind == "lstm":
        h1 = lstm_step_forward(cell.x[:, 0], cell.h0, cell.c0, cell.Wx, cell.Wh, cell.b)[0]
    elif cell.kind == "rnn":
        h1 = rnn_step_forward(cell.x[:, 0], cell.h0, cell.Wx, cell.Wh, cell.b)[0]
    else:
        h1 = gru_step_forward(cell.x[:, 0], cell.h0, cell.Wx, cell.Wh, cell.b, **cell.reset)[0]
    np.testing.assert_allclose(h[:, 0], h1, **TOL[cell.dtype])


@core
@given(cells)
@with_ones
def test_the_sequence_is_a_loop_over_steps(cell):
    h, cache = cell.forward()
    hs, caches = cell.steps()
    np.testing.assert_allclose(h, hs, **TOL[cell.dtype])
    if cell.dtype == np.float64:  # float32 sums in a different order drift more than TOL allows
        for name, g, g_steps in zip(("dx", "dh0", "dWx", "dWh", "db"), cell.backward(cache),
                                    cell.step_backward(caches)):
            np.testing.assert_allclose(g, g_steps, err_msg=name, **TOL[np.float64])


@core
@given(cells)
@with_ones
def test_lstm_without_c0_starts_from_zero(cell):
    if cell.kind != "lstm":
        return
    h_none, _ = lstm_forward(cell.x, cell.h0, cell.Wx, cell.Wh, cell.b)
    h_zero, _ = lstm_forward(cell.x, cell.h0, cell.Wx, cell.Wh, cell.b, c0=np.zeros_like(cell.h0))
    np.testing.assert_array_equal(h_none, h_zero)


@core
@given(st.integers(1, 3), st.integers(1, 4), st.integers(2, 6), dtypes, st.integers(0, 2**16))
def test_loss_dtype_and_shape(N, T, V, dtype, seed):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((N, T, V)).astype(dtype)
    y = rng.integers(V, size=(N, T))
    loss, dscores = temporal_softmax_loss(scores, y)
    assert isinstance(loss, float) and loss > 0
    assert dscores.shape == scores.shape and dscores.dtype == dtype
    np.testing.assert_allclose(dscores.sum(axis=2), 0, atol=1e-6)  # softmax minus one-hot


finite32 = st.floats(allow_nan=False, allow_infinity=False, width=32)
finite64 = st.floats(allow_nan=False, allow_infinity=False)
arrays = st.one_of(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=finite32),
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=finite64))


@core
@given(arrays)
def test_sigmoid_lies_in_the_unit_interval(z):
    s = sigmoid(z)
    assert s.dtype == z.dtype and s.shape == z.shape
    assert np.all((s >= 0) & (s <= 1))
    moderate = np.abs(z) < (15 if z.dtype == np.float32 else 30)  # where it cannot round to 0 or 1
    assert np.all((s[moderate] > 0) & (s[moderate] < 1))
    np.testing.assert_allclose(s + sigmoid(-z), 1, rtol=1e-6)


@core
@given(arrays, st.integers(0, 2))
def test_softmax_rows_sum_to_one(z, axis):
    axis = min(axis, z.ndim - 1)
    p = softmax(z, axis=axis)
    assert p.dtype == z.dtype and p.shape == z.shape
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=axis), 1, rtol=1e-5)
    top = np.expand_dims(np.argmax(z, axis=axis), axis)  # the largest score gets the largest probability
    np.testing.assert_array_equal(np.take_along_axis(p, top, axis=axis), p.max(axis=axis, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_never_meets_float64_inside(dtype):
    """No float64 temporary sneaks into a float32 forward (it would double the cost)."""
    cell = Cell("lstm", 2, 3, 4, 5, dtype, 0)
    _, cache = cell.forward()
    for part in cache:
        if isinstance(part, np.ndarray):
            assert part.dtype == dtype
