"""torch.nn's ranking, margin and triplet loss modules and the distance modules (PairwiseDistance,
CosineSimilarity); the regression, likelihood and classification losses are in ``loss.py``."""
from . import functional_losses as F
from .loss import _Loss, _WeightedLoss
from .module import Module


class CosineEmbeddingLoss(_Loss):
    """Whether two inputs are similar (1) or dissimilar (-1), by their cosine, as ``torch.nn.CosineEmbeddingLoss``.

    `l_n = 1 - cos(x1_n, x2_n)` where y_n = 1, and `max(0, cos(x1_n, x2_n) - margin)` where y_n = -1.

    Parameters
    ----------
    margin : float, default 0.0
        In [-1, 1]; 0 to 0.5 is suggested.
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input1: `(N, D)` or `(D)`, N the batch size, D the embedding dim.
    - Input2: `(N, D)` or `(D)`, the same shape as input1.
    - Target: `(N)` or `()`, values 1 or -1.
    - Output: a scalar; with ``reduction='none'``, `(N)` or `()`.

    Examples
    --------
    >>> loss = nn.CosineEmbeddingLoss()
    >>> x = cr.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> loss(x, cr.tensor([[0.0, 1.0], [1.0, 1.0]]), cr.tensor([1, -1]))
    tensor(0.8536)
    """
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """Ranks two inputs: x1 above x2 where y = 1, below where y = -1, as ``torch.nn.MarginRankingLoss``.

    `l_n = max(0, -y_n (x1_n - x2_n) + margin)`.

    Parameters
    ----------
    margin : float, default 0.0
        The margin by which the right input must win.
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input1: `(N)` or `()`.
    - Input2: `(N)` or `()`, the same shape as input1.
    - Target: `(N)` or `()`, values 1 or -1.
    - Output: a scalar; with ``reduction='none'``, `(N)` or `()`.

    Examples
    --------
    >>> loss = nn.MarginRankingLoss(margin=0.5)
    >>> loss(cr.tensor([1.0, 1.0]), cr.tensor([0.0, 0.0]), cr.tensor([1.0, -1.0]))
    tensor(0.7500)
    """
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """A hinge loss for learning whether inputs (e.g. distances) are similar, as ``torch.nn.HingeEmbeddingLoss``.

    `l_n = x_n` where y_n = 1, and `max(0, margin - x_n)` where y_n = -1.

    Parameters
    ----------
    margin : float, default 1.0
        The margin for the dissimilar pairs.
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Target: `(*)`, the same shape as the input, values 1 or -1.
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.HingeEmbeddingLoss()
    >>> loss(cr.tensor([0.3, 0.2]), cr.tensor([1.0, -1.0]))
    tensor(0.5500)
    """
    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """The two-class logistic loss `log(1 + exp(-y x))` for targets 1 or -1, as ``torch.nn.SoftMarginLoss``.

    `l = sum_i log(1 + exp(-y_i x_i)) / x.nelement()` with ``'mean'``.

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Target: `(*)`, the same shape as the input, values 1 or -1.
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.SoftMarginLoss()
    >>> loss(cr.tensor([0.0, 0.0]), cr.tensor([1.0, -1.0]))
    tensor(0.6931)
    """
    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """A one-versus-all logistic loss over C classes for multi-label targets, as ``torch.nn.MultiLabelSoftMarginLoss``.

    `l_n = -1 / C sum_i w_i (y_{n,i} log(sigmoid(x_{n,i})) + (1 - y_{n,i}) log(sigmoid(-x_{n,i})))`.

    Parameters
    ----------
    weight : Tensor, optional
        A weight for each class, shape (C,).
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(N, C)` or `(C)`, N the batch size, C the number of classes.
    - Target: `(N, C)` or `(C)`, the same shape as the input, values 0 or 1.
    - Output: a scalar; with ``reduction='none'``, `(N)`.

    Examples
    --------
    >>> loss = nn.MultiLabelSoftMarginLoss()
    >>> loss(cr.zeros(2, 3), cr.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]))
    tensor(0.6931)
    """
    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """A multi-class multi-label hinge loss, as ``torch.nn.MultiLabelMarginLoss``.

    `l_n = sum over j in the target classes and i not in them of max(0, 1 - (x[y_j] - x[i])) / C`.
    Each target row lists class indices, ended by the first -1 (the rest is ignored).

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(C)` or `(N, C)`, N the batch size, C the number of classes.
    - Target: `(C)` or `(N, C)`, int64 class indices padded with -1, the shape of the input.
    - Output: a scalar; with ``reduction='none'``, `(N)` or `()`.

    Examples
    --------
    >>> loss = nn.MultiLabelMarginLoss()
    >>> x = cr.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> y = cr.tensor([[3, 0, -1, 1]])
    >>> loss(x, y)
    tensor(0.8500)
    """
    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """A multi-class hinge (margin) loss between scores and class indices, as ``torch.nn.MultiMarginLoss``.

    `l_n = sum over i != y of max(0, w_y (margin - x[y] + x[i]))^p / C`.

    Parameters
    ----------
    p : int, default 1
        1 or 2.
    margin : float, default 1.0
        The margin.
    weight : Tensor, optional
        A weight for each class, shape (C,).
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(N, C)` or `(C)`, N the batch size, C the number of classes.
    - Target: `(N)` or `()`, class indices in [0, C).
    - Output: a scalar; with ``reduction='none'``, `(N)` or `()`.

    Examples
    --------
    >>> loss = nn.MultiMarginLoss()
    >>> x = cr.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> loss(x, cr.tensor([3]))
    tensor(0.3250)
    """
    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.dim()}D instead")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """The triplet loss of an anchor, a positive and a negative example, as ``torch.nn.TripletMarginLoss``.

    `l_n = max(d(a_n, p_n) - d(a_n, n_n) + margin, 0)` with `d(x, y) = norm(x - y + eps, p)`.

    Parameters
    ----------
    margin : float, default 1.0
        The margin.
    p : float, default 2.0
        The norm degree of the pairwise distance.
    eps : float, default 1e-6
        Added to the differences for numerical stability.
    swap : bool, default False
        If True, uses the distance swap (the smaller of d(a, n) and d(p, n)).
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input (anchor, positive, negative): `(N, D)` or `(D)`, D the vector dim.
    - Output: a scalar; with ``reduction='none'``, `(N)` or `()`.

    Examples
    --------
    >>> loss = nn.TripletMarginLoss(margin=1.0, p=2)
    >>> anchor, positive, negative = cr.randn(100, 128), cr.randn(100, 128), cr.randn(100, 128)
    >>> loss(anchor, positive, negative).shape
    chainrule.Size([])
    >>> loss(cr.zeros(1, 2), cr.zeros(1, 2), cr.ones(1, 2))
    tensor(0.)
    """
    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """The triplet loss with a custom distance function, as ``torch.nn.TripletMarginWithDistanceLoss``.

    `l_n = max(d(a_n, p_n) - d(a_n, n_n) + margin, 0)`, d the ``distance_function``.

    Parameters
    ----------
    distance_function : callable, optional
        A nonnegative distance between two tensors; default PairwiseDistance().
    margin : float, default 1.0
        The margin.
    swap : bool, default False
        If True, uses the distance swap (the smaller of d(a, n) and d(p, n)).
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input (anchor, positive, negative): `(N, *)`, `*` any dims the distance function takes.
    - Output: a scalar; with ``reduction='none'``, `(N)`.

    Examples
    --------
    >>> loss = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance())
    >>> loss(cr.randn(10, 4), cr.randn(10, 4), cr.randn(10, 4)).shape
    chainrule.Size([])
    >>> cosine = lambda x, y: 1.0 - nn.functional.cosine_similarity(x, y)
    >>> loss = nn.TripletMarginWithDistanceLoss(distance_function=cosine, margin=0.5, reduction="none")
    >>> loss(cr.randn(10, 4), cr.randn(10, 4), cr.randn(10, 4)).shape
    chainrule.Size([10])
    """
    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                             f"instead")
        self.distance_function = distance_function if distance_function is not None else F.pairwise_distance
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative,
                                                   distance_function=self.distance_function, margin=self.margin,
                                                   swap=self.swap, reduction=self.reduction)


# ---- distances ----------------------------------------------------------------------------------------

class PairwiseDistance(Module):
    """The p-norm distance between the rows of two inputs, as ``torch.nn.PairwiseDistance``.

    `dist(x, y) = norm(x - y + eps, p)` over the last dim.

    Parameters
    ----------
    p : float, default 2.0
        The norm degree (may be negative).
    eps : float, default 1e-6
        Added to the differences to avoid division by zero.
    keepdim : bool, default False
        If True, keeps the last dim (size 1).

    Shape
    -----
    - Input1: `(N, D)` or `(D)`, N the batch size, D the vector dim.
    - Input2: `(N, D)` or `(D)`, the same shape as input1.
    - Output: `(N)` or `()`; with ``keepdim``, `(N, 1)` or `(1)`.

    Examples
    --------
    >>> pdist = nn.PairwiseDistance(p=2)
    >>> pdist(cr.randn(100, 128), cr.randn(100, 128)).shape
    chainrule.Size([100])
    >>> pdist(cr.tensor([[3.0, 0.0]]), cr.tensor([[0.0, 4.0]]))
    tensor([5.])
    """
    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """The cosine similarity of two inputs along ``dim``, as ``torch.nn.CosineSimilarity``.

    `similarity = sum(x1 / max(norm(x1), eps) * x2 / max(norm(x2), eps))` along ``dim``.

    Parameters
    ----------
    dim : int, default 1
        The dim along which the similarity is computed.
    eps : float, default 1e-8
        A small value to avoid division by zero.

    Shape
    -----
    - Input1: `(*_1, D, *_2)`, D at position ``dim``.
    - Input2: `(*_1, D, *_2)`, the same number of dims as input1, broadcastable with it.
    - Output: `(*_1, *_2)`.

    Examples
    --------
    >>> cos = nn.CosineSimilarity(dim=1)
    >>> cos(cr.randn(100, 128), cr.randn(100, 128)).shape
    chainrule.Size([100])
    >>> cos(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


__all__ = ["CosineEmbeddingLoss", "MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
           "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss", "MultiMarginLoss", "TripletMarginLoss",
           "TripletMarginWithDistanceLoss", "PairwiseDistance", "CosineSimilarity"]
