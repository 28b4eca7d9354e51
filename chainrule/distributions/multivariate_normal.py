"""MultivariateNormal, parameterised by a covariance matrix, a precision matrix or the lower
Cholesky factor ``scale_tril`` of the covariance; every density uses that factor L."""
import math

import numpy as np

from ..tensor import Tensor, Size
from ..backend import namespace
from . import constraints
from .distribution import Distribution
from .utils import broadcast_shapes, lazy_property, _standard_normal
from . import _linalg as _la
from .univariate import _Centred

__all__ = ["MultivariateNormal"]


def _diagonal(m):
    n = m.shape[-1]
    idx = np.arange(n)
    return m[..., idx, idx]


def _flip2(m):
    rev = np.arange(m.shape[-1])[::-1].copy()
    return m[..., rev[:, None], rev]


def _batch_mv(bmat, bvec):
    return bmat.matmul(bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """x^T (L L^T)^-1 x = |L^-1 x|^2 over the broadcast batch of L and x."""
    n = bx.shape[-1]
    batch = np.broadcast_shapes(tuple(bL.shape[:-2]), tuple(bx.shape[:-1]))
    L = bL.expand(batch + (n, n))
    x = bx.expand(batch + (n,)).unsqueeze(-1)
    return _la.solve_triangular(L, x, upper=False).pow(2).sum(-2).squeeze(-1)


def _precision_to_scale_tril(P):
    """L with L L^T = P^-1 (torch's flip trick: the Cholesky factor of the flipped precision)."""
    Lf = _la.cholesky(_flip2(P))
    L_inv = _flip2(Lf).mT
    xp = namespace(P._data)
    eye = Tensor._make(xp.broadcast_to(xp.eye(P.shape[-1], dtype=P._data.dtype), tuple(P.shape)))
    return _la.solve_triangular(L_inv, eye, upper=False)


class MultivariateNormal(_Centred, Distribution):
    """Normal distribution of vectors with mean ``loc`` (batch + (n,)) and one of
    ``covariance_matrix``, ``precision_matrix`` or ``scale_tril`` (batch + (n, n))."""
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        names = {"scale_tril": "scale_tril matrix", "covariance_matrix": "covariance_matrix",
                 "precision_matrix": "precision_matrix"}
        given = {"scale_tril": scale_tril, "covariance_matrix": covariance_matrix,
                 "precision_matrix": precision_matrix}
        name, matrix = next((k, v) for k, v in given.items() if v is not None)
        if matrix.dim() < 2:
            raise ValueError(f"{names[name]} must be at least two-dimensional, "
                             "with optional leading batch dimensions")
        batch_shape = broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        event_shape = self.loc.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = _la.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return L.matmul(L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        xp = namespace(L._data)
        eye = Tensor._make(xp.broadcast_to(xp.eye(L.shape[-1], dtype=L._data.dtype), tuple(L.shape)))
        L_inv = _la.solve_triangular(L, eye, upper=False)
        return L_inv.mT.matmul(L_inv).expand(self._matrix_shape())

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(tuple(self._batch_shape) +
                                                                     tuple(self._event_shape))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self):
        return _diagonal(self._unbroadcasted_scale_tril).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self):
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H if len(self._batch_shape) == 0 else H.expand(self._batch_shape)
