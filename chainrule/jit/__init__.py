"""``cr.jit``: trace a module or function once into a graph of primitive ops, replay it on raw
arrays, save it (graph JSON + safetensors weights, no pickle) and load it without the model's code.

    traced = cr.jit.trace(model.eval(), (x,))     # records every op of one forward pass
    y = traced(x)                                  # replays the IR: no Tensors, graph or dispatch inside
    traced.save("model.crjit")                     # a folder: graph.json + weights.safetensors
    same = cr.jit.load("model.crjit")              # needs only chainrule

A trace is for one signature: calling it with other shapes or dtypes raises, naming both. Python
control flow is frozen at the example's path (as torch.jit.trace). A value computed outside the op
table (an arg-max or sort order read into an array, ``.item()``, NumPy) would be frozen as
a constant: ``trace`` replays the graph on other values of the signature and raises if it no longer
follows the eager run. See ``jit/ir.py`` for the IR.
"""
import json
import os
import tempfile
import warnings

import numpy as np
import safetensors.numpy

from ..tensor import Tensor
from .ir import Graph, Plan, TraceError, trace_graph, unflatten, dumps, verify, flat_out

__all__ = ["trace", "save", "load", "TracedModule", "Graph", "TraceError"]

GRAPH_FILE = "graph.json"
WEIGHTS_FILE = "weights.safetensors"


def _as_tuple(example_inputs):
    if isinstance(example_inputs, Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, (tuple, list)):
        return tuple(example_inputs)
    raise TypeError(f"jit.trace: example_inputs must be a Tensor or a tuple of Tensors, got "
                    f"{type(example_inputs).__name__}")


def trace(func, example_inputs, *, check_trace=True):
    """torch.jit.trace: run ``func`` (a Module or a function of Tensors) once on ``example_inputs``
    with no grad, recording every primitive op, and return a ``TracedModule`` replaying them.
    ``check_trace``: replay the graph on the example inputs and on other values of the same
    signature (``ir.verify``) and compare with the eager run (raises ``TraceError``)."""
    inputs = _as_tuple(example_inputs)
    from ..nn import Module  # a library above this package's import of tensor
    module = func if isinstance(func, Module) else getattr(func, "__self__", None)
    module = module if isinstance(module, Module) else None
    if module is not None and module.training:
        warnings.warn("jit.trace: the module is in training mode; its dropout masks and batch statistics are "
                      "recorded as they ran. Call .eval() first to trace for inference.", stacklevel=2)
    graph, out = trace_graph(func, inputs, module)
    traced = TracedModule(graph, name=type(func).__name__ if module is not None else getattr(func, "__name__", "fn"))
    if check_trace:  # the graph must reproduce the eager run on these inputs and on other values
        for i, (a, b) in enumerate(zip(flat_out(out), traced.run_arrays(*[x._data for x in inputs]))):
            if a.shape != b.shape or not np.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True):
                raise TraceError(f"jit.trace: replaying the graph gave a different output {i} than the eager run "
                                 "(an op outside the op table, or an in-place write the tracer did not see)")
        if module is None or not module.training:  # dropout would draw other masks
            verify(graph, traced._plan, func, inputs)
    return traced


class TracedModule:
    """A traced graph, callable on Tensors (or NumPy arrays) of the traced signature."""

    def __init__(self, graph, name="traced"):
        self.graph = graph
        self.name = name
        self._plan = Plan(graph)

    def __repr__(self):
        return f"TracedModule({self.name}, {len(self.graph.nodes)} ops)\n{self.graph!r}"

    def _check(self, arrays):
        specs = self.graph.input_specs
        if len(arrays) != len(specs):
            raise TypeError(f"{self.name} (traced): expected {len(specs)} input(s), got {len(arrays)}")
        for i, (a, (shape, dtype)) in enumerate(zip(arrays, specs)):
            if not isinstance(a, np.ndarray):
                raise TypeError(f"{self.name} (traced): input {i} must be a Tensor or a NumPy array on the CPU, "
                                f"got {type(a).__name__}")
            if a.shape != shape or str(a.dtype) != dtype:
                raise RuntimeError(f"{self.name} (traced): input {i} was traced with shape {list(shape)} and dtype "
                                   f"{dtype}, got shape {list(a.shape)} and dtype {a.dtype}; trace again for "
                                   "this signature")

    def run_arrays(self, *arrays):
        """Replay on NumPy arrays; returns the flat list of output arrays."""
        self._check(arrays)
        return self._plan.run(arrays)

    def __call__(self, *inputs):
        arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
        outs = self.run_arrays(*arrays)
        return unflatten(self.graph.out_tree, [Tensor._make(o) for o in outs])

    forward = __call__

    def save(self, path):
        """Write ``path/graph.json`` (the IR) and ``path/weights.safetensors`` (its tensors)."""
        path = os.fspath(path)
        os.makedirs(path, exist_ok=True)
        tensors = {k: v if v.flags.c_contiguous else v.copy(order="C") for k, v in self.graph.weights.items()}
        _write(os.path.join(path, WEIGHTS_FILE), safetensors.numpy.save(tensors, metadata={"format": "np"}))
        _write(os.path.join(path, GRAPH_FILE), (json.dumps(json.loads(dumps(self.graph)), indent=1) + "\n").encode())


def _write(target, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target) or ".", prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(m, path):
    """torch.jit.save: ``m.save(path)``."""
    if not isinstance(m, TracedModule):
        raise TypeError(f"jit.save: expected a traced module (cr.jit.trace), got {type(m).__name__}")
    m.save(path)


def load(path):
    """Load what ``TracedModule.save`` wrote. Everything is checked (JSON, weights header, every op
    name and value name) before anything runs; nothing from the files is executed."""
    from ..io import load as load_safetensors  # the library's checked safetensors reader
    path = os.fspath(path)
    gfile, wfile = os.path.join(path, GRAPH_FILE), os.path.join(path, WEIGHTS_FILE)
    for f in (gfile, wfile):
        if not os.path.isfile(f):
            raise FileNotFoundError(f"jit.load: '{f}' does not exist (expected a folder written by TracedModule.save)")
    try:
        with open(gfile, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RuntimeError(f"jit.load: '{gfile}' is truncated or not valid JSON ({e})") from None
    try:
        weights = {k: t._data for k, t in load_safetensors(wfile).items()}
    except Exception as e:
        raise RuntimeError(f"jit.load: '{wfile}' is not a readable safetensors file: {e}") from None
    try:
        graph = Graph.from_json(doc, weights, where=f"jit.load: '{gfile}'")
    except ValueError as e:
        raise RuntimeError(str(e)) from None
    return TracedModule(graph, name=os.path.basename(path.rstrip(os.sep)) or "loaded")
