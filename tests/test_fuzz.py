"""Property-based differential fuzzing of every op in the op table against torch (hypothesis).

``tests/test_op_table.py`` checks each primitive on a few hand-picked inputs; this file throws random
ones at them. ``GENERATORS`` maps each op class name of ``chainrule.ops.registry.OPS`` (all but the
``_`` plumbing and ``EXEMPT``'s ToDevice: ``test_fuzzer_covers_every_op``) to a hypothesis strategy
drawing a ``Case``: a computation ``fn(L, *tensors)`` written once and run with ``L = chainrule`` and
``L = torch`` (as in the op table), and its inputs:

- shapes with size-0 and size-1 dims and 0-d tensors; binary ops get broadcast-compatible shapes
  (trailing dims of one shape, set to 1 in every position; rarely incompatible ones); reductions a
  shape + dim(s) + keepdim; movement ops valid (rarely invalid) permutations, reshapes, expansions,
  index keys (slices, ints, None, Ellipsis, index tensors and lists, masks); matmul/linear compatible
  shapes with zero-size dims; conv and pooling small (rarely invalid) configurations, batch 0 allowed;
- float32/float64, and where the op takes them integer/bool or mixed-dtype operands;
- values: normal, coarse (multiples of 0.5: ties, exact sums), wide (|x| up to 1e30) or scaled,
  overlaid at random with 0, -0, +-1, +-1e30, denormals and, less often, +-inf and nan;
- non-contiguous inputs, two ways: the NumPy array handed to ``L.tensor`` is at random Fortran-ordered
  or a step-2 slice of a larger array; and the tensor the op sees is at random made with the library's
  own ops from a stored leaf: ``leaf.permute(..)``, ``leaf[.., off::2, ..]`` (the skipped entries
  hold garbage, nan included) or ``leaf.expand(..)`` (stride 0). Gradients are compared on the leaves.

Each example runs forward on both libraries, then backward with the same random upstream gradient
(standard normal, the output's shape and dtype), and ``differential`` compares:

- raising: if torch raises, chainrule must raise (the exception type may differ only where
  ``EXCEPTION_TYPES`` says why); if torch does not, chainrule must not;
- every output's dtype, shape and values: nan and +-inf positions exactly, finite values within
  ``|c - t| <= tiny + rtol (|t| + B)``: rtol 1e-4 float32, 1e-7 float64 (1e-3 float16); ``tiny`` the
  smallest normal (denormal results may differ in their last bits); ``B`` a bound on the rounding of
  values that are sums of terms, 0 elsewhere. A sum in another order (NumPy's pairwise/BLAS blocking,
  torch's vectorised kernels) differs by up to ~n eps sum|terms|: unbounded relative to a result near
  cancellation (1e30 + 1 - 1e30). ``B`` is sum|terms| elementwise, computed with torch: for the
  multilinear ops (sum, mean, matmul, linear, conv, avg pool, indexing, cat, repeat, expand) by running
  the case on |inputs| (nan/inf as 0) with |upstream| ("abs"); for broadcasting elementwise ops from
  the gradient terms before they are summed over the broadcast dims ("broadcast"); for the rest from
  the rule's own cancellation (``bound_*``, each saying why); a leaf behind an ``expand`` view adds the
  |view gradient| it sums. Where B exceeds the dtype's range (terms that overflow in one order and not
  in another, inf - inf or a finite sum) any result is right there;
- input gradients the same way (at the least precise dtype the gradient passed through). Where the
  forward output has a nan or inf, gradients are compared only where torch's is finite: which of
  several infinite paths a rule multiplies out first (0 * inf) is a convention there, the ones that
  matter are tracked in the issue (``KNOWN_DIVERGENCES``), and a finite torch gradient must still be
  matched.

Where torch is inconsistent with itself the test says so (a ``TorchInconsistency`` warning naming the
op and why, and a hypothesis event) and skips the example: found by running torch again on the same
values contiguous (a result that depends on the layout: e.g. torch's eval batch_norm backward for a
Fortran-ordered input), or listed in ``TORCH_QUIRKS`` (a torch result that depends on an unrelated
detail: batch size, a zero elsewhere in the tensor, a scalar spelled as a number). Cases that crash
torch itself (max_pool2d with a dilated window entirely in the padding: heap corruption) are not run,
and duplicate indices in ``y[idx] = v`` (undefined in torch) are not generated.

``KNOWN_DIVERGENCES`` lists divergences being fixed (the edge-case issue) or found here (``new=True``):
an example failing the way an entry describes (op, stage, condition) is not a failure. Delete an entry
when its fix lands. ``CHAINRULE_FUZZ_STRICT=1`` ignores the list (to see what is still broken);
``CHAINRULE_FUZZ_LOG=<file>`` appends one line per example skipped as a known divergence or a torch
inconsistency (to see which entries still occur).

Runs (from the repository root, so that ``chainrule`` is this checkout's):

- default (CI): ``python -m pytest tests/test_fuzz.py -q -p no:cacheprovider``: ``DEFAULT_EXAMPLES``
  derandomized examples per op, about 25 s on two cores (under 100 s);
- long: ``CHAINRULE_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py -q -p no:cacheprovider``
  (examples per op, about half an hour on two cores; add ``CHAINRULE_FUZZ_SEED=<int>`` for other examples
  than the default's, ``-x`` to stop at the first failing op, ``-k Conv2d`` for one op).
"""
import math
import operator
import os
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, event, given, seed, settings, strategies as st

import chainrule as cr
from chainrule.ops.registry import OPS
from test_op_table import EXEMPT, recorded_ops

pytestmark = pytest.mark.fuzz

DEFAULT_EXAMPLES = 100
EXAMPLES = int(os.environ.get("CHAINRULE_FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)
SEED = os.environ.get("CHAINRULE_FUZZ_SEED")
STRICT = os.environ.get("CHAINRULE_FUZZ_STRICT") == "1"
LOG = os.environ.get("CHAINRULE_FUZZ_LOG")  # a file: one line per example skipped as known or torch-inconsistent
inf, nan = math.inf, math.nan


class TorchInconsistency(UserWarning):
    """torch contradicts itself on these values (layout, batch size, spelling): examples skipped."""


def F(L):
    return L.nn.functional


# ---- tolerances ---------------------------------------------------------------------------------

RTOL = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-7}


def _tiny(dtype):
    return float(np.finfo(dtype).tiny)


# ---- values ---------------------------------------------------------------------------------------

DENORMAL = {np.dtype(np.float32): 1e-40, np.dtype(np.float64): 1e-310, np.dtype(np.float16): 1e-6}
MODES = ("normal", "coarse", "normal", "wide", "scaled")
SPECIAL_P = (0.0, 0.0, 0.0, 0.15, 0.5)


@st.composite
def value_spec(draw):
    """How to fill an array: (seed, mode, probability of special values, may they be inf/nan)."""
    return (draw(st.integers(0, 2 ** 32 - 1)), draw(st.sampled_from(MODES)), draw(st.sampled_from(SPECIAL_P)),
            draw(st.sampled_from((False, False, True))))


def fill(spec, shape, dtype, kind="real"):
    """An array of ``shape``: kind real (any value), moderate (finite, |x| < 1e6: casts to int),
    unit (in [0, 1], nan/out of range when the spec allows non-finite), positive, int, bool."""
    seed_, mode, p, nonfinite = spec
    rng = np.random.default_rng(seed_)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(-3, 4, shape).astype(dtype)
    tiny = DENORMAL[dtype]
    if kind == "unit":
        a = rng.random(shape)
        if mode == "coarse":
            a = np.round(a * 4) / 4
        specials = [0.0, 1.0, tiny, 0.5, 1e-30, 1 - float(np.finfo(dtype).eps)]
        bad = [nan, -0.25, 1.5]
    else:
        if mode == "coarse":
            a = rng.integers(-4, 5, shape) * 0.5
        elif mode == "wide":
            a = rng.choice([-1.0, 1.0], shape) * 10.0 ** rng.uniform(-30, 30, shape)
        elif mode == "scaled":
            a = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4)
        else:
            a = rng.standard_normal(shape)
        specials = [0.0, -0.0, 1.0, -1.0, 1e30, -1e30, tiny, -tiny]
        bad = [inf, -inf, nan]
        if kind == "moderate":
            a = np.clip(a, -1e6, 1e6)
            specials, bad = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, tiny], []
    if p:
        pool = specials + (bad if nonfinite else [])
        a = np.where(rng.random(shape) < p, rng.choice(pool, shape), a)
    if kind == "positive":
        a = np.abs(a)
    return np.asarray(a).astype(dtype)


# ---- layouts: how the tensor an op sees is made from the stored leaf ------------------------------

class Plain:
    def stored_shape(self, shape):
        return tuple(shape)

    def np_view(self, a):
        return a

    def view(self, L, leaf):
        return leaf

    def back(self, g, stored_shape):
        """A view-shaped nonnegative bound carried onto the leaf (as the view's backward would)."""
        return g

    def __repr__(self):
        return "plain"


PLAIN = Plain()


class Perm(Plain):
    """leaf.permute(perm): a transposed view."""
    def __init__(self, perm):
        self.perm = tuple(perm)
        self.inv = tuple(int(i) for i in np.argsort(perm))

    def stored_shape(self, shape):
        return tuple(shape[i] for i in self.inv)

    def np_view(self, a):
        return a.transpose(self.perm)

    def view(self, L, leaf):
        return leaf.permute(*self.perm)

    def back(self, g, stored_shape):
        return g.transpose(self.inv)

    def __repr__(self):
        return f"leaf.permute{self.perm}"


class Strided(Plain):
    """leaf[..., off::2 (dim k), ...]: every other entry of a longer dim; the rest is garbage."""
    def __init__(self, shape, k, off):
        self.k, self.off, self.n = k, off, shape[k]
        self.key = (slice(None),) * k + (slice(off, off + 2 * self.n, 2),)

    def stored_shape(self, shape):
        s = list(shape)
        s[self.k] = 2 * self.n + self.off
        return tuple(s)

    def np_view(self, a):
        return a[self.key]

    def view(self, L, leaf):
        return leaf[self.key]

    def back(self, g, stored_shape):
        z = np.zeros(stored_shape)
        z[self.key] = g
        return z

    def __repr__(self):
        return f"leaf[{', '.join([':'] * self.k + [f'{self.off}:{self.off + 2 * self.n}:2'])}]"


class Expanded(Plain):
    """leaf.expand(shape) of a leaf with size 1 at dim k (stride 0)."""
    def __init__(self, shape, k):
        self.shape, self.k = tuple(shape), k

    def stored_shape(self, shape):
        s = list(shape)
        s[self.k] = 1
        return tuple(s)

    def np_view(self, a):
        return np.broadcast_to(a, self.shape)

    def view(self, L, leaf):
        return leaf.expand(*self.shape)

    def back(self, g, stored_shape):
        return g.sum(axis=self.k, keepdims=True)

    def __repr__(self):
        return f"leaf.expand{self.shape}"


@st.composite
def layouts(draw, shape):
    nd = len(shape)
    if nd == 0:
        return PLAIN
    kind = draw(st.sampled_from(("plain", "permute", "strided", "plain", "expanded")))
    if kind == "permute" and nd >= 2:
        perm = tuple(draw(st.permutations(range(nd))))
        return Perm(perm if perm != tuple(range(nd)) else perm[::-1])
    if kind == "strided":
        return Strided(shape, draw(st.integers(0, nd - 1)), draw(st.integers(0, 1)))
    if kind == "expanded":
        return Expanded(shape, draw(st.integers(0, nd - 1)))
    return PLAIN


def np_noncontig(a, order):
    """The stored array as handed to L.tensor: C order, Fortran order, or a step-2 slice."""
    if order == "F" and a.ndim:  # (asfortranarray makes 0-d 1-d)
        return np.asfortranarray(a)
    if order == "step" and a.ndim:
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        return big[..., ::2]
    return a


class Arg:
    """One input: the stored array, the layout that makes the op's tensor from its leaf, whether
    the leaf requires grad (float only), the NumPy order handed to L.tensor."""

    def __init__(self, stored, layout=PLAIN, grad=True, order="C"):
        self.stored, self.layout, self.order = np.asarray(stored), layout, order
        self.grad = bool(grad) and self.stored.dtype.kind == "f"
        self.logical = np.array(layout.np_view(self.stored), order="C")  # (ascontiguousarray makes 0-d 1-d)

    def leaf(self, L, plain):
        a = self.logical if plain else np_noncontig(self.stored, self.order)
        return L.tensor(a.copy() if plain else a, requires_grad=self.grad)

    def __repr__(self):
        a = self.logical
        vals = np.array2string(a, precision=9, separator=", ", threshold=60)
        lay = "" if self.layout is PLAIN else f", layout={self.layout!r} of stored {self.stored.shape}"
        order = "" if self.order == "C" else f", numpy={self.order}"
        return f"{a.dtype}{list(a.shape)}{lay}{order}: {vals}"


def const(a):
    return Arg(np.asarray(a), PLAIN, grad=False)


@st.composite
def arg(draw, shape, dtype, kind="real", grad=True, layout=True):
    shape = tuple(shape)
    lay = draw(layouts(shape)) if layout else PLAIN
    spec = draw(value_spec())
    order = draw(st.sampled_from(("C", "C", "F", "step")))
    return Arg(fill(spec, lay.stored_shape(shape), dtype, kind), lay, grad, order)


# ---- shapes ---------------------------------------------------------------------------------------

SIDES = (1, 2, 3, 0, 1, 4, 2, 5, 3, 1)  # drawn by index: shrinks to 1; 0 one time in ten


def side(lo=0):
    return st.integers(0, len(SIDES) - 1).map(SIDES.__getitem__).filter(lambda n: n >= lo)


def shapes(min_dims=0, max_dims=4, lo=0):
    return st.lists(side(lo), min_size=min_dims, max_size=max_dims).map(tuple)


FLOAT = st.sampled_from((np.float32, np.float64))


def other_float(dt):
    return np.float64 if np.dtype(dt) == np.float32 else np.float32


@st.composite
def broadcast_shapes(draw, n, min_dims=0, max_dims=4):
    """n shapes that broadcast together: each the trailing dims of one full shape with some set to
    1; rarely (1 in 20) one dim made incompatible."""
    full = draw(shapes(min_dims, max_dims))
    out = []
    for _ in range(n):
        nd = draw(st.sampled_from((len(full), len(full), draw(st.integers(0, len(full))))))
        s = [1 if draw(st.integers(0, 3)) == 0 else d for d in full[len(full) - nd:]]
        out.append(s)
    if draw(st.integers(0, 19)) == 0:
        i = draw(st.integers(0, n - 1))
        if out[i]:
            j = draw(st.integers(0, len(out[i]) - 1))
            out[i][j] = max(full[len(full) - len(out[i]) + j], 1) + 1
    return [tuple(s) for s in out]


@st.composite
def dim_arg(draw, shape, multi=True, allow_none=True):
    """A reduction dim for a tensor of ``shape``: None, an int (negative at random) or a tuple of
    distinct dims; rarely out of range or repeated (not for an empty tensor: one error at a time)."""
    nd = len(shape)
    n = max(nd, 1)
    bad_ok = 0 not in shape
    choice = draw(st.sampled_from(("int", "int", "tuple", "none") if multi else ("int", "int", "none")))
    if choice == "none" and allow_none:
        return None
    if choice == "tuple":
        dims = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n))
        dims = [d - n if draw(st.booleans()) else d for d in dims]
        if draw(st.integers(0, 19)) == 0 and dims and bad_ok:
            dims.append(dims[0])
        return tuple(dims)
    if draw(st.integers(0, 19)) == 0 and bad_ok:
        return draw(st.sampled_from((n, -n - 1)))
    d = draw(st.integers(0, n - 1))
    return d - n if draw(st.booleans()) else d


# ---- a case ---------------------------------------------------------------------------------------

class Case:
    """``fn(L, *tensors)`` on ``args``, run with L = chainrule and L = torch.

    bound: how the error bound B of sums of terms is made ("abs", "broadcast", "absg" = the case on
    its own inputs with |upstream|, a callable (case, logical float64 arrays, upstream) ->
    (forward B, [B per arg]), or None); params: the drawn parameters, for KNOWN_DIVERGENCES."""

    def __init__(self, op, label, fn, args, bound=None, **params):
        self.op, self.label, self.fn, self.args = op, label, fn, list(args)
        self.bound, self.params = bound, params

    def __repr__(self):
        lines = [f"{self.op}: {self.label}"] + [f"  input {i}: {a!r}" for i, a in enumerate(self.args)]
        if self.params:
            lines.append(f"  params: {self.params}")
        return "\n".join(lines)

    # conditions for KNOWN_DIVERGENCES
    def floats(self):
        return [a.logical for a in self.args if a.logical.dtype.kind == "f"]

    def nonfinite(self, i=None):
        arrays = self.floats() if i is None else [self.args[i].logical]
        return any(not np.isfinite(a).all() for a in arrays)

    def empty(self):
        return any(a.logical.size == 0 for a in self.args)

    def any_layout(self):
        """A view made by the library's ops, or a Fortran-ordered array (torch.tensor keeps its strides)."""
        return any(a.layout is not PLAIN or a.order == "F" for a in self.args)

    def dtype(self):
        return self.args[0].logical.dtype


def first_derivative(loss):
    """fn(L, x, *rest) = d loss(L, x, *rest) / dx with create_graph: its backward is a second
    derivative (double backward through the op's backward)."""
    def fn(L, x, *rest):
        with L.enable_grad():
            g, = L.autograd.grad(loss(L, x, *rest), x, create_graph=True)
        return g
    return fn


# ---- generators: one strategy per op ------------------------------------------------------------

GENERATORS = {}


def generator(*ops):
    def register(composite):
        for op in ops:
            GENERATORS[op] = composite(op)
        return composite
    return register


def v(label, fn):
    return (label, fn)


# -- binary arithmetic --

