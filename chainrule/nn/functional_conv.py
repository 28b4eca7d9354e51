"""nn.functional's convolution, pooling and padding beyond conv2d/max_pool2d/avg_pool2d (resampling
is in functional_resample.py).

Compositions of the fused 2-d ops (``ops.nn``) and Tensor methods, as torch lays them out:
conv1d and the 1-d pools are their 2-d ops on an (N, C, 1, L) view; conv3d sums one conv2d per kernel
depth offset (a batch of N*Do depth slices each); conv_transpose1d is ConvTranspose2d on that view.
unfold stacks one strided slice per kernel offset, fold adds into them; adaptive average pooling
and linear/bilinear/bicubic/trilinear interpolation are one constant (Out, In) matrix per spatial dim
(out = A x along that dim: a GEMM forward and backward); nearest modes, adaptive max pooling, pads
and grid_sample gather with integer indices. Index arithmetic runs on NumPy ints (never on data).
"""
import numbers

import numpy as np

from ..tensor import Tensor
from ..ops.nn import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d
from ..ops.movement import Cat
from ..ops.elementwise import Where
from ..backend import namespace


def _ints(v, n, name, op):
    """An int or a tuple of n ints (one int is repeated) as a tuple of n ints; TypeError otherwise."""
    values = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if any(isinstance(x, bool) or not isinstance(x, numbers.Integral) for x in values):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, but found element of type "
                        f"{type(values[0]).__name__} (got {name}={v!r})")
    if len(values) not in (1, n):
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} values to match "
                           f"the convolution dimensions, but got {name}={list(values)}")
    return tuple(int(x) for x in values) * (n if len(values) == 1 else 1)


def _const(x, array):
    """A constant (no gradient) Tensor of x's dtype on x's device."""
    return Tensor._make(namespace(x._data).asarray(np.asarray(array), dtype=x._data.dtype))


def _index(x, array):
    return Tensor._make(namespace(x._data).asarray(np.asarray(array, dtype=np.int64)))


def _check_rank(input, ranks, op, what=None):
    if input.ndim not in ranks:
        lo, hi = ranks[0], ranks[-1]
        raise RuntimeError(what or f"{op}: Expected {lo}D (unbatched) or {hi}D (batched) input to {op}, but got "
                                   f"input of size: {list(input.shape)}")


# ---- convolution -------------------------------------------------------------------------------

