"""rnnkit.sampling: temperature and top-k."""
import numpy as np
import pytest

from rnnkit.sampling import sample_logits, temperature_probs


def test_temperature_one_is_softmax():
    z = np.array([1.0, 2.0, 0.5])
    e = np.exp(z - z.max())
    np.testing.assert_allclose(temperature_probs(z, 1.0), e / e.sum())


def test_temperature_zero_is_argmax():
    z = np.array([[0.1, 3.0, 2.9], [5.0, -1.0, 5.0]])
    np.testing.assert_array_equal(sample_logits(z, 0.0), [1, 0])
    np.testing.assert_array_equal(temperature_probs(z, 0.0), [[0, 1, 0], [1, 0, 0]])
    # a small positive temperature approaches the argmax
    assert temperature_probs(z[0], 1e-3)[1] > 0.999


def test_temperature_sharpens_and_flattens():
    z = np.array([0.0, 1.0, 2.0])
    entropy = lambda p: -(p * np.log(p)).sum()
    h_cold, h_one, h_hot = (entropy(temperature_probs(z, t)) for t in (0.5, 1.0, 2.0))
    assert h_cold < h_one < h_hot < np.log(3)


def test_sampling_frequencies_match_probabilities():
    z = np.array([0.0, 1.0, 2.0, -1.0])
    p = temperature_probs(z, 0.7)
    draws = sample_logits(np.tile(z, (20000, 1)), 0.7, rng=0)
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, p, atol=0.012)


def test_top_k_never_draws_outside_the_k_best():
    z = np.array([3.0, 0.0, 2.0, 1.0, -5.0])
    draws = sample_logits(np.tile(z, (2000, 1)), 5.0, top_k=2, rng=1)
    assert set(draws.tolist()) == {0, 2}
    p = temperature_probs(z, 1.0, top_k=2)
    assert p[[1, 3, 4]].sum() == 0 and p.sum() == pytest.approx(1.0)


def test_shapes_dtypes_and_reproducibility():
    z = np.random.default_rng(0).normal(size=(3, 7)).astype(np.float32)
    assert temperature_probs(z, 0.8).dtype == np.float32
    a = sample_logits(z, 1.0, rng=42)
    assert a.shape == (3,) and a.dtype == np.int64
    np.testing.assert_array_equal(a, sample_logits(z, 1.0, rng=42))
    assert np.ndim(sample_logits(z[0], 1.0, rng=0)) == 0
    # extreme logits do not overflow
    big = np.array([1e4, 0.0, -1e4])
    assert sample_logits(big, 0.01, rng=0) == 0


@pytest.mark.parametrize("t", [-0.1, np.inf, np.nan, "hot", True])
def test_bad_temperature(t):
    with pytest.raises(ValueError, match="temperature"):
        sample_logits(np.zeros(3), t)


@pytest.mark.parametrize("k", [0, 4, 1.5])
def test_bad_top_k(k):
    with pytest.raises(ValueError, match=r"top_k: expected None or an integer in \[1, 3\]"):
        sample_logits(np.zeros(3), 1.0, top_k=k)


def test_bad_logits():
    with pytest.raises(ValueError, match="NaN or infinity"):
        sample_logits(np.array([0.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="floating"):
        sample_logits(np.array([1, 2]), 1.0)
    with pytest.raises(ValueError, match=r"\(V,\) or \(N, V\)"):
        sample_logits(np.zeros((2, 2, 2)), 1.0)
