"""conv2d's chunked im2col + GEMM kernels (chainrule/backend/conv.py, issue 16) against torch: each
path (im2col; dx as a convolution of g / as col2im; dW image by
image where C kh kw <= 72) on the shapes it is chosen for (LeNet-5's and ResNet-small's layers,
depthwise, dilated, asymmetric 'same' padding), in one chunk and in several with a remainder spread
over two threads, float32 and float64, values and gradients; a grid of groups, dilations, strides and
paddings; float64 gradcheck; the logged choice of path; threads giving the same bits as one; the
compiled kernels (numba: batch norm, 2x2 max pooling, im2col, col2im, the Winograd F(2x2, 3x3) transforms for 3x3
stride-1 convolutions of 8+ channels) and their NumPy fallback (CHAINRULE_NUMBA=0), which runs im2col."""
import logging

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.backend import NP, blas, conv
from tests.helpers import compare

RNG = np.random.default_rng(16)
# dW sums hundreds of products of size ~1 in another order than torch: float32 needs atol ~ 1e-4
TOL = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-7, atol=1e-9)}

# name: (x shape, weight shape, kwargs, dx path)  (sizes cut down from the networks' layers)
CASES = {
    "lenet c1: one channel, pad 2, dx col2im": ((5, 1, 12, 12), (6, 1, 5, 5), dict(padding=2), "col2im"),
    "lenet c2: valid, dx col2im": ((5, 6, 14, 14), (16, 6, 5, 5), {}, "col2im"),
    "resnet 3x3: dx conv": ((5, 6, 10, 10), (6, 6, 3, 3), dict(padding=1), "conv"),
    "resnet 3x3 on 8x8: dx conv": ((5, 6, 8, 8), (6, 6, 3, 3), dict(padding=1), "conv"),
    "resnet stem: 3 -> 8, dx col2im": ((5, 3, 10, 10), (8, 3, 3, 3), dict(padding=1), "col2im"),
    "resnet 3x3/2: dx col2im": ((5, 4, 8, 8), (8, 4, 3, 3), dict(stride=2, padding=1), "col2im"),
    "resnet 1x1/2": ((5, 4, 8, 8), (8, 4, 1, 1), dict(stride=2), "col2im"),
    "dilated 3x3, dx conv": ((5, 4, 10, 10), (4, 4, 3, 3), dict(padding=2, dilation=2), "conv"),
    "dilated and strided, bias": ((5, 4, 11, 10), (6, 4, 3, 3), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
                              "col2im"),
    "depthwise: direct, dx conv (direct)": ((5, 6, 10, 10), (6, 1, 3, 3), dict(padding=1, groups=6), "conv"),
    "grouped and strided": ((5, 4, 7, 7), (6, 2, 3, 3), dict(stride=2, padding=1, groups=2), "col2im"),
    "same, even kernel (asymmetric padding)": ((5, 3, 7, 12), (4, 3, 4, 2), dict(padding="same"), "conv"),
    "stride 1, wide kernel, dx conv": ((5, 4, 8, 8), (4, 4, 7, 7), {}, "conv"),
    "stride 1, dx col2im": ((5, 2, 8, 8), (6, 2, 7, 7), {}, "col2im"),
    "stride (1, 2), dilation (2, 1)": ((5, 3, 9, 11), (4, 3, 3, 3),
                                       dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1)), "col2im"),
}


