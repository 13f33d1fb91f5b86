"""The three core cells of rnnkit behind one interface, for the variants that wrap any of them.

A layer's parameters are a dict ``{"Wx": (D, G*H), "Wh": (H, G*H), "b": ...}`` with
G = 1 (``"rnn"``), 4 (``"lstm"``) or 3 (``"gru"``). A GRU whose ``b`` has shape (2, 3H)
uses the reset-after (cuDNN / PyTorch) form, one with ``b`` of shape (3H,) the
reset-before form: the bias shape says which, as in :func:`rnnkit.gru_forward`.

Every call goes to rnnkit's own sequence functions; nothing here repeats their math.
"""
import numpy as np

from ..gru import gru_backward, gru_forward
from ..lstm import lstm_backward, lstm_forward
from ..rnn import rnn_backward, rnn_forward

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of 'rnn', 'lstm', 'gru', got {cell!r}")
    return cell


def check_params(name, params):
    """params must be a dict with the arrays Wx, Wh and b."""
    if not isinstance(params, dict) or not {"Wx", "Wh", "b"} <= set(params):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{name}: expected a dict with the arrays 'Wx', 'Wh' and 'b', got {got}")
    return params


def hidden_size(params):
    return np.shape(params["Wh"])[0]


def sequence_forward(cell, x, h0, params, c0=None, name="params"):
    """Run ``cell`` over x (N, T, D) from h0 (N, H) (None: zeros). Returns h (N, T, H), cache.

    A shape error is re-raised with ``name`` in front, so it says which layer is wrong.
    """
    check_cell(cell)
    check_params(name, params)
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    if h0 is None:
        h0 = np.zeros((np.shape(x)[0], hidden_size(params)), dtype=np.asarray(Wh).dtype)
    try:
        if cell == "lstm":
            return lstm_forward(x, h0, Wx, Wh, b, c0)
        if cell == "gru":
            return gru_forward(x, h0, Wx, Wh, b, reset_after=np.ndim(b) == 2)
        return rnn_forward(x, h0, Wx, Wh, b)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def sequence_backward(cell, dh, cache):
    """Backward of :func:`sequence_forward`: dx (N, T, D), dh0 (N, H), grads {Wx, Wh, b}."""
    if cell == "lstm":
        dx, dh0, dWx, dWh, db = lstm_backward(dh, cache)
    elif cell == "gru":
        dx, dh0, dWx, dWh, db = gru_backward(dh, cache)
    else:
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    return dx, dh0, {"Wx": dWx, "Wh": dWh, "b": db}


def init_params(cell, D, H, rng, dtype=np.float64, reset_after=True):
    """Uniform(-1/sqrt(H), 1/sqrt(H)) weights, as PyTorch initialises its recurrent layers."""
    check_cell(cell)
    G = GATES[cell]
    k = 1.0 / np.sqrt(H)
    b_shape = (2, G * H) if cell == "gru" and reset_after else (G * H,)
    return {
        "Wx": rng.uniform(-k, k, (D, G * H)).astype(dtype),
        "Wh": rng.uniform(-k, k, (H, G * H)).astype(dtype),
        "b": rng.uniform(-k, k, b_shape).astype(dtype),
    }