BINARY = {
    "Add": [v("a + b", lambda L, a, b: a + b), v("a.add(b, alpha=2)", lambda L, a, b: a.add(b, alpha=2)),
            v("L.add(a, b)", lambda L, a, b: L.add(a, b))],
    "Sub": [v("a - b", lambda L, a, b: a - b), v("a.sub(b, alpha=-3)", lambda L, a, b: a.sub(b, alpha=-3)),
            v("L.sub(a, b)", lambda L, a, b: L.sub(a, b))],
    "Mul": [v("a * b", lambda L, a, b: a * b), v("L.mul(a, b)", lambda L, a, b: L.mul(a, b))],
    "Div": [v("a / b", lambda L, a, b: a / b), v("L.div(a, b)", lambda L, a, b: L.div(a, b))],
    "Pow": [v("a ** b", lambda L, a, b: a ** b), v("L.pow(a, b)", lambda L, a, b: L.pow(a, b))],
    "Maximum": [v("L.maximum(a, b)", lambda L, a, b: L.maximum(a, b)), v("a.max(b)", lambda L, a, b: a.max(b))],
    "Minimum": [v("L.minimum(a, b)", lambda L, a, b: L.minimum(a, b)), v("a.min(b)", lambda L, a, b: a.min(b))],
}
SYMBOL = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Pow": "**"}
SCALARS = (2.0, 0.5, -1.5, 0.0, 3, -2, 1, 1e30, -1e-40, inf, -inf, nan, True)
EXPONENTS = (2, 3, 0, 1, -1, -2, 0.5, 2.5, -0.5, 0.0, 1e30, inf, nan, 2.0)
BASES = (2.0, 0.0, -1.0, 0.5, 1, 2, inf, -2.5)


def _scalar_fn(op, s, scalar_first):
    if op in SYMBOL:
        sym = SYMBOL[op]
        f = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow}[sym]
        if scalar_first:
            return f"{s!r} {sym} a", lambda L, a: f(s, a)
        return f"a {sym} {s!r}", lambda L, a: f(a, s)
    name = op.lower()
    return f"L.{name}(a, {s!r})", lambda L, a: getattr(L, name)(a, s)


@generator("Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum")
@st.composite
def gen_binary(draw, op):
    dt = draw(FLOAT)
    form = draw(st.sampled_from(("tensors", "tensors", "tensors", "scalar", "scalar first")))
    if form == "tensors":
        sa, sb = draw(broadcast_shapes(2))
        da = db = dt
        r = draw(st.integers(0, 11))
        if r == 0:
            db = other_float(dt)
        elif r == 1:
            db = np.int64
        elif r == 2:
            da = np.int64
        elif r == 3:
            da = db = np.int64
        elif r == 4:
            db = np.bool_
        label, fn = draw(st.sampled_from(BINARY[op]))
        return Case(op, label, fn, [draw(arg(sa, da)), draw(arg(sb, db))], bound="broadcast")
    shape = draw(shapes())
    if draw(st.integers(0, 9)) == 0:
        dt = np.int64
    pool = SCALARS
    if op == "Pow":
        pool = BASES if form == "scalar first" else EXPONENTS
    s = draw(st.sampled_from(pool))
    if op in ("Maximum", "Minimum"):
        form = "scalar"
    label, fn = _scalar_fn(op, s, form == "scalar first")
    return Case(op, label, fn, [draw(arg(shape, dt))], bound="broadcast", scalar=s)


@generator("Where")
@st.composite
def gen_where(draw, op):
    dt = draw(FLOAT)
    sc, sa, sb = draw(broadcast_shapes(3))
    cdt = np.bool_ if draw(st.integers(0, 14)) else np.float32
    cond = draw(arg(sc, cdt, grad=False))
    form = draw(st.sampled_from(("tensors", "tensors", "scalar other", "scalar input")))
    if form == "tensors":
        db = other_float(dt) if draw(st.integers(0, 5)) == 0 else dt
        return Case(op, "L.where(c, a, b)", lambda L, c, a, b: L.where(c, a, b),
                    [cond, draw(arg(sa, dt)), draw(arg(sb, db))], bound="broadcast")
    s = draw(st.sampled_from((0.0, 1.5, -inf, nan, 2)))
    if form == "scalar other":
        return Case(op, f"L.where(c, a, {s!r})", lambda L, c, a: L.where(c, a, s), [cond, draw(arg(sa, dt))],
                    bound="broadcast")
    return Case(op, f"L.where(c, {s!r}, b)", lambda L, c, b: L.where(c, s, b), [cond, draw(arg(sb, dt))],
                bound="broadcast")


# -- unary --

UNARY = {
    "Neg": [v("-x", lambda L, x: -x), v("x.neg()", lambda L, x: x.neg()), v("L.neg(x)", lambda L, x: L.neg(x))],
    "Exp": [v("x.exp()", lambda L, x: x.exp()), v("L.exp(x)", lambda L, x: L.exp(x))],
    "Log": [v("x.log()", lambda L, x: x.log()), v("L.log(x)", lambda L, x: L.log(x))],
    "Sqrt": [v("x.sqrt()", lambda L, x: x.sqrt()), v("x.rsqrt()", lambda L, x: x.rsqrt()),
             v("L.sqrt(x)", lambda L, x: L.sqrt(x))],
    "Sin": [v("x.sin()", lambda L, x: x.sin()), v("L.sin(x)", lambda L, x: L.sin(x))],
    "Cos": [v("x.cos()", lambda L, x: x.cos()), v("L.cos(x)", lambda L, x: L.cos(x))],
    "Tanh": [v("x.tanh()", lambda L, x: x.tanh()), v("F.tanh(x)", lambda L, x: F(L).tanh(x))],
    "Sigmoid": [v("x.sigmoid()", lambda L, x: x.sigmoid()), v("L.sigmoid(x)", lambda L, x: L.sigmoid(x)),
                v("F.sigmoid(x)", lambda L, x: F(L).sigmoid(x))],
    "Relu": [v("x.relu()", lambda L, x: x.relu()), v("F.relu(x)", lambda L, x: F(L).relu(x)),
             v("L.relu(x)", lambda L, x: L.relu(x))],
    "Abs": [v("x.abs()", lambda L, x: x.abs()), v("abs(x)", lambda L, x: abs(x)),
            v("L.abs(x)", lambda L, x: L.abs(x))],
    "Clone": [v("x.clone()", lambda L, x: x.clone()), v("L.clone(x)", lambda L, x: L.clone(x))],
    "LeakyRelu": [v("F.leaky_relu(x)", lambda L, x: F(L).leaky_relu(x))] + [
        v(f"F.leaky_relu(x, {s})", (lambda s: lambda L, x: F(L).leaky_relu(x, s))(s)) for s in (0.2, 0.0, -0.5, 2.0)],
    "Elu": [v("F.elu(x)", lambda L, x: F(L).elu(x))] + [
        v(f"F.elu(x, alpha={a})", (lambda a: lambda L, x: F(L).elu(x, alpha=a))(a)) for a in (0.5, 0.0, 2.0)],
    "Gelu": [v("F.gelu(x)", lambda L, x: F(L).gelu(x)),
             v("F.gelu(x, approximate='tanh')", lambda L, x: F(L).gelu(x, approximate="tanh"))],
}


@generator(*UNARY)
@st.composite
def gen_unary(draw, op):
    r = draw(st.integers(0, 14))
    dt = np.int64 if r == 0 else np.bool_ if r == 1 else draw(FLOAT)
    label, fn = draw(st.sampled_from(UNARY[op]))
    return Case(op, label, fn, [draw(arg(draw(shapes()), dt))],
                bound={"Gelu": bound_gelu, "Tanh": bound_saturating, "Sigmoid": bound_saturating}.get(op))


CLAMP_BOUNDS = (None, -0.5, 0.5, 0.0, 1.0, -1e30, 1e30, -inf, inf, nan, 2)


@generator("Clamp")
@st.composite
def gen_clamp(draw, op):
    dt = np.int64 if draw(st.integers(0, 9)) == 0 else draw(FLOAT)
    x = draw(arg(draw(shapes()), dt))
    lo, hi = draw(st.sampled_from(CLAMP_BOUNDS)), draw(st.sampled_from(CLAMP_BOUNDS))
    form = draw(st.integers(0, 4))
    if form == 0:
        return Case(op, f"x.clamp(min={lo!r})", lambda L, x: x.clamp(min=lo), [x])
    if form == 1:
        return Case(op, f"x.clamp(max={hi!r})", lambda L, x: x.clamp(max=hi), [x])
    if form == 2:
        return Case(op, f"L.clamp(x, {lo!r}, {hi!r})", lambda L, x: L.clamp(x, lo, hi), [x])
    if form == 3:
        return Case(op, f"x.clip({lo!r}, {hi!r})", lambda L, x: x.clip(lo, hi), [x])
    return Case(op, f"x.clamp({lo!r}, {hi!r})", lambda L, x: x.clamp(lo, hi), [x])


@generator("Cast")
@st.composite
def gen_cast(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes())
    other = "float64" if np.dtype(dt) == np.float32 else "float32"
    form = draw(st.integers(0, 8))
    if form == 0:
        return Case(op, f"x.to(L.{other})", lambda L, x: x.to(getattr(L, other)), [draw(arg(shape, dt))])
    if form == 1:
        name = "double" if other == "float64" else "float"
        return Case(op, f"x.{name}()", lambda L, x: getattr(x, name)(), [draw(arg(shape, dt))])
    if form == 2:
        return Case(op, "x.half()", lambda L, x: x.half(), [draw(arg(shape, dt))])
    if form == 3:  # float -> int: values only; nan, inf and out-of-range values are undefined behaviour
        name = draw(st.sampled_from(("long", "int")))
        return Case(op, f"x.{name}()", lambda L, x: getattr(x, name)(), [draw(arg(shape, dt, "moderate"))])
    if form == 4:
        return Case(op, "x.bool()", lambda L, x: x.bool(), [draw(arg(shape, dt))])
    if form == 5:  # int -> float, into a differentiable product
        n = draw(arg(shape, np.int64))
        return Case(op, "x * n.float()", lambda L, x, n: x * n.float(), [draw(arg(shape, dt)), n])
    sa, sb = draw(broadcast_shapes(2))
    return Case(op, "a + b (promotion)", lambda L, a, b: a + b,
                [draw(arg(sa, dt)), draw(arg(sb, other_float(dt)))], bound="broadcast")


# -- reductions --

def _dims_label(dim, keepdim):
    parts = ([] if dim is None else [repr(dim)]) + (["keepdim=True"] if keepdim else [])
    return ", ".join(parts)


@st.composite
def float_or_int(draw, ints=True):
    if ints and draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from((np.int64, np.bool_)))
    return draw(FLOAT)


@generator("Sum", "Mean")
@st.composite
def gen_sum_mean(draw, op):
    name = op.lower()
    dt = draw(float_or_int())
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    dim, keepdim = draw(dim_arg(shape)), draw(st.booleans())
    form = draw(st.integers(0, 4))
    if form == 0:
        return Case(op, f"x.{name}()", lambda L, x: getattr(x, name)(), [x], bound="abs")
    if form == 1:
        return Case(op, f"L.{name}(x, {_dims_label(dim, keepdim)})",
                    lambda L, x: getattr(L, name)(x, dim, keepdim=keepdim), [x], bound="abs")
    if form == 2:
        return Case(op, f"x.{name}(dtype=L.float64)", lambda L, x: getattr(x, name)(dtype=L.float64), [x],
                    bound="abs")
    return Case(op, f"x.{name}(dim={dim!r}, keepdim={keepdim})",
                lambda L, x: getattr(x, name)(dim=dim, keepdim=keepdim), [x], bound="abs")


@generator("Prod")
@st.composite
def gen_prod(draw, op):
    dt = draw(float_or_int())
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    dim, keepdim = draw(dim_arg(shape, multi=False)), draw(st.booleans())
    form = draw(st.integers(0, 5))
    if form == 0 or dim is None:
        return Case(op, "x.prod()", lambda L, x: x.prod(), [x], bound=bound_prod)
    if form == 1 and np.dtype(dt).kind == "f":
        c = draw(arg(tuple(n for i, n in enumerate(shape) if i != dim % max(len(shape), 1)) if shape else (),
                     dt, layout=False))
        return Case(op, f"d/dx sum(c * x.prod({dim}))", first_derivative(lambda L, x, c: (c * x.prod(dim)).sum()),
                    [x, c], bound=bound_prod_d, dim=dim)
    if form == 2:
        return Case(op, f"L.prod(x, {dim})", lambda L, x: L.prod(x, dim), [x], bound=bound_prod, dim=dim)
    return Case(op, f"x.prod({dim}, keepdim={keepdim})", lambda L, x: x.prod(dim, keepdim=keepdim), [x],
                bound=bound_prod, dim=dim, keepdim=keepdim)


@generator("Amax", "Amin")
@st.composite
def gen_amax(draw, op):
    name = op.lower()
    short = name[1:]  # max / min
    dt = draw(FLOAT)
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    dim, keepdim = draw(dim_arg(shape)), draw(st.booleans())
    form = draw(st.integers(0, 4))
    if form == 0:
        return Case(op, f"x.{short}()", lambda L, x: getattr(x, short)(), [x])
    if form == 1:
        return Case(op, f"L.{short}(x)", lambda L, x: getattr(L, short)(x), [x])
    if form == 2 or dim is None:
        return Case(op, f"x.{name}()", lambda L, x: getattr(x, name)(), [x])
    if form == 3:
        return Case(op, f"L.{name}(x, {dim!r}, keepdim={keepdim})",
                    lambda L, x: getattr(L, name)(x, dim, keepdim=keepdim), [x])
    return Case(op, f"x.{name}({dim!r}, keepdim={keepdim})", lambda L, x: getattr(x, name)(dim, keepdim=keepdim), [x])


@generator("MaxDim", "MinDim")
@st.composite
def gen_maxdim(draw, op):
    name = "max" if op == "MaxDim" else "min"
    dt = draw(FLOAT)
    shape = draw(shapes(min_dims=1))
    x = draw(arg(shape, dt))
    dim, keepdim = draw(dim_arg(shape, multi=False, allow_none=False)), draw(st.booleans())
    form = draw(st.integers(0, 3))
    if form == 0:
        return Case(op, f"L.{name}(x, {dim})", lambda L, x: tuple(getattr(L, name)(x, dim)), [x])
    if form == 1:
        return Case(op, f"x.{name}(dim={dim}).values", lambda L, x: getattr(x, name)(dim=dim).values, [x])
    return Case(op, f"x.{name}({dim}, keepdim={keepdim}) (values, indices)",
                lambda L, x: tuple(getattr(x, name)(dim, keepdim=keepdim)), [x])


