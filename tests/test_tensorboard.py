"""chainrule.utils.tensorboard.SummaryWriter writes real event files (read back with tensorboard's own
reader), and cr.viz.grad_stats gives per-layer gradient norms and dead/saturated units by hand."""
import os

import numpy as np
import pytest

import chainrule as cr

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator",
                                        reason="the optional 'tensorboard' extra is not installed")
from chainrule.utils.tensorboard import SummaryWriter  # noqa: E402


def read(path):
    acc = event_accumulator.EventAccumulator(str(path), size_guidance={"images": 0, "histograms": 0,
                                                                      "scalars": 0})
    acc.Reload()
    return acc


def test_scalars_histogram_image_read_back(tmp_path):
    values = np.random.default_rng(0).normal(size=1000).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        assert w.get_logdir() == str(tmp_path)
        for step in range(3):
            w.add_scalar("loss/train", cr.tensor(1.5 / (step + 1)), step)
        w.add_scalar("lr", 0.1, global_step=7, walltime=123.0)
        w.add_scalars("acc", {"train": 0.9, "test": cr.tensor(0.8)}, 2)
        w.add_histogram("weights", cr.tensor(values), 5, bins=10)
        w.add_image("digit", np.linspace(0, 1, 3 * 4 * 5).reshape(3, 4, 5), 1)
        w.add_image("gray", (np.arange(12).reshape(3, 4) * 20).astype(np.uint8), 1, dataformats="HW")
        w.flush()
    acc = read(tmp_path)
    loss = acc.Scalars("loss/train")
    assert [e.step for e in loss] == [0, 1, 2]
    assert np.allclose([e.value for e in loss], [1.5, 0.75, 0.5])
    lr = acc.Scalars("lr")[0]
    assert lr.step == 7 and lr.wall_time == 123.0 and np.isclose(lr.value, 0.1)
    for tag, v in (("train", 0.9), ("test", 0.8)):
        sub = read(tmp_path / f"acc_{tag}").Scalars("acc")
        assert sub[0].step == 2 and np.isclose(sub[0].value, v)
    h = acc.Histograms("weights")[0]
    counts, edges = np.histogram(values.astype(np.float64), bins=10)
    assert h.step == 5 and h.histogram_value.num == 1000
    assert np.isclose(h.histogram_value.min, values.min()) and np.isclose(h.histogram_value.max, values.max())
    assert np.allclose(h.histogram_value.bucket, counts) and np.allclose(h.histogram_value.bucket_limit, edges[1:])
    assert np.isclose(h.histogram_value.sum_squares, float((values.astype(np.float64) ** 2).sum()))
    img = acc.Images("digit")[0]
    assert (img.width, img.height, img.step) == (5, 4, 1) and img.encoded_image_string.startswith(b"\x89PNG")
    from PIL import Image
    import io
    decoded = np.asarray(Image.open(io.BytesIO(img.encoded_image_string)))
    expected = (np.linspace(0, 1, 60).reshape(3, 4, 5).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(decoded, expected)
    gray = np.asarray(Image.open(io.BytesIO(acc.Images("gray")[0].encoded_image_string)))
    assert np.array_equal(gray, np.arange(12).reshape(3, 4) * 20)


def test_add_graph_and_errors(tmp_path):
    nn = cr.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    w = SummaryWriter(str(tmp_path))
    w.add_graph(model, cr.randn(2, 3))
    with pytest.raises(NotImplementedError, match="input_to_model"):
        w.add_graph(model)
    with pytest.raises(ValueError, match="one element"):
        w.add_scalar("x", cr.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="dataformats"):
        w.add_image("x", np.zeros((3, 4)), dataformats="CHW")
    with pytest.raises(ValueError, match="NaN"):
        w.add_histogram("x", np.array([1.0, np.nan]))
    w.close()
    w.close()  # twice is fine, as in torch
    with pytest.raises(RuntimeError, match="closed"):
        w.add_scalar("x", 1.0)
    graph = read(tmp_path).Graph()
    ops = {n.name: n for n in graph.node}
    assert sum(n.op == "Parameter" for n in graph.node) == 4
    linear = [n for n in graph.node if n.op == "Linear"]
    relu = [n for n in graph.node if n.op == "Relu"]
    assert len(linear) == 2 and len(relu) == 1 and linear[0].name.startswith("0/")
    assert relu[0].input == [linear[0].name] and relu[0].name in ops[linear[1].name].input


def test_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_run") as w:
        w.add_scalar("a", 1.0, 0)
    (run,) = os.listdir(tmp_path / "runs")
    assert run.endswith("_run") and any(f.startswith("events.out.tfevents") for f in os.listdir(tmp_path / "runs" / run))


def test_grad_stats_by_hand():
    nn = cr.nn
    lin1, lin2 = nn.Linear(2, 3), nn.Linear(3, 1)
    model = nn.Sequential(lin1, nn.ReLU(), lin2, nn.Sigmoid())
    with cr.no_grad():
        lin1.weight.copy_(cr.tensor([[1.0, 0.0], [-1.0, -1.0], [0.0, 10.0]]))
        lin1.bias.copy_(cr.tensor([0.0, -5.0, 0.0]))
        lin2.weight.copy_(cr.tensor([[1.0, 2.0, 1.0]]))
        lin2.bias.copy_(cr.tensor([-3.0]))
    x = np.array([[1.0, 2.0], [3.0, -1.0]], dtype=np.float32)
    rec = cr.viz.record_activations(model)
    model(cr.tensor(x)).sum().backward()
    stats = cr.viz.grad_stats(model, rec)
    rec.remove()
    # by hand: h = relu(x W1^T + b1); unit 1 is -x1 - x2 - 5 < 0 for both rows: dead
    pre = x @ np.array([[1, 0], [-1, -1], [0, 10]]).T + np.array([0, -5, 0])
    h = np.maximum(pre, 0)                       # [[1, 0, 20], [3, 0, 0]]
    z = h @ np.array([1.0, 2.0, 1.0]) - 3        # [18, 0]
    s = 1 / (1 + np.exp(-z))
    gz = s * (1 - s)                              # d sum(sigmoid)/dz
    gw2, gb2 = gz @ h, gz.sum()
    gh = np.outer(gz, [1.0, 2.0, 1.0]) * (pre > 0)
    gw1, gb1 = gh.T @ x, gh.sum(0)
    assert stats["grad_norm"].keys() == {"0", "2"}
    assert np.isclose(stats["grad_norm"]["0"], np.sqrt((gw1 ** 2).sum() + (gb1 ** 2).sum()), rtol=1e-5)
    assert np.isclose(stats["grad_norm"]["2"], np.sqrt((gw2 ** 2).sum() + gb2 ** 2), rtol=1e-5)
    assert stats["dead_relu"] == {"1": pytest.approx(1 / 3)}      # unit 1 only (unit 2 fires for row 0)
    assert stats["saturated"] == {"3": pytest.approx(1 / 2)}      # s(18) > 0.95, s(0) = 0.5 is not
    model(cr.tensor(x))  # hooks removed: nothing recorded any more
    assert cr.viz.grad_stats(model)["dead_relu"] == {}


def test_grad_stats_tanh_and_no_grads():
    nn = cr.nn
    model = nn.Sequential(nn.Linear(1, 2), nn.Tanh())
    with cr.no_grad():
        model[0].weight.copy_(cr.tensor([[10.0], [0.1]]))
        model[0].bias.zero_()
    with cr.viz.record_activations(model) as rec:
        model(cr.tensor([[1.0]]))
    stats = cr.viz.grad_stats(model, rec)
    assert stats["grad_norm"] == {} and stats["saturated"] == {"1": 0.5}  # tanh(10) ~ 1: saturated
