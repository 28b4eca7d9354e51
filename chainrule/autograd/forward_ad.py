"""``torch.autograd.forward_ad``: dual Tensors, built on reverse mode.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)    # primal's values, carrying a tangent
        y = f(x)                                     # any ops
        y_primal, jvp = forward_ad.unpack_dual(y)    # jvp = J tangent

torch carries each tangent along op by op (every op has a forward-derivative rule). Here make_dual records
the primal as a differentiable input of the reverse-mode graph, and unpack_dual computes J t from the graph
with two backward passes (the double-vjp trick of autograd.functional.jvp): u^T J = grad(y, duals, u) for a
zero u that requires grad is linear in u, and J t = grad(u^T J . t, u). Two consequences: every op between
a dual and the output needs a second derivative (the fused ones raise, naming the op), and each unpack_dual
costs two backward passes. One level at a time, as torch (which rejects nested levels too).
"""
import collections

from ..tensor import Tensor
from .function import grad as _grad
from .grad_mode import enable_grad

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]
UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])
_levels = []  # the entered level's duals: {id(dual): (dual, tangent)}


def enter_dual_level():
    """Enter a new forward-AD level (0): make_dual's tangents live until it is exited."""
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append({})
    return 0


def exit_dual_level(*, level=None):
    """Exit the level: its duals' tangents are forgotten (unpack_dual then gives None)."""
    if not _levels:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. This "
                           "is not supported.")
    _levels.pop()


class dual_level:
    """``with dual_level():`` enters a forward-AD level and exits it at the end of the block."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def make_dual(tensor, tangent, *, level=None):
    """A Tensor with ``tensor``'s values carrying ``tangent`` (same shape) within the current level."""
    if not _levels:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual: expected Tensors, got {type(tensor).__name__} and {type(tangent).__name__}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if not (tensor.is_floating_point() and tangent.is_floating_point()):
        raise ValueError(f"Expected both tensor and its forward grad to be floating point or complex, got "
                         f"{tensor.dtype} and {tangent.dtype}")
    with enable_grad():  # a view keeps an input that requires grad in its own (reverse-mode) graph
        dual = tensor.view_as(tensor) if tensor.requires_grad else tensor.detach().requires_grad_(True)
    _levels[-1][id(dual)] = (dual, tangent.detach())
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the tangent J t of ``tensor`` with respect to the level's duals, or None where it
    does not depend on any (or outside a level)."""
    duals = list(_levels[-1].values()) if _levels else []
    if not isinstance(tensor, Tensor) or not duals or not tensor.requires_grad:
        return UnpackedDualTensor(tensor, None)
    own = _levels[-1].get(id(tensor))
    if own is not None and own[0] is tensor:
        return UnpackedDualTensor(tensor, own[1])
    with enable_grad():
        u = tensor.new_zeros(tensor.shape).requires_grad_(True)
        ut_j = _grad([tensor], [d for d, _ in duals], [u], create_graph=True, allow_unused=True)
        pairs = [(g, t) for g, (_, t) in zip(ut_j, duals) if g is not None and g.requires_grad]
        if not pairs:
            return UnpackedDualTensor(tensor, None if all(g is None for g in ut_j) else tensor.new_zeros(tensor.shape))
        tangent = _grad([g for g, _ in pairs], [u], [t for _, t in pairs], allow_unused=True)[0]
    return UnpackedDualTensor(tensor, tensor.new_zeros(tensor.shape) if tangent is None else tangent.detach())
