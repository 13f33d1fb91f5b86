"""Bad input to the core: every class of mistake gets a ValueError that says what is wrong.

A shape error names the argument, the shape expected (symbolic and concrete) and the
shape given; a dtype error names the dtypes; NaN is located. And sigmoid and softmax
stay silent and finite for every finite input.
"""
import re
import warnings

import numpy as np
import pytest

import rnnkit
from rnnkit import (gru_backward, gru_forward, gru_step_backward, gru_step_forward, lstm_backward,
                    lstm_forward, lstm_step_backward, lstm_step_forward, rnn_backward, rnn_forward,
                    rnn_step_backward, rnn_step_forward, sigmoid, softmax, temporal_softmax_loss)

N, T, D, H, V = 2, 3, 4, 5, 6

# name: (function, gates G, step?, extra keyword arguments)
FORWARDS = {
    "rnn_step_forward": (rnn_step_forward, 1, True, {}),
    "rnn_forward": (rnn_forward, 1, False, {}),
    "lstm_step_forward": (lstm_step_forward, 4, True, {}),
    "lstm_forward": (lstm_forward, 4, False, {}),
    "gru_step_forward": (gru_step_forward, 3, True, {}),
    "gru_step_forward(reset_after=True)": (gru_step_forward, 3, True, {"reset_after": True}),
    "gru_forward": (gru_forward, 3, False, {}),
    "gru_forward(reset_after=True)": (gru_forward, 3, False, {"reset_after": True}),
}


def valid_args(name, dtype=np.float64):
    """Valid keyword arguments of a forward, and the symbolic shape of each."""
    fn, G, step, extra = FORWARDS[name]
    rng = np.random.default_rng(0)
    h = "h_prev" if step else "h0"
    specs = {"x": ("N", "D") if step else ("N", "T", "D"), h: ("N", "H")}
    if fn in (lstm_step_forward, lstm_forward):
        specs["c_prev" if step else "c0"] = ("N", "H")
    gh = f"{G}H" if G > 1 else "H"
    specs.update({"Wx": ("D", gh), "Wh": ("H", gh),
                  "b": ("2", gh) if extra.get("reset_after") else (gh,)})
    sizes = {"N": N, "T": T, "D": D, "H": H, "2": 2, gh: G * H}
    args = {arg: rng.standard_normal([sizes[s] for s in spec]).astype(dtype) * 0.3
            for arg, spec in specs.items()}
    return fn, args, specs, extra