@generator("LogSumExp")
@st.composite
def gen_logsumexp(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    dim, keepdim = draw(dim_arg(shape, allow_none=False)), draw(st.booleans())
    form = draw(st.integers(0, 4))
    if form == 0:
        return Case(op, f"L.logsumexp(x, {dim!r})", lambda L, x: L.logsumexp(x, dim), [x], bound=bound_logsumexp,
                    dim=dim)
    if form == 1 and isinstance(dim, int):
        red = tuple(n for i, n in enumerate(shape) if i != dim % max(len(shape), 1)) if shape else ()
        c = draw(arg(red, dt, layout=False))
        return Case(op, f"d/dx sum(c * x.logsumexp({dim}))",
                    first_derivative(lambda L, x, c: (c * x.logsumexp(dim)).sum()), [x, c], bound="norm")
    return Case(op, f"x.logsumexp({dim!r}, keepdim={keepdim})", lambda L, x: x.logsumexp(dim, keepdim=keepdim), [x],
                bound=bound_logsumexp, dim=dim)


@generator("Softmax", "LogSoftmax")
@st.composite
def gen_softmax(draw, op):
    name = "softmax" if op == "Softmax" else "log_softmax"
    dt = draw(FLOAT)
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    dim = draw(dim_arg(shape, multi=False, allow_none=False))
    form = draw(st.integers(0, 6))
    bound = bound_softmax if op == "Softmax" else bound_log_softmax
    if form == 0:
        return Case(op, f"F.{name}(x, dim={dim})", lambda L, x: getattr(F(L), name)(x, dim=dim), [x], bound=bound)
    if form == 1:
        return Case(op, f"F.{name}(x, {dim}, dtype=L.float64)",
                    lambda L, x: getattr(F(L), name)(x, dim, dtype=L.float64), [x], bound=bound)
    if form == 2 and op == "Softmax":
        c = draw(arg(shape, dt, layout=False))
        return Case(op, f"d/dx sum(c * x.softmax({dim}))", first_derivative(lambda L, x, c: (c * x.softmax(dim)).sum()),
                    [x, c], bound="norm")
    if form == 2:  # nll_loss on log_softmax: the loss the issue names, through LogSoftmax
        n, c = draw(side()), draw(side(lo=1))
        x = draw(arg((n, c), dt))
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        ignore = draw(st.sampled_from((-100, 0, 1)))
        t = np.where(rng.random(n) < 0.2, ignore, rng.integers(0, c, n)).astype(np.int64)
        reduction = draw(st.sampled_from(("mean", "sum", "none")))
        w = draw(st.sampled_from((None, "w")))
        args = [x, const(t)] + ([draw(arg((c,), dt, "unit", grad=False, layout=False))] if w else [])
        return Case(op, f"F.nll_loss(F.log_softmax(x, 1), t, weight={w}, ignore_index={ignore}, "
                        f"reduction={reduction!r})",
                    lambda L, x, t, *w: F(L).nll_loss(F(L).log_softmax(x, 1), t, weight=w[0] if w else None,
                                                      ignore_index=ignore, reduction=reduction),
                    args, bound=bound_log_softmax, nll=True, reduction=reduction, ignore_index=ignore, target=t)
    return Case(op, f"x.{name}({dim})", lambda L, x: getattr(x, name)(dim), [x], bound=bound)


@generator("NormSqrt")
@st.composite
def gen_norm(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    dim, keepdim = draw(dim_arg(shape)), draw(st.booleans())
    form = draw(st.integers(0, 6))
    if form == 0:
        return Case(op, "x.norm()", lambda L, x: x.norm(), [x], bound=bound_norm, stat="norm")
    if form == 1:
        return Case(op, f"x.norm(dim={dim!r}, keepdim={keepdim})", lambda L, x: x.norm(dim=dim, keepdim=keepdim),
                    [x], bound=bound_norm, stat="norm", dim=dim)
    if form == 2:
        return Case(op, "x.std()", lambda L, x: x.std(), [x], bound=bound_std, stat="std")
    if form == 3:
        c = draw(st.sampled_from((0, 1, 2)))
        return Case(op, f"x.std({dim!r}, correction={c}, keepdim={keepdim})",
                    lambda L, x: x.std(dim, correction=c, keepdim=keepdim), [x], bound=bound_std, stat="std", dim=dim)
    if form == 4:
        return Case(op, f"x.std({dim!r}, unbiased=False)", lambda L, x: x.std(dim, unbiased=False), [x],
                    bound=bound_std, stat="std", dim=dim)
    return Case(op, f"x.std({dim!r}, keepdim={keepdim})", lambda L, x: x.std(dim, keepdim=keepdim), [x],
                bound=bound_std, stat="std", dim=dim)


# -- movement --

def _factors(n):
    if n == 0:
        return [0]
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


@st.composite
def reshape_target(draw, shape):
    """A shape of the same size (factors regrouped, 1s inserted, maybe one -1); rarely a wrong one."""
    factors = [f for n in shape for f in _factors(n)]
    factors = list(draw(st.permutations(factors)))
    ngroups = draw(st.integers(1 if factors else 0, max(len(factors), 1)))
    cuts = sorted(draw(st.lists(st.integers(0, len(factors)), min_size=max(ngroups - 1, 0),
                                max_size=max(ngroups - 1, 0))))
    bounds = [0] + cuts + [len(factors)]
    target = [int(np.prod(factors[a:b], dtype=np.int64)) for a, b in zip(bounds, bounds[1:])] if ngroups else []
    for _ in range(draw(st.integers(0, 2))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.integers(0, 2)) == 0:
        target[draw(st.integers(0, len(target) - 1))] = -1
    if target and draw(st.integers(0, 19)) == 0:
        i = draw(st.integers(0, len(target) - 1))
        target[i] = abs(target[i]) + 1
    return tuple(target)


@generator("Reshape")
@st.composite
def gen_reshape(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    nd = len(shape)
    t = draw(reshape_target(shape))
    form = draw(st.integers(0, 8))
    if form == 0:
        return Case(op, f"x.reshape(*{t})", lambda L, x: x.reshape(*t), [x])
    if form == 1:
        return Case(op, f"x.view({t})", lambda L, x: x.view(t), [x], layout_sensitive=True)
    if form == 2:
        return Case(op, f"L.reshape(x, {t})", lambda L, x: L.reshape(x, t), [x])
    if form == 3:
        s, e = draw(st.integers(-max(nd, 1), max(nd, 1) - 1)), draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
        return Case(op, f"x.flatten({s}, {e})", lambda L, x: x.flatten(s, e), [x])
    if form == 4:
        d = draw(st.integers(-nd - 1, nd))
        return Case(op, f"x.unsqueeze({d})", lambda L, x: x.unsqueeze(d), [x])
    if form == 5:
        d = draw(st.one_of(st.none(), st.integers(-max(nd, 1), max(nd, 1) - 1)))
        return Case(op, f"x.squeeze({'' if d is None else d})", lambda L, x: x.squeeze() if d is None else x.squeeze(d),
                    [x])
    if form == 6:
        return Case(op, "x.view(-1)", lambda L, x: x.view(-1), [x], layout_sensitive=True)
    return Case(op, f"x.reshape({t})", lambda L, x: x.reshape(t), [x])


@generator("Permute")
@st.composite
def gen_permute(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    nd = len(shape)
    perm = tuple(draw(st.permutations(range(nd))))
    if draw(st.integers(0, 19)) == 0:
        perm = perm[:-1] + (perm[0],) if nd >= 2 else perm + (0,)
    i, j = draw(st.integers(-max(nd, 1), max(nd, 1) - 1)), draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
    form = draw(st.integers(0, 7))
    if form == 0:
        return Case(op, f"x.permute(*{perm})", lambda L, x: x.permute(*perm), [x])
    if form == 1:
        return Case(op, f"L.permute(x, {perm})", lambda L, x: L.permute(x, perm), [x])
    if form == 2:
        return Case(op, f"x.transpose({i}, {j})", lambda L, x: x.transpose(i, j), [x])
    if form == 3:
        return Case(op, f"x.swapaxes({i}, {j})", lambda L, x: x.swapaxes(i, j), [x])
    if form == 4:
        return Case(op, "x.t()", lambda L, x: x.t(), [x])
    if form == 5:
        return Case(op, "x.mT", lambda L, x: x.mT, [x])
    return Case(op, f"x.permute({perm})", lambda L, x: x.permute(perm), [x])


@generator("Expand")
@st.composite
def gen_expand(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes(max_dims=3))
    x = draw(arg(shape, dt))
    lead = [draw(side()) for _ in range(draw(st.integers(0, 2)))]
    sizes = lead + [draw(st.sampled_from((draw(side()), -1, 1))) if n == 1 else draw(st.sampled_from((n, -1)))
                    for n in shape]
    if sizes and draw(st.integers(0, 19)) == 0:
        sizes[draw(st.integers(0, len(sizes) - 1))] = draw(st.sampled_from((-1, 7)))
    sizes = tuple(sizes)
    form = draw(st.integers(0, 3))
    if form == 0:
        return Case(op, f"x.expand({sizes})", lambda L, x: x.expand(sizes), [x], bound="abs")
    if form == 1:
        target = tuple(n if n != -1 else (shape[i - len(lead)] if i >= len(lead) else 1) for i, n in enumerate(sizes))
        return Case(op, f"x.broadcast_to({target})", lambda L, x: x.broadcast_to(target), [x], bound="abs")
    return Case(op, f"x.expand(*{sizes})", lambda L, x: x.expand(*sizes), [x], bound="abs")


class _T:
    """A placeholder in an index key for the next index tensor."""
    def __repr__(self):
        return "T"


T = _T()


@st.composite
def index_key(draw, shape, unique=False):
    """A torch index key for a tensor of ``shape``: (template with T placeholders, index arrays).
    unique: at most one advanced index, 1-d without repeats (for writes)."""
    nd = len(shape)
    parts, arrays = [], []
    d = 0
    ellipsis = False
    adv = 0
    adv_shape = draw(shapes(0, 2, lo=0).map(lambda s: tuple(min(n, 3) for n in s)))
    nparts = draw(st.integers(1, max(nd, 1) + 1))
    while len(parts) < nparts:
        kinds = ["slice", "slice", "int", "none", "array", "mask", "list", "ellipsis"]
        kind = draw(st.sampled_from(kinds))
        if d >= nd and kind not in ("none", "ellipsis"):
            kind = draw(st.sampled_from(("none", "ellipsis", "stop", "stop")))
            if kind == "stop":
                break
        n = shape[d] if d < nd else 0
        if kind == "ellipsis":
            if ellipsis:
                continue
            ellipsis = True
            parts.append(Ellipsis)
            d = max(d, nd - draw(st.integers(0, max(nd - d, 0))))
            continue
        if kind == "none":
            parts.append(None)
            continue
        if kind == "slice":
            ends = (None, 0, 1, -1, 2, -3, n + 2)
            parts.append(slice(draw(st.sampled_from(ends)), draw(st.sampled_from(ends)),
                               draw(st.sampled_from((None, 1, 2, 3)))))
            d += 1
            continue
        if kind == "int":
            i = draw(st.integers(-n, n - 1)) if n else 0
            if draw(st.integers(0, 29)) == 0:
                i = n
            parts.append(i)
            d += 1
            continue
        if unique and adv:
            continue
        adv += 1
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        if kind == "mask":
            m = draw(st.integers(1, max(min(2, nd - d), 1)))
            arrays.append(rng.random(shape[d:d + m]) < 0.5)
            parts.append(T)
            d += m
            continue
        if unique:
            k = draw(st.integers(0, n))
            idx = rng.permutation(n)[:k]
            idx = np.where(rng.random(k) < 0.3, idx - n, idx).astype(np.int64)
        else:
            s = adv_shape if draw(st.integers(0, 3)) else tuple(1 if draw(st.booleans()) else k for k in adv_shape)
            idx = rng.integers(-n, n, s) if n else np.zeros(s, np.int64)
            if n == 0 and idx.size:
                idx = idx[..., :0] if idx.ndim else np.zeros((0,), np.int64)
            if draw(st.integers(0, 29)) == 0 and idx.size:
                idx.flat[0] = n
        if kind == "list":
            parts.append([int(i) for i in np.ravel(idx)])
        else:
            arrays.append(np.asarray(idx, dtype=np.int64))
            parts.append(T)
        d += 1
    if len(parts) == 1 and draw(st.booleans()):
        return parts[0], arrays
    return tuple(parts), arrays


def _ellipsis_between(template):
    """An Ellipsis between two index tensors/lists of the key."""
    keys = template if isinstance(template, tuple) else (template,)
    adv = [i for i, k in enumerate(keys) if k is T or isinstance(k, list)]
    return len(adv) > 1 and any(k is Ellipsis for k in keys[adv[0]:adv[-1]])


def _zero_d_index(template, arrays):
    """A 0-d integer index tensor among several index tensors or lists (torch reads it as an int)."""
    keys = template if isinstance(template, tuple) else (template,)
    n = len(arrays) + sum(isinstance(k, list) for k in keys)
    return n > 1 and any(a.ndim == 0 and a.dtype != np.bool_ for a in arrays)


def build_key(template, tensors):
    it = iter(tensors)
    if isinstance(template, tuple):
        return tuple(next(it) if k is T else k for k in template)
    return next(it) if template is T else template


def key_label(template):
    def one(k):
        if isinstance(k, slice):
            return ":".join("" if p is None else str(p) for p in (k.start, k.stop, k.step)).rstrip(":") or ":"
        return "..." if k is Ellipsis else repr(k)
    if isinstance(template, tuple):
        return ", ".join(one(k) for k in template) or "()"
    return one(template)


def _torch_result_shape(shape, template, arrays):
    try:
        return tuple(torch.zeros(shape)[build_key(template, [torch.tensor(a) for a in arrays])].shape)
    except Exception:  # an invalid key: both libraries must raise
        return None


@generator("Index")
@st.composite
def gen_index(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes())
    template, arrays = draw(index_key(shape))
    x = draw(arg(shape, dt))
    target = _torch_result_shape(shape, template, arrays)
    return Case(op, f"x[{key_label(template)}]", lambda L, x, *idx: x[build_key(template, idx)],
                [x] + [const(a) for a in arrays], bound="abs", empty_result=bool(target) and 0 in target,
                zero_d_index=_zero_d_index(template, arrays), ellipsis_between=_ellipsis_between(template))


def _put(x, key, val):
    y = x.clone()
    y[key] = val
    return y


@generator("IndexPut")
@st.composite
def gen_index_put(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes())
    template, arrays = draw(index_key(shape, unique=True))
    x = draw(arg(shape, dt))
    target = _torch_result_shape(shape, template, arrays)
    idx = [const(a) for a in arrays]
    empty = target is not None and 0 in target
    advanced = bool(arrays) or any(isinstance(k, list) for k in (template if isinstance(template, tuple) else
                                                                  (template,)))
    if target is None or draw(st.integers(0, 5)) == 0:
        s = draw(st.sampled_from((0.5, -inf, nan, 3)))
        return Case(op, f"y = x.clone(); y[{key_label(template)}] = {s!r}",
                    lambda L, x, *idx: _put(x, build_key(template, idx), s), [x] + idx, advanced=advanced,
                    zero_d_index=_zero_d_index(template, arrays), empty_result=empty)
    nd = draw(st.integers(0, len(target)))
    vs = tuple(1 if draw(st.integers(0, 3)) == 0 else n for n in target[len(target) - nd:])
    lead_ones = draw(st.integers(0, 9)) == 0  # torch also takes leading size-1 dims beyond the target's
    if lead_ones:
        vs = (1,) + vs
    vdt = other_float(dt) if draw(st.integers(0, 7)) == 0 else dt
    val = draw(arg(vs, vdt))
    return Case(op, f"y = x.clone(); y[{key_label(template)}] = v",
                lambda L, x, val, *idx: _put(x, build_key(template, idx), val), [x, val] + idx, advanced=advanced,
                lead_ones=lead_ones and len(vs) > len(target), zero_d_index=_zero_d_index(template, arrays),
                empty_result=empty)


@generator("IndexGrad")
@st.composite
def gen_index_grad(draw, op):
    dt = draw(FLOAT)
    if draw(st.integers(0, 3)) == 0:
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        red = tuple(n for i, n in enumerate(shape) if i != dim % len(shape))
        return Case(op, f"d/dx sum(c * x.max(dim={dim}).values ** 2)",
                    first_derivative(lambda L, x, c: (c * x.max(dim=dim).values ** 2).sum()),
                    [draw(arg(shape, dt)), draw(arg(red, dt, layout=False))], bound="norm")
    shape = draw(shapes())
    template, arrays = draw(index_key(shape))
    target = _torch_result_shape(shape, template, arrays) or ()
    f = draw(st.sampled_from(("** 3", ".sin()")))

    def loss(L, x, c, *idx):
        y = x[build_key(template, idx)]
        return (c * (y ** 3 if f == "** 3" else y.sin())).sum()
    return Case(op, f"d/dx sum(c * x[{key_label(template)}]{' ' if f[0] == '*' else ''}{f})", first_derivative(loss),
                [draw(arg(shape, dt)), draw(arg(target, dt, layout=False))] + [const(a) for a in arrays],
                bound="norm", empty_result=0 in target, zero_d_index=_zero_d_index(template, arrays),
                ellipsis_between=_ellipsis_between(template))


@generator("Cat")
@st.composite
def gen_cat(draw, op):
    dt = draw(FLOAT)
    base = list(draw(shapes(min_dims=1, max_dims=3)))
    nd = len(base)
    d = draw(st.integers(-nd, nd - 1))
    k = draw(st.integers(1, 3))
    shp = []
    for _ in range(k):
        s = list(base)
        s[d] = draw(side())
        shp.append(s)
    stack = draw(st.integers(0, 3)) == 0
    if stack:
        shp = [list(base)] * k
        d = draw(st.integers(-nd - 1, nd))
    r = draw(st.integers(0, 19))
    if r == 0:  # a mismatching dim, or a different number of dims
        i = draw(st.integers(0, k - 1))
        # (one error at a time: with two, which one is reported first is not a property)
        shp[i] = shp[i][:-1] if draw(st.booleans()) and nd > 1 and not stack else [n + 1 for n in shp[i]]
    elif r == 1 and not stack and nd > 1:  # torch's legacy exception: a 1-d empty tensor is skipped by cat
        shp.insert(draw(st.integers(0, k)), [0])
    dts = [other_float(dt) if draw(st.integers(0, 9)) == 0 else dt for _ in shp]
    args = [draw(arg(s, t)) for s, t in zip(shp, dts)]
    if stack:
        return Case(op, f"L.stack([{len(args)} tensors], {d})", lambda L, *ts: L.stack(list(ts), d), args, bound="abs")
    if draw(st.booleans()):
        return Case(op, f"L.cat(({len(args)} tensors), dim={d})", lambda L, *ts: L.cat(ts, dim=d), args, bound="abs")
    return Case(op, f"L.cat([{len(args)} tensors], {d})", lambda L, *ts: L.cat(list(ts), d), args, bound="abs")


@generator("Repeat")
@st.composite
def gen_repeat(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes(max_dims=3))
    x = draw(arg(shape, dt))
    reps = tuple(min(draw(side()), 3) for _ in range(len(shape) + draw(st.integers(0, 2))))
    if draw(st.integers(0, 19)) == 0:
        reps = reps[:max(len(shape) - 1, 0)]
    if draw(st.booleans()) and reps:
        return Case(op, f"x.repeat(*{reps})", lambda L, x: x.repeat(*reps), [x], bound="abs")
    return Case(op, f"x.repeat({reps})", lambda L, x: x.repeat(reps), [x], bound="abs")


# -- matrix products --

@generator("Matmul")
@st.composite
def gen_matmul(draw, op):
    dt = draw(FLOAT)
    na, nb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    m, k, n = draw(side()), draw(side()), draw(side())
    batch = draw(shapes(max(na, nb) - 2, max(na, nb) - 2)) if max(na, nb) > 2 else ()
    ba = [1 if draw(st.integers(0, 3)) == 0 else s for s in batch[len(batch) - max(na - 2, 0):]] if na > 2 else []
    bb = [1 if draw(st.integers(0, 3)) == 0 else s for s in batch[len(batch) - max(nb - 2, 0):]] if nb > 2 else []
    kb = k + 1 if draw(st.integers(0, 19)) == 0 else k
    sa = tuple(ba) + (m, k) if na >= 2 else (k,)
    sb = tuple(bb) + (kb, n) if nb >= 2 else (kb,)
    db = other_float(dt) if draw(st.integers(0, 19)) == 0 else dt
    a, b = draw(arg(sa, dt)), draw(arg(sb, db))
    forms = [v("a @ b", lambda L, a, b: a @ b), v("L.matmul(a, b)", lambda L, a, b: L.matmul(a, b)),
             v("a.matmul(b)", lambda L, a, b: a.matmul(b))]
    if na == nb == 1:
        forms += [v("a.dot(b)", lambda L, a, b: a.dot(b)), v("L.dot(a, b)", lambda L, a, b: L.dot(a, b))]
    if na == nb == 2:
        forms += [v("a.mm(b)", lambda L, a, b: a.mm(b)), v("L.mm(a, b)", lambda L, a, b: L.mm(a, b))]
    if na == nb == 3:
        forms += [v("a.bmm(b)", lambda L, a, b: a.bmm(b)), v("L.bmm(a, b)", lambda L, a, b: L.bmm(a, b))]
    label, fn = draw(st.sampled_from(forms))
    return Case(op, label, fn, [a, b], bound="abs", k=k, n=n)


@generator("Linear")
@st.composite
def gen_linear(draw, op):
    dt = draw(FLOAT)
    batch = draw(shapes(0, 2))
    fin, fout = draw(side()), draw(side())
    win = fin + 1 if draw(st.integers(0, 19)) == 0 else fin
    x, w = draw(arg(batch + (fin,), dt)), draw(arg((fout, win), dt))
    if draw(st.booleans()):
        return Case(op, "F.linear(x, w, b)", lambda L, x, w, b: F(L).linear(x, w, b),
                    [x, w, draw(arg((fout,), dt))], bound="abs", k=fin, fout=fout)
    return Case(op, "F.linear(x, w)", lambda L, x, w: F(L).linear(x, w), [x, w], bound="abs", k=fin, fout=fout)


# -- neural-network ops --

def _pair_or_int(draw, values):
    a = draw(st.sampled_from(values))
    return (a, draw(st.sampled_from(values))) if draw(st.integers(0, 3)) == 0 else a


def _p(v, i):
    return v[i] if isinstance(v, tuple) else v


@generator("Conv2d")
@st.composite
def gen_conv(draw, op):
    dt = draw(FLOAT)
    n = draw(st.sampled_from((1, 2, 0, 1)))
    groups = draw(st.sampled_from((1, 1, 2)))
    cg, og = draw(st.sampled_from((1, 2))), draw(st.sampled_from((1, 2)))
    kh, kw = draw(st.sampled_from((1, 2, 3))), draw(st.sampled_from((1, 2, 3)))
    h, w_ = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    stride = _pair_or_int(draw, (1, 1, 2, 3))
    padding = _pair_or_int(draw, (0, 0, 1, 2))
    dilation = _pair_or_int(draw, (1, 1, 2))
    unbatched = draw(st.integers(0, 5)) == 0
    xs = (groups * cg, h, w_) if unbatched else (n, groups * cg, h, w_)
    x, w = draw(arg(xs, dt)), draw(arg((groups * og, cg, kh, kw), dt))
    label = f"F.conv2d(x, w, b, stride={stride}, padding={padding}, dilation={dilation}, groups={groups})"
    if draw(st.booleans()):
        return Case(op, label, lambda L, x, w, b: F(L).conv2d(x, w, b, stride=stride, padding=padding,
                                                              dilation=dilation, groups=groups),
                    [x, w, draw(arg((groups * og,), dt))], bound="abs", batch=None if unbatched else n)
    return Case(op, label.replace(", b,", ","),
                lambda L, x, w: F(L).conv2d(x, w, None, stride, padding, dilation, groups),
                [x, w], bound="abs", batch=None if unbatched else n)


@st.composite
def pool_config(draw, dilation=True):
    dt = draw(FLOAT)
    n = draw(st.sampled_from((1, 2, 0, 1)))
    c = draw(st.sampled_from((1, 2)))
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    kernel = _pair_or_int(draw, (1, 2, 3))
    stride = draw(st.one_of(st.none(), st.sampled_from((1, 2, 3))))
    pad_max = min(_p(kernel, 0), _p(kernel, 1)) // 2
    padding = draw(st.integers(0, pad_max))
    if draw(st.integers(0, 19)) == 0:
        padding += 1
    dil = _pair_or_int(draw, (1, 1, 2)) if dilation else 1
    shape = (c, h, w) if draw(st.integers(0, 5)) == 0 else (n, c, h, w)
    return dt, shape, kernel, stride, padding, dil


def _window_in_padding(size, k, s, p, d):
    """Whether some pooling window of a dim lies entirely in the padding."""
    n = (size + 2 * p - d * (k - 1) - 1) // s + 1
    return any(all(not 0 <= o * s - p + j * d < size for j in range(k)) for o in range(max(n, 0)))


@generator("MaxPool2d")
@st.composite
def gen_maxpool(draw, op):
    dt, shape, kernel, stride, padding, dil = draw(pool_config())
    x = draw(arg(shape, dt))
    step = stride if stride is not None else kernel
    unsafe = all(padding <= _p(kernel, i) // 2 for i in range(2)) and any(
        _window_in_padding(shape[-2 + i], _p(kernel, i), _p(step, i), padding, _p(dil, i)) for i in range(2))
    return Case(op, f"F.max_pool2d(x, {kernel}, stride={stride}, padding={padding}, dilation={dil})",
                lambda L, x: F(L).max_pool2d(x, kernel, stride, padding, dil), [x], bound="absg",
                torch_unsafe="torch's max_pool2d backward writes out of bounds (heap corruption, abort) when a "
                             "dilated window lies entirely in the padding" if unsafe else None)


@generator("AvgPool2d")
@st.composite
def gen_avgpool(draw, op):
    dt, shape, kernel, stride, padding, _ = draw(pool_config(dilation=False))
    x = draw(arg(shape, dt))
    return Case(op, f"F.avg_pool2d(x, {kernel}, stride={stride}, padding={padding})",
                lambda L, x: F(L).avg_pool2d(x, kernel, stride, padding), [x], bound="abs")


@generator("SoftmaxCrossEntropy")
@st.composite
def gen_cross_entropy(draw, op):
    dt = draw(FLOAT)
    form = draw(st.sampled_from(("NC", "NC", "C", "NCd", "NCdd")))
    n, c = draw(side()), draw(side(lo=1)) if draw(st.integers(0, 19)) else 0
    spatial = tuple(draw(side()) for _ in range(form.count("d")))
    xs = (c,) if form == "C" else (n, c) + spatial
    ts = () if form == "C" else (n,) + spatial
    x = draw(arg(xs, dt))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    t = rng.integers(0, max(c, 1), ts).astype(np.int64)
    ignore = draw(st.sampled_from((-100, -100, 0, 1, -1)))
    p_ignore = draw(st.sampled_from((0.0, 0.2, 1.0)))
    t = np.where(rng.random(ts) < p_ignore, ignore, t)
    if draw(st.integers(0, 29)) == 0 and t.size:
        t.flat[0] = c
    reduction = draw(st.sampled_from(("mean", "sum", "none")))
    smoothing = draw(st.sampled_from((0.0, 0.0, 0.1, 0.5, 1.0)))
    args = [x, const(t)]
    weighted = draw(st.booleans())
    if weighted:
        args.append(draw(arg((c,), dt, "unit", grad=False, layout=False)))
    kw = ", ".join(["weight=w"] * weighted + [f"ignore_index={ignore}", f"reduction={reduction!r}",
                                                f"label_smoothing={smoothing}"])
    if draw(st.integers(0, 7)) == 0 and not form.startswith("C"):
        return Case(op, f"d/dx F.cross_entropy(x, t, {kw})",
                    first_derivative(lambda L, x, t, *w: F(L).cross_entropy(
                        x, t, weight=w[0] if w else None, ignore_index=ignore, reduction=reduction,
                        label_smoothing=smoothing).sum()),
                    args, bound="norm", ignore_index=ignore, reduction=reduction, smoothing=smoothing, target=t,
                    classes=c)
    return Case(op, f"F.cross_entropy(x, t, {kw})",
                lambda L, x, t, *w: F(L).cross_entropy(x, t, weight=w[0] if w else None, ignore_index=ignore,
                                                       reduction=reduction, label_smoothing=smoothing),
                args, bound=bound_cross_entropy, ignore_index=ignore, reduction=reduction, smoothing=smoothing,
                target=t, classes=c)


@generator("BatchNorm")
@st.composite
def gen_batch_norm(draw, op):
    dt = draw(FLOAT)
    n, c = draw(side()), draw(side(lo=1))
    shape = (n, c) + tuple(draw(side()) for _ in range(draw(st.integers(0, 2))))
    x = draw(arg(shape, dt))
    training = draw(st.booleans())
    stats = not training or draw(st.booleans())
    momentum = draw(st.sampled_from((0.1, 0.0, 1.0)))
    eps = draw(st.sampled_from((1e-5, 1e-5, 0.1)))
    affine = draw(st.booleans())
    args = [x]
    if stats:
        args += [draw(arg((c,), dt, grad=False, layout=False)), draw(arg((c,), dt, "positive", grad=False,
                                                                           layout=False))]
    if affine:
        args += [draw(arg((c,), dt)), draw(arg((c,), dt))]

    def fn(L, x, *rest):
        rm, rv = rest[:2] if stats else (None, None)
        w, b = rest[-2:] if affine else (None, None)
        out = F(L).batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=eps)
        return (out, rm, rv) if stats else out
    return Case(op, f"F.batch_norm(x, {'rm, rv' if stats else 'None, None'}, {'w, b' if affine else 'None, None'}, "
                    f"training={training}, momentum={momentum}, eps={eps})" + (" (out, rm, rv)" if stats else ""),
                fn, args, bound=bound_batch_norm, training=training, eps=eps, stats=stats, affine=affine)


@generator("BinaryCrossEntropy")
@st.composite
def gen_bce(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes(max_dims=3))
    p, y = draw(arg(shape, dt, "unit")), draw(arg(shape, dt, "unit" if draw(st.integers(0, 5)) else "real"))
    reduction = draw(st.sampled_from(("mean", "sum", "none")))
    args = [p, y]
    weighted = draw(st.integers(0, 2)) == 0
    if weighted:
        ws = tuple(1 if draw(st.booleans()) else s for s in shape[len(shape) - draw(st.integers(0, len(shape))):])
        args.append(draw(arg(ws, dt, "unit", grad=False, layout=False)))
    return Case(op, f"F.binary_cross_entropy(p, y{', weight=w' if weighted else ''}, reduction={reduction!r})",
                lambda L, p, y, *w: F(L).binary_cross_entropy(p, y, weight=w[0] if w else None, reduction=reduction),
                args, bound=bound_bce, reduction=reduction)


# ==== generators: nn layers (issue 14) ====

@generator("ConvTranspose2d")
@st.composite
def gen_conv_transpose(draw, op):
    dt = draw(FLOAT)
    n = draw(st.sampled_from((1, 2, 0, 1)))
    groups = draw(st.sampled_from((1, 1, 2)))
    cg, og = draw(st.sampled_from((1, 2))), draw(st.sampled_from((1, 2)))
    kh, kw = draw(st.sampled_from((1, 2, 3))), draw(st.sampled_from((1, 2, 3)))
    h, w_ = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride, dilation = _pair_or_int(draw, (1, 1, 2, 3)), _pair_or_int(draw, (1, 1, 2))
    # output padding below stride or dilation, padding that leaves at least one output cell
    out_pad = tuple(draw(st.integers(0, max(_p(stride, i), _p(dilation, i)) - 1)) for i in (0, 1))
    padding = tuple(draw(st.integers(0, ((size - 1) * _p(stride, i) + _p(dilation, i) * (k - 1) + out_pad[i]) // 2))
                    for i, (size, k) in enumerate(((h, kh), (w_, kw))))
    unbatched = draw(st.integers(0, 5)) == 0
    xs = (groups * cg, h, w_) if unbatched else (n, groups * cg, h, w_)
    x, w = draw(arg(xs, dt)), draw(arg((groups * cg, og, kh, kw), dt))
    kw_ = dict(stride=stride, padding=padding, output_padding=out_pad, groups=groups, dilation=dilation)
    label = f"F.conv_transpose2d(x, w, b, **{kw_})"
    if draw(st.booleans()):
        return Case(op, label, lambda L, x, w, b: F(L).conv_transpose2d(x, w, b, **kw_),
                    [x, w, draw(arg((groups * og,), dt))], bound="abs", batch=None if unbatched else n)
    return Case(op, label.replace(", b,", ","), lambda L, x, w: F(L).conv_transpose2d(x, w, None, **kw_),
                [x, w], bound="abs", batch=None if unbatched else n)


@generator("LayerNorm")
@st.composite
def gen_layer_norm(draw, op):
    dt = draw(FLOAT)
    lead = tuple(draw(side()) for _ in range(draw(st.integers(0, 2))))
    norm = tuple(draw(side(lo=1)) for _ in range(draw(st.integers(1, 2))))
    eps = draw(st.sampled_from((1e-5, 1e-5, 0.1)))
    affine = draw(st.sampled_from(("both", "weight", "none")))
    args = [draw(arg(lead + norm, dt))]
    if affine != "none":
        args.append(draw(arg(norm, dt)))
    if affine == "both":
        args.append(draw(arg(norm, dt)))

    def fn(L, x, *wb):
        return F(L).layer_norm(x, norm, *wb, eps=eps)
    return Case(op, f"F.layer_norm(x, {norm}, {affine}, eps={eps})", fn, args, bound=bound_layer_norm, eps=eps,
                norm=norm, affine=affine)


@generator("Recurrent")
@st.composite
def gen_recurrent(draw, op):
    """One recurrent layer (the op is a whole sequence) on normal or coarse values without specials:
    its sums pass through saturating gates step after step, so no error bound is attempted; what is
    fuzzed is the shapes (T or N of 0 or 1, packed lengths), modes, layouts and dtypes."""
    dt = draw(FLOAT)
    mode, kw = draw(st.sampled_from((("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"}))))
    t_len, n, i, h = draw(side()), draw(side()), draw(side(lo=1)), draw(side(lo=1))
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode] * h
    bidirectional = draw(st.booleans())
    lengths = sorted(draw(st.lists(st.integers(1, t_len), min_size=n, max_size=n)), reverse=True) \
        if t_len and n and draw(st.booleans()) else None

    def tame(shape, scale):
        seed_ = draw(st.integers(0, 2 ** 32 - 1))
        mode_ = draw(st.sampled_from(("normal", "coarse")))
        return Arg(fill((seed_, mode_, 0.0, False), shape, dt) * scale, PLAIN, True,
                   draw(st.sampled_from(("C", "F"))))
    args = [tame((t_len, n, i), 1.0)] + [tame(s, 0.5) for s in ((gates, i), (gates, h), (gates,), (gates,))]
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")

    def fn(L, x, *weights):
        m = getattr(L.nn, mode)(i, h, bidirectional=bidirectional, **kw)
        params = dict(zip(names, weights))
        params.update({k + "_reverse": w * 0.5 for k, w in zip(names, weights)} if bidirectional else {})
        inp = x if lengths is None else L.nn.utils.rnn.pack_padded_sequence(x, lengths)
        if L is torch:
            out, hn = torch.func.functional_call(m, params, (inp,))
        else:
            m._parameters.update(params)
            out, hn = m(inp)
        return (out if lengths is None else out.data,) + (hn if isinstance(hn, tuple) else (hn,))
    return Case(op, f"{mode}({i}, {h}, bidirectional={bidirectional}{', ' + str(kw) if kw else ''}) on T={t_len}, "
                    f"N={n}, lengths={lengths}", fn, args, bound=bound_recurrent)


# ==== generators: sort, scan, search and counting ops (issue 13) ====

def _distinct_arg(draw, shape, dt):
    """Distinct values (a drawn permutation, spaced 0.75): for topk and kthvalue, whose order among
    ties (and so which tied entry gets the gradient) is an implementation detail of torch's."""
    n = int(np.prod(shape))
    vals = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1))).permutation(n) - n // 2
    vals = vals * 0.75 if np.dtype(dt).kind == "f" else vals
    return Arg(vals.reshape(shape).astype(dt), PLAIN, np.dtype(dt).kind == "f")


