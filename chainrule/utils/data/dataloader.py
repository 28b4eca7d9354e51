"""DataLoader: batches of a dataset collated into tensors (torch.utils.data.DataLoader).

Loading runs in the calling process; ``num_workers``/``pin_memory`` are accepted for
compatibility and change nothing but speed. A TensorDataset with the default collate takes a
fast path: each batch is one fancy-index per tensor instead of one index per sample and a stack.
"""
import collections.abc as cabc

import numpy as np

from ...tensor import Tensor, tensor, from_numpy
from ...tensor.movement import stack
from ...dtypes import float64
from .dataset import TensorDataset
from .sampler import SequentialSampler, RandomSampler, BatchSampler


def default_collate(batch):
    """Stack a list of samples into a batch: tensors and arrays stacked, numbers into tensors
    (floats as float64, ints as int64, bools as bool), strings kept as lists, and dicts, tuples,
    lists and namedtuples collated field by field (a tuple of fields gives a list, as in torch)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                            f"lists; found an array of dtype {elem.dtype}")
        return from_numpy(np.stack(batch))
    if isinstance(elem, np.generic):
        return tensor(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bools too, giving a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, cabc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, cabc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem).__name__}")


def default_convert(data):
    """One unbatched sample as tensors (numpy arrays converted; the rest unchanged)."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUSV":
        return from_numpy(data)
    if isinstance(data, cabc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, cabc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.generator = generator
        self.collate_fn = collate_fn or (default_collate if batch_sampler is not None else default_convert)
        self._fast = type(dataset) is TensorDataset and collate_fn is None and batch_sampler is not None

    def __iter__(self):
        ds = self.dataset
        if self.batch_sampler is None:  # no auto-batching: one converted sample at a time
            for i in self.sampler:
                yield self.collate_fn(ds[i])
        elif self._fast:
            for idx in self.batch_sampler:
                idx = np.asarray(idx, dtype=np.int64)
                yield [t[idx] for t in ds.tensors]
        else:
            for idx in self.batch_sampler:
                yield self.collate_fn([ds[i] for i in idx])

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)
