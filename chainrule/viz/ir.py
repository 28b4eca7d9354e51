"""Pictures of static graphs: a ``cr.jit.trace`` result (its IR) and a ``cr.compile`` plan, before or
after the passes (a fused run of ops is one box listing them), drawn by the same renderers as
autograd graphs (``save``/``to_svg``/``_repr_svg_``, Graphviz or the built-in layout).

The jit package is read by duck typing (viz sits below it in the layering): a traced graph has
``inputs``/``weights``/``nodes``/``outputs``; a compiled plan has ``graph_before``/``steps``/``specs``.
"""
import numpy as np

from .graph import Graph, _meta, graph as _autograd_graph
from .layout import Box, Drawing


def is_static(obj):
    """Whether ``obj`` is something ``ir_graph`` draws."""
    g = getattr(obj, "graph", None)
    return (_is_traced(obj) or _is_traced(g) or _is_plan(obj)
            or (hasattr(obj, "plans") and hasattr(obj, "cache")))


def _is_traced(g):
    return all(hasattr(g, a) for a in ("inputs", "weights", "nodes", "outputs", "specs"))


def _is_plan(p):
    return all(hasattr(p, a) for a in ("graph_before", "steps", "specs", "input_slots"))


def _spec(spec):
    return "" if spec is None else _meta(*spec)


class IRGraph(Graph):
    """A static graph's picture; see ``ir_graph``. Same output API as ``viz.Graph``."""

    def __init__(self, boxes, edges, title):
        self.modules, self.group, self.kinds = None, {}, {}
        self._boxes, self._edges, self.title = boxes, edges, title

    def drawing(self, grads=True, group=None):
        """The ``layout.Drawing`` every renderer draws (fresh boxes each time: layout moves them)."""
        boxes = [Box(b.id, b.kind, b.lines, name=b.name) for b in self._boxes]
        d = Drawing(boxes, list(self._edges), {})
        d.box_of = {b.id: b.id for b in boxes}
        return d

    @property
    def fused(self):
        """The boxes that stand for several fused ops (their text lines)."""
        return [b.lines for b in self._boxes if b.lines[0].startswith("fused")]

    def _repr_html_(self):  # notebooks and sphinx-gallery: the picture inline, scrollable when wide
        svg = self._repr_svg_()
        return None if svg is None else f'<div style="overflow-x:auto">{svg}</div>'

    def __repr__(self):
        ops = sum(b.kind == "op" for b in self._boxes)
        return f"<chainrule.viz.Graph ({self.title}): {ops} ops, {len(self.fused)} fused, " \
               f"{sum(b.kind == 'leaf' for b in self._boxes)} inputs/weights>"


# ---- a traced graph (cr.jit.trace) ----------------------------------------------------------------
def _traced(g, title="traced"):
    boxes, edges, box_of = [], [], {}
    for i, (name, spec) in enumerate(zip(g.inputs, g.input_specs)):
        box_of[name] = f"i{i}"
        boxes.append(Box(f"i{i}", "leaf", [name, _meta(*spec)], name=name))
    for i, (name, w) in enumerate(g.weights.items()):
        box_of[name] = f"w{i}"
        boxes.append(Box(f"w{i}", "leaf", [name, _meta(np.shape(w), np.asarray(w).dtype)], name=name))
    for i, node in enumerate(g.nodes):
        box_of[node.out] = f"n{i}"
        spec = g.specs.get(node.out) or ((node.shape, node.dtype) if node.shape is not None else None)
        lines = [f"{node.out} = {node.op}", _spec(spec)]
        if node.site:
            lines.append(f"in {node.site}")
        boxes.append(Box(f"n{i}", "op", [ln for ln in lines if ln], name=node.out))
        for name in _ref_names((node.args, node.params)):
            if name in box_of and (box_of[name], f"n{i}") not in edges:
                edges.append((box_of[name], f"n{i}"))
    for j, o in enumerate(g.outputs):
        boxes.append(Box(f"o{j}", "const", [f"output {j}" if len(g.outputs) > 1 else "output"]))
        if o in box_of:
            edges.append((box_of[o], f"o{j}"))
    return IRGraph(boxes, edges, title)


