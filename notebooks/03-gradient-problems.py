# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Vanishing and exploding gradients
#
# Notebook 02 ended with a gradient placed on the last hidden state and carried back in
# time, shrinking on the way. This notebook asks why it shrinks, when it grows instead,
# what either does to training, and what can be done about it, measuring as we go.
#
# 1. The gradient that crosses $k$ steps is a product of $k$ Jacobians; you will measure
#    its size against the time lag (`gradient_norm_by_lag`).
# 2. Vanishing gradients give a network a short memory; exploding gradients make the
#    loss jump and the weights turn into NaN. We watch both happen.
# 3. Remedies: gradient clipping (you write `clip_grad_norm`), initialisation, gated
#    units, learning-rate schedules and regularisation, compared on one task.
# 4. What no remedy fixes, and where the field went next.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import rnnkit
from rnnkit import init, optim
from rnnkit.checks import gradient_problems as checks
from rnnkit.checks.bptt import random_rnn
from rnnkit.tasks import recall_batch
from rnnkit.widgets.gradient_flow import GradientFlowExplorer, recurrent_matrix

QUICK = bool(os.environ.get("NBGRADER_EXECUTION"))  # autograding: shorter experiments
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. A product of Jacobians
#
# For the tanh RNN $h_t = \tanh(a_t)$, $a_t = x_t W_x + h_{t-1} W_h + b$, one step of the
# backward pass maps the gradient of $h_t$ to the gradient of $h_{t-1}$ (row vectors, as in
# the code):
#
# $$\frac{\partial L}{\partial h_{t-1}} = \left(\frac{\partial L}{\partial h_t} \odot (1 - h_t^2)\right) W_h^\top
# = \frac{\partial L}{\partial h_t}\, \operatorname{diag}(1 - h_t^2)\, W_h^\top .$$
#
# Carried back over $k$ steps, the gradient is multiplied by $k$ such matrices:
#
# $$\frac{\partial L}{\partial h_{t-k}} = \frac{\partial L}{\partial h_t}
# \prod_{j=0}^{k-1} \operatorname{diag}(1 - h_{t-j}^2)\, W_h^\top .$$
#
# The size of a product is at most the product of the sizes. With $\sigma_{\max}(W_h)$ the
# largest singular value of $W_h$ (how much it can stretch a vector) and $\gamma$ a bound on
# the activation's derivative,
#
# $$\left\| \frac{\partial L}{\partial h_{t-k}} \right\| \le
# \left(\gamma\, \sigma_{\max}(W_h)\right)^k \left\|\frac{\partial L}{\partial h_t}\right\| .$$
#
# For tanh, $\gamma = 1$, reached only at $a = 0$. So:
#
# * if $\sigma_{\max}(W_h) < 1$ the gradient **vanishes**, exponentially in the lag, whatever the inputs;
# * if $\sigma_{\max}(W_h) > 1$ it *may* **explode**; whether it does depends on the derivative,
#   which is small wherever tanh saturates. Over many steps the long-run rate of a
#   product of one fixed matrix is set by its **spectral radius** $\rho$ (largest $|$eigenvalue$|$):
#   for a linear RNN the gradient behaves like $\rho^k$.
#
# The activation's derivative is the other factor. Here is tanh's: it is 1 only at 0 and
# is nearly 0 for $|a| > 3$, where the unit saturates.

# %%
a = np.linspace(-5, 5, 400)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(a, np.tanh(a), label=r"$\tanh(a)$")
ax.plot(a, 1 - np.tanh(a) ** 2, label=r"$\tanh'(a) = 1 - \tanh^2(a)$")
ax.plot(a, (a > 0).astype(float), ":", label="ReLU'(a)")
ax.axhline(0, color="0.7", lw=0.8)
ax.set_xlabel("pre-activation a")
ax.legend(fontsize=8)
ax.set_title("A saturated unit passes almost no gradient")
plt.show()

# %% [markdown]
# ### Exercise 1: `gradient_norm_by_lag`
#
# Measure it. Run the RNN forwards over the sequence (you may use rnnkit's `rnn_forward` or
# `rnn_step_forward`), put the gradient `dh_last` on the last hidden state, that is take the
# loss $L = \sum h_{T-1} \odot dh_{\text{last}}$, and carry it back one step at a time with
# the formula above, written by you (rnnkit's backward functions are off limits here).
# Record the size of the gradient of every hidden state as you go, as a Frobenius norm over
# the whole `(N, H)` array: `norms[k]` belongs to the state `k` steps before the last.
# Leave the arguments as they are: `dh = dh_last` names the same array, so carry the
# gradient back into new arrays (`dh = (dh * ...) @ Wh.T`), never `dh *= ...`; a test cell
# of its own checks it.

# %% nbgrader={"grade": false, "grade_id": "gradient_norm_by_lag", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_norm_by_lag(x, h0, Wx, Wh, b, dh_last):
    """Norm of the gradient of every hidden state, for a gradient placed on the last one.

    Inputs:
    - x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,): a tanh RNN and its input
    - dh_last: (N, H) gradient of the loss with respect to the last hidden state h[:, T-1]

    Returns norms, an array of shape (T,): norms[k] = ||dL/dh[:, T-1-k]||, the Frobenius
    norm of the (N, H) gradient k steps back (k = 0 is dh_last itself).
    """
    ### BEGIN SOLUTION
    h, _ = rnnkit.rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    norms = np.empty(T)
    dh = dh_last
    for k in range(T):
        t = T - 1 - k
        norms[k] = np.linalg.norm(dh)
        dh = (dh * (1 - h[:, t] ** 2)) @ Wh.T
    return norms
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gradient_norm_by_lag_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Values (3 points): one norm per hidden state, against a reference built on rnnkit's step
# backward; a mismatch names the likely mistake. N=3, T=6, D=4, H=5, then each of N, T, D,
# H equal to 1, float32, and saturated and large pre-activations.
for N, T, D, H in checks.LAG_SIZES:
    checks.check_gradient_norm_by_lag(gradient_norm_by_lag, N, T, D, H)
