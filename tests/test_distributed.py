"""chainrule.distributed over MPI (issue 17): collectives vs NumPy, DDP vs one process with the
whole batch, DistributedSampler vs torch's, faults. Multi-process cases launch 2 MPI processes
(``mpiexec -n 2 python script.py``, scripts written to tmp_path) with a pytest-side timeout."""
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.distributed as dist
from chainrule.cli import launch as launch_cli
from chainrule.utils.data import DistributedSampler

MPIEXEC = launch_cli.find_mpiexec()
pytestmark = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
                                reason="needs mpi4py and mpiexec (pip install 'chainrule[distributed]')")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 60  # seconds a 2-process run may take before the test calls it hung

PRELUDE = """
import os, sys, signal, time
import numpy as np
import chainrule as cr
import chainrule.distributed as dist
from chainrule.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()

def same(got, want, what, rtol=0.0, atol=0.0):
    got = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
    want = want.numpy() if hasattr(want, "numpy") else np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype or not np.allclose(got, want, rtol=rtol, atol=atol):
        raise AssertionError(f"rank {rank}: {what}: got {got!r}, want {want!r}")

def raises(kind, fn, *words):
    try:
        fn()
    except kind as e:
        for w in words:
            assert w in str(e), (w, str(e))
        return str(e)
    raise AssertionError(f"rank {rank}: expected {kind.__name__}")
"""


def run_mpi(tmp_path, body, n=2, timeout=TIMEOUT, via_launch=False):
    script = tmp_path / "job.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if via_launch:
        cmd = [sys.executable, "-m", "chainrule", "launch", "-n", str(n), str(script)]
    else:
        cmd = [MPIEXEC, "-n", str(n), sys.executable, str(script)]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(tmp_path))
    return proc, time.monotonic() - start


def ok(proc, n=2):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for r in range(n):
        assert f"RANK {r} OK" in proc.stdout, proc.stdout + proc.stderr


