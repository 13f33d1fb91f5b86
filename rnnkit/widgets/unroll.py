"""Unrolling explorer (notebook 01-rnn-basics): a tanh RNN run over a short sequence, step by step.

The network reads one number per time step, x_t for t = 1 ... T, and keeps H hidden
units, h_t = tanh(x_t Wx + h_(t-1) Wh + b), starting from h_0 = 0. The same Wx, Wh and b serve every
step. A slider (with a play button that animates it) moves over the time steps; the
figure draws the unrolled network up to that step and the hidden state of every unit so
far. Two more controls choose the input sequence and scale the recurrent matrix, which
sets how long the state remembers.

:func:`unroll` computes a view from the control values alone; :class:`UnrollExplorer`
wires it to ipywidgets and draws it with matplotlib's Agg backend into PNG bytes.
"""
import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..rnn import rnn_forward

SEQUENCES = ("pulse at t = 1", "step from t = 4", "sine wave", "alternating sign")


def make_sequence(kind, T):
    """The input sequence ``kind`` (one of SEQUENCES) of length T: x_1 ... x_T as a (T,) array."""
    t = np.arange(1, T + 1)
    if kind == "pulse at t = 1":
        return (t == 1).astype(np.float64)
    if kind == "step from t = 4":
        return (t >= 4).astype(np.float64)
    if kind == "sine wave":
        return np.sin(2 * np.pi * t / 6)
    if kind == "alternating sign":
        return np.where(t % 2 == 0, 1.0, -1.0)
    raise ValueError(f"kind: expected one of {', '.join(SEQUENCES)}, got {kind!r}")


def parameters(H, seed=0):
    """Fixed weights of the explorer's RNN: Wx (1, H), a random rotation Q (H, H), b (H,)."""
    rng = np.random.default_rng(seed)
    Wx = rng.uniform(0.8, 1.6, size=(1, H)) * rng.choice([-1.0, 1.0], size=(1, H))
    Q, R = np.linalg.qr(rng.standard_normal((H, H)))
    Q *= np.sign(np.diag(R))  # a uniformly random orthogonal matrix
    return Wx, Q, np.zeros(H)


def unroll(kind="pulse at t = 1", t=1, recurrent_scale=0.9, T=10, H=4, seed=0):
    """The view at time step ``t`` (1 ... T): the whole run, and what is known up to step t.

    recurrent_scale multiplies an orthogonal recurrent matrix, so it is the factor by
    which the recurrent term can stretch the state at each step (before the tanh).
    Returns a dict: x (T,) the inputs x_1 ... x_T, h (T, H) the hidden states h_1 ... h_T
    (row s is h_(s+1)), t, known (t, H) the states up to step t, norm (T,) the size |h_t|
    of each state, and the control values.
    """
    if not 1 <= t <= T:
        raise ValueError(f"t: expected a time step in [1, {T}], got {t}")
    if recurrent_scale < 0:
        raise ValueError(f"recurrent_scale: expected a number >= 0, got {recurrent_scale}")
    x = make_sequence(kind, T)
    Wx, Q, b = parameters(H, seed)
    h, _ = rnn_forward(x.reshape(1, T, 1), np.zeros((1, H)), Wx, recurrent_scale * Q, b)
    h = h[0]
    return {"x": x, "h": h, "t": int(t), "known": h[:t], "norm": np.linalg.norm(h, axis=1),
            "kind": kind, "recurrent_scale": float(recurrent_scale)}


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    return buf.getvalue()


def _arrow(ax, start, end, color):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color=color, lw=1.2))


