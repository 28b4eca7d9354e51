"""Every loss of nn.functional and nn against torch (issue 13): each loss in every reduction, float32
and float64 (value, dtype, the gradient of every differentiable input for a random upstream gradient),
float64 gradcheck, the modules, the legacy size_average/reduce keywords, 0-d and empty inputs, ctc_loss
(padded and concatenated targets, lengths as tensors or tuples, unbatched, zero_infinity, blank) and
bad input raising what torch raises."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import assert_close, compare

_rng = np.random.default_rng(1313)


def randn(*shape):
    return _rng.standard_normal(shape)


def unif(lo, hi, *shape):
    return _rng.uniform(lo, hi, shape)


def away(*shape, lo=0.3, hi=2.0):
    return unif(lo, hi, *shape) * _rng.choice([-1.0, 1.0], shape)


def signs(*shape):
    return _rng.choice([-1.0, 1.0], shape)


def ints(lo, hi, *shape):
    return _rng.integers(lo, hi, shape).astype(np.int64)


def idx(*v):
    return np.array(v, dtype=np.int64)


def F(L):
    return L.nn.functional


def probs(*shape):
    p = unif(0.1, 1.0, *shape)
    return p / p.sum(-1, keepdims=True)


R3 = ("mean", "sum", "none")


class C:
    """A loss ``fn(L, reduction, *tensors)`` on ``arrays``; ``reductions`` (None: the function takes none)."""

    def __init__(self, label, fn, *arrays, reductions=R3, gradcheck=True):
        self.label, self.fn, self.arrays, self.reductions, self.gradcheck = label, fn, arrays, reductions, gradcheck


# separated inputs: |input - target| stays away from the kinks (0, beta, delta, margins) for gradcheck
X, Y = randn(4, 3), randn(4, 3)
Y = np.where(np.abs(X - Y) < 0.1, Y + 0.3, Y)
Y = np.where(np.abs(np.abs(X - Y) - 1) < 0.1, Y + 0.25, Y)
Y = np.where(np.abs(np.abs(X - Y) - 0.5) < 0.1, Y + 0.25, Y)
distinct = _rng.permutation(12).reshape(3, 4) * 0.37 - 2  # no ties: margins away from their kinks
CTC_T, CTC_N, CTC_C = 7, 3, 5
CTC_X = randn(CTC_T, CTC_N, CTC_C)
CTC_PADDED = idx([1, 2, 2, 0], [3, 4, 0, 0], [0, 0, 0, 0])  # a repeat (needs a blank), shorter, empty
CTC_PADDED[CTC_PADDED == 0] = 1
CTC_IL, CTC_TL = (7, 5, 4), (3, 2, 0)
CTC_CONCAT = np.concatenate([CTC_PADDED[0, :3], CTC_PADDED[1, :2]])

CASES = [
    C("l1", lambda L, r, x, y: F(L).l1_loss(x, y, reduction=r), X, Y),
    C("l1 weight", lambda L, r, x, y, w: F(L).l1_loss(x, y, reduction=r, weight=w), X, Y, unif(0.5, 2, 4, 3)),
    C("mse", lambda L, r, x, y: F(L).mse_loss(x, y, reduction=r), X, Y),
    C("mse weight", lambda L, r, x, y, w: F(L).mse_loss(x, y, reduction=r, weight=w), X, Y, unif(0.5, 2, 4, 3)),
    C("smooth_l1", lambda L, r, x, y: F(L).smooth_l1_loss(x, y, reduction=r), X, Y),
    C("smooth_l1 beta 0.5", lambda L, r, x, y: F(L).smooth_l1_loss(x, y, reduction=r, beta=0.5), X, Y),
    C("smooth_l1 beta 0", lambda L, r, x, y: F(L).smooth_l1_loss(x, y, reduction=r, beta=0.0), X, Y),
    C("huber", lambda L, r, x, y: F(L).huber_loss(x, y, reduction=r), X, Y),
    C("huber delta 0.5", lambda L, r, x, y: F(L).huber_loss(x, y, reduction=r, delta=0.5), X, Y),
    C("huber weight", lambda L, r, x, y, w: F(L).huber_loss(x, y, reduction=r, delta=2.0, weight=w), X, Y,
      unif(0.5, 2, 4, 3)),
    C("kl_div", lambda L, r, x, t: F(L).kl_div(x, t, reduction=r), np.log(probs(4, 3)), probs(4, 3),
      reductions=R3 + ("batchmean",)),
    C("kl_div log_target", lambda L, r, x, t: F(L).kl_div(x, t, reduction=r, log_target=True), randn(4, 3),
      randn(4, 3), reductions=R3 + ("batchmean",)),
    C("poisson_nll", lambda L, r, x, t: F(L).poisson_nll_loss(x, t, reduction=r), randn(4, 3), unif(0, 3, 4, 3)),
    C("poisson_nll rates, full",
      lambda L, r, x, t: F(L).poisson_nll_loss(x, t, log_input=False, full=True, reduction=r), unif(0.2, 3, 4, 3),
      np.array([[0.5, 0.98, 2.0], [3.0, 1.5, 0.2], [4.0, 0.7, 1.2], [2.5, 5.0, 0.9]])),
    C("gaussian_nll", lambda L, r, x, t, v: F(L).gaussian_nll_loss(x, t, v, reduction=r), randn(4, 3), randn(4, 3),
      unif(0.2, 2, 4, 3)),
    C("gaussian_nll var one dim fewer, full",
      lambda L, r, x, t, v: F(L).gaussian_nll_loss(x, t, v, full=True, reduction=r), randn(4, 3), randn(4, 3),
      unif(0.2, 2, 4)),
    C("gaussian_nll var (N, 1)", lambda L, r, x, t, v: F(L).gaussian_nll_loss(x, t, v, reduction=r), randn(4, 3),
      randn(4, 3), unif(0.2, 2, 4, 1)),
    C("gaussian_nll var float", lambda L, r, x, t: F(L).gaussian_nll_loss(x, t, 0.7, reduction=r), randn(4, 3),
      randn(4, 3)),
    C("gaussian_nll var below eps", lambda L, r, x, t, v: F(L).gaussian_nll_loss(x, t, v, eps=0.1, reduction=r),
      randn(2, 3), randn(2, 3), np.array([[0.01, 0.5, 0.05], [1.0, 0.02, 2.0]]), gradcheck=False),
    C("cosine_similarity", lambda L, r, a, b: F(L).cosine_similarity(a, b), randn(4, 3), randn(4, 3),
      reductions=(None,)),
    C("cosine_similarity dim 0, broadcast", lambda L, r, a, b: F(L).cosine_similarity(a, b, dim=0, eps=1e-6),
      randn(3, 4), randn(3, 1), reductions=(None,)),
    C("cosine_similarity 3-d, dim -1", lambda L, r, a, b: F(L).cosine_similarity(a, b, dim=-1), randn(2, 3, 4),
      randn(2, 3, 4), reductions=(None,)),
    C("pairwise_distance", lambda L, r, a, b: F(L).pairwise_distance(a, b), randn(4, 3), randn(4, 3),
      reductions=(None,)),
    C("pairwise_distance p=1 keepdim", lambda L, r, a, b: F(L).pairwise_distance(a, b, p=1.0, keepdim=True),
      randn(4, 3), randn(4, 3) + 2, reductions=(None,)),
    C("pairwise_distance p=3, broadcast", lambda L, r, a, b: F(L).pairwise_distance(a, b, p=3.0, eps=1e-3),
      randn(4, 3), randn(3), reductions=(None,)),
    C("pairwise_distance p=inf", lambda L, r, a, b: F(L).pairwise_distance(a, b, p=float("inf")), X, Y,
      reductions=(None,)),
    C("pdist", lambda L, r, x: F(L).pdist(x), randn(5, 3), reductions=(None,)),
    C("pdist p=1", lambda L, r, x: F(L).pdist(x, p=1), randn(4, 3), reductions=(None,)),
    C("pdist p=3", lambda L, r, x: F(L).pdist(x, 3.0), randn(4, 2), reductions=(None,)),
    C("cosine_embedding", lambda L, r, a, b, t: F(L).cosine_embedding_loss(a, b, t, reduction=r), randn(5, 3),
      randn(5, 3), idx(1, -1, 1, -1, -1)),
    C("cosine_embedding margin, 0-d target",
      lambda L, r, a, b, t: F(L).cosine_embedding_loss(a, b, t, margin=-0.5, reduction=r), randn(4), randn(4),
      np.array(-1)),
    C("margin_ranking", lambda L, r, a, b, t: F(L).margin_ranking_loss(a, b, t, margin=0.1, reduction=r),
      randn(6), randn(6) + 0.05, signs(6)),
    C("hinge_embedding", lambda L, r, x, t: F(L).hinge_embedding_loss(x, t, margin=1.5, reduction=r),
      away(4, 3) * 0.7, signs(4, 3)),
    C("soft_margin", lambda L, r, x, t: F(L).soft_margin_loss(x, t.detach(), reduction=r), randn(4, 3),
      signs(4, 3)),
    C("multilabel_soft_margin", lambda L, r, x, t: F(L).multilabel_soft_margin_loss(x, t, reduction=r),
      randn(4, 3), (randn(4, 3) > 0).astype(float)),
    C("multilabel_soft_margin weight",
      lambda L, r, x, t, w: F(L).multilabel_soft_margin_loss(x, t, weight=w, reduction=r), randn(4, 3),
      unif(0, 1, 4, 3), unif(0.5, 2, 3)),
    C("multilabel_margin", lambda L, r, x, t: F(L).multilabel_margin_loss(x, t, reduction=r), distinct, idx([3, 0, -1, 1], [1, 1, 2, -1], [-1, 0, 0, 0])),
    C("multilabel_margin 1-d", lambda L, r, x, t: F(L).multilabel_margin_loss(x, t, reduction=r),
      distinct[0] * 0.5, idx(2, -1, 0, 1)),
    C("multi_margin", lambda L, r, x, t: F(L).multi_margin_loss(x, t, reduction=r), distinct, idx(0, 3, 2)),
    C("multi_margin p=2 margin weight",
      lambda L, r, x, t, w: F(L).multi_margin_loss(x, t, p=2, margin=0.7, weight=w.detach(), reduction=r), distinct,
      idx(1, 0, 2), unif(0.5, 2, 4)),
    C("multi_margin 1-d", lambda L, r, x, t: F(L).multi_margin_loss(x, t, reduction=r), distinct[1], idx(2)),
    C("triplet_margin", lambda L, r, a, p, n: F(L).triplet_margin_loss(a, p, n, reduction=r), randn(5, 3),
      randn(5, 3), randn(5, 3)),
    C("triplet_margin p=1 swap margin",
      lambda L, r, a, p, n: F(L).triplet_margin_loss(a, p, n, margin=2.0, p=1, swap=True, reduction=r),
      randn(5, 3), randn(5, 3), randn(5, 3)),
    C("triplet_with_distance", lambda L, r, a, p, n: F(L).triplet_margin_with_distance_loss(a, p, n, reduction=r),
      randn(5, 3), randn(5, 3), randn(5, 3)),
    C("triplet_with_distance cosine, swap",
      lambda L, r, a, p, n: F(L).triplet_margin_with_distance_loss(
          a, p, n, distance_function=lambda u, v: 1 - F(L).cosine_similarity(u, v), margin=0.5, swap=True,
          reduction=r),
      randn(5, 3), randn(5, 3), randn(5, 3)),
    C("cross_entropy soft targets", lambda L, r, x, q: F(L).cross_entropy(x, q, reduction=r), randn(4, 3),
      probs(4, 3)),
    C("cross_entropy soft, label_smoothing, weight",
      lambda L, r, x, q, w: F(L).cross_entropy(x, q, weight=w, label_smoothing=0.2, reduction=r), randn(4, 3),
      probs(4, 3), unif(0.5, 2, 3)),
    C("cross_entropy soft (N, C, d1, d2)",
      lambda L, r, x, q, w: F(L).cross_entropy(x, q, weight=w, reduction=r), randn(2, 3, 2, 2),
      np.moveaxis(probs(2, 2, 2, 3), -1, 1), unif(0.5, 2, 3)),
    C("cross_entropy soft, unbatched", lambda L, r, x, q: F(L).cross_entropy(x, q, label_smoothing=0.1,
                                                                                reduction=r), randn(4), probs(4)),
    C("cross_entropy negative label_smoothing (as 0)",
      lambda L, r, x, t, q: F(L).cross_entropy(x, t, label_smoothing=-0.2, reduction=r)
      + F(L).cross_entropy(x, q, label_smoothing=-0.2, reduction=r), randn(5, 4), idx(0, 3, 1, 1, 2), probs(5, 4)),
    C("cross_entropy label_smoothing", lambda L, r, x, t: F(L).cross_entropy(x, t, label_smoothing=0.3, reduction=r),
      randn(5, 4), idx(0, 3, 1, 1, 2)),
    C("cross_entropy (N, C, d1, d2) ignore_index, weight, label_smoothing",
      lambda L, r, x, t, w: F(L).cross_entropy(x, t, weight=w.detach(), ignore_index=1, label_smoothing=0.1, reduction=r),
      randn(2, 3, 2, 3), ints(0, 3, 2, 2, 3), unif(0.5, 2, 3)),
    C("nll (N, C, d1, d2) ignore_index, weight",
      lambda L, r, x, t, w: F(L).nll_loss(x, t, weight=w.detach(), ignore_index=2, reduction=r), randn(2, 4, 3, 2),
      ints(0, 4, 2, 3, 2), unif(0.5, 2, 4)),
    C("bce weight", lambda L, r, p, y, w: F(L).binary_cross_entropy(p, y, weight=w.detach(), reduction=r), unif(0.1, 0.9, 4, 3),
      unif(0, 1, 4, 3), unif(0.5, 2, 3)),
    C("bce_with_logits pos_weight, weight",
      lambda L, r, x, y, w, pw: F(L).binary_cross_entropy_with_logits(x, y, weight=w.detach(),
                                                                   pos_weight=pw.detach(), reduction=r),
      randn(4, 3), unif(0, 1, 4, 3), unif(0.5, 2, 3), unif(0.5, 3, 3)),
    C("ctc padded, tensor lengths",
      lambda L, r, x, t: F(L).ctc_loss(x.log_softmax(2), t, L.tensor(CTC_IL), L.tensor(CTC_TL), reduction=r),
      CTC_X, CTC_PADDED),
    C("ctc concatenated, tuple lengths, blank 0",
      lambda L, r, x, t: F(L).ctc_loss(x.log_softmax(2), t, CTC_IL, CTC_TL, blank=0, reduction=r),
      CTC_X, CTC_CONCAT),
    C("ctc unbatched", lambda L, r, x, t: F(L).ctc_loss(x.log_softmax(1), t, L.tensor(6), L.tensor(3), reduction=r),
      CTC_X[:, 0], CTC_PADDED[0, :3]),
    C("ctc zero_infinity (an impossible alignment)",
      lambda L, r, x, t: F(L).ctc_loss(x.log_softmax(2), t, (7, 1, 4), (3, 2, 0), zero_infinity=True, reduction=r),
      CTC_X, CTC_PADDED),
]
IDS = [c.label for c in CASES]


def _cast(arrays, dtype):
    return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_loss_matches_torch(case, dtype):
    for r in case.reductions:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warning (torch's only)
            compare(lambda *t: case.fn(cr, r, *t), lambda *t: case.fn(torch, r, *t), _cast(case.arrays, dtype),
                    seed=hash(r) % 1000)


@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=[c.label for c in CASES if c.gradcheck])
def test_loss_gradcheck_float64(case):
    r = "none" if "none" in case.reductions else case.reductions[-1]
    arrays = _cast(case.arrays, np.float64)
    # the inputs torch differentiates (not the weights and targets its fused kernels take as constants)
    th = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    case.fn(torch, r, *th).sum().backward()
    tensors = [cr.tensor(a, requires_grad=t.grad is not None) for a, t in zip(arrays, th)]
    assert cr.autograd.gradcheck(lambda *t: case.fn(cr, r, *t), tensors)


# ---- modules --------------------------------------------------------------------------------------------

MODULES = [
    ("L1Loss", dict(reduction="sum"), [X, Y]),
    ("MSELoss", dict(), [X, Y]),
    ("SmoothL1Loss", dict(beta=0.5, reduction="none"), [X, Y]),
    ("HuberLoss", dict(delta=0.5), [X, Y]),
    ("KLDivLoss", dict(reduction="batchmean", log_target=True), [randn(4, 3), randn(4, 3)]),
    ("PoissonNLLLoss", dict(log_input=False, full=True, eps=1e-4), [unif(0.2, 3, 4, 3), unif(0, 4, 4, 3)]),
    ("GaussianNLLLoss", dict(full=True, eps=1e-3, reduction="sum"), [randn(4, 3), randn(4, 3), unif(0.2, 2, 4, 3)]),
    ("BCELoss", dict(reduction="sum"), [unif(0.1, 0.9, 4, 3), unif(0, 1, 4, 3)]),
    ("BCEWithLogitsLoss", dict(pos_weight="pw"), [randn(4, 3), unif(0, 1, 4, 3)]),
    ("NLLLoss", dict(weight="w3", ignore_index=0), [randn(5, 3), idx(0, 1, 2, 2, 1)]),
    ("CrossEntropyLoss", dict(weight="w3", label_smoothing=0.1), [randn(5, 3), probs(5, 3)]),
    ("CTCLoss", dict(blank=0, reduction="sum"), [CTC_X, CTC_CONCAT, idx(*CTC_IL), idx(*CTC_TL)]),
    ("CosineEmbeddingLoss", dict(margin=0.2), [randn(5, 3), randn(5, 3), idx(1, -1, -1, 1, -1)]),
    ("MarginRankingLoss", dict(margin=0.3, reduction="none"), [randn(6), randn(6), signs(6)]),
    ("HingeEmbeddingLoss", dict(margin=0.5), [away(4, 3) * 0.3, signs(4, 3)]),
    ("SoftMarginLoss", dict(reduction="sum"), [randn(4, 3), signs(4, 3).astype(np.int64)]),
    ("MultiLabelSoftMarginLoss", dict(weight="w3"), [randn(4, 3), unif(0, 1, 4, 3)]),
    ("MultiLabelMarginLoss", dict(), [distinct, idx([3, 0, -1, 1], [1, 1, 2, -1], [-1, 0, 0, 0])]),
    ("MultiMarginLoss", dict(p=2, margin=0.5, weight="w4"), [distinct, idx(0, 3, 2)]),
    ("TripletMarginLoss", dict(margin=0.5, p=1.0, swap=True), [randn(5, 3), randn(5, 3), randn(5, 3)]),
    ("TripletMarginWithDistanceLoss", dict(margin=2.0, swap=True), [randn(5, 3), randn(5, 3), randn(5, 3)]),
    ("PairwiseDistance", dict(p=1.5, keepdim=True), [randn(4, 3), randn(4, 3)]),
    ("CosineSimilarity", dict(dim=0, eps=1e-4), [randn(4, 3), randn(4, 3)]),
]
CONSTS = {"w3": np.array([0.5, 1.0, 2.0]), "w4": np.array([0.5, 1.0, 2.0, 1.5]), "pw": np.array([2.0, 0.5, 1.0])}


def _module(L, name, kwargs, dtype):
    kw = {k: (L.tensor(CONSTS[v].astype(dtype)) if k in ("weight", "pos_weight") else v) for k, v in kwargs.items()}
    return getattr(L.nn, name)(**kw)


@pytest.mark.parametrize("name, kwargs, arrays", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_torch(name, kwargs, arrays):
    mc, mt = _module(cr, name, kwargs, np.float32), _module(torch, name, kwargs, np.float32)
    arrays = _cast(arrays, np.float32)
    if name == "CTCLoss":
        compare(lambda x, *r: mc(x.log_softmax(2), *r), lambda x, *r: mt(x.log_softmax(2), *r), arrays)
    else:
        compare(mc, mt, arrays)
    for attr in ("reduction", "margin", "p", "eps", "swap", "blank", "zero_infinity", "log_target", "full",
                 "ignore_index", "label_smoothing", "beta", "delta", "norm", "keepdim", "dim", "log_input"):
        assert getattr(mc, attr, None) == getattr(mt, attr, None), attr
    assert set(dict(mc.named_buffers())) == set(dict(mt.named_buffers()))


def test_module_names_are_exported():
    for name, _, _ in MODULES:
        assert name in cr.nn.__all__ and issubclass(getattr(cr.nn, name), cr.nn.Module)
    assert repr(cr.nn.MSELoss(reduction="sum")) == repr(torch.nn.MSELoss(reduction="sum"))
    assert repr(cr.nn.CosineSimilarity(dim=0)) == repr(torch.nn.CosineSimilarity(dim=0))
    for name in ("cosine_similarity", "pairwise_distance", "pdist"):  # torch.<name> too
        assert getattr(cr, name) is getattr(cr.nn.functional, name) and hasattr(torch, name)
    a, b = randn(3, 4), randn(3, 4)
    assert_close(cr.cosine_similarity(cr.tensor(a), cr.tensor(b)), torch.cosine_similarity(torch.tensor(a),
                                                                                           torch.tensor(b)))
    assert_close(cr.pdist(cr.tensor(a)), torch.pdist(torch.tensor(a)))


# ---- legacy size_average / reduce ------------------------------------------------------------------------

@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True), (False, True),
                                                  (True, False), (None, True)])
def test_legacy_reduction_keywords(size_average, reduce):
    x, y = X.astype(np.float32), Y.astype(np.float32)
    kw = dict(size_average=size_average, reduce=reduce)
    fns = [lambda L, a, b: F(L).l1_loss(a, b, **kw), lambda L, a, b: F(L).mse_loss(a, b, **kw),
           lambda L, a, b: F(L).smooth_l1_loss(a, b, **kw), lambda L, a, b: F(L).soft_margin_loss(a, b.sign().detach(), **kw),
           lambda L, a, b: F(L).kl_div(a, b.exp(), reduction="batchmean", **kw),
           lambda L, a, b: F(L).poisson_nll_loss(a, b.abs(), **kw),
           lambda L, a, b: F(L).margin_ranking_loss(a, b, b.sign(), **kw),
           lambda L, a, b: F(L).hinge_embedding_loss(a, b.sign(), **kw),
           lambda L, a, b: F(L).multilabel_soft_margin_loss(a, b.sigmoid(), **kw),
           lambda L, a, b: F(L).triplet_margin_loss(a, b, a * 2, **kw),
           lambda L, a, b: F(L).cross_entropy(a, b.softmax(1), **kw),
           lambda L, a, b: F(L).binary_cross_entropy(a.sigmoid(), b.sigmoid(), **kw),
           lambda L, a, b: F(L).binary_cross_entropy_with_logits(a, b.sigmoid(), **kw),
           lambda L, a, b: F(L).nll_loss(a, L.tensor([0, 2, 1, 1]), **kw)]
    for fn in fns:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            out = compare(lambda a, b: fn(cr, a, b), lambda a, b: fn(torch, a, b), [x, y])[0]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        m = cr.nn.MSELoss(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert m.reduction == torch.nn.MSELoss(size_average=size_average, reduce=reduce).reduction
        assert out.shape == torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor([0, 2, 1, 1]), **kw).shape


# ---- 0-d and empty inputs --------------------------------------------------------------------------------

EDGE = [
    ("mse 0-d", lambda L, r, x, y: F(L).mse_loss(x, y, reduction=r), [np.array(0.5), np.array(-1.0)]),
    ("huber 0-d", lambda L, r, x, y: F(L).huber_loss(x, y, reduction=r), [np.array(0.5), np.array(-1.0)]),
    ("kl_div 0-d batchmean", lambda L, r, x, y: F(L).kl_div(x, y, reduction="batchmean"),
     [np.array(-0.5), np.array(0.3)]),
    ("kl_div target 0", lambda L, r, x, y: F(L).kl_div(x, y, reduction=r), [randn(2, 3), np.array([0.0, 0.5, 1.0])]),
    ("poisson full, target 0-d", lambda L, r, x, y: F(L).poisson_nll_loss(x, y, full=True, reduction=r),
     [randn(3), np.array(2.5)]),
    ("soft_margin 0-d", lambda L, r, x, y: F(L).soft_margin_loss(x, y.detach(), reduction=r),
     [np.array(0.3), np.array(-1.0)]),
    ("cosine_similarity 0-d", lambda L, r, a, b: F(L).cosine_similarity(a, b, dim=0), [np.array(2.0), np.array(-3.0)]),
    ("cosine_similarity zero vector", lambda L, r, a, b: F(L).cosine_similarity(a, b),
     [np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])]),
    ("pairwise_distance 0-d", lambda L, r, a, b: F(L).pairwise_distance(a, b), [np.array(2.0), np.array(3.5)]),
    ("pairwise_distance 1-d", lambda L, r, a, b: F(L).pairwise_distance(a, b, keepdim=True), [randn(4), randn(4)]),
    ("pdist one row", lambda L, r, x: F(L).pdist(x), [randn(1, 3)]),
    ("pdist repeated rows", lambda L, r, x: F(L).pdist(x), [np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]])]),
    ("pdist p=1 repeated rows", lambda L, r, x: F(L).pdist(x, p=1), [np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]])]),
    ("mse empty", lambda L, r, x, y: F(L).mse_loss(x, y, reduction=r), [randn(0, 3), randn(0, 3)]),
    ("l1 empty", lambda L, r, x, y: F(L).l1_loss(x, y, reduction=r), [randn(0, 3), randn(0, 3)]),
    ("smooth_l1 empty", lambda L, r, x, y: F(L).smooth_l1_loss(x, y, reduction=r), [randn(0), randn(0)]),
    ("soft cross_entropy empty", lambda L, r, x, y: F(L).cross_entropy(x, y, reduction=r),
     [randn(0, 3), randn(0, 3)]),
    ("multi_margin 0-d", lambda L, r, x, t: F(L).multi_margin_loss(x, t, reduction=r), [np.array(0.4), idx(0)]),
    ("multilabel_margin 0-d", lambda L, r, x, t: F(L).multilabel_margin_loss(x, t, reduction=r),
     [np.array(0.4), np.array(0)]),
    ("multilabel_soft_margin 1-d", lambda L, r, x, t: F(L).multilabel_soft_margin_loss(x, t, reduction=r),
     [randn(3), unif(0, 1, 3)]),
    ("cosine_embedding empty", lambda L, r, a, b, t: F(L).cosine_embedding_loss(a, b, t, reduction=r),
     [randn(0, 3), randn(0, 3), np.zeros(0, np.int64)]),
    ("triplet empty", lambda L, r, a, p, n: F(L).triplet_margin_loss(a, p, n, reduction=r),
     [randn(0, 3), randn(0, 3), randn(0, 3)]),
    ("triplet 1-d", lambda L, r, a, p, n: F(L).triplet_margin_loss(a, p, n, reduction=r),
     [randn(3), randn(3), randn(3)]),
    ("ctc input length 0", lambda L, r, x, t: F(L).ctc_loss(x.log_softmax(2), t, (0, 5, 0), (0, 2, 2), reduction=r),
     [CTC_X, CTC_PADDED]),
]


@pytest.mark.parametrize("label, fn, arrays", EDGE, ids=[e[0] for e in EDGE])
def test_edge_inputs_match_torch(label, fn, arrays):
    for r in R3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compare(lambda *t: fn(cr, r, *t), lambda *t: fn(torch, r, *t), _cast(arrays, np.float32))


def test_ctc_infinite_loss_without_zero_infinity_matches_torch():
    x = CTC_X.astype(np.float64)
    out, ref = compare(lambda a: F(cr).ctc_loss(a.log_softmax(2), cr.tensor(CTC_PADDED), (7, 1, 4), (3, 2, 0),
                                                reduction="none"),
                       lambda a: F(torch).ctc_loss(a.log_softmax(2), torch.tensor(CTC_PADDED), (7, 1, 4), (3, 2, 0),
                                                   reduction="none"), [x], grad=False)
    assert np.isinf(out.numpy()[1]) and np.isinf(ref.numpy()[1])
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F(cr).ctc_loss(cx.log_softmax(2), cr.tensor(CTC_PADDED), (7, 1, 4), (3, 2, 0), reduction="sum").backward()
    F(torch).ctc_loss(tx.log_softmax(2), torch.tensor(CTC_PADDED), (7, 1, 4), (3, 2, 0), reduction="sum").backward()
    np.testing.assert_array_equal(np.isnan(cx.grad.numpy()), np.isnan(tx.grad.numpy()))


def test_ctc_longer_sequences_and_float_targets_match_torch():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((30, 4, 6)) * 3
    tl = (10, 1, 7, 4)
    targets = rng.integers(1, 6, (4, 10))
    targets[0, 3:6] = 2  # repeats
    il = (30, 25, 14, 9)
    compare(lambda a, t: F(cr).ctc_loss(a.log_softmax(2), t, cr.tensor(il), cr.tensor(tl)),
            lambda a, t: F(torch).ctc_loss(a.log_softmax(2), t, torch.tensor(il), torch.tensor(tl)),
            [x.astype(np.float32), targets.astype(np.float32)])
    compare(lambda a, t: F(cr).ctc_loss(a.log_softmax(2), t, cr.tensor(il, dtype=cr.int32), cr.tensor(tl),
                                                reduction="none"),
            lambda a, t: F(torch).ctc_loss(a.log_softmax(2), t, torch.tensor(il, dtype=torch.int32),
                                           torch.tensor(tl), reduction="none"),
            [x, targets.astype(np.int32)])


# ---- bad input: the exception torch raises ---------------------------------------------------------------

def _t(L, a):
    return L.tensor(a)


BAD = [
    ("nll weight requires grad", lambda L: F(L).nll_loss(L.zeros(3, 4), L.tensor([0, 1, 2]),
                                                         weight=L.ones(4, requires_grad=True))),
    ("cross_entropy weight requires grad", lambda L: F(L).cross_entropy(L.zeros(3, 4), L.tensor([0, 1, 2]),
                                                                        weight=L.ones(4, requires_grad=True))),
    ("bce pos_weight requires grad", lambda L: F(L).binary_cross_entropy_with_logits(
        L.zeros(3), L.ones(3), pos_weight=L.ones(3, requires_grad=True))),
    ("soft_margin target requires grad", lambda L: F(L).soft_margin_loss(L.zeros(3), L.ones(3, requires_grad=True))),
    ("pdist 3-d", lambda L: F(L).pdist(L.zeros(3, 4, 2))),
    ("pdist p < 0", lambda L: F(L).pdist(L.zeros(3, 4), p=-1)),
    ("pdist integers", lambda L: F(L).pdist(L.ones(3, 4, dtype=L.long))),
    ("mse shape", lambda L: F(L).mse_loss(L.zeros(3, 4), L.zeros(2, 4))),
    ("mse integers", lambda L: F(L).mse_loss(L.tensor([1, 2]), L.tensor([1, 3]))),
    ("smooth_l1 negative beta", lambda L: F(L).smooth_l1_loss(L.zeros(3), L.ones(3), beta=-1.0)),
    ("huber delta 0", lambda L: F(L).huber_loss(L.zeros(3), L.ones(3), delta=0.0)),
    ("l1 weight shape", lambda L: F(L).l1_loss(L.zeros(3), L.ones(3), weight=L.ones(2))),
    ("l1 bad reduction", lambda L: F(L).l1_loss(L.zeros(3), L.ones(3), reduction="avg")),
    ("kl_div integers", lambda L: F(L).kl_div(L.tensor([1]), L.tensor([1]), reduction="sum")),
    ("kl_div bad reduction", lambda L: F(L).kl_div(L.zeros(3), L.ones(3), reduction="foo")),
    ("poisson bad reduction", lambda L: F(L).poisson_nll_loss(L.zeros(3), L.ones(3), reduction="foo")),
    ("gaussian var negative", lambda L: F(L).gaussian_nll_loss(L.zeros(3), L.ones(3), L.tensor([1.0, -1.0, 1.0]))),
    ("gaussian var float negative", lambda L: F(L).gaussian_nll_loss(L.zeros(3), L.ones(3), -1.0)),
    ("gaussian var size", lambda L: F(L).gaussian_nll_loss(L.zeros(4, 3), L.ones(4, 3), L.ones(4, 2))),
    ("gaussian var two dims", lambda L: F(L).gaussian_nll_loss(L.zeros(4, 3), L.ones(4, 3), L.ones(1, 1))),
    ("gaussian reduction", lambda L: F(L).gaussian_nll_loss(L.zeros(3), L.ones(3), L.ones(3), reduction="x")),
    ("cosine_similarity integers", lambda L: F(L).cosine_similarity(L.tensor([1, 2]), L.tensor([1, 3]), dim=0)),
    ("cosine_similarity broadcast", lambda L: F(L).cosine_similarity(L.zeros(3, 4), L.zeros(2, 4))),
    ("cosine_similarity dim", lambda L: F(L).cosine_similarity(L.zeros(3, 4), L.zeros(3, 4), dim=2)),
    ("pairwise_distance shapes", lambda L: F(L).pairwise_distance(L.zeros(3, 4), L.zeros(3, 5))),
    ("cosine_embedding 2-d target", lambda L: F(L).cosine_embedding_loss(L.zeros(3, 4), L.zeros(3, 4),
                                                                         L.ones(3, 1))),
    ("cosine_embedding 0-d target, 2-d inputs",
     lambda L: F(L).cosine_embedding_loss(L.zeros(3, 4), L.zeros(3, 4), L.tensor(1))),
    ("cosine_embedding target length", lambda L: F(L).cosine_embedding_loss(L.ones(3, 4), L.ones(3, 4),
                                                                            L.tensor([1, -1]))),
    ("margin_ranking dims", lambda L: F(L).margin_ranking_loss(L.zeros(3), L.zeros(3), L.ones(3, 1))),
    ("multi_margin p", lambda L: F(L).multi_margin_loss(L.zeros(3, 4), L.tensor([0, 1, 3]), p=3)),
    ("multi_margin weight 2-d", lambda L: F(L).multi_margin_loss(L.zeros(3, 4), L.tensor([0, 1, 3]),
                                                                 weight=L.ones(2, 2))),
    ("multi_margin weight size", lambda L: F(L).multi_margin_loss(L.zeros(3, 4), L.tensor([0, 1, 3]),
                                                                  weight=L.ones(3))),
    ("multi_margin target range", lambda L: F(L).multi_margin_loss(L.zeros(3, 4), L.tensor([0, 1, 4]))),
    ("multi_margin target -1", lambda L: F(L).multi_margin_loss(L.zeros(3, 4), L.tensor([0, 1, -1]))),
    ("multi_margin target size", lambda L: F(L).multi_margin_loss(L.zeros(3, 4), L.tensor([0, 1]))),
    ("multi_margin float target", lambda L: F(L).multi_margin_loss(L.zeros(3, 4), L.tensor([0.0, 1.0, 1.0]))),
    ("multi_margin int32 target", lambda L: F(L).multi_margin_loss(L.zeros(3, 4), L.tensor([0, 1, 1],
                                                                                            dtype=L.int32))),
    ("multi_margin no classes", lambda L: F(L).multi_margin_loss(L.zeros(3, 0), L.tensor([0, 0, 0]))),
    ("multilabel_margin range", lambda L: F(L).multilabel_margin_loss(L.zeros(2, 4), L.tensor([[1, 2, -1, 0],
                                                                                              [3, 3, 5, -1]]))),
    ("multilabel_margin -2", lambda L: F(L).multilabel_margin_loss(L.zeros(2, 4), L.tensor([[1, 2, -1, 0],
                                                                                           [3, 3, -2, -1]]))),
    ("multilabel_margin size", lambda L: F(L).multilabel_margin_loss(L.zeros(2, 4), L.tensor([[1, 2, -1],
                                                                                             [3, 3, 2]]))),
    ("multilabel_margin int32", lambda L: F(L).multilabel_margin_loss(L.zeros(2, 4), L.zeros(2, 4, dtype=L.int32))),
    ("triplet dims", lambda L: F(L).triplet_margin_loss(L.zeros(3, 4), L.zeros(3, 4), L.zeros(4))),
    ("triplet_with_distance margin", lambda L: F(L).triplet_margin_with_distance_loss(L.zeros(3), L.zeros(3),
                                                                                      L.zeros(3), margin=0.0)),
    ("triplet_with_distance dims", lambda L: F(L).triplet_margin_with_distance_loss(L.zeros(3), L.zeros(3),
                                                                                    L.zeros(2, 3))),
    ("soft cross_entropy long target", lambda L: F(L).cross_entropy(L.zeros(3, 4), L.ones(3, 4, dtype=L.long))),
    ("soft cross_entropy ignore_index", lambda L: F(L).cross_entropy(L.zeros(3, 4), L.ones(3, 4), ignore_index=1)),
    ("soft cross_entropy weight", lambda L: F(L).cross_entropy(L.zeros(3, 4), L.ones(3, 4), weight=L.ones(3))),
    ("soft cross_entropy label_smoothing", lambda L: F(L).cross_entropy(L.zeros(3, 4), L.ones(3, 4),
                                                                        label_smoothing=1.5)),
    ("cross_entropy label_smoothing", lambda L: F(L).cross_entropy(L.zeros(3, 4), L.tensor([0, 1, 2]),
                                                                   label_smoothing=1.5)),
    ("cross_entropy batch", lambda L: F(L).cross_entropy(L.zeros(3, 4), L.tensor([1, 2]))),
    ("cross_entropy float class target", lambda L: F(L).cross_entropy(L.zeros(3, 4), L.tensor([1.0, 2.0, 3.0]))),
    ("nll (N, C, d) target shape", lambda L: F(L).nll_loss(L.zeros(2, 3, 4), L.zeros(2, 5, dtype=L.long))),
    ("ctc float lengths", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(2, 2, dtype=L.long),
                                                  L.tensor([5.0, 4.0]), L.tensor([2, 1]))),
    ("ctc input length too long", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(2, 2, dtype=L.long),
                                                          L.tensor([5, 6]), L.tensor([2, 1]))),
    ("ctc target length too long", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(2, 2, dtype=L.long),
                                                           L.tensor([5, 4]), L.tensor([3, 1]))),
    ("ctc negative target length", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(2, 2, dtype=L.long),
                                                           L.tensor([5, 4]), L.tensor([-1, 1]))),
    ("ctc lengths count", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(2, 2, dtype=L.long),
                                                  L.tensor([5, 4, 1]), L.tensor([2, 1]))),
    ("ctc blank", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(2, 2, dtype=L.long), (5, 4), (2, 1), blank=4)),
    ("ctc concatenated size", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(4, dtype=L.long), (5, 4), (2, 1))),
    ("ctc mixed lengths", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(2, 2, dtype=L.long), (5, 4),
                                                  L.tensor([2, 1]))),
    ("ctc int lengths", lambda L: F(L).ctc_loss(L.zeros(5, 4), L.ones(2, dtype=L.long), 5, 2)),
    ("ctc reduction", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(2, 2, dtype=L.long), (5, 4), (2, 1),
                                              reduction="foo")),
    ("ctc empty batch", lambda L: F(L).ctc_loss(L.zeros(5, 0, 4), L.zeros(0, 2, dtype=L.long), (), ())),
    ("ctc 3-d targets", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4), L.ones(1, 2, 2, dtype=L.long), (5, 4), (2, 1))),
    ("ctc 1-d log_probs", lambda L: F(L).ctc_loss(L.zeros(4), L.ones(1, 2, dtype=L.long), (5,), (2,))),
    ("ctc integer log_probs", lambda L: F(L).ctc_loss(L.zeros(5, 2, 4, dtype=L.long), L.ones(2, 2, dtype=L.long),
                                                      (5, 4), (2, 1))),
    ("MultiMarginLoss p", lambda L: L.nn.MultiMarginLoss(p=3)),
    ("TripletMarginLoss margin", lambda L: L.nn.TripletMarginLoss(margin=0.0)),
]


def _raised(fn, L):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(L)
    except Exception as e:  # noqa: BLE001 -- the type is what is compared
        return type(e)
    return None


@pytest.mark.parametrize("label, fn", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_as_torch(label, fn):
    expected = _raised(fn, torch)
    assert expected is not None, f"torch accepts {label}"
    with pytest.raises(expected):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(cr)


def test_regression_shape_mismatch_warns_and_broadcasts_as_torch():
    for name in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"):
        with pytest.warns(UserWarning, match="target size"):
            out = getattr(F(cr), name)(cr.tensor(X), cr.tensor(Y[0]))
        with pytest.warns(UserWarning):
            ref = getattr(F(torch), name)(torch.tensor(X), torch.tensor(Y[0]))
        assert_close(out, ref)


def test_ctc_out_of_range_target_raises():
    # torch reads outside log_probs here (an undefined value); chainrule refuses
    with pytest.raises(RuntimeError, match="ctc_loss"):
        F(cr).ctc_loss(cr.zeros(5, 2, 4), cr.tensor([[1, 5], [1, 1]]), (5, 4), (2, 1))
