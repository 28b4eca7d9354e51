"""chainrule.optim against torch.optim: same parameters after the same steps (float64, 1e-10)."""
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

SHAPES = [(3, 4), (4,), ()]
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.2)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.0, 0.5))),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.01, betas=(0.6, 0.9), weight_decay=0.0)),
]


def _grads(rng, steps):
    # a fresh random gradient per step, varying in scale so the state matters
    return [[rng.standard_normal(s) * (1 + k % 3) for s in SHAPES] for k in range(steps)]


def _run_pair(name, kwargs, steps=12, groups=None):
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = _grads(rng, steps)
    cps = [cr.tensor(a.copy(), requires_grad=True) for a in init]
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    if groups is None:
        copt, topt = getattr(optim, name)(cps, **kwargs), getattr(torch.optim, name)(tps, **kwargs)
    else:
        copt = getattr(optim, name)([dict(g, params=[cps[i] for i in g["params"]]) for g in groups], **kwargs)
        topt = getattr(torch.optim, name)([dict(g, params=[tps[i] for i in g["params"]]) for g in groups],
                                          **kwargs)
    for g in grads:
        for c, t, gi in zip(cps, tps, g):
            c.grad, t.grad = cr.tensor(gi.copy()), torch.tensor(gi.copy())
        copt.step()
        topt.step()
    return cps, tps, copt, topt


def _assert_matches_torch(name, kwargs):
    cps, tps, copt, topt = _run_pair(name, kwargs)
    for c, t in zip(cps, tps):
        assert c.dtype == cr.float64
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    # the state matches torch's too, key by key
    csd, tsd = copt.state_dict(), topt.state_dict()
    assert sorted(csd["state"]) == sorted(tsd["state"])
    for i, tst in tsd["state"].items():
        assert sorted(csd["state"][i]) == sorted(tst)
        for k, v in tst.items():
            np.testing.assert_allclose(np.asarray(csd["state"][i][k].numpy()), v.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch(name, kwargs):
    _assert_matches_torch(name, kwargs)


# every optimizer, in its plain and its stateful variants, under maximize and (coupled or AdamW's
# decoupled) weight decay, alone and together
DIRECTION_BASES = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)), ("AdamW", dict(lr=0.01, amsgrad=True)),
]
DIRECTIONS = [dict(maximize=True), dict(weight_decay=0.1), dict(maximize=True, weight_decay=0.1)]


@pytest.mark.parametrize("direction", DIRECTIONS, ids=["maximize", "weight_decay", "both"])
@pytest.mark.parametrize("name,kwargs", DIRECTION_BASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(DIRECTION_BASES)])
def test_maximize_and_weight_decay_match_torch(name, kwargs, direction):
    _assert_matches_torch(name, dict(kwargs, **direction))


@pytest.mark.parametrize("kwargs", [dict(), dict(momentum=0.9)], ids=["plain", "momentum"])
def test_sgd_step_allocates_nothing_without_maximize_and_weight_decay(kwargs):
    """NumPy reports its array memory to tracemalloc: after the first steps (momentum buffer,
    scratch array) a step makes no array; with maximize it makes at least one gradient-sized one."""
    def peak_of_step(**options):
        w = cr.zeros(256, 256, dtype=cr.float64, requires_grad=True)
        w.grad = cr.ones(256, 256, dtype=cr.float64)
        opt = optim.SGD([w], lr=0.1, **kwargs, **options)
        opt.step(), opt.step()
        tracemalloc.start()
        try:
            opt.step()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    nbytes = 256 * 256 * 8
    assert peak_of_step() < nbytes // 8
    assert peak_of_step(maximize=True) >= nbytes


def test_param_groups_with_own_options_match_torch():
    groups = [{"params": [0], "lr": 0.5, "momentum": 0.9}, {"params": [1, 2], "weight_decay": 0.1}]
    cps, tps, copt, _ = _run_pair("SGD", dict(lr=0.1), groups=groups)
    for c, t in zip(cps, tps):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-10)
    assert copt.param_groups[0]["lr"] == 0.5 and copt.param_groups[1]["lr"] == 0.1
    assert copt.param_groups[1]["momentum"] == 0


