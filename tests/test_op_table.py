"""The op table: every primitive in ``chainrule.ops.registry.OPS`` against torch and gradcheck.

PyTorch's OpInfo idea for chainrule. ``CASES`` maps each op class name to its variants; a variant
is one computation written once as ``fn(L, *tensors)`` and run with ``L = chainrule`` and with
``L = torch`` (or with a separate torch function where the two spell it differently), on seeded
random NumPy arrays. For every op:

- ``test_op_matches_torch[Op]``: each torch variant through ``helpers.compare`` in float32 (value,
  dtype, and every input gradient for one random upstream gradient);
- ``test_op_gradcheck_float64[Op]``: each gradcheck variant through ``chainrule.autograd.gradcheck``
  in float64 (central differences), floating-point inputs only;
- both also check that chainrule's graph really recorded the op, so a variant cannot silently
  stop reaching it (a ``reshape`` to the same shape, a cast to the same dtype record nothing);
- ``test_every_op_has_cases``: every op in OPS (``_`` names are autograd.Function plumbing) has
  at least one of each kind, and CASES and EXEMPT name no op that OPS does not have.

``IndexGrad`` is ``Index``'s (and ``MaxDim``'s) backward written as an op so that it is
differentiable itself; it is reached by double-backward variants (``D``): the function returns a
first derivative taken with ``autograd.grad(..., create_graph=True)``, so its own backward (in
compare, against torch.autograd.grad) and its Jacobian (in gradcheck) are second derivatives. A
few other ops whose rules are meant to be differentiable twice (Pow, Prod with zeros, LogSumExp,
Softmax, SoftmaxCrossEntropy) have such a variant too.

Run from the repository root (``python -m pytest tests/test_op_table.py``), so that ``chainrule``
is this checkout's.
"""
import functools

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd.node import Node
from chainrule.ops.registry import OPS
from helpers import compare

# Ops no case can reach on this machine: {op name: reason}.
EXEMPT = {
    "ToDevice": "moves a tensor between devices: needs a GPU and CuPy (covered in tests/test_cuda.py)",
}


# ---- inputs (seeded; float arrays become float32 for torch, float64 for gradcheck) ----------------

_rng = np.random.default_rng(20240601)


def randn(*shape):
    return _rng.standard_normal(shape)


def unif(lo, hi, *shape):
    return _rng.uniform(lo, hi, shape)


def away(*shape, lo=0.3, hi=2.0):
    """Random values with |x| in [lo, hi]: away from zero (kinks, division)."""
    return unif(lo, hi, *shape) * _rng.choice([-1.0, 1.0], shape)


def ints(hi, *shape):
    return _rng.integers(0, hi, shape).astype(np.int64)


def idx(*values):
    return np.array(values, dtype=np.int64)


def distinct(*shape, scale=0.25):
    """A random permutation of well-separated values: no ties (max, max pooling, sorting)."""
    n = int(np.prod(shape))
    return (_rng.permutation(n) - n / 2).reshape(shape) * scale + unif(-0.05, 0.05, *shape)


# ---- a variant ----------------------------------------------------------------------------------

class V:
    """One computation ``fn(L, *tensors)`` on ``arrays``.

    torch_fn: torch's spelling when it differs (else ``fn`` with L = torch).
    vs_torch / gradcheck: whether this variant runs in the torch comparison / the float64 gradcheck.
    records: whether chainrule's graph must contain the op (False for values-only variants whose
    inputs need no gradient, so nothing is recorded).
    tol, gc: tolerances for compare, keyword arguments for gradcheck.
    """

    def __init__(self, label, fn, *arrays, torch_fn=None, vs_torch=True, gradcheck=True, records=True,
                 tol=None, gc=None):
        self.label, self.fn, self.arrays, self.torch_fn = label, fn, arrays, torch_fn
        self.vs_torch, self.gradcheck, self.records = vs_torch, gradcheck, records
        self.tol, self.gc = tol, gc or {}
        self.loss = None  # set by D: the scalar function whose first derivative ``fn`` returns

    def __repr__(self):
        return self.label


def F(L):
    return L.nn.functional


def const(L, a, like):
    """A constant (no gradient) of ``like``'s dtype: class weights, running statistics."""
    return L.tensor(np.asarray(a), dtype=like.dtype)


def _put(x, key, v):
    """``y = x.clone(); y[key] = v`` (a leaf that requires grad cannot be written in place)."""
    y = x.clone()
    y[key] = v
    return y


def D(label, loss, *arrays, **kw):
    """A second-derivative variant: ``fn`` returns d loss(L, x, *rest) / dx, taken with
    ``L.autograd.grad(..., create_graph=True)``, so its backward (compare, against
    torch.autograd.grad's) and its Jacobian (gradcheck) are second derivatives. enable_grad, so
    that it also works under gradcheck's no_grad finite differences."""
    def first_derivative(L, x, *rest):
        with L.enable_grad():
            g, = L.autograd.grad(loss(L, x, *rest), x, create_graph=True)
        return g
    case = V(label, first_derivative, *arrays, **kw)
    case.loss = loss
    return case


# ---- the table ------------------------------------------------------------------------------------

A3 = (2, 3, 4)  # the default non-trivial shape of elementwise and reduction cases

def _recurrent(mode, **kw):
    """fn(L, x, w_ih, w_hh, b_ih, b_hh) running one recurrent layer with those tensors as its
    weights (torch: through functional_call); returns the output and the final states, summed."""
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")

    def fn(L, x, *weights):
        m = getattr(L.nn, mode)(x.shape[-1], weights[1].shape[1], **kw)
        if L is torch:
            out, h = torch.func.functional_call(m, dict(zip(names, weights)), (x,))
        else:
            m._parameters.update(zip(names, weights))
            out, h = m(x)
        hs = h if isinstance(h, tuple) else (h,)
        return out.sum(0) + sum(t.sum(0) for t in hs)
    return fn


