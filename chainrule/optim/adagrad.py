"""Adagrad (torch.optim.Adagrad)."""
import numpy as np

from ..backend import namespace
from ..tensor import Tensor
from .optimizer import Optimizer, _scalar_dtype, descent_grads


class Adagrad(Optimizer):
    r"""t += 1;  g = grad + wd*p;  clr = lr / (1 + (t-1)*lr_decay);  s += g^2;  p -= clr * g/(sqrt(s)+eps)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        self._check_options(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                            initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:  # torch creates Adagrad's state up front
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        st = self.state.setdefault(p, {})
        if "sum" not in st:
            st["step"] = Tensor._make(np.zeros((), _scalar_dtype()))
            self._state_tensor(p, "sum", group["initial_accumulator_value"])

    def _update_group(self, group, params):
        for p in params:
            self._init_state(p, group)
        adagrad([p._data for p in params], [p.grad._data for p in params],
                [self.state[p]["sum"]._data for p in params], [self._step_count(p) for p in params],
                lr=group["lr"], weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                eps=group["eps"], maximize=group["maximize"])


def adagrad(params, grads, state_sums, steps, *, lr, weight_decay, lr_decay, eps, maximize):
    grads = descent_grads(params, grads, weight_decay, maximize)
    for p, g, s, step in zip(params, grads, state_sums, steps):
        clr = lr / (1 + (step - 1) * lr_decay)
        s += g * g
        std = namespace(p).sqrt(s)
        std += eps
        p -= clr * g / std
