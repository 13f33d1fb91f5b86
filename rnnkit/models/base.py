"""What every model shares: named layers, flat parameter dicts, saving and loading.

A model is a :class:`~rnnkit.models.layers.Sequential` that also

- records its constructor arguments (``config()``), which is its architecture;
- computes ``loss(*batch) -> (loss, grads)``: forward, loss and backward in one call;
- saves itself with ``save(path, optimizer=None, **meta)`` to one ``.npz`` file holding
  every parameter and, as JSON, the class, the architecture and ``meta`` (say, the
  vocabulary); ``load_model(path)`` rebuilds the model from that file alone, with
  ``model.meta`` set. Given an optimiser, the file is also a checkpoint:
  ``restore_optimizer(path, opt)`` puts its state into a new optimiser built on the
  loaded model's params, and training continues as if it had never stopped.

The file is written next to its destination and then renamed over it, so a run
interrupted while saving leaves the previous file whole.
"""
import json
import os

import numpy as np

from .layers import Recurrent, Sequential

FORMAT = 1
ARCH_KEY = "__model__"
PARAM_PREFIX = "param:"
OPTIM_PREFIX = "optim:"


class Model(Sequential):
    """Base class of the models; subclasses are registered by class name for :func:`load_model`."""

    registry = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Model.registry[cls.__name__] = cls

    def __init__(self, config, *layers):
        super().__init__(*layers)
        self._config = config
        self.meta = {}

    @property
    def dtype(self):
        return np.dtype(self._config["dtype"])

    def num_params(self):
        return int(sum(p.size for p in self.params.values()))

    def loss(self, *batch):
        raise NotImplementedError

    def load_params(self, params):
        """Copy ``params`` (name -> array) into the model's own arrays, checking every name and shape.

        The arrays are overwritten in place, so an optimiser built on ``model.params``
        keeps working.
        """
        own = self.params
        missing = sorted(set(own) - set(params))
        extra = sorted(set(params) - set(own))
        if missing or extra:
            raise ValueError(f"params: names do not match the model's; missing {missing}, unexpected {extra}")
        for name, p in own.items():
            given = np.asarray(params[name])
            if given.shape != p.shape:
                raise ValueError(f"params[{name!r}]: expected shape {p.shape}, got {given.shape}")
            if given.dtype != p.dtype:
                raise ValueError(f"params[{name!r}]: expected dtype {p.dtype}, got {given.dtype}")
        for name, p in own.items():
            np.copyto(p, params[name])

    def save(self, path, optimizer=None, **meta):
        """Write the parameters, the architecture, ``meta`` (JSON-serialisable) and,
        when given, the optimiser's state to ``path``."""
        save_model(self, path, optimizer=optimizer, **meta)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})  # {self.num_params()} parameters"


def recurrent_stack(kind, D, H, num_layers, reset_after, stateful, rng, dtype):
    """The named layers "rnn0", "rnn1", ...: the first reads D features, the others H."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
        raise ValueError(f"num_layers: expected a positive integer, got {num_layers!r}")
    return [(f"rnn{k}", Recurrent(kind, D if k == 0 else H, H, reset_after=reset_after, stateful=stateful,
                                  rng=rng, dtype=dtype))
            for k in range(num_layers)]


def save_model(model, path, optimizer=None, **meta):
    """Save ``model`` (and ``optimizer``'s state, if given) to the .npz file ``path``, name as given."""
    if not isinstance(model, Model):
        raise ValueError(f"model: expected an rnnkit model, got {type(model).__name__}")
    record = {"format": FORMAT, "class": type(model).__name__, "config": model.config(), "meta": meta}
    arrays = {PARAM_PREFIX + name: p for name, p in model.params.items()}
    if optimizer is not None:
        sd = optimizer.state_dict()
        own = model.params
        if set(optimizer.params) != set(own) or any(optimizer.params[k] is not p for k, p in own.items()):
            raise ValueError("optimizer: its parameters are not the model's arrays (build it on model.params)")
        record["optimizer"] = {"class": sd["class"], "hyper": sd["hyper"], "steps": sd["steps"]}
        for name, st in sd["state"].items():
            for key, a in st.items():
                arrays[f"{OPTIM_PREFIX}{name}:{key}"] = a
    try:
        arrays[ARCH_KEY] = np.array(json.dumps(record))
    except TypeError as exc:
        raise ValueError(f"meta: every value must be JSON-serialisable ({exc})") from None
    path = os.fspath(path)
    tmp = f"{path}.partial"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def _read(path):
    with np.load(os.fspath(path), allow_pickle=False) as data:
        if ARCH_KEY not in data.files:
            raise ValueError(f"path: {os.fspath(path)!r} is not a saved rnnkit model (no architecture record)")
        record = json.loads(str(data[ARCH_KEY]))
        arrays = {k: data[k] for k in data.files if k != ARCH_KEY}
    if record.get("format") != FORMAT:
        raise ValueError(f"path: file format {record.get('format')!r} is not the supported format {FORMAT}")
    return record, arrays


def load_model(path):
    """Rebuild the model saved at ``path``; its ``meta`` dict is set from the file."""
    record, arrays = _read(path)
    cls = Model.registry.get(record["class"])
    if cls is None:
        raise ValueError(f"path: unknown model class {record['class']!r}; known: {sorted(Model.registry)}")
    model = cls(**record["config"])
    model.load_params({k[len(PARAM_PREFIX):]: a for k, a in arrays.items() if k.startswith(PARAM_PREFIX)})
    model.meta = record["meta"]
    return model


def restore_optimizer(path, optimizer):
    """Load the optimiser state saved with the model at ``path`` into ``optimizer``; return it."""
    record, arrays = _read(path)
    if "optimizer" not in record:
        raise ValueError(f"path: {os.fspath(path)!r} was saved without an optimizer")
    state = {name: {} for name in optimizer.params}
    for k, a in arrays.items():
        if k.startswith(OPTIM_PREFIX):
            name, key = k[len(OPTIM_PREFIX):].rsplit(":", 1)
            state.setdefault(name, {})[key] = a
    optimizer.load_state_dict({**record["optimizer"], "state": state})
    return optimizer
