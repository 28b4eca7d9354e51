"""chainrule vs PyTorch, side by side in one process: ``python -m bench`` (see --help).

Same thread count for both (NumPy's BLAS and torch.set_num_threads), float32, warm-up, then
samples of chainrule and torch interleaved (so machine noise hits both alike); the table shows
medians and the ratio chainrule / torch. Results are also written to bench/results/*.json.
"""
import argparse
import json
import os
import sys
import time


def _set_threads(n):
    """The same thread count for NumPy's BLAS (also when NumPy is already loaded) and torch."""
    from threadpoolctl import threadpool_limits
    import torch
    torch.set_num_threads(n)
    return threadpool_limits(limits=n)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=21, help="samples per workload (median reported)")
    p.add_argument("--min-time", type=float, default=0.02, help="seconds per sample (repeats the step)")
    p.add_argument("--pause", type=float, default=0.2,
                   help="idle seconds before each sample (see measure)")
    p.add_argument("--warm", type=float, default=0.2,
                   help="seconds of untimed steps after each pause, at least one step (see measure)")
    p.add_argument("--only", default="", help="comma-separated substrings of workload names to run")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--check", action="store_true", help="verify same loss/grads before timing")
    p.add_argument("--check-only", action="store_true", help="run --check and exit")
    p.add_argument("--memory", action="store_true", help="also measure peak step memory and growth")
    p.add_argument("--growth-steps", type=int, default=1000)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    p.add_argument("--tiny", action="store_true", help="smoke mode: 1 sample, tiny sizes (tests)")
    return p.parse_args(argv)


def _blas_description():
    """Which BLAS NumPy runs, and which kernels (a pinned OPENBLAS_CORETYPE changes them)."""
    from threadpoolctl import threadpool_info
    import numpy  # noqa: F401  (loads the BLAS that threadpool_info reports)
    for lib in threadpool_info():
        if lib["user_api"] == "blas" and "numpy" in lib["filepath"]:  # not SciPy's own copy
            return f"{lib['internal_api']} {lib['version']} ({lib.get('architecture') or '?'} kernels)"
    return "unknown"


def _sync(device):
    if device == "cuda":
        import torch
        import chainrule as cr
        torch.cuda.synchronize()
        cr.cuda.synchronize()


def _time(step, min_time, device):
    """Seconds per call of ``step``, repeating it for at least ``min_time``."""
    reps, start = 0, time.perf_counter()
    while True:
        step()
        reps += 1
        _sync(device)
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / reps


def warm(step, seconds, device="cpu"):
    """Untimed steps for ``seconds`` (at least one)."""
    start = time.perf_counter()
    while True:
        step()
        _sync(device)
        if time.perf_counter() - start >= seconds:
            return


def measure(setup, args):
    import chainrule as cr
    import torch
    steps = {"chainrule": setup(cr, args.device), "torch": setup(torch, args.device)}
    for step in steps.values():  # warm-up
        for _ in range(3):
            step()
    _sync(args.device)
    samples = {k: [] for k in steps}
    for _ in range(args.samples):
        for k, step in steps.items():
            # BLAS worker threads busy-wait ~0.1 s after a call (OpenBLAS; torch's OpenMP less so):
            # without a pause they would steal the second core from the other library's sample.
            time.sleep(args.pause)
            # untimed steps first, back to steady state: after an idle pause steps run slower (caches
            # and threads gone cold; one step was enough for torch, while chainrule's conv threads,
            # which block between calls where torch's OpenMP threads spin, took ~0.15 s to recover:
            # LeNet at 2 threads 6.6 ms after one warm step, 5.6 after 30, 5.1-5.6 back to back)
            warm(step, args.warm, args.device)
            samples[k].append(_time(step, args.min_time, args.device))
    med = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
    return med["chainrule"], med["torch"]


def check(name, setup, device):
    """Same loss and parameter gradients (or outputs) in both libraries on the same inputs."""
    import numpy as np
    import chainrule as cr
    import torch
    c, t = setup(cr, device), setup(torch, device)
    if not hasattr(c, "model"):
        oc, ot = c(), t()
        if oc is not None:
            np.testing.assert_allclose(oc.detach().cpu().numpy(), ot.detach().cpu().numpy(), rtol=2e-3,
                                       atol=1e-3, err_msg=name)
        return
    outs = []
    for s in (c, t):
        s.opt.zero_grad()
        loss = s.loss_fn(s.model(s.x), s.y)
        loss.backward()
        outs.append((loss.item(), {n: p.grad.detach().cpu().numpy() for n, p in s.model.named_parameters()}))
    (lc, gc), (lt, gt) = outs
    np.testing.assert_allclose(lc, lt, rtol=1e-4, err_msg=f"{name}: loss")
    assert gc.keys() == gt.keys(), f"{name}: parameter names differ"
    for k in gt:
        np.testing.assert_allclose(gc[k], gt[k], rtol=1e-3, atol=1e-5, err_msg=f"{name}: grad of {k}")


