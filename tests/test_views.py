"""Views and in-place writes, against torch: a view shares its base's memory, an in-place op on a
view updates the base and rewrites both histories (torch's CopySlices), an in-place op on a base
reaches its views, and writes that torch refuses raise here too."""
import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import assert_close

VIEWS = {
    "select": lambda y: y[1],
    "slice": lambda y: y[:, 1:3],
    "step slice": lambda y: y[::2],
    "negative index": lambda y: y[-1, 1:],
    "view": lambda y: y.view(12),
    "reshape": lambda y: y.reshape(4, 3),
    "transpose": lambda y: y.transpose(0, 1),
    "t": lambda y: y.t(),
    "permute": lambda y: y.permute(1, 0),
    "narrow": lambda y: y.narrow(1, 1, 2),
    "unsqueeze": lambda y: y.unsqueeze(0),
    "squeeze": lambda y: y.unsqueeze(1).squeeze(1),
    "flatten": lambda y: y.flatten(),
    "view of a view": lambda y: y[1:][:, ::2],
    "select of transpose": lambda y: y.t()[2],
}

INPLACE = {
    "mul_ scalar": lambda v, w: v.mul_(3),
    "mul_ tensor": lambda v, w: v.mul_(w),
    "add_": lambda v, w: v.add_(w, alpha=2),
    "sub_": lambda v, w: v.sub_(w),
    "div_": lambda v, w: v.div_(2.0),
    "+=": lambda v, w: v.__iadd__(w),
    "zero_": lambda v, w: v.zero_(),
    "fill_": lambda v, w: v.fill_(2.5),
    "clamp_": lambda v, w: v.clamp_(-0.5, 0.5),
    "copy_": lambda v, w: v.copy_(w),
    "masked_fill_": lambda v, w: v.masked_fill_(v > 0, 0.25),
    "exp_": lambda v, w: v.exp_(),
    "relu_": lambda v, w: v.relu_(),
    "neg_": lambda v, w: v.neg_(),
    "setitem": lambda v, w: v.__setitem__(0, 5.0),
    "setitem tensor": lambda v, w: v.__setitem__(..., w),
}


def _run(lib, view, inplace, x_np, seed=0):
    rng = np.random.default_rng(seed)
    x = lib.tensor(x_np, requires_grad=True)
    y = x * 2
    v = view(y)
    w = lib.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32), requires_grad=True)
    inplace(v, w)
    cy = lib.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32))
    cv = lib.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32))
    ((y * cy).sum() + (v * cv).sum()).backward()
    return y.detach(), v.detach(), x.grad, w.grad


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("inplace", INPLACE)
def test_inplace_through_view_matches_torch(view, inplace):
    x_np = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    ours = _run(cr, VIEWS[view], INPLACE[inplace], x_np)
    ref = _run(torch, VIEWS[view], INPLACE[inplace], x_np)
    for what, a, b in zip(("base", "view", "x.grad", "w.grad"), ours, ref):
        if b is None:
            assert a is None or not np.any(a.numpy()), f"{what}: torch has none"
        else:
            assert a is not None, f"{what}: chainrule has none"
            assert_close(a, b, what=what)


@pytest.mark.parametrize("view", ["select", "slice", "transpose", "view"])
def test_inplace_on_base_reaches_views_made_before(view):
    """y.mul_(2) after v = view(y): v reads the new values and differentiates through them."""
    x_np = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    results = []
    for lib in (cr, torch):
        x = lib.tensor(x_np, requires_grad=True)
        y = x + 1
        v = VIEWS[view](y)
        y.mul_(3)
        (v * v).sum().backward()
        results.append((v.detach(), x.grad))
    (v_ours, g_ours), (v_ref, g_ref) = results
    assert_close(v_ours, v_ref, what="view values")
    assert_close(g_ours, g_ref, what="x.grad")


def test_inplace_on_view_of_leaf_raises_like_torch():
    for lib in (cr, torch):
        x = lib.ones(3, 4, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            x[0].mul_(2)


def test_inplace_on_expanded_view_raises_like_torch():
    for lib in (cr, torch):
        y = lib.ones(1, 4) * 1
        with pytest.raises(RuntimeError, match="single memory location"):
            y.expand(3, 4).add_(1)


def test_views_without_grad_share_memory():
    x = cr.zeros(3, 4)
    x[1].fill_(2)
    x.t()[0].add_(1)
    x.view(12)[-1] = 7
    ref = torch.zeros(3, 4)
    ref[1].fill_(2)
    ref.t()[0].add_(1)
    ref.view(12)[-1] = 7
    assert_close(x, ref)


def test_fill_and_zero_cut_the_gradient_like_torch():
    """zero_ on a value with a history: its gradient is 0, not the old history's (silently wrong before)."""
    for op in ("zero_", "fill_"):
        grads = []
        for lib in (cr, torch):
            x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
            y = x * 2
            getattr(y, op)(*(() if op == "zero_" else (4.0,)))
            (y * x).sum().backward()
            grads.append(x.grad)
        assert_close(grads[0], grads[1], what=op)


def test_saved_value_overwritten_in_place_raises_like_torch():
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.add_(1)  # exp's backward needs its output, now overwritten
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_inplace_sin_like_op_keeps_its_input():
    """y.exp_() / y.sqrt_() read y before writing it: the gradient uses the old value, as torch."""
    for op in ("sqrt_", "exp_"):
        grads = []
        for lib in (cr, torch):
            x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
            y = x * 1
            getattr(y[1:], op)()
            y.sum().backward()
            grads.append(x.grad)
        assert_close(grads[0], grads[1], what=op)


@pytest.mark.parametrize("split", [lambda y: y.split(2), lambda y: y.chunk(2), lambda y: y.unbind(0)])
def test_inplace_on_one_of_several_views_raises_like_torch(split):
    for lib in (cr, torch):
        x = lib.ones(4, 3, requires_grad=True)
        parts = split(x * 1)
        with pytest.raises(RuntimeError, match="returns multiple views"):
            parts[0].mul_(2)
        plain = split(lib.zeros(4, 3))  # without grad the write goes through, to the base
        plain[1].add_(1)


def test_views_and_their_bases_deepcopy_and_pickle():
    import copy
    import pickle
    x = cr.arange(6.0).reshape(3, 2).requires_grad_()
    v = (x * 2)[1]
    x.t()  # x now has a live view
    for t in (x, v):
        for clone in (copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
            assert clone.tolist() == t.tolist() and clone.requires_grad and clone.is_leaf
