"""Input checks shared by every public function.

Shapes are written as strings of symbolic dimensions, e.g. ``"N T D"`` or
``"D 4H"``. A :class:`Shapes` object learns each symbol from the first array
that uses it and checks the rest against it, so an error can say both the
symbolic shape and the concrete one that was expected.
"""
from functools import lru_cache

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@lru_cache(maxsize=None)
def _parse(spec):
    """'D 4H' -> (('D', 1, 'D'), ('H', 4, '4H'))."""
    dims = []
    for token in spec.split():
        digits = len(token) - len(token.lstrip("0123456789"))
        coef = int(token[:digits]) if digits else 1
        dims.append((token[digits:], coef, token))
    return tuple(dims)


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


class Shapes:
    """Learns symbolic sizes from the arrays it checks and enforces one dtype."""

    __slots__ = ("sizes", "dtype", "dtype_from")

    def __init__(self, dtype=None, dtype_from="the dtype of the forward pass", **sizes):
        self.sizes = sizes
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.dtype_from = dtype_from

    def array(self, name, a, spec):
        """Return ``a`` as an ndarray after checking its dtype and shape against ``spec``."""
        if not isinstance(a, np.ndarray):
            try:
                a = np.asarray(a)
            except Exception as exc:  # ragged lists and the like
                raise ValueError(f"{name}: expected an array, got {type(a).__name__} ({exc})") from None
        if a.dtype not in FLOAT_DTYPES:
            raise ValueError(f"{name}: expected a float32 or float64 array, got dtype {a.dtype}")
        if self.dtype is None:
            self.dtype, self.dtype_from = a.dtype, f"the dtype of {name}"
        elif a.dtype != self.dtype:
            raise ValueError(
                f"{name}: dtype {a.dtype} does not match {self.dtype_from} ({self.dtype}); "
                "pass arrays of one floating dtype")
        dims = _parse(spec)
        symbolic = "(" + ", ".join(d[2] for d in dims) + ")"
        if a.ndim != len(dims):
            raise ValueError(
                f"{name}: expected {len(dims)} dimensions {symbolic}, got shape {_fmt(a.shape)}")
        sizes = self.sizes
        for (sym, coef, _), given in zip(dims, a.shape):
            if sym not in sizes:
                if given % coef:
                    raise ValueError(
                        f"{name}: expected shape {symbolic}, got {_fmt(a.shape)}; "
                        f"{given} is not a multiple of {coef}")
                sizes[sym] = given // coef
        expected = tuple(sizes[sym] * coef for sym, coef, _ in dims)
        if expected != a.shape:
            raise ValueError(
                f"{name}: expected shape {symbolic} = {_fmt(expected)}, got {_fmt(a.shape)}")
        return a


def check_finite(result, **inputs):
    """Raise if ``result`` is not finite, naming the first input that holds NaN or inf.

    Checking the (small) result first keeps the common, finite case cheap.
    """
    if np.isfinite(np.sum(result)):
        return
    for name, a in inputs.items():
        if a is not None and not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            raise ValueError(f"{name} contains NaN or infinity (first at index {tuple(int(i) for i in bad)})")


def check_positive(name, value):
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return value
