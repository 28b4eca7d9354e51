"""Reductions: forward, backward and public entry side by side.

``call`` validates dims and hands ``axes`` on as a normalised tuple of non-negative axes
(None = all). Backward re-inserts reduced axes (``_expand_reduced``) and broadcasts.
"""
import numpy as np

from .. import dtypes as _dt
from .args import dim as _dim, dims as _dims, float_needed, float_only, nonempty, reduce_axes
from . import registry
from .registry import Op, apply
from .rnn import seq_kernels


def _expand_reduced(xp, g, shape, axes, keepdim):
    """Reshape g so it broadcasts against an input of ``shape`` reduced over ``axes``."""
    if axes is None:
        return g.reshape((1,) * len(shape))
    if keepdim:
        return g
    kept = list(g.shape)
    for a in sorted(axes):
        kept.insert(a, 1)
    return g.reshape(tuple(kept))


class Sum(Op):
    """out = sum of x over axes;  dx = g broadcast back over the reduced axes"""
    @staticmethod
    def call(input, dim=None, keepdim=False, dtype=None):
        t = input if dtype is None else input.to(dtype)
        if t._data.dtype.kind in "biu":  # bool and integer sums are int64, as torch
            t = t.to(_dt.int64)
        return apply(Sum, t, axes=reduce_axes(dim, t._data.ndim, "sum"), keepdim=keepdim)

    @staticmethod
    def forward(ctx, xp, x, axes=None, keepdim=False):
        ctx.saved = (x.shape, axes, keepdim)
        return xp.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, axes, keepdim = ctx.saved
        return (xp.broadcast_to(_expand_reduced(xp, g, shape, axes, keepdim), shape),)


