"""GRU gate explorer (notebook 05-gru): move the reset and update gates, watch the state.

Two modes, as in :mod:`rnnkit.widgets.lstm_gates`:

- *manual*: one GRU unit with its gates held at the slider values r, z in [0, 1]; the
  candidate reads the input sequence through w_n and the reset previous state through u:
  n_t = tanh(w_n x_t + u r h_{t-1}), h_t = (1 - z) n_t + z h_{t-1} (rnnkit's convention:
  z near 1 keeps the old state). See :func:`manual_trace`.
- *trained*: the gates of a trained GRU on a recall-task token sequence: r, z and n for
  every hidden unit over time, and h of one unit. See :func:`trained_trace`.
"""
import numpy as np
from matplotlib.figure import Figure

from ..activations import sigmoid, softmax
from ..tasks import encode_recall
from .lstm_gates import DEFAULT_X, _png, parse_numbers


def manual_trace(x, r, z, w_n, u, h0=0.0):
    """One GRU unit with constant gates. x: (T,) inputs; r, z in [0, 1]; w_n, u weights.

    Returns dict of (T,) arrays x, n, h and the scalars back.
    """
    x = np.asarray(x, dtype=np.float64)
    for name, v in (("r", r), ("z", z)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name}: a gate value lies in [0, 1], got {v}")
    n = np.empty_like(x)
    h = np.empty_like(x)
    h_prev = h0
    for t in range(x.size):
        n[t] = np.tanh(w_n * x[t] + u * r * h_prev)
        h_prev = h[t] = (1 - z) * n[t] + z * h_prev
    return {"x": x, "n": n, "h": h, "r": r, "z": z, "w_n": w_n, "u": u}


