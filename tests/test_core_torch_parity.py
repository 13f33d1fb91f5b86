"""RNN, LSTM and GRU against PyTorch in float64: outputs and every gradient to 1e-9.

One layer and several (rnnkit's sequence functions stacked, the hidden states of layer l
fed to layer l + 1 as its input and dx backpropagated down), and the step functions
against torch's cells. PyTorch is a test dependency only: these tests skip without it,
and the last test shows that rnnkit imports and runs when torch cannot be imported.
"""
import pkgutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import rnnkit

N, T, D, H = 3, 5, 4, 6
RTOL, ATOL = 1e-9, 1e-12

KINDS = {  # kind: (torch module, torch cell, rnnkit forward, backward, step forward, step backward)
    "rnn": ("RNN", "RNNCell", rnnkit.rnn_forward, rnnkit.rnn_backward,
            rnnkit.rnn_step_forward, rnnkit.rnn_step_backward),
    "lstm": ("LSTM", "LSTMCell", rnnkit.lstm_forward, rnnkit.lstm_backward,
             rnnkit.lstm_step_forward, rnnkit.lstm_step_backward),
    "gru": ("GRU", "GRUCell", lambda *a, **k: rnnkit.gru_forward(*a, reset_after=True, **k),
            rnnkit.gru_backward, lambda *a: rnnkit.gru_step_forward(*a, reset_after=True),
            rnnkit.gru_step_backward),
}


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def to_rnnkit(kind, weight_ih, weight_hh, bias_ih, bias_hh):
    """torch's parameters of one layer (or cell) as rnnkit's (Wx, Wh, b).

    torch's weight_ih is (G*H, D) with the gate blocks in rnnkit's order (LSTM i, f, g, o;
    GRU r, z, n), so Wx = weight_ih.T and Wh = weight_hh.T. The RNN and the LSTM only ever
    use bias_ih + bias_hh, so that sum is b; the GRU with reset_after=True applies the
    recurrent bias inside the reset, so b stacks the two, shape (2, 3H). Works on arrays
    and on gradients alike.
    """
    Wx, Wh = weight_ih.T, weight_hh.T
    b = np.stack([bias_ih, bias_hh]) if kind == "gru" else bias_ih + bias_hh
    return Wx, Wh, b


