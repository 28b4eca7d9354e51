"""Reductions that are not primitives of their own: var/std/norm (compositions), max/min (values
and indices, or the elementwise maximum), argmax/argmin, all/any."""
import math

import numpy as np

from ..backend import namespace
from ..ops.args import dim as _dim, dims as _dims, nonempty, reduce_axes, plain, is_tensor
from ..ops.elementwise import Maximum, Minimum, NormSqrt, Where
from ..ops.reduce import Amax, Amin, MaxDim, MinDim
from ..ops.registry import apply


class MinMax(tuple):
    """(values, indices) as returned by max(dim)/min(dim), printed as torch.return_types.max/min."""
    op = "max"

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return f"chainrule.return_types.{self.op}(\nvalues={self[0]!r},\nindices={self[1]!r})"


class _Min(MinMax):
    op = "min"


def _spread(input, dim, unbiased, keepdim, correction, op):
    """The variance over ``dim`` (sum of squared deviations / (n - correction)) and the dtype to cast
    it (or its sqrt, the std) back to, or None. In float32 (and half) the squares overflow above
    |x - mean| ~ 1e19 (and vanish below ~1e-19) where the variance or std does not: torch sums them
    in float64, so where the result is not finite or is tiny they are summed again in float64."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): input dtype should be floating point, got {input.dtype}")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = reduce_axes(dim, input._data.ndim, op)
    n = input._data.size if axes is None else int(np.prod([input._data.shape[a] for a in axes]))
    centered = input - input.mean(dim=axes, keepdim=True)
    with np.errstate(over="ignore", under="ignore"):  # redone below
        out = (centered * centered).sum(dim=axes, keepdim=keepdim) / max(n - correction, 0)
    info = np.finfo(input._data.dtype)
    if info.bits < 64 and not bool(((out._data >= info.tiny / info.eps) & (out._data <= info.max)).all()):
        wide = centered.double()
        return (wide * wide).sum(dim=axes, keepdim=keepdim) / max(n - correction, 0), input.dtype
    return out, None


def var(input, dim=None, unbiased=None, keepdim=False, correction=None):
    out, narrow = _spread(input, dim, unbiased, keepdim, correction, "var")
    if narrow is None:
        return out
    with np.errstate(over="ignore"):  # a variance beyond float32 is inf, as torch
        return out.to(narrow)


def std(input, dim=None, unbiased=None, keepdim=False, correction=None):
    out, narrow = _spread(input, dim, unbiased, keepdim, correction, "std")
    out = apply(NormSqrt, out)
    return out if narrow is None else out.to(narrow)


_SPREAD_DOC = """The {word} over ``dim`` (all elements when None), as ``torch.{name}`` (also ``Tensor.{name}``).

