"""conv2d's kernels on arrays (NumPy or CuPy, through the namespace ``xp``): im2col + GEMM, a few
images at a time.

Measured on the project's 2-core machine: the columns of a whole batch (9x the image for a 3x3
kernel, 20 MB for ResNet-small's first stage) stream through memory twice, and the GEMM over
them ran at a third of OpenBLAS's speed on square matrices; the same work in chunks of images
whose columns fit in ~2 MB (L2 plus a little) stays in cache, and the 3x3 convolutions of
ResNet-small ran 2.5-3.5x faster forward. Images stay (N, C, H, W): each chunk's GEMM writes its
output in place, with no layout change of the batch either way.

Stride-1 convolutions run "flat": each kernel offset is one shift of the flattened padded plane,
so the output is computed over rows of the padded width Wp (the Wp - Wo extra columns are
dropped) and im2col/col2im move whole rows; that pays while the extra columns are few.

Backward: dW = sum over chunks of g cols^T; dx of a stride-1 convolution is itself a
convolution, of g padded by d (k - 1) - p with W flipped and transposed, run by the same chunked
forward, where that beats col2im's kh kw strided adds (measured: while O <= 2 C); otherwise
dx = col2im(W^T g), per chunk. Set CHAINRULE_CONV_DEBUG=1 to log (logger "chainrule.conv") the
path each convolution takes.
"""
import logging
import os

CHUNK_BYTES = 2 << 20  # columns per chunk of images (measured: 1-3 MB are equally good, 5 MB+ slower)
GPU_CHUNK_BYTES = 512 << 20  # a GPU wants few, large launches: in 2 MB chunks ResNet-small b256 ran 66x torch's time
_log = logging.getLogger("chainrule.conv")
if os.environ.get("CHAINRULE_CONV_DEBUG"):
    logging.basicConfig()
    _log.setLevel(logging.DEBUG)


def _is_flat(wp, stride, out_hw):
    return stride == (1, 1) and wp <= 1.5 * out_hw[1]


def _chunk_images(xp, per_image):
    """Images per chunk: as many as keep their columns (``per_image`` bytes each) in the device's budget."""
    return (CHUNK_BYTES if xp.name == "numpy" else GPU_CHUNK_BYTES) // max(1, per_image)


class _Plan:
    """The sizes of one convolution, its chunks of images and their scratch arrays (the columns and
    the zero-padded images of one chunk)."""

    def __init__(self, xp, x, w, stride, padding, pad_end, dilation, groups, out_hw):
        (self.n, self.c, self.h, self.w), (self.o, cg, self.kh, self.kw) = x.shape, w.shape
        self.stride, self.pad, self.dilation, self.groups, self.out_hw = stride, padding, dilation, groups, out_hw
        self.wp = self.w + padding[1] + pad_end[1]
        self.flat = _is_flat(self.wp, stride, out_hw)
        self.length = out_hw[0] * (self.wp if self.flat else out_hw[1])  # output columns per image
        self.k = cg * self.kh * self.kw
        self.x = x
        self.padded = (x.shape[0], self.c, self.h + padding[0] + pad_end[0] + self.flat, self.wp)
        self.b = max(1, min(self.n, _chunk_images(xp, self.c * self.kh * self.kw * self.length * x.itemsize)))
        self.cols = xp.scratch((self.b, groups, self.k, self.length), x.dtype)
        self.pbuf = None if self.padded == x.shape else xp.scratch((self.b,) + self.padded[1:], x.dtype)

    def chunks(self):
        return ((s, min(self.n, s + self.b)) for s in range(0, self.n, self.b))

    def im2col(self, xp, s, e, cn=False):
        """The columns of images s..e in self.cols: (e - s, groups, C/groups kh kw, L), or with ``cn``
        (groups, C/groups kh kw, (e - s) L), for backward's GEMMs over the whole chunk."""
        (dh, dw), (sh, sw), (ph, pw), m = self.dilation, self.stride, self.pad, e - s
        p = self.x[s:e]
        if self.pbuf is not None:  # zero-pad the chunk (it stays in cache for the copy below)
            p, (h, w) = self.pbuf[:m], self.x.shape[2:]
            p[:, :, :ph] = 0
            p[:, :, ph + h:] = 0
            p[:, :, ph:ph + h, :pw] = 0
            p[:, :, ph:ph + h, pw + w:] = 0
            p[:, :, ph:ph + h, pw:pw + w] = self.x[s:e]
        sn, sc, sr, sq = p.strides
        if self.flat:
            win = xp.as_strided(p, (m, self.c, self.kh, self.kw, self.length), (sn, sc, sr * dh, sq * dw, sq))
        else:
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


