"""The LSTM gate explorer: its pure computations, and the widget reacting to its controls."""
import warnings

import numpy as np
import pytest

import rnnkit
from rnnkit.widgets.lstm_gates import LSTMGateExplorer, manual_trace, parse_numbers, trained_trace

H, K = 3, 4


@pytest.fixture
def params():
    rng = np.random.default_rng(0)
    return {"Wx": rng.normal(size=(K + 1, 4 * H)), "Wh": rng.normal(size=(H, 4 * H)) / 2,
            "b": rng.normal(size=4 * H), "Wy": rng.normal(size=(H, K)), "by": np.zeros(K)}


def test_manual_trace_follows_the_cell_update():
    x = np.array([1.0, -2.0, 0.0, 0.5])
    s = manual_trace(x, i=0.3, f=0.8, o=0.6, w_g=1.5)
    c, expected_c = 0.0, []
    for xt in x:
        c = 0.8 * c + 0.3 * np.tanh(1.5 * xt)
        expected_c.append(c)
    np.testing.assert_allclose(s["c"], expected_c)
    np.testing.assert_allclose(s["h"], 0.6 * np.tanh(expected_c))


def test_manual_trace_forget_one_input_zero_keeps_the_cell_state():
    s = manual_trace(np.array([3.0, 1.0, -1.0]), i=0.0, f=1.0, o=1.0, w_g=1.0, c0=0.7)
    np.testing.assert_allclose(s["c"], 0.7)


def test_manual_trace_rejects_a_gate_outside_0_1():
    with pytest.raises(ValueError, match="f: a gate value lies in"):
        manual_trace([1.0], 0.5, 1.5, 0.5, 1.0)


def test_parse_numbers():
    np.testing.assert_array_equal(parse_numbers("1, -0.5 2"), [1.0, -0.5, 2.0])
    with pytest.raises(ValueError, match="'x1' is not a number"):
        parse_numbers("1, x1")
    with pytest.raises(ValueError, match="whole numbers"):
        parse_numbers("1.5", integer=True)


def test_trained_trace_matches_lstm_forward(params):
    tokens = np.array([2, 0, 1, 3, 3, 0])
    s = trained_trace(params, tokens, K)
    x = rnnkit.tasks.encode_recall(tokens, K)
    h, _ = rnnkit.lstm_forward(x, np.zeros((1, H)), params["Wx"], params["Wh"], params["b"])
    np.testing.assert_allclose(s["h"], h[0])
    assert s["i"].shape == s["f"].shape == s["g"].shape == s["o"].shape == (6, H)
    assert ((s["f"] > 0) & (s["f"] < 1)).all()
    h_t, c_t = np.zeros((1, H)), np.zeros((1, H))
    for t in range(6):
        h_t, c_t, _ = rnnkit.lstm_step_forward(x[:, t], h_t, c_t, params["Wx"], params["Wh"], params["b"])
        np.testing.assert_allclose(s["c"][t], c_t[0])
    assert s["probs"].shape == (K,) and s["probs"].sum() == pytest.approx(1.0)


def test_trained_trace_rejects_unknown_tokens(params):
    with pytest.raises(ValueError, match=r"tokens: expected a sequence of symbols in \[0, 4\)"):
        trained_trace(params, np.array([0, 4]), K)


def test_sliders_and_text_drive_the_state_and_the_picture():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = LSTMGateExplorer()
        assert ex.state["mode"] == "manual" and ex.png[:4] == b"\x89PNG"
        assert ex.controls["mode"].options == ("manual",)
        png, c = ex.png, ex.state["c"].copy()
        ex.controls["f"].value = 0.2
        assert ex.state["f"] == 0.2 and not np.allclose(ex.state["c"], c)
        assert ex.png != png and ex.image.value == ex.png
        ex.controls["x"].value = "1 1 1"
        assert ex.state["x"].tolist() == [1.0, 1.0, 1.0]
        png = ex.png
        ex.controls["i"].value = 0.0
        np.testing.assert_allclose(ex.state["c"], 0.0)
        assert ex.png != png


def test_bad_text_shows_a_message_and_keeps_the_last_picture():
    ex = LSTMGateExplorer()
    png = ex.png
    ex.controls["x"].value = "1, two"
    assert "'two' is not a number" in ex.message.value and "two" in ex.state["error"]
    assert ex.png == png
    ex.controls["x"].value = "1, 2"
    assert ex.message.value == "" and "error" not in ex.state


def test_trained_mode(params):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = LSTMGateExplorer(params, n_symbols=K, tokens=[1, 2, 3, 0, 0])
        png = ex.png
        ex.controls["mode"].value = "trained"
        assert ex.state["mode"] == "trained" and ex.state["i"].shape == (5, H)
        assert ex.png != png and ex.manual_box.layout.display == "none"
        png = ex.png
        ex.controls["unit"].value = 2
        assert ex.state["unit"] == 2 and ex.png != png
        ex.controls["tokens"].value = "3 3 3"
        assert ex.state["tokens"].tolist() == [3, 3, 3] and ex.state["h"].shape == (3, H)


def test_the_first_mode_can_be_chosen(params):
    ex = LSTMGateExplorer(params, n_symbols=K, tokens=[1, 2, 3], mode="trained")
    assert ex.state["mode"] == "trained" and ex.state["i"].shape == (3, H)
    with pytest.raises(ValueError, match=r"mode: expected one of \['manual'\], got 'trained'"):
        LSTMGateExplorer(mode="trained")
