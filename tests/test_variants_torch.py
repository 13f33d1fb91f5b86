"""rnnkit's stacked and bidirectional layers against PyTorch's nn.RNN, nn.LSTM and nn.GRU in float64.

PyTorch stores W (G*H, D) with separate input and recurrent biases; rnnkit stores Wx (D, G*H)
and one bias (the sum) for the RNN and the LSTM, and for the GRU the pair of biases
(2, 3H), its reset-after form, which is PyTorch's. The gate orders agree (i, f, g, o and
r, z, n). Outputs and every gradient must agree to 1e-9.
"""
import numpy as np
import pytest

import rnnkit.variants as V

torch = pytest.importorskip("torch")

MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def to_rnnkit(module, cell, layer, suffix):
    """One direction of one layer of a PyTorch module as an rnnkit parameter dict."""
    get = lambda name: getattr(module, f"{name}_l{layer}{suffix}").detach().numpy().copy()
    b_ih, b_hh = get("bias_ih"), get("bias_hh")
    b = np.stack([b_ih, b_hh]) if cell == "gru" else b_ih + b_hh
    return {"Wx": get("weight_ih").T.copy(), "Wh": get("weight_hh").T.copy(), "b": b}


def torch_grads(module, cell, layer, suffix):
    get = lambda name: getattr(module, f"{name}_l{layer}{suffix}").grad.numpy()
    if cell == "gru":
        b = np.stack([get("bias_ih"), get("bias_hh")])
    else:  # the sum's gradient reaches both biases unchanged
        np.testing.assert_allclose(get("bias_ih"), get("bias_hh"), rtol=1e-12)
        b = get("bias_ih")
    return {"Wx": get("weight_ih").T, "Wh": get("weight_hh").T, "b": b}


def close(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, True), (3, False), (3, True)])
def test_matches_pytorch(cell, num_layers, bidirectional):
    torch.manual_seed(0)
    N, T, D, H = 3, 6, 4, 5
    dirs = 2 if bidirectional else 1
    module = getattr(torch.nn, MODULES[cell])(D, H, num_layers=num_layers, bidirectional=bidirectional,
                                              batch_first=True).double()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((num_layers * dirs, N, H))
    dout = rng.standard_normal((N, T, dirs * H))

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    if cell == "lstm":
        out_t, _ = module(xt, (h0t, torch.zeros(num_layers * dirs, N, H, dtype=torch.float64)))
    else:
        out_t, _ = module(xt, h0t)
    (out_t * torch.tensor(dout)).sum().backward()

    suffixes = ["", "_reverse"] if bidirectional else [""]
    layers, starts = [], []
    for l in range(num_layers):
        ps = [to_rnnkit(module, cell, l, s) for s in suffixes]
        hs = [h0[l * dirs + k] for k in range(dirs)]
        layers.append(tuple(ps) if bidirectional else ps[0])
        starts.append(tuple(hs) if bidirectional else hs[0])
    out, cache = V.stacked_forward(x, layers, cell, bidirectional, h0=starts)
    close(out, out_t.detach().numpy(), "output")

    dx, dh0, grads = V.stacked_backward(dout, cache)
    close(dx, xt.grad.numpy(), "dx")
    for l in range(num_layers):
        for k, s in enumerate(suffixes):
            ours = grads[l][k] if bidirectional else grads[l]
            theirs = torch_grads(module, cell, l, s)
            for name in ("Wx", "Wh", "b"):
                close(ours[name], theirs[name], f"layer {l}{s} d{name}")
            ours_h0 = dh0[l][k] if bidirectional else dh0[l]
            close(ours_h0, h0t.grad.numpy()[l * dirs + k], f"layer {l}{s} dh0")


def test_fused_gru_is_pytorchs_cudnn_form():
    """The reset-after GRU of rnnkit is the model cuDNN runs; the reset-before form is another one."""
    torch.manual_seed(1)
    module = torch.nn.GRU(3, 4, batch_first=True).double()
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    theirs = module(torch.tensor(x))[0].detach().numpy()
    p = to_rnnkit(module, "gru", 0, "")
    ours, _ = V.stacked_forward(x, [p], "gru")
    close(ours, theirs, "reset-after GRU")
    before = dict(p, b=p["b"].sum(axis=0))
    other, _ = V.stacked_forward(x, [before], "gru")
    assert np.abs(other - theirs).max() > 1e-3
