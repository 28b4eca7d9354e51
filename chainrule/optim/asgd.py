"""ASGD, averaged stochastic gradient descent (torch.optim.ASGD)."""
from .optimizer import Optimizer, descent_grads


class ASGD(Optimizer):
    r"""t += 1;  g = grad + wd*p;  p *= 1 - lambd*eta;  p -= eta*g;
    ax = p (mu == 1) or ax + mu*(p - ax);  eta = lr/(1 + lambd*lr*t)^alpha;  mu = 1/max(1, t - t0).
    eta and mu are per-parameter 0-d state tensors, as torch's (and rounded to their dtype)."""

    _scalar_keys = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        self._check_options(lr=lr, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update_group(self, group, params):
        options = self._options(group, "lr", "lambd", "alpha", "t0", "weight_decay", "maximize")
        etas = [self._scalar_state(p, "eta", options["lr"]) for p in params]  # created holding this step's lr
        steps = [self._step_count(p) for p in params]
        asgd(*self._arrays(params, "ax"), [self._scalar_state(p, "mu", 1.0) for p in params], etas, steps, **options)


def asgd(params, grads, axs, mus, etas, steps, *, lr, lambd, alpha, t0, weight_decay, maximize):
    """In place over arrays; ``mus`` and ``etas`` are 0-d arrays, rewritten for the next step;
    ``steps`` are the step counts after this step."""
    grads = descent_grads(params, grads, weight_decay, maximize)
    for p, g, ax, mu, eta, step in zip(params, grads, axs, mus, etas, steps):
        eta_value, mu_value = float(eta), float(mu)
        p *= 1 - lambd * eta_value
        p -= eta_value * g
        if mu_value != 1:
            ax += (p - ax) * mu_value
        else:
            ax[...] = p
        eta[...] = lr / ((1 + lambd * lr * step) ** alpha)
        mu[...] = 1 / max(1, step - t0)
