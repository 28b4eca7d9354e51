"""The two matrix functions MultivariateNormal needs: the Cholesky factor (chainrule's
``cholesky`` op) and a lower-triangular solve X = L^-1 B, here as a Function whose backward reads
only the lower triangle of L, as torch.linalg.solve_triangular's does."""
from ..backend import namespace
from ..tensor import Tensor, functions
from ..autograd.function import Function

__all__ = ["cholesky", "solve_triangular"]


def _mT(xp, a):
    return xp.swapaxes(a, -1, -2)


class _SolveTriangularLower(Function):
    """X = L^-1 B; grad_B = L^-T grad_X, grad_L = -tril(grad_B X^T)."""

    @staticmethod
    def forward(ctx, L, B):
        xp = namespace(L._data)
        Lt = xp.tril(L._data)
        X = Tensor._make(xp.linalg.solve(Lt, B._data))
        ctx.save_for_backward(Tensor._make(Lt), X)
        return X

    @staticmethod
    def backward(ctx, g):
        L, X = ctx.saved_tensors
        xp = namespace(L._data)
        gB = xp.linalg.solve(_mT(xp, L._data), g._data)
        gL = -xp.tril(gB @ _mT(xp, X._data))
        return Tensor._make(gL), Tensor._make(gB)


def cholesky(A):
    return functions["cholesky"](A)


def solve_triangular(L, B, upper=False):
    """L^-1 B for lower-triangular L (batch dimensions of L and B must match)."""
    assert not upper
    return _SolveTriangularLower.apply(L, B)
