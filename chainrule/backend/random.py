"""Random numbers: one seeded generator per device, so ``manual_seed`` makes every random
function (creation, init, dropout, shuffling) reproducible. Arrays only; the Tensor factories
(``rand``, ``randn``, ...) are in ``chainrule.tensor.creation``."""
import numpy as np

from . import cuda_support

_cpu = [np.random.default_rng(0)]
_cuda_seed = [0]
_cuda_gens = {}


def manual_seed(seed):
    """Seed every generator (CPU and CUDA); returns the seed like torch returns a Generator."""
    seed = int(seed)
    _cpu[0] = np.random.default_rng(seed)
    cuda_manual_seed(seed)
    return seed


def cuda_manual_seed(seed):
    _cuda_seed[0] = int(seed)
    _cuda_gens.clear()


def generator(device=None):
    """The generator for ``device``: NumPy's on the CPU, CuPy's on a GPU."""
    if device is None or device.type == "cpu":
        return _cpu[0]
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
    a = generator(device).random(shape, dtype=_float_dtype(dtype))
    if low != 0 or high != 1:
        a = a * (high - low) + low
    return a.astype(dtype, copy=False)


def normal_array(shape, mean, std, dtype, device=None):
    a = generator(device).standard_normal(shape, dtype=_float_dtype(dtype))
    if std != 1 or mean != 0:
        a = a * std + mean
    return a.astype(dtype, copy=False)


def integers_array(low, high, shape, device=None):
    return generator(device).integers(low, high, size=shape, dtype=np.int64)


def permutation_array(n, device=None):
    return generator(device).permutation(n)
