"""The computation graph behind a tensor, as Graphviz DOT and as SVG/PNG/PDF pictures (drawn by
Graphviz's ``dot`` program when it is installed, else by the built-in layered layout in layout.py).

Forward values are snapshotted when the graph is built (backward frees the saved arrays);
gradients are read when the picture is drawn, so a graph built before ``backward()`` shows them.
"""
import os
import re
import shutil
import subprocess
import warnings
import weakref
from contextlib import contextmanager

import numpy as np

from ..autograd.node import Node
from .layout import Box, Drawing, layout, save_matplotlib, to_svg

SMALL = 16  # tensors with at most this many elements show their values
MAX_DRAWN = 1500  # boxes in a picture; more are collapsed into modules or refused
MAX_RASTER = 400  # boxes in a PNG/PDF drawn by matplotlib (slow and unreadable beyond; SVG scales)
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
    return node.op_name()


def rule_text(node):
    """The op's backward rule in slide notation, from its docstring's first paragraph
    ('out = a * b;  da = g * b,  db = g * a') without the remarks in parentheses."""
    doc = (node.op.__doc__ or "").strip().split("\n\n", 1)[0]  # the first paragraph: a rule may wrap
    first = " ".join(line.strip() for line in doc.splitlines())
    rule = first.split(";", 1)[1] if ";" in first else first
    rule = re.split(r"\.\s+(?=[A-Z])", rule, 1)[0]  # up to the end of the rule's sentence
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
        self.param_name = {}  # id(parameter) -> its dotted name in the model ('0.weight')
        self.kind = {}      # module path -> class name


