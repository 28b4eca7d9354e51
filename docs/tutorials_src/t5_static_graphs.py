"""
5. Static vs dynamic graphs: cr.compile, the optimiser's fusions, saved graphs, ONNX
====================================================================================

So far every forward pass recorded a fresh graph as it ran (a *dynamic* graph, "define by run",
as in PyTorch): each op pays Python dispatch and a Tensor, and the graph lives for one backward.
The other classic style is the *static* graph (TensorFlow 1, Theano, Caffe): record the program
once, let the framework optimise it, then run it many times, even without the code that built it.

chainrule has both halves, with PyTorch's names:

- ``cr.compile(step)`` records a whole training step (forward, backward, optimizer update) on its
  first two calls (the second checks the first) and replays an optimised plan of raw NumPy kernels
  afterwards;
- ``cr.viz.graph(compiled, passes=False)`` and ``cr.viz.graph(compiled)`` draw that plan before
  and after the optimiser's passes, so you can see what it removed and fused;
- ``cr.jit.trace(model, inputs)`` records an inference graph, ``.save(folder)`` writes it (JSON and
  safetensors, no pickle) and ``cr.jit.load(folder)`` runs it in a process that never imports the
  model's code;
- ``cr.onnx.export`` writes the same traced graph as an ONNX file for other runtimes.
"""

import os
import subprocess
import sys
import tempfile
import re
import time

import numpy as np

import chainrule as cr

cr.viz.set_renderer("python")   # the built-in layout: the same pictures with or without Graphviz

# %%
# A training step, eager and compiled
# -----------------------------------
# A small MLP on random data, trained with SGD. ``step`` is ordinary eager code; ``cr.compile``
# wraps it (``@cr.compile`` works too). The first two calls run ``step`` eagerly while recording
# every primitive, the backward walk and the optimizer's update (the second recording must freeze
# the same constants as the first); every later call with the same shapes and dtypes replays the
# recorded plan.


def make(seed=0):
    cr.manual_seed(seed)
    model = cr.nn.Sequential(cr.nn.Linear(64, 128), cr.nn.ReLU(), cr.nn.Linear(128, 10))
    return model, cr.optim.SGD(model.parameters(), lr=0.05)


def training_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        d = model(x) - y
        loss = (d * d).mean()
        loss.backward()
        opt.step()
        return loss
    return step


rng = np.random.default_rng(0)
x = cr.from_numpy(rng.standard_normal((32, 64)).astype(np.float32))
y = cr.from_numpy(rng.standard_normal((32, 10)).astype(np.float32))

eager_model, eager_opt = make()
eager_step = training_step(eager_model, eager_opt)
compiled_model, compiled_opt = make()
compiled_step = cr.compile(training_step(compiled_model, compiled_opt))

times = {}
for name, step in (("eager", eager_step), ("compiled", compiled_step)):
    start = time.perf_counter()
    for _ in range(300):
        loss = step(x, y)
    times[name] = time.perf_counter() - start
    print(f"{name:9s} 300 steps in {times[name]:.3f} s, final loss {loss.item():.5f}")

same = all(np.allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
           for a, b in zip(eager_model.parameters(), compiled_model.parameters()))
print("same weights after 300 steps:", same)
print("stats:", {k: v for k, v in compiled_step.stats.items() if k in ("traces", "replays", "graph_breaks")})

# %%
# The recorded program is one generated Python function: a line or two per step, the values as
# its local variables ``v0, v1, ...``; ops, parameters and constants are its globals ``k0, k1, ...``.
# Here are its first lines and the loss's fused run: the passes turned ``d = model(x) - y`` and
# ``d * d`` into one generated kernel ``kN(n, inputs..., outputs...)`` (a numba loop over the
# elements) that writes into the buffer of an operand that dies there (``v13 = v11 if ...``),
# and the first Linear's bias and ReLU into one in-place pass; ``v11 = v1 = None`` frees values
# after their last use.

