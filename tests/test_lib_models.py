"""rnnkit.models: layer and model gradients, overfitting, sampling, state carrying, saving, train_step."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit import global_norm, log_softmax, numerical_gradient
from rnnkit.models import (Affine, CharRNN, Embedding, Forecaster, LastStep, Recurrent, Sequential,
                           SequenceClassifier, TemporalAffine, load_model, restore_optimizer, train_step)
from rnnkit.optim import SGD, Adagrad, Adam, RMSProp

TEXT = "hello world, hello rnn. " * 4
CHARS = sorted(set(TEXT))
IDS = np.array([CHARS.index(c) for c in TEXT])
V = len(CHARS)


# A model's loss is a mean of terms of size about log V, so each evaluation is exact
# only to about eps * |L|, and the centred difference with h = 1e-5 to about
# eps * |L| / h: measured 3e-11 to 5e-11 on these models (h = 1e-6 gives 3e-10,
# the signature of rounding, not of a wrong gradient). Entries of the gradient below
# about 1e-3 therefore cannot be checked to a relative 1e-7 with rel_error's floor of
# 1e-8. The checks here use |a - n| / max(FLOOR, |a| + |n|) < 1e-7: relative 1e-7 for
# entries above FLOOR, absolute 1e-9 (twenty times the noise) for the small ones. A wrong
# backward is off by the size of the gradient itself (1e-6 to 1e-1 here), far above
# either bound: scaling one dWh by 1.001 gives an error of 2e-4.
FLOOR = 1e-2


def grad_error(analytic, numeric):
    return float(np.max(np.abs(analytic - numeric) / np.maximum(FLOOR, np.abs(analytic) + np.abs(numeric))))


def model_grad_errors(model, batch):
    """{parameter name: grad_error} of model.loss's analytic gradient against centred differences."""
    _, grads = model.loss(*batch)
    grads = {k: g.copy() for k, g in grads.items()}
    assert set(grads) == set(model.params)
    errors = {}
    for name, p in model.params.items():
        errors[name] = grad_error(grads[name], numerical_gradient(lambda _: model.loss(*batch)[0], p, 1.0))
    return errors


def layer_grad_errors(layer, x, rng):
    """Gradient check of a layer's input (if float) and parameters for a random upstream gradient."""
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    f = lambda _: layer.forward(x)  # noqa: E731
    errors = {k: grad_error(grads[k], numerical_gradient(f, p, dout)) for k, p in layer.params.items()}
    if dx is not None:
        errors["x"] = grad_error(dx, numerical_gradient(f, x, dout))
    return errors


# ---------------------------------------------------------------- layer gradients (float64)

@pytest.mark.parametrize("kind, reset_after", [("rnn", False), ("lstm", False), ("gru", False), ("gru", True)])
def test_recurrent_layer_gradients(kind, reset_after):
    rng = np.random.default_rng(0)
    layer = Recurrent(kind, 3, 4, reset_after=reset_after, rng=rng)
    errors = layer_grad_errors(layer, rng.standard_normal((2, 5, 3)), rng)
    assert set(errors) == {"Wx", "Wh", "b", "x"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_recurrent_layer_gradient_of_the_initial_state(kind):
    rng = np.random.default_rng(20)
    layer = Recurrent(kind, 3, 4, rng=rng)
    x = rng.standard_normal((2, 3, 3))
    state = tuple(rng.standard_normal((2, 4)) for _ in layer.initial_state(2))
    dh = rng.standard_normal((2, 3, 4))
    layer.forward(x, state=state)
    layer.backward(dh)
    numeric = numerical_gradient(lambda h0: layer.forward(x, state=(h0,) + state[1:]), state[0], dh)
    assert grad_error(layer.dstate0, numeric) < 1e-7


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(["rnn", "lstm", "gru", "gru-after"]), N=st.integers(1, 3), T=st.integers(1, 4),
       D=st.integers(1, 4), H=st.integers(1, 4), dtype=st.sampled_from([np.float32, np.float64]))
