"""rnnkit.datasets: the shipped data and the date generator."""
import datetime as dt

import numpy as np
import pytest

from rnnkit import datasets
from rnnkit.data import CharVocab


def test_shakespeare_is_the_shipped_text():
    text = datasets.load_shakespeare()
    assert 1_000_000 < len(text) < 1_100_000
    assert text.startswith("HAMLET, PRINCE OF DENMARK")
    assert "To be, or not to be" in text
    assert len(set(text)) == 76
    train, val = datasets.split_text(text, 0.1)
    assert len(train) + len(val) == len(text)
    assert 0.09 < len(val) / len(text) < 0.11
    # validation blocks come from every play, and none of them is in the training part
    blocks = [text[i:i + 10_000] for i in range(0, len(text), 10_000)]
    assert val == "".join(blocks[9::10]) and val[:10_000] == text[90_000:100_000]
    assert text[90_000:100_000] not in train and train.startswith(text[:90_000])
    assert val.count("Ham.") > 0 and val.count("PROSPERO") > 0
    tail_train, tail_val = datasets.split_text(text, 0.1, block=None)
    assert tail_train + tail_val == text and len(tail_val) == round(len(text) * 0.1)
    with pytest.raises(ValueError, match="val_fraction"):
        datasets.split_text(text, 0.0)
    v = CharVocab.from_text(train)
    assert v.decode(v.encode(train[:5000])) == train[:5000]


def test_names():
    names = datasets.load_first_names()
    assert len(names) == 5163 and names[:3] == ["James", "John", "Robert"]
    assert all(n.isalpha() and n[0].isupper() for n in names)
    names, labels = datasets.load_names_by_sex()
    assert len(names) == len(labels) and labels.dtype == np.int64
    lookup = dict(zip(names, labels))
    assert lookup["Mary"] == 0 and lookup["James"] == 1
    assert 0.15 < labels.mean() < 0.3  # the census lists 4,275 women's names, 1,219 men's


def test_sunspots():
    year, value = datasets.load_sunspots()
    assert len(year) == 309 and year[0] == 1700 and year[-1] == 2008
    assert value.dtype == np.float64 and value.min() >= 0
    assert np.all(np.diff(year) == 1)
    t, m = datasets.load_sunspots(monthly=True)
    assert len(t) == 3126 and np.all(np.diff(t) > 0)
    assert t[0] == pytest.approx(1749 + 0.5 / 12)
    # the yearly means agree with the monthly ones
    y1750 = m[(t > 1750) & (t < 1751)].mean()
    assert y1750 == pytest.approx(value[year == 1750][0], abs=0.1)


def test_data_dir_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path))
    (tmp_path / "shakespeare.txt").write_text("hello")
    assert datasets.load_shakespeare() == "hello"
    empty = tmp_path / "nothing"
    empty.mkdir()
    monkeypatch.setenv(datasets.DATA_ENV, str(empty))
    monkeypatch.setattr(datasets, "__file__", str(empty / "rnnkit" / "datasets.py"))
    with pytest.raises(FileNotFoundError, match=datasets.DATA_ENV):
        datasets.data_dir()


@pytest.mark.parametrize("k", range(len(datasets.DATE_FORMATS)))
@pytest.mark.parametrize("case", datasets.CASES)
def test_every_format_parses_back_to_the_same_date(k, case):
    template, directive = datasets.DATE_FORMATS[k]
    rng = np.random.default_rng(k)
    for day in rng.integers(0, 73000, size=25).tolist():
        date = dt.date(1900, 1, 1) + dt.timedelta(days=day)
        text = datasets.format_date(date, template, case)
        assert dt.datetime.strptime(text, directive).date() == date, (template, text)


def test_date_pairs():
    pairs = datasets.date_pairs(500, rng=0)
    assert len(pairs) == 500 and pairs == datasets.date_pairs(500, rng=0)
    vin, vout = datasets.date_vocabs()
    for human, iso in pairs:
        assert dt.date.fromisoformat(iso).isoformat() == iso
        vin.encode(human)  # every character is in the input vocabulary
        assert set(human) <= set(datasets.DATE_INPUT_CHARS)
    # the formats and letter cases are all used
    assert len({h.islower() for h, _ in pairs}) == 2
    assert len({len(h) for h, _ in pairs}) > 8
    with pytest.raises(ValueError, match="n: expected a positive integer"):
        datasets.date_pairs(0)


def test_encode_date_pairs():
    pairs = [("3 April 1999", "1999-04-03"), ("19990403", "1999-04-03")]
    X, Y, mask = datasets.encode_date_pairs(pairs, max_len=14)
    assert X.shape == mask.shape == (2, 14) and Y.shape == (2, 10)
    np.testing.assert_array_equal(mask.sum(axis=1), [12, 8])
    vin, vout = datasets.date_vocabs()
    assert vin.decode(X[0][mask[0]]) == "3 April 1999"
    assert vin.decode(X[1]) == "19990403" + datasets.PAD * 6
    assert vout.decode(Y[1]) == "1999-04-03"
    XL, _, maskL = datasets.encode_date_pairs(pairs, max_len=14, pad="left")
    assert vin.decode(XL[1]) == datasets.PAD * 6 + "19990403"
    np.testing.assert_array_equal(maskL[:, -1], True)
    np.testing.assert_array_equal(XL[maskL], X[mask])
    with pytest.raises(ValueError, match="max_len"):
        datasets.encode_date_pairs(pairs, max_len=5)
    with pytest.raises(ValueError, match="pad"):
        datasets.encode_date_pairs(pairs, pad="middle")
