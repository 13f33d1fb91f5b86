"""Wrong answers to the exercises of 05-gru."""
from catalogue import Answer, Mistake

NOTEBOOK = "05-gru"

STEP_FORWARD = '''
def gru_step_forward(x, h_prev, Wx, Wh, b, reset_after=False):
    H = h_prev.shape[1]
    bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    ax = x @ Wx + bx
    ah = h_prev @ Wh[:, :2 * H] + bh[:2 * H]
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:])
    if reset_after:
        rec = h_prev @ Wh[:, 2 * H:] + bh[2 * H:]
        n = np.tanh(ax[:, 2 * H:] + r * rec)
    else:
        rec = r * h_prev
        n = np.tanh(ax[:, 2 * H:] + rec @ Wh[:, 2 * H:])
    h_next = (1 - z) * n + z * h_prev
    cache = (x, h_prev, Wx, Wh, r, z, n, rec, reset_after)
    return h_next, cache
'''

FORWARD = '''
def gru_forward(x, h0, Wx, Wh, b, reset_after=False):
    N, T, D = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    h_t, cache = h0, []
    for t in range(T):
        h_t, step_cache = gru_step_forward(x[:, t], h_t, Wx, Wh, b, reset_after)
        h[:, t] = h_t
        cache.append(step_cache)
    return h, cache
'''

STEP_BACKWARD = '''
def gru_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, r, z, n, rec, reset_after = cache
    H = h_prev.shape[1]
    dan = dh_next * (1 - z) * (1 - n ** 2)
    daz = dh_next * (h_prev - n) * z * (1 - z)
    dh_prev = dh_next * z
    if reset_after:
        dar = dan * rec * r * (1 - r)
        dah = np.concatenate([dar, daz, dan * r], axis=1)
        dh_prev = dh_prev + dah @ Wh.T
        dWh = h_prev.T @ dah
    else:
        drh = dan @ Wh[:, 2 * H:].T
        dar = drh * h_prev * r * (1 - r)
        dah = np.concatenate([dar, daz], axis=1)
        dh_prev = dh_prev + drh * r + dah @ Wh[:, :2 * H].T
        dWh = np.concatenate([h_prev.T @ dah, rec.T @ dan], axis=1)
    dax = np.concatenate([dar, daz, dan], axis=1)
    dx = dax @ Wx.T
    dWx = x.T @ dax
    db = np.stack([dax.sum(axis=0), dah.sum(axis=0)]) if reset_after else dax.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db
'''

