"""Movement primitives (reshape, permute, expand, index, cat, repeat): forward, backward and
public entry side by side. ``call`` validates shapes, dims and indices and passes normalised
arguments on.
"""
import weakref

import numpy as np

from .. import dtypes as _dt
from .args import dim as _dim, dims as _dims, is_tensor, on_device_of, same_device, shape_args, size_args
from ..autograd.grad_mode import state as _grad_state
from ..backend import namespace
from .registry import NO_CTX, Op, apply


class Reshape(Op):
    """out = x viewed as ``shape``;  dx = g reshaped back"""
    @staticmethod
    def call(input, *shape):
        if not shape:
            raise TypeError('reshape() missing 1 required positional arguments: "shape"')
        shape = _infer_shape(shape_args(shape), input._data.size, input._data.shape, "reshape")
        if shape == input._data.shape:
            return input
        return as_view(apply(Reshape, input, shape=shape), input, Reshape, dict(shape=shape))

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
    def call(input, *dims):
        if not dims:
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        nd = input._data.ndim
        if len(dims) != nd:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                               f"match the length of the desired ordering of dimensions i.e. input.dim() "
                               f"= {nd} is not equal to len(dims) = {len(dims)}")
        dims = _dims(tuple(dims), nd, "permute")
        return as_view(apply(Permute, input, dims=dims), input, Permute, dict(dims=dims))

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
    def call(input, *sizes):
        if not sizes:
            raise TypeError('expand() missing 1 required positional arguments: "size"')
        sizes = shape_args(sizes)
        shp = input._data.shape
        if len(sizes) < len(shp):
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
                               f"equal to the number of dimensions in the tensor ({len(shp)})")
        lead = len(sizes) - len(shp)
        target = []
        for i, s in enumerate(sizes):
            cur = shp[i - lead] if i >= lead else None
            if s == -1:
                if cur is None:
                    raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension {i}")
                s = cur
            elif cur is not None and cur != s and cur != 1:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                                   f"({cur}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                                   f"Tensor sizes: {list(shp)}")
            target.append(s)
        target = tuple(target)
        if target == shp:
            return input
        return as_view(apply(Expand, input, shape=target), input, Expand, dict(shape=target))

    @staticmethod
    def forward(ctx, xp, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g,)


class Index(Op):
    """out = x[key];  dx = zeros with g added at key (repeated positions accumulate)"""
    @staticmethod
    def call(input, key):
        key, basic = index_key(input, key)
        keys = torch_order(key, basic)
        if len(keys) == 2:
            return apply(Index, apply(Index, input, key=keys[0], basic=True), key=keys[1], basic=False)
        out = apply(Index, input, key=key, basic=basic)
        return as_view(out, input, Index, dict(key=key, basic=True)) if basic else out

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


# ---- views: a path of view steps ((op, params), ...) from a base to a region of it ----------------

def take_along(a, path):
    """``a`` (an array or a Tensor) seen through ``path``: a view of it where the steps are views."""
    for op, params in path:
        a = apply(op, a, **params) if is_tensor(a) else op.forward(NO_CTX, namespace(a), a, **params)
    return a


def put_along(a, path, v):
    """Write ``v`` into the region of array ``a`` that ``path`` leads to (the last step may be an
    advanced index: ``region[key] = v`` writes through it)."""
    op, params = path[-1]
    region = take_along(a, path[:-1])
    if op is Index:
        region[params["key"]] = v
    else:
        take_along(region, path[-1:])[...] = v


def index_path(keys, basic):
    """setitem's keys (``torch_order``) as a path: all basic steps but perhaps the last."""
    return tuple((Index, dict(key=k, basic=basic if len(keys) == 1 else i == 0)) for i, k in enumerate(keys))


