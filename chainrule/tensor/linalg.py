"""torch.linalg: decompositions, solves, determinants, norms and matrix functions (the products and
contractions are in contract.py)."""
import math
import string
import warnings
from collections import namedtuple

import numpy as np

from ..backend import namespace
from ..ops.args import check_tensor, dim as _dim, is_tensor, plain
from ..ops.elementwise import Where
from ..ops.linalg import Cholesky, Det, Eigh, Inv, Matmul, Pinv, Qr, Slogdet, Solve, Svd, unpack
from ..ops.registry import apply
from .. import dtypes as _dt
from .reduce import norm as _pnorm
from .contract import einsum, _TORCH_NAMES, _tname



# ---- contractions and torch.linalg (issue 13) ------------------------------------------------------
# Compositions of Matmul, Einsum and the elementwise ops; LAPACK primitives with several outputs
# return them packed (ops.linalg.unpack splits them here).

SlogdetResult = namedtuple("slogdet", "sign logabsdet")
QrResult = namedtuple("qr", "Q R")
SvdResult = namedtuple("svd", "U S Vh")
TorchSvdResult = namedtuple("svd", "U S V")
EighResult = namedtuple("eigh", "eigenvalues eigenvectors")
InvExResult = namedtuple("inv_ex", "inverse info")
CholeskyExResult = namedtuple("cholesky_ex", "L info")
SolveExResult = namedtuple("solve_ex", "result info")


class LinAlgError(RuntimeError):
    """A matrix function failed on its input (singular, not positive-definite): torch.linalg.LinAlgError."""


def square(A, op, square=True):
    """Checks of a torch.linalg input: a Tensor of >= 2 dims, float32/float64, square if asked."""
    if not is_tensor(A):
        raise TypeError(f"{op}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if A._data.dtype.kind != "f" or A._data.dtype == np.float16:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {_tname(A)}")
    if square and A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A._data.shape[-2]} by {A._data.shape[-1]} matrices")
    return A


def _is_pd(a):
    try:
        np.linalg.cholesky(a)
        return True
    except np.linalg.LinAlgError:
        return False


def _not_pd(a):
    k = next(k for k in range(1, a.shape[-1] + 1) if not _is_pd(a[:k, :k]))
    return (f"The factorization could not be completed because the input is not positive-definite (the leading "
            f"minor of order {k} is not positive-definite).")


