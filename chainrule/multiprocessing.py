"""``chainrule.multiprocessing``: Python's multiprocessing with tensors in shared memory passed by
reference, as ``torch.multiprocessing``.

A CPU tensor moved to shared memory (``Tensor.share_memory_()``, ``Module.share_memory()``) and sent
to another process (a ``Process``'s arguments, a ``Queue``) is rebuilt there over the same memory,
so in-place updates (an optimizer's step) are seen by every process: Hogwild training. Any other
tensor, and a Parameter, is copied, as plain pickling would copy it (this pickling is the processes'
own channel, never a file: ``chainrule.save`` still refuses modules). Shared memory is a
``multiprocessing.shared_memory`` segment per tensor (backend/shared.py).
"""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403  Process, Queue, Pool, set_start_method, get_context, ...
from multiprocessing import reduction

from .backend.shared import attached, segment_of
from .nn.module import Parameter
from .tensor import Tensor

__all__ = list(multiprocessing.__all__) + ["spawn", "get_sharing_strategy", "set_sharing_strategy",
                                           "get_all_sharing_strategies"]


def _reduce_tensor(t):
    place = segment_of(t._data)
    if place is None:  # a copy; a Parameter keeps its class
        return _rebuild_copy, (type(t) is Parameter, t._data, t._requires_grad)
    a = t._data
    return _rebuild_shared, (type(t) is Parameter, place[0], place[1], a.shape, a.strides, a.dtype.str,
                             t._requires_grad)


def _rebuild_copy(parameter, data, requires_grad):
    if parameter:
        return Parameter(Tensor._make(data), requires_grad)
    t = Tensor._make(data)
    t._requires_grad = requires_grad
    return t


def _rebuild_shared(parameter, name, offset, shape, strides, dtype, requires_grad):
    return _rebuild_copy(parameter, attached(name, offset, shape, strides, dtype), requires_grad)


for _cls in (Tensor, Parameter):
    reduction.ForkingPickler.register(_cls, _reduce_tensor)


def get_all_sharing_strategies():
    """The ways tensors can be shared: chainrule has one, named after POSIX/Windows shared memory segments."""
    return {"file_system"}


def get_sharing_strategy():
    """The strategy in use: always ``"file_system"`` (named shared memory segments)."""
    return "file_system"


def set_sharing_strategy(new_strategy):
    """Accepts the one strategy chainrule has; another name raises ValueError."""
    if new_strategy not in get_all_sharing_strategies():
        raise ValueError(f"set_sharing_strategy: unknown strategy {new_strategy!r}; chainrule has "
                         f"{sorted(get_all_sharing_strategies())}")


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Start ``nprocs`` processes running ``fn(i, *args)`` (i = 0 .. nprocs - 1), as
    ``torch.multiprocessing.spawn``: with ``join`` wait for all and raise if one failed, else return
    the processes (torch returns a context holding them as ``.processes``)."""
    ctx = multiprocessing.get_context(start_method)
    procs = [ctx.Process(target=fn, args=(i,) + tuple(args), daemon=daemon) for i in range(nprocs)]
    for p in procs:
        p.start()
    if not join:
        return _SpawnContext(procs)
    for p in procs:
        p.join()
    failed = [(i, p.exitcode) for i, p in enumerate(procs) if p.exitcode != 0]
    if failed:
        raise ProcessRaisedException(f"process {failed[0][0]} terminated with exit code {failed[0][1]}")
    return None


class ProcessRaisedException(Exception):
    """A process started by ``spawn`` failed (its traceback is on its stderr)."""


class _SpawnContext:
    def __init__(self, processes):
        self.processes = processes

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """True once every process has ended."""
        for p in self.processes:
            p.join(timeout)
        return all(p.exitcode is not None for p in self.processes)
