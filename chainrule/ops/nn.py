"""Fused neural-network primitives: forward, backward and public entry side by side.

These exist because the composite of primitives is measurably slower (bench/): convolution
(im2col + GEMM), pooling (strided windows), batch and layer norm, and the activations whose
composite would need several temporaries (the fused losses are in ``ops/loss.py``). Each op's
``call`` is its ``nn.functional`` entry (``conv2d = Conv2d.call``): it checks the arguments as
torch does, normalises them and calls ``apply``.
"""
import math

import numpy as np

from ..backend import conv, namespace
from .args import check_tensor
from .registry import Op, apply
from .rnn import seq_kernels


def check_float(x, op):
    if check_tensor(x, op)._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")


# ---- activations ----------------------------------------------------------------------------

class LeakyRelu(Op):
    """out = x if x > 0 else slope x;  dx = g or slope g"""
    save_args = True

    @staticmethod
    def call(input, negative_slope=0.01, inplace=False):
        """Applies max(0, x) + negative_slope min(0, x) elementwise, as ``torch.nn.functional.leaky_relu``."""
        check_float(input, "leaky_relu")
        return apply(LeakyRelu, input, slope=float(negative_slope))

    @staticmethod
    def forward(ctx, xp, x, slope):
        ctx.saved = slope
        return xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (xp.where(x > 0, g, g * ctx.saved),)


class Elu(Op):
    """out = x if x > 0 else alpha (e^x - 1);  dx = g alpha e^x if x <= 0 else g  (nan passes g, as torch)"""
    save_args = True

    @staticmethod
    def call(input, alpha=1.0, inplace=False):
        """Applies the exponential linear unit, x if x > 0 else alpha (exp(x) - 1), as
        ``torch.nn.functional.elu``."""
        check_float(input, "elu")
        return apply(Elu, input, alpha=float(alpha))

    @staticmethod
    def forward(ctx, xp, x, alpha):
        ctx.saved = alpha
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (xp.where(x <= 0, g * (ctx.saved * xp.exp(xp.minimum(x, 0))), g),)


class Gelu(Op):
    """out = x Phi(x) (exact, erf) or its tanh approximation;  dx = g (Phi(x) + x phi(x))"""
    save_args = True
    once_differentiable = True

    @staticmethod
    def call(input, approximate="none"):
        """Applies the Gaussian error linear unit x Phi(x) (Phi the standard normal CDF), as
        ``torch.nn.functional.gelu``.

        ``approximate='tanh'`` uses 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
        check_float(input, "gelu")
        if approximate not in ("none", "tanh"):
            raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
        return apply(Gelu, input, approximate=approximate)

    @staticmethod
    def forward(ctx, xp, x, approximate="none"):
        ctx.saved = approximate
        if approximate == "tanh" and (k := seq_kernels(x)):   # one fused pass on all cores (numba)
            return k.gelu_tanh(x)
        if approximate == "tanh":   # in place after the first temporary: x ** 3 alone costs 100x a multiply
            t = _gelu_tanh_inner(xp, x)
            t += 1
            t *= x
            t *= 0.5
            return t
        e = xp.erf(x * (1 / math.sqrt(2)))
        e += 1
        e *= x
        e *= 0.5
        return e

    @staticmethod
    def backward(ctx, xp, g, out, x):
        if ctx.saved == "tanh" and (k := seq_kernels(x)):
            return (k.gelu_tanh(x, g),)
        if ctx.saved == "tanh":
            t = _gelu_tanh_inner(xp, x)
            dt = x * x
            dt *= 3 * 0.044715 * _SQRT_2_PI
            dt += _SQRT_2_PI       # d(inner)/dx
            dt *= x
            dt *= 1 - t * t
            t += 1
            t += dt
            t *= 0.5
            return (g * t,)
        cdf = 0.5 * (1 + xp.erf(x * (1 / math.sqrt(2))))
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return (g * (cdf + x * pdf),)


_SQRT_2_PI = math.sqrt(2 / math.pi)


def _gelu_tanh_inner(xp, x):
    """tanh(sqrt(2/pi) (x + 0.044715 x^3)), one temporary."""
    t = xp.multiply(x, x, out=xp.empty_like(x))   # an array even for 0-d x (out= below)
    t *= 0.044715 * _SQRT_2_PI
    t += _SQRT_2_PI
    t *= x
    return xp.tanh(t, out=t)


# ---- convolution and pooling -------------------------------------------------------------------

def pair(v, name, op="conv2d"):
    """An int or a tuple of one or two ints as a pair of ints; anything else raises as torch."""
    values = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    for x in values:
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
            raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of ints, but got "
                            f"{name}={v!r} (an element of type {type(x).__name__})")
    if len(values) not in (1, 2):
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of two ints, but got {name}={v!r}")
    return (int(values[0]), int(values[-1]))


def pool_args(op, kernel_size, stride, padding, dilation):
    """Pooling sizes as pairs of ints, checked as torch checks them when pooling runs."""
    kernel = pair(kernel_size, "kernel_size", op)
    no_stride = stride is None or isinstance(stride, (tuple, list)) and not stride
    stride = kernel if no_stride else pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    if min(kernel) <= 0 or min(stride) == 0:
        raise RuntimeError(f"{op}: stride should not be zero (kernel_size={kernel}, stride={stride})")
    if min(stride) < 0:
        raise RuntimeError(f"{op}: stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: pad must be non-negative, but got pad: {min(padding)} (padding={padding})")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilationH: {dilation[0]} "
                           f"dilationW: {dilation[1]}")
    return kernel, stride, padding, dilation


def _pool_out(size, k, s, p, d, ceil):
    """torch's pooling output size; with ceil_mode the last window must start inside the input or
    its left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1) * ceil) // s + 1
    return out - 1 if ceil and (out - 1) * s >= size + p else out


