"""Comparisons and logical ops (eq, lt, ..., &, |, ^, ~): bool results with no gradient, so no
graph node; the tracers (jit.trace, cr.compile) still see them."""
import operator

import numpy as np

from .. import dtypes as _dt
from . import registry
from .args import NUMBER, broadcast_error, is_tensor, operand, same_device
from .elementwise import C_NAMES
from .registry import NO_CTX, Op


_COMPARE = {n: getattr(operator, n) for n in ("eq", "ne", "lt", "le", "gt", "ge")}
_BITWISE = {"bitwise_and": operator.and_, "bitwise_or": operator.or_, "bitwise_xor": operator.xor}
_INT_RANGE = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max)) for t in ("int8", "int16", "int32", "int64",
                                                                                "uint8", "uint16", "uint32", "uint64")}


def _graph_free(op, inputs, out, params):
    """A result that never needs a gradient: a plain tensor, handed to jit.trace/cr.compile's tracer."""
    result = registry.make(out if type(out) is np.ndarray or not isinstance(out, np.generic) else np.asarray(out))
    if registry._tracer is not None:
        registry._tracer(op, inputs, params, result)
    return result


def _in(xp, v, dtype):
    """An operand in torch's promoted dtype (integers wrap, as torch casts a Python int)."""
    return (v if hasattr(v, "astype") else xp.asarray(v)).astype(dtype, copy=False)


def _promoted(op, input, other, name, params):
    """The slow path of a comparison or bitwise op: torch's result dtype (passed to forward as ``dtype``)."""
    if isinstance(other, (list, tuple)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(other).__name__})")
    other = operand(other, name)
    if is_tensor(other):
        same_device(input, other, name)
    b = other._data if is_tensor(other) else other
    if isinstance(b, int) and not isinstance(b, bool) and not -2 ** 63 <= b < 2 ** 64:
        raise OverflowError(f"{name}: int too big to convert")
    res = _dt.result_type(input._data, b).np
    if res != input._data.dtype or hasattr(b, "dtype") and b.dtype != res or \
            isinstance(b, int) and res.kind in "iu":  # a Python int wraps into an integer dtype, as torch
        params = dict(params, dtype=res)
    try:
        out = op.forward(NO_CTX, registry.namespace(input._data), input._data, b, **params)
        return _graph_free(op, (input, other), out, params)
    except ValueError:
        raise broadcast_error(input, other, name) from None


class Compare(Op):
    """out = a <op> b  (op: eq ne lt le gt ge; bool, in torch's promoted dtype);  no gradient"""
    @staticmethod
    def call(input, other, op):  # fast path: a CPU tensor and a number of its kind, or two of one dtype
        a = input._data
        if type(a) is np.ndarray:
            kind = a.dtype.kind
            if type(other) in NUMBER and (kind == "f" or kind in "iu" and type(other) is int
                                          and _INT_RANGE[a.dtype][0] <= other <= _INT_RANGE[a.dtype][1]):
                b = other
            elif isinstance(other, registry.Tensor) and type(other._data) is np.ndarray and other._data.dtype is a.dtype:
                b = other._data
            else:
                return _promoted(Compare, input, other, op, {"op": op})
            try:
                out = _COMPARE[op](a, b)
            except ValueError:
                raise broadcast_error(input, other, op) from None
            result = registry.make(out if type(out) is np.ndarray else np.asarray(out))
            if registry._tracer is not None:
                registry._tracer(Compare, (input, other), {"op": op}, result)
            return result
        return _promoted(Compare, input, other, op, {"op": op})

    @staticmethod
    def forward(ctx, xp, a, b, op, dtype=None):
        if dtype is not None:
            a, b = _in(xp, a, dtype), _in(xp, b, dtype)
        return _COMPARE[op](a, b)

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        return None, None


class Logical(Op):
    """out = bitwise_and/or/xor(a, b), bitwise_not(a) (on bool: logical), logical_and/or/xor/not (bool);
    no gradient"""
    @staticmethod
    def call(input, other=None, op="bitwise_and"):
        a = input._data
        if other is None:  # ~a, logical_not(a)
            if op == "bitwise_not":
                return Logical.invert(input)
            return _graph_free(Logical, (input,), registry.namespace(a).logical_not(a), {"op": op})
        if op[0] == "l":  # logical_and/or/xor: two tensors of any dtypes, a bool result
            if not is_tensor(other):
                raise TypeError(f"{op}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
            same_device(input, other, op)
            fn, b = getattr(registry.namespace(a), op), other._data
        else:
            b = other._data if isinstance(other, registry.Tensor) else other
            for v in (a, b):
                if getattr(v, "dtype", a.dtype).kind == "f" or isinstance(v, float):
                    raise NotImplementedError(f"\"{op}_cpu\" not implemented for "
                                              f"'{C_NAMES[v.dtype.name if hasattr(v, 'dtype') else 'float32']}' "
                                              "(bitwise ops take integer or bool tensors, not floating point)")
            if type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype is not b.dtype:
                return _promoted(Logical, input, other, op, {"op": op})
            fn = _BITWISE[op]  # fast path: two CPU tensors of one dtype
        try:
            return _graph_free(Logical, (input, other), fn(a, b), {"op": op})
        except ValueError:
            raise broadcast_error(input, other, op) from None

    @staticmethod
    def invert(input):
        """Bitwise NOT of an integer tensor (logical NOT for bool), as ``torch.bitwise_not`` (``~``)."""
        a = input._data
        if a.dtype.kind not in "iub":
            raise TypeError(f"~ (operator.invert) is only implemented on integer and Boolean-type tensors, got "
                            f"{a.dtype}")
        out = ~a
        result = registry.make(out if type(out) is np.ndarray or not isinstance(out, np.generic) else np.asarray(out))
        if registry._tracer is not None:
            registry._tracer(Logical, (input,), {"op": "bitwise_not"}, result)
        return result

    @staticmethod
    def forward(ctx, xp, *arrays, op, dtype=None):
        if dtype is not None:
            arrays = [_in(xp, v, dtype) for v in arrays]
        return getattr(xp, "invert" if op == "bitwise_not" else op)(*arrays)

    backward = staticmethod(Compare.backward)
