"""Classifier heads that compute their loss: LinearCrossEntropyLoss (torch.nn.modules.loss) and
AdaptiveLogSoftmaxWithLoss (torch.nn.modules.adaptive). Compositions of Linear, log_softmax,
gather and cross_entropy, with torch's parameters, names, checks and outputs."""
import math
from collections import namedtuple

from ..tensor import functions as _functions
from .functional_losses import linear_cross_entropy
from .functional import log_softmax
from .layers import Linear
from .loss import _WeightedLoss
from .module import Module, Sequential, ModuleList


class LinearCrossEntropyLoss(_WeightedLoss):
    """A Linear layer followed by CrossEntropyLoss, as ``torch.nn.LinearCrossEntropyLoss``.

    `loss = cross_entropy(input W^T + b, target)`; ``self.linear`` stores the weight flat,
    (num_classes x prod(out_features), in_features), reshaped in forward to
    (num_classes, *out_features, in_features) for a K-dimensional loss. Forward takes
    `(input, target)`.

    Parameters
    ----------
    in_features : int
        Size of each input sample.
    num_classes : int
        Number of classes C.
    out_features : tuple of ints, default ()
        Keyword only: the dims (d_1, ..., d_K) of a K-dimensional loss.
    bias : bool, default False
        Keyword only: if True, the linear layer has a bias.
    reduction : str, default 'mean'
        ``'none'``, ``'mean'`` (the weighted mean) or ``'sum'``.
    weight : Tensor, optional
        A weight for each class, shape (C,).
    ignore_index : int, optional
        A class-index target value that is ignored (None: -100, as CrossEntropyLoss).
    label_smoothing : float, default 0.0
        In [0, 1]: the target becomes a mix of the original and the uniform distribution.
    options : optional
        Torch's chunking options (memory saving; the same loss).

    Shape
    -----
    - Input: `(N, in_features)` or `(in_features)`.
    - Target: class indices `(N)` or `()`, `(N, d_1, ..., d_K)` with out_features; or class
      probabilities of the logits' shape `(N, C, d_1, ..., d_K)`.
    - Output: a scalar; with ``reduction='none'``, the shape of the class-index target.

    Notes
    -----
    Where chainrule differs from torch: ``options`` is accepted and ignored; the logits are computed
    whole (the result is the same, the memory use is not).

    Examples
    --------
    >>> loss = nn.LinearCrossEntropyLoss(16, 10)
    >>> loss(cr.randn(4, 16), cr.tensor([1, 0, 9, 3])).shape
    chainrule.Size([])
    >>> loss = nn.LinearCrossEntropyLoss(16, 10, out_features=(5,), reduction="none")
    >>> loss(cr.randn(4, 16), cr.randint(0, 10, (4, 5))).shape
    chainrule.Size([4, 5])
    """

    def __init__(self, in_features, num_classes, *, out_features=(), bias=False, device=None, dtype=None,
                 reduction="mean", weight=None, ignore_index=None, label_smoothing=0.0, options=None):
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got {tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError(f"expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        super().__init__(weight=weight, reduction=reduction)
        self.num_classes, self.out_features = num_classes, out_features
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias, device=device,
                             dtype=dtype)
        self.options = options

    def forward(self, input, target):
        w = self.linear.weight.reshape((self.num_classes, *self.out_features, self.linear.in_features))
        b = None if self.linear.bias is None else self.linear.bias.reshape((self.num_classes, *self.out_features))
        return linear_cross_entropy(input, w, target, linear_bias=b, weight=self.weight, reduction=self.reduction,
                                    ignore_index=self.ignore_index, label_smoothing=self.label_smoothing,
                                    options=self.options)

    def extra_repr(self):
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, reduction={self.reduction}, "
                f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, options={self.options}")


_cat = _functions["cat"]
_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation for many classes (Grave et al. 2016), as ``torch.nn.AdaptiveLogSoftmaxWithLoss``.

    The classes, sorted by frequency (class 0 the most frequent), are split by ``cutoffs`` into a
    shortlist [0, cutoffs[0]) and clusters [cutoffs[i], cutoffs[i+1]); the head scores the shortlist
    plus one entry per cluster, and cluster i's two-layer tail (in_features to
    floor(in_features / div_value^(i+1)) to the cluster's size) scores its classes. Forward takes
    `(input, target)` and returns a namedtuple `(output, loss)`: each row's target log-probability and
    their mean negative log-likelihood. ``log_prob(input)`` gives every class's log-probability and
    ``predict(input)`` the most likely class.

    Parameters
    ----------
    in_features : int
        Number of features of the input.
    n_classes : int
        Number of classes.
    cutoffs : sequence of int
        Increasing cutoffs in [1, n_classes - 1] that assign the classes to clusters.
    div_value : float, default 4.0
        The divisor of the tails' hidden sizes.
    head_bias : bool, default False
        If True, the head has a bias.

    Shape
    -----
    - input: `(N, in_features)` or `(in_features)`.
    - target: `(N)` or `()`, class indices in [0, n_classes).
    - output: `(N)` or `()`.
    - loss: a scalar.

    Examples
    --------
    >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 100, cutoffs=[10, 40], div_value=2.0)
    >>> out = asm(cr.randn(8, 16), cr.randint(0, 100, (8,)))
    >>> out.output.shape, out.loss.shape
    (chainrule.Size([8]), chainrule.Size([]))
    >>> asm.log_prob(cr.randn(8, 16)).exp().sum(1).allclose(cr.ones(8))
    True
    >>> asm.predict(cr.randn(8, 16)).shape
    chainrule.Size([8])
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, device=device, dtype=dtype),
                                        Linear(hsz, osz, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{input_.shape}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{input_.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.ndim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        n = target.shape[0]
        output = input.new_zeros(n)
        gather_inds = target.clone()  # the head's column per row: the class, or its cluster's entry
        used = 0
        for i, (low, high) in enumerate(zip([0] + self.cutoffs, self.cutoffs)):
            mask = (target >= low) & (target < high)
            rows = mask.nonzero().reshape(-1)
            if rows.numel() == 0:
                continue
            used += rows.numel()
            if i == 0:
                continue
            relative = target[mask] - low
            logprob = log_softmax(self.tail[i - 1](input.index_select(0, rows)), dim=1)
            gather_inds = gather_inds.index_fill(0, rows, self.shortlist_size + i - 1)
            output = output.index_add(0, rows, logprob.gather(1, relative.unsqueeze(1)).squeeze(1))
        if used != n:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{target.min().item()}, {target.max().item()}] were found. ")
        head_logprob = log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, gather_inds.unsqueeze(1)).squeeze()
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input, head_output):
        head_logprob = log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return _cat(parts, 1)

    def log_prob(self, input):
        """Log-probabilities of all n_classes classes, (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most probable class per row (log_prob(input).argmax(1), computing the tails only for the
        rows whose head's best entry is a cluster)."""
        head_output = self.head(input)
        output = head_output.argmax(dim=1)
        outside = output >= self.shortlist_size
        if not outside.any():
            return output
        if outside.all():
            return self._get_full_log_prob(input, head_output).argmax(dim=1)
        output[outside] = self._get_full_log_prob(input[outside], head_output[outside]).argmax(dim=1)
        return output
