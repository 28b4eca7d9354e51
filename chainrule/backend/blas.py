"""NumPy's BLAS threads: how many it has, and stretches run with it at one thread.

chainrule spreads work over as many threads as BLAS was given (``cr.set_num_threads``, threadpoolctl,
``--threads``): a convolution's chunks and the sequence kernels run in Python threads with BLAS at
one thread inside each. OpenBLAS's own worker threads busy-wait ~0.1 s after every threaded call, so
a small matrix product run on two BLAS threads (LeNet's Linear layers) left a spinning worker that
took the second core from the convolution that followed: the LeNet step at 2 threads ran 15% slower
than with every product at one thread. Products under SMALL_GEMM_FLOPS with fewer than
SMALL_GEMM_ROWS rows therefore run at one thread (``matmul``, the NumPy namespace's ``xp.matmul``)
while chainrule's own threads have shared work (``own_threads_ran``) in the last OWN_THREADS_WINDOW
seconds; with no such work near (an MLP) every product gets every thread: the MLP b32 step at 2
threads, interleaved A/B in one process, went from 0.59-0.60 to 0.54-0.55 ms compiled, 0.95-0.97 to
0.89 ms eager.
Measured at 1 vs 2 threads: 64x400 @ 400x120 (6 MFLOP): 66 vs 72 us, 32x256 @ 256x256 (4 MFLOP):
47 vs 42 us, 32x784 @ 784x256 (13 MFLOP): 150 vs 113 us, but 512x256 @ 256x10 (3 MFLOP): 55 vs 34 us
(OpenBLAS splits the rows well: at one thread the compiled MLP b512 step lost 0.1 ms).
"""
import os
import threading
import time

import numpy as np

SMALL_GEMM_FLOPS = 8e6
SMALL_GEMM_ROWS = 256
OWN_THREADS_WINDOW = 0.5  # seconds: OpenBLAS's workers spin ~0.1 s after a call
_libs = []  # [the threadpoolctl controllers of NumPy's BLAS], looked up on first use
_state = {"depth": 0, "saved": None}  # stretches at one thread now running, and the count they replaced
_lock = threading.Lock()
_own_threads_at = [-OWN_THREADS_WINDOW]  # time.monotonic() when chainrule's own threads last shared work
if hasattr(os, "register_at_fork"):  # a forked child runs none of the parent's stretches
    os.register_at_fork(after_in_child=lambda: _state.update(depth=0, saved=None))


def _controllers():
    """NumPy's BLAS (by its path; where no path says so, every BLAS loaded: SciPy brings its own)."""
    if not _libs:
        try:
            from threadpoolctl import ThreadpoolController
            libs = [lc for lc in ThreadpoolController().lib_controllers if lc.user_api == "blas"]
        except Exception:  # no threadpoolctl: BLAS as it is
            libs = []
        _libs.append([lc for lc in libs if "numpy" in lc.filepath] or libs)
    return _libs[0]


def threads():
    """The number of threads NumPy's BLAS has now (outside the stretches at one thread)."""
    saved = _state["saved"]
    return saved if saved is not None else min((lc.get_num_threads() for lc in _controllers()), default=1)


def enter_one():
    """Start a stretch with BLAS at one thread: the first to enter limits it and the last to leave
    (``leave_one``) restores it, so that stretches overlapping from several user threads cannot leave
    BLAS at one thread."""
    with _lock:
        if _state["depth"] == 0:
            libs = _controllers()
            _state["saved"] = min((lc.get_num_threads() for lc in libs), default=1)
            for lc in libs:
                lc.set_num_threads(1)
        _state["depth"] += 1


def leave_one():
    with _lock:
        _state["depth"] -= 1
        if _state["depth"] == 0:
            for lc in _controllers():
                lc.set_num_threads(_state["saved"])
            _state["saved"] = None


def own_threads_ran():
    """Note that chainrule's own threads (convolution chunks, split sequence kernels) shared work now."""
    _own_threads_at[0] = time.monotonic()


def matmul(a, b, out=None):
    """np.matmul, at one BLAS thread where the product is small and chainrule's threads are busy (see above)."""
    macs = a.size * b.shape[-1] if b.ndim > 1 else a.size
    if b.ndim > 2 and a.ndim > 1:  # b's batch may be broadcast over a's
        macs = max(macs, b.size * a.shape[-2])
    if 2 * macs >= SMALL_GEMM_FLOPS or (a.ndim > 1 and a.shape[-2] >= SMALL_GEMM_ROWS) or _state["depth"] \
            or threads() < 2 or time.monotonic() - _own_threads_at[0] > OWN_THREADS_WINDOW:
        return np.matmul(a, b, out=out)
    enter_one()
    try:
        return np.matmul(a, b, out=out)
    finally:
        leave_one()
