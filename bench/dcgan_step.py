"""A DCGAN generator's training step at 32x32, chainrule vs torch: ``python -m bench.dcgan_step``.

The generator (batch 32, z of 100): ConvTranspose2d 100->128 (1x1 -> 4x4, kernel 4), then 128->64,
64->32, 32->3 (kernel 4, stride 2, padding 1: 8x8, 16x16, 32x32), BatchNorm2d + ReLU between, Tanh
last; the step is zero_grad, forward, MSE to a fixed batch of images, backward, Adam. Both libraries
start from the same weights and run on one thread (NumPy's BLAS and torch.set_num_threads(1)); the
samples are interleaved and the medians reported, as ``python -m bench`` does (bench/run.py).
"""
import argparse
import sys

import numpy as np

from .run import _set_threads, check, measure
from .workloads import TrainStep, _torch_model, copy_weights, _is_torch


def generator(nn, nz=100, widths=(128, 64, 32), channels=3):
    layers = [nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
    for a, b in zip(widths, widths[1:]):
        layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
    layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan_step(batch=32, widths=(128, 64, 32)):
    def setup(lib, device="cpu"):
        import copy
        ref = _torch_model(f"dcgan{widths}", lambda nn: generator(nn, widths=widths))
        if _is_torch(lib):
            model = copy.deepcopy(ref).to(device)
        else:
            model = generator(lib.nn, widths=widths)
            copy_weights(ref, model)
            model = model.to(device)
        model.train()
        rng = np.random.default_rng(0)
        side = 4 * 2 ** len(widths)
        x = lib.tensor(rng.standard_normal((batch, 100, 1, 1)).astype(np.float32), device=device)
        y = lib.tensor(np.tanh(rng.standard_normal((batch, 3, side, side))).astype(np.float32), device=device)
        return TrainStep(lib, model, lib.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999)), x, y,
                         lib.nn.MSELoss())
    return setup


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.dcgan_step", description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--samples", type=int, default=11, help="samples per library (median reported)")
    p.add_argument("--min-time", type=float, default=0.2, help="seconds per sample (repeats the step)")
    p.add_argument("--pause", type=float, default=0.2, help="idle seconds before each sample")
    p.add_argument("--warm", type=float, default=0.2, help="seconds of untimed steps after it (see bench/run.py)")
    p.add_argument("--tiny", action="store_true", help="smoke mode: batch 2, one sample")
    args = p.parse_args(argv)
    args.device = "cpu"
    if args.tiny:
        args.batch, args.samples, args.min_time, args.pause, args.warm = 2, 1, 0.0, 0.0, 0.0
    with _set_threads(args.threads):
        setup = dcgan_step(args.batch)
        check("dcgan", setup, "cpu")
        ours, theirs = measure(setup, args)
    print(f"DCGAN generator step b{args.batch} 32x32, {args.threads} thread(s): chainrule {ours * 1e3:.1f} ms, "
          f"torch {theirs * 1e3:.1f} ms, ratio {ours / theirs:.2f}")
    return ours, theirs


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
