"""Comparisons and logical ops as graph-free primitives (issue 15): ``Compare`` (eq ne lt le gt ge) and
``Logical`` (& | ^ ~, logical_and/or/xor/not) against torch (values, dtypes, promotion, broadcasting,
errors), no gradient; jit.trace records them (the graph follows its inputs, save/load), cr.compile
replays them (ReLU6/Hardtanh/Softplus/PReLU/Hardswish MLPs train to eager's weights without a graph
break) and onnx.export maps them (onnxruntime agrees)."""
import io
import operator

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

_rng = np.random.default_rng(15)


def both(fn, *arrays):
    """fn(L, *tensors) on chainrule and torch: same dtype, shape and values (or the same exception type)."""
    outs = []
    for L in (cr, torch):
        try:
            outs.append(fn(L, *[L.tensor(a) for a in arrays]))
        except Exception as e:  # noqa: BLE001  (compared below)
            outs.append(e)
    c, t = outs
    if isinstance(t, Exception):
        assert isinstance(c, type(t)), f"torch raised {type(t).__name__}: {t}; chainrule gave {c!r}"
        return c
    assert not isinstance(c, Exception), f"chainrule raised {type(c).__name__}: {c}"
    cn, tn = c.numpy(), t.numpy()
    assert str(cn.dtype) == str(tn.dtype) and cn.shape == tn.shape, (cn.dtype, tn.dtype, cn.shape, tn.shape)
    np.testing.assert_array_equal(cn, tn)
    return c


FLOATS = np.array([[0.1, -1.0, np.nan, np.inf], [0.0, -0.0, 2.5, -np.inf], [1.0, 3.0, -2.0, 0.5]], np.float32)
INTS = np.array([[1, -2, 3, 0], [5, 0, -7, 2], [1, 1, 2, 3]], np.int64)
CMP = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
       "ge": operator.ge}


@pytest.mark.parametrize("name", sorted(CMP))
def test_comparisons_match_torch(name):
    sym = CMP[name]
    row = FLOATS[1]
    for other in (0, 0.5, -1, True, np.inf, np.nan, 3):  # a Python number, both sides
        both(lambda L, x: sym(x, other), FLOATS)
        both(lambda L, x: sym(other, x), FLOATS)
        both(lambda L, x: sym(x, other), INTS)
    both(lambda L, x, y: sym(x, y), FLOATS, row)                      # broadcasting
    both(lambda L, x, y: getattr(x, name)(y), FLOATS, row[:, None][:3] * 0 + 1)
    both(lambda L, x, y: getattr(L, name)(x, y), INTS, FLOATS)        # int vs float: in float32, as torch
    both(lambda L, x, y: sym(x, y), FLOATS, np.array(0.1))            # 0-d float64: compared in float32
    both(lambda L, x, y: sym(x, y), INTS.astype(np.int8), np.array(300))  # 0-d int64 wraps into int8
    both(lambda L, x: sym(x, 300), INTS.astype(np.uint8))            # a Python int wraps, as torch casts it
    both(lambda L, x: sym(x, -1), INTS.astype(np.uint8))
    both(lambda L, x, y: sym(x, y), INTS > 0, INTS)                   # bool vs int
    both(lambda L, x, y: sym(x, y), np.zeros((0, 4), np.float32), row)
    both(lambda L, x, y: sym(x, y), np.array(2.0, np.float32), np.array(3.0, np.float32))  # 0-d
    both(lambda L, x, y: sym(x, y), FLOATS, FLOATS[:2])               # RuntimeError: shapes
    both(lambda L, x: sym(x, 2 ** 70), INTS)                          # OverflowError
    with pytest.raises(TypeError):
        getattr(cr.tensor(FLOATS), name)("a")
    with pytest.raises(TypeError):
        getattr(cr.tensor(FLOATS), name)([1.0, 2.0, 3.0, 4.0])


def test_operators_with_other_types_fall_back_as_torch():
    """A comparison operator with a non-number returns NotImplemented, as torch's: == and != then compare
    identities (False/True), the orderings raise TypeError; the methods raise TypeError."""
    for L in (cr, torch):
        t = L.ones(2)
        for other in (None, "a", [1.0, 1.0], (1, 2), object()):
            assert (t == other) is False and (t != other) is True and (other == t) is False
            with pytest.raises(TypeError):
                t < other
            with pytest.raises(TypeError):
                other >= t
        with pytest.raises(TypeError):
            t.eq(None)
    both(lambda L, x: x == np.float32(1.0), FLOATS)                      # NumPy scalars are numbers


