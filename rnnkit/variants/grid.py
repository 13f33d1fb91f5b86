"""Grid LSTM (Kalchbrenner, Danihelka and Graves, 2015) in two dimensions: time and depth.

A grid of cells (t, l), t = 0 .. T-1 along the sequence, l = 0 .. L-1 along the depth.
Every cell receives a hidden and a memory vector from each dimension,

    (h_time, m_time)   from cell (t-1, l)        zeros at t = 0
    (h_depth, m_depth) from cell (t, l-1)        at l = 0: h_depth = x_t Win, m_depth = 0

and runs one LSTM per dimension on the shared input [h_time, h_depth]:

    h_time', m_time'   = LSTM_time_l (input h_depth, state h_time, m_time)
    h_depth', m_depth' = LSTM_depth_l(input h_time, state h_depth, m_depth)

so that memory flows along time and, with its own gates, along depth as well; a plain
stacked LSTM has a memory cell only along time. The output at step t is the h_depth' of
the top cell (t, L-1). Each LSTM is rnnkit's lstm_step_forward (Wx (H, 4H) reads the
other dimension's hidden vector, Wh (H, 4H) its own), so both dimensions have width H.

Parameters: {"Win": (D, H), "layers": [{"time": {"Wx", "Wh", "b"}, "depth": {...}}, ...]}.
"""
import numpy as np

from .._validation import Shapes
from ..lstm import lstm_step_backward, lstm_step_forward


def _check_grid(params):
    if not isinstance(params, dict) or "Win" not in params or not params.get("layers"):
        raise ValueError("params: expected a dict with 'Win' (D, H) and a non-empty list 'layers'")
    for l, layer in enumerate(params["layers"]):
        if not isinstance(layer, dict) or set(layer) != {"time", "depth"}:
            raise ValueError(f"params['layers'][{l}]: expected a dict with the keys 'time' and 'depth'")


def init_grid_params(D, H, L, rng, dtype=np.float64):
    """Uniform(-1/sqrt(H), 1/sqrt(H)) parameters of an L-layer grid LSTM."""
    k = 1.0 / np.sqrt(H)

    def lstm():
        return {"Wx": rng.uniform(-k, k, (H, 4 * H)).astype(dtype),
                "Wh": rng.uniform(-k, k, (H, 4 * H)).astype(dtype),
                "b": rng.uniform(-k, k, 4 * H).astype(dtype)}

    return {"Win": rng.uniform(-k, k, (D, H)).astype(dtype),
            "layers": [{"time": lstm(), "depth": lstm()} for _ in range(L)]}


def grid_lstm_forward(x, params):
    """Run a 2-D grid LSTM over x (N, T, D) from zero states.

    Returns h (N, T, H), the top layer's depth output at every step, and the cache.
    """
    _check_grid(params)
    s = Shapes()
    x = s.array("x", x, "N T D")
    Win = s.array("params['Win']", params["Win"], "D H")
    N, T, _ = x.shape
    H = Win.shape[1]
    layers = params["layers"]
    proj = x @ Win  # (N, T, H), the depth input of layer 0
    zeros = np.zeros((N, H), dtype=x.dtype)
    h_time = [zeros] * len(layers)
    m_time = [zeros] * len(layers)
    out = np.empty((N, T, H), dtype=x.dtype)
    caches = []
    for t in range(T):
        h_depth, m_depth = proj[:, t], zeros
        row = []
        for l, layer in enumerate(layers):
            pt, pd = layer["time"], layer["depth"]
            try:
                ht, mt, cache_t = lstm_step_forward(h_depth, h_time[l], m_time[l], pt["Wx"], pt["Wh"], pt["b"])
                hd, md, cache_d = lstm_step_forward(h_time[l], h_depth, m_depth, pd["Wx"], pd["Wh"], pd["b"])
            except ValueError as exc:
                raise ValueError(f"params['layers'][{l}]: {exc}") from None
            row.append((cache_t, cache_d))
            h_time[l], m_time[l] = ht, mt
            h_depth, m_depth = hd, md
        out[:, t] = h_depth
        caches.append(row)
    return out, (x, Win, caches)


def grid_lstm_backward(dh, cache):
    """Backward pass of :func:`grid_lstm_forward`.

    dh: (N, T, H). Returns dx (N, T, D) and the gradients, shaped like the parameters.
    Cells are visited in the reverse of the forward order (t descending, l descending),
    so the gradients from (t+1, l) and (t, l+1) have both arrived when (t, l) is reached.
    """
    x, Win, caches = cache
    N, T, D = x.shape
    H = Win.shape[1]
    L = len(caches[0])
    dh = Shapes(x.dtype, N=N, T=T, H=H).array("dh", dh, "N T H")
    keys = ("Wx", "Wh", "b")
    grads = [{"time": None, "depth": None} for _ in range(L)]
    dh_time = [np.zeros((N, H), dtype=x.dtype) for _ in range(L)]
    dm_time = [np.zeros((N, H), dtype=x.dtype) for _ in range(L)]
    dproj = np.empty((N, T, H), dtype=x.dtype)
    for t in range(T - 1, -1, -1):
        dh_depth, dm_depth = dh[:, t], np.zeros((N, H), dtype=x.dtype)
        for l in range(L - 1, -1, -1):
            cache_t, cache_d = caches[t][l]
            dx_t, dht_in, dmt_in, *g_t = lstm_step_backward(dh_time[l], dm_time[l], cache_t)
            dx_d, dhd_in, dmd_in, *g_d = lstm_step_backward(dh_depth, dm_depth, cache_d)
            for name, g in (("time", g_t), ("depth", g_d)):
                if grads[l][name] is None:
                    grads[l][name] = dict(zip(keys, g))
                else:
                    for key, value in zip(keys, g):
                        grads[l][name][key] += value
            dh_time[l], dm_time[l] = dht_in + dx_d, dmt_in
            dh_depth, dm_depth = dx_t + dhd_in, dmd_in
        dproj[:, t] = dh_depth
    dx = dproj @ Win.T
    dWin = x.reshape(N * T, D).T @ dproj.reshape(N * T, H)
    return dx, {"Win": dWin, "layers": grads}
