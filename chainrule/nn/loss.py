"""torch.nn's loss modules (and the distance modules PairwiseDistance, CosineSimilarity): each holds its
options and calls its ``nn.functional`` function. The legacy ``size_average``/``reduce`` arguments
set ``reduction`` as torch maps them; a reduction torch would reject at the first call is rejected
here at construction already (ValueError, as torch's)."""
from . import functional_losses as F
from .functional_losses import _legacy
from .module import Module


class _Loss(Module):
    _reductions = ("mean", "sum", "none")

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy(size_average, reduce, reduction)
        if reduction not in self._reductions:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """The mean absolute error between input and target, as ``torch.nn.L1Loss``.

    `l_n = abs(x_n - y_n)`, then averaged (``'mean'``), summed (``'sum'``) or kept (``'none'``).

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
    - Target: `(*)`, the same shape as the input.
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.L1Loss()
    >>> loss(cr.tensor([1.0, 2.0, 3.0]), cr.tensor([1.0, 4.0, 0.0]))
    tensor(1.6667)
    >>> nn.L1Loss(reduction="none")(cr.randn(3, 5), cr.randn(3, 5)).shape
    chainrule.Size([3, 5])
    """
    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """The mean squared error between input and target, as ``torch.nn.MSELoss``.

    `l_n = (x_n - y_n)^2`, then averaged (``'mean'``), summed (``'sum'``) or kept (``'none'``).

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
    - Target: `(*)`, the same shape as the input.
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.MSELoss()
    >>> loss(cr.tensor([1.0, 2.0, 3.0]), cr.tensor([1.0, 4.0, 0.0]))
    tensor(4.3333)
    >>> x = cr.randn(3, 5, requires_grad=True)
    >>> loss(x, cr.randn(3, 5)).backward()
    >>> x.grad.shape
    chainrule.Size([3, 5])
    """
    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """A squared term for small errors and an absolute one for large errors, as ``torch.nn.SmoothL1Loss``.

    With `d = x_n - y_n`: `l_n = 0.5 d^2 / beta if abs(d) < beta, else abs(d) - 0.5 beta`
    (HuberLoss divided by beta; ``beta=0`` gives L1Loss).

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.
    beta : float, default 1.0
        Where the loss changes from squared to absolute (at least 0).

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Target: `(*)`, the same shape as the input.
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.SmoothL1Loss()
    >>> loss(cr.tensor([0.0, 0.0]), cr.tensor([0.5, 3.0]))
    tensor(1.3125)
    """
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """The Huber loss, squared for small errors and linear for large ones, as ``torch.nn.HuberLoss``.

    With `d = x_n - y_n`: `l_n = 0.5 d^2 if abs(d) < delta, else delta (abs(d) - 0.5 delta)`.

    Parameters
    ----------
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.
    delta : float, default 1.0
        Where the loss changes from squared to linear (positive).

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Target: `(*)`, the same shape as the input.
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.HuberLoss(delta=2.0)
    >>> loss(cr.tensor([0.0, 0.0]), cr.tensor([1.0, 4.0]))
    tensor(3.2500)
    """
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """The Kullback-Leibler divergence between a target distribution and the input's, as ``torch.nn.KLDivLoss``.

    `l_n = y_n (log(y_n) - x_n)`, with the input x given as log-probabilities (and the target y as
    probabilities, or as log-probabilities with ``log_target``). ``reduction='batchmean'`` divides the
    sum by the batch size: the mathematical KL divergence (``'mean'`` divides by every element).

    Parameters
    ----------
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'``, ``'batchmean'``, ``'sum'`` or ``'mean'``. An invalid value raises ValueError at
        construction (torch: at the first call).
    log_target : bool, default False
        If True, the target is given as log-probabilities.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Target: `(*)`, the same shape as the input.
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.KLDivLoss(reduction="batchmean")
    >>> input = nn.functional.log_softmax(cr.randn(3, 5), dim=1)
    >>> target = nn.functional.softmax(cr.randn(3, 5), dim=1)
    >>> loss(input, target).shape
    chainrule.Size([])
    >>> p = cr.tensor([[0.5, 0.5]])
    >>> loss(p.log(), p)
    tensor(0.)
    """
    _reductions = ("mean", "sum", "none", "batchmean")

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of a target under a Poisson distribution of mean input, as ``torch.nn.PoissonNLLLoss``.

    `l_n = exp(x_n) - y_n x_n` with ``log_input`` (the input is the log of the rate), else
    `l_n = x_n - y_n log(x_n + eps)`; ``full`` adds the Stirling term `y log(y) - y + 0.5 log(2 pi y)`
    where y > 1.

    Parameters
    ----------
    log_input : bool, default True
        If True, the input is the log of the Poisson rate.
    full : bool, default False
        If True, adds the Stirling approximation term.
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    eps : float, default 1e-8
        Avoids log(0) when ``log_input=False``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Target: `(*)`, the same shape as the input.
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.PoissonNLLLoss()
    >>> loss(cr.tensor([0.0, 0.0]), cr.tensor([1.0, 3.0]))
    tensor(1.)
    """
    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """The negative log-likelihood of a target under N(input, var), as ``torch.nn.GaussianNLLLoss``.

    `l_n = 0.5 (log(max(var, eps)) + (x_n - y_n)^2 / max(var, eps))` (+ `0.5 log(2 pi)` with
    ``full``). Forward takes `(input, target, var)`.

    Parameters
    ----------
    full : bool, default False
        If True, includes the constant term.
    eps : float, default 1e-6
        Clamps the variance from below for stability.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(N, *)` or `(*)`, `*` any number of additional dims.
    - Target: `(N, *)` or `(*)`, the input's shape (or the same with one dim of size 1, broadcast).
    - Var: `(N, *)` or `(*)`, the input's shape, or with one dim of size 1 or the last dim missing
      (heteroscedastic or homoscedastic), all positive.
    - Output: a scalar; with ``reduction='none'``, `(N, *)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.GaussianNLLLoss()
    >>> loss(cr.randn(5, 2), cr.randn(5, 2), cr.ones(5, 1)).shape
    chainrule.Size([])
    >>> loss(cr.tensor([1.0]), cr.tensor([3.0]), cr.tensor([1.0]))
    tensor(2.)
    """
    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """The binary cross entropy between probabilities and targets, as ``torch.nn.BCELoss``.

    `l_n = -w_n (y_n log(x_n) + (1 - y_n) log(1 - x_n))`, the logs clamped at -100 so that a
    probability of 0 or 1 gives a finite loss. Inputs are probabilities (after a Sigmoid); on logits
    use BCEWithLogitsLoss.

    Parameters
    ----------
    weight : Tensor, optional
        A rescaling weight for each element, broadcast to the input's shape.
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(*)`, any number of dims, values in [0, 1].
    - Target: `(*)`, the same shape as the input, values in [0, 1].
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.BCELoss()
    >>> loss(cr.tensor([0.5, 0.9]), cr.tensor([1.0, 1.0]))
    tensor(0.3993)
    >>> m = nn.Sigmoid()
    >>> loss(m(cr.randn(3, requires_grad=True)), cr.tensor([0.0, 1.0, 1.0])).shape
    chainrule.Size([])
    """
    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """A Sigmoid and BCELoss in one, numerically stable, as ``torch.nn.BCEWithLogitsLoss``.

    `l_n = -w_n (p y_n log(sigmoid(x_n)) + (1 - y_n) log(1 - sigmoid(x_n)))`, computed with the
    log-sum-exp trick; p is ``pos_weight`` (per class, the last dim), which trades recall for precision.

    Parameters
    ----------
    weight : Tensor, optional
        A rescaling weight for each element, broadcast to the input's shape.
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.
    pos_weight : Tensor, optional
        A weight for the positive examples, broadcast along the last dim (one per class).

    Shape
    -----
    - Input: `(*)`, any number of dims (logits).
    - Target: `(*)`, the same shape as the input, values in [0, 1].
    - Output: a scalar; with ``reduction='none'``, `(*)`, the shape of the input.

    Examples
    --------
    >>> loss = nn.BCEWithLogitsLoss()
    >>> loss(cr.tensor([0.0, 2.0]), cr.tensor([1.0, 0.0]))
    tensor(1.4100)
    >>> nn.BCEWithLogitsLoss(pos_weight=cr.ones(64))(cr.randn(10, 64), cr.ones(10, 64)).shape
    chainrule.Size([])
    """
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """The negative log-likelihood loss of class indices under log-probabilities, as ``torch.nn.NLLLoss``.

    `l_n = -w_{y_n} x_{n, y_n}`; ``'mean'`` divides the sum by the sum of the weights `w_{y_n}` of the
    targets that count, and targets equal to ``ignore_index`` count for nothing. The input holds
    log-probabilities (after LogSoftmax); CrossEntropyLoss takes logits.

    Parameters
    ----------
    weight : Tensor, optional
        A weight for each class, shape (C,).
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    ignore_index : int, default -100
        A target value that is ignored and does not contribute to the input gradient.
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.

    Shape
    -----
    - Input: `(N, C)` or `(C)`, or `(N, C, d_1, ..., d_K)` with K >= 1 for K-dimensional loss.
    - Target: `(N)` or `()`, or `(N, d_1, ..., d_K)`: class indices in [0, C) (int64).
    - Output: a scalar; with ``reduction='none'``, the shape of the target.

    Examples
    --------
    >>> loss = nn.NLLLoss()
    >>> logp = nn.functional.log_softmax(cr.randn(3, 5, requires_grad=True), dim=1)
    >>> loss(logp, cr.tensor([1, 0, 4])).shape
    chainrule.Size([])
    >>> loss(cr.tensor([[-1.0, -2.0], [-3.0, -4.0]]), cr.tensor([0, 1]))
    tensor(2.5000)
    >>> nn.NLLLoss(reduction="none")(cr.randn(2, 4, 8, 8), cr.zeros(2, 8, 8, dtype=cr.int64)).shape
    chainrule.Size([2, 8, 8])
    """
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """The cross entropy between logits and class indices or class probabilities, as ``torch.nn.CrossEntropyLoss``.

    With class indices: `l_n = -w_{y_n} log(exp(x_{n, y_n}) / sum_c exp(x_{n, c}))`, i.e.
    NLLLoss(LogSoftmax(x)); ``'mean'`` divides by the sum of the targets' weights. With class
    probabilities (a float target shaped like the input): `l_n = -sum_c w_c y_{n, c} log softmax(x_n)_c`.

    Parameters
    ----------
    weight : Tensor, optional
        A weight for each class, shape (C,).
    size_average, reduce : bool, optional
        Deprecated, as torch's; they set ``reduction``.
    ignore_index : int, default -100
        A target value that is ignored (class-index targets only).
    reduction : str, default 'mean'
        ``'none'`` (no reduction), ``'mean'`` (the mean of the output) or ``'sum'``. Where chainrule
        differs from torch: an invalid value raises ValueError at construction, not at the first call.
    label_smoothing : float, default 0.0
        In [0, 1]: the target becomes a mix of the original and the uniform distribution.

    Shape
    -----
    - Input: `(N, C)` or `(C)`, or `(N, C, d_1, ..., d_K)` with K >= 1 for K-dimensional loss (logits).
    - Target: class indices of shape `(N)`, `()` or `(N, d_1, ..., d_K)` in [0, C), or class
      probabilities of the input's shape.
    - Output: a scalar; with ``reduction='none'``, `(N)`, `()` or `(N, d_1, ..., d_K)`.

    Examples
    --------
    >>> loss = nn.CrossEntropyLoss()
    >>> input = cr.randn(3, 5, requires_grad=True)
    >>> output = loss(input, cr.tensor([1, 0, 4]))
    >>> output.backward()
    >>> output.shape, input.grad.shape
    (chainrule.Size([]), chainrule.Size([3, 5]))
    >>> loss(cr.zeros(2, 4), cr.tensor([0, 3]))
    tensor(1.3863)
    >>> loss(cr.zeros(2, 4), nn.functional.softmax(cr.randn(2, 4), dim=1))
    tensor(1.3863)
    """
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class CTCLoss(_Loss):
    """The connectionist temporal classification loss, as ``torch.nn.CTCLoss``.

    The negative log of the total probability of every alignment of the (unaligned) target with the
    input sequence, summed over alignments by dynamic programming. Forward takes
    `(log_probs, targets, input_lengths, target_lengths)`; log_probs are LogSoftmax outputs.

    Parameters
    ----------
    blank : int, default 0
        The blank label.
    reduction : str, default 'mean'
        ``'none'``, ``'mean'`` (each loss divided by its target length, then the mean over the batch)
        or ``'sum'``.
    zero_infinity : bool, default False
        If True, infinite losses (an input too short for its target) and their gradients become zero.

    Shape
    -----
    - Log_probs: `(T, N, C)` or `(T, C)`: T input length, N batch size, C classes including the blank.
    - Targets: `(N, S)` (padded, S the longest target) or `(sum(target_lengths))` (concatenated);
      class indices that are not the blank.
    - Input_lengths: `(N)` or `()`, each at most T.
    - Target_lengths: `(N)` or `()`.
    - Output: a scalar; with ``reduction='none'``, `(N)` or `()`.

    Examples
    --------
    >>> T, C, N, S = 50, 20, 4, 10
    >>> log_probs = cr.randn(T, N, C).log_softmax(2).detach().requires_grad_()
    >>> targets = cr.randint(1, C, (N, S), dtype=cr.int64)
    >>> loss = nn.CTCLoss()
    >>> loss(log_probs, targets, cr.full((N,), T, dtype=cr.int64), cr.full((N,), S, dtype=cr.int64)).shape
    chainrule.Size([])
    """
    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)


__all__ = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss",
           "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss", "CTCLoss"]
