"""cr.func against torch.func: grad, grad_and_value, vjp, jvp, jacrev/jacfwd, hessian, vmap, functional_call,
their compositions (per-sample gradients, grad of grad), and the errors torch raises."""
import numpy as np
import pytest
import torch
import torch.func as tf

import chainrule as cr
import chainrule.func as cf
from helpers import raises_like

RNG = np.random.default_rng(0)
X = RNG.standard_normal(5)
Y = RNG.standard_normal(5)


def same(a, b, rtol=1e-7):
    """Nests of Tensors equal in values and structure (chainrule's and torch's)."""
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for u, v in zip(a, b):
            same(u, v, rtol)
    elif isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            same(a[k], b[k], rtol)
    else:
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-12)


def both(fn):
    """fn(lib, func-module, tensor-maker) for chainrule and torch."""
    return (fn(cr, cf, lambda a: cr.tensor(a)), fn(torch, tf, lambda a: torch.tensor(a)))


def f_scalar(lib):
    return lambda x, y: (x.sin() * y).sum() + (x * x).sum()


def test_grad_and_its_options():
    for argnums in (0, 1, (0, 1)):
        a, b = both(lambda lib, F, t: F.grad(f_scalar(lib), argnums=argnums)(t(X), t(Y)))
        same(a, b)
        assert not any(g.requires_grad for g in (a if isinstance(a, tuple) else (a,)))
    a, b = both(lambda lib, F, t: F.grad(lambda x: ((x ** 3).sum(), x.cos()), has_aux=True)(t(X)))
    same(a, b)
    a, b = both(lambda lib, F, t: F.grad_and_value(f_scalar(lib), argnums=(1,))(t(X), t(Y)))
    same(a, b)


def test_grad_of_grad_and_of_a_dict():
    a, b = both(lambda lib, F, t: F.grad(F.grad(lambda x: x.sin() * x ** 3))(t(np.array(0.7))))
    same(a, b)
    a, b = both(lambda lib, F, t: F.grad(lambda p, x: (p["w"] * x + p["b"]).pow(2).sum())(
        {"w": t(X), "b": t(np.array(0.5))}, t(Y)))
    same(a, b)


def test_grad_keeps_the_graph_of_an_input_that_requires_grad():
    x = cr.tensor(X, requires_grad=True)
    g = cf.grad(lambda v: (v ** 3).sum())(x)
    g.sum().backward()
    tx = torch.tensor(X, requires_grad=True)
    tf.grad(lambda v: (v ** 3).sum())(tx).sum().backward()
    same(x.grad, tx.grad)


def test_vjp_and_jvp():
    def f(lib):
        return lambda x, y: (x.exp() * y, (x * y).sum())
    (oa, fa), (ob, fb) = both(lambda lib, F, t: F.vjp(f(lib), t(X), t(Y)))
    same(oa, ob)
    ca, cb = (cr.tensor(Y), cr.tensor(1.5)), (torch.tensor(Y), torch.tensor(1.5))
    same(fa(ca), fb(cb))
    same(fa(ca), fb(cb))  # twice
    a, b = both(lambda lib, F, t: F.jvp(lambda x, y: x.sin() * y, (t(X), t(Y)), (t(Y), t(X))))
    same(a, b)


def test_jacrev_jacfwd_hessian():
    def f(lib):
        return lambda x, y: x.sin() * y.sum() + x * y
    for jac in ("jacrev", "jacfwd"):
        for argnums in (0, (0, 1)):
            a, b = both(lambda lib, F, t: getattr(F, jac)(f(lib), argnums=argnums)(t(X), t(Y)))
            same(a, b)
    a, b = both(lambda lib, F, t: F.hessian(lambda x: (x.sin() * x.sum()).sum())(t(X)))
    same(a, b)
    a, b = both(lambda lib, F, t: F.jacrev(F.grad(lambda x: (x ** 4).sum()))(t(X)))
    same(a, b)


