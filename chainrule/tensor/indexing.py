"""Indexing, scatter and shape ops (torch's gather/scatter/index_*/take/diag/flip/roll/stack family),
composed of the movement primitives of ``chainrule.ops.movement``.

Gathers are advanced ``Index`` keys (their backward accumulates repeated indices), scatters are
``IndexPut`` (replace) or ``IndexGrad`` (accumulate: ``x + zeros.index_add(src)``) with the same
keys, and scatter_reduce's prod/mean/amax/amin is ``ScatterReduce``. ``diagonal`` and ``movedim``
are views, as in torch; ``flip`` is ``Flip`` (a copy).
"""
import numpy as np

from .. import dtypes as _dt
from ..backend import namespace
from ..ops.args import broadcast_error, check_tensor, dim as _dim, dims as _dims, is_tensor, on_device_of, plain
from ..ops.elementwise import C_NAMES, Where
from ..ops.movement import (Cat, Diagonal, Flip, Index, IndexGrad, IndexPut, Permute, Repeat, Reshape, ScatterReduce, as_view,
                            index_key)
from ..ops.registry import apply
from . import movement


# ---- argument checks ---------------------------------------------------------------------------

def _name(dtype):
    return _dt.from_numpy(dtype).name.capitalize() if dtype != np.bool_ else "Bool"


def _index(index, op, long_only=True, arg="index", error=RuntimeError):
    """An index tensor's array (int64; int32 too where torch takes it)."""
    check_tensor(index, op, arg)
    a = index._data
    if a.dtype.kind == "f" and arg == "repeats":
        raise NotImplementedError(f'"{op}" not implemented for \'{_name(a.dtype)}\'')
    if a.dtype != np.int64 and (long_only or a.dtype != np.int32):
        raise error(f"{op}(): Expected dtype int64 for {arg}" if long_only else
                    f"{op}(): Expected dtype int32 or int64 for {arg}")
    return a


def _bounds(a, size, d, op, negative=False):
    """Every index in [0, size) (or [-size, size) with ``negative``), as torch checks."""
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if hi >= size or lo < (-size if negative else 0):
            raise RuntimeError(f"{op}(): index {hi if hi >= size else lo} is out of bounds for dimension {d} "
                               f"with size {size}")


def _same_dtype(a, b, op):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got {_name(a._data.dtype)} and "
                           f"{_name(b._data.dtype)})")


def _grids(xp, index, dim):
    """gather/scatter's advanced key: ``index`` at ``dim``, an arange along every other dim."""
    nd = index.ndim
    return tuple(index if i == dim else xp.arange(n).reshape((1,) * i + (n,) + (1,) * (nd - i - 1))
                 for i, n in enumerate(index.shape))


def _one_d(t):
    return Reshape.call(t, 1) if t._data.ndim == 0 else t


def _scatter_args(input, dim, index, src, op):
    """(dim, index array, key, src cut to index's shape) for gather/scatter-like ops; 0-d as 1-d."""
    a = _index(index, op, long_only=False)
    nd = max(input._data.ndim, 1)
    if max(a.ndim, 1) != nd:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input tensor "
                           f"(index {list(a.shape)}, input {list(input._data.shape)})")
    d = _dim(dim, input._data.ndim, op)
    a = a.reshape(a.shape or (1,))
    shape = input._data.shape or (1,)
    sshape = (src._data.shape or (1,)) if is_tensor(src) else None
    if a.size:
        for i, n in enumerate(a.shape):
            if i != d and n > shape[i] or sshape is not None and (len(sshape) != nd or n > sshape[i]):
                raise RuntimeError(f"{op}(): Expected index {list(a.shape)} to be no larger than self {list(shape)} "
                                   f"apart from dimension {d}" + (f" and to be no larger size than src "
                                                                 f"{list(sshape)}" if sshape else ""))
    _bounds(a, shape[d], d, op)
    xp = namespace(input._data)
    a = on_device_of(a, input)
    if is_tensor(src):
        src = _one_d(src)
        if src._data.shape != a.shape:
            src = Index.call(src, tuple(slice(0, n) for n in a.shape))
    return d, a, _grids(xp, a, d), src


