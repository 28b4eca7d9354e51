"""chainrule.nn.functional: the functional form of every layer, activation and loss.

A function that is one fused op is that op's public entry (``conv2d = Conv2d.call``, from
``chainrule.ops.nn``: the op checks its arguments, raising what torch raises). The others validate
their input the same way and compose primitives (or wrap one op: batch_norm's running statistics,
binary_cross_entropy's weight and reduction).
"""

import math
import warnings

import numpy as np

from ..tensor import Tensor, tensor as _tensor
from ..ops.linalg import Linear
# _pair is nn.layers' too (F._pair); the other helpers are the checks these compositions share with ops
from ..ops.nn import LayerNorm
from ..ops.nn import AvgPool2d, BatchNorm, Conv2d, MaxPool2d, check_float as _check_float, pair as _pair  # noqa: F401
from ..ops.elementwise import Where
from ..ops.reduce import Softmax
from ..ops.registry import apply as _apply
from ..ops.movement import Cat
from ..autograd.grad_mode import no_grad
from ..backend import random as _random
from ..backend import namespace


# ---- linear, convolution and pooling: one op each ---------------------------------------------

def linear(input, weight, bias=None):
    out = Linear.call(input, weight, bias)
    if out._node is not None and input.ndim >= 2:
        _shown_as_torch(out._node, input, weight, bias)
    return out


linear.__doc__ = Linear.call.__doc__


def _shown_as_torch(node, input, weight, bias):
    """linear's grad_fn as torch's graph shows it (its name and next_functions; chainrule runs one op):
    AddmmBackward0 over (bias, input, TBackward0(weight)), MmBackward0 over (input, TBackward0(weight))
    without a bias, under a ViewBackward0 (UnsafeViewBackward0) that reads the input's rows through a
    ViewBackward0 when it has more than two dims."""
    name = "AddmmBackward0" if bias is not None else "MmBackward0"

    def through(label, t):  # torch's view of t: none where t needs no gradient
        return _ShownNode(label, t) if t.requires_grad else t
    edges = ((bias,) if bias is not None else ()) + (input if input.ndim == 2 else through("ViewBackward0", input),
                                                     through("TBackward0", weight))
    if input.ndim == 2:
        node.label, node.shown = name, tuple(_edge(t) for t in edges)
    else:
        node.label = "ViewBackward0" if bias is not None else "UnsafeViewBackward0"
        node.shown = (_ShownNode(name, *edges),)


conv2d = Conv2d.call
max_pool2d = MaxPool2d.call
avg_pool2d = AvgPool2d.call
conv2d.__doc__ = """Applies a 2-D convolution over an (N, C_in, H, W) input, as ``torch.nn.functional.conv2d``.

Parameters
----------
input : Tensor
    Shape (N, C_in, H_in, W_in) or (C_in, H_in, W_in).
weight : Tensor
    Filters of shape (C_out, C_in / groups, kH, kW).
bias : Tensor, optional
    Shape (C_out,).
stride : int or tuple of 2 ints, default 1
    Stride of the convolving kernel.
padding : int, tuple of 2 ints or str, default 0
    Zeros added to both sides of each spatial dim, or ``'valid'`` (none) or ``'same'``.
dilation : int or tuple of 2 ints, default 1
    Spacing between kernel elements.
groups : int, default 1
    Splits the input channels into groups; C_in and C_out are divisible by it.

Returns
-------
Tensor
    Shape (N, C_out, H_out, W_out) or (C_out, H_out, W_out), H_out = floor((H_in + 2 padding[0] -
    dilation[0] (kH - 1) - 1) / stride[0] + 1), W_out likewise.

Examples
--------
>>> F.conv2d(cr.randn(1, 4, 5, 5), cr.randn(8, 4, 3, 3), padding=1).shape
chainrule.Size([1, 8, 5, 5])
"""
avg_pool2d.__doc__ = """Applies 2-D average pooling over an (N, C, H, W) input, as ``torch.nn.functional.avg_pool2d``.

Parameters
----------
input : Tensor
    Shape (N, C, H_in, W_in) or (C, H_in, W_in).
kernel_size : int or tuple of 2 ints
    Size of the pooling window.
stride : int or tuple of 2 ints, optional
    Stride of the window; defaults to ``kernel_size``.
padding : int or tuple of 2 ints, default 0
    Implicit zero padding on both sides.
ceil_mode : bool, default False
    If True, uses ceil instead of floor to compute the output shape.
count_include_pad : bool, default True
    If True, the zero padding counts in the averaging divisor.
divisor_override : int, optional
    If given, the divisor instead of the window size.

Returns
-------
Tensor
    Shape (N, C, H_out, W_out) or (C, H_out, W_out), as ``nn.AvgPool2d``.

Examples
--------
>>> F.avg_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2)
tensor([[[[ 2.5000,  4.5000],
          [10.5000, 12.5000]]]])
"""


