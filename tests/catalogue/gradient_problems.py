"""Wrong answers to the exercises of 03-gradient-problems."""
from catalogue import Answer, Mistake

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
    Mistake(LAG, "tanh derivative missing", _lag(step="dh @ Wh.T"), r"derivative of tanh is missing",
            fails=("gradient_norm_by_lag_tests",)),
    Mistake(LAG, "Wh not transposed", _lag(step="(dh * (1 - h[:, t] ** 2)) @ Wh"), r"Wh is not transposed",
            fails=("gradient_norm_by_lag_tests",)),
    Mistake(LAG, "derivative taken at the previous state",
            _lag(step="(dh * (1 - (h[:, t - 1] if t > 0 else h0) ** 2)) @ Wh.T"), r"derivative is taken at h_\(t-1\)",
            fails=("gradient_norm_by_lag_tests",)),
    Mistake(LAG, "lags in reverse order", _lag(ret="norms[::-1]"), r"reverse order",
            fails=("gradient_norm_by_lag_tests",)),
    Mistake(LAG, "norm recorded after the step back", _lag(after=True), r"one step late",
            fails=("gradient_norm_by_lag_tests",)),
    Mistake(LAG, "mean of the row norms", _lag(norm="np.linalg.norm(dh, axis=1).mean()"),
            r"averages the norms of the batch rows", fails=("gradient_norm_by_lag_tests",)),
    Mistake(LAG, "squared norms", _lag(norm="np.sum(dh ** 2)"), r"squared norms",
            fails=("gradient_norm_by_lag_tests",)),
    Mistake(LAG, "dh_last ignored", _lag(start="np.ones_like(dh_last)"), r"dh_last is ignored",
            fails=("gradient_norm_by_lag_tests",)),
    Mistake(LAG, "relative to lag 0", _lag(ret="norms / norms[0]"), r"divided by the norm at lag 0",
            fails=("gradient_norm_by_lag_tests",)),
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
""", r"not one per batch row", fails=("gradient_norm_by_lag_tests",)),
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
""", r"initial state h0 is not included", fails=("gradient_norm_by_lag_tests",)),
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
""", r"calls rnnkit\.rnn_step_backward", fails=("gradient_norm_by_lag_tests", "gradient_norm_by_lag_tests_2")),
    # clip_grad_norm
    Mistake(CLIP, "each array clipped on its own", """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        n = np.linalg.norm(g)
        if n > max_norm:
            g *= max_norm / n
    return total
