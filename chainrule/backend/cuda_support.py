"""CuPy behind the backend interface. Imported lazily: chainrule works without CuPy or a GPU."""
from .device import Device

_cupy = None
_checked = False


def _load():
    global _cupy, _checked
    if not _checked:
        _checked = True
        try:
            import cupy
            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception:  # no CuPy, no driver or no GPU: CUDA is simply unavailable
            _cupy = None
    return _cupy


def is_available():
    return _load() is not None and device_count() > 0


def device_count():
    cp = _load()
    if cp is None:
        return 0
    try:
        return cp.cuda.runtime.getDeviceCount()
    except Exception:
        return 0


def cupy():
    cp = _load()
    if cp is None:
        raise RuntimeError("CUDA is not available: install CuPy (pip install 'chainrule[cuda]') "
                           "on a machine with an NVIDIA GPU")
    return cp


def require(dev):
    if not is_available():
        raise RuntimeError(f"Cannot use device '{dev}': CUDA is not available "
                           "(no CuPy or no NVIDIA GPU). Check chainrule.cuda.is_available().")
    if dev.index >= device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal {dev.index} "
                           f"({device_count()} device(s) present)")


def device_of(array):
    return Device("cuda", array.device.id)


def to_host(array):
    return array.get()


def to_cuda(array, index):
    cp = cupy()
    with cp.cuda.Device(index):
        if isinstance(array, cp.ndarray) and array.device.id == index:
            return array
        return cp.asarray(array)


def scatter_add(target, index, values):
    import cupyx
    cupyx.scatter_add(target, index, values)


def synchronize():
    if is_available():
        cupy().cuda.runtime.deviceSynchronize()
