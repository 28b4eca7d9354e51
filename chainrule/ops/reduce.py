"""Reductions: forward and backward side by side.

``axes`` is a normalised tuple of non-negative axes (None = all); the Tensor layer validates dims.
Backward re-inserts reduced axes (``_expand_reduced``) and broadcasts.
"""
from .registry import Op


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
    def forward(ctx, xp, x, axes=None, keepdim=False):
        out = xp.mean(x, axis=axes, keepdims=keepdim)
        ctx.saved = (x.shape, axes, keepdim, (x.size // out.size) if out.size else 1)
        return out

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, axes, keepdim, n = ctx.saved
        return (xp.broadcast_to(_expand_reduced(xp, g, shape, axes, keepdim) / n, shape),)


class Prod(Op):
    """out = product over axes;  dx = g * (product of the other entries)"""
    save_args = True
    save_out = True

    @staticmethod
    def forward(ctx, xp, x, axes=None, keepdim=False):
        ctx.saved = (axes, keepdim)
        return xp.prod(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        axes, keepdim = ctx.saved
        g = _expand_reduced(xp, g, x.shape, axes, keepdim)
        out = _expand_reduced(xp, out, x.shape, axes, keepdim)
        zero = x == 0
        if not bool(zero.any()):
            return (g * out / x,)
        # With zeros, d out / d x_j = product of the other entries. ``nonzero`` is the product of a
        # slice's non-zero entries; ``zsum`` (the sum of its zero entries) is 0 but is written
        # into the rule so that under create_graph the second derivatives are right too.
        ones_at_zero = xp.where(zero, 1.0, x)
        nonzero = xp.prod(ones_at_zero, axis=axes, keepdims=True)
        nzeros = xp.sum(zero, axis=axes, keepdims=True)
        zsum = xp.sum(xp.where(zero, x, 0.0), axis=axes, keepdims=True)
        one, two = nzeros == 1, nzeros == 2
        at_zero = xp.where(one, nonzero, xp.where(two, nonzero * (zsum - x), 0.0))
        at_other = nonzero / ones_at_zero * xp.where(one, zsum, xp.where(nzeros == 0, 1.0, 0.0))
        return (g * xp.where(zero, at_zero, at_other),)


class Amax(Op):
    """out = max over axes;  dx = g shared evenly among the entries equal to the max"""
    save_args = True
    save_out = True

    @staticmethod
    def forward(ctx, xp, x, axes=None, keepdim=False, minimum=False):
        ctx.saved = (axes, keepdim)
        return (xp.amin if minimum else xp.amax)(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        axes, keepdim = ctx.saved
        g = _expand_reduced(xp, g, x.shape, axes, keepdim)
        hit = x == _expand_reduced(xp, out, x.shape, axes, keepdim)
        count = xp.sum(hit, axis=axes, keepdims=True)
        return (xp.where(hit, g / count, 0.0),)


class MaxDim(Op):
    """values of max/min along one axis (indices kept);  dx = g at the selected index only"""
    @staticmethod
    def forward(ctx, xp, x, axis, keepdim=False, minimum=False):
        idx = (xp.argmin if minimum else xp.argmax)(x, axis=axis, keepdims=True)
        ctx.saved = (x.shape, axis, keepdim, idx)
        vals = xp.take_along_axis(x, idx, axis=axis)
        return vals if keepdim else vals.squeeze(axis)

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, axis, keepdim, idx = ctx.saved
        if not keepdim:
            g = xp.expand_dims(g, axis)
        return (xp.put_along_axis_grad(shape, idx, g, axis),)


class LogSumExp(Op):
    """out = log sum exp x (shifted by the max, so no overflow);  dx = g exp(x - out)"""
    save_args = True
    save_out = True

    @staticmethod
    def forward(ctx, xp, x, axes=None, keepdim=False):
        ctx.saved = (axes, keepdim)
        m = xp.amax(x, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        if not keepdim:
            out = out.reshape(_reduced_shape(x.shape, axes))
        return out

    @staticmethod
    def backward(ctx, xp, g, out, x):
        axes, keepdim = ctx.saved
        g = _expand_reduced(xp, g, x.shape, axes, keepdim)
        out = _expand_reduced(xp, out, x.shape, axes, keepdim)
        return (g * xp.exp(x - out),)


def _reduced_shape(shape, axes):
    if axes is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axes)


class Softmax(Op):
    """out = exp(x - max) / sum;  dx = out (g - sum(g out))"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x, axis):
        ctx.saved = axis
        e = xp.exp(x - xp.amax(x, axis=axis, keepdims=True))
        e /= xp.sum(e, axis=axis, keepdims=True)
        return e

    @staticmethod
    def backward(ctx, xp, g, out):
        axis = ctx.saved
        return (out * (g - xp.sum(g * out, axis=axis, keepdims=True)),)


class LogSoftmax(Op):
    """out = x - logsumexp(x);  dx = g - exp(out) sum(g)"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x, axis):
        ctx.saved = axis
        shifted = x - xp.amax(x, axis=axis, keepdims=True)
        shifted -= xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
        return shifted

    @staticmethod
    def backward(ctx, xp, g, out):
        axis = ctx.saved
        return (g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True),)