class Mean(Op):
    """out = mean of x over axes;  dx = g / n broadcast back"""
    @staticmethod
    def call(input, dim=None, keepdim=False, dtype=None):
        t = input if dtype is None else input.to(dtype)
        if t._data.dtype.kind != "f":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                               f"floating point or complex dtype. Got: {t.dtype}")
        return apply(Mean, t, axes=reduce_axes(dim, t._data.ndim, "mean"), keepdim=keepdim)

    @staticmethod
    def forward(ctx, xp, x, axes=None, keepdim=False):
        # empty: 0/0 = nan, without NumPy's "Mean of empty slice" warning (torch prints none)
        out = xp.mean(x, axis=axes, keepdims=keepdim) if x.size else xp.sum(x, axis=axes, keepdims=keepdim) / 0
        ctx.saved = (x.shape, axes, keepdim, (x.size // out.size) if out.size else 1)
        return out

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, axes, keepdim, n = ctx.saved
        return (xp.broadcast_to(_expand_reduced(xp, g, shape, axes, keepdim) / n, shape),)


def _others_product(xp, x, axes):
    """Each entry's product of the others in its slice (axes: None or one axis), as torch's prod backward
    with zeros: exclusive cumprods from both ends (on arrays accumulated as torch's CPU cumprod, float32 in
    float64; under create_graph the same rule on Tensors, so second derivatives at zeros are exact)."""
    a = x.reshape(-1) if axes is None else xp.moveaxis(x, axes[0], 0)
    ones = xp.ones_like(a[:1])
    acc = None if isinstance(x, registry.Tensor) else (np.float64 if x.dtype.itemsize >= 4 else np.float32)

    def exclusive(v):
        c = xp.cumprod(xp.concatenate([ones, v[:-1]]), axis=0, dtype=acc)
        return c if acc is None else c.astype(x.dtype)
    both = exclusive(a) * xp.flip(exclusive(xp.flip(a, 0)), 0)
    return both.reshape(x.shape) if axes is None else xp.moveaxis(both, 0, axes[0])


class Prod(Op):
    """out = product over axes;  dx = g * (product of the other entries)"""
    save_args = True
    save_out = True

    @staticmethod
    def call(input, dim=None, keepdim=False):
        t = input.to(_dt.int64) if input._data.dtype.kind in "biu" else input
        if dim is not None and not isinstance(dim, int):
            raise TypeError("prod(): argument 'dim' must be int")
        return apply(Prod, t, axes=reduce_axes(dim, t._data.ndim, "prod"), keepdim=keepdim)

    @staticmethod
    def forward(ctx, xp, x, axes=None, keepdim=False):
        ctx.saved = (axes, keepdim)
        return xp.prod(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        axes, keepdim = ctx.saved
        if x.ndim == 0:  # the product of one number is itself: g, even at nan or inf (as torch)
            return (g,)
        g = _expand_reduced(xp, g, x.shape, axes, keepdim)
        out = _expand_reduced(xp, out, x.shape, axes, keepdim)
        zero = x == 0
        if not bool(zero.any()):
            return (g * (out / x),)  # not (g out) / x: that overflows first
        return (g * _others_product(xp, x, axes),)   # torch's way: exact zeros where the others overflow


class Amax(Op):
    """out = max over axes;  dx = g / count at the count entries equal to the max  (as torch: nan over a
    slice whose max is nan; with evenly, for max() and the inf norm, its nans are the max and share g)"""
    save_args = True
    save_out = True
    pick = "amax"

    @classmethod
    def forward(cls, ctx, xp, x, axes=None, keepdim=False, evenly=False):
        ctx.saved = (axes, keepdim, evenly)
        return getattr(xp, cls.pick)(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        axes, keepdim, evenly = ctx.saved
        g = _expand_reduced(xp, g, x.shape, axes, keepdim)
        hit = x == _expand_reduced(xp, out, x.shape, axes, keepdim)
        if evenly:  # max()/min() and the inf norm, as torch: the nans (if any) are the max and share g
            hit = hit | (x != x)
        count = xp.sum(hit, axis=axes, keepdims=True)
        return (xp.where(hit, g / count, 0.0) if evenly else g / count * hit,)


class Amin(Amax):
    """out = min over axes;  dx = g / count at the count entries equal to the min"""
    pick = "amin"


def _extreme_call(op):
    """amax/amin(input, dim=(), keepdim=False): dim () or None reduces everything, as torch."""
    def call(input, dim=(), keepdim=False):
        axes = reduce_axes(dim, input._data.ndim, op.pick)
        if not input._data.size:
            nonempty(input._data.shape, axes, op.pick)
        return apply(op, input, axes=axes, keepdim=keepdim)
    return staticmethod(call)


Amax.call, Amin.call = _extreme_call(Amax), _extreme_call(Amin)


class MaxDim(Op):
    """values of max along one axis (indices kept);  dx = g at the selected index only"""
    pick = "argmax"

    @classmethod
    def forward(cls, ctx, xp, x, axis, keepdim=False):
        idx = getattr(xp, cls.pick)(x, axis=axis, keepdims=True)
        ctx.saved = (x.shape, axis, keepdim, idx)
        vals = xp.take_along_axis(x, idx, axis=axis)
        return vals if keepdim else vals.squeeze(axis)

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, axis, keepdim, idx = ctx.saved
        if not keepdim:
            g = xp.expand_dims(g, axis)
        return (xp.put_along_axis_grad(shape, idx, g, axis),)


class MinDim(MaxDim):
    """values of min along one axis (indices kept);  dx = g at the selected index only"""
    pick = "argmin"


class LogSumExp(Op):
    """out = log sum exp x (shifted by the max, so no overflow);  dx = g exp(x - out)"""
    save_args = True
    save_out = True

    @staticmethod
    def call(input, dim, keepdim=False):
        t = float_needed(input, "logsumexp")
        return apply(LogSumExp, t, axes=_dims(dim, t._data.ndim, "logsumexp"), keepdim=keepdim)

    @staticmethod
    def forward(ctx, xp, x, axes=None, keepdim=False):
        ctx.saved = (axes, keepdim)
        if not x.size:  # the log of an empty sum (0): -inf, as torch
            return xp.sum(x, axis=axes, keepdims=keepdim) - xp.inf
        m = xp.amax(x, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=keepdim))
        return out + (m if keepdim else xp.squeeze(m, axis=axes))

    @staticmethod
    def backward(ctx, xp, g, out, x):
        axes, keepdim = ctx.saved
        g = _expand_reduced(xp, g, x.shape, axes, keepdim)
        out = _expand_reduced(xp, out, x.shape, axes, keepdim)
        return (g * xp.exp(x - out),)


def _along_dim(op, name):
    """softmax/log_softmax(input, dim, dtype=None): float input only, as torch."""
    def call(input, dim, dtype=None):
        t = float_only(input if dtype is None else input.to(dtype), name)
        return apply(op, t, axis=_dim(dim, t._data.ndim, name))
    return staticmethod(call)


class Softmax(Op):
    """out = exp(x - max) / sum;  dx = out (g - sum(g out))"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x, axis, causal=False):
        ctx.saved = axis
        if axis == x.ndim - 1 and (k := seq_kernels(x)):   # one fused pass on all cores (numba)
            return k.softmax(x, causal)
        if causal:   # attention's is_causal (not public): row r of each last-two-dims matrix sees columns <= r
            x = xp.where(xp.tri(*x.shape[-2:], dtype=bool), x, -xp.inf)
        if not x.size:  # nothing to normalise (and amax has no identity)
            return x.copy()
        e = xp.exp(x - xp.amax(x, axis=axis, keepdims=True))
        e /= xp.sum(e, axis=axis, keepdims=True)
        return e

    @staticmethod
    def backward(ctx, xp, g, out):
        axis = ctx.saved
        if axis == out.ndim - 1 and (k := seq_kernels(out)):
            return (k.softmax_backward(g, out),)
        return (out * (g - xp.sum(g * out, axis=axis, keepdims=True)),)


class LogSoftmax(Op):
    """out = x - logsumexp(x);  dx = g - exp(out) sum(g)"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x, axis):
        ctx.saved = axis
        if not x.size:
            return x.copy()
        shifted = x - xp.amax(x, axis=axis, keepdims=True)
        shifted -= xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
        return shifted

    @staticmethod
    def backward(ctx, xp, g, out):
        axis = ctx.saved
        return (g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True),)


Softmax.call = _along_dim(Softmax, "softmax")
LogSoftmax.call = _along_dim(LogSoftmax, "log_softmax")
