"""Adadelta (torch.optim.Adadelta)."""
from ..backend import namespace
from .adam import square_avg_
from .optimizer import Optimizer, descent_grads


class Adadelta(Optimizer):
    r"""t += 1;  g = grad + wd*p;  v = rho*v + (1-rho)*g^2;  delta = sqrt(u+eps)/sqrt(v+eps) * g;
    u = rho*u + (1-rho)*delta^2;  p -= lr*delta."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        self._check_options(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _update_group(self, group, params):
        for p in params:
            self._step_count(p)
        adadelta(*self._arrays(params, "square_avg", "acc_delta"),
                 **self._options(group, "lr", "rho", "eps", "weight_decay", "maximize"))


def adadelta(params, grads, square_avgs, acc_deltas, *, lr, rho, eps, weight_decay, maximize):
    """In place over arrays."""
    grads = descent_grads(params, grads, weight_decay, maximize)
    for p, g, v, u in zip(params, grads, square_avgs, acc_deltas):
        xp = namespace(p)
        square_avg_(v, g, rho)
        delta = xp.sqrt(u + eps)
        delta /= xp.sqrt(v + eps)
        delta *= g
        square_avg_(u, delta, rho)
        p -= lr * delta
