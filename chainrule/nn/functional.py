"""chainrule.nn.functional: the functional form of every layer, activation and loss.

A function that is one fused op is that op's public entry (``conv2d = Conv2d.call``, from
``chainrule.ops.nn``: the op checks its arguments, raising what torch raises). The others validate
their input the same way and compose primitives (or wrap one op: batch_norm's running statistics,
binary_cross_entropy's weight and reduction).
"""

import numpy as np

from ..tensor import Tensor, tensor as _tensor
from ..ops.linalg import Linear
# _pair is nn.layers' too (F._pair); the other helpers are the checks these compositions share with ops
from ..ops.nn import (AvgPool2d, BatchNorm, Conv2d, Elu, Gelu, LeakyRelu, MaxPool2d, check_float as _check_float,
                      pair as _pair)
from ..ops.elementwise import Where
from ..ops.movement import Cat
from ..autograd.grad_mode import no_grad
from ..backend import random as _random
from ..backend import namespace
from .functional_losses import _log1p_exp


# ---- linear, convolution and pooling: one op each ---------------------------------------------

linear = Linear.call
conv2d = Conv2d.call
max_pool2d = MaxPool2d.call
avg_pool2d = AvgPool2d.call


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
        return 0 if input._data.ndim in (0, 1, 3) else 1
    return dim


leaky_relu = LeakyRelu.call
elu = Elu.call
gelu = Gelu.call


def prelu(input, weight):
    _check_float(input, "prelu")
    c = weight._data.size
    if c != 1 and (input._data.ndim < 2 or input._data.shape[1] != c):
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{c} and channel size = {input._data.shape[1] if input._data.ndim > 1 else 1}.")
    w = weight.reshape((1, c) + (1,) * (input._data.ndim - 2)) if c != 1 else weight.reshape(())
    return Where.call(input > 0, input, w * input)


def softplus(input, beta=1.0, threshold=20.0):
    scaled = input * beta
    return Where.call(scaled > threshold, input, _log1p_exp(scaled) / beta)


def silu(input, inplace=False):
    return input * input.sigmoid()


def mish(input, inplace=False):
    return input * softplus(input).tanh()


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val) whose gradient, as torch's, is 0 at the bounds themselves."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    inside = (input > min_val) & (input < max_val)
    return Where.call(inside, input, input.detach().clamp(min_val, max_val))


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    return hardtanh(input + 3, 0.0, 6.0) / 6


def hardswish(input, inplace=False):
    return input * hardtanh(input + 3, 0.0, 6.0) / 6


def softsign(input):
    return input / (input.abs() + 1)


def softmin(input, dim=None, dtype=None):
    return (-input).softmax(_default_dim(input, dim), dtype=dtype)


def logsigmoid(input):
    return -_log1p_exp(-input)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu with alpha=0")
    return elu(input / alpha, 1.0) * alpha


def glu(input, dim=-1):
    if input._data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input._data.ndim if -input._data.ndim <= dim < input._data.ndim else dim
    if not isinstance(d, int) or not 0 <= d < input._data.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input._data.ndim}, "
                         f"{input._data.ndim - 1}], but got {dim})")
    n = input._data.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * b.sigmoid()


def tanhshrink(input):
    return input - input.tanh()


def threshold(input, threshold, value, inplace=False):
    return Where.call(input > threshold, input, value)


def hardshrink(input, lambd=0.5):
    return Where.call((input > lambd) | (input < -lambd), input, 0.0)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return Where.call(input > lambd, input - lambd, Where.call(input < -lambd, input + lambd, 0.0))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with slope (lower + upper) / 2 in eval; in training a uniform random slope per element."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    slope = _random.uniform_array(input._data.shape, lower, upper, input._data.dtype, input.device)
    return Where.call(input >= 0, input, input * Tensor._make(slope.astype(input._data.dtype, copy=False)))


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """input / max(||input||_p over dim, eps)."""
    return input / input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)


def dropout(input, p=0.5, training=True, inplace=False):
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = _random.uniform_array(input._data.shape, 0.0, 1.0, input._data.dtype, input.device) >= p
    mask = keep.astype(input._data.dtype) * (1.0 / (1 - p))
    return input * Tensor._make(mask.astype(input._data.dtype, copy=False))


def _feature_dropout(input, p, training, name, ranks):
    """Zero whole channels: one draw per (sample, channel), broadcast over the feature dims."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in ranks:
        raise RuntimeError(f"{name}: Expected {ranks[0]}D or {ranks[1]}D input, but received a {input.ndim}D input")
    if not training or p == 0:
        return input
    batched = input.ndim == ranks[1]
    shape = tuple(input.shape[:2 if batched else 1]) + (1,) * (input.ndim - (2 if batched else 1))
    keep = _random.uniform_array(shape, 0.0, 1.0, input._data.dtype, input.device) >= p
    scale = keep.astype(input._data.dtype) * (1.0 / (1 - p) if p < 1 else 0.0)
    return input * Tensor._make(scale.astype(input._data.dtype, copy=False))


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, "dropout1d", (2, 3))


def dropout2d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, "dropout2d", (3, 4))


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, "dropout3d", (4, 5))


def _alpha_dropout(input, p, training, feature):
    """SELU-preserving dropout (torch's formula): dropped entries go to -alpha' and everything is
    rescaled so that mean and variance stay those of the input."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else tuple(input.shape)
    keep = (_random.uniform_array(shape, 0.0, 1.0, input._data.dtype, input.device) >= p).astype(input._data.dtype)
    alpha = 1.7580993408473766
    a = 1.0 / ((alpha * alpha * p + 1) * (1 - p)) ** 0.5
    b = (keep - 1) * (alpha * a) + alpha * a * p
    return input * Tensor._make((keep * a).astype(input._data.dtype)) + Tensor._make(b.astype(input._data.dtype))


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, True)


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
    if padding_idx is None:
        return rows
    # the padding row is looked up like any other but receives no gradient, as in torch
    keep = Tensor._make(input._data != (padding_idx % n))
    return Where.call(keep.unsqueeze(-1), rows, weight.detach()[input])


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
        b, length = idx.shape
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
        b, length = starts.shape[0], int((ends - starts).max()) if starts.size else 0
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

from .functional_losses import (  # noqa: E402 (kept beside the other sections)
    l1_loss, mse_loss, smooth_l1_loss, huber_loss, kl_div, poisson_nll_loss, gaussian_nll_loss, binary_cross_entropy,
    binary_cross_entropy_with_logits, cross_entropy, nll_loss, ctc_loss, cosine_similarity, pairwise_distance,
    cosine_embedding_loss, margin_ranking_loss, hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss,
    multilabel_margin_loss, multi_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss)


def _ns(t):
    return namespace(t._data)


def one_hot(tensor, num_classes=-1):
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


def pad(input, pad, mode="constant", value=0.0):
    if mode != "constant" or len(pad) % 2:
        raise NotImplementedError("pad: only constant padding with pairs of sizes is supported")
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
    return input.flatten(start_dim, end_dim)


# the functions: not the op classes and modules imported above
__all__ = [n for n, v in list(globals().items()) if not n.startswith("_") and not isinstance(v, (type, type(np)))
           and n != "namespace"]


# ---- normalisation beyond batch norm: compositions (instance norm reuses batch norm on (1, N*C, ...),
# as torch does) ----------------------------------------------------------------------------------

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
