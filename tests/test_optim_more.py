"""Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS against torch.optim: the same parameters and
the same state (every entry, in torch's types and dtypes) after the same steps on a small model, in
float32 and float64; param groups, add_param_group, state-dict round trips, signatures and option checks."""
import inspect

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim

SHAPES = [(3, 4), (4,), ()]
STEPS = 20
# values are compared norm-wise, each element of an array (or of a list of scalars) against the largest
# of them: an element near 0 carries the rounding of its neighbours (and, in float32, of the two
# autograd engines' gradients); a state tensor at least at its own dtype's tolerance
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-7, atol=1e-10)}


class Model:
    """mean((s*tanh(x@W + b) - y)^2) + 0.05*|W|^2 over parameters W, b and a 0-d s, in chainrule or torch
    (the same data for both)."""

    def __init__(self, M, dtype="float64", seed=0):
        rng = np.random.default_rng(seed)
        dt = getattr(M, dtype)
        self.params = [M.tensor(rng.standard_normal(s), dtype=dt, requires_grad=True) for s in SHAPES]
        self.x = M.tensor(rng.standard_normal((6, 3)), dtype=dt)
        self.y = M.tensor(rng.standard_normal((6, 4)), dtype=dt)
        self.M = M

    def closure(self, opt):
        def closure():
            opt.zero_grad()
            W, b, s = self.params
            loss = ((s * self.M.tanh(self.x @ W + b) - self.y) ** 2).mean() + 0.05 * (W * W).sum()
            loss.backward()
            return loss
        return closure

    def train(self, opt, steps):
        closure = self.closure(opt)
        return [opt.step(closure).item() for _ in range(steps)]


def _pair(dtype="float64"):
    return Model(cr, dtype), Model(torch, dtype)


def _make(M, name, model, kwargs, groups=None):
    """``groups``: dicts whose "params" are indices into the model's parameters."""
    params = model.params if groups is None else [dict(g, params=[model.params[i] for i in g["params"]])
                                                  for g in groups]
    return getattr(M.optim, name)(params, **kwargs)


def assert_close(c, t, tol, where="state", scale=0.0):
    """chainrule value c as torch's t: Tensors (same dtype and shape) close, lists element by element,
    Python numbers of the same type, None as None."""
    if isinstance(t, torch.Tensor):
        assert isinstance(c, cr.Tensor), f"{where}: {type(c).__name__}, torch has a Tensor"
        dtype = str(t.dtype).rsplit(".")[-1]
        assert str(c.dtype).rsplit(".")[-1] == dtype, f"{where}: {c.dtype}, torch has {t.dtype}"
        assert tuple(c.shape) == tuple(t.shape), where
        expected = t.detach().numpy()
        rtol, atol = (max(tol[k], TOL.get(dtype, tol)[k]) for k in ("rtol", "atol"))
        atol += rtol * max([scale] + ([float(np.abs(expected).max())] if expected.size else []))
        np.testing.assert_allclose(c.detach().numpy(), expected, rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(t, (list, tuple)):
        assert isinstance(c, (list, tuple)) and len(c) == len(t), where
        scalars = [abs(float(v)) for v in t if isinstance(v, torch.Tensor) and v.dim() == 0]
        for i, (ci, ti) in enumerate(zip(c, t)):
            assert_close(ci, ti, tol, f"{where}[{i}]", max(scalars, default=0.0))
    elif t is None or isinstance(t, (bool, str)):
        assert c == t, where
    else:
        assert type(c) is type(t), f"{where}: {type(c).__name__}, torch has {type(t).__name__}"
        np.testing.assert_allclose(c, t, err_msg=where, **tol)


def _groups(sd):
    return [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in sd["param_groups"]]


def assert_matches(cmodel, tmodel, copt, topt, tol, state_tol=None):
    for i, (c, t) in enumerate(zip(cmodel.params, tmodel.params)):
        assert c.dtype == getattr(cr, str(t.dtype).rsplit(".")[-1])
        assert_close(c, t, tol, f"param {i}")
    csd, tsd = copt.state_dict(), topt.state_dict()
    assert _groups(csd) == _groups(tsd)
    assert sorted(csd["state"]) == sorted(tsd["state"])
    for i, tst in tsd["state"].items():
        assert sorted(csd["state"][i]) == sorted(tst)
        for k, v in tst.items():
            assert_close(csd["state"][i][k], v, state_tol or tol, f"state[{i}][{k!r}]")


# every option that changes the math, alone and with maximize / (coupled or decoupled) weight decay
CASES = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.6, eps=1e-4)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(rho=1.0, weight_decay=0.2, foreach=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.5, 0.8), eps=1e-3)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05, betas=(0.0, 0.0), foreach=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, betas=(0.6, 0.9), eps=1e-4, momentum_decay=0.3)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True, maximize=True, foreach=True)),
    ("RAdam", dict(lr=0.05)),                                   # rho_t > 5 from step 6 on
    ("RAdam", dict(lr=0.05, betas=(0.7, 0.9), eps=1e-3)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.5))),                 # rho_inf = 3: never rectified
    ("RAdam", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True, foreach=True)),
    ("ASGD", dict(lr=0.05)),                                    # t0 = 1e6: ax copies p
    ("ASGD", dict(lr=0.05, lambd=0.05, alpha=0.5, t0=6)),        # averaging from step 7
    ("ASGD", dict(lr=0.05, t0=3, weight_decay=0.1, maximize=True)),
    ("ASGD", dict(lr=0.05, lambd=0.5, t0=0, foreach=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.7), step_sizes=(1e-3, 0.08))),  # both clamps bite
    ("Rprop", dict(lr=0.02, maximize=True)),
    ("Rprop", dict(lr=0.02, etas=(0.5, 1.1), step_sizes=(0.015, 50), foreach=True)),
]
NAMES = ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch(name, kwargs, dtype):
    cm, tm = _pair(dtype)
    copt, topt = _make(cr, name, cm, kwargs), _make(torch, name, tm, kwargs)
    np.testing.assert_allclose(cm.train(copt, STEPS), tm.train(topt, STEPS), rtol=TOL[dtype]["rtol"])
    assert_matches(cm, tm, copt, topt, TOL[dtype])


