"""Matrix products: forward, backward and public entry side by side (never
broadcast-multiply-sum)."""
import math
import string

import numpy as np

from ..backend import namespace
from .args import is_tensor, same_device
from .registry import Op, apply


def _t(xp, a):
    return xp.swapaxes(a, -1, -2)


def _rows(a):
    """``a`` as a matrix of its last-dim rows (explicit sizes: -1 cannot be inferred for size 0)."""
    return a.reshape((math.prod(a.shape[:-1]), a.shape[-1]))


class Matmul(Op):
    """out = a @ b;  da = g b^T,  db = a^T g  (1-D operands promoted then squeezed; batch dims
    summed by the engine)"""
    save_args = True
    bilinear = True

    @staticmethod
    def call(input, other):
        a, b = input, other
        if getattr(b, "is_sparse", False) is True and is_tensor(a):  # dense @ sparse: the sparse one's rule
            return b.__rmatmul__(a)
        if not is_tensor(a) or not is_tensor(b):
            raise TypeError(f"matmul(): argument 'other' must be Tensor, not "
                            f"{type(b if is_tensor(a) else a).__name__}")
        if a._data.ndim == 0 or b._data.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{a._data.ndim}D and {b._data.ndim}D")
        if a._data.dtype is not b._data.dtype and a._data.dtype != b._data.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
        if a._data.dtype == np.bool_:
            raise NotImplementedError("matmul: not implemented for bool tensors")
        ka = a._data.shape[-1]
        kb = b._data.shape[-2] if b._data.ndim > 1 else b._data.shape[0]
        if ka != kb:
            sa = list(a._data.shape) if a._data.ndim > 1 else [1] + list(a._data.shape)
            sb = b._data.shape[-2:] if b._data.ndim > 1 else (kb, 1)
            raise RuntimeError(f"matmul: mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, sa[-2:]))} "
                               f"and {'x'.join(map(str, sb))}); shapes {list(a._data.shape)} and {list(b._data.shape)}")
        same_device(a, b, "matmul")
        try:
            return apply(Matmul, a, b)
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {list(a._data.shape)} and {list(b._data.shape)} "
                               "cannot be broadcast") from None

    @staticmethod
    def forward(ctx, xp, a, b):
        return xp.matmul(a, b)

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        needs = ctx.needs
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        if a_vec and b_vec:
            return (g * b if needs[0] else None), (g * a if needs[1] else None)
        if a_vec:
            a, g = a.reshape((1, -1)), xp.expand_dims(g, -2)
        if b_vec:
            b, g = b.reshape((-1, 1)), xp.expand_dims(g, -1)
        ga = gb = None
        if needs[0]:
            ga = xp.matmul(g, _t(xp, b))
            if a_vec:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if needs[1]:
            if b.ndim == 2 and a.ndim > 2:  # one GEMM over all batch rows
                gb = xp.matmul(_t(xp, _rows(a)), _rows(g))
            else:
                gb = xp.matmul(_t(xp, a), g)
            if b_vec:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb


class Linear(Op):
    """out = x W^T + b (fused: one GEMM, bias added in place);
    dx = g W,  dW = g^T x,  db = sum of g over rows"""
    save_args = True
    bilinear = True

    @staticmethod
    def call(input, weight, bias=None):
        """Applies the affine map x W^T + b over the last dim, as ``torch.nn.functional.linear``.

        ``input`` has shape (..., in_features), ``weight`` (out_features, in_features), ``bias``
        (out_features,); the output has shape (..., out_features)."""
        if input._data.ndim == 0 or input._data.shape[-1] != weight._data.shape[-1]:
            rows = input._data.size // max(input._data.shape[-1], 1) if input._data.ndim else 1
            raise RuntimeError(f"linear: mat1 and mat2 shapes cannot be multiplied ({rows}x"
                               f"{input._data.shape[-1] if input._data.ndim else 0} and "
                               f"{weight._data.shape[1]}x{weight._data.shape[0]}); input {list(input.shape)}, "
                               f"weight {list(weight.shape)}")
        if input._data.dtype != weight._data.dtype:
            raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got {input.dtype} and "
                               f"{weight.dtype}")
        return apply(Linear, input, weight, bias) if bias is not None else apply(Linear, input, weight)

    @staticmethod
    def forward(ctx, xp, x, w, b=None):
        out = xp.matmul(x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, xp, g, out, x, w, b=None):
        needs = ctx.needs
        gx = xp.matmul(g, w) if needs[0] else None
        g2 = _rows(g) if g.ndim != 2 else g
        gw = xp.matmul(_t(xp, g2), x if x.ndim == 2 else _rows(x)) if needs[1] else None
        gb = xp.sum(g2, axis=0) if len(needs) > 2 and needs[2] else None
        return gx, gw, gb


