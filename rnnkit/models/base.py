"""What every model shares: named layers, flat parameter dicts, saving and loading.

A model is a :class:`~rnnkit.models.layers.Sequential` that also

- records its constructor arguments (``config()``), which is its architecture;
- computes ``loss(*batch) -> (loss, grads)``: forward, loss and backward in one call;
- saves itself with ``save(path, **meta)`` to one ``.npz`` file holding every parameter
  and, as JSON, the class, the architecture and ``meta`` (say, the vocabulary);
  ``load_model(path)`` rebuilds the model from that file alone, with ``model.meta`` set.

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

    @property
    def stateful(self):
        """True when each forward starts from the state where the previous one ended."""
        return self._config.get("stateful", False)

    @stateful.setter
    def stateful(self, value):
        self._config["stateful"] = bool(value)
        for layer in self.layers.values():
            if isinstance(layer, Recurrent):
                layer.stateful = bool(value)
                layer.reset_state()

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

    def save(self, path, **meta):
        """Write the parameters, the architecture and ``meta`` (JSON-serialisable) to ``path``."""
        save_model(self, path, **meta)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})  # {self.num_params()} parameters"


def save_model(model, path, **meta):
    """Save ``model`` to the .npz file ``path`` (the name is used exactly as given)."""
    if not isinstance(model, Model):
        raise ValueError(f"model: expected an rnnkit model, got {type(model).__name__}")
    try:
        arch = json.dumps({"format": FORMAT, "class": type(model).__name__,
                           "config": model.config(), "meta": meta})
    except TypeError as exc:
        raise ValueError(f"meta: every value must be JSON-serialisable ({exc})") from None
    arrays = {PARAM_PREFIX + name: p for name, p in model.params.items()}
    arrays[ARCH_KEY] = np.array(arch)
    path = os.fspath(path)
    tmp = f"{path}.partial"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def load_model(path):
    """Rebuild the model saved at ``path``; its ``meta`` dict is set from the file."""
    with np.load(os.fspath(path), allow_pickle=False) as data:
        if ARCH_KEY not in data.files:
            raise ValueError(f"path: {os.fspath(path)!r} is not a saved rnnkit model (no architecture record)")
        arch = json.loads(str(data[ARCH_KEY]))
        params = {k[len(PARAM_PREFIX):]: data[k] for k in data.files if k.startswith(PARAM_PREFIX)}
    if arch.get("format") != FORMAT:
        raise ValueError(f"path: file format {arch.get('format')!r} is not the supported format {FORMAT}")
    cls = Model.registry.get(arch["class"])
    if cls is None:
        raise ValueError(f"path: unknown model class {arch['class']!r}; known: {sorted(Model.registry)}")
    model = cls(**arch["config"])
    model.load_params(params)
    model.meta = arch["meta"]
    return model
