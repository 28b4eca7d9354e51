"""Creation functions, dtypes, attributes, conversions, in-place ops and repr, against torch."""
import numpy as np
import pytest
import torch

import chainrule as cr
from helpers import assert_close

DTYPES = [("float32", cr.float32, torch.float32), ("float64", cr.float64, torch.float64),
          ("int64", cr.int64, torch.int64), ("bool", cr.bool, torch.bool)]


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size_args", [(2, 3), ((2, 3),), ([2, 3],), (4,), ((),), (0, 2)], ids=str)
def test_zeros_ones_empty_sizes(name, size_args):
    out = getattr(cr, name)(*size_args)
    ref = getattr(torch, name)(*size_args)
    assert out.shape == tuple(ref.shape) and out.dtype == cr.float32
    assert isinstance(out.shape, tuple) and out.shape == cr.Size(ref.shape)
    if name != "empty":
        assert_close(out, ref)


@pytest.mark.parametrize("label,cd,td", DTYPES, ids=[d[0] for d in DTYPES])
def test_creation_dtypes(label, cd, td):
    for name in ("zeros", "ones", "empty"):
        assert getattr(cr, name)(2, dtype=cd).dtype == cd
    assert_close(cr.full((2, 2), 1, dtype=cd), torch.full((2, 2), 1, dtype=td))
    assert_close(cr.zeros_like(cr.ones(3, dtype=cd)), torch.zeros_like(torch.ones(3, dtype=td)))
    assert_close(cr.ones_like(cr.zeros(3, 1), dtype=cd), torch.ones_like(torch.zeros(3, 1), dtype=td))
    assert_close(cr.eye(3, dtype=cd), torch.eye(3, dtype=td))
    assert_close(cr.tensor([[1, 0], [0, 1]], dtype=cd), torch.tensor([[1, 0], [0, 1]], dtype=td))


def test_tensor_infers_dtypes_like_torch():
    for data in ([1, 2], [1.0, 2], [True, False], 3, 2.5, True, [[1, 2], [3, 4]], [], np.float64(1.5)):
        assert_close(cr.tensor(data), torch.tensor(data))
    for arr in (np.ones(2, np.float64), np.ones(2, np.float32), np.arange(3), np.array([True]),
                np.arange(3, dtype=np.int32)):
        assert_close(cr.tensor(arr), torch.tensor(arr))


def test_tensor_copies_and_from_numpy_shares():
    a = np.arange(4.0)
    t, f = cr.tensor(a), cr.from_numpy(a)
    a[0] = 10.0
    assert t[0].item() == 0.0 and f[0].item() == 10.0
    assert f.dtype == cr.float64
    f.numpy()[1] = -1.0
    assert a[1] == -1.0
    assert cr.as_tensor(a).numpy() is a


def test_from_numpy_of_an_array_subclass_shares_memory_as_a_plain_array(tmp_path):
    """np.memmap (nanoGPT's batches: from_numpy of memmap slices, then stack) is viewed as a plain ndarray:
    memory shared, and every op (stack, cat, arithmetic) treats it as a CPU array."""
    path = tmp_path / "data.bin"
    np.arange(12, dtype=np.int16).tofile(path)
    data = np.memmap(path, dtype=np.int16, mode="r+")
    rows = [cr.from_numpy(data[i:i + 4]) for i in (0, 4)]
    assert all(type(r._data) is np.ndarray for r in rows)
    data[0] = 100
    assert rows[0][0].item() == 100  # shared
    x = [cr.from_numpy(data[i:i + 4].astype(np.int64)) for i in (0, 4)]  # astype keeps the memmap subclass
    np.testing.assert_array_equal(cr.stack(x).numpy(), [[100, 1, 2, 3], [4, 5, 6, 7]])
    np.testing.assert_array_equal(cr.cat(x).numpy(), [100, 1, 2, 3, 4, 5, 6, 7])
    assert cr.stack(x).device == cr.device("cpu")