@pytest.fixture(params=["one chunk, one thread", "chunks of 2 in 2 threads"])
def chunking(request, monkeypatch):
    """5 images in one chunk, or in chunks of 2, 2 and 1 spread over two threads (ranges 0-4 and 4-5)."""
    monkeypatch.setattr(conv, "_blas_threads", lambda: 1)
    if request.param != "one chunk, one thread":
        monkeypatch.setattr(conv, "_chunk_images", lambda xp, per_image: 2)
        monkeypatch.setattr(conv, "_blas_threads", lambda: 2)
        monkeypatch.setattr(conv, "MIN_THREAD_FLOPS", 0)
        monkeypatch.setattr(conv, "MIN_THREAD_BYTES", 0)
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
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw), [x, w, b], tol=TOL[dtype])
    took_conv = any("dx as a convolution" in r.getMessage() for r in caplog.records)
    assert took_conv == (dx_path == "conv"), caplog.text
    layout = next(r.getMessage() for r in caplog.records if "im2col + GEMM" in r.getMessage()
                  or ": direct" in r.getMessage())
    assert (": direct" in layout) == ("direct" in name), layout
    dw_path = next((r.getMessage() for r in caplog.records if "backward:" in r.getMessage()), "dW direct")
    assert ("dW image by image" in dw_path) == (kw.get("groups", 1) == 1 and np.prod(ws[1:]) <= conv.PER_IMAGE_MAX_K)


@pytest.mark.parametrize("cn", [False, True])
@pytest.mark.parametrize("spec", [((3, 2, 7, 9), (4, 2, 3, 3), (1, 1), (1, 1), (1, 1), (1, 1), 1),
                                  ((3, 4, 8, 8), (6, 4, 3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1),
                                  ((2, 3, 11, 10), (5, 3, 3, 3), (2, 1), (1, 2), (1, 2), (2, 1), 1),
                                  ((2, 4, 7, 12), (4, 4, 4, 2), (1, 1), (1, 0), (2, 1), (1, 1), 1),
                                  ((3, 4, 7, 7), (6, 2, 3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 2),
                                  ((2, 3, 5, 5), (2, 3, 7, 7), (1, 1), (3, 3), (3, 3), (1, 1), 1),
                                  ((2, 2, 6, 6), (2, 2, 1, 1), (3, 3), (0, 0), (0, 0), (1, 1), 1),
                                  ((2, 3, 9, 11), (4, 3, 3, 3), (1, 2), (2, 1), (0, 2), (2, 1), 1)], ids=str)
def test_compiled_im2col_matches_numpy(spec, cn):
    """The compiled im2col (zero padding included, stride, dilation, asymmetric padding,
    groups; both orientations) gives NumPy's columns bit for bit, on a chunk inside the batch."""
    xs, ws, stride, padding, pad_end, dilation, groups = spec
    x = RNG.standard_normal(xs)
    x[0, 0, 0, 0] = np.inf
    w = np.zeros(ws)
    out_hw = tuple((xs[2 + i] + padding[i] + pad_end[i] - dilation[i] * (ws[2 + i] - 1) - 1) // stride[i] + 1
                   for i in range(2))
    cols = []
    for kernels in (True, False):
        plan = conv._Plan(NP, x, w, stride, padding, pad_end, dilation, groups, out_hw)
        assert (plan.kernels is not None) == (conv._kernels(NP, x) is not None)
        if not kernels:
            plan.kernels, plan.pbuf = None, NP.scratch((plan.b,) + plan.padded[1:], x.dtype)
        cols.append(plan.im2col(NP, 1, xs[0], cn=cn).copy())
    np.testing.assert_array_equal(*cols)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[3] == "col2im"])
def test_col2im_compiled_and_numpy(name, dtype, kernels):
    """dx by col2im: the compiled kernel (a plane at a time) and NumPy's slab adds."""
    xs, ws, kw, _ = CASES[name]
    x = RNG.standard_normal(xs).astype(dtype)
    w = (RNG.standard_normal(ws) / np.sqrt(np.prod(ws[1:]))).astype(dtype)
    compare(lambda x, w: cr.nn.functional.conv2d(x, w, **kw),
            lambda x, w: torch.nn.functional.conv2d(x, w, **kw), [x, w], tol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, weight, kw", [((3, 6, 9, 11), (6, 1, 3, 3), dict(padding=1, groups=6)),
                                               ((3, 4, 8, 8), (8, 1, 5, 5), dict(padding=(2, 1), groups=4)),
                                               ((2, 6, 9, 9), (6, 2, 3, 3), dict(padding=2, dilation=2, groups=3)),
                                               ((3, 4, 7, 7), (4, 1, 2, 3), dict(padding="same", groups=4))])
