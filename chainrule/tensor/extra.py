"""Everyday torch functions that fit no other kind, composed of the existing Tensor ops (so their
gradients are the composed ops'): broadcasting helpers, elementwise gaps (``fmax``, ``ldexp``,
``frexp``, ``rsub``, ...), scatters into a copy (``diagonal_scatter``, ``select_scatter``,
``slice_scatter``, ``index_reduce``), sliding windows (``Tensor.unfold``), conversions and
storage (``asarray``, ``frombuffer``, ``resize_``), in-place view ops (``unsqueeze_``, ``t_``, ...)
and Python-callable maps (``apply_``). The numerical ones (quantiles, ``cov``, ``cdist``, windows,
...) are in ``numeric.py``.
"""
import math
import os
import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd import anomaly as _anomaly
from ..autograd.grad_mode import state as _grad_state
from ..backend import namespace
from ..ops.args import (check_tensor, dim as _dim, is_tensor, on_device_of, plain, promote,
                        same_device, size_args)
from ..ops.elementwise import Div, Pow, Sub, Where, binary
from ..ops.movement import (Diagonal, Expand, Index, IndexPut, Permute, Reshape, index_key, index_path, take_along,
                            torch_order)
from ..ops.registry import apply
from .core import Size, Tensor
from .creation import _leaf, tensor as _new_tensor
from .inplace import check_inplace, inplace_variant, store
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


# ---- conversion, storage, threads ---------------------------------------------------------------

def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``obj`` as a tensor, sharing memory where it can, as ``torch.asarray``.

    A tensor is returned as is (or converted with ``.to`` when ``dtype``/``device`` differ), a
    NumPy array (or anything with ``__array_interface__``) is shared when its dtype fits; other
    objects (numbers, nested sequences) are copied as ``tensor`` does.

    Parameters
    ----------
    obj : object
        A tensor, array, buffer, number or nested sequence.
    dtype : dtype, optional
        The result's dtype (inferred when None).
    device : device, optional
        The result's device.
    copy : bool, optional
        True: always copy; False: never (ValueError when a copy is needed); None: when needed.
    requires_grad : bool, optional
        None keeps ``obj``'s (a tensor's) setting; True makes the result require grad (in place
        on a tensor returned as is); False detaches it.

    Returns
    -------
    Tensor
    """
    if is_tensor(obj):
        want = _dt.to_dtype(dtype) if dtype is not None else obj.dtype
        moves = want != obj.dtype or (device is not None and str(device) != str(obj.device))
        if moves and copy is False:
            raise ValueError(f"can't alias tensor with dtype '{_name(obj._data.dtype)}' into dtype "
                             f"'{_name(want.np)}'.")
        out = obj.to(dtype=want, device=device) if moves else obj
        if copy and out is obj:
            out = obj.clone()
    elif isinstance(obj, np.ndarray) or hasattr(obj, "__array_interface__"):
        arr = np.asarray(obj)
        want = _dt.to_dtype(dtype).np if dtype is not None else arr.dtype
        if want != arr.dtype and copy is False:
            raise ValueError(f"can't alias tensor with dtype '{_name(arr.dtype)}' into dtype '{_name(want)}'.")
        arr = arr.astype(want, copy=bool(copy))
        out = _leaf(arr, device)
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        out = _new_tensor(obj, dtype=dtype, device=device)
    if requires_grad and not out.requires_grad:
        out.requires_grad_(True)
    elif requires_grad is False and out.requires_grad:
        out = out.detach()
    return out


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of a Python buffer (``bytearray``, ``memoryview``, ``array.array``, ...), as ``torch.frombuffer``.

    Shares memory with a writable buffer, as torch. Differs from torch: a read-only buffer
    (``bytes``) is copied, where torch shares it and warns that writes are undefined.

    Parameters
    ----------
    buffer : object
        Anything exposing the buffer protocol.
    dtype : dtype
        The element type (keyword only, required).
    count : int, optional
        How many elements to read (-1: all after ``offset``).
    offset : int, optional
        Bytes to skip at the start.
    requires_grad : bool, optional
        Make it a leaf that requires grad.

    Returns
    -------
    Tensor
        ``(count,)``.
    """
    d = _dt.to_dtype(dtype).np
    nbytes = memoryview(buffer).nbytes
    size = d.itemsize
    if nbytes == 0 or count == 0:
        raise ValueError(f"both buffer length ({nbytes}) and count ({count}) must not be 0")
    if not 0 <= offset < nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                         f"({nbytes} bytes) minus 1")
    if count < 0:
        if (nbytes - offset) % size:
            raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} bytes) must be a "
                             f"multiple of element size ({size})")
        count = (nbytes - offset) // size
    elif offset + count * size > nbytes:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) must not "
                         f"be greater than actual buffer length ({nbytes} bytes)")
    arr = np.frombuffer(buffer, dtype=d, count=count, offset=offset)
    return _leaf(arr if arr.flags.writeable else arr.copy(), None, requires_grad)


