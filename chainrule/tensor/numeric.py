"""Numerical routines composed of the existing Tensor ops (so their gradients are the composed ops'):
nan-aware reductions and quantiles, distances and covariance, ``renorm`` (session 3's everyday gaps;
windows, integration and the special functions are in ``signal.py``, the other gaps in ``extra.py``).
"""
import warnings

import numpy as np

from ..backend import namespace
from ..ops.args import check_tensor, dim as _dim, is_tensor, on_device_of, plain
from ..ops.elementwise import Lerp, Where
from ..ops.movement import Reshape
from .extra import _is_float, _name
from .inplace import store


# ---- nan-aware reductions and quantiles ------------------------------------------------------------

def _nan_zeroed(input):
    if not _is_float(input):
        return input
    return Where.call(input != input, 0.0, input)  # a recorded comparison: cr.compile replays it


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum treating NaN as zero, as ``torch.nansum``.

    Parameters
    ----------
    input : Tensor
        The input (integer and bool inputs sum to int64, as ``sum``).
    dim : int or tuple of ints, optional
        The dims to reduce (all when None).
    keepdim : bool, optional
        Keep the reduced dims with size 1.
    dtype : dtype, optional
        The dtype to sum in and return.

    Returns
    -------
    Tensor
        The sum; the gradient is 0 at the NaN entries.
    """
    return _nan_zeroed(input).sum(dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN entries, as ``torch.nanmean``.

    Parameters
    ----------
    input : Tensor
        A floating-point tensor.
    dim : int or tuple of ints, optional
        The dims to reduce (all when None).
    keepdim : bool, optional
        Keep the reduced dims with size 1.
    dtype : dtype, optional
        The dtype to sum in and return.

    Returns
    -------
    Tensor
        ``nansum / count of non-NaN``: NaN where every entry is NaN (or there are none).
    """
    if not _is_float(input):
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_name(input._data.dtype)}")
    count = (input == input).sum(dim, keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return nansum(input, dim, keepdim, dtype=dtype) / count


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    check_tensor(input, op)
    x = input._data
    xp = namespace(x)
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if is_tensor(q):
        if q._data.dtype != x.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        if q._data.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        qs = on_device_of(q._data, input)
        if qs.size and bool(((qs < 0) | (qs > 1)).any()):
            raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
        scalar_q = q._data.ndim == 0
    elif isinstance(q, (int, float, np.floating)) and not isinstance(q, bool):
        if not 0 <= q <= 1:
            raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
        qs, scalar_q = xp.asarray(q, dtype=x.dtype), True
    else:
        raise TypeError(f"{op}(): argument 'q' must be float or Tensor, not {type(q).__name__}")
    if not x.size:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, midpoint or nearest, but "
                           f"got {interpolation}")
    nd = x.ndim
    if dim is None:
        values, shape = Reshape.call(input, -1), (1,) * nd if keepdim else ()
    else:
        d = _dim(dim, nd, op)
        values = input.movedim(d, -1) if nd else Reshape.call(input, 1)
        shape = tuple(1 if i == d and keepdim else n for i, n in enumerate(x.shape) if i != d or keepdim)
    ordered = values.sort(dim=-1).values  # nan last, as torch
    s = ordered._data
    qs = qs.reshape(-1)
    if ignore_nan:  # rank among the non-nan values; all nan: rank 0, which is nan
        count = (s == s).sum(-1, keepdims=True)
        ranks = qs * (count - 1).astype(x.dtype)
        ranks = xp.where(ranks < 0, x.dtype.type(0), ranks)
    else:  # any nan: the last rank, which is nan
        last = s.shape[-1] - 1
        ranks = xp.where(xp.isnan(s).any(-1, keepdims=True), x.dtype.type(last), qs * x.dtype.type(last))
    ranks = {"lower": xp.floor, "higher": xp.ceil, "nearest": xp.round}.get(interpolation, lambda r: r)(ranks)
    below = ranks.astype(np.int64)
    out = ordered.gather(-1, plain(below))
    if interpolation in ("linear", "midpoint"):
        weights = xp.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
        above = ordered.gather(-1, plain(xp.ceil(ranks).astype(np.int64)))
        out = Lerp.call(out, above, plain(weights.astype(x.dtype, copy=False)))
    if scalar_q:
        return Reshape.call(out, shape)
    return Reshape.call(out.movedim(-1, 0), (qs.size,) + shape)


