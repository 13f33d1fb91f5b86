"""The GRU gate explorer: its pure computations, and the widget reacting to its controls."""
import warnings

import numpy as np
import pytest

import rnnkit
from rnnkit.widgets.gru_gates import GRUGateExplorer, manual_trace, trained_trace

H, K = 3, 4


def make_params(reset_after):
    rng = np.random.default_rng(1)
    return {"Wx": rng.normal(size=(K + 1, 3 * H)), "Wh": rng.normal(size=(H, 3 * H)) / 2,
            "b": rng.normal(size=(2, 3 * H) if reset_after else 3 * H),
            "Wy": rng.normal(size=(H, K)), "by": np.zeros(K)}


def test_manual_trace_follows_the_update():
    x = np.array([1.0, -2.0, 0.0, 0.5])
    s = manual_trace(x, r=0.4, z=0.7, w_n=1.2, u=-0.8)
    h, expected = 0.0, []
    for xt in x:
        n = np.tanh(1.2 * xt - 0.8 * 0.4 * h)
        h = 0.3 * n + 0.7 * h
        expected.append(h)
    np.testing.assert_allclose(s["h"], expected)


def test_update_gate_one_keeps_the_state():
    s = manual_trace(np.array([3.0, -1.0, 2.0]), r=1.0, z=1.0, w_n=1.0, u=1.0, h0=0.4)
    np.testing.assert_allclose(s["h"], 0.4)


def test_manual_trace_rejects_a_gate_outside_0_1():
    with pytest.raises(ValueError, match="z: a gate value lies in"):
        manual_trace([1.0], 0.5, -0.1, 1.0, 1.0)


@pytest.mark.parametrize("reset_after", [False, True])
def test_trained_trace_matches_gru_forward(reset_after):
    params = make_params(reset_after)
    tokens = np.array([2, 0, 1, 3, 3, 0])
    s = trained_trace(params, tokens, K)
    x = rnnkit.tasks.encode_recall(tokens, K)
    h, _ = rnnkit.gru_forward(x, np.zeros((1, H)), params["Wx"], params["Wh"], params["b"],
                              reset_after=reset_after)
    np.testing.assert_allclose(s["h"], h[0])
    assert s["r"].shape == s["z"].shape == s["n"].shape == (6, H)
    assert ((s["z"] > 0) & (s["z"] < 1)).all()


def test_sliders_and_text_drive_the_state_and_the_picture():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = GRUGateExplorer()
        assert ex.state["mode"] == "manual" and ex.png[:4] == b"\x89PNG"
        png, h = ex.png, ex.state["h"].copy()
        ex.controls["z"].value = 0.1
        assert ex.state["z"] == 0.1 and not np.allclose(ex.state["h"], h)
        assert ex.png != png and ex.image.value == ex.png
        png, h = ex.png, ex.state["h"].copy()
        ex.controls["r"].value = 0.0
        assert not np.allclose(ex.state["h"], h) and ex.png != png
        ex.controls["x"].value = "0.5 -0.5"
        assert ex.state["x"].tolist() == [0.5, -0.5]
        ex.controls["z"].value = 1.0
        np.testing.assert_allclose(ex.state["h"], 0.0)


def test_bad_text_shows_a_message():
    ex = GRUGateExplorer()
    png = ex.png
    ex.controls["x"].value = ""
    assert "type at least one number" in ex.message.value and ex.png == png


@pytest.mark.parametrize("reset_after", [False, True])
def test_trained_mode(reset_after):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = GRUGateExplorer(make_params(reset_after), n_symbols=K, tokens=[1, 2, 3, 0, 0])
        png = ex.png
        ex.controls["mode"].value = "trained"
        assert ex.state["z"].shape == (5, H) and ex.png != png
        png = ex.png
        ex.controls["unit"].value = 1
        assert ex.state["unit"] == 1 and ex.png != png
        ex.controls["tokens"].value = "0 9"
        assert "symbols in [0, 4)" in ex.message.value


def test_the_first_mode_can_be_chosen():
    ex = GRUGateExplorer(make_params(False), n_symbols=K, tokens=[1, 2, 3], mode="trained")
    assert ex.state["mode"] == "trained" and ex.state["z"].shape == (3, H)
    with pytest.raises(ValueError, match=r"mode: expected one of \['manual'\], got 'trained'"):
        GRUGateExplorer(mode="trained")