# ---- collectives, 2 processes -----------------------------------------------------------------
COLLECTIVES = """
def data(r, dtype, shape=(3, 4)):
    g = np.random.default_rng(100 + r)
    if np.dtype(dtype).kind == "f":
        return g.standard_normal(shape).astype(dtype)
    return g.integers(-5, 6, shape).astype(dtype)

everyone = lambda dtype, shape=(3, 4): np.stack([data(r, dtype, shape) for r in range(world)])
for dtype in ("float32", "float64", "int64", "int32"):
    tol = 1e-6 if dtype == "float32" else 0.0
    allx = everyone(dtype)
    for op, want in ((dist.ReduceOp.SUM, allx.sum(0)), (dist.ReduceOp.MAX, allx.max(0)),
                     (dist.ReduceOp.MIN, allx.min(0)), (dist.ReduceOp.PRODUCT, allx.prod(0)),
                     (dist.ReduceOp.AVG, allx.sum(0) / world if allx.dtype.kind == "f"
                      else np.trunc(allx.sum(0) / world).astype(dtype))):
        t = cr.tensor(data(rank, dtype))
        assert dist.all_reduce(t, op=op) is None
        same(t, want.astype(dtype), f"all_reduce {op.name} {dtype}", rtol=tol, atol=tol)
    t = cr.tensor(data(rank, dtype))
    dist.broadcast(t, src=1)
    same(t, allx[1], f"broadcast {dtype}")
    outs = [cr.zeros(3, 4, dtype=t.dtype) for _ in range(world)]
    dist.all_gather(outs, cr.tensor(data(rank, dtype)))
    for r in range(world):
        same(outs[r], allx[r], f"all_gather {dtype}")
    out = cr.zeros(world * 3, 4, dtype=t.dtype)
    dist.all_gather_into_tensor(out, cr.tensor(data(rank, dtype)))
    same(out, allx.reshape(world * 3, 4), f"all_gather_into_tensor {dtype}")
    stacked = cr.zeros(world, 3, 4, dtype=t.dtype)
    dist.all_gather_into_tensor(stacked, cr.tensor(data(rank, dtype)))
    same(stacked, allx, f"all_gather_into_tensor stacked {dtype}")
    # reduce_scatter: rank r gets the sum over ranks of their chunk r
    chunks = everyone(dtype, (world, 2, 4))  # [rank, chunk, ...]
    out = cr.zeros(2, 4, dtype=t.dtype)
    dist.reduce_scatter(out, [cr.tensor(c) for c in data(rank, dtype, (world, 2, 4))])
    same(out, chunks[:, rank].sum(0).astype(dtype), f"reduce_scatter {dtype}", rtol=tol, atol=tol)
    out = cr.zeros(2, 4, dtype=t.dtype)
    dist.reduce_scatter_tensor(out, cr.tensor(data(rank, dtype, (world, 2, 4)).reshape(world * 2, 4)),
                               op=dist.ReduceOp.MAX)
    same(out, chunks[:, rank].max(0), f"reduce_scatter_tensor MAX {dtype}")
    t = cr.tensor(data(rank, dtype))
    dist.reduce(t, dst=1, op=dist.ReduceOp.SUM)
    same(t, allx.sum(0).astype(dtype) if rank == 1 else allx[rank], f"reduce {dtype}", rtol=tol, atol=tol)
    gl = [cr.zeros(3, 4, dtype=t.dtype) for _ in range(world)] if rank == 0 else None
    dist.gather(cr.tensor(data(rank, dtype)), gl, dst=0)
    if rank == 0:
        for r in range(world):
            same(gl[r], allx[r], f"gather {dtype}")
    t = cr.zeros(3, 4, dtype=t.dtype)
    dist.scatter(t, [cr.tensor(x) for x in allx * 2] if rank == 1 else None, src=1)
    same(t, allx[rank] * 2, f"scatter {dtype}")

# all_to_all_single and point to point
x = np.arange(4 * world, dtype=np.float32).reshape(2 * world, 2) + 100 * rank
out = cr.zeros(2 * world, 2)
dist.all_to_all_single(out, cr.tensor(x))
same(out, np.concatenate([np.arange(4 * world, dtype=np.float32).reshape(world, 2, 2)[rank] + 100 * r
                          for r in range(world)]), "all_to_all_single")
if rank == 0:
    dist.send(cr.tensor([1.0, 2.0]), dst=1)
    w = dist.isend(cr.tensor([3.0]), dst=1, tag=7); w.wait()
    raises(ValueError, lambda: dist.send(cr.ones(1), dst=0), "invalid peer")
else:
    got = cr.zeros(2)
    assert dist.recv(got) == 0
    same(got, np.array([1.0, 2.0], np.float32), "send/recv")
    got = cr.zeros(1); dist.irecv(got, src=0, tag=7).wait()
    same(got, np.array([3.0], np.float32), "isend/irecv")

# float16 and bool reductions
t = cr.tensor(np.arange(4, dtype=np.float16) * (rank + 1))
dist.all_reduce(t)
same(t, np.arange(4, dtype=np.float16) * sum(range(1, world + 1)), "float16 sum")
b = cr.tensor(np.array([rank == 0, False, True]))
dist.all_reduce(b)
same(b, np.array([True, False, True]), "bool sum (or)")
b = cr.tensor(np.array([rank == 0, False, True]))
dist.all_reduce(b, op=dist.ReduceOp.MIN)
same(b, np.array([False, False, True]), "bool min (and)")

# async: a Work to wait on, the result in place
t = cr.tensor(np.full(1000, rank + 1.0, np.float32))
work = dist.all_reduce(t, op=dist.ReduceOp.SUM, async_op=True)
assert work.wait() is True and work.is_completed()
same(t, np.full(1000, world * (world + 1) / 2, np.float32), "async all_reduce")
w2 = dist.broadcast(t, src=0, async_op=True); w2.wait()
assert dist.barrier(async_op=True).wait()

# Work.wait(timeout): a rank late to a collective is an error after the timeout, not a hang
import datetime
t = cr.ones(4)
if rank == 1:
    time.sleep(1.0)
work = dist.all_reduce(t, async_op=True)
if rank == 0:
    raises(RuntimeError, lambda: work.wait(timeout=datetime.timedelta(seconds=0.2)), "did not complete within 0.2 s")
assert work.wait()
same(t, np.full(4, world, np.float32), "late all_reduce")

# a sub-group
sub = dist.new_group([1])
if rank == 1:
    t = cr.tensor([5.0]); dist.all_reduce(t, group=sub); same(t, np.array([5.0], np.float32), "sub-group")
    assert dist.get_rank(sub) == 0 and dist.get_world_size(sub) == 1
else:
    assert dist.get_rank(sub) == -1
# the sampler takes its share from the process group
from chainrule.utils.data import DistributedSampler
s = DistributedSampler(list(range(10)), shuffle=False)
assert (s.num_replicas, s.rank) == (world, rank) and list(s) == list(range(rank, 10, world))
info = dist.run_info()
assert (info.rank, info.world_size, info.is_main, info.backend) == (rank, world, rank == 0, "mpi")

# bad input
raises(RuntimeError, lambda: dist.all_reduce(cr.zeros(4, 4).t()), "contiguous")
raises(TypeError, lambda: dist.all_reduce(np.zeros(3)), "Tensor")
raises(ValueError, lambda: dist.all_gather([cr.zeros(2)], cr.zeros(2)), "tensor_list has 1")
raises(ValueError, lambda: dist.all_gather_into_tensor(cr.zeros(3), cr.zeros(2)), "world_size")
raises(ValueError, lambda: dist.broadcast(cr.zeros(2), src=world), "out of range")
raises(ValueError, lambda: dist.init_process_group("mpi"), "twice")
raises(RuntimeError, lambda: dist.all_reduce(cr.zeros(2), op=dist.ReduceOp.BAND), "BAND")
dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
raises(ValueError, lambda: dist.get_rank(), "has not been initialized")
print(f"RANK {rank} OK", flush=True)
"""


