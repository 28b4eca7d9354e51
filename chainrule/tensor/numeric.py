"""Numerical routines composed of the existing Tensor ops (so their gradients are the composed ops'):
nan-aware reductions and quantiles, distances and covariance, ``renorm``, trapezoidal integration,
signal windows, and ``sinc``/``i0``/``mvlgamma``/``nextafter``/``vander`` (session 3's everyday gaps;
the other gaps are in ``extra.py``).
"""
import math
import warnings

import numpy as np

from .. import dtypes as _dt
from ..backend import namespace
from ..ops.args import broadcast_error, check_tensor, dim as _dim, is_tensor, on_device_of, plain, promote
from ..ops.elementwise import I0, Lerp, Where
from ..ops.movement import Cat, Reshape
from .creation import _leaf
from .extra import _in_place, _is_float, _name, _on_a_copy, select
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


# ---- windows --------------------------------------------------------------------------------------

def _window(name, window_length, periodic, dtype, device, requires_grad, layout, values):
    """The window from ``values(N, np_dtype)`` (an array of N points, symmetric), cut for ``periodic``."""
    if not isinstance(window_length, (int, np.integer)) or isinstance(window_length, bool):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if layout is not None and str(layout) not in ("strided", "torch.strided", "chainrule.strided"):
        raise RuntimeError(f"{name} is implemented for strided tensors only, got layout {layout}")
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if d.np.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {d}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        arr = np.ones(window_length, dtype=d.np)
    else:
        n = window_length + 1 if periodic else window_length
        arr = np.asarray(values(n, d.np.type), dtype=d.np)[:window_length]
    return _leaf(arr, device, requires_grad)


def _cosines(n, t, terms):
    """sum_k a_k cos(k 2 pi i / (n - 1)), computed in the window's dtype as torch does."""
    k = np.arange(n, dtype=t)
    return sum(t(a) * np.cos(k * t(j * 2 * math.pi / (n - 1))) for j, a in enumerate(terms))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """The generalised Hamming window ``alpha - beta cos(2 pi n / (N - 1))``, as ``torch.hamming_window``.

    Parameters
    ----------
    window_length : int
        The number of points (0 gives an empty window, 1 the window ``[1]``).
    periodic : bool, optional
        True: the first ``window_length`` points of a window one longer (for spectral analysis);
        False: symmetric (for filter design).
    alpha, beta : float, optional
        The coefficients.
    dtype : dtype, optional
        A floating-point dtype (the default float dtype when None).
    layout : optional
        Strided only.
    device : device, optional
        Where to create it.
    requires_grad : bool, optional
        Make it a leaf that requires grad.
    pin_memory : bool, optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        1-D of ``window_length`` points.
    """
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, layout,
                   lambda n, t: _cosines(n, t, (alpha, -beta)))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                pin_memory=False):
    """The Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))``, as ``torch.hann_window``.

    Parameters
    ----------
    window_length : int
        The number of points (0 gives an empty window, 1 the window ``[1]``).
    periodic : bool, optional
        True: the first ``window_length`` points of a window one longer; False: symmetric.
    dtype : dtype, optional
        A floating-point dtype (the default float dtype when None).
    layout : optional
        Strided only.
    device : device, optional
        Where to create it.
    requires_grad : bool, optional
        Make it a leaf that requires grad.
    pin_memory : bool, optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        1-D of ``window_length`` points.
    """
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, layout,
                   lambda n, t: _cosines(n, t, (0.5, -0.5)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    """The Blackman window ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``, as ``torch.blackman_window``.

    Parameters
    ----------
    window_length : int
        The number of points (0 gives an empty window, 1 the window ``[1]``).
    periodic : bool, optional
        True: the first ``window_length`` points of a window one longer; False: symmetric.
    dtype : dtype, optional
        A floating-point dtype (the default float dtype when None).
    layout : optional
        Strided only.
    device : device, optional
        Where to create it.
    requires_grad : bool, optional
        Make it a leaf that requires grad.
    pin_memory : bool, optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        1-D of ``window_length`` points.
    """
    def values(n, t):
        k = np.arange(n, dtype=t) * t(math.pi / (n - 1))
        return np.cos(k * t(4)) * t(0.08) - np.cos(k * t(2)) * t(0.5) + t(0.42)
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, layout, values)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    """The Bartlett (triangular) window ``1 - |2 n / (N - 1) - 1|``, as ``torch.bartlett_window``.

    Parameters
    ----------
    window_length : int
        The number of points (0 gives an empty window, 1 the window ``[1]``).
    periodic : bool, optional
        True: the first ``window_length`` points of a window one longer; False: symmetric.
    dtype : dtype, optional
        A floating-point dtype (the default float dtype when None).
    layout : optional
        Strided only.
    device : device, optional
        Where to create it.
    requires_grad : bool, optional
        Make it a leaf that requires grad.
    pin_memory : bool, optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        1-D of ``window_length`` points.
    """
    def values(n, t):
        w = np.arange(n, dtype=t) * t(2.0 / (n - 1))
        half = ((n - 1) >> 1) + 1
        w[half:] = t(2) - w[half:]
        return w
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, layout, values)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False, pin_memory=False):
    """The Kaiser window ``I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta)``, a = (N - 1) / 2, as ``torch.kaiser_window``.

    Parameters
    ----------
    window_length : int
        The number of points (0 gives an empty window, 1 the window ``[1]``).
    periodic : bool, optional
        True: the first ``window_length`` points of a window one longer; False: symmetric.
    beta : float, optional
        The shape parameter (larger: narrower).
    dtype : dtype, optional
        A floating-point dtype (the default float dtype when None).
    layout : optional
        Strided only.
    device : device, optional
        Where to create it.
    requires_grad : bool, optional
        Make it a leaf that requires grad.
    pin_memory : bool, optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        1-D of ``window_length`` points (computed in float64, then cast).
    """
    def values(n, t):
        a = (n - 1) / 2.0
        r = (np.arange(n, dtype=np.float64) - a) / a
        return np.i0(beta * np.sqrt(np.maximum(1 - r * r, 0))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, layout, values)


