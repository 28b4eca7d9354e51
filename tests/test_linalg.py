"""Contractions (einsum, tensordot, outer, addmm, ...) and chainrule.linalg against torch: values,
dtypes, gradients (gauge-invariant losses for svd/eigh), float64 gradcheck and bad input."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import compare

rng = np.random.default_rng(1234)


def randn(*shape):
    return rng.standard_normal(shape)


def wc(*shape):
    """Well-conditioned square matrices: random plus 3 I."""
    return randn(*shape) + 3 * np.eye(shape[-1])


def spd(*shape):
    """Symmetric positive-definite matrices with spread-out eigenvalues."""
    x = randn(*shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def sym(*shape):
    x = randn(*shape)
    return x + np.swapaxes(x, -1, -2)


def lib(L):
    """torch.linalg or chainrule.linalg."""
    return L.linalg


# (label, fn(L, *tensors) -> one tensor, arrays, gradcheck?)
CASES = [
    # -- contractions --
    ("einsum matmul", lambda L, a, b: L.einsum("ij,jk->ik", a, b), [randn(2, 3), randn(3, 4)], True),
    ("einsum implicit", lambda L, a, b: L.einsum("ba,ac", a, b), [randn(5, 2), randn(2, 3)], True),
    ("einsum diagonal", lambda L, a: L.einsum("ii->i", a), [randn(3, 3)], True),
    ("einsum trace", lambda L, a: L.einsum("ii", a), [randn(3, 3)], True),
    ("einsum summed away", lambda L, a, b: L.einsum("ij,k->k", a, b), [randn(2, 3), randn(4)], True),
    ("einsum repeat 3", lambda L, a: L.einsum("iij->ji", a), [randn(3, 3, 2)], True),
    ("einsum ellipsis", lambda L, a, b: L.einsum("...ij,...jk", a, b), [randn(5, 2, 3), randn(3, 4)], True),
    ("einsum ellipsis out", lambda L, a: L.einsum("i...->...", a), [randn(3, 2, 4)], True),
    ("einsum broadcast 1", lambda L, a, b: L.einsum("bi,bi->b", a, b), [randn(1, 3), randn(4, 3)], True),
    ("einsum three", lambda L, a, b, c: L.einsum("ab,bc,cd->ad", a, b, c), [randn(2, 3), randn(3, 4), randn(4, 2)],
     True),
    ("einsum list", lambda L, a, b: L.einsum("i,j", [a, b]), [randn(3), randn(2)], True),
    ("einsum sublist", lambda L, a, b: L.einsum(a, [0, 1], b, [1, 2], [0, 2]), [randn(2, 3), randn(3, 4)], True),
    ("einsum spaces upper", lambda L, a, b: L.einsum("Ab, bC -> AC", a, b), [randn(2, 3), randn(3, 2)], False),
    ("einsum 0-size", lambda L, a, b: L.einsum("bij,bjk->bik", a, b), [randn(0, 2, 3), randn(0, 3, 4)], False),
    ("tensordot int", lambda L, a, b: L.tensordot(a, b, dims=2), [randn(2, 3, 4), randn(3, 4, 5)], True),
    ("tensordot lists", lambda L, a, b: L.tensordot(a, b, dims=([1, 0], [0, 2])), [randn(2, 3, 4), randn(3, 5, 2)],
     True),
    ("tensordot 0", lambda L, a, b: L.tensordot(a, b, dims=0), [randn(2), randn(3)], False),
    ("outer", lambda L, a, b: L.outer(a, b), [randn(3), randn(4)], True),
    ("ger", lambda L, a, b: a.ger(b), [randn(3), randn(4)], False),
    ("inner", lambda L, a, b: L.inner(a, b), [randn(2, 3), randn(4, 3)], True),
    ("inner 0-d", lambda L, a, b: L.inner(a, b), [np.array(1.5), randn(3)], False),
    ("kron", lambda L, a, b: L.kron(a, b), [randn(2, 3), randn(3, 2)], True),
    ("kron ndim", lambda L, a, b: a.kron(b), [randn(2, 2, 1), randn(3)], False),
    ("cross dim", lambda L, a, b: L.cross(a, b, dim=0), [randn(3, 4), randn(3, 4)], True),
    ("linalg.cross", lambda L, a, b: L.linalg.cross(a, b), [randn(2, 3), randn(1, 3)], True),
    ("vecdot", lambda L, a, b: L.linalg.vecdot(a, b), [randn(2, 3), randn(3)], True),
    ("mv", lambda L, a, b: L.mv(a, b), [randn(2, 3), randn(3)], True),
    ("vdot", lambda L, a, b: L.vdot(a, b), [randn(3), randn(3)], False),
    ("addmm", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2.0), [randn(4), randn(2, 3), randn(3, 4)], True),
    ("addmm plain", lambda L, c, a, b: c.addmm(a, b), [randn(2, 4), randn(2, 3), randn(3, 4)], False),
    ("addmv", lambda L, c, a, b: L.addmv(c, a, b, alpha=-1.0), [randn(2), randn(2, 3), randn(3)], True),
    ("addr", lambda L, c, a, b: L.addr(c, a, b, beta=2.0), [randn(3, 2), randn(3), randn(2)], True),
    ("addbmm", lambda L, c, a, b: L.addbmm(c, a, b), [randn(2, 4), randn(3, 2, 5), randn(3, 5, 4)], True),
    ("baddbmm", lambda L, c, a, b: L.baddbmm(c, a, b, beta=0.3), [randn(1, 2, 4), randn(3, 2, 5), randn(3, 5, 4)],
     True),
    ("matrix_power 3", lambda L, a: L.matrix_power(a, 3), [randn(2, 3, 3) / 2], True),
    ("matrix_power 6", lambda L, a: L.linalg.matrix_power(a, 6), [randn(3, 3) / 2], False),
    ("matrix_power -2", lambda L, a: a.matrix_power(-2), [wc(3, 3)], True),
    ("multi_dot", lambda L, a, b, c, d: L.linalg.multi_dot([a, b, c, d]),
     [randn(3), randn(3, 6), randn(6, 2), randn(2, 4)], True),
    ("chain_matmul", lambda L, a, b, c: L.chain_matmul(a, b, c), [randn(2, 3), randn(3, 4), randn(4, 2)], False),
    # -- torch.linalg --
    ("inv", lambda L, a: L.linalg.inv(a), [wc(2, 3, 3)], True),
    ("inverse", lambda L, a: a.inverse(), [wc(3, 3)], False),
    ("inv_ex", lambda L, a: L.linalg.inv_ex(a).inverse, [wc(3, 3)], False),
    ("det", lambda L, a: L.linalg.det(a), [randn(2, 3, 3)], True),
    # a zero row: every LU gives det exactly 0, so torch's gradient is 0 (with a repeated row, MKL's LU left
    # 3.6e-7 on an Intel CPU and torch's gradient became the cofactors, where NumPy's LU gave exactly 0)
    ("det singular", lambda L, a: a.det(), [np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [0.5, -1.0, 2.0]])], False),
    ("slogdet", lambda L, a: L.linalg.slogdet(a).logabsdet, [randn(2, 4, 4)], True),
    ("slogdet sign", lambda L, a: L.slogdet(a)[0] * 2, [randn(3, 3, 3)], False),
    ("logdet", lambda L, a: L.logdet(a), [spd(2, 3, 3)], True),
    ("solve", lambda L, a, b: L.linalg.solve(a, b), [wc(2, 3, 3), randn(2, 3, 2)], True),
    ("solve vector", lambda L, a, b: L.linalg.solve(a, b), [wc(3, 3), randn(3)], True),
    ("solve batched vector", lambda L, a, b: L.linalg.solve(a, b), [wc(2, 3, 3), randn(2, 3)], False),
    ("solve broadcast", lambda L, a, b: L.linalg.solve(a, b), [wc(3, 3), randn(4, 3, 2)], True),
    ("solve left=False", lambda L, a, b: L.linalg.solve(a, b, left=False), [wc(3, 3), randn(2, 3)], True),
    ("cholesky", lambda L, a: L.linalg.cholesky(a), [spd(2, 3, 3)], "sym"),
    ("cholesky upper", lambda L, a: L.linalg.cholesky(a, upper=True), [spd(3, 3)], "sym"),
    ("torch.cholesky", lambda L, a: a.cholesky(), [spd(4, 4)], False),
    ("cholesky_ex", lambda L, a: L.linalg.cholesky_ex(a).L, [spd(3, 3)], False),
    ("qr Q", lambda L, a: L.linalg.qr(a).Q, [randn(2, 4, 3)], True),
    ("qr R", lambda L, a: L.linalg.qr(a)[1], [randn(2, 4, 3)], True),
    ("qr QR wide", lambda L, a: (lambda q, r: q.sum(-1, keepdim=True) * 2 + r)(*L.linalg.qr(a)), [randn(3, 5)], True),
    ("qr complete square", lambda L, a: (lambda q, r: q * 3 + r)(*L.linalg.qr(a, mode="complete")), [randn(3, 3)],
     True),
    ("qr r values", lambda L, a: L.linalg.qr(a.detach(), mode="r")[1], [randn(4, 3)], False),
    ("torch.qr some", lambda L, a: a.qr()[0] * 2, [randn(4, 3)], False),
    ("svd S", lambda L, a: L.linalg.svd(a, full_matrices=False).S, [randn(2, 4, 3)], True),
    ("svd U^2", lambda L, a: L.linalg.svd(a, full_matrices=False).U ** 2, [randn(4, 3)], True),
    ("svd Vh^2", lambda L, a: L.linalg.svd(a, full_matrices=False).Vh ** 2, [randn(3, 4)], True),
    ("svd all tall", lambda L, a: (lambda u, s, vh: (u * s[..., None, :]) ** 2 @ vh ** 2)(
        *L.linalg.svd(a, full_matrices=False)), [randn(2, 5, 3)], True),
    ("svd all wide", lambda L, a: (lambda u, s, vh: (u ** 2 * s[..., None, :]) @ vh ** 2)(
        *L.linalg.svd(a, full_matrices=False)), [randn(3, 5)], True),
    ("svd full U[:k]^2", lambda L, a: L.linalg.svd(a)[0][:, :3] ** 2, [randn(5, 3)], True),
    ("svdvals", lambda L, a: L.linalg.svdvals(a), [randn(2, 3, 5)], True),
    ("torch.svd V^2", lambda L, a: L.svd(a).V ** 2, [randn(4, 3)], True),
    ("torch.svd S", lambda L, a: a.svd()[1], [randn(3, 4)], False),
    ("eigh values", lambda L, a: L.linalg.eigh(a).eigenvalues, [sym(2, 4, 4)], "sym"),
    ("eigh V^2", lambda L, a: L.linalg.eigh(a)[1] ** 2, [sym(4, 4)], "sym"),
    ("eigh both", lambda L, a: (lambda w, v: v ** 2 * w[..., None, :])(*L.linalg.eigh(a, UPLO="U")), [sym(2, 3, 3)],
     "sym"),
    ("eigvalsh", lambda L, a: L.linalg.eigvalsh(a), [sym(3, 3)], "sym"),
    ("pinv tall", lambda L, a: L.linalg.pinv(a), [randn(2, 4, 3)], True),
    ("pinv wide", lambda L, a: L.linalg.pinv(a), [randn(3, 5)], True),
    ("pinverse", lambda L, a: a.pinverse(), [randn(3, 3)], False),
    ("pinv hermitian", lambda L, a: L.linalg.pinv(a, hermitian=True), [spd(3, 3)], False),
    ("vector_norm 2", lambda L, a: L.linalg.vector_norm(a), [randn(2, 3)], True),
    ("vector_norm inf dim", lambda L, a: L.linalg.vector_norm(a, math.inf, dim=1, keepdim=True), [randn(2, 3)], True),
    ("vector_norm -inf", lambda L, a: L.linalg.vector_norm(a, -math.inf, dim=(0, 1)), [randn(2, 3)], True),
    ("vector_norm 0", lambda L, a: L.linalg.vector_norm(a, 0, dim=0), [randn(2, 3)], False),
    ("vector_norm 0.5", lambda L, a: L.linalg.vector_norm(a, 0.5, dim=-1), [randn(2, 3)], True),
    ("vector_norm 3 dtype", lambda L, a: L.linalg.vector_norm(a, 3, dtype=L.float64), [randn(2, 3)], False),
    ("norm default", lambda L, a: L.linalg.norm(a), [randn(2, 3, 4)], True),
    ("norm ord 1 vec", lambda L, a: L.linalg.norm(a, 1), [randn(5)], True),
    ("norm dim pair", lambda L, a: L.linalg.norm(a, dim=(0, 2)), [randn(2, 3, 4)], True),
    ("norm nuc", lambda L, a: L.linalg.norm(a, "nuc"), [randn(3, 4)], True),
] + [
    (f"matrix_norm {o}", lambda L, a, o=o: L.linalg.matrix_norm(a, o), [randn(2, 3, 4)], True)
    for o in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)
] + [
    ("matrix_norm dims keepdim", lambda L, a: L.linalg.matrix_norm(a, 1, dim=(2, 0), keepdim=True),
     [randn(3, 2, 4)], True),
    ("matrix_norm 2 dims keepdim", lambda L, a: L.linalg.matrix_norm(a, 2, dim=(0, 2), keepdim=True),
     [randn(3, 2, 4)], True),
    ("cond", lambda L, a: L.linalg.cond(a), [wc(2, 3, 3)], True),
    # torch's own backward fails here (cond's inv_ex output is written in place): values only
    ("cond fro", lambda L, a: L.linalg.cond(a.detach(), "fro"), [wc(3, 3)], False),
    ("matrix_rank", lambda L, a: L.linalg.matrix_rank(a), [np.stack([randn(3, 3), np.ones((3, 3))])], False),
    ("matrix_rank atol", lambda L, a: L.linalg.matrix_rank(a, atol=1.0, rtol=0.0), [randn(3, 4)], False),
    ("matrix_exp", lambda L, a: L.linalg.matrix_exp(a), [randn(2, 3, 3)], True),
    ("matrix_exp scaled", lambda L, a: a.matrix_exp(), [randn(3, 3) * 3], False),
    ("lstsq tall", lambda L, a, b: L.linalg.lstsq(a, b).solution, [randn(5, 3), randn(5, 2)], True),
    ("lstsq wide vector", lambda L, a, b: L.linalg.lstsq(a, b)[0], [randn(2, 4), randn(2)], True),
    ("lstsq rank", lambda L, a, b: L.linalg.lstsq(a.detach(), b.detach()).rank, [randn(5, 3), randn(5, 2)], False),
    ("solve_ex", lambda L, a, b: L.linalg.solve_ex(a, b).result, [wc(3, 3), randn(3)], False),
    ("diagonal", lambda L, a: L.linalg.diagonal(a), [randn(2, 3, 3)], True),
    ("diagonal offset", lambda L, a: L.linalg.diagonal(a, offset=1, dim1=0, dim2=2), [randn(3, 2, 4)], True),
    ("diagonal negative", lambda L, a: L.linalg.diagonal(a, offset=-1), [randn(4, 3)], True),
]

# 0-size batches through every matrix function
EMPTY = [
    ("inv", lambda L, a: L.linalg.inv(a)), ("det", lambda L, a: L.linalg.det(a)),
    ("slogdet", lambda L, a: L.linalg.slogdet(a)[1]), ("cholesky", lambda L, a: L.linalg.cholesky(a)),
    ("qr", lambda L, a: L.linalg.qr(a)[0]), ("svdvals", lambda L, a: L.linalg.svdvals(a)),
    ("svd", lambda L, a: L.linalg.svd(a)[0]), ("eigh", lambda L, a: L.linalg.eigh(a)[1]),
    ("pinv", lambda L, a: L.linalg.pinv(a)), ("solve", lambda L, a: L.linalg.solve(a, a)),
    ("matrix_norm", lambda L, a: L.linalg.matrix_norm(a)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(case, dtype):
    label, fn, arrays, _ = case
    arrays = [a.astype(dtype) for a in arrays]
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-9)
    compare(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), arrays, tol=tol)


@pytest.mark.parametrize("case", [c for c in CASES if c[3]], ids=[c[0] for c in CASES if c[3]])
def test_gradcheck_float64(case):
    """"sym" cases read one triangle of a symmetric input: checked on (a + a^T) / 2, as torch's tests."""
    _, fn, arrays, how = case
    inputs = [cr.tensor(a, requires_grad=True) for a in arrays]
    if how == "sym":
        assert cr.autograd.gradcheck(lambda a: fn(cr, (a + a.mT) / 2), inputs)
    else:
        assert cr.autograd.gradcheck(lambda *t: fn(cr, *t), inputs)