@generator("Sort")
@st.composite
def gen_sort(draw, op):
    dt = draw(float_or_int())
    shape = draw(shapes())
    dim = draw(dim_arg(shape, multi=False, allow_none=False))
    keepdim, desc = draw(st.booleans()), draw(st.booleans())
    form = draw(st.integers(0, 8))
    n = shape[dim % len(shape)] if shape else 1
    if form == 0:
        return Case(op, f"x.sort(dim={dim}, descending={desc}, stable=True)",
                    lambda L, x: tuple(x.sort(dim=dim, descending=desc, stable=True)), [draw(arg(shape, dt))])
    if form == 1:
        return Case(op, "L.msort(x)", lambda L, x: L.msort(x), [draw(arg(shape, dt))])
    if form == 2 and dt != np.bool_:
        k = draw(st.integers(0, n + (draw(st.integers(0, 9)) == 0)))
        return Case(op, f"x.topk({k}, {dim}, largest={desc})", lambda L, x: tuple(x.topk(k, dim, largest=desc)),
                    [_distinct_arg(draw, shape, dt)])
    if form == 3 and dt != np.bool_:
        k = draw(st.integers(1 - (draw(st.integers(0, 9)) == 0), max(n, 1)))
        return Case(op, f"L.kthvalue(x, {k}, {dim}, keepdim={keepdim})",
                    lambda L, x: tuple(L.kthvalue(x, k, dim, keepdim=keepdim)), [_distinct_arg(draw, shape, dt)])
    if form == 4 and dt != np.bool_:
        return Case(op, f"x.median({dim}, keepdim={keepdim})", lambda L, x: tuple(x.median(dim, keepdim=keepdim)),
                    [draw(arg(shape, dt))])
    if form == 5 and np.dtype(dt).kind == "f":  # (not all nan: torch's index there is nth_element's pick)
        nans = draw(arg(shape, dt, layout=False)).logical > 1
        if shape:
            ax = dim % len(shape)
            nans &= ~(nans.all(axis=ax, keepdims=True) & (np.arange(n) == 0).reshape((n,) + (1,) * (len(shape) - ax - 1)))
        return Case(op, f"x.nanmedian({dim}, keepdim={keepdim}) (some nan)",
                    lambda L, x: tuple(x.nanmedian(dim, keepdim=keepdim)),
                    [Arg(np.where(nans, np.nan, _distinct_arg(draw, shape, dt).logical).astype(dt))])
    if form == 6 and dt != np.bool_:  # few distinct values: ties (no nan: std::sort puts nan anywhere)
        vals = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1))).integers(-1, 2, shape)
        return Case(op, f"x.mode({dim}, keepdim={keepdim})", lambda L, x: tuple(x.mode(dim, keepdim=keepdim)),
                    [Arg(vals.astype(dt), PLAIN, np.dtype(dt).kind == "f")])
    if dt == np.bool_:
        return Case(op, f"x.argsort({dim}, descending={desc})", lambda L, x: x.argsort(dim, descending=desc),
                    [draw(arg(shape, dt))])
    return Case(op, "x.median()", lambda L, x: x.median(), [draw(arg(shape, dt))])


