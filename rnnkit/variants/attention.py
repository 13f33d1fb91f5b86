"""Attention over an encoder's states, and a small sequence-to-sequence model that uses it.

Given the encoder's states ``keys`` (N, S, H) and a decoder state ``query`` (N, H):

    dot product (Luong et al., 2015):  score_s = query . keys_s
    additive (Bahdanau et al., 2015):  score_s = v . tanh(query Wq + keys_s Wk + b)
    weights = softmax(score) over s    (N, S), each row sums to one
    context = sum_s weights_s keys_s   (N, H)

A boolean ``mask`` (N, S) marks the source positions that exist (True); padded positions
get weight 0. Every attention function also accepts a block of queries (N, Q, H) at once
and then returns weights (N, Q, S) and contexts (N, Q, H).

Sequence to sequence (``seq2seq_forward``; Luong's "global attention" without input feeding):

    enc     = cell_enc(src)                          (N, S, H), from zero state
    dec     = cell_dec(tgt_in, h0 = enc[:, -1])      (N, T, H); an LSTM decoder starts with c = 0
    context, weights = attention(dec, enc)           (N, T, H), (N, T, S)
    out     = tanh([context, dec] Wc + bc)           (N, T, H), the attentional state

``out`` is what an output layer reads (scores = out Wy + by, outside this module). The API::

    params = init_seq2seq(D_src, D_tgt, H, rng, cell="gru", attention="dot")
    out, weights, cache = seq2seq_forward(src, tgt_in, params, cell="gru", attention="dot",
                                          src_mask=None)
    grads, dsrc, dtgt_in = seq2seq_backward(dout, cache)     # grads shaped like params

``params`` is {"enc": {Wx, Wh, b}, "dec": {Wx, Wh, b}, "Wc": (2H, H), "bc": (H,)} plus, for
additive attention, "att": {Wq (H, A), Wk (H, A), b (A,), v (A,)}. ``src`` and ``tgt_in``
are (N, S, D_src) and (N, T, D_tgt) float arrays (embedded tokens, for instance); the
decoder starts from the encoder's state after the last source position, so pad sources
on the left if their lengths differ, and pass ``src_mask`` so padding gets no attention.
"""
import numpy as np

from .._validation import Shapes
from ..activations import softmax
from ._cells import check_cell, init_params, sequence_backward, sequence_forward


def _queries(s, query, keys):
    keys = s.array("keys", keys, "N S H")
    if np.ndim(query) == 2:
        return s.array("query", query, "N H")[:, None, :], keys, True
    return s.array("query", query, "N Q H"), keys, False


def _check_mask(mask, N, S):
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (N, S):
        raise ValueError(f"mask: expected a boolean array of shape (N, S) = ({N}, {S}), "
                         f"got {mask.dtype} {mask.shape}")
    if not mask.any(axis=1).all():
        raise ValueError(f"mask: batch row {int(np.argmin(mask.any(axis=1)))} masks every "
                         "source position; at least one must be True")
    return mask


def _weights(scores, mask):
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -np.inf)
    return softmax(scores, axis=-1)


def _context_backward(dcontext, dweights, w, keys):
    """Gradients of the scores (N, Q, S) and of keys (N, S, H) from the context and weights."""
    dw = np.einsum("nqh,nsh->nqs", dcontext, keys)
    if dweights is not None:
        dw = dw + dweights
    dscores = w * (dw - np.sum(w * dw, axis=-1, keepdims=True))
    dkeys = np.einsum("nqs,nqh->nsh", w, dcontext)
    return dscores, dkeys


def _upstream(s, dcontext, dweights, single):
    if single:
        dcontext = s.array("dcontext", dcontext, "N H")[:, None, :]
        if dweights is not None:
            dweights = s.array("dweights", dweights, "N S")[:, None, :]
    else:
        dcontext = s.array("dcontext", dcontext, "N Q H")
        if dweights is not None:
            dweights = s.array("dweights", dweights, "N Q S")
    return dcontext, dweights


