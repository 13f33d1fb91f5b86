"""Elementwise activations and softmax, stable for every finite input."""
import numpy as np


def _as_float(name, z):
    z = np.asarray(z)
    if z.dtype.kind in "biu":
        return z.astype(np.float64)
    if z.dtype.kind != "f":
        raise ValueError(f"{name}: expected a real-valued array, got dtype {z.dtype}")
    return z


def _exp_floor(dtype, n=1):
    """The least x for which exp(x) / n is still a normal number of ``dtype``.

    exp of anything lower would underflow (a warning, or an error under
    ``np.errstate(all="raise")``); such terms are below every rounding error of the
    result, so they are set to 0 instead of being computed.
    """
    return float(np.log(np.finfo(dtype).tiny)) + float(np.log(n)) + 1.0


def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), without any floating-point warning for finite z.

    exp is only taken of -|z| <= 0, so it cannot overflow, and only where it stays a
    normal number, so it cannot underflow: below -|z| = -86 (float32) or -707 (float64)
    it is taken as 0, where sigmoid(|z|) rounds to 1 anyway and sigmoid(-|z|) is below
    the smallest normal number. Integer input is promoted to float64; float32 stays float32.
    """
    z = _as_float("z", z)
    neg = -np.abs(z)
    e = np.exp(neg, out=np.zeros_like(z), where=~(neg < _exp_floor(z.dtype)))  # NaN goes through
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_(a):
    """In-place sigmoid for the recurrent hot loops: sigma(a) = (1 + tanh(a / 2)) / 2.

    tanh saturates instead of overflowing, so this never warns, and it makes no
    temporary arrays. Returns ``a``.
    """
    a *= 0.5
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


def softmax(z, axis=-1):
    """exp(z) / sum(exp(z)) along ``axis``, without any floating-point warning for finite z.

    Shifting by the maximum keeps exp from overflowing. Terms whose probability would
    fall below the smallest normal number are set to 0 without being computed, which
    also avoids the overflow of z - max(z) when z spans more than the float range.
    """
    z = _as_float("z", z)
    top = np.max(z, axis=axis, keepdims=True)
    keep = ~(z < top + _exp_floor(z.dtype, z.size // max(top.size, 1)))  # NaN goes through
    e = np.zeros_like(z)
    np.subtract(z, top, out=e, where=keep)
    np.exp(e, out=e, where=keep)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    """log(softmax(z)) computed without forming tiny probabilities."""
    z = _as_float("z", z)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def relu(z):
    """max(z, 0)."""
    return np.maximum(_as_float("z", z), 0)
