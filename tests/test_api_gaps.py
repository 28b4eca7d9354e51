"""Gaps found by porting public torch programs, each against torch: no NumPy RuntimeWarnings from
ops, as_tensor/tensor of a tensor, any/all on uint8, grad_fn names, Variable(), a tensor as dtype,
optimizer keywords, Conv2d's base class, LinearCrossEntropyLoss and AdaptiveLogSoftmaxWithLoss."""
import inspect
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import compare

# ---- 1. no NumPy floating-point warnings (torch prints none) -----------------------------------

_WARNING_OPS = {
    "log(0)": lambda L, x: x.log(),
    "log2/log10/log1p": lambda L, x: x.log2() + x.log10() + (x - 1).log1p(),
    "x / 0": lambda L, x: x / 0,
    "0 / 0": lambda L, x: (x * 0) / (x * 0),
    "exp overflow": lambda L, x: (x * 1000).exp(),
    "logaddexp": lambda L, x: L.logaddexp(x * 1000, x * 1000),
    "sqrt(-1)": lambda L, x: (x - 2).sqrt(),
    "rsqrt(0)": lambda L, x: x.rsqrt(),
    "reciprocal(0)": lambda L, x: x.reciprocal(),
    "pow(0, -1)": lambda L, x: x ** -1,
    "float32 overflow": lambda L, x: x * 3e38 * 3e38,
    "atanh(1)": lambda L, x: x.atanh(),
    "acos(2)": lambda L, x: (x * 2).acos(),
    "xlogy": lambda L, x: L.xlogy(x, x),
    "sigmoid(-1000)": lambda L, x: (x - 1000).sigmoid(),
    "softplus": lambda L, x: L.nn.functional.softplus(x * 1000),
    "log_softmax(inf)": lambda L, x: L.nn.functional.log_softmax(x / 0, 0),
    "mean of empty": lambda L, x: x[:0].mean() + x.sum(),
    "normalize(0)": lambda L, x: L.nn.functional.normalize(x * 0, dim=0),
    "fmod(x, 0)": lambda L, x: L.fmod(x, 0.0),
}


@pytest.mark.parametrize("name", list(_WARNING_OPS))
def test_no_numpy_warnings_forward_and_backward(name):
    fn = _WARNING_OPS[name]
    data = np.array([0.0, 1.0, 0.5], dtype=np.float32)
    x = cr.tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        y = fn(cr, x)
        y.sum().backward()
        cr.autograd.grad(fn(cr, x).sum(), x)
    tx = torch.tensor(data, requires_grad=True)
    ty = fn(torch, tx)
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, equal_nan=True)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, equal_nan=True)


def test_numpy_error_state_restored_and_respected_outside():
    before = np.geterr()
    with np.errstate(divide="raise"):
        cr.tensor([0.0]).log()  # chainrule's op ignores it, as torch
        with pytest.raises(FloatingPointError):
            np.log(np.zeros(1))  # the user's NumPy code still raises
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning):
        np.log(np.zeros(1))


def test_mean_of_empty_values_and_grad():
    compare(lambda x: x[:0].mean(0), lambda x: x[:0].mean(0), [np.ones((2, 3), np.float32)])
    compare(lambda x: x.reshape(0, 6).mean(), lambda x: x.reshape(0, 6).mean(), [np.ones((0, 3), np.float32)])


# ---- 2. as_tensor and tensor of a tensor --------------------------------------------------------

def test_as_tensor_returns_the_tensor_itself():
    for L in (cr, torch):
        t = L.ones(2, requires_grad=True)
        assert L.as_tensor(t) is t
        assert L.as_tensor(t, dtype=t.dtype) is t
        assert L.as_tensor(t, device="cpu") is t
        assert L.as_tensor(t, dtype=t.dtype, device="cpu") is t


def test_as_tensor_other_dtype_keeps_the_graph():
    compare(lambda x: cr.as_tensor(x, dtype=cr.float64) * 2, lambda x: torch.as_tensor(x, dtype=torch.float64) * 2,
            [np.arange(3, dtype=np.float32)])


def test_as_tensor_shares_numpy_memory_like_torch():
    for L in (cr, torch):
        a = np.ones(3)
        L.as_tensor(a, dtype=L.float64)[0] = 5
        L.as_tensor(a, dtype=L.float64, device="cpu")[1] = 6
        L.as_tensor(a, dtype=L.float32)[2] = 7  # another dtype: a copy
        assert a.tolist() == [5.0, 6.0, 1.0]


