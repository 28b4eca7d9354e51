"""``chainrule train``: train a classifier on bundled data (the 8x8 digits), the spiral, or an .npz.

Each epoch writes, in ``--out DIR``: ``checkpoint.safetensors`` (model, optimizer, epoch, metrics
so far and the run's settings), ``metrics.json``, and at the end ``metrics.png``. ``--resume``
continues from the checkpoint exactly as if the run had never stopped: the data split and model
initialisation come from ``--seed``, and each epoch's shuffle from (seed, epoch), so the only state
to carry over is the model and optimizer.

Exit status: 0 done, 1 stopped on a NaN/inf loss, 2 bad arguments or data, 130 interrupted.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

from . import datasets

CHECKPOINT, METRICS, PLOT = "checkpoint.safetensors", "metrics.json", "metrics.png"

# per model: what reaches the README's accuracy on digits in well under a minute on 2 cores
MODEL_DEFAULTS = {
    "mlp": {"epochs": 20, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
    "cnn": {"epochs": 20, "batch_size": 32, "optimizer": "adam", "lr": 3e-3},
}
# --optimizer name -> (chainrule.optim class, its options besides lr and weight_decay)
OPTIMIZERS = {"sgd": ("SGD", {}), "momentum": ("SGD", {"momentum": 0.9}),
              "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}), "adagrad": ("Adagrad", {}),
              "rmsprop": ("RMSprop", {}), "adam": ("Adam", {}), "adamw": ("AdamW", {})}
# learning rate for any other optimizer: each one's usual starting point
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05, "rmsprop": 1e-3,
              "adam": 1e-3, "adamw": 1e-3}
# the settings that decide a run's trajectory; a resumed run must use the checkpoint's
TRAJECTORY_KEYS = ("data", "model", "batch_size", "optimizer", "lr", "weight_decay", "seed", "test_fraction")


class UsageError(Exception):
    """Bad arguments, data or checkpoint: printed without a traceback, exit status 2."""


class Diverged(Exception):
    """The loss or a parameter became NaN/inf: training stops there."""

    def __init__(self, what, epoch, step):
        super().__init__(f"{what} at epoch {epoch}, step {step}")
        self.epoch, self.step = epoch, step


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _fraction(text):
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def add_arguments(p):
    d = MODEL_DEFAULTS
    p.add_argument("--data", default=None,
                   help="'digits' (default: scikit-learn's 1,797 8x8 digits), 'spiral' (3-class "
                        "spiral, generated), or PATH.npz with arrays x (N, ...) and y (N,) of class indices")
    p.add_argument("--model", choices=sorted(d), default=None, help="classifier (default: mlp)")
    p.add_argument("--epochs", type=_positive_int, default=None,
                   help=f"total epochs (default: mlp {d['mlp']['epochs']}, cnn {d['cnn']['epochs']}); "
                        "with --resume, the total to reach")
    p.add_argument("--batch-size", type=_positive_int, default=None, help="default: 32")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default=None, help="default: adam")
    p.add_argument("--lr", type=float, default=None,
                   help=f"learning rate (default: adam {d['mlp']['lr']:g} for mlp, {d['cnn']['lr']:g} for cnn; "
                        + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items() if k != "adam") + ")")
    p.add_argument("--weight-decay", type=float, default=None, help="default: 0 (adamw: 0.01)")
    p.add_argument("--seed", type=_nonnegative_int, default=None,
                   help="seeds the split, the model's initialisation and the shuffling (default: 0)")
    p.add_argument("--test-fraction", type=_fraction, default=None, help="share held out for testing (default: 0.2)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N")
    p.add_argument("--threads", type=_positive_int, default=1,
                   help="BLAS threads on the CPU (default: 1, fastest for these small models)")
    p.add_argument("--out", default=None, help="output directory (default: runs/DATA-MODEL)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --out (same settings) up to --epochs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar, only the per-epoch lines")


def run(args):
    # Small GEMMs (a few hundred rows) gain nothing from more BLAS threads, and OpenBLAS threads
    # spin against each other on a busy machine: the default CNN took 52 s with 2 threads on a
    # loaded 2-core box and 2.8 s with 1 (same numbers).
    from threadpoolctl import threadpool_limits
    try:
        with threadpool_limits(limits=args.threads, user_api="blas"):
            return _train(args)
    except UsageError as e:
        print(f"chainrule train: error: {e}", file=sys.stderr)
        return 2


def _train(args):
    import chainrule as cr
    from .. import nn
    from ..utils.data import DataLoader, TensorDataset

    device = _device(args.device)
    data_name = _data_name(args.data or "digits")
    out = args.out or os.path.join("runs", f"{data_name}-{args.model or 'mlp'}")
    ckpt_path = os.path.join(out, CHECKPOINT)
    checkpoint = _load_checkpoint(ckpt_path) if args.resume else None
    config = _resolve_config(args, checkpoint)
    data_name = _data_name(config["data"])
    epochs = args.epochs or MODEL_DEFAULTS[config["model"]]["epochs"]

    try:
        x, y, _ = datasets.load(config["data"], seed=config["seed"])
        train_idx, test_idx = datasets.split(len(x), config["test_fraction"], config["seed"])
    except datasets.DataError as e:
        raise UsageError(str(e)) from None
    if config["model"] == "cnn" and x.ndim == 3:
        x = x[:, None]  # (N, H, W) grayscale -> (N, 1, H, W)
    num_classes = int(y.max()) + 1
    cr.manual_seed(config["seed"])  # the model's initialisation
    model = _build_model(config["model"], x.shape[1:], num_classes)
    model.to(device)
    optimizer = _build_optimizer(config, model.parameters())  # after .to(): its state lives by the parameters
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise UsageError(f"--resume: {ckpt_path} does not fit this model and optimizer: {e}") from None
    history = list(checkpoint["history"]) if checkpoint else []
    start = checkpoint["epoch"] if checkpoint else 0

    x_train, y_train = cr.from_numpy(x[train_idx]), cr.from_numpy(y[train_idx])
    x_test, y_test = cr.from_numpy(x[test_idx]), cr.from_numpy(y[test_idx])
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=config["batch_size"], shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{data_name}: {len(train_idx)} train / {len(test_idx)} test samples of shape "
          f"{tuple(x.shape[1:])}, {num_classes} classes | {config['model']} ({n_params:,} parameters) | "
          f"{config['optimizer']} lr {config['lr']:g} | batch {config['batch_size']} | {device} | -> {out}")
    os.makedirs(out, exist_ok=True)
    if checkpoint is not None:
        print(f"resuming after epoch {start}" + ("" if start < epochs else
              f"; already trained for {start} >= {epochs} epochs, nothing to do"))
    elif os.path.exists(ckpt_path):
        print(f"starting over: {ckpt_path} will be replaced (use --resume to continue it)")

    status, message = 0, None
    try:
        for epoch in range(start + 1, epochs + 1):
            began = time.perf_counter()
            cr.manual_seed(epoch_seed(config["seed"], epoch))  # this epoch's shuffle, same on resume
            loss = train_epoch(model, loader, loss_fn, optimizer, device, epoch, epochs,
                               progress=not args.no_progress)
            check_parameters(model, epoch, len(loader))  # never checkpoint a blown-up model
            accuracy = evaluate(model, x_test, y_test, device)
            history.append({"epoch": epoch, "train_loss": loss, "test_accuracy": accuracy,
                            "time_s": round(time.perf_counter() - began, 4)})
            print(f"epoch {epoch:>3}/{epochs}  train loss {loss:.4f}  test accuracy {accuracy:.2%}  "
                  f"({history[-1]['time_s']:.2f} s)", flush=True)
            cr.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                     "config": config, "history": history}, ckpt_path)
            write_metrics(os.path.join(out, METRICS), config, history)
    except Diverged as e:
        kept = (f"the last good checkpoint ({ckpt_path}, epoch {e.epoch - 1}) is kept" if history
                else "this run wrote no checkpoint")
        status, message = 1, (f"stopped: {e}; {kept}. Try a smaller --lr, or check the data "
                              f"for NaN/inf values.")
    except KeyboardInterrupt:
        status, message = 130, (f"interrupted during epoch {len(history) + 1}; continue with "
                                f"--resume --out {out}")
    write_metrics(os.path.join(out, METRICS), config, history, stopped=message)
    if history:
        plot_metrics(history, os.path.join(out, PLOT), title=f"{data_name} / {config['model']}")
    if message:
        print(f"chainrule train: {message}", file=sys.stderr)
    elif history:
        print(f"done: test accuracy {history[-1]['test_accuracy']:.2%} after {history[-1]['epoch']} "
              f"epoch{'s' * (history[-1]['epoch'] > 1)}; wrote {ckpt_path}, {METRICS}, {PLOT}")
    return status


def epoch_seed(seed, epoch):
    """The RNG seed for one epoch: a function of (seed, epoch) only, so resuming needs no RNG state."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def train_epoch(model, loader, loss_fn, optimizer, device, epoch, epochs, progress=True):
    """One pass over ``loader``; returns the mean training loss. Raises Diverged before stepping
    on a NaN/inf loss, so the parameters stay those of the last good step."""
    from tqdm import tqdm
    model.train()
    total, seen = 0.0, 0
    # overflow and NaN are reported below, by epoch and step, rather than as NumPy warnings
    with tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, disable=not progress) as bar, \
            np.errstate(over="ignore", invalid="ignore"):
        for step, (xb, yb) in enumerate(bar, 1):
            xb, yb = xb.to(device), yb.to(device)
            loss = loss_fn(model(xb), yb)
            value = loss.item()
            if not math.isfinite(value):
                raise Diverged(f"loss became {value}", epoch, step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += value * len(yb)
            seen += len(yb)
            bar.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
    return total / seen


def check_parameters(model, epoch, step):
    """Raises Diverged naming the first parameter holding a NaN/inf."""
    for name, p in model.named_parameters():
        if not p.detach().isfinite().all().item():
            raise Diverged(f"parameter {name} became NaN/inf", epoch, step)


def evaluate(model, x, y, device, batch_size=1024):
    """Share of ``x`` that ``model`` classifies as ``y``."""
    import chainrule as cr
    model.eval()
    correct = 0
    with cr.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(x[i:i + batch_size].to(device))
            correct += int((logits.argmax(1) == y[i:i + batch_size].to(device)).sum().item())
    return correct / len(x)


def write_metrics(path, config, history, stopped=None):
    """metrics.json: the settings and one record per finished epoch, written atomically."""
    record = {"config": config, "epochs": history}
    if stopped:
        record["stopped"] = stopped
    _atomic_write(path, lambda f: f.write(json.dumps(record, indent=2).encode()))


def plot_metrics(history, path, title=""):
    """PNG with training loss and test accuracy per epoch (matplotlib's Agg canvas: no display,
    no global backend switch)."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    FigureCanvasAgg(fig)
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [h["train_loss"] for h in history], marker="o", markersize=3)
    loss_ax.set(xlabel="epoch", ylabel="train loss", title="training loss")
    acc_ax.plot(epochs, [100 * h["test_accuracy"] for h in history], marker="o", markersize=3, color="C2")
    acc_ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    _atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))


def _atomic_write(path, write):
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _device(name):
    import chainrule as cr
    try:
        device = cr.device(name)
    except (ValueError, RuntimeError, TypeError) as e:
        raise UsageError(f"--device {name!r}: {e}") from None
    if device.type == "cuda" and not cr.cuda.is_available():
        raise UsageError(f"--device {name}: CUDA is not available here (it needs an NVIDIA GPU and "
                         f"CuPy: pip install 'chainrule[cuda]'); use --device cpu")
    return device


def _data_name(source):
    if source in ("digits", "spiral"):
        return source
    return os.path.splitext(os.path.basename(source))[0] or "data"


def _load_checkpoint(path):
    import chainrule as cr
    if not os.path.exists(path):
        raise UsageError(f"--resume: no checkpoint at {path} (pass the run's directory with --out)")
    try:
        checkpoint = cr.load(path)
    except (ValueError, RuntimeError, OSError) as e:
        raise UsageError(f"--resume: cannot read {path}: {e}") from None
    missing = [k for k in ("model", "optimizer", "epoch", "config", "history") if k not in checkpoint]
    if missing:
        raise UsageError(f"--resume: {path} is not a `chainrule train` checkpoint (no {', '.join(missing)})")
    return checkpoint


def _resolve_config(args, checkpoint):
    """The run's settings: the checkpoint's when resuming (an explicit different value is an
    error: the run would no longer continue identically), else the arguments or their defaults."""
    given = {"data": args.data, "model": args.model, "batch_size": args.batch_size,
             "optimizer": args.optimizer, "lr": args.lr, "weight_decay": args.weight_decay,
             "seed": args.seed, "test_fraction": args.test_fraction}
    if given["data"] not in (None, "digits", "spiral"):
        given["data"] = os.path.abspath(given["data"])
    if checkpoint is not None:
        saved = checkpoint["config"]
        for key in TRAJECTORY_KEYS:
            if given[key] is not None and given[key] != saved[key]:
                flag = "--" + key.replace("_", "-")
                raise UsageError(f"--resume: the checkpoint was trained with {flag} {saved[key]}, "
                                 f"got {flag} {given[key]}; resuming continues the same run")
        return {key: saved[key] for key in TRAJECTORY_KEYS}
    model = given["model"] or "mlp"
    optimizer = given["optimizer"] or MODEL_DEFAULTS[model]["optimizer"]
    lr = given["lr"]
    if lr is None:
        same = optimizer == MODEL_DEFAULTS[model]["optimizer"]
        lr = MODEL_DEFAULTS[model]["lr"] if same else DEFAULT_LR[optimizer]
    weight_decay = given["weight_decay"]
    if weight_decay is None:
        weight_decay = 0.01 if optimizer == "adamw" else 0.0
    return {"data": given["data"] or "digits", "model": model,
            "batch_size": given["batch_size"] or MODEL_DEFAULTS[model]["batch_size"],
            "optimizer": optimizer, "lr": lr,
            "weight_decay": weight_decay, "seed": 0 if given["seed"] is None else given["seed"],
            "test_fraction": 0.2 if given["test_fraction"] is None else given["test_fraction"]}


def _build_model(kind, sample_shape, num_classes):
    from ..models import MLP, CNN
    if kind == "mlp":
        return MLP(int(np.prod(sample_shape)), num_classes)
    if len(sample_shape) != 3:
        raise UsageError(f"--model cnn needs images: x of shape (N, H, W) or (N, C, H, W), got samples "
                         f"of shape {tuple(sample_shape)}; use --model mlp")
    try:
        return CNN(*sample_shape, num_classes)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _build_optimizer(config, params):
    from .. import optim
    name = config["optimizer"]
    cls, options = OPTIMIZERS[name]
    try:
        return getattr(optim, cls)(params, lr=config["lr"], weight_decay=config["weight_decay"], **options)
    except ValueError as e:
        raise UsageError(f"--optimizer {name} --lr {config['lr']:g} --weight-decay "
                         f"{config['weight_decay']:g}: {e}") from None
