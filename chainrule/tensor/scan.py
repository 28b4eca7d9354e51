"""Sorting, scans, searching and counting, composed of ``chainrule.ops.scan`` and the other primitives.

The sort-kind selections (sort, topk, kthvalue, median, mode) find their indices on the arrays with
torch's order (a stable sort, nan after every number; descending: nan first, ties still in their
original order) and pick the values with the ``Sort`` op, whose gradient goes back to those indices.
Integer results (indices, counts, bins) have no graph.
"""
import math

import numpy as np

from ..backend import namespace
from ..ops.args import dim as _dim, is_tensor, nonempty, plain, reduce_axes
from ..ops.movement import Cat
from ..ops.reduce import Amax, Amin
from ..ops.registry import apply
from ..ops.scan import CumMax, CumMin, Cumprod, Cumsum, LogCumSumExp, Sort, accumulate
from . import reduce as _reduce


def _return_type(name, fields):
    """A torch.return_types-style tuple: ``values, indices = x.sort()`` and ``x.sort().values``."""
    def new(cls, *values):
        return tuple.__new__(cls, values)
    attrs = {f: property(lambda self, i=i: self[i]) for i, f in enumerate(fields)}
    attrs["__new__"] = new
    attrs["__repr__"] = lambda self: f"chainrule.return_types.{name}(" + ", ".join(
        f"\n{f}={v!r}" for f, v in zip(fields, self)) + ")"
    return type(name, (tuple,), attrs)


SortResult = _return_type("sort", ("values", "indices"))
TopK = _return_type("topk", ("values", "indices"))
KthValue = _return_type("kthvalue", ("values", "indices"))
Median = _return_type("median", ("values", "indices"))
NanMedian = _return_type("nanmedian", ("values", "indices"))
Mode = _return_type("mode", ("values", "indices"))
CumMaxResult = _return_type("cummax", ("values", "indices"))
CumMinResult = _return_type("cummin", ("values", "indices"))
AMinMax = _return_type("aminmax", ("min", "max"))
Histogram = _return_type("histogram", ("hist", "bin_edges"))


def _ints(a):
    return plain(a.astype(np.int64, copy=False))


def _zero(input):
    """The index of a 0-d tensor's one entry (on its device)."""
    return namespace(input._data).zeros((), np.int64)


def _order(a, axis, descending=False):
    """torch's stable sort order along ``axis``: nan last (descending: nan first), ties in order."""
    xp = namespace(a)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return (a.shape[axis] - 1 - xp.argsort(a[flip], axis=axis, kind="stable"))[flip]


def _pick(input, axis, idx, keepdim=True):
    """The values of ``input`` at ``idx`` along ``axis`` (the Sort op: gradient back to idx)."""
    return apply(Sort, input, axis=axis, idx=idx, keepdim=keepdim)


def _at(order, axis, k):
    """order's entries at position(s) k along axis (k an int or an array of a slice's shape)."""
    xp = namespace(order)
    k = xp.asarray(k)
    if k.ndim:
        k = xp.expand_dims(k, axis)
    return xp.take_along_axis(order, xp.broadcast_to(k, order.shape[:axis] + (1,) + order.shape[axis + 1:]),
                              axis=axis)


def _squeezed(a, axis, keepdim):
    return a if keepdim else a.squeeze(axis)


# ---- sorting ------------------------------------------------------------------------------------

def _sort_args(op, args, dim, descending, stable):
    """torch's two signatures: (dim=-1, descending=False) or (*, stable, dim=-1, descending=False)."""
    if args and stable is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments: with 'stable', 'dim' and "
                        "'descending' are keyword-only")
    if len(args) > 2:
        raise TypeError(f"{op}() takes from 1 to 3 positional arguments but {len(args) + 1} were given")
    return (tuple(args) + (dim, descending)[len(args):]) if args else (dim, descending)


def sort(input, *args, stable=None, dim=-1, descending=False):
    """Sorts along ``dim`` (ascending unless ``descending``), as ``torch.sort``; returns the named tuple
    ``(values, indices)``. ``stable=True`` keeps the order of equal elements."""
    dim, descending = _sort_args("sort", args, dim, descending, stable)
    if input._data.ndim == 0:
        _dim(dim, 0, "sort")
        return SortResult(_pick(input, 0, _zero(input)), _ints(_zero(input)))
    axis = _dim(dim, input._data.ndim, "sort")
    order = _order(input._data, axis, descending)
    return SortResult(_pick(input, axis, order), _ints(order))


