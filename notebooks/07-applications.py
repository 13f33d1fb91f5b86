# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 — Recurrent networks at work
#
# Six notebooks built the machinery: the recurrent step, backpropagation through time, the
# gradient problems, the LSTM and GRU cells and their variants. This one puts it to work on
# real data. You will
#
# 1. train a **character-level language model** on eight plays of Shakespeare and make it
#    write, with a temperature that trades safety for surprise;
# 2. generate **new first names** from the 1990 US census list;
# 3. **forecast** the sunspot cycle several years ahead and check that the network beats the
#    naive forecasts a statistician would try first;
# 4. **classify** whole sequences (a name, read letter by letter) into one label;
# 5. **translate** dates written by people ("Sat 3 Apr 1999") into ISO 8601 ("1999-04-03")
#    with an encoder, a decoder and attention, and look at where the decoder looks;
# 6. survey the other places where recurrent networks are used.
#
# All data ships with the course (see `data/README.md` for where each file comes from); nothing
# is downloaded. Training runs are short here; `benchmarks/` holds the full-length runs.
#
# Exercises: `sample_with_temperature`, `lm_train_step` and `make_windows`.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display

import rnnkit
from rnnkit import layers
from rnnkit.checks import applications as checks
from rnnkit.data import CharVocab, Standardizer, bptt_batches, time_split
from rnnkit.datasets import (load_first_names, load_names_by_sex, load_pretrained_charlm, load_shakespeare,
                             load_sunspots, split_text)
from rnnkit.lstm import lstm_cell_state
from rnnkit.optim import Adam

# How long the training cells run: a few seconds each by default; shorter when the notebook is
# graded (nbgrader sets NBGRADER_EXECUTION) or with RNNKIT_QUICK=1; minutes each with
# RNNKIT_FULL=1, as in benchmarks/bench_charlm.py.
QUICK = bool(os.environ.get("NBGRADER_EXECUTION") or os.environ.get("RNNKIT_QUICK"))
# While the grader grades the notebook (its rnnkit names the assignment in rnnkit.sealed_for()),
# rnnkit's sampler, clipping, windowing and training-step reference are not available: the
# demonstrations use your functions or are left out.
GRADED = rnnkit.sealed_for() is not None
FULL = bool(os.environ.get("RNNKIT_FULL")) and not QUICK


def size(quick, default, full):
    return quick if QUICK else full if FULL else default


# While the notebook is graded, rnnkit's clipping is not available (this notebook's lm_train_step
# asks you to clip by the global norm yourself): the short training runs of the demonstrations
# then go unclipped.
clip_grads = (lambda grads, max_norm: None) if GRADED else rnnkit.clip_grad_norm
BITS_PER_NAT = 1 / np.log(2)
plt.rcParams["figure.dpi"] = 80
print("quick mode" if QUICK else "full mode: minutes per training cell" if FULL else "default mode")


# %% [markdown]
# A small helper shows training progress: a bar, the time spent, and the latest loss. It
# also catches the interrupt (the ■ button, or Ctrl-C): training stops after the step in
# progress, and the parameters keep what they had learned until then.

# %%
class Progress:
    """A progress bar in the notebook, updated in place; `with Progress(...) as p:` keeps an interrupt
    from losing the model."""

    def __init__(self, label, total):
        self.label, self.total, self.start = label, total, time.perf_counter()
        self.handle = display(HTML(""), display_id=True)
        self.interrupted = False

    def update(self, done, **numbers):
        if self.handle is None:  # outside a notebook (a script running the cells): stay quiet
            return
        shown = "  ".join(f"{k} {v:.3f}" for k, v in numbers.items())
        elapsed = time.perf_counter() - self.start
        self.handle.update(HTML(
            f"<progress value='{min(done, self.total)}' max='{self.total}' style='width:40%'></progress> "
            f"<code>{self.label}: {done}/{self.total}  {elapsed:5.1f} s  {shown}</code>"))

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is KeyboardInterrupt:
            self.interrupted = True
            print(f"{self.label}: interrupted; the parameters keep the last completed step")
            return True
        return False


# %% [markdown]
# ## 1. A character-level language model
#
# A language model gives a probability to every text. Read the text one character at a time
# and ask, at each position $t$, for the distribution of the next character given all those
# before it:
#
# $$p(c_1, \dots, c_T) = \prod_{t=1}^{T} p(c_t \mid c_1, \dots, c_{t-1}).$$
#
# A recurrent network fits this form exactly: its hidden state $h_{t-1}$ summarises
# $c_1 \dots c_{t-1}$, and an affine layer and a softmax turn it into the distribution of $c_t$.
# Our model is
#
# $$e_t = W_{\text{embed}}[c_{t-1}], \qquad (h_t, c^{\text{cell}}_t) = \text{LSTM}(e_t, h_{t-1}, c^{\text{cell}}_{t-1}),
# \qquad p(c_t \mid \cdot) = \operatorname{softmax}(h_t W_{\text{out}} + b_{\text{out}}).$$
#
# Training minimises the mean cross-entropy, in nats per character. Divided by $\ln 2$ it is
# the number of **bits per character** (bpc): how many bits an ideal coder driven by the model
# would spend per character. A model that knew nothing but the alphabet of 76 characters would
# spend $\log_2 76 \approx 6.2$ bits; one that knew only how often each character occurs, about
# 4.8 (measured below); large models of English text come close to 1 bit.
#
# We hold out every tenth block of 10,000 characters for validation. Holding out the end of the
# text instead would test the model on half a play whose characters' names it never saw in
# training, which measures something else than how well it has learnt the language.

# %%
text = load_shakespeare()
train_text, val_text = split_text(text, 0.1)  # every tenth block of 10,000 characters validates
vocab = CharVocab.from_text(text)
print(f"{len(text):,} characters, {len(vocab)} distinct; {len(train_text):,} for training, "
      f"{len(val_text):,} for validation")
print(text[2000:2400])

# %%
counts = np.bincount(vocab.encode(train_text), minlength=len(vocab))
p_unigram = counts / counts.sum()
val_ids = vocab.encode(val_text)
unigram_bits = -np.mean(np.log2(np.maximum(p_unigram[val_ids], 1e-12)))
print(f"uniform over {len(vocab)} characters: {np.log2(len(vocab)):.2f} bits/char; "
      f"character frequencies only: {unigram_bits:.2f} bits/char")