_QUANTILE_DOC = """The ``q``-th quantiles of ``input`` (of each slice along ``dim``){nan}, as ``torch.{name}`` (also ``Tensor.{name}``).

The values are sorted and the quantile is read at rank ``q * (n - 1)``{n}, between two neighbours as
``interpolation`` says: ``'linear'`` (interpolate), ``'lower'``, ``'higher'``, ``'nearest'`` (round
half to even) or ``'midpoint'``. {nan_rule} The gradient flows to the one or two entries read.

Parameters
----------
input : Tensor
    A float32 or float64 tensor, non-empty.
q : float or Tensor
    A probability in [0, 1], or a 0-d/1-D tensor of them of ``input``'s dtype.
dim : int, optional
    The dim to reduce; None flattens the input first.
keepdim : bool, optional
    Keep the reduced dim(s) with size 1.
interpolation : str, optional
    How to read between two sorted values.

Returns
-------
Tensor
    The reduced shape; with a 1-D ``q`` a leading dim of ``len(q)`` is added.
"""


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


quantile.__doc__ = _QUANTILE_DOC.format(name="quantile", nan="", n="", nan_rule="A slice holding NaN gives NaN.")
nanquantile.__doc__ = _QUANTILE_DOC.format(
    name="nanquantile", nan=" ignoring NaN", n=", n counting the non-NaN values",
    nan_rule="NaN entries are left out; a slice of only NaN gives NaN.")


# ---- distances, covariance ------------------------------------------------------------------------

