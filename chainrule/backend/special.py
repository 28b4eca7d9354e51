"""Special functions with torch's conventions where SciPy's differ: the array namespace's
``lgamma``, ``trigamma`` and ``polygamma`` (each takes the namespace first; bound in ``ArrayNamespace``)."""
import math

import numpy as np


def lgamma(xp, x):
    """ln|Gamma(x)| in x's dtype: +inf at -inf (SciPy: -inf) and -ln|x| at subnormals (SciPy: inf), as C's lgamma."""
    out = xp.gammaln(x).astype(x.dtype, copy=False)
    out = xp.where(x == -math.inf, x.dtype.type(math.inf), out)
    tiny = (x != 0) & (xp.abs(x) < np.finfo(x.dtype).tiny)
    return xp.where(tiny, -xp.log(xp.abs(xp.where(tiny, x, 1))), out) if tiny.any() else out


def trigamma(xp, x):
    """polygamma(1, x) as torch computes it (reflection below 0.5, six recurrence steps, then the
    asymptotic series), so that digamma's gradient matches torch's, poles included."""
    c = x.dtype.type
    low = x < 0.5
    s = xp.sin(c(math.pi) * x)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = xp.where(low, -c(math.pi * math.pi) / (s * s), c(0))
        x = xp.where(low, 1 - x, x)
        for _ in range(6):
            result = result + 1 / (x * x)
            x = x + 1
        ixx = 1 / (x * x)
        result = result + (1 + 1 / (2 * x) + ixx * (c(1 / 6) - ixx * (c(1 / 30) - ixx * c(1 / 42)))) / x
    return xp.where(low, -result, result)


def polygamma(xp, n, x):
    """torch's polygamma(n, x) in x's dtype: digamma, trigamma (its own series), else SciPy's (nan at +inf, as torch)."""
    if n == 0:
        return xp.digamma(x).astype(x.dtype, copy=False)
    if n == 1:
        return trigamma(xp, x)
    out = xp.scipy_polygamma(xp.asarray(n), x).astype(x.dtype, copy=False)  # cupyx's wants an array n
    return xp.where(x == math.inf, x.dtype.type(math.nan), out)
