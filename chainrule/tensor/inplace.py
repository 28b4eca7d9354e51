"""In-place updates: ``x.add_(y)``, ``x += y``, ``x[key] = v``, ``fill_``, ``copy_``, ...

An in-place variant computes its result out of place and ``store`` writes it into the tensor's
memory, so every view of that memory sees the new values, as in torch. In grad mode the write is
also recorded: the tensor's (or, for a view, its base's) history becomes the op that produced
the value, a write through a view becomes ``IndexPut`` of the base (torch's CopySlices), and every
live view of the base is re-derived from the new base. The write is logged: a backward that needs
a value saved before it raises (torch's version counters).
"""
import warnings

import numpy as np

from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import note_write, root_array, writes
from ..backend import namespace, to_device
from ..backend import random as _random
from ..ops.args import is_tensor, leaf_array, plain, same_device
from ..ops.elementwise import Where
from ..ops.movement import IndexPut, index_key, index_path, put_along, take_along, torch_order
from ..ops import registry as _registry
from ..ops.registry import apply


def check_inplace(t, op):
    if t._node is None and t._requires_grad and _grad_state.enabled:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def _view_of(t):
    """(root base, path) when ``t`` is a view, else None."""
    return t._meta.get("view_of") if t._meta is not None else None


def store(t, result, op):
    """Write ``result`` (a Tensor computed out of place, of t's shape) into ``t``."""
    check_inplace(t, op)
    if result._data.dtype != t._data.dtype and not np.can_cast(result._data.dtype, t._data.dtype, "same_kind"):
        raise RuntimeError(f"{op}: result type {result.dtype.name.capitalize()} can't be cast to the "
                           f"desired output type {t.dtype.name.capitalize()}")
    if result._data.shape != t._data.shape:
        raise RuntimeError(f"{op}: output with shape {list(t._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    if not getattr(t._data.flags, "writeable", True):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor "
                           "refers to a single memory location (an expand()ed view). Please clone() the "
                           "tensor before performing the operation.")
    view = _view_of(t)
    root = view[0] if view is not None else t
    if _grad_state.enabled and (result._node is not None or root._requires_grad):
        if view is not None and root._node is None and root._requires_grad:
            raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        if view is not None and "multiple_views" in t._meta:
            raise RuntimeError(f"{op}: {t._meta['multiple_views']} is a view and is being modified inplace. This "
                               "view is the output of a function that returns multiple views. Such functions do "
                               "not allow the output views to be modified inplace. You should replace the "
                               "inplace operation by an out-of-place one.")
        if result._node is None:  # a constant written over a value with a history: gradient 0 there
            result = apply(Where, plain(namespace(t._data).zeros(t._data.shape, dtype=bool)), t, result)
        if result._data.dtype != t._data.dtype:
            result = result.to(t.dtype)
        _own_saved_inputs(result._node, root._data)
        new = result if view is None else apply(IndexPut, root, result, path=view[1])
        namespace(root._data).copyto(root._data, new._data, casting="unsafe")
        _note_write(root, new, op)
        root._node, root._requires_grad = new._node, True
        _rederive_views(root)
        return t
    namespace(t._data).copyto(t._data, result._data, casting="unsafe")
    _note_write(t, result, op)
    return t


def _note_write(t, result, op):
    """Log the write into t (its value now ``result``'s); under jit.trace the traced graph takes result for t."""
    before = writes.epoch
    note_write(t._data)
    if _registry._tracer is not None and hasattr(_registry._tracer, "write"):
        _registry._tracer.write(t, result, op, before)


def _get_grad(t):
    """The gradient backward accumulated into this tensor (a Tensor), or None, as ``torch.Tensor.grad``;
    an assigned one must be None or a Tensor of this tensor's dtype, device and shape."""
    return t._grad