def _path(key):
    return ((Index, dict(key=key, basic=False)),)


def _put(input, key, values):
    """input with input[key] = values (out of place; values already shaped to the region)."""
    return apply(IndexPut, input, values, path=_path(key))


def _add_at(input, key, values):
    """input with values added at key (repeats accumulate): input + zeros.index_put_(key, values, True)."""
    return input + apply(IndexGrad, values, shape=input._data.shape, key=key, basic=False)


def _value(input, value, op):
    """A scatter's/fill's value: a 0-d tensor (may require grad) or a number, as input's dtype."""
    if is_tensor(value):
        if value._data.ndim:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        return value.to(input.dtype)
    return plain(namespace(input._data).asarray(value, dtype=input._data.dtype))


def _reshape_back(out, input):
    return Reshape.call(out, ()) if input._data.ndim == 0 and out._data.shape == (1,) else out


# ---- triangles -----------------------------------------------------------------------------------

_TRIANGLE_DOC = """The {part} triangle of a matrix (of each matrix in a batch), the other elements zeroed, as ``torch.{name}`` (also ``Tensor.{name}``, and ``Tensor.{name}_`` in place).

Keeps element ``[..., i, j]`` where ``j - i {cmp} diagonal``: ``diagonal=0`` is the main diagonal,
a positive value a diagonal above it, a negative one below. The input needs at least 2 dims (the
last two are the matrix); the gradient is the upstream gradient masked the same way.

Parameters
----------
input : Tensor
    A tensor of at least 2 dims.
diagonal : int, default 0
    Which diagonal bounds the triangle (0: the main one).

Returns
-------
Tensor
    Of ``input``'s shape and dtype.

Examples
--------
>>> cr.ones(3, 3).{name}({arg})
{example}
"""
_TRIANGLE_INDICES_DOC = """The coordinates of the {part} triangle of a ``row`` x ``col`` matrix, as ``torch.{name}``.

A 2 x N tensor: the row indices, then the column indices, in row-major order, of the elements
``{tri}(offset)`` keeps (``j - i {cmp} offset``). ``dtype`` must be an integer dtype (int64 by
default; a floating one raises NotImplementedError).

Parameters
----------
row, col : int
    The matrix shape.
offset : int, default 0
    As ``diagonal`` of ``{tri}``.
dtype : chainrule.dtype, optional
    An integer dtype; int64 unless given.
device : str or chainrule.device, optional
    The device; the CPU unless given.

Returns
-------
Tensor
    Shape (2, N), of ``dtype``.

Examples
--------
>>> cr.{name}(3, 3)
{example}
"""


def _triangle(lower):
    def fn(input, diagonal=0):
        op = "tril" if lower else "triu"
        if input._data.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
        xp = namespace(input._data)
        n, m = input._data.shape[-2:]
        keep = xp.tri(n, m, diagonal, dtype=bool)
        if not lower:
            keep = ~xp.tri(n, m, diagonal - 1, dtype=bool)
        return Where.call(plain(keep), input, plain(xp.zeros((), dtype=input._data.dtype)))
    fn.__name__ = "tril" if lower else "triu"
    fn.__doc__ = _TRIANGLE_DOC.format(name=fn.__name__, part="lower" if lower else "upper", cmp="<=" if lower else ">=",
                                      arg="" if lower else "1", example="tensor([[1., 0., 0.],\n        [1., 1., 0.],\n"
                                      "        [1., 1., 1.]])" if lower else "tensor([[0., 1., 1.],\n        [0., 0., 1.],\n"
                                      "        [0., 0., 0.]])")
    return fn


tril, triu = _triangle(True), _triangle(False)


