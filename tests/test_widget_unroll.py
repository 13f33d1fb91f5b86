"""The unrolling explorer: its pure computation, and the widget reacting to its controls."""
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from rnnkit.widgets.unroll import SEQUENCES, UnrollExplorer, make_sequence, parameters, unroll


def test_unroll_is_the_rnn_run_over_the_chosen_sequence():
    state = unroll("sine wave", t=4, recurrent_scale=0.7, T=8, H=3, seed=2)
    Wx, Q, b = parameters(3, seed=2)
    h, h_prev = [], np.zeros((1, 3))
    for x_t in make_sequence("sine wave", 8):
        h_prev = np.tanh(np.array([[x_t]]) @ Wx + h_prev @ (0.7 * Q) + b)
        h.append(h_prev[0])
    np.testing.assert_allclose(state["h"], np.array(h), rtol=1e-12)
    np.testing.assert_allclose(state["known"], np.array(h)[:4])
    assert state["t"] == 4 and state["known"].shape == (4, 3)


def test_recurrent_matrix_is_a_scaled_rotation():
    _, Q, _ = parameters(5, seed=0)
    np.testing.assert_allclose(Q @ Q.T, np.eye(5), atol=1e-12)


def test_without_recurrence_the_state_after_a_pulse_is_zero():
    state = unroll("pulse at t = 1", t=10, recurrent_scale=0.0, T=10)
    assert np.abs(state["h"][0]).max() > 0.1, "the pulse itself moves the state"
    np.testing.assert_array_equal(state["h"][1:], 0.0)


def test_memory_of_a_pulse_fades_faster_with_a_smaller_recurrent_scale():
    late = {s: unroll("pulse at t = 1", t=10, recurrent_scale=s, T=10)["norm"][-1] for s in (0.5, 0.9)}
    assert late[0.5] < late[0.9] / 5


@pytest.mark.parametrize("kind", SEQUENCES)
def test_every_sequence_has_length_T(kind):
    assert make_sequence(kind, 7).shape == (7,)


def test_bad_control_values_raise_value_errors_naming_them():
    with pytest.raises(ValueError, match="t: expected a time step in \\[1, 10\\], got 0"):
        unroll(t=0)
    with pytest.raises(ValueError, match="kind: expected one of"):
        make_sequence("square", 5)
    with pytest.raises(ValueError, match="recurrent_scale"):
        unroll(recurrent_scale=-1.0)


def test_explorer_recomputes_and_redraws_on_every_control():
    explorer = UnrollExplorer(T=8, H=3)
    assert explorer.state["t"] == 1 and explorer.png.startswith(b"\x89PNG")
    assert explorer.image.value == explorer.png
    pngs = [explorer.png]

    explorer.controls["t"].value = 5
    assert explorer.state["t"] == 5 and explorer.state["known"].shape == (5, 3)
    pngs.append(explorer.png)

    explorer.controls["sequence"].value = "alternating sign"
    np.testing.assert_array_equal(explorer.state["x"], make_sequence("alternating sign", 8))
    pngs.append(explorer.png)

    explorer.controls["recurrent_scale"].value = 1.5
    expected = unroll("alternating sign", 5, 1.5, T=8, H=3)
    np.testing.assert_allclose(explorer.state["h"], expected["h"])
    pngs.append(explorer.png)
    assert len(set(pngs)) == len(pngs), "every change of a control redraws a different picture"


def test_play_button_drives_the_time_slider_over_every_step():
    explorer = UnrollExplorer(T=6)
    play, slider = explorer.controls["play"], explorer.controls["t"]
    assert (play.min, play.max) == (slider.min, slider.max) == (1, 6)


def test_rendering_leaks_no_figure_and_warns_nothing():
    before = plt.get_fignums()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer = UnrollExplorer(T=5)
        for t in range(1, 6):
            explorer.controls["t"].value = t
    assert plt.get_fignums() == before