# ---- linear algebra (issue 13): einsum and LAPACK rules (torch's derivatives.yaml, real case) ------
# Several outputs are one node whose output packs them, flattened, along the last axis (``parts``
# gives their shapes, ``unpack`` splits the array, its gradient or the Tensor). NumPy's
# LinAlgError propagates; tensor/linalg.py turns it into torch's message.

def _pack(xp, batch, *parts):
    return xp.concatenate([p.reshape(batch + (math.prod(p.shape[len(batch):]),)) for p in parts], -1)


def unpack(a, shapes):
    """Split a packed output (array, gradient or Tensor) into parts of trailing shapes ``shapes``."""
    out, at = [], 0
    for s in shapes:
        out.append(a[..., at:at + math.prod(s)].reshape(tuple(a.shape[:-1]) + tuple(s)))
        at += math.prod(s)
    return out


def _diag(xp, d):  # diag_embed
    return xp.expand_dims(d, -1) * xp.eye(d.shape[-1], dtype=d.dtype)


def _over_gaps(xp, X, x):  # X_ij / (x_j - x_i), X with a zero diagonal
    return X / (xp.expand_dims(x, -2) - xp.expand_dims(x, -1) + xp.eye(x.shape[-1], dtype=x.dtype))


def _skew(xp, X):
    return X - _t(xp, X)


def _full(xp, ins, ops, sizes):  # size-1 dims broadcast to their subscript's size
    return [a if all(a.shape[k] == sizes.get(c, 1) for k, c in enumerate(s)) else
            xp.broadcast_to(a, tuple(sizes.get(c, 1) for c in s)) for s, a in zip(ins, ops)]


def _einsum(xp, eq, *ops, in_order=False):
    """xp.einsum with BLAS pairwise contractions; in_order: left to right, as torch without opt_einsum
    (another order rounds differently, denormal intermediates most)."""
    if is_tensor(ops[0]):  # create_graph: the rule recorded as Einsum nodes
        return apply(Einsum, *ops, eq=eq)
    n = len(ops)
    if in_order and n > 2 and xp.einsum is np.einsum:
        return xp.einsum(eq, *ops, optimize=["einsum_path", (0, 1)] + [(0, n - 1 - i) for i in range(1, n - 1)])
    return xp.einsum(eq, *ops, optimize=n > 1)


class Einsum(Op):
    """out = einsum(eq, *X);  dX_i = einsum(g, X_j (j != i) -> subscripts of X_i), times I for a repeated
    subscript (g on that diagonal), times ones for one summed away (g broadcast along it)"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, *ops, eq):  # eq: explicit output, no '...' (tensor/linalg.py spells it out)
        ins = eq.split("->")[0].split(",")
        sizes = {c: n for s, a in zip(ins, ops) for c, n in zip(s, a.shape) if n != 1}
        ctx.saved = eq, sizes
        return _einsum(xp, eq, *_full(xp, ins, ops, sizes), in_order=True)

    @staticmethod
    def backward(ctx, xp, g, out, *ops):
        eq, sizes = ctx.saved
        ins, res = eq.split("->")
        ins = ins.split(",")
        ops = _full(xp, ins, ops, sizes)
        an = namespace(g._data) if is_tensor(g) else xp
        free = [c for c in string.ascii_letters if c not in eq]
        grads = []
        for i, s in enumerate(ins):
            terms, arrays, target = [res] + ins[:i] + ins[i + 1:], [g] + ops[:i] + ops[i + 1:], ""
            known = set("".join(terms))
            for k, c in enumerate(s):
                if c in s[:k]:  # a diagonal: times I over (c, a fresh subscript)
                    terms.append(c + free[-1])
                    arrays.append(an.eye(sizes.get(c, 1), dtype=g.dtype))
                    c = free.pop()
                elif c not in known:  # summed away: g is constant along it
                    terms.append(c)
                    arrays.append(an.ones(sizes.get(c, 1), dtype=g.dtype))
                target += c
            grads.append(_einsum(xp, ",".join(terms) + "->" + target, *arrays) if ctx.needs[i] else None)
        return tuple(grads)


class Inv(Op):
    """out = A^{-1};  dA = -out^T g out^T"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, A):
        return xp.linalg.inv(A)

    @staticmethod
    def backward(ctx, xp, g, out):
        oT = _t(xp, out)
        return -xp.matmul(oT, xp.matmul(g, oT)),


class Solve(Op):
    """X = A^{-1} B;  dB = A^{-T} g,  dA = -dB X^T"""
    save_args = save_out = once_differentiable = True

    @staticmethod
    def forward(ctx, xp, A, B):
        return xp.linalg.solve(A, B)

    @staticmethod
    def backward(ctx, xp, g, out, A, B):
        gB = xp.linalg.solve(_t(xp, A), g)
        return (-xp.matmul(gB, _t(xp, out)) if ctx.needs[0] else None), gB