def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Applies a 1-D convolution over an input of shape (N, C_in, L) or (C_in, L), as
    ``torch.nn.functional.conv1d``.

    ``weight`` has shape (C_out, C_in / groups, K); ``padding`` may be an int, ``'valid'`` or ``'same'``."""
    _check_rank(input, (2, 3), "conv1d")
    if weight.ndim != 3:
        raise RuntimeError(f"conv1d: weight should have 3 dimensions (out_channels, in_channels/groups, kW), got "
                           f"weight of size {list(weight.shape)}")
    s, d = _ints(stride, 1, "stride", "conv1d"), _ints(dilation, 1, "dilation", "conv1d")
    p = padding if isinstance(padding, str) else (0,) + _ints(padding, 1, "padding", "conv1d")
    out = Conv2d.call(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1,) + s, p, (1,) + d, groups)
    return out.squeeze(-2)


def _same_padding(op, padding, stride, dilation, kernel):
    """'valid'/'same' as (low, high) pads per dim ('same': d (k - 1) in all, the odd one high, as torch)."""
    if padding not in ("same", "valid"):
        raise RuntimeError(f"{op}: Invalid padding string: {padding!r}")
    if padding == "same" and any(s != 1 for s in stride):
        raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) if padding == "same" else 0 for d, k in zip(dilation, kernel)]
    return [(t // 2, t - t // 2) for t in total]


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """sum over the kernel's depth offsets i of conv2d(x[:, :, i d + s z], W[:, :, i]), each over a batch
    of the N*Do depth slices it reads."""
    _check_rank(input, (4, 5), "conv3d")
    if weight.ndim != 5:
        raise RuntimeError(f"conv3d: weight should have 5 dimensions, got weight of size {list(weight.shape)}")
    if input.ndim == 4:
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride, dilation = _ints(stride, 3, "stride", "conv3d"), _ints(dilation, 3, "dilation", "conv3d")
    if groups <= 0 or min(stride) <= 0 or min(dilation) <= 0:
        raise RuntimeError(f"conv3d: non-positive stride, dilation or groups (stride={stride}, dilation={dilation}, "
                           f"groups={groups})")
    if isinstance(padding, str):
        pads = _same_padding("conv3d", padding, stride, dilation, weight.shape[2:])
        input = pad(input, [p for lo_hi in reversed(pads) for p in lo_hi])
        padding = (0, 0, 0)
    padding = _ints(padding, 3, "padding", "conv3d")
    if min(padding) < 0:
        raise RuntimeError(f"conv3d: negative padding is not supported (padding={padding})")
    n, c, depth = input.shape[:3]
    o, cg, kd = weight.shape[:3]
    if c != cg * groups:
        raise RuntimeError(f"conv3d: Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {cg * groups} channels, but got {c} channels instead")
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"conv3d: expected bias to be 1-dimensional with {o} elements, got {list(bias.shape)}")
    if padding[0]:
        input = pad(input, (0, 0, 0, 0, padding[0], padding[0]))
    out_d = (depth + 2 * padding[0] - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    if out_d <= 0 or kd <= 0:
        raise RuntimeError(f"conv3d: Calculated padded input size per channel: ({depth + 2 * padding[0]} x ...). "
                           f"Kernel size: ({dilation[0] * (kd - 1) + 1} x ...). Kernel size can't be greater than "
                           "actual input size")
    xt = input.transpose(1, 2)  # (N, D, C, H, W)
    out = None
    for i in range(kd):
        start = i * dilation[0]
        sl = xt[:, start:start + stride[0] * (out_d - 1) + 1:stride[0]].reshape(n * out_d, c, *input.shape[3:])
        y = Conv2d.call(sl, weight[:, :, i], None, stride[1:], padding[1:], dilation[1:], groups)
        out = y if out is None else out + y
    out = out.reshape(n, out_d, o, *out.shape[2:]).transpose(1, 2)
    return out if bias is None else out + bias.reshape(o, 1, 1, 1)


conv_transpose2d = ConvTranspose2d.call


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Applies a 1-D transposed convolution (the gradient of conv1d with respect to its input) over an input of
    shape (N, C_in, L), as ``torch.nn.functional.conv_transpose1d``.

    ``weight`` has shape (C_in, C_out / groups, K); L_out = (L - 1) stride - 2 padding + dilation (K - 1) +
    output_padding + 1."""
    _check_rank(input, (2, 3), "conv_transpose1d")
    if weight.ndim != 3:
        raise RuntimeError(f"conv_transpose1d: weight should have 3 dimensions, got {list(weight.shape)}")
    args = [(0,) + _ints(a, 1, name, "conv_transpose1d") for a, name in
            ((padding, "padding"), (output_padding, "output_padding"))]
    s, d = _ints(stride, 1, "stride", "conv_transpose1d"), _ints(dilation, 1, "dilation", "conv_transpose1d")
    return ConvTranspose2d.call(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1,) + s, args[0], args[1],
                                groups, (1,) + d).squeeze(-2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """sum over the kernel's depth offsets i of conv_transpose2d(x, W[:, :, i]) added at output depths
    z s + i d (one index_add each)."""
    _check_rank(input, (4, 5), "conv_transpose3d")
    if weight.ndim != 5:
        raise RuntimeError(f"conv_transpose3d: weight should have 5 dimensions, got {list(weight.shape)}")
    if input.ndim == 4:
        return conv_transpose3d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    op = "conv_transpose3d"
    stride, padding, dilation = (_ints(stride, 3, "stride", op), _ints(padding, 3, "padding", op),
                                 _ints(dilation, 3, "dilation", op))
    output_padding = _ints(output_padding, 3, "output_padding", op)
    n, c, depth = input.shape[:3]
    kd = weight.shape[2]
    if output_padding[0] >= stride[0] and output_padding[0] >= dilation[0] or min(stride) <= 0 or padding[0] < 0:
        raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, and stride "
                           f"positive, padding non-negative (stride={stride}, output_padding={output_padding})")
    out_d = (depth - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kd - 1) + output_padding[0] + 1
    xs = input.transpose(1, 2).reshape(n * depth, c, *input.shape[3:])
    out = None
    for i in range(kd):
        y = ConvTranspose2d.call(xs, weight[:, :, i], None, stride[1:], padding[1:], output_padding[1:], groups,
                                 dilation[1:])
        y = y.reshape(n, depth, *y.shape[1:])
        if out is None:
            if out_d <= 0:
                raise RuntimeError(f"{op}: Calculated output depth {out_d} is too small")
            out = y.new_zeros((n, out_d + 2 * padding[0]) + tuple(y.shape[2:]))
        out = out.index_add(1, _index(y, np.arange(depth) * stride[0] + i * dilation[0]), y)
    out = out[:, padding[0]:padding[0] + out_d].transpose(1, 2)
    return out if bias is None else out + bias.reshape(-1, 1, 1, 1)


