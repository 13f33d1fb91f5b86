"""Input checks shared by every public function.

Shapes are written as strings of symbolic dimensions, e.g. ``"N T D"`` or
``"D 4H"``; a token made of digits only, like the ``2`` of ``"2 3H"``, is a
fixed size. A :class:`Shapes` object learns each symbol from the first array
that uses it and checks the rest against it, so an error can say both the
symbolic shape and the concrete one that was expected.

The checks run on every call, including the single steps of sampling, where
the arithmetic itself takes a few microseconds: the common, valid case is
therefore kept short (parsed specs are cached, messages are only built when
raising).
"""
import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_F32, _F64 = FLOAT_DTYPES

_SPECS = {}  # spec -> (dims, symbolic); dims holds (symbol, coefficient), symbol None for a fixed size


def _parse(spec):
    """'D 4H' -> ((('D', 1), ('H', 4)), '(D, 4H)'); '2 3H' -> (((None, 2), ('H', 3)), '(2, 3H)')."""
    parsed = _SPECS.get(spec)
    if parsed is None:
        dims = []
        for token in spec.split():
            digits = len(token) - len(token.lstrip("0123456789"))
            coef = int(token[:digits]) if digits else 1
            dims.append((token[digits:] or None, coef))
        symbolic = "(" + ", ".join(spec.split()) + ")"
        parsed = _SPECS[spec] = (tuple(dims), symbolic)
    return parsed


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


class Shapes:
    """Learns symbolic sizes from the arrays it checks and enforces one dtype."""

    __slots__ = ("sizes", "origin", "dtype", "dtype_from")

    def __init__(self, dtype=None, dtype_from="the dtype of the forward pass", **sizes):
        self.sizes = sizes
        self.origin = {}  # symbol -> name of the argument it was learnt from
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.dtype_from = dtype_from

    def array(self, name, a, spec):
        """Return ``a`` as an ndarray after checking its dtype and shape against ``spec``."""
        if not isinstance(a, np.ndarray):
            try:
                a = np.asarray(a)
            except Exception as exc:  # ragged lists and the like
                raise ValueError(f"{name}: expected an array, got {type(a).__name__} ({exc})") from None
        dtype = a.dtype
        if dtype is not _F32 and dtype is not _F64 and dtype not in FLOAT_DTYPES:
            raise ValueError(f"{name}: expected a float32 or float64 array, got dtype {dtype}")
        if self.dtype is None:
            self.dtype, self.dtype_from = dtype, f"the dtype of {name}"
        elif dtype != self.dtype:
            raise ValueError(
                f"{name}: dtype {dtype} does not match {self.dtype_from} ({self.dtype}); "
                "pass arrays of one floating dtype")
        dims, symbolic = _SPECS.get(spec) or _parse(spec)
        shape = a.shape
        sizes = self.sizes
        if len(shape) != len(dims):
            if all(sym is None or sym in sizes for sym, _ in dims):
                symbolic += " = " + _fmt(tuple(coef * sizes.get(sym, 1) for sym, coef in dims))
            raise ValueError(
                f"{name}: expected {len(dims)} dimension{'s' if len(dims) != 1 else ''} {symbolic}, "
                f"got shape {_fmt(shape)}")
        for (sym, coef), given in zip(dims, shape):
            if sym is None:
                if given != coef:
                    self._mismatch(name, shape, dims, symbolic)
            elif sym in sizes:
                if given != sizes[sym] * coef:
                    self._mismatch(name, shape, dims, symbolic)
            elif given % coef:
                raise ValueError(
                    f"{name}: expected shape {symbolic}, got {_fmt(shape)}; "
                    f"{given} is not a multiple of {coef}")
            else:
                sizes[sym] = given // coef
                self.origin[sym] = name
        return a

    def _mismatch(self, name, shape, dims, symbolic):
        """Raise for a shape that does not fit, the expected shape completed from the given one."""
        expected = tuple(coef if sym is None else self.sizes.get(sym, given // coef) * coef
                         for (sym, coef), given in zip(dims, shape))
        sources = [f"{sym} = {self.sizes[sym]} from {self.origin[sym]}"
                   for (sym, _), e, given in zip(dims, expected, shape)
                   if e != given and sym in self.origin]
        raise ValueError(f"{name}: expected shape {symbolic} = {_fmt(expected)}, got {_fmt(shape)}"
                         + (f" ({', '.join(sources)})" if sources else ""))


def check_finite(result, **inputs):
    """Raise if ``result`` is not finite, naming the first input that holds NaN or inf.

    Checking the (small) result first keeps the common, finite case cheap: NaN in
    any input of a recurrence reaches the last hidden state.
    """
    if np.isfinite(result.sum()):
        return
    for name, a in inputs.items():
        if a is not None and not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            raise ValueError(f"{name} contains NaN or infinity (first at index {tuple(int(i) for i in bad)})")


def check_positive(name, value):
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return value
