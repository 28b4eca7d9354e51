"""Walk a backward pass step by step: upstream gradient x local gradient = downstream gradient.

Everything shown comes from the engine's own walk through its recording hook
(``chainrule.autograd.engine.observers``): the order, the upstream gradients and the gradients
each op's rule returned. Nothing here differentiates anything itself.
"""
import numpy as np

from ..autograd import engine
from .graph import Graph, describe, input_rules, op_name, rule_text


class Step:
    """One node the engine ran: its op, upstream gradient, and per input the local and downstream
    gradient (numbers for scalar nodes; the op's rule for tensors)."""

    def __init__(self, name, op, rule, upstream, inputs, local, downstream, summed_from, key=None, input_keys=()):
        self.name, self.op, self.rule = name, op, rule
        self.key, self.input_keys = key, list(input_keys)  # id() of the node and of each input (None: constant)
        self.upstream = upstream          # array: dL/d(this node's output)
        self.inputs = inputs              # per input: display name
        self.local = local                # per input: d(out)/d(input) (array), rule text, or None
        self.downstream = downstream      # per input: the gradient the op's rule sent there, or None
        self.summed_from = summed_from    # names of the consumers whose gradients were added here

    def __repr__(self):
        return f"Step({self.name} = {self.op}, upstream={describe(self.upstream)})"


