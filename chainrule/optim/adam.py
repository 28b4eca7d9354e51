"""Adam (with amsgrad) and AdamW: one update function, weight decay coupled or decoupled."""
from ..backend import namespace
from .optimizer import Optimizer, descent_grads


class Adam(Optimizer):
    r"""t += 1;  g = grad + wd*p (Adam) or p *= 1 - lr*wd (AdamW);
    m = lerp(m, g, 1-beta1);  v = beta2*v + (1-beta2)*g^2;  vmax = max(vmax, v) (amsgrad);
    p -= lr/(1-beta1^t) * m / (sqrt(v or vmax)/sqrt(1-beta2^t) + eps)."""

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        self._check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update_group(self, group, params):
        amsgrad = group["amsgrad"]
        beta1, beta2 = group["betas"]
        steps = [self._step_count(p) for p in params]
        adam([p._data for p in params], [p.grad._data for p in params],
             [self._state_tensor(p, "exp_avg") for p in params],
             [self._state_tensor(p, "exp_avg_sq") for p in params],
             [self._state_tensor(p, "max_exp_avg_sq") for p in params] if amsgrad else None,
             steps, amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
             eps=group["eps"], maximize=group["maximize"],
             decoupled_weight_decay=group.get("decoupled_weight_decay", self._decoupled))


class AdamW(Adam):
    """Adam with decoupled weight decay (p *= 1 - lr*weight_decay before the Adam step)."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def lerp_(start, end, weight):
    """start += weight*(end - start) in place, in torch's two-sided form (exact at weight 0 and 1)."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def square_avg_(avg, g, decay):
    """avg = decay*avg + (1-decay)*g^2 in place: the running mean of squared gradients."""
    avg *= decay
    avg += (1 - decay) * (g * g)


def moments_(exp_avg, exp_avg_sq, g, beta1, beta2):
    """Adam's two running moments, updated in place (shared by Adam, NAdam and RAdam)."""
    lerp_(exp_avg, g, 1 - beta1)
    square_avg_(exp_avg_sq, g, beta2)


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, amsgrad, beta1, beta2, lr,
         weight_decay, eps, maximize, decoupled_weight_decay):
    """In place over arrays; ``steps`` are the step counts after this step."""
    grads = descent_grads(params, grads, weight_decay, maximize,
                          decoupled_lr=lr if decoupled_weight_decay else None)
    for i, (p, g, m, v, step) in enumerate(zip(params, grads, exp_avgs, exp_avg_sqs, steps)):
        xp = namespace(p)
        moments_(m, v, g, beta1, beta2)
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if amsgrad:
            xp.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        denom = xp.sqrt(v) / bias_correction2_sqrt
        denom += eps
        p -= step_size * m / denom


class SparseAdam(Optimizer):
    """torch.optim.SparseAdam: Adam's update on the rows a sparse gradient touches. chainrule has no
    sparse gradients (``nn.Embedding(sparse=True)`` raises too), so there is nothing for it to
    update: constructing one raises NotImplementedError (a RuntimeError, as torch's step raises
    for dense gradients). Adam gives the same update with dense gradients."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        raise NotImplementedError("SparseAdam: chainrule has no sparse gradients (SparseAdam only updates "
                                  "sparse ones); use Adam, which gives the same update with dense gradients")
