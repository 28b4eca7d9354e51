"""Parametrizations built on ``parametrize.register_parametrization``
(torch.nn.utils.parametrizations): ``weight_norm``."""
from ..module import Module
from . import parametrize

__all__ = ["weight_norm"]


def _norm_except_dim(v, pow, dim):
    """torch.norm_except_dim: the ``pow``-norm over every dimension but ``dim`` (kept, size 1), or
    over the whole tensor (a 0-dim result) when ``dim == -1``, as torch reads -1."""
    if dim == -1:
        return v.norm(pow)
    n = v.dim()
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    dim %= n
    others = tuple(d for d in range(n) if d != dim)
    return v.norm(pow, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v, g, dim):
    """torch._weight_norm: v * (g / ||v||), the norm over every dimension but ``dim``."""
    return v * (g / _norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        weight_g = _norm_except_dim(weight, 2, self.dim)
        weight_v = weight
        return weight_g, weight_v


def weight_norm(module, name="weight", dim=0):
    """Weight normalisation (Salimans & Kingma, 2016): ``module.<name>`` becomes
    g * v / ||v||, the norm taken per slice along ``dim`` (over the whole tensor with
    ``dim=None``; ``dim=-1`` also means the whole tensor, as in torch). The magnitude g is
    ``module.parametrizations.<name>.original0`` and the direction v ``original1``; both are
    parameters, and ``module.<name>`` is recomputed from them on every access. Returns ``module``.

    As torch's: same state dict keys, parameters, repr (``ParametrizedLinear(...)``), values and
    gradients. Not carried over: torch's hook that loads old ``<name>_g`` / ``<name>_v`` state dict
    keys (chainrule's Module has no load_state_dict pre-hooks), so such a state dict reports them as
    unexpected keys.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