LBFGS_CASES = [
    dict(),
    dict(lr=0.5, history_size=3, max_iter=6),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=2, max_iter=8, max_eval=12),
    dict(lr=0.3, max_eval=4, tolerance_change=1e-5),
    dict(line_search_fn="strong_wolfe", tolerance_grad=1e-3),
    dict(tolerance_grad=1e3),                                   # optimal at once: no iteration
]
# LBFGS keeps differences of gradients (y) and two-loop coefficients (al) that cancel: in float32 they
# carry the rounding of the two autograd engines at 1e-5 relative within a few iterations (torch's
# float32 against its own float64 too), and the runs part within tens of iterations. So float64 runs
# whole steps (up to 40 iterations) at 1e-7; float32 one step of 5 or 6 iterations, the parameters at
# 1e-5 and the state at 1e-4
LBFGS_FLOAT32 = [dict(max_iter=5), dict(lr=0.5, history_size=3, max_iter=6),
                 dict(line_search_fn="strong_wolfe", max_iter=5), dict(lr=0.3, max_eval=4, tolerance_change=1e-5)]
LBFGS_RUNS = [(kw, "float64", 2) for kw in LBFGS_CASES] + [(kw, "float32", 1) for kw in LBFGS_FLOAT32]


@pytest.mark.parametrize("kwargs,dtype,steps", LBFGS_RUNS, ids=[f"{d}-{i}" for i, (_, d, _) in enumerate(LBFGS_RUNS)])
def test_lbfgs_matches_torch(kwargs, dtype, steps):
    cm, tm = _pair(dtype)
    copt, topt = optim.LBFGS(cm.params, **kwargs), torch.optim.LBFGS(tm.params, **kwargs)
    np.testing.assert_allclose(cm.train(copt, steps), tm.train(topt, steps), rtol=TOL[dtype]["rtol"])
    assert_matches(cm, tm, copt, topt, TOL[dtype], dict(rtol=1e-4, atol=1e-6) if dtype == "float32" else None)


