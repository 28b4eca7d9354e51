"""Elementwise math and predicates (issue 13) against torch: values and dtypes (int and bool inputs,
0-d and empty tensors, inf/nan/-0.0), gradients, float64 gradcheck, in-place variants and errors."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import assert_close, compare

inf, nan = math.inf, math.nan
rng = np.random.default_rng(13)
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.5, 3.7, -7.2, 1e-30, 40.0, -40.0, 100.0, inf, -inf, nan])


def both(fn, *arrays, **kw):
    """fn(L, *tensors) for L = chainrule and torch on the same arrays: values and dtype compared."""
    out = fn(cr, *[cr.tensor(a) for a in arrays])
    ref = fn(torch, *[torch.tensor(a) for a in arrays])
    assert_close(out, ref, **kw)
    return out, ref


def raises_like(fn, *arrays):
    """chainrule raises the exception type torch raises."""
    with pytest.raises(Exception) as torch_error:
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(torch_error.type):
        fn(cr, *[cr.tensor(a) for a in arrays])


# ---- unary ops: name -> domain of their gradient check ---------------------------------------------

UNARY = {
    "log1p": (-0.5, 3.0), "expm1": (-2, 2), "log2": (0.2, 3), "log10": (0.2, 3), "exp2": (-2, 2),
    "erf": (-2, 2), "erfc": (-2, 2), "erfinv": (-0.9, 0.9), "lgamma": (0.2, 4), "digamma": (0.2, 4),
    "sinh": (-2, 2), "cosh": (-2, 2), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
    "atan": (-3, 3), "asinh": (-3, 3), "acosh": (1.2, 4), "atanh": (-0.9, 0.9), "arcsin": (-0.9, 0.9),
    "arccos": (-0.9, 0.9), "arctan": (-3, 3), "arcsinh": (-3, 3), "arccosh": (1.2, 4), "arctanh": (-0.9, 0.9),
    "deg2rad": (-3, 3), "rad2deg": (-3, 3), "logit": (0.1, 0.9), "sgn": (-3, 3), "frac": (-3, 3),
    "rsqrt": (0.2, 3), "square": (-3, 3), "sigmoid": (-3, 3), "negative": (-3, 3),
}
FLOAT_ONLY = {"frac"}           # integer input raises
KEEP_INT = {"sgn", "square", "negative"}   # integer input keeps an integer dtype
ROUNDING = ["floor", "ceil", "trunc", "fix", "round"]
# ops whose torch gradient at inf/nan or at poles differs by convention: compared on finite inputs
SPECIAL_NEGATIVE = {"lgamma", "digamma"}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradient(name):
    lo, hi = UNARY[name]
    x = rng.uniform(lo, hi, (3, 4))
    grad = name != "sgn"  # torch's sgn gradient is a ZeroTensor (no numpy view)
    compare(lambda t: getattr(cr, name)(t), lambda t: getattr(torch, name)(t), [x.astype(np.float32)], grad=grad)
    compare(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), [x], tol=dict(rtol=1e-7, atol=1e-9),
            grad=grad)
    if name not in ("sgn",):
        assert cr.autograd.gradcheck(lambda t: getattr(cr, name)(t), (cr.tensor(x[:2], requires_grad=True),))


@pytest.mark.parametrize("name", sorted(UNARY) + ROUNDING)
def test_unary_special_values(name):
    with np.errstate(all="ignore"):
        for dt in (np.float32, np.float64):
            both(lambda L, t: getattr(L, name)(t), SPECIAL.astype(dt), tol=dict(rtol=2e-6, atol=0))


@pytest.mark.parametrize("name", sorted(UNARY) + ROUNDING)
def test_unary_int_bool_0d_empty(name):
    ints = np.array([-3, 0, 2, 5], dtype=np.int64)
    for a in (ints, ints.astype(np.int32), np.array([True, False])):
        if name in FLOAT_ONLY or (name in ROUNDING and a.dtype == np.bool_) or (name == "negative" and a.dtype == np.bool_):
            raises_like(lambda L, t: getattr(L, name)(t), a)
        else:
            with np.errstate(all="ignore"):
                both(lambda L, t: getattr(L, name)(t), a)
    for a in (np.array(0.25, np.float32), np.zeros((0, 3), np.float32), np.zeros((2, 0), np.float64)):
        out, ref = both(lambda L, t: getattr(L, name)(t), a)
        assert tuple(out.shape) == tuple(ref.shape)


@pytest.mark.parametrize("name", sorted(UNARY) + ROUNDING)
def test_unary_inplace(name):
    lo, hi = UNARY.get(name, (-3, 3))
    x = rng.uniform(lo, hi, 5).astype(np.float32)
    c, t = cr.tensor(x), torch.tensor(x)
    assert getattr(c, name + "_")() is c
    getattr(t, name + "_")()
    assert_close(c, t)
    if name not in KEEP_INT and name not in ROUNDING and name not in FLOAT_ONLY:  # int tensor, float result
        raises_like(lambda L, t: getattr(t, name + "_")(), np.array([1, 2]))


def test_rounding_gradient_is_zero_and_round_decimals():
    x = np.array([0.25, 0.35, 1.25, -2.5, 125.0, -0.5, 2.5], np.float32)
    for d in (0, 1, 2, -1, -2):
        compare(lambda t: cr.round(t, decimals=d), lambda t: torch.round(t, decimals=d), [x])
        compare(lambda t: t.round(decimals=d), lambda t: t.round(decimals=d), [x.astype(np.float64)])
    for name in ("floor", "ceil", "trunc", "fix", "frac"):
        compare(lambda t: getattr(t, name)() * t, lambda t: getattr(t, name)() * t, [x])
    raises_like(lambda L, t: L.round(t, decimals=1), np.array([1, 2]))
    with pytest.raises(TypeError):
        cr.round(cr.tensor([1.5]), 1)  # decimals is keyword-only, as torch


def test_lgamma_digamma_polygamma():
    x = np.array([0.5, 1.5, -2.5, 0.0, -0.0, -1.0, 3.0, 1e-3, 30.0, inf, -inf, nan, -3.3])
    for dt in (np.float32, np.float64):
        with np.errstate(all="ignore"):
            both(lambda L, t: L.lgamma(t), x.astype(dt))
            both(lambda L, t: L.digamma(t), x.astype(dt))
            for n in (0, 1, 2, 3):
                both(lambda L, t: L.polygamma(n, t), x.astype(dt), tol=dict(rtol=2e-5, atol=0))
                both(lambda L, t: t.polygamma(n), x.astype(dt), tol=dict(rtol=2e-5, atol=0))
    y = rng.uniform(-3.9, 4, 8)  # negative non-integers too
    compare(lambda t: cr.lgamma(t), lambda t: torch.lgamma(t), [y])
    compare(lambda t: cr.digamma(t), lambda t: torch.digamma(t), [y], tol=dict(rtol=1e-6, atol=1e-8))
    compare(lambda t: cr.polygamma(2, t), lambda t: torch.polygamma(2, t), [y.astype(np.float32) ** 2 + 0.3])
    assert cr.autograd.gradcheck(lambda t: cr.polygamma(1, t), (cr.tensor(y[:3] ** 2 + 0.5, requires_grad=True),))
    c = cr.tensor([1.5, 2.0])
    assert c.polygamma_(1) is c
    assert_close(c, torch.tensor([1.5, 2.0]).polygamma_(1))
    with pytest.raises(RuntimeError):
        cr.polygamma(-1, cr.tensor([1.0]))
    with pytest.raises(TypeError):
        cr.polygamma(1.5, cr.tensor([1.0]))


def test_erfinv_and_special_functions_at_edges():
    p = np.array([-1.0, 1.0, 0.0, -0.0, 0.999, -0.999, 1.5, nan])
    both(lambda L, t: L.erfinv(t), p.astype(np.float32))
    q = np.array([0.0, 1.0, 0.5, 1e-10, 0.975, 1.5, nan])
    both(lambda L, t: L.special.ndtri(t), q)
    compare(lambda t: cr.special.ndtri(t), lambda t: torch.special.ndtri(t), [rng.uniform(0.05, 0.95, 6)])


# ---- binary ops with gradients ----------------------------------------------------------------------

BINARY = {  # name -> (domain of a, domain of b)
    "atan2": ((-2, 2), (-2, 2)), "arctan2": ((-2, 2), (-2, 2)), "hypot": ((-2, 2), (-2, 2)),
    "logaddexp": ((-3, 3), (-3, 3)), "logaddexp2": ((-3, 3), (-3, 3)), "xlogy": ((-2, 2), (0.2, 3)),
    "copysign": ((0.3, 2), (-2, 2)), "fmod": ((-5, 5), (0.7, 2)), "remainder": ((-5, 5), (-2, -0.7)),
    "multiply": ((-2, 2), (-2, 2)), "subtract": ((-2, 2), (-2, 2)), "divide": ((-2, 2), (0.5, 2)),
    "true_divide": ((-2, 2), (0.5, 2)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_and_gradients(name):
    (la, ha), (lb, hb) = BINARY[name]
    a, b = rng.uniform(la, ha, (2, 3, 4)), rng.uniform(lb, hb, (3, 1))
    if name == "copysign":
        a = a * rng.choice([-1, 1], a.shape)
    compare(lambda s, t: getattr(cr, name)(s, t), lambda s, t: getattr(torch, name)(s, t),
            [a.astype(np.float32), b.astype(np.float32)])
    compare(lambda s, t: getattr(s, name)(t), lambda s, t: getattr(s, name)(t), [a, b],
            tol=dict(rtol=1e-7, atol=1e-9))
    assert cr.autograd.gradcheck(lambda s, t: getattr(cr, name)(s, t),
                                 (cr.tensor(a[0, :2], requires_grad=True), cr.tensor(b[:2], requires_grad=True)))
    s, t = torch.tensor(a.astype(np.float32)), torch.tensor(b.astype(np.float32))
    c, d = cr.tensor(a.astype(np.float32)), cr.tensor(b.astype(np.float32))
    if hasattr(t, name + "_"):
        getattr(s, name + "_")(t)
        assert getattr(c, name + "_")(d) is c
        assert_close(c, s)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_dtypes_and_edges(name):
    ints = [np.array([-3, 0, 2, 5]), np.array([2, -1, 3, 4])]
    bools = [np.array([True, False, True, False]), np.array([True, True, False, False])]
    for pair in (ints, [ints[0], ints[1].astype(np.float32)], [ints[0].astype(np.float64), ints[1].astype(np.float32)],
                 bools, [bools[0], ints[1]]):
        try:
            torch_out = getattr(torch, name)(*[torch.tensor(a) for a in pair])
        except Exception as e:
            with pytest.raises(type(e)):
                getattr(cr, name)(*[cr.tensor(a) for a in pair])
            continue
        with np.errstate(all="ignore"):
            assert_close(getattr(cr, name)(*[cr.tensor(a) for a in pair]), torch_out)
    sp = SPECIAL.astype(np.float32)
    with np.errstate(all="ignore"):
        # atol: torch's float32 logaddexp2(-1, -1) is -1e-8, not 0
        both(lambda L, s, t: getattr(L, name)(s, t), sp[:, None], sp[None, :], tol=dict(rtol=2e-6, atol=3e-8))
        both(lambda L, s, t: getattr(L, name)(s, t), np.array(1.5, np.float32), np.zeros((0, 2), np.float32))
    raises_like(lambda L, s, t: getattr(L, name)(s, t), np.ones((2, 3), np.float32), np.ones((4,), np.float32))


@pytest.mark.parametrize("name, scalar", [("xlogy", 2.0), ("copysign", -1.0), ("fmod", 1.5), ("remainder", -1.5),
                                          ("atan2", 2.0), ("hypot", 1.0), ("logaddexp", 1.0), ("fmod", 2),
                                          ("remainder", 3)])
def test_binary_with_a_number(name, scalar):
    x = rng.uniform(0.3, 3, (3, 4)).astype(np.float32)
    try:
        getattr(torch, name)(torch.tensor(x), scalar)
    except TypeError:
        with pytest.raises(TypeError):
            getattr(cr, name)(cr.tensor(x), scalar)
        return
    compare(lambda t: getattr(cr, name)(t, scalar), lambda t: getattr(torch, name)(t, scalar), [x])
    both(lambda L, t: getattr(L, name)(t, scalar), np.array([-3, 2, 7]))


def test_xlogy_zero_conventions_and_scalars():
    x = np.array([0.0, 0.0, 0.0, 1.5, 0.0, 2.0], np.float32)
    y = np.array([0.0, nan, -1.0, 0.0, inf, 3.0], np.float32)
    both(lambda L, s, t: L.xlogy(s, t), x, y)
    compare(lambda s, t: cr.xlogy(s, t), lambda s, t: torch.xlogy(s, t), [x[[0, 3, 5]], y[[5, 5, 5]]])
    compare(lambda t: cr.xlogy(2, t), lambda t: torch.xlogy(2, t), [rng.uniform(0.5, 2, 4).astype(np.float32)])
    compare(lambda s, t: cr.special.xlog1py(s, t), lambda s, t: torch.special.xlog1py(s, t),
            [rng.uniform(-2, 2, 4), rng.uniform(-0.5, 2, 4)])
    both(lambda L, s, t: L.special.xlog1py(s, t), x, y - 1)


def test_fmod_remainder_integers_and_operators():
    a, b = np.array([-7, -3, 0, 3, 7]), np.array([2, -2, 3, -3, 5])
    for name in ("fmod", "remainder"):
        both(lambda L, s, t: getattr(L, name)(s, t), a, b)
        raises_like(lambda L, s, t: getattr(L, name)(s, t), a, np.array([1, 0, 1, 1, 1]))
        raises_like(lambda L, s: getattr(L, name)(s, 0), a)
        raises_like(lambda L, s, t: getattr(L, name)(s, t), a > 0, b > 0)
    both(lambda L, s, t: s % t, a, b)
    both(lambda L, t: 5 % t, b)
    both(lambda L, t: t % -2.5, a)
    x = rng.uniform(-4, 4, 6).astype(np.float32)
    compare(lambda t: t % 1.5 + t.remainder(-2.0), lambda t: t % 1.5 + t.remainder(-2.0), [x])
    both(lambda L, t: 3.0 % t, x)  # torch has no gradient for a number % tensor
    c, t = cr.tensor(a), torch.tensor(a)
    c %= 3
    t %= 3
    assert_close(c, t)
    with pytest.raises(TypeError):
        cr.fmod(2, cr.tensor([1.0]))


def test_floor_divide_and_div_aliases():
    a, b = np.array([-7.5, -3.0, 0.0, 3.0, 7.0], np.float32), np.array([2.0, -2.0, 3.0, -0.5, 5.0], np.float32)
    both(lambda L, s, t: L.floor_divide(s, t), a, b)
    both(lambda L, s, t: L.true_divide(s, t), np.array([1, 2, 3]), np.array([2, 2, 2]))
    both(lambda L, s, t: L.divide(s, t), np.array([1, 2, 3]), np.array([2, 2, 2]))
    raises_like(lambda L, s: L.floor_divide(s, 0), np.array([1, 2]))
    both(lambda L, t: 5 // t, np.array([2, -3, 4]))
    both(lambda L, t: 5.5 // t, np.array([2, -3, 4]))
    both(lambda L, s, t: s // t, np.array([7, -7, 9]), np.array([2, 2, -4]))
    both(lambda L, s, t: s // t, a, np.array([2, 2, 1, 1, 3]))
    c, t = cr.tensor([5, 7, -3]), torch.tensor([5, 7, -3])
    c //= 2
    t //= 2
    assert_close(c, t)


def test_lerp():
    a, b, w = rng.standard_normal((2, 3)), rng.standard_normal((3,)), rng.uniform(-0.5, 1.5, (2, 1))
    for dt, tol in ((np.float32, None), (np.float64, dict(rtol=1e-7, atol=1e-9))):
        compare(lambda s, e, t: cr.lerp(s, e, t), lambda s, e, t: torch.lerp(s, e, t),
                [a.astype(dt), b.astype(dt), w.astype(dt)], tol=tol)
        for weight in (0.25, 0.75, 2.0):
            compare(lambda s, e: s.lerp(e, weight), lambda s, e: s.lerp(e, weight), [a.astype(dt), b.astype(dt)],
                    tol=tol)
    assert cr.autograd.gradcheck(lambda s, e, t: cr.lerp(s, e, t),
                                 tuple(cr.tensor(v, requires_grad=True) for v in (a, b, w)))
    both(lambda L, s, e: L.lerp(s, e, L.tensor(0.5, dtype=L.float64)), a.astype(np.float32), b.astype(np.float32))
    raises_like(lambda L, s, e: L.lerp(s, e, 0.5), a.astype(np.float32), b)
    raises_like(lambda L, s, e: L.lerp(s, e, 0.5), np.array([1, 2]), np.array([1, 2]))
    raises_like(lambda L, s, e, t: L.lerp(s, e, t), a, b, np.array([1.0, 2.0], np.float32))
    c, t = cr.tensor(a), torch.tensor(a)
    assert c.lerp_(cr.tensor(b), 0.3) is c
    assert_close(c, t.lerp_(torch.tensor(b), 0.3))


def test_addcmul_addcdiv_float_power():
    x, y, z = rng.standard_normal((2, 3)), rng.standard_normal((3,)), rng.uniform(0.5, 2, (2, 1))
    for value in (1, 0.5, -2):
        compare(lambda a, b, c: cr.addcmul(a, b, c, value=value), lambda a, b, c: torch.addcmul(a, b, c, value=value),
                [x, y, z], tol=dict(rtol=1e-7, atol=1e-9))
        compare(lambda a, b, c: a.addcdiv(b, c, value=value), lambda a, b, c: a.addcdiv(b, c, value=value),
                [x.astype(np.float32), y.astype(np.float32), z.astype(np.float32)])
    both(lambda L, a, b, c: L.addcmul(a, b, c), np.array([1, 2]), np.array([3, 4]), np.array([5, 6]))
    raises_like(lambda L, a, b, c: L.addcdiv(a, b, c), np.array([1.0, 2]), np.array([3, 4]), np.array([5, 6]))
    c, t = cr.tensor(x), torch.tensor(x)
    c.addcmul_(cr.tensor(y), cr.tensor(z), value=2)
    assert_close(c, t.addcmul_(torch.tensor(y), torch.tensor(z), value=2))
    compare(lambda a: cr.float_power(a, 2), lambda a: torch.float_power(a, 2), [z.astype(np.float32)])
    compare(lambda a, b: a.float_power(b), lambda a, b: a.float_power(b), [z.astype(np.float32), y])
    both(lambda L, a: L.float_power(a, 2), np.array([1, 2, 3]))
    both(lambda L, a: L.float_power(2, a), np.array([1, -2, 3]))
    c = cr.tensor(z)
    assert c.float_power_(2) is c
    assert_close(c, torch.tensor(z).float_power_(2))
    raises_like(lambda L, a: a.float_power_(2), z.astype(np.float32))


def test_logit_eps_and_special_logit():
    x = np.array([0.0, 0.05, 0.3, 0.5, 0.97, 1.0, 1.5, -0.2], np.float32)
    with np.errstate(all="ignore"):
        both(lambda L, t: L.logit(t), x)
        both(lambda L, t: L.special.logit(t), np.array([0, 1]))
    xs = rng.uniform(0.01, 0.99, 8).astype(np.float32)
    compare(lambda t: cr.logit(t, eps=0.1), lambda t: torch.logit(t, eps=0.1), [xs])
    compare(lambda t: t.logit(0.2), lambda t: t.logit(0.2), [xs.astype(np.float64)])


def test_nan_to_num():
    x = np.array([nan, inf, -inf, 1.5, -0.0, 3e38], np.float32)
    for kw in ({}, dict(nan=1.0), dict(posinf=2.0, neginf=-3.0), dict(nan=-1, posinf=1e300)):
        with np.errstate(all="ignore"):
            both(lambda L, t: L.nan_to_num(t, **kw), x)
            both(lambda L, t: t.nan_to_num(**kw), x.astype(np.float64))
    compare(lambda t: cr.nan_to_num(t, nan=0.5) * t.detach().nan_to_num(), lambda t: torch.nan_to_num(t, nan=0.5)
            * t.detach().nan_to_num(), [x])
    both(lambda L, t: L.nan_to_num(t), np.array([1, 2]))
    both(lambda L, t: L.nan_to_num(t), np.array([True]))
    c, t = cr.tensor(x), torch.tensor(x)
    c.nan_to_num_(nan=7.0)
    assert_close(c, t.nan_to_num_(nan=7.0))


def test_isclose_and_classification_predicates():
    a = np.array([1.0, inf, -inf, nan, 1e-9, 1.0, 0.0, -0.0], np.float32)
    b = np.array([1.0 + 1e-6, inf, inf, nan, 0.0, 1.1, -0.0, 1e-7], np.float32)
    for kw in ({}, dict(equal_nan=True), dict(rtol=0.2), dict(atol=0.0, rtol=0.0), dict(atol=1e-6)):
        both(lambda L, s, t: L.isclose(s, t, **kw), a, b)
        both(lambda L, s, t: s.isclose(t, **kw), a[:, None], b[None, :])
    both(lambda L, s, t: L.isclose(s, t, rtol=0.5), np.array([1, 3, 10]), np.array([1, 2, 12]))
    both(lambda L, s, t: L.isclose(s, t), np.array([True, False]), np.array([True, True]))
    raises_like(lambda L, s, t: L.isclose(s, t), np.array([1, 2]), np.array([1.0, 2.0], np.float32))
    raises_like(lambda L, s, t: L.isclose(s, t, rtol=-1), a, b)
    raises_like(lambda L, s, t: L.isclose(s, t, atol=-1), a, b)
    with pytest.raises(TypeError):
        cr.isclose(cr.tensor(a), 1.0)
    for name in ("isinf", "isposinf", "isneginf", "isreal", "signbit", "isnan", "isfinite"):
        for arr in (a, np.array([-3, 0, 2]), np.array([True, False]), np.zeros((0,), np.float32), np.array(-0.0)):
            both(lambda L, t: getattr(L, name)(t), arr)
            both(lambda L, t: getattr(t, name)(), arr)
    assert cr.allclose(cr.tensor(a[:3]), cr.tensor(a[:3])) == torch.allclose(torch.tensor(a[:3]), torch.tensor(a[:3]))
    assert cr.equal(cr.tensor([1, 2]), cr.tensor([1, 2])) is True


def test_logical_ops():
    a, b = np.array([0.0, 1.5, nan, -0.0]), np.array([3, 0, 1, 2])
    for name in ("logical_and", "logical_or", "logical_xor"):
        both(lambda L, s, t: getattr(L, name)(s, t), a, b)
        both(lambda L, s, t: getattr(s, name)(t), a[:, None], b > 1)
        with pytest.raises(TypeError):
            getattr(cr, name)(cr.tensor(a), 2)
        c, t = cr.tensor(b > 1), torch.tensor(b > 1)
        getattr(c, name + "_")(cr.tensor(a))
        assert_close(c, getattr(t, name + "_")(torch.tensor(a)))
        raises_like(lambda L, s, t: getattr(L, name)(s, t), np.ones(3), np.ones(2))


def test_shifts():
    a = np.array([1, -8, 3, 0, 1 << 40])
    for n in (1, 0, 3, 63, 64, 70, -1):
        both(lambda L, t: L.bitwise_left_shift(t, n), a)
        both(lambda L, t: t >> n, a)
        both(lambda L, t: t << n, a.astype(np.int32))
    both(lambda L, s, t: s << t, a, np.array([1, 2, 70, 0, 3]))
    both(lambda L, t: 1 << t, np.array([0, 3, 5]))
    both(lambda L, t: L.bitwise_right_shift(t, 1), np.array([True, False]))
    raises_like(lambda L, t: t << 1, np.array([1.0]))
    raises_like(lambda L, s, t: L.bitwise_right_shift(s, t), np.array([True]), np.array([True]))
    c, t = cr.tensor(a), torch.tensor(a)
    c <<= 2
    t <<= 2
    assert_close(c, t)


def test_heaviside_gcd_lcm():
    x = np.array([-1.5, 0.0, -0.0, 2.0, nan, inf], np.float32)
    both(lambda L, s, t: L.heaviside(s, t), x, np.array([0.5], np.float32))
    both(lambda L, s, t: s.heaviside(t), np.array([-2, 0, 3]), np.array([7, 7, 7]))
    raises_like(lambda L, s, t: L.heaviside(s, t), np.array([-2, 0, 3]), np.array([0.5], np.float32))
    a, b = np.array([12, -18, 0, 7, 0]), np.array([8, 12, 5, 0, 0])
    for name in ("gcd", "lcm"):
        both(lambda L, s, t: getattr(L, name)(s, t), a, b)
        both(lambda L, s, t: getattr(s, name)(t), a.astype(np.int32), b[:1].astype(np.int32))
        raises_like(lambda L, s, t: getattr(L, name)(s, t), a.astype(np.float32), b.astype(np.float32))
        raises_like(lambda L, s, t: getattr(L, name)(s, t), a > 0, b > 0)


def test_clamp_with_tensor_bounds():
    x, lo, hi = rng.standard_normal((3, 4)), rng.uniform(-1, 0, (4,)), rng.uniform(0, 1, (3, 1))
    compare(lambda a, b, c: cr.clamp(a, b, c), lambda a, b, c: torch.clamp(a, b, c),
            [x.astype(np.float32), lo.astype(np.float32), hi.astype(np.float32)])
    compare(lambda a, b: a.clip(min=b), lambda a, b: a.clip(min=b), [x, lo], tol=dict(rtol=1e-7, atol=1e-9))
    compare(lambda a, c: a.clamp(max=c), lambda a, c: a.clamp(max=c), [x, hi], tol=dict(rtol=1e-7, atol=1e-9))
    both(lambda L, a, b: L.clamp(a, b), np.array([1, 5, -3]), np.array([0.5, 0.5, 0.5], np.float32))
    c, t = cr.tensor(x), torch.tensor(x)
    c.clip_(-0.5, 0.5)
    assert_close(c, t.clip_(-0.5, 0.5))


def test_copysign_gradient_and_zero():
    a = np.array([0.0, -0.0, 1.5, -2.0, 3.0], np.float32)
    b = np.array([-1.0, 1.0, -0.0, 0.0, -2.0], np.float32)
    compare(lambda s, t: cr.copysign(s, t), lambda s, t: torch.copysign(s, t), [a, b])
    both(lambda L, s: L.copysign(s, -1), np.array([1, 2, -3]))
    both(lambda L, s, t: L.copysign(s, t), np.array([True, False]), np.array([True, True]))


def test_finfo_iinfo():
    for name in ("float16", "float32", "float64"):
        f, t = cr.finfo(getattr(cr, name)), torch.finfo(getattr(torch, name))
        for attr in ("eps", "max", "min", "tiny", "smallest_normal", "resolution", "bits"):
            assert getattr(f, attr) == getattr(t, attr), (name, attr)
        assert f.dtype == t.dtype
    assert cr.finfo().eps == torch.finfo().eps
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        i, t = cr.iinfo(getattr(cr, name)), torch.iinfo(getattr(torch, name))
        assert (i.min, i.max, i.bits, i.dtype) == (t.min, t.max, t.bits, t.dtype)
    with pytest.raises(TypeError):
        cr.finfo(cr.int32)
    with pytest.raises(TypeError):
        cr.iinfo(cr.float32)
    with pytest.raises(TypeError):
        cr.iinfo(cr.bool)


SPECIAL_FNS = {  # name -> domain
    "erf": (-2, 2), "erfc": (-2, 2), "erfinv": (-0.9, 0.9), "expit": (-3, 3), "logit": (0.1, 0.9),
    "gammaln": (0.2, 4), "digamma": (0.2, 4), "psi": (0.2, 4), "log1p": (-0.5, 3), "expm1": (-2, 2),
    "exp2": (-2, 2), "ndtr": (-3, 3), "ndtri": (0.05, 0.95), "i0": (-3, 3), "sinc": (-2, 2), "entr": (0.1, 3),
    "round": (-3, 3),
}


@pytest.mark.parametrize("name", sorted(SPECIAL_FNS))
def test_special_namespace(name):
    lo, hi = SPECIAL_FNS[name]
    x = rng.uniform(lo, hi, (2, 3))
    compare(lambda t: getattr(cr.special, name)(t), lambda t: getattr(torch.special, name)(t), [x.astype(np.float32)])
    compare(lambda t: getattr(cr.special, name)(t), lambda t: getattr(torch.special, name)(t), [x],
            tol=dict(rtol=1e-7, atol=1e-9))
    with np.errstate(all="ignore"):
        if name == "round":  # torch.special.round refuses integers (torch.round takes them)
            raises_like(lambda L, t: L.special.round(t), np.array([-2, 0, 1, 3]))
        else:
            both(lambda L, t: getattr(L.special, name)(t), np.array([-2, 0, 1, 3]))
        both(lambda L, t: getattr(L.special, name)(t), SPECIAL.astype(np.float64), tol=dict(rtol=1e-6, atol=0))
    with pytest.raises(TypeError):
        getattr(cr.special, name)([0.5])


def test_special_reductions_and_others():
    x = rng.standard_normal((3, 4)).astype(np.float32)
    compare(lambda t: cr.special.logsumexp(t, 1), lambda t: torch.special.logsumexp(t, 1), [x])
    compare(lambda t: cr.special.softmax(t, 0), lambda t: torch.special.softmax(t, 0), [x])
    compare(lambda t: cr.special.log_softmax(t, -1), lambda t: torch.special.log_softmax(t, -1), [x])
    compare(lambda t: cr.special.polygamma(1, t), lambda t: torch.special.polygamma(1, t), [np.abs(x) + 0.5])
    compare(lambda t: cr.special.multigammaln(t, 3), lambda t: torch.special.multigammaln(t, 3), [np.abs(x) + 1.5])
    compare(lambda s, t: cr.special.xlogy(s, t), lambda s, t: torch.special.xlogy(s, t), [x, np.abs(x) + 0.1])
    both(lambda L, t: L.special.multigammaln(t, 3), np.array([0.5, 2.0]))
    both(lambda L, t: L.special.multigammaln(t, 1), np.array([2, 3]))
    raises_like(lambda L, t: L.special.multigammaln(t, 0), np.array([2.0]))
    raises_like(lambda L, t: L.special.softmax(t, 0), np.array([1, 2]))


def test_aliases_and_positive():
    x = np.array([1.5, -2.0, 0.0], np.float32)
    both(lambda L, t: L.negative(t), x)
    both(lambda L, t: t.negative(), np.array([1, -2]))
    raises_like(lambda L, t: L.negative(t), np.array([True]))
    both(lambda L, t: L.positive(t), x)
    both(lambda L, s, t: L.multiply(s, t), x, np.array([2, 3, 4]))
    both(lambda L, s, t: L.subtract(s, t, alpha=2), x, x[::-1].copy())
    both(lambda L, t: L.sgn(t), np.array([True, False]))
    both(lambda L, t: t.sign_(), x.copy())


def test_double_backward_through_the_rules():
    x = rng.uniform(0.2, 0.8, 5)
    for name in ("log1p", "expm1", "log2", "erf", "erfinv", "atan", "asin", "tan", "atanh", "asinh"):
        def first(t, name=name):
            with cr.enable_grad():
                g, = cr.autograd.grad(getattr(t, name)().sum(), t, create_graph=True)
            return g
        compare(first, lambda t, name=name: torch.autograd.grad(getattr(t, name)().sum(), t, create_graph=True)[0],
                [x], tol=dict(rtol=1e-7, atol=1e-9))


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_mode(mode):
    a = np.array([5.0, -5.0, 1.0, -7.5, 0.0, 3.0], np.float32)
    b = np.array([2.0, 2.0, 0.1, -2.0, 3.0, -0.7], np.float32)
    both(lambda L, s, t: L.div(s, t, rounding_mode=mode), a, b)
    both(lambda L, s, t: s.divide(t, rounding_mode=mode), a.astype(np.float64), b[::-1].astype(np.float64).copy())
    both(lambda L, s, t: L.div(s, t, rounding_mode=mode), np.array([5, -5, 7, -7]), np.array([2, 2, -3, -3]))
    both(lambda L, s: L.div(s, -2, rounding_mode=mode), np.array([5, -5, 7]))
    with np.errstate(all="ignore"):
        both(lambda L, s: L.div(s, 0.0, rounding_mode=mode), a)
    c, t = cr.tensor([5, 7, -3]), torch.tensor([5, 7, -3])
    if mode is not None:
        raises_like(lambda L, s: L.div(s, 0, rounding_mode=mode), np.array([1, 2]))
        raises_like(lambda L, s, t: L.div(s, t, rounding_mode=mode), np.array([True]), np.array([True]))
        c.div_(2, rounding_mode=mode)
        t.div_(2, rounding_mode=mode)
        assert_close(c, t)
        compare(lambda s, t: L_div(cr, s, t, mode), lambda s, t: L_div(torch, s, t, mode), [a, b])
    raises_like(lambda L, s: L.div(s, 2, rounding_mode="round"), a)


def L_div(L, s, t, mode):
    return L.div(s, t, rounding_mode=mode) * s  # the rounded quotient's gradient is 0


def test_positive_allclose_clamp_overloads():
    raises_like(lambda L, t: L.positive(t), np.array([True]))
    raises_like(lambda L, t: +t, np.array([True]))
    raises_like(lambda L, s, t: L.allclose(s, t), np.array([1, 2]), np.array([1.0, 2.0], np.float32))
    raises_like(lambda L, s, t: L.allclose(s, t), np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    for a, b in ((np.array([1.0, 2.0]), np.array([[1.0, 2.0]])), (np.array([1.0, nan]), np.array([1.0, nan]))):
        for kw in ({}, dict(equal_nan=True)):
            assert cr.allclose(cr.tensor(a), cr.tensor(b), **kw) == torch.allclose(torch.tensor(a), torch.tensor(b), **kw)
    with pytest.raises(TypeError):
        cr.clamp(cr.tensor([1.0, 2.0]), cr.tensor([0.5]), 1)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "xlogy", "copysign", "lerp", "floor"])
def test_double_backward_binary(name):
    a, b = rng.uniform(0.5, 2, 4), rng.uniform(-2, -0.5, 4)
    call = {"lerp": lambda L, s, t: L.lerp(s, t, t * 0.1), "floor": lambda L, s, t: s.floor() * s * t}.get(
        name, lambda L, s, t: getattr(L, name)(s, t))

    def first(L):
        def fn(s, t):
            with L.enable_grad():
                g, = L.autograd.grad((call(L, s, t) ** 2).sum(), s, create_graph=True)
            return g
        return fn
    compare(first(cr), first(torch), [a, np.abs(b) if name == "xlogy" else b], tol=dict(rtol=1e-7, atol=1e-9))


def test_once_differentiable_rule_refuses_create_graph():
    """I0's rule needs I1, which the Tensor namespace lacks: create_graph raises (torch differentiates);
    the other special functions differentiate twice (tests/test_double_backward.py)."""
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable"):
        cr.autograd.grad(cr.special.i0(x).sum(), x, create_graph=True)


@pytest.mark.parametrize("name, call", [
    ("gcd number other", lambda L: L.gcd(L.tensor([4]), 6)),
    ("xlog1py two numbers", lambda L: L.special.xlog1py(2, 3)),
    ("xlogy two numbers", lambda L: L.xlogy(2, 3)),
])
def test_number_operands_refused_as_torch(name, call):
    for L in (cr, torch):
        with pytest.raises(TypeError):
            call(L)


def test_tril_indices_float_dtype_error_names_torch_type():
    for L in (cr, torch):
        with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
            L.tril_indices(3, 3, dtype=L.float32)
