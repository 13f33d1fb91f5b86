"""Every variant behind one interface, a shared task, and measured training runs for comparing them.

A *variant* here is a recipe of three functions:

    init(D, H, rng)          -> params, a tree (dicts, lists, tuples) of arrays
    forward(x, params)       -> h (N, T, F), cache          F = H, or 2H when bidirectional
    backward(dh, cache)      -> grads, a tree shaped like params

``VARIANTS`` maps a name to its recipe; :func:`compare_variants` trains them all on one task
with a linear read-out of the last step and Adam, taking one step of every variant in
turn (round robin) so that a change in the machine's load falls on all of them alike, and
reports parameters, seconds per training step and the loss reached.

The task is the adding problem (Hochreiter and Schmidhuber, 1997): at every step the input
is a value in [0, 1) and a marker; exactly two markers are 1, one in each half of the
sequence, and the target at the end is the sum of the two marked values. Always answering
1 (the mean) gives a mean squared error of 1/6; solving it means remembering one value
over up to T steps while ignoring the others.
"""
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..clip import clip_grad_norm
from ..optim import Adam
from ._cells import init_params as _init_cell
from .dilated import stacked_dilated, stacked_dilated_backward
from .grid import grid_lstm_backward, grid_lstm_forward, init_grid_params
from .mgu import mgu_backward, mgu_forward
from .peephole import peephole_backward, peephole_forward
from .phased import phased_lstm_backward, phased_lstm_forward
from .stacked import stacked_backward, stacked_forward


@dataclass(frozen=True)
class Variant:
    init: Callable
    forward: Callable
    backward: Callable
    note: str


def _zeros(x, H):
    return np.zeros((x.shape[0], H), dtype=x.dtype)


def _stack(cell, L, bidirectional=False, residual=False, note=""):
    def init(D, H, rng):
        width = 2 * H if bidirectional else H
        layers = []
        for l in range(L):
            d_in = D if l == 0 else width
            if bidirectional:
                layers.append((_init_cell(cell, d_in, H, rng), _init_cell(cell, d_in, H, rng)))
            else:
                layers.append(_init_cell(cell, d_in, H, rng))
        return {"layers": layers}

    def forward(x, params):
        return stacked_forward(x, params["layers"], cell, bidirectional, residual=residual)

    def backward(dh, cache):
        _, _, grads = stacked_backward(dh, cache)
        return {"layers": grads}

    return Variant(init, forward, backward, note)


def _gated(forward_fn, backward_fn, G, peepholes=False, note=""):
    def init(D, H, rng):
        k = 1.0 / np.sqrt(H)
        params = {"Wx": rng.uniform(-k, k, (D, G * H)), "Wh": rng.uniform(-k, k, (H, G * H)),
                  "b": rng.uniform(-k, k, G * H)}
        if peepholes:
            params["P"] = rng.uniform(-k, k, (3, H))
        return params

    def forward(x, p):
        extra = (p["P"],) if peepholes else ()
        return forward_fn(x, _zeros(x, p["Wh"].shape[0]), p["Wx"], p["Wh"], p["b"], *extra)

    def backward(dh, cache):
        grads = backward_fn(dh, cache)
        names = ("Wx", "Wh", "b", "P") if peepholes else ("Wx", "Wh", "b")
        return dict(zip(names, grads[2:]))

    return Variant(init, forward, backward, note)


def _dilated(dilations, note):
    def init(D, H, rng):
        return {"layers": [_init_cell("rnn", D if l == 0 else H, H, rng) for l in range(len(dilations))]}

    def forward(x, params):
        return stacked_dilated(x, params["layers"], dilations, "rnn")

    def backward(dh, cache):
        return {"layers": stacked_dilated_backward(dh, cache)[1]}

    return Variant(init, forward, backward, note)


def _phased(note, r_on=0.2):
    def init(D, H, rng):
        p = _init_cell("lstm", D, H, rng)
        tau = np.exp(rng.uniform(np.log(2.0), np.log(40.0), H))  # log-uniform periods, in steps
        return {"lstm": p, "clock": {"tau": tau, "shift": rng.uniform(0, 1, H) * tau}}

    def forward(x, params):
        p, clock = params["lstm"], params["clock"]
        times = np.arange(x.shape[1], dtype=x.dtype)
        return phased_lstm_forward(x, times, _zeros(x, p["Wh"].shape[0]), p["Wx"], p["Wh"], p["b"],
                                   clock["tau"], clock["shift"], r_on=r_on)

    def backward(dh, cache):
        _, _, dWx, dWh, db = phased_lstm_backward(dh, cache)
        return {"lstm": {"Wx": dWx, "Wh": dWh, "b": db}}  # the clock is fixed

    return Variant(init, forward, backward, note)


def _grid(L, note):
    def init(D, H, rng):
        return init_grid_params(D, H, L, rng)

    def backward(dh, cache):
        return grid_lstm_backward(dh, cache)[1]

    return Variant(init, grid_lstm_forward, backward, note)