def argsort(input, *args, stable=None, dim=-1, descending=False):
    """The indices that sort ``input`` along ``dim``, as ``torch.argsort``."""
    dim, descending = _sort_args("argsort", args, dim, descending, stable)
    axis = _dim(dim, input._data.ndim, "argsort")
    return _ints(_order(input._data, axis, descending) if input._data.ndim else _zero(input))


def msort(input):
    """Sorts along dim 0, as ``torch.msort``."""
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest, ``largest=False``) elements along ``dim``, as ``torch.topk``; returns the
    named tuple ``(values, indices)``, sorted when ``sorted``."""
    nd = input._data.ndim
    axis = _dim(dim, nd, "topk")
    n = input._data.shape[axis] if nd else 1
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
    if input._data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k out of range (k = {k}, size of dim {axis} = {n})")
    if not nd:
        return TopK(*sort(input))  # (k = 0 too, as torch)
    order = _order(input._data, axis, largest)[(slice(None),) * axis + (slice(0, k),)]
    return TopK(_pick(input, axis, order), _ints(order))


def _no_bool(input, op):
    if input._data.dtype == np.bool_:
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'Bool\'')


def _select(input, dim, keepdim, op, position, result):
    """(values, indices) at the sort position ``position(sorted slices, axis)`` along ``dim``."""
    if op != "mode":
        _no_bool(input, "median" if op == "nanmedian" else op)
    nd = input._data.ndim
    axis = _dim(dim, nd, op)
    if not nd:
        return result(_pick(input, 0, _zero(input)), _ints(_zero(input)))
    if input._data.shape[axis] == 0:
        nonempty(input._data.shape, (axis,), op)
    order = _order(input._data, axis)
    idx = _at(order, axis, position(input._data, order, axis))
    return result(_pick(input, axis, idx, keepdim), _ints(_squeezed(idx, axis, keepdim)))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element along ``dim`` (k counts from 1), as ``torch.kthvalue``; returns ``(values,
    indices)``."""
    axis = _dim(dim, input._data.ndim, "kthvalue")
    n = input._data.shape[axis] if input._data.ndim else 1
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"kthvalue(): argument 'k' must be int, not {type(k).__name__}")
    if n and not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim} (k = {k}, size {n})")
    return _select(input, dim, keepdim, "kthvalue", lambda a, o, axis: k - 1, KthValue)


def _count_numbers(a, axis):
    xp = namespace(a)
    return xp.sum(~xp.isnan(a), axis=axis) if a.dtype.kind == "f" else xp.full(
        a.shape[:axis] + a.shape[axis + 1:], a.shape[axis])


def _median_all(input, ignore_nan):
    """median()/nanmedian() over everything: the lower median; its gradient is shared evenly by the
    entries equal to it (nan: by the nans), as torch."""
    _no_bool(input, "median")
    a = input._data
    xp = namespace(a)
    if not a.size:  # nan (an integer one: its smallest value, as torch)
        return input.sum() * xp.nan if a.dtype.kind == "f" else plain(xp.full((), np.iinfo(a.dtype).min, a.dtype))
    flat = a.reshape(-1)
    numbers = int(_count_numbers(flat, 0))
    k = (max(numbers, 1) - 1) // 2 if ignore_nan or numbers == flat.size else numbers
    value = flat[_order(flat, 0)[k]]
    hit = xp.isnan(a) if value != value else a == value
    return apply(Amax, input[plain(hit)], axes=None, keepdim=False, evenly=True)


def _no_dim_keepdim(keepdim, op):
    if keepdim:  # torch's two signatures: () and (dim, keepdim=False)
        raise TypeError(f'{op}() missing 1 required positional arguments: "dim"')


