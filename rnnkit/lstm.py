"""LSTM (Hochreiter and Schmidhuber, 1997), gate blocks stacked in the order i, f, g, o.

    a = x Wx + h_prev Wh + b            (N, 4H)
    i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g)
    c = f * c_prev + i * g;            h = o * tanh(c)

The step functions are the plain formulas. The sequence functions are built for speed
(benchmarks/bench_recurrent.py times them against PyTorch): time-major loops over
contiguous per-step slices, the input projection and bias of every step in one matrix
product, all four gates activated by one tanh (the fused layout below), the cache cut
from one allocation, no allocation inside the step loops, and a backward whose
gradient-free factors are computed a few steps at a time; the weight gradients are one
product each after the loop.
"""
import numpy as np

from ._buffers import carve
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


# lstm_forward keeps its gates in a fused internal layout: the blocks reordered to
# i, f, o, g (the three sigmoids first) and the sigmoid gates' pre-activations halved, so
# that one tanh over the whole (N, 4H) block activates every gate, since
#     sigmoid(a) = (1 + tanh(a / 2)) / 2
# and a per-column affine map (``half`` and ``shift`` in the loop) turns the first 3H
# columns into sigmoids.
# tanh saturates instead of overflowing, so no floating-point flag is ever raised.
_ORDER = (0, 1, 3, 2)  # internal block k holds public block _ORDER[k]
_SCALE = (0.5, 0.5, 0.5, 1.0)


def _fused(W, H):
    """The columns of W (..., 4H) in the internal order and scale of :func:`lstm_forward`."""
    out = np.empty_like(W)
    for k, (src, scale) in enumerate(zip(_ORDER, _SCALE)):
        np.multiply(W[..., src * H : (src + 1) * H], scale, out=out[..., k * H : (k + 1) * H])
    return out


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
    if c0 is not None:
        c0 = s.array("c0", c0, "N H")
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = x.dtype
    # x time-major with a column of ones, so that one product gives x Wx + b for every step
    # (and, in the backward, dWx and db together); hs[0] = h0, hs[t + 1] = h_t; cs likewise
    x1, gates, hs, cs, tanh_cs = carve(dtype, (T, N, D + 1), (T, N, 4 * H), (T + 1, N, H), (T + 1, N, H),
                                        (T, N, H))
    x1[:, :, :D] = x.transpose(1, 0, 2)
    x1[:, :, D] = 1.0
    np.matmul(x1.reshape(T * N, D + 1), _fused(np.vstack([Wx, b]), H), out=gates.reshape(T * N, 4 * H))
    Wh_fused = _fused(Wh, H)
    hs[0] = h0
    cs[0] = 0.0 if c0 is None else c0
    half = np.full(4 * H, 0.5, dtype=dtype)  # tanh(a / 2) -> sigmoid(a) on i, f, o; g unchanged
    half[3 * H :] = 1.0
    shift = np.full(4 * H, 0.5, dtype=dtype)
    shift[3 * H :] = 0.0
    rec = np.empty((N, 4 * H), dtype=dtype)
    ig = np.empty((N, H), dtype=dtype)
    i, f, o, g = (gates[:, :, k * H : (k + 1) * H] for k in range(4))
    for t in range(T):
        a = gates[t]
        np.matmul(hs[t], Wh_fused, out=rec)
        a += rec
        np.tanh(a, out=a)
        a *= half
        a += shift
        np.multiply(f[t], cs[t], out=cs[t + 1])
        np.multiply(i[t], g[t], out=ig)
        cs[t + 1] += ig
        np.tanh(cs[t + 1], out=tanh_cs[t])
        np.multiply(o[t], tanh_cs[t], out=hs[t + 1])
    check_finite(hs[T], x=x, h0=h0, c0=c0, Wx=Wx, Wh=Wh, b=b)
    return hs[1:].transpose(1, 0, 2), (x1, Wx, Wh, gates, hs, cs, tanh_cs)


_CHUNK_BYTES = 1 << 18  # gates of the time steps the backward prepares at once