checks.check_gradient_norm_by_lag(gradient_norm_by_lag, 3, 6, 4, 5, dtype=np.float32)
for dtype in (np.float64, np.float32):  # saturated
    checks.check_gradient_norm_by_lag(gradient_norm_by_lag, 3, 10, 4, 6, dtype=dtype, seed=9, scale=20.0)
# A case to check by hand: at lag 0 the gradient is dh_last itself.
x, h0, Wx, Wh, b = random_rnn(3, 6, 4, 5)
norms = gradient_norm_by_lag(x, h0, Wx, Wh, b, np.ones((3, 5)))
if not np.isclose(norms[0], np.sqrt(15)):
    raise AssertionError(f"norms[0] should be the norm of dh_last = ones((3, 5)), sqrt(15) = {np.sqrt(15):.6f}, "
                         f"got {float(norms[0]):.6f}")
print("gradient_norm_by_lag agrees with the reference")

### BEGIN HIDDEN TESTS
for seed, (n, t, d, hh) in enumerate([(1, 1, 2, 3), (4, 12, 3, 6), (2, 30, 5, 8), (1, 5, 1, 1), (5, 3, 1, 2)]):
    for dtype in (np.float64, np.float32):
        checks.check_gradient_norm_by_lag(gradient_norm_by_lag, n, t, d, hh, dtype=dtype, seed=seed + 20)
checks.check_gradient_norm_by_lag(gradient_norm_by_lag, 3, 10, 4, 6, seed=10, scale=3.0)
checks.check_gradient_norm_by_lag(gradient_norm_by_lag, 3, 10, 4, 6, dtype=np.float32, seed=11, scale=20.0)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "gradient_norm_by_lag_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Inputs (1 point): x, h0, Wx, Wh, b and dh_last unchanged, in float64 and float32.
for N, T, D, H in checks.KEEPS_LAG_SIZES:
    checks.check_gradient_norm_by_lag_keeps(gradient_norm_by_lag, N, T, D, H)
print("gradient_norm_by_lag leaves its inputs alone")

### BEGIN HIDDEN TESTS
for N, T, D, H in [(2, 7, 3, 4), (4, 2, 3, 3)]:
    checks.check_gradient_norm_by_lag_keeps(gradient_norm_by_lag, N, T, D, H)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The experiment: gradient norm against time lag
#
# Now vary the recurrent matrix. Each curve below uses a random Gaussian $W_h$ rescaled to
# spectral radius $\rho$, with $H = 32$ and a sequence of 60 random inputs; the norm is divided
# by its value at lag 0, and the axis is logarithmic, so an exponential is a straight line.
# The left panel uses your `gradient_norm_by_lag` (tanh); the right panel repeats the
# experiment with the activation removed (a linear RNN), to separate the matrix's share
# from tanh's.

# %%
def measure_lags(radius, T=60, H=32, N=8, D=4, input_scale=1.0, seed=0, activation="tanh"):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    Wx = input_scale * rng.standard_normal((D, H)) / np.sqrt(D)
    Wh = recurrent_matrix(H, radius, "random", seed=seed)
    h0, b = np.zeros((N, H)), np.zeros(H)
    dh_last = rng.standard_normal((N, H))
    if activation == "linear":  # the same recursion without tanh
        norms, g = np.empty(T), dh_last
        for k in range(T):
            norms[k], g = np.linalg.norm(g), g @ Wh.T
    else:
        norms = lag_fn(x, h0, Wx, Wh, b, dh_last)
    return norms / norms[0], np.linalg.svd(Wh, compute_uv=False)[0]


try:
    gradient_norm_by_lag(*random_rnn(1, 2, 1, 1), np.ones((1, 1)))
    lag_fn = gradient_norm_by_lag
except NotImplementedError:
    print("gradient_norm_by_lag is not written yet; this experiment uses the reference built on rnnkit")
    lag_fn = checks.reference_gradient_norm_by_lag

radii = [0.5, 0.9, 1.0, 1.2, 1.5, 2.5]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for radius in radii:
    tanh_norms, sigma = measure_lags(radius)
    linear_norms, _ = measure_lags(radius, activation="linear")
    axes[0].semilogy(tanh_norms, label=rf"$\rho$ = {radius} ($\sigma_{{max}}$ = {sigma:.2f})")
    axes[1].semilogy(linear_norms, label=rf"$\rho$ = {radius}")
axes[0].set(title="tanh RNN (your gradient_norm_by_lag)", xlabel="time lag k",
            ylabel="gradient norm / norm at lag 0")
axes[1].set(title="the same matrices, linear RNN", xlabel="time lag k")
axes[0].set_ylim(1e-16, 1e16)
for ax in axes:
    ax.axhline(1, color="0.7", lw=0.8)
    ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# What the measurement shows:
