"""``chainrule.linalg``: torch.linalg's names (the functions live in ``tensor/linalg.py`` and, for the
products, ``tensor/contract.py``; the LAPACK rules in ``ops/linalg.py``)."""
from .ops.linalg import Matmul
from .tensor.linalg import (LinAlgError, cholesky_ex, cond, det, diagonal, eigh, eigvalsh, inv, inv_ex, lstsq,
                            matrix_exp, matrix_norm, matrix_power, matrix_rank, norm, pinv, qr, slogdet, solve,
                            solve_ex, svd, svdvals, vector_norm)
from .tensor.linalg import linalg_cholesky as cholesky
from .tensor.contract import multi_dot, vecdot, linalg_cross as cross

matmul = Matmul.call

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv",
           "inv_ex", "lstsq", "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot",
           "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "svd", "svdvals", "vecdot", "vector_norm"]