def _set_grad(t, grad):
    if grad is not None:
        if not is_tensor(grad):
            raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                            f"{type(grad).__name__}")
        if grad is t:
            raise RuntimeError("can't assign Variable as its own grad")
        if grad.dtype != t.dtype:
            raise RuntimeError(f"attempting to assign a gradient with dtype '{grad.dtype}' to a tensor with "
                               f"dtype '{t.dtype}'. The gradient must match the tensor's dtype")
        if grad.device != t.device:
            raise RuntimeError(f"attempting to assign a gradient located on device '{grad.device}' to a tensor "
                               f"located on device '{t.device}'. Please ensure that the gradient and the "
                               f"tensor are on the same device")
        if grad.shape != t.shape:
            raise RuntimeError(f"attempting to assign a gradient of size '{list(grad.shape)}' to a tensor of "
                               f"size '{list(t.shape)}'. Please ensure that the gradient and the tensor "
                               f"are the same size")
    t._grad = grad


grad_property = property(_get_grad, _set_grad, doc=_get_grad.__doc__)


def write_out(name, result, out):
    """``name(..., out=out)``: ``result`` (a Tensor, or a tuple for ``out=(a, b)``) written into ``out``, which is
    returned, as torch's out= variants: no autograd through them, the result castable to out's dtype (same
    kind), on out's device; an out of another shape is resized (with torch's warning unless it is empty)."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors, not "
                            f"{type(out).__name__}")
        written = tuple(write_out(name, r, o) for r, o in zip(result, out))
        return type(result)(*written) if hasattr(result, "_fields") else written
    if not is_tensor(out):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _grad_state.enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if out.device != result.device:
        raise RuntimeError(f"{name}(): Expected out tensor to have device {result.device}, but got {out.device} "
                           "instead")
    if out._data.shape != result._data.shape:
        if _view_of(out) is not None:
            raise RuntimeError(f"{name}(): out is a view of shape {list(out.shape)}; the result has shape "
                               f"{list(result.shape)} and a view cannot be resized")
        if out._data.size:
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                          f"which does not match the required output shape {list(result.shape)}. This behavior "
                          "is deprecated, and in a future PyTorch release outputs will not be resized unless they "
                          "have zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, "
                          "to zero elements with t.resize_(0).", UserWarning, stacklevel=3)
        out._data = namespace(out._data).empty(result._data.shape, out._data.dtype)
    return store(out, result, name)


def _own_saved_inputs(node, memory):
    """The op that computed an in-place result read the memory about to be written: it keeps copies
    of what it saved (x.sin_() needs the old x), as torch's in-place formulas do."""
    if node is not None and node.args:
        base = root_array(memory)
        node.args = [a.copy() if hasattr(a, "base") and root_array(a) is base else a for a in node.args]


def _rederive_views(root):
    """Every live view of ``root`` reads from the new base: re-derive its history along its path."""
    views = root._meta.get("views") if root._meta is not None else None
    for v in list(views or ()):
        v._node = take_along(root, v._meta["view_of"][1])._node
        v._requires_grad = True


def inplace_variant(function, name):
    """``name`` (e.g. add_) from its out-of-place ``function`` (add)."""
    def variant(self, *args, **kwargs):
        return store(self, function(self, *args, **kwargs), name)
    variant.__name__ = name
    variant.__doc__ = f"In-place ``{name[:-1]}``: the result is written into this tensor, which is returned." \
        + (f"\n\n{function.__doc__}" if function.__doc__ else "")
    return variant


def _constant(t, value):
    """A tensor of t's shape, dtype and device holding ``value`` (an array or a number)."""
    xp = namespace(t._data)
    out = xp.empty(t._data.shape, dtype=t._data.dtype)
    out[...] = value
    return plain(out)


def zero_(input):
    """Fills the tensor with zeros in place, as ``torch.Tensor.zero_``."""
    return store(input, _constant(input, 0), "zero_")


