"""Reductions that are not primitives of their own: var/std/norm (compositions), max/min (values
and indices, or the elementwise maximum), argmax/argmin, all/any."""
import numpy as np

from ..backend import namespace
from ..ops.args import dim as _dim, reduce_axes, plain, is_tensor
from ..ops.elementwise import Maximum, Minimum, NormSqrt
from ..ops.reduce import Amax, Amin, MaxDim, MinDim
from ..ops.registry import apply


class MinMax(tuple):
    """(values, indices) as returned by max(dim)/min(dim)."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def var(input, dim=None, unbiased=None, keepdim=False, correction=None):
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"var(): input dtype should be floating point, got {input.dtype}")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = reduce_axes(dim, input.data.ndim, "var")
    n = input.data.size if axes is None else int(np.prod([input.data.shape[a] for a in axes]))
    centered = input - input.mean(dim=axes, keepdim=True)
    return (centered * centered).sum(dim=axes, keepdim=keepdim) / max(n - correction, 0)


def std(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return apply(NormSqrt, var(input, dim, unbiased, keepdim, correction))


def norm(input, p=2, dim=None, keepdim=False):
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"norm: Expected a floating point tensor as input. Got {input.dtype}")
    if p == 2:
        return apply(NormSqrt, (input * input).sum(dim, keepdim))
    if p == 1:
        return input.abs().sum(dim, keepdim)
    if p == float("inf"):
        return input.abs().amax(dim if dim is not None else (), keepdim)
    return (input.abs() ** p).sum(dim, keepdim) ** (1.0 / p)


def _extreme(input, dim, keepdim, op):
    """max()/min(): over everything; (values, indices) along ``dim``; or maximum/minimum of two."""
    is_max = op == "max"
    if dim is None:
        if input.data.size == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return apply(Amax if is_max else Amin, input, axes=None, keepdim=False)
    if is_tensor(dim):  # max(a, b) spelled as a.max(b)
        return (Maximum if is_max else Minimum).call(input, dim)
    axis = _dim(dim, input.data.ndim, op)
    xp = namespace(input.data)
    if input.data.ndim == 0:
        return MinMax(apply(Amax if is_max else Amin, input, axes=(), keepdim=False),
                      plain(xp.zeros((), dtype=np.int64)))
    if input.data.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {dim} to have non-zero size.")
    values = apply(MaxDim if is_max else MinDim, input, axis=axis, keepdim=keepdim)
    idx = (xp.argmax if is_max else xp.argmin)(input.data, axis=axis, keepdims=keepdim)
    return MinMax(values, plain(idx.astype(np.int64)))


def max_over(input, dim=None, keepdim=False):
    return _extreme(input, dim, keepdim, "max")


def min_over(input, dim=None, keepdim=False):
    return _extreme(input, dim, keepdim, "min")


def _arg(input, dim, keepdim, op):
    if input.data.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input")
    xp = namespace(input.data)
    if dim is None:
        idx = getattr(xp, op)(input.data)
        return plain(xp.asarray(idx, dtype=np.int64).reshape((1,) * input.data.ndim if keepdim else ()))
    axis = _dim(dim, input.data.ndim, op)
    return plain(getattr(xp, op)(input.data, axis=axis, keepdims=keepdim).astype(np.int64))


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmin")


def all_true(input, dim=None, keepdim=False):
    xp = namespace(input.data)
    return plain(xp.asarray(xp.all(input.data, axis=reduce_axes(dim, input.data.ndim, "all"), keepdims=keepdim)))


def any_true(input, dim=None, keepdim=False):
    xp = namespace(input.data)
    return plain(xp.asarray(xp.any(input.data, axis=reduce_axes(dim, input.data.ndim, "any"), keepdims=keepdim)))
