"""Peephole LSTM (Gers and Schmidhuber, 2000): the gates also look at the cell state.

    a = x Wx + h_prev Wh + b                        (N, 4H), blocks i, f, g, o
    i = sigmoid(a_i + p_i * c_prev)
    f = sigmoid(a_f + p_f * c_prev)
    g = tanh(a_g)
    c = f * c_prev + i * g
    o = sigmoid(a_o + p_o * c)                      the output gate sees the new cell state
    h = o * tanh(c)

The peephole weights P (3, H) hold the diagonal weights p_i, p_f, p_o (one per unit, an
elementwise product, not a matrix). With P = 0 this is rnnkit's LSTM. The input and
recurrent products are rnnkit's layout; only the gate nonlinearities differ, so the
step is written here.
"""
import numpy as np

from .._validation import Shapes, check_finite
from ..activations import sigmoid_


def _check(s, Wx, Wh, b, P):
    return (s.array("Wx", Wx, "D 4H"), s.array("Wh", Wh, "H 4H"), s.array("b", b, "4H"),
            s.array("P", P, "3 H"))


def _step(a, c_prev, P, c_out):
    """Activate the pre-activations a (N, 4H) in place and write the cell state into c_out.

    Returns tanh(c) and h.
    """
    H = c_prev.shape[1]
    a[:, :H] += P[0] * c_prev
    a[:, H : 2 * H] += P[1] * c_prev
    sigmoid_(a[:, : 2 * H])
    np.tanh(a[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])
    np.multiply(a[:, H : 2 * H], c_prev, out=c_out)
    c_out += a[:, :H] * a[:, 2 * H : 3 * H]
    a[:, 3 * H :] += P[2] * c_out
    sigmoid_(a[:, 3 * H :])
    tanh_c = np.tanh(c_out)
    return tanh_c, a[:, 3 * H :] * tanh_c


def _grads(dh, dc, gates, c_prev, c, tanh_c, P, da):
    """Pre-activation gradients of one step into da (N, 4H); returns dc_prev.

    dc is the gradient reaching c from the next step.
    """
    H = c_prev.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
    np.multiply(dh * tanh_c, o * (1.0 - o), out=da[:, 3 * H :])
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c) + da[:, 3 * H :] * P[2]
    np.multiply(dc * g, i * (1.0 - i), out=da[:, :H])
    np.multiply(dc * c_prev, f * (1.0 - f), out=da[:, H : 2 * H])
    np.multiply(dc * i, 1.0 - g * g, out=da[:, 2 * H : 3 * H])
    return dc * f + da[:, :H] * P[0] + da[:, H : 2 * H] * P[1]


def _dP(da, c_prev, c):
    """Gradient of the peephole weights from pre-activation gradients, any leading axes."""
    H = c.shape[-1]
    c_prev, c = c_prev.reshape(-1, H), c.reshape(-1, H)
    da = da.reshape(-1, 4 * H)
    return np.stack([
        np.einsum("nh,nh->h", da[:, :H], c_prev),
        np.einsum("nh,nh->h", da[:, H : 2 * H], c_prev),
        np.einsum("nh,nh->h", da[:, 3 * H :], c),
    ])


def peephole_step_forward(x, h_prev, c_prev, Wx, Wh, b, P):
    """One peephole-LSTM step.

    Inputs: x (N, D), h_prev (N, H), c_prev (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,),
    P (3, H) the peephole weights of the i, f and o gates.
    Returns h_next (N, H), c_next (N, H) and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N D")
    h_prev = s.array("h_prev", h_prev, "N H")
    c_prev = s.array("c_prev", c_prev, "N H")
    Wx, Wh, b, P = _check(s, Wx, Wh, b, P)
    a = x @ Wx
    a += h_prev @ Wh
    a += b
    c_next = np.empty_like(c_prev)
    tanh_c, h_next = _step(a, c_prev, P, c_next)
    check_finite(h_next, x=x, h_prev=h_prev, c_prev=c_prev, Wx=Wx, Wh=Wh, b=b, P=P)
    return h_next, c_next, (x, h_prev, c_prev, Wx, Wh, P, a, c_next, tanh_c)


def peephole_step_backward(dh_next, dc_next, cache):
    """Backward pass of :func:`peephole_step_forward`.

    dh_next, dc_next: (N, H). Returns dx (N, D), dh_prev (N, H), dc_prev (N, H),
    dWx (D, 4H), dWh (H, 4H), db (4H,), dP (3, H).
    """
    x, h_prev, c_prev, Wx, Wh, P, gates, c, tanh_c = cache
    s = Shapes(gates.dtype, N=x.shape[0], H=h_prev.shape[1])
    dh_next = s.array("dh_next", dh_next, "N H")
    dc_next = s.array("dc_next", dc_next, "N H")
    da = np.empty_like(gates)
    dc_prev = _grads(dh_next, dc_next, gates, c_prev, c, tanh_c, P, da)
    return (da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0),
            _dP(da, c_prev, c))


def peephole_forward(x, h0, Wx, Wh, b, P, c0=None):
    """Run a peephole LSTM over a sequence.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,), P (3, H),
    c0 (N, H) or None for zeros. Returns h (N, T, H) and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N T D")
    h0 = s.array("h0", h0, "N H")
    Wx, Wh, b, P = _check(s, Wx, Wh, b, P)
    c0 = np.zeros_like(h0) if c0 is None else s.array("c0", c0, "N H")
    N, T, D = x.shape
    H = h0.shape[1]
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    gates = np.matmul(x_tm.reshape(T * N, D), Wx).reshape(T, N, 4 * H)
    gates += b
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    cs = np.empty((T + 1, N, H), dtype=x.dtype)
    tanh_cs = np.empty((T, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        gates[t] += hs[t] @ Wh
        tanh_cs[t], hs[t + 1] = _step(gates[t], cs[t], P, cs[t + 1])
    check_finite(hs[T], x=x, h0=h0, c0=c0, Wx=Wx, Wh=Wh, b=b, P=P)
    return hs[1:].transpose(1, 0, 2), (x_tm, Wx, Wh, P, gates, hs, cs, tanh_cs)


def peephole_backward(dh, cache):
    """Backward pass of :func:`peephole_forward`.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,),
    dP (3, H).
    """
    x_tm, Wx, Wh, P, gates, hs, cs, tanh_cs = cache
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dh = Shapes(gates.dtype, N=N, T=T, H=H).array("dh", dh, "N T H")
    da = np.empty_like(gates)
    dh_carry = np.zeros((N, H), dtype=gates.dtype)
    dc_carry = np.zeros((N, H), dtype=gates.dtype)
    for t in range(T - 1, -1, -1):
        dc_carry = _grads(dh[:, t] + dh_carry, dc_carry, gates[t], cs[t], cs[t + 1], tanh_cs[t], P, da[t])
        dh_carry = da[t] @ Wh.T
    da2 = da.reshape(T * N, 4 * H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = x_tm.reshape(T * N, D).T @ da2
    dWh = hs[:-1].reshape(T * N, H).T @ da2
    return dx, dh_carry, dWx, dWh, da2.sum(axis=0), _dP(da, cs[:-1], cs[1:])
