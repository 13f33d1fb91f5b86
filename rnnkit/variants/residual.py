"""Residual connections between stacked recurrent layers (as in Google's NMT system, Wu et al. 2016).

    h^(l) = layer_l(h^(l-1)) + h^(l-1)      where layer_l keeps the width of its input
    h^(l) = layer_l(h^(l-1))                otherwise (the first layer when D != H)

The identity path lets the gradient of the top reach every layer without passing through
each layer's Jacobian, so deep stacks (4 to 8 layers) train where a plain stack stalls.
Across time nothing changes: inside a layer the recurrence is the cell's own.
"""
from .stacked import stacked_backward, stacked_forward


def residual_forward(x, layers, cell="lstm", bidirectional=False, h0=None):
    """A stack of recurrent layers with residual connections; arguments as :func:`stacked_forward`.

    Returns the output of the last layer, (N, T, H) (or (N, T, 2H) when bidirectional), and
    the cache. A layer adds its input to its output exactly when the two have the same shape.
    """
    return stacked_forward(x, layers, cell, bidirectional, h0, residual=True)


def residual_backward(dout, cache):
    """Backward pass of :func:`residual_forward`: dx, initial-state gradients, parameter gradients.

    Where a layer had a skip connection, the gradient of its output reaches its input twice:
    through the layer and, unchanged, through the identity.
    """
    return stacked_backward(dout, cache)