#
# * In the linear RNN each curve is a straight line of slope $\log \rho$: the gradient
#   vanishes for $\rho < 1$ and explodes for $\rho > 1$, exponentially in the lag.
# * With tanh the small radii behave the same, but the large ones no longer explode at
#   that rate: a large $W_h$ drives the pre-activations far from 0, tanh saturates, and the
#   factor $1 - h_t^2$ pulls the product back down. A tanh RNN can still produce bursts
#   of large gradients (when states pass through the unsaturated region, and in
#   training, when the weights move into such a region), which is what makes its training
#   unstable. Unbounded activations such as ReLU have no such brake.
# * Around $\rho \approx 1$ the gradient survives longest. That is the narrow band an RNN
#   must stay in to learn long dependencies.
#
# The size of the inputs matters too, since larger inputs saturate tanh more:

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for scale in (0.1, 1.0, 3.0):
    norms, _ = measure_lags(1.2, input_scale=scale)
    ax.semilogy(norms, label=f"input scale {scale}")
ax.set(xlabel="time lag k", ylabel="gradient norm / norm at lag 0",
       title=r"tanh RNN, $\rho = 1.2$: larger inputs saturate more")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 3. What it does to training
#
# ### Vanishing gradients: a short memory, and learning that stalls
#
# The **recall** task (`rnnkit.tasks.recall_batch`) shows a symbol out of four at the first
# step, marked as the one to remember, then `length - 1` random distractor symbols; at the
# last step the network must name the first symbol. Only the last position is scored. To
# learn it, the gradient from the last step must reach the first step and say "what you
# stored there mattered". We train the same tanh RNN for the same number of updates on
# longer and longer sequences.
#
# The training code below handles every model of this notebook: a tanh, ReLU or linear
# RNN (the backward pass is that of notebook 02, with the activation's derivative in place
# of $1 - h^2$), or rnnkit's LSTM run step by step, with optional clipping, schedule and
# weight decay. Both are checked against rnnkit before use.

# %%
ACTIVATIONS = {
    "tanh": (np.tanh, lambda a, h: 1.0 - h * h),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(a.dtype)),
    "linear": (lambda a: a.copy(), lambda a, h: np.ones_like(a)),
}


def act_rnn_forward(x, h0, Wx, Wh, b, activation):
    """h_t = f(x_t Wx + h_(t-1) Wh + b) for the named activation; returns h (N, T, H) and a cache.

    The input projections of all steps are one product before the loop; the loop does
    only what depends on the previous step.
    """
    f = ACTIVATIONS[activation][0]
    N, T, D = x.shape
    a = (x.reshape(N * T, D) @ Wx + b).reshape(N, T, -1)
    h = np.empty_like(a)
    h_t = h0
    for t in range(T):
        a[:, t] += h_t @ Wh
        h[:, t] = h_t = f(a[:, t])
    return h, (x, h0, Wx, Wh, a, h, activation)


def act_rnn_backward(dh, cache):
    """Backward through time of act_rnn_forward: dx, dh0, dWx, dWh, db."""
    x, h0, Wx, Wh, a, h, activation = cache
    df = ACTIVATIONS[activation][1]
    N, T, H = dh.shape
    da = np.empty_like(dh)
    dWh = np.zeros_like(Wh)
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        da[:, t] = da_t = (dh[:, t] + carry) * df(a[:, t], h[:, t])
        dWh += (h[:, t - 1] if t > 0 else h0).T @ da_t
        carry = da_t @ Wh.T
    da2, x2 = da.reshape(N * T, H), x.reshape(N * T, -1)
    return (da2 @ Wx.T).reshape(x.shape), carry, x2.T @ da2, dWh, da2.sum(axis=0)


# The tanh case must agree with rnnkit (a gradient check of another kind).
args = random_rnn(2, 5, 3, 4, seed=1)
dh = np.random.default_rng(2).standard_normal((2, 5, 4))
ours = act_rnn_backward(dh, act_rnn_forward(*args, "tanh")[1])
if rnnkit.sealed_for() is None:  # while the notebook is graded, rnnkit's backward is not available
    theirs = rnnkit.rnn_backward(dh, rnnkit.rnn_forward(*args)[1])
    print("largest relative error against rnnkit:", f"{max(rnnkit.rel_error(p, q) for p, q in zip(ours, theirs)):.1e}")

def lstm_forward_steps(x, h0, Wx, Wh, b):
    """rnnkit's LSTM, run one step at a time as notebook 02 ran the RNN; notebook 04 opens the step."""
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]))
    h_t, c_t, caches = h0, np.zeros_like(h0), []
    for t in range(T):
        h_t, c_t, step_cache = rnnkit.lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


def lstm_backward_steps(dh, caches):
    """Backward of lstm_forward_steps: dx, dh0, dWx, dWh, db."""
    N, T, H = dh.shape
    dx = [None] * T
    dh_t, dc_t = np.zeros((N, H)), np.zeros((N, H))
    dWx = dWh = db = 0.0
    for t in range(T - 1, -1, -1):
        dx[t], dh_t, dc_t, gx, gh, gb = rnnkit.lstm_step_backward(dh[:, t] + dh_t, dc_t, caches[t])
        dWx, dWh, db = dWx + gx, dWh + gh, db + gb
    return np.stack(dx, axis=1), dh_t, dWx, dWh, db