def test_lbfgs_closure_protocol():
    """The closure is required; it runs with grad enabled (under no_grad too) as often as torch's; step
    returns the first loss the closure gave, as it gave it; a line search other than strong_wolfe is
    refused when it would run."""
    counts = {}
    for M in (cr, torch):
        m = Model(M)
        bad = M.optim.LBFGS(m.params, line_search_fn="backtracking")
        with pytest.raises(RuntimeError, match=r"^only 'strong_wolfe' is supported$"):
            bad.step(m.closure(bad))
        with pytest.raises(TypeError):
            bad.step()
        opt = M.optim.LBFGS(m.params, max_iter=5)
        inner, seen = m.closure(opt), []

        def closure():
            seen.append(inner())
            return seen[-1]
        with M.no_grad():
            loss = opt.step(closure)
        assert loss is seen[0]
        counts[M] = (len(seen), opt.state[m.params[0]]["func_evals"], opt.state[m.params[0]]["n_iter"])
    assert counts[cr] == counts[torch] == (5, 5, 5)


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_match_torch(name):
    groups = [{"params": [0], "lr": 0.03}, {"params": [1, 2], "weight_decay": 0.1} if name != "Rprop"
              else {"params": [1, 2], "etas": (0.4, 1.3)}]
    cm, tm = _pair()
    copt, topt = _make(cr, name, cm, dict(lr=0.01), groups), _make(torch, name, tm, dict(lr=0.01), groups)
    cm.train(copt, 10), tm.train(topt, 10)
    assert_matches(cm, tm, copt, topt, TOL["float64"])


def test_lbfgs_rejects_param_groups_as_torch():
    def message(M):
        m = Model(M)
        with pytest.raises(ValueError) as e:
            M.optim.LBFGS([{"params": m.params[:1]}, {"params": m.params[1:]}])
        return str(e.value)
    assert message(cr) == message(torch) == "LBFGS doesn't support per-parameter options (parameter groups)"


@pytest.mark.parametrize("name", NAMES + ["LBFGS"])
def test_add_param_group_matches_torch(name):
    kwargs = dict(lr=0.5) if name == "LBFGS" else dict(lr=0.02)
    cm, tm = _pair()
    copt, topt = _make(cr, name, cm, kwargs, [{"params": [0]}]), _make(torch, name, tm, kwargs, [{"params": [0]}])
    cm.train(copt, 3), tm.train(topt, 3)
    copt.add_param_group({"params": cm.params[1:], "lr": 0.05})
    topt.add_param_group({"params": tm.params[1:], "lr": 0.05})
    assert copt.param_groups[1].keys() == topt.param_groups[1].keys()
    if name == "LBFGS":   # torch adds the group, then refuses to step
        for M, opt, m in ((torch, topt, tm), (cr, copt, cm)):
            with pytest.raises(AssertionError, match="Expected exactly one param_group, but got 2"):
                opt.step(m.closure(opt))
        return
    cm.train(copt, 5), tm.train(topt, 5)
    assert_matches(cm, tm, copt, topt, TOL["float64"])


def _to_chainrule(value):
    if isinstance(value, torch.Tensor):
        return cr.tensor(value.numpy())
    if isinstance(value, list):
        return [_to_chainrule(v) for v in value]
    return value


def _tensors(value):
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    if isinstance(value, list):
        return [t for v in value for t in _tensors(v)]
    return [value] if isinstance(value, cr.Tensor) else []


RESUME = [("Adadelta", dict(weight_decay=0.1)), ("Adamax", dict(lr=0.05)),
          ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)), ("RAdam", dict(lr=0.05)),
          ("ASGD", dict(lr=0.05, t0=3)), ("Rprop", dict(lr=0.02)),
          ("LBFGS", dict(line_search_fn="strong_wolfe", history_size=4, max_iter=4)),
          ("LBFGS", dict(lr=0.5, max_iter=3))]


