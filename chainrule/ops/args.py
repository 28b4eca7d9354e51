"""Argument checks shared by the ops' public entries: dims, sizes, devices, dtype promotion.

Each raises what torch raises, with a message naming the op and the offending values. Tensors
are made through the bound type (``registry.make``): ops sit below ``chainrule.tensor``.
"""
import numpy as np

from .. import dtypes as _dt
from ..backend import to_device
from . import registry

_ndarray = np.ndarray
NUMBER = (float, int)
_scalar_types = (int, float, bool, np.generic)


def is_tensor(x):
    return isinstance(x, registry.Tensor)


def plain(result):
    """A graph-free tensor from a raw array result (ufuncs on 0-d arrays return NumPy scalars)."""
    return registry.make(result if not isinstance(result, np.generic) else np.asarray(result))


def check_tensor(x, op, arg="input"):
    if not isinstance(x, registry.Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


# ---- dims and sizes --------------------------------------------------------------------------

def dim(d, ndim, op):
    """One dim as a non-negative axis, checked against ``ndim`` (a 0-d tensor accepts 0 and -1)."""
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError(f"{op}(): argument 'dim' must be int or tuple of ints, not {type(d).__name__}")
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not lo <= d <= hi:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{lo}, {hi}], "
                         f"but got {d})")
    return int(d) % ndim if ndim else 0


def dims(d, ndim, op):
    """An int or a tuple of ints as a tuple of non-negative axes (a 0-d tensor has none)."""
    if isinstance(d, (tuple, list)):
        out = tuple(dim(x, ndim, op) for x in d)
        if len(set(out)) != len(out):
            raise RuntimeError(f"{op}: dim {tuple(d)} appears multiple times in the list of dims")
        return out if ndim else ()
    one = dim(d, ndim, op)
    return (one,) if ndim else ()


def reduce_axes(d, ndim, op):
    """A reduction's dims: None (all axes) for None or an empty tuple/list, as torch."""
    return None if d is None or (isinstance(d, (tuple, list)) and not d) else dims(d, ndim, op)


def nonempty(shape, axes, op, error=RuntimeError, dim_error=IndexError):
    """A reduction without an identity (max, argmax, ...) over an empty slice raises what torch raises
    (``error`` for a full reduction, ``dim_error`` for an empty reduced dim), naming the op and shape."""
    if axes is None and 0 in shape:
        raise error(f"{op}(): Expected reduction dim to be specified for input.numel() == 0 (input shape "
                    f"{list(shape)}). Specify the reduction dim with the 'dim' argument.")
    for a in sorted(axes or ()):
        if shape[a] == 0:
            raise dim_error(f"{op}(): Expected reduction dim {a} to have non-zero size (input shape {list(shape)}).")


