"""Reshaping, splitting and indexing that compose the movement primitives of
``chainrule.ops.movement`` (Reshape, Permute, Expand, Index, Cat)."""
import math

from ..backend import namespace
from .. import dtypes as _dt
from ..ops.args import dim as _dim, dims as _dims, is_tensor, same_device
from ..ops.movement import Cat, Expand, Index, Permute, Reshape, as_view
from ..ops.registry import apply


def view(input, *shape):
    """A view of the same data with another shape (one dim may be -1), as ``torch.Tensor.view``; the data must be
    contiguous enough for the view."""
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected one of:\n"
                        " * (torch.dtype dtype)\n * (tuple of ints size)")
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        return input.to(shape[0])  # view(dtype)
    out = Reshape.call(input, *shape)
    # NumPy views a reshape exactly where torch's strides can (the same rule): else the reshape copied
    if out is not input and input._data.size and not namespace(input._data).may_share_memory(out._data, input._data):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                           "spans across two contiguous subspaces). Use .reshape(...) instead.")
    return out


def reshape_as(input, other):
    """Reshapes to ``other``'s shape, as ``torch.Tensor.reshape_as``."""
    return Reshape.call(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Flattens dims ``start_dim`` to ``end_dim`` into one, as ``torch.flatten``; a 0-d input gives a 1-D result."""
    nd = input._data.ndim
    if nd == 0:
        return Reshape.call(input, 1)
    s, e = _dim(start_dim, nd, "flatten"), _dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    return Reshape.call(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])  # not -1: size 0 too


def unflatten(input, dim, sizes):
    """Splits dim ``dim`` into the shape ``sizes`` (one entry may be -1), as ``torch.unflatten``."""
    d = _dim(dim, input._data.ndim, "unflatten")
    shp = input._data.shape
    return Reshape.call(input, shp[:d] + tuple(sizes) + shp[d + 1:])


def squeeze(input, dim=None):
    """Removes dims of size 1 (all of them, or those among ``dim`` when given), as ``torch.squeeze``."""
    shp = input._data.shape
    if dim is None:
        return Reshape.call(input, tuple(n for n in shp if n != 1))
    axes = _dims(dim, input._data.ndim, "squeeze")
    return Reshape.call(input, tuple(n for i, n in enumerate(shp) if not (i in axes and n == 1)))


def unsqueeze(input, dim):
    """Inserts a dim of size 1 at position ``dim``, as ``torch.unsqueeze``."""
    d = _dim(dim, input._data.ndim + 1, "unsqueeze")
    shp = input._data.shape
    return Reshape.call(input, shp[:d] + (1,) + shp[d:])


def transpose(input, dim0, dim1):
    """Swaps dims ``dim0`` and ``dim1`` (a view), as ``torch.transpose`` (alias ``swapaxes``)."""
    nd = input._data.ndim
    a, b = _dim(dim0, nd, "transpose"), _dim(dim1, nd, "transpose")
    if a == b:
        return input
    dims = list(range(nd))
    dims[a], dims[b] = b, a
    return as_view(apply(Permute, input, dims=tuple(dims)), input, Permute, dict(dims=tuple(dims)))


def t(input):
    """Transposes a tensor of at most 2 dims (0- and 1-D inputs are returned as is), as ``torch.t``."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def reversed_dims(input):  # .T
    """The tensor with its dims in reverse order, as ``torch.Tensor.T``."""
    return Permute.call(input, tuple(range(input._data.ndim - 1, -1, -1)))


def matrix_transpose(input):  # .mT
    """The tensor with its last two dims swapped, as ``torch.Tensor.mT``."""
    if input._data.ndim == 1:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1) if input._data.ndim else input  # 0-d: x (torch warns, deprecated)


def narrow(input, dim, start, length):
    """The slice ``start:start + length`` of dim ``dim`` (a view), as ``torch.narrow``."""
    d = _dim(dim, input._data.ndim, "narrow")
    n = input._data.shape[d]
    start = start + n if start < 0 else start
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {d}")
    return Index.call(input, (slice(None),) * d + (slice(start, start + length),))


def expand_as(input, other):
    """Expands (broadcasts, without copying) to ``other``'s shape, as ``torch.Tensor.expand_as``."""
    return Expand.call(input, other.shape)


def split(input, split_size_or_sections, dim=0):
    """Splits along ``dim`` into chunks of size ``split_size_or_sections`` (the last one smaller) or of the listed
    sizes, returning views, as ``torch.split``."""
    d = _dim(dim, input._data.ndim, "split")
    n = input._data.shape[d]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        step = split_size_or_sections
        sizes = [min(step, n - s) for s in range(0, n, step)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    lead = (slice(None),) * d
    for s in sizes:
        out.append(Index.call(input, lead + (slice(start, start + s),)))
        start += s
    return _multiple_views(out, "Split")


def chunk(input, chunks, dim=0):
    """Splits along ``dim`` into at most ``chunks`` views of size ceil(n / chunks), as ``torch.chunk``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[_dim(dim, input._data.ndim, "chunk")]
    if n == 0:  # as torch: ``chunks`` empty chunks
        return split(input, [0] * chunks, dim)
    return split(input, -(-n // chunks), dim)


def unbind(input, dim=0):
    """Removes dim ``dim``, returning a tuple of all slices along it, as ``torch.unbind``."""
    d = _dim(dim, input._data.ndim, "unbind")
    lead = (slice(None),) * d
    return _multiple_views([Index.call(input, lead + (i,)) for i in range(input._data.shape[d])], "Unbind")


def _multiple_views(outputs, function):
    """torch refuses in-place writes (with grad) to the views a function returns several of."""
    for i, t in enumerate(outputs):
        if t._meta is not None and "view_of" in t._meta:
            t._meta["multiple_views"] = f"Output {i} of {function}"
    return tuple(outputs)


def iterate(input):  # iter(t)
    if input._data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(unbind(input, 0))


def stack(tensors, dim=0):
    """Joins tensors of equal shape along a new dim ``dim``, as ``torch.stack``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not is_tensor(t):
            raise TypeError(f"stack(): argument 'tensors' must be tuple of Tensors, not {type(t).__name__} "
                            f"(element {i})")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                               f"and {list(t.shape)} at entry {i}")
    d = _dim(dim, len(shape) + 1, "stack")
    res = tensors[0].dtype
    for t in tensors[1:]:
        res = _dt.promote(res, t.dtype)
        same_device(tensors[0], t, "stack")
    return apply(Cat, *[t if t.dtype == res else t.to(res) for t in tensors], axis=d, new_axis=True)  # one op
