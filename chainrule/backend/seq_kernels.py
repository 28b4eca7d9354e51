"""numba kernels for the sequence models' elementwise work (float32 only), imported only after
``backend.compiled.enabled()`` said yes: the LSTM cell of ``ops.rnn.Recurrent`` (one call per time
step, forward and backward), softmax over the last dim (with the attention's causal mask fused),
LayerNorm's forward and backward, and GELU's tanh form.

Why kernels: each of these is 5-15 NumPy passes over the data, on one core. Here each is one pass,
split over the threads NumPy's BLAS runs with (``threads``), so ``--threads 2`` uses both cores.
numba has no SIMD exp/tanh here (no SVML: its math.tanh costs ~15 ns an element, 40x NumPy's),
so ``_exp`` is Cephes' expf (range reduction, degree-5 polynomial, exponent bits), which LLVM
vectorises; ``_tanh`` and ``_sigmoid`` are built on it (Cephes' tanhf). Relative error <= 3e-7,
so float32 results equal torch's to ~1e-6; float64 stays on the NumPy path.
"""
import math
import os

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

from .blas import own_threads_ran, threads

_OPTS = dict(cache=True, nogil=True, error_model="numpy",   # numpy: x / 0 is inf, no check (that would stop SIMD)
             fastmath={"reassoc", "contract", "nsz"})          # no nnan/ninf: masks are -inf