plan = compiled_step.plans()[0]
lines = plan.source.splitlines()
print("\n".join(lines[:12]))
kernel_call = re.compile(r"\s+k\d+\(\d+, ")  # a generated kernel (or, without numba, a ufunc with out=)
first = next(i for i, ln in enumerate(lines) if kernel_call.match(ln) or "out=" in ln)
print("    ...")
print("\n".join(lines[first - 2:first + 2]))
print(f"    ... {len(lines)} lines in all")

# %%
# What the optimiser did: the graph before the passes
# ---------------------------------------------------
# ``passes=False`` draws the step exactly as it was recorded: green ellipses are the inputs and
# the parameters (by their state-dict names), blue boxes are the forward ops, their backward
# rules, the gradient accumulation into ``.grad`` and the optimizer's calls, each with the shape
# and dtype of what it computes.

before = cr.viz.graph(compiled_step, passes=False)
print(before)
before

# %%
# ... and after them
# ------------------
# The passes (``dce``, ``fuse``, ``release``; ``cr.compile(step, passes=(...))`` turns them on one
# by one) removed what nothing reads and fused the loss's elementwise run ``Sub`` then ``Mul``
# into one purple box: one NumPy ``out=`` sequence writing into the dead operand's buffer, so the
# step allocates one array fewer.

after = cr.viz.graph(compiled_step)
print(after)
print("fused boxes:", after.fused)
after

# %%
# Saving a graph and running it without the code
# ----------------------------------------------
# ``cr.jit.trace`` records an inference graph (here of the trained model, in eval mode).
# ``save`` writes ``graph.json`` (the ops, by their names in chainrule's op table) and
# ``weights.safetensors``. A fresh Python process that imports only ``chainrule`` (not this script,
# where the model class lives) loads and runs it; nothing from the files is executed.

model = compiled_model.eval()
traced = cr.jit.trace(model, (x,))
print(traced.graph)
cr.viz.graph(traced)

# %%

folder = os.path.join(tempfile.mkdtemp(), "mlp")
traced.save(folder)
print(sorted(os.listdir(folder)))
np.save(os.path.join(folder, "x.npy"), x.numpy())
runner = ("import sys, numpy as np, chainrule as cr\n"
          "m = cr.jit.load(sys.argv[1])\n"
          "out = m(np.load(sys.argv[1] + '/x.npy'))\n"
          "print(tuple(out.shape), float(out.sum()))\n")
result = subprocess.run([sys.executable, "-c", runner, folder], capture_output=True, text=True, check=True)
print("other process:", result.stdout.strip())
print("this process: ", tuple(model(x).shape), float(model(x).sum()))

# %%
# ONNX export
# -----------
# The same trace, written as an ONNX file with a dynamic batch axis. When onnxruntime is
# installed we run the file there and compare.

try:
    import onnx
except ImportError:  # the optional dependency: pip install 'chainrule[onnx]'
    onnx = None
    print("onnx is not installed: skipping the export")

if onnx is not None:
    path = os.path.join(folder, "mlp.onnx")
    cr.onnx.export(model, (x,), path, input_names=["x"], output_names=["logits"],
                   dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    print("ONNX nodes:", [n.op_type for n in proto.graph.node])
    try:
        import onnxruntime
    except ImportError:
        onnxruntime = None
    if onnxruntime is not None:
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        (logits,) = session.run(None, {"x": x.numpy()[:5]})
        print("onnxruntime matches chainrule:", np.allclose(logits, model(x[:5]).detach().numpy(), atol=1e-5))

# %%
# When to use which
# -----------------
# Dynamic graphs are what you debug with: any Python control flow, ``print`` anywhere, a fresh
# graph each step. Compile a step once its shapes are fixed and it is correct: the replay skips
# the Tensor objects and the dispatch, and the pictures above show what the optimiser changed. A
# value read back into Python inside the step (``.item()``, ``if loss > 1``) ends the graph there
# (a *graph break*, counted in ``stats``); ``cr.compile(step, fullgraph=True)`` turns it into an
# error instead.
