"""chainrule.cuda: availability and control of CUDA devices (through CuPy)."""
from ..backend import cuda_support
from ..backend.random import cuda_manual_seed


def is_available():
    """True when CuPy is installed and sees a CUDA device (as ``torch.cuda.is_available``)."""
    return cuda_support.is_available()


def device_count():
    """The number of CUDA devices CuPy sees (0 without CuPy or a GPU)."""
    return cuda_support.device_count()


def synchronize(device=None):
    """Wait until every kernel queued on the current device has finished (timing, host reads)."""
    cuda_support.synchronize()


def manual_seed(seed):
    """Seed the GPU's random generator (dropout, ``rand`` on CUDA), as ``torch.cuda.manual_seed``;
    ``chainrule.manual_seed`` seeds it too."""
    cuda_manual_seed(seed)


def manual_seed_all(seed):
    """As ``manual_seed``: chainrule uses one GPU generator for all devices."""
    cuda_manual_seed(seed)


def is_bf16_supported(including_emulation=True):
    """False: chainrule's arrays have no bfloat16 (torch: whether the GPU computes in it)."""
    return False


def memory_allocated(device=None):
    """Bytes of GPU memory held by arrays now (CuPy's memory pool); 0 without CUDA, as torch's CPU build."""
    return cuda_support.cupy().get_default_memory_pool().used_bytes() if is_available() else 0


def memory_reserved(device=None):
    """Bytes of GPU memory the allocator holds (in use or cached for reuse); 0 without CUDA."""
    return cuda_support.cupy().get_default_memory_pool().total_bytes() if is_available() else 0


def _peak(name):
    def peak(device=None):
        if is_available():
            raise NotImplementedError(f"cuda.{name}: CuPy's memory pool keeps no peak; use memory_allocated "
                                      "around the code of interest")
        return 0
    peak.__name__ = name
    peak.__doc__ = f"As ``torch.cuda.{name}``: 0 without CUDA; on a GPU not tracked (NotImplementedError)."
    return peak


max_memory_allocated, max_memory_reserved = _peak("max_memory_allocated"), _peak("max_memory_reserved")


def empty_cache():
    """Return the memory pool's cached, unused GPU blocks to the device (nothing without CUDA)."""
    if is_available():
        cuda_support.cupy().get_default_memory_pool().free_all_blocks()


from . import amp  # noqa: E402  (torch.cuda.amp)


__all__ = ["is_available", "device_count", "synchronize", "manual_seed", "manual_seed_all", "is_bf16_supported",
           "memory_allocated", "memory_reserved", "max_memory_allocated", "max_memory_reserved", "empty_cache",
           "amp"]
