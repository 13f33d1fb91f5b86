"""Minimal gated unit (Zhou, Wu, Zhang and Zhou, 2016): a GRU with a single gate.

    f = sigmoid(x Wx_f + h_prev Wh_f + b_f)             forget gate, (N, H)
    n = tanh(x Wx_n + (f * h_prev) Wh_n + b_n)          candidate
    h = (1 - f) * h_prev + f * n

Blocks are stacked along the last axis in the order f, n: Wx (D, 2H), Wh (H, 2H), b (2H,).
The one gate does the work of both of the GRU's: it resets the old state inside the
candidate, and it decides how much of the candidate replaces the old state. With a third
fewer parameters than a GRU it often learns as well on small problems.
"""
import numpy as np

from .._validation import Shapes, check_finite
from ..activations import sigmoid_


def _check(s, Wx, Wh, b):
    return s.array("Wx", Wx, "D 2H"), s.array("Wh", Wh, "H 2H"), s.array("b", b, "2H")


def _step(a, h_prev, Wh):
    """One recurrence from the input projection a = x Wx + b (N, 2H), activated in place.

    Returns h_next and f * h_prev.
    """
    H = h_prev.shape[1]
    f = a[:, :H]
    f += h_prev @ Wh[:, :H]
    sigmoid_(f)
    fh = f * h_prev
    n = a[:, H:]
    n += fh @ Wh[:, H:]
    np.tanh(n, out=n)
    return h_prev + f * (n - h_prev), fh


def _grads(dh, gates, h_prev, Wh, da):
    """Pre-activation gradients of one step into da (N, 2H); returns dh_prev."""
    H = h_prev.shape[1]
    f, n = gates[:, :H], gates[:, H:]
    np.multiply(dh * f, 1.0 - n * n, out=da[:, H:])
    dfh = da[:, H:] @ Wh[:, H:].T
    df = dh * (n - h_prev) + dfh * h_prev
    np.multiply(df, f * (1.0 - f), out=da[:, :H])
    return dh * (1.0 - f) + dfh * f + da[:, :H] @ Wh[:, :H].T


def _dWh(h_prev, fh, da):
    """dWh: the f block multiplies h_prev, the n block f * h_prev. Any leading axes."""
    H = h_prev.shape[-1]
    d2 = da.reshape(-1, 2 * H)
    return np.concatenate([h_prev.reshape(-1, H).T @ d2[:, :H], fh.reshape(-1, H).T @ d2[:, H:]], axis=1)


def mgu_step_forward(x, h_prev, Wx, Wh, b):
    """One MGU step.

    Inputs: x (N, D), h_prev (N, H), Wx (D, 2H), Wh (H, 2H), b (2H,).
    Returns h_next (N, H) and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N D")
    h_prev = s.array("h_prev", h_prev, "N H")
    Wx, Wh, b = _check(s, Wx, Wh, b)
    a = x @ Wx
    a += b
    h_next, fh = _step(a, h_prev, Wh)
    check_finite(h_next, x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, b=b)
    return h_next, (x, h_prev, Wx, Wh, a, fh)


def mgu_step_backward(dh_next, cache):
    """Backward pass of :func:`mgu_step_forward`.

    dh_next: (N, H). Returns dx (N, D), dh_prev (N, H), dWx (D, 2H), dWh (H, 2H), db (2H,).
    """
    x, h_prev, Wx, Wh, gates, fh = cache
    dh_next = Shapes(gates.dtype, N=x.shape[0], H=h_prev.shape[1]).array("dh_next", dh_next, "N H")
    da = np.empty_like(gates)
    dh_prev = _grads(dh_next, gates, h_prev, Wh, da)
    return da @ Wx.T, dh_prev, x.T @ da, _dWh(h_prev, fh, da), da.sum(axis=0)


def mgu_forward(x, h0, Wx, Wh, b):
    """Run an MGU over a sequence.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, 2H), Wh (H, 2H), b (2H,).
    Returns h (N, T, H) and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N T D")
    h0 = s.array("h0", h0, "N H")
    Wx, Wh, b = _check(s, Wx, Wh, b)
    N, T, D = x.shape
    H = h0.shape[1]
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    gates = np.matmul(x_tm.reshape(T * N, D), Wx).reshape(T, N, 2 * H)
    gates += b
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    fhs = np.empty((T, N, H), dtype=x.dtype)
    hs[0] = h0
    for t in range(T):
        hs[t + 1], fhs[t] = _step(gates[t], hs[t], Wh)
    check_finite(hs[T], x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    return hs[1:].transpose(1, 0, 2), (x_tm, Wx, Wh, gates, hs, fhs)


def mgu_backward(dh, cache):
    """Backward pass of :func:`mgu_forward`.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H), dWx (D, 2H), dWh (H, 2H), db (2H,).
    """
    x_tm, Wx, Wh, gates, hs, fhs = cache
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dh = Shapes(gates.dtype, N=N, T=T, H=H).array("dh", dh, "N T H")
    da = np.empty_like(gates)
    carry = np.zeros((N, H), dtype=gates.dtype)
    for t in range(T - 1, -1, -1):
        carry = _grads(dh[:, t] + carry, gates[t], hs[t], Wh, da[t])
    da2 = da.reshape(T * N, 2 * H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = x_tm.reshape(T * N, D).T @ da2
    return dx, carry, dWx, _dWh(hs[:-1], fhs, da2), da2.sum(axis=0)