def resize_(self, *sizes, memory_format=None):
    """Resizes the tensor in place to ``sizes``, as ``torch.Tensor.resize_``.

    The first ``numel`` elements (in row-major order) are kept; a larger size appends zeros (torch:
    uninitialised memory). Shrinking a contiguous tensor keeps its memory; growing allocates anew,
    so views taken before no longer alias it (torch keeps them on the old storage too).

    Parameters
    ----------
    *sizes : int or sequence of ints
        The new shape.
    memory_format : optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        ``self``.
    """
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = size_args(sizes, "resize_")
    if shape == self._data.shape:
        return self
    xp = namespace(self._data)
    flat = self._data.reshape(-1)
    n = math.prod(shape)
    if n <= flat.size:
        self._data = flat[:n].reshape(shape)
    else:
        grown = xp.zeros(n, dtype=flat.dtype)
        grown[:flat.size] = flat
        self._data = grown.reshape(shape)
    return self


def resize_as_(self, the_template, *, memory_format=None):
    """Resizes the tensor in place to ``the_template``'s shape, as ``torch.Tensor.resize_as_`` (see ``resize_``).

    Parameters
    ----------
    the_template : Tensor
        The tensor whose shape to take.
    memory_format : optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        ``self``.
    """
    check_tensor(the_template, "resize_as_", "the_template")
    return resize_(self, tuple(the_template.shape))


_interop_threads = [None]


def get_num_interop_threads():
    """The number of threads for inter-op parallelism, as ``torch.get_num_interop_threads``.

    chainrule runs ops one after another (NumPy releases no inter-op pool), so this is only the
    value set by ``set_num_interop_threads`` (the CPU count by default), kept for programs that
    read it.

    Returns
    -------
    int
    """
    return _interop_threads[0] or os.cpu_count() or 1


def set_num_interop_threads(num):
    """Sets the value ``get_num_interop_threads`` returns, as ``torch.set_num_interop_threads`` (no other effect).

    Parameters
    ----------
    num : int
        A positive number of threads.
    """
    if not isinstance(num, int) or isinstance(num, bool):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _interop_threads[0] = num


# ---- more everyday names: conversions, in-place fills, integration, special functions ------------------

def get_device(input):
    """The CUDA device index of the tensor, -1 on the CPU, as ``torch.get_device`` (also ``Tensor.get_device``).

    Parameters
    ----------
    input : Tensor
        The tensor.

    Returns
    -------
    int
    """
    dev = input.device
    return -1 if dev.type == "cpu" else (dev.index or 0)


