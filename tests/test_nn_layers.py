"""nn layers and activations against torch with copied weights (values, input and parameter
gradients) in float32/float64, train and eval; float64 gradcheck of each."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from helpers import assert_close

DTYPES = [np.float32, np.float64]
TDT = {np.float32: torch.float32, np.float64: torch.float64}


def pair(make, dtype):
    """The same layer in both frameworks, chainrule loaded with torch's (random) state."""
    th = make(torch.nn).to(TDT[dtype])
    with torch.no_grad():
        for p in th.parameters():  # non-trivial values for every parameter (incl. BatchNorm's)
            p.copy_(torch.randn_like(p) * 0.5 + (1.0 if p.ndim == 1 and "BatchNorm" in type(th).__name__ else 0))
    c = make(cr.nn).to(cr.float32 if dtype == np.float32 else cr.float64)
    c.load_state_dict({k: cr.tensor(v.numpy()) for k, v in th.state_dict().items()})
    return c, th


def run_both(c, th, x, seed=0):
    xc, xt = cr.tensor(x, requires_grad=x.dtype.kind == "f"), torch.tensor(x, requires_grad=x.dtype.kind == "f")
    out, ref = c(xc), th(xt)
    assert_close(out, ref)
    up = np.random.default_rng(seed).standard_normal(tuple(ref.shape)).astype(ref.detach().numpy().dtype)
    out.backward(cr.tensor(up))
    ref.backward(torch.tensor(up))
    if x.dtype.kind == "f":
        assert_close(xc.grad, xt.grad, what="input grad")
    for (name, p), (tname, tp) in zip(c.named_parameters(), th.named_parameters()):
        assert name == tname
        assert_close(p.grad, tp.grad, what=f"grad of {name}")
    for (name, b), (_, tb) in zip(c.named_buffers(), th.named_buffers()):
        assert_close(b, tb, what=f"buffer {name}")


