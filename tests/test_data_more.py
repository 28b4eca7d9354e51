"""chainrule.utils.data against torch.utils.data: samplers (streaming, semantics, distributions),
datasets, random_split, default_collate/default_convert, DataLoader options and worker processes."""
import collections
import collections.abc as cabc
import itertools
import os
import random
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
import chainrule.utils.data as cud
from chainrule.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset,
                                  RandomSampler, StackDataset, Subset, SubsetRandomSampler,
                                  TensorDataset, WeightedRandomSampler, default_collate, default_convert,
                                  get_worker_info, random_split)


# ---- helpers: run the same code against both libraries ---------------------------------------------

def norm(x):
    """A comparable picture of a (collated) value: container types, tensor dtypes/shapes/values."""
    if isinstance(x, cr.Tensor):
        return ("T", x.dtype.name, tuple(x.shape), x.detach().numpy().tolist())
    if isinstance(x, torch.Tensor):
        return ("T", str(x.dtype).replace("torch.", ""), tuple(x.shape), x.numpy().tolist())
    if isinstance(x, np.ndarray):
        return ("A", str(x.dtype), x.tolist())
    if isinstance(x, cabc.Mapping):
        return (type(x).__name__, [(k, norm(v)) for k, v in x.items()])
    if isinstance(x, (str, bytes)):
        return (type(x).__name__, x)
    if isinstance(x, cabc.Sequence):
        return (type(x).__name__, [norm(v) for v in x])
    return (type(x).__name__, x)


def outcome(fn, *args):
    """('ok', norm(result)) or (exception type name, message)."""
    try:
        return ("ok", norm(fn(*args)))
    except Exception as e:  # noqa: BLE001 -- the comparison is the point
        return (type(e).__name__, str(e))


def same(fn):
    """fn(module) gives the same result, or raises the same exception type and message, with
    chainrule.utils.data and torch.utils.data."""
    c, t = outcome(fn, cud), outcome(fn, tud)
    assert c == t
    return c


def same_type(fn):
    """Same exception type and first line of message (for messages that contain object reprs)."""
    c, t = outcome(fn, cud), outcome(fn, tud)
    assert c[0] == t[0] != "ok"
    assert c[1].split(",")[0] == t[1].split(",")[0]


# ---- 1. streaming: nothing materialises the sampler ------------------------------------------------

def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_sampler_with_replacement_streams_in_constant_memory():
    ds = TensorDataset(cr.arange(100, dtype=cr.float32).reshape(50, 2), cr.arange(50))
    sampler = RandomSampler(ds, replacement=True, num_samples=10 ** 10)
    loader = DataLoader(ds, sampler=sampler, batch_size=8)
    assert len(sampler) == 10 ** 10 and len(loader) == 10 ** 10 // 8

    def take():
        batches = list(itertools.islice(iter(loader), 5))
        assert len(batches) == 5 and all(b[1].shape == (8,) for b in batches)
        assert all(0 <= v < 50 for b in batches for v in b[1].tolist())
    assert _peak_bytes(take) < 2 ** 20  # a list of 1e10 indices would be 80 GB

    weighted = WeightedRandomSampler([1.0, 2.0, 3.0], num_samples=10 ** 10)
    assert _peak_bytes(lambda: list(itertools.islice(iter(BatchSampler(weighted, 16, drop_last=True)), 4))) < 2 ** 20
    assert _peak_bytes(lambda: next(iter(BatchSampler(range(10 ** 12), 3, False)))) < 2 ** 16
    plain = DataLoader(list(range(10)), sampler=RandomSampler(range(10), num_samples=10 ** 10), batch_size=4)
    assert _peak_bytes(lambda: list(itertools.islice(iter(plain), 3))) < 2 ** 20


def test_huge_sampler_streams_with_workers():
    sampler = RandomSampler(range(30), replacement=True, num_samples=10 ** 10)
    loader = DataLoader(list(range(30)), sampler=sampler, batch_size=4, num_workers=2)
    it = iter(loader)
    batches = [next(it) for _ in range(6)]
    assert all(b.shape == (4,) and b.dtype == cr.int64 for b in batches)
    del it


# ---- 2. samplers -----------------------------------------------------------------------------------

