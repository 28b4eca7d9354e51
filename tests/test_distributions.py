"""chainrule.distributions against torch.distributions: densities, entropies, moments, cdf/icdf and
KL values with their gradients (same NumPy parameters in both), sample shapes, dtypes and
statistics, reparameterised gradients, and the validate_args errors."""

import numpy as np
import pytest
import torch
import torch.distributions as TD

import chainrule as cr
import chainrule.distributions as D
from helpers import compare, assert_close

RNG = np.random.default_rng(0)


def _pos(*shape, lo=0.5, hi=2.0):
    return RNG.uniform(lo, hi, shape)


def _real(*shape):
    return RNG.standard_normal(shape)


def _simplex(*shape):
    p = RNG.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _tril(n, batch=()):
    a = RNG.standard_normal(batch + (n, n)) * 0.3
    return np.tril(a, -1) + np.eye(n) * RNG.uniform(0.5, 1.5, batch + (n,))[..., None]


def _spd(n, batch=()):
    L = _tril(n, batch)
    return L @ np.swapaxes(L, -1, -2)


# ---- one row per distribution: name -> (parameters, a value in the support, methods) ----------------
# ``make(lib, *tensors)`` builds the distribution from ``lib`` (chainrule's or torch's module).

def _bern_probs(lib, p):
    return lib.Bernoulli(probs=p)


CASES = {
    "Normal": (lambda lib, loc, scale: lib.Normal(loc, scale), [_real(3, 4), _pos(3, 4)], _real(3, 4),
               "log_prob entropy mean variance stddev mode cdf icdf"),
    "LogNormal": (lambda lib, loc, scale: lib.LogNormal(loc, scale), [_real(4) * 0.5, _pos(4)], _pos(2, 4),
                  "log_prob entropy mean variance mode cdf icdf"),
    "Uniform": (lambda lib, lo, hi: lib.Uniform(lo, hi), [_real(5) - 2, _real(5) + 2], _real(5) * 0.3,
                "log_prob entropy mean variance stddev cdf icdf"),
    "Exponential": (lambda lib, rate: lib.Exponential(rate), [_pos(2, 3)], _pos(2, 3),
                    "log_prob entropy mean variance stddev cdf icdf"),
    "Laplace": (lambda lib, loc, scale: lib.Laplace(loc, scale), [_real(6), _pos(6)], _real(6),
                "log_prob entropy mean variance stddev mode cdf icdf"),
    "Gamma": (lambda lib, c, r: lib.Gamma(c, r), [_pos(2, 3, lo=0.5, hi=4), _pos(2, 3)], _pos(2, 3),
              "log_prob entropy mean variance mode"),
    "Beta": (lambda lib, a, b: lib.Beta(a, b), [_pos(5, lo=0.5, hi=4), _pos(5, lo=0.5, hi=4)],
             RNG.uniform(0.05, 0.95, 5), "log_prob entropy mean variance mode"),
    "Dirichlet": (lambda lib, c: lib.Dirichlet(c), [_pos(2, 4, lo=1.1, hi=3)], _simplex(2, 4),
                  "log_prob entropy mean variance mode"),
    "Bernoulli(probs)": (_bern_probs, [RNG.uniform(0.1, 0.9, (2, 3))], (RNG.random((2, 3)) > 0.5) * 1.0,
                         "log_prob entropy mean variance"),
    "Bernoulli(logits)": (lambda lib, l: lib.Bernoulli(logits=l), [_real(4)], np.array([0., 1., 1., 0.]),
                          "log_prob entropy mean variance"),
    "Categorical(probs)": (lambda lib, p: lib.Categorical(probs=p), [_simplex(3, 5)], np.array([0, 4, 2]),
                           "log_prob entropy"),
    "Categorical(logits)": (lambda lib, l: lib.Categorical(logits=l), [_real(2, 3, 4)],
                            RNG.integers(0, 4, (5, 2, 3)), "log_prob entropy"),
    "OneHotCategorical": (lambda lib, l: lib.OneHotCategorical(logits=l), [_real(3, 4)],
                          np.eye(4)[[1, 3, 0]], "log_prob entropy mean variance"),
    "MVN(scale_tril)": (lambda lib, loc, L: lib.MultivariateNormal(loc, scale_tril=L), [_real(2, 3), _tril(3, (2,))],
                        _real(4, 2, 3), "log_prob entropy mean variance"),
    "MVN(covariance)": (lambda lib, loc, S: lib.MultivariateNormal(loc, covariance_matrix=S), [_real(3), _spd(3)],
                        _real(2, 3), "log_prob entropy variance"),
    "MVN(precision)": (lambda lib, loc, P: lib.MultivariateNormal(loc, precision_matrix=P), [_real(3), _spd(3)],
                       _real(3), "log_prob entropy variance"),
    "Independent": (lambda lib, loc, scale: lib.Independent(lib.Normal(loc, scale), 1), [_real(2, 3), _pos(2, 3)],
                    _real(2, 3), "log_prob entropy mean variance"),
    "Poisson": (lambda lib, rate: lib.Poisson(rate), [_pos(4, lo=0.5, hi=5)], np.array([0., 1., 3., 7.]),
                "log_prob mean variance"),
    "Binomial": (lambda lib, p: lib.Binomial(5, probs=p), [RNG.uniform(0.1, 0.9, 4)], np.array([0., 2., 5., 3.]),
                 "log_prob entropy mean variance"),
}
# parameters a method's value must not take gradients through (indices, one-hot values, counts)
INT_VALUE = {"Categorical(probs)", "Categorical(logits)"}
NO_VALUE_GRAD = INT_VALUE | {"OneHotCategorical", "Bernoulli(probs)", "Bernoulli(logits)", "Poisson", "Binomial"}
PARAM_FIXES = {"MVN(covariance)": 1, "MVN(precision)": 1}  # symmetric: grads compared after symmetrising