BACKWARD = '''
def gru_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.empty((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = 0, 0, 0
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        dx[:, t], dh_next, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t] + dh_next, cache[t])
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
    # ------------------------------------------------------------ gru_step_forward
    Mistake("gru_step_forward", "z on the other side of the update",
            sf(("h_next = (1 - z) * n + z * h_prev", "h_next = z * n + (1 - z) * h_prev")),
            r"z near 1 must keep the old state",
            fails=("gru_step_backward_tests", "gru_step_forward_tests")),
    Mistake("gru_step_forward", "reset always before the product",
            sf(("    if reset_after:\n        rec = h_prev", "    if False:\n        rec = h_prev")),
            r"reset gate is placed before the recurrent product; reset_after=True puts r after",
            fails=("gru_step_backward_tests", "gru_step_forward_tests")),
    Mistake("gru_step_forward", "reset always after the product",
            sf(("    if reset_after:\n        rec = h_prev", "    if True:\n        rec = h_prev")),
            r"reset gate is placed after the recurrent product; reset_after=False puts r before",
            fails=("gru_step_backward_tests", "gru_step_forward_tests")),
    Mistake("gru_step_forward", "reset gate not applied",
            sf(("rec = r * h_prev", "rec = h_prev"), ("n = np.tanh(ax[:, 2 * H:] + r * rec)", "n = np.tanh(ax[:, 2 * H:] + rec)")),
            r"reset gate r is not applied",
            fails=("gru_step_backward_tests", "gru_step_forward_tests")),
    Mistake("gru_step_forward", "gate order z, r, n",
            sf(("r = sigmoid(ax[:, :H] + ah[:, :H])\n    z = sigmoid(ax[:, H:2 * H] + ah[:, H:])",
                "z = sigmoid(ax[:, :H] + ah[:, :H])\n    r = sigmoid(ax[:, H:2 * H] + ah[:, H:])")),
            r"b\[4:8\] is the update block \(order r, z, n\)",
            fails=("gru_step_backward_tests", "gru_step_forward_tests")),
    Mistake("gru_step_forward", "sigmoid candidate",
            sf(("n = np.tanh(ax[:, 2 * H:] + rec @ Wh[:, 2 * H:])", "n = sigmoid(ax[:, 2 * H:] + rec @ Wh[:, 2 * H:])")),
            r"with z = 0.5 and n = 0, h_next = .*0.5 \* h_prev",
            fails=("gru_step_backward_tests", "gru_step_forward_tests")),
    Mistake("gru_step_forward", "recurrent bias outside the reset",
            sf(("rec = h_prev @ Wh[:, 2 * H:] + bh[2 * H:]\n        n = np.tanh(ax[:, 2 * H:] + r * rec)",
                "rec = h_prev @ Wh[:, 2 * H:]\n        n = np.tanh(ax[:, 2 * H:] + r * rec + bh[2 * H:])")),
            r"recurrent bias of n, b\[1, 2H:\], belongs inside the reset",
            fails=("gru_step_backward_tests", "gru_step_forward_tests")),
    Mistake("gru_step_forward", "recurrent bias ignored",
            sf(("bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))",
                "bx, bh = (b[0], 0 * b[1]) if reset_after else (b, np.zeros_like(b))")),
            r"h_next \(reset_after=True\) differs",
            fails=("gru_step_backward_tests", "gru_step_forward_tests")),
    Mistake("gru_step_forward", "calls rnnkit",
            "def gru_step_forward(x, h_prev, Wx, Wh, b, reset_after=False):\n"
            "    return rnnkit.gru_step_forward(x, h_prev, Wx, Wh, b, reset_after)\n",
            r"calls rnnkit\.gru_step_forward",
            fails=("gru_backward_tests", "gru_backward_tests_2", "gru_backward_tests_3", "gru_forward_tests", "gru_step_backward_tests", "gru_step_backward_tests_2", "gru_step_backward_tests_3", "gru_step_forward_tests", "gru_step_forward_tests_3")),
    # ------------------------------------------------------------ gru_forward
    Mistake("gru_forward", "state not carried",
            fw(("gru_step_forward(x[:, t], h_t, Wx, Wh, b, reset_after)", "gru_step_forward(x[:, t], h0, Wx, Wh, b, reset_after)")),
            r"every step starts again from h0",
            fails=("gru_forward_tests",)),
    Mistake("gru_forward", "reset_after not passed on",
            fw(("gru_step_forward(x[:, t], h_t, Wx, Wh, b, reset_after)", "gru_step_forward(x[:, t], h_t, Wx, Wh, b)")),
            r"does gru_forward pass reset_after on to gru_step_forward",
            fails=("gru_backward_tests", "gru_backward_tests_2", "gru_backward_tests_3", "gru_forward_tests", "gru_forward_tests_3")),
    Mistake("gru_forward", "h0 included in the output",
            fw(("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = np.empty((N, T + 1, h0.shape[1]), dtype=x.dtype)"),
               ("h[:, t] = h_t", "h[:, 0] = h0\n        h[:, t + 1] = h_t")),
            r"has shape \(2, 6, 4\), expected \(2, 5, 4\)",
            fails=("gru_backward_tests", "gru_forward_tests")),
    Mistake("gru_forward", "time-major output",
            fw(("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = np.empty((T, N, h0.shape[1]), dtype=x.dtype)"),
               ("h[:, t] = h_t", "h[t] = h_t")),
            r"has shape \(5, 2, 4\), expected \(2, 5, 4\)",
            fails=("gru_backward_tests", "gru_forward_tests")),
    Mistake("gru_forward", "float64 states from float32 inputs",
            fw(("dtype=x.dtype", "dtype=np.float64")),
            r"with float32 inputs gru_forward returned h \(reset_after=False\) of dtype float64",
            fails=("gru_forward_tests_2",)),
    Mistake("gru_forward", "calls rnnkit",
            "def gru_forward(x, h0, Wx, Wh, b, reset_after=False):\n"
            "    return rnnkit.gru_forward(x, h0, Wx, Wh, b, reset_after)\n",
            r"calls rnnkit\.gru_forward",
            fails=("gru_backward_tests", "gru_backward_tests_2", "gru_backward_tests_3", "gru_forward_tests", "gru_forward_tests_3")),
    # ------------------------------------------------------------ gru_step_backward
    Mistake("gru_step_backward", "direct path with 1 - z",
            sb(("dh_prev = dh_next * z\n", "dh_prev = dh_next * (1 - z)\n")),
            r"the direct path is dh_next \* z .*not dh_next \* \(1 - z\)",
            fails=("gru_step_backward_tests",)),
    Mistake("gru_step_backward", "direct path missing",
            sb(("dh_prev = dh_next * z\n", "dh_prev = 0 * dh_next\n")),
            r"the direct path dh_next \* z .*is missing",
            fails=("gru_step_backward_tests",)),
    Mistake("gru_step_backward", "update gradient with the wrong sign",
            sb(("daz = dh_next * (h_prev - n) * z * (1 - z)", "daz = dh_next * (n - h_prev) * z * (1 - z)")),
            r"db differs .*the error is in the update gate z block",
            fails=("gru_step_backward_tests",)),
    Mistake("gru_step_backward", "dWh of n uses h_prev with the reset before",
            sb(("dWh = np.concatenate([h_prev.T @ dah, rec.T @ dan], axis=1)",
                "dWh = np.concatenate([h_prev.T @ dah, h_prev.T @ dan], axis=1)")),
            r"dWh differs .*the error is in the candidate n block",
            fails=("gru_step_backward_tests",)),
    Mistake("gru_step_backward", "reset gradient through the wrong factor",
            sb(("dar = dan * rec * r * (1 - r)", "dar = dan * h_prev * r * (1 - r)")),
            r"db differs .*the error is in the reset gate r block.*reset_after=True",
            fails=("gru_step_backward_tests",)),
    Mistake("gru_step_backward", "one bias row for reset after",
            sb(("db = np.stack([dax.sum(axis=0), dah.sum(axis=0)]) if reset_after else dax.sum(axis=0)",
                "db = dax.sum(axis=0)")),
            r"db \(reset_after=True\) has shape \(12,\), expected \(2, 12\)",
            fails=("gru_backward_tests", "gru_step_backward_tests")),
    Mistake("gru_step_backward", "db not summed over the batch",
            sb(("db = np.stack([dax.sum(axis=0), dah.sum(axis=0)]) if reset_after else dax.sum(axis=0)",
                "db = np.stack([dax, dah]) if reset_after else dax")),
            r"db \(reset_after=False\) has shape \(2, 12\), expected \(12,\)",
            fails=("gru_backward_tests", "gru_step_backward_tests")),
    Mistake("gru_step_backward", "calls rnnkit",
            "def gru_step_backward(dh_next, cache):\n"
            "    x, h_prev, Wx, Wh = cache[:4]\n"
            "    ra = cache[-1]\n"
            "    b = np.zeros((2, Wx.shape[1]) if ra else Wx.shape[1])\n"
            "    _, ref = rnnkit.gru_step_forward(x, h_prev, Wx, Wh, b, reset_after=ra)\n"
            "    return rnnkit.gru_step_backward(dh_next, ref)\n",
            r"calls rnnkit\.gru_step_(forward|backward)",
            fails=("gru_backward_tests", "gru_step_backward_tests", "gru_step_backward_tests_3")),
    # ------------------------------------------------------------ gru_backward
    Mistake("gru_backward", "gradient not carried",
            bw(("gru_step_backward(dh[:, t] + dh_next, cache[t])", "gru_step_backward(dh[:, t], cache[t])")),
            r"dx\[:, 0\] is zero .*not carried from step t\+1 back to step t",
            fails=("gru_backward_tests",)),
    Mistake("gru_backward", "weights not accumulated",
            bw(("dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t", "dWx, dWh, db = dWx_t, dWh_t, db_t")),
            r"holds the contribution of a single time step",
            fails=("gru_backward_tests",)),
    Mistake("gru_backward", "forward in time",
            bw(("for t in range(T - 1, -1, -1):", "for t in range(T):")),
            r"gradient must go backwards in time|not carried from step t\+1 back to step t",
            fails=("gru_backward_tests",)),
    Mistake("gru_backward", "dh0 left at zero",
            bw(("dh0 = dh_next", "dh0 = np.zeros_like(dh_next)")),
            r"dh0 differs .*dh0 should be the dh_prev of step 0",
            fails=("gru_backward_tests",)),
    Mistake("gru_backward", "bias gradient from the last step only",
            bw(("db + db_t", "db_t")),
            r"db is wrong .*single time step",
            fails=("gru_backward_tests",)),
    Mistake("gru_backward", "calls rnnkit",
            "def gru_backward(dh, cache):\n"
            "    x = np.stack([c[0] for c in cache], axis=1)\n"
            "    h0, Wx, Wh, ra = cache[0][1], cache[0][2], cache[0][3], cache[0][-1]\n"
            "    b = np.zeros((2, Wx.shape[1]) if ra else Wx.shape[1])\n"
            "    _, ref = rnnkit.gru_forward(x, h0, Wx, Wh, b, reset_after=ra)\n"
            "    return rnnkit.gru_backward(dh, ref)\n",
            r"calls rnnkit\.gru_(forward|backward)",
            fails=("gru_backward_tests", "gru_backward_tests_3")),
    # ------------------------------------------------------------ requirements of their own
    Mistake("gru_step_forward", "own sigmoid that overflows",
            sf(("r = sigmoid(ax[:, :H] + ah[:, :H])", "sigmoid_ = lambda a: 1 / (1 + np.exp(-a))\n    r = sigmoid_(ax[:, :H] + ah[:, :H])"),
               ("z = sigmoid(ax[:, H:2 * H] + ah[:, H:])", "z = sigmoid_(ax[:, H:2 * H] + ah[:, H:])")),
            r"gru_step_forward issued a warning: with saturated gates .*stable sigmoid",
            fails=("gru_step_forward_tests_3",)),
    Mistake("gru_step_forward", "float64 result from float32 inputs",
            sf(("h_next = (1 - z) * n + z * h_prev", "h_next = ((1 - z) * n + z * h_prev).astype(float)")),
            r"with float32 inputs gru_step_forward returned h_next \(reset_after=False\) of dtype float64",
            fails=("gru_step_forward_tests_2",)),
    Mistake("gru_step_forward", "h_prev scaled in place",
            sf(("h_next = (1 - z) * n + z * h_prev", "h_prev *= z\n    h_next = (1 - z) * n + h_prev")),
            r"changed its argument h_prev in place", fails=("gru_step_forward_tests_3", "gru_step_backward_tests")),
    Mistake("gru_step_backward", "dh_next scaled in place",
            sb(("dan = dh_next * (1 - z) * (1 - n ** 2)\n    daz = dh_next * (h_prev - n) * z * (1 - z)\n    dh_prev = dh_next * z\n",
                "daz = dh_next * (h_prev - n) * z * (1 - z)\n    dh_prev = dh_next * z\n    dh_next *= 1 - z\n    dan = dh_next * (1 - n ** 2)\n")),
            r"changed its argument dh_next in place", fails=("gru_step_backward_tests_3",)),
    Mistake("gru_backward", "float64 accumulators",
            bw(("dWx, dWh, db = 0, 0, 0", "dWx, dWh, db = np.zeros(1), np.zeros(1), np.zeros(1)")),
            r"with float32 inputs gru_backward returned dWx of dtype float64", fails=("gru_backward_tests_2",)),
    Mistake("gru_backward", "dh[:, t] not added",
            bw(("gru_step_backward(dh[:, t] + dh_next, cache[t])", "gru_step_backward(dh_next, cache[t])")),
            r"dh\[:, t\] is never added",
            fails=("gru_backward_tests",)),
]


# ---------------------------------------------------------------------------------------
# Answers written the way students write them. An answer with its own cache format brings
# the functions that read that cache along.

DICT_CACHE_GRU = '''
def gru_step_forward(x, h_prev, Wx, Wh, b, reset_after=False):
    H = h_prev.shape[1]
    if reset_after:
        bx, bh = b[0], b[1]
    else:
        bx, bh = b, np.zeros_like(b)
    ax = np.dot(x, Wx) + bx
    r = sigmoid(ax[:, :H] + np.dot(h_prev, Wh[:, :H]) + bh[:H])
    z = sigmoid(ax[:, H:2*H] + np.dot(h_prev, Wh[:, H:2*H]) + bh[H:2*H])
    if reset_after:
        inner = np.dot(h_prev, Wh[:, 2*H:]) + bh[2*H:]
        n = np.tanh(ax[:, 2*H:] + r * inner)
    else:
        inner = r * h_prev
        n = np.tanh(ax[:, 2*H:] + np.dot(inner, Wh[:, 2*H:]))
    h_next = (1 - z) * n + z * h_prev
    return h_next, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "r": r, "z": z, "n": n,
                    "inner": inner, "reset_after": reset_after}