def fill_(input, value):
    """Fills the tensor with ``value`` (a number or 0-d tensor) in place, as ``torch.Tensor.fill_``."""
    if is_tensor(value) and value._requires_grad and _grad_state.enabled:
        return store(input, value.to(input.dtype).expand(input.shape), "fill_")
    return store(input, _constant(input, value.item() if is_tensor(value) else value), "fill_")


def uniform_(input, *args, generator=None, **bounds):
    """uniform_(from=0, to=1, *, generator=None) (``from`` and ``to`` by keyword too)."""
    given = dict(zip(("from", "to"), args))
    if len(args) > 2 or set(bounds) - {"from", "to"} or set(bounds) & set(given):
        raise TypeError("uniform_() takes from=0, to=1 (by position or keyword) and generator=")
    given.update(bounds)
    a, b = _random.check_uniform(input.dtype, given.get("from", 0.0), given.get("to", 1.0))
    values = _random.uniform_array(input._data.shape, a, b, input._data.dtype, input.device, generator)
    return store(input, plain(values), "uniform_")


def normal_(input, mean=0.0, std=1.0, *, generator=None):
    """Fills the tensor in place with draws from N(mean, std^2), as ``torch.Tensor.normal_``."""
    _random.check_floating(input.dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_random.fmt(std)}")
    values = _random.normal_array(input._data.shape, mean, std, input._data.dtype, input.device, generator)
    return store(input, plain(values), "normal_")


def copy_(input, src):
    """Copies the values of ``src`` (broadcast and cast to this tensor's dtype) into this tensor in place, as
    ``torch.Tensor.copy_``; autograd records the write."""
    src_data = src._data if is_tensor(src) else np.asarray(src)
    try:
        b = np.broadcast_shapes(np.shape(src_data), input._data.shape)
    except ValueError:
        b = None
    if b != input._data.shape:
        raise RuntimeError(f"copy_: the size of src {list(np.shape(src_data))} does not broadcast to "
                           f"self {list(input._data.shape)}")
    if is_tensor(src) and src._requires_grad and _grad_state.enabled:
        value = src.to(input.device).to(input.dtype)
        return store(input, value.expand(input.shape) if value.shape != input.shape else value, "copy_")
    src_data = to_device(src_data, input.device) if hasattr(src_data, "shape") else src_data
    return store(input, _constant(input, src_data), "copy_")


_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _type_name(t):
    return _TORCH_NAMES.get(t.dtype.name, t.dtype.name)


def _masked_fill(key, value):
    """torch writes one CPU value through a single boolean mask (and slices) as masked_fill, casting."""
    arrays = [k for k in key if hasattr(k, "dtype")]
    return (value._data.size == 1 and type(value._data) is np.ndarray and len(arrays) == 1
            and arrays[0].dtype == np.bool_ and arrays[0].ndim > 0)


def setitem(input, key, value):
    """``input[key] = value``"""
    check_inplace(input, "index_put_")
    key, basic = index_key(input, key)
    path = index_path(torch_order(key, basic), basic)
    if is_tensor(value):
        same_device(input, value, "index_put_")
        if not basic and value._data.dtype != input._data.dtype and not _masked_fill(key, value):
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{_type_name(input)} for the destination and {_type_name(value)} for the source.")
        lead = 0  # as torch, leading size-1 dims of the value are dropped (broadcasting adds them back)
        while lead < value._data.ndim and value._data.shape[lead] == 1:
            lead += 1
        if lead:
            value = value.reshape(value._data.shape[lead:])
    v = value._data if is_tensor(value) else value
    try:
        if _grad_state.enabled and (input._requires_grad or _view_of(input) is not None
                                    or is_tensor(value) and value._requires_grad):
            if not is_tensor(value):
                value = plain(leaf_array(value, dtype=input.dtype))
            elif value._data.dtype != input._data.dtype:
                value = value.to(input.dtype)
            store(input, apply(IndexPut, input, value, path=path), "index_put_")
        else:
            put_along(input._data, path, v)
            note_write(input._data)
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be "
                           f"broadcast to indexing result of shape {list(input._data[key].shape)}") from None
