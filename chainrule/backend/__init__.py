"""The array namespace: NumPy for CPU tensors, CuPy for CUDA tensors.

Ops never import numpy or cupy directly for computation: they call ``namespace(array)`` (or use
the ``xp`` handed to them) and the helpers below, so one definition serves both devices.
"""
import functools

import numpy as np

from .device import device, Device, parse_device
from . import special as _torch_special
from . import cuda_support
from . import blas
from . import heap

heap.keep_freed_memory()

__all__ = ["namespace", "NP", "ArrayNamespace", "device", "Device", "parse_device", "device_of",
           "to_device", "parse_to_args", "cuda_support"]

_ndarray = np.ndarray
_SCRATCH_LIMIT = 256 << 20
_EWISE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class ArrayNamespace:
    """A NumPy-like module (numpy or cupy) plus the few helpers whose spelling differs.

    Every public name of the module is copied onto the instance, so ``xp.exp`` costs one dict
    lookup; ops call ``xp.scatter_add``/``xp.as_strided`` the same way on both devices.
    """

    def __init__(self, module, name):
        self.__dict__.update({k: getattr(module, k) for k in dir(module) if not k.startswith("_")})
        self.module = module
        self.name = name
        self._scratch = {}  # (shape, dtype) -> released scratch arrays (NumPy only)
        self._scratch_bytes = 0
        self.sigmoid = _special(module, "expit") or self._sigmoid
        self.erf = _special(module, "erf")
        # special functions of the elementwise math ops (scipy.special / cupyx.scipy.special)
        for fn in ("erfc", "erfinv", "gammaln", "digamma", "ndtri", "i0", "i1", "xlog1py"):
            setattr(self, fn, _special(module, fn))
        self.scipy_polygamma = _special(module, "polygamma")
        # torch's conventions where SciPy's differ: lgamma(x), trigamma(x), polygamma(n, x)
        for fn in ("lgamma", "trigamma", "polygamma"):
            setattr(self, fn, functools.partial(getattr(_torch_special, fn), self))

    def _sigmoid(self, x):
        """1 / (1 + e^-x) without overflow, for namespaces lacking a fused expit."""
        e = self.exp(-self.abs(x))
        return self.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def __repr__(self):
        return f"<array namespace {self.name}>"

    def scatter_add(self, target, index, values):
        """target[index] += values, accumulating repeated indices."""
        if self.module is np:
            np.add.at(target, index, values)
        else:
            cuda_support.scatter_add(target, index, values)

    def scatter_at(self, target, index, values, how):
        """target[index] = how(target[index], values) element by element, repeated indices included
        (``how``: "add", "multiply", "maximum" or "minimum": scatter_reduce's sum, prod, amax, amin)."""
        if self.module is np:
            getattr(np, how).at(target, index, values)
        elif how == "multiply":  # cupyx has no scatter_multiply: on the host
            host = target.get()
            np.multiply.at(host, tuple(k.get() if hasattr(k, "get") else k for k in index), values.get())
            target[...] = self.asarray(host)
        else:
            import cupyx
            getattr(cupyx, {"add": "scatter_add", "maximum": "scatter_max", "minimum": "scatter_min"}[how])(
                target, index, values)

    def as_strided(self, array, shape, strides):
        """A read-only strided view (sliding windows for conv/pool)."""
        if self.module is np:
            return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=False)
        return self.module.lib.stride_tricks.as_strided(array, shape, strides)

    def index_grad(self, shape, key, g, dtype, basic):
        """The gradient of x[key]: zeros of ``shape`` with ``g`` added at ``key``."""
        out = self.zeros(shape, dtype=dtype)
        if basic:  # slices/ints only: no position repeats
            out[key] = g
        else:
            self.scatter_add(out, key, g)
        return out

    def masked(self, g, keep):
        """g where keep, else 0, with torch's select semantics (a nan or inf in g outside keep
        gives 0). NumPy's where branches per element and costs ~15x a multiply on random masks
        (ReLU backward), so on the CPU multiply and fall back to where only if g is not finite."""
        if self.module is not np:
            return self.where(keep, g, 0)
        with np.errstate(invalid="ignore"):  # inf * 0, replaced just below
            out = g * keep
        if not np.isfinite(out.sum()):
            out = np.where(keep, g, out.dtype.type(0))
        return out

    def relu(self, x):
        """max(x, 0); a compiled pass for large float arrays on the CPU (backend/ewise_kernels.py)."""
        k = self._ewise_kernels(x)
        if k is None:
            return self.maximum(x, 0)
        out = np.empty(x.shape, x.dtype)
        k.relu(x.reshape(-1), out.reshape(-1))
        return out

    def relu_grad(self, g, out):
        """ReLU's backward: g where out != 0, else 0 (as ``masked``)."""
        k = self._ewise_kernels(g, out)
        if k is None or g.shape != out.shape:
            return self.masked(g, out != 0)
        dx = np.empty(g.shape, g.dtype)
        k.relu_grad(g.reshape(-1), out.reshape(-1), dx.reshape(-1))
        return dx

    def softmax_xent(self, x, coef):
        """(loss per row, softmax) of SoftmaxCrossEntropy on (M, C) logits in one compiled pass, or
        None: not on the CPU with numba, or a log-probability not finite (the op's NumPy rule then)."""
        k = self._ewise_kernels(x, coef, least=0)
        if k is None or x.ndim != 2 or coef.shape != x.shape:
            return None
        loss, p = np.empty(x.shape[:1], x.dtype), np.empty_like(x)
        return (loss, p) if k.softmax_xent(x, coef, loss, p) else None

    def softmax_xent_grad(self, g, p, coef):
        """dx_i = g_i (p_i sum_c coef_ic - coef_i) in one compiled pass, or None (as softmax_xent)."""
        k = self._ewise_kernels(p, coef, least=0)
        if k is None or p.ndim != 2 or coef.shape != p.shape or g.shape != p.shape[:1] or g.dtype != p.dtype:
            return None
        dx = np.empty_like(p)
        k.softmax_xent_grad(np.ascontiguousarray(g), p, coef, dx)  # g: often the sum's broadcast view
        return dx

    def _ewise_kernels(self, *arrays, least=4096):
        """backend/ewise_kernels.py where every array is a C-ordered float array of one dtype and
        ``least`` elements or more on the CPU and numba is on, else None (NumPy's call on fewer than
        4096 elements costs no more than the kernel's)."""
        a = arrays[0]
        if self.module is not np or a.size < least or a.dtype not in _EWISE_DTYPES or any(
                b.dtype != a.dtype or not b.flags.c_contiguous for b in arrays):
            return None
        from . import compiled
        if not compiled.enabled():
            return None
        from . import ewise_kernels
        return ewise_kernels

    def scratch(self, shape, dtype):
        """An uninitialised array for a temporary that never outlives the call using it (conv's
        im2col columns, an optimizer's scaled step), reused from ``release``. A fresh 20 MB array costs ~5,000 page faults, more
        than the copy that fills it; CuPy's own memory pool already caches device memory."""
        free = self._scratch.get((shape, dtype))
        if not free:
            return self.empty(shape, dtype=dtype)
        array = free.pop()
        self._scratch_bytes -= array.nbytes
        return array

    def release(self, array):
        """Give a ``scratch`` array back; nothing may use it afterwards. At most two per shape and
        _SCRATCH_LIMIT bytes in all (past it, arrays of shapes no longer used are dropped)."""
        if self.module is not np:
            return
        if self._scratch_bytes + array.nbytes > _SCRATCH_LIMIT:
            self._scratch.clear()
            self._scratch_bytes = 0
        free = self._scratch.setdefault((array.shape, array.dtype), [])
        if len(free) < 2:
            free.append(array)
            self._scratch_bytes += array.nbytes

    def put_along_axis_grad(self, shape, index, g, axis):
        """The gradient of take_along_axis(x, index, axis): g placed at index in zeros."""
        out = self.zeros(shape, dtype=g.dtype)
        self.put_along_axis(out, index, g, axis=axis)
        return out


