"""cr.viz.graph on static graphs: a cr.jit.trace result and a cr.compile plan before/after the passes."""
import re
import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.jit.plan import PASSES

HAS_DOT = shutil.which("dot") is not None


def mlp():
    cr.manual_seed(0)
    return cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))


def boxes(dot):
    return re.findall(r"^  (\w+) \[.*label=\"(.*)\"\];$", dot, re.M)


def edges(dot):
    return re.findall(r"^  (\w+) -> (\w+);$", dot, re.M)


@pytest.fixture(scope="module")
def traced():
    m = mlp().eval()
    return cr.jit.trace(m, (cr.randn(3, 4),))


@pytest.fixture(scope="module")
def compiled():
    m = mlp()
    opt = cr.optim.SGD(m.parameters(), lr=0.1)
    x, y = cr.randn(3, 4), cr.randn(3, 2)

    # without the numba passes (ewise, biasrelu; test_generated_kernels_are_drawn_as_fused below):
    # Sub then Mul become one fused, in-place NumPy run
    @cr.compile(passes=[p for p in PASSES if p not in ("ewise", "biasrelu")])
    def step(x, y):
        opt.zero_grad()
        d = m(x) - y
        loss = (d * d).mean()
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        step(x, y)
    assert step.stats["replays"] == 1
    return step


def test_traced_mlp_dot(traced):
    g = cr.viz.graph(traced)
    assert isinstance(g, cr.viz.IRGraph)
    dot = g.to_dot()
    bs = boxes(dot)
    labels = [lab for _, lab in bs]
    ops = [lab.split("\\n")[0].split(" = ")[1] for b, lab in bs if b.startswith("n")]
    assert ops == ["Linear", "Relu", "Linear"]
    assert len(bs) == 1 + 4 + 3 + 1  # input, 4 weights, 3 ops, output
    for name, shape in [("0.weight", "(8, 4) float32"), ("0.bias", "(8,) float32"),
                        ("2.weight", "(2, 8) float32"), ("2.bias", "(2,) float32")]:
        assert f"{name}\\n{shape}" in labels
    assert any("(3, 8) float32" in lab for lab in labels)
    assert len(edges(dot)) == 3 + 1 + 3 + 1  # 3 into each Linear, into the ReLU, into the output
    assert cr.viz.ir_graph(traced.graph).to_dot() == dot
    assert "3 ops" in repr(g)


def test_compiled_before_and_after_passes(compiled):
    before, after = cr.viz.graph(compiled, passes=False), cr.viz.graph(compiled)
    db, da = before.to_dot(), after.to_dot()
    assert "fused" not in db and before.fused == []
    assert after.fused == [["fused: 2 ops, 1 in place", "Sub + Mul", "(3, 2) float32"]]
    fused_box = [b for b, lab in boxes(da) if lab.startswith("fused")]
    assert len(fused_box) == 1 and "shape=box3d" in da
    assert len(boxes(da)) == len(boxes(db)) - 1  # two ops became one box
    plan = compiled.plans()[0]
    assert len(boxes(db)) == len(plan.graph_before) + 2 + 1  # steps, 2 inputs, the output
    assert len(boxes(da)) == len(plan.steps) + 2 + 1
    labels = " ".join(lab for _, lab in boxes(db))
    for piece in ("input 0", "input 1", "0.weight", "2.bias", "Linear backward", "SGD.step", "SGD.zero_grad",
                  "accumulate .grad"):
        assert piece in labels
    # the fused box reads the Linear's output and input 1 and feeds the Mean
    (fb,) = fused_box
    heads = {h for t, h in edges(da) if t == fb}
    assert any("Mean" in dict(boxes(da))[h] for h in heads)


@pytest.mark.parametrize("renderer", ["python"] + (["graphviz"] if HAS_DOT else []))
def test_svg_and_save(compiled, traced, renderer, tmp_path):
    after, before = cr.viz.graph(compiled), cr.viz.graph(compiled, passes=False)
    svg_a, svg_b = after.to_svg(renderer=renderer), before.to_svg(renderer=renderer)
    assert svg_a.lstrip().startswith(("<?xml", "<svg")) and "fused: 2 ops" in svg_a
    assert "fused" not in svg_b and "Sub" in svg_b
    for g, name in [(after, "a.svg"), (cr.viz.graph(traced), "t.svg"), (before, "b.dot")]:
        path = g.save(tmp_path / name, renderer=renderer)
        text = open(path).read()
        assert "0.weight" in text
    assert "Relu" in cr.viz.graph(traced)._repr_svg_()


def test_generated_kernels_are_drawn_as_fused():
    """The numba passes' kernels: bias + ReLU after the Linear, the loss's Sub + Mul run and its
    backward as generated elementwise kernels, each one box naming what it fused."""
    m = mlp()
    opt = cr.optim.SGD(m.parameters(), lr=0.1)
    x, y = cr.randn(3, 4), cr.randn(3, 2)

    @cr.compile
    def step(x, y):
        opt.zero_grad()
        d = m(x) - y
        loss = (d * d).mean()
        loss.backward()
        opt.step()
        return loss
    for _ in range(3):
        step(x, y)
    fused = cr.viz.graph(step).fused
    assert ["fused: Linear + bias + ReLU", "bias and ReLU in one pass, in place", "(3, 8) float32"] in fused
    assert ["fused kernel: 2 ops, 1 in place", "Sub + Mul", "(3, 2) float32"] in fused
    assert any(lines[1] == "Mul backward + grad sum + Sub backward" for lines in fused)


def test_plan_and_errors(compiled):
    plan = compiled.plans()[0]
    dot = cr.viz.ir_graph(plan).to_dot()  # a bare plan: no module to name its parameters from
    assert "fused: 2 ops" in dot and "tensor (8, 4)" in dot and "0.weight" not in dot
    with pytest.raises(ValueError, match="no plan yet"):
        cr.viz.graph(cr.compile(lambda x: x * 2))
    with pytest.raises(TypeError, match="traced module"):
        cr.viz.ir_graph(object())
    with pytest.raises(ValueError, match="no graph behind it"):
        cr.viz.graph(cr.ones(2))
    t = cr.ones(2, requires_grad=True)
    assert "ops" in repr(cr.viz.graph((t * 2).sum()))  # tensors still draw their autograd graph
    assert np.isfinite(compiled(cr.randn(3, 4), cr.randn(3, 2)).item())
