"""Helpers the distributions share (torch.distributions.utils): broadcasting parameters, probs <->
logits, lazily computed parameters, and the special functions and random arrays they sample with."""
from functools import update_wrapper

import numpy as np

from ..tensor import Tensor, Size, tensor, zeros_like, functions
from ..autograd.grad_mode import enable_grad
from ..backend import namespace
from ..backend import random as _random
from ..dtypes import get_default_dtype

euler_constant = 0.57721566490153286060  # Euler Mascheroni Constant

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
           "euler_constant"]


def _is_number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def broadcast_all(*values):
    """Numbers become tensors (the dtype and device of the first tensor, else the default dtype);
    all are expanded to one broadcast shape."""
    if not all(isinstance(v, Tensor) or _is_number(v) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        values = [tensor(float(v), dtype=get_default_dtype()) for v in values]
    else:
        values = [v if isinstance(v, Tensor) else tensor(v, dtype=like.dtype, device=like.device)
                  for v in values]
    shape = np.broadcast_shapes(*(tuple(v.shape) for v in values))
    return tuple(v if tuple(v.shape) == shape else v.expand(shape) for v in values)


def broadcast_shapes(*shapes):
    return Size(np.broadcast_shapes(*(tuple(s) for s in shapes)))


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def finfo(dtype):
    return np.finfo(dtype.np)


def logits_to_probs(logits, is_binary=False):
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def clamp_probs(probs):
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - log1p(-ps_clamped)
    return ps_clamped.log()


class lazy_property:
    """A parameter computed on first use and then cached on the instance (Bernoulli's logits
    from its probs, MultivariateNormal's covariance from its scale_tril)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    def __init__(self, wrapped):
        property.__init__(self, wrapped)


# ---- random arrays on the parameters' device, from chainrule's seeded generator --------------------

def _device(t):
    return None if t.device.type == "cpu" else t.device


def _standard_normal(shape, like):
    return Tensor._make(_random.normal_array(tuple(shape), 0.0, 1.0, like._data.dtype, _device(like)))


def _standard_exponential(shape, like):
    dtype = like._data.dtype
    return Tensor._make(_random.exponential_array(tuple(shape), dtype, _device(like)).astype(dtype, copy=False))


def _uniform(shape, like, low=0.0, high=1.0):
    return Tensor._make(_random.uniform_array(tuple(shape), low, high, like._data.dtype, _device(like)))


def _generator(like):
    return _random.generator(_device(like))


# ---- the elementwise functions the densities need ---------------------------------------------------

log1p, expm1, xlogy = functions["log1p"], functions["expm1"], functions["xlogy"]
erf, erfinv, lgamma, digamma = functions["erf"], functions["erfinv"], functions["lgamma"], functions["digamma"]


def softplus(x):
    """log(1 + e^x) = logaddexp(x, 0): no overflow, and its gradient is sigmoid(x) everywhere
    (max(x, 0) + log1p(e^-|x|) has gradient 0 instead of 1/2 at the kink x = 0)."""
    return functions["logaddexp"](x, zeros_like(x))


def xp_digamma(a):
    """digamma on an array (the standard gamma's implicit gradient needs it)."""
    return namespace(a).digamma(a)