def fill_diagonal_(self, fill_value, wrap=False):
    """Writes ``fill_value`` on the main diagonal in place, as ``torch.Tensor.fill_diagonal_``.

    Parameters
    ----------
    fill_value : number or Tensor
        The value (a 0-d tensor may require grad), cast to the tensor's dtype.
    wrap : bool, optional
        For a tall 2-D matrix: restart the diagonal every ``columns + 1`` rows, as NumPy's
        ``fill_diagonal``.

    Returns
    -------
    Tensor
        ``self``; the gradient is 0 at the overwritten entries.
    """
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = namespace(self._data)
    if len(shape) == 2:
        rows, cols = shape
        end = rows * cols if wrap else min(rows, cols) * cols
        flat = xp.arange(0, end, cols + 1)
    else:
        n = shape[0]
        flat = xp.arange(n) * sum(n ** k for k in range(len(shape)))
    mask = xp.zeros(self._data.size, dtype=bool)
    mask[flat] = True
    if is_tensor(fill_value):
        if fill_value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{fill_value._data.ndim} dimensions.")
        fill_value = fill_value.to(self.dtype)
    else:
        fill_value = plain(xp.asarray(fill_value).astype(self._data.dtype))
    return store(self, Where.call(plain(mask.reshape(shape)), fill_value, self), "fill_diagonal_")


def fill(input, value):
    """A new tensor of ``input``'s shape and dtype filled with ``value``, as ``torch.fill`` (``fill_`` out of place).

    Parameters
    ----------
    input : Tensor
        Gives the shape, dtype and device.
    value : number or Tensor
        The value (a 0-d tensor, which gets the summed gradient).

    Returns
    -------
    Tensor
    """
    check_tensor(input, "fill")
    xp = namespace(input._data)
    if is_tensor(value):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} "
                               "dimensions.")
        return Where.call(plain(xp.ones(input._data.shape, dtype=bool)), value.to(input.dtype), input)
    out = xp.empty(input._data.shape, dtype=input._data.dtype)
    out[...] = value
    return plain(out)


def sum_to_size(self, *size):
    """The sum over the dims that broadcasting ``size`` to the tensor's shape would expand, as ``torch.Tensor.sum_to_size``.

    Parameters
    ----------
    *size : int or sequence of ints
        A shape that broadcasts to this tensor's shape.

    Returns
    -------
    Tensor
        Of shape ``size``.
    """
    size = size_args(size, "sum_to_size")
    shape = self._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1)
    out = self.sum(axes, keepdim=True) if axes else self
    return Reshape.call(out, size) if out._data.shape != size else out


def split_with_sizes(input, split_sizes, dim=0):
    """Splits along ``dim`` into views of the given sizes, as ``torch.split_with_sizes``.

    Parameters
    ----------
    input : Tensor
        The tensor to split.
    split_sizes : sequence of ints
        The sizes, summing to ``input.size(dim)``.
    dim : int, optional
        The dim split.

    Returns
    -------
    tuple of Tensor
    """
    return input.split(list(split_sizes), dim)


def unravel_index(indices, shape):
    """The coordinates in an array of ``shape`` of each flat index, as ``torch.unravel_index``.

    Parameters
    ----------
    indices : Tensor
        Integer flat indices (negative ones count from the end).
    shape : int or sequence of ints
        The array's shape.

    Returns
    -------
    tuple of Tensor
        One int64 tensor of ``indices``'s shape per dim of ``shape``.
    """
    if not is_tensor(indices):
        raise TypeError(f"expected 'indices' to be a Tensor, but got {type(indices).__name__}")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    total = math.prod(shape)
    a = indices._data.astype(np.int64)
    if a.size and (int(a.min()) < -total or int(a.max()) >= total):
        raise RuntimeError(f"'indices' must be in range [{-total}, {total - 1}]")
    a = a % total if total else a
    out = []
    for s in reversed(shape):
        out.append(a % s if s else a)
        a = a // s if s else a
    return tuple(plain(c) for c in reversed(out))


