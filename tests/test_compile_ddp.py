"""cr.compile with DistributedDataParallel (issue 17): the bucket all-reduces are steps of the compiled
plan. 2 MPI processes launched from pytest as in tests/test_distributed.py (``mpiexec -n 2 python
job.py``, a pytest-side timeout); each rank checks, prints ``RANK r OK``, and the test reads that."""
from test_distributed import MPIEXEC, ok, pytestmark, run_mpi  # noqa: F401  (pytestmark: skip without MPI)

BODY = """
from chainrule.jit.compile import GraphBreakError
F = cr.nn.functional
TOL = dict(rtol=1e-5, atol=1e-6)

def mlp():  # ReLU6: comparisons and where on traced values (Compare/Logical ops) inside the compiled step
    return cr.nn.Sequential(cr.nn.Linear(6, 32), cr.nn.Tanh(), cr.nn.Linear(32, 64), cr.nn.ReLU6(),
                            cr.nn.Linear(64, 3))

def trio(make, **kw):
    # the compiled DDP model, the eager DDP model and one process's model, all with rank 0's weights
    cr.manual_seed(1000 + rank)  # each rank starts differently: DDP broadcasts rank 0's weights
    model = make(); ddp = DDP(model, **kw)
    eager = make(); eager.load_state_dict(model.state_dict()); eddp = DDP(eager, **kw)
    ref = make(); ref.load_state_dict(model.state_dict())
    return model, ddp, eager, eddp, ref

def kinds(c):
    return [st.kind for st in c.plans()[0].steps]

g = np.random.default_rng(7)
mine = slice(rank * 8 // world, (rank + 1) * 8 // world)

# ---- a whole training step: forward, backward with bucket all-reduces, SGD step ----
model, ddp, eager, eddp, ref = trio(mlp, bucket_cap_mb=0.0005)  # several buckets
assert len(ddp._buckets) > 2
opt, eopt, ropt = (cr.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (ddp, eddp, ref))

def step(x, y):
    opt.zero_grad()
    loss = F.cross_entropy(ddp(x), y)
    loss.backward()
    opt.step()
    return loss

cstep = cr.compile(step, fullgraph=True)  # fullgraph: a graph break would raise
for it in range(4):
    X = g.standard_normal((8, 6)).astype(np.float32); Y = g.integers(0, 3, 8)
    loss = cstep(cr.tensor(X[mine]), cr.tensor(Y[mine]))
    eopt.zero_grad(); eloss = F.cross_entropy(eddp(cr.tensor(X[mine])), cr.tensor(Y[mine])); eloss.backward()
    eopt.step()
    ropt.zero_grad(); F.cross_entropy(ref(cr.tensor(X)), cr.tensor(Y)).backward(); ropt.step()
    same(loss.detach(), eloss.detach(), f"step {it} loss, compiled vs eager DDP", **TOL)
    for (name, p), q in zip(model.named_parameters(), eager.parameters()):
        same(p.grad, q.grad, f"step {it} averaged grad {name}, compiled vs eager DDP", **TOL)
for (name, p), q, r in zip(model.named_parameters(), eager.parameters(), ref.parameters()):
    same(p.detach(), q.detach(), f"weights {name}: compiled vs eager DDP", **TOL)
    same(p.detach(), r.detach(), f"weights {name}: compiled DDP vs one process with the global batch",
         rtol=1e-4, atol=1e-6)
st = cstep.stats
# two traces (the second validates the first), then replays
assert (st["traces"], st["replays"], st["graph_breaks"], st["eager_calls"]) == (2, 2, 0, 0), st
k = kinds(cstep)
assert k.count("all_reduce") == len(ddp._buckets) and k.count("all_reduce_wait") == 1, k
assert k.count("ddp_grad") == len(ddp._params), k
assert k.index("all_reduce") < k.index("acc") and k.index("all_reduce_wait") < k.index("acc"), k
assert k.index("all_reduce") < max(i for i, s in enumerate(k) if s == "bwd"), "no overlap with backward"
# the picture of the compiled step shows the all-reduce nodes
pic = cr.viz.ir_graph(cstep)
labels = [b.lines[0] for b in pic._boxes]
assert labels.count("all_reduce") == len(ddp._buckets) and "all_reduce_wait" in labels, labels
assert "Compare" in labels and "Logical" in labels, labels
# every rank holds the same weights after the replays (the replayed all-reduces averaged)
flat = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
both = [cr.zeros(flat.size) for _ in range(world)]
dist.all_gather(both, cr.tensor(flat))
same(both[0], both[1], "weights equal on every rank")

# ---- no_sync: a compiled accumulation step, traced once per sync mode (the mode is in the cache key) ----
model, ddp, eager, eddp, ref = trio(mlp)

def accumulate(x, y):
    F.cross_entropy(ddp(x), y).backward()

cacc = cr.compile(accumulate, fullgraph=True)
for cycle in range(3):  # two traces per sync mode, then the third cycle replays both plans
    X = g.standard_normal((world, 3, 4, 6)).astype(np.float32); Y = g.integers(0, 3, (world, 3, 4))
    ddp.zero_grad(); ref.zero_grad()
    for r in range(world):
        for m in range(3):
            (F.cross_entropy(ref(cr.tensor(X[r, m])), cr.tensor(Y[r, m])) / world).backward()
    with ddp.no_sync():
        for m in range(2):
            cacc(cr.tensor(X[rank, m]), cr.tensor(Y[rank, m]))
    cacc(cr.tensor(X[rank, 2]), cr.tensor(Y[rank, 2]))
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        same(p.grad, q.grad, f"cycle {cycle}: no_sync accumulation then a synchronised step, {name}", **TOL)
assert (cacc.stats["traces"], cacc.stats["graph_breaks"], cacc.stats["replays"]) == (4, 0, 5), cacc.stats
plans = cacc.plans()
assert sorted(kinds_.count("all_reduce") > 0 for kinds_ in ([s.kind for s in p.steps] for p in plans)) == [False, True]

# ---- buffers: BatchNorm running statistics broadcast from rank 0 at each forward (a call in the plan) ----
def bnnet():
    return cr.nn.Sequential(cr.nn.Linear(6, 8), cr.nn.BatchNorm1d(8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
model, ddp, eager, eddp, ref = trio(bnnet)
opt, eopt = cr.optim.SGD(ddp.parameters(), lr=0.1), cr.optim.SGD(eddp.parameters(), lr=0.1)

def bnstep(x, y):
    opt.zero_grad(); loss = F.cross_entropy(ddp(x), y); loss.backward(); opt.step()
    return loss

cbn = cr.compile(bnstep, fullgraph=True)
for it in range(4):
    X = g.standard_normal((8, 6)).astype(np.float32); Y = g.integers(0, 3, 8)
    cbn(cr.tensor(X[mine]), cr.tensor(Y[mine]))
    eopt.zero_grad(); F.cross_entropy(eddp(cr.tensor(X[mine])), cr.tensor(Y[mine])).backward(); eopt.step()
for (name, p), q in zip(model.state_dict().items(), eager.state_dict().values()):
    same(p, q, f"BatchNorm net {name}: compiled vs eager DDP", **TOL)
assert "call" in kinds(cbn) and cbn.stats["replays"] == 2, cbn.stats
assert any(s.kind == "call" and s.p["fn"].__name__ == "_broadcast_buffers" for s in cbn.plans()[0].steps)

# ---- find_unused_parameters: rank 0 uses head a, rank 1 head b, nobody head c (the traced path's set) ----
class Heads(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = cr.nn.Linear(4, 5)
        self.a, self.b, self.c = cr.nn.Linear(5, 2), cr.nn.Linear(5, 2), cr.nn.Linear(5, 2)
    def forward(self, x, head):
        return getattr(self, head)(self.trunk(x).relu())
model, ddp, eager, eddp, ref = trio(Heads, find_unused_parameters=True, bucket_cap_mb=0.00005)

def headstep(x, head):
    ddp.zero_grad()
    ddp(x, head).square().sum().backward()

chead = cr.compile(headstep, fullgraph=True)
for it in range(4):
    X = g.standard_normal((world, 3, 4)).astype(np.float32)
    ref.zero_grad()
    for r in range(world):
        (ref(cr.tensor(X[r]), "ab"[r]).square().sum() / world).backward()
    chead(cr.tensor(X[rank]), "ab"[rank])
    for name, p in model.named_parameters():
        if name.startswith("c."):
            assert p.grad is None, name
        else:
            same(p.grad, ref.get_parameter(name).grad, f"step {it} find_unused {name}", **TOL)
assert chead.stats["replays"] == 2 and chead.stats["graph_breaks"] == 0, chead.stats
assert "ddp_unused" in kinds(chead), kinds(chead)
print(f"RANK {rank} OK", flush=True)
"""


def test_compiled_ddp_step_replays_the_bucket_all_reduces(tmp_path):
    proc, _ = run_mpi(tmp_path, BODY)
    ok(proc)
