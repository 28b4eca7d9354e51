"""RMSprop with momentum and the centered variant (torch.optim.RMSprop)."""
from ..backend import namespace
from .adam import lerp_, square_avg_
from .optimizer import Optimizer, descent_grads


class RMSprop(Optimizer):
    r"""g = grad + wd*p;  v = alpha*v + (1-alpha)*g^2;  a = lerp(a, g, 1-alpha) (centered);
    d = sqrt(v - a^2 if centered else v) + eps;  b = momentum*b + g/d, p -= lr*b (momentum)
    or p -= lr * g/d."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        self._check_options(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _update_group(self, group, params):
        momentum, centered = group["momentum"], group["centered"]
        for p in params:
            self._step_count(p)
        rmsprop([p._data for p in params], [p.grad._data for p in params],
                [self._state_tensor(p, "square_avg") for p in params],
                [self._state_tensor(p, "grad_avg") for p in params] if centered else None,
                [self._state_tensor(p, "momentum_buffer") for p in params] if momentum > 0 else None,
                lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                momentum=momentum, centered=centered, maximize=group["maximize"])


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffers, *, lr, alpha, eps, weight_decay,
            momentum, centered, maximize):
    grads = descent_grads(params, grads, weight_decay, maximize)
    for i, (p, g, v) in enumerate(zip(params, grads, square_avgs)):
        xp = namespace(p)
        square_avg_(v, g, alpha)
        if centered:
            a = grad_avgs[i]
            lerp_(a, g, 1 - alpha)
            avg = xp.sqrt(v - a * a)
        else:
            avg = xp.sqrt(v)
        avg += eps
        if momentum > 0:
            buf = momentum_buffers[i]
            buf *= momentum
            buf += g / avg
            p -= lr * buf
        else:
            p -= lr * g / avg
