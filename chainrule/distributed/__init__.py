"""chainrule.distributed: torch.distributed's process group and collectives, on a proven engine.

CPU tensors travel through MPI (mpi4py; ``pip install chainrule[distributed]`` brings the
``mpich`` wheel and its ``mpiexec``; on a cluster the site's MPI and launcher work unchanged),
CUDA tensors through NCCL (CuPy). Every collective hands the tensor's own array (``t._data``)
to the library's buffer-based call: no copies beyond what the library makes, no pickling.

    mpiexec -n 4 python train.py         # or: chainrule launch -n 4 train.py
    dist.init_process_group("mpi")       # rank and world size come from the launcher
    dist.all_reduce(t, op=dist.ReduceOp.AVG)

``backend="gloo"`` is accepted as a name for the MPI backend, so a CPU torch script ports by
changing its imports. Rank and world size always come from the launcher; ``rank=`` and
``world_size=`` (and ``init_method="env://"``) are accepted and must agree with it.

Faults: once a group of more than one process is up, an uncaught exception on any rank prints its
traceback and calls ``MPI_Abort``, so the other ranks end (the launcher reports which rank
failed) instead of waiting forever in a collective; a killed rank ends the job the same way
(the launcher notices). ``Work.wait`` gives up after the group's ``timeout``.
"""
import collections
import datetime
import importlib.util
import os
import sys
import time

from ..tensor import Tensor
from ..backend import namespace
from .reduce_op import RedOpType, ReduceOp
from .launcher import launched_by_mpi

__all__ = ["ReduceOp", "Work", "GroupMember", "ProcessGroup", "init_process_group", "destroy_process_group",
           "is_available", "is_initialized", "is_mpi_available", "is_nccl_available", "get_rank", "get_world_size",
           "get_backend", "new_group", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor",
           "reduce_scatter", "reduce_scatter_tensor", "reduce", "gather", "scatter", "barrier", "all_to_all_single",
           "send", "recv", "isend", "irecv", "run_info", "launched_by_mpi"]

_NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # torch's default for CPU process groups


class Work:
    """An issued collective (``async_op=True``): ``wait()`` blocks until it is done and its result
    is in the tensors; ``is_completed()`` checks without blocking (and lets the library progress)."""
    __slots__ = ("_request", "_finish", "_done", "_timeout", "_what")

    def __init__(self, request, finish, timeout, what):
        self._request, self._finish, self._done, self._timeout, self._what = request, finish, False, timeout, what

    def _complete(self):
        self._done = True
        self._request = None
        if self._finish is not None:
            self._finish()
            self._finish = None

    def is_completed(self):
        if not self._done and self._request.test():
            self._complete()
        return self._done

    def wait(self, timeout=None):
        if self._done:
            return True
        timeout = self._timeout if timeout is None else timeout
        seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)
        if not self._request.wait(seconds):
            raise RuntimeError(f"chainrule.distributed: {self._what} did not complete within {seconds:g} s "
                               "(a rank died, hangs, or skipped the collective)")
        self._complete()
        return True

    def result(self):
        return []


class ProcessGroup:
    """A set of ranks and the communicator that joins them (the backend object does the work)."""

    def __init__(self, backend, timeout):
        self.backend, self.timeout = backend, timeout

    def rank(self):
        return self.backend.rank

    def size(self):
        return self.backend.size

    def name(self):
        return self.backend.name


class GroupMember:
    """Holds the default group: ``GroupMember.WORLD`` (None until ``init_process_group``) and
    ``NON_GROUP_MEMBER``, as torch's."""
    WORLD = None
    NON_GROUP_MEMBER = -100


RunInfo = collections.namedtuple("RunInfo", "rank world_size local_rank is_main backend")


def is_available():
    """True when a backend can be loaded here (mpi4py installed, or CuPy for NCCL)."""
    return is_mpi_available() or is_nccl_available()