def gru_step_backward(dh_next, cache):
    c = cache
    H = c["h_prev"].shape[1]
    r, z, n, h_prev, Wh = c["r"], c["z"], c["n"], c["h_prev"], c["Wh"]
    dn = dh_next * (1 - z) * (1 - n * n)
    dz = dh_next * (h_prev - n) * z * (1 - z)
    dh_prev = dh_next * z
    if c["reset_after"]:
        dr = dn * c["inner"] * r * (1 - r)
        dah = np.hstack([dr, dz, dn * r])
        dh_prev = dh_prev + np.dot(dah, Wh.T)
        dWh = np.dot(h_prev.T, dah)
    else:
        dinner = np.dot(dn, Wh[:, 2*H:].T)
        dr = dinner * h_prev * r * (1 - r)
        dah = np.hstack([dr, dz])
        dh_prev = dh_prev + dinner * r + np.dot(dah, Wh[:, :2*H].T)
        dWh = np.hstack([np.dot(h_prev.T, dah), np.dot(c["inner"].T, dn)])
    dax = np.hstack([dr, dz, dn])
    db = np.vstack([dax.sum(axis=0), dah.sum(axis=0)]) if c["reset_after"] else dax.sum(axis=0)
    return np.dot(dax, c["Wx"].T), dh_prev, np.dot(c["x"].T, dax), dWh, db


