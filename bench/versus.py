"""Two checkouts of chainrule against each other and torch, in one process: ``python -m bench.versus OTHER``.

On a noisy machine two runs of ``python -m bench`` minutes apart differ by more than most changes do (on the
project's 2-core VM torch's own ResNet step read 45-64 ms from run to run, and a change's before and after
run one after the other read anything from 0.83x to 1.15x). Here the other checkout (a git worktree, say of
a session's start) is loaded as the package ``chainrule_other`` beside this one, and the three steps take
their samples in turn, the order reversed every other sample (the second of two identical configurations
read 1.4% slower), so that the machine's noise hits them alike. Prints medians, each one's ratio to torch,
and this / other.
"""
import argparse
import importlib.util
import os
import statistics
import sys
import time

from . import run, workloads


def load_other(root):
    """The chainrule package of the checkout at ``root``, imported as ``chainrule_other`` (its modules import
    each other relatively, so none of them resolves to this checkout's)."""
    package = os.path.join(os.path.abspath(root), "chainrule")
    spec = importlib.util.spec_from_file_location("chainrule_other", os.path.join(package, "__init__.py"),
                                                  submodule_search_locations=[package])
    if spec is None:
        raise SystemExit(f"bench.versus: no chainrule package under {root}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["chainrule_other"] = module
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.versus", description=__doc__.splitlines()[0])
    p.add_argument("other", help="the root of another checkout (a git worktree)")
    p.add_argument("--only", default="LeNet,ResNet", help="comma-separated substrings of workload names")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=15, help="samples per workload and library (median)")
    p.add_argument("--min-time", type=float, default=0.05, help="seconds per sample (repeats the step)")
    p.add_argument("--tiny", action="store_true", help="smoke mode: 1 sample, tiny sizes (tests)")
    args = p.parse_args(argv)
    limits = run._set_threads(args.threads)
    import torch
    import chainrule
    libs = {"this": chainrule, "other": load_other(args.other), "torch": torch}
    table = workloads.tiny_workloads() if args.tiny else workloads.CPU_WORKLOADS
    if args.tiny:
        args.samples, args.min_time = 1, 0.0
    only = [s.strip().lower() for s in args.only.split(",") if s.strip()]
    print(f"this: {os.path.dirname(chainrule.__file__)}; other: {os.path.dirname(libs['other'].__file__)}; "
          f"{args.threads} threads")
    for name, setup in table.items():
        if only and not any(o in name.lower() for o in only):
            continue
        steps = {k: setup(lib) for k, lib in libs.items()}
        samples = {k: [] for k in steps}
        for step in steps.values():
            run.warm(step, 0.0)
        order = list(steps)
        for i in range(args.samples):
            for k in order if i % 2 == 0 else order[::-1]:
                time.sleep(0.0 if args.tiny else 0.2)  # see run.measure: idle, then back to steady state
                run.warm(steps[k], 0.0 if args.tiny else 0.2)
                samples[k].append(run._time(steps[k], args.min_time, "cpu"))
        med = {k: statistics.median(v) for k, v in samples.items()}
        print(f"{name}: this {med['this'] * 1e3:.3f} ms ({med['this'] / med['torch']:.3f}x torch), other "
              f"{med['other'] * 1e3:.3f} ms ({med['other'] / med['torch']:.3f}x), torch {med['torch'] * 1e3:.3f} ms;"
              f" this / other {med['this'] / med['other']:.3f}", flush=True)
    limits.restore_original_limits()
    return 0


if __name__ == "__main__":
    main()
