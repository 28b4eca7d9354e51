"""Fused neural-network primitives: forward and backward side by side.

These exist because the composite of primitives is measurably slower (bench/): convolution
(im2col + one GEMM), pooling (strided windows), softmax cross-entropy, batch norm, and the
activations whose composite would need several temporaries.
"""
import math

from .registry import Op


# ---- activations ----------------------------------------------------------------------------

class LeakyRelu(Op):
    """out = x if x > 0 else slope x;  dx = g or slope g"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, x, slope):
        ctx.saved = slope
        return xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (xp.where(x > 0, g, g * ctx.saved),)


class Elu(Op):
    """out = x if x > 0 else alpha (e^x - 1);  dx = g or g (out + alpha)"""
    save_args = True
    save_out = True

    @staticmethod
    def forward(ctx, xp, x, alpha):
        ctx.saved = alpha
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (xp.where(x > 0, g, g * (out + ctx.saved)),)


class Gelu(Op):
    """out = x Phi(x) (exact, erf) or its tanh approximation;  dx = g (Phi(x) + x phi(x))"""
    save_args = True
    once_differentiable = True

    @staticmethod
    def forward(ctx, xp, x, approximate="none"):
        ctx.saved = approximate
        if approximate == "tanh":
            return 0.5 * x * (1 + xp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        return 0.5 * x * (1 + xp.erf(x * (1 / math.sqrt(2))))

    @staticmethod
    def backward(ctx, xp, g, out, x):
        if ctx.saved == "tanh":
            k = math.sqrt(2 / math.pi)
            t = xp.tanh(k * (x + 0.044715 * x ** 3))
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)),)
        cdf = 0.5 * (1 + xp.erf(x * (1 / math.sqrt(2))))
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return (g * (cdf + x * pdf),)


# ---- convolution and pooling -------------------------------------------------------------------

def _windows(xp, x, kh, kw, stride, dilation, out_hw):
    """A read-only view (N, C, kh, kw, Ho, Wo) of every kernel window of x (N, C, H, W)."""
    n, c = x.shape[:2]
    sn, sc, sh, sw = x.strides
    return xp.as_strided(x, (n, c, kh, kw) + out_hw,
                         (sn, sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1]))


def _pad(xp, x, padding, value=0.0):
    ph, pw = padding
    if not ph and not pw:
        return x
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _scatter_windows(xp, gcols, shape, kh, kw, stride, dilation, padding, out_hw):
    """col2im: add each kernel offset's (N, C, Ho, Wo) slice of gcols into a zero input gradient."""
    n, c, h, w = shape
    ph, pw = padding
    gx = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=gcols.dtype)
    ho, wo = out_hw
    sh, sw = stride
    for i in range(kh):
        r = i * dilation[0]
        for j in range(kw):
            q = j * dilation[1]
            gx[:, :, r:r + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw] += gcols[:, :, i, j]
    return gx[:, :, ph:ph + h, pw:pw + w] if ph or pw else gx