class Explanation:
    """What ``explain`` recorded: ``steps`` in the engine's order, ``leaf_grads`` (name -> array),
    ``sums`` (name -> [(consumer, gradient), ...] where branches met) and ``graph`` (the picture,
    with every node's gradient)."""

    def __init__(self, steps, leaf_grads, sums, graph):
        self.steps, self.leaf_grads, self.sums, self.graph = steps, leaf_grads, sums, graph

    def __iter__(self):
        return iter(self.steps)

    def __len__(self):
        return len(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def step(self, name):
        """The step of the node called ``name``."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"explain: no step named '{name}' (steps: {', '.join(s.name for s in self.steps)})")

    def grad(self, name):
        """The gradient of the output with respect to ``name`` (a leaf or an intermediate)."""
        if name in self.leaf_grads:
            return self.leaf_grads[name]
        return self.step(name).upstream

    def rows(self):
        header = ["step", "node", "op", "upstream", "input", "local", "downstream", "note"]
        rows = []
        for i, s in enumerate(self.steps, 1):
            note = f"sum of {len(s.summed_from)} branches ({', '.join(s.summed_from)})" if s.summed_from else ""
            for j, (inp, loc, down) in enumerate(zip(s.inputs, s.local, s.downstream)):
                first = j == 0
                rows.append([str(i) if first else "", s.name if first else "", s.op if first else "",
                             describe(s.upstream, True) if first else "", inp,
                             "-" if loc is None else _clip(loc) if isinstance(loc, str) else describe(loc, True),
                             "-" if down is None else describe(down, True), note if first else ""])
        return header, rows

    def leaf_lines(self):
        lines = []
        for name, g in self.leaf_grads.items():
            parts = self.sums.get(name)
            summed = f"  = {' + '.join(describe(v, True) for _, v in parts)}  (summed over {len(parts)} branches)" if parts else ""
            lines.append(f"df/d{name} = {describe(g)}{summed}")
        return lines

    def table(self, markdown=False):
        """The steps alone, as aligned text or a Markdown table."""
        header, rows = self.rows()
        if markdown:
            cell = lambda c: c.replace("|", "\\|")
            out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            return "\n".join(out + ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows])
        widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
        fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
        return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)])

    def __str__(self):
        return "\n".join([self.table(), "", *self.leaf_lines()])

    def to_markdown(self):
        return "\n".join([self.table(markdown=True), "", *(f"- {line}" for line in self.leaf_lines())]) + "\n"

    def to_html(self, path=None, title=None):
        """One self-contained HTML page (inline SVG, CSS and script; nothing fetched) that steps through
        the backward pass: Next/Back or the arrow keys. Written to ``path`` when given; returns the text."""
        from .page import render_page
        return render_page(self, path, title)

    def _repr_markdown_(self):
        return self.to_markdown()

    def _repr_html_(self):  # notebooks: the picture (with every gradient) above the table
        import html
        from .page import table_html
        svg = self.graph._repr_svg_() or ""
        svg = svg[svg.find("<svg"):] if "<svg" in svg else ""  # no XML prolog inside HTML
        return f'<div class="chainrule-explain">{svg}{table_html(self)}<ul>' + "".join(
            f"<li>{html.escape(line)}</li>" for line in self.leaf_lines()) + "</ul></div>"


def _clip(text, width=48):
    return text if len(text) <= width else text[:width - 3] + "..."


def explain(output, names=None, retain_graph=False, modules=None):
    """Run ``output.backward()`` (``output`` must hold one element) and return an ``Explanation``:
    every node the engine ran, in its order, with upstream, local and downstream gradients.

    names: {'x': x, ...} names for leaves and intermediates; unnamed ones get f (the output),
    q, r, s, ... (intermediates, in forward order) and leaf1, leaf2, ...
    modules: a ``record_modules`` record: the picture and the page frame each module's nodes.

    The result prints as a table, displays inline in notebooks (picture and table), and
    ``to_html(path)`` writes the interactive step-through page.
    """
    if output._node is None:
        raise RuntimeError("explain: element 0 of tensors does not require grad and does not have a grad_fn")
    if output._data.size != 1:
        raise RuntimeError(f"explain: grad can be implicitly created only for scalar outputs "
                           f"(got shape {tuple(output.shape)})")
    picture = Graph(output, names, modules)  # snapshot the forward values before backward frees them
    label = picture.names
    steps, node_grads, contributions = [], picture.node_grads, {}

    def watch(node, g, in_grads):
        in_grads = [_plain(ig) for ig in in_grads]
        if hasattr(g, "by_index"):  # a multi-output Function: its outputs' gradients, in order
            g = np.concatenate([np.ravel(v.get() if hasattr(v, "get") else v) for _, v in sorted(g.by_index.items())])
            local = [None if ig is None else rule for ig, rule in zip(in_grads, input_rules(node))]
        else:
            local = _local_gradients(node, g, in_grads)
        node_grads[id(node)] = g
        inputs = []
        for p, a, ig in zip(node.parents, node.args or [None] * len(node.parents), in_grads):
            if p is None:
                inputs.append(f"{describe(a, True)} (const)" if hasattr(a, "shape") or isinstance(a, (int, float))
                              else "(const)")
                continue
            inputs.append(label[id(p)])
            if ig is not None:
                contributions.setdefault(id(p), []).append((label[id(node)], ig))
        # every consumer ran before this node, so its contributions are complete here
        arrived = [who for who, _ in contributions.get(id(node), ())]
        steps.append(Step(label[id(node)], op_name(node), rule_text(node), g, inputs, local,
                          list(in_grads), arrived if len(arrived) > 1 else [], id(node),
                          [None if p is None else id(p) for p in node.parents]))

    engine.observers.append(watch)
    try:
        output.backward(retain_graph=retain_graph)
    finally:
        engine.observers.remove(watch)
    leaf_grads = {label[id(leaf)]: leaf.grad._data for leaf in picture.leaves if leaf.grad is not None}
    sums = {label[key]: parts for key, parts in contributions.items() if len(parts) > 1}
    return Explanation(steps, leaf_grads, sums, picture)


def _local_gradients(node, g, in_grads):
    """Per input: d(out)/d(input) as a number for scalar nodes, the op's rule text otherwise.

    For a scalar node the op's own backward is called once more with a unit upstream gradient
    (its saved values are still there: the engine calls observers before freeing them). That is
    exactly the partial derivative by the engine's rule, and stays right where the upstream
    gradient is 0 (where in_grad / upstream would be 0/0).
    """
    scalar = g.size == 1 and all(ig is None or np.size(ig) == 1 for ig in in_grads)
    if not scalar:
        return [None if ig is None else rule for ig, rule in zip(in_grads, input_rules(node))]
    unit = node.op.backward(node, node.xp, node.xp.ones_like(g), node.out, *(node.args or ()))
    return [None if ig is None else _plain(u) for ig, u in zip(in_grads, unit)]


def _plain(grad):
    """What one output of a multi-output Function passes to it (filed under the output's index
    for the engine), as a plain gradient; any other gradient as it is."""
    return next(iter(grad.by_index.values())) if hasattr(grad, "by_index") else grad
