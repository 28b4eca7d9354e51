"""Creating tensors: from data (tensor, from_numpy, as_tensor), filled (zeros, ones, full, eye,
arange, linspace, ...) and random (rand, randn, randint, randperm). One factory, ``_leaf``, puts
every new array on its device and sets requires_grad."""
import numpy as np

from .. import dtypes as _dt
from ..backend import parse_device, to_device, cuda_support
from ..backend import random as _random
from ..ops.args import leaf_array, size_args
from .core import Tensor


def _leaf(arr, device=None, requires_grad=False):
    """A new leaf tensor holding ``arr``, moved to ``device`` (a name or Device) if given."""
    dev = parse_device(device)
    if dev is not None and dev.type == "cuda":
        cuda_support.require(dev)
    if dev is not None:
        arr = to_device(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype):
    return _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor copying ``data`` (nested lists, scalars, arrays or tensors)."""
    return _leaf(leaf_array(data, dtype), device, requires_grad)


def from_numpy(a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _dt.from_numpy(a.dtype)
    return Tensor._make(a)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray) and dtype is None and device is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def is_tensor(obj):
    return isinstance(obj, Tensor)


# ---- filled and random: (*size) -> array, one factory ------------------------------------------

def _sized(name, fill):
    """zeros/ones/empty/rand/randn: ``fill(shape, np_dtype, device)`` gives the array."""
    def create(*shape, size=None, dtype=None, device=None, requires_grad=False):
        shape = size_args(shape if size is None else (size,), name)
        dev = parse_device(device)
        if dev is not None and dev.type == "cuda":
            cuda_support.require(dev)
        return _leaf(fill(shape, _float_dtype(dtype).np, dev), dev, requires_grad)
    create.__name__ = name
    return create


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False):
        return fn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                  requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros = _sized("zeros", lambda shape, dtype, dev: np.zeros(shape, dtype))
ones = _sized("ones", lambda shape, dtype, dev: np.ones(shape, dtype))
empty = _sized("empty", lambda shape, dtype, dev: np.empty(shape, dtype))
rand = _sized("rand", lambda shape, dtype, dev: _random.uniform_array(shape, 0.0, 1.0, dtype, dev))
randn = _sized("randn", lambda shape, dtype, dev: _random.normal_array(shape, 0.0, 1.0, dtype, dev))
zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)
rand_like, randn_like = _like(rand), _like(randn)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    shape = size_args((size,), "full")
    if dtype is None:
        dtype = _dt.bool_ if isinstance(fill_value, bool) else (
            _dt.int64 if isinstance(fill_value, int) else _dt.get_default_dtype())
    return _leaf(np.full(shape, fill_value, dtype=_dt.to_dtype(dtype).np), device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = _dt.int64 if is_int else _dt.get_default_dtype()
    d = _dt.to_dtype(dtype)
    n = max(int(np.ceil((end - start) / step)), 0)
    arr = (start + step * np.arange(n, dtype=np.float64 if d.is_floating_point else np.int64)).astype(d.np)
    return _leaf(arr, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    return _leaf(np.linspace(start, end, steps).astype(_float_dtype(dtype).np), device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype).np), device, requires_grad)


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
    arr = _random.integers_array(low, high, size_args((size,), "randint"), dev)
    if dtype is not None:
        arr = arr.astype(_dt.to_dtype(dtype).np)
    return _leaf(arr, dev, requires_grad)


def randperm(n, dtype=None, device=None):
    arr = _random.permutation_array(n, None).astype(_dt.to_dtype(dtype).np if dtype else np.int64)
    return _leaf(arr, device)
