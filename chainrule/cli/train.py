"""``chainrule train``: train a classifier on bundled data (the 8x8 digits), the spiral, or an .npz,
or (``--data text``) a character-level language model (cli/text.py).

Each epoch writes, in ``--out DIR``: ``checkpoint.safetensors`` (model, optimizer, epoch, metrics
so far and the run's settings), ``metrics.json``, and at the end ``metrics.png``. ``--resume``
continues from the checkpoint exactly as if the run had never stopped: the data split and model
initialisation come from ``--seed``, and each epoch's shuffle from (seed, epoch), so the only state
to carry over is the model and optimizer.

Exit status: 0 done, 1 stopped on a NaN/inf loss, 2 bad arguments or data, 130 interrupted.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

from . import datasets
from .runs import (CHECKPOINT, METRICS, PLOT, GRAD_PLOT, OPTIMIZERS, DEFAULT_LR, UsageError, Diverged,
                   epoch_seed, check_parameters, write_metrics, plot_metrics, plot_grad_norms, build_optimizer,
                   restore, open_board, log_epoch)


# per model: what reaches the README's accuracy on digits in well under a minute on 2 cores
MODEL_DEFAULTS = {
    "mlp": {"epochs": 20, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
    "cnn": {"epochs": 20, "batch_size": 32, "optimizer": "adam", "lr": 3e-3},
}
# the settings that decide a run's trajectory; a resumed run must use the checkpoint's
TRAJECTORY_KEYS = ("data", "model", "batch_size", "optimizer", "lr", "weight_decay", "seed", "test_fraction")
TEXT_KEYS = ("text", "context", "steps", "horizon")   # also, for --data text (horizon: the lr schedule's epochs)
MLP_KEYS = {"activation": "relu", "depth": None}   # also, for --model mlp (older checkpoints: these defaults)
CLASSIFIERS, LANGUAGE_MODELS = ("cnn", "mlp"), ("gru", "lstm", "transformer")


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
                        "spiral, generated), PATH.npz with arrays x (N, ...) and y (N,) of class indices, or "
                        "'text' (a character language model on --text, default the Python standard library's "
                        "sources)")
    p.add_argument("--model", choices=CLASSIFIERS + LANGUAGE_MODELS, default=None,
                   help="classifier (default: mlp) or, for --data text, language model (default: transformer)")
    p.add_argument("--text", default=None, help="--data text: a UTF-8 text file to model")
    p.add_argument("--context", type=_positive_int, default=None, help="--data text: characters per window "
                   "(default: 64)")
    p.add_argument("--steps", type=_positive_int, default=None, help="--data text: batches per epoch (default: 60)")
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
    p.add_argument("--activation", choices=("relu", "sigmoid", "tanh"), default=None,
                   help="--model mlp: the hidden layers' activation (default: relu)")
    p.add_argument("--depth", type=_positive_int, default=None,
                   help="--model mlp: DEPTH hidden layers of 64 units (default: two, of 256 and 128)")
    p.add_argument("--grad-stats", action="store_true",
                   help="record each layer's gradient norm and the share of dead ReLUs / saturated sigmoids "
                        "per epoch (metrics.json and grad_stats.png): vanishing and exploding gradients, visible")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the MPI processes this command runs in (launch with "
                        "`chainrule launch -n N train --distributed ...` or mpiexec); --batch-size is per process")
    p.add_argument("--tensorboard", default=None, metavar="DIR",
                   help="also write TensorBoard event files to DIR (pip install 'chainrule[tensorboard]')")


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
    default_model = "transformer" if args.data == "text" else "mlp"
    out = args.out or os.path.join("runs", f"{data_name}-{args.model or default_model}")
    ckpt_path = os.path.join(out, CHECKPOINT)
    checkpoint = _load_checkpoint(ckpt_path) if args.resume else None
    config = _resolve_config(args, checkpoint)
    if config["data"] == "text":
        from .text import run_text
        return run_text(args, config, checkpoint, out, ckpt_path, device)
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
    model = _build_model(config, x.shape[1:], num_classes)
    model.to(device)
    optimizer = build_optimizer(config, model.parameters())  # after .to(): its state lives by the parameters
    history, start = restore(checkpoint, model, optimizer, ckpt_path)

    x_train, y_train = cr.from_numpy(x[train_idx]), cr.from_numpy(y[train_idx])
    x_test, y_test = cr.from_numpy(x[test_idx]), cr.from_numpy(y[test_idx])
    train_set = TensorDataset(x_train, y_train)
    dist = _data_parallel(model, train_set, config) if args.distributed else None
    main_rank = dist is None or dist.is_main   # only rank 0 prints and writes
    say = print if main_rank else _quiet
    train_model, loader = (dist.model, dist.loader) if dist is not None else (
        model, DataLoader(train_set, batch_size=config["batch_size"], shuffle=True))
    loss_fn = nn.CrossEntropyLoss()
    n_params = sum(p.numel() for p in model.parameters())
    ranks = f" x {dist.world_size} processes" if dist is not None else ""
    say(f"{data_name}: {len(train_idx)} train / {len(test_idx)} test samples of shape "
        f"{tuple(x.shape[1:])}, {num_classes} classes | {config['model']} ({n_params:,} parameters) | "
        f"{config['optimizer']} lr {config['lr']:g} | batch {config['batch_size']}{ranks} | {device} | -> {out}")
    if main_rank:
        os.makedirs(out, exist_ok=True)
    if checkpoint is not None:
        say(f"resuming after epoch {start}" + ("" if start < epochs else
            f"; already trained for {start} >= {epochs} epochs, nothing to do"))
    elif os.path.exists(ckpt_path):
        say(f"starting over: {ckpt_path} will be replaced (use --resume to continue it)")

    status, message = 0, None
    board = open_board(args.tensorboard) if main_rank else None
    try:
        for epoch in range(start + 1, epochs + 1):
            began = time.perf_counter()
            cr.manual_seed(epoch_seed(config["seed"], epoch))  # this epoch's shuffle, same on resume
            if dist is not None:
                dist.sampler.set_epoch(epoch)
            loss, health = train_epoch(train_model, loader, loss_fn, optimizer, device, epoch, epochs,
                                       progress=not args.no_progress and main_rank, grad_stats=args.grad_stats,
                                       any_rank=None if dist is None else (lambda bad: dist.mean(float(bad), 1) > 0))
            check_parameters(model, epoch, len(loader))  # never checkpoint a blown-up model
            if dist is not None:
                loss = dist.mean(loss, 1)   # the ranks' shares are equal (the sampler pads them)
            if main_rank:
                accuracy = evaluate(model, x_test, y_test, device)
                history.append({"epoch": epoch, "train_loss": loss, "test_accuracy": accuracy,
                                "time_s": round(time.perf_counter() - began, 4), **(health or {})})
                if board is not None:
                    log_epoch(board, history[-1])
                print(f"epoch {epoch:>3}/{epochs}  train loss {loss:.4f}  test accuracy {accuracy:.2%}  "
                      f"({history[-1]['time_s']:.2f} s)", flush=True)
                cr.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                         "config": config, "history": history}, ckpt_path)
                write_metrics(os.path.join(out, METRICS), config, history)
            if dist is not None:
                dist.barrier()   # the other ranks wait for the checkpoint
    except Diverged as e:
        kept = (f"the last good checkpoint ({ckpt_path}, epoch {e.epoch - 1}) is kept" if history
                else "this run wrote no checkpoint")
        status, message = 1, (f"stopped: {e}; {kept}. Try a smaller --lr, or check the data "
                              f"for NaN/inf values.")
    except KeyboardInterrupt:
        status, message = 130, (f"interrupted during epoch {len(history) + 1}; continue with "
                                f"--resume --out {out}")
    if not main_rank:
        return status
    write_metrics(os.path.join(out, METRICS), config, history, stopped=message)
    if board is not None:
        board.close()
    if history:
        plot_metrics(history, os.path.join(out, PLOT), title=f"{data_name} / {config['model']}")
        if args.grad_stats:
            plot_grad_norms(history, os.path.join(out, GRAD_PLOT), title=f"{data_name} / {config['model']}")
    if message:
        print(f"chainrule train: {message}", file=sys.stderr)
    elif history:
        print(f"done: test accuracy {history[-1]['test_accuracy']:.2%} after {history[-1]['epoch']} "
              f"epoch{'s' * (history[-1]['epoch'] > 1)}; wrote {ckpt_path}, {METRICS}, {PLOT}")
    return status


def train_epoch(model, loader, loss_fn, optimizer, device, epoch, epochs, progress=True, grad_stats=False,
                any_rank=None):
    """One pass over ``loader``; returns (mean training loss, gradient health or None). Raises
    Diverged before stepping on a NaN/inf loss, so the parameters stay those of the last good
    step (``any_rank(bad)``: whether any process saw one, so that all stop together).
    ``grad_stats``: the epoch's mean per-layer gradient norms, dead-ReLU and saturation shares
    (chainrule.viz.grad_stats after every backward)."""
    from tqdm import tqdm
    from .. import viz
    model.train()
    total, seen = 0.0, 0
    record = viz.record_activations(model) if grad_stats else None
    sums, steps = {"grad_norm": {}, "dead_relu": {}, "saturated": {}}, 0
    # overflow and NaN are reported below, by epoch and step, rather than as NumPy warnings
    with tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, disable=not progress) as bar, \
            np.errstate(over="ignore", invalid="ignore"):
        for step, (xb, yb) in enumerate(bar, 1):
            xb, yb = xb.to(device), yb.to(device)
            loss = loss_fn(model(xb), yb)
            value = loss.item()
            bad = not math.isfinite(value)
            if bad or (any_rank is not None and any_rank(bad)):
                raise Diverged(f"loss became {value}" if bad else "another process's loss became NaN/inf", epoch,
                               step)
            optimizer.zero_grad()
            loss.backward()
            if record is not None:
                for kind, values in viz.grad_stats(model, record).items():
                    for layer, v in values.items():
                        sums[kind][layer] = sums[kind].get(layer, 0.0) + v
                steps += 1
            optimizer.step()
            total += value * len(yb)
            seen += len(yb)
            bar.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
    if record is None:
        return total / seen, None
    record.remove()
    return total / seen, {kind: {layer: v / steps for layer, v in values.items()} for kind, values in sums.items()}


def _data_parallel(model, dataset, config):
    """The DDP model, this rank's loader and sampler (chainrule.distributed.data_parallel)."""
    from ..distributed import data_parallel
    try:
        return data_parallel.prepare(model, dataset, config["batch_size"], seed=config["seed"])
    except (RuntimeError, ImportError) as e:
        raise UsageError(f"--distributed: {e}") from None


