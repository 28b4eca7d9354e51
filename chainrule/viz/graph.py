"""The computation graph behind a tensor, as Graphviz DOT (and SVG/PNG through the ``dot`` program).

Forward values are snapshotted when the graph is built (backward frees the saved arrays);
gradients are read when the picture is drawn, so a graph built before ``backward()`` shows them.
"""
import os
import shutil
import subprocess
import weakref
from contextlib import contextmanager

import numpy as np

from ..autograd.node import Node

SMALL = 16  # tensors with at most this many elements show their values
INSTALL_HINT = ("the Graphviz 'dot' program is needed to render {ext} files but was not found on PATH; "
                "install Graphviz (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz, "
                "conda: conda install graphviz) or save as .dot")


def _short(v):
    """A number as the slides write it: integers without '.0', others to 4 significant digits."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.4g}"


def describe(array, inline=False):
    """Text for an array: its value when small (one number when ``inline``), else its shape and
    min/mean/max."""
    a = np.asarray(array.get() if hasattr(array, "get") else array)
    if a.size == 1:
        return _short(a.reshape(()).item())
    if inline:
        a = a.astype(np.float64)
        return f"{tuple(a.shape)} min {_short(a.min())} mean {_short(a.mean())} max {_short(a.max())}"
    if a.size <= SMALL:
        return np.array2string(a, precision=4, separator=", ", floatmode="maxprec")
    a = a.astype(np.float64)
    return f"min {_short(a.min())} mean {_short(a.mean())} max {_short(a.max())}"


def topo_order(output_node):
    """Nodes reachable from ``output_node`` in forward order (iterative post-order, inputs left to
    right), and the leaf tensors in the order they are first met."""
    order, leaves, seen = [], {}, {output_node}
    stack = [(output_node, iter(output_node.parents))]
    while stack:
        node, it = stack[-1]
        for p in it:
            if type(p) is Node:
                if p not in seen:
                    seen.add(p)
                    stack.append((p, iter(p.parents)))
                    break
            elif p is not None:
                leaves.setdefault(id(p), p)
        else:
            stack.pop()
            order.append(node)
    return order, list(leaves.values())


def op_name(node):
    name = node.name()
    return name[:-len("Backward")] if name.endswith("Backward") else name


def rule_text(node):
    """The op's backward rule in slide notation, from its docstring's first line
    ('out = a * b;  da = g * b,  db = g * a') without the remarks in parentheses."""
    doc = (node.op.__doc__ or "").strip().splitlines()
    first = doc[0] if doc else ""
    rule = first.split(";", 1)[1] if ";" in first else first
    return rule.split("  (", 1)[0].strip()


def input_rules(node):
    """Per input, its part of the rule ('da = g b^T' and 'db = a^T g'), or the whole rule."""
    rule = rule_text(node)
    parts = [p.strip() for p in rule.split(",  ")]
    return parts if len(parts) == len(node.parents) else [rule] * len(node.parents)


def default_names(output, names, order, leaves, auto=("q", "r", "s", "t", "u", "v", "a", "b", "c", "d", "e",
                                                      "h", "k", "m", "n", "p")):
    """node/leaf id -> display name: the given names, then 'f' for the output, then q, r, s, ...
    for intermediates in forward order, leaf1, leaf2, ... for unnamed leaves."""
    by_id = {}
    for name, t in (names or {}).items():
        if not hasattr(t, "_node"):
            raise TypeError(f"viz: names must map a name to a Tensor, got {name!r}: {type(t).__name__}")
        by_id[id(t._node) if t._node is not None else id(t)] = name
    for t in [output, *leaves]:
        label = getattr(t, "name", None)
        key = id(t._node) if t._node is not None else id(t)
        if isinstance(label, str) and key not in by_id:
            by_id[key] = label
    taken = set(by_id.values())
    if output._node is not None and id(output._node) not in by_id and "f" not in taken:
        by_id[id(output._node)] = "f"
        taken.add("f")
    fresh = (n for n in (*auto, *(f"q{i}" for i in range(1, 10 ** 6))) if n not in taken)
    for node in order:
        if id(node) not in by_id:
            by_id[id(node)] = next(fresh)
    leaf_no = 0
    for leaf in leaves:
        if id(leaf) not in by_id:
            leaf_no += 1
            by_id[id(leaf)] = f"leaf{leaf_no}"
    return by_id


class ModuleRecord:
    """Which module produced each node (filled by ``record_modules``): node -> dotted module path."""

    def __init__(self):
        self.of_node = weakref.WeakKeyDictionary()
        self.of_param = {}  # id(parameter) -> module path
        self.kind = {}      # module path -> class name


@contextmanager
def record_modules(model):
    """Remember which submodule of ``model`` made each graph node during the ``with`` block.

        with cr.viz.record_modules(model) as mods:
            out = model(x)
        cr.viz.graph(out, modules=mods, depth=1).save("resnet.svg")

    Each submodule's ``forward`` is wrapped for the block only (nothing changes outside it): after
    it returns, the nodes between its inputs and its outputs not yet claimed by an inner module are
    assigned to it.
    """
    rec = ModuleRecord()
    wrapped = []
    for path, module in model.named_modules():
        rec.kind[path] = type(module).__name__
        for _, p in module.named_parameters(recurse=False):
            rec.of_param[id(p)] = path
        if path and "forward" not in module.__dict__:  # the root is the whole graph: no group
            object.__setattr__(module, "forward", _claiming(module.forward, path, rec))
            wrapped.append(module)
    try:
        yield rec
    finally:
        for module in wrapped:
            del module.__dict__["forward"]


def _claiming(forward, path, rec):
    def run(*args, **kwargs):
        out = forward(*args, **kwargs)
        stop = {id(a._node) for a in (*args, *kwargs.values()) if getattr(a, "_node", None) is not None}
        outs = out if isinstance(out, (tuple, list)) else (out,)
        stack = [o._node for o in outs if getattr(o, "_node", None) is not None and id(o._node) not in stop]
        seen = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            rec.of_node.setdefault(node, path)
            stack.extend(p for p in node.parents if type(p) is Node and id(p) not in stop)
        return out
    return run


class Graph:
    """The graph behind ``output``; see ``graph``."""

    def __init__(self, output, names=None, modules=None, depth=None, node_grads=None):
        if output._node is None:
            raise ValueError("viz.graph: the tensor has no graph behind it (it is a leaf, or was computed "
                             "without requires_grad / under no_grad)")
        self.output = output
        self.order, self.leaves = topo_order(output._node)
        self.names = default_names(output, names, self.order, self.leaves)
        self.named = {id(t._node) if t._node is not None else id(t): t for t in (names or {}).values()}
        self.node_grads = node_grads if node_grads is not None else {}
        self.values = self._snapshot_values()
        self.group = self._groups(modules, depth)
        self.kinds = modules.kind if modules is not None else {}

    def _snapshot_values(self):
        """id(node) -> forward value, from wherever the graph still holds it: the output, the
        tensors named by the caller, an op's saved output, or a consumer's saved inputs."""
        values = {id(self.output._node): self.output._data}
        for key, t in self.named.items():
            values[key] = t._data
        for node in self.order:
            if node.out is not None:
                values.setdefault(id(node), node.out)
            for p, a in zip(node.parents, node.args or ()):
                if type(p) is Node and hasattr(a, "shape"):
                    values.setdefault(id(p), a)
        return {k: describe(v) for k, v in values.items()}

    def _groups(self, modules, depth):
        """id(node or leaf) -> module path it collapses into (only with ``modules`` and ``depth``)."""
        if modules is None or depth is None:
            return {}
        cut = lambda path: ".".join(path.split(".")[:depth])
        group = {id(n): cut(modules.of_node[n]) for n in self.order if n in modules.of_node}
        for leaf in self.leaves:
            if id(leaf) in modules.of_param and modules.of_param[id(leaf)]:
                group[id(leaf)] = cut(modules.of_param[id(leaf)])
        return group

    def _grad_of(self, key):
        t = self.named.get(key)
        if t is not None and t.grad is not None:
            return describe(t.grad._data)
        g = self.node_grads.get(key)
        return None if g is None else describe(g)

    def to_dot(self):
        lines = ["digraph chainrule {", '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];']
        box = {}  # id(node or leaf) -> DOT id it is drawn as (its own, or its collapsed module's)
        groups = {}
        for key, path in self.group.items():
            groups.setdefault(path, []).append(key)
        for i, (path, members) in enumerate(groups.items()):
            gid = f"m{i}"
            for key in members:
                box[key] = gid
            kind = self.kinds.get(path, "module")
            lines.append(f'  {gid} [shape=box3d, style=filled, fillcolor="#e8e0f8", '
                         f'label="{_esc(path)}\\n({_esc(kind)}, {len(members)} nodes)"];')
        for i, leaf in enumerate(self.leaves):
            if id(leaf) in box:
                continue
            box[id(leaf)] = f"l{i}"
            label = [self.names[id(leaf)], _meta(leaf._data.shape, leaf._data.dtype), describe(leaf._data)]
            if leaf.grad is not None:
                label.append("grad " + describe(leaf.grad._data))
            lines.append(f'  l{i} [shape=ellipse, style=filled, fillcolor="#dff0d8", label="{_label(label)}"];')
        for i, node in enumerate(self.order):
            if id(node) in box:
                continue
            box[id(node)] = f"n{i}"
            label = [f"{self.names[id(node)]} = {op_name(node)}", _meta(node.shape, node.dtype)]
            if id(node) in self.values:
                label.append(self.values[id(node)])
            grad = self._grad_of(id(node))
            if grad is not None:
                label.append("grad " + grad)
            lines.append(f'  n{i} [shape=box, style="rounded,filled", fillcolor="#d9e8fb", label="{_label(label)}"];')
        edges = set()
        consts = 0
        for node in self.order:
            head = box[id(node)]
            for p in node.parents:
                if p is None:  # a constant input (a number, or a tensor that needs no gradient)
                    continue
                tail = box[id(p)]
                if tail != head and (tail, head) not in edges:
                    edges.add((tail, head))
                    lines.append(f"  {tail} -> {head};")
            for p, a in zip(node.parents, node.args or ()):
                if p is None and hasattr(a, "shape") and np.size(a) == 1 and id(node) not in self.group:
                    lines.append(f'  c{consts} [shape=plaintext, label="{_esc(describe(a))}"];')
                    lines.append(f"  c{consts} -> {head};")
                    consts += 1
        lines.append("}")
        return "\n".join(lines) + "\n"

    def save(self, path):
        """Write ``path``: .dot always; .svg/.png/.pdf through Graphviz's ``dot`` program."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        dot_text = self.to_dot()
        if ext in (".dot", ".gv"):
            with open(path, "w") as f:
                f.write(dot_text)
            return path
        if ext not in (".svg", ".png", ".pdf"):
            raise ValueError(f"viz.graph.save: unsupported file type '{ext}' (use .dot, .svg, .png or .pdf)")
        exe = shutil.which("dot")
        if exe is None:
            raise RuntimeError(INSTALL_HINT.format(ext=ext))
        result = subprocess.run([exe, f"-T{ext[1:]}", "-o", path], input=dot_text.encode(),
                                capture_output=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"viz.graph.save: dot failed: {result.stderr.decode(errors='replace').strip()}")
        return path

    def _repr_svg_(self):  # notebooks draw the graph inline when Graphviz is there
        exe = shutil.which("dot")
        if exe is None:
            return None
        return subprocess.run([exe, "-Tsvg"], input=self.to_dot().encode(), capture_output=True).stdout.decode()


def _meta(shape, dtype):
    return f"{tuple(shape)} {np.dtype(dtype).name}"


def _esc(s):
    return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _label(parts):
    return "\\n".join(_esc(p) for p in parts)


def graph(output, names=None, modules=None, depth=None):
    """The computation graph behind ``output``.

    names:   {'x': x, ...} names for leaves or intermediates (tensors' own ``.name`` too).
    modules: a ``record_modules`` record; with ``depth`` (e.g. 1), every module at that depth is
             drawn as one box, so a ResNet shows as its blocks instead of thousands of ops.
    """
    return Graph(output, names, modules, depth)
