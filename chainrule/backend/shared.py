"""Shared-memory arrays for chainrule.multiprocessing: one ``multiprocessing.shared_memory`` segment per
array, made by ``share`` (``Tensor.share_memory_``) and attached by name in other processes; the process
that made a segment unlinks it at exit."""
import atexit
from multiprocessing import resource_tracker, shared_memory

import numpy as np

_segments = {}  # name -> (SharedMemory, start address, size), made or attached here; kept open for the arrays
_made = []  # names this process created: unlinked at exit


def share(array):
    """A copy of the NumPy array ``array`` in a new shared-memory segment."""
    shm = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
    _made.append(shm.name)
    out = _remember(shm, array.shape, array.dtype, 0, None)
    out[...] = array
    return out


def _remember(shm, shape, dtype, offset, strides):
    whole = np.frombuffer(shm.buf, np.uint8)
    _segments[shm.name] = (shm, whole.ctypes.data, shm.size)
    return np.ndarray(shape, dtype, buffer=shm.buf, offset=offset, strides=strides)


def segment_of(array):
    """(segment name, byte offset) of the shared segment holding ``array``'s data, or None."""
    if type(array) is not np.ndarray:
        return None
    address = array.__array_interface__["data"][0]
    for name, (_, start, size) in _segments.items():
        if start <= address < start + size:
            return name, address - start
    return None


@atexit.register
def _unlink():
    for name in _made:
        shm = _segments[name][0]
        try:
            shm.unlink()  # not close(): arrays still point into it until the process ends
        except FileNotFoundError:
            pass


def _attach(name):
    """The segment ``name``, not registered with a resource tracker: only its maker owns it (before
    Python 3.13 attaching registered it, and a tracker unlinks what is registered with it when it ends:
    a process with a tracker of its own would have removed the maker's segment on exit)."""
    try:
        return shared_memory.SharedMemory(name=name, track=False)  # Python >= 3.13
    except TypeError:
        register = resource_tracker.register
        resource_tracker.register = lambda *args: None
        try:
            return shared_memory.SharedMemory(name=name)
        finally:
            resource_tracker.register = register


def attached(name, offset, shape, strides, dtype):
    """The array at ``offset`` in segment ``name`` (made by this process or another one)."""
    shm = _segments[name][0] if name in _segments else _attach(name)
    return _remember(shm, shape, np.dtype(dtype), offset, strides)
