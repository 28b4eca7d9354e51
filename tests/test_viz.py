"""chainrule.viz: the explain record holds the lecture slides' numbers, DOT parses, the hook is free."""
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule as cr
from conftest import skip_unless_ci
from chainrule.autograd import engine
from chainrule.viz.layout import cluster_rect, layout

graph_module = sys.modules["chainrule.viz.graph"]
SVG = "{http://www.w3.org/2000/svg}"

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def scalars(**values):
    return {k: cr.tensor(v, dtype=cr.float64, requires_grad=True) for k, v in values.items()}


def parse_dot(text):
    """Minimal DOT check: one balanced digraph, every edge endpoint declared as a node."""
    assert text.startswith("digraph") and text.count("{") - text.count("\\{") == text.count("}") - text.count("\\}")
    depth = 0
    for ch in re.sub(r'"(\\.|[^"\\])*"', '""', text):  # braces inside labels don't count
        depth += ch == "{"
        depth -= ch == "}"
        assert depth >= 0
    assert depth == 0
    declared = set(re.findall(r"^\s*(\w+) \[", text, re.M)) - {"node", "edge", "graph"}
    edges = re.findall(r"^\s*(\w+) -> (\w+);", text, re.M)
    for a, b in edges:
        assert a in declared and b in declared, (a, b)
    return declared, edges


def test_add_mul_slide_numbers():
    v = scalars(x=-2, y=5, z=-4)
    q = v["x"] + v["y"]
    f = q * v["z"]
    e = cr.viz.explain(f, names=dict(v, q=q))
    assert [s.name for s in e] == ["f", "q"]
    first, second = e.steps
    assert first.op == "Mul" and first.inputs == ["q", "z"] and float(first.upstream) == 1
    assert [float(x) for x in first.local] == [-4, 3]      # a mul gate swaps its inputs
    assert [float(x) for x in first.downstream] == [-4, 3]
    assert second.op == "Add" and float(second.upstream) == -4
    assert [float(x) for x in second.local] == [1, 1]      # an add gate distributes
    assert [float(x) for x in second.downstream] == [-4, -4]
    assert {k: float(g) for k, g in e.leaf_grads.items()} == {"x": -4, "y": -4, "z": 3}
    assert float(e.grad("q")) == -4
    text = str(e)
    assert "df/dx = -4" in text and "df/dz = 3" in text
    md = e.to_markdown()
    assert md.startswith("| step | node | op |") and "| 1 | f | Mul | 1 | q | -4 | -4 |" in md


