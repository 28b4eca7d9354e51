"""cr.onnx.export (issue 15): onnx.checker accepts the file and onnxruntime matches chainrule
(float32 rtol 1e-4) for each layer and for an MLP, LeNet, the ResNet-style CNN and a transformer
encoder layer, with a dynamic batch axis; ops with no mapping are refused by name and module
path; ``chainrule export RUN_DIR``."""
import io

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.models import MLP, CNN

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

DYN = {"x": {0: "batch"}, "y": {0: "batch"}}


def _rng(seed=0):
    return np.random.default_rng(seed)


def _session(model, example, dynamic=True, **kw):
    f = io.BytesIO()
    proto = cr.onnx.export(model, example, f, input_names=[f"x{i}" if i else "x" for i in range(len(example))],
                           output_names=["y"], dynamic_axes=DYN if dynamic else None, **kw)
    onnx.checker.check_model(proto)
    return ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"]), proto


def _check(model, shape, batches=(2, 5), dtype=np.float32, high=None, rtol=1e-4, atol=1e-5):
    """Export at batch ``batches[0]`` with a dynamic batch axis; onnxruntime == chainrule at every batch."""
    def make(n, seed):
        s = (n,) + tuple(shape[1:])
        if high is not None:
            return _rng(seed).integers(0, high, s)
        return _rng(seed).standard_normal(s).astype(dtype)
    sess, proto = _session(model, (cr.from_numpy(make(batches[0], 0)),))
    for i, n in enumerate(batches):
        x = make(n, i + 1)
        got = sess.run(None, {"x": x})[0]
        with cr.no_grad():
            want = model(cr.from_numpy(x)).numpy()
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    return proto


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _bn(cls, c):
    m = cls(c)
    m.running_mean.copy_(cr.from_numpy(_rng(7).standard_normal(c).astype(np.float32)))
    m.running_var.copy_(cr.from_numpy(_rng(8).uniform(0.5, 2, c).astype(np.float32)))
    return m.eval()


MASK = cr.tensor([True, False, False, True])
F = nn.functional


def _MHA(attn):
    attn.eval()
    return lambda x: attn(x, x, x)[0]
