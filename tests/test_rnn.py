"""Recurrent modules against torch: RNN/LSTM/GRU in every configuration (layers, bidirectional,
proj_size, batch_first, initial states, packed variable-length input, unbatched input), the cells,
outputs and the gradients of inputs, initial states and every parameter (torch's parameters loaded
through state_dict: identical names and shapes), graph size independent of sequence length, init
distribution, and bad input."""
import numpy as np
import pytest
import torch

import chainrule as cr
gradcheck = cr.autograd.gradcheck

rng = np.random.default_rng(3)


def _load(cm, tm):
    ts, cs = tm.state_dict(), cm.state_dict()
    assert list(cs) == list(ts) and all(tuple(cs[k].shape) == tuple(ts[k].shape) for k in ts)
    cm.load_state_dict({k: cr.tensor(v.numpy()) for k, v in ts.items()})


def _run(L, m, x0, hx, lengths, dtype):
    x = L.tensor(x0.astype(dtype), requires_grad=True)
    if hx is None:
        h = None
    elif isinstance(hx, tuple):
        h = tuple(L.tensor(a.astype(dtype), requires_grad=True) for a in hx)
    else:
        h = L.tensor(hx.astype(dtype), requires_grad=True)
    inp = x if lengths is None else L.nn.utils.rnn.pack_padded_sequence(x, L.tensor(lengths), enforce_sorted=False)
    out, hn = m(inp, h)
    if lengths is not None:
        out = out.data
    hs = hn if isinstance(hn, tuple) else (hn,)
    up = np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(dtype)
    loss = (out * L.tensor(up)).sum() + sum((t * t * (i + 2)).sum() for i, t in enumerate(hs))
    loss.backward()
    hg = [] if h is None else [t.grad.numpy() for t in (h if isinstance(h, tuple) else (h,))]
    return ([out.detach().numpy()] + [t.detach().numpy() for t in hs] + [x.grad.numpy()] + hg
            + [p.grad.numpy() for p in m.parameters()])


def _same(make, x0, hx=None, lengths=None, dtype=np.float64):
    cm, tm = make(cr), make(torch)
    if dtype == np.float64:
        cm, tm = cm.double(), tm.double()
    _load(cm, tm)
    assert repr(cm) == repr(tm)
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for a, b in zip(_run(cr, cm, x0, hx, lengths, dtype), _run(torch, tm, x0, hx, lengths, dtype)):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **tol)


X = rng.standard_normal((6, 3, 4))
CONFIGS = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}),
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 3}),
    ("LSTM", {"bias": False, "batch_first": True}), ("GRU", {}), ("GRU", {"num_layers": 3, "bidirectional": True}),
    ("GRU", {"bias": False}),
]


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_recurrent_matches_torch(name, kw, dtype):
    _same(lambda L: getattr(L.nn, name)(4, 5, **kw), X, dtype=dtype)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_recurrent_with_initial_state_and_packed_input(name, kw):
    d = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1) * d
    h_out = kw.get("proj_size", 5) or 5
    hx = rng.standard_normal((layers, 3, h_out))
    if name == "LSTM":
        hx = (hx, rng.standard_normal((layers, 3, 5)))
    x = X.transpose(1, 0, 2) if kw.get("batch_first") else X
    _same(lambda L: getattr(L.nn, name)(4, 5, **kw), x, hx=hx)
    if not kw.get("batch_first"):
        _same(lambda L: getattr(L.nn, name)(4, 5, **kw), X, lengths=[3, 6, 1])
        _same(lambda L: getattr(L.nn, name)(4, 5, **kw), X, hx=hx, lengths=[6, 2, 4])


def test_unbatched_input_and_cells():
    _same(lambda L: L.nn.LSTM(4, 5, 2), X[:, 0], hx=(rng.standard_normal((2, 5)), rng.standard_normal((2, 5))))
    _same(lambda L: L.nn.GRU(4, 5, bidirectional=True), X[:, 0])
    for name in ("RNNCell", "LSTMCell", "GRUCell"):
        for kw in ({}, {"bias": False}):
            cm, tm = getattr(cr.nn, name)(4, 5, **kw).double(), getattr(torch.nn, name)(4, 5, **kw).double()
            _load(cm, tm)
            assert repr(cm) == repr(tm)
            res = []
            for L, m in ((cr, cm), (torch, tm)):
                x = L.tensor(X[0], requires_grad=True)
                h = L.tensor(rng.standard_normal((3, 5)) if not res else res[0][-1], requires_grad=True)
                out = m(x, (h, h * 2) if name == "LSTMCell" else h)
                total = sum(((o * o).sum() for o in out), L.tensor(0.0, dtype=L.float64)) \
                    if isinstance(out, tuple) else (out * out).sum()
                total.backward()
                res.append([o.detach().numpy() for o in (out if isinstance(out, tuple) else (out,))]
                           + [x.grad.numpy(), h.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]
                           + [h.detach().numpy()])
            for a, b in zip(*res):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert repr(cr.nn.RNNCell(2, 3, nonlinearity="relu")) == repr(torch.nn.RNNCell(2, 3, nonlinearity="relu"))
    out = cr.nn.GRUCell(4, 5)(cr.tensor(X[0, 0].astype(np.float32)))
    assert tuple(out.shape) == (5,)


def test_graph_size_does_not_grow_with_sequence_length():
    m = cr.nn.LSTM(4, 5, num_layers=2, bidirectional=True)

    def nodes(t_len):
        out, (h, c) = m(cr.tensor(rng.standard_normal((t_len, 2, 4)).astype(np.float32)))
        seen, stack = set(), [(out.sum() + h.sum() + c.sum()).grad_fn]
        while stack:
            n = stack.pop()
            if n is None or id(n) in seen or not hasattr(n, "next_functions"):   # a leaf
                continue
            seen.add(id(n))
            stack.extend(f for f, _ in n.next_functions)
        return len(seen)
    assert nodes(3) == nodes(50) == nodes(200)