def sinc(input):
    """The normalised sinc, ``sin(pi x) / (pi x)`` and 1 at 0, as ``torch.sinc`` (also ``Tensor.sinc`` and ``sinc_``).

    Parameters
    ----------
    input : Tensor
        Any real tensor (integers and bool give the default float dtype).

    Returns
    -------
    Tensor
        Floating point; the gradient is 0 at x = 0, as torch's.
    """
    x = input if _is_float(input) else input.to(_dt.get_default_dtype())
    zero = x == 0
    px = Where.call(zero, 1.0, x) * math.pi
    return Where.call(zero, 1.0, px.sin() / px)


def _trapezoid_args(y, x, dx, dim, op):
    check_tensor(y, op, "y")
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _dim(dim, y._data.ndim, op)
    y = y if _is_float(y) else y.to(_dt.get_default_dtype())
    if x is not None:
        if not is_tensor(x):
            raise TypeError(f"{op}(): argument 'x' must be Tensor, not {type(x).__name__}")
        if x._data.ndim == 1 and x._data.shape[0] != y._data.shape[d]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        steps = x.diff(dim=0 if x._data.ndim == 1 else dim)
        if x._data.ndim == 1:  # along dim of y
            steps = Reshape.call(steps, (-1,) + (1,) * (y._data.ndim - d - 1))
        return y, d, steps
    return y, d, 1 if dx is None else dx


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``: ``sum((y[i] + y[i+1]) / 2 * (x[i+1] - x[i]))``, as ``torch.trapezoid``.

    Parameters
    ----------
    y : Tensor
        The sampled values (integers give the default float dtype).
    x : Tensor, optional
        The sample points: 1-D along ``dim``, or of ``y``'s shape.
    dx : float, optional
        The spacing when ``x`` is None (default 1).
    dim : int, optional
        The dim integrated over.

    Returns
    -------
    Tensor
        ``y`` without ``dim``; differentiable in ``y`` and ``x``.
    """
    y, d, steps = _trapezoid_args(y, x, dx, dim, "trapezoid")
    n = y._data.shape[d]
    if n == 0:
        return y.sum(d) * 0
    left, right = y.narrow(d, 0, n - 1), y.narrow(d, 1, n - 1)
    if x is None:  # torch: (sum(y) - (y[0] + y[-1]) / 2) * dx
        return (y.sum(d) - (select(y, d, 0) + select(y, d, -1)) * 0.5) * steps
    return (steps * (left + right)).sum(d) / 2.0


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of ``trapezoid``, as ``torch.trapz``.

    Parameters
    ----------
    y : Tensor
        The sampled values.
    x : Tensor, optional
        The sample points.
    dx : float, optional
        The spacing when ``x`` is None (default 1).
    dim : int, optional
        The dim integrated over.

    Returns
    -------
    Tensor
    """
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along ``dim`` (one fewer element), as ``torch.cumulative_trapezoid``.

    Parameters
    ----------
    y : Tensor
        The sampled values (integers give the default float dtype).
    x : Tensor, optional
        The sample points: 1-D along ``dim``, or of ``y``'s shape.
    dx : float, optional
        The spacing when ``x`` is None (default 1).
    dim : int, optional
        The dim integrated over.

    Returns
    -------
    Tensor
        ``y``'s shape with ``dim`` one shorter; differentiable in ``y`` and ``x``.
    """
    y, d, steps = _trapezoid_args(y, x, dx, dim, "cumulative_trapezoid")
    n = y._data.shape[d]
    if n == 0:
        return y
    left, right = y.narrow(d, 0, n - 1), y.narrow(d, 1, n - 1)
    return ((left + right) * steps / 2.0).cumsum(d) if x is None else (steps * (left + right) / 2.0).cumsum(d)


def i0(input):
    """The modified Bessel function of the first kind of order 0, as ``torch.i0`` (also ``Tensor.i0`` and ``i0_``).

    Parameters
    ----------
    input : Tensor
        Any real tensor (integers give the default float dtype).

    Returns
    -------
    Tensor
        Its gradient is ``I1(x)`` (once differentiable).
    """
    return I0.call(input)


def nextafter(input, other):
    """The next floating-point value after ``input`` towards ``other``, as ``torch.nextafter`` (also ``Tensor.nextafter``).

    Parameters
    ----------
    input : Tensor
        Floating point.
    other : Tensor
        The direction, broadcast against ``input``.

    Returns
    -------
    Tensor
        Of the promoted dtype; the gradient is torch's: 1 for ``input`` (a step of one ulp), none for ``other``.
    """
    if not is_tensor(other):
        raise TypeError(f"nextafter(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    a, b = promote(input, other, "nextafter")
    if not _is_float(a):
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for '{_name(a._data.dtype)}'")
    xp = namespace(a._data)
    try:
        after = xp.nextafter(a._data, b._data)
    except ValueError:
        raise broadcast_error(a, b, "nextafter") from None
    if not a.requires_grad:
        return plain(after)
    # torch's gradient: 1 for input, 0 for other. a + (after - a) is exactly ``after`` (adjacent floats)
    finite = xp.isfinite(a._data) & xp.isfinite(after)
    step = plain(xp.where(finite, after - xp.where(finite, a._data, 0), 0).astype(after.dtype, copy=False))
    return Where.call(plain(xp.broadcast_to(finite, after.shape)), a + step, plain(after))


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D tensor: columns ``x ** (N - 1), ..., x, 1``, as ``torch.vander``.

    Parameters
    ----------
    x : Tensor
        1-D (bool and smaller integers give int64).
    N : int, optional
        The number of columns (``len(x)`` when None).
    increasing : bool, optional
        Powers from 0 upwards instead.

    Returns
    -------
    Tensor
        ``(len(x), N)``, built by a cumulative product as torch (so the gradient is finite at 0).
    """
    check_tensor(x, "vander", "x")
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = x.to(_dt.int64)
    if n <= 1:
        out = Reshape.call(x, (-1, 1)) * 0 + 1 if n else Reshape.call(x, (-1, 1))[:, :0]
        return out.to(x.dtype)
    ones = plain(namespace(x._data).ones((x._data.shape[0], 1), dtype=x._data.dtype))
    out = Cat.call([ones, Reshape.call(x, (-1, 1)).expand(-1, n - 1)], 1).cumprod(1)
    return out if increasing else out.flip(1)


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension ``p``, as ``torch.mvlgamma`` (also ``Tensor.mvlgamma``).

    ``p (p - 1) / 4 log(pi) + sum_{j < p} lgamma(x - j / 2)``.

    Parameters
    ----------
    input : Tensor
        Any real tensor (integers give the default float dtype).
    p : int
        The dimension, >= 1.

    Returns
    -------
    Tensor
        Of ``input``'s shape.
    """
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = input if _is_float(input) else input.to(_dt.get_default_dtype())
    offsets = plain(namespace(x._data).arange(-p / 2 + 0.5, 0.5, 0.5, dtype=x._data.dtype))
    return (x.unsqueeze(-1) + offsets).lgamma().sum(-1) + p * (p - 1) * math.log(math.pi) / 4


sinc_, mvlgamma_ = _on_a_copy(sinc, "sinc_"), _on_a_copy(mvlgamma, "mvlgamma_")
nextafter_, i0_ = _in_place(nextafter, "nextafter_"), _in_place(i0, "i0_")


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative estimated by finite differences along each of ``dim``, as ``torch.gradient``.

    Central differences inside, one-sided ones (first or second order, ``edge_order``) at the ends,
    with a uniform spacing or at given sample coordinates (NumPy's formulas, as torch's).

    Parameters
    ----------
    input : Tensor
        The sampled values (integers give the default float dtype).
    spacing : number, sequence of numbers or sequence of 1-D Tensors, optional
        One spacing for every dim, one per dim, or the coordinates of the samples along each dim.
    dim : int or sequence of ints, optional
        The dims to differentiate along (all when None).
    edge_order : int, optional
        1 or 2: the order of the one-sided differences at the ends.

    Returns
    -------
    tuple of Tensor
        One tensor of ``input``'s shape per dim; differentiable in ``input`` and the coordinates.
    """
    check_tensor(input, "gradient")
    nd = input._data.ndim
    if nd == 0:
        return ()
    dims = tuple(range(nd)) if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(_dim(d, nd, "gradient") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {next(d for d in dims if dims.count(d) > 1)} appears multiple times in the list of "
                           "dims")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            where = ("since dim argument was not given" if dim is None else
                     f"and dim argument was given as {dim}")
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
                               f"equal to 'self.dim() = {nd}', {where}, but got a list of length {len(spacing)}")
        spacings = list(spacing)
    else:
        spacings = [spacing] * len(dims)
    for d in dims:
        if input._data.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    x = input if _is_float(input) else input.to(_dt.get_default_dtype())
    return tuple(_gradient_along(x, d, h, edge_order) for d, h in zip(dims, spacings))