def draw(state):
    """PNG bytes of the view: the unrolled network up to step t, and the hidden states so far."""
    x, h, t = state["x"], state["h"], state["t"]
    T, H = h.shape
    fig = Figure(figsize=(9, 4.6), layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=[1.1, 1])

    # The unrolled network: one copy of the cell per time step, sharing Wx, Wh and b.
    lim = max(1.0, np.abs(h).max())
    for s in range(T):  # column s is time step s + 1
        seen = s < t
        edge = "black" if seen else "0.8"
        colour = "tab:red" if s == t - 1 else ("0.35" if seen else "0.8")
        top.add_patch(_box(s, 0.0, edge))
        top.text(s, 0.0, f"{x[s]:+.1f}" if seen else "", ha="center", va="center", fontsize=8)
        shade = 0.5 + 0.5 * np.tanh(state["norm"][s] / lim) if seen else 0.0
        top.add_patch(_box(s, 1.0, edge, face=(1.0, 1.0 - 0.6 * shade, 1.0 - 0.6 * shade) if seen else "white"))
        top.text(s, 1.0, f"h{s + 1}", ha="center", va="center", fontsize=8, color=colour)
        _arrow(top, (s, 0.22), (s, 0.78), edge)
        if s > 0:
            _arrow(top, (s - 0.7, 1.0), (s - 0.3, 1.0), "black" if seen else "0.8")
    _arrow(top, (-0.95, 1.0), (-0.3, 1.0), "black")
    top.text(-0.95, 1.25, "h0 = 0", fontsize=8)
    top.text(-0.95, 0.0, "x_t", fontsize=9, va="center")
    top.text(T - 0.5, 0.5, "Wx: up\nWh: across\nthe same at\nevery step", fontsize=8, va="center")
    top.set_xlim(-1.1, T + 0.9)
    top.set_ylim(-0.45, 1.5)
    top.axis("off")
    top.set_title(f"unrolled over {T} steps, now at t = {t}: "
                  f"h_t = tanh(x_t Wx + h_(t-1) Wh + b),  |h_t| = {state['norm'][t - 1]:.2f}", fontsize=10)

    # The hidden state of every unit up to step t.
    steps = np.arange(1, t + 1)
    for unit in range(H):
        bottom.plot(steps, h[:t, unit], "o-", ms=4, label=f"unit {unit}")
    bottom.bar(steps, x[:t], color="0.85", width=0.5, label="input x_t", zorder=0)
    bottom.set_xlim(0.5, T + 0.5)
    bottom.set_ylim(-1.1, 1.1)
    bottom.axhline(0, color="0.6", lw=0.8)
    bottom.set_xlabel("time step t")
    bottom.set_ylabel("hidden state")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    bottom.grid(alpha=0.3)
    bottom.set_title(f"input: {state['kind']};  recurrent scale {state['recurrent_scale']:.2f}", fontsize=9)
    return _png(fig)


def _box(s, y, edge, face="white"):
    return FancyBboxPatch((s - 0.3, y - 0.22), 0.6, 0.44, boxstyle="round,pad=0.02", ec=edge, fc=face, lw=1.2)


class UnrollExplorer:
    """ipywidgets explorer of an RNN unrolled through time; display ``explorer.widget``.

    T: the length of the sequence; H: the number of hidden units; seed: the weights.
    """

    def __init__(self, T=10, H=4, seed=0, kind="pulse at t = 1", recurrent_scale=0.9):
        import ipywidgets as w

        self.T, self.H, self.seed = T, H, seed
        self.controls = {
            "t": w.IntSlider(value=1, min=1, max=T, description="time step t"),
            "play": w.Play(value=1, min=1, max=T, interval=700, description="play"),
            "sequence": w.Dropdown(options=SEQUENCES, value=kind, description="input"),
            "recurrent_scale": w.FloatSlider(value=recurrent_scale, min=0.0, max=2.0, step=0.05,
                                             description="scale of Wh", continuous_update=False),
        }
        w.jslink((self.controls["play"], "value"), (self.controls["t"], "value"))
        self.image = w.Image(format="png")
        self.png = b""
        self.state = {}
        for key in ("t", "sequence", "recurrent_scale"):
            self.controls[key].observe(self.update, names="value")
        self.widget = w.VBox([
            w.HBox([self.controls["play"], self.controls["t"]]),
            w.HBox([self.controls["sequence"], self.controls["recurrent_scale"]]),
            self.image,
        ])
        self.update()

    def compute(self):
        """The state for the current control values (a pure function of them)."""
        c = self.controls
        return unroll(c["sequence"].value, c["t"].value, c["recurrent_scale"].value, self.T, self.H, self.seed)

    def update(self, change=None):
        self.state = self.compute()
        self.png = draw(self.state)
        self.image.value = self.png