def trained_trace(params, tokens, n_symbols):
    """Run a trained GRU on one recall-task sequence and record its gates.

    params: {"Wx" (D, 3H), "Wh" (H, 3H), "b" (3H,) or (2, 3H)} (the shape of b tells the
    reset placement) and optionally {"Wy", "by"}. tokens: (T,) ints in [0, n_symbols).
    Returns dict: r, z, n, h each (T, H), tokens, and probs if the read-out is given.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 1 or tokens.size == 0 or tokens.min() < 0 or tokens.max() >= n_symbols:
        raise ValueError(f"tokens: expected a sequence of symbols in [0, {n_symbols}), got {tokens.tolist()}")
    x = encode_recall(tokens, n_symbols)[0]
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    reset_after = np.ndim(b) == 2
    H = Wh.shape[0]
    bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    h = np.zeros(H)
    rec = {k: [] for k in "rznh"}
    for t in range(x.shape[0]):
        ax = x[t] @ Wx + bx
        ah = h @ Wh + bh
        r = sigmoid(ax[:H] + ah[:H])
        z = sigmoid(ax[H : 2 * H] + ah[H : 2 * H])
        if reset_after:
            n = np.tanh(ax[2 * H :] + r * ah[2 * H :])
        else:
            n = np.tanh(ax[2 * H :] + (r * h) @ Wh[:, 2 * H :])
        h = (1 - z) * n + z * h
        for name, value in zip("rznh", (r, z, n, h)):
            rec[name].append(value)
    out = {k: np.array(v) for k, v in rec.items()}
    out["tokens"] = tokens
    if "Wy" in params:
        out["probs"] = softmax(h @ params["Wy"] + params["by"])
    return out


def draw_manual(state):
    fig = Figure(figsize=(8, 4.4), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    t = np.arange(state["x"].size)
    axes[0].bar(t, state["x"], color="0.75", label="input $x_t$")
    axes[0].plot(t, state["n"], "o-", color="tab:purple", label="candidate $n_t$")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].plot(t, state["h"], "o-", color="tab:red")
    axes[1].set_ylabel("hidden state $h_t$")
    axes[1].set_xlabel("time step t")
    for ax in axes:
        ax.axhline(0, color="0.6", lw=0.8)
        ax.grid(alpha=0.3)
    axes[0].set_title(f"r = {state['r']:.2f}, z = {state['z']:.2f}, w_n = {state['w_n']:.2f}, "
                      f"u = {state['u']:.2f}:   n_t = tanh(w_n x_t + u r h_(t-1)),   "
                      "h_t = (1-z) n_t + z h_(t-1)", fontsize=9)
    return _png(fig)


def draw_trained(state, unit):
    fig = Figure(figsize=(9, 6.4), layout="constrained")
    grid = fig.add_gridspec(3, 2)
    T = state["h"].shape[0]
    names = {"r": "reset gate r", "z": "update gate z (1 keeps the old state)", "n": "candidate n",
             "h": "hidden state h"}
    for k, key in enumerate("rznh"):
        ax = fig.add_subplot(grid[k // 2, k % 2])
        signed = key in "nh"
        im = ax.imshow(state[key].T, aspect="auto", cmap="RdBu_r" if signed else "viridis",
                       vmin=-1.0 if signed else 0.0, vmax=1.0, interpolation="nearest")
        ax.axhline(unit, color="w", lw=0.8, ls="--")
        ax.set_title(names[key], fontsize=9)
        ax.set_ylabel("hidden unit", fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.05)
    ax = fig.add_subplot(grid[2, :])
    t = np.arange(T)
    ax.plot(t, state["z"][:, unit], "o-", ms=3, label=f"z of unit {unit}")
    ax.plot(t, state["r"][:, unit], "o-", ms=3, label=f"r of unit {unit}")
    ax.plot(t, state["h"][:, unit], "o-", ms=3, label=f"h of unit {unit}")
    ax.set_xticks(t, [str(int(tok)) for tok in state["tokens"]], fontsize=7 if T <= 40 else 5)
    ax.get_xticklabels()[0].set_color("tab:red")
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("the token of each time step (red: the one to recall)")
    ax.legend(loc="upper right", fontsize=8)
    title = f"sequence of {T} tokens, to recall: {state['tokens'][0]}"
    if "probs" in state:
        title += (f";  the network answers {int(np.argmax(state['probs']))} "
                  f"(p = {state['probs'].max():.2f})")
    fig.suptitle(title, fontsize=10)
    return _png(fig)


class GRUGateExplorer:
    """ipywidgets explorer of the GRU gates; display ``explorer.widget``.

    params (optional): a trained GRU {"Wx", "Wh", "b", "Wy", "by"} on the recall task with
    ``n_symbols`` symbols, which enables the trained mode; tokens: its first sequence;
    mode: the mode shown first, "manual" or "trained".
    """

    def __init__(self, params=None, n_symbols=4, tokens=None, x=DEFAULT_X, mode="manual"):
        import ipywidgets as w

        self.params = params
        self.n_symbols = n_symbols
        modes = ["manual"] + (["trained"] if params is not None else [])
        if mode not in modes:
            raise ValueError(f"mode: expected one of {modes}, got {mode!r}")
        H = params["Wh"].shape[0] if params is not None else 1
        if tokens is None:
            tokens = np.random.default_rng(0).integers(0, n_symbols, 20)
        slider = dict(min=0.0, max=1.0, step=0.01, continuous_update=False)
        weight = dict(min=-3.0, max=3.0, step=0.05, continuous_update=False)
        self.controls = {
            "mode": w.ToggleButtons(options=modes, value=mode, description="mode"),
            "r": w.FloatSlider(value=1.0, description="reset r", **slider),
            "z": w.FloatSlider(value=0.8, description="update z", **slider),
            "w_n": w.FloatSlider(value=1.0, description="cand. w_n", **weight),
            "u": w.FloatSlider(value=1.0, description="recur. u", **weight),
            "x": w.Text(value=x, description="inputs x_t", layout=w.Layout(width="95%")),
            "tokens": w.Text(value=" ".join(str(int(t)) for t in tokens), description="tokens",
                             layout=w.Layout(width="95%")),
            "unit": w.IntSlider(value=0, min=0, max=H - 1, description="unit", continuous_update=False),
        }
        self.image = w.Image(format="png")
        self.message = w.HTML()
        self.png = b""
        self.state = {}
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.manual_box = w.VBox([self.controls[k] for k in ("r", "z", "w_n", "u", "x")])
        self.trained_box = w.VBox([self.controls["tokens"], self.controls["unit"]])
        self.widget = w.VBox([self.controls["mode"], self.manual_box, self.trained_box,
                              self.message, self.image])
        self.update()

    def compute(self):
        """The state for the current control values (a pure function of them)."""
        c = {k: v.value for k, v in self.controls.items()}
        if c["mode"] == "manual":
            state = manual_trace(parse_numbers(c["x"], "inputs x_t"), c["r"], c["z"], c["w_n"], c["u"])
        else:
            tokens = parse_numbers(c["tokens"], "tokens", integer=True)
            state = trained_trace(self.params, tokens, self.n_symbols)
            state["unit"] = c["unit"]
        state["mode"] = c["mode"]
        return state

    def update(self, change=None):
        manual = self.controls["mode"].value == "manual"
        self.manual_box.layout.display = None if manual else "none"
        self.trained_box.layout.display = "none" if manual else None
        try:
            state = self.compute()
        except ValueError as exc:
            self.message.value = f"<span style='color:#b00'>{exc}</span>"
            self.state = dict(self.state, error=str(exc))
            return
        self.message.value = ""
        self.state = state
        self.png = draw_manual(state) if manual else draw_trained(state, state["unit"])
        self.image.value = self.png