def test_collectives_match_numpy(tmp_path):
    proc, _ = run_mpi(tmp_path, COLLECTIVES, via_launch=True)  # also runs `chainrule launch`
    ok(proc)


# ---- DistributedDataParallel, 2 processes ---------------------------------------------------
DDP_BODY = """
F = cr.nn.functional
def mlp():
    return cr.nn.Sequential(cr.nn.Linear(6, 32), cr.nn.Tanh(), cr.nn.Linear(32, 64), cr.nn.ReLU(), cr.nn.Linear(64, 3))

def cnn():
    return cr.nn.Sequential(cr.nn.Conv2d(2, 4, 3, padding=1), cr.nn.ReLU(), cr.nn.MaxPool2d(2), cr.nn.Flatten(),
                            cr.nn.Linear(4 * 4 * 4, 3))

g = np.random.default_rng(7)
TOL = dict(rtol=1e-4, atol=1e-6)
for make, shape in ((mlp, (6,)), (cnn, (2, 8, 8))):
    cr.manual_seed(1000 + rank)  # each rank starts differently: DDP must broadcast rank 0's weights
    model = make()
    ddp = DDP(model, bucket_cap_mb=0.0005)  # several buckets: overlapping all-reduces in flight
    assert len(ddp._buckets) > 1
    assert list(ddp.state_dict())[0] == "module.0.weight"
    flat = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    both = [cr.zeros(flat.size) for _ in range(world)]
    dist.all_gather(both, cr.tensor(flat))
    same(both[0], both[1], "parameters broadcast from rank 0")
    ref = make()
    ref.load_state_dict(model.state_dict())
    opt = cr.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = cr.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        X = g.standard_normal((8,) + shape).astype(np.float32)
        Y = g.integers(0, 3, 8)
        ref_opt.zero_grad()
        F.cross_entropy(ref(cr.tensor(X)), cr.tensor(Y)).backward()  # one process, the whole batch
        mine = slice(rank * 8 // world, (rank + 1) * 8 // world)
        opt.zero_grad()
        F.cross_entropy(ddp(cr.tensor(X[mine])), cr.tensor(Y[mine])).backward()
        for (name, p), q in zip(model.named_parameters(), ref.parameters()):
            same(p.grad, q.grad, f"{make.__name__} step {step} grad {name}", **TOL)
        opt.step(); ref_opt.step()
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        same(p.detach(), q.detach(), f"{make.__name__} weights {name}", **TOL)
    assert ddp._comm_wait_s >= 0

# no_sync: two local micro-batches, then one synchronised: the average of every rank's sum
cr.manual_seed(3)
model = mlp(); ddp = DDP(model); ref = mlp(); ref.load_state_dict(model.state_dict())
X = g.standard_normal((world, 3, 4, 6)).astype(np.float32)  # [rank, micro-batch, sample, feature]
Y = g.integers(0, 3, (world, 3, 4))
for r in range(world):
    for m in range(3):
        (F.cross_entropy(ref(cr.tensor(X[r, m])), cr.tensor(Y[r, m])) / world).backward()
with ddp.no_sync():
    for m in range(2):
        F.cross_entropy(ddp(cr.tensor(X[rank, m])), cr.tensor(Y[rank, m])).backward()
local = model[0].weight.grad.numpy().copy()
other = [cr.zeros(local.shape) for _ in range(world)]
dist.all_gather(other, cr.tensor(local))
assert not np.allclose(other[0].numpy(), other[1].numpy()), "no_sync must not communicate"
F.cross_entropy(ddp(cr.tensor(X[rank, 2])), cr.tensor(Y[rank, 2])).backward()
for (name, p), q in zip(model.named_parameters(), ref.parameters()):
    same(p.grad, q.grad, f"no_sync accumulation {name}", **TOL)

# find_unused_parameters: rank 0 uses head a, rank 1 head b, nobody head c
class Heads(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = cr.nn.Linear(4, 5)
        self.a, self.b, self.c = cr.nn.Linear(5, 2), cr.nn.Linear(5, 2), cr.nn.Linear(5, 2)
    def forward(self, x, head):
        return getattr(self, head)(self.trunk(x).relu())
cr.manual_seed(4)
model = Heads(); ddp = DDP(model, find_unused_parameters=True); ref = Heads(); ref.load_state_dict(model.state_dict())
X = g.standard_normal((world, 3, 4)).astype(np.float32)
for r in range(world):
    (ref(cr.tensor(X[r]), "ab"[r]).square().sum() / world).backward()
for step in range(2):  # the second time checks the state was reset
    ddp.zero_grad()
    ddp(cr.tensor(X[rank]), "ab"[rank]).square().sum().backward()
    for name, p in model.named_parameters():
        q = ref.get_parameter(name)
        if name.startswith("c."):
            assert p.grad is None, name
        else:
            same(p.grad, q.grad, f"find_unused {name}", **TOL)

# without find_unused_parameters an unused parameter is an error at the next forward
model = Heads(); ddp = DDP(model)
ddp(cr.tensor(X[rank]), "a").sum().backward()
raises(RuntimeError, lambda: ddp(cr.tensor(X[rank]), "a"), "Expected to have finished reduction", "b.weight")

# prepare(): DDP + this rank's share; 2 ranks x batch 3 == one process with batch 6 over the same order
from chainrule.distributed import data_parallel
from chainrule.utils.data import TensorDataset, DataLoader, DistributedSampler
Xd = cr.tensor(g.standard_normal((20, 6)).astype(np.float32)); Yd = cr.tensor(g.integers(0, 3, 20))
data = TensorDataset(Xd, Yd)
cr.manual_seed(11); model = mlp(); ref = mlp(); ref.load_state_dict(model.state_dict())
run = data_parallel.prepare(model, data, batch_size=3, seed=9)
assert (run.rank, run.world_size, run.is_main) == (rank, world, rank == 0)
one = DataLoader(data, batch_size=3 * world, sampler=DistributedSampler(data, num_replicas=1, rank=0, seed=9))
opt, ref_opt = cr.optim.SGD(run.model.parameters(), lr=0.2), cr.optim.SGD(ref.parameters(), lr=0.2)
for epoch in range(2):
    run.sampler.set_epoch(epoch); one.sampler.set_epoch(epoch)
    total = seen = 0
    for xb, yb in run.loader:
        opt.zero_grad(); loss = F.cross_entropy(run.model(xb), yb); loss.backward(); opt.step()
        total += loss.item() * len(yb); seen += len(yb)
    for xb, yb in one:
        ref_opt.zero_grad(); F.cross_entropy(ref(xb), yb).backward(); ref_opt.step()
    parts = [cr.zeros(2, dtype=cr.float64) for _ in range(world)]
    dist.all_gather(parts, cr.tensor([total, seen], dtype=cr.float64))
    whole = np.sum([q.numpy() for q in parts], axis=0)
    assert abs(run.mean(total, seen) - whole[0] / whole[1]) < 1e-12 and whole[1] == 20
for (name, p), q in zip(model.named_parameters(), ref.parameters()):
    same(p.detach(), q.detach(), f"prepare() training {name}", **TOL)
run.barrier()

# buffers (BatchNorm statistics) stay local during a step and come from rank 0 at each forward, as torch
bnet = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.BatchNorm1d(4), cr.nn.BatchNorm1d(4)); ddp = DDP(bnet)
bnet[1].running_mean.fill_(float(rank + 1)); bnet[2].running_var.fill_(float(rank + 2))
bnet.eval()
ddp(cr.ones(2, 3))
same(bnet[1].running_mean, np.ones(4, np.float32), "running_mean broadcast from rank 0")
same(bnet[2].running_var, np.full(4, 2.0, np.float32), "running_var broadcast from rank 0")

# every rank's parameter shapes are compared at construction
bad = cr.nn.Sequential(cr.nn.Linear(4, 2 + rank))
raises(RuntimeError, lambda: DDP(bad), "'0.weight'", "[3, 4]", "[2, 4]", "rank 1")
raises(ValueError, lambda: DDP(mlp(), device_ids=[0]), "device_ids")
frozen = mlp().requires_grad_(False)
raises(RuntimeError, lambda: DDP(frozen), "doesn't have any parameter")
print(f"RANK {rank} OK", flush=True)
"""


