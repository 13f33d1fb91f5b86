"""The gradient flow explorer: its pure computation, and the widget reacting to its controls."""
import warnings

import numpy as np
import pytest

from rnnkit.widgets.gradient_flow import GradientFlowExplorer, gradient_flow, recurrent_matrix


def test_recurrent_matrix_has_the_requested_spectral_radius():
    for matrix in ("random", "orthogonal"):
        W = recurrent_matrix(20, 1.7, matrix, seed=3)
        assert np.abs(np.linalg.eigvals(W)).max() == pytest.approx(1.7)
    s = np.linalg.svd(recurrent_matrix(20, 0.8, "orthogonal"), compute_uv=False)
    np.testing.assert_allclose(s, 0.8)


def test_linear_orthogonal_flow_is_exactly_a_power_of_the_radius():
    s = gradient_flow(0.9, "linear", T=30, matrix="orthogonal")
    np.testing.assert_allclose(s["norms"], 0.9 ** np.arange(30), rtol=1e-10)
    np.testing.assert_allclose(s["derivative"], 1.0)
    assert s["sigma_max"] == pytest.approx(0.9)


def test_flow_matches_backpropagation_through_rnnkit():
    """For tanh, the recursion equals the dh_prev of rnnkit's step backward."""
    import rnnkit

    T, H, N = 12, 8, 4
    s = gradient_flow(1.3, "tanh", T=T, H=H, N=N, seed=5)
    Wh = recurrent_matrix(H, 1.3, "random", seed=5)
    rng = np.random.default_rng(6)
    u = rng.standard_normal((T, N, H))
    g = rng.standard_normal((N, H))
    g /= np.linalg.norm(g)
    caches, h = [], np.zeros((N, H))
    for t in range(T):
        h, cache = rnnkit.rnn_step_forward(u[t], h, np.eye(H), Wh, np.zeros(H))
        caches.append(cache)
    expected = []
    for t in range(T - 1, -1, -1):
        expected.append(np.linalg.norm(g))
        g = rnnkit.rnn_step_backward(g, caches[t])[1]
    np.testing.assert_allclose(s["norms"], expected, rtol=1e-10)


def test_tanh_vanishes_below_one_and_saturation_limits_growth():
    small = gradient_flow(0.5, "tanh", T=40)
    assert small["norms"][-1] < 1e-8
    assert np.all(np.diff(small["norms"]) < 0)
    big_linear = gradient_flow(1.5, "linear", T=40, matrix="orthogonal")
    big_tanh = gradient_flow(1.5, "tanh", T=40, matrix="orthogonal")
    assert big_linear["norms"][-1] > 1e6
    assert big_tanh["norms"][-1] < big_linear["norms"][-1] * 1e-3
    assert big_tanh["derivative"].mean() < 0.5


def test_extreme_controls_stay_quiet_and_overflow_becomes_inf():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for activation in ("tanh", "relu", "linear"):
            s = gradient_flow(3.0, activation, T=100, input_scale=3.0)
            assert np.isfinite(s["norms"]).all(), activation
        s = gradient_flow(3.0, "linear", T=700, matrix="orthogonal", input_scale=0.0)
    assert np.isinf(s["norms"][-1]) and not np.isnan(s["norms"]).any()
    assert np.isfinite(s["norms"][:300]).all()


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="activation: expected one of"):
        gradient_flow(1.0, "sigmoid")
    with pytest.raises(ValueError, match="matrix: expected one of"):
        gradient_flow(1.0, matrix="diagonal")
    with pytest.raises(ValueError, match="T: expected a positive integer"):
        gradient_flow(1.0, T=0)


def test_controls_drive_the_state_and_the_picture():
    import matplotlib.pyplot as plt

    figures = len(plt.get_fignums())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = GradientFlowExplorer(T=30)
        assert set(ex.controls) == {"radius", "activation", "matrix", "input_scale", "T"}
        assert ex.png[:4] == b"\x89PNG" and ex.image.value == ex.png
        assert ex.state["activation"] == "tanh" and ex.state["norms"].shape == (30,)

        png, norms = ex.png, ex.state["norms"].copy()
        ex.controls["radius"].value = 2.0
        assert ex.state["radius"] == 2.0 and not np.allclose(ex.state["norms"], norms)
        assert ex.png != png

        png = ex.png
        ex.controls["activation"].value = "linear"
        assert ex.state["activation"] == "linear"
        np.testing.assert_allclose(ex.state["derivative"], 1.0)
        assert ex.png != png

        png = ex.png
        ex.controls["matrix"].value = "orthogonal"
        ex.controls["radius"].value = 0.8
        np.testing.assert_allclose(ex.state["norms"], 0.8 ** np.arange(30), rtol=1e-10)
        assert ex.png != png

        ex.controls["T"].value = 12
        assert ex.state["norms"].shape == (12,)
        png = ex.png
        ex.controls["activation"].value = "relu"
        ex.controls["input_scale"].value = 2.0
        assert ex.state["input_scale"] == 2.0 and ex.png != png
    assert len(plt.get_fignums()) == figures, "the explorer left a pyplot figure open"