LAYERS = {
    "linear": (lambda nn: nn.Linear(5, 3), (4, 5)),
    "linear_nobias_3d": (lambda nn: nn.Linear(5, 3, bias=False), (2, 4, 5)),
    "conv": (lambda nn: nn.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    "conv_stride_pad_dil": (lambda nn: nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
                            (2, 2, 9, 7)),
    "conv_groups_nobias": (lambda nn: nn.Conv2d(4, 6, 3, groups=2, bias=False, padding=1), (2, 4, 5, 5)),
    "conv_unbatched": (lambda nn: nn.Conv2d(2, 3, 2), (2, 5, 5)),
    # stride 1 with few padded columns runs "flat" (ops/nn.py _conv_layout), dilated too
    "conv_same_flat": (lambda nn: nn.Conv2d(3, 4, 3, padding=1), (2, 3, 9, 8)),
    "conv_dilated_flat": (lambda nn: nn.Conv2d(2, 3, 3, padding=2, dilation=2), (2, 2, 8, 8)),
    "maxpool": (lambda nn: nn.MaxPool2d(2), (2, 3, 6, 7)),
    "maxpool_overlap_pad": (lambda nn: nn.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 8)),
    "maxpool_dilation": (lambda nn: nn.MaxPool2d(2, stride=1, dilation=2), (1, 2, 6, 6)),
    "avgpool": (lambda nn: nn.AvgPool2d(2), (2, 3, 6, 7)),
    "avgpool_pad": (lambda nn: nn.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 8)),
    "flatten": (lambda nn: nn.Flatten(), (2, 3, 4)),
    "identity": (lambda nn: nn.Identity(), (2, 3)),
    "bn1d": (lambda nn: nn.BatchNorm1d(3), (6, 3)),
    "bn1d_3d": (lambda nn: nn.BatchNorm1d(3, momentum=0.3), (4, 3, 5)),
    "bn2d": (lambda nn: nn.BatchNorm2d(3), (4, 3, 3, 2)),
    "bn2d_noaffine": (lambda nn: nn.BatchNorm2d(3, affine=False, eps=1e-3), (4, 3, 2, 2)),
    "bn2d_nobias": (lambda nn: nn.BatchNorm2d(3, bias=False), (4, 3, 2, 2)),
    "bn2d_nostats": (lambda nn: nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 2, 2)),
    "bn_cumulative": (lambda nn: nn.BatchNorm1d(3, momentum=None), (5, 3)),
    "relu": (lambda nn: nn.ReLU(), (3, 4)),
    "leaky": (lambda nn: nn.LeakyReLU(0.2), (3, 4)),
    "prelu": (lambda nn: nn.PReLU(), (3, 4)),
    "prelu_channels": (lambda nn: nn.PReLU(3), (2, 3, 4)),
    "elu": (lambda nn: nn.ELU(0.7), (3, 4)),
    "sigmoid": (lambda nn: nn.Sigmoid(), (3, 4)),
    "tanh": (lambda nn: nn.Tanh(), (3, 4)),
    "softmax": (lambda nn: nn.Softmax(dim=1), (3, 4)),
    "logsoftmax": (lambda nn: nn.LogSoftmax(dim=0), (3, 4)),
    "gelu": (lambda nn: nn.GELU(), (3, 4)),
    "gelu_tanh": (lambda nn: nn.GELU(approximate="tanh"), (3, 4)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_torch(name, dtype):
    make, shape = LAYERS[name]
    c, th = pair(make, dtype)
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    for training in (True, False):
        c.train(training)
        th.train(training)
        c.zero_grad()
        th.zero_grad()
        run_both(c, th, x)
    if name.startswith("bn") and c.track_running_stats:
        assert int(c.num_batches_tracked.item()) == int(th.num_batches_tracked) == 1


def test_batchnorm_running_stats_over_steps():
    c, th = pair(lambda nn: nn.BatchNorm2d(2, momentum=0.2), np.float64)
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((5, 2, 3, 3)) * 3 + 1
        c(cr.tensor(x))
        th(torch.tensor(x))
    assert_close(c.running_mean, th.running_mean)
    assert_close(c.running_var, th.running_var)  # unbiased variance, as torch
    c.eval()
    th.eval()
    x = rng.standard_normal((2, 2, 3, 3))
    assert_close(c(cr.tensor(x)), th(torch.tensor(x)))


def test_maxpool_ties_route_to_first_like_torch():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = 1.0
    c, th = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(c, 2).sum().backward()
    torch.nn.functional.max_pool2d(th, 2).sum().backward()
    assert_close(c.grad, th.grad)


def test_embedding_and_padding_idx():
    th = torch.nn.Embedding(7, 3, padding_idx=2).double()
    c = cr.nn.Embedding(7, 3, padding_idx=2).double()
    assert float(np.abs(c.weight.detach().numpy()[2]).sum()) == 0.0
    c.load_state_dict({k: cr.tensor(v.numpy()) for k, v in th.state_dict().items()})
    idx = np.array([[0, 2, 6], [2, 1, 1]])
    out, ref = c(cr.tensor(idx)), th(torch.tensor(idx))
    assert_close(out, ref)
    up = np.random.default_rng(0).standard_normal(ref.shape)
    out.backward(cr.tensor(up))
    ref.backward(torch.tensor(up))
    assert_close(c.weight.grad, th.weight.grad)


def test_dropout_inverted_and_off_in_eval():
    d = cr.nn.Dropout(0.25)
    x = cr.ones(200, 300, requires_grad=True)
    y = d(x)
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.75], rtol=1e-6)
    assert abs(float((y.detach().numpy() == 0).mean()) - 0.25) < 0.01
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # same mask, same scale
    d.eval()
    np.testing.assert_array_equal(d(x).detach().numpy(), x.detach().numpy())
    assert F.dropout(x, 1.0).detach().numpy().sum() == 0
    with pytest.raises(ValueError, match="dropout probability"):
        cr.nn.Dropout(1.5)


