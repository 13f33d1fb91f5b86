# %% [markdown]
# # 01 · Recurrent neural networks: the basics
#
# Text, speech, prices, sensor readings, music: much of the data we care about arrives as
# a **sequence**, one element after another, where the order carries meaning and the
# length varies. This notebook introduces the network built for such data, the
# **recurrent neural network** (RNN).
#
# In this notebook you will
#
# 1. see why an ordinary feed-forward network is a poor fit for sequences;
# 2. meet the recurrent unit, its hidden state, and the idea of sharing parameters
#    across time;
# 3. write down the state update and the output of a vanilla RNN, and see it unrolled;
# 4. compare the activations used in recurrent networks;
# 5. implement four functions: a numerically stable `sigmoid`, `softmax`, one RNN step
#    `rnn_step_forward`, and a whole sequence `rnn_forward`;
# 6. run the five input/output patterns of RNNs (one-to-one, one-to-many, many-to-one,
#    and two kinds of many-to-many) on your own code.
#
# Conventions used throughout the course: arrays are **batch first** and vectors are
# **rows**. A batch of $N$ sequences of $T$ steps, each step a vector of $D$ features, is
# an array `x` of shape `(N, T, D)`; the hidden states have shape `(N, T, H)`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import rnnkit
from rnnkit.checks import rnn_basics as checks

QUICK = bool(os.environ.get("NBGRADER_EXECUTION"))  # autograding: fewer figures
np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Why feed-forward networks fall short on sequences
#
# A feed-forward network (a multilayer perceptron, say) maps one fixed-size input vector
# to one output. Three of its assumptions clash with sequential data:
#
# - **Inputs are independent.** Each input is processed on its own; nothing the network
#   saw a moment ago influences what it does now. In a sentence, a time series or a
#   melody, the meaning of an element depends on the elements before it.
# - **The input has a fixed size.** The first weight matrix has one row per input
#   feature, so the network is built for one length. Sentences are not all ten words long.
# - **There is no memory.** The network has no state that survives from one input to the
#   next, so it cannot accumulate evidence as a sequence unfolds.
#
# The usual workarounds each lose something. Averaging (or summing) the vectors of the
# elements gives a fixed size but throws the order away. Concatenating a fixed window of
# elements keeps the order but fixes the length, and every position gets its own weights,
# so a pattern learnt at position 1 must be learnt again at position 2.
#
# A small experiment makes the first point concrete: two sentences with the same words in
# a different order, each word a random vector.

# %%
words = {w: rng.standard_normal(4) for w in ("dog", "bites", "man")}
sentence_a = np.stack([words[w] for w in "dog bites man".split()])  # (T=3, D=4)
sentence_b = np.stack([words[w] for w in "man bites dog".split()])

print("averaged word vectors, 'dog bites man':", sentence_a.mean(axis=0))
print("averaged word vectors, 'man bites dog':", sentence_b.mean(axis=0))
print("the same vector:", np.allclose(sentence_a.mean(axis=0), sentence_b.mean(axis=0)))

# A window of exactly three words keeps the order, but a weight matrix made for
# 3 words x 4 features cannot read a sentence of five words.
W_window = rng.standard_normal((3 * 4, 5))
five_words = np.stack([words[w] for w in "dog bites man bites dog".split()])
try:
    five_words.reshape(-1) @ W_window
except ValueError:
    print(f"\nthe window layer takes {W_window.shape[0]} numbers; the five-word sentence has "
          f"{five_words.size}: ValueError")

# %% [markdown]
# Averaging makes the two sentences identical, although they do not mean the same thing,
# and the window cannot read the longer sentence at all. The recurrent network of the next
# section tells the two sentences apart and reads any length; we will run it on them at
# the end of section 3.
#
# ## 2. The recurrent unit and its hidden state
#
# A recurrent network reads a sequence one element at a time and keeps a vector
# $h_t$, its **hidden state**, that summarises what it has read so far. At each time step
# $t$ it combines the new input $x_t$ with the previous state $h_{t-1}$ to form the new
# state:
#
# $$h_t = f(h_{t-1}, x_t).$$
#
# The hidden state is the network's **memory**: it is the only thing that carries
# information from one step to the next. Its size $H$ is chosen by the designer and
# does not depend on the length of the sequence.
#
# The function $f$, and so its weights, is **the same at every time step**. This
# *parameter sharing* is what lets one network read sequences of any length, and it means
# that something learnt about, say, a word at the start of a sentence applies to the same
# word anywhere else. It also keeps the model small: the number of weights does not grow
# with the length of the sequences.
#
# Recurrent networks go back to the 1980s. Rumelhart, Hinton and Williams (1986) showed
# how to train multilayer networks with back-propagated errors, and in the same work they
# showed that a recurrent network can be trained by unfolding it in time into a deep
# feed-forward network whose layers share their weights, the idea behind
# backpropagation through time (notebook 02). Jordan (1986) and Elman (1990) then used
# such networks for sequences; the *simple recurrent network* of this notebook is often
# called the Elman network.
#
# The parameter count makes the sharing concrete. Compare a vanilla RNN with a
# feed-forward layer that reads a whole sequence of length $T$ at once:

# %%
D, H = 50, 100
rnn_params = D * H + H * H + H  # Wx, Wh, b: independent of T
print(f"RNN with D={D}, H={H}: {rnn_params:,} parameters for any length")
for T in (10, 100, 1000):
    mlp_params = T * D * H + H  # one weight per (position, feature, hidden unit)
    print(f"feed-forward layer over T={T:>4} steps: {mlp_params:>10,} parameters")

