"""Grids and combinations (meshgrid, cartesian_prod, combinations, block_diag), at-least-n-dims,
stacks and splits (hstack/vstack/dstack/column_stack, tensor_split, hsplit/vsplit/dsplit),
composed of the movement and indexing ops."""
import itertools
import warnings

import numpy as np

from .. import dtypes as _dt
from ..backend import namespace
from ..ops.args import check_tensor, dim as _dim, is_tensor, on_device_of, plain
from ..ops.movement import Cat, Index, Reshape
from ..ops.registry import apply
from . import movement


# ---- grids and combinations ----------------------------------------------------------------------

def _tensor_list(tensors, op):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        check_tensor(t, op, "tensors")
    return tensors


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors, as ``torch.meshgrid``: ``indexing='ij'`` (the default) or ``'xy'`` (the
    first two dims swapped)."""
    tensors = _tensor_list(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor of "
                               f"shape {list(t.shape)}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    ts = list(tensors)
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.size for t in ts)
    nd = len(ts)
    out = [t.reshape((1,) * i + (-1,) + (1,) * (nd - i - 1)).expand(shape) for i, t in enumerate(ts)]
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors, one row per combination (a 1-D result for one input), as
    ``torch.cartesian_prod``."""
    tensors = _tensor_list(tensors, "cartesian_prod")
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return movement.stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-D tensor, one per row, as ``torch.combinations``
    (Python's itertools.combinations order); ``with_replacement`` allows repeats."""
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return plain(namespace(input._data).empty((0,), dtype=input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input._data.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return apply(Index, input, key=(on_device_of(idx, input),), basic=False)


def block_diag(*tensors):
    """A block-diagonal matrix with the given tensors (0-, 1- or 2-D) on its diagonal, as ``torch.block_diag``."""
    tensors = _tensor_list(tensors, "block_diag")
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t._data.ndim} dimensions")
    if not tensors:
        return plain(np.empty((1, 0), dtype=_dt.get_default_dtype().np))
    res = tensors[0].dtype
    for t in tensors[1:]:
        res = _dt.promote(res, t.dtype)
    mats = [t.reshape(1, -1) if t._data.ndim < 2 else t for t in tensors]
    mats = [m.to(res) if m.dtype != res else m for m in mats]
    width = sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    xp = namespace(mats[0]._data)
    for m in mats:
        h, w = m._data.shape
        parts = [plain(xp.zeros((h, left), dtype=res.np)), m, plain(xp.zeros((h, width - left - w), dtype=res.np))]
        rows.append(Cat.call(parts, 1))
        left += w
    return Cat.call(rows, 0)


# ---- at least n dims, stacks and splits ----------------------------------------------------------

_ATLEAST_DOC = """The inputs viewed with at least {n} dims, as ``torch.atleast_{n}d``.

{how}; a tensor with {n} or more dims is returned as it is. One tensor gives a tensor; several
tensors (or one list or tuple of them) give a tuple.

Parameters
----------
*tensors : Tensor, or one sequence of Tensor
    The tensors to view.

Returns
-------
Tensor or tuple of Tensor

Examples
--------
>>> cr.atleast_{n}d(cr.tensor([1., 2.])).shape
{example}
"""
_ATLEAST = {1: ("A 0-d tensor becomes shape (1,)", "chainrule.Size([2])"),
            2: ("A 0-d tensor becomes (1, 1) and a 1-d one of shape (n,) becomes (1, n)", "chainrule.Size([1, 2])"),
            3: ("A 0-d tensor becomes (1, 1, 1), (n,) becomes (1, n, 1) and (m, n) becomes (m, n, 1)",
                "chainrule.Size([1, 2, 1])")}
_STACKER_DOC = """{how}, as ``torch.{name}``{alias}.

The tensors are concatenated (a copy, with gradients to each input); their dtypes promote and
their other dims must match, as ``cat``.

Parameters
----------
tensors : sequence of Tensor
    At least one.

Returns
-------
Tensor

Examples
--------
>>> cr.{name}([cr.tensor([1, 2]), cr.tensor([3, 4])])
{example}
"""
_STACKERS = {
    "hstack": ("Stacks tensors horizontally: along dim 1, or dim 0 when all are 1-d", "", "tensor([1, 2, 3, 4])"),
    "vstack": ("Stacks tensors vertically: along dim 0 after ``atleast_2d`` (a 1-d tensor becomes a row)",
               " (alias ``row_stack``)", "tensor([[1, 2],\n        [3, 4]])"),
    "dstack": ("Stacks tensors depthwise: along dim 2 after ``atleast_3d``", "", "tensor([[[1, 3],\n         [2, 4]]])"),
    "column_stack": ("Stacks tensors as columns: along dim 1, a 0-d or 1-d tensor of n elements first made an "
                     "(n, 1) column", "", "tensor([[1, 3],\n        [2, 4]])")}
_SPLITTER_DOC = """Splits ``input`` along {where}, as ``torch.{name}`` (also ``Tensor.{name}``): ``tensor_split`` along that dim.

``indices_or_sections`` is a number of equal parts (which must divide the dim's size, else
RuntimeError) or a list of indices to split before. The input needs at least {k} dim{s}.

Parameters
----------
input : Tensor
    The tensor to split.
indices_or_sections : int or list of int
    The number of equal parts, or the indices to split before.

Returns
-------
tuple of Tensor
    Views of ``input``.

Examples
--------
>>> {setup}
>>> [t.shape for t in cr.{name}(x, 2)]
{example}
"""
_SPLITTERS = {
    "hsplit": ("dim 1 (dim 0 for a 1-d tensor)", 1, "x = cr.zeros(4, 6)",
               "[chainrule.Size([4, 3]), chainrule.Size([4, 3])]"),
    "vsplit": ("dim 0", 2, "x = cr.zeros(4, 6)", "[chainrule.Size([2, 6]), chainrule.Size([2, 6])]"),
    "dsplit": ("dim 2", 3, "x = cr.zeros(4, 3, 2)", "[chainrule.Size([4, 3, 1]), chainrule.Size([4, 3, 1])]")}


def _atleast(n):
    def one(t):
        s = t._data.shape
        if len(s) >= n:
            return t
        return Reshape.call(t, {0: (1,) * n, 1: (1,) + s + (1,) * (n - 2), 2: s + (1,)}[len(s)])

    def fn(*tensors):
        if len(tensors) == 1 and is_tensor(tensors[0]):
            return one(tensors[0])
        return tuple(one(t) for t in _tensor_list(tensors, f"atleast_{n}d"))
    fn.__name__ = f"atleast_{n}d"
    fn.__doc__ = _ATLEAST_DOC.format(n=n, how=_ATLEAST[n][0], example=_ATLEAST[n][1])
    return fn


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


def _stacker(name, prep, dim):
    def fn(tensors):
        tensors = list(tensors)
        if not tensors:
            raise RuntimeError(f"{name} expects a non-empty TensorList")
        ts = [prep(check_tensor(t, name, "tensors")) for t in tensors]
        return Cat.call(ts, dim(ts))
    fn.__name__ = name
    how, alias, example = _STACKERS[name]
    fn.__doc__ = _STACKER_DOC.format(name=name, how=how, alias=alias, example=example)
    return fn


hstack = _stacker("hstack", atleast_1d, lambda ts: 0 if all(t._data.ndim == 1 for t in ts) else 1)
vstack = _stacker("vstack", atleast_2d, lambda ts: 0)
dstack = _stacker("dstack", atleast_3d, lambda ts: 2)
column_stack = _stacker("column_stack", lambda t: t.reshape(-1, 1) if t._data.ndim <= 1 else t, lambda ts: 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Splits into ``indices_or_sections`` parts along ``dim`` (a number of nearly equal parts, or the indices to
    split before), returning views, as ``torch.tensor_split``."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _dim(dim, nd, "tensor_split")
    n = input._data.shape[d]
    ios = indices_or_sections
    if is_tensor(ios):
        if ios._data.dtype != np.int64 or ios._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               "one-dimensional tensor with dtype long")
        ios = int(ios._data) if ios._data.ndim == 0 else [int(i) for i in ios._data.tolist()]
    if isinstance(ios, (int, np.integer)):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, rem = divmod(n, ios)
        bounds = list(itertools.accumulate([q + 1] * rem + [q] * (ios - rem), initial=0))
    else:
        bounds = [0] + [min(max(int(i) + (n if i < 0 else 0), 0), n) for i in ios] + [n]
    lead = (slice(None),) * d
    out = [Index.call(input, lead + (slice(a, max(a, b)),)) for a, b in zip(bounds, bounds[1:])]
    return movement._multiple_views(out, "TensorSplit")


def _splitter(name, dim, min_dims):
    def fn(input, indices_or_sections):
        nd = input._data.ndim
        if nd < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                               f"with {nd} dimensions!")
        d = dim(nd)
        if isinstance(indices_or_sections, (int, np.integer)):
            n = input._data.shape[d]
            if indices_or_sections == 0 or n % indices_or_sections:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the "
                                   f"dimension {n} is not divisible by the split_size {indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)
    fn.__name__ = name
    where, k, setup, example = _SPLITTERS[name]
    fn.__doc__ = _SPLITTER_DOC.format(name=name, where=where, k=k, s="" if k == 1 else "s", setup=setup, example=example)
    return fn


hsplit = _splitter("hsplit", lambda nd: 1 if nd > 1 else 0, 1)
vsplit = _splitter("vsplit", lambda nd: 0, 2)
dsplit = _splitter("dsplit", lambda nd: 2, 3)
