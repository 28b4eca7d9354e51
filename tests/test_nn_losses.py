"""Losses (all reductions, class weights, ignore_index, label smoothing, pos_weight) against torch,
float64 gradcheck of each, and their bad-input errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from helpers import assert_close, compare

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float32, np.float64]
rng = np.random.default_rng(0)


def _arr(shape, dtype, kind="normal"):
    r = np.random.default_rng(abs(hash((shape, kind))) % 2 ** 32)
    if kind == "prob":
        return r.uniform(0.05, 0.95, shape).astype(dtype)
    return r.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_and_binary_losses(reduction, dtype):
    x, t = _arr((4, 3), dtype), _arr((4, 3), dtype, "t")
    p, pt = _arr((4, 3), dtype, "prob"), (_arr((4, 3), dtype, "t2") > 0).astype(dtype)
    w = _arr((3,), dtype, "prob")
    compare(lambda a, b: cr.nn.MSELoss(reduction=reduction)(a, b), lambda a, b: TF.mse_loss(a, b, reduction=reduction), [x, t])
    compare(lambda a, b: cr.nn.L1Loss(reduction=reduction)(a, b), lambda a, b: TF.l1_loss(a, b, reduction=reduction), [x, t])
    compare(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
            lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction), [p, pt])
    compare(lambda a, b, c: cr.nn.BCELoss(weight=c, reduction=reduction)(a, b),
            lambda a, b, c: torch.nn.BCELoss(weight=c, reduction=reduction)(a, b), [p, pt, w], grad=False)
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction), [x * 5, p])
    # weights are constants (torch refuses a weight or pos_weight that requires grad)
    compare(lambda a, b: cr.nn.BCEWithLogitsLoss(weight=cr.tensor(w), pos_weight=cr.tensor(w * 3),
                                                 reduction=reduction)(a, b),
            lambda a, b: torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(w * 3),
                                                    reduction=reduction)(a, b),
            [x * 5, p])


CE_CASES = [dict(), dict(weight=True), dict(ignore_index=1), dict(label_smoothing=0.2),
            dict(weight=True, ignore_index=2, label_smoothing=0.1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", range(len(CE_CASES)))
@pytest.mark.parametrize("spatial", [False, True])
def test_cross_entropy_and_nll(case, reduction, dtype, spatial):
    kw = dict(CE_CASES[case])
    shape = (5, 4, 2, 3) if spatial else (6, 4)
    x = _arr(shape, dtype) * 3
    t = np.random.default_rng(1).integers(0, 4, (shape[0],) + shape[2:])
    t.flat[0] = 1  # the ignored class appears
    arrays = [x, t]
    w = _arr((4,), dtype, "prob") if kw.pop("weight", False) else None
    cw = None if w is None else cr.tensor(w)
    tw = None if w is None else torch.tensor(w)
    compare(lambda a, b: cr.nn.CrossEntropyLoss(weight=cw, reduction=reduction, **kw)(a, b),
            lambda a, b: torch.nn.CrossEntropyLoss(weight=tw, reduction=reduction, **kw)(a, b), arrays)
    if "label_smoothing" not in kw:
        compare(lambda a, b: F.nll_loss(F.log_softmax(a, 1), b, weight=cw, reduction=reduction, **kw),
                lambda a, b: TF.nll_loss(TF.log_softmax(a, 1), b, weight=tw, reduction=reduction, **kw), arrays)
        compare(lambda a, b: cr.nn.NLLLoss(weight=cw, reduction=reduction, **kw)(a, b),
                lambda a, b: torch.nn.NLLLoss(weight=tw, reduction=reduction, **kw)(a, b), arrays)


def test_cross_entropy_unbatched_and_all_ignored():
    x = _arr((4,), np.float64)
    compare(lambda a, b: F.cross_entropy(a, b), lambda a, b: TF.cross_entropy(a, b), [x, np.array(2)])
    x = _arr((3, 4), np.float64)
    t = np.array([-100, -100, -100])
    out, ref = compare(lambda a, b: F.cross_entropy(a, b), lambda a, b: TF.cross_entropy(a, b), [x, t],
                       grad=False, tol=dict(rtol=0, atol=0, equal_nan=True))
    assert np.isnan(ref.item()) and np.isnan(out.item())


def test_gradcheck_losses():
    gc = cr.autograd.gradcheck
    x = cr.tensor(_arr((3, 4), np.float64), requires_grad=True)
    y = cr.tensor(_arr((3, 4), np.float64, "y"), requires_grad=True)
    p = cr.tensor(_arr((3, 4), np.float64, "prob"), requires_grad=True)
    t = cr.tensor(np.array([0, 3, 1]))
    w = cr.tensor(_arr((4,), np.float64, "prob"))
    assert gc(lambda a, b: F.mse_loss(a, b), [x, y])
    assert gc(lambda a, b: F.l1_loss(a, b, reduction="sum"), [x, y])
    assert gc(lambda a, b: F.binary_cross_entropy(a, b), [p, y.detach().sigmoid()])
    assert gc(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=w), [x, p])
    assert gc(lambda a: F.cross_entropy(a, t, weight=w, label_smoothing=0.1, ignore_index=1), [x])
    assert gc(lambda a: F.cross_entropy(a, t, reduction="none"), [x])
    assert gc(lambda a: F.nll_loss(a, t, weight=w), [x])


def test_loss_bad_input():
    x = cr.zeros(3, 4)
    with pytest.raises(IndexError, match="out of bounds|out of range"):
        F.cross_entropy(x, cr.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="out of bounds|out of range"):
        F.nll_loss(x, cr.tensor([0, -2, 1]))
    with pytest.raises(RuntimeError, match="(?i)float|Long"):
        F.nll_loss(x, cr.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[3, 4\].*\[3, 5\]|\[3, 5\].*\[3, 4\]"):
        F.binary_cross_entropy(x.sigmoid(), cr.zeros(3, 5))
    with pytest.raises(RuntimeError, match="between 0 and 1|0 <= input"):
        F.binary_cross_entropy(x + 2, cr.zeros(3, 4))
    with pytest.warns(UserWarning, match="target size"):
        with pytest.raises(RuntimeError, match=r"mse_loss.*\[3, 4\].*\[2, 4\]"):
            F.mse_loss(x, cr.zeros(2, 4))
    with pytest.warns(UserWarning, match="target size"):
        with pytest.raises(RuntimeError, match=r"l1_loss.*\[3, 4\].*\[2, 4\]"):
            cr.nn.L1Loss()(x, cr.zeros(2, 4))
    with pytest.warns(UserWarning, match="target size"):  # broadcastable: warns and broadcasts, like torch
        assert F.mse_loss(x, cr.ones(4)).item() == 1.0
    with pytest.raises(ValueError, match=r"\[3, 4\].*\[3, 5\]|\[3, 5\].*\[3, 4\]"):
        F.binary_cross_entropy_with_logits(x, cr.zeros(3, 5))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        cr.nn.MSELoss(reduction="avg")
    # torch raises the same types
    with pytest.raises(IndexError):
        TF.cross_entropy(torch.zeros(3, 4), torch.tensor([0, 4, 1]))
    with pytest.raises(RuntimeError):
        TF.binary_cross_entropy(torch.zeros(3, 4) + 2, torch.zeros(3, 4))


def test_bce_at_exact_zero_and_one_is_finite_without_warnings():
    import warnings
    p = np.array([0.0, 1.0, 0.5, 1e-30])
    y = np.array([0.0, 1.0, 1.0, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"),
                lambda a, b: TF.binary_cross_entropy(a, b, reduction="sum"), [p, y])


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.2, "weight": [1.0, 2.0, 0.5, 1.5]},
                                    {"ignore_index": 1, "reduction": "sum"}])
def test_cross_entropy_second_derivatives_match_torch(kwargs):
    """create_graph through the fused softmax cross-entropy: the gradient is differentiable."""
    rng = np.random.default_rng(3)
    x0, t0 = rng.standard_normal((5, 4)), np.array([0, 2, 1, 3, 1])
    results = []
    for lib in (cr, torch):
        x = lib.tensor(x0, requires_grad=True)
        opts = dict(kwargs)
        if "weight" in opts:
            opts["weight"] = lib.tensor(np.array(opts["weight"]))
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(t0), **opts)
        (g,) = lib.autograd.grad(loss, [x], create_graph=True)
        (g * g).sum().backward()
        results.append((g, x.grad))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


@pytest.mark.parametrize("pos_weight", [None, [2.0, 0.5, 1.0]])
def test_bce_with_logits_and_softplus_gradients_at_zero_match_torch(pos_weight):
    """At logit 0 the gradient is sigmoid(0) - y; a formula split at the kink gave -y (silently)."""
    x = np.array([0.0, 0.0, 3.0, -40.0, 40.0, 0.0], dtype=np.float32).reshape(2, 3)
    y = np.array([0.5, 1.0, 0.0, 1.0, 0.0, 0.25], dtype=np.float32).reshape(2, 3)
    for fn in ("bce", "softplus"):
        grads = []
        for lib in (cr, torch):
            F = lib.nn.functional
            t = lib.tensor(x, requires_grad=True)
            if fn == "softplus":
                out = F.softplus(t).sum()
            else:
                pw = None if pos_weight is None else lib.tensor(pos_weight)
                out = F.binary_cross_entropy_with_logits(t, lib.tensor(y), pos_weight=pw)
            out.backward()
            grads.append((out.item(), t.grad.numpy()))
        np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-5)
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-7)
