"""The op table on the GPU: every torch-comparison variant of tests/test_op_table.py run on CUDA
(CuPy) against the same variant on the CPU (which that file checks against torch): value, dtype
and every input gradient for one random upstream gradient.

Marked ``cuda`` (the default run deselects it): ``python -m pytest -m cuda tests/test_cuda_op_table.py``
on a machine with an NVIDIA GPU and CuPy. The variants build their constants with ``L.tensor``,
so the GPU run makes CUDA the default device.
"""
import functools

import numpy as np
import pytest

import chainrule as cr
from test_op_table import CASES, _float32

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not cr.cuda.is_available(), reason="needs an NVIDIA GPU and CuPy")]

TOL = dict(rtol=2e-4, atol=2e-5)


def _run(case, arrays, device, upstream_seed=0):
    cr.set_default_device(device)
    try:
        inputs = [cr.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = functools.partial(case.fn, cr)(*inputs)
        grads = []
        if out.requires_grad:
            rng = np.random.default_rng(upstream_seed)
            up = rng.standard_normal(out.shape).astype(out.detach().cpu().numpy().dtype)
            out.backward(cr.tensor(up))
            grads = [None if t.grad is None else t.grad.cpu().numpy() for t in inputs]
        return out.detach().cpu().numpy(), grads
    finally:
        cr.set_default_device(None)


@pytest.mark.parametrize("op", sorted(n for n, vs in CASES.items() if any(v.vs_torch for v in vs)))
def test_op_on_cuda_matches_cpu(op):
    for case in CASES[op]:
        if not case.vs_torch:
            continue
        arrays = [_float32(a) for a in case.arrays]
        cpu_out, cpu_grads = _run(case, arrays, "cpu")
        gpu_out, gpu_grads = _run(case, arrays, "cuda")
        what = f"{op} [{case.label}]"
        assert gpu_out.dtype == cpu_out.dtype and gpu_out.shape == cpu_out.shape, \
            f"{what}: {gpu_out.dtype}{gpu_out.shape} on CUDA, {cpu_out.dtype}{cpu_out.shape} on the CPU"
        np.testing.assert_allclose(gpu_out, cpu_out, err_msg=what, **TOL)
        assert len(gpu_grads) == len(cpu_grads), what
        for i, (g, c) in enumerate(zip(gpu_grads, cpu_grads)):
            assert (g is None) == (c is None), f"{what}: gradient of input {i} only on one device"
            if c is not None:
                np.testing.assert_allclose(g, c, err_msg=f"{what}: grad of input {i}", **TOL)