def _method(dist, name, value):
    if name in ("log_prob", "cdf"):
        return getattr(dist, name)(value)
    if name == "icdf":
        return dist.icdf(dist.cdf(value).detach())
    if name == "entropy":
        return dist.entropy()
    return getattr(dist, name)


def _run(name, method, dtype):
    make, params, value, _ = CASES[name]
    params = [p.astype(dtype) for p in params]
    value = value.astype(np.int64 if name in INT_VALUE else dtype)

    def build(lib, tensors):
        *ps, v = tensors
        if name in NO_VALUE_GRAD and v.is_floating_point():
            v = v.detach()
        if name in PARAM_FIXES:  # a symmetric matrix parameter: grads must be symmetric in both
            i = PARAM_FIXES[name]
            ps[i] = (ps[i] + ps[i].mT) / 2
        return _method(make(lib, *ps), method, v)
    return compare(lambda *t: build(D, t), lambda *t: build(TD, t), params + [value],
                   tol=dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-8))


@pytest.mark.parametrize("name,method", [(n, m) for n, c in CASES.items() for m in c[3].split()])
def test_against_torch_float64(name, method):
    _run(name, method, np.float64)


@pytest.mark.parametrize("name", list(CASES))
def test_log_prob_float32(name):
    _run(name, "log_prob", np.float32)


# ---- kl_divergence: values and gradients w.r.t. both distributions' parameters ---------------------

KL_CASES = {
    "Normal": (lambda lib, a, b, c, d: (lib.Normal(a, b), lib.Normal(c, d)), [_real(3), _pos(3), _real(3), _pos(3)]),
    "Bernoulli": (lambda lib, a, b: (lib.Bernoulli(probs=a), lib.Bernoulli(logits=b)),
                  [RNG.uniform(0.1, 0.9, 4), _real(4)]),
    "Categorical": (lambda lib, a, b: (lib.Categorical(probs=a), lib.Categorical(logits=b)),
                    [_simplex(2, 5), _real(2, 5)]),
    "OneHotCategorical": (lambda lib, a, b: (lib.OneHotCategorical(logits=a), lib.OneHotCategorical(probs=b)),
                          [_real(3, 4), _simplex(3, 4)]),
    "Uniform": (lambda lib, a, b, c, d: (lib.Uniform(a, b), lib.Uniform(c, d)),
                [_real(4) * 0.1, _real(4) * 0.1 + 1, _real(4) * 0.1 - 2, _real(4) * 0.1 + 3]),
    "MultivariateNormal": (lambda lib, a, b, c, d: (lib.MultivariateNormal(a, scale_tril=b),
                                                    lib.MultivariateNormal(c, scale_tril=d)),
                           [_real(2, 3), _tril(3, (2,)), _real(3), _tril(3)]),
    "Beta": (lambda lib, a, b, c, d: (lib.Beta(a, b), lib.Beta(c, d)), [_pos(3), _pos(3), _pos(3), _pos(3)]),
    "Gamma": (lambda lib, a, b, c, d: (lib.Gamma(a, b), lib.Gamma(c, d)), [_pos(3), _pos(3), _pos(3), _pos(3)]),
    "Dirichlet": (lambda lib, a, b: (lib.Dirichlet(a), lib.Dirichlet(b)), [_pos(2, 4), _pos(4)]),
    "Exponential": (lambda lib, a, b: (lib.Exponential(a), lib.Exponential(b)), [_pos(5), _pos(5)]),
    "Laplace": (lambda lib, a, b, c, d: (lib.Laplace(a, b), lib.Laplace(c, d)), [_real(3), _pos(3), _real(3), _pos(3)]),
    "Independent": (lambda lib, a, b, c, d: (lib.Independent(lib.Normal(a, b), 1),
                                             lib.Independent(lib.Normal(c, d), 1)),
                    [_real(2, 3), _pos(2, 3), _real(2, 3), _pos(2, 3)]),
    "Poisson": (lambda lib, a, b: (lib.Poisson(a), lib.Poisson(b)), [_pos(3), _pos(3)]),
    "Binomial": (lambda lib, a, b: (lib.Binomial(6, a), lib.Binomial(6, logits=b)),
                 [RNG.uniform(0.1, 0.9, 3), _real(3)]),
    "LogNormal": (lambda lib, a, b, c, d: (lib.LogNormal(a, b), lib.LogNormal(c, d)),
                  [_real(3), _pos(3), _real(3), _pos(3)]),
}


