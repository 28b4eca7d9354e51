"""chainrule.cuda: availability and control of CUDA devices (through CuPy)."""
from .backend import cuda_support
from .backend.random import cuda_manual_seed as manual_seed


def is_available():
    return cuda_support.is_available()


def device_count():
    return cuda_support.device_count()


def synchronize(device=None):
    cuda_support.synchronize()


def manual_seed_all(seed):
    manual_seed(seed)


__all__ = ["is_available", "device_count", "synchronize", "manual_seed", "manual_seed_all"]
