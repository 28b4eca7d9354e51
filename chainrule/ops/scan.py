"""Sorting and scans along one axis: forward, backward and public entry side by side.

The sort-kind ops (sort, topk, kthvalue, median, mode, msort) are one primitive, ``Sort``: the
indices are found outside the graph (``chainrule.tensor.scan``, torch's tie order) and the values
picked at them. Scans are cumsum/cumprod/cummax/cummin/logcumsumexp; a backward that is itself a
scan calls the op again (``_scan``), so under create_graph it records that op and differentiates
twice. ``axis`` is a normalised non-negative axis.
"""
import numpy as np

from .. import dtypes as _dt
from ..backend import namespace
from .args import dim as _dim, is_tensor
from .registry import NO_CTX, Op, apply


def _scan(op, xp, a, **params):
    """``op`` on an array (a backward on arrays) or on a Tensor (a backward under create_graph)."""
    return apply(op, a, **params) if is_tensor(a) else op.forward(NO_CTX, xp, a, **params)


def _flip(xp, a, axis):
    return a[(slice(None),) * axis + (slice(None, None, -1),)]


def _cum(xp, name, a, axis):
    """cumsum/cumprod along axis; float32 (and half) accumulate in float64, as torch's CPU kernels."""
    if a.dtype.kind == "f" and a.dtype.itemsize < 8:
        return getattr(xp, name)(a, axis=axis, dtype=np.float64).astype(a.dtype)
    return getattr(xp, name)(a, axis=axis)


def accumulate(xp, name, x, axis):
    """``xp.<name>.accumulate(x, axis)`` (maximum, minimum, logaddexp), looped along the axis where
    the namespace's ufunc has no accumulate (CuPy)."""
    fn = getattr(xp, name)
    if hasattr(fn, "accumulate"):
        try:
            return fn.accumulate(x, axis=axis)
        except (NotImplementedError, TypeError):
            pass
    out = xp.moveaxis(x, axis, 0).copy()
    for i in range(1, out.shape[0]):
        out[i] = fn(out[i - 1], out[i])
    return xp.moveaxis(out, 0, axis)


def scatter_along(xp, shape, idx, g, axis):
    """Zeros of ``shape`` with g added at ``idx`` along ``axis`` (positions may repeat)."""
    key = list(namespace(idx).ogrid[tuple(slice(n) for n in idx.shape)])
    key[axis] = idx
    return xp.index_grad(shape, tuple(key), g, g.dtype, False)


class Sort(Op):
    """out = x picked at idx along axis (idx: the sort order or part of it: sort, topk, kthvalue,
    median, mode);  dx = g put back at idx (no index repeats within a slice)"""
    order_from_values = True

    @staticmethod
    def forward(ctx, xp, x, axis, idx, keepdim=True):
        ctx.saved = (x.shape, axis, idx, keepdim)
        out = xp.take_along_axis(x, idx, axis=axis) if x.ndim else x.copy()
        return out if keepdim else out.squeeze(axis)

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, axis, idx, keepdim = ctx.saved
        if not shape:
            return (g.reshape(()),)
        return (xp.put_along_axis_grad(shape, idx, g if keepdim else xp.expand_dims(g, axis), axis),)


class Cumsum(Op):
    """out_i = sum_{j<=i} x_j (reverse: j>=i) along axis;  dx = the reversed cumsum of g"""
    @staticmethod
    def call(input, dim, *, dtype=None):
        """Cumulative sum along ``dim``: out[i] = x[0] + ... + x[i], as ``torch.cumsum``; integer and bool
        inputs give int64 unless ``dtype`` is given."""
        t = input if dtype is None else input.to(dtype)
        if dtype is None and t._data.dtype.kind in "biu":  # integer and bool sums are int64, as torch
            t = t.to(_dt.int64)
        return apply(Cumsum, t, axis=_dim(dim, t._data.ndim, "cumsum"))

    @staticmethod
    def forward(ctx, xp, x, axis, reverse=False):
        ctx.saved = (axis, reverse)
        if not x.ndim:
            return x.copy()
        return _flip(xp, _cum(xp, "cumsum", _flip(xp, x, axis), axis), axis) if reverse else _cum(xp, "cumsum", x, axis)

    @staticmethod
    def backward(ctx, xp, g, out):
        axis, reverse = ctx.saved
        return (_scan(Cumsum, xp, g, axis=axis, reverse=not reverse),)


