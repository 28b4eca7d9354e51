"""The MPI backend: each collective is one mpi4py buffer call on the tensor's NumPy array.

Blocking calls (``Allreduce``...) serve synchronous collectives, the non-blocking ones
(``Iallreduce``...) serve ``async_op=True`` and DDP's buckets. Every method returns
``(request, finish)``: the request to test or wait on, and what to do once it completed
(``AVG`` divides by the group size; None when there is nothing to do).
"""
import os
import time

import numpy as np
from mpi4py import MPI

from .reduce_op import RedOpType

_OPS = {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD, RedOpType.MIN: MPI.MIN,
        RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND, RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}
# MPI defines only the logical ops on booleans: a sum or max of bools is their OR, a product or min their AND
_BOOL_OPS = {RedOpType.SUM: MPI.LOR, RedOpType.AVG: MPI.LOR, RedOpType.MAX: MPI.LOR, RedOpType.BOR: MPI.LOR,
             RedOpType.PRODUCT: MPI.LAND, RedOpType.MIN: MPI.LAND, RedOpType.BAND: MPI.LAND,
             RedOpType.BXOR: MPI.LXOR}


_SPIN_S = 1e-3  # busy-poll this long before yielding the core between polls


class Request:
    """An MPI request with ``test()`` and ``wait(seconds) -> completed in time``."""
    __slots__ = ("mpi",)

    def __init__(self, mpi):
        self.mpi = mpi

    def test(self):
        return self.mpi.Test()

    def wait(self, seconds):
        if self.mpi.Test():
            return True
        now = time.monotonic()
        deadline, spin_until = now + seconds, now + _SPIN_S
        while not self.mpi.Test():  # MPI_Wait cannot time out; polling Test is what Wait does inside
            now = time.monotonic()
            if now > spin_until:  # a long wait: let the other processes on this core run between polls
                if now > deadline:
                    return False
                os.sched_yield()
        return True


class _Done:
    """The request of a collective that already ran (a blocking call)."""
    __slots__ = ()

    def test(self):
        return True

    def wait(self, seconds):
        return True


DONE = _Done()


def _check(*arrays):
    for a in arrays:
        if a is not None and type(a) is not np.ndarray:
            raise RuntimeError(f"backend 'mpi' works on CPU tensors, got an array of type {type(a).__name__}; "
                               "use backend='nccl' for CUDA tensors")


def _mpi_op(a, op):
    if a.dtype == np.bool_:
        return _BOOL_OPS[op]
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and a.dtype.kind == "f":
        raise RuntimeError(f"ReduceOp.{op.name} is not defined for floating point tensors ({a.dtype})")
    return _OPS[op]


class MPIBackend:
    name = "mpi"

    def __init__(self, comm=None):
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()

    def _average(self, a, op):
        if op != RedOpType.AVG or a.dtype == np.bool_:
            return None
        size = self.size

        def finish():
            np.divide(a, size, out=a, casting="unsafe")  # integers: truncated, as NCCL's AVG
        return finish

    def allreduce(self, a, op, blocking):
        _check(a)
        mop = _mpi_op(a, op)
        if blocking:
            self.comm.Allreduce(MPI.IN_PLACE, a, op=mop)
            return DONE, self._average(a, op)
        return Request(self.comm.Iallreduce(MPI.IN_PLACE, a, op=mop)), self._average(a, op)

    def bcast(self, a, root, blocking):
        _check(a)
        if blocking:
            self.comm.Bcast(a, root=root)
            return DONE, None
        return Request(self.comm.Ibcast(a, root=root)), None

    def allgather(self, a, out, blocking):
        _check(a, out)
        if blocking:
            self.comm.Allgather(a, out)
            return DONE, None
        return Request(self.comm.Iallgather(a, out)), None

    def reduce_scatter(self, a, out, op, blocking):
        _check(a, out)
        mop = _mpi_op(a, op)
        if blocking:
            self.comm.Reduce_scatter_block(a, out, op=mop)
            return DONE, self._average(out, op)
        return Request(self.comm.Ireduce_scatter_block(a, out, op=mop)), self._average(out, op)

    def reduce(self, a, root, op, blocking):
        _check(a)
        mop = _mpi_op(a, op)
        mine = self.rank == root
        send, recv = (MPI.IN_PLACE, a) if mine else (a, None)
        finish = self._average(a, op) if mine else None
        if blocking:
            self.comm.Reduce(send, recv, op=mop, root=root)
            return DONE, finish
        return Request(self.comm.Ireduce(send, recv, op=mop, root=root)), finish

    def gather(self, a, out, root, blocking):
        _check(a, out)
        if blocking:
            self.comm.Gather(a, out, root=root)
            return DONE, None
        return Request(self.comm.Igather(a, out, root=root)), None

    def scatter(self, ins, a, root, blocking):
        _check(ins, a)
        if blocking:
            self.comm.Scatter(ins, a, root=root)
            return DONE, None
        return Request(self.comm.Iscatter(ins, a, root=root)), None

    def alltoall(self, a, out, blocking):
        _check(a, out)
        if blocking:
            self.comm.Alltoall(a, out)
            return DONE, None
        return Request(self.comm.Ialltoall(a, out)), None

    def send(self, a, peer, tag, blocking):
        _check(a)
        if blocking:
            self.comm.Send(a, dest=peer, tag=tag)
            return DONE, None
        return Request(self.comm.Isend(a, dest=peer, tag=tag)), None

    def recv(self, a, peer, tag, blocking):
        """Receive into ``a`` from ``peer`` (None: any rank); returns (request, finish, sender)."""
        _check(a)
        source = MPI.ANY_SOURCE if peer is None else peer
        if blocking:
            status = MPI.Status()
            self.comm.Recv(a, source=source, tag=tag, status=status)
            return DONE, None, status.Get_source()
        return Request(self.comm.Irecv(a, source=source, tag=tag)), None, peer

    def barrier(self, blocking):
        if blocking:
            self.comm.Barrier()
            return DONE, None
        return Request(self.comm.Ibarrier()), None

    def all_same(self, values):
        """Every rank's int64 vector ``values`` (any length), as a list indexed by rank."""
        values = np.ascontiguousarray(values, dtype=np.int64)
        counts = np.empty(self.size, np.int64)
        self.comm.Allgather(np.array([values.size], np.int64), counts)
        out = np.empty(int(counts.sum()), np.int64)
        self.comm.Allgatherv(values, [out, counts])
        return np.split(out, np.cumsum(counts)[:-1])

    def split(self, member, members):
        comm = self.comm.Split(0 if member else MPI.UNDEFINED, members.index(self.rank) if member else 0)
        return None if comm == MPI.COMM_NULL else MPIBackend(comm)

    def abort(self, code):
        MPI.COMM_WORLD.Abort(code)

    def close(self):
        if self.comm != MPI.COMM_WORLD:
            self.comm.Free()