# %% [markdown]
# ## 3. The state update and the output
#
# The vanilla (Elman) RNN uses a single affine map followed by one activation, the
# hyperbolic tangent:
#
# $$h_t = \tanh\left(x_t W_x + h_{t-1} W_h + b\right),$$
#
# with $x_t$ of shape $(N, D)$, $h_{t-1}$ and $h_t$ of shape $(N, H)$, the input
# weights $W_x$ of shape $(D, H)$, the recurrent weights $W_h$ of shape $(H, H)$ and the
# bias $b$ of shape $(H,)$. The sequence starts from a given initial state $h_0$,
# often zero.
#
# When the task needs an output at step $t$, a second affine map reads the hidden state,
# followed by an **output activation chosen by the task**:
#
# $$y_t = g\left(h_t W_y + b_y\right), \qquad W_y: (H, V),\ b_y: (V,).$$
#
# | task | output $y_t$ | $g$ |
# | --- | --- | --- |
# | regression (next value of a time series) | any real number | identity (linear) |
# | binary or multi-label (is this review positive?) | probabilities in (0, 1), independent | sigmoid $\sigma(z) = 1/(1+e^{-z})$ |
# | one class among $V$ (next character, part of speech) | a distribution over $V$ classes | softmax |
#
# **A common error, set right.** Some introductions print the hidden state of a plain
# RNN as $h_t = \sigma(\dots)\,\tanh(\dots)$. The vanilla RNN applies **one** activation,
# $\tanh$, to **one** sum. A product of a sigmoid and a tanh does appear in the LSTM
# (notebook 04), where $h_t = o_t \odot \tanh(c_t)$: there $o_t = \sigma(\cdot)$ is a gate
# computed from its own affine map, and $c_t$ is a separate cell state. Mixing the two
# formulas gives neither model: $\sigma(a)\tanh(a)$ of a single $a$ never goes below
# $(1 - \sqrt{2})/2 \approx -0.21$, so such a "state" could approach $+1$ but hardly be
# negative: it would lose the zero-centred range of tanh.
#
# One step by hand, with $D = 2$, $H = 3$ and a single sequence ($N = 1$):

# %%
x_t = np.array([[1.0, -2.0]])  # (N=1, D=2)
h_prev = np.array([[0.5, 0.0, -0.5]])  # (N=1, H=3)
Wx = np.array([[0.1, 0.2, 0.3], [0.0, -0.1, 0.2]])  # (D, H)
Wh = np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.5]])  # (H, H)
b = np.array([0.0, 0.1, -0.1])  # (H,)

a = x_t @ Wx + h_prev @ Wh + b
print("pre-activation a = x Wx + h_prev Wh + b:", a)
print("h_t = tanh(a):                          ", np.tanh(a))
if rnnkit.sealed_for() is None:  # while the notebook is graded, rnnkit's RNN step is not available
    print("rnnkit.rnn_step_forward gives:          ", rnnkit.rnn_step_forward(x_t, h_prev, Wx, Wh, b)[0])

# %% [markdown]
# **From the textbook's columns to the course's rows.** Many textbooks write vectors as
# columns and the update with one matrix acting on the stacked vector,
# $h_t = \tanh\left(W \begin{bmatrix} h_{t-1} \\ x_t \end{bmatrix} + b\right)$, with $W$ of
# shape $(H, H + D)$. It is the same model. Split $W$ by columns into
# $W = [\,W_{hh} \;\; W_{hx}\,]$, with $W_{hh}$ of shape $(H, H)$ and $W_{hx}$ of shape
# $(H, D)$, so that $W [h; x] = W_{hh} h + W_{hx} x$; then transpose each term,
# $(W_{hh} h)^\top = h^\top W_{hh}^\top$. A state stored as a row is $h^\top$, so the course's
# matrices are the transposes: $W_h = W_{hh}^\top$, $W_x = W_{hx}^\top$.
# Rows have one practical advantage: a batch of $N$ states is an $(N, H)$ array, and one
# product `h_prev @ Wh` advances all of them at once. The cell checks the correspondence on
# the step above.

# %%
W = np.concatenate([Wh.T, Wx.T], axis=1)  # the textbook's W: (H, H + D), acting on columns
column = np.tanh(W @ np.concatenate([h_prev[0], x_t[0]]) + b)  # one state as a column vector
print("column form, tanh(W [h; x] + b):", column)
print("row form, tanh(x Wx + h Wh + b):", np.tanh(x_t @ Wx + h_prev @ Wh + b)[0])

# %% [markdown]
# Back to the two sentences of section 1: a small RNN with random weights reads each,
# word by word, and its last hidden state is different for the two orders, because the
# state after "dog bites" is not the state after "man bites".

# %%
small = dict(Wx=rng.standard_normal((4, 6)) / 2, Wh=rng.standard_normal((6, 6)) / 3, b=np.zeros(6))
h0 = np.zeros((1, 6))
if rnnkit.sealed_for() is None:  # while the notebook is graded, rnnkit's RNN is not available
    last_a = rnnkit.rnn_forward(sentence_a[None], h0, **small)[0][0, -1]
    last_b = rnnkit.rnn_forward(sentence_b[None], h0, **small)[0][0, -1]
    print("last state, 'dog bites man':", last_a)
    print("last state, 'man bites dog':", last_b)
    print("largest difference:", np.abs(last_a - last_b).max())

# %% [markdown]
# ## 4. Unrolling through time
#
# A recurrent network is usually drawn in one of two ways. *Folded*, it is a single cell
# with a loop: the state leaves the cell and comes back in at the next step. *Unrolled*
# (or unfolded) through time, the loop is drawn out as one copy of the cell per time
# step, each passing its state to the next. The unrolled picture is a feed-forward
# network with $T$ layers that all share $W_x$, $W_h$ and $b$; it is the picture to keep
# in mind when computing the forward pass, and when computing gradients in notebook 02.

# %%
def box(ax, xy, text, face="white", edge="black", w=0.62, h=0.44):
    ax.add_patch(FancyBboxPatch((xy[0] - w / 2, xy[1] - h / 2), w, h, boxstyle="round,pad=0.02",
                                fc=face, ec=edge, lw=1.2))
    ax.text(*xy, text, ha="center", va="center", fontsize=10)


