"""chainrule.nn.init against torch.nn.init: the statistics of what each initialiser draws (mean,
std, bounds on the same shapes), the exact structure of eye_/dirac_/orthogonal_/sparse_, gains,
errors and warnings (type and message), the generator keyword, and that every initialiser returns
the tensor it was given and works in grad mode on a leaf that requires grad."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.nn import init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                  "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def _both(name, shape, *args, dtype="float32", **kwargs):
    """Run init.<name> on a fresh chainrule and a fresh torch tensor of ``shape``; their values."""
    torch.manual_seed(0)
    c = cr.empty(*shape, dtype=getattr(cr, dtype))
    t = torch.empty(*shape, dtype=getattr(torch, dtype))
    out_c = getattr(init, name)(c, *args, **kwargs)
    out_t = getattr(torch.nn.init, name)(t, *args, **kwargs)
    assert out_c is c and out_t is t
    assert c.dtype == getattr(cr, dtype)
    return c.numpy().astype(np.float64), t.numpy().astype(np.float64)


def _assert_same_distribution(a, b, spread, bounded):
    """mean and std within 4% of the spread; for bounded draws also the same range, to 3%."""
    assert abs(a.mean() - b.mean()) < 0.04 * spread, (a.mean(), b.mean())
    assert abs(a.std() - b.std()) < 0.04 * spread, (a.std(), b.std())
    if bounded:
        assert abs(a.min() - b.min()) < 0.03 * spread and abs(a.max() - b.max()) < 0.03 * spread, \
            (a.min(), b.min(), a.max(), b.max())


# ---- statistics ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, args, kwargs", [
    ("uniform_", (), {}),
    ("uniform_", (-3.0, 5.0), {}),
    ("normal_", (), {"mean": 2.0, "std": 0.5}),
    ("trunc_normal_", (), {}),                                             # normal redraws (p > 0.3)
    ("trunc_normal_", (), {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 1.5}),
    ("trunc_normal_", (), {"mean": 0.0, "std": 1.0, "a": 1.0, "b": 3.0}),  # uniform proposals (p < 0.3)
    ("xavier_uniform_", (), {"gain": 2.0}),
    ("xavier_normal_", (), {"gain": 0.5}),
])
@pytest.mark.parametrize("shape", [(200, 150), (32, 16, 3, 3)])
def test_random_initialisers_match_torch_statistics(name, args, kwargs, shape):
    c, t = _both(name, shape, *args, **kwargs)
    _assert_same_distribution(c, t, t.std(), bounded="uniform" in name)
    if name == "uniform_":
        lo, hi = args or (0.0, 1.0)
        assert lo <= c.min() and c.max() <= hi
    if name == "trunc_normal_":
        assert kwargs.get("a", -2.0) <= c.min() and c.max() <= kwargs.get("b", 2.0)
    if name == "xavier_uniform_":
        fan_in, fan_out = shape[1] * int(np.prod(shape[2:])), shape[0] * int(np.prod(shape[2:]))
        bound = kwargs["gain"] * math.sqrt(6.0 / (fan_in + fan_out))
        assert np.abs(c).max() <= bound * (1 + 1e-6)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_OUT"])
@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_every_mode_and_nonlinearity_like_torch(name, mode, nonlinearity):
    a = 0.2 if nonlinearity == "leaky_relu" else 0
    c, t = _both(name, (48, 20, 3, 3), a=a, mode=mode, nonlinearity=nonlinearity)
    fan = 20 * 9 if mode == "fan_in" else 48 * 9
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    _assert_same_distribution(c, t, std, bounded="uniform" in name)
    assert abs(c.std() - std) < 0.04 * std
    if name == "kaiming_uniform_":
        assert np.abs(c).max() <= math.sqrt(3.0) * std * (1 + 1e-6)


def test_float64_and_float16_keep_their_dtype():
    c, t = _both("normal_", (100, 100), 1.0, 3.0, dtype="float64")
    _assert_same_distribution(c, t, 3.0, bounded=False)
    c, t = _both("uniform_", (100, 100), -1.0, 1.0, dtype="float16")
    _assert_same_distribution(c, t, 0.6, bounded=True)


def test_calculate_gain_every_nonlinearity_like_torch():
    for nl in NONLINEARITIES:
        got, want = init.calculate_gain(nl), torch.nn.init.calculate_gain(nl)
        assert got == want and type(got) is type(want), nl
    for param in [None, 0, 1, 0.2, -0.5, np.float64(0.3)]:
        assert init.calculate_gain("leaky_relu", param) == torch.nn.init.calculate_gain("leaky_relu", param)
    assert init.calculate_gain("relu", "ignored") == torch.nn.init.calculate_gain("relu", "ignored")


# ---- exact structure -------------------------------------------------------------------------------

def test_constant_ones_zeros_exact():
    for name, args in [("constant_", (0.3,)), ("constant_", (cr.tensor(2.5),)), ("ones_", ()), ("zeros_", ())]:
        targs = tuple(torch.tensor(a.item()) if isinstance(a, cr.Tensor) else a for a in args)
        c, t = cr.empty(3, 4), torch.empty(3, 4)
        assert getattr(init, name)(c, *args) is c
        getattr(torch.nn.init, name)(t, *targs)
        np.testing.assert_array_equal(c.numpy(), t.numpy())
    c, t = cr.zeros(3, dtype=cr.int64), torch.zeros(3, dtype=torch.int64)
    init.constant_(c, 2.7), torch.nn.init.constant_(t, 2.7)
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 6)])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_eye_exact(shape, dtype):
    c, t = cr.empty(*shape, dtype=getattr(cr, dtype)), torch.empty(*shape, dtype=getattr(torch, dtype))
    assert init.eye_(c) is c
    torch.nn.init.eye_(t)
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 2, 5), 1), ((2, 5, 4), 1), ((6, 3, 3, 3), 2),
                                           ((4, 4, 2, 3), 2), ((6, 1, 3, 3, 3), 3), ((4, 3, 2, 2, 2), 1)])
def test_dirac_exact(shape, groups):
    c, t = cr.empty(*shape), torch.empty(*shape)
    assert init.dirac_(c, groups=groups) is c
    torch.nn.init.dirac_(t, groups=groups)
    np.testing.assert_array_equal(c.numpy(), t.numpy())
    x = np.random.default_rng(0).standard_normal((1, shape[1] * groups, 5, 5)).astype(np.float32)
    if len(shape) == 4 and groups == 1 and shape[0] >= shape[1]:  # a Dirac conv passes the input through
        out = cr.nn.functional.conv2d(cr.tensor(x), c, padding=shape[2] // 2).numpy()
        np.testing.assert_allclose(out[:, :shape[1]], x, atol=1e-6)


@pytest.mark.parametrize("shape, gain", [((6, 4), 1.0), ((4, 6), 1.0), ((5, 5), 2.0), ((8, 3, 2, 2), 0.5),
                                         ((3, 4, 2), 1.0)])
def test_orthogonal_is_orthogonal_like_torch(shape, gain):
    c, t = _both("orthogonal_", shape, gain=gain)
    rows = shape[0]
    for a in (c.reshape(rows, -1), t.reshape(rows, -1)):
        gram = a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T
        np.testing.assert_allclose(gram, gain ** 2 * np.eye(gram.shape[0]), atol=1e-5)


def test_orthogonal_applies_torchs_sign_fix():
    """Q times the signs of R's diagonal: reproduced from the same draw with a numpy Generator."""
    for shape in [(5, 3), (3, 5), (4, 4)]:
        c = cr.empty(*shape)
        init.orthogonal_(c, generator=np.random.default_rng(7))
        sample = np.random.default_rng(7).standard_normal(shape).astype(np.float32).astype(np.float64)
        flat = sample.T if shape[0] < shape[1] else sample
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        np.testing.assert_allclose(c.numpy(), q.T if shape[0] < shape[1] else q, atol=1e-6)
        # with the fix, R = Q^T A has a positive diagonal
        assert np.all(np.diag(q.T @ flat) > 0)