def test_ddp_equals_one_process_with_the_whole_batch(tmp_path):
    proc, _ = run_mpi(tmp_path, DDP_BODY)
    ok(proc)


# ---- faults: never hang -----------------------------------------------------------------------
def test_a_rank_that_raises_ends_every_rank(tmp_path):
    body = """
    model = DDP(cr.nn.Linear(3, 2))
    for step in range(3):
        if step == 1 and rank == 1:
            raise ValueError("boom on rank 1")
        model(cr.randn(4, 3)).sum().backward()   # rank 0 waits here for rank 1's gradients
        dist.all_reduce(cr.ones(2))
    print(f"RANK {rank} FINISHED", flush=True)
    """
    proc, took = run_mpi(tmp_path, body, timeout=TIMEOUT)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "FINISHED" not in out, out
    assert "boom on rank 1" in out and "aborting all ranks" in out, out
    assert took < TIMEOUT


def test_a_killed_rank_ends_every_rank(tmp_path):
    body = """
    dist.barrier()
    if rank == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    dist.all_reduce(cr.ones(10))   # rank 0 would wait forever for rank 1
    print(f"RANK {rank} FINISHED", flush=True)
    """
    proc, took = run_mpi(tmp_path, body, timeout=TIMEOUT)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "FINISHED" not in out, out
    assert took < TIMEOUT