@generator("Cumsum", "Cumprod", "LogCumSumExp")
@st.composite
def gen_cumsum(draw, op):
    name = {"Cumsum": "cumsum", "Cumprod": "cumprod", "LogCumSumExp": "logcumsumexp"}[op]
    dt = draw(FLOAT) if op == "LogCumSumExp" else draw(float_or_int())
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    dim = draw(dim_arg(shape, multi=False, allow_none=False))
    bound = bound_logsumexp if op == "LogCumSumExp" else "abs"
    form = draw(st.integers(0, 3))
    if form == 0 and np.dtype(dt).kind == "f" and isinstance(dim, int) and shape:
        c = draw(arg(shape, dt, layout=False))
        return Case(op, f"d/dx sum(c * x.{name}({dim}) ** 2)",
                    first_derivative(lambda L, x, c: (c * getattr(x, name)(dim) ** 2).sum()), [x, c],
                    bound=None if op == "Cumprod" else "norm")
    if form == 1 and op != "LogCumSumExp":
        return Case(op, f"L.{name}(x, {dim}, dtype=L.float64)", lambda L, x: getattr(L, name)(x, dim, dtype=L.float64),
                    [x], bound=bound)
    return Case(op, f"x.{name}({dim})", lambda L, x: getattr(x, name)(dim), [x], bound=bound)


@generator("CumMax", "CumMin")
@st.composite
def gen_cummax(draw, op):
    name = op.lower()
    dt = draw(float_or_int())
    shape = draw(shapes())
    dim = draw(dim_arg(shape, multi=False, allow_none=False))
    return Case(op, f"L.{name}(x, {dim})", lambda L, x: tuple(getattr(L, name)(x, dim)), [draw(arg(shape, dt))])



# ==== generators: indexing, scatter and shape ops (issue 13) ====

@generator("Diagonal")
@st.composite
def gen_diagonal(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes(min_dims=2 if draw(st.integers(0, 19)) else 0, max_dims=4))
    x = draw(arg(shape, dt))
    nd = max(len(shape), 1)
    offset = draw(st.integers(-4, 4))
    d1, d2 = draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))
    if d1 % nd == d2 % nd and draw(st.integers(0, 9)):
        d2 = (d1 + 1) % nd
    kind = draw(st.sampled_from(("diagonal", "diagonal", "trace", "diag")))
    if kind == "trace":
        return Case(op, "x.trace()", lambda L, x: x.trace(), [x], bound="abs")
    if kind == "diag":
        return Case(op, f"L.diag(x, {offset})", lambda L, x: L.diag(x, offset), [x], bound="abs")
    return Case(op, f"x.diagonal({offset}, {d1}, {d2})", lambda L, x: x.diagonal(offset, d1, d2), [x], bound="abs")


@generator("Flip")
@st.composite
def gen_flip(draw, op):
    dt = draw(FLOAT)
    shape = draw(shapes())
    x = draw(arg(shape, dt))
    nd = len(shape)
    kind = draw(st.sampled_from(("flip", "flip", "fliplr", "flipud", "rot90")))
    if kind in ("fliplr", "flipud"):
        return Case(op, f"x.{kind}()", lambda L, x: getattr(x, kind)(), [x], bound="abs")
    n = max(nd, 1)
    if kind == "rot90":
        k = draw(st.integers(-5, 5))
        dims = (draw(st.integers(-n, n - 1)), draw(st.integers(-n, n - 1)))
        return Case(op, f"L.rot90(x, {k}, {dims})", lambda L, x: L.rot90(x, k, dims), [x], bound="abs")
    dims = draw(st.lists(st.integers(-n, n - 1), max_size=n, unique_by=lambda d: d % n)) if nd else []
    if draw(st.integers(0, 19)) == 0 and dims:
        dims.append(dims[0])  # repeated: RuntimeError
    dims = tuple(dims)
    return Case(op, f"x.flip({dims})", lambda L, x: x.flip(dims), [x], bound="abs")


@generator("ScatterReduce")
@st.composite
def gen_scatter_reduce(draw, op):
    dt = draw(st.sampled_from((np.float32, np.float64, np.float32, np.int64)))
    shape = draw(shapes(min_dims=1, max_dims=3))
    nd = len(shape)
    d = draw(st.integers(-nd, nd - 1))
    ishape = tuple(draw(st.integers(0, n)) if i != d % nd else draw(side()) for i, n in enumerate(shape))
    size = shape[d]
    bad = draw(st.integers(0, 29)) == 0 and size > 0  # an index out of range: RuntimeError
    index = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1))).integers(0, max(size, 1) + bad, ishape)
    if size == 0:
        ishape = tuple(0 if i == d % nd else n for i, n in enumerate(ishape))
        index = np.zeros(ishape, np.int64)
    reduce = draw(st.sampled_from(("sum", "prod", "mean", "amax", "amin")))
    include_self = draw(st.booleans())
    kind = "moderate" if reduce == "prod" else "real"
    x = draw(arg(shape, dt, kind))
    src = draw(arg(ishape, dt, kind))
    via = draw(st.sampled_from(("scatter_reduce", "scatter_reduce", "scatter")))
    if via == "scatter" and reduce in ("sum", "prod") and include_self:  # torch: no gradient for scatter(reduce=)
        how = "add" if reduce == "sum" else "multiply"
        return Case(op, f"x.detach().scatter({d}, i, src.detach(), reduce={how!r})",
                    lambda L, x, s, i: x.detach().scatter(d, i, s.detach(), reduce=how), [x, src, const(index)],
                    bound="abs")
    return Case(op, f"x.scatter_reduce({d}, i, src, {reduce!r}, include_self={include_self})",
                lambda L, x, s, i: x.scatter_reduce(d, i, s, reduce, include_self=include_self),
                [x, src, const(index)], bound="abs")



# ==== generators: elementwise math and predicates (issue 13) ====

def _m(name, special=False):
    """x.name(), L.name(x) (or L.special.name(x)) for a unary math op."""
    if special:
        return [v(f"L.special.{name}(x)", lambda L, x: getattr(L.special, name)(x))]
    return [v(f"x.{name}()", lambda L, x: getattr(x, name)()), v(f"L.{name}(x)", lambda L, x: getattr(L, name)(x))]


MATH_UNARY = {
    "Log1p": _m("log1p"), "Expm1": _m("expm1"), "Log2": _m("log2"), "Log10": _m("log10"), "Exp2": _m("exp2"),
    "Erf": _m("erf"), "Erfc": _m("erfc"), "Erfinv": _m("erfinv"), "Lgamma": _m("lgamma"), "Digamma": _m("digamma"),
    "Sinh": _m("sinh"), "Cosh": _m("cosh"), "Tan": _m("tan"), "Asin": _m("asin") + _m("arcsin"),
    "Acos": _m("acos"), "Atan": _m("atan") + _m("arctan"), "Asinh": _m("asinh"), "Acosh": _m("acosh"),
    "Atanh": _m("atanh"), "Ndtri": _m("ndtri", True), "I0": _m("i0", True),
    "Rounding": _m("floor") + _m("ceil") + _m("trunc") + _m("fix") + _m("round") + _m("frac") + [
        v(f"x.round(decimals={d})", (lambda d: lambda L, x: x.round(decimals=d))(d)) for d in (1, 2, -1)],
    "Polygamma": [v(f"L.polygamma({n}, x)", (lambda n: lambda L, x: L.polygamma(n, x))(n)) for n in (0, 1, 2, 3)],
}
MATH_UNIT = {"Erfinv", "Ndtri", "Asin", "Acos", "Atanh"}  # a domain inside [-1, 1] (or [0, 1]) most of the time


@generator(*MATH_UNARY)
@st.composite
def gen_math_unary(draw, op):
    r = draw(st.integers(0, 14))
    dt = np.int64 if r == 0 else np.bool_ if r == 1 else draw(FLOAT)
    label, fn = draw(st.sampled_from(MATH_UNARY[op]))
    kind = "unit" if op in MATH_UNIT and draw(st.booleans()) else "real"
    return Case(op, label, fn, [draw(arg(draw(shapes()), dt, kind))])


def _b(name, method=True):
    out = [v(f"L.{name}(a, b)", lambda L, a, b: getattr(L, name)(a, b))]
    return out + ([v(f"a.{name}(b)", lambda L, a, b: getattr(a, name)(b))] if method else [])


MATH_BINARY = {  # op -> (variants, numbers it takes as other)
    "Atan2": (_b("atan2") + _b("arctan2"), ()), "Hypot": (_b("hypot"), ()), "LogAddExp": (_b("logaddexp"), ()),
    "LogAddExp2": (_b("logaddexp2"), ()),
    # no nan: torch's xlogy(x, nan) (a number) gives d/dx 0 at x == 0, xlogy(x, tensor(nan)) nan (chainrule's)
    "Xlogy": (_b("xlogy"), (2.0, 0.0, -1.0, 0.5, 3, inf)),
    "Xlog1py": ([v("L.special.xlog1py(a, b)", lambda L, a, b: L.special.xlog1py(a, b))], (2.0, 0.0, -1.0, 1)),
    "Fmod": (_b("fmod"), (2.0, 0.5, -1.5, 3, -2, inf, nan)),
    "Remainder": (_b("remainder") + [v("a % b", lambda L, a, b: a % b)], (2.0, 0.5, -1.5, 3, -2, inf, nan)),
    "Copysign": (_b("copysign"), (1.0, -1.0, 0.0, -0.0, 2, nan)),
}


@generator(*MATH_BINARY)
@st.composite
def gen_math_binary(draw, op):
    variants, numbers = MATH_BINARY[op]
    dt = draw(FLOAT)
    if numbers and draw(st.integers(0, 3)) == 0:
        s = draw(st.sampled_from(numbers))
        if draw(st.integers(0, 9)) == 0:
            dt = np.int64
        return Case(op, f"L.{op.lower()}(a, {s!r})", lambda L, a: L.special.xlog1py(a, s) if op == "Xlog1py"
                    else getattr(L, op.lower())(a, s), [draw(arg(draw(shapes()), dt))], bound="broadcast", scalar=s)
    sa, sb = draw(broadcast_shapes(2))
    da = db = dt
    r = draw(st.integers(0, 11))
    if r == 0 and op != "Atan2":  # torch's atan2 backward squares a float32 input before promoting (overflow)
        db = other_float(dt)
    elif r == 1:
        db = np.int64
    elif r == 2:
        da = db = np.int64
    elif r == 3 and op not in ("LogAddExp", "LogAddExp2"):  # torch's backward there raises for a bool other
        db = np.bool_
    elif r == 4 and op != "Atan2":
        da = other_float(dt)
    label, fn = draw(st.sampled_from(variants))
    a, b = draw(arg(sa, da)), draw(arg(sb, db))
    if op in ("Fmod", "Remainder") and b.stored.dtype.kind == "f":
        # torch's vectorised fmod gives nan for a subnormal divisor, its scalar loop does not: not drawn
        fi = np.finfo(b.stored.dtype)
        b.stored[(b.stored != 0) & (np.abs(b.stored) < fi.tiny)] = 0.5
        b.logical = np.array(b.layout.np_view(b.stored), order="C")
    return Case(op, label, fn, [a, b], bound=_bound_logaddexp if op.startswith("LogAddExp") else "broadcast")


def _bound_logaddexp(case, xs, up):
    """torch computes max + log1p(2^-|a-b|) / ln 2 with a fused multiply-add (float64 logaddexp2(-1, -1)
    is -5e-17, not 0): an error of eps (|max| + 1); the gradients are broadcast sums of terms of at
    most |g|."""
    g = np.abs(up)
    return (np.abs(_finite(np.maximum(xs[0], xs[1]))) + 1,
            [_sum_to(np.broadcast_to(g, np.broadcast_shapes(g.shape, np.shape(x))), np.shape(x)) for x in xs])


@generator("Lerp")
@st.composite
def gen_lerp(draw, op):
    dt = draw(FLOAT)
    sa, sb, sw = draw(broadcast_shapes(3))
    a, b = draw(arg(sa, dt)), draw(arg(sb, dt))
    if draw(st.booleans()):
        w = draw(st.sampled_from((0.0, 0.25, 0.5, 0.75, 1.0, -1.5, 2.0, nan)))
        return Case(op, f"a.lerp(b, {w!r})", lambda L, a, b: a.lerp(b, w), [a, b], bound="broadcast", weight=w)
    return Case(op, "L.lerp(a, b, w)", lambda L, a, b, w: L.lerp(a, b, w), [a, b, draw(arg(sw, dt))],
                bound="broadcast")


# ==== generators: random sampling and creation (issue 13) ====


# ==== generators: linear algebra and contractions (issue 13) ====

@generator("Einsum")
@st.composite
def gen_einsum(draw, op):
    """An equation from a few shapes of contraction (repeated and summed-away subscripts, '...',
    implicit output), operand sizes drawn per subscript (rarely 1: broadcast, or mismatched)."""
    dt = draw(FLOAT)
    eq = draw(st.sampled_from(("ij,jk->ik", "bij,bjk->bik", "ii->i", "ii", "i,j->ij", "...ij,...jk", "ij->",
                               "iij->j", "ij,ij->i", "ab,bc,cd->ad", "ba,ac", "i,i", "...i,i->...", "ijk,kj->i")))
    size = {c: draw(side()) for c in "abcdijk"}
    lhs = eq.partition("->")[0].split(",")
    nell = draw(st.integers(0, 2))
    shapes_ = []
    for t in lhs:
        s = [size[c] for c in t.replace("...", "")]
        if "..." in t:
            s = [draw(side()) if draw(st.integers(0, 3)) else 1 for _ in range(nell)] + s
        if s and draw(st.integers(0, 9)) == 0:  # size 1 broadcasts
            s[draw(st.integers(0, len(s) - 1))] = 1
        shapes_.append(s)
    if draw(st.integers(0, 19)) == 0:
        i = draw(st.integers(0, len(shapes_) - 1))
        if shapes_[i]:
            shapes_[i][-1] += 2
    args = [draw(arg(tuple(sh), dt)) for sh in shapes_]
    return Case(op, f"L.einsum({eq!r}, ...)", lambda L, *ts: L.einsum(eq, *ts), args, bound="abs")


def _matrices(kind, rng, shape):
    x = rng.standard_normal(shape)
    n = shape[-1]
    if kind == "wc":  # well-conditioned: random + 3 I
        return x + 3 * np.eye(n)
    if kind == "spd":
        return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)
    if kind == "sym":
        return x + np.swapaxes(x, -1, -2)
    return x


@st.composite
def matrix_arg(draw, shape, dt, kind="any"):
    """A stack of matrices of ``kind`` (well-conditioned, SPD, symmetric or any random; LAPACK results
    agree to rounding only there), behind a drawn layout (an expand only over batch dims)."""
    lay = draw(layouts(shape))
    if isinstance(lay, Expanded) and lay.k >= len(shape) - 2:
        lay = PLAIN
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if isinstance(lay, Expanded):
        stored = _matrices(kind, rng, lay.stored_shape(shape))
    else:
        logical = _matrices(kind, rng, tuple(shape))
        stored = logical.transpose(lay.inv) if isinstance(lay, Perm) else logical
        if isinstance(lay, Strided):
            stored = np.full(lay.stored_shape(shape), 1e30)
            stored[lay.key] = logical
    return Arg(stored.astype(dt), lay, True, draw(st.sampled_from(("C", "C", "F", "step"))))


def bound_matrix(case, xs, up):
    """Matrix functions are accurate normwise, not entrywise: an entry near 0 of a result is off by
    about eps * cond * max|result|. Bound: 10 n max|result| (the inputs drawn have small condition numbers),
    the same for gradients."""
    leaves = [torch.tensor(x, requires_grad=a.grad) for x, a in zip(xs, case.args)]
    out = case.fn(torch, *leaves)
    c = 10.0 * max([2] + [x.shape[-1] for x in xs if x.ndim])
    fwd = c * float(np.max(np.abs(_finite(out.detach().numpy())), initial=0.0))
    grads = []
    if up.shape == tuple(out.shape) and out.requires_grad:
        out.backward(torch.tensor(up))
        grads = [c * float(np.max(np.abs(_finite(lv.grad.numpy())), initial=0.0)) if lv.grad is not None else 0.0
                 for lv in leaves]
    return fwd, grads


def _svd_invariant(u, s, vh):
    return (u ** 2 * s[..., None, :]) @ vh ** 2


LINALG_FORMS = {  # op: [(label, fn, input kind, square)]
    "Inv": [("L.linalg.inv(a)", lambda L, a: L.linalg.inv(a), "wc", True),
            ("a.inverse()", lambda L, a: a.inverse(), "wc", True),
            ("L.linalg.matrix_power(a, -2)", lambda L, a: L.linalg.matrix_power(a, -2), "wc", True)],
    "Det": [("L.linalg.det(a)", lambda L, a: L.linalg.det(a), "any", True),
            ("a.det()", lambda L, a: a.det(), "wc", True)],
    "Slogdet": [("L.linalg.slogdet(a)[1]", lambda L, a: L.linalg.slogdet(a)[1], "wc", True),
                ("L.logdet(a)", lambda L, a: L.logdet(a), "spd", True)],
    "Cholesky": [("L.linalg.cholesky(a)", lambda L, a: L.linalg.cholesky(a), "spd", True),
                 ("L.linalg.cholesky(a, upper=True)", lambda L, a: L.linalg.cholesky(a, upper=True), "spd", True)],
    "Qr": [("qr(a): sums of Q and R", lambda L, a: (lambda q, r: q.sum(-1, keepdim=True) + r.sum(-2, keepdim=True))(
        *L.linalg.qr(a)), "any", False)],
    "Svd": [("svd(a): U^2 S V^2", lambda L, a: _svd_invariant(*L.linalg.svd(a, full_matrices=False)), "any", False),
            ("L.linalg.svdvals(a)", lambda L, a: L.linalg.svdvals(a), "any", False),
            ("L.linalg.matrix_norm(a, 'nuc')", lambda L, a: L.linalg.matrix_norm(a, "nuc"), "any", False)],
    "Eigh": [("eigh(a): V^2 diag(w)", lambda L, a: (lambda w, v: v ** 2 * w[..., None, :])(*L.linalg.eigh(a)), "sym",
              True),
             ("L.linalg.eigvalsh(a, 'U')", lambda L, a: L.linalg.eigvalsh(a, "U"), "sym", True)],
    "Pinv": [("L.linalg.pinv(a)", lambda L, a: L.linalg.pinv(a), "wc", False),
             ("a.pinverse()", lambda L, a: a.pinverse(), "wc", False)],
}


