"""The synthetic sequence tasks: layout, targets, reproducibility, argument checks."""
import math

import numpy as np
import pytest

from rnnkit import temporal_softmax_loss
from rnnkit.tasks import chance_loss, copy_batch, encode_recall, one_hot, recall_batch


def test_one_hot_places_a_single_one_per_position():
    tokens = np.array([[0, 2], [1, 1]])
    x = one_hot(tokens, 3, np.float32)
    assert x.shape == (2, 2, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(x.argmax(axis=-1), tokens)


@pytest.mark.parametrize("tokens, match", [
    (np.array([0, 3]), r"tokens: expected values in \[0, 3\), found 3"),
    (np.array([0.0, 1.0]), r"tokens: expected integers"),
])
def test_one_hot_rejects_bad_tokens(tokens, match):
    with pytest.raises(ValueError, match=match):
        one_hot(tokens, 3)


def test_recall_batch_layout_and_target():
    batch = recall_batch(16, length=12, n_symbols=5, rng=0)
    assert batch.x.shape == (16, 12, 6)
    assert batch.y.shape == batch.mask.shape == (16, 12)
    assert batch.n_classes == 5
    symbols = batch.x[:, :, :5].argmax(axis=-1)
    np.testing.assert_array_equal(batch.x[:, :, :5].sum(axis=-1), 1.0)
    np.testing.assert_array_equal(batch.x[:, 0, 5], 1.0)  # the marker, at step 0 only
    np.testing.assert_array_equal(batch.x[:, 1:, 5], 0.0)
    np.testing.assert_array_equal(batch.y[:, -1], symbols[:, 0])
    np.testing.assert_array_equal(batch.mask, np.broadcast_to(np.arange(12) == 11, (16, 12)))


def test_recall_distractors_use_the_whole_alphabet():
    batch = recall_batch(64, length=30, n_symbols=4, rng=1)
    later = batch.x[:, 1:, :4].argmax(axis=-1)
    assert set(np.unique(later)) == {0, 1, 2, 3}


def test_recall_is_reproducible_and_respects_dtype():
    a = recall_batch(4, 10, rng=7, dtype=np.float32)
    b = recall_batch(4, 10, rng=7, dtype=np.float32)
    c = recall_batch(4, 10, rng=8, dtype=np.float32)
    assert a.x.dtype == np.float32
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_encode_recall_matches_the_batch_encoding():
    batch = recall_batch(3, 9, n_symbols=4, rng=2)
    tokens = batch.x[:, :, :4].argmax(axis=-1)
    np.testing.assert_array_equal(encode_recall(tokens, 4), batch.x)
    assert encode_recall([1, 2, 3], 4).shape == (1, 3, 5)


def test_copy_batch_layout():
    batch = copy_batch(8, n_tokens=3, delay=4, n_symbols=6, rng=0)
    T = 3 + 4 + 3
    assert batch.x.shape == (8, T, 8) and batch.n_classes == 6
    tokens = batch.x.argmax(axis=-1)
    np.testing.assert_array_equal(batch.x.sum(axis=-1), 1.0)
    assert (tokens[:, :3] < 6).all()
    np.testing.assert_array_equal(tokens[:, 3 + 4 - 1], 7)  # go
    np.testing.assert_array_equal(np.delete(tokens[:, 3:], 4 - 1, axis=1), 6)  # blanks
    np.testing.assert_array_equal(batch.y[:, -3:], tokens[:, :3])
    np.testing.assert_array_equal(batch.mask, np.broadcast_to(np.arange(T) >= T - 3, (8, T)))


@pytest.mark.parametrize("make", [
    lambda: recall_batch(32, 20, n_symbols=4, rng=0),
    lambda: copy_batch(32, 3, 5, n_symbols=4, rng=0),
])
def test_uniform_scores_cost_exactly_the_chance_loss(make):
    batch = make()
    scores = np.zeros(batch.y.shape + (batch.n_classes,))
    loss, _ = temporal_softmax_loss(scores, batch.y, batch.mask)
    assert loss == pytest.approx(chance_loss(batch.n_classes)) == pytest.approx(math.log(4))


@pytest.mark.parametrize("call, match", [
    (lambda: recall_batch(0, 10), r"n: expected an integer >= 1, got 0"),
    (lambda: recall_batch(4, 1), r"length: expected an integer >= 2, got 1"),
    (lambda: recall_batch(4, 10, n_symbols=1), r"n_symbols: expected an integer >= 2"),
    (lambda: recall_batch(4, 10.0), r"length: expected an integer, got float"),
    (lambda: recall_batch(4, 10, dtype=np.int32), r"dtype: expected float32 or float64"),
    (lambda: copy_batch(4, delay=0), r"delay: expected an integer >= 1, got 0"),
    (lambda: encode_recall(np.zeros((2, 2, 2), dtype=int)), r"tokens: expected shape \(N, T\)"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
