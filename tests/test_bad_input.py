"""Bad arguments to layers and utilities fail like torch: at the same point (construction or
forward), with the same exception type, and with a message naming the module/function and the
offending value."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import compare


def _outcome(make, x):
    """('ctor' | 'forward' | 'ok', exception type or None, message) of building and running a module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-element weights: both warn
        try:
            m = make()
        except Exception as e:
            return "ctor", type(e), str(e)
        try:
            m(x)
        except Exception as e:
            return "forward", type(e), str(e)
    return "ok", None, ""


def _like_torch(make, shape, name, words):
    """``make(nn)`` fails in chainrule where and as it fails in torch; the message names ``name``
    and contains every string in ``words``."""
    x = np.zeros(shape, np.float32)
    t_when, t_type, t_msg = _outcome(lambda: make(torch.nn), torch.tensor(x))
    c_when, c_type, c_msg = _outcome(lambda: make(cr.nn), cr.tensor(x))
    assert t_when != "ok", "torch accepts this: not a bad-input case"
    assert (c_when, c_type) == (t_when, t_type), f"torch: {t_when} {t_type.__name__}: {t_msg}\nchainrule: " \
                                                 f"{c_when} {c_type and c_type.__name__}: {c_msg}"
    assert name in c_msg, c_msg
    for w in words:
        assert w in c_msg, (w, c_msg)


# ---- Conv2d ----------------------------------------------------------------------------------------
CONV_CASES = [  # (Conv2d(3, 6, **kw), words the message must contain)
    (dict(kernel_size=0), ["kernel size", "(0, 0)"]),                 # was ZeroDivisionError at construction
    (dict(kernel_size=(0, 3)), ["kernel size", "(0, 3)"]),
    (dict(kernel_size=-1), ["negative", "kernel_size=(-1, -1)"]),
    (dict(kernel_size=(3, -2)), ["negative", "(3, -2)"]),
    (dict(kernel_size=2.5), ["kernel_size", "2.5"]),
    (dict(kernel_size="3"), ["kernel_size", "'3'"]),
    (dict(kernel_size=(1, 2, 3)), ["kernel_size", "(1, 2, 3)"]),
    (dict(kernel_size=3, stride=0), ["stride", "(0, 0)"]),
    (dict(kernel_size=3, stride=-1), ["stride", "(-1, -1)"]),
    (dict(kernel_size=3, stride=(1, 0)), ["stride", "(1, 0)"]),
    (dict(kernel_size=3, stride=1.5), ["stride", "1.5"]),
    (dict(kernel_size=3, stride=(1, 2, 3)), ["stride", "(1, 2, 3)"]),
    (dict(kernel_size=3, padding=-1), ["padding", "(-1, -1)"]),
    (dict(kernel_size=3, padding=(0, -2)), ["padding", "(0, -2)"]),
    (dict(kernel_size=3, padding=1.5), ["padding", "1.5"]),
    (dict(kernel_size=3, padding="bogus"), ["padding", "'bogus'"]),
    (dict(kernel_size=3, padding="same", stride=2), ["padding='same'", "stride=(2, 2)"]),
    (dict(kernel_size=3, dilation=0), ["dilation", "(0, 0)"]),
    (dict(kernel_size=3, dilation=-1), ["dilation", "(-1, -1)"]),
    (dict(kernel_size=3, padding="same", dilation=0), ["dilation", "(0, 0)"]),
    (dict(kernel_size=3, groups=0), ["groups", "groups=0"]),           # was ZeroDivisionError
    (dict(kernel_size=3, groups=-1), ["groups", "groups=-1"]),
    (dict(kernel_size=3, groups=2), ["in_channels", "divisible by groups", "groups=2"]),
    (dict(kernel_size=3, groups=1.5), ["groups", "1.5"]),
    (dict(kernel_size=3, padding_mode="bogus"), ["padding_mode", "'bogus'"]),
]


@pytest.mark.parametrize("kw, words", CONV_CASES, ids=[repr(kw) for kw, _ in CONV_CASES])
def test_conv2d_bad_arguments_like_torch(kw, words):
    _like_torch(lambda nn: nn.Conv2d(3, 6, **kw), (1, 3, 8, 8), "Conv2d", words)


