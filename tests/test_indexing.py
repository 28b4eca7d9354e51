"""Indexing (basic and advanced) forward and backward against torch; setitem under no_grad."""
import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import compare, assert_close

FLOATS = [np.float32, np.float64]
X = np.random.default_rng(0).standard_normal((4, 5, 3))


def _idx(*key):
    """Build the same key for chainrule and torch: index arrays become the library's tensors."""
    def fn(t):
        lib = cr if isinstance(t, cr.Tensor) else torch
        conv = tuple(lib.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
        return t[conv if len(conv) != 1 else conv[0]]
    return fn


KEYS = {
    "int": (1,),
    "neg_int": (-1,),
    "int_int": (2, -2),
    "slice": (slice(1, 3),),
    "slice_step": (slice(None, None, 2), slice(1, None)),
    "neg_slice": (slice(-3, -1),),
    "none": (None, 1),
    "none_middle": (slice(None), None, 0),
    "ellipsis": (Ellipsis, 1),
    "ellipsis_middle": (0, Ellipsis, slice(0, 2)),
    "int_array_repeats": (np.array([0, 2, 0, 0]),),
    "int_array_2d": (np.array([[1, 1], [3, 0]]),),
    "int_array_dim1": (slice(None), np.array([4, 4, 1])),
    "two_arrays": (np.array([0, 1, 1]), np.array([2, 2, 0])),
    "arrays_broadcast": (np.array([[0], [3]]), np.array([1, 1, 4])),
    "arrays_split_by_slice": (np.array([0, 0]), slice(None), np.array([1, 1])),
    "neg_array": (np.array([-1, -4, -1]),),
    "bool_mask_row": (np.array([True, False, True, True]),),
    "bool_mask_full": (X > 0.3,),
    "bool_mask_2d": (X[:, :, 0] > 0,),
    "bool_mask_dim1": (slice(None), np.array([True, False, False, True, True])),
    "list_index": ([0, 3, 3],),
    "int_and_array": (1, np.array([0, 0, 4])),
    "python_true": (True,),  # a 0-d mask: a new dim of size 1 (True) or 0 (False), as torch
    "python_false": (False,),
    "true_then_int": (True, 0),
    "int_then_false": (0, False),
    "ellipsis_true": (Ellipsis, True),
    "true_with_array": (True, np.array([0, 3])),
    "none_true_slice_false": (None, True, slice(1, 4), False),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(KEYS))
def test_getitem_matches_torch_with_gradient(name, dtype):
    fn = _idx(*KEYS[name])
    compare(fn, fn, [X.astype(dtype)])
    if dtype == np.float64:
        assert cr.autograd.gradcheck(fn, [cr.tensor(X, requires_grad=True)])


def test_repeated_indices_accumulate_gradient():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[cr.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    x.grad = None
    (x[[1, 1]] * cr.tensor([2.0, 5.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 7.0, 0.0]


def test_index_tensor_dtypes_int32_and_0dim():
    x = cr.tensor(X)
    assert_close(x[cr.tensor([1, 2], dtype=cr.int32)], torch.tensor(X)[torch.tensor([1, 2], dtype=torch.int32)])
    assert_close(x[cr.tensor(2)], torch.tensor(X)[torch.tensor(2)])
    assert_close(x[np.int64(1), 2], torch.tensor(X)[1, 2])


def test_basic_index_is_view_of_data():
    x = cr.tensor(X)
    row = x[1]
    assert np.shares_memory(row._data, x._data)


def test_second_order_through_index():
    x = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (g,) = cr.autograd.grad((x[[0, 0, 2]] ** 3).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((tx[[0, 0, 2]] ** 3).sum(), tx, create_graph=True)
    assert_close(g, tg)
    g.sum().backward()
    tg.sum().backward()
    assert_close(x.grad, tx.grad)


@pytest.mark.parametrize("key,value", [
    (1, 5.0), ((slice(None), 0), 7.0), (np.array([0, 2]), -1.0), ("mask", 0.0),
    ((0, slice(1, 3)), "tensor"), (Ellipsis, 2.0), ("row_tensor", "tensor_row"), (True, -3.0), (False, 4.0),
    ((1, True), "tensor_row"),
], ids=str)
def test_setitem_under_no_grad(key, value):
    base = X[:, :, 0].astype(np.float32)
    x, tx = cr.tensor(base, requires_grad=True), torch.tensor(base, requires_grad=True)
    if isinstance(key, str):
        ck, tk = ((x > 0), (tx > 0)) if key == "mask" else (cr.tensor([3, 1]), torch.tensor([3, 1]))
    elif isinstance(key, np.ndarray):
        ck, tk = cr.tensor(key), torch.tensor(key)
    else:
        ck = tk = key
    if value == "tensor":
        cv, tv = cr.tensor([10.0, 20.0]), torch.tensor([10.0, 20.0])
    elif value == "tensor_row":
        cv, tv = cr.arange(5.0), torch.arange(5.0)
    else:
        cv = tv = value
    with cr.no_grad():
        x[ck] = cv
    with torch.no_grad():
        tx[tk] = tv
    assert_close(x.detach(), tx.detach())
    assert x.is_leaf and x.requires_grad


def test_setitem_on_plain_tensor_without_no_grad():
    x = cr.zeros(3)
    x[1] = 4
    x[cr.tensor([True, False, True])] = cr.tensor(2.0)
    assert x.tolist() == [2.0, 4.0, 2.0]


def test_iteration_and_unbind():
    x = cr.tensor(X[:, :, 0], requires_grad=True)
    rows = list(x)
    assert len(rows) == 4 and rows[2].tolist() == X[2, :, 0].tolist()
    sum(r.sum() * (i + 1) for i, r in enumerate(x.unbind(0))).backward()
    assert x.grad.numpy()[:, 0].tolist() == [1, 2, 3, 4]


MIXED_KEYS = ["[0, ..., I]", "[:, I, :, 0]", "[I, 0, J]", "[1, M]", "[I, :, 1, J]", "[0, None, I]", "[M3, 1]",
              "[1, I]", "[..., 2, I]"]


@pytest.mark.parametrize("key", MIXED_KEYS)
def test_integers_mixed_with_index_arrays_follow_torch_placement(key):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))

    def fn(t):
        lib = cr if isinstance(t, cr.Tensor) else torch
        env = dict(t=t, I=lib.tensor([0, 1, 1]), J=lib.tensor([2, 0, 2]), M=lib.tensor(x[0, :, :, 0] > 0),
                   M3=lib.tensor(x[:, :, :, 0] > 0))
        return eval("t" + key, env)
    compare(fn, fn, [x])


def test_setitem_with_grad_is_recorded():
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = lib.tensor([10.0, 20.0], requires_grad=True)
        y = x * 2
        y[lib.tensor([0, 2])] = v * 3
        y[1] = 7.0
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0] and v.grad.tolist() == [3.0, 9.0]
        z = lib.zeros(3)
        z[1:] = x[:2] * 2
        z.sum().backward()
        assert z.requires_grad and x.grad.tolist() == [2.0, 2.0, 0.0]


def test_copy_from_tensor_requiring_grad_is_recorded():
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.zeros(2, 2)
        y.copy_(x * 3)
        (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        assert x.grad.tolist() == [12.0, 18.0]
        w = x * 2
        w.copy_(lib.tensor([5.0, 5.0]))
        x.grad = None
        (w * x).sum().backward()
        assert x.grad.tolist() == [5.0, 5.0]


@pytest.mark.parametrize("key,value_shape", [("[0, :, I]", (3, 2)), ("[I, :, 1]", (2, 3)), ("[:, I, 0]", (2, 2)),
                                             ("[..., 1, I]", (2, 2)), ("[1, I, I]", (2,)), ("[I]", (2, 3, 4)),
                                             ("[1, M]", None)])
def test_setitem_mixed_keys_plain_and_recorded_match_torch(key, value_shape):
    x0 = np.random.default_rng(2).standard_normal((2, 3, 4))
    mask = x0[0] > 0
    results = []
    for lib in (cr, torch):
        env = dict(I=lib.tensor([0, 1]), M=lib.tensor(mask))
        shape = value_shape or (int(mask.sum()),)
        v = lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape)
        env.update(x=lib.tensor(x0), v=v)
        exec(f"x{key} = v", env)
        w = lib.tensor(x0, requires_grad=True)
        vv = v.clone().requires_grad_()
        env.update(y=w * 1, vv=vv)
        exec(f"y{key} = vv * 2", env)
        (env["y"] * lib.tensor(np.arange(24.0).reshape(2, 3, 4))).sum().backward()
        results.append([env["x"], env["y"].detach(), w.grad, vv.grad])
    for c, t in zip(*results):
        assert_close(c, t)


def test_index_tensors_that_do_not_broadcast_raise_torchs_error():
    """Not NumPy's "indexing arrays ... (32,) (46,)": torch's wording, for reading and writing."""
    for L in (cr, torch):
        x = L.zeros(40, 5)
        rows, cols = L.arange(32), L.zeros(46, dtype=L.long)
        with pytest.raises(IndexError, match=r"indexing tensors could not be broadcast together with shapes "
                                             r"\[32\], \[46\]"):
            x[rows, cols]
        with pytest.raises(IndexError, match=r"shapes \[32\], \[46\]"):
            x[rows, cols] = 1.0
        assert tuple(x[rows[:, None], cols].shape) == (32, 46)
