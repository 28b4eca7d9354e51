"""numba kernels of the conv family (batch norm), compiled on first use and cached on disk.

Imported only by backend/conv.py, inside the functions that use it, after ``compiled.enabled()``
(importing chainrule never imports numba). Each kernel works on a range of channels or planes and
releases the GIL (``nogil``), so conv.py's threads run the ranges side by side: numba's own parallel
layer (OpenMP) spins, and on this project's loaded 2-core machine a trivial prange call cost
0.003-1.8 ms against ~0.03 ms for a hand-off to a waiting thread. Sums accumulate in float64 over
terms taken in x's dtype (so they overflow where torch's do); ``reassoc`` lets LLVM vectorise them
(nan and inf still propagate: no ``nnan``/``ninf``).
"""
import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})


@_jit
def bn_train_forward(x, w, b, eps, out, mean, var, inv_std, c0, c1):
    """Channels c0..c1 of x (N, C, L): mean, biased var, 1 / sqrt(var + eps) and out = x scale + shift,
    three passes over one channel at a time (it stays in cache between them)."""
    n, _, l = x.shape
    m = n * l
    for ch in range(c0, c1):
        s = 0.0
        for i in range(n):
            for j in range(l):
                s += x[i, ch, j]
        mean[ch] = s / m  # in x's dtype: the squares below are taken in it, overflowing where torch's do
        mu = mean[ch]
        q = 0.0
        for i in range(n):
            for j in range(l):
                d = x[i, ch, j] - mu
                q += d * d
        v = q / m
        var[ch], inv_std[ch] = v, 1.0 / np.sqrt(v + eps)
        scale = inv_std[ch] * w[ch]  # torch's x (w inv_std) + (b - mean w inv_std)
        shift = b[ch] - mean[ch] * scale
        for i in range(n):
            for j in range(l):
                out[i, ch, j] = x[i, ch, j] * scale + shift


@_jit
def bn_train_backward(g, x, mean, inv_std, w, gx, gw, gb, k, c0, c1):
    """dgamma = sum g xhat, dbeta = sum g, and (gx not empty) dx = a (g - dbeta / M - xhat dgamma / M),
    a = gamma inv_std, for channels c0..c1; xhat = (x - mean) inv_std is recomputed from x; k (C, 3) of
    x's dtype holds each channel's coefficients (so the last loop runs in x's dtype)."""
    n, _, l = x.shape
    m = n * l
    for ch in range(c0, c1):
        mu = mean[ch]  # x's dtype, as in the forward
        sg = 0.0
        sgx = 0.0
        for i in range(n):
            for j in range(l):
                gv = g[i, ch, j]
                sg += gv
                sgx += gv * (x[i, ch, j] - mu)
        r = inv_std[ch]
        gw[ch], gb[ch] = sgx * r, sg
        if gx.shape[0]:
            a = r * w[ch]
            k[ch, 0], k[ch, 1], k[ch, 2] = a, a * sg / m, a * sgx * r * r / m
            av, k1, k2 = k[ch, 0], k[ch, 1], k[ch, 2]
            for i in range(n):
                for j in range(l):
                    gx[i, ch, j] = av * g[i, ch, j] - k1 - k2 * (x[i, ch, j] - mu)