class Conv2d(Op):
    """out = W * x (+ b) as im2col + one GEMM per group;
    dW = g cols^T,  dx = col2im(W^T g),  db = sum of g over N, H, W"""
    once_differentiable = True

    @staticmethod
    def forward(ctx, xp, x, w, b, stride, padding, dilation, groups, out_hw):
        n, c = x.shape[:2]
        o, cg, kh, kw = w.shape
        ho, wo = out_hw
        cols = _windows(xp, _pad(xp, x, padding), kh, kw, stride, dilation, out_hw)
        # im2col copy: (N, G, Cg*kh*kw, Ho*Wo) — one contiguous buffer for the GEMM
        cols = cols.reshape(n, groups, cg * kh * kw, ho * wo)
        wg = w.reshape(groups, o // groups, cg * kh * kw)
        out = xp.matmul(wg, cols).reshape(n, o, ho, wo)
        if b is not None:
            out += b.reshape(1, o, 1, 1)
        ctx.saved = (cols, w, x.shape, stride, padding, dilation, groups, out_hw)
        return out

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        cols, w, x_shape, stride, padding, dilation, groups, out_hw = ctx.saved
        needs = ctx.needs
        n = g.shape[0]
        o, cg, kh, kw = w.shape
        g4 = g.reshape(n, groups, o // groups, out_hw[0] * out_hw[1])
        gx = gw = gb = None
        if needs[1]:
            if groups == 1:
                gw = xp.tensordot(g4[:, 0], cols[:, 0], axes=([0, 2], [0, 2])).reshape(w.shape)
            else:
                gw = xp.matmul(g4, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)
        if needs[0]:
            wg = w.reshape(groups, o // groups, cg * kh * kw)
            gcols = xp.matmul(wg.transpose(0, 2, 1), g4)  # (N, G, Cg*kh*kw, Ho*Wo)
            gcols = gcols.reshape((n, groups * cg, kh, kw) + tuple(out_hw))
            gx = _scatter_windows(xp, gcols, x_shape, kh, kw, stride, dilation, padding, out_hw)
        if len(needs) > 2 and needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb


class MaxPool2d(Op):
    """out = max over each window;  dx = g routed to the window's argmax (a max gate routes)"""
    once_differentiable = True

    @staticmethod
    def forward(ctx, xp, x, kernel, stride, padding, dilation, out_hw):
        kh, kw = kernel
        n, c = x.shape[:2]
        win = _windows(xp, _pad(xp, x, padding, -xp.inf), kh, kw, stride, dilation, out_hw)
        flat = win.reshape(n, c, kh * kw, out_hw[0] * out_hw[1])
        arg = flat.argmax(axis=2)
        out = xp.take_along_axis(flat, arg[:, :, None], axis=2).reshape((n, c) + tuple(out_hw))
        ctx.saved = (arg.reshape((n, c) + tuple(out_hw)), x.shape, kernel, stride, padding, dilation, out_hw)
        return out

    @staticmethod
    def backward(ctx, xp, g, out):
        arg, x_shape, (kh, kw), stride, padding, dilation, out_hw = ctx.saved
        n, c = x_shape[:2]
        gcols = xp.zeros((n, c, kh, kw) + tuple(out_hw), dtype=g.dtype)
        for k in range(kh * kw):
            gcols[:, :, k // kw, k % kw] = xp.where(arg == k, g, 0)
        return (_scatter_windows(xp, gcols, x_shape, kh, kw, stride, dilation, padding, out_hw),)


class AvgPool2d(Op):
    """out = mean over each window (zero padding counted);  dx = g / (kh kw) spread over the window"""
    once_differentiable = True

    @staticmethod
    def forward(ctx, xp, x, kernel, stride, padding, out_hw):
        kh, kw = kernel
        win = _windows(xp, _pad(xp, x, padding), kh, kw, stride, (1, 1), out_hw)
        ctx.saved = (x.shape, kernel, stride, padding, out_hw)
        return win.mean(axis=(2, 3))

    @staticmethod
    def backward(ctx, xp, g, out):
        x_shape, (kh, kw), stride, padding, out_hw = ctx.saved
        share = g * (1.0 / (kh * kw))
        gcols = xp.broadcast_to(share[:, :, None, None], g.shape[:2] + (kh, kw) + g.shape[2:])
        return (_scatter_windows(xp, gcols, x_shape, kh, kw, stride, (1, 1), padding, out_hw),)


# ---- losses and normalisation ---------------------------------------------------------------------

class SoftmaxCrossEntropy(Op):
    """loss_i = -sum_c a_ic log softmax(x_i)_c, for a coefficient matrix a (one-hot target times
    its class weight, label smoothing, ignore mask, 1/denominator for 'mean');
    dx_i = g_i (softmax(x_i) sum_c a_ic - a_i)"""
    @staticmethod
    def forward(ctx, xp, x, coef):
        shifted = x - x.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        logp = shifted - xp.log(s)
        ctx.saved = (e / s, coef)
        return -(coef * logp).sum(axis=1)

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        p, coef = ctx.saved
        return (g[:, None] * (p * coef.sum(axis=1, keepdims=True) - coef), None)


class BatchNorm(Op):
    """Training: out = gamma (x - mean) / sqrt(var + eps) + beta over the batch (and spatial)
    axes;  dx = gamma inv_std / n (n g - sum g - xhat sum(g xhat)),  dgamma = sum g xhat,
    dbeta = sum g. Eval: the same affine map with running statistics, dx = g gamma inv_std."""
    once_differentiable = True

    @staticmethod
    def forward(ctx, xp, x, weight, bias, mean, var, eps, training, batch_stats=None):
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        if training:
            mean = x.mean(axis=axes)
            centered = x - mean.reshape(bshape)
            var = (centered * centered).mean(axis=axes)
        else:
            centered = x - mean.reshape(bshape)
        inv_std = 1.0 / xp.sqrt(var + eps)
        xhat = centered * inv_std.reshape(bshape).astype(x.dtype)
        out = xhat * weight.reshape(bshape) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(bshape)
        ctx.saved = (xhat, inv_std.astype(x.dtype), weight, axes, bshape, training)
        if batch_stats is not None:  # the caller updates its running statistics from these
            batch_stats.append((mean, var))
        return out

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        xhat, inv_std, weight, axes, bshape, training = ctx.saved
        needs = ctx.needs
        gw = (g * xhat).sum(axis=axes) if needs[1] else None
        gb = g.sum(axis=axes) if len(needs) > 2 and needs[2] else None
        gx = None
        if needs[0]:
            gxhat = g * weight.reshape(bshape) if weight is not None else g
            scale = inv_std.reshape(bshape)
            if training:
                gx = (gxhat - gxhat.mean(axis=axes).reshape(bshape)
                      - xhat * (gxhat * xhat).mean(axis=axes).reshape(bshape)) * scale
            else:
                gx = gxhat * scale
        return gx, gw, gb, None, None
