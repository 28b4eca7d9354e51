"""
3. A 2-layer net: from tensors, then nn and optim
=================================================

The classic spiral: 3 classes of 100 points each, wound around the origin, which no linear
classifier separates. We fit a 2-layer net three ways: from raw tensors with the gradients
written out by hand (and checked against autograd), with ``nn`` and ``optim`` exactly as in torch,
and then with six optimizers on the same problem, their loss curves in one plot.
"""

import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
import chainrule.nn.functional as F

# %%
# The data
# --------

rng = np.random.default_rng(0)
N, K = 100, 3                                   # points per class, classes
X = np.zeros((N * K, 2), dtype=np.float32)
y = np.zeros(N * K, dtype=np.int64)
for k in range(K):
    r = np.linspace(0.0, 1, N)
    t = np.linspace(k * 4, (k + 1) * 4, N) + rng.standard_normal(N) * 0.2
    X[k * N:(k + 1) * N] = np.c_[r * np.sin(t), r * np.cos(t)]
    y[k * N:(k + 1) * N] = k
x_t, y_t = cr.from_numpy(X), cr.from_numpy(y)

fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="brg")
ax.set_title("the spiral: 3 classes")
ax.set_aspect("equal")

# %%
# From tensors, with the backward pass written by hand
# ----------------------------------------------------
# h = relu(x W1 + b1), scores = h W2 + b2, loss = cross-entropy. Backward, gate by gate:
#
# * d loss / d scores = (softmax(scores) - onehot(y)) / N;
# * W2, b2: the linear layer's rule (tutorial 2): h^T g and the sum of g over the batch;
# * dh = g W2^T, then the ReLU routes it: zero where h was 0 (a max gate with 0);
# * W1, b1: the same linear rule with x.

D, H = 2, 100
cr.manual_seed(0)
W1 = (0.01 * cr.randn(D, H)).requires_grad_()
b1 = cr.zeros(H, requires_grad=True)
W2 = (0.01 * cr.randn(H, K)).requires_grad_()
b2 = cr.zeros(K, requires_grad=True)
params = [W1, b1, W2, b2]


def forward(x):
    h = (x @ W1 + b1).relu()
    return h, h @ W2 + b2


h, scores = forward(x_t)
loss = F.cross_entropy(scores, y_t)
loss.backward()                                 # autograd's gradients, for the comparison

with cr.no_grad():
    g = (scores.softmax(1) - F.one_hot(y_t, K).float()) / len(y)
    by_hand = {"W2": h.t() @ g, "b2": g.sum(0)}
    dh = (g @ W2.t()) * (h > 0)
    by_hand.update(W1=x_t.t() @ dh, b1=dh.sum(0))
for name, p in zip(("W1", "b1", "W2", "b2"), params):
    print(f"d loss/d {name}: by hand vs autograd, max difference {float((by_hand[name] - p.grad).abs().max()):.1e}")

# %%
# Gradient descent with those gradients: no optimizer, just ``p -= lr * p.grad`` under
# ``no_grad``.

lr = 1.0
for step in range(1001):
    _, scores = forward(x_t)
    loss = F.cross_entropy(scores, y_t)
    for p in params:
        p.grad = None
    loss.backward()
    with cr.no_grad():
        for p in params:
            p -= lr * p.grad
    if step % 250 == 0:
        accuracy = (scores.argmax(1) == y_t).float().mean().item()
        print(f"step {step:4d}  loss {loss.item():.4f}  training accuracy {accuracy:.1%}")

# %%
# The decision regions the net learned:

grid = np.stack(np.meshgrid(np.linspace(-1.1, 1.1, 200), np.linspace(-1.1, 1.1, 200)), -1).reshape(-1, 2)
with cr.no_grad():
    regions = forward(cr.from_numpy(grid.astype(np.float32)))[1].argmax(1).numpy()
fig, ax = plt.subplots(figsize=(4, 4))
ax.contourf(grid[:, 0].reshape(200, 200), grid[:, 1].reshape(200, 200), regions.reshape(200, 200),
            cmap="brg", alpha=0.3)
ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="brg")
ax.set_aspect("equal")
ax.set_title("2-layer net from tensors")

# %%
# The same net with nn and optim
# ------------------------------
# Exactly a torch script: ``import chainrule as cr`` in place of ``import torch as torch``.

cr.manual_seed(0)
model = cr.nn.Sequential(cr.nn.Linear(2, 100), cr.nn.ReLU(), cr.nn.Linear(100, 3))
optimizer = cr.optim.SGD(model.parameters(), lr=1.0)
for step in range(1001):
    loss = F.cross_entropy(model(x_t), y_t)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 250 == 0:
        print(f"step {step:4d}  loss {loss.item():.4f}")

# %%
# Optimizers compared
# -------------------
# The same model, initialisation and data for each; 300 full-batch steps. Momentum and Nesterov
# build up speed along consistent directions; AdaGrad and RMSProp scale each parameter's step
# by its gradient history; Adam does both.

optimizers = {
    "SGD": lambda ps: cr.optim.SGD(ps, lr=0.1),
    "SGD + momentum": lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9),
    "Nesterov": lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "AdaGrad": lambda ps: cr.optim.Adagrad(ps, lr=0.1),
    "RMSProp": lambda ps: cr.optim.RMSprop(ps, lr=0.003),
    "Adam": lambda ps: cr.optim.Adam(ps, lr=0.01),
}
curves = {}
for name, make in optimizers.items():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(2, 100), cr.nn.ReLU(), cr.nn.Linear(100, 3))
    optimizer = make(model.parameters())
    losses = []
    for step in range(300):
        loss = F.cross_entropy(model(x_t), y_t)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    curves[name] = losses
    print(f"{name:15s} loss after 300 steps: {losses[-1]:.4f}")

fig, ax = plt.subplots(figsize=(6, 4))
for name, losses in curves.items():
    ax.plot(losses, label=name)
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("training loss")
ax.set_title("one problem, six optimizers")
ax.legend()
