"""torch's ``out=`` keyword (function variants, factories, tuple results) and the module-level in-place
functions (``torch.sin_(t)``), each against torch: the returned object is ``out``, values and dtypes
match, and bad out tensors raise what torch raises. (Found running pytorch/tutorials' tensor tutorials.)"""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.functional

RNG = np.random.default_rng(3)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((3, 4)).astype(np.float32)
M = RNG.standard_normal((4, 2)).astype(np.float32)

OUT_CASES = {  # name: (call(lib, out), out's shape, out's dtype name)
    "add": (lambda L, o: L.add(L.tensor(A), L.tensor(B), out=o), (3, 4), "float32"),
    "mul": (lambda L, o: L.mul(L.tensor(A), 2, out=o), (3, 4), "float32"),
    "matmul": (lambda L, o: L.matmul(L.tensor(A), L.tensor(M), out=o), (3, 2), "float32"),
    "exp into float64": (lambda L, o: L.exp(L.tensor(A), out=o), (3, 4), "float64"),
    "sum over a dim": (lambda L, o: L.sum(L.tensor(A), 1, out=o), (3,), "float32"),
    "cat": (lambda L, o: L.cat([L.tensor(A), L.tensor(B)], out=o), (6, 4), "float32"),
    "stack": (lambda L, o: L.stack([L.tensor(A), L.tensor(B)], out=o), (2, 3, 4), "float32"),
    "int add into float": (lambda L, o: L.add(L.tensor([1, 2]), L.tensor([3, 4]), out=o), (2,), "float32"),
    "zeros": (lambda L, o: L.zeros(2, 3, out=o), (2, 3), "float32"),
    "ones int64": (lambda L, o: L.ones(2, out=o), (2,), "int64"),
    "full": (lambda L, o: L.full((2, 2), 7.0, out=o), (2, 2), "float64"),
    "arange": (lambda L, o: L.arange(5, out=o), (5,), "int64"),
    "linspace": (lambda L, o: L.linspace(0, 1, 5, out=o), (5,), "float32"),
    "eye": (lambda L, o: L.eye(3, out=o), (3, 3), "float32"),
}


@pytest.mark.parametrize("name", OUT_CASES)
@pytest.mark.parametrize("resize", [False, True], ids=["same shape", "empty out resized"])
def test_out_writes_into_the_given_tensor_like_torch(name, resize):
    call, shape, dtype = OUT_CASES[name]
    got = []
    for lib in (torch, cr):
        out = lib.zeros(0 if resize else shape, dtype=getattr(lib, dtype))
        before = out if resize else out.view(-1)  # a view shares the memory written into
        res = call(lib, out)
        assert res is out
        if not resize:
            assert np.array_equal(before.numpy().reshape(shape), out.numpy())
        got.append((out.numpy().copy(), str(out.dtype).split(".")[-1], tuple(out.shape)))
    (t, t_dtype, t_shape), (c, c_dtype, c_shape) = got
    assert (c_dtype, c_shape) == (t_dtype, t_shape)
    np.testing.assert_allclose(c, t, rtol=1e-6)


def test_out_of_another_shape_is_resized_with_torchs_warning():
    for lib in (torch, cr):
        out = lib.zeros(2, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.add(lib.tensor(A), 1, out=out)
        assert tuple(out.shape) == (3, 4)
        assert any("was resized" in str(w.message) for w in caught), lib.__name__


def test_tuple_out_for_values_and_indices():
    got = []
    for lib in (torch, cr):
        values, indices = lib.empty(3), lib.empty(3, dtype=lib.int64)
        res = lib.max(lib.tensor(A), 1, out=(values, indices))
        assert res[0] is values and res[1] is indices
        got.append((values.numpy().copy(), indices.numpy().copy()))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])


@pytest.mark.parametrize("call, exc, words", [
    (lambda L: L.add(L.ones(2), L.ones(2), out=L.zeros(2, dtype=L.int64)), RuntimeError, ["can't be cast", "Int64"]),
    (lambda L: L.exp(L.ones(2), out=L.zeros(2, dtype=L.bool)), RuntimeError, ["can't be cast"]),
    (lambda L: L.add(L.ones(2, requires_grad=True), 1, out=L.zeros(2)), RuntimeError,
     ["add()", "out=", "automatic differentiation"]),
    (lambda L: L.mul(L.ones(2), 2, out=L.zeros(2, requires_grad=True)), RuntimeError, ["automatic differentiation"]),
    (lambda L: L.add(L.ones(2), 1, out=[0.0, 0.0]), TypeError, ["out", "Tensor", "list"]),
    (lambda L: L.max(L.ones(2, 2), 1, out=L.zeros(2)), TypeError, ["out", "tuple"]),
])
def test_bad_out_raises_like_torch(call, exc, words):
    with pytest.raises(exc):
        call(torch)
    with pytest.raises(exc) as info:
        call(cr)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_factory_out_with_requires_grad_makes_out_require_grad_like_torch():
    for lib in (torch, cr):
        out = lib.zeros(2)
        assert lib.ones(2, out=out, requires_grad=True) is out and out.requires_grad


def test_out_under_no_grad_with_grad_inputs_is_allowed():
    for lib in (torch, cr):
        x, out = lib.ones(2, requires_grad=True), lib.zeros(2)
        with lib.no_grad():
            lib.mul(x, 3, out=out)
        assert out.tolist() == [3.0, 3.0] and not out.requires_grad


@pytest.mark.parametrize("name", ["sin_", "exp_", "relu_", "sigmoid_", "abs_", "neg_", "sqrt_", "zero_",
                                  "clamp_", "round_", "floor_", "tanh_"])
def test_module_level_inplace_functions_like_torch(name):
    args = {"clamp_": (-0.5, 0.5)}.get(name, ())
    data = np.abs(A) if name == "sqrt_" else A
    got = []
    for lib in (torch, cr):
        t = lib.tensor(data)
        alias = t.view(-1)
        res = getattr(lib, name)(t, *args)
        assert res is t
        got.append(alias.numpy().copy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-6, atol=1e-7)


def test_module_level_inplace_function_on_a_leaf_that_requires_grad_raises_like_torch():
    for lib in (torch, cr):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            lib.sin_(lib.ones(2, requires_grad=True))


def test_torch_functional_module_names():
    x, y = np.arange(3.0), np.arange(2.0)
    for name, args in [("meshgrid", (x, y)), ("cartesian_prod", (x, y)), ("atleast_2d", (x,)),
                       ("block_diag", (x[None], y[None]))]:
        t = getattr(torch.functional, name)(*(torch.tensor(a) for a in args), **(
            {"indexing": "ij"} if name == "meshgrid" else {}))
        c = getattr(cr.functional, name)(*(cr.tensor(a) for a in args), **(
            {"indexing": "ij"} if name == "meshgrid" else {}))
        for tt, cc in zip(t if isinstance(t, (tuple, list)) else [t], c if isinstance(c, (tuple, list)) else [c]):
            np.testing.assert_array_equal(cc.numpy(), tt.numpy())
    assert set(cr.functional.__all__) <= set(torch.functional.__all__)
