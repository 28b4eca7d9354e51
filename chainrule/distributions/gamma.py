"""Gamma, Dirichlet and Beta. Their rsample is reparameterised through the standard gamma sample
x ~ Gamma(alpha, 1): dx/dalpha = -(dF(x; alpha)/dalpha) / f(x; alpha) (the implicit
reparameterisation gradient, F the CDF), computed as torch's ``_standard_gamma_grad`` does.
Dirichlet samples are normalised standard gammas; Beta is a two-category Dirichlet."""
import numpy as np

from ..tensor import Tensor, Size, as_tensor, functions
from ..autograd.function import Function
from ..backend import namespace
from . import constraints
from .distribution import Distribution, ExponentialFamily
from .utils import broadcast_all, _is_number, _generator, finfo, lgamma, digamma, xlogy, xp_digamma

__all__ = ["Gamma", "Dirichlet", "Beta"]

# Bivariate rational approximation of dx/dalpha in (log(x/alpha), log(alpha)) (torch's table)
_COEF_UV = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
     -1.5247877e-07]])


def standard_gamma_grad(alpha, x):
    """dx/dalpha for x ~ Gamma(alpha, 1), elementwise on arrays: a Taylor series of the CDF for
    x < 0.8, Rice's saddle point expansion for alpha > 8, else a rational approximation."""
    xp = namespace(x)
    dtype = x.dtype
    alpha, x = alpha.astype(np.float64), x.astype(np.float64)
    with np.errstate(all="ignore"):
        # small x: series of the regularised lower incomplete gamma function
        numer, denom = xp.ones_like(x), alpha.copy()
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x ** alpha
        gamma_pdf = x ** (alpha - 1) * xp.exp(-x)
        gamma_cdf = pow_x_alpha * series1
        gamma_cdf_alpha = (xp.log(x) - xp_digamma(alpha)) * gamma_cdf - pow_x_alpha * series2
        small = -gamma_cdf_alpha / gamma_pdf
        small = xp.where(xp.isnan(small), 0.0, small)
        # large alpha: saddle point expansion (near the mode, a polynomial)
        numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
        numer_2 = (1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha
                   + alpha * (107 + 3600 * x))
        near = numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
        denom = xp.sqrt(8 * alpha)
        term2 = denom / (alpha - x)
        term3 = (x - alpha - alpha * xp.log(x / alpha)) ** -1.5
        term23 = xp.where(x < alpha, term2 - term3, term2 + term3)
        term1 = xp.log(x / alpha) * term23 - xp.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        far = -stirling * x * term1 / denom
        large = xp.where((0.9 * alpha <= x) & (x <= 1.1 * alpha), near, far)
        # otherwise: the rational approximation
        u, v = xp.log(x / alpha), xp.log(alpha)
        c = [_COEF_UV[0, i] + u * (_COEF_UV[1, i] + u * _COEF_UV[2, i]) for i in range(8)]
        p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
        q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
        rational = xp.exp(p / q)
    out = xp.where(x < 0.8, small, xp.where(alpha > 8.0, large, rational))
    return out.astype(dtype)


class _StandardGamma(Function):
    """x ~ Gamma(alpha, 1) from chainrule's generator; backward: grad * dx/dalpha (implicit)."""

    @staticmethod
    def forward(ctx, alpha):
        a = alpha._data
        xp = namespace(a)
        x = xp.asarray(_generator(alpha).standard_gamma(a.astype(np.float64)), dtype=a.dtype)
        x = xp.maximum(x, finfo(alpha.dtype).tiny)  # as torch's sampler: never exactly 0
        out = Tensor._make(x)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * Tensor._make(standard_gamma_grad(alpha.detach()._data, x.detach()._data))


class _GammaIncLower(Function):
    """P(a, x), the regularised lower incomplete gamma function (torch.special.gammainc):
    dP/dx = x^(a-1) e^-x / Gamma(a); no gradient with respect to a, as in torch."""

    @staticmethod
    def forward(ctx, a, x):
        a, x = broadcast_all(a, x)
        xp = namespace(x._data)
        ctx.save_for_backward(a, x)
        return Tensor._make(xp.asarray(_scipy_special(xp).gammainc(a._data, x._data), dtype=x._data.dtype))

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        return None, grad * (xlogy(a - 1, x) - x - lgamma(a)).exp()


def _scipy_special(xp):
    if xp.module is np:
        import scipy.special as special
    else:
        import cupyx.scipy.special as special
    return special


def _standard_gamma(concentration):
    return _StandardGamma.apply(concentration)


class Gamma(ExponentialFamily):
    """Gamma distribution with shape ``concentration`` and ``rate`` (density ∝ x^(c-1) e^(-rate x))."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        batch_shape = Size() if _is_number(concentration) and _is_number(rate) else self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        xp = namespace(value._data)
        xp.maximum(value._data, finfo(value.dtype).tiny, out=value._data)  # not recorded, as torch
        return value

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            value = as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return _GammaIncLower.apply(self.concentration, self.rate * value)

    def entropy(self):
        return (self.concentration - self.rate.log() + lgamma(self.concentration)
                + (1.0 - self.concentration) * digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()


class Dirichlet(ExponentialFamily):
    """Dirichlet distribution on the simplex with ``concentration`` (last dimension: categories)."""
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        g = _standard_gamma(self.concentration.expand(shape))
        return g / g.sum(-1, True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration - 1.0, value).sum(-1) + lgamma(self.concentration.sum(-1))
                - lgamma(self.concentration).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        all_small = (self.concentration < 1).all(dim=-1, keepdim=True)
        xp = namespace(mode._data)
        n = mode.shape[-1]
        argmax = mode.detach()._data.argmax(-1)[..., None] == xp.arange(n)
        return functions["where"](all_small, Tensor._make(argmax.astype(mode._data.dtype)), mode)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (lgamma(self.concentration).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((self.concentration - 1.0) * digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))


class Beta(ExponentialFamily):
    """Beta distribution on [0, 1] with ``concentration1`` (alpha) and ``concentration0`` (beta)."""
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        if _is_number(concentration1) and _is_number(concentration0):
            both = functions["stack"](broadcast_all(float(concentration1), float(concentration0)), -1)
        else:
            concentration1, concentration0 = broadcast_all(concentration1, concentration0)
            both = functions["stack"]([concentration1, concentration0], -1)
        self._dirichlet = Dirichlet(both, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = functions["stack"]([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        return self._dirichlet.entropy()

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return lgamma(x) + lgamma(y) - lgamma(x + y)
