"""Numerical gradients and the relative error used to compare gradients."""
import numpy as np


def rel_error(a, b):
    """max |a - b| / max(1e-8, |a| + |b|), taken elementwise, as a float."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: a has shape {a.shape} but b has shape {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, df, h=1e-5):
    """Centred-difference gradient of sum(f(x) * df) with respect to x.

    f is called with x modified in place, one element at a time; x is restored
    before returning. Returns an array shaped like x.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError("x: expected a floating ndarray that f reads (it is perturbed in place)")
    df = np.asarray(df)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.sum(np.asarray(f(x)) * df)
        x[ix] = old - h
        neg = np.sum(np.asarray(f(x)) * df)
        x[ix] = old
        grad[ix] = (pos - neg) / (2 * h)
        it.iternext()
    return grad


def check_gradients(forward, backward, inputs, seed=0, h=1e-5):
    """Gradient-check every input of a forward/backward pair; return {name: rel_error}.

    - forward(**inputs) returns (out, cache) where out is an array or a tuple of arrays
    - backward(douts, cache) returns the gradients of the inputs, as a dict keyed like inputs
      (only the keys present are checked)
    A random upstream gradient is drawn for every output.
    """
    rng = np.random.default_rng(seed)
    out, cache = forward(**inputs)
    outs = out if isinstance(out, tuple) else (out,)
    douts = tuple(rng.standard_normal(o.shape).astype(o.dtype) for o in outs)
    grads = backward(douts if isinstance(out, tuple) else douts[0], cache)
    errors = {}
    for name, analytic in grads.items():
        x = inputs[name]

        def objective(_, name=name):
            o = forward(**inputs)[0]
            o = o if isinstance(o, tuple) else (o,)
            return sum(np.sum(oi * di) for oi, di in zip(o, douts))

        numeric = numerical_gradient(objective, x, 1.0, h=h)
        errors[name] = rel_error(analytic, numeric)
    return errors


def worst_error(errors):
    """(name, error) of the largest relative error in a check_gradients result."""
    name = max(errors, key=errors.get)
    return name, errors[name]
