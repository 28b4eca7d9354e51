"""torch.autograd.functional (jacobian, hessian, vjp, jvp, vhp, hvp) against torch in float64: values and
structure for single and tuple inputs/outputs, zeros (or strict's error) for independent inputs,
create_graph results that differentiate again, and torch's errors for bad v or outputs."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.autograd.functional  # noqa: F401  (the submodule, as torch's)

RNG = np.random.default_rng(11)
X = RNG.standard_normal((2, 3))
Y = RNG.standard_normal(3)


def _flat(res):
    """The result's Tensors in order, as NumPy arrays (nested tuples flattened)."""
    if isinstance(res, (tuple, list)):
        return [a for r in res for a in _flat(r)]
    return [res.detach().numpy()]


def _same(t_res, c_res):
    t, c = _flat(t_res), _flat(c_res)
    assert len(t) == len(c)
    for a, b in zip(t, c):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-12)


FUNCS = {  # name: (f(L, *xs), inputs)
    "one in, one out": (lambda L, x: (x.sin() * x.sum()).tanh(), (X,)),
    "two in, one out": (lambda L, x, y: x @ y.exp() + (x * x).sum(), (X, Y)),
    "two in, two out": (lambda L, x, y: (x.cos() * y, (x.sum(0) * y).sigmoid()), (X, Y)),
    "an unused input": (lambda L, x, y: x.exp(), (X, Y)),
}


@pytest.mark.parametrize("name", FUNCS)
def test_jacobian_matches_torch(name):
    f, xs = FUNCS[name]
    args = lambda L: tuple(L.tensor(a) for a in xs) if len(xs) > 1 else L.tensor(xs[0])  # noqa: E731
    _same(torch.autograd.functional.jacobian(lambda *a: f(torch, *a), args(torch)),
          cr.autograd.functional.jacobian(lambda *a: f(cr, *a), args(cr)))


@pytest.mark.parametrize("name", ["one in, one out", "two in, one out", "two in, two out", "an unused input"])
@pytest.mark.parametrize("kind", ["vjp", "jvp"])
def test_vjp_and_jvp_match_torch(name, kind):
    f, xs = FUNCS[name]
    res = []
    for L in (torch, cr):
        ins = tuple(L.tensor(a) for a in xs)
        outs = f(L, *ins)
        outs = outs if isinstance(outs, tuple) else (outs,)
        shapes = [o.shape for o in outs] if kind == "vjp" else [a.shape for a in xs]
        v = tuple(L.tensor(np.linspace(-1, 1, int(np.prod(s))).reshape(tuple(s))) for s in shapes)
        res.append(getattr(L.autograd.functional, kind)(lambda *a: f(L, *a), ins, v))
    _same(*res)


@pytest.mark.parametrize("kind", ["hessian", "vhp", "hvp"])
@pytest.mark.parametrize("inputs", ["one", "two"])
def test_second_derivatives_match_torch(kind, inputs):
    def f(x, y=None):
        s = (x.sin() * x).sum()
        return s if y is None else s + (x.sum(0) * y.exp()).sum() * (y * y).sum()
    res = []
    for L in (torch, cr):
        ins = L.tensor(X) if inputs == "one" else (L.tensor(X), L.tensor(Y))
        if kind == "hessian":
            res.append(L.autograd.functional.hessian(f, ins))
        else:
            v = L.tensor(np.linspace(0, 1, 6).reshape(2, 3))
            res.append(getattr(L.autograd.functional, kind)(f, ins, v if inputs == "one" else (v, L.tensor(Y))))
    _same(*res)


def test_create_graph_results_differentiate_again():
    got = []
    for L in (torch, cr):
        x = L.tensor(Y, requires_grad=True)
        _, g = L.autograd.functional.vjp(lambda a: (a ** 3).sum(), x, create_graph=True)
        assert g.requires_grad
        g.sum().backward()
        got.append(x.grad.numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-7)


def test_results_carry_no_graph_without_create_graph():
    x = cr.tensor(Y, requires_grad=True)
    out, g = cr.autograd.functional.vjp(lambda a: (a * a).sum(), x)
    assert not out.requires_grad and not g.requires_grad


def test_strict_mode_refuses_an_independent_input_like_torch():
    for L in (torch, cr):
        with pytest.raises(RuntimeError, match="independent"):
            L.autograd.functional.jacobian(lambda a, b: a * 2, (L.ones(2), L.ones(2)), strict=True)


@pytest.mark.parametrize("call, exc", [
    (lambda L: L.autograd.functional.vjp(lambda a: a * 2, L.ones(3)), RuntimeError),             # v needed
    (lambda L: L.autograd.functional.vjp(lambda a: a * 2, L.ones(3), L.ones(2)), RuntimeError),  # v's size
    (lambda L: L.autograd.functional.vjp(lambda a: 3, L.ones(3)), TypeError),                    # not a Tensor
    (lambda L: L.autograd.functional.hessian(lambda a: a * 2, L.ones(3)), RuntimeError),         # not a scalar
    (lambda L: L.autograd.functional.jacobian(lambda a: a, [1.0, 2.0]), TypeError),
])
def test_bad_input_raises_like_torch(call, exc):
    with pytest.raises(exc):
        call(torch)
    with pytest.raises(exc):
        call(cr)
