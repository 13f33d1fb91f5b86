"""Train the character-level LSTM language model of notebook 07 on Shakespeare with rnnkit.

    python benchmarks/train_charlm.py --seconds 600 --out data/charlm_shakespeare.npz

The model is embedding -> LSTM -> affine -> softmax, trained with truncated BPTT
(the state is carried from one batch to the next, see rnnkit.data.bptt_batches), Adam
with a learning rate decayed linearly over the time budget, and gradient clipping by
global norm. Set OPENBLAS_NUM_THREADS before running to choose the number of threads. The file it writes holds the parameters (float32)
and the vocabulary; notebook 07 loads it so that sampling is instant.
:mod:`bench_charlm` imports :class:`CharLM` and :func:`train` from here.
"""
import argparse
import json
import math
import os
import time

import numpy as np

import rnnkit
from rnnkit.data import CharVocab, bptt_batches
from rnnkit.datasets import load_shakespeare, split_text
from rnnkit.layers import (embedding_backward, embedding_forward, temporal_affine_backward,
                           temporal_affine_forward)
from rnnkit.lstm import lstm_cell_state
from rnnkit.optim import Adam

# The hyper-parameters shared with the PyTorch twin in bench_charlm.py.
# Chosen by 180 s runs on two cores (validation bits/char at the end): batch 32 with lr 1e-2
# gave 2.32 on a loaded machine; on an idle one batch 64 gave 1.99 with lr 1e-2, 1.96 with
# 2e-2 and 1.98 with 3e-2; H = 384 (fewer steps) 2.00; batches of 64 x 32 characters 1.99.
HYPER = dict(embed=64, hidden=256, batch=64, seq_len=64, lr=2e-2, max_norm=5.0, val_fraction=0.1, seed=0)
BITS_PER_NAT = 1 / math.log(2)


def schedule(elapsed, seconds, lr):
    """The learning rate after ``elapsed`` of ``seconds`` of training: linear decay to 5 % of lr."""
    return lr * (0.05 + 0.95 * max(0.0, 1.0 - elapsed / seconds))


class CharLM:
    """Embedding (V, E) -> LSTM (E -> H) -> affine (H -> V), parameters in ``self.params``."""

    def __init__(self, V, embed, hidden, rng=0, dtype=np.float32):
        rng = np.random.default_rng(rng)
        E, H = embed, hidden
        k = 1 / math.sqrt(H)
        b = np.zeros(4 * H)
        b[H:2 * H] = 1.0  # forget-gate bias 1: remember by default at the start of training
        self.params = {
            "W_embed": rng.normal(0, 1, (V, E)),
            "Wx": rng.uniform(-k, k, (E, 4 * H)),
            "Wh": rng.uniform(-k, k, (H, 4 * H)),
            "b": b,
            "W_out": rng.uniform(-k, k, (H, V)),
            "b_out": np.zeros(V),
        }
        self.params = {n: p.astype(dtype) for n, p in self.params.items()}
        self.V, self.E, self.H, self.dtype = V, E, H, np.dtype(dtype)

    def zero_state(self, N):
        return np.zeros((N, self.H), self.dtype), np.zeros((N, self.H), self.dtype)

    def loss(self, x, y, state):
        """Mean loss (nats per character) of predicting y from x; its gradients; the final state."""
        p = self.params
        h0, c0 = state
        emb, emb_cache = embedding_forward(x, p["W_embed"])
        h, lstm_cache = rnnkit.lstm_forward(emb, h0, p["Wx"], p["Wh"], p["b"], c0=c0)
        scores, out_cache = temporal_affine_forward(h, p["W_out"], p["b_out"])
        loss, dscores = rnnkit.temporal_softmax_loss(scores, y)
        dh, dW_out, db_out = temporal_affine_backward(dscores, out_cache)
        demb, _, dWx, dWh, db = rnnkit.lstm_backward(dh, lstm_cache)
        grads = {"W_embed": embedding_backward(demb, emb_cache), "Wx": dWx, "Wh": dWh, "b": db,
                 "W_out": dW_out, "b_out": db_out}
        final = (h[:, -1].copy(), lstm_cell_state(lstm_cache)[:, -1].copy())
        return loss, grads, final

    def evaluate(self, ids, seq_len=256, rows=16):
        """Mean loss in nats per character over ``ids``, read as ``rows`` contiguous streams."""
        p = self.params
        state = self.zero_state(rows)
        total, count = 0.0, 0
        for x, y in bptt_batches(ids, rows, seq_len):
            emb, _ = embedding_forward(x, p["W_embed"])
            h, cache = rnnkit.lstm_forward(emb, state[0], p["Wx"], p["Wh"], p["b"], c0=state[1])
            scores, _ = temporal_affine_forward(h, p["W_out"], p["b_out"])
            loss, _ = rnnkit.temporal_softmax_loss(scores, y)
            total += loss * y.size
            count += y.size
            state = (h[:, -1], lstm_cell_state(cache)[:, -1])
        return total / count

    def save(self, path, vocab, meta=None):
        np.savez_compressed(path, vocab=json.dumps(vocab.to_dict()), meta=json.dumps(meta or {}),
                            **{n: p.astype(np.float32) for n, p in self.params.items()})


