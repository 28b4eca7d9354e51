"""The rest of torch.nn's module API and activations, against torch: hooks, containers of
parameters, submodule lookup, and every activation function/module (values, dtypes, gradients,
float64 gradcheck, bad input)."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
import torch.nn.functional as TF
from helpers import compare

rng = np.random.default_rng(7)

# (functional name, keyword options, module name, module args): the module form is checked too
ACTIVATIONS = [
    ("silu", {}, "SiLU", ()), ("mish", {}, "Mish", ()), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}, "Hardtanh",
                                                           (-0.5, 2.0)),
    ("relu6", {}, "ReLU6", ()), ("hardsigmoid", {}, "Hardsigmoid", ()), ("hardswish", {}, "Hardswish", ()),
    ("softsign", {}, "Softsign", ()), ("softmin", {"dim": 1}, "Softmin", (1,)), ("logsigmoid", {}, "LogSigmoid", ()),
    ("selu", {}, "SELU", ()), ("celu", {"alpha": 0.7}, "CELU", (0.7,)), ("glu", {"dim": 1}, "GLU", (1,)),
    ("tanhshrink", {}, "Tanhshrink", ()), ("threshold", {"threshold": 0.3, "value": -2.0}, "Threshold", (0.3, -2.0)),
    ("hardshrink", {"lambd": 0.7}, "Hardshrink", (0.7,)), ("softshrink", {"lambd": 0.7}, "Softshrink", (0.7,)),
    ("softplus", {"beta": 2.0, "threshold": 3.0}, "Softplus", (2.0, 3.0)), ("rrelu", {}, "RReLU", ()),
    ("normalize", {"p": 3.0, "dim": 0}, None, ()),
]


@pytest.mark.parametrize("name,kw,module,args", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_matches_torch(name, kw, module, args):
    x = rng.standard_normal((3, 4, 2)) * 4
    x[0, 0, 0], x[0, 0, 1] = 0.0, -40.0     # a kink and a saturated entry
    for dtype in (np.float32, np.float64):
        compare(lambda t: getattr(F, name)(t, **kw), lambda t: getattr(TF, name)(t, **kw), [x.astype(dtype)])
    if module is not None:
        m = getattr(cr.nn, module)(*args).eval()
        compare(lambda t: m(t), lambda t: getattr(torch.nn, module)(*args).eval()(t), [x])
        assert repr(m) == repr(getattr(torch.nn, module)(*args))
    xs = cr.tensor(rng.standard_normal((2, 4)) + 0.05, requires_grad=True)   # away from the kinks
    assert cr.autograd.gradcheck(lambda t: getattr(F, name)(t, **kw), (xs,))


def test_softmax2d_and_activation_errors():
    x = rng.standard_normal((2, 3, 4, 5))
    compare(lambda t: cr.nn.Softmax2d()(t), lambda t: torch.nn.Softmax2d()(t), [x])
    for L, FF in ((cr, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="even"):
            FF.glu(L.ones(2, 3), dim=1)
        with pytest.raises(ValueError):
            FF.hardtanh(L.ones(2), 2.0, 1.0)
        with pytest.raises(ValueError, match="3D or 4D"):
            L.nn.Softmax2d()(L.ones(2, 3))
        with pytest.raises(IndexError):
            FF.glu(L.ones(2, 4), dim=2)


def test_rrelu_training_slopes_are_random_within_bounds():
    x = cr.tensor(-np.ones(10000))
    y = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    assert ((-y >= 0.1) & (-y <= 0.3)).all() and abs(-y.mean() - 0.2) < 0.005 and np.std(y) > 0.05


def _both_linears():
    w, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    out = []
    for L in (cr, torch):
        lin = L.nn.Linear(3, 2).double()
        with L.no_grad():
            lin.weight.copy_(L.tensor(w))
            lin.bias.copy_(L.tensor(b))
        out.append((L, lin))
    return out


def test_forward_hooks_and_pre_hooks_match_torch():
    x0 = rng.standard_normal((4, 3))
    results = []
    for L, lin in _both_linears():
        calls = []
        h1 = lin.register_forward_pre_hook(lambda m, a: (a[0] * 2,))
        h2 = lin.register_forward_hook(lambda m, a, o: o + 1)
        h3 = lin.register_forward_hook(lambda m, a, o: calls.append(("first", tuple(o.shape))), prepend=True)
        h4 = lin.register_forward_pre_hook(lambda m, a, k: ((a[0] - 1,), k), with_kwargs=True)
        y = lin(L.tensor(x0))
        h1.remove(), h2.remove(), h3.remove(), h4.remove()
        z = lin(L.tensor(x0))
        results.append((y.detach().numpy(), z.detach().numpy(), calls))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    assert results[0][2] == results[1][2] == [("first", (4, 2))]


def test_full_backward_hooks_match_torch():
    x0, up = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    results = []
    for L, lin in _both_linears():
        seen = []
        lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0].numpy().copy(), go[0].numpy().copy())))
        lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
        x = L.tensor(x0, requires_grad=True)
        lin(x).backward(L.tensor(up))
        results.append((x.grad.numpy(), lin.weight.grad.numpy(), seen))
    (cx, cw, cs), (tx, tw, ts) = results
    np.testing.assert_allclose(cx, tx, rtol=1e-12)
    np.testing.assert_allclose(cw, tw, rtol=1e-12)
    assert len(cs) == len(ts) == 1
    for a, b in zip(cs[0], ts[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_backward_hook_without_input_grads_gets_none():
    seen = []
    for L, lin in _both_linears():
        lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, len(go))))
        with pytest.warns(UserWarning) if L is torch else _nothing():
            lin(L.ones(1, 3, dtype=L.float64)).sum().backward()
    assert seen[0] == seen[1] == ((None,), 1)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_hook_handle_as_context_manager_and_bad_hook():
    lin = cr.nn.Linear(2, 2)
    with lin.register_forward_hook(lambda m, a, o: o * 0):
        assert not lin(cr.ones(1, 2)).detach().numpy().any()
    assert lin(cr.ones(1, 2)).detach().numpy().any()
    with pytest.raises(TypeError):
        lin.register_forward_hook(3)


def test_parameter_list_and_dict_match_torch():
    for L in (cr, torch):
        pl = L.nn.ParameterList([L.nn.Parameter(L.ones(2)), L.zeros(3)])
        pl.append(L.ones(4))
        assert [tuple(p.shape) for p in pl] == [(2,), (3,), (4,)] and all(isinstance(p, L.nn.Parameter) for p in pl)
        assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"] and tuple(pl[-1].shape) == (4,)
        pd = L.nn.ParameterDict({"a": L.nn.Parameter(L.ones(2)), "b": L.ones(1)})
        pd["c"] = L.zeros(5)
        assert list(pd.keys()) == ["a", "b", "c"] and "b" in pd and isinstance(pd["b"], L.nn.Parameter)

        class Holder(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.ps, self.pd = pl, pd
        assert [n for n, _ in Holder().named_parameters()] == ["ps.0", "ps.1", "ps.2", "pd.a", "pd.b", "pd.c"]
        with pytest.raises(IndexError):
            pl[3]


def test_get_submodule_parameter_buffer():
    for L in (cr, torch):
        m = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.Sequential(L.nn.BatchNorm1d(3)))
        assert m.get_submodule("1.0") is m[1][0] and m.get_submodule("") is m
        assert m.get_parameter("0.weight") is m[0].weight
        assert m.get_buffer("1.0.running_mean") is m[1][0].running_mean
        with pytest.raises(AttributeError):
            m.get_submodule("2")
        with pytest.raises(AttributeError):
            m.get_parameter("0.nothing")
        with pytest.raises(AttributeError):
            m.get_buffer("0.weight")