def test_stable_for_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], np.float32)
    t = torch.tensor(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = cr.tensor(x, requires_grad=True)
        outs = [F.softmax(c, 1), F.log_softmax(c, 1), F.sigmoid(c), c.sigmoid(),
                F.cross_entropy(c, cr.tensor([1, 2])),
                F.binary_cross_entropy_with_logits(c, cr.tensor(np.ones_like(x)))]
        refs = [torch.softmax(t, 1), torch.log_softmax(t, 1), torch.sigmoid(t), torch.sigmoid(t),
                torch.nn.functional.cross_entropy(t, torch.tensor([1, 2])),
                torch.nn.functional.binary_cross_entropy_with_logits(t, torch.ones_like(t))]
        for o, r in zip(outs, refs):
            assert np.all(np.isfinite(o.detach().numpy()))
            assert_close(o, r)
            c.grad = None
            o.sum().backward()
            assert np.all(np.isfinite(c.grad.numpy()))


# ---- float64 gradcheck of every differentiable layer (small sizes) ----------------------------

def _gradcheck_layer(make, shape, training=True):
    m = make(cr.nn).double()
    m.train(training)
    rng = np.random.default_rng(3)
    with cr.no_grad():
        for p in m.parameters():
            p.data[...] = rng.standard_normal(p.shape) * 0.5 + (1.0 if p.ndim == 1 and "BatchNorm" in type(m).__name__
                                                                  else 0.0)
    x = cr.tensor(rng.standard_normal(shape), requires_grad=True)
    params = [p for p in m.parameters()]

    def fn(x, *ps):
        return m(x)
    assert cr.autograd.gradcheck(fn, [x] + params)


GRADCHECK = ["linear", "conv_stride_pad_dil", "conv_groups_nobias", "maxpool_overlap_pad", "avgpool_pad",
             "bn1d", "bn2d", "bn2d_noaffine", "leaky", "prelu_channels", "elu", "sigmoid", "tanh", "softmax",
             "logsoftmax", "gelu", "gelu_tanh", "relu"]


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck_layer(name):
    make, shape = LAYERS[name]
    if name.startswith("maxpool") or name == "relu":
        shape = (1,) + shape[1:] if len(shape) == 4 else shape
    _gradcheck_layer(make, shape)
    if name.startswith("bn"):
        m_shape = shape
        _gradcheck_layer(make, m_shape, training=False)


# ---- bad input --------------------------------------------------------------------------------

def test_bad_input_errors():
    conv = cr.nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d.*\[2, 5, 5\]|conv2d.*\[1, 2, 5, 5\]"):
        conv(cr.zeros(2, 5, 5))  # unbatched with 2 channels
    with pytest.raises(RuntimeError, match=r"(?i)conv2d.*2D input|conv2d.*\[4, 3\]"):
        conv(cr.zeros(4, 3))
    with pytest.raises(RuntimeError, match=r"(?i)conv2d.*channels"):
        conv(cr.zeros(1, 2, 5, 5))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        conv(cr.zeros(1, 3, 2, 2))
    with pytest.raises(RuntimeError, match=r"Linear.*\[2, 4\]"):
        cr.nn.Linear(3, 2)(cr.zeros(2, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d.*3D"):
        cr.nn.BatchNorm2d(3)(cr.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d.*3 channels.*\[2, 4\]"):
        cr.nn.BatchNorm1d(3)(cr.zeros(2, 4))
    with pytest.raises(ValueError, match="divisible by groups"):
        cr.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError, match="(?i)max_pool2d|pad"):
        cr.nn.MaxPool2d(2, padding=2)(cr.zeros(1, 1, 4, 4))  # torch: pad should be at most half of kernel
    # torch agrees these are errors
    with pytest.raises(RuntimeError):
        torch.nn.Conv2d(3, 4, 3)(torch.zeros(1, 3, 2, 2))


def test_reprs_like_torch():
    def mods(nn):
        return [nn.Linear(3, 4), nn.Linear(3, 4, bias=False), nn.Conv2d(1, 6, 5, padding=2),
                nn.Conv2d(4, 6, (3, 2), stride=2, dilation=2, groups=2, bias=False), nn.MaxPool2d(2),
                nn.AvgPool2d(3, stride=1), nn.Flatten(), nn.Dropout(0.3), nn.BatchNorm1d(4),
                nn.BatchNorm2d(3, momentum=None, affine=False), nn.Embedding(10, 3), nn.ReLU(), nn.Identity(),
                nn.LeakyReLU(0.2), nn.PReLU(), nn.ELU(), nn.GELU(), nn.GELU("tanh"), nn.Softmax(dim=1),
                nn.LogSoftmax(dim=-1), nn.Sigmoid(), nn.Tanh()]
    for c, t in zip(mods(cr.nn), mods(torch.nn)):
        assert repr(c) == repr(t)
    seq = lambda nn: nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))  # noqa: E731
    assert repr(seq(cr.nn)) == repr(seq(torch.nn))


def test_default_init_distributions():
    cr.manual_seed(0)
    lin = cr.nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)  # kaiming_uniform(a=sqrt 5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    conv = cr.nn.Conv2d(6, 16, 5)
    b = 1 / np.sqrt(6 * 25)
    assert np.abs(conv.weight.detach().numpy()).max() <= b
    assert abs(conv.weight.detach().numpy().std() - b / np.sqrt(3)) < 0.05 * b
    emb = cr.nn.Embedding(1000, 50).weight.detach().numpy()
    assert abs(emb.std() - 1) < 0.02 and abs(emb.mean()) < 0.02
    bn = cr.nn.BatchNorm2d(3)
    assert bn.weight.detach().numpy().tolist() == [1, 1, 1] and bn.bias.detach().numpy().tolist() == [0, 0, 0]
    assert cr.nn.PReLU().weight.detach().numpy().tolist() == [0.25]
    assert lin.weight.dtype == cr.float32


