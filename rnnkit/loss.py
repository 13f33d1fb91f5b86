"""Softmax cross-entropy over a sequence, with an optional mask for padding."""
import numpy as np

from ._validation import Shapes


def temporal_softmax_loss(scores, y, mask=None):
    """Mean negative log-likelihood over the unmasked positions, in nats per token.

    Inputs:
    - scores: (N, T, V) unnormalised log-probabilities
    - y: (N, T) integer targets in [0, V)
    - mask: (N, T) bool, True where a position counts; None counts every position

    Returns loss (float) and dscores (N, T, V).
    """
    s = Shapes()
    scores = s.array("scores", scores, "N T V")
    N, T, V = scores.shape
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise ValueError(f"y: expected an integer array of class indices, got dtype {y.dtype}")
    if y.shape != (N, T):
        raise ValueError(f"y: expected shape (N, T) = ({N}, {T}), got {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= V):
        bad = y[(y < 0) | (y >= V)][0]
        raise ValueError(f"y: class indices must lie in [0, {V}) since V = {V}, found {bad}")
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    else:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask: expected a bool array, got dtype {mask.dtype}")
        if mask.shape != (N, T):
            raise ValueError(f"mask: expected shape (N, T) = ({N}, {T}), got {mask.shape}")
    count = int(mask.sum())
    if count == 0:
        raise ValueError("mask: selects no position, so the mean loss is undefined")
    if not np.isfinite(scores).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(scores))[0])
        raise ValueError(f"scores contains NaN or infinity (first at index {bad})")

    flat = scores.reshape(N * T, V)
    shifted = flat - flat.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    rows = np.arange(N * T)
    yf = y.reshape(-1)
    m = mask.reshape(-1)
    log_probs_true = shifted[rows, yf] - np.log(sums[:, 0])
    loss = -log_probs_true[m].sum() / count
    dflat = exp / sums
    dflat[rows, yf] -= 1.0
    dflat *= (m / count).astype(scores.dtype)[:, None]
    return float(loss), dflat.reshape(N, T, V)