CASES = {
    # -- binary arithmetic (broadcasting) --
    "Add": [
        V("broadcast", lambda L, a, b: a + b, randn(*A3), randn(3, 1)),
        V("scalar", lambda L, a: 2.5 + a, randn(3, 4)),
        V("alpha", lambda L, a, b: a.add(b, alpha=2), randn(4), randn(3, 4)),
    ],
    "Sub": [
        V("broadcast", lambda L, a, b: a - b, randn(*A3), randn(4)),
        V("rsub", lambda L, a: 1.5 - a, randn(3, 4)),
    ],
    "Mul": [
        V("broadcast", lambda L, a, b: a * b, randn(2, 1, 4), randn(3, 1)),
        V("scalar", lambda L, a: a * 3.0, randn(3, 4)),
        V("same input", lambda L, a: a * a, randn(3, 4)),
    ],
    "Div": [
        V("broadcast", lambda L, a, b: a / b, randn(*A3), away(3, 1)),
        V("rdiv", lambda L, b: 2.0 / b, away(3, 4)),
    ],
    "Pow": [
        V("tensor exponent", lambda L, a, b: a ** b, unif(0.5, 2.0, *A3), randn(3, 1)),
        V("int exponent", lambda L, a: a ** 3, randn(3, 4)),
        V("float exponent", lambda L, a: a ** 0.5, unif(0.2, 2.0, 3, 4)),
        V("scalar base", lambda L, b: 2.0 ** b, randn(3, 4)),
        D("second derivative", lambda L, a, b: (a ** b).sum(), unif(0.5, 2.0, 3, 2), randn(2)),
        # d/db at a == 0 is 0 (torch's choice, not 0 * log 0 = nan); d/da = b 0^(b-1) = 0 for b > 1, but
        # (-eps)^b is nan, so no central difference there
        V("zero base", lambda L, a, b: a ** b, np.array([0.0, 0.0, 1.5, 0.7]), unif(1.0, 2.0, 4),
          gradcheck=False),
    ],
    "Maximum": [
        V("broadcast", lambda L, a, b: L.maximum(a, b), randn(*A3), randn(4)),
        # ties split the gradient evenly (torch too; a central difference also gives 1/2)
        V("ties", lambda L, a, b: a.maximum(b), np.array([1.0, -2.0, 0.5, 3.0]), np.array([1.0, 0.0, 0.5, 2.0])),
    ],
    "Minimum": [
        V("broadcast", lambda L, a, b: L.minimum(a, b), randn(3, 1), randn(*A3)),
        V("ties", lambda L, a, b: a.minimum(b), np.array([1.0, -2.0, 0.5, 3.0]), np.array([1.0, 0.0, 0.5, 2.0])),
    ],
    "Where": [
        V("broadcast", lambda L, c, a, b: L.where(c, a, b), randn(3, 4) > 0, randn(*A3), randn(4)),
        V("scalar other", lambda L, c, a: L.where(c, a, 0.0), randn(3, 1) > 0, randn(3, 4)),
    ],
    # -- unary math --
    "Neg": [
        V("op", lambda L, x: -x, randn(*A3)),
        V("method", lambda L, x: x.neg(), randn(3, 4)),
    ],
    "Exp": [
        V("method", lambda L, x: x.exp(), randn(*A3)),
        V("0-d", lambda L, x: L.exp(x), np.array(0.7)),
    ],
    "Log": [
        V("method", lambda L, x: x.log(), unif(0.2, 3.0, *A3)),
        V("function", lambda L, x: L.log(x), unif(0.2, 3.0, 5)),
    ],
    "Sqrt": [
        V("method", lambda L, x: x.sqrt(), unif(0.2, 3.0, *A3)),
        V("rsqrt", lambda L, x: x.rsqrt(), unif(0.2, 3.0, 3, 4)),
    ],
    "NormSqrt": [
        # a zero row: torch's norm gradient there is 0 (plain sqrt's rule would give nan)
        V("norm dim, zero row", lambda L, x: x.norm(dim=1),
          np.concatenate([randn(2, 4), np.zeros((1, 4))]), gradcheck=False),
        V("norm dim", lambda L, x: x.norm(dim=1), randn(3, 4)),
        V("norm", lambda L, x: x.norm(), randn(*A3)),
        V("std", lambda L, x: x.std(0), randn(*A3)),
        V("std keepdim", lambda L, x: x.std(dim=(0, 2), keepdim=True), randn(*A3)),
    ],
    "Sin": [V("method", lambda L, x: x.sin(), randn(*A3))],
    "Cos": [V("method", lambda L, x: x.cos(), randn(*A3))],
    "Tanh": [
        V("method", lambda L, x: x.tanh(), randn(*A3)),
        V("functional", lambda L, x: F(L).tanh(x), randn(3, 4)),
    ],
    "Sigmoid": [
        V("method", lambda L, x: x.sigmoid(), randn(*A3)),
        V("large |x|", lambda L, x: L.sigmoid(x), np.array([-60.0, -8.0, 0.0, 8.0, 60.0])),
    ],
    "Relu": [
        V("method", lambda L, x: x.relu(), away(*A3)),
        V("functional", lambda L, x: F(L).relu(x), away(3, 4)),
    ],
    "Abs": [
        V("method", lambda L, x: x.abs(), away(*A3)),
        V("builtin", lambda L, x: abs(x), away(3, 4)),
    ],
    "Clamp": [
        V("both", lambda L, x: x.clamp(-0.5, 0.5), randn(*A3)),
        V("min", lambda L, x: x.clamp(min=0.1), randn(3, 4)),
        V("max", lambda L, x: L.clamp(x, max=-0.2), randn(3, 4)),
        # on the bounds the gradient passes (torch: lo <= x <= hi); a kink, so no gradcheck
        V("on the bounds", lambda L, x: x.clamp(-0.5, 0.5), np.array([-0.5, 0.5, 0.25, -1.0, 1.0]),
          gradcheck=False),
    ],
    "Cast": [
        V("float32 to float64", lambda L, a, b: a * b.to(L.float64) + a.double(), randn(3, 4), randn(4),
          gradcheck=False),
        V("promotion", lambda L, a: a + L.tensor(np.ones(4), dtype=L.float64), randn(3, 4), gradcheck=False),
        # an integer result carries no gradient (chainrule detaches it; torch's has no grad_fn)
        V("to int (values only)", lambda L, x: (x * 4).long(), randn(3, 4), gradcheck=False, records=False),
        V("from int (not differentiated)", lambda L, x, n: x * n.float(), randn(3, 4), ints(5, 4),
          gradcheck=False, records=False),
        # float64 -> float32 -> float64: the float32 step rounds, so a larger finite-difference step
        V("float64 round trip", lambda L, x: x.float().double() * 2, randn(3, 4), vs_torch=False,
          gc=dict(eps=1e-3, atol=1e-4)),
    ],
    "Clone": [
        V("method", lambda L, x: x.clone(), randn(*A3)),
        V("used twice", lambda L, x: x.clone() * x, randn(3, 4)),
    ],
    # -- reductions --
    "Sum": [
        V("dim", lambda L, x: x.sum(1), randn(*A3)),
        V("dims keepdim", lambda L, x: x.sum((0, 2), keepdim=True), randn(*A3)),
        V("all", lambda L, x: x.sum(), randn(*A3)),
        V("function, negative dim", lambda L, x: L.sum(x, -1), randn(3, 4)),
    ],
    "Mean": [
        V("all", lambda L, x: x.mean(), randn(*A3)),
        V("dims", lambda L, x: x.mean((0, 2)), randn(*A3)),
        V("dim keepdim", lambda L, x: x.mean(-1, keepdim=True), randn(*A3)),
    ],
    "Prod": [
        V("dim", lambda L, x: x.prod(1), randn(*A3)),
        V("all", lambda L, x: x.prod(), unif(0.5, 1.5, 2, 3)),
        # rows with no, one and two zeros: the rule's product-of-the-others branch
        V("zeros", lambda L, x: x.prod(1),
          np.array([[0.5, -1.5, 2.0, 0.8], [1.5, 0.0, -0.7, 2.0], [0.0, 1.2, 0.0, 0.9]])),
        V("zeros keepdim", lambda L, x: x.prod(0, keepdim=True),
          np.array([[0.5, 0.0, 0.0], [1.5, 2.0, 0.0], [-0.7, 0.9, 1.1]])),
        # the zero branch's terms that are 0 at first order but carry the second derivatives
        D("second derivative, zeros", lambda L, x, c: (c * x.prod(1)).sum(),
          np.array([[0.5, -1.5, 2.0], [1.5, 0.0, -0.7], [0.0, 1.2, 0.0], [0.0, 0.0, 0.0]]), randn(4)),
    ],
    "Amax": [
        V("amax dim", lambda L, x: x.amax(1), distinct(*A3)),
        V("max all", lambda L, x: x.max(), distinct(3, 4)),
        # two-way ties share the gradient evenly, as torch (and a central difference: 1/2 each)
        V("ties", lambda L, x: x.amax(1), np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 0.0, 2.0, 1.0]])),
    ],
    "Amin": [
        V("amin dims keepdim", lambda L, x: x.amin((0, 2), keepdim=True), distinct(*A3)),
        V("min all", lambda L, x: L.min(x), distinct(3, 4)),
        V("ties", lambda L, x: x.amin(0), np.array([[1.0, -3.0, 3.0], [1.0, -3.0, 2.0]])),
    ],
    "MaxDim": [
        V("max dim", lambda L, x: x.max(dim=1).values, distinct(*A3)),
        V("function, negative dim", lambda L, x: L.max(x, -1).values, distinct(3, 4)),
    ],
    "MinDim": [
        V("min keepdim", lambda L, x: x.min(0, keepdim=True)[0], distinct(*A3)),
        V("function", lambda L, x: L.min(x, 1).values, distinct(3, 4)),
    ],
    "LogSumExp": [
        V("dim", lambda L, x: x.logsumexp(1), randn(*A3)),
        V("dims keepdim", lambda L, x: L.logsumexp(x, (0, 2), keepdim=True), randn(*A3)),
        V("large values", lambda L, x: x.logsumexp(-1), randn(3, 4) * 50 + 500),
        D("second derivative", lambda L, x, c: (c * x.logsumexp(1)).sum(), randn(3, 4), randn(3)),
    ],
    "Softmax": [
        V("dim", lambda L, x: x.softmax(1), randn(*A3)),
        V("functional", lambda L, x: F(L).softmax(x, dim=-1), randn(3, 4) * 10),
        D("second derivative", lambda L, x, c: (c * x.softmax(1)).sum(), randn(2, 3), randn(2, 3)),
    ],
    "LogSoftmax": [
        V("dim", lambda L, x: x.log_softmax(0), randn(*A3)),
        V("functional", lambda L, x: F(L).log_softmax(x, dim=-1), randn(3, 4) * 10),
    ],
    # -- movement --
    "Reshape": [
        V("infer", lambda L, x: x.reshape(4, -1), randn(*A3)),
        V("view", lambda L, x: x.view(2, 12) * 1, randn(*A3)),
        V("flatten", lambda L, x: x.flatten(1), randn(*A3)),
        V("unsqueeze", lambda L, x: x.unsqueeze(1), randn(3, 4)),
    ],
    "Permute": [
        V("permute", lambda L, x: x.permute(2, 0, 1), randn(*A3)),
        V("transpose", lambda L, x: x.transpose(0, 2), randn(*A3)),
        V("t", lambda L, x: x.t(), randn(3, 4)),
        V("mT", lambda L, x: x.mT, randn(*A3)),
    ],
    "Expand": [
        V("expand", lambda L, x: x.expand(2, 3, 4), randn(3, 1)),
        V("keep -1", lambda L, x: x.expand(2, -1, 4), randn(1, 3, 1)),
        V("broadcast_to", lambda L, x: x.broadcast_to((3, 4)), randn(4)),
    ],
    "Index": [
        V("slices", lambda L, x: x[1:, ::2], randn(3, 4)),
        V("int and ellipsis", lambda L, x: x[1, ..., None, 2], randn(*A3)),
        V("index tensor, repeats", lambda L, x, i: x[i], randn(4, 3), idx(2, 0, 2, 3, 2)),
        V("index tensor, second dim", lambda L, x, i: x[:, i], randn(*A3), idx(1, 1, 0)),
        V("2-d index", lambda L, x, i: x[i], randn(4, 3), idx(0, 3, 3, 1).reshape(2, 2)),
        V("int then index", lambda L, x, i: x[1, :, i], randn(*A3), idx(3, 0, 3)),
        V("two index tensors", lambda L, x, i, j: x[i, :, j], randn(*A3), idx(0, 1, 1), idx(3, 0, 3)),
        V("bool mask", lambda L, x, m: x[m], randn(3, 4), randn(3, 4) > 0),
    ],
    "IndexPut": [
        V("index tensor", lambda L, x, v, i: _put(x, i, v), randn(4, 3), randn(2, 3), idx(3, 1)),
        V("broadcast value", lambda L, x, v, i: _put(x, i, v), randn(4, 3), randn(3), idx(0, 2)),
        V("slices", lambda L, x, v: _put(x, (slice(1, None), 0), v), randn(3, 4), randn(2)),
        V("int then index", lambda L, x, v, i: _put(x, (1, slice(None), i), v), randn(*A3), randn(3, 1),
          idx(3, 0)),
        V("bool mask, 0-d value", lambda L, x, v, m: _put(x, m, v), randn(3, 4), np.array(0.5),
          randn(3, 4) > 0),
    ],
    "Cat": [
        V("dim 1, three inputs", lambda L, a, b, c: L.cat([a, b, c], 1), randn(2, 1, 4), randn(2, 3, 4),
          randn(2, 2, 4)),
        V("dim 0", lambda L, a, b: L.cat((a, b)), randn(2, 3), randn(1, 3)),
        V("negative dim", lambda L, a, b: L.cat([a, b], dim=-1), randn(3, 1), randn(3, 2)),
        V("stack", lambda L, a, b: L.stack([a, b], 1), randn(3, 4), randn(3, 4)),
        V("stack on a new last dim", lambda L, a, b: L.stack([a, b, a], -1), randn(3, 4), randn(3, 4)),
        V("stack of 0-d", lambda L, a, b: L.stack([a.sum(), b.amax(), a[1, 2]]), randn(3, 4), randn(3, 4)),
    ],
    "Repeat": [
        V("new leading dim", lambda L, x: x.repeat(2, 1, 3), randn(3, 2)),
        V("same dims", lambda L, x: x.repeat(2, 2), randn(2, 3)),
    ],
    # -- matrix products --
    "Matmul": [
        V("2-d", lambda L, a, b: a @ b, randn(3, 4), randn(4, 5)),
        V("batch times matrix", lambda L, a, b: a @ b, randn(2, 3, 4), randn(4, 2)),
        V("broadcast batch", lambda L, a, b: L.matmul(a, b), randn(2, 1, 3, 4), randn(3, 4, 2)),
        V("vector @ matrix", lambda L, a, b: a @ b, randn(4), randn(2, 4, 3)),
        V("matrix @ vector", lambda L, a, b: a.matmul(b), randn(2, 3, 4), randn(4)),
        V("dot", lambda L, a, b: a.dot(b), randn(4), randn(4)),
        V("bmm", lambda L, a, b: a.bmm(b), randn(2, 3, 4), randn(2, 4, 2)),
    ],
    "Linear": [
        V("bias, 3-d input", lambda L, x, w, b: F(L).linear(x, w, b), randn(*A3), randn(5, 4), randn(5)),
        V("no bias", lambda L, x, w: F(L).linear(x, w), randn(3, 4), randn(2, 4)),
    ],
    # -- neural-network ops --
    "LeakyRelu": [
        V("slope", lambda L, x: F(L).leaky_relu(x, 0.1), away(*A3)),
        V("default slope", lambda L, x: F(L).leaky_relu(x), away(3, 4)),
    ],
    "Elu": [
        V("default", lambda L, x: F(L).elu(x), away(*A3)),
        V("alpha", lambda L, x: F(L).elu(x, alpha=0.5), away(3, 4)),
    ],
    "Gelu": [
        V("erf", lambda L, x: F(L).gelu(x), randn(*A3) * 2),
        V("tanh", lambda L, x: F(L).gelu(x, approximate="tanh"), randn(3, 4) * 2),
    ],
    "Conv2d": [
        V("padding, bias", lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1), randn(2, 2, 4, 4),
          randn(3, 2, 3, 3), randn(3)),
        V("stride, dilation", lambda L, x, w: F(L).conv2d(x, w, stride=2, dilation=(1, 2)), randn(1, 2, 5, 6),
          randn(2, 2, 2, 2)),
        V("groups", lambda L, x, w, b: F(L).conv2d(x, w, b, groups=2), randn(1, 4, 3, 3), randn(4, 2, 2, 2),
          randn(4)),
        V("unbatched, rectangular padding", lambda L, x, w: F(L).conv2d(x, w, padding=(0, 1)),
          randn(2, 3, 4), randn(2, 2, 2, 3)),
    ],
    "MaxPool2d": [
        V("kernel 2", lambda L, x: F(L).max_pool2d(x, 2), distinct(2, 2, 4, 4)),
        V("overlapping, padding", lambda L, x: F(L).max_pool2d(x, 3, stride=2, padding=1), distinct(1, 2, 5, 5)),
        V("dilation, unbatched", lambda L, x: F(L).max_pool2d(x, 2, stride=1, dilation=2), distinct(2, 4, 4)),
    ],
    "AvgPool2d": [
        V("kernel 2", lambda L, x: F(L).avg_pool2d(x, 2), randn(2, 2, 4, 4)),
        V("overlapping, padding", lambda L, x: F(L).avg_pool2d(x, 3, stride=2, padding=1), randn(1, 2, 5, 5)),
        V("rectangular, unbatched", lambda L, x: F(L).avg_pool2d(x, (2, 3), stride=1), randn(2, 3, 4)),
    ],
    "SoftmaxCrossEntropy": [
        V("mean", lambda L, x, t: F(L).cross_entropy(x, t), randn(5, 4), ints(4, 5)),
        V("weight, label smoothing, sum",
          lambda L, x, t: F(L).cross_entropy(x, t, weight=const(L, [0.5, 1.0, 2.0, 0.3], x),
                                             label_smoothing=0.1, reduction="sum"),
          randn(5, 4), ints(4, 5)),
        V("ignore_index, none", lambda L, x, t: F(L).cross_entropy(x, t, ignore_index=2, reduction="none"),
          randn(5, 4), idx(0, 2, 3, 2, 1)),
        V("spatial (N, C, d)", lambda L, x, t: F(L).cross_entropy(x, t), randn(2, 4, 3), ints(4, 2, 3)),
        # differentiable twice (README): softmax is rebuilt from the logits under create_graph
        D("second derivative", lambda L, x, t: F(L).cross_entropy(x, t, label_smoothing=0.2), randn(3, 4),
          ints(4, 3)),
    ],
    "BatchNorm": [
        V("training, affine", lambda L, x, w, b: F(L).batch_norm(x, None, None, w, b, training=True),
          randn(4, 3, 2, 2), unif(0.5, 1.5, 3), randn(3), tol=dict(rtol=1e-4, atol=1e-4)),
        V("training, 2-d, no affine", lambda L, x: F(L).batch_norm(x, None, None, training=True),
          randn(5, 3), tol=dict(rtol=1e-4, atol=1e-4)),
        V("eval, running statistics",
          lambda L, x, w, b: F(L).batch_norm(x, const(L, [0.1, -0.2, 0.3], x), const(L, [0.5, 1.5, 2.0], x),
                                             w, b, training=False),
          randn(2, 3, 2, 2), unif(0.5, 1.5, 3), randn(3)),
    ],
    "BinaryCrossEntropy": [
        V("mean", lambda L, p, y: F(L).binary_cross_entropy(p, y), unif(0.1, 0.9, 3, 4), unif(0, 1, 3, 4)),
        V("weight, sum", lambda L, p, y: F(L).binary_cross_entropy(p, y, weight=const(L, [1.0, 0.5, 2.0], p),
                                                                    reduction="sum"),
          unif(0.1, 0.9, 2, 3), unif(0, 1, 2, 3)),
        V("none", lambda L, p, y: F(L).binary_cross_entropy(p, y, reduction="none"), unif(0.1, 0.9, 5),
          unif(0, 1, 5)),
    ],
    # -- Index's backward as a differentiable op: reached by double backward --
    "IndexGrad": [
        D("index tensor, repeats", lambda L, x, c, i: (c * x[i] ** 3).sum(), randn(5), randn(4), idx(0, 2, 2, 4)),
        D("slices", lambda L, x, c: (c * x[1:, ::2].sin()).sum(), randn(3, 4), randn(2, 2)),
        D("bool mask", lambda L, x, m: (x[m] ** 2).sum() * x.sum(), randn(3, 4), randn(3, 4) > 0),
        D("int then index", lambda L, x, c, i: (c * x[1, :, i] ** 3).sum(), randn(*A3), randn(3, 2), idx(3, 0)),
        D("MaxDim's backward", lambda L, x, c: (c * x.max(dim=1).values ** 2).sum(), distinct(3, 4), randn(3)),
    ],
    # ==== nn layers (issue 14) ====
    "ConvTranspose2d": [
        V("stride, padding, output_padding, bias", lambda L, x, w, b: F(L).conv_transpose2d(
            x, w, b, stride=2, padding=1, output_padding=1), randn(2, 2, 3, 4), randn(2, 3, 3, 3), randn(3)),
        V("groups, dilation, rectangular", lambda L, x, w: F(L).conv_transpose2d(
            x, w, stride=(1, 2), padding=(0, 1), groups=2, dilation=(2, 1)), randn(1, 4, 3, 3), randn(4, 1, 2, 3)),
        V("unbatched", lambda L, x, w: F(L).conv_transpose2d(x, w), randn(2, 3, 2), randn(2, 2, 2, 2)),
        V("1d and 3d compositions", lambda L, x, w, v, u: F(L).conv_transpose1d(x, w, stride=2).sum()
          + F(L).conv_transpose3d(v, u, stride=2).sum(), randn(2, 2, 5), randn(2, 3, 3), randn(1, 2, 2, 2, 3),
          randn(2, 1, 2, 2, 2)),
    ],
    "LayerNorm": [
        V("affine over the last two dims", lambda L, x, w, b: F(L).layer_norm(x, (3, 4), w, b), randn(2, 3, 4) * 3,
          randn(3, 4), randn(3, 4)),
        V("weight only, eps", lambda L, x, w: F(L).layer_norm(x, [4], w, None, 0.1), randn(5, 4), randn(4)),
        V("no affine", lambda L, x: F(L).layer_norm(x, (4,)), randn(2, 2, 4)),
    ],
    "Recurrent": [
        V("LSTM", _recurrent("LSTM"), randn(5, 2, 3), randn(16, 3) * 0.5, randn(16, 4) * 0.5, randn(16) * 0.1,
          randn(16) * 0.1),
        V("GRU", _recurrent("GRU"), randn(4, 3, 2), randn(9, 2) * 0.5, randn(9, 3) * 0.5, randn(9) * 0.1,
          randn(9) * 0.1),
        V("RNN relu", _recurrent("RNN", nonlinearity="relu"), randn(4, 2, 3), randn(3, 3) * 0.5, randn(3, 3) * 0.5,
          randn(3) * 0.1, randn(3) * 0.1),
    ],
    # ==== sort, scan, search and counting ops (issue 13) ====
    "Sort": [
        V("sort descending", lambda L, x: x.sort(1, descending=True).values, distinct(*A3)),
        V("topk", lambda L, x: L.topk(x, 2, dim=0).values, distinct(3, 4)),
        V("kthvalue keepdim", lambda L, x: x.kthvalue(2, -1, keepdim=True).values, distinct(3, 4)),
        V("median dim, mode", lambda L, x: x.median(0).values + x.mode(0).values, distinct(3, 4)),
        D("second derivative", lambda L, x, c: (c * x.sort(1).values ** 3).sum(), distinct(3, 4), randn(3, 4)),
    ],
    "Cumsum": [
        V("dim", lambda L, x: x.cumsum(1), randn(*A3)),
        V("function, negative dim", lambda L, x: L.cumsum(x, -3), randn(*A3)),
        D("second derivative", lambda L, x, c: (c * x.cumsum(0) ** 3).sum(), randn(3, 4), randn(3, 4)),
    ],
    "Cumprod": [
        V("dim", lambda L, x: x.cumprod(1), randn(*A3)),
        # rows with no, one, two zeros and a zero at the start: the first zero's own gradient
        V("zeros", lambda L, x: L.cumprod(x, 1),
          np.array([[0.5, -1.5, 2.0, 0.8], [1.5, 0.0, -0.7, 2.0], [0.0, 1.2, 0.0, 0.9], [2.0, 0.5, 0.3, 0.0]])),
        D("second derivative, zeros", lambda L, x, c: (c * x.cumprod(1)).sum(),
          np.array([[0.5, -1.5, 2.0], [1.5, 0.0, -0.7], [0.0, 1.2, 0.0]]), randn(3, 3)),
    ],
    "CumMax": [
        V("dim", lambda L, x: x.cummax(1).values, distinct(*A3)),
        V("function", lambda L, x: L.cummax(x, 0)[0], distinct(4, 3)),
    ],
    "CumMin": [
        V("dim", lambda L, x: x.cummin(-1).values, distinct(*A3)),
        D("second derivative", lambda L, x, c: (c * x.cummin(0).values ** 3).sum(), distinct(3, 4), randn(3, 4)),
    ],
    "LogCumSumExp": [
        V("dim", lambda L, x: x.logcumsumexp(1), randn(*A3)),
        V("large values", lambda L, x: L.logcumsumexp(x, -1), randn(3, 4) * 50 + 500),
        D("second derivative", lambda L, x, c: (c * x.logcumsumexp(1)).sum(), randn(3, 4), randn(3, 4)),
    ],
    # ==== indexing, scatter and shape ops (issue 13) ====
    "Diagonal": [
        V("main", lambda L, x: x.diagonal(), randn(3, 4)),
        V("offset, dims", lambda L, x: L.diagonal(x, -1, 2, 0), randn(4, 2, 3)),
        V("trace", lambda L, x: x.trace(), randn(3, 3)),
        D("second derivative", lambda L, x: (x.diagonal(1) ** 3).sum(), randn(3, 4)),
    ],
    "Flip": [
        V("two dims", lambda L, x: x.flip((0, -1)), randn(*A3)),
        V("rot90", lambda L, x: L.rot90(x, 1, (1, 2)), randn(*A3)),
        D("second derivative", lambda L, x: (x.flip((1,)) ** 3 * x).sum(), randn(3, 4)),
    ],
    "ScatterReduce": [
        V("prod", lambda L, x, s, i: x.scatter_reduce(1, i, s, "prod"), away(2, 4), away(2, 3),
          idx(0, 0, 3, 1, 1, 1).reshape(2, 3)),
        V("mean without self", lambda L, x, s, i: x.scatter_reduce(0, i, s, "mean", include_self=False), randn(3, 2),
          randn(3, 2), idx(0, 0, 2, 0, 0, 1).reshape(3, 2)),
        V("amax", lambda L, x, s, i: x.scatter_reduce(1, i, s, "amax"), distinct(2, 4), distinct(2, 3),
          idx(0, 0, 3, 1, 1, 1).reshape(2, 3)),
        V("amin without self", lambda L, x, s, i: x.scatter_reduce(1, i, s, "amin", include_self=False),
          distinct(2, 4), distinct(2, 3), idx(0, 0, 3, 1, 1, 1).reshape(2, 3)),
    ],
    # ==== elementwise math and predicates (issue 13) ====
    "Log1p": [V("method", lambda L, x: x.log1p(), unif(-0.5, 3.0, *A3)),
              D("second derivative", lambda L, x: L.log1p(x).sum(), unif(-0.5, 3.0, 4))],
    "Expm1": [V("method", lambda L, x: x.expm1(), randn(*A3)), V("special", lambda L, x: L.special.expm1(x), randn(4))],
    "Log2": [V("method", lambda L, x: x.log2(), unif(0.2, 3.0, *A3))],
    "Log10": [V("function", lambda L, x: L.log10(x), unif(0.2, 3.0, *A3))],
    "Exp2": [V("method", lambda L, x: x.exp2(), randn(*A3))],
    "Erf": [V("method", lambda L, x: x.erf(), randn(*A3)),
            D("second derivative", lambda L, x: L.erf(x).sum(), randn(4))],
    "Erfc": [V("method", lambda L, x: x.erfc(), randn(*A3)),
             V("special ndtr", lambda L, x: L.special.erfc(x) * 2, randn(4))],
    "Erfinv": [V("method", lambda L, x: x.erfinv(), unif(-0.9, 0.9, *A3)),
               D("second derivative", lambda L, x: L.erfinv(x).sum(), unif(-0.9, 0.9, 4))],
    "Lgamma": [V("method", lambda L, x: x.lgamma(), unif(-3.9, 4.0, *A3) + 0.05),
               V("special gammaln", lambda L, x: L.special.gammaln(x), unif(0.1, 9.0, 5))],
    "Digamma": [V("method", lambda L, x: x.digamma(), unif(0.2, 5.0, *A3)),
                V("negative", lambda L, x: L.digamma(x), np.array([-0.5, -1.3, -2.7, 0.1]))],
    "Polygamma": [V("n=1", lambda L, x: L.polygamma(1, x), unif(0.2, 5.0, *A3)),
                  V("n=2, method", lambda L, x: x.polygamma(2), unif(0.3, 3.0, 5)),
                  V("n=0", lambda L, x: L.special.polygamma(0, x), unif(0.3, 3.0, 5))],
    "Sinh": [V("method", lambda L, x: x.sinh(), randn(*A3))],
    "Cosh": [V("method", lambda L, x: x.cosh(), randn(*A3))],
    "Tan": [V("method", lambda L, x: x.tan(), unif(-1.2, 1.2, *A3)),
            D("second derivative", lambda L, x: L.tan(x).sum(), unif(-1.2, 1.2, 4))],
    "Asin": [V("method", lambda L, x: x.asin(), unif(-0.9, 0.9, *A3)), V("arcsin", lambda L, x: L.arcsin(x), unif(-0.9, 0.9, 4))],
    "Acos": [V("method", lambda L, x: x.acos(), unif(-0.9, 0.9, *A3))],
    "Atan": [V("method", lambda L, x: x.atan(), randn(*A3)),
             D("second derivative", lambda L, x: L.arctan(x).sum(), randn(4))],
    "Asinh": [V("method", lambda L, x: x.asinh(), randn(*A3))],
    "Acosh": [V("method", lambda L, x: x.acosh(), unif(1.2, 4.0, *A3))],
    "Atanh": [V("method", lambda L, x: x.atanh(), unif(-0.9, 0.9, *A3))],
    "Ndtri": [V("special", lambda L, x: L.special.ndtri(x), unif(0.05, 0.95, *A3))],
    "I0": [V("special", lambda L, x: L.special.i0(x), randn(*A3))],
    "Rounding": [V("floor", lambda L, x: x.floor() * x, randn(*A3)),
                 V("ceil, trunc", lambda L, x: L.ceil(x) + L.trunc(x) * x, randn(3, 4)),
                 V("round decimals", lambda L, x: x.round(decimals=1) * x, randn(3, 4)),
                 V("frac", lambda L, x: x.frac(), randn(3, 4))],
    "Atan2": [V("broadcast", lambda L, a, b: L.atan2(a, b), randn(*A3), randn(3, 1)),
              V("arctan2 method", lambda L, a, b: a.arctan2(b), randn(4), away(4))],
    "Hypot": [V("broadcast", lambda L, a, b: L.hypot(a, b), randn(*A3), away(4))],
    "LogAddExp": [V("broadcast", lambda L, a, b: L.logaddexp(a, b), randn(*A3), randn(3, 1)),
                  V("large", lambda L, a, b: a.logaddexp(b), randn(4) * 50, randn(4) * 50)],
    "LogAddExp2": [V("broadcast", lambda L, a, b: L.logaddexp2(a, b), randn(*A3), randn(4))],
    "Xlogy": [V("broadcast", lambda L, a, b: L.xlogy(a, b), randn(*A3), unif(0.2, 3.0, 3, 1)),
              V("scalar x", lambda L, b: L.xlogy(2.0, b), unif(0.2, 3.0, 4)),
              V("entr", lambda L, x: L.special.entr(x), unif(0.1, 3.0, 5))],
    "Xlog1py": [V("broadcast", lambda L, a, b: L.special.xlog1py(a, b), randn(3, 4), unif(-0.5, 3.0, 4))],
    "Fmod": [V("broadcast", lambda L, a, b: L.fmod(a, b), unif(-5, 5, *A3), unif(0.7, 2.0, 3, 1)),
             V("scalar", lambda L, a: a.fmod(1.5), unif(-5, 5, 3, 4))],
    "Remainder": [V("broadcast", lambda L, a, b: L.remainder(a, b), unif(-5, 5, *A3), away(4, lo=0.7)),
                  V("operator", lambda L, a: a % -1.5, unif(-5, 5, 3, 4))],
    "Copysign": [V("broadcast", lambda L, a, b: L.copysign(a, b), away(*A3), randn(4)),
                 V("scalar", lambda L, a: a.copysign(-1.0), away(3, 4))],
    "Lerp": [V("tensor weight", lambda L, a, b, w: L.lerp(a, b, w), randn(*A3), randn(4), unif(-0.5, 1.5, 3, 1)),
             V("scalar weight", lambda L, a, b: a.lerp(b, 0.75), randn(3, 4), randn(3, 4)),
             D("second derivative", lambda L, a, b, w: (L.lerp(a, b, w) ** 2).sum(), randn(3), randn(3), randn(3))],
    # ==== random sampling and creation (issue 13) ====
    # ==== linear algebra and contractions (issue 13) ====
    "Einsum": [
        V("matmul", lambda L, a, b: L.einsum("ij,jk->ik", a, b), randn(2, 3), randn(3, 4)),
        V("diagonal, implicit", lambda L, a, b: L.einsum("iij,k", a, b), randn(3, 3, 2), randn(2)),
        V("ellipsis, broadcast", lambda L, a, b: L.einsum("...ij,...j->...i", a, b), randn(2, 3, 4), randn(1, 4)),
        V("tensordot", lambda L, a, b: L.tensordot(a, b, dims=([0, 2], [2, 0])), randn(2, 3, 4), randn(4, 5, 2)),
        D("second derivative", lambda L, a, b: (L.einsum("ij,jk->ik", a, b) ** 2).sum(), randn(2, 3), randn(3, 2)),
    ],
    "Inv": [
        V("batched", lambda L, a: L.linalg.inv(a), randn(2, 3, 3) + 3 * np.eye(3)),
        D("second derivative", lambda L, a: (L.linalg.inv(a) ** 2).sum(), randn(3, 3) + 3 * np.eye(3)),
    ],
    "Solve": [
        V("matrix B", lambda L, a, b: L.linalg.solve(a, b), randn(2, 3, 3) + 3 * np.eye(3), randn(2, 3, 2)),
        V("vector b", lambda L, a, b: L.linalg.solve(a, b), randn(3, 3) + 3 * np.eye(3), randn(3)),
    ],
    "Det": [V("batched", lambda L, a: L.linalg.det(a), randn(2, 3, 3))],
    "Slogdet": [V("logabsdet", lambda L, a: L.linalg.slogdet(a)[1], randn(2, 3, 3))],
    "Cholesky": [
        V("lower", lambda L, a: L.linalg.cholesky(a @ a.mT + 3 * L.eye(3, dtype=a.dtype)), randn(2, 3, 3)),
        V("upper", lambda L, a: L.linalg.cholesky(a @ a.mT + 3 * L.eye(3, dtype=a.dtype), upper=True), randn(3, 3)),
    ],
    "Qr": [
        V("tall", lambda L, a: (lambda q, r: q.sum(-1, keepdim=True) + r.sum(-2, keepdim=True))(*L.linalg.qr(a)),
          randn(2, 4, 3)),
        V("wide", lambda L, a: (lambda q, r: q.sum(-1, keepdim=True) + r.sum(-2, keepdim=True))(*L.linalg.qr(a)),
          randn(3, 4)),
    ],
    "Svd": [
        V("gauge-invariant", lambda L, a: (lambda u, s, vh: (u ** 2 * s[..., None, :]) @ vh ** 2)(
            *L.linalg.svd(a, full_matrices=False)), randn(2, 4, 3)),
        V("svdvals", lambda L, a: L.linalg.svdvals(a), randn(3, 5)),
    ],
    "Eigh": [
        V("gauge-invariant", lambda L, a: (lambda w, v: v ** 2 * w[..., None, :])(*L.linalg.eigh(a + a.mT)),
          randn(2, 3, 3)),
        V("eigvalsh", lambda L, a: L.linalg.eigvalsh(a + a.mT), randn(4, 4)),
    ],
    "Pinv": [
        V("tall", lambda L, a: L.linalg.pinv(a), randn(2, 4, 3)),
        V("wide", lambda L, a: L.linalg.pinv(a), randn(3, 4)),
    ],
    # ==== losses (issue 13) ====
    "CtcLoss": [  # log_softmax first: ctc's gradient (as torch's) assumes normalised log-probabilities
        V("padded targets, tensor lengths, mean",
          lambda L, x, t: F(L).ctc_loss(x.log_softmax(2), t, L.tensor([6, 4, 5]), L.tensor([3, 2, 0])),
          randn(6, 3, 5), idx([1, 1, 2], [3, 4, 0], [0, 0, 0])),
        V("concatenated targets, tuple lengths, blank, sum",
          lambda L, x, t: F(L).ctc_loss(x.log_softmax(2), t, (5, 3), (2, 3), blank=2, reduction="sum"),
          randn(5, 2, 4), idx(0, 0, 1, 3, 1)),
        V("unbatched, zero_infinity, none",
          lambda L, x, t: F(L).ctc_loss(x.log_softmax(1), t, (4,), (2,), zero_infinity=True, reduction="none"),
          randn(4, 3), idx(1, 2)),
    ],
    # ==== ddp ====
    # Compare and Logical never record a node (no gradient, as torch's comparisons): records=False; their
    # gradcheck variants check the gradients of what their masks select
    "Compare": [V("x > 0.2 as a where mask", lambda L, x: L.where(x > 0.2, x * 2, x), randn(*A3), records=False),
                V("every comparison, broadcast", lambda L, x, y: L.where((x < y) | (x >= y * 2), x, y) +
                  L.where((x <= 0.5) & (x != y), y, x) * (x == x).float() + (x.gt(y)).float(), randn(*A3), randn(4),
                  records=False),
                V("bool result, int vs float", lambda L, k, y: k.le(y), ints(3, *A3), randn(4), records=False,
                  gradcheck=False)],
    "Logical": [V("& | ^ ~ on masks", lambda L, x: L.where((x > 0) & ~(x > 1) | (x < -1) ^ (x < -2), x, -x),
                  randn(*A3), records=False),
                V("logical_and/or/xor/not", lambda L, x, y, k: L.where(
                    L.logical_xor(x > 0.5, k) | L.logical_and(x > 0, k) | L.logical_or(x < -1, k > 1)
                    & L.logical_not(k), x, y), randn(*A3), randn(4), ints(3, 4), records=False),
                V("bitwise on integers", lambda L, k, j: (k & j) | (k ^ 3) | ~j, ints(8, *A3), ints(8, 4),
                  records=False, gradcheck=False)],
}


