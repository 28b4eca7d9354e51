"""DistributedSampler: each of ``num_replicas`` processes visits its own share of a dataset
(torch.utils.data.distributed.DistributedSampler: same arguments, padding, dropping and striding).

The shuffled order is a permutation drawn from a generator seeded with ``seed + epoch``, so every
rank draws the same permutation and the shares never overlap. The permutation cannot equal
torch's (NumPy's PCG64, not torch's Mersenne Twister); everything done with it is torch's.
"""
import math

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]
_MASK64 = (1 << 64) - 1  # a seed as torch keeps it (modulo 2^64), so negative seeds work


class DistributedSampler(Sampler):
    """Indices ``rank, rank + num_replicas, ...`` of the (shuffled) dataset order, padded by
    repeating its head (or cut, with ``drop_last``) to a multiple of ``num_replicas``."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist  # the process group, when the launcher set one up
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last = 0, drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle, self.seed = shuffle, seed

    def _permutation(self, n):
        """The epoch's order of ``range(n)``: the same on every rank (seeded by seed + epoch)."""
        return np.random.default_rng((self.seed + self.epoch) & _MASK64).permutation(n).tolist()

    def __iter__(self):
        n = len(self.dataset)
        indices = self._permutation(n) if self.shuffle else list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not match "
                                 f"num_samples ({self.num_samples})")
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """A new epoch, a new (shared) shuffled order."""
        self.epoch = epoch
