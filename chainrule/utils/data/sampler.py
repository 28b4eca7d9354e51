"""Samplers: the order in which a DataLoader visits a dataset, and how it groups it into batches
(torch.utils.data's samplers, same arguments, checks and index semantics).

Every sampler streams: it yields indices as they are drawn, so a sampler of 1e10 draws with
replacement, or a BatchSampler over it, runs in constant memory.

Randomness. chainrule has no ``Generator`` class: ``generator=None`` uses chainrule's seeded CPU
generator (``chainrule.manual_seed``); a ``numpy.random.Generator`` is also accepted and used
directly; anything else raises TypeError. As in torch, a RandomSampler without ``generator``
fixes all of one pass's randomness when the pass starts (one draw from the global generator
seeds a private one), so the order does not depend on what else draws random numbers while
the pass runs (training code, prefetching DataLoader workers). The orders themselves cannot
equal torch's: the random number generators differ.
"""
import itertools

import numpy as np

from ...backend import random as _random

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]

_CHUNK = 1024  # indices drawn at a time by the streaming samplers


def _check_generator(generator):
    """None (chainrule's global generator) or a chainrule.Generator (a numpy.random.Generator)."""
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be None (chainrule's seeded generator; see chainrule.manual_seed) or "
                        f"a chainrule.Generator, got {type(generator).__name__}")
    return generator


def _rng(generator):
    """The generator one pass draws from: ``generator`` itself, or chainrule's global one."""
    return generator if generator is not None else _random.generator()


def _private_rng(generator):
    """``generator``, or a fresh one seeded by a single draw from chainrule's global generator."""
    if generator is not None:
        return generator
    return np.random.default_rng(int(_random.generator().integers(0, 2 ** 63, dtype=np.int64)))


class Sampler:
    """Base class: an iterable over dataset indices (or lists of them, for batch samplers);
    subclasses define ``__iter__`` and may define ``__len__`` (no ``__init__``, as in torch 2.13)."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices into ``data_source``. Without replacement: a random permutation (several in
    a row if ``num_samples`` exceeds the dataset, the last one cut short). With replacement:
    ``num_samples`` independent uniform draws, streamed in chunks."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _check_generator(generator)
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        total = self.num_samples
        if self.replacement:
            if n <= 0:
                raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from=0 >= to={n}")
            rng = _private_rng(self.generator)
            while total > 0:
                k = min(total, _CHUNK)
                yield from rng.integers(0, n, size=k, dtype=np.int64).tolist()
                total -= k
            return
        full, rest = divmod(total, n)  # n == 0: ZeroDivisionError, as in torch
        if full + (rest > 0) == 1:  # one permutation: drawn at once from the (global) generator
            yield from _rng(self.generator).permutation(n)[:total].tolist()
            return
        rng = _private_rng(self.generator)
        for _ in range(full):
            yield from rng.permutation(n).tolist()
        if rest:
            yield from rng.permutation(n)[:rest].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (without replacement)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = _check_generator(generator)

    def __iter__(self):
        for i in _rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


def _multinomial_probs(weights):
    """torch.multinomial's checks of a 1-d weight vector; the normalised probabilities."""
    if not np.isfinite(weights).all():
        if np.isnan(weights).any() and not np.isinf(weights).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
    if (weights < 0).any():
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
    total = weights.sum()
    if not total > 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return weights / total


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices into ``range(len(weights))``, index ``i`` drawn with probability
    proportional to ``weights[i]``; without replacement, each index at most once (a weighted
    random order: weight-0 indices come last, as in torch.multinomial)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights_array = np.array(weights, dtype=np.float64)
        if weights_array.ndim != 1:
            raise ValueError("weights should be a 1d sequence but given "
                             f"weights have shape {tuple(weights_array.shape)}")
        self.weights = weights_array
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = _check_generator(generator)

    def __iter__(self):
        w = self.weights
        p = _multinomial_probs(w)
        rng = _private_rng(self.generator) if self.replacement else _rng(self.generator)
        if not self.replacement:
            if self.num_samples > w.shape[0]:
                raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
            # Efraimidis-Spirakis: the k smallest Exp(1)/w keys are a weighted sample without replacement
            with np.errstate(divide="ignore"):
                keys = rng.exponential(size=w.shape[0]) / w
            yield from np.argsort(keys, kind="stable")[:self.num_samples].tolist()
            return
        cdf = np.cumsum(p)
        cdf[-1] = np.inf  # rounding can leave the sum just under 1
        last = int(np.flatnonzero(p)[-1])
        total = self.num_samples
        while total > 0:
            k = min(total, _CHUNK)
            draws = np.searchsorted(cdf, rng.random(k), side="right")
            yield from np.minimum(draws, last).tolist()  # a draw past the last nonzero weight cannot happen
            total -= k

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (any iterable), streamed; the last short
    batch is dropped if ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            for batch in zip(*([sampler_iter] * self.batch_size)):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
