"""Gradient flow explorer (notebook 03-gradient-problems): how far back does a gradient reach?

An RNN ``h_t = f(u_t + h_{t-1} Wh)`` runs for T steps on random inputs ``u_t``; a gradient
is placed on its last state and carried back, ``dh_{t-1} = (dh_t * f'(a_t)) Wh.T``. The
explorer plots the size of that gradient against the time lag, on a log scale, for a
recurrent matrix of chosen spectral radius and a chosen activation (tanh, ReLU, linear),
next to the mean derivative of the activation at every step.

:func:`gradient_flow` is the computation, a pure function of the control values;
:class:`GradientFlowExplorer` wires it to ipywidgets and draws with matplotlib's Agg
backend into PNG bytes.
"""
import io

import numpy as np
from matplotlib.figure import Figure

from ..init import orthogonal

ACTIVATIONS = ("tanh", "relu", "linear")
MATRICES = ("random", "orthogonal")


def _activate(a, activation):
    """(f(a), f'(a)) for the named activation."""
    if activation == "tanh":
        h = np.tanh(a)
        return h, 1.0 - h * h
    if activation == "relu":
        return np.maximum(a, 0.0), (a > 0).astype(a.dtype)
    return a.copy(), np.ones_like(a)


def recurrent_matrix(H, radius, matrix="random", seed=0):
    """An (H, H) matrix whose spectral radius (largest |eigenvalue|) is ``radius``.

    "random": Gaussian entries, rescaled; its largest singular value is larger than its
    spectral radius. "orthogonal": radius times an orthogonal matrix, every singular
    value equal to radius.
    """
    if matrix not in MATRICES:
        raise ValueError(f"matrix: expected one of {MATRICES}, got {matrix!r}")
    if not radius >= 0:
        raise ValueError(f"radius: expected a number >= 0, got {radius!r}")
    rng = np.random.default_rng(seed)
    if matrix == "orthogonal":
        return orthogonal((H, H), gain=radius, rng=rng)
    W = rng.standard_normal((H, H))
    return W * (radius / np.abs(np.linalg.eigvals(W)).max())


def gradient_flow(radius, activation="tanh", T=50, H=32, N=16, matrix="random", input_scale=1.0, seed=0):
    """Relative size of dL/dh_{T-1-k} for every lag k, for a gradient placed on the last state.

    Returns a dict with
    - lags (T,): 0 .. T-1
    - norms (T,): ||dL/dh_{T-1-k}|| / ||dL/dh_{T-1}|| (Frobenius norm over the batch);
      inf where the gradient overflowed
    - derivative (T,): the mean of f'(a_t) over batch and units at every step t
    - sigma_max: the largest singular value of Wh; radius, activation, matrix, input_scale, T
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
    if int(T) != T or T < 1:
        raise ValueError(f"T: expected a positive integer, got {T!r}")
    T = int(T)
    Wh = recurrent_matrix(H, radius, matrix, seed)
    rng = np.random.default_rng(seed + 1)
    u = input_scale * rng.standard_normal((T, N, H))
    deriv = np.empty((T, N, H))
    h = np.zeros((N, H))
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T):
            h, deriv[t] = _activate(u[t] + h @ Wh, activation)
        g = rng.standard_normal((N, H))
        g /= np.linalg.norm(g)
        norms = np.empty(T)
        for k in range(T):
            t = T - 1 - k
            norms[k] = np.linalg.norm(g)
            g = (g * deriv[t]) @ Wh.T
    norms[~np.isfinite(norms)] = np.inf
    return {"lags": np.arange(T), "norms": norms, "derivative": deriv.mean(axis=(1, 2)),
            "sigma_max": float(np.linalg.svd(Wh, compute_uv=False)[0]), "radius": float(radius),
            "activation": activation, "matrix": matrix, "input_scale": float(input_scale), "T": T}


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def draw(state):
    """Gradient norm against lag (log scale), and the mean activation derivative per step."""
    fig = Figure(figsize=(9.5, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    lags, norms = state["lags"], state["norms"]
    finite = np.isfinite(norms) & (norms > 0)
    left.semilogy(lags[finite], norms[finite], "o-", ms=3, color="tab:blue", label="measured")
    with np.errstate(divide="ignore", over="ignore"):
        left.semilogy(lags, np.full(lags.shape, state["radius"], dtype=float) ** lags, "--",
                      color="0.5", label=r"$\rho^k$")
    if not finite.all():
        left.text(0.5, 0.9, "the gradient overflowed beyond this lag", transform=left.transAxes,
                  ha="center", color="tab:red")
    left.axhline(1.0, color="0.8", lw=0.8)
    left.set_ylim(1e-12, 1e12)
    left.set_xlabel("time lag k (steps back from the last state)")
    left.set_ylabel(r"$\|\partial L/\partial h_{T-1-k}\|$ (relative)")
    left.legend(loc="lower left", fontsize=8)
    left.set_title(f"{state['activation']}, {state['matrix']} Wh: spectral radius {state['radius']:.2f}, "
                   f"largest singular value {state['sigma_max']:.2f}", fontsize=9)
    right.plot(np.arange(state["T"]), state["derivative"], color="tab:purple")
    right.set_ylim(-0.05, 1.05)
    right.set_xlabel("time step t")
    right.set_ylabel("mean of f'(a_t)")
    right.set_title("how much the activation lets through", fontsize=9)
    return _png(fig)


class GradientFlowExplorer:
    """ipywidgets explorer of vanishing and exploding gradients; display ``explorer.widget``."""

    def __init__(self, radius=1.0, activation="tanh", T=50, H=32, matrix="random", input_scale=1.0):
        import ipywidgets as w

        self.H = H
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        self.controls = {
            "radius": w.FloatSlider(value=radius, min=0.1, max=3.0, step=0.05,
                                    description="spectral radius of Wh", **slider),
            "activation": w.Dropdown(options=ACTIVATIONS, value=activation, description="activation"),
            "matrix": w.Dropdown(options=MATRICES, value=matrix, description="Wh"),
            "input_scale": w.FloatSlider(value=input_scale, min=0.0, max=3.0, step=0.1,
                                         description="input size", **slider),
            "T": w.IntSlider(value=T, min=5, max=100, description="steps T", **slider),
        }
        self.image = w.Image(format="png")
        self.png = b""
        self.state = {}
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.widget = w.VBox([w.HBox([self.controls["radius"], self.controls["activation"],
                                      self.controls["matrix"]]),
                              w.HBox([self.controls["input_scale"], self.controls["T"]]),
                              self.image])
        self.update()

    def compute(self):
        """The state for the current control values (a pure function of them)."""
        c = {k: v.value for k, v in self.controls.items()}
        return gradient_flow(c["radius"], c["activation"], T=c["T"], H=self.H, matrix=c["matrix"],
                             input_scale=c["input_scale"])

    def update(self, change=None):
        self.state = self.compute()
        self.png = draw(self.state)
        self.image.value = self.png
