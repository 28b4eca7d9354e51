"""Sparse COO tensors (chainrule/tensor/sparse.py) against torch: construction and its errors,
coalesce, to_dense, to_sparse, sparse @ dense and dense @ sparse (values and gradients), sums and
arithmetic, repr, layout."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import assert_close

warnings.filterwarnings("ignore", message="Sparse invariant checks")
rng = np.random.default_rng(0)
IDX = np.array([[0, 2, 1, 2, 0], [1, 0, 3, 0, 1]])  # duplicates at (2, 0) and (0, 1)
VAL = rng.standard_normal(5).astype(np.float32)


def both(fn):
    """fn(L, values tensor) for chainrule and torch, returning (outputs, values' grads)."""
    res = []
    for L in (cr, torch):
        v = L.tensor(VAL, requires_grad=True)
        out = fn(L, v)
        (out * L.tensor(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)))).sum().backward()
        res.append((out, v.grad))
    return res


@pytest.mark.parametrize("name, fn", [
    ("to_dense", lambda L, v: L.sparse_coo_tensor(L.tensor(IDX), v, (3, 4)).to_dense()),
    ("coalesce values", lambda L, v: L.sparse_coo_tensor(L.tensor(IDX), v, (3, 4)).coalesce().values()),
    ("sparse @ dense", lambda L, v: L.sparse_coo_tensor(L.tensor(IDX), v, (3, 4)) @ L.tensor(
        np.arange(8.0, dtype=np.float32).reshape(4, 2))),
    ("sparse.mm @ vector", lambda L, v: L.sparse.mm(L.sparse_coo_tensor(L.tensor(IDX), v, (3, 4)),
                                                    L.tensor(np.arange(4.0, dtype=np.float32)).unsqueeze(1))),
    ("dense @ sparse", lambda L, v: L.tensor(np.ones((2, 3), np.float32)) @ L.sparse_coo_tensor(
        L.tensor(IDX), v, (3, 4))),
    ("dense + sparse", lambda L, v: L.eye(3, 4) + L.sparse_coo_tensor(L.tensor(IDX), v, (3, 4))),
    ("sparse + sparse, * 2", lambda L, v: ((L.sparse_coo_tensor(L.tensor(IDX), v, (3, 4)) +
                                           L.sparse_coo_tensor(L.tensor(IDX[:, :2]), v[:2], (3, 4))) * 2).to_dense()),
    ("to_sparse values", lambda L, v: L.diag(v[:3]).to_sparse().values()),
    ("sparse sum", lambda L, v: L.sparse.sum(L.sparse_coo_tensor(L.tensor(IDX), v, (3, 4)))),
    ("transpose", lambda L, v: L.sparse_coo_tensor(L.tensor(IDX), v, (3, 4)).t().to_dense()),
])
def test_matches_torch(name, fn):
    (out, grad), (ref, ref_grad) = both(fn)
    assert_close(out, ref, what=name)
    assert_close(grad, ref_grad, what=f"{name}: grad of values")


def test_attributes_and_coalesced_indices():
    for L in (cr, torch):
        s = L.sparse_coo_tensor(L.tensor(IDX), L.tensor(VAL), (3, 4))
        c = s.coalesce()
        assert (s.is_sparse, s.is_coalesced(), c.is_coalesced(), s._nnz(), c._nnz()) == (True, False, True, 5, 3)
        assert (list(s.shape), s.sparse_dim(), s.dense_dim(), s.dim()) == ([3, 4], 2, 0, 2)
        assert c.indices().tolist() == [[0, 1, 2], [1, 3, 0]]
        with pytest.raises(RuntimeError, match="uncoalesced"):
            s.indices()
        assert str(s.layout).split(".")[1] == "sparse_coo" and str(L.ones(1).layout).split(".")[1] == "strided"
        assert L.ones(2, 3, 4).to_sparse(2).values().shape == (6, 4)
        assert L.sparse_coo_tensor(L.tensor([[0, 3]]), L.ones(2)).shape == (4,)
    dense = np.where(rng.random((3, 4)) > 0.5, rng.standard_normal((3, 4)), 0).astype(np.float32)
    s, t = cr.tensor(dense).to_sparse(), torch.tensor(dense).to_sparse()
    assert s.indices().tolist() == t.indices().tolist() and s.is_coalesced() == t.is_coalesced()
    assert repr(s).replace("chainrule", "torch") == repr(t)


def test_bad_input():
    with pytest.raises(RuntimeError, match="same nnz"):
        cr.sparse_coo_tensor(cr.tensor([[0, 1]]), cr.ones(3), (2,))
    with pytest.raises(RuntimeError, match="len\\(size\\) == sparse_dim"):
        cr.sparse_coo_tensor(cr.tensor([[0, 1], [0, 1]]), cr.ones(2), (2,))
    with pytest.raises(RuntimeError, match="for dim 0, size is 2 but found index 2"):  # torch: silent (no checks)
        cr.sparse_coo_tensor(cr.tensor([[0, 2]]), cr.ones(2), (2,))
    with pytest.raises(RuntimeError, match="Expected dim 0 size 4, got 2"):
        cr.sparse_coo_tensor(cr.tensor(IDX), cr.ones(5), (3, 4)) @ cr.ones(2, 2)
    with pytest.raises(TypeError, match="sparse"):
        cr.sparse_coo_tensor(cr.tensor(IDX), cr.ones(5), (3, 4)) * cr.ones(3, 4)
