"""One optimisation step of any model: forward, loss, backward, clipping, update."""
from ..clip import clip_grad_norm, clip_grad_value, global_norm


def train_step(model, optimizer, batch, clip=None, clip_value=None):
    """Train ``model`` on one batch and return ``(loss, grad_norm)``.

    - batch: a tuple of the arguments of ``model.loss``, e.g. (x, y) or (x, y, mask)
    - clip: None, or the largest global gradient norm allowed
      (:func:`rnnkit.clip.clip_grad_norm` rescales the gradients above it)
    - clip_value: None, or clip every gradient entry to [-clip_value, clip_value]
      (:func:`rnnkit.clip.clip_grad_value`), applied before ``clip``

    The loss is the one before the update; grad_norm is the global norm before any
    clipping, the number to watch for exploding gradients.
    """
    if not isinstance(batch, (tuple, list)):
        raise ValueError(f"batch: expected a tuple of the arguments of model.loss, got {type(batch).__name__}")
    loss, grads = model.loss(*batch)
    norm = global_norm(grads)
    if clip_value is not None:
        clip_grad_value(grads, clip_value)
    if clip is not None:
        clip_grad_norm(grads, clip)
    optimizer.step(grads)
    return loss, norm
