"""SGD with momentum, dampening, weight decay and Nesterov momentum (torch.optim.SGD)."""
from ..backend import namespace
from ..tensor import Tensor
from .optimizer import Optimizer, descent_grads


class SGD(Optimizer):
    r"""g = grad + wd*p;  b = g (first step) or momentum*b + (1-dampening)*g;
    g = g + momentum*b (nesterov) or b;  p -= lr*g."""

    _nan_passes = True  # torch's SGD checks `value < 0.0`

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        self._check_options(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      foreach=foreach, differentiable=differentiable, fused=fused))

    def _update_group(self, group, params):
        momentum = group["momentum"]
        bufs = [self.state.get(p, {}).get("momentum_buffer") for p in params] if momentum != 0 else None
        arrays = None if bufs is None else [b if b is None else b._data for b in bufs]
        sgd([p._data for p in params], [p.grad._data for p in params], arrays, lr=group["lr"],
            momentum=momentum, dampening=group["dampening"], weight_decay=group["weight_decay"],
            nesterov=group["nesterov"], maximize=group["maximize"])
        if momentum != 0:
            for p, b, arr in zip(params, bufs, arrays):
                if b is None:
                    self.state.setdefault(p, {})["momentum_buffer"] = Tensor._make(arr)


def sgd(params, grads, momentum_buffers, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """In place over arrays; a None entry of momentum_buffers is replaced by the new buffer. The
    scaled step goes through a reused scratch array, so plain and momentum steps allocate nothing."""
    grads = descent_grads(params, grads, weight_decay, maximize)
    for i, (p, g) in enumerate(zip(params, grads)):
        xp = namespace(p)
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                buf = momentum_buffers[i] = xp.array(g)  # a copy; 0-d stays an array
            else:
                buf *= momentum
                if dampening == 0:
                    buf += g
                else:
                    buf += (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        step = xp.scratch(p.shape, p.dtype)
        xp.multiply(g, lr, out=step)
        p -= step
        xp.release(step)
