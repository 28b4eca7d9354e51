"""cr.jit.trace / save / load (issue 15, inference half): the traced graph replays the eager
computation on new inputs of the traced signature, refuses other signatures, saves as JSON +
safetensors and loads in a process that never imports the model's code; bad files are refused
before anything runs."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.models import MLP, CNN
from chainrule.ops import registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _np(t):
    return t.detach().numpy()


def _rng(seed=0):
    return np.random.default_rng(seed)


class TwoHeads(nn.Module):
    """A module with a tuple output, scalars, an embedding lookup by an input and a buffer."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 6)
        self.lin = nn.Linear(6, 4)
        self.register_buffer("shift", cr.arange(4, dtype=cr.float32))

    def forward(self, idx, x):
        h = self.emb(idx).mean(1)             # Index with the input's indices, Mean
        y = self.lin(h) * 0.5 + self.shift    # scalars and a buffer
        return y.softmax(-1), (x.exp() - 1.0).sum(0, keepdim=True)


def _models():
    cr.manual_seed(0)
    enc = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True, activation="gelu")
    return [
        ("mlp", MLP(20, 5).eval(), [(3, 20)]),
        ("cnn", CNN(1, 8, 8, 10).eval(), [(2, 1, 8, 8)]),
        ("transformer", enc.eval(), [(2, 5, 16)]),
    ]


@pytest.mark.parametrize("name,model,shapes", _models(), ids=lambda v: v if isinstance(v, str) else "")
def test_trace_replays_eager_on_new_inputs(name, model, shapes):
    rng = _rng()
    example = [cr.tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    traced = cr.jit.trace(model, tuple(example))
    assert len(traced.graph.nodes) > 0
    for seed in (1, 2):  # same signature, other values: the graph is not frozen to the example
        xs = [cr.tensor(_rng(seed).standard_normal(s).astype(np.float32)) for s in shapes]
        got, want = traced(*xs), model(*xs)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6, atol=1e-6)


def test_trace_matches_torch_with_the_same_weights():
    rng = _rng(3)
    tm = torch.nn.Sequential(torch.nn.Linear(7, 9), torch.nn.Tanh(), torch.nn.Linear(9, 3), torch.nn.LogSoftmax(-1))
    cm = nn.Sequential(nn.Linear(7, 9), nn.Tanh(), nn.Linear(9, 3), nn.LogSoftmax(-1))
    cm.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((4, 7)).astype(np.float32)
    traced = cr.jit.trace(cm, cr.tensor(x))
    x2 = rng.standard_normal((4, 7)).astype(np.float32)
    np.testing.assert_allclose(_np(traced(cr.tensor(x2))), tm(torch.tensor(x2)).detach().numpy(), rtol=1e-4,
                               atol=1e-6)


def test_trace_records_ops_with_module_paths_and_weight_names():
    m = MLP(20, 5).eval()
    g = cr.jit.trace(m, cr.randn(2, 20)).graph
    assert [n.op for n in g.nodes] == ["Linear", "Relu", "Linear", "Relu", "Linear"]
    assert [n.site for n in g.nodes] == ["1", "2", "3", "4", "5"]
    assert set(g.weights) == {f"{i}.{p}" for i in (1, 3, 5) for p in ("weight", "bias")}
    assert m._hooks is None  # the tracer's path hooks are gone: Module.__call__'s fast path again


def test_trace_function_with_tuple_output_embedding_and_buffer():
    cr.manual_seed(1)
    m = TwoHeads().eval()
    rng = _rng(4)
    idx = cr.tensor(rng.integers(0, 11, (3, 5)))
    x = cr.tensor(rng.standard_normal((3, 2)).astype(np.float32))
    traced = cr.jit.trace(m, (idx, x))
    idx2 = cr.tensor(rng.integers(0, 11, (3, 5)))
    x2 = cr.tensor(rng.standard_normal((3, 2)).astype(np.float32))
    (a, b), (c, d) = traced(idx2, x2), m(idx2, x2)
    np.testing.assert_allclose(_np(a), _np(c), rtol=1e-6)
    np.testing.assert_allclose(_np(b), _np(d), rtol=1e-6)
    # a plain function, with no module
    f = cr.jit.trace(lambda u, v: (u @ v.T).relu().max(dim=1).values, (x, x))
    np.testing.assert_allclose(_np(f(x2, x2)), _np((x2 @ x2.T).relu().max(dim=1).values), rtol=1e-6)


