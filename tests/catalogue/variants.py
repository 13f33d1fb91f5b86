"""Wrong answers to the exercises of 06-variants."""
from catalogue import Answer, Mistake

NOTEBOOK = "06-variants"

BI = "bidirectional_rnn_forward"
STACK = "stacked_rnn_forward"
ATT = "dot_attention"


def _bi(forward="rnnkit.rnn_forward(x, h0_f, params_f['Wx'], params_f['Wh'], params_f['b'])[0]",
        backward_input="x[:, ::-1]", h0_b="h0_b", params_b="params_b", flip="h_b[:, ::-1]",
        result="np.concatenate([h_f, {flip}], axis=-1)"):
    result = result.format(flip=flip)
    return f"""
def bidirectional_rnn_forward(x, h0_f, h0_b, params_f, params_b):
    h_f = {forward}
    p = {params_b}
    h_b = rnnkit.rnn_forward({backward_input}, {h0_b}, p["Wx"], p["Wh"], p["b"])[0]
    return {result}
"""


def _stack(body):
    return f"""
def stacked_rnn_forward(x, layers):
{body}
"""


STACK_LOOP = """    h = x
    h0 = None
    for p in {layers}:
        start = np.zeros((x.shape[0], p["Wh"].shape[0]), dtype={dtype}) if h0 is None else h0
        h, _ = rnnkit.rnn_forward({inp}, start, p["Wx"], p["Wh"], p["b"])
        {after}
    return {ret}"""


def _loop(layers="layers", dtype="x.dtype", inp="h", after="pass", ret="h"):
    return _stack(STACK_LOOP.format(layers=layers, dtype=dtype, inp=inp, after=after, ret=ret))


def _att(scores="np.einsum('nsh,nh->ns', keys, query)",
         mask="scores = np.where(mask, scores, -np.inf)",
         shift="scores = scores - scores.max(axis=1, keepdims=True)",
         weights="e / e.sum(axis=1, keepdims=True)", after="",
         context="np.einsum('ns,nsh->nh', weights, keys)"):
    return f"""
def dot_attention(query, keys, mask=None):
    scores = {scores}
    if mask is not None:
        {mask}
    {shift}
    e = np.exp(scores)
    weights = {weights}
    {after}
    context = {context}
    return context, weights
"""