# ---- the tests ------------------------------------------------------------------------------------

def _public_ops():
    return {name for name in OPS if not name.startswith("_")}


def recorded_ops(t):
    """Names of the ops in the graph that produced ``t`` (walking the nodes' parents: next_functions shows a
    fused loss's inputs, as torch, not the ops inside it)."""
    names, seen = set(), set()
    stack = [t.grad_fn] if isinstance(t, cr.Tensor) and t.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.op_name())
        stack.extend(p for p in node.parents if isinstance(p, Node))
    return names


def _check_recorded(op, case, inputs):
    """The variant really reaches ``op``: it is in the graph of the output, or for a
    second-derivative variant, of the output (its backward's ops) or of the loss."""
    if not case.records:
        return
    found = recorded_ops(case.fn(cr, *inputs))
    if case.loss is not None:
        found |= recorded_ops(case.loss(cr, *inputs))
    assert op in found, f"{op} [{case.label}]: the chainrule function never recorded {op} (only {sorted(found)})"


def test_every_op_has_cases():
    ops = _public_ops()
    problems = []
    for name in sorted(ops - set(EXEMPT)):
        variants = CASES.get(name, [])
        if not any(v.vs_torch for v in variants):
            problems.append(f"{name}: no torch comparison case")
        if not any(v.gradcheck for v in variants):
            problems.append(f"{name}: no float64 gradcheck case")
    problems += [f"{name}: in CASES but not an op in OPS (stale)" for name in sorted(set(CASES) - ops)]
    problems += [f"{name}: in EXEMPT but not an op in OPS (stale)" for name in sorted(set(EXEMPT) - ops)]
    problems += [f"{name}: both in CASES and EXEMPT" for name in sorted(set(CASES) & set(EXEMPT))]
    assert not problems, "op table incomplete:\n  " + "\n  ".join(problems)


