"""NAdam: Adam with Nesterov momentum and a momentum schedule (torch.optim.NAdam)."""
from ..backend import namespace
from .adam import moments_
from .optimizer import Optimizer, descent_grads


class NAdam(Optimizer):
    r"""t += 1;  g = grad + wd*p (or p *= 1 - lr*wd, decoupled);
    mu_t = beta1*(1 - 0.5*0.96^(t*momentum_decay));  prod *= mu_t (state mu_product);
    m, v = Adam's moments;  d = sqrt(v/(1-beta2^t)) + eps;
    p -= lr*(1-mu_t)/(1-prod) * g/d + lr*mu_{t+1}/(1-prod*mu_{t+1}) * m/d."""

    _scalar_keys = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        self._check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _update_group(self, group, params):
        steps = [self._step_count(p) for p in params]
        mu_products = [self._scalar_state(p, "mu_product", 1.0) for p in params]
        nadam(*self._arrays(params, "exp_avg", "exp_avg_sq"), mu_products, steps,
              **self._options(group, "lr", "betas", "eps", "weight_decay", "momentum_decay",
                              "decoupled_weight_decay", "maximize"))


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, *, lr, beta1, beta2, eps, weight_decay,
          momentum_decay, decoupled_weight_decay, maximize):
    """In place over arrays; ``mu_products`` are 0-d arrays (rounded to their dtype each step, as
    torch's float32 state tensor is); ``steps`` are the step counts after this step."""
    grads = descent_grads(params, grads, weight_decay, maximize,
                          decoupled_lr=lr if decoupled_weight_decay else None)
    for p, g, m, v, mu_product, step in zip(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps):
        xp = namespace(p)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product *= mu
        prod = float(mu_product)
        moments_(m, v, g, beta1, beta2)
        denom = xp.sqrt(v / (1 - beta2 ** step))
        denom += eps
        p -= lr * (1.0 - mu) / (1.0 - prod) * g / denom
        p -= lr * mu_next / (1.0 - prod * mu_next) * m / denom
