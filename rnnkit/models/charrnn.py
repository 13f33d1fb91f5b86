"""A character-level language model: embedding -> recurrent layers -> scores over the vocabulary.

    model = CharRNN(V, H, kind="lstm", num_layers=2, rng=0)
    loss, grads = model.loss(x, y)         # x, y: (N, T) ids, y the next character of x
    ids = model.sample(seed_ids, 200, temperature=0.8, rng=0)

Parameters are named "embed.W", "rnn0.Wx", "rnn0.Wh", "rnn0.b", ..., "out.W", "out.b".
"""
import numpy as np

from ..init import as_rng
from ..layers import check_indices
from ..loss import temporal_softmax_loss
from ..sampling import sample_logits
from .base import Model, recurrent_stack
from .layers import Embedding, TemporalAffine


class CharRNN(Model):
    """Embedding (V, D) -> num_layers recurrent layers of width H -> temporal affine (H, V).

    - V: vocabulary size; H: hidden size; D: embedding size (H when None)
    - kind: "rnn", "lstm" or "gru"; reset_after: the GRU's reset placement
    - stateful: start each forward from the final state of the previous one (truncated
      BPTT over consecutive windows, as :func:`rnnkit.data.bptt_batches` makes them);
      call ``reset_state()`` at the start of each pass over the text
    """

    def __init__(self, V, H, D=None, kind="lstm", num_layers=1, reset_after=False, stateful=False,
                 rng=None, dtype=np.float64):
        D = H if D is None else D
        rng = as_rng(rng)
        embed = Embedding(V, D, rng=rng, dtype=dtype)
        stack = recurrent_stack(kind, D, H, num_layers, reset_after, stateful, rng, dtype)
        out = TemporalAffine(H, V, rng=rng, dtype=dtype)
        config = dict(V=V, H=H, D=D, kind=kind, num_layers=int(num_layers), reset_after=bool(reset_after),
                      stateful=bool(stateful), dtype=embed.dtype.name)
        super().__init__(config, ("embed", embed), *stack, ("out", out))

    @property
    def stateful(self):
        """True when each forward starts from the state where the previous one ended."""
        return self._config["stateful"]

    @stateful.setter
    def stateful(self, value):
        self._config["stateful"] = bool(value)
        for layer in self.recurrent_layers:
            layer.stateful = bool(value)
            layer.reset_state()

    @property
    def recurrent_layers(self):
        return [layer for name, layer in self.layers.items() if name.startswith("rnn")]

    def forward(self, x):
        """x: (N, T) ids -> scores (N, T, V)."""
        return super().forward(x)

    def loss(self, x, y, mask=None):
        """Mean cross-entropy of predicting y (N, T) from x (N, T), in nats per character.

        Returns (loss, grads); grads has the keys of ``params``.
        """
        loss, dscores = temporal_softmax_loss(self.forward(x), y, mask)
        self.backward(dscores)
        return loss, self.grads

    def _step(self, token, states):
        """Scores (V,) after reading one id, and the new states of every layer."""
        x = self.layers["embed"].params["W"][token][None, :]
        new_states = []
        for layer, state in zip(self.recurrent_layers, states):
            x, state = layer.step(x, state)
            new_states.append(state)
        out = self.layers["out"].params
        return (x @ out["W"] + out["b"])[0], new_states

    def sample(self, seed_ids, length, temperature=1.0, rng=None, top_k=None):
        """Generate ``length`` ids after reading ``seed_ids`` (1-D, at least one id).

        One step at a time with the step functions, batch size 1, from zero states; each
        id is drawn by :func:`rnnkit.sampling.sample_logits` (temperature 0: the argmax).
        Returns an int64 array of shape (length,), without the seed.
        """
        V = self._config["V"]
        seed_ids = check_indices("seed_ids", seed_ids, V, ndim=1)
        if seed_ids.size == 0:
            raise ValueError("seed_ids: needs at least one id to start from")
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(f"length: expected a non-negative integer, got {length!r}")
        rng = as_rng(rng)
        states = [layer.initial_state(1) for layer in self.recurrent_layers]
        for token in seed_ids:
            scores, states = self._step(int(token), states)
        out = np.empty(length, dtype=np.int64)
        for t in range(length):
            out[t] = sample_logits(scores, temperature, top_k, rng)
            if t + 1 < length:
                scores, states = self._step(out[t], states)
        return out
