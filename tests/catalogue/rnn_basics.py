"""Wrong answers to the exercises of 01-rnn-basics, and what the tests must say about each."""
from catalogue import Answer, Mistake

NOTEBOOK = "01-rnn-basics"


def _sigmoid(body):
    return f"def sigmoid(z):\n{body}"


def _softmax(body):
    return f"def softmax(z, axis=-1):\n{body}"


def _step(body):
    return f"def rnn_step_forward(x, h_prev, Wx, Wh, b):\n{body}"


def _forward(body):
    return f"def rnn_forward(x, h0, Wx, Wh, b):\n{body}"


CATALOGUE = [
    # ---------------------------------------------------------------- sigmoid
    Mistake("sigmoid", "the textbook formula overflows for large negative z", _sigmoid(
        "    return 1 / (1 + np.exp(-z))\n"),
        r"warns at z = -1000.*exp\(-z\) overflows", fails=("sigmoid_tests_2",)),
    Mistake("sigmoid", "sign of z flipped", _sigmoid(
        "    e = np.exp(-np.abs(z))\n"
        "    return np.where(z >= 0, e / (1 + e), 1 / (1 + e))\n"),
        r"sigmoid\(-z\).*sign of z is flipped", fails=("sigmoid_tests",)),
    Mistake("sigmoid", "np.where with an unsafe branch", _sigmoid(
        "    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))\n"),
        r"warns at z = -1000 and at z = 1000: np.where evaluates both", fails=("sigmoid_tests_2",)),
    Mistake("sigmoid", "tanh instead of the sigmoid", _sigmoid(
        "    return np.tanh(z)\n"),
        r"computes tanh\(z\)", fails=("sigmoid_tests",)),
    Mistake("sigmoid", "negative branch wrong", _sigmoid(
        "    e = np.exp(-np.abs(z))\n"
        "    return 1 / (1 + e)\n"),
        r"right for z >= 0 but .* for z < 0", fails=("sigmoid_tests",)),
    Mistake("sigmoid", "float32 promoted to float64", _sigmoid(
        "    z = np.asarray(z, dtype=np.float64)\n"
        "    e = np.exp(-np.abs(z))\n"
        "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"),
        r"dtype float64 for float32 inputs", fails=("sigmoid_tests_3",)),
    Mistake("sigmoid", "calls rnnkit", _sigmoid(
        "    return rnnkit.sigmoid(z)\n"),
        r"calls rnnkit\.sigmoid, the reference", fails=("sigmoid_tests", "sigmoid_tests_2", "sigmoid_tests_3")),
    Mistake("sigmoid", "clipped exponent gives a wrong limit", _sigmoid(
        "    e = np.exp(-np.clip(z, -20, 20))\n"
        "    return 1 / (1 + e)\n"),
        r"only values with \|z\| >= \d+ differ: is z clipped", fails=("sigmoid_tests", "sigmoid_tests_2")),

    # ---------------------------------------------------------------- softmax
    Mistake("softmax", "no max shift: exp overflows", _softmax(
        "    e = np.exp(z)\n"
        "    return e / np.sum(e, axis=axis, keepdims=True)\n"),
        r"softmax warns on the scores.*exp overflows: subtract the maximum of each row", fails=("softmax_tests_2",)),
    Mistake("softmax", "shift by the maximum of the whole array", _softmax(
        "    e = np.exp(z - np.max(z))\n"
        "    return e / np.sum(e, axis=axis, keepdims=True)\n"),
        r"second row underflows to 0 / 0: subtract the maximum of each row", fails=("softmax_tests_2",)),
    Mistake("softmax", "normalised along axis 0", _softmax(
        "    e = np.exp(z - np.max(z, axis=0, keepdims=True))\n"
        "    return e / np.sum(e, axis=0, keepdims=True)\n"),
        r"normalises along axis 0, not along the axis argument", fails=("softmax_tests",)),
    Mistake("softmax", "axis argument ignored", _softmax(
        "    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
        "    return e / np.sum(e, axis=-1, keepdims=True)\n"),
        r"normalises along the last axis whatever the axis argument says", fails=("softmax_tests",)),
    Mistake("softmax", "normalised over the whole array", _softmax(
        "    e = np.exp(z - np.max(z))\n"
        "    return e / np.sum(e)\n"),
        r"normalises over the whole array", fails=("softmax_tests",)),
    Mistake("softmax", "keepdims forgotten", _softmax(
        "    e = np.exp(z - np.max(z, axis=axis))\n"
        "    return e / np.sum(e, axis=axis)\n"),
        r"softmax raised ValueError.*keepdims=True", fails=("softmax_tests", "softmax_tests_2", "softmax_tests_3")),
    Mistake("softmax", "keepdims forgotten on the sum only", _softmax(
        "    e = np.exp(z - np.max(z, axis=axis, keepdims=True))\n"
        "    return e / np.sum(e, axis=axis)\n"),
        r"keepdims", fails=("softmax_tests", "softmax_tests_2", "softmax_tests_3")),
    Mistake("softmax", "not normalised", _softmax(
        "    return np.exp(z - np.max(z, axis=axis, keepdims=True))\n"),
        r"without dividing by the sum", fails=("softmax_tests",)),
    Mistake("softmax", "log-probabilities returned", _softmax(
        "    s = z - np.max(z, axis=axis, keepdims=True)\n"
        "    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))\n"),
        r"returns log-probabilities", fails=("softmax_tests",)),
    Mistake("softmax", "calls rnnkit", _softmax(
        "    return rnnkit.softmax(z, axis=axis)\n"),
        r"calls rnnkit\.softmax", fails=("softmax_tests", "softmax_tests_2", "softmax_tests_3")),

    # ---------------------------------------------------------------- rnn_step_forward
    Mistake("rnn_step_forward", "bias missing", _step(
        "    h_next = np.tanh(x @ Wx + h_prev @ Wh)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"with x and h_prev zeroed it still differs, so the bias b is the problem: the bias b seems to be missing",
        fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "bias added after the tanh", _step(
        "    h_next = np.tanh(x @ Wx + h_prev @ Wh) + b\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"bias b is the problem: b seems to be added after the tanh", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "Wh transposed", _step(
        "    h_next = np.tanh(x @ Wx + h_prev @ Wh.T + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"recurrent term h_prev @ Wh is the problem: Wh seems to be transposed", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "Wh @ h_prev.T, transposed back", _step(
        "    h_next = np.tanh(x @ Wx + (Wh @ h_prev.T).T + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"Wh seems to be transposed", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "Wx transposed (runs when D == H)", _step(
        "    h_next = np.tanh(x @ Wx.T + h_prev @ Wh + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"check the shapes of the products: x \(N, D\) @ Wx \(D, H\)|Wx seems to be transposed",
        fails=("rnn_step_forward_tests", "rnn_step_forward_tests_2", "rnn_forward_tests", "rnn_forward_tests_2")),
    Mistake("rnn_step_forward", "h_prev ignored", _step(
        "    h_next = np.tanh(x @ Wx + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"h_prev seems to be ignored", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "sigmoid instead of tanh", _step(
        "    h_next = rnnkit.sigmoid(x @ Wx + h_prev @ Wh + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"applies the sigmoid where the vanilla RNN applies tanh", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "sigma(...) tanh(...) product", _step(
        "    a = x @ Wx + h_prev @ Wh + b\n"
        "    h_next = sigmoid(a) * np.tanh(a)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"multiplies sigmoid\(a\) by tanh\(a\).*one\s+activation", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "no activation", _step(
        "    h_next = x @ Wx + h_prev @ Wh + b\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"no activation is applied", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "ReLU instead of tanh", _step(
        "    h_next = np.maximum(x @ Wx + h_prev @ Wh + b, 0)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"applies ReLU where this RNN applies tanh", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "weights swapped (runs when D == H)", _step(
        "    h_next = np.tanh(x @ Wh + h_prev @ Wx + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"rnn_step_forward raised ValueError.*check the shapes|x is multiplied by Wh",
        fails=("rnn_step_forward_tests", "rnn_step_forward_tests_2", "rnn_forward_tests", "rnn_forward_tests_2")),
    Mistake("rnn_step_forward", "only h_next returned", _step(
        "    return np.tanh(x @ Wx + h_prev @ Wh + b)\n"),
        r"should return a tuple \(h_next, cache\)",
        fails=("rnn_step_forward_tests", "rnn_step_forward_tests_2", "rnn_forward_tests", "rnn_forward_tests_2")),
    Mistake("rnn_step_forward", "calls rnnkit", _step(
        "    return rnnkit.rnn_step_forward(x, h_prev, Wx, Wh, b)\n"),
        r"calls rnnkit\.rnn_step_forward",
        fails=("rnn_step_forward_tests", "rnn_step_forward_tests_2", "rnn_forward_tests", "rnn_forward_tests_2")),
    Mistake("rnn_step_forward", "float32 computed in float64", _step(
        "    a = x.astype(np.float64) @ Wx + h_prev @ Wh + b\n"
        "    h_next = np.tanh(a)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"h_next has dtype float64 for float32 inputs", fails=("rnn_step_forward_tests_2",)),

    # ---------------------------------------------------------------- rnn_forward
    Mistake("rnn_forward", "state not carried: h0 at every step", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    caches = []\n"
        "    for t in range(T):\n"
        "        h[:, t], cache = rnn_step_forward(x[:, t], h0, Wx, Wh, b)\n"
        "        caches.append(cache)\n"
        "    return h, caches\n"),
        r"every step starts from h0: the state is not carried", fails=("rnn_forward_tests",)),
    Mistake("rnn_forward", "state reset to zeros at every step", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    for t in range(T):\n"
        "        h[:, t], _ = rnn_step_forward(x[:, t], np.zeros_like(h0), Wx, Wh, b)\n"
        "    return h, None\n"),
        r"every step starts from zeros", fails=("rnn_forward_tests",)),
    Mistake("rnn_forward", "h0 ignored", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = np.zeros_like(h0)\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"h0 is ignored", fails=("rnn_forward_tests",)),
    Mistake("rnn_forward", "only the last state returned", _forward(
        "    h_prev = h0\n"
        "    for t in range(x.shape[1]):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "    return h_prev, None\n"),
        r"\(N, H\): rnn_forward returns every hidden state", fails=("rnn_forward_tests",)),
    Mistake("rnn_forward", "time-major output", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((T, N, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[t] = h_prev\n"
        "    return h, None\n"),
        r"it is time-major", fails=("rnn_forward_tests",)),
    Mistake("rnn_forward", "states stored one step late", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h[:, t] = h_prev\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "    return h, None\n"),
        r"holds the state before step t", fails=("rnn_forward_tests",)),
    Mistake("rnn_forward", "loops over the batch axis as if it were time", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnn_step_forward(x[t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"step t's input is x\[:, t, :\]", fails=("rnn_forward_tests", "rnn_forward_tests_2")),
    Mistake("rnn_forward", "last step skipped", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T - 1):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"steps 0 to \d+ are right and step \d+ is not", fails=("rnn_forward_tests",)),
    Mistake("rnn_forward", "float64 states for float32 input", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.zeros((N, T, h0.shape[1]))\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"h has dtype float64 for float32 inputs", fails=("rnn_forward_tests_2",)),
    Mistake("rnn_forward", "calls rnnkit", _forward(
        "    return rnnkit.rnn_forward(x, h0, Wx, Wh, b)\n"),
        r"calls rnnkit\.rnn_forward", fails=("rnn_forward_tests", "rnn_forward_tests_2")),
    Mistake("rnn_forward", "steps with rnnkit's step", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnnkit.rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"calls rnnkit\.rnn_step_forward", fails=("rnn_forward_tests", "rnn_forward_tests_2")),

    # ---------------------------------------------------------------- what only hidden tests used to see
    Mistake("sigmoid", "clipped at +-500: overflows in float32 only", _sigmoid(
        "    e = np.exp(-np.clip(z, -500, 500))\n"
        "    return 1 / (1 + e)\n"),
        r"warns at z = -100 with float32 inputs: only with float32 inputs", fails=("sigmoid_tests_2",)),
    Mistake("softmax", "float64 result for float32 scores", _softmax(
        "    z = np.asarray(z, dtype=np.float64)\n"
        "    e = np.exp(z - np.max(z, axis=axis, keepdims=True))\n"
        "    return e / np.sum(e, axis=axis, keepdims=True)\n"),
        r"softmax\(z\) has dtype float64 for float32 inputs", fails=("softmax_tests_3",)),
    Mistake("softmax", "the scores shifted in place", _softmax(
        "    z -= np.max(z, axis=axis, keepdims=True)\n"
        "    e = np.exp(z)\n"
        "    return e / np.sum(e, axis=axis, keepdims=True)\n"),
        r"softmax changes its input z in place", fails=("softmax_tests_3",)),
    Mistake("softmax", "exp written into the scores with out=", _softmax(
        "    np.subtract(z, np.max(z, axis=axis, keepdims=True), out=z)\n"
        "    np.exp(z, out=z)\n"
        "    return z / np.sum(z, axis=axis, keepdims=True)\n"),
        r"softmax changes its input z in place", fails=("softmax_tests_3",)),
    Mistake("rnn_step_forward", "tanh written with exp", _step(
        "    e = np.exp(2 * (x @ Wx + h_prev @ Wh + b))\n"
        "    h_next = (e - 1) / (e + 1)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"rnn_step_forward warns with float32 inputs: use np.tanh, which saturates", fails=("rnn_step_forward_tests",)),
    Mistake("rnn_step_forward", "squeezes its input", _step(
        "    h_next = np.tanh(np.squeeze(x) @ Wx + h_prev @ Wh + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"rnn_step_forward raised ValueError for N=3, D=1, H=2 \(a size of 1: does the code drop an axis",
        fails=("rnn_step_forward_tests", "rnn_forward_tests")),
    Mistake("rnn_step_forward", "h_prev overwritten with the new state", _step(
        "    h_prev[...] = np.tanh(x @ Wx + h_prev @ Wh + b)\n"
        "    return h_prev, (x, h_prev, Wx, Wh, h_prev)\n"),
        r"rnn_step_forward changes its input h_prev in place", fails=("rnn_step_forward_tests_2",)),
    Mistake("rnn_forward", "squeezes the step input (D = 1 with N > 1)", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev = np.tanh(np.squeeze(x[:, t, :]) @ Wx + h_prev @ Wh + b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"rnn_forward raised ValueError for N=3, T=2, D=1, H=2 \(a size of 1: does the code drop an axis",
        fails=("rnn_forward_tests",)),
    Mistake("rnn_forward", "h0 overwritten as the running state", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    for t in range(T):\n"
        "        h0[...] = rnn_step_forward(x[:, t], h0, Wx, Wh, b)[0]\n"
        "        h[:, t] = h0\n"
        "    return h, None\n"),
        r"rnn_forward changes its input h0 in place", fails=("rnn_forward_tests_2",)),
    Mistake("rnn_forward", "a wrong loop around a wrong step: the step is named first",
            _step("    h_next = np.tanh(x @ Wx + h_prev @ Wh)\n"
                  "    return h_next, None\n") + "\n\n" + _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    for t in range(T):\n"
        "        h[:, t], _ = rnn_step_forward(x[:, t], h0, Wx, Wh, b)\n"
        "    return h, None\n"),
        r"^your rnn_step_forward does not agree with rnnkit .* fix rnn_step_forward first\. h is wrong: every step "
        r"starts from h0", fails=("rnn_forward_tests",)),
]

# Answers written the way students write them. A right one loses at most a third of its
# points, and only for a requirement its visible tests showed; a buggy one is told its bug.
ANSWERS = [
    # ---------------------------------------------------------------- sigmoid
    Answer("sigmoid", "boolean masks, one branch each", _sigmoid(
        "    out = np.empty_like(z)\n"
        "    pos = z >= 0\n"
        "    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))\n"
        "    ez = np.exp(z[~pos])\n"
        "    out[~pos] = ez / (1.0 + ez)\n"
        "    return out\n")),
    Answer("sigmoid", "through tanh", _sigmoid(
        "    return 0.5 * (1.0 + np.tanh(0.5 * z))\n")),
    Answer("sigmoid", "textbook formula inside np.errstate", _sigmoid(
        "    with np.errstate(over='ignore'):\n"
        "        return 1 / (1 + np.exp(-z))\n")),
    Answer("sigmoid", "clipped at +-500, in float64", _sigmoid(
        "    z = np.clip(z, -500, 500).astype(np.float64)\n"
        "    return 1.0 / (1.0 + np.exp(-z))\n"),
        fails=("sigmoid_tests_3",), message=r"sigmoid\(z\) has dtype float64 for float32 inputs"),
    Answer("sigmoid", "np.where over two unsafe branches", _sigmoid(
        "    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))\n"),
        fails=("sigmoid_tests_2",), message=r"np.where evaluates both of its branches"),
    # ---------------------------------------------------------------- softmax
    Answer("softmax", "max and sum with keepdims", _softmax(
        "    shifted = z - z.max(axis=axis, keepdims=True)\n"
        "    exps = np.exp(shifted)\n"
        "    return exps / exps.sum(axis=axis, keepdims=True)\n")),
    Answer("softmax", "np.expand_dims instead of keepdims", _softmax(
        "    m = np.expand_dims(np.max(z, axis=axis), axis)\n"
        "    e = np.exp(z - m)\n"
        "    return e / np.expand_dims(e.sum(axis=axis), axis)\n")),
    Answer("softmax", "float64 on the way", _softmax(
        "    z = np.array(z, dtype=float)\n"
        "    e = np.exp(z - np.max(z, axis=axis, keepdims=True))\n"
        "    return e / np.sum(e, axis=axis, keepdims=True)\n"),
        fails=("softmax_tests_3",), message=r"has dtype float64 for float32 inputs"),
    Answer("softmax", "no shift", _softmax(
        "    e = np.exp(z)\n"
        "    return e / e.sum(axis=axis, keepdims=True)\n"),
        fails=("softmax_tests_2",), message=r"exp overflows: subtract the maximum of each row"),
    Answer("softmax", "shifted in place", _softmax(
        "    z -= z.max(axis=axis, keepdims=True)\n"
        "    np.exp(z, out=z)\n"
        "    z /= z.sum(axis=axis, keepdims=True)\n"
        "    return z\n"),
        fails=("softmax_tests_3",), message=r"changes its input z in place"),
    # ---------------------------------------------------------------- rnn_step_forward
    Answer("rnn_step_forward", "dict cache", _step(
        "    a = np.dot(x, Wx) + np.dot(h_prev, Wh) + b\n"
        "    h_next = np.tanh(a)\n"
        "    cache = {'x': x, 'h_prev': h_prev, 'Wx': Wx, 'Wh': Wh, 'h_next': h_next}\n"
        "    return h_next, cache\n")),
    Answer("rnn_step_forward", "tuple cache with the pre-activation", _step(
        "    a = x.dot(Wx) + h_prev.dot(Wh) + b\n"
        "    return np.tanh(a), (x, h_prev, Wx, Wh, a)\n")),
    Answer("rnn_step_forward", "float64 intermediates", _step(
        "    a = x.astype(np.float64) @ Wx + h_prev.astype(np.float64) @ Wh + b\n"
        "    h_next = np.tanh(a)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        fails=("rnn_step_forward_tests_2",), message=r"h_next has dtype float64 for float32 inputs"),
    Answer("rnn_step_forward", "squeezes the step input", _step(
        "    x = np.squeeze(x)\n"
        "    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        correct=False, fails=("rnn_step_forward_tests", "rnn_forward_tests"), message=r"drop an axis of length 1"),
    # ---------------------------------------------------------------- rnn_forward
    Answer("rnn_forward", "a list of states stacked at the end", _forward(
        "    hs, caches = [], []\n"
        "    h = h0\n"
        "    for t in range(x.shape[1]):\n"
        "        h, c = rnn_step_forward(x[:, t, :], h, Wx, Wh, b)\n"
        "        hs.append(h)\n"
        "        caches.append(c)\n"
        "    return np.stack(hs, axis=1), caches\n")),
    Answer("rnn_forward", "time-major list transposed at the end, dict cache", _forward(
        "    T = x.shape[1]\n"
        "    states = []\n"
        "    h_t = h0\n"
        "    for t in range(T):\n"
        "        h_t, _ = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)\n"
        "        states.append(h_t)\n"
        "    h = np.array(states).transpose(1, 0, 2)\n"
        "    return h, {'x': x, 'h0': h0, 'h': h, 'Wx': Wx, 'Wh': Wh}\n")),
    Answer("rnn_forward", "np.zeros without a dtype", _forward(
        "    N, T, D = x.shape\n"
        "    H = h0.shape[1]\n"
        "    h = np.zeros((N, T, H))\n"
        "    prev = h0\n"
        "    cache = []\n"
        "    for t in range(T):\n"
        "        prev, c = rnn_step_forward(x[:, t, :], prev, Wx, Wh, b)\n"
        "        h[:, t, :] = prev\n"
        "        cache.append(c)\n"
        "    return h, cache\n"),
        fails=("rnn_forward_tests_2",), message=r"h has dtype float64 for float32 inputs"),
    Answer("rnn_forward", "squeezes the step input", _forward(
        "    N, T, D = x.shape\n"
        "    hs = []\n"
        "    h = h0\n"
        "    for t in range(T):\n"
        "        x_t = np.squeeze(x[:, t, :])\n"
        "        h = np.tanh(x_t @ Wx + h @ Wh + b)\n"
        "        hs.append(h)\n"
        "    return np.stack(hs, axis=1), hs\n"),
        correct=False, fails=("rnn_forward_tests",), message=r"for N=3, T=2, D=1, H=2 \(a size of 1"),
]
