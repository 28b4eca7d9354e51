"""cr.compile vs eager vs torch eager: ``python -m bench.compile_step [--threads 2] [--samples 11]``.

For the 50-op elementwise chain with backward, the MLP 784-256-256-10 training step (SGD with
momentum) at batch 32/128/512, LeNet-5 (SGD) and the ResNet-style CNN (Adam) (bench/workloads.py),
prints the median time per step of torch eager, chainrule eager and chainrule compiled with every
pass, with no pass, and (``--passes each``, the default) with every pass but one: that column over
the all-passes one is what the missing pass gains. Then the trace cost (each compiled call up to
the first replay, and one after, over an eager step; recording and passes + code generation
summed over the traces) and the peak memory a step
allocates (tracemalloc: eager, compiled with all passes, compiled with none). Samples are
interleaved (every variant once per round) so machine noise hits all alike.
"""
import argparse
import statistics
import time
import tracemalloc

import numpy as np

from bench import workloads
from bench.run import _set_threads, warm

WORKLOADS = {
    "50-op chain + backward": workloads.chain50,
    "MLP 784-256-256-10 step b32": workloads.mlp_step(32),
    "MLP 784-256-256-10 step b128": workloads.mlp_step(128),
    "MLP 784-256-256-10 step b512": workloads.mlp_step(512),
    "LeNet-5 step b64": workloads.lenet_step(64),
    "ResNet-style step b32": workloads.resnet_step(32),
}


def _time(step, min_time, clock=time.perf_counter):
    reps, start = 0, clock()
    while True:
        step()
        reps += 1
        el = clock() - start
        if el >= min_time:
            return el / reps


def _peak(step):
    """Bytes a step allocates at its peak, over what was allocated before it."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.compile_step", description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=11)
    p.add_argument("--min-time", type=float, default=0.05)
    p.add_argument("--only", default="")
    p.add_argument("--pause", type=float, default=0.2, help="idle seconds before each sample (see bench/run.py)")
    p.add_argument("--warm", type=float, default=0.2, help="seconds of untimed steps after it (see bench/run.py)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="cpu: process CPU time (all threads), steadier on a machine others load")
    p.add_argument("--passes", default="each",
                   help="'each' (all, none, all but one for each pass), 'summary' (all, none, and "
                        "dce,fuse,release: the passes before this session), 'all', or a comma list")
    args = p.parse_args(argv)
    import torch
    import chainrule as cr
    from chainrule.jit.compile import PASSES
    limits = _set_threads(args.threads)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.passes == "each":
        sets = {"all": PASSES, "none": ()}
        sets.update({f"-{q}": tuple(x for x in PASSES if x != q) for q in PASSES})
    elif args.passes == "all":
        sets = {"all": PASSES}
    elif args.passes == "summary":
        sets = {"all": PASSES, "none": (), "dce,fuse,release": ("dce", "fuse", "release")}
    else:
        sets = {args.passes: tuple(q for q in args.passes.split(",") if q)}
    print(f"threads={args.threads} samples={args.samples} clock={args.clock} median ms/step (x = over torch eager; "
          f"'-pass' = all passes but that one, ratio to 'all' in parentheses)")
    for name, setup in WORKLOADS.items():
        if args.only and not any(s in name for s in args.only.split(",")):
            continue
        t_step = setup(torch)
        e_step = setup(cr)
        compiled, firsts = {}, {}
        for label, ps in sets.items():
            f = cr.compile(setup(cr), passes=ps)
            for _ in range(3):
                e_step()
            calls = []
            while not f.stats["replays"] and len(calls) < 5:  # the trace(s), then the first replay
                t0 = time.perf_counter()
                f()
                calls.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            f()
            calls.append(time.perf_counter() - t0)
            firsts[label] = (calls, f.stats["trace_s"], f.stats["compile_s"])
            assert f.stats["graph_breaks"] == 0, f.stats["break_reasons"]
            compiled[label] = f
        for _ in range(3):
            t_step()
            for f in compiled.values():
                f()
        runs = {"torch": t_step, "eager": e_step, **compiled}
        samples = {k: [] for k in runs}
        for _ in range(args.samples):
            for k, f in runs.items():
                # idle first, as python -m bench does: OpenBLAS's and torch's pool threads busy-wait after
                # their last call and would steal the second core from the next sample (either library's)
                time.sleep(args.pause)
                warm(f, args.warm)  # untimed: steps after the pause run cold (see bench/run.py)
                samples[k].append(_time(f, args.min_time, clock))
        med = {k: statistics.median(v) * 1e3 for k, v in samples.items()}
        spread = max((statistics.quantiles(v, n=4)[2] - statistics.quantiles(v, n=4)[0]) / statistics.median(v)
                     for v in samples.values()) if args.samples >= 4 else 0.0
        print(f"\n{name}   (widest interquartile range: {spread:.0%} of its median)")
        for k in runs:
            rel = f"  ({med[k] / med['all']:.2f})" if k[:1] in "-+" and "all" in med else ""
            print(f"  {k if k in ('torch', 'eager') else 'compiled[' + k + ']':28s} {med[k]:9.3f} ms "
                  f"{med[k] / med['torch']:6.2f}x{rel}")
        calls, tr, co = firsts[next(iter(sets))]
        e = med["eager"] / 1e3
        print("  calls until the first replay, and one more, in eager steps: "
              + ", ".join(f"{c / e:.1f}" for c in calls) + f" (recording {tr / e:.1f} + passes/codegen "
              f"{co / e:.1f}; the first replay loads or compiles the numba kernels)")
        mem = {"eager": _peak(e_step)}
        for k in ("all", "none"):
            if k in compiled:
                mem[k] = _peak(compiled[k])
        print("  peak bytes allocated by one step: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in mem.items()),
              flush=True)
    limits.unregister() if hasattr(limits, "unregister") else None
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
