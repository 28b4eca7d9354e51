"""Data-parallel training in three calls, for ``chainrule train --distributed`` and scripts.

    run = data_parallel.prepare(model, dataset, batch_size=32, seed=seed)   # after building model
    for epoch in range(1, epochs + 1):
        run.sampler.set_epoch(epoch)
        for xb, yb in run.loader:            # this rank's share: batch_size samples per step
            loss = loss_fn(run.model(xb), yb); optimizer.zero_grad(); loss.backward(); optimizer.step()
        epoch_loss = run.mean(loss_sum, samples_seen)   # the same number on every rank
        if run.is_main: print(...); save checkpoint            # rank 0 only writes
        run.barrier()                                          # the others wait for the write

``batch_size`` is per process, as in torch: N processes train with N x batch_size samples per
step, and their weights equal those of one process trained with the global batch over the same
order (``prepare`` in a world of 1 gives that order: the sampler's permutation depends only on
``seed`` and the epoch, not on the number of processes).
"""
import collections

import numpy as np

from . import init_process_group, is_initialized, get_rank, get_world_size, all_reduce, barrier, launched_by_mpi
from ..tensor import Tensor
from ..nn.parallel.distributed import DistributedDataParallel
from ..utils.data import DataLoader, DistributedSampler

__all__ = ["DataParallelRun", "prepare"]


class DataParallelRun(collections.namedtuple("DataParallelRun", "model loader sampler rank world_size")):
    """What ``prepare`` returns: the DDP-wrapped model, this rank's DataLoader and its sampler."""

    @property
    def is_main(self):
        return self.rank == 0

    def mean(self, total, count):
        """sum(total) / sum(count) over the ranks (e.g. an epoch's summed loss and its sample count)."""
        both = Tensor._make(np.array([total, count], np.float64))
        if self.world_size > 1:
            all_reduce(both)
        total, count = both._data.tolist()
        return total / count if count else float("nan")

    def barrier(self):
        if self.world_size > 1:
            barrier()


def prepare(model, dataset, batch_size, *, seed=0, shuffle=True, drop_last=False, backend="mpi",
            collate_fn=None, **ddp_kwargs):
    """Join the process group (once; a world of 1 when no MPI launcher started this process), wrap
    ``model`` in DistributedDataParallel (rank 0's weights on every rank) and give this rank a
    DataLoader over its DistributedSampler share of ``dataset``."""
    if not is_initialized():
        if not launched_by_mpi() and backend == "mpi":
            from importlib.util import find_spec
            if find_spec("mpi4py") is None:
                raise RuntimeError("--distributed needs mpi4py: pip install 'chainrule[distributed]'")
        init_process_group(backend)
    rank, world = get_rank(), get_world_size()
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=shuffle, seed=seed,
                                 drop_last=drop_last)
    kwargs = {} if collate_fn is None else {"collate_fn": collate_fn}
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, **kwargs)
    return DataParallelRun(DistributedDataParallel(model, **ddp_kwargs), loader, sampler, rank, world)
