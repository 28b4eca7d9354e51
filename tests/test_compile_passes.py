"""cr.compile's optimisation passes (issue 15, part 2: jit/passes.py, jit/fused_kernels.py): each
pass on its own and each left out keeps a training step's results identical to eager; each does
what it says (steps folded, shared, fused, written in place); the NumPy path (CHAINRULE_NUMBA=0)
gives the same numbers; a compiled step allocates no more than eager at its peak."""
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.jit.plan import PASSES
from test_compile import _batches, _train, _mlp, _lenet, _chain

nn, F = cr.nn, cr.nn.functional
NEW = ("fold", "cse", "biasrelu", "optim", "ewise")
EXACT = tuple(p for p in PASSES if p != "ewise")  # the others: eager's bits


def _same(m1, m2, exact=True):
    for (name, a), b in zip(m1.named_parameters(), m2.parameters()):
        if exact:
            assert np.array_equal(a._data, b._data), name
            assert np.array_equal(a.grad._data, b.grad._data), name + ".grad"
        else:
            np.testing.assert_allclose(b._data, a._data, rtol=1e-5, atol=1e-6, err_msg=name)


def _plan(f, *args):
    """f's plan, calling f(*args) until it has one (a signature may trace more than once)."""
    for _ in range(3):
        if f.plans():
            break
        f(*args)
    return f.plans()[0]


def _sets():
    return [(), EXACT] + [(p,) for p in NEW if p in EXACT] + [tuple(q for q in EXACT if q != p) for p in NEW
                                                              if p in EXACT]


@pytest.mark.parametrize("numba", ["1", "0"], ids=["numba", "numpy"])
@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_every_pass_set_trains_the_mlp_bitwise_like_eager(monkeypatch, numba, opt):
    """The kernels do eager's float operations in eager's order: 30 steps give the same bits
    (ewise's exp/log come from the C library: tested to rtol 1e-5 below)."""
    monkeypatch.setenv("CHAINRULE_NUMBA", numba)
    batches = _batches((16, 20), 4)
    m1, o1, _, l1 = _train(_mlp, batches, False, 30, opt)
    for passes in _sets():
        m2, o2, f, l2 = _train(_mlp, batches, True, 30, opt, passes=passes)
        _same(m1, m2)
        assert [float(x) for x in l1] == [float(x) for x in l2], passes
        assert f.stats["replays"] + f.stats["traces"] == 30 and f.stats["replays"] >= 28
        for p1, p2 in zip(m1.parameters(), m2.parameters()):
            for k, v in o1.state[p1].items():
                assert np.array_equal(o2.state[p2][k]._data, v._data), (passes, k)


@pytest.mark.parametrize("passes", [(), PASSES] + [tuple(q for q in PASSES if q != p) for p in NEW],
                         ids=lambda p: "none" if not p else "all" if p == PASSES else "all but " +
                         next(q for q in PASSES if q not in p))
def test_lenet_100_steps_match_eager_with_each_pass_off(passes):
    batches = _batches((8, 1, 16, 16), 5)
    m1, _, _, l1 = _train(_lenet, batches, False, 100, "Adam")
    m2, _, f, l2 = _train(_lenet, batches, True, 100, "Adam", passes=passes)
    _same(m1, m2, exact=False)
    np.testing.assert_allclose([float(x) for x in l2], [float(x) for x in l1], rtol=1e-5)
    assert f.stats["replays"] + f.stats["traces"] == 100 and f.stats["replays"] >= 98


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_mlp_100_steps_with_every_pass_match_eager(opt):
    batches = _batches((16, 20), 5)
    m1, _, _, l1 = _train(_mlp, batches, False, 100, opt)
    m2, _, f, l2 = _train(_mlp, batches, True, 100, opt, passes=PASSES)
    _same(m1, m2, exact=False)
    np.testing.assert_allclose([float(x) for x in l2], [float(x) for x in l1], rtol=1e-5)