def as_view(out, input, op, params):
    """Record that ``out`` shares ``input``'s memory (a view): an in-place write through either must
    reach the other, values and history (``tensor.inplace.store``). Views know their root base and
    the path from it; the root keeps weak references to its live views. Only in grad mode."""
    if not _grad_state.enabled or out is input or not namespace(out._data).may_share_memory(out._data, input._data):
        return out
    meta = input._meta
    root, path = (meta and meta.get("view_of")) or (input, ())
    out._meta = {"view_of": (root, path + ((op, params),))}
    if root._meta is None:
        root._meta = {}
    views = root._meta.get("views")
    if views is None:
        views = root._meta["views"] = weakref.WeakSet()
    views.add(out)
    return out


class IndexPut(Op):
    """out = x with the region ``path`` leads to replaced by v (``x[key] = v``, and an in-place write
    through a view, torch's CopySlices);  dx = g with zeros in the region,  dv = g's region"""
    @staticmethod
    def forward(ctx, xp, x, v, path):
        out = x.copy()
        put_along(out, path, v)
        kept = None
        if ctx.needs and ctx.needs[0]:
            kept = xp.ones(x.shape, dtype=bool)
            put_along(kept, path, False)
        ctx.saved = (path, kept)
        return out

    @staticmethod
    def backward(ctx, xp, g, out):
        path, kept = ctx.saved
        return (g * kept if ctx.needs[0] else None), (take_along(g, path) if ctx.needs[1] else None)


class Cat(Op):
    """out = inputs joined along ``axis`` (stacked along a new one: ``new_axis``);  d(input i) = g's slice of input i"""
    @staticmethod
    def call(tensors, dim=0):
        tensors = list(tensors)
        if not tensors:
            raise ValueError("cat(): expected a non-empty list of Tensors")
        for i, t in enumerate(tensors):
            if not is_tensor(t):
                raise TypeError(f"cat(): expected a sequence of Tensors, but got {type(t).__name__}")
            if t._data.ndim == 0:
                raise RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated")
        # as torch, legacy empty 1-D tensors (shape (0,)) are skipped: they fix no dims, need not match
        kept = [t for t in tensors if t._data.shape != (0,)]
        ref = kept[0] if kept else tensors[0]
        nd = ref._data.ndim
        d = _dim(dim, nd, "cat") if kept else 0
        res = ref.dtype
        for i, t in enumerate(tensors):
            res = _dt.promote(res, t.dtype)
            if t._data.shape == (0,):
                continue
            if t._data.ndim != nd:
                raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got {nd} and {t._data.ndim}")
            for ax in range(nd):
                if ax != d and t._data.shape[ax] != ref._data.shape[ax]:
                    raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}. Expected "
                                       f"size {ref._data.shape[ax]} but got size {t._data.shape[ax]} for tensor "
                                       f"number {i} in the list.")
            same_device(ref, t, "cat")
        empty = ref._data.shape[:d] + (0,) + ref._data.shape[d + 1:]  # a skipped one joins as a 0-wide slice
        tensors = [Reshape.call(t, empty) if t._data.shape == (0,) else t for t in tensors]
        return apply(Cat, *[t if t._data.dtype == res.np else t.to(res) for t in tensors], axis=d)

    @staticmethod
    def forward(ctx, xp, *arrays, axis, new_axis=False):
        ctx.saved = (axis, [None if new_axis else a.shape[axis] for a in arrays])  # None: one index, no slice
        return xp.stack(arrays, axis) if new_axis else xp.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, xp, g, out):
        axis, sizes = ctx.saved
        grads = []
        start = 0
        lead = (slice(None),) * axis
        for need, n in zip(ctx.needs, sizes):
            grads.append(g[lead + ((start,) if n is None else (slice(start, start + n),))] if need else None)
            start += 1 if n is None else n
        return grads


class Repeat(Op):
    """out = x tiled ``reps`` times per axis;  dx = g summed over the copies"""
    @staticmethod
    def call(input, *sizes):
        reps = size_args(sizes, "repeat")
        if len(reps) < input._data.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                               "dimensions of tensor")
        return apply(Repeat, input, reps=reps)

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