# The step-by-step LSTM must agree with rnnkit's sequence functions.
x, h0 = np.random.default_rng(3).standard_normal((2, 5, 3)), np.zeros((2, 4))
lstm = init.recurrent_params("lstm", 3, 4, rng=3)
dh = np.random.default_rng(4).standard_normal((2, 5, 4))
ours = lstm_backward_steps(dh, lstm_forward_steps(x, h0, **lstm)[1])
theirs = rnnkit.lstm_backward(dh, rnnkit.lstm_forward(x, h0, **lstm)[1])
print("LSTM step by step, largest relative error against rnnkit:",
      f"{max(rnnkit.rel_error(p, q) for p, q in zip(ours, theirs)):.1e}")


# %%
def init_model(model, H, rng, recurrent="random", radius=0.9, D=5, V=4):
    """Parameters of the recall model: an RNN or LSTM layer and a read-out (Wy, by)."""
    if model == "lstm":
        p = init.recurrent_params("lstm", D, H, rng=rng)
    else:
        p = {"Wx": init.xavier_uniform((D, H), rng=rng), "b": np.zeros(H)}
        if recurrent == "random":
            p["Wh"] = recurrent_matrix(H, radius, "random", seed=int(rng.integers(1 << 31)))
        elif recurrent == "orthogonal":
            p["Wh"] = init.orthogonal((H, H), gain=radius, rng=rng)
        else:
            p["Wh"] = init.identity(H, gain=radius)
    p["Wy"] = init.xavier_uniform((H, V), rng=rng)
    p["by"] = np.zeros(V)
    return p


def recall_loss(p, batch, model):
    """Loss, gradients and the read-out scores of the recall model on one batch."""
    N, T, _ = batch.x.shape
    H = p["Wy"].shape[0]
    h0 = np.zeros((N, H))
    if model == "lstm":
        h, cache = lstm_forward_steps(batch.x, h0, p["Wx"], p["Wh"], p["b"])
    else:
        h, cache = act_rnn_forward(batch.x, h0, p["Wx"], p["Wh"], p["b"], model)
    scores = h @ p["Wy"] + p["by"]
    loss, dscores = rnnkit.temporal_softmax_loss(scores, batch.y, batch.mask)
    grads = {"Wy": h.reshape(N * T, H).T @ dscores.reshape(N * T, -1), "by": dscores.sum(axis=(0, 1))}
    dh = dscores @ p["Wy"].T
    backward = lstm_backward_steps if model == "lstm" else act_rnn_backward
    _, _, grads["Wx"], grads["Wh"], grads["b"] = backward(dh, cache)
    return loss, grads, scores


def train_recall(length, model="tanh", iterations=300, lr=1e-2, optimizer="adam", recurrent="random",
                 radius=0.9, clip_norm=None, clip_value=None, schedule=None, weight_decay=0.0,
                 H=32, N=32, seed=0):
    """Train on the recall task; returns the losses, gradient norms (before clipping), the
    largest weight after each update, and the test accuracy.

    Training stops at the first loss that is not a number; ``diverged`` gives that iteration.
    """
    rng = np.random.default_rng(seed)
    p = init_model(model, H, rng, recurrent, radius)
    make = optim.Adam if optimizer == "adam" else optim.SGD
    opt = make(p, lr=lr, weight_decay=weight_decay)
    losses, norms, largest, diverged = [], [], [], None
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is part of the lesson
        for it in range(iterations):
            if schedule == "cosine":
                opt.lr = lr * 0.5 * (1 + np.cos(np.pi * it / iterations))
            batch = recall_batch(N, length, rng=rng)
            try:
                loss, grads, _ = recall_loss(p, batch, model)
            except ValueError:  # rnnkit refuses NaN or infinite inputs: the weights have diverged
                loss = np.nan
            if not np.isfinite(loss):
                losses.append(loss)
                diverged = it
                break
            norms.append(rnnkit.global_norm(grads))
            if clip_norm is not None:
                clip(grads, clip_norm)
            if clip_value is not None:
                rnnkit.clip_grad_value(grads, clip_value)
            opt.step(grads)
            losses.append(loss)
            largest.append(max(float(np.abs(w).max()) for w in p.values()))
        test = recall_batch(200, length, rng=np.random.default_rng(1000 + seed))
        accuracy = np.nan
        if diverged is None:
            _, _, scores = recall_loss(p, test, model)
            accuracy = (scores[:, -1].argmax(axis=-1) == test.y[:, -1]).mean()
    return {"losses": np.array(losses), "norms": np.array(norms), "largest_weight": np.array(largest),
            "accuracy": accuracy, "diverged": diverged, "params": p}


clip = rnnkit.clip_grad_norm  # until you write your own in section 4

# %%
lengths = [5, 10, 20, 40]
iterations = 60 if QUICK else 120
runs = {L: train_recall(L, iterations=iterations) for L in lengths}

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for L, run in runs.items():
    smooth = np.convolve(run["losses"], np.ones(10) / 10, mode="valid")
    axes[0].plot(smooth, label=f"length {L}: accuracy {run['accuracy']:.0%}")
axes[0].axhline(np.log(4), color="gray", ls="--", label="guessing, log 4")
axes[0].set(xlabel="iteration", ylabel="loss (moving average)", title="tanh RNN on the recall task")
axes[0].legend(fontsize=8)

# How much of the gradient at the last state reaches the first, at initialisation.
for L in lengths:
    p = init_model("tanh", 32, np.random.default_rng(0))
    batch = recall_batch(32, L, rng=np.random.default_rng(1))
    norms = lag_fn(batch.x, np.zeros((32, 32)), p["Wx"], p["Wh"], p["b"], np.ones((32, 32)))
    axes[1].semilogy(np.arange(L), norms / norms[0], label=f"length {L}")
