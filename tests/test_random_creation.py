"""Random sampling, creation, tensor attributes, grad modes and the torch-level namespaces
(issue 13), against torch 2.13.

Chainrule's random streams are not torch's, so samplers are checked by what can match: shapes,
dtypes, requires_grad, errors (type and message), reproducibility under a seed or a saved state,
independence of a Generator from the global stream, and the distribution of the values (moments
and chi-square tests with fixed seeds: generous bounds, but ones a wrong distribution fails).
"""
import pickle

import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy import stats

import chainrule as cr

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def both(fn):
    """fn(L) for L in (chainrule, torch)."""
    return fn(cr), fn(torch)


def same_error(fn, message=True):
    """fn(cr) raises what fn(torch) raises (type, and message unless ``message`` is False)."""
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(theirs.type) as ours:
        fn(cr)
    if message:
        assert str(ours.value) == str(theirs.value)


def same_meta(c, t):
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(c.shape) == tuple(t.shape)
    assert c.requires_grad == t.requires_grad


def ks_ok(sample, cdf):
    """Kolmogorov-Smirnov: a fixed-seed sample of the right distribution passes at p > 1e-4."""
    assert stats.kstest(np.asarray(sample, np.float64).ravel(), cdf).pvalue > 1e-4


def chi2_ok(counts, probs):
    counts, probs = np.asarray(counts, np.float64), np.asarray(probs, np.float64)
    expected = probs / probs.sum() * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-4


# ---- Generator ------------------------------------------------------------------------------------

def test_generator_api_like_torch():
    g, tg = cr.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed() == 67280421310721
    assert str(g.device) == str(tg.device) == "cpu"
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert g.manual_seed(-5).initial_seed() == tg.manual_seed(-5).initial_seed()
    assert cr.Generator(device="cpu").device == cr.device("cpu")
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s and 0 <= s < 2 ** 64
    state = g.get_state()
    assert isinstance(state, cr.Tensor) and state.dtype == cr.uint8 and state.ndim == 1
    a = cr.rand(5, generator=g)
    assert g.set_state(state) is g
    assert cr.rand(5, generator=g).tolist() == a.tolist()
    assert isinstance(g, np.random.Generator)  # chainrule.nn.init and the samplers take it


@pytest.mark.parametrize("fn", [
    lambda L: L.Generator().manual_seed(1.5),
    lambda L: L.Generator().manual_seed(2 ** 64),
    lambda L: L.manual_seed(-2 ** 63 - 1),
    lambda L: L.manual_seed("a"),
    lambda L: L.Generator().set_state(L.zeros(3)),
    lambda L: L.Generator().set_state([1, 2]),
])
def test_generator_errors(fn):
    same_error(fn)


def test_generator_state_size_and_device_errors():
    with pytest.raises(RuntimeError, match="Expected a CPUGeneratorImplState of size"):
        cr.Generator().set_state(cr.zeros(3, dtype=cr.uint8))
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type"):
        cr.Generator(device="meta")
    with pytest.raises(TypeError, match="generator must be a chainrule.Generator"):
        cr.rand(2, generator=3)


def test_generator_pickles_and_clones_its_state():
    g = cr.Generator().manual_seed(11)
    cr.rand(3, generator=g)
    h = pickle.loads(pickle.dumps(g))
    assert h.initial_seed() == 11 and h.get_state().tolist() == g.get_state().tolist()
    assert cr.randn(4, generator=h).tolist() == cr.randn(4, generator=g).tolist()
    c = g.clone_state()
    assert cr.rand(2, generator=c).tolist() == cr.rand(2, generator=g).tolist()


def test_default_generator_is_seeded_non_deterministically_as_torch():
    """torch seeds its default CPU generator from the OS at start-up (a new Generator starts from the fixed
    67280421310721): two fresh processes draw different numbers until seeded."""
    code = "import {0}; print({0}.initial_seed(), {0}.rand(3).tolist(), {0}.Generator().initial_seed())"
    for lib in ("chainrule", "torch"):
        runs = [subprocess.run([sys.executable, "-c", code.format(lib)], capture_output=True, text=True,
                               check=True).stdout.split(" ", 1) for _ in range(2)]
        assert runs[0][0] != runs[1][0] and runs[0][1] != runs[1][1], (lib, runs)
        assert runs[0][1].endswith(" 67280421310721\n"), (lib, runs)


def test_global_seed_functions():
    assert cr.manual_seed(7) is cr.default_generator
    assert cr.initial_seed() == 7 == cr.default_generator.initial_seed()
    s = cr.seed()
    assert cr.initial_seed() == s
    cr.manual_seed(1.9)  # torch.manual_seed converts with int()
    assert cr.initial_seed() == torch.manual_seed(1.9).initial_seed() == 1
    state = cr.get_rng_state()
    assert state.dtype == cr.uint8
    first = (cr.rand(3).tolist(), cr.randn(2).tolist(), cr.randint(10, (4,)).tolist(), cr.randperm(6).tolist(),
             cr.nn.functional.dropout(cr.ones(20)).tolist(), cr.multinomial(cr.ones(5), 3).tolist())
    cr.set_rng_state(state)
    again = (cr.rand(3).tolist(), cr.randn(2).tolist(), cr.randint(10, (4,)).tolist(), cr.randperm(6).tolist(),
             cr.nn.functional.dropout(cr.ones(20)).tolist(), cr.multinomial(cr.ones(5), 3).tolist())
    assert first == again
    cr.manual_seed(0)
    assert cr.nn.Dropout(0.5)(cr.ones(30)).tolist() == (cr.manual_seed(0) and cr.nn.Dropout(0.5)(cr.ones(30)).tolist())


