"""chainrule.multiprocessing (torch.multiprocessing): tensors in shared memory pass between processes
by reference, others by copy; Module.share_memory; spawn; segments unlinked when their maker exits."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr
import chainrule.multiprocessing as mp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child_updates(t, view, p, plain, q):
    t += 1             # in place, in shared memory
    view.mul_(10)      # a view of a shared tensor: the same memory, at its offset
    p.data.mul_(2)     # a Parameter's data
    plain += 100       # a copy
    q.put((t.is_shared(), type(p).__name__, p.requires_grad, plain.is_shared()))


def test_shared_tensors_are_updated_in_place_by_another_process():
    base = cr.arange(6.0).share_memory_()
    p = cr.nn.Parameter(cr.ones(2, 3))
    p.share_memory_()
    plain = cr.zeros(2)
    assert base.is_shared() and p.is_shared() and not plain.is_shared()
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_child_updates, args=(base, base[3:], p, plain, q))
    proc.start()
    seen = q.get(timeout=60)
    proc.join(60)
    assert proc.exitcode == 0 and seen == (True, "Parameter", True, False)
    np.testing.assert_array_equal(base.numpy(), [1, 2, 3, 40, 50, 60])
    np.testing.assert_array_equal(p.detach().numpy(), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(plain.numpy(), [0, 0])


def test_share_memory_keeps_values_and_module_shares_parameters_and_buffers():
    m = cr.nn.Sequential(cr.nn.Linear(3, 2), cr.nn.BatchNorm1d(2))
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    assert m.share_memory() is m
    for k, v in m.state_dict().items():
        assert v.is_shared(), k
        np.testing.assert_array_equal(v.numpy(), before[k])
    w = m[0].weight
    data = w._data
    assert w.share_memory_() is w and w._data is data  # already shared: nothing moves
    out = m(cr.randn(4, 3))  # still trains: forward and backward over shared arrays
    out.sum().backward()
    assert m[0].weight.grad.shape == (2, 3) and not m[0].weight.grad.is_shared()


def _rank_writes(rank, shared):
    shared[rank] = rank + 1


def _fails(rank):
    raise SystemExit(3)


def test_spawn_runs_fn_with_its_rank_and_reports_failures():
    shared = cr.zeros(3).share_memory_()
    assert mp.spawn(_rank_writes, args=(shared,), nprocs=3) is None
    np.testing.assert_array_equal(shared.numpy(), [1, 2, 3])
    with pytest.raises(mp.ProcessRaisedException, match="exit code 3"):
        mp.spawn(_fails, nprocs=1)
    ctx = mp.spawn(_rank_writes, args=(shared,), nprocs=1, join=False)
    assert ctx.join(60) and len(ctx.pids()) == 1


def test_sharing_strategy_names():
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    mp.set_sharing_strategy("file_system")
    with pytest.raises(ValueError, match="unknown strategy"):
        mp.set_sharing_strategy("file_descriptor_passing")


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="POSIX shared memory is listed in /dev/shm on Linux only")
def test_segments_are_unlinked_when_their_maker_exits_and_no_tracker_warnings(tmp_path):
    code = textwrap.dedent("""
        import chainrule as cr, chainrule.multiprocessing as mp
        def child(t):
            t += 1
        if __name__ == "__main__":
            t = cr.zeros(4).share_memory_()
            p = mp.get_context("spawn").Process(target=child, args=(t,))
            p.start(); p.join()
            print(mp.segment_of(t._data)[0], float(t.sum()), p.exitcode)
    """)
    (tmp_path / "check.py").write_text(code)  # a file: spawn re-imports the parent's __main__
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.run([sys.executable, "check.py"], capture_output=True, text=True, timeout=120, env=env,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    name, total, code = p.stdout.split()
    assert float(total) == 4.0 and code == "0"
    assert not os.path.exists(os.path.join("/dev/shm", name.lstrip("/")))
    assert "leaked" not in p.stderr and "KeyError" not in p.stderr and "Traceback" not in p.stderr, p.stderr
