"""Weight initialisers, and the default parameters of a recurrent layer.

Every initialiser takes ``rng`` (a ``np.random.Generator``, an integer seed, or
None for fresh entropy) and ``dtype`` (float32 or float64), and returns a new array.
Weights are stored for row vectors, ``x @ W``, so a matrix of shape
``(fan_in, fan_out)`` maps fan_in inputs to fan_out outputs.

    xavier_uniform((fan_in, fan_out), gain=1.0, rng=None, dtype=np.float64)
    xavier_normal((fan_in, fan_out), gain=1.0, rng=None, dtype=np.float64)
    orthogonal((rows, cols), gain=1.0, rng=None, dtype=np.float64)
    identity(n, gain=1.0, rng=None, dtype=np.float64)
    recurrent_params(kind, D, H, rng=None, dtype=np.float64, reset_after=False,
                     recurrent_init="orthogonal", forget_bias=1.0)
        -> {"Wx": (D, G*H), "Wh": (H, G*H), "b": (G*H,) or (2, 3H)}
"""
import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def as_rng(rng):
    """A np.random.Generator from a Generator, an integer seed, or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng: expected a np.random.Generator, an integer seed or None, got {type(rng).__name__}")


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected float32 or float64, got {dtype}")
    return dtype


def _matrix_shape(shape):
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise ValueError(f"shape: expected a pair (fan_in, fan_out), got {shape!r}") from None
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape: expected a pair (fan_in, fan_out) of positive sizes, got {shape}")
    return shape


def xavier_uniform(shape, gain=1.0, rng=None, dtype=np.float64):
    """Glorot and Bengio (2010): U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    The variance a^2 / 3 = 2 gain^2 / (fan_in + fan_out) keeps the scale of the
    activations and of the gradients roughly equal from layer to layer.
    """
    fan_in, fan_out = _matrix_shape(shape)
    a = gain * np.sqrt(6.0 / (fan_in + fan_out))
    return as_rng(rng).uniform(-a, a, size=(fan_in, fan_out)).astype(_float_dtype(dtype))


def xavier_normal(shape, gain=1.0, rng=None, dtype=np.float64):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _matrix_shape(shape)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    return (std * as_rng(rng).standard_normal((fan_in, fan_out))).astype(_float_dtype(dtype))


def orthogonal(shape, gain=1.0, rng=None, dtype=np.float64):
    """A random matrix with orthonormal columns (rows if it is wide), times gain.

    QR of a Gaussian matrix gives Q with orthonormal columns; multiplying each
    column by the sign of R's diagonal makes Q uniformly distributed (Haar)
    instead of biased by the QR convention (Mezzadri, 2007). A square
    orthogonal Wh has every singular value equal to gain, so a linear
    recurrence neither shrinks nor grows the state (Saxe et al., 2014).
    """
    rows, cols = _matrix_shape(shape)
    a = as_rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    return (gain * q).astype(_float_dtype(dtype))


def identity(n, gain=1.0, rng=None, dtype=np.float64):
    """gain times the (n, n) identity, the recurrent matrix of the IRNN (Le et al., 2015).

    It is deterministic; ``rng`` is accepted so that every initialiser has the same call.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    as_rng(rng)
    return gain * np.eye(n, dtype=_float_dtype(dtype))


RECURRENT_INITS = {
    "orthogonal": lambda H, rng, dtype: orthogonal((H, H), rng=rng, dtype=dtype),
    "identity": lambda H, rng, dtype: identity(H, rng=rng, dtype=dtype),
    "xavier": lambda H, rng, dtype: xavier_uniform((H, H), rng=rng, dtype=dtype),
}


def recurrent_params(kind, D, H, rng=None, dtype=np.float64, reset_after=False,
                     recurrent_init="orthogonal", forget_bias=1.0):
    """Initial {"Wx", "Wh", "b"} of an RNN, LSTM or GRU layer with the contract's gate order.

    - kind: "rnn" (G = 1), "lstm" (G = 4, blocks i, f, g, o) or "gru" (G = 3, blocks r, z, n)
    - Wx (D, G*H): Xavier uniform, drawn per gate block of shape (D, H), since each
      gate is a layer of its own with fan_out H
    - Wh (H, G*H): per gate block, "orthogonal" (default), "identity" or "xavier"
    - b: zeros, (G*H,); for the LSTM the forget-gate block is ``forget_bias`` (1 by
      default, so the cell remembers from the start: Gers et al., 2000; Jozefowicz
      et al., 2015); for a GRU with reset_after=True, b has shape (2, 3H) (input and
      recurrent biases) and both rows are zero
    """
    if kind not in GATES:
        raise ValueError(f"kind: expected one of {sorted(GATES)}, got {kind!r}")
    for name, size in (("D", D), ("H", H)):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{name}: expected a positive integer, got {size!r}")
    if recurrent_init not in RECURRENT_INITS:
        raise ValueError(f"recurrent_init: expected one of {sorted(RECURRENT_INITS)}, got {recurrent_init!r}")
    if reset_after and kind != "gru":
        raise ValueError(f"reset_after: only a GRU has a reset gate, but kind is {kind!r}")
    dtype = _float_dtype(dtype)
    rng = as_rng(rng)
    G = GATES[kind]
    Wx = np.concatenate([xavier_uniform((D, H), rng=rng, dtype=dtype) for _ in range(G)], axis=1)
    Wh = np.concatenate([RECURRENT_INITS[recurrent_init](H, rng, dtype) for _ in range(G)], axis=1)
    b = np.zeros((2, G * H) if reset_after else G * H, dtype=dtype)
    if kind == "lstm":
        b[H : 2 * H] = forget_bias
    return {"Wx": Wx, "Wh": Wh, "b": b}