# every sampler, with the same arguments in chainrule and torch: fn(L, generator)
SAMPLERS = {
    "rand": lambda L, g: L.rand(2, 3, generator=g),
    "rand_size_kw_f64": lambda L, g: L.rand(size=(4,), generator=g, dtype=L.float64),
    "randn": lambda L, g: L.randn((3, 2), generator=g),
    "randn_f16": lambda L, g: L.randn(5, generator=g, dtype=L.float16),
    "randint": lambda L, g: L.randint(5, (3, 4), generator=g),
    "randint_low_high": lambda L, g: L.randint(-3, 5, (6,), generator=g, dtype=L.int32),
    "randint_float": lambda L, g: L.randint(2, 9, size=(6,), generator=g, dtype=L.float32),
    "randperm": lambda L, g: L.randperm(7, generator=g),
    "randperm_float": lambda L, g: L.randperm(7, generator=g, dtype=L.float64),
    "rand_like": lambda L, g: L.rand_like(L.zeros(2, 2, dtype=L.float64), generator=g),
    "randn_like": lambda L, g: L.randn_like(L.zeros(3), generator=g),
    "randint_like": lambda L, g: L.randint_like(L.zeros(3, dtype=L.int32), 7, generator=g),
    "randint_like_low": lambda L, g: L.randint_like(L.zeros(3), 2, 7, generator=g),
    "normal_tt": lambda L, g: L.normal(L.zeros(2, 3), L.ones(3), generator=g),
    "normal_tf": lambda L, g: L.normal(L.zeros(4, dtype=L.float64), 2.0, generator=g),
    "normal_ft": lambda L, g: L.normal(1.0, L.ones(2, 2), generator=g),
    "normal_ff": lambda L, g: L.normal(0.0, 1.0, (3,), generator=g),
    "bernoulli": lambda L, g: L.bernoulli(L.full((10,), 0.5), generator=g),
    "bernoulli_p": lambda L, g: L.bernoulli(L.zeros(10, dtype=L.int64), 0.3, generator=g),
    "bernoulli_method": lambda L, g: L.full((10,), 0.5).bernoulli(generator=g),
    "bernoulli_": lambda L, g: L.zeros(10).bernoulli_(0.5, generator=g),
    "bernoulli_tensor_p": lambda L, g: L.zeros(2, 3).bernoulli_(L.full((3,), 0.4), generator=g),
    "poisson": lambda L, g: L.poisson(L.full((8,), 3.0), generator=g),
    "multinomial": lambda L, g: L.multinomial(L.tensor([1.0, 2, 3, 4]), 3, generator=g),
    "multinomial_replacement": lambda L, g: L.multinomial(L.ones(2, 3), 5, True, generator=g),
    "multinomial_method": lambda L, g: L.ones(4, dtype=L.float64).multinomial(2, generator=g),
    "uniform_": lambda L, g: L.zeros(5).uniform_(-2, 3, generator=g),
    "normal_": lambda L, g: L.zeros(5, dtype=L.float64).normal_(1, 2, generator=g),
    "exponential_": lambda L, g: L.zeros(5).exponential_(2.0, generator=g),
    "geometric_": lambda L, g: L.zeros(5, dtype=L.int32).geometric_(0.3, generator=g),
    "log_normal_": lambda L, g: L.zeros(5).log_normal_(generator=g),
    "cauchy_": lambda L, g: L.zeros(5, dtype=L.float16).cauchy_(generator=g),
    "random_": lambda L, g: L.zeros(5).random_(generator=g),
    "random_to": lambda L, g: L.zeros(5, dtype=L.uint8).random_(7, generator=g),
    "random_from_to": lambda L, g: L.zeros(5, dtype=L.int64).random_(-4, 4, generator=g),
    "random_bool": lambda L, g: L.zeros(5, dtype=L.bool).random_(generator=g),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_sampler_takes_generator_reproducibly_and_matches_torch_meta(name):
    fn = SAMPLERS[name]
    c1 = fn(cr, cr.Generator().manual_seed(5))
    c2 = fn(cr, cr.Generator().manual_seed(5))
    t = fn(torch, torch.Generator().manual_seed(5))
    same_meta(c1, t)
    np.testing.assert_array_equal(c1.numpy(), c2.numpy())
    # the default stream: reproducible by seed and untouched by a private generator
    cr.manual_seed(3)
    d1 = fn(cr, None)
    cr.manual_seed(3)
    fn(cr, cr.Generator().manual_seed(9))
    d2 = fn(cr, None)
    np.testing.assert_array_equal(d1.numpy(), d2.numpy())
    if c1.numel() >= 5 and c1.dtype.is_floating_point and name not in ("randperm_float", "multinomial_replacement"):
        assert not np.array_equal(c1.numpy(), fn(cr, cr.Generator().manual_seed(6)).numpy())


def test_generator_does_not_advance_the_global_stream():
    cr.manual_seed(0)
    a = cr.rand(4).tolist()
    cr.manual_seed(0)
    g = cr.Generator().manual_seed(0)
    cr.randn(100, generator=g)
    assert cr.rand(4).tolist() == a
    assert cr.rand(4, generator=cr.Generator().manual_seed(0)).tolist() == a  # same seed, same stream


# ---- distributions ----------------------------------------------------------------------------------

N = 20000


def _g(seed=1234):
    return cr.Generator().manual_seed(seed)


def test_continuous_distributions():
    ks_ok(cr.rand(N, generator=_g()).numpy(), "uniform")
    ks_ok(cr.randn(N, generator=_g(), dtype=cr.float64).numpy(), "norm")
    ks_ok(cr.zeros(N).uniform_(-2, 3, generator=_g()).numpy(), stats.uniform(-2, 5).cdf)
    ks_ok(cr.zeros(N).normal_(1.5, 0.5, generator=_g()).numpy(), stats.norm(1.5, 0.5).cdf)
    ks_ok(cr.normal(2.0, 3.0, (N,), generator=_g()).numpy(), stats.norm(2, 3).cdf)
    ks_ok(cr.zeros(N).exponential_(2.0, generator=_g()).numpy(), stats.expon(scale=0.5).cdf)
    ks_ok(cr.zeros(N).log_normal_(1.0, 0.5, generator=_g()).numpy(), stats.lognorm(0.5, scale=np.e).cdf)
    ks_ok(cr.zeros(N, dtype=cr.float64).cauchy_(1.0, 2.0, generator=_g()).numpy(), stats.cauchy(1, 2).cdf)
    z = cr.normal(cr.tensor([0.0, 10.0]).expand(N // 2, 2), cr.tensor([1.0, 0.1]), generator=_g()).numpy()
    ks_ok(z[:, 0], "norm")
    ks_ok(z[:, 1], stats.norm(10, 0.1).cdf)
    with pytest.raises(AssertionError):  # the check can fail
        ks_ok(cr.rand(N, generator=_g()).numpy() ** 1.1, "uniform")


def test_discrete_distributions():
    k = cr.zeros(N, dtype=cr.int64).geometric_(0.3, generator=_g()).numpy()
    assert k.min() >= 1
    chi2_ok(np.bincount(k, minlength=12)[1:12], stats.geom(0.3).pmf(np.arange(1, 12)))
    p = cr.poisson(cr.full((N,), 3.5), generator=_g()).numpy().astype(int)
    chi2_ok(np.bincount(p, minlength=12)[:12], stats.poisson(3.5).pmf(np.arange(12)))
    b = cr.bernoulli(cr.full((N,), 0.3), generator=_g()).numpy()
    chi2_ok(np.bincount(b.astype(int)), [0.7, 0.3])
    b = cr.zeros(N, dtype=cr.uint8).bernoulli_(0.8, generator=_g()).numpy()
    chi2_ok(np.bincount(b), [0.2, 0.8])
    r = cr.randint(-3, 4, (N,), generator=_g()).numpy()
    chi2_ok(np.bincount(r + 3), np.ones(7))
    r = cr.zeros(N).random_(5, generator=_g()).numpy().astype(int)
    chi2_ok(np.bincount(r), np.ones(5))
    with pytest.raises(AssertionError):
        chi2_ok(np.bincount(r), [1, 1, 1, 1, 1.3])


def test_random_default_ranges_per_dtype():
    for dtype, top in ((cr.float16, 2 ** 11), (cr.float32, 2 ** 24), (cr.int8, 127), (cr.uint8, 255), (cr.bool, 1)):
        v = cr.zeros(4000, dtype=dtype).random_(generator=_g()).numpy().astype(np.float64)
        assert v.min() >= 0 and v.max() <= top and v.max() > top / 2
    v = cr.zeros(1000, dtype=cr.int64).random_(generator=_g()).numpy()
    assert v.min() >= 0 and v.max() > 2 ** 62
    v = cr.zeros(1000, dtype=cr.int32).random_(-5, None, generator=_g()).numpy()
    assert v.min() >= -5 and v.max() > 2 ** 30


def test_randperm_is_a_uniform_permutation():
    counts = np.zeros((5, 5))
    g = _g()
    for _ in range(2000):
        p = cr.randperm(5, generator=g).numpy()
        assert sorted(p) == list(range(5))
        counts[np.arange(5), p] += 1
    for row in counts:
        chi2_ok(row, np.ones(5))
    assert cr.randperm(0).shape == (0,)


def test_multinomial_distribution():
    w = np.array([1.0, 2.0, 0.0, 5.0])
    s = cr.multinomial(cr.tensor(w), N, True, generator=_g()).numpy()
    assert not (s == 2).any()
    chi2_ok(np.bincount(s, minlength=4)[[0, 1, 3]], w[[0, 1, 3]])
    rows = cr.multinomial(cr.tensor(np.tile(w, (4000, 1))), 3, generator=_g()).numpy()
    assert all(len(set(r)) == 3 for r in rows)
    assert not (rows == 2).any()  # three non-zero weights: the zero one is never drawn
    chi2_ok(np.bincount(rows[:, 0], minlength=4)[[0, 1, 3]], w[[0, 1, 3]])  # first draw ~ w
    # fewer non-zero weights than samples: as torch, zero-weight indices fill the rest
    assert sorted(cr.multinomial(cr.tensor([1.0, 0, 0]), 3).tolist()) == [0, 1, 2]
    assert cr.multinomial(cr.ones(0, 3), 2).shape == (0, 2)


@pytest.mark.parametrize("fn", [
    lambda L: L.multinomial(L.tensor([1.0, 2.0]), 3),
    lambda L: L.multinomial(L.ones(2, 3, 4), 2),
    lambda L: L.multinomial(L.ones(()), 1),
    lambda L: L.multinomial(L.tensor([1.0, -1.0]), 1),
    lambda L: L.multinomial(L.tensor([1.0, float("inf")]), 1),
    lambda L: L.multinomial(L.tensor([1.0, float("nan")]), 1),
    lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1),
    lambda L: L.multinomial(L.tensor([[1.0, 1.0], [0.0, 0.0]]), 1, True),
    lambda L: L.multinomial(L.tensor([1, 2]), 1),
    lambda L: L.multinomial(L.tensor([1.0, 2.0]), 0),
    lambda L: L.multinomial(L.zeros(0), 1),
    lambda L: L.normal(L.zeros(3), -1.0),
    lambda L: L.normal(L.zeros(3), -L.ones(3)),
    lambda L: L.normal(L.zeros(3), L.tensor([1.0, float("nan"), 1.0])),
    lambda L: L.normal(0.0, -1.5, (2,)),
    lambda L: L.normal(L.zeros(3, dtype=L.int64), 1.0),
    lambda L: L.normal(0.0, L.tensor([1, 2])),
    lambda L: L.normal(L.zeros(3), L.ones(4)),
    lambda L: L.normal(L.zeros(2, 3), L.ones(6)),
    lambda L: L.zeros(2).normal_(0, -1),
    lambda L: L.zeros(2, dtype=L.int64).normal_(),
    lambda L: L.zeros(2, dtype=L.int32).uniform_(),
    lambda L: L.zeros(2).uniform_(2.0, 1.0),
    lambda L: L.zeros(2).uniform_(-3e38, 3e38),
    lambda L: L.zeros(2, dtype=L.float16).uniform_(-7e4, 0),
    lambda L: L.zeros(2).uniform_(0, 1e39),
    lambda L: L.bernoulli(L.tensor([1.5])),
    lambda L: L.bernoulli(L.tensor([-0.5])),
    lambda L: L.bernoulli(L.tensor([0, 1])),
    lambda L: L.bernoulli(L.tensor([True])),
    lambda L: L.bernoulli(L.tensor([0.5]), 1.5),
    lambda L: L.zeros(3).bernoulli_(1.5),
    lambda L: L.zeros(3).bernoulli_(L.tensor([1.5, 0, 0])),
    lambda L: L.zeros(3).bernoulli_(L.full((4,), 0.2)),
    lambda L: L.poisson(L.tensor([1, 2])),
    lambda L: L.poisson(L.tensor([-1.0])),
    lambda L: L.poisson(L.tensor([float("nan")])),
    lambda L: L.zeros(3).exponential_(-1.0),
    lambda L: L.zeros(3).exponential_(0.0),
    lambda L: L.zeros(3, dtype=L.int64).exponential_(),
    lambda L: L.zeros(3).geometric_(0.0),
    lambda L: L.zeros(3).geometric_(1.0),
    lambda L: L.zeros(3, dtype=L.bool).geometric_(0.5),
    lambda L: L.zeros(3).log_normal_(1.0, 0.0),
    lambda L: L.zeros(3, dtype=L.int32).log_normal_(),
    lambda L: L.zeros(3).cauchy_(1.0, -1.0),
    lambda L: L.zeros(3, dtype=L.uint8).cauchy_(),
    lambda L: L.zeros(3).random_(5, 2),
    lambda L: L.zeros(3, dtype=L.bool).random_(5),
    lambda L: L.zeros(3, dtype=L.uint8).random_(-1, 5),
    lambda L: L.zeros(3, dtype=L.int32).random_(2 ** 33),
    lambda L: L.rand(2, dtype=L.int64),
    lambda L: L.randn(2, dtype=L.int32),
    lambda L: L.rand_like(L.zeros(2, dtype=L.int32)),
    lambda L: L.randint(5, 5, (3,)),
    lambda L: L.randint(300, (3,), dtype=L.uint8),
    lambda L: L.randint(-1, 3, (3,), dtype=L.uint8),
    lambda L: L.randint(5, (3,), dtype=L.bool),
    lambda L: L.randint(0, 3, (3,), requires_grad=True),
    lambda L: L.randperm(-1),
    lambda L: L.randperm(300, dtype=L.uint8),
    lambda L: L.randperm(3000, dtype=L.float16),
])
def test_sampling_errors_match_torch(fn):
    same_error(fn)


@pytest.mark.parametrize("fn", [
    lambda L: L.rand(),
    lambda L: L.rand(2.0),
    lambda L: L.normal(0.0, 1.0),
    lambda L: L.normal(L.zeros(2), 1.0, (2,)),
    lambda L: L.rand(-1),  # chainrule's message names the op
    lambda L: L.zeros(3, requires_grad=True).bernoulli_(0.5),
])
def test_sampling_argument_type_errors(fn):
    same_error(fn, message=False)


def test_normal_bernoulli_poisson_are_not_reparameterised():
    """As torch: the result requires grad when an input does, and the gradient is zero."""
    for fn in (lambda L, m, s: L.normal(m, s), lambda L, m, s: L.normal(m, 2.0), lambda L, m, s: L.normal(1.0, s),
               lambda L, m, s: L.bernoulli(s * 0.5), lambda L, m, s: L.poisson(s), lambda L, m, s: s.bernoulli()):
        ins = [(L, L.zeros(3, requires_grad=True), L.ones(3, requires_grad=True)) for L in (cr, torch)]
        outs = [fn(*i) for i in ins]
        same_meta(*outs)
        for (_, m, s), o in zip(ins, outs):
            o.sum().backward()
            for x in (m, s):
                assert x.grad is None or not x.grad.numpy().any()
        with cr.no_grad():
            assert not fn(*ins[0]).requires_grad


@pytest.mark.parametrize("mean, std", [("f64", "f32"), ("f32", "f64"), ("f32", None), (None, "f64"),
                                       ("f64", None), ("f32", "f32b")])
def test_normal_overload_dtypes_and_shapes(mean, std):
    def make(L, kind):
        return {"f32": L.zeros(2, 3), "f64": L.zeros(3, dtype=L.float64), "f32b": L.ones(4, 1, 3),
                None: 1.0}[kind]
    c, t = both(lambda L: L.normal(make(L, mean), make(L, std)))
    same_meta(c, t)


# ---- creation ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda L: L.zeros(2, 3, dtype=L.float64).new_zeros(4),
    lambda L: L.zeros(2, dtype=L.float64).new_zeros((4, 2)),
    lambda L: L.zeros(2, dtype=L.float64).new_zeros([4, 2], dtype=L.int32),
    lambda L: L.zeros(2, dtype=L.float64).new_zeros(size=(4, 2)),
    lambda L: L.zeros(2, dtype=L.int64).new_ones(L.Size([3])),
    lambda L: L.zeros(2, dtype=L.float64).new_ones([4], requires_grad=True),
    lambda L: L.zeros(2, dtype=L.float64).new_full((2,), 3),
    lambda L: L.zeros(2, dtype=L.int32).new_full((2,), 7.9),
    lambda L: L.zeros(2, dtype=L.float64).new_full(size=(2,), fill_value=True),
    lambda L: L.zeros(2, dtype=L.float64).new_empty(2, 3).fill_(1),
    lambda L: L.zeros(2, dtype=L.float64).new_tensor([1, 2]),
    lambda L: L.zeros(2, dtype=L.float64).new_tensor([1, 2], dtype=L.int64),
    lambda L: L.zeros(2, dtype=L.float64).new_tensor(3.5, requires_grad=True),
    lambda L: L.zeros(3, dtype=L.int32).new_tensor([1.5]),
    lambda L: L.zeros(2, dtype=L.float64).new_empty(()).fill_(2),
    lambda L: L.zeros_like(L.zeros(2, 3, dtype=L.float64), dtype=L.float32, memory_format=L.contiguous_format),
    lambda L: L.rand_like(L.zeros(2, dtype=L.float64), memory_format=L.preserve_format).fill_(1),
    lambda L: L.ones_like(L.zeros(2, 3, dtype=L.float64), requires_grad=True),
    lambda L: L.full_like(L.zeros(2, 3, dtype=L.float64), 7, dtype=L.int32),
    lambda L: L.full_like(L.zeros(2, dtype=L.int64), 2.7),
    lambda L: L.empty_like(L.zeros(2, 3, dtype=L.int16)).fill_(3),
    lambda L: L.ones(2, 3, requires_grad=True),
    lambda L: L.ones(size=(2, 3)),
    lambda L: L.ones([2, 3]),
    lambda L: L.zeros(L.Size([2, 3])),
    lambda L: L.zeros([]),
    lambda L: L.empty(0).fill_(1),
    lambda L: L.full((2,), True),
    lambda L: L.full((2,), 3),
    lambda L: L.full((2,), 3.0),
    lambda L: L.full([2], 3, dtype=L.float16),
    lambda L: L.full([2], L.tensor(2.0)),
    lambda L: L.full([2], L.tensor(2)),
    lambda L: L.full(size=[2], fill_value=1),
    lambda L: L.full((2,), 1.5, dtype=L.int64),
    lambda L: L.tensor([1, 2.5, True]),
    lambda L: L.tensor([True, 2]),
    lambda L: L.tensor([[1, 2], [3.0, 4]]),
    lambda L: L.tensor([[], []]),
    lambda L: L.scalar_tensor(3),
    lambda L: L.scalar_tensor(True),
    lambda L: L.scalar_tensor(3, dtype=L.int64),
    lambda L: L.scalar_tensor(2.5, requires_grad=True),
    lambda L: L.logspace(0, 2, 3),
    lambda L: L.logspace(0, 2, 5, base=2),
    lambda L: L.logspace(-1, 1, 4, dtype=L.float64),
    lambda L: L.logspace(0, 2, steps=3, base=2.0, dtype=L.float64, requires_grad=True),
    lambda L: L.logspace(0, 2, 3, dtype=L.int64),
    lambda L: L.eye(2, 3),
    lambda L: L.eye(3, m=2, dtype=L.int64),
    lambda L: L.eye(0),
    lambda L: L.empty_strided((2, 3), (1, 2)).fill_(1),
    lambda L: L.linspace(0, 1, 5, dtype=L.int64),
])
def test_creation_like_torch(fn):
    c, t = both(fn)
    same_meta(c, t)
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-6 if c.dtype == cr.float32 else 1e-15)


