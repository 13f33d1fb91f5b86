"""LSTM gate explorer (notebook 04-lstm): move the gates and watch the cell state.

Two modes:

- *manual*: a single LSTM unit whose gates are held at the values of the sliders,
  i, f, o in [0, 1], and whose candidate reads the input sequence typed in the text box
  through a weight w_g: g_t = tanh(w_g x_t). Then c_t = f c_{t-1} + i g_t and
  h_t = o tanh(c_t), drawn over time. See :func:`manual_trace`.
- *trained*: the gates of a trained LSTM (parameters passed in, e.g. from the recall
  task of :mod:`rnnkit.tasks`) on a token sequence typed in the text box: every gate's
  activation for every hidden unit over time, and c and h of one chosen unit. See
  :func:`trained_trace`.

The computations are pure functions of the control values; :class:`LSTMGateExplorer`
wires them to ipywidgets and draws with matplotlib's Agg backend into PNG bytes.
"""
import io

import numpy as np
from matplotlib.figure import Figure

from ..activations import sigmoid, softmax
from ..tasks import encode_recall

DEFAULT_X = "1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0"


def parse_numbers(text, name="sequence", integer=False):
    """'1, 0 -0.5' -> array of floats (or ints). Commas, spaces or both separate the numbers."""
    parts = [p for p in str(text).replace(",", " ").split() if p]
    if not parts:
        raise ValueError(f"{name}: type at least one number")
    try:
        values = np.array([float(p) for p in parts])
    except ValueError:
        bad = next(p for p in parts if not _is_number(p))
        raise ValueError(f"{name}: {bad!r} is not a number") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: every value must be finite")
    if integer:
        if not np.all(values == np.round(values)):
            raise ValueError(f"{name}: expected whole numbers (token ids)")
        return values.astype(np.int64)
    return values


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def manual_trace(x, i, f, o, w_g, c0=0.0):
    """One LSTM unit with its gates held constant; the candidate reads the input.

    x: (T,) inputs. i, f, o: gate values in [0, 1]. w_g: candidate weight.
    Returns dict of (T,) arrays: x, g = tanh(w_g x), c, h, and the scalars back.
    """
    x = np.asarray(x, dtype=np.float64)
    for name, v in (("i", i), ("f", f), ("o", o)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name}: a gate value lies in [0, 1], got {v}")
    g = np.tanh(w_g * x)
    c = np.empty_like(x)
    c_prev = c0
    for t in range(x.size):
        c_prev = c[t] = f * c_prev + i * g[t]
    return {"x": x, "g": g, "c": c, "h": o * np.tanh(c), "i": i, "f": f, "o": o, "w_g": w_g}


