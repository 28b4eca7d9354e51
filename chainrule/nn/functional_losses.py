"""nn.functional's losses and distances, with torch's signatures (``nn.functional`` re-exports them).

Each checks its arguments as torch does and composes primitives (log_softmax, where, clamp, norm,
indexing); the fused ones are single ops of ``chainrule.ops.nn``: softmax cross-entropy with class
indices, binary cross-entropy and ctc_loss's alpha-beta recursions (CtcLoss). The legacy keywords
``size_average``/``reduce`` are mapped to a reduction as torch maps them (with its warning).
"""
import math
import warnings

import numpy as np

from ..tensor import Tensor
from ..ops.nn import check_float as _check_float
from ..ops.loss import (BinaryCrossEntropy, CtcLoss, SoftmaxCrossEntropy, class_targets as _class_targets,
                        coefficients as _coefficients, per_target as _per_target, same_shape as _same_shape)
from ..ops.elementwise import LogAddExp, Where
from ..ops.linalg import Linear
from ..backend import namespace
from ..backend.random import SCALAR_NAMES
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.node import Node



def _name(t):
    """torch's name of a tensor's dtype in kernel messages (Long, Float, ...)."""
    return SCALAR_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _ns(t):
    return namespace(t._data)


def _const(array):
    """A graph-free tensor of an array (masks, indices)."""
    return Tensor._make(array)


def _log1p_exp(x):
    """log(1 + e^x) for any x without overflow, as logsumexp(0, x): its gradient is sigmoid(x)
    everywhere (splitting at the kink, relu(x) + log(1 + e^-|x|), gives 0 instead of 1/2 at x = 0)."""
    return LogAddExp.call(x, Tensor._make(namespace(x._data).zeros((), x._data.dtype)))  # a 0-d zero: ONNX
    # export keeps a dynamic batch axis (a zeros tensor of x's shape would freeze it)


def _legacy(size_average, reduce, reduction):
    """torch's _Reduction.legacy_get_string: size_average/reduce, when given, decide the reduction."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  UserWarning, stacklevel=3)
    return ret


def _check_reduction(reduction, op):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction")


# torch's grad_fn name for the losses it runs as one kernel (loss.grad_fn, which programs print),
# put on the last node of chainrule's composition
_GRAD_FN_NAMES = {"mse_loss": "MseLossBackward0", "smooth_l1_loss": "SmoothL1LossBackward0",
                  "huber_loss": "HuberLossBackward0", "binary_cross_entropy": "BinaryCrossEntropyBackward0",
                  "binary_cross_entropy_with_logits": "BinaryCrossEntropyWithLogitsBackward0",
                  "cross_entropy": "NllLossBackward0", "nll_loss": "NllLossBackward0"}


def _edge(t):
    """A Tensor (or _ShownNode) as an entry of a node's parents."""
    return t if isinstance(t, _ShownNode) else t._node if t._node is not None else t if t.requires_grad else None


class _ShownNode:
    """A node torch's graph has where chainrule's has none, for next_functions only: cross_entropy's
    LogSoftmaxBackward0 under its NllLossBackward0 (chainrule fuses the two)."""
    __slots__ = ("label", "shown")

    def __init__(self, label, *inputs):
        self.label, self.shown = label, tuple(_edge(t) for t in inputs)

    next_functions = property(lambda self: Node.next_functions.fget(self))
    name = Node.name

    def __repr__(self):
        return f"<{self.label} object at {id(self):#x}>"


def _named(loss, op, *inputs):
    """loss with torch's grad_fn name for ``op`` and, in next_functions, the inputs torch's kernel has (not the
    nodes of chainrule's composition)."""
    if loss._node is not None:
        loss._node.label, loss._node.shown = _GRAD_FN_NAMES[op], tuple(_edge(t) for t in inputs)
    return loss


def _reduce(loss, reduction, op, inputs=()):
    _check_reduction(reduction, op)
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return _named(loss, op, *inputs) if op in _GRAD_FN_NAMES else loss