@pytest.mark.parametrize("fn", [
    lambda L: L.zeros(),
    lambda L: L.zeros(2).new_zeros(),
    lambda L: L.full(2, 1),
    lambda L: L.ones(2, 3, dtype=L.int64, requires_grad=True),
    lambda L: L.eye(-1),
    lambda L: L.eye(2, -1),
    lambda L: L.zeros(2, generator=None),
], ids=range(7))
def test_creation_errors(fn):
    same_error(fn, message=False)


def test_creation_messages():
    for fn in (lambda L: L.zeros(), lambda L: L.full(2, 1), lambda L: L.eye(-1), lambda L: L.eye(2, -1),
               lambda L: L.ones(2, dtype=L.int64, requires_grad=True)):
        same_error(fn)


def test_empty_strided_strides_and_grad_mode_of_factories():
    t = cr.empty_strided((2, 3), (1, 2))
    assert t.stride() == torch.empty_strided((2, 3), (1, 2)).stride() == (1, 2)
    assert not t.is_contiguous()
    with cr.no_grad():
        assert cr.ones(2, requires_grad=True).requires_grad  # factories honour requires_grad


# ---- attributes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_type_strings_and_sizes(dtype):
    c, t = cr.zeros(3, dtype=getattr(cr, dtype)), torch.zeros(3, dtype=getattr(torch, dtype))
    assert c.type() == t.type() == cr.typename(c) == torch.typename(t)
    assert c.element_size() == t.element_size() and c.itemsize == t.itemsize and c.nbytes == t.nbytes
    assert c.is_floating_point() == t.is_floating_point() == cr.is_floating_point(c)
    assert cr.zeros(1).type(t.type()).dtype == getattr(cr, dtype)
    assert cr.zeros(1).type(getattr(cr, dtype)).dtype == getattr(cr, dtype)