def trained_trace(params, tokens, n_symbols):
    """Run a trained LSTM on one recall-task sequence and record every gate.

    params: {"Wx" (D, 4H), "Wh" (H, 4H), "b" (4H,)} and optionally a read-out
    {"Wy" (H, n_symbols), "by" (n_symbols,)}. tokens: (T,) ints in [0, n_symbols).
    Returns dict: i, f, g, o, c, h each (T, H), tokens, and probs (n_symbols,) the
    read-out's prediction at the last step if the read-out is given.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 1 or tokens.size == 0 or tokens.min() < 0 or tokens.max() >= n_symbols:
        raise ValueError(f"tokens: expected a sequence of symbols in [0, {n_symbols}), got {tokens.tolist()}")
    x = encode_recall(tokens, n_symbols)[0]
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    H = Wh.shape[0]
    if Wx.shape[0] != x.shape[1]:
        raise ValueError(f"params['Wx']: expected {x.shape[1]} input rows for {n_symbols} symbols "
                         f"and the marker, got {Wx.shape[0]}")
    h = np.zeros(H)
    c = np.zeros(H)
    rec = {k: [] for k in "ifgoch"}
    for t in range(x.shape[0]):
        a = x[t] @ Wx + h @ Wh + b
        i, f, o = (sigmoid(a[k * H : (k + 1) * H]) for k in (0, 1, 3))
        g = np.tanh(a[2 * H : 3 * H])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip("ifgoch", (i, f, g, o, c, h)):
            rec[name].append(value)
    out = {k: np.array(v) for k, v in rec.items()}
    out["tokens"] = tokens
    if "Wy" in params:
        out["probs"] = softmax(h @ params["Wy"] + params["by"])
    return out


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def draw_manual(state):
    """The figure of a manual trace: input and candidate, cell state, hidden state."""
    fig = Figure(figsize=(8, 5.2), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    t = np.arange(state["x"].size)
    axes[0].bar(t, state["x"], color="0.75", label="input $x_t$")
    axes[0].plot(t, state["g"], "o-", color="tab:purple", label=r"candidate $g_t=\tanh(w_g x_t)$")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].plot(t, state["c"], "o-", color="tab:blue")
    axes[1].set_ylabel("cell state $c_t$")
    axes[2].plot(t, state["h"], "o-", color="tab:red")
    axes[2].set_ylabel("hidden state $h_t$")
    axes[2].set_xlabel("time step t")
    for ax in axes:
        ax.axhline(0, color="0.6", lw=0.8)
        ax.grid(alpha=0.3)
    axes[0].set_title(f"i = {state['i']:.2f}, f = {state['f']:.2f}, o = {state['o']:.2f}, "
                      f"w_g = {state['w_g']:.2f}:   c_t = f c_(t-1) + i g_t,   h_t = o tanh(c_t)")
    return _png(fig)


def draw_trained(state, unit):
    """Heat maps of the four gates (hidden unit by time step) and c, h of one unit."""
    fig = Figure(figsize=(9, 6.4), layout="constrained")
    grid = fig.add_gridspec(3, 2)
    T = state["h"].shape[0]
    names = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o"}
    for k, key in enumerate("ifgo"):
        ax = fig.add_subplot(grid[k // 2, k % 2])
        lo = -1.0 if key == "g" else 0.0
        im = ax.imshow(state[key].T, aspect="auto", cmap="RdBu_r" if key == "g" else "viridis",
                       vmin=lo, vmax=1.0, interpolation="nearest")
        ax.axhline(unit, color="w", lw=0.8, ls="--")
        ax.set_title(names[key], fontsize=9)
        ax.set_ylabel("hidden unit", fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.05)
    ax = fig.add_subplot(grid[2, :])
    t = np.arange(T)
    ax.plot(t, state["c"][:, unit], "o-", ms=3, label=f"c of unit {unit}")
    ax.plot(t, state["h"][:, unit], "o-", ms=3, label=f"h of unit {unit}")
    ax.set_xticks(t, [str(int(tok)) for tok in state["tokens"]], fontsize=7 if T <= 40 else 5)
    ax.get_xticklabels()[0].set_color("tab:red")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("the token of each time step (red: the one to recall)")
    ax.legend(loc="upper right", fontsize=8)
    title = f"sequence of {T} tokens, to recall: {state['tokens'][0]}"
    if "probs" in state:
        title += (f";  the network answers {int(np.argmax(state['probs']))} "
                  f"(p = {state['probs'].max():.2f})")
    fig.suptitle(title, fontsize=10)
    return _png(fig)


class LSTMGateExplorer:
    """ipywidgets explorer of the LSTM gates; display ``explorer.widget``.

    params (optional): a trained LSTM {"Wx", "Wh", "b", "Wy", "by"} on the recall task
    with ``n_symbols`` symbols, which enables the trained mode; tokens: its first sequence;
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
        self.controls = {
            "mode": w.ToggleButtons(options=modes, value=mode, description="mode"),
            "i": w.FloatSlider(value=0.5, description="input i", **slider),
            "f": w.FloatSlider(value=0.9, description="forget f", **slider),
            "o": w.FloatSlider(value=1.0, description="output o", **slider),
            "w_g": w.FloatSlider(value=1.0, min=-3.0, max=3.0, step=0.05, description="cand. w_g",
                                 continuous_update=False),
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
        self.manual_box = w.VBox([self.controls[k] for k in ("i", "f", "o", "w_g", "x")])
        self.trained_box = w.VBox([self.controls["tokens"], self.controls["unit"]])
        self.widget = w.VBox([self.controls["mode"], self.manual_box, self.trained_box,
                              self.message, self.image])
        self.update()

    def compute(self):
        """The state for the current control values (a pure function of them)."""
        c = {k: v.value for k, v in self.controls.items()}
        if c["mode"] == "manual":
            state = manual_trace(parse_numbers(c["x"], "inputs x_t"), c["i"], c["f"], c["o"], c["w_g"])
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
