"""rnnkit.data: vocabularies, truncated-BPTT batches, windows over a time series."""
import numpy as np
import pytest

from rnnkit.data import CharVocab, Standardizer, bptt_batches, num_bptt_batches, sliding_windows, time_split


def test_vocab_round_trip_and_order():
    text = "To be, or not to be: that is the question.\n"
    v = CharVocab.from_text(text)
    assert v.chars == sorted(set(text))
    ids = v.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert v.decode(ids) == text
    assert v.decode(ids.reshape(1, -1)) == text
    assert CharVocab.from_dict(v.to_dict()) == v


def test_vocab_unknown_character():
    v = CharVocab.from_text("abc")
    with pytest.raises(ValueError, match=r"'z' at position 2"):
        v.encode("abz")
    vu = CharVocab.from_text("abc", unknown="?")
    assert len(vu) == 4
    assert vu.decode(vu.encode("azb")) == "a?b"


@pytest.mark.parametrize("chars, match", [(["a", "a"], "repeats"), (["ab"], "single characters"), ([], "at least one")])
def test_vocab_rejects_bad_chars(chars, match):
    with pytest.raises(ValueError, match=match):
        CharVocab(chars)


def test_decode_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, 3\), found 3"):
        CharVocab("abc").decode([0, 3])


def test_bptt_batches_are_contiguous_streams():
    ids = np.arange(103)
    batches = list(bptt_batches(ids, batch_size=4, seq_len=5))
    assert len(batches) == num_bptt_batches(len(ids), 4, 5) == 5
    for x, y in batches:
        assert x.shape == y.shape == (4, 5)
        np.testing.assert_array_equal(y, x + 1)  # targets are the next character
    # row n of batch k+1 starts where row n of batch k ended
    for (x0, _), (x1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)
    # rows are distinct pieces of the stream, in order
    per_row = (103 - 1) // 4
    np.testing.assert_array_equal(batches[0][0][:, 0], np.arange(4) * per_row)


def test_bptt_batches_validation():
    with pytest.raises(ValueError, match="batch_size"):
        list(bptt_batches(np.arange(10), 0, 2))
    with pytest.raises(ValueError, match="cannot fill one batch"):
        list(bptt_batches(np.arange(10), 4, 5))
    with pytest.raises(ValueError, match="1-D integer"):
        list(bptt_batches(np.zeros((3, 4), dtype=int), 1, 1))


def test_sliding_windows_shapes_and_time_order():
    s = np.arange(20.0)
    X, Y = sliding_windows(s, input_len=6, horizon=3)
    assert X.shape == (12, 6, 1) and Y.shape == (12, 3, 1)
    np.testing.assert_array_equal(X[0, :, 0], np.arange(6))
    np.testing.assert_array_equal(Y[0, :, 0], [6, 7, 8])
    np.testing.assert_array_equal(Y[-1, :, 0], [17, 18, 19])
    # every target comes strictly after every input of its window
    assert (Y[:, 0, 0] == X[:, -1, 0] + 1).all()
    X2, Y2 = sliding_windows(np.stack([s, -s], axis=1), 4, 1, stride=5)
    assert X2.shape == (4, 4, 2) and Y2.shape == (4, 1, 2)
    np.testing.assert_array_equal(X2[1, 0], [5, -5])


def test_sliding_windows_validation():
    with pytest.raises(ValueError, match="shorter than input_len"):
        sliding_windows(np.arange(5.0), 4, 2)
    with pytest.raises(ValueError, match="horizon"):
        sliding_windows(np.arange(5.0), 2, 0)


def test_time_split_keeps_order_and_context():
    s = np.arange(100.0)
    train, val = time_split(s, 0.2, context=10)
    np.testing.assert_array_equal(train, np.arange(80))
    np.testing.assert_array_equal(val, np.arange(70, 100))
    # windows over the validation part predict only validation values
    _, Y = sliding_windows(val, 10, 2)
    assert Y.min() >= 80
    with pytest.raises(ValueError, match="val_fraction"):
        time_split(s, 1.5)


def test_standardizer_fits_on_train_only():
    train, val = np.array([1.0, 2.0, 3.0]), np.array([100.0])
    st = Standardizer().fit(train)
    assert st.mean == pytest.approx(2.0)
    assert st.transform(val)[0] == pytest.approx((100 - 2) / np.std(train))
    np.testing.assert_allclose(st.inverse_transform(st.transform(train)), train)
    assert st.transform(train.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="call fit"):
        Standardizer().transform(train)
