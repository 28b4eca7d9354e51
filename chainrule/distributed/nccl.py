"""The NCCL backend: collectives on CuPy arrays through ``cupy.cuda.nccl``, one GPU per rank.

Rank and world size come from the MPI launcher (a world of 1 without one); the NCCL unique id
travels from rank 0 over MPI as an int64 buffer. Operations are enqueued on the current CUDA
stream, so later GPU work is ordered after them (as torch's NCCL group); ``async_op=True``
returns a Work whose ``wait`` polls a CUDA event recorded after the operation.
"""
import time

import numpy as np

from .reduce_op import RedOpType
from .launcher import launched_by_mpi


def _nccl():
    from cupy.cuda import nccl
    return nccl


class Request:
    __slots__ = ("event",)

    def __init__(self, event):
        self.event = event

    def test(self):
        return self.event.done

    def wait(self, seconds):
        deadline = time.monotonic() + seconds
        while not self.event.done:
            if time.monotonic() > deadline:
                return False
            time.sleep(0)
        return True


class _Done:
    __slots__ = ()

    def test(self):
        return True

    def wait(self, seconds):
        return True


DONE = _Done()


def _pack_unique_id(uid):
    """NCCL's 128-byte id as 129 bytes for MPI's broadcast: a flag (CuPy >= 14 gives ``bytes``, older
    CuPy a tuple of signed chars), then the id."""
    if isinstance(uid, (bytes, bytearray)):
        return np.frombuffer(b"\x01" + bytes(uid), np.uint8).copy()
    return np.concatenate([[0], np.array(uid, np.int64).astype(np.int8).view(np.uint8)]).astype(np.uint8)


def _unpack_unique_id(packed):
    body = packed[1:]
    return bytes(body) if packed[0] else tuple(int(v) for v in body.view(np.int8))