_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each pair of rows of ``x1`` and ``x2`` (batched), as ``torch.cdist``.

    For p = 2 with ``compute_mode`` allowing it (``'use_mm_for_euclid_dist'``, or
    ``'use_mm_for_euclid_dist_if_necessary'`` when either has more than 25 rows) the distance is
    ``sqrt(clamp_min(|a|^2 - 2 a.b + |b|^2, 1e-30))`` through one matrix product, as torch; otherwise
    the norm of the pairwise differences (a ``(..., P, R, M)`` temporary).

    Parameters
    ----------
    x1 : Tensor
        ``(..., P, M)``, floating point.
    x2 : Tensor
        ``(..., R, M)``, of ``x1``'s dtype; the batch dims broadcast.
    p : float, optional
        The norm's order, >= 0 (0 counts differing entries, inf takes the largest).
    compute_mode : str, optional
        Whether p = 2 may use the matrix product.

    Returns
    -------
    Tensor
        ``(..., P, R)``.
    """
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t._data.ndim}D")
    for name, t in (("X1", x1), ("X2", x2)):
        if not _is_float(t):
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_name(t._data.dtype)}")
    m1, m2 = x1._data.shape[-1], x2._data.shape[-1]
    if m1 != m2:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {m1} X2: {m2}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"expected scalar type {_name(x1._data.dtype)} but found {_name(x2._data.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    big = x1._data.shape[-2] > 25 or x2._data.shape[-2] > 25
    if p == 2 and (compute_mode == _CDIST_MODES[1] or compute_mode == _CDIST_MODES[0] and big):
        n1, n2 = (x1 * x1).sum(-1, keepdim=True), (x2 * x2).sum(-1, keepdim=True)
        return (n1 - 2 * (x1 @ x2.transpose(-2, -1)) + n2.transpose(-2, -1)).clamp_min(1e-30).sqrt()
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, dim=-1)


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast), as ``torch.dist`` (also ``Tensor.dist``).

    Parameters
    ----------
    input : Tensor
        Floating point.
    other : Tensor
        Broadcast against ``input``.
    p : float, optional
        The norm's order (0, inf and -inf included).

    Returns
    -------
    Tensor
        0-d; the gradient is 0 where the distance is 0.
    """
    if not is_tensor(other):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    diff = input - other
    if not _is_float(diff):
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{_name(diff._data.dtype)} instead.")
    return diff.norm(p)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in the columns), as ``torch.cov``.

    Parameters
    ----------
    input : Tensor
        0-D, 1-D (one variable) or 2-D; not bool.
    correction : int, optional
        Subtracted from the (weighted) number of observations: 1 is Bessel's correction, 0 the
        plain average.
    fweights : Tensor, optional
        Integer frequency weights, one per observation.
    aweights : Tensor, optional
        Floating-point observation weights, one per observation.

    Returns
    -------
    Tensor
        ``(variables, variables)``, squeezed (a 0-d tensor for one variable). With no degrees of
        freedom left it warns and divides by 0, as torch.
    """
    x = input._data
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {x.ndim} "
                           "dimensions")
    if x.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    obs = Reshape.call(input, (1, -1)) if x.ndim < 2 else input
    n = obs._data.shape[1]
    w = None
    for name, weights, integral in (("fweights", fweights, True), ("aweights", aweights, False)):
        if weights is None:
            continue
        check_tensor(weights, "cov", name)
        a = weights._data
        if a.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                               f"{a.ndim} dimensions")
        if a.size != n:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                               f"input but got {a.size} != {n}")
        if integral and a.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{_name(a.dtype)} dtype")
        if not integral and a.dtype.kind != "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{_name(a.dtype)} dtype")
        if a.size and bool((a < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = weights if w is None else w * weights
    if w is None:
        w_sum = n
    else:
        w_sum = w.sum()
        if not bool(w_sum._data != 0):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    weighted = obs if w is None else obs * w
    avg = weighted.sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm_factor = w_sum - correction
    if (float(norm_factor) if is_tensor(norm_factor) else norm_factor) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm_factor = norm_factor * 0
    centered = obs - avg.unsqueeze(1)
    c = centered @ (centered if w is None else centered * w).t()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (c / norm_factor).squeeze()


def corrcoef(input):
    """Pearson's correlation coefficients of the variables in the rows of ``input``, as ``torch.corrcoef``.

    Parameters
    ----------
    input : Tensor
        0-D, 1-D or 2-D (variables in the rows, observations in the columns).

    Returns
    -------
    Tensor
        ``cov / (std_i std_j)`` clipped to [-1, 1]; a single variable gives ``cov / cov``.
    """
    c = cov(input)
    with np.errstate(invalid="ignore", divide="ignore"):
        if c._data.ndim == 0:
            return c / c
        std = c.diagonal().sqrt()
        c = c / std.reshape(-1, 1)
        c = c / std.reshape(1, -1)
    return c.clip(-1, 1)


def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``, as ``torch.renorm``.

    Parameters
    ----------
    input : Tensor
        Floating point, at least 2-D.
    p : float
        The norm's order, > 0.
    dim : int
        The dim whose slices are renormalised (the norm runs over the other dims).
    maxnorm : float
        The largest norm kept, >= 0.

    Returns
    -------
    Tensor
        ``input * maxnorm / (norm + 1e-7)`` where ``norm > maxnorm``, else ``input``; the gradient
        includes the norm's, as torch's ``renorm_backward``.
    """
    if not _is_float(input):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_name(input._data.dtype)}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    nd = input._data.ndim
    if nd <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    d = _dim(dim, nd, "renorm")
    norm = input.norm(p, dim=tuple(i for i in range(nd) if i != d), keepdim=True)
    factor = Where.call(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * factor.to(input.dtype)


def renorm_(self, p, dim, maxnorm):
    """In-place ``renorm``: the result is written into this tensor, which is returned (see ``renorm``).

    Parameters
    ----------
    p : float
        The norm's order, > 0.
    dim : int
        The dim whose slices are renormalised.
    maxnorm : float
        The largest norm kept.

    Returns
    -------
    Tensor
        ``self``.
    """
    # computed from a copy: the norm's ops save the values that the write is about to replace
    return store(self, renorm(self.clone() if self.requires_grad else self, p, dim, maxnorm), "renorm_")