# ---- one process: errors before init, the sampler, the launcher ---------------------------------
def test_errors_before_init_process_group():
    assert dist.is_available() and dist.is_mpi_available() and not dist.is_initialized()
    msg = "Default process group has not been initialized"
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, dist.get_backend,
                 lambda: dist.all_reduce(cr.ones(2)), lambda: dist.broadcast(cr.ones(2), 0),
                 lambda: dist.all_gather([cr.ones(2)], cr.ones(2)),
                 lambda: cr.nn.parallel.DistributedDataParallel(cr.nn.Linear(2, 2)),
                 lambda: DistributedSampler(list(range(4)))):
        with pytest.raises(ValueError, match=msg):
            call()
    with pytest.raises(ValueError, match=msg):  # torch raises the same
        torch.distributed.get_rank()
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("carrier-pigeon")
    with pytest.raises(TypeError, match="timedelta"):
        dist.init_process_group("mpi", timeout=30)
    if not dist.is_nccl_available():
        with pytest.raises(RuntimeError, match="no GPUs found"):
            dist.init_process_group("nccl")
    assert not dist.is_initialized()
    info = dist.run_info()
    assert info.is_main == (info.rank == 0) and info.world_size >= 1


def _torch_indices(n, replicas, rank, shuffle, seed, drop_last, epoch):
    s = torch.utils.data.distributed.DistributedSampler(range(n), num_replicas=replicas, rank=rank,
                                                        shuffle=shuffle, seed=seed, drop_last=drop_last)
    s.set_epoch(epoch)
    return list(s), len(s)