def _on_a_copy(fn, name):
    """``name`` (e.g. sinc_) computed from a copy of the tensor when it has a history: the composed ops save
    arrays of the memory that the write replaces."""
    def variant(self, *args, **kwargs):
        return store(self, fn(self.clone() if self.requires_grad else self, *args, **kwargs), name)
    variant.__name__ = name
    variant.__doc__ = f"""In-place ``{name[:-1]}``: the result is written into this tensor, which is returned.

    Returns
    -------
    Tensor
        ``self``.
    """
    return variant


def _in_place(fn, name):
    """``inplace_variant`` with a docstring that is valid reStructuredText on its own."""
    variant = inplace_variant(fn, name)
    variant.__doc__ = f"""In-place ``{name[:-1]}`` (see ``{name[:-1]}``): the result is written into this tensor.

    Returns
    -------
    Tensor
        ``self``.
    """
    return variant


clamp_min_, clamp_max_ = _in_place(clamp_min, "clamp_min_"), _in_place(clamp_max, "clamp_max_")
ldexp_ = _in_place(ldexp, "ldexp_")
index_reduce_ = _in_place(index_reduce, "index_reduce_")


def _integer_cast(dtype, method):
    def cast(self, memory_format=None):
        return self.to(dtype)
    cast.__name__ = method
    cast.__doc__ = f"""This tensor as ``chainrule.{dtype.name}``, as ``torch.Tensor.{method}`` (``self.to(chainrule.{dtype.name})``).

    ``self`` itself when it already has that dtype; floats are truncated toward zero (out-of-range
    values wrap, as NumPy's cast); the result has no gradient.

    Parameters
    ----------
    memory_format : optional
        Accepted, no effect.

    Returns
    -------
    Tensor
    """
    return cast


byte, char, short = (_integer_cast(_dt.uint8, "byte"), _integer_cast(_dt.int8, "char"),
                     _integer_cast(_dt.int16, "short"))


# ---- in-place view ops (squeeze_, unsqueeze_, t_, transpose_, ...) and Python-callable maps ------------

def _view_in_place(fn, name, what):
    """``name``: this tensor becomes the view ``fn(self, ...)`` returns (same memory, new shape).

    A tensor that is not itself a view hands its identity as a base (its history and its live views)
    to a new Tensor first, and then becomes a view of that base, so in-place writes through it or
    through views taken earlier still reach one another with their histories, as torch's strided views.
    """
    def variant(self, *args, **kwargs):
        check_inplace(self, name)
        meta = dict(self._meta) if self._meta is not None else {}
        root = meta.get("view_of", (None,))[0]
        if root is not None and root._node is None and root._requires_grad and _grad_state.enabled:
            raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        src = self
        if "view_of" not in meta:
            src = Tensor._make(self._data)
            src._node, src._requires_grad, src._meta = self._node, self._requires_grad, self._meta
            moved = list(meta.pop("views", None) or ())
            for v in moved:
                v._meta["view_of"] = (src, v._meta["view_of"][1])
        out = fn(src, *args, **kwargs)
        if out is src:  # nothing to do (transpose_(1, 1)): the views stay with self
            for v in moved if src is not self else ():
                v._meta["view_of"] = (self, v._meta["view_of"][1])
            return self
        meta.pop("view_of", None)
        meta.update(out._meta or {})
        if "view_of" in meta and src is not self:  # src re-derives self (not the temporary ``out``) after a write
            meta["view_of"][0]._meta["views"].add(self)
        self._data, self._node, self._requires_grad = out._data, out._node, out._requires_grad
        self._meta = meta or None
        return self
    variant.__name__ = name
    variant.__doc__ = f"""In-place ``{name[:-1]}``: this tensor itself becomes {what}, as ``torch.Tensor.{name}``.

    Same memory, new shape; a leaf that requires grad refuses it in grad mode, as torch.

    Returns
    -------
    Tensor
        ``self``.
    """
    return variant