def test_sampler_argument_errors_match_torch():
    for fn in [lambda m: m.RandomSampler(range(0)),
               lambda m: m.RandomSampler(range(3), replacement=1),
               lambda m: m.RandomSampler(range(3), num_samples=0),
               lambda m: m.RandomSampler(range(3), num_samples=2.0),
               lambda m: m.RandomSampler(range(3), num_samples=True).num_samples,
               lambda m: len(m.RandomSampler(range(3), num_samples=7)),
               lambda m: list(m.RandomSampler(range(0), replacement=True, num_samples=3)),
               lambda m: list(m.RandomSampler(range(0), num_samples=3)),
               lambda m: m.WeightedRandomSampler([1.0, 2.0], 2.0),
               lambda m: m.WeightedRandomSampler([1.0, 2.0], True),
               lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
               lambda m: m.WeightedRandomSampler([1.0, 2.0], 2, replacement=1),
               lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
               lambda m: m.WeightedRandomSampler(5.0, 2),
               lambda m: len(m.WeightedRandomSampler([1.0, 2.0], 7)),
               lambda m: list(m.WeightedRandomSampler([1.0, -1.0], 2)),
               lambda m: list(m.WeightedRandomSampler([0.0, 0.0], 2)),
               lambda m: list(m.WeightedRandomSampler([], 2)),
               lambda m: list(m.WeightedRandomSampler([1.0, float("inf")], 2)),
               lambda m: list(m.WeightedRandomSampler([1.0, float("nan")], 2)),
               lambda m: list(m.WeightedRandomSampler([1.0, 2.0], 3, replacement=False)),
               lambda m: m.BatchSampler(range(3), 0, False),
               lambda m: m.BatchSampler(range(3), -2, False),
               lambda m: m.BatchSampler(range(3), 2.0, False),
               lambda m: m.BatchSampler(range(3), True, False),
               lambda m: m.BatchSampler(range(3), 2, 0),
               lambda m: list(m.SubsetRandomSampler([])),
               lambda m: len(m.SubsetRandomSampler([4, 5, 6])),
               lambda m: list(m.SequentialSampler(range(4))),
               lambda m: len(m.SequentialSampler(range(4)))]:
        same(fn)


