"""chainrule: tensors, reverse-mode autograd, nn, optim and data loading with PyTorch's names,
and tools to see backprop. ``import chainrule as cr``."""
from . import dtypes as _dtypes
from .dtypes import (dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16, float32, float64,
                     get_default_dtype, set_default_dtype)
from .backend import device
from .tensor import (Tensor, Size, tensor, from_numpy, as_tensor, is_tensor, numel, zeros, ones, empty,
                     full, zeros_like, ones_like, empty_like, full_like, arange, linspace, eye, matmul,
                     maximum, minimum, where, cat, stack)
from .random import (manual_seed, seed, rand, randn, randint, rand_like, randn_like, randperm)
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from . import autograd, ops, cuda, nn, optim, utils, viz
from .io import save, load

half, float, double, long, int = float16, float32, float64, int64, int32
concat = concatenate = cat


def _method_function(name):
    method = getattr(Tensor, name)

    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        return method(input, *args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = method.__doc__
    return fn


# torch.exp(x), torch.sum(x, dim), ... : the function form of each Tensor method
for _name in ("exp log sqrt rsqrt sin cos tanh sigmoid relu abs sign square reciprocal clamp clip "
              "sum mean var std prod max min amax amin argmax argmin all any logsumexp softmax "
              "log_softmax norm reshape flatten unflatten squeeze unsqueeze transpose swapaxes t permute "
              "split chunk unbind mm bmm dot neg add sub mul div pow isnan isfinite logical_not "
              "clone detach allclose equal eq ne lt le gt ge expand_copy").split():
    if hasattr(Tensor, _name):
        globals()[_name] = _method_function(_name)
del _name

__version__ = "0.1.0"
