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
            r"candidate block \(order i, f, g, o\)",
            fails=("lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "sigmoid candidate",
            sf(("g = np.tanh(a[:, 2 * H:3 * H])", "g = sigmoid(a[:, 2 * H:3 * H])")),
            r"c_next differs .*with every pre-activation zero, f = 0.5 and i \* g = 0",
            fails=("lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "forget gate not applied",
            sf(("c_next = f * c_prev + i * g", "c_next = c_prev + i * g")),
            r"c_next differs .*f = 0.5 and i \* g = 0, so c_next = 0.5 \* c_prev",
            fails=("lstm_forward_tests", "lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "no tanh on the cell state",
            sf(("tanh_c = np.tanh(c_next)", "tanh_c = c_next")),
            r"h_next differs .*h_next = 0.5 \* tanh\(c_next\)",
            fails=("lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "bias missing",
            sf(("a = x @ Wx + h_prev @ Wh + b", "a = x @ Wx + h_prev @ Wh")),
            r"c_next differs .*b\[8:12\] is the candidate block",
            fails=("lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "recurrent term missing",
            sf(("a = x @ Wx + h_prev @ Wh + b", "a = x @ Wx + b")),
            r"c_next is wrong: the recurrent term h_prev @ Wh is missing",
            fails=("lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "tanh output gate",
            sf(("o = sigmoid(a[:, 3 * H:])", "o = np.tanh(a[:, 3 * H:])")),
            r"h_next differs .*with o = 0.5",
            fails=("lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "h from the old cell state",
            sf(("h_next = o * tanh_c", "h_next = o * np.tanh(c_prev)")),
            r"h_next differs .*h_next = 0.5 \* tanh\(c_next\)",
            fails=("lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "output gate and candidate swapped in the step",
            sf(("i = sigmoid(a[:, :H])\n    f = sigmoid(a[:, H:2 * H])",
                "f = sigmoid(a[:, :H])\n    i = sigmoid(a[:, H:2 * H])")),
            r"c_next is wrong: the gate blocks are read in the order f, i, g, o",
            fails=("lstm_step_backward_tests", "lstm_step_forward_tests")),
    Mistake("lstm_step_forward", "float64 result from float32 inputs",
            sf(("a = x @ Wx + h_prev @ Wh + b", "a = (x @ Wx + h_prev @ Wh + b).astype(np.float64)")),
            r"with float32 inputs lstm_step_forward returned h_next of dtype float64",
            fails=("lstm_step_forward_tests_2",)),
    Mistake("lstm_step_forward", "calls rnnkit",
            "def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):\n"
            "    return rnnkit.lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)\n",
            r"calls rnnkit\.lstm_step_forward",
            fails=("lstm_backward_tests", "lstm_backward_tests_2", "lstm_backward_tests_3", "lstm_forward_tests", "lstm_step_backward_tests", "lstm_step_backward_tests_2", "lstm_step_backward_tests_3", "lstm_step_forward_tests", "lstm_step_forward_tests_3")),
    # ------------------------------------------------------------ lstm_forward
    Mistake("lstm_forward", "state not carried",
            fw(("lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)", "lstm_step_forward(x[:, t], h0, c, Wx, Wh, b)")),
            r"hidden state is not carried: each step must start from the previous step's h",
            fails=("lstm_forward_tests",)),
    Mistake("lstm_forward", "cell state reset each step",
            fw(("h_t, c, step_cache = lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)",
                "h_t, _, step_cache = lstm_step_forward(x[:, t], h_t, c, Wx, Wh, b)")),
            r"cell state is not carried: each step must start from the previous step's c",
            fails=("lstm_forward_tests",)),
    Mistake("lstm_forward", "c0 ignored",
            fw(("c = np.zeros_like(h0) if c0 is None else c0", "c = np.zeros_like(h0)")),
            r"c0 is ignored",
            fails=("lstm_forward_tests",)),
    Mistake("lstm_forward", "h0 included in the output",
            fw(("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = np.empty((N, T + 1, h0.shape[1]), dtype=x.dtype)"),
               ("h[:, t] = h_t", "h[:, 0] = h0\n        h[:, t + 1] = h_t")),
            r"h \(batch first: N, T, H\) has shape \(2, 6, 4\), expected \(2, 5, 4\)",
            fails=("lstm_backward_tests", "lstm_forward_tests")),
    Mistake("lstm_forward", "time-major output",
            fw(("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = np.empty((T, N, h0.shape[1]), dtype=x.dtype)"),
               ("h[:, t] = h_t", "h[t] = h_t")),
            r"has shape \(5, 2, 4\), expected \(2, 5, 4\)",
            fails=("lstm_backward_tests", "lstm_forward_tests")),
    Mistake("lstm_forward", "calls rnnkit",
            "def lstm_forward(x, h0, Wx, Wh, b, c0=None):\n    return rnnkit.lstm_forward(x, h0, Wx, Wh, b, c0)\n",
            r"calls rnnkit\.lstm_forward",
            fails=("lstm_backward_tests", "lstm_backward_tests_2", "lstm_backward_tests_3", "lstm_forward_tests", "lstm_forward_tests_3")),
    Mistake("lstm_forward", "float64 states from float32 inputs",
            fw(("dtype=x.dtype", "dtype=np.float64")),
            r"with float32 inputs lstm_forward returned h of dtype float64", fails=("lstm_forward_tests_2",)),
    # ------------------------------------------------------------ lstm_step_backward
    Mistake("lstm_step_backward", "h path into the cell missing",
            sb(("dc = dc_next + dh_next * o * (1 - tanh_c ** 2)", "dc = dc_next")),
            r"dc_prev only carries dc_next; the gradient that reaches c_next through h_next",
            fails=("lstm_step_backward_tests",)),
    Mistake("lstm_step_backward", "dc_prev without the forget gate",
            sb(("dc_prev = dc * f", "dc_prev = dc")),
            r"dc_prev is wrong: with dh_next zero and dc_next random .*missing the factor f",
            fails=("lstm_step_backward_tests",)),
    Mistake("lstm_step_backward", "forget gradient uses c_next",
            sb(("dc * c_prev * f * (1 - f)", "dc * (f * c_prev + i * g) * f * (1 - f)")),
            r"forget gate f block .*df uses c_next.*df = dc \* c_prev",
            fails=("lstm_step_backward_tests",)),
    Mistake("lstm_step_backward", "sigmoid derivative as for tanh on o",
            sb(("dh_next * tanh_c * o * (1 - o)", "dh_next * tanh_c * (1 - o ** 2)")),
            r"db differs .*the error is in the output gate o block",
            fails=("lstm_step_backward_tests",)),
    Mistake("lstm_step_backward", "dh_prev with Wx",
            sb(("dh_prev = da @ Wh.T", "dh_prev = da @ Wx.T")),
            r"dh_prev has shape \(2, 3\), expected \(2, 4\)",
            fails=("lstm_backward_tests", "lstm_backward_tests_3", "lstm_step_backward_tests")),
    Mistake("lstm_step_backward", "db not summed over the batch",
            sb(("db = da.sum(axis=0)", "db = da")),
            r"db has shape \(2, 16\), expected \(16,\)",
            fails=("lstm_backward_tests", "lstm_step_backward_tests")),
    Mistake("lstm_step_backward", "dWx transposed",
            sb(("dWx = x.T @ da", "dWx = da.T @ x")),
            r"dWx has shape \(16, 3\), expected \(3, 16\)",
            fails=("lstm_backward_tests", "lstm_step_backward_tests")),
    Mistake("lstm_step_backward", "dc_next ignored",
            sb(("dc = dc_next + dh_next * o * (1 - tanh_c ** 2)", "dc = dh_next * o * (1 - tanh_c ** 2)")),
            r"dc_next is not added into dc",
            fails=("lstm_step_backward_tests",)),
    Mistake("lstm_step_backward", "calls rnnkit",
            "def lstm_step_backward(dh_next, dc_next, cache):\n"
            "    x, h_prev, c_prev, Wx, Wh = cache[:5]\n"
            "    _, _, ref = rnnkit.lstm_step_forward(x, h_prev, c_prev, Wx, Wh, np.zeros(Wx.shape[1]))\n"
            "    return rnnkit.lstm_step_backward(dh_next, dc_next, ref)\n",
            r"calls rnnkit\.lstm_step_(forward|backward)",
            fails=("lstm_backward_tests", "lstm_step_backward_tests", "lstm_step_backward_tests_3")),
    # ------------------------------------------------------------ lstm_backward
    Mistake("lstm_backward", "dh from the next step not carried",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "lstm_step_backward(dh[:, t], dc_next, cache[t])")),
            r"hidden-state gradient is not carried back in time",
            fails=("lstm_backward_tests",)),
    Mistake("lstm_backward", "dc from the next step not carried",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "lstm_step_backward(dh[:, t] + dh_next, 0 * dc_next, cache[t])")),
            r"cell-state gradient is not carried back in time",
            fails=("lstm_backward_tests",)),
    Mistake("lstm_backward", "no carry at all",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "lstm_step_backward(dh[:, t], 0 * dc_next, cache[t])")),
            r"dx\[:, 0\] is zero .*not carried from step t\+1 back to step t",
            fails=("lstm_backward_tests",)),
    Mistake("lstm_backward", "weights not accumulated",
            bw(("dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t", "dWx, dWh, db = dWx_t, dWh_t, db_t")),
            r"holds the contribution of a single time step",
            fails=("lstm_backward_tests",)),
    Mistake("lstm_backward", "forward in time",
            bw(("for t in range(T - 1, -1, -1):", "for t in range(T):")),
            r"gradient must go backwards in time|not carried from step t\+1 back to step t",
            fails=("lstm_backward_tests",)),
    Mistake("lstm_backward", "dh0 left at zero",
            bw(("dh0 = dh_next", "dh0 = np.zeros_like(dh_next)")),
            r"dh0 differs .*dh0 should be the dh_prev of step 0",
            fails=("lstm_backward_tests",)),
    Mistake("lstm_backward", "calls rnnkit",
            "def lstm_backward(dh, cache):\n"
            "    x = np.stack([c[0] for c in cache], axis=1)\n"
            "    h0, c0, Wx, Wh = cache[0][1], cache[0][2], cache[0][3], cache[0][4]\n"
            "    _, ref = rnnkit.lstm_forward(x, h0, Wx, Wh, np.zeros(Wx.shape[1]), c0)\n"
            "    return rnnkit.lstm_backward(dh, ref)\n",
            r"calls rnnkit\.lstm_(forward|backward)",
            fails=("lstm_backward_tests", "lstm_backward_tests_3")),
    # ------------------------------------------------------------ requirements of their own
    Mistake("lstm_step_forward", "own sigmoid that overflows",
            sf(("i = sigmoid(a[:, :H])", "sigmoid_ = lambda z: 1 / (1 + np.exp(-z))\n    i = sigmoid_(a[:, :H])"),
               ("f = sigmoid(a[:, H:2 * H])", "f = sigmoid_(a[:, H:2 * H])"),
               ("o = sigmoid(a[:, 3 * H:])", "o = sigmoid_(a[:, 3 * H:])")),
            r"lstm_step_forward issued a warning: with saturated gates .*stable sigmoid",
            fails=("lstm_step_forward_tests_3",)),
    Mistake("lstm_step_forward", "c_prev updated in place",
            sf(("c_next = f * c_prev + i * g", "c_prev *= f\n    c_prev += i * g\n    c_next = c_prev")),
            r"changed its argument c_prev in place", fails=("lstm_step_forward_tests_3", "lstm_step_backward_tests")),
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
            r"dh\[:, t\] is never added|dh\[:, t\] \+ the dh_prev of step t\+1",
            fails=("lstm_backward_tests",)),
    Mistake("lstm_backward", "float64 accumulators",
            bw(("dWx, dWh, db = 0, 0, 0", "dWx, dWh, db = np.zeros(1), np.zeros(1), np.zeros(1)")),
            r"with float32 inputs lstm_backward returned dWx of dtype float64", fails=("lstm_backward_tests_2",)),
    Mistake("lstm_backward", "dh updated in place",
            bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])",
                "(dh[:, t].__iadd__(dh_next), lstm_step_backward(dh[:, t], dc_next, cache[t]))[1]")),
            r"changed its argument dh in place", fails=("lstm_backward_tests_3",)),
]


