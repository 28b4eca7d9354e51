"""chainrule.backend.compiled: the numba switch (kernels compile lazily; importing chainrule never
imports numba, so start-up does not pay for it)."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.backend import compiled


def test_switch_off_by_environment(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUMBA", "0")
    assert compiled.enabled() is False
    monkeypatch.setenv("CHAINRULE_NUMBA", "1")
    assert compiled.enabled() is (compiled.importlib.util.find_spec("numba") is not None)


def test_importing_chainrule_does_not_import_numba():
    code = "import sys, chainrule, chainrule.nn, chainrule.optim; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("numba", ["1", "0"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_on_large_arrays_matches_torch(numba, dtype, monkeypatch):
    """ReLU's compiled kernels (arrays of 4096+ elements) and the NumPy path: values with nan, inf and
    signed zeros, and a gradient carrying nan/inf where the output is 0 (it must give 0 there)."""
    monkeypatch.setenv("CHAINRULE_NUMBA", numba)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 30, 20)).astype(dtype)
    x.flat[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0]
    g = rng.standard_normal(x.shape).astype(dtype)
    g.flat[2:6] = [np.nan, np.inf, -np.inf, np.nan]  # where relu(x) is -inf -> 0, 0, -0 and -1 -> 0
    outs = []
    for lib in (cr, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.relu(t)
        y.backward(lib.tensor(g))
        outs.append((y.detach().numpy(), t.grad.numpy()))
    (cy, cg), (ty, tg) = outs
    assert cy.dtype == ty.dtype and cg.dtype == tg.dtype
    np.testing.assert_array_equal(cy, ty)
    np.testing.assert_array_equal(cg, tg)
    if numba == "1":  # torch keeps relu(-0.0) = -0.0, as the kernel does; np.maximum gives +0.0
        np.testing.assert_array_equal(np.signbit(cy), np.signbit(ty))


@pytest.mark.parametrize("numba", ["1", "0"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"reduction": "none"}, {"label_smoothing": 0.1, "ignore_index": 2},
                                    {"weight": True, "reduction": "sum"}], ids=str)
def test_cross_entropy_kernel_matches_torch(numba, dtype, kwargs, monkeypatch, caplog):
    """cross_entropy on (M, C) logits: one compiled pass per row forward and backward (numba) and the
    NumPy rule, values and gradients against torch; a -inf logit (a masked class) or a nan row sends
    the kernel's caller back to the rule, which keeps only the terms torch has."""
    monkeypatch.setenv("CHAINRULE_NUMBA", numba)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((37, 7)).astype(dtype) * 3
    t = rng.integers(0, 7, 37)
    w = rng.uniform(0.5, 2, 7).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-12)
    for masked in (False, True):
        if masked:
            x[3, 1] = -np.inf
            t[3] = 0
        outs = []
        for lib in (cr, torch):
            kw = dict(kwargs, weight=lib.tensor(w)) if "weight" in kwargs else kwargs
            a = lib.tensor(x, requires_grad=True)
            loss = lib.nn.functional.cross_entropy(a, lib.tensor(t), **kw)
            loss.sum().backward()
            outs.append((loss.detach().numpy(), a.grad.numpy()))
        (cl, cg), (tl, tg) = outs
        assert cl.dtype == tl.dtype and cg.dtype == tg.dtype
        np.testing.assert_allclose(cl, tl, **tol)
        np.testing.assert_allclose(cg, tg, **tol)


def test_cross_entropy_uses_the_kernel_only_where_it_applies(monkeypatch):
    """The compiled pass runs for CPU float logits with numba on; it returns None (the NumPy rule
    runs) without numba and where a log-probability is not finite."""
    from chainrule.backend import NP
    x = np.array([[0.5, 2.0, 1.0], [2.0, 0.1, -0.3]], np.float32)
    coef = np.array([[1, 0, 0], [0, 0.5, 0]], np.float32)
    monkeypatch.setenv("CHAINRULE_NUMBA", "1")
    if compiled.enabled():
        loss, p = NP.softmax_xent(x, coef)
        e = np.exp(x - x.max(1, keepdims=True))
        np.testing.assert_allclose(p, e / e.sum(1, keepdims=True), rtol=1e-6)
        np.testing.assert_allclose(loss, -(coef * np.log(p)).sum(1), rtol=1e-6)
        x[0, 1] = -np.inf
        assert NP.softmax_xent(x, coef) is None
    monkeypatch.setenv("CHAINRULE_NUMBA", "0")
    assert NP.softmax_xent(x, coef) is None and NP.softmax_xent_grad(x[:, 0], x, coef) is None
