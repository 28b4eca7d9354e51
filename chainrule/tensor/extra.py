"""Everyday torch functions that fit no other kind, composed of the existing Tensor ops (so their
gradients are the composed ops'): broadcasting helpers, elementwise gaps (``fmax``, ``ldexp``,
``frexp``, ``rsub``, ...), scatters into a copy (``diagonal_scatter``, ``select_scatter``,
``slice_scatter``, ``index_reduce``) and sliding windows (``Tensor.unfold``). Conversions and
storage (``asarray``, ``frombuffer``, ``resize_``, fills) are in ``storage.py``, in-place view ops,
Python-callable maps and global settings in ``settings.py``, the numerical ones (quantiles, ``cov``,
``cdist``, windows, ...) in ``numeric.py``.
"""
import numpy as np

from ..backend import namespace
from ..ops.args import check_tensor, dim as _dim, is_tensor, on_device_of, plain, promote, same_device
from ..ops.elementwise import Div, Pow, Sub, Where, binary
from ..ops.movement import (Diagonal, Expand, Index, IndexPut, Permute, Reshape, index_key, index_path, take_along, torch_order)
from ..ops.registry import apply
from .core import Size
from .scan import _return_type


Frexp = _return_type("frexp", ("mantissa", "exponent"))


def _name(dtype):
    """torch's capitalised dtype name in messages (Float, Long, Bool)."""
    return {np.bool_: "Bool", np.float32: "Float", np.float64: "Double", np.float16: "Half", np.int64: "Long",
            np.int32: "Int", np.int16: "Short", np.int8: "Char", np.uint8: "Byte"}.get(np.dtype(dtype).type, str(dtype))


def _is_float(t):
    return t._data.dtype.kind == "f"


# ---- broadcasting ------------------------------------------------------------------------------

def broadcast_shapes(*shapes):
    """The shape that tensors of the given shapes broadcast to, as ``torch.broadcast_shapes``.

    Parameters
    ----------
    *shapes : int or sequence of ints
        The shapes (an int is a 1-D shape).

    Returns
    -------
    Size
        The broadcast shape (``Size([])`` for no shapes).

    Raises
    ------
    RuntimeError
        When two sizes differ and neither is 1.
    ValueError
        For a negative size.
    """
    tuples = []
    for s in shapes:
        s = (s,) if isinstance(s, (int, np.integer)) else tuple(s)
        for n in s:
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
                raise TypeError(f"broadcast_shapes(): expected int sizes, got {type(n).__name__}")
            if n < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
        tuples.append(tuple(int(n) for n in s))
    result = [1] * max((len(s) for s in tuples), default=0)
    for idx, s in enumerate(tuples):
        for i in range(-1, -len(s) - 1, -1):
            if s[i] == 1 or s[i] == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s[i]} at {i}! Mismatching "
                                   f"argument at index {idx} had {s}; but expected shape should be broadcastable "
                                   f"to {result}")
            result[i] = s[i]
    return Size(result)


def broadcast_tensors(*tensors):
    """The tensors expanded (views, no copy) to their common broadcast shape, as ``torch.broadcast_tensors``.

    Parameters
    ----------
    *tensors : Tensor
        Any number of tensors.

    Returns
    -------
    tuple of Tensor
        One expanded view per input; the gradient of each sums back over the broadcast dims.
    """
    for i, t in enumerate(tensors):
        if not is_tensor(t):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if t._data.shape == tuple(shape) else Expand.call(t, shape) for t in tensors)


def broadcast_to(input, size):
    """``input`` expanded (a view) to the shape ``size``, as ``torch.broadcast_to`` (``Tensor.expand``).

    Parameters
    ----------
    input : Tensor
        The tensor to broadcast.
    size : sequence of ints
        The target shape; -1 keeps a dim's size.

    Returns
    -------
    Tensor
        A view of shape ``size``.
    """
    return Expand.call(input, tuple(size))


# ---- elementwise ----------------------------------------------------------------------------------

