"""Convolution, pooling, resampling and padding beyond the 2-d ops (issue 14) against torch:
values, dtypes, gradients, parameters and state_dicts, float64 gradcheck, and bad input."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.helpers import compare

F, TF = cr.nn.functional, torch.nn.functional
RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def distinct(*shape, dtype=np.float64):
    return (RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + RNG.random(shape) * 0.01).astype(dtype)


def both(fn):
    """fn(L, *tensors) as the (chainrule, torch) pair compare takes."""
    return (lambda *a: fn(cr, *a)), (lambda *a: fn(torch, *a))


def check(fn, *arrays, **kw):
    return compare(*both(fn), list(arrays), **kw)


def Fn(L):
    return L.nn.functional


DTYPES = [np.float32, np.float64]


# ---- convolution ------------------------------------------------------------------------------------

CONV1D = [  # (x shape, w shape, kwargs)
    ((2, 4, 9), (6, 4, 3), {}),
    ((2, 4, 9), (6, 2, 2), dict(stride=2, padding=1, dilation=2, groups=2)),
    ((4, 7), (3, 4, 3), dict(padding="same", dilation=2)),
    ((1, 3, 5), (2, 3, 5), dict(padding="valid", stride=(3,))),
    ((0, 3, 5), (2, 3, 2), dict(padding=(1,))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, ws, kw", CONV1D)
def test_conv1d(xs, ws, kw, dtype):
    check(lambda L, x, w, b: Fn(L).conv1d(x, w, b, **kw), randn(*xs, dtype=dtype), randn(*ws, dtype=dtype),
          randn(ws[0], dtype=dtype))


CONV3D = [
    ((2, 2, 4, 5, 3), (3, 2, 2, 3, 2), {}),
    ((1, 4, 5, 4, 6), (4, 2, 3, 2, 3), dict(stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2)),
    ((2, 3, 3, 4), (2, 2, 3, 3, 3), dict(padding="same")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, ws, kw", CONV3D)
def test_conv3d(xs, ws, kw, dtype):
    check(lambda L, x, w, b: Fn(L).conv3d(x, w, b, **kw), randn(*xs, dtype=dtype), randn(*ws, dtype=dtype),
          randn(ws[0], dtype=dtype))


CONVT2D = [
    ((2, 4, 5, 6), (4, 3, 3, 2), {}),
    ((2, 4, 5, 6), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 3, 4), (4, 2, 2, 3), dict(stride=(2, 3), padding=(0, 2), output_padding=(1, 2), groups=2,
                                      dilation=(2, 1))),
    ((3, 4, 4), (3, 2, 4, 4), dict(stride=1, dilation=2, output_padding=1)),
    ((0, 4, 3, 3), (4, 2, 2, 2), dict(stride=2)),
    ((3, 100, 1, 1), (100, 8, 4, 4), {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, ws, kw", CONVT2D)
def test_conv_transpose2d(xs, ws, kw, dtype):
    o = ws[1] * kw.get("groups", 1)
    check(lambda L, x, w, b: Fn(L).conv_transpose2d(x, w, b, **kw), randn(*xs, dtype=dtype),
          randn(*ws, dtype=dtype), randn(o, dtype=dtype))
    check(lambda L, x, w: Fn(L).conv_transpose2d(x, w, None, **kw), randn(*xs, dtype=dtype),
          randn(*ws, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, ws, kw", [((2, 4, 7), (4, 3, 3), {}),
                                        ((2, 4, 7), (4, 1, 3), dict(stride=3, padding=2, output_padding=2, groups=2,
                                                                    dilation=2)),
                                        ((4, 5), (4, 2, 2), dict(stride=2, output_padding=1))])
def test_conv_transpose1d(xs, ws, kw, dtype):
    o = ws[1] * kw.get("groups", 1)
    check(lambda L, x, w, b: Fn(L).conv_transpose1d(x, w, b, **kw), randn(*xs, dtype=dtype),
          randn(*ws, dtype=dtype), randn(o, dtype=dtype))


@pytest.mark.parametrize("kw", [{}, dict(stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 1), groups=2)])
def test_conv_transpose3d(kw):
    check(lambda L, x, w, b: Fn(L).conv_transpose3d(x, w, b, **kw), randn(2, 4, 3, 2, 3), randn(4, 2, 2, 3, 2),
          randn(2 * kw.get("groups", 1)))


def test_gradcheck_convolutions():
    t = lambda *s: cr.tensor(randn(*s), requires_grad=True)  # noqa: E731
    assert cr.autograd.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                                                    groups=2), (t(1, 2, 3, 2), t(2, 2, 3, 2), t(4)))
    assert cr.autograd.gradcheck(lambda x, w: F.conv1d(x, w, stride=2, dilation=2), (t(2, 2, 7), t(3, 2, 2)))
    assert cr.autograd.gradcheck(lambda x, w: F.conv3d(x, w, padding=1), (t(1, 2, 3, 2, 3), t(2, 2, 2, 2, 2)))
    assert cr.autograd.gradcheck(lambda x, w: F.conv_transpose3d(x, w, stride=2), (t(1, 2, 2, 2, 2),
                                                                                   t(2, 1, 2, 1, 2)))


# ---- modules: parameters, state_dict, init ---------------------------------------------------------

MODULES = [
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, groups=2), (2, 4, 9)),
    ("Conv1d", (3, 2, 2), dict(bias=False, padding="same"), (3, 7)),
    ("Conv3d", (2, 3, (2, 3, 2)), dict(padding=1), (1, 2, 3, 4, 3)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, output_padding=1, groups=2), (2, 4, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 3, 5)),
    ("ConvTranspose2d", (3, 2, (2, 3)), dict(bias=False, dilation=2), (3, 4, 4)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name, args, kw, xs", MODULES)
def test_conv_modules_match_torch(name, args, kw, xs):
    tm = getattr(torch.nn, name)(*args, **kw).double()
    cm = getattr(cr.nn, name)(*args, **kw)
    sd = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    assert [(k, v.shape) for k, v in cm.state_dict().items()] == [(k, tuple(v.shape)) for k, v in sd.items()]
    assert cm.weight.dtype == cr.float32
    cm = cm.double()
    cm.load_state_dict({k: cr.tensor(v) for k, v in sd.items()})
    assert repr(cm) == repr(tm)
    x = randn(*xs)
    out, ref = compare(lambda x: cm(x), lambda x: tm(x), [x])
    for (k, p), (_, q) in zip(cm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=k)


@pytest.mark.parametrize("name, args", [("Conv1d", (8, 16, 5)), ("ConvTranspose2d", (16, 8, 3)),
                                        ("Conv3d", (4, 8, 3)), ("ConvTranspose1d", (6, 12, 4))])
def test_conv_init_bounds(name, args):
    m = getattr(cr.nn, name)(*args)
    fan_in = m.weight.shape[1] * math.prod(m.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) gives the same bound as the bias
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)


def test_conv_transpose_output_size():
    tm = torch.nn.ConvTranspose2d(4, 2, 3, stride=2).double()
    cm = cr.nn.ConvTranspose2d(4, 2, 3, stride=2).double()
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = randn(1, 4, 3, 3)
    for size in [(8, 8), (7, 8), [1, 2, 8, 7], (8,)]:
        if len(size) == 1:
            with pytest.raises(ValueError):
                tm(torch.tensor(x), output_size=size)
            with pytest.raises(ValueError):
                cm(cr.tensor(x), output_size=size)
            continue
        compare(lambda x: cm(x, output_size=size), lambda x: tm(x, output_size=size), [x])
    with pytest.raises(ValueError):
        cm(cr.tensor(x), output_size=(9, 8))
    t1 = torch.nn.ConvTranspose1d(2, 3, 3, stride=3).double()
    c1 = cr.nn.ConvTranspose1d(2, 3, 3, stride=3).double()
    c1.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in t1.state_dict().items()})
    compare(lambda x: c1(x, output_size=[11]), lambda x: t1(x, output_size=[11]), [randn(2, 2, 3)])


def test_conv_bad_input():
    x, w = cr.randn(1, 4, 3, 3), cr.randn(4, 2, 3, 3)
    bad = [
        (RuntimeError, lambda: F.conv_transpose2d(cr.randn(4, 3), w)),
        (RuntimeError, lambda: F.conv_transpose2d(cr.randn(1, 3, 3, 3), w)),
        (RuntimeError, lambda: F.conv_transpose2d(x, w, stride=2, output_padding=2)),
        (RuntimeError, lambda: F.conv_transpose2d(x, w, output_padding=1)),
        (RuntimeError, lambda: F.conv_transpose2d(x, w, padding=3)),
        (RuntimeError, lambda: F.conv_transpose2d(x, w, groups=3)),
        (RuntimeError, lambda: F.conv_transpose2d(x, w, stride=0)),
        (RuntimeError, lambda: F.conv_transpose2d(x, w, padding=-1)),
        (RuntimeError, lambda: F.conv_transpose2d(x.double(), w)),
        (RuntimeError, lambda: F.conv_transpose2d(x, w, cr.randn(3))),
        (RuntimeError, lambda: F.conv1d(cr.randn(2, 3, 4, 5), cr.randn(2, 3, 2))),
        (RuntimeError, lambda: F.conv1d(cr.randn(2, 3, 5), cr.randn(2, 2, 2))),
        (RuntimeError, lambda: F.conv1d(cr.randn(2, 3, 2), cr.randn(2, 3, 3))),
        (RuntimeError, lambda: F.conv3d(cr.randn(2, 3, 5), cr.randn(2, 3, 2, 2, 2))),
        (RuntimeError, lambda: F.conv3d(cr.randn(1, 2, 3, 3, 3), cr.randn(2, 3, 2, 2, 2))),
        (RuntimeError, lambda: F.conv3d(cr.randn(1, 3, 1, 3, 3), cr.randn(2, 3, 2, 2, 2))),
        (RuntimeError, lambda: F.conv_transpose1d(cr.randn(2, 4, 5), cr.randn(4, 2, 3), stride=2, output_padding=2)),
        (TypeError, lambda: F.conv1d(cr.randn(2, 3, 5), cr.randn(2, 3, 2), stride=1.5)),
        (ValueError, lambda: cr.nn.ConvTranspose2d(4, 2, 3, padding_mode="reflect")),
        (ValueError, lambda: cr.nn.Conv1d(4, 3, 3, groups=2)),
        (ValueError, lambda: cr.nn.Conv1d(4, 2, 3, stride=2, padding="same")),
        (ValueError, lambda: cr.nn.Conv3d(4, 2, 3, padding="full")),
    ]
    for exc, fn in bad:
        with pytest.raises(exc):
            fn()
    torch_bad = [lambda: TF.conv_transpose2d(torch.randn(4, 3), torch.randn(4, 2, 3, 3)),
                 lambda: TF.conv_transpose2d(torch.randn(1, 4, 3, 3), torch.randn(4, 2, 3, 3), stride=2,
                                             output_padding=2),
                 lambda: TF.conv1d(torch.randn(2, 3, 2), torch.randn(2, 3, 3))]
    for fn in torch_bad:
        with pytest.raises(RuntimeError):
            fn()


def test_conv_padding_modes():
    for mode in ("reflect", "replicate", "circular"):
        tm = torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode).double()
        cm = cr.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode).double()
        cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
        compare(lambda x: cm(x), lambda x: tm(x), [randn(2, 2, 6)])


# ---- unfold / fold ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, kw", [((2, 3, 5, 6), dict(kernel_size=2)),
                                    ((1, 2, 6, 5), dict(kernel_size=(3, 2), dilation=(1, 2), padding=1,
                                                        stride=(2, 1))),
                                    ((2, 4, 4), dict(kernel_size=3, padding=(0, 1)))])
def test_unfold_fold(xs, kw, dtype):
    x = randn(*xs, dtype=dtype)
    out, _ = check(lambda L, x: Fn(L).unfold(x, **kw), x)
    cols = randn(*out.shape, dtype=dtype)
    check(lambda L, c: Fn(L).fold(c, xs[-2:], **kw), cols)
    um, tum = cr.nn.Unfold(**kw), torch.nn.Unfold(**kw)
    assert repr(um) == repr(tum)
    compare(lambda x: um(x), lambda x: tum(x), [x])
    fm, tfm = cr.nn.Fold(xs[-2:], **kw), torch.nn.Fold(xs[-2:], **kw)
    assert repr(fm) == repr(tfm)
    compare(lambda c: fm(c), lambda c: tfm(c), [cols])


def test_unfold_fold_gradcheck_and_errors():
    assert cr.autograd.gradcheck(lambda x: F.unfold(x, 2, stride=1, padding=1), (cr.tensor(randn(1, 2, 3, 3),
                                                                                          requires_grad=True),))
    assert cr.autograd.gradcheck(lambda c: F.fold(c, (3, 4), 2), (cr.tensor(randn(1, 8, 6), requires_grad=True),))
    for L in (torch, cr):
        with pytest.raises(IndexError):
            Fn(L).unfold(L.randn(2, 3), 2)
    for fn in (lambda L: Fn(L).unfold(L.randn(1, 2, 3, 3, 2), 2), lambda L: Fn(L).unfold(L.randn(1, 2, 3, 3), 4),
               lambda L: Fn(L).fold(L.randn(1, 7, 6), (3, 4), 2), lambda L: Fn(L).fold(L.randn(1, 8, 5), (3, 4), 2),
               lambda L: Fn(L).unfold(L.randn(1, 2, 3, 3), 0)):
        for L in (torch, cr):
            with pytest.raises(RuntimeError):
                fn(L)


# ---- pooling -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, args, kw", [((2, 3, 9), (3,), {}), ((2, 3, 9), (4,), dict(stride=2, padding=2)),
                                          ((3, 8), (3,), dict(stride=2, padding=1, ceil_mode=True)),
                                          ((1, 2, 10), (2,), dict(dilation=3, stride=1))])
def test_max_pool1d(xs, args, kw, dtype):
    x = distinct(*xs, dtype=dtype)
    check(lambda L, x: Fn(L).max_pool1d(x, *args, **kw), x)
    out, ref = check(lambda L, x: Fn(L).max_pool1d(x, *args, **kw, return_indices=True)[0], x)
    idx = F.max_pool1d(cr.tensor(x), *args, **kw, return_indices=True)[1]
    tidx = TF.max_pool1d(torch.tensor(x), *args, **kw, return_indices=True)[1]
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    m, tm = cr.nn.MaxPool1d(*args, **kw), torch.nn.MaxPool1d(*args, **kw)
    assert repr(m) == repr(tm)
    compare(lambda x: m(x), lambda x: tm(x), [x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, args, kw", [((2, 3, 9), (3,), {}),
                                          ((2, 3, 9), (4,), dict(stride=2, padding=2, count_include_pad=False)),
                                          ((3, 8), (3,), dict(stride=2, padding=1, ceil_mode=True))])
def test_avg_pool1d(xs, args, kw, dtype):
    x = randn(*xs, dtype=dtype)
    check(lambda L, x: Fn(L).avg_pool1d(x, *args, **kw), x)
    m, tm = cr.nn.AvgPool1d(*args, **kw), torch.nn.AvgPool1d(*args, **kw)
    assert repr(m) == repr(tm)
    compare(lambda x: m(x), lambda x: tm(x), [x])


@pytest.mark.parametrize("xs, kw", [((2, 3, 6, 7), dict(kernel_size=2)),
                                    ((1, 2, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
                                    ((2, 5, 6), dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1),
                                                     ceil_mode=True))])
def test_max_pool2d_indices_and_unpool(xs, kw):
    x = distinct(*xs)
    check(lambda L, x: Fn(L).max_pool2d(x, **kw, return_indices=True)[0], x)
    out, idx = F.max_pool2d(cr.tensor(x), **kw, return_indices=True)
    tout, tidx = TF.max_pool2d(torch.tensor(x), **kw, return_indices=True)
    assert idx.dtype == cr.int64
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    m, tm = cr.nn.MaxPool2d(**kw, return_indices=True), torch.nn.MaxPool2d(**kw, return_indices=True)
    np.testing.assert_array_equal(m(cr.tensor(x))[1].numpy(), tm(torch.tensor(x))[1].numpy())
    ukw = {k: v for k, v in kw.items() if k in ("kernel_size", "stride", "padding")}
    um, tum = cr.nn.MaxUnpool2d(**ukw), torch.nn.MaxUnpool2d(**ukw)
    assert repr(um) == repr(tum)
    if "dilation" in kw:
        return
    v = randn(*out.shape)
    try:
        tum(torch.tensor(v), tidx)
    except RuntimeError:  # an index past the default output size (the pooled input had an odd size)
        with pytest.raises(RuntimeError):
            um(cr.tensor(v), idx)
    else:
        compare(lambda v: um(v, idx), lambda v: tum(v, tidx), [v])
    compare(lambda v: F.max_unpool2d(v, idx, output_size=xs[-2:], **ukw),
            lambda v: TF.max_unpool2d(v, tidx, output_size=xs[-2:], **ukw), [randn(*out.shape)])


def test_max_pool_indices_special_values():
    x = np.array([[[[1.0, 3.0, 3.0], [np.nan, 2.0, np.nan], [-np.inf, -np.inf, 0.0]]]])
    for kw in (dict(kernel_size=2, stride=1), dict(kernel_size=3, padding=1, stride=1),
               dict(kernel_size=2, stride=2, ceil_mode=True)):
        idx = F.max_pool2d(cr.tensor(x), **kw, return_indices=True)[1]
        tidx = TF.max_pool2d(torch.tensor(x), **kw, return_indices=True)[1]
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    x = np.full((1, 1, 2, 2), -np.inf)
    np.testing.assert_array_equal(F.max_pool2d(cr.tensor(x), 3, 1, 1, return_indices=True)[1].numpy(),
                                  TF.max_pool2d(torch.tensor(x), 3, 1, 1, return_indices=True)[1].numpy())


def test_max_unpool_errors():
    x, i = cr.randn(1, 1, 2, 2), cr.tensor([[[[0, 1], [2, 3]]]])
    tx, ti = torch.randn(1, 1, 2, 2), torch.tensor([[[[0, 1], [2, 3]]]])
    for L, a, b in ((cr, x, i), (torch, tx, ti)):
        with pytest.raises(ValueError):
            Fn(L).max_unpool2d(a, b, 2, output_size=(7, 7))
        with pytest.raises(RuntimeError):
            Fn(L).max_unpool2d(a, b * 10, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, size", [((2, 3, 7, 9), (3, 4)), ((2, 3, 8, 6), 4), ((3, 5, 5), (None, 2)),
                                      ((1, 2, 3, 4), (5, 7)), ((2, 2, 6, 6), 1)])
def test_adaptive_pool2d(xs, size, dtype):
    x = distinct(*xs, dtype=dtype)
    check(lambda L, x: Fn(L).adaptive_avg_pool2d(x, size), x)
    check(lambda L, x: Fn(L).adaptive_max_pool2d(x, size), x)
    idx = F.adaptive_max_pool2d(cr.tensor(x), size, return_indices=True)[1]
    tidx = TF.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)[1]
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    for name, kw in (("AdaptiveAvgPool2d", {}), ("AdaptiveMaxPool2d", {}), ("AdaptiveMaxPool2d",
                                                                           dict(return_indices=True))):
        m, tm = getattr(cr.nn, name)(size, **kw), getattr(torch.nn, name)(size, **kw)
        assert repr(m) == repr(tm)
        pick = (lambda r: r[0]) if kw else (lambda r: r)
        compare(lambda x: pick(m(x)), lambda x: pick(tm(x)), [x])


@pytest.mark.parametrize("xs, size", [((2, 3, 7), 3), ((3, 10), 4), ((1, 2, 3), 5), ((2, 2, 6), (2,))])
def test_adaptive_pool1d(xs, size):
    x = distinct(*xs)
    check(lambda L, x: Fn(L).adaptive_avg_pool1d(x, size), x)
    check(lambda L, x: Fn(L).adaptive_max_pool1d(x, size), x)
    idx = F.adaptive_max_pool1d(cr.tensor(x), size, return_indices=True)[1]
    np.testing.assert_array_equal(idx.numpy(), TF.adaptive_max_pool1d(torch.tensor(x), size, True)[1].numpy())
    for name in ("AdaptiveAvgPool1d", "AdaptiveMaxPool1d"):
        m, tm = getattr(cr.nn, name)(size), getattr(torch.nn, name)(size)
        assert repr(m) == repr(tm)
        compare(lambda x: m(x), lambda x: tm(x), [x])


def test_adaptive_max_ties_route_like_torch():
    x = np.array([[[[1.0, 2.0, 2.0, 0.0], [2.0, 1.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0]]]])
    check(lambda L, x: Fn(L).adaptive_max_pool2d(x, (2, 3)), x)
    np.testing.assert_array_equal(F.adaptive_max_pool2d(cr.tensor(x), (2, 3), True)[1].numpy(),
                                  TF.adaptive_max_pool2d(torch.tensor(x), (2, 3), True)[1].numpy())


def test_adaptive_pool_gradcheck_and_errors():
    t = cr.tensor(distinct(1, 2, 5, 4), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 3)), (t,))
    assert cr.autograd.gradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 3)), (t,))
    for L in (cr, torch):
        with pytest.raises(RuntimeError):
            Fn(L).adaptive_avg_pool2d(L.randn(4, 5), 2)
        with pytest.raises(RuntimeError):
            Fn(L).adaptive_max_pool1d(L.randn(2, 0, 5), 2)
        with pytest.raises(RuntimeError):
            Fn(L).adaptive_avg_pool1d(L.randn(2, 3, 4, 5), 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lp_pool(dtype):
    x = randn(2, 3, 7, 8, dtype=dtype)
    for p in (2, 3, 1.5):
        xx = np.abs(x) + 0.1 if p == 1.5 else x
        check(lambda L, x: Fn(L).lp_pool2d(x, p, 2), xx)
        check(lambda L, x: Fn(L).lp_pool2d(x, p, (2, 3), stride=(1, 2), ceil_mode=True), xx)
        check(lambda L, x: Fn(L).lp_pool1d(x, p, 3, stride=2), xx[0])
    for name, args in (("LPPool1d", (2, 3)), ("LPPool2d", (2, (3, 2), 2))):
        m, tm = getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(m) == repr(tm)
        compare(lambda x: m(x), lambda x: tm(x), [x[0] if name == "LPPool1d" else x])


def test_pool1d_errors():
    for L in (cr, torch):
        with pytest.raises(RuntimeError):
            Fn(L).max_pool1d(L.randn(2, 3, 4, 5), 2)
        with pytest.raises(RuntimeError):
            Fn(L).avg_pool1d(L.randn(2, 3, 4), 3, padding=2)
        with pytest.raises(RuntimeError):
            Fn(L).max_pool1d(L.randn(2, 3, 2), 3)


# ---- padding -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("xs, pad", [((2, 3, 5), (1, 2)), ((2, 3, 4, 5), (2, 1, 0, 3)), ((3, 4, 5), (3, 3, 1, 2)),
                                     ((2, 3, 5), (-1, 2)), ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2))])
def test_pad_modes(xs, pad, mode, dtype):
    check(lambda L, x: Fn(L).pad(x, pad, mode=mode), randn(*xs, dtype=dtype))


def test_pad_constant_value_and_errors():
    check(lambda L, x: Fn(L).pad(x, (1, -2, 2, 1), value=2.5), randn(3, 4, 5))
    cases = [(RuntimeError, lambda L, x: Fn(L).pad(x, (1,))),
             (RuntimeError, lambda L, x: Fn(L).pad(x, (4, 0), mode="reflect")),
             (RuntimeError, lambda L, x: Fn(L).pad(x, (5, 0), mode="circular")),
             (NotImplementedError, lambda L, x: Fn(L).pad(x, (1, 1, 1, 1, 1, 1), mode="replicate")),
             (NotImplementedError, lambda L, x: Fn(L).pad(x, (1, 1), mode="foo")),
             (RuntimeError, lambda L, x: Fn(L).pad(x, (1, 1), mode="reflect", value=1)),
             (RuntimeError, lambda L, x: Fn(L).pad(x, (1, 1) * 4))]
    for exc, fn in cases:
        for L in (cr, torch):
            with pytest.raises(exc):
                fn(L, L.randn(2, 3, 4))


PADS = [("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad1d", ((1, 3),), (3, 4)), ("ZeroPad2d", (1,), (2, 3, 4, 5)),
        ("ZeroPad2d", ((1, 0, 2, 1),), (3, 4, 5)), ("ConstantPad1d", (2, 1.5), (2, 3, 4)),
        ("ConstantPad2d", ((1, 2, 0, 1), -1.0), (2, 3, 4, 5)), ("ReflectionPad1d", (2,), (2, 3, 4)),
        ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)), ("ReplicationPad1d", ((3, 1),), (3, 4)),
        ("ReplicationPad2d", (2,), (2, 3, 4, 5)), ("ZeroPad3d", (1,), (1, 2, 2, 3, 2)),
        ("ConstantPad3d", (1, 0.5), (2, 2, 3, 2)), ("ReflectionPad3d", (1,), (1, 2, 2, 3, 2)),
        ("ReplicationPad3d", (1,), (1, 2, 2, 3, 2)), ("CircularPad1d", (2,), (2, 3, 4)),
        ("CircularPad2d", (1,), (2, 3, 4, 5))]


@pytest.mark.parametrize("name, args, xs", PADS)
def test_pad_modules(name, args, xs):
    m, tm = getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(m) == repr(tm) and m.padding == tm.padding
    compare(lambda x: m(x), lambda x: tm(x), [randn(*xs)])


def test_pad_gradcheck():
    t = cr.tensor(randn(1, 2, 3, 4), requires_grad=True)
    for mode in ("reflect", "replicate", "circular"):
        assert cr.autograd.gradcheck(lambda x: F.pad(x, (2, 1, 1, 2), mode=mode), (t,))


# ---- resampling --------------------------------------------------------------------------------------

INTERP = [
    ((2, 3, 5), dict(size=8, mode="nearest")), ((2, 3, 5), dict(scale_factor=1.7, mode="nearest")),
    ((2, 3, 7), dict(size=3, mode="nearest-exact")), ((2, 3, 5), dict(scale_factor=2, mode="linear")),
    ((2, 3, 5), dict(size=9, mode="linear", align_corners=True)),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="nearest")), ((1, 2, 4, 5), dict(scale_factor=(2, 3), mode="nearest")),
    ((1, 2, 4, 5), dict(scale_factor=2.5, mode="nearest-exact")),
    ((1, 2, 4, 5), dict(size=(7, 8), mode="bilinear")),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="bilinear", align_corners=True)),
    ((1, 2, 4, 5), dict(scale_factor=1.3, mode="bilinear", recompute_scale_factor=True)),
    ((1, 2, 4, 5), dict(scale_factor=1.3, mode="bilinear")),
    ((2, 2, 5, 4), dict(size=(9, 7), mode="bicubic")),
    ((2, 2, 5, 4), dict(scale_factor=(0.6, 2.2), mode="bicubic", align_corners=True)),
    ((1, 2, 3, 4, 5), dict(size=(5, 3, 7), mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 6, 9), dict(size=(4, 4), mode="area")), ((1, 2, 6, 9), dict(scale_factor=0.5, mode="area")),
    ((1, 2, 1, 1), dict(size=(3, 3), mode="bilinear", align_corners=True)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, kw", INTERP)
def test_interpolate(xs, kw, dtype):
    check(lambda L, x: Fn(L).interpolate(x, **kw), randn(*xs, dtype=dtype))


def test_interpolate_gradcheck_and_errors():
    t = cr.tensor(randn(1, 2, 3, 4), requires_grad=True)
    for mode in ("bilinear", "bicubic", "nearest"):
        assert cr.autograd.gradcheck(lambda x: F.interpolate(x, size=(5, 3), mode=mode), (t,))
    cases = [(ValueError, dict(size=3, scale_factor=2)), (ValueError, dict()),
             (ValueError, dict(size=3, align_corners=True)), (NotImplementedError, dict(size=3, mode="linear")),
             (NotImplementedError, dict(size=3, mode="cubic")), (ValueError, dict(size=(3, 3, 3))),
             (ValueError, dict(size=3, recompute_scale_factor=True)), (TypeError, dict(size=(3.5, 2)))]
    for exc, kw in cases:
        for L in (cr, torch):
            with pytest.raises(exc):
                Fn(L).interpolate(L.randn(1, 2, 3, 4), **kw)


@pytest.mark.parametrize("name, kw, xs", [
    ("Upsample", dict(scale_factor=2), (1, 2, 3, 4)), ("Upsample", dict(size=(5, 7), mode="bilinear"), (1, 2, 3, 4)),
    ("Upsample", dict(scale_factor=1.5, mode="bicubic", align_corners=True), (1, 2, 3, 4)),
    ("Upsample", dict(size=7, mode="linear"), (2, 3, 4)), ("UpsamplingNearest2d", dict(scale_factor=3), (1, 2, 3, 2)),
    ("UpsamplingBilinear2d", dict(size=(5, 4)), (1, 2, 3, 2)), ("UpsamplingBilinear2d", dict(scale_factor=2),
                                                                (2, 1, 3, 3))])
def test_upsample_modules(name, kw, xs):
    m, tm = getattr(cr.nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(m) == repr(tm)
    compare(lambda x: m(x), lambda x: tm(x), [randn(*xs)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_shuffle(dtype):
    x = randn(2, 18, 3, 4, dtype=dtype)
    check(lambda L, x: Fn(L).pixel_shuffle(x, 3), x)
    check(lambda L, x: Fn(L).pixel_unshuffle(x, 2), randn(2, 3, 4, 6, dtype=dtype))
    check(lambda L, x: Fn(L).pixel_shuffle(x, 2), randn(8, 2, 3, dtype=dtype))
    check(lambda L, x: Fn(L).pixel_unshuffle(x, 2), randn(2, 2, 3, 4, 2, dtype=dtype))
    for name, r in (("PixelShuffle", 3), ("PixelUnshuffle", 3)):
        m, tm = getattr(cr.nn, name)(r), getattr(torch.nn, name)(r)
        assert repr(m) == repr(tm)
        y = x if name == "PixelShuffle" else randn(2, 2, 6, 9)
        compare(lambda x: m(x), lambda x: tm(x), [y])
    for L in (cr, torch):
        with pytest.raises(RuntimeError):
            Fn(L).pixel_shuffle(L.randn(2, 5, 3, 3), 2)
        with pytest.raises(RuntimeError):
            Fn(L).pixel_unshuffle(L.randn(2, 5, 3, 4), 2)
        with pytest.raises(RuntimeError):
            Fn(L).pixel_shuffle(L.randn(4, 3), 2)


# ---- grid_sample / affine_grid ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid(align, dtype):
    check(lambda L, t: Fn(L).affine_grid(t, [2, 3, 4, 5], align_corners=align), randn(2, 2, 3, dtype=dtype))
    check(lambda L, t: Fn(L).affine_grid(t, [1, 3, 2, 4, 3], align_corners=align), randn(1, 3, 4, dtype=dtype))
    check(lambda L, t: Fn(L).affine_grid(t, [1, 1, 1, 3], align_corners=align), randn(1, 2, 3, dtype=dtype))
    for L in (cr, torch):
        with pytest.raises(ValueError):
            Fn(L).affine_grid(L.randn(2, 3, 3), [2, 3, 4, 5])
        with pytest.raises(ValueError):
            Fn(L).affine_grid(L.randn(2, 2, 3), [2, 3, 0, 5])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample(mode, padding_mode, align, dtype):
    x = randn(2, 3, 4, 5, dtype=dtype)
    # coordinates inside and well outside [-1, 1], away from cell borders (nearest's rounding, floor's kinks)
    grid = (RNG.integers(-30, 30, (2, 3, 6, 2)) / 10 + 0.013).astype(dtype)
    check(lambda L, x, g: Fn(L).grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=align),
          x, grid)


def test_grid_sample_gradcheck_and_errors():
    x = cr.tensor(randn(1, 2, 3, 4), requires_grad=True)
    g = cr.tensor(RNG.uniform(-1.3, 1.3, (1, 2, 3, 2)) + 0.001, requires_grad=True)
    for pm in ("zeros", "border", "reflection"):
        assert cr.autograd.gradcheck(lambda x, g: F.grid_sample(x, g, padding_mode=pm, align_corners=False), (x, g))
    for L in (cr, torch):
        with pytest.raises(ValueError):
            Fn(L).grid_sample(L.randn(1, 2, 3, 4), L.randn(1, 2, 2, 2), mode="area")
        with pytest.raises(ValueError):
            Fn(L).grid_sample(L.randn(1, 2, 3, 4), L.randn(1, 2, 2, 2), padding_mode="wrap")
        with pytest.raises(RuntimeError):
            Fn(L).grid_sample(L.randn(1, 2, 3, 4), L.randn(2, 2, 2, 2))
        with pytest.raises(RuntimeError):
            Fn(L).grid_sample(L.randn(1, 2, 3, 4), L.randn(1, 2, 2, 3))


def test_dcgan_generator_trains_like_torch():
    """A small generator: ConvTranspose2d + BatchNorm2d + ReLU, one step's gradients as torch's."""
    def build(L):
        nn = L.nn
        return nn.Sequential(nn.ConvTranspose2d(8, 6, 4, 1, 0, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                             nn.ConvTranspose2d(6, 3, 4, 2, 1, bias=False), nn.Tanh())
    tm, cm = build(torch).double(), build(cr).double()
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    compare(lambda z: cm(z), lambda z: tm(z), [randn(4, 8, 1, 1)])
    for (k, p), (_, q) in zip(cm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=k)


def test_integer_inputs_and_nan_grid():
    xi = RNG.integers(0, 9, (1, 2, 3, 4))
    for L in (cr, torch):
        for fn in (lambda x: Fn(L).interpolate(x, scale_factor=2), lambda x: Fn(L).adaptive_avg_pool2d(x, 2),
                   lambda x: Fn(L).interpolate(x, size=(5, 5), mode="bilinear"), lambda x: Fn(L).unfold(x, 2),
                   lambda x: Fn(L).fold(x.reshape(1, 4, 6)[:, :, :4], (3, 3), 2)):
            with pytest.raises(NotImplementedError):
                fn(L.tensor(xi))
    out = F.interpolate(cr.tensor(xi.astype(np.uint8)), scale_factor=2)
    ref = TF.interpolate(torch.tensor(xi.astype(np.uint8)), scale_factor=2)
    assert out.dtype == cr.uint8
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    x, g = randn(1, 1, 3, 3), np.full((1, 1, 2, 2), np.nan)
    for mode in ("bilinear", "nearest"):
        check(lambda L, x, g: Fn(L).grid_sample(x, g, mode=mode, align_corners=False), x, g, grad=False)


def test_adaptive_max_pool3d_and_max_unpool1d():
    x = distinct(2, 2, 5, 4, 6)
    for size in ((2, 3, 4), 3, (None, 2, 5)):
        check(lambda L, x: Fn(L).adaptive_max_pool3d(x, size), x)
        np.testing.assert_array_equal(F.adaptive_max_pool3d(cr.tensor(x), size, True)[1].numpy(),
                                      TF.adaptive_max_pool3d(torch.tensor(x), size, True)[1].numpy())
        check(lambda L, x: Fn(L).adaptive_avg_pool3d(x, size), x)
    m, tm = cr.nn.AdaptiveMaxPool3d(2, return_indices=True), torch.nn.AdaptiveMaxPool3d(2, return_indices=True)
    assert repr(m) == repr(tm)
    y = distinct(2, 3, 9)
    out, idx = F.max_pool1d(cr.tensor(y), 2, return_indices=True)
    tout, tidx = TF.max_pool1d(torch.tensor(y), 2, return_indices=True)
    um, tum = cr.nn.MaxUnpool1d(2), torch.nn.MaxUnpool1d(2)
    assert repr(um) == repr(tum)
    compare(lambda v: um(v, idx, output_size=[9]), lambda v: tum(v, tidx, output_size=[9]), [randn(2, 3, 4)])
    compare(lambda v: F.max_unpool1d(v, idx, 2), lambda v: TF.max_unpool1d(v, tidx, 2), [randn(2, 3, 4)])


def test_dcgan_bench_script_runs(capsys):
    """bench/dcgan_step.py at a tiny size: its --check (same loss and gradients as torch) passes."""
    from bench import dcgan_step
    ours, theirs = dcgan_step.main(["--tiny"])
    assert ours > 0 and theirs > 0 and "ratio" in capsys.readouterr().out


def test_adaptive_max_nan_and_inf_like_torch():
    x = np.array([[[[1.0, np.nan, 2.0, np.nan, 0.0], [np.nan, 5.0, -np.inf, 1.0, 3.0],
                    [-np.inf, -np.inf, -np.inf, 2.0, 2.0]]]])
    for size in ((2, 3), (1, 2), (3, 5), (2, 2)):
        out, idx = F.adaptive_max_pool2d(cr.tensor(x), size, return_indices=True)
        tout, tidx = TF.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), tout.numpy())
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