@pytest.mark.parametrize("n,bs", [(10, 3), (9, 3), (1, 4), (0, 2), (7, 7), (8, 1)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(n, bs, drop_last):
    same(lambda m: list(m.BatchSampler(m.SequentialSampler(range(n)), bs, drop_last)))
    same(lambda m: len(m.BatchSampler(range(n), bs, drop_last)))
    same(lambda m: list(m.BatchSampler(iter(range(n)), bs, drop_last)))  # any iterable


def test_random_sampler_index_semantics():
    cr.manual_seed(0)
    for n, k in [(7, None), (7, 3), (7, 7), (5, 12), (5, 10), (1, 4)]:
        s = list(RandomSampler(range(n), num_samples=k))
        k = n if k is None else k
        assert len(s) == k == len(RandomSampler(range(n), num_samples=k))
        for start in range(0, k, n):  # each run of n is part of one permutation: no repeats within it
            block = s[start:start + n]
            assert len(set(block)) == len(block) and set(block) <= set(range(n))
            if len(block) == n:
                assert sorted(block) == list(range(n))
    s = list(RandomSampler(range(6), num_samples=6000, replacement=True))
    assert len(s) == 6000 and set(s) == set(range(6))
    counts = np.bincount(s, minlength=6)
    assert np.all(np.abs(counts - 1000) < 5 * np.sqrt(1000 * 5 / 6))
    # every position of a permutation is uniform
    firsts = np.bincount([next(iter(RandomSampler(range(4)))) for _ in range(2000)], minlength=4)
    assert np.all(np.abs(firsts - 500) < 5 * np.sqrt(500 * 0.75))


def test_samplers_reproducible_from_manual_seed_and_numpy_generator():
    def draws():
        return (list(RandomSampler(range(10))), list(RandomSampler(range(10), replacement=True, num_samples=20)),
                list(RandomSampler(range(4), num_samples=10)), list(SubsetRandomSampler([3, 5, 7, 9])),
                list(WeightedRandomSampler([1, 2, 3], 8)), list(WeightedRandomSampler([1, 2, 3], 3, False)))
    cr.manual_seed(11)
    a = draws()
    b = draws()
    cr.manual_seed(11)
    assert draws() == a != b
    g = [list(RandomSampler(range(10), generator=np.random.default_rng(4))) for _ in range(2)]
    assert g[0] == g[1] and sorted(g[0]) == list(range(10))
    for bad in (torch.Generator(), 5, np.random.RandomState(0)):
        for make in (lambda: RandomSampler(range(3), generator=bad), lambda: SubsetRandomSampler([1], bad),
                     lambda: WeightedRandomSampler([1.0], 1, generator=bad),
                     lambda: DataLoader(range(3), shuffle=True, generator=bad),
                     lambda: random_split(range(3), [1, 2], generator=bad)):
            with pytest.raises(TypeError, match="must be None .* or a chainrule.Generator"):
                make()


def test_random_sampler_pass_is_fixed_when_it_starts():
    """As torch: draws made while a pass runs do not change that pass's order."""
    sampler = RandomSampler(range(50), replacement=True, num_samples=5000)
    cr.manual_seed(3)
    quiet = list(sampler)
    cr.manual_seed(3)
    noisy = []
    for i in sampler:
        noisy.append(i)
        cr.rand(3)  # e.g. dropout in the training step
    assert quiet == noisy


def test_subset_random_sampler():
    cr.manual_seed(1)
    idx = [10, 20, 30, 40, 50]
    orders = [list(SubsetRandomSampler(idx)) for _ in range(20)]
    assert all(sorted(o) == idx for o in orders) and len({tuple(o) for o in orders}) > 1


def test_weighted_sampler_respects_weights():
    cr.manual_seed(2)
    w = [0.1, 0.0, 0.4, 0.5]
    s = list(WeightedRandomSampler(w, 20000))
    freq = np.bincount(s, minlength=4) / 20000
    np.testing.assert_allclose(freq, w, atol=0.015)
    assert freq[1] == 0
    t = list(WeightedRandomSampler(torch.tensor([1.0, 3.0]).numpy(), 4000))  # any array-like
    assert abs(np.mean(t) - 0.75) < 0.03
    assert abs(np.mean(list(WeightedRandomSampler(cr.tensor([1.0, 3.0]), 4000))) - 0.75) < 0.03
    # without replacement: distinct indices; zero weights only after every positive one (as torch)
    for _ in range(50):
        out = list(WeightedRandomSampler([1.0, 0.0, 0.0, 5.0], 3, replacement=False))
        assert sorted(out[:2]) == [0, 3] and out[2] in (1, 2)
        perm = list(WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False))
        assert sorted(perm) == [0, 1, 2, 3, 4]
    firsts = np.bincount([next(iter(WeightedRandomSampler([1, 2, 7], 2, replacement=False))) for _ in range(3000)],
                         minlength=3) / 3000
    np.testing.assert_allclose(firsts, [0.1, 0.2, 0.7], atol=0.03)
    # the second draw, given the first was index 2, is 1 with probability 2/3
    pairs = [list(WeightedRandomSampler([1, 2, 7], 2, replacement=False)) for _ in range(3000)]
    second = [p[1] for p in pairs if p[0] == 2]
    assert abs(np.mean(np.array(second) == 1) - 2 / 3) < 0.05


# ---- 3. datasets -----------------------------------------------------------------------------------

def test_concat_dataset_matches_torch():
    parts = [list(range(3)), list(range(10, 12)), [], list(range(20, 24))]
    same(lambda m: m.ConcatDataset(parts).cumulative_sizes)
    same(lambda m: [m.ConcatDataset(parts)[i] for i in range(-9, 9)])
    same(lambda m: m.ConcatDataset(parts)[-10])
    same(lambda m: m.ConcatDataset(parts)[9])
    same(lambda m: m.ConcatDataset([]))
    same(lambda m: len(m.ConcatDataset(parts)))
    same(lambda m: list(m.DataLoader(m.ConcatDataset(parts), batch_size=4)))
    same(lambda m: m.ConcatDataset([parts[0], _Stream.of(m)(3)]))
    with pytest.warns(FutureWarning, match="cumulative_sizes"):
        assert ConcatDataset(parts).cummulative_sizes == [3, 5, 5, 9]
    a, b = TensorDataset(cr.arange(3)), TensorDataset(cr.arange(5, 7))
    joined = a + b
    assert isinstance(joined, ConcatDataset) and [joined[i][0].item() for i in range(-5, 5)] == [0, 1, 2, 5, 6] * 2


class _Stream:
    """An iterable dataset class for either library: ``_Stream.of(module)(n)`` yields 0..n-1
    (split between workers when loaded by several); ``sized`` gives it a __len__."""
    _cache = {}

    @classmethod
    def of(cls, m, sized=False):
        key = (m.__name__, sized)
        if key not in cls._cache:
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                info = m.get_worker_info()
                lo, step = (0, 1) if info is None else (info.id, info.num_workers)
                return iter(range(lo, self.n, step))
            body = {"__init__": __init__, "__iter__": __iter__}
            if sized:
                body["__len__"] = lambda self: self.n
            cls._cache[key] = type("Stream", (m.IterableDataset,), body)
        return cls._cache[key]


@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False),
                                            (2, 5, True), (0, 2, False)])
def test_iterable_dataset_loader_matches_torch(n, bs, drop_last):
    same(lambda m: list(m.DataLoader(_Stream.of(m)(n), batch_size=bs, drop_last=drop_last)))
    same(lambda m: len(m.DataLoader(_Stream.of(m, sized=True)(n), batch_size=bs, drop_last=drop_last)))
    same(lambda m: len(m.DataLoader(_Stream.of(m)(n), batch_size=bs, drop_last=drop_last)))  # no __len__
    same(lambda m: list(m.DataLoader(_Stream.of(m)(n), batch_size=None)))
    same(lambda m: len(_Stream.of(m)(n)))