def test_grouped_direct_and_numpy(shape, weight, kw, dtype, kernels, caplog):
    """Grouped stride-1 convolutions with few taps per output: the compiled direct kernel (forward, and dx as
    a convolution of g) or the NumPy im2col path; values and gradients as torch's."""
    x = RNG.standard_normal(shape).astype(dtype)
    w = (RNG.standard_normal(weight) * 0.3).astype(dtype)
    with caplog.at_level(logging.DEBUG, logger="chainrule.conv"):
        compare(lambda x, w: cr.nn.functional.conv2d(x, w, **kw),
                lambda x, w: torch.nn.functional.conv2d(x, w, **kw), [x, w], tol=TOL[dtype])
    assert (": direct" in caplog.text) == (kernels == "numba")


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


@pytest.mark.parametrize("bad", ["x", "w"])
def test_backward_with_inf_or_nan_matches_torch(bad, caplog):
    """inf in x, nan in W through dW's columns and dx's col2im: gradients nan/inf exactly where torch's are."""
    x, w = RNG.standard_normal((2, 3, 14, 14)), RNG.standard_normal((8, 3, 5, 5))  # dx by col2im
    if bad == "x":
        x[0, 1, 3, 12] = np.inf
        x[1, 2, 9, 13] = -np.inf
    else:
        w[2, 1, 2, 2] = np.nan
    g = RNG.standard_normal((2, 8, 10, 10))
    grads = []
    for lib in (cr, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        with caplog.at_level(logging.DEBUG, logger="chainrule.conv"):
            lib.nn.functional.conv2d(a, b).backward(lib.tensor(g))
        grads.append((a.grad.numpy(), b.grad.numpy()))
    assert "dx by col2im" in caplog.text
    for ours, theirs in zip(*grads):
        assert np.array_equal(np.isnan(ours), np.isnan(theirs))
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-12)
    (dx, dw), _ = grads
    assert np.isfinite(dx).all() == (bad == "x") and np.isfinite(dw).all() == (bad == "w")


@pytest.mark.parametrize("name", ["lenet c2: valid, dx col2im", "resnet 3x3: dx conv",
                                  "dilated and strided, bias", "depthwise: direct, dx conv (direct)"])
def test_gradcheck(name):
    xs, ws, kw, _ = CASES[name]
    xs = (1,) + xs[1:]
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


# ---- groups and dilation over a grid; threads; the compiled batch norm (numba on and off) ----------