def test_gradcheck_float64():
    for name, kw in [("LSTM", {"proj_size": 2}), ("GRU", {}), ("RNN", {"nonlinearity": "tanh"})]:
        m = getattr(cr.nn, name)(3, 4, **kw).double()
        x = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
        assert gradcheck(lambda t, *ps: m(t)[0], (x,) + tuple(m.parameters()))
    m = cr.nn.GRU(3, 4, bidirectional=True).double()
    packed_x = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    assert gradcheck(lambda t: m(cr.nn.utils.rnn.pack_padded_sequence(t, [4, 2]))[0].data, (packed_x,))


def test_init_distribution_matches_torch():
    for name in ("LSTM", "GRU", "RNN"):
        w = np.concatenate([p.detach().numpy().ravel() for p in getattr(cr.nn, name)(8, 16, 2).parameters()])
        assert np.abs(w).max() <= 0.25 and abs(w.std() - 0.25 / np.sqrt(3)) < 0.01


def test_bad_input_and_arguments():
    for L in (cr, torch):
        m = L.nn.LSTM(4, 5, 2)
        with pytest.raises(RuntimeError, match="input_size"):
            m(L.ones(6, 3, 3))
        with pytest.raises(ValueError):
            m(L.ones(6, 3, 4, 1))
        with pytest.raises(RuntimeError, match="Expected hidden"):
            m(L.ones(6, 3, 4), (L.zeros(1, 3, 5), L.zeros(2, 3, 5)))
        with pytest.raises(RuntimeError):
            L.nn.GRU(4, 5)(L.ones(6, 3, 4), L.zeros(1, 2, 5))
        with pytest.raises(ValueError):
            L.nn.GRU(4, 5, proj_size=2)
        with pytest.raises(ValueError):
            L.nn.LSTM(4, 5, proj_size=5)
        with pytest.raises(ValueError):
            L.nn.RNN(4, 5, nonlinearity="sigmoid")
        with pytest.raises(ValueError):
            L.nn.LSTM(4, 5, dropout=1.5)
        with pytest.raises(ValueError):
            L.nn.LSTM(4, 0)
        with pytest.raises(RuntimeError):
            L.nn.LSTMCell(4, 5)(L.ones(3, 2))
        with pytest.raises(ValueError):
            L.nn.GRUCell(4, 5)(L.ones(3, 2, 4))


def test_dropout_between_layers_only_in_training():
    m = cr.nn.LSTM(4, 5, num_layers=2, dropout=0.5)
    x = cr.tensor(rng.standard_normal((5, 2, 4)).astype(np.float32))
    cr.manual_seed(0)
    a = m(x)[0].detach().numpy()
    cr.manual_seed(1)
    b = m(x)[0].detach().numpy()
    assert not np.allclose(a, b)
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m(x)[0].detach().numpy())


@pytest.mark.parametrize("numba", ["1", "0"])
def test_lstm_float32_numba_and_numpy_cells_match_torch(monkeypatch, numba):
    """The LSTM cell as one numba call per step (CHAINRULE_NUMBA=1, float32, no projection, no
    lengths) and the NumPy cell: outputs and every gradient equal torch's."""
    monkeypatch.setenv("CHAINRULE_NUMBA", numba)
    torch.manual_seed(0)
    for kw in ({"num_layers": 2, "batch_first": True}, {"bidirectional": True}):
        tm, cm = torch.nn.LSTM(6, 16, **kw), cr.nn.LSTM(6, 16, **kw)
        _load(cm, tm)
        x0 = rng.standard_normal((5, 4, 6)) * 2
        hx = tuple(rng.standard_normal((kw.get("num_layers", 1) * (1 + kw.get("bidirectional", False)), 5 if
                                        kw.get("batch_first") else 4, 16)) for _ in range(2))
        for a, b in zip(_run(cr, cm, x0, hx, None, np.float32), _run(torch, tm, x0, hx, None, np.float32)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


def test_seq_kernel_math_at_extreme_values():
    """The kernels' exp/tanh/sigmoid (Cephes' polynomials on float32) against NumPy in float64,
    including 0, -0, tiny, huge, inf and nan, and the LSTM step kernel against the NumPy cell math."""
    pytest.importorskip("numba")
    from chainrule.backend import seq_kernels as K
    x = np.concatenate([rng.standard_normal(4000) * 30, np.geomspace(1e-30, 100, 200), -np.geomspace(1e-30, 100, 200),
                        [0.0, -0.0, 0.625, -0.625, 87.5, 88.5, -87.5, -88.5, np.inf, -np.inf, np.nan]]).astype(np.float32)
    a = np.tile(x[:, None], (1, 4))   # as gates (i, f, g, o) of one unit per row
    gx, c = np.zeros_like(a), np.ones((len(x), 1), np.float32)
    c_new, tc, h_new = np.empty_like(c), np.empty_like(c), np.empty_like(c)
    K.lstm_step(a, gx, c, c_new, tc, h_new)
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        sig, tanh = 1 / (1 + np.exp(-x64)), np.tanh(x64)
    for got, want, atol in ((a[:, 0], sig, 1e-37), (a[:, 2], tanh, 1e-37), (c_new[:, 0], sig + sig * tanh, 1e-7),
                            (h_new[:, 0], sig * np.tanh(sig + sig * tanh), 1e-7)):   # (f c + i g cancels)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=atol)
    assert np.isnan(a[-1]).all() and a[-3, 0] == 1 and a[-2, 0] == 0 and a[-3, 2] == 1 and a[-2, 2] == -1
