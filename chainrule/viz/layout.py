"""Drawing a graph without Graphviz: a layered (Sugiyama-style) layout, drawn as SVG or by matplotlib.

The input is a ``Drawing`` (what ``Graph.drawing()`` returns, the same content the DOT text has):
boxes with their text lines, edges in data-flow order, and module clusters. Layers come from
networkx (longest path from the inputs, leaves pulled next to their first consumer); edges that
skip layers get dummy points; a few barycenter sweeps order each layer (members of one module
kept together), and a left-to-right pass places each box near the mean height of its inputs.
"""
import html
import math
import re

FONT = 11                 # px
CHAR = 0.6 * FONT         # a generous average glyph width for a sans-serif font
LINE = FONT + 3
PAD_X, PAD_Y = 8, 5
LAYER_GAP, NODE_GAP = 56, 24
CLUSTER_PAD = 10
MAX_SPAN = 8              # layers an edge may skip and still be routed around the boxes
STYLE = {  # kind -> (shape, fill, stroke); the same colours as the DOT text
    "leaf": ("ellipse", "#dff0d8", "#5a8a50"),
    "op": ("rounded", "#d9e8fb", "#4a6fa5"),
    "module": ("box3d", "#e8e0f8", "#6a5a9a"),
    "const": ("plain", "none", "none"),
}


class Box:
    __slots__ = ("id", "kind", "lines", "cluster", "name", "w", "h", "x", "y", "layer")

    def __init__(self, id, kind, lines, cluster=None, name=None):
        lines = [part for line in lines for part in str(line).split("\n")]  # an array prints on several lines
        self.id, self.kind, self.lines, self.cluster, self.name = id, kind, lines, cluster, name
        text_w = max(len(s) for s in self.lines) * CHAR
        self.w = (text_w * 1.2 + 8 if kind == "leaf" else text_w) + 2 * PAD_X  # text fits inside an ellipse
        self.h = len(self.lines) * LINE + 2 * PAD_Y + (8 if kind == "leaf" else 0)
        self.x = self.y = 0.0  # centre
        self.layer = 0


class Drawing:
    """Boxes (in the order the DOT text declares them), edges (tail id, head id) and clusters
    (title -> member ids)."""

    def __init__(self, boxes, edges, clusters):
        self.boxes, self.edges, self.clusters = boxes, edges, clusters
        self.by_id = {b.id: b for b in boxes}
        self.routes = {}  # (tail, head) -> points from tail to head
        self.width = self.height = 0.0