@pytest.mark.parametrize("name", list(KL_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_divergence(name, dtype):
    make, params = KL_CASES[name]
    params = [p.astype(dtype) for p in params]
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-8)
    compare(lambda *t: D.kl_divergence(*make(D, *t)), lambda *t: TD.kl_divergence(*make(TD, *t)), params, tol=tol)


def test_kl_infinite_where_supports_differ():
    lo, hi = np.array([0.0, 0.0]), np.array([1.0, 1.0])
    p = D.Uniform(cr.tensor(lo), cr.tensor(hi))
    q = D.Uniform(cr.tensor([0.5, -1.0]), cr.tensor([2.0, 2.0]))
    tq = TD.Uniform(torch.tensor([0.5, -1.0]), torch.tensor([2.0, 2.0]))
    assert_close(D.kl_divergence(p, q), TD.kl_divergence(TD.Uniform(torch.tensor(lo), torch.tensor(hi)), tq))
    probs = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    qprobs = np.array([[0.5, 0.0, 0.5], [0.2, 0.3, 0.5]])
    out = D.kl_divergence(D.Categorical(cr.tensor(probs)), D.Categorical(cr.tensor(qprobs)))
    ref = TD.kl_divergence(TD.Categorical(torch.tensor(probs)), TD.Categorical(torch.tensor(qprobs)))
    assert_close(out, ref)
    b = D.kl_divergence(D.Bernoulli(cr.tensor([0.0, 1.0, 0.3])), D.Bernoulli(cr.tensor([0.5, 0.0, 0.3])))
    tb = TD.kl_divergence(TD.Bernoulli(torch.tensor([0.0, 1.0, 0.3])), TD.Bernoulli(torch.tensor([0.5, 0.0, 0.3])))
    assert_close(b, tb)


def test_kl_dispatch_and_register():
    with pytest.raises(NotImplementedError, match=r"No KL\(p \|\| q\) is implemented for p type Normal and q type Lap"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Laplace(0.0, 1.0))

    class MyNormal(D.Normal):
        pass
    # a subclass dispatches to its base class's rule, until a more specific rule is registered
    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0))) == pytest.approx(0.5)

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return cr.tensor(42.0)
    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0))) == 42.0
    assert float(D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 1.0))) == pytest.approx(0.5)


def test_exponential_family_bregman_entropy_and_kl():
    """The generic ExponentialFamily entropy and KL (autograd of the log normalizer) match the
    closed forms (torch's own test of its Bregman divergence)."""
    f = lambda a: cr.tensor(a, dtype=cr.float64)  # noqa: E731
    from chainrule.distributions.kl import _kl_expfamily_expfamily
    for p, q in [(D.Normal(f([0.5, -1.0]), f([2.0, 0.5])), D.Normal(f([1.0, 0.0]), f([1.0, 1.5]))),
                 (D.Exponential(f([0.5, 2.0])), D.Exponential(f([1.0, 3.0])))]:
        assert_close(D.ExponentialFamily.entropy(p), p.entropy().detach().numpy())
        assert_close(_kl_expfamily_expfamily(p, q), D.kl_divergence(p, q).detach().numpy())
    with pytest.raises(NotImplementedError):
        _kl_expfamily_expfamily(D.Normal(f([0.0]), f([1.0])), D.Exponential(f([1.0])))


# ---- shapes, dtypes, expand, enumerate_support ------------------------------------------------------

def _shape_dists(lib, T):
    rng = np.random.default_rng(1)
    f = lambda a: T(np.asarray(a, dtype=np.float32))  # noqa: E731
    _real = lambda *s: rng.standard_normal(s)  # noqa: E731
    _pos = lambda *s: rng.uniform(0.5, 2.0, s)  # noqa: E731
    _simplex = lambda *s: rng.dirichlet(np.ones(s[-1]), s[:-1])  # noqa: E731
    return {
        "Normal": lib.Normal(f(_real(2, 3)), f(_pos(2, 3))),
        "LogNormal": lib.LogNormal(f(_real(2, 3)), f(_pos(2, 3))),
        "Uniform": lib.Uniform(f(np.zeros((2, 3))), f(np.ones((2, 3)))),
        "Exponential": lib.Exponential(f(_pos(2, 3))),
        "Laplace": lib.Laplace(f(_real(2, 3)), f(_pos(2, 3))),
        "Gamma": lib.Gamma(f(_pos(2, 3)), f(_pos(2, 3))),
        "Beta": lib.Beta(f(_pos(2, 3)), f(_pos(2, 3))),
        "Dirichlet": lib.Dirichlet(f(_pos(2, 3))),
        "Bernoulli": lib.Bernoulli(f(RNG.random((2, 3)))),
        "Binomial": lib.Binomial(4, f(RNG.random((2, 3)))),
        "Poisson": lib.Poisson(f(_pos(2, 3))),
        "Categorical": lib.Categorical(f(_simplex(2, 3))),
        "OneHotCategorical": lib.OneHotCategorical(f(_simplex(2, 3))),
        "MultivariateNormal": lib.MultivariateNormal(f(_real(2, 3)), scale_tril=f(_tril(3))),
        "Independent": lib.Independent(lib.Normal(f(_real(2, 3)), f(_pos(2, 3))), 1),
    }