def raises(match, fn, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert re.search(match, str(info.value)), f"message {str(info.value)!r} does not match {match!r}"
    return str(info.value)


def fmt(shape):
    return re.escape("(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")")


CASES = [(name, arg) for name in FORWARDS for arg in valid_args(name)[1]]


@pytest.mark.parametrize("name", FORWARDS)
def test_valid_arguments_pass(name):
    fn, args, _, extra = valid_args(name)
    fn(**args, **extra)


@pytest.mark.parametrize("name, arg", CASES)
def test_wrong_number_of_dimensions(name, arg):
    fn, args, specs, extra = valid_args(name)
    given = args[arg][None]
    args[arg] = given
    k = len(specs[arg])
    symbolic = re.escape("(" + ", ".join(specs[arg]) + ")")
    raises(rf"^{arg}: expected {k} dimensions? {symbolic}.*, got shape {fmt(given.shape)}",
           fn, **args, **extra)


@pytest.mark.parametrize("name, arg", CASES)
def test_wrong_size(name, arg):
    """The last axis one too long.

    x and the hidden state are the first to show D and H, so their mistake surfaces at
    the next argument that uses the size, and the message says where the size came from.
    """
    fn, args, specs, extra = valid_args(name)
    expected = args[arg].shape
    given = expected[:-1] + (expected[-1] + 1,)
    args[arg] = np.zeros(given)
    symbolic = re.escape("(" + ", ".join(specs[arg]) + ")")
    defines = {"x": "D", "h_prev": "H", "h0": "H"}
    if arg in defines:
        raises(rf"^(Wx|Wh|c_prev|c0): expected shape \(.+\) = \(.+\), got \(.+\) "
               rf"\({defines[arg]} = {given[-1]} from {arg}\)$", fn, **args, **extra)
    else:
        raises(rf"^{arg}: expected shape {symbolic} = {fmt(expected)}, got {fmt(given)}",
               fn, **args, **extra)


@pytest.mark.parametrize("name", FORWARDS)
def test_batch_size_mismatch(name):
    fn, args, _, extra = valid_args(name)
    h = "h_prev" if "h_prev" in args else "h0"
    args[h] = np.zeros((N + 1, H))
    raises(rf"^{h}: expected shape \(N, H\) = {fmt((N, H))}, got {fmt((N + 1, H))} \(N = {N} from x\)",
           fn, **args, **extra)


@pytest.mark.parametrize("name, arg", CASES)
def test_integer_dtype(name, arg):
    fn, args, _, extra = valid_args(name)
    args[arg] = np.ones(args[arg].shape, dtype=np.int64)
    raises(rf"^{arg}: expected a float32 or float64 array, got dtype int64", fn, **args, **extra)


@pytest.mark.parametrize("name, arg", [c for c in CASES if c[1] != "x"])
def test_mixed_float32_and_float64(name, arg):
    fn, args, _, extra = valid_args(name)
    args[arg] = args[arg].astype(np.float32)
    raises(rf"^{arg}: dtype float32 does not match the dtype of x \(float64\)", fn, **args, **extra)


@pytest.mark.parametrize("name", FORWARDS)
@pytest.mark.parametrize("arg", ["x", "h", "Wx", "Wh", "b"])
def test_nan_is_located(name, arg):
    fn, args, _, extra = valid_args(name)
    if arg == "h":
        arg = "h_prev" if "h_prev" in args else "h0"
    bad = (0,) * (args[arg].ndim - 1) + (1,)
    args[arg][bad] = np.nan
    raises(rf"^{arg} contains NaN or infinity \(first at index {re.escape(str(bad))}\)",
           fn, **args, **extra)


@pytest.mark.parametrize("step", [True, False])
def test_nan_in_the_cell_state_is_located(step):
    fn, args, _, extra = valid_args("lstm_step_forward" if step else "lstm_forward")
    c = "c_prev" if step else "c0"
    args[c][1, 2] = np.nan
    raises(rf"^{c} contains NaN or infinity \(first at index \(1, 2\)\)", fn, **args, **extra)


@pytest.mark.parametrize("name", ["gru_step_forward", "gru_forward"])
def test_gru_bias_of_the_other_reset_form(name):
    fn, args, _, _ = valid_args(name)
    stacked = np.zeros((2, 3 * H))
    raises(rf"^b: expected 1 dimension \(3H\) = \({3 * H},\), got shape \(2, {3 * H}\) "
           r"\(a \(2, 3H\) bias goes with reset_after=True\)", fn, **{**args, "b": stacked})
    raises(rf"^b: expected 2 dimensions \(2, 3H\) = \(2, {3 * H}\), got shape \({3 * H},\) "
           r"\(with reset_after=True, b stacks", fn, **args, reset_after=True)
    raises(rf"^b: expected shape \(2, 3H\) = \(2, {3 * H}\), got \(3, {3 * H}\)",
           fn, **{**args, "b": np.zeros((3, 3 * H))}, reset_after=True)
    raises(r"^reset_after: expected True or False, got 'yes'", fn, **args, reset_after="yes")


# ---------------------------------------------------------------- backward: the upstream gradient

def backward_cases():
    """(label, backward, cache, {name of each upstream gradient: its shape})."""
    cases = []
    for name, backward in [("rnn_step_forward", rnn_step_backward), ("rnn_forward", rnn_backward),
                           ("lstm_step_forward", lstm_step_backward), ("lstm_forward", lstm_backward),
                           ("gru_step_forward", gru_step_backward), ("gru_forward", gru_backward),
                           ("gru_forward(reset_after=True)", gru_backward)]:
        fn, args, _, extra = valid_args(name)
        cache = fn(**args, **extra)[-1]
        step = "step" in name
        if backward is lstm_step_backward:
            grads = {"dh_next": (N, H), "dc_next": (N, H)}
        else:
            grads = {"dh_next": (N, H)} if step else {"dh": (N, T, H)}
        cases.append((backward.__name__ + ("(reset_after=True)" if extra else ""), backward, cache, grads))
    return cases


BACKWARDS = backward_cases()


@pytest.mark.parametrize("label, backward, cache, grads", BACKWARDS, ids=[c[0] for c in BACKWARDS])
def test_backward_checks_the_upstream_gradient(label, backward, cache, grads):
    good = {g: np.ones(shape) for g, shape in grads.items()}
    backward(*good.values(), cache)
    for g, shape in grads.items():
        symbolic = r"\(N, H\)" if len(shape) == 2 else r"\(N, T, H\)"
        wrong = shape[:-1] + (H + 1,)
        raises(rf"^{g}: expected shape {symbolic} = {fmt(shape)}, got {fmt(wrong)}",
               backward, *{**good, g: np.ones(wrong)}.values(), cache)
        raises(rf"^{g}: expected {len(shape)} dimensions {symbolic}",
               backward, *{**good, g: np.ones(shape[1:])}.values(), cache)
        raises(rf"^{g}: dtype float32 does not match the dtype of the forward pass \(float64\)",
               backward, *{**good, g: np.ones(shape, dtype=np.float32)}.values(), cache)


# ---------------------------------------------------------------- the loss

def loss_args():
    rng = np.random.default_rng(1)
    return rng.standard_normal((N, T, V)), rng.integers(V, size=(N, T)), rng.random((N, T)) < 0.5


def test_loss_rejects_targets_out_of_range():
    scores, y, _ = loss_args()
    for bad in (V, -1):
        y_bad = y.copy()
        y_bad[1, 2] = bad
        raises(rf"^y: class indices must lie in \[0, {V}\) since V = {V}, found {bad}",
               temporal_softmax_loss, scores, y_bad)


def test_loss_rejects_targets_that_are_not_integers():
    scores, y, _ = loss_args()
    raises(r"^y: expected an integer array of class indices, got dtype float64",
           temporal_softmax_loss, scores, y.astype(np.float64))


def test_loss_rejects_targets_of_the_wrong_shape():
    scores, y, _ = loss_args()
    raises(rf"^y: expected shape \(N, T\) = {fmt((N, T))}, got {fmt((N, T - 1))}",
           temporal_softmax_loss, scores, y[:, :-1])


def test_loss_rejects_scores_of_the_wrong_shape_or_dtype():
    scores, y, _ = loss_args()
    raises(r"^scores: expected 3 dimensions \(N, T, V\), got shape", temporal_softmax_loss, scores[0], y)
    raises(r"^scores: expected a float32 or float64 array, got dtype int64",
           temporal_softmax_loss, scores.astype(np.int64), y)


def test_loss_rejects_nan_scores():
    scores, y, _ = loss_args()
    scores[1, 0, 3] = np.nan
    raises(r"^scores contains NaN or infinity \(first at index \(1, 0, 3\)\)", temporal_softmax_loss, scores, y)


def test_loss_rejects_a_bad_mask():
    scores, y, mask = loss_args()
    raises(rf"^mask: expected shape \(N, T\) = {fmt((N, T))}, got {fmt((N, T + 1))}",
           temporal_softmax_loss, scores, y, np.ones((N, T + 1), dtype=bool))
    raises(r"^mask: expected a bool array, got dtype int64",
           temporal_softmax_loss, scores, y, mask.astype(np.int64))
    raises(r"^mask: selects no position", temporal_softmax_loss, scores, y, np.zeros((N, T), dtype=bool))


# ---------------------------------------------------------------- activations at the extremes

EXTREMES = [1e4, 1e38, "max"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("magnitude", EXTREMES)
def test_sigmoid_and_softmax_are_silent_and_finite_at_the_extremes(dtype, magnitude):
    big = np.finfo(dtype).max if magnitude == "max" else dtype(magnitude)
    z = np.array([[big, -big, 0.0, 1.0], [-big, -big, -big, -big], [big, big, -big, 0.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s = sigmoid(z)
        p = softmax(z)
        p0 = softmax(z, axis=0)
    for out in (s, p, p0):
        assert out.dtype == dtype and np.isfinite(out).all()
    np.testing.assert_array_equal(s[0], np.array([1.0, 0.0, 0.5, 1 / (1 + np.exp(-1.0))], dtype=dtype))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p0.sum(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(p[0], np.array([1.0, 0.0, 0.0, 0.0], dtype=dtype))
    np.testing.assert_allclose(p[1], 0.25)  # all equal, however large
    np.testing.assert_allclose(p[2], [0.5, 0.5, 0.0, 0.0])


def test_sigmoid_and_softmax_are_exact_away_from_the_extremes():
    z = np.linspace(-30, 30, 61)
    with np.errstate(all="raise"):
        np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
        np.testing.assert_allclose(softmax(z[None]), np.exp(z - 30)[None] / np.exp(z - 30).sum(),
                                   rtol=1e-14)


def test_recurrent_layers_are_silent_for_large_pre_activations():
    """The fused gates of lstm_forward overflow exp on purpose; no flag may escape."""
    for name in ("lstm_forward", "gru_forward", "rnn_forward"):
        fn, args, _, extra = valid_args(name, dtype=np.float32)
        args["Wx"] *= 1e4
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            h, _ = fn(**args, **extra)
        assert np.isfinite(h).all() and np.abs(h).max() <= 1.0


def test_public_names():
    """The contract's functional API is importable from rnnkit directly."""
    for name in ["sigmoid", "softmax", "rnn_step_forward", "rnn_step_backward", "rnn_forward",
                 "rnn_backward", "lstm_step_forward", "lstm_step_backward", "lstm_forward",
                 "lstm_backward", "gru_step_forward", "gru_step_backward", "gru_forward",
                 "gru_backward", "temporal_softmax_loss", "numerical_gradient", "rel_error",
                 "clip_grad_norm"]:
        assert callable(getattr(rnnkit, name)), name
