"""Small synthetic sequence tasks, for the notebooks and the benchmarks.

Every task returns a :class:`SequenceBatch` ``(x, y, mask, n_classes)`` laid out for
the many-to-many loss of the course:

- ``x``: (N, T, D) one-hot inputs (float64 unless ``dtype`` says otherwise);
- ``y``: (N, T) integer targets in ``[0, n_classes)``;
- ``mask``: (N, T) bool, True at the positions that are scored;

so that, for scores (N, T, n_classes) computed from the hidden states,
``loss, dscores = temporal_softmax_loss(scores, batch.y, batch.mask)``.
A model that has learnt nothing scores ``log(n_classes)`` nats (:func:`chance_loss`).

Tasks:

- :func:`recall_batch`: name, at the last step, the symbol shown at step 0, across
  ``length - 1`` steps of distractors drawn from the same alphabet. The lag is set by
  ``length``; a vanilla RNN fails beyond a few tens of steps, an LSTM or a GRU does not.
- :func:`copy_batch`: read a string of symbols, wait through a blank delay, then write the
  string back. Memory of several items at once, and of their order.

Example::

    from rnnkit.tasks import recall_batch
    batch = recall_batch(32, length=40, rng=np.random.default_rng(0))
    h, cache = lstm_forward(batch.x, h0, Wx, Wh, b)      # batch.x: (32, 40, 5)
    scores = h @ Wy + by                                  # (32, 40, 4)
    loss, dscores = temporal_softmax_loss(scores, batch.y, batch.mask)
"""
import math
from typing import NamedTuple

import numpy as np


class SequenceBatch(NamedTuple):
    x: np.ndarray  # (N, T, D) float one-hot inputs
    y: np.ndarray  # (N, T) int targets
    mask: np.ndarray  # (N, T) bool, the scored positions
    n_classes: int  # size of the output vocabulary


def chance_loss(n_classes):
    """Loss in nats of a model that spreads its probability evenly: log(n_classes)."""
    return math.log(_positive_int("n_classes", n_classes))


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype: expected float32 or float64, got {dtype}")
    return dtype


def one_hot(tokens, depth, dtype=np.float64):
    """(...,) integer tokens in [0, depth) -> (..., depth) one-hot array."""
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu":
        raise ValueError(f"tokens: expected integers, got dtype {tokens.dtype}")
    depth = _positive_int("depth", depth)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= depth):
        bad = tokens[(tokens < 0) | (tokens >= depth)][0]
        raise ValueError(f"tokens: expected values in [0, {depth}), found {bad}")
    out = np.zeros(tokens.shape + (depth,), dtype=_float_dtype(dtype))
    np.put_along_axis(out, tokens[..., None], 1.0, axis=-1)
    return out


def encode_recall(tokens, n_symbols=4, dtype=np.float64):
    """Inputs of the recall task for given symbol sequences.

    tokens: (N, T) or (T,) integers in [0, n_symbols); the symbol at step 0 is the one to
    recall. Returns x (N, T, n_symbols + 1): the one-hot symbol, plus a marker channel
    (the last one) that is 1 at step 0 only, which tells the network what to keep.
    """
    n_symbols = _positive_int("n_symbols", n_symbols, 2)
    tokens = np.asarray(tokens)
    if tokens.ndim == 1:
        tokens = tokens[None]
    if tokens.ndim != 2 or tokens.shape[1] < 1:
        raise ValueError(f"tokens: expected shape (N, T) or (T,) with T >= 1, got {tokens.shape}")
    x = one_hot(tokens, n_symbols + 1, dtype)
    x[:, 0, n_symbols] = 1.0
    return x


def recall_batch(n, length, n_symbols=4, rng=None, dtype=np.float64):
    """A batch of the recall task: remember the first symbol for ``length - 1`` steps.

    Every step shows a random symbol out of ``n_symbols``; step 0 also carries the marker.
    The target at the last step is the symbol of step 0; only that position is scored.

    Returns SequenceBatch with x (n, length, n_symbols + 1), y (n, length), mask (n, length),
    n_classes = n_symbols.
    """
    n = _positive_int("n", n)
    length = _positive_int("length", length, 2)
    n_symbols = _positive_int("n_symbols", n_symbols, 2)
    rng = np.random.default_rng(rng)
    tokens = rng.integers(0, n_symbols, size=(n, length))
    x = encode_recall(tokens, n_symbols, dtype)
    y = np.zeros((n, length), dtype=np.int64)
    y[:, -1] = tokens[:, 0]
    mask = np.zeros((n, length), dtype=bool)
    mask[:, -1] = True
    return SequenceBatch(x, y, mask, n_symbols)


def copy_batch(n, n_tokens=5, delay=10, n_symbols=8, rng=None, dtype=np.float64):
    """A batch of the copy task: read ``n_tokens`` symbols, wait ``delay`` steps, write them back.

    Input channels: the ``n_symbols`` symbols, then *blank* (index n_symbols) and *go*
    (index n_symbols + 1). The sequence has T = n_tokens + delay + n_tokens steps:
    the symbols, ``delay - 1`` blanks, one go, then ``n_tokens`` blanks during which the
    network writes the symbols back in order. Only those last ``n_tokens`` steps are scored.

    Returns SequenceBatch with x (n, T, n_symbols + 2), y (n, T), mask (n, T), n_classes = n_symbols.
    """
    n = _positive_int("n", n)
    n_tokens = _positive_int("n_tokens", n_tokens)
    delay = _positive_int("delay", delay)
    n_symbols = _positive_int("n_symbols", n_symbols, 2)
    rng = np.random.default_rng(rng)
    blank, go = n_symbols, n_symbols + 1
    T = 2 * n_tokens + delay
    symbols = rng.integers(0, n_symbols, size=(n, n_tokens))
    tokens = np.full((n, T), blank, dtype=np.int64)
    tokens[:, :n_tokens] = symbols
    tokens[:, n_tokens + delay - 1] = go
    x = one_hot(tokens, n_symbols + 2, dtype)
    y = np.zeros((n, T), dtype=np.int64)
    y[:, T - n_tokens :] = symbols
    mask = np.zeros((n, T), dtype=bool)
    mask[:, T - n_tokens :] = True
    return SequenceBatch(x, y, mask, n_symbols)
