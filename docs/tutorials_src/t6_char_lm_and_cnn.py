"""
6. A character-level language model and a small CNN, trained in minutes on a laptop
====================================================================================

Two models that look like real deep learning and still train on a laptop's CPU: a GPT-style
character language model on the Python standard library's own sources (text that ships with every
Python install: nothing is downloaded), and a small convolutional net on scikit-learn's 8x8
handwritten digits. Both are the models ``chainrule train`` uses (``chainrule.models``), built
from the same ``nn`` layers a PyTorch user knows.

This page trains shrunken versions for a few seconds each so that the documentation build stays
fast. The full runs are one command each:

- ``chainrule train --data text`` trains the full-size transformer (4 blocks, d = 128, context 64)
  for 15 epochs of 60 steps: on this project's 2-core machine it took about 4 minutes and reached
  1.957 bits per character on the held-out text (README, "Character language models").
- ``chainrule train --model cnn`` trains the CNN below at full width for 20 epochs in about 3 s:
  98.3% test accuracy.
"""

import math
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.cli.text import Corpus, learning_rate, load_text, sample, validation_bits, windows
from chainrule.models import CNN, CharTransformer

# %%
# The text
# --------
# ``load_text(None)`` reads the standard library's top-level ``*.py`` files (2 MB) from this
# Python install. We keep the first 300,000 characters. ``Corpus`` maps each distinct character
# to an integer id and holds out a seeded 10% of the 1 KiB blocks for validation, so the
# validation loss is measured on code the model never trained on.

text = load_text(None)[:300_000]
corpus = Corpus(text, test_fraction=0.1, seed=0)
print(f"{len(corpus.train):,} training and {len(corpus.valid):,} validation characters, "
      f"{len(corpus.chars)} distinct symbols")
print("a window of 48 characters:", repr(corpus.decode(corpus.train[1000:1048])))

# %%
# A training example is a window of ``context`` characters; the target is the same window
# shifted by one, so every position predicts the character after it. ``windows`` cuts a batch
# of them at the given offsets.

context = 32
x, y = windows(corpus.train, np.array([1000]), context)
print("input :", repr(corpus.decode(x[0])))
print("target:", repr(corpus.decode(y[0])))

# %%
# The model and the training loop
# -------------------------------
# ``CharTransformer`` is a GPT: token and position embeddings, pre-norm causal self-attention
# blocks (``nn.TransformerEncoderLayer`` with a causal mask), a final LayerNorm and a linear layer
# to one logit per symbol. Here it has 2 blocks of width 64 instead of 4 of width 128. The loss is
# the cross-entropy of the next character, reported in bits (nats / ln 2): a model that knows
# nothing pays log2(number of symbols) bits per character.
#
# The loop is the one ``chainrule train --data text`` runs (``chainrule/cli/text.py``): Adam,
# warm-up then cosine decay of the learning rate, gradient-norm clipping at 1.

cr.manual_seed(0)
model = CharTransformer(len(corpus.chars), context=context, d_model=64, heads=4, layers=2)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters; "
      f"knowing nothing costs log2({len(corpus.chars)}) = {math.log2(len(corpus.chars)):.2f} bits/char")

steps, batch = 250, 32
optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
rng = np.random.default_rng(0)
train_bits, valid_bits = [], []
began = time.perf_counter()
for step in range(steps):
    for group in optimizer.param_groups:
        group["lr"] = learning_rate({"lr": 3e-3}, step, steps)
    xb, yb = windows(corpus.train, rng.integers(0, len(corpus.train) - context - 1, batch), context)
    model.train()
    logits, _ = model(cr.from_numpy(xb))
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), cr.from_numpy(yb.reshape(-1)))
    optimizer.zero_grad()
    loss.backward()
    cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    train_bits.append(loss.item() / math.log(2))
    if (step + 1) % 50 == 0:
        valid_bits.append((step + 1, validation_bits(model, corpus, context, "cpu")))
        print(f"step {step + 1:3d}  train {np.mean(train_bits[-50:]):.3f} bits/char  "
              f"validation {valid_bits[-1][1]:.3f} bits/char")
print(f"{steps} steps in {time.perf_counter() - began:.1f} s")

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(range(1, steps + 1), train_bits, alpha=0.6, label="training batch")
ax.plot(*zip(*valid_bits), "o-", label="validation")
ax.axhline(math.log2(len(corpus.chars)), color="gray", linestyle=":", label="uniform guess")
ax.set_xlabel("step")
ax.set_ylabel("bits per character")
ax.set_title("a 2-block character transformer on the stdlib sources")
ax.legend()