squeeze_ = _view_in_place(lambda t, dim=None: t.squeeze(dim), "squeeze_", "``squeeze(dim)`` (size-1 dims removed)")
unsqueeze_ = _view_in_place(lambda t, dim: t.unsqueeze(dim), "unsqueeze_", "``unsqueeze(dim)``")
t_ = _view_in_place(lambda t: t.t(), "t_", "its transpose (``t()``)")
transpose_ = _view_in_place(lambda t, dim0, dim1: t.transpose(dim0, dim1), "transpose_", "``transpose(dim0, dim1)``")
swapaxes_ = _view_in_place(lambda t, axis0, axis1: t.transpose(axis0, axis1), "swapaxes_",
                           "``swapaxes(axis0, axis1)``")
swapdims_ = _view_in_place(lambda t, dim0, dim1: t.transpose(dim0, dim1), "swapdims_", "``swapdims(dim0, dim1)``")


def _python_map(self, others, callable, name):
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    if not isinstance(self._data, np.ndarray):
        raise RuntimeError(f"{name} is only implemented on CPU tensors")
    arrays = [self._data]
    for o in others:
        check_tensor(o, name, "tensor")
        try:
            arrays.append(np.broadcast_to(o._data, self._data.shape))
        except ValueError:
            raise RuntimeError(f"The expanded size of the tensor ({list(self._data.shape)}) must match the existing "
                               f"size ({list(o._data.shape)})") from None
    kind = self._data.dtype.type
    values = [kind(callable(*(a.item() for a in items))) for items in zip(*(a.reshape(-1) for a in arrays))]
    return store(self, plain(np.asarray(values, dtype=self._data.dtype).reshape(self._data.shape)), name)


def apply_(self, callable):
    """Replaces each element ``x`` by ``callable(x)`` (a Python function, element by element), as ``torch.Tensor.apply_``.

    CPU only and slow, as in torch; a tensor that requires grad refuses it.

    Parameters
    ----------
    callable : callable
        Maps a Python number to a number (cast to the tensor's dtype).

    Returns
    -------
    Tensor
        ``self``.
    """
    return _python_map(self, (), callable, "apply_")


def map_(self, tensor, callable):
    """Replaces each element ``x`` by ``callable(x, y)`` with ``y`` from ``tensor`` (broadcast), as ``torch.Tensor.map_``.

    Parameters
    ----------
    tensor : Tensor
        Broadcast to this tensor's shape.
    callable : callable
        Maps two Python numbers to a number.

    Returns
    -------
    Tensor
        ``self``.
    """
    return _python_map(self, (tensor,), callable, "map_")


def map2_(self, x, y, callable):
    """Replaces each element ``a`` by ``callable(a, b, c)`` with ``b``, ``c`` from ``x``, ``y`` (broadcast), as ``torch.Tensor.map2_``.

    Parameters
    ----------
    x, y : Tensor
        Broadcast to this tensor's shape.
    callable : callable
        Maps three Python numbers to a number.

    Returns
    -------
    Tensor
        ``self``.
    """
    return _python_map(self, (x, y), callable, "map2_")


def is_pinned(self, device=None):
    """False: chainrule has no page-locked host memory, as ``torch.Tensor.is_pinned`` for unpinned memory.

    Parameters
    ----------
    device : optional
        Accepted, no effect.

    Returns
    -------
    bool
    """
    return False


# ---- global settings and predicates that scripts call (no effect on NumPy's arithmetic) -------------------

_settings = {"matmul_precision": "highest", "warn_always": False}


def get_float32_matmul_precision():
    """The float32 matmul precision last set (``'highest'`` by default), as ``torch.get_float32_matmul_precision``.

    Returns
    -------
    str
    """
    return _settings["matmul_precision"]