class Det(Op):
    """out = det A;  dA = g out A^{-T} (0 where out = 0, as torch 2.13)"""
    save_args = save_out = once_differentiable = True

    @staticmethod
    def forward(ctx, xp, A):
        return xp.linalg.det(A)

    @staticmethod
    def backward(ctx, xp, g, out, A):
        ok = (out != 0)[..., None, None]
        inv = xp.linalg.inv(xp.where(ok, A, xp.eye(A.shape[-1], dtype=A.dtype)))  # singular: any finite value
        return (g * out)[..., None, None] * _t(xp, inv),


class Slogdet(Op):
    """(sign, logabsdet) = slogdet A, packed;  dA = g_logabsdet A^{-T} (sign: none)"""
    save_args = once_differentiable = True
    parts = staticmethod(lambda shape: [(), ()])

    @staticmethod
    def forward(ctx, xp, A):
        return xp.stack(xp.linalg.slogdet(A), -1)

    @staticmethod
    def backward(ctx, xp, g, out, A):
        return g[..., 1, None, None] * _t(xp, xp.linalg.inv(A)),


class Cholesky(Op):
    """L = cholesky(A), A = L L^T;  dA = L^{-T} Φ L^{-1}, Φ = tril(L^T g) mirrored to a symmetric matrix
    (the diagonal once, halved; Murray 2016, as torch); upper: U = L^T"""
    save_out = once_differentiable = True

    @staticmethod
    def forward(ctx, xp, A, upper=False):
        ctx.saved = upper
        L = xp.linalg.cholesky(A)
        return _t(xp, L) if upper else L

    @staticmethod
    def backward(ctx, xp, g, L):
        if ctx.saved:
            L, g = _t(xp, L), _t(xp, g)
        phi = xp.tril(xp.matmul(_t(xp, L), g))
        Linv = xp.linalg.inv(L)
        return xp.matmul(_t(xp, Linv), xp.matmul(0.5 * (phi + _t(xp, xp.tril(phi, -1))), Linv)),


class Qr(Op):
    """(Q, R) = qr A, packed;  m >= n: dA = [gQ + Q copyltu(M)] R^{-T}, M = R gR^T - gQ^T Q;
    m < n (A = [X|Y], R = [U|V]): dX as before with gQ + Y gV^T and gU, dY = Q gV (torch)"""
    save_args = save_out = once_differentiable = True

    @staticmethod
    def parts(shape, mode):
        m, n = shape[-2:]
        k = m if mode == "complete" else min(m, n)
        return [(0,) if mode == "r" else (m, k), (k, n)]

    @staticmethod
    def forward(ctx, xp, A, mode):
        ctx.saved = mode
        if mode == "r":
            R = xp.linalg.qr(A, mode="r")
            return R.reshape(R.shape[:-2] + (math.prod(R.shape[-2:]),))
        return _pack(xp, A.shape[:-2], *xp.linalg.qr(A, mode=mode))

    @staticmethod
    def backward(ctx, xp, g, out, A):
        mode, (m, n) = ctx.saved, A.shape[-2:]
        if mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                               "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        (Q, R), (gQ, gR) = unpack(out, Qr.parts(A.shape, mode)), unpack(g, Qr.parts(A.shape, mode))

        def tall(R, gQ, gR):
            M = xp.matmul(R, _t(xp, gR)) - xp.matmul(_t(xp, gQ), Q)
            B = gQ + xp.matmul(Q, xp.tril(M) + _t(xp, xp.tril(M, -1)))
            return _t(xp, xp.linalg.solve(R, _t(xp, B)))  # B R^{-T}
        if m >= n:
            return tall(R, gQ, gR),
        gV = gR[..., m:]
        gX = tall(R[..., :m], gQ + xp.matmul(A[..., m:], _t(xp, gV)), gR[..., :m])
        return xp.concatenate([gX, xp.matmul(Q, gV)], -1),