VARIANTS = {
    "RNN": _stack("rnn", 1, note="tanh, one layer"),
    "LSTM": _stack("lstm", 1, note="one layer"),
    "GRU": _stack("gru", 1, note="reset-after (cuDNN) form"),
    "MGU": _gated(mgu_forward, mgu_backward, 2, note="one gate"),
    "peephole LSTM": _gated(peephole_forward, peephole_backward, 4, peepholes=True, note="gates see c"),
    "bidirectional LSTM": _stack("lstm", 1, bidirectional=True, note="read-out sees both directions"),
    "stacked LSTM": _stack("lstm", 2, note="2 layers"),
    "residual GRU": _stack("gru", 3, residual=True, note="3 layers, skips on layers 2 and 3"),
    "dilated RNN": _dilated((1, 2, 4), note="3 tanh layers, dilations 1, 2, 4"),
    "phased LSTM": _phased(note="fixed clocks, periods 2 to 40 steps"),
    "grid LSTM": _grid(2, note="2 layers, memory along time and depth"),
}


def adding_problem(N, T, rng, dtype=np.float64):
    """x (N, T, 2): values and markers; y (N,): the sum of the two marked values."""
    if T < 2:
        raise ValueError(f"T: the adding problem needs T >= 2, got {T}")
    values = rng.uniform(0, 1, (N, T))
    first = rng.integers(0, T // 2, N)
    second = rng.integers(T // 2, T, N)
    markers = np.zeros((N, T))
    markers[np.arange(N), first] = 1
    markers[np.arange(N), second] = 1
    x = np.stack([values, markers], axis=-1).astype(dtype)
    return x, (values[np.arange(N), first] + values[np.arange(N), second]).astype(dtype)


def flatten(tree, prefix=""):
    """{'layers.0.Wx': array, ...}: the arrays of a tree, named by their path (views, not copies)."""
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, (list, tuple)):
        items = enumerate(tree)
    else:
        return {prefix: tree}
    out = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def count_parameters(params, grads_like=None):
    """Number of trained scalars: those that receive a gradient (a phased LSTM's clock does not)."""
    arrays = flatten(params if grads_like is None else grads_like)
    return int(sum(a.size for a in arrays.values()))


class Run:
    """One variant being trained: parameters, read-out, optimiser and what was measured."""

    def __init__(self, name, D, H, rng, lr):
        self.name, self.variant = name, VARIANTS[name]
        self.params = self.variant.init(D, H, rng)
        self.readout = None
        self.H, self.lr, self.rng = H, lr, rng
        self.losses, self.seconds = [], []
        self.optimizer = None

    def step(self, x, y):
        start = time.perf_counter()
        h, cache = self.variant.forward(x, self.params)
        last = h[:, -1]
        if self.readout is None:
            k = 1.0 / np.sqrt(last.shape[1])
            self.readout = {"Wy": self.rng.uniform(-k, k, last.shape[1]), "by": np.ones(1)}
        pred = last @ self.readout["Wy"] + self.readout["by"][0]
        err = pred - y
        loss = float(np.mean(err * err))
        dpred = 2 * err / len(y)
        dh = np.zeros_like(h)
        dh[:, -1] = np.outer(dpred, self.readout["Wy"])
        grads = flatten({"net": self.variant.backward(dh, cache),
                         "out": {"Wy": last.T @ dpred, "by": np.array([dpred.sum()])}})
        if self.optimizer is None:
            trained = flatten({"net": self.params, "out": self.readout})
            self.optimizer = Adam({k: trained[k] for k in grads}, lr=self.lr)
        clip_grad_norm(grads, 1.0)
        self.optimizer.step(grads)
        self.seconds.append(time.perf_counter() - start)
        self.losses.append(loss)
        return loss

    def evaluate(self, x, y):
        h, _ = self.variant.forward(x, self.params)
        pred = h[:, -1] @ self.readout["Wy"] + self.readout["by"][0]
        return float(np.mean((pred - y) ** 2))


def compare_variants(names=None, T=20, H=24, N=32, steps=300, lr=1e-2, seed=0, n_test=512):
    """Train every variant on the adding problem, round robin, and measure it.

    Returns a list of dicts: name, note, parameters, ms_per_step (median), train_loss (mean
    of the last tenth of the steps), test_loss (on n_test fresh sequences), losses (curve).
    """
    names = list(VARIANTS) if names is None else list(names)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"names: unknown variants {unknown}; choose from {list(VARIANTS)}")
    data_rng = np.random.default_rng(seed)
    runs = [Run(name, 2, H, np.random.default_rng(seed + 1 + i), lr) for i, name in enumerate(names)]
    for _ in range(steps):
        x, y = adding_problem(N, T, data_rng)
        for run in runs:
            run.step(x, y)
    x_test, y_test = adding_problem(n_test, T, np.random.default_rng(seed + 10_000))
    tail = max(1, steps // 10)
    return [{"name": run.name, "note": run.variant.note,
             "parameters": count_parameters(run.optimizer.params),
             "ms_per_step": 1e3 * float(np.median(run.seconds)),
             "train_loss": float(np.mean(run.losses[-tail:])),
             "test_loss": run.evaluate(x_test, y_test),
             "losses": run.losses} for run in runs]


def markdown_table(results):
    """The comparison as a Markdown table, one row a variant."""
    lines = ["| variant | parameters | ms per step | train MSE | test MSE | note |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        lines.append(f"| {r['name']} | {r['parameters']} | {r['ms_per_step']:.2f} | {r['train_loss']:.4f} "
                     f"| {r['test_loss']:.4f} | {r['note']} |")
    return "\n".join(lines)