@pytest.mark.parametrize("name,kwargs", RESUME, ids=[f"{n}-{i}" for i, (n, _) in enumerate(RESUME)])
def test_state_dict_round_trip(name, kwargs):
    """Saved after some steps and loaded into a fresh optimizer (made with another lr), training goes
    on as an uninterrupted run does, and as torch's own reload does; torch's state dict loads too."""
    steps = 2 if name == "LBFGS" else 5
    uninterrupted = Model(cr)
    uninterrupted.train(_make(cr, name, uninterrupted, kwargs), 2 * steps)
    resumed = {}
    for M in (cr, torch):
        m = Model(M)
        saving = _make(M, name, m, kwargs)
        m.train(saving, steps)
        sd = saving.state_dict()
        if M is torch:   # converted now: torch's reload shares (and goes on to change) the saved tensors
            torch_sd = {"state": {i: {k: _to_chainrule(v) for k, v in st.items()} for i, st in sd["state"].items()},
                        "param_groups": [dict(g) for g in sd["param_groups"]]}
            at_save = [p.detach().numpy().copy() for p in m.params]
        opt = _make(M, name, m, dict(kwargs, lr=123.0))
        opt.load_state_dict(sd)
        assert opt.param_groups[0]["lr"] == saving.param_groups[0]["lr"]
        if M is cr:   # the loaded state is a copy, lists (LBFGS's history) element by element
            saved, loaded = _tensors(sd["state"]), _tensors(opt.state_dict()["state"])
            assert len(saved) == len(loaded) and not {id(t) for t in saved} & {id(t) for t in loaded}
        m.train(opt, steps)
        resumed[M] = (m, opt)
    from_torch = Model(cr)
    with cr.no_grad():
        for p, a in zip(from_torch.params, at_save):
            p.copy_(cr.tensor(a))
    from_torch_opt = _make(cr, name, from_torch, kwargs)
    from_torch_opt.load_state_dict(torch_sd)
    from_torch.train(from_torch_opt, steps)

    (cm, copt), (tm, topt) = resumed[cr], resumed[torch]
    assert_matches(cm, tm, copt, topt, TOL["float64"])
    assert_matches(from_torch, tm, from_torch_opt, topt, TOL["float64"])
    # torch casts NAdam's mu_product and ASGD's eta and mu to the parameters' dtype on loading, which
    # changes their rounding: up to that, the resumed run is the uninterrupted one
    for p, q in zip(cm.params, uninterrupted.params):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-9)


ALL = NAMES + ["LBFGS"]


@pytest.mark.parametrize("name", ALL)
def test_signature_as_torch(name):
    """Parameter names, order, kinds (positional or keyword-only) and defaults."""
    def described(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]
    assert described(getattr(optim, name)) == described(getattr(torch.optim, name))


# the options each optimizer checks, in torch's order, with a bad value for each
CHECKED = {
    "Adadelta": [("lr", -1.0), ("rho", 1.5), ("eps", -1e-3), ("weight_decay", -0.1)],
    "Adamax": [("lr", -1.0), ("eps", -1.0), ("betas", (1.0, 0.9)), ("betas", (0.9, -0.1)), ("weight_decay", -1)],
    "NAdam": [("lr", -1.0), ("eps", -1.0), ("betas", (-0.5, 0.9)), ("betas", (0.9, 1.0)), ("weight_decay", -1),
              ("momentum_decay", -0.1)],
    "RAdam": [("lr", -1.0), ("eps", -1.0), ("betas", (1.2, 0.9)), ("betas", (0.5, 2.0)), ("weight_decay", -1)],
    "ASGD": [("lr", -0.1), ("weight_decay", -0.1)],
    "Rprop": [("lr", -0.1), ("etas", (1.0, 1.2)), ("etas", (0.0, 1.2)), ("etas", (0.5, 1.0))],
    "LBFGS": [("lr", -1.0)],
}
# each bad value alone; each with every later option bad too (the first in torch's order is reported);
# NaN for each; rho's bounds
BAD = [(n, {o: v}) for n, opts in CHECKED.items() for o, v in opts]
BAD += [(n, dict(opts[k:])) for n, opts in CHECKED.items() for k in range(len(opts) - 1)]
BAD += [(n, {o: float("nan") if o not in ("betas", "etas") else (float("nan"), 2.0)})
        for n, opts in CHECKED.items() for o, _ in opts]
BAD += [("Adadelta", dict(rho=-0.1)), ("Rprop", dict(etas=(0.5, float("nan"))))]


def _error(M, name, kwargs):
    """(type, message) of what building the optimizer raises; None if it builds."""
    try:
        getattr(M.optim, name)(Model(M).params, **kwargs)
    except Exception as e:
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("name,kwargs", BAD, ids=[f"{n}-{kw}" for n, kw in BAD])
def test_bad_option_raises_as_torch(name, kwargs):
    expected = _error(torch, name, kwargs)
    assert expected is not None and expected[0] == "ValueError"
    assert _error(cr, name, kwargs) == expected


