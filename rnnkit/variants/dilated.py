"""Dilated recurrent layer (Chang et al., 2017): the recurrence skips d steps.

    h_t = cell(x_t, h_{t-d})        for t = 0 .. T-1, with h_{t-d} = h0 when t < d

Step t only ever meets steps t - d, t - 2d, ...: the sequence splits into d interleaved
chains (t = k, k+d, k+2d, ... for k = 0 .. d-1) that do not interact. That is how it is
computed here: the chains are stacked along the batch axis and run by rnnkit's own
sequence function in one call, each chain T/d steps long. A gradient then crosses a
distance of L steps in L/d recurrences. Stacking layers with dilations 1, 2, 4, ... gives
every position a view of the whole past with short paths (see :func:`stacked_dilated`).
"""
import numpy as np

from .._validation import Shapes
from ._cells import check_cell, hidden_size, sequence_backward, sequence_forward


def _check_dilation(dilation):
    if isinstance(dilation, bool) or not isinstance(dilation, (int, np.integer)) or dilation < 1:
        raise ValueError(f"dilation: expected an integer >= 1, got {dilation!r}")
    return int(dilation)


def _to_chains(a, d):
    """(N, T, F) -> (N*d, ceil(T/d), F), chain k of row n at row n*d + k; zero-padded at the end."""
    N, T, F = a.shape
    L = -(-T // d)
    padded = np.zeros((N, L * d, F), dtype=a.dtype)
    padded[:, :T] = a
    return padded.reshape(N, L, d, F).transpose(0, 2, 1, 3).reshape(N * d, L, F)


def _from_chains(a, N, T):
    """Inverse of :func:`_to_chains`: (N*d, L, F) -> (N, T, F)."""
    Nd, L, F = a.shape
    d = Nd // N
    return a.reshape(N, d, L, F).transpose(0, 2, 1, 3).reshape(N, L * d, F)[:, :T]


def dilated_forward(x, params, dilation, cell="rnn", h0=None):
    """Run a dilated recurrent layer.

    Inputs:
    - x: (N, T, D)
    - params: {"Wx": (D, G*H), "Wh": (H, G*H), "b"} of an rnnkit cell
    - dilation: d >= 1; d = 1 is the ordinary layer
    - cell: "rnn", "lstm" or "gru"
    - h0: (N, H) or None for zeros, the state every chain starts from

    Returns h (N, T, H) and the cache. Padding steps appended to make T a multiple of d
    come after every real step, so they change no output.
    """
    check_cell(cell)
    d = _check_dilation(dilation)
    s = Shapes()
    x = s.array("x", x, "N T D")
    N, T, _ = x.shape
    H = hidden_size(params)
    if h0 is not None:
        h0 = Shapes(x.dtype, N=N, H=H).array("h0", h0, "N H")
        h0 = np.repeat(h0, d, axis=0)
    h, cache = sequence_forward(cell, _to_chains(x, d), h0, params)
    return _from_chains(h, N, T), (cell, d, N, T, cache)


def dilated_backward(dh, cache):
    """Backward pass of :func:`dilated_forward`.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H) and the gradients {"Wx", "Wh", "b"}.
    """
    cell, d, N, T, inner = cache
    dh = np.asarray(dh)
    if dh.ndim != 3 or dh.shape[:2] != (N, T):
        raise ValueError(f"dh: expected shape (N, T, H) with N = {N}, T = {T}, got {dh.shape}")
    dx, dh0, grads = sequence_backward(cell, _to_chains(dh, d), inner)
    return _from_chains(dx, N, T), dh0.reshape(N, d, -1).sum(axis=1), grads


def stacked_dilated(x, layers, dilations, cell="rnn"):
    """Layers with growing dilations (e.g. 1, 2, 4, 8) from zero states. Returns h, cache."""
    if len(layers) != len(dilations):
        raise ValueError(f"dilations: expected {len(layers)} values (one per layer), got {len(dilations)}")
    caches = []
    h = x
    for params, d in zip(layers, dilations):
        h, cache = dilated_forward(h, params, d, cell)
        caches.append(cache)
    return h, caches


def stacked_dilated_backward(dh, caches):
    """Backward pass of :func:`stacked_dilated`: dx and the list of per-layer gradients."""
    grads = []
    for cache in reversed(caches):
        dh, _, g = dilated_backward(dh, cache)
        grads.append(g)
    return dh, grads[::-1]