# ---- unfold / fold ------------------------------------------------------------------------------

def _window_index(hw_padded, kernel, dilation, stride):
    """The flat positions in a padded (Hp, Wp) plane of every window cell: (kh kw, Ho Wo) and (Ho, Wo)."""
    (hp, wp), (kh, kw), (dh, dw), (sh, sw) = hw_padded, kernel, dilation, stride
    out_hw = ((hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1)
    rows = np.arange(kh)[:, None, None, None] * dh + np.arange(out_hw[0])[None, None, :, None] * sh
    cols = np.arange(kw)[None, :, None, None] * dw + np.arange(out_hw[1])[None, None, None, :] * sw
    return (rows * wp + cols).reshape(kh * kw, -1), out_hw


def _fold_args(op, kernel_size, dilation, padding, stride):
    args = [_ints(a, 2, name, op) for a, name in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                                   (padding, "padding"), (stride, "stride"))]
    if min(args[0]) <= 0 or min(args[1]) <= 0 or min(args[3]) <= 0 or min(args[2]) < 0:
        raise RuntimeError(f"{op}: kernel size, dilation and stride should be greater than zero and padding "
                           f"non-negative, but got kernel_size={args[0]}, dilation={args[1]}, padding={args[2]}, "
                           f"stride={args[3]}")
    return args


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding local blocks from an input of shape (N, C, H, W), as ``torch.nn.functional.unfold``
    (im2col).

    The output has shape (N, C kH kW, L), with L the number of block positions."""
    kernel, dilation, padding, stride = _fold_args("unfold", kernel_size, dilation, padding, stride)
    if input.ndim < 3:  # torch's im2col reads dim 2 first
        raise IndexError(f"unfold: Dimension out of range (expected to be in range of [{-max(input.ndim, 1)}, "
                         f"{max(input.ndim, 1) - 1}], but got 2)")
    _check_rank(input, (3, 4), "unfold", f"unfold: Expected 3D or 4D (batch mode) tensor with optional 0 dim "
                                         f"batch size for input, but got: {list(input.shape)}")
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), kernel, dilation, padding, stride).squeeze(0)
    n, c, h, w = input.shape
    hp, wp = h + 2 * padding[0], w + 2 * padding[1]
    idx, out_hw = _window_index((hp, wp), kernel, dilation, stride)
    if min(out_hw) <= 0 or 0 in (c, h, w):
        raise RuntimeError(f"unfold: Given input with spatial size ({h}, {w}), kernel_size={kernel}, dilation="
                           f"{dilation}, padding={padding}, calculated shape of the array of sliding blocks as "
                           f"{out_hw}, but its components must be at least one.")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"im2col_out_cpu\" not implemented for '{input.dtype}'")
    # one strided slice per kernel offset, stacked: the backward writes slices (no scatter-add)
    x = pad(input, (padding[1], padding[1], padding[0], padding[0]))
    (ho, wo), (dh, dw), (sh, sw) = out_hw, dilation, stride
    parts = [x[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]
             for i in range(kernel[0]) for j in range(kernel[1])]
    return Cat.call([p.unsqueeze(2) for p in parts], 2).reshape(n, c * idx.shape[0], idx.shape[1])


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding local blocks of shape (N, C kH kW, L) back into an output of shape (N, C, output_size), as
    ``torch.nn.functional.fold`` (col2im, the adjoint of unfold)."""
    kernel, dilation, padding, stride = _fold_args("fold", kernel_size, dilation, padding, stride)
    out_size = _ints(output_size, 2, "output_size", "fold")
    _check_rank(input, (2, 3), "fold", f"fold: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch "
                                       f"size for input, but got: {list(input.shape)}")
    if input.ndim == 2:
        return fold(input.unsqueeze(0), out_size, kernel, dilation, padding, stride).squeeze(0)
    n, ckk, length = input.shape
    kk = kernel[0] * kernel[1]
    if ckk % kk or ckk == 0:
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ckk} and kernel_size={kernel}")
    hp, wp = out_size[0] + 2 * padding[0], out_size[1] + 2 * padding[1]
    idx, out_hw = _window_index((hp, wp), kernel, dilation, stride)
    if min(out_hw) <= 0 or out_hw[0] * out_hw[1] != length:
        raise RuntimeError(f"fold: Given output_size={out_size}, kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {out_hw[0]} * {out_hw[1]} = {out_hw[0] * out_hw[1]}, "
                           f"but got input.size(2)={length}.")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"col2im_out_cpu\" not implemented for '{input.dtype}'")
    c = ckk // kk
    (ho, wo), (dh, dw), (sh, sw) = out_hw, dilation, stride
    cols = input.reshape(n, c, kernel[0], kernel[1], ho, wo)
    out = input.new_zeros((n, c, hp, wp))
    for i in range(kernel[0]):  # col2im: each kernel offset adds into one strided slice
        for j in range(kernel[1]):
            out[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] += cols[:, :, i, j]
    return out[:, :, padding[0]:padding[0] + out_size[0], padding[1]:padding[1] + out_size[1]]