def is_mpi_available():
    """True when the MPI backend can be used (mpi4py is installed), as ``torch.distributed.is_mpi_available``."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available():
    """True when the NCCL backend can be used (CuPy with a CUDA device), as
    ``torch.distributed.is_nccl_available``."""
    if importlib.util.find_spec("cupy") is None:
        return False
    from ..backend import cuda_support
    return cuda_support.is_available()


def is_initialized():
    """True once the default process group is initialised, as ``torch.distributed.is_initialized``."""
    return GroupMember.WORLD is not None


def _default_group():
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INIT)
    return GroupMember.WORLD


def _group(group):
    if group is None or group is GroupMember.WORLD:
        return _default_group()
    if isinstance(group, ProcessGroup):
        _default_group()
        return group
    raise TypeError(f"group must be a ProcessGroup (from new_group) or None, got {type(group).__name__}")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the processes the launcher started: ``backend`` "mpi" (alias "gloo") or "nccl"."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if "," in name or ":" in name:  # torch's "cpu:gloo,cuda:nccl": one backend per device type
        name = "nccl" if "nccl" in name and is_nccl_available() else "mpi"
    if name == "gloo":
        name = "mpi"
    if name not in ("mpi", "nccl"):
        raise ValueError(f"Invalid backend: '{backend}' (chainrule.distributed has 'mpi' (also as 'gloo') "
                         "and 'nccl')")
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    elif not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}")
    if init_method is not None and not isinstance(init_method, str):
        raise TypeError(f"init_method must be a string, got {type(init_method).__name__}")
    if name == "nccl":
        if not is_nccl_available():
            raise RuntimeError("ProcessGroupNCCL is only supported with GPUs, no GPUs found! (backend='nccl' needs "
                               "CUDA and CuPy; use backend='mpi' on CPUs)")
        from . import nccl
        impl = nccl.NCCLBackend(device_id)
    else:
        if not is_mpi_available():
            raise RuntimeError("backend='mpi' needs mpi4py: pip install 'chainrule[distributed]' (mpi4py and mpich)")
        from . import mpi
        impl = mpi.MPIBackend()
    for given, actual, what in ((world_size, impl.size, "world_size"), (rank, impl.rank, "rank")):
        if given is not None and given != -1 and int(given) != actual:
            raise ValueError(f"init_process_group: {what}={given} disagrees with the launcher, which started this "
                             f"process as rank {impl.rank} of {impl.size}")
    GroupMember.WORLD = ProcessGroup(impl, timeout)
    if impl.size > 1:
        _abort_on_uncaught_exception(impl)


def _abort_on_uncaught_exception(impl):
    """An uncaught exception on one rank ends every rank (MPI_Abort) instead of leaving them waiting."""
    previous = sys.excepthook
    if getattr(previous, "chainrule_aborts", False):  # installed by an earlier init_process_group
        previous = previous.chainrule_previous

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.write(f"chainrule.distributed: rank {impl.rank} of {impl.size} raised {kind.__name__}; "
                         "aborting all ranks (MPI_Abort)\n")
        sys.stderr.flush()
        time.sleep(0.5)  # let the launcher forward this rank's output before MPI_Abort kills the job
        impl.abort(1)

    hook.chainrule_aborts, hook.chainrule_previous = True, previous
    sys.excepthook = hook


def destroy_process_group(group=None):
    """Leave the process group (all ranks must call it); collectives then need a new init."""
    pg = _group(group)
    if pg is GroupMember.WORLD:
        pg.backend.close()
        GroupMember.WORLD = None
    else:
        pg.backend.close()


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A group of ``ranks`` (every rank of the world must call it, as in torch); the ranks outside
    get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _default_group()
    members = list(range(world.size())) if ranks is None else sorted(int(r) for r in ranks)
    if any(not 0 <= r < world.size() for r in members):
        raise ValueError(f"new_group: ranks {members} out of range for a world of {world.size()}")
    impl = world.backend.split(world.rank() in members, members)
    if impl is None:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(impl, world.timeout if timeout is None else timeout)


def get_rank(group=None):
    """This process's rank in ``group`` (default: the world), as ``torch.distributed.get_rank``; -1 for a process
    outside the group."""
    if group == GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).rank()


def get_world_size(group=None):
    """The number of processes in ``group`` (default: the world), as ``torch.distributed.get_world_size``; -1 for
    a process outside the group."""
    if group == GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).size()


def get_backend(group=None):
    """The name of the backend of ``group`` (default: the world), as ``torch.distributed.get_backend``."""
    return _group(group).name()


def run_info():
    """(rank, world_size, local_rank, is_main, backend) of this process: from the process group once
    initialised, else from the launcher's environment (1 process, rank 0, when none launched us)."""
    if is_initialized():
        pg = _default_group()
        rank, size, backend = pg.rank(), pg.size(), pg.name()
    else:
        env = os.environ
        rank = int(env.get("PMI_RANK", env.get("OMPI_COMM_WORLD_RANK", env.get("RANK", 0))))
        size = int(env.get("PMI_SIZE", env.get("OMPI_COMM_WORLD_SIZE", env.get("WORLD_SIZE", 1))))
        backend = None
    local = int(os.environ.get("MPI_LOCALRANKID", os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK",
                                                                 os.environ.get("LOCAL_RANK", rank))))
    return RunInfo(rank, size, local, rank == 0, backend)


# ---- collectives ---------------------------------------------------------------------------------
def _tensor(t, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type chainrule.Tensor\n"
                        f"             but got {type(t)} instead.")
    a = t._data
    if not a.flags.c_contiguous:
        raise RuntimeError(f"Tensors must be contiguous (`{name}` has strides {a.strides} for shape "
                           f"{list(a.shape)}; call .contiguous() first)")
    return a