def test_full():
    assert_close(cr.full((2, 3), 1.5), torch.full((2, 3), 1.5))
    assert_close(cr.full((2,), 7), torch.full((2,), 7))
    assert_close(cr.full([2], True), torch.full([2], True))
    assert_close(cr.full_like(cr.zeros(2, 2), 3.0), torch.full_like(torch.zeros(2, 2), 3.0))


@pytest.mark.parametrize("args", [(5,), (2, 7), (1, 2, 0.25), (0, 1, 0.1), (5, 0, -1), (2.5,), (-3, 3, 2),
                                  (0.0, 1.0, 0.3)], ids=str)
def test_arange(args):
    assert_close(cr.arange(*args), torch.arange(*args))


def test_arange_dtype_and_linspace():
    assert_close(cr.arange(4, dtype=cr.float64), torch.arange(4, dtype=torch.float64))
    for args in [(0, 1, 5), (-2, 3, 1), (1, 0, 4), (0, 10, 0)]:
        assert_close(cr.linspace(*args), torch.linspace(*args))
    assert_close(cr.linspace(0, 1, 3, dtype=cr.float64), torch.linspace(0, 1, 3, dtype=torch.float64))


def test_eye_rectangular():
    assert_close(cr.eye(2, 4), torch.eye(2, 4))
    assert_close(cr.eye(3, 2), torch.eye(3, 2))


@pytest.mark.parametrize("name", ["rand", "randn"])
def test_random_creation_reproducible_and_shaped(name):
    fn = getattr(cr, name)
    cr.manual_seed(123)
    a = fn(3, 4)
    b = fn((3, 4), dtype=cr.float64)
    cr.manual_seed(123)
    assert fn(3, 4).equal(a) and fn((3, 4), dtype=cr.float64).equal(b)
    assert a.shape == (3, 4) and a.dtype == cr.float32 and b.dtype == cr.float64
    assert not fn(3, 4).equal(a)
    like = getattr(cr, name + "_like")(b)
    assert like.shape == (3, 4) and like.dtype == cr.float64
    assert fn(2, requires_grad=True).requires_grad


def test_random_distributions():
    cr.manual_seed(0)
    u = cr.rand(20000, dtype=cr.float64).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    n = cr.randn(20000, dtype=cr.float64).numpy()
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03
    r = cr.randint(2, 5, (10000,))
    assert r.dtype == cr.int64 and set(np.unique(r.numpy())) == {2, 3, 4}
    assert cr.randint(3, (2, 2)).shape == (2, 2)
    p = cr.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype == cr.int64


def test_manual_seed_covers_every_random_function():
    def draw():
        t = cr.zeros(5)
        with cr.no_grad():
            t.uniform_(-1, 1)
            v = cr.empty(5).normal_(2, 3)
        return [cr.rand(3), cr.randn(3), cr.randint(0, 9, (3,)), cr.randperm(6), t, v,
                cr.rand_like(cr.zeros(2)), cr.randn_like(cr.zeros(2))]
    cr.manual_seed(7)
    first = draw()
    cr.manual_seed(7)
    for a, b in zip(first, draw()):
        assert a.equal(b)


def test_device_and_requires_grad_keywords():
    for fn, args in [(cr.zeros, (2,)), (cr.ones, (2,)), (cr.empty, (2,)), (cr.rand, (2,)), (cr.randn, (2,)),
                     (cr.full, ((2,), 1.0)), (cr.arange, (0.0, 2.0)), (cr.linspace, (0, 1, 2)),
                     (cr.eye, (2,)), (cr.tensor, ([1.0, 2.0],))]:
        t = fn(*args, device="cpu", requires_grad=True)
        assert t.requires_grad and t.is_leaf and t.device == cr.device("cpu") and str(t.device) == "cpu"
        assert fn(*args, device=cr.device("cpu")).device.type == "cpu"
    assert cr.randint(0, 3, (2,), device="cpu").device.type == "cpu"
    for like in (cr.zeros_like, cr.ones_like, cr.rand_like, cr.randn_like):
        assert like(cr.zeros(2), requires_grad=True, device="cpu").requires_grad


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2], requires_grad=True)
    x = cr.zeros(2).requires_grad_()
    assert x.requires_grad and x.is_leaf and x.grad_fn is None