class Svd(Op):
    """(U, S, V^T) = svd A, packed;  dA = U [(skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)] V^T with
    E_ij = s_j^2 - s_i^2, plus (I - U U^T) gU S^{-1} V^T (m > n) or U S^{-1} gV^T (I - V V^T) (m < n);
    gU = gV = 0 (svdvals): U diag(gS) V^T (torch; full_matrices: the first min(m, n) columns)"""
    save_out = once_differentiable = True

    @staticmethod
    def parts(shape, full_matrices=False, compute_uv=True):
        m, n = shape[-2:]
        k = min(m, n)
        if not compute_uv:
            return [(0,), (k,), (0,)]
        return [(m, m if full_matrices else k), (k,), (n if full_matrices else k, n)]

    @staticmethod
    def forward(ctx, xp, A, full_matrices=False, compute_uv=True):
        ctx.saved = A.shape, full_matrices, compute_uv, None
        if compute_uv:
            return _pack(xp, A.shape[:-2], *xp.linalg.svd(A, full_matrices=full_matrices))
        if not ctx.needs:
            return xp.linalg.svd(A, compute_uv=False)
        u, s, vh = xp.linalg.svd(A, full_matrices=False)
        ctx.saved = A.shape, False, False, (u, vh)
        return s

    @staticmethod
    def backward(ctx, xp, g, out):
        shape, full, uv, saved = ctx.saved
        m, n = shape[-2:]
        if uv:
            (U, S, Vh), (gU, gS, gVh) = unpack(out, Svd.parts(shape, full)), unpack(g, Svd.parts(shape, full))
        else:
            (U, Vh), S, gS, gU, gVh = saved, out, g, None, None
        k = S.shape[-1]
        U, Vh = U[..., :k], Vh[..., :k, :]
        has_u, has_v = gU is not None and bool(xp.any(gU)), gVh is not None and bool(xp.any(gVh))
        if not has_u and not has_v:
            return xp.matmul(U * xp.expand_dims(gS, -2), Vh),
        gU, gVh = gU[..., :k], gVh[..., :k, :]
        Sr, Sc = xp.expand_dims(S, -2), xp.expand_dims(S, -1)
        ret = _diag(xp, gS)
        if has_u:
            ret = ret + _over_gaps(xp, _skew(xp, xp.matmul(_t(xp, U), gU)), S * S) * Sr
        if has_v:
            ret = ret + Sc * _over_gaps(xp, _skew(xp, xp.matmul(Vh, _t(xp, gVh))), S * S)
        if m > n and has_u:
            gUS = gU / Sr
            return xp.matmul(xp.matmul(U, ret) + gUS - xp.matmul(U, xp.matmul(_t(xp, U), gUS)), Vh),
        if m < n and has_v:
            SgV = gVh / Sc
            return xp.matmul(U, xp.matmul(ret, Vh) + SgV - xp.matmul(xp.matmul(SgV, _t(xp, Vh)), Vh)),
        return xp.matmul(U, xp.matmul(ret, Vh)),


class Eigh(Op):
    """(L, V) = eigh A, packed;  dA = V [skew(V^T gV) / 2 / E + diag(gL)] V^T, E_ij = L_j - L_i (torch)"""
    save_out = once_differentiable = True
    parts = staticmethod(lambda shape: [shape[-1:], shape[-2:]])

    @staticmethod
    def forward(ctx, xp, A, UPLO="L"):
        ctx.saved = A.shape
        return _pack(xp, A.shape[:-2], *xp.linalg.eigh(A, UPLO=UPLO))

    @staticmethod
    def backward(ctx, xp, g, out):
        (L, V), (gL, gV) = unpack(out, Eigh.parts(ctx.saved)), unpack(g, Eigh.parts(ctx.saved))
        ret = _diag(xp, gL)
        if bool(xp.any(gV)):
            ret = ret + 0.5 * _over_gaps(xp, _skew(xp, xp.matmul(_t(xp, V), gV)), L)
        return xp.matmul(V, xp.matmul(ret, _t(xp, V))),


class Pinv(Op):
    """out = A^+ = V S^+ U^T (s <= max(atol, rtol s_max) dropped);  torch's pinv_backward, m <= n:
    K = g^T out, dA = -(out K)^T + K out^T - A out K out^T + out^T out (g^T - K A); m > n: transposed"""
    save_args = save_out = once_differentiable = True

    @staticmethod
    def forward(ctx, xp, A, atol=0.0, rtol=0.0):
        u, s, vh = xp.linalg.svd(A, full_matrices=False)
        keep = s > xp.maximum(atol, rtol * (s[..., :1] if s.shape[-1] else s))
        sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(A.dtype)
        return xp.matmul(_t(xp, vh) * xp.expand_dims(sinv, -2), _t(xp, u))

    @staticmethod
    def backward(ctx, xp, g, P, A):
        mm, T = xp.matmul, (lambda x: _t(xp, x))
        if A.shape[-2] <= A.shape[-1]:
            K = mm(T(g), P)
            KP = mm(K, T(P))
            return -T(mm(P, K)) + KP - mm(mm(A, P), KP) + mm(mm(T(P), P), T(g) - mm(K, A)),
        K = mm(P, T(g))
        PK = mm(T(P), K)
        return -T(mm(K, P)) + mm(mm(T(g) - mm(A, K), P), T(P)) + PK - mm(mm(PK, P), A),