def test_shapes_dtypes_and_expand():
    ours, theirs = _shape_dists(D, cr.tensor), _shape_dists(TD, torch.tensor)
    for name, d in ours.items():
        t = theirs[name]
        assert tuple(d.batch_shape) == tuple(t.batch_shape), name
        assert tuple(d.event_shape) == tuple(t.event_shape), name
        assert d.has_rsample == t.has_rsample and d.has_enumerate_support == t.has_enumerate_support, name
        assert repr(d.support).replace("chainrule.", "torch.") == repr(t.support), name
        assert {k: repr(v) for k, v in d.arg_constraints.items()} == {k: repr(v) for k, v in t.arg_constraints.items()}
        for shape in [(), (5,), (4, 1)]:
            s, ts = d.sample(shape), t.sample(shape)
            assert tuple(s.shape) == tuple(ts.shape), (name, shape)
            assert str(s.dtype).split(".")[-1] == str(ts.dtype).split(".")[-1], name
            assert not s.requires_grad
            assert bool(d.support.check(s).all()), name
        lp = d.log_prob(d.sample((2,)))
        assert tuple(lp.shape) == (2,) + tuple(t.batch_shape) and lp.dtype == cr.float32, name
        batch = (4,) + tuple(d.batch_shape)
        e, te = d.expand(batch), t.expand(batch)
        assert type(e) is type(d) and tuple(e.batch_shape) == tuple(te.batch_shape), name
        assert tuple(e.event_shape) == tuple(te.event_shape)
        assert tuple(e.sample((3,)).shape) == tuple(te.sample((3,)).shape), name
        if name not in ("Categorical", "OneHotCategorical", "Bernoulli", "Binomial", "Poisson"):
            assert_close(e.mean, te.mean, tol=dict(rtol=1e-5, atol=1e-6))
        if d.has_enumerate_support:
            for expand in (True, False):
                assert_close(d.enumerate_support(expand), t.enumerate_support(expand))


def test_scalar_parameters():
    for make, x in ((lambda lib: lib.Normal(0.0, 1.0), 0.5), (lambda lib: lib.Gamma(2.0, 3.0), 0.5),
                    (lambda lib: lib.Beta(2.0, 3.0), 0.5), (lambda lib: lib.Bernoulli(0.3), 1.0),
                    (lambda lib: lib.Exponential(2.0), 0.5), (lambda lib: lib.Laplace(1.0, 2.0), 0.5),
                    (lambda lib: lib.Uniform(0.0, 2.0), 0.5), (lambda lib: lib.Poisson(3.0), 2.0)):
        d, t = make(D), make(TD)
        assert tuple(d.batch_shape) == tuple(t.batch_shape) == ()
        assert tuple(d.sample((3,)).shape) == (3,) and d.sample().dtype == cr.float32
        assert_close(d.log_prob(cr.tensor(x)), t.log_prob(torch.tensor(x)))


def test_repr_and_constraints():
    d = D.Normal(cr.tensor([0.0]), cr.tensor([1.0]))
    assert repr(d) == "Normal(loc: tensor([0.]), scale: tensor([1.]))"
    assert repr(D.Normal.arg_constraints["scale"]) == repr(TD.Normal.arg_constraints["scale"])
    assert repr(D.constraints.unit_interval) == repr(TD.constraints.unit_interval)
    assert repr(D.constraints.simplex) == "Simplex()"
    assert repr(D.constraints.real_vector) == repr(TD.constraints.real_vector)
    assert D.constraints.is_dependent(D.Uniform.support) and D.constraints.is_dependent(D.Categorical.support)
    c = D.constraints
    x = np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, 0.2]])
    for name in ["real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer",
                 "positive_integer", "simplex", "one_hot", "real_vector"]:
        assert_close(getattr(c, name).check(cr.tensor(x)), getattr(TD.constraints, name).check(torch.tensor(x)))
    for ours, theirs in [(c.interval(0.0, 1.0), TD.constraints.interval(0.0, 1.0)),
                         (c.half_open_interval(0.0, 1.0), TD.constraints.half_open_interval(0.0, 1.0)),
                         (c.greater_than(0.2), TD.constraints.greater_than(0.2)),
                         (c.less_than(0.5), TD.constraints.less_than(0.5)),
                         (c.integer_interval(0, 1), TD.constraints.integer_interval(0, 1)),
                         (c.independent(c.positive, 1), TD.constraints.independent(TD.constraints.positive, 1))]:
        assert_close(ours.check(cr.tensor(x)), theirs.check(torch.tensor(x)))
        assert repr(ours) == repr(theirs)
    m = np.stack([_tril(3), _spd(3), -np.eye(3)])
    for name in ["lower_cholesky", "lower_triangular", "positive_definite", "symmetric", "square"]:
        assert_close(getattr(c, name).check(cr.tensor(m)), getattr(TD.constraints, name).check(torch.tensor(m)))


# ---- validate_args: torch's ValueError for bad parameters and for values outside the support -----

@pytest.mark.parametrize("make,param,constraint", [
    (lambda lib, T: lib.Normal(T([0.0]), T([-1.0])), "scale", "GreaterThan(lower_bound=0.0)"),
    (lambda lib, T: lib.Bernoulli(probs=T([1.5])), "probs", "Interval(lower_bound=0.0, upper_bound=1.0)"),
    (lambda lib, T: lib.Gamma(T([-1.0]), T([1.0])), "concentration", "GreaterThan(lower_bound=0.0)"),
    (lambda lib, T: lib.Exponential(T([0.0])), "rate", "GreaterThan(lower_bound=0.0)"),
    (lambda lib, T: lib.Categorical(probs=T([-0.5, 1.5])), "probs", "Simplex()"),
    (lambda lib, T: lib.Dirichlet(T([1.0, -1.0])), "concentration",
     "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)"),
    (lambda lib, T: lib.MultivariateNormal(T([0.0, 0.0]), scale_tril=T([[1.0, 0.0], [0.0, -1.0]])), "scale_tril",
     "LowerCholesky()"),
    (lambda lib, T: lib.MultivariateNormal(T([0.0, 0.0]), covariance_matrix=T([[1.0, 2.0], [2.0, 1.0]])),
     "covariance_matrix", "PositiveDefinite()"),
])
def test_validate_args_parameters(make, param, constraint):
    with pytest.raises(ValueError, match=f"Expected parameter {param}") as theirs:
        make(TD, torch.tensor)
    with pytest.raises(ValueError, match=f"Expected parameter {param}") as ours:
        make(D, cr.tensor)
    msg = str(ours.value)
    assert f"to satisfy the constraint {constraint}, but found invalid values" in msg
    assert msg.split(" of distribution")[0] == str(theirs.value).split(" of distribution")[0]