@pytest.mark.parametrize("args, words", [
    ((0, 6, 3), ["0 channels"]),                       # builds (zero-element weight), fails on a 3-channel input
    ((3, 0, 3), ["at least 1 at dimension 0", "[0, 3, 3, 3]"]),
    ((-1, 6, 3), ["negative", "in_channels=-1"]),
    ((3, -6, 3), ["negative", "out_channels=-6"]),
    ((3, 4, 3, 1, 0, 1, 3), ["out_channels", "divisible by groups", "groups=3"]),
    ((3.0, 6, 3), ["in_channels", "3.0"]),
])
def test_conv2d_bad_channels_like_torch(args, words):
    _like_torch(lambda nn: nn.Conv2d(*args), (1, 3, 8, 8), "Conv2d", words)


def test_conv2d_attributes_changed_after_construction_are_checked():
    conv = cr.nn.Conv2d(3, 4, 3)
    conv.stride = 0
    with pytest.raises(RuntimeError, match=r"Conv2d: non-positive stride.*stride=0"):
        conv(cr.zeros(1, 3, 8, 8))
    conv.stride, conv.padding = 1, (-1, 2)
    with pytest.raises(RuntimeError, match=r"Conv2d: negative padding.*\(-1, 2\)"):
        conv(cr.zeros(1, 3, 8, 8))


def test_zero_element_weights_build_like_torch():
    """torch builds Conv2d(3, 4, 0) / Linear(0, 5) with a warning (nothing to initialise) instead of
    failing; chainrule raised ZeroDivisionError from the init."""
    for make in [lambda nn: nn.Conv2d(3, 4, 0), lambda nn: nn.Linear(0, 5), lambda nn: nn.Linear(5, 0),
                 lambda nn: nn.Conv2d(0, 4, 3)]:
        with pytest.warns(UserWarning, match="zero-element"):
            t = make(torch.nn)
        with pytest.warns(UserWarning, match="zero-element"):
            c = make(cr.nn)
        assert c.weight.shape == tuple(t.weight.shape)
    with pytest.warns(UserWarning):
        lin = cr.nn.Linear(0, 3)
    assert lin(cr.zeros(2, 0)).shape == (2, 3)


@pytest.mark.parametrize("kernel, dilation", [(4, 1), (2, 3), ((2, 3), 1), ((4, 5), (1, 2)), (3, 2), (1, 1)])
def test_conv2d_padding_same_matches_torch(kernel, dilation):
    """padding='same' with an even total padding d*(k-1) pads one more row/column at the bottom/right,
    as torch does (chainrule used to pad symmetrically and return a smaller output)."""
    t = torch.nn.Conv2d(3, 4, kernel, padding="same", dilation=dilation)
    c = cr.nn.Conv2d(3, 4, kernel, padding="same", dilation=dilation)
    c.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 9)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "padding='same' with even kernel lengths ... zero-padded copy"
        compare(c, t, [x])
        compare(c, t, [x[0]])  # unbatched
    assert repr(c) == repr(t)
    assert repr(cr.nn.Conv2d(3, 4, 3, padding="valid")) == repr(torch.nn.Conv2d(3, 4, 3, padding="valid"))


# ---- MaxPool2d / AvgPool2d -----------------------------------------------------------------------------
POOL_CASES = [  # (args, kwargs, words); torch builds every one and fails in forward
    ((0,), {}, ["kernel", "0"]),                          # was ZeroDivisionError
    (((0, 2),), {}, ["kernel", "(0, 2)"]),
    ((-1,), {}, ["kernel", "-1"]),
    ((2,), dict(stride=0), ["stride", "0"]),              # was ZeroDivisionError
    ((2,), dict(stride=(2, 0)), ["stride", "(2, 0)"]),
    ((2,), dict(stride=-1), ["stride", "-1"]),
    ((2,), dict(padding=-1), ["pad", "-1"]),              # was ValueError from NumPy
    ((2.5,), {}, ["kernel_size", "2.5"]),
    (("2",), {}, ["kernel_size", "'2'"]),
    ((True,), {}, ["kernel_size", "True"]),
    ((2,), dict(stride=1.5), ["stride", "1.5"]),
    ((2,), dict(padding=True), ["padding", "True"]),
    (((1, 2, 3),), {}, ["kernel_size", "(1, 2, 3)"]),
    ((2,), dict(stride=(1, 2, 3)), ["stride", "(1, 2, 3)"]),
    ((2,), dict(padding=(1, 1, 1)), ["padding", "(1, 1, 1)"]),
]
MAXPOOL_ONLY = [
    ((2,), dict(dilation=0), ["dilation", "0"]),          # was silently accepted
    ((2,), dict(dilation=-1), ["dilation", "-1"]),
    ((2,), dict(dilation=1.5), ["dilation", "1.5"]),
]