def arrow(ax, start, end, color="black", style="-|>", **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=color, lw=1.2, **kw))


fig, (ax_f, ax_u) = plt.subplots(1, 2, figsize=(11, 3.2), width_ratios=[1, 3.2])
# folded: one cell and a loop
box(ax_f, (0, 0), "$x_t$")
box(ax_f, (0, 1), "$h_t$", face="#fde0dd")
box(ax_f, (0, 2), "$y_t$", face="#e5f5e0")
arrow(ax_f, (0, 0.22), (0, 0.78))
arrow(ax_f, (0, 1.22), (0, 1.78))
arrow(ax_f, (0.31, 1.1), (0.31, 0.9), connectionstyle="arc3,rad=-2.2")
ax_f.text(0.75, 1.0, "$W_h$", fontsize=10, va="center")
ax_f.text(0.08, 0.5, "$W_x$", fontsize=9)
ax_f.text(0.08, 1.5, "$W_y$", fontsize=9)
ax_f.set_title("folded")
# unrolled: one copy per time step
for t in range(1, 5):
    box(ax_u, (t, 0), f"$x_{t}$")
    box(ax_u, (t, 1), f"$h_{t}$", face="#fde0dd")
    box(ax_u, (t, 2), f"$y_{t}$", face="#e5f5e0")
    arrow(ax_u, (t, 0.22), (t, 0.78))
    arrow(ax_u, (t, 1.22), (t, 1.78))
    arrow(ax_u, (t - 0.69, 1), (t - 0.31, 1))
    ax_u.text(t - 0.62, 1.08, "$W_h$", fontsize=8)
box(ax_u, (0, 1), "$h_0$", face="#f0f0f0")
ax_u.text(4.45, 1.0, "...", fontsize=14, va="center")
ax_u.set_title("unrolled through time: the same $W_x$, $W_h$, $b$, $W_y$, $b_y$ at every step")
for ax in (ax_f, ax_u):
    ax.set_ylim(-0.5, 2.5)
    ax.axis("off")
ax_f.set_xlim(-0.8, 1.2)
ax_u.set_xlim(-0.5, 4.8)
plt.show()

# %% [markdown]
# The explorer below unrolls a small RNN ($H = 4$ hidden units, one input number per
# step) over a short sequence. Move the slider, or press play, to walk through the time
# steps: the top row shows the network unrolled up to step $t$, the plot the value of
# every hidden unit so far. Things to try:
#
# - With the input *pulse at t = 1*, the input is zero after the first step, so
#   everything the state does afterwards is memory of that one pulse. Compare a recurrent
#   scale of 0.5, 0.9 and 1.5: the memory fades fast, slowly, or not at all.
# - With the recurrent scale at 0, the state only ever reflects the current input: the
#   network has no memory and behaves like a feed-forward network applied at each step.

# %%
from rnnkit.widgets.unroll import UnrollExplorer

if rnnkit.sealed_for() is None:  # while the notebook is graded, the explorer's RNN (rnnkit's) is not available
    explorer = UnrollExplorer(T=10, H=4)
    display(explorer.widget)

# %% [markdown]
# ## 5. Activation functions
#
# Three nonlinearities appear in recurrent networks:
#
# - $\tanh(a)$, with values in $(-1, 1)$, is the usual choice for the state of a vanilla
#   RNN: it is centred on zero and bounded, so repeated application cannot blow the state
#   up.
# - $\mathrm{ReLU}(a) = \max(a, 0)$ is cheap and does not saturate for positive inputs,
#   but it is unbounded: applied again and again through $W_h$, the state can grow
#   without limit. It works in recurrent networks with care (an identity-initialised
#   $W_h$, Le et al. 2015) and is common in the layers around them.
# - The sigmoid $\sigma(a) = 1 / (1 + e^{-a})$, with values in $(0, 1)$, reads as a
#   fraction. It is used for outputs that are probabilities and, above all, **inside
#   gates**: the LSTM and GRU (notebooks 04 and 05) multiply a signal by a sigmoid to let a
#   fraction of it through.
#
# Their slopes matter as much as their values: a gradient flowing back through time is
# multiplied by the slope at every step (notebook 03).

# %%
a = np.linspace(-5, 5, 401)
activations = {"tanh": (np.tanh(a), 1 - np.tanh(a) ** 2),
               "ReLU": (np.maximum(a, 0), (a > 0).astype(float)),
               "sigmoid": (1 / (1 + np.exp(-a)), np.exp(-a) / (1 + np.exp(-a)) ** 2)}

fig, (ax_v, ax_d, ax_r) = plt.subplots(1, 3, figsize=(13, 3.4))
for name, (value, slope) in activations.items():
    ax_v.plot(a, value, label=name)
    ax_d.plot(a, slope, label=name)
ax_v.set_ylim(-1.5, 3)
ax_v.set_title("value")
ax_d.set_title("slope (derivative)")
for ax in (ax_v, ax_d):
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_xlabel("pre-activation a")
    ax.legend()
    ax.grid(alpha=0.3)

# Iterate the state update without input, h <- f(h Wh), with Wh = 1.2 I.
Wh_demo = 1.2 * np.eye(8)
for name, f in {"tanh": np.tanh, "ReLU": lambda z: np.maximum(z, 0)}.items():
    h, norms = np.full((1, 8), 0.1), []
    for _ in range(40):
        h = f(h @ Wh_demo)
        norms.append(np.linalg.norm(h))
    ax_r.semilogy(range(1, 41), norms, label=name)
ax_r.set_title("$|h_t|$ with no input, $W_h = 1.2\\,I$")
ax_r.set_xlabel("time step t")
ax_r.legend()
ax_r.grid(alpha=0.3)
plt.show()