def test_replay_uses_raw_arrays_only():
    """No Tensor is created and nothing goes through apply while the plan runs."""
    m = CNN(1, 8, 8, 10).eval()
    traced = cr.jit.trace(m, cr.randn(2, 1, 8, 8))
    seen = []
    prev = registry.set_tracer(lambda *a: seen.append(a[0]))
    try:
        out = traced.run_arrays(np.zeros((2, 1, 8, 8), np.float32))
    finally:
        registry.set_tracer(prev)
    assert seen == [] and isinstance(out[0], np.ndarray)


def test_hook_is_off_outside_tracing():
    assert registry._tracer is None
    cr.jit.trace(lambda x: x * 2, cr.ones(2))
    assert registry._tracer is None
    with pytest.raises(ZeroDivisionError):  # the tracer is removed even when the function raises
        cr.jit.trace(lambda x: (x * 2, 1 / 0), cr.ones(2))
    assert registry._tracer is None


def test_signature_errors_name_expected_and_got():
    traced = cr.jit.trace(MLP(20, 5).eval(), cr.randn(3, 20))
    with pytest.raises(RuntimeError, match=r"shape \[3, 20\] and dtype float32, got shape \[4, 20\]"):
        traced(cr.randn(4, 20))
    with pytest.raises(RuntimeError, match=r"dtype float32, got shape \[3, 20\] and dtype float64"):
        traced(cr.randn(3, 20, dtype=cr.float64))
    with pytest.raises(TypeError, match="expected 1 input"):
        traced(cr.randn(3, 20), cr.randn(3, 20))


