"""The benchmark suite itself: every workload runs at a tiny size and --check passes (no timing
is asserted), so bench/ never rots."""
import json

import pytest

from bench import run, workloads


def test_bench_tiny_check_and_memory(tmp_path, capsys):
    assert run.main(["--tiny", "--check", "--memory", "--threads", "1", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    tiny = workloads.tiny_workloads()
    for name in tiny:
        assert f"check ok: {name}" in printed
    (result,) = tmp_path.glob("cpu-*.json")
    data = json.loads(result.read_text())
    assert [r["workload"] for r in data["results"]] == list(tiny)
    assert all(r["chainrule_s"] > 0 and r["torch_s"] > 0 for r in data["results"])
    assert set(data["memory"]) == set(workloads.MEMORY_WORKLOADS)


def test_bench_check_catches_a_wrong_gradient(monkeypatch):
    """--check must be able to fail: break chainrule's ReLU backward and it does."""
    from chainrule.ops import elementwise
    monkeypatch.setattr(elementwise.Relu, "backward", staticmethod(lambda ctx, xp, g, out, *a: (g,)))
    with pytest.raises(AssertionError, match="grad"):
        run.check("MLP", workloads.mlp_step(4), "cpu")