# %% [markdown]
# ### Batches for truncated backpropagation through time
#
# A million characters are one very long sequence. Notebook 02 cut it into windows of
# $T$ steps and backpropagated through each window only (truncated BPTT). To let the state
# still carry information across windows, we cut the text into $N$ long **streams**, one per
# batch row, and walk along them: batch $k$ holds positions $kT \dots (k+1)T - 1$ of every
# stream. Row $n$ of batch $k+1$ then starts exactly where row $n$ of batch $k$ ended, so the
# final state of one batch is the right initial state of the next. `rnnkit.data.bptt_batches`
# does this; the targets `y` are the inputs shifted by one character.

# %%
demo = list(bptt_batches(vocab.encode(train_text[:200]), batch_size=3, seq_len=12))
for k, (x, y) in enumerate(demo[:2]):
    for n in range(3):
        print(f"batch {k} row {n}: x = {vocab.decode(x[n])!r:18}  y = {vocab.decode(y[n])!r}")

# %% [markdown]
# ### Exercise 1: sampling with a temperature
#
# To make the model write, we feed it a prompt, draw the next character from its
# distribution, feed that character back, and repeat. Drawing from
# $\operatorname{softmax}(z)$ exactly reproduces the model's uncertainty; dividing the logits
# $z$ by a **temperature** $\tau$ first,
#
# $$p_i(\tau) = \frac{\exp(z_i / \tau)}{\sum_j \exp(z_j / \tau)},$$
#
# sharpens the distribution for $\tau < 1$ (safer, more repetitive text) and flattens it for
# $\tau > 1$ (more surprising, more misspelt text). As $\tau \to 0$ all the mass goes to the
# largest logit, so we define $\tau = 0$ as **greedy** decoding: return the argmax.
#
# Write `sample_with_temperature(logits, temperature, rng)`. Draw with the generator `rng`
# that you are given (`rng.random`, `rng.choice`, ...), never with `np.random` directly, so
# that a seed reproduces a text. Subtract each row's largest logit before `exp` so that no
# logit is too large. You may use `rnnkit.softmax`; do not call `rnnkit.sampling`. Leave
# `logits` as it was (compute `logits / temperature` into a new array).
#
# **How the exercises of this notebook are graded.** Three grade cells follow each one, and
# each tests a single requirement with a message that names it: the values (most of the
# points, float64 inputs at the usual sizes and at sizes of 1), float32 inputs (1 point), and
# extreme inputs with your arguments (1 point: no warning and nothing infinite at extreme
# inputs, and the arrays you are given left as they were). The hidden tests check the same
# requirements at more sizes and seeds.

# %% nbgrader={"grade": false, "grade_id": "sample_with_temperature", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sample_with_temperature(logits, temperature, rng):
    """Draw one index per row from softmax(logits / temperature).

    Inputs:
    - logits: (N, V) float array of unnormalised log-probabilities
    - temperature: float >= 0; 0 means return the argmax of each row
    - rng: a numpy.random.Generator, the only source of randomness

    Returns an integer array of shape (N,) with values in [0, V).
    """
    ### BEGIN SOLUTION
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return np.argmax(logits, axis=1)
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    cdf = np.cumsum(p, axis=1)
    u = rng.random(len(p))[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), p.shape[1] - 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sample_with_temperature_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The values (3 points), with float64 logits. Shape and type: one integer index per row,
# also for a single row, and for a single entry per row
checks.check_sampling_shape(sample_with_temperature, N=3, V=5)
checks.check_sampling_shape(sample_with_temperature, N=1, V=4, seed=1)
checks.check_sampling_shape(sample_with_temperature, N=6, V=1, seed=2)
# temperature 0 is greedy
checks.check_sampling_greedy(sample_with_temperature)
# 20,000 draws from logits (2, 0.5, -1, 1) follow softmax(logits / T) at T = 1, 0.5 and 2
for T in (1.0, 0.5, 2.0):
    checks.check_sampling_distribution(sample_with_temperature, T)
# each row is its own distribution; the draws come from rng
checks.check_sampling_rows_independent(sample_with_temperature)
checks.check_sampling_uses_rng(sample_with_temperature)
print("sample_with_temperature: the values' tests pass")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(70)
checks.check_sampling_shape(sample_with_temperature, N=1, V=int(_rng.integers(2, 30)))
checks.check_sampling_shape(sample_with_temperature, N=int(_rng.integers(2, 40)), V=1)
checks.check_sampling_greedy(sample_with_temperature, N=int(_rng.integers(1, 9)), V=int(_rng.integers(2, 50)),
                             seed=int(_rng.integers(1000)))
checks.check_sampling_distribution(sample_with_temperature, 0.3, logits_row=(1.0, 0.8, 0.0))
checks.check_sampling_distribution(sample_with_temperature, 5.0, logits_row=(3.0, -2.0, 0.0, 1.0, 1.0))
checks.check_sampling_rows_independent(sample_with_temperature, seed=13)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "sample_with_temperature_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# float32 logits (1 point): the same draws, one integer index per row.
checks.check_sampling_shape(sample_with_temperature, N=3, V=5, dtype=np.float32)
checks.check_sampling_greedy(sample_with_temperature, dtype=np.float32)
checks.check_sampling_distribution(sample_with_temperature, 0.5, dtype=np.float32)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(73)
checks.check_sampling_shape(sample_with_temperature, N=1, V=int(_rng.integers(2, 30)), dtype=np.float32)
checks.check_sampling_shape(sample_with_temperature, N=int(_rng.integers(2, 40)), V=1, dtype=np.float32)
checks.check_sampling_greedy(sample_with_temperature, N=int(_rng.integers(1, 9)), V=int(_rng.integers(2, 50)),
                             dtype=np.float32, seed=int(_rng.integers(1000)))