def layer_arrays(module, suffix, attr):
    """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer as arrays; attr "data" or "grad"."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [getattr(getattr(module, name + suffix), attr).numpy() for name in names]


def assert_close(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def assert_bias_grads(kind, db, bias_grads, what):
    """rnnkit's db against torch's two bias gradients."""
    g_ih, g_hh = bias_grads
    if kind == "gru":
        assert_close(db, np.stack([g_ih, g_hh]), what)
    else:  # b = bias_ih + bias_hh, so each of torch's biases gets the whole db
        assert_close(db, g_ih, what + " (bias_ih)")
        assert_close(db, g_hh, what + " (bias_hh)")


@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sequence_matches_torch(torch, kind, layers):
    module_name, _, forward, backward, _, _ = KINDS[kind]
    torch.manual_seed(layers)
    net = getattr(torch.nn, module_name)(D, H, num_layers=layers, batch_first=True).double()
    rng = np.random.default_rng(layers)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((layers, N, H))
    c0 = rng.standard_normal((layers, N, H))
    dh = rng.standard_normal((N, T, H))

    # torch
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    c0t = torch.tensor(c0, requires_grad=True)
    out, _ = net(xt, (h0t, c0t) if kind == "lstm" else h0t)
    out.backward(torch.tensor(dh))

    # rnnkit, layer by layer
    caches, inp = [], x
    for layer in range(layers):
        Wx, Wh, b = to_rnnkit(kind, *layer_arrays(net, f"_l{layer}", "data"))
        extra = {"c0": c0[layer]} if kind == "lstm" else {}
        inp, cache = forward(inp, h0[layer], Wx, Wh, b, **extra)
        caches.append(cache)
    assert_close(inp, out.detach().numpy(), "output of the top layer")

    upstream = dh
    for layer in reversed(range(layers)):
        dx, dh0, dWx, dWh, db = backward(upstream, caches[layer])
        g_ih, g_hh, gb_ih, gb_hh = layer_arrays(net, f"_l{layer}", "grad")
        assert_close(dh0, h0t.grad[layer].numpy(), f"dh0 of layer {layer}")
        assert_close(dWx, g_ih.T, f"dWx of layer {layer}")
        assert_close(dWh, g_hh.T, f"dWh of layer {layer}")
        assert_bias_grads(kind, db, (gb_ih, gb_hh), f"db of layer {layer}")
        upstream = dx
    assert_close(upstream, xt.grad.numpy(), "dx")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_steps_match_torch_cells(torch, kind):
    """The step functions run as a loop against torch's cell; this also checks dc0 of the LSTM."""
    _, cell_name, _, _, step_forward, step_backward = KINDS[kind]
    torch.manual_seed(7)
    cell = getattr(torch.nn, cell_name)(D, H).double()
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    c0 = rng.standard_normal((N, H))
    dh = rng.standard_normal((N, T, H))

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    c0t = torch.tensor(c0, requires_grad=True)
    h, c, outs = h0t, c0t, []
    for t in range(T):
        if kind == "lstm":
            h, c = cell(xt[:, t], (h, c))
        else:
            h = cell(xt[:, t], h)
        outs.append(h)
    torch.stack(outs, dim=1).backward(torch.tensor(dh))

    Wx, Wh, b = to_rnnkit(kind, *layer_arrays(cell, "", "data"))
    h, c, caches = h0, c0, []
    for t in range(T):
        if kind == "lstm":
            h, c, cache = step_forward(x[:, t], h, c, Wx, Wh, b)
        else:
            h, cache = step_forward(x[:, t], h, Wx, Wh, b)
        assert_close(h, outs[t].detach().numpy(), f"h at step {t}")
        caches.append(cache)

    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dx = np.empty_like(x)
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        if kind == "lstm":
            dx[:, t], dh_next, dc_next, gWx, gWh, gb = step_backward(dh[:, t] + dh_next, dc_next, caches[t])
        else:
            dx[:, t], dh_next, gWx, gWh, gb = step_backward(dh[:, t] + dh_next, caches[t])
        dWx += gWx
        dWh += gWh
        db += gb
    g_ih, g_hh, gb_ih, gb_hh = layer_arrays(cell, "", "grad")
    assert_close(dx, xt.grad.numpy(), "dx")
    assert_close(dh_next, h0t.grad.numpy(), "dh0")
    if kind == "lstm":
        assert_close(dc_next, c0t.grad.numpy(), "dc0")
    assert_close(dWx, g_ih.T, "dWx")
    assert_close(dWh, g_hh.T, "dWh")
    assert_bias_grads(kind, db, (gb_ih, gb_hh), "db")


def test_rnnkit_imports_and_runs_without_torch():
    """With torch made unimportable, every rnnkit module imports and an LSTM runs."""
    modules = sorted(m.name for m in pkgutil.walk_packages(rnnkit.__path__, "rnnkit."))
    script = textwrap.dedent(f"""
        import importlib, sys
        sys.modules["torch"] = None  # any "import torch" now raises ImportError
        import numpy as np
        import rnnkit
        for name in {modules!r}:
            importlib.import_module(name)
        rng = np.random.default_rng(0)
        h, cache = rnnkit.lstm_forward(rng.standard_normal((2, 3, 4)), np.zeros((2, 5)),
                                       rng.standard_normal((4, 20)), rng.standard_normal((5, 20)),
                                       np.zeros(20))
        rnnkit.lstm_backward(np.ones_like(h), cache)
        assert sys.modules["torch"] is None
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
