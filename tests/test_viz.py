"""chainrule.viz: the explain record holds the lecture slides' numbers, DOT parses, the hook is free."""
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import engine

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
    if shutil.which("dot"):
        svg = tmp_path / "g.svg"
        g.save(svg)
        assert svg.stat().st_size > 0 and "<svg" in svg.read_text()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        g.save(tmp_path / "g2.svg")


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
