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
# # 02 · Backpropagation through time
#
# In notebook 01 a recurrent network read a sequence forwards, one step at a time,
# carrying a hidden state. To train it we need the gradient of a loss with respect to
# every weight. The network is a long chain of small computations, so the gradient is
# the chain rule applied backwards along that chain, from the last time step to the
# first: **backpropagation through time** (BPTT).
#
# In this notebook you will
#
# 1. derive the backward pass of one step and write `rnn_step_backward`;
# 2. chain the steps into `rnn_backward`, adding up the gradients of the shared weights;
# 3. write a numerical gradient check and run it on your own backward;
# 4. write the sequence loss `temporal_softmax_loss`, with a mask for padding;
# 5. train a small RNN on a toy task, first on whole sequences, then with truncated BPTT
#    on one long stream.
#
# Throughout, shapes follow the course's convention: batch first, row vectors.
# A batch of sequences `x` has shape `(N, T, D)`; hidden states have shape `(N, T, H)`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import rnnkit
from rnnkit.checks import bptt as checks

QUICK = bool(os.environ.get("NBGRADER_EXECUTION"))  # autograding: shorter experiments
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Unrolling the network, and the chain of dependencies
#
# A tanh RNN computes, for $t = 1, \dots, T$,
#
# $$a_t = x_t W_x + h_{t-1} W_h + b, \qquad h_t = \tanh(a_t),$$
#
# starting from a given $h_0$. The same $W_x$, $W_h$ and $b$ are used at every step.
# Drawn out over time ("unrolled"), the network is an ordinary feed-forward graph with
# $T$ layers that share their weights. A loss $L = \sum_t L_t$ may read any of the
# hidden states, for instance through an output layer at every step.
#
# The figure shows three steps. Black arrows are the forward pass. Red arrows show where
# the gradient goes in the backward pass: into each $h_t$ from its own loss $L_t$, *and*
# from the next state $h_{t+1}$, because $h_t$ also helped to compute it.

# %%
def draw_unrolled(T=3):
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.set_xlim(-0.8, T + 0.8)
    ax.set_ylim(-0.6, 2.6)
    ax.axis("off")
    box = dict(boxstyle="round,pad=0.3", fc="#eef3fb", ec="#2b4c7e")
    for t in range(T + 1):
        ax.text(t, 1, f"$h_{t}$", ha="center", va="center", fontsize=14, bbox=box)
        if t == 0:
            continue
        ax.text(t, 0, f"$x_{t}$", ha="center", va="center", fontsize=13)
        ax.text(t, 2.2, f"$L_{t}$", ha="center", va="center", fontsize=13)
        ax.annotate("", (t, 0.72), (t, 0.22), arrowprops=dict(arrowstyle="->", color="k"))
        ax.annotate("", (t - 0.25, 1.0), (t - 0.75, 1.0), arrowprops=dict(arrowstyle="->", color="k"))
        ax.annotate("", (t - 0.08, 1.95), (t - 0.08, 1.28), arrowprops=dict(arrowstyle="->", color="k"))
        ax.annotate("", (t + 0.08, 1.28), (t + 0.08, 1.95),
                    arrowprops=dict(arrowstyle="->", color="#c0392b", lw=1.6))
        ax.annotate("", (t - 0.75, 0.85), (t - 0.25, 0.85),
                    arrowprops=dict(arrowstyle="->", color="#c0392b", lw=1.6))
        ax.text(t - 0.5, 0.62, r"$\partial h_{%d}/\partial h_{%d}$" % (t, t - 1),
                ha="center", fontsize=9, color="#c0392b")
    ax.text(-0.7, 2.45, "black: forward    red: gradient", fontsize=9)
    ax.set_title("An RNN unrolled over three steps; $W_x, W_h, b$ are shared by every step")
    plt.show()


draw_unrolled()

# %% [markdown]
# Write $\delta_t = \partial L / \partial h_t$ for the *total* gradient that reaches $h_t$.
# The state $h_t$ influences $L$ in two ways: directly through $L_t$, and through $h_{t+1}$.
# The chain rule adds the two:
#
# $$\delta_t = \frac{\partial L_t}{\partial h_t} + \delta_{t+1} \frac{\partial h_{t+1}}{\partial h_t},
# \qquad \delta_{T} = \frac{\partial L_T}{\partial h_T}.$$
#
# Unrolled for three steps, the gradient of the loss at step 3 reaches $h_0$ through the
# whole chain $h_3 \to h_2 \to h_1 \to h_0$:
#
# $$\frac{\partial L_3}{\partial h_0} = \frac{\partial L_3}{\partial h_3}
# \frac{\partial h_3}{\partial h_2} \frac{\partial h_2}{\partial h_1} \frac{\partial h_1}{\partial h_0}.$$
#
# So the backward pass is a loop that runs **from the last step to the first**, carrying
# $\delta$ along. Each step's factor $\partial h_{t}/\partial h_{t-1}$ is a matrix; notebook 03
# studies what a long product of them does.
#
# The weights are the other half of the story. $W_h$ is used at every step, so $L$ depends
# on it $T$ times over, and its gradient is the **sum** of the contributions of the steps:
#
# $$\frac{\partial L}{\partial W_h} = \sum_{t=1}^{T} h_{t-1}^\top \, \frac{\partial L}{\partial a_t},
# \qquad \frac{\partial L}{\partial W_x} = \sum_{t=1}^{T} x_t^\top \, \frac{\partial L}{\partial a_t},
# \qquad \frac{\partial L}{\partial b} = \sum_{t=1}^{T} \sum_{n} \left(\frac{\partial L}{\partial a_t}\right)_n.$$