def test_attributes():
    x = cr.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.dim() == 3 and x.numel() == 24
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.T.shape == (4, 3, 2)
    assert repr(x.shape) == "chainrule.Size([2, 3, 4])"
    assert isinstance(x._data, np.ndarray) and x.grad is None and not x.requires_grad
    assert len(x) == 2 and x.is_floating_point() and not cr.zeros(2, dtype=cr.int64).is_floating_point()
    y = cr.ones(2, requires_grad=True) * 2
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad


def test_numpy_shares_memory_item_tolist():
    x = cr.zeros(3)
    a = x.numpy()
    a[1] = 5.0
    assert x.tolist() == [0.0, 5.0, 0.0]
    with cr.no_grad():
        x.add_(1)
    assert a.tolist() == [1.0, 6.0, 1.0]
    assert cr.tensor(2.5).item() == 2.5 and isinstance(cr.tensor(3).item(), int)
    assert isinstance(cr.tensor([True]).item(), bool)
    assert cr.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert cr.tensor(1.5).tolist() == 1.5
    with pytest.raises(RuntimeError, match="requires grad"):
        cr.zeros(2, requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="elements"):
        cr.zeros(2).item()
    assert float(cr.tensor([2.0])) == 2.0 and int(cr.tensor(3)) == 3


def test_detach_and_clone():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y._data)
    c = y.clone()
    assert c.requires_grad and c.grad_fn is not None and not np.shares_memory(c._data, y._data)
    (c * cr.tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [6.0, 8.0]


@pytest.mark.parametrize("op,args", [("add_", (2.0,)), ("sub_", (0.5,)), ("mul_", (3.0,)), ("div_", (4.0,)),
                                     ("clamp_", (-0.1, 0.2)), ("zero_", ()), ("fill_", (1.25,))])
def test_inplace_under_no_grad(op, args):
    a = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    w = cr.tensor(a, requires_grad=True)
    tw = torch.tensor(a, requires_grad=True)
    with cr.no_grad():
        before = w._data
        r = getattr(w, op)(*args)
    with torch.no_grad():
        getattr(tw, op)(*args)
    assert r is w and w._data is before and w.is_leaf and w.requires_grad
    assert_close(w, tw)


def test_inplace_with_tensor_argument_alpha_and_broadcast():
    w, tw = cr.ones(2, 3), torch.ones(2, 3)
    for (op, c_arg, t_arg, kw) in [("add_", cr.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0]), {"alpha": 2}),
                                   ("sub_", cr.tensor(0.5), torch.tensor(0.5), {"alpha": 3}),
                                   ("mul_", cr.tensor([[2.0], [3.0]]), torch.tensor([[2.0], [3.0]]), {}),
                                   ("div_", cr.tensor([2.0, 4.0, 8.0]), torch.tensor([2.0, 4.0, 8.0]), {})]:
        getattr(w, op)(c_arg, **kw)
        getattr(tw, op)(t_arg, **kw)
        assert_close(w, tw)
    i, ti = cr.tensor([1, 2]), torch.tensor([1, 2])
    i.mul_(3)
    ti.mul_(3)
    assert_close(i, ti)


def test_copy_uniform_normal_in_place():
    w = cr.zeros(2, 3, requires_grad=True)
    with cr.no_grad():
        w.copy_(cr.tensor([1.0, 2.0, 3.0]))
    assert w.tolist() == [[1.0, 2.0, 3.0]] * 2
    with cr.no_grad():
        w.copy_(cr.tensor([[1, 2, 3], [4, 5, 6]]))
    assert w.dtype == cr.float32 and w.tolist()[1] == [4.0, 5.0, 6.0]
    with cr.no_grad():
        w.uniform_(2.0, 3.0)
    assert (w >= 2).all().item() and (w < 3).all().item()
    big = cr.empty(10000, dtype=cr.float64)
    big.normal_(5.0, 2.0)
    assert abs(big.mean().item() - 5) < 0.1 and abs(big.std().item() - 2) < 0.1