@pytest.mark.parametrize("shape, sparsity", [((10, 30), 0.3), ((7, 50), 0.5), ((6, 4), 0.0), ((5, 3), 1.0),
                                             ((5, 3), 1.5), ((8, 20), -0.2)])
def test_sparse_zero_counts_per_column_like_torch(shape, sparsity):
    c, t = _both("sparse_", shape, sparsity, std=0.5)
    zeros_c, zeros_t = (c == 0).sum(axis=0), (t == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros_c, zeros_t)
    # torch zeroes randperm(rows)[:ceil(sparsity * rows)] per column: Python slicing, so a negative
    # sparsity zeroes all but the last few rows of the permutation
    assert np.all(zeros_c == len(range(shape[0])[:math.ceil(sparsity * shape[0])]))
    nz = c[c != 0]
    if nz.size >= 100:
        assert abs(nz.std() - 0.5) < 0.1


def test_sparse_zero_rows_differ_between_columns():
    c = init.sparse_(cr.empty(20, 40), 0.5).numpy()
    patterns = {tuple(np.flatnonzero(c[:, j] == 0)) for j in range(40)}
    assert len(patterns) > 30


# ---- grad mode, identity, views ----------------------------------------------------------------------

CALLS = [("uniform_", ()), ("normal_", ()), ("trunc_normal_", ()), ("constant_", (0.5,)), ("ones_", ()),
         ("zeros_", ()), ("eye_", ()), ("xavier_uniform_", ()), ("xavier_normal_", ()), ("kaiming_uniform_", ()),
         ("kaiming_normal_", ()), ("orthogonal_", ()), ("sparse_", (0.25,)), ("dirac_", ())]