# %% [markdown]
# ## 2. The backward pass of one step
#
# Take one step, $a = x W_x + h_{\text{prev}} W_h + b$ and $h_{\text{next}} = \tanh(a)$,
# for a batch of $N$ rows: `x` is `(N, D)`, `h_prev` and `h_next` are `(N, H)`. Given the
# upstream gradient `dh_next` $= \partial L / \partial h_{\text{next}}$, work inwards:
#
# * through tanh: $\tanh'(a) = 1 - \tanh(a)^2 = 1 - h_{\text{next}}^2$, elementwise, so
#   $\;da = dh_{\text{next}} \odot (1 - h_{\text{next}}^2)$. The forward pass already computed
#   $h_{\text{next}}$, which is why the cache keeps it;
# * through the products: $a$ is linear in each of $x$, $h_{\text{prev}}$, $W_x$, $W_h$, so
#
# $$dx = da\, W_x^\top, \quad dh_{\text{prev}} = da\, W_h^\top, \quad
# dW_x = x^\top da, \quad dW_h = h_{\text{prev}}^\top da, \quad db = \textstyle\sum_n da_n.$$
#
# A quick sanity check for every such formula: each gradient has the shape of the
# quantity it belongs to. `dWx = x.T @ da` is `(D, N) @ (N, H) = (D, H)`, the shape of `Wx`.
#
# The forward step is rnnkit's `rnn_step_forward`. Its cache is the tuple
# `(x, h_prev, Wx, Wh, h_next)`:

# %%
rng = np.random.default_rng(0)
x_demo, h_demo = rng.standard_normal((2, 3)), np.zeros((2, 4))
Wx_demo, Wh_demo, b_demo = rng.standard_normal((3, 4)), rng.standard_normal((4, 4)), np.zeros(4)
h_next_demo, cache_demo = rnnkit.rnn_step_forward(x_demo, h_demo, Wx_demo, Wh_demo, b_demo)
print("cache entries:", [np.shape(c) for c in cache_demo], "= x, h_prev, Wx, Wh, h_next")


# %% [markdown]
# ### Exercise 1: `rnn_step_backward`
#
# Write the backward pass of one step from the formulas above. The tests grade three
# things, each visible in the test cells below before you submit: the values (most of the
# points), the dtype (float32 in, float32 out), and the inputs left as they were: compute
# `da` into a new array, since `dh_next *= ...` would change the caller's gradient.

# %% nbgrader={"grade": false, "grade_id": "rnn_step_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rnn_step_backward(dh_next, cache):
    """Backward pass of one tanh RNN step.

    Inputs:
    - dh_next: (N, H) gradient of the loss with respect to h_next
    - cache: (x, h_prev, Wx, Wh, h_next) from rnnkit.rnn_step_forward, with
      x (N, D), h_prev (N, H), Wx (D, H), Wh (H, H), h_next (N, H)

    Returns a tuple (dx, dh_prev, dWx, dWh, db) with shapes
    (N, D), (N, H), (D, H), (H, H), (H,), and the dtype of dh_next.
    """
    ### BEGIN SOLUTION
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1 - h_next * h_next)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rnn_step_backward_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Values (3 points) against rnnkit, the cache made by rnnkit.rnn_step_forward; a mismatch
# names the likely mistake. N=3, D=4, H=5 differ, so a transposed product shows up as a
# wrong shape; then each of N, D, H equal to 1, float32, and a saturated tanh.
for N, D, H in checks.STEP_SIZES:
    checks.check_rnn_step_backward(rnn_step_backward, N, D, H)
checks.check_rnn_step_backward(rnn_step_backward, 3, 4, 5, dtype=np.float32)
for dtype in (np.float64, np.float32):
    checks.check_rnn_step_backward(rnn_step_backward, 4, 3, 5, dtype=dtype, seed=7, scale=30.0)
print("rnn_step_backward: shapes and values agree with rnnkit")

