"""cr.compile vs eager vs torch eager: ``python -m bench.compile_step [--threads 2] [--samples 11]``.

For the 50-op elementwise chain with backward, the MLP 784-256-256-10 training step (SGD with
momentum) at batch 32/128/512, LeNet-5 and the ResNet-style CNN (bench/workloads.py), prints the
median time per step of chainrule eager, chainrule compiled (each pass set: ``--passes each``) and
torch eager, the ratios against torch, and the trace cost: the first compiled call over an eager
step (recording, then passes + code generation). Samples are interleaved so noise hits all alike.
"""
import argparse
import statistics
import time

import numpy as np

from bench import workloads
from bench.run import _set_threads

WORKLOADS = {
    "50-op chain + backward": workloads.chain50,
    "MLP 784-256-256-10 step b32": workloads.mlp_step(32),
    "MLP 784-256-256-10 step b128": workloads.mlp_step(128),
    "MLP 784-256-256-10 step b512": workloads.mlp_step(512),
    "LeNet-5 step b64": workloads.lenet_step(64),
    "ResNet-style step b32": workloads.resnet_step(32),
}


def _time(step, min_time):
    reps, start = 0, time.perf_counter()
    while True:
        step()
        reps += 1
        el = time.perf_counter() - start
        if el >= min_time:
            return el / reps


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.compile_step", description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=11)
    p.add_argument("--min-time", type=float, default=0.05)
    p.add_argument("--only", default="")
    p.add_argument("--passes", default="all", help="'all', 'none' or a comma list; 'each' adds one row per pass")
    args = p.parse_args(argv)
    import torch
    import chainrule as cr
    from chainrule.jit.compile import PASSES
    limits = _set_threads(args.threads)
    pass_sets = {"all": [PASSES], "none": [()], "each": [(), *[(q,) for q in PASSES], PASSES]}.get(
        args.passes, [tuple(args.passes.split(","))])
    print(f"threads={args.threads} samples={args.samples} (median ms/step; ratio = chainrule / torch eager)")
    print(f"{'workload':32s} {'torch':>8s} {'eager':>8s} {'x':>6s}  " +
          "  ".join(f"{'compiled[' + (','.join(ps) or 'no passes') + ']':>26s} {'x':>6s}" for ps in pass_sets)
          + "  first call / eager step")
    for name, setup in WORKLOADS.items():
        if args.only and not any(s in name for s in args.only.split(",")):
            continue
        t_step = setup(torch)
        e_step = setup(cr)
        compiled, firsts = [], []
        for ps in pass_sets:
            c_step = setup(cr)
            f = cr.compile(c_step, passes=ps)
            for _ in range(3):
                e_step()
            t0 = time.perf_counter()
            f()
            firsts.append((time.perf_counter() - t0, f.stats["trace_s"], f.stats["compile_s"]))
            assert f.stats["graph_breaks"] == 0, f.stats["break_reasons"]
            compiled.append(f)
        for _ in range(3):
            t_step()
            for f in compiled:
                f()
        samples = {"torch": [], "eager": [], **{i: [] for i in range(len(compiled))}}
        for _ in range(args.samples):
            samples["torch"].append(_time(t_step, args.min_time))
            samples["eager"].append(_time(e_step, args.min_time))
            for i, f in enumerate(compiled):
                samples[i].append(_time(f, args.min_time))
        med = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
        row = f"{name:32s} {med['torch']:8.3f} {med['eager']:8.3f} {med['eager'] / med['torch']:6.2f}  "
        row += "  ".join(f"{med[i]:26.3f} {med[i] / med['torch']:6.2f}" for i in range(len(compiled)))
        first, tr, co = firsts[-1]  # the last pass set's first call: recording, then passes + codegen
        print(row + f"  {first * 1e3 / med['eager']:5.2f} (record {tr * 1e3 / med['eager']:.2f} + "
              f"compile {co * 1e3 / med['eager']:.2f})", flush=True)
    limits.unregister() if hasattr(limits, "unregister") else None
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