def dot_attention_forward(query, keys, mask=None):
    """Dot-product attention.

    Inputs: query (N, H) or (N, Q, H); keys (N, S, H); mask (N, S) bool or None.
    Returns context (N, H), weights (N, S) (with an extra Q axis for a block of queries)
    and the cache.
    """
    s = Shapes()
    q, keys, single = _queries(s, query, keys)
    mask = _check_mask(mask, keys.shape[0], keys.shape[1])
    w = _weights(np.einsum("nqh,nsh->nqs", q, keys), mask)
    context = np.einsum("nqs,nsh->nqh", w, keys)
    cache = (q, keys, w, single)
    return (context[:, 0], w[:, 0], cache) if single else (context, w, cache)


def dot_attention_backward(dcontext, cache, dweights=None):
    """Backward pass of :func:`dot_attention_forward`.

    dcontext: like the context; dweights: like the weights, or None when the weights feed
    nothing else. Returns dquery (like query) and dkeys (N, S, H).
    """
    q, keys, w, single = cache
    s = Shapes(q.dtype, N=q.shape[0], Q=q.shape[1], S=keys.shape[1], H=q.shape[2])
    dcontext, dweights = _upstream(s, dcontext, dweights, single)
    dscores, dkeys = _context_backward(dcontext, dweights, w, keys)
    dq = np.einsum("nqs,nsh->nqh", dscores, keys)
    dkeys += np.einsum("nqs,nqh->nsh", dscores, q)
    return (dq[:, 0] if single else dq), dkeys


def additive_attention_forward(query, keys, params, mask=None):
    """Additive (Bahdanau) attention.

    Inputs: query (N, Hq) or (N, Q, Hq); keys (N, S, Hk); params {"Wq": (Hq, A),
    "Wk": (Hk, A), "b": (A,), "v": (A,)}; mask (N, S) bool or None.
    Returns context (N, Hk), weights (N, S) (an extra Q axis for a block of queries), cache.
    """
    s = Shapes()
    keys = s.array("keys", keys, "N S Hk")
    single = np.ndim(query) == 2
    q = s.array("query", query, "N Hq")[:, None, :] if single else s.array("query", query, "N Q Hq")
    Wq = s.array("params['Wq']", params["Wq"], "Hq A")
    Wk = s.array("params['Wk']", params["Wk"], "Hk A")
    b = s.array("params['b']", params["b"], "A")
    v = s.array("params['v']", params["v"], "A")
    mask = _check_mask(mask, keys.shape[0], keys.shape[1])
    e = np.tanh((q @ Wq)[:, :, None, :] + (keys @ Wk)[:, None, :, :] + b)  # (N, Q, S, A)
    w = _weights(e @ v, mask)
    context = np.einsum("nqs,nsh->nqh", w, keys)
    cache = (q, keys, Wq, Wk, v, e, w, single)
    return (context[:, 0], w[:, 0], cache) if single else (context, w, cache)


def additive_attention_backward(dcontext, cache, dweights=None):
    """Backward pass of :func:`additive_attention_forward`.

    Returns dquery (like query), dkeys (N, S, Hk) and the gradients {"Wq", "Wk", "b", "v"}.
    """
    q, keys, Wq, Wk, v, e, w, single = cache
    s = Shapes(q.dtype, N=q.shape[0], Q=q.shape[1], S=keys.shape[1], H=keys.shape[2])
    dcontext, dweights = _upstream(s, dcontext, dweights, single)
    dscores, dkeys = _context_backward(dcontext, dweights, w, keys)
    dv = np.einsum("nqsa,nqs->a", e, dscores)
    dpre = dscores[..., None] * v * (1.0 - e * e)  # (N, Q, S, A)
    dqa = dpre.sum(axis=2)  # (N, Q, A)
    dka = dpre.sum(axis=1)  # (N, S, A)
    dq = dqa @ Wq.T
    dkeys += dka @ Wk.T
    grads = {"Wq": np.einsum("nqh,nqa->ha", q, dqa), "Wk": np.einsum("nsh,nsa->ha", keys, dka),
             "b": dpre.sum(axis=(0, 1, 2)), "v": dv}
    return (dq[:, 0] if single else dq), dkeys, grads