def _local_factors(gates, c_prev, tanh_c, K, Ko, Kc, ds):
    """The factors of the backward that do not depend on the upstream gradient.

    gates (C, N, 4H) of C steps in the fused order i, f, o, g. Writes K (C, N, 3, H) and
    Ko, Kc (C, N, H) such that, with dh the gradient reaching h_t and dc_next the
    gradient reaching c_t from step t + 1,

        dc = dc_next + dh * Kc           Kc = o (1 - tanh(c)^2)
        da_o = dh * Ko                   Ko = tanh(c) o (1 - o)
        da_i, da_f, da_g = dc * K        K = g i (1 - i), c_prev f (1 - f), i (1 - g^2)

    ``ds`` (C, N, 4H) is scratch space.
    """
    H = c_prev.shape[-1]
    i, _, o, g = (gates[..., k * H : (k + 1) * H] for k in range(4))
    np.subtract(1.0, gates, out=ds)
    ds *= gates  # sigmoid'(a) = s (1 - s) for i, f, o, over whole rows (the g block is unused)
    np.multiply(ds[..., :H], g, out=K[..., 0, :])
    np.multiply(ds[..., H : 2 * H], c_prev, out=K[..., 1, :])
    dg = K[..., 2, :]
    np.multiply(g, g, out=dg)
    np.subtract(1.0, dg, out=dg)
    dg *= i
    np.multiply(ds[..., 2 * H : 3 * H], tanh_c, out=Ko)
    np.multiply(tanh_c, tanh_c, out=Kc)
    np.subtract(1.0, Kc, out=Kc)
    Kc *= o


def lstm_backward(dh, cache):
    """Backward pass of :func:`lstm_forward`.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).

    The steps are taken in chunks whose local factors (:func:`_local_factors`) are
    computed together: large enough to make few NumPy calls, small enough to stay in
    the CPU cache until the step loop reads them.
    """
    x1, Wx, Wh, gates, hs, cs, tanh_cs = cache
    T, N, D = x1.shape[0], x1.shape[1], Wx.shape[0]
    H = hs.shape[2]
    dh = Shapes(gates.dtype, N=N, T=T, H=H).array("dh", dh, "N T H")
    dtype = gates.dtype
    f = gates[:, :, H : 2 * H]
    WhT = np.ascontiguousarray(Wh.T)  # a transposed view would make every step's product slower
    da = np.empty((T, N, 4 * H), dtype=dtype)  # public order i, f, g, o
    da4 = da.reshape(T, N, 4, H)
    dh_next = np.zeros((N, H), dtype=dtype)  # gradient reaching h_t from step t + 1
    dc_next = np.zeros((N, H), dtype=dtype)  # gradient reaching c_t from step t + 1
    dh_t = np.empty((N, H), dtype=dtype)
    dc = np.empty((N, H), dtype=dtype)
    chunk = min(T, max(1, _CHUNK_BYTES // (gates[0].nbytes)))
    K, Ko, Kc, ds = carve(dtype, (chunk, N, 3, H), (chunk, N, H), (chunk, N, H), (chunk, N, 4 * H))
    for stop in range(T, 0, -chunk):
        start = max(0, stop - chunk)
        n = stop - start
        _local_factors(gates[start:stop], cs[start:stop], tanh_cs[start:stop], K[:n], Ko[:n], Kc[:n], ds[:n])
        for t in range(stop - 1, start - 1, -1):
            k = t - start
            np.add(dh[:, t], dh_next, out=dh_t)
            np.multiply(dh_t, Ko[k], out=da4[t, :, 3])
            np.multiply(dh_t, Kc[k], out=dc)
            dc += dc_next
            np.multiply(K[k], dc[:, None, :], out=da4[t, :, :3])
            np.multiply(dc, f[t], out=dc_next)
            np.matmul(da[t], WhT, out=dh_next)
    da2 = da.reshape(T * N, 4 * H)
    dx = (da2 @ np.ascontiguousarray(Wx.T)).reshape(T, N, D).transpose(1, 0, 2)
    dWxb = x1.reshape(T * N, D + 1).T @ da2  # dWx, and db from the column of ones
    dWh = hs[:-1].reshape(T * N, H).T @ da2
    return dx, dh_next, dWxb[:D], dWh, dWxb[D]


def lstm_cell_state(cache):
    """The cell states c_1..c_T, (N, T, H), from an :func:`lstm_forward` cache."""
    return cache[5][1:].transpose(1, 0, 2)