def test_validate_args_off_and_default():
    D.Normal(cr.tensor([0.0]), cr.tensor([-1.0]), validate_args=False)  # no check
    with pytest.raises(ValueError, match="Expected parameter low"):
        D.Uniform(cr.tensor([1.0]), cr.tensor([0.0]))
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(cr.tensor([0.0]), cr.tensor([-1.0]))
        assert D.Normal(0.0, 1.0).log_prob(cr.tensor([[1.0, 2.0]])).shape == (1, 2)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


@pytest.mark.parametrize("make,value,match", [
    (lambda lib, T: lib.Exponential(T([1.0])), [-1.0], "Expected value argument"),
    (lambda lib, T: lib.Beta(T([1.0]), T([2.0])), [1.5], "Expected value argument"),
    (lambda lib, T: lib.Bernoulli(T([0.5])), [0.5], "Expected value argument"),
    (lambda lib, T: lib.Categorical(T([0.5, 0.5])), [2.0], "Expected value argument"),
    (lambda lib, T: lib.Categorical(T([0.5, 0.5])), [0.5], "Expected value argument"),  # not an integer
    (lambda lib, T: lib.Categorical(T([0.5, 0.5])), [2], "Expected value argument"),  # int64, out of range
    (lambda lib, T: lib.Binomial(3, T([0.5])), [-1], "Expected value argument"),
    (lambda lib, T: lib.Normal(T([0.0, 0.0]), T([1.0, 1.0])), [0.0, 0.0, 0.0], "Value is not broadcastable"),
    (lambda lib, T: lib.Dirichlet(T([1.0, 1.0])), [0.2, 0.3, 0.5], "The right-most size of value must match"),
    (lambda lib, T: lib.Dirichlet(T([1.0, 1.0])), [0.2, 0.3], "Expected value argument"),
])
def test_validate_args_values(make, value, match):
    with pytest.raises(ValueError, match=match):
        make(TD, torch.tensor).log_prob(torch.tensor(value))
    with pytest.raises(ValueError, match=match) as ours:
        make(D, cr.tensor).log_prob(cr.tensor(value))
    if match == "Expected value argument":
        assert "to be within the support" in str(ours.value)
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        make(D, cr.tensor).log_prob(value)


def test_constructor_errors():
    for lib, T in [(D, cr.tensor), (TD, torch.tensor)]:
        with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
            lib.Bernoulli(probs=T([0.5]), logits=T([0.0]))
        with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
            lib.Categorical()
        with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional."):
            lib.Categorical(probs=T(0.5))
        with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
            lib.MultivariateNormal(T([0.0]))
        with pytest.raises(ValueError, match="loc must be at least one-dimensional."):
            lib.MultivariateNormal(T(0.0), scale_tril=T([[1.0]]))
        with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len"):
            lib.Independent(lib.Normal(T([0.0]), T([1.0])), 2)
        with pytest.raises(NotImplementedError):
            lib.Independent(lib.Bernoulli(T([[0.5]])), 1).enumerate_support()


# ---- samples: moments over many draws (seeded; the bounds are ~5 standard errors) -------------------

N = 20000


@pytest.mark.parametrize("name", ["Normal", "LogNormal", "Uniform", "Exponential", "Laplace", "Gamma", "Beta",
                                  "Dirichlet", "Bernoulli", "Binomial", "Poisson", "OneHotCategorical",
                                  "MultivariateNormal"])
def test_sample_moments(name):
    cr.manual_seed(0)
    f = lambda a: cr.tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    d = {"Normal": lambda: D.Normal(f([0.0, 3.0]), f([1.0, 0.5])),
         "LogNormal": lambda: D.LogNormal(f([0.0, 0.5]), f([0.25, 0.5])),
         "Uniform": lambda: D.Uniform(f([0.0, -2.0]), f([1.0, 5.0])),
         "Exponential": lambda: D.Exponential(f([0.5, 4.0])),
         "Laplace": lambda: D.Laplace(f([1.0, -1.0]), f([0.5, 2.0])),
         "Gamma": lambda: D.Gamma(f([0.3, 2.0, 9.0]), f([1.0, 2.0, 0.5])),
         "Beta": lambda: D.Beta(f([0.5, 2.0]), f([0.5, 5.0])),
         "Dirichlet": lambda: D.Dirichlet(f([0.5, 1.0, 3.0])),
         "Bernoulli": lambda: D.Bernoulli(f([0.1, 0.5, 0.9])),
         "Binomial": lambda: D.Binomial(10, f([0.2, 0.7])),
         "Poisson": lambda: D.Poisson(f([0.5, 4.0])),
         "OneHotCategorical": lambda: D.OneHotCategorical(f([0.2, 0.3, 0.5])),
         "MultivariateNormal": lambda: D.MultivariateNormal(f([1.0, -1.0]), f([[2.0, 0.5], [0.5, 1.0]])),
         }[name]()
    x = d.sample((N,)).numpy()
    mean, var = d.mean.detach().numpy(), d.variance.detach().numpy()
    se = np.sqrt(var / N)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se + 1e-12), (x.mean(0), mean)
    # the variance of the sample variance is about (mu4 - var^2) / N; a loose bound at 10% (or 5 se)
    np.testing.assert_allclose(x.var(0), var, rtol=0.1)
    assert bool(d.support.check(cr.tensor(x)).all())