def _triangle_indices(lower):
    def fn(row, col, offset=0, *, dtype=None, device=None, layout=None, requires_grad=False):
        name = "tril_indices" if lower else "triu_indices"
        dtype = _dt.to_dtype(dtype) if dtype is not None else _dt.int64
        if dtype.np.kind not in "iu":
            raise NotImplementedError(f'"{name}" not implemented for \'{C_NAMES.get(dtype.name, dtype.name)}\'')
        for arg, v in (("row", row), ("col", col)):
            if v < 0:
                raise RuntimeError(f"{arg} must be non-negative, got{v}")
        keep = np.tri(row, col, offset, dtype=bool) if lower else ~np.tri(row, col, offset - 1, dtype=bool)
        out = plain(np.stack(np.nonzero(keep)).astype(dtype.np).reshape(2, -1))
        return out.to(device) if device is not None else out
    fn.__name__ = "tril_indices" if lower else "triu_indices"
    fn.__doc__ = _TRIANGLE_INDICES_DOC.format(
        name=fn.__name__, part="lower" if lower else "upper", tri="tril" if lower else "triu", cmp="<=" if lower else ">=",
        example="tensor([[0, 1, 1, 2, 2, 2],\n        [0, 0, 1, 0, 1, 2]])" if lower
        else "tensor([[0, 0, 0, 1, 1, 2],\n        [0, 1, 2, 1, 2, 2]])")
    return fn


tril_indices, triu_indices = _triangle_indices(True), _triangle_indices(False)


# ---- masks ---------------------------------------------------------------------------------------

def _mask(mask, op):
    if not is_tensor(mask) or mask._data.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected BoolTensor for mask (got {getattr(mask, 'dtype', type(mask).__name__)})")
    return mask


def _broadcast_mask(input, mask, op):
    """(shape, mask array broadcast to it on input's device) of input and mask broadcast together."""
    try:
        shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    except ValueError:
        raise broadcast_error(input, mask, op) from None
    return shape, on_device_of(namespace(mask._data).broadcast_to(mask._data, shape), input)


def masked_select(input, mask):
    """The elements of ``input`` where the boolean ``mask`` (broadcast with it) is True, as a 1-D tensor, as
    ``torch.masked_select``."""
    _mask(mask, "masked_select")
    shape, m = _broadcast_mask(input, mask, "masked_select")
    return apply(Index, input.expand(shape), key=(m,), basic=False)


def masked_scatter(input, mask, source):
    """Copies the elements of ``source``, in order, into the positions where ``mask`` is True, out of place, as
    ``torch.Tensor.masked_scatter``."""
    if not is_tensor(mask) or mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_name(mask._data.dtype) if is_tensor(mask) else type(mask).__name__}")
    check_tensor(source, "masked_scatter", "source")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_name(input._data.dtype)} and {_name(source._data.dtype)}")
    shape, m = _broadcast_mask(input, mask, "masked_scatter")
    x = input.expand(shape) if shape != input._data.shape else input
    n = int(m.sum())
    if source._data.size < n:
        raise RuntimeError(f"masked_scatter: Number of elements of source < number of ones in mask ({n})")
    src = Index.call(source.reshape(-1), slice(0, n))
    return _put(x, (m,), src)


def where_method(input, condition, other):  # Tensor.where(condition, y)
    """``where(condition, self, other)``: this tensor where ``condition`` is True, else ``other``, as
    ``torch.Tensor.where``."""
    return Where.call(condition, input, other)


# ---- gather and scatter --------------------------------------------------------------------------

def gather(input, dim, index, *, sparse_grad=False):
    """Picks values along ``dim`` at ``index``: out[i][j][k] = input[index[i][j][k]][j][k] for dim 0, and so on,
    as ``torch.gather``; the output has ``index``'s shape."""
    check_tensor(index, "gather", "index")
    d, a, key, _ = _scatter_args(input, dim, index, None, "gather")
    out = apply(Index, _one_d(input), key=key, basic=False)
    return Reshape.call(out, ()) if index._data.ndim == 0 else out


