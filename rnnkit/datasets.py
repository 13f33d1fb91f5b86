"""The course's data: loaders for the files in ``data/`` and a generator of date strings.

The files live in the ``data/`` folder at the root of the repository (see its README for
where each comes from). They are found next to the package, which is where they are in a
clone and in an editable install (``pip install -e .``); a wheel does not carry them, so
with a wheel installed point the environment variable ``RNNKIT_DATA`` at a ``data/``
folder. Nothing is ever downloaded.

:func:`date_pairs` makes the sequence-to-sequence task: a date written the way people
write dates ("Sat 3 Apr 1999", "3/4/1999", "april 3, 1999") and the same date in
ISO 8601 ("1999-04-03").
"""
import csv
import datetime as _dt
import json
import os
from pathlib import Path

import numpy as np

from .data import CharVocab, check_count

DATA_ENV = "RNNKIT_DATA"


def data_dir():
    """The folder that holds the course's data files."""
    env = os.environ.get(DATA_ENV)
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parent.parent / "data")
    for path in candidates:
        if (path / "shakespeare.txt").is_file():
            return path
    raise FileNotFoundError(
        "the course data was not found in " + ", ".join(str(p) for p in candidates)
        + f"; run from a clone of the repository, or set {DATA_ENV} to its data/ folder")


def load_shakespeare():
    """Eight plays of Shakespeare as one str of about a million ASCII characters."""
    return (data_dir() / "shakespeare.txt").read_text(encoding="ascii")


PRETRAINED_CHARLM = "charlm_shakespeare.npz"
CHARLM_PARAMS = ("W_embed", "Wx", "Wh", "b", "W_out", "b_out")


def load_pretrained_charlm(path=None):
    """The character LSTM trained on :func:`load_shakespeare` by ``benchmarks/train_charlm.py``.

    Returns (params, vocab, meta): the float32 arrays "W_embed" (V, E), "Wx" (E, 4H),
    "Wh" (H, 4H), "b" (4H,), "W_out" (H, V), "b_out" (V,); the :class:`CharVocab`; and a
    dict of how it was trained (hyper-parameters, seconds, steps, validation bits/char).
    """
    path = data_dir() / PRETRAINED_CHARLM if path is None else Path(path)
    with np.load(path, allow_pickle=False) as f:
        params = {name: f[name].copy() for name in CHARLM_PARAMS}
        vocab = CharVocab.from_dict(json.loads(str(f["vocab"])))
        meta = json.loads(str(f["meta"]))
    return params, vocab, meta