@pytest.mark.parametrize("grad", [False, True])
def test_inplace_ops_on_whole_tensors_trace_as_their_results(grad):
    """relu_, add_ and ReLU(inplace=True) as torch's tracer records them: the graph takes each in-place op's
    result for the tensor it wrote, so replays on new inputs match eager runs."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.act = nn.Linear(4, 4), nn.ReLU(inplace=True)

        def forward(self, x):
            y = self.lin(x)
            y += x
            return self.act(y).mul_(2) - y.sum()
    block = Block().eval()
    with cr.set_grad_enabled(grad):
        traced = cr.jit.trace(block, cr.randn(3, 4))
        for _ in range(2):
            x = cr.randn(3, 4)
            np.testing.assert_allclose(_np(traced(x)), _np(block(x)), rtol=1e-6)


def test_trace_refuses_what_it_cannot_record():
    def inplace_under_a_view(x):  # v would go stale in the graph: it reads the value before the write
        y = x * 2
        v = y[:2]
        y.add_(1)
        return v * 3
    with pytest.raises(cr.jit.TraceError, match="in-place write"):
        cr.jit.trace(inplace_under_a_view, cr.randn(3))

    def inplace_into_a_view(x):
        y = x * 2
        y[:2].add_(1)
        return y * 3
    with pytest.raises(cr.jit.TraceError, match="in-place write"):
        cr.jit.trace(inplace_into_a_view, cr.randn(3))

    def numpy_round_trip(x):
        y = x * 2
        return cr.from_numpy(y.numpy()[:2]) + 1
    with pytest.raises(cr.jit.TraceError, match="shares memory with the traced value"):
        cr.jit.trace(numpy_round_trip, cr.randn(3))
    with pytest.raises(TypeError, match="example input 0"):
        cr.jit.trace(lambda x: x, (3.0,))
    with pytest.raises(cr.jit.TraceError, match="returned a int"):
        cr.jit.trace(lambda x: 3, cr.ones(2))
    with pytest.warns(UserWarning, match="training mode"):
        cr.jit.trace(nn.Linear(2, 2), cr.ones(1, 2))


def test_values_computed_outside_the_op_table_are_caught():
    """sign is computed outside the op table: its values would be frozen; replaying on other values shows it
    (comparisons are ops: ``where(x > 0, ...)`` follows its inputs, tests/test_compare_ops.py)."""
    with pytest.raises(cr.jit.TraceError, match=r"does not follow its inputs.*Mul \(in '<top>'\) reads %const"):
        cr.jit.trace(lambda x: x.sign() * 2, cr.randn(3, 4))
    with pytest.raises(cr.jit.TraceError, match="does not follow its inputs"):
        cr.jit.trace(lambda x: x * float(x.sum()), cr.randn(3))
    mask = cr.tensor([True, False, True])  # a constant mask is fine
    traced = cr.jit.trace(lambda x: cr.where(mask, x, 1.0), cr.randn(3))
    np.testing.assert_allclose(_np(traced(cr.tensor([5.0, 6.0, 7.0]))), [5.0, 1.0, 7.0])


def test_detach_inside_forward_stays_connected():
    traced = cr.jit.trace(lambda x: x.detach() * 2 + x, cr.ones(2))
    np.testing.assert_allclose(_np(traced(cr.tensor([1.0, 2.0]))), [3.0, 6.0])


_LOADER = r"""
import sys, json, numpy as np
import chainrule as cr
m = cr.jit.load(sys.argv[1])
x = np.load(sys.argv[2])
y = m(cr.from_numpy(x))
np.save(sys.argv[3], y.numpy())
bad = [k for k in sys.modules if k.startswith(("tests", "test_jit", "bench"))]
print(json.dumps(bad))
"""


def test_save_load_round_trip_in_a_process_without_the_model_code(tmp_path):
    cr.manual_seed(2)
    model = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True).eval()
    x = _rng(5).standard_normal((2, 5, 16)).astype(np.float32)
    traced = cr.jit.trace(model, cr.from_numpy(x))
    path = tmp_path / "enc.crjit"
    traced.save(path)
    doc = json.loads((path / "graph.json").read_text())
    assert doc["format"] == "chainrule.jit" and len(doc["nodes"]) == len(traced.graph.nodes)
    x2 = _rng(6).standard_normal((2, 5, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", x2)
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", _LOADER, str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), _np(model(cr.from_numpy(x2))), rtol=1e-6, atol=1e-6)
    # and in this process
    np.testing.assert_allclose(_np(cr.jit.load(path)(cr.from_numpy(x2))), _np(model(cr.from_numpy(x2))),
                               rtol=1e-6, atol=1e-6)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "mlp.crjit"
    cr.jit.trace(MLP(20, 5).eval(), cr.randn(3, 20)).save(path)
    return path


def test_load_refuses_a_truncated_graph(saved):
    g = saved / "graph.json"
    g.write_text(g.read_text()[:200])
    with pytest.raises(RuntimeError, match="truncated or not valid JSON"):
        cr.jit.load(saved)


def test_load_refuses_truncated_weights(saved):
    w = saved / "weights.safetensors"
    w.write_bytes(w.read_bytes()[:-100])
    with pytest.raises(RuntimeError, match="weights.safetensors' is not a readable safetensors file"):
        cr.jit.load(saved)


def test_load_refuses_an_unknown_op(saved, monkeypatch):
    g = saved / "graph.json"
    doc = json.loads(g.read_text())
    doc["nodes"][1]["op"] = "os.system"
    g.write_text(json.dumps(doc))
    ran = []
    monkeypatch.setattr(os, "system", lambda *a: ran.append(a))
    with pytest.raises(RuntimeError, match=r"node 1 uses unknown op 'os.system'"):
        cr.jit.load(saved)
    doc["nodes"][1]["op"] = "_OutputOf"  # internal ops are not loadable either
    g.write_text(json.dumps(doc))
    with pytest.raises(RuntimeError, match="unknown op '_OutputOf'"):
        cr.jit.load(saved)
    assert ran == []


def test_load_refuses_a_tensor_missing_from_the_weights(saved):
    g = saved / "graph.json"
    doc = json.loads(g.read_text())
    doc["weights"]["3.extra"] = {"shape": [2], "dtype": "float32"}
    g.write_text(json.dumps(doc))
    with pytest.raises(RuntimeError, match="tensor '3.extra' named by the graph is missing from the weights file"):
        cr.jit.load(saved)


def test_load_refuses_dangling_references_and_shape_changes(saved):
    g = saved / "graph.json"
    good = g.read_text()
    doc = json.loads(good)
    doc["nodes"][2]["args"][0] = {"ref": "nowhere"}
    g.write_text(json.dumps(doc))
    with pytest.raises(RuntimeError, match="reads 'nowhere'"):
        cr.jit.load(saved)
    doc = json.loads(good)
    doc["nodes"][2]["out"] = doc["nodes"][0]["out"]
    g.write_text(json.dumps(doc))
    with pytest.raises(RuntimeError, match="already names a value"):
        cr.jit.load(saved)
    doc = json.loads(good)
    doc["nodes"][0]["params"] = {"x": {"dtype": "no-such-dtype"}}
    g.write_text(json.dumps(doc))
    with pytest.raises(RuntimeError, match="malformed graph"):
        cr.jit.load(saved)
    doc = json.loads(good)
    doc["weights"]["1.weight"]["shape"] = [1, 1]
    g.write_text(json.dumps(doc))
    with pytest.raises(RuntimeError, match="weight '1.weight' is float32"):
        cr.jit.load(saved)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cr.jit.load(saved.parent / "nothing")


def test_params_survive_json():
    from chainrule.jit.ir import encode, decode, Ref
    for v in [None, True, 3, -2.5, float("inf"), "tanh", (1, (2, 3)), [1, 2], slice(None, 7, 2), Ellipsis,
              np.dtype("float32"), np.float32(1.5), Ref("v1"), (slice(0, 4), Ref("input0"))]:
        back = decode(json.loads(json.dumps(encode(v))))
        assert back == v or (isinstance(v, float) and back == v), v
        assert type(back) is type(v)
    with pytest.raises(TypeError, match="cannot encode a object"):
        encode(object())


def test_save_keeps_zero_dim_constants_and_jit_save(tmp_path):
    w = cr.tensor(2.5)
    traced = cr.jit.trace(lambda x: (x * w).sum(), cr.ones(3))
    cr.jit.save(traced, tmp_path / "m")
    back = cr.jit.load(tmp_path / "m")
    assert back.graph.weights["const1"].shape == ()
    assert float(back(cr.tensor([1.0, 2.0, 3.0]))) == 15.0
    with pytest.raises(TypeError, match="expected a traced module"):
        cr.jit.save(nn.Linear(2, 2), tmp_path / "x")


@pytest.mark.parametrize("kind", ["lstm", "gru", "transformer"])
def test_trace_language_models(kind):
    from chainrule.models import CharRNN, CharTransformer
    cr.manual_seed(3)
    m = (CharTransformer(20, 16, 16, 2, 2) if kind == "transformer" else CharRNN(20, kind, 8, 16, 2)).eval()
    traced = cr.jit.trace(m, cr.tensor(_rng(7).integers(0, 20, (2, 7))))
    idx = cr.tensor(_rng(8).integers(0, 20, (2, 7)))
    (a, sa), (b, sb) = traced(idx), m(idx)
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6, atol=1e-6)
    if kind == "transformer":
        assert sa is None and sb is None
