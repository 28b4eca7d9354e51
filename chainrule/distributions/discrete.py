"""Discrete distributions: Bernoulli, Binomial, Poisson, Categorical, OneHotCategorical.
Sampling draws from chainrule's seeded generator; no sample is differentiable (has_rsample is
False), but every log_prob, entropy and moment is, with respect to probs or logits."""
import math

import numpy as np

from ..tensor import Tensor, Size, functions
from ..backend import namespace
from . import constraints
from .distribution import Distribution, ExponentialFamily
from .utils import (broadcast_all, _is_number, _generator, _uniform, lazy_property, logits_to_probs,
                    probs_to_logits, finfo, softplus, lgamma, xlogy, log1p)

__all__ = ["Bernoulli", "Binomial", "Poisson", "Categorical", "OneHotCategorical", "OneHotCategoricalStraightThrough"]

_where = functions["where"]


def _probs_or_logits(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _expand_param(self, new, shape):
    """Copy probs and/or logits (whichever were computed) expanded to ``shape`` onto ``new``."""
    for name in ("probs", "logits"):
        if name in self.__dict__:
            setattr(new, name, self.__dict__[name].expand(shape))
            new._param = getattr(new, name)


def _arange_support(self, n, dtype, expand):
    """0..n-1 along a new first dimension, lined up with the batch (enumerate_support)."""
    xp = namespace(self._param._data)
    values = Tensor._make(xp.arange(n, dtype=dtype)).reshape((-1,) + (1,) * len(self._batch_shape))
    if expand:
        values = values.expand((-1,) + tuple(self._batch_shape))
    return values


class Bernoulli(ExponentialFamily):
    """1 with probability ``probs`` (or sigmoid(``logits``)), else 0."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        _probs_or_logits(probs, logits)
        if probs is not None:
            is_scalar = _is_number(probs)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = _is_number(logits)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = Size(batch_shape)
        _expand_param(self, new, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs)
        return _where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach().expand(shape)
        return (_uniform(shape, probs) < probs).to(probs)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return logits * value - softplus(logits)  # -binary_cross_entropy_with_logits

    def entropy(self):
        return softplus(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand=True):
        return _arange_support(self, 2, self._param._data.dtype, expand)

    @property
    def _natural_params(self):
        p = self.probs
        return ((p / (1 - p)).log(),)

    def _log_normalizer(self, x):
        return log1p(x.exp())


class Binomial(Distribution):
    """The number of successes in ``total_count`` independent Bernoulli(``probs``) trials."""
    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _probs_or_logits(probs, logits)
        name = "probs" if probs is not None else "logits"
        total, param = broadcast_all(total_count, probs if probs is not None else logits)
        self.total_count = total.type_as(param)
        setattr(self, name, param)
        self._param = param
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        _expand_param(self, new, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        m = ((self.total_count + 1) * self.probs).detach()
        return Tensor._make(namespace(m._data).floor(m._data)).clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        n = self.total_count.detach().expand(shape)._data
        p = self.probs.detach().expand(shape)._data
        counts = _generator(self.probs).binomial(n.astype(np.int64), p)
        return Tensor._make(namespace(p).asarray(counts, dtype=p.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = lgamma(self.total_count + 1)
        log_factorial_k = lgamma(value + 1)
        log_factorial_nmk = lgamma(self.total_count - value + 1)
        logits = self.logits  # log(1 + e^l) = max(l, 0) + log1p(e^-|l|)
        normalize_term = (self.total_count * (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
                          + self.total_count * log1p((-logits.abs()).exp()) - log_factorial_n)
        return value * logits - log_factorial_k - log_factorial_nmk - normalize_term

    def _homogeneous_count(self, what):
        total_count = int(self.total_count.max())
        if not self.total_count.min() == total_count:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total_count

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = self._homogeneous_count("enumerate_support")
        return _arange_support(self, 1 + total_count, self._param._data.dtype, expand)


class Poisson(ExponentialFamily):
    """The number of events at ``rate`` per unit interval."""
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if _is_number(rate) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Poisson, _instance)
        batch_shape = Size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        r = self.rate.detach()
        return Tensor._make(namespace(r._data).floor(r._data))

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        rate = self.rate.detach().expand(shape)._data
        return Tensor._make(namespace(rate).asarray(_generator(self.rate).poisson(rate), dtype=rate.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)

    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()


class Categorical(Distribution):
    """One of K categories with probabilities ``probs`` (normalised along the last dimension) or
    softmax(``logits``); samples are int64 indices."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _probs_or_logits(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.ndim > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = Size(batch_shape)
        _expand_param(self, new, tuple(batch_shape) + (self._num_events,))
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    def _nans(self):
        xp = namespace(self._param._data)
        return Tensor._make(xp.full(tuple(self._extended_shape()), math.nan, dtype=self._param._data.dtype))

    @property
    def mean(self):
        return self._nans()

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return self._nans()

    def sample(self, sample_shape=Size()):
        """Inverse-CDF sampling: the index of the first cumulative probability above u ~ U[0, 1)."""
        sample_shape = Size(sample_shape)
        probs = self.probs.detach().reshape(-1, self._num_events)._data
        xp = namespace(probs)
        cdf = xp.cumsum(probs.astype(np.float64), -1)
        n = int(np.prod(tuple(sample_shape), dtype=np.int64))
        u = _generator(self.probs).random((n, probs.shape[0], 1)) * cdf[:, -1:]
        idx = xp.minimum((u >= cdf).sum(-1), self._num_events - 1).astype(np.int64)
        return Tensor._make(idx).reshape(tuple(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        index = value.detach()._data.astype(np.int64)
        if index.shape == tuple(self._batch_shape):  # one value per distribution: pick its logit
            return self.logits.gather(-1, Tensor._make(index[..., None])).squeeze(-1)
        xp = namespace(index)
        shape = np.broadcast_shapes(index.shape + (1,), tuple(self.logits.shape))
        mask = Tensor._make(xp.broadcast_to(index[..., None] == xp.arange(self._num_events), shape))
        return _where(mask, self.logits.expand(shape), 0.0).sum(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        return _arange_support(self, self._num_events, np.int64, expand)


class OneHotCategorical(Distribution):
    """Categorical with one-hot samples of shape batch_shape + (K,)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = Size(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return _one_hot(probs.argmax(dim=-1), probs.shape[-1], probs)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        indices = self._categorical.sample(sample_shape)
        return _one_hot(indices, self._categorical._num_events, self._categorical.probs)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        indices = value.max(-1)[1]
        return self._categorical.log_prob(indices)

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self.event_shape[0]
        xp = namespace(self._param._data)
        values = Tensor._make(xp.eye(n, dtype=self._param._data.dtype))
        values = values.reshape((n,) + (1,) * len(self.batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + tuple(self.batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose rsample passes gradients straight through to probs
    (sample + probs - probs.detach())."""
    has_rsample = True

    def rsample(self, sample_shape=Size()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())


def _one_hot(indices, n, like):
    xp = namespace(indices._data)
    return Tensor._make((indices._data[..., None] == xp.arange(n)).astype(like._data.dtype))