@pytest.mark.parametrize("n", [1, 2, 7, 10, 12])
@pytest.mark.parametrize("replicas", [1, 3, 4, 16])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_partitions_as_torch(n, replicas, drop_last):
    for rank in range(replicas):
        # no shuffle: identical index lists
        want, want_len = _torch_indices(n, replicas, rank, False, 0, drop_last, 0)
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == want and len(ours) == want_len
        # shuffle: the permutations differ by generator; given torch's, the shares are torch's
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=True, seed=5,
                                  drop_last=drop_last)
        ours.set_epoch(2)
        ours._permutation = lambda k: torch.randperm(k, generator=torch.Generator().manual_seed(7)).tolist()
        want, want_len = _torch_indices(n, replicas, rank, True, 5, drop_last, 2)
        assert list(ours) == want and len(ours) == want_len


def test_sampler_shuffle_seeds_epochs_and_bad_rank():
    shares = [list(DistributedSampler(range(10), 2, r, seed=3)) for r in range(2)]
    assert sorted(shares[0] + shares[1]) == list(range(10))  # disjoint, complete
    s = DistributedSampler(range(10), 2, 0, seed=3)
    assert list(s) == shares[0]          # same seed and epoch: same order on every call and rank
    s.set_epoch(1)
    assert list(s) != shares[0] and sorted(list(s) + list(DistributedSampler(range(10), 2, 1, seed=3)))
    s = DistributedSampler(range(3), 4, 0, drop_last=True)  # torch: ceil((3-4)/4) = 0 samples
    assert len(s) == 0 and list(s) == [] and len(torch.utils.data.distributed.DistributedSampler(
        range(3), 4, 0, drop_last=True)) == 0
    for rank in (-1, 2):
        with pytest.raises(ValueError, match=r"Invalid rank .* interval \[0, 1\]"):
            DistributedSampler(range(4), num_replicas=2, rank=rank)
    loader = cr.utils.data.DataLoader(list(range(10)), batch_size=3, sampler=DistributedSampler(range(10), 2, 1,
                                                                                               shuffle=False))
    assert [b.tolist() for b in loader] == [[1, 3, 5], [7, 9]]


def test_launch_command_line(capsys):
    from chainrule.cli import main
    assert main(["launch", "-n", "3", "--dry-run", "train", "--epochs", "1"]) == 0
    line = capsys.readouterr().out
    assert "-n 3" in line and "-m mpi4py -m chainrule train --epochs 1" in line
    assert main(["launch", "-n", "2", "--dry-run", "job.py", "x"]) == 0
    assert "-m mpi4py job.py x" in capsys.readouterr().out
    assert main(["launch", "-n", "2"]) == 2
    assert main(["launch", "-n", "2", "--mpiexec", "/no/such/mpiexec", "train"]) == 2
    assert "no mpiexec found" in capsys.readouterr().err
    assert shutil.which(MPIEXEC)


