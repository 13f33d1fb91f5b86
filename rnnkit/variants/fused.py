"""The fused sequence path of rnnkit against the cell-by-cell path, and a timer for both.

A recurrent layer has two kinds of work. The recurrent product h_{t-1} Wh must wait for the
previous step, but the input product x_t Wx does not: cuDNN (and rnnkit's ``*_forward``)
computes it for all T steps as one (T*N, D) x (D, G*H) matrix product before the loop, and
in the backward pass forms dWx and dWh as one product each over all steps after the loop.
One large GEMM runs near the machine's peak; T small ones pay T times the call overhead and
reread Wx T times. cuDNN fuses further (the gate nonlinearities of a step in one kernel, the
layers of a stack in a wavefront); in NumPy the GEMMs and the number of Python-level calls
are what can be saved.

``cellwise_forward`` / ``cellwise_backward`` compute the same function the naive way, a
loop over rnnkit's ``*_step_forward`` / ``*_step_backward``, so the two can be compared for
equality and for speed (:func:`time_paths`).
"""
import time

import numpy as np

from .._validation import Shapes
from ..gru import gru_step_backward, gru_step_forward
from ..lstm import lstm_step_backward, lstm_step_forward
from ..rnn import rnn_step_backward, rnn_step_forward
from ._cells import check_cell, init_params, sequence_backward, sequence_forward


def cellwise_forward(x, h0, params, cell="lstm"):
    """Run ``cell`` over x (N, T, D) from h0 (N, H) by calling its step function T times.

    params: {"Wx", "Wh", "b"} (a GRU with b of shape (2, 3H) is the reset-after form).
    Returns h (N, T, H) and the cache: the list of the step caches.
    """
    check_cell(cell)
    x = Shapes().array("x", x, "N T D")
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    N, T, _ = x.shape
    h = np.empty((N, T, np.shape(h0)[1]), dtype=x.dtype)
    h_prev, c_prev = h0, np.zeros_like(h0)
    steps = []
    for t in range(T):
        if cell == "lstm":
            h_prev, c_prev, cache = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)
        elif cell == "gru":
            h_prev, cache = gru_step_forward(x[:, t], h_prev, Wx, Wh, b, reset_after=np.ndim(b) == 2)
        else:
            h_prev, cache = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)
        h[:, t] = h_prev
        steps.append(cache)
    return h, (cell, steps)


def cellwise_backward(dh, cache):
    """Backward pass of :func:`cellwise_forward`, one step-backward call per time step.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H) and the gradients {"Wx", "Wh", "b"},
    accumulated over the steps one small product at a time.
    """
    cell, steps = cache
    x0 = steps[0][0]
    N, D = x0.shape
    T = len(steps)
    dh = np.asarray(dh)
    if dh.ndim != 3 or dh.shape[:2] != (N, T):
        raise ValueError(f"dh: expected shape (N, T, H) with N = {N}, T = {T}, got {dh.shape}")
    dx = np.empty((N, T, D), dtype=x0.dtype)
    carry = np.zeros_like(dh[:, 0])
    dc = np.zeros_like(carry)
    total = None
    for t in range(T - 1, -1, -1):
        if cell == "lstm":
            dx[:, t], carry, dc, *g = lstm_step_backward(dh[:, t] + carry, dc, steps[t])
        elif cell == "gru":
            dx[:, t], carry, *g = gru_step_backward(dh[:, t] + carry, steps[t])
        else:
            dx[:, t], carry, *g = rnn_step_backward(dh[:, t] + carry, steps[t])
        total = g if total is None else [a + b for a, b in zip(total, g)]
    return dx, carry, dict(zip(("Wx", "Wh", "b"), total))


def time_paths(cell="lstm", N=32, T=50, D=64, H=128, repeats=7, dtype=np.float64, seed=0):
    """Median seconds of forward + backward for both paths, runs interleaved.

    The two paths alternate within one process (fused, cellwise, fused, ...) so that a
    change in the machine's load hits both alike. Returns {"fused": s, "cellwise": s,
    "speedup": cellwise / fused}.
    """
    rng = np.random.default_rng(seed)
    params = init_params(cell, D, H, rng, dtype)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = np.zeros((N, H), dtype=dtype)
    dh = rng.standard_normal((N, T, H)).astype(dtype)

    def fused():
        _, cache = sequence_forward(cell, x, h0, params)
        sequence_backward(cell, dh, cache)

    def cellwise():
        _, cache = cellwise_forward(x, h0, params, cell)
        cellwise_backward(dh, cache)

    runs = {"fused": [], "cellwise": []}
    fused(), cellwise()  # warm up
    for _ in range(repeats):
        for name, fn in (("fused", fused), ("cellwise", cellwise)):
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)
    result = {name: float(np.median(v)) for name, v in runs.items()}
    result["speedup"] = result["cellwise"] / result["fused"]
    return result
