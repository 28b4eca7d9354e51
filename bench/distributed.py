"""Data-parallel training over MPI (issue 17): throughput, communication wait, all-reduce bandwidth.

    python bench/distributed.py                # everything, prints a table and writes JSON
    python bench/distributed.py --quick        # fewer steps and sizes (a smoke run)

Runs itself under ``mpiexec -n 1`` and ``-n 2`` (one BLAS thread per process) and reports:

* training throughput (samples/s) of the MLP (784-256-256-10, 64 samples per rank) and the
  ResNet-style CNN (bench/workloads.py ``resnet_small``, 16 samples per rank) at 1 and 2
  processes: weak scaling, each rank a fixed share, so ideal 2-process throughput is 2x; and
  a wide MLP (784-2048-2048-10, 23 MB of gradients) where communication is large enough for
  the overlap to show;
* the share of the step spent waiting for gradients: all of DDP's final wait (which includes
  skew: a rank waiting for a slower one), and the exposed communication alone (from the moment
  the last rank finished backward until the gradients were averaged),
  with the default buckets (all-reduces overlap backward) and with one bucket launched after
  backward (``bucket_cap_mb`` above the model size: no overlap);
* all-reduce bandwidth of ``chainrule.distributed.all_reduce`` vs mpi4py's raw ``Allreduce`` on
  the same NumPy buffer, 1-256 MB float32 (algorithm bandwidth: bytes / time; calls interleaved,
  best of k, since other jobs share the machine).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ---- worker side (runs under mpiexec) -----------------------------------------------------------
def _train(model_name, steps, bucket_cap_mb):
    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule.nn.parallel import DistributedDataParallel as DDP
    sys.path.insert(0, ROOT)
    from bench import workloads
    rank, world = dist.get_rank(), dist.get_world_size()
    cr.manual_seed(0)
    if model_name in ("mlp", "mlp2048"):
        width = 256 if model_name == "mlp" else 2048
        model, shape, per_rank = workloads.mlp(cr.nn, width=width), (784,), 64
        opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        model, shape, per_rank = workloads.resnet_small(cr.nn), (3, 32, 32), 16
        opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb)
    rng = np.random.default_rng(rank)
    x = cr.tensor(rng.standard_normal((per_rank,) + shape).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, per_rank))
    loss_fn = cr.nn.CrossEntropyLoss()
    times, waits, exposed = [], [], []
    ready = cr.zeros(world, dtype=cr.float64)
    for step in range(steps + 2):
        dist.barrier()
        wait0 = ddp._comm_wait_s
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()
        took = time.perf_counter() - t0
        # exposed communication: from the moment the LAST rank finished backward until this rank had
        # its averaged gradients (the clock is the machine's monotonic clock, shared by the processes);
        # the rest of the wait is skew, a rank waiting for a slower one (other jobs share the cores)
        start, done = ddp._last_wait
        dist.all_gather_into_tensor(ready, cr.tensor([start], dtype=cr.float64))
        if step >= 2:  # two warm-up steps
            times.append(took)
            waits.append(ddp._comm_wait_s - wait0)
            exposed.append(max(0.0, done - float(ready.max())))
    t, w, e = np.array(times), np.array(waits), np.array(exposed)
    best = int(np.argmin(t))
    # the slowest rank sets the pace: the max over ranks of the median step time (and of the best step)
    stats = cr.tensor(np.array([np.median(t), np.median(w / t), np.median(e / t), t[best]], np.float64))
    dist.all_reduce(stats, op=dist.ReduceOp.MAX)
    step_s, wait_share, exposed_share, best_s = stats.tolist()
    return {"model": model_name, "world": world, "per_rank_batch": per_rank, "buckets": len(ddp._buckets),
            "step_ms": 1e3 * step_s, "samples_per_s": world * per_rank / step_s, "wait_share": wait_share,
            "exposed_comm_share": exposed_share, "best_step_ms": 1e3 * best_s,
            "best_samples_per_s": world * per_rank / best_s}


def _bandwidth(sizes_mb, reps):
    import chainrule as cr
    import chainrule.distributed as dist
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    out = []
    for mb in sizes_mb:
        a = np.ones(int(mb * 2 ** 20) // 4, np.float32)
        t = cr.Tensor._make(a)
        k = max(3, min(400, int(reps * 64 / mb)))  # many reps for the small sizes: noise is per call
        calls = {"raw": lambda: comm.Allreduce(MPI.IN_PLACE, a, op=MPI.SUM), "chainrule": lambda: dist.all_reduce(t),
                 "chainrule_async": lambda: dist.all_reduce(t, async_op=True).wait()}
        samples = {name: [] for name in calls}
        for name in calls:
            calls[name]()
        for _ in range(k):  # interleaved, so both see the same machine load; the best of k is the figure
            for name, call in calls.items():
                comm.Barrier()
                t0 = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - t0)
        best = {name: float(np.min(v)) for name, v in samples.items()}
        out.append({"mb": mb, "raw_GBps": a.nbytes / best["raw"] / 1e9,
                    "chainrule_GBps": a.nbytes / best["chainrule"] / 1e9,
                    "overhead": best["chainrule"] / best["raw"] - 1,
                    "async_GBps": a.nbytes / best["chainrule_async"] / 1e9})
    return out


def worker(args):
    import chainrule.distributed as dist
    dist.init_process_group("mpi")
    if args.what == "train":
        result = _train(args.model, args.steps, args.bucket_cap_mb)
    else:
        result = _bandwidth(args.sizes, args.reps)
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


# ---- driver side ------------------------------------------------------------------------------
def launch(n, *worker_args):
    from chainrule.cli.launch import find_mpiexec
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [find_mpiexec(), "-n", str(n), sys.executable, os.path.abspath(__file__), "--worker", *worker_args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"worker failed ({' '.join(cmd)}):\n{proc.stdout}\n{proc.stderr}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--what", default="train", choices=["train", "bandwidth"])
    p.add_argument("--model", default="mlp", choices=["mlp", "mlp2048", "resnet"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--bucket-cap-mb", type=float, default=None)
    p.add_argument("--sizes", type=float, nargs="*", default=[1, 4, 16, 64, 256])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=os.path.join(HERE, "results", "distributed.json"))
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    steps = {"mlp": 6, "resnet": 3, "mlp2048": 3} if args.quick else {"mlp": 40, "resnet": 12, "mlp2048": 20}
    sizes = [1, 16] if args.quick else [1, 4, 16, 64, 256]
    results = {"train": [], "bandwidth": None}
    print("median step (best step): time, samples/s; share of the step waiting for gradients (all of the wait,"
          " and the communication still exposed after the last rank finished backward)")
    print(f"{'model':8} {'procs':>5} {'buckets':>7} {'step ms':>15} {'samples/s':>17} {'wait':>6} {'exposed':>8}")
    no_overlap = (2, 10000.0, "one bucket after backward: no overlap")
    configs = {"mlp": [(1, None, ""), (2, None, "default buckets"), no_overlap],
               "resnet": [(1, None, ""), (2, None, "default buckets (the model is 0.7 MB: one)"),
                          (2, 0.1, "0.1 MB buckets: overlap"), no_overlap],
               "mlp2048": [(1, None, ""), (2, 4.0, "4 MB buckets: overlap"), no_overlap]}
    for model, runs in configs.items():
        for n, cap, label in runs:
            extra = [] if cap is None else ["--bucket-cap-mb", str(cap)]
            r = launch(n, "--what", "train", "--model", model, "--steps", str(steps[model]), *extra)
            r["bucket_cap_mb"], r["label"] = cap, label
            results["train"].append(r)
            tag = f"  ({label})" if label else ""
            print(f"{model:8} {n:5d} {r['buckets']:7d} {r['step_ms']:7.1f} ({r['best_step_ms']:5.1f}) "
                  f"{r['samples_per_s']:8.0f} ({r['best_samples_per_s']:6.0f}) "
                  f"{100 * r['wait_share']:5.1f}% {100 * r['exposed_comm_share']:7.1f}%{tag}", flush=True)
    bw = launch(2, "--what", "bandwidth", "--sizes", *map(str, sizes), "--reps", "3" if args.quick else "10")
    results["bandwidth"] = bw
    print(f"\n{'MB':>6} {'raw GB/s':>9} {'chainrule GB/s':>15} {'overhead':>9} {'async_op GB/s':>14}")
    for r in bw:
        print(f"{r['mb']:6g} {r['raw_GBps']:9.2f} {r['chainrule_GBps']:15.2f} {100 * r['overhead']:8.1f}% "
              f"{r['async_GBps']:14.2f}")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"\nwritten {args.json}")


if __name__ == "__main__":
    sys.exit(main())