def gru_forward(x, h0, Wx, Wh, b, reset_after=False):
    hs, steps = [], []
    h = h0
    for t in range(x.shape[1]):
        h, step = gru_step_forward(x[:, t, :], h, Wx, Wh, b, reset_after=reset_after)
        hs.append(h)
        steps.append(step)
    return np.stack(hs, axis=1), steps


def gru_backward(dh, cache):
    T = dh.shape[1]
    dxs = []
    carry = np.zeros_like(dh[:, 0])
    dWx = dWh = db = None
    for t in range(T - 1, -1, -1):
        dx_t, carry, gx, gh, gb = gru_step_backward(dh[:, t] + carry, cache[t])
        dxs.insert(0, dx_t)
        dWx = gx if dWx is None else dWx + gx
        dWh = gh if dWh is None else dWh + gh
        db = gb if db is None else db + gb
    return np.stack(dxs, axis=1), carry, dWx, dWh, db
'''

MIRRORED_GRU = '''
def gru_step_forward(x, h_prev, Wx, Wh, b, reset_after=False):
    H = h_prev.shape[1]
    bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    ax = x @ Wx + bx
    ah = h_prev @ Wh[:, :2 * H] + bh[:2 * H]
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:])
    if reset_after:
        rec = h_prev @ Wh[:, 2 * H:] + bh[2 * H:]
        n = np.tanh(ax[:, 2 * H:] + r * rec)
    else:
        rec = r * h_prev
        n = np.tanh(ax[:, 2 * H:] + rec @ Wh[:, 2 * H:])
    h_next = (1 - z) * h_prev + z * n
    return h_next, (x, h_prev, Wx, Wh, r, z, n, rec, reset_after)