def test_tensor_of_a_tensor_copies_detaches_and_warns():
    for L in (cr, torch):
        t = L.ones(2, requires_grad=True)
        with pytest.warns(UserWarning, match="sourceTensor.detach"):
            c = L.tensor(t)
        assert c.requires_grad is False and c.grad_fn is None
        c[0] = 3
        assert t[0].item() == 1.0
        with pytest.warns(UserWarning):
            assert L.tensor(t, requires_grad=True).is_leaf


# ---- 3. any/all keep uint8 ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["uint8", "int64", "float32", "bool"])
def test_any_all_dtypes(dtype):
    data = np.array([[1, 0, 2], [0, 0, 3]]).astype(dtype)
    for fn in (lambda L, x: x.any(), lambda L, x: x.all(), lambda L, x: L.any(x, dim=0),
               lambda L, x: L.all(x, dim=1, keepdim=True), lambda L, x: x.any(1)):
        c, t = fn(cr, cr.tensor(data)), fn(torch, torch.tensor(data))
        assert str(c.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        assert c.tolist() == t.tolist()


# ---- 4. grad_fn names ---------------------------------------------------------------------------

_NAMED = {
    "mul": lambda L, x, w: x * 2, "add": lambda L, x, w: x + x, "sub": lambda L, x, w: x - 1,
    "div": lambda L, x, w: x / 2, "pow": lambda L, x, w: x ** 2, "exp": lambda L, x, w: x.exp(),
    "log1p": lambda L, x, w: x.abs().log1p(), "tanh": lambda L, x, w: x.tanh(),
    "sigmoid": lambda L, x, w: x.sigmoid(), "relu": lambda L, x, w: L.relu(x), "sum": lambda L, x, w: x.sum(),
    "mean": lambda L, x, w: x.mean(), "mm": lambda L, x, w: x @ w, "linear": lambda L, x, w: L.nn.functional.linear(
        x, w.T, w[0]), "view": lambda L, x, w: x.view(6), "reshape": lambda L, x, w: x.reshape(3, 2),
    "T": lambda L, x, w: x.T, "cat": lambda L, x, w: L.cat([x, x]), "clone": lambda L, x, w: x.clone(),
    "double": lambda L, x, w: x.double(), "softmax": lambda L, x, w: x.softmax(1),
    "log_softmax": lambda L, x, w: x.log_softmax(1), "fancy index": lambda L, x, w: x[[0, 1], [1, 2]],
    "max(1)": lambda L, x, w: x.max(1)[0], "logsumexp": lambda L, x, w: x.logsumexp(1),
    "norm": lambda L, x, w: L.linalg.vector_norm(x), "expand": lambda L, x, w: x[:1].expand(4, 3),
    "where": lambda L, x, w: L.where(x > 0, x, 0.0), "clamp": lambda L, x, w: x.clamp(-0.5, 0.5),
    "abs": lambda L, x, w: x.abs(), "cumsum": lambda L, x, w: x.cumsum(1), "neg": lambda L, x, w: -x,
    "flip": lambda L, x, w: x.flip((0,)),
}


@pytest.mark.parametrize("name", list(_NAMED))
def test_grad_fn_names_match_torch(name):
    fn = _NAMED[name]
    x, w = np.random.default_rng(0).standard_normal((2, 3)), np.random.default_rng(1).standard_normal((3, 4))
    c = fn(cr, cr.tensor(x, dtype=cr.float32, requires_grad=True), cr.tensor(w, dtype=cr.float32, requires_grad=True))
    t = fn(torch, torch.tensor(x, dtype=torch.float32, requires_grad=True),
           torch.tensor(w, dtype=torch.float32, requires_grad=True))
    want = type(t.grad_fn).__name__
    assert c.grad_fn.name() == want
    assert repr(c.grad_fn).startswith(f"<{want} object at 0x")
    assert f"grad_fn=<{want}>" in repr(c)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_grad_fn_names_match_torch(reduction):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 4)).astype(np.float32), rng.uniform(size=(3, 4)).astype(np.float32)
    target = np.array([0, 1, 3])
    losses = [lambda L, x, y: L.nn.functional.cross_entropy(x, L.tensor(target), reduction=reduction),
              lambda L, x, y: L.nn.functional.nll_loss(x, L.tensor(target), reduction=reduction),
              lambda L, x, y: L.nn.functional.mse_loss(x, y, reduction=reduction),
              lambda L, x, y: L.nn.functional.l1_loss(x, y, reduction=reduction),
              lambda L, x, y: L.nn.functional.binary_cross_entropy(x.sigmoid(), y, reduction=reduction),
              lambda L, x, y: L.nn.functional.binary_cross_entropy_with_logits(x, y, reduction=reduction),
              lambda L, x, y: L.nn.functional.smooth_l1_loss(x, y, reduction=reduction),
              lambda L, x, y: L.nn.functional.huber_loss(x, y, reduction=reduction)]
    for fn in losses:
        c = fn(cr, cr.tensor(x, requires_grad=True), cr.tensor(y))
        t = fn(torch, torch.tensor(x, requires_grad=True), torch.tensor(y))
        assert c.grad_fn.name() == type(t.grad_fn).__name__