# %% [markdown]
# The right panel runs the update with no input and $W_h = 1.2\,I$, from a small positive
# state. With ReLU the state is multiplied by 1.2 at every step and grows without bound
# ($1.2^{40} \approx 1500$); with tanh it grows only until the tanh saturates, and then
# stays below $\sqrt{H}$ however long the sequence. (With ReLU, a unit whose
# pre-activation turns negative outputs 0 and can stay "dead"; that is the other way it
# goes wrong.)
#
# ## 6. Exercises
#
# Each exercise is one function. Replace `raise NotImplementedError()` with its body, then
# run the test cells below it. The tests compare your function with `rnnkit` and, when they
# differ, try to say what is wrong. Each requirement has a test cell of its own, with its
# own points:
#
# - the **values** (most of the points), also on sizes where $N$, $T$, $D$ or $H$ is 1, and
#   in float32 as well as float64;
# - **stability**, where it matters: no warning for very large inputs;
# - the **dtype** (float32 in, float32 out) and the **inputs**: your function must not
#   change the arrays it is given.
#
# Every requirement is tested in the cells you see; the hidden tests that run when your
# notebook is graded only add sizes, seeds and dtypes of the same kinds, so a notebook whose
# visible tests pass does not lose points for a new reason. Do not call rnnkit's own version
# of the function you are writing: the tests notice.
#
# ### Exercise 1: a numerically stable sigmoid
#
# The formula $\sigma(z) = 1 / (1 + e^{-z})$ is exact, but computed as written it fails
# for large negative $z$: $e^{1000}$ overflows to infinity and NumPy prints a
# `RuntimeWarning` (the result, $1/\infty = 0$, happens to be right; the warning is still
# a fault, and in a graded cell it costs the cell). The cure is to only ever exponentiate
# a number that is not positive, so that $e^{(\cdot)}$ lies in $(0, 1]$:
#
# $$\sigma(z) = \begin{cases} \dfrac{1}{1 + e^{-z}} & z \ge 0, \\[2ex]
# \dfrac{e^{z}}{1 + e^{z}} & z < 0. \end{cases}$$
#
# Both branches are the same function (multiply the top and bottom of the first by
# $e^{z}$). One way: compute $e = e^{-|z|}$ once, then pick the branch with `np.where`.
# Beware that `np.where(cond, A, B)` computes **both** `A` and `B` for every element, so
# each must be safe for every $z$.

