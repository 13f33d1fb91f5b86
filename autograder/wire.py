"""Values as data between the grader and the student's kernel.

A *packet* carries a tree of values: None, bools, numbers, strings, NumPy arrays and
scalars, tuples, lists and dicts of these, a NumPy Generator (by its state), and
references to objects that stay on the side that owns them (a student's cache, a
grader's callable). The tree is JSON; an array travels as its raw bytes beside it, with
its dtype (numbers and booleans only) and shape in the tree, and is rebuilt from them,
never unpickled, so a packet cannot carry code. The reader bounds what it accepts
(bytes, nodes, depth) and rebuilds nothing larger than the bytes it got.

This file is imported by the grader and its text is also sent, with kernel_server.py,
into the student's kernel, so it depends on nothing but the standard library and NumPy.

    packet = encode(value, side)            # bytes
    value = decode(packet, side)            # raises WireError on anything malformed
"""
import ast
import json
import struct

import numpy as np

MAGIC = b"AGW1"
MAX_PACKET = 64 * 1024 * 1024
MAX_HEADER = 8 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 48


class WireError(ValueError):
    """A packet that is not well formed, or larger than the reader accepts."""


class Remote:
    """An object that stays on the other side, known here by its number."""

    __slots__ = ("owner", "key", "kind")

    def __init__(self, owner, key, kind):
        self.owner, self.key, self.kind = owner, key, kind

    def __repr__(self):
        where = "the student's kernel" if self.owner == "kernel" else "the grader"
        return f"<{self.kind} kept in {where}>"


class Side:
    """One end of the wire: ``name`` is "kernel" or "grader".

    ``kept`` maps numbers to the objects this side keeps for the other (a student's cache,
    a grader's callable); ``special(value)`` may return a node for a value this side
    encodes its own way (a student function by name, a callback); ``resolve(node)`` turns
    such a node back into a value when this side decodes it.
    """

    def __init__(self, name, special=None, resolve=None):
        self.name = name
        self.kept = {}
        self.special = special or (lambda value: None)
        self.resolve = resolve or (lambda node: None)

    def keep(self, value):
        key = len(self.kept) + 1
        while key in self.kept:
            key += 1
        self.kept[key] = value
        return key

    def forget(self):
        self.kept.clear()


# --------------------------------------------------------------------------- encoding

_NUMERIC_KINDS = set("biufcmM")


def _array_node(tag, array, blobs):
    """[tag, blob number, dtype, shape]: the array's bytes travel raw, beside the header."""
    array = np.asarray(array, order="C")   # (np.ascontiguousarray would make a 0-d array 1-d)
    blobs.append(array.tobytes())
    return [tag, len(blobs) - 1, array.dtype.str, list(array.shape)]


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    return int(value)


def _is_plain_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS and not value.dtype.hasobject


def encode(value, side, extra=None):
    """The packet of ``value``; objects that are not data are kept by ``side``.

    extra: a JSON-able dict sent beside the value (the request's kind, a token, ...).
    """
    blobs = []

    def node(v, depth):
        special = side.special(v)
        if special is not None:
            return special
        if depth > MAX_DEPTH:
            return ["o", side.name, side.keep(v), type(v).__name__]
        t = type(v)
        if v is None:
            return ["n"]
        if t is bool:
            return ["b", v]
        if t is int:
            return ["i", v]
        if t is float:
            return ["f", repr(v)]
        if t is complex:
            return ["c", repr(v.real), repr(v.imag)]
        if t is str:
            return ["s", v]
        if isinstance(v, np.ndarray) and _is_plain_array(v):
            return _array_node("a", np.asarray(v), blobs)
        if isinstance(v, np.generic) and np.asarray(v).dtype.kind in _NUMERIC_KINDS:
            return _array_node("x", np.asarray(v), blobs)
        if t is tuple:
            return ["t", [node(e, depth + 1) for e in v]]
        if t is list:
            return ["l", [node(e, depth + 1) for e in v]]
        if t is dict and all(type(k) in (str, int) for k in v):
            return ["d", [[node(k, depth + 1), node(e, depth + 1)] for k, e in v.items()]]
        if t is np.random.Generator:
            bits = v.bit_generator
            return ["rng", type(bits).__name__, json.dumps(bits.state, default=_jsonable)]
        if isinstance(v, np.dtype):
            return ["dt", v.str, False]
        if isinstance(v, type) and issubclass(v, np.generic):
            return ["dt", np.dtype(v).str, True]
        if isinstance(v, Remote):
            return ["o", v.owner, v.key, v.kind]
        return ["o", side.name, side.keep(v), t.__name__]

    tree = node(value, 0)
    header = json.dumps({"tree": tree, "sizes": [len(b) for b in blobs], "extra": extra or {}},
                        allow_nan=False).encode()
    return b"".join([MAGIC, struct.pack("<Q", len(header)), header, *blobs])


