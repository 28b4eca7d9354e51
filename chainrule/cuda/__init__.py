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


from . import amp  # noqa: E402  (torch.cuda.amp)


__all__ = ["is_available", "device_count", "synchronize", "manual_seed", "manual_seed_all", "is_bf16_supported",
           "amp"]