_F = np.float32
_LOG2E, _LN2_HI, _LN2_LO = _F(1.4426950408889634), _F(0.693359375), _F(-2.12194440e-4)
_E1, _E2, _E3, _E4, _E5, _E6 = (_F(v) for v in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                                4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
_T1, _T2, _T3, _T4, _T5 = (_F(v) for v in (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2,
                                           1.33314422036e-1, -3.33332819422e-1))
_K = _F(math.sqrt(2 / math.pi))
_C = _F(0.044715)

_pool = []   # [ThreadPoolExecutor for the second half of a split kernel, the pid that made it]


def _split(kernel, split, shared=(), parts=None, least=1 << 17, unit=1):
    """kernel(*split, *shared[, part]) with the arrays in ``split`` (same first dim) cut in two
    halves (at a multiple of ``unit`` rows) run on two threads, when NumPy's BLAS has two or more
    and the work (elements of split[0]) is at least ``least``; half k gets ``parts[k]`` (partial
    sums; parts[1] stays as it is when not split). Python threads, not numba's ``parallel=True``:
    the kernels are nogil and a waiting pool thread sleeps, while OpenMP's threads spin and fight
    OpenBLAS's for the two cores (measured: a parallel region then cost milliseconds)."""
    extra = () if parts is None else (parts[0],)
    mid = split[0].shape[0] // (2 * unit) * unit
    if not mid or split[0].size < least or threads() < 2:
        return kernel(*split, *shared, *extra)
    if not _pool or _pool[1] != os.getpid():   # (a forked child has the pool but not its thread)
        from concurrent.futures import ThreadPoolExecutor
        _pool[:] = [ThreadPoolExecutor(1, thread_name_prefix="chainrule-seq"), os.getpid()]
    own_threads_ran()
    first = _pool[0].submit(kernel, *(a[:mid] for a in split), *shared, *extra)
    kernel(*(a[mid:] for a in split), *shared, *(() if parts is None else (parts[1],)))
    first.result()


# ---- vectorisable float32 exp / tanh / sigmoid ---------------------------------------------------

@intrinsic
def _bits_to_float32(typingctx, bits):
    """The float32 whose bits are the int32 ``bits`` (a register bitcast, so loops vectorise)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))
    return types.float32(types.int32), codegen


@numba.njit(inline="always", **_OPTS)
def _exp(x):
    """Cephes' expf: x = n ln2 + r, |r| <= ln2 / 2; e^r by a degree-5 polynomial; 2^n into the exponent bits."""
    c = min(max(x, _F(-87.0)), _F(88.0))
    fx = np.float32(math.floor(c * _LOG2E + _F(0.5)))
    r = c - fx * _LN2_HI - fx * _LN2_LO
    p = (((((_E1 * r + _E2) * r + _E3) * r + _E4) * r + _E5) * r + _E6) * (r * r) + r + _F(1)
    y = p * _bits_to_float32(np.int32((np.int32(fx) + np.int32(127)) << np.int32(23)))
    y = _F(0) if x < _F(-87.0) else y
    y = np.float32(np.inf) if x > _F(88.0) else y
    return x if x != x else y


@numba.njit(inline="always", **_OPTS)
def _tanh(x):
    """Cephes' tanhf: an odd polynomial for |x| <= 0.625, else 1 - 2 / (e^{2|x|} + 1) with x's sign."""
    z = abs(x)
    big = _F(1) - _F(2) / (_exp(z + z) + _F(1))
    big = -big if x < 0 else big
    s = x * x
    small = ((((_T1 * s + _T2) * s + _T3) * s + _T4) * s + _T5) * s * x + x
    return big if z > _F(0.625) else small


@numba.njit(inline="always", **_OPTS)
def _sigmoid(x):
    return _F(1) / (_F(1) + _exp(-x))


# ---- GELU (tanh form) ------------------------------------------------------------------------------

@numba.njit(**_OPTS)
def _gelu_tanh(x, out):
    for i in range(x.size):
        v = x[i]
        t = _tanh(_K * (v + _C * v * v * v))
        out[i] = _F(0.5) * v * (_F(1) + t)


@numba.njit(**_OPTS)
def _gelu_tanh_backward(x, g, dx):
    for i in range(x.size):
        v = x[i]
        t = _tanh(_K * (v + _C * v * v * v))
        dx[i] = g[i] * _F(0.5) * (_F(1) + t + v * (_F(1) - t * t) * _K * (_F(1) + _F(3) * _C * v * v))


def gelu_tanh(x, g=None):
    """GELU(approximate='tanh') of x: x (1 + tanh(k (x + 0.044715 x^3))) / 2, k = sqrt(2 / pi);
    with g: its input gradient for the upstream gradient g."""
    x = np.ascontiguousarray(x)
    res = np.empty_like(x)
    if g is None:
        _split(_gelu_tanh, (x.reshape(-1), res.reshape(-1)))
    else:
        _split(_gelu_tanh_backward, (x.reshape(-1), np.ascontiguousarray(g, x.dtype).reshape(-1), res.reshape(-1)))
    return res


# ---- softmax over the last dim (causal: rows of (L, S) blocks see columns j <= row) ------------------

@numba.njit(**_OPTS)
def _row_max(x, mx, length, causal):
    """mx[i] = the max of row i's visible entries. (A kernel of its own: with this loop in the same
    function, LLVM does not vectorise the exp loop below; nor with an exp+sum loop, nor a zero
    loop instead of the slice assignment: each measured 2x slower.)"""
    m, n = x.shape
    for i in range(m):
        stop = min(i % length + 1, n) if causal else n
        xr = x[i]
        v = xr[0]
        for j in range(1, stop):
            v = max(v, xr[j])
        mx[i] = v


@numba.njit(**_OPTS)
def _softmax(x, out, mx, length, causal):
    """out = exp(x - max) / sum over each row's visible entries, 0 elsewhere."""
    m, n = x.shape
    for i in range(m):
        stop = min(i % length + 1, n) if causal else n
        xr, orow, v = x[i], out[i], mx[i]
        for j in range(stop):
            orow[j] = _exp(xr[j] - v)
        total = _F(0)
        for j in range(stop):
            total += orow[j]
        inv = _F(1) / total
        for j in range(stop):
            orow[j] *= inv
        orow[stop:] = 0


def _softmax_rows(x, out, length, causal):
    mx = np.empty(x.shape[0], x.dtype)
    _row_max(x, mx, length, causal)
    _softmax(x, out, mx, length, causal)


@numba.njit(**_OPTS)
def _softmax_backward(g, out, dx):
    m, n = g.shape
    for i in range(m):
        s = _F(0)
        for j in range(n):
            s += g[i, j] * out[i, j]
        for j in range(n):
            dx[i, j] = out[i, j] * (g[i, j] - s)


def softmax(x, causal=False):
    """softmax over the last axis; ``causal``: in each (L, S) matrix, row r keeps columns 0..r only."""
    x2 = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    out = np.empty(x2.shape, x.dtype)
    length = x.shape[-2] if x.ndim > 1 else 1
    _split(_softmax_rows, (x2, out), (length, causal), unit=length if causal else 1)
    return out.reshape(x.shape)


def softmax_backward(g, out):
    """dx = out (g - sum(g out)) over the last axis."""
    n = out.shape[-1]
    dx = np.empty(out.shape, out.dtype)
    _split(_softmax_backward, (np.ascontiguousarray(g, out.dtype).reshape(-1, n),
                               np.ascontiguousarray(out).reshape(-1, n), dx.reshape(-1, n)))
    return dx


# ---- LayerNorm over rows ----------------------------------------------------------------------------

@numba.njit(**_OPTS)
def _layer_norm(x, xhat, out, rstd, w, b, eps):
    m, n = x.shape
    for i in range(m):
        s = 0.0
        for j in range(n):
            s += x[i, j]
        mean = np.float32(s / n)
        v = 0.0
        for j in range(n):
            d = x[i, j] - mean
            v += d * d
        r = np.float32(1.0 / math.sqrt(v / n + eps))
        rstd[i, 0] = r
        for j in range(n):
            h = (x[i, j] - mean) * r
            xhat[i, j] = h
            out[i, j] = h * w[j] + b[j]


@numba.njit(**_OPTS)
def _layer_norm_backward(g, xhat, rstd, gx, w, part):
    m, n = g.shape
    for i in range(m):
        a = _F(0)
        c = _F(0)
        for j in range(n):
            gh = g[i, j] * w[j]
            a += gh
            c += gh * xhat[i, j]
        a /= n
        c /= n
        r = rstd[i, 0]
        for j in range(n):
            gx[i, j] = (g[i, j] * w[j] - a - xhat[i, j] * c) * r
    for i in range(m):   # column sums (gw, gb): float64 partials
        for j in range(n):
            part[0, j] += g[i, j] * xhat[i, j]
            part[1, j] += g[i, j]


def layer_norm(x2, w, b, eps):
    """(out, xhat, rstd) of LayerNorm over the rows of the 2-D x2; w and b (n,) or None."""
    m, n = x2.shape
    x2 = np.ascontiguousarray(x2)
    xhat, out, rstd = np.empty_like(x2), np.empty_like(x2), np.empty((m, 1), x2.dtype)
    w = np.ones(n, x2.dtype) if w is None else w.reshape(-1)
    b = np.zeros(n, x2.dtype) if b is None else b.reshape(-1)
    _split(_layer_norm, (x2, xhat, out, rstd), (w, b, eps))
    return out, xhat, rstd


def layer_norm_backward(g2, xhat, rstd, w):
    """(gx, gw, gb) of LayerNorm for the 2-D upstream gradient g2 (gw, gb summed over rows)."""
    n = xhat.shape[1]
    gx = np.empty_like(xhat)
    parts = np.zeros((2, 2, n), np.float64)
    w = np.ones(n, xhat.dtype) if w is None else w.reshape(-1)
    _split(_layer_norm_backward, (np.ascontiguousarray(g2, xhat.dtype), xhat, rstd, gx), (w,), parts)
    sums = parts.sum(0).astype(xhat.dtype)
    return gx, sums[0], sums[1]


# ---- the LSTM cell, one time step (no projection, no lengths): small, one thread ---------------------

@numba.njit(inline="always", **_OPTS)
def _gates(a, r, hid):
    """Row r of a (n, 4H) gate array as its four (H,) gate views."""
    return a[r, :hid], a[r, hid:2 * hid], a[r, 2 * hid:3 * hid], a[r, 3 * hid:]


@numba.njit(**_OPTS)
def lstm_step(a, gx, c, c_new, tc, h_new):
    """a (n, 4H) = h W_hh^T on entry, the gates (i, f, g, o) on exit (a + gx through sigmoid/tanh);
    c_new = f c + i g, tc = tanh(c_new), h_new = o tc. (Each gate a separate 1-D view: indexing
    one row at offsets k H does not vectorise, 20x slower.)"""
    n, four = a.shape
    hid = four // 4
    for r in range(n):
        ai, af, ag, ao = _gates(a, r, hid)
        xi, xf, xg, xo = _gates(gx, r, hid)
        cr, cn, tr, hr = c[r], c_new[r], tc[r], h_new[r]
        for j in range(hid):
            i = _sigmoid(ai[j] + xi[j])
            f = _sigmoid(af[j] + xf[j])
            g = _tanh(ag[j] + xg[j])
            o = _sigmoid(ao[j] + xo[j])
            ai[j] = i
            af[j] = f
            ag[j] = g
            ao[j] = o
            v = f * cr[j] + i * g
            cn[j] = v
            t = _tanh(v)
            tr[j] = t
            hr[j] = o * t


@numba.njit(**_OPTS)
def lstm_step_backward(dh, gy, dc, a, tc, c, d):
    """dh_t = dh + gy;  dc_t = dc + dh_t o (1 - tc^2);  d (n, 4H) = the gate pre-activation gradients
    (dc_t g, dc_t c, dc_t i, dh_t tc) times the activations' derivatives;  dc becomes dc_t f in place."""
    n, four = a.shape
    hid = four // 4
    for r in range(n):
        ai, af, ag, ao = _gates(a, r, hid)
        di, df, dg, do = _gates(d, r, hid)
        dhr, gyr, dcr, tr, cr = dh[r], gy[r], dc[r], tc[r], c[r]
        for j in range(hid):
            i, f, g, o = ai[j], af[j], ag[j], ao[j]
            dht = dhr[j] + gyr[j]
            t = tr[j]
            dct = dcr[j] + dht * o * (_F(1) - t * t)
            di[j] = dct * g * i * (_F(1) - i)
            df[j] = dct * cr[j] * f * (_F(1) - f)
            dg[j] = dct * i * (_F(1) - g * g)
            do[j] = dht * t * o * (_F(1) - o)
            dcr[j] = dct * f
