"""chainrule: tensors, reverse-mode autograd, nn, optim and data loading with PyTorch's names,
and tools to see backprop. ``import chainrule as cr``."""
# Imported layer by layer, lowest first (tests/test_architecture.py checks that every import
# points down): dtypes and arrays; graph nodes, grad mode and the backward walk; the primitive
# ops; the Tensor; then everything built on Tensors.
from .dtypes import (dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16, float32, float64,
                     get_default_dtype, set_default_dtype)
from .backend import device
from .backend.random import manual_seed
from . import ops
from . import tensor as _tensor
from .tensor import (Tensor, Size, tensor, from_numpy, as_tensor, is_tensor, zeros, ones, empty, full, zeros_like,
                     ones_like, empty_like, full_like, arange, linspace, eye, rand, randn, randint, rand_like,
                     randn_like, randperm)

# The one binding: the layers below the Tensor type (ops, the engine) learn what it is.
ops.bind_tensor_type(Tensor, _tensor.tensor_namespace)

from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: E402
from . import autograd, cuda, nn, optim, utils, viz  # noqa: E402
from .io import save, load  # noqa: E402

# torch.exp(x), torch.sum(x, dim), torch.cat(ts), ...: the function variants of the op table
globals().update(_tensor.functions)
half, float, double, long, int = float16, float32, float64, int64, int32
concat = concatenate = _tensor.functions["cat"]
seed = manual_seed
detach = Tensor.detach

__version__ = "0.1.0"