# ---------------------------------------------------------------------------------------
# Answers written the way students write them. An answer that replaces an exercise with its
# own cache format brings the functions that read that cache along (a student writes the
# forward and the backward together).

DICT_CACHE_LSTM = '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
    gates = {"i": sigmoid(a[:, 0:H]), "f": sigmoid(a[:, H:2*H]),
             "g": np.tanh(a[:, 2*H:3*H]), "o": sigmoid(a[:, 3*H:4*H])}
    c_next = gates["f"] * c_prev + gates["i"] * gates["g"]
    h_next = gates["o"] * np.tanh(c_next)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "c_next": c_next, "Wx": Wx, "Wh": Wh, **gates}
    return h_next, c_next, cache


def lstm_step_backward(dh_next, dc_next, cache):
    i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
    tc = np.tanh(cache["c_next"])
    dc = dc_next + dh_next * o * (1 - tc * tc)
    di, df, dg, do = dc * g, dc * cache["c_prev"], dc * i, dh_next * tc
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)])
    return (da.dot(cache["Wx"].T), da.dot(cache["Wh"].T), dc * f, cache["x"].T.dot(da),
            cache["h_prev"].T.dot(da), np.sum(da, axis=0))


def lstm_forward(x, h0, Wx, Wh, b, c0=None):
    N, T, D = x.shape
    h_prev = h0
    c_prev = np.zeros_like(h0) if c0 is None else c0
    hs, caches = [], []
    for t in range(T):
        h_prev, c_prev, step = lstm_step_forward(x[:, t, :], h_prev, c_prev, Wx, Wh, b)
        hs.append(h_prev)
        caches.append(step)
    return np.stack(hs, axis=1), {"steps": caches, "D": D}