def take_along_dim(input, indices, dim=None):
    """Picks values along ``dim`` at ``indices`` (broadcast against ``input``), as ``torch.take_along_dim``; with
    ``dim=None`` both are flattened first."""
    a = _index(indices, "take_along_dim")
    if dim is None:
        return gather(input.reshape(-1), 0, plain(a.reshape(-1)))
    nd = input._data.ndim
    if a.ndim != nd:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {nd} dimensions for input, and {a.ndim} dimensions for indices")
    d = _dim(dim, nd, "take_along_dim")
    xs, ids = list(input._data.shape), list(a.shape)
    xs[d] = ids[d] = 1
    b = np.broadcast_shapes(tuple(xs), tuple(ids))
    shape_x = b[:d] + (input._data.shape[d],) + b[d + 1:]
    shape_i = b[:d] + (a.shape[d],) + b[d + 1:]
    n = input._data.shape[d]
    _bounds(a, n, d, "take_along_dim", negative=True)
    idx = plain(namespace(a).broadcast_to(a % max(n, 1), shape_i))
    return gather(input.expand(shape_x), d, idx)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """Out-of-place scatter along ``dim``: a copy of ``input`` with out[index[i][j]][j] = src[i][j] (dim 0), as
    ``torch.scatter``.

    ``src`` may be a tensor or, through ``value``, a number; ``reduce`` is ``'add'`` or ``'multiply'``."""
    if src is None and value is None:
        raise TypeError("scatter(): missing the 'src' or 'value' argument")
    if src is not None and not is_tensor(src):
        src, value = None, src
    check_tensor(index, "scatter", "index")
    if is_tensor(src):
        _same_dtype(input, src, "scatter")
    d, a, key, src = _scatter_args(input, dim, index, src, "scatter")
    if src is None:
        src = _value(input, value, "scatter").expand(a.shape)
    x = _one_d(input)
    if reduce is None:
        return _reshape_back(_put(x, key, src), input)
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    return _reshape_back(apply(ScatterReduce, x, src, key=key, reduce="sum" if reduce == "add" else "prod",
                               include_self=True), input)


def scatter_add(input, dim, index, src):
    """Out-of-place scatter-add along ``dim``: a copy of ``input`` with src[i][j] added at out[index[i][j]][j]
    (dim 0), as ``torch.scatter_add``."""
    check_tensor(src, "scatter_add", "src")
    _same_dtype(input, src, "scatter_add")
    d, a, key, src = _scatter_args(input, dim, index, src, "scatter_add")
    return _reshape_back(_add_at(_one_d(input), key, src), input)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Out-of-place scatter along ``dim`` that combines colliding values with ``reduce`` (``'sum'``, ``'prod'``,
    ``'mean'``, ``'amax'``, ``'amin'``), as ``torch.scatter_reduce``; ``include_self`` counts the input's own
    values."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    check_tensor(src, "scatter_reduce", "src")
    _same_dtype(input, src, "scatter_reduce")
    if reduce == "mean" and input._data.dtype == np.bool_:
        raise NotImplementedError("\"scatter_reduce\" with reduce='mean' not implemented for 'Bool'")
    d, a, key, src = _scatter_args(input, dim, index, src, "scatter_reduce")
    x = _one_d(input)
    if reduce == "sum" and include_self:
        return _reshape_back(_add_at(x, key, src), input)
    return _reshape_back(apply(ScatterReduce, x, src, key=key, reduce=reduce, include_self=include_self), input)


# ---- index_* along one dim -----------------------------------------------------------------------

def _dim_index(input, dim, index, op, source=None, long_only=False, error=RuntimeError):
    """(dim, key) for index_select/index_add/...: a 1-d (or 0-d) index along ``dim``."""
    a = _index(index, op, long_only, error=error)
    if a.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    a = a.reshape(-1)
    x = _one_d(input)
    d = _dim(dim, input._data.ndim, op)
    if input._data.ndim == 0 and (a.size != 1 or source is not None and source._data.size != 1):
        raise RuntimeError(f"{op}(): Index to scalar can have only 1 value, got {a.size} value(s), and a source "
                           f"tensor shape must match self tensor shape (got {list(getattr(source, 'shape', ()))})")
    n = x._data.shape[d]
    if source is not None:
        s = _one_d(source)._data.shape
        if len(s) != x._data.ndim or s[d] != a.size or any(p != q for i, (p, q) in enumerate(zip(s, x._data.shape))
                                                          if i != d):
            raise RuntimeError(f"{op}(): Number of indices ({a.size}) should be equal to source.size(dim) "
                               f"({s[d] if d < len(s) else None}), for dim: {d}, and source {list(s)} should "
                               f"match self {list(x._data.shape)} apart from dim {d}")
        if source._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}(): self ({_name(input._data.dtype)}) and source ({_name(source._data.dtype)}) "
                               "must have the same scalar type")
    _bounds(a, n, d, op)
    return x, (slice(None),) * d + (on_device_of(a.astype(np.int64), input),)


