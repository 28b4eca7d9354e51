"""Module machinery: registration, names, containers, train/eval, zero_grad, state_dict round trips
with torch, load errors, to()/dtype, apply, init rules and clip_grad_norm_."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import init
from helpers import assert_close


def lenet(lib_nn):
    return lib_nn.Sequential(
        lib_nn.Conv2d(1, 4, 3, padding=1), lib_nn.BatchNorm2d(4), lib_nn.ReLU(), lib_nn.MaxPool2d(2),
        lib_nn.Flatten(), lib_nn.Linear(4 * 4 * 4, 8), lib_nn.BatchNorm1d(8), lib_nn.PReLU(),
        lib_nn.Dropout(0.5), lib_nn.Linear(8, 3))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 1, bias=False)])
        self.extra = nn.ModuleDict({"scale": nn.PReLU()})
        self.register_buffer("offset", cr.zeros(2))
        self.gain = nn.Parameter(cr.ones(1))
        self.not_registered = cr.ones(3)  # a plain tensor is just an attribute

    def forward(self, x):
        h = self.body(x)
        return self.extra["scale"](self.heads[0](h)) * self.gain + self.offset + self.heads[1](h)


def test_registration_and_names_like_torch():
    m = Net()
    assert [n for n, _ in m.named_parameters()] == [
        "gain", "body.0.weight", "body.0.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight",
        "extra.scale.weight"]
    assert list(m.state_dict()) == [
        "gain", "offset", "body.0.weight", "body.0.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight",
        "extra.scale.weight"]
    assert [type(c).__name__ for c in m.children()] == ["Sequential", "ModuleList", "ModuleDict"]
    assert [n for n, _ in m.named_modules()] == ["", "body", "body.0", "body.1", "heads", "heads.0", "heads.1",
                                                 "extra", "extra.scale"]
    assert len(list(m.modules())) == 9
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert "not_registered" not in dict(m.named_buffers())
    # reassigning None / deleting removes from the registry
    m.gain = None
    assert "gain" not in dict(m.named_parameters())
    del m.heads
    assert "heads.0.weight" not in m.state_dict()
    with pytest.raises(AttributeError):
        m.no_such_attribute


def test_torch_state_dict_keys_match():
    c, t = lenet(nn), lenet(torch.nn)
    assert list(c.state_dict()) == list(t.state_dict())
    for k, v in c.state_dict().items():
        assert tuple(v.shape) == tuple(t.state_dict()[k].shape), k
    assert c.state_dict()["1.num_batches_tracked"].dtype == cr.int64


def test_torch_sequential_loads_and_matches_then_round_trips():
    t = lenet(torch.nn)
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    t.train()
    t(torch.tensor(x))  # move the running statistics away from their defaults
    t.eval()
    c = lenet(nn)
    result = c.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    c.eval()
    ref = t(torch.tensor(x))
    out = c(cr.tensor(x))
    assert_close(out, ref)
    # chainrule -> torch -> chainrule
    t2 = lenet(torch.nn)
    t2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in c.state_dict().items()})
    t2.eval()
    assert_close(out, t2(torch.tensor(x)))
    c2 = lenet(nn)
    c2.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t2.state_dict().items()})
    c2.eval()
    np.testing.assert_array_equal(c2(cr.tensor(x)).detach().numpy(), out.detach().numpy())


def test_load_state_dict_errors_name_keys():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    sd = m.state_dict()
    bad = dict(sd)
    del bad["1.running_var"]
    bad["2.weight"] = cr.zeros(1)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.running_var"') as e:
        m.load_state_dict(bad)
    assert '"2.weight"' in str(e.value) and "Unexpected" in str(e.value)
    bad = dict(sd, **{"0.weight": cr.zeros(2, 4)})
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight.*\[2, 4\].*\[2, 3\]"):
        m.load_state_dict(bad)
    partial = {"0.weight": cr.ones(2, 3)}
    res = m.load_state_dict(partial, strict=False)
    assert "0.bias" in res.missing_keys and m[0].weight.detach().numpy().sum() == 6


def test_sequential_module_list_dict():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[1], nn.ReLU) and isinstance(s[-1], nn.Linear)
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2
    s.append(nn.Sigmoid())
    assert len(s) == 4 and [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    assert s(cr.ones(5, 2)).shape == (5, 1)
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2))
    ml.extend([nn.ReLU()])
    assert len(ml) == 3 and len(list(ml.parameters())) == 4
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.ReLU()
    assert list(md.keys()) == ["a", "b"] and "b" in md and len(md) == 2
    with pytest.raises(IndexError):
        s[10]


def test_train_eval_zero_grad_apply_to():
    m = lenet(nn)
    assert m.training and all(c.training for c in m.modules())
    assert m.eval() is m and not any(c.training for c in m.modules())
    m.train()
    m(cr.randn(2, 1, 8, 8)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen[-1] == "Sequential" and len(seen) == 11
    m.double()
    assert all(p.dtype == cr.float64 for p in m.parameters())
    assert m.state_dict()["1.num_batches_tracked"].dtype == cr.int64
    assert m(cr.randn(2, 1, 8, 8, dtype=cr.float64)).dtype == cr.float64
    m.to(cr.float32)
    assert m[0].weight.dtype == cr.float32 and m.float() is m
    assert m.to("cpu") is m and m.cpu() is m
    p = m[0].weight
    m.double()
    assert m[0].weight is p  # identities kept (an optimizer still holds them)


def test_parameter_and_buffers():
    p = nn.Parameter(cr.zeros(2))
    assert isinstance(p, cr.Tensor) and p.requires_grad
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")
    assert str(p) == repr(p) and str(p) == str(torch.nn.Parameter(torch.zeros(2)))  # print(param), as torch
    m = nn.Module()
    m.register_buffer("b", cr.ones(2), persistent=False)
    assert "b" in dict(m.named_buffers()) and "b" not in m.state_dict()
    with pytest.raises(KeyError):
        m.register_buffer("a.b", cr.ones(1))
    with pytest.raises(TypeError):
        m.register_parameter("w", cr.ones(1))


# ---- nn.init ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_init_fan_and_gain_rules(shape):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    w = cr.empty(*shape)

    def stats():
        a = w.detach().numpy()
        return np.abs(a).max(), a.std()
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    mx, sd = stats()
    assert mx <= bound and mx > 0.98 * bound and abs(sd - bound / math.sqrt(3)) < 0.03 * bound
    init.xavier_normal_(w)
    assert abs(stats()[1] - math.sqrt(2 / (fan_in + fan_out))) < 0.03 * math.sqrt(2 / (fan_in + fan_out))
    init.kaiming_uniform_(w, a=0.1, mode="fan_out", nonlinearity="leaky_relu")
    bound = math.sqrt(2 / (1 + 0.01)) * math.sqrt(3 / fan_out)
    mx, sd = stats()
    assert mx <= bound and mx > 0.98 * bound
    init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(stats()[1] - math.sqrt(2 / fan_in)) < 0.03 * math.sqrt(2 / fan_in)
    init.uniform_(w, -3, -2)
    a = w.detach().numpy()
    assert a.min() >= -3 and a.max() <= -2
    init.normal_(w, 5.0, 0.5)
    assert abs(w.detach().numpy().mean() - 5) < 0.02
    init.constant_(w, 0.3)
    assert np.all(w.detach().numpy() == np.float32(0.3))
    init.zeros_(w)
    assert not w.detach().numpy().any()
    init.ones_(w)
    assert np.all(w.detach().numpy() == 1)


def test_init_gain_values_match_torch_and_no_grad_recorded():
    for nl, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                      ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))
    p = nn.Parameter(cr.zeros(3, 4))
    out = init.kaiming_uniform_(p)
    assert out is p and p.grad_fn is None and p.is_leaf
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        init.xavier_uniform_(cr.zeros(3))


def test_clip_grad_norm_like_torch():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,)]]
    for norm_type in (2.0, 1.0, math.inf):
        cps = [nn.Parameter(cr.tensor(a)) for a in arrays]
        tps = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
        for cp, tp in zip(cps, tps):
            (cp * cp).sum().backward()
            (tp * tp).sum().backward()
        total = nn.utils.clip_grad_norm_(cps, 1.5, norm_type=norm_type)
        ref = torch.nn.utils.clip_grad_norm_(tps, 1.5, norm_type=norm_type)
        assert total.item() == pytest.approx(ref.item(), rel=1e-5)
        for cp, tp in zip(cps, tps):
            assert_close(cp.grad, tp.grad)
    big = nn.Parameter(cr.ones(2))
    big.grad = cr.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([big], 1.0, error_if_nonfinite=True)