def _unpack(size):
    """f(2, 3) / f((2, 3)) / f([2, 3]) -> (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return size


def size_args(size, op="size"):
    """A creation size: non-negative ints."""
    size = _unpack(size)
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of "
                            f"type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"{op}(): Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def shape_args(shape):
    """A reshape/expand shape: ints, where -1 may stand for one size."""
    shape = _unpack(shape)
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"shape must be a sequence of ints, but found element of type {type(s).__name__}")
    return tuple(int(s) for s in shape)


# ---- devices, broadcasting and dtypes --------------------------------------------------------

def same_device(a, b, op):
    if (type(a._data) is _ndarray) != (type(b._data) is _ndarray) or a.device != b.device:
        raise RuntimeError(f"{op}: Expected all tensors to be on the same device, but found at least two "
                           f"devices, {a.device} and {b.device}!")


def broadcast_error(a, b, op):
    sa, sb = tuple(np.shape(getattr(a, "_data", a))), tuple(np.shape(getattr(b, "_data", b)))
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(f"{op}: The size of tensor a ({pa[i]}) must match the size of tensor b "
                                f"({pb[i]}) at non-singleton dimension {i} (shapes {list(sa)} and {list(sb)})")
    return RuntimeError(f"{op}: shapes {list(sa)} and {list(sb)} cannot be broadcast together")


def float_needed(t, op):
    """Elementwise float math on int/bool tensors promotes to the default float dtype."""
    return t if t._data.dtype.kind == "f" else t.to(_dt.get_default_dtype())


def float_only(t, op):
    """softmax-like ops refuse integer/bool input (as torch) instead of promoting it."""
    if t._data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {t.dtype} tensors (pass dtype=chainrule.float32)")
    return t


def no_bool_pair(a, b, op):
    if a._data.dtype == np.bool_ and (isinstance(b, bool) or is_tensor(b) and b._data.dtype == np.bool_):
        raise NotImplementedError(f"{op}: not implemented for two bool operands")


def is_float(x):
    return x._data.dtype.kind == "f" if is_tensor(x) else isinstance(x, float)


def is_bool(x):
    return x._data.dtype == np.bool_ if is_tensor(x) else isinstance(x, bool)


def operand(x, op):
    """A binary op's operand: a Tensor, or a Python number (scalars stay numbers, as in torch)."""
    if is_tensor(x):
        return x
    if isinstance(x, _scalar_types):
        return x.item() if isinstance(x, np.generic) else x
    if isinstance(x, _ndarray) or (hasattr(x, "__cuda_array_interface__")):
        return registry.make(x)
    if getattr(x, "is_sparse", False) is True:  # dense (op) sparse is dense, as torch
        return x.to_dense()
    if isinstance(x, (list, tuple)):
        arr = to_array(x)
        return registry.make(arr.astype(_dt.get_default_dtype().np) if arr.dtype.kind == "f" else arr)
    raise TypeError(f"{op}(): unsupported operand type {type(x).__name__}")


def promote(a, b, op):
    """Cast tensor operands to the torch result dtype; scalars stay Python numbers."""
    ta, tb = is_tensor(a), is_tensor(b)
    res = _dt.result_type(a._data if ta else a, b._data if tb else b)
    if ta and tb:
        same_device(a, b, op)
    if ta and a._data.dtype != res.np:
        a = a.to(res)
    if tb and b._data.dtype != res.np:
        b = b.to(res)
    return a, b


def leaf_array(data, dtype=None):
    """The array of a new leaf tensor copying ``data`` (nested lists, scalars, arrays or tensors):
    torch's dtype inference (Python floats -> the default float dtype), then ``dtype`` if given."""
    if is_tensor(data):
        arr = data._data.copy()
    elif hasattr(data, "__cuda_array_interface__"):
        arr = data.copy()
    else:
        arr = to_array(data)
    if dtype is not None:
        arr = arr.astype(_dt.to_dtype(dtype).np, copy=False)
    elif arr.dtype.kind == "f" and not isinstance(data, (np.ndarray, np.generic)) and not is_tensor(data):
        arr = arr.astype(_dt.get_default_dtype().np, copy=False)
    else:
        _dt.from_numpy(arr.dtype)  # raises for unsupported dtypes
    return arr


def to_array(data):
    """A NumPy array from nested lists/tuples/scalars (tensors inside allowed); Python ints give
    int64 (the caller casts Python floats to the default float dtype)."""
    if isinstance(data, (list, tuple)) and any(is_tensor(x) for x in _flat(data)):
        data = _untensor(data)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"tensor(): could not build a tensor from the given data ({e})") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__} "
                        "(expected numbers, booleans or nested sequences of them with a regular shape)")
    if arr.dtype.kind == "i" and arr.dtype != np.int64:
        arr = arr.astype(np.int64) if not isinstance(data, (np.ndarray, np.generic)) else arr
    return arr


def _flat(x):
    for v in x:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _untensor(x):
    if is_tensor(x):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_untensor(v) for v in x]
    return x


def on_device_of(array, t):
    """``array`` moved to tensor ``t``'s device when it is elsewhere."""
    return array if type(t._data) is type(array) else to_device(array, t.device)
