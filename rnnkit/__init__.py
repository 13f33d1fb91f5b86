"""rnnkit: recurrent networks in NumPy, the reference implementation of the course."""
from .activations import log_softmax, relu, sigmoid, softmax
from .clip import clip_grad_norm, clip_grad_value, global_norm
from .gradcheck import check_gradients, numerical_gradient, rel_error, worst_error
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .loss import temporal_softmax_loss
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from ._sealed import ReferenceUnavailable, sealed_for


# The library beyond the contract's functions, reachable as rnnkit.<module>.
# (rnnkit.widgets needs ipywidgets and matplotlib, so it is imported only where used.)
from . import data, datasets, init, layers, models, optim, sampling, tasks, variants
from .init import identity, orthogonal, recurrent_params, xavier_normal, xavier_uniform
from .models import CharRNN, Forecaster, SequenceClassifier, load_model, save_model, train_step
from .optim import SGD, Adagrad, Adam, RMSProp

__version__ = "0.1.0"
