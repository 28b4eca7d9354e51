"""chainrule.nn.utils: gradient clipping."""
import math

from ..tensor import Tensor
from ..ops.movement import Cat
from ..backend import namespace


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients in place so their joint norm is at most ``max_norm``; return the norm."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad.data for p in parameters if p.grad is not None]
    if not grads:
        return Tensor._make(namespace(0.0).asarray(0.0, dtype="float32"))
    xp = namespace(grads[0])
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(xp.abs(g).max()) for g in grads)
    else:
        total = float(sum(float((xp.abs(g) ** norm_type).sum()) for g in grads)) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           "so it cannot be clipped.")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= coef
    return Tensor._make(xp.asarray(total, dtype=grads[0].dtype))


def parameters_to_vector(parameters):
    return Cat.call([p.reshape(-1) for p in parameters])