@pytest.mark.parametrize("args, kw, words", POOL_CASES + MAXPOOL_ONLY,
                         ids=[f"{a}{k}" for a, k, _ in POOL_CASES + MAXPOOL_ONLY])
def test_maxpool2d_bad_arguments_like_torch(args, kw, words):
    _like_torch(lambda nn: nn.MaxPool2d(*args, **kw), (1, 3, 8, 8), "MaxPool2d", words)


@pytest.mark.parametrize("args, kw, words", POOL_CASES, ids=[f"{a}{k}" for a, k, _ in POOL_CASES])
def test_avgpool2d_bad_arguments_like_torch(args, kw, words):
    _like_torch(lambda nn: nn.AvgPool2d(*args, **kw), (1, 3, 8, 8), "AvgPool2d", words)


def test_pool_arguments_torch_accepts_still_work():
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 9)).astype(np.float32)
    for make in [lambda nn: nn.MaxPool2d(np.int64(2)), lambda nn: nn.MaxPool2d([2, 3], stride=[]),
                 lambda nn: nn.MaxPool2d((2,), stride=(1,), padding=(1,), dilation=(2,)),
                 lambda nn: nn.AvgPool2d([3, 2], stride=None, padding=[1, 0])]:
        compare(make(cr.nn), make(torch.nn), [x])


# ---- clip_grad_norm_ ---------------------------------------------------------------------------------------
def _grads(lib, nn):
    a = nn.Parameter(lib.tensor([3.0, -4.0, 0.0]))
    b = nn.Parameter(lib.tensor([[1.0, 2.0], [0.0, -2.0]]))
    a.grad, b.grad = lib.tensor([3.0, -4.0, 0.0]), lib.tensor([[1.0, 2.0], [0.0, -2.0]])
    return [a, b]


def _clip_outcome(lib, nn, *args, grads=True, **kw):
    params = _grads(lib, nn) if grads else []
    try:
        total = nn.utils.clip_grad_norm_(params, *args, **kw)
    except Exception as e:
        return type(e), str(e), None
    return None, float(total), [p.grad.numpy().copy() for p in params]


@pytest.mark.parametrize("grads", [True, False], ids=["grads", "no_grads"])
@pytest.mark.parametrize("arg, value, exc", [
    ("max_norm", "x", ValueError), ("max_norm", None, TypeError), ("max_norm", [1.0], TypeError),
    ("max_norm", 1 + 2j, TypeError), ("max_norm", "tensor2", ValueError),
    ("norm_type", "x", ValueError), ("norm_type", None, TypeError), ("norm_type", [2], TypeError),
    ("norm_type", "tensor2", ValueError),
])
def test_clip_grad_norm_bad_argument_types_like_torch(arg, value, exc, grads):
    def args(lib):
        v = lib.tensor([1.0, 2.0]) if value == "tensor2" else value
        return dict(max_norm=v) if arg == "max_norm" else dict(max_norm=1.0, norm_type=v)
    t_exc, t_msg, _ = _clip_outcome(torch, torch.nn, grads=grads, **args(torch))
    c_exc, c_msg, _ = _clip_outcome(cr, cr.nn, grads=grads, **args(cr))
    assert t_exc is exc and c_exc is exc, (t_msg, c_msg)
    assert "clip_grad_norm_" in c_msg and arg in c_msg, c_msg
    assert (repr(value) if value != "tensor2" else "[2]") in c_msg, c_msg