def test_custom_function_name_and_op_name():
    class Twice(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    y = Twice.apply(cr.ones(2, requires_grad=True))
    assert y.grad_fn.name() == "TwiceBackward" and y.grad_fn.op_name() == "Twice"
    assert (cr.ones(2, requires_grad=True) * 2).grad_fn.op_name() == "Mul"


def test_every_op_has_a_torch_style_name():
    from chainrule.ops.registry import OPS, TORCH_NAMES
    assert set(TORCH_NAMES) <= set(OPS)
    for name, op in OPS.items():
        assert op.torch_name.endswith(("Backward0", "Backward1")), name


# ---- 5. Variable() and a tensor as dtype --------------------------------------------------------

def test_variable_without_data():
    from torch.autograd import Variable
    for empty, ref in ((cr.autograd.Variable(), Variable()), (cr.autograd.Variable(None), Variable(None))):
        assert tuple(empty.shape) == tuple(ref.shape) == (0,) and empty.requires_grad is False
        assert str(empty.dtype).split(".")[1] == str(ref.dtype).split(".")[1]
    v = cr.autograd.Variable(requires_grad=True)
    assert v.requires_grad and v.is_leaf
    with pytest.raises(TypeError):
        cr.autograd.Variable([1.0])


@pytest.mark.parametrize("factory", ["zeros", "ones", "empty", "rand", "randn"])
def test_tensor_as_dtype_raises_type_error(factory):
    for L in (cr, torch):
        with pytest.raises(TypeError):
            getattr(L, factory)(2, dtype=L.tensor(1.0))
    with pytest.raises(TypeError):
        cr.tensor([1.0]).to(dtype=cr.tensor(1.0))


# ---- 6. optimizer keywords ----------------------------------------------------------------------

_OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "ASGD", "NAdam", "RAdam", "RMSprop", "Rprop"]


@pytest.mark.parametrize("name", _OPTIMIZERS)
def test_optimizer_signature_and_defaults_match_torch(name):
    t_cls, c_cls = getattr(torch.optim, name), getattr(cr.optim, name)
    tp, cp = inspect.signature(t_cls.__init__).parameters, inspect.signature(c_cls.__init__).parameters
    for k, p in tp.items():
        assert k in cp, k
        assert cp[k].kind == p.kind and repr(cp[k].default) == repr(p.default), k
    t_opt = t_cls([torch.zeros(2, requires_grad=True)])
    c_opt = c_cls([cr.zeros(2, requires_grad=True)])
    assert list(c_opt.defaults) == list(t_opt.defaults)
    assert list(c_opt.state_dict()["param_groups"][0]) == list(t_opt.state_dict()["param_groups"][0])


@pytest.mark.parametrize("name", _OPTIMIZERS)
def test_optimizer_flags(name):
    params = inspect.signature(getattr(torch.optim, name).__init__).parameters
    c_cls = getattr(cr.optim, name)
    p = cr.zeros(2, requires_grad=True)
    for flag in ("foreach", "fused"):
        if flag in params:  # accepted: one update function over the group's lists is the only path
            for value in (True, False, None):
                c_cls([p], **{flag: value})
    if "foreach" in params and "fused" in params:
        with pytest.raises(RuntimeError, match="cannot be `True` together"):
            c_cls([p], foreach=True, fused=True)
    for flag in ("capturable", "differentiable"):
        if flag in params:
            c_cls([p], **{flag: False})
            with pytest.raises(NotImplementedError, match=flag):
                c_cls([p], **{flag: True})


