"""First-order optimisers that update a dict of parameter arrays in place.

    opt = Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    opt.step(grads)          # grads: dict with exactly the keys of params, same shapes and dtypes

``params`` maps names to float ndarrays; ``step`` changes those very arrays, so a
model that holds them sees the new values without copying. Each optimiser keeps
its running statistics per parameter in ``opt.state[name]``, counts its updates
in ``opt.steps``, and reads its hyper-parameters (``opt.lr`` and the rest) at
every step, so a schedule may change them between steps. ``opt.state_dict()`` and
``opt.load_state_dict(sd)`` let an interrupted run continue exactly.

The update rules are those of ``torch.optim`` with the same defaults, written
out in each class's docstring, so one step here and there agree to rounding:

    SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)
    Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)
    RMSProp(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)
    Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)

weight_decay adds ``weight_decay * p`` to the gradient (an L2 penalty), as torch
does. Gradients are not checked for NaN: a diverging run shows up in the weights.
Left out on purpose, to keep each update readable: torch's ``maximize``, ``amsgrad``,
decoupled weight decay (AdamW) and its foreach/fused/capturable execution options.
"""
import math

import numpy as np


def _check_number(name, value, low=0.0, high=None, low_open=False, high_open=True):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    too_low = value <= low if low_open else value < low
    too_high = high is not None and (value >= high if high_open else value > high)
    if not np.isfinite(value) or too_low or too_high:
        interval = ("(" if low_open else "[") + f"{low}, " + (
            "inf)" if high is None else f"{high}" + (")" if high_open else "]"))
        raise ValueError(f"{name}: expected a value in {interval}, got {value!r}")
    return value


class Optimizer:
    """What every optimiser shares: the parameters, their state, and the checks of ``step``."""

    def __init__(self, params, lr):
        if not isinstance(params, dict) or not params:
            raise ValueError(f"params: expected a non-empty dict of name -> ndarray, got {type(params).__name__}")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise ValueError(
                    f"params[{name!r}]: expected a float ndarray (it is updated in place), "
                    f"got {type(p).__name__}{'' if not isinstance(p, np.ndarray) else ' of dtype ' + str(p.dtype)}")
            if not p.flags.writeable:
                raise ValueError(f"params[{name!r}]: the array is read-only, so it cannot be updated in place")
        self.params = dict(params)
        self.lr = _check_number("lr", lr, low_open=True)
        self.state = {name: {} for name in self.params}
        self.steps = 0

    def _check_grads(self, grads):
        if not isinstance(grads, dict):
            raise ValueError(f"grads: expected a dict of name -> ndarray, got {type(grads).__name__}")
        missing = [k for k in self.params if k not in grads]
        extra = [k for k in grads if k not in self.params]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"unexpected {extra}")
            raise ValueError(
                f"grads: keys must be those of params {list(self.params)}; " + ", ".join(parts))
        for name, p in self.params.items():
            g = grads[name]
            if not isinstance(g, np.ndarray):
                raise ValueError(f"grads[{name!r}]: expected an ndarray, got {type(g).__name__}")
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{name!r}]: expected shape {p.shape} (the shape of params[{name!r}]), got {g.shape}")
            if g.dtype != p.dtype:
                raise ValueError(
                    f"grads[{name!r}]: dtype {g.dtype} does not match params[{name!r}] ({p.dtype})")

    def step(self, grads):
        """Update every parameter in place from ``grads``, a dict with the same keys."""
        self._check_grads(grads)
        self.steps += 1
        for name, p in self.params.items():
            self._update(p, grads[name], self.state[name])

    def _update(self, p, g, state):
        raise NotImplementedError

    def hyperparameters(self):
        """The constructor's keyword arguments as they stand now (lr may have been changed)."""
        return {k: v for k, v in vars(self).items() if k not in ("params", "state", "steps")}

    def state_dict(self):
        """Everything needed to continue: class, hyper-parameters, step count, per-parameter state.

        The arrays are copies. :func:`rnnkit.models.save_model` writes this to a checkpoint.
        """
        return {"class": type(self).__name__, "hyper": self.hyperparameters(), "steps": self.steps,
                "state": {name: {k: a.copy() for k, a in st.items()} for name, st in self.state.items()}}

    def load_state_dict(self, sd):
        """Continue from a :meth:`state_dict` of the same optimiser class over the same parameters."""
        if sd.get("class") != type(self).__name__:
            raise ValueError(f"sd: holds the state of {sd.get('class')!r}, not of {type(self).__name__}")
        if set(sd["state"]) != set(self.params):
            raise ValueError(
                f"sd: parameter names {sorted(sd['state'])} do not match the optimiser's {sorted(self.params)}")
        state = {}
        for name, p in self.params.items():
            state[name] = {}
            for key, a in sd["state"][name].items():
                a = np.asarray(a)
                if a.shape != p.shape:
                    raise ValueError(f"sd: state[{name!r}][{key!r}] has shape {a.shape}, expected {p.shape}")
                state[name][key] = a.astype(p.dtype, copy=True)
        hyper = dict(sd["hyper"])
        if "betas" in hyper:
            hyper["betas"] = tuple(hyper["betas"])
        unknown = set(hyper) - set(self.hyperparameters())
        if unknown:
            raise ValueError(f"sd: unknown hyper-parameters {sorted(unknown)} for {type(self).__name__}")
        vars(self).update(hyper)
        self.steps = int(sd["steps"])
        self.state = state

    def _decayed(self, p, g):
        return g + self.weight_decay * p if self.weight_decay else g

    def __repr__(self):
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

        g = grad + weight_decay * p
        buf = g at the first step, then buf = momentum * buf + (1 - dampening) * g
        step = g + momentum * buf   (nesterov)   or   buf   (plain momentum)   or   g
        p -= lr * step
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr)
        self.momentum = _check_number("momentum", momentum, 0.0, 1.0)
        self.dampening = _check_number("dampening", dampening, 0.0, 1.0, high_open=False)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov: needs momentum > 0 and dampening = 0")
        self.nesterov = bool(nesterov)

    def _update(self, p, g, state):
        g = self._decayed(p, g)
        if self.momentum:
            buf = state.get("momentum")
            if buf is None:
                buf = state["momentum"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1.0 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011): a per-entry step that shrinks with the gradients seen.

        g = grad + weight_decay * p
        sum += g * g
        p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        super().__init__(params, lr)
        self.lr_decay = _check_number("lr_decay", lr_decay)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.initial_accumulator_value = _check_number("initial_accumulator_value", initial_accumulator_value)
        self.eps = _check_number("eps", eps)
        for name, p in self.params.items():
            self.state[name]["sum"] = np.full_like(p, self.initial_accumulator_value)

    def _update(self, p, g, state):
        g = self._decayed(p, g)
        clr = self.lr / (1.0 + (self.steps - 1) * self.lr_decay)
        state["sum"] += g * g
        p -= clr * (g / (np.sqrt(state["sum"]) + self.eps))