def _status_kib(field):
    """A memory figure of this process from /proc/self/status: VmRSS (now) or VmHWM (peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _malloc_trim():
    """Hand free heap pages back to the OS, so that a step's peak shows as a rise in RSS rather
    than being served from memory the allocator already holds (glibc only)."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory(name, setup, growth_steps):
    """Peak memory of one step (tracemalloc for chainrule's arrays; RSS rise for both) and growth."""
    import gc
    import tracemalloc
    import chainrule as cr
    import torch
    result = {}
    for lib in (cr, torch):
        step = setup(lib, "cpu")
        for _ in range(3):
            step()
        gc.collect()
        _malloc_trim()
        base = _status_kib("VmRSS")
        _reset_hwm()
        step()
        result[f"{lib.__name__}_step_rss_peak_kib"] = max(_status_kib("VmHWM") - base, 0)
        if lib is cr:
            tracemalloc.start()
            tracemalloc.reset_peak()
            start_cur = tracemalloc.get_traced_memory()[0]
            step()
            result["chainrule_step_traced_peak_kib"] = (tracemalloc.get_traced_memory()[1] - start_cur) // 1024
            for _ in range(10):
                step()
            at10 = tracemalloc.get_traced_memory()[0]
            for _ in range(growth_steps - 10):
                step()
            gc.collect()
            result["chainrule_traced_growth_10_to_%d_kib" % growth_steps] = \
                (tracemalloc.get_traced_memory()[0] - at10) // 1024
            tracemalloc.stop()
        else:
            for _ in range(10):
                step()
            at10 = _status_kib("VmRSS")
            for _ in range(growth_steps - 10):
                step()
            result["torch_rss_growth_10_to_%d_kib" % growth_steps] = _status_kib("VmRSS") - at10
        del step
        gc.collect()
    return result


def main(argv=None):
    args = parse_args(argv)
    limits = _set_threads(args.threads)
    import torch
    from . import workloads as W
    table = W.CUDA_WORKLOADS if args.device == "cuda" else W.CPU_WORKLOADS
    if args.tiny:
        table = W.tiny_workloads()
        args.samples, args.min_time, args.pause, args.warm = 1, 0.0, 0.0, 0.0
    only = [s.strip().lower() for s in args.only.split(",") if s.strip()]
    chosen = {k: v for k, v in table.items() if not only or any(o in k.lower() for o in only)}
    if args.check or args.check_only:
        for name, setup in chosen.items():
            check(name, setup, args.device)
            print(f"check ok: {name}")
        if args.check_only:
            return 0
    blas = _blas_description()
    print(f"NumPy BLAS: {blas}; torch {torch.__version__}; {args.threads} threads")
    rows = []
    print(f"{'workload':34s} {'chainrule':>12s} {'torch':>12s} {'ratio':>7s}")
    for name, setup in chosen.items():
        c, t = measure(setup, args)
        rows.append({"workload": name, "chainrule_s": c, "torch_s": t, "ratio": c / t})
        print(f"{name:34s} {c * 1e3:10.4f}ms {t * 1e3:10.4f}ms {c / t:7.2f}", flush=True)
    mem = {}
    if args.memory and args.device == "cpu":
        for name in W.MEMORY_WORKLOADS:
            if name in chosen or not only:
                mem[name] = memory(name, table[name] if name in table else chosen[name],
                                   10 + 1 if args.tiny else args.growth_steps)
                print(f"memory {name}: {mem[name]}", flush=True)
    os.makedirs(args.out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(args.out, f"{args.device}-{stamp}.json")
    with open(path, "w") as f:
        json.dump({"threads": args.threads, "samples": args.samples, "device": args.device,
                   "python": sys.version.split()[0], "torch": torch.__version__, "numpy_blas": blas,
                   "results": rows, "memory": mem}, f, indent=2)
    print(f"wrote {path}")
    limits.restore_original_limits()
    return 0


if __name__ == "__main__":
    main()