def test_compiled_cross_entropy_with_a_masked_class_matches_eager():
    """A -inf logit (masked class): the NumPy rule keeps only the terms torch has, replayed too."""
    x = np.array([[0.5, -np.inf, 1.0], [2.0, 0.1, -0.3]], np.float32)
    t = cr.tensor(np.array([0, 1]))

    def step(a):
        loss = F.cross_entropy(a, t)
        loss.backward()
        return loss
    a, b = cr.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
    f = cr.compile(step)
    for _ in range(3):
        a.grad = b.grad = None
        np.testing.assert_allclose(f(a)._data, step(b)._data, rtol=1e-6)
        np.testing.assert_allclose(a.grad._data, b.grad._data, rtol=1e-6, atol=1e-7)
    assert f.stats["replays"] >= 1


def test_fold_runs_forward_steps_on_constants_while_planning():
    """Arrays an op reads that no step makes (NumPy arrays inside the step, targets closed over)
    are the plan's constants; a forward of constants only runs once, while planning."""
    from chainrule.jit.passes import fold
    from chainrule.jit.plan import Step
    from chainrule.ops.registry import OPS

    def fwd(op, args, out):
        return Step("fwd", args, (out,), op=OPS[op], args=args, refs=(True,) * len(args), params={},
                    dynamic=False, out=out, ctx=None, needs=None, ufunc=None)
    table = np.linspace(0.0, 1.0, 6, dtype=np.float32)
    init = [table, None, None, None]
    steps = [fwd("Exp", (0,), 1), fwd("Mul", (1, 2), 3)]  # slot 2: made at run time
    kept = fold(steps, [3], None, init)
    assert [st.p["op"].__name__ for st in kept] == ["Mul"]
    assert np.array_equal(init[1], np.exp(table))
    assert fold(steps[:1], [1], None, [table, None]) == steps[:1]  # a returned value stays a step


def test_fold_computes_the_loss_coefficients_of_constant_targets_once():
    model = _mlp()
    x, y = _batches((16, 20), 1)[0]
    f = cr.compile(lambda: F.cross_entropy(model(x), y))  # y closed over: its values are the plan's
    with cr.no_grad():
        assert not [st for st in _plan(f).steps if st.kind == "derive"]
        assert np.array_equal(f()._data, F.cross_entropy(model(x), y)._data)
        g = cr.compile(lambda: F.cross_entropy(model(x), y), passes=("dce",))
        assert [st for st in _plan(g).steps if st.kind == "derive"]


def test_cse_shares_a_repeated_computation_and_its_gradient_context():
    w = cr.randn(5, 4, requires_grad=True)

    def fn(x):
        a = (x @ w).tanh()
        b = (x @ w).tanh()  # the same ops on the same values
        loss = (a * b).sum() + (x @ w).sum()
        loss.backward()
        return loss
    x = cr.randn(3, 5)
    f = cr.compile(fn, passes=("dce", "cse"))
    _plan(f, x)
    w.grad = None
    out = f(x)
    got = w.grad._data.copy()
    w.grad = None
    want = fn(x)
    assert np.array_equal(out._data, want._data) and np.array_equal(got, w.grad._data)
    ops = [st.p["op"].__name__ for st in _plan(f).steps if st.kind == "fwd"]
    assert ops.count("Tanh") == 1 and ops.count("Mm") + ops.count("Matmul") == 1


def test_biasrelu_fuses_linear_relu_and_relu_after_conv_in_place(monkeypatch):
    for numba in ("1", "0"):
        monkeypatch.setenv("CHAINRULE_NUMBA", numba)
        _, _, f, _ = _train(_lenet, _batches((4, 1, 16, 16), 1), True, 2, "SGD")
        emits = [st.p["emit"].__name__ for st in _plan(f).steps if st.kind == "emit"]
        assert emits.count("_emit_bias_relu") == 1  # Linear(32, 16) + ReLU
        assert emits.count("_emit_relu_inplace") == 2  # after each convolution
        assert emits.count("_emit_relu_mask") == (3 if numba == "1" else 0)
        src = _plan(f).source
        assert "maximum(" in src if numba == "0" else "maximum(" not in src.split("else:")[0]