def test_logical_ops_match_torch():
    b, c = INTS > 0, INTS < 2
    for sym, name in ((operator.and_, "bitwise_and"), (operator.or_, "bitwise_or"), (operator.xor, "bitwise_xor")):
        both(lambda L, x, y: sym(x, y), b, c)
        both(lambda L, x, y: sym(x, y), b, c[1])                      # broadcasting
        both(lambda L, x, y: sym(x, y), INTS, INTS[::-1].copy())
        both(lambda L, x, y: sym(x, y), INTS.astype(np.int32), b)      # int32 with bool: int32
        both(lambda L, x, y: sym(x, y), INTS.astype(np.uint8), INTS.astype(np.int8))  # int16, as torch
        both(lambda L, x, y: getattr(L, name)(x, y), INTS.astype(np.int8), np.array(1000))  # 0-d wraps
        both(lambda L, x: sym(x, 1), b)                               # bool and int: int64
        both(lambda L, x: sym(x, True), INTS)
        both(lambda L, x: sym(3, x), INTS)                            # reflected
        both(lambda L, x: sym(x, 1.5), INTS)                          # NotImplementedError, as torch
        both(lambda L, x, y: sym(x, y), FLOATS, FLOATS)
        both(lambda L, x, y: sym(x, y), FLOATS.astype(np.float64), INTS)
        both(lambda L, x, y: sym(x, y), b, c[:2, :2])                 # RuntimeError: shapes
    for name in ("logical_and", "logical_or", "logical_xor"):
        both(lambda L, x, y: getattr(L, name)(x, y), FLOATS, INTS[1])  # any dtypes: nonzero is True
        both(lambda L, x, y: getattr(x, name)(y), b, FLOATS)
        both(lambda L, x, y: getattr(L, name)(x, y), b, c[:2])
        with pytest.raises(TypeError):
            getattr(cr, name)(cr.tensor(b), 1)
    both(lambda L, x: ~x, b)
    both(lambda L, x: ~x, INTS.astype(np.int8))
    both(lambda L, x: ~x, FLOATS)                                     # TypeError, as torch
    both(lambda L, x: x.bitwise_not(), np.array(True))
    both(lambda L, x: L.logical_not(x), FLOATS)
    both(lambda L, x: x.logical_not(), INTS)
    both(lambda L, x: L.isnan(x), FLOATS)
    both(lambda L, x: x.isnan(), INTS)


def _first_after(fn):
    """fn(L, x, ...) applied in place: returns x (its dtype and values are compared), checks fn returned x."""
    def run(L, x, *rest):
        out = fn(L, x, *rest)
        assert out is x
        return x
    return run


def test_in_place_variants_match_torch():
    b, c = INTS > 0, INTS < 2

    def iand(L, x, y):
        x &= y
        return x

    def ior(L, x, y):
        x |= y
        return x

    def ixor(L, x, y):
        x ^= y
        return x
    for f in (iand, ior, ixor):
        both(_first_after(f), b, c)
        both(_first_after(f), INTS, INTS[::-1].copy())
        both(_first_after(f), INTS, b)
        both(_first_after(f), b, INTS)                                  # RuntimeError: int64 into bool
    for name in ("bitwise_and_", "bitwise_or_", "bitwise_xor_", "logical_and_", "logical_or_", "logical_xor_"):
        both(_first_after(lambda L, x, y: getattr(x, name)(y)), b, c)
    for name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_"):
        both(_first_after(lambda L, x, y: getattr(x, name)(y)), FLOATS, FLOATS[1])   # 1.0/0.0 in x's dtype
        both(_first_after(lambda L, x: getattr(x, name)(2)), INTS)
        both(_first_after(lambda L, x, y: getattr(x, name)(y)), FLOATS[:1], FLOATS)  # RuntimeError: shape
    both(_first_after(lambda L, x: x.bitwise_not_()), INTS)
    both(_first_after(lambda L, x: x.logical_not_()), FLOATS)
    both(lambda L, x: x.bitwise_not(), FLOATS)                          # NotImplementedError (~x: TypeError)
    both(lambda L, x: L.bitwise_not(x), FLOATS)


