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


def test_versus_loads_another_checkout_beside_this_one(capsys):
    """bench.versus: the other checkout (here this one again) runs as its own package, every step timed."""
    import os
    import sys
    from bench import versus
    root = os.path.dirname(os.path.dirname(os.path.abspath(versus.__file__)))
    try:
        assert versus.main([root, "--tiny", "--threads", "1", "--only", "LeNet,MLP"]) == 0
        other = sys.modules["chainrule_other"]
        assert other is not sys.modules["chainrule"] and other.nn.Conv2d is not sys.modules["chainrule"].nn.Conv2d
    finally:
        for name in [m for m in sys.modules if m == "chainrule_other" or m.startswith("chainrule_other.")]:
            del sys.modules[name]
    lines = [line for line in capsys.readouterr().out.splitlines() if "this / other" in line]
    assert [line.split(":")[0] for line in lines] == ["MLP 784-256-256-10 step b128", "LeNet-5 step b64"]
