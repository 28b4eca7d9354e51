"""torch.backends' switches (``cudnn``, ``cuda.matmul``, ``mps``, ``mkldnn``) and the process-wide
settings torch keeps at its top level: deterministic algorithms, threads, the default device and
``compile``. Chainrule runs NumPy/CuPy kernels, so the cuDNN/TF32 flags are stored and reported
(torch code that sets them runs unchanged) and change nothing; the thread count is real (the
BLAS/OpenMP pools, through threadpoolctl). The default device lives with the factories
(``chainrule.tensor.creation``)."""
import sys as _sys

from .backend import cuda_support
from .tensor.creation import get_default_device, set_default_device  # noqa: F401 (torch's top-level names)


class _Flags:
    """A namespace of settable flags plus functions, like torch's backend modules."""

    def __init__(self, name, **attrs):
        self.__dict__.update(attrs)
        self._name = name

    def __repr__(self):
        flags = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if not k.startswith("_") and not callable(v))
        return f"<chainrule.backends.{self._name} {flags}>"


def _false():
    return False


cudnn = _Flags("cudnn", enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
               benchmark_limit=10, is_available=_false, version=lambda: None)
cuda = _Flags("cuda", matmul=_Flags("cuda.matmul", allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                                   allow_bf16_reduced_precision_reduction=True),
              is_built=lambda: cuda_support.is_available())
mps = _Flags("mps", is_available=_false, is_built=_false)
mkldnn = _Flags("mkldnn", enabled=True, is_available=_false)
for _name in ("cudnn", "cuda", "mps", "mkldnn"):  # so `import torch.backends.cudnn as cudnn` works
    _sys.modules[f"{__name__}.{_name}"] = globals()[_name]


# ---- deterministic algorithms -------------------------------------------------------------------

_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Stored and reported. Chainrule's CPU kernels are deterministic; on CUDA, scatter-adds
    (index backward) use atomics and are not, whatever this flag says."""
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    _deterministic.update(mode=mode, warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled():
    """True when ``use_deterministic_algorithms(True)`` is in effect, as
    ``torch.are_deterministic_algorithms_enabled``."""
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    """True when deterministic mode only warns, as ``torch.is_deterministic_algorithms_warn_only_enabled``."""
    return _deterministic["warn_only"]


# ---- threads ----------------------------------------------------------------------------------

_threads = {"limiter": None, "n": None}


def set_num_threads(n):
    """The number of threads NumPy's BLAS/OpenMP pools use (torch's intra-op threads)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    from threadpoolctl import threadpool_limits
    _threads["limiter"] = threadpool_limits(limits=n)
    _threads["n"] = n


def get_num_threads():
    """The number of threads NumPy's BLAS pools use (see ``set_num_threads``), as ``torch.get_num_threads``."""
    if _threads["n"] is not None:
        return _threads["n"]
    from threadpoolctl import threadpool_info
    counts = [p["num_threads"] for p in threadpool_info()]
    if counts:
        return max(counts)
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ---- compile ----------------------------------------------------------------------------------

def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False, **kwargs):
    """torch.compile's signature: ``chainrule.jit.compile`` records ``model`` (a function or a whole
    training step) once per signature and replays it on raw arrays; chainrule's own keywords
    ``passes`` and ``cache_size`` pass through. ``disable=True`` returns ``model`` unchanged."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    from .jit.compile import compile as _compile  # the jit sits on the libraries this module does not need
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                  options=options, disable=disable, **kwargs)
    if not callable(model):
        raise RuntimeError("torch.compile: model must be callable")
    return _compile(model, fullgraph=fullgraph, disable=disable, passes=kwargs.get("passes"),
                    cache_size=kwargs.get("cache_size", 8))


__all__ = ["cudnn", "cuda", "mps", "mkldnn", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_num_threads", "get_num_threads",
           "get_default_device", "set_default_device", "compile"]
