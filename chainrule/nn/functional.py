"""chainrule.nn.functional: the functional form of every layer, activation and loss.

Each function validates its input (raising what torch raises) and then either composes
primitives or calls one fused op from ``chainrule.ops.nn``.
"""

import warnings

import numpy as np

from ..tensor import Tensor, tensor as _tensor
from ..ops import apply
from ..ops import nn as N, linalg as L
from ..ops.elementwise import Where
from ..ops.movement import Cat
from ..autograd.grad_mode import no_grad
from ..backend import random as _random
from ..backend import namespace


def _pair(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v}")
        return tuple(int(x) for x in v)
    return (int(v), int(v))


def _check_float(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")


# ---- linear and convolution -----------------------------------------------------------------

linear = L.Linear.call


def _conv_out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    stride, padding, dilation = _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation")
    if input.data.ndim not in (3, 4):
        raise RuntimeError(f"conv2d: Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of "
                           f"size: {list(input.shape)}")
    unbatched = input.data.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    o, cg, kh, kw = weight.data.shape
    n, c, h, w = input.data.shape
    if c != cg * groups:
        raise RuntimeError(f"conv2d: Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {cg * groups} channels, but got {c} channels instead")
    if o % groups:
        raise RuntimeError(f"conv2d: out_channels ({o}) must be divisible by groups ({groups})")
    if min(stride) <= 0 or min(dilation) <= 0 or min(padding) < 0:
        raise RuntimeError(f"conv2d: non-positive stride or dilation, or negative padding: stride={stride}, "
                           f"padding={padding}, dilation={dilation}")
    out_hw = (_conv_out(h, kh, stride[0], padding[0], dilation[0]), _conv_out(w, kw, stride[1], padding[1], dilation[1]))
    if out_hw[0] <= 0 or out_hw[1] <= 0:
        raise RuntimeError(f"conv2d: Calculated padded input size per channel: ({h + 2 * padding[0]} x "
                           f"{w + 2 * padding[1]}). Kernel size: ({dilation[0] * (kh - 1) + 1} x "
                           f"{dilation[1] * (kw - 1) + 1}). Kernel size can't be greater than actual input size")
    if input.data.dtype != weight.data.dtype:
        raise RuntimeError(f"conv2d: Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same")
    out = apply(N.Conv2d, input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                groups=groups, out_hw=out_hw)
    return out.squeeze(0) if unbatched else out


def _pool_args(input, kernel_size, stride, padding, dilation, op):
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _pair(stride, "stride")
    padding, dilation = _pair(padding, "padding"), _pair(dilation, "dilation")
    if input.data.ndim not in (3, 4):
        raise RuntimeError(f"{op}: Expected 3D or 4D (batch mode) tensor for input, got {list(input.shape)}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={padding}, "
                           f"kernel_size={kernel}")
    h, w = input.data.shape[-2:]
    out_hw = (_conv_out(h, kernel[0], stride[0], padding[0], dilation[0]),
              _conv_out(w, kernel[1], stride[1], padding[1], dilation[1]))
    if out_hw[0] <= 0 or out_hw[1] <= 0:
        raise RuntimeError(f"{op}: Given input size: {list(input.shape[-3:])}. Calculated output size: "
                           f"{[input.data.shape[-3], *out_hw]}. Output size is too small")
    return kernel, stride, padding, dilation, out_hw


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if ceil_mode or return_indices:
        raise NotImplementedError("max_pool2d: ceil_mode and return_indices are not supported")
    kernel, stride, padding, dilation, out_hw = _pool_args(input, kernel_size, stride, padding, dilation, "max_pool2d")
    unbatched = input.data.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = apply(N.MaxPool2d, x, kernel=kernel, stride=stride, padding=padding, dilation=dilation, out_hw=out_hw)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    if ceil_mode or not count_include_pad:
        raise NotImplementedError("avg_pool2d: ceil_mode and count_include_pad=False are not supported")
    kernel, stride, padding, _, out_hw = _pool_args(input, kernel_size, stride, padding, 1, "avg_pool2d")
    unbatched = input.data.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = apply(N.AvgPool2d, x, kernel=kernel, stride=stride, padding=padding, out_hw=out_hw)
    return out.squeeze(0) if unbatched else out


# ---- activations ------------------------------------------------------------------------------

def relu(input, inplace=False):
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def softmax(input, dim=None, dtype=None):
    return input.softmax(_default_dim(input, dim), dtype=dtype)


def log_softmax(input, dim=None, dtype=None):
    return input.log_softmax(_default_dim(input, dim), dtype=dtype)


def _default_dim(input, dim):
    if dim is None:  # torch's legacy implicit choice
        return 0 if input.data.ndim in (0, 1, 3) else 1
    return dim


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_float(input, "leaky_relu")
    return apply(N.LeakyRelu, input, slope=float(negative_slope))


def elu(input, alpha=1.0, inplace=False):
    _check_float(input, "elu")
    return apply(N.Elu, input, alpha=float(alpha))


def gelu(input, approximate="none"):
    _check_float(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    return apply(N.Gelu, input, approximate=approximate)


def prelu(input, weight):
    _check_float(input, "prelu")
    c = weight.data.size
    if c != 1 and (input.data.ndim < 2 or input.data.shape[1] != c):
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{c} and channel size = {input.data.shape[1] if input.data.ndim > 1 else 1}.")
    w = weight.reshape((1, c) + (1,) * (input.data.ndim - 2)) if c != 1 else weight.reshape(())
    return Where.call(input > 0, input, w * input)


def softplus(input, beta=1.0, threshold=20.0):
    scaled = input * beta
    soft = (1 + (-scaled.abs()).exp()).log() / beta + input.relu()
    return Where.call(scaled > threshold, input, soft)


def dropout(input, p=0.5, training=True, inplace=False):
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = _random.uniform_array(input.data.shape, 0.0, 1.0, input.data.dtype, input.device) >= p
    mask = keep.astype(input.data.dtype) * (1.0 / (1 - p))
    return input * Tensor._make(mask.astype(input.data.dtype, copy=False))


def embedding(input, weight, padding_idx=None):
    if input.data.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {input.dtype} instead")
    n = weight.data.shape[0]
    if input.data.size and (int(input.data.min()) < 0 or int(input.data.max()) >= n):
        bad = int(input.data.max()) if int(input.data.max()) >= n else int(input.data.min())
        raise IndexError(f"embedding: index {bad} is out of range for an embedding table of {n} rows")
    if padding_idx is None:
        return weight[input]
    # the padding row is looked up like any other but receives no gradient, as in torch
    keep = Tensor._make(input.data != (padding_idx % n))
    return Where.call(keep.unsqueeze(-1), weight[input], weight.detach()[input])


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if input.data.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.data.ndim}D input)")
    c = input.data.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.data.shape != (c,):
            raise RuntimeError(f"batch_norm: {name} should contain {c} elements not {t.data.size}")
    if training:
        per_channel = input.data.size // c
        if per_channel <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(input.shape)}")
        stats = []
        out = apply(N.BatchNorm, input, weight, bias, mean=None, var=None, eps=eps, training=True,
                    batch_stats=stats)
        if running_mean is not None:
            mean, var = stats[0]
            with no_grad():
                running_mean.data *= 1 - momentum
                running_mean.data += momentum * mean
                running_var.data *= 1 - momentum
                running_var.data += momentum * var * (per_channel / (per_channel - 1))
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in evaluation mode")
    return apply(N.BatchNorm, input, weight, bias, mean=running_mean.data, var=running_var.data, eps=eps,
                 training=False)