def _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, op):
    """(kernel, stride, padding, dilation, out_hw, extra): ``extra`` is the padding past ``padding``
    that ceil_mode's last windows reach at the bottom/right (they take nothing from it)."""
    kernel, stride, padding, dilation = pool_args(op, kernel_size, stride, padding, dilation)
    if input._data.ndim not in (3, 4) or 0 in input._data.shape[-3:]:
        raise RuntimeError(f"{op}: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, got {list(input.shape)}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={padding}, "
                           f"kernel_size={kernel}")
    hw = input._data.shape[-2:]
    out_hw = tuple(_pool_out(*a, bool(ceil_mode)) for a in zip(hw, kernel, stride, padding, dilation))
    if out_hw[0] <= 0 or out_hw[1] <= 0:
        raise RuntimeError(f"{op}: Given input size: {list(input.shape[-3:])}. Calculated output size: "
                           f"{[input._data.shape[-3], *out_hw]}. Output size is too small")
    extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - n - 2 * p)
                  for o, s, d, k, n, p in zip(out_hw, stride, dilation, kernel, hw, padding))
    return kernel, stride, padding, dilation, out_hw, extra


def _batched(op, input, **params):
    """Pooling of a (C, H, W) input as a batch of one."""
    if input._data.ndim == 3:
        return apply(op, input.unsqueeze(0), **params).squeeze(0)
    return apply(op, input, **params)


def _windows(xp, x, kh, kw, stride, dilation, out_hw):
    """A read-only view (N, C, kh, kw, Ho, Wo) of every kernel window of x (N, C, H, W)."""
    n, c = x.shape[:2]
    sn, sc, sh, sw = x.strides
    return xp.as_strided(x, (n, c, kh, kw) + out_hw,
                         (sn, sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1]))


def _pad(xp, x, padding, value=0.0, extra=(0, 0)):
    """x (N, C, H, W) padded by ``padding`` on each side and ``extra`` more at the bottom/right."""
    (ph, pw), (eh, ew) = padding, extra
    if not (ph or pw or eh or ew):
        return x
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)), constant_values=value)


def _offsets(kh, kw, stride, dilation, out_hw):
    """For each kernel offset (i, j): the rows and cols slices of the padded input it sees."""
    (sh, sw), (ho, wo) = stride, out_hw
    for i in range(kh):
        r = i * dilation[0]
        for j in range(kw):
            q = j * dilation[1]
            yield i, j, slice(r, r + sh * (ho - 1) + 1, sh), slice(q, q + sw * (wo - 1) + 1, sw)


def _unpad(x, padding, shape):
    ph, pw = padding
    return x[:, :, ph:ph + shape[2], pw:pw + shape[3]] if x.shape[2:] != shape[2:] else x


