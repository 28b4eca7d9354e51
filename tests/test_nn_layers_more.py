"""More of torch.nn against torch: group/instance/local-response norm, feature and alpha dropout,
Bilinear, Unflatten, BatchNorm3d, SyncBatchNorm on one process, DataParallel as a wrapper."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
import torch.nn.functional as TF
from helpers import compare

rng = np.random.default_rng(11)


def _copy_params(cm, tm):
    """Give the torch module chainrule's (random) parameters and buffers."""
    with torch.no_grad():
        for (n, p), (tn, tp) in zip(list(cm.named_parameters()) + list(cm.named_buffers()),
                                    list(tm.named_parameters()) + list(tm.named_buffers())):
            assert n == tn and tuple(p.shape) == tuple(tp.shape)
            tp.copy_(torch.tensor(p.detach().numpy()))


def _module_matches(make, x, train=True, dtype=np.float64):
    cm, tm = make(cr), make(torch)
    if dtype == np.float64:
        cm, tm = cm.double(), tm.double()
    for p in cm.parameters():   # non-trivial affine parameters
        p.data.copy_(cr.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype)))
    _copy_params(cm, tm)
    cm.train(train), tm.train(train)
    compare(lambda t: cm(t), lambda t: tm(t), [x.astype(dtype)])
    for (n, b), (_, tb) in zip(cm.named_buffers(), tm.named_buffers()):
        np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-6, err_msg=n)
    for (n, p), (_, tp) in zip(cm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-8, err_msg=n)
    assert repr(cm) == repr(tm)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_norm(dtype):
    x = rng.standard_normal((3, 6, 4, 5)) * 3 + 1
    _module_matches(lambda L: L.nn.GroupNorm(3, 6), x, dtype=dtype)
    _module_matches(lambda L: L.nn.GroupNorm(2, 6, affine=False), x[..., 0], dtype=dtype)
    assert cr.autograd.gradcheck(lambda t, w: F.group_norm(t, 2, w), (cr.tensor(rng.standard_normal((2, 4, 3)),
                                 requires_grad=True), cr.tensor(rng.standard_normal(4), requires_grad=True)))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_instance_norm(rank):
    shape = (2, 3) + (4, 3, 2)[:rank]
    x = rng.standard_normal(shape) * 2 + 0.5
    name = f"InstanceNorm{rank}d"
    _module_matches(lambda L: getattr(L.nn, name)(3, affine=True), x)
    _module_matches(lambda L: getattr(L.nn, name)(3, affine=True, track_running_stats=True), x)
    _module_matches(lambda L: getattr(L.nn, name)(3, affine=True, track_running_stats=True), x, train=False)
    _module_matches(lambda L: getattr(L.nn, name)(3), x[0])   # no batch dim


def test_local_response_norm():
    for shape in [(2, 7, 5), (2, 6, 3, 4)]:
        x = rng.standard_normal(shape)
        _module_matches(lambda L: L.nn.LocalResponseNorm(3, alpha=0.1, beta=0.6, k=1.5), x)
        _module_matches(lambda L: L.nn.LocalResponseNorm(4), x, dtype=np.float32)
    assert cr.autograd.gradcheck(lambda t: F.local_response_norm(t, 3, 0.2), (cr.tensor(rng.standard_normal((2, 4, 3)),
                                                                                      requires_grad=True),))