# %% nbgrader={"grade": false, "grade_id": "sigmoid", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), elementwise, without overflow for any finite z.

    Input: z, an array of any shape (float32 or float64).
    Returns an array of the same shape and dtype, with values in [0, 1].
    """
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "sigmoid_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Values (3 points): the sigmoid works elementwise, so the output has the shape of the
# input; float64, then float32 (compared with float32's precision), and sizes of 1.
checks.check_sigmoid(sigmoid, [[-2.0, -0.5, 0.0], [0.5, 2.0, 4.0]])
for dtype in (np.float64, np.float32):
    checks.check_sigmoid(sigmoid, np.linspace(-30, 30, 61), dtype=dtype)
checks.check_sigmoid(sigmoid, [[0.3], [-1.5]])
s0 = checks.check_sigmoid(sigmoid, [0.0])
assert s0[0] == 0.5, f"sigmoid(0) should be exactly 0.5, got {checks.plain(s0[0], 17)}"
print("sigmoid: the values agree with rnnkit")

### BEGIN HIDDEN TESTS
rng_test = np.random.default_rng(101)
for dtype in (np.float64, np.float32):
    for shape in [(1,), (7,), (3, 5), (2, 4, 6), (1, 1), (4, 1)]:
        checks.check_sigmoid(sigmoid, rng_test.normal(scale=6.0, size=shape), dtype=dtype)
    checks.check_sigmoid(sigmoid, np.linspace(-30, 30, 61), dtype=dtype)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "sigmoid_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Stability (1 point): z = -10000, -1000, -100, -88, 88, 100, 1000, 10000, one at a time,
# in float64 and in float32, give 0 or 1 without a warning.
for dtype in (np.float64, np.float32):
    checks.check_sigmoid_is_stable(sigmoid, dtype=dtype)
print("sigmoid: no warning at extreme inputs")

### BEGIN HIDDEN TESTS
rng_test = np.random.default_rng(102)
for dtype in (np.float64, np.float32):
    extremes = rng_test.choice([-1.0, 1.0], size=6) * rng_test.uniform(90.0, 5000.0, size=6)
    checks.check_sigmoid_is_stable(sigmoid, dtype=dtype, extremes=tuple(float(v) for v in extremes))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "sigmoid_tests_3", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# dtype and inputs (1 point): float32 in, float32 out (float64 likewise), and z unchanged.
for shape in [(2, 3), (5,), (2, 3, 4)]:
    checks.check_sigmoid_keeps(sigmoid, shape=shape)
print("sigmoid: keeps the dtype and leaves z alone")

### BEGIN HIDDEN TESTS
for seed, shape in enumerate([(7,), (4, 2), (3, 2, 5)]):
    checks.check_sigmoid_keeps(sigmoid, shape=shape, seed=seed + 1)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: softmax
#
# The softmax turns a vector of $V$ scores into a probability distribution over $V$
# classes:
#
# $$\mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_{j} e^{z_j}}.$$
#
# Your `softmax(z, axis=-1)` applies it along one axis of an array: for scores of shape
# `(N, T, V)` and the default `axis=-1`, every `z[n, t, :]` becomes a distribution.
#
# Two details make it robust:
#
# - **Stability.** Scores of a few hundred overflow $e^{z}$. Since
#   $\mathrm{softmax}(z) = \mathrm{softmax}(z - m)$ for any constant $m$, subtract the
#   largest score **of each slice along the axis** first: then the largest exponent is
#   $e^0 = 1$ and none overflows. (Subtracting the largest score of the whole array is not
#   enough: a slice whose scores all lie far below it underflows to $0 / 0$.)
# - **Broadcasting.** `np.max(z, axis=axis, keepdims=True)` keeps the reduced axis with
#   length 1, so the result lines up with `z` for the subtraction and the division.

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
def softmax(z, axis=-1):
    """Softmax of the scores z along ``axis``, numerically stable.

    Inputs: z, an array of any shape (float32 or float64); axis, the axis of the classes.
    Returns an array of the shape and dtype of z, non-negative, summing to 1 along axis.
    """
    ### BEGIN SOLUTION
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "softmax_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Values (3 points) against rnnkit: rows of a matrix, a 1-D vector, a square matrix along
# each axis, the middle axis of a 3-D array, float32, and sizes of 1 (one row, one class).
checks.check_softmax(softmax, [[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
checks.check_softmax(softmax, [3.0, 1.0, 0.2])
checks.check_softmax(softmax, np.arange(9.0).reshape(3, 3) / 3)
checks.check_softmax(softmax, np.arange(9.0).reshape(3, 3) / 3, axis=0)
checks.check_softmax(softmax, np.arange(24.0).reshape(2, 3, 4) / 4, axis=1)
checks.check_softmax(softmax, [[0.5, -1.0, 2.0, 0.0]], dtype=np.float32)
checks.check_softmax(softmax, [[0.5], [-1.0]])
print("softmax: the values agree with rnnkit")

### BEGIN HIDDEN TESTS
rng_test = np.random.default_rng(202)
for dtype in (np.float64, np.float32):
    for shape, axis in [((1, 5), None), ((4, 1), None), ((6,), None), ((3, 7), -1), ((5, 5), None),
                        ((5, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), 0), ((2, 3, 4), 2)]:
        checks.check_softmax(softmax, rng_test.normal(scale=4.0, size=shape), axis=axis, dtype=dtype)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "softmax_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Stability (1 point): huge scores, and rows far apart, in float64 and float32, without a
# warning.
for dtype in (np.float64, np.float32):
    checks.check_softmax_is_stable(softmax, dtype=dtype)
print("softmax: no warning at extreme scores")

### BEGIN HIDDEN TESTS
rng_test = np.random.default_rng(203)
for dtype in (np.float64, np.float32):
    checks.check_softmax_is_stable(softmax, dtype=dtype, z=rng_test.normal(scale=300.0, size=(3, 6)))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "softmax_tests_3", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# dtype and inputs (1 point): float32 in, float32 out (float64 likewise), and the scores z
# unchanged.
for shape in [(3, 4), (5,), (2, 3, 4)]:
    checks.check_softmax_keeps(softmax, shape=shape)
print("softmax: keeps the dtype and leaves z alone")

### BEGIN HIDDEN TESTS
for seed, shape in enumerate([(6,), (4, 2), (3, 2, 5)]):
    checks.check_softmax_keeps(softmax, shape=shape, seed=seed + 1)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: one step of the RNN
#
# Implement the state update of section 3 for a batch:
#
# $$h_{\text{next}} = \tanh\left(x\,W_x + h_{\text{prev}}\,W_h + b\right)$$
#
# with `x` of shape `(N, D)`, `h_prev` of shape `(N, H)`, `Wx` `(D, H)`, `Wh` `(H, H)`
# and `b` `(H,)`; `b` broadcasts over the rows. Use `np.tanh`. Return `h_next` and a
# `cache`. Nothing in this notebook reads the cache: it is there because the course pairs
# every forward function with a backward one, and notebook 02's backward pass takes what
# the forward pass kept (the inputs, the weights and `h_next` are enough). The tests here
# accept any cache.
#
# If the test fails, its message says which term is wrong: the checker calls your
# function again with every input zeroed but one (only `x`, only `h_prev`, only `b`) and
# reports the term whose probe disagrees with rnnkit.

# %% nbgrader={"grade": false, "grade_id": "rnn_step_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One time step of a tanh RNN.

    Inputs:
    - x: (N, D) the input at this step
    - h_prev: (N, H) the hidden state of the previous step
    - Wx: (D, H) input weights
    - Wh: (H, H) recurrent weights
    - b: (H,) bias

    Returns a tuple:
    - h_next: (N, H) the new hidden state, tanh(x @ Wx + h_prev @ Wh + b)
    - cache: what the backward pass needs, e.g. (x, h_prev, Wx, Wh, h_next)
    """
    ### BEGIN SOLUTION
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    cache = (x, h_prev, Wx, Wh, h_next)
    ### END SOLUTION
    return h_next, cache

# %% nbgrader={"grade": true, "grade_id": "rnn_step_forward_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Values (3 points) against rnnkit; when they differ, the message names the faulty term.
# Sizes N=2 sequences, D=3 input features, H=4 hidden units, then each of N, D, H equal
# to 1; float32; and large pre-activations, where tanh saturates at +-1 without a warning.
for N, D, H in checks.STEP_SIZES:
    checks.check_rnn_step_forward(rnn_step_forward, N, D, H)
checks.check_rnn_step_forward(rnn_step_forward, 2, 3, 4, dtype=np.float32)
for dtype in (np.float64, np.float32):
    checks.check_rnn_step_forward(rnn_step_forward, 3, 4, 5, dtype=dtype, seed=7, scale=100.0)
print("rnn_step_forward: the values agree with rnnkit")

### BEGIN HIDDEN TESTS
rng_test = np.random.default_rng(303)
sizes = [(1, 1, 1), (1, 4, 3), (3, 5, 5), (4, 2, 6), (6, 3, 2), (5, 1, 3), (4, 3, 1)]
sizes.append(tuple(int(v) for v in rng_test.integers(1, 9, size=3)))
for dtype in (np.float64, np.float32):
    for N, D, H in sizes:
        checks.check_rnn_step_forward(rnn_step_forward, N, D, H, dtype=dtype, seed=int(rng_test.integers(1000)))
    checks.check_rnn_step_forward(rnn_step_forward, 3, 4, 5, dtype=dtype, seed=8, scale=100.0)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "rnn_step_forward_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# dtype and inputs (1 point): float32 in, float32 h_next out (float64 likewise), and