axes[1].set(xlabel="time lag k", ylabel="gradient norm / norm at lag 0",
            title="gradient reaching back, at initialisation")
axes[1].legend(fontsize=8)
plt.show()
for L, run in runs.items():
    print(f"length {L:2d}: final loss {run['losses'][-20:].mean():.3f}, test accuracy {run['accuracy']:.0%}")

# %% [markdown]
# Short sequences are learned quickly. As the lag grows, the gradient that reaches the first
# step is a smaller and smaller share of the total, the loss sits at $\log 4$, the cost of
# guessing, for longer and longer, and within the budget given the longest sequences are
# learned only in part, if at all (chance is 25%). The network is not unable to *represent* the answer;
# the training signal that would teach it to store the first symbol is too faint to
# arrive. This is the **short memory** of a vanilla RNN.
#
# ### Exploding gradients: the loss jumps and the weights become NaN
#
# Now the opposite: a ReLU RNN, whose derivative is exactly 1 wherever a unit is active,
# with a recurrent matrix of spectral radius 1.7, trained by plain gradient descent on
# sequences of 40 steps. We print every update until the loss stops being a number. The
# run is stopped at the first non-finite loss, and NumPy's overflow warnings are silenced
# inside `train_recall`, since overflow is the point of the demonstration.

# %%
exploding = train_recall(40, model="relu", iterations=20, lr=0.01, optimizer="sgd", radius=1.7)
for it, (loss, norm, w) in enumerate(zip(exploding["losses"], exploding["norms"], exploding["largest_weight"])):
    print(f"update {it}: loss {loss:10.4g}   gradient norm {norm:10.4g}   largest weight after it {w:10.4g}")
p = exploding["params"]
batch = recall_batch(32, 40, rng=np.random.default_rng(0))
with np.errstate(over="ignore", invalid="ignore"):
    h, _ = act_rnn_forward(batch.x, np.zeros((32, 32)), p["Wx"], p["Wh"], p["b"], "relu")
    scores = h @ p["Wy"] + p["by"]
print(f"update {exploding['diverged']}: {np.mean(~np.isfinite(h)):.0%} of the hidden states are inf or NaN, "
      f"{np.isnan(scores).mean():.0%} of the scores are NaN, and the loss is {exploding['losses'][-1]}")

# %% [markdown]
# One large gradient makes a step so long that the weights land where the states, and so
# the next gradient, are larger still; within a couple of updates the states overflow to
# infinity, and infinity minus infinity, or times zero, is NaN. An update computed from such
# a loss would write NaN into every weight, and from then on every output is NaN.
# A tanh RNN rarely overflows, because its state is bounded, but it shows the milder form of
# the same thing: sudden spikes in the loss, after which training must start over from
# wherever the jump threw the weights.
#
# ## 4. Remedies
#
# ### Gradient clipping
#
# The simplest remedy for exploding gradients treats the symptom: before the update,
# if the gradient is too long, shorten it. **Clipping by norm** (Pascanu, Mikolov and Bengio,
# 2013) looks at all the gradients of the model as one long vector $g$ and rescales it
# when its norm exceeds a threshold $\tau$:
#
# $$\|g\| = \sqrt{\sum_{\text{arrays}} \sum_{\text{entries}} g_i^2}, \qquad
# g \leftarrow g \cdot \frac{\tau}{\|g\|} \quad \text{if } \|g\| > \tau .$$
#
# The direction is kept; only the step length is capped. **Clipping by value** instead cuts
# every entry to $[-\tau, \tau]$ (`rnnkit.clip_grad_value`); it is cheaper to reason about per
# entry but changes the direction of the gradient, since large entries are cut and small ones
# are not.

# %%
g = np.array([3.0, 0.4])
by_norm = g * min(1.0, 1.0 / np.linalg.norm(g))
by_value = np.clip(g, -1.0, 1.0)
fig, ax = plt.subplots(figsize=(4.5, 3))
for vec, label, color in ((g, "gradient", "k"), (by_norm, "clipped by norm, τ = 1", "tab:blue"),
                          (by_value, "clipped by value, τ = 1", "tab:orange")):
    ax.annotate("", vec, (0, 0), arrowprops=dict(arrowstyle="->", color=color, lw=2))
    ax.plot([], [], color=color, label=label)
ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls=":", color="0.5"))
ax.set(xlim=(-0.2, 3.2), ylim=(-0.2, 1.2), aspect="equal")
ax.legend(fontsize=8, loc="upper right")
ax.set_title("Clipping by norm keeps the direction")
plt.show()

# %% [markdown]
# ### Exercise 2: `clip_grad_norm`
#
# The gradients arrive as a dict of arrays, such as `{"Wx": ..., "Wh": ..., "b": ...}`. Scale
# them **in place** (`g *= scale`): the optimiser and the caller hold the very same arrays,
# and a new array would be invisible to them. Return the total norm *before* clipping, which is
# worth logging: it is the quantity that explodes. When a gradient holds inf or NaN, the norm
# is not finite: return it and leave the gradients as they are (scaling by
# $\tau / \infty = 0$ would hide the problem, and computing it warns). The first test cell
# grades the clipping, the second the gradients that hold inf or NaN.