LAYERS = [
    ("linear", lambda: nn.Linear(6, 4), (2, 6)),
    ("linear3d", lambda: nn.Linear(6, 4), (2, 3, 6)),
    ("linear_nobias", lambda: nn.Linear(6, 4, bias=False), (2, 6)),
    ("conv2d", lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 9, 9)),
    ("conv2d_groups_dil", lambda: nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2, bias=False), (2, 4, 7, 7)),
    ("conv2d_same", lambda: nn.Conv2d(2, 3, 3, padding="same"), (2, 2, 6, 6)),
    ("maxpool", lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 8, 8)),
    ("maxpool_ceil", lambda: nn.MaxPool2d(2, ceil_mode=True), (2, 3, 7, 7)),
    ("avgpool", lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
    ("avgpool_pad_exclude", lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 8, 8)),
    ("avgpool_ceil", lambda: nn.AvgPool2d(2, ceil_mode=True), (2, 3, 7, 7)),
    ("avgpool_divisor", lambda: nn.AvgPool2d(2, divisor_override=3), (2, 3, 6, 6)),
    ("batchnorm2d", lambda: _bn(nn.BatchNorm2d, 3), (2, 3, 4, 4)),
    ("batchnorm1d", lambda: _bn(nn.BatchNorm1d, 5), (3, 5)),
    ("batchnorm_noaffine", lambda: _bn(lambda c: nn.BatchNorm2d(c, affine=False), 3), (2, 3, 4, 4)),
    ("layernorm", lambda: nn.LayerNorm(6), (2, 3, 6)),
    ("layernorm2", lambda: nn.LayerNorm((3, 6), elementwise_affine=False), (2, 3, 6)),
    ("relu", nn.ReLU, (3, 4)),
    ("gelu", nn.GELU, (3, 4)),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), (3, 4)),
    ("tanh", nn.Tanh, (3, 4)),
    ("sigmoid", nn.Sigmoid, (3, 4)),
    ("elu", lambda: nn.ELU(0.7), (3, 4)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), (3, 4)),
    ("softmax", lambda: nn.Softmax(dim=1), (3, 4, 2)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=-1), (3, 4)),
    ("flatten", nn.Flatten, (2, 3, 4)),
    ("dropout_eval", lambda: nn.Dropout(0.5).eval(), (3, 4)),
    ("permute_reshape", lambda: Fn(lambda x: x.permute(0, 2, 1).reshape(x.shape[0], -1)), (2, 3, 4)),
    ("expand", lambda: Fn(lambda x: x[:, :1].expand(-1, 3, -1) * x), (2, 3, 4)),
    ("index_basic", lambda: Fn(lambda x: x[:, 1, ::2] + x[:, -1:, None, 1:3].sum((1, 2))), (2, 3, 4)),
    ("index_negative_step", lambda: Fn(lambda x: x[:, cr.tensor([2, 0, 1])] * x[..., 1:2]), (2, 3, 4)),
    ("cat", lambda: Fn(lambda x: cr.cat([x, x * 2, x.exp()], dim=1)), (2, 3)),
    ("elementwise", lambda: Fn(lambda x: ((x.abs() + 1).log() - x.sin() * x.cos() + (x * x + 1).sqrt() / 2 - x.neg()
                                          + x.clamp(-0.5, 0.5) ** 2 + cr.maximum(x, x * 0.3) + cr.where(MASK, x, 1.0)
                                          + x.erf())), (3, 4)),
    ("reductions", lambda: Fn(lambda x: cr.stack([x.sum(1), x.mean(1), x.amax(1), x.amin(1), x.logsumexp(1)], 1)),
     (3, 4)),
    ("reductions_keepdim", lambda: Fn(lambda x: x - x.mean((1, 2), keepdim=True) + x.sum(-1, keepdim=True)),
     (2, 3, 4)),
    ("matmul", lambda: Fn(lambda x: x @ x.transpose(1, 2) + x.matmul(cr.ones(4, 1)).mean()), (2, 3, 4)),
    ("embedding", lambda: nn.Embedding(9, 4), "idx"),
    ("conv1d", lambda: nn.Conv1d(3, 4, 3, padding=1), (2, 3, 9)),
    ("conv_transpose2d", lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 4, 4)),
    ("adaptive_avg_pool", lambda: nn.AdaptiveAvgPool2d(2), (2, 3, 8, 8)),
    ("adaptive_max_pool", lambda: nn.AdaptiveMaxPool2d(2), (2, 3, 8, 8)),
    ("instance_norm", lambda: nn.InstanceNorm2d(3), (2, 3, 4, 4)),
    ("group_norm", lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    ("multihead_attention", lambda: Fn(_MHA(nn.MultiheadAttention(8, 2, batch_first=True))), (2, 5, 8)),
    ("silu_selu_celu_glu", lambda: Fn(lambda x: F.silu(x) + F.selu(x) + F.celu(x) + F.glu(cr.cat([x, x], 1))),
     (3, 4)),
    ("cosine_similarity", lambda: Fn(lambda x: F.cosine_similarity(x, x * 2 + 1)), (3, 4)),
    ("inplace_relu", lambda: nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True), nn.Linear(4, 2)), (3, 4)),
    ("inplace_residual", lambda: Fn(lambda x: (x * 2).add_(x).relu_().mul_(3)), (3, 4)),
    ("composed_unary", lambda: Fn(lambda x: x.expm1() + (x.abs() + 1).log1p() + (x.abs() + 1).log2()
                                  + (x.abs() + 1).log10() + x.exp2() + x.erfc()), (3, 4)),
]


@pytest.mark.parametrize("name,build,shape", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_layer_matches_onnxruntime(name, build, shape):
    cr.manual_seed(0)
    model = build()
    if shape == "idx":
        _check(model, (2, 5), high=9)
    else:
        _check(model, shape)


def _resnet():
    from bench.workloads import resnet_small
    m = resnet_small(nn)
    m.train()
    with cr.no_grad():
        m(cr.from_numpy(_rng(9).standard_normal((4, 3, 32, 32)).astype(np.float32)))  # running stats move
    return m.eval()


def _lenet():
    from bench.workloads import lenet5
    return lenet5(nn).eval()


@pytest.mark.parametrize("name", ["mlp", "cnn", "lenet", "resnet", "transformer", "transformer_prenorm_gelu"])
def test_model_matches_onnxruntime_with_dynamic_batch(name):
    cr.manual_seed(0)
    if name == "mlp":
        _check(MLP(784, 10).eval(), (4, 784), batches=(4, 1, 9))
    elif name == "cnn":
        _check(CNN(1, 8, 8, 10).eval(), (2, 1, 8, 8))
    elif name == "lenet":
        _check(_lenet(), (2, 1, 28, 28))
    elif name == "resnet":
        _check(_resnet(), (2, 3, 32, 32), batches=(2, 3))
    else:
        pre = name != "transformer"
        layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True, norm_first=pre,
                                           activation="gelu" if pre else "relu").eval()
        proto = _check(layer, (2, 5, 16), batches=(2, 1, 7))
        dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
        assert dims == ["batch", 5, 16]


