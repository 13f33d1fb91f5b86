"""Layer objects: the functional forward/backward pairs with their parameters attached.

Every layer holds ``params`` and, after ``backward``, ``grads``: dicts of arrays
with the same keys. ``forward(x)`` keeps the cache that ``backward(dout)`` needs
and returns the output; ``backward`` stores the parameter gradients and returns
the gradient of the input (None for integer input).

    Affine(D, M)                      (N, D) -> (N, M)
    TemporalAffine(H, V)              (N, T, H) -> (N, T, V)
    Embedding(V, D)                   (N, T) integer ids -> (N, T, D)
    Recurrent(kind, D, H)             (N, T, D) -> (N, T, H), every hidden state
    LastStep()                        (N, T, H) -> (N, H), the state at the last (or given) step
    Sequential(layer, ...)            the layers one after the other

The layers are built with ``rng`` (a Generator, a seed or None) and ``dtype``.
``config()`` returns the constructor arguments (without rng), which is what a
saved model records of its architecture.
"""
import numpy as np

from .._validation import Shapes
from ..gru import gru_backward, gru_forward, gru_step_forward
from ..init import as_rng, recurrent_params, xavier_uniform
from ..layers import (affine_backward, affine_forward, embedding_backward,
                      embedding_forward, temporal_affine_backward, temporal_affine_forward)
