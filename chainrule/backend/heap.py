"""The C heap behind NumPy's arrays: freed memory kept for the next step instead of handed back.

Every op writes a new array, and glibc's malloc serves large ones (over 128 KB, then a threshold it
raises as it goes) with fresh mmap'd pages or returns the top of the heap to the OS when it is freed,
so the next step touches new pages and the kernel zeroes each one on its first write. Measured on
the LeNet-5 step (batch 64, 2 threads): 1,072 page faults and 3.7 ms of system time a step, the step
10.9 ms; with arrays up to 32 MB served from the heap and up to 256 MB of freed memory kept at its top,
no faults and 6.2-6.4 ms (a caching allocator does the same for PyTorch on a GPU; on a CPU jemalloc or
tcmalloc are the usual advice). The cost: memory freed after a peak stays with the process, up to
TRIM_BYTES beyond what is in use (``malloc_trim`` still returns it on request). glibc only: elsewhere
this does nothing; CHAINRULE_KEEP_HEAP=0 turns it off. It applies to the whole process (PyTorch in the
benchmarks' process gains from it as well).
"""
import ctypes
import ctypes.util
import os
import sys

MMAP_BYTES = 32 << 20  # arrays below this come from the heap (glibc's largest allowed threshold)
TRIM_BYTES = 256 << 20  # freed memory kept at the top of the heap before any is returned
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


def keep_freed_memory():
    """Set glibc's thresholds (above) once; True where they were set."""
    if not sys.platform.startswith("linux") or os.environ.get("CHAINRULE_KEEP_HEAP", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES))