@pytest.mark.parametrize("name, args", CALLS)
@pytest.mark.parametrize("make", ["parameter", "leaf"])
def test_returns_same_tensor_in_grad_mode_on_leaf_requiring_grad(name, args, make):
    shape = (4, 4, 3) if name == "dirac_" else (6, 4)
    tt = torch.nn.Parameter(torch.empty(*shape)) if make == "parameter" else torch.empty(*shape, requires_grad=True)
    assert getattr(torch.nn.init, name)(tt, *args) is tt and tt.is_leaf and tt.grad_fn is None
    c = cr.nn.Parameter(cr.empty(*shape)) if make == "parameter" else cr.empty(*shape, requires_grad=True)
    assert cr.is_grad_enabled()
    out = getattr(init, name)(c, *args)
    assert out is c and c.is_leaf and c.grad_fn is None and c.requires_grad
    assert cr.is_grad_enabled()
    (c * 3.0).sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), np.full(shape, 3.0, np.float32))


def test_initialising_a_view_writes_through_to_the_leaf():
    w = cr.nn.Parameter(cr.zeros(3, 4))
    tw = torch.nn.Parameter(torch.zeros(3, 4))
    init.ones_(w[1])
    torch.nn.init.ones_(tw[1])
    init.constant_(w[:, 2], 5.0)
    torch.nn.init.constant_(tw[:, 2], 5.0)
    np.testing.assert_array_equal(w.detach().numpy(), tw.detach().numpy())
    assert w.is_leaf and w.grad_fn is None


# ---- generator ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, args", [(n, a) for n, a in CALLS if n in (
    "uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "orthogonal_", "sparse_")])
def test_generator_keyword(name, args):
    fn = getattr(init, name)
    a = fn(cr.empty(6, 5), *args, generator=np.random.default_rng(3)).numpy()
    cr.manual_seed(123)
    b = fn(cr.empty(6, 5), *args, generator=np.random.default_rng(3)).numpy()
    np.testing.assert_array_equal(a, b)                      # the generator alone decides the values
    assert fn(cr.empty(6, 5), *args, generator=None).shape == (6, 5)
    for bad in (torch.Generator(), 5, "seed"):
        with pytest.raises(TypeError, match=r"argument 'generator' must be None or a chainrule.Generator"):
            fn(cr.empty(6, 5), *args, generator=bad)
        with pytest.raises(TypeError, match=r"argument 'generator' must be"):
            getattr(torch.nn.init, name)(torch.empty(6, 5), *args, generator=5)


def test_default_generator_follows_manual_seed():
    for name, args in CALLS:
        shape = (4, 4, 3) if name == "dirac_" else (6, 4)
        cr.manual_seed(5)
        a = getattr(init, name)(cr.empty(*shape), *args).numpy()
        cr.manual_seed(5)
        np.testing.assert_array_equal(a, getattr(init, name)(cr.empty(*shape), *args).numpy())


# ---- errors and warnings -----------------------------------------------------------------------------

def _empty(lib, shape, dtype="float32"):
    return lib.empty(*shape, dtype=getattr(lib, dtype))


