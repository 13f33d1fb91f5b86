"""Wrong answers to the exercises of 02-bptt."""
from catalogue import Answer, Mistake

NOTEBOOK = "02-bptt"

STEP = "rnn_step_backward"
SEQ = "rnn_backward"
LOSS = "temporal_softmax_loss"
CHECK = "gradient_check_rnn"


def _step(da="dh_next * (1 - h_next * h_next)", dx="da @ Wx.T", dh_prev="da @ Wh.T",
          dWx="x.T @ da", dWh="h_prev.T @ da", db="da.sum(axis=0)"):
    return f"""
def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    da = {da}
    return {dx}, {dh_prev}, {dWx}, {dWh}, {db}
"""


def _seq(loop="range(T - 1, -1, -1)", upstream="dh[:, t] + carry", accumulate="+=",
         store="dx[:, t]", ret="dx, carry, dWx, dWh, db", setup=""):
    return f"""
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    _, _, Wx, Wh, _ = cache[0]
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    carry = np.zeros((N, H), dtype=dh.dtype)
    {setup}
    for t in {loop}:
        {store}, carry, gx, gh, gb = rnn_step_backward({upstream}, cache[t])
        dWx {accumulate} gx
        dWh {accumulate} gh
        db {accumulate} gb
    return {ret}
"""


def _loss(log_probs="shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))",
          shift="scores.max(axis=-1, keepdims=True)", loss="-true[mask].sum() / count",
          onehot="-= 1", scale="(mask / count)[..., None]", count="mask.sum()"):
    return f"""
def temporal_softmax_loss(scores, y, mask=None):
    N, T, V = scores.shape
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    shifted = scores - {shift}
    log_probs = {log_probs}
    count = {count}
    true = np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]
    loss = {loss}
    dscores = np.exp(log_probs)
    dscores[np.arange(N)[:, None], np.arange(T), y] {onehot}
    dscores *= ({scale}).astype(scores.dtype)
    return float(loss), dscores
"""


def _check(numeric="rnnkit.numerical_gradient(lambda _: forward(x, h0, Wx, Wh, b)[0], value, dh)",
           error="rnnkit.rel_error(grad, numeric)", values="(x, h0, Wx, Wh, b)",
           names='("x", "h0", "Wx", "Wh", "b")'):
    return f"""
def gradient_check_rnn(forward, backward, x, h0, Wx, Wh, b, dh):
    _, cache = forward(x, h0, Wx, Wh, b)
    analytic = backward(dh, cache)
    errors = {{}}
    for name, value, grad in zip({names}, {values}, analytic):
        numeric = {numeric}
        errors[name] = {error}
    return errors
"""