def test_type_conversions():
    x = cr.zeros(2, 3)
    assert x.type(cr.float32) is x and x.type("torch.FloatTensor") is x
    assert x.type(dtype=cr.int64).dtype == cr.int64
    assert x.type(cr.float64, non_blocking=True).dtype == cr.float64
    for bad in ("foo", "torch.float64"):
        same_error(lambda L: L.zeros(2).type(bad))
    assert cr.typename(3) == torch.typename(3) == "int"
    assert cr.typename(cr.zeros) == "chainrule.tensor.creation.zeros"


def test_flags():
    c, t = cr.zeros(2), torch.zeros(2)
    for name in ("is_xpu", "is_mps", "is_sparse", "is_quantized", "is_meta", "is_cuda"):
        assert getattr(c, name) is getattr(t, name) is False, name
    assert c.is_complex() is t.is_complex() is False and cr.is_complex(c) is False


VIEWS = [
    lambda x: x,
    lambda x: x[:, 1:, ::2],
    lambda x: x.transpose(0, 2),
    lambda x: x[1],
    lambda x: x[1, 2],
    lambda x: x[:, 1],
    lambda x: x.permute(2, 0, 1),
    lambda x: x.reshape(6, 4),
    lambda x: x[0, :, :1],
    lambda x: x.unsqueeze(1),
    lambda x: x[:, :, 0].t(),
    lambda x: x[0, 0].expand(3, 4),
    lambda x: x[:, :1].expand(2, 3, 4),
    lambda x: x.narrow(2, 1, 2),
    lambda x: x[..., 3],
    lambda x: x[1:, 1:, 1:],
]


