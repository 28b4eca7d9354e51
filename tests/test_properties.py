"""Property tests (hypothesis): random shapes, broadcasting pairs and dims against torch."""
import numpy as np
import torch
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis.extra import numpy as hnp

import chainrule as cr
from helpers import compare

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
FLOAT_DTYPES = st.sampled_from([np.float32, np.float64])


def values(shape, dtype, low=-3.0, high=3.0, positive=False):
    n = int(np.prod(shape)) if shape else 1
    rng = np.random.default_rng(n * 7 + len(shape))
    a = rng.uniform(0.5 if positive else low, high, size=shape)
    return a.astype(dtype)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: (cr if isinstance(a, cr.Tensor) else torch).maximum(a, b),
    "minimum": lambda a, b: (cr if isinstance(a, cr.Tensor) else torch).minimum(a, b),
    "expr": lambda a, b: (a * b).tanh() + (a - b).sigmoid() * 2.0,
}


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       name=st.sampled_from(sorted(BINARY)), dtype=FLOAT_DTYPES)
def test_binary_broadcasting(shapes, name, dtype):
    sa, sb = shapes.input_shapes
    positive = name in ("div", "pow")
    a = values(sa, dtype, positive=name == "pow")
    b = values(sb, dtype, positive=positive) + (0.0 if positive else 0.25)
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == np.float32 else None
    compare(BINARY[name], BINARY[name], [a, b], tol=tol)


@st.composite
def shape_and_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    signed = tuple(a - nd if draw(st.booleans()) else a for a in axes)
    dim = signed[0] if len(signed) == 1 and draw(st.booleans()) else signed
    return shape, dim


REDUCTIONS = ["sum", "mean", "var", "std", "amax", "amin", "logsumexp"]


@SETTINGS
@given(sd=shape_and_dims(), name=st.sampled_from(REDUCTIONS), keepdim=st.booleans(), dtype=FLOAT_DTYPES)
def test_reductions(sd, name, keepdim, dtype):
    shape, dim = sd
    x = values(shape, dtype)
    n = int(np.prod([shape[d] for d in ((dim,) if isinstance(dim, int) else dim)]))
    if name in ("var", "std") and n < 2:
        return  # torch gives nan/inf with a warning; not a property worth comparing
    fn = (lambda t: getattr(t, name)(dim, keepdim=keepdim))
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == np.float32 else None
    compare(fn, fn, [x], tol=tol)


@st.composite
def shape_and_dim(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@SETTINGS
@given(sd=shape_and_dim(), name=st.sampled_from(["softmax", "log_softmax", "prod", "max", "min", "argmax",
                                                "max_values_scaled"]),
       keepdim=st.booleans(), dtype=FLOAT_DTYPES)
def test_single_dim_reductions(sd, name, keepdim, dtype):
    shape, dim = sd
    x = values(shape, dtype)
    if name in ("softmax", "log_softmax"):
        fn = (lambda t: getattr(t, name)(dim))
    elif name in ("max", "min"):
        compare(lambda t: getattr(t, name)(dim, keepdim).indices, lambda t: getattr(t, name)(dim, keepdim).indices,
                [x], grad=False)
        fn = (lambda t: getattr(t, name)(dim, keepdim).values)
    elif name == "argmax":
        compare(lambda t: t.argmax(dim, keepdim), lambda t: t.argmax(dim, keepdim), [x], grad=False)
        return
    elif name == "prod":
        fn = (lambda t: t.prod(dim, keepdim))
    else:
        fn = (lambda t: t.max(dim, keepdim)[0] * 2)
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == np.float32 else None
    compare(fn, fn, [x], tol=tol)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_reshape_permute_roundtrip(shape, data):
    x = values(shape, np.float64)
    perm = data.draw(st.permutations(range(len(shape))))
    flat_at = data.draw(st.integers(0, len(shape) - 1))

    def fn(t):
        return t.permute(*perm).flatten(flat_at).reshape(-1) * 1.5

    compare(fn, fn, [x])


@SETTINGS
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
       n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4),
       vec=st.sampled_from(["none", "left", "right"]))
def test_matmul_batched(batch, n, k, m, vec):
    ba, bb = batch.input_shapes
    sa = (k,) if vec == "left" else ba + (n, k)
    sb = (k,) if vec == "right" else bb + (k, m)
    compare(lambda a, b: a @ b, lambda a, b: a @ b, [values(sa, np.float64), values(sb, np.float64) + 0.1])


@st.composite
def shape_and_key(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    key = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "array", "full"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            key.append(slice(draw(st.integers(-n, n)), draw(st.integers(-n, n)), draw(st.integers(1, 3))))
        elif kind == "array":
            key.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4))))
        else:
            key.append(slice(None))
    return shape, tuple(key)


@SETTINGS
@given(sk=shape_and_key())
def test_random_indexing_with_gradient(sk):
    shape, key = sk
    if sum(isinstance(k, np.ndarray) for k in key) > 1:
        lens = {len(k) for k in key if isinstance(k, np.ndarray)}
        if len(lens) > 1:
            return  # index arrays that do not broadcast: an error in both libraries

    def fn(t):
        lib = cr if isinstance(t, cr.Tensor) else torch
        return t[tuple(lib.tensor(k) if isinstance(k, np.ndarray) else k for k in key)]
    compare(fn, fn, [values(shape, np.float64)])