def clamp_min(input, min):
    """max(input, min) elementwise, as ``torch.clamp_min`` (also ``Tensor.clamp_min`` and ``clamp_min_``).

    Parameters
    ----------
    input : Tensor
        The input.
    min : number or Tensor
        The lower bound (a tensor broadcasts).

    Returns
    -------
    Tensor
        ``clamp(input, min=min)``: the gradient passes where ``input >= min``.
    """
    return input.clamp(min=min)


def clamp_max(input, max):
    """min(input, max) elementwise, as ``torch.clamp_max`` (also ``Tensor.clamp_max`` and ``clamp_max_``).

    Parameters
    ----------
    input : Tensor
        The input.
    max : number or Tensor
        The upper bound (a tensor broadcasts).

    Returns
    -------
    Tensor
        ``clamp(input, max=max)``: the gradient passes where ``input <= max``.
    """
    return input.clamp(max=max)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``, as ``torch.rsub`` (subtraction with the operands reversed).

    Parameters
    ----------
    input : Tensor
        The subtracted tensor.
    other : Tensor or number
        What ``input`` is subtracted from.
    alpha : number, optional
        The multiplier of ``input``.

    Returns
    -------
    Tensor
        Of the promoted dtype and the broadcast shape.
    """
    if is_tensor(other):
        return Sub.call(other, input, alpha)
    return binary(Sub, other, input if alpha == 1 else input * alpha, "rsub")


def _nan_pair(name, keep_first):
    def pair(input, other):
        for position, (arg, value) in enumerate((("input", input), ("other", other))):
            if not is_tensor(value):
                raise TypeError(f"{name}(): argument '{arg}' (position {position + 1}) must be Tensor, not "
                                f"{type(value).__name__}")
        same_device(input, other, name)
        a, b = promote(input, other, name)
        # Tensor comparisons (recorded ops, so cr.compile replays them): b nan keeps a (nan only if both are)
        return Where.call(keep_first(a, b) | (b != b), a, b)
    return pair


fmax = _nan_pair("fmax", lambda a, b: a >= b)
fmin = _nan_pair("fmin", lambda a, b: a <= b)
_NAN_PAIR_DOC = """The elementwise {word} of two tensors ignoring NaN, as ``torch.{name}`` (also ``Tensor.{name}``).

Where exactly one operand is NaN the other one is taken; NaN only where both are. Both arguments
must be tensors (a number raises TypeError, as torch); they broadcast and promote. Gradient, as
torch's: a tie gives the whole upstream gradient to ``input``.

Parameters
----------
input : Tensor
    The first operand.
other : Tensor
    The second operand.

Returns
-------
Tensor
    Of the promoted dtype and the broadcast shape.
"""
fmax.__name__, fmin.__name__ = "fmax", "fmin"
fmax.__doc__ = _NAN_PAIR_DOC.format(word="maximum", name="fmax")
fmin.__doc__ = _NAN_PAIR_DOC.format(word="minimum", name="fmin")


def ldexp(input, other):
    """``input * 2 ** other``, as ``torch.ldexp`` (also ``Tensor.ldexp`` and ``ldexp_``).

    Parameters
    ----------
    input : Tensor
        The mantissas.
    other : Tensor
        The exponents (integer or float).

    Returns
    -------
    Tensor
        Floating point (integer inputs give the default float dtype), broadcast; differentiable in
        both arguments, as torch's composite.
    """
    if not is_tensor(other):
        raise TypeError(f"ldexp(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return input * Pow.call(2.0, other)


def frexp(input):
    """Splits a float tensor into mantissa and exponent, ``input = mantissa * 2 ** exponent``, as ``torch.frexp``.

    Parameters
    ----------
    input : Tensor
        A floating-point tensor.

    Returns
    -------
    (mantissa, exponent)
        A named tuple: ``mantissa`` of the input's dtype with magnitude in [0.5, 1) (0, inf and nan
        as they are, exponent 0), ``exponent`` int32. The mantissa's gradient is ``grad / 2 ** exponent``.
    """
    if not _is_float(input):
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    xp = namespace(input._data)
    exponent = xp.frexp(input._data)[1]
    scale = xp.ldexp(xp.ones_like(input._data), exponent)  # 2 ** exponent, exact
    return Frexp(Div.call(input, plain(scale)), plain(exponent.astype(np.int32, copy=False)))


def ravel(input):
    """The elements as a 1-D tensor (a view where possible), as ``torch.ravel``.

    Parameters
    ----------
    input : Tensor
        Any tensor (a 0-d one gives 1 element).

    Returns
    -------
    Tensor
        Of shape ``(input.numel(),)``.
    """
    return Reshape.call(input, -1)


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dim removed (a view), as ``torch.select``.

    Parameters
    ----------
    input : Tensor
        At least 1-D.
    dim : int
        The dim to index.
    index : int
        The position along ``dim`` (negative counts from the end).

    Returns
    -------
    Tensor
        ``input[..., index, ...]`` with ``index`` at ``dim``.
    """
    return Index.call(input, _select_key(input, dim, index))