def gru_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, r, z, n, rec, reset_after = cache
    H = h_prev.shape[1]
    dan = dh_next * z * (1 - n ** 2)
    daz = dh_next * (n - h_prev) * z * (1 - z)
    dh_prev = dh_next * (1 - z)
    if reset_after:
        dar = dan * rec * r * (1 - r)
        dah = np.concatenate([dar, daz, dan * r], axis=1)
        dh_prev = dh_prev + dah @ Wh.T
        dWh = h_prev.T @ dah
    else:
        drh = dan @ Wh[:, 2 * H:].T
        dar = drh * h_prev * r * (1 - r)
        dah = np.concatenate([dar, daz], axis=1)
        dh_prev = dh_prev + drh * r + dah @ Wh[:, :2 * H].T
        dWh = np.concatenate([h_prev.T @ dah, rec.T @ dan], axis=1)
    dax = np.concatenate([dar, daz, dan], axis=1)
    db = np.stack([dax.sum(axis=0), dah.sum(axis=0)]) if reset_after else dax.sum(axis=0)
    return dax @ Wx.T, dh_prev, x.T @ dax, dWh, db
'''

ANSWERS = [
    # ------------------------------------------------------------ gru_step_forward
    Answer("gru_step_forward", "dict cache, the whole GRU written around it", DICT_CACHE_GRU),
    Answer("gru_step_forward", "z mirrored in the forward and the backward alike", MIRRORED_GRU,
           correct=False, fails=("gru_step_forward_tests",), message=r"z near 1 must keep the old state"),
    Answer("gru_step_forward", "float64 zeros for the missing recurrent bias",
           sf(("bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))",
               "bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros(b.shape))")),
           fails=("gru_step_forward_tests_2",),
           message=r"with float32 inputs gru_step_forward returned h_next \(reset_after=False\) of dtype float64"),
    # ------------------------------------------------------------ gru_forward
    Answer("gru_forward", "a list of states stacked at the end",
           """
def gru_forward(x, h0, Wx, Wh, b, reset_after=False):
    states, caches, h = [], [], h0
    for t in range(x.shape[1]):
        h, c = gru_step_forward(x[:, t, :], h, Wx, Wh, b, reset_after=reset_after)
        states.append(h)
        caches.append(c)
    return np.stack(states, 1), caches
"""),
    Answer("gru_forward", "states written into np.zeros((N, T, H))",
           fw(("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = np.zeros((N, T, h0.shape[1]))")),
           fails=("gru_forward_tests_2",),
           message=r"with float32 inputs gru_forward returned h \(reset_after=False\) of dtype float64"),
    # ------------------------------------------------------------ gru_step_backward
    Answer("gru_step_backward", "a list cache taken apart with pop()",
           sf(("cache = (x, h_prev, Wx, Wh, r, z, n, rec, reset_after)", "cache = [x, h_prev, Wx, Wh, r, z, n, rec, reset_after]"))
           + sb(("x, h_prev, Wx, Wh, r, z, n, rec, reset_after = cache",
                 "reset_after, rec, n, z, r, Wh, Wx, h_prev, x = [cache.pop() for _ in range(9)]"))),
    Answer("gru_step_backward", "dh_next scaled in place for the candidate",
           sb(("dan = dh_next * (1 - z) * (1 - n ** 2)\n    daz = dh_next * (h_prev - n) * z * (1 - z)\n    dh_prev = dh_next * z\n",
               "daz = dh_next * (h_prev - n) * z * (1 - z)\n    dh_prev = dh_next * z\n    dh_next *= 1 - z\n    dan = dh_next * (1 - n ** 2)\n")),
           fails=("gru_step_backward_tests_3",), message=r"changed its argument dh_next in place"),
    Answer("gru_step_backward", "update gradient with the sign of the mirrored convention",
           sb(("daz = dh_next * (h_prev - n) * z * (1 - z)", "daz = dh_next * (n - h_prev) * z * (1 - z)")),
           correct=False, fails=("gru_step_backward_tests",),
           message=r"the error is in the update gate z block"),
    # ------------------------------------------------------------ gru_backward
    Answer("gru_backward", "float64 accumulators started at np.zeros(shape)",
           bw(("dWx, dWh, db = 0, 0, 0", "dWx, dWh, db = np.zeros(cache[0][2].shape), np.zeros(cache[0][3].shape), 0")),
           fails=("gru_backward_tests_2",), message=r"with float32 inputs gru_backward returned dWx of dtype float64"),
    Answer("gru_backward", "reversed(range(T)), gradients kept in a dict",
           """
def gru_backward(dh, cache):
    N, T, H = dh.shape
    grads = {"dx": [None] * T}
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx_t, dh_next, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t] + dh_next, cache[t])
        grads["dx"][t] = dx_t
        for name, g in (("dWx", dWx_t), ("dWh", dWh_t), ("db", db_t)):
            grads[name] = grads[name] + g if name in grads else g
    return np.stack(grads["dx"], axis=1), dh_next, grads["dWx"], grads["dWh"], grads["db"]
"""),
]