CATALOGUE = [
    # rnn_step_backward
    Mistake(STEP, "tanh derivative missing", _step(da="dh_next"), r"derivative of tanh is missing",
            fails=("rnn_step_backward_tests",)),
    Mistake(STEP, "derivative taken at h_prev", _step(da="dh_next * (1 - h_prev ** 2)"), r"taken at h_prev",
            fails=("rnn_step_backward_tests",)),
    Mistake(STEP, "tanh applied twice in the derivative", _step(da="dh_next * (1 - np.tanh(h_next) ** 2)"),
            r"already tanh\(a\)", fails=("rnn_step_backward_tests",)),
    Mistake(STEP, "Wh not transposed", _step(dh_prev="da @ Wh"), r"Wh is not transposed",
            fails=("rnn_step_backward_tests",)),
    Mistake(STEP, "dWx transposed", _step(dWx="da.T @ x"), r"dWx has shape \(5, 4\), expected \(4, 5\): it is transposed",
            fails=("rnn_step_backward_tests", "rnn_backward_tests", "rnn_backward_tests_2")),
    Mistake(STEP, "dWh from h_next", _step(dWh="h_next.T @ da"), r"dWh is wrong: it uses h_next",
            fails=("rnn_step_backward_tests",)),
    Mistake(STEP, "db averaged over the batch", _step(db="da.mean(axis=0)"), r"averaged over the batch",
            fails=("rnn_step_backward_tests",)),
    Mistake(STEP, "db not summed", _step(db="da"), r"db must be summed over the batch rows",
            fails=("rnn_step_backward_tests", "rnn_backward_tests", "rnn_backward_tests_2")),
    Mistake(STEP, "db promoted to float64", _step(db="da.sum(axis=0, dtype=np.float64)"),
            r"db from rnn_step_backward has dtype float64 for float32 inputs", fails=("rnn_step_backward_tests_2",)),
    Mistake(STEP, "calls rnnkit", "def rnn_step_backward(dh_next, cache):\n"
            "    return rnnkit.rnn_step_backward(dh_next, cache)\n", r"calls rnnkit\.rnn_step_backward",
            fails=("rnn_step_backward_tests", "rnn_step_backward_tests_2")),
    # rnn_backward
    Mistake(SEQ, "state gradient not carried", _seq(upstream="dh[:, t]"), r"not carried back in time",
            fails=("rnn_backward_tests",)),
    Mistake(SEQ, "loop forwards in time", _seq(loop="range(T)"), r"forwards in time", fails=("rnn_backward_tests",)),
    Mistake(SEQ, "upstream replaced by the carried gradient",
            _seq(upstream="carry", setup="carry = dh[:, -1]"), r"replaced by the carried gradient",
            fails=("rnn_backward_tests",)),
    Mistake(SEQ, "weight gradients not accumulated over time", _seq(accumulate="="),
            r"contribution of time step 0 only", fails=("rnn_backward_tests",)),
    Mistake(SEQ, "dx stored in reverse order", _seq(store="dx[:, T - 1 - t]"), r"in reverse",
            fails=("rnn_backward_tests",)),
    Mistake(SEQ, "dx time-major", _seq(ret="dx.transpose(1, 0, 2), carry, dWx, dWh, db"), r"time-major",
            fails=("rnn_backward_tests",)),
    Mistake(SEQ, "dh0 left at zero", _seq(ret="dx, np.zeros_like(carry), dWx, dWh, db"), r"dh0 is zero",
            fails=("rnn_backward_tests",)),
    Mistake(SEQ, "calls rnnkit", "def rnn_backward(dh, cache):\n"
            "    x = np.stack([c[0] for c in cache], axis=1)\n"
            "    _, h_prev, Wx, Wh, _ = cache[0]\n"
            "    b = np.zeros(Wh.shape[0], dtype=Wh.dtype)\n"
            "    return rnnkit.rnn_backward(dh, rnnkit.rnn_forward(x, h_prev, Wx, Wh, b)[1])\n",
            r"calls rnnkit\.rnn_backward", fails=("rnn_backward_tests", "rnn_backward_tests_2")),
    # temporal_softmax_loss
    Mistake(LOSS, "loss divided by N", _loss(loss="-true[mask].sum() / N"), r"divided by N, the number of sequences",
            fails=("temporal_softmax_loss_tests",)),
    Mistake(LOSS, "mask ignored", _loss(loss="-true.mean()", scale="np.ones((N, T, 1)) / (N * T)"),
            r"mask is ignored", fails=("temporal_softmax_loss_tests",)),
    Mistake(LOSS, "masked positions still counted", _loss(count="N * T"), r"still counted",
            fails=("temporal_softmax_loss_tests",)),
    Mistake(LOSS, "dscores not masked", _loss(scale="np.ones((N, T, 1)) / count"),
            r"must be zero at the masked positions", fails=("temporal_softmax_loss_tests",)),
    Mistake(LOSS, "true-class term missing from the gradient", _loss(onehot="-= 0"),
            r"1 at the true class is missing", fails=("temporal_softmax_loss_tests",)),
    Mistake(LOSS, "dscores not averaged", _loss(scale="mask[..., None] * 1.0"),
            r"not divided by the number of counted positions", fails=("temporal_softmax_loss_tests",)),
    Mistake(LOSS, "exp without the max shift", _loss(shift="0"),
            r"exp\(scores\) overflows: subtract each row's maximum",
            fails=("temporal_softmax_loss_tests_2",)),
    Mistake(LOSS, "log of an underflowed probability",
            _loss(log_probs="np.log(np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True))"),
            r"np.log meets a probability that underflowed to 0", fails=("temporal_softmax_loss_tests_2",)),
    Mistake(LOSS, "calls rnnkit", "def temporal_softmax_loss(scores, y, mask=None):\n"
            "    return rnnkit.temporal_softmax_loss(scores, y, mask)\n", r"calls rnnkit\.temporal_softmax_loss",
            fails=("temporal_softmax_loss_tests", "temporal_softmax_loss_tests_2", "temporal_softmax_loss_tests_3")),
    # gradient_check_rnn
    Mistake(CHECK, "analytic gradient compared with itself", _check(error="rnnkit.rel_error(grad, grad)"),
            r"misses a backward whose d\w+ is 5% too large", fails=("gradient_check_rnn_tests",)),
    Mistake(CHECK, "upstream gradient ignored (df = 1)",
            _check(numeric="rnnkit.numerical_gradient(lambda _: forward(x, h0, Wx, Wh, b)[0], value, 1.0)"),
            r"with a correct backward, your check reports",
            fails=("gradient_check_rnn_tests", "gradient_check_rnn_tests_2")),
    Mistake(CHECK, "forward reads a copy of the perturbed array",
            _check(numeric="rnnkit.numerical_gradient(lambda v: forward(x.copy(), h0, Wx, Wh, b)[0], "
                           "value.copy(), dh)"),
            r"with a correct backward, your check reports",
            fails=("gradient_check_rnn_tests", "gradient_check_rnn_tests_2")),
    Mistake(CHECK, "absolute error instead of relative", _check(error="float(np.abs(grad - numeric).max())"),
            r"rnnkit\.rel_error", fails=("gradient_check_rnn_tests",)),
    Mistake(CHECK, "one-sided differences written by hand", _check(numeric="""np.zeros_like(value)
        base = np.sum(forward(x, h0, Wx, Wh, b)[0] * dh)
        for i in np.ndindex(value.shape):
            old = value[i]
            value[i] = old + 1e-6
            numeric[i] = (np.sum(forward(x, h0, Wx, Wh, b)[0] * dh) - base) / 1e-6
            value[i] = old"""), r"numerical_gradient 0 times",
            fails=("gradient_check_rnn_tests", "gradient_check_rnn_tests_2")),
    Mistake(CHECK, "inputs paired with the wrong gradients", _check(values="(x, Wx, h0, Wh, b)"),
            r"gradient_check_rnn raised ValueError", fails=("gradient_check_rnn_tests", "gradient_check_rnn_tests_2")),
    Mistake(CHECK, "only the weights checked",
            _check(names='("Wx", "Wh", "b")', values="(Wx, Wh, b)",
                   error="rnnkit.rel_error(analytic[2 + ('Wx', 'Wh', 'b').index(name)], numeric)"),
            r"dict with keys", fails=("gradient_check_rnn_tests", "gradient_check_rnn_tests_2")),

    # ---------------------------------------------------------------- what only hidden tests used to see
    Mistake(STEP, "dh_next updated in place", _step(da="dh_next.__imul__(1 - h_next * h_next)"),
            r"rnn_step_backward changes its input dh_next in place", fails=("rnn_step_backward_tests_2",)),
    Mistake(STEP, "float64 intermediates", _step(da="dh_next.astype(np.float64) * (1 - h_next * h_next)"),
            r"dx from rnn_step_backward has dtype float64 for float32 inputs", fails=("rnn_step_backward_tests_2",)),
    Mistake(STEP, "db squeezed (H = 1)", _step(db="np.squeeze(da.sum(axis=0, keepdims=True))"),
            r"db has shape \(\), expected \(1,\)", fails=("rnn_step_backward_tests",)),
    Mistake(SEQ, "float64 accumulators",
            _seq(setup="dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)"),
            r"dWx from rnn_backward has dtype float64 for float32 inputs", fails=("rnn_backward_tests_2",)),
    Mistake(SEQ, "dh updated in place", _seq(upstream="dh[:, t].__iadd__(carry)"),
            r"rnn_backward changes its input dh in place", fails=("rnn_backward_tests_2",)),
    Mistake(LOSS, "float64 dscores", _loss(log_probs="(shifted - np.log(np.exp(shifted).sum(axis=-1, "
                                                     "keepdims=True))).astype(np.float64)"),
            r"dscores from temporal_softmax_loss has dtype float64 for float32 inputs",
            fails=("temporal_softmax_loss_tests_3",)),
    Mistake(LOSS, "scores shifted in place",
            _loss(shift="scores.max(axis=-1, keepdims=True); scores -= scores.max(axis=-1, keepdims=True)"),
            r"temporal_softmax_loss changes its input scores in place", fails=("temporal_softmax_loss_tests_3",)),
    Mistake(SEQ, "a wrong loop around a wrong step: the step is named first",
            _step(da="dh_next") + _seq(upstream="dh[:, t]"),
            r"^your rnn_step_backward does not agree with rnnkit .* fix rnn_step_backward first\. rnn_backward is "
            r"wrong: the gradient is not carried back",
            fails=("rnn_backward_tests",)),
]