# %% nbgrader={"grade": false, "grade_id": "clip_grad_norm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def clip_grad_norm(grads, max_norm):
    """Rescale the gradients in place so that their global norm is at most max_norm.

    Inputs:
    - grads: dict of name -> float ndarray (any shapes), modified in place
    - max_norm: positive float, the threshold τ

    The global norm is sqrt(sum over every array of sum(g**2)). If it exceeds max_norm,
    every array is multiplied by max_norm / norm. If it is not finite (inf or NaN),
    the gradients are left unchanged. Returns the global norm before clipping, a float.
    """
    ### BEGIN SOLUTION
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if np.isfinite(total) and total > max_norm:
        scale = max_norm / total
        for g in grads.values():
            g *= scale
    return total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "clip_grad_norm_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Values (3 points) against rnnkit on three arrays of different shapes, in float64 and
# float32: below the threshold nothing changes; above it every array is scaled in place
# (the arrays you were given must hold the clipped values), keeping its dtype. Then one
# array of one entry, and tiny gradients. A mismatch names the likely mistake.
for dtype in (np.float64, np.float32):
    checks.check_clip_grad_norm(clip_grad_norm, max_norm=100.0, dtype=dtype)
    checks.check_clip_grad_norm(clip_grad_norm, max_norm=1.0, dtype=dtype)
checks.check_clip_grad_norm(clip_grad_norm, 1.0, {"only": (1, 1)}, seed=4, scale=5.0)
checks.check_clip_grad_norm(clip_grad_norm, 2.0, {"Wh": (4, 4)}, seed=5, scale=1e-3)
# A case to check by hand: the global norm of {W: [[3, 0]], b: [4]} is 5.
grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}
total = clip_grad_norm(grads, 1.0)
if total is None or not np.isclose(float(total), 5.0):
    raise AssertionError(f"clip_grad_norm should return the global norm before clipping, 5.0, got {total}")
rnnkit.testing.assert_close(grads["W"], [[0.6, 0.0]], "grads['W'] after clipping to norm 1", hint="expected 3 * 1/5")
rnnkit.testing.assert_close(grads["b"], [0.8], "grads['b'] after clipping to norm 1", hint="expected 4 * 1/5")
print("clip_grad_norm agrees with rnnkit")

### BEGIN HIDDEN TESTS
for seed, max_norm in enumerate([0.5, 3.0, 1e-3]):
    for dtype in (np.float64, np.float32):
        sizes = {"a": (1 + seed, 3), "b": (2, 2, 2), "c": (5,)}
        checks.check_clip_grad_norm(clip_grad_norm, max_norm, sizes, dtype=dtype, seed=seed + 10, scale=10.0)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "clip_grad_norm_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Gradients that hold inf or NaN (1 point): the global norm is not finite; it is returned,
# the gradients are left unchanged, and nothing warns. float64 and float32.
for dtype in (np.float64, np.float32):
    checks.check_clip_grad_norm(clip_grad_norm, 1.0, grads={"W": np.array([1.0, np.inf], dtype), "b": np.array([2.0], dtype)})
    checks.check_clip_grad_norm(clip_grad_norm, 1.0, grads={"W": np.array([np.nan, 1.0], dtype), "b": np.array([2.0], dtype)})
print("clip_grad_norm leaves non-finite gradients alone")

### BEGIN HIDDEN TESTS
for dtype in (np.float64, np.float32):
    checks.check_clip_grad_norm(clip_grad_norm, 3.0, grads={"Wx": np.array([[-np.inf, 2.0], [1.0, 0.5]], dtype),
                                                           "Wh": np.ones((2, 2), dtype), "b": np.zeros(2, dtype)})
### END HIDDEN TESTS

# %% [markdown]
# ### Clipping at work, and why the threshold is hard to choose
#
# The exploding run again, the same in every respect but with your clipping at $\tau = 1$:

# %%
try:
    clip_grad_norm({"probe": np.ones(2)}, 1.0)
    clip = clip_grad_norm
except NotImplementedError:
    print("clip_grad_norm is not written yet; the runs below use rnnkit's")
    clip = rnnkit.clip_grad_norm

calm = train_recall(40, model="relu", iterations=20, lr=0.01, optimizer="sgd", radius=1.7, clip_norm=1.0)
print("without clipping: the loss is NaN at update", exploding["diverged"])
print("with clipping:    every loss finite:", bool(np.isfinite(calm["losses"]).all()),
      "; losses every 4 updates:", np.round(calm["losses"][::4], 3),
      "; largest gradient norm before clipping:", f"{calm['norms'].max():.3g}")

# %% [markdown]
# Clipping keeps the run alive. But which $\tau$? Gradient norms vary over orders of magnitude
# between models, tasks and moments of training, so no universal value exists. Too large a
# threshold never acts; too small a one turns every update into a tiny fixed-length step,
# and learning crawls. Here is a ReLU RNN with identity initialisation (see below), trained
# by plain gradient descent on the recall task (length 20) for the same number of updates,
# with clipping by norm and by value at a range of thresholds, next to the distribution of
# the gradient norms of the run without clipping:

# %%
sweep_iterations = 40 if QUICK else 100
setting = dict(model="relu", recurrent="identity", radius=1.0, optimizer="sgd", lr=0.05, iterations=sweep_iterations)
norm_runs = {c: train_recall(20, clip_norm=c, **setting) for c in [0.01, 0.1, 1.0, 10.0, None]}
value_runs = {c: train_recall(20, clip_value=c, **setting) for c in [0.01, 0.1, 1.0]}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
for runs, label, offset in ((norm_runs, "by norm", -0.2), (value_runs, "by value", 0.2)):
    xs = [np.log10(c) if c is not None else 2.0 for c in runs]
    axes[0].bar(np.array(xs) + offset, [r["accuracy"] for r in runs.values()], width=0.4, label=f"clipped {label}")
