"""conv2d's kernels on arrays (NumPy or CuPy, through the namespace ``xp``): im2col + GEMM, a few
images at a time, and Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions of 8+ channels on the CPU
(see its section below).

Measured on the project's 2-core machine: the columns of a whole batch (9x the image for a 3x3
kernel, 20 MB for ResNet-small's first stage) stream through memory twice, and the GEMM over
them ran at a third of OpenBLAS's speed on square matrices; the same work in chunks of images
whose columns fit in ~2 MB (L2 plus a little) stays in cache, and the 3x3 convolutions of
ResNet-small ran 2.5-3.5x faster forward. Images stay (N, C, H, W): each chunk's GEMM writes its
output in place, with no layout change of the batch either way.

The columns are built by one compiled call a chunk (zero padding included, see _Plan.im2col). A "flat"
layout (each kernel offset one shift of the flattened padded plane, over rows of the padded width, the
extra columns dropped) copied whole rows and won alone on some shapes, but lost to it in training steps
(LeNet-5 0.96x, ResNet-small 0.89x at one thread and 0.97x / 0.98x at two, interleaved A/B), and it is gone.

With BLAS at T > 1 threads the chunks run in T Python threads, BLAS at one thread inside each
(see "spreading a convolution's chunks over threads" below); the batch norm kernel at the end
spreads its channels the same way.

Backward: dW = sum over chunks of g cols^T; dx of a stride-1 convolution is itself a
convolution, of g padded by d (k - 1) - p with W flipped and transposed, run by the same chunked
forward, where that beats col2im's kh kw strided adds (measured: while O <= 2 C); otherwise
dx = col2im(W^T g), per chunk. Set CHAINRULE_CONV_DEBUG=1 to log (logger "chainrule.conv") the
path each convolution takes: layout, images per chunk, dx path and threads (the heuristic table's
row; bench/workloads.py: conv_layer_table prints it per layer beside the times).
"""
import logging
import os
import time

import numpy as _np

from . import blas
from .blas import threads as _blas_threads

CHUNK_BYTES = 2 << 20  # columns per chunk of images (measured: 1-3 MB are equally good, 5 MB+ slower)
GPU_CHUNK_BYTES = 512 << 20  # a GPU wants few, large launches: in 2 MB chunks ResNet-small b256 ran 66x torch's time
_log = logging.getLogger("chainrule.conv")
if os.environ.get("CHAINRULE_CONV_DEBUG"):
    logging.basicConfig()
    _log.setLevel(logging.DEBUG)


PER_IMAGE_MAX_K = 72  # dW image by image up to this many columns per output (C kh kw). Measured at 2 threads,
# dW only, ms (one GEMM per image vs the (K, M L) layout): ResNet's stem x (32, 3, 32, 32) 3x3, K 27: 0.45 vs
# 1.05-1.35; x (32, 8, 16, 16) 3x3, K 72: 0.37 vs 0.47; LeNet's c2 (64, 6, 14, 14) 5x5, K 150: 0.80 vs 0.66.


def _chunk_images(xp, per_image):
    """Images per chunk: as many as keep their columns (``per_image`` bytes each) in the device's budget."""
    return (CHUNK_BYTES if xp.name == "numpy" else GPU_CHUNK_BYTES) // max(1, per_image)


class _Plan:
    """The sizes of one convolution, its chunks of images and their scratch arrays (the columns and
    the zero-padded images of one chunk)."""

    def __init__(self, xp, x, w, stride, padding, pad_end, dilation, groups, out_hw):
        (self.n, self.c, self.h, self.w), (self.o, cg, self.kh, self.kw) = x.shape, w.shape
        self.stride, self.pad, self.dilation, self.groups, self.out_hw = stride, padding, dilation, groups, out_hw
        self.length = out_hw[0] * out_hw[1]  # output columns per image
        self.k = cg * self.kh * self.kw
        self.kernels = _kernels(xp, x)  # the compiled im2col
        self.x = x if self.kernels is None else xp.ascontiguousarray(x)
        self.padded = (x.shape[0], self.c, self.h + padding[0] + pad_end[0], self.w + padding[1] + pad_end[1])
        self.b = max(1, min(self.n, _chunk_images(xp, self.c * self.kh * self.kw * self.length * x.itemsize)))
        self.cols = xp.scratch((self.b, groups, self.k, self.length), x.dtype)
        self.pbuf = None if self.padded == x.shape or self.kernels is not None else xp.scratch(
            (self.b,) + self.padded[1:], x.dtype)

    def chunks(self, lo=0, hi=None):
        hi = self.n if hi is None else hi
        return ((s, min(hi, s + self.b)) for s in range(lo, hi, self.b))

    def copy(self, xp):
        """The same plan with scratch arrays of its own (for another thread)."""
        plan = object.__new__(_Plan)
        plan.__dict__.update(self.__dict__)
        plan.cols = xp.scratch(self.cols.shape, self.cols.dtype)
        plan.pbuf = None if self.pbuf is None else xp.scratch(self.pbuf.shape, self.pbuf.dtype)
        return plan

    def im2col(self, xp, s, e, cn=False):
        """The columns of images s..e in self.cols: (e - s, groups, C/groups kh kw, L), or with ``cn``
        (groups, C/groups kh kw, (e - s) L), for backward's GEMMs over the whole chunk."""
        (dh, dw), (sh, sw), (ph, pw), m = self.dilation, self.stride, self.pad, e - s
        if self.kernels is not None:
            self.kernels.im2col(self.x, s, e, self.cols.reshape(-1), cn, self.kh, self.kw, sh, sw, dh, dw, ph, pw,
                                *self.out_hw)
            return self.cols[:m] if not cn else _view(self.cols, (self.groups, self.k, m * self.length))
        p = self.x[s:e]
        if self.pbuf is not None:  # zero-pad the chunk (it stays in cache for the copy below)
            p, (h, w) = self.pbuf[:m], self.x.shape[2:]
            p[:, :, :ph] = 0
            p[:, :, ph + h:] = 0
            p[:, :, ph:ph + h, :pw] = 0
            p[:, :, ph:ph + h, pw + w:] = 0
            p[:, :, ph:ph + h, pw:pw + w] = self.x[s:e]
        sn, sc, sr, sq = p.strides
        win = xp.as_strided(p, (m, self.c, self.kh, self.kw) + self.out_hw,
                            (sn, sc, sr * dh, sq * dw, sr * sh, sq * sw))
        if not cn:
            cols = self.cols[:m]
            cols.reshape(win.shape)[...] = win
            return cols
        cols = _view(self.cols, (self.groups, self.k, m * self.length))
        dest = cols.reshape((self.c, self.kh, self.kw, m) + win.shape[4:])
        dest[...] = win.transpose(1, 2, 3, 0, *range(4, win.ndim))
        return cols

    def release(self, xp):
        xp.release(self.cols)
        if self.pbuf is not None:
            xp.release(self.pbuf)