checks.check_sampling_distribution(sample_with_temperature, 0.3, logits_row=(1.0, 0.8, 0.0), dtype=np.float32)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "sample_with_temperature_tests_3", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Extreme inputs and your arguments (1 point): logits of 1000 draw without overflow or
# warning, at temperature 1 and 0.5; and the logits are left as they were.
checks.check_sampling_large_logits(sample_with_temperature)
checks.check_sampling_large_logits(sample_with_temperature, temperature=0.5)
checks.check_sampling_inputs(sample_with_temperature)
### BEGIN HIDDEN TESTS
checks.check_sampling_large_logits(sample_with_temperature, temperature=2.0)
checks.check_sampling_large_logits(sample_with_temperature, temperature=0.25)
checks.check_sampling_inputs(sample_with_temperature, N=1, V=1, seed=16)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: one training step, with the state carried and the gradient clipped
#
# One step of truncated BPTT on a batch `(x, y)` of shape $(N, T)$:
#
# 1. forward: embed `x` with `layers.embedding_forward(x, params["W_embed"])`, run
#    `rnnkit.lstm_forward` from the state `(h0, c0)` left by the previous batch (both of them:
#    `c0=c0`), apply the output layer with `layers.temporal_affine_forward`, and take
#    `rnnkit.temporal_softmax_loss` against `y`;
# 2. backward through the same layers, in reverse order (`layers.temporal_affine_backward`,
#    `rnnkit.lstm_backward`, `layers.embedding_backward`); the gradient does not flow into
#    `h0` and `c0`: that is the truncation;
# 3. **clip** the gradients by their global norm,
#    $g \leftarrow g \cdot \min\!\left(1, \frac{\text{max\_norm}}{\lVert g \rVert}\right)$ with
#    $\lVert g \rVert = \sqrt{\sum_{\text{all parameters}} \sum g^2}$, so that one exploding
#    gradient (notebook 03) cannot throw the parameters far away;
# 4. update every parameter in place with plain gradient descent, `p -= lr * g`.
#
# Return the loss, the final state `(h_T, c_T)` for the next batch, and the global norm
# *before* clipping (worth watching: spikes in it are the exploding gradients that clipping
# tames). The parameters are a dict with `"W_embed"` (V, E), `"Wx"` (E, 4H), `"Wh"` (H, 4H),
# `"b"` (4H,), `"W_out"` (H, V), `"b_out"` (V,). Use rnnkit's layers, LSTM and loss; write the
# clipping yourself (`rnnkit.clip_grad_norm` is off limits here). The final cell state is in
# the LSTM's cache: `rnnkit.lstm.lstm_cell_state(cache)` gives every $c_t$, shape (N, T, H).
# Change `params` in place, and nothing else: `x`, `y` and `state` belong to the caller.

# %% nbgrader={"grade": false, "grade_id": "lm_train_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lm_train_step(params, x, y, state, lr, max_norm):
    """One step of SGD with gradient clipping on the character language model.

    Inputs:
    - params: dict of arrays (see above), updated in place
    - x, y: (N, T) integer arrays of input and target characters
    - state: (h0, c0), each (N, H), the state the previous batch ended in
    - lr: learning rate; max_norm: the largest global gradient norm allowed

    Returns (loss, (h_T, c_T), grad_norm): the mean cross-entropy in nats, the final hidden
    and cell states, each (N, H), and the global gradient norm before clipping.
    """
    ### BEGIN SOLUTION
    h0, c0 = state
    emb, emb_cache = layers.embedding_forward(x, params["W_embed"])
    h, lstm_cache = rnnkit.lstm_forward(emb, h0, params["Wx"], params["Wh"], params["b"], c0=c0)
    scores, out_cache = layers.temporal_affine_forward(h, params["W_out"], params["b_out"])
    loss, dscores = rnnkit.temporal_softmax_loss(scores, y)
    dh, dW_out, db_out = layers.temporal_affine_backward(dscores, out_cache)
    demb, _, dWx, dWh, db = rnnkit.lstm_backward(dh, lstm_cache)
    grads = {"W_embed": layers.embedding_backward(demb, emb_cache), "Wx": dWx, "Wh": dWh, "b": db,
             "W_out": dW_out, "b_out": db_out}
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    scale = max_norm / norm if norm > max_norm else 1.0
    for name, g in grads.items():
        params[name] -= lr * scale * g
    final = (h[:, -1].copy(), lstm_cell_state(lstm_cache)[:, -1].copy())
    return loss, final, norm
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "lm_train_step_tests", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# The values (4 points). N=2 sequences of T=4 characters, V=5, E=3, H=4; a non-zero initial
# state; clipping active (max_norm=0.1 is below the gradient's norm): loss, (h_T, c_T), norm
# and new parameters
checks.check_lm_train_step(lm_train_step, N=2, T=4, V=5, E=3, H=4, lr=0.5, max_norm=0.1)
# a large max_norm: no clipping, the plain gradient step
checks.check_lm_train_step(lm_train_step, N=2, T=4, V=5, E=3, H=4, lr=0.5, max_norm=1e6, seed=1)
# every size 1, and T = 1, H = 1 with N > 1
checks.check_lm_train_step(lm_train_step, N=1, T=1, V=2, E=1, H=1, lr=0.5, max_norm=0.1, seed=2)
checks.check_lm_train_step(lm_train_step, N=3, T=1, V=4, E=2, H=1, lr=0.5, max_norm=1e6, seed=3)
print("lm_train_step: the values' tests pass")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(71)
for _N, _T in ((1, 5), (int(_rng.integers(2, 6)), 1), (int(_rng.integers(2, 6)), int(_rng.integers(2, 9)))):
    _V, _E, _H = (int(v) for v in _rng.integers(2, 9, size=3))
    for _max_norm in (1e-3, 1e6):
        checks.check_lm_train_step(lm_train_step, N=_N, T=_T, V=_V, E=_E, H=_H, seed=int(_rng.integers(1000)),
                                   lr=0.3, max_norm=_max_norm)
