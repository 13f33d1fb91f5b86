"""GRU (Cho et al., 2014), gate blocks stacked in the order r, z, n.

    r, z = sigmoid(x Wx_rz + h_prev Wh_rz + b_rz)
    reset_after=False:  n = tanh(x Wx_n + (r * h_prev) Wh_n + b_n)          b: (3H,)
    reset_after=True:   n = tanh(x Wx_n + b_x,n + r * (h_prev Wh_n + b_h,n))  b: (2, 3H)
    h = (1 - z) * n + z * h_prev
"""
import numpy as np

from ._buffers import carve
from ._validation import Shapes, check_finite
from .activations import sigmoid_


def _check_params(s, Wx, Wh, b, reset_after):
    if not isinstance(reset_after, (bool, np.bool_)):
        raise ValueError(f"reset_after: expected True or False, got {reset_after!r}")
    Wx = s.array("Wx", Wx, "D 3H")
    Wh = s.array("Wh", Wh, "H 3H")
    try:
        b = s.array("b", b, "2 3H" if reset_after else "3H")
    except ValueError as err:
        hint = ("with reset_after=True, b stacks the input bias and the recurrent bias"
                if reset_after else "a (2, 3H) bias goes with reset_after=True")
        raise ValueError(f"{err} ({hint})") from None
    return Wx, Wh, b


def _step(ax, h_prev, Wh, bh, reset_after):
    """One recurrence given the input projection ax = x Wx + b_x, (N, 3H), modified in place.

    Returns h_next and what the backward needs: (gates r|z|n in ax, rec) where rec is
    r * h_prev (reset before) or h_prev Wh_n + b_h,n (reset after).
    """
    H = h_prev.shape[1]
    if reset_after:
        ah = h_prev @ Wh
        ah += bh
        ax[:, : 2 * H] += ah[:, : 2 * H]
        sigmoid_(ax[:, : 2 * H])
        rec = ah[:, 2 * H :]
        ax[:, 2 * H :] += ax[:, :H] * rec
    else:
        ax[:, : 2 * H] += h_prev @ Wh[:, : 2 * H]
        sigmoid_(ax[:, : 2 * H])
        rec = ax[:, :H] * h_prev
        ax[:, 2 * H :] += rec @ Wh[:, 2 * H :]
    n = ax[:, 2 * H :]
    np.tanh(n, out=n)
    z = ax[:, H : 2 * H]
    h_next = n + z * (h_prev - n)
    return h_next, rec


def _step_grads(dh, gates, h_prev, rec, Wh, reset_after, dax, dah):
    """Pre-activation gradients of one step into dax (input side) and dah (recurrent side).

    Returns dh_prev.
    """
    H = h_prev.shape[1]
    r, z, n = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
    dan = dh * (1.0 - z) * (1.0 - n * n)
    dax[:, 2 * H :] = dan
    np.multiply(dh * (h_prev - n), z * (1.0 - z), out=dax[:, H : 2 * H])
    dh_prev = dh * z
    if reset_after:
        np.multiply(dan * rec, r * (1.0 - r), out=dax[:, :H])
        np.multiply(dan, r, out=dah[:, 2 * H :])
    else:
        drh = dan @ Wh[:, 2 * H :].T
        np.multiply(drh * h_prev, r * (1.0 - r), out=dax[:, :H])
        dh_prev += drh * r
        dah[:, 2 * H :] = dan
    dah[:, : 2 * H] = dax[:, : 2 * H]
    if reset_after:
        dh_prev += dah @ Wh.T
    else:
        dh_prev += dah[:, : 2 * H] @ Wh[:, : 2 * H].T
    return dh_prev