def _select_key(input, dim, index):
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, nd, "select")
    n = input._data.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at "
                         f"dimension {d}")
    return (slice(None),) * d + (int(index),)


def adjoint(input):
    """The conjugate transpose of the last two dims (a view; real tensors: ``transpose(-2, -1)``), as ``torch.adjoint``.

    Parameters
    ----------
    input : Tensor
        A matrix or a batch of matrices (a 0-d tensor is returned as is).

    Returns
    -------
    Tensor
        The transposed view.
    """
    nd = input._data.ndim
    if nd == 1:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return input.transpose(-2, -1) if nd else input


def is_same_size(input, other):
    """True when both tensors have the same shape, as ``torch.is_same_size``.

    Parameters
    ----------
    input, other : Tensor
        The tensors.

    Returns
    -------
    bool
    """
    check_tensor(other, "is_same_size", "other")
    return input._data.shape == other._data.shape


def is_signed(input):
    """True for a signed dtype (floats and signed integers; not bool or uint8), as ``torch.is_signed``.

    Parameters
    ----------
    input : Tensor
        The tensor.

    Returns
    -------
    bool
    """
    return input._data.dtype.kind in "if"


# ---- scatters into a copy, index_reduce, unfold --------------------------------------------------------

def _scatter_into(input, src, path, op):
    """A copy of ``input`` with ``src`` written over the region ``path`` leads to (shapes must match): one
    ``IndexPut`` (torch's CopySlices), so gradients reach both and ``cr.compile`` records it as one op."""
    check_tensor(src, op, "src")
    region = take_along(input._data, path)
    if region.shape != src._data.shape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(region.shape)}")
    same_device(input, src, op)
    return apply(IndexPut, input, src if src._data.dtype == input._data.dtype else src.to(input.dtype), path=path)


