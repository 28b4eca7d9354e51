"""cr.compile (issue 15, parts 1-2): a whole training step traced once per signature and replayed
on raw arrays must leave the parameters, gradients and optimizer state exactly where eager does."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.jit.compile import PASSES, GraphBreakError

nn, F = cr.nn, cr.nn.functional


def _mlp(dropout=0.0):
    layers = [nn.Linear(20, 32), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(32, 5))


def _lenet():
    return nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(8 * 2 * 2, 16), nn.ReLU(), nn.Linear(16, 5))


class _Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        return self.head(self.block(x).mean(1))


class _Res(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.conv2, self.bn2 = nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.stem = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return self.fc(F.relu(out + self.stem(x)).mean((2, 3)))


def _batches(shape, n, seed=0):
    rng = np.random.default_rng(seed)
    return [(cr.tensor(rng.standard_normal(shape).astype(np.float32)), cr.tensor(rng.integers(0, 5, shape[0])))
            for _ in range(n)]


def _train(build, batches, compiled, steps, opt="SGD", seed=0, **kw):
    cr.manual_seed(seed)
    model = build()
    optim = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9) if opt == "SGD" else \
        cr.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        optim.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optim.step()
        return loss

    f = cr.compile(step, **kw) if compiled else step
    losses = [f(*batches[i % len(batches)]) for i in range(steps)]
    return model, optim, f, losses


def _same_weights(m1, m2, rtol=1e-5):
    for (name, a), b in zip(m1.named_parameters(), m2.parameters()):
        np.testing.assert_allclose(b._data, a._data, rtol=rtol, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(b.grad._data, a.grad._data, rtol=rtol, atol=1e-6, err_msg=name + ".grad")


@pytest.mark.parametrize("build, shape, opt", [(_mlp, (16, 20), "SGD"), (_lenet, (8, 1, 16, 16), "SGD"),
                                              (_Encoder, (4, 6, 16), "Adam")], ids=["mlp", "lenet", "transformer"])
def test_compiled_training_reaches_eager_weights(build, shape, opt):
    batches = _batches(shape, 5)
    m1, o1, _, l1 = _train(build, batches, False, 100, opt)
    m2, o2, f, l2 = _train(build, batches, True, 100, opt)
    _same_weights(m1, m2)
    np.testing.assert_allclose([float(x) for x in l2], [float(x) for x in l1], rtol=1e-5)
    # the first two calls trace (the second checks that nothing frozen changed), the rest replay
    assert f.stats["traces"] == 2 and f.stats["replays"] == 98 and f.stats["graph_breaks"] == 0
    for p1, p2 in zip(m1.parameters(), m2.parameters()):  # optimizer state written in place as eager
        for k, v in o1.state[p1].items():
            np.testing.assert_allclose(o2.state[p2][k]._data, v._data, rtol=1e-5, atol=1e-6)


def test_batchnorm_training_updates_running_stats_like_eager():
    batches = _batches((4, 3, 6, 6), 3)
    m1, _, _, _ = _train(_Res, batches, False, 30, "Adam")
    m2, _, f, _ = _train(_Res, batches, True, 30, "Adam")
    _same_weights(m1, m2)
    for (name, a), b in zip(m1.named_buffers(), m2.buffers()):
        np.testing.assert_allclose(b._data, a._data, rtol=1e-5, atol=1e-6, err_msg=name)
    assert f.stats["replays"] == 28 and int(m2.bn1.num_batches_tracked) == 30


def test_dropout_replays_fresh_masks_like_eager():
    batches = _batches((16, 20), 3)
    m1, _, _, l1 = _train(lambda: _mlp(0.3), batches, False, 100, seed=3)
    m2, _, f, l2 = _train(lambda: _mlp(0.3), batches, True, 100, seed=3)
    _same_weights(m1, m2)
    assert f.stats["replays"] == 98
    assert len({round(float(x), 6) for x in l2[:3]}) == 3  # masks differ from step to step


@pytest.mark.parametrize("passes", [(), ("dce",), ("fuse",), ("release",),
                                    tuple(p for p in PASSES if p != "ewise")])  # ewise: ulp-close
def test_each_pass_keeps_results_identical(passes):
    batches = _batches((16, 20), 4)
    m1, _, _, l1 = _train(_mlp, batches, False, 12)
    m2, _, f, l2 = _train(_mlp, batches, True, 12, passes=passes)
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert np.array_equal(a._data, b._data) and np.array_equal(a.grad._data, b.grad._data)
    assert [float(x) for x in l1] == [float(x) for x in l2]


def test_peak_memory_of_a_compiled_step_is_at_most_eager():
    import tracemalloc
    batches = _batches((64, 20), 1)
    peaks = {}
    for passes in (None, ()):
        _, _, eager, _ = _train(_mlp, batches, False, 2)
        _, _, compiled, _ = _train(_mlp, batches, True, 2, passes=passes)
        for label, step in (("eager", eager), (passes, compiled)):
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            step(*batches[0])
            peaks[label] = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
    assert peaks[None] <= peaks["eager"] < peaks[()]  # the liveness release is what keeps it there


def test_passes_from_the_environment_and_bad_names(monkeypatch):
    monkeypatch.setenv("CHAINRULE_COMPILE_PASSES", "dce")
    assert cr.compile(lambda x: x * 2).passes == ("dce",)
    with pytest.raises(ValueError, match="unknown pass"):
        cr.compile(lambda x: x, passes=("nope",))


def _chain(x):
    y = x
    for _ in range(10):
        y = (y * 1.01).tanh() * y - y.sigmoid()
    y.sum().backward()
    return y


def test_elementwise_chain_fuses_and_matches_eager():
    xs = [cr.tensor(np.linspace(0.1, 0.9, 8, dtype=np.float32) + i, requires_grad=True) for i in range(3)]
    ref = [cr.tensor(x._data.copy(), requires_grad=True) for x in xs]
    f = cr.compile(_chain, passes=[p for p in PASSES if p != "ewise"])  # ewise: tests/test_compile_passes.py
    for _ in range(2):  # grads accumulate into .grad across calls, as eager
        for x, r in zip(xs, ref):
            assert np.array_equal(f(x)._data, _chain(r)._data)
            assert np.array_equal(x.grad._data, r.grad._data)
    in_place = [k for st in f.plans()[0].steps if st.kind == "chain" for k in st.p["ops"]]
    assert len(in_place) >= 20  # forward tanh/sub and most gradient sums write a dead buffer


def test_dead_code_is_dropped():
    w = cr.randn(4, 4, requires_grad=True)

    def fn(x):
        (x @ w).exp()  # computed, never read
        return (x * 2).sum()
    f = cr.compile(fn)
    x = cr.randn(3, 4)
    f(x), f(x)
    assert np.allclose(f(x)._data, fn(x)._data)
    ops = [st.p["op"].__name__ for st in f.plans()[0].steps if st.kind == "fwd"]
    assert "Exp" not in ops and "Matmul" not in ops and "Mm" not in ops


def test_new_signature_traces_again_and_cache_is_bounded():
    model = _mlp()
    f = cr.compile(lambda x: model(x).sum(), cache_size=2)
    with cr.no_grad():  # inference: the outputs need no graph
        for n in (3, 3, 3, 5, 5, 5, 7, 7, 3):  # two traces per signature, then replays
            x = cr.randn(n, 20)
            np.testing.assert_allclose(f(x)._data, model(x).sum()._data, rtol=1e-6)
        assert f.stats["traces"] == 7 and f.stats["replays"] == 2 and f.stats["evictions"] == 1  # 3's plan went
        model.eval()  # a module's training flag is part of the signature
        f(cr.randn(7, 20))
    assert f.stats["traces"] == 8


def test_a_forward_whose_output_needs_its_graph_runs_eagerly():
    """A compiled forward (no backward inside) returning tensors that require grad: a replay would
    hand back values without their graph, so that signature runs eagerly (counted), and the
    module wrapper (torch's OptimizedModule) still trains; under no_grad it replays."""
    model = _mlp()
    compiled = cr.compile(model)
    assert isinstance(compiled, cr.nn.Module) and compiled.training
    assert list(compiled.state_dict()) == ["_orig_mod." + k for k in model.state_dict()]
    x = cr.randn(4, 20)
    for _ in range(3):
        out = compiled(x)
        assert out.requires_grad and out.grad_fn is not None
        out.sum().backward()
    assert model[0].weight.grad is not None
    assert compiled.stats["graph_breaks"] == 1 and "requires grad" in compiled.stats["break_reasons"][0]
    compiled.eval()
    assert not model.training
    with cr.no_grad():
        for _ in range(3):
            np.testing.assert_allclose(compiled(x)._data, model(x)._data, rtol=1e-6)
    assert compiled.stats["replays"] == 1
    with pytest.raises(GraphBreakError, match="requires grad"):
        cr.compile(model, fullgraph=True)(x)


def test_graph_break_falls_back_to_eager_and_is_counted():
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    seen = []

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        seen.append(loss.item())  # a value read back into Python
        loss.backward()
        opt.step()
        return loss
    f = cr.compile(step)
    x, y = _batches((8, 20), 1)[0]
    for _ in range(3):
        f(x, y)
    assert f.stats["graph_breaks"] == 1 and f.stats["eager_calls"] == 3 and f.stats["replays"] == 0
    assert "item" in f.stats["break_reasons"][0]
    assert len(seen) == 3 and seen[0] > seen[1] > seen[2]  # every call ran, eagerly


@pytest.mark.parametrize("read", [lambda t: t.item(), lambda t: bool(t > 0), lambda t: t.tolist(),
                                  lambda t: t.numpy()], ids=["item", "bool", "tolist", "numpy"])
def test_fullgraph_raises_on_a_graph_break(read):
    def fn(x):
        y = (x * 2).sum()
        read(y)
        return y
    with pytest.raises(GraphBreakError, match="fullgraph"):
        cr.compile(fn, fullgraph=True)(cr.randn(3))


def test_manual_in_place_parameter_update_is_a_break():
    w = cr.randn(3, requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        loss.backward()
        with cr.no_grad():
            w.sub_(0.1 * w.grad)
        w.grad = None
        return loss
    f = cr.compile(step)
    x = cr.randn(3)
    ref = w._data.copy()
    for _ in range(3):
        f(x)
    np.testing.assert_allclose(w._data, ref - 0.3 * x._data, rtol=1e-6)
    assert f.stats["graph_breaks"] == 1


def test_decorator_and_torch_signature():
    @cr.compile(fullgraph=True)
    def f(a, b):
        return (a * b + 1).relu()
    a, b = cr.randn(4), cr.randn(4)
    for _ in range(3):
        assert np.array_equal(f(a, b)._data, (a * b + 1).relu()._data)
    assert f.stats["replays"] == 1
    assert cr.compile(f.fn, disable=True) is f.fn
    with pytest.raises(RuntimeError, match="callable"):
        cr.compile(3)


def _op_table_step(case):
    def step(*ts):
        outs = case.fn(cr, *ts)
        outs = [o for o in (outs if isinstance(outs, (tuple, list)) else (outs,)) if isinstance(o, cr.Tensor)]
        grads = [o.sum() for o in outs if o.requires_grad]
        if grads:
            total = grads[0]
            for g in grads[1:]:
                total = total + g
            total.backward()
        return tuple(outs)
    return step


@pytest.mark.parametrize("passes", [PASSES, ()], ids=["all passes", "no passes"])
def test_every_op_table_case_replays_like_eager(passes):
    """Each torch-compared case of tests/test_op_table.py, forward and backward: traced on its
    inputs and on reversed ones, replayed on other values (floats scaled by 0.97 and rolled by one
    place, so that sort orders, arg-maxima and masks change) against eager on those values."""
    from test_op_table import CASES, _float32
    replayed, breaks = set(), []
    for op, cases in sorted(CASES.items()):
        for case in cases:
            if not case.vs_torch or case.loss is not None:  # second derivatives: create_graph, a break
                continue
            arrays = [_float32(a) for a in case.arrays]

            def inputs(scale, reorder=None):
                return [cr.tensor(reorder(a * scale).copy() if reorder and a.dtype.kind == "f" else a * scale
                                  if a.dtype.kind == "f" else a, requires_grad=a.dtype.kind == "f") for a in arrays]

            def roll(a):
                return np.roll(a.ravel(), 1).reshape(a.shape)
            step = _op_table_step(case)
            f = cr.compile(step, passes=passes)
            with np.errstate(all="ignore"):
                f(*inputs(1.0)), f(*inputs(0.98, np.flip))  # traced twice: the second validates the first
                got_in, want_in = inputs(0.97, roll), inputs(0.97, roll)
                got = f(*got_in)
                if not f.stats["replays"]:
                    breaks.append(f"{op} [{case.label}]: {f.stats['break_reasons'][0]}")
                    continue
                want = step(*want_in)
            where = f"{op} [{case.label}]"
            for a, b in zip(want, got):
                np.testing.assert_allclose(b._data, a._data, rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=where)
            for a, b in zip(want_in, got_in):
                assert (a.grad is None) == (b.grad is None), where
                if a.grad is not None:
                    np.testing.assert_allclose(b.grad._data, a.grad._data, rtol=1e-5, atol=1e-6, equal_nan=True,
                                               err_msg=where + " grad")
            replayed.add(op)
    assert len(replayed) >= 0.9 * len(CASES), breaks  # the rest fall back to eager, counted


def test_comparison_on_a_traced_value_is_recorded_not_a_frozen_mask():
    """Hardtanh and Softplus choose branches with comparisons: the Compare/Logical ops are recorded, so
    each replay computes its own mask (a mask frozen at the first call would train a different model);
    a predicate still computed outside the op table is a graph break."""
    rng = np.random.default_rng(0)
    xs = [cr.tensor(rng.standard_normal((16, 4)).astype(np.float32)) for _ in range(6)]
    weights = []
    for compiled in (False, True):
        cr.manual_seed(0)
        m = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Hardtanh(-0.5, 0.5), cr.nn.Linear(8, 1),
                             cr.nn.Softplus(beta=2, threshold=0.3))
        opt = cr.optim.SGD(m.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = m(x).sum()
            loss.backward()
            opt.step()
            return loss
        f = cr.compile(step) if compiled else step
        for x in xs:
            f(x)
        weights.append(np.concatenate([p.detach().numpy().ravel() for p in m.parameters()]))
        if compiled:
            assert f.stats["graph_breaks"] == 0 and f.stats["replays"] == len(xs) - 2, f.stats
    np.testing.assert_array_equal(weights[0], weights[1])
    with pytest.raises(GraphBreakError, match="isinf"):
        cr.compile(lambda x: x.isinf().float().sum(), fullgraph=True)(cr.ones(3, requires_grad=True) * 2)


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_steps_match_eager_with_and_without_padding(padding_idx):
    """embedding with padding_idx builds its mask from the index values outside the op table: a
    graph break (eager), never a mask frozen from the first call; plain lookups replay."""
    weights, stats = [], None
    for compiled in (False, True):
        cr.manual_seed(0)
        emb, lin = cr.nn.Embedding(10, 4, padding_idx=padding_idx), cr.nn.Linear(4, 1)
        opt = cr.optim.SGD(list(emb.parameters()) + list(lin.parameters()), lr=0.5)

        def step(i):
            opt.zero_grad()
            loss = lin(emb(i)).sum()
            loss.backward()
            opt.step()
            return loss
        f = cr.compile(step) if compiled else step
        rng = np.random.default_rng(1)
        for _ in range(5):
            f(cr.tensor(rng.integers(0, 10, (8,))))
        weights.append(emb.weight.detach().numpy().copy())
        stats = f.stats if compiled else stats
    np.testing.assert_array_equal(weights[0], weights[1])
    assert (stats["graph_breaks"], stats["replays"]) == ((0, 3) if padding_idx is None else (1, 0))


_OUTSIDE_THE_TABLE = {  # results computed from values outside the recorded ops (orders, indices, counts)
    "sort": lambda x, y: x.sort(1)[0] * 2, "sort indices": lambda x, y: x.sort(1)[1].float() + x,
    "topk indices": lambda x, y: x.topk(2, 1)[1].float() + 1, "median": lambda x, y: x.median(1)[0] + 1,
    "mode": lambda x, y: y.mode()[0].float() + 1, "kthvalue": lambda x, y: x.kthvalue(2, 1)[0] + 1,
    "cummax": lambda x, y: x.cummax(1)[0] * 1, "argmax": lambda x, y: x.argmax(1).float() + 1,
    "argsort": lambda x, y: x.argsort(1).float() + 1, "max indices": lambda x, y: x.max(1)[1].float() + 1,
    "nonzero": lambda x, y: (x > 0).nonzero().float().sum() + x.sum(),
    "count_nonzero": lambda x, y: cr.count_nonzero(x > 0).float() + 1,
    "any/all": lambda x, y: (x > 0).any(1).float() + (x > 0).all(1).float(),
    "histc": lambda x, y: cr.histc(x, 4) * 1, "bucketize": lambda x, y: cr.bucketize(x, cr.tensor([-1., 0., 1.])) * 1,
    "quantile": lambda x, y: cr.quantile(x, 0.5, dim=1) + 1, "frexp": lambda x, y: cr.frexp(x)[0] * 1,
    "index_select": lambda x, y: x.index_select(1, y) * 1, "index_fill": lambda x, y: x.index_fill(1, y[:1], 0.0) * 1,
    "index_copy": lambda x, y: x.index_copy(0, y[:1], x[:1] * 2) * 1,
    "take_along_dim": lambda x, y: cr.take_along_dim(x, y[:, None], 1) * 1,
    "repeat_interleave": lambda x, y: x.repeat_interleave(y, dim=0).sum(0) * 1,
}


@pytest.mark.parametrize("name", sorted(_OUTSIDE_THE_TABLE))
def test_values_computed_outside_the_op_table_are_never_replayed_frozen(name):
    """Each of these once replayed the value of its first call. Now: a graph break, or a plan only
    after a second trace froze the same values; every call equals eager."""
    f = _OUTSIDE_THE_TABLE[name]
    c = cr.compile(f)
    with cr.no_grad():
        for i in range(5):
            r = np.random.default_rng(i)
            x = cr.tensor(r.standard_normal((3, 4)).astype(np.float32))
            y = cr.tensor(r.permutation(3).astype(np.int64) if i % 2 else np.array([2, 0, 1]))
            got, want = c(x, y), f(x, y)
            assert got.shape == want.shape and np.allclose(got.numpy(), want.numpy()), (name, i, c.stats)
