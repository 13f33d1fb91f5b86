"""The codec between the grader and the student's kernel: data in, data out, nothing else.

Values make the round trip exactly; objects that are not data stay on their side as
references; and every malformed or oversized packet a hostile kernel could write is
refused with WireError before anything large is allocated.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from autograder import wire  # noqa: E402
from autograder.remote import student_exception  # noqa: E402


def roundtrip(value):
    return wire.decode(wire.encode(value, wire.Side("kernel")), wire.Side("grader"))[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int64, np.uint16, np.bool_, np.complex128])
def test_arrays_and_scalars_keep_values_shapes_and_dtypes(dtype):
    rng = np.random.default_rng(0)
    for shape in [(), (0,), (3,), (2, 0, 4), (2, 3, 4)]:
        a = np.asarray(rng.normal(size=shape) * 10).astype(dtype)
        b = roundtrip(a)
        assert isinstance(b, np.ndarray) and b.shape == a.shape and b.dtype == a.dtype and np.array_equal(a, b)
    scalar = roundtrip(dtype(3))
    assert type(scalar) is dtype and scalar == dtype(3)
    fortran = np.asfortranarray(np.arange(12).reshape(3, 4).astype(dtype))
    assert np.array_equal(roundtrip(fortran), fortran)


def test_python_values_and_containers():
    value = {"a": [1, 2.5, float("inf"), float("-inf"), None, True, "text", 3 + 4j, 2 ** 80],
             "b": (np.zeros(2), [np.ones((1, 1))]), 7: ()}
    out = roundtrip(value)
    assert out["a"][:4] == [1, 2.5, float("inf"), float("-inf")] and out["a"][4:7] == [None, True, "text"]
    assert out["a"][7] == 3 + 4j and out["a"][8] == 2 ** 80 and out[7] == ()
    assert isinstance(out["b"], tuple) and np.array_equal(out["b"][1][0], np.ones((1, 1)))
    assert np.isnan(roundtrip(float("nan")))
    assert roundtrip(np.float32) is np.float32 and roundtrip(np.dtype("int16")) == np.dtype("int16")


def test_a_generator_travels_by_its_state():
    rng = np.random.default_rng(5)
    copy = roundtrip(rng)
    assert copy is not rng and copy.normal() == rng.normal()


def test_what_is_not_data_stays_on_its_side():
    kernel = wire.Side("kernel")

    class Cache:
        pass

    cache = Cache()
    packet = wire.encode({"h": np.ones(2), "cache": cache, "object array": np.array([cache], dtype=object)}, kernel)
    seen, _ = wire.decode(packet, wire.Side("grader"))
    assert isinstance(seen["cache"], wire.Remote) and seen["cache"].owner == "kernel"
    back, _ = wire.decode(wire.encode(seen["cache"], wire.Side("grader")), kernel)
    assert back is cache   # the kernel gets its own object back
    with pytest.raises(wire.WireError, match="does not hold"):
        wire.decode(wire.encode(wire.Remote("grader", 99, "x"), kernel), wire.Side("grader"))


def packet(tree, blobs=(), extra=None):
    header = json.dumps({"tree": tree, "sizes": [len(b) for b in blobs], "extra": extra or {}}).encode()
    return b"".join([wire.MAGIC, struct.pack("<Q", len(header)), header, *blobs])


@pytest.mark.parametrize("name, data", [
    ("not a packet", b"PK\x03\x04 a zip"),
    ("cut short", wire.MAGIC + struct.pack("<Q", 1000) + b"{}"),
    ("header not JSON", wire.MAGIC + struct.pack("<Q", 3) + b"{{{"),
    ("arrays do not add up", packet(["a", 0, "<f8", [2]], [b"\0" * 16])[:-1]),
    ("object dtype", packet(["a", 0, "|O", [1]], [b"\0" * 8])),
    ("structured dtype", packet(["a", 0, "V8", [1]], [b"\0" * 8])),
    ("huge shape, few bytes", packet(["a", 0, "<f8", [10 ** 9, 10 ** 9]], [b"\0" * 8])),
    ("negative shape", packet(["a", 0, "<f8", [-1]], [b""])),
    ("array not in the packet", packet(["a", 3, "<f8", [1]], [b"\0" * 8])),
    ("unknown tag", packet(["exec", "print(1)"])),
    ("bad number", packet(["f", "__import__('os')"])),
    ("bad generator", packet(["rng", "Evil", "{}"])),
    ("too deep", packet(json.loads("[\"l\", [" * 200 + "[\"n\"]" + "]]" * 200))),
    ("too many parts", packet(["l", [["n"]] * (wire.MAX_NODES + 1)])),
])
def test_a_hostile_packet_is_refused(name, data):
    with pytest.raises(wire.WireError):
        wire.decode(data, wire.Side("grader"))


def test_a_packet_larger_than_the_limit_is_refused_before_reading():
    with pytest.raises(wire.WireError, match="larger than"):
        wire.decode(b"\0" * 2048, wire.Side("grader"), max_packet=1024)


def test_write_back_copies_what_a_call_changed_in_place():
    grads = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    original_w = grads["W"]
    rng = np.random.default_rng(1)
    changed = roundtrip([grads, rng])
    changed[0]["W"] *= 0.5
    changed[0]["new"] = 1
    changed[1].normal()
    wire.write_back([grads, rng], changed)
    assert grads["W"] is original_w and np.all(original_w == 0.5) and grads["new"] == 1
    assert rng.bit_generator.state == changed[1].bit_generator.state


def test_a_students_exception_is_rebuilt_by_name_only():
    assert isinstance(student_exception(["ValueError", "bad"]), ValueError)
    custom = student_exception(["MyError", "boom"])
    assert type(custom).__name__ == "MyError" and str(custom) == "boom" and isinstance(custom, Exception)
    assert isinstance(student_exception(["SystemExit", "0"]), RuntimeError)
    assert type(student_exception(["not a name!", "x"])).__name__ == "Exception"