def test_cond_fro_gradient():
    a = wc(3, 3)
    assert cr.autograd.gradcheck(lambda x: cr.linalg.cond(x, "fro"), [cr.tensor(a, requires_grad=True)])


@pytest.mark.parametrize("name, fn", EMPTY, ids=[e[0] for e in EMPTY])
def test_empty_batch(name, fn):
    a = np.zeros((0, 3, 3), np.float32)
    compare(lambda t: fn(cr, t), lambda t: fn(torch, t), [a], grad=False)


def test_solve_ex_reports_singular():
    out = cr.linalg.solve_ex(cr.tensor(np.zeros((2, 2))), cr.tensor(np.ones(2)))
    assert out.info.item() == 1 and np.isnan(out.result.numpy()).all()
    with pytest.raises(cr.linalg.LinAlgError):
        cr.linalg.solve_ex(cr.tensor(np.zeros((2, 2))), cr.tensor(np.ones(2)), check_errors=True)


def test_namedtuples():
    a = cr.tensor(spd(3, 3))
    assert cr.linalg.slogdet(a)._fields == ("sign", "logabsdet")
    assert cr.linalg.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert cr.linalg.svd(a)._fields == ("U", "S", "Vh")
    assert cr.svd(a)._fields == ("U", "S", "V")
    assert cr.linalg.qr(a)._fields == ("Q", "R")
    assert cr.linalg.inv_ex(a)._fields == ("inverse", "info")
    assert cr.linalg.cholesky_ex(a)._fields == ("L", "info")


