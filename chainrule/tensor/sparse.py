"""Sparse COO tensors: ``sparse_coo_tensor``, ``Tensor.to_sparse``, ``torch.sparse.mm``.

A ``SparseCOOTensor`` holds an int64 ``indices`` tensor (sparse_dim, nnz) and a ``values`` tensor
(nnz, *dense dims), both ordinary tensors: every operation on it is composed from the dense ops
(index, index_add, index_put), so gradients flow to ``values`` and to dense operands with no rule of
its own. What torch has and chainrule does not (yet): it is not a ``Tensor`` subclass
(``isinstance(s, Tensor)`` is False, and dense ops given one raise a TypeError instead of computing),
and only COO (no CSR/CSC/BSR). ``dense + sparse`` and ``dense @ sparse`` give dense results, as torch.
"""
import numpy as np

from ..dtypes import int64
from ..ops.movement import Cat
from .core import Size, Tensor
from . import creation
from .conversion import tensor_repr
from .movement import stack


class Layout:
    """torch.layout: ``strided`` (every dense tensor) or ``sparse_coo``."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"chainrule.{self.name}"


strided, sparse_coo = Layout("strided"), Layout("sparse_coo")


def _as_tensor(x, dtype=None):
    return x if isinstance(x, Tensor) else creation.tensor(np.asarray(x), dtype=dtype)


class SparseCOOTensor:
    """A sparse tensor in coordinate format: ``values[k]`` sits at ``indices[:, k]``; duplicates add."""
    is_sparse = True
    is_sparse_csr = False
    layout = sparse_coo

    def __init__(self, indices, values, size, coalesced=False):
        self._idx, self._val, self._size, self._coalesced = indices, values, tuple(int(n) for n in size), coalesced

    # ---- attributes -----------------------------------------------------------------------------
    shape = property(lambda self: Size(self._size))
    dtype = property(lambda self: self._val.dtype)
    device = property(lambda self: self._val.device)
    ndim = property(lambda self: len(self._size))
    requires_grad = property(lambda self: self._val.requires_grad)
    is_cuda = property(lambda self: self._val.is_cuda)

    def size(self, dim=None):
        return self.shape if dim is None else self._size[dim]

    def dim(self):
        return len(self._size)

    def sparse_dim(self):
        return self._idx.shape[0]

    def dense_dim(self):
        return len(self._size) - self._idx.shape[0]

    def _nnz(self):
        return self._idx.shape[1]

    def _indices(self):
        return self._idx

    def _values(self):
        return self._val

    def _need_coalesced(self, what):
        if not self._coalesced:
            raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call .coalesce() first")

    def indices(self):
        self._need_coalesced("indices")
        return self._idx

    def values(self):
        self._need_coalesced("values")
        return self._val

    def is_coalesced(self):
        return self._coalesced

    # ---- conversions ----------------------------------------------------------------------------
    def _linear(self):
        """Each entry's row-major position among the sparse dims."""
        strides = np.cumprod((1,) + self._size[:self.sparse_dim()][:0:-1])[::-1].copy()
        return (self._idx * creation.tensor(strides.reshape(-1, 1), device=self.device)).sum(0)

    def coalesce(self):
        """Sorted indices, duplicates summed (differentiable in the values)."""
        if self._coalesced:
            return self
        unique, inverse = self._linear().unique(sorted=True, return_inverse=True)
        values = creation.zeros((unique.shape[0],) + tuple(self._val.shape[1:]), dtype=self.dtype,
                                device=self.device).index_add(0, inverse, self._val)
        coords, rest = [], unique
        for n in self._size[:self.sparse_dim()][::-1]:
            coords.append(rest % n)
            rest = rest // n
        indices = stack(coords[::-1]) if coords else self._idx[:, :unique.shape[0]]
        return SparseCOOTensor(indices, values, self._size, coalesced=True)

    def to_dense(self, dtype=None):
        out = creation.zeros(self._size, dtype=self.dtype, device=self.device)
        out = out.index_put(tuple(self._idx[d] for d in range(self.sparse_dim())), self._val, accumulate=True)
        return out if dtype is None else out.to(dtype)

    def to(self, *args, **kwargs):
        values = self._val.to(*args, **kwargs)
        return SparseCOOTensor(self._idx.to(values.device), values, self._size, self._coalesced)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to(device or "cuda")

    def float(self):
        return self.to(Tensor.float(self._val).dtype)

    def double(self):
        return self.to(Tensor.double(self._val).dtype)

    def detach(self):
        return SparseCOOTensor(self._idx, self._val.detach(), self._size, self._coalesced)

    def to_sparse(self, *args, **kwargs):
        return self

    # ---- arithmetic -----------------------------------------------------------------------------
    def t(self):
        if self.ndim != 2 or self.sparse_dim() != 2:
            raise RuntimeError(f"t() expects a 2-D sparse tensor, got {self.ndim}-D")
        return SparseCOOTensor(self._idx.flip(0), self._val, self._size[::-1])

    def transpose(self, dim0, dim1):
        if sorted((dim0 % self.ndim, dim1 % self.ndim)) != [0, 1] or self.ndim != 2:
            raise RuntimeError("transpose of a sparse tensor: only the two dims of a 2-D sparse tensor")
        return self.t()

    def __matmul__(self, other):
        return mm(self, other)

    matmul = mm_ = __matmul__

    def __rmatmul__(self, other):
        return mm(self.t(), _as_tensor(other).mT).mT

    def __add__(self, other):
        if isinstance(other, SparseCOOTensor):
            if other._size != self._size:
                raise RuntimeError(f"add: expected sizes to match, got {list(self._size)} and {list(other._size)}")
            return SparseCOOTensor(Cat.call([self._idx, other._idx], 1), Cat.call([self._val, other._val.to(
                self.dtype)], 0), self._size)
        return self.to_dense() + other

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __neg__(self):
        return SparseCOOTensor(self._idx, -self._val, self._size, self._coalesced)

    def __mul__(self, other):
        if isinstance(other, (int, float, bool)) or isinstance(other, Tensor) and other.ndim == 0:
            return SparseCOOTensor(self._idx, self._val * other, self._size, self._coalesced)
        raise TypeError("mul of a sparse tensor: only by a number or a 0-d tensor is supported")

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self * (1 / other)

    def sum(self, dim=None):
        return self._val.sum() if dim is None else self.to_dense().sum(dim)

    def __repr__(self):
        pad = " " * 7
        grad = f", grad_fn=<{self._val.grad_fn.name()}>" if self._val.grad_fn is not None else ""
        return (f"tensor(indices={tensor_repr(self._idx, 15)},\n{pad}values={tensor_repr(self._val.detach(), 14)},\n"
                f"{pad}size={self._size}, nnz={self._nnz()}, layout={self.layout}{grad})")


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with ``values[k]`` at ``indices[:, k]`` (as ``torch.sparse_coo_tensor``).
    The indices are always checked against ``size`` (torch checks only with check_invariants=True)."""
    idx = _as_tensor(indices).to(int64)
    val = _as_tensor(values, dtype=dtype)
    if dtype is not None:
        val = val.to(dtype)
    if device is not None:
        idx, val = idx.to(device), val.to(device)
    if idx.ndim != 2:
        raise RuntimeError(f"sparse_coo_tensor: indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    if idx.shape[1] != val.shape[0] if val.ndim else True:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {idx.shape[1]}, "
                           f"nnz from values: {val.shape[0] if val.ndim else 'a 0-d tensor'}")
    sparse_dim = idx.shape[0]
    found = idx.amax(1).tolist() if idx.shape[1] else [-1] * sparse_dim
    if size is None:
        size = tuple(m + 1 for m in found) + tuple(val.shape[1:])
    size = tuple(int(n) for n in size)
    if len(size) != sparse_dim + val.ndim - 1:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
                           f"sparse_dim = {sparse_dim}, dense_dim = {val.ndim - 1}")
    low = idx.amin(1).tolist() if idx.shape[1] else [0] * sparse_dim
    for d in range(sparse_dim):
        if found[d] >= size[d] or low[d] < 0:
            raise RuntimeError(f"sparse_coo_tensor: size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {found[d] if found[d] >= size[d] else low[d]}")
    if requires_grad:
        val = val.detach().requires_grad_()
    return SparseCOOTensor(idx, val, size, coalesced=bool(is_coalesced) or idx.shape[1] <= 1)


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This dense tensor as a coalesced sparse COO tensor of its nonzeros (as ``Tensor.to_sparse``;
    only the COO layout)."""
    if layout not in (None, sparse_coo):
        raise NotImplementedError(f"to_sparse: layout {layout} is not supported (only chainrule.sparse_coo)")
    n = self.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 <= n <= self.ndim:
        raise RuntimeError(f"to_sparse: sparse_dim must be in [0, {self.ndim}], got {n}")
    mask = self != 0 if n == self.ndim else (self != 0).flatten(n).any(n)
    idx = mask.nonzero().T.contiguous()
    values = self[tuple(idx[d] for d in range(n))]
    return SparseCOOTensor(idx, values, tuple(self.shape), coalesced=True)