@_jit
def _inside(n_out, size, k, s, p, d):
    """Per output position: the first and last + 1 kernel offsets that fall inside the input."""
    lo, hi = np.empty(n_out, np.int64), np.empty(n_out, np.int64)
    for o in range(n_out):
        start = o * s - p
        lo[o] = max(0, (-start + d - 1) // d)
        hi[o] = min(k, (size - start + d - 1) // d)
    return lo, hi


@numba.njit(cache=True, nogil=True)
def max_pool_2x2(x, out, idx, p0, p1):
    """Planes p0..p1 of x (P, H, W) pooled by 2x2 windows, stride 2, all inside x: out (P, Ho, Wo) each
    window's maximum and idx its flat index in H W, by torch's rule (in window order, a cell replaces the
    best when greater or nan: the first maximum, or the last nan). Written out cell by cell: with loops over
    the window (any kernel size) the kernel ran 5-9x slower than NumPy's four passes."""
    w = x.shape[2]
    _, ho, wo = out.shape
    for p in range(p0, p1):
        for oy in range(ho):
            r = 2 * oy
            for ox in range(wo):
                c = 2 * ox
                best, at = x[p, r, c], r * w + c
                v = x[p, r, c + 1]
                t = (v > best) | (v != v)
                best, at = (v, r * w + c + 1) if t else (best, at)
                v = x[p, r + 1, c]
                t = (v > best) | (v != v)
                best, at = (v, r * w + w + c) if t else (best, at)
                v = x[p, r + 1, c + 1]
                t = (v > best) | (v != v)
                best, at = (v, r * w + w + c + 1) if t else (best, at)
                out[p, oy, ox], idx[p, oy, ox] = best, at


@numba.njit(cache=True, nogil=True)
def max_pool_backward(g, idx, gx, p0, p1):
    """gx (P, H W) = each g (P, Ho Wo) added at its window's idx, for planes p0..p1."""
    for p in range(p0, p1):
        gx[p] = 0
        for q in range(g.shape[1]):
            a = idx[p, q]
            if a >= 0:
                gx[p, a] += g[p, q]


_BT_FIRST, _BT_SECOND, _BT_SIGN = (0, 1, 2, 1), (2, 2, 1, 3), (-1.0, 1.0, -1.0, -1.0)  # rows of B^T
# (the signs and coefficients are cast to the arrays' dtype in the kernels: float64 ones made float32 math float64)
_A_FIRST, _A_SECOND = (1.0, 1.0, 1.0, 0.0), (0.0, 1.0, -1.0, -1.0)  # rows of A (g is finite: 0 g adds nothing)


@numba.njit(cache=True, nogil=True)
def winograd_input(xh, th, tw, v, n0, n1):
    """Winograd F(2x2, 3x3): v (16, tiles+, C) = B^T d B of every 4x4 tile d (stride 2) of images n0..n1 of the
    zero-padded channels-last xh (N, 2 th + 2, 2 tw + 2, C), tiles counted from image n0. One loop over the
    channels per row of B^T d: with all 16 outputs in one loop LLVM found "too many memory checks" (for
    aliasing) and ran it scalar, 1.5-2.5x slower with 32-64 channels."""
    c = xh.shape[3]
    for img in range(n0, n1):
        for ty in range(th):
            y = 2 * ty
            for tx in range(tw):
                x = 2 * tx
                q = ((img - n0) * th + ty) * tw + tx
                for i in range(4):  # row i of B^T d: d[p] + sign d[r] (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    p, r, sign = y + _BT_FIRST[i], y + _BT_SECOND[i], xh.dtype.type(_BT_SIGN[i])
                    for ch in range(c):  # the same row of d B: e0 - e2, e1 + e2, e2 - e1, e1 - e3
                        e0 = xh[img, p, x, ch] + sign * xh[img, r, x, ch]
                        e1 = xh[img, p, x + 1, ch] + sign * xh[img, r, x + 1, ch]
                        e2 = xh[img, p, x + 2, ch] + sign * xh[img, r, x + 2, ch]
                        e3 = xh[img, p, x + 3, ch] + sign * xh[img, r, x + 3, ch]
                        k = 4 * i
                        v[k, q, ch], v[k + 1, q, ch], v[k + 2, q, ch], v[k + 3, q, ch] = e0 - e2, e1 + e2, e2 - e1, e1 - e3


@numba.njit(cache=True, nogil=True)
def winograd_output(m, th, tw, out, n0, n1):
    """Winograd F(2x2, 3x3): each tile's 2x2 outputs A^T m A, from m (16, tiles+, O), into the channels-last
    out (N, 2 th, 2 tw, O) for images n0..n1; a loop over the channels per output row (vectorised, as above)."""
    o = m.shape[2]
    for img in range(n0, n1):
        for ty in range(th):
            y = 2 * ty
            for tx in range(tw):
                x = 2 * tx
                q = ((img - n0) * th + ty) * tw + tx
                for oc in range(o):
                    a0 = m[0, q, oc] + m[4, q, oc] + m[8, q, oc]
                    a1 = m[1, q, oc] + m[5, q, oc] + m[9, q, oc]
                    a2 = m[2, q, oc] + m[6, q, oc] + m[10, q, oc]
                    a3 = m[3, q, oc] + m[7, q, oc] + m[11, q, oc]
                    out[img, y, x, oc], out[img, y, x + 1, oc] = a0 + a1 + a2, a1 - a2 - a3
                for oc in range(o):
                    b0 = m[4, q, oc] - m[8, q, oc] - m[12, q, oc]
                    b1 = m[5, q, oc] - m[9, q, oc] - m[13, q, oc]
                    b2 = m[6, q, oc] - m[10, q, oc] - m[14, q, oc]
                    b3 = m[7, q, oc] - m[11, q, oc] - m[15, q, oc]
                    out[img, y + 1, x, oc], out[img, y + 1, x + 1, oc] = b0 + b1 + b2, b1 - b2 - b3


@numba.njit(cache=True, nogil=True)
def winograd_output_grad(gh, th, tw, m, n0, n1):
    """The adjoint of winograd_output: m (16, tiles+, O) = A dy A^T for each tile's 2x2 block dy of the
    channels-last gradient gh (N, 2 th, 2 tw, O) (zero past the output), images n0..n1."""
    o = gh.shape[3]
    for img in range(n0, n1):
        for ty in range(th):
            y = 2 * ty
            for tx in range(tw):
                x = 2 * tx
                q = ((img - n0) * th + ty) * tw + tx
                for i in range(4):  # row i of A dy: a0 dy0 + a1 dy1, rows of A (1, 0), (1, 1), (1, -1), (0, -1)
                    a0, a1, k = gh.dtype.type(_A_FIRST[i]), gh.dtype.type(_A_SECOND[i]), 4 * i
                    for oc in range(o):
                        a = a0 * gh[img, y, x, oc] + a1 * gh[img, y + 1, x, oc]
                        b = a0 * gh[img, y, x + 1, oc] + a1 * gh[img, y + 1, x + 1, oc]
                        m[k, q, oc], m[k + 1, q, oc], m[k + 2, q, oc], m[k + 3, q, oc] = a, a + b, a - b, -b
