"""Random numbers: one seeded generator per device, so ``manual_seed`` makes every random
function (creation, init, dropout, shuffling) reproducible."""
import numpy as np

from . import dtypes as _dt
from .backend import cuda_support, parse_device
from .tensor import Tensor, _size_args, _finish

_cpu = np.random.default_rng(0)
_cuda_seed = [0]
_cuda_gens = {}


def manual_seed(seed):
    """Seed every generator (CPU and CUDA); returns the seed like torch returns a Generator."""
    global _cpu
    seed = int(seed)
    _cpu = np.random.default_rng(seed)
    cuda_manual_seed(seed)
    return seed


seed = manual_seed


def cuda_manual_seed(seed):
    _cuda_seed[0] = int(seed)
    _cuda_gens.clear()


def generator(device=None):
    """The generator for ``device``: NumPy's on the CPU, CuPy's on a GPU."""
    if device is None or device.type == "cpu":
        return _cpu
    gen = _cuda_gens.get(device.index)
    if gen is None:
        cp = cuda_support.cupy()
        with cp.cuda.Device(device.index):
            gen = cp.random.default_rng(_cuda_seed[0] + device.index)
        _cuda_gens[device.index] = gen
    return gen


def _float_dtype(dtype):
    return dtype if dtype.kind == "f" and dtype.itemsize >= 4 else np.dtype(np.float32)


def uniform_array(shape, low, high, dtype, device=None):
    gen = generator(device)
    a = gen.random(shape, dtype=_float_dtype(dtype))
    if low != 0 or high != 1:
        a = a * (high - low) + low
    return a.astype(dtype, copy=False)


def normal_array(shape, mean, std, dtype, device=None):
    gen = generator(device)
    a = gen.standard_normal(shape, dtype=_float_dtype(dtype))
    if std != 1 or mean != 0:
        a = a * std + mean
    return a.astype(dtype, copy=False)


def integers_array(low, high, shape, device=None):
    return generator(device).integers(low, high, size=shape, dtype=np.int64)


def permutation_array(n, device=None):
    return generator(device).permutation(n)


def _creator(kind):
    def create(*shape, size=None, dtype=None, device=None, requires_grad=False):
        shape = _size_args(shape if size is None else (size,), kind)
        d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
        dev = parse_device(device)
        if dev is not None and dev.type == "cuda":
            cuda_support.require(dev)
        arr = (uniform_array if kind == "rand" else normal_array)(shape, 0.0, 1.0, d.np, dev)
        return _finish(arr, None, requires_grad)
    create.__name__ = kind
    return create


rand = _creator("rand")
randn = _creator("randn")


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False):
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dev = parse_device(device)
    arr = integers_array(low, high, _size_args((size,), "randint"), dev)
    if dtype is not None:
        arr = arr.astype(_dt.to_dtype(dtype).np)
    return _finish(arr, dev, requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randperm(n, dtype=None, device=None):
    arr = permutation_array(n, None).astype(_dt.to_dtype(dtype).np if dtype else np.int64)
    t = Tensor._make(arr)
    return t.to(device) if device is not None else t