def _tensor_list(ts, name):
    if not isinstance(ts, list):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type List[chainrule.Tensor]\n"
                        f"             but got {type(ts)} instead.")
    return [_tensor(t, name) for t in ts]


def _op(op):
    try:
        return RedOpType(op)
    except (ValueError, TypeError):
        raise ValueError(f"Invalid reduce op {op!r}: use chainrule.distributed.ReduceOp") from None


def _root(rank, group_rank, pg, what):
    r = group_rank if group_rank is not None else (0 if rank is None else rank)
    if not 0 <= r < pg.size():
        raise ValueError(f"{what}: rank {r} is out of range for a group of {pg.size()} ranks")
    return r


def _issue(pg, what, async_op, start):
    """Run ``start()`` -> (request, finish) on ``pg``; wait for it unless ``async_op``."""
    request, finish = start(not async_op)
    work = Work(request, finish, pg.timeout, what)
    if async_op:
        return work
    work.wait()
    return None


def _then(started, after):
    """(request, finish) with ``after()`` run once the backend's own finish has run."""
    request, finish = started

    def done():
        if finish is not None:
            finish()
        after()
    return request, done


def _stack(arrays):
    """One contiguous buffer holding ``arrays`` one after the other (what MPI and NCCL send)."""
    return namespace(arrays[0]).stack(arrays)


def _unstack(buf, outs):
    for i, o in enumerate(outs):
        o[...] = buf[i]


def _same_shape(a, b, what, name_a, name_b):
    if a.shape != b.shape or a.dtype != b.dtype:
        raise ValueError(f"{what}: `{name_a}` is {list(a.shape)} {a.dtype} but `{name_b}` is "
                         f"{list(b.shape)} {b.dtype}; they must match")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks with ``op``; every rank ends with the result, in place."""
    a = _tensor(tensor, "tensor")
    pg, op = _group(group), _op(op)
    return _issue(pg, "all_reduce", async_op, lambda blocking: pg.backend.allreduce(a, op, blocking))


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor``."""
    a = _tensor(tensor, "tensor")
    pg = _group(group)
    root = _root(src, group_src, pg, "broadcast")
    return _issue(pg, "broadcast", async_op, lambda blocking: pg.backend.bcast(a, root, blocking))


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` = rank r's ``tensor``, on every rank."""
    outs = _tensor_list(tensor_list, "tensor_list")
    a = _tensor(tensor, "tensor")
    pg = _group(group)
    if len(outs) != pg.size():
        raise ValueError(f"all_gather: tensor_list has {len(outs)} tensors for a group of {pg.size()} ranks")
    for o in outs:
        _same_shape(o, a, "all_gather", "tensor_list[i]", "tensor")
    buf = namespace(a).empty((pg.size(),) + a.shape, a.dtype)
    return _issue(pg, "all_gather", async_op,
                  lambda blocking: _then(pg.backend.allgather(a, buf, blocking), lambda: _unstack(buf, outs)))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """``output_tensor`` = every rank's ``input_tensor`` concatenated along dim 0 (or stacked)."""
    out, a = _tensor(output_tensor, "output_tensor"), _tensor(input_tensor, "input_tensor")
    pg = _group(group)
    if out.size != a.size * pg.size() or out.dtype != a.dtype:
        raise ValueError(f"all_gather_into_tensor: output tensor size must be equal to world_size times input "
                         f"tensor size (output {list(out.shape)} {out.dtype}, input {list(a.shape)} {a.dtype}, "
                         f"world_size {pg.size()})")
    return _issue(pg, "all_gather_into_tensor", async_op,
                  lambda blocking: pg.backend.allgather(a, out, blocking))


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` on rank r = the reduction over ranks of their ``input_list[r]``."""
    out = _tensor(output, "output")
    ins = _tensor_list(input_list, "input_list")
    pg, op = _group(group), _op(op)
    if len(ins) != pg.size():
        raise ValueError(f"reduce_scatter: input_list has {len(ins)} tensors for a group of {pg.size()} ranks")
    for i in ins:
        _same_shape(i, out, "reduce_scatter", "input_list[i]", "output")
    return _issue(pg, "reduce_scatter", async_op,
                  lambda blocking: pg.backend.reduce_scatter(_stack(ins), out, op, blocking))


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` on rank r = the reduction over ranks of the r-th equal chunk of ``input``."""
    out, a = _tensor(output, "output"), _tensor(input, "input")
    pg, op = _group(group), _op(op)
    if a.size != out.size * pg.size() or out.dtype != a.dtype:
        raise ValueError(f"reduce_scatter_tensor: input tensor must be the same size as output size times world "
                         f"size (input {list(a.shape)} {a.dtype}, output {list(out.shape)} {out.dtype}, "
                         f"world_size {pg.size()})")
    return _issue(pg, "reduce_scatter_tensor", async_op,
                  lambda blocking: pg.backend.reduce_scatter(a, out, op, blocking))


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Rank ``dst``'s ``tensor`` becomes the reduction over ranks (the others' are left as they are)."""
    a = _tensor(tensor, "tensor")
    pg, op = _group(group), _op(op)
    root = _root(dst, group_dst, pg, "reduce")
    return _issue(pg, "reduce", async_op, lambda blocking: pg.backend.reduce(a, root, op, blocking))


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Rank ``dst`` receives every rank's ``tensor`` in ``gather_list`` (None on the other ranks)."""
    a = _tensor(tensor, "tensor")
    pg = _group(group)
    root = _root(dst, group_dst, pg, "gather")
    outs = buf = None
    if pg.rank() == root:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        outs = _tensor_list(gather_list, "gather_list")
        if len(outs) != pg.size():
            raise ValueError(f"gather: gather_list has {len(outs)} tensors for a group of {pg.size()} ranks")
        for o in outs:
            _same_shape(o, a, "gather", "gather_list[i]", "tensor")
        buf = namespace(a).empty((pg.size(),) + a.shape, a.dtype)
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    return _issue(pg, "gather", async_op,
                  lambda blocking: _then(pg.backend.gather(a, buf, root, blocking),
                                         lambda: outs is not None and _unstack(buf, outs)))


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank r's ``tensor`` = ``scatter_list[r]`` of rank ``src``."""
    a = _tensor(tensor, "tensor")
    pg = _group(group)
    root = _root(src, group_src, pg, "scatter")
    ins = None
    if pg.rank() == root:
        if scatter_list is None:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        ins = _tensor_list(scatter_list, "scatter_list")
        if len(ins) != pg.size():
            raise ValueError(f"scatter: scatter_list has {len(ins)} tensors for a group of {pg.size()} ranks")
        for i in ins:
            _same_shape(i, a, "scatter", "scatter_list[i]", "tensor")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    return _issue(pg, "scatter", async_op,
                  lambda blocking: pg.backend.scatter(None if ins is None else _stack(ins), a, root, blocking))


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    """``output``'s r-th chunk (dim 0) = rank r's chunk for this rank of its ``input`` (equal splits)."""
    out, a = _tensor(output, "output"), _tensor(input, "input")
    pg = _group(group)
    if output_split_sizes is not None or input_split_sizes is not None:
        raise NotImplementedError("all_to_all_single: uneven split sizes are not supported yet (equal chunks only)")
    if a.shape != out.shape or a.dtype != out.dtype or (a.shape[:1] or (0,))[0] % pg.size():
        raise ValueError(f"all_to_all_single: input {list(a.shape)} {a.dtype} and output {list(out.shape)} "
                         f"{out.dtype} must match, with dim 0 divisible by the world size {pg.size()}")
    return _issue(pg, "all_to_all_single", async_op, lambda blocking: pg.backend.alltoall(a, out, blocking))