def test_svd_full_matrices_and_torch_svd():
    a = randn(5, 3)
    U, S, Vh = cr.linalg.svd(cr.tensor(a))
    assert U.shape == (5, 5) and S.shape == (3,) and Vh.shape == (3, 3)
    np.testing.assert_allclose((U[:, :3] * S) @ Vh, a, atol=1e-12)
    np.testing.assert_allclose(U.mT @ U, np.eye(5), atol=1e-12)
    U, S, V = cr.svd(cr.tensor(a), some=False)
    assert U.shape == (5, 5) and V.shape == (3, 3)
    np.testing.assert_allclose((U[:, :3] * S) @ V.mT, a, atol=1e-12)
    U, S, V = cr.svd(cr.tensor(a), compute_uv=False)
    assert not U.numpy().any() and not V.numpy().any()


def test_decomposition_values():
    a = sym(2, 4, 4)
    w, v = cr.linalg.eigh(cr.tensor(a))
    np.testing.assert_allclose((v * w[..., None, :]) @ v.mT, a, atol=1e-12)
    q, r = cr.linalg.qr(cr.tensor(randn(3, 5)), mode="complete")
    assert q.shape == (3, 3) and r.shape == (3, 5)
    np.testing.assert_allclose(np.triu(r.numpy()), r.numpy())
    c = cr.linalg.cholesky(cr.tensor(spd(3, 3)), upper=True)
    np.testing.assert_allclose(np.triu(c.numpy()), c.numpy())


