"""``chainrule.sparse``: torch.sparse's functions on sparse COO tensors (chainrule/tensor/sparse.py)."""
from .tensor.sparse import SparseCOOTensor, mm as _mm

__all__ = ["mm", "sum", "SparseCOOTensor"]


def mm(sparse, dense):
    """``sparse @ dense`` for a 2-D sparse COO matrix and a dense 1-D or 2-D tensor, with a dense
    result, as ``torch.sparse.mm`` (also ``chainrule.spmm``): each row sums value x dense[column]
    over its entries; differentiable in the sparse values and in ``dense``. A dense first argument
    falls back to ``@``."""
    return _mm(sparse, dense)


def sum(input, dim=None):
    """The sum of a sparse tensor's entries (a dense 0-d tensor), or over ``dim`` (dense here; torch
    keeps the result sparse when sparse dims remain)."""
    if not isinstance(input, SparseCOOTensor):
        raise TypeError(f"sparse.sum: expected a sparse tensor, got {type(input).__name__}")
    return input.sum(dim)
