"""Adamax, Adam's infinity-norm variant (torch.optim.Adamax)."""
from ..backend import namespace
from .adam import lerp_
from .optimizer import Optimizer, descent_grads


class Adamax(Optimizer):
    r"""t += 1;  g = grad + wd*p;  m = lerp(m, g, 1-beta1);  u = max(beta2*u, |g| + eps);
    p -= lr/(1-beta1^t) * m/u."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        self._check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _update_group(self, group, params):
        steps = [self._step_count(p) for p in params]
        adamax(*self._arrays(params, "exp_avg", "exp_inf"), steps,
               **self._options(group, "lr", "betas", "eps", "weight_decay", "maximize"))


def adamax(params, grads, exp_avgs, exp_infs, steps, *, lr, beta1, beta2, eps, weight_decay, maximize):
    """In place over arrays; ``steps`` are the step counts after this step."""
    grads = descent_grads(params, grads, weight_decay, maximize)
    for p, g, m, u, step in zip(params, grads, exp_avgs, exp_infs, steps):
        xp = namespace(p)
        lerp_(m, g, 1 - beta1)
        u *= beta2
        norm = xp.abs(g)
        norm += eps
        xp.maximum(u, norm, out=u)
        p -= lr / (1 - beta1 ** step) * m / u
