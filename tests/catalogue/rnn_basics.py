"""Wrong answers to the exercises of 01-rnn-basics, and what the tests must say about each."""
from catalogue import Mistake

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
        r"warns at z = -1000.*exp\(-z\) overflows"),
    Mistake("sigmoid", "sign of z flipped", _sigmoid(
        "    e = np.exp(-np.abs(z))\n"
        "    return np.where(z >= 0, e / (1 + e), 1 / (1 + e))\n"),
        r"sigmoid\(-z\).*sign of z is flipped"),
    Mistake("sigmoid", "np.where with an unsafe branch", _sigmoid(
        "    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))\n"),
        r"warns at z = -1000 and at z = 1000: np.where evaluates both"),
    Mistake("sigmoid", "tanh instead of the sigmoid", _sigmoid(
        "    return np.tanh(z)\n"),
        r"computes tanh\(z\)"),
    Mistake("sigmoid", "negative branch wrong", _sigmoid(
        "    e = np.exp(-np.abs(z))\n"
        "    return 1 / (1 + e)\n"),
        r"right for z >= 0 but .* for z < 0"),
    Mistake("sigmoid", "float32 promoted to float64", _sigmoid(
        "    z = np.asarray(z, dtype=np.float64)\n"
        "    e = np.exp(-np.abs(z))\n"
        "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"),
        r"dtype float64 for float32 inputs"),
    Mistake("sigmoid", "calls rnnkit", _sigmoid(
        "    return rnnkit.sigmoid(z)\n"),
        r"calls rnnkit\.sigmoid, the reference"),
    Mistake("sigmoid", "clipped exponent gives a wrong limit", _sigmoid(
        "    e = np.exp(-np.clip(z, -20, 20))\n"
        "    return 1 / (1 + e)\n"),
        r"only values with \|z\| >= \d+ differ: is z clipped"),

    # ---------------------------------------------------------------- softmax
    Mistake("softmax", "no max shift: exp overflows", _softmax(
        "    e = np.exp(z)\n"
        "    return e / np.sum(e, axis=axis, keepdims=True)\n"),
        r"softmax warns on the scores.*exp overflows: subtract the maximum of each row"),
    Mistake("softmax", "shift by the maximum of the whole array", _softmax(
        "    e = np.exp(z - np.max(z))\n"
        "    return e / np.sum(e, axis=axis, keepdims=True)\n"),
        r"second row underflows to 0 / 0: subtract the maximum of each row"),
    Mistake("softmax", "normalised along axis 0", _softmax(
        "    e = np.exp(z - np.max(z, axis=0, keepdims=True))\n"
        "    return e / np.sum(e, axis=0, keepdims=True)\n"),
        r"normalises along axis 0, not along the axis argument"),
    Mistake("softmax", "axis argument ignored", _softmax(
        "    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
        "    return e / np.sum(e, axis=-1, keepdims=True)\n"),
        r"normalises along the last axis whatever the axis argument says"),
    Mistake("softmax", "normalised over the whole array", _softmax(
        "    e = np.exp(z - np.max(z))\n"
        "    return e / np.sum(e)\n"),
        r"normalises over the whole array"),
    Mistake("softmax", "keepdims forgotten", _softmax(
        "    e = np.exp(z - np.max(z, axis=axis))\n"
        "    return e / np.sum(e, axis=axis)\n"),
        r"softmax raised ValueError.*keepdims=True"),
    Mistake("softmax", "keepdims forgotten on the sum only", _softmax(
        "    e = np.exp(z - np.max(z, axis=axis, keepdims=True))\n"
        "    return e / np.sum(e, axis=axis)\n"),
        r"keepdims"),
    Mistake("softmax", "not normalised", _softmax(
        "    return np.exp(z - np.max(z, axis=axis, keepdims=True))\n"),
        r"without dividing by the sum"),
    Mistake("softmax", "log-probabilities returned", _softmax(
        "    s = z - np.max(z, axis=axis, keepdims=True)\n"
        "    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))\n"),
        r"returns log-probabilities"),
    Mistake("softmax", "calls rnnkit", _softmax(
        "    return rnnkit.softmax(z, axis=axis)\n"),
        r"calls rnnkit\.softmax"),

    # ---------------------------------------------------------------- rnn_step_forward
    Mistake("rnn_step_forward", "bias missing", _step(
        "    h_next = np.tanh(x @ Wx + h_prev @ Wh)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"with x and h_prev zeroed it still differs, so the bias b is the problem: the bias b seems to be missing"),
    Mistake("rnn_step_forward", "bias added after the tanh", _step(
        "    h_next = np.tanh(x @ Wx + h_prev @ Wh) + b\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"bias b is the problem: b seems to be added after the tanh"),
    Mistake("rnn_step_forward", "Wh transposed", _step(
        "    h_next = np.tanh(x @ Wx + h_prev @ Wh.T + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"recurrent term h_prev @ Wh is the problem: Wh seems to be transposed"),
    Mistake("rnn_step_forward", "Wh @ h_prev.T, transposed back", _step(
        "    h_next = np.tanh(x @ Wx + (Wh @ h_prev.T).T + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"Wh seems to be transposed"),
    Mistake("rnn_step_forward", "Wx transposed (runs when D == H)", _step(
        "    h_next = np.tanh(x @ Wx.T + h_prev @ Wh + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"check the shapes of the products: x \(N, D\) @ Wx \(D, H\)|Wx seems to be transposed"),
    Mistake("rnn_step_forward", "h_prev ignored", _step(
        "    h_next = np.tanh(x @ Wx + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"h_prev seems to be ignored"),
    Mistake("rnn_step_forward", "sigmoid instead of tanh", _step(
        "    h_next = rnnkit.sigmoid(x @ Wx + h_prev @ Wh + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"applies the sigmoid where the vanilla RNN applies tanh"),
    Mistake("rnn_step_forward", "sigma(...) tanh(...) product", _step(
        "    a = x @ Wx + h_prev @ Wh + b\n"
        "    h_next = sigmoid(a) * np.tanh(a)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"multiplies sigmoid\(a\) by tanh\(a\).*one\s+activation"),
    Mistake("rnn_step_forward", "no activation", _step(
        "    h_next = x @ Wx + h_prev @ Wh + b\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"no activation is applied"),
    Mistake("rnn_step_forward", "ReLU instead of tanh", _step(
        "    h_next = np.maximum(x @ Wx + h_prev @ Wh + b, 0)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"applies ReLU where this RNN applies tanh"),
    Mistake("rnn_step_forward", "weights swapped (runs when D == H)", _step(
        "    h_next = np.tanh(x @ Wh + h_prev @ Wx + b)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"rnn_step_forward raised ValueError.*check the shapes|x is multiplied by Wh"),
    Mistake("rnn_step_forward", "only h_next returned", _step(
        "    return np.tanh(x @ Wx + h_prev @ Wh + b)\n"),
        r"should return a tuple \(h_next, cache\)"),
    Mistake("rnn_step_forward", "calls rnnkit", _step(
        "    return rnnkit.rnn_step_forward(x, h_prev, Wx, Wh, b)\n"),
        r"calls rnnkit\.rnn_step_forward"),
    Mistake("rnn_step_forward", "float32 computed in float64", _step(
        "    a = x.astype(np.float64) @ Wx + h_prev @ Wh + b\n"
        "    h_next = np.tanh(a)\n"
        "    return h_next, (x, h_prev, Wx, Wh, h_next)\n"),
        r"h_next has dtype float64 for float32 inputs"),

    # ---------------------------------------------------------------- rnn_forward
    Mistake("rnn_forward", "state not carried: h0 at every step", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    caches = []\n"
        "    for t in range(T):\n"
        "        h[:, t], cache = rnn_step_forward(x[:, t], h0, Wx, Wh, b)\n"
        "        caches.append(cache)\n"
        "    return h, caches\n"),
        r"every step starts from h0: the state is not carried"),
    Mistake("rnn_forward", "state reset to zeros at every step", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    for t in range(T):\n"
        "        h[:, t], _ = rnn_step_forward(x[:, t], np.zeros_like(h0), Wx, Wh, b)\n"
        "    return h, None\n"),
        r"every step starts from zeros"),
    Mistake("rnn_forward", "h0 ignored", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = np.zeros_like(h0)\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"h0 is ignored"),
    Mistake("rnn_forward", "only the last state returned", _forward(
        "    h_prev = h0\n"
        "    for t in range(x.shape[1]):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "    return h_prev, None\n"),
        r"\(N, H\): rnn_forward returns every hidden state"),
    Mistake("rnn_forward", "time-major output", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((T, N, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[t] = h_prev\n"
        "    return h, None\n"),
        r"it is time-major"),
    Mistake("rnn_forward", "states stored one step late", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h[:, t] = h_prev\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "    return h, None\n"),
        r"holds the state before step t"),
    Mistake("rnn_forward", "loops over the batch axis as if it were time", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnn_step_forward(x[t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"step t's input is x\[:, t, :\]"),
    Mistake("rnn_forward", "last step skipped", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T - 1):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"steps 0 to \d+ are right and step \d+ is not"),
    Mistake("rnn_forward", "float64 states for float32 input", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.zeros((N, T, h0.shape[1]))\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"h has dtype float64 for float32 inputs"),
    Mistake("rnn_forward", "calls rnnkit", _forward(
        "    return rnnkit.rnn_forward(x, h0, Wx, Wh, b)\n"),
        r"calls rnnkit\.rnn_forward"),
    Mistake("rnn_forward", "steps with rnnkit's step", _forward(
        "    N, T, _ = x.shape\n"
        "    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)\n"
        "    h_prev = h0\n"
        "    for t in range(T):\n"
        "        h_prev, _ = rnnkit.rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)\n"
        "        h[:, t] = h_prev\n"
        "    return h, None\n"),
        r"calls rnnkit\.rnn_step_forward"),
]