def test_iterable_dataset_rules_match_torch():
    same(lambda m: list(m.DataLoader(_Stream.of(m)(5), shuffle=False)))
    same_type(lambda m: m.DataLoader(_Stream.of(m)(5), shuffle=True))
    same_type(lambda m: m.DataLoader(_Stream.of(m)(5), sampler=[0, 1]))
    same_type(lambda m: m.DataLoader(_Stream.of(m)(5), batch_sampler=[[0, 1]]))
    same(lambda m: list(_Stream.of(m)(2) + _Stream.of(m)(3)))
    same(lambda m: type(_Stream.of(m)(2) + _Stream.of(m)(3)).__name__)
    same(lambda m: list(m.ChainDataset([_Stream.of(m)(2), _Stream.of(m)(3)])))
    same(lambda m: len(m.ChainDataset([_Stream.of(m, True)(2), _Stream.of(m, True)(3)])))
    same(lambda m: len(m.ChainDataset([_Stream.of(m, True)(2), _Stream.of(m)(3)])))
    same(lambda m: list(m.ChainDataset([_Stream.of(m)(2), [1, 2]])))
    same(lambda m: list(m.DataLoader(m.ChainDataset([_Stream.of(m)(3), _Stream.of(m)(4)]), batch_size=3)))
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())
    loader = DataLoader(_Stream.of(cud, sized=True)(3), batch_size=None)
    assert len(loader) == 3
    loader.dataset.n = 4  # now yields more than len() said: warned, as in torch
    with pytest.warns(UserWarning, match="was reported to be 3"):
        assert len(list(loader)) == 4


def test_subset_stack_dataset_and_getitems():
    same(lambda m: [m.Subset(list(range(10, 20)), [3, 1, -1])[i] for i in range(3)])
    same(lambda m: list(m.DataLoader(m.Subset(list(range(10, 20)), [3, 1, 4, 8]), batch_size=3)))
    same(lambda m: [m.StackDataset([1, 2], [3, 4])[i] for i in range(2)])
    same(lambda m: m.StackDataset(a=[1, 2], b=["x", "y"])[1])
    same(lambda m: list(m.DataLoader(m.StackDataset(a=[1, 2, 3], b=[0.5, 1.5, 2.5]), batch_size=2)))
    same(lambda m: list(m.DataLoader(m.StackDataset([1, 2, 3], [0.5, 1.5, 2.5]), batch_size=2)))
    same(lambda m: m.StackDataset([1, 2], x=[1, 2]))
    same(lambda m: m.StackDataset([1, 2], [1]))
    same(lambda m: m.StackDataset(x=[1, 2], y=[1]))
    same(lambda m: m.StackDataset())
    same(lambda m: len(m.StackDataset(x=[1, 2], y=[3, 4])))

    class Batched(Dataset):  # __getitems__ fetches a batch in one call (also through Subset)
        calls = []

        def __len__(self):
            return 8

        def __getitem__(self, i):
            raise AssertionError("not used")

        def __getitems__(self, idx):
            Batched.calls.append(list(idx))
            return [i * 10 for i in idx]
    out = [b.tolist() for b in DataLoader(Subset(Batched(), [7, 6, 5, 4]), batch_size=3)]
    assert out == [[70, 60, 50], [40]] and Batched.calls == [[7, 6, 5], [4]]
    stacked = StackDataset(Batched(), list(range(8)))
    assert stacked.__getitems__([2, 3]) == [(20, 2), (30, 3)]

    class Overrides(Subset):
        def __getitem__(self, i):
            return 0
    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Overrides([1, 2], [0])


def test_tensor_dataset_size_mismatch_is_torchs_assertion_error():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(cr.zeros(3), cr.zeros(4))


@pytest.mark.parametrize("n", [0, 1, 2, 5, 7, 10, 11, 13, 100, 101])
@pytest.mark.parametrize("fracs", [[0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4], [1.0], [0.7, 0.2, 0.1],
                                   [1 / 3, 1 / 3, 1 / 3], [0.05] * 20])
def test_random_split_fraction_lengths_match_torch(n, fracs):
    with warnings.catch_warnings(record=True) as cw:
        warnings.simplefilter("always")
        c = outcome(lambda: [len(s) for s in random_split(range(n), fracs)])
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        t = outcome(lambda: [len(s) for s in tud.random_split(range(n), fracs)])
    assert c == t  # [0.05] * 20 sums to just over 1: not fractions, a ValueError in both
    assert [str(w.message) for w in cw] == [str(w.message) for w in tw]


