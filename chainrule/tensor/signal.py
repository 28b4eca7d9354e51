"""Window functions (hann, hamming, blackman, bartlett, kaiser), sinc, integration (trapezoid,
cumulative_trapezoid), i0, nextafter, vander, mvlgamma and gradient: torch's numerical helpers
that scripts call, composed of the existing Tensor ops (gradients from the composition)."""
import math

import numpy as np

from .. import dtypes as _dt
from ..backend import namespace
from ..ops.args import broadcast_error, check_tensor, dim as _dim, is_tensor, plain, promote
from ..ops.elementwise import I0, Where
from ..ops.movement import Cat, Reshape
from .creation import _leaf
from .extra import _is_float, _name, select
from .storage import _in_place, _on_a_copy


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


_WINDOW_DOC = """

    Parameters
    ----------
    window_length : int
        The number of points (0 gives an empty window, 1 the window ``[1]``).
    periodic : bool, optional
        True: the first ``window_length`` points of a window one longer (for spectral analysis);
        False: symmetric (for filter design).
{own}    dtype : dtype, optional
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


def _window_doc(own=None):
    """The parameters every window shares, after its own summary (and ``own``: its shape parameters)."""
    def attach(fn):
        fn.__doc__ = fn.__doc__ + _WINDOW_DOC.format(own=own + "\n" if own else "")
        return fn
    return attach


def _cosines(n, t, terms):
    """sum_k a_k cos(k 2 pi i / (n - 1)), computed in the window's dtype as torch does."""
    k = np.arange(n, dtype=t)
    return sum(t(a) * np.cos(k * t(j * 2 * math.pi / (n - 1))) for j, a in enumerate(terms))


@_window_doc('    alpha, beta : float, optional\n        The coefficients.')
def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """The generalised Hamming window ``alpha - beta cos(2 pi n / (N - 1))``, as ``torch.hamming_window``."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, layout,
                   lambda n, t: _cosines(n, t, (alpha, -beta)))


@_window_doc()
def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                pin_memory=False):
    """The Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))``, as ``torch.hann_window``."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, layout,
                   lambda n, t: _cosines(n, t, (0.5, -0.5)))


@_window_doc()
def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    """The Blackman window ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``, as ``torch.blackman_window``."""
    def values(n, t):
        k = np.arange(n, dtype=t) * t(math.pi / (n - 1))
        return np.cos(k * t(4)) * t(0.08) - np.cos(k * t(2)) * t(0.5) + t(0.42)
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, layout, values)


@_window_doc()
def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    """The Bartlett (triangular) window ``1 - |2 n / (N - 1) - 1|``, as ``torch.bartlett_window``."""
    def values(n, t):
        w = np.arange(n, dtype=t) * t(2.0 / (n - 1))
        half = ((n - 1) >> 1) + 1
        w[half:] = t(2) - w[half:]
        return w
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, layout, values)


@_window_doc('    beta : float, optional\n        The shape parameter (larger: narrower).')
def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False, pin_memory=False):
    """The Kaiser window ``I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta)``, a = (N - 1) / 2, as ``torch.kaiser_window``."""
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