ATTENTIONS = ("dot", "additive")


def init_seq2seq(D_src, D_tgt, H, rng, cell="gru", attention="dot", A=None, dtype=np.float64):
    """Parameters of :func:`seq2seq_forward`; A is the additive attention's width (default H)."""
    check_cell(cell)
    if attention not in ATTENTIONS:
        raise ValueError(f"attention: expected 'dot' or 'additive', got {attention!r}")
    k = 1.0 / np.sqrt(H)
    params = {"enc": init_params(cell, D_src, H, rng, dtype), "dec": init_params(cell, D_tgt, H, rng, dtype),
              "Wc": rng.uniform(-k, k, (2 * H, H)).astype(dtype), "bc": np.zeros(H, dtype=dtype)}
    if attention == "additive":
        A = A or H
        params["att"] = {"Wq": rng.uniform(-k, k, (H, A)).astype(dtype),
                         "Wk": rng.uniform(-k, k, (H, A)).astype(dtype),
                         "b": np.zeros(A, dtype=dtype), "v": rng.uniform(-k, k, A).astype(dtype)}
    return params


def seq2seq_forward(src, tgt_in, params, cell="gru", attention="dot", src_mask=None):
    """Encoder, decoder and attention (see the module docstring).

    Inputs: src (N, S, D_src), tgt_in (N, T, D_tgt), params from :func:`init_seq2seq`.
    Returns out (N, T, H), weights (N, T, S) and the cache.
    """
    check_cell(cell)
    if attention not in ATTENTIONS:
        raise ValueError(f"attention: expected 'dot' or 'additive', got {attention!r}")
    enc, enc_cache = sequence_forward(cell, src, None, params["enc"], name="params['enc']")
    dec, dec_cache = sequence_forward(cell, tgt_in, enc[:, -1], params["dec"], name="params['dec']")
    if attention == "dot":
        context, weights, att_cache = dot_attention_forward(dec, enc, src_mask)
    else:
        context, weights, att_cache = additive_attention_forward(dec, enc, params["att"], src_mask)
    H = dec.shape[2]
    Wc = Shapes(dec.dtype, H=H).array("params['Wc']", params["Wc"], "2H H")
    joint = np.concatenate([context, dec], axis=-1)
    out = np.tanh(joint @ Wc + params["bc"])
    return out, weights, (cell, attention, enc_cache, dec_cache, att_cache, joint, Wc, out)


def seq2seq_backward(dout, cache):
    """Backward pass of :func:`seq2seq_forward`.

    dout: (N, T, H). Returns the gradients (a dict shaped like params), dsrc and dtgt_in.
    """
    cell, attention, enc_cache, dec_cache, att_cache, joint, Wc, out = cache
    dout = Shapes(out.dtype, N=out.shape[0], T=out.shape[1], H=out.shape[2]).array("dout", dout, "N T H")
    H = out.shape[2]
    dpre = dout * (1.0 - out * out)
    grads = {"Wc": joint.reshape(-1, 2 * H).T @ dpre.reshape(-1, H), "bc": dpre.sum(axis=(0, 1))}
    djoint = dpre @ Wc.T
    if attention == "dot":
        ddec, denc = dot_attention_backward(djoint[..., :H], att_cache)
    else:
        ddec, denc, grads["att"] = additive_attention_backward(djoint[..., :H], att_cache)
    ddec = ddec + djoint[..., H:]
    dtgt, dh0, grads["dec"] = sequence_backward(cell, ddec, dec_cache)
    denc[:, -1] += dh0
    dsrc, _, grads["enc"] = sequence_backward(cell, denc, enc_cache)
    return grads, dsrc, dtgt


