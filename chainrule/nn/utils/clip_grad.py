"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (torch.nn.utils.clip_grad)."""
import math
import types
import warnings

import numpy as np

from ...autograd.grad_mode import no_grad
from ...backend import namespace
from ...tensor import Tensor


def _as_float(fn, name, value):
    """``float(value)`` as torch converts ``max_norm``/``norm_type`` (numbers, numeric strings such
    as ``'inf'``, one-element tensors), raising torch's exception type with a message naming
    ``fn``, the argument and the value."""
    if isinstance(value, Tensor) and value.numel() != 1:
        raise ValueError(f"{fn}: {name} must be a number or a one-element tensor, got a tensor of shape "
                         f"{list(value.shape)}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{fn}: {name} must be a number (or a numeric string such as 'inf'), got "
                         f"{value!r}") from None
    except TypeError:
        raise TypeError(f"{fn}: {name} must be a real number, got {value!r} ({type(value).__name__})") from None


def _total_norm(xp, grads, norm_type):
    """torch's total norm: the ``norm_type``-norm of the per-gradient norms. For p = 0 that is the
    number of gradients with a nonzero entry (torch's two-level reduction); ±inf: max/min |g|."""
    nonempty = [g for g in grads if g.size]
    if norm_type == math.inf:
        return max((float(xp.abs(g).max()) for g in nonempty), default=0.0)
    if norm_type == -math.inf:
        return min((float(xp.abs(g).min()) for g in nonempty), default=0.0)
    if norm_type == 0:
        return float(sum(bool(xp.any(g != 0)) for g in nonempty))
    if math.isnan(norm_type):
        return math.nan
    with np.errstate(divide="ignore", over="ignore"):  # negative p: |0| ** p = inf, as torch
        s = sum(float((xp.abs(g) ** norm_type).sum()) for g in grads)
        return float(np.power(np.float64(s), 1.0 / norm_type))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients in place so their joint norm is at most ``max_norm``; return the norm.

    Like torch: ``max_norm`` and ``norm_type`` go through ``float()`` (so ``'inf'`` and one-element
    tensors work; anything else raises ValueError/TypeError, even with no gradients), and the
    gradients are multiplied by ``min(max_norm / (norm + 1e-6), 1)`` with NaN propagating.
    ``foreach`` is accepted for torch's signature; both of torch's paths give these results.
    """
    fn = "clip_grad_norm_"
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad._data for p in parameters if p.grad is not None]
    norm_type = _as_float(fn, "norm_type", norm_type)
    if not grads:
        _as_float(fn, "max_norm", max_norm)
        return Tensor._make(namespace(0.0).asarray(0.0, dtype="float32"))
    xp = namespace(grads[0])
    total = _total_norm(xp, grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped.")
    max_norm = _as_float(fn, "max_norm", max_norm)
    scalar = np.dtype(grads[0].dtype).type   # the coefficient in the gradients' dtype, as torch
    with np.errstate(all="ignore"):          # inf/inf, nan: nan, no warning
        coef = scalar(max_norm) / (scalar(total) + scalar(1e-6))
    if coef < 1 or math.isnan(coef):         # torch: clamp(coef, max=1), NaN propagating
        for g in grads:
            g *= coef
    return Tensor._make(xp.asarray(total, dtype=grads[0].dtype))



def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient in place to [-clip_value, clip_value]; returns None.

    As torch: ``clip_value`` goes through ``float()`` first (its ValueError/TypeError even with no
    gradients), the clamp is a clamp_min then a clamp_max (so a negative ``clip_value`` sets every
    entry to it) and NaN entries stay NaN. ``foreach`` is accepted for torch's signature; both of
    torch's paths give these results.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    grads = [p.grad for p in parameters if p.grad is not None]
    with no_grad():
        for g in grads:
            g.clamp_(min=-clip_value).clamp_(max=clip_value)
