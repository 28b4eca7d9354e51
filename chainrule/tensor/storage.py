"""Everyday torch functions about memory, conversion and threads: asarray, frombuffer, resize_,
the interop-thread settings, fills, sum_to_size, split_with_sizes, unravel_index and the other
conversions of session 3 (composed of existing Tensor ops, as extra.py's)."""
import math
import os

import numpy as np

from .. import dtypes as _dt
from ..backend import namespace
from ..ops.args import check_tensor, is_tensor, plain, size_args
from ..ops.elementwise import Where
from ..ops.movement import Reshape
from .creation import _leaf, tensor as _new_tensor
from .inplace import inplace_variant, store
from .extra import _name, clamp_max, clamp_min, index_reduce, ldexp


# ---- conversion, storage, threads ---------------------------------------------------------------

def share_memory_(self):
    """Moves the data to shared memory (CPU tensors; others stay as they are), as torch: sent to another
    process through ``chainrule.multiprocessing`` the tensor is then shared, not copied. Returns self."""
    from ..backend import shared  # multiprocessing.shared_memory: imported only when used
    if type(self._data) is np.ndarray and shared.segment_of(self._data) is None:
        self._data = shared.share(self._data)
    return self


def is_shared(self):
    """Whether the data is in shared memory (``share_memory_``); True on a GPU, as torch."""
    from ..backend import shared
    return type(self._data) is not np.ndarray or shared.segment_of(self._data) is not None


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
