"""Elementwise activations and softmax, stable for every finite input."""
import numpy as np


def _as_float(name, z):
    z = np.asarray(z)
    if z.dtype.kind in "biu":
        return z.astype(np.float64)
    if z.dtype.kind != "f":
        raise ValueError(f"{name}: expected a real-valued array, got dtype {z.dtype}")
    return z


def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), without overflow for any finite z.

    exp is only ever taken of -|z| <= 0, so it lies in (0, 1] and cannot overflow.
    Integer input is promoted to float64; float32 stays float32.
    """
    z = _as_float("z", z)
    e = np.exp(-np.abs(z))
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
    """exp(z) / sum(exp(z)) along ``axis``, shifted by the maximum so exp never overflows."""
    z = _as_float("z", z)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    """log(softmax(z)) computed without forming tiny probabilities."""
    z = _as_float("z", z)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def relu(z):
    """max(z, 0)."""
    return np.maximum(_as_float("z", z), 0)
