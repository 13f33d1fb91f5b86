"""Wrong answers to the exercises of 03-gradient-problems."""
from catalogue import Mistake

NOTEBOOK = "03-gradient-problems"

LAG = "gradient_norm_by_lag"
CLIP = "clip_grad_norm"


def _lag(step="(dh * (1 - h[:, t] ** 2)) @ Wh.T", norm="np.linalg.norm(dh)", start="dh_last",
         order="range(T)", after=False, ret="norms", size="T"):
    record = f"        norms[k] = {norm}\n"
    return f"""
def gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    h, _ = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    norms = np.zeros({size})
    dh = {start}
    for k in {order}:
        t = T - 1 - k
{"" if after else record}        dh = {step}
{record if after else ""}    return {ret}
"""


def _clip(total="float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))",
          condition="np.isfinite(total) and total > max_norm", body="for g in grads.values():\n            g *= scale",
          scale="max_norm / total", ret="total"):
    return f"""
def clip_grad_norm(grads, max_norm):
    total = {total}
    if {condition}:
        scale = {scale}
        {body}
    return {ret}
"""


CATALOGUE = [
    # gradient_norm_by_lag
    Mistake(LAG, "tanh derivative missing", _lag(step="dh @ Wh.T"), r"derivative of tanh is missing"),
    Mistake(LAG, "Wh not transposed", _lag(step="(dh * (1 - h[:, t] ** 2)) @ Wh"), r"Wh is not transposed"),
    Mistake(LAG, "derivative taken at the previous state",
            _lag(step="(dh * (1 - (h[:, t - 1] if t > 0 else h0) ** 2)) @ Wh.T"), r"derivative is taken at h_\(t-1\)"),
    Mistake(LAG, "lags in reverse order", _lag(ret="norms[::-1]"), r"reverse order"),
    Mistake(LAG, "norm recorded after the step back", _lag(after=True), r"one step late"),
    Mistake(LAG, "mean of the row norms", _lag(norm="np.linalg.norm(dh, axis=1).mean()"),
            r"averages the norms of the batch rows"),
    Mistake(LAG, "squared norms", _lag(norm="np.sum(dh ** 2)"), r"squared norms"),
    Mistake(LAG, "dh_last ignored", _lag(start="np.ones_like(dh_last)"), r"dh_last is ignored"),
    Mistake(LAG, "relative to lag 0", _lag(ret="norms / norms[0]"), r"divided by the norm at lag 0"),
    Mistake(LAG, "one norm per batch row", """
def gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    h, _ = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    norms = np.empty((x.shape[0], T))
    dh = dh_last
    for k in range(T):
        t = T - 1 - k
        norms[:, k] = np.linalg.norm(dh, axis=1)
        dh = (dh * (1 - h[:, t] ** 2)) @ Wh.T
    return norms
""", r"not one per batch row"),
    Mistake(LAG, "initial state included", """
def gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    h, _ = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    norms = [np.linalg.norm(dh_last)]
    dh = dh_last
    for t in range(T - 1, -1, -1):
        dh = (dh * (1 - h[:, t] ** 2)) @ Wh.T
        norms.append(np.linalg.norm(dh))
    return np.array(norms)
""", r"initial state h0 is not included"),
    Mistake(LAG, "calls rnnkit's step backward", """
def gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    caches, h = [], h0
    for t in range(x.shape[1]):
        h, cache = rnnkit.rnn_step_forward(x[:, t], h, Wx, Wh, b)
        caches.append(cache)
    norms, dh = [], dh_last
    for cache in reversed(caches):
        norms.append(np.linalg.norm(dh))
        dh = rnnkit.rnn_step_backward(dh, cache)[1]
    return np.array(norms)
""", r"calls rnnkit\.rnn_step_backward"),
    # clip_grad_norm
    Mistake(CLIP, "each array clipped on its own", """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        n = np.linalg.norm(g)
        if n > max_norm:
            g *= max_norm / n
    return total
""", r"each array is clipped to max_norm on its own"),
    Mistake(CLIP, "norm after clipping returned", _clip(ret="min(total, max_norm)"), r"norm after clipping"),
    Mistake(CLIP, "new arrays put in the dict",
            _clip(body="for k in grads:\n            grads[k] = grads[k] * scale"), r"is a new array"),
    Mistake(CLIP, "loop variable rebound",
            _clip(body="for g in grads.values():\n            g = g * scale"), r"unchanged although"),
    Mistake(CLIP, "scaled up below the threshold", _clip(condition="np.isfinite(total)"), r"scaled up to max_norm"),
    Mistake(CLIP, "scale inverted", _clip(scale="total / max_norm"), r"scale is inverted"),
    Mistake(CLIP, "clipped by value", _clip(condition="True", scale="None",
                                             body="for g in grads.values():\n            np.clip(g, -max_norm, max_norm, out=g)"),
            r"clipping by value"),
    Mistake(CLIP, "sum of the arrays' norms",
            _clip(total="float(sum(np.linalg.norm(g) for g in grads.values()))"), r"sum of the arrays' norms"),
    Mistake(CLIP, "non-finite norm not handled", _clip(condition="total > max_norm"), r"not finite"),
    Mistake(CLIP, "calls rnnkit", "def clip_grad_norm(grads, max_norm):\n"
            "    return rnnkit.clip_grad_norm(grads, max_norm)\n", r"calls rnnkit\.clip_grad_norm"),
]
