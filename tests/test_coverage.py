"""The API coverage report (python -m chainrule.coverage): consistent counts, names that chainrule
certainly has or lacks land on the right side, torch stays out of chainrule's import time."""
import subprocess
import sys

import pytest

import chainrule as cr
from chainrule import coverage


@pytest.fixture(scope="module")
def rows():
    pytest.importorskip("torch")
    return {row.namespace: row for row in coverage.report()}


def test_counts_are_consistent(rows):
    assert list(rows) == list(coverage.NAMESPACES)
    for row in rows.values():
        assert row.total > 0 and len(row.have) <= row.total, row.namespace
        assert len(row.have) + len(row.missing) == row.total, row.namespace
        assert not set(row.have) & set(row.missing), row.namespace
        assert row.missing == sorted(row.missing)


def test_names_chainrule_has_are_present_and_names_it_lacks_are_missing(rows):
    for namespace, name in [("torch.Tensor", "sum"), ("torch.Tensor", "backward"), ("torch.nn", "Linear"),
                            ("torch.optim", "Adam"), ("torch", "float32"), ("torch", "no_grad"),
                            ("torch.utils.data", "DataLoader")]:
        assert name in rows[namespace].have, f"{namespace}.{name}"
    assert hasattr(cr.nn, "Linear") and callable(cr.Tensor.sum)
    for namespace, ours, name in [("torch.nn", cr.nn, "Transformer"), ("torch", cr, "stft"),
                                  ("torch.distributions", cr.distributions, "Normal"),
                                  ("torch.distributions", cr.distributions, "VonMises")]:
        side = rows[namespace].have if ours is not None and hasattr(ours, name) else rows[namespace].missing
        assert name in side, f"{namespace}.{name}"


def test_internal_names_are_not_counted(rows):
    names = {ns: set(row.have) | set(row.missing) for ns, row in rows.items()}
    for internal in ["cudnn_convolution", "FloatTensor", "FloatStorage", "parse_ir", "ScriptModule", "sym_int",
                     "abs_", "alias_copy", "quantize_per_tensor", "qint8", "float8_e4m3fn", "solve", "e", "nn"]:
        assert internal not in names["torch"], internal
    assert {"exp", "cat", "Tensor", "Generator", "manual_seed", "bfloat16"} <= names["torch"]
    assert {"Tensor", "Optional", "Callable", "has_torch_function", "math"}.isdisjoint(names["torch.nn.functional"])
    assert {"Container", "factory_kwargs"}.isdisjoint(names["torch.nn"])  # deprecated, internal
    assert "normal" not in names["torch.nn.init"] and "normal_" in names["torch.nn.init"]
    assert "IterDataPipe" not in names["torch.utils.data"] and "add_" in names["torch.Tensor"]


def test_command_limits_to_a_namespace_and_writes_markdown(tmp_path, capsys):
    pytest.importorskip("torch")
    path = tmp_path / "api-coverage.md"
    assert coverage.main(["--namespace", "torch.nn", "--markdown", str(path)]) == 0
    out = capsys.readouterr().out
    missing = coverage.report(["torch.nn"])[0].missing
    assert out.startswith("torch.nn: ") and missing and missing[0] in out and "torch.optim" not in out
    text = path.read_text()
    assert "| `torch.nn` |" in text and "## `torch.nn`: " in text and "torch.Tensor" not in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_without_torch_the_command_says_so_and_exits_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    assert coverage.main([]) == 2
    assert "torch is not installed" in capsys.readouterr().err


def test_importing_the_module_does_not_import_torch():
    code = "import sys, chainrule.coverage; sys.exit(3 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