def _broadcast_target(input, target, op):
    """torch's regression losses warn on a shape mismatch, then broadcast (RuntimeError if they can't)."""
    if input.shape == target.shape:
        return
    warnings.warn(f"{op}: Using a target size ({list(target.shape)}) that is different to the input size "
                  f"({list(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                  f"Please ensure they have the same size.", UserWarning, stacklevel=3)
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        raise RuntimeError(f"{op}: the size of input {list(input.shape)} must match the size of target "
                           f"{list(target.shape)} (or broadcast with it)") from None


def _constant_arg(t, arg, op):
    """torch's fused loss kernels have no derivative for their weights (and soft_margin's target)."""
    if t is not None and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{op}' is not differentiable with respect to argument '{arg}'. This input "
                           f"cannot have requires_grad True.")


def _no_integers(input, target, op):
    """torch's fused regression kernels have no integer versions."""
    if input._data.dtype.kind in "iub" and target._data.dtype.kind in "iub":
        raise NotImplementedError(f'"{op}_cpu" not implemented for '
                                  f"'{_name(input)}'")


def _weighted(loss, weight, input, reduction, op, mean_over_weight=True):
    """The elementwise loss times a weight of input's shape: 'mean' divides by the weights' sum (l1,
    mse) or by the count (huber), as torch."""
    if weight.shape != input.shape:
        raise ValueError(f"{op}: Weights and input must have the same size (weight {list(weight.shape)}, input "
                         f"{list(input.shape)}).")
    loss = loss * weight
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / weight.sum()
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    return _reduce(loss, reduction, op)


# ---- regression ----------------------------------------------------------------------------------

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error abs(input - target), reduced by ``reduction``, as ``torch.nn.functional.l1_loss``."""
    _broadcast_target(input, target, "l1_loss")
    reduction = _legacy(size_average, reduce, reduction)
    loss = (input - target).abs()
    return _reduce(loss, reduction, "l1_loss") if weight is None else _weighted(loss, weight, input, reduction,
                                                                                 "l1_loss")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (input - target)^2, reduced by ``reduction``, as ``torch.nn.functional.mse_loss``."""
    _broadcast_target(input, target, "mse_loss")
    _no_integers(input, target, "mse")
    reduction = _legacy(size_average, reduce, reduction)
    diff = input - target
    loss = diff * diff
    if weight is None:
        return _reduce(loss, reduction, "mse_loss", (input, target))
    return _weighted(loss, weight, input, reduction, "mse_loss")


def _huber(input, target, delta, scale):
    """0.5 d^2 / scale where |d| < delta, else delta (|d| - delta / 2) / scale (smooth L1: scale = delta = beta)."""
    diff = input - target
    z = diff.abs()
    return Where.call(z < delta, diff * diff * (0.5 / scale), (z - 0.5 * delta) * (delta / scale))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``: 0.5 d^2 / beta where abs(d) < beta, else abs(d)
    - 0.5 beta, with d = input - target."""
    _broadcast_target(input, target, "smooth_l1_loss")
    reduction = _legacy(size_average, reduce, reduction)
    if beta == 0.0:  # torch: exactly l1_loss
        return _reduce((input - target).abs(), reduction, "smooth_l1_loss", (input, target))
    _no_integers(input, target, "smooth_l1")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (beta={beta}).")
    return _reduce(_huber(input, target, beta, beta), reduction, "smooth_l1_loss", (input, target))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss, as ``torch.nn.functional.huber_loss``: 0.5 d^2 where abs(d) < delta, else delta (abs(d) - 0.5
    delta), with d = input - target."""
    _broadcast_target(input, target, "huber_loss")
    _no_integers(input, target, "huber")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (delta={delta}).")
    loss = _huber(input, target, delta, 1.0)
    if weight is None:
        return _reduce(loss, reduction, "huber_loss", (input, target))
    return _weighted(loss, weight, input, reduction, "huber_loss", mean_over_weight=False)