@pytest.mark.parametrize("view", range(len(VIEWS)))
def test_strides_offsets_and_contiguity_like_torch(view):
    c = VIEWS[view](cr.arange(24.0).reshape(2, 3, 4))
    base = torch.arange(24.0).reshape(2, 3, 4)
    t = VIEWS[view](base)
    assert c.stride() == t.stride()
    assert c.storage_offset() == t.storage_offset()
    assert c.is_contiguous() == t.is_contiguous()
    for d in range(-c.ndim, c.ndim):
        assert c.stride(d) == t.stride(d)
    cc = c.contiguous()
    assert cc.is_contiguous() and cc.tolist() == t.contiguous().tolist()
    assert (cc is c) == (t.contiguous() is t)


def test_data_ptr_stride_errors_and_contiguous_grad():
    x = cr.arange(24.0).reshape(2, 3, 4)
    assert x[1].data_ptr() - x.data_ptr() == 12 * 4
    assert cr.zeros(()).stride() == () and cr.zeros(0, 3).stride() == (3, 1)
    same_error(lambda L: L.zeros(2, 3).stride(2), message=False)
    a = cr.ones(3, 4, requires_grad=True)
    (a.t().contiguous() * cr.arange(12.0).reshape(4, 3)).sum().backward()
    assert a.grad.tolist() == cr.arange(12.0).reshape(4, 3).t().tolist()
    assert x.flip([0]).stride() == torch.arange(24.0).reshape(2, 3, 4).flip([0]).stride()