def lstm_backward(dh, cache):
    N, T, H = dh.shape
    steps = cache["steps"]
    dxs = [None] * T
    dh_carry = np.zeros_like(dh[:, 0])
    dc_carry = np.zeros_like(dh[:, 0])
    grads = None
    for t in reversed(range(T)):
        dx_t, dh_carry, dc_carry, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dh_carry, dc_carry, steps[t])
        dxs[t] = dx_t
        grads = [dWx_t, dWh_t, db_t] if grads is None else [g + d for g, d in zip(grads, (dWx_t, dWh_t, db_t))]
    return np.stack(dxs, axis=1), dh_carry, grads[0], grads[1], grads[2]
'''

PREACTIVATION_LSTM = '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x, h_prev, c_prev, Wx, Wh, a, c_next)


def lstm_step_backward(dh_next, dc_next, cache):
    x, h_prev, c_prev, Wx, Wh, a, c_next = cache
    H = h_prev.shape[1]
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    dc = dc_next + dh_next * o * (1 - np.tanh(c_next) ** 2)
    da = np.zeros_like(a)
    da[:, :H] = dc * g * i * (1 - i)
    da[:, H:2 * H] = dc * c_prev * f * (1 - f)
    da[:, 2 * H:3 * H] = dc * i * (1 - g ** 2)
    da[:, 3 * H:] = dh_next * np.tanh(c_next) * o * (1 - o)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h_prev.T @ da, da.sum(axis=0)
'''

