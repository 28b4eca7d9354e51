"""Fused loss primitives: softmax cross-entropy (with nll_loss's class targets), binary cross-entropy
and CTC, forward, backward and public entry side by side, with the target checks that
``nn.functional``'s composed losses share."""
import math

import numpy as np

from ..backend import namespace
from . import registry
from .nn import check_float
from .registry import Op, apply


def class_targets(input, target, reduction, label_smoothing, op):
    """Check a class-index loss's arguments; return logits as (M, C), targets as a flat int array
    and C."""
    check_float(input, op)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target._data.dtype.kind not in "iu":
        if target._data.dtype.kind == "f" and target.shape == input.shape:
            raise NotImplementedError(f"{op}: class-probability targets are not supported; pass class indices")
        raise RuntimeError(f"{op}: expected target of integer (Long) dtype for class indices, got {target.dtype}")
    if input._data.ndim == 1:
        input = input.unsqueeze(0)
        target = target.reshape(1)
    if input._data.ndim < 2:
        raise ValueError(f"{op}: Expected input of at least 1 dimension, got {input._data.ndim}")
    n, c = input._data.shape[:2]
    expected = (n,) + input._data.shape[2:]
    if target._data.shape != expected:
        raise ValueError(f"{op}: Expected target size {list(expected)}, got {list(target.shape)} "
                         f"(input size {list(input.shape)})")
    if (input._data.ndim == 3 or input._data.ndim > 4) and not input._data.size and target._data.size:  # C = 0
        raise RuntimeError(f"{op}: size mismatch (got input: {list(input.shape)}, target: {list(target.shape)})")
    if input._data.ndim > 2:  # (N, C, d1, ...) -> (N*d1*..., C)
        input = input.permute((0,) + tuple(range(2, input._data.ndim)) + (1,)).reshape(target._data.size, c)
    return input, target._data.reshape(-1), c


def coefficients(x, t, c, weight, ignore_index, label_smoothing, reduction, op):
    """The (M, C) coefficient tensor of a class-index loss (SoftmaxCrossEntropy's rule) for
    logits x (M, C) and flat targets t; a function giving the (M, C) mask of its terms (torch reads
    the targets, and every class with label smoothing, of the rows not ignored: -inf or nan elsewhere
    adds nothing); whether it is a mean over no targets (torch: nan, zero gradients). Checks the
    targets against C."""
    xp = namespace(x._data)
    valid = t != ignore_index
    tv = xp.where(valid, t, 0)
    lo, hi = (int(tv.min()), int(xp.where(valid, t, -1).max())) if t.size else (0, -1)
    if lo < 0 or hi >= c:
        raise IndexError(f"{op}: Target {hi if hi >= c else lo} is out of bounds (number of classes: {c})")
    m, dtype = t.shape[0], x._data.dtype
    w = xp.ones(c, dtype=dtype) if weight is None else weight._data.astype(dtype, copy=False)
    wt = xp.where(valid, w[tv], 0) if c else xp.zeros(m, dtype=dtype)  # not w * 0: an ignored row's w may be inf
    coef = xp.zeros((m, c), dtype=dtype)
    if c:  # else every target is ignored
        coef[xp.arange(m), tv] = wt * (1 - label_smoothing)
    if label_smoothing and c:
        coef += (label_smoothing / c) * xp.where(valid[:, None], w[None, :], 0)
    empty = False
    if reduction == "mean":  # over the targets' total weight
        denom = wt.sum()
        if denom != 0:
            coef /= denom
        else:  # as torch, x/0 where a term exists (targets, every class with smoothing), ignored rows 0
            scale = xp.where(valid, denom, 1)
            with np.errstate(invalid="ignore", divide="ignore"):
                if label_smoothing:
                    coef /= scale[:, None]
                elif c:
                    coef[xp.arange(m), tv] /= scale
            empty = not bool(valid.any())

    def present():
        return valid[:, None] if label_smoothing else (xp.arange(c) == tv[:, None]) & valid[:, None]
    return registry.make(coef), present, empty


def per_target(losses, input, target, reduction, empty=False):
    """A class-index loss's result from its per-target losses (the mean is in the coefficients; a
    mean over no targets is nan, its gradients zero, as torch)."""
    if reduction == "none":
        return losses.reshape(target.shape if input._data.ndim > 1 else ())
    return losses.sum() + math.nan if empty else losses.sum()