def test_dtype_functions_like_torch():
    names = DTYPES
    for a in names:
        for b in names:
            ca, cb, ta, tb = getattr(cr, a), getattr(cr, b), getattr(torch, a), getattr(torch, b)
            assert str(cr.promote_types(ca, cb)).split(".")[-1] == str(torch.promote_types(ta, tb)).split(".")[-1]
            assert cr.can_cast(ca, cb) == torch.can_cast(ta, tb), (a, b)
    for x, y in ((lambda L: L.zeros(2), 2.0), (lambda L: L.tensor([1]), 2.0), (lambda L: 2, lambda L: 3.0),
                 (lambda L: 2, lambda L: 3), (lambda L: True, lambda L: 3),
                 (lambda L: L.tensor(1.0, dtype=L.float64), lambda L: L.tensor([1.0])),
                 (lambda L: L.tensor([1], dtype=L.int32), lambda L: L.tensor(1, dtype=L.int64))):
        def get(v, L):
            return v(L) if callable(v) else v
        c = cr.result_type(get(x, cr), get(y, cr))
        t = torch.result_type(get(x, torch), get(y, torch))
        assert str(c).split(".")[-1] == str(t).split(".")[-1]
    same_error(lambda L: L.promote_types(L.int32, "a"))
    assert cr.can_cast(from_=cr.int32, to=cr.float32)
    assert cr.is_nonzero(cr.tensor([1])) and not cr.tensor(0.0).is_nonzero()
    same_error(lambda L: L.is_nonzero(L.tensor([1, 2])))
    same_error(lambda L: L.is_nonzero(L.tensor([])))
    same_error(lambda L: L.is_floating_point(3), message=False)
    assert cr.numel(cr.zeros(2, 3)) == 6


