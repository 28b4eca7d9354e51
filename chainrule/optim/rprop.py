"""Rprop, resilient backpropagation (torch.optim.Rprop)."""
from ..backend import namespace
from .optimizer import Optimizer, descent_grads, to_scalar


class Rprop(Optimizer):
    r"""t += 1;  s = sign(g * prev);  step_size *= etaplus (s > 0), etaminus (s < 0) or 1, clamped to
    step_sizes;  g = 0 where s < 0;  p -= sign(g) * step_size;  prev = g.
    step_size starts at lr (the group's lr when the parameter's state is created)."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        self._check_options(lr=lr, etas=etas)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update_group(self, group, params):
        for p in params:
            self._step_count(p)
        lr = to_scalar(group["lr"])
        sizes = [self._state_tensor(p, "step_size", lr) for p in params]
        rprop(*self._arrays(params, "prev"), sizes, **self._options(group, "etas", "step_sizes", "maximize"))


def rprop(params, grads, prevs, sizes, *, etas, step_sizes, maximize):
    """In place over arrays; ``sizes`` are the per-element step sizes (state 'step_size'),
    ``step_sizes`` their (min, max)."""
    etaminus, etaplus = etas
    grads = descent_grads(params, grads, 0, maximize)
    for p, g, prev, size in zip(params, grads, prevs, sizes):
        xp = namespace(p)
        agree = xp.asarray(g * prev)
        factor = xp.ones_like(size)  # in the parameter's dtype, as torch's sign tensor holding the etas
        factor[agree > 0] = etaplus
        factor[agree < 0] = etaminus
        size *= factor
        xp.clip(size, *step_sizes, out=size)
        g = xp.where(agree < 0, 0, g)  # a sign change: no step now, and no sign to compare next time
        p -= xp.sign(g) * size
        prev[...] = g
