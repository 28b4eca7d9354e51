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


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(not _torch_cuda(), reason="needs torch built with CUDA")
def test_against_torch_cuda():
    import torch
    a = rng.standard_normal((64, 32)).astype(np.float32)
    w = rng.standard_normal((16, 32)).astype(np.float32)
    ca, cw = cr.tensor(a, device="cuda", requires_grad=True), cr.tensor(w, device="cuda", requires_grad=True)
    ta, tw = torch.tensor(a, device="cuda", requires_grad=True), torch.tensor(w, device="cuda", requires_grad=True)
    (ca @ cw.T).relu().sum().backward()
    (ta @ tw.T).relu().sum().backward()
    np.testing.assert_allclose(cw.grad.cpu().numpy(), tw.grad.cpu().numpy(), **RTOL)


# ---- layers, losses, optimizers, data, checkpoints and the main job on the GPU --------------

def _layer_cases():
    from test_nn_layers import LAYERS
    return LAYERS


@pytest.mark.parametrize("name", sorted(_layer_cases()))
def test_layer_matches_cpu(name):
    make, shape = _layer_cases()[name]
    cpu = make(cr.nn)
    gpu = make(cr.nn)
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    x = rng.standard_normal(shape).astype(np.float32)
    xc = cr.tensor(x, requires_grad=True)
    xg = cr.tensor(x, device="cuda", requires_grad=True)
    out, gout = cpu(xc), gpu(xg)
    np.testing.assert_allclose(gout.detach().cpu().numpy(), out.detach().numpy(), **RTOL)
    up = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(cr.tensor(up))
    gout.backward(cr.tensor(up, device="cuda"))
    np.testing.assert_allclose(xg.grad.cpu().numpy(), xc.grad.numpy(), **RTOL)
    for (n, p), (_, gp) in zip(cpu.named_parameters(), gpu.named_parameters()):
        assert gp.device.type == "cuda", n
        np.testing.assert_allclose(gp.grad.cpu().numpy(), p.grad.numpy(), err_msg=n, **RTOL)


def test_embedding_and_dropout_on_gpu():
    emb = cr.nn.Embedding(10, 3)
    gemb = cr.nn.Embedding(10, 3)
    gemb.load_state_dict(emb.state_dict())
    gemb.to("cuda")
    idx = rng.integers(0, 10, (4, 5))
    emb(cr.tensor(idx)).sum().backward()
    gemb(cr.tensor(idx, device="cuda")).sum().backward()
    np.testing.assert_allclose(gemb.weight.grad.cpu().numpy(), emb.weight.grad.numpy(), **RTOL)
    drop = cr.nn.Dropout(0.5)
    x = cr.ones(1000, device="cuda")
    kept = drop(x)
    assert kept.device.type == "cuda"
    values = set(np.unique(kept.cpu().numpy()).tolist())
    assert values <= {0.0, 2.0} and 300 < int((kept > 0).sum().item()) < 700
    assert drop.eval()(x) is x or np.array_equal(drop(x).cpu().numpy(), x.cpu().numpy())


LOSSES = {
    "cross_entropy": lambda F, x, t: F.cross_entropy(x, t, weight=None, label_smoothing=0.1),
    "cross_entropy_ignore": lambda F, x, t: F.cross_entropy(x, t, ignore_index=1),
    "nll": lambda F, x, t: F.nll_loss(x.log_softmax(1), t),
    "mse": lambda F, x, t: F.mse_loss(x, x.detach() * 0.5 + 1),
    "l1": lambda F, x, t: F.l1_loss(x, x.detach() * 0.5 + 1),
    "bce_with_logits": lambda F, x, t: F.binary_cross_entropy_with_logits(x, (x.detach() > 0).float()),
    "bce": lambda F, x, t: F.binary_cross_entropy(x.sigmoid(), (x.detach() > 0).float()),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_matches_cpu(name):
    import chainrule.nn.functional as F
    x = rng.standard_normal((6, 4)).astype(np.float32)
    t = rng.integers(0, 4, 6)
    xc, xg = cr.tensor(x, requires_grad=True), cr.tensor(x, device="cuda", requires_grad=True)
    lc = LOSSES[name](F, xc, cr.tensor(t))
    lg = LOSSES[name](F, xg, cr.tensor(t, device="cuda"))
    lc.backward()
    lg.backward()
    np.testing.assert_allclose(lg.item(), lc.item(), **RTOL)
    np.testing.assert_allclose(xg.grad.cpu().numpy(), xc.grad.numpy(), **RTOL)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         ("Adagrad", dict(lr=0.1)), ("RMSprop", dict(lr=0.01, centered=True)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01))])
def test_optimizer_matches_cpu(name, kwargs):
    cpu = cr.nn.Sequential(cr.nn.Linear(5, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    gpu = cr.nn.Sequential(cr.nn.Linear(5, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    x = rng.standard_normal((16, 5)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    for model, dev in ((cpu, "cpu"), (gpu, "cuda")):
        opt = getattr(cr.optim, name)(model.parameters(), **kwargs)
        xb, yb = cr.tensor(x, device=dev), cr.tensor(y, device=dev)
        for _ in range(10):
            opt.zero_grad()
            cr.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    for (n, p), (_, gp) in zip(cpu.named_parameters(), gpu.named_parameters()):
        np.testing.assert_allclose(gp.detach().cpu().numpy(), p.detach().numpy(), err_msg=n, rtol=1e-4, atol=1e-5)


def test_dataloader_feeds_cuda_tensors():
    from chainrule.utils.data import DataLoader, TensorDataset
    x = cr.arange(20, dtype=cr.float32, device="cuda").reshape(10, 2)
    y = cr.arange(10, device="cuda")
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [tuple(b[0].shape) for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert all(b[0].device.type == "cuda" and b[1].device.type == "cuda" for b in batches)
    np.testing.assert_array_equal(batches[1][1].cpu().numpy(), [4, 5, 6, 7])


def test_save_load_with_map_location(tmp_path):
    model = cr.nn.Linear(3, 2).to("cuda")
    path = tmp_path / "m.safetensors"
    cr.save(model.state_dict(), path)
    on_cpu = cr.load(path, map_location="cpu")
    on_gpu = cr.load(path, map_location="cuda")
    for k, v in model.state_dict().items():
        assert on_cpu[k].device.type == "cpu" and on_gpu[k].device.type == "cuda"
        np.testing.assert_array_equal(on_cpu[k].numpy(), v.cpu().numpy())
        np.testing.assert_array_equal(on_gpu[k].cpu().numpy(), v.cpu().numpy())


def test_written_saved_value_raises_on_gpu():
    w = cr.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    x = cr.tensor([3.0, 4.0], device="cuda")
    y = (w * x).sum()
    with cr.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_train_main_job_on_cuda(tmp_path):
    from chainrule.cli import main
    assert main(["train", "--device", "cuda", "--epochs", "2", "--model", "cnn", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    assert (tmp_path / "checkpoint.safetensors").stat().st_size > 0
    import json
    history = json.loads((tmp_path / "metrics.json").read_text())
    assert history["epochs"][-1]["test_accuracy"] > 0.5