class SoftmaxCrossEntropy(Op):
    """loss_i = -sum_c a_ic log softmax(x_i)_c, for a coefficient matrix a (one-hot target times
    its class weight, label smoothing, ignore mask, 1/denominator for 'mean');
    dx_i = g_i (softmax(x_i) sum_c a_ic - a_i). Only the terms torch has are summed: a logit masked with
    -inf, or nan in an ignored row, adds nothing."""
    save_args = True

    @staticmethod
    def call(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        x, t, c = class_targets(input, target, reduction, label_smoothing, "cross_entropy")
        if weight is not None and weight._data.shape != (c,):
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {c} classes or no "
                               f"classes but got weight tensor of shape: {list(weight.shape)}")
        coef, present, empty = coefficients(x, t, c, weight, ignore_index, label_smoothing, reduction,
                                            "cross_entropy")
        out = per_target(apply(SoftmaxCrossEntropy, x, coef, present=present), input, target, reduction, empty)
        return out + math.nan if label_smoothing and not c else out  # torch's smoothing term: 0 / 0 classes

    @staticmethod
    def forward(ctx, xp, x, coef, present):
        fused = xp.softmax_xent(x, coef)  # one compiled pass on the CPU (within an ulp of the rule below)
        if fused is not None:
            loss, ctx.saved = fused
            return loss
        shifted = x - x.max(axis=1, keepdims=True) if x.shape[1] else x  # no classes: no terms
        e = xp.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        logp = shifted - xp.log(s)
        ctx.saved = e / s
        if not xp.isfinite(logp.sum()):  # -inf or nan in a row: keep only the terms torch has
            logp = xp.where(present(), logp, 0)
        return -(coef * logp).sum(axis=1)

    @staticmethod
    def backward(ctx, xp, g, out, x, coef):
        # under create_graph the inputs arrive as Tensors: softmax is rebuilt from x so that the
        # gradient is itself differentiable (second derivatives of the loss)
        p = x.softmax(1) if isinstance(x, registry.Tensor) else ctx.saved
        dx = None if p is not ctx.saved else xp.softmax_xent_grad(g, p, coef)  # one compiled pass on the CPU
        return (g[:, None] * (p * xp.sum(coef, axis=1, keepdims=True) - coef) if dx is None else dx, None)


def same_shape(input, target, op):
    if input.shape != target.shape:
        raise ValueError(f"{op}: Using a target size ({list(target.shape)}) that is different to the input size "
                         f"({list(input.shape)}) is not supported. Please ensure they have the same size.")


class BinaryCrossEntropy(Op):
    """loss = -(y max(log p, -100) + (1 - y) max(log(1 - p), -100))  (torch clamps the logs so p = 0
    or 1 stays finite);  dp = g (p - y) / max(p (1 - p), 1e-12),  dy = g (log(1 - p) - log p)"""
    save_args = True
    once_differentiable = True

    @staticmethod
    def call(input, target):
        same_shape(input, target, "binary_cross_entropy")
        data = input._data
        if data.size and (float(data.min()) < 0 or float(data.max()) > 1 or math.isnan(float(data.sum()))):
            raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 and 1 (got values "
                               f"in [{float(data.min())}, {float(data.max())}])")
        if not bool(((target._data >= 0) & (target._data <= 1)).all()):  # nan too
            raise RuntimeError("binary_cross_entropy: all elements of target should be between 0 and 1")
        return apply(BinaryCrossEntropy, input, target)

    @staticmethod
    def forward(ctx, xp, p, y):
        with np.errstate(divide="ignore"):  # log(0) = -inf is clamped just below
            log_p = xp.maximum(xp.log(p), -100)
            log_q = xp.maximum(xp.log1p(-p), -100)
        return -(y * log_p + (1 - y) * log_q)

    @staticmethod
    def backward(ctx, xp, g, out, p, y):
        gp = g * (p - y) / xp.maximum(p * (1 - p), 1e-12) if ctx.needs[0] else None
        gy = None
        if ctx.needs[1]:  # torch leaves this one unclamped: +-inf at p = 0 or 1
            with np.errstate(divide="ignore"):
                gy = g * (xp.log1p(-p) - xp.log(p))
        return gp, gy


def _logsumexp3(xp, a, b, c):
    """log(e^a + e^b + e^c) as torch's CTC kernel: around the largest, 0 where all are -inf."""
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(m == -np.inf, 0, m)
    with np.errstate(divide="ignore"):
        return xp.log(xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m)) + m


