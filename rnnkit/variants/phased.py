"""Phased LSTM (Neil, Pfeiffer and Liu, 2016): an LSTM whose units only update while their clock is open.

Each unit j has a period tau_j, a phase shift s_j and an open ratio r_on. At the real
time stamp t of a sample its phase and time gate are

    phi = ((t - s) mod tau) / tau                                 in [0, 1)
    k   = 2 phi / r_on          if phi < r_on / 2                 opening
          2 - 2 phi / r_on      if r_on / 2 <= phi < r_on         closing
          alpha * phi           otherwise                         closed (a small leak)

and the state moves only as far as the gate is open:

    c~, h~ = LSTM step(x_t, h_prev, c_prev)                        rnnkit's lstm_step_forward
    c = k * c~ + (1 - k) * c_prev
    h = k * h~ + (1 - k) * h_prev

Because k depends on the time stamps and not on the step index, samples that arrive at
irregular times are handled as they come: a closed unit keeps its memory across a long
gap, and units with different periods listen to different time scales.

The time-gate parameters (tau, s, r_on) are fixed here, set by the caller (the paper
samples tau log-uniformly, s uniformly in [0, tau)); the backward pass gives gradients for
the inputs, the initial state and the LSTM weights, not for tau, s or the time stamps.
"""
import numpy as np

from .._validation import Shapes
from ..lstm import lstm_step_backward, lstm_step_forward


def time_gate(times, tau, shift, r_on=0.05, alpha=1e-3):
    """Openness k (N, T, H) of every unit at every time stamp.

    times (N, T) or (T,), tau (H,) > 0, shift (H,), 0 < r_on <= 1, alpha >= 0.
    """
    times = np.asarray(times)
    tau = np.asarray(tau)
    shift = np.asarray(shift)
    if tau.ndim != 1 or not np.all(tau > 0):
        raise ValueError(f"tau: expected a (H,) array of positive periods, got shape {tau.shape} "
                         f"with minimum {tau.min() if tau.size else None}")
    if shift.shape != tau.shape:
        raise ValueError(f"shift: expected shape {tau.shape} like tau, got {shift.shape}")
    if not 0 < r_on <= 1:
        raise ValueError(f"r_on: expected a ratio in (0, 1], got {r_on!r}")
    if alpha < 0:
        raise ValueError(f"alpha: expected alpha >= 0, got {alpha!r}")
    phi = np.mod(times[..., None] - shift, tau) / tau
    k = np.where(phi < r_on / 2, 2 * phi / r_on,
                 np.where(phi < r_on, 2 - 2 * phi / r_on, alpha * phi))
    return k


def _check_times(times, N, T):
    given = np.asarray(times)
    if given.shape not in ((N, T), (T,)):
        raise ValueError(f"times: expected shape (N, T) = ({N}, {T}) or (T,), got {given.shape}")
    times = np.broadcast_to(given, (N, T))
    if not np.issubdtype(times.dtype, np.number) or not np.isfinite(times).all():
        raise ValueError("times: expected finite real time stamps")
    steps = np.diff(times, axis=1)
    if steps.size and steps.min() <= 0:
        n, t = np.argwhere(steps <= 0)[0]
        raise ValueError(
            f"times: time stamps must increase strictly along each sequence; in batch row {n} "
            f"step {t + 1} is at {times[n, t + 1]!r}, not after step {t} at {times[n, t]!r}")
    return times


def phased_lstm_forward(x, times, h0, Wx, Wh, b, tau, shift, r_on=0.05, alpha=1e-3, c0=None):
    """Run a phased LSTM over irregularly sampled input.

    Inputs: x (N, T, D); times (N, T) or (T,) strictly increasing time stamps; h0 (N, H);
    Wx (D, 4H), Wh (H, 4H), b (4H,) in rnnkit's LSTM layout; tau (H,) periods; shift (H,)
    phase shifts; r_on the open ratio; alpha the leak while closed (0 at test time in the
    paper); c0 (N, H) or None for zeros.
    Returns h (N, T, H) and the cache.
    """
    s = Shapes()
    x = s.array("x", x, "N T D")
    h0 = s.array("h0", h0, "N H")
    s.array("Wx", Wx, "D 4H")
    N, T, _ = x.shape
    H = h0.shape[1]
    c0 = np.zeros_like(h0) if c0 is None else s.array("c0", c0, "N H")
    times = _check_times(times, N, T)
    if np.shape(tau) != (H,):
        raise ValueError(f"tau: expected shape (H,) = ({H},), got {np.shape(tau)}")
    k = time_gate(times, tau, shift, r_on, alpha).astype(x.dtype)
    h = np.empty((N, T, H), dtype=x.dtype)
    h_prev, c_prev = h0, c0
    steps = []
    for t in range(T):
        h_new, c_new, cache = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)
        kt = k[:, t]
        h_prev = h_prev + kt * (h_new - h_prev)
        c_prev = c_prev + kt * (c_new - c_prev)
        h[:, t] = h_prev
        steps.append(cache)
    return h, (k, steps)


def phased_lstm_backward(dh, cache):
    """Backward pass of :func:`phased_lstm_forward`.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    A closed unit (k near 0) passes its gradient back almost unchanged, through 1 - k.
    """
    k, steps = cache
    N, T, H = k.shape
    dh = Shapes(k.dtype, N=N, T=T, H=H).array("dh", dh, "N T H")
    x0, _, _, Wx, Wh, _, _ = steps[0]
    dx = np.empty((N, T, x0.shape[1]), dtype=k.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wx.shape[1], dtype=k.dtype)
    dh_carry = np.zeros((N, H), dtype=k.dtype)
    dc_carry = np.zeros((N, H), dtype=k.dtype)
    for t in range(T - 1, -1, -1):
        kt = k[:, t]
        dh_t = dh[:, t] + dh_carry
        dx[:, t], dh_prev, dc_prev, dWx_t, dWh_t, db_t = lstm_step_backward(kt * dh_t, kt * dc_carry, steps[t])
        dh_carry = dh_prev + (1 - kt) * dh_t
        dc_carry = dc_prev + (1 - kt) * dc_carry
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_carry, dWx, dWh, db