def _gradient_along(x, d, h, edge_order):
    n = x._data.shape[d]

    def part(start, stop):  # torch's at::slice(self, d, start, stop) with non-negative bounds
        return x.narrow(d, start, stop - start)
    if not is_tensor(h):
        center = (part(2, n) - part(0, n - 2)) / h
        if edge_order == 1:
            first = (part(1, 2) - part(0, 1)) / h
            last = (part(n - 1, n) - part(n - 2, n - 1)) / h
        else:
            first = (-1.5 * part(0, 1) + 2 * part(1, 2) - 0.5 * part(2, 3)) / h
            last = (0.5 * part(n - 3, n - 2) - 2 * part(n - 2, n - 1) + 1.5 * part(n - 1, n)) / h
        return Cat.call([first, center / 2, last], d)
    if h._data.ndim != 1 or h._data.shape[0] != n:
        raise RuntimeError(f"torch.gradient expected each tensor in spacing to be 1-D with one coordinate per "
                           f"sample along dim {d} ({n}), but got shape {list(h.shape)}")
    h = h if _is_float(h) else h.to(x.dtype)
    shape = (-1,) + (1,) * (x._data.ndim - d - 1)
    dx = h.diff()
    dx1, dx2 = dx[:-1], dx[1:]
    a = Reshape.call(-dx2 / (dx1 * (dx1 + dx2)), shape)
    b = Reshape.call((dx2 - dx1) / (dx1 * dx2), shape)
    c = Reshape.call(dx1 / (dx2 * (dx1 + dx2)), shape)
    center = a * part(0, n - 2) + b * part(1, n - 1) + c * part(2, n)
    if edge_order == 1:
        first = (part(1, 2) - part(0, 1)) / dx[0]
        last = (part(n - 1, n) - part(n - 2, n - 1)) / dx[-1]
    else:
        d0, d1, e1, e2 = dx[0], dx[1], dx[-1], dx[-2]
        first = (-(2.0 * d0 + d1) / (d0 * (d0 + d1)) * part(0, 1) + (d0 + d1) / (d0 * d1) * part(1, 2)
                 + (-d0) / (d1 * (d0 + d1)) * part(2, 3))
        last = (e1 / (e2 * (e1 + e2)) * part(n - 3, n - 2) - (e1 + e2) / (e1 * e2) * part(n - 2, n - 1)
                + (2 * e1 + e2) / (e1 * (e1 + e2)) * part(n - 1, n))
    return Cat.call([first, center, last], d)