### BEGIN HIDDEN TESTS
for seed, (n, d, hh) in enumerate([(1, 2, 3), (7, 5, 2), (2, 1, 6), (4, 3, 1), (1, 1, 1)]):
    for dtype in (np.float64, np.float32):
        checks.check_rnn_step_backward(rnn_step_backward, n, d, hh, dtype=dtype, seed=seed + 10)
checks.check_rnn_step_backward(rnn_step_backward, 4, 3, 5, dtype=np.float32, seed=8, scale=30.0)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "rnn_step_backward_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# dtype and inputs (1 point): float32 in, five float32 gradients out (float64 likewise),
# and neither dh_next nor the cache changed.
for N, D, H in checks.KEEPS_STEP_SIZES:
    checks.check_rnn_step_backward_keeps(rnn_step_backward, N, D, H)
print("rnn_step_backward: keeps the dtype and leaves its inputs alone")

### BEGIN HIDDEN TESTS
for N, D, H in [(6, 2, 3), (2, 5, 4)]:
    checks.check_rnn_step_backward_keeps(rnn_step_backward, N, D, H)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The whole sequence
#
# For a sequence we run the step `T` times and keep every step's cache. Here is the forward
# pass we will use in this notebook; its cache is simply the list of the step caches.
# (rnnkit's own `rnn_forward` computes the same `h` faster, with a cache of its own layout.)

# %%
def rnn_forward(x, h0, Wx, Wh, b):
    """Run a tanh RNN over x (N, T, D) from h0 (N, H).

    Returns h (N, T, H), the state after every step, and the list of the T step caches.
    """
    N, T, _ = x.shape
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    caches = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = rnnkit.rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        caches.append(step_cache)
    return h, caches


# %% [markdown]
# In code the states are numbered from 0: `h[:, t]` is the state after reading `x[:, t]`,
# and the initial state is `h0`. The upstream gradient `dh` has one slice per step:
# `dh[:, t]` is $\partial L / \partial$ `h[:, t]` through that step's own loss only. The
# backward loop goes from `t = T - 1` down to `0` and at each step
#
# 1. adds the gradient carried back from step `t + 1` to `dh[:, t]` (the red arrows);
# 2. runs the step's backward on that sum;
# 3. stores `dx[:, t]`, adds the step's `dWx`, `dWh`, `db` to running totals, and carries
#    `dh_prev` on to step `t - 1`.
#
# After step 0 the carried gradient is `dh0`, the gradient with respect to the initial state.
#
# ### Exercise 2: `rnn_backward`
#
# Call your `rnn_step_backward` for each step. The cache is used once, by this call, so you
# may take it apart as you go (`cache.pop()` works); `dh` belongs to the caller and must
# stay as it is. Create the running totals with the dtype of `dh` (`np.zeros_like`), so
# that float32 stays float32.