def test_no_gradient_and_graph_free():
    x = cr.tensor(FLOATS, requires_grad=True)
    for out in (x > 0, x == x, (x > 0) & (x < 1), ~(x > 0), x.isnan(), cr.logical_or(x, x), x.logical_not()):
        assert out.dtype == cr.bool and not out.requires_grad and out.grad_fn is None
    y = cr.where(x > 0, x, x * 0.5).sum()
    y.backward()
    t = torch.tensor(FLOATS, requires_grad=True)
    torch.where(t > 0, t, t * 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_jit_trace_records_them_and_follows_other_values(tmp_path):
    def f(x):
        keep = (x > 0) & ~(x > 2) | (x == -1)
        promoted = (x.int() >= 0.5) | (x.int() == (x > 0).long())  # int32 vs float, int32 vs int64: a dtype param
        return (cr.where(keep, x, x * 0.1) + x.clamp(-1, 1) * (x < 0.5).float() + cr.logical_xor(x, x > 1).float()
                + promoted.float())
    x = cr.tensor(_rng.standard_normal((4, 5)).astype(np.float32) * 2)
    traced = cr.jit.trace(f, x)  # verifies the replay on other values against eager: raises if a mask froze
    ops = [n.op for n in traced.graph.nodes]
    assert ops.count("Compare") == 8 and ops.count("Logical") == 5, ops
    assert any(n.params.get("dtype") is not None for n in traced.graph.nodes if n.op == "Compare")
    for seed in range(3):
        z = cr.tensor(np.random.default_rng(seed).standard_normal((4, 5)).astype(np.float32) * 2)
        np.testing.assert_array_equal(traced(z).numpy(), f(z).numpy())
    traced.save(tmp_path / "m")
    loaded = cr.jit.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded(x).numpy(), f(x).numpy())


ACTIVATIONS = {
    "ReLU6": lambda: nn.ReLU6(),
    "Hardtanh": lambda: nn.Hardtanh(-0.5, 0.7),
    "Softplus": lambda: nn.Softplus(beta=2.0, threshold=1.0),
    "PReLU": lambda: nn.PReLU(16),
    "Hardswish": lambda: nn.Hardswish(),
}


def _mlp(act):
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), ACTIVATIONS[act](), nn.Linear(16, 16), ACTIVATIONS[act](),
                         nn.Linear(16, 3))


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_compiled_mlp_trains_to_eager_weights_without_graph_breaks(act):
    rng = np.random.default_rng(1)
    data = [(cr.tensor(rng.standard_normal((16, 8)).astype(np.float32) * 2), cr.tensor(rng.integers(0, 3, 16)))
            for _ in range(6)]
    weights = []
    for compiled in (False, True):
        model = _mlp(act)
        opt = cr.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        f = cr.compile(step, fullgraph=True) if compiled else step
        losses = [float(f(x, y)) for x, y in data]
        weights.append([p.detach().numpy().copy() for p in model.parameters()])
        if compiled:
            assert f.stats["graph_breaks"] == 0 and f.stats["replays"] == len(data) - 2, f.stats
            assert any(st.kind == "fwd" and st.p["op"].__name__ in ("Compare", "Logical")
                       for st in f.plans()[0].graph_before)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert len(set(losses)) > 1


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_onnx_export_maps_them(act):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = _mlp(act).eval()
    f = io.BytesIO()
    dyn = None if act == "Softplus" else {"x": {0: "batch"}, "y": {0: "batch"}}  # softplus makes a zeros constant
    proto = cr.onnx.export(model, (cr.randn(4, 8),), f, input_names=["x"], output_names=["y"], dynamic_axes=dyn)
    types = {n.op_type for n in proto.graph.node}
    assert types & {"Greater", "Less", "LessOrEqual", "GreaterOrEqual", "Equal"}, types
    sess = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(2).standard_normal((4, 8)).astype(np.float32) * 3
    with cr.no_grad():
        want = model(cr.tensor(x)).numpy()
    np.testing.assert_allclose(sess.run(None, {"x": x})[0], want, rtol=1e-5, atol=1e-6)


def test_onnx_export_of_every_comparison_and_logical_op():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")

    class M(nn.Module):
        def forward(self, x, k):
            masks = [x == 0.5, x != 0.5, x < 0, x <= 0, x > 1, x >= 1, k > 2, x > k]
            m = (masks[0] | masks[2]) & ~masks[4] ^ masks[6]
            m = m | cr.logical_and(x, k) | cr.logical_xor(masks[1], masks[3]) | cr.logical_or(masks[5], masks[7])
            return cr.where(m & cr.logical_not(x.isnan()), x, -x), (k & 6) | (k ^ 1), ~k
    x = np.array([[0.5, -1.0, 2.0, np.nan], [0.0, 1.0, 3.0, -0.5]], np.float32)
    k = np.array([[1, 2, 3, 4], [0, 5, 6, 7]], np.int64)
    for opset in (17, 18):
        f = io.BytesIO()
        if opset == 17:  # bitwise ops on integers are ONNX BitwiseAnd/Or/Xor/Not from opset 18
            with pytest.raises(cr.onnx.ExportError, match=r"op Logical .*opset_version=18"):
                cr.onnx.export(M(), (cr.tensor(x), cr.tensor(k)), f, opset_version=opset)
            continue
        cr.onnx.export(M(), (cr.tensor(x), cr.tensor(k)), f, opset_version=opset)
        sess = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
        got = sess.run(None, {"input0": x, "input1": k})
        want = M()(cr.tensor(x), cr.tensor(k))
        for g_, w in zip(got, want):
            np.testing.assert_array_equal(g_, w.numpy())