def test_pool_and_target_errors_like_torch():
    for f, tf in [(F.max_pool2d, torch.nn.functional.max_pool2d), (F.avg_pool2d, torch.nn.functional.avg_pool2d)]:
        with pytest.raises(RuntimeError, match=r"pool2d.*\[1, 3, 3\].*too small"):
            f(cr.zeros(1, 1, 3, 3), 4)
        with pytest.raises(RuntimeError):
            tf(torch.zeros(1, 1, 3, 3), 4)
    with pytest.raises(RuntimeError, match=r"max_pool2d.*\[3, 3\]"):
        F.max_pool2d(cr.zeros(3, 3), 2)
    with pytest.raises(RuntimeError, match="cross_entropy.*Long.*float32"):
        F.cross_entropy(cr.zeros(3, 4), cr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\[3\].*\[2\]"):
        cr.nn.CrossEntropyLoss()(cr.zeros(3, 4), cr.tensor([0, 1]))
    with pytest.raises(IndexError, match="embedding.*7.*out of range"):
        cr.nn.Embedding(5, 2)(cr.tensor([7]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_forms_match_torch(dtype):
    from helpers import compare
    TF = torch.nn.functional
    r = np.random.default_rng(5)
    x4, w4, b = r.standard_normal((2, 4, 6, 6)).astype(dtype), r.standard_normal((6, 2, 3, 3)).astype(dtype), \
        r.standard_normal(6).astype(dtype)
    compare(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
            lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1, groups=2), [x4, w4, b])
    x2, w2 = r.standard_normal((3, 5)).astype(dtype), r.standard_normal((4, 5)).astype(dtype)
    compare(lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b), [x2, w2, b[:4]])
    rm, rv = r.standard_normal(5).astype(dtype), r.uniform(0.5, 2, 5).astype(dtype)
    compare(lambda x, w, b: F.batch_norm(x, cr.tensor(rm), cr.tensor(rv), w, b, training=False),
            lambda x, w, b: TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b, training=False),
            [x2, b[:5], w2[0]])
    compare(lambda x, w: F.prelu(x, w), lambda x, w: TF.prelu(x, w), [x4, b[:4]])
    compare(lambda x: F.avg_pool2d(x, 3, 1, 1), lambda x: TF.avg_pool2d(x, 3, 1, 1), [x4])
    compare(lambda x: F.max_pool2d(x, (2, 3), (1, 2)), lambda x: TF.max_pool2d(x, (2, 3), (1, 2)), [x4])
    compare(lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5), [x2])
    compare(lambda x: F.leaky_relu(x, 0.3), lambda x: TF.leaky_relu(x, 0.3), [x2])
    compare(lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), [x2])
    compare(lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1), [x4])
    compare(lambda x: F.dropout(x, 0.5, training=False), lambda x: TF.dropout(x, 0.5, training=False), [x2])