def _special(module, name):
    """A SciPy special function (expit: fused and overflow-free; erf) for this namespace."""
    try:
        if module is np:
            import scipy.special as special
        else:
            import cupyx.scipy.special as special
        return getattr(special, name)
    except ImportError:
        return None


NP = ArrayNamespace(np, "numpy")
NP.matmul = blas.matmul  # small products at one BLAS thread (backend/blas.py)


# Floating-point warnings off inside ops (torch prints nothing for log(0), 1/0, exp overflow):
# ``tok = FP_STATE.set(FP_QUIET)`` ... ``FP_STATE.reset(tok)``. On NumPy >= 2 that is NumPy's own
# error-state context variable (about 0.1 us, where ``np.errstate`` costs about 1 us per op).
class _SeterrState:  # NumPy < 2: the same two calls through np.seterr
    set = staticmethod(lambda state: np.seterr(**state))
    reset = staticmethod(lambda old: np.seterr(**old))


try:
    from numpy._core.umath import _extobj_contextvar as FP_STATE, _make_extobj
    FP_QUIET = _make_extobj(all="ignore")
except ImportError:
    FP_STATE, FP_QUIET = _SeterrState, dict(all="ignore")
_cupy_ns = None


def namespace(array):
    """The namespace of an array: NP for NumPy arrays (and scalars), the CuPy one otherwise."""
    if type(array) is _ndarray or isinstance(array, (np.generic, _ndarray, int, float, bool)):
        return NP
    global _cupy_ns
    if _cupy_ns is None:
        _cupy_ns = ArrayNamespace(cuda_support.cupy(), "cupy")
    return _cupy_ns


def device_of(array):
    if type(array) is _ndarray or isinstance(array, (_ndarray, np.generic)):  # NumPy scalars and subclasses too
        return Device.CPU
    return cuda_support.device_of(array)


def to_device(array, dev):
    """Move an array to ``dev`` (a Device); no copy when it is already there."""
    if dev.type == "cpu":
        return array if type(array) is _ndarray else cuda_support.to_host(array)
    return cuda_support.to_cuda(array, dev.index)


def parse_to_args(args, kwargs):
    """The arguments of ``Tensor.to`` and ``Module.to``, as torch takes them: ``to(dtype)``,
    ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)`` and the keywords ``device``,
    ``dtype``, ``copy``, ``non_blocking``. Returns (Device or None, dtype as given or None, copy)."""
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if hasattr(a, "device") and hasattr(a, "dtype"):  # a tensor: take its device and dtype
            dev, dtype = a.device, a.dtype
        elif isinstance(a, (str, Device, int)) and not isinstance(a, bool):
            dev = a
        else:
            dtype = a
    dev = parse_device(dev)
    if dev is not None and dev.type == "cuda":
        cuda_support.require(dev)
    return dev, dtype, copy