def test_random_split_semantics_and_errors_match_torch():
    cr.manual_seed(0)
    parts = random_split(list(range(100, 120)), [5, 0, 15])
    assert [len(p) for p in parts] == [5, 0, 15]
    assert sorted(x for p in parts for x in (p[i] for i in range(len(p)))) == list(range(100, 120))
    assert all(isinstance(p, Subset) for p in parts)
    g = [[p.indices for p in random_split(range(9), [0.4, 0.6], generator=np.random.default_rng(1))]
         for _ in range(2)]
    assert g[0] == g[1]
    same(lambda m: m.random_split(range(10), [3, 3]))
    same(lambda m: m.random_split(range(10), [1.5, -0.5]))
    same(lambda m: m.random_split(range(10), [0.5, 0.6]))
    same(lambda m: [len(s) for s in m.random_split(range(10), [4, 6])])
    same(lambda m: m.random_split(range(10), []))


# ---- 4. default_collate / default_convert ------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


class Pair(cabc.Sequence):  # an immutable custom sequence: rebuilt through its constructor
    def __init__(self, items):
        self.items = list(items)

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def _batches(T):
    """Lists of samples; T makes a tensor (cr.tensor or torch.tensor)."""
    return [
        [1, 2, 3], [1.5, 2.5], [True, False], [1, 2.5], [2.5, 1], [True, 2],
        ["a", "bc"], [b"x", b"y"], [np.str_("a"), np.str_("b")],
        [np.float32(1), np.float32(2)], [np.int32(1), np.int32(2)], [np.float16(1), np.float64(2)],
        [np.bool_(True), np.bool_(False)], [np.int8(1), np.uint8(2)], [np.float32(1), 2.0], [np.int32(1), 2],
        [np.arange(3, dtype=np.float32), np.ones(3, np.float32)], [np.array(1.5), np.array(2.5)],
        [np.zeros((2, 2), np.int16), np.ones((2, 2), np.int16)], [np.array([True]), np.array([False])],
        [np.arange(4, dtype=np.uint8)[::2], np.arange(2, dtype=np.uint8)],
        [T([1.0, 2.0]), T([3.0, 4.0])], [T(1), T(2)],
        [{"a": 1, "b": 2.0}, {"a": 3, "b": 4.0}],
        [collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)],
        [(1, 2.0, "s"), (3, 4.0, "t")], [[1, 2], [3, 4]], [Point(1, 2.0), Point(3, 4.0)],
        [Point(np.zeros(2), {"k": [1, (2, 3)]}), Point(np.ones(2), {"k": [4, (5, 6)]})],
        [{"x": np.full((2,), 3, np.float64), "pair": (7, T([7, 8])), "name": "q", "ok": True},
         {"x": np.full((2,), 4, np.float64), "pair": (8, T([8, 9])), "name": "r", "ok": False}],
        [Pair([1, 2]), Pair([3, 4])], [range(2), range(2)], [[[1], [2]], [[3], [4]]],
        [collections.defaultdict(list, a=[1]), collections.defaultdict(list, a=[2])],
    ]


def test_default_collate_matches_torch():
    cb, tb = _batches(cr.tensor), _batches(torch.tensor)
    for c, t in zip(cb, tb):
        got, want = outcome(cud.default_collate, c), outcome(tud.default_collate, t)
        assert got == want, (c, got, want)
    # the clone of a defaultdict keeps its type and factory, as in torch
    out = default_collate([collections.defaultdict(list, a=[1]), collections.defaultdict(list, a=[2])])
    assert type(out) is collections.defaultdict and out.default_factory is list


def test_default_collate_errors_match_torch():
    cases = [lambda m, T: m.default_collate([object(), object()]),
             lambda m, T: m.default_collate([np.array(["a"]), np.array(["b"])]),
             lambda m, T: m.default_collate([np.array([object()]), np.array([object()])]),
             lambda m, T: m.default_collate([np.zeros(2), np.zeros(3)]),
             lambda m, T: m.default_collate([T([1.0, 2.0]), T([1.0])]),
             lambda m, T: m.default_collate([[1, 2], [3]]),
             lambda m, T: m.default_collate([(1, 2), (3,)]),
             lambda m, T: m.default_collate([{"a": 1}, {"b": 2}]),
             lambda m, T: m.default_collate([None, None])]
    for fn in cases:
        assert outcome(fn, cud, cr.tensor) == outcome(fn, tud, torch.tensor)


def test_default_convert_matches_torch():
    def samples(T):
        return [np.arange(3, dtype=np.int32), np.float32(2.5), np.int64(3), np.bool_(True), np.array(["a", "b"]),
                np.array([None]), np.str_("s"), 1, 2.5, "s", b"b", None, (np.zeros(2), 1), [np.ones(1), "x"],
                {"a": np.zeros(2), "b": [np.int16(1)]}, Point(np.zeros(1), 2), T([1, 2]), range(3),
                collections.OrderedDict(z=np.ones(2)), Pair([np.zeros(1)]), np.zeros((2, 0))]
    for c, t in zip(samples(cr.tensor), samples(torch.tensor)):
        assert outcome(cud.default_convert, c) == outcome(tud.default_convert, t), c
    assert outcome(cud.default_convert, np.bytes_(b"x"))[0] == outcome(tud.default_convert, np.bytes_(b"x"))[0] \
        == "TypeError"
    a = np.arange(4.0)
    assert np.shares_memory(default_convert(a).numpy(), a)  # as torch.as_tensor: no copy


