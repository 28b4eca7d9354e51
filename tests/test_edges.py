"""Edge cases against torch: float32 overflow in std/var/norm, gradient conventions at nan and inf,
and size-0 dims (empty tensors) through every elementwise, reduction, matrix-product and movement
op. Values, dtypes and input gradients (for a random upstream gradient) are compared with torch by
``helpers.compare``: nan and +-inf positions must match exactly. Where torch raises, chainrule must
raise the same exception type, with a message naming the op and the shape."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import compare

NAN, INF = float("nan"), float("inf")
# the inputs overflow, divide by zero and reduce empty slices on purpose (torch warns about some too)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")


def f32(*values):
    return np.array(values, dtype=np.float32)


def outputs(L, fn, arrays, seed=0):
    """Run ``fn`` (which may return a tuple) and backpropagate a random upstream gradient through
    its first output. Returns ("raise", type) or (values, grads)."""
    ins = [L.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    try:
        out = fn(L, *ins)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return "raise", type(e)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    values = [(o.detach().numpy(), o.requires_grad) for o in outs]
    grads = []
    if outs and outs[0].requires_grad:
        up = np.random.default_rng(seed).standard_normal(tuple(outs[0].shape)).astype(values[0][0].dtype)
        outs[0].backward(L.tensor(up))
        grads = [None if t.grad is None or not t.grad.numpy().any() else t.grad.numpy() for t in ins]
    return values, grads


def same_as_torch(fn, *arrays):
    """``fn(L, *tensors)`` for L = chainrule and torch: both raise the same type, or every output
    (count, shape, dtype, requires_grad, values with nan/inf positions) and input gradient agree
    (a gradient torch leaves None must be None or all zeros here)."""
    ours, theirs = outputs(cr, fn, arrays), outputs(torch, fn, arrays)
    if theirs[0] == "raise" or ours[0] == "raise":
        assert ours == theirs, f"chainrule {ours}, torch {theirs}"
        return
    assert len(ours[0]) == len(theirs[0]), f"{len(ours[0])} outputs, torch {len(theirs[0])}"
    for (a, ra), (b, rb) in zip(ours[0], theirs[0]):
        assert a.dtype == b.dtype and a.shape == b.shape and ra == rb, (a.dtype, a.shape, ra, b.dtype, b.shape, rb)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
        if b is None:
            assert a is None, f"grad of input {i}: torch has none (or zeros), chainrule {a}"
        else:
            assert a is not None, f"grad of input {i}: chainrule has none, torch {b}"
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=f"grad of input {i}")


# ---- 1. float32 std / var / norm: no overflow in the squares (torch sums them in float64) ----------

BIG = {
    "1e30": np.array([[1e30, 0.5, -3e29], [2e19, 1.0, 3.0]], np.float32),
    "squares overflow, var not": np.array([[2e19, 0, 0, 0], [1.5e19, 1.5e19, -1.5e19, 2e19]], np.float32),
    "squares underflow": np.array([[1e-30, 0.0, 2e-30], [1e-20, 3e-20, 0]], np.float32),
    "one entry per slice": np.array([[1e27], [-2e27]], np.float32),
    "constant": np.ones((2, 3), np.float32),
}
SPREAD = {
    "std": lambda L, x: x.std(),
    "var": lambda L, x: x.var(),
    "std dim": lambda L, x: x.std(1),
    "var dim keepdim": lambda L, x: x.var(1, keepdim=True),
    "std correction 0": lambda L, x: x.std(dim=1, correction=0),
    "var dim 0 biased": lambda L, x: x.var(0, unbiased=False),
    "norm": lambda L, x: x.norm(),
    "norm dim": lambda L, x: x.norm(dim=1),
    "norm dim keepdim": lambda L, x: x.norm(dim=0, keepdim=True),
    "norm p=1": lambda L, x: x.norm(1, dim=1),
    "norm p=inf": lambda L, x: x.norm(INF, dim=1),
}


@pytest.mark.parametrize("values", BIG.values(), ids=BIG.keys())
@pytest.mark.parametrize("fn", SPREAD.values(), ids=SPREAD.keys())
def test_std_var_norm_float32_extremes_match_torch(fn, values):
    same_as_torch(fn, values)


def test_std_of_1e30_is_7e29_with_torch_gradient():
    out, _ = compare(lambda x: x.std(), lambda x: x.std(), [f32(1e30, 0.5)])
    assert out.dtype == cr.float32 and math.isclose(out.item(), 7.0710678e29, rel_tol=1e-6)
    compare(lambda x: x.var(), lambda x: x.var(), [f32(1e30, 0.5)])  # inf, gradient finite (+-1e30 g)


def test_ordinary_std_stays_in_float32():
    """The float64 redo is only for results that overflowed or are tiny: an ordinary std is one
    float32 graph closed by NormSqrt (no casts)."""
    x = cr.randn(4, 5, requires_grad=True)
    assert x.std(1)._node.op.__name__ == "NormSqrt" and x.var()._node.op.__name__ == "Div"
    assert cr.tensor(f32(1e30, 0.5)).std()._node is None  # no grad needed: no graph either way


def test_norm_of_one_denormal_entry_is_its_abs():
    # (not std: torch's float32 std backward overflows to inf at a denormal std)
    same_as_torch(lambda L, x: x.norm(dim=1), np.array([[1e-40], [-2e-40]], np.float32))
    same_as_torch(lambda L, x: x.norm(), np.array(1e-40, np.float32))


@pytest.mark.parametrize("p", [0, 0.5, 3, -1, -INF])
def test_norm_other_p_at_zeros_matches_torch(p):
    x = np.array([[0.0, 1.0, -3.0], [0, 0, 0], [2, -2, 1]], np.float32)
    same_as_torch(lambda L, x: x.norm(p, dim=1), x)
    same_as_torch(lambda L, x: x.norm(p), x)


# ---- 2. gradient conventions at nan and inf -----------------------------------------------------

V = f32(NAN, INF, -INF, 0.0, 1.0, -2.0, 3.0)
W = f32(1.0, 1.0, 1.0, 0.0, NAN, INF, 3.0)
ROWS = np.array([[NAN, 1.0, 2.0], [1.0, NAN, NAN], [INF, INF, 1.0], [2.0, 2.0, 1.0], [-INF, -INF, 5.0]], np.float32)
AT_NAN = {
    "abs": (lambda L, x: x.abs(), V),
    "relu": (lambda L, x: x.relu(), V),
    "sign": (lambda L, x: x.sign(), V),
    "sign 0-d nan": (lambda L, x: x.sign(), np.array(NAN, np.float32)),
    "x * sign(x)": (lambda L, x: x * x.sign(), V),
    "max()": (lambda L, x: x.max(), V),
    "min()": (lambda L, x: x.min(), V),
    "max() two nans": (lambda L, x: x.max(), f32(NAN, 1.0, NAN)),
    "min() infs tie": (lambda L, x: x.min(), f32(-INF, 1.0, -INF)),
    "max(dim)": (lambda L, x: x.max(1), ROWS),
    "min(dim) keepdim": (lambda L, x: x.min(1, keepdim=True), ROWS),
    "max(0) of 0-d nan": (lambda L, x: x.max(0), np.array(NAN, np.float32)),
    "amax(dim)": (lambda L, x: x.amax(1), ROWS),
    "amin(dim)": (lambda L, x: x.amin(1), ROWS),
    "amax()": (lambda L, x: x.amax(), ROWS),
    "amin((0, 1))": (lambda L, x: x.amin((0, 1)), ROWS[2:]),
    "prod 0-d nan": (lambda L, x: x.prod(), np.array(NAN, np.float32)),
    "prod 0-d inf": (lambda L, x: x.prod(), np.array(INF, np.float32)),
    "prod(0) 0-d": (lambda L, x: x.prod(0), np.array(-INF, np.float32)),
    "maximum": (lambda L, x, y: torch.maximum(x, y) if L is torch else cr.maximum(x, y), V, W),
    "minimum": (lambda L, x, y: torch.minimum(x, y) if L is torch else cr.minimum(x, y), V, W),
    "clamp": (lambda L, x: x.clamp(-1.0, 2.0), V),
    "clamp nan bound": (lambda L, x: x.clamp(NAN, 2.0), V),
    "clamp tensor min": (lambda L, x, lo: x.clamp(lo), V, W),
    "clamp tensor max": (lambda L, x, hi: x.clamp(max=hi), V, W),
    "clamp tensor both": (lambda L, x, lo: x.clamp(lo, lo.abs()), V, W),
    "clamp min > max": (lambda L, x, lo: x.clamp(lo, lo * 0.5), V, W),
    "clamp broadcast": (lambda L, x, lo: x.clamp(lo.reshape(7, 1)), V, W),
}


@pytest.mark.parametrize("case", AT_NAN.values(), ids=AT_NAN.keys())
def test_nan_inf_gradient_conventions_match_torch(case):
    fn, *arrays = case
    same_as_torch(fn, *arrays)


def test_sign_is_zero_at_nan_and_differentiable_with_zero_gradient():
    x = cr.tensor([NAN, -2.0, 0.0, 3.0], requires_grad=True)
    s = x.sign()
    assert s.requires_grad and s.tolist()[0] == 0.0 and s.dtype == cr.float32
    s.backward(cr.tensor([NAN, INF, 1.0, 2.0]))  # torch: zeros whatever the upstream gradient
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert not cr.tensor([1.0, -1.0]).sign().requires_grad
    assert cr.tensor([True, False]).sign().dtype == cr.bool and cr.tensor([-3, 0, 2]).sign().tolist() == [-1, 0, 1]
    with cr.no_grad():
        assert not x.sign().requires_grad


def test_clamp_tensor_bounds_dtype_and_second_derivatives():
    same_as_torch(lambda L, x, lo: x.clamp(lo), f32(1.0, -2.0, 3.0), np.array([0.5], np.float64))
    same_as_torch(lambda L, x, lo: x.clamp(lo), np.array([1, -2, 3]), f32(0.5, 0.5, 0.5))
    x = cr.tensor([0.3, -1.5, 2.5], dtype=cr.float64, requires_grad=True)
    lo = cr.tensor([0.0, -1.0, 0.0], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda a, b: a.clamp(b, b + 2.0), (x, lo))
    assert cr.autograd.gradgradcheck(lambda a, b: (a.clamp(b, b + 2.0) ** 2).sum(), (x, lo))


@pytest.mark.parametrize("dim", [(), []])
@pytest.mark.parametrize("op", ["all", "any"])
def test_all_any_over_no_dims_are_elementwise(op, dim):
    x = np.array([[1.0, 0.0], [2.0, NAN]], np.float32)
    same_as_torch(lambda L, t: getattr(t, op)(dim=dim), x)
    same_as_torch(lambda L, t: getattr(t, op)(dim=dim), x > 0)
    same_as_torch(lambda L, t: getattr(t, op)(), x)


@pytest.mark.parametrize("shape,chunks,dim", [((0,), 2, 0), ((2, 0), 3, 1), ((0, 3), 1, 0), ((4,), 3, 0)])
def test_chunk_of_an_empty_dim_gives_chunks_empty_pieces(shape, chunks, dim):
    same_as_torch(lambda L, x: x.chunk(chunks, dim), np.zeros(shape, np.float32))


# ---- 3. size-0 dims ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0), (2, 0, 3)])
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_over_empty_tensors(op, shape):
    for d in range(len(shape)):
        same_as_torch(lambda L, x: getattr(x, op)(d), np.zeros(shape, np.float32))
    same_as_torch(lambda L, x: x.logsumexp((0, 1), keepdim=True), np.zeros(shape, np.float32))


@pytest.mark.parametrize("a,b", [((2, 0), (0, 3)), ((2, 2, 0), (0, 3)), ((2, 2, 0), (2, 0, 3)), ((2, 3, 0), (0,)),
                                 ((0,), (0, 3)), ((0,), (0,)), ((1, 2, 0), (3, 0, 4)), ((0, 2, 3), (3, 4))])
def test_matmul_backward_with_zero_size_dims(a, b):
    rng = np.random.default_rng(0)
    compare(lambda x, y: x @ y, lambda x, y: x @ y,
            [rng.standard_normal(a).astype(np.float32), rng.standard_normal(b).astype(np.float32)])


@pytest.mark.parametrize("x,w", [((2, 0), (4, 0)), ((2, 3, 0), (4, 0)), ((0,), (4, 0)), ((2, 3), (0, 3)),
                                 ((0, 3), (4, 3))])
def test_linear_backward_with_zero_size_dims(x, w):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (x, w, w[:1])]
    compare(lambda x, w, b: cr.nn.functional.linear(x, w, b), lambda x, w, b: torch.nn.functional.linear(x, w, b),
            arrays)
    compare(lambda x, w, b: cr.nn.functional.linear(x, w), lambda x, w, b: torch.nn.functional.linear(x, w),
            arrays)


NO_IDENTITY = {
    "amax()": lambda L, x: x.amax(),
    "amin(dim)": lambda L, x: x.amin(-1),
    "amax(all dims)": lambda L, x: x.amax((0, 1)),
    "argmax()": lambda L, x: x.argmax(),
    "argmin(dim)": lambda L, x: x.argmin(-1),
    "max()": lambda L, x: x.max(),
    "min()": lambda L, x: x.min(),
    "max(dim)": lambda L, x: x.max(-1),
    "min(dim)": lambda L, x: x.min(-1, keepdim=True),
    "norm(inf)": lambda L, x: x.norm(INF),
    "norm(inf, dim)": lambda L, x: x.norm(INF, dim=-1),
}


@pytest.mark.parametrize("fn", NO_IDENTITY.values(), ids=NO_IDENTITY.keys())
def test_reductions_without_identity_on_empty_input_raise_like_torch(fn):
    x = np.zeros((3, 0), np.float32)
    theirs = outputs(torch, fn, [x])
    assert theirs[0] == "raise"
    with pytest.raises(theirs[1], match=r"\(\): Expected reduction dim .*input shape \[3, 0\]"):
        fn(cr, cr.tensor(x))
    same_as_torch(fn, np.zeros((0, 3), np.float32))  # the reduced dim is not empty (dim versions)


def test_empty_reduction_messages_name_the_op():
    with pytest.raises(RuntimeError, match=r"amax\(\).*\[0, 2\]"):
        cr.zeros(0, 2).amax()
    with pytest.raises(IndexError, match=r"argmin\(\): Expected reduction dim 1 .*\[2, 0\]"):
        cr.zeros(2, 0).argmin(1)
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim 0"):
        cr.zeros(0, 2).max(0)


CAT = {  # (shape, dtype) per tensor, dim
    "legacy empty last": ([(2, 3), (0,)], 0),
    "legacy empty first, dim 1": ([(0,), (2, 3), (2, 1)], 1),
    "legacy empty, dim -1": ([(2, 3), (0,), (2, 2)], -1),
    "all legacy empty, any dim": ([(0,), (0,)], 5),
    "legacy empty float64 promotes": ([(2, 3), ((0,), np.float64)], 0),
    "legacy empty 3-d": ([(0,), (2, 0, 3), (2, 4, 3)], 1),
    "2-d empty must match": ([(1, 0), (2, 3)], 0),
    "0-d at position 1": ([(0,), ()], 0),
    "dim out of range": ([(0,), (2, 3)], 2),
}


@pytest.mark.parametrize("specs,dim", CAT.values(), ids=CAT.keys())
def test_cat_skips_legacy_empty_1d_tensors_like_torch(specs, dim):
    rng = np.random.default_rng(0)
    specs = [s if len(s) == 2 and isinstance(s[0], tuple) else (s, np.float32) for s in specs]
    arrays = [rng.standard_normal(shape).astype(dtype) for shape, dtype in specs]
    same_as_torch(lambda L, *ts: L.cat(list(ts), dim), *arrays)


def test_cat_gives_skipped_empty_tensors_an_empty_gradient():
    a, e = cr.randn(2, 3, requires_grad=True), cr.zeros(0, requires_grad=True)
    cr.cat([e, a], 1).sum().backward()
    assert e.grad is not None and e.grad.shape == (0,) and a.grad.tolist() == [[1.0] * 3] * 2


# The sweep: every op reachable through the elementwise, reduction, linalg and movement primitives
# (not Index/IndexPut/Reshape), run forward and backward on inputs with a size-0 dim in every
# position, against torch: raise or not (same type), shapes, dtypes, values, gradients.

EMPTY_SHAPES = [(0,), (0, 3), (3, 0), (0, 0), (0, 2, 3), (2, 0, 3), (2, 3, 0)]
UNARY = {
    "neg": lambda L, x: -x, "exp": lambda L, x: x.exp(), "log": lambda L, x: x.log(), "sqrt": lambda L, x: x.sqrt(),
    "rsqrt": lambda L, x: x.rsqrt(), "sin": lambda L, x: x.sin(), "cos": lambda L, x: x.cos(),
    "tanh": lambda L, x: x.tanh(), "sigmoid": lambda L, x: x.sigmoid(), "relu": lambda L, x: x.relu(),
    "abs": lambda L, x: x.abs(), "sign": lambda L, x: x.sign(), "square": lambda L, x: x.square(),
    "reciprocal": lambda L, x: x.reciprocal(), "clamp": lambda L, x: x.clamp(-0.5, 0.5),
    "clamp tensor": lambda L, x: x.clamp(L.zeros(x.shape[-1:])), "clone": lambda L, x: x.clone(),
    "double": lambda L, x: x.double(), "pow": lambda L, x: x ** 2, "rpow": lambda L, x: 2.0 ** x,
    "where": lambda L, x: L.where(x > 0, x, 0.0),
    "sum": lambda L, x: x.sum(), "mean": lambda L, x: x.mean(), "prod": lambda L, x: x.prod(),
    "amax": lambda L, x: x.amax(), "max": lambda L, x: x.max(), "min": lambda L, x: x.min(),
    "var": lambda L, x: x.var(), "std": lambda L, x: x.std(), "norm": lambda L, x: x.norm(),
    "norm1": lambda L, x: x.norm(1), "norm3": lambda L, x: x.norm(3), "norm inf": lambda L, x: x.norm(INF),
    "argmax": lambda L, x: x.argmax(), "argmin": lambda L, x: x.argmin(), "all": lambda L, x: x.all(),
    "any": lambda L, x: x.any(), "flatten": lambda L, x: x.flatten(), "T": lambda L, x: x.T,
    "repeat": lambda L, x: x.repeat(*([2] * x.dim())), "repeat 0": lambda L, x: x.repeat(*([0] * x.dim())),
    "squeeze": lambda L, x: x.squeeze(), "unsqueeze": lambda L, x: x.unsqueeze(0),
    "stack": lambda L, x: L.stack([x, x]), "expand": lambda L, x: x.expand(2, *x.shape),
    "permute": lambda L, x: x.permute(*range(x.dim() - 1, -1, -1)),
    "x @ x.mT": lambda L, x: x @ x.mT if x.dim() >= 2 else x @ x,
    "x.mT @ x": lambda L, x: x.mT @ x if x.dim() >= 2 else x @ x,
}
for _d in range(3):
    UNARY.update({
        f"sum({_d})": lambda L, x, d=_d: x.sum(d), f"sum({_d}, keepdim)": lambda L, x, d=_d: x.sum(d, keepdim=True),
        f"mean({_d})": lambda L, x, d=_d: x.mean(d), f"prod({_d})": lambda L, x, d=_d: x.prod(d),
        f"amax({_d})": lambda L, x, d=_d: x.amax(d), f"amin({_d}, keepdim)": lambda L, x, d=_d: x.amin(d, True),
        f"max({_d})": lambda L, x, d=_d: x.max(d), f"min({_d}, keepdim)": lambda L, x, d=_d: x.min(d, keepdim=True),
        f"logsumexp({_d})": lambda L, x, d=_d: x.logsumexp(d), f"softmax({_d})": lambda L, x, d=_d: x.softmax(d),
        f"log_softmax({_d})": lambda L, x, d=_d: x.log_softmax(d), f"var({_d})": lambda L, x, d=_d: x.var(d),
        f"std({_d})": lambda L, x, d=_d: x.std(d), f"norm(dim={_d})": lambda L, x, d=_d: x.norm(dim=d),
        f"norm(inf, dim={_d})": lambda L, x, d=_d: x.norm(INF, dim=d),
        f"argmax({_d})": lambda L, x, d=_d: x.argmax(d), f"argmin({_d}, keepdim)": lambda L, x, d=_d: x.argmin(d, True),
        f"all({_d})": lambda L, x, d=_d: x.all(d), f"any({_d})": lambda L, x, d=_d: x.any(d),
        f"cat({_d})": lambda L, x, d=_d: L.cat([x, x], d), f"chunk(3, {_d})": lambda L, x, d=_d: x.chunk(3, d),
        f"split(2, {_d})": lambda L, x, d=_d: x.split(2, d), f"unbind({_d})": lambda L, x, d=_d: x.unbind(d),
        f"transpose(0, {_d})": lambda L, x, d=_d: x.transpose(0, d), f"flatten({_d})": lambda L, x, d=_d: x.flatten(d),
        f"squeeze({_d})": lambda L, x, d=_d: x.squeeze(d), f"stack({_d})": lambda L, x, d=_d: L.stack([x, x], d),
    })
BINARY = {
    "add": lambda L, a, b: a + b, "sub": lambda L, a, b: a - b, "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / b, "pow": lambda L, a, b: a.abs() ** b,
    "maximum": lambda L, a, b: L.maximum(a, b), "minimum": lambda L, a, b: L.minimum(a, b),
    "where": lambda L, a, b: L.where(a > b, a, b), "clamp(b)": lambda L, a, b: a.clamp(b),
    "clamp(b, b + 1)": lambda L, a, b: a.clamp(b, b + 1),
}


@pytest.mark.parametrize("shape", EMPTY_SHAPES, ids=str)
def test_empty_sweep_unary_reductions_movement(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    failures = []
    for name, fn in UNARY.items():
        try:
            same_as_torch(fn, x)
        except AssertionError as e:
            failures.append(f"{name}: {str(e)[:200]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("shape", EMPTY_SHAPES, ids=str)
def test_empty_sweep_binary_broadcasting(shape):
    rng = np.random.default_rng(0)
    failures = []
    for other in {shape, shape[-1:], (1,) * len(shape), (1,) + shape[1:]}:
        a, b = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(other).astype(np.float32)
        for name, fn in BINARY.items():
            try:
                same_as_torch(fn, a, b)
            except AssertionError as e:
                failures.append(f"{name} {shape} {other}: {str(e)[:200]}")
    assert not failures, "\n".join(failures)


def test_second_derivatives_through_the_changed_rules():
    """Relu's nan-passing mask, abs's sign, amax's and max()'s sharing, 0-d prod and logsumexp keep
    their rules differentiable (create_graph) and right (float64 gradgradcheck)."""
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    for fn in (lambda t: (t.relu() ** 2).sum(), lambda t: (t.abs() ** 3).sum(), lambda t: (t.amax(1) ** 2).sum(),
               lambda t: t.max() ** 2, lambda t: (t.logsumexp(1) ** 2).sum(), lambda t: t[0, 0].prod() ** 3,
               lambda t: (t.std(1) ** 2).sum(), lambda t: t.norm(3) ** 2):
        assert cr.autograd.gradgradcheck(fn, (x,))


def test_integer_tensor_powers_with_negative_exponents_match_torch():
    for base, exponent in ((1, [-1, 2, 0]), ([2, -1, 1, 3, -1], [-1, -3, -2, 2, -2])):
        ours = (cr.tensor(base) if isinstance(base, list) else base) ** cr.tensor(exponent)
        ref = (torch.tensor(base) if isinstance(base, list) else base) ** torch.tensor(exponent)
        assert ours.tolist() == ref.tolist() and str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]


def test_maximum_minimum_take_tensors_only_like_torch():
    for lib in (cr, torch):
        for call in (lambda: lib.maximum(lib.ones(2), 2.0), lambda: lib.ones(2).minimum(2.0),
                     lambda: lib.maximum(1, lib.ones(2))):
            with pytest.raises(TypeError, match="must be Tensor"):
                call()


# ---- issue 12: divergences the differential fuzzer found (tests/test_fuzz.py) ------------------------

def same(fn, *arrays, **kw):
    """``fn(L, *tensors)`` in chainrule and torch: values, dtypes and input gradients."""
    return compare(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), list(arrays), **kw)


def raises_as_torch(fn, *arrays, match=None):
    """torch raises on ``fn(L, *tensors)``; chainrule raises the same exception type (and ``match``)."""
    with pytest.raises(Exception) as ref:
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(ref.type, match=match):
        fn(cr, *[cr.tensor(a) for a in arrays])


X3 = np.random.default_rng(12).standard_normal((3, 4, 5))
J = np.array([0, 2, -1])


@pytest.mark.parametrize("key", [
    lambda L, i, j: (i, slice(None), j),      # a 0-d index tensor is an int (select): dims stay in place
    lambda L, i, j: (j, slice(None), i),
    lambda L, i, j: (i, j),
    lambda L, i, j: i,                        # alone: a select, as torch
    lambda L, i, j: (slice(None), j, Ellipsis, j),  # an Ellipsis for no dims: j, j stay adjacent
    lambda L, i, j: (j, Ellipsis, i, j),
    lambda L, i, j: (slice(None), j, None, Ellipsis, j),  # None separates them (result dims first)
])
def test_index_zero_d_tensor_and_empty_ellipsis(key):
    i = np.array(1)
    same(lambda L, x, i, j: x[key(L, i, j)], X3, i, J)


def test_index_zero_d_tensor_is_a_view():
    x = cr.tensor(X3.copy())
    y = x[cr.tensor(1), 2]
    y.fill_(7.0)
    assert float(x[1, 2, 0]) == 7.0


def _put(L, x, v, key):
    y = x.clone()
    y[key] = v
    return y


@pytest.mark.parametrize("key, vshape", [
    (lambda L, j: (L.tensor(1), slice(None), j), (3,)),
    (lambda L, j: (j, Ellipsis, L.tensor(0)), (1, 4)),
    (lambda L, j: j, (1, 1, 4, 5)),           # leading size-1 dims beyond y[j]'s: dropped, as torch
    (lambda L, j: (None, j), (1, 3, 4, 5)),
    (lambda L, j: slice(1, 2), (1, 1, 4, 5)),
])
def test_setitem_zero_d_index_and_leading_ones(key, vshape):
    v = np.random.default_rng(1).standard_normal(vshape)
    same(lambda L, x, v, j: _put(L, x, v, key(L, j)), X3, v, J)


def test_setitem_leading_ones_into_0d():
    same(lambda L, x, v: _put(L, x, v, Ellipsis), np.array(2.0), np.array([[3.0]]))


@pytest.mark.parametrize("key", [lambda L, x: L.tensor([0, 2]), lambda L, x: [0, 2],
                                 lambda L, x: (slice(None), L.tensor([1])), lambda L, x: L.tensor(True)])
@pytest.mark.parametrize("vdtype", [np.float32, np.int64])
def test_index_put_dtype_mismatch_raises(key, vdtype):
    raises_as_torch(lambda L, x, v: _put(L, x, v, key(L, x)), X3, np.ones((), vdtype),
                    match="Index put requires the source and destination dtypes match, got Double for the "
                          "destination and")


def test_index_put_dtype_mismatch_allowed_where_torch_allows():
    v32 = np.array([5.0], np.float32)
    # one value through a single boolean mask is torch's masked_fill (it casts); a basic key casts too
    same(lambda L, x, v: _put(L, x, v, x > 0), X3, v32, grad=False)
    same(lambda L, x, v: _put(L, x, v, (slice(None), x[0] > 0)), X3, v32, grad=False)
    same(lambda L, x, v: _put(L, x, v, (1, slice(0, 2))), X3, v32, grad=False)


def test_div_backward_does_not_square_the_divisor():
    # b * b under/overflows float32 (|b| < 1e-19, > 1e19) where -g (a / b) / b is finite
    a, b = f32(1e-30, 3e20, 2.0, -1e-25), f32(1e-20, 1e20, 4e19, 3e-20)
    same(lambda L, a, b: a / b, a, b)


def test_prod_backward_with_zero_and_overflowing_others():
    x = f32(1e30, 1e30, 0.0, 2.0).reshape(2, 2)
    same(lambda L, x: x.prod(), x)
    same(lambda L, x: x.prod(0), x)
    same(lambda L, x: x.reshape(4).prod(0), x)
    y = np.random.default_rng(3).standard_normal((3, 4, 2))
    y[1, 2, 0] = y[0, 0, 1] = 0.0
    for d in (0, 1, 2):
        same(lambda L, x: x.prod(d, keepdim=True), y)


def test_prod_backward_large_upstream_gradient():
    x = f32(1e10, 3e10, -2.0)
    c = cr.tensor(f32(1e30)), torch.tensor(f32(1e30))
    same(lambda L, x: x.prod() * (c[0] if L is cr else c[1]), x)


def test_prod_second_derivative():
    x = np.array([1e-200, 3.0, -2.0, 1e200])
    for L in (cr, torch):
        t = L.tensor(x, requires_grad=True)
        (g,) = L.autograd.grad(t.prod(), t, create_graph=True)
        (gg,) = L.autograd.grad((g * L.tensor([1.0, 2.0, 3.0, 4.0])).sum(), t)
        if L is cr:
            ours = gg.numpy()
    np.testing.assert_allclose(ours, gg.numpy(), rtol=1e-7)
    cr.autograd.gradcheck(lambda t: t.prod(0), (cr.tensor(np.array([[0.5, 0.0], [2.0, -3.0]]), requires_grad=True),))


@pytest.mark.parametrize("fn", [lambda L, x: x.expand(), lambda L, x: x.permute(), lambda L, x: x.reshape(),
                                lambda L, x: x.view(), lambda L, x: L.permute(x), lambda L, x: L.reshape(x)])
@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_movement_without_sizes_is_a_type_error(fn, shape):
    raises_as_torch(fn, np.zeros(shape), match="")


def test_movement_with_empty_sizes():
    for fn in (lambda L, x: x.expand(()), lambda L, x: x.permute(()), lambda L, x: x.reshape(()),
               lambda L, x: x.view(())):
        same(fn, np.array(3.0))


def test_matrix_transpose_of_1d_and_0d():
    raises_as_torch(lambda L, x: x.mT, np.zeros(3), match="only supported on matrices")
    same(lambda L, x: x.mT * 2, np.array(3.0))
    same(lambda L, x: x.mT * 2, X3)


@pytest.mark.parametrize("make, shape", [
    (lambda x: x.permute(1, 0, 2), (4, 15)),
    (lambda x: x.transpose(1, 2), (3, 20)),
    (lambda x: x[:, ::2], (3, 10)),
    (lambda x: x[:, :, 1:3], (3, 8)),
])
def test_view_of_non_viewable_strides_raises(make, shape):
    raises_as_torch(lambda L, x: make(x).view(*shape), X3,
                    match="view size is not compatible with input tensor's size and stride")
    same(lambda L, x: make(x).reshape(*shape), X3)


@pytest.mark.parametrize("make, shape", [
    (lambda x: x.permute(1, 0, 2), (4, 3, 5, 1)),
    (lambda x: x.transpose(1, 2), (3, 5, 2, 2)),
    (lambda x: x[:, 1], (3, 5)),
    (lambda x: x[:, :, 1:3], (12, 2)),
    (lambda x: x[:0].transpose(0, 2), (0, 7)),
])
def test_view_of_viewable_strides_is_a_view(make, shape):
    same(lambda L, x: make(x).view(*shape), X3)
    x = cr.tensor(X3.copy())
    make(x).view(*shape).zero_()
    assert float(make(x).abs().sum()) == 0.0


def test_norm_default_p_is_fro():
    raises_as_torch(lambda L, x: x.norm(dim=(0, 1, 2)), X3, match="dim must be a 2-tuple")
    raises_as_torch(lambda L, x: L.norm(x, dim=[0, 1, 2]), X3, match="dim must be a 2-tuple")
    raises_as_torch(lambda L, x: x.norm(p="fro", dim=(0, 1, 2)), X3, match="dim must be a 2-tuple")
    for kw in (dict(p=2, dim=(0, 1, 2)), dict(dim=(0, 1)), dict(dim=(2,)), dict(p="fro"), dict(dim=2), dict()):
        same(lambda L, x: x.norm(**kw), X3)


def test_add_sub_alpha_in_the_promoted_dtype():
    a, b = np.array([1e-8, 0.3, -2.0]), f32(0.1, 1.7, 1e-3)
    for fn in (lambda L, a, b: a.sub(b, alpha=-3), lambda L, a, b: a.add(b, alpha=3),
               lambda L, a, b: b.add(a, alpha=0.1), lambda L, a, b: L.sub(b, a, alpha=7),
               lambda L, a, b: a.add(b.to(L.float16), alpha=2.5)):
        same(fn, a, b, tol=dict(rtol=1e-12, atol=0))
    i, m = np.array([1, 2, 3]), np.array([True, False, True])
    same(lambda L, i, b: i.add(b, alpha=1.5), i, b)
    same(lambda L, i, m: i.add(m, alpha=2), i, m, grad=False)
    same(lambda L, i, m: m.add(m, alpha=2), i, m, grad=False)  # bool + 2 bool stays bool
    same(lambda L, i, m: m.add(i, alpha=-1), i, m, grad=False)


@pytest.mark.parametrize("fn", [lambda L, x, m: x.sub(m, alpha=2), lambda L, x, m: m.sub(x, alpha=-3),
                                lambda L, x, m: m.sub(m, alpha=2), lambda L, x, m: x.sub_(m, alpha=2)])
def test_sub_alpha_with_bool_raises(fn):
    raises_as_torch(fn, np.ones(3), np.array([True, False, True]), match="Subtraction, the `-` operator, with a bool")


@pytest.mark.parametrize("fn", [lambda L, i: i.add(i, alpha=1.5), lambda L, i: i.add(2, alpha=0.5),
                                lambda L, i: (i > 1).add(i > 2, alpha=1.5), lambda L, i: i.sub(i, alpha=2.0)])
def test_float_alpha_with_integer_result_raises(fn):
    raises_as_torch(fn, np.array([1, 2, 3]), match="alpha must not be a floating point number")