def test_sigmoid_gate_slide_numbers():
    v = scalars(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    f = 1 / (1 + (-(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"])).exp())
    assert round(f.item(), 2) == 0.73
    e = cr.viz.explain(f, names=v)
    grads = {k: round(float(g), 2) for k, g in e.leaf_grads.items()}
    assert grads == {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2}
    ops = [s.op for s in e]
    assert ops == ["Div", "Add", "Exp", "Neg", "Add", "Add", "Mul", "Mul"]
    exp_step = e.steps[2]
    assert round(float(exp_step.upstream), 2) == -0.53 and round(float(exp_step.local[0]), 2) == 0.37
    div_step = e.steps[0]  # 1/x gate: local -1/x^2 = -1/1.37^2 = -0.53
    assert div_step.local[0] is None and round(float(div_step.local[1]), 2) == -0.53
    # each downstream gradient is upstream x local, as the engine computed it
    for s in e:
        for loc, down in zip(s.local, s.downstream):
            if loc is not None:
                assert np.isclose(float(s.upstream) * float(loc), float(down))


def test_sigmoid_as_one_gate_local_is_out_times_one_minus_out():
    v = scalars(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    f = (v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]).sigmoid()
    e = cr.viz.explain(f, names=v)
    assert e.steps[0].op == "Sigmoid" and round(float(e.steps[0].local[0]), 2) == 0.2
    assert round(float(e.leaf_grads["x1"]), 2) == -0.59


def test_apples_bill():
    v = scalars(apple=10, apples=2, melon=30, melons=1, tax=1.05)
    total = (v["apple"] * v["apples"] + v["melon"] * v["melons"]) * v["tax"]
    assert np.isclose(total.item(), 52.5)
    e = cr.viz.explain(total, names=v)
    g = {k: float(x) for k, x in e.leaf_grads.items()}
    assert np.isclose(g["apple"], 2.1) and np.isclose(g["apples"], 10.5) and np.isclose(g["tax"], 50)
    assert np.isclose(g["melon"], 1.05) and np.isclose(g["melons"], 31.5)


def test_branch_sums_recorded():
    v = scalars(a=3.0)
    a = v["a"]
    b = a * a + a
    e = cr.viz.explain(b, names={"a": a})
    assert float(e.leaf_grads["a"]) == 7  # 2a + 1
    assert sorted(float(g) for _, g in e.sums["a"]) == [1, 3, 3]
    # an intermediate used twice: its step says its upstream was a sum of two branches
    c = a.exp()
    d = c * 2 + c
    e2 = cr.viz.explain(d, names={"a": a, "c": c})
    step = e2.step("c")
    assert len(step.summed_from) == 2 and "sum of 2 branches" in str(e2)
    assert np.isclose(float(step.upstream), 3.0)


def test_local_gradient_when_upstream_is_zero():
    v = scalars(x=2.0, y=5.0)
    q = v["x"] * v["y"]
    f = q * 0.0
    e = cr.viz.explain(f, names=dict(v, q=q))
    step = e.step("q")
    assert float(step.upstream) == 0 and [float(x) for x in step.local] == [5, 2]


def test_tensor_nodes_show_rules():
    x = cr.randn(4, 3, dtype=cr.float64)
    w = cr.randn(3, 2, dtype=cr.float64, requires_grad=True)
    loss = (x @ w).sum()
    e = cr.viz.explain(loss, names={"x": x, "W": w})
    mm = [s for s in e if s.op == "Matmul"][0]
    assert mm.local[1] == "db = a^T g" and mm.local[0] is None
    assert np.allclose(e.leaf_grads["W"], x.numpy().T @ np.ones((4, 2)))
    assert "db = a^T g" in str(e)


def test_explain_errors_and_observer_cleanup():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        cr.viz.explain(x * 2)
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.viz.explain(cr.tensor(1.0))
    assert engine.observers == []
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        cr.viz.explain(y)  # backward raises inside: the hook is removed all the same
    assert engine.observers == []
    cr.viz.explain((x * 3).sum())
    assert engine.observers == []


def test_explain_matches_plain_backward():
    """The record's leaf gradients are what backward gives without explain."""
    cr.manual_seed(0)
    w = cr.randn(5, dtype=cr.float64, requires_grad=True)
    f = lambda: ((w.tanh() * w).exp().sum() + w.max())
    f().backward()
    plain = w.grad.numpy().copy()
    w.grad = None
    e = cr.viz.explain(f(), names={"w": w})
    assert np.allclose(e.leaf_grads["w"], plain)


def test_graph_dot_values_and_grads():
    v = scalars(x=-2, y=5, z=-4)
    q = v["x"] + v["y"]
    f = q * v["z"]
    g = cr.viz.graph(f, names=dict(v, q=q))
    declared, edges = parse_dot(g.to_dot())
    assert len(declared) == 5 and len(edges) == 4
    text = g.to_dot()
    assert "q = Add" in text and "\\n3" in text and "f = Mul" in text and "-12" in text
    assert "grad" not in text
    q.retain_grad()
    f.backward()
    text = g.to_dot()  # gradients are read when drawn
    assert "x\\n() float64\\n-2\\ngrad -4" in text and "grad 3" in text
    assert "q = Add\\n() float64\\n3\\ngrad -4" in text


def test_graph_big_tensor_summary_and_constants():
    a = cr.arange(20, dtype=cr.float64).requires_grad_()
    out = (a * 2).sum()
    text = cr.viz.graph(out, names={"a": a}).to_dot()
    parse_dot(text)
    assert "min 0 mean 9.5 max 19" in text and "(20,) float64" in text


def test_graph_of_a_leaf_is_an_error():
    with pytest.raises(ValueError, match="no graph"):
        cr.viz.graph(cr.tensor(1.0, requires_grad=True))


def test_save_dot_and_render(tmp_path, monkeypatch):
    v = scalars(x=1.0)
    f = (v["x"] * 3).exp()
    g = cr.viz.graph(f, names=v)
    p = g.save(tmp_path / "g.dot")
    parse_dot(Path(p).read_text())
    with pytest.raises(ValueError, match="unsupported file type"):
        g.save(tmp_path / "g.jpg2")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        g.save(tmp_path / "missing" / "g.svg")
    if shutil.which("dot"):
        svg = tmp_path / "g.svg"
        g.save(svg)
        assert svg.stat().st_size > 0 and "<svg" in svg.read_text()
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no Graphviz: the built-in layout draws
    for ext, magic in ((".svg", b"<svg"), (".png", b"\x89PNG"), (".pdf", b"%PDF")):
        out = g.save(tmp_path / f"nodot{ext}")
        assert magic in Path(out).read_bytes()[:200]
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        g.save(tmp_path / "g2.svg", renderer="graphviz")
    with pytest.raises(ValueError, match="renderer"):
        g.save(tmp_path / "g3.svg", renderer="cairo")


def svg_structure(text):
    """(node texts by box id, edges) read from an SVG of either renderer."""
    root = ET.fromstring(text)
    nodes, edges = {}, set()
    for g in root.iter(f"{SVG}g"):
        cls = g.get("class", "").split()
        title = g.find(f"{SVG}title")
        if "node" in cls:
            key = g.get("id")[5:] if g.get("id", "").startswith("node-") else title.text
            nodes[key] = [t.text for t in g.iter() if t.tag in (f"{SVG}text", f"{SVG}tspan") and t.text]
        elif "edge" in cls:
            if g.get("data-tail"):
                edges.add((g.get("data-tail"), g.get("data-head")))
            else:
                edges.add(tuple(title.text.split("->")))
    return nodes, edges


def lecture_graphs():
    v = scalars(x=-2, y=5, z=-4)
    q = v["x"] + v["y"]
    yield cr.viz.graph(q * v["z"], names=dict(v, q=q))
    v = scalars(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    f = 1 / (1 + (-(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"])).exp())
    f.backward(retain_graph=True)
    yield cr.viz.graph(f, names=v)
    a = scalars(a=3.0)["a"]
    two = cr.tensor(2.0, dtype=cr.float64)  # a tensor that needs no gradient: drawn as a constant
    yield cr.viz.graph((a * a + a * two).exp(), names={"a": a})


@pytest.mark.parametrize("renderer", ["python", "graphviz"])
def test_both_renderers_draw_the_same_structure(renderer):
    if renderer == "graphviz" and not shutil.which("dot"):
        skip_unless_ci("Graphviz is not installed (the python renderer is tested on its own)")
    for g in lecture_graphs():
        d = g.drawing()
        nodes, edges = svg_structure(g.to_svg(renderer=renderer))
        assert set(nodes) == {b.id for b in d.boxes}
        assert edges == set(d.edges)
        for b in d.boxes:  # every line of every label is drawn (op, shape, value, gradient)
            assert [t.strip() for t in nodes[b.id]] == b.lines
    d = g.drawing()
    assert any(b.kind == "const" and b.lines == ["2"] for b in d.boxes)


def test_python_layout_is_layered_in_data_flow_order():
    for g in lecture_graphs():
        d = layout(g.drawing())
        for tail, head in d.edges:  # every edge points right: inputs left of their consumers
            t, h = d.by_id[tail], d.by_id[head]
            assert t.x + t.w / 2 < h.x - h.w / 2
        for a in d.boxes:  # no two boxes overlap
            for b in d.boxes:
                if a is not b:
                    assert abs(a.x - b.x) * 2 >= a.w + b.w - 1e-6 or abs(a.y - b.y) * 2 >= a.h + b.h - 1e-6
    text = g.to_svg(renderer="python")
    assert text.count('class="node ') == len(d.boxes) and "grad" not in text.split("<svg", 1)[0]


def test_graph_shows_gradients_after_backward_in_the_python_svg():
    v = scalars(x=-2, y=5, z=-4)
    q = v["x"] + v["y"]
    f = q * v["z"]
    g = cr.viz.graph(f, names=dict(v, q=q))
    assert "grad" not in g.to_svg(renderer="python")
    f.backward()
    nodes, _ = svg_structure(g.to_svg(renderer="python"))
    by_name = {texts[0]: texts for texts in nodes.values()}
    assert by_name["x"][-1] == "grad -4" and by_name["z"][-1] == "grad 3"


def test_notebook_display_with_and_without_graphviz(monkeypatch):
    v = scalars(x=2.0, y=3.0)
    f = v["x"] * v["y"]
    e = cr.viz.explain(f, names=v)
    for which in ([shutil.which] if shutil.which("dot") else []) + [lambda name: None]:
        monkeypatch.setattr(shutil, "which", which)
        svg = e.graph._repr_svg_()
        assert svg is not None and ET.fromstring(svg[svg.index("<svg"):]).tag == f"{SVG}svg"
        html_text = e._repr_html_()
        assert "<svg" in html_text and "<table" in html_text and "df/dx = 3" in html_text
    assert e._repr_markdown_().startswith("| step | node |")
    assert "2 ops" in repr(e.graph) or "1 ops" in repr(e.graph)


def mlp_with_modules():
    nn = cr.nn
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with cr.viz.record_modules(model) as mods:
        loss = nn.functional.cross_entropy(model(cr.randn(5, 3)), cr.tensor([0, 1, 0, 1, 1]))
    return loss, mods


def test_module_groups_are_frames_in_both_renderers():
    loss, mods = mlp_with_modules()
    g = cr.viz.graph(loss, modules=mods)
    dot = g.to_dot()
    parse_dot(dot)
    assert dot.count("subgraph cluster_") == 3 and 'label="1 (ReLU)"' in dot
    root = ET.fromstring(g.to_svg(renderer="python"))
    titles = sorted(c.find(f"{SVG}title").text for c in root.iter(f"{SVG}g") if c.get("class") == "cluster")
    assert titles == ["0 (Linear)", "1 (ReLU)", "2 (Linear)"]
    d = layout(g.drawing())  # no box outside a module lies inside its frame
    for members in d.clusters.values():
        x0, y0, x1, y1 = cluster_rect(d, members)
        for b in d.boxes:
            if b.id not in members:
                assert b.x + b.w / 2 < x0 or b.x - b.w / 2 > x1 or b.y + b.h / 2 < y0 or b.y - b.h / 2 > y1


def test_huge_graph_is_collapsed_or_refused(monkeypatch, tmp_path):
    loss, mods = mlp_with_modules()
    monkeypatch.setattr(graph_module, "MAX_DRAWN", 6)
    with pytest.raises(ValueError, match=r"too many to draw.*depth=1"):
        cr.viz.graph(loss).save(tmp_path / "big.svg", renderer="python")
    cr.viz.graph(loss).save(tmp_path / "big.dot")  # DOT text is always written
    with pytest.warns(UserWarning, match="collapsed to depth=1"):
        cr.viz.graph(loss, modules=mods).save(tmp_path / "collapsed.svg", renderer="python")
    nodes, _ = svg_structure((tmp_path / "collapsed.svg").read_text())
    assert len(nodes) <= 6 and any("(Linear, " in " ".join(t) for t in nodes.values())


def test_hostile_names_are_escaped(tmp_path):
    evil = '<script>alert("x")</script>&\'"$\\frac{a}{b}$'
    x = cr.tensor(2.0, dtype=cr.float64, requires_grad=True)
    f = x * 3
    g = cr.viz.graph(f, names={evil: x})
    parse_dot(g.to_dot())
    for renderer in ["python"] + (["graphviz"] if shutil.which("dot") else []):
        text = g.to_svg(renderer=renderer)
        root = ET.fromstring(text[text.index("<svg"):])  # well-formed: the name did not break out
        assert not [e for e in root.iter() if e.tag.endswith("script")]
        assert evil in {t.text for t in root.iter() if t.text}
    g.save(tmp_path / "evil.png", renderer="python")
def test_module_grouping_collapses_blocks():
    nn = cr.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return (self.fc(x).relu() + x)

    model = nn.Sequential(*[Block() for _ in range(6)], nn.Linear(4, 1))
    x = cr.randn(2, 4)
    with cr.viz.record_modules(model) as mods:
        out = model(x).sum()
    assert "forward" not in model[0].__dict__  # the wrappers are gone after the block
    full = cr.viz.graph(out).to_dot()
    small = cr.viz.graph(out, modules=mods, depth=1).to_dot()
    declared_full, _ = parse_dot(full)
    declared_small, edges = parse_dot(small)
    assert len(declared_small) < len(declared_full) // 3
    for i in range(6):
        assert f'label="{i}\\n(Block,' in small
    assert ("m0", "m1") in edges and ("m5", "m6") in edges




def test_module_collapsing_in_the_python_renderer():
    nn = cr.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return (self.fc(x).relu() + x)

    model = nn.Sequential(*[Block() for _ in range(4)], nn.Linear(4, 1))
    with cr.viz.record_modules(model) as mods:
        out = model(cr.randn(2, 4)).sum()
    g = cr.viz.graph(out, modules=mods, depth=1)
    nodes, edges = svg_structure(g.to_svg(renderer="python"))
    assert {"m0", "m1", "m2", "m3", "m4"} <= set(nodes) and ("m0", "m1") in edges and ("m3", "m4") in edges
    assert nodes["m0"] == ["0", "(Block, 5 nodes)"] or nodes["m0"][0] == "0"
@pytest.mark.parametrize("script", ["lecture_add_mul.py", "lecture_sigmoid_gate.py", "lecture_apples.py"])
def test_lecture_examples_run(script, capsys):
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out = capsys.readouterr().out
    expected = {"lecture_add_mul.py": "df/dz = 3", "lecture_sigmoid_gate.py": "f = 0.73",
                "lecture_apples.py": "df/dtax = 50"}[script]
    assert expected in out


def test_mlp_graph_example(tmp_path):
    r = subprocess.run([sys.executable, str(EXAMPLES / "mlp_graph_svg.py"), str(tmp_path / "mlp.svg")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = tmp_path / ("mlp.svg" if shutil.which("dot") else "mlp.dot")
    text = out.read_text()
    assert text.strip() and ("<svg" in text if out.suffix == ".svg" else parse_dot(text))
    assert "db = a^T g" in r.stdout


def test_set_renderer_and_parameter_names():
    loss, mods = mlp_with_modules()
    g = cr.viz.graph(loss, modules=mods)
    assert {g.names[id(leaf)] for leaf in g.leaves} == {"0.weight", "0.bias", "2.weight", "2.bias"}
    try:
        cr.viz.set_renderer("python")
        assert 'class="chainrule-graph"' in g._repr_svg_()
        with pytest.raises(ValueError, match="set_renderer"):
            cr.viz.set_renderer("cairo")
    finally:
        cr.viz.set_renderer(None)
    assert graph_module.RENDERER is None