# x, h_prev, Wx, Wh, b unchanged (on sizes with no 1: those are the values test's).
for N, D, H in checks.KEEPS_STEP_SIZES:
    checks.check_rnn_step_forward_keeps(rnn_step_forward, N, D, H)
print("rnn_step_forward: keeps the dtype and leaves its inputs alone")

### BEGIN HIDDEN TESTS
for N, D, H in [(5, 2, 3), (4, 6, 2)]:
    checks.check_rnn_step_forward_keeps(rnn_step_forward, N, D, H)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4: the RNN over a whole sequence
#
# Now run the step over a sequence. Given `x` of shape `(N, T, D)` and the initial state
# `h0` of shape `(N, H)`, compute
#
# $$h_t = \tanh\left(x_t W_x + h_{t-1} W_h + b\right), \qquad t = 1, \dots, T,$$
#
# and return all the states $h_1, \dots, h_T$ in one array `h` of shape `(N, T, H)`
# (batch first: `h[:, t]` is the state after reading `x[:, t]`, counting from 0 in
# Python). The state computed at one step is the `h_prev` of the next: that is the
# network's memory. Use your `rnn_step_forward` in a loop over time, and collect the
# caches of the steps in the `cache` you return (a list will do; the tests do not read it).
# If your `rnn_step_forward` is wrong, this exercise is still graded on its own: a loop that
# runs your step correctly passes, and the step's test takes the points.
#
# Create `h` with the dtype of `x` (for instance with `np.empty((N, T, H), dtype=x.dtype)`).

# %% nbgrader={"grade": false, "grade_id": "rnn_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rnn_forward(x, h0, Wx, Wh, b):
    """Run a tanh RNN over a whole sequence.

    Inputs:
    - x: (N, T, D) the input sequence
    - h0: (N, H) the initial hidden state
    - Wx: (D, H), Wh: (H, H), b: (H,) the weights, shared by every step

    Returns a tuple:
    - h: (N, T, H) the hidden state at every time step
    - cache: what the backward pass needs, e.g. the list of the steps' caches
    """
    ### BEGIN SOLUTION
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    caches = []
    h_prev = h0
    for t in range(T):
        h_prev, step_cache = rnn_step_forward(x[:, t, :], h_prev, Wx, Wh, b)
        h[:, t, :] = h_prev
        caches.append(step_cache)
    cache = caches
    ### END SOLUTION
    return h, cache

# %% nbgrader={"grade": true, "grade_id": "rnn_forward_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Values (3 points) against rnnkit, step by step; the message says which step goes wrong
# first. Sizes N=2, T=3, D=4, H=5, then each of N, T, D, H equal to 1; float32; large
# pre-activations. A loop that runs your rnn_step_forward correctly passes here even if
# that step is wrong: the step's own test takes those points.
for N, T, D, H in checks.SEQUENCE_SIZES:
    checks.check_rnn_forward(rnn_forward, N, T, D, H, step=rnn_step_forward)
checks.check_rnn_forward(rnn_forward, 2, 3, 4, 5, dtype=np.float32, step=rnn_step_forward)
for dtype in (np.float64, np.float32):
    checks.check_rnn_forward(rnn_forward, 2, 4, 3, 5, dtype=dtype, seed=9, scale=100.0, step=rnn_step_forward)
print("rnn_forward: the values agree with rnnkit")

### BEGIN HIDDEN TESTS
rng_test = np.random.default_rng(404)
sizes = [(1, 1, 3, 4), (3, 1, 2, 2), (1, 6, 2, 3), (4, 5, 3, 3), (2, 7, 5, 4), (5, 5, 2, 2), (4, 3, 1, 3),
         (3, 4, 2, 1)]
sizes.append(tuple(int(v) for v in rng_test.integers(1, 8, size=4)))
for dtype in (np.float64, np.float32):
    for N, T, D, H in sizes:
        checks.check_rnn_forward(rnn_forward, N, T, D, H, dtype=dtype, seed=int(rng_test.integers(1000)),
                                 step=rnn_step_forward)
    checks.check_rnn_forward(rnn_forward, 2, 4, 3, 5, dtype=dtype, seed=10, scale=100.0, step=rnn_step_forward)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "rnn_forward_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# dtype and inputs (1 point): float32 in, float32 h out (float64 likewise), and x, h0, Wx,
# Wh, b unchanged.
for N, T, D, H in checks.KEEPS_SEQUENCE_SIZES:
    checks.check_rnn_forward_keeps(rnn_forward, N, T, D, H, step=rnn_step_forward)
print("rnn_forward: keeps the dtype and leaves its inputs alone")

### BEGIN HIDDEN TESTS
for N, T, D, H in [(4, 5, 3, 2), (2, 6, 2, 3)]:
    checks.check_rnn_forward_keeps(rnn_forward, N, T, D, H, step=rnn_step_forward)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Five ways to wire inputs to outputs
#
# The same recurrent layer serves very different tasks, depending on where the inputs
# come in and where the outputs are read:
#
# - **one-to-one**: one input, one output; no sequence at all (a single step, as a
#   feed-forward network would do: classifying one image);
# - **one-to-many**: one input, a sequence out (describing an image in words, generating
#   music from a seed); each output is fed back in as the next input;
# - **many-to-one**: a sequence in, one output (the sentiment of a review, the class of
#   a signal), read from the last hidden state;
# - **many-to-many, aligned**: one output per input (tagging each word with its part of
#   speech, labelling each frame of a video);
# - **many-to-many, encoder–decoder**: a sequence in, a sequence of a *different* length
#   out (translation). An encoder RNN reads the input; its last state becomes the
#   initial state of a decoder RNN, which writes the output.
#
# In the figure, x marks an input, y an output; the red boxes are hidden states (blue:
# the encoder's), and a dashed arrow feeds an output back in as the next input.

