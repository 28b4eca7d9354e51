"""cr.autograd.forward_ad against torch's: dual tensors through ops and modules, several duals, what
unpack_dual gives outside a level or for a Tensor no dual reaches, and torch's errors."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import chainrule as cr
import chainrule.autograd.forward_ad as cfw
from helpers import raises_like

RNG = np.random.default_rng(0)
X, T, S = RNG.standard_normal(4), RNG.standard_normal(4), RNG.standard_normal(4)


def run(fn):
    """fn(lib, forward_ad module) for chainrule and torch."""
    return fn(cr, cfw), fn(torch, tfw)


def close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("f", [lambda x: x.sin() * 2 + (x * x).sum(), lambda x: x.exp() / (1 + x * x),
                               lambda x: x.reshape(2, 2) @ x.reshape(2, 2).T, lambda x: x.tanh().cumsum(0)],
                         ids=["sin", "rational", "matmul", "cumsum"])
def test_tangent_of_a_function(f):
    def go(lib, fw):
        with fw.dual_level():
            primal, tangent = fw.unpack_dual(f(fw.make_dual(lib.tensor(X), lib.tensor(T))))
            return primal, tangent
    (pa, ta), (pb, tb) = run(go)
    close(pa, pb)
    close(ta, tb)


def test_two_duals_add_their_jvps():
    def go(lib, fw):
        with fw.dual_level():
            a, b = fw.make_dual(lib.tensor(X), lib.tensor(T)), fw.make_dual(lib.tensor(S), lib.tensor(X))
            return fw.unpack_dual(a * b.cos() + a).tangent
    close(*run(go))


def test_module_parameters_as_duals_the_tutorial_way():
    """Each parameter a dual (tangent: a direction), the model run through functional_call."""
    def go(lib, fw):
        model = lib.nn.Linear(4, 3).double()
        with lib.no_grad():
            model.weight.copy_(lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4)))
            model.bias.copy_(lib.tensor([0.1, 0.2, 0.3]))
        params = {name: p for name, p in model.named_parameters()}
        tangents = {name: lib.ones_like(p) for name, p in params.items()}
        with fw.dual_level():
            duals = {name: fw.make_dual(p, tangents[name]) for name, p in params.items()}
            out = lib.func.functional_call(model, duals, (lib.tensor(X).reshape(1, 4),))
            return fw.unpack_dual(out.tanh()).tangent
    close(*run(go))


def test_no_tangent_outside_a_level_or_without_a_dual():
    def go(lib, fw):
        x = lib.tensor(X)
        with fw.dual_level():
            d = fw.make_dual(x, lib.tensor(T))
            inside = (fw.unpack_dual(x).tangent, fw.unpack_dual(lib.tensor(S) * 2).tangent)
            y = d * 3
        return inside + (fw.unpack_dual(y).tangent,)
    ours, theirs = run(go)
    assert ours == theirs == (None, None, None)


@pytest.mark.parametrize("case", ["no level", "shape", "integer"])
def test_errors_match_torch(case):
    def go(lib, fw):
        if case == "no level":
            fw.make_dual(lib.tensor(X), lib.tensor(T))
        with fw.dual_level():
            if case == "shape":
                fw.make_dual(lib.tensor(X), lib.tensor(X[:3]))
            fw.make_dual(lib.tensor([1, 2]), lib.tensor([1, 1]))
    raises_like(lambda: go(cr, cfw), lambda: go(torch, tfw),
                {"no level": "no level exists", "shape": "different size", "integer": "floating point"}[case])
