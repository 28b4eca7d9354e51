"""What every ``chainrule train`` run shares (classifiers in cli/train.py, language models in
cli/text.py): errors, optimizer choices, per-epoch seeds, divergence checks, metrics files."""
import json
import os

import numpy as np

CHECKPOINT, METRICS, PLOT = "checkpoint.safetensors", "metrics.json", "metrics.png"
GRAD_PLOT = "grad_stats.png"

# --optimizer name -> (chainrule.optim class, its options besides lr and weight_decay)
OPTIMIZERS = {"sgd": ("SGD", {}), "momentum": ("SGD", {"momentum": 0.9}),
              "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}), "adagrad": ("Adagrad", {}),
              "rmsprop": ("RMSprop", {}), "adam": ("Adam", {}), "adamw": ("AdamW", {})}
# learning rate for any other optimizer: each one's usual starting point
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05, "rmsprop": 1e-3,
              "adam": 1e-3, "adamw": 1e-3}


class UsageError(Exception):
    """Bad arguments, data or checkpoint: printed without a traceback, exit status 2."""


class Diverged(Exception):
    """The loss or a parameter became NaN/inf: training stops there."""

    def __init__(self, what, epoch, step):
        super().__init__(f"{what} at epoch {epoch}, step {step}")
        self.epoch, self.step = epoch, step


def epoch_seed(seed, epoch):
    """The RNG seed for one epoch: a function of (seed, epoch) only, so resuming needs no RNG state."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def check_parameters(model, epoch, step):
    """Raises Diverged naming the first parameter holding a NaN/inf."""
    for name, p in model.named_parameters():
        if not p.detach().isfinite().all().item():
            raise Diverged(f"parameter {name} became NaN/inf", epoch, step)


def write_metrics(path, config, history, stopped=None):
    """metrics.json: the settings and one record per finished epoch, written atomically."""
    record = {"config": config, "epochs": history}
    if stopped:
        record["stopped"] = stopped
    _atomic_write(path, lambda f: f.write(json.dumps(record, indent=2).encode()))


def plot_metrics(history, path, title="", metric=("test_accuracy", "test accuracy (%)", 100)):
    """PNG with training loss and ``metric`` (history key, label, scale) per epoch (matplotlib's
    Agg canvas: no display, no global backend switch)."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    FigureCanvasAgg(fig)
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [h["train_loss"] for h in history], marker="o", markersize=3)
    loss_ax.set(xlabel="epoch", ylabel="train loss", title="training loss")
    key, label, scale = metric
    acc_ax.plot(epochs, [scale * h[key] for h in history], marker="o", markersize=3, color="C2")
    acc_ax.set(xlabel="epoch", ylabel=label, title=label.split(" (")[0])
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


def build_optimizer(config, params):
    from .. import optim
    name = config["optimizer"]
    cls, options = OPTIMIZERS[name]
    try:
        return getattr(optim, cls)(params, lr=config["lr"], weight_decay=config["weight_decay"], **options)
    except ValueError as e:
        raise UsageError(f"--optimizer {name} --lr {config['lr']:g} --weight-decay "
                         f"{config['weight_decay']:g}: {e}") from None


def restore(checkpoint, model, optimizer, ckpt_path):
    """Load a checkpoint's model and optimizer state (UsageError if it does not fit); returns
    (history, last finished epoch), empty for a fresh run."""
    if checkpoint is None:
        return [], 0
    try:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    except (RuntimeError, ValueError, KeyError) as e:
        raise UsageError(f"--resume: {ckpt_path} does not fit this model and optimizer: {e}") from None
    return list(checkpoint["history"]), checkpoint["epoch"]


def plot_grad_norms(history, path, title=""):
    """PNG of each layer's mean gradient norm per epoch (log scale), inputs first, beside the
    share of dead ReLUs / saturated sigmoids: where gradients vanish or explode."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    norm_ax, dead_ax = fig.subplots(1, 2)
    layers = list(history[-1].get("grad_norm", {}))
    for i, layer in enumerate(layers):
        norm_ax.plot(epochs, [h["grad_norm"].get(layer, float("nan")) for h in history], marker="o", markersize=3,
                     color=_layer_color(i, len(layers)), label=layer)
    norm_ax.set(xlabel="epoch", ylabel="gradient norm", yscale="log", title="gradient norm per layer")
    for kind, label in (("dead_relu", "dead ReLU"), ("saturated", "saturated")):
        for layer in history[-1].get(kind, {}):
            dead_ax.plot(epochs, [100 * h[kind].get(layer, float("nan")) for h in history], marker="o",
                         markersize=3, label=f"{label} {layer}")
    dead_ax.set(xlabel="epoch", ylabel="% of units", title="dead ReLUs / saturated units")
    for ax in (norm_ax, dead_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ax.lines:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    _atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))


def _layer_color(i, n):
    from matplotlib import colormaps
    return colormaps["viridis"](i / max(n - 1, 1))


def open_board(directory):
    """A TensorBoard SummaryWriter for ``--tensorboard DIR`` (None without it)."""
    if directory is None:
        return None
    try:
        from ..utils.tensorboard import SummaryWriter
        return SummaryWriter(directory)
    except ImportError as e:
        raise UsageError(f"--tensorboard needs the tensorboard package: pip install 'chainrule[tensorboard]' "
                         f"({e})") from None


def log_epoch(board, record):
    """One epoch's numbers as TensorBoard scalars (the gradient norms as one chart)."""
    epoch = record["epoch"]
    for key, value in record.items():
        if isinstance(value, (int, float)) and key != "epoch":
            board.add_scalar(key, value, epoch)
    if record.get("grad_norm"):
        board.add_scalars("grad_norm", record["grad_norm"], epoch)
    board.flush()