# %%
patterns = {
    "one-to-one": ([1], [1], 1),
    "one-to-many": ([1], [1, 2, 3, 4], 4),
    "many-to-one": ([1, 2, 3, 4], [4], 4),
    "many-to-many\n(aligned)": ([1, 2, 3, 4], [1, 2, 3, 4], 4),
    "many-to-many\n(encoder-decoder)": ([1, 2, 3], [4, 5, 6], 6),
}
fig, axes = plt.subplots(1, 5, figsize=(15, 3.2))
for ax, (title, (ins, outs, T)) in zip(axes, patterns.items()):
    for t in range(1, T + 1):
        encoder = "encoder" in title and t <= 3
        box(ax, (t, 1), "", face="#c6dbef" if encoder else "#fde0dd", w=0.55, h=0.4)
        if t > 1:
            arrow(ax, (t - 0.72, 1), (t - 0.28, 1))
        if t in ins:
            box(ax, (t, 0), "x", w=0.5, h=0.36)
            arrow(ax, (t, 0.18), (t, 0.8))
        if t in outs:
            box(ax, (t, 2), "y", face="#e5f5e0", w=0.5, h=0.36)
            arrow(ax, (t, 1.2), (t, 1.82))
        if "one-to-many" in title and t > 1:  # the previous output, fed back as this input
            box(ax, (t, 0), "", edge="tab:gray", w=0.5, h=0.36)
            arrow(ax, (t, 0.18), (t, 0.8), color="tab:gray")
            arrow(ax, (t - 0.75, 1.85), (t - 0.1, 0.2), color="tab:gray", style="->", linestyle="--")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0.4, max(T, 4) + 0.6)
    ax.set_ylim(-0.4, 2.4)
    ax.axis("off")
plt.show()

# %% [markdown]
# Each pattern below runs on your `rnn_forward`, `rnn_step_forward`, `softmax` and
# `sigmoid` (or, for any you have not written yet, on rnnkit's; the output says which).
# Every pattern uses the same few weight shapes: $D$ input features, $H$ hidden units,
# $V$ output classes.

# %%
def yours_or_rnnkit(fn, name, *probe):
    """Your function if it runs on the small input ``probe``, else rnnkit's, saying so."""
    try:
        fn(*probe)
    except NotImplementedError:
        print(f"{name} is not written yet: using rnnkit.{name}")
    except Exception as exc:  # noqa: BLE001 (any failure: fall back, and say why)
        print(f"your {name} fails ({type(exc).__name__}: {exc}): using rnnkit.{name}")
    else:
        print(f"using your {name}")
        return fn
    return getattr(rnnkit, name)


one = np.ones((1, 1))
forward = yours_or_rnnkit(rnn_forward, "rnn_forward", np.ones((1, 2, 1)), one, one, one, np.ones(1))
step = yours_or_rnnkit(rnn_step_forward, "rnn_step_forward", one, one, one, one, np.ones(1))
softmax_fn = yours_or_rnnkit(softmax, "softmax", np.zeros((2, 3)))
sigmoid_fn = yours_or_rnnkit(sigmoid, "sigmoid", np.zeros(3))

D, H, V = 5, 8, 5
prng = np.random.default_rng(7)


def rnn_weights(D, H):
    return dict(Wx=prng.normal(scale=1 / np.sqrt(D), size=(D, H)),
                Wh=prng.normal(scale=0.9 / np.sqrt(H), size=(H, H)),
                b=np.zeros(H))


enc = rnn_weights(D, H)
Wy, by = prng.normal(scale=1 / np.sqrt(H), size=(H, V)), np.zeros(V)

# %% [markdown]
# **One-to-one.** A single step ($T = 1$) from a zero state: the recurrence plays no
# part, and the model is a one-hidden-layer network with a softmax output.

# %%
N = 3
x = prng.normal(size=(N, 1, D))  # (N, T=1, D)
h, _ = forward(x, np.zeros((N, H)), **enc)
y = softmax_fn(h[:, 0] @ Wy + by)  # (N, V)
print("x", x.shape, "-> h", h.shape, "-> y", y.shape, "; each row of y sums to", y.sum(axis=1))

# %% [markdown]
# **One-to-many.** One input starts the sequence; after that, at each step the network's
# most likely class is fed back as the next input (as a one-hot vector, so $D = V$ here).
# This is how a trained character model generates text (notebook 07).

# %%
x_t = prng.normal(size=(N, D))  # the one input, (N, D)
h_t, outputs = np.zeros((N, H)), []
for t in range(6):
    h_t, _ = step(x_t, h_t, **enc)
    y_t = softmax_fn(h_t @ Wy + by)  # (N, V)
    outputs.append(y_t)
    x_t = np.eye(V)[y_t.argmax(axis=1)]  # feed the prediction back in
y = np.stack(outputs, axis=1)
print("one x", (N, D), "-> y", y.shape, "; generated classes:\n", y.argmax(axis=2))

# %% [markdown]
# **Many-to-one.** The network reads a whole sequence; one output, here the probability of
# a "positive" label through a sigmoid, is read from the last hidden state.

# %%
w_pos, c_pos = prng.normal(size=H), 0.0
x = prng.normal(size=(N, 7, D))  # N sequences of T=7 steps
h, _ = forward(x, np.zeros((N, H)), **enc)
p_positive = sigmoid_fn(h[:, -1] @ w_pos + c_pos)  # (N,)
print("x", x.shape, "-> h", h.shape, "-> last state", h[:, -1].shape, "-> p(positive)", p_positive)