GRID = [  # (C, O, kernel, stride, padding, dilation, groups)
    (4, 4, 3, 1, 1, 1, 4), (6, 6, 3, 2, 1, 1, 6), (4, 8, 3, 1, 2, 2, 2), (6, 3, 2, 1, 0, 3, 3),
    (4, 6, (3, 1), (2, 1), (1, 0), (2, 1), 2), (3, 4, 5, 2, 2, 2, 1), (8, 8, 1, 1, 0, 1, 8), (4, 4, 3, 3, 0, 1, 1),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", GRID, ids=str)
def test_groups_dilation_stride_grid(spec, dtype, chunking):
    c, o, k, stride, padding, dilation, groups = spec
    kh, kw = (k, k) if isinstance(k, int) else k
    x = RNG.standard_normal((5, c, 9, 8)).astype(dtype)
    w = RNG.standard_normal((o, c // groups, kh, kw)).astype(dtype)
    kw_ = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    compare(lambda x, w: cr.nn.functional.conv2d(x, w, **kw_), lambda x, w: torch.nn.functional.conv2d(x, w, **kw_),
            [x, w], tol=TOL[dtype])


def test_threads_are_logged(monkeypatch, caplog):
    monkeypatch.setattr(conv, "_blas_threads", lambda: 2)
    x, w = RNG.standard_normal((8, 16, 16, 16)), RNG.standard_normal((16, 16, 3, 3))
    with caplog.at_level(logging.DEBUG, logger="chainrule.conv"):
        compare(lambda x, w: cr.nn.functional.conv2d(x, w, padding=1),
                lambda x, w: torch.nn.functional.conv2d(x, w, padding=1), [x, w])
    assert "2 thread(s)" in caplog.text


@pytest.fixture(params=["numba", "numpy"])
def kernels(request, monkeypatch):
    """The compiled kernels (in two threads) or the NumPy fallback (CHAINRULE_NUMBA=0)."""
    if request.param == "numpy":
        monkeypatch.setenv("CHAINRULE_NUMBA", "0")
    else:
        monkeypatch.delenv("CHAINRULE_NUMBA", raising=False)
        monkeypatch.setattr(conv, "_blas_threads", lambda: 2)
        monkeypatch.setattr(conv, "MIN_THREAD_BYTES", 0)
    return request.param


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=2, ceil_mode=True),
                                dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=(2, 3), stride=(1, 2), dilation=2, padding=1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_matches_torch(kw, dtype, kernels):
    """Values and the gradient's routing (ties: the first maximum; nan: the last nan; all -inf: the
    window's first cell inside the input) in the compiled kernel and the NumPy path."""
    x = RNG.integers(-3, 4, (3, 4, 11, 10)).astype(dtype)
    for value, share in ((np.nan, 0.05), (np.inf, 0.03), (-np.inf, 0.3)):
        x[RNG.random(x.shape) < share] = value
    compare(lambda a: cr.nn.functional.max_pool2d(a, **kw), lambda a: torch.nn.functional.max_pool2d(a, **kw), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(6, 5, 7, 3), (4, 3), (3, 4, 10)])
def test_batch_norm_training_matches_torch(shape, affine, dtype, kernels):
    x = (RNG.standard_normal(shape) * 3 + 1).astype(dtype)
    c = shape[1]
    wb = [RNG.standard_normal(c).astype(dtype), RNG.standard_normal(c).astype(dtype)] if affine else []
    compare(lambda x, *wb: cr.nn.functional.batch_norm(x, None, None, *wb, training=True),
            lambda x, *wb: torch.nn.functional.batch_norm(x, None, None, *wb, training=True), [x] + wb)


def test_batch_norm_module_running_stats_and_block(kernels):
    """conv -> BatchNorm2d -> ReLU -> max pool, trained two steps: outputs, grads, running statistics."""
    x = RNG.standard_normal((4, 3, 10, 10)).astype(np.float32)
    nets = {}
    for L in (torch, cr):
        L.manual_seed(0)  # torch's initial weights too: unseeded, a rare draw missed the gradient tolerance
        nets[L] = L.nn.Sequential(L.nn.Conv2d(3, 8, 3, padding=1), L.nn.BatchNorm2d(8), L.nn.ReLU(), L.nn.MaxPool2d(2))
    nets[cr].load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in nets[torch].state_dict().items()})
    for _ in range(2):
        outs = {L: net(L.tensor(x)) for L, net in nets.items()}
        for L, out in outs.items():
            (out * out).sum().backward()
        np.testing.assert_allclose(outs[cr].detach().numpy(), outs[torch].detach().numpy(), rtol=1e-4, atol=1e-5)
    tp, cp = dict(nets[torch].named_parameters()), dict(nets[cr].named_parameters())
    for name in set(tp) - {"0.bias"}:  # the conv's bias gradient is 0 up to rounding: batch norm removes it
        np.testing.assert_allclose(cp[name].grad.numpy(), tp[name].grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)
    for name, t in nets[torch].state_dict().items():
        np.testing.assert_allclose(nets[cr].state_dict()[name].numpy(), t.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


def test_batch_norm_gradcheck(kernels):
    x = cr.tensor(RNG.standard_normal((3, 2, 4)), requires_grad=True)
    w = cr.tensor(RNG.standard_normal(2), requires_grad=True)
    b = cr.tensor(RNG.standard_normal(2), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w, b: cr.nn.functional.batch_norm(x, None, None, w, b, training=True),
                                 (x, w, b))


def test_compiled_batch_norm_saves_its_input_as_torch():
    """The compiled batch norm recomputes xhat from x: writing x in place first raises, as in torch."""
    for L in (cr, torch):
        a = L.tensor(RNG.standard_normal((4, 3, 5)), requires_grad=True)
        x = a * 1.0
        y = L.nn.functional.batch_norm(x, None, None, training=True)
        x.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_threads_give_the_same_bits_as_one(monkeypatch):
    """dW sums the chunks' shares in chunk order, whichever thread ran which chunk."""
    x, w = RNG.standard_normal((7, 6, 12, 12)).astype(np.float32), RNG.standard_normal((8, 6, 3, 3)).astype(np.float32)
    monkeypatch.setattr(conv, "_chunk_images", lambda xp, per_image: 2)
    monkeypatch.setattr(conv, "MIN_THREAD_FLOPS", 0)
    grads = []
    for threads in (1, 2, 2):
        monkeypatch.setattr(conv, "_blas_threads", lambda: threads)
        cx, cw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
        (cr.nn.functional.conv2d(cx, cw, padding=1) ** 2).sum().backward()
        grads.append((cx.grad.numpy(), cw.grad.numpy()))
    for gx, gw in grads[1:]:
        np.testing.assert_array_equal(gx, grads[0][0])
        np.testing.assert_array_equal(gw, grads[0][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_channel_weight_gradient_alone(dtype, chunking):
    """One input channel, no dx (a first layer): dW from the forward's columns, image by image."""
    x, w = RNG.standard_normal((5, 1, 12, 12)).astype(dtype), RNG.standard_normal((6, 1, 5, 5)).astype(dtype)
    cw, tw = cr.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    g = RNG.standard_normal((5, 6, 12, 12)).astype(dtype)
    cr.nn.functional.conv2d(cr.tensor(x), cw, padding=2).backward(cr.tensor(g))
    torch.nn.functional.conv2d(torch.tensor(x), tw, padding=2).backward(torch.tensor(g))
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), **TOL[dtype])


def test_convolutions_from_several_threads_restore_blas_threads(monkeypatch):
    """Each spread sets BLAS to one thread while it runs; overlapping ones (user threads) restore it once."""
    import threading
    from threadpoolctl import threadpool_limits
    from chainrule.backend import namespace
    monkeypatch.setattr(conv, "MIN_THREAD_FLOPS", 0)
    x, w = RNG.standard_normal((6, 4, 12, 12)), RNG.standard_normal((4, 4, 3, 3))
    xp, ref = namespace(x), torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    outs = []

    def run():
        for _ in range(10):
            outs.append(conv.forward(xp, x, w, (1, 1), (1, 1), (1, 1), (1, 1), 1, (12, 12)))
    with threadpool_limits(limits=2):
        monkeypatch.setattr(conv, "_blas_threads", lambda: 2)
        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        monkeypatch.undo()
        assert conv._blas_threads() == 2 and blas._state["depth"] == 0
    assert len(outs) == 30
    for out in outs:
        np.testing.assert_allclose(out, ref, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("numba", ["1", "0"], ids=["flag watched compiled", "flag polled"])
def test_share_runs_each_task_once_and_raises_a_workers_error(monkeypatch, numba):
    """conv._share: every task runs once, in this thread or the worker; an error in either is raised here,
    after the worker that started has finished (its state may be given back next)."""
    import threading
    import time
    monkeypatch.setenv("CHAINRULE_NUMBA", numba)
    main, seen = threading.get_ident(), []

    def record(state, task):
        time.sleep(0.002)
        seen.append((state, task, threading.get_ident() == main))
    for _ in range(3):
        seen.clear()
        ran = conv._share(["here", "worker"], list(range(8)), record)
        assert sorted(task for _, task, _ in seen) == list(range(8))
        assert all((state == "here") == here for state, _, here in seen) and {s for s, _, _ in seen} == set(ran)
    for failing in ("here", "worker"):
        finished = []

        def fail(state, task):
            if state == failing:
                raise ValueError(f"task {task} failed in {state}")
            time.sleep(0.005)
            finished.append(task)
        for _ in range(20):  # the worker may start too late to take a task: try until it took one
            finished.clear()
            try:
                ran = conv._share(["here", "worker"], list(range(4)), fail)
            except ValueError as e:
                assert f"failed in {failing}" in str(e)
                count = len(finished)
                time.sleep(0.02)
                assert len(finished) == count  # nothing still running after the raise
                break
        else:
            pytest.fail("the failing thread never took a task")


@pytest.mark.parametrize("own_threads", [True, False], ids=["near own threads", "alone"])
def test_small_products_run_at_one_blas_thread(monkeypatch, own_threads):
    """xp.matmul on the CPU: products under SMALL_GEMM_FLOPS with few rows at one BLAS thread while
    chainrule's own threads share work (a threaded one leaves OpenBLAS's workers spinning on the core
    the next convolution needs), larger ones, and every one with no such work near, at every thread;
    the count is restored, and the numbers are np.matmul's (up to the threads' blocking)."""
    from threadpoolctl import threadpool_limits
    seen = []
    real = np.matmul

    def spy(a, b, out=None):
        seen.append(min(lc.get_num_threads() for lc in blas._controllers()))
        return real(a, b, out=out)
    small = RNG.standard_normal((64, 400)), RNG.standard_normal((400, 120))
    large = RNG.standard_normal((256, 784)), RNG.standard_normal((784, 256))
    batched = RNG.standard_normal((8, 8)), RNG.standard_normal((400, 8, 600))  # a's rows times b's batch
    tall = RNG.standard_normal((512, 256)), RNG.standard_normal((256, 10))  # few FLOPs, but rows to split
    cases = (small, large, batched, tall)
    monkeypatch.setattr(blas, "_own_threads_at", [-blas.OWN_THREADS_WINDOW])
    if own_threads:
        blas.own_threads_ran()
    with threadpool_limits(limits=2):
        monkeypatch.setattr(blas.np, "matmul", spy)
        outs = [NP.matmul(a, b) for a, b in cases]
        monkeypatch.undo()
        assert seen == ([1, 2, 2, 2] if own_threads else [2, 2, 2, 2]) and blas.threads() == 2
    for out, (a, b) in zip(outs, cases):
        np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, padding", [((3, 32, 9, 7), 1), ((2, 40, 6, 11), 0), ((2, 32, 5, 5), 2),
                                            ((2, 32, 8, 6), "same"), ((1, 48, 4, 4), 1), ((2, 8, 7, 9), 1)])
