"""chainrule.accelerator: torch.accelerator's device-agnostic view of the current accelerator.
Chainrule's only accelerator is CUDA through CuPy; on a CPU-only machine there is none."""
from .backend import cuda_support, Device


def is_available():
    return cuda_support.is_available()


def current_accelerator(check_available=False):
    """device('cuda') when CUDA (CuPy) is usable, else None."""
    return Device("cuda") if is_available() else None


def device_count():
    return cuda_support.device_count() if is_available() else 0


def _require():
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_device_index():
    _require()
    return cuda_support.cupy().cuda.Device().id


current_device_idx = current_device_index


def set_device_index(device):
    _require()
    index = device.index if isinstance(device, Device) else int(device)
    cuda_support.cupy().cuda.Device(index).use()


set_device_idx = set_device_index


def synchronize(device=None):
    _require()
    cuda_support.synchronize()


__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "current_device_idx",
           "set_device_index", "set_device_idx", "synchronize"]
