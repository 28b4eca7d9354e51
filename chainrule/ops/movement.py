"""Movement primitives (reshape, permute, expand, index, cat, repeat): forward and backward.

The Tensor layer validates shapes, dims and indices and passes normalised arguments here.
"""
from .registry import Op


class Reshape(Op):
    """out = x viewed as ``shape``;  dx = g reshaped back"""
    @staticmethod
    def forward(ctx, xp, x, shape):
        ctx.saved = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g.reshape(ctx.saved),)


class Permute(Op):
    """out = x with axes reordered;  dx = g with the inverse order"""
    @staticmethod
    def forward(ctx, xp, x, dims):
        ctx.saved = dims
        return xp.transpose(x, dims)

    @staticmethod
    def backward(ctx, xp, g, out):
        dims = ctx.saved
        inverse = [0] * len(dims)
        for i, d in enumerate(dims):
            inverse[d] = i
        return (xp.transpose(g, tuple(inverse)),)


class Expand(Op):
    """out = x broadcast to ``shape`` (a view);  dx = g summed back (by the engine's sum_to)"""
    @staticmethod
    def forward(ctx, xp, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g,)


class Index(Op):
    """out = x[key];  dx = zeros with g added at key (repeated positions accumulate)"""
    @staticmethod
    def forward(ctx, xp, x, key, basic):
        ctx.saved = (x.shape, key, basic)
        return x[key]

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, key, basic = ctx.saved
        return (xp.index_grad(shape, key, g, g.dtype, basic),)


class IndexGrad(Op):
    """out = zeros(shape) with g added at key (Index's backward, so it is differentiable too);
    dg = dout[key]"""
    @staticmethod
    def forward(ctx, xp, g, shape, key, basic):
        ctx.saved = key
        return xp.index_grad(shape, key, g, g.dtype, basic)

    @staticmethod
    def backward(ctx, xp, gg, out):
        return (gg[ctx.saved],)


def _put(a, keys, v):
    """a[k0][k1]...[kn] = v: every key but the last is basic indexing, so each step is a view."""
    for k in keys[:-1]:
        a = a[k]
    a[keys[-1]] = v


def _take(a, keys):
    for k in keys:
        a = a[k]
    return a


class IndexPut(Op):
    """out = x with out[keys] = v (a recorded ``x[key] = v``; ``keys`` applied one after the other);
    dx = g with zeros at keys,  dv = g[keys] (summed to v's shape by the engine)"""
    @staticmethod
    def forward(ctx, xp, x, v, keys):
        out = x.copy()
        _put(out, keys, v)
        kept = None
        if ctx.needs and ctx.needs[0]:
            kept = xp.ones(x.shape, dtype=bool)
            _put(kept, keys, False)
        ctx.saved = (keys, kept)
        return out

    @staticmethod
    def backward(ctx, xp, g, out):
        keys, kept = ctx.saved
        return (g * kept if ctx.needs[0] else None), (_take(g, keys) if ctx.needs[1] else None)


class Cat(Op):
    """out = inputs joined along ``axis``;  d(input i) = g's slice of input i"""
    @staticmethod
    def forward(ctx, xp, *arrays, axis):
        ctx.saved = (axis, [a.shape[axis] for a in arrays])
        return xp.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, xp, g, out):
        axis, sizes = ctx.saved
        grads = []
        start = 0
        lead = (slice(None),) * axis
        for need, n in zip(ctx.needs, sizes):
            grads.append(g[lead + (slice(start, start + n),)] if need else None)
            start += n
        return grads


class Repeat(Op):
    """out = x tiled ``reps`` times per axis;  dx = g summed over the copies"""
    @staticmethod
    def forward(ctx, xp, x, reps):
        x = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
        ctx.saved = (x.shape, reps)
        return xp.tile(x, reps)

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, reps = ctx.saved
        split = []
        for r, n in zip(reps, shape):
            split += [r, n]
        g = xp.sum(g.reshape(tuple(split)), axis=tuple(range(0, 2 * len(reps), 2)))
        return (g,)
