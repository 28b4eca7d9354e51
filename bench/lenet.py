"""LeNet-5 training step (batch 64, 1x28x28, SGD by hand) in chainrule and torch side by side.

python bench/lenet.py  ->  median step times of both and the ratio chainrule / torch.
"""
import statistics
import time

import numpy as np
import torch

import chainrule as cr

BATCH, LR, WARMUP, SAMPLES = 64, 0.01, 5, 25


def lenet(nn):
    # classic LeNet-5: padding=2 on the first conv turns 28x28 into the original 32x32 geometry
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def make_step(lib, model, x, y):
    loss_fn = lib.nn.CrossEntropyLoss()
    params = list(model.parameters())

    def step():
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with lib.no_grad():
            for p in params:
                p.data -= LR * p.grad.data
        return loss
    return step


def time_step(step):
    """Median and min seconds of ``step`` after a warm-up. The two frameworks are timed one after
    the other, not interleaved: interleaving lets torch's spinning OpenMP threads and NumPy's BLAS
    threads fight over the two cores."""
    for _ in range(WARMUP):
        step()
    times = []
    for _ in range(SAMPLES):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main():
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    th_model = lenet(torch.nn)
    cr_model = lenet(cr.nn)
    cr_model.load_state_dict({k: cr.tensor(v.numpy()) for k, v in th_model.state_dict().items()})
    cr_step = make_step(cr, cr_model, cr.tensor(x), cr.tensor(y))
    th_step = make_step(torch, th_model, torch.tensor(x), torch.tensor(y))
    # same weights, same data: the first losses agree
    l_cr, l_th = float(cr_step().item()), float(th_step().item())
    assert abs(l_cr - l_th) < 1e-4 * max(1.0, abs(l_th)), (l_cr, l_th)
    t_th, min_th = time_step(th_step)
    t_cr, min_cr = time_step(cr_step)
    print(f"LeNet-5 train step, batch {BATCH}: chainrule {t_cr * 1e3:.2f} ms, torch {t_th * 1e3:.2f} ms, "
          f"ratio {t_cr / t_th:.2f}x (median of {SAMPLES}; min {min_cr * 1e3:.2f} vs {min_th * 1e3:.2f} ms, "
          f"ratio {min_cr / min_th:.2f}x)")


if __name__ == "__main__":
    main()