from ..lstm import lstm_backward, lstm_cell_state, lstm_forward, lstm_step_forward
from ..rnn import rnn_backward, rnn_forward, rnn_step_forward


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def _dtype_name(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected float32 or float64, got {dtype}")
    return dtype.name


class Layer:
    """Base class: ``params``, ``grads``, ``forward``, ``backward`` and ``config``."""

    def __init__(self, **config):
        self._config = config
        self.cache = None

    @property
    def dtype(self):
        return np.dtype(self._config["dtype"])

    def config(self):
        return dict(self._config)

    def _cache(self):
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self.cache

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


class Affine(Layer):
    """out = x @ W + b. W: Xavier uniform (D, M), b: zeros (M,)."""

    def __init__(self, D, M, rng=None, dtype=np.float64):
        super().__init__(D=_positive_int("D", D), M=_positive_int("M", M), dtype=_dtype_name(dtype))
        self.params = {"W": xavier_uniform((D, M), rng=rng, dtype=dtype), "b": np.zeros(M, dtype=dtype)}
        self.grads = {}

    def forward(self, x):
        out, self.cache = affine_forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = affine_backward(dout, self._cache())
        return dx


class TemporalAffine(Layer):
    """out[:, t] = x[:, t] @ W + b at every step. W: Xavier uniform (H, V), b: zeros (V,)."""

    def __init__(self, H, V, rng=None, dtype=np.float64):
        super().__init__(H=_positive_int("H", H), V=_positive_int("V", V), dtype=_dtype_name(dtype))
        self.params = {"W": xavier_uniform((H, V), rng=rng, dtype=dtype), "b": np.zeros(V, dtype=dtype)}
        self.grads = {}

    def forward(self, x):
        out, self.cache = temporal_affine_forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = temporal_affine_backward(dout, self._cache())
        return dx


class Embedding(Layer):
    """A learned vector for each of V ids. W: (V, D), standard normal, as torch.nn.Embedding."""

    def __init__(self, V, D, rng=None, dtype=np.float64):
        super().__init__(V=_positive_int("V", V), D=_positive_int("D", D), dtype=_dtype_name(dtype))
        self.params = {"W": as_rng(rng).standard_normal((V, D)).astype(dtype)}
        self.grads = {}

    def forward(self, x):
        out, self.cache = embedding_forward(x, self.params["W"])
        return out

    def backward(self, dout):
        self.grads["W"] = embedding_backward(dout, self._cache())
        return None


class Recurrent(Layer):
    """An RNN, LSTM or GRU layer over a whole sequence; forward returns every hidden state.

    - kind: "rnn", "lstm" or "gru"; reset_after chooses the GRU's reset placement
    - params: {"Wx", "Wh", "b"} from :func:`rnnkit.init.recurrent_params`
    - forward(x, state=None): x (N, T, D) -> h (N, T, H). The initial state is ``state``
      when given, else (with ``stateful=True``) the final state of the previous forward,
      else zeros. A state is a tuple: (h,) for "rnn" and "gru", (h, c) for "lstm".
    - after forward, ``self.state`` holds the final state (a copy), so truncated BPTT can
      start the next window where this one ended; gradients never flow into it.
      ``reset_state()`` forgets it.
    - backward(dh): dh (N, T, H) -> dx (N, T, D); also sets ``self.dstate0``, the gradient
      of the initial h.
    - step(x, state): one step with the step functions, for generation; x (N, D) ->
      (h (N, H), new state). It keeps no cache.
    """

    BACKWARD = {"rnn": rnn_backward, "lstm": lstm_backward, "gru": gru_backward}

    def __init__(self, kind, D, H, reset_after=False, recurrent_init="orthogonal", stateful=False,
                 rng=None, dtype=np.float64):
        super().__init__(kind=kind, D=_positive_int("D", D), H=_positive_int("H", H),
                         reset_after=bool(reset_after), recurrent_init=recurrent_init,
                         stateful=bool(stateful), dtype=_dtype_name(dtype))
        self.params = recurrent_params(kind, D, H, rng=rng, dtype=dtype, reset_after=reset_after,
                                       recurrent_init=recurrent_init)
        self.grads = {}
        self.kind, self.D, self.H = kind, D, H
        self.reset_after = bool(reset_after)
        self.state = None
        self.dstate0 = None

    @property
    def stateful(self):
        return self._config["stateful"]

    @stateful.setter
    def stateful(self, value):
        self._config["stateful"] = bool(value)

    def initial_state(self, N):
        """Zeros: (h,) or (h, c), each (N, H)."""
        return tuple(np.zeros((N, self.H), dtype=self.dtype) for _ in range(2 if self.kind == "lstm" else 1))

    def reset_state(self):
        self.state = None

    def _check_state(self, state, N):
        size = 2 if self.kind == "lstm" else 1
        if not isinstance(state, tuple) or len(state) != size:
            raise ValueError(
                f"state: expected a tuple of {size} array{'s' if size > 1 else ''} "
                f"({'(h, c)' if size > 1 else '(h,)'}) for kind {self.kind!r}, got {type(state).__name__}")
        s = Shapes(self.dtype, "the layer's parameters", N=N, H=self.H)
        return tuple(s.array(f"state[{i}]", a, "N H") for i, a in enumerate(state))

    def forward(self, x, state=None):
        x = Shapes(self.dtype, "the layer's parameters", D=self.D).array("x", x, "N T D")
        N, T, _ = x.shape
        if T == 0:
            raise ValueError(f"x: expected at least one time step, got shape {x.shape}")
        if state is None and self.stateful and self.state is not None:
            if self.state[0].shape[0] != N:
                raise ValueError(
                    f"x: a stateful layer carries a state of batch size {self.state[0].shape[0]}, "
                    f"but x has N = {N}; call reset_state() before changing the batch size")
            state = self.state
        state = self.initial_state(N) if state is None else self._check_state(state, N)
        p = self.params
        if self.kind == "lstm":
            h, cache = lstm_forward(x, state[0], p["Wx"], p["Wh"], p["b"], c0=state[1])
            self.state = (h[:, -1].copy(), lstm_cell_state(cache)[:, -1].copy())
        elif self.kind == "gru":
            h, cache = gru_forward(x, state[0], p["Wx"], p["Wh"], p["b"], reset_after=self.reset_after)
            self.state = (h[:, -1].copy(),)
        else:
            h, cache = rnn_forward(x, state[0], p["Wx"], p["Wh"], p["b"])
            self.state = (h[:, -1].copy(),)
        self.cache = cache
        return h

    def backward(self, dh):
        dx, self.dstate0, dWx, dWh, db = self.BACKWARD[self.kind](dh, self._cache())
        self.grads.update(Wx=dWx, Wh=dWh, b=db)
        return dx

    def step(self, x, state):
        p = self.params
        if self.kind == "lstm":
            h, c, _ = lstm_step_forward(x, state[0], state[1], p["Wx"], p["Wh"], p["b"])
            return h, (h, c)
        if self.kind == "gru":
            h, _ = gru_step_forward(x, state[0], p["Wx"], p["Wh"], p["b"], reset_after=self.reset_after)
        else:
            h, _ = rnn_step_forward(x, state[0], p["Wx"], p["Wh"], p["b"])
        return h, (h,)


class LastStep(Layer):
    """The hidden state at the end of each sequence: h (N, T, H) -> (N, H).

    forward(h, lengths=None) takes step T - 1 for every row, or step lengths[n] - 1 of row n
    when the batch is right-padded sequences of the given lengths (each in [1, T]).
    """

    def __init__(self):
        super().__init__()
        self.params, self.grads = {}, {}

    def forward(self, h, lengths=None):
        h = Shapes().array("h", h, "N T H")
        N, T, _ = h.shape
        if lengths is None:
            last = np.full(N, T - 1)
        else:
            lengths = np.asarray(lengths)
            if lengths.dtype.kind not in "iu" or lengths.shape != (N,):
                raise ValueError(
                    f"lengths: expected an integer array of shape (N,) = ({N},), "
                    f"got dtype {lengths.dtype} and shape {lengths.shape}")
            if N and (lengths.min() < 1 or lengths.max() > T):
                raise ValueError(f"lengths: each length must lie in [1, T] = [1, {T}], "
                                 f"got values from {lengths.min()} to {lengths.max()}")
            last = lengths - 1
        self.cache = (h.shape, h.dtype, last)
        return h[np.arange(N), last]

    def backward(self, dout):
        shape, dtype, last = self._cache()
        N, T, H = shape
        dout = Shapes(dtype, N=N, H=H).array("dout", dout, "N H")
        dh = np.zeros(shape, dtype=dtype)
        dh[np.arange(N), last] = dout
        return dh


class Sequential(Layer):
    """Layers applied one after the other; parameters named ``"<layer>.<param>"``.

    Sequential(Embedding(...), Recurrent(...)) names its layers "0", "1", ...;
    Sequential(("embed", Embedding(...)), ("rnn", Recurrent(...))) uses the given names.
    ``params`` and ``grads`` are flat dicts whose arrays are the layers' own, so an
    optimiser built on ``params`` updates the layers.
    """

    def __init__(self, *layers):
        super().__init__()
        self.layers = {}
        for i, item in enumerate(layers):
            name, layer = item if isinstance(item, tuple) else (str(i), item)
            if not isinstance(layer, Layer):
                raise ValueError(f"layers[{i}]: expected a Layer, got {type(layer).__name__}")
            if "." in name or name in self.layers:
                raise ValueError(f"layers[{i}]: the name {name!r} is taken or contains a dot")
            self.layers[name] = layer

    @property
    def params(self):
        return {f"{n}.{k}": v for n, layer in self.layers.items() for k, v in layer.params.items()}

    @property
    def grads(self):
        return {f"{n}.{k}": v for n, layer in self.layers.items() for k, v in layer.grads.items()}

    def forward(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return dout

    def reset_state(self):
        """Forget the carried state of every recurrent layer."""
        for layer in self.layers.values():
            if isinstance(layer, Recurrent):
                layer.reset_state()

    def __repr__(self):
        inner = "".join(f"\n  ({n}): {layer!r}" for n, layer in self.layers.items())
        return f"{type(self).__name__}({inner}\n)"