ERRORS = [
    ("uniform_", (3, 4), (1.0, 0.0), {}, "float32"),
    ("uniform_", (3, 4), (0.0, math.inf), {}, "float32"),
    ("uniform_", (3, 4), (math.nan, 1.0), {}, "float32"),
    ("uniform_", (3, 4), (-1e39, 0.0), {}, "float32"),
    ("uniform_", (3, 4), (0.0, 70000.0), {}, "float16"),
    ("uniform_", (3, 4), (-3e38, 3e38), {}, "float32"),
    ("uniform_", (3, 4), (-60000.0, 60000.0), {}, "float16"),
    ("uniform_", (3, 4), (-1.7e308, 1.7e308), {}, "float64"),
    ("uniform_", (3, 4), (0.0, math.inf), {}, "float64"),
    ("uniform_", (3,), (), {}, "int64"),
    ("uniform_", (3,), (), {}, "bool"),
    ("normal_", (3, 4), (0.0, -1.0), {}, "float32"),
    ("normal_", (3, 4), (0.0, math.nan), {}, "float32"),
    ("normal_", (3,), (), {}, "int32"),
    ("normal_", (3,), (), {}, "uint8"),
    ("trunc_normal_", (3, 4), (), {"std": 0.0}, "float32"),
    ("trunc_normal_", (3, 4), (), {"a": 2.0, "b": -2.0}, "float32"),
    ("trunc_normal_", (3,), (), {}, "int64"),
    ("constant_", (3, 4), (cr.tensor([1.0, 2.0]),), {}, "float32"),
    ("eye_", (2, 2, 2), (), {}, "float32"),
    ("eye_", (2,), (), {}, "float32"),
    ("dirac_", (2, 2), (), {}, "float32"),
    ("dirac_", (2, 2, 2, 2, 2, 2), (), {}, "float32"),
    ("dirac_", (3, 2, 3), (), {"groups": 2}, "float32"),
    ("dirac_", (3, 2, 3), (), {"groups": 0}, "float32"),
    ("xavier_uniform_", (3,), (), {}, "float32"),
    ("xavier_normal_", (0, 0), (), {}, "float32"),
    ("kaiming_uniform_", (3, 4), (), {"mode": "bad"}, "float32"),
    ("kaiming_uniform_", (3,), (), {"mode": "bad"}, "float32"),
    ("kaiming_normal_", (3, 4), (), {"mode": None}, "float32"),
    ("kaiming_normal_", (3, 4), (), {"nonlinearity": "gelu"}, "float32"),
    ("kaiming_normal_", (3, 4), (), {"a": "x"}, "float32"),
    ("kaiming_normal_", (3, 4), (), {"a": True}, "float32"),
    ("kaiming_uniform_", (3,), (), {}, "float32"),
    ("orthogonal_", (3,), (), {}, "float32"),
    ("orthogonal_", (2, 3), (), {}, "int64"),
    ("sparse_", (2, 3, 4), (0.1,), {}, "float32"),
    ("sparse_", (2, 3), (0.1,), {"std": -1.0}, "float32"),
]


@pytest.mark.parametrize("name, shape, args, kwargs, dtype", ERRORS)
def test_errors_like_torch(name, shape, args, kwargs, dtype):
    targs = tuple(torch.tensor(a.tolist()) if isinstance(a, cr.Tensor) else a for a in args)
    with pytest.raises(Exception) as want:
        getattr(torch.nn.init, name)(_empty(torch, shape, dtype), *targs, **kwargs)
    with pytest.raises(want.type) as got:
        getattr(init, name)(_empty(cr, shape, dtype), *args, **kwargs)
    assert str(got.value) == str(want.value)


def test_gain_errors_like_torch():
    for args in [("gelu",), ("leaky_relu", "a"), ("leaky_relu", True), ("leaky_relu", np.float32(0.1)), ("Relu",)]:
        with pytest.raises(ValueError) as want:
            torch.nn.init.calculate_gain(*args)
        with pytest.raises(ValueError) as got:
            init.calculate_gain(*args)
        assert str(got.value) == str(want.value)


def test_constant_refuses_what_torch_refuses():
    with pytest.raises(TypeError, match=r"fill_\(\) received an invalid combination of arguments - got \(str\)"):
        torch.nn.init.constant_(torch.empty(2), "a")
    with pytest.raises(TypeError, match=r"fill_\(\) received an invalid combination of arguments - got \(str\)"):
        init.constant_(cr.empty(2), "a")


def test_warnings_like_torch():
    for name, shape, kwargs, text in [
            ("trunc_normal_", (3, 4), {"mean": 10.0}, "mean is more than 2 std from [a, b]"),
            ("kaiming_uniform_", (0, 3), {}, "Initializing zero-element tensors is a no-op"),
            ("kaiming_normal_", (0,), {}, "Initializing zero-element tensors is a no-op")]:
        for lib, mod in ((torch, torch.nn.init), (cr, init)):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                getattr(mod, name)(lib.empty(*shape), **kwargs)
            assert [str(w.message) for w in caught if text in str(w.message)], (lib, name)
            if lib is cr:  # pointing at the caller's line
                assert all(w.filename == __file__ for w in caught), [w.filename for w in caught]


def test_no_op_cases_like_torch():
    for name in ["orthogonal_", "xavier_normal_"]:
        c = cr.zeros(0, 3)
        assert getattr(init, name)(c) is c and c.shape == (0, 3)


def test_deprecated_aliases_warn_like_torch():
    for old in ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                "kaiming_normal", "orthogonal", "sparse"]:
        args = {"constant": (1.0,), "sparse": (0.5,)}.get(old, ())
        shape = (4, 4, 3) if old == "dirac" else (4, 3)
        with pytest.warns(FutureWarning) as want:
            getattr(torch.nn.init, old)(torch.empty(*shape), *args)
        with pytest.warns(FutureWarning) as got:
            out = getattr(init, old)(c := cr.empty(*shape), *args)
        assert out is c and str(got[0].message) == str(want[0].message)
    assert sorted(init.__all__) == sorted(torch.nn.init.__all__)