def median(input, dim=None, keepdim=False):
    """The median, the lower of the two middle values for an even count, as ``torch.median``.

    Without ``dim``: a 0-d tensor over all elements; with ``dim``: the named tuple ``(values, indices)``. NaN
    is the median of a slice holding one."""
    if dim is None:
        _no_dim_keepdim(keepdim, "median")
        return _median_all(input, False)

    def position(a, order, axis):  # lower median; the first nan where a slice has one
        numbers = _count_numbers(a, axis)
        return namespace(a).where(numbers == a.shape[axis], (a.shape[axis] - 1) // 2, numbers)
    return _select(input, dim, keepdim, "median", position, Median)


def nanmedian(input, dim=None, keepdim=False):
    """The median ignoring NaNs (the lower middle value), as ``torch.nanmedian``; with ``dim`` returns ``(values,
    indices)``."""
    if dim is None:
        _no_dim_keepdim(keepdim, "nanmedian")
        return _median_all(input, True)

    def position(a, order, axis):
        return namespace(a).maximum(_count_numbers(a, axis) - 1, 0) // 2
    return _select(input, dim, keepdim, "nanmedian", position, NanMedian)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value of each slice (the smallest of those as frequent), at its last index."""
    def position(a, order, axis):
        xp = namespace(a)
        s = xp.take_along_axis(a, order, axis=axis)
        n = a.shape[axis]
        pos = xp.arange(n).reshape((n,) + (1,) * (a.ndim - axis - 1))
        lead = (slice(None),) * axis
        starts = xp.concatenate([xp.ones_like(s[lead + (slice(0, 1),)], dtype=bool),
                                 s[lead + (slice(1, None),)] != s[lead + (slice(None, -1),)]], axis)
        run = pos - accumulate(xp, "maximum", xp.where(starts, pos, 0), axis) + 1
        return xp.argmax(run == xp.max(run, axis=axis, keepdims=True), axis=axis)
    return _select(input, dim, keepdim, "mode", position, Mode)


# ---- unique ---------------------------------------------------------------------------------------

def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements (sorted), as ``torch.unique``; optionally the inverse indices and the counts, and
    unique slices along ``dim``."""
    a = input._data
    xp = namespace(a)
    if dim is None:
        values, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        inverse = inverse.reshape(a.shape)
    else:
        axis = _dim(dim, a.ndim, "unique")
        _selected_empty(a.shape, axis, "unique")
        if a.shape[axis] == 0:
            values, inverse, counts = a, xp.zeros(0, np.int64), xp.zeros(0, np.int64)
        else:
            values, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True, axis=axis)
            inverse = inverse.reshape(-1)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _selected_empty(shape, axis, op):
    if any(n == 0 for i, n in enumerate(shape) if i != axis):
        raise RuntimeError(f"{op}: there are 0 sized dimensions, and they aren't selected, so {op} cannot be "
                           f"applied (shape {list(shape)}, dim {axis})")


