"""Wrong answers to the exercises of 07-applications."""
from catalogue import Answer, Mistake

NOTEBOOK = "07-applications"

SAMPLE = "sample_with_temperature"
STEP = "lm_train_step"
WINDOWS = "make_windows"


def _sample(greedy="np.argmax(logits, axis=1)", scaled="logits / temperature", shift="z.max(axis=1, keepdims=True)",
            norm_axis="1", draw="rng.random(len(p))", head=""):
    return f"""
def sample_with_temperature(logits, temperature, rng):
    logits = np.asarray(logits, dtype=np.float64)
    {head}
    if temperature == 0:
        return {greedy}
    z = {scaled}
    z = z - {shift}
    p = np.exp(z)
    p /= p.sum(axis={norm_axis}, keepdims=True)
    cdf = np.cumsum(p, axis=1)
    u = {draw}[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), p.shape[1] - 1)
"""


def _step(state="c0=c0", h0="h0", scale="max_norm / norm if norm > max_norm else 1.0",
          norm="float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))",
          update="params[name] -= lr * scale * g", final="(h[:, -1].copy(), lstm_cell_state(lstm_cache)[:, -1].copy())",
          ret="loss, final, norm"):
    return f"""
def lm_train_step(params, x, y, state, lr, max_norm):
    h0, c0 = state
    emb, emb_cache = layers.embedding_forward(x, params["W_embed"])
    h, lstm_cache = rnnkit.lstm_forward(emb, {h0}, params["Wx"], params["Wh"], params["b"], {state})
    scores, out_cache = layers.temporal_affine_forward(h, params["W_out"], params["b_out"])
    loss, dscores = rnnkit.temporal_softmax_loss(scores, y)
    dh, dW_out, db_out = layers.temporal_affine_backward(dscores, out_cache)
    demb, _, dWx, dWh, db = rnnkit.lstm_backward(dh, lstm_cache)
    grads = {{"W_embed": layers.embedding_backward(demb, emb_cache), "Wx": dWx, "Wh": dWh, "b": db,
             "W_out": dW_out, "b_out": db_out}}
    norm = {norm}
    scale = {scale}
    for name, g in grads.items():
        {update}
    final = {final}
    return {ret}
"""


def _windows(M="len(series) - input_len - horizon + 1", x_index="starts + np.arange(input_len)",
             y_index="starts + input_len + np.arange(horizon)", x_tail="[:, :, None]", head=""):
    return f"""
def make_windows(series, input_len, horizon):
    series = np.asarray(series)
    {head}
    M = {M}
    starts = np.arange(M)[:, None]
    X = series[{x_index}]{x_tail}
    Y = series[{y_index}]
    return X, Y
"""