""", r"each array is clipped to max_norm on its own", fails=("clip_grad_norm_tests", "clip_grad_norm_tests_2")),
    Mistake(CLIP, "norm after clipping returned", _clip(ret="min(total, max_norm)"), r"norm after clipping",
            fails=("clip_grad_norm_tests", "clip_grad_norm_tests_2")),
    Mistake(CLIP, "new arrays put in the dict",
            _clip(body="for k in grads:\n            grads[k] = grads[k] * scale"), r"is a new array",
            fails=("clip_grad_norm_tests",)),
    Mistake(CLIP, "loop variable rebound",
            _clip(body="for g in grads.values():\n            g = g * scale"), r"unchanged although",
            fails=("clip_grad_norm_tests",)),
    Mistake(CLIP, "scaled up below the threshold", _clip(condition="np.isfinite(total)"), r"scaled up to max_norm",
            fails=("clip_grad_norm_tests",)),
    Mistake(CLIP, "scale inverted", _clip(scale="total / max_norm"), r"scale is inverted",
            fails=("clip_grad_norm_tests",)),
    Mistake(CLIP, "clipped by value", _clip(condition="True", scale="None",
                                             body="for g in grads.values():\n            np.clip(g, -max_norm, max_norm, out=g)"),
            r"clipping by value", fails=("clip_grad_norm_tests", "clip_grad_norm_tests_2")),
    Mistake(CLIP, "sum of the arrays' norms",
            _clip(total="float(sum(np.linalg.norm(g) for g in grads.values()))"), r"sum of the arrays' norms",
            fails=("clip_grad_norm_tests",)),
    Mistake(CLIP, "non-finite norm not handled", _clip(condition="total > max_norm"), r"not finite",
            fails=("clip_grad_norm_tests_2",)),
    Mistake(CLIP, "calls rnnkit", "def clip_grad_norm(grads, max_norm):\n"
            "    return rnnkit.clip_grad_norm(grads, max_norm)\n", r"calls rnnkit\.clip_grad_norm",
            fails=("clip_grad_norm_tests", "clip_grad_norm_tests_2")),

    # ---------------------------------------------------------------- what only hidden tests used to see
    Mistake(LAG, "dh_last scaled in place", _lag(step="dh.__imul__(1 - h[:, t] ** 2) @ Wh.T"),
            r"gradient_norm_by_lag changes its input dh_last in place", fails=("gradient_norm_by_lag_tests_2",)),
    Mistake(LAG, "squeezes the batch (N = 1)", _lag(step="(np.squeeze(dh) * (1 - np.squeeze(h[:, t]) ** 2)) @ Wh.T"),
            r"norms.* differs|raised|a size of 1", fails=("gradient_norm_by_lag_tests",)),
]


# Answers written the way students write them. A right one loses at most a third of its
# points, and only for a requirement its visible tests showed; a buggy one is told its bug.
ANSWERS = [
    Answer(LAG, "a list of norms over reversed(range(T))", """
def gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    h, _ = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    norms = []
    grad = dh_last
    for t in reversed(range(x.shape[1])):
        norms.append(np.linalg.norm(grad))
        grad = (grad * (1 - h[:, t] ** 2)) @ Wh.T
    return np.array(norms)
"""),
    Answer(LAG, "states from the step function, sqrt of a sum of squares", """
def gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    states = []
    h = h0
    for t in range(x.shape[1]):
        h, _ = rnnkit.rnn_step_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
    out = np.zeros(len(states))
    g = dh_last.copy()
    for k, h_t in enumerate(states[::-1]):
        out[k] = np.sqrt(np.sum(g ** 2))
        g = np.dot(g * (1.0 - h_t * h_t), Wh.T)
    return out
"""),
    Answer(LAG, "the gradient scaled in place", """
def gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    h, _ = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    norms = []
    grad = dh_last
    for t in range(x.shape[1] - 1, -1, -1):
        norms.append(np.linalg.norm(grad))
        grad *= 1 - h[:, t] ** 2
        grad = grad @ Wh.T
    return np.array(norms)
""", fails=("gradient_norm_by_lag_tests_2",), message=r"changes its input dh_last in place"),
    Answer(CLIP, "norm of all entries concatenated, a loop over the keys", """
def clip_grad_norm(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    if np.isfinite(total) and total > max_norm:
        for k in grads:
            grads[k] *= max_norm / total
    return total
"""),
    Answer(CLIP, "sum of squares, scale computed once", """
def clip_grad_norm(grads, max_norm):
    sq = 0.0
    for g in grads.values():
        sq += float((g ** 2).sum())
    norm = sq ** 0.5
    if norm > max_norm and norm != float("inf") and norm == norm:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm
"""),
    Answer(CLIP, "no check for inf or NaN", """
def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    if total > max_norm:
        for g in grads.values():
            g *= max_norm / total
    return total
""", correct=False, fails=("clip_grad_norm_tests_2",), message=r"not finite"),
    Answer(CLIP, "new arrays put in the dict", """
def clip_grad_norm(grads, max_norm):
    total = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    if np.isfinite(total) and total > max_norm:
        grads.update({k: g * (max_norm / total) for k, g in grads.items()})
    return total
""", correct=False, fails=("clip_grad_norm_tests",), message=r"is a new array"),
]