@generator(*LINALG_FORMS)
@st.composite
def gen_linalg(draw, op):
    """One matrix function on a batch (sizes 0 included) of matrices of the kind it is accurate on;
    rarely non-square or integer input (errors)."""
    dt = draw(FLOAT)
    label, fn, kind, sq = draw(st.sampled_from(LINALG_FORMS[op]))
    batch = draw(shapes(0, 2))
    n = draw(side())
    m = n if sq or draw(st.booleans()) else draw(side())
    if kind == "wc" and m != n:
        kind = "any"  # (a tall or wide matrix drawn at random is well-conditioned enough)
    r = draw(st.integers(0, 29))
    if r == 0 and sq and n:
        m = n + 1
    if kind in ("wc", "any") and not sq and op == "Pinv":
        kind = "any"
    a = draw(matrix_arg(batch + (m, n), dt, kind if m == n or kind == "any" else "any"))
    if r == 1:
        a = const(np.arange(m * n).reshape(m, n))
    return Case(op, label, fn, [a], bound=bound_matrix)


@generator("Solve")
@st.composite
def gen_solve(draw, op):
    dt = draw(FLOAT)
    batch = draw(shapes(0, 2))
    n, k = draw(side()), draw(side())
    A = draw(matrix_arg(batch + (n, n), dt, "wc"))
    form = draw(st.sampled_from(("matrix", "vector", "left=False", "broadcast")))
    if form == "vector":
        B = draw(matrix_arg(batch + (n,), dt))
    elif form == "left=False":
        B = draw(matrix_arg(batch + (k, n), dt))
    elif form == "broadcast":
        B = draw(matrix_arg((2,) + batch + (n, k), dt))
    else:
        B = draw(matrix_arg(batch + (n + (draw(st.integers(0, 19)) == 0), k), dt))
    left = form != "left=False"
    return Case(op, f"L.linalg.solve(A, B ({form}))", lambda L, A, B: L.linalg.solve(A, B, left=left), [A, B],
                bound=bound_matrix)



# ==== generators: losses (issue 13) ====

@generator("CtcLoss")
@st.composite
def gen_ctc_loss(draw, op):
    """log_softmax'd (T, N, C) or (T, C) inputs (ctc's gradient assumes normalised log-probabilities), padded
    or concatenated targets (repeats included), lengths as tensors or tuples; rarely an invalid length,
    blank or an empty batch (both raise)."""
    dt = draw(FLOAT)
    t_max, n, c = draw(st.integers(1, 8)), draw(st.integers(1, 3)) if draw(st.integers(0, 29)) else 0, \
        draw(st.integers(1, 5))
    blank = draw(st.integers(0, c - 1)) if draw(st.integers(0, 29)) else c
    batched = n != 1 or draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    labels = [k for k in range(c) if k != blank] or [0]
    il = [int(rng.integers(0, t_max + 1)) if rng.random() < 0.3 else t_max for _ in range(n)]
    tl = [int(rng.integers(0, t_max + 1)) for _ in range(n)]
    s = max(tl, default=0)
    padded = rng.choice(labels, (n, s + int(rng.integers(0, 2)))).astype(np.int64)
    if draw(st.integers(0, 29)) == 0 and n:  # an invalid length
        (il if draw(st.booleans()) else tl)[0] = t_max + 1 if draw(st.booleans()) else -1
    concat = draw(st.booleans()) and batched
    targets = np.concatenate([padded[b, :max(k, 0)] for b, k in enumerate(tl)] or [np.zeros(0, np.int64)]) \
        if concat else padded
    as_tensors = draw(st.booleans())
    reduction = draw(st.sampled_from(("mean", "sum", "none")))
    zero_inf = draw(st.booleans())
    x = draw(arg((t_max, n, c) if batched else (t_max, c), dt, draw(st.sampled_from(("moderate", "real")))))
    if not batched:
        targets, il, tl = targets[0], il[0], tl[0]
    dim = 2 if batched else 1

    def fn(L, x, t):
        lengths = (L.tensor(il), L.tensor(tl)) if as_tensors else ((il, tl) if batched else ((il,), (tl,)))
        return F(L).ctc_loss(x.log_softmax(dim), t, *lengths, blank=blank, reduction=reduction,
                             zero_infinity=zero_inf)
    return Case(op, f"F.ctc_loss(x.log_softmax({dim}), targets{' (concatenated)' if concat else ''}, "
                f"{il}, {tl}{' as tensors' if as_tensors else ''}, blank={blank}, reduction={reduction!r}, "
                f"zero_infinity={zero_inf})", fn, [x, const(targets)], bound=bound_ctc, reduction=reduction)



# ==== generators: ddp ====
# Compare and Logical record no graph node (no gradient, as torch's comparisons): that a case reached them
# is seen by the op tracer instead. ``_graph_free`` runs chainrule's side of a case with a tracer noting
# the outputs of those ops; ``recorded_ops`` (differential's) adds the op that made the output.
from chainrule.ops import registry as _registry  # noqa: E402

_GRAPH_FREE = {}  # id(output) -> (op name, output): Compare/Logical results of the case running now


def _graph_free(fn):
    def run(L, *tensors):
        if L is not cr:
            return fn(L, *tensors)
        _GRAPH_FREE.clear()

        def note(op, inputs, params, result):
            if op.__name__ in ("Compare", "Logical"):
                _GRAPH_FREE[id(result)] = (op.__name__, result)
        previous = _registry.set_tracer(note)
        try:
            return fn(L, *tensors)
        finally:
            _registry.set_tracer(previous)
    return run


_ops_in_graph = recorded_ops


def recorded_ops(t):  # noqa: F811  (the graph's ops, plus the graph-free op whose output ``t`` is)
    names = _ops_in_graph(t)
    made = _GRAPH_FREE.get(id(t))
    if made is not None and made[1] is t:
        names.add(made[0])
    return names


CMP_DTYPES = (np.float32, np.float64, np.int64, np.int32, np.int8, np.uint8, np.bool_)
CMP_SCALARS = (0, 0.5, -1, 1, 2.5, 300, -129, True, False, inf, -inf, nan, 1e30, 2 ** 40)
CMP_FORMS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_CMP_FN = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
           "ge": operator.ge}


def _dtypes_pair(draw, pool):
    da = draw(st.sampled_from(pool))
    return da, (da if draw(st.integers(0, 2)) else draw(st.sampled_from(pool)))


@generator("Compare")
@st.composite
def gen_compare(draw, op):
    name = draw(st.sampled_from(sorted(CMP_FORMS)))
    f = _CMP_FN[name]
    form = draw(st.sampled_from(("operator", "method", "function", "scalar", "scalar first")))
    if form in ("scalar", "scalar first"):
        s = draw(st.sampled_from(CMP_SCALARS))
        fn = (lambda L, a: f(a, s)) if form == "scalar" else (lambda L, a: f(s, a))
        label = f"a {CMP_FORMS[name]} {s!r}" if form == "scalar" else f"{s!r} {CMP_FORMS[name]} a"
        da = draw(st.sampled_from(CMP_DTYPES))
        return Case(op, label, _graph_free(fn), [draw(arg(draw(shapes()), da, grad=False))], scalar=s)
    sa, sb = draw(broadcast_shapes(2))
    da, db = _dtypes_pair(draw, CMP_DTYPES)
    fn = {"operator": lambda L, a, b: f(a, b), "method": lambda L, a, b: getattr(a, name)(b),
          "function": lambda L, a, b: getattr(L, name)(a, b)}[form]
    label = {"operator": f"a {CMP_FORMS[name]} b", "method": f"a.{name}(b)", "function": f"L.{name}(a, b)"}[form]
    return Case(op, label, _graph_free(fn), [draw(arg(sa, da, grad=False)), draw(arg(sb, db, grad=False))])


BITWISE_DTYPES = (np.bool_, np.bool_, np.int64, np.int32, np.int8, np.uint8, np.int16, np.float32)
_BITWISE_FN = {"&": operator.and_, "|": operator.or_, "^": operator.xor}


@generator("Logical")
@st.composite
def gen_logical(draw, op):
    form = draw(st.sampled_from(("bitwise", "bitwise", "scalar", "invert", "logical", "logical_not")))
    if form == "invert":
        label, fn = "~a", lambda L, a: ~a
        return Case(op, label, _graph_free(fn), [draw(arg(draw(shapes()), draw(st.sampled_from(BITWISE_DTYPES)),
                                                          grad=False))])
    if form == "logical_not":
        dt = draw(st.sampled_from(CMP_DTYPES))
        return Case(op, "L.logical_not(a)", _graph_free(lambda L, a: L.logical_not(a)),
                    [draw(arg(draw(shapes()), dt, grad=False))])
    if form == "scalar":
        sym = draw(st.sampled_from(sorted(_BITWISE_FN)))
        s = draw(st.sampled_from((1, 0, -1, 6, 255, True, False, 1.5)))
        f, first = _BITWISE_FN[sym], draw(st.booleans())
        fn = (lambda L, a: f(s, a)) if first else (lambda L, a: f(a, s))
        label = f"{s!r} {sym} a" if first else f"a {sym} {s!r}"
        dt = draw(st.sampled_from(BITWISE_DTYPES))
        return Case(op, label, _graph_free(fn), [draw(arg(draw(shapes()), dt, grad=False))], scalar=s)
    sa, sb = draw(broadcast_shapes(2))
    if form == "logical":
        name = draw(st.sampled_from(("logical_and", "logical_or", "logical_xor")))
        da, db = _dtypes_pair(draw, CMP_DTYPES)
        fn = (lambda L, a, b: getattr(L, name)(a, b)) if draw(st.booleans()) else (lambda L, a, b: getattr(a, name)(b))
        return Case(op, f"{name}(a, b)", _graph_free(fn), [draw(arg(sa, da, grad=False)), draw(arg(sb, db, grad=False))])
    sym = draw(st.sampled_from(sorted(_BITWISE_FN)))
    f = _BITWISE_FN[sym]
    da, db = _dtypes_pair(draw, BITWISE_DTYPES)
    return Case(op, f"a {sym} b", _graph_free(lambda L, a, b: f(a, b)),
                [draw(arg(sa, da, grad=False)), draw(arg(sb, db, grad=False))])


# ---- error bounds of the nonlinear ops that sum (see the module docstring) ------------------------

def _finite(a):
    return np.where(np.isfinite(a), a, 0.0)

def bound_ctc(case, xs, up):
    """ctc_loss sums T log-probabilities (forward: eps sum |lp|); its gradient per log-probability,
    g (e^lp - occupancy), and log_softmax's backward cancel terms of size up to 2 |g| each."""
    lp = xs[0] - np.log(np.exp(xs[0] - xs[0].max(-1, keepdims=True)).sum(-1, keepdims=True)) - xs[0].max(
        -1, keepdims=True)
    g = float(np.max(np.abs(up), initial=0.0))
    return float(np.abs(_finite(lp)).sum()) + 1.0, [np.full(xs[0].shape, 4 * g), np.zeros(np.shape(xs[1]))]



def bound_saturating(case, xs, up):
    """tanh's g (1 - out^2) and sigmoid's g out (1 - out) cancel where out rounds to +-1 (|x| > 9 in
    float32): whether out is 1 or 1 - eps (NumPy's float32 tanh(9.47) is 1 ulp below torch's 1.0)
    decides between 0 and eps * g."""
    return 0.0, [2 * np.abs(up)]


def _order_dependent(x, axis, dtype):
    """(per slice, per element): whether the product of a slice (of the other entries of an element's
    slice) depends on the multiplication order: a partial product can overflow while a factor < 1 or
    a zero could have come first (inf, nan or finite), or underflow below the normals while a factor
    > 1 could have come first (0 or a few bits, multiplied back up)."""
    fi = np.finfo(dtype)
    a = np.abs(x.astype(np.float64))
    fin = np.isfinite(a)
    nz = fin & (a != 0)
    zero = (fin & ~nz).astype(np.int64)
    lg = np.log(np.where(nz, a, 1.0))
    pos, neg = np.maximum(lg, 0.0), np.minimum(lg, 0.0)
    hi, lo = np.log(float(fi.max)), np.log(float(fi.tiny))

    def amb(sp, sn, z):  # (and a product within a factor 20 of overflow: times g, or in another order, it may)
        return ((sp > hi) & ((sn < 0) | (z > 0))) | ((sn < lo) & (sp > 0)) | ((z == 0) & (np.abs(sp + sn - hi) < 3))
    sp, sn, z = (np.sum(v, axis=axis, keepdims=True) for v in (pos, neg, zero))
    return amb(sp, sn, z), amb(sp - pos, sn - neg, z - zero)


def bound_prod(case, xs, up):
    """A product that underflows into the denormals keeps only the bits above the smallest denormal
    (d): the gradient (g * out) / x errs by up to (n |g| + 1) d / |x| (g * out may underflow too). Where
    the product (the product of the others) depends on the order (``_order_dependent``), any result
    is right: inf."""
    x = xs[0]
    dt = case.dtype()
    if dt.kind != "f" or x.ndim == 0:
        return 0.0, [0.0]
    dim = case.params.get("dim")
    axis = None if dim is None else dim % x.ndim
    slice_amb, elem_amb = _order_dependent(x, axis, dt)
    fwd = np.where(slice_amb, inf, 0.0)
    fwd = fwd.reshape(()) if axis is None else fwd if case.params.get("keepdim") else np.squeeze(fwd, axis)
    with np.errstate(all="ignore"):
        b = (np.max(np.abs(up), initial=0.0) * max(x.size, 1) + 1) * float(np.finfo(dt).smallest_subnormal) \
            / np.abs(x) / RTOL[dt]
    # (the gradient g out / x goes through the whole product: its order matters too)
    return fwd, [np.where(elem_amb | slice_amb, inf, _finite(b))]


def bound_gelu(case, xs, up):
    """gelu = x (1 + erf(x / sqrt 2)) / 2 cancels in 1 + erf for x << 0, in both libraries (float32
    gelu(-4): chainrule 3e-4 off, torch 2e-3 off; both -0 below -5.4): an error of eps * |x|, and of
    eps * |g| in the gradient g (cdf + x pdf)."""
    return np.abs(_finite(xs[0])), [2 * np.abs(up)]


def bound_prod_d(case, xs, up):
    """The first derivative c P / x_i of sum(c * prod(x, dim)) as ``bound_prod``'s gradient; the second
    sum_j up_j c P / (x_i x_j) over a slice, each term carried out in floating point (1 / x_i - P / x_i^2
    cancels for a size-1 dim); inf where the products depend on the order."""
    x, c = np.abs(xs[0]), np.abs(xs[1])
    d = case.params["dim"] % x.ndim
    dt = case.dtype()
    slice_amb, elem_amb = _order_dependent(xs[0], d, dt)
    with np.errstate(all="ignore"):
        ce = np.expand_dims(c, d)
        first = (ce * x.shape[d] + 1) * float(np.finfo(dt).smallest_subnormal) / x / RTOL[dt]
        p = np.prod(x, axis=d, keepdims=True)
        s = np.sum(np.abs(up) / x, axis=d, keepdims=True)
        # (and c * out underflowing, by up to the smallest denormal, then divided by x_i x_j)
        b = ce * p / x * s + (x.shape[d] + 1) * float(np.finfo(dt).smallest_subnormal) / x * s / RTOL[dt]
    amb = elem_amb | slice_amb
    return np.where(amb, inf, _finite(first)), [np.where(np.broadcast_to(amb.any(axis=d, keepdims=True), x.shape),
                                                         inf, _finite(b)), 0.0]


def bound_logsumexp(case, xs, up):
    """log sum exp: the result is accurate to eps times the largest |x| (the shift by the max and
    the log of a sum of n terms); the gradient exp(x - out) g is accurate to eps * |g| times that."""
    x = xs[0]
    s = np.max(np.abs(_finite(x)), initial=0.0) + np.log(max(x.size, 1)) + 1
    return s, [np.full(x.shape, s * np.max(np.abs(up), initial=0.0))]


def bound_softmax(case, xs, up):
    """softmax = e^(x - max) / sum: relatively accurate (the exponent's error, eps |x - max|, stays under
    rtol until e^(x - max) is a denormal); its gradient out (g - sum g out) cancels: eps out (|g| +
    max|g|) <= 2 eps max|g|."""
    return 0.0, [np.full(xs[0].shape, 2 * np.max(np.abs(up), initial=0.0))]


def bound_log_softmax(case, xs, up):
    """log_softmax = (x - max) - log sum e^(x - max): accurate to eps (|out| + log n), and (nll_loss) a
    sum of nonnegative -w log p terms, so no cancellation beyond the log n per term; its gradient
    g - e^out sum g cancels: eps * sum|g| (times the weights, over their total for a mean)."""
    x = xs[0]
    s = np.log(max(x.size, 1)) + 1
    if case.params.get("nll"):
        w = _class_weights(case, xs)
        return s * w, [np.full(x.shape, s * w * np.sum(np.abs(up)))]
    return s, [np.full(x.shape, s * np.sum(np.abs(up)))]