# ---- grad modes ---------------------------------------------------------------------------------------

def test_inference_mode_like_torch():
    for L in (cr, torch):
        x = L.ones(2, requires_grad=True)
        with L.inference_mode():
            y = x * 2
            assert not y.requires_grad and L.is_inference_mode_enabled() and not L.is_grad_enabled()
            z = L.ones(2, requires_grad=True)
            assert z.requires_grad and z.is_inference()
            assert L.zeros(2).is_inference()
            with L.inference_mode(False):
                assert not L.is_inference_mode_enabled() and L.is_grad_enabled()
            with L.enable_grad():
                assert L.is_grad_enabled()
        assert not x.is_inference() and not L.is_inference_mode_enabled() and L.is_grad_enabled()
        with L.no_grad():
            with L.inference_mode():
                with L.inference_mode(False):
                    assert L.is_grad_enabled()
            assert not L.is_grad_enabled()
            with L.inference_mode(mode=False):
                assert L.is_grad_enabled()  # torch's guard: grad mode = not inference mode
            assert not L.is_grad_enabled()

        @L.inference_mode()
        def f(a):
            return a * 2, L.is_inference_mode_enabled()

        @L.inference_mode
        def f2(a):
            return a * 2

        @L.inference_mode(False)
        def f3(a):
            return L.is_inference_mode_enabled()

        out, flag = f(x)
        assert not out.requires_grad and flag and not f2(x).requires_grad
        assert f2.__name__ == "f2"
        with L.inference_mode():
            assert f3(x) is False
        assert L.is_grad_enabled() and not L.is_inference_mode_enabled()


def test_grad_mode_decorators():
    for L in (cr, torch):
        @L.set_grad_enabled(False)
        def g():
            return L.is_grad_enabled()

        @L.no_grad
        def h():
            return L.is_grad_enabled()

        @L.no_grad()
        def h2():
            return L.is_grad_enabled()

        assert L.is_grad_enabled()
        assert not g() and not h() and not h2() and L.is_grad_enabled()
        L.set_grad_enabled(False)
        assert not L.is_grad_enabled()
        L.set_grad_enabled(True)
        assert L.is_grad_enabled()


# ---- namespaces ---------------------------------------------------------------------------------------

def test_accelerator_and_backends():
    assert cr.accelerator.is_available() == cr.cuda.is_available()
    if not cr.accelerator.is_available():
        assert cr.accelerator.current_accelerator() is None and cr.accelerator.device_count() == 0
        same_error(lambda L: L.accelerator.current_device_index())
    b = cr.backends
    assert (b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.allow_tf32) == \
        (torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,
         torch.backends.cudnn.allow_tf32)
    assert b.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    assert b.mps.is_available() is False and b.cudnn.is_available() is False
    b.cudnn.benchmark = True
    b.cuda.matmul.allow_tf32 = True
    assert b.cudnn.benchmark and b.cuda.matmul.allow_tf32
    b.cudnn.benchmark = False
    b.cuda.matmul.allow_tf32 = False


def test_deterministic_threads_device_compile():
    assert not cr.are_deterministic_algorithms_enabled()
    cr.use_deterministic_algorithms(True, warn_only=True)
    assert cr.are_deterministic_algorithms_enabled() and cr.is_deterministic_algorithms_warn_only_enabled()
    cr.use_deterministic_algorithms(False)
    assert not cr.are_deterministic_algorithms_enabled() and not cr.is_deterministic_algorithms_warn_only_enabled()
    same_error(lambda L: L.use_deterministic_algorithms("a"))
    n = cr.get_num_threads()
    assert isinstance(n, int) and n >= 1
    cr.set_num_threads(1)
    assert cr.get_num_threads() == 1
    cr.set_num_threads(n)
    same_error(lambda L: L.set_num_threads(0))
    same_error(lambda L: L.set_num_threads(2.5))
    assert cr.get_default_device() == cr.device("cpu") and str(torch.get_default_device()) == "cpu"
    cr.set_default_device("cpu")
    cr.set_default_device(None)

    def f(a):
        return a + 1
    assert cr.compile(f).fn is f and cr.compile(mode="reduce-overhead")(f).fn is f   # torch.compile's arguments
    assert cr.compile(f, fullgraph=True, dynamic=None, backend="inductor", mode=None, options=None).fn is f
    with pytest.raises(RuntimeError, match="^Either mode or options can be specified, but both can't be specified "
                       "at the same time.$"):  # torch's message (torch.compile itself takes seconds to import)
        cr.compile(f, mode="default", options={})


