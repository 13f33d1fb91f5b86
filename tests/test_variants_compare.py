"""The comparison harness of rnnkit.variants.compare: every recipe's gradients, the task, the table."""
import numpy as np
import pytest

from rnnkit.variants.compare import VARIANTS, Run, adding_problem, compare_variants, count_parameters, \
    flatten, markdown_table
from test_variants_gradcheck import assert_gradients


@pytest.mark.parametrize("name", list(VARIANTS))
def test_recipe_gradients(name):
    variant = VARIANTS[name]
    rng = np.random.default_rng(0)
    params = variant.init(2, 3, rng)
    inputs = {"x": rng.standard_normal((2, 5, 2)), "params": params}

    def forward(i):
        return variant.forward(i["x"], i["params"])

    def backward(dout, cache):
        return {"params": variant.backward(dout, cache)}

    assert_gradients(forward, backward, inputs)


def test_adding_problem():
    x, y = adding_problem(64, 10, np.random.default_rng(0))
    assert x.shape == (64, 10, 2) and y.shape == (64,)
    markers = x[..., 1]
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :5].sum(axis=1) == 1).all(), "one marker in each half"
    np.testing.assert_allclose(y, (x[..., 0] * markers).sum(axis=1))
    with pytest.raises(ValueError, match="T: the adding problem needs T >= 2"):
        adding_problem(4, 1, np.random.default_rng(0))


def test_flatten_returns_views():
    tree = {"a": [np.zeros(2), (np.ones(3),)], "b": np.zeros((2, 2))}
    flat = flatten(tree)
    assert list(flat) == ["a.0", "a.1.0", "b"]
    flat["a.1.0"][0] = 7.0
    assert tree["a"][1][0][0] == 7.0
    assert count_parameters(tree) == 9


def test_compare_variants_trains_and_reports():
    results = compare_variants(["RNN", "phased LSTM"], T=6, H=4, N=8, steps=40, lr=3e-2, n_test=32)
    assert [r["name"] for r in results] == ["RNN", "phased LSTM"]
    rnn, phased = results
    assert rnn["parameters"] == 2 * 4 + 4 * 4 + 4 + 4 + 1  # layer and read-out
    assert phased["parameters"] == 4 * (2 * 4 + 4 * 4 + 4) + 4 + 1, "the phased LSTM's clock is not trained"
    for r in results:
        assert len(r["losses"]) == 40 and r["ms_per_step"] > 0
        assert np.isfinite(r["losses"]).all() and 0 < r["test_loss"] < 1.0
    table = markdown_table(results)
    assert table.count("\n") == 3 and "| RNN | 33 |" in table
    with pytest.raises(ValueError, match="names: unknown variants"):
        compare_variants(["transformer"])


@pytest.mark.parametrize("name", list(VARIANTS))
def test_training_step_fits_one_batch(name):
    """Adam steps on one fixed batch lower its loss: the recipe's gradients reach the parameters.

    (The phased LSTM gains least: with T = 6 most of its units are closed at every step.)
    """
    x, y = adding_problem(16, 6, np.random.default_rng(1))
    run = Run(name, 2, 8, np.random.default_rng(2), lr=3e-2)
    first = run.step(x, y)
    for _ in range(30):
        run.step(x, y)
    assert run.evaluate(x, y) < 0.95 * first, f"{name}: loss {first:.4f} -> {run.evaluate(x, y):.4f}"


def _cast(tree, dtype):
    if isinstance(tree, dict):
        return {k: _cast(v, dtype) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_cast(v, dtype) for v in tree)
    return tree.astype(dtype)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_float32_stays_float32(name):
    variant = VARIANTS[name]
    rng = np.random.default_rng(0)
    params = _cast(variant.init(2, 3, rng), np.float32)
    x = rng.standard_normal((2, 5, 2)).astype(np.float32)
    h, cache = variant.forward(x, params)
    assert h.dtype == np.float32
    wrong = {k: a.dtype for k, a in flatten(variant.backward(np.ones_like(h), cache)).items()
             if a.dtype != np.float32}
    assert not wrong, f"{name}: gradients not in float32: {wrong}"