def test_categorical_sample_frequencies_and_seed():
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    cr.manual_seed(3)
    s = D.Categorical(cr.tensor(p)).sample((N,))
    assert s.dtype == cr.int64 and tuple(s.shape) == (N, 2)
    freq = np.stack([(s.numpy() == k).mean(0) for k in range(3)], -1)
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / N) + 1e-12)
    cr.manual_seed(3)
    assert np.array_equal(D.Categorical(cr.tensor(p)).sample((N,)).numpy(), s.numpy())  # reproducible


# ---- rsample: reparameterised gradients ---------------------------------------------------------------

def _grad(fn, *params):
    ps = [cr.tensor(np.asarray(p, dtype=np.float64), requires_grad=True) for p in params]
    fn(*ps).backward()
    return [p.grad.numpy() for p in ps]


def test_rsample_gradients_location_scale():
    cr.manual_seed(1)
    for make in (D.Normal, D.Laplace):
        g_loc, g_scale = _grad(lambda m, s: make(m, s).rsample((N,)).mean(0).sum(), [0.5, -1.0], [1.0, 2.0])
        np.testing.assert_allclose(g_loc, 1.0, rtol=1e-12)  # d mean(x) / d loc = 1 exactly
        assert np.all(np.abs(g_scale) < 0.1)  # E[eps] = 0
        # d E[x^2] / d scale = 2 scale E[eps^2] = 2 scale var(eps)
        _, g = _grad(lambda m, s: make(m, s).rsample((N,)).pow(2).mean(0).sum(), [0.0, 0.0], [1.0, 2.0])
        eps_var = 1.0 if make is D.Normal else 2.0
        np.testing.assert_allclose(g, 2 * np.array([1.0, 2.0]) * eps_var, rtol=0.1)
    g_lo, g_hi = _grad(lambda a, b: D.Uniform(a, b).rsample((N,)).mean(), [0.0], [2.0])
    np.testing.assert_allclose([g_lo[0], g_hi[0]], [0.5, 0.5], atol=0.02)
    (g,) = _grad(lambda r: D.Exponential(r).rsample((N,)).mean(0).sum(), [0.5, 2.0])
    np.testing.assert_allclose(g, -1 / np.array([0.5, 2.0]) ** 2, rtol=0.05)
    g_loc, _ = _grad(lambda m, s: D.LogNormal(m, s).rsample((N,)).mean(), [0.0], [0.3])
    np.testing.assert_allclose(g_loc, np.exp(0.045), rtol=0.05)  # d E[x] / d loc = E[x]


def test_rsample_gradient_multivariate_normal():
    cr.manual_seed(2)
    L = _tril(3)
    g_loc, g_L = _grad(lambda m, S: D.MultivariateNormal(m, scale_tril=S).rsample((N,)).pow(2).sum(-1).mean(),
                       np.zeros(3), L)
    # E|x|^2 = |loc|^2 + |L|_F^2: gradient 2 loc and 2 L
    assert np.all(np.abs(g_loc) < 0.1)
    np.testing.assert_allclose(g_L, 2 * L, atol=0.1)


def test_standard_gamma_grad_matches_torch():
    from chainrule.distributions.gamma import standard_gamma_grad
    rng = np.random.default_rng(1)
    for dtype in (np.float64, np.float32):
        a = np.concatenate([rng.uniform(0.05, 30, 500), [0.1, 1.0, 5.0, 9.0, 20.0, 100.0]]).astype(dtype)
        x = np.maximum(rng.standard_gamma(a), 1e-6).astype(dtype)
        ref = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
        out = standard_gamma_grad(a, x)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, ref, rtol=1e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("conc", [0.3, 2.0, 12.0])
def test_gamma_rsample_gradient(conc):
    cr.manual_seed(4)
    rate = 2.0
    g_c, g_r = _grad(lambda c, r: D.Gamma(c, r).rsample((N,)).mean(), [conc], [rate])
    np.testing.assert_allclose(g_c, 1 / rate, rtol=0.05)  # d E[x] / d concentration = 1 / rate
    np.testing.assert_allclose(g_r, -conc / rate ** 2, rtol=0.05)
    (g2,) = _grad(lambda c: D.Gamma(c, rate).rsample((N,)).pow(2).mean(), [conc])
    np.testing.assert_allclose(g2, (2 * conc + 1) / rate ** 2, rtol=0.1)  # E[x^2] = c (c + 1) / rate^2
    # the same statistic from torch's rsample agrees
    c = torch.tensor([conc], dtype=torch.float64, requires_grad=True)
    torch.manual_seed(0)
    TD.Gamma(c, rate).rsample((N,)).pow(2).mean().backward()
    np.testing.assert_allclose(g2, c.grad.numpy(), rtol=0.15)


