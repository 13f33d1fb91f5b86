"""Wrong answers to the exercises of 02-bptt."""
from catalogue import Mistake

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
    Mistake(STEP, "tanh derivative missing", _step(da="dh_next"), r"derivative of tanh is missing"),
    Mistake(STEP, "derivative taken at h_prev", _step(da="dh_next * (1 - h_prev ** 2)"), r"taken at h_prev"),
    Mistake(STEP, "tanh applied twice in the derivative", _step(da="dh_next * (1 - np.tanh(h_next) ** 2)"),
            r"already tanh\(a\)"),
    Mistake(STEP, "Wh not transposed", _step(dh_prev="da @ Wh"), r"Wh is not transposed"),
    Mistake(STEP, "dWx transposed", _step(dWx="da.T @ x"), r"dWx has shape \(5, 4\), expected \(4, 5\): it is transposed"),
    Mistake(STEP, "dWh from h_next", _step(dWh="h_next.T @ da"), r"dWh is wrong: it uses h_next"),
    Mistake(STEP, "db averaged over the batch", _step(db="da.mean(axis=0)"), r"averaged over the batch"),
    Mistake(STEP, "db not summed", _step(db="da"), r"db must be summed over the batch rows"),
    Mistake(STEP, "db promoted to float64", _step(db="da.sum(axis=0, dtype=np.float64)"),
            r"db from rnn_step_backward has dtype float64 for float32 inputs"),
    Mistake(STEP, "calls rnnkit", "def rnn_step_backward(dh_next, cache):\n"
            "    return rnnkit.rnn_step_backward(dh_next, cache)\n", r"calls rnnkit\.rnn_step_backward"),
    # rnn_backward
    Mistake(SEQ, "state gradient not carried", _seq(upstream="dh[:, t]"), r"not carried back in time"),
    Mistake(SEQ, "loop forwards in time", _seq(loop="range(T)"), r"forwards in time"),
    Mistake(SEQ, "upstream replaced by the carried gradient",
            _seq(upstream="carry", setup="carry = dh[:, -1]"), r"replaced by the carried gradient"),
    Mistake(SEQ, "weight gradients not accumulated over time", _seq(accumulate="="),
            r"contribution of time step 0 only"),
    Mistake(SEQ, "dx stored in reverse order", _seq(store="dx[:, T - 1 - t]"), r"in reverse"),
    Mistake(SEQ, "dx time-major", _seq(ret="dx.transpose(1, 0, 2), carry, dWx, dWh, db"), r"time-major"),
    Mistake(SEQ, "dh0 left at zero", _seq(ret="dx, np.zeros_like(carry), dWx, dWh, db"), r"dh0 is zero"),
    Mistake(SEQ, "calls rnnkit", "def rnn_backward(dh, cache):\n"
            "    x = np.stack([c[0] for c in cache], axis=1)\n"
            "    _, h_prev, Wx, Wh, _ = cache[0]\n"
            "    b = np.zeros(Wh.shape[0], dtype=Wh.dtype)\n"
            "    return rnnkit.rnn_backward(dh, rnnkit.rnn_forward(x, h_prev, Wx, Wh, b)[1])\n",
            r"calls rnnkit\.rnn_backward"),
    # temporal_softmax_loss
    Mistake(LOSS, "loss divided by N", _loss(loss="-true[mask].sum() / N"), r"divided by N, the number of sequences"),
    Mistake(LOSS, "mask ignored", _loss(loss="-true.mean()", scale="np.ones((N, T, 1)) / (N * T)"),
            r"mask is ignored"),
    Mistake(LOSS, "masked positions still counted", _loss(count="N * T"), r"still counted"),
    Mistake(LOSS, "dscores not masked", _loss(scale="np.ones((N, T, 1)) / count"),
            r"must be zero at the masked positions"),
    Mistake(LOSS, "true-class term missing from the gradient", _loss(onehot="-= 0"),
            r"1 at the true class is missing"),
    Mistake(LOSS, "dscores not averaged", _loss(scale="mask[..., None] * 1.0"),
            r"not divided by the number of counted positions"),
    Mistake(LOSS, "exp without the max shift", _loss(shift="0"), r"overflow"),
    Mistake(LOSS, "log of an underflowed probability",
            _loss(log_probs="np.log(np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True))"),
            r"divide by zero|log"),
    Mistake(LOSS, "calls rnnkit", "def temporal_softmax_loss(scores, y, mask=None):\n"
            "    return rnnkit.temporal_softmax_loss(scores, y, mask)\n", r"calls rnnkit\.temporal_softmax_loss"),
    # gradient_check_rnn
    Mistake(CHECK, "analytic gradient compared with itself", _check(error="rnnkit.rel_error(grad, grad)"),
            r"misses a backward whose d\w+ is 5% too large"),
    Mistake(CHECK, "upstream gradient ignored (df = 1)",
            _check(numeric="rnnkit.numerical_gradient(lambda _: forward(x, h0, Wx, Wh, b)[0], value, 1.0)"),
            r"with a correct backward, your check reports"),
    Mistake(CHECK, "forward reads a copy of the perturbed array",
            _check(numeric="rnnkit.numerical_gradient(lambda v: forward(x.copy(), h0, Wx, Wh, b)[0], "
                           "value.copy(), dh)"),
            r"with a correct backward, your check reports"),
    Mistake(CHECK, "absolute error instead of relative", _check(error="float(np.abs(grad - numeric).max())"),
            r"rnnkit\.rel_error"),
    Mistake(CHECK, "one-sided differences written by hand", _check(numeric="""np.zeros_like(value)
        base = np.sum(forward(x, h0, Wx, Wh, b)[0] * dh)
        for i in np.ndindex(value.shape):
            old = value[i]
            value[i] = old + 1e-6
            numeric[i] = (np.sum(forward(x, h0, Wx, Wh, b)[0] * dh) - base) / 1e-6
            value[i] = old"""), r"numerical_gradient 0 times"),
    Mistake(CHECK, "inputs paired with the wrong gradients", _check(values="(x, Wx, h0, Wh, b)"),
            r"gradient_check_rnn raised ValueError"),
    Mistake(CHECK, "only the weights checked",
            _check(names='("Wx", "Wh", "b")', values="(Wx, Wh, b)",
                   error="rnnkit.rel_error(analytic[2 + ('Wx', 'Wh', 'b').index(name)], numeric)"),
            r"dict with keys"),
]
