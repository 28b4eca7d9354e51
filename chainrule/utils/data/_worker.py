"""DataLoader internals: dataset fetchers, the worker-process loop and its seeding, get_worker_info,
and carrying exceptions out of workers (torch.utils.data._utils.{fetch,worker})."""
import atexit
import io
import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ...backend import random as _random
from ...tensor import Tensor

MP_STATUS_CHECK_INTERVAL = 1.0  # seconds between liveness checks of the other side of a queue

python_exit_status = False  # set at interpreter exit: workers are then left to the daemon cleanup


def _set_python_exit_flag():
    global python_exit_status
    python_exit_status = True


atexit.register(_set_python_exit_flag)


# ---- fetchers: indices -> (collated) data ------------------------------------------------------------

class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last, fast=False):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.fast = fast  # TensorDataset with default_collate: one fancy index per tensor

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            if self.fast:
                idx = np.asarray(possibly_batched_index, dtype=np.int64)
                return [t[idx] for t in self.dataset.tensors]
            getitems = getattr(self.dataset, "__getitems__", None)
            if getitems:
                data = getitems(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last, fast=False):
    if iterable:
        return _IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
    return _MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last, fast)


# ---- worker info and seeding --------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker process: its ``id`` (0 ..
    ``num_workers - 1``), ``num_workers``, the ``seed`` chainrule, ``random`` were seeded with
    (``base_seed + id``) and the worker's copy of the ``dataset``."""
    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """In a DataLoader worker process, its WorkerInfo; in the main process, None."""
    return _worker_info


def _generate_state(base_seed, worker_id):
    """torch's seed for the legacy ``numpy.random`` in a worker: four 32-bit words mixed from
    (worker_id, base_seed) as numpy.random.SeedSequence does (so numpy's stream differs from
    ``random``'s, which is seeded with ``base_seed + worker_id``)."""
    INIT_A, MULT_A, INIT_B, MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R, XSHIFT, MASK32 = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_A = INIT_A

    def hash_(value):
        nonlocal hash_const_A
        value = (value ^ hash_const_A) & MASK32
        hash_const_A = (hash_const_A * MULT_A) & MASK32
        value = (value * hash_const_A) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = (((MIX_MULT_L * x) & MASK32) - ((MIX_MULT_R * y) & MASK32)) & MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(4):
        pool[i] = hash_(entropy[i])
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    hash_const_B = INIT_B
    state = []
    for i_dst in range(4):
        data_val = (pool[i_dst] ^ hash_const_B) & MASK32
        hash_const_B = (hash_const_B * MULT_B) & MASK32
        data_val = (data_val * hash_const_B) & MASK32
        state.append((data_val ^ (data_val >> XSHIFT)) & MASK32)
    return state


# ---- messages between the main process and the workers ---------------------------------------------

@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    pass


def _rebuild_tensor(data, requires_grad):
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


class _Pickler(pickle.Pickler):
    """Pickles tensors as (array, requires_grad): every tensor travels, views included, as a
    leaf holding a copy of its elements (what torch's worker transport amounts to)."""

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return _rebuild_tensor, (obj._data, obj._requires_grad)
        return NotImplemented


class _Pickled:
    """An object pickled by ``_Pickler``, to be unpickled on the other side of a queue: bytes made by
    this process's own DataLoader workers, in memory, as multiprocessing queues pass everything
    (nothing read from disk is ever unpickled)."""
    __slots__ = ("payload",)

    def __init__(self, obj):
        buf = io.BytesIO()
        _Pickler(buf, pickle.HIGHEST_PROTOCOL).dump(obj)
        self.payload = buf.getvalue()

    def load(self):
        return pickle.loads(self.payload)


class KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError shows its traceback text readably."""
    __slots__ = ()

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception and its formatted traceback, carried from a worker to the main process."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        try:  # an exception class defined in a function cannot travel: re-raised as RuntimeError
            pickle.dumps(self.exc_type)
        except Exception:
            self.exc_type = RuntimeError
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise an exception of the original type whose message holds the worker's traceback
        (a RuntimeError if that type cannot be built from one message)."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            del exception  # no frame <-> traceback cycle: the DataLoader iterator is freed (and its workers
            # stopped) as soon as the caller drops the exception, not at the next garbage collection


# ---- the worker process ---------------------------------------------------------------------------

def _worker_loop(iterable, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn,
                 drop_last, fast, base_seed, init_fn, worker_id, num_workers, persistent_workers):
    """Seed (chainrule and ``random`` with ``base_seed + worker_id``, legacy ``numpy.random`` with
    torch's mixed state), run ``init_fn(worker_id)``, then fetch every ``(idx, index)`` task from
    ``index_queue`` and put ``(idx, data)`` on ``data_queue`` until told to stop (``None``).
    ``data`` is the batch pickled (``_Pickled``), an ExceptionWrapper or a stop marker."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        random.seed(seed)
        _random.manual_seed(seed)
        np.random.seed(_generate_state(base_seed, worker_id))

        init_exception = None
        try:
            if isinstance(dataset, _Pickled):  # a start method other than fork
                dataset = dataset.load()
            _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last, fast)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        iteration_end = False
        manager_pid = os.getppid()
        while os.getppid() == manager_pid:  # the main process is alive
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set():  # shut down, but the final signal was lost (its queue was collected)
                    break
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))  # acknowledge; a new epoch gets a fresh fetcher
                iteration_end = False
                fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last, fast)
                continue
            if r is None:  # the final signal
                break
            if done_event.is_set() or iteration_end:
                continue  # wait for the final signal without working
            idx, index = r
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                try:
                    data = _Pickled(fetcher.fetch(index))  # here, so that a failure to pickle is reported
                except Exception as e:
                    if isinstance(e, StopIteration) and iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            data_queue.put((idx, data))
            del data, idx, index, r
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