{formula}, N the number of elements reduced: ``correction=1`` (the default, Bessel's) gives the
sample {word}, ``correction=0`` the population one. torch's older spelling
``{name}(input, dim, unbiased, keepdim)`` works too (``unbiased=False`` is ``correction=0``). Where
N <= correction the result is nan or inf, as torch. A float32 (or float16) {word} that would
overflow or underflow is computed in float64 and cast back. Floating-point input only: an
integer or bool tensor raises RuntimeError. Differentiable.

Parameters
----------
input : Tensor
    A floating-point tensor.
dim : int or tuple of int, optional
    The dims to reduce; None (the default) reduces all of them.
unbiased : bool, optional
    The older spelling of ``correction`` (True: 1, False: 0).
keepdim : bool, default False
    Keep the reduced dims with size 1.
correction : int, optional (keyword)
    Subtracted from N in the denominator; 1 when neither it nor ``unbiased`` is given.

Returns
-------
Tensor
    Of ``input``'s dtype.

Examples
--------
>>> x = cr.tensor([1., 2., 4.])
>>> x.{name}()
{example}
>>> x.{name}(correction=0)
{example0}
"""
var.__doc__ = _SPREAD_DOC.format(name="var", word="variance", formula="``sum((x - mean)**2) / (N - correction)``",
                                 example="tensor(2.3333)", example0="tensor(1.5556)")
std.__doc__ = _SPREAD_DOC.format(name="std", word="standard deviation",
                                 formula="``sqrt(sum((x - mean)**2) / (N - correction))``",
                                 example="tensor(1.5275)", example0="tensor(1.2472)")


def norm(input, p="fro", dim=None, keepdim=False):
    """The p-norm over ``dim``, with torch's conventions: one entry per norm gives |x| (no square to
    overflow); gradient 0 where the norm is 0 and, for p < 1, at zero entries; p = 0 counts nonzeros.
    p='fro' (the default) is p = 2 over all dims, one or two dims."""
    if p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
        p = 2
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"norm: Expected a floating point tensor as input. Got {input.dtype}")
    axes = reduce_axes(dim, input._data.ndim, "norm")
    if p != 0 and (input._data.size if axes is None else math.prod(input._data.shape[a] for a in axes)) == 1:
        return input.abs().sum(axes, keepdim)
    if p == 2:
        return apply(NormSqrt, (input * input).sum(axes, keepdim))
    if p == 1:
        return input.abs().sum(axes, keepdim)
    if p in (math.inf, -math.inf):  # max/min |x|; as torch, a nan takes the gradient (times sign 0)
        if not input._data.size:
            nonempty(input._data.shape, axes, "norm (p = inf: no identity)", RuntimeError, RuntimeError)
        return apply(Amax if p > 0 else Amin, input.abs(), axes=axes, keepdim=keepdim, evenly=True)
    if p < 1:  # a zero entry adds 0 (p < 0: inf)
        nz = plain(input._data != 0)
        total = Where.call(nz, Where.call(nz, input.abs(), 1.0) ** p, 0.0 if p >= 0 else math.inf).sum(axes, keepdim)
        if p == 0:
            return total
    else:
        total = (input.abs() ** p).sum(axes, keepdim)
    zero = plain(total._data == 0)  # the root's gradient is inf there
    return Where.call(zero, 0.0, Where.call(zero, 1.0, total) ** (1.0 / p))


def _extreme(input, dim, keepdim, op):
    """max()/min(): over everything; (values, indices) along ``dim``; or maximum/minimum of two."""
    is_max = op == "max"
    if dim is None:
        nonempty(input._data.shape, None, op)
        return apply(Amax if is_max else Amin, input, axes=None, keepdim=False, evenly=True)
    if is_tensor(dim):  # max(a, b) spelled as a.max(b)
        return (Maximum if is_max else Minimum).call(input, dim)
    axis = _dim(dim, input._data.ndim, op)
    xp = namespace(input._data)
    if input._data.ndim == 0:
        return (MinMax if is_max else _Min)(apply(Amax if is_max else Amin, input, axes=(), keepdim=False,
                                                  evenly=True),
                      plain(xp.zeros((), dtype=np.int64)))
    nonempty(input._data.shape, (axis,), op)
    values = apply(MaxDim if is_max else MinDim, input, axis=axis, keepdim=keepdim)
    idx = (xp.argmax if is_max else xp.argmin)(input._data, axis=axis, keepdims=keepdim)
    return (MinMax if is_max else _Min)(values, plain(idx.astype(np.int64)))


def max_over(input, dim=None, keepdim=False):
    return _extreme(input, dim, keepdim, "max")


def min_over(input, dim=None, keepdim=False):
    return _extreme(input, dim, keepdim, "min")


_EXTREME_DOC = """The {word} element, or the {word} along a dim with its index, as ``torch.{name}`` (also ``Tensor.{name}``).

Three forms, as torch:

- ``{name}(input)``: a 0-d tensor, the {word} of all elements (an empty input raises RuntimeError);
  the gradient is shared evenly among the elements equal to it.
- ``{name}(input, dim, keepdim=False)``: the pair ``(values, indices)`` along ``dim``, ``indices``
  int64 (the first occurrence); the gradient goes to the selected element only.
- ``{name}(input, other)`` with a tensor ``other``: the elementwise ``{pair}(input, other)``.

Differs from torch: the pair is a tuple subclass with ``.values`` and ``.indices`` that prints as
a plain tuple, not a ``torch.return_types.{name}``.

Parameters
----------
input : Tensor
    The tensor to reduce.
dim : int or Tensor, optional
    The dim to reduce, or the ``other`` tensor of the elementwise form.
keepdim : bool, default False
    Keep the reduced dim with size 1.