# ---- NCCL (CUDA): a world of one process on one GPU ------------------------------------------------
@pytest.mark.cuda
@pytest.mark.skipif(not cr.cuda.is_available(), reason="needs an NVIDIA GPU and CuPy")
def test_nccl_world_of_one():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    dist.init_process_group("nccl")
    try:
        assert (dist.get_backend(), dist.get_rank(), dist.get_world_size()) == ("nccl", 0, 1)
        for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.MIN):
            t = cr.tensor(x, device="cuda")
            dist.all_reduce(t, op=op)
            np.testing.assert_allclose(t.cpu().numpy(), x, rtol=1e-6)
        t = cr.tensor(x, device="cuda")
        work = dist.all_reduce(t, async_op=True)
        assert work.wait() and work.is_completed()
        dist.broadcast(t, src=0)
        out = cr.zeros(3, 5, device="cuda")
        dist.all_gather_into_tensor(out, cr.tensor(x, device="cuda"))
        np.testing.assert_allclose(out.cpu().numpy(), x)
        dist.reduce_scatter_tensor(out, cr.tensor(2 * x, device="cuda"))
        np.testing.assert_allclose(out.cpu().numpy(), 2 * x)
        dist.barrier()
        with pytest.raises(RuntimeError, match="CUDA tensors"):
            dist.all_reduce(cr.tensor(x))
        # DDP on the GPU: a world of one gives the plain model's gradients
        cr.manual_seed(0)
        model = cr.nn.Sequential(cr.nn.Linear(5, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2)).to("cuda")
        ref = cr.nn.Sequential(cr.nn.Linear(5, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2)).to("cuda")
        ref.load_state_dict(model.state_dict())
        ddp = cr.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)
        xb = cr.tensor(x, device="cuda")
        ddp(xb).square().sum().backward()
        ref(xb).square().sum().backward()
        for p, q in zip(model.parameters(), ref.parameters()):
            np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)
    finally:
        dist.destroy_process_group()


def test_nccl_unique_id_survives_the_mpi_broadcast():
    """NCCL's id crosses MPI as bytes: CuPy >= 14 gives ``bytes`` (the H200 run's CuPy 14.2),
    older CuPy a tuple of signed chars; either comes back as the same object on every rank."""
    from chainrule.distributed.nccl import _pack_unique_id, _unpack_unique_id
    as_bytes = bytes(np.random.default_rng(1).integers(0, 256, 128).astype(np.uint8))
    as_chars = tuple(np.random.default_rng(2).integers(-128, 128, 128).tolist())
    for uid in (as_bytes, as_chars):
        packed = _pack_unique_id(uid)
        assert packed.dtype == np.uint8 and packed.shape == (129,)
        assert _unpack_unique_id(packed.copy()) == uid


# ---- find_unused_parameters when one rank used every parameter ----------------------------------
UNUSED_ON_ONE_RANK = """
F = cr.nn.functional
class Heads(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = cr.nn.Linear(4, 2), cr.nn.Linear(4, 2)
    def forward(self, x, both):
        return self.a(x) + self.b(x) if both else self.a(x)
cr.manual_seed(5)
model = Heads(); ddp = DDP(model, find_unused_parameters=True); ref = Heads(); ref.load_state_dict(model.state_dict())
X = np.random.default_rng(0).standard_normal((world, 3, 4)).astype(np.float32)
for r in range(world):
    (ref(cr.tensor(X[r]), r == 0).square().sum() / world).backward()
for step in range(2):
    ddp.zero_grad()
    ddp(cr.tensor(X[rank]), rank == 0).square().sum().backward()  # rank 0 uses b, rank 1 does not
    for name, p in model.named_parameters():
        same(p.grad, ref.get_parameter(name).grad, f"step {step} {name}", rtol=1e-5, atol=1e-6)
print(f"RANK {rank} OK", flush=True)
"""


def test_find_unused_parameters_when_one_rank_used_them_all(tmp_path):
    """The unused-parameter map is all-reduced on every rank, also one that used every parameter
    (before, only ranks with an unused parameter joined that all-reduce: the others never did)."""
    proc, _ = run_mpi(tmp_path, UNUSED_ON_ONE_RANK)
    ok(proc)