def test_beta_dirichlet_rsample_gradients():
    cr.manual_seed(5)
    a, b = 2.0, 3.0
    g_a, g_b = _grad(lambda x, y: D.Beta(x, y).rsample((N,)).mean(), [a], [b])
    np.testing.assert_allclose([g_a[0], g_b[0]], [b / (a + b) ** 2, -a / (a + b) ** 2], rtol=0.1)
    alpha = np.array([1.0, 2.0, 3.0])
    (g,) = _grad(lambda c: D.Dirichlet(c).rsample((N,))[..., 0].mean(), alpha)
    s = alpha.sum()  # E[x_0] = alpha_0 / s
    np.testing.assert_allclose(g, [1 / s - alpha[0] / s ** 2, -alpha[0] / s ** 2, -alpha[0] / s ** 2], atol=0.01)
    x = D.Dirichlet(cr.tensor(alpha)).rsample((4,))
    np.testing.assert_allclose(x.numpy().sum(-1), 1.0, rtol=1e-12)


def test_sample_is_detached_and_rsample_only_where_torch_has_it():
    loc = cr.tensor([0.0], requires_grad=True)
    assert not D.Normal(loc, 1.0).sample().requires_grad
    assert D.Normal(loc, 1.0).rsample().requires_grad
    for d in (D.Bernoulli(cr.tensor([0.5])), D.Categorical(cr.tensor([0.5, 0.5])), D.Poisson(cr.tensor([1.0]))):
        with pytest.raises(NotImplementedError):
            d.rsample()


def test_gamma_cdf():
    c, r, x = _pos(2, 3, lo=0.5, hi=4), _pos(2, 3), _pos(2, 3)
    for dtype, tol in [(np.float64, dict(rtol=1e-7, atol=1e-9)), (np.float32, None)]:
        compare(lambda r, x: D.Gamma(cr.tensor(c.astype(dtype)), r).cdf(x),
                lambda r, x: TD.Gamma(torch.tensor(c.astype(dtype)), r).cdf(x), [r.astype(dtype), x.astype(dtype)],
                tol=tol)
    conc = cr.tensor([2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input' is not implemented."):
        D.Gamma(conc, 1.0).cdf(cr.tensor([1.0])).sum().backward()


def test_one_hot_straight_through():
    logits = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    cr.manual_seed(0)
    ours, theirs = cr.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    d, t = D.OneHotCategoricalStraightThrough(logits=ours), TD.OneHotCategoricalStraightThrough(logits=theirs)
    assert d.has_rsample and t.has_rsample
    s = d.rsample((4,))
    assert tuple(s.shape) == (4, 2, 3) and bool((s.sum(-1) == 1).all())
    w = RNG.standard_normal((4, 2, 3))
    (s * cr.tensor(w)).sum().backward()
    (t.rsample((4,)) * torch.tensor(w)).sum().backward()
    assert_close(ours.grad, theirs.grad)  # the straight-through gradient does not depend on the draw


# ---- transforms and TransformedDistribution ------------------------------------------------------------

TRANSFORMED = {
    "logit-normal": (lambda lib, loc, scale, a, b: lib.TransformedDistribution(
        lib.Normal(loc, scale), [lib.AffineTransform(a, b), lib.SigmoidTransform()]),
        [_real(3), _pos(3), _real(3), _pos(3)], RNG.uniform(0.1, 0.9, (2, 3))),
    "tanh-normal": (lambda lib, loc, scale: lib.TransformedDistribution(lib.Normal(loc, scale), lib.TanhTransform()),
                    [_real(4) * 0.3, _pos(4)], RNG.uniform(-0.9, 0.9, 4)),
    "sqrt-exponential": (lambda lib, rate: lib.TransformedDistribution(lib.Exponential(rate),
                                                                       [lib.PowerTransform(cr.tensor(0.5) if lib is D
                                                                                           else torch.tensor(0.5))]),
                         [_pos(3)], _pos(3)),
    "logistic": (lambda lib, loc, scale: lib.TransformedDistribution(
        lib.Uniform(torch.tensor(0.0, dtype=loc.dtype) if lib is TD else cr.tensor(0.0, dtype=loc.dtype),
                    torch.tensor(1.0, dtype=loc.dtype) if lib is TD else cr.tensor(1.0, dtype=loc.dtype)),
        [lib.SigmoidTransform().inv, lib.AffineTransform(loc, scale)]), [_real(3), _pos(3)], _real(3)),
    "negated-softplus": (lambda lib, loc, scale: lib.TransformedDistribution(
        lib.Normal(loc, scale), [lib.SoftplusTransform(), lib.AffineTransform(0.0, -2.0)]),
        [_real(3), _pos(3)], -_pos(3)),
    "affine-mvn": (lambda lib, loc, L, s: lib.TransformedDistribution(
        lib.MultivariateNormal(loc, scale_tril=L), lib.AffineTransform(1.0, s, event_dim=1)),
        [_real(3), _tril(3), _pos(3)], _real(2, 3)),
}


@pytest.mark.parametrize("name", list(TRANSFORMED))
@pytest.mark.parametrize("method", ["log_prob", "cdf", "icdf"])
def test_transformed_distribution(name, method):
    make, params, value = TRANSFORMED[name]
    if method != "log_prob" and name == "affine-mvn":
        return  # torch has no cdf for a multivariate base
    arrays = params + [value]
    compare(lambda *t: _method(make(D, *t[:-1]), method, t[-1]), lambda *t: _method(make(TD, *t[:-1]), method, t[-1]),
            arrays, tol=dict(rtol=1e-6, atol=1e-8))
    d, t = make(D, *[cr.tensor(a) for a in params]), make(TD, *[torch.tensor(a) for a in params])
    assert tuple(d.batch_shape) == tuple(t.batch_shape) and tuple(d.event_shape) == tuple(t.event_shape)
    assert tuple(d.sample((5,)).shape) == tuple(t.sample((5,)).shape)
    assert tuple(d.expand((2,) + tuple(d.batch_shape)).sample().shape) == \
        tuple(t.expand((2,) + tuple(t.batch_shape)).sample().shape)
    assert repr(d.support) == repr(t.support) and d.has_rsample == t.has_rsample


def test_transforms_api():
    x = cr.tensor(_real(4), requires_grad=True)
    for ours, theirs in [(D.ExpTransform(), TD.ExpTransform()), (D.SigmoidTransform(), TD.SigmoidTransform()),
                         (D.TanhTransform(), TD.TanhTransform()), (D.SoftplusTransform(), TD.SoftplusTransform()),
                         (D.AffineTransform(1.0, -2.0), TD.AffineTransform(1.0, -2.0)),
                         (D.ComposeTransform([D.ExpTransform(), D.AffineTransform(0.5, 3.0)]),
                          TD.ComposeTransform([TD.ExpTransform(), TD.AffineTransform(0.5, 3.0)]))]:
        tx = torch.tensor(x.detach().numpy())
        y, ty = ours(x), theirs(tx)
        assert_close(y, ty)
        assert_close(ours.inv(y), x.detach().numpy(), tol=dict(rtol=1e-6, atol=1e-8))
        assert_close(ours.log_abs_det_jacobian(x, y), theirs.log_abs_det_jacobian(tx, ty))
        assert_close(ours.inv.log_abs_det_jacobian(y, x), theirs.inv.log_abs_det_jacobian(ty, tx))
        assert ours.inv.inv is ours and ours.sign == theirs.sign and ours.bijective == theirs.bijective
        assert repr(ours.domain) == repr(theirs.domain) and repr(ours.codomain) == repr(theirs.codomain)
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform() != D.SigmoidTransform()
    assert D.AffineTransform(0.0, 2.0) == D.AffineTransform(0.0, 2.0) != D.AffineTransform(0.0, 3.0)
    cached = D.ExpTransform().with_cache(1)
    y = cached(x)
    assert cached.inv(y) is x  # the cache returns the very input
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        D.ExpTransform(cache_size=2)
    with pytest.raises(ValueError, match="transforms must be a Transform or a list of Transforms"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform(), 3])
    assert isinstance(D.LogNormal(0.0, 1.0), D.TransformedDistribution)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.TransformedDistribution(D.Normal(0.0, 1.0), D.ExpTransform()),
                        D.TransformedDistribution(D.Normal(0.0, 1.0), D.SigmoidTransform()))


