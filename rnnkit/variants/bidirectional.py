"""Bidirectional recurrent layer: one pass forward in time, one backward, outputs side by side.

    h_fwd = cell(x_1 .. x_T)                 (N, T, H), h_fwd[t] has seen x_1 .. x_t
    h_bwd = reverse(cell(x_T .. x_1))        (N, T, H), h_bwd[t] has seen x_t .. x_T
    h     = concat(h_fwd, h_bwd, axis=-1)    (N, T, 2H)

The two directions have their own parameters and share nothing else. Position t sees the
whole sequence, but each direction still carries information step by step: the distance a
gradient has to travel to link two positions is the same as in a one-way layer.
Any of rnnkit's cells can be used; the layout matches PyTorch's ``bidirectional=True``.
"""
import numpy as np

from .._validation import Shapes
from ._cells import check_cell, check_params, hidden_size, sequence_backward, sequence_forward


def _pair(name, value):
    if value is None:
        return None, None
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name}: expected None or a pair (forward, backward) of (N, H) arrays")
    return value


def bidirectional_forward(x, params_f, params_b, cell="lstm", h0=None, c0=None):
    """Run ``cell`` over x in both directions.

    Inputs:
    - x: (N, T, D)
    - params_f, params_b: dicts {"Wx": (D, G*H), "Wh": (H, G*H), "b": (G*H,)} of the
      forward and the backward direction (a GRU's b may be (2, 3H), the reset-after form)
    - cell: "rnn", "lstm" or "gru"
    - h0: None (zeros) or a pair (h0_f, h0_b) of (N, H) initial states; h0_b is the state
      the backward direction starts from, before it reads x_T
    - c0: for "lstm", None (zeros) or a pair of (N, H) initial cell states

    Returns h (N, T, 2H): h[..., :H] forward direction, h[..., H:] backward direction; cache.
    """
    check_cell(cell)
    x = Shapes().array("x", x, "N T D")
    h0_f, h0_b = _pair("h0", h0)
    c0_f, c0_b = _pair("c0", c0)
    check_params("params_f", params_f)
    check_params("params_b", params_b)
    H = hidden_size(params_f)
    if hidden_size(params_b) != H:
        raise ValueError(
            f"params_b: Wh has {hidden_size(params_b)} rows but params_f has {H}; "
            "both directions need the same hidden size")
    h_f, cache_f = sequence_forward(cell, x, h0_f, params_f, c0_f, name="params_f")
    h_b, cache_b = sequence_forward(cell, x[:, ::-1], h0_b, params_b, c0_b, name="params_b")
    return np.concatenate([h_f, h_b[:, ::-1]], axis=-1), (cell, H, cache_f, cache_b)


def bidirectional_backward(dh, cache):
    """Backward pass of :func:`bidirectional_forward`.

    dh: (N, T, 2H). Returns dx (N, T, D), dh0 = (dh0_f, dh0_b) each (N, H),
    grads_f and grads_b, dicts {"Wx", "Wh", "b"} shaped like the parameters.
    """
    cell, H, cache_f, cache_b = cache
    dh = np.asarray(dh)
    if dh.ndim != 3 or dh.shape[-1] != 2 * H:
        raise ValueError(f"dh: expected shape (N, T, 2H) with 2H = {2 * H}, got {dh.shape}")
    dx_f, dh0_f, grads_f = sequence_backward(cell, dh[..., :H], cache_f)
    dx_b, dh0_b, grads_b = sequence_backward(cell, dh[:, ::-1, H:], cache_b)
    return dx_f + dx_b[:, ::-1], (dh0_f, dh0_b), grads_f, grads_b