def _zero_pivot(a):
    """The first zero on the diagonal of a's LU factors, from 1 (0 if none): where LAPACK gives up."""
    try:
        from scipy.linalg import lu_factor
    except ImportError:  # (SciPy is optional: the rank then)
        return 0 if np.linalg.matrix_rank(a) == a.shape[-1] else a.shape[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = np.diagonal(lu_factor(a, check_finite=False)[0])
    return int(np.argmax(d == 0)) + 1 if (d == 0).any() else 0


def _invertible(a):
    return not _zero_pivot(a)


_FAILURES = {  # op: (torch's message for the failing matrix, the test that finds it in a batch)
    Inv: ("linalg.inv", lambda a: f"The diagonal element {_zero_pivot(a)} is zero, the inversion could not be "
                                  f"completed because the input matrix is singular.", _invertible),
    Solve: ("torch.linalg.solve", lambda a: "The solver failed because the input matrix is singular.", _invertible),
    Cholesky: ("linalg.cholesky", _not_pd, _is_pd),
}


def _lapack(op, A, *args, **params):
    """apply(op, A, ...) with NumPy's LinAlgError raised as torch's, naming the failing batch element."""
    try:
        return apply(op, A, *args, **params)
    except np.linalg.LinAlgError:
        name, what, test = _FAILURES[op]
        flat = np.asarray(A._data).reshape((-1,) + A._data.shape[-2:])
        bad = next((i for i in range(len(flat)) if not test(flat[i])), 0)
        raise LinAlgError(f"{name}: " + (f"(Batch element {bad}): " if A._data.ndim > 2 else "") +
                          what(flat[bad])) from None


# ---- torch.linalg ------------------------------------------------------------------------------

def inv(A):
    """Inverse of a square matrix (or batch of them, shape (..., n, n)), as ``torch.linalg.inv``; a singular
    matrix raises."""
    return _lapack(Inv, square(A, "linalg.inv"))


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info 0, or the first zero pivot of a singular matrix (its inverse then nan)."""
    try:
        return InvExResult(inv(A), plain(np.zeros(A._data.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    info = _failures(A)
    ok = plain((info == 0)[..., None, None])
    eye = plain(namespace(A._data).eye(A._data.shape[-1], dtype=A._data.dtype))
    return InvExResult(Where.call(ok, inv(Where.call(ok, A, eye)), math.nan), plain(info))


def _failures(A):
    flat = np.asarray(A._data).reshape((-1,) + A._data.shape[-2:])
    return np.array([_zero_pivot(a) for a in flat], np.int32).reshape(A._data.shape[:-2])


def det(A):
    """Determinant of a square matrix (or batch, shape (..., n, n)), as ``torch.linalg.det``."""
    return apply(Det, square(A, "linalg.det"))


def slogdet(A):
    """Sign and log of the absolute value of the determinant of a square matrix (or batch), as
    ``torch.linalg.slogdet``.

    Returns the named tuple ``(sign, logabsdet)``; a singular matrix gives sign 0 and logabsdet -inf."""
    sign, logabsdet = unpack(apply(Slogdet, square(A, "linalg.slogdet")), Slogdet.parts(None))
    return SlogdetResult(sign, logabsdet)


def logdet(A):
    """Log of the determinant of a square matrix (or batch), as ``torch.logdet``: nan where the determinant is
    negative, -inf where it is 0."""
    sign, logabsdet = slogdet(square(A, "logdet"))
    return Where.call(plain(sign._data < 0), math.nan, logabsdet)


def solve(A, B, *, left=True):
    """Solves A X = B (or X A = B with ``left=False``) for a square, invertible A, as ``torch.linalg.solve``.

    ``A`` has shape (..., n, n); ``B`` (..., n, k) or a batch of vectors (..., n)."""
    square(A, "linalg.solve")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_tname(A)} and B of type {_tname(B)} instead")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return solve(A.mT, B.mT).mT
    n = A._data.shape[-1]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and B._data.shape == A._data.shape[:-1])
    Bm = B.unsqueeze(-1) if vector else B
    if Bm._data.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A._data.shape[-2]}x{n} and {Bm._data.shape[-2]}x{Bm._data.shape[-1]})")
    X = _lapack(Solve, A, Bm)
    return X.squeeze(-1) if vector else X


def cholesky(A, upper=False):
    """Cholesky factor L (lower-triangular, A = L L^T) of a symmetric positive-definite matrix (or batch), as
    ``torch.cholesky``; ``upper=True`` returns U = L^T."""
    return _lapack(Cholesky, square(A, "linalg.cholesky"), upper=upper)


def linalg_cholesky(A, *, upper=False):
    """Cholesky factor L (A = L L^T) of a symmetric positive-definite matrix (or batch), as
    ``torch.linalg.cholesky``; ``upper=True`` returns L^T."""
    return cholesky(A, upper)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """Cholesky factorisation that reports failure instead of raising, as ``torch.linalg.cholesky_ex``.

    Returns the named tuple ``(L, info)``: ``info`` is 0 for a positive-definite matrix, else the order of the
    first leading minor that is not; ``check_errors=True`` raises instead."""
    try:
        return CholeskyExResult(cholesky(A, upper), plain(np.zeros(A._data.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    flat = np.asarray(A._data).reshape((-1,) + A._data.shape[-2:])
    info = np.zeros(len(flat), np.int32)
    out = np.zeros_like(flat)
    for b, a in enumerate(flat):  # the failing matrices: info = order of the first bad leading minor
        for k in range(1, a.shape[-1] + 1):
            try:
                out[b, :k, :k] = np.linalg.cholesky(a[:k, :k])
            except np.linalg.LinAlgError:
                info[b] = k
                break
    out = out.reshape(A._data.shape)
    return CholeskyExResult(plain(np.swapaxes(out, -1, -2).copy() if upper else out),
                            plain(info.reshape(A._data.shape[:-2])))


def qr(A, mode="reduced"):
    """QR decomposition A = Q R of a matrix (or batch, shape (..., m, n)), as ``torch.linalg.qr``.

    ``mode``: ``'reduced'`` (Q of shape (..., m, k), k = min(m, n)), ``'complete'`` (Q square) or ``'r'`` (R
    only, Q empty). Returns the named tuple ``(Q, R)``."""
    square(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           f"or 'complete'")
    Q, R = unpack(apply(Qr, A, mode=mode), Qr.parts(A._data.shape, mode))
    return QrResult(Q, R)


def torch_qr(input, some=True):
    """QR decomposition, as ``torch.qr``: ``some=True`` is linalg.qr's ``'reduced'`` mode, ``some=False`` its
    ``'complete'`` mode."""
    return qr(input, "reduced" if some else "complete")


def svd(A, full_matrices=True, *, driver=None):
    """Singular value decomposition A = U diag(S) Vh of a matrix (or batch), as ``torch.linalg.svd``.

    Returns the named tuple ``(U, S, Vh)``, S in descending order; ``full_matrices=False`` gives the reduced U
    and Vh. ``driver`` is accepted and ignored (a CUDA-only option in torch)."""
    square(A, "linalg.svd", square=False)
    U, S, Vh = unpack(apply(Svd, A, full_matrices=full_matrices), Svd.parts(A._data.shape, full_matrices))
    return SvdResult(U, S, Vh)


def torch_svd(input, some=True, compute_uv=True):
    """torch.svd: V (not V^T); some=False gives the full U and V; compute_uv=False gives zero U and V."""
    U, S, Vh = svd(input, full_matrices=not some)
    if not compute_uv:
        U, Vh = (plain(namespace(t._data).zeros(t._data.shape, dtype=t._data.dtype)) for t in (U, Vh))
    return TorchSvdResult(U, S, Vh.mT)


def svdvals(A, *, driver=None):
    """Singular values of a matrix (or batch), in descending order, as ``torch.linalg.svdvals``."""
    return apply(Svd, square(A, "linalg.svdvals", square=False), compute_uv=False)


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (or batch), as ``torch.linalg.eigh``.

    Only the lower (``UPLO='L'``) or upper triangle is read. Returns the named tuple ``(eigenvalues,
    eigenvectors)``."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    L, V = unpack(apply(Eigh, square(A, "linalg.eigh"), UPLO=UPLO), Eigh.parts(A._data.shape))
    return EighResult(L, V)


def eigvalsh(A, UPLO="L"):
    """Eigenvalues, in ascending order, of a symmetric matrix (or batch), as ``torch.linalg.eigvalsh``."""
    return eigh(A, UPLO)[0]


def _tolerances(A, atol, rtol):
    atol = atol.item() if is_tensor(atol) else atol
    rtol = rtol.item() if is_tensor(rtol) else rtol
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(A._data.dtype).eps * max(A._data.shape[-2:])
    return float(atol or 0.0), float(rtol)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Moore-Penrose pseudo-inverse of a matrix (or batch), through the SVD, as ``torch.linalg.pinv``.

    Singular values below max(atol, rtol S_max) are treated as 0; rtol defaults to eps max(m, n) when atol is
    not given."""
    atol, rtol = _tolerances(square(A, "linalg.pinv", square=False), atol, rtol)
    return apply(Pinv, A, atol=atol, rtol=rtol)


def pinverse(input, rcond=1e-15):
    """Moore-Penrose pseudo-inverse, as ``torch.pinverse``: ``linalg.pinv`` with rtol = ``rcond``."""
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """Numerical rank of a matrix (or batch): the number of singular values above max(atol, rtol S_max), as
    ``torch.linalg.matrix_rank``; an int64 result."""
    atol, rtol = _tolerances(square(A, "linalg.matrix_rank", square=False), atol, rtol)
    s = svdvals(A.detach())._data
    xp = namespace(s)
    smax = s[..., :1] if s.shape[-1] else s
    return plain((s > xp.maximum(atol, rtol * smax)).sum(-1).astype(np.int64))


def _norm_dtype(x, dtype, op):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {_tname(x)}")
    if dtype is not None:
        dtype = _dt.to_dtype(dtype)
        if dtype.np.itemsize < x._data.dtype.itemsize:
            raise RuntimeError(f"{op}: the dtype of the input ({_tname(x)}) should be convertible without narrowing "
                               f"to the specified dtype ({_TORCH_NAMES.get(dtype.np.name)})")
        x = x.to(dtype)
    return x


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """Vector p-norm (sum abs(x)^ord)^(1/ord) over ``dim`` (all elements when None), as
    ``torch.linalg.vector_norm``.

    ``ord`` may be inf (max abs), -inf (min abs) or 0 (the count of nonzeros)."""
    x = _norm_dtype(x, dtype, "linalg.vector_norm")
    return _pnorm(x, float(ord), dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norm over the two dims ``dim``, as ``torch.linalg.matrix_norm``.

    ``ord``: ``'fro'`` (Frobenius), ``'nuc'`` (sum of singular values), 2 / -2 (largest / smallest singular
    value), 1 / -1 (max / min column abs-sum), inf / -inf (max / min row abs-sum)."""
    A = _norm_dtype(A, dtype, "linalg.matrix_norm")
    square(A, "linalg.matrix_norm", square=False)
    d0, d1 = (_dim(d, A._data.ndim, "linalg.matrix_norm") for d in dim)
    if ord == "fro":
        return _pnorm(A, 2.0, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(A._data.ndim) if i not in (d0, d1)]
        s = svdvals(A.permute(rest + [d0, d1]))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        return out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1)) if keepdim else out
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    rows, cols = (d0, d1) if ord in (1, -1) else (d1, d0)  # sum over rows, extreme over the rest
    s = A.abs().sum(rows, keepdim=True)
    out = s.amax(cols, keepdim=True) if ord > 0 else s.amin(cols, keepdim=True)
    return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm over a dim (or all, for ord None), a matrix norm over two."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is not None and dim is None:
        if A._data.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{A._data.ndim}D.")
        dim = tuple(range(A._data.ndim))
    if isinstance(ord, str) or (dim is not None and len(dim) == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim if dim and len(dim) == 2 else (-2, -1), keepdim,
                           dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cond(A, p=None):
    """Condition number of a matrix (or batch), as ``torch.linalg.cond``: S_max / S_min for p = None or 2 (S_min /
    S_max for -2), else norm(A, p) norm(inv(A), p)."""
    if p in (None, 2, -2):
        s = svdvals(A)
        return s.amax(-1) / s.amin(-1) if p != -2 else s.amin(-1) / s.amax(-1)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: the diagonal (offset above the main one if > 0) as the last dim."""
    n = A._data.ndim
    d1, d2 = _dim(dim1, n, "linalg.diagonal"), _dim(dim2, n, "linalg.diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    key = [slice(None)] * n
    key[d2 if offset >= 0 else d1] = slice(abs(offset), None)
    t = A[tuple(key)] if offset else A
    letters = string.ascii_letters[:n]
    sub = letters.replace(letters[d2], letters[d1])
    if t._data.shape[d1] != t._data.shape[d2]:
        k = min(t._data.shape[d1], t._data.shape[d2])
        key = [slice(None)] * n
        key[d1], key[d2] = slice(0, k), slice(0, k)
        t = t[tuple(key)]
    out = "".join(c for i, c in enumerate(letters) if i not in (d1, d2)) + letters[d1]
    return einsum(sub + "->" + out, t)


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info) as inv_ex's: a singular system's result is nan."""
    try:
        return SolveExResult(solve(A, B, left=left), plain(np.zeros(A._data.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    info = _failures(A)
    ok = (info == 0)[..., None, None]
    eye = plain(namespace(A._data).eye(A._data.shape[-1], dtype=A._data.dtype))
    X = solve(Where.call(plain(ok), A, eye), B, left=left)
    ok = ok[..., 0] if X._data.ndim == A._data.ndim - 1 else ok
    return SolveExResult(Where.call(plain(ok), X, math.nan), plain(info))


LstsqResult = namedtuple("lstsq", "solution residuals rank singular_values")


def lstsq(A, B, rcond=None, *, driver=None):
    """The minimum-norm least-squares solution of A X = B (through pinv; as torch's default driver
    'gelsy': residuals and singular_values empty, rank given)."""
    square(A, "torch.linalg.lstsq", square=False)
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {_tname(A)} and other's dtype {_tname(B)}")
    vector = B._data.ndim == A._data.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm._data.shape[-2] != A._data.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), but got "
                           f"{A._data.shape[-2]} and {Bm._data.shape[-2]}")
    rtol = None if rcond is None else float(rcond)
    X = Matmul.call(pinv(A, rtol=rtol), Bm)
    empty = plain(namespace(A._data).zeros((0,), dtype=A._data.dtype))
    return LstsqResult(X.squeeze(-1) if vector else X, empty, matrix_rank(A, rtol=rtol), empty)


def matrix_exp(A):
    """exp(A) by scaling and squaring: Taylor degree 18 (Horner) on A / 2^s with |A / 2^s|_1 <= 1/2,
    then s squarings; differentiable through its matmuls (an error ~1e-17 of exp)."""
    square(A, "linalg.matrix_exp")
    n = A._data.shape[-1]
    if A._data.size == 0:
        return A.clone()
    norm = float(np.max(np.abs(np.asarray(A.detach()._data)).sum(-2)))
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    X = A * (0.5 ** s) if s else A
    eye = plain(namespace(A._data).eye(n, dtype=A._data.dtype))
    P = eye + X / 18
    for k in range(17, 0, -1):
        P = eye + Matmul.call(X, P) / k
    for _ in range(s):
        P = Matmul.call(P, P)
    return P


def matrix_power(input, n):
    """The n-th power of a square matrix (or batch), by binary powering, as ``torch.linalg.matrix_power``.

    n = 0 gives the identity, a negative n the power of the inverse."""
    check_tensor(input, "matrix_power")
    if input._data.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if input._data.shape[-1] != input._data.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{input._data.shape[-2]} by {input._data.shape[-1]} matrices")
    if n == 0:
        xp = namespace(input._data)
        eye = xp.broadcast_to(xp.eye(input._data.shape[-1], dtype=input._data.dtype), input._data.shape)
        return plain(eye.copy())
    a = inv(input) if n < 0 else input
    out, n = None, abs(n)
    while n:  # binary powering
        if n & 1:
            out = a if out is None else Matmul.call(out, a)
        n >>= 1
        if n:
            a = Matmul.call(a, a)
    return out