# ---- probabilistic --------------------------------------------------------------------------------

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """sum target (log target - input) (target's log given with log_target); 'batchmean' divides the
    sum by the batch size (input.size(0))."""
    if size_average is not None or reduce is not None:
        reduced = _legacy(size_average, reduce, reduction)
    else:
        reduced = "sum" if reduction == "batchmean" else reduction
        _check_reduction(reduced, "kl_div")
    if input._data.dtype.kind in "iub" or target._data.dtype.kind in "iub":
        raise RuntimeError(f"kl_div: Integral inputs not supported (input {input.dtype}, target {target.dtype}).")
    if log_target:
        loss = target.exp() * (target - input)
    else:  # xlogy(target, target) - target input: 0 where target is 0
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = Where.call(_const(target._data == 0), 0.0, target * target.log()) - target * input
    out = _reduce(loss, reduced, "kl_div")
    if reduction == "batchmean" and input._data.ndim:
        out = out / input._data.shape[0]
    return out


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """e^input - target input (log_input) or input - target log(input + eps); full adds Stirling's
    target log target - target + log(2 pi target) / 2 where target > 1."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "poisson_nll_loss")
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + Where.call(_const(target._data > 1), stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """(log max(var, eps) + (input - target)^2 / max(var, eps)) / 2 (+ log(2 pi) / 2 with full). var has
    input's shape, or one dim fewer, or a 1 in one dim (homoscedastic); eps clamps its value only (torch
    clamps under no_grad: the gradient passes as if unclamped)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = Tensor._make(_ns(input).full(input._data.shape, var, dtype=input._data.dtype))
    elif bool((var._data < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input._data.ndim == var._data.ndim
                  and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size (var {list(var.shape)}, input "
                             f"{list(input.shape)})")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"gaussian_nll_loss: {reduction} is not valid")
    held = var.detach()
    var = var + (held.clamp_min(eps) - held)
    diff = input - target
    loss = (var.log() + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy -(t log(x) + (1 - t) log(1 - x)) between probabilities ``input`` and ``target``, as
    ``torch.nn.functional.binary_cross_entropy``.

    The logs are clamped at -100, as in torch; ``weight`` rescales each element."""
    reduction = _legacy(size_average, reduce, reduction)
    _constant_arg(weight, "weight", "binary_cross_entropy")
    loss = BinaryCrossEntropy.call(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy", (input, target))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross entropy of sigmoid(input) against ``target``, computed stably from the logits, as
    ``torch.nn.functional.binary_cross_entropy_with_logits``.

    The loss is -w (p t log(sigmoid(x)) + (1 - t) log(1 - sigmoid(x))), where p is ``pos_weight`` (broadcast
    over the class dim) and w is ``weight``."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    reduction = _legacy(size_average, reduce, reduction)
    _constant_arg(weight, "weight", "binary_cross_entropy_with_logits")
    _constant_arg(pos_weight, "pos_weight", "binary_cross_entropy_with_logits")
    if pos_weight is None:  # log(1 + e^x) - x y
        loss = _log1p_exp(input) - input * target
    else:  # (1 - y) x + (1 + (pw - 1) y) log(1 + e^-x)
        log_weight = 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + log_weight * _log1p_exp(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits", (input, target))


def _soft_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy with class probabilities (target of input's shape): -sum_c w_c q_c log softmax(x)_c,
    q smoothed to q (1 - s) + s / C; 'mean' divides by the number of samples (nan if none)."""
    _check_float(input, "cross_entropy")
    if target._data.dtype.kind != "f":
        raise RuntimeError(f"cross_entropy: Expected floating point type for target with class probabilities, got "
                           f"{_name(target)}")
    if ignore_index >= 0:
        raise RuntimeError("cross_entropy: ignore_index is not supported for floating point target")
    _check_reduction(reduction, "cross_entropy")
    class_dim = 0 if input._data.ndim == 1 else 1
    c = input._data.shape[class_dim]
    if weight is not None and weight._data.shape != (c,):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    terms = input.log_softmax(class_dim) * (target * (1 - label_smoothing) + label_smoothing / c
                                            if label_smoothing > 0 else target)
    if weight is not None:
        terms = terms * (weight.reshape((c,) + (1,) * (input._data.ndim - 2)) if class_dim else weight)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    if not input._data.size:
        return terms.sum() * math.nan
    return -terms.sum() / (input._data.size // c)


def _check_class_target_shape(input, target, op):
    """torch's checks of class-index targets for (N, C, d1, ...) input: the batch sizes (ValueError), then
    the rest of the shape (RuntimeError)."""
    shape, tshape = tuple(input.shape), tuple(target.shape)
    if len(shape) < 2 or not tshape or target._data.dtype.kind not in "iu":
        return
    expected = [shape[0], *shape[2:]]
    if tshape[0] != shape[0]:
        raise ValueError(f"{op}: Expected target size {expected}, got {list(tshape)}: Expected input batch_size "
                         f"({shape[0]}) to match target batch_size ({tshape[0]}).")
    if tshape != tuple(expected):
        raise RuntimeError(f"{op}: Expected target size {expected}, got {list(tshape)}")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Class indices (N) or (N, d1, ...) for input (N, C) or (N, C, d1, ...): the fused SoftmaxCrossEntropy;
    class probabilities (target of input's shape): a composition."""
    reduction = _legacy(size_average, reduce, reduction)
    if label_smoothing > 1.0:  # (torch takes a negative one as 0)
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if isinstance(target, Tensor) and isinstance(input, Tensor) and target.shape == input.shape:
        return _soft_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
    _constant_arg(weight, "weight", "nll_loss_forward")
    _check_class_target_shape(input, target, "cross_entropy")
    return _named(SoftmaxCrossEntropy.call(input, target, weight, ignore_index, reduction, max(label_smoothing, 0.0)),
                  "cross_entropy", _ShownNode("LogSoftmaxBackward0", input))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood loss -weight[t] input[n, t] over log-probabilities ``input`` (N, C, ...) and class
    indices ``target`` (N, ...), as ``torch.nn.functional.nll_loss``.

    Targets equal to ``ignore_index`` add nothing; ``'mean'`` divides by the sum of the weights of the counted
    targets."""
    reduction = _legacy(size_average, reduce, reduction)
    _constant_arg(weight, "weight", "nll_loss_forward")
    _check_class_target_shape(input, target, "nll_loss")
    x, t, c = _class_targets(input, target, reduction, 0.0, "nll_loss")
    coef, present, empty = _coefficients(x, t, c, weight, ignore_index, 0.0, reduction, "nll_loss")
    # torch reads only the targets' entries: -inf or nan elsewhere, or in an ignored row, adds nothing
    picked = Where.call(Tensor._make(present()), x, 0.0) * coef
    return _named(_per_target(-picked.sum(1), input, target, reduction, empty), "nll_loss", input)


def _ctc_lengths(lengths, name, batch):
    """ctc_loss's lengths (an integer tensor or a tuple of ints) as a tuple of ints."""
    if isinstance(lengths, Tensor):
        if lengths._data.dtype.kind not in "iu":
            raise RuntimeError(f"ctc_loss: {name} must be integral, got {lengths.dtype}")
        lengths = lengths._data.reshape(-1).tolist()
    if len(lengths) != batch:
        raise RuntimeError(f"ctc_loss: {name} must be of size batch_size ({batch}), got {len(lengths)}")
    return tuple(int(n) for n in lengths)


def _ctc_targets(targets, tl, n, c, blank):
    """l' (N, 2 S + 1) of padded (N, >= S) or concatenated targets: blank, label, blank, ..., blank past
    each target's length; checked as torch checks them (and, where torch reads out of bounds, the labels)."""
    data = targets._data
    tg = np.asarray(data.get() if hasattr(data, "get") else data).astype(np.int64)  # (host copy, floats truncated)
    if tg.ndim not in (1, 2):
        raise RuntimeError(f"ctc_loss: Expected 1 to 2 dimensions, but got {tg.ndim}-dimensional tensor for argument "
                           f"#2 'targets'")
    if tg.ndim == 1 and tg.shape[0] != sum(tl):
        raise RuntimeError(f"ctc_loss: Expected tensor to have size {sum(tl)} at dimension 0, but got size "
                           f"{tg.shape[0]} for argument #2 'targets'")
    if tg.ndim == 2 and (tg.shape[0] != n or tg.shape[1] < max(tl)):
        raise RuntimeError(f"ctc_loss: Expected targets of size [{n}, at least {max(tl)}], got {list(tg.shape)} "
                           f"for argument #2 'targets'")
    starts = np.cumsum((0,) + tl[:-1])
    rows = [tg[s:s + k] for s, k in zip(starts, tl)] if tg.ndim == 1 else [tg[b, :k] for b, k in enumerate(tl)]
    lprime = np.full((n, 2 * max(tl) + 1), blank, dtype=np.int64)
    for b, r in enumerate(rows):
        if r.size and (r.min() < 0 or r.max() >= c):
            raise RuntimeError(f"ctc_loss: target {int(r.max() if r.max() >= c else r.min())} is out of the label "
                               f"range [0, {c})")
        lprime[b, 1:2 * len(r):2] = r
    return lprime


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...), as torch's reference
    path: linear_weight (C, *out_features, in_features) gives logits (N, C, *out_features) for a
    K-dimensional loss. ``options`` (torch's chunking, which saves memory and gives the same loss)
    is accepted and ignored."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.ndim}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), "
                           f"got {in_features} and {linear_weight.shape[-1]}, respectively")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires "
                           f"batched input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    logits_shape = (*batches, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    logits = Linear.call(input, linear_weight.reshape(-1, in_features),
                         None if linear_bias is None else linear_bias.reshape(-1)).reshape(logits_shape)
    return cross_entropy(logits, target, weight, ignore_index=-100 if ignore_index is None else ignore_index,
                         reduction=reduction, label_smoothing=label_smoothing)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """log_probs (T, N, C) or (T, C); targets padded (N, S) or concatenated (sum of target_lengths);
    lengths as integer tensors or tuples of ints. 'mean' averages the losses divided by their target
    lengths (at least 1); zero_infinity makes infinite losses (impossible alignments) and their
    gradients 0. The gradient, as torch's, assumes log_probs normalised (a log_softmax output)."""
    is_tensor = [isinstance(v, Tensor) for v in (input_lengths, target_lengths)]
    if is_tensor[0] != is_tensor[1] or not (is_tensor[0] or isinstance(input_lengths, (tuple, list))
                                            and isinstance(target_lengths, (tuple, list))):
        raise TypeError(f"ctc_loss(): input_lengths and target_lengths must be both Tensors or both tuples of ints, "
                        f"got {type(input_lengths).__name__} and {type(target_lengths).__name__}")
    _check_reduction(reduction, "ctc_loss")
    if log_probs._data.dtype.kind != "f":
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for \'{_name(log_probs)}\'')
    batched = log_probs._data.ndim == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    if lp._data.ndim != 3:
        raise RuntimeError(f"ctc_loss: Expected 3-dimensional tensor, but got {lp._data.ndim}-dimensional tensor for "
                           f"argument #1 'log_probs'")
    t_max, n, c = lp._data.shape
    if not lp._data.size:
        raise RuntimeError("ctc_loss: log_probs tensor must not be empty")
    if not 0 <= blank < c:
        raise RuntimeError(f"ctc_loss: blank must be in label range (blank={blank}, {c} classes)")
    il = _ctc_lengths(input_lengths, "input_lengths", n)
    tl = _ctc_lengths(target_lengths, "target_lengths", n)
    if min(tl) < 0 or min(il) < 0 or max(il) > t_max:
        raise RuntimeError(f"ctc_loss: Expected input_lengths in [0, {t_max}] and target_lengths at least 0, but got "
                           f"{list(il)} and {list(tl)}")
    nll = CtcLoss.call(lp, _ctc_targets(targets, tl, n, c, blank), il, tl, zero_infinity)
    if reduction == "mean":
        divisor = _ns(nll).maximum(_ns(nll).asarray(tl), 1).astype(nll._data.dtype)
        return (nll / Tensor._make(divisor)).mean()
    if reduction == "sum":
        return nll.sum()
    return nll if batched else nll.squeeze(0)


# ---- margins and embeddings -----------------------------------------------------------------------

def _common(x1, x2, op):
    """Both inputs broadcast to one shape, integers promoted to the other's float dtype (cosine_similarity)."""
    kinds = (x1._data.dtype.kind, x2._data.dtype.kind)
    if "f" not in kinds:
        raise RuntimeError(f"{op}: expected common dtype to be floating point, yet common dtype is "
                           f"{_name(x1)}")
    if kinds[0] != "f":
        x1 = x1.to(x2.dtype)
    if kinds[1] != "f":
        x2 = x2.to(x1.dtype)
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise RuntimeError(f"{op}: The size of tensor a {list(x1.shape)} must match the size of tensor b "
                           f"{list(x2.shape)} (or broadcast with it)") from None
    return (x1 if tuple(x1.shape) == shape else x1.expand(shape)), (x2 if tuple(x2.shape) == shape else
                                                                    x2.expand(shape))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum over dim of (x1 / max(||x1||, eps)) (x2 / max(||x2||, eps)), as torch 2.x: each input divided by
    its own clamped norm first (the clamp changes the value only: torch clamps under no_grad)."""
    x1, x2 = _common(x1, x2, "cosine_similarity")
    if x1._data.ndim == 0:
        x1, x2 = x1.reshape(1), x2.reshape(1)
        if dim not in (0, -1):
            raise IndexError(f"cosine_similarity: Dimension out of range (expected to be in range of [-1, 0], but "
                             f"got {dim})")
        dim = 0
        return _cosine(x1, x2, dim, eps).reshape(())
    return _cosine(x1, x2, dim, eps)


def _cosine(x1, x2, dim, eps):
    def unit(x):
        norm = x.norm(2, dim, keepdim=True)
        held = norm.detach()
        return x / (norm + (held.clamp_min(eps) - held))
    return (unit(x1) * unit(x2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim of the broadcast shape."""
    dim = max(x1._data.ndim, x2._data.ndim) - 1
    diff = x1 - x2 + eps
    if diff._data.ndim == 0:  # a 0-d difference: |d| (torch's norm over dim -1 of a scalar)
        return diff.abs() if p != 0 else (diff != 0).to(diff.dtype)
    return diff.norm(p, dim, keepdim=keepdim)


def pdist(input, p=2):
    """||x_i - x_j||_p for every pair of rows i < j of a (N, M) input, in row-major order: N (N - 1) / 2 values."""
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"pdist only supports floating-point dtypes (got {input.dtype})")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values (got p={p})")
    i, j = np.triu_indices(input._data.shape[0], 1)
    xp = _ns(input)
    return (input[_const(xp.asarray(i))] - input[_const(xp.asarray(j))]).norm(p, 1)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target = 1, max(0, cos - margin) where target = -1 (0 elsewhere);
    cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) over the last dim."""
    reduction = _legacy(size_average, reduce, reduction)
    td = target._data.ndim
    if td not in (0, 1):
        raise RuntimeError("cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported")
    if (input1._data.ndim, input2._data.ndim) != ((2, 2) if td else (1, 1)):
        raise RuntimeError(f"cosine_embedding_loss: {td}D target tensor expects {td + 1}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    prod = (input1 * input2).sum(td)
    mag = ((input1 * input1).sum(td) + 1e-12) * ((input2 * input2).sum(td) + 1e-12)
    cos = prod / mag.sqrt()
    pos = Where.call(target == 1, 1 - cos, 0.0)
    loss = pos + Where.call(target == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduce(loss, reduction, "cosine_embedding_loss")


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (x1 - x2) + margin)"""
    reduction = _legacy(size_average, reduce, reduction)
    if not input1._data.ndim == input2._data.ndim == target._data.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {list(input1.shape)}, input2: {list(input2.shape)}, target: {list(target.shape)}")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction, "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where target = 1, max(0, margin - x) where target = -1 (both for other targets)."""
    reduction = _legacy(size_average, reduce, reduction)
    loss = Where.call(target != 1, (margin - input).clamp_min(0), 0.0) + Where.call(target != -1, input, 0.0)
    return _reduce(loss, reduction, "hinge_embedding_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + e^(-target x))"""
    reduction = _legacy(size_average, reduce, reduction)
    if input._data.dtype.kind != "f" and target._data.dtype.kind != "f":
        raise RuntimeError(f"soft_margin_loss: result type Float can't be cast to the desired output type "
                           f"{_name(input)}")
    _constant_arg(target, "target", "soft_margin_loss")
    return _reduce(_log1p_exp(-(input * target)), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-mean over classes of w (y log sigmoid(x) + (1 - y) log sigmoid(-x)), one loss per sample."""
    reduction = _legacy(size_average, reduce, reduction)
    loss = target * _log1p_exp(-input) + (1 - target) * _log1p_exp(input)
    if weight is not None:
        loss = loss * weight
    class_dim = input._data.ndim - 1
    loss = loss.sum(class_dim) / input._data.shape[class_dim]
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"multilabel_soft_margin_loss: {reduction} is not valid")
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


def _margin_frames(input, target, op, batch_target):
    """(N, C) view of a 0-d, (C) or (N, C) input, as torch's multi-margin losses check it."""
    _check_float(input, op)
    nd, shape = input._data.ndim, input._data.shape
    if not ((nd == 2 and shape[1] != 0) or (nd == 1 and shape[0] != 0) or nd == 0):
        raise RuntimeError(f"{op}: Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(shape)}")
    frames, dim = (1, 1 if nd == 0 else shape[0]) if nd <= 1 else shape
    if batch_target:  # multi_margin_loss: one class per sample
        ok = target._data.ndim <= 1 and target._data.size == frames
        what = (f"target tensor should be 1-D with size equal to the number of input samples (batch size). "
                f"Expected target size [{frames}], but got {list(target.shape)}. Input has shape {list(shape)}.")
    else:  # multilabel_margin_loss: a row of classes (ended by -1) per sample
        ok = target._data.ndim <= 1 and target._data.size == dim if nd <= 1 else target._data.shape == shape
        what = f"inconsistent target size: {list(target.shape)} for input of size: {list(shape)}"
    if not ok:
        raise RuntimeError(f"{op}: {what}")
    if target._data.dtype != np.int64:
        raise RuntimeError(f"{op}: expected scalar type Long but found "
                           f"{_name(target)}")
    return input.reshape(frames, dim), frames, dim


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over the targets j (up to the first -1) and the non-target classes i of max(0, 1 - (x_j - x_i)) / C"""
    reduction = _legacy(size_average, reduce, reduction)
    x, frames, dim = _margin_frames(input, target, "multilabel_margin_loss", False)
    xp = _ns(x)
    t = target._data.reshape(frames, dim)
    if t.size and (int(t.min()) < -1 or int(t.max()) >= dim):
        raise RuntimeError(f"multilabel_margin_loss: argument #2 'target' is out of range (values in [-1, {dim}))")
    valid = xp.cumprod(t != -1, axis=1).astype(bool)  # the targets before the first -1
    tv = xp.where(valid, t, 0)
    is_target = ((tv[:, :, None] == xp.arange(dim)) & valid[:, :, None]).any(axis=1)
    xt = x[_const(xp.arange(frames)[:, None]), _const(tv)]  # (N, J)
    terms = (1 - xt.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)  # (N, J, C)
    loss = Where.call(_const(valid[:, :, None] & ~is_target[:, None, :]), terms, 0.0).sum((1, 2)) / dim
    if input._data.ndim <= 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multilabel_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over the classes i != y of max(0, margin - x_y + x_i)^p w_y / C (p 1 or 2)"""
    reduction = _legacy(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("multi_margin_loss: only p == 1 and p == 2 supported")
    if weight is not None and weight._data.ndim != 1:
        raise ValueError("multi_margin_loss: weight must be one-dimensional")
    _constant_arg(weight, "weight", "multi_margin_loss")
    x, frames, dim = _margin_frames(input, target, "multi_margin_loss", True)
    if weight is not None and weight._data.size != dim:
        raise RuntimeError(f"multi_margin_loss: inconsistent weight size, expected {dim} but got {list(weight.shape)}")
    xp = _ns(x)
    t = target._data.reshape(frames)
    if t.size and (int(t.min()) < 0 or int(t.max()) >= dim):
        raise RuntimeError(f"multi_margin_loss: target out of range (values in [0, {dim}))")
    rows = xp.arange(frames)
    z = margin - x[_const(rows), _const(t)].unsqueeze(1) + x
    keep = (z._data > 0) & (xp.arange(dim) != t[:, None])  # torch: only z > 0 adds (and gets a gradient)
    h = Where.call(_const(keep), z if p == 1 else z * z, 0.0)
    if weight is not None:
        h = h * weight[_const(t)].unsqueeze(1)
    loss = h.sum(1) / dim
    if reduction == "none":
        return loss.reshape(target.shape)
    if reduction == "mean" and not frames:  # torch: 0 over an empty batch
        return loss.sum()
    return _reduce(loss, reduction, "multi_margin_loss")


def _same_ndim(anchor, positive, negative):
    dims = (anchor._data.ndim, positive._data.ndim, negative._data.ndim)
    if not dims[0] == dims[1] == dims[2]:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D "
                           f"inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)), d the pairwise p-distance; swap: d(a, n) -> min(d(a, n), d(p, n))"""
    reduction = _legacy(size_average, reduce, reduction)
    _same_ndim(anchor, positive, negative)
    _check_reduction(reduction, "triplet_margin_loss")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction, "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """Triplet loss max(d(a, p) - d(a, n) + margin, 0) with a custom ``distance_function`` (default:
    pairwise_distance), as ``torch.nn.functional.triplet_margin_with_distance_loss``.

    With ``swap=True``, d(a, n) is replaced by min(d(a, n), d(p, n))."""
    _check_reduction(reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    _same_ndim(anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction, "triplet_margin_with_distance_loss")
