"""Wrong answers to the exercises of 04-lstm."""
from catalogue import Answer, Mistake

NOTEBOOK = "04-lstm"

STEP_FORWARD = '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)
    return h_next, c_next, cache
'''

FORWARD = '''
def lstm_forward(x, h0, Wx, Wh, b, c0=None):
    N, T, D = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    c = np.zeros_like(h0) if c0 is None else c0
    h_t, cache = h0, []
    for t in range(T):
        h_t, c, step_cache = lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)
        h[:, t] = h_t
        cache.append(step_cache)
    return h, cache
'''

STEP_BACKWARD = '''
def lstm_step_backward(dh_next, dc_next, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    dc = dc_next + dh_next * o * (1 - tanh_c ** 2)
    da = np.concatenate([
        dc * g * i * (1 - i),
        dc * c_prev * f * (1 - f),
        dc * i * (1 - g ** 2),
        dh_next * tanh_c * o * (1 - o),
    ], axis=1)
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dc_prev = dc * f
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dWx, dWh, db
'''

BACKWARD = '''
def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.empty((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0, 0, 0
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        dx[:, t], dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    dh0 = dh_next
    return dx, dh0, dWx, dWh, db
'''


def variant(source, *pairs):
    """source with each (old, new) replaced; old must occur, so a typo cannot make a no-op."""
    for old, new in pairs:
        if old not in source:
            raise ValueError(f"{old!r} does not occur in the solution")
        source = source.replace(old, new)
    return source


def sf(*pairs):
    return variant(STEP_FORWARD, *pairs)


def fw(*pairs):
    return variant(FORWARD, *pairs)


def sb(*pairs):
    return variant(STEP_BACKWARD, *pairs)


def bw(*pairs):
    return variant(BACKWARD, *pairs)


CATALOGUE = [
    # ------------------------------------------------------------ lstm_step_forward
    Mistake("lstm_step_forward", "gate order i, f, o, g",
            sf(("g = np.tanh(a[:, 2 * H:3 * H])", "g = np.tanh(a[:, 3 * H:])"),
               ("o = sigmoid(a[:, 3 * H:])", "o = sigmoid(a[:, 2 * H:3 * H])")),
            r"candidate block \(order i, f, g, o\)"),
    Mistake("lstm_step_forward", "sigmoid candidate",
            sf(("g = np.tanh(a[:, 2 * H:3 * H])", "g = sigmoid(a[:, 2 * H:3 * H])")),
            r"c_next differs .*with every pre-activation zero, f = 0.5 and i \* g = 0"),
    Mistake("lstm_step_forward", "forget gate not applied",
            sf(("c_next = f * c_prev + i * g", "c_next = c_prev + i * g")),
            r"c_next differs .*f = 0.5 and i \* g = 0, so c_next = 0.5 \* c_prev"),
    Mistake("lstm_step_forward", "no tanh on the cell state",
            sf(("tanh_c = np.tanh(c_next)", "tanh_c = c_next")),
            r"h_next differs .*h_next = 0.5 \* tanh\(c_next\)"),
    Mistake("lstm_step_forward", "bias missing",
            sf(("a = x @ Wx + h_prev @ Wh + b", "a = x @ Wx + h_prev @ Wh")),
            r"c_next differs .*b\[8:12\] is the candidate block"),
    Mistake("lstm_step_forward", "recurrent term missing",
            sf(("a = x @ Wx + h_prev @ Wh + b", "a = x @ Wx + b")),
            r"c_next is wrong: the recurrent term h_prev @ Wh is missing"),
    Mistake("lstm_step_forward", "tanh output gate",
            sf(("o = sigmoid(a[:, 3 * H:])", "o = np.tanh(a[:, 3 * H:])")),
            r"h_next differs .*with o = 0.5"),
    Mistake("lstm_step_forward", "h from the old cell state",
            sf(("h_next = o * tanh_c", "h_next = o * np.tanh(c_prev)")),
            r"h_next differs .*h_next = 0.5 \* tanh\(c_next\)"),
    Mistake("lstm_step_forward", "output gate and candidate swapped in the step",
            sf(("i = sigmoid(a[:, :H])\n    f = sigmoid(a[:, H:2 * H])",
                "f = sigmoid(a[:, :H])\n    i = sigmoid(a[:, H:2 * H])")),
            r"c_next is wrong: the gate blocks are read in the order f, i, g, o"),
    Mistake("lstm_step_forward", "float64 result from float32 inputs",
            sf(("a = x @ Wx + h_prev @ Wh + b", "a = (x @ Wx + h_prev @ Wh + b).astype(np.float64)")),
            r"with float32 inputs lstm_step_forward returned h_next of dtype float64",
            fails=("lstm_step_forward_tests_2",)),
    Mistake("lstm_step_forward", "calls rnnkit",
            "def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):\n"
            "    return rnnkit.lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)\n",
            r"calls rnnkit\.lstm_step_forward"),
    # ------------------------------------------------------------ lstm_forward
    Mistake("lstm_forward", "state not carried",
            fw(("lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)", "lstm_step_forward(x[:, t], h0, c, Wx, Wh, b)")),
            r"hidden state is not carried: each step must start from the previous step's h"),
    Mistake("lstm_forward", "cell state reset each step",
            fw(("h_t, c, step_cache = lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)",
                "h_t, _, step_cache = lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)")),
            r"cell state is not carried: each step must start from the previous step's c"),
    Mistake("lstm_forward", "c0 ignored",
            fw(("c = np.zeros_like(h0) if c0 is None else c0", "c = np.zeros_like(h0)")),
            r"c0 is ignored"),
    Mistake("lstm_forward", "h0 included in the output",
            fw(("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = np.empty((N, T + 1, h0.shape[1]), dtype=x.dtype)"),
               ("h[:, t] = h_t", "h[:, 0] = h0\n        h[:, t + 1] = h_t")),
            r"h \(batch first: N, T, H\) has shape \(2, 6, 4\), expected \(2, 5, 4\)"),
    Mistake("lstm_forward", "time-major output",
            fw(("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = np.empty((T, N, h0.shape[1]), dtype=x.dtype)"),
               ("h[:, t] = h_t", "h[t] = h_t")),
            r"has shape \(5, 2, 4\), expected \(2, 5, 4\)"),
    Mistake("lstm_forward", "calls rnnkit",
            "def lstm_forward(x, h0, Wx, Wh, b, c0=None):\n    return rnnkit.lstm_forward(x, h0, Wx, Wh, b, c0)\n",
            r"calls rnnkit\.lstm_forward"),
    Mistake("lstm_forward", "float64 states from float32 inputs",
            fw(("dtype=x.dtype", "dtype=np.float64")),
            r"with float32 inputs lstm_forward returned h of dtype float64", fails=("lstm_forward_tests_2",)),
    # ------------------------------------------------------------ lstm_step_backward
    Mistake("lstm_step_backward", "h path into the cell missing",
            sb(("dc = dc_next + dh_next * o * (1 - tanh_c ** 2)", "dc = dc_next")),
            r"dc_prev only carries dc_next; the gradient that reaches c_next through h_next"),
    Mistake("lstm_step_backward", "dc_prev without the forget gate",
            sb(("dc_prev = dc * f", "dc_prev = dc")),
            r"dc_prev is wrong: with dh_next zero and dc_next random .*missing the factor f"),
    Mistake("lstm_step_backward", "forget gradient uses c_next",
            sb(("dc * c_prev * f * (1 - f)", "dc * (f * c_prev + i * g) * f * (1 - f)")),
            r"forget gate f block .*df uses c_next.*df = dc \* c_prev"),
    Mistake("lstm_step_backward", "sigmoid derivative as for tanh on o",
            sb(("dh_next * tanh_c * o * (1 - o)", "dh_next * tanh_c * (1 - o ** 2)")),
            r"db differs .*the error is in the output gate o block"),
    Mistake("lstm_step_backward", "dh_prev with Wx",
            sb(("dh_prev = da @ Wh.T", "dh_prev = da @ Wx.T")),
            r"dh_prev has shape \(2, 3\), expected \(2, 4\)"),
    Mistake("lstm_step_backward", "db not summed over the batch",
            sb(("db = da.sum(axis=0)", "db = da")),
            r"db has shape \(2, 16\), expected \(16,\)"),
    Mistake("lstm_step_backward", "dWx transposed",
            sb(("dWx = x.T @ da", "dWx = da.T @ x")),
            r"dWx has shape \(16, 3\), expected \(3, 16\)"),
    Mistake("lstm_step_backward", "dc_next ignored",
            sb(("dc = dc_next + dh_next * o * (1 - tanh_c ** 2)", "dc = dh_next * o * (1 - tanh_c ** 2)")),
            r"dc_next is not added into dc"),
    Mistake("lstm_step_backward", "calls rnnkit",
            "def lstm_step_backward(dh_next, dc_next, cache):\n"
            "    x, h_prev, c_prev, Wx, Wh = cache[:5]\n"
            "    _, _, ref = rnnkit.lstm_step_forward(x, h_prev, c_prev, Wx, Wh, np.zeros(Wx.shape[1]))\n"
            "    return rnnkit.lstm_step_backward(dh_next, dc_next, ref)\n",
            r"calls rnnkit\.lstm_step_(forward|backward)"),
    # ------------------------------------------------------------ lstm_backward
    Mistake("lstm_backward", "dh from the next step not carried",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "lstm_step_backward(dh[:, t], dc_next, cache[t])")),
            r"hidden-state gradient is not carried back in time"),
    Mistake("lstm_backward", "dc from the next step not carried",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "lstm_step_backward(dh[:, t] + dh_next, 0 * dc_next, cache[t])")),
            r"cell-state gradient is not carried back in time"),
    Mistake("lstm_backward", "no carry at all",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "lstm_step_backward(dh[:, t], 0 * dc_next, cache[t])")),
            r"dx\[:, 0\] is zero .*not carried from step t\+1 back to step t"),
    Mistake("lstm_backward", "weights not accumulated",
            bw(("dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t", "dWx, dWh, db = dWx_t, dWh_t, db_t")),
            r"holds the contribution of a single time step"),
    Mistake("lstm_backward", "forward in time",
            bw(("for t in range(T - 1, -1, -1):", "for t in range(T):")),
            r"gradient must go backwards in time|not carried from step t\+1 back to step t"),
    Mistake("lstm_backward", "dh0 left at zero",
            bw(("dh0 = dh_next", "dh0 = np.zeros_like(dh_next)")),
            r"dh0 differs .*dh0 should be the dh_prev of step 0"),
    Mistake("lstm_backward", "calls rnnkit",
            "def lstm_backward(dh, cache):\n"
            "    x = np.stack([c[0] for c in cache], axis=1)\n"
            "    h0, c0, Wx, Wh = cache[0][1], cache[0][2], cache[0][3], cache[0][4]\n"
            "    _, ref = rnnkit.lstm_forward(x, h0, Wx, Wh, np.zeros(Wx.shape[1]), c0)\n"
            "    return rnnkit.lstm_backward(dh, ref)\n",
            r"calls rnnkit\.lstm_(forward|backward)"),
    # ------------------------------------------------------------ requirements of their own
    Mistake("lstm_step_forward", "own sigmoid that overflows",
            sf(("i = sigmoid(a[:, :H])", "sigmoid_ = lambda z: 1 / (1 + np.exp(-z))\n    i = sigmoid_(a[:, :H])"),
               ("f = sigmoid(a[:, H:2 * H])", "f = sigmoid_(a[:, H:2 * H])"),
               ("o = sigmoid(a[:, 3 * H:])", "o = sigmoid_(a[:, 3 * H:])")),
            r"lstm_step_forward issued a warning: with saturated gates .*stable sigmoid",
            fails=("lstm_step_forward_tests_3",)),
    Mistake("lstm_step_forward", "c_prev updated in place",
            sf(("c_next = f * c_prev + i * g", "c_prev *= f\n    c_prev += i * g\n    c_next = c_prev")),
            r"changed its argument c_prev in place", fails=("lstm_step_forward_tests_3",)),
    Mistake("lstm_forward", "c0 updated in place",
            fw(("h_t, c, step_cache = lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)",
                "h_t, c_new, step_cache = lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)\n        c[...] = c_new")),
            r"changed its argument c0 in place", fails=("lstm_forward_tests_3",)),
    Mistake("lstm_step_backward", "dc_next updated in place",
            sb(("dc = dc_next + dh_next * o * (1 - tanh_c ** 2)", "dc = dc_next\n    dc += dh_next * o * (1 - tanh_c ** 2)")),
            r"changed its argument dc_next in place", fails=("lstm_step_backward_tests_3",)),
    Mistake("lstm_step_backward", "float64 gradients from float32 inputs",
            sb(("da = np.concatenate([", "da = np.concatenate([np.zeros((dh_next.shape[0], 0)), ")),
            r"with float32 inputs lstm_step_backward returned dx of dtype float64",
            fails=("lstm_step_backward_tests_2",)),
    Mistake("lstm_backward", "dh[:, t] not added",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "lstm_step_backward(dh_next, dc_next, cache[t])")),
            r"dh\[:, t\] is never added|dh\[:, t\] \+ the dh_prev of step t\+1"),
    Mistake("lstm_backward", "float64 accumulators",
            bw(("dWx, dWh, db = 0, 0, 0", "dWx, dWh, db = np.zeros(1), np.zeros(1), np.zeros(1)")),
            r"with float32 inputs lstm_backward returned dWx of dtype float64", fails=("lstm_backward_tests_2",)),
    Mistake("lstm_backward", "dh updated in place",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "(dh[:, t].__iadd__(dh_next), lstm_step_backward(dh[:, t], dc_next, cache[t]))[1]")),
            r"changed its argument dh in place", fails=("lstm_backward_tests_3",)),
]