def set_float32_matmul_precision(precision):
    """Records the float32 matmul precision, as ``torch.set_float32_matmul_precision``.

    NumPy's BLAS always computes float32 products in float32 (``'highest'``); ``'high'`` and
    ``'medium'`` (TF32/bfloat16 on GPUs in torch) are accepted and only reported back. An unknown
    value warns and changes nothing, as torch.

    Parameters
    ----------
    precision : str
        ``'highest'``, ``'high'`` or ``'medium'``.
    """
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _settings["matmul_precision"] = precision


def set_warn_always(b):
    """Records whether warnings that torch issues once should be issued every time, as ``torch.set_warn_always``.

    Parameters
    ----------
    b : bool
    """
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled():
    """The flag ``set_warn_always`` sets, as ``torch.is_warn_always_enabled``.

    Returns
    -------
    bool
    """
    return _settings["warn_always"]


def set_flush_denormal(mode):
    """Would flush denormal floats to zero, as ``torch.set_flush_denormal``; NumPy cannot, so it returns False.

    Parameters
    ----------
    mode : bool
        Ignored.

    Returns
    -------
    bool
        False: flushing denormals is not supported (torch's answer on a CPU without the feature).
    """
    return False


def set_anomaly_enabled(enabled, check_nan=True):
    """Turns anomaly detection on or off, as ``torch.set_anomaly_enabled`` (``cr.autograd.set_detect_anomaly``).

    Parameters
    ----------
    enabled : bool
        On or off.
    check_nan : bool, optional
        Accepted; chainrule's anomaly mode always checks for NaN and inf.
    """
    _anomaly.set_detect_anomaly(enabled)


def is_anomaly_enabled():
    """True when anomaly detection is on, as ``torch.is_anomaly_enabled``.

    Returns
    -------
    bool
    """
    return _anomaly.is_anomaly_enabled()


def is_anomaly_check_nan_enabled():
    """True when anomaly detection (which checks for NaN) is on, as ``torch.is_anomaly_check_nan_enabled``.

    Returns
    -------
    bool
    """
    return _anomaly.is_anomaly_enabled()


def is_storage(obj):
    """False: chainrule has no storage objects (tensors hold arrays), as ``torch.is_storage`` for a non-storage.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    return False


def is_inference(input):
    """True for a tensor made in ``inference_mode``, as ``torch.is_inference``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    bool
    """
    return input.is_inference()


def is_conj(input):
    """False: a real tensor has no lazy conjugate bit, as ``torch.is_conj`` (also ``Tensor.is_conj``).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    bool
    """
    return False


def is_neg(input):
    """False: a real tensor has no lazy negative bit, as ``torch.is_neg`` (also ``Tensor.is_neg``).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    bool
    """
    return False


def resolve_conj(input):
    """``input`` itself (no lazy conjugation to materialise), as ``torch.resolve_conj`` (also ``Tensor.resolve_conj``).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return input


def resolve_neg(input):
    """``input`` itself (no lazy negation to materialise), as ``torch.resolve_neg`` (also ``Tensor.resolve_neg``).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return input


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised tensor of shape ``size`` laid out in memory in the dim order ``physical_layout``, as ``torch.empty_permuted``.

    Parameters
    ----------
    size : sequence of ints
        The logical shape.
    physical_layout : sequence of ints
        A permutation of the dims, outermost first (``(0, 2, 3, 1)`` is channels-last for NCHW).
    dtype : dtype, optional
        The default float dtype when None.
    layout : optional
        Strided only.
    device : device, optional
        Where to create it.
    requires_grad : bool, optional
        Make it a leaf that requires grad.
    pin_memory : bool, optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        Its ``stride()`` follows ``physical_layout``, as torch's.
    """
    size = size_args((size,), "empty_permuted")
    order = tuple(physical_layout)
    if len(order) != len(size):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; i.e. "
                           f"len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}")
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"physical_layout must be a permutation of the dims, got {list(order)}")
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    physical = np.empty(tuple(size[i] for i in order), dtype=d.np)
    return _leaf(physical.transpose(tuple(int(i) for i in np.argsort(order))), device, requires_grad)