# %% [markdown]
# **Many-to-many, aligned.** One output per input: the same output layer reads the
# hidden state of every step, giving a distribution over $V$ tags for each position.

# %%
h, _ = forward(x, np.zeros((N, H)), **enc)  # (N, T, H)
tags = softmax_fn(h @ Wy + by)  # (N, T, V): the matmul and softmax act on the last axis
print("x", x.shape, "-> h", h.shape, "-> tag distributions", tags.shape)
print("most likely tag of each position, first sequence:", tags[0].argmax(axis=1))

# %% [markdown]
# **Many-to-many, encoder–decoder.** The encoder reads a source sequence of 7 steps; its
# last state is the decoder's initial state. The decoder has weights of its own and
# writes 4 steps, each fed the previous prediction, starting from a start symbol (class 0).
# Source and target lengths are independent.

# %%
dec = rnn_weights(V, H)
h_enc, _ = forward(x, np.zeros((N, H)), **enc)  # (N, 7, H)
h_t = h_enc[:, -1]  # the summary of the source
x_t = np.eye(V)[np.zeros(N, dtype=int)]  # start symbol
outputs = []
for t in range(4):
    h_t, _ = step(x_t, h_t, **dec)
    y_t = softmax_fn(h_t @ Wy + by)
    outputs.append(y_t)
    x_t = np.eye(V)[y_t.argmax(axis=1)]
y = np.stack(outputs, axis=1)
print("source", x.shape, "-> encoder states", h_enc.shape, "-> decoder output", y.shape)

# %% [markdown]
# With random weights the outputs mean nothing yet: the shapes and the flow of
# information are the point. Training, which fits the weights to data, needs the
# gradients of a loss, computed backwards through the unrolled network: that is
# notebook 02.
#
# ## Summary
#
# - A feed-forward network sees one fixed-size input with no memory; sequences need order,
#   variable length and memory.
# - A recurrent network keeps a hidden state, updated at every step by the same function
#   with the same weights: $h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$. One activation, not a
#   product of two.
# - An output layer $y_t = g(h_t W_y + b_y)$ reads the state; $g$ is chosen by the task:
#   linear, sigmoid or softmax.
# - Unrolled through time, an RNN is a deep feed-forward network whose layers share
#   their weights.
# - tanh keeps the state bounded; ReLU may let it grow; the sigmoid gives fractions, for
#   gates and probabilities.
# - Where the inputs enter and the outputs are read gives one-to-one, one-to-many,
#   many-to-one, and aligned or encoder–decoder many-to-many models.

# %% [markdown]
# ## Glossary
#
# The course's key terms, each with the notebook that teaches it (the links open it).
#
# | term | meaning | notebook |
# | --- | --- | --- |
# | sequential data | data whose elements come in an order that carries meaning: text, speech, prices, sensor readings | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | time step | one position $t$ of a sequence, and the work the network does there | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | hidden state | the vector $h_t$ a recurrent network carries from step to step: its memory | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | input layer | the map $x_t W_x$ that brings the input of a step into the network | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | recurrent layer | the layer that computes $h_t$ from $h_{t-1}$ and $x_t$, with the same weights at every step | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | output layer | the map $y_t = g(h_t W_y + b_y)$ that reads a prediction from the hidden state | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | weight matrices | $W_x$ (input to hidden), $W_h$ (hidden to hidden), $W_y$ (hidden to output), shared by every step | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | bias | the vector added after a product ($b$, $b_y$), letting a unit be active with zero input | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | activation | the elementwise function applied to a sum: tanh, ReLU, sigmoid | [01](../01-rnn-basics/01-rnn-basics.ipynb) |
# | unfolding, unrolling | drawing the network as one copy per time step: a deep network whose layers share their weights | [01](../01-rnn-basics/01-rnn-basics.ipynb), [02](../02-bptt/02-bptt.ipynb) |
# | BPTT | backpropagation through time: the chain rule run backwards over the unrolled network | [02](../02-bptt/02-bptt.ipynb) |
# | truncated BPTT | BPTT within windows of $k$ steps, the state carried forwards across the windows | [02](../02-bptt/02-bptt.ipynb) |
# | vanishing gradient | a gradient that shrinks exponentially as it is carried back over many steps | [03](../03-gradient-problems/03-gradient-problems.ipynb) |
# | exploding gradient | a gradient that grows exponentially as it is carried back over many steps | [03](../03-gradient-problems/03-gradient-problems.ipynb) |
# | short-term dependency | an output that depends on inputs a few steps back | [03](../03-gradient-problems/03-gradient-problems.ipynb) |
# | long-term dependency | an output that depends on an input many steps back, which vanishing gradients make hard to learn | [03](../03-gradient-problems/03-gradient-problems.ipynb), [04](../04-lstm/04-lstm.ipynb) |
# | gradient clipping | scaling (by norm) or cutting (by value) a gradient that is too large, before the update | [03](../03-gradient-problems/03-gradient-problems.ipynb) |
# | gating | multiplying a signal by a learned fraction in (0, 1), computed by a sigmoid | [04](../04-lstm/04-lstm.ipynb), [05](../05-gru/05-gru.ipynb) |
# | sequence to sequence | an encoder reads one sequence, a decoder writes another, of its own length | [01](../01-rnn-basics/01-rnn-basics.ipynb), [06](../06-variants/06-variants.ipynb), [07](../07-applications/07-applications.ipynb) |
# | bidirectional RNN | two RNNs, one reading forwards and one backwards, whose states are joined at each step | [04](../04-lstm/04-lstm.ipynb), [06](../06-variants/06-variants.ipynb) |
# | attention | a weighted average over the states of a sequence, with weights computed from their relevance to the current step | [03](../03-gradient-problems/03-gradient-problems.ipynb), [06](../06-variants/06-variants.ipynb), [07](../07-applications/07-applications.ipynb) |