def _quiet(*args, **kwargs):
    """print on every rank but the first."""


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
    if source in ("digits", "spiral", "text"):
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
    from .text import TEXT_DEFAULTS
    given = {"data": args.data, "model": args.model, "batch_size": args.batch_size,
             "optimizer": args.optimizer, "lr": args.lr, "weight_decay": args.weight_decay,
             "seed": args.seed, "test_fraction": args.test_fraction,
             "text": getattr(args, "text", None), "context": getattr(args, "context", None),
             "steps": getattr(args, "steps", None), "activation": getattr(args, "activation", None),
             "depth": getattr(args, "depth", None), "horizon": None}
    if given["data"] not in (None, "digits", "spiral", "text"):
        given["data"] = os.path.abspath(given["data"])
    if given["text"] is not None:
        given["text"] = os.path.abspath(given["text"])
    if checkpoint is not None:
        saved = dict(checkpoint["config"])
        keys = TRAJECTORY_KEYS + (TEXT_KEYS if saved.get("data") == "text" else ())
        if saved.get("model") == "mlp":
            keys += tuple(MLP_KEYS)
            saved = {**MLP_KEYS, **saved}
        for key in keys:
            if given[key] is not None and given[key] != saved[key]:
                flag = "--" + key.replace("_", "-")
                raise UsageError(f"--resume: the checkpoint was trained with {flag} {saved[key]}, "
                                 f"got {flag} {given[key]}; resuming continues the same run")
        return {key: saved[key] for key in keys}
    text = given["data"] == "text"
    model = given["model"] or ("transformer" if text else "mlp")
    if text != (model in LANGUAGE_MODELS):
        raise UsageError(f"--model {model} does not fit --data {given['data'] or 'digits'}: --data text trains "
                         f"{', '.join(LANGUAGE_MODELS)}; the other data sets {', '.join(CLASSIFIERS)}")
    if not text and any(given[k] is not None for k in TEXT_KEYS[:3]):
        raise UsageError("--text, --context and --steps are for --data text")
    if model != "mlp" and any(given[k] is not None for k in MLP_KEYS):
        raise UsageError("--activation and --depth are for --model mlp")
    defaults = TEXT_DEFAULTS[model] if text else MODEL_DEFAULTS[model]
    optimizer = given["optimizer"] or defaults["optimizer"]
    lr = given["lr"]
    if lr is None:
        lr = defaults["lr"] if optimizer == defaults["optimizer"] else DEFAULT_LR[optimizer]
    weight_decay = given["weight_decay"]
    if weight_decay is None:
        weight_decay = 0.01 if optimizer == "adamw" else 0.0
    config = {"data": given["data"] or "digits", "model": model,
              "batch_size": given["batch_size"] or defaults["batch_size"],
              "optimizer": optimizer, "lr": lr,
              "weight_decay": weight_decay, "seed": 0 if given["seed"] is None else given["seed"],
              "test_fraction": given["test_fraction"] if given["test_fraction"] is not None else
              (0.1 if text else 0.2)}
    if text:
        config.update(text=given["text"], context=given["context"] or defaults["context"],
                      steps=given["steps"] or defaults["steps"], horizon=args.epochs or defaults["epochs"])
    if model == "mlp":
        config.update({k: given[k] if given[k] is not None else v for k, v in MLP_KEYS.items()})
    return config


def _build_model(config, sample_shape, num_classes):
    from ..models import MLP, CNN
    if config["model"] == "mlp":
        hidden = (256, 128) if config["depth"] is None else (64,) * config["depth"]
        return MLP(int(np.prod(sample_shape)), num_classes, hidden, config["activation"])
    if len(sample_shape) != 3:
        raise UsageError(f"--model cnn needs images: x of shape (N, H, W) or (N, C, H, W), got samples "
                         f"of shape {tuple(sample_shape)}; use --model mlp")
    try:
        return CNN(*sample_shape, num_classes)
    except ValueError as e:
        raise UsageError(str(e)) from None
