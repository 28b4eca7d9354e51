"""chainrule.utils.data: datasets, batching, shuffling, collation (against torch where it has a view)."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
from chainrule.utils.data import (DataLoader, Dataset, TensorDataset, Subset, random_split, default_collate,
                                  BatchSampler, SequentialSampler)


def _ds(n=10):
    return TensorDataset(cr.arange(n * 2, dtype=cr.float32).reshape(n, 2), cr.arange(n))


@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (10, 5, False), (10, 5, True),
                                            (2, 5, False), (2, 5, True), (7, 1, False), (0, 4, False)])
def test_batches_match_torch(n, bs, drop_last):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    cl = DataLoader(TensorDataset(cr.tensor(x), cr.tensor(y)), batch_size=bs, drop_last=drop_last)
    tl = tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=bs, drop_last=drop_last)
    cb, tb = list(cl), list(tl)
    assert len(cl) == len(tl) == len(cb) == len(tb)
    for c, t in zip(cb, tb):
        assert isinstance(c, list) and len(c) == 2          # torch collates a tuple sample into a list
        for ci, ti in zip(c, t):
            assert ci.dtype.name == str(ti.dtype).replace("torch.", "")
            np.testing.assert_array_equal(ci.numpy(), ti.numpy())


def test_shuffle_reproducible_and_covers_every_sample():
    loader = DataLoader(_ds(23), batch_size=4, shuffle=True)
    cr.manual_seed(7)
    first = [b[1].tolist() for b in loader]
    second = [b[1].tolist() for b in loader]        # next epoch: a new order
    cr.manual_seed(7)
    again = [b[1].tolist() for b in loader]
    assert first == again and first != second
    for epoch in (first, second):
        flat = [i for b in epoch for i in b]
        assert sorted(flat) == list(range(23)) and flat != list(range(23))
        assert [len(b) for b in epoch] == [4] * 5 + [3]
    cr.manual_seed(7)
    dl = [b[1].tolist() for b in DataLoader(_ds(23), batch_size=4, shuffle=True, drop_last=True)]
    assert len(dl) == 5 and all(len(b) == 4 for b in dl)


def test_generator_argument():
    a = [b[1].tolist() for b in DataLoader(_ds(), batch_size=3, shuffle=True, generator=np.random.default_rng(5))]
    b = [b[1].tolist() for b in DataLoader(_ds(), batch_size=3, shuffle=True, generator=np.random.default_rng(5))]
    assert a == b and sorted(i for x in a for i in x) == list(range(10))


def test_fast_path_equals_per_sample_path():
    ds = TensorDataset(cr.randn(11, 3, 2), cr.randint(0, 5, (11,)), cr.rand(11) > 0.5)
    cr.manual_seed(3)
    fast = list(DataLoader(ds, batch_size=4, shuffle=True))
    cr.manual_seed(3)
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, collate_fn=default_collate))
    assert len(fast) == len(slow) == 3
    for f, s in zip(fast, slow):
        for a, b in zip(f, s):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def _sample(i, make_tensor):
    return {"x": np.full((2,), i, np.float32), "y": i, "w": float(i) / 2, "name": f"s{i}", "ok": i % 2 == 0,
            "pair": (i, make_tensor([i, i + 1]))}


class Mixed(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return _sample(i, cr.tensor)


class TorchMixed(tud.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return _sample(i, torch.tensor)


def test_default_collate_matches_torch_for_mixed_samples():
    cb = next(iter(DataLoader(Mixed(), batch_size=3)))
    tb = next(iter(tud.DataLoader(TorchMixed(), batch_size=3)))
    assert set(cb) == set(tb)
    for k in ("x", "y", "w", "ok"):
        assert cb[k].dtype.name == str(tb[k].dtype).replace("torch.", ""), k
        np.testing.assert_array_equal(cb[k].numpy(), tb[k].numpy())
    assert cb["name"] == tb["name"] == ["s0", "s1", "s2"]
    assert isinstance(cb["pair"], list) and isinstance(tb["pair"], list)
    for c, t in zip(cb["pair"], tb["pair"]):
        np.testing.assert_array_equal(c.numpy(), t.numpy())


def test_namedtuple_and_errors_in_collate():
    P = collections.namedtuple("P", "a b")
    out = default_collate([P(1, 2.0), P(3, 4.0)])
    assert isinstance(out, P) and out.a.tolist() == [1, 3] and out.b.dtype == cr.float64
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects"):
        default_collate([cr.zeros(2), cr.zeros(3)])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_no_auto_batching_and_custom_collate():
    items = list(DataLoader(_ds(3), batch_size=None))
    assert len(items) == 3 and items[1][1].item() == 1 and items[1][0].shape == (2,)
    sums = list(DataLoader(_ds(4), batch_size=2, collate_fn=lambda b: sum(s[1].item() for s in b)))
    assert sums == [1, 5]
    bs = list(DataLoader(_ds(5), batch_sampler=BatchSampler(SequentialSampler(range(5)), 2, False)))
    assert [b[1].tolist() for b in bs] == [[0, 1], [2, 3], [4]]


def test_dataset_and_loader_errors():
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(cr.zeros(3, 2), cr.zeros(4))
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(_ds(), batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(_ds(), shuffle=True, sampler=SequentialSampler(range(10)))
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(_ds(), batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(_ds(), batch_size=3, batch_sampler=BatchSampler(range(10), 2, False))
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_subset_and_random_split():
    cr.manual_seed(0)
    a, b = random_split(_ds(10), [7, 3])
    assert len(a) == 7 and len(b) == 3
    ids = sorted(a[i][1].item() for i in range(7)) + sorted(b[i][1].item() for i in range(3))
    assert sorted(ids) == list(range(10))
    fa, fb, fc = random_split(_ds(10), [0.5, 0.3, 0.2])
    assert (len(fa), len(fb), len(fc)) == (5, 3, 2)
    assert Subset(_ds(), [4, 2])[1][1].item() == 2
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(_ds(10), [3, 3])
    batches = list(DataLoader(a, batch_size=4))
    assert [len(x[1]) for x in batches] == [4, 3]


def test_loader_feeds_a_training_loop():
    cr.manual_seed(0)
    x = cr.randn(64, 3, dtype=cr.float64)
    y = x @ cr.tensor([[1.0], [-2.0], [0.5]], dtype=cr.float64)
    w = cr.zeros(3, 1, dtype=cr.float64, requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    for _ in range(30):
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True):
            opt.zero_grad()
            ((xb @ w - yb) ** 2).mean().backward()
            opt.step()
    np.testing.assert_allclose(w.detach().numpy().ravel(), [1.0, -2.0, 0.5], atol=1e-3)