def index_select(input, dim, index):
    """The entries of ``input`` at the 1-D integer ``index`` along ``dim``, as ``torch.index_select``."""
    x, key = _dim_index(input, dim, index, "index_select")
    return _reshape_back(apply(Index, x, key=key, basic=False), input)


def index_add(input, dim, index, source, *, alpha=1):
    """Out of place: a copy of ``input`` with alpha source added at positions ``index`` along ``dim``, as
    ``torch.index_add``."""
    check_tensor(source, "index_add", "source")
    x, key = _dim_index(input, dim, index, "index_add", source)
    source = _one_d(source)
    return _reshape_back(_add_at(x, key, source if alpha == 1 else source * alpha), input)


def index_copy(input, dim, index, source):
    """Out of place: a copy of ``input`` with the slices of ``source`` written at positions ``index`` along
    ``dim``, as ``torch.index_copy``."""
    check_tensor(source, "index_copy", "source")
    x, key = _dim_index(input, dim, index, "index_copy", source, long_only=True)
    return _reshape_back(_put(x, key, _one_d(source)), input)


def index_fill(input, dim, index, value):
    """Out of place: a copy of ``input`` with ``value`` written at positions ``index`` along ``dim``, as
    ``torch.index_fill``."""
    x, key = _dim_index(input, dim, index, "index_fill", long_only=True, error=IndexError)
    return _reshape_back(_put(x, key, _value(input, value, "index_fill")), input)


def index_put(input, indices, values, accumulate=False):
    """Out of place: a copy of ``input`` with ``values`` written at ``input[indices]`` (added when
    ``accumulate``), as ``torch.index_put``."""
    check_tensor(values, "index_put", "values")
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_name(input._data.dtype)} for the destination and {_name(values._data.dtype)} "
                           "for the source.")
    key, basic = index_key(input, tuple(indices))
    region = input._data[key].shape
    try:
        v = values.expand(region)
    except RuntimeError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(region)}") from None
    if accumulate:
        return _add_at(input, key, v)
    return apply(IndexPut, input, v, path=((Index, dict(key=key, basic=basic)),))


def take(input, index):
    """The elements of ``input`` at flat (row-major) positions ``index``, shaped like ``index``, as
    ``torch.take``."""
    a = _index(index, "take")
    n = input._data.size
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if hi >= n or lo < -n:
            raise IndexError(f"out of range: tried to access index {hi if hi >= n else lo} on a tensor of {n} "
                             "elements.")
    return apply(Index, input.reshape(-1), key=(on_device_of(a, input),), basic=False)


def put(input, index, source, accumulate=False):
    """Out of place: a copy of ``input`` with ``source`` written at flat positions ``index`` (added when
    ``accumulate``), as ``torch.Tensor.put``."""
    a = _index(index, "put")
    check_tensor(source, "put", "source")
    if a.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {a.size}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put_(): self ({_name(input._data.dtype)}) and source ({_name(source._data.dtype)}) "
                           "must have the same scalar type")
    n = input._data.size
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if hi >= n or lo < -n:
            raise IndexError(f"out of range: tried to access index {hi if hi >= n else lo} on a tensor of {n} "
                             "elements.")
    flat = input.reshape(-1)
    key = (on_device_of(a.reshape(-1) % max(n, 1), input),)
    src = source.reshape(-1)
    out = _add_at(flat, key, src) if accumulate else _put(flat, key, src)
    return out.reshape(input._data.shape)


# ---- flips, rolls, rotations, repeats ------------------------------------------------------------

def flip(input, dims):
    """Reverses the order of elements along each dim in ``dims`` (a copy), as ``torch.flip``."""
    if isinstance(dims, (int, np.integer)):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
    axes = _dims(tuple(dims), input._data.ndim, "flip")
    return apply(Flip, input, axes=axes)