def test_float32_params_stay_float32_and_close_to_torch():
    rng = np.random.default_rng(0)
    a, g = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((5, 3)).astype(np.float32)
    c, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    co, to = optim.Adam([c], lr=0.1), torch.optim.Adam([t], lr=0.1)
    for _ in range(5):
        c.grad, t.grad = cr.tensor(g), torch.tensor(g)
        co.step(), to.step()
    assert c.dtype == cr.float32 and co.state[c]["exp_avg"].dtype == cr.float32
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_step_updates_in_place_without_graph(name):
    kwargs = dict(lr=0.1, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.1)
    w = cr.randn(4, 3, dtype=cr.float64, requires_grad=True)
    arr, ptr = w._data, w._data.ctypes.data
    opt = getattr(optim, name)([w], **kwargs)
    before = w.detach().numpy().copy()
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w._data is arr and w._data.ctypes.data == ptr   # the same array, updated in place
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    assert not np.allclose(w.detach().numpy(), before)


def test_params_without_grad_are_skipped_and_closure_returns_loss():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss
    with cr.no_grad():
        loss = opt.step(closure)   # the closure still records (enable_grad), as in torch
    assert loss.item() == 5.0
    np.testing.assert_array_equal(a.detach().numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(b.detach().numpy(), [3.0])
    assert b not in opt.state


def test_zero_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.SGD([{"params": p, "lrr": 0.1}], lr=0.1), "unknown option"),
    (lambda p: optim.SGD([{"params": p[:1]}, {"params": p}], lr=0.1), "more than one parameter group"),
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: optim.Adam(p, betas=[0.9]), r"betas must be a pair \(beta1, beta2\), got \[0.9\]"),
])
def test_bad_groups_and_betas_raise_value_error(make, match):
    params = [cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)]
    with pytest.raises(ValueError, match=match):
        make(params)


# the options each optimizer checks to be >= 0, in the order torch checks them
NONNEGATIVE_OPTIONS = {
    "SGD": ["lr", "momentum", "weight_decay"],
    "Adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
    "RMSprop": ["lr", "eps", "momentum", "weight_decay", "alpha"],
    "Adam": ["lr", "eps", "weight_decay"],
    "AdamW": ["lr", "eps", "weight_decay"],
}
# each option negative on its own; and each with all the options after it negative too, where the
# first in torch's order must be the one reported
BAD_OPTIONS = [(name, {o: -0.5}) for name, names in NONNEGATIVE_OPTIONS.items() for o in names]
BAD_OPTIONS += [(name, dict.fromkeys(names[k:], -1)) for name, names in NONNEGATIVE_OPTIONS.items()
                for k in range(len(names) - 1)]
BAD_OPTIONS += [
    ("SGD", dict(nesterov=True)),
    ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True)),
    ("SGD", dict(weight_decay=-1, nesterov=True)),                 # the value checks come first
    ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(-0.1, 0.9))),
    ("Adam", dict(betas=(0.9, 1.0))), ("Adam", dict(betas=(0.9, -1e-3))),
    ("Adam", dict(betas=(float("nan"), 0.9))), ("AdamW", dict(betas=(1.5, 2.0))),
    ("Adam", dict(eps=-1.0, betas=(1.0, 0.9))), ("Adam", dict(betas=(0.9, 1.0), weight_decay=-1.0)),
]


def _value_error(module, name, kwargs):
    """The message of the ValueError that building the optimizer raises, None if it builds."""
    params = [module.zeros(2, requires_grad=True), module.zeros(3, requires_grad=True)]
    try:
        getattr(module.optim, name)(params, **kwargs)
    except ValueError as e:
        return str(e)
    return None


@pytest.mark.parametrize("name,kwargs", BAD_OPTIONS, ids=[f"{n}-{kw}" for n, kw in BAD_OPTIONS])
def test_bad_option_raises_torchs_value_error(name, kwargs):
    message = _value_error(torch, name, kwargs)
    assert message is not None
    assert _value_error(cr, name, kwargs) == message


@pytest.mark.parametrize("name,option", [(n, o) for n, names in NONNEGATIVE_OPTIONS.items() for o in names])
def test_nan_option_as_torch(name, option):
    """NaN fails torch's `not 0.0 <= value` checks but passes SGD's `value < 0.0`."""
    message = _value_error(torch, name, {option: float("nan")})
    assert (message is None) == (name == "SGD")
    assert _value_error(cr, name, {option: float("nan")}) == message


def test_bad_params_raise_type_error():
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(cr.zeros(2, requires_grad=True), lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="sets"):
        optim.SGD([{"params": {cr.zeros(2, requires_grad=True)}}], lr=0.1)
    with pytest.raises(TypeError):
        optim.Adam([cr.zeros(2, requires_grad=True)], lr=0.1, foo=1)
    x = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([x * 2], lr=0.1)