# ---- losses -------------------------------------------------------------------------------------

def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction} is not a valid value for reduction")


def _same_shape(input, target, op):
    if input.shape != target.shape:
        raise ValueError(f"{op}: Using a target size ({list(target.shape)}) that is different to the input size "
                         f"({list(input.shape)}) is not supported. Please ensure they have the same size.")


def _broadcast_target(input, target, op):
    """torch's regression losses warn on a shape mismatch, then broadcast (RuntimeError if they can't)."""
    if input.shape == target.shape:
        return
    warnings.warn(f"{op}: Using a target size ({list(target.shape)}) that is different to the input size "
                  f"({list(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                  f"Please ensure they have the same size.", UserWarning, stacklevel=3)
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        raise RuntimeError(f"{op}: the size of input {list(input.shape)} must match the size of target "
                           f"{list(target.shape)} (or broadcast with it)") from None


def mse_loss(input, target, reduction="mean"):
    _broadcast_target(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    _broadcast_target(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    _same_shape(input, target, "binary_cross_entropy")
    data = input.data
    if data.size and (float(data.min()) < 0 or float(data.max()) > 1 or bool(np.isnan(np.asarray(data.sum())))):
        raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 and 1 (got values in "
                           f"[{float(data.min())}, {float(data.max())}])")
    loss = apply(N.BinaryCrossEntropy, input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    # max(x, 0) - x y + log(1 + e^-|x|): no exp of a large positive number, ever
    softplus_neg = (1 + (-input.abs()).exp()).log()
    if pos_weight is None:
        loss = input.relu() - input * target + softplus_neg
    else:
        log_weight = 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + log_weight * (softplus_neg + (-input).relu())
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _class_targets(input, target, op):
    """Validate class-index targets; return logits as (M, C) and targets as a flat int array."""
    if target.data.dtype.kind not in "iu":
        if target.data.dtype.kind == "f" and target.shape == input.shape:
            raise NotImplementedError(f"{op}: class-probability targets are not supported; pass class indices")
        raise RuntimeError(f"{op}: expected target of integer (Long) dtype for class indices, got {target.dtype}")
    if input.data.ndim == 1:
        input = input.unsqueeze(0)
        target = target.reshape(1)
    if input.data.ndim < 2:
        raise ValueError(f"{op}: Expected input of at least 1 dimension, got {input.data.ndim}")
    n, c = input.data.shape[:2]
    expected = (n,) + input.data.shape[2:]
    if target.data.shape != expected:
        raise ValueError(f"{op}: Expected target size {list(expected)}, got {list(target.shape)} "
                         f"(input size {list(input.shape)})")
    if input.data.ndim > 2:  # (N, C, d1, ...) -> (N*d1*..., C)
        input = input.permute((0,) + tuple(range(2, input.data.ndim)) + (1,)).reshape(-1, c)
    return input, target.data.reshape(-1), c


def _coefficients(xp, t, c, weight, ignore_index, label_smoothing, reduction, dtype, op):
    valid = t != ignore_index
    tv = xp.where(valid, t, 0)
    if t.size and (int(tv.min()) < 0 or int(tv.max()) >= c):
        bad = int(tv.max()) if int(tv.max()) >= c else int(tv.min())
        raise IndexError(f"{op}: Target {bad} is out of bounds (number of classes: {c})")
    m = t.shape[0]
    w = xp.ones(c, dtype=dtype) if weight is None else weight.astype(dtype, copy=False)
    wt = w[tv] * valid
    coef = xp.zeros((m, c), dtype=dtype)
    coef[xp.arange(m), tv] = wt * (1 - label_smoothing)
    if label_smoothing:
        coef += (label_smoothing / c) * w[None, :] * valid[:, None]
    if reduction == "mean":
        denom = wt.sum()
        coef /= denom if denom != 0 else xp.nan
    return coef


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    _check_float(input, "cross_entropy")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: {reduction} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    shape = target.shape
    x, t, c = _class_targets(input, target, "cross_entropy")
    if weight is not None and weight.data.shape != (c,):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    xp = _ns(x)
    coef = _coefficients(xp, t, c, None if weight is None else weight.data, ignore_index, label_smoothing,
                         reduction, x.data.dtype, "cross_entropy")
    losses = apply(N.SoftmaxCrossEntropy, x, Tensor._make(coef))
    if reduction == "none":
        return losses.reshape(shape if input.data.ndim > 1 else ())
    return losses.sum()


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    _check_float(input, "nll_loss")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"nll_loss: {reduction} is not a valid value for reduction")
    shape = target.shape
    x, t, c = _class_targets(input, target, "nll_loss")
    xp = _ns(x)
    coef = _coefficients(xp, t, c, None if weight is None else weight.data, ignore_index, 0.0, reduction,
                         x.data.dtype, "nll_loss")
    losses = -(x * Tensor._make(coef)).sum(1)
    if reduction == "none":
        return losses.reshape(shape if input.data.ndim > 1 else ())
    return losses.sum()


def _ns(t):
    return namespace(t.data)


def one_hot(tensor, num_classes=-1):
    n = int(tensor.data.max()) + 1 if num_classes < 0 else num_classes
    xp = _ns(tensor)
    return Tensor._make((tensor.data[..., None] == xp.arange(n)).astype(np.int64))


def pad(input, pad, mode="constant", value=0.0):
    if mode != "constant" or len(pad) % 2:
        raise NotImplementedError("pad: only constant padding with pairs of sizes is supported")
    out = input
    for i in range(len(pad) // 2):
        dim = input.data.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        parts = []
        if lo:
            shape = list(out.shape)
            shape[dim] = lo
            parts.append(_tensor(np.full(shape, value), dtype=out.dtype, device=out.device))
        parts.append(out)
        if hi:
            shape = list(out.shape)
            shape[dim] = hi
            parts.append(_tensor(np.full(shape, value), dtype=out.dtype, device=out.device))
        if len(parts) > 1:
            out = Cat.call(parts, dim)
    return out


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("np", "Tensor", "apply", "N", "L",
                                                                      "no_grad", "namespace")]