def test_base_class_helpers():
    d = D.Normal(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 2.0]))
    t = TD.Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0]))
    assert_close(d.perplexity(), t.perplexity())
    with pytest.warns(FutureWarning):
        assert tuple(d.sample_n(3).shape) == (3, 2)

    class Shifted(D.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)
    with pytest.raises(NotImplementedError, match="Subclass Shifted of Normal that defines a custom __init__ method"):
        Shifted(cr.tensor([0.0])).expand((3, 1))
    with pytest.raises(NotImplementedError):
        D.Distribution().entropy()
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        D.Distribution().mode  # noqa: B018


def test_gradcheck_float64():
    """The Functions this package defines (triangular solve, lower incomplete gamma) and a few
    densities built on them, against finite differences."""
    from chainrule.distributions._linalg import solve_triangular
    f = lambda a: cr.tensor(a, dtype=cr.float64, requires_grad=True)  # noqa: E731
    L, B = f(_tril(3, (2,))), f(_real(2, 3, 2))
    assert cr.autograd.gradcheck(lambda L, B: solve_triangular(L, B), (L, B))
    loc, S, value = f(_real(3)), f(_spd(3)), cr.tensor(_real(2, 3))
    assert cr.autograd.gradcheck(
        lambda m, S: D.MultivariateNormal(m, covariance_matrix=(S + S.mT) / 2).log_prob(value), (loc, S))
    rate, x, conc = f(_pos(3)), f(_pos(3)), cr.tensor(_pos(3))
    assert cr.autograd.gradcheck(lambda r, x: D.Gamma(conc, r).cdf(x), (rate, x))
    c, r = f(_pos(3)), f(_pos(3))
    assert cr.autograd.gradcheck(lambda c, r: D.kl_divergence(D.Beta(c, r), D.Beta(r, c)), (c, r))
    assert cr.autograd.gradcheck(lambda c, r: D.Dirichlet(cr.stack([c, r], -1)).entropy(), (c, r))


def test_zero_probabilities():
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    compare(lambda p: D.Categorical(p).entropy(), lambda p: TD.Categorical(p).entropy(), [p])
    compare(lambda p: D.Categorical(p).log_prob(cr.tensor([0, 2])),
            lambda p: TD.Categorical(p).log_prob(torch.tensor([0, 2])), [p])
    b = np.array([0.0, 1.0, 0.5])
    compare(lambda p: D.Bernoulli(p).log_prob(cr.tensor([0.0, 1.0, 1.0], dtype=cr.float64)),
            lambda p: TD.Bernoulli(p).log_prob(torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)), [b])
    with pytest.raises(NotImplementedError, match="KL between Binomials where q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(2, cr.tensor([0.5])), D.Binomial(3, cr.tensor([0.5])))
    kl = D.kl_divergence(D.Binomial(3, cr.tensor([0.5])), D.Binomial(2, cr.tensor([0.5])))
    assert_close(kl, TD.kl_divergence(TD.Binomial(3, torch.tensor([0.5])), TD.Binomial(2, torch.tensor([0.5]))))