class NCCLBackend:
    name = "nccl"

    def __init__(self, device_id=None):
        import cupy
        nccl = _nccl()
        self.cupy, self.nccl = cupy, nccl
        self.host = None
        if launched_by_mpi():
            from .mpi import MPIBackend
            self.host = MPIBackend()
        self.rank, self.size = (self.host.rank, self.host.size) if self.host else (0, 1)
        index = device_id if isinstance(device_id, int) else getattr(device_id, "index", None)
        if index is None:
            index = self.rank % cupy.cuda.runtime.getDeviceCount()
        cupy.cuda.Device(index).use()
        packed = _pack_unique_id(nccl.get_unique_id()) if self.rank == 0 else np.zeros(129, np.uint8)
        if self.host is not None:
            self.host.bcast(packed, 0, True)
        self.comm = nccl.NcclCommunicator(self.size, _unpack_unique_id(packed), self.rank)
        self._types = {np.dtype(k): getattr(nccl, v) for k, v in (
            ("float16", "NCCL_FLOAT16"), ("float32", "NCCL_FLOAT32"), ("float64", "NCCL_FLOAT64"),
            ("int8", "NCCL_INT8"), ("uint8", "NCCL_UINT8"), ("int32", "NCCL_INT32"), ("int64", "NCCL_INT64"),
            ("bool", "NCCL_UINT8"))}
        self._ops = {RedOpType.SUM: nccl.NCCL_SUM, RedOpType.AVG: nccl.NCCL_SUM, RedOpType.PRODUCT: nccl.NCCL_PROD,
                     RedOpType.MIN: nccl.NCCL_MIN, RedOpType.MAX: nccl.NCCL_MAX}

    # ---- helpers --------------------------------------------------------------------------------
    def _type(self, a):
        if not isinstance(a, self.cupy.ndarray):
            raise RuntimeError(f"backend 'nccl' works on CUDA tensors, got an array of type {type(a).__name__}; "
                               "use backend='mpi' for CPU tensors")
        try:
            return self._types[a.dtype]
        except KeyError:
            raise RuntimeError(f"backend 'nccl' does not support dtype {a.dtype}") from None

    def _op(self, a, op):
        if a.dtype == np.bool_:  # as uint8: sum/max of bools is their OR, product/min their AND
            op = RedOpType.MAX if op in (RedOpType.SUM, RedOpType.AVG, RedOpType.MAX, RedOpType.BOR) else (
                RedOpType.MIN if op in (RedOpType.PRODUCT, RedOpType.MIN, RedOpType.BAND) else op)
        if op not in self._ops:
            raise RuntimeError(f"ReduceOp.{op.name} is not supported by backend 'nccl'")
        return self._ops[op]

    def _stream(self):
        return self.cupy.cuda.get_current_stream()

    def _done(self, blocking, finish=None):
        if blocking:
            return DONE, finish
        event = self.cupy.cuda.Event(block=False, disable_timing=True)
        event.record(self._stream())
        return Request(event), finish

    def _average(self, a, op):
        if op != RedOpType.AVG or a.dtype == np.bool_:
            return None
        size = self.size

        def finish():
            self.cupy.divide(a, size, out=a, casting="unsafe")
        return finish

    # ---- collectives ------------------------------------------------------------------------------
    def allreduce(self, a, op, blocking):
        t = self._type(a)
        self.comm.allReduce(a.data.ptr, a.data.ptr, a.size, t, self._op(a, op), self._stream().ptr)
        return self._done(blocking, self._average(a, op))

    def bcast(self, a, root, blocking):
        t = self._type(a)
        self.comm.bcast(a.data.ptr, a.size, t, root, self._stream().ptr)
        return self._done(blocking)

    def allgather(self, a, out, blocking):
        t = self._type(a)
        self._type(out)
        self.comm.allGather(a.data.ptr, out.data.ptr, a.size, t, self._stream().ptr)
        return self._done(blocking)

    def reduce_scatter(self, a, out, op, blocking):
        t = self._type(a)
        self._type(out)
        self.comm.reduceScatter(a.data.ptr, out.data.ptr, out.size, t, self._op(a, op), self._stream().ptr)
        return self._done(blocking, self._average(out, op))

    def reduce(self, a, root, op, blocking):
        t = self._type(a)
        self.comm.reduce(a.data.ptr, a.data.ptr, a.size, t, self._op(a, op), root, self._stream().ptr)
        return self._done(blocking, self._average(a, op) if self.rank == root else None)

    def gather(self, a, out, root, blocking):
        t, s, nccl = self._type(a), self._stream().ptr, self.nccl
        nccl.groupStart()
        self.comm.send(a.data.ptr, a.size, t, root, s)
        if self.rank == root:
            for r in range(self.size):
                self.comm.recv(out[r].data.ptr, a.size, t, r, s)
        nccl.groupEnd()
        return self._done(blocking)

    def scatter(self, ins, a, root, blocking):
        t, s, nccl = self._type(a), self._stream().ptr, self.nccl
        nccl.groupStart()
        if self.rank == root:
            for r in range(self.size):
                self.comm.send(ins[r].data.ptr, a.size, t, r, s)
        self.comm.recv(a.data.ptr, a.size, t, root, s)
        nccl.groupEnd()
        return self._done(blocking)

    def alltoall(self, a, out, blocking):
        t, s, nccl = self._type(a), self._stream().ptr, self.nccl
        send, recv = a.reshape(self.size, -1), out.reshape(self.size, -1)
        nccl.groupStart()
        for r in range(self.size):
            self.comm.send(send[r].data.ptr, send[r].size, t, r, s)
            self.comm.recv(recv[r].data.ptr, recv[r].size, t, r, s)
        nccl.groupEnd()
        return self._done(blocking)

    def send(self, a, peer, tag, blocking):
        self.comm.send(a.data.ptr, a.size, self._type(a), peer, self._stream().ptr)
        return self._done(blocking)

    def recv(self, a, peer, tag, blocking):
        if peer is None:
            raise RuntimeError("backend 'nccl' cannot receive from any source: pass src")
        self.comm.recv(a.data.ptr, a.size, self._type(a), peer, self._stream().ptr)
        return (*self._done(blocking), peer)

    def barrier(self, blocking):
        one = self.cupy.ones(1, self.cupy.float32)
        self.allreduce(one, RedOpType.SUM, True)
        if blocking:
            self._stream().synchronize()
        return self._done(blocking)

    def all_same(self, values):
        if self.host is None:
            return [np.asarray(values, np.int64)]
        return self.host.all_same(values)

    def split(self, member, members):
        raise NotImplementedError("new_group is not supported with backend='nccl' yet")

    def abort(self, code):
        if self.host is not None:
            self.host.abort(code)
        import os
        os._exit(code)

    def close(self):
        self.comm.destroy()