def _unique_result(values, inverse, counts, return_inverse, return_counts):
    out = (plain(values),) + ((_ints(inverse),) if return_inverse else ()) + ((_ints(counts),) if return_counts else ())
    return out[0] if len(out) == 1 else out


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Removes consecutive duplicates, as ``torch.unique_consecutive``; optionally with inverse indices and
    counts, or along ``dim``."""
    a = input._data
    xp = namespace(a)
    if dim is None:
        flat, axis = a.reshape(-1), 0
    else:
        flat, axis = a, _dim(dim, a.ndim, "unique_consecutive")
    n = flat.shape[axis]
    if dim is not None:
        _selected_empty(a.shape, axis, "unique_consecutive")
    if n == 0:
        new = xp.zeros(0, dtype=bool)
    else:
        moved = xp.moveaxis(flat, axis, 0).reshape(n, -1)
        new = xp.concatenate([xp.ones(1, dtype=bool), xp.any(moved[1:] != moved[:-1], axis=1)])
    starts = xp.nonzero(new)[0]
    values = xp.take(flat, starts, axis=axis)
    inverse = xp.cumsum(new) - 1
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n])]))
    return _unique_result(values, inverse.reshape(a.shape) if dim is None else inverse, counts,
                          return_inverse, return_counts)


# ---- scans ----------------------------------------------------------------------------------------

def _cum_extreme(input, dim, op, result):
    a = input._data
    xp = namespace(a)
    axis = _dim(dim, a.ndim, op.__name__.lower())
    if not a.ndim:
        return result(apply(op, input, axis=0, idx=xp.zeros((), np.int64)), _ints(xp.zeros((), np.int64)))
    pick = "maximum" if op is CumMax else "minimum"
    run = accumulate(xp, pick, a, axis) if a.size else a
    pos = xp.arange(a.shape[axis]).reshape((a.shape[axis],) + (1,) * (a.ndim - axis - 1))
    record = (a == run) | (xp.isnan(a) if a.dtype.kind == "f" else False)  # the latest of ties; nans win
    idx = accumulate(xp, "maximum", xp.where(record, pos, 0), axis) if a.size else xp.zeros(a.shape, np.int64)
    return result(apply(op, input, axis=axis, idx=idx), _ints(idx))


def cummax(input, dim):
    """Running maximum along ``dim`` and the index where it was reached, as ``torch.cummax``; returns ``(values,
    indices)``."""
    return _cum_extreme(input, dim, CumMax, CumMaxResult)


def cummin(input, dim):
    """Running minimum along ``dim`` and the index where it was reached, as ``torch.cummin``; returns ``(values,
    indices)``."""
    return _cum_extreme(input, dim, CumMin, CumMinResult)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference x[i + 1] - x[i] along ``dim``, as ``torch.diff``; ``prepend`` / ``append``
    are joined to the input first."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    axis = _dim(dim, nd, "diff")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    parts = [p for p in (prepend, input, append) if p is not None]
    for p in parts:
        if not is_tensor(p):
            raise TypeError(f"diff(): argument 'prepend'/'append' must be Tensor, not {type(p).__name__}")
        if p._data.ndim != nd:
            raise RuntimeError(f"diff expects prepend or append to be the same dimension as input "
                               f"(input {nd}-d, got {p._data.ndim}-d)")
    x = Cat.call(parts, axis) if len(parts) > 1 else input
    lead = (slice(None),) * axis
    for _ in range(n):
        if x._data.shape[axis] == 0:
            break
        hi, lo = x[lead + (slice(1, None),)], x[lead + (slice(None, -1),)]
        x = hi.logical_xor(lo) if x._data.dtype == np.bool_ else hi - lo
    return x


# ---- counting and searching -----------------------------------------------------------------------

def count_nonzero(input, dim=None):
    """The number of nonzero elements, over ``dim`` or all, as ``torch.count_nonzero`` (int64)."""
    xp = namespace(input._data)
    axes = reduce_axes(dim, input._data.ndim, "count_nonzero")
    return _ints(xp.asarray(xp.count_nonzero(input._data, axis=axes)))


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements, as ``torch.nonzero``: an (n, ndim) int64 tensor, or one 1-D tensor per
    dim with ``as_tuple=True``."""
    a = input._data
    xp = namespace(a)
    if as_tuple:
        return tuple(_ints(i) for i in xp.nonzero(a.reshape(1) if a.ndim == 0 else a))
    return _ints(xp.argwhere(a))


def argwhere(input):
    """The indices of the nonzero elements as an (n, ndim) int64 tensor, as ``torch.argwhere``."""
    return nonzero(input)


def bincount(input, weights=None, minlength=0):
    """Counts each value of a 1-D non-negative integer tensor (sums ``weights`` instead when given), as
    ``torch.bincount``; the length is max(input) + 1 or ``minlength``."""
    a = input._data
    xp = namespace(a)
    if a.dtype == np.bool_:
        raise NotImplementedError('"bincount_cpu" not implemented for \'Bool\'')
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got {a.ndim}-d {input.dtype})")
    if a.size and int(a.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs (found a negative value)")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is None:
        return _ints(xp.bincount(a, minlength=minlength))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input "
                           f"(input {list(a.shape)}, weights {list(w.shape)})")
    dt = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    return plain(xp.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(dt))


def _float_input(input, op):
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{op}" not implemented for \'{input.dtype.name.capitalize()}\'')


