"""Stacked (deep) recurrent layers: the hidden states of layer l are the input sequence of layer l+1.

    h^(0) = x,    h^(l) = layer_l(h^(l-1))   for l = 1 .. L,   output h^(L)

Every layer is any of rnnkit's cells, one-way or bidirectional (then layer l+1 reads the
2H-wide concatenation, as in PyTorch's ``num_layers`` with ``bidirectional=True``). With
``residual=True`` a layer whose output has the shape of its input adds its input
(h^(l) = layer_l(h^(l-1)) + h^(l-1)); see :mod:`rnnkit.variants.residual`.
"""
from .bidirectional import bidirectional_backward, bidirectional_forward
from ._cells import check_cell, sequence_backward, sequence_forward


def stacked_forward(x, layers, cell="lstm", bidirectional=False, h0=None, residual=False):
    """Run a stack of recurrent layers.

    Inputs:
    - x: (N, T, D)
    - layers: a list of parameter dicts {"Wx", "Wh", "b"}, the first with Wx (D, G*H),
      the next with Wx (H, G*H); with bidirectional=True a list of pairs (params_f, params_b)
      whose Wx are (D, G*H) in the first layer and (2H, G*H) after it
    - cell: "rnn", "lstm" or "gru"
    - h0: None (zeros) or a list with one initial state per layer: (N, H) arrays, or pairs
      of them when bidirectional
    - residual: add each layer's input to its output where their shapes agree

    Returns the output of the last layer, (N, T, H) or (N, T, 2H), and the cache.
    """
    check_cell(cell)
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers: expected a non-empty list of layer parameters")
    if h0 is not None and len(h0) != len(layers):
        raise ValueError(f"h0: expected {len(layers)} initial states (one per layer), got {len(h0)}")
    caches = []
    out = x
    for l, params in enumerate(layers):
        inp = out
        start = None if h0 is None else h0[l]
        if bidirectional:
            if not isinstance(params, (list, tuple)) or len(params) != 2:
                raise ValueError(f"layers[{l}]: expected a pair (params_f, params_b) for a bidirectional stack")
            out, cache = bidirectional_forward(inp, params[0], params[1], cell, start)
        else:
            out, cache = sequence_forward(cell, inp, start, params, name=f"layers[{l}]")
        skip = residual and out.shape == inp.shape
        if skip:
            out = out + inp
        caches.append((cache, skip))
    return out, (cell, bidirectional, caches)


def stacked_backward(dout, cache):
    """Backward pass of :func:`stacked_forward`.

    dout: the gradient of the last layer's output. Returns dx (N, T, D), the list of
    initial-state gradients (one per layer, pairs when bidirectional) and the list of
    parameter gradients, shaped like ``layers``.
    """
    cell, bidirectional, caches = cache
    dh0s, grads = [], []
    d = dout
    for layer_cache, skip in reversed(caches):
        if bidirectional:
            dinp, dh0, g_f, g_b = bidirectional_backward(d, layer_cache)
            g = (g_f, g_b)
        else:
            dinp, dh0, g = sequence_backward(cell, d, layer_cache)
        if skip:
            dinp = dinp + d
        dh0s.append(dh0)
        grads.append(g)
        d = dinp
    return d, dh0s[::-1], grads[::-1]