# %%
# Sampling
# --------
# ``sample`` feeds the prompt, turns the last position's logits into probabilities
# (softmax(logits / temperature) over the 10 most likely symbols), draws the next character,
# appends it and repeats. After a few seconds of training the model has learnt line breaks,
# indentation, spaces between words and which letters follow which, not yet words or syntax;
# the full run (40 times as many steps with a model 4 times the size) writes plausible-looking
# ``def`` lines, docstrings and ``if self... is not None:`` blocks (README).

print(sample(model, corpus, context, "cpu", length=300, prompt="def ", temperature=0.8, top_k=10))

# %%
# A small CNN on the 8x8 digits
# -----------------------------
# ``chainrule.models.CNN`` is two stages of (3x3 convolution, ReLU, 2x2 max-pool) and a linear
# layer: 8x8 -> 4x4 -> 2x2 feature maps. It is built from ``nn.Conv2d``, ``nn.MaxPool2d`` and
# ``nn.Linear`` exactly as a torch user would write it:
#
# .. code-block:: python
#
#    nn.Sequential(nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
#                  nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
#                  nn.Flatten(), nn.Linear(c2 * 2 * 2, 10))
#
# With the CLI's 16 and 32 channels, 8 epochs of Adam on minibatches of 32 and a seeded 80/20
# split (``chainrule train --model cnn`` runs 20).

digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)[:, None]        # (N, 1, 8, 8), pixels in [0, 1]
order = np.random.default_rng(0).permutation(len(images))
split = int(0.8 * len(images))
x_train, y_train = (cr.from_numpy(a[order[:split]]) for a in (images, digits.target.astype(np.int64)))
x_test, y_test = (cr.from_numpy(a[order[split:]]) for a in (images, digits.target.astype(np.int64)))

cr.manual_seed(0)
cnn = CNN(in_channels=1, height=8, width=8, num_classes=10, channels=(16, 32))
print(cnn)
optimizer = cr.optim.Adam(cnn.parameters(), lr=3e-3)
loader = cr.utils.data.DataLoader(cr.utils.data.TensorDataset(x_train, y_train), batch_size=32, shuffle=True)
cnn_loss, cnn_accuracy = [], []
began = time.perf_counter()
for epoch in range(1, 9):
    cnn.train()
    for xb, yb in loader:
        loss = F.cross_entropy(cnn(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        cnn_loss.append(loss.item())
    cnn.eval()
    with cr.no_grad():
        cnn_accuracy.append((cnn(x_test).argmax(1) == y_test).float().mean().item())
    print(f"epoch {epoch}  train loss {np.mean(cnn_loss[-len(loader):]):.3f}  test accuracy {cnn_accuracy[-1]:.1%}")
print(f"8 epochs in {time.perf_counter() - began:.1f} s")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.plot(cnn_loss)
left.set_xlabel("step")
left.set_ylabel("training loss")
right.plot(range(1, len(cnn_accuracy) + 1), cnn_accuracy, "o-")
right.set_xlabel("epoch")
right.set_ylabel("test accuracy")
fig.suptitle("a small CNN on the 8x8 digits")

# %%
# The digits the CNN still gets wrong (title: true label -> the CNN's answer):

with cr.no_grad():
    predicted = cnn(x_test).argmax(1).numpy()
wrong = np.flatnonzero(predicted != y_test.numpy())[:8]
if len(wrong):
    fig, axes = plt.subplots(1, len(wrong), figsize=(1.4 * len(wrong), 1.8), squeeze=False)
    for ax, i in zip(axes[0], wrong):
        ax.imshow(x_test[i, 0].numpy(), cmap="gray_r")
        ax.set_title(f"{int(y_test[i])} -> {predicted[i]}", fontsize=9)
        ax.axis("off")
print(f"{len(np.flatnonzero(predicted != y_test.numpy()))} of {len(predicted)} test digits misclassified")

# %%
# Where to go from here
# ---------------------
# - ``chainrule train --data text`` (add ``--model lstm`` or ``gru`` for ``CharRNN``, ``--text
#   PATH`` for your own corpus) runs the full-size language model with checkpoints,
#   ``metrics.json``, a loss plot and ``--resume``.
# - ``chainrule train --model cnn --grad-stats`` records each layer's gradient norm per epoch
#   (tutorial 4).
# - Everything above ran on NumPy; with CuPy installed, ``.to("cuda")`` moves the same code to a
#   GPU.