def test_winograd_convolution_matches_torch(shape, padding, dtype, kernels, caplog):
    """3x3 stride-1 convolutions with 32+ channels (the path starts at 8): Winograd F(2x2, 3x3) for the
    output, dx (a convolution of g) and dW; odd sizes leave half tiles; the NumPy path runs im2col throughout."""
    x = RNG.standard_normal(shape).astype(dtype)
    w = (RNG.standard_normal((33, shape[1], 3, 3)) * 0.2).astype(dtype)
    b = RNG.standard_normal(33).astype(dtype)
    with caplog.at_level(logging.DEBUG, logger="chainrule.conv"):
        compare(lambda x, w, b: cr.nn.functional.conv2d(x, w, b, padding=padding),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=padding), [x, w, b], tol=TOL[dtype])
    assert ("Winograd" in caplog.text) == (kernels == "numba")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, padding", [((5, 16, 7, 9), 1), ((5, 20, 6, 6), 0), ((5, 16, 8, 8), 1)])
def test_winograd_in_chunks_over_two_threads(shape, padding, dtype, monkeypatch, caplog):
    """Chunks of 2, 2 and 1 images taken by two threads, each with its own channels-last scratch (its zero
    border written once, the last chunk shorter): the same values and gradients as torch, from 16 channels."""
    n, c, h, wd = shape
    th, tw = -(-(h + 2 * padding - 2) // 2), -(-(wd + 2 * padding - 2) // 2)
    monkeypatch.setattr(conv, "WINOGRAD_CHUNK_BYTES", 2 * 16 * th * tw * c * np.dtype(dtype).itemsize)
    monkeypatch.setattr(conv, "_blas_threads", lambda: 2)
    monkeypatch.setattr(conv, "MIN_THREAD_FLOPS", 0)
    x = RNG.standard_normal(shape).astype(dtype)
    w = (RNG.standard_normal((24, c, 3, 3)) * 0.2).astype(dtype)
    with caplog.at_level(logging.DEBUG, logger="chainrule.conv"):
        compare(lambda x, w: cr.nn.functional.conv2d(x, w, padding=padding),
                lambda x, w: torch.nn.functional.conv2d(x, w, padding=padding), [x, w], tol=TOL[dtype])
    assert "Winograd F(2x2, 3x3), 2 images a chunk, 2 thread(s)" in caplog.text


@pytest.mark.parametrize("bad", ["x inf", "x nan", "w inf", "g inf", "x huge"])
def test_winograd_keeps_infinities_as_the_direct_sum(bad, caplog):
    """inf/nan in x, w or g, or outputs that overflow: the transforms' differences would give nan where the
    direct sum gives inf (or inf where it stays finite), so the result is checked and im2col runs instead:
    values and nan positions of the output, dx and dW as torch's."""
    x = RNG.standard_normal((2, 32, 6, 6)).astype(np.float32)
    w = (RNG.standard_normal((32, 32, 3, 3)) * 0.2).astype(np.float32)
    g = RNG.standard_normal((2, 32, 6, 6)).astype(np.float32)
    where, what = bad.split()
    value = {"inf": np.inf, "nan": np.nan, "huge": 3e38}[what]
    if where == "x" and what == "huge":  # finite, and so are the direct sums, but the transforms' overflow
        x[0, 3, 2:4, 2:4] = value
        w[:, 3] *= 0.01
        g *= 0.01
    else:  # (the centre tap never meets the zero padding: torch's float32 path skips the padding, its float64
        # path multiplies it, so inf * 0 there is nan or not by dtype)
        {"x": x, "w": w, "g": g}[where][0, 3, 1, 1 if where == "w" else 2] = value
    outs = []
    for lib in (cr, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        with caplog.at_level(logging.DEBUG, logger="chainrule.conv"):
            out = lib.nn.functional.conv2d(a, b, padding=1)
            out.backward(lib.tensor(g))
        outs.append([t.detach().numpy() for t in (out, a.grad, b.grad)])
    for ours, theirs in zip(*outs):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs))
        fin = np.isfinite(theirs)
        scale = max(1.0, np.abs(theirs[fin]).max())
        np.testing.assert_allclose(ours[fin], theirs[fin], rtol=1e-4, atol=1e-4 * scale)
    assert "im2col" in caplog.text