class RMSProp(Optimizer):
    """RMSProp (Tieleman and Hinton, 2012): divide by a running RMS of the gradient.

        g = grad + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        centered: avg_g = alpha * avg_g + (1 - alpha) * g;  d = sqrt(sq - avg_g^2) + eps
        otherwise:                                          d = sqrt(sq) + eps
        momentum > 0: buf = momentum * buf + g / d;  p -= lr * buf
        otherwise:    p -= lr * g / d

    Named ``torch.optim.RMSprop`` in PyTorch; eps is added outside the square root, as there.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, lr)
        self.alpha = _check_number("alpha", alpha, 0.0, 1.0)
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.momentum = _check_number("momentum", momentum, 0.0, 1.0)
        self.centered = bool(centered)

    def _update(self, p, g, state):
        g = self._decayed(p, g)
        if not state:
            state["square_avg"] = np.zeros_like(p)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p)
            if self.momentum:
                state["momentum"] = np.zeros_like(p)
        sq = state["square_avg"]
        sq *= self.alpha
        sq += (1.0 - self.alpha) * (g * g)
        if self.centered:
            avg_g = state["grad_avg"]
            avg_g += (1.0 - self.alpha) * (g - avg_g)
            denom = np.sqrt(sq - avg_g * avg_g)
        else:
            denom = np.sqrt(sq)
        denom += self.eps
        if self.momentum:
            buf = state["momentum"]
            buf *= self.momentum
            buf += g / denom
            p -= self.lr * buf
        else:
            p -= self.lr * (g / denom)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): momentum on the gradient and on its square, bias-corrected.

        g = grad + weight_decay * p
        m = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (_check_number("betas[0]", beta1, 0.0, 1.0), _check_number("betas[1]", beta2, 0.0, 1.0))
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)

    def _update(self, p, g, state):
        g = self._decayed(p, g)
        beta1, beta2 = self.betas
        if not state:
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - beta1) * (g - m)
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        t = self.steps
        step_size = self.lr / (1.0 - beta1 ** t)
        denom = np.sqrt(v) / math.sqrt(1.0 - beta2 ** t)
        denom += self.eps
        p -= step_size * (m / denom)
