"""Many-to-one models: read a whole sequence, answer from the last hidden state.

    SequenceClassifier(D, H, C)   (N, T, D) features, or (N, T) ids with vocab_size -> (N, C) scores
    Forecaster(D, H, horizon)     (N, T, D) window -> (N, horizon, out_dim) next values

Both stack recurrent layers "rnn0", "rnn1", ..., take the state of the last step
("last", which may be told each row's length), and put an affine layer ("head") on it.
"""
import numpy as np

from .._validation import Shapes
from ..init import as_rng
from ..layers import mse_loss, softmax_loss
from .base import Model, recurrent_stack
from .layers import Affine, Embedding, LastStep, _positive_int


class _ManyToOne(Model):
    """Recurrent layers, the last step, and an affine head; forward accepts ``lengths``."""

    def forward(self, x, lengths=None):
        for layer in self.layers.values():
            x = layer.forward(x, lengths) if isinstance(layer, LastStep) else layer.forward(x)
        return x


class SequenceClassifier(_ManyToOne):
    """Many-to-one classification: one label in [0, C) for each sequence.

    - D: input features per step, or the embedding size when ``vocab_size`` is given and
      the input is (N, T) integer ids
    - H: hidden size; C: number of classes; kind, num_layers, reset_after as in CharRNN
    - forward(x, lengths=None) -> scores (N, C); ``lengths`` (N,) gives the true length of
      each right-padded sequence, so the answer is read at its last real step
    """

    def __init__(self, D, H, C, kind="lstm", num_layers=1, vocab_size=None, reset_after=False,
                 rng=None, dtype=np.float64):
        rng = as_rng(rng)
        layers = []
        if vocab_size is not None:
            layers.append(("embed", Embedding(vocab_size, D, rng=rng, dtype=dtype)))
        layers += recurrent_stack(kind, D, H, num_layers, reset_after, False, rng, dtype)
        layers += [("last", LastStep()), ("head", Affine(H, _positive_int("C", C), rng=rng, dtype=dtype))]
        config = dict(D=D, H=H, C=C, kind=kind, num_layers=int(num_layers), vocab_size=vocab_size,
                      reset_after=bool(reset_after), dtype=np.dtype(dtype).name)
        super().__init__(config, *layers)

    def loss(self, x, y, lengths=None):
        """Mean softmax cross-entropy of the labels y (N,). Returns (loss, grads)."""
        loss, dscores = softmax_loss(self.forward(x, lengths), y)
        self.backward(dscores)
        return loss, self.grads

    def predict(self, x, lengths=None):
        """The most likely class of each sequence, (N,) int64."""
        return np.argmax(self.forward(x, lengths), axis=1)


class Forecaster(_ManyToOne):
    """Sequence -> the next ``horizon`` values of a series, trained on mean squared error.

    - D: features per input step; H: hidden size; horizon: steps predicted
    - out_dim: features predicted per step (D when None)
    - forward(x) -> (N, horizon, out_dim), the shape of the targets Y of
      :func:`rnnkit.data.sliding_windows`
    """

    def __init__(self, D, H, horizon=1, out_dim=None, kind="gru", num_layers=1, reset_after=False,
                 rng=None, dtype=np.float64):
        out_dim = D if out_dim is None else out_dim
        rng = as_rng(rng)
        horizon, out_dim = _positive_int("horizon", horizon), _positive_int("out_dim", out_dim)
        layers = recurrent_stack(kind, D, H, num_layers, reset_after, False, rng, dtype)
        layers += [("last", LastStep()), ("head", Affine(H, horizon * out_dim, rng=rng, dtype=dtype))]
        config = dict(D=D, H=H, horizon=horizon, out_dim=out_dim, kind=kind, num_layers=int(num_layers),
                      reset_after=bool(reset_after), dtype=np.dtype(dtype).name)
        super().__init__(config, *layers)

    def forward(self, x, lengths=None):
        out = super().forward(x, lengths)
        return out.reshape(out.shape[0], self._config["horizon"], self._config["out_dim"])

    def backward(self, dout):
        N = dout.shape[0]
        return super().backward(dout.reshape(N, -1))

    def loss(self, x, y, lengths=None):
        """Mean squared error against y (N, horizon, out_dim). Returns (loss, grads)."""
        pred = self.forward(x, lengths)
        N, horizon, out_dim = pred.shape
        y = Shapes(pred.dtype, "the model's dtype", N=N, horizon=horizon, out_dim=out_dim).array(
            "y", y, "N horizon out_dim")
        loss, dpred = mse_loss(pred, y)
        self.backward(dpred)
        return loss, self.grads