def test_loader_collation_matches_torch_end_to_end():
    for c_samples, t_samples in zip(_batches(cr.tensor), _batches(torch.tensor)):
        for bs in (1, 2, None):
            got = outcome(lambda: list(DataLoader(c_samples, batch_size=bs)))
            want = outcome(lambda: list(tud.DataLoader(t_samples, batch_size=bs)))
            assert got == want, (c_samples, bs)


# ---- 5. DataLoader options -------------------------------------------------------------------------

def test_loader_argument_errors_match_torch():
    ds = list(range(10))
    for fn in [lambda m: m.DataLoader(ds, num_workers=-1),
               lambda m: m.DataLoader(ds, timeout=-1),
               lambda m: m.DataLoader(ds, prefetch_factor=2),
               lambda m: m.DataLoader(ds, num_workers=1, prefetch_factor=-1),
               lambda m: m.DataLoader(ds, persistent_workers=True),
               lambda m: m.DataLoader(ds, shuffle=True, sampler=m.SequentialSampler(ds)),
               lambda m: m.DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]]),
               lambda m: m.DataLoader(ds, shuffle=True, batch_sampler=[[0, 1]]),
               lambda m: m.DataLoader(ds, sampler=range(3), batch_sampler=[[0, 1]]),
               lambda m: m.DataLoader(ds, drop_last=True, batch_sampler=[[0, 1]]),
               lambda m: m.DataLoader(ds, batch_size=None, drop_last=True),
               lambda m: m.DataLoader(ds, batch_size=0),
               lambda m: m.DataLoader(ds, batch_size=2.0),
               lambda m: m.DataLoader(ds, drop_last="yes"),
               lambda m: m.DataLoader(ds, num_workers=1, multiprocessing_context="nope"),
               lambda m: m.DataLoader(ds, num_workers=1, multiprocessing_context=5),
               lambda m: m.DataLoader(ds, multiprocessing_context="fork"),
               lambda m: m.DataLoader(range(0), shuffle=True),
               lambda m: setattr(m.DataLoader(ds), "batch_size", 3),
               lambda m: setattr(m.DataLoader(ds), "dataset", ds),
               lambda m: setattr(m.DataLoader(ds), "sampler", None),
               lambda m: m.DataLoader(ds, batch_size=4, pin_memory=False, timeout=5).timeout,
               lambda m: iter(m.DataLoader(ds, timeout=5)),  # torch 2.13: timeout needs workers
               lambda m: type("S", (m.Sampler,), {"__init__": lambda self, d: super(type(self), self).__init__(d)})(ds),
               lambda m: list(type("S", (m.Sampler,), {"__iter__": lambda self: iter([2, 0])})()),
               lambda m: (m.DataLoader(ds, num_workers=1).prefetch_factor, m.DataLoader(ds).prefetch_factor),
               lambda m: (len(m.DataLoader(ds, batch_size=3)), len(m.DataLoader(ds, batch_size=3, drop_last=True))),
               lambda m: len(m.DataLoader(ds, batch_size=None)),
               lambda m: len(m.DataLoader(ds, batch_sampler=[[0, 1], [2]])),
               lambda m: len(iter(m.DataLoader(ds, batch_size=4))),
               lambda m: list(m.DataLoader(ds, batch_sampler=[[3, 1], [2]])),
               lambda m: list(m.DataLoader(ds, batch_size=None, sampler=[4, 2])),
               lambda m: list(m.DataLoader(ds, sampler=[9, 8, 7], batch_size=2, drop_last=True)),
               lambda m: list(m.DataLoader(ds, batch_size=3, collate_fn=lambda b: sum(b))),
               lambda m: list(m.DataLoader(ds, batch_size=None, collate_fn=lambda x: -x))[:3],
               lambda m: m.get_worker_info()]:
        same(fn)
    loader = DataLoader(ds)
    loader.num_workers = 0  # not a guarded attribute
    assert loader.collate_fn is default_collate and DataLoader(ds, batch_size=None).collate_fn is default_convert