# %% nbgrader={"grade": false, "grade_id": "rnn_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rnn_backward(dh, cache):
    """Backward pass of rnn_forward above.

    Inputs:
    - dh: (N, T, H) upstream gradient of every hidden state
    - cache: the list of T step caches returned by rnn_forward

    Returns a tuple (dx, dh0, dWx, dWh, db) with shapes
    (N, T, D), (N, H), (D, H), (H, H), (H,).
    """
    ### BEGIN SOLUTION
    N, T, H = dh.shape
    _, _, Wx, Wh, _ = cache[0]
    dx = np.empty((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    carry = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        dx[:, t], carry, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + carry, cache[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, carry, dWx, dWh, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "rnn_backward_tests", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Values (4 points) against rnnkit, the cache being the list of rnnkit's step caches, as
# rnn_forward above makes it (each call gets a fresh one). On a mismatch the tests try dh
# zero except at the last step (the gradient must travel back to every earlier step) and
# zero except at step 0 (it must not travel forwards). Sizes N=3, T=4, D=5, H=6, then
# each of N, T, D, H equal to 1; float32; a saturated tanh. A loop that runs your
# rnn_step_backward correctly passes even if that step is wrong: its own test takes those points.
for N, T, D, H in checks.SEQUENCE_SIZES:
    checks.check_rnn_backward(rnn_backward, N, T, D, H, step=rnn_step_backward)
checks.check_rnn_backward(rnn_backward, 3, 4, 5, 6, dtype=np.float32, step=rnn_step_backward)
for dtype in (np.float64, np.float32):
    checks.check_rnn_backward(rnn_backward, 3, 5, 4, 6, dtype=dtype, seed=11, scale=25.0, step=rnn_step_backward)
print("rnn_backward: shapes and values agree with rnnkit")

### BEGIN HIDDEN TESTS
for seed, (n, t, d, hh) in enumerate([(1, 1, 2, 3), (2, 7, 3, 4), (5, 3, 1, 2), (1, 9, 4, 4), (4, 3, 2, 1)]):
    for dtype in (np.float64, np.float32):
        checks.check_rnn_backward(rnn_backward, n, t, d, hh, dtype=dtype, seed=seed + 20, step=rnn_step_backward)
checks.check_rnn_backward(rnn_backward, 3, 5, 4, 6, dtype=np.float32, seed=12, scale=25.0, step=rnn_step_backward)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "rnn_backward_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# dtype and inputs (1 point): float32 in, five float32 gradients out (float64 likewise),
# and dh unchanged. The cache is yours to use up.
for N, T, D, H in checks.KEEPS_SEQUENCE_SIZES:
    checks.check_rnn_backward_keeps(rnn_backward, N, T, D, H, step=rnn_step_backward)
print("rnn_backward: keeps the dtype and leaves dh alone")

### BEGIN HIDDEN TESTS
for N, T, D, H in [(2, 6, 3, 4), (4, 2, 3, 3)]:
    checks.check_rnn_backward_keeps(rnn_backward, N, T, D, H, step=rnn_step_backward)
### END HIDDEN TESTS

# %% [markdown]
# ### Watching the gradient travel back
#
# Put a gradient on the last hidden state only and look at how large `dx` is at each
# earlier step. The gradient reaches every step, but it shrinks as it travels: each step
# multiplies it by $\operatorname{diag}(1 - h_t^2)\, W_h^\top$. Notebook 03 is about this shrinking.
# (If `rnn_backward` is not written yet, the figure uses a backward built on rnnkit's and says so.)

# %%
def working(fn, fallback, *probe):
    """fn if calling it on the probe arguments does not raise NotImplementedError, else fallback."""
    try:
        fn(*probe)
        return fn
    except NotImplementedError:
        print(f"{fn.__name__} is not written yet; this cell uses rnnkit's instead")
        return fallback


x, h0, Wx, Wh, b = checks.random_rnn(4, 25, 3, 16, seed=1, scale=1.0)
h, cache = rnn_forward(x, h0, Wx, Wh, b)
dh = np.zeros_like(h)
dh[:, -1] = 1.0
backward = working(rnn_backward, checks.reference_rnn_backward, dh, cache)
dx = backward(dh, cache)[0]
plt.figure(figsize=(7, 3))
plt.semilogy(np.linalg.norm(dx, axis=(0, 2)), "o-")
plt.xlabel("time step t")
plt.ylabel("norm of dx[:, t]")
plt.title("A gradient placed on the last state only, carried back in time")
plt.show()

# %% [markdown]
# ## 4. Checking gradients numerically
#
# A backward pass can be wrong in ways that still give plausible numbers. The cure is to
# compare it with a derivative computed from the forward pass alone. For a scalar
# function, the **centred difference**
#
# $$f'(x) \approx \frac{f(x + \varepsilon) - f(x - \varepsilon)}{2\varepsilon}$$
#
# has an error of order $\varepsilon^2$ (the one-sided $(f(x+\varepsilon) - f(x))/\varepsilon$ only
# of order $\varepsilon$). Too small an $\varepsilon$ brings the opposite trouble: the two
# values of $f$ agree in almost all their digits and the subtraction loses them to
# rounding. The figure measures both effects on $f = \tanh$ at $x = 0.5$.

# %%
eps = np.logspace(-12, -1, 45)
x0 = 0.5
exact = 1 - np.tanh(x0) ** 2
centred = np.abs((np.tanh(x0 + eps) - np.tanh(x0 - eps)) / (2 * eps) - exact)
one_sided = np.abs((np.tanh(x0 + eps) - np.tanh(x0)) / eps - exact)
plt.figure(figsize=(6, 3.5))
plt.loglog(eps, np.maximum(one_sided, 1e-17), label="one-sided")
plt.loglog(eps, np.maximum(centred, 1e-17), label="centred")
plt.xlabel(r"step $\varepsilon$")
plt.ylabel("absolute error of the derivative")
plt.legend()
plt.title("Truncation error (right) against rounding error (left), float64")
plt.show()
print(f"best centred error {centred.min():.1e} at eps = {eps[centred.argmin()]:.0e}")

# %% [markdown]
# For arrays, `rnnkit.numerical_gradient(f, x, df)` perturbs one entry of `x` at a time,
# **in place**, and returns the centred-difference gradient of $\sum f(x) \odot df$. Passing
# the upstream gradient `df` = `dh` makes the numerical gradient comparable with the
# output of a backward pass called with the same `dh`. Because `x` is changed in place,
# `f` must read that very array, for example `f = lambda _: rnn_forward(x, h0, Wx, Wh, b)[0]`.
#
# Gradients are compared with the **relative error**
#
# $$\text{rel\_error}(a, b) = \max_i \frac{|a_i - b_i|}{\max(10^{-8}, |a_i| + |b_i|)},$$
#
# (`rnnkit.rel_error`) because an absolute difference of $10^{-6}$ means nothing until we know
# whether the gradient is of size $10^{-6}$ or $10^{3}$. In float64 a correct backward on a
# small, well-scaled problem gives errors around $10^{-8}$ or below; an error above $10^{-4}$
# almost always means a bug.
#
# ### Exercise 3: `gradient_check_rnn`
#
# Write a function that checks any backward pass of the RNN against numerical gradients.
# It takes the forward and backward functions as arguments, so the same check works on
# your `rnn_backward`, on rnnkit's, or on a deliberately broken one. Use
# `rnnkit.numerical_gradient` and `rnnkit.rel_error`.

# %% nbgrader={"grade": false, "grade_id": "gradient_check_rnn", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_check_rnn(forward, backward, x, h0, Wx, Wh, b, dh):
    """Relative error between backward's gradients and numerical gradients, per input.

    Inputs:
    - forward(x, h0, Wx, Wh, b) -> (h, cache), like rnn_forward above
    - backward(dh, cache) -> (dx, dh0, dWx, dWh, db), like rnn_backward above
    - x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,): float64 arrays
    - dh: (N, T, H) upstream gradient

    Returns a dict {"x": e, "h0": e, "Wx": e, "Wh": e, "b": e} of floats, where e is
    rnnkit.rel_error between the analytic gradient of that input and its numerical gradient.
    """
    ### BEGIN SOLUTION
    _, cache = forward(x, h0, Wx, Wh, b)
    analytic = backward(dh, cache)
    errors = {}
    for name, value, grad in zip(("x", "h0", "Wx", "Wh", "b"), (x, h0, Wx, Wh, b), analytic):
        numeric = rnnkit.numerical_gradient(lambda _: forward(x, h0, Wx, Wh, b)[0], value, dh)
        errors[name] = rnnkit.rel_error(grad, numeric)
    return errors
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "gradient_check_rnn_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Your check is run on a correct backward (every error must be tiny) and on five broken
# ones, each with one gradient 5% too large (that input's error must be large, the others
# tiny, and the values must be those of rnnkit.rel_error). The forward pass is the
# rnn_forward above.
checks.check_gradient_check(gradient_check_rnn)
print("gradient_check_rnn: passes a correct backward and catches each broken gradient")

### BEGIN HIDDEN TESTS
checks.check_gradient_check(gradient_check_rnn, seed=5)
### END HIDDEN TESTS

# %% [markdown]
# Now run your check on your own `rnn_backward`. Every error should be far below $10^{-6}$.
# If one is not, the name tells you which gradient to look at.

# %%
x, h0, Wx, Wh, b = checks.random_rnn(2, 4, 3, 5, seed=3)
dh = np.random.default_rng(4).standard_normal((2, 4, 5))
try:
    my_errors = gradient_check_rnn(rnn_forward, rnn_backward, x, h0, Wx, Wh, b, dh)
    for name, error in my_errors.items():
        print(f"relative error of d{name:3s}: {error:.2e}")
except NotImplementedError:
    print("write rnn_backward and gradient_check_rnn above, then run this cell again")

# %% nbgrader={"grade": true, "grade_id": "gradient_check_rnn_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Your gradient check, run on your rnn_backward, must report what a correct check reports:
# errors below 1e-6 where rnn_backward is right, the true error where it is not (a wrong
# rnn_backward costs its own test, not this one).
errors = checks.check_own_gradients(gradient_check_rnn, rnn_backward)
print("your check reports, on your rnn_backward:", ", ".join(f"{k} {v:.1e}" for k, v in errors.items()))

# %% [markdown]
# ## 5. A loss over a sequence
#
# For a task with an answer at every step, an output layer turns each hidden state into
# scores over $V$ classes, $s_t = h_t W_y + b_y$, and softmax turns scores into
# probabilities, $p_{t,v} = e^{s_{t,v}} / \sum_u e^{s_{t,u}}$. The loss is the negative
# log-probability of the right class $y_t$, averaged over the positions that count:
#
# $$L = \frac{1}{\sum_{n,t} m_{n,t}} \sum_{n,t} m_{n,t} \left(- \log p_{n,t,y_{n,t}}\right),$$
#
# in nats per token. The **mask** $m_{n,t} \in \{0, 1\}$ exists because sequences in a batch
# rarely have the same length: shorter ones are padded to length $T$, and a padded
# position must neither add to the loss nor to the count. Some tasks also have positions
# with no answer at all, as in the toy task below.
#
# Its gradient is remarkably simple:
#
# $$\frac{\partial L}{\partial s_{n,t,v}} = \frac{m_{n,t}}{\sum m} \left(p_{n,t,v} - [v = y_{n,t}]\right).$$
#
# Two numerical cautions. $e^{s}$ overflows for $s$ above about 709 in float64 (88 in
# float32), so subtract each row's maximum first; softmax does not change. And
# $\log p$ should be computed as $s - \max s - \log \sum_u e^{s_u - \max s}$, never as the
# log of a probability that may have underflowed to 0.

# %%
scores_demo = np.array([[[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [5.0, 0.0, 0.0]]])
y_demo = np.array([[0, 2, 1]])
mask_demo = np.array([[True, True, False]])  # the last position is padding
if rnnkit.sealed_for() is None:  # while the notebook is graded, rnnkit's loss is not available
    print("loss with the padding counted:  ", rnnkit.temporal_softmax_loss(scores_demo, y_demo)[0])
    print("loss with the padding masked:   ", rnnkit.temporal_softmax_loss(scores_demo, y_demo, mask_demo)[0])


# %% [markdown]
# ### Exercise 4: `temporal_softmax_loss`
#
# Three requirements, each with its own test cell: the values of `loss` and `dscores`;
# no warning for scores in the thousands (shift by each row's maximum, and take the log
# of probabilities as above, never `np.log` of a softmax); and `dscores` with the dtype
# of `scores`, the inputs left unchanged.

# %% nbgrader={"grade": false, "grade_id": "temporal_softmax_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def temporal_softmax_loss(scores, y, mask=None):
    """Mean softmax cross-entropy over the unmasked positions of a batch of sequences.

    Inputs:
    - scores: (N, T, V) unnormalised log-probabilities
    - y: (N, T) integer targets in [0, V)
    - mask: (N, T) bool, True where a position counts; None means every position counts

    Returns a tuple (loss, dscores): loss a float (nats per counted position),
    dscores (N, T, V) with the dtype of scores.
    """
    ### BEGIN SOLUTION
    N, T, V = scores.shape
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    log_probs = shifted - log_norm
    count = mask.sum()
    true_log_probs = np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]
    loss = -true_log_probs[mask].sum() / count
    dscores = np.exp(log_probs)
    np.put_along_axis(dscores, y[..., None], np.take_along_axis(dscores, y[..., None], axis=-1) - 1, axis=-1)
    dscores *= (mask / count)[..., None].astype(scores.dtype)
    return float(loss), dscores
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "temporal_softmax_loss_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Values (3 points) against rnnkit, without and with a mask: N=2, T=3, V=4, then one
# position, N=1, T=1, one class, and float32.
for N, T, V in checks.LOSS_SIZES:
    for use_mask in (False, True):
        checks.check_temporal_softmax_loss(temporal_softmax_loss, N, T, V, use_mask=use_mask)
checks.check_temporal_softmax_loss(temporal_softmax_loss, 2, 3, 4, dtype=np.float32)
# Uniform scores over 4 classes: every position costs log(4) nats.
loss, dscores, _ = checks.run_loss(temporal_softmax_loss, (np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int)),
                                   np.float64)
if not np.isclose(loss, np.log(4)):
    raise AssertionError(f"with all scores equal the loss should be log(4) = {np.log(4):.6f}, got {loss:.6f}")
print("temporal_softmax_loss: agrees with rnnkit, with and without a mask")

### BEGIN HIDDEN TESTS
for seed, (n, t, v) in enumerate([(1, 1, 2), (5, 7, 3), (3, 2, 9), (1, 6, 5), (4, 1, 2)]):
    for dtype in (np.float64, np.float32):
        for use_mask in (False, True):
            checks.check_temporal_softmax_loss(temporal_softmax_loss, n, t, v, dtype=dtype,
                                               seed=seed + 30, use_mask=use_mask)
checks.check_temporal_softmax_loss(temporal_softmax_loss, 4, 5, 6, seed=9, scale=5.0)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "temporal_softmax_loss_tests_2", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Stability (1 point): scores of size 2000, with a true class 4000 below the best, in
# float64 and float32: no overflow, no log of 0, no warning.
for dtype in (np.float64, np.float32):
    checks.check_softmax_loss_stability(temporal_softmax_loss, dtype=dtype)
print("temporal_softmax_loss: no warning at extreme scores")

### BEGIN HIDDEN TESTS
rng_test = np.random.default_rng(505)
for dtype in (np.float64, np.float32):
    big = rng_test.normal(scale=800.0, size=(2, 3, 4))
    checks.check_softmax_loss_stability(temporal_softmax_loss, dtype=dtype, scores=big,
                                        y=big.argmin(axis=-1))
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "temporal_softmax_loss_tests_3", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# dtype and inputs (1 point): float32 scores give float32 dscores (float64 likewise), and
# scores, y and mask unchanged.
checks.check_temporal_softmax_loss_keeps(temporal_softmax_loss)
checks.check_temporal_softmax_loss_keeps(temporal_softmax_loss, 3, 2, 5)
print("temporal_softmax_loss: keeps the dtype and leaves its inputs alone")

### BEGIN HIDDEN TESTS
checks.check_temporal_softmax_loss_keeps(temporal_softmax_loss, 4, 5, 3)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Training, step by step
#
# Everything is in place to train. The toy task is an **echo with a delay**: the input is
# a stream of random tokens from an alphabet of $V = 4$, and at every step the network must
# output the token it read $\Delta = 3$ steps earlier. It can only do so by keeping the last
# three tokens in its hidden state. The first $\Delta$ positions have no answer, so the mask
# leaves them out.
#
# One training iteration is the recipe of every recurrent network:
#
# 1. **input per step**: encode token $t$ as a one-hot vector $x_t \in \mathbb{R}^V$;
# 2. **hidden state**: start from $h_0 = 0$;
# 3. **state transition**: $h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$ for every $t$ (`rnn_forward`);
# 4. **output and loss**: scores $s_t = h_t W_y + b_y$, then `temporal_softmax_loss`;
# 5. **backward pass**: through the output layer ($dW_y = \sum_t h_t^\top ds_t$,
#    $dh_t = ds_t W_y^\top$), then `rnn_backward` for $W_x, W_h, b$;
# 6. **update**: plain gradient descent, $\theta \leftarrow \theta - \eta\, \partial L/\partial\theta$.

# %%
V, DELAY = 4, 3


def echo_batch(rng, N, T):
    """One-hot inputs (N, T, V), targets y (N, T) = the token DELAY steps back, and the mask."""
    tokens = rng.integers(0, V, size=(N, T))
    y = np.zeros_like(tokens)
    y[:, DELAY:] = tokens[:, :-DELAY]
    mask = np.zeros((N, T), dtype=bool)
    mask[:, DELAY:] = True
    return np.eye(V)[tokens], y, mask


def init_params(H, rng):
    return {"Wx": rng.standard_normal((V, H)) / np.sqrt(V),
            "Wh": 0.9 * rng.standard_normal((H, H)) / np.sqrt(H),
            "b": np.zeros(H),
            "Wy": rng.standard_normal((H, V)) / np.sqrt(H),
            "by": np.zeros(V)}


def loss_and_grads(p, x, y, mask, h0, loss_fn, backward):
    """Steps 3 to 5 of the recipe; returns the loss, the gradients, the scores and the last state."""
    N, T, _ = x.shape
    H = p["Wh"].shape[0]
    h, cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])     # 3. state transition
    scores = h @ p["Wy"] + p["by"]                               # 4. output
    loss, dscores = loss_fn(scores, y, mask)                     # 4. loss
    grads = {"Wy": h.reshape(N * T, H).T @ dscores.reshape(N * T, V),  # 5. backward
             "by": dscores.sum(axis=(0, 1))}
    _, _, grads["Wx"], grads["Wh"], grads["b"] = backward(dscores @ p["Wy"].T, cache)
    return loss, grads, scores, h[:, -1]