# ---- argument checks shared by the entries above ---------------------------------------------

def _infer_shape(shape, size, old, op):
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or size % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        if s < 0:
            raise RuntimeError(f"{op}: invalid shape dimension {s}")
        n *= s
    if n != size:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {size} "
                           f"(input shape {list(old)})")
    return shape


def index_key(t, key):
    """Validate an index and convert it for the array: (key, basic?)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    dim = 0
    nd = t._data.ndim
    n_specified = sum(1 for k in key if k is not None and k is not Ellipsis and not isinstance(k, bool)
                      and not (is_tensor(k) and k._data.dtype == np.bool_)) + sum(
        k._data.ndim for k in key if is_tensor(k) and k._data.dtype == np.bool_)
    if n_specified > nd:
        raise IndexError(f"index: too many indices for tensor of dimension {nd}")
    for k in key:
        if k is None:
            out.append(None)
            continue
        if k is Ellipsis:
            out.append(k)
            dim = nd - (n_specified - dim)
            continue
        if isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("index: step must be greater than zero")
            out.append(k)
            dim += 1
            continue
        if isinstance(k, bool):  # as torch and NumPy: a 0-d mask, a new dim of size 1 (True) or 0 (False)
            k = np.array(k)
        if is_tensor(k) and k._data.ndim == 0 and k._data.dtype.kind in "iu" and k._data.dtype != np.uint8:
            k = int(k._data)  # as torch, a 0-d integer index tensor is an int (a select), wherever it stands
        if isinstance(k, (int, np.integer)):
            size = t._data.shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
            out.append(int(k))
            dim += 1
            continue
        # advanced: Tensor, list, ndarray
        if is_tensor(k):
            arr = k._data
        else:
            arr = np.asarray(k)
            if arr.dtype == object or (arr.size == 0 and arr.dtype.kind == "f"):
                arr = arr.astype(np.int64) if arr.size == 0 else arr
        if arr.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors (got {arr.dtype})")
        basic = False
        if arr.dtype == np.bool_:
            if arr.shape != t._data.shape[dim:dim + arr.ndim]:
                raise IndexError(f"The shape of the mask {list(arr.shape)} at index {dim} does not match the "
                                 f"shape of the indexed tensor {list(t._data.shape[dim:dim + arr.ndim])}")
            dim += arr.ndim
        else:
            size = t._data.shape[dim]
            if arr.size:
                lo, hi = int(arr.min()), int(arr.max())
                if lo < -size or hi >= size:
                    bad = hi if hi >= size else lo
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
            dim += 1
        out.append(on_device_of(arr, t))
    if not basic and nd == n_specified:  # an Ellipsis for no dims: the index arrays around it stay adjacent
        out = [k for k in out if k is not Ellipsis]
    if not basic:
        shapes = [k.shape for k in out if hasattr(k, "dtype") and k.dtype != np.bool_]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(str(list(s)) for s in shapes)) from None
    return tuple(out), basic


def torch_order(key, basic):
    """(key,), or (ints and slices, index arrays) where a key mixes integers with index arrays.

    torch applies integer indices first (as select), then the index arrays; NumPy would treat the
    integers as index arrays too and could move the broadcast dims to the front.
    """
    if basic or not any(type(k) is int for k in key):
        return (key,)
    first, rest = [], []
    for k in key:
        if hasattr(k, "dtype"):  # an index array or mask: its dims stay for the second step
            first += [slice(None)] * (k.ndim if k.dtype == np.bool_ else 1)
            rest.append(k)
        else:
            first.append(k)
            if type(k) is not int:
                rest.append(k if k is Ellipsis else slice(None))
    return tuple(first), tuple(rest)


# ---- indexing, scatter and shape ops (issue 13): their entries are in chainrule/tensor/indexing.py --

class Diagonal(Op):
    """out = x[..., i, i + offset] over the last two axes (a view);  dx = zeros with g on that diagonal"""
    @staticmethod
    def forward(ctx, xp, x, offset):
        out = xp.diagonal(x, offset, -2, -1)
        if type(out) is np.ndarray and x.flags.writeable:
            out.flags.writeable = True  # NumPy's diagonal is a read-only view; torch's is writable
        if ctx.needs:
            n = out.shape[-1]
            ctx.saved = (x.shape, (Ellipsis, xp.arange(n) + max(-offset, 0), xp.arange(n) + max(offset, 0)))
        return out

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, key = ctx.saved
        return (xp.index_grad(shape, key, g, g.dtype, False),)


class Flip(Op):
    """out = x reversed along ``axes``;  dx = g reversed along them"""
    @staticmethod
    def forward(ctx, xp, x, axes):
        ctx.saved = axes
        return xp.flip(x, axes).copy()

    @staticmethod
    def backward(ctx, xp, g, out):
        return (apply(Flip, g, axes=ctx.saved) if is_tensor(g) else xp.flip(g, ctx.saved),)


_AT = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _scatter_reduce(xp, x, src, key, reduce, include_self):
    """(out, count): x with src reduced in at ``key`` (full index arrays), count = how many src
    entries reached each position."""
    out = x.copy()
    count = xp.zeros(x.shape, dtype=np.int64)
    xp.scatter_add(count, key, 1)
    if not include_self:
        hit = count > 0
        kind = x.dtype.kind
        lo, hi = (-np.inf, np.inf) if kind == "f" else (False, True) if kind == "b" else (
            np.iinfo(x.dtype).min, np.iinfo(x.dtype).max)
        out[hit] = {"amax": lo, "amin": hi, "prod": 1}.get(reduce, 0)
    xp.scatter_at(out, key, src, _AT[reduce])
    if reduce == "mean":
        n = xp.maximum(count + include_self, 1).astype(x.dtype)
        out = out / n if x.dtype.kind == "f" else out // n
    return out, count


class ScatterReduce(Op):
    """out = x with each src entry reduced (sum, prod, mean, amax, amin) into the position ``key``
    names;  dsrc = g[key] (sum), /count (mean), * out / src (prod), g shared among the entries equal
    to out (amax, amin);  dx the same for x, 0 where not include_self"""
    save_args = True
    save_out = True
    once_differentiable = True

    @staticmethod
    def forward(ctx, xp, x, src, key, reduce, include_self):
        out, count = _scatter_reduce(xp, x, src, key, reduce, include_self)
        ctx.saved = (key, reduce, include_self, count)
        return out

    @staticmethod
    def backward(ctx, xp, g, out, x, src):
        key, reduce, include_self, count = ctx.saved
        if reduce == "sum":
            gx, gsrc = g, g[key]
        elif reduce == "mean":
            gx = g / xp.maximum(count + include_self, 1)
            gsrc = gx[key]
        elif reduce == "prod":  # torch's rule: products of the others, exact where an entry is 0
            ones = xp.ones((), dtype=x.dtype)
            gx = g * _scatter_reduce(xp, xp.where(x == 0, ones, x), src, key, reduce, include_self)[0] / xp.where(
                x == 0, ones, x)
            zero = src == 0
            zeros = xp.zeros(x.shape, dtype=np.int64)
            xp.scatter_add(zeros, key, zero.astype(np.int64))
            single = zero & (zeros[key] == 1)
            others = _scatter_reduce(xp, x, xp.where(single, ones, src), key, reduce, include_self)[0]
            gsrc = xp.where(single, (g * others)[key], (g * out)[key] / xp.where(zero, ones, src))
        else:
            x_is, src_is = (x == out).astype(g.dtype), (src == out[key]).astype(g.dtype)
            n = x_is.copy()
            xp.scatter_add(n, key, src_is)
            gd = g / n
            gx, gsrc = x_is * gd, src_is * gd[key]
        if not include_self:
            gx = xp.where(count > 0, xp.zeros((), dtype=gx.dtype), gx)
        return gx, gsrc