def test_inplace_result_dtype_cannot_narrow():
    i = cr.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(0.5)
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).add_(0.5)


def test_inplace_on_nonleaf_tracks_grad_like_torch():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = x * 1, tx * 1
    y.mul_(x)
    ty.mul_(tx)
    y.sum().backward()
    ty.sum().backward()
    assert_close(x.grad, tx.grad)


def test_repr_shows_values_shape_dtype_grad_fn():
    assert repr(cr.tensor([1.0, 2.5])) == repr(torch.tensor([1.0, 2.5])).replace("torch", "chainrule")
    assert repr(cr.tensor([1, 2])) == repr(torch.tensor([1, 2]))
    assert repr(cr.tensor([1.0, 2.0], dtype=cr.float64)) == "tensor([1., 2.], dtype=chainrule.float64)"
    assert repr(cr.tensor(3.0)) == "tensor(3.)"
    assert repr(cr.tensor([True, False])) == "tensor([ True, False])"
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    r = repr(x * 2)
    assert r.startswith("tensor([2., 4.]") and "grad_fn=<MulBackward" in r
    assert "size=(0, 3)" in repr(cr.zeros(0, 3))
    big = repr(cr.zeros(100, 100))
    assert "..." in big and len(big) < 2000
    assert str(cr.tensor([0.12345678])) == "tensor([0.1235])"


def test_dtype_objects():
    assert cr.float32 is cr.float and cr.float64 is cr.double and cr.int64 is cr.long
    assert repr(cr.float32) == "chainrule.float32" and cr.float64.is_floating_point
    assert cr.get_default_dtype() is cr.float32
    assert cr.tensor([1.0]).to(dtype=cr.float64).dtype == cr.float64
    assert cr.tensor([1.0]).to("cpu", cr.float64).dtype == cr.float64


def test_size_keyword_and_python_type_dtypes():
    for name in ("zeros", "ones", "empty", "rand", "randn"):
        assert getattr(cr, name)(size=(2, 3)).shape == getattr(torch, name)(size=(2, 3)).shape
    for pytype in (float, int, bool):
        assert_close(cr.tensor([1, 0], dtype=pytype), torch.tensor([1, 0], dtype=pytype))


@pytest.mark.parametrize("expr", ["L.zeros(0)", "L.zeros(2, 0)", "L.tensor([True])", "L.tensor([True, False])",
                                  "L.tensor(3)", "L.tensor([[1, 2], [3, 4]])", "L.tensor([-1.5, 2.0])",
                                  "L.tensor([1.0, 2.0]).sum()", "L.zeros(0, dtype=L.int64)",
                                  "L.tensor([1, 2], dtype=L.int32)", "L.tensor([[1.5, 2.25], [3.125, 4.0]])"])
def test_repr_matches_torch(expr):
    assert repr(eval(expr, {"L": cr})) == repr(eval(expr, {"L": torch})).replace("torch.", "chainrule.")


def test_augmented_assignment_is_in_place_like_torch():
    for lib in (cr, torch):
        w = lib.ones(2, requires_grad=True)
        (w * 2).sum().backward()
        before = w
        with lib.no_grad():
            w -= 0.1 * w.grad
            w *= 2
            w /= 4
            w += 1
        assert w is before and w.is_leaf and w.requires_grad
        assert np.allclose(w.detach().numpy(), 1.4)
        with pytest.raises(RuntimeError):
            w += 1
        y = w * 2
        y += w
        y.sum().backward()
        assert np.allclose(w.grad.numpy(), 5.0)


def test_recorded_inplace_keeps_dtype_and_shape():
    for lib in (cr, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        y.add_(lib.ones(3, dtype=lib.float64))
        assert y.dtype == lib.float32
        y.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]
        with pytest.raises(RuntimeError, match=r"\[3\].*\[2, 3\]"):
            (x * 2).add_(lib.ones(2, 3))
