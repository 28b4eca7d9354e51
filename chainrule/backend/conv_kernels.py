"""numba kernels of the conv family (batch norm, im2col and col2im, max pooling, the Winograd transforms),
compiled on first use and cached on disk.

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
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_jit = numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})


@intrinsic
def _load_acquire(typingctx, flags, index):
    """flags[index] loaded atomically (acquire): a plain load may be hoisted out of the loop below."""
    def codegen(context, builder, sig, args):
        array = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.load_atomic(cgutils.get_item_pointer(context, builder, sig.args[0], array, [args[1]]),
                                   "acquire", 8)
    return types.int64(flags, index), codegen


@numba.njit(cache=True, nogil=True)
def wait_flag(flags, index, spins):
    """Whether flags[index] (int64) became nonzero within ``spins`` reads, watched without the GIL."""
    for _ in range(spins):
        if _load_acquire(flags, index) != 0:
            return True
    return False


@_jit
def bn_train_forward(x, w, b, eps, out, mean, var, inv_std, c0, c1):
    """Channels c0..c1 of x (N, C, L): mean, biased var, 1 / sqrt(var + eps) and out = x scale + shift, in
    three passes over x in memory order (per-channel sums accumulated image by image). Channel by channel
    the passes hopped between N runs of L values (pages): with x out of cache (as in a training step) that
    ran 1.3-1.8x slower (x (32, 16, 32, 32): 428 vs 232 us; in cache both 135 us)."""
    n, _, l = x.shape
    m = n * l
    s = np.zeros(c1 - c0)  # float64 sums
    for i in range(n):
        for ch in range(c0, c1):
            t = 0.0
            for j in range(l):
                t += x[i, ch, j]
            s[ch - c0] += t
    for ch in range(c0, c1):
        mean[ch] = s[ch - c0] / m  # in x's dtype: the squares below are taken in it, overflowing where torch's do
        s[ch - c0] = 0.0
    for i in range(n):
        for ch in range(c0, c1):
            mu = mean[ch]
            q = 0.0
            for j in range(l):
                d = x[i, ch, j] - mu
                q += d * d
            s[ch - c0] += q
    for ch in range(c0, c1):
        v = s[ch - c0] / m
        var[ch], inv_std[ch] = v, 1.0 / np.sqrt(v + eps)
    for i in range(n):
        for ch in range(c0, c1):
            scale = inv_std[ch] * w[ch]  # torch's x (w inv_std) + (b - mean w inv_std)
            shift = b[ch] - mean[ch] * scale
            for j in range(l):
                out[i, ch, j] = x[i, ch, j] * scale + shift


@_jit
def bn_train_backward(g, x, mean, inv_std, w, gx, gw, gb, k, c0, c1):
    """dgamma = sum g xhat, dbeta = sum g, and (gx not empty) dx = a (g - dbeta / M - xhat dgamma / M),
    a = gamma inv_std, for channels c0..c1; xhat = (x - mean) inv_std is recomputed from x; k (C, 3) of
    x's dtype holds each channel's coefficients (so the last loop runs in x's dtype). Two passes in memory
    order, as bn_train_forward (out of cache, x (32, 16, 32, 32): 664 vs 340 us channel by channel)."""
    n, _, l = x.shape
    m = n * l
    sums = np.zeros((c1 - c0, 2))  # float64: sum g, sum g (x - mean)
    for i in range(n):
        for ch in range(c0, c1):
            mu = mean[ch]  # x's dtype, as in the forward
            sg = 0.0
            sgx = 0.0
            for j in range(l):
                gv = g[i, ch, j]
                sg += gv
                sgx += gv * (x[i, ch, j] - mu)
            sums[ch - c0, 0] += sg
            sums[ch - c0, 1] += sgx
    for ch in range(c0, c1):
        sg, sgx, r = sums[ch - c0, 0], sums[ch - c0, 1], inv_std[ch]
        gw[ch], gb[ch] = sgx * r, sg
        a = r * w[ch]
        k[ch, 0], k[ch, 1], k[ch, 2] = a, a * sg / m, a * sgx * r * r / m
    if gx.shape[0]:
        for i in range(n):
            for ch in range(c0, c1):
                av, k1, k2, mu = k[ch, 0], k[ch, 1], k[ch, 2], mean[ch]
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
def direct_conv(xpad, w, out, dh, dw, groups, n0, n1):
    """out (N, O, Ho, Wo) of images n0..n1, stride 1: each output plane is the sum over its group's input
    channels and the kernel offsets of w times the zero-padded plane (xpad (N, C, Hp + 1, Wp)) shifted by the
    offset, computed over rows of the padded width Wp (one long vector loop per offset; the extra columns
    are dropped at the end). For few channels and taps per output (LeNet's first layer, depthwise), where
    im2col copies kh kw times the input for a GEMM with a handful of rows."""
    o, cg, kh, kw = w.shape
    ho, wo = out.shape[2], out.shape[3]
    wp = xpad.shape[3]
    og = o // groups
    length = ho * wp
    acc = np.empty(length, out.dtype)
    xf = xpad.reshape(xpad.shape[0], xpad.shape[1], -1)
    for img in range(n0, n1):
        for oc in range(o):
            acc[:] = 0
            first = (oc // og) * cg
            for ci in range(cg):
                for i in range(kh):
                    for j in range(kw):
                        wv = w[oc, ci, i, j]
                        shift = max(i * dh * wp + j * dw, 0)
                        for t in range(length):
                            acc[t] += wv * xf[img, first + ci, shift + t]
            for y in range(ho):
                for x in range(wo):
                    out[img, oc, y, x] = acc[y * wp + x]


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def direct_weight_grad(gpad, xpad, dw, dh, dwid, groups, n0, n1):
    """dW of direct_conv over images n0..n1 into dw (O, C/groups, kh, kw): the dot products of each output
    gradient plane (gpad (N, O, Ho, Wp), zero past Wo) with its input plane shifted by each offset, summed
    in float64 (``reassoc`` lets LLVM vectorise the sums; nan and inf still propagate)."""
    o, cg, kh, kw = dw.shape
    wp = xpad.shape[3]
    og = o // groups
    length = gpad.shape[2] * wp
    gf = gpad.reshape(gpad.shape[0], gpad.shape[1], -1)
    xf = xpad.reshape(xpad.shape[0], xpad.shape[1], -1)
    for oc in range(o):
        first = (oc // og) * cg
        for ci in range(cg):
            for i in range(kh):
                for j in range(kw):
                    shift = max(i * dh * wp + j * dwid, 0)
                    total = 0.0
                    for img in range(n0, n1):
                        for t in range(length):
                            total += gf[img, oc, t] * xf[img, first + ci, shift + t]
                    dw[oc, ci, i, j] = total


@numba.njit(cache=True, nogil=True)
def im2col(x, s, e, cols, cn, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """The columns of images s..e of x (N, C, H, W, contiguous), zero padding included, into the flat scratch
    ``cols``: [i - s, (c, a, b), (y, z)], or with ``cn`` [(c, a, b), i - s, (y, z)], = x[i, c, y sh + a dh - ph,
    z sw + b dw - pw]. One call without the GIL where NumPy made a zero-padded copy and a strided one (1.3-2.7x
    slower at one thread, and six hand-overs of the GIL a chunk: two threads taking turns at it on this VM
    ran small copies 2x slower than one). Indices are unsigned so that LLVM drops the checks for negative
    ones (3x faster)."""
    if sh == 1:
        _im2col_by_planes(x, s, e, cols, cn, kh, kw, sw, dh, dw, ph, pw, ho, wo)
    else:
        _im2col_by_rows(x, s, e, cols, cn, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)


@numba.njit(cache=True, nogil=True, inline="always")
def _columns(w, off, sw, wo):
    """The output columns z in lo..hi whose input column z sw + off lies inside a row of width w."""
    lo = min(wo, max(0, (-off + sw - 1) // sw))
    return lo, (max(lo, min(wo, (w - 1 - off) // sw + 1)) if w - 1 - off >= 0 else lo)


@numba.njit(cache=True, nogil=True, inline="always")
def _copy_row(xf, src, step, dest, d, lo, hi, wo):
    """dest[d:d + wo] = zeros, then xf[src + z step] at z in lo..hi."""
    for z in range(lo):
        dest[d + np.uint64(z)] = 0
    if step == 1:  # contiguous: LLVM vectorises the copy
        for z in range(lo, hi):
            dest[d + np.uint64(z)] = xf[src + np.uint64(z)]
    else:
        for z in range(lo, hi):
            dest[d + np.uint64(z)] = xf[src + np.uint64(z) * step]
    for z in range(hi, wo):
        dest[d + np.uint64(z)] = 0


@numba.njit(cache=True, nogil=True)
def _im2col_by_planes(x, s, e, cols, cn, kh, kw, sw, dh, dw, ph, pw, ho, wo):
    """im2col of stride 1 rows: per image and channel, first each kernel column b's plane of the padded rows
    (zeros and the column stride's gather done kw times, not kh kw), then each offset's columns are Ho rows of
    that plane in a row, one run of Ho Wo values (LeNet's c2: 2.4x faster than by rows)."""
    _, c, h, w = x.shape
    xf, rows, l, m = x.reshape(-1), c * kh * kw, ho * wo, e - s
    hp = ho + (kh - 1) * dh  # padded rows read
    planes = np.empty(kw * hp * wo, x.dtype)
    for i in range(s, e):
        for ch in range(c):
            for b in range(kw):
                lo, hi = _columns(w, b * dw - pw, sw, wo)
                for r in range(hp):
                    d = np.uint64((b * hp + r) * wo)
                    inside = ph <= r < ph + h
                    src = np.uint64(((i * c + ch) * h + r - ph) * w + b * dw - pw)
                    _copy_row(xf, src, np.uint64(sw), planes, d, lo if inside else wo, hi if inside else wo, wo)
            for a in range(kh):
                for b in range(kw):
                    r = (ch * kh + a) * kw + b
                    d = np.uint64((r * m + i - s) * l if cn else ((i - s) * rows + r) * l)
                    src = np.uint64((b * hp + a * dh) * wo)
                    for t in range(l):
                        cols[d + np.uint64(t)] = planes[src + np.uint64(t)]


@numba.njit(cache=True, nogil=True)
def _im2col_by_rows(x, s, e, cols, cn, kh, kw, sh, sw, dh, dw, ph, pw, ho, wo):
    """im2col row by row of each offset's columns (strided rows: a plane per kernel column would gather
    rows no offset reads; 1x1 /2 ran 3x slower that way)."""
    _, c, h, w = x.shape
    xf, rows, l, m = x.reshape(-1), c * kh * kw, ho * wo, e - s
    for i in range(s, e):
        for ch in range(c):
            for a in range(kh):
                for b in range(kw):
                    r = (ch * kh + a) * kw + b
                    first = (r * m + i - s) * l if cn else ((i - s) * rows + r) * l
                    lo, hi = _columns(w, b * dw - pw, sw, wo)
                    for y in range(ho):
                        row = y * sh + a * dh - ph
                        d = np.uint64(first + y * wo)
                        if row < 0 or row >= h:
                            for z in range(wo):
                                cols[d + np.uint64(z)] = 0
                            continue
                        src = np.uint64(((i * c + ch) * h + row) * w + b * dw - pw)
                        _copy_row(xf, src, np.uint64(sw), cols, d, lo, hi, wo)


@numba.njit(cache=True, nogil=True, inline="always")
def _add_row(src, s, dest, d, step, n):
    """dest[d + z step] += src[s + z] for z in 0..n."""
    if step == 1:  # contiguous: LLVM vectorises the adds
        for z in range(n):
            dest[d + np.uint64(z)] += src[s + np.uint64(z)]
    else:
        for z in range(n):
            dest[d + np.uint64(z) * step] += src[s + np.uint64(z)]


@numba.njit(cache=True, nogil=True)
def col2im(gc, gp, dh, dw, sh, sw):
    """gp (C, M, Hp, Wp) = the sum over kernel offsets (a, b) of gc (C, kh, kw, M, Ho, Wo) placed at rows
    a dh + y sh and columns b dw + z sw. One plane at a time, so it stays in L1 while its kh kw slices add
    into it, a row at a time over flat unsigned indices: element by element over 6-d indices it ran 1.5-3x
    slower (LeNet's c2, 32 images: 275 vs 113 us; ResNet's 16 -> 32 /2, 14 images: 263 vs 178 us), NumPy's
    kh kw passes over the whole chunk 4x slower."""
    c, kh, kw, m, ho, wo = gc.shape
    hp, wp = gp.shape[2], gp.shape[3]
    gcf, gpf, l = gc.reshape(-1), gp.reshape(-1), ho * wo
    for ch in range(c):
        for mm in range(m):
            plane = np.uint64((ch * m + mm) * hp * wp)
            for t in range(hp * wp):
                gpf[plane + np.uint64(t)] = 0
            for a in range(kh):
                for b in range(kw):
                    src = np.uint64((((ch * kh + a) * kw + b) * m + mm) * l)
                    for y in range(ho):
                        _add_row(gcf, src + np.uint64(y * wo), gpf, plane + np.uint64((a * dh + y * sh) * wp + b * dw),
                                 np.uint64(sw), wo)


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
def parity_fill(x, s, e, data, ph, pw):
    """Images s..e of x (N, C, H, W, contiguous) into data (M, rows, 2, cols / 2 * C), the column-parity layout
    of conv.py's _ParityRows, at offset (ph, pw): [i, ph + y, q % 2, q // 2 * C + c] = x[s + i, c, y, q - pw],
    what falls outside left as it is. Element by element (a transpose) over flat unsigned indices (over 4-d
    ones 2x slower), without the GIL, so chunks in two threads both run it."""
    c_n, h, w = x.shape[1], x.shape[2], x.shape[3]
    rows, row = min(h, data.shape[1] - ph), data.shape[3]
    cols = min(w, 2 * (row // c_n) - pw)
    xf, df = x.reshape(-1), data.reshape(-1)
    for i in range(e - s):
        for y in range(rows):
            dest = ((i * data.shape[1] + ph + y) * 2) * row
            for c in range(c_n):
                src = np.uint64((((s + i) * c_n + c) * h + y) * w)
                for col in range(cols):
                    q = col + pw
                    df[np.uint64(dest + (q & 1) * row + (q >> 1) * c_n + c)] = xf[src + np.uint64(col)]


@numba.njit(cache=True, nogil=True)
def parity_read(data, out, s, e):
    """The inverse of parity_fill at offset 0: out[s:e] (N, O, Ho, Wo, contiguous) from data (M, rows, 2, cols /
    2 * O); 1.5-2.3x faster than NumPy's strided copies at 16-64 channels, and without the GIL."""
    o_n, h, w = out.shape[1], out.shape[2], out.shape[3]
    row, df, of = data.shape[3], data.reshape(-1), out.reshape(-1)
    for i in range(e - s):
        for y in range(h):
            src = (i * data.shape[1] + y) * 2 * row
            for o in range(o_n):
                dest = np.uint64((((s + i) * o_n + o) * h + y) * w)
                for col in range(w):
                    of[dest + np.uint64(col)] = df[np.uint64(src + (col & 1) * row + (col >> 1) * o_n + o)]


_BT_FIRST, _BT_SECOND, _BT_SIGN = (0, 1, 2, 1), (2, 2, 1, 3), (-1.0, 1.0, -1.0, -1.0)  # rows of B^T
# (the signs and coefficients are cast to the arrays' dtype in the kernels: float64 ones made float32 math float64)
_A_FIRST, _A_SECOND = (1.0, 1.0, 1.0, 0.0), (0.0, 1.0, -1.0, -1.0)  # rows of A (g is finite: 0 g adds nothing)


@numba.njit(cache=True, nogil=True)
def winograd_input(xs, th, tw, v, n0, n1):
    """Winograd F(2x2, 3x3): v (16, tiles+, C) = B^T d B of every 4x4 tile d (stride 2) of images n0..n1 of the
    zero-padded xs (N, 2 th + 2, 2, (tw + 1) C) in conv.py's column-parity layout, tiles counted from image n0.
    One loop per row of tiles and row of B^T d runs over the tiles' channels at once (tw C values), tile x's
    columns 2x..2x+3 being [0, t], [1, t], [0, t + C], [1, t + C]: with one loop per tile (C values) and all 16
    outputs in it, LLVM ran it scalar ("too many memory checks" for aliasing), 2-3x slower."""
    c = max(v.shape[2], 0)  # >= 0 lets LLVM drop the negative-index checks of t + c
    length = tw * c
    vf = v.reshape(16, -1)
    for img in range(n0, n1):
        for ty in range(th):
            y = 2 * ty
            base = max(((img - n0) * th + ty) * length, 0)
            for i in range(4):  # row i of B^T d: d[p] + sign d[r] (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                p, r, sign, k = y + _BT_FIRST[i], y + _BT_SECOND[i], xs.dtype.type(_BT_SIGN[i]), 4 * i
                for t in range(length):  # the same row of d B: e0 - e2, e1 + e2, e2 - e1, e1 - e3
                    e0 = xs[img, p, 0, t] + sign * xs[img, r, 0, t]
                    e1 = xs[img, p, 1, t] + sign * xs[img, r, 1, t]
                    e2 = xs[img, p, 0, t + c] + sign * xs[img, r, 0, t + c]
                    e3 = xs[img, p, 1, t + c] + sign * xs[img, r, 1, t + c]
                    q = base + t
                    vf[k, q], vf[k + 1, q], vf[k + 2, q], vf[k + 3, q] = e0 - e2, e1 + e2, e2 - e1, e1 - e3


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def winograd_output(m, th, tw, outs, n0, n1):
    """Winograd F(2x2, 3x3): each tile's 2x2 outputs A^T m A, from m (16, tiles+, O), into outs (N, 2 th, 2,
    tw O) in the column-parity layout (tile x's outputs at [., 0, t] and [., 1, t]), images n0..n1. Returns 0
    where every output is finite, else nan: the sum of the outputs times 0 (``reassoc`` lets LLVM vectorise that
    sum; it may also reorder each output's additions, a difference within float rounding)."""
    length = tw * m.shape[2]
    mf = m.reshape(16, -1)
    zero = m.dtype.type(0.0)
    check = zero
    for img in range(n0, n1):
        for ty in range(th):
            y = 2 * ty
            base = max(((img - n0) * th + ty) * length, 0)
            for r in range(2):  # row r of A^T m: row r of m + sign (rows r + 1, r + 2): m0 + m1 + m2, m1 - m2 - m3
                p, sign = 4 * r, m.dtype.type(1 - 2 * r)
                for t in range(length):  # the same row of (A^T m) A: e0 + e1 + e2, e1 - e2 - e3
                    q = base + t
                    e0 = mf[p, q] + sign * mf[p + 4, q] + sign * mf[p + 8, q]
                    e1 = mf[p + 1, q] + sign * mf[p + 5, q] + sign * mf[p + 9, q]
                    e2 = mf[p + 2, q] + sign * mf[p + 6, q] + sign * mf[p + 10, q]
                    e3 = mf[p + 3, q] + sign * mf[p + 7, q] + sign * mf[p + 11, q]
                    a, b = e0 + e1 + e2, e1 - e2 - e3
                    outs[img, y + r, 0, t], outs[img, y + r, 1, t] = a, b
                    check += (a + b) * zero
    return check


@numba.njit(cache=True, nogil=True)
def winograd_output_grad(gs, th, tw, m, n0, n1, oy, ox):
    """The adjoint of winograd_output: m (16, tiles+, O) = A dy A^T for each tile's 2x2 block dy of the
    gradient gs (N, rows, 2, cols / 2 O) in the column-parity layout at offset (oy, ox) (zero past the output:
    the gradient as it was filled for dx's convolution, padded, or at offset 0), images n0..n1."""
    c = m.shape[2]
    length = tw * c
    mf = m.reshape(16, -1)
    even, odd = ox & 1, (ox + 1) & 1  # where a tile's columns 2x and 2x + 1 lie: parity, and X past x (times O)
    se, so = max((ox >> 1) * c, 0), max(((ox + 1) >> 1) * c, 0)
    for img in range(n0, n1):
        for ty in range(th):
            y = 2 * ty + oy
            base = max(((img - n0) * th + ty) * length, 0)
            for i in range(4):  # row i of A dy: a0 dy0 + a1 dy1, rows of A (1, 0), (1, 1), (1, -1), (0, -1)
                a0, a1, k = gs.dtype.type(_A_FIRST[i]), gs.dtype.type(_A_SECOND[i]), 4 * i
                for t in range(length):
                    a = a0 * gs[img, y, even, t + se] + a1 * gs[img, y + 1, even, t + se]
                    b = a0 * gs[img, y, odd, t + so] + a1 * gs[img, y + 1, odd, t + so]
                    q = base + t
                    mf[k, q], mf[k + 1, q], mf[k + 2, q], mf[k + 3, q] = a, a + b, a - b, -b


@numba.njit(cache=True, nogil=True)
def winograd_weight(w, u):
    """Winograd F(2x2, 3x3)'s filter transform: u (16, C, O) = G w G^T of each w[o, c] (3 x 3), position 4 a + b
    at u[4 a + b]; G's rows (1, 0, 0), (1, 1, 1) / 2, (1, -1, 1) / 2, (0, 0, 1)."""
    o_n, c_n = w.shape[0], w.shape[1]
    half = w.dtype.type(0.5)
    t = np.empty((4, 3), w.dtype)
    for c in range(c_n):
        for o in range(o_n):
            for j in range(3):  # G over the rows
                a0, a1, a2 = w[o, c, 0, j], w[o, c, 1, j], w[o, c, 2, j]
                t[0, j], t[1, j], t[2, j], t[3, j] = a0, (a0 + a1 + a2) * half, (a0 - a1 + a2) * half, a2
            for a in range(4):  # and over the columns
                b0, b1, b2 = t[a, 0], t[a, 1], t[a, 2]
                k = 4 * a
                u[k, c, o], u[k + 1, c, o], u[k + 2, c, o], u[k + 3, c, o] = \
                    b0, (b0 + b1 + b2) * half, (b0 - b1 + b2) * half, b2


@numba.njit(cache=True, nogil=True)
def winograd_weight_grad(du, dw):
    """The adjoint of winograd_weight: dw (O, C, 3, 3) = G^T du G of each du[:, c, o] (4 x 4, du (16, C, O));
    G^T's rows (1, 1/2, 1/2, 0), (0, 1/2, -1/2, 0), (0, 1/2, 1/2, 1). Returns 0 where every dw is finite, else
    nan (as winograd_output)."""
    o_n, c_n = dw.shape[0], dw.shape[1]
    half, zero = du.dtype.type(0.5), du.dtype.type(0.0)
    check = zero
    t = np.empty((3, 4), du.dtype)
    for c in range(c_n):
        for o in range(o_n):
            for b in range(4):  # G^T over the rows
                d0, d1, d2, d3 = du[b, c, o], du[4 + b, c, o], du[8 + b, c, o], du[12 + b, c, o]
                t[0, b], t[1, b], t[2, b] = d0 + (d1 + d2) * half, (d1 - d2) * half, (d1 + d2) * half + d3
            for i in range(3):  # and G over the columns
                d0, d1, d2, d3 = t[i, 0], t[i, 1], t[i, 2], t[i, 3]
                a, b, e = d0 + (d1 + d2) * half, (d1 - d2) * half, (d1 + d2) * half + d3
                dw[o, c, i, 0], dw[o, c, i, 1], dw[o, c, i, 2] = a, b, e
                check += (a + b + e) * zero
    return check
