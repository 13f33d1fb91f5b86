"""Drawing the next token from a model's scores, with temperature and top-k.

Dividing the logits by a temperature tau before the softmax,

    p_i = exp(z_i / tau) / sum_j exp(z_j / tau),

sharpens the distribution when tau < 1 and flattens it when tau > 1; as tau -> 0 it puts
all its mass on the largest logit, so ``temperature=0`` means greedy (argmax) decoding.
Top-k keeps the k largest logits of each row and gives the others probability zero.
"""
import numpy as np


def _check_logits(logits):
    logits = np.asarray(logits)
    if logits.dtype.kind not in "f":
        raise ValueError(f"logits: expected a floating array, got dtype {logits.dtype}")
    if logits.ndim not in (1, 2):
        raise ValueError(f"logits: expected shape (V,) or (N, V), got {logits.shape}")
    if logits.shape[-1] == 0:
        raise ValueError("logits: the vocabulary axis is empty")
    if not np.isfinite(logits).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(logits))[0])
        raise ValueError(f"logits: contains NaN or infinity (first at index {bad})")
    return logits


def _check_temperature(temperature):
    if isinstance(temperature, bool) or not np.isscalar(temperature) or not np.isreal(temperature):
        raise ValueError(f"temperature: expected a number >= 0, got {temperature!r}")
    if not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature: expected a finite number >= 0, got {temperature!r}")
    return float(temperature)


def _check_top_k(top_k, V):
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= V:
        raise ValueError(f"top_k: expected None or an integer in [1, {V}] (V = {V}), got {top_k!r}")
    return int(top_k)


def _top_k_mask(logits, k):
    """True for the k largest entries of each row (ties broken by position)."""
    order = np.argsort(-logits, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(logits.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask


def temperature_probs(logits, temperature=1.0, top_k=None):
    """The distribution that :func:`sample_logits` draws from, shape like ``logits``.

    ``temperature=0`` gives a one-hot vector on the argmax (the first one on ties).
    Computed in float64 and returned in the dtype of ``logits``.
    """
    logits = _check_logits(logits)
    temperature = _check_temperature(temperature)
    top_k = _check_top_k(top_k, logits.shape[-1])
    z = logits.astype(np.float64)
    if temperature == 0:
        probs = np.zeros_like(z)
        np.put_along_axis(probs, np.argmax(z, axis=-1)[..., None], 1.0, axis=-1)
        return probs.astype(logits.dtype)
    z = z / temperature
    if top_k is not None:
        z = np.where(_top_k_mask(z, top_k), z, -np.inf)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(logits.dtype)


def sample_logits(logits, temperature=1.0, top_k=None, rng=None):
    """Draw one index per row of ``logits`` from softmax(logits / temperature).

    Inputs:
    - logits: (V,) or (N, V) unnormalised log-probabilities
    - temperature: a number >= 0; 0 returns the argmax without drawing
    - top_k: None, or keep only the k most likely indices of each row
    - rng: a numpy Generator, an integer seed, or None for a fresh generator

    Returns an int64 index (for (V,) logits) or an int64 array of shape (N,).
    """
    probs = temperature_probs(logits, temperature, top_k).astype(np.float64)
    if float(temperature) == 0:
        idx = np.argmax(probs, axis=-1)
        return np.int64(idx) if probs.ndim == 1 else idx.astype(np.int64)
    rng = np.random.default_rng(rng)
    rows = probs.reshape(-1, probs.shape[-1])
    # One uniform number per row, inverted through the cumulative distribution.
    cdf = np.cumsum(rows, axis=-1)
    u = rng.random(len(rows)) * cdf[:, -1]
    idx = (cdf <= u[:, None]).sum(axis=-1)
    idx = np.minimum(idx, rows.shape[-1] - 1).astype(np.int64)
    return idx[0] if probs.ndim == 1 else idx


def lstm_lm_generate(params, vocab, prompt, length, temperature=1.0, top_k=None, rng=None):
    """Continue ``prompt`` by ``length`` characters with a character-level LSTM model.

    ``params`` holds "W_embed" (V, E), "Wx" (E, 4H), "Wh" (H, 4H), "b" (4H,),
    "W_out" (H, V) and "b_out" (V,): embedding -> LSTM -> affine, the model of notebook 07
    and of ``benchmarks/train_charlm.py``. The prompt is read one character at a time to
    set the state; then each drawn character is fed back as the next input.

    Returns (text, probs): the ``length`` new characters and, shape (length, V), the
    distribution each was drawn from.
    """
    from .lstm import lstm_step_forward  # the sampling helpers above need no model

    rng = np.random.default_rng(rng)
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt: expected a non-empty str to start from, got {prompt!r}")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"length: expected an integer >= 0, got {length!r}")
    W_embed, W_out, b_out = params["W_embed"], params["W_out"], params["b_out"]
    H = params["Wh"].shape[0]
    h = np.zeros((1, H), dtype=W_embed.dtype)
    c = np.zeros_like(h)
    ids = vocab.encode(prompt)

    def advance(token, h, c):
        h, c, _ = lstm_step_forward(W_embed[token][None], h, c, params["Wx"], params["Wh"], params["b"])
        return h, c

    for token in ids:
        h, c = advance(token, h, c)
    out, probs = [], np.zeros((length, len(vocab)), dtype=W_embed.dtype)
    for t in range(length):
        logits = h[0] @ W_out + b_out
        probs[t] = temperature_probs(logits, temperature, top_k)
        token = int(sample_logits(logits, temperature, top_k, rng))
        out.append(token)
        h, c = advance(token, h, c)
    return vocab.decode(np.array(out, dtype=np.int64)), probs