def test_recurrent_layer_shapes_dtypes_and_steps(kind, N, T, D, H, dtype):
    layer = Recurrent(kind.split("-")[0], D, H, reset_after=kind == "gru-after", rng=0, dtype=dtype)
    x = np.random.default_rng(1).standard_normal((N, T, D)).astype(dtype)
    h = layer.forward(x)
    assert h.shape == (N, T, H) and h.dtype == dtype
    dx = layer.backward(np.ones_like(h))
    assert dx.shape == x.shape and dx.dtype == dtype
    assert all(layer.grads[k].shape == p.shape and layer.grads[k].dtype == dtype for k, p in layer.params.items())
    state = layer.initial_state(N)  # the step functions walk the same path as the sequence
    for t in range(T):
        ht, state = layer.step(x[:, t], state)
        np.testing.assert_allclose(ht, h[:, t], rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    for final, carried in zip(state, layer.state):
        np.testing.assert_allclose(final, carried, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_sequential_gradients_through_every_layer_kind():
    rng = np.random.default_rng(1)
    net = Sequential(("rnn", Recurrent("lstm", 3, 4, rng=rng)), ("proj", TemporalAffine(4, 5, rng=rng)),
                     ("last", LastStep()), ("head", Affine(5, 2, rng=rng)))
    errors = layer_grad_errors(net, rng.standard_normal((3, 4, 3)), rng)
    assert set(errors) == {"rnn.Wx", "rnn.Wh", "rnn.b", "proj.W", "proj.b", "head.W", "head.b", "x"}
    assert max(errors.values()) < 1e-7, errors


def test_embedding_layer_gradient_and_auto_names():
    rng = np.random.default_rng(2)
    net = Sequential(Embedding(6, 3, rng=rng), TemporalAffine(3, 2, rng=rng))
    errors = layer_grad_errors(net, np.array([[0, 5, 5], [2, 0, 1]]), rng)
    assert set(errors) == {"0.W", "1.W", "1.b"}
    assert max(errors.values()) < 1e-7, errors


def test_last_step_reads_each_rows_length():
    h = np.arange(2 * 4 * 1, dtype=np.float64).reshape(2, 4, 1)
    last = LastStep()
    np.testing.assert_array_equal(last.forward(h, lengths=np.array([2, 4])), [[1.0], [7.0]])
    dh = last.backward(np.array([[10.0], [20.0]]))
    np.testing.assert_array_equal(dh[:, :, 0], [[0, 10, 0, 0], [0, 0, 0, 20]])


# ---------------------------------------------------------------- models end to end (float64)

@pytest.mark.parametrize("kind, reset_after", [("rnn", False), ("lstm", False), ("gru", True)])
def test_charrnn_gradients(kind, reset_after):
    rng = np.random.default_rng(3)
    model = CharRNN(5, 4, D=3, kind=kind, num_layers=2, reset_after=reset_after, rng=rng)
    x, y = rng.integers(0, 5, size=(2, 4)), rng.integers(0, 5, size=(2, 4))
    mask = np.array([[True, True, True, False], [True, True, True, True]])
    errors = model_grad_errors(model, (x, y, mask))
    assert len(errors) == 1 + 2 * 3 + 2
    assert max(errors.values()) < 1e-7, errors


def test_sequence_classifier_gradients_with_lengths_and_embedding():
    rng = np.random.default_rng(4)
    model = SequenceClassifier(3, 4, 3, kind="gru", num_layers=2, vocab_size=6, rng=rng)
    x, y, lengths = rng.integers(0, 6, size=(3, 5)), np.array([0, 2, 1]), np.array([5, 2, 3])
    errors = model_grad_errors(model, (x, y, lengths))
    assert set(errors) == {"embed.W", "rnn0.Wx", "rnn0.Wh", "rnn0.b", "rnn1.Wx", "rnn1.Wh", "rnn1.b",
                           "head.W", "head.b"}
    assert max(errors.values()) < 1e-7, errors
    # padding after a row's length does not change its answer
    x2 = x.copy()
    x2[1, 2:] = (x2[1, 2:] + 1) % 6
    np.testing.assert_array_equal(model.forward(x, lengths)[1], model.forward(x2, lengths)[1])


def test_forecaster_gradients():
    rng = np.random.default_rng(5)
    model = Forecaster(2, 4, horizon=3, out_dim=1, kind="lstm", rng=rng)
    x, y = rng.standard_normal((3, 6, 2)), rng.standard_normal((3, 3, 1))
    assert model.forward(x).shape == (3, 3, 1)
    errors = model_grad_errors(model, (x, y))
    assert max(errors.values()) < 1e-7, errors


# ---------------------------------------------------------------- training

@pytest.fixture(scope="module")
def trained():
    """A CharRNN fitted to TEXT, and its loss curve."""
    model = CharRNN(V, 32, D=16, kind="lstm", rng=0)
    opt = Adam(model.params, lr=1e-2)
    x, y = IDS[None, :-1], IDS[None, 1:]
    losses = [train_step(model, opt, (x, y), clip=5.0)[0] for _ in range(100)]
    return model, losses


def test_charrnn_overfits_a_tiny_string(trained):
    _, losses = trained
    assert losses[0] == pytest.approx(np.log(V), rel=0.1)  # chance level at the start
    assert losses[-1] < 0.05, f"loss after 100 Adam steps is {losses[-1]:.3f} nats per character"


def test_greedy_sampling_follows_the_argmax_of_the_sequence_forward(trained):
    model, _ = trained
    seed = IDS[:3]
    ids = model.sample(seed, 30, temperature=0)
    scores = model.forward(np.concatenate([seed, ids])[None, :-1])[0, len(seed) - 1:]
    np.testing.assert_array_equal(ids, scores.argmax(axis=1))
    np.testing.assert_array_equal(ids, model.sample(seed, 30, temperature=1e-9, rng=0))
    assert "".join(CHARS[i] for i in ids[:14]) == TEXT[3:17]  # it learned the text


@pytest.mark.parametrize("kind, reset_after", [("rnn", False), ("gru", False), ("gru", True)])
def test_step_sampling_agrees_with_sequence_forward_for_every_kind(kind, reset_after):
    model = CharRNN(7, 5, D=3, kind=kind, num_layers=2, reset_after=reset_after, rng=6)
    seed = np.array([1, 4])
    ids = model.sample(seed, 12, temperature=0)
    scores = model.forward(np.concatenate([seed, ids])[None, :-1])[0, 1:]
    np.testing.assert_array_equal(ids, scores.argmax(axis=1))


def test_higher_temperature_gives_more_surprising_text(trained):
    # The model's own cross-entropy of what it generated, in bits per character: near 0 when
    # the sample follows the model's best guesses, higher as the temperature flattens them.
    model, _ = trained

    def bits_per_char(ids):
        seq = np.concatenate([IDS[:1], ids])
        logp = log_softmax(model.forward(seq[None, :-1])[0])
        return float(-logp[np.arange(len(ids)), ids].mean() / np.log(2))

    bits = [bits_per_char(model.sample(IDS[:1], 1500, temperature=t, rng=7)) for t in (0.5, 1.0, 2.0)]
    assert bits[0] < bits[1] < bits[2], bits
    assert bits[0] < 0.05 and bits[2] > 1.0, bits


def test_stateful_windows_continue_the_sequence(tmp_path):
    model = CharRNN(V, 6, kind="lstm", num_layers=2, rng=8)
    full = model.forward(IDS[None, :20])
    model.stateful = True
    parts = [model.forward(IDS[None, :8]), model.forward(IDS[None, 8:20])]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=r"x: a stateful layer carries a state of batch size 1, but x has N = 2"):
        model.forward(np.zeros((2, 3), dtype=int))
    model.reset_state()
    np.testing.assert_allclose(model.forward(IDS[None, :8]), full[:, :8], rtol=1e-12, atol=1e-14)
    model.save(tmp_path / "stateful.npz")
    loaded = load_model(tmp_path / "stateful.npz")
    assert loaded.stateful and all(layer.stateful for layer in loaded.recurrent_layers)


def test_train_step_returns_the_norm_before_clipping():
    model = CharRNN(V, 8, rng=9)
    batch = (IDS[None, :-1], IDS[None, 1:])
    _, grads = model.loss(*batch)
    expected = {k: g.copy() for k, g in grads.items()}
    norm = global_norm(expected)
    before = {k: p.copy() for k, p in model.params.items()}
    loss, returned = train_step(model, SGD(model.params, lr=0.5), batch, clip=norm / 4)
    assert returned == pytest.approx(norm, rel=1e-12)
    for k, p in model.params.items():  # the step used the clipped gradients
        np.testing.assert_allclose(before[k] - p, 0.5 * expected[k] / 4, rtol=1e-10, atol=1e-15)
    norm = global_norm(model.loss(*batch)[1])
    before = {k: p.copy() for k, p in model.params.items()}
    _, unclipped = train_step(model, SGD(model.params, lr=0.5), batch)
    assert unclipped == pytest.approx(norm, rel=1e-12)
    moved = np.sqrt(sum(np.sum((before[k] - p) ** 2) for k, p in model.params.items()))
    assert moved == pytest.approx(0.5 * norm, rel=1e-10)  # without clip, the whole gradient


def test_train_step_clips_by_value():
    model = CharRNN(V, 8, rng=19)
    batch = (IDS[None, :-1], IDS[None, 1:])
    _, grads = model.loss(*batch)
    expected = {k: np.clip(g, -1e-3, 1e-3) for k, g in grads.items()}
    norm = global_norm(grads)
    before = {k: p.copy() for k, p in model.params.items()}
    _, returned = train_step(model, SGD(model.params, lr=1.0), batch, clip_value=1e-3)
    assert returned == pytest.approx(norm, rel=1e-12)
    for k, p in model.params.items():
        np.testing.assert_allclose(before[k] - p, expected[k], rtol=1e-10, atol=1e-15)
    assert any(np.abs(g).max() > 1e-3 for g in grads.values())  # the clip did bite


# ---------------------------------------------------------------- saving

@pytest.mark.parametrize("make", [
    lambda: CharRNN(V, 6, D=4, kind="gru", num_layers=2, reset_after=True, rng=10, dtype=np.float32),
    lambda: SequenceClassifier(3, 5, 4, kind="rnn", rng=11),
    lambda: Forecaster(2, 5, horizon=2, rng=12),
], ids=["charrnn", "classifier", "forecaster"])
def test_save_and_load_round_trip_exactly(tmp_path, make):
    model = make()
    path = tmp_path / "model.npz"
    model.save(path, chars=CHARS, note="test")
    loaded = load_model(path)
    assert type(loaded) is type(model) and loaded.config() == model.config()
    assert loaded.meta == {"chars": CHARS, "note": "test"}
    assert list(loaded.params) == list(model.params)
    for k, p in model.params.items():
        assert loaded.params[k].dtype == p.dtype
        np.testing.assert_array_equal(loaded.params[k], p)
    assert [f.name for f in tmp_path.iterdir()] == ["model.npz"]  # no partial file left


def test_load_params_overwrites_in_place_so_the_optimiser_follows(tmp_path):
    source, target = CharRNN(V, 6, rng=13), CharRNN(V, 6, rng=14)
    opt = Adam(target.params)
    arrays = dict(target.params)
    target.load_params(source.params)
    assert all(target.params[k] is arrays[k] for k in arrays)
    assert all(opt.params[k] is arrays[k] for k in arrays)
    np.testing.assert_array_equal(target.forward(IDS[None, :5]), source.forward(IDS[None, :5]))


@pytest.mark.parametrize("make_opt", [lambda p: Adam(p, lr=1e-2), lambda p: SGD(p, lr=0.1, momentum=0.9),
                                      lambda p: Adagrad(p, lr=0.1), lambda p: RMSProp(p, centered=True)],
                         ids=["adam", "sgd", "adagrad", "rmsprop"])
def test_a_checkpoint_continues_training_exactly(tmp_path, make_opt):
    batch = (IDS[None, :-1], IDS[None, 1:])

    def run(model, opt, steps):
        for _ in range(steps):
            if opt.steps == 2:
                opt.lr *= 0.5  # a schedule's change must survive the checkpoint too
            train_step(model, opt, batch, clip=1.0)
        return opt

    reference = CharRNN(V, 8, rng=17)
    run(reference, make_opt(reference.params), 6)

    interrupted = CharRNN(V, 8, rng=17)
    opt = run(interrupted, make_opt(interrupted.params), 3)
    interrupted.save(tmp_path / "ckpt.npz", optimizer=opt)
    resumed = load_model(tmp_path / "ckpt.npz")
    fresh = make_opt(resumed.params)
    opt = restore_optimizer(tmp_path / "ckpt.npz", fresh)
    assert opt is fresh and opt.steps == 3 and opt.lr == 0.5 * make_opt(resumed.params).lr
    run(resumed, opt, 3)
    for k, p in reference.params.items():
        np.testing.assert_array_equal(resumed.params[k], p, err_msg=k)


def test_checkpoint_errors(tmp_path):
    model = CharRNN(V, 4, rng=18)
    model.save(tmp_path / "plain.npz")
    with pytest.raises(ValueError, match=r"was saved without an optimizer"):
        restore_optimizer(tmp_path / "plain.npz", Adam(model.params))
    with pytest.raises(ValueError, match=r"optimizer: its parameters are not the model's arrays"):
        model.save(tmp_path / "bad.npz", optimizer=Adam({k: p.copy() for k, p in model.params.items()}))
    model.save(tmp_path / "adam.npz", optimizer=Adam(model.params))
    with pytest.raises(ValueError, match=r"sd: holds the state of 'Adam', not of SGD"):
        restore_optimizer(tmp_path / "adam.npz", SGD(model.params))
    with pytest.raises(ValueError, match=r"meta: every value must be JSON-serialisable"):
        model.save(tmp_path / "meta.npz", vocab=np.arange(3))


# ---------------------------------------------------------------- bad input

def test_bad_input_is_named():
    model = CharRNN(V, 6, rng=15)
    with pytest.raises(ValueError, match=rf"x: indices must lie in \[0, {V}\)"):
        model.loss(np.array([[0, V]]), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"y: expected shape \(N, T\) = \(1, 2\), got \(2,\)"):
        model.loss(np.array([[0, 1]]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"seed_ids: indices must lie"):
        model.sample([V + 3], 5)
    with pytest.raises(ValueError, match=r"seed_ids: needs at least one id"):
        model.sample(np.array([], dtype=int), 5)
    with pytest.raises(ValueError, match=r"temperature: expected a finite number >= 0"):
        model.sample([0], 5, temperature=-1.0)
    layer = Recurrent("gru", 3, 4)
    with pytest.raises(ValueError, match=r"x: expected shape \(N, T, D\) = \(2, 5, 3\), got \(2, 5, 4\)"):
        layer.forward(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match=r"x: dtype float32 does not match the layer's parameters \(float64\)"):
        layer.forward(np.zeros((2, 5, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"state: expected a tuple of 1 array \(\(h,\)\) for kind 'gru'"):
        layer.forward(np.zeros((2, 5, 3)), state=np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"lengths: each length must lie in \[1, T\] = \[1, 5\]"):
        SequenceClassifier(3, 4, 2).forward(np.zeros((2, 5, 3)), lengths=np.array([0, 5]))
    with pytest.raises(ValueError, match=r"y: expected 3 dimensions \(N, horizon, out_dim\).*got shape \(2, 3\)"):
        Forecaster(3, 4).loss(np.zeros((2, 5, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"y: expected shape \(N, horizon, out_dim\) = \(2, 1, 3\), got \(2, 2, 3\)"):
        Forecaster(3, 4).loss(np.zeros((2, 5, 3)), np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match=r"num_layers: expected a positive integer, got 0"):
        CharRNN(V, 4, num_layers=0)
    with pytest.raises(ValueError, match=r"kind: expected one of"):
        CharRNN(V, 4, kind="transformer")
    with pytest.raises(ValueError, match=r"params: names do not match the model's; missing \['out.b'\]"):
        model.load_params({k: v for k, v in model.params.items() if k != "out.b"})
    with pytest.raises(ValueError, match=r"params\['out.W'\]: expected shape \(6, 11\), got \(11, 6\)"):
        model.load_params({**model.params, "out.W": model.params["out.W"].T})
    with pytest.raises(ValueError, match=r"grads: keys must be those of params"):
        train_step(model, Adam({"w": np.zeros(2)}), (IDS[None, :4], IDS[None, 1:5]))
    with pytest.raises(RuntimeError, match=r"Affine.backward called before forward"):
        Affine(2, 3).backward(np.zeros((1, 3)))


def test_load_rejects_a_file_that_is_not_a_model(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, W=np.zeros(3))
    with pytest.raises(ValueError, match=r"is not a saved rnnkit model"):
        load_model(path)


def test_float32_model_trains_in_float32():
    model = CharRNN(V, 16, kind="gru", rng=16, dtype=np.float32)
    opt = Adam(model.params, lr=1e-2)
    batch = (IDS[None, :-1], IDS[None, 1:])
    first, _ = train_step(model, opt, batch, clip=1.0)
    for _ in range(20):
        loss, _ = train_step(model, opt, batch, clip=1.0)
    assert loss < first - 0.5
    assert {p.dtype for p in model.params.values()} == {np.dtype(np.float32)}
    assert {g.dtype for g in model.grads.values()} == {np.dtype(np.float32)}
    assert model.sample(IDS[:2], 5, rng=0).dtype == np.int64
