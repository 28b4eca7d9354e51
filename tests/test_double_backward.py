"""Second derivatives of the special-function and modulo ops (their backward rules run in the
Tensor namespace under create_graph), against torch's double backward, and gradgradcheck-style
float64 gradchecks of the first derivative."""
import numpy as np
import pytest
import torch

import chainrule as cr

X = np.array([0.7, 1.3, 2.05, 3.4])  # 3 X / Y away from whole numbers (fmod's jumps)
Y = np.array([0.4, -1.1, 0.9, 2.5])
CASES = {
    "lgamma": lambda L, a, b: a.lgamma() * b,
    "digamma": lambda L, a, b: a.digamma() * b,
    "polygamma2": lambda L, a, b: L.polygamma(2, a) * b,
    "sinh": lambda L, a, b: a.sinh() * b,
    "cosh": lambda L, a, b: a.cosh() * b,
    "fmod": lambda L, a, b: L.fmod(a * 3, b) * a,
    "remainder": lambda L, a, b: L.remainder(a * 3, b) * a,
    "xlog1py": lambda L, a, b: L.special.xlog1py(a, b.abs()) * a,
}


def _second(L, fn, x, y):
    g, = L.autograd.grad(fn(L, x, y).sum(), x, create_graph=True)
    gx, gy = L.autograd.grad((g * g).sum(), (x, y), allow_unused=True)
    return g, gx, gy


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_matches_torch(name):
    fn = CASES[name]
    out = _second(cr, fn, cr.tensor(X, requires_grad=True), cr.tensor(Y, requires_grad=True))
    ref = _second(torch, fn, torch.tensor(X, requires_grad=True), torch.tensor(Y, requires_grad=True))
    for o, r, what in zip(out, ref, ("first derivative", "d/dx", "d/dy")):
        if r is None:
            assert o is None or not np.any(o.numpy()), f"{name} {what}: torch has none"
            continue
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), rtol=1e-7, atol=1e-10,
                                   err_msg=f"{name} {what}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_derivative_gradchecks(name):
    fn = CASES[name]

    def first(x, y):
        with cr.enable_grad():
            g, = cr.autograd.grad(fn(cr, x, y).sum(), x, create_graph=True)
        return g
    assert cr.autograd.gradcheck(first, [cr.tensor(X, requires_grad=True), cr.tensor(Y, requires_grad=True)])