loss_fn = working(temporal_softmax_loss, rnnkit.temporal_softmax_loss,
                  np.zeros((1, 1, 2)), np.zeros((1, 1), dtype=int))
probe_h, probe_cache = rnn_forward(*checks.random_rnn(1, 2, 1, 2))
backward = working(rnn_backward, checks.reference_rnn_backward, np.zeros_like(probe_h), probe_cache)

# %%
rng = np.random.default_rng(0)
H, N, T, lr = 32, 32, 20, 0.5
iterations = 150 if QUICK else 500
params = init_params(H, rng)
losses = []
for it in range(iterations):
    x, y, mask = echo_batch(rng, N, T)                                 # 1. inputs
    h0 = np.zeros((N, H))                                               # 2. initial state
    loss, grads, scores, _ = loss_and_grads(params, x, y, mask, h0, loss_fn, backward)
    for name in params:                                                 # 6. update
        params[name] -= lr * grads[name]
    losses.append(loss)

x, y, mask = echo_batch(np.random.default_rng(1), 200, T)
_, _, scores, _ = loss_and_grads(params, x, y, mask, np.zeros((200, H)), loss_fn, backward)
accuracy = (scores.argmax(axis=-1) == y)[mask].mean()
plt.figure(figsize=(6, 3.5))
plt.plot(losses)
plt.axhline(np.log(V), color="gray", ls="--", label=f"guessing: log {V} = {np.log(V):.2f} nats")
plt.xlabel("iteration")
plt.ylabel("loss (nats per token)")
plt.title(f"Echo with delay {DELAY}: a tanh RNN with H = {H}")
plt.legend()
plt.show()
print(f"loss {losses[0]:.3f} -> {np.mean(losses[-20:]):.4f}; accuracy on fresh sequences {accuracy:.1%}")

