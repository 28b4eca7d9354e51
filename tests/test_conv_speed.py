"""conv2d's chunked im2col + GEMM kernels (chainrule/backend/conv.py, issue 16) against torch: each
path (flat / strided im2col; dx as a convolution of g / as col2im, flat and strided) on the
shapes it is chosen for (LeNet-5's and ResNet-small's layers, depthwise, dilated, asymmetric
'same' padding), in one chunk and in several with a remainder, float32 and float64, values and
gradients; float64 gradcheck; the logged choice of path."""
import logging

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.backend import conv
from tests.helpers import compare

RNG = np.random.default_rng(16)

# name: (x shape, weight shape, kwargs, dx path)  (sizes cut down from the networks' layers)
CASES = {
    "lenet c1: flat, pad 2, dx col2im": ((5, 1, 12, 12), (6, 1, 5, 5), dict(padding=2), "col2im"),
    "lenet c2: flat, valid, dx col2im": ((5, 6, 9, 9), (16, 6, 5, 5), {}, "col2im"),
    "resnet 3x3: flat, dx conv": ((5, 8, 8, 8), (8, 8, 3, 3), dict(padding=1), "conv"),
    "resnet stem: flat, 3 -> 8, dx col2im": ((5, 3, 8, 8), (8, 3, 3, 3), dict(padding=1), "col2im"),
    "resnet 3x3/2: strided, dx col2im": ((5, 4, 8, 8), (8, 4, 3, 3), dict(stride=2, padding=1), "col2im"),
    "resnet 1x1/2: strided": ((5, 4, 8, 8), (8, 4, 1, 1), dict(stride=2), "col2im"),
    "dilated 3x3, stride 1, dx conv": ((5, 4, 9, 9), (4, 4, 3, 3), dict(padding=2, dilation=2), "conv"),
    "dilated strided, bias": ((5, 4, 11, 10), (6, 4, 3, 3), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
                              "col2im"),
    "depthwise, dx conv": ((5, 6, 7, 7), (6, 1, 3, 3), dict(padding=1, groups=6), "conv"),
    "grouped strided": ((5, 4, 7, 7), (6, 2, 3, 3), dict(stride=2, padding=1, groups=2), "col2im"),
    "same, even kernel (asymmetric)": ((5, 3, 7, 6), (4, 3, 4, 2), dict(padding="same"), "conv"),
    "stride 1 not flat (wide kernel), dx conv": ((5, 4, 8, 8), (4, 4, 7, 7), {}, "conv"),
    "stride 1 not flat, dx col2im": ((5, 2, 8, 8), (6, 2, 7, 7), {}, "col2im"),
}


@pytest.fixture(params=["one chunk", "chunks of 2"])
def chunking(request, monkeypatch):
    if request.param == "chunks of 2":  # 5 images: chunks of 2, 2 and 1
        monkeypatch.setattr(conv, "_chunk_images", lambda xp, per_image: 2)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(CASES))
def test_paths_match_torch(name, dtype, chunking, caplog):
    xs, ws, kw, dx_path = CASES[name]
    x = RNG.standard_normal(xs).astype(dtype)
    w = (RNG.standard_normal(ws) / np.sqrt(np.prod(ws[1:]))).astype(dtype)
    b = RNG.standard_normal(ws[0]).astype(dtype)
    with caplog.at_level(logging.DEBUG, logger="chainrule.conv"):
        compare(lambda x, w, b: cr.nn.functional.conv2d(x, w, b, **kw),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw), [x, w, b])
    took_conv = any("dx as a convolution" in r.getMessage() for r in caplog.records)
    assert took_conv == (dx_path == "conv"), caplog.text


def test_noncontiguous_input_and_gradient():
    x = RNG.standard_normal((9, 8, 4, 5)).transpose(3, 1, 2, 0).astype(np.float32)  # (5, 8, 4, 9) view
    w = RNG.standard_normal((8, 8, 3, 3)).astype(np.float32) * 0.2
    compare(lambda x, w: cr.nn.functional.conv2d(x.transpose(2, 3), w, padding=1).transpose(1, 3),
            lambda x, w: torch.nn.functional.conv2d(x.transpose(2, 3), w, padding=1).transpose(1, 3), [x, w])


def test_no_input_gradient_and_batch_of_zero():
    x, w = RNG.standard_normal((3, 4, 6, 6)), RNG.standard_normal((4, 4, 3, 3))
    cw, tw = cr.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    cr.nn.functional.conv2d(cr.tensor(x), cw, padding=1).sum().backward()
    torch.nn.functional.conv2d(torch.tensor(x), tw, padding=1).sum().backward()
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-7)
    compare(lambda x, w: cr.nn.functional.conv2d(x, w, padding=1),
            lambda x, w: torch.nn.functional.conv2d(x, w, padding=1), [np.zeros((0, 4, 6, 6)), w])


def test_nan_weight_takes_col2im_for_dx(caplog):
    x, w = RNG.standard_normal((2, 2, 5, 5)), RNG.standard_normal((2, 2, 3, 3))
    w[0, 1, 1, 1] = np.nan
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = RNG.standard_normal((2, 2, 3, 3))
    with caplog.at_level(logging.DEBUG, logger="chainrule.conv"):
        cr.nn.functional.conv2d(cx, cr.tensor(w)).backward(cr.tensor(g))
    torch.nn.functional.conv2d(tx, torch.tensor(w)).backward(torch.tensor(g))
    assert "dx as a convolution" not in caplog.text
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-7)  # nan exactly where torch's


@pytest.mark.parametrize("name", ["lenet c2: flat, valid, dx col2im", "resnet 3x3: flat, dx conv",
                                  "dilated strided, bias", "depthwise, dx conv"])
def test_gradcheck(name, chunking):
    xs, ws, kw, _ = CASES[name]
    xs = (3,) + xs[1:]
    x = cr.tensor(RNG.standard_normal(xs), requires_grad=True)
    w = cr.tensor(RNG.standard_normal(ws), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w: cr.nn.functional.conv2d(x, w, **kw), (x, w))


def test_channel_mismatch_raises_like_torch():
    x, w = np.zeros((2, 3, 8, 8), np.float32), np.zeros((4, 2, 3, 3), np.float32)
    with pytest.raises(RuntimeError):
        torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w))
    with pytest.raises(RuntimeError, match="channels"):
        cr.nn.functional.conv2d(cr.tensor(x), cr.tensor(w))


def test_input_written_in_place_after_forward_raises_like_torch():
    """Backward reads the saved input itself (no padded copy): writing it first raises, as in torch."""
    for L in (cr, torch):
        a = L.tensor(RNG.standard_normal((2, 3, 6, 6)), requires_grad=True)
        w = L.tensor(RNG.standard_normal((4, 3, 3, 3)), requires_grad=True)
        x = a * 1.0
        y = L.nn.functional.conv2d(x, w, padding=1)
        x.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
