"""LSTM (Hochreiter and Schmidhuber, 1997), gate blocks stacked in the order i, f, g, o.

    a = x Wx + h_prev Wh + b            (N, 4H)
    i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g)
    c = f * c_prev + i * g;            h = o * tanh(c)
"""
import numpy as np

from ._validation import Shapes, check_finite
from .activations import sigmoid_


def _gates_(a, H):
    """Activate the stacked pre-activations in place: sigmoid on i, f, o and tanh on g."""
    sigmoid_(a[:, : 2 * H])
    np.tanh(a[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])
    sigmoid_(a[:, 3 * H :])
    return a


def _gate_grads(dh, dc, gates, c_prev, tanh_c, out):
    """Gradient of the pre-activations of one step, written into ``out`` (N, 4H).

    Returns dc_prev. ``dc`` is the gradient reaching c from the next step.
    """
    H = c_prev.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
    np.multiply(dc * g, i * (1.0 - i), out=out[:, :H])
    np.multiply(dc * c_prev, f * (1.0 - f), out=out[:, H : 2 * H])
    np.multiply(dc * i, 1.0 - g * g, out=out[:, 2 * H : 3 * H])
    np.multiply(dh * tanh_c, o * (1.0 - o), out=out[:, 3 * H :])
    return dc * f


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step.

    Inputs: x (N, D), h_prev (N, H), c_prev (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
    Returns h_next (N, H), c_next (N, H) and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N D")
    h_prev = s.array("h_prev", h_prev, "N H")
    c_prev = s.array("c_prev", c_prev, "N H")
    Wx = s.array("Wx", Wx, "D 4H")
    Wh = s.array("Wh", Wh, "H 4H")
    b = s.array("b", b, "4H")
    H = h_prev.shape[1]
    a = x @ Wx
    a += h_prev @ Wh
    a += b
    gates = _gates_(a, H)
    c_next = gates[:, H : 2 * H] * c_prev
    c_next += gates[:, :H] * gates[:, 2 * H : 3 * H]
    tanh_c = np.tanh(c_next)
    h_next = gates[:, 3 * H :] * tanh_c
    check_finite(h_next, x=x, h_prev=h_prev, c_prev=c_prev, Wx=Wx, Wh=Wh, b=b)
    return h_next, c_next, (x, h_prev, c_prev, Wx, Wh, gates, tanh_c)


def lstm_step_backward(dh_next, dc_next, cache):
    """Backward pass of :func:`lstm_step_forward`.

    dh_next, dc_next: (N, H). Returns dx (N, D), dh_prev (N, H), dc_prev (N, H),
    dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, h_prev, c_prev, Wx, Wh, gates, tanh_c = cache
    s = Shapes(gates.dtype, N=x.shape[0], H=h_prev.shape[1])
    dh_next = s.array("dh_next", dh_next, "N H")
    dc_next = s.array("dc_next", dc_next, "N H")
    da = np.empty_like(gates)
    dc_prev = _gate_grads(dh_next, dc_next, gates, c_prev, tanh_c, da)
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b, c0=None):
    """Run an LSTM over a whole sequence.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,),
    c0 (N, H) or None for zeros. Returns h (N, T, H) and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N T D")
    h0 = s.array("h0", h0, "N H")
    Wx = s.array("Wx", Wx, "D 4H")
    Wh = s.array("Wh", Wh, "H 4H")
    b = s.array("b", b, "4H")
    N, T, D = x.shape
    H = h0.shape[1]
    c0 = np.zeros_like(h0) if c0 is None else s.array("c0", c0, "N H")
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    gates = np.matmul(x_tm.reshape(T * N, D), Wx).reshape(T, N, 4 * H)  # (T, N, 4H)
    gates += b
    hs = np.empty((T + 1, N, H), dtype=x.dtype)  # hs[0] = h0
    cs = np.empty((T + 1, N, H), dtype=x.dtype)  # cs[0] = c0
    tanh_cs = np.empty((T, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        a = gates[t]
        a += hs[t] @ Wh
        _gates_(a, H)
        c = cs[t + 1]
        np.multiply(a[:, H : 2 * H], cs[t], out=c)
        c += a[:, :H] * a[:, 2 * H : 3 * H]
        np.tanh(c, out=tanh_cs[t])
        np.multiply(a[:, 3 * H :], tanh_cs[t], out=hs[t + 1])
    check_finite(hs[T], x=x, h0=h0, c0=c0, Wx=Wx, Wh=Wh, b=b)
    return hs[1:].transpose(1, 0, 2), (x_tm, Wx, Wh, gates, hs, cs, tanh_cs)


def lstm_backward(dh, cache):
    """Backward pass of :func:`lstm_forward`.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x_tm, Wx, Wh, gates, hs, cs, tanh_cs = cache
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dh = Shapes(gates.dtype, N=N, T=T, H=H).array("dh", dh, "N T H")
    da = np.empty_like(gates)
    dh_carry = np.zeros((N, H), dtype=gates.dtype)
    dc_carry = np.zeros((N, H), dtype=gates.dtype)
    for t in range(T - 1, -1, -1):
        dc_carry = _gate_grads(dh[:, t] + dh_carry, dc_carry, gates[t], cs[t], tanh_cs[t], da[t])
        dh_carry = da[t] @ Wh.T
    da2 = da.reshape(T * N, 4 * H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = x_tm.reshape(T * N, D).T @ da2
    dWh = hs[:-1].reshape(T * N, H).T @ da2
    return dx, dh_carry, dWx, dWh, da2.sum(axis=0)


def lstm_cell_state(cache):
    """The cell states c_1..c_T, (N, T, H), from an :func:`lstm_forward` cache."""
    return cache[5][1:].transpose(1, 0, 2)