Returns
-------
Tensor or (Tensor, Tensor)
    The {word} (0-d), the ``(values, indices)`` pair, or the elementwise {pair}.

Examples
--------
>>> x = cr.tensor([[1., 5.], [3., 4.]])
>>> x.{name}()
{example}
>>> values, indices = x.{name}(1)
>>> values, indices
{example_dim}
"""
max_over.__doc__ = _EXTREME_DOC.format(name="max", word="largest", pair="maximum", example="tensor(5.)",
                                       example_dim="(tensor([5., 4.]), tensor([1, 1]))")
min_over.__doc__ = _EXTREME_DOC.format(name="min", word="smallest", pair="minimum", example="tensor(1.)",
                                       example_dim="(tensor([1., 3.]), tensor([0, 0]))")


def _arg(input, dim, keepdim, op):
    if input._data.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input")
    xp = namespace(input._data)
    nonempty(input._data.shape, None if dim is None else (_dim(dim, input._data.ndim, op),), op, IndexError)
    if dim is None:
        idx = getattr(xp, op)(input._data)
        return plain(xp.asarray(idx, dtype=np.int64).reshape((1,) * input._data.ndim if keepdim else ()))
    axis = _dim(dim, input._data.ndim, op)
    return plain(getattr(xp, op)(input._data, axis=axis, keepdims=keepdim).astype(np.int64))


def argmax(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmin")


_ARG_DOC = """The index of the {word} element, as ``torch.{name}`` (also ``Tensor.{name}``).

With ``dim=None`` the index is into the flattened input (a 0-d tensor, or size-1 dims with
``keepdim=True``); with ``dim``, the indices along that dim. Ties give the first occurrence. A
bool input, or an empty reduction, raises as torch. No gradient.

Parameters
----------
input : Tensor
    A tensor of any dtype but bool.
dim : int, optional
    The dim to reduce; None (the default) for the flattened input.
keepdim : bool, default False
    Keep the reduced dim(s) with size 1.

Returns
-------
Tensor
    int64.

Examples
--------
>>> x = cr.tensor([[1., 5.], [3., 4.]])
>>> x.{name}(), x.{name}(1)
{example}
"""
argmax.__doc__ = _ARG_DOC.format(name="argmax", word="largest", example="(tensor(1), tensor([1, 1]))")
argmin.__doc__ = _ARG_DOC.format(name="argmin", word="smallest", example="(tensor(0), tensor([0, 0]))")


def _logical(input, dim, keepdim, op):
    """all/any: over everything for dim=None; over no dim (elementwise, as torch) for dim=()."""
    xp = namespace(input._data)
    axes = None if dim is None else _dims(dim, input._data.ndim, op)
    out = xp.asarray(getattr(xp, op)(input._data, axis=axes, keepdims=keepdim))
    # torch keeps uint8 for uint8 input (a legacy of pre-bool masks); every other dtype gives bool
    return plain(out.astype(np.uint8) if input._data.dtype == np.uint8 else out)


def all_true(input, dim=None, keepdim=False):
    return _logical(input, dim, keepdim, "all")


def any_true(input, dim=None, keepdim=False):
    return _logical(input, dim, keepdim, "any")


_TRUTH_DOC = """Whether {which} element is nonzero, over all elements or along ``dim``, as ``torch.{name}`` (also ``Tensor.{name}``).

``dim`` is an int or a tuple of ints (``()`` reduces nothing: an elementwise test). The result is
bool (uint8 for a uint8 input, as torch), with no gradient; an empty reduction gives {empty}.

Parameters
----------
input : Tensor
    A tensor of any dtype (nonzero is True).
dim : int or tuple of int, optional
    The dims to reduce; None (the default) reduces all of them.
keepdim : bool, default False
    Keep the reduced dims with size 1.

Returns
-------
Tensor
    bool (uint8 for uint8 input).

Examples
--------
>>> b = cr.tensor([[True, False], [True, True]])
>>> b.{name}(), b.{name}(1)
{example}
"""
all_true.__doc__ = _TRUTH_DOC.format(name="all", which="every", empty="True",
                                     example="(tensor(False), tensor([False,  True]))")
any_true.__doc__ = _TRUTH_DOC.format(name="any", which="any", empty="False",
                                     example="(tensor(True), tensor([True, True]))")