REPRS = [
    lambda L: L.arange(40.0).reshape(2, 4, 5) / 3,
    lambda L: L.tensor([1e-5, 1.0]),
    lambda L: L.tensor([1e-6, 2e9]),
    lambda L: L.arange(2000.0),
    lambda L: L.arange(3000).reshape(30, 100),
    lambda L: L.tensor([1.5, float("nan"), float("inf")]),
    lambda L: L.tensor([[True, False], [True, True]]),
    lambda L: L.zeros(2, 0),
    lambda L: L.zeros(0, dtype=L.int32),
    lambda L: L.tensor(3.25),
    lambda L: L.tensor([100.0, 2.0]),
    lambda L: L.ones(3, dtype=L.float64, requires_grad=True),
    lambda L: L.tensor([1, 2], dtype=L.int8),
    lambda L: L.linspace(-1, 1, 30),
]
OPTIONS = [dict(), dict(precision=2), dict(sci_mode=True), dict(sci_mode=False), dict(linewidth=40),
           dict(threshold=5, edgeitems=1), dict(edgeitems=0, threshold=3), dict(profile="short"),
           dict(profile="full")]


@pytest.mark.parametrize("options", range(len(OPTIONS)))
def test_set_printoptions_repr_like_torch(options):
    try:
        cr.set_printoptions(**OPTIONS[options])
        torch.set_printoptions(**OPTIONS[options])
        for make in REPRS:
            assert repr(make(cr)).replace("chainrule.", "torch.") == repr(make(torch))
    finally:
        cr.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_generator_works_with_init_samplers_and_dataloader():
    def draw(seed):
        g = cr.Generator().manual_seed(seed)
        w = cr.nn.init.kaiming_uniform_(cr.empty(3, 4), generator=g).tolist()
        order = list(cr.utils.data.RandomSampler(range(8), generator=g))
        batches = [b.tolist() for b in cr.utils.data.DataLoader(list(range(6)), batch_size=2, shuffle=True,
                                                                  generator=g)]
        return w, order, batches
    assert draw(4) == draw(4) and draw(4) != draw(5)


def test_inplace_bounds_by_keyword_and_leaf_checks():
    c, t = both(lambda L: L.zeros(3).uniform_(**{"from": 2.0, "to": 2.5}))
    same_meta(c, t)
    assert ((c.numpy() >= 2.0) & (c.numpy() < 2.5)).all()
    c = cr.zeros(200).random_(**{"from": 3, "to": 6}).numpy()
    assert set(c.tolist()) == {3.0, 4.0, 5.0}
    same_error(lambda L: L.zeros(3).uniform_(a=1), message=False)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        cr.zeros(3, requires_grad=True).exponential_()
    x = cr.ones(3, requires_grad=True) * 2  # a non-leaf: the draw overwrites it, its gradient is 0
    x.exponential_()
    x.sum().backward()


def test_fork_rng_and_random_namespace():
    cr.manual_seed(0)
    a = cr.rand(3).tolist()
    cr.manual_seed(0)
    with cr.random.fork_rng():
        cr.randn(10)
    assert cr.rand(3).tolist() == a
    with cr.random.fork_rng(enabled=False):
        cr.rand(1)
    assert cr.rand(3).tolist() != a
    assert cr.random.default_generator is cr.default_generator and cr.random.manual_seed is cr.manual_seed


def test_default_device():
    assert cr.get_default_device() == cr.device("cpu")
    cr.set_default_device("cpu")
    assert cr.zeros(2).device == cr.device("cpu")
    cr.set_default_device(None)
    same_error(lambda L: L.set_default_device("foo"), message=False)
    if not cr.cuda.is_available():
        cr.set_default_device("cuda")
        try:
            with pytest.raises(RuntimeError):
                cr.zeros(2)
            assert cr.zeros_like(cr.from_numpy(np.zeros(2))).device == cr.device("cpu")
        finally:
            cr.set_default_device(None)
    assert cr.rand(2).device == cr.device("cpu")


def test_repr_like_torch_on_random_tensors():
    rng = np.random.default_rng(0)
    for _ in range(200):
        shape = tuple(rng.integers(0, 6, rng.integers(0, 4)))
        kind = rng.integers(0, 6)
        a = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 9)
        a = [a, np.round(a), a.astype(np.int64), a.astype(np.float32), a > 0, a.astype(np.float16)][kind]
        grad = kind in (0, 3) and rng.random() < 0.3
        c = repr(cr.tensor(a, requires_grad=grad)).replace("chainrule.", "torch.")
        assert c == repr(torch.tensor(a, requires_grad=grad)), a