def test_norm_errors():
    for L, FF in ((cr, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="divisible"):
            FF.group_norm(L.ones(2, 6, 3), 4)
        with pytest.raises(ValueError):
            L.nn.GroupNorm(4, 6)
        with pytest.raises(ValueError):
            L.nn.InstanceNorm2d(3)(L.ones(2, 3))
        with pytest.raises(ValueError):
            L.nn.InstanceNorm1d(3)(L.ones(2, 3, 1))
        with pytest.raises(ValueError):
            L.nn.LocalResponseNorm(2)(L.ones(2, 3))


def test_batchnorm3d_and_sync_batchnorm():
    x = rng.standard_normal((2, 3, 2, 3, 2))
    _module_matches(lambda L: L.nn.BatchNorm3d(3), x)
    _module_matches(lambda L: L.nn.BatchNorm3d(3), x, train=False)
    _module_matches(lambda L: L.nn.SyncBatchNorm(3), x[:, :, 0])   # one process: plain batch norm
    for L in (cr, torch):
        with pytest.raises(ValueError):
            L.nn.BatchNorm3d(3)(L.ones(2, 3, 4))
        net = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.BatchNorm1d(3))
        bn = net[1]
        conv = L.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        assert type(conv[1]) is L.nn.SyncBatchNorm and conv[1].weight is bn.weight
        assert conv[1].running_mean is bn.running_mean


@pytest.mark.parametrize("name,shape", [("dropout1d", (40, 30, 5)), ("dropout2d", (40, 30, 4, 3)),
                                        ("dropout3d", (20, 30, 2, 3, 2)), ("feature_alpha_dropout", (40, 30, 5)),
                                        ("alpha_dropout", (60, 50))])
def test_feature_and_alpha_dropout(name, shape):
    cr.manual_seed(0)
    x = cr.tensor(rng.standard_normal(shape) + 0.5, requires_grad=True)
    y = getattr(F, name)(x, 0.3, training=True)
    y.sum().backward()
    xv, yv, g = x.detach().numpy(), y.detach().numpy(), x.grad.numpy()
    if "alpha" not in name:
        dropped = yv == 0
        assert abs(dropped.mean() - 0.3) < 0.05
        np.testing.assert_allclose(yv[~dropped], xv[~dropped] / 0.7, rtol=1e-12)
        # whole channels: every feature entry of a (sample, channel) shares its fate
        per_channel = dropped.reshape(shape[0], shape[1], -1)
        assert (per_channel.all(-1) | ~per_channel.any(-1)).all()
    else:   # torch's formula: kept a*x + alpha*a*p, dropped -alpha*a + alpha*a*p
        alpha, p = 1.7580993408473766, 0.3
        a = 1 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
        kept = np.isclose(yv, a * xv + alpha * a * p)
        assert abs(kept.mean() - 0.7) < 0.05
        np.testing.assert_allclose(yv[~kept], -alpha * a + alpha * a * p, rtol=1e-12)
        np.testing.assert_allclose(g, np.where(kept, a, 0), rtol=1e-12)
    np.testing.assert_array_equal(getattr(F, name)(x, 0.3, training=False).detach().numpy(), xv)
    for L, FF in ((cr, F), (torch, TF)):
        with pytest.raises(ValueError):
            getattr(FF, name)(L.ones(*shape), 1.5, training=True)


def test_dropout2d_rank_error_and_modules():
    for L in (cr, torch):
        with pytest.raises(RuntimeError):
            L.nn.functional.dropout1d(L.ones(2, 3, 4, 5), 0.5)
        m = L.nn.Dropout2d(0.2)
        assert repr(m) == "Dropout2d(p=0.2, inplace=False)"
        assert not m.eval()(L.ones(2, 3, 4, 4)).eq(0).any()
    assert repr(cr.nn.AlphaDropout(0.1)) == repr(torch.nn.AlphaDropout(0.1))


