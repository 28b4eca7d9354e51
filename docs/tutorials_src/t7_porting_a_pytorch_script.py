"""
7. Porting a PyTorch script
===========================

chainrule keeps torch's names, signatures, defaults, dtypes and errors, so porting a PyTorch
program is meant to be an import change. ``examples/ported/`` holds a dozen public programs
(Karpathy's GPTs and makemore, pytorch/examples' MNIST, VAE, DCGAN, word language model, ...)
ported exactly that way; ``tests/test_ported_scripts.py`` runs each of them for a few steps.

This tutorial takes one of them, pytorch/examples' ``mnist/main.py`` (a CNN with dropout, trained
with Adadelta and a StepLR schedule), shows the change, runs the script's own model and training
function for a few steps, checks it against torch with the same weights, and ends with what to do
when your script hits something chainrule lacks.
"""

import argparse
import importlib.util
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import chainrule as cr

PORTED = Path(cr.__file__).resolve().parents[1] / "examples" / "ported"
# the script imports _vision_stub, the torchvision stand-in that sits next to it
_spec = importlib.util.spec_from_file_location("_vision_stub", PORTED / "_vision_stub.py")
sys.modules["_vision_stub"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sys.modules["_vision_stub"])

# %%
# The change
# ----------
# The head of the ported file, as it is in the repository: its source, license and what changed,
# then the imports. ``import chainrule as torch`` keeps every ``torch.`` in the rest of the file
# working; torchvision is not installed here, so ``_vision_stub`` supplies ``datasets.MNIST``
# (scikit-learn's 8x8 digits, upsampled and padded to 28x28: nothing is downloaded) and
# ``transforms``.

source = (PORTED / "mnist_cnn.py").read_text()
print("\n".join(source.splitlines()[:12]))

# %%
# Apart from those lines the file is pytorch/examples' code unchanged. Undoing the import change
# gives back a torch program; we keep both versions side by side as modules.

TO_TORCH = [("import chainrule as torch", "import torch"),
            ("import chainrule.", "import torch."), ("from chainrule.", "from torch.")]


def load(name, text):
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(text, str(PORTED / "mnist_cnn.py"), "exec"), module.__dict__)
    return module


ported = load("mnist_cnn_chainrule", source)
original_source = source
for ours, theirs in TO_TORCH:
    original_source = original_source.replace(ours, theirs)
original = load("mnist_cnn_torch", original_source)
changed = [(a, b) for a, b in zip(source.splitlines(), original_source.splitlines()) if a != b]
print(f"{len(changed)} lines differ between the two versions:")
for a, b in changed:
    print(f"  chainrule: {a:45s} torch: {b}")

# %%
# Same weights, same answers
# --------------------------
# Build the script's ``Net`` in chainrule, copy its weights into torch's ``Net`` through NumPy
# (the state dicts have the same keys and shapes), and feed both the same batch. In eval mode
# (dropout off) the log-probabilities agree to float32 rounding.

datasets, transforms = ported.datasets, ported.transforms
transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train_set = datasets.MNIST("../data", train=True, download=True, transform=transform)
loader = cr.utils.data.DataLoader(cr.utils.data.Subset(train_set, range(256)), batch_size=64)

cr.manual_seed(1)
net = ported.Net()
torch_net = original.Net()
torch_net.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in net.state_dict().items()})
print("state dict keys:", list(net.state_dict()) == list(torch_net.state_dict()))

images, labels = next(iter(loader))
net.eval()
torch_net.eval()
with cr.no_grad(), torch.no_grad():
    ours = net(images).numpy()
    theirs = torch_net(torch.from_numpy(images.numpy())).numpy()
print(f"batch {tuple(images.shape)}: largest difference in log-probabilities {np.abs(ours - theirs).max():.2e}")

# %%
# A few training steps with the script's own ``train``
# ----------------------------------------------------
# ``train(args, model, device, train_loader, optimizer, epoch)`` is the script's function,
# unchanged: ``model.train()``, ``optimizer.zero_grad()``, ``F.nll_loss``, ``loss.backward()``,
# ``optimizer.step()`` and its log line. We give it 256 images (4 batches) instead of the
# whole training set, and the script's optimizer and schedule, Adadelta(lr=1) with StepLR(gamma=0.7).

args = argparse.Namespace(log_interval=1, dry_run=False)
optimizer = ported.optim.Adadelta(net.parameters(), lr=1.0)
scheduler = ported.StepLR(optimizer, step_size=1, gamma=0.7)
for epoch in (1, 2):
    ported.train(args, net, cr.device("cpu"), loader, optimizer, epoch)
    scheduler.step()