CATALOGUE = [
    # bidirectional_rnn_forward
    Mistake(BI, "backward states not flipped back", _bi(flip="h_b"), r"reversed time order",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "backward direction reads forwards", _bi(backward_input="x", flip="h_b"),
            r"backward half h\[\.\.\., H:\] at time step \d, after it",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "output flipped but input not reversed", _bi(backward_input="x"),
            r"backward half h\[\.\.\., H:\] at time step \d, after it",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "halves swapped", _bi(result="np.concatenate([{flip}, h_f], axis=-1)"),
            r"forward half h\[\.\.\., :H\] at time step \d, before it",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "backward direction uses the forward parameters", _bi(params_b="params_f"), r"uses params_f",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "initial states swapped",
            _bi(forward="rnnkit.rnn_forward(x, h0_b, params_f['Wx'], params_f['Wh'], params_f['b'])[0]",
                h0_b="h0_f"), r"initial states are swapped",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "concatenated along time", _bi(result="np.concatenate([h_f, {flip}], axis=1)"),
            r"h has shape \(2, 10, 4\), expected \(2, 5, 8\)",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "directions added", _bi(result="h_f + {flip}"), r"h has shape \(2, 5, 4\), expected \(2, 5, 8\)",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "batch reversed instead of time", _bi(backward_input="x[::-1]", flip="h_b[::-1]"),
            r"reads x forwards in time.*x\[::-1\] reverses the batch rows, axis 0, not time",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "batch reversed in the input only", _bi(backward_input="x[::-1]"),
            r"changing x in batch row 0 only changed .* of batch row 1.*x\[:, ::-1\]",
            fails=("bidirectional_rnn_forward_tests",)),
    Mistake(BI, "float64 output for float32 input",
            _bi(result="np.concatenate([h_f, {flip}], axis=-1).astype(np.float64)"),
            r"with float32 inputs bidirectional_rnn_forward returned h of dtype float64",
            fails=("bidirectional_rnn_forward_tests_2",)),
    Mistake(BI, "calls rnnkit's bidirectional layer", """
def bidirectional_rnn_forward(x, h0_f, h0_b, params_f, params_b):
    return rnnkit.variants.bidirectional_forward(x, params_f, params_b, "rnn", h0=(h0_f, h0_b))[0]
""", r"calls rnnkit\.variants\.bidirectional_forward",
            fails=("bidirectional_rnn_forward_tests", "bidirectional_rnn_forward_tests_3")),

    # stacked_rnn_forward
    Mistake(STACK, "returns the first layer", _loop(after="break"), r"first layer's output",
            fails=("stacked_rnn_forward_tests",)),
    Mistake(STACK, "state carried from layer to layer", _loop(after="h0 = h[:, -1]"),
            r"starts from the final state of layer l",
            fails=("stacked_rnn_forward_tests",)),
    Mistake(STACK, "every layer reads x", _loop(inp="x"), r"every layer reads x",
            fails=("stacked_rnn_forward_tests", "stacked_rnn_forward_tests_3")),
    Mistake(STACK, "layers in reverse order", _loop(layers="layers[::-1]"), r"reverse order",
            fails=("stacked_rnn_forward_tests", "stacked_rnn_forward_tests_3")),
    Mistake(STACK, "tanh again between layers", _loop(after="h = np.tanh(h)", ret="np.arctanh(h)"),
            r"tanh is applied again between the layers",
            fails=("stacked_rnn_forward_tests",)),
    Mistake(STACK, "tanh again on the output", _loop(ret="np.tanh(h)"), r"tanh is applied again to the output",
            fails=("stacked_rnn_forward_tests",)),
    Mistake(STACK, "last layer skipped", _loop(layers="layers[:-1]"), r"last layer is missing",
            fails=("stacked_rnn_forward_tests",)),
    Mistake(STACK, "first layer's weights everywhere", _loop(layers="[layers[0]] * len(layers)"),
            r"first layer's weights",
            fails=("stacked_rnn_forward_tests", "stacked_rnn_forward_tests_3")),
    Mistake(STACK, "returns every layer", _stack("""    outs, h = [], x
    for p in layers:
        h = rnnkit.rnn_forward(h, np.zeros((x.shape[0], p["Wh"].shape[0]), dtype=x.dtype),
                               p["Wx"], p["Wh"], p["b"])[0]
        outs.append(h)
    return outs"""), r"it is list|returned a list",
            fails=("stacked_rnn_forward_tests", "stacked_rnn_forward_tests_2")),
    Mistake(STACK, "float64 initial state", _loop(dtype="float"), r"h0: dtype float64 does not match",
            fails=("stacked_rnn_forward_tests_2",)),
    Mistake(STACK, "calls rnnkit's stack", _stack('    return rnnkit.variants.stacked_forward(x, layers, "rnn")[0]'),
            r"calls rnnkit\.variants\.stacked_forward",
            fails=("stacked_rnn_forward_tests", "stacked_rnn_forward_tests_3")),

    # dot_attention
    Mistake(ATT, "raw scores as weights", _att(shift="pass", weights="scores"), r"raw scores",
            fails=("dot_attention_tests",)),
    Mistake(ATT, "softmax over the batch", _att(shift="scores = scores - scores.max(axis=0, keepdims=True)",
                                                weights="e / e.sum(axis=0, keepdims=True)"),
            r"right axis|over the batch",
            fails=("dot_attention_tests",)),
    Mistake(ATT, "no shift before exp", _att(shift="pass"),
            r"scores in the thousands.*subtract each row's largest score before exp", fails=("dot_attention_tests_3",)),
    Mistake(ATT, "max taken over the masked scores too",
            _att(mask="pass", shift="scores = scores - scores.max(axis=1, keepdims=True)",
                 after="weights = weights if mask is None else (e * mask) / (e * mask).sum(axis=1, keepdims=True)"),
            r"maximum subtracted before exp must be taken over the unmasked scores", fails=("dot_attention_tests_3",)),
    Mistake(ATT, "scaled by sqrt(H)", _att(scores="np.einsum('nsh,nh->ns', keys, query) / np.sqrt(query.shape[1])"),
            r"divided by sqrt\(H\)",
            fails=("dot_attention_tests", "dot_attention_tests_2")),
    Mistake(ATT, "mask ignored", _att(mask="pass"), r"mask is ignored",
            fails=("dot_attention_tests",)),
    Mistake(ATT, "mask applied after softmax", _att(mask="pass", after="weights = weights if mask is None else weights * mask"),
            r"zeroed after softmax",
            fails=("dot_attention_tests",)),
    Mistake(ATT, "context from the scores", _att(context="np.einsum('ns,nsh->nh', np.einsum('nsh,nh->ns', keys, query), keys)"),
            r"built from the scores",
            fails=("dot_attention_tests",)),
    Mistake(ATT, "context ignores the weights", _att(context="keys.mean(axis=1)"), r"plain mean of the keys",
            fails=("dot_attention_tests",)),
    Mistake(ATT, "float64 weights for float32 input", _att(weights="(e / e.sum(axis=1, keepdims=True)).astype(float)"),
            r"with float32 inputs dot_attention returned (context|weights) of dtype float64",
            fails=("dot_attention_tests_2",)),
    Mistake(ATT, "calls rnnkit's attention", """
def dot_attention(query, keys, mask=None):
    context, weights, _ = rnnkit.variants.dot_attention_forward(query, keys, mask)
    return context, weights
""", r"calls rnnkit\.variants\.dot_attention_forward",
            fails=("dot_attention_tests", "dot_attention_tests_3")),
    # requirements of their own
    Mistake(STACK, "layers popped from the list", _stack("""    layers = layers
    h = x
    while layers:
        p = layers.pop(0)
        h, _ = rnnkit.rnn_forward(h, np.zeros((x.shape[0], p["Wh"].shape[0]), dtype=x.dtype), p["Wx"], p["Wh"], p["b"])
    return h"""), r"changed its argument layers in place \(layers changed length", fails=("stacked_rnn_forward_tests_3",)),
    Mistake(STACK, "states kept in the layer dicts", _stack("""    h = x
    for p in layers:
        p["h"], _ = rnnkit.rnn_forward(h, np.zeros((x.shape[0], p["Wh"].shape[0]), dtype=x.dtype), p["Wx"], p["Wh"], p["b"])
        h = p["h"]
    return h"""), r"changed its argument layers in place \(the keys of layers\[0\] changed",
            fails=("stacked_rnn_forward_tests_3",)),
    Mistake(ATT, "scores shifted in the caller's keys", """
def dot_attention(query, keys, mask=None):
    keys -= 0.0
    scores = np.einsum('nsh,nh->ns', keys, query)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    weights = e / e.sum(axis=1, keepdims=True)
    keys *= 2.0
    context = np.einsum('ns,nsh->nh', weights, keys) / 2.0
    return context, weights
""", r"changed its argument keys in place", fails=("dot_attention_tests_3",)),
]