def _scatter_windows(xp, gcols, shape, kh, kw, stride, dilation, padding, out_hw, extra=(0, 0)):
    """col2im: add each kernel offset's (A, B, Ho, Wo) slice of gcols (A, B, kh, kw, Ho, Wo) into a
    zero gradient of shape (A, B, H, W) (a loop over the kh*kw offsets only)."""
    n, c, h, w = shape
    gx = xp.zeros((n, c, h + 2 * padding[0] + extra[0], w + 2 * padding[1] + extra[1]), dtype=gcols.dtype)
    for i, j, rows, cols in _offsets(kh, kw, stride, dilation, out_hw):
        gx[..., rows, cols] += gcols[:, :, i, j]
    return _unpad(gx, padding, shape)


def _string_padding(padding, stride, dilation, kernel):
    """conv2d's padding='valid' (none) or 'same' (stride 1 only): d (k - 1) in all, the odd one at the
    bottom/right as torch; returns (top, left) and (bottom, right)."""
    if padding not in ("same", "valid"):
        raise RuntimeError(f"conv2d: Invalid padding string: {padding!r} (expected 'same', 'valid' or ints)")
    if padding == "valid":
        return (0, 0), (0, 0)
    if stride != (1, 1):
        raise RuntimeError(f"conv2d: padding='same' is not supported for strided convolutions (stride={stride})")
    total = [d * (k - 1) for d, k in zip(dilation, kernel)]
    return (total[0] // 2, total[1] // 2), (total[0] - total[0] // 2, total[1] - total[1] // 2)


class Conv2d(Op):
    """out = W * x (+ b) as im2col + GEMM, a few images at a time (backend/conv.py);
    dW = g cols^T,  dx = col2im(W^T g) (stride 1: the convolution of g with W flipped),
    db = sum of g over N, H, W. Backward rebuilds the columns from the saved input."""
    once_differentiable = True

    @staticmethod
    def call(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
        if groups <= 0:
            raise RuntimeError(f"conv2d: non-positive groups is not supported (groups={groups})")
        if weight._data.ndim == 4 and min(weight._data.shape[2:]) <= 0:
            raise RuntimeError(f"conv2d: kernel size should be greater than zero, but got kernel_height: "
                               f"{weight._data.shape[2]} kernel_width: {weight._data.shape[3]}")
        if input._data.ndim not in (3, 4):
            raise RuntimeError(f"conv2d: Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input "
                               f"of size: {list(input.shape)}")
        unbatched = input._data.ndim == 3
        if unbatched:
            input = input.unsqueeze(0)
        o, cg, kh, kw = weight._data.shape
        n, c, h, w = input._data.shape
        if c != cg * groups:
            raise RuntimeError(f"conv2d: Given groups={groups}, weight of size {list(weight.shape)}, expected "
                               f"input{list(input.shape)} to have {cg * groups} channels, but got {c} channels "
                               "instead")
        if o == 0:
            raise RuntimeError(f"conv2d: expected weight to be at least 1 at dimension 0, but got weight of size "
                               f"{list(weight.shape)} instead")
        if o % groups:
            raise RuntimeError(f"conv2d: out_channels ({o}) must be divisible by groups ({groups})")
        if isinstance(padding, str):
            padding, pad_end = _string_padding(padding, stride, dilation, (kh, kw))
        else:
            padding = pad_end = pair(padding, "padding")
        if min(stride) <= 0 or min(dilation) <= 0 or min(padding) < 0:
            raise RuntimeError(f"conv2d: non-positive stride or dilation, or negative padding: stride={stride}, "
                               f"padding={padding}, dilation={dilation}")
        hp, wp = h + padding[0] + pad_end[0], w + padding[1] + pad_end[1]
        out_hw = ((hp - dilation[0] * (kh - 1) - 1) // stride[0] + 1,
                  (wp - dilation[1] * (kw - 1) - 1) // stride[1] + 1)
        if out_hw[0] <= 0 or out_hw[1] <= 0:
            raise RuntimeError(f"conv2d: Calculated padded input size per channel: ({hp} x {wp}). Kernel size: "
                               f"({dilation[0] * (kh - 1) + 1} x {dilation[1] * (kw - 1) + 1}). Kernel size can't "
                               "be greater than actual input size")
        if input._data.dtype != weight._data.dtype:
            raise RuntimeError(f"conv2d: Input type ({input.dtype}) and weight type ({weight.dtype}) should be the "
                               "same")
        out = apply(Conv2d, input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
                    out_hw=out_hw, pad_end=pad_end)
        return out.squeeze(0) if unbatched else out

    @staticmethod
    def forward(ctx, xp, x, w, b, stride, padding, dilation, groups, out_hw, pad_end):
        out = conv.forward(xp, x, w, stride, padding, pad_end, dilation, groups, out_hw, b)
        ctx.saved = (x, w, stride, padding, pad_end, dilation, groups, out_hw)
        return out

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        gx, gw = conv.backward(xp, g, *ctx.saved, ctx.needs)
        return gx, gw, conv.bias_grad(xp, g) if len(ctx.needs) > 2 and ctx.needs[2] else None


class MaxPool2d(Op):
    """out = max over each window;  dx = g at the window's first maximum  (as torch: at its last nan if
    it holds nan, and a window of -inf at its first cell inside the input). One elementwise maximum per
    kernel offset; backward finds the maximum again (a max gate routes)."""
    save_out = True
    once_differentiable = True

    @staticmethod
    def call(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        if return_indices:
            raise NotImplementedError("max_pool2d: return_indices is not supported")
        kernel, stride, padding, dilation, out_hw, extra = _pool_args(input, kernel_size, stride, padding, dilation,
                                                                      ceil_mode, "max_pool2d")
        return _batched(MaxPool2d, input, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                        out_hw=out_hw, extra=extra)

    @staticmethod
    def forward(ctx, xp, x, kernel, stride, padding, dilation, out_hw, extra):
        pooled = conv.max_pool2d(xp, x, kernel, stride, padding, dilation, out_hw)
        if pooled is not None:  # compiled: the maxima's indices, saved for backward
            ctx.saved = (pooled[1], x.shape)
            return pooled[0]
        kh, kw = kernel
        xpad = _pad(xp, x, padding, -xp.inf, extra)
        out = None
        for i, j, rows, cols in _offsets(kh, kw, stride, dilation, out_hw):
            if out is None:
                out = xpad[..., rows, cols].copy()
            else:
                xp.maximum(out, xpad[..., rows, cols], out=out)  # NaN propagates, like torch
        ctx.saved = (xpad, x.shape, kernel, stride, padding, dilation, out_hw, extra)
        return out

    @staticmethod
    def backward(ctx, xp, g, out):
        if len(ctx.saved) == 2:
            return (conv.max_pool2d_backward(xp, g, *ctx.saved),)
        xpad, x_shape, (kh, kw), stride, padding, dilation, out_hw, extra = ctx.saved
        extent = [d * (k - 1) + 1 for d, k in zip(dilation, (kh, kw))]
        # disjoint windows (stride >= kernel extent): each offset owns its slice of gx, no adding;
        # windows that also tile the input exactly write every element of gx: no zeroing first
        disjoint = all(s >= e for s, e in zip(stride, extent))
        tiled = disjoint and dilation == (1, 1) and all(
            s == e and (n - 1) * s + e == size for s, e, n, size in zip(stride, extent, out_hw, xpad.shape[2:]))
        gx = (xp.empty if tiled else xp.zeros)(xpad.shape, dtype=g.dtype)
        offsets = list(_offsets(kh, kw, stride, dilation, out_hw))
        real = None  # the input's cells, when a window's maximum -inf could also be found in its padding
        if (padding != (0, 0) or extra != (0, 0)) and bool((out == -xp.inf).any()):
            real = _pad(xp, xp.ones(x_shape, dtype=bool), padding, False, extra)
        free = xp.ones(out.shape, dtype=bool)  # windows whose maximum is not yet routed
        for i, j, rows, cols in offsets:
            hit = xp.equal(xpad[..., rows, cols], out)
            if real is not None:
                hit &= real[..., rows, cols]
            hit &= free
            free ^= hit
            if disjoint:
                xp.multiply(g, hit, out=gx[..., rows, cols])
            else:
                gx[..., rows, cols] += g * hit
        if bool(free.any()):  # the windows left hold nan (nan == nan is false): g goes to their last nan
            for i, j, rows, cols in reversed(offsets):
                hit = xp.isnan(xpad[..., rows, cols])
                hit &= free
                free ^= hit
                gx[..., rows, cols] += g * hit
        return (_unpad(gx, padding, x_shape),)


def _divisors(hw, kernel, stride, padding, out_hw, count_include_pad):
    """avg_pool2d's divisor per window, as torch: its cells inside the padded input (inside the input
    alone without count_include_pad); one number when all windows share it, else an (Ho, Wo) array."""
    sizes = []
    for n, k, s, p, o in zip(hw, kernel, stride, padding, out_hw):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        sizes.append(end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0))
    div = np.outer(*sizes)
    return float(div.flat[0]) if (div == div.flat[0]).all() else div


class AvgPool2d(Op):
    """out = sum over each window / divisor;  dx = g / divisor spread over the window
    (divisor: kh kw, with ceil_mode's windows cut at the padding's edge; the window's cells inside the
    input with count_include_pad=False; or divisor_override)"""
    once_differentiable = True

    @staticmethod
    def call(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
        if divisor_override is not None and not isinstance(divisor_override, (int, np.integer)):
            raise TypeError(f"avg_pool2d(): argument 'divisor_override' must be int, not "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError("avg_pool2d: divisor must be not zero, got divisor_override=0")
        kernel, stride, padding, _, out_hw, extra = _pool_args(input, kernel_size, stride, padding, 1, ceil_mode,
                                                               "avg_pool2d")
        divisor = float(divisor_override) if divisor_override is not None else _divisors(
            input._data.shape[-2:], kernel, stride, padding, out_hw, count_include_pad)
        return _batched(AvgPool2d, input, kernel=kernel, stride=stride, padding=padding, out_hw=out_hw,
                        extra=extra, divisor=divisor)

    @staticmethod
    def forward(ctx, xp, x, kernel, stride, padding, out_hw, extra, divisor):
        kh, kw = kernel
        divisor = divisor if isinstance(divisor, float) else xp.asarray(divisor, dtype=x.dtype)
        ctx.saved = (x.shape, kernel, stride, padding, out_hw, extra, divisor)
        if out_hw == (1, 1) and padding == extra == (0, 0) and x.shape[2:] == kernel and x.dtype.kind == "f":
            sums = xp.matmul(x.reshape(x.shape[:2] + (kh * kw,)), xp.ones(kh * kw, x.dtype))  # NumPy's sum: 6x slower
            return (sums / divisor)[..., None, None]  # a global pool: the sum over each plane by one product
        return _windows(xp, _pad(xp, x, padding, 0.0, extra), kh, kw, stride, (1, 1), out_hw).sum(axis=(2, 3)) / divisor

    @staticmethod
    def backward(ctx, xp, g, out):
        x_shape, (kh, kw), stride, padding, out_hw, extra, divisor = ctx.saved
        share = g / divisor
        if stride == (kh, kw) and padding == extra == (0, 0) and x_shape[2:] == (out_hw[0] * kh, out_hw[1] * kw):
            tiles = x_shape[:2] + (out_hw[0], kh, out_hw[1], kw)  # windows tiling x: one copy, not kh kw adds
            return (xp.broadcast_to(share[:, :, :, None, :, None], tiles).reshape(x_shape),)
        gcols = xp.broadcast_to(share[:, :, None, None], g.shape[:2] + (kh, kw) + g.shape[2:])
        return (_scatter_windows(xp, gcols, x_shape, kh, kw, stride, (1, 1), padding, out_hw, extra),)


# ---- normalisation ---------------------------------------------------------------------------------

class BatchNorm(Op):
    """Training: out = gamma xhat + beta, xhat = (x - mean) inv_std over the batch (and spatial)
    axes, inv_std = 1 / sqrt(var + eps);  dgamma = sum g xhat,  dbeta = sum g,
    dx = gamma inv_std (g - dbeta / M - xhat dgamma / M) for M values per channel.
    Eval: out = x a + c with running statistics (a = gamma inv_std), dx = g a.
    Training on the CPU: one compiled kernel (backend/conv.py), else einsums over a (N, C, rest) view."""
    once_differentiable = True

    @staticmethod
    def call(input, running_mean, running_var, weight=None, bias=None, training=False, eps=1e-5,
             batch_stats=None):
        """batch_norm but the running statistics' update: training appends (mean, biased var, M)
        of the batch to ``batch_stats`` (a list) for nn.functional.batch_norm to make it."""
        if input._data.ndim < 2:
            raise ValueError(f"batch_norm: expected at least 2D input (got {input._data.ndim}D input)")
        c = input._data.shape[1]
        for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
            if t is not None and t._data.shape != (c,):
                raise RuntimeError(f"batch_norm: {name} should contain {c} elements not {t._data.size}")
        if training and not input._data.size:  # torch: no statistics, zero gradients, no running update
            xp = namespace(input._data)
            return apply(BatchNorm, input, weight, bias, mean=xp.zeros(c, input._data.dtype),
                         var=xp.ones(c, input._data.dtype), eps=eps, training=False)
        if training:
            if input._data.size // c <= 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                                 f"{list(input.shape)}")
            return apply(BatchNorm, input, weight, bias, mean=None, var=None, eps=eps, training=True,
                         batch_stats=batch_stats)
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be defined in evaluation mode")
        return apply(BatchNorm, input, weight, bias, mean=running_mean._data, var=running_var._data, eps=eps,
                     training=False)

    @staticmethod
    def forward(ctx, xp, x, weight, bias, mean, var, eps, training, batch_stats=None):
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, math.prod(x.shape[2:]))  # not -1: an empty batch too
        count = x3.shape[0] * x3.shape[2]
        fused = conv.batch_norm_train(xp, x3, weight, bias, eps) if training else None
        if fused is not None:  # one compiled pass; backward recomputes xhat from x
            out, mean, var, inv_std = fused
            ctx.saved = ((x3, mean), inv_std, weight, count, "fused")
            if batch_stats is not None:
                batch_stats.append((mean, var, count))
            return out.reshape(x.shape)
        if training:
            mean = x3.mean(axis=(0, 2))
            xhat = x3 - mean[:, None]
            var = xp.einsum("ncl,ncl->c", xhat, xhat) / count
            inv_std = (1.0 / xp.sqrt(var + eps)).astype(x.dtype)
            xhat *= inv_std[:, None]
            ctx.saved = (xhat, inv_std, weight, count, True)
            if batch_stats is not None:  # the caller updates its running statistics from these
                batch_stats.append((mean, var, count))
            if weight is None and bias is None:
                return xhat.reshape(x.shape).copy()
        else:
            inv_std = (1.0 / xp.sqrt(var + eps)).astype(x.dtype)
            ctx.saved = ((x3, mean), inv_std, weight, count, False)
        # torch's x (w inv_std) + (b - mean w inv_std): the same passes as (x - mean) inv_std w + b, and
        # torch's values where w or b is inf (inf - inf = nan)
        scale = inv_std * weight if weight is not None else inv_std
        shift = (bias if bias is not None else 0) - mean * scale
        out = x3 * scale[:, None]
        out += shift[:, None].astype(x.dtype)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        xhat, inv_std, weight, count, training = ctx.saved
        needs = ctx.needs
        g3 = g.reshape(g.shape[:2] + (math.prod(g.shape[2:]),))
        if training == "fused":
            gx, gw, gb = conv.batch_norm_train_backward(xp, g3, *xhat, inv_std, weight, needs[0])
            return (gx if gx is None else gx.reshape(g.shape), gw if needs[1] else None, gb if needs[2] else None,
                    None, None)
        a = inv_std * weight if weight is not None else inv_std
        if not training:  # running statistics are constants: xhat is rebuilt only for dgamma
            x3, mean = xhat
            gw = xp.einsum("ncl,ncl->c", g3, (x3 - mean[:, None]) * inv_std[:, None]) if needs[1] else None
            gb = g3.sum(axis=(0, 2)) if len(needs) > 2 and needs[2] else None
            gx = (g3 * a[:, None]).reshape(g.shape) if needs[0] else None
            return gx, gw, gb, None, None
        gw = xp.einsum("ncl,ncl->c", g3, xhat)
        gb = g3.sum(axis=(0, 2))
        gx = None
        if needs[0]:
            gx = g3 * a[:, None]
            t = xhat * (a * gw / count)[:, None]
            gx -= t
            gx -= (a * gb / count)[:, None]
            gx = gx.reshape(g.shape)
        return (gx, gw if needs[1] else None, gb if len(needs) > 2 and needs[2] else None,
                None, None)


class LayerNorm(Op):
    """out = w xhat + b, xhat = (x - mean) rstd over the last dims, rstd = 1 / sqrt(var + eps);
    dw = sum g xhat,  db = sum g,  dx = rstd (g w - mean(g w) - xhat mean(g w xhat)).
    Fused: one node instead of the eight of its composition (transformers call it twice a block)."""
    once_differentiable = True

    @staticmethod
    def call(input, normalized_shape, weight=None, bias=None, eps=1e-5):
        if not isinstance(normalized_shape, (tuple, list)) or not all(isinstance(d, int) for d in normalized_shape):
            raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                            f"{type(normalized_shape).__name__}")
        shape = tuple(normalized_shape)
        k = len(shape)
        if k == 0 or input._data.shape[input._data.ndim - k:] != shape or input._data.ndim < k:
            raise RuntimeError(f"layer_norm: Given normalized_shape={list(shape)}, expected input with shape "
                               f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
        for name, t in (("weight", weight), ("bias", bias)):
            if t is not None and t._data.shape != shape:
                raise RuntimeError(f"layer_norm: Expected {name} to be of same shape as normalized_shape, but got "
                                   f"{name} of shape {list(t.shape)} and normalized_shape = {list(shape)}")
        check_float(input, "layer_norm")
        return apply(LayerNorm, input, weight, bias, k=k, eps=eps)

    @staticmethod
    def forward(ctx, xp, x, weight, bias, k, eps):
        n = math.prod(x.shape[x.ndim - k:])
        x2 = x.reshape(-1, n) if n else x.reshape(math.prod(x.shape[:x.ndim - k]), 0)
        if kern := seq_kernels(x):   # one fused pass on all cores (numba)
            out, xhat, rstd = kern.layer_norm(x2, weight, bias, eps)
            ctx.saved = (xhat, rstd, weight, x.shape[x.ndim - k:])
            return out.reshape(x.shape)
        xhat = x2 - x2.mean(axis=1, keepdims=True) if n else x2.copy()
        var = xp.einsum("mn,mn->m", xhat, xhat)[:, None] / max(n, 1)
        rstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype)
        xhat *= rstd
        ctx.saved = (xhat, rstd, weight, x.shape[x.ndim - k:])
        out = xhat * weight.reshape(-1) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(-1)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        xhat, rstd, weight, shape = ctx.saved
        needs = ctx.needs
        g2 = g.reshape(xhat.shape)
        if needs[0] and (kern := seq_kernels(xhat)):
            gx, gw, gb = kern.layer_norm_backward(g2, xhat, rstd, weight)
            return (gx.reshape(g.shape),) + tuple(t.reshape(shape) if len(needs) > i and needs[i] else None
                                                  for i, t in ((1, gw), (2, gb)))
        gw = xp.einsum("mn,mn->n", g2, xhat).reshape(shape) if len(needs) > 1 and needs[1] else None
        gb = g2.sum(axis=0).reshape(shape) if len(needs) > 2 and needs[2] else None
        gx = None
        if needs[0]:
            gxhat = g2 * weight.reshape(-1) if weight is not None else g2
            n = max(xhat.shape[1], 1)
            gx = (gxhat - gxhat.sum(axis=1, keepdims=True) / n
                  - xhat * (xp.einsum("mn,mn->m", gxhat, xhat)[:, None] / n)) * rstd
            gx = gx.reshape(g.shape)
        return gx, gw, gb


class ConvTranspose2d(Op):
    """out = col2im(W^T x) (+ b), the input gradient of conv2d;  dx = conv2d(g, W) = W im2col(g),
    dW = x im2col(g)^T,  db = sum of g over N, H, W"""
    once_differentiable = True

    @staticmethod
    def call(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        """Applies a 2-D transposed convolution (the gradient of conv2d with respect to its input) over an
        input of shape (N, C_in, H, W) or (C_in, H, W), as ``torch.nn.functional.conv_transpose2d``.

        ``weight`` has shape (C_in, C_out / groups, kH, kW); H_out = (H - 1) stride - 2 padding + dilation
        (kH - 1) + output_padding + 1."""
        op = "conv_transpose2d"
        stride, padding, dilation, output_padding = (pair(v, name, op) for v, name in (
            (stride, "stride"), (padding, "padding"), (dilation, "dilation"), (output_padding, "output_padding")))
        if input._data.ndim not in (3, 4):
            raise RuntimeError(f"{op}: Expected 3D (unbatched) or 4D (batched) input to {op}, but got input of size: "
                               f"{list(input.shape)}")
        unbatched = input._data.ndim == 3
        x = input.unsqueeze(0) if unbatched else input
        (_, c, h, w), (cw, og, kh, kw) = x._data.shape, weight._data.shape
        if min(stride) <= 0 or min(dilation) <= 0 or min(padding) < 0 or groups <= 0 or min(output_padding) < 0:
            raise RuntimeError(f"{op}: non-positive stride, dilation or groups, or negative padding: stride={stride}, "
                               f"padding={padding}, dilation={dilation}, groups={groups}")
        if cw % groups or c != cw:
            raise RuntimeError(f"{op}: Given transposed=1, groups={groups}, weight of size {list(weight.shape)}, "
                               f"expected input{list(x.shape)} to have {cw} channels, but got {c} channels instead")
        if any(q >= s and q >= d for q, s, d in zip(output_padding, stride, dilation)):
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, but got "
                               f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
        if bias is not None and tuple(bias.shape) != (og * groups,):
            raise RuntimeError(f"{op}: expected bias to be 1-dimensional with {og * groups} elements, but got bias "
                               f"of size {list(bias.shape)} instead")
        out_hw = tuple((i - 1) * s - 2 * p + d * (k - 1) + q + 1 for i, s, p, d, k, q in
                       zip((h, w), stride, padding, dilation, (kh, kw), output_padding))
        if min(out_hw) <= 0:
            raise RuntimeError(f"{op}: Given input size per channel: ({h} x {w}). Calculated output size per "
                               f"channel: ({out_hw[0]} x {out_hw[1]}). Output size is too small")
        if x._data.dtype != weight._data.dtype:
            raise RuntimeError(f"{op}: Input type ({x.dtype}) and weight type ({weight.dtype}) should be the same")
        out = apply(ConvTranspose2d, x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                    groups=groups, out_hw=out_hw)
        return out.squeeze(0) if unbatched else out

    @staticmethod
    def forward(ctx, xp, x, w, b, stride, padding, dilation, groups, out_hw):
        # channels last: each kernel offset's add moves whole (groups, O/groups) vectors (2-3x faster)
        (n, c, h, wd), (_, og, kh, kw), (ph, pw) = x.shape, w.shape, padding
        xl = xp.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(n * h * wd, groups, c // groups).swapaxes(0, 1)
        wl = xp.ascontiguousarray(w.reshape(groups, c // groups, og, kh, kw).transpose(0, 1, 3, 4, 2))
        cols = xp.matmul(xl, wl.reshape(groups, c // groups, -1)).reshape(groups, n, h, wd, kh, kw, og)
        yl = xp.zeros((n, out_hw[0] + 2 * ph, out_hw[1] + 2 * pw, groups, og), dtype=x.dtype)
        for i, j, rows, cols_ in _offsets(kh, kw, stride, dilation, (h, wd)):  # col2im
            yl[:, rows, cols_] += cols[:, :, :, :, i, j].transpose(1, 2, 3, 0, 4)
        out = yl[:, ph:ph + out_hw[0], pw:pw + out_hw[1]].reshape(n, out_hw[0], out_hw[1], groups * og)
        out = xp.ascontiguousarray(out.transpose(0, 3, 1, 2))
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        ctx.saved = (xl, wl, w.shape, x.shape, stride, padding, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        xl, wl, w_shape, (n, c, h, wd), stride, (ph, pw), dilation, groups, = ctx.saved
        (o, ho, wo), (kh, kw), og = g.shape[1:], w_shape[2:], w_shape[1]
        gl = xp.zeros((n, ho + 2 * ph, wo + 2 * pw, o), dtype=g.dtype)  # g channels last, zero-padded
        gl[:, ph:ph + ho, pw:pw + wo] = g.transpose(0, 2, 3, 1)
        sn, sr, sq, so = gl.strides  # im2col: (groups, N H W, kh kw O/groups)
        win = xp.as_strided(gl, (groups, n, h, wd, kh, kw, og), (so * og, sn, sr * stride[0], sq * stride[1],
                                                                 sr * dilation[0], sq * dilation[1], so))
        cols = xp.scratch((groups, n * h * wd, kh * kw * og), g.dtype)
        cols.reshape(win.shape)[...] = win
        gx = gw = gb = None
        if ctx.needs[0]:
            gx = xp.matmul(cols, wl.reshape(groups, c // groups, -1).swapaxes(-1, -2))  # (groups, N H W, C/groups)
            gx = gx.swapaxes(0, 1).reshape(n, h, wd, c).transpose(0, 3, 1, 2)
        if ctx.needs[1]:
            gw = xp.matmul(xl.swapaxes(-1, -2), cols).reshape(groups, c // groups, kh, kw, og)
            gw = gw.transpose(0, 1, 4, 2, 3).reshape(w_shape)
        xp.release(cols)
        if len(ctx.needs) > 2 and ctx.needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        return gx, gw, gb