@pytest.mark.parametrize("name", ALL)
def test_edge_options_build_as_torch(name):
    """Boundary values torch accepts (rho 0 and 1, zero lr and weight decay), and a 1-element Tensor lr;
    a Tensor lr of several elements is refused with torch's message."""
    edges = {"Adadelta": [dict(rho=0.0), dict(rho=1.0, weight_decay=0.0)], "Adamax": [dict(betas=(0.0, 0.0))],
             "Rprop": [dict(etas=(1e-9, 1.0 + 1e-9))]}.get(name, [])
    for kwargs in [dict(lr=0.0)] + edges:
        assert _error(torch, name, kwargs) is None and _error(cr, name, kwargs) is None
    for M in (torch, cr):
        assert _error(M, name, dict(lr=M.tensor([0.1]))) is None
    assert _error(torch, name, dict(lr=torch.tensor([0.1, 0.2]))) == ("ValueError", "Tensor lr must be 1-element")
    assert _error(cr, name, dict(lr=cr.tensor([0.1, 0.2]))) == ("ValueError", "Tensor lr must be 1-element")


@pytest.mark.parametrize("name", NAMES)
def test_tensor_lr_matches_torch(name):
    cm, tm = _pair()
    copt, topt = _make(cr, name, cm, dict(lr=cr.tensor(0.03))), _make(torch, name, tm, dict(lr=torch.tensor(0.03)))
    cm.train(copt, 6), tm.train(topt, 6)
    # torch works some step coefficients out as float32 tensors from the (float32) lr tensor; chainrule
    # takes the lr's value and works in double: coefficients apart by float32 rounding
    for c, t in zip(cm.params, tm.params):
        assert_close(c, t, dict(rtol=1e-6, atol=1e-9))


@pytest.mark.parametrize("name", NAMES)
def test_implementation_flags(name):
    """foreach is torch's choice of implementation (the same update): accepted, stored; capturable and
    differentiable=True (CUDA-graph capture, autograd through the step) are refused clearly, in a
    group too. torch accepts and stores all three."""
    params = Model(cr).params
    opt = getattr(optim, name)(params[:1], foreach=True)
    assert opt.param_groups[0]["foreach"] is True
    assert {"foreach", "capturable", "differentiable"} <= set(getattr(torch.optim, name)(Model(torch).params).defaults)
    for flag in ("capturable", "differentiable"):
        with pytest.raises(NotImplementedError, match=f"{name}: {flag}=True is not supported"):
            getattr(optim, name)(params, **{flag: True})
        with pytest.raises(NotImplementedError, match=f"{flag}=True"):
            opt.add_param_group({"params": params[1:], flag: True})
        getattr(optim, name)(params, **{flag: False})
    with pytest.raises(TypeError):
        getattr(optim, name)(params, fused=True)


@pytest.mark.parametrize("name", ALL)
def test_step_updates_in_place_without_graph(name):
    m = Model(cr)
    arrays = [p._data for p in m.params]
    before = [a.copy() for a in arrays]
    opt = getattr(optim, name)(m.params, lr=0.1)
    m.train(opt, 2)
    for p, a, b in zip(m.params, arrays, before):
        assert p._data is a and p.is_leaf and p.grad_fn is None and p.requires_grad
        assert not np.array_equal(a, b)


@pytest.mark.parametrize("name,kwargs", [("NAdam", dict(lr=0.05)), ("ASGD", dict(lr=0.05, t0=2)),
                                         ("Rprop", dict())])
def test_scalar_state_follows_default_dtype_as_torch(name, kwargs):
    """The step count, mu_product, eta and mu are float64 when the default dtype is (float32 otherwise)."""
    saved = cr.get_default_dtype(), torch.get_default_dtype()
    cr.set_default_dtype(cr.float64), torch.set_default_dtype(torch.float64)
    try:
        cm, tm = _pair("float32")
        copt, topt = _make(cr, name, cm, kwargs), _make(torch, name, tm, kwargs)
        cm.train(copt, 5), tm.train(topt, 5)
    finally:
        cr.set_default_dtype(saved[0]), torch.set_default_dtype(saved[1])
    assert_matches(cm, tm, copt, topt, TOL["float32"])