# --------------------------------------------------------------------------- decoding

def _read_array(blob, dtype, shape):
    """An ndarray from its raw bytes, its dtype and its shape, checked against each other."""
    if not isinstance(dtype, str) or len(dtype) > 16 or not isinstance(shape, list) or len(shape) > 32:
        raise WireError("a malformed array")
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise WireError("an array of an unknown dtype") from None
    if dtype.hasobject or dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
        raise WireError(f"an array of dtype {dtype} is not data")
    count = 1
    for n in shape:
        if type(n) is not int or n < 0:
            raise WireError("a malformed array shape")
        count *= n
    if count * dtype.itemsize != len(blob):
        raise WireError(f"an array of shape {tuple(shape)} and dtype {dtype} with {len(blob)} bytes")
    return np.frombuffer(blob, dtype=dtype, count=count).reshape(shape).copy()


def decode(packet, side, max_packet=MAX_PACKET):
    """(value, extra) from a packet; objects that ``side`` keeps come back as themselves."""
    if not isinstance(packet, (bytes, bytearray)) or len(packet) > max_packet:
        raise WireError(f"a packet larger than {max_packet} bytes")
    if packet[:4] != MAGIC or len(packet) < 12:
        raise WireError("not a packet")
    (size,) = struct.unpack("<Q", packet[4:12])
    if size > MAX_HEADER or 12 + size > len(packet):
        raise WireError("a packet header that is too large or cut short")
    try:
        header = json.loads(packet[12:12 + size].decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError(f"a malformed packet header ({exc})") from None
    if not isinstance(header, dict) or not isinstance(header.get("sizes"), list):
        raise WireError("a malformed packet header")
    sizes = header["sizes"]
    if not all(type(n) is int and n >= 0 for n in sizes) or 12 + size + sum(sizes) != len(packet):
        raise WireError("the packet's arrays do not add up to its length")
    offsets, start = [], 12 + size
    for n in sizes:
        offsets.append((start, start + n))
        start += n
    count = [0]

    def blob(k, dtype, shape):
        if type(k) is not int or not 0 <= k < len(offsets):
            raise WireError("a reference to an array that is not in the packet")
        a, b = offsets[k]
        return _read_array(packet[a:b], dtype, shape)

    def value(n, depth):
        count[0] += 1
        if count[0] > MAX_NODES or depth > MAX_DEPTH + 2:
            raise WireError("a value nested too deep or with too many parts")
        if not isinstance(n, list) or not n or not isinstance(n[0], str):
            raise WireError("a malformed node")
        tag, args = n[0], n[1:]
        try:
            if tag == "n":
                return None
            if tag == "b":
                return bool(args[0]) if type(args[0]) is bool else _bad(tag)
            if tag == "i":
                return args[0] if type(args[0]) is int and abs(args[0]).bit_length() <= 4096 else _bad(tag)
            if tag == "f":
                return float(_number(args[0]))
            if tag == "c":
                return complex(_number(args[0]), _number(args[1]))
            if tag == "s":
                return args[0] if type(args[0]) is str else _bad(tag)
            if tag == "a":
                return blob(args[0], args[1], args[2])
            if tag == "x":
                return blob(args[0], args[1], args[2])[()]
            if tag in ("t", "l"):
                items = [value(e, depth + 1) for e in _list(args[0])]
                return tuple(items) if tag == "t" else items
            if tag == "d":
                out = {}
                for pair in _list(args[0]):
                    if not isinstance(pair, list) or len(pair) != 2:
                        _bad(tag)
                    key = value(pair[0], depth + 1)
                    if type(key) not in (str, int):
                        _bad(tag)
                    out[key] = value(pair[1], depth + 1)
                return out
            if tag == "rng":
                return _generator(args[0], args[1])
            if tag == "dt":
                dtype = np.dtype(str(args[0]))
                if dtype.hasobject:
                    _bad(tag)
                return dtype.type if args[1] else dtype
            if tag == "o":
                owner, key, kind = args[0], args[1], str(args[2])[:80]
                if owner == side.name:
                    if key not in side.kept:
                        raise WireError(f"a reference to an object this side does not hold ({kind})")
                    return side.kept[key]
                if owner not in ("kernel", "grader") or type(key) is not int:
                    _bad(tag)
                return Remote(owner, key, kind)
            resolved = side.resolve(n)
            if resolved is not None:
                return resolved
            raise WireError(f"an unknown node {tag!r}")
        except IndexError:
            raise WireError(f"a malformed {tag!r} node") from None

    return value(header.get("tree"), 0), header.get("extra") or {}


def _bad(tag):
    raise WireError(f"a malformed {tag!r} node")


def _list(v):
    if not isinstance(v, list):
        raise WireError("a malformed sequence")
    return v


def _number(text):
    if not isinstance(text, str) or len(text) > 64:
        raise WireError("a malformed number")
    if text in ("inf", "-inf", "nan"):
        return float(text)
    try:
        return float(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        raise WireError("a malformed number") from None


def _generator(name, state_json):
    if name not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
        raise WireError(f"an unknown bit generator {name!r}")
    if not isinstance(state_json, str) or len(state_json) > 100_000:
        raise WireError("a malformed generator state")
    bits = getattr(np.random, name)()
    try:
        state = json.loads(state_json)
        if isinstance(state, dict) and isinstance(state.get("state"), dict) and name == "MT19937":
            state["state"]["key"] = np.asarray(state["state"]["key"], dtype=np.uint32)
        bits.state = state
    except Exception as exc:
        raise WireError(f"a malformed generator state ({type(exc).__name__})") from None
    return np.random.Generator(bits)


# --------------------------------------------------------------------------- in place

def write_back(original, changed):
    """Copy into ``original`` what a call changed in its copy (arrays, lists, dicts, generators).

    The student's function ran on a copy of the grader's arguments; what it changed in
    place is copied back, so that a check sees the same side effects as in one process.
    """
    if isinstance(original, np.ndarray) and isinstance(changed, np.ndarray):
        if (original.shape == changed.shape and original.dtype == changed.dtype
                and original.flags.writeable and not np.array_equal(original, changed, equal_nan=True)):
            np.copyto(original, changed)
    elif type(original) is list and type(changed) is list:
        merged = []
        for i, item in enumerate(changed):
            if i < len(original) and _mergeable(original[i], item):
                write_back(original[i], item)
                merged.append(original[i])
            else:
                merged.append(item)
        original[:] = merged
    elif type(original) is dict and type(changed) is dict:
        for key in [k for k in original if k not in changed]:
            del original[key]
        for key, item in changed.items():
            if key in original and _mergeable(original[key], item):
                write_back(original[key], item)
            else:
                original[key] = item
    elif type(original) is tuple and type(changed) is tuple and len(original) == len(changed):
        for a, b in zip(original, changed):
            write_back(a, b)
    elif isinstance(original, np.random.Generator) and isinstance(changed, np.random.Generator):
        if type(original.bit_generator) is type(changed.bit_generator):
            original.bit_generator.state = changed.bit_generator.state


def _mergeable(a, b):
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype
    return type(a) is type(b) and type(a) in (list, dict, tuple, np.random.Generator)
