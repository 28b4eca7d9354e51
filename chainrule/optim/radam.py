"""RAdam: Adam with the variance of its adaptive step rectified (torch.optim.RAdam)."""
from ..backend import namespace
from .adam import moments_
from .optimizer import Optimizer, descent_grads


class RAdam(Optimizer):
    r"""t += 1;  g = grad + wd*p (or p *= 1 - lr*wd, decoupled);  m, v = Adam's moments;
    rho_inf = 2/(1-beta2) - 1;  rho_t = rho_inf - 2t*beta2^t/(1-beta2^t);
    p -= lr * m/(1-beta1^t) * (r_t * sqrt(1-beta2^t)/(sqrt(v)+eps) if rho_t > 5 else 1), with
    r_t = sqrt((rho_t-4)(rho_t-2)rho_inf / ((rho_inf-4)(rho_inf-2)rho_t))."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        self._check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _update_group(self, group, params):
        steps = [self._step_count(p) for p in params]
        radam(*self._arrays(params, "exp_avg", "exp_avg_sq"), steps,
              **self._options(group, "lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize"))


def radam(params, grads, exp_avgs, exp_avg_sqs, steps, *, lr, beta1, beta2, eps, weight_decay,
          decoupled_weight_decay, maximize):
    """In place over arrays; ``steps`` are the step counts after this step."""
    grads = descent_grads(params, grads, weight_decay, maximize,
                          decoupled_lr=lr if decoupled_weight_decay else None)
    rho_inf = 2 / (1 - beta2) - 1
    for p, g, m, v, step in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        xp = namespace(p)
        moments_(m, v, g, beta1, beta2)
        bias_correction2 = 1 - beta2 ** step
        update = m / (1 - beta1 ** step) * lr
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            denom = xp.sqrt(v)
            denom += eps
            update *= bias_correction2 ** 0.5 / denom
            update *= rect
        p -= update