axes[0].set_xticks([-2, -1, 0, 1, 2], ["0.01", "0.1", "1", "10", "none"])
axes[0].axhline(0.25, color="gray", ls="--", label="chance")
axes[0].set(xlabel="clipping threshold τ", ylabel="test accuracy", ylim=(0, 1),
            title="Same run, different thresholds")
axes[0].legend(fontsize=8)
all_norms = norm_runs[None]["norms"]
axes[1].hist(np.log10(all_norms), bins=30)
axes[1].set(xlabel="log10 of the gradient norm", ylabel="updates",
            title="Gradient norms of the run without clipping")
plt.show()
for label, runs in (("norm ", norm_runs), ("value", value_runs)):
    for c, run in runs.items():
        print(f"by {label} c = {'none' if c is None else c:>5}: final loss {run['losses'][-20:].mean():.3f}, "
              f"accuracy {run['accuracy']:.0%}")
print("gradient norms without clipping: from", f"{all_norms.min():.2g} to {all_norms.max():.2g}")

# %% [markdown]
# Only a band of thresholds works, and it sits where the bulk of the norms lies; clipping
# by value, which bends the direction of the gradient, has a band of its own. A practical
# rule is to log the norm that `clip_grad_norm` returns and to set $\tau$ near its typical value,
# so that clipping catches the spikes and leaves ordinary updates alone. With an adaptive
# optimiser such as Adam, which divides each step by a running size of the gradient, the
# threshold matters much less: try it by changing `optimizer` above.
#
# ### Initialisation, gated units, schedules and regularisation
#
# Clipping fixes explosions; it does nothing for a gradient that vanishes. The other
# remedies act on the product of Jacobians itself, or change the architecture:
#
# * **orthogonal initialisation** starts $W_h$ with every singular value equal to 1, the
#   edge between vanishing and exploding (Saxe et al., 2014);
# * **identity initialisation with ReLU** (the IRNN, Le, Jaitly and Hinton, 2015): at
#   the start the state is copied from step to step and the derivative of an active unit is 1,
#   so the gradient passes unchanged;
# * **gated units**, the LSTM (notebook 04) and GRU (notebook 05), carry their memory
#   through an additive path controlled by gates, so the gradient along it is multiplied by
#   a gate value, often close to 1, instead of by $W_h$;
# * **learning-rate schedules** take large steps early and small ones late (here cosine
#   decay), which limits the damage a late spike can do;
# * **regularisation** such as weight decay (an L2 penalty on the weights) keeps the
#   weights small, and with them $\sigma_{\max}(W_h)$; that prevents explosions but pushes
#   towards vanishing.
#
# We compare them on the recall task with sequences of length 30, which the plain tanh
# RNN finds hard, with the same budget of updates for all and three seeds each (the seed
# sets the initial weights and the batches). Every RNN has 32 units; the LSTM has 16, which
# gives it about as many parameters. Adam with learning rate $10^{-2}$ throughout, except
# for the IRNN and the LSTM, which use $3 \cdot 10^{-3}$ (for the LSTM the better of the two
# values tried).

# %%
remedy_iterations = 30 if QUICK else 100
seeds = [0] if QUICK else [0, 1, 2]
remedies = {
    "tanh, Gaussian Wh (baseline)": dict(),
    "tanh, orthogonal Wh": dict(recurrent="orthogonal", radius=1.0),
    "ReLU, identity Wh, clip 1": dict(model="relu", recurrent="identity", radius=1.0, clip_norm=1.0, lr=3e-3),
    "LSTM, 16 units": dict(model="lstm", lr=3e-3, H=16),
    "+ cosine schedule": dict(schedule="cosine", lr=2e-2),
    "+ weight decay 1e-3": dict(weight_decay=1e-3),
}
results = {}
for name, options in remedies.items():
    start = time.perf_counter()
    runs = [train_recall(30, iterations=remedy_iterations, seed=seed, **options) for seed in seeds]
    results[name] = {"accuracy": np.array([r["accuracy"] for r in runs]),
                     "loss": np.array([r["losses"][-20:].mean() for r in runs]),
                     "curve": np.mean([r["losses"] for r in runs], axis=0),
                     "max_norm": max(r["norms"].max() for r in runs),
                     "parameters": sum(w.size for w in runs[0]["params"].values()),
                     "ms_per_update": 1e3 * (time.perf_counter() - start) / (len(seeds) * remedy_iterations)}

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 2]}, layout="constrained")
for name, res in results.items():
    axes[0].plot(np.convolve(res["curve"], np.ones(10) / 10, mode="valid"), label=name)
axes[0].axhline(np.log(4), color="gray", ls="--")
axes[0].set(xlabel="iteration", ylabel="loss (mean over seeds, moving average)", title="Recall, length 30")
axes[0].legend(fontsize=7)
names = list(results)
acc = np.array([results[n]["accuracy"] for n in names])
mean = acc.mean(axis=1)
axes[1].barh(names, mean, xerr=[mean - acc.min(axis=1), acc.max(axis=1) - mean], capsize=3)
axes[1].axvline(0.25, color="gray", ls="--")
axes[1].invert_yaxis()
axes[1].set(xlabel="test accuracy (mean; bars: lowest to highest seed)", xlim=(0, 1.05),
            title="After the same number of updates")
