"""A small layer and model API on top of rnnkit's functions, for training whole networks.

Layers (``rnnkit.models.layers``) hold ``params`` and ``grads`` dicts and have
``forward(x)`` / ``backward(dout)``: Affine, TemporalAffine, Embedding, Recurrent,
LastStep, and the Sequential container. Models are Sequentials with a ``loss(*batch)
-> (loss, grads)``: CharRNN, SequenceClassifier, Forecaster. ``train_step`` does one
update; ``save_model`` / ``load_model`` keep a model and its architecture in one .npz file,
and ``restore_optimizer`` continues an interrupted run from it.

    model = CharRNN(V, 128, kind="lstm", rng=0)
    opt = Adam(model.params, lr=2e-3)
    loss, norm = train_step(model, opt, (x, y), clip=5.0)
    model.save("charrnn.npz", optimizer=opt, chars=vocab.chars)
    model = load_model("charrnn.npz")
    opt = restore_optimizer("charrnn.npz", Adam(model.params))
"""
from .base import Model, load_model, restore_optimizer, save_model
from .charrnn import CharRNN
from .layers import Affine, Embedding, LastStep, Layer, Recurrent, Sequential, TemporalAffine
from .sequence_models import Forecaster, SequenceClassifier
from .train import train_step

__all__ = ["Affine", "CharRNN", "Embedding", "Forecaster", "LastStep", "Layer", "Model", "Recurrent",
           "Sequential", "SequenceClassifier", "TemporalAffine", "load_model", "restore_optimizer", "save_model",
           "train_step"]