class Cumprod(Op):
    """out_i = prod_{j<=i} x_j along axis;  dx_i = sum_{j>=i} g_j out_j / x_i, and with zeros:
    before the first zero as that, at it sum_{j>=z} g_j prod_{k<=j, k!=z} x_k, after it 0"""
    save_args = True
    save_out = True

    @staticmethod
    def call(input, dim, *, dtype=None):
        """Cumulative product along ``dim``: out[i] = x[0] ... x[i], as ``torch.cumprod``; integer and bool
        inputs give int64 unless ``dtype`` is given."""
        t = input if dtype is None else input.to(dtype)
        if dtype is None and t._data.dtype.kind in "biu":
            t = t.to(_dt.int64)
        return apply(Cumprod, t, axis=_dim(dim, t._data.ndim, "cumprod"))

    @staticmethod
    def forward(ctx, xp, x, axis):
        ctx.saved = axis
        return _cum(xp, "cumprod", x, axis) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx, xp, g, out, x):
        axis = ctx.saved
        if not x.ndim or x.shape[axis] == 1:  # out = x: g (no g out / x to overflow or divide by 0), as torch
            return (g,)
        zero = x == 0
        if not bool(zero.any()):
            return (_scan(Cumsum, xp, g * out, axis=axis, reverse=True) / x,)
        if is_tensor(x):  # create_graph: sum over j >= i of g_j prod_{k<=j, k!=i} x_k term by term (O(n^2), as
            return (_omitted(xp, g, x, axis),)  # torch), so that the second derivatives at the zeros are right
        # torch's O(n) rule (arrays only: its own derivative is not cumprod's second derivative)
        seen = xp.cumsum(zero, axis=axis)  # zeros at or before each position
        before, upto = seen == 0, seen == 1  # [0, z1) and [z1, z2)
        grad = xp.where(before, Cumsum.forward(NO_CTX, xp, xp.where(before, g * out, 0.0), axis, True)
                        / xp.where(before, x, 1.0), 0.0)
        z = xp.argmax(upto, axis=axis, keepdims=True)
        pos = xp.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        first = (pos == z) & upto
        # at z1: sum_{z1<=j<z2} g_j prod_{k<=j, k!=z1} x_k = out_{z1-1} sum_j g_j prod_{z1<k<=j} x_k
        after = _cum(xp, "cumprod", xp.where(upto & ~first, x, 1.0), axis)
        total = xp.sum(after * xp.where(upto, g, 0.0), axis=axis, keepdims=True)
        lead = xp.where(z == 0, 1.0, xp.take_along_axis(out, xp.maximum(z - 1, 0), axis=axis))
        return (xp.where(first, total * lead, grad),)


def _omitted(xp, g, x, axis):
    """dx_i = sum_{j>=i} g_j prod_{k<=j, k!=i} x_k, one i at a time, in differentiable Tensor ops."""
    n = x.shape[axis]
    pos = namespace(x._data).arange(n).reshape((n,) + (1,) * (x.ndim - axis - 1))
    grad = 0.0
    for i in range(n):
        others = _scan(Cumprod, xp, xp.where(pos == i, 1.0, x), axis=axis)
        grad = grad + xp.where(pos == i, xp.sum(xp.where(pos >= i, g * others, 0.0), axis=axis, keepdims=True), 0.0)
    return grad


class CumMax(Op):
    """out_i = x at the running argmax idx_i along axis (the latest of ties; nan wins);  dx = g
    added up at idx"""
    order_from_values = True

    @staticmethod
    def forward(ctx, xp, x, axis, idx):
        ctx.saved = (x.shape, axis, idx)
        return xp.take_along_axis(x, idx, axis=axis) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, axis, idx = ctx.saved
        return (scatter_along(xp, shape, idx, g, axis) if shape else g,)


class CumMin(CumMax):
    """out_i = x at the running argmin idx_i along axis (the latest of ties; nan wins);  dx = g
    added up at idx"""


class LogCumSumExp(Op):
    """out_i = log sum_{j<=i} exp x_j (reverse: j>=i) along axis;  dx_i = sum_{j>=i} g_j exp(x_i - out_j),
    summed as logcumsumexps of log|g| over g's positive and negative parts (no overflow)"""
    save_args = True
    save_out = True

    @staticmethod
    def call(input, dim):
        """log(cumsum(exp(x))) along ``dim``, computed stably, as ``torch.logcumsumexp``."""
        if input._data.dtype.kind != "f":
            raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for {input.dtype} tensors')
        t = input
        return apply(LogCumSumExp, t, axis=_dim(dim, t._data.ndim, "logcumsumexp"))

    @staticmethod
    def forward(ctx, xp, x, axis, reverse=False):
        ctx.saved = (axis, reverse)
        if not x.ndim or not x.size:
            return x.copy()
        if reverse:
            return _flip(xp, accumulate(xp, "logaddexp", _flip(xp, x, axis), axis), axis)
        return accumulate(xp, "logaddexp", x, axis)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        axis, reverse = ctx.saved
        if not x.ndim:
            return (g,)
        lowest = float(np.finfo(getattr(out, "_data", out).dtype).min)
        log_abs = xp.log(xp.abs(g))
        pos = xp.where(g > 0, log_abs, lowest) - out
        neg = xp.where(g < 0, log_abs, lowest) - out
        back = not reverse
        return (xp.exp(_scan(LogCumSumExp, xp, pos, axis=axis, reverse=back) + x)
                - xp.exp(_scan(LogCumSumExp, xp, neg, axis=axis, reverse=back) + x),)