def _class_weights(case, xs):
    """The largest total of the coefficients one loss value sums: 1 for an unweighted mean, the target
    weights over their total for a weighted one, their sum for 'sum', the largest for 'none'."""
    t, ignore = case.params["target"], case.params["ignore_index"]
    valid = t[t != ignore]
    w = np.abs(_finite(xs[2])) if len(xs) > 2 and xs[2].size else np.ones(max(int(valid.max(initial=0)) + 1, 1))
    wt = w[np.clip(valid, 0, w.size - 1)] if valid.size else np.zeros(0)
    smooth = 1 + case.params.get("smoothing", 0.0) * max(float(np.max(w, initial=0.0)), 1.0) * 2
    reduction = case.params["reduction"]
    if reduction == "mean":
        total = float(np.sum(wt))
        return (float(np.max(w, initial=1.0)) / total if total > 0 else 1.0) * max(valid.size, 1) * smooth
    if reduction == "sum":
        return max(float(np.sum(wt)), 1.0) * smooth
    return max(float(np.max(w, initial=1.0)), 1.0) * smooth


def bound_norm(case, xs, up):
    """norm = sqrt(sum x^2): positive terms, relative accuracy; its gradient x g / norm too."""
    return 0.0, [np.zeros(xs[0].shape)]


def bound_std(case, xs, up):
    """std = sqrt(sum (x - mean)^2 / (n - c)): x - mean cancels, to eps max|x|, which the square root
    keeps (forward); the gradient (x - mean) g / ((n - c) std) carries it over std, which makes a
    slice of equal values (std at the rounding level of its mean: torch's 2 (x - mean) / n rule and
    chainrule's exact derivative of its computed mean differ entirely) ill-conditioned."""
    x = _finite(xs[0])
    dim = case.params.get("dim")
    axes = None if dim in (None, (), []) or x.ndim == 0 else tuple(
        d % x.ndim for d in ((dim,) if isinstance(dim, int) else dim))
    try:
        m = np.max(np.abs(x), axis=axes, keepdims=True, initial=0.0)
        sd = np.std(x, axis=axes, keepdims=True) if x.size else np.zeros(())
    except Exception:  # noqa: BLE001 -- an invalid dim: both raise
        return 0.0, [0.0]
    with np.errstate(all="ignore"):
        g = np.max(np.abs(up), initial=0.0) * max(x.size, 1) * m / np.maximum(sd, 1e-300)
    return float(np.max(m, initial=0.0)), [np.broadcast_to(np.nan_to_num(g, posinf=inf), x.shape)]


def bound_cross_entropy(case, xs, up):
    """The loss sums -a_ic log softmax(x_i)_c: each log softmax accurate to eps (max|x_i - max| + log C),
    times the coefficients' total (``_class_weights``); the gradient g (p sum a - a) likewise
    cancels to eps |g| times the coefficients."""
    x = xs[0]
    w = _class_weights(case, xs)
    s = (np.max(np.abs(_finite(x)), initial=0.0) * 2 + np.log(max(x.size, 1)) + 1) * w
    return s, [np.full(x.shape, 2 * w * np.max(np.abs(up), initial=0.0))]


def bound_layer_norm(case, xs, up):
    """As batch norm's, per row of the normalised dims: (x - mean) cancels to eps max|x|, times rstd
    (up to 1 / sqrt(eps)); the gradients carry it times |g| and |w|."""
    x = _finite(xs[0])
    k = len(case.params["norm"])
    n = int(np.prod(x.shape[x.ndim - k:]))
    x2 = x.reshape(-1, n)
    eps = case.params["eps"]
    w = np.abs(_finite(xs[1])).reshape(-1) if len(xs) > 1 else np.ones(n)
    b = np.abs(_finite(xs[2])).reshape(-1) if len(xs) > 2 else np.zeros(n)
    m = np.max(np.abs(x2), axis=1, initial=0.0)[:, None]
    inv = 1 / np.sqrt((np.var(x2, axis=1)[:, None] if x2.size else 0) + eps)
    out = (m * inv + 1) * np.maximum(w, 1) + b
    g = np.max(np.abs(up), initial=0.0)
    wm = np.maximum(w, 1)   # the row means mix every column's g w
    gx = inv * g * (wm + float(np.max(wm, initial=1.0)) * (2 + m * inv)) * np.ones_like(x2)
    rows = max(x2.shape[0], 1)
    grads = [gx.reshape(x.shape)]
    if len(xs) > 1:
        grads.append(np.full(xs[1].shape, rows * g * float(np.max(m * inv + 1, initial=1.0))))
    if len(xs) > 2:
        grads.append(np.full(xs[2].shape, rows * g))
    return out.reshape(x.shape), grads


def bound_recurrent(case, xs, up):
    """Every value and gradient of a recurrent layer is a sum over the time steps, the batch and the
    gates of terms no larger than the tensor's largest entry (the gates saturate): B = that entry
    times the number of terms, per tensor (computed in float64 with torch)."""
    leaves = [torch.tensor(np.asarray(x, np.float64), requires_grad=True) for x in xs]
    with _Quiet():
        outs = case.fn(torch, *leaves)
        terms = float(xs[0].shape[0] * max(xs[0].shape[1], 1) + xs[1].shape[0] + 1)
        fwd = [np.full(o.shape, float(np.max(np.abs(o.detach().numpy()), initial=0.0)) * terms) for o in outs]
        grads = [np.zeros(x.shape) for x in xs]
        if up is not None and outs[0].numel():
            outs[0].backward(torch.tensor(np.asarray(up, np.float64)))
            grads = [np.full(x.shape, float(np.max(np.abs(lv.grad.numpy()), initial=0.0)) * terms)
                     if lv.grad is not None else np.zeros(x.shape) for x, lv in zip(xs, leaves)]
    return fwd, grads


def bound_batch_norm(case, xs, up):
    """Per channel: xhat = (x - mean) inv_std cancels in x - mean to eps max|x|, times inv_std (up to
    1 / sqrt(eps)); the output w xhat + b adds |b|; the gradients w inv_std (g - mean g - xhat
    mean(g xhat)) and sum g xhat carry that, times |g| (eval: x a + c, with a, c from the running
    statistics, cancels to eps (|x a| + |c|)). The running statistics: momentum times the batch mean
    and variance, sums of up-to-max|x|-sized terms."""
    x = _finite(xs[0])
    n, c = x.shape[:2]
    x3 = x.reshape(n, c, -1)
    eps, affine, stats = case.params["eps"], case.params["affine"], case.params["stats"]
    w = np.abs(_finite(xs[-2])) if affine else np.ones(c)
    b = np.abs(_finite(xs[-1])) if affine else np.zeros(c)
    m = np.max(np.abs(x3), axis=(0, 2), initial=0.0)
    if case.params["training"]:
        var = np.var(x3, axis=(0, 2)) if x3.size else np.zeros(c)
        inv = 1 / np.sqrt(var + eps)
        out = (m * inv + 1) * np.maximum(w, 1) + b
    else:
        inv = 1 / np.sqrt(np.abs(_finite(xs[2])) + eps)
        out = m * inv * np.maximum(w, 1) + np.abs(_finite(xs[1])) * inv * np.maximum(w, 1) + b
    g = np.max(np.abs(up), initial=0.0)
    count = max(x3.shape[0] * x3.shape[2], 1)
    shape = (1, c) + (1,) * (x.ndim - 2)
    gx = np.maximum(w, 1) * inv * g * (3 + m * inv)
    grads = [np.broadcast_to(gx.reshape(shape), x.shape)]
    if stats:
        grads += [np.zeros(c), np.zeros(c)]
    if affine:
        grads += [count * g * (m * inv + 1), np.full(c, count * g)]
    fwd = [np.broadcast_to(out.reshape(shape), x.shape)]
    if stats:
        fwd += [m, m * m * count]
    return fwd, grads


def bound_bce(case, xs, up):
    """-(y max(log p, -100) + (1 - y) max(log(1 - p), -100)) sums nonnegative terms for y in [0, 1];
    dp = g (p - y) / max(p (1 - p), 1e-12) cancels in p - y: eps |g| (|p| + |y|) / max(p (1 - p), 1e-12);
    dy = g (log(1 - p) - log p) cancels: eps |g| (|log(1 - p)| + |log p|)."""
    p, y = _finite(xs[0]), _finite(xs[1])
    w = np.abs(_finite(xs[2])) if len(xs) > 2 else 1.0
    g = np.max(np.abs(up), initial=0.0) * w
    if case.params["reduction"] == "mean":
        g = g / max(p.size, 1)
    with np.errstate(all="ignore"):
        logs = np.minimum(np.abs(np.log(p)), 100) + np.minimum(np.abs(np.log1p(-p)), 100)
        # (plus a denormal intermediate, g w of a denormal weight, amplified by 1 / max(p (1 - p), 1e-12))
        tiny = float(np.finfo(case.dtype()).smallest_subnormal) / RTOL[case.dtype()]
        gp = (g + tiny) * (np.abs(p) + np.abs(y) + 1) / np.maximum(p * (1 - p), 1e-12)
    return 0.0, [np.broadcast_to(_finite(gp), p.shape), np.broadcast_to(_finite(g * logs), y.shape)] + [
        np.zeros(a.shape) for a in xs[2:]]


# ---- known divergences ------------------------------------------------------------------------------

class Known:
    """An example of ``op`` failing at ``stage`` ("raise": raise/no-raise or exception type, "forward":
    dtype/shape/values, "backward": gradients; "any") where ``when(case)`` holds: a known divergence
    (``new``: found by this fuzzer, not in the issue) or a torch inconsistency (``TORCH_QUIRKS``)."""

    def __init__(self, op, stage, when, reason, new=False):
        self.op, self.stage, self.when, self.reason, self.new = op, stage, when, reason, new

    def matches(self, case, stage):
        return case.op == self.op and self.stage in (stage, "any") and bool(self.when(case))

    def __repr__(self):
        return f"{'NEW ' if self.new else ''}{self.op} [{self.stage}]: {self.reason}"


def _norm_underflows(case):
    """Some reduced slice of x has only |x| < sqrt(the smallest normal): x * x underflows."""
    x = np.abs(np.where(np.isfinite(case.args[0].logical), case.args[0].logical, 0).astype(np.float64))
    dim = case.params.get("dim")
    axes = None if dim in (None, (), []) else tuple(d % max(x.ndim, 1) for d in
                                                     ((dim,) if isinstance(dim, int) else dim)) if x.ndim else None
    try:
        m = np.max(x, axis=axes, initial=0.0)
    except Exception:  # noqa: BLE001 -- an invalid dim: not this divergence
        return False
    limit = 1e-18 if case.dtype() == np.float32 else 1e-152
    return bool(((m > 0) & (m < limit)).any())


def _square_leaves_range(x):
    """Some nonzero finite |x| whose square underflows or overflows its dtype (not a normal number)."""
    fi = np.finfo(x.dtype) if x.dtype.kind == "f" else None
    x = np.abs(x[np.isfinite(x) & (x != 0)].astype(np.float64)) if fi else x[:0]
    return bool(((x < 1.1 * math.sqrt(float(fi.tiny))) | (x > math.sqrt(float(fi.max)))).any()) if x.size else False


def _reciprocal_overflows(x):
    if x.dtype.kind != "f":
        return False
    a = np.abs(x[np.isfinite(x) & (x != 0)].astype(np.float64))
    return bool((a < 1.0 / float(np.finfo(x.dtype).max)).any())


def _cube_overflows(x):
    big = float(np.finfo(x.dtype).max) * 0.5
    x = np.abs(x[np.isfinite(x)].astype(np.float64))
    with np.errstate(over="ignore"):
        return bool((0.044715 * x ** 3 > big).any()) if x.size else False


def _tiny_total_weight(case):
    t, ignore = case.params.get("target"), case.params.get("ignore_index")
    if t is None or len(case.args) < 3 or case.params.get("reduction") != "mean":
        return False
    w = case.args[2].logical
    total = float(np.sum(w[np.clip(t[t != ignore], 0, max(w.size - 1, 0))].astype(np.float64))) if w.size else 0.0
    return 0 < total < _tiny(w.dtype)


KNOWN_DIVERGENCES = [
    # -- from the edge-case issue: every one observed at fbdf373 (abs/relu/max()/min()/amax/amin/max_pool2d/
    # 0-d prod gradients at nan/inf, empty softmax/log_softmax/logsumexp/amax, conv2d batch 0, matmul/linear
    # backward with a zero-size inner dim, float32 std/norm overflow, cross_entropy/nll_loss with -inf/nan
    # non-target logits or all targets ignored) passes since 3fa0c2a and ce178c2: no entry left --
    # -- NEW: found by this fuzzer -- the 25 listed for issue 12 (indexing keys, index_put dtypes and shapes,
    # batch_norm/conv2d/class losses at inf and nan, div/prod backward overflow, movement argument checks,
    # add/sub alpha) pass since the fix, and prod's second derivative at zeros since its rule takes
    # torch's exclusive cumprods on Tensors too: no entry left --
]

# Where torch is inconsistent with itself: the example is skipped with a TorchInconsistency warning.
TORCH_QUIRKS = [
    Known("ConvTranspose2d", "any", lambda c: c.nonfinite(),
          "torch's conv_transpose2d backward with a nan/inf input or weight and padding: 0 * inf at the padded taps "
          "is nan for batch 1 and in float64 but finite for batch 2+ in float32 (another kernel skips those taps)"),
    Known("LayerNorm", "any", lambda c: c.dtype() == np.float32 and bool(
        (np.abs(c.args[0].logical[np.isfinite(c.args[0].logical)]) > 1.8e19).any()),
          "torch's float32 layer_norm sums squares in float32: where x^2 overflows (|x| > ~1.8e19) it gives nan or "
          "0 (layer_norm([-1e27]) is nan, of [3e19, 1] is [0, 0]) while its float64 gives the exact 0 and [1, -1]"),
    Known("NormSqrt", "backward", _norm_underflows,
          "torch's std/norm backward where the squares underflow (|x| below ~1e-19 float32, 1e-154 float64): a "
          "std gradient of "
          "+-inf and a norm(dim=0) gradient of -0 for a 0-d denormal, where torch's float64 (and its norm() "
          "without dim) give the finite derivative chainrule gives"),
    Known("Div", "any", lambda c: "scalar" in c.params and not c.label.startswith("a ") and _reciprocal_overflows(
        c.args[0].logical),
          "torch's number / tensor is number * reciprocal(tensor): 1 / a overflows for a denormal a, so "
          "-1e-40 / tensor([1e-40]) is -inf where tensor / tensor gives -1"),
    Known("Prod", "any", lambda c: c.args[0].logical.dtype.kind == "f" and c.nonfinite()
          and bool((c.args[0].logical == 0).any()),
          "torch's prod backward takes its zero-safe path (exclusive cumprods) when any entry of the tensor is 0, "
          "giving an inf entry the finite product of the others; without a zero anywhere it gives inf / inf = nan "
          "(x.prod(1) of [[1.5, -1, -inf]] vs [[1.5, -1, -inf], [0, 1, 1]]; and the second derivative through "
          "an inf upstream likewise)"),
    Known("Conv2d", "forward", lambda c: c.nonfinite(),
          "torch's conv2d of an inf/nan weight over zero padding is nan for batch 1 (0 * inf) and 0 for batch 2+ "
          "(another kernel, which skips the padded taps)"),
    Known("Pow", "any", lambda c: c.params.get("scalar") in (0.5, -0.5) and bool(
        (np.signbit(c.args[0].logical) & (c.args[0].logical == 0)).any()),
          "torch's x ** -0.5 is rsqrt: (-0.) ** -0.5 = -inf, where x ** tensor(-0.5) and IEEE pow give +inf"),
    Known("Index", "raise", lambda c: c.params.get("empty_result"),
          "torch's advanced indexing checks index bounds only while gathering: an out-of-range index into an "
          "empty selection (x[:0, [1]] of a (1, 1) x) passes, into a non-empty one raises IndexError"),
    Known("IndexGrad", "raise", lambda c: c.params.get("empty_result"),
          "torch's advanced indexing checks index bounds only while gathering (an out-of-range index into an "
          "empty selection passes)"),
    Known("IndexPut", "raise", lambda c: c.params.get("empty_result"),
          "torch's index_put checks index bounds only while writing (an out-of-range index into an empty "
          "selection passes)"),
    Known("Gelu", "any", lambda c: "tanh" not in c.label and c.dtype() == np.float32
          and bool(np.isposinf(c.args[0].logical).any()),
          "torch's float32 gelu(inf) is nan in its vectorised kernel (tensors of 2+ elements) but inf for one "
          "element and in float64"),
    Known("SoftmaxCrossEntropy", "backward", lambda c: _tiny_total_weight(c),
          "torch's weighted-mean class loss with a total weight below the smallest normal (a denormal weight): "
          "its backward computes 1 / total (overflow: inf/nan gradients) while its forward is finite"),
    Known("NormSqrt", "any", lambda c: c.params.get("stat") == "norm" and c.args[0].logical.ndim == 0
          and c.params.get("dim") not in (None, (), []) and _square_leaves_range(c.args[0].logical),
          "torch's 2-norm of a 0-d tensor with an explicit dim squares it (x.norm(dim=0) of -1e30 float32 is inf, of "
          "1e-30 is 0) where its norm() without dim and of a 1-element 1-d tensor give |x| (as chainrule)"),
    Known("SoftmaxCrossEntropy", "backward", lambda c: c.params.get("smoothing") and len(c.args) > 2
          and c.nonfinite(2),
          "torch's label-smoothed cross_entropy with a nan/inf class weight: an ignored row's loss is 0 (masked_fill) "
          "but its gradient nan (the mask's zero gradient times the inf weight in backward)"),
    Known("LogSoftmax", "backward", lambda c: c.params.get("nll") and _tiny_total_weight(c),
          "as for cross_entropy: nll_loss's weighted mean with a denormal total weight"),
    Known("Gelu", "backward", lambda c: "tanh" in c.label and _cube_overflows(c.args[0].logical),
          "torch's tanh-gelu backward is nan where x^3 overflows (inf * 0 in its formula) although the "
          "derivative is 1 (0 for x -> -inf) and its exact gelu gives that"),
    Known("Matmul", "raise", lambda c: c.empty() and c.args[0].logical.dtype != c.args[1].logical.dtype,
          "torch's matmul of float32 and float64 raises 'expected m1 and m2 to have the same dtype' unless an "
          "operand is empty, then it returns"),
    Known("Pow", "backward", lambda c: len(c.args) == 2 and c.args[0].logical.dtype != c.args[1].logical.dtype
          and bool((c.args[0].logical < 0).any()),
          "torch's pow backward for a float64 base and a float32 exponent computes b - 1 in float32 (1e-14 - 1 "
          "rounds to -1): a negative base gets a finite gradient where the (float64) forward is nan"),
    Known("Pow", "backward", lambda c: any(a.logical.dtype == np.bool_ for a in c.args),
          "torch's pow backward raises for a bool operand ('Subtraction ... with a bool tensor' inside its "
          "derivative formula) although its forward accepts it"),
    Known("LogSumExp", "any", lambda c: c.params.get("dim") in ((), []),
          "torch.logsumexp(x, dim=()) raises an internal shape error ('output with shape [] doesn't match the "
          "broadcast shape'), where sum/amax/mean read dim=() as all dims"),
    Known("NormSqrt", "backward", lambda c: c.params.get("stat") == "std" and c.params.get("dim") in ((), []),
          "torch's std/var with dim=() reduce all dims forward but their backward omits the 1/n "
          "(x.std(()) and x.std() have the same value, gradients n times apart)"),
]