def gru_step_forward(x, h_prev, Wx, Wh, b, reset_after=False):
    """One GRU step.

    Inputs: x (N, D), h_prev (N, H), Wx (D, 3H), Wh (H, 3H),
    b (3H,) or, with reset_after=True, (2, 3H) holding the input and recurrent biases.
    Returns h_next (N, H) and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N D")
    h_prev = s.array("h_prev", h_prev, "N H")
    Wx, Wh, b = _check_params(s, Wx, Wh, b, reset_after)
    ax = x @ Wx
    ax += b[0] if reset_after else b
    h_next, rec = _step(ax, h_prev, Wh, b[1] if reset_after else None, reset_after)
    check_finite(h_next, x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, b=b)
    return h_next, (x, h_prev, Wx, Wh, ax, rec, reset_after)


def gru_step_backward(dh_next, cache):
    """Backward pass of :func:`gru_step_forward`.

    Returns dx (N, D), dh_prev (N, H), dWx (D, 3H), dWh (H, 3H), db shaped like b.
    """
    x, h_prev, Wx, Wh, gates, rec, reset_after = cache
    dh_next = Shapes(gates.dtype, N=x.shape[0], H=h_prev.shape[1]).array("dh_next", dh_next, "N H")
    dax = np.empty_like(gates)
    dah = np.empty_like(gates)
    dh_prev = _step_grads(dh_next, gates, h_prev, rec, Wh, reset_after, dax, dah)
    if reset_after:
        dWh = h_prev.T @ dah
        db = np.stack([dax.sum(axis=0), dah.sum(axis=0)])
    else:
        dWh = _dWh_reset_before(h_prev, rec, dah)
        db = dax.sum(axis=0)
    return dax @ Wx.T, dh_prev, x.T @ dax, dWh, db


def _dWh_reset_before(h_prev, rh, dah):
    """dWh when n uses (r * h_prev) Wh_n: the n block multiplies r * h_prev, not h_prev."""
    H = h_prev.shape[-1]
    h2 = h_prev.reshape(-1, H)
    d2 = dah.reshape(-1, 3 * H)
    return np.concatenate([h2.T @ d2[:, : 2 * H], rh.reshape(-1, H).T @ d2[:, 2 * H :]], axis=1)


def _negate_rz(W, H):
    """W (..., 3H) with the r and z columns negated: then exp of a pre-activation
    gives exp(-a), and sigmoid(a) = 1 / (1 + exp(-a)) is one exp, one add and one
    reciprocal (see the fused layout of lstm.py)."""
    out = W.copy()
    np.negative(out[..., : 2 * H], out=out[..., : 2 * H])
    return out


def gru_forward(x, h0, Wx, Wh, b, reset_after=False):
    """Run a GRU over a whole sequence.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,) or (2, 3H) with
    reset_after=True. Returns h (N, T, H) and the cache.

    Inside, the input projection of every step is one product before the loop, the
    recurrent bias of r and z (which adds like the input bias) is folded into it, and
    the reset and update gates are computed as 1 / (1 + exp(-a)) from negated weights.
    """
    s = Shapes()
    x = s.array("x", x, "N T D")
    h0 = s.array("h0", h0, "N H")
    Wx, Wh, b = _check_params(s, Wx, Wh, b, reset_after)
    N, T, D = x.shape
    H = h0.shape[1]
    # hs[0] = h0, hs[t + 1] = h_t; recs[t] = r * h_prev (reset before) or h_prev Wh_n + b_h,n (after)
    x_tm, gates, hs, recs = carve(x.dtype, (T, N, D), (T, N, 3 * H), (T + 1, N, H), (T, N, H))
    x_tm[...] = x.transpose(1, 0, 2)
    bias = b[0].copy() if reset_after else b.copy()
    if reset_after:
        bias[: 2 * H] += b[1, : 2 * H]
    np.matmul(x_tm.reshape(T * N, D), _negate_rz(Wx, H), out=gates.reshape(T * N, 3 * H))
    gates += _negate_rz(bias, H)
    Wh_neg = _negate_rz(Wh, H)
    hs[0] = h0
    ah = np.empty((N, 3 * H), dtype=x.dtype)
    rn = np.empty((N, H), dtype=x.dtype)
    rz, r, z, n = gates[:, :, : 2 * H], gates[:, :, :H], gates[:, :, H : 2 * H], gates[:, :, 2 * H :]
    with np.errstate(over="ignore", under="ignore"):  # exp(-a) = inf or 0: sigmoid's exact limits
        for t in range(T):
            if reset_after:
                np.matmul(hs[t], Wh_neg, out=ah)
                rz[t] += ah[:, : 2 * H]
                np.add(ah[:, 2 * H :], b[1, 2 * H :], out=recs[t])
            else:
                np.matmul(hs[t], Wh_neg[:, : 2 * H], out=ah[:, : 2 * H])
                rz[t] += ah[:, : 2 * H]
            np.exp(rz[t], out=rz[t])
            rz[t] += 1.0
            np.reciprocal(rz[t], out=rz[t])
            if reset_after:
                np.multiply(r[t], recs[t], out=rn)
            else:
                np.multiply(r[t], hs[t], out=recs[t])
                np.matmul(recs[t], Wh[:, 2 * H :], out=rn)
            n[t] += rn
            np.tanh(n[t], out=n[t])
            h = hs[t + 1]
            np.subtract(hs[t], n[t], out=h)  # h = n + z (h_prev - n)
            h *= z[t]
            h += n[t]
    check_finite(hs[T], x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    return hs[1:].transpose(1, 0, 2), (x_tm, Wx, Wh, gates, hs, recs, reset_after)


def gru_backward(dh, cache):
    """Backward pass of :func:`gru_forward`.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), db shaped like b.
    """
    x_tm, Wx, Wh, gates, hs, recs, reset_after = cache
    T, N, D = x_tm.shape
    H = hs.shape[2]
    dh = Shapes(gates.dtype, N=N, T=T, H=H).array("dh", dh, "N T H")
    dax, dah = carve(gates.dtype, gates.shape, gates.shape)
    carry = np.zeros((N, H), dtype=gates.dtype)
    for t in range(T - 1, -1, -1):
        carry = _step_grads(dh[:, t] + carry, gates[t], hs[t], recs[t], Wh, reset_after, dax[t], dah[t])
    dax2 = dax.reshape(T * N, 3 * H)
    dah2 = dah.reshape(T * N, 3 * H)
    dx = (dax2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2)
    dWx = x_tm.reshape(T * N, D).T @ dax2
    if reset_after:
        dWh = hs[:-1].reshape(T * N, H).T @ dah2
        db = np.stack([dax2.sum(axis=0), dah2.sum(axis=0)])
    else:
        dWh = _dWh_reset_before(hs[:-1], recs, dah2)
        db = dax2.sum(axis=0)
    return dx, carry, dWx, dWh, db
