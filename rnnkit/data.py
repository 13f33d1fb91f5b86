"""Turning raw sequences into what a recurrent network trains on.

- :class:`CharVocab` maps characters to integer ids and back.
- :func:`bptt_batches` cuts one long stream of ids into (N, T) windows for truncated
  backpropagation through time, so that row n of a batch continues row n of the batch
  before it and the hidden state can be carried from one batch to the next.
- :func:`sliding_windows`, :func:`time_split` and :class:`Standardizer` prepare a time
  series for forecasting without letting the validation part leak into training.
"""
import numpy as np



def check_count(name, value):
    """value must be a positive integer (a size, a length, a number of steps)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


class CharVocab:
    """An ordered set of characters, each with an integer id.

    ``unknown`` is a character of the vocabulary that stands for every character the
    vocabulary does not hold; without it, encoding an unseen character raises ValueError.
    """

    def __init__(self, chars, unknown=None):
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"chars: expected single characters, got {c!r}")
        if len(set(chars)) != len(chars):
            dup = next(c for c in chars if chars.count(c) > 1)
            raise ValueError(f"chars: each character must appear once, {dup!r} repeats")
        if not chars:
            raise ValueError("chars: the vocabulary needs at least one character")
        if unknown is not None and unknown not in chars:
            chars.append(unknown)
        self.chars = chars
        self.unknown = unknown
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text, unknown=None):
        """The sorted set of characters of ``text`` (plus ``unknown`` when given)."""
        return cls(sorted(set(text)), unknown=unknown)

    def __len__(self):
        return len(self.chars)

    def __repr__(self):
        return f"CharVocab({len(self)} characters, unknown={self.unknown!r})"

    def __eq__(self, other):
        return isinstance(other, CharVocab) and (self.chars, self.unknown) == (other.chars, other.unknown)

    def encode(self, text):
        """``text`` (str) -> int64 array of ids, shape (len(text),)."""
        if not isinstance(text, str):
            raise ValueError(f"text: expected a str, got {type(text).__name__}")
        index = self.index
        if self.unknown is None:
            for pos, c in enumerate(text):
                if c not in index:
                    raise ValueError(
                        f"text: character {c!r} at position {pos} is not in the vocabulary "
                        "(build the vocabulary with unknown=... to map unseen characters)")
            return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
        unk = index[self.unknown]
        return np.fromiter((index.get(c, unk) for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids):
        """Integer ids, any shape that flattens to a sequence -> str."""
        ids = np.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            raise ValueError(f"ids: expected integer ids, got dtype {ids.dtype}")
        ids = ids.reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            bad = ids[(ids < 0) | (ids >= len(self))][0]
            raise ValueError(f"ids: every id must lie in [0, {len(self)}), found {int(bad)}")
        return "".join(self.chars[i] for i in ids.tolist())

    def to_dict(self):
        """A JSON-serialisable description, the inverse of :meth:`from_dict`."""
        return {"chars": "".join(self.chars), "unknown": self.unknown}

    @classmethod
    def from_dict(cls, d):
        return cls(list(d["chars"]), unknown=d.get("unknown"))


def _check_ids(ids):
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(
            f"ids: expected a 1-D integer array (one long stream), got dtype {ids.dtype} and shape {ids.shape}")
    return ids


def num_bptt_batches(n_ids, batch_size, seq_len):
    """How many (batch_size, seq_len) windows :func:`bptt_batches` yields from n_ids ids."""
    return ((n_ids - 1) // batch_size) // seq_len


def bptt_batches(ids, batch_size, seq_len):
    """Yield (x, y) pairs of shape (batch_size, seq_len) for truncated BPTT.

    The stream is cut into ``batch_size`` contiguous pieces, one per batch row; batch k
    holds positions [k T, (k+1) T) of every piece and ``y`` is ``x`` shifted by one
    character. So row n of batch k+1 starts exactly where row n of batch k ended, and the
    final hidden state of one batch is the right initial state of the next.
    """
    ids = _check_ids(ids)
    check_count("batch_size", batch_size)
    check_count("seq_len", seq_len)
    per_row = (len(ids) - 1) // batch_size
    if per_row < seq_len:
        raise ValueError(
            f"ids: {len(ids)} ids cannot fill one batch of batch_size={batch_size} rows "
            f"of seq_len={seq_len} steps (need at least {batch_size * seq_len + 1})")
    n_batches = per_row // seq_len
    used = n_batches * seq_len
    x_rows = ids[: batch_size * per_row].reshape(batch_size, per_row)[:, :used]
    y_rows = ids[1 : batch_size * per_row + 1].reshape(batch_size, per_row)[:, :used]
    for k in range(n_batches):
        sl = slice(k * seq_len, (k + 1) * seq_len)
        yield x_rows[:, sl], y_rows[:, sl]


def _as_series(series):
    series = np.asarray(series)
    if series.dtype.kind not in "fiu":
        raise ValueError(f"series: expected numbers, got dtype {series.dtype}")
    if series.ndim not in (1, 2):
        raise ValueError(f"series: expected shape (T,) or (T, D), got {series.shape}")
    return series


def sliding_windows(series, input_len, horizon=1, stride=1):
    """Every (input, target) pair of consecutive windows of a time series.

    series: (T,) or (T, D). Window m reads steps [m s, m s + input_len) and its target is
    the ``horizon`` steps that follow, with s = stride. Returns X of shape
    (M, input_len, D) and Y of shape (M, horizon, D) (D = 1 for a 1-D series), with
    M = (T - input_len - horizon) // stride + 1, in time order.
    """
    series = _as_series(series)
    check_count("input_len", input_len)
    check_count("horizon", horizon)
    check_count("stride", stride)
    if series.ndim == 1:
        series = series[:, None]
    T = series.shape[0]
    if T < input_len + horizon:
        raise ValueError(
            f"series: length {T} is shorter than input_len + horizon = {input_len + horizon}")
    starts = np.arange(0, T - input_len - horizon + 1, stride)
    X = series[starts[:, None] + np.arange(input_len)]
    Y = series[starts[:, None] + input_len + np.arange(horizon)]
    return X, Y


def time_split(series, val_fraction=0.2, context=0):
    """Split a series in time order: the first part trains, the last part validates.

    The validation part is preceded by the last ``context`` training steps, so that the
    first validation targets can be predicted from inputs that come before them. No value
    of the validation part is ever in the training part. Returns (train, val).
    """
    series = _as_series(series)
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction: expected a number in (0, 1), got {val_fraction}")
    if context < 0:
        raise ValueError(f"context: expected a non-negative number of steps, got {context}")
    T = len(series)
    cut = T - int(round(T * val_fraction))
    if cut <= context or cut >= T:
        raise ValueError(
            f"series: a series of length {T} leaves no room for val_fraction={val_fraction} "
            f"with context={context}")
    return series[:cut], series[cut - context:]


class Standardizer:
    """Subtract the mean and divide by the standard deviation of the training data.

    Fit it on the training part only: statistics taken over the validation part would
    let the model peek at the future.
    """

    def __init__(self):
        self.mean = None
        self.std = None

    def fit(self, train):
        train = _as_series(train).astype(np.float64)
        self.mean = train.mean(axis=0)
        std = train.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def _check_fitted(self):
        if self.mean is None:
            raise ValueError("Standardizer: call fit(train) before transform or inverse_transform")

    def transform(self, x):
        self._check_fitted()
        x = np.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float64
        return ((x - self.mean) / self.std).astype(dtype)

    def inverse_transform(self, z):
        self._check_fitted()
        z = np.asarray(z)
        return (z * self.std + self.mean).astype(z.dtype if z.dtype.kind == "f" else np.float64)