# ---- running one library ------------------------------------------------------------------------

class Run:
    def __init__(self):
        self.exc = None      # forward exception
        self.outs = ()       # output tensors
        self.leaves, self.views = [], []
        self.bexc = None     # backward exception
        self.did_backward = False


class _Quiet:
    """No warnings (torch's and NumPy's overflow/invalid ones are expected here) and no NumPy errors."""

    def __enter__(self):
        self.cms = [warnings.catch_warnings(), np.errstate(all="ignore")]
        for cm in self.cms:
            cm.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        for cm in reversed(self.cms):
            cm.__exit__(*exc)


def forward(L, case, plain=False):
    """Make the leaves (``plain``: the logical values, contiguous) and views, run ``case.fn``."""
    r = Run()
    with _Quiet():
        try:
            r.leaves = [a.leaf(L, plain) for a in case.args]
            r.views = [lv if plain else a.layout.view(L, lv) for a, lv in zip(case.args, r.leaves)]
            if L is torch:
                for vw, lv in zip(r.views, r.leaves):
                    if vw is not lv and vw.requires_grad:
                        vw.retain_grad()
            out = case.fn(L, *r.views)
            r.outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        except Exception as e:  # noqa: BLE001 -- any exception is a result to compare
            r.exc = e
    return r


def backward(L, r, upstream):
    with _Quiet():
        try:
            r.outs[0].backward(L.tensor(upstream))
            r.did_backward = True
        except Exception as e:  # noqa: BLE001
            r.bexc = e


def to_np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    if isinstance(t, cr.Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def _short(a, n=200):
    s = np.array2string(np.asarray(a), precision=9, separator=", ", threshold=40)
    return s if len(s) <= n else s[:n] + "..."


def close(c, t, bound=0.0, finite_only=False, rtol=None):
    """None if chainrule's array c matches torch's t (see the module docstring), else why not."""
    if c.dtype != t.dtype:
        return f"dtype {c.dtype} != torch {t.dtype}"
    if c.shape != t.shape:
        return f"shape {c.shape} != torch {t.shape}"
    if t.dtype.kind != "f":
        return None if np.array_equal(c, t) else f"values differ:\n    chainrule {_short(c)}\n    torch     {_short(t)}"
    c64, t64 = c.astype(np.float64), t.astype(np.float64)
    tfin = np.isfinite(t64)
    if finite_only:
        bad = tfin & ~np.isfinite(c64)
    else:
        bad = (np.isnan(c64) != np.isnan(t64)) | (np.isposinf(c64) != np.isposinf(t64)) | \
              (np.isneginf(c64) != np.isneginf(t64))
    both = tfin & np.isfinite(c64)
    with np.errstate(over="ignore", invalid="ignore"):
        tol = _tiny(t.dtype) + max(RTOL.get(t.dtype, 1e-4), rtol or 0) * (np.abs(np.where(tfin, t64, 0)) + bound)
        bad |= both & ~(np.abs(np.where(both, c64 - t64, 0)) <= tol)
    # a sum whose terms reach the overflow threshold overflows or not, or gives inf - inf = nan, depending on
    # the order of the terms and on fused multiply-adds: any result is right there
    bad &= ~(np.asarray(bound) > float(np.finfo(t.dtype).max))
    if not bad.any():
        return None
    i = tuple(int(k) for k in np.argwhere(bad)[0]) if bad.ndim else ()
    return (f"{int(bad.sum())} of {bad.size} values differ, first at {list(i)}: chainrule {c64[i]!r} vs torch "
            f"{t64[i]!r} (tolerance {float(np.broadcast_to(tol, bad.shape)[i]):.3g})\n"
            f"    chainrule {_short(c)}\n    torch     {_short(t)}")


# ---- error bounds -----------------------------------------------------------------------------

def _sum_to(a, shape):
    a = a.sum(axis=tuple(range(a.ndim - len(shape)))) if a.ndim > len(shape) else a
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, a.shape)) if n == 1 and m != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


def bounds(case, th, upstream):
    """(forward bound, [gradient bound per leaf]) of the sums of terms (see the module docstring)."""
    n = len(case.args)
    fwd, views = 0.0, [0.0] * n
    mode = case.bound
    with _Quiet():
        try:
            if mode == "abs":
                leaves = [torch.tensor(np.abs(_finite(a.logical)).astype(np.float64), requires_grad=a.grad)
                          if a.logical.dtype.kind == "f" else torch.tensor(a.logical) for a in case.args]
                out = case.fn(torch, *leaves)
                out = out[0] if isinstance(out, (tuple, list)) else out
                fwd = np.abs(to_np(out).astype(np.float64))
                if upstream is not None and out.requires_grad:
                    out.backward(torch.tensor(np.abs(upstream).astype(np.float64)))
                    views = [np.abs(lv.grad.detach().numpy()) if lv.grad is not None else 0.0 for lv in leaves]
            elif mode in ("broadcast", "absg") and upstream is not None:
                out_shape = tuple(th.outs[0].shape)
                leaves = [torch.tensor(a.logical, requires_grad=a.grad) for a in case.args]
                if mode == "broadcast":
                    xs = [lv.expand(out_shape) if lv.requires_grad else lv for lv in leaves]
                    for x in xs:
                        if x.requires_grad:
                            x.retain_grad()
                    up = upstream
                else:
                    xs, up = leaves, np.abs(upstream)
                out = case.fn(torch, *xs)
                out = out[0] if isinstance(out, (tuple, list)) else out
                out.backward(torch.tensor(up))
                views = [_sum_to(np.abs(x.grad.detach().numpy().astype(np.float64)), a.logical.shape)
                         if x.grad is not None else 0.0 for x, a in zip(xs, case.args)]
            elif mode == "norm":  # first and second derivatives: sums of n products of the inputs (and the
                # upstream gradient), cancelling to eps * n * M^2 for M the largest |input| (at least 1)
                out = _finite(np.abs(to_np(th.outs[0]).astype(np.float64)))
                m = max([1.0] + [float(np.max(np.abs(_finite(a.logical)), initial=0.0)) for a in case.args
                                 if a.logical.dtype.kind == "f"])
                terms = max([out.size] + [a.logical.size for a in case.args])
                fwd = terms * (np.max(out, initial=0.0) + m * m)
                g = np.max(np.abs(upstream), initial=0.0) if upstream is not None else 0.0
                grads = [np.max(_finite(np.abs(lv.grad.detach().numpy().astype(np.float64))), initial=0.0)
                         if lv.grad is not None else 0.0 for lv in th.leaves]
                return fwd, [np.full(a.stored.shape, terms * (v + g * m * m)) for v, a in zip(grads, case.args)]
            elif callable(mode):
                xs = [a.logical.astype(np.float64) if a.logical.dtype.kind == "f" else a.logical for a in case.args]
                up = np.zeros(()) if upstream is None else upstream.astype(np.float64)
                fwd, vb = mode(case, xs, up)
                views = list(vb) + [0.0] * (n - len(vb))
        except Exception:  # noqa: BLE001 -- a bound is best effort: without one the comparison is only stricter
            pass
    grads = []  # (nan -> 0: no bound; inf stays: a bound past the dtype's range accepts any result there)
    for a, b, vw in zip(case.args, views, th.views):
        g = vw.grad.detach().numpy().astype(np.float64) if getattr(vw, "grad", None) is not None else 0.0
        b = np.nan_to_num(np.broadcast_to(np.asarray(b, dtype=np.float64), a.logical.shape) + _finite(np.abs(g)),
                          nan=0.0, posinf=inf)
        grads.append(a.layout.back(b, a.stored.shape))
    if isinstance(fwd, list):
        return [np.nan_to_num(np.asarray(f, dtype=np.float64), nan=0.0, posinf=inf) for f in fwd], grads
    return np.nan_to_num(np.asarray(fwd, dtype=np.float64), nan=0.0, posinf=inf), grads


# ---- the comparison -------------------------------------------------------------------------------

# (torch's exception type, chainrule's): why chainrule's is acceptable
EXCEPTION_TYPES = {
    (NotImplementedError, RuntimeError):
        "torch's dtype-dispatch 'X not implemented for Long' is a NotImplementedError, a subclass of "
        "RuntimeError: chainrule checks the dtype up front and raises the base class, so `except "
        "RuntimeError` catches both (`except NotImplementedError` would not catch chainrule's)",
}


class Failure(Exception):
    def __init__(self, stage, message):
        super().__init__(message)
        self.stage = stage


def _exc(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"


def _outs_summary(r):
    return "; ".join(f"{tuple(o.shape)} {o.dtype}: {_short(to_np(o), 120)}" for o in r.outs
                     if hasattr(o, "shape"))


def compare_runs(case, th, c, upstream, bound):
    """Raise Failure(stage, message) where chainrule's run c differs from torch's th."""
    if th.exc is not None:
        if c.exc is None:
            raise Failure("raise", f"torch raised {_exc(th.exc)}; chainrule returned {_outs_summary(c)}")
        pair = (type(th.exc), type(c.exc))
        if pair[0] is not pair[1] and not any(issubclass(pair[1], b) and issubclass(pair[0], a)
                                              for a, b in EXCEPTION_TYPES):
            raise Failure("raise", f"exception types differ: torch {_exc(th.exc)}; chainrule {_exc(c.exc)}")
        return
    if c.exc is not None:
        raise Failure("raise", f"chainrule raised {_exc(c.exc)}; torch returned {_outs_summary(th)}")
    if len(c.outs) != len(th.outs):
        raise Failure("forward", f"{len(c.outs)} outputs, torch {len(th.outs)}")
    fwd_bound, grad_bounds = bound
    for i, (co, to) in enumerate(zip(c.outs, th.outs)):
        b = fwd_bound[i] if isinstance(fwd_bound, list) else fwd_bound if i == 0 else 0.0
        why = close(to_np(co), to_np(to), b)
        if why:
            raise Failure("forward", f"output {i}: {why}")
    if not th.did_backward and th.bexc is None:
        return
    if th.bexc is not None:
        if c.bexc is None:
            raise Failure("backward", f"torch's backward raised {_exc(th.bexc)}; chainrule's did not")
        return
    if c.bexc is not None:
        raise Failure("backward", f"chainrule's backward raised {_exc(c.bexc)}")
    finite_only = not np.isfinite(to_np(th.outs[0]).astype(np.float64)).all()
    # a gradient is as accurate as the least precise dtype it passed through (a float64 leaf cast down)
    grad_rtol = max(RTOL.get(np.dtype(d), 0.0) for d in [a.logical.dtype for a in case.args]
                    + [to_np(th.outs[0]).dtype])
    for i, (cl, tl, b) in enumerate(zip(c.leaves, th.leaves, grad_bounds)):
        if tl.grad is None:  # structurally zero in torch: chainrule's may be zeros (up to rounding)
            cg = to_np(cl.grad) if cl.grad is not None else None
            why = close(cg, np.zeros_like(cg), b, rtol=grad_rtol) if cg is not None and cg.dtype.kind == "f" else None
            if why:
                raise Failure("backward", f"input {i}: torch has no gradient (zeros), chainrule's: {why}")
            continue
        if cl.grad is None:
            if not tl.requires_grad:
                continue
            raise Failure("backward", f"input {i}: chainrule produced no gradient; torch's is "
                                      f"{_short(tl.grad.detach().numpy())}")
        why = close(to_np(cl.grad), tl.grad.detach().numpy(), b, finite_only, grad_rtol)
        if why:
            raise Failure("backward", f"gradient of input {i}{' (where finite in torch)' if finite_only else ''}: "
                                      f"{why}")


def torch_inconsistency(case, th, upstream):
    """Why torch's result for the case's layouts differs from its result for the same values
    contiguous, or None."""
    plain = forward(torch, case, plain=True)
    if (plain.exc is None) != (th.exc is None):
        return f"raises {'only' if th.exc else 'not'} for the non-contiguous layout"
    if th.exc is not None:
        return None
    for i, (a, b) in enumerate(zip(th.outs, plain.outs)):
        why = close(to_np(a), to_np(b))
        if why:
            return f"output {i} depends on the layout: {why}"
    if upstream is not None and th.did_backward:
        backward(torch, plain, upstream)
        if plain.bexc is not None:
            return None
        finite_only = not np.isfinite(to_np(th.outs[0]).astype(np.float64)).all()
        for i, (vw, lv) in enumerate(zip(th.views, plain.leaves)):
            if getattr(vw, "grad", None) is not None and lv.grad is not None:
                why = close(vw.grad.detach().numpy(), lv.grad.detach().numpy(), 0.0, finite_only)
                if why:
                    return f"gradient of input {i} depends on the layout: {why}"
    return None


def _skip(kind, op, reason, detail=""):
    """Say why an example is not a failure: a hypothesis event, a TorchInconsistency warning (for torch's
    inconsistencies), a line in CHAINRULE_FUZZ_LOG."""
    event(f"{kind}: {op}: {reason}"[:200])
    if kind == "torch inconsistent":
        warnings.warn(f"torch inconsistent, examples skipped: {op}: {reason}", TorchInconsistency)
    if LOG:
        with open(LOG, "a") as f:
            f.write(f"{kind}\t{op}\t{reason}\t{detail}\n")


def differential(case, reached, upstream_seed=0):
    """Run the case on torch and chainrule and compare (see the module docstring)."""
    if case.params.get("torch_unsafe"):
        _skip("torch inconsistent", case.op, case.params["torch_unsafe"], case.label)
        return
    th = forward(torch, case)
    c = forward(cr, case)
    upstream = None
    if th.exc is None and c.exc is None and th.outs and isinstance(th.outs[0], torch.Tensor) \
            and th.outs[0].requires_grad:
        o = th.outs[0]
        rng = np.random.default_rng(upstream_seed)
        upstream = rng.standard_normal(tuple(o.shape)).astype(to_np(o).dtype)
        backward(torch, th, upstream)
        if isinstance(c.outs[0], cr.Tensor) and c.outs[0].requires_grad:
            backward(cr, c, upstream)
    if c.exc is None and c.outs and isinstance(c.outs[0], cr.Tensor) and case.op in recorded_ops(c.outs[0]):
        reached.append(True)
    try:
        if th.exc is None and c.exc is None and upstream is not None and not c.did_backward and c.bexc is None:
            raise Failure("backward", "chainrule's output does not require grad; torch's does")
        compare_runs(case, th, c, upstream, bounds(case, th, upstream) if th.exc is None else (0.0, []))
    except Failure as f:
        why = torch_inconsistency(case, th, upstream) if case.any_layout() and not case.params.get(
            "layout_sensitive") else None
        if why:
            _skip("torch inconsistent", case.op, "torch's result for a non-contiguous input differs from its "
                  "result for the same values contiguous", f"{case.label}: {why.splitlines()[0]}")
            return
        quirk = next((q for q in TORCH_QUIRKS if q.matches(case, f.stage)), None)
        if quirk:
            _skip("torch inconsistent", case.op, quirk.reason, f"{case!r} -> {f}".replace("\n", " | "))
            return
        known = None if STRICT else next((k for k in KNOWN_DIVERGENCES if k.matches(case, f.stage)), None)
        if known:
            _skip("known divergence", case.op, f"[{known.stage}]{' NEW' if known.new else ''} {known.reason}",
                  f"{case!r} -> {f}".replace("\n", " | "))
            return
        raise AssertionError(f"{case.op} [{f.stage}]: {f}\n{case!r}") from None


# ---- the tests ------------------------------------------------------------------------------------

def _public_ops():
    return {name for name in OPS if not name.startswith("_")}


def test_fuzzer_covers_every_op():
    ops = _public_ops()
    problems = [f"{name}: no fuzz generator" for name in sorted(ops - set(EXEMPT) - set(GENERATORS))]
    problems += [f"{name}: a generator but not an op in OPS (stale)" for name in sorted(set(GENERATORS) - ops)]
    problems += [f"{k!r}: not an op in OPS (stale)" for k in KNOWN_DIVERGENCES + TORCH_QUIRKS if k.op not in ops]
    assert not problems, "fuzzer incomplete:\n  " + "\n  ".join(problems)


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=SEED is None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False,
                    phases=[Phase.explicit, Phase.generate, Phase.shrink])


@pytest.mark.parametrize("op", sorted(GENERATORS))
def test_fuzz_op_against_torch(op):
    reached = []

    @SETTINGS
    @given(case=GENERATORS[op], upstream_seed=st.integers(0, 2 ** 32 - 1))
    def check(case, upstream_seed):
        differential(case, reached, upstream_seed)

    if SEED is not None:
        check = seed(int(SEED))(check)
    check()
    assert reached or EXAMPLES < 20, f"{op}: no example reached the op in chainrule's graph"