# ---------------------------------------------------------------------------------------
# Answers written the way students write them.

ANSWERS = [
    # ------------------------------------------------------------ bidirectional_rnn_forward
    Answer(BI, "np.flip along time, dict items unpacked by name", """
def bidirectional_rnn_forward(x, h0_f, h0_b, params_f, params_b):
    Wx, Wh, b = params_f["Wx"], params_f["Wh"], params_f["b"]
    forward_states, _ = rnnkit.rnn_forward(x, h0_f, Wx, Wh, b)
    x_rev = np.flip(x, axis=1)
    backward_states, _ = rnnkit.rnn_forward(x_rev, h0_b, params_b["Wx"], params_b["Wh"], params_b["b"])
    return np.concatenate((forward_states, np.flip(backward_states, axis=1)), axis=2)
"""),
    Answer(BI, "its own loop over range(T) for each direction", """
def bidirectional_rnn_forward(x, h0_f, h0_b, params_f, params_b):
    N, T, D = x.shape
    H = h0_f.shape[1]
    out = np.zeros((N, T, 2 * H), dtype=x.dtype)
    h = h0_f
    for t in range(T):
        h = np.tanh(x[:, t] @ params_f["Wx"] + h @ params_f["Wh"] + params_f["b"])
        out[:, t, :H] = h
    h = h0_b
    for t in range(T - 1, -1, -1):
        h = np.tanh(x[:, t] @ params_b["Wx"] + h @ params_b["Wh"] + params_b["b"])
        out[:, t, H:] = h
    return out
"""),
    Answer(BI, "output array made with np.zeros((N, T, 2H))", """
def bidirectional_rnn_forward(x, h0_f, h0_b, params_f, params_b):
    N, T, _ = x.shape
    H = h0_f.shape[1]
    h = np.zeros((N, T, 2 * H))
    h[:, :, :H] = rnnkit.rnn_forward(x, h0_f, params_f["Wx"], params_f["Wh"], params_f["b"])[0]
    h[:, :, H:] = rnnkit.rnn_forward(x[:, ::-1], h0_b, params_b["Wx"], params_b["Wh"], params_b["b"])[0][:, ::-1]
    return h
""", fails=(f"{BI}_tests_2",), message=r"with float32 inputs bidirectional_rnn_forward returned h of dtype float64"),
    Answer(BI, "batch axis reversed instead of time", _bi(backward_input="x[::-1]", flip="h_b[::-1]"),
           correct=False, fails=(f"{BI}_tests",), message=r"x\[::-1\] reverses the batch rows, axis 0, not time"),
    # ------------------------------------------------------------ stacked_rnn_forward
    Answer(STACK, "a loop that feeds each layer's states to the next", """
def stacked_rnn_forward(x, layers):
    inp = x
    for layer in layers:
        H = layer["Wh"].shape[0]
        h0 = np.zeros((x.shape[0], H), dtype=x.dtype)
        inp, _ = rnnkit.rnn_forward(inp, h0, layer["Wx"], layer["Wh"], layer["b"])
    return inp
"""),
    Answer(STACK, "all the layers' outputs kept in a list, the last returned", """
def stacked_rnn_forward(x, layers):
    outputs = [x]
    for p in layers:
        h0 = np.zeros_like(x[:, 0, :1]) * np.zeros((1, p["Wh"].shape[0]), dtype=x.dtype)
        outputs.append(rnnkit.rnn_forward(outputs[-1], h0, p["Wx"], p["Wh"], p["b"])[0])
    return outputs[-1]
"""),
    Answer(STACK, "zero state made with np.zeros((N, H))", _loop(dtype="np.float64"),
           fails=(f"{STACK}_tests_2",), message=r"h0: dtype float64 does not match"),
    Answer(STACK, "layers consumed with pop()", """
def stacked_rnn_forward(x, layers):
    h = x
    while layers:
        p = layers.pop(0)
        h, _ = rnnkit.rnn_forward(h, np.zeros((x.shape[0], p["Wh"].shape[0]), dtype=x.dtype), p["Wx"], p["Wh"], p["b"])
    return h
""", fails=(f"{STACK}_tests_3",), message=r"changed its argument layers in place"),
    # ------------------------------------------------------------ dot_attention
    Answer(ATT, "batched matmul, the mask through np.where", """
def dot_attention(query, keys, mask=None):
    scores = (keys @ query[:, :, None])[:, :, 0]
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    w = np.exp(scores)
    w = w / np.sum(w, axis=1, keepdims=True)
    return (w[:, :, None] * keys).sum(axis=1), w
"""),
    Answer(ATT, "a loop over the batch rows", """
def dot_attention(query, keys, mask=None):
    N, S, H = keys.shape
    context = np.zeros_like(query)
    weights = np.zeros((N, S), dtype=keys.dtype)
    for n in range(N):
        s = keys[n] @ query[n]
        if mask is not None:
            s = np.where(mask[n], s, -np.inf)
        e = np.exp(s - s.max())
        weights[n] = e / e.sum()
        context[n] = weights[n] @ keys[n]
    return context, weights
"""),
    Answer(ATT, "masked scores set to -1e9 instead of -inf", _att(mask="scores = np.where(mask, scores, -1e9)")),
    Answer(ATT, "no shift before exp", _att(shift="pass"),
           fails=(f"{ATT}_tests_3",), message=r"subtract each row's largest score before exp"),
    Answer(ATT, "max over every score, masked ones included",
           _att(mask="pass", after="weights = weights if mask is None else (e * mask) / (e * mask).sum(axis=1, keepdims=True)"),
           fails=(f"{ATT}_tests_3",), message=r"maximum subtracted before exp must be taken over the unmasked scores"),
]