@contextmanager
def record_modules(model):
    """Remember which submodule of ``model`` made each graph node during the ``with`` block::

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
        for name, p in module.named_parameters(recurse=False):
            rec.of_param[id(p)] = path
            rec.param_name[id(p)] = f"{path}.{name}" if path else name
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
        given = set((names or {}).keys())
        for leaf in self.leaves if modules is not None else ():  # parameters by their name in the model
            full = modules.param_name.get(id(leaf))
            if full and self.names[id(leaf)] not in given and self.names[id(leaf)].startswith("leaf"):
                self.names[id(leaf)] = full
        self.named = {id(t._node) if t._node is not None else id(t): t for t in (names or {}).values()}
        self.node_grads = node_grads if node_grads is not None else {}
        self.values = self._snapshot_values()
        self.modules = modules
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

    def drawing(self, grads=True, group=None):
        """What every renderer draws (a ``layout.Drawing``): boxes for leaves, ops, collapsed modules and
        scalar constants with their text lines, edges in data-flow order, and module clusters (with
        ``modules`` but no ``depth``). ``grads=False`` leaves the gradients out."""
        group = self.group if group is None else group
        boxes, box, edges = [], {}, []  # box: id(node or leaf) -> the box id it is drawn as
        groups = {}
        for key, path in group.items():
            groups.setdefault(path, []).append(key)
        for i, (path, members) in enumerate(groups.items()):
            for key in members:
                box[key] = f"m{i}"
            boxes.append(Box(f"m{i}", "module", [path, f"({self.kinds.get(path, 'module')}, {len(members)} nodes)"],
                             name=path))
        home = {}  # box id -> innermost module (clusters, only without collapsing)
        for i, leaf in enumerate(self.leaves):
            if id(leaf) in box:
                continue
            box[id(leaf)] = f"l{i}"
            lines = [self.names[id(leaf)], _meta(leaf._data.shape, leaf._data.dtype), describe(leaf._data)]
            if grads and leaf.grad is not None:
                lines.append("grad " + describe(leaf.grad._data))
            boxes.append(Box(f"l{i}", "leaf", lines, name=self.names[id(leaf)]))
            if self.modules is not None and not group and self.modules.of_param.get(id(leaf)):
                home[f"l{i}"] = self.modules.of_param[id(leaf)]
        for i, node in enumerate(self.order):
            if id(node) in box:
                continue
            box[id(node)] = f"n{i}"
            lines = [f"{self.names[id(node)]} = {op_name(node)}", _meta(node.shape, node.dtype)]
            if id(node) in self.values:
                lines.append(self.values[id(node)])
            grad = self._grad_of(id(node)) if grads else None
            if grad is not None:
                lines.append("grad " + grad)
            boxes.append(Box(f"n{i}", "op", lines, name=self.names[id(node)]))
            if self.modules is not None and not group and node in self.modules.of_node:
                home[f"n{i}"] = self.modules.of_node[node]
        seen, consts = set(), 0
        for node in self.order:
            head = box[id(node)]
            for p in node.parents:
                if p is None:  # a constant input (a number, or a tensor that needs no gradient)
                    continue
                tail = box[id(p)]
                if tail != head and (tail, head) not in seen:
                    seen.add((tail, head))
                    edges.append((tail, head))
            for p, a in zip(node.parents, node.args or ()):
                if p is None and hasattr(a, "shape") and np.size(a) == 1 and id(node) not in group:
                    boxes.append(Box(f"c{consts}", "const", [describe(a)]))
                    edges.append((f"c{consts}", head))
                    consts += 1
        clusters, rank = {}, {path: i for i, path in enumerate(self.kinds)}  # in the model's module order
        for bid, path in sorted(home.items(), key=lambda item: rank.get(item[1], len(rank))):
            clusters.setdefault(f"{path} ({self.kinds.get(path, 'module')})", []).append(bid)
        d = Drawing(boxes, edges, clusters)
        d.box_of = box
        return d

    def to_dot(self, drawing=None):
        """The graph as Graphviz DOT text."""
        d = self.drawing() if drawing is None else drawing
        lines = ["digraph chainrule {", '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];']
        attrs = {"module": 'shape=box3d, style=filled, fillcolor="#e8e0f8"',
                 "leaf": 'shape=ellipse, style=filled, fillcolor="#dff0d8"',
                 "op": 'shape=box, style="rounded,filled", fillcolor="#d9e8fb"', "const": "shape=plaintext"}
        for b in d.boxes:
            lines.append(f'  {b.id} [{attrs[b.kind]}, label="{_label(b.lines)}"];')
        for i, (title, members) in enumerate(d.clusters.items()):
            lines.append(f'  subgraph cluster_{i} {{ label="{_esc(title)}"; style="rounded,dashed"; '
                         f'color="#9a8ac0"; {" ".join(m + ";" for m in members)} }}')
        lines += [f"  {tail} -> {head};" for tail, head in d.edges]
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _drawable(self, grads=True, limit=None, hint=""):
        """The drawing, if it is small enough to read as a picture; a too-big graph recorded with
        ``modules`` is collapsed to the deepest module level that fits (with a warning)."""
        limit = MAX_DRAWN if limit is None else limit
        d = self.drawing(grads)
        if len(d.boxes) <= limit:
            return d
        if self.modules is not None and not self.group:
            deepest = max((p.count(".") + 1 for p in self.modules.kind if p), default=0)
            for depth in range(deepest, 0, -1):
                small = self.drawing(grads, group=self._groups(self.modules, depth))
                if len(small.boxes) <= limit:
                    warnings.warn(f"viz.graph: {len(d.boxes)} boxes are too many to draw; modules collapsed "
                                  f"to depth={depth} ({len(small.boxes)} boxes)", stacklevel=3)
                    return small
        raise ValueError(
            f"viz.graph: {len(d.boxes)} boxes are too many to draw readably (at most {limit}{hint}): collapse "
            f"modules into boxes (with cr.viz.record_modules(model) as mods: out = model(x); then "
            f"cr.viz.graph(out, modules=mods, depth=1)), draw a smaller part of the graph, or save as .dot")

    def to_svg(self, renderer=None):
        """The picture as SVG text: Graphviz's when ``dot`` is there, else the built-in layout."""
        d = self._drawable()
        exe = _dot_program(renderer)
        if exe is not None:
            return _run_dot(exe, "svg", self.to_dot(d)).decode()
        return to_svg(layout(d))

    def save(self, path, renderer=None):
        """Write ``path``: .dot text, or a .svg/.png/.pdf picture, drawn by Graphviz's ``dot`` when it is
        installed and by the built-in layered layout (SVG, or matplotlib for PNG/PDF) otherwise.
        ``renderer``: None (that choice), "graphviz" or "python"; ``cr.viz.set_renderer`` sets the default."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        if ext not in (".dot", ".gv", ".svg", ".png", ".pdf"):
            raise ValueError(f"viz.graph.save: unsupported file type '{ext}' (use .dot, .svg, .png or .pdf)")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"viz.graph.save: the directory '{folder}' does not exist")
        if ext in (".dot", ".gv"):
            with open(path, "w") as f:
                f.write(self.to_dot())
            return path
        exe = _dot_program(renderer)
        raster = exe is None and ext != ".svg"
        d = self._drawable(limit=MAX_RASTER if raster else None,
                           hint=" in a PNG/PDF without Graphviz; an .svg takes more" if raster else "")
        if exe is not None:
            with open(path, "wb") as f:
                f.write(_run_dot(exe, ext[1:], self.to_dot(d)))
        elif ext == ".svg":
            with open(path, "w") as f:
                f.write(to_svg(layout(d)))
        else:
            save_matplotlib(layout(d), path)
        return path

    def __repr__(self):
        return f"<chainrule.viz.Graph: {len(self.order)} ops, {len(self.leaves)} leaves>"

    def _repr_svg_(self):  # notebooks draw the graph inline, with or without Graphviz
        try:
            return self.to_svg()
        except (ValueError, RuntimeError) as e:  # too big: the text repr says so
            warnings.warn(str(e), stacklevel=2)
            return None


RENDERER = None  # None: Graphviz when its dot program is on PATH, else the built-in layout; "graphviz"; "python"


def set_renderer(name):
    """Choose how pictures are drawn from now on: None (Graphviz when its ``dot`` program is installed,
    else the built-in layered layout), "graphviz" (only Graphviz; an error without it) or "python"."""
    global RENDERER
    if name not in (None, "graphviz", "python"):
        raise ValueError(f"viz.set_renderer: expected None, 'graphviz' or 'python', got {name!r}")
    RENDERER = name


def _dot_program(renderer=None):
    """The ``dot`` executable to draw with, or None for the built-in layout."""
    choice = renderer or RENDERER
    if choice not in (None, "graphviz", "python"):
        raise ValueError(f"viz.graph: renderer must be None, 'graphviz' or 'python', got {choice!r}")
    if choice == "python":
        return None
    exe = shutil.which("dot")
    if exe is None and choice == "graphviz":
        raise RuntimeError(INSTALL_HINT.format(ext="pictures"))
    return exe


def _run_dot(exe, fmt, dot_text):
    result = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"viz.graph.save: dot failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _meta(shape, dtype):
    return f"{tuple(shape)} {np.dtype(dtype).name}"


def _esc(s):
    return str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _label(parts):
    return "\\n".join(_esc(p) for p in parts)


def graph(output, names=None, modules=None, depth=None):
    """The computation graph behind ``output``.

    names
        ``{'x': x, ...}``: names for leaves or intermediates (tensors' own ``.name`` too).
    modules
        a ``record_modules`` record; with ``depth`` (e.g. 1), every module at that depth is drawn
        as one box, so a ResNet shows as its blocks instead of thousands of ops.
    """
    return Graph(output, names, modules, depth)