def _peer(rank, group_rank, pg, what):
    r = group_rank if group_rank is not None else rank
    if r is None or not 0 <= r < pg.size() or r == pg.rank():
        raise ValueError(f"{what}: invalid peer rank {r} for rank {pg.rank()} of a group of {pg.size()}")
    return r


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst`` (blocks until the buffer may be reused)."""
    a = _tensor(tensor, "tensor")
    pg = _group(group)
    _issue(pg, "send", False, lambda blocking: pg.backend.send(a, _peer(dst, group_dst, pg, "send"), tag, blocking))


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; returns a Work."""
    a = _tensor(tensor, "tensor")
    pg = _group(group)
    return _issue(pg, "isend", True, lambda blocking: pg.backend.send(a, _peer(dst, group_dst, pg, "isend"), tag,
                                                                     blocking))


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (None: any rank); returns the sender's rank."""
    a = _tensor(tensor, "tensor")
    pg = _group(group)
    peer = None if src is None and group_src is None else _peer(src, group_src, pg, "recv")
    request, finish, sender = pg.backend.recv(a, peer, tag, True)
    Work(request, finish, pg.timeout, "recv").wait()
    return sender


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src``; returns a Work."""
    a = _tensor(tensor, "tensor")
    pg = _group(group)
    peer = None if src is None and group_src is None else _peer(src, group_src, pg, "irecv")
    request, finish, _ = pg.backend.recv(a, peer, tag, False)
    return Work(request, finish, pg.timeout, "irecv")


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group has reached the barrier."""
    pg = _group(group)
    if timeout is not None and not async_op:
        Work(*pg.backend.barrier(False), pg.timeout, "barrier").wait(timeout)
        return None
    return _issue(pg, "barrier", async_op, pg.backend.barrier)
