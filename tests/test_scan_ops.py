"""Sorting, scans, searching and counting (chainrule/tensor/scan.py, chainrule/ops/scan.py) against torch:
values, dtypes, namedtuple fields, gradients, float64 gradcheck and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import assert_close

rng = np.random.default_rng(13)
nan, inf = float("nan"), float("inf")


def randn(*shape):
    return rng.standard_normal(shape)


def distinct(*shape):
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.25 + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def check(fn, *arrays, dtype=np.float32, grad=True, tol=None):
    """fn(L, *tensors) with L = chainrule and L = torch on the same arrays (float ones cast to dtype):
    every output (tuples flattened; namedtuple field names too), then every input gradient for one
    random upstream gradient per float output."""
    arrays = [a.astype(dtype) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in arrays]
    cr_in = [cr.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    th_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out, ref = fn(cr, *cr_in), fn(torch, *th_in)
    if hasattr(ref, "_fields"):
        for f in ref._fields:
            assert_close(getattr(out, f), getattr(ref, f), tol=tol, what=f)
    assert isinstance(out, tuple) == isinstance(ref, tuple), f"{type(out).__name__} vs torch {type(ref).__name__}"
    outs, refs = _flat(out), _flat(ref)
    assert len(outs) == len(refs)
    for i, (o, r) in enumerate(zip(outs, refs)):
        assert_close(o, r, tol=tol, what=f"output {i}")
    pairs = [(o, r) for o, r in zip(outs, refs) if isinstance(r, torch.Tensor) and r.requires_grad]
    if not pairs:
        return out, ref
    ups = [rng.standard_normal(r.shape).astype(r.detach().numpy().dtype) for _, r in pairs]
    loss_c = sum((o * cr.tensor(u)).sum() for (o, _), u in zip(pairs, ups))
    loss_t = sum((r * torch.tensor(u)).sum() for (_, r), u in zip(pairs, ups))
    loss_c.backward()
    loss_t.backward()
    for i, (c, t) in enumerate(zip(cr_in, th_in)):
        if t.grad is None:
            assert c.grad is None or not np.any(c.grad.numpy()), f"input {i}: torch has no grad"
            continue
        assert c.grad is not None, f"input {i}: no gradient"
        assert_close(c.grad, t.grad, tol=tol, what=f"grad of input {i}")
    return out, ref


def gradcheck(fn, *arrays):
    inputs = [cr.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    assert cr.autograd.gradcheck(fn, inputs)


def raises(exc, fn, *arrays):
    """Both libraries raise ``exc``."""
    for L in (torch, cr):
        with pytest.raises(exc):
            fn(L, *[L.tensor(a) for a in arrays])


FLOATS = [np.float32, np.float64]
TIES = np.array([[3.0, 1.0, 3.0, 2.0, 1.0, 3.0], [0.5, 0.5, -1.0, 0.5, 2.0, -1.0]])
WITH_NAN = np.array([[1.0, nan, 2.0, nan, 0.0], [4.0, 2.0, -1.0, 3.0, 0.5]])
SHAPES = [(), (0,), (1,), (5,), (3, 4), (2, 0, 3), (2, 1, 3)]


# ---- sort / argsort / msort -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_sort_shapes(dtype, shape):
    x = randn(*shape)
    check(lambda L, x: L.sort(x), x, dtype=dtype)
    check(lambda L, x: x.sort(dim=0, descending=True), x, dtype=dtype)
    check(lambda L, x: L.argsort(x, dim=-1), x, dtype=dtype)
    check(lambda L, x: L.argsort(x, descending=True), x, dtype=dtype)


def test_sort_ties_nan_stable():
    for x in (TIES, WITH_NAN):
        for desc in (False, True):
            for d in (0, 1, -1):
                check(lambda L, x: L.sort(x, dim=d, descending=desc, stable=True), x)
                check(lambda L, x: x.sort(d, desc), x)
                check(lambda L, x: x.argsort(dim=d, descending=desc, stable=True), x)
    check(lambda L, x: L.sort(x, stable=True, dim=1), TIES)


def test_sort_ints_bool():
    x = rng.integers(-3, 4, (4, 5))
    check(lambda L, x: L.sort(x, 1), x)
    check(lambda L, x: L.sort(x, 0, descending=True), x)
    check(lambda L, x: L.sort(x > 0, 1), x)
    check(lambda L, x: L.argsort(x > 0, 1, descending=True), x)


def test_msort():
    check(lambda L, x: L.msort(x), TIES)
    check(lambda L, x: x.msort(), randn(4, 3))


def test_sort_gradcheck():
    gradcheck(lambda x: x.sort(1, descending=True).values * 1.5, distinct(3, 4))
    gradcheck(lambda x: cr.sort(x, 0)[0], distinct(3, 4))


def test_sort_errors():
    raises(IndexError, lambda L, x: L.sort(x, 2), randn(3, 4))
    raises(IndexError, lambda L, x: L.argsort(x, -3), randn(3, 4))
    raises(IndexError, lambda L, x: L.sort(x, 1), randn())
    raises(TypeError, lambda L, x: L.sort(x, 0, stable=True), randn(3))
    raises(TypeError, lambda L, x: x.argsort(0, True, stable=True), randn(3))
    raises(TypeError, lambda L, x: x.sort(0, True, True), randn(3))
    check(lambda L, x: x.sort(0, descending=True), TIES)
    check(lambda L, x: L.argsort(x, 1, True), TIES)
    with pytest.raises(TypeError):
        cr.sort([1, 2])


# ---- topk / kthvalue / median / nanmedian / mode -------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_topk(dtype):
    x = distinct(3, 5)
    check(lambda L, x: L.topk(x, 2), x, dtype=dtype)
    check(lambda L, x: x.topk(3, dim=0, largest=False), x, dtype=dtype)
    check(lambda L, x: x.topk(0, 1), x, dtype=dtype)
    check(lambda L, x: x.topk(5, 1, sorted=True), x, dtype=dtype)
    check(lambda L, x: L.topk(x, 1), np.array(2.5), dtype=dtype)
    check(lambda L, x: L.topk(x, 0), np.zeros((0,)), dtype=dtype)
    check(lambda L, x: L.topk(x, 0), np.array(2.5), dtype=dtype)
    check(lambda L, x: L.topk(x, 2, dim=-1, largest=True, sorted=True), rng.permutation(12).reshape(2, 6))
    # unsorted: the same set
    a, b = cr.topk(cr.tensor(x), 3, sorted=False).values, torch.topk(torch.tensor(x), 3, sorted=False).values
    np.testing.assert_allclose(np.sort(a.numpy(), 1), np.sort(b.numpy(), 1))


def test_topk_ties_and_nan():
    # tie order among equal values is torch's implementation detail: compare values; gradient totals
    for x in (TIES, WITH_NAN):
        for largest in (True, False):
            c = cr.tensor(x, requires_grad=True)
            t = torch.tensor(x, requires_grad=True)
            oc, ot = c.topk(3, largest=largest), t.topk(3, largest=largest)
            assert_close(oc.values, ot.values)
            oc.values.sum().backward()
            ot.values.sum().backward()
            assert_close(c.grad.sum(1), t.grad.sum(1))


def test_topk_gradcheck_and_errors():
    gradcheck(lambda x: x.topk(2, 1).values, distinct(3, 4))
    raises(RuntimeError, lambda L, x: L.topk(x, 5), randn(4))
    raises(RuntimeError, lambda L, x: L.topk(x, -1), randn(4))
    raises(IndexError, lambda L, x: L.topk(x, 1, dim=2), randn(4, 2))


@pytest.mark.parametrize("dtype", FLOATS)
def test_kthvalue(dtype):
    x = distinct(3, 5)
    check(lambda L, x: L.kthvalue(x, 2), x, dtype=dtype)
    check(lambda L, x: x.kthvalue(3, 0, keepdim=True), x, dtype=dtype)
    check(lambda L, x: x.kthvalue(1, dim=-1, keepdim=False), x, dtype=dtype)
    check(lambda L, x: x.kthvalue(1), np.array(1.5), dtype=dtype)
    check(lambda L, x: x.kthvalue(2, 1), np.zeros((0, 3)), dtype=dtype)
    check(lambda L, x: x.kthvalue(4, 1), rng.integers(0, 100, (2, 6)))
    check(lambda L, x: x.kthvalue(4, 1), WITH_NAN)  # nan counts as the largest


def test_kthvalue_errors_gradcheck():
    gradcheck(lambda x: x.kthvalue(2, 0).values, distinct(3, 4))
    raises(RuntimeError, lambda L, x: L.kthvalue(x, 6), randn(2, 5))
    raises(RuntimeError, lambda L, x: L.kthvalue(x, 0), randn(2, 5))
    raises(IndexError, lambda L, x: L.kthvalue(x, 1, 2), randn(2, 5))
    raises(IndexError, lambda L, x: L.kthvalue(x, 1), np.zeros((2, 0)))


@pytest.mark.parametrize("dtype", FLOATS)
def test_median(dtype):
    x = distinct(4, 5)
    check(lambda L, x: L.median(x), x, dtype=dtype)
    check(lambda L, x: x.median(), TIES, dtype=dtype)  # the gradient is shared by the tied entries
    check(lambda L, x: x.median(), WITH_NAN, dtype=dtype)
    check(lambda L, x: x.median(), np.array(3.0), dtype=dtype)
    check(lambda L, x: x.median(), np.zeros((0, 2)), dtype=dtype)
    check(lambda L, x: x.median(1), x, dtype=dtype)
    check(lambda L, x: L.median(x, 0, keepdim=True), x, dtype=dtype)
    check(lambda L, x: x.median(dim=1), WITH_NAN, dtype=dtype)  # nan and the first nan's index
    check(lambda L, x: x.median(0), np.array(3.0), dtype=dtype)
    check(lambda L, x: x.median(1), np.zeros((0, 2)), dtype=dtype)
    check(lambda L, x: x.median(), rng.integers(0, 9, (3, 4)))
    check(lambda L, x: x.median(1), rng.integers(0, 100, (3, 4)))


def test_nanmedian():
    check(lambda L, x: L.nanmedian(x), WITH_NAN)
    check(lambda L, x: x.nanmedian(1), WITH_NAN)
    check(lambda L, x: x.nanmedian(0, keepdim=True), WITH_NAN)
    check(lambda L, x: x.nanmedian(0), np.array([[nan, 1.0], [nan, nan]]))
    check(lambda L, x: x.nanmedian(), np.array([nan, nan]))
    check(lambda L, x: x.nanmedian(), distinct(3, 4))


def test_median_gradcheck_errors():
    gradcheck(lambda x: x.median(), distinct(3, 4))
    gradcheck(lambda x: x.median(1).values, distinct(3, 4))
    gradcheck(lambda x: x.nanmedian(0).values, distinct(3, 4))
    raises(IndexError, lambda L, x: L.median(x, 2), randn(3, 4))
    raises(TypeError, lambda L, x: x.median(keepdim=True), randn(3, 4))
    raises(TypeError, lambda L, x: x.nanmedian(keepdim=True), randn(3, 4))
    raises(IndexError, lambda L, x: L.median(x, 0), np.zeros((0, 2)))


def test_mode():
    x = np.array([[2.0, 2.0, 1.0, 1.0, 3.0], [5.0, 4.0, 4.0, 5.0, 5.0], [1.0, 2.0, 3.0, 4.0, 0.5]])
    for dtype in FLOATS:
        check(lambda L, x: L.mode(x), x, dtype=dtype)
        check(lambda L, x: x.mode(1, keepdim=True), x, dtype=dtype)
        check(lambda L, x: x.mode(0), x, dtype=dtype)
    check(lambda L, x: x.mode(), rng.integers(0, 3, (4, 7)))
    check(lambda L, x: x.mode(0), rng.integers(0, 3, (9, 3)))
    check(lambda L, x: x.mode(), np.array(1.5))
    check(lambda L, x: x.mode(1), np.zeros((0, 3)))
    check(lambda L, x: x.mode(), TIES)
    # (no gradcheck: a central difference at a repeated value breaks the tie; the gradient is compared above)
    raises(IndexError, lambda L, x: L.mode(x, 2), x)
    raises(IndexError, lambda L, x: L.mode(x), np.zeros((2, 0)))


# ---- unique ---------------------------------------------------------------------------------------

def test_unique():
    x = rng.integers(0, 4, (3, 5))
    for kw in ({}, dict(return_inverse=True), dict(return_counts=True),
               dict(sorted=True, return_inverse=True, return_counts=True)):
        check(lambda L, x: L.unique(x, **kw), x)
        check(lambda L, x: x.unique(**kw), np.array([1.0, nan, 0.5, nan, 1.0]), grad=False)
        check(lambda L, x: L.unique(x, dim=0, **kw), np.array([[1, 2], [0, 1], [1, 2]]))
        check(lambda L, x: L.unique(x, dim=1, **kw), np.array([[1, 2, 1], [0, 1, 0]]))
        check(lambda L, x: L.unique(x, **kw), np.zeros((0, 3)), grad=False)
        check(lambda L, x: L.unique(x, **kw), np.array(2.0), grad=False)
    check(lambda L, x: L.unique(x, sorted=False), x)
    check(lambda L, x: L.unique(x, dim=0, return_inverse=True, return_counts=True), np.zeros((0, 3)), grad=False)
    raises(RuntimeError, lambda L, x: L.unique(x, dim=1), np.zeros((0, 3)))
    raises(RuntimeError, lambda L, x: L.unique(x, dim=0), np.zeros((0, 0, 2)))
    check(lambda L, x: L.unique(x, dim=0, return_counts=True), np.zeros((0, 2, 3)), grad=False)
    raises(IndexError, lambda L, x: L.unique(x, dim=2), x)


def test_unique_consecutive():
    x = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    for kw in ({}, dict(return_inverse=True), dict(return_counts=True),
               dict(return_inverse=True, return_counts=True)):
        check(lambda L, x: L.unique_consecutive(x, **kw), x)
        check(lambda L, x: x.unique_consecutive(**kw), x.reshape(2, 4))
        check(lambda L, x: L.unique_consecutive(x, dim=0, **kw), np.array([[1, 2], [1, 2], [0, 1], [1, 2]]))
        check(lambda L, x: L.unique_consecutive(x, dim=1, **kw), np.array([[1, 1, 2], [0, 0, 1]]))
        check(lambda L, x: L.unique_consecutive(x, **kw), np.zeros(0), grad=False)
        check(lambda L, x: L.unique_consecutive(x, **kw), np.array(3.0), grad=False)
    raises(IndexError, lambda L, x: L.unique_consecutive(x, dim=1), x)


# ---- scans ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES)
def test_scans_shapes(dtype, shape):
    x = randn(*shape)
    for d in ([0, -1] if shape else [0]):
        check(lambda L, x: L.cumsum(x, d), x, dtype=dtype)
        check(lambda L, x: x.cumprod(dim=d), x, dtype=dtype)
        check(lambda L, x: L.cummax(x, d), x, dtype=dtype)
        check(lambda L, x: x.cummin(d), x, dtype=dtype)
        check(lambda L, x: L.logcumsumexp(x, d), x, dtype=dtype)


def test_scan_dtypes():
    x = rng.integers(-3, 4, (3, 4)).astype(np.int32)
    check(lambda L, x: L.cumsum(x, 1), x)
    check(lambda L, x: L.cumprod(x, 0), x)
    check(lambda L, x: L.cumsum(x > 0, 1), x)
    check(lambda L, x: x.cumsum(1, dtype=L.float64), x)
    check(lambda L, x: x.cumsum(0, dtype=L.float64), randn(3, 4))
    check(lambda L, x: x.cumprod(0, dtype=L.float32), x)
    check(lambda L, x: L.cummax(x, 1), x)
    check(lambda L, x: L.cummin(x, 0), x)
    raises(NotImplementedError, lambda L, x: L.logcumsumexp(x, 0), x)


def test_cum_extreme_ties_nan():
    for x in (TIES, WITH_NAN, np.array([[nan, 1.0, nan, 0.0], [-0.0, 0.0, -0.0, 1.0]])):
        for d in (0, 1):
            check(lambda L, x: L.cummax(x, d), x)
            check(lambda L, x: L.cummin(x, d), x)
            check(lambda L, x: L.cumsum(x, d), x)


def test_cumprod_zeros_gradient():
    x = np.array([[0.5, -1.5, 2.0, 0.8, 1.2], [1.5, 0.0, -0.7, 2.0, 0.3], [0.0, 1.2, 0.0, 0.9, 2.0],
                  [0.0, 0.0, 0.0, 0.0, 0.0], [2.0, 3.0, 0.0, 1.0, 0.0]])
    for dtype in FLOATS:
        check(lambda L, x: x.cumprod(1), x, dtype=dtype)
        check(lambda L, x: x.cumprod(0), x, dtype=dtype)
    gradcheck(lambda x: x.cumprod(1), x)
    gradcheck(lambda x: x.cumprod(0), x)


def test_logcumsumexp_wide_values():
    x = np.array([[-1000.0, 0.0, 1000.0, -inf], [-inf, -inf, 3.0, 2.0], [50.0, -50.0, 80.0, 79.0]])
    check(lambda L, x: L.logcumsumexp(x, 1), x, dtype=np.float64)
    check(lambda L, x: L.logcumsumexp(x[:, 1:], 1), x, dtype=np.float32)


def test_scans_gradcheck():
    gradcheck(lambda x: x.cumsum(1), randn(3, 4))
    gradcheck(lambda x: x.cumprod(0), randn(3, 4))
    gradcheck(lambda x: x.cummax(1).values, distinct(3, 4))
    gradcheck(lambda x: x.cummin(0).values, distinct(3, 4))
    gradcheck(lambda x: x.logcumsumexp(1), randn(3, 4))


def test_scans_second_derivative():
    def second(L, loss, x):
        x = L.tensor(x, requires_grad=True)
        g, = L.autograd.grad(loss(x), x, create_graph=True)
        (g * g).sum().backward()
        return g, x.grad
    for loss in (lambda x: (x.cumsum(1) ** 3).sum(), lambda x: (x.cumprod(1) ** 2).sum(),
                 lambda x: (x.logcumsumexp(1) ** 2).sum(), lambda x: (x.sort(1).values ** 3).sum(),
                 lambda x: (x.cummax(1).values ** 3).sum()):
        for x in (distinct(3, 4), np.array([[0.5, 0.0, 2.0, -1.0], [0.0, 1.5, 0.0, 2.0]])):
            a, b = second(cr, loss, x), second(torch, loss, x)
            for c, t in zip(a, b):
                assert_close(c, t, tol=dict(rtol=1e-7, atol=1e-9))


def test_inplace_scans():
    for name in ("cumsum_", "cumprod_"):
        x = randn(3, 4)
        c, t = cr.tensor(x), torch.tensor(x)
        getattr(c, name)(1)
        getattr(t, name)(1)
        assert_close(c, t)


def test_scan_errors():
    raises(IndexError, lambda L, x: L.cumsum(x, 2), randn(3, 4))
    raises(IndexError, lambda L, x: L.cumprod(x, -3), randn(3, 4))
    raises(IndexError, lambda L, x: L.cummax(x, 1), randn(3))
    raises(IndexError, lambda L, x: L.logcumsumexp(x, 5), randn(3))
    raises(IndexError, lambda L, x: L.cumsum(x, 1), randn())


# ---- diff -----------------------------------------------------------------------------------------

def test_diff():
    x = randn(3, 5)
    for dtype in FLOATS:
        check(lambda L, x: L.diff(x), x, dtype=dtype)
        check(lambda L, x: x.diff(n=2, dim=0), x, dtype=dtype)
        check(lambda L, x: x.diff(n=3), x, dtype=dtype)
        check(lambda L, x: x.diff(n=0), x, dtype=dtype)
        check(lambda L, x: x.diff(n=7), x, dtype=dtype)
        check(lambda L, x, p, a: L.diff(x, 1, -1, prepend=p, append=a), x, randn(3, 2), randn(3, 1), dtype=dtype)
        check(lambda L, x, p: L.diff(x, 2, 0, p), x, randn(1, 5), dtype=dtype)
    check(lambda L, x: x.diff(), rng.integers(0, 9, (2, 4)))
    check(lambda L, x: (x > 0).diff(), randn(2, 5))
    check(lambda L, x: x.diff(), np.zeros((0,)))
    check(lambda L, x: x.diff(dim=0), np.zeros((1, 3)))
    gradcheck(lambda x: x.diff(2), randn(3, 5))
    raises(RuntimeError, lambda L, x: L.diff(x), randn())
    raises(IndexError, lambda L, x: L.diff(x, dim=2), randn(3, 2))
    raises(RuntimeError, lambda L, x, p: L.diff(x, prepend=p), randn(3, 2), randn(2))


# ---- counting and searching -----------------------------------------------------------------------

def test_count_nonzero_nonzero_argwhere():
    x = rng.integers(-1, 2, (3, 4)).astype(np.float32)
    for d in (None, 0, -1, (0, 1)):
        check(lambda L, x: L.count_nonzero(x, dim=d), x, grad=False)
        check(lambda L, x: x.count_nonzero(d), x.astype(np.int64))
    check(lambda L, x: L.count_nonzero(x), np.array(2.0), grad=False)
    for a in (x, np.zeros((0, 3)), np.array(1.0), np.array(0.0), x > 0, x[0]):
        check(lambda L, x: L.nonzero(x), a, grad=False)
        check(lambda L, x: x.nonzero(as_tuple=True), a, grad=False)
        check(lambda L, x: L.argwhere(x), a, grad=False)
    raises(IndexError, lambda L, x: L.count_nonzero(x, 2), x)


def test_bincount():
    x = np.array([0, 2, 2, 5, 1])
    check(lambda L, x: L.bincount(x), x)
    check(lambda L, x: x.bincount(minlength=8), x)
    check(lambda L, x: x.bincount(minlength=2), np.zeros(0, np.int64))
    for w in (randn(5).astype(np.float32), randn(5), np.arange(5)):
        check(lambda L, x, w: L.bincount(x, weights=w), x, w, dtype=w.dtype, grad=False)
    raises(RuntimeError, lambda L, x: L.bincount(x), np.array([1, -1]))
    raises(RuntimeError, lambda L, x: L.bincount(x), np.array([[1, 2]]))
    raises(RuntimeError, lambda L, x: L.bincount(x), np.array([1.0, 2.0]))


def test_histc_histogram():
    x = randn(20)
    for dtype in FLOATS:
        check(lambda L, x: L.histc(x), x, dtype=dtype, grad=False)
        check(lambda L, x: x.histc(bins=4, min=-1, max=1), x, dtype=dtype, grad=False)
        check(lambda L, x: x.histc(5, min=2, max=2), np.full(3, 2.0), dtype=dtype, grad=False)
        check(lambda L, x: x.histc(3), np.zeros(0), dtype=dtype, grad=False)
        check(lambda L, x: L.histogram(x, 4), x, dtype=dtype, grad=False)
        check(lambda L, x: x.histogram(), x, dtype=dtype, grad=False)
        check(lambda L, x: L.histogram(x, 3, range=(-1.0, 1.0), density=True), x, dtype=dtype, grad=False)
        check(lambda L, x, b: x.histogram(b), x, np.array([-2.0, 0.0, 0.5, 3.0]), dtype=dtype, grad=False)
        check(lambda L, x, w: L.histogram(x, 5, weight=w), x, rng.uniform(0, 1, 20), dtype=dtype, grad=False)
    raises(NotImplementedError, lambda L, x: L.histc(x), np.array([1, 2]))
    raises(RuntimeError, lambda L, x: L.histc(x, 3, min=2, max=1), x)


def test_searchsorted_bucketize():
    seq = np.array([1.0, 3.0, 3.0, 5.0, 7.0])
    v = np.array([[0.0, 3.0, 6.0], [7.0, 8.0, 3.0]])
    for right in (False, True):
        check(lambda L, s, v: L.searchsorted(s, v, right=right), seq, v, grad=False)
        check(lambda L, s, v: L.bucketize(v, s, right=right), seq, v, grad=False)
        check(lambda L, s, v: L.searchsorted(s, v, side="right" if right else "left", out_int32=True), seq, v,
              grad=False)
    check(lambda L, s: L.searchsorted(s, 3.0), seq, grad=False)
    check(lambda L, s: L.bucketize(3.0, s, right=True), seq, grad=False)
    s2 = np.sort(randn(2, 6), 1)
    check(lambda L, s, v: L.searchsorted(s, v), s2, randn(2, 3), grad=False)
    perm = np.array([3, 0, 4, 1, 2])
    check(lambda L, s, p, v: L.searchsorted(s, v, sorter=p), seq[np.argsort(perm)], perm, v, grad=False)
    check(lambda L, s, v: L.searchsorted(s, v), rng.integers(0, 5, 4).cumsum(), rng.integers(0, 20, (3,)))
    raises(RuntimeError, lambda L, s, v: L.searchsorted(s, v), s2, randn(3, 3))
    raises(RuntimeError, lambda L, s, v: L.searchsorted(s, v, right=True, side="left"), seq, v)
    raises(RuntimeError, lambda L, s, v: L.bucketize(v, s), s2, v)


def test_isin():
    e = rng.integers(0, 6, (3, 4))
    t = np.array([1, 3, 5])
    for invert in (False, True):
        check(lambda L, e, t: L.isin(e, t, invert=invert), e, t)
        check(lambda L, e, t: L.isin(e, t, assume_unique=True, invert=invert), e, t)
    check(lambda L, e: L.isin(e, 2), e)
    check(lambda L, t: L.isin(3, t), t)
    check(lambda L, e, t: L.isin(e, t), np.array([1.0, 2.5, nan]), np.array([2.5, nan]), grad=False)


# ---- aminmax, std_mean, var_mean, any/all ---------------------------------------------------------

def test_aminmax():
    for dtype in FLOATS:
        check(lambda L, x: L.aminmax(x), distinct(3, 4), dtype=dtype)
        check(lambda L, x: x.aminmax(dim=1, keepdim=True), TIES, dtype=dtype)
        check(lambda L, x: x.aminmax(dim=0), TIES, dtype=dtype)
        check(lambda L, x: x.aminmax(), np.array(2.0), dtype=dtype)
        check(lambda L, x: x.aminmax(dim=0), np.array(2.0), dtype=dtype)
        check(lambda L, x: x.aminmax(keepdim=True), TIES, dtype=dtype)
        check(lambda L, x: x.aminmax(dim=0), np.zeros((3, 0)), dtype=dtype)
    check(lambda L, x: L.aminmax(x, dim=1), rng.integers(0, 5, (3, 4)))
    gradcheck(lambda x: cr.aminmax(x, dim=1), distinct(3, 4))
    raises(RuntimeError, lambda L, x: L.aminmax(x), np.zeros((0, 3)))
    raises(IndexError, lambda L, x: L.aminmax(x, dim=1), np.zeros((3, 0)))
    raises(IndexError, lambda L, x: L.aminmax(x, dim=2), np.zeros((3, 1)))


def test_std_var_mean():
    x = randn(3, 4)
    for dtype in FLOATS:
        for fn in ("std_mean", "var_mean"):
            check(lambda L, x: getattr(L, fn)(x), x, dtype=dtype)
            check(lambda L, x: getattr(L, fn)(x, 1), x, dtype=dtype)
            check(lambda L, x: getattr(L, fn)(x, (0, 1), unbiased=False, keepdim=True), x, dtype=dtype)
            check(lambda L, x: getattr(L, fn)(x, dim=0, correction=0), x, dtype=dtype)
            check(lambda L, x: getattr(L, fn)(x, dim=1, correction=2, keepdim=True), x, dtype=dtype)
            check(lambda L, x: getattr(L, fn)(x, False), x, dtype=dtype)
            check(lambda L, x: getattr(L, fn)(x, 1, True, True), x, dtype=dtype)
    gradcheck(lambda x: cr.std_mean(x, 1), x)
    gradcheck(lambda x: cr.var_mean(x, 0, correction=0), x)
    raises(IndexError, lambda L, x: L.var_mean(x, 2), x)
    raises(RuntimeError, lambda L, x: L.std_mean(x), rng.integers(0, 3, (2, 2)))


def test_any_all_dims():
    x = rng.integers(0, 2, (2, 3, 4))
    for fn in ("any", "all"):
        for kw in ({}, dict(dim=1), dict(dim=-1, keepdim=True), dict(dim=(0, 2)), dict(dim=(0, 2), keepdim=True)):
            check(lambda L, x: getattr(L, fn)(x, **kw), x)
            check(lambda L, x: getattr(x > 0, fn)(**kw), x)
            check(lambda L, x: getattr(x, fn)(**kw), x.astype(np.float32), grad=False)
        check(lambda L, x: getattr(L, fn)(x), np.zeros((0, 2)), grad=False)
        raises(IndexError, lambda L, x: getattr(L, fn)(x, 3), x)


def test_bool_inputs():
    b = np.array([[True, False, True], [False, False, True]])
    check(lambda L, x: x.sort(1), b)
    check(lambda L, x: x.msort(), b)
    check(lambda L, x: x.mode(1), b)
    check(lambda L, x: x.cumsum(1), b)
    check(lambda L, x: x.cumprod(0), b)
    check(lambda L, x: x.cummax(1), b)
    check(lambda L, x: x.cummin(0), b)
    check(lambda L, x: x.unique_consecutive(return_counts=True), b)
    check(lambda L, x: L.bucketize(x, L.tensor([0, 1])), b)
    raises(RuntimeError, lambda L, x: x.topk(1), b)
    for fn in (lambda L, x: x.median(), lambda L, x: x.median(0), lambda L, x: x.nanmedian(),
               lambda L, x: x.kthvalue(1), lambda L, x: L.bincount(x[0]), lambda L, x: L.histc(x),
               lambda L, x: L.searchsorted(x[0], x), lambda L, x: L.logcumsumexp(x, 0)):
        raises(NotImplementedError, fn, b)


def test_histc_range_errors():
    for x in (np.array([1.0, nan, 2.0]), np.array([1.0, inf, 2.0])):
        raises(RuntimeError, lambda L, x: L.histc(x, 3), x)
    raises(RuntimeError, lambda L, x: L.histc(x, 3, min=0, max=inf), np.array([1.0]))
    raises(RuntimeError, lambda L, x: L.histc(x, 0), np.array([1.0]))
    raises(RuntimeError, lambda L, x: L.unique_consecutive(x, dim=1), np.zeros((0, 3)))


def test_keyword_only_arguments():
    x = randn(2, 3)
    for fn in (lambda L, x: x.nonzero(True), lambda L, x: L.isin(x, x, False, True),
               lambda L, x: L.bucketize(x, x[0].sort().values, False, True), lambda L, x: L.aminmax(x, 0),
               lambda L, x: x.cumsum(0, L.float64), lambda L, x: x.topk(1, dim=None), lambda L, x: x.cumsum(dim=None),
               lambda L, x: L.histogram(x, 3, (0.0, 1.0)), lambda L, x: x.cumsum()):
        raises(TypeError, fn, x)