# ---- activations: chainrule/nn/functional_activation.py ---------------------------------------------
from .functional_activation import _in_place  # the dropouts below take inplace=True too
from .functional_activation import (  # noqa: E402,F401
    relu, sigmoid, tanh, softmax, log_softmax, leaky_relu, elu, gelu,
    prelu, softplus, silu, mish, hardtanh, relu6, hardsigmoid, hardswish,
    softsign, softmin, logsigmoid, selu, celu, glu, tanhshrink, threshold,
    hardshrink, softshrink, rrelu)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """input / max(||input||_p over dim, eps)."""
    return input / input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)


@_in_place
def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` and scales the rest by 1 / (1 - p) when ``training``, as
    ``torch.nn.functional.dropout``.

    Returns the input unchanged when not training or ``p`` is 0."""
    return _dropout(input, p, training, tuple(input.shape))


def _dropout(input, p, training, mask_shape, alpha=False):
    """Zero entries with probability p (one draw per entry of ``mask_shape``, broadcast over the
    rest) and scale the kept ones by 1 / (1 - p); ``alpha``: SELU-preserving dropout (torch's
    formula: dropped entries go to -alpha', then mean and variance are restored)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    dtype = input._data.dtype
    keep = (_random.uniform_array(mask_shape, 0.0, 1.0, dtype, input.device) >= p).astype(dtype)
    if not alpha:
        return input * Tensor._make((keep * (1.0 / (1 - p))).astype(dtype, copy=False))
    a_ = 1.7580993408473766
    a = 1.0 / ((a_ * a_ * p + 1) * (1 - p)) ** 0.5
    shift = (keep - 1) * (a_ * a) + a_ * a * p
    return input * Tensor._make((keep * a).astype(dtype)) + Tensor._make(shift.astype(dtype))


def _feature_dropout(input, p, training, batched):
    """Zero whole channels: one draw per (sample, channel) (per channel when not ``batched``),
    broadcast over the feature dims."""
    lead = min(2 if batched else 1, input.ndim)
    return _dropout(input, p, training, tuple(input.shape[:lead]) + (1,) * (input.ndim - lead))


@_in_place
def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of a (N, C, L) or (C, L) input with probability ``p`` (scaling the rest by 1 / (1 -
    p)), as ``torch.nn.functional.dropout1d``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, input.ndim == 3)


@_in_place
def dropout2d(input, p=0.5, training=True, inplace=False):
    """As torch: a 3-D input is read as (N, C, L) (channel-wise 1-d dropout), other ranks than 3 and
    4 are deprecated (a warning) and drop per (dim 0, dim 1) entry."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim.",
                      stacklevel=2)
    return _feature_dropout(input, p, training, True)


@_in_place
def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of a (N, C, D, H, W) or (C, D, H, W) input with probability ``p`` (scaling the rest
    by 1 / (1 - p)), as ``torch.nn.functional.dropout3d``."""
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout on "
                      "inputs with 3 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, input.ndim == 5)


@_in_place
def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Applies alpha dropout, which keeps the zero mean and unit variance of SELU activations, as
    ``torch.nn.functional.alpha_dropout``.

    Dropped elements are set to the SELU saturation value, then an affine map restores mean and variance.
    Identity unless ``training``."""
    return _dropout(input, p, training, tuple(input.shape), alpha=True)


@_in_place
def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Applies alpha dropout to whole channels (one draw per sample and channel), as
    ``torch.nn.functional.feature_alpha_dropout``."""
    return _dropout(input, p, training, tuple(input.shape[:2]) + (1,) * (input.ndim - 2), alpha=True)


def bilinear(input1, input2, weight, bias=None):
    """out[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    o, i, j = weight.shape if weight.ndim == 3 else (None, None, None)
    if weight.ndim != 3 or input1.shape[-1] != i or input2.shape[-1] != j or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input1 {list(input1.shape)}, input2 {list(input2.shape)} and weight "
                           f"{list(weight.shape)} do not fit (weight must be (out, in1, in2), inputs (..., in1) and "
                           "(..., in2) with the same leading dims)")
    left = (input1 @ weight.permute(1, 0, 2).reshape(i, o * j)).reshape(tuple(input1.shape[:-1]) + (o, j))
    out = (left * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Looks up rows of ``weight`` (num_embeddings, embedding_dim) at the integer indices ``input``, as
    ``torch.nn.functional.embedding``.

    The output has shape input.shape + (embedding_dim,). Rows at ``padding_idx`` get no gradient; with
    ``max_norm`` the looked-up rows of ``weight`` are renormalised in place to at most that ``norm_type`` norm."""
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {input.dtype} instead")
    if sparse:
        raise NotImplementedError("embedding: chainrule has no sparse gradients; use sparse=False (dense gradients "
                                  "work with every optimizer)")
    n = weight._data.shape[0]
    if input._data.size and (int(input._data.min()) < 0 or int(input._data.max()) >= n):
        bad = int(input._data.max()) if int(input._data.max()) >= n else int(input._data.min())
        raise IndexError(f"embedding: index {bad} is out of range for an embedding table of {n} rows")
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    rows = weight[input]
    if scale_grad_by_freq:   # each row's gradient divided by its count in the batch; the values unchanged
        xp = namespace(input._data)
        counts = xp.bincount(input._data.reshape(-1), minlength=n)[input._data]
        scale = Tensor._make((1.0 / counts).astype(weight._data.dtype)[..., None])
        rows = rows * scale + (rows * (1 - scale)).detach()
    if padding_idx is not None:  # the padding row is looked up like any other but receives no gradient, as torch
        keep = Tensor._make(input._data != (padding_idx % n))
        rows = Where.call(keep.unsqueeze(-1), rows, weight.detach()[input])
    if rows._node is not None:
        rows._node.label = "EmbeddingBackward0"  # one op in torch
    return rows


def _renorm_rows(weight, input, max_norm, norm_type):
    """torch's embedding_renorm_: rows looked up whose norm exceeds max_norm are scaled to it, in place."""
    xp = namespace(weight._data)
    idx = xp.unique(input._data.reshape(-1))
    rows = weight._data[idx]
    norms = xp.sum(xp.abs(rows) ** norm_type, axis=-1) ** (1.0 / norm_type)
    big = norms > max_norm
    weight._data[idx[big]] = rows[big] * (max_norm / (norms[big] + 1e-7))[:, None]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Bags of embeddings reduced by sum, mean or max: input (B, N) is B bags of N; a 1-D input with
    ``offsets`` holds bags of varying length. Rows at padding_idx are left out of every bag."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    xp = namespace(input._data)
    idx = input._data
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences.")
        present = xp.ones(idx.shape, dtype=bool)
        w = None if per_sample_weights is None else per_sample_weights
    elif idx.ndim == 1:
        if offsets is None or offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor but got null" if offsets is None else
                             f"offsets has to be a 1D Tensor, but got Tensor of dimension {offsets.ndim}")
        starts = offsets._data.astype(np.int64)
        ends = xp.concatenate([starts[1:], xp.asarray([idx.shape[0]], dtype=np.int64)])
        if include_last_offset:
            starts, ends = starts[:-1], ends[:-1]
        if starts.size and (int(starts[0]) != 0 or bool((ends < starts).any())):
            raise ValueError("embedding_bag: offsets must start at 0 and be non-decreasing")
        length = int((ends - starts).max()) if starts.size else 0
        pos = starts[:, None] + xp.arange(length)[None, :]
        present = pos < ends[:, None]
        pos = xp.where(present, pos, 0)
        idx = idx[pos] if idx.size else xp.zeros(pos.shape, dtype=idx.dtype)
        w = None if per_sample_weights is None else per_sample_weights[Tensor._make(pos)]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if padding_idx is not None:
        present = present & (idx != padding_idx % weight.shape[0])
    rows = embedding(Tensor._make(idx), weight, None, max_norm, norm_type, scale_grad_by_freq, sparse)
    mask = Tensor._make(present[..., None])
    if mode == "max":
        filled = Where.call(mask, rows, float("-inf")).amax(1)
        return Where.call(Tensor._make(present.any(1)[:, None]), filled, 0.0)
    if w is not None:
        rows = rows * w.unsqueeze(-1)
    summed = Where.call(mask, rows, 0.0).sum(1)
    if mode == "sum":
        return summed
    count = Tensor._make(xp.maximum(present.sum(1), 1)[:, None].astype(weight._data.dtype))
    return summed / count


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalises over every dim but the channel dim 1, as ``torch.nn.functional.batch_norm``: (x - mean) /
    sqrt(var + eps) weight + bias.

    When ``training``, the batch statistics are used and the running ones are updated in place: running = (1 -
    momentum) running + momentum batch_stat (the unbiased variance); otherwise the running statistics are used."""
    if not training or running_mean is None:
        return BatchNorm.call(input, running_mean, running_var, weight, bias, training, eps)
    stats = []
    out = BatchNorm.call(input, running_mean, running_var, weight, bias, True, eps, stats)
    if not stats:  # an empty batch: no statistics to update the running ones with (torch leaves them)
        return out
    mean, var, per_channel = stats[0]
    with no_grad():
        running_mean._data *= 1 - momentum
        running_mean._data += momentum * mean
        running_var._data *= 1 - momentum
        running_var._data += momentum * var * (per_channel / (per_channel - 1))
    return out


# ---- losses and distances: chainrule/nn/functional_losses.py ------------------------------------------

from .functional_losses import _ShownNode, _edge  # noqa: E402 (linear's shown graph)
from .functional_losses import (  # noqa: E402 (kept beside the other sections)
    l1_loss, mse_loss, smooth_l1_loss, huber_loss, kl_div, poisson_nll_loss, gaussian_nll_loss, binary_cross_entropy,
    binary_cross_entropy_with_logits, cross_entropy, nll_loss, ctc_loss, cosine_similarity, pairwise_distance, pdist,
    cosine_embedding_loss, margin_ranking_loss, hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss,
    multilabel_margin_loss, multi_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss,
    linear_cross_entropy)


def _ns(t):
    return namespace(t._data)


def one_hot(tensor, num_classes=-1):
    """Returns the int64 one-hot encoding of an int64 index tensor, of shape input.shape + (num_classes,), as
    ``torch.nn.functional.one_hot``.

    With ``num_classes=-1`` the number of classes is the largest index plus one."""
    if tensor._data.dtype != np.int64:
        raise RuntimeError(f"one_hot: is only applicable to index tensor of type LongTensor, got {tensor.dtype}")
    if not tensor._data.size:
        if num_classes <= 0:
            raise RuntimeError(f"one_hot: Can not infer total number of classes from empty tensor (shape "
                               f"{list(tensor.shape)}, num_classes={num_classes})")
        n = num_classes
    else:
        lo, hi = int(tensor._data.min()), int(tensor._data.max())
        if lo < 0:
            raise RuntimeError(f"one_hot: Class values must be non-negative, got {lo}")
        n = hi + 1 if num_classes == -1 else num_classes
        if hi >= n:
            raise RuntimeError(f"one_hot: Class values must be smaller than num_classes, got {hi} "
                               f"(num_classes={num_classes})")
    xp = _ns(tensor)
    return Tensor._make((tensor._data[..., None] == xp.arange(n)).astype(np.int64))


def pad(input, pad, mode="constant", value=None):
    """Pads the last dims of ``input``, as ``torch.nn.functional.pad``.

    ``pad`` lists (left, right) amounts starting from the last dim, e.g. (1, 1, 2, 0) pads the last dim by 1 on
    each side and the one before by 2 on top; negative amounts crop. ``mode`` is ``'constant'`` (with
    ``value``, default 0), ``'reflect'``, ``'replicate'`` or ``'circular'``."""
    if mode != "constant" or len(pad) % 2 or len(pad) > 2 * input.ndim or min(pad, default=0) < 0:
        return _pad_modes(input, pad, mode, value)  # reflect/replicate/circular, cropping, errors
    value = 0.0 if value is None else value
    out = input
    for i in range(len(pad) // 2):
        dim = input._data.ndim - 1 - i
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
    """Flattens dims ``start_dim`` to ``end_dim`` into one, as ``torch.flatten``."""
    return input.flatten(start_dim, end_dim)


# the functions: not the op classes and modules imported above
__all__ = [n for n, v in list(globals().items()) if not n.startswith("_") and not isinstance(v, (type, type(np)))
           and n != "namespace"]


# ---- normalisation beyond batch norm: compositions (instance norm reuses batch norm on (1, N*C, ...),
# as torch does) ----------------------------------------------------------------------------------

layer_norm = LayerNorm.call


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the last dims) + eps) * weight; eps defaults to the dtype's machine epsilon."""
    if not isinstance(normalized_shape, (tuple, list)) or not all(isinstance(d, int) for d in normalized_shape):
        raise TypeError(f"rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    shape = tuple(normalized_shape)
    if not shape or tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: Expected weight to be of same shape as normalized_shape, but got weight of "
                           f"shape {list(weight.shape)} and normalized_shape = {list(shape)}")
    _check_float(input, "rms_norm")
    eps = float(np.finfo(input._data.dtype).eps) if eps is None else eps
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected at least 2D input (N, C, ...), got {input.ndim}D")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"group_norm: expected {name} of shape [{c}], got {list(t.shape)}")
    grouped = input.reshape(n, num_groups, -1)
    mean = grouped.mean(-1, keepdim=True)
    centred = grouped - mean
    var = (centred * centred).mean(-1, keepdim=True)
    out = (centred * (var + eps).rsqrt()).reshape(input.shape)
    per_channel = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input with spatial dims (N, C, ...), got shape {list(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if use_input_stats and input.numel() // (n * c) <= 1 and n * c:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {list(input.shape)}")
    folded = input.reshape((1, n * c) + tuple(input.shape[2:]))
    rm = None if running_mean is None else running_mean.repeat(n)
    rv = None if running_var is None else running_var.repeat(n)
    out = batch_norm(folded, rm, rv, None if weight is None else weight.repeat(n),
                       None if bias is None else bias.repeat(n), use_input_stats, momentum, eps)
    if use_input_stats and running_mean is not None:   # fold the per-instance statistics back
        running_mean._data[...] = rm._data.reshape(n, c).mean(0)
        running_var._data[...] = rv._data.reshape(n, c).mean(0)
    return out.reshape(input.shape)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha/size * sum of x^2 over `size` neighbouring channels)^beta."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    n, c = input.shape[0], input.shape[1]
    sq = (input * input).reshape(n, 1, c, -1)
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(sq, (size, 1), stride=1).reshape(input.shape)
    return input / (div * alpha + k) ** beta


# ---- attention: compositions of matmul, softmax and dropout (torch's math path) ---------------------

def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + bias) v over the last two dims; a bool attn_mask marks the allowed
    pairs (True = attend), a float one is added; is_causal masks the upper triangle."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must be at least 2-D, got shape "
                               f"{list(t.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {list(query.shape)}, key {list(key.shape)} and "
                           f"value {list(value.shape)} do not fit (query/key share the last dim, key/value the "
                           "sequence dim)")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk:
            raise RuntimeError(f"scaled_dot_product_attention: number of heads in key/value ({hk}) must divide the "
                               f"query's ({hq}) for grouped-query attention")
        key, value = (_repeat_heads(t, hq // hk) for t in (key, value))
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query * scale) @ key.transpose(-2, -1)   # scaling q (L x E) is cheaper than the scores (L x S)
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            scores = Where.call(attn_mask, scores, float("-inf"))
        else:
            scores = scores + attn_mask
    # is_causal: the mask (row r sees columns <= r) is applied inside the softmax op, no mask array
    weights = _apply(Softmax, scores, axis=scores.ndim - 1, causal=True) if is_causal else scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def _repeat_heads(t, n):
    """(..., H, S, E) -> (..., H n, S, E), each head repeated n times in place (repeat_interleave on dim -3)."""
    shape = tuple(t.shape)
    return t.unsqueeze(-3).expand(shape[:-3] + (shape[-3], n) + shape[-2:]).reshape(
        shape[:-3] + (shape[-3] * n,) + shape[-2:])


def _canonical_mask(mask, name, dtype):
    """MHA's masks as float: a bool mask's True entries (not allowed) become -inf."""
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        xp = namespace(mask._data)
        return Tensor._make(xp.where(mask._data, -xp.inf, 0.0).astype(dtype))
    if mask._data.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """torch's multi-head attention on (L, N, E) query and (S, N, E) key/value (or unbatched (L, E))."""
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query, "
                             f"{key.ndim}-D key and {value.ndim}-D value")
    batched = query.ndim == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query._data.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None   # the causal mask is applied from the hint
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query._data.dtype)
        is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k), linear(value, v_proj_weight, b_v)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        w_q, w_k, w_v = in_proj_weight.chunk(3)
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
    if bias_k is not None and bias_v is not None:
        k = Cat.call([k, bias_k.expand(1, bsz, embed_dim)])
        v = Cat.call([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must both be set or both be None")
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v)
    if add_zero_attn:
        zeros = Tensor._make(namespace(k._data).zeros((bsz * num_heads, 1, head_dim), k._data.dtype))
        k, v = Cat.call([k, zeros], 1), Cat.call([v, zeros], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len).reshape(
            bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    weights = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
    if attn_mask is not None:
        weights = weights + attn_mask
    weights = _apply(Softmax, weights, axis=2, causal=True) if is_causal else weights.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    out = (weights @ v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(1)
    return (out, weights) if batched else (out.squeeze(1), weights.squeeze(0))


def _self_attention_rows(x, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, attn_mask,
                         is_causal, dropout_p):
    """multi_head_attention_forward's result for batch-first self-attention (query = key = value,
    (N, L, E)) without weights: each projection is one GEMM over the N L rows, the heads are strided
    views of those rows (no transposed copies of the input), the rest is scaled_dot_product_attention.
    ``attn_mask``: None or (L, L) float (added); ``is_causal``: masked inside the softmax."""
    n, length, e = x.shape
    head_dim = e // num_heads
    rows = x.reshape(n * length, e)
    w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    q, k, v = (linear(rows, w, b).reshape(n, length, num_heads, head_dim).permute(0, 2, 1, 3)
               for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v)))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = linear(out.permute(0, 2, 1, 3).reshape(n * length, e), out_proj_weight, out_proj_bias)
    return out.reshape(n, length, e)


# ---- convolution, pooling, resampling and padding beyond the 2-d ops (functional_conv.py) -------
from .functional_conv import (  # noqa: E402
    conv1d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, unfold, fold, max_pool1d, avg_pool1d,
    max_pool2d, max_unpool2d, lp_pool1d, lp_pool2d, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
    adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d, max_unpool1d, pad as _pad_modes)
from .functional_resample import (  # noqa: E402
    pixel_shuffle, pixel_unshuffle, interpolate, upsample, upsample_nearest, upsample_bilinear, affine_grid, grid_sample)
from . import functional_conv as _functional_conv, functional_resample as _functional_resample  # noqa: E402
__all__ += [n for n in _functional_conv.__all__ + _functional_resample.__all__ if n not in __all__ and n != "pad"]