def forward(xp, x, w, stride, padding, pad_end, dilation, groups, out_hw):
    """conv2d(x, w) without bias: (N, O, Ho, Wo)."""
    plan = _Plan(xp, x, w, stride, padding, pad_end, dilation, groups, out_hw)
    (ho, wo), o, n = out_hw, plan.o, plan.n
    _log.debug("conv2d x%s w%s stride %s: im2col + GEMM, %s, %d images a chunk", x.shape, w.shape, stride,
               "flat" if plan.flat else "strided", plan.b)
    out = xp.empty((n, o, ho, wo), x.dtype)
    wg = w.reshape(groups, o // groups, plan.k)
    res = xp.scratch((plan.b, groups, o // groups, plan.length), x.dtype) if plan.flat else None
    for s, e in plan.chunks():
        cols = plan.im2col(xp, s, e)
        if plan.flat:  # rows of the padded width: drop the extra columns
            xp.matmul(wg, cols, out=res[:e - s])
            out[s:e] = res[:e - s].reshape(e - s, o, ho, plan.wp)[..., :wo]
        else:
            xp.matmul(wg, cols, out=out[s:e].reshape(e - s, groups, o // groups, plan.length))
    if res is not None:
        xp.release(res)
    plan.release(xp)
    return out


def backward(xp, g, x, w, stride, padding, pad_end, dilation, groups, out_hw, needs):
    """(dx, dW) of forward for the output gradient g (None where not needed)."""
    (_, c, h, wd), (o, cg, kh, kw) = x.shape, w.shape
    full = [d * (k - 1) for d, k in zip(dilation, (kh, kw))]
    gx = gw = None
    as_conv = (needs[0] and stride == (1, 1) and o <= 2 * c
               and all(f >= max(p) for f, p in zip(full, zip(padding, pad_end)))
               and bool(xp.isfinite(w.sum())))  # W^T 0 is nan for a nan/inf W: padding must add nothing
    if as_conv:
        _log.debug("conv2d x%s w%s: dx as a convolution of g", x.shape, w.shape)
        wt = w.reshape(groups, o // groups, cg, kh, kw)[..., ::-1, ::-1].transpose(0, 2, 1, 3, 4)
        gx = forward(xp, g, xp.ascontiguousarray(wt.reshape(c, o // groups, kh, kw)), (1, 1),
                     (full[0] - padding[0], full[1] - padding[1]), (full[0] - pad_end[0], full[1] - pad_end[1]),
                     dilation, groups, (h, wd))
    if not (needs[1] or needs[0] and not as_conv):
        return gx, gw
    plan = _Plan(xp, x, w, stride, padding, pad_end, dilation, groups, out_hw)
    (ho, wo), (ph, pw), l, b, k = out_hw, padding, plan.length, plan.b, plan.k
    gbuf = xp.scratch((o, b, l), g.dtype)  # a chunk of g as (O, M, Ho, Wo or Wp)
    wg = w.reshape(groups, o // groups, k)
    dw = xp.zeros((groups, k, o // groups), g.dtype) if needs[1] else None
    if needs[0] and not as_conv:
        gx = xp.empty(x.shape, g.dtype)
        gcols = xp.scratch((groups, k, b * l), g.dtype)
        gxp = xp.scratch((c, b) + plan.padded[2:], g.dtype)
    for s, e in plan.chunks():
        m = e - s
        gt = _view(gbuf, (o, m, ho, l // ho))
        if plan.flat:
            gt[..., wo:] = 0  # the dropped columns get no gradient
        gt[..., :wo] = g[s:e].transpose(1, 0, 2, 3)
        g2 = gt.reshape(groups, o // groups, m * l)
        if needs[1]:
            cols = plan.im2col(xp, s, e, cn=True)
            if plan.flat:  # dropped columns (g = 0) may read inf/nan: 0 * inf must not reach dW
                cols.reshape(groups, k, m, ho, plan.wp)[..., wo:] = 0
            # as (cols g^T)^T: BLAS runs the long inner dimension M L faster this way round
            dw += xp.matmul(cols, g2.swapaxes(-1, -2))
        if needs[0] and not as_conv:
            gc = xp.matmul(wg.swapaxes(-1, -2), g2, out=_view(gcols, (groups, k, m * l)))
            if plan.flat:  # W^T 0 is nan for a nan/inf W: the dropped columns must add nothing to dx
                gc.reshape(groups, k, m, ho, plan.wp)[..., wo:] = 0
            gp = _view(gxp, (c, m) + plan.padded[2:])
            _col2im(gc, gp, plan)
            gx[s:e] = gp[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3)
    if needs[0] and not as_conv:
        xp.release(gcols)
        xp.release(gxp)
    xp.release(gbuf)
    plan.release(xp)
    if needs[1]:
        gw = dw.swapaxes(-1, -2).reshape(w.shape)
    return gx, gw


def _view(buf, shape):
    """The first prod(shape) elements of a contiguous scratch array, as that shape."""
    size = 1
    for d in shape:
        size *= d
    return buf.reshape(-1)[:size].reshape(shape)


def _col2im(gc, gp, plan):
    """gp (C, M, Hp, Wp) = the sum of each kernel offset's slice of gc (groups, C/groups kh kw, M L)."""
    c, m = gp.shape[:2]
    (kh, kw), (dh, dw), (sh, sw), (ho, wo) = (plan.kh, plan.kw), plan.dilation, plan.stride, plan.out_hw
    gp[...] = 0
    if plan.flat:  # each kernel offset adds one shifted slab
        gflat = gp.reshape(c, m, -1)
        g5 = gc.reshape(c, kh, kw, m, plan.length)
        for i in range(kh):
            for j in range(kw):
                shift = i * dh * plan.wp + j * dw
                gflat[:, :, shift:shift + plan.length] += g5[:, i, j]
        return
    g6 = gc.reshape(c, kh, kw, m, ho, wo)
    for i in range(kh):
        for j in range(kw):
            gp[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] += g6[:, i, j]