def load_data(hyper=HYPER):
    text = load_shakespeare()
    vocab = CharVocab.from_text(text)
    train_text, val_text = split_text(text, hyper["val_fraction"])
    return vocab, vocab.encode(train_text), vocab.encode(val_text)


def train(model, train_ids, val_ids, seconds, hyper=HYPER, eval_every=15.0, log=None):
    """Train for ``seconds`` of wall-clock time (evaluation excluded); return the curve.

    The curve is a list of (training seconds, steps, validation bits per character).
    Ctrl-C stops training and keeps the model and the curve so far.
    """
    opt = Adam(model.params, lr=hyper["lr"])
    curve = [(0.0, 0, model.evaluate(val_ids) * BITS_PER_NAT)]
    elapsed, steps, next_eval = 0.0, 0, eval_every
    try:
        while elapsed < seconds:
            state = model.zero_state(hyper["batch"])
            for x, y in bptt_batches(train_ids, hyper["batch"], hyper["seq_len"]):
                start = time.perf_counter()
                opt.lr = schedule(elapsed, seconds, hyper["lr"])
                loss, grads, state = model.loss(x, y, state)
                rnnkit.clip_grad_norm(grads, hyper["max_norm"])
                opt.step(grads)
                elapsed += time.perf_counter() - start
                steps += 1
                if elapsed >= next_eval or elapsed >= seconds:
                    curve.append((elapsed, steps, model.evaluate(val_ids) * BITS_PER_NAT))
                    next_eval += eval_every
                    if log:
                        log(f"{elapsed:7.1f} s  step {steps:5d}  train {loss * BITS_PER_NAT:.3f}  "
                            f"val {curve[-1][2]:.3f} bits/char")
                if elapsed >= seconds:
                    break
    except KeyboardInterrupt:
        if log:
            log("interrupted: the model keeps the parameters of the last completed step")
    return curve


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0, help="training time budget")
    ap.add_argument("--eval-every", type=float, default=60.0, help="seconds of training between evaluations")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "charlm_shakespeare.npz"))
    args = ap.parse_args(argv)
    vocab, train_ids, val_ids = load_data()
    model = CharLM(len(vocab), HYPER["embed"], HYPER["hidden"], rng=HYPER["seed"])
    curve = train(model, train_ids, val_ids, args.seconds, eval_every=args.eval_every,
                  log=lambda s: print(s, flush=True))
    bits = curve[-1][2]
    meta = dict(HYPER, seconds=args.seconds, steps=curve[-1][1], val_bits_per_char=round(bits, 4))
    model.save(args.out, vocab, meta)
    print(f"validation (all {len(val_ids)} characters): {bits:.3f} bits/char; saved {args.out}")


if __name__ == "__main__":
    main()