CATALOGUE = [
    # ---------------------------------------------------------------- sample_with_temperature
    Mistake(SAMPLE, "temperature multiplies the logits", _sample(scaled="logits * temperature"),
            r"multiplies the logits instead of dividing",
            fails=("sample_with_temperature_tests",)),
    Mistake(SAMPLE, "temperature ignored", _sample(scaled="logits + 0 * temperature"),
            r"temperature is ignored",
            fails=("sample_with_temperature_tests",)),
    Mistake(SAMPLE, "always greedy", _sample(head="return np.argmax(logits, axis=1)"),
            r"always return the argmax",
            fails=("sample_with_temperature_tests",)),
    Mistake(SAMPLE, "temperature 0 divides by zero", _sample(greedy="np.argmax(logits / temperature, axis=1)"),
            r"warning|ZeroDivision|argmax",
            fails=("sample_with_temperature_tests",)),
    Mistake(SAMPLE, "uniform draws, logits unused", _sample(scaled="0 * logits / temperature"),
            r"equally likely: the logits are not used",
            fails=("sample_with_temperature_tests",)),
    Mistake(SAMPLE, "normalised over the batch axis", _sample(norm_axis="0"),
            r"not over the batch|do not match softmax",
            fails=("sample_with_temperature_tests",)),
    Mistake(SAMPLE, "global numpy generator instead of rng", _sample(draw="np.random.random(len(p))"),
            r"same seed gave different draws",
            fails=("sample_with_temperature_tests",)),
    Mistake(SAMPLE, "no max subtracted: overflow", _sample(shift="0"),
            r"warning|overflow|subtract the largest",
            fails=("sample_with_temperature_tests_3",)),
    Mistake(SAMPLE, "calls rnnkit.sampling",
            "def sample_with_temperature(logits, temperature, rng):\n"
            "    return rnnkit.sampling.sample_logits(logits, temperature, rng=rng)\n",
            r"rnnkit\.sampling\.sample_logits",
            fails=("sample_with_temperature_tests", "sample_with_temperature_tests_3")),
    Mistake(SAMPLE, "returns probabilities instead of an index",
            "def sample_with_temperature(logits, temperature, rng):\n"
            "    return rnnkit.softmax(np.asarray(logits) / max(temperature, 1e-9))\n",
            r"shape|integer",
            fails=("sample_with_temperature_tests",)),
    # ---------------------------------------------------------------- lm_train_step
    Mistake(STEP, "no clipping", _step(scale="1.0"), r"gradient was not clipped",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "each gradient clipped by its own norm",
            _step(update="params[name] -= lr * g * min(1.0, max_norm / np.sqrt(np.sum(g * g)))"),
            r"clipped by its own norm",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "always rescaled to max_norm", _step(scale="max_norm / norm"), r"clip only when the norm exceeds",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "clipping by value", _step(update="params[name] -= lr * np.clip(g, -max_norm, max_norm)"),
            r"clipping by value",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "gradient ascent", _step(update="params[name] += lr * scale * g"), r"up the gradient",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "learning rate missing", _step(update="params[name] -= scale * g"), r"missing the learning rate",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "initial state ignored", _step(state="c0=None", h0="np.zeros_like(h0)"),
            r"zero initial\s+state|pass state",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "returns the first step's hidden state",
            _step(final="(h[:, 0].copy(), lstm_cell_state(lstm_cache)[:, -1].copy())"),
            r"after the first time step",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "returns c0 as the final cell state", _step(final="(h[:, -1].copy(), c0)"),
            r"c_T equals the c0",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "returns the norm after clipping", _step(ret="loss, final, min(norm, max_norm)"),
            r"norm after clipping",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "norm of one gradient only", _step(norm="float(np.sqrt(np.sum(dWh * dWh)))"),
            r"one parameter's gradient",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "calls rnnkit.clip_grad_norm",
            _step(norm="rnnkit.clip_grad_norm(grads, max_norm)", scale="1.0"),
            r"rnnkit\.clip_grad_norm",
            fails=("lm_train_step_tests", "lm_train_step_tests_2", "lm_train_step_tests_3")),
    # ---------------------------------------------------------------- make_windows
    Mistake(WINDOWS, "last window missing", _windows(M="len(series) - input_len - horizon"), r"last window",
            fails=("make_windows_tests",)),
    Mistake(WINDOWS, "targets run past the end", _windows(M="len(series) - horizon - input_len + 1",
                                                         head="series = np.r_[series, np.zeros(horizon, series.dtype)]"),
            r"run past the end",
            fails=("make_windows_tests",)),
    Mistake(WINDOWS, "no feature axis", _windows(x_tail=""), r"add a last axis of size 1",
            fails=("make_windows_tests",)),
    Mistake(WINDOWS, "target overlaps the input", _windows(y_index="starts + input_len - 1 + np.arange(horizon)"),
            r"starts with the last input value",
            fails=("make_windows_tests",)),
    Mistake(WINDOWS, "input windows reversed in time", _windows(x_index="starts + np.arange(input_len)[::-1]"),
            r"reversed in time",
            fails=("make_windows_tests",)),
    Mistake(WINDOWS, "windows in reverse order", _windows(x_index="starts[::-1] + np.arange(input_len)",
                                                         y_index="starts[::-1] + input_len + np.arange(horizon)"),
            r"reverse order",
            fails=("make_windows_tests",)),
    Mistake(WINDOWS, "horizon ignored when counting", _windows(M="len(series) - horizon - input_len",
                                                              head="series = np.r_[series, np.zeros(horizon, series.dtype)]"),
            r"leave room for a target",
            fails=("make_windows_tests",)),
    Mistake(WINDOWS, "converted to float64", _windows(head="series = series.astype(np.float64)"),
            r"with a float32 series make_windows returned X of dtype float64", fails=("make_windows_tests_2",)),
    Mistake(WINDOWS, "calls rnnkit.data.sliding_windows",
            "def make_windows(series, input_len, horizon):\n"
            "    X, Y = rnnkit.data.sliding_windows(series, input_len, horizon)\n"
            "    return X, Y[:, :, 0]\n",
            r"rnnkit\.data\.sliding_windows",
            fails=("make_windows_tests", "make_windows_tests_3")),
    # ---------------------------------------------------------------- requirements of their own
    Mistake(SAMPLE, "first row's distribution for every row", """
def sample_with_temperature(logits, temperature, rng):
    if temperature == 0:
        return np.argmax(logits, axis=1)
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p = p / p.sum(axis=1, keepdims=True)
    return rng.choice(p.shape[1], size=p.shape[0], p=p[0])
""", r"every row is drawn from the first row's distribution",
            fails=("sample_with_temperature_tests",)),
    Mistake(SAMPLE, "logits divided in place", """
def sample_with_temperature(logits, temperature, rng):
    if temperature == 0:
        return np.argmax(logits, axis=1)
    logits /= temperature
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    cdf = np.cumsum(p, axis=1)
    u = rng.random(len(p))[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), p.shape[1] - 1)
""", r"changed its argument logits in place", fails=("sample_with_temperature_tests_3",)),
    Mistake(STEP, "c0 not passed to the LSTM", _step(state="c0=None"),
            r"equals the loss with c0 replaced by zeros: the initial cell state is not used",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "h0 replaced by zeros", _step(h0="np.zeros_like(h0)"),
            r"equals the loss with h0 replaced by zeros",
            fails=("lm_train_step_tests",)),
    Mistake(STEP, "float64 final state from float32 parameters",
            _step(final="(h[:, -1].astype(float), lstm_cell_state(lstm_cache)[:, -1].astype(float))"),
            r"with float32 parameters and state lm_train_step returned h_T of dtype float64",
            fails=("lm_train_step_tests_2",)),
    Mistake(STEP, "parameters replaced by float64 arrays",
            _step(update="params[name] = params[name] - np.float64(lr) * scale * g.astype(np.float64)"),
            r"params\['W_embed'\] changed dtype from float32 to float64", fails=("lm_train_step_tests_2",)),
    Mistake(STEP, "state updated in place", _step(final="(h0.__setitem__(Ellipsis, h[:, -1]) or h0, lstm_cell_state(lstm_cache)[:, -1].copy())"),
            r"changed its argument state in place", fails=("lm_train_step_tests_3",)),
    Mistake(WINDOWS, "series reshaped in place to a column", """
def make_windows(series, input_len, horizon):
    series.shape = (-1, 1)
    M = len(series) - input_len - horizon + 1
    starts = np.arange(M)[:, None]
    X = series[starts + np.arange(input_len)]
    Y = series[starts + input_len + np.arange(horizon)][:, :, 0]
    return X, Y
""", r"changed its argument series in place \(series was replaced or reshaped\)", fails=("make_windows_tests_3",)),
]


