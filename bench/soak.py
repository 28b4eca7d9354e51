"""Soak: train an MLP for many steps and check that memory stays flat after warm-up.

    python -m bench.soak --steps 100000          # the long run (minutes)
    python -m bench.soak --steps 10000           # what tests/test_soak.py runs (marked slow)

A real training loop (DataLoader over a TensorDataset, nn.Sequential MLP, CrossEntropyLoss, Adam,
zero_grad/backward/step, loss.item()), with the resident set size (VmRSS) read after warm-up and
at the end; prints both and the growth, and exits 1 when it is above --tolerance (5%).
"""
import argparse
import sys

import numpy as np


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def soak(steps, warmup=1000, batch=64, tolerance=0.05):
    import chainrule as cr
    from chainrule.utils.data import DataLoader, TensorDataset
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((2048, 64)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, 2048))
    loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True)
    model = cr.nn.Sequential(cr.nn.Linear(64, 128), cr.nn.ReLU(), cr.nn.Linear(128, 128), cr.nn.ReLU(),
                             cr.nn.Linear(128, 10))
    loss_fn = cr.nn.CrossEntropyLoss()
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    step, at_warmup, loss = 0, None, None
    while step < steps:
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            loss = loss.item()
            step += 1
            if step == warmup:
                at_warmup = rss_kib()
            if step >= steps:
                break
    end = rss_kib()
    at_warmup = at_warmup or end
    growth = (end - at_warmup) / at_warmup
    return dict(steps=steps, rss_after_warmup_kib=at_warmup, rss_end_kib=end, growth=growth,
                ok=growth <= tolerance, final_loss=loss)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args(argv)
    r = soak(args.steps, args.warmup, tolerance=args.tolerance)
    print(f"{r['steps']} steps: RSS {r['rss_after_warmup_kib']} KiB after {args.warmup} warm-up steps, "
          f"{r['rss_end_kib']} KiB at the end ({r['growth']:+.2%}); final loss {r['final_loss']:.4f}")
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