def layout(drawing, layer_gap=LAYER_GAP):
    """Place every box and route every edge (in place); returns the drawing. ``layer_gap``: the room
    between columns (the step-through page widens it to write gradients onto the edges)."""
    import networkx as nx  # here, not at import time: `import chainrule` stays quick

    boxes, by_id = drawing.boxes, drawing.by_id
    if not boxes:
        return drawing
    g = nx.DiGraph()
    g.add_nodes_from(b.id for b in boxes)
    g.add_edges_from(drawing.edges)
    # a module's inputs from outside come before all of its members (its parameters too), so that
    # no other box lands inside the module's frame
    member = {m: title for title, ms in drawing.clusters.items() for m in ms}
    extra = [(v, s) for v, m in drawing.edges if member.get(m) is not None and member.get(v) != member[m]
             for s in drawing.clusters[member[m]] if g.in_degree(s) == 0 and s != v]
    if extra:
        constrained = g.copy()
        constrained.add_edges_from(extra)
        if nx.is_directed_acyclic_graph(constrained):
            g = constrained
    for depth, generation in enumerate(nx.topological_generations(g)):
        for n in generation:
            by_id[n].layer = depth
    for b in boxes:  # an input waits next to its first consumer instead of at the far left
        succ = [by_id[s].layer for s in g.successors(b.id)]
        if g.in_degree(b.id) == 0 and succ:
            b.layer = min(succ) - 1
    # dummy points for edges that span several layers
    chains, layers = {}, {}
    for b in boxes:
        layers.setdefault(b.layer, []).append(b.id)
    nxt = {}  # point -> points in the next layer (for the sweeps)
    prv = {}
    for tail, head in drawing.edges:
        lo, hi = by_id[tail].layer, by_id[head].layer
        # a dummy point per skipped layer keeps the edge out of the boxes; very long edges (an input
        # used all along a long chain) go straight, or the points would outnumber the boxes
        inner = range(lo + 1, hi) if hi - lo <= MAX_SPAN else ()
        chain = [tail] + [("d", tail, head, k) for k in inner] + [head]
        for k, p in zip(inner, chain[1:-1]):
            layers.setdefault(k, []).append(p)
        for a, b in zip(chain, chain[1:]):
            nxt.setdefault(a, []).append(b)
            prv.setdefault(b, []).append(a)
        chains[(tail, head)] = chain
    order = [layers[k] for k in sorted(layers)]
    cluster_of = {b.id: b.cluster for b in boxes}
    pos = {p: i for layer in order for i, p in enumerate(layer)}

    def sweep(layer_seq, neighbours):
        for layer in layer_seq:
            bary = {p: (sum(pos[q] for q in neighbours.get(p, ())) / len(neighbours[p]) if neighbours.get(p)
                        else pos[p]) for p in layer}
            group = {}
            for p in layer:
                group.setdefault(cluster_of.get(p), []).append(bary[p])
            key = lambda p: ((sum(group[cluster_of.get(p)]) / len(group[cluster_of.get(p)]))
                             if cluster_of.get(p) is not None else bary[p], bary[p])
            layer.sort(key=key)
            for i, p in enumerate(layer):
                pos[p] = i

    for _ in range(4):
        sweep(order[1:], prv)
        sweep(order[-2::-1], nxt)
    # coordinates: columns left to right, each box near the mean height of its inputs
    size = lambda p: (by_id[p].w, by_id[p].h) if p in by_id else (0.0, 8.0)
    x, xs, ys = 20.0, {}, {}
    for layer in order:
        width = max(size(p)[0] for p in layer)
        top = 20.0
        for p in layer:
            w, h = size(p)
            want = [ys[q] for q in prv.get(p, ()) if q in ys]
            ys[p] = max(top + h / 2, sum(want) / len(want) if want else 0.0)
            xs[p] = x + width / 2
            top = ys[p] + h / 2 + NODE_GAP
            if p in by_id:
                by_id[p].x, by_id[p].y = xs[p], ys[p]
        x += width + layer_gap
    for (tail, head), chain in chains.items():
        t, h = by_id[tail], by_id[head]
        pts = [(t.x + t.w / 2, t.y)] + [(xs[p], ys[p]) for p in chain[1:-1]] + [(h.x - h.w / 2, h.y)]
        drawing.routes[(tail, head)] = pts
    # translate so that everything (module frames and their titles too) starts at (20, 20)
    rects = [(b.x - b.w / 2, b.y - b.h / 2, b.x + b.w / 2, b.y + b.h / 2) for b in boxes]
    rects += [cluster_rect(drawing, ms) for ms in drawing.clusters.values()]
    dx, dy = 20 - min(r[0] for r in rects), 20 - min(r[1] for r in rects)
    for b in boxes:
        b.x, b.y = b.x + dx, b.y + dy
    for key, pts in drawing.routes.items():
        drawing.routes[key] = [(px + dx, py + dy) for px, py in pts]
    drawing.width = max(r[2] for r in rects) + dx + 20
    drawing.height = max(r[3] for r in rects) + dy + 20 + LINE  # room for a gradient line under the lowest box
    return drawing


def cluster_rect(drawing, members):
    bs = [drawing.by_id[m] for m in members]
    x0 = min(b.x - b.w / 2 for b in bs) - CLUSTER_PAD
    y0 = min(b.y - b.h / 2 for b in bs) - CLUSTER_PAD - LINE
    x1 = max(b.x + b.w / 2 for b in bs) + CLUSTER_PAD
    y1 = max(b.y + b.h / 2 for b in bs) + CLUSTER_PAD
    return x0, y0, x1, y1