def test_add_param_group():
    a, b = cr.ones(2, requires_grad=True), cr.ones(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one"):
        opt.add_param_group({"params": [a]})


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                         ("Adagrad", dict(lr=0.1)), ("AdamW", dict(lr=0.01))])
def test_state_dict_resume_matches_uninterrupted(name, kwargs):
    rng = np.random.default_rng(3)
    init = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(10)]

    def run(params, opt, gs):
        for g in gs:
            params[0].grad = cr.tensor(g)
            opt.step()
    p_full = [cr.tensor(init.copy(), requires_grad=True)]
    run(p_full, getattr(optim, name)(p_full, **kwargs), grads)
    p1 = [cr.tensor(init.copy(), requires_grad=True)]
    o1 = getattr(optim, name)(p1, **kwargs)
    run(p1, o1, grads[:5])
    sd = o1.state_dict()
    assert list(sd["state"]) == [0] and sd["param_groups"][0]["params"] == [0]
    p2 = [cr.tensor(p1[0].detach().numpy().copy(), requires_grad=True)]
    o2 = getattr(optim, name)(p2, **dict(kwargs, lr=123.0))
    o2.load_state_dict(sd)
    assert o2.param_groups[0]["lr"] == kwargs["lr"] and o2.param_groups[0]["params"] == p2
    run(p1, o1, grads[5:6])   # the loaded state is a copy: o1 going on does not touch o2
    run(p2, o2, grads[5:])
    np.testing.assert_allclose(p2[0].detach().numpy(), p_full[0].detach().numpy(), rtol=1e-12)


def test_torch_state_dict_loads():
    """torch's optimizer state dict (tensors converted) loads and continues exactly."""
    cps, tps, _, topt = _run_pair("Adam", dict(lr=0.01, amsgrad=True), steps=4)
    tsd = topt.state_dict()
    csd = {"state": {i: {k: cr.tensor(v.numpy()) for k, v in st.items()} for i, st in tsd["state"].items()},
           "param_groups": [dict(g) for g in tsd["param_groups"]]}
    c2 = [cr.tensor(t.detach().numpy().copy(), requires_grad=True) for t in tps]
    copt = optim.Adam(c2, lr=0.01, amsgrad=True)
    copt.load_state_dict(csd)
    rng = np.random.default_rng(9)
    for _ in range(3):
        for c, t in zip(c2, tps):
            g = rng.standard_normal(t.shape)
            c.grad, t.grad = cr.tensor(g), torch.tensor(g)
        copt.step(), topt.step()
    for c, t in zip(c2, tps):
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-10)


def test_load_state_dict_mismatch():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    o = optim.Adam([a], lr=0.1)
    a.grad = cr.ones(2)
    o.step()
    with pytest.raises(ValueError, match="shape"):
        optim.Adam([b], lr=0.1).load_state_dict(o.state_dict())


# ---- schedulers ------------------------------------------------------------------------------
SCHEDULERS = [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("StepLR", dict(step_size=3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULERS)
def test_scheduler_matches_torch(name, kwargs):
    c = cr.zeros(2, requires_grad=True)
    t = torch.zeros(2, requires_grad=True)
    copt = optim.SGD([{"params": [c]}, {"params": [cr.zeros(1, requires_grad=True)], "lr": 0.3}], lr=0.1)
    topt = torch.optim.SGD([{"params": [t]}, {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3}], lr=0.1)
    cs = getattr(lr_scheduler, name)(copt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    assert cs.get_last_lr() == ts.get_last_lr()
    for _ in range(30):
        copt.step(), topt.step()
        cs.step(), ts.step()
        assert cs.get_last_lr() == ts.get_last_lr()      # exactly: same formulas, same order
        assert [g["lr"] for g in copt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert cs.last_epoch == ts.last_epoch
    sd = cs.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 30
    # resume: a new scheduler on a new optimizer continues identically
    c2 = optim.SGD([{"params": [cr.zeros(2, requires_grad=True)]},
                    {"params": [cr.zeros(1, requires_grad=True)], "lr": 0.3}], lr=0.1)
    c2.load_state_dict(copt.state_dict())
    s2 = getattr(lr_scheduler, name)(c2, **kwargs)
    s2.load_state_dict(sd)
    for _ in range(5):
        s2.step(), ts.step()
        assert s2.get_last_lr() == ts.get_last_lr()


def test_scheduler_warns_when_stepped_before_optimizer_and_checks_type():
    opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    s = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    opt2 = optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    s2 = lr_scheduler.ExponentialLR(opt2, 0.5)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), 2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1), 2, last_epoch=3)