def flip_method(self, *dims):
    """``Tensor.flip(*dims)``: the dims as separate ints or one sequence, as torch's method takes them."""
    return flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], (int, np.integer)) else dims)


def fliplr(input):
    """Reverses the order of columns (dim 1) of a tensor with at least 2 dims, as ``torch.fliplr``."""
    if input._data.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return apply(Flip, input, axes=(1,))


def flipud(input):
    """Reverses the order of rows (dim 0) of a tensor with at least 1 dim, as ``torch.flipud``."""
    if input._data.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return apply(Flip, input, axes=(0,))


def roll(input, shifts, dims=None):
    """Rolls elements by ``shifts`` along ``dims``, wrapping around; with ``dims=None`` the flattened tensor is
    rolled and reshaped, as ``torch.roll``."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims) and not (not dims and len(shifts) == 1):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    if not dims:
        return roll(input.flatten(), shifts, 0).view(input._data.shape)
    if input._data.ndim == 0:
        raise IndexError("roll: Dimension specified as 0 but tensor has no dimensions")
    out = input
    for s, d in zip(shifts, dims):
        d = _dim(d, input._data.ndim, "roll")
        n = out._data.shape[d]
        s = int(s) % n if n else 0
        if s:
            lead = (slice(None),) * d
            out = Cat.call([Index.call(out, lead + (slice(n - s, n),)), Index.call(out, lead + (slice(0, n - s),))], d)
    return out.clone() if out is input else out


def rot90(input, k=1, dims=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``dims``, from the first dim towards the second, as
    ``torch.rot90``."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    a, b = _dim(dims[0], nd, "rot90"), _dim(dims[1], nd, "rot90")
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k %= 4
    if k == 1:
        return movement.transpose(apply(Flip, input, axes=(b,)), a, b)
    if k == 2:
        return apply(Flip, input, axes=(a, b))
    if k == 3:
        return movement.transpose(apply(Flip, input, axes=(a,)), a, b)
    return input.clone()


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeats each element (or each slice along ``dim``) ``repeats`` times in place order, as
    ``torch.repeat_interleave``; with ``dim=None`` the input is flattened first."""
    if repeats is None:  # repeat_interleave(repeats): each index i repeated repeats[i] times
        r = _index(input, "repeat_interleave", long_only=False, arg="repeats")
        if r.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if r.size and int(r.min()) < 0:
            raise RuntimeError("repeats can not be negative")
        return plain(on_device_of(np.repeat(np.arange(r.size, dtype=r.dtype), r.reshape(-1).tolist()), input))
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(dim, input._data.ndim, "repeat_interleave")
    x = _one_d(x)
    n = x._data.shape[d]
    if is_tensor(repeats):
        r = _index(repeats, "repeat_interleave", long_only=False, arg="repeats").reshape(-1)
        if r.size == 1:
            repeats = int(r[0])
        elif r.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{r.size} and input.size({d}) = {n}")
        elif r.size and int(r.min()) < 0:
            raise RuntimeError("repeats can not be negative")
        else:
            idx = on_device_of(np.repeat(np.arange(n), r.tolist()), x)
            return apply(Index, x, key=(slice(None),) * d + (idx,), basic=False)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    shp = x._data.shape
    out = movement.unsqueeze(x, d + 1).expand(shp[:d + 1] + (repeats,) + shp[d + 1:])
    return Reshape.call(out, shp[:d] + (n * repeats,) + shp[d + 1:]).clone() if repeats == 1 else Reshape.call(
        out, shp[:d] + (n * repeats,) + shp[d + 1:])


def tile(input, *dims):
    """Repeats the tensor ``dims`` times along each dim (the shorter of dims and shape is padded with leading 1s),
    as ``torch.tile``."""
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    dims = (1,) * (input._data.ndim - len(dims)) + tuple(dims)
    return Repeat.call(input, dims)


# ---- dims: movedim, diagonals, traces ------------------------------------------------------------

