"""Variants of the recurrent layer, each a forward/backward pair built on rnnkit's core cells.

One module a variant: bidirectional, stacked, residual, peephole (LSTM), mgu (minimal gated
unit), dilated, phased (phased LSTM), grid (2-D grid LSTM), attention (dot-product and
additive, and a small sequence-to-sequence model), fused (the fused sequence path against
the cell-by-cell one).
"""
from ._cells import init_params
from .attention import (additive_attention_backward, additive_attention_forward, dot_attention_backward,
                        dot_attention_forward, init_seq2seq, seq2seq_backward, seq2seq_forward)
from .bidirectional import bidirectional_backward, bidirectional_forward
from .dilated import dilated_backward, dilated_forward, stacked_dilated, stacked_dilated_backward
from .fused import cellwise_backward, cellwise_forward, time_paths
from .grid import grid_lstm_backward, grid_lstm_forward, init_grid_params
from .mgu import mgu_backward, mgu_forward, mgu_step_backward, mgu_step_forward
from .peephole import (peephole_backward, peephole_forward, peephole_step_backward,
                       peephole_step_forward)
from .phased import phased_lstm_backward, phased_lstm_forward, time_gate
from .residual import residual_backward, residual_forward
from .stacked import stacked_backward, stacked_forward