def forward(xp, x, w, stride, padding, pad_end, dilation, groups, out_hw, bias=None):
    """conv2d(x, w) + bias (None: none): (N, O, Ho, Wo)."""
    out = None
    if stride == (1, 1) and dilation == (1, 1) and groups == 1 and w.shape[2:] == (3, 3):
        out = _winograd(xp, x, w, padding, out_hw)
    if out is None and stride == (1, 1) and groups > 1 and w.shape[1] * w.shape[2] * w.shape[3] <= DIRECT_MAX_K:
        out = _direct(xp, x, w, padding, pad_end, dilation, groups, out_hw)
    if out is not None:
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        return out
    plan = _Plan(xp, x, w, stride, padding, pad_end, dilation, groups, out_hw)
    (ho, wo), o, n = out_hw, plan.o, plan.n
    out = xp.empty((n, o, ho, wo), x.dtype)
    wg = w.reshape(groups, o // groups, plan.k)
    chunks, threads = _chunks(xp, plan, 2 * n * o * plan.k * plan.length * groups)
    _log.debug("conv2d x%s w%s stride %s: im2col + GEMM, %d images a chunk, %d thread(s)", x.shape, w.shape,
               stride, plan.b, threads)

    b3 = None if bias is None else bias.reshape(groups, o // groups, 1)

    def run(state, chunk):
        (plan,), (s, e) = state, chunk
        dest = out[s:e].reshape(e - s, groups, o // groups, plan.length)
        xp.matmul(wg, plan.im2col(xp, s, e), out=dest)
        if b3 is not None:  # here, in the chunk's thread, while it is in cache (LeNet's c1: 53 us in one pass)
            dest += b3
    states = [(p,) for p in _plans(xp, plan, threads)]
    _share(states, chunks, run)
    _release(xp, states)
    return out


def bias_grad(xp, g):
    """The bias's gradient: g (N, O, Ho, Wo) summed over N, Ho, Wo, as a product with ones per image (2-3x faster
    than NumPy's sum over axes (0, 2, 3): LeNet's c1 29 vs 55 us, c2 12 vs 37 us)."""
    n, o, h, w = g.shape
    return xp.matmul(g.reshape(n, o, h * w), xp.ones(h * w, g.dtype)).sum(axis=0)


def backward(xp, g, x, w, stride, padding, pad_end, dilation, groups, out_hw, needs):
    """(dx, dW) of forward for the output gradient g (None where not needed)."""
    (n, c, h, wd), (o, cg, kh, kw) = x.shape, w.shape
    full = [d * (k - 1) for d, k in zip(dilation, (kh, kw))]
    gx = gw = None
    finite_w = needs[0] and bool(xp.isfinite(w.sum()))  # W^T 0 is nan for a nan/inf W: zeros must add nothing
    as_conv = (needs[0] and stride == (1, 1) and o <= 2 * c
               and all(f >= max(p) for f, p in zip(full, zip(padding, pad_end))) and finite_w)
    winograd = needs[1] and stride == (1, 1) and dilation == (1, 1) and groups == 1 and (kh, kw) == (3, 3)
    if as_conv:
        _log.debug("conv2d x%s w%s: dx as a convolution of g", x.shape, w.shape)
        wt = w.reshape(groups, o // groups, cg, kh, kw)[..., ::-1, ::-1].transpose(0, 2, 1, 3, 4)
        wt = xp.ascontiguousarray(wt.reshape(c, o // groups, kh, kw))
        dx_padding = (full[0] - padding[0], full[1] - padding[1])
        if winograd:
            gx, gw = _winograd_backward(xp, g, x, w, wt, padding, dx_padding, out_hw)
        if gx is None:
            gx = forward(xp, g, wt, (1, 1), dx_padding, (full[0] - pad_end[0], full[1] - pad_end[1]), dilation,
                         groups, (h, wd))
    if winograd and gw is None and (as_conv or not needs[0]):
        gw = _winograd_weight_grad(xp, g, x, w, padding, out_hw)
    if needs[1] and stride == (1, 1) and groups > 1 and cg * kh * kw <= DIRECT_MAX_K and (as_conv or not needs[0]):
        gw = _direct_weight_grad(xp, g, x, w, padding, pad_end, dilation, groups, out_hw)
    if not (needs[1] and gw is None or needs[0] and not as_conv):
        return gx, gw
    # few columns per image (C kh kw <= PER_IMAGE_MAX_K): dW as one small GEMM per image over the forward's
    # strided columns beats the (K, M L) layout's copies and its long-K GEMM (see PER_IMAGE_MAX_K)
    per_image = needs[1] and groups == 1 and cg * kh * kw <= PER_IMAGE_MAX_K
    plan = _Plan(xp, x, w, stride, padding, pad_end, dilation, groups, out_hw)
    (ho, wo), (ph, pw), l, k = out_hw, padding, plan.length, plan.k
    wg = w.reshape(groups, o // groups, k)
    col2im = needs[0] and not as_conv
    if col2im:
        gx = xp.empty(x.shape, g.dtype)
    chunks, threads = _chunks(xp, plan, 2 * n * o * k * l * groups * (needs[1] + col2im))
    _log.debug("conv2d x%s w%s backward: %s%s, %d thread(s)", x.shape, w.shape, ("dW image by image" if per_image
               else "dW") if needs[1] else "", " and dx by col2im" if col2im else "", threads)
    # per thread: its plan, a chunk of g as (O, M, Ho, Wo); W^T g and the padded dx
    states = [(p, xp.scratch((o, p.b, l), g.dtype)) + ((xp.scratch((groups, k, p.b * l), g.dtype), xp.scratch(
        (c, p.b) + p.padded[2:], g.dtype)) if col2im else ()) for p in _plans(xp, plan, threads)]
    dws = xp.empty((len(chunks), groups, k, o // groups), g.dtype) if needs[1] else None  # summed in order below

    def run(state, task):
        (plan, gbuf, *col2im_bufs), (i, (s, e)) = state, task
        m = e - s
        if per_image:
            cols = plan.im2col(xp, s, e)
            dws[i, 0] = xp.matmul(g[s:e].reshape(m, o, l), cols[:, 0].swapaxes(-1, -2)).sum(axis=0).T
            if not col2im:
                return
        gt = _view(gbuf, (o, m, ho, wo))
        gt[...] = g[s:e].transpose(1, 0, 2, 3)
        g2 = gt.reshape(groups, o // groups, m * l)
        if needs[1] and not per_image:
            cols = plan.im2col(xp, s, e, cn=True)
            # as (cols g^T)^T: BLAS runs the long inner dimension M L faster this way round
            xp.matmul(cols, g2.swapaxes(-1, -2), out=dws[i])
        if col2im:
            gcols, gxp = col2im_bufs
            gc = xp.matmul(wg.swapaxes(-1, -2), g2, out=_view(gcols, (groups, k, m * l)))
            gp = _view(gxp, (c, m) + plan.padded[2:])
            _col2im(xp, gc, gp, plan)
            gx[s:e] = gp[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3)
    _share(states, list(enumerate(chunks)), run)
    if needs[1]:  # the chunks' shares in a fixed order: the same sums whichever thread ran which chunk
        gw = dws.sum(axis=0).swapaxes(-1, -2).reshape(w.shape)
    _release(xp, states)
    return gx, gw


# ---- direct convolution for few taps per output (stride 1, compiled) ------------------------------
DIRECT_MAX_K = 25  # input channels per group x kernel taps up to which a grouped stride-1 convolution runs
# direct. Measured forward, ms at 1 / 2 threads, direct vs im2col (torch): depthwise x (32, 32, 16, 16) 3x3
# 0.43 / 0.49 vs 0.75 / 0.75 (0.19 / 0.13); x (32, 64, 8, 8) 0.31 / 0.31 vs 1.00 / 0.94 (0.12 / 0.10). Without
# groups im2col's GEMM won: LeNet's c1 (1 channel, 5x5) 0.66 / 0.58 vs 0.52 / 0.54, ResNet's stem 1.10 / 0.67
# vs 0.54 / 0.54.


def _direct_plan(xp, x, w, padding, pad_end, out_hw, other):
    """(kernels, x zero-padded (N, C, Hp + 1, Wp), image ranges, threads) for the direct kernels, or None
    without them. The extra row: the flat shifts of the last rows run over the padded plane's end."""
    k = _kernels(xp, x, w, other)
    if k is None or not x.dtype == w.dtype == other.dtype or x.shape[0] == 0:
        return None
    (n, c, h, wd), (pt, pl), (pb, pr) = x.shape, padding, pad_end
    xpad = xp.zeros((n, c, h + pt + pb + 1, wd + pl + pr), x.dtype)
    xpad[:, :, pt:pt + h, pl:pl + wd] = x
    flops = 2 * n * w.size * out_hw[0] * xpad.shape[3]
    threads = 1 if n < 2 or flops < MIN_THREAD_FLOPS else min(_blas_threads(), n)
    step = -(-n // threads)
    _log.debug("conv2d x%s w%s: direct, %d thread(s)", x.shape, w.shape, threads)
    return k, xpad, [(s, min(n, s + step)) for s in range(0, n, step)], threads


def _direct(xp, x, w, padding, pad_end, dilation, groups, out_hw):
    """conv_kernels.direct_conv over ranges of images in threads; None without the compiled kernels."""
    plan = _direct_plan(xp, x, w, padding, pad_end, out_hw, w)
    if plan is None:
        return None
    k, xpad, ranges, threads = plan
    out, wc = xp.empty((x.shape[0], w.shape[0]) + tuple(out_hw), x.dtype), xp.ascontiguousarray(w)
    _share([None] * threads, ranges, lambda _, r: k.direct_conv(xpad, wc, out, *dilation, groups, *r))
    return out


def _direct_weight_grad(xp, g, x, w, padding, pad_end, dilation, groups, out_hw):
    """dW of _direct: conv_kernels.direct_weight_grad per range of images, the shares summed in order."""
    plan = _direct_plan(xp, x, w, padding, pad_end, out_hw, g)
    if plan is None:
        return None
    k, xpad, ranges, threads = plan
    gpad = xp.zeros(g.shape[:3] + (xpad.shape[3],), g.dtype)  # rows of the padded width, zero past Wo
    gpad[..., :g.shape[3]] = g
    shares = xp.empty((len(ranges),) + w.shape, g.dtype)
    _share([None] * threads, list(enumerate(ranges)),
           lambda _, task: k.direct_weight_grad(gpad, xpad, shares[task[0]], *dilation, groups, *task[1]))
    return shares.sum(axis=0)


# ---- Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions ------------------------------------------
# Each 2x2 block of outputs from its 4x4 input tile d: Y = A^T [(G g G^T) * (B^T d B)] A, 16 products per
# tile and channel pair where im2col + GEMM does 36: the 16 elementwise products over channels are 16
# GEMMs (tiles x C) @ (C x O), and dW's are 16 GEMMs (C x tiles) @ (tiles x O). dx of a stride-1
# convolution is a convolution of g, so it takes this path too. The transforms are numba kernels
# (backend/conv_kernels.py) over images in a column-parity, channels-last layout (_ParityRows), a chunk of
# images at a time so that its transformed tiles stay in cache, each thread converting its own chunks from
# and to (N, C, H, W). Measured at 1 / 2 threads, ms, x (32, 32, 16, 16) 32 -> 32: forward 1.3 / 0.85-1.1
# against im2col's 2.6 / 1.7 (torch 1.33 / 0.69), dW 1.3 / 0.9-1.2 vs 3.2 / 2.0; (32, 64, 8, 8) 64 -> 64:
# forward 1.06 / 0.87 (torch 1.2 / 0.65). Without numba, or where x or w hold inf/nan (the transforms'
# sums and differences would turn inf into nan where the direct sum keeps inf), im2col runs instead.
WINOGRAD_MIN_CHANNELS = 8  # fewer input or output channels: GEMMs too thin for the transforms to pay. Measured
# at 2 threads, interleaved with im2col, forward / dW ms (x (32, C, 32, 32) C -> O): 3 -> 16 0.92 / 1.13 vs
# 0.68 / 0.68, 4 -> 16 0.80 / 0.93 vs 0.77 / 0.76, 6 -> 16 0.92 / 1.05 vs 0.96 / 0.99, 8 -> 8 0.84 / 0.94 vs
# 0.89 / 0.95, 16 -> 8 1.35 / 1.30 vs 1.85 / 2.39; x (32, 8, 8, 8) 8 -> 32 0.17 / 0.19 vs 0.36 / 0.48
WINOGRAD_CHUNK_BYTES = 512 << 10  # transformed tiles per chunk (measured: 256-512 KB best, 1 MB+ slower)
COMPILED_FILL_MAX_CHANNELS = 128  # images into the channels-last scratch by a compiled loop up to this many
# channels, NumPy's copies above. Per chunk of 512 KB at 1 thread, us, compiled vs NumPy: 16 channels 11.7 vs
# 33.6, 32: 12.0 vs 15.9, 64: 14.4 vs 14.4, 128: 14.3 vs 15.1, 256: 29.7 vs 14.3 (the compiled loop moves one
# element at a time; NumPy's inner runs grow with C).


def _winograd_kernels(xp, x, w, other):
    """conv_kernels where the Winograd path applies to x (N, C, H, W), w (O, C, 3, 3) and ``other`` (w or g):
    enough channels, the CPU with numba, one float dtype; else None. Whether all are finite is checked on the
    result instead (the kernels return nan where a value is not: see _winograd), which costs nothing where a
    pass over x before each call took 5-10% of the convolution."""
    if x.shape[1] < WINOGRAD_MIN_CHANNELS or w.shape[0] < WINOGRAD_MIN_CHANNELS or x.shape[0] == 0:
        return None
    k = _kernels(xp, x, other)
    return None if k is None or x.dtype != other.dtype else k


def _tiles(out_hw):
    """th x tw tiles of 2x2 outputs cover out_hw."""
    return -(-out_hw[0] // 2), -(-out_hw[1] // 2)


def _winograd_plan(xp, x, out_hw, width):
    """(chunks, threads): the chunks of images of x whose transformed tiles fit WINOGRAD_CHUNK_BYTES, and the
    threads to run them in (``width``: output channels)."""
    n, c = x.shape[:2]
    th, tw = _tiles(out_hw)
    b = max(1, min(n, WINOGRAD_CHUNK_BYTES // (16 * th * tw * c * x.itemsize)))
    chunks = [(s, min(n, s + b)) for s in range(0, n, b)]
    threads = 1 if len(chunks) < 2 or 32 * n * th * tw * c * width < MIN_THREAD_FLOPS else min(_blas_threads(),
                                                                                              len(chunks))
    _log.debug("conv2d x%s: Winograd F(2x2, 3x3), %d images a chunk, %d thread(s)", x.shape, b, threads)
    return chunks, threads


class _ParityRows:
    """A thread's scratch of b images in the column-parity layout of the Winograd kernels: (b, rows, 2,
    cols / 2 * C) with [i, y, p, X C + c] = image[i, c, y, 2 X + p] (channels last, even and odd columns
    apart, so that each kernel loop runs over a whole row of tiles: tile x reads columns 2x..2x+3, which are
    X = x and x + 1 of each parity). ``fill`` writes images (N, C, H, W) at an offset; what it never
    writes (the zero padding) stays zero from chunk to chunk."""

    def __init__(self, xp, channels, rows, cols, b, dtype, offset=(0, 0)):
        self.data = xp.zeros((b, rows, 2, cols // 2 * channels), dtype)
        self.split = self.data.reshape(b, rows, 2, cols // 2, channels)
        self.offset = offset

    def _columns(self, width):
        """Per parity: (first X, first image column, count) of the image's columns that land in the scratch."""
        (_, pw), half = self.offset, self.split.shape[3]
        for parity in (0, 1):
            first = max(0, -(-(pw - parity) // 2))
            col = 2 * first + parity - pw
            yield parity, first, col, max(0, min(half - first, (width - col + 1) // 2))

    def fill(self, x, s, e, k):
        """Images s..e of x (N, C, H, W) into the scratch, by the compiled kernel ``k.parity_fill`` up to
        COMPILED_FILL_MAX_CHANNELS channels, else by NumPy's copies (faster there, though they hold the GIL)."""
        if x.shape[1] <= COMPILED_FILL_MAX_CHANNELS:
            k.parity_fill(x, s, e, self.data, *self.offset)
            return self.data
        ph = self.offset[0]
        rows = min(x.shape[2], self.split.shape[1] - ph)
        for parity, first, col, count in self._columns(x.shape[3]):
            if count:
                self.split[:e - s, ph:ph + rows, parity, first:first + count] = \
                    x[s:e, :, :rows, col:col + 2 * count - 1:2].transpose(0, 2, 3, 1)
        return self.data


def _planes(xp, tiles, channels, dtype):
    """A thread's 16 transform planes (16, tiles + 1, channels): the spare tile keeps the planes off a power of
    two apart, where they fell in the same L1 sets and the input transform (16 stores a step) ran 10x slower
    (the filter transforms of 64 x 64 channels, over planes (16, C, O), 5x slower)."""
    return xp.empty((16, tiles + 1, channels), dtype)


def _winograd(xp, x, w, padding, out_hw):
    """The convolution by F(2x2, 3x3), or None where it does not apply or a value is not finite: an inf in x or
    w makes a nan or inf of some output of the transforms (every transform coefficient row and column has a
    nonzero, and inf * 0 is nan), where the direct sum may keep inf; then im2col runs, as it does for an
    output that overflowed."""
    k = _winograd_kernels(xp, x, w, w)
    if k is None:
        return None
    out, checks, new_state, run = _winograd_conv(xp, k, x, w, padding, out_hw)
    chunks, threads = _winograd_plan(xp, x, out_hw, w.shape[0])
    _share([new_state(chunks[0][1]) for _ in range(threads)], chunks, lambda state, chunk: run(state, *chunk))
    return out if not any(checks) else None


def _winograd_weight_grad(xp, g, x, w, padding, out_hw):
    """dW of _winograd: per transform position, dU = V^T (A dy A^T) summed over tiles (16 GEMMs (C x tiles)
    @ (tiles x O)), then dW = G^T dU G; or None where the Winograd path does not apply or a value of dW is not
    finite (an inf in x or g reaches one: see _winograd)."""
    k = _winograd_kernels(xp, x, w, g)
    if k is None:
        return None
    chunks, threads = _winograd_plan(xp, x, out_hw, w.shape[0])
    finish, new_state, run = _winograd_dw(xp, k, g, x, w, padding, out_hw, len(chunks))
    _share([new_state(chunks[0][1]) for _ in range(threads)], list(enumerate(chunks)),
           lambda state, task: run(state, task[0], *task[1]))
    return finish()


def _winograd_backward(xp, g, x, w, wt, padding, dx_padding, out_hw):
    """(dx, dW) of _winograd in one pass over chunks of images, each chunk's dx (the convolution of g with wt,
    w flipped and transposed, as _winograd) and its share of dW (as _winograd_weight_grad): one hand-off to the
    threads instead of two (the second thread starts 70-90 us into a call, and the last chunks leave one
    thread idle for up to half a chunk). Each is None where a value is not finite, both without the kernels."""
    k = _winograd_kernels(xp, x, w, g)
    if k is None or _winograd_kernels(xp, g, wt, wt) is None:
        return None, None
    chunks, threads = min(_winograd_plan(xp, x, out_hw, w.shape[0]), _winograd_plan(xp, g, x.shape[2:], x.shape[1]),
                          key=lambda plan: plan[0][0][1])  # the smaller chunks
    gx, checks, dx_state, dx_run = _winograd_conv(xp, k, g, wt, dx_padding, x.shape[2:])
    finish, dw_state, dw_run = _winograd_dw(xp, k, g, x, w, padding, out_hw, len(chunks))

    def run(state, task):
        (i, (s, e)), (dx_scratch, dw_scratch) = task, state
        dx_run(dx_scratch, s, e)
        dw_run(dw_scratch, i, s, e, dx_scratch[0].data, dx_padding)  # the chunk of g as dx's convolution filled it
    b = chunks[0][1]
    _share([(dx_state(b), dw_state(b, g_filled=True)) for _ in range(threads)], list(enumerate(chunks)), run)
    return (gx if not any(checks) else None), finish()


def _winograd_conv(xp, k, x, w, padding, out_hw):
    """_winograd's pieces: (out, the chunks' finiteness checks, new_state(b): a thread's scratch for chunks of
    up to b images, run(state, s, e): images s..e)."""
    (n, c), o, x = x.shape[:2], w.shape[0], xp.ascontiguousarray(x)  # one layout for the compiled fill
    th, tw = _tiles(out_hw)
    u = _planes(xp, c, o, x.dtype)[:, :c]  # (16, C, O), u = G w G^T
    k.winograd_weight(w, u)
    out, checks = xp.empty((n, o) + tuple(out_hw), x.dtype), []

    def new_state(b):  # padded images, transformed tiles, products and outputs
        return (_ParityRows(xp, c, 2 * th + 2, 2 * tw + 2, b, x.dtype, padding), _planes(xp, b * th * tw, c, x.dtype),
                _planes(xp, b * th * tw, o, x.dtype), _ParityRows(xp, o, 2 * th, 2 * tw, b, x.dtype))

    def run(state, s, e):
        xs, v, mm, outs = state
        m = (e - s) * th * tw
        k.winograd_input(xs.fill(x, s, e, k), th, tw, v, 0, e - s)
        xp.matmul(v[:, :m], u, out=mm[:, :m])
        checks.append(k.winograd_output(mm, th, tw, outs.data, 0, e - s))
        k.parity_read(outs.data, out, s, e)
    return out, checks, new_state, run


def _winograd_dw(xp, k, g, x, w, padding, out_hw, count):
    """_winograd_weight_grad's pieces for ``count`` chunks: (finish(): dW or None, new_state(b), run(state, i, s,
    e): chunk i, images s..e; or with g's chunk already in the column-parity layout at an offset)."""
    c, o, g, x = x.shape[1], w.shape[0], xp.ascontiguousarray(g), xp.ascontiguousarray(x)
    th, tw = _tiles(out_hw)
    dus = xp.empty((count, 16, c, o), x.dtype)  # each chunk's share, summed in a fixed order by finish

    def new_state(b, g_filled=False):  # padded images and gradients (zero past the output: those outputs were
        # dropped), the latter unless run is given them filled
        return (_ParityRows(xp, c, 2 * th + 2, 2 * tw + 2, b, x.dtype, padding),
                None if g_filled else _ParityRows(xp, o, 2 * th, 2 * tw, b, x.dtype),
                _planes(xp, b * th * tw, c, x.dtype), _planes(xp, b * th * tw, o, x.dtype))

    def run(state, i, s, e, g_filled=None, offset=(0, 0)):
        xs, gs, v, mm = state
        m = (e - s) * th * tw
        k.winograd_input(xs.fill(x, s, e, k), th, tw, v, 0, e - s)
        k.winograd_output_grad(gs.fill(g, s, e, k) if g_filled is None else g_filled, th, tw, mm, 0, e - s, *offset)
        xp.matmul(v[:, :m].swapaxes(1, 2), mm[:, :m], out=dus[i])

    def finish():
        du = _planes(xp, c, o, x.dtype)[:, :c]
        xp.sum(dus, axis=0, out=du)
        dw = xp.empty(w.shape, x.dtype)
        return dw if not k.winograd_weight_grad(du, dw) else None
    return finish, new_state, run


# ---- spreading a convolution's chunks over threads ------------------------------------------------
# NumPy's copies and OpenBLAS's GEMMs release the GIL, so chunks of images run in Python threads,
# each with BLAS at one thread and its own scratch arrays, as many threads as BLAS was given (its
# GEMMs of these sizes gain little from a second thread; im2col and col2im gain none). The threads
# take chunks in turn from a shared counter: on a loaded machine a thread that gets no core for a
# while leaves its chunks to the others (split in fixed halves, one descheduled thread held the
# step up), and one that starts after the chunks ran out does nothing. Idle workers sleep on their job
# queue instead of spinning as OpenBLAS's and OpenMP's do (a worker starts 40-90 us into a call); the
# caller, done with its own tasks, watches the workers' flags (JOIN_SPINS) rather than sleeping on them.
MIN_THREAD_FLOPS = 4e6  # less work per call than this runs in one thread (a thread hand-off is ~30 us)
JOIN_SPINS = 1 << 20  # ~0.7 ms: the calling thread waits this long for a worker's last task by watching a
# flag (a compiled loop, without the GIL) before it blocks; a blocked thread woke 40-90 us after the worker had
# finished (this VM's idle vCPU halts at once), a cost paid at every convolution and batch norm that threads share
MIN_THREAD_BYTES = 16 << 20  # the same for the memory-bound batch norm (2 threads gained nothing at 2 MB)
_F32, _F64 = _np.dtype(_np.float32), _np.dtype(_np.float64)
_workers = []  # the worker threads' job queues
if hasattr(os, "register_at_fork"):  # a forked child (DataLoader workers) has none of the parent's threads
    os.register_at_fork(after_in_child=_workers.clear)


def _worker_queues(count):
    """The job queues of ``count`` worker threads, each running its queue's jobs in turn. After a job a worker
    only goes back to wait: a ThreadPoolExecutor's thread went on with its bookkeeping, holding the GIL that
    the caller watching the job's flag needed next, and the caller, blocked on it, woke 40-50 us after the
    flag (see _share). A job given to a worker still busy with an earlier one waits for it (another thread's
    convolution: each caller also runs tasks itself)."""
    while len(_workers) < count:
        import queue
        import threading
        jobs = queue.SimpleQueue()
        threading.Thread(target=_run_jobs, args=(jobs,), name="chainrule-conv", daemon=True).start()
        _workers.append(jobs)
    return _workers[:count]


def _run_jobs(jobs):
    while True:
        jobs.get()()


def _chunks(xp, plan, flops):
    """(the chunks of images, the number of threads): chunks of plan.b images, in threads: as many chunks
    of equal size as make a multiple of the threads (3 chunks in 2 threads took 2/3 of the time of 1);
    one thread for little work, on a GPU, or with BLAS at one thread."""
    n, b = plan.n, plan.b
    t = 1 if xp.name != "numpy" or n < 2 or flops < MIN_THREAD_FLOPS else min(_blas_threads(), n)
    if t > 1:
        count = -(-n // b)  # chunks of b images
        count = -(-count // t) * t  # rounded up to a multiple of t
        plan.b = -(-n // count)
    return list(plan.chunks()), t


def _plans(xp, plan, threads):
    """The plan and a copy with scratch arrays of its own for each other thread (taken here, in the
    calling thread: xp.scratch is not thread-safe)."""
    return [plan] + [plan.copy(xp) for _ in range(threads - 1)]


def _release(xp, states):
    """Give back each state's plan and scratch arrays (the arrays after the plan), the calling thread's last:
    xp.scratch hands out the last given back first, so each thread gets back the arrays it wrote last time
    (the other way round, each call swapped them and each thread wrote lines the other core held)."""
    for plan, *arrays in reversed(states):
        plan.release(xp)
        for a in arrays:
            if a is not None:
                xp.release(a)


def _share(states, tasks, fn):
    """fn(state, task) for every task; this thread (states[0]) and a worker thread for each other state
    take the tasks in turn. Returns the states that ran (not necessarily all: see above)."""
    if len(states) == 1 or len(tasks) < 2:
        for task in tasks:
            fn(states[0], task)
        return states[:1]
    import itertools
    import threading
    turn, lock, ran, closed, errors = itertools.count(), threading.Lock(), [0], [], []
    done = _np.zeros(len(states), _np.int64)  # set by each worker when it has finished

    def drain(state):
        for i in turn:  # next() on a count is atomic under the GIL
            if i >= len(tasks):
                return
            fn(state, tasks[i])

    def work(i):
        with lock:
            if closed:
                return
            ran.append(i)
        try:
            drain(states[i])
        except BaseException as e:  # raised in the calling thread below
            errors.append(e)
        finally:
            done[i] = 1
    blas.own_threads_ran()
    blas.enter_one()
    try:
        for i, jobs in enumerate(_worker_queues(len(states) - 1), 1):
            jobs.put(lambda i=i: work(i))
        try:
            drain(states[0])
        finally:  # the workers that started finish before their states are given back
            with lock:
                closed.append(True)
            from . import compiled
            wait_flag = None
            if compiled.enabled():
                from .conv_kernels import wait_flag
            for i in ran[1:]:  # a worker that had not started by now does nothing: no wait for it
                if not (wait_flag and wait_flag(done, i, JOIN_SPINS)):
                    while not done[i]:  # descheduled (or no numba): poll without holding a core
                        time.sleep(50e-6)
        if errors:
            raise errors[0]
    finally:
        blas.leave_one()
    return [states[i] for i in ran]


def _spread(xp, total, size, fn):
    """fn(lo, hi) over ranges of range(total) in as many threads as BLAS has (``size`` bytes of work in
    all: small work stays in this thread)."""
    t = 1 if size < MIN_THREAD_BYTES or total < 2 else min(total, _blas_threads())
    step = -(-total // (2 * t)) if t > 1 else total  # two tasks a thread: one left to a late thread is short
    _share([None] * t, [(lo, min(total, lo + step)) for lo in range(0, total, step)], lambda _, r: fn(*r))


def _view(buf, shape):
    """The first prod(shape) elements of a contiguous scratch array, as that shape."""
    size = 1
    for d in shape:
        size *= d
    return buf.reshape(-1)[:size].reshape(shape)


def _col2im(xp, gc, gp, plan):
    """gp (C, M, Hp, Wp) = the sum of each kernel offset's slice of gc (groups, C/groups kh kw, M L)."""
    c, m = gp.shape[:2]
    (kh, kw), (dh, dw), (sh, sw), (ho, wo) = (plan.kh, plan.kw), plan.dilation, plan.stride, plan.out_hw
    k = _kernels(xp, gc)
    if k is not None:
        k.col2im(gc.reshape(c, kh, kw, m, ho, wo), gp, dh, dw, sh, sw)
        return
    gp[...] = 0
    g6 = gc.reshape(c, kh, kw, m, ho, wo)
    for i in range(kh):
        for j in range(kw):
            gp[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] += g6[:, i, j]


# ---- compiled kernels of the conv family (numba, backend/conv_kernels.py) ------------------------
# Each returns None where it does not run (CuPy arrays, numba missing or CHAINRULE_NUMBA=0, dtypes
# other than float32/float64): the op then takes its NumPy path.

def _kernels(xp, *arrays):
    if xp.name != "numpy" or any(a.dtype not in (_F32, _F64) for a in arrays):
        return None
    from . import compiled
    if not compiled.enabled():
        return None
    from . import conv_kernels
    return conv_kernels


def batch_norm_train(xp, x3, weight, bias, eps):
    """Training batch norm of x3 (N, C, L) in one kernel: (out, mean, biased var, inv_std), or None."""
    k = _kernels(xp, x3)
    if k is None:
        return None
    n, c, l = x3.shape
    x3 = xp.ascontiguousarray(x3)
    out = xp.empty_like(x3)
    mean, var, inv_std = (xp.empty(c, x3.dtype) for _ in range(3))
    w = xp.ones(c, x3.dtype) if weight is None else xp.ascontiguousarray(weight, dtype=x3.dtype)
    b = xp.zeros(c, x3.dtype) if bias is None else xp.ascontiguousarray(bias, dtype=x3.dtype)
    _spread(xp, c, 2 * x3.nbytes, lambda lo, hi: k.bn_train_forward(x3, w, b, eps, out, mean, var, inv_std, lo, hi))
    return out, mean, var, inv_std


def batch_norm_train_backward(xp, g3, x3, mean, inv_std, weight, need_x):
    """(dx or None, dgamma, dbeta) of batch_norm_train."""
    from . import conv_kernels as k  # batch_norm_train ran it
    c = x3.shape[1]
    g3, x3 = xp.ascontiguousarray(g3, dtype=x3.dtype), xp.ascontiguousarray(x3)  # one compiled layout
    gx = xp.empty_like(x3) if need_x else xp.empty((0, c, 0), x3.dtype)
    gw, gb, coef = xp.empty(c, x3.dtype), xp.empty(c, x3.dtype), xp.empty((c, 3), x3.dtype)
    w = xp.ones(c, x3.dtype) if weight is None else xp.ascontiguousarray(weight, dtype=x3.dtype)
    _spread(xp, c, 3 * x3.nbytes, lambda lo, hi: k.bn_train_backward(g3, x3, mean, inv_std, w, gx, gw, gb, coef,
                                                                     lo, hi))
    return (gx if need_x else None), gw, gb


def max_pool2d(xp, x, kernel, stride, padding, dilation, out_hw):
    """(out, the flat index in H W of each window's maximum) of max pooling x (N, C, H, W) by 2x2 windows of
    stride 2 that all lie inside x (nn.MaxPool2d(2), the common case), else None. One pass over x, and
    backward only scatters (the NumPy path makes one pass per kernel offset and finds the maxima again)."""
    n, c, h, w = x.shape
    if (kernel, stride, padding, dilation, out_hw) != ((2, 2), (2, 2), (0, 0), (1, 1), (h // 2, w // 2)):
        return None
    k = _kernels(xp, x)
    if k is None or x.size == 0:
        return None
    x3 = xp.ascontiguousarray(x).reshape(n * c, h, w)
    out = xp.empty((n * c,) + out_hw, x.dtype)
    idx = xp.empty((n * c,) + out_hw, _np.int32 if h * w < 2 ** 31 else _np.int64)
    _spread(xp, n * c, x.nbytes, lambda lo, hi: k.max_pool_2x2(x3, out, idx, lo, hi))
    return out.reshape((n, c) + out_hw), idx


def max_pool2d_backward(xp, g, idx, x_shape):
    """dx of max_pool2d: g added at the saved indices."""
    from . import conv_kernels as k  # max_pool2d ran it
    n, c, h, w = x_shape
    planes = idx.shape[0]
    g2 = xp.ascontiguousarray(g).reshape(planes, -1)
    gx = xp.empty((planes, h * w), g.dtype)
    _spread(xp, planes, gx.nbytes, lambda lo, hi: k.max_pool_backward(g2, idx.reshape(planes, -1), gx, lo, hi))
    return gx.reshape(x_shape)
