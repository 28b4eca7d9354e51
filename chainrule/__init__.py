"""chainrule: tensors, reverse-mode autograd, nn, optim and data loading with PyTorch's names,
and tools to see backprop. ``import chainrule as cr``."""
# Imported layer by layer, lowest first (tests/test_architecture.py checks that every import
# points down): dtypes and arrays; graph nodes, grad mode and the backward walk; the primitive
# ops; the Tensor; then everything built on Tensors.
from .dtypes import (dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16, float32, float64,
                     bfloat16, get_default_dtype, set_default_dtype)
from .backend import device
from . import ops
from . import tensor as _tensor
from .tensor import (Tensor, Size, tensor, from_numpy, as_tensor, is_tensor, zeros, ones, empty, full, zeros_like,
                     ones_like, empty_like, full_like, arange, linspace, eye, rand, randn, randint, rand_like,
                     randn_like, randperm)

# The one binding: the layers below the Tensor type (ops, the engine) learn what it is.
ops.bind_tensor_type(Tensor, _tensor.tensor_namespace)

from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: E402
from . import autograd, cuda, nn, optim, utils, viz  # noqa: E402
from . import distributions  # noqa: E402
from . import distributed  # noqa: E402  (issue 17: process groups over MPI/NCCL, DDP)
from .io import save, load  # noqa: E402
from . import jit, onnx  # noqa: E402  (issue 15: jit.trace/save/load, onnx.export)
# random sampling and creation, grad modes, backends (issue 13)
from .tensor.creation import (Generator, default_generator, manual_seed, seed, initial_seed,  # noqa: E402
                              get_rng_state, set_rng_state, scalar_tensor, logspace, empty_strided, randint_like,
                              memory_format, contiguous_format, preserve_format, channels_last, channels_last_3d)
from .autograd.grad_mode import inference_mode, is_inference_mode_enabled  # noqa: E402
from .tensor.conversion import set_printoptions  # noqa: E402
from . import accelerator, backends, random  # noqa: E402
from .backends import (use_deterministic_algorithms, are_deterministic_algorithms_enabled,  # noqa: E402
                       is_deterministic_algorithms_warn_only_enabled, set_num_threads, get_num_threads,
                       get_default_device, set_default_device, compile)
from . import linalg  # noqa: E402
from . import func  # noqa: E402  (torch.func: grad, vjp, jacrev, vmap, functional_call)
from .func import vmap  # noqa: E402  (torch.vmap)
# losses (issue 13): torch.cosine_similarity, torch.pairwise_distance, torch.pdist (nn.functional's)
from .nn.functional_losses import cosine_similarity, pairwise_distance, pdist  # noqa: E402
from . import special  # noqa: E402
from . import sparse  # noqa: E402
from . import amp  # noqa: E402
from .amp import autocast, is_autocast_enabled  # noqa: E402
from .tensor.sparse import sparse_coo_tensor, sparse_coo, strided  # noqa: E402
from .sparse import mm as spmm  # noqa: E402
from .tensor.special import finfo, iinfo  # noqa: E402
from .legacy import (FloatTensor, DoubleTensor, HalfTensor, ByteTensor, CharTensor, ShortTensor,  # noqa: E402
                     IntTensor, LongTensor, BoolTensor)  # torch's legacy constructors (ported programs)
from . import serialization  # noqa: E402  (torch.serialization's allowlist API; nothing is unpickled)
from . import profiler  # noqa: E402  (torch.profiler: op times, record_function, schedules)

# torch.exp(x), torch.sum(x, dim), torch.cat(ts), ...: the function variants of the op table
globals().update(_tensor.functions)
half, float, double, long, int = float16, float32, float64, int64, int32
short = int16  # torch.short (everyday gaps, session 3)
concat = concatenate = _tensor.functions["cat"]
detach = Tensor.detach

__version__ = "0.1.0"