# %%
# The same steps in both frameworks
# ---------------------------------
# Start both nets from the same weights again and train them on the same batches, recording every
# loss. The curves track each other but are not identical: dropout draws its masks from each
# framework's own random generator (chainrule's is NumPy's PCG64, so seeded streams differ from
# torch's), and the float32 sums are evaluated in a different order. With dropout off
# (``eval()``), the first step's gradients agree up to float32 rounding.

cr.manual_seed(1)
net = ported.Net()
torch_net.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in net.state_dict().items()})
grads = []
for model, framework in ((net, cr), (torch_net, torch)):
    model.eval()
    batch = images if framework is cr else torch.from_numpy(images.numpy())
    target = labels if framework is cr else torch.from_numpy(labels.numpy())
    loss = framework.nn.functional.nll_loss(model(batch), target)
    loss.backward()
    grads.append(model.conv1.weight.grad.numpy().copy())
    model.zero_grad()
print(f"conv1.weight gradient, largest relative difference "
      f"{np.abs(grads[0] - grads[1]).max() / np.abs(grads[1]).max():.2e}")

curves = {}
for name, model, framework in (("chainrule", net, cr), ("torch", torch_net, torch)):
    framework.manual_seed(1)
    model.train()
    opt = framework.optim.Adadelta(model.parameters(), lr=1.0)
    losses = []
    for epoch in range(2):
        for xb, yb in loader:
            if framework is torch:
                xb, yb = torch.from_numpy(xb.numpy()), torch.from_numpy(yb.numpy())
            opt.zero_grad()
            loss = framework.nn.functional.nll_loss(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    curves[name] = losses
    print(f"{name:9s} losses: " + " ".join(f"{v:.3f}" for v in losses))

fig, ax = plt.subplots(figsize=(6, 4))
for name, losses in curves.items():
    ax.plot(range(1, len(losses) + 1), losses, "o-", label=name)
ax.set_xlabel("step (batches of 64)")
ax.set_ylabel("training loss (nll)")
ax.set_title("pytorch/examples mnist/main.py, same start, same batches")
ax.legend()

# %%
# What to expect
# --------------
# - Names, signatures, defaults, dtypes, shapes and exception types follow torch 2.13; a
#   difference there is a bug, and worth reporting.
# - A few differences are deliberate: random streams (NumPy's generator), second derivatives
#   through fused kernels such as ``conv2d`` and the recurrent layers, stricter checks of optimizer
#   options. They are listed in the README's section
#   `Where chainrule differs from PyTorch <../overview.html#where-chainrule-differs-from-pytorch>`_.
# - Speed: chainrule runs on NumPy (CuPy on a GPU). On the CPU an MLP step takes about the time
#   torch's does, a convolutional net's 2-3 times as long (:doc:`../performance` has the figures).
# - What the ported programs needed is recorded in ``examples/ported/README.md``: most ran
#   unchanged, a few found gaps that were then filled (``torch.LongTensor``,
#   ``torch.backends.cudnn``), and two still stop at one (pickling a whole module with
#   ``torch.save(model)``, sparse tensors).
#
# Reporting a gap
# ---------------
# When your script stops at an ``AttributeError`` on a torch name, check first whether chainrule
# has it: ``python -m chainrule.coverage`` lists, per torch namespace, the names chainrule has and
# those it lacks (the full table is the :doc:`API coverage page <../api-coverage>`).

import chainrule.coverage  # noqa: E402

rows = chainrule.coverage.report(["torch.Tensor"])
print(chainrule.coverage.format_text(rows).splitlines()[0])
print("missing, for example:", ", ".join(n for n in rows[0].missing if n.startswith("to_sparse")))

# %%
# Then report it with a reproduction of three lines or so that runs the same call in both
# frameworks from the same NumPy input, and says what torch gives and what chainrule does:
#
# .. code-block:: python
#
#    import numpy as np, torch, chainrule as cr
#    x = np.eye(3, dtype=np.float32)
#    print(torch.from_numpy(x).to_sparse())   # torch: a sparse COO tensor
#    print(cr.from_numpy(x).to_sparse())      # chainrule: AttributeError
#
# Run here, against the chainrule this page was built with:

x = np.eye(3, dtype=np.float32)
print("torch:    ", type(torch.from_numpy(x).to_sparse()).__name__, torch.from_numpy(x).to_sparse().layout)
try:
    print("chainrule:", cr.from_numpy(x).to_sparse())
except AttributeError as e:
    print("chainrule: AttributeError:", e)

# %%
# For a wrong value rather than a missing name, the same shape of report works: build both from
# the same array, print both results (and both gradients, ``x.grad``, after ``backward()``), and
# name the torch version. The test suite compares chainrule with torch in exactly this way
# (``tests/helpers.py: compare``), so a good reproduction becomes a regression test almost as is.