axes[1].tick_params(axis="y", labelsize=7)
plt.show()
print(f"{'remedy':30s} {'parameters':>10s} {'accuracy per seed':>18s} {'final loss':>10s} "
      f"{'max grad norm':>13s} {'ms/update':>9s}")
for name, res in results.items():
    per_seed = " ".join(f"{a:.0%}" for a in res["accuracy"])
    print(f"{name:30s} {res['parameters']:10d} {per_seed:>18s} {res['loss'].mean():10.3f} "
          f"{res['max_norm']:13.3g} {res['ms_per_update']:9.2f}")

# %% [markdown]
# Single runs of this task vary a lot from seed to seed, so read the table for its large
# differences only. Clipping, measured above, is left out: it caps the rare huge updates
# but cannot make a vanished gradient larger. The clear winner in this budget is the IRNN,
# whose identity matrix and unit-slope activation pass the gradient back unchanged at the
# start. The gated LSTM, with about as many parameters, does somewhat better than the
# baseline on average, though not in every seed, at a higher cost per update; it learns
# slowly at first, and notebook 04 gives it the longer training it needs.
# An orthogonal start (with tanh, whose derivative still shrinks the product), a schedule
# and weight decay (which pulls $W_h$ towards zero, and so shortens memory) do nothing to
# make the gradient reach further, and none of them clearly beats the baseline here.
#
# ## 5. The limits that remain
#
# Even with every remedy, a recurrent network has limits of its own:
#
# * **Long-term dependencies still fade.** Gates slow the decay; they do not abolish it:
#   along the LSTM's cell state the gradient is still multiplied, at every step, by a forget
#   gate below 1, and over hundreds of steps those factors add up to a vanishing product.
# * **Weak global context.** Everything the network knows about the past must squeeze
#   through one fixed-size vector $h_t$; a detail from far back competes for room with
#   everything since.
# * **No parallelism across time.** $h_t$ needs $h_{t-1}$, so the $T$ steps of a sequence run
#   one after another, however many cores are available: the longest chain of dependent
#   operations, which no amount of hardware can shorten, has length $T$.
#
# The figure sets the two computation graphs side by side: on the left the recurrent chain,
# where information from $x_1$ reaches the output at step 6 through five multiplications by
# the Jacobian; on the right a layer in which every output reads every input directly.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
T = 6
for ax, title in zip(axes, ("recurrent: path from $x_1$ to step 6 has length 6; steps run in turn",
                            "attention: every path has length 1; all positions at once")):
    ax.set_xlim(-0.5, T - 0.5)
    ax.set_ylim(-0.4, 1.4)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    for t in range(T):
        ax.text(t, 0, f"$x_{t + 1}$", ha="center", va="center", fontsize=11)
        ax.text(t, 1, f"$h_{t + 1}$" if ax is axes[0] else f"$y_{t + 1}$", ha="center", va="center",
                fontsize=11, bbox=dict(boxstyle="round", fc="#eef3fb", ec="#2b4c7e"))
        ax.annotate("", (t, 0.8), (t, 0.15), arrowprops=dict(arrowstyle="->", color="0.4"))
for t in range(T - 1):
    axes[0].annotate("", (t + 0.75, 1), (t + 0.25, 1), arrowprops=dict(arrowstyle="->", color="#c0392b", lw=1.5))
for t in range(T):
    for s in range(T):
        if s != t:
            axes[1].annotate("", (t, 0.8), (s, 0.15), arrowprops=dict(arrowstyle="->", color="#c0392b",
                                                                      lw=0.6, alpha=0.5))
plt.show()

# %% [markdown]
# These limits are what **attention** answers: at every position the model looks directly
# at every other position, with a path of length one between any two of them, and all
# positions are computed at once, as large independent matrix products that parallel
# hardware thrives on. The **transformer** (Vaswani et al., 2017) is built from attention
# alone, and has replaced recurrent networks in most of language processing. Notebook 06
# meets attention over an encoder's states, the bridge between the two worlds.
#
# ## 6. Explore: how far back does a gradient reach?
#
# Move the spectral radius of $W_h$ and change the activation. The left panel shows the
# gradient norm against the lag, next to $\rho^k$; the right one the mean derivative of the
# activation at each step. Things to try: tanh with a radius of 2 and then with a small
# input size (less saturation); ReLU just above 1; a linear RNN with an orthogonal
# matrix at radius exactly 1.

# %%
explorer = GradientFlowExplorer(radius=1.0, activation="tanh", T=50)
explorer.widget

# %% [markdown]
# ## What to remember
#
# * The gradient across $k$ steps is a product of $k$ Jacobians $\operatorname{diag}(f'(a_t))\,W_h^\top$;
#   its size behaves like $(\gamma\,\sigma)^k$: it vanishes or explodes exponentially with the lag.
# * Vanishing gradients give a short memory and long plateaus of the loss; exploding
#   gradients give spikes in the loss and, unchecked, NaN weights.
# * Clipping by norm stops explosions (choose the threshold from the logged norms); it
#   cannot make a vanished gradient larger.
# * In the measured comparison, the identity-initialised ReLU RNN (IRNN) learned the recall
#   task clearly best within the same budget. The LSTM did somewhat better than the
#   baseline on average, not in every seed; an orthogonal start with tanh, a cosine
#   schedule and weight decay did not clearly beat the baseline. Gated units are built for
#   long lags, but they need longer training than this budget gives (notebook 04).
# * What no remedy fixes, long-range fading, a single state vector and sequential
#   computation, is what attention and transformers address.