def dense_to_dense(self, dtype=None, *, masked_grad=None):
    """A dense tensor's ``to_dense``: itself (cast to ``dtype`` if given), as torch."""
    return self if dtype is None else self.to(dtype)


def layout(self):
    """The memory layout of a dense tensor: ``chainrule.strided`` (sparse tensors say ``sparse_coo``)."""
    return strided


def mm(sparse, dense):
    """``sparse @ dense`` for a 2-D sparse matrix and a dense 1-D or 2-D tensor, dense result (as
    ``torch.sparse.mm``): the sum of ``value x dense[col]`` into each row, differentiable in both."""
    if not isinstance(sparse, SparseCOOTensor):
        return sparse @ dense
    dense = _as_tensor(dense)
    if sparse.ndim != 2 or sparse.sparse_dim() != 2 or dense.ndim not in (1, 2):
        raise RuntimeError(f"sparse.mm: expected a 2-D sparse matrix and a 1-D or 2-D dense tensor, got "
                           f"{sparse.ndim}-D and {dense.ndim}-D")
    if dense.shape[0] != sparse._size[1]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {sparse._size[1]}, got {dense.shape[0]}")
    rows, cols = sparse._idx[0], sparse._idx[1]
    val = sparse._val.to(dense.dtype) if sparse.dtype != dense.dtype else sparse._val
    picked = dense[cols] * (val.unsqueeze(1) if dense.ndim == 2 else val)
    out = creation.zeros((sparse._size[0],) + tuple(dense.shape[1:]), dtype=picked.dtype, device=dense.device)
    return out.index_add(0, rows, picked)