def path_d(pts):
    """An SVG path through ``pts``: a smooth S-curve per segment (horizontal tangents)."""
    (x0, y0), out = pts[0], [f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"]
    for x1, y1 in pts[1:]:
        dx = (x1 - x0) / 2
        out.append(f"C{x0 + dx:.1f},{y0:.1f} {x1 - dx:.1f},{y1:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(out)


def label_point(pts):
    """Where an edge's label goes: the middle of its middle segment."""
    k = (len(pts) - 1) // 2
    (x0, y0), (x1, y1) = pts[k], pts[k + 1]
    return (x0 + x1) / 2, (y0 + y1) / 2


def to_svg(drawing, interactive=False):
    """The laid-out drawing as an SVG document. ``interactive`` adds, for the step-through page, an
    empty gradient line under every box and an empty label on every edge (filled by its script)."""
    e = _escape
    w, h = math.ceil(drawing.width), math.ceil(drawing.height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chainrule-graph" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="{FONT}">',
           '<defs><marker id="cr-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    for i, (title, members) in enumerate(drawing.clusters.items()):
        x0, y0, x1, y1 = cluster_rect(drawing, members)
        out.append(f'<g class="cluster" id="cluster-{i}"><title>{e(title)}</title>'
                   f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" rx="6" '
                   f'fill="#f7f4fc" stroke="#9a8ac0" stroke-dasharray="4 3"/>'
                   f'<text x="{x0 + 6:.1f}" y="{y0 + LINE - 2:.1f}" fill="#6a5a9a">{e(title)}</text></g>')
    for (tail, head), pts in drawing.routes.items():
        lx, ly = label_point(pts)
        label = (f'<text class="edge-label" x="{lx:.1f}" y="{ly - 3:.1f}" text-anchor="middle" fill="#b03030" '
                 f'stroke="white" stroke-width="3" paint-order="stroke"></text>' if interactive else "")
        out.append(f'<g class="edge" id="edge-{tail}-{head}" data-tail="{tail}" data-head="{head}">'
                   f'<title>{_esc_arrow(drawing, tail, head)}</title>'
                   f'<path d="{path_d(pts)}" fill="none" stroke="#555" stroke-width="1.2" '
                   f'marker-end="url(#cr-arrow)"/>{label}</g>')
    for b in drawing.boxes:
        shape, fill, stroke = STYLE[b.kind]
        x0, y0 = b.x - b.w / 2, b.y - b.h / 2
        if shape == "ellipse":
            body = f'<ellipse cx="{b.x:.1f}" cy="{b.y:.1f}" rx="{b.w / 2:.1f}" ry="{b.h / 2:.1f}"'
        elif shape == "plain":
            body = f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" opacity="0"'
        else:
            body = (f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" '
                    f'rx="{6 if shape == "rounded" else 0}"')
        body += f' fill="{fill}" stroke="{stroke}" class="shape"/>'
        if shape == "box3d":
            body = (f'<rect x="{x0 + 4:.1f}" y="{y0 - 4:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" '
                    f'fill="{fill}" stroke="{stroke}"/>') + body
        top = b.y - (len(b.lines) - 1) * LINE / 2 + FONT / 2 - 2
        spans = "".join(f'<tspan x="{b.x:.1f}" y="{top + k * LINE:.1f}">{e(line)}</tspan>'
                        for k, line in enumerate(b.lines))
        grad = ""
        if interactive and b.kind != "const":
            grad = (f'<text class="node-grad" x="{b.x:.1f}" y="{b.y + b.h / 2 + LINE:.1f}" text-anchor="middle" '
                    f'fill="#b03030" stroke="white" stroke-width="3" paint-order="stroke"></text>')
        out.append(f'<g class="node {b.kind}" id="node-{b.id}" data-name="{e(b.name or "")}">'
                   f'<title>{e(b.name or b.lines[0])}</title>{body}'
                   f'<text text-anchor="middle">{spans}</text>{grad}</g>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _escape(text):
    """Text for SVG/HTML: markup characters escaped, control characters (invalid in XML) replaced."""
    return html.escape(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", str(text)), quote=True)


def _esc_arrow(drawing, tail, head):
    t, h = drawing.by_id[tail], drawing.by_id[head]
    return _escape(f"{t.name or t.lines[0]} -> {h.name or h.lines[0]}")


def save_matplotlib(drawing, path):
    """Draw the laid-out drawing with matplotlib (PNG, PDF, ...: whatever ``path``'s suffix names)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyBboxPatch, PathPatch, Rectangle
    from matplotlib.path import Path as MPath

    dpi = min(100, 30000 * 100 / max(drawing.width, drawing.height, 1))  # Agg draws at most 2^16 px a side
    fig = Figure(figsize=(max(drawing.width, 40) / dpi, max(drawing.height, 40) / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, drawing.width)
    ax.set_ylim(drawing.height, 0)  # y grows downwards, as in the SVG
    ax.axis("off")
    pt = FONT * 72 / dpi  # the SVG's px at this dpi, in points
    for title, members in drawing.clusters.items():
        x0, y0, x1, y1 = cluster_rect(drawing, members)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=True, facecolor="#f7f4fc", edgecolor="#9a8ac0",
                               linestyle="--"))
        ax.text(x0 + 6, y0 + LINE - 2, title, fontsize=pt, color="#6a5a9a", parse_math=False)
    heads = []
    for pts in drawing.routes.values():
        verts, codes = [pts[0]], [MPath.MOVETO]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            dx = (x1 - x0) / 2
            verts += [(x0 + dx, y0), (x1 - dx, y1), (x1, y1)]
            codes += [MPath.CURVE4] * 3
        ax.add_patch(PathPatch(MPath(verts, codes), fill=False, edgecolor="#555", linewidth=1))
        heads.append((pts[-1][0] - 3, pts[-1][1]))  # edges end horizontally: one marker per head
    if heads:
        ax.scatter(*zip(*heads), marker=">", s=(5 * 72 / dpi) ** 2, color="#555", zorder=3)
    for b in drawing.boxes:
        shape, fill, stroke = STYLE[b.kind]
        if shape == "ellipse":
            ax.add_patch(Ellipse((b.x, b.y), b.w, b.h, facecolor=fill, edgecolor=stroke))
        elif shape != "plain":
            style = "round,pad=0,rounding_size=6" if shape == "rounded" else "square,pad=0"
            ax.add_patch(FancyBboxPatch((b.x - b.w / 2, b.y - b.h / 2), b.w, b.h, boxstyle=style,
                                        facecolor=fill, edgecolor=stroke))
        ax.text(b.x, b.y, "\n".join(b.lines), ha="center", va="center", fontsize=pt, linespacing=1.1,
                family="sans-serif", parse_math=False)  # a name with $...$ is text, not TeX
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(path, dpi=dpi)