def split_text(text, val_fraction=0.1, block=10_000):
    """Hold out about ``val_fraction`` of ``text`` for validation, in blocks spread over all of it.

    The text is cut into blocks of ``block`` characters and every k-th block, k =
    round(1 / val_fraction), starting with the (k-1)-th, goes to validation; the other
    blocks, joined in order, train. Spreading the validation blocks makes them a sample of
    every play rather than the end of the last one (whose characters' names the training
    part never saw). ``block=None`` holds out the last ``val_fraction`` of the text instead.
    Returns (train, val), two str.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction: expected a number in (0, 1), got {val_fraction}")
    if block is None:
        cut = len(text) - int(round(len(text) * val_fraction))
        return text[:cut], text[cut:]
    block = check_count("block", block)
    k = max(2, int(round(1 / val_fraction)))
    blocks = [text[i:i + block] for i in range(0, len(text), block)]
    train = "".join(b for j, b in enumerate(blocks) if j % k != k - 1)
    val = "".join(b for j, b in enumerate(blocks) if j % k == k - 1)
    return train, val


def _read_names():
    with open(data_dir() / "census_first_names.csv", newline="", encoding="ascii") as f:
        rows = list(csv.DictReader(f))
    return [(r["name"], float(r["female_percent"]), float(r["male_percent"])) for r in rows]


def load_first_names():
    """The 5,163 first names of the 1990 US census, most frequent first (list of str)."""
    rows = _read_names()
    rows.sort(key=lambda r: (-(r[1] + r[2]), r[0]))
    return [r[0] for r in rows]


SEX_LABELS = ("female", "male")


def load_names_by_sex():
    """Names labelled with the sex of the majority of their bearers.

    Returns (names, labels): a list of str and an int64 array, 0 = female, 1 = male
    (see ``SEX_LABELS``). The few names borne equally often by both are left out. The
    list is in alphabetical order; shuffle it before splitting.
    """
    names, labels = [], []
    for name, female, male in _read_names():
        if female != male:
            names.append(name)
            labels.append(int(male > female))
    return names, np.array(labels, dtype=np.int64)


def _read_csv_columns(filename):
    with open(data_dir() / filename, newline="", encoding="ascii") as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}


def load_sunspots(monthly=False):
    """The mean sunspot number per year (1700-2008) or per month (1749-2009).

    Returns (time, value), two float64 arrays; time is the year, or for monthly data the
    year plus (month - 0.5) / 12, the middle of the month.
    """
    if monthly:
        cols = _read_csv_columns("sunspots_monthly.csv")
        return cols["year"] + (cols["month"] - 0.5) / 12, cols["sunspots"]
    cols = _read_csv_columns("sunspots_yearly.csv")
    return cols["year"], cols["sunspots"]


# ---------------------------------------------------------------------------
# Dates written by people, and the same dates in ISO 8601.

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Each format is a template over the fields below; DATE_FORMATS[k][1] is the equivalent
# datetime.strptime directive, which is how the tests read a date back.
DATE_FORMATS = (
    ("{d} {B} {Y}", "%d %B %Y"),             # 3 April 1999
    ("{dd} {B} {Y}", "%d %B %Y"),            # 03 April 1999
    ("{B} {d}, {Y}", "%B %d, %Y"),           # April 3, 1999
    ("{b} {d} {Y}", "%b %d %Y"),             # Apr 3 1999
    ("{d} {b} {Y}", "%d %b %Y"),             # 3 Apr 1999
    ("{dd}.{mm}.{Y}", "%d.%m.%Y"),           # 03.04.1999
    ("{d}/{m}/{Y}", "%d/%m/%Y"),             # 3/4/1999 (day first)
    ("{Y}/{mm}/{dd}", "%Y/%m/%d"),           # 1999/04/03
    ("{Y}{mm}{dd}", "%Y%m%d"),               # 19990403
    ("{A}, {d} {B} {Y}", "%A, %d %B %Y"),    # Saturday, 3 April 1999
    ("{a} {d} {b} {Y}", "%a %d %b %Y"),      # Sat 3 Apr 1999
    ("{A} {B} {d} {Y}", "%A %B %d %Y"),      # Saturday April 3 1999
    ("{d} {B}, {Y}", "%d %B, %Y"),           # 3 April, 1999
    ("{b}. {d}, {Y}", "%b. %d, %Y"),         # Apr. 3, 1999
    ("{d}-{b}-{Y}", "%d-%b-%Y"),             # 3-Apr-1999
)
CASES = ("as is", "lower", "upper")

DATE_INPUT_CHARS = " ,-./0123456789" + "".join(sorted(set(
    "".join(MONTHS + WEEKDAYS).lower() + "".join(MONTHS + WEEKDAYS).upper())))
DATE_OUTPUT_CHARS = "-0123456789"
PAD = "_"
ISO_LENGTH = 10


def format_date(date, template, case="as is"):
    """Write ``date`` (a datetime.date) with a template of DATE_FORMATS, in English."""
    month, weekday = MONTHS[date.month - 1], WEEKDAYS[date.weekday()]
    text = template.format(
        d=date.day, dd=f"{date.day:02d}", m=date.month, mm=f"{date.month:02d}",
        B=month, b=month[:3], A=weekday, a=weekday[:3], Y=f"{date.year:04d}")
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    if case != "as is":
        raise ValueError(f"case: expected one of {CASES}, got {case!r}")
    return text


def date_pairs(n, rng=None, start=_dt.date(1900, 1, 1), end=_dt.date(2099, 12, 31)):
    """``n`` random dates between ``start`` and ``end`` (inclusive), each as a pair
    (human-written str, ISO 8601 str), with a format and a letter case drawn at random."""
    n = check_count("n", n)
    rng = np.random.default_rng(rng)
    span = (end - start).days
    if span < 0:
        raise ValueError(f"end: {end} comes before start {start}")
    days = rng.integers(0, span + 1, size=n)
    formats = rng.integers(0, len(DATE_FORMATS), size=n)
    cases = rng.choice(len(CASES), size=n, p=(0.6, 0.25, 0.15))
    pairs = []
    for day, k, c in zip(days.tolist(), formats.tolist(), cases.tolist()):
        date = start + _dt.timedelta(days=day)
        pairs.append((format_date(date, DATE_FORMATS[k][0], CASES[c]), date.isoformat()))
    return pairs


def date_vocabs():
    """(input vocabulary, output vocabulary); both hold the padding character ``PAD``."""
    return CharVocab(PAD + DATE_INPUT_CHARS), CharVocab(PAD + DATE_OUTPUT_CHARS)


def encode_date_pairs(pairs, max_len=None, pad="right"):
    """Pairs of :func:`date_pairs` -> (X, Y, mask) arrays for a seq2seq model.

    X (n, max_len) int64: the human dates, padded with ``PAD`` on the right, or on the
    left with ``pad="left"`` (so that an encoder's last state follows the last character);
    mask (n, max_len) bool: True on the real characters of X;
    Y (n, 10) int64: the ISO dates.
    """
    vin, vout = date_vocabs()
    longest = max(len(h) for h, _ in pairs)
    max_len = longest if max_len is None else check_count("max_len", max_len)
    if longest > max_len:
        raise ValueError(f"max_len: {max_len} is shorter than the longest date ({longest} characters)")
    if pad not in ("left", "right"):
        raise ValueError(f"pad: expected 'left' or 'right', got {pad!r}")
    X = np.zeros((len(pairs), max_len), dtype=np.int64)
    mask = np.zeros((len(pairs), max_len), dtype=bool)
    Y = np.zeros((len(pairs), ISO_LENGTH), dtype=np.int64)
    for i, (human, iso) in enumerate(pairs):
        where = slice(0, len(human)) if pad == "right" else slice(max_len - len(human), max_len)
        X[i, where] = vin.encode(human)
        mask[i, where] = True
        Y[i] = vout.encode(iso)
    return X, Y, mask
