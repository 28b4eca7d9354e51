"""chainrule.nn.functional: the functional form of every layer, activation and loss.

A function that is one fused op is that op's public entry (``conv2d = Conv2d.call``, from
``chainrule.ops.nn``: the op checks its arguments, raising what torch raises). The others validate
their input the same way and compose primitives (or wrap one op: batch_norm's running statistics,
binary_cross_entropy's weight and reduction).
"""

import warnings

import numpy as np

from ..tensor import Tensor, tensor as _tensor
from ..ops.linalg import Linear
# _pair is nn.layers' too (F._pair); the other helpers are the checks these compositions share with ops
from ..ops.nn import (AvgPool2d, BatchNorm, BinaryCrossEntropy, Conv2d, Elu, Gelu, LeakyRelu, MaxPool2d,
                      SoftmaxCrossEntropy, check_float as _check_float, class_targets as _class_targets,
                      coefficients as _coefficients, pair as _pair, per_target as _per_target,
                      same_shape as _same_shape)
from ..ops.elementwise import Where
from ..ops.movement import Cat
from ..autograd.grad_mode import no_grad
from ..backend import random as _random
from ..backend import namespace


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


def _log1p_exp(x):
    """log(1 + e^x) for any x without overflow, as logsumexp(0, x): its gradient is sigmoid(x)
    everywhere (splitting at the kink, relu(x) + log(1 + e^-|x|), gives 0 instead of 1/2 at x = 0)."""
    zeros = Tensor._make(namespace(x._data).zeros((1,) + x._data.shape, x._data.dtype))
    return Cat.call([zeros, x.unsqueeze(0)], 0).logsumexp(0)


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


def embedding(input, weight, padding_idx=None):
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {input.dtype} instead")
    n = weight._data.shape[0]
    if input._data.size and (int(input._data.min()) < 0 or int(input._data.max()) >= n):
        bad = int(input._data.max()) if int(input._data.max()) >= n else int(input._data.min())
        raise IndexError(f"embedding: index {bad} is out of range for an embedding table of {n} rows")
    if padding_idx is None:
        return weight[input]
    # the padding row is looked up like any other but receives no gradient, as in torch
    keep = Tensor._make(input._data != (padding_idx % n))
    return Where.call(keep.unsqueeze(-1), weight[input], weight.detach()[input])


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


# ---- losses -------------------------------------------------------------------------------------

def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction} is not a valid value for reduction")


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
    loss = BinaryCrossEntropy.call(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    if pos_weight is None:  # log(1 + e^x) - x y
        loss = _log1p_exp(input) - input * target
    else:  # (1 - y) x + (1 + (pw - 1) y) log(1 + e^-x)
        log_weight = 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + log_weight * _log1p_exp(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


cross_entropy = SoftmaxCrossEntropy.call


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    x, t, c = _class_targets(input, target, reduction, 0.0, "nll_loss")
    coef, present, empty = _coefficients(x, t, c, weight, ignore_index, 0.0, reduction, "nll_loss")
    # torch reads only the targets' entries: -inf or nan elsewhere, or in an ignored row, adds nothing
    picked = Where.call(Tensor._make(present()), x, 0.0) * coef
    return _per_target(-picked.sum(1), input, target, reduction, empty)


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