# ---------------------------------------------------------------------------------------
# Answers written the way students write them.

ANSWERS = [
    # ------------------------------------------------------------ sample_with_temperature
    Answer(SAMPLE, "rng.choice once per row", """
def sample_with_temperature(logits, temperature, rng):
    if temperature == 0:
        return logits.argmax(axis=1)
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p = p / p.sum(axis=1, keepdims=True)
    return np.array([rng.choice(len(row), p=row) for row in p])
"""),
    Answer(SAMPLE, "rnnkit.softmax and rng.random against the cumulative sum", """
def sample_with_temperature(logits, temperature, rng):
    if temperature == 0:
        return np.argmax(logits, axis=-1)
    p = rnnkit.softmax(np.asarray(logits, dtype=float) / temperature, axis=-1)
    u = rng.random((p.shape[0], 1))
    idx = (np.cumsum(p, axis=-1) < u).sum(axis=-1)
    return np.minimum(idx, p.shape[1] - 1)
"""),
    Answer(SAMPLE, "logits divided in place", """
def sample_with_temperature(logits, temperature, rng):
    if temperature == 0:
        return np.argmax(logits, axis=1)
    logits /= temperature
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return np.array([rng.choice(p.shape[1], p=row) for row in p])
""", fails=(f"{SAMPLE}_tests_3",), message=r"changed its argument logits in place"),
    Answer(SAMPLE, "no shift before exp", _sample(shift="0"),
           fails=(f"{SAMPLE}_tests_3",), message=r"subtract the largest logit"),
    Answer(SAMPLE, "the first row's probabilities for every row", """
def sample_with_temperature(logits, temperature, rng):
    if temperature == 0:
        return np.argmax(logits, axis=1)
    z = logits / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return rng.choice(p.shape[1], size=p.shape[0], p=p[0])
""", correct=False, fails=(f"{SAMPLE}_tests",), message=r"every row is drawn from the first row's distribution"),
    # ------------------------------------------------------------ lm_train_step
    Answer(STEP, "gradients in a dict, the norm from np.linalg.norm of each", _step(
        norm="float(np.sqrt(sum(np.linalg.norm(g) ** 2 for g in grads.values())))",
        update="params[name] -= (lr * scale) * g")),
    Answer(STEP, "clip factor with min()", _step(scale="min(1.0, max_norm / norm)")),
    Answer(STEP, "c0 left out of the LSTM call", _step(state="c0=None"),
           correct=False, fails=(f"{STEP}_tests",), message=r"c0 replaced by zeros"),
    Answer(STEP, "parameters replaced by new float64 arrays",
           _step(update="params[name] = params[name] - np.float64(lr) * scale * g.astype(np.float64)"),
           fails=(f"{STEP}_tests_2",), message=r"changed dtype from float32 to float64"),
    # ------------------------------------------------------------ make_windows
    Answer(WINDOWS, "a loop over the windows, lists stacked at the end", """
def make_windows(series, input_len, horizon):
    X, Y = [], []
    for m in range(len(series) - input_len - horizon + 1):
        X.append(series[m:m + input_len])
        Y.append(series[m + input_len:m + input_len + horizon])
    return np.array(X)[:, :, None], np.array(Y)
"""),
    Answer(WINDOWS, "sliding_window_view", """
def make_windows(series, input_len, horizon):
    w = np.lib.stride_tricks.sliding_window_view(series, input_len + horizon)
    return w[:, :input_len, None].copy(), w[:, input_len:].copy()
"""),
    Answer(WINDOWS, "np.array(..., dtype=float) on the way", """
def make_windows(series, input_len, horizon):
    s = np.array(series, dtype=float)
    M = len(s) - input_len - horizon + 1
    X = np.stack([s[m:m + input_len] for m in range(M)])[..., None]
    Y = np.stack([s[m + input_len:m + input_len + horizon] for m in range(M)])
    return X, Y
""", fails=(f"{WINDOWS}_tests_2",), message=r"with a float32 series make_windows returned X of dtype float64"),
]