def test_winograd_filter_transforms():
    """u = G w G^T and its adjoint dW = G^T dU G, the compiled kernels against the 4 x 3 matrix G, over planes
    that are not contiguous (kept off a power of two apart)."""
    pytest.importorskip("numba")
    from chainrule.backend import conv_kernels
    gm = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    for o, c in ((16, 16), (24, 40)):
        w = RNG.standard_normal((o, c, 3, 3))
        u = conv._planes(NP, c, o, w.dtype)[:, :c]
        assert conv_kernels.winograd_weight(w, u) is None
        ref = np.einsum("ai,ocij,bj->abco", gm, w, gm).reshape(16, c, o)
        np.testing.assert_allclose(u, ref, rtol=1e-13, atol=1e-13)
        du = RNG.standard_normal((16, c, o))
        dw = np.empty((o, c, 3, 3))
        assert conv_kernels.winograd_weight_grad(du, dw) == 0
        ref = np.einsum("ai,abco,bj->ocij", gm, du.reshape(4, 4, c, o), gm)
        np.testing.assert_allclose(dw, ref, rtol=1e-13, atol=1e-13)
        du[5, 1, 2] = np.inf
        assert np.isnan(conv_kernels.winograd_weight_grad(du, dw))


def test_winograd_gradcheck():
    x = cr.tensor(RNG.standard_normal((1, 32, 3, 4)), requires_grad=True)
    w = cr.tensor(RNG.standard_normal((32, 32, 3, 3)) * 0.2, requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w: cr.nn.functional.conv2d(x, w, padding=1), (x, w))