def test_bilinear():
    x1, x2 = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    w, b = rng.standard_normal((2, 4, 3)), rng.standard_normal(2)
    compare(F.bilinear, TF.bilinear, [x1, x2, w, b])
    compare(F.bilinear, TF.bilinear, [x1.reshape(5, 1, 4), x2.reshape(5, 1, 3), w])
    assert cr.autograd.gradcheck(F.bilinear, tuple(cr.tensor(a, requires_grad=True) for a in (x1, x2, w, b)))
    cm, tm = cr.nn.Bilinear(4, 3, 2), torch.nn.Bilinear(4, 3, 2)
    assert repr(cm) == repr(tm) and [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    bound = 1 / 2
    assert (np.abs(cm.weight.detach().numpy()) <= bound).all() and cm.weight.detach().numpy().std() > 0.1
    for FF, L in ((F, cr), (TF, torch)):
        with pytest.raises(RuntimeError):
            FF.bilinear(L.ones(5, 3), L.ones(5, 3), L.ones(2, 4, 3))


def test_unflatten_and_data_parallel():
    x = rng.standard_normal((2, 12))
    compare(lambda t: cr.nn.Unflatten(1, (3, 4))(t), lambda t: torch.nn.Unflatten(1, (3, 4))(t), [x])
    assert repr(cr.nn.Unflatten(1, (3, 4))) == repr(torch.nn.Unflatten(1, (3, 4)))
    cm, tm = cr.nn.parallel.DataParallel(cr.nn.Linear(3, 2)), torch.nn.DataParallel(torch.nn.Linear(3, 2))
    assert list(cm.state_dict()) == list(tm.state_dict()) == ["module.weight", "module.bias"]
    assert tuple(cm(cr.ones(4, 3)).shape) == (4, 2)


def _bag_run(L, fn, W, up_seed=0):
    w = L.tensor(W, requires_grad=True)
    y = fn(L, w)
    y.backward(L.tensor(np.cos(np.arange(y.numel()) + up_seed).reshape(tuple(y.shape))))
    return y.detach().numpy(), w.grad.numpy(), w.detach().numpy()


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode):
    W = rng.standard_normal((10, 4))
    inp, off = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0]), np.array([0, 4, 4, 7])
    psw = np.linspace(0.5, 2, 10)
    cases = [
        lambda L, w: L.nn.functional.embedding_bag(L.tensor(inp), w, L.tensor(off), mode=mode, padding_idx=0),
        lambda L, w: L.nn.functional.embedding_bag(L.tensor(inp.reshape(2, 5)), w, mode=mode),
        lambda L, w: L.nn.functional.embedding_bag(L.tensor(inp), w, L.tensor(np.append(off, 10)), mode=mode,
                                                   include_last_offset=True),
    ]
    if mode == "sum":
        cases.append(lambda L, w: L.nn.functional.embedding_bag(L.tensor(inp), w, L.tensor(off), mode="sum",
                                                                per_sample_weights=L.tensor(psw)))
    for fn in cases:
        for a, b in zip(_bag_run(cr, fn, W), _bag_run(torch, fn, W)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert repr(cr.nn.EmbeddingBag(10, 3, mode=mode)) == repr(torch.nn.EmbeddingBag(10, 3, mode=mode))
    for L in (cr, torch):
        with pytest.raises(ValueError):
            L.nn.functional.embedding_bag(L.tensor(inp.reshape(2, 5)), L.ones(10, 2), L.tensor(off))
        if mode != "sum":
            with pytest.raises(NotImplementedError):
                L.nn.functional.embedding_bag(L.tensor(inp), L.ones(10, 2), L.tensor(off), mode=mode,
                                              per_sample_weights=L.ones(10))


def test_embedding_max_norm_and_scale_grad_by_freq():
    W = rng.standard_normal((10, 4)) * 3
    inp = np.array([[1, 2, 4], [4, 1, 1]])
    fn = lambda L, w: L.nn.functional.embedding(L.tensor(inp), w, max_norm=1.5, norm_type=3.0,  # noqa: E731
                                                scale_grad_by_freq=True)
    for a, b in zip(_bag_run(cr, fn, W), _bag_run(torch, fn, W)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for L in (cr, torch):
        e = L.nn.Embedding.from_pretrained(L.tensor(W), padding_idx=2)
        assert not e.weight.requires_grad and e.padding_idx == 2
        assert repr(L.nn.Embedding(5, 2, padding_idx=-1, max_norm=2.0)) == "Embedding(5, 2, padding_idx=4, max_norm=2.0)"
    with pytest.raises(NotImplementedError, match="sparse"):
        cr.nn.functional.embedding(cr.tensor(inp), cr.ones(10, 2), sparse=True)
