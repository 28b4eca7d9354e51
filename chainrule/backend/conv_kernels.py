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


@numba.njit(cache=True, nogil=True)
def winograd_input(xh, th, tw, v, n0, n1):
    """Winograd F(2x2, 3x3): v (16, tiles, C) = B^T d B of every 4x4 tile d (stride 2) of images n0..n1 of the
    zero-padded channels-last xh (N, 2 th + 2, 2 tw + 2, C), tiles counted from image n0; channels innermost,
    so each line of the transform runs over C at once."""
    c = xh.shape[3]
    for img in range(n0, n1):
        for ty in range(th):
            for tx in range(tw):
                d = xh[img, 2 * ty:2 * ty + 4, 2 * tx:2 * tx + 4]
                o = v[:, ((img - n0) * th + ty) * tw + tx]
                for ch in range(c):
                    t00, t01 = d[0, 0, ch] - d[2, 0, ch], d[0, 1, ch] - d[2, 1, ch]
                    t02, t03 = d[0, 2, ch] - d[2, 2, ch], d[0, 3, ch] - d[2, 3, ch]
                    t10, t11 = d[1, 0, ch] + d[2, 0, ch], d[1, 1, ch] + d[2, 1, ch]
                    t12, t13 = d[1, 2, ch] + d[2, 2, ch], d[1, 3, ch] + d[2, 3, ch]
                    t20, t21 = d[2, 0, ch] - d[1, 0, ch], d[2, 1, ch] - d[1, 1, ch]
                    t22, t23 = d[2, 2, ch] - d[1, 2, ch], d[2, 3, ch] - d[1, 3, ch]
                    t30, t31 = d[1, 0, ch] - d[3, 0, ch], d[1, 1, ch] - d[3, 1, ch]
                    t32, t33 = d[1, 2, ch] - d[3, 2, ch], d[1, 3, ch] - d[3, 3, ch]
                    o[0, ch], o[1, ch], o[2, ch], o[3, ch] = t00 - t02, t01 + t02, t02 - t01, t01 - t03
                    o[4, ch], o[5, ch], o[6, ch], o[7, ch] = t10 - t12, t11 + t12, t12 - t11, t11 - t13
                    o[8, ch], o[9, ch], o[10, ch], o[11, ch] = t20 - t22, t21 + t22, t22 - t21, t21 - t23
                    o[12, ch], o[13, ch], o[14, ch], o[15, ch] = t30 - t32, t31 + t32, t32 - t31, t31 - t33


@numba.njit(cache=True, nogil=True)
def winograd_output(m, th, tw, out, n0, n1):
    """Winograd F(2x2, 3x3): each tile's 2x2 outputs A^T m A, from m (16, tiles, O), into the channels-last
    out (N, 2 th, 2 tw, O) for images n0..n1."""
    o = m.shape[2]
    for img in range(n0, n1):
        for ty in range(th):
            for tx in range(tw):
                q = ((img - n0) * th + ty) * tw + tx
                y, x = 2 * ty, 2 * tx
                for oc in range(o):
                    a0 = m[0, q, oc] + m[4, q, oc] + m[8, q, oc]
                    a1 = m[1, q, oc] + m[5, q, oc] + m[9, q, oc]
                    a2 = m[2, q, oc] + m[6, q, oc] + m[10, q, oc]
                    a3 = m[3, q, oc] + m[7, q, oc] + m[11, q, oc]
                    b0 = m[4, q, oc] - m[8, q, oc] - m[12, q, oc]
                    b1 = m[5, q, oc] - m[9, q, oc] - m[13, q, oc]
                    b2 = m[6, q, oc] - m[10, q, oc] - m[14, q, oc]
                    b3 = m[7, q, oc] - m[11, q, oc] - m[15, q, oc]
                    out[img, y, x, oc], out[img, y, x + 1, oc] = a0 + a1 + a2, a1 - a2 - a3
                    out[img, y + 1, x, oc], out[img, y + 1, x + 1, oc] = b0 + b1 + b2, b1 - b2 - b3


@numba.njit(cache=True, nogil=True)
def winograd_output_grad(gh, th, tw, m, n0, n1):
    """The adjoint of winograd_output: m (16, tiles, O) = A dy A^T for each tile's 2x2 block dy of the
    channels-last gradient gh (N, 2 th, 2 tw, O) (zero past the output), images n0..n1."""
    o = gh.shape[3]
    for img in range(n0, n1):
        for ty in range(th):
            for tx in range(tw):
                q = ((img - n0) * th + ty) * tw + tx
                d = gh[img, 2 * ty:2 * ty + 2, 2 * tx:2 * tx + 2]
                r = m[:, q]
                for oc in range(o):
                    y00, y01, y10, y11 = d[0, 0, oc], d[0, 1, oc], d[1, 0, oc], d[1, 1, oc]
                    for i in range(4):  # rows of A: (1, 0), (1, 1), (1, -1), (0, -1)
                        if i == 0:
                            a, b = y00, y01
                        elif i == 1:
                            a, b = y00 + y10, y01 + y11
                        elif i == 2:
                            a, b = y00 - y10, y01 - y11
                        else:
                            a, b = -y10, -y11
                        r[4 * i, oc], r[4 * i + 1, oc], r[4 * i + 2, oc], r[4 * i + 3, oc] = a, a + b, a - b, -b