def _float32(a):
    return a.astype(np.float32) if a.dtype.kind == "f" else a


@pytest.mark.parametrize("op", sorted(n for n, vs in CASES.items() if any(v.vs_torch for v in vs)))
def test_op_matches_torch(op):
    for case in CASES[op]:
        if not case.vs_torch:
            continue
        arrays = [_float32(a) for a in case.arrays]
        cr_fn = functools.partial(case.fn, cr)
        torch_fn = functools.partial(case.torch_fn or case.fn, torch)
        _check_recorded(op, case, [cr.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays])
        try:
            compare(cr_fn, torch_fn, arrays, tol=case.tol)
        except AssertionError as e:
            raise AssertionError(f"{op} [{case.label}]: {e}") from None


@pytest.mark.parametrize("op", sorted(n for n, vs in CASES.items() if any(v.gradcheck for v in vs)))
def test_op_gradcheck_float64(op):
    for case in CASES[op]:
        if not case.gradcheck:
            continue
        inputs = [cr.tensor(a.astype(np.float64), requires_grad=True) if a.dtype.kind == "f" else cr.tensor(a)
                  for a in case.arrays]
        fn = functools.partial(case.fn, cr)
        _check_recorded(op, case, inputs)
        try:
            assert cr.autograd.gradcheck(fn, inputs, **case.gc)
        except cr.autograd.GradcheckError as e:
            raise AssertionError(f"{op} [{case.label}]: {e}") from None