def test_optim_pass_updates_all_parameters_in_one_kernel_and_falls_back(monkeypatch):
    """SGD with momentum and Adam: one kernel call per group; options the kernel does not have
    (nesterov, weight decay, amsgrad) run the eager update inside the plan, same numbers."""
    monkeypatch.setenv("CHAINRULE_NUMBA", "1")
    batches = _batches((16, 20), 3)
    for make in (lambda ps: cr.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
                 lambda ps: cr.optim.Adam(ps, lr=1e-3, weight_decay=0.1, amsgrad=True),
                 lambda ps: cr.optim.SGD(ps, lr=0.05, momentum=0.9)):
        models = []
        for compiled in (False, True):
            cr.manual_seed(0)
            model = _mlp()
            opt = make(model.parameters())

            def step(x, y):
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                return loss
            f = cr.compile(step, passes=EXACT) if compiled else step
            for i in range(10):
                f(*batches[i % 3])
            models.append(model)
        _same(*models)
    from chainrule.jit.passes import fused_step
    assert any(st.kind == "call" and st.p["fn"] is fused_step for st in _plan(f).steps)


def test_ewise_makes_the_chain_one_kernel_per_direction(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUMBA", "1")
    xs = [cr.tensor(np.linspace(0.1, 0.9, 8, dtype=np.float32) + i, requires_grad=True) for i in range(3)]
    ref = [cr.tensor(x._data.copy(), requires_grad=True) for x in xs]
    f = cr.compile(_chain)
    for _ in range(2):
        for x, r in zip(xs, ref):
            np.testing.assert_allclose(f(x)._data, _chain(r)._data, rtol=2e-6, atol=1e-7)
            np.testing.assert_allclose(x.grad._data, r.grad._data, rtol=2e-6, atol=1e-7)
    kinds = [st.kind for st in _plan(f).steps]
    assert kinds.count("emit") == 2 and "chain" not in kinds  # forward run, backward run
    monkeypatch.setenv("CHAINRULE_NUMBA", "0")  # without numba: the NumPy out= chains, bitwise
    g = cr.compile(_chain)
    x, r = (cr.tensor(np.linspace(0.1, 0.9, 8, dtype=np.float32), requires_grad=True) for _ in range(2))
    for _ in range(4):
        assert np.array_equal(g(x)._data, _chain(r)._data) and np.array_equal(x.grad._data, r.grad._data)
    assert g.stats["replays"] >= 2 and "emit" not in [st.kind for st in _plan(g, x).steps]


def test_ewise_leaves_large_arrays_to_numpy():
    from chainrule.jit.passes import EWISE_MAX
    x = cr.randn(EWISE_MAX + 1, requires_grad=True)
    f = cr.compile(_chain)
    assert "emit" not in [st.kind for st in _plan(f, x).steps]


@pytest.mark.parametrize("build, shape", [(_mlp, (64, 20)), (_lenet, (8, 1, 16, 16))], ids=["mlp", "lenet"])
def test_peak_memory_with_every_pass_is_at_most_eager(build, shape):
    batches = _batches(shape, 1)
    _, _, eager, _ = _train(build, batches, False, 2)
    _, _, compiled, _ = _train(build, batches, True, 3)
    peaks = {}
    for label, step in (("eager", eager), ("compiled", compiled)):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step(*batches[0])
        peaks[label] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    assert peaks["compiled"] <= peaks["eager"], peaks


def test_passes_are_named_in_order_and_switchable_from_the_environment(monkeypatch):
    assert PASSES == ("dce", "fold", "cse", "biasrelu", "optim", "ewise", "fuse", "release")
    with pytest.raises(ValueError, match="unknown pass"):
        cr.compile(lambda x: x, passes=("dce", "xent"))
    monkeypatch.setenv("CHAINRULE_COMPILE_PASSES", "dce,cse")
    assert cr.compile(lambda x: x).passes == ("dce", "cse")