class CtcLoss(Op):
    """nll_b = -log sum over the alignments of target_b (blanks l'_s between labels) of prod_t p_t,
    by the alpha recursion a_t(s) = (a_{t-1}(s) + a_{t-1}(s-1) [+ a_{t-1}(s-2) if l'_s != l'_{s-2}]) p_t(l'_s)
    in log space; dlp_t(c) = g_b (e^{lp_t(c)} - e^{log sum_{s: l'_s = c} a_t(s) b_t(s) + nll_b - lp_t(c)})
    with the beta recursion b_t (torch's CPU kernel: its e^lp term assumes log_softmax input); t < T_b"""
    save_args = True
    once_differentiable = True

    @staticmethod
    def call(log_probs, lprime, input_lengths, target_lengths, zero_infinity=False):
        """Per-sample nll (N,) of a (T, N, C) float log_probs for the (N, 2 S + 1) int array l' (blank, label,
        blank, ..., blank past each target) and lengths: nn.functional.ctc_loss checks and builds them."""
        return apply(CtcLoss, log_probs, lprime=lprime, il=np.asarray(input_lengths), tl=np.asarray(target_lengths),
                     zero_infinity=bool(zero_infinity))

    @staticmethod
    def forward(ctx, xp, lp, lprime, il, tl, zero_infinity):
        t_max, n, _ = lp.shape
        rows, ninf = xp.arange(n)[:, None], -np.inf
        lpr, il, tl = xp.asarray(lprime), xp.asarray(il), xp.asarray(tl)
        s_idx = xp.arange(lpr.shape[1])
        skip = (s_idx >= 2) & (lpr != xp.roll(lpr, 2, axis=1))  # a_{t-1}(s-2) joins: a label unlike l'_{s-2}
        la = xp.full((t_max,) + lpr.shape, ninf, dtype=lp.dtype)  # alpha (T, N, 2S+1)
        la[0] = xp.where(s_idx <= xp.minimum(1, 2 * tl)[:, None], lp[0][rows, lpr], ninf)
        pad = xp.full((n, 2), ninf, dtype=lp.dtype)
        for t in range(1, t_max):
            prev = xp.concatenate([pad, la[t - 1]], axis=1)
            la[t] = _logsumexp3(xp, prev[:, 2:], prev[:, 1:-1], xp.where(skip, prev[:, :-2], ninf)) + lp[t][rows, lpr]
        last = la[xp.maximum(il - 1, 0), xp.arange(n)]  # (N, 2S+1) at each input's end
        l1 = last[xp.arange(n), 2 * tl]
        l2 = xp.where(tl > 0, last[xp.arange(n), xp.maximum(2 * tl - 1, 0)], ninf)
        nll = -_logsumexp3(xp, l1, l2, xp.full_like(l1, ninf))
        nll = xp.where(il == 0, xp.where(tl == 0, -0.0, np.inf), nll).astype(lp.dtype)
        zeroed = nll == np.inf if zero_infinity else None  # these get loss 0 and no gradient
        ctx.saved = (la, lpr, skip, il, tl, nll, zeroed)
        return xp.where(zeroed, 0, nll).astype(lp.dtype) if zero_infinity else nll

    @staticmethod
    def backward(ctx, xp, g, out, lp):
        la, lpr, skip, il, tl, nll, zeroed = ctx.saved
        t_max, n, c = lp.shape
        rows, ninf, s_idx = xp.arange(n)[:, None], -np.inf, xp.arange(lpr.shape[1])
        skip_b = xp.roll(skip, -2, axis=1)  # b_{t+1}(s+2) joins where l'_{s+2} != l'_s
        onehot = lpr[:, :, None] == xp.arange(c)  # (N, 2S+1, C)
        pad = xp.full((n, 2), ninf, dtype=lp.dtype)
        grad = xp.zeros_like(lp)
        lb = xp.full(lpr.shape, ninf, dtype=lp.dtype)  # beta at t + 1
        end = (s_idx == 2 * tl[:, None]) | ((s_idx == 2 * tl[:, None] - 1) & (tl[:, None] > 0))
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for t in range(t_max - 1, -1, -1):
                nxt = xp.concatenate([lb, pad], axis=1)
                step = _logsumexp3(xp, nxt[:, :-2], nxt[:, 1:-1], xp.where(skip_b, nxt[:, 2:], ninf))
                lpt = lp[t][rows, lpr]
                lb = xp.where((t == il - 1)[:, None], xp.where(end, lpt, ninf),
                              xp.where((t < il - 1)[:, None], step + lpt, ninf))
                # log sum over the positions s of each class: around each class's own largest term
                ab = xp.where(onehot, (la[t] + lb)[:, :, None], ninf)
                m = ab.max(axis=1)
                m = xp.where(m == ninf, 0, m)
                res = xp.log(xp.exp(ab - m[:, None]).sum(axis=1)) + m  # (N, C)
                gt = (xp.exp(lp[t]) - xp.exp(res + nll[:, None] - lp[t])) * g[:, None]
                grad[t] = xp.where((t < il)[:, None], gt, 0)
        return (grad if zeroed is None else xp.where(zeroed[None, :, None], 0, grad),)
