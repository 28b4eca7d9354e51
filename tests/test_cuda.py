"""CUDA tests: the same ops on the GPU (CuPy) against the CPU results, and against torch CUDA.

Marked ``cuda``: the default run deselects them; run with ``python -m pytest -m cuda`` on a
machine with an NVIDIA GPU and CuPy.
"""
import numpy as np
import pytest

import chainrule as cr

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not cr.cuda.is_available(), reason="needs an NVIDIA GPU and CuPy")]

RTOL = dict(rtol=1e-4, atol=1e-5)
rng = np.random.default_rng(0)


def _pair(*shapes):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    cpu = [cr.tensor(a, requires_grad=True) for a in arrays]
    gpu = [cr.tensor(a, device="cuda", requires_grad=True) for a in arrays]
    return cpu, gpu


OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "matmul": lambda a, b: a @ b.T,
    "exp_log": lambda a, b: (a.exp() + b.abs() + 1).log(),
    "tanh_sigmoid": lambda a, b: a.tanh() * b.sigmoid(),
    "relu_max": lambda a, b: cr.maximum(a.relu(), b),
    "softmax": lambda a, b: a.softmax(1) * b,
    "log_softmax": lambda a, b: a.log_softmax(0) + b,
    "reductions": lambda a, b: a.sum(1, keepdim=True) * b.mean(0) + a.var(1, keepdim=True),
    "max_dim": lambda a, b: a.max(1)[0] + b.amax(1),
    "index": lambda a, b: a[[0, 0, 2], 1:3] * b[1, 1:3],
    "cat_stack": lambda a, b: cr.cat([a, b], 0).sum(0) + cr.stack([a, b], 0).prod(0).sum(0),
    "where": lambda a, b: cr.where(a > b, a, b * 2),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_cpu(name):
    (a, b), (ga, gb) = _pair((4, 5), (4, 5))
    out, gout = OPS[name](a, b), OPS[name](ga, gb)
    assert gout.device == cr.device("cuda:0")
    np.testing.assert_allclose(gout.cpu().detach().numpy(), out.detach().numpy(), **RTOL)
    up = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(cr.tensor(up))
    gout.backward(cr.tensor(up, device="cuda"))
    for c, g in ((a, ga), (b, gb)):
        np.testing.assert_allclose(g.grad.cpu().numpy(), c.grad.numpy(), **RTOL)


def test_create_graph_on_gpu():
    x = cr.tensor([0.5, -1.0, 2.0], device="cuda", requires_grad=True)
    y = (x ** 3).sum()
    (g,) = cr.autograd.grad(y, [x], create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 6 * np.array([0.5, -1.0, 2.0]), rtol=1e-5)


def test_mixing_devices_raises():
    a = cr.ones(3)
    b = cr.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="cuda:0.*cpu|cpu.*cuda:0"):
        a + b


def test_numpy_on_cuda_raises():
    with pytest.raises(TypeError, match="cpu"):
        cr.ones(2, device="cuda").numpy()


def test_against_torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    a = rng.standard_normal((64, 32)).astype(np.float32)
    w = rng.standard_normal((16, 32)).astype(np.float32)
    ca, cw = cr.tensor(a, device="cuda", requires_grad=True), cr.tensor(w, device="cuda", requires_grad=True)
    ta, tw = torch.tensor(a, device="cuda", requires_grad=True), torch.tensor(w, device="cuda", requires_grad=True)
    (ca @ cw.T).relu().sum().backward()
    (ta @ tw.T).relu().sum().backward()
    np.testing.assert_allclose(cw.grad.cpu().numpy(), tw.grad.cpu().numpy(), **RTOL)