@pytest.mark.parametrize("name", _OPTIMIZERS)
def test_maximize_matches_torch(name):
    rng = np.random.default_rng(3)
    w0, g = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    out = []
    for L in (cr, torch):
        w = L.tensor(w0.copy(), requires_grad=True)
        opt = getattr(L.optim, name)([w], maximize=True, foreach=False)
        for _ in range(3):
            w.grad = L.tensor(g.copy())
            opt.step()
        out.append(w.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-5, atol=1e-6)


def test_adam_decoupled_weight_decay_is_adamw():
    rng = np.random.default_rng(4)
    w0, g = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    out = []
    for L, kw in ((cr, dict(decoupled_weight_decay=True)), (torch, dict(decoupled_weight_decay=True)), (cr, {})):
        w = L.tensor(w0.copy(), requires_grad=True)
        opt = (L.optim.Adam if kw else L.optim.AdamW)([w], weight_decay=0.1, **kw)
        for _ in range(3):
            w.grad = L.tensor(g.copy())
            opt.step()
        out.append(w.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    np.testing.assert_allclose(out[0], out[2], rtol=1e-6)


def test_sparse_adam_names_sparse_gradients():
    with pytest.raises(NotImplementedError, match="sparse gradients"):
        cr.optim.SparseAdam([cr.zeros(2, requires_grad=True)])
    assert issubclass(NotImplementedError, RuntimeError)  # what torch's step raises for dense gradients


def test_clip_grad_norm_keywords():
    for L in (cr, torch):
        params = inspect.signature(L.nn.utils.clip_grad_norm_).parameters
        assert {"foreach", "error_if_nonfinite"} <= set(params)
        w = L.ones(2, requires_grad=True)
        w.grad = L.tensor([float("inf"), 1.0])
        with pytest.raises(RuntimeError):
            L.nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True, foreach=True)


# ---- 7. Conv2d is a _ConvNd ---------------------------------------------------------------------

def test_conv2d_is_a_convnd_with_torch_repr_and_state():
    for cls in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d"):
        assert isinstance(getattr(cr.nn, cls)(1, 1, 1), cr.nn.modules.conv._ConvNd)
    for args, kw in (((1, 1, 1), {}), ((4, 8, (3, 5)), dict(stride=2, padding=1, bias=False)),
                     ((4, 8, 3), dict(padding="same", dilation=2, groups=2))):
        c, t = cr.nn.Conv2d(*args, **kw), torch.nn.Conv2d(*args, **kw)
        assert repr(c) == repr(t)
        assert [(k, tuple(v.shape)) for k, v in c.state_dict().items()] == \
               [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
        assert (c.transposed, c.output_padding) == (t.transposed, t.output_padding)


# ---- 8. LinearCrossEntropyLoss, linear_cross_entropy, AdaptiveLogSoftmaxWithLoss -----------------

def _copy_state(c_module, t_module):
    c_module.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in t_module.state_dict().items()})


@pytest.mark.parametrize("kw", [{}, dict(reduction="sum"), dict(reduction="none", label_smoothing=0.1),
                                dict(ignore_index=2)])
def test_linear_cross_entropy_functional(kw):
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 3), (5, 3), (5,)))
    target = np.array([0, 2, 4, 2])
    compare(lambda x, w, b: cr.nn.functional.linear_cross_entropy(x, w, cr.tensor(target), linear_bias=b, **kw),
            lambda x, w, b: torch.nn.functional.linear_cross_entropy(x, w, torch.tensor(target), linear_bias=b, **kw),
            [x, w, b])
    # K-dimensional: weight (C, d, in), target (N, d); class probabilities
    wk = rng.standard_normal((5, 2, 3)).astype(np.float32)
    tk = np.array([[0, 1], [4, 4], [2, 3], [1, 0]])
    compare(lambda x, w: cr.nn.functional.linear_cross_entropy(x, w, cr.tensor(tk)),
            lambda x, w: torch.nn.functional.linear_cross_entropy(x, w, torch.tensor(tk)), [x, wk])
    p = rng.dirichlet(np.ones(5), 4).astype(np.float32)
    compare(lambda x, w, p: cr.nn.functional.linear_cross_entropy(x, w, p),
            lambda x, w, p: torch.nn.functional.linear_cross_entropy(x, w, p), [x, w, p])


