"""chainrule.optim.lr_scheduler against torch.optim.lr_scheduler: every scheduler with several
argument sets drives chainrule's and torch's SGD/Adam (three parameter groups, different lrs) for
300 steps; after each step every group's lr (and momentum/betas and the other keys the
schedulers write) must be the same floats, the state dicts equal torch's, and a scheduler rebuilt
mid-way from the state dicts continues identically. Bad arguments raise torch's exceptions and
messages; the step-order, get_lr and epoch warnings are torch's."""
import copy
import types
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

CR = types.SimpleNamespace(mod=cr, optim=optim, s=lr_scheduler)
TORCH = types.SimpleNamespace(mod=torch, optim=torch.optim, s=torch.optim.lr_scheduler)
STEPS = 300


def make_opt(lib, kind="SGD", lrs=(0.1, 0.3, 0.05), **kw):
    """kind's optimizer over three parameter groups (the first at the default lr), grads set."""
    groups = [{"params": [lib.mod.zeros(2, requires_grad=True)]}]
    groups += [{"params": [lib.mod.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs[1:]]
    for g in groups:
        for p in g["params"]:
            p.grad = lib.mod.ones(*p.shape)
    return getattr(lib.optim, kind)(groups, lr=lrs[0], **kw)


class Decay:
    """A callable object: its __dict__ goes into the state dict (a lambda's does not)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, x):
        return self.rate ** x


def warmup(epoch):
    return min(1.0, (epoch + 1) / 25)


_rng = np.random.default_rng(0)
# a loss that falls, then wanders on plateaus: ReduceLROnPlateau's input
METRICS = [float(v) for v in 1.0 / (1 + np.arange(STEPS) // 40) + 0.02 * _rng.standard_normal(STEPS)]
FRACTIONAL = [e + b / 7 for e in range(STEPS) for b in range(7)][:STEPS]

# (id, factory(scheduler module, optimizer), optimizer kind, step arguments per step or None)
CASES = [
    ("lambda", lambda s, o: s.LambdaLR(o, lambda e: 0.97 ** e), "SGD", None),
    ("lambda-list", lambda s, o: s.LambdaLR(o, [Decay(0.98), warmup, lambda e: 1 / (1 + e)]), "SGD", None),
    ("multiplicative", lambda s, o: s.MultiplicativeLR(o, lambda e: 0.99 if e % 3 else 0.9), "SGD", None),
    ("multiplicative-obj", lambda s, o: s.MultiplicativeLR(o, (Decay(0.999), Decay(1.0), Decay(0.99))), "Adam",
     None),
    ("step", lambda s, o: s.StepLR(o, 30, 0.5), "SGD", None),
    ("step-default", lambda s, o: s.StepLR(o, 7), "Adam", None),
    ("multistep", lambda s, o: s.MultiStepLR(o, [10, 120, 50, 50], 0.5), "SGD", None),
    ("constant", lambda s, o: s.ConstantLR(o), "SGD", None),
    ("constant-40", lambda s, o: s.ConstantLR(o, 0.5, 40), "Adam", None),
    ("linear", lambda s, o: s.LinearLR(o), "SGD", None),
    ("linear-up", lambda s, o: s.LinearLR(o, 0.1, 0.9, 100), "SGD", None),
    ("linear-down", lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=250), "Adam",
     None),
    ("exponential", lambda s, o: s.ExponentialLR(o, 0.99), "SGD", None),
    ("polynomial", lambda s, o: s.PolynomialLR(o), "SGD", None),
    ("polynomial-2", lambda s, o: s.PolynomialLR(o, total_iters=200, power=2.0), "Adam", None),
    ("cosine", lambda s, o: s.CosineAnnealingLR(o, 50), "SGD", None),
    ("cosine-eta", lambda s, o: s.CosineAnnealingLR(o, 37, eta_min=0.001), "Adam", None),
    ("cosine-resumed", lambda s, o: (s.StepLR(o, 1000), s.CosineAnnealingLR(o, 40, last_epoch=25))[1], "SGD",
     None),
    ("warm-restarts", lambda s, o: s.CosineAnnealingWarmRestarts(o, 10), "SGD", None),
    ("warm-restarts-mult", lambda s, o: s.CosineAnnealingWarmRestarts(o, 7, T_mult=2, eta_min=1e-3), "Adam",
     None),
    ("warm-restarts-fractional", lambda s, o: s.CosineAnnealingWarmRestarts(o, 5), "SGD",
     [(e,) for e in FRACTIONAL]),
    ("warm-restarts-fractional-mult", lambda s, o: s.CosineAnnealingWarmRestarts(o, 3, T_mult=3, eta_min=0.01),
     "SGD", [(e * 1.7,) for e in FRACTIONAL]),
    ("cyclic", lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=20), "SGD", None),
    ("cyclic-triangular2", lambda s, o: s.CyclicLR(o, [0.01, 0.02, 0.001], [0.1, 0.5, 0.01], step_size_up=20,
                                                   step_size_down=13, mode="triangular2",
                                                   base_momentum=[0.8, 0.7, 0.85]), "SGD", None),
    ("cyclic-exp-range-adam", lambda s, o: s.CyclicLR(o, 0.001, 0.01, 15, mode="exp_range", gamma=0.99), "Adam",
     None),
    ("cyclic-scale-fn", lambda s, o: s.CyclicLR(o, 0.01, 0.1, 10, scale_fn=lambda x: 0.5 * (1 + np.sin(x)),
                                                scale_mode="iterations", cycle_momentum=False), "SGD", None),
    ("cyclic-scale-obj", lambda s, o: s.CyclicLR(o, 0.01, 0.1, 12, 30, scale_fn=Decay(0.9), max_momentum=0.95),
     "Adam", None),
    ("onecycle", lambda s, o: s.OneCycleLR(o, 0.5, total_steps=STEPS), "SGD", None),
    ("onecycle-linear-3phase", lambda s, o: s.OneCycleLR(o, [0.5, 1.0, 0.2], epochs=10, steps_per_epoch=30,
                                                         anneal_strategy="linear", three_phase=True), "Adam",
     None),
    ("onecycle-cos-3phase", lambda s, o: s.OneCycleLR(o, 0.1, total_steps=STEPS + 20, three_phase=True,
                                                      base_momentum=[0.8, 0.85, 0.9]), "SGD", None),
    ("onecycle-div", lambda s, o: s.OneCycleLR(o, 0.3, total_steps=STEPS, pct_start=0.5, div_factor=10.0,
                                               final_div_factor=100.0, cycle_momentum=False), "SGD", None),
    ("plateau", lambda s, o: s.ReduceLROnPlateau(o, patience=5), "SGD", [(m,) for m in METRICS]),
    ("plateau-max-abs", lambda s, o: s.ReduceLROnPlateau(o, "max", factor=0.5, patience=3, threshold=0.01,
                                                         threshold_mode="abs", cooldown=4,
                                                         min_lr=[0.01, 0.0, 0.02]),
     "Adam", [(-m,) for m in METRICS]),
    ("plateau-min-abs-eps", lambda s, o: s.ReduceLROnPlateau(o, factor=0.7, patience=2, threshold=0.05,
                                                             threshold_mode="abs", cooldown=1, min_lr=1e-3,
                                                             eps=0.01),
     "SGD", [(m,) for m in METRICS]),
    ("plateau-max-rel", lambda s, o: s.ReduceLROnPlateau(o, mode="max", patience=0, threshold=0.1),
     "SGD", [(-m,) for m in METRICS]),
    ("sequential", lambda s, o: s.SequentialLR(o, [s.LinearLR(o, 0.1, total_iters=20), s.CosineAnnealingLR(o, 100)],
                                               milestones=[20]), "SGD", None),
    ("sequential-3", lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, 0.5, 10), s.ExponentialLR(o, 0.98),
                                                     s.StepLR(o, 30, 0.5)], [15, 100]), "Adam", None),
    ("chained", lambda s, o: s.ChainedScheduler([s.ConstantLR(o, 0.5, 20), s.ExponentialLR(o, 0.99)]), "SGD",
     None),
    ("chained-nested", lambda s, o: s.ChainedScheduler(
        [s.LinearLR(o, 0.2, total_iters=30), s.MultiStepLR(o, [50, 150]),
         s.SequentialLR(o, [s.ConstantLR(o, 1.0, 5), s.CosineAnnealingLR(o, 60)], [40])], optimizer=o),
     "SGD", None),
]


def same_groups(copt, topt):
    """Every key chainrule's groups hold (lr, initial_lr, momentum, betas, max_lr, ...) equals torch's."""
    for cg, tg in zip(copt.param_groups, topt.param_groups, strict=True):
        for k, v in cg.items():
            if k != "params":
                assert v == tg[k], k
                assert type(v) is type(tg[k]), k


def same_state(cs, ts, copt, topt):
    assert cs.get_last_lr() == ts.get_last_lr()
    assert getattr(cs, "last_epoch", None) == getattr(ts, "last_epoch", None)
    same_groups(copt, topt)


@pytest.mark.parametrize("factory,kind,args", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lr_sequence_and_state_dict_match_torch(factory, kind, args):
    args = args or [()] * STEPS
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither side may warn when used as documented
        copt, topt = make_opt(CR, kind), make_opt(TORCH, kind)
        cs, ts = factory(lr_scheduler, copt), factory(TORCH.s, topt)
        same_state(cs, ts, copt, topt)
        for i, a in enumerate(args):
            copt.step(), topt.step()
            cs.step(*a), ts.step(*a)
            same_state(cs, ts, copt, topt)
            if i == STEPS // 2:  # resume from the state dicts: a new optimizer and scheduler go on identically
                sd = cs.state_dict()
                assert "optimizer" not in sd and sd == ts.state_dict()
                opt_sd = copy.deepcopy(copt.state_dict())
                copt = make_opt(CR, kind)
                cs = factory(lr_scheduler, copt)  # built before the optimizer's state loads, as torch advises
                copt.load_state_dict(opt_sd)
                cs.load_state_dict(copy.deepcopy(sd))
                assert cs.state_dict() == sd
                same_state(cs, ts, copt, topt)


def test_lambda_state_dict_keeps_callable_objects_only():
    o = make_opt(CR)
    s = lr_scheduler.LambdaLR(o, [Decay(0.5), warmup, lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None, None]
    sd["lr_lambdas"][0]["rate"] = 0.25
    s.load_state_dict(sd)
    assert s.lr_lambdas[0].rate == 0.25 and "lr_lambdas" in sd  # the caller's dict is left whole


@pytest.mark.parametrize("factory", [
    lambda s, o: s.StepLR(o, 3, 0.5),
    lambda s, o: s.MultiStepLR(o, [2, 5, 5]),
    lambda s, o: s.ConstantLR(o, 0.25, 4),
    lambda s, o: s.LinearLR(o, 0.2, 0.8, 6),
    lambda s, o: s.ExponentialLR(o, 0.9),
    lambda s, o: s.PolynomialLR(o, 8, 1.5),
    lambda s, o: s.CosineAnnealingLR(o, 9, 0.01),
    lambda s, o: s.LambdaLR(o, lambda e: 0.9 ** e),  # no closed form: get_lr
], ids=["step", "multistep", "constant", "linear", "exponential", "polynomial", "cosine", "lambda"])
def test_step_with_epoch_uses_closed_form_and_warns(factory):
    copt, topt = make_opt(CR), make_opt(TORCH)
    cs, ts = factory(lr_scheduler, copt), factory(TORCH.s, topt)
    copt.step(), topt.step()
    for epoch in [1, 2, 5, 3, 10, 0, 7, 4, 6]:
        with warnings.catch_warnings(record=True) as cw:
            warnings.simplefilter("always")
            cs.step(epoch)
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            ts.step(epoch)
        assert [str(w.message) for w in cw] == [str(w.message) for w in tw] == [lr_scheduler.EPOCH_DEPRECATION_WARNING]
        same_state(cs, ts, copt, topt)


def _warnings(lib, action):
    opt = make_opt(lib)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action(lib, opt)
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("action,expected", [
    # two scheduler steps (the initial one and this) before any optimizer step
    (lambda lib, o: lib.s.StepLR(o, 2).step(), "Detected call of `lr_scheduler.step()` before `optimizer.step()`"),
    (lambda lib, o: (s := lib.s.ExponentialLR(o, 0.5), o.step(), s.step()), None),
    # optimizer steps taken before the first scheduler wrapped optimizer.step do not count (as torch)
    (lambda lib, o: (o.step(), lib.s.ExponentialLR(o, 0.5).step()), "Detected call of `lr_scheduler.step()`"),
    (lambda lib, o: (lib.s.ExponentialLR(o, 0.5), lib.s.StepLR(o, 2), o.step(),
                     lib.s.LinearLR(o).step()), None),  # the optimizer's step is wrapped once
    (lambda lib, o: (s := lib.s.StepLR(o, 2), setattr(o, "step", lambda: None), o.step(), s.step()),
     "Seems like `optimizer.step()` has been overridden after learning rate scheduler initialization"),
    (lambda lib, o: lib.s.StepLR(o, 2).get_lr(), "To get the last learning rate computed by the scheduler"),
    (lambda lib, o: lib.s.CosineAnnealingWarmRestarts(o, 3).step(), None),  # never warns
    (lambda lib, o: lib.s.ReduceLROnPlateau(o).step(1.0, epoch=3), "The epoch parameter in `scheduler.step()`"),
], ids=["before-optimizer", "after-optimizer", "optimizer-before-scheduler", "several-schedulers", "overridden",
        "get-lr", "warm-restarts", "plateau-epoch"])
def test_warnings_match_torch(action, expected):
    got, want = _warnings(CR, action), _warnings(TORCH, action)
    assert got == want
    assert [m for _, m in got if expected is None or m.startswith(expected)] == [m for _, m in got]
    assert bool(got) == (expected is not None)


def _error(lib, case):
    o, o2 = make_opt(lib), make_opt(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            case(lib, o, o2)
        except Exception as e:  # noqa: BLE001 - the exception itself is what is compared
            return type(e), str(e).replace(repr(o2), "<optimizer>")
    return None


def _plateau_new_group(lib, o, o2):
    s = lib.s.ReduceLROnPlateau(o, min_lr=[0, 0, 0], patience=0)
    o.add_param_group({"params": [lib.mod.zeros(3, requires_grad=True)]})
    s.step(1.0), s.step(2.0)


def _onecycle_past_end(lib, o, o2):
    s = lib.s.OneCycleLR(o, 1.0, total_steps=3)
    for _ in range(4):
        s.step()


BAD = {
    "not-optimizer": lambda lib, o, o2: lib.s.StepLR(object(), 2),
    "resume-without-initial-lr": lambda lib, o, o2: lib.s.StepLR(o, 2, last_epoch=3),
    "lambda-count": lambda lib, o, o2: lib.s.LambdaLR(o, [warmup, warmup]),
    "multiplicative-count": lambda lib, o, o2: lib.s.MultiplicativeLR(o, (warmup,)),
    "multiplicative-not-callable": lambda lib, o, o2: lib.s.MultiplicativeLR(o, 0.9),
    "constant-factor-high": lambda lib, o, o2: lib.s.ConstantLR(o, 1.5),
    "constant-factor-negative": lambda lib, o, o2: lib.s.ConstantLR(o, -0.1),
    "linear-start-zero": lambda lib, o, o2: lib.s.LinearLR(o, 0),
    "linear-start-high": lambda lib, o, o2: lib.s.LinearLR(o, 1.2),
    "linear-end-high": lambda lib, o, o2: lib.s.LinearLR(o, 0.5, 1.5),
    "warm-T0-zero": lambda lib, o, o2: lib.s.CosineAnnealingWarmRestarts(o, 0),
    "warm-T0-float": lambda lib, o, o2: lib.s.CosineAnnealingWarmRestarts(o, 2.5),
    "warm-Tmult-zero": lambda lib, o, o2: lib.s.CosineAnnealingWarmRestarts(o, 2, 0),
    "warm-Tmult-float": lambda lib, o, o2: lib.s.CosineAnnealingWarmRestarts(o, 2, 1.5),
    "warm-eta-min": lambda lib, o, o2: lib.s.CosineAnnealingWarmRestarts(o, 2, eta_min="0"),
    "warm-negative-epoch": lambda lib, o, o2: lib.s.CosineAnnealingWarmRestarts(o, 2).step(-1),
    "cyclic-not-optimizer": lambda lib, o, o2: lib.s.CyclicLR(None, 0.1, 1.0),
    "cyclic-base-lr-count": lambda lib, o, o2: lib.s.CyclicLR(o, [0.1, 0.2], 1.0),
    "cyclic-max-lr-count": lambda lib, o, o2: lib.s.CyclicLR(o, 0.1, (1.0,)),
    "cyclic-mode": lambda lib, o, o2: lib.s.CyclicLR(o, 0.1, 1.0, mode="square"),
    "cyclic-no-momentum": lambda lib, o, o2: lib.s.CyclicLR(
        lib.optim.Adagrad([lib.mod.zeros(1, requires_grad=True)]), 0.1, 1.0),
    "cyclic-base-momentum-count": lambda lib, o, o2: lib.s.CyclicLR(o, 0.1, 1.0, base_momentum=[0.8]),
    "cyclic-max-momentum-count": lambda lib, o, o2: lib.s.CyclicLR(o, 0.1, 1.0, max_momentum=[0.9] * 4),
    "onecycle-not-optimizer": lambda lib, o, o2: lib.s.OneCycleLR(3, 0.1, 10),
    "onecycle-total-zero": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, 0),
    "onecycle-total-float": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, 10.0),
    "onecycle-no-total": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, epochs=3),
    "onecycle-epochs": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3),
    "onecycle-steps-per-epoch": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-1),
    "onecycle-pct-high": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, 10, pct_start=1.5),
    "onecycle-pct-int": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, 10, pct_start=1),
    "onecycle-anneal": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"),
    "onecycle-max-lr-count": lambda lib, o, o2: lib.s.OneCycleLR(o, [0.1], 10),
    "onecycle-no-momentum": lambda lib, o, o2: lib.s.OneCycleLR(
        lib.optim.Adagrad([lib.mod.zeros(1, requires_grad=True)]), 0.1, 10),
    "onecycle-momentum-count": lambda lib, o, o2: lib.s.OneCycleLR(o, 0.1, 10, max_momentum=(0.9, 0.9)),
    "onecycle-past-end": _onecycle_past_end,
    "plateau-factor": lambda lib, o, o2: lib.s.ReduceLROnPlateau(o, factor=1.0),
    "plateau-not-optimizer": lambda lib, o, o2: lib.s.ReduceLROnPlateau("sgd"),
    "plateau-min-lr-count": lambda lib, o, o2: lib.s.ReduceLROnPlateau(o, min_lr=[0.0, 0.1]),
    "plateau-mode": lambda lib, o, o2: lib.s.ReduceLROnPlateau(o, "avg"),
    "plateau-threshold-mode": lambda lib, o, o2: lib.s.ReduceLROnPlateau(o, threshold_mode="pct"),
    "plateau-new-group": _plateau_new_group,
    "sequential-empty": lambda lib, o, o2: lib.s.SequentialLR(o, [], []),
    "sequential-no-optimizer": lambda lib, o, o2: lib.s.SequentialLR(o, [lib.s.StepLR(o, 2), object()], [3]),
    "sequential-plateau": lambda lib, o, o2: lib.s.SequentialLR(o, [lib.s.ReduceLROnPlateau(o)], []),
    "sequential-other-optimizer": lambda lib, o, o2: lib.s.SequentialLR(
        o, [lib.s.StepLR(o, 2), lib.s.StepLR(o2, 2)], [3]),
    "sequential-milestones": lambda lib, o, o2: lib.s.SequentialLR(o, [lib.s.StepLR(o, 2)], [3]),
    "chained-empty": lambda lib, o, o2: lib.s.ChainedScheduler([]),
    "chained-no-optimizer": lambda lib, o, o2: lib.s.ChainedScheduler([lib.s.StepLR(o, 2), 5]),
    "chained-plateau": lambda lib, o, o2: lib.s.ChainedScheduler([lib.s.StepLR(o, 2), lib.s.ReduceLROnPlateau(o)]),
    "chained-other-optimizer": lambda lib, o, o2: lib.s.ChainedScheduler(
        [lib.s.StepLR(o2, 2), lib.s.ExponentialLR(o, 0.5)], optimizer=o),
}


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
def test_bad_arguments_raise_as_torch(case):
    got, want = _error(CR, case), _error(TORCH, case)
    assert want is not None
    assert got == want