checks.check_lm_train_step(lm_train_step, N=2, T=3, V=3, E=1, H=1, seed=9, lr=0.3, max_norm=1e-3)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "lm_train_step_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# float32 (1 point): with float32 parameters and state, a float32 (h_T, c_T), and parameters
# that stay float32 after the update.
checks.check_lm_train_step(lm_train_step, part="dtype", lr=0.5, max_norm=0.1)
checks.check_lm_train_step(lm_train_step, N=1, T=1, V=2, E=1, H=1, part="dtype", lr=0.5, max_norm=1e6, seed=2)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(74)
for _N, _T in ((1, 5), (int(_rng.integers(2, 6)), int(_rng.integers(2, 9)))):
    _V, _E, _H = (int(v) for v in _rng.integers(2, 9, size=3))
    for _max_norm in (1e-3, 1e6):
        checks.check_lm_train_step(lm_train_step, N=_N, T=_T, V=_V, E=_E, H=_H, part="dtype",
                                   seed=int(_rng.integers(1000)), lr=0.3, max_norm=_max_norm)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "lm_train_step_tests_3", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Extreme inputs and your arguments (1 point): a large initial state (entries of about 30,
# saturated gates) without a warning or an infinity; and x, y and the state left as they were
# (params is the one argument the step changes).
checks.check_lm_train_step(lm_train_step, N=3, T=6, V=7, E=4, H=5, part="extreme", seed=5, lr=0.1, max_norm=1.0)
checks.check_lm_train_step_inputs(lm_train_step)
### BEGIN HIDDEN TESTS
checks.check_lm_train_step(lm_train_step, N=1, T=1, V=2, E=1, H=1, part="extreme", seed=6, lr=0.1, max_norm=1.0)
checks.check_lm_train_step(lm_train_step, N=4, T=3, V=5, E=2, H=3, part="extreme", seed=7, lr=0.1, max_norm=1e6)
checks.check_lm_train_step_inputs(lm_train_step, N=1, T=1, V=2, E=1, H=1, seed=17)
### END HIDDEN TESTS

# %% [markdown]
# ### Training from scratch
#
# Now the loop: walk along the streams, carry the state from batch to batch, and start again
# from a zero state at the beginning of each pass over the text. We train a small model
# (H = 128) briefly with your `lm_train_step` and watch the validation loss fall from the
# uniform 6.2 bits. Plain SGD with clipping is slow but honest; the benchmark uses Adam.

# %%
def init_charlm(V, E, H, rng, dtype=np.float32):
    k = 1 / np.sqrt(H)
    b = np.zeros(4 * H)
    b[H:2 * H] = 1.0  # forget gate open at the start: remember by default
    params = {"W_embed": rng.normal(0, 1, (V, E)), "Wx": rng.uniform(-k, k, (E, 4 * H)),
              "Wh": rng.uniform(-k, k, (H, 4 * H)), "b": b, "W_out": rng.uniform(-k, k, (H, V)),
              "b_out": np.zeros(V)}
    return {name: p.astype(dtype) for name, p in params.items()}


def lm_bits_per_char(params, ids, rows=8, seq_len=200):
    """Validation loss in bits per character, the text read as `rows` streams with the state carried."""
    H = params["Wh"].shape[0]
    h = np.zeros((rows, H), params["Wh"].dtype)
    c = np.zeros_like(h)
    total = count = 0
    for x, y in bptt_batches(ids, rows, seq_len):
        emb, _ = layers.embedding_forward(x, params["W_embed"])
        hs, cache = rnnkit.lstm_forward(emb, h, params["Wx"], params["Wh"], params["b"], c0=c)
        scores, _ = layers.temporal_affine_forward(hs, params["W_out"], params["b_out"])
        loss, _ = rnnkit.temporal_softmax_loss(scores, y)
        total, count = total + loss * y.size, count + y.size
        h, c = hs[:, -1], lstm_cell_state(cache)[:, -1]
    return total / count * BITS_PER_NAT


def yours_or_reference(fn, probe, reference):
    """fn if it runs on the probe arguments, else the reference, saying which function failed and why.

    While the notebook is graded (GRADED) the references of this notebook's exercises are not
    available: then it returns None when fn fails, and the cells that need it are left out.
    """
    try:
        fn(*probe)
        return fn
    except Exception as exc:
        failed = f"your {fn.__name__} raised {type(exc).__name__}: {exc}"
    if GRADED:
        print(f"{failed}; the cells that need it are left out while the notebook is graded")
        return None
    print(f"{failed}; the cells below use rnnkit's version until yours runs")
    return reference


train_step = yours_or_reference(
    lm_train_step, (init_charlm(3, 2, 2, np.random.default_rng(0)), np.zeros((1, 1), dtype=int),
                    np.zeros((1, 1), dtype=int), (np.zeros((1, 2), np.float32),) * 2, 0.1, 1.0),
    checks.reference_lm_train_step)

rng = np.random.default_rng(0)
if train_step is not None:
    small = init_charlm(len(vocab), 32, 128, rng)
    train_ids = vocab.encode(train_text)
    val_small = val_ids[:size(4001, 10_001, 20_001)]
    N, T, steps = 32, 50, size(30, 60, 300)
    curve = [(0, lm_bits_per_char(small, val_small))]
    state = (np.zeros((N, 128), np.float32),) * 2
    batches = bptt_batches(train_ids, N, T)
    with Progress("char LM, SGD", steps) as bar:
        for step in range(1, steps + 1):
            x, y = next(batches)
            loss, state, norm = train_step(small, x, y, state, lr=1.0, max_norm=1.0)
            if step % size(10, 10, 50) == 0:
                curve.append((step, lm_bits_per_char(small, val_small)))
            bar.update(step, train_bits=loss * BITS_PER_NAT, grad_norm=norm)

    steps_done, bits = zip(*curve)
    plt.figure(figsize=(5, 3))
    plt.plot(steps_done, bits, "o-")
    plt.axhline(unigram_bits, color="gray", ls=":", label="character frequencies")
    plt.xlabel("training step")
    plt.ylabel("validation bits / char")
    plt.legend()
    plt.title("a small LSTM learning Shakespeare")
    plt.show()
else:
    print('The training run needs an lm_train_step that runs; it is left out.')

# %% [markdown]
# ### A model trained for longer
#
# The run above is short. `benchmarks/train_charlm.py` trains the same kind of model, larger
# and with Adam, for twenty minutes; its parameters ship with the course, so that we can
# sample from it at once. Its validation loss is measured here on the held-out blocks.

# %%
params, lm_vocab, meta = load_pretrained_charlm()
assert lm_vocab == vocab, "the shipped model was trained with the vocabulary of this text"
n_val = size(10_001, 20_001, len(val_ids))
pretrained_bits = lm_bits_per_char(params, val_ids[:n_val])
print(f"E = {meta['embed']}, H = {meta['hidden']}; Adam, learning rate {meta['lr']:g} decayed linearly, "
      f"clipping at {meta['max_norm']:g}, batches of {meta['batch']} x {meta['seq_len']} characters; "
      f"trained for {meta['seconds']:.0f} s ({meta['steps']} steps)")
print(f"validation: {pretrained_bits:.3f} bits/char on {n_val - 1:,} characters")


# %%
def generate(params, prompt, length, temperature, rng, sampler=sample_with_temperature):
    """Continue `prompt` by `length` characters, drawing each with `sampler`."""
    H = params["Wh"].shape[0]
    h = np.zeros((1, H), params["Wh"].dtype)
    c = np.zeros_like(h)
    step = lambda token, h, c: rnnkit.lstm_step_forward(params["W_embed"][[token]], h, c,
                                                        params["Wx"], params["Wh"], params["b"])[:2]
    for token in vocab.encode(prompt):
        h, c = step(token, h, c)
    out = []
    for _ in range(length):
        logits = h @ params["W_out"] + params["b_out"]
        token = int(sampler(logits, temperature, rng)[0])
        out.append(token)
        h, c = step(token, h, c)
    return vocab.decode(np.array(out))


sampler = yours_or_reference(
    sample_with_temperature, (np.zeros((1, 2)), 1.0, np.random.default_rng(0)),
    lambda logits, t, rng: np.atleast_1d(rnnkit.sampling.sample_logits(logits, t, rng=rng)))

if sampler is not None:
    for temperature in (0.0, 0.5, 1.0, 1.5):
        sample = generate(params, "HAMLET.\n", size(80, 160, 160), temperature, np.random.default_rng(1), sampler)
        print(f"--- temperature {temperature} ---\nHAMLET.\n{sample}\n")
else:
    print('Sampling needs a sample_with_temperature that runs; it is left out.')

# %% [markdown]
# At temperature 0 the model repeats its single most likely continuation, often a loop. Near
# 0.5 the text is plausible but cautious; at 1 it samples the model's real distribution, with
# invented words; at 1.5 it drifts towards noise. The explorer below lets you try prompts and
# temperatures: the bars show the distribution of the first character it draws.

# %%
if GRADED:  # while the notebook is graded, rnnkit's sampler (which the explorer runs) is not available
    print("The explorer is not shown while the notebook is graded.")
else:
    from rnnkit.widgets.sampler import SamplerExplorer

    explorer = SamplerExplorer(params, vocab, prompt="ROMEO.\n", length=size(60, 200, 200))
    display(explorer.widget)

# %% [markdown]
# ### A name generator
#
# The same recipe on a much smaller text: the 5,163 first names of the 1990 US census, one per
# line. The newline ends a name, so sampling until a newline yields one name. Few characters,
# so a small network (H = 64) and Adam learn it in seconds.

# %%
if sampler is not None and not GRADED:
    names = load_first_names()
    names_text = "\n".join(rng.permutation(names)) + "\n"
    name_vocab = CharVocab.from_text(names_text)
    name_ids = name_vocab.encode(names_text)
    name_params = init_charlm(len(name_vocab), 16, 64, np.random.default_rng(2), dtype=np.float64)
    opt = Adam(name_params, lr=1e-2)
    epochs = size(2, 4, 12)
    with Progress("names, Adam", epochs) as bar:
        for epoch in range(1, epochs + 1):
            state = (np.zeros((32, 64)),) * 2
            for x, y in bptt_batches(name_ids, 32, 25):
                loss, grads, state = checks.lm_loss_and_grads(name_params, x, y, state)
                clip_grads(grads, 5.0)
                opt.step(grads)
            bar.update(epoch, train_bits=loss * BITS_PER_NAT)


    def new_name(params, rng, temperature=0.8, max_len=15):
        H = params["Wh"].shape[0]
        h, c = np.zeros((1, H)), np.zeros((1, H))
        token, out = name_vocab.index["\n"], []
        for _ in range(max_len):
            h, c, _ = rnnkit.lstm_step_forward(params["W_embed"][[token]], h, c, params["Wx"], params["Wh"], params["b"])
            token = int(sampler(h @ params["W_out"] + params["b_out"], temperature, rng)[0])
            if name_vocab.chars[token] == "\n":
                break
            out.append(name_vocab.chars[token])
        return "".join(out)


    gen_rng = np.random.default_rng(7)
    made = [new_name(name_params, gen_rng) for _ in range(24)]
    known = set(names)
    print(", ".join(f"{n}*" if n in known else n for n in made))
    print("(* = a real name of the census list; the others are new)")
else:
    print("The name generator is not run while the notebook is graded (it trains with the reference of lm_train_step's gradients), nor without a sample_with_temperature that runs.")

# %% [markdown]
# ## 2. Forecasting the sunspot cycle
#
# The number of sunspots rises and falls with a period of about eleven years, but neither the
# period nor the height of each cycle is fixed. We forecast the yearly mean several years ahead
# from the years before. Three rules keep the evaluation honest:
#
# - **split in time order**: train on the past, test on the future (1959-2008); shuffling
#   years across the split would let the model interpolate instead of forecast;
# - **normalise with the training statistics only**: the test years must not influence
#   anything the model sees;
# - **compare with naive forecasts**: "the same as last year" (persistence) and "the same as one
#   cycle ago" (seasonal naive, eleven years back). A model that cannot beat them is useless.

# %%
years, spots = load_sunspots()
plt.figure(figsize=(8, 2.5))
plt.plot(years, spots, lw=1)
plt.xlabel("year")
plt.ylabel("sunspot number")
plt.title("yearly mean sunspot number")
plt.show()

# %% [markdown]
# ### Exercise 3: windows over a series
#
# A forecaster learns from pairs (the last `input_len` values, the next `horizon` values).
# Window $m$ reads steps $m, \dots, m + L - 1$ of the series, and its target is steps
# $m + L, \dots, m + L + K - 1$ (with $L$ = `input_len`, $K$ = `horizon`). Every window that
# fits is used, so there are $M = T - L - K + 1$ of them, in time order. The recurrent layer
# reads (N, T, D) arrays, so `X` gets a last axis of size 1 (one feature per step); keep the
# series' dtype. Do not call `rnnkit.data.sliding_windows`.

# %% nbgrader={"grade": false, "grade_id": "make_windows", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_windows(series, input_len, horizon):
    """All (input window, target) pairs of a 1-D series, in time order.

    Inputs: series (T,) float array; input_len L and horizon K, positive integers.
    Returns X of shape (M, L, 1) and Y of shape (M, K), with M = T - L - K + 1:
    X[m, :, 0] = series[m : m + L] and Y[m] = series[m + L : m + L + K].
    """
    ### BEGIN SOLUTION
    series = np.asarray(series)
    M = len(series) - input_len - horizon + 1
    starts = np.arange(M)[:, None]
    X = series[starts + np.arange(input_len)][:, :, None]
    Y = series[starts + input_len + np.arange(horizon)]
    return X, Y
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "make_windows_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The values (3 points). T=12, input_len=4, horizon=3: 6 windows; the series' values are their
# positions (plus a little noise), so a wrong value says which step was taken. Then windows of
# one step and a series with exactly one window.
checks.check_make_windows(make_windows, T=12, input_len=4, horizon=3)
checks.check_make_windows(make_windows, T=10, input_len=3, horizon=1, seed=1)
checks.check_make_windows(make_windows, T=9, input_len=1, horizon=1, seed=2)
checks.check_make_windows(make_windows, T=5, input_len=3, horizon=2, seed=3)
print("make_windows: the values' tests pass")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(72)
for _ in range(3):
    _L, _K = int(_rng.integers(1, 8)), int(_rng.integers(1, 5))
    checks.check_make_windows(make_windows, T=_L + _K + int(_rng.integers(0, 30)), input_len=_L, horizon=_K,
                              seed=int(_rng.integers(1000)))
checks.check_make_windows(make_windows, T=2, input_len=1, horizon=1, seed=4)
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "make_windows_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The dtype (1 point): a float32 series gives float32 windows.
checks.check_make_windows(make_windows, T=10, input_len=3, horizon=1, part="dtype")
checks.check_make_windows(make_windows, T=5, input_len=3, horizon=2, part="dtype", seed=3)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(75)
for _ in range(3):
    _L, _K = int(_rng.integers(1, 8)), int(_rng.integers(1, 5))
    checks.check_make_windows(make_windows, T=_L + _K + int(_rng.integers(0, 30)), input_len=_L, horizon=_K,
                              part="dtype", seed=int(_rng.integers(1000)))
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "make_windows_tests_3", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Your argument (1 point): the series is left as it was.
checks.check_make_windows_inputs(make_windows)
### BEGIN HIDDEN TESTS
checks.check_make_windows_inputs(make_windows, T=5, input_len=3, horizon=2, seed=18)
checks.check_make_windows_inputs(make_windows, T=2, input_len=1, horizon=1, seed=19)
### END HIDDEN TESTS

# %% [markdown]
# With the windows, the forecaster is an LSTM that reads the last $L = 11$ years (one cycle)
# and a linear layer that maps its final state to the next $K = 6$ years at once (a *direct*
# multi-step forecast, which avoids feeding the model's own errors back into it).
#
# Three hundred years make only a few hundred windows, and a network fits them quickly, then
# goes on to learn their noise: the error on unseen years rises again. So we cut the series
# three ways, in time order: **fit** on 1700-1918, watch the error on **development** years
# 1919-1958 to decide when to stop (keeping the parameters of the best epoch), and only at the
# end measure the **test** years 1959-2008, which took no part in any choice. Each later part
# starts with the last $L$ years of the part before, as the input of its first windows; the
# normalisation is fitted on the fitting part alone.

# %%
L, K, H_f = 11, 6, 8
windows = yours_or_reference(
    make_windows, (np.zeros(5), 2, 1),
    lambda s, L, K: (lambda X, Y: (X, Y[:, :, 0]))(*rnnkit.data.sliding_windows(s, L, K)))

if windows is not None:
    past, test_part = time_split(spots, val_fraction=50 / len(spots), context=L)  # test: 1959-2008
    fit_part, dev_part = time_split(past, val_fraction=40 / len(past), context=L)  # development: 1919-1958
    scaler = Standardizer().fit(fit_part)
    Xfit, Yfit = windows(scaler.transform(fit_part), L, K)
    Xdev, Ydev = windows(scaler.transform(dev_part), L, K)
    Xte, Yte = windows(scaler.transform(test_part), L, K)
    print(f"windows: fit {Xfit.shape} -> {Yfit.shape}, development {Xdev.shape}, test {Xte.shape}")

    frng = np.random.default_rng(3)
    fparams = {"Wx": frng.uniform(-0.3, 0.3, (1, 4 * H_f)), "Wh": frng.uniform(-0.35, 0.35, (H_f, 4 * H_f)),
               "b": np.r_[np.zeros(H_f), np.ones(H_f), np.zeros(2 * H_f)],
               "W": frng.normal(0, 0.1, (H_f, K)), "c": np.zeros(K)}


    def forecast(p, X):
        h, cache = rnnkit.lstm_forward(X, np.zeros((len(X), H_f)), p["Wx"], p["Wh"], p["b"])
        out, out_cache = layers.affine_forward(h[:, -1], p["W"], p["c"])
        return out, (h, cache, out_cache)


    def mae_years(p, X, Y):
        """Mean absolute error in sunspot numbers (the normalisation undone)."""
        return np.abs(scaler.inverse_transform(forecast(p, X)[0]) - scaler.inverse_transform(Y)).mean()


    fopt = Adam(fparams, lr=5e-3)
    epochs = size(40, 60, 150)
    history, best = [], (np.inf, 0, None)
    with Progress("sunspots, Adam", epochs) as bar:
        for epoch in range(1, epochs + 1):
            for idx in np.array_split(frng.permutation(len(Xfit)), 4):
                pred, (h, cache, out_cache) = forecast(fparams, Xfit[idx])
                loss, dpred = layers.mse_loss(pred, Yfit[idx])
                dlast, dW, dc = layers.affine_backward(dpred, out_cache)
                dh = np.zeros_like(h)
                dh[:, -1] = dlast  # many-to-one: only the last state is read
                _, _, dWx, dWh, db = rnnkit.lstm_backward(dh, cache)
                grads = {"Wx": dWx, "Wh": dWh, "b": db, "W": dW, "c": dc}
                clip_grads(grads, 1.0)
                fopt.step(grads)
            history.append((mae_years(fparams, Xfit, Yfit), mae_years(fparams, Xdev, Ydev)))
            if history[-1][1] < best[0]:
                best = (history[-1][1], epoch, {k: v.copy() for k, v in fparams.items()})
            bar.update(epoch, fit_mae=history[-1][0], dev_mae=history[-1][1])
    fparams = best[2]
    print(f"kept the parameters of epoch {best[1]} (development error {best[0]:.1f})")

    plt.figure(figsize=(5, 2.8))
    plt.plot(np.arange(1, epochs + 1), [h[0] for h in history], label="fit years")
    plt.plot(np.arange(1, epochs + 1), [h[1] for h in history], label="development years")
    plt.axvline(best[1], color="gray", ls=":")
    plt.xlabel("epoch")
    plt.ylabel("mean absolute error")
    plt.legend()
    plt.show()
else:
    print('The forecaster needs a make_windows that runs; it is left out.')

# %%
if windows is not None:
    pred_te = scaler.inverse_transform(forecast(fparams, Xte)[0])
    truth_te = scaler.inverse_transform(Yte)
    raw_inputs = scaler.inverse_transform(Xte[:, :, 0])
    persistence = np.repeat(raw_inputs[:, -1:], K, axis=1)  # "as last year", for every lead
    seasonal = np.stack([raw_inputs[:, L - 11 + k] for k in range(K)], axis=1)  # one 11-year cycle back

    mae = lambda a: np.abs(a - truth_te).mean(axis=0)
    table = {"LSTM": mae(pred_te), "persistence": mae(persistence), "seasonal naive (11 y)": mae(seasonal)}
    print("mean absolute error on the test years 1959-2008, by lead time (years ahead)")
    print(f"{'':24}" + "".join(f"{k + 1:>7}" for k in range(K)) + "    mean")
    for name, e in table.items():
        print(f"{name:24}" + "".join(f"{v:7.1f}" for v in e) + f"{e.mean():8.1f}")
    best_naive = min(table["persistence"].mean(), table["seasonal naive (11 y)"].mean())
    print(f"\nthe LSTM's mean error is {table['LSTM'].mean() / best_naive:.0%} of the best naive forecast's")
else:
    print('(no forecaster was trained)')

# %%
if windows is not None:
    test_years = years[-len(test_part):]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(test_years, test_part, color="k", lw=1.2, label="truth")
    for m in range(0, len(Xte), 7):
        t0 = test_years[L + m]
        ax.plot(np.arange(t0, t0 + K), pred_te[m], "o-", ms=3, color="C1", label="LSTM, 6 years ahead" if m == 0 else None)
        ax.plot(np.arange(t0, t0 + K), seasonal[m], ":", color="C2", label="seasonal naive" if m == 0 else None)
    ax.axvline(test_years[L] - 0.5, color="gray", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("sunspot number")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("six-year forecasts from several starting years (test period)")
    plt.show()
else:
    print('(no forecaster was trained)')

# %% [markdown]
# ## 3. Many-to-one: reading a name, guessing a sex
#
# In a *many-to-one* task the network reads a whole sequence and produces one answer from its
# final state. Our labelled sequences are real: each census name with the sex of the majority of
# its bearers. Names are read letter by letter, padded **on the left** with a blank so that the
# last state always follows the last letter. Most names in the census list are women's (about
# 78 %), so always answering "female" already scores 78 %: that is the baseline to beat, and
# accuracy on each class tells more than the overall figure.

# %%
all_names, sex = load_names_by_sex()
order = np.random.default_rng(4).permutation(len(all_names))
cut = int(0.8 * len(order))
train_idx, test_idx = order[:cut], order[cut:]
cls_vocab = CharVocab(" " + "".join(sorted(set("".join(all_names).lower()))))
max_len = max(len(n) for n in all_names)


def encode_names(idx):
    return np.stack([cls_vocab.encode(all_names[i].lower().rjust(max_len)) for i in idx])


Xc_tr, Xc_te = encode_names(train_idx), encode_names(test_idx)
yc_tr, yc_te = sex[train_idx], sex[test_idx]
H_c, E_c = 64, 16
crng = np.random.default_rng(5)
cparams = {"W_embed": crng.normal(0, 1, (len(cls_vocab), E_c)),
           "Wx": crng.uniform(-0.25, 0.25, (E_c, 4 * H_c)), "Wh": crng.uniform(-0.12, 0.12, (H_c, 4 * H_c)),
           "b": np.r_[np.zeros(H_c), np.ones(H_c), np.zeros(2 * H_c)],
           "W": crng.normal(0, 0.1, (H_c, 2)), "c": np.zeros(2)}


def classify(p, X):
    emb, emb_cache = layers.embedding_forward(X, p["W_embed"])
    h, cache = rnnkit.lstm_forward(emb, np.zeros((len(X), H_c)), p["Wx"], p["Wh"], p["b"])
    scores, out_cache = layers.affine_forward(h[:, -1], p["W"], p["c"])
    return scores, (emb_cache, h, cache, out_cache)


copt = Adam(cparams, lr=1e-2)
epochs = size(2, 3, 8)
with Progress("names -> sex, Adam", epochs) as bar:
    for epoch in range(1, epochs + 1):
        for idx in np.array_split(crng.permutation(len(Xc_tr)), len(Xc_tr) // 128):
            scores, (emb_cache, h, cache, out_cache) = classify(cparams, Xc_tr[idx])
            loss, dscores = layers.softmax_loss(scores, yc_tr[idx])
            dlast, dW, dc = layers.affine_backward(dscores, out_cache)
            dh = np.zeros_like(h)
            dh[:, -1] = dlast
            demb, _, dWx, dWh, db = rnnkit.lstm_backward(dh, cache)
            grads = {"W_embed": layers.embedding_backward(demb, emb_cache), "Wx": dWx, "Wh": dWh, "b": db,
                     "W": dW, "c": dc}
            clip_grads(grads, 5.0)
            copt.step(grads)
        bar.update(epoch, train_loss=loss)

pred_te = classify(cparams, Xc_te)[0].argmax(axis=1)
acc = (pred_te == yc_te).mean()
per_class = [(pred_te[yc_te == k] == k).mean() for k in (0, 1)]
print(f"held-out accuracy {acc:.1%} on {len(yc_te)} names (always 'female': {np.mean(yc_te == 0):.1%}); "
      f"female names {per_class[0]:.1%} right, male names {per_class[1]:.1%} right")
for name in ("Maria", "Mario", "Robin", "Ashley", "Kai", "Jordan", "Luke", "Lucy"):
    x = cls_vocab.encode(name.lower().rjust(max_len))[None]
    p = rnnkit.softmax(classify(cparams, x)[0])[0]
    print(f"{name:8} P(male) = {p[1]:.2f}")

# %% [markdown]
# ## 4. Sequence to sequence with attention: reading dates
#
# People write the same date in dozens of ways. The task: read "saturday, 3 april 1999",
# "03.04.1999" or "Apr. 3, 1999" and write "1999-04-03". Input and output have different
# lengths and a different alphabet, so we use an **encoder-decoder**: an encoder GRU reads the
# characters into states $s_1 \dots s_S$; a decoder GRU, started from the encoder's last state,
# writes the ten output characters, each time reading the character it wrote before (during
# training, the true one: *teacher forcing*).
#
# A single final state is a bottleneck. **Attention** lets the decoder look back: at output step
# $t$ its state $d_t$ scores every encoder state, the scores become weights by a softmax, and the
# weighted mean of the encoder states is the context $a_t$:
#
# $$\alpha_{t,s} = \frac{\exp(d_t \cdot s_s)}{\sum_{s'} \exp(d_t \cdot s_{s'})}, \qquad
# a_t = \sum_s \alpha_{t,s}\, s_s, \qquad o_t = \tanh([a_t, d_t] W_c + b_c),$$
#
# and the output layer reads $o_t$. `rnnkit.variants.seq2seq_forward` and `seq2seq_backward`
# implement this (Luong's dot-product attention). The date pairs are generated by
# `rnnkit.datasets.date_pairs`: fifteen formats, three letter cases, any day from 1900 to 2099.

# %%
from rnnkit.datasets import DATE_OUTPUT_CHARS, date_pairs, date_vocabs, encode_date_pairs
from rnnkit.variants import init_seq2seq, seq2seq_backward, seq2seq_forward

for human, iso in date_pairs(6, rng=0):
    print(f"{human:>28}  ->  {iso}")

in_vocab, out_vocab = date_vocabs()
S_len, H_s = 30, 64
START = 0  # the padding id doubles as the start symbol of the decoder's input
srng = np.random.default_rng(6)
sparams = {"s2s": init_seq2seq(16, 16, H_s, srng, cell="gru"),
           "E_in": srng.normal(0, 1, (len(in_vocab), 16)), "E_out": srng.normal(0, 1, (len(out_vocab), 16)),
           "Wy": srng.normal(0, 0.1, (H_s, len(out_vocab))), "by": np.zeros(len(out_vocab))}


def flat(p, prefix=""):
    """The nested parameter dict as one flat dict of arrays (the same arrays), for the optimiser."""
    out = {}
    for k, v in p.items():
        out.update(flat(v, f"{prefix}{k}/") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def s2s_scores(p, X, mask, Y_in):
    src, src_cache = layers.embedding_forward(X, p["E_in"])
    tgt, tgt_cache = layers.embedding_forward(Y_in, p["E_out"])
    out, weights, cache = seq2seq_forward(src, tgt, p["s2s"], cell="gru", src_mask=mask)
    scores, sc_cache = layers.temporal_affine_forward(out, p["Wy"], p["by"])
    return scores, weights, (src_cache, tgt_cache, cache, sc_cache)


def s2s_grads(p, X, mask, Y):
    Y_in = np.concatenate([np.full((len(Y), 1), START), Y[:, :-1]], axis=1)  # teacher forcing
    scores, _, (src_cache, tgt_cache, cache, sc_cache) = s2s_scores(p, X, mask, Y_in)
    loss, dscores = rnnkit.temporal_softmax_loss(scores, Y)
    dout, dWy, dby = layers.temporal_affine_backward(dscores, sc_cache)
    g, dsrc, dtgt = seq2seq_backward(dout, cache)
    grads = {"s2s": g, "E_in": layers.embedding_backward(dsrc, src_cache),
             "E_out": layers.embedding_backward(dtgt, tgt_cache), "Wy": dWy, "by": dby}
    return loss, flat(grads)


def s2s_decode(p, X, mask):
    """Greedy decoding: write one character at a time, feeding each back in."""
    Y_in = np.full((len(X), 1), START)
    for t in range(10):
        scores, weights, _ = s2s_scores(p, X, mask, Y_in)
        Y_in = np.concatenate([Y_in, scores[:, -1].argmax(axis=1)[:, None]], axis=1)
    return Y_in[:, 1:], weights


test_pairs = date_pairs(size(200, 300, 500), rng=12345)
Xd_te, Yd_te, Md_te = encode_date_pairs(test_pairs, max_len=S_len, pad="left")
sopt = Adam(flat(sparams), lr=5e-3)
steps = size(100, 150, 1000)
with Progress("dates, Adam", steps) as bar:
    for step in range(1, steps + 1):
        Xb, Yb, Mb = encode_date_pairs(date_pairs(64, rng=srng), max_len=S_len, pad="left")
        loss, grads = s2s_grads(sparams, Xb, Mb, Yb)
        clip_grads(grads, 5.0)
        sopt.step(grads)
        if step % 10 == 0:
            bar.update(step, train_loss=loss)

decoded, _ = s2s_decode(sparams, Xd_te, Md_te)
exact = (decoded == Yd_te).all(axis=1).mean()
print(f"{steps} steps; held-out dates written exactly right: {exact:.1%}; "
      f"characters right: {(decoded == Yd_te).mean():.1%}")

# %%
examples = ["Saturday, 3 April 1999", "19-dec-2041", "1955/06/30"]
Xe, Ye, Me = encode_date_pairs([(e, "2000-01-01") for e in examples], max_len=S_len, pad="left")
out_e, w_e = s2s_decode(sparams, Xe, Me)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
for i, ax in enumerate(axes):
    first = S_len - len(examples[i])
    ax.imshow(w_e[i, :, first:], cmap="Greys", aspect="auto", vmin=0, vmax=1)
    ax.set_xticks(range(len(examples[i])))
    ax.set_xticklabels(list(examples[i]), fontsize=7)
    ax.set_yticks(range(10))
    ax.set_yticklabels(list(out_vocab.decode(out_e[i])), fontsize=8)
    ax.set_title(f"{examples[i]} -> {out_vocab.decode(out_e[i])}", fontsize=9)
axes[0].set_ylabel("output character")
fig.suptitle("attention weights: where each output character looked in the input")
plt.tight_layout()
plt.show()

# %% [markdown]
# After enough training each output row lights up on the input characters it needs: the year's
# digits read the year, the month's digits read the month's name or number. Nothing told the
# model where the year is: the alignment was learned from the pairs alone. Look at what the
# day's digits read when the day is written without a leading zero, and at the weekday names,
# which the decoder learns to skip.
#
# ## 5. Where else recurrent networks work
#
# | application | input sequence | output | shape of the task |
# | --- | --- | --- | --- |
# | speech recognition | audio frames (e.g. 80 log-mel energies every 10 ms) | characters or words (trained with CTC or attention) | many-to-many, different lengths |
# | speech synthesis | characters or phonemes | spectrogram frames, then a waveform | seq2seq with attention |
# | music generation | notes or MIDI events (pitch, duration, velocity) | the next event | many-to-many, like the char LM |
# | video and action recognition | per-frame features from a convolutional network | one action label, or a label per frame | many-to-one / many-to-many |
# | anomaly detection | sensor or log readings over time | a forecast or reconstruction; a large error flags an anomaly | forecasting, as in section 2 |
# | recommendation | a user's sequence of clicked or bought items | a score for every item as the next one | many-to-one at each step (session-based) |
# | robotics and control | observations (joint angles, camera features) | actions, with memory of what the sensors no longer show | one-to-one per step, state carried |
# | dialogue | the conversation so far, as tokens | the reply, token by token | seq2seq with attention |
#
# Since 2017 the Transformer, which keeps attention and drops the recurrence, has taken over
# many of these tasks where data and parallel hardware abound. Recurrent networks remain the
# natural choice when data arrive one step at a time and memory must stay constant: streaming
# speech, control loops, small devices. The state-space models of recent years are recurrent
# networks again, with a linear recurrence that can also be computed in parallel.
#
# ## What you did
#
# - sampling with a temperature, greedy at zero;
# - a truncated-BPTT training step that carries the state and clips the global gradient norm;
# - windows over a time series, a split in time order, and a comparison with naive forecasts;
# - a many-to-one classifier judged against the majority baseline;
# - an encoder-decoder with attention, and its alignment drawn.