# ---- pooling ------------------------------------------------------------------------------------

def _one(v, name, op):
    return _ints(v, 1, name, op)[0]


def _pool1d_rank(input, op):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got: {list(input.shape)}")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Applies 2-D max pooling over an input of shape (N, C, H, W) or (C, H, W), as
    ``torch.nn.functional.max_pool2d``.

    With ``return_indices=True`` it also returns the flat index (within each H x W plane) of every maximum."""
    out = MaxPool2d.call(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, _max_pool_indices(input, out, kernel_size, stride, padding, dilation)) if return_indices else out


def _max_pool_indices(input, out, kernel_size, stride, padding, dilation):
    """Each window's flat index (h W + w) in its input plane, as torch: its first maximum, its last nan if
    it holds nan, and its first cell inside the input for a window of -inf."""
    xp = namespace(input._data)
    kernel = _ints(kernel_size, 2, "kernel_size", "max_pool2d")
    no_stride = stride is None or isinstance(stride, (tuple, list)) and not stride
    stride = kernel if no_stride else _ints(stride, 2, "stride", "max_pool2d")
    padding, dilation = _ints(padding, 2, "padding", "max_pool2d"), _ints(dilation, 2, "dilation", "max_pool2d")
    x, y = input._data, out._data
    h, w = x.shape[-2:]
    (ho, wo), (kh, kw) = y.shape[-2:], kernel
    rows = (np.arange(ho) * stride[0] - padding[0])[:, None] + np.arange(kh) * dilation[0]  # (Ho, kh)
    cols = (np.arange(wo) * stride[1] - padding[1])[:, None] + np.arange(kw) * dilation[1]  # (Wo, kw)
    inside = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[None, :, None, :]
    flat = (np.clip(rows, 0, h - 1) * w)[:, None, :, None] + np.clip(cols, 0, w - 1)[None, :, None, :]
    flat, inside = xp.asarray(flat.reshape(ho, wo, -1)), xp.asarray(inside.reshape(ho, wo, -1))
    win = x.reshape(x.shape[:-2] + (h * w,))[..., flat]  # (..., Ho, Wo, kh kw)
    hit = (win == y[..., None]) & inside
    nan = xp.isnan(win) & inside
    first = xp.argmax(hit | ~inside.any(-1, keepdims=True) & inside, axis=-1)
    last = nan.shape[-1] - 1 - xp.argmax(nan[..., ::-1], axis=-1)
    pos = xp.where(nan.any(-1), last, first)
    return Tensor._make(xp.take_along_axis(xp.broadcast_to(flat, win.shape), pos[..., None], -1)[..., 0]
                        .astype(np.int64))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Applies 1-D max pooling over an input of shape (N, C, L) or (C, L), as ``torch.nn.functional.max_pool1d``;
    ``return_indices=True`` also returns the argmax positions."""
    _pool1d_rank(input, "max_pool1d")
    k = _one(kernel_size, "kernel_size", "max_pool1d")
    s = None if stride is None or isinstance(stride, (tuple, list)) and not stride else \
        (1, _one(stride, "stride", "max_pool1d"))
    res = max_pool2d(input.unsqueeze(-2), (1, k), s, (0, _one(padding, "padding", "max_pool1d")),
                     (1, _one(dilation, "dilation", "max_pool1d")), ceil_mode, return_indices)
    return (res[0].squeeze(-2), res[1].squeeze(-2)) if return_indices else res.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Applies 1-D average pooling over an input of shape (N, C, L) or (C, L), as
    ``torch.nn.functional.avg_pool1d``."""
    _pool1d_rank(input, "avg_pool1d")
    k = _one(kernel_size, "kernel_size", "avg_pool1d")
    s = None if stride is None or isinstance(stride, (tuple, list)) and not stride else \
        (1, _one(stride, "stride", "avg_pool1d"))
    return AvgPool2d.call(input.unsqueeze(-2), (1, k), s, (0, _one(padding, "padding", "avg_pool1d")), ceil_mode,
                          count_include_pad).squeeze(-2)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Places the values of a 2-D max pooling back at their ``indices`` in a zero tensor, a partial inverse of
    max_pool2d, as ``torch.nn.functional.max_unpool2d``."""
    kernel = _ints(kernel_size, 2, "kernel_size", "max_unpool2d")
    stride = kernel if stride is None else _ints(stride, 2, "stride", "max_unpool2d")
    padding = _ints(padding, 2, "padding", "max_unpool2d")
    default = [(n - 1) * s - 2 * p + k for n, s, p, k in zip(input.shape[-2:], stride, padding, kernel)]
    if output_size is None:
        size = default
    else:
        size = list(output_size)[-2:]
        if len(output_size) not in (2, input.ndim):
            raise ValueError(f"max_unpool2d: output_size should be a sequence containing 2 or {input.ndim} "
                             f"elements, but it has a length of {len(output_size)}")
        for d, s, k in zip(default, size, stride):
            if not d - k < s < d + k:
                raise ValueError(f"max_unpool2d: invalid output_size {list(output_size)} (dim {size} must be "
                                 f"between {[a - b for a, b in zip(default, stride)]} and "
                                 f"{[a + b for a, b in zip(default, stride)]})")
    if input.ndim not in (3, 4) or tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"max_unpool2d: Expected 3D or 4D input with indices of its shape, got input of shape "
                           f"{list(input.shape)} and indices of shape {list(indices.shape)}")
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"max_unpool2d: elements in indices should be type int64 but got: {indices.dtype}")
    lead, plane = tuple(input.shape[:-2]), size[0] * size[1]
    flat_idx = indices.reshape(*lead, -1)
    if flat_idx.numel() and (int(flat_idx.min()) < 0 or int(flat_idx.max()) >= plane):
        raise RuntimeError(f"max_unpool2d: Found an invalid max index: {int(flat_idx.max())} (output volumes are "
                           f"of size {size[0]}x{size[1]})")
    out = input.new_zeros(lead + (plane,)).scatter(-1, flat_idx, input.reshape(*lead, -1))
    return out.reshape(*lead, *size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Places the values of a 1-D max pooling back at their ``indices`` in a zero tensor, as
    ``torch.nn.functional.max_unpool1d``."""
    k, p = _one(kernel_size, "kernel_size", "max_unpool1d"), _one(padding, "padding", "max_unpool1d")
    s = k if stride is None else _one(stride, "stride", "max_unpool1d")
    size = None if output_size is None else [1] + list(output_size)[-1:]
    return max_unpool2d(input.unsqueeze(-2), indices.unsqueeze(-2), (1, k), (1, s), (0, p), size).squeeze(-2)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Applies 1-D power-average pooling (sum over the window of x^p)^(1/p), as ``torch.nn.functional.lp_pool1d``."""
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(_one(kernel_size, "kernel_size", "lp_pool1d")).pow(1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Applies 2-D power-average pooling (sum over the window of x^p)^(1/p), as ``torch.nn.functional.lp_pool2d``."""
    kw, kh = _ints(kernel_size, 2, "kernel_size", "lp_pool2d")
    out = AvgPool2d.call(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kw * kh).pow(1.0 / norm_type)


def _adaptive_sizes(op, input, output_size, dims):
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: Expected {dims + 1}D or {dims + 2}D tensor, but got input of size "
                           f"{list(input.shape)}")
    if any(n == 0 for n in input.shape[1:]):
        raise RuntimeError(f"{op}: Expected input to have non-zero size for non-batch dimensions, but input has "
                           f"sizes {list(input.shape)} with dimension {list(input.shape).index(0)} being empty")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if len(sizes) != dims:
        raise RuntimeError(f"{op}: internal error: output_size.size() must be {dims}, got {list(sizes)}")
    sizes = tuple(n if s is None else s for s, n in zip(sizes, input.shape[-dims:]))
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 but received "
                           f"{list(sizes)}")
    return sizes


def _bins(n, out):
    """torch's adaptive windows over n cells: [floor(i n / out), ceil((i + 1) n / out))."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _along(x, matrix, dim):
    """out = A x along dim (A: (Out, In) constant)."""
    a = _const(x, matrix)
    if dim == x.ndim - 1:
        return x @ a.transpose(0, 1)
    return (x.movedim(dim, -1) @ a.transpose(0, 1)).movedim(-1, dim)


def _adaptive_avg(op, input, output_size, dims):
    sizes = _adaptive_sizes(op, input, output_size, dims)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{op}\" not implemented for '{input.dtype}'")
    out = input
    for k, o in enumerate(sizes):
        dim, n = input.ndim - dims + k, input.shape[input.ndim - dims + k]
        start, end = _bins(n, o)
        cells = np.arange(n)
        a = ((cells >= start[:, None]) & (cells < end[:, None])) / (end - start)[:, None]
        out = _along(out, a, dim)
    return out


def adaptive_avg_pool1d(input, output_size):
    """Averages an input of shape (N, C, L) or (C, L) over ``output_size`` adaptive bins, as
    ``torch.nn.functional.adaptive_avg_pool1d``.

    Bin i spans [floor(i L / out), ceil((i + 1) L / out))."""
    return _adaptive_avg("adaptive_avg_pool1d", input, output_size, 1)


def adaptive_avg_pool2d(input, output_size):
    """Averages an input of shape (N, C, H, W) or (C, H, W) over adaptive bins giving ``output_size`` (an int or
    (H_out, W_out); None keeps that size), as ``torch.nn.functional.adaptive_avg_pool2d``."""
    return _adaptive_avg("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool3d(input, output_size):
    """Averages an input of shape (N, C, D, H, W) or (C, D, H, W) over adaptive bins giving ``output_size``, as
    ``torch.nn.functional.adaptive_avg_pool3d``."""
    return _adaptive_avg("adaptive_avg_pool3d", input, output_size, 3)


def _adaptive_max(op, input, output_size, dims, return_indices):
    """Separable: the maximum over each window's columns, then over its rows (row-major first maximum, as
    torch), as a running maximum over the window's cells (Where routes the gradient); windows shorter
    than the longest repeat their last cell (never an earlier maximum)."""
    sizes = _adaptive_sizes(op, input, output_size, dims)
    spatial = input.shape[input.ndim - dims:]
    if dims <= 2 and all(o and n % o == 0 for n, o in zip(spatial, sizes)):  # equal windows: max_pool2d
        kernel = (1,) * (2 - dims) + tuple(n // o for n, o in zip(spatial, sizes))
        x = input.reshape(*input.shape[:input.ndim - dims], *(1,) * (2 - dims), *spatial)
        res = max_pool2d(x, kernel, kernel, return_indices=return_indices)
        shape = tuple(input.shape[:input.ndim - dims]) + tuple(sizes)
        return (res[0].reshape(shape), res[1].reshape(shape)) if return_indices else res.reshape(shape)
    out, where = input, []
    for k in reversed(range(dims)):
        dim, n = input.ndim - dims + k, input.shape[input.ndim - dims + k]
        start, end = _bins(n, sizes[k])
        width = int((end - start).max()) if sizes[k] else 1
        cells = np.minimum(start[:, None] + np.arange(width), end[:, None] - 1)  # (Out, K)
        best = out.index_select(dim, _index(out, cells[:, 0]))
        arg = namespace(best._data).zeros(best.shape, dtype=np.int64)
        for q in range(1, width):  # a running maximum: the first maximum, the last nan (as torch)
            v = out.index_select(dim, _index(out, cells[:, q]))
            take = (v._data > best._data) | namespace(v._data).isnan(v._data)
            best = Where.call(Tensor._make(take), v, best)
            arg[take] = q
        out = best
        where.append((dim, cells, arg))
    if not return_indices:
        return out
    xp = namespace(input._data)
    index = None  # the flat index over the trailing dims of each output cell, built from the last dim out
    stride = 1
    for dim, cells, arg in where:  # last dim first
        pos = xp.asarray(cells)[xp.arange(cells.shape[0]).reshape((-1,) + (1,) * (input.ndim - dim - 1)), arg]
        if index is None:
            index = pos * stride
        else:  # the earlier index, read at the rows chosen now
            index = xp.take_along_axis(index, pos, axis=dim) + pos * stride
        stride *= input.shape[dim]
    return out, Tensor._make(index.astype(np.int64))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Takes the maximum of an input of shape (N, C, L) or (C, L) over ``output_size`` adaptive bins, as
    ``torch.nn.functional.adaptive_max_pool1d``; ``return_indices=True`` also returns the argmax positions."""
    return _adaptive_max("adaptive_max_pool1d", input, output_size, 1, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Takes the maximum of an input of shape (N, C, H, W) or (C, H, W) over adaptive bins giving ``output_size``,
    as ``torch.nn.functional.adaptive_max_pool2d``; ``return_indices=True`` also returns the argmax positions."""
    return _adaptive_max("adaptive_max_pool2d", input, output_size, 2, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Takes the maximum of an input of shape (N, C, D, H, W) or (C, D, H, W) over adaptive bins giving
    ``output_size``, as ``torch.nn.functional.adaptive_max_pool3d``; ``return_indices=True`` also returns the
    argmax positions."""
    return _adaptive_max("adaptive_max_pool3d", input, output_size, 3, return_indices)


# ---- padding ------------------------------------------------------------------------------------

def pad(input, pad, mode="constant", value=None):
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    k = len(pad) // 2
    if mode == "constant":
        return _constant_pad(input, pad, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k > 3 or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.")
    if 0 in input.shape[input.ndim - k - 1 + (input.ndim == k + 1):]:
        raise RuntimeError(f"pad: Expected a tensor with non-zero non-batch dimensions for {mode} padding, got "
                           f"{list(input.shape)}")
    out = input
    for i in range(k):
        dim, lo, hi = input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
        n = input.shape[dim]
        pos = np.arange(-lo, n + hi)
        if mode == "reflect":
            if lo >= n or hi >= n:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input "
                                   f"dimension, but got: padding ({lo}, {hi}) at dimension {dim} of input "
                                   f"{list(input.shape)}")
            pos = n - 1 - np.abs(n - 1 - np.abs(pos))
        elif mode == "replicate":
            pos = np.clip(pos, 0, n - 1)
        else:  # torch crops first, then wraps around what is left
            if lo > n or hi > n:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            start, stop = max(-lo, 0), n - max(-hi, 0)
            pos = start + np.arange(-max(lo, 0), stop - start + max(hi, 0)) % (stop - start)
        out = out.index_select(dim, _index(out, pos))
    return out


def _constant_pad(input, pad, value):
    out = input
    for i in range(len(pad) // 2):
        dim, lo, hi = input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
        n = out.shape[dim]
        if lo < 0 or hi < 0:
            start, stop = max(-lo, 0), n - max(-hi, 0)
            if stop - start + max(lo, 0) + max(hi, 0) < 0:
                raise RuntimeError(f"pad: the padding {tuple(pad)} makes dim {dim} of {list(input.shape)} negative")
            out = out.narrow(dim, start, max(stop - start, 0))
        parts = []
        for size in (max(lo, 0), None, max(hi, 0)):
            if size is None:
                parts.append(out)
            elif size:
                shape = list(out.shape)
                shape[dim] = size
                parts.append(out.new_full(shape, value))
        out = Cat.call(parts, dim) if len(parts) > 1 else out
    return out


__all__ = [n for n, v in list(globals().items()) if not n.startswith("_") and callable(v)
           and not isinstance(v, type) and v.__module__ == __name__] + ["conv_transpose2d"]