def test_export_writes_a_file_and_names(tmp_path):
    path = tmp_path / "mlp.onnx"
    m = MLP(20, 5).eval()
    cr.onnx.export(m, (cr.randn(3, 20),), str(path), input_names=["pixels"], output_names=["logits"],
                   dynamic_axes={"pixels": [0], "logits": [0]})
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["pixels"] and [o.name for o in model.graph.output] == ["logits"]
    assert model.opset_import[0].version == 17
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = _rng(1).standard_normal((6, 20)).astype(np.float32)
    np.testing.assert_allclose(sess.run(None, {"pixels": x})[0], m(cr.from_numpy(x)).detach().numpy(), rtol=1e-4,
                               atol=1e-6)


def test_export_runs_in_eval_mode_and_restores_the_modes():
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    m[1].running_mean.copy_(cr.tensor([0.1, -0.2, 0.3, 0.0]))
    sess, _ = _session(m, (cr.randn(4, 3),))
    assert m.training and m[1].training and m[2].training
    x = _rng(3).standard_normal((5, 3)).astype(np.float32)
    m.eval()
    np.testing.assert_allclose(sess.run(None, {"x": x})[0], m(cr.from_numpy(x)).detach().numpy(), rtol=1e-4,
                               atol=1e-6)


def test_opset_18_reductions():
    m = Fn(lambda x: x.amax(1) + x.mean(1))
    sess, _ = _session(m, (cr.randn(3, 4),), opset_version=18)
    x = _rng(2).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(sess.run(None, {"x": x})[0], m(cr.from_numpy(x)).numpy(), rtol=1e-5)


class Unmapped(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(4, 4), Fn(lambda x: x.cumsum(1)))

    def forward(self, x):
        return self.inner(x)


def test_unmapped_op_names_op_and_module_path():
    with pytest.raises(cr.onnx.ExportError, match=r"op Cumsum \(in module 'inner\.1'\) has no ONNX mapping"):
        cr.onnx.export(Unmapped().eval(), (cr.randn(2, 4),), io.BytesIO())


def test_export_refuses_what_onnx_cannot_hold():
    bn = nn.BatchNorm1d(3)  # training mode: running statistics would be updated
    with pytest.raises(cr.onnx.ExportError, match=r"op BatchNorm \(in module 'BatchNorm1d'\) updates running stat"):
        cr.onnx.export(bn, (cr.randn(4, 3),), io.BytesIO(), training="preserve")
    with pytest.raises(cr.onnx.ExportError, match="does not follow its inputs"):  # sign: outside the op table
        cr.onnx.export(Fn(lambda x: x.sign() * 0.5), (cr.randn(4, 3),), io.BytesIO())
    grows = Fn(lambda x: x + cr.ones(x.shape[0], 1))  # a constant made from the batch size
    with pytest.raises(cr.onnx.ExportError, match="changes shape with a dynamic axis"):
        cr.onnx.export(grows, (cr.randn(2, 3),), io.BytesIO(), input_names=["x"], output_names=["y"],
                       dynamic_axes=DYN)
    with pytest.raises(ValueError, match="dynamic_axes names 'z'"):
        cr.onnx.export(nn.ReLU(), (cr.randn(2, 3),), io.BytesIO(), dynamic_axes={"z": [0]})
    with pytest.raises(ValueError, match="opset_version 13 is not supported"):
        cr.onnx.export(nn.ReLU(), (cr.randn(2, 3),), io.BytesIO(), opset_version=13)
    with pytest.raises(ValueError, match="2 input_names"):
        cr.onnx.export(nn.ReLU(), (cr.randn(2, 3),), io.BytesIO(), input_names=["a", "b"])
    with pytest.raises(ValueError, match="export_params=False is not supported"):
        cr.onnx.export(nn.ReLU(), (cr.randn(2, 3),), io.BytesIO(), export_params=False)


def test_export_takes_torchs_dynamo_flag_either_way():
    for dynamo in (False, True):
        proto = cr.onnx.export(nn.Linear(3, 2), (cr.randn(2, 3),), io.BytesIO(), dynamo=dynamo)
        assert [n.op_type for n in proto.graph.node][0] == "Gemm"