LIST_CACHE_POPPED = '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, [x, h_prev, c_prev, Wx, Wh, i, f, g, o, c_next]


def lstm_step_backward(dh_next, dc_next, cache):
    c_next = cache.pop()
    o = cache.pop()
    g = cache.pop()
    f = cache.pop()
    i = cache.pop()
    Wh = cache.pop()
    Wx = cache.pop()
    c_prev = cache.pop()
    h_prev = cache.pop()
    x = cache.pop()
    t = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1 - t ** 2)
    da = np.concatenate((dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                         dh_next * t * o * (1 - o)), axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h_prev.T @ da, da.sum(0)
'''

IFOG_LSTM = '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next)


def lstm_step_backward(dh_next, dc_next, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, o, g, c_next = cache
    t = np.tanh(c_next)
    dc = dc_next + dh_next * o * (1 - t ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dh_next * t * o * (1 - o),
                         dc * i * (1 - g ** 2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, h_prev.T @ da, da.sum(axis=0)
'''

ANSWERS = [
    # ------------------------------------------------------------ lstm_step_forward
    Answer("lstm_step_forward", "dict cache of named gates, the whole LSTM written around it", DICT_CACHE_LSTM),
    Answer("lstm_step_forward", "float64 intermediates",
           sf(("a = x @ Wx + h_prev @ Wh + b", "a = x.astype(np.float64) @ Wx + h_prev.astype(np.float64) @ Wh + b")),
           fails=("lstm_step_forward_tests_2",),
           message=r"with float32 inputs lstm_step_forward returned h_next of dtype float64"),
    Answer("lstm_step_forward", "one np.split into four gates",
           sf(("    i = sigmoid(a[:, :H])\n    f = sigmoid(a[:, H:2 * H])\n    g = np.tanh(a[:, 2 * H:3 * H])\n"
               "    o = sigmoid(a[:, 3 * H:])\n",
               "    ai, af, ag, ao = np.split(a, 4, axis=1)\n    i, f, g, o = sigmoid(ai), sigmoid(af), np.tanh(ag), sigmoid(ao)\n"))),
    Answer("lstm_step_forward", "gate order i, f, o, g in the forward and the backward alike", IFOG_LSTM,
           correct=False, fails=("lstm_step_forward_tests",),
           message=r"b\[8:12\] is the candidate block \(order i, f, g, o\)"),
    Answer("lstm_step_forward", "own sigmoid, 1 / (1 + exp(-a))",
           sf(("    H = h_prev.shape[1]\n", "    H = h_prev.shape[1]\n    sigmoid = lambda v: 1 / (1 + np.exp(-v))\n")),
           fails=("lstm_step_forward_tests_3",), message=r"issued a warning: with saturated gates"),
    # ------------------------------------------------------------ lstm_forward
    Answer("lstm_forward", "a list of states stacked at the end",
           """
def lstm_forward(x, h0, Wx, Wh, b, c0=None):
    h, c = h0, (c0 if c0 is not None else np.zeros_like(h0))
    states, caches = [], []
    for t in range(x.shape[1]):
        h, c, cache_t = lstm_step_forward(x[:, t, :], h, c, Wx, Wh, b)
        states.append(h)
        caches.append(cache_t)
    return np.stack(states, axis=1), caches
"""),
    Answer("lstm_forward", "time-major array transposed at the end",
           """
def lstm_forward(x, h0, Wx, Wh, b, c0=None):
    N, T, D = x.shape
    out = np.zeros((T,) + h0.shape, dtype=h0.dtype)
    c = np.zeros_like(h0) if c0 is None else c0
    h = h0
    cache = []
    for t in range(T):
        h, c, ct = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        out[t] = h
        cache.append(ct)
    return out.transpose(1, 0, 2), cache
"""),
    Answer("lstm_forward", "zero cell state made with np.zeros((N, H))",
           fw(("c = np.zeros_like(h0) if c0 is None else c0", "c = np.zeros((N, h0.shape[1])) if c0 is None else c0"),
              ("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = []"),
              ("h[:, t] = h_t", "h.append(h_t)"),
              ("    return h, cache", "    return np.stack(h, axis=1), cache")),
           fails=("lstm_forward_tests_2",), message=r"with float32 inputs lstm_forward returned h of dtype float64"),
    # ------------------------------------------------------------ lstm_step_backward
    Answer("lstm_step_backward", "gates recomputed with sigmoid from the cached pre-activation", PREACTIVATION_LSTM),
    Answer("lstm_step_backward", "a list cache taken apart with pop()", LIST_CACHE_POPPED),
    Answer("lstm_step_backward", "dc_next updated with +=",
           sb(("dc = dc_next + dh_next * o * (1 - tanh_c ** 2)", "dc = dc_next\n    dc += dh_next * o * (1 - tanh_c ** 2)")),
           fails=("lstm_step_backward_tests_3",), message=r"changed its argument dc_next in place"),
    Answer("lstm_step_backward", "gate gradients in a float64 buffer",
           sb(("    da = np.concatenate([\n        dc * g * i * (1 - i),\n        dc * c_prev * f * (1 - f),\n"
               "        dc * i * (1 - g ** 2),\n        dh_next * tanh_c * o * (1 - o),\n    ], axis=1)\n",
               "    H = dc.shape[1]\n    da = np.zeros((dc.shape[0], 4 * H))\n    da[:, :H] = dc * g * i * (1 - i)\n"
               "    da[:, H:2 * H] = dc * c_prev * f * (1 - f)\n    da[:, 2 * H:3 * H] = dc * i * (1 - g ** 2)\n"
               "    da[:, 3 * H:] = dh_next * tanh_c * o * (1 - o)\n")),
           fails=("lstm_step_backward_tests_2",),
           message=r"with float32 inputs lstm_step_backward returned dx of dtype float64"),
    Answer("lstm_step_backward", "df from c_next", sb(("dc * c_prev * f * (1 - f)", "dc * (f * c_prev + i * g) * f * (1 - f)")),
           correct=False, fails=("lstm_step_backward_tests",),
           message=r"forget gate f block .*df = dc \* c_prev"),
    # ------------------------------------------------------------ lstm_backward
    Answer("lstm_backward", "reversed(range(T)), sums started at zeros_like",
           """
def lstm_backward(dh, cache):
    N, T, H = dh.shape
    x0, Wx, Wh = cache[0][0], cache[0][3], cache[0][4]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wx.shape[1], dtype=Wx.dtype)
    dh_next, dc_next = np.zeros_like(dh[:, 0]), np.zeros_like(dh[:, 0])
    for t in reversed(range(T)):
        g = lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])
        dx[:, t], dh_next, dc_next = g[0], g[1], g[2]
        dWx += g[3]
        dWh += g[4]
        db += g[5]
    return dx, dh_next, dWx, dWh, db
"""),
    Answer("lstm_backward", "sums started at np.zeros(shape), float64",
           bw(("dWx, dWh, db = 0, 0, 0", "dWx, dWh, db = np.zeros(cache[0][3].shape), np.zeros(cache[0][4].shape), np.zeros(cache[0][3].shape[1])")),
           fails=("lstm_backward_tests_2",), message=r"with float32 inputs lstm_backward returned dWx of dtype float64"),
    Answer("lstm_backward", "dh[:, t] left out of the loop",
           bw(("lstm_step_backward(dh[:, t] + dh_next, dc_next, cache[t])", "lstm_step_backward(dh_next, dc_next, cache[t])")),
           correct=False, fails=("lstm_backward_tests",), message=r"dh\[:, t\]"),
]