def test_pin_memory_is_a_noop_with_torchs_warning():
    ds = list(range(5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [b.tolist() for b in DataLoader(ds, batch_size=2, pin_memory=True)]
    warned = any("'pin_memory' argument is set as true but no accelerator is found" in str(w.message) for w in caught)
    assert warned != cr.cuda.is_available()   # torch warns only where there is no accelerator
    assert got == [[0, 1], [2, 3], [4]]
    with pytest.warns(UserWarning) as record:
        iter(DataLoader(ds, pin_memory=True, pin_memory_device="cuda"))
    assert any("pin_memory_device is deprecated" in str(w.message) for w in record)


def test_too_many_workers_warns_as_torch():
    with pytest.warns(UserWarning, match="This DataLoader will create 1000 worker processes in total"):
        DataLoader(list(range(3)), num_workers=1000)


def test_shuffle_order_independent_of_generator_use_between_epochs():
    ds = list(range(12))
    loader = DataLoader(ds, batch_size=5, shuffle=True)
    cr.manual_seed(5)
    a = [b.tolist() for b in loader]
    cr.manual_seed(5)
    b = []
    for batch in loader:
        cr.randn(4)
        b.append(batch.tolist())
    assert a == b
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(3))
    again = DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(3))
    assert [x.tolist() for x in loader] == [x.tolist() for x in again]


# ---- 5b. worker processes --------------------------------------------------------------------------

class Probe(Dataset):
    """Each sample reports which process made it and what its random generators give."""

    def __init__(self, n=12, fail_at=None, sleep_at=None, exit_at=None):
        self.n, self.fail_at, self.sleep_at, self.exit_at = n, fail_at, sleep_at, exit_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"sample {i} is broken")
        if i == self.sleep_at:
            time.sleep(3)
        if i == self.exit_at:
            os._exit(3)
        info = get_worker_info()
        return {"i": i, "x": np.full((2,), i, np.float32), "pid": os.getpid(),
                "worker": -1 if info is None else info.id, "tag": _INIT_TAG[0]}


_INIT_TAG = ["main"]


def _init_fn(worker_id):
    _INIT_TAG[0] = f"init{worker_id}"


@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # 3 workers on a 2-core machine
@pytest.mark.parametrize("num_workers", [1, 2, 3])
def test_workers_give_the_same_batches_as_the_main_process(num_workers):
    cr.manual_seed(9)
    ref = list(DataLoader(Probe(), batch_size=5, shuffle=True))
    cr.manual_seed(9)
    got = list(DataLoader(Probe(), batch_size=5, shuffle=True, num_workers=num_workers))
    assert [b["i"].tolist() for b in got] == [b["i"].tolist() for b in ref]
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g["x"].numpy(), r["x"].numpy())
        assert g["x"].dtype == r["x"].dtype == cr.float32
    assert {p for b in got for p in b["pid"].tolist()}.isdisjoint({os.getpid()})
    assert sorted({w for b in got for w in b["worker"].tolist()}) == list(range(min(num_workers, len(got))))
    assert all(set(b["worker"].tolist()) == {k % num_workers} for k, b in enumerate(got))  # round-robin
    assert all(b["tag"] == ["main"] * len(b["tag"]) for b in got)


def test_worker_init_fn_prefetch_and_in_order_false():
    loader = DataLoader(Probe(20), batch_size=3, num_workers=2, worker_init_fn=_init_fn, prefetch_factor=1)
    got = list(loader)
    assert [b["i"].tolist() for b in got] == [list(range(k, min(k + 3, 20))) for k in range(0, 20, 3)]
    assert all(set(b["tag"]) == {f"init{w}"} for b in got for w in set(b["worker"].tolist()))
    unordered = list(DataLoader(Probe(20), batch_size=3, num_workers=2, in_order=False))
    assert sorted(b["i"].tolist() for b in unordered) == [b["i"].tolist() for b in got]
    tensors = TensorDataset(cr.arange(10.0), cr.arange(10))  # the fast path runs in workers too
    assert [b[1].tolist() for b in DataLoader(tensors, batch_size=4, num_workers=2)] == [[0, 1, 2, 3], [4, 5, 6, 7],
                                                                                         [8, 9]]
    single = list(DataLoader(Probe(4), batch_size=None, num_workers=2))
    assert [s["i"] for s in single] == [0, 1, 2, 3] and [s["worker"] for s in single] == [0, 1, 0, 1]