def histc(input, bins=100, min=0, max=0):
    """Histogram of ``bins`` equal-width bins between ``min`` and ``max`` (the data's range when both are 0), as
    ``torch.histc``; elements outside are ignored."""
    _float_input(input, "histogram_cpu")
    a = input._data
    xp = namespace(a)
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bin count")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:  # the data's range (nan or inf in it: not finite, an error)
        lo, hi = float(xp.min(a)), float(xp.max(a))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError(f"torch.histc: max must be larger than min (min {lo}, max {hi})")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    flat = a.reshape(-1)
    inside = flat[(flat >= lo) & (flat <= hi)].astype(np.float64)
    b = xp.clip(((inside - lo) * bins / (hi - lo)).astype(np.int64), 0, bins - 1)
    return plain(xp.bincount(b, minlength=bins).astype(a.dtype))


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """Histogram of the elements, as ``torch.histogram``: ``bins`` is a count or a 1-D tensor of edges; returns
    ``(hist, bin_edges)``, normalised to a density when ``density``."""
    _float_input(input, "histogram_cpu")
    a = input._data
    xp = namespace(a)
    edges = bins._data if is_tensor(bins) else bins
    w = None if weight is None else weight._data.reshape(-1)
    hist, edges = xp.histogram(a.reshape(-1), bins=edges, range=range, weights=w, density=density)
    return Histogram(plain(hist.astype(a.dtype)), plain(xp.asarray(edges).astype(a.dtype)))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value of ``input``, the index where it would be inserted into the innermost dim of
    ``sorted_sequence`` to keep it sorted, as ``torch.searchsorted``; ``right=True`` (or ``side='right'``)
    gives the last such index."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of "
                               "left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    if seq.dtype == np.bool_:
        raise NotImplementedError('"searchsorted_out_cpu" not implemented for \'Bool\'')
    xp = namespace(seq)
    scalar = not is_tensor(input)
    vals = xp.asarray(input) if scalar else input._data
    if sorter is not None:
        if sorter._data.shape != seq.shape:
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)}and got sorter tensor {list(sorter._data.shape)}")
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    how = "right" if right else "left"
    if seq.ndim == 1:
        out = xp.searchsorted(seq, vals, side=how)
    else:
        if scalar or seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               f"dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
        rows_s, rows_v = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        out = xp.stack([xp.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v)]).reshape(vals.shape) \
            if rows_s.shape[0] else xp.zeros(vals.shape, np.int64)
    return plain(xp.asarray(out).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """For each value of ``input``, the index of its bucket in the 1-D sorted ``boundaries``, as
    ``torch.bucketize``."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` is in ``test_elements``, as ``torch.isin``; ``invert=True`` negates."""
    if not is_tensor(elements) and not is_tensor(test_elements):
        raise TypeError("isin(): expected at least one of elements and test_elements to be a Tensor")
    ref = elements if is_tensor(elements) else test_elements
    xp = namespace(ref._data)
    e = elements._data if is_tensor(elements) else xp.asarray(elements)
    t = test_elements._data if is_tensor(test_elements) else xp.asarray(test_elements)
    return plain(xp.asarray(xp.isin(e, t, invert=invert)))


# ---- reductions returning two results -------------------------------------------------------------

def aminmax(input, *, dim=None, keepdim=False):
    """The minimum and maximum over all elements or along ``dim``, as ``torch.aminmax``; returns the named tuple
    ``(min, max)``."""
    axes = None if dim is None else (_dim(dim, input._data.ndim, "aminmax"),) if input._data.ndim else ()
    if not input._data.size and (axes is None or input._data.shape[axes[0]] == 0):
        raise (RuntimeError if axes is None else IndexError)(
            f"aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity "
            f"(input shape {list(input._data.shape)})")
    if axes is None and keepdim:
        axes = tuple(range(input._data.ndim))
    return AMinMax(apply(Amin, input, axes=axes, keepdim=keepdim), apply(Amax, input, axes=axes, keepdim=keepdim))


def _unbiased_first(dim, unbiased):
    """std_mean(x, True): the old signature (input, unbiased)."""
    return (None, dim) if isinstance(dim, bool) else (dim, unbiased)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """The standard deviation and the mean over ``dim`` (all elements by default), as ``torch.std_mean``;
    ``correction`` (default 1) is subtracted from the count."""
    dim, unbiased = _unbiased_first(dim, unbiased)
    return (_reduce.std(input, dim, unbiased, keepdim, correction), input.mean(dim, keepdim))


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    """The variance and the mean over ``dim`` (all elements by default), as ``torch.var_mean``; ``correction``
    (default 1) is subtracted from the count."""
    dim, unbiased = _unbiased_first(dim, unbiased)
    return (_reduce.var(input, dim, unbiased, keepdim, correction), input.mean(dim, keepdim))


# ---- scans without a wrapper of their own: the ops' entries -------------------------------------
cumsum, cumprod, logcumsumexp = Cumsum.call, Cumprod.call, LogCumSumExp.call