def _ref_names(v):
    if isinstance(v, (tuple, list)):
        for x in v:
            yield from _ref_names(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _ref_names(x)
    elif type(v).__name__ == "Ref" and hasattr(v, "name"):
        yield v.name


# ---- a compiled plan (cr.compile) -----------------------------------------------------------------
def _op(obj):
    return getattr(obj, "__name__", type(obj).__name__)


def _step_lines(st, specs, names):
    """Title and text lines for one IR step."""
    p, out = st.p, (st.writes[0] if st.writes else None)
    shape = _spec(specs[out]) if out is not None and out < len(specs) else ""
    if st.kind == "fwd":
        return [_op(p["op"]), shape]
    if st.kind == "bwd":
        return [f"{_op(p['op'])} backward", *(_spec(specs[s]) for s in p["outs"] if s is not None)]
    if st.kind == "add":
        return ["grad sum (add)", shape]
    if st.kind == "fit":
        return ["unbroadcast (sum to shape)", shape]
    if st.kind == "acc":
        return ["accumulate .grad", *(names(ref) for ref, _ in p["accs"])]
    if st.kind == "draw":
        return ["dropout mask", shape]
    if st.kind == "call":
        return [f"{type(p['obj']).__name__}.{p['fn'].__name__}"]
    if st.kind == "chain":
        ops = [_op(opneeds[0]) if opneeds else _op(ufunc) for ufunc, _, _, _, _, opneeds, _, _ in p["ops"]]
        inplace = sum(k[6] for k in p["ops"])
        if len(ops) == 1:
            return [f"{ops[0]} (ufunc{', in place' if inplace else ''})", shape]
        return [f"fused: {len(ops)} ops, {inplace} in place", " + ".join(ops), shape]
    if st.kind == "emit":  # a kernel the passes generated (bias+ReLU, an elementwise region, the optimizer's)
        return [*p.get("label", ["generated kernel"]), shape]
    return [st.kind, shape]


def _compiled(plan, passes=True, module_names=None, title=None):
    steps = plan.steps if passes else plan.graph_before
    specs, names_of = plan.specs, module_names or {}

    def name(ref):  # ('arg', i) or ('obj', tensor)
        if ref[0] == "arg":
            return f"input {ref[1]}"
        return names_of.get(id(ref[1]), f"tensor {tuple(ref[1].shape)}")

    boxes, edges, writer = [], [], {}
    for i, s in enumerate(plan.input_slots):
        writer[s] = f"i{i}"
        boxes.append(Box(f"i{i}", "leaf", [f"input {i}", _spec(specs[s])], name=f"input {i}"))
    last_effect = None
    for i, st in enumerate(steps):
        bid = f"s{i}"
        if st.kind == "load":
            kind, src = st.p["src"]
            label = name(src) + ".grad" if kind == "grad" else name((kind, src))
            boxes.append(Box(bid, "leaf", [label, _spec(specs[st.writes[0]])], name=label))
        else:
            lines = [ln for ln in _step_lines(st, specs, name) if ln]
            fused = st.kind == "chain" and len(st.p["ops"]) > 1 or lines[0].startswith("fused")
            boxes.append(Box(bid, "module" if fused else "op", lines,
                             name=lines[0]))
        tails = []
        for r in st.reads:
            t = writer.get(r)
            if t is not None and t not in tails:
                tails.append(t)
        if st.effect and not tails and last_effect is not None:  # optimizer steps: after the last effect
            tails.append(last_effect)
        edges += [(t, bid) for t in tails]
        for w in st.writes:
            writer[w] = bid
        if st.effect:
            last_effect = bid
    for j, s in enumerate(plan.out_slots):
        if type(s) is int and s in writer:
            boxes.append(Box(f"o{j}", "const", ["output" if len(plan.out_slots) == 1 else f"output {j}"]))
            edges.append((writer[s], f"o{j}"))
    return IRGraph(boxes, edges, title or ("compiled, after the passes" if passes else "compiled, before the passes"))


def _param_names(compiled):
    out = {}
    for m in getattr(compiled, "_modules", None) or ():
        for n, t in (*m.named_parameters(), *m.named_buffers()):
            out.setdefault(id(t), n)
    return out


def ir_graph(obj, passes=True, plan=-1):
    """The picture of a static graph.

    obj
        a ``cr.jit.trace`` result (or its ``.graph``), a ``cr.compile`` function (its most recent
        plan, ``plan=`` picks another) or one of its ``plans()``.
    passes
        for a compiled plan: True draws what the passes made (a fused run of elementwise ops is one
        box, ``fused: N ops``, listing them), False the recorded IR before any pass.

    Inputs and weights are named as the user knows them (state-dict names for parameters); each op
    box shows its output's shape and dtype.
    """
    if _is_traced(obj):
        return _traced(obj)
    if _is_traced(getattr(obj, "graph", None)):
        return _traced(obj.graph, getattr(obj, "name", "traced"))
    names = {}
    if hasattr(obj, "plans") and hasattr(obj, "cache"):
        plans = obj.plans()
        if not plans:
            raise ValueError("viz.graph: the compiled function has no plan yet (call it once; a signature that "
                             "hit a graph break runs eagerly and has none: see its stats['break_reasons'])")
        names = _param_names(obj)
        obj = plans[plan]
    if _is_plan(obj):
        return _compiled(obj, passes, names)
    raise TypeError(f"viz.ir_graph: expected a traced module, a compiled function or a plan, "
                    f"got {type(obj).__name__}")


def graph(output, names=None, modules=None, depth=None, passes=True):
    """The computation graph behind ``output`` (a Tensor: see ``viz.graph.graph`` for ``names``,
    ``modules`` and ``depth``), or a static graph: a ``cr.jit.trace`` result or a ``cr.compile``
    function, drawn by ``ir_graph`` (``passes=False``: a compiled step as recorded, before the
    optimiser's passes; True: after them, fused ops as one box)."""
    if not hasattr(output, "_node") and is_static(output):
        return ir_graph(output, passes=passes)
    return _autograd_graph(output, names, modules, depth)