def test_linear_cross_entropy_bad_input():
    x, w, t = np.ones((3, 4), np.float32), np.ones((5, 4), np.float32), np.array([0, 1, 2])
    for L in (cr, torch):
        F = L.nn.functional
        with pytest.raises(RuntimeError, match="in_features"):
            F.linear_cross_entropy(L.tensor(x[:, :2]), L.tensor(w), L.tensor(t))
        with pytest.raises(RuntimeError, match="at least 2"):
            F.linear_cross_entropy(L.tensor(x), L.tensor(w[0]), L.tensor(t))
        with pytest.raises(RuntimeError, match="linear_bias shape"):
            F.linear_cross_entropy(L.tensor(x), L.tensor(w), L.tensor(t), linear_bias=L.zeros(4))
        with pytest.raises(RuntimeError, match="dimensionality 1 or 2"):
            F.linear_cross_entropy(L.tensor(x[None]), L.tensor(w), L.tensor(t))
        with pytest.raises(RuntimeError, match="label_smoothing"):
            L.nn.LinearCrossEntropyLoss(4, 5, label_smoothing=1.5)


@pytest.mark.parametrize("kw", [dict(bias=True), dict(out_features=(2,), bias=True, reduction="sum")])
def test_linear_cross_entropy_module(kw):
    torch.manual_seed(0)
    t_mod, c_mod = torch.nn.LinearCrossEntropyLoss(4, 5, **kw), cr.nn.LinearCrossEntropyLoss(4, 5, **kw)
    assert repr(c_mod) == repr(t_mod)
    assert [(k, tuple(v.shape)) for k, v in c_mod.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in t_mod.state_dict().items()]
    _copy_state(c_mod, t_mod)
    x = np.random.default_rng(6).standard_normal((3, 4)).astype(np.float32)
    target = np.array([[0, 1], [4, 4], [2, 3]]) if "out_features" in kw else np.array([0, 4, 2])
    compare(lambda x: c_mod(x, cr.tensor(target)), lambda x: t_mod(x, torch.tensor(target)), [x])
    assert isinstance(c_mod, cr.nn.modules.loss._Loss)


def test_adaptive_log_softmax_with_loss():
    torch.manual_seed(0)
    args = (8, 10, [3, 6])
    t_mod = torch.nn.AdaptiveLogSoftmaxWithLoss(*args, div_value=2.0, head_bias=True)
    c_mod = cr.nn.AdaptiveLogSoftmaxWithLoss(*args, div_value=2.0, head_bias=True)
    assert repr(c_mod) == repr(t_mod)
    assert list(c_mod.state_dict()) == list(t_mod.state_dict())
    _copy_state(c_mod, t_mod)
    x = np.random.default_rng(7).standard_normal((6, 8)).astype(np.float32)
    target = np.array([0, 4, 9, 2, 7, 5])
    compare(lambda x: c_mod(x, cr.tensor(target)).loss, lambda x: t_mod(x, torch.tensor(target)).loss, [x])
    compare(lambda x: c_mod(x, cr.tensor(target)).output, lambda x: t_mod(x, torch.tensor(target)).output, [x])
    compare(lambda x: c_mod(x[0], cr.tensor(4)).output, lambda x: t_mod(x[0], torch.tensor(4)).output, [x])
    compare(c_mod.log_prob, t_mod.log_prob, [x])
    assert c_mod.predict(cr.tensor(x)).tolist() == t_mod.predict(torch.tensor(x)).tolist()
    # the tails' gradients too
    c_mod(cr.tensor(x), cr.tensor(target)).loss.backward()
    t_mod(torch.tensor(x), torch.tensor(target)).loss.backward()
    for (name, c_p), (_, t_p) in zip(c_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(c_p.grad.numpy(), t_p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)
    out = c_mod(cr.tensor(x), cr.tensor(target))
    assert out._fields == ("output", "loss")


def test_adaptive_log_softmax_bad_input():
    for L in (cr, torch):
        with pytest.raises(ValueError):
            L.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [])
        with pytest.raises(ValueError):
            L.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [6, 3])
        m = L.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3])
        with pytest.raises(RuntimeError, match="Target values"):
            m(L.zeros(2, 8), L.tensor([0, 10]))
        with pytest.raises(RuntimeError, match="same size"):
            m(L.zeros(2, 8), L.tensor([0, 1, 2]))
        with pytest.raises(RuntimeError, match="multi-target"):
            m(L.zeros(2, 8), L.zeros(2, 2, dtype=L.long))


def test_adaptive_log_softmax_gradcheck():
    cr.manual_seed(0)
    m = cr.nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2, 4], div_value=2.0).double()
    x = cr.randn(5, 4, dtype=cr.float64, requires_grad=True)
    target = cr.tensor([0, 3, 5, 1, 2])
    assert cr.autograd.gradcheck(lambda x: m(x, target).output, [x])
