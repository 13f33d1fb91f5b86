"""The sampling explorer of notebook 07, without a browser."""
import numpy as np
import pytest

from rnnkit.checks.applications import init_lm_params
from rnnkit.data import CharVocab
from rnnkit.sampling import lstm_lm_generate
from rnnkit.widgets.sampler import SamplerExplorer, sample_view

pytest.importorskip("ipywidgets")

VOCAB = CharVocab.from_text("abcde \n")


@pytest.fixture
def params():
    return init_lm_params(len(VOCAB), 4, 6, rng=0, scale=1.0)


def test_sample_view_is_a_pure_function(params):
    a = sample_view(params, VOCAB, "ab", 30, 0.8, seed=3)
    b = sample_view(params, VOCAB, "ab", 30, 0.8, seed=3)
    assert a["text"] == b["text"] and len(a["text"]) == 30
    np.testing.assert_array_equal(a["probs"], b["probs"])
    assert a["probs"].sum() == pytest.approx(1.0) and a["base_probs"].sum() == pytest.approx(1.0)


def test_temperature_zero_is_greedy_and_sharp(params):
    s = sample_view(params, VOCAB, "ab", 20, 0.0, seed=1)
    assert s["entropy_bits"] == 0.0 and s["probs"].max() == 1.0
    assert np.argmax(s["probs"]) == np.argmax(s["base_probs"])
    # greedy text does not depend on the seed
    assert s["text"] == sample_view(params, VOCAB, "ab", 20, 0.0, seed=99)["text"]


def test_generate_matches_the_step_by_step_model(params):
    text, probs = lstm_lm_generate(params, VOCAB, "abc", 5, temperature=1.0, rng=0)
    assert len(text) == 5 and probs.shape == (5, len(VOCAB))
    # the first distribution is softmax of the output layer after reading the prompt
    import rnnkit
    h = c = np.zeros((1, 6))
    for t in VOCAB.encode("abc"):
        h, c, _ = rnnkit.lstm_step_forward(params["W_embed"][[t]], h, c, params["Wx"], params["Wh"], params["b"])
    np.testing.assert_allclose(probs[0], rnnkit.softmax(h @ params["W_out"] + params["b_out"])[0], rtol=1e-10)
    with pytest.raises(ValueError, match="prompt"):
        lstm_lm_generate(params, VOCAB, "", 5)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        lstm_lm_generate(params, VOCAB, "xyz", 5)


def test_explorer_recomputes_on_every_control(params):
    ex = SamplerExplorer(params, VOCAB, prompt="ab", length=40, temperature=1.0)
    first_png, first_text = ex.png, ex.state["text"]
    assert first_png.startswith(b"\x89PNG") and ex.image.value == first_png
    ex.controls["temperature"].value = 0.0
    assert ex.state["temperature"] == 0.0 and ex.state["entropy_bits"] == 0.0
    assert ex.png != first_png
    ex.controls["seed"].value = 5
    ex.controls["temperature"].value = 1.5
    assert ex.state["seed"] == 5 and ex.state["temperature"] == 1.5
    ex.controls["top_k"].value = 1
    assert ex.state["top_k"] == 1 and ex.state["probs"].max() == pytest.approx(1.0)
    ex.controls["prompt"].value = "dd"
    assert ex.state["prompt"] == "dd" and "dd" in ex.output.value
    ex.controls["length"].value = 10
    assert len(ex.state["text"]) == 10


def test_explorer_reports_bad_prompt_without_raising(params):
    ex = SamplerExplorer(params, VOCAB, prompt="ab", length=10)
    png = ex.png
    ex.controls["prompt"].value = "abz"
    assert "not in the vocabulary" in ex.message.value and "error" in ex.state
    assert ex.png == png
    ex.controls["prompt"].value = "ab"
    assert ex.message.value == "" and "error" not in ex.state


def test_no_figure_leaks(params):
    import matplotlib.pyplot as plt
    before = len(plt.get_fignums())
    ex = SamplerExplorer(params, VOCAB, prompt="ab", length=5)
    for t in (0.1, 0.5, 1.0):
        ex.controls["temperature"].value = t
    assert len(plt.get_fignums()) == before
