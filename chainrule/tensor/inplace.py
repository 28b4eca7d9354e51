"""In-place updates: ``x.add_(y)``, ``x += y``, ``x[key] = v``, ``fill_``, ``copy_``, ...

An in-place variant computes its result out of place and stores it (``store``). Under grad mode,
when the result is part of a graph, the tensor takes the result's array and node (its old arrays
stay intact for the backward of ops that saved them); otherwise the array is written in place and
the write is logged, so a backward through a value saved before the write raises.
"""
import numpy as np

from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import note_write
from ..backend import namespace, to_device
from ..backend import random as _random
from ..ops.args import is_tensor, leaf_array, plain, same_device
from ..ops.movement import IndexPut, put_at, index_key, torch_order
from ..ops.registry import apply


def check_inplace(t, op):
    if t._node is None and t._requires_grad and _grad_state.enabled:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def store(t, result, op):
    """Store ``result`` (a Tensor computed out of place) into ``t``."""
    check_inplace(t, op)
    if result.data.dtype != t.data.dtype and not np.can_cast(result.data.dtype, t.data.dtype, "same_kind"):
        raise RuntimeError(f"{op}: result type {result.dtype.name.capitalize()} can't be cast to the "
                           f"desired output type {t.dtype.name.capitalize()}")
    if result.data.shape != t.data.shape:
        raise RuntimeError(f"{op}: output with shape {list(t.data.shape)} doesn't match the "
                           f"broadcast shape {list(result.data.shape)}")
    if _grad_state.enabled and result._node is not None:
        if result.data.dtype != t.data.dtype:
            result = result.to(t.dtype)
        t.data, t._node, t._requires_grad = result.data, result._node, True
        return t
    namespace(t.data).copyto(t.data, result.data, casting="unsafe")
    note_write(t.data)
    return t


def inplace_variant(function, name):
    """``name`` (e.g. add_) from its out-of-place ``function`` (add)."""
    def variant(self, *args, **kwargs):
        return store(self, function(self, *args, **kwargs), name)
    variant.__name__ = name
    return variant


def _write(t, op, value):
    check_inplace(t, op)
    t.data[...] = value
    note_write(t.data)
    return t


def zero_(input):
    return _write(input, "zero_", 0)


def fill_(input, value):
    return _write(input, "fill_", value.item() if is_tensor(value) else value)


def uniform_(input, a=0.0, b=1.0):
    return _write(input, "uniform_", _random.uniform_array(input.data.shape, a, b, input.data.dtype, input.device))


def normal_(input, mean=0.0, std=1.0):
    return _write(input, "normal_", _random.normal_array(input.data.shape, mean, std, input.data.dtype,
                                                         input.device))


def copy_(input, src):
    check_inplace(input, "copy_")
    src_data = src.data if is_tensor(src) else np.asarray(src)
    try:
        b = np.broadcast_shapes(np.shape(src_data), input.data.shape)
    except ValueError:
        b = None
    if b != input.data.shape:
        raise RuntimeError(f"copy_: the size of src {list(np.shape(src_data))} does not broadcast to "
                           f"self {list(input.data.shape)}")
    if _grad_state.enabled and (input._node is not None or is_tensor(src) and src._requires_grad):
        _record_put(input, ((Ellipsis,),), src if is_tensor(src) else plain(leaf_array(src_data)))
        return input
    xp = namespace(input.data)
    xp.copyto(input.data, to_device(src_data, input.device) if hasattr(src_data, "shape") else src_data,
              casting="unsafe")
    note_write(input.data)
    return input


def setitem(input, key, value):
    """``input[key] = value``"""
    check_inplace(input, "index_put_")
    key, basic = index_key(input, key)
    keys = torch_order(key, basic)
    v = value.data if is_tensor(value) else value
    if is_tensor(value):
        same_device(input, value, "index_put_")
    try:
        if _grad_state.enabled and (input._requires_grad or is_tensor(value) and value._requires_grad):
            _record_put(input, keys, value)
        else:
            put_at(input.data, keys, v)
            note_write(input.data)
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be "
                           f"broadcast to indexing result of shape {list(input.data[key].shape)}") from None


def _record_put(t, keys, value):
    """A differentiable ``t[keys] = value``: t becomes IndexPut(t, value) in the graph."""
    if is_tensor(value) and value.data.dtype != t.data.dtype:
        value = value.to(t.dtype)
    store(t, apply(IndexPut, t, value, keys=keys), "index_put_")