def test_inv_ex_and_cholesky_ex_report_failures():
    a = np.stack([wc(3, 3), np.zeros((3, 3))])
    out = cr.linalg.inv_ex(cr.tensor(a))
    assert out.info.tolist() == [0, 1] and out.info.dtype == cr.int32
    m = np.stack([spd(3, 3), np.diag([1.0, 1.0, -1.0])])
    L, info = cr.linalg.cholesky_ex(cr.tensor(m))
    t_L, t_info = torch.linalg.cholesky_ex(torch.tensor(m))
    assert info.tolist() == t_info.tolist() == [0, 3]
    np.testing.assert_allclose(L.numpy()[0], t_L.numpy()[0], rtol=1e-10)
    with pytest.raises(cr.linalg.LinAlgError):
        cr.linalg.cholesky_ex(cr.tensor(m), check_errors=True)


def test_svd_gradient_repeated_singular_values_svdvals_path():
    """Only S used: the gradient is U diag(g) V^T even with repeated singular values (no 0/0)."""
    a = np.eye(3)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    cr.linalg.svd(x)[1].sum().backward()
    torch.linalg.svd(xt)[1].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    cr.linalg.eigh(x)[0].sum().backward()
    torch.linalg.eigh(xt)[0].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)


def test_qr_backward_errors_as_torch():
    x = cr.tensor(randn(4, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        cr.linalg.qr(x, mode="r")[1].sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        cr.linalg.qr(x, mode="complete")[0].sum().backward()


def test_addmm_inplace_and_beta_zero_ignores_nan():
    c = cr.tensor(np.full((2, 2), np.nan))
    out = cr.addmm(c, cr.tensor(np.eye(2)), cr.tensor(np.eye(2)), beta=0)
    np.testing.assert_array_equal(out.numpy(), np.eye(2))
    c = cr.tensor(np.ones((2, 2)))
    c.addmm_(cr.tensor(np.eye(2)), cr.tensor(np.eye(2)))
    np.testing.assert_array_equal(c.numpy(), np.ones((2, 2)) + np.eye(2))


def test_integer_contractions_keep_dtype():
    a = np.arange(6).reshape(2, 3)
    assert cr.einsum("ij,kj->ik", cr.tensor(a), cr.tensor(a)).tolist() == \
        torch.einsum("ij,kj->ik", torch.tensor(a), torch.tensor(a)).tolist()
    assert cr.matrix_power(cr.tensor(np.arange(4).reshape(2, 2)), 3).dtype == cr.int64
    assert cr.kron(cr.tensor(np.arange(2)), cr.tensor(np.ones(2, np.float32))).dtype == cr.float32


def test_einsum_double_backward():
    a, b = randn(2, 3), randn(3, 4)
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    g, = cr.autograd.grad((cr.einsum("ij,jk->ik", x, y) ** 2).sum(), x, create_graph=True)
    gt, = torch.autograd.grad((torch.einsum("ij,jk->ik", xt, yt) ** 2).sum(), xt, create_graph=True)
    (g * g).sum().backward()
    (gt * gt).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), yt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def test_inv_double_backward():
    a = wc(3, 3)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g, = cr.autograd.grad(cr.linalg.inv(x).sum(), x, create_graph=True)
    gt, = torch.autograd.grad(torch.linalg.inv(xt).sum(), xt, create_graph=True)
    (g ** 2).sum().backward()
    (gt ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9)


def _raises(exc, fn, *arrays, match=None):
    with pytest.raises(exc, match=match):
        fn(cr, *[cr.tensor(a) for a in arrays])
    with pytest.raises(exc):
        fn(torch, *[torch.tensor(a) for a in arrays])


BAD = [
    ("inv non-square", RuntimeError, lambda L, a: L.linalg.inv(a), [randn(2, 3)], "2 by 3"),
    ("inv 1-d", RuntimeError, lambda L, a: L.linalg.inv(a), [randn(3)], "at least 2 dimensions"),
    ("inv integer", RuntimeError, lambda L, a: L.linalg.inv(a), [np.eye(3, dtype=np.int64)], "Got Long"),
    ("det non-square", RuntimeError, lambda L, a: L.linalg.det(a), [randn(3, 2)], "square"),
    ("cholesky integer", RuntimeError, lambda L, a: L.linalg.cholesky(a), [np.eye(2, dtype=np.int64)], "Long"),
    ("eigh non-square", RuntimeError, lambda L, a: L.linalg.eigh(a), [randn(2, 3)], "square"),
    ("eigh UPLO", RuntimeError, lambda L, a: L.linalg.eigh(a, UPLO="X"), [randn(3, 3)], "UPLO"),
    ("qr mode", RuntimeError, lambda L, a: L.linalg.qr(a, mode="x"), [randn(3, 3)], "unrecognized mode"),
    ("svd 1-d", RuntimeError, lambda L, a: L.linalg.svd(a), [randn(3)], "at least 2 dimensions"),
    ("solve shapes", RuntimeError, lambda L, a, b: L.linalg.solve(a, b), [wc(3, 3), randn(4)], "Incompatible"),
    ("solve dtypes", RuntimeError, lambda L, a, b: L.linalg.solve(a, b), [wc(3, 3), randn(3).astype(np.float32)],
     "same dtype"),
    ("vector_norm int", RuntimeError, lambda L, a: L.linalg.vector_norm(a), [np.arange(3)], "Long"),
    ("vector_norm narrowing", RuntimeError, lambda L, a: L.linalg.vector_norm(a, dtype=L.float32), [randn(3)],
     "narrowing"),
    ("matrix_norm ord", RuntimeError, lambda L, a: L.linalg.matrix_norm(a, 3), [randn(3, 3)], "Order 3"),
    ("matrix_norm 1-d", RuntimeError, lambda L, a: L.linalg.matrix_norm(a), [randn(3)], "at least 2"),
    ("norm ord 3-d", RuntimeError, lambda L, a: L.linalg.norm(a, 2), [randn(2, 2, 2)], "1D or 2D"),
    ("matrix_power non-square", RuntimeError, lambda L, a: L.linalg.matrix_power(a, 2), [randn(2, 3)], "2 by 3"),
    ("einsum operands", RuntimeError, lambda L, a: L.einsum("ij,jk->ik", a), [randn(2, 3)], "fewer operands"),
    ("einsum ndim", RuntimeError, lambda L, a: L.einsum("ij->ji", a), [randn(2, 3, 4)], "number of subscripts"),
    ("einsum sizes", RuntimeError, lambda L, a, b: L.einsum("ij,jk", a, b), [randn(2, 3), randn(4, 5)],
     "does not broadcast"),
    ("einsum repeated sizes", RuntimeError, lambda L, a: L.einsum("ii->i", a), [randn(2, 3)], "repeated"),
    ("einsum output twice", RuntimeError, lambda L, a: L.einsum("ij->ii", a), [randn(2, 2)], "more than once"),
    ("einsum output unknown", RuntimeError, lambda L, a: L.einsum("ij->k", a), [randn(2, 2)], "does not appear"),
    ("einsum dtypes", RuntimeError, lambda L, a, b: L.einsum("i,i", a, b), [randn(2), randn(2).astype(np.float32)],
     None),
    ("tensordot sizes", RuntimeError, lambda L, a, b: L.tensordot(a, b, dims=1), [randn(2, 3), randn(4, 5)],
     "contracted dimensions"),
    ("tensordot negative", RuntimeError, lambda L, a, b: L.tensordot(a, b, dims=-1), [randn(2), randn(2)], ">= 0"),
    ("outer 2-d", RuntimeError, lambda L, a, b: L.outer(a, b), [randn(2, 2), randn(2)], "1-D"),
    ("inner shapes", RuntimeError, lambda L, a, b: L.inner(a, b), [randn(2, 3), randn(4)], "last dimension"),
    ("cross length", RuntimeError, lambda L, a, b: L.linalg.cross(a, b), [randn(2), randn(2)], "length 3"),
    ("cross no 3", RuntimeError, lambda L, a, b: L.cross(a, b), [randn(2, 4), randn(2, 4)], "no dimension of size 3"),
    ("mv sizes", RuntimeError, lambda L, a, b: L.mv(a, b), [randn(3, 3), randn(4)], "size mismatch"),
    ("vdot 2-d", RuntimeError, lambda L, a, b: L.vdot(a, b), [randn(2, 2), randn(2, 2)], "1D tensors"),
    ("addmm shape", RuntimeError, lambda L, c, a, b: L.addmm(c, a, b), [randn(2), randn(3, 3), randn(3, 3)],
     "expanded size"),
    ("multi_dot one", RuntimeError, lambda L, a: L.linalg.multi_dot([a]), [randn(3, 3)], "at least 2"),
    ("multi_dot 3-d", RuntimeError, lambda L, a, b: L.linalg.multi_dot([a, b]), [randn(3, 3), randn(2, 3, 3)],
     "last tensor must be 1D or 2D"),
    ("chain_matmul 1-d", RuntimeError, lambda L, a, b: L.chain_matmul(a, b), [randn(3), randn(3, 3)], "dimension"),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_input(case):
    _, exc, fn, arrays, match = case
    _raises(exc, fn, *arrays, match=match)


def test_linalg_errors_are_linalgerror():
    assert issubclass(cr.linalg.LinAlgError, RuntimeError)
    with pytest.raises(cr.linalg.LinAlgError, match="singular"):
        cr.linalg.inv(cr.tensor(np.zeros((3, 3))))
    with pytest.raises(cr.linalg.LinAlgError, match=r"\(Batch element 1\)"):
        cr.linalg.inv(cr.tensor(np.stack([np.eye(3), np.zeros((3, 3))])))
    with pytest.raises(cr.linalg.LinAlgError, match="singular"):
        cr.linalg.solve(cr.tensor(np.zeros((3, 3))), cr.tensor(np.ones(3)))
    msg = r"\(Batch element 1\): .*not positive-definite \(the leading minor of order 3"
    with pytest.raises(cr.linalg.LinAlgError, match=msg):
        cr.linalg.cholesky(cr.tensor(np.stack([np.eye(3), np.diag([1.0, 1.0, -1.0])])))
    with pytest.raises(torch.linalg.LinAlgError, match=msg):
        torch.linalg.cholesky(torch.tensor(np.stack([np.eye(3), np.diag([1.0, 1.0, -1.0])])))