def movedim(input, source, destination):
    """Moves dims ``source`` to positions ``destination`` keeping the others in order (a view), as
    ``torch.movedim`` (alias ``moveaxis``)."""
    nd = input._data.ndim
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                           f"the same number of dims as destination ({list(dst)} dims)")
    src = tuple(_dim(s, nd, "movedim") for s in src)
    dst = tuple(_dim(s, nd, "movedim") for s in dst)
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    order = [None] * nd
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(i for i in range(nd) if i not in src)
    return Permute.call(input, tuple(o if o is not None else next(rest) for o in order))


def swapdims(input, dim0, dim1):
    """Swaps dims ``dim0`` and ``dim1`` (a view), as ``torch.swapdims`` (alias of ``transpose``)."""
    return movement.transpose(input, dim0, dim1)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal with ``offset`` of the 2-D planes spanned by ``dim1`` and ``dim2``, appended as the last dim
    (a view), as ``torch.diagonal``."""
    nd = input._data.ndim
    a, b = _dim(dim1, nd, "diagonal"), _dim(dim2, nd, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    order = tuple(i for i in range(nd) if i not in (a, b)) + (a, b)
    x = input if order == tuple(range(nd)) else Permute.call(input, order)
    return as_view(apply(Diagonal, x, offset=offset), x, Diagonal, dict(offset=offset))


_diagonal = diagonal


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Builds tensors whose ``offset`` diagonals, in the planes of ``dim1`` and ``dim2``, hold the last dim of
    ``input``, as ``torch.diag_embed``."""
    nd = input._data.ndim + 1
    a, b = _dim(dim1, nd, "diag_embed"), _dim(dim2, nd, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    x = _one_d(input)
    xp = namespace(x._data)
    k = x._data.shape[-1]
    n = k + abs(offset)
    key = (Ellipsis, xp.arange(k) + max(-offset, 0), xp.arange(k) + max(offset, 0))
    out = apply(IndexGrad, x, shape=x._data.shape[:-1] + (n, n), key=key, basic=False)
    return movedim(out, (nd - 2, nd - 1), (a, b))


def diag(input, diagonal=0):
    """For a 1-D input a 2-D matrix with it on the ``diagonal``-th diagonal; for a 2-D input that diagonal as 1-D,
    as ``torch.diag``."""
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal)
    if nd != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    return _diagonal(input, diagonal).clone()


def diagflat(input, offset=0):
    """A 2-D matrix with the flattened input on its ``offset``-th diagonal, as ``torch.diagflat``."""
    return diag_embed(input.reshape(-1), offset)


def trace(input):
    """The sum of the main diagonal of a 2-D tensor, as ``torch.trace`` (integer inputs give int64)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return diagonal(input).sum()


def _basic_index_name(key, shape):
    """torch's grad_fn name for x[key] with a basic key: the last view op it applies (an int selects, a
    slice that is not the whole dim slices, None unsqueezes; nothing: an alias); None for an advanced key."""
    if not isinstance(key, tuple):
        kinds = {slice: "SliceBackward0", type(None): "UnsqueezeBackward0", type(Ellipsis): "AliasBackward0"}
        if type(key) in kinds:
            return kinds[type(key)]
        return "SelectBackward0" if isinstance(key, (int, np.integer)) and not isinstance(key, bool) else None
    name, dim = "AliasBackward0", 0
    consuming = sum(1 for k in key if k is not None and k is not Ellipsis)
    for k in key:
        if k is None:
            name = "UnsqueezeBackward0"
        elif k is Ellipsis:
            dim += len(shape) - consuming
        elif isinstance(k, slice):
            if dim < len(shape) and k != slice(None) and k.indices(shape[dim]) != (0, shape[dim], 1):
                name = "SliceBackward0"
            dim += 1
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            name, dim = "SelectBackward0", dim + 1
        else:
            return None
    return name


def getitem(input, key):
    """``input[key]`` (Index), its grad_fn named as torch's view op for a basic key (SelectBackward0, ...)."""
    out = Index.call(input, key)
    node = out._node
    if node is not None and node.op is Index and getattr(node, "label", None) is None:
        name = _basic_index_name(key, input._data.shape)
        if name is not None:
            node.label = name
    return out