def test_vmap_dims_and_outputs():
    m = RNG.standard_normal((3, 4))
    a, b = both(lambda lib, F, t: F.vmap(lambda r, v: r * v, in_dims=(0, None))(t(m), t(m[0])))
    same(a, b)
    a, b = both(lambda lib, F, t: F.vmap(lambda c: (c, c.sum()), in_dims=1, out_dims=(1, 0))(t(m)))
    same(a, b)
    a, b = both(lambda lib, F, t: F.vmap(F.vmap(lambda s: s * 2))(t(m)))
    same(a, b)
    a, b = both(lambda lib, F, t: F.vmap(lambda d: d["x"] + d["y"], in_dims=(0,))({"x": t(m), "y": t(m)}))
    same(a, b)


def test_per_sample_gradients_as_the_torch_func_tutorial():
    data, targets = RNG.standard_normal((6, 3)).astype(np.float32), np.array([0, 1, 1, 0, 1, 0])
    results = []
    for lib, F in ((cr, cf), (torch, tf)):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        with lib.no_grad():
            model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
            model.bias.copy_(lib.tensor([0.05, -0.05]))
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, x, y):
            out = F.functional_call(model, p, (x.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, y.unsqueeze(0))
        results.append(F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, lib.tensor(data), lib.tensor(targets)))
    same(results[0], results[1], rtol=1e-5)
    assert results[0]["weight"].shape == (6, 2, 3)


def test_functional_call_swaps_for_the_call_only():
    lin = cr.nn.Linear(3, 2)
    before = lin.weight
    out = cf.functional_call(lin, {"weight": cr.zeros(2, 3)}, cr.ones(1, 3))
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None])
    assert lin.weight is before
    with pytest.raises(RuntimeError, match="Missing key"):
        cf.functional_call(lin, {"weight": cr.zeros(2, 3)}, (cr.ones(1, 3),), strict=True)
    with pytest.raises(ValueError, match="multiple"):
        cf.functional_call(lin, ({"bias": cr.zeros(2)}, {"bias": cr.zeros(2)}), (cr.ones(1, 3),))


@pytest.mark.parametrize("case", ["grad of a vector", "vmap sizes differ", "vmap float output", "vmap bad dim",
                                  "bad argnums"])
def test_errors_match_torch(case):
    def run(lib, F):
        t = lib.tensor
        if case == "grad of a vector":
            F.grad(lambda a: a * 2)(t(X))
        elif case == "vmap sizes differ":
            F.vmap(lambda a, b: a + b)(t(np.ones((3, 2))), t(np.ones((4, 2))))
        elif case == "vmap float output":
            F.vmap(lambda a: 1.0)(t(np.ones((3, 2))))
        elif case == "vmap bad dim":
            F.vmap(lambda a: a, in_dims=2)(t(np.ones((3, 2))))
        else:
            F.grad(lambda a: a.sum(), argnums=3)(t(X))
    raises_like(lambda: run(cr, cf), lambda: run(torch, tf), {
        "grad of a vector": "scalar", "vmap sizes differ": "same size", "vmap float output": "only return",
        "vmap bad dim": "in_dim", "bad argnums": "argnum=3"}[case])


def test_model_ensemble_with_stack_module_state():
    """The torch.func ensembling recipe: stacked states, vmap over functional_call of one base model."""
    import copy
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    results = []
    for lib, F in ((cr, cf), (torch, tf)):
        models = [lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2)) for _ in range(3)]
        with lib.no_grad():
            for i, m in enumerate(models):
                for j, p in enumerate(m.parameters()):
                    p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape)) * (i + 1) / (j + 1),
                                       dtype=lib.float32))
        params, buffers = F.stack_module_state(models)
        assert all(v.is_leaf and v.requires_grad for v in params.values())
        base = copy.deepcopy(models[0])
        results.append(lib.vmap(lambda p, b, v: F.functional_call(base, (p, b), (v,)), in_dims=(0, 0, None))(
            params, buffers, lib.tensor(x)))
    same(results[0], results[1], rtol=1e-5)
    assert results[0].shape == (3, 5, 2)
    with pytest.raises(RuntimeError, match="training/eval"):
        cf.stack_module_state([cr.nn.Linear(2, 2), cr.nn.Linear(2, 2).eval()])
    with pytest.raises(RuntimeError, match="same class"):
        cf.stack_module_state([cr.nn.Linear(2, 2), cr.nn.ReLU()])