def test_cli_export_of_a_trained_run(tmp_path, capsys):
    from chainrule.cli import main
    for kind in ("mlp", "cnn"):
        run = tmp_path / kind
        assert main(["train", "--model", kind, "--epochs", "1", "--out", str(run), "--no-progress"]) == 0
        capsys.readouterr()
        assert main(["export", str(run), "--samples", "64"]) == 0
        out = capsys.readouterr().out
        assert (run / "model.onnx").exists()
        onnx.checker.check_model(onnx.load(str(run / "model.onnx")))
        assert f"exported {kind}" in out and "onnxruntime check: 64 held-out samples" in out
        assert ": match (rtol 0.0001); predictions agree on 64/64" in out
    assert main(["export", str(tmp_path / "nothing")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


# ---- nested example inputs and recurrent layers (helper "gaps") ---------------------------------

def _run_flat(model, args, flat):
    f = io.BytesIO()
    proto = cr.onnx.export(model, args, f)
    onnx.checker.check_model(proto)
    sess = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    return sess.run(None, {i.name: t.numpy() for i, t in zip(sess.get_inputs(), flat)}), proto


@pytest.mark.parametrize("cls, kw", [("LSTM", dict(num_layers=2, bidirectional=True)), ("LSTM", dict(batch_first=True)),
                                     ("GRU", dict(num_layers=2)), ("GRU", dict(bidirectional=True, bias=False)),
                                     ("RNN", {}), ("RNN", dict(nonlinearity="relu", num_layers=2))])
def test_recurrent_layers_with_nested_state_inputs(cls, kw):
    cr.manual_seed(0)
    model = getattr(nn, cls)(3, 4, **kw).eval()
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    rng = _rng(1)
    x = cr.from_numpy(rng.standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3)).astype(np.float32))
    h, c = (cr.from_numpy(rng.standard_normal((layers, 2, 4)).astype(np.float32)) for _ in range(2))
    args, flat = ((x, (h, c)), [x, h, c]) if cls == "LSTM" else ((x, h), [x, h])
    got, proto = _run_flat(model, args, flat)
    out, state = model(*args)
    want = [out] + (list(state) if cls == "LSTM" else [state])
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-4, atol=1e-5)
    op = "RNN" if cls == "RNN" else cls
    assert sum(n.op_type == op for n in proto.graph.node) == layers
    assert not {i.name for i in proto.graph.initializer} & {n for n, _ in model.named_parameters()}  # reordered


def test_recurrent_without_state_and_refusals():
    model = nn.LSTM(3, 4).eval()
    x = cr.randn(5, 2, 3)
    got, _ = _run_flat(model, (x,), [x])
    np.testing.assert_allclose(got[0], model(x)[0].detach().numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(cr.onnx.ExportError, match=r"op Recurrent \(in module 'LSTM'\) has a projection"):
        cr.onnx.export(nn.LSTM(3, 4, proj_size=2), (x,), io.BytesIO())


def test_nested_example_inputs():
    class Mix(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 4)

        def forward(self, x, pair):
            return self.lin(x) + pair[0] * pair[1][0]

    x, a, b = cr.randn(2, 3), cr.randn(2, 4), cr.randn(2, 4)
    model = Mix()
    got, proto = _run_flat(model, (x, (a, [b])), [x, a, b])
    assert [i.name for i in proto.graph.input] == ["input0", "input1", "input2"]
    np.testing.assert_allclose(got[0], model(x, (a, [b])).detach().numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match="example inputs must be Tensors"):
        cr.onnx.export(model, (x, (a, 3.0)), io.BytesIO())


def test_softplus_family_exports_with_a_dynamic_batch(tmp_path):
    """softplus/mish/logsigmoid compute log(1 + e^x) as logaddexp(x, 0) with a 0-d zero, so the
    exported graph has no constant sized by the example batch (ONNX: Max + Log(1 + Exp(-|x|)))."""
    import onnxruntime as ort
    m = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.Softplus(beta=2, threshold=5), cr.nn.Mish(), cr.nn.LogSigmoid())
    m.eval()
    path = str(tmp_path / "softplus.onnx")
    cr.onnx.export(m, (cr.randn(2, 4),), path, input_names=["x"], output_names=["y"],
                   dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    x = (np.random.default_rng(0).standard_normal((7, 4)) * 30).astype(np.float32)
    got = ort.InferenceSession(path).run(None, {"x": x})[0]
    np.testing.assert_allclose(got, m(cr.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
