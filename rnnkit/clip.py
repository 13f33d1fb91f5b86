"""Gradient clipping, by global norm and by value."""
import numpy as np

from ._validation import check_positive


def _check_grads(grads):
    if not isinstance(grads, dict):
        raise ValueError(f"grads: expected a dict of arrays, got {type(grads).__name__}")
    for name, g in grads.items():
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            raise ValueError(f"grads[{name!r}]: expected a floating ndarray (clipped in place)")


def global_norm(grads):
    """sqrt of the sum of squares of every entry of every array in grads."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))


def clip_grad_norm(grads, max_norm):
    """Scale every gradient in place so that their global norm is at most max_norm.

    Returns the global norm before clipping. A non-finite norm leaves the
    gradients untouched (scaling them would hide the problem).
    """
    _check_grads(grads)
    check_positive("max_norm", max_norm)
    total = global_norm(grads)
    if np.isfinite(total) and total > max_norm:
        scale = max_norm / total
        for g in grads.values():
            g *= scale
    return total


def clip_grad_value(grads, clip_value):
    """Clip every entry of every gradient in place to [-clip_value, clip_value]."""
    _check_grads(grads)
    check_positive("clip_value", clip_value)
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)