@pytest.mark.parametrize("max_norm, norm_type", [
    ("1.5", 2.0), (-1.0, 2.0), (0.0, 2.0), (math.nan, 2.0), (math.inf, 2.0), ("inf", 1.0), ("tensor", 2.0),
    (np.float32(1.0), 2.0), (True, 2.0),
    (1.0, "inf"), (1.0, "-inf"), (1.0, -math.inf), (1.0, "2"), (1.0, 0), (1.0, 0.0), (1.0, -1), (1.0, -2.5),
    (1.0, math.nan), (1.0, 0.5), (1.0, True), (1.0, "tensor"),
])
def test_clip_grad_norm_accepts_what_torch_accepts(max_norm, norm_type):
    """Values torch accepts give torch's total norm and clipped gradients (norm_type 0 counts the
    gradients with a nonzero entry; negative and NaN max_norm/norm_type propagate as in torch)."""
    def conv(lib, v):
        return lib.tensor(2.0) if v == "tensor" else v
    ref = _clip_outcome(torch, torch.nn, conv(torch, max_norm), conv(torch, norm_type))
    out = _clip_outcome(cr, cr.nn, conv(cr, max_norm), conv(cr, norm_type))
    assert ref[0] is None and out[0] is None, (ref, out)
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-6)
    for c, t in zip(out[2], ref[2]):
        np.testing.assert_allclose(c, t, rtol=1e-6, atol=0)


def test_clip_grad_norm_non_finite_and_empty_generator():
    p = cr.nn.Parameter(cr.ones(2))
    p.grad = cr.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):  # torch checks this before max_norm
        cr.nn.utils.clip_grad_norm_([p], "x", error_if_nonfinite=True)
    with pytest.warns(UserWarning, match="empty generator"):
        torch.nn.utils.clip_grad_norm_((q for q in []), 1.0)
    with pytest.warns(UserWarning, match="empty generator"):
        assert cr.nn.utils.clip_grad_norm_((q for q in []), 1.0).item() == 0.0


@pytest.mark.parametrize("convert", [float, int])
def test_python_scalar_of_many_elements_raises_value_error_like_torch(convert):
    for lib in (cr, torch):
        with pytest.raises(ValueError, match="only one element tensors"):
            convert(lib.ones(2))


@pytest.mark.parametrize("init", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_on_zero_element_tensor_warns_and_leaves_it(init):
    for lib in (cr, torch):
        t = lib.empty(0, 3)
        with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
            assert getattr(lib.nn.init, init)(t) is t


FUNCTIONAL_BAD_ARGS = {
    "max_pool2d kernel 0": lambda L, x: L.nn.functional.max_pool2d(x, 0),
    "max_pool2d stride 0": lambda L, x: L.nn.functional.max_pool2d(x, 2, 0),
    "max_pool2d stride -1": lambda L, x: L.nn.functional.max_pool2d(x, 2, -1),
    "max_pool2d padding -1": lambda L, x: L.nn.functional.max_pool2d(x, 2, 2, -1),
    "max_pool2d dilation 0": lambda L, x: L.nn.functional.max_pool2d(x, 2, 2, 0, 0),
    "max_pool2d float kernel": lambda L, x: L.nn.functional.max_pool2d(x, 2.5),
    "max_pool2d 3 sizes": lambda L, x: L.nn.functional.max_pool2d(x, (2, 2, 2)),
    "avg_pool2d kernel 0": lambda L, x: L.nn.functional.avg_pool2d(x, 0),
    "avg_pool2d padding -1": lambda L, x: L.nn.functional.avg_pool2d(x, 2, 2, -1),
    "avg_pool2d float kernel": lambda L, x: L.nn.functional.avg_pool2d(x, 2.5),
    "conv2d groups 0": lambda L, x: L.nn.functional.conv2d(x, L.ones(1, 1, 3, 3), groups=0),
    "conv2d 0x0 kernel": lambda L, x: L.nn.functional.conv2d(x, L.ones(1, 1, 0, 0)),
    "conv2d float stride": lambda L, x: L.nn.functional.conv2d(x, L.ones(1, 1, 3, 3), stride=1.5),
}


@pytest.mark.parametrize("case", FUNCTIONAL_BAD_ARGS)
def test_functional_conv_and_pool_bad_arguments_raise_like_torch(case):
    raised = []
    for lib in (cr, torch):
        with pytest.raises((RuntimeError, TypeError, ValueError)) as info:
            FUNCTIONAL_BAD_ARGS[case](lib, lib.ones(1, 1, 6, 6))
        raised.append(type(info.value))
    assert raised[0] is raised[1], raised


def test_pool_kernel_as_one_tuple_like_torch():
    x = np.random.default_rng(0).standard_normal((1, 1, 6, 6)).astype(np.float32)
    compare(lambda t: F_cr.max_pool2d(t, (2,)), lambda t: torch.nn.functional.max_pool2d(t, (2,)), [x])


F_cr = cr.nn.functional