class SeedProbe(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        info = get_worker_info()
        return (info.id, info.seed, info.num_workers, cr.rand(3).tolist(), random.random(), np.random.rand(),
                type(info.dataset).__name__)


def test_per_worker_seeding_as_torch():
    from chainrule.utils.data._worker import _generate_state
    from torch.utils.data._utils.worker import _generate_state as torch_generate_state
    for seed, wid in [(0, 0), (2 ** 63 - 1, 3), (123456789012345, 7)]:
        assert _generate_state(seed, wid) == torch_generate_state(seed, wid)

    def run():
        cr.manual_seed(4)
        return list(DataLoader(SeedProbe(), batch_size=None, num_workers=2, collate_fn=lambda s: s))
    first, second = run(), run()
    assert first == second  # reproducible from manual_seed
    (id0, seed0, nw, r0, py0, np0, name), (id1, seed1, _, r1, py1, np1, _) = first
    assert (id0, id1, nw, name) == (0, 1, 2, "SeedProbe") and seed1 == seed0 + 1
    base = seed0
    for wid, seed, r, py, npv in [(0, seed0, r0, py0, np0), (1, seed1, r1, py1, np1)]:
        cr.manual_seed(seed)
        assert cr.rand(3).tolist() == r
        assert random.Random(seed).random() == py
        assert np.random.RandomState(_generate_state(base, wid)).rand() == npv
    gen = [list(DataLoader(SeedProbe(), batch_size=None, num_workers=2, collate_fn=lambda s: s,
                           generator=np.random.default_rng(8))) for _ in range(2)]
    assert gen[0] == gen[1] and gen[0][0][1] != seed0
    assert get_worker_info() is None


def test_worker_errors_are_reraised_in_the_main_process():
    with pytest.raises(ValueError, match=r"(?s)Caught ValueError in DataLoader worker process \d+\.\n"
                                         r"Original Traceback.*sample 5 is broken"):
        list(DataLoader(Probe(fail_at=5), batch_size=2, num_workers=2))

    class MissingKey(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {}["absent"]
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        next(iter(DataLoader(MissingKey(), num_workers=1)))

    def bad_init(worker_id):
        raise RuntimeError("init failed")
    with pytest.raises(RuntimeError, match="init failed"):
        list(DataLoader(Probe(4), num_workers=1, worker_init_fn=bad_init))


def test_worker_timeout_and_death():
    loader = DataLoader(Probe(4, sleep_at=0), batch_size=2, num_workers=1, timeout=0.3)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.3 seconds"):
        next(iter(loader))
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(DataLoader(Probe(4, exit_at=1), batch_size=2, num_workers=1))


def test_persistent_workers_survive_epochs_and_early_stops():
    loader = DataLoader(Probe(10), batch_size=3, num_workers=2, persistent_workers=True)
    pids = []
    for epoch in range(3):
        it = iter(loader)
        first = next(it)
        assert first["i"].tolist() == [0, 1, 2]  # a fresh epoch even after an early stop
        pids.append(set(first["pid"].tolist()))
    full = list(loader)
    assert [b["i"].tolist() for b in full] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert all(p <= {q for b in full for q in b["pid"].tolist()} for p in pids)
    assert len({q for b in full for q in b["pid"].tolist()}) == 2
    assert [b["i"].tolist() for b in loader] == [b["i"].tolist() for b in full]
    loader._iterator._shutdown_workers()
    assert not any(w.is_alive() for w in loader._iterator._workers)


def test_iterable_dataset_with_workers_matches_torch():
    for kwargs in [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                   dict(batch_size=4, persistent_workers=True)]:
        same(lambda m: list(m.DataLoader(_Stream.of(m)(11), num_workers=2, **kwargs)))
    loader = DataLoader(_Stream.of(cud)(7), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in loader] == [b.tolist() for b in loader] == [[0, 2], [1, 3], [4, 6], [5]]


def test_spawn_start_method():
    ds = TensorDataset(cr.arange(6.0).reshape(3, 2), cr.arange(3))  # a view: chainrule cannot pickle it itself
    got = [b[1].tolist() for b in DataLoader(ds, batch_size=2, num_workers=1, multiprocessing_context="spawn")]
    assert got == [[0, 1], [2]]


def test_worker_results_travel_as_tensors():
    base = cr.arange(12.0).reshape(4, 3)
    ds = TensorDataset(base, cr.arange(4))  # samples are views of base
    got = list(DataLoader(ds, batch_size=None, num_workers=2))
    assert [type(t).__name__ for t in got[0]] == ["Tensor", "Tensor"]
    assert [s[0].tolist() for s in got] == base.tolist() and [s[1].item() for s in got] == [0, 1, 2, 3]
    assert got[0][0].dtype == cr.float32 and got[0][1].dtype == cr.int64
    leaves = list(DataLoader([0, 1], batch_size=None, num_workers=1,
                             collate_fn=lambda i: cr.full((2,), float(i), requires_grad=True)))
    assert all(t.requires_grad and t.grad_fn is None for t in leaves)

    class Unpicklable(Dataset):  # a batch that cannot be pickled is an error in the main process, not a hang
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return lambda: i
    with pytest.raises(Exception, match="(?s)in DataLoader worker process 0.*pickle"):
        list(DataLoader(Unpicklable(), batch_size=None, num_workers=1))


def test_workers_are_shut_down_when_the_iterator_goes():
    it = iter(DataLoader(Probe(50), batch_size=2, num_workers=2))
    next(it)
    workers = list(it._workers)
    assert all(w.is_alive() for w in workers)
    del it
    deadline = time.time() + 5
    while any(w.is_alive() for w in workers) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(w.is_alive() for w in workers)