# %% [markdown]
# The loss starts at $\log 4 \approx 1.39$ nats, the cost of guessing, and falls towards 0
# once the network has learned to keep three tokens in its state. Every ingredient is one
# of your functions: if one of them were wrong, the curve would show it.
#
# ## 7. Truncated BPTT
#
# Full BPTT stores the states of every step and walks all of them backwards. For a stream
# of a million characters that is neither affordable nor necessary. **Truncated BPTT**
# cuts the stream into windows of $k$ steps and, for each window in turn,
#
# * runs the forward pass **starting from the last state of the previous window**, so the
#   network still reads the stream as one continuous sequence;
# * backpropagates **within the window only**: the carried-in state is treated as a
#   constant, so its gradient `dh0` is dropped;
# * updates the weights, and moves on.
#
# Memory and time per update are $O(k)$ instead of $O(T)$. The price is that no gradient
# links events more than $k$ steps apart; the forward pass still carries information
# across the cut, and what the network learns inside windows generalises to it.
#
# Here we train on one long stream per batch row, in windows of $k = 8$, once carrying the
# state across windows and once resetting it to zero at every window (a common mistake).
# Then we measure the accuracy at each position inside a window.

# %%
def train_truncated(carry_state, windows, k=8, N=32, H=32, lr=0.5, seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(H, rng)
    tokens = rng.integers(0, V, size=(N, windows * k + DELAY))
    x_all = np.eye(V)[tokens]
    h_last = np.zeros((N, H))
    losses = []
    for w in range(windows):
        s = slice(DELAY + w * k, DELAY + (w + 1) * k)
        x, y = x_all[:, s], tokens[:, s.start - DELAY:s.stop - DELAY]
        mask = np.ones(y.shape, dtype=bool)
        h0 = h_last if carry_state else np.zeros((N, H))
        loss, grads, _, h_last = loss_and_grads(params, x, y, mask, h0, loss_fn, backward)
        for name in params:
            params[name] -= lr * grads[name]
        losses.append(loss)
    return params, losses


def accuracy_by_position(params, carry_state, k=8, windows=50, N=50, seed=1):
    """Accuracy at each position within a window, on a fresh stream."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, V, size=(N, windows * k + DELAY))
    x_all = np.eye(V)[tokens]
    H = params["Wh"].shape[0]
    h_last = np.zeros((N, H))
    hits = np.zeros(k)
    for w in range(windows):
        s = slice(DELAY + w * k, DELAY + (w + 1) * k)
        h0 = h_last if carry_state else np.zeros((N, H))
        h, _ = rnn_forward(x_all[:, s], h0, params["Wx"], params["Wh"], params["b"])
        h_last = h[:, -1]
        pred = (h @ params["Wy"] + params["by"]).argmax(axis=-1)
        hits += (pred == tokens[:, s.start - DELAY:s.stop - DELAY]).mean(axis=0)
    return hits / windows


windows = 250 if QUICK else 700
results = {}
for carry_state in (True, False):
    params, curve = train_truncated(carry_state, windows)
    results[carry_state] = (curve, accuracy_by_position(params, carry_state))

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for carry_state, label in ((True, "state carried across windows"), (False, "state reset every window")):
    curve, acc = results[carry_state]
    smooth = np.convolve(curve, np.ones(20) / 20, mode="valid")
    axes[0].plot(smooth, label=label)
    axes[1].plot(acc, "o-", label=label)
axes[0].set(xlabel="window (one update each)", ylabel="loss, moving average", title="Truncated BPTT, k = 8")
axes[1].axhline(1 / V, color="gray", ls="--", label="chance")
axes[1].set(xlabel="position inside the window", ylabel="accuracy", ylim=(0, 1.05),
            title="Where the answers are right")
axes[0].legend()
axes[1].legend(loc="lower right")
plt.show()
for carry_state in (True, False):
    print(("carried: " if carry_state else "reset:   ") + " ".join(f"{a:.2f}" for a in results[carry_state][1]))

# %% [markdown]
# With the state carried, the network answers at every position, including the first $\Delta$
# of each window: the tokens it must echo arrived in the previous window, and the state
# brought them across the cut even though no gradient ever crossed it. With the state
# reset, the first $\Delta$ positions fall to chance, because the information is simply gone.
#
# ## What to remember
#
# * BPTT is the chain rule on the unrolled graph: a backward loop from the last step to the
#   first, carrying $\partial L/\partial h_t$, which collects the step's own gradient and the one
#   arriving from step $t+1$.
# * Shared weights receive the **sum** of the contributions of every step.
# * Check every backward pass with centred differences and the relative error.
# * The sequence loss averages over the positions that count; the mask removes padding.
# * Truncated BPTT carries the state forwards across windows and the gradient backwards
#   only within a window.
#
# Notebook 03 asks what happens to $\partial L/\partial h_t$ over long distances, when the
# product of many Jacobians either fades to nothing or blows up.