def _basic_path(input, key):
    key, basic = index_key(input, key)
    return index_path(torch_order(key, basic), basic)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written over its diagonal (as ``input.diagonal(offset, dim1, dim2)`` selects), as ``torch.diagonal_scatter``.

    Parameters
    ----------
    input : Tensor
        At least 2-D.
    src : Tensor
        Of the diagonal's shape (cast to ``input``'s dtype).
    offset, dim1, dim2 : int, optional
        Which diagonal, as ``diagonal``.

    Returns
    -------
    Tensor
        A new tensor; gradients: ``input`` gets the upstream gradient with the diagonal zeroed,
        ``src`` the diagonal of it.
    """
    nd = input._data.ndim
    a, b = _dim(dim1, nd, "diagonal_scatter"), _dim(dim2, nd, "diagonal_scatter")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    order = tuple(i for i in range(nd) if i not in (a, b)) + (a, b)
    path = ((Diagonal, dict(offset=offset)),)
    if order != tuple(range(nd)):
        path = ((Permute, dict(dims=order)),) + path
    return _scatter_into(input, src, path, "diagonal_scatter")


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written at ``index`` along ``dim`` (where ``select`` reads), as ``torch.select_scatter``.

    Parameters
    ----------
    input : Tensor
        At least 1-D.
    src : Tensor
        Of the selected slice's shape.
    dim : int
        The dim.
    index : int
        The position along ``dim``.

    Returns
    -------
    Tensor
        A new tensor, differentiable in ``input`` and ``src``.
    """
    return _scatter_into(input, src, _basic_path(input, _select_key(input, dim, index)), "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written over the slice ``start:end:step`` of ``dim``, as ``torch.slice_scatter``.

    Parameters
    ----------
    input : Tensor
        At least 1-D.
    src : Tensor
        Of the slice's shape.
    dim : int, optional
        The dim sliced.
    start, end : int, optional
        The slice's bounds (Python's rules: out of range clamps).
    step : int, optional
        A positive step.

    Returns
    -------
    Tensor
        A new tensor, differentiable in ``input`` and ``src``.
    """
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    d = _dim(dim, input._data.ndim, "slice_scatter")
    return _scatter_into(input, src, _basic_path(input, (slice(None),) * d + (slice(start, end, step),)),
                         "slice_scatter")


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Out of place: ``input`` with the slices ``source.select(dim, i)`` combined into ``input.select(dim, index[i])`` by ``reduce``, as ``torch.index_reduce`` (``Tensor.index_reduce_`` in place).

    Parameters
    ----------
    input : Tensor
        The tensor reduced into.
    dim : int
        The dim along which to index.
    index : Tensor
        1-D int64 or int32 positions along ``dim``, one per slice of ``source``.
    source : Tensor
        ``input``'s dtype and shape except at ``dim``, where it has ``len(index)``.
    reduce : str
        ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``.
    include_self : bool, optional
        Whether ``input``'s own values take part in the reduction.

    Returns
    -------
    Tensor
        The result (``scatter_reduce`` with ``index`` broadcast to ``source``; its gradient).
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    check_tensor(index, "index_reduce", "index")
    check_tensor(source, "index_reduce", "source")
    a = index._data
    if a.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: {_name(a.dtype)}")
    if a.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {a.ndim} with type: "
                         f"{_name(a.dtype)} and size: {list(a.shape)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_name(input._data.dtype)}) and source "
                           f"({_name(source._data.dtype)}) must have the same scalar type")
    nd = input._data.ndim
    d = _dim(dim, nd, "index_reduce")
    shape, sshape = input._data.shape or (1,), source._data.shape or (1,)
    if len(sshape) != len(shape) or any(p != q for i, (p, q) in enumerate(zip(shape, sshape)) if i != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    a = a.reshape(-1)
    if a.size != sshape[d]:
        raise RuntimeError(f"index_reduce_(): Number of indices ({a.size}) should be equal to source.size(dim) "
                           f"({sshape[d]})")
    if a.size and (int(a.min()) < 0 or int(a.max()) >= shape[d]):
        raise IndexError("index out of range in self")
    xp = namespace(input._data)
    grid = xp.broadcast_to(a.astype(np.int64).reshape((1,) * d + (-1,) + (1,) * (len(shape) - d - 1)), sshape)
    out = input.scatter_reduce(d, plain(on_device_of(xp.ascontiguousarray(grid), input)),
                               source if source._data.ndim else Reshape.call(source, 1), reduce,
                               include_self=include_self)
    return out


def unfold(input, dimension, size, step):
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as ``torch.Tensor.unfold``.

    Differs from torch: torch returns a strided view; this is a gather (a copy), so writes to the
    result do not reach ``input``. Gradients match: overlapping windows add up.

    Parameters
    ----------
    dimension : int
        The dim slid along.
    size : int
        The window length (>= 0, at most the dim's size).
    step : int
        The distance between window starts (> 0).

    Returns
    -------
    Tensor
        ``dimension`` replaced by the number of windows ``(n - size) // step + 1``, and a new last
        dim of ``size``.
    """
    nd = input._data.ndim
    d = _dim(dimension, nd, "unfold")
    n = input._data.shape[d] if nd else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    x = input if nd else Reshape.call(input, 1)
    xp = namespace(x._data)
    count = (n - size) // step + 1
    idx = xp.arange(count).reshape(-1, 1) * step + xp.arange(size).reshape(1, -1)
    out = apply(Index, x, key=(slice(None),) * d + (idx.astype(np.int64),), basic=False)
    if not nd:
        return Reshape.call(out, (size,))
    return out.movedim(d + 1, -1)
