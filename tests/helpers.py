"""One helper to compare any chainrule computation with torch, forward and backward."""
import numpy as np
import pytest
import torch

import chainrule as cr

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-7, atol=1e-9)}
TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64,
               np.dtype(np.int64): torch.int64, np.dtype(np.bool_): torch.bool,
               np.dtype(np.int32): torch.int32}


def torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def compare(cr_fn, torch_fn, arrays, grad=True, seed=0, tol=None, check_dtype=True):
    """Run ``cr_fn(*tensors)`` and ``torch_fn(*tensors)`` on the same NumPy ``arrays``.

    Float arrays require grad (when ``grad``); the output is compared in value and dtype, then
    backpropagated with the same random upstream gradient and every input gradient compared.
    Returns (chainrule output, torch output).
    """
    rng = np.random.default_rng(seed)
    cr_in = [cr.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    th_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out = cr_fn(*cr_in)
    ref = torch_fn(*th_in)
    assert_close(out, ref, tol=tol, check_dtype=check_dtype)
    if grad and ref.requires_grad:
        upstream = rng.standard_normal(ref.shape).astype(ref.detach().numpy().dtype)
        out.backward(cr.tensor(upstream))
        ref.backward(torch.tensor(upstream))
        for i, (c, t) in enumerate(zip(cr_in, th_in)):
            if t.grad is None:
                assert c.grad is None or not np.any(c.grad.numpy()), f"input {i}: torch has no grad"
                continue
            assert c.grad is not None, f"input {i}: chainrule produced no gradient"
            assert_close(c.grad, t.grad, tol=tol, what=f"grad of input {i}")
    return out, ref


def assert_close(out, ref, tol=None, check_dtype=True, what="output"):
    ref_np = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    out_np = out.detach().numpy() if isinstance(out, cr.Tensor) else np.asarray(out)
    if check_dtype:
        assert out_np.dtype == ref_np.dtype, f"{what}: dtype {out_np.dtype} != torch {ref_np.dtype}"
    assert out_np.shape == ref_np.shape, f"{what}: shape {out_np.shape} != torch {ref_np.shape}"
    if ref_np.dtype.kind == "f":
        t = tol or TOL.get(ref_np.dtype.type, TOL[np.float32])
        np.testing.assert_allclose(out_np, ref_np, err_msg=what, **t)
    else:
        np.testing.assert_array_equal(out_np, ref_np, err_msg=what)


def raises_like(cr_fn, torch_fn, *words):
    """Both raise, chainrule an exception of torch's type whose message holds each of ``words``."""
    with pytest.raises(Exception) as ref:
        torch_fn()
    with pytest.raises(ref.type) as ours:
        cr_fn()
    for w in words:
        assert w in str(ours.value), f"{w!r} not in {str(ours.value)!r}"