# Answers written the way students write them. A right one loses at most a third of its
# points, and only for a requirement its visible tests showed; a buggy one is told its bug.
ANSWERS = [
    # ---------------------------------------------------------------- rnn_step_backward
    Answer(STEP, "dtanh and .dot", """
def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    dtanh = (1 - h_next ** 2) * dh_next
    dx = dtanh.dot(Wx.T)
    dh_prev = dtanh.dot(Wh.T)
    dWx = x.T.dot(dtanh)
    dWh = h_prev.T.dot(dtanh)
    db = np.sum(dtanh, axis=0)
    return dx, dh_prev, dWx, dWh, db
"""),
    Answer(STEP, "dh_next scaled in place", """
def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    dh_next *= 1 - h_next ** 2
    return dh_next @ Wx.T, dh_next @ Wh.T, x.T @ dh_next, h_prev.T @ dh_next, dh_next.sum(axis=0)
""", fails=("rnn_step_backward_tests_2",), message=r"changes its input dh_next in place"),
    Answer(STEP, "a float64 constant", """
def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (np.float64(1.0) - h_next ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
""", fails=("rnn_step_backward_tests_2",), message=r"has dtype float64 for float32 inputs"),
    Answer(STEP, "derivative taken from h_prev", """
def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1 - h_prev ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
""", correct=False, fails=("rnn_step_backward_tests",), message=r"derivative of tanh is taken at h_prev"),
    # ---------------------------------------------------------------- rnn_backward
    Answer(SEQ, "the cache popped from the end", """
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros((D, H), dtype=dh.dtype)
    dWh = np.zeros((H, H), dtype=dh.dtype)
    db = np.zeros(H, dtype=dh.dtype)
    dh_prev = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        step_cache = cache.pop()
        dx_t, dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dh_prev, step_cache)
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dh_prev, dWx, dWh, db
"""),
    Answer(SEQ, "a list of dx stacked at the end, sums started at 0", """
def rnn_backward(dh, cache):
    T = dh.shape[1]
    dxs = []
    dWx = dWh = db = 0
    carry = 0
    for t in range(T - 1, -1, -1):
        g = rnn_step_backward(dh[:, t] + carry, cache[t])
        dxs.insert(0, g[0])
        carry = g[1]
        dWx = dWx + g[2]
        dWh = dWh + g[3]
        db = db + g[4]
    return np.stack(dxs, axis=1), carry, dWx, dWh, db
"""),
    Answer(SEQ, "np.zeros without a dtype", """
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    x0, _, Wx, Wh, _ = cache[0]
    dx = np.zeros((N, T, x0.shape[1]))
    dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
    dh_prev = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dx[:, t], dh_prev, a, c, d = rnn_step_backward(dh[:, t] + dh_prev, cache[t])
        dWx += a
        dWh += c
        db += d
    return dx, dh_prev, dWx, dWh, db
""", fails=("rnn_backward_tests_2",), message=r"has dtype float64 for float32 inputs"),
    Answer(SEQ, "the carried gradient added into dh", """
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    grads = None
    dxs = [None] * T
    carry = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        dh[:, t] += carry
        dxs[t], carry, *g = rnn_step_backward(dh[:, t], cache[t])
        grads = g if grads is None else [u + v for u, v in zip(grads, g)]
    return (np.stack(dxs, axis=1), carry, *grads)
""", fails=("rnn_backward_tests_2",), message=r"changes its input dh in place"),
    Answer(SEQ, "the steps visited forwards", """
def rnn_backward(dh, cache):
    N, T, H = dh.shape
    grads = None
    dxs = [None] * T
    carry = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T):
        dxs[t], carry, *g = rnn_step_backward(dh[:, t] + carry, cache[t])
        grads = g if grads is None else [u + v for u, v in zip(grads, g)]
    return (np.stack(dxs, axis=1), carry, *grads)
""", correct=False, fails=("rnn_backward_tests",), message=r"forwards in time"),
    # ---------------------------------------------------------------- temporal_softmax_loss
    Answer(LOSS, "flattened to (N*T, V), np.log of the probabilities", """
def temporal_softmax_loss(scores, y, mask=None):
    N, T, V = scores.shape
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    s = scores.reshape(N * T, V)
    yf = y.reshape(N * T)
    mf = mask.reshape(N * T)
    probs = np.exp(s - np.max(s, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mf * np.log(probs[np.arange(N * T), yf])) / mf.sum()
    dx = probs.copy()
    dx[np.arange(N * T), yf] -= 1
    dx *= mf[:, None] / mf.sum()
    return loss, dx.reshape(N, T, V)
""", fails=("temporal_softmax_loss_tests_2",), message=r"np.log meets a probability that underflowed to 0"),
    Answer(LOSS, "loops over N and T with log-sum-exp", """
def temporal_softmax_loss(scores, y, mask=None):
    N, T, V = scores.shape
    loss, count = 0.0, 0
    dscores = np.zeros_like(scores)
    for n in range(N):
        for t in range(T):
            if mask is not None and not mask[n, t]:
                continue
            row = scores[n, t]
            m = row.max()
            lse = m + np.log(np.exp(row - m).sum())
            loss += lse - row[y[n, t]]
            count += 1
            p = np.exp(row - lse)
            p[y[n, t]] -= 1
            dscores[n, t] = p
    dscores /= count
    return float(loss / count), dscores
"""),
    Answer(LOSS, "float64 throughout", """
def temporal_softmax_loss(scores, y, mask=None):
    s = scores.astype(float)
    if mask is None:
        mask = np.ones(y.shape, dtype=bool)
    s = s - s.max(axis=-1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    n = mask.sum()
    loss = -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0][mask].sum() / n
    d = np.exp(logp)
    d[np.arange(y.shape[0])[:, None], np.arange(y.shape[1]), y] -= 1
    return loss, d * mask[..., None] / n
""", fails=("temporal_softmax_loss_tests_3",), message=r"dscores from temporal_softmax_loss has dtype float64"),
    Answer(LOSS, "mask forgotten in the gradient", """
def temporal_softmax_loss(scores, y, mask=None):
    if mask is None:
        mask = np.ones(y.shape, dtype=bool)
    s = scores - scores.max(axis=-1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    n = mask.sum()
    loss = -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0][mask].sum() / n
    d = np.exp(logp)
    d[np.arange(y.shape[0])[:, None], np.arange(y.shape[1]), y] -= 1
    return float(loss), d / n
""", correct=False, fails=("temporal_softmax_loss_tests", "temporal_softmax_loss_tests_3"),
        message=r"must be zero at the masked positions"),
    # ---------------------------------------------------------------- gradient_check_rnn
    Answer(CHECK, "one line per input", """
def gradient_check_rnn(forward, backward, x, h0, Wx, Wh, b, dh):
    h, cache = forward(x, h0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = backward(dh, cache)
    f = lambda _: forward(x, h0, Wx, Wh, b)[0]
    return {"x": rnnkit.rel_error(dx, rnnkit.numerical_gradient(f, x, dh)),
            "h0": rnnkit.rel_error(dh0, rnnkit.numerical_gradient(f, h0, dh)),
            "Wx": rnnkit.rel_error(dWx, rnnkit.numerical_gradient(f, Wx, dh)),
            "Wh": rnnkit.rel_error(dWh, rnnkit.numerical_gradient(f, Wh, dh)),
            "b": rnnkit.rel_error(db, rnnkit.numerical_gradient(f, b, dh))}
"""),
]
