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
