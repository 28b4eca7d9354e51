"""In-place random fills (``random_``, ``exponential_``, ``geometric_``, ``log_normal_``, ``cauchy_``)
from chainrule's generators, written through ``store`` so autograd sees the write."""
import numpy as np

from .. import dtypes as _dt
from ..backend import namespace
from ..backend import random as _random
from ..ops.args import plain
from .creation import _int_draw
from .inplace import store


# ---- in-place draws ---------------------------------------------------------------------------------

def _fill(input, values, name):
    return store(input, plain(values.astype(input._data.dtype, copy=False)), name)


def random_(input, *args, generator=None, **kwargs):
    """random_(from=0, to=None): integers in [from, to - 1]; without ``to``, up to the largest
    integer input's dtype holds exactly; random_(to) draws from [0, to - 1]."""
    if len(args) > 2 or set(kwargs) - {"from", "to"}:
        raise TypeError("random_() takes (from, to), (to) or no bounds, and generator=")
    bounds = {"to": args[0]} if len(args) == 1 else dict(zip(("from", "to"), args))
    bounds.update(kwargs)
    values = _int_draw(bounds.get("from", 0), bounds.get("to"), input._data.shape, input.dtype, input.device,
                       generator)
    return _fill(input, values, "random_")


def exponential_(input, lambd=1.0, *, generator=None):
    """Fills the tensor in place with draws from the exponential distribution of rate ``lambd``, as
    ``torch.Tensor.exponential_``."""
    _random.check_continuous(input.dtype, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_random.fmt(lambd)}")
    e = _random.exponential_array(input._data.shape, input._data.dtype, input.device, generator)
    return _fill(input, e / lambd, "exponential_")


def geometric_(input, p, *, generator=None):
    """Fills the tensor in place with draws from the geometric distribution (trials until the first success,
    success probability ``p``), as ``torch.Tensor.geometric_``."""
    if input.dtype is _dt.bool_:
        raise _random.not_implemented("geometric_cpu", input.dtype)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_random.fmt(p)}")
    return _fill(input, _random.geometric_array(p, input._data.shape, input.device, generator), "geometric_")


def log_normal_(input, mean=1.0, std=2.0, *, generator=None):
    """Fills the tensor in place with exp(N(mean, std)) draws, as ``torch.Tensor.log_normal_``."""
    _random.check_floating(input.dtype, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_random.fmt(std)}")
    z = _random.normal_array(input._data.shape, mean, std, input._data.dtype, input.device, generator)
    return _fill(input, namespace(z).exp(z), "log_normal_")


def cauchy_(input, median=0.0, sigma=1.0, *, generator=None):
    """Fills the tensor in place with draws from the Cauchy distribution median + sigma tan(pi (U - 1/2)), as
    ``torch.Tensor.cauchy_``."""
    _random.check_continuous(input.dtype, "Cauchy", c_name=True)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_random.fmt(sigma)}")
    u = _random.uniform_array(input._data.shape, 0.0, 1.0, input._data.dtype, input.device, generator)
    return _fill(input, median + sigma * namespace(u).tan(np.pi * (u - 0.5)), "cauchy_")
