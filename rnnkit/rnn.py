"""Vanilla (Elman) RNN: h_t = tanh(x_t Wx + h_{t-1} Wh + b).

Sequence functions work time-major inside: the input projection of every
time step is one matrix product before the loop, the loop does only the
recurrent product, and the weight gradients are one product after it.
"""
import numpy as np

from ._validation import Shapes, check_finite


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a tanh RNN.

    Inputs:
    - x: (N, D) input at this step
    - h_prev: (N, H) hidden state of the previous step
    - Wx: (D, H), Wh: (H, H), b: (H,)

    Returns h_next (N, H) and the cache for :func:`rnn_step_backward`.
    """
    s = Shapes()
    x = s.array("x", x, "N D")
    h_prev = s.array("h_prev", h_prev, "N H")
    Wx = s.array("Wx", Wx, "D H")
    Wh = s.array("Wh", Wh, "H H")
    b = s.array("b", b, "H")
    a = x @ Wx
    a += h_prev @ Wh
    a += b
    h_next = np.tanh(a, out=a)
    check_finite(h_next, x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, b=b)
    return h_next, (x, h_prev, Wx, Wh, h_next)


def rnn_step_backward(dh_next, cache):
    """Backward pass of :func:`rnn_step_forward`.

    dh_next: (N, H) upstream gradient. Returns dx (N, D), dh_prev (N, H),
    dWx (D, H), dWh (H, H), db (H,).
    """
    x, h_prev, Wx, Wh, h_next = cache
    dh_next = Shapes(h_next.dtype, N=x.shape[0], H=h_next.shape[1]).array("dh_next", dh_next, "N H")
    da = dh_next * (1.0 - h_next * h_next)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """Run a tanh RNN over a whole sequence.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,).
    Returns h (N, T, H), the hidden state at every step, and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N T D")
    h0 = s.array("h0", h0, "N H")
    Wx = s.array("Wx", Wx, "D H")
    Wh = s.array("Wh", Wh, "H H")
    b = s.array("b", b, "H")
    N, T, D = x.shape
    H = h0.shape[1]
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, D)
    states = np.empty((T + 1, N, H), dtype=x.dtype)  # states[0] = h0, states[t+1] = h_t
    states[0] = h0
    np.matmul(x_tm.reshape(T * N, D), Wx, out=states[1:].reshape(T * N, H))
    states[1:] += b
    for t in range(T):
        a = states[t + 1]
        a += states[t] @ Wh
        np.tanh(a, out=a)
    check_finite(states[T], x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    return states[1:].transpose(1, 0, 2), (x_tm, Wx, Wh, states)


def rnn_backward(dh, cache):
    """Backward pass of :func:`rnn_forward`.

    dh: (N, T, H), the upstream gradient of every hidden state.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x_tm, Wx, Wh, states = cache
    T, N, D = x_tm.shape
    H = Wh.shape[0]
    dh = Shapes(states.dtype, N=N, T=T, H=H).array("dh", dh, "N T H")
    da = np.empty((T, N, H), dtype=states.dtype)
    carry = np.zeros((N, H), dtype=states.dtype)  # gradient flowing from step t+1 into h_t
    for t in range(T - 1, -1, -1):
        h = states[t + 1]
        g = da[t]
        np.add(dh[:, t], carry, out=g)
        g *= 1.0 - h * h
        carry = g @ Wh.T
    da2 = da.reshape(T * N, H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = x_tm.reshape(T * N, D).T @ da2
    dWh = states[:-1].reshape(T * N, H).T @ da2
    return dx, carry, dWx, dWh, da2.sum(axis=0)
