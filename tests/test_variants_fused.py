"""The fused sequence functions and the cell-by-cell loop compute the same numbers."""
import numpy as np
import pytest

import rnnkit.variants as V
from rnnkit.variants._cells import init_params, sequence_backward, sequence_forward


@pytest.mark.parametrize("cell,reset_after", [("rnn", False), ("lstm", False), ("gru", False), ("gru", True)])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_fused_equals_cellwise(cell, reset_after, dtype, tol):
    r = np.random.default_rng(3)
    N, T, D, H = 3, 7, 4, 5
    params = init_params(cell, D, H, r, dtype, reset_after)
    x = r.standard_normal((N, T, D)).astype(dtype)
    h0 = r.standard_normal((N, H)).astype(dtype)
    dh = r.standard_normal((N, T, H)).astype(dtype)
    h_f, cache_f = sequence_forward(cell, x, h0, params)
    h_c, cache_c = V.cellwise_forward(x, h0, params, cell)
    assert h_c.dtype == dtype
    np.testing.assert_allclose(h_c, h_f, rtol=tol, atol=tol)
    dx_f, dh0_f, g_f = sequence_backward(cell, dh, cache_f)
    dx_c, dh0_c, g_c = V.cellwise_backward(dh, cache_c)
    np.testing.assert_allclose(dx_c, dx_f, rtol=tol, atol=tol)
    np.testing.assert_allclose(dh0_c, dh0_f, rtol=tol, atol=tol)
    for name in ("Wx", "Wh", "b"):
        assert g_c[name].dtype == dtype
        np.testing.assert_allclose(g_c[name], g_f[name], rtol=tol, atol=tol, err_msg=name)


def test_time_paths_reports_both():
    result = V.time_paths("rnn", N=2, T=5, D=3, H=4, repeats=2)
    assert set(result) == {"fused", "cellwise", "speedup"}
    assert result["fused"] > 0 and result["cellwise"] > 0
    assert result["speedup"] == pytest.approx(result["cellwise"] / result["fused"])
