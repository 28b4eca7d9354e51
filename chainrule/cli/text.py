"""``chainrule train --data text``: a character-level language model (``--model lstm|gru|transformer``).

The text is ``--text PATH`` or, by default, the Python standard library's own top-level source files
(read locally from this Python install: no download). It is cut into 1 KiB blocks and a seeded
share of the blocks (``--test-fraction``) is held out for validation. An epoch is ``--steps``
batches of random windows of ``--context`` characters (each epoch's windows come from (seed,
epoch), so ``--resume`` continues identically). After each epoch the validation loss is reported
in bits per character; at the end a sample is generated with temperature and top-k.
"""
import glob
import math
import os
import time

import numpy as np

BLOCK = 1024
STDLIB_CHARS = 2_000_000   # enough text for a few minutes of training, read in well under a second
EVAL_WINDOWS = 256


def load_text(path):
    """The training text (a str); ``path`` None means the standard library's sources."""
    if path is not None:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            raise ValueError(f"--text {path}: {e.strerror or e}") from None
        if len(text) < 4 * BLOCK:
            raise ValueError(f"--text {path}: {len(text)} characters; a language model needs at least {4 * BLOCK}")
        return text
    parts, total = [], 0
    for name in sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py"))):
        with open(name, encoding="utf-8", errors="replace") as f:
            parts.append(f.read())
        total += len(parts[-1])
        if total >= STDLIB_CHARS:
            break
    return "".join(parts)[:STDLIB_CHARS]


class Corpus:
    """The text as integer ids over its sorted character set, split by blocks into train and validation."""

    def __init__(self, text, test_fraction, seed):
        self.chars = sorted(set(text))
        lookup = {c: i for i, c in enumerate(self.chars)}
        ids = np.fromiter((lookup[c] for c in text), dtype=np.int64, count=len(text))
        blocks = [ids[i:i + BLOCK] for i in range(0, len(ids), BLOCK)]
        held = np.random.default_rng(seed).random(len(blocks)) < test_fraction
        held[0], held[-1] = False, True   # both sides non-empty
        self.train = np.concatenate([b for b, h in zip(blocks, held) if not h])
        self.valid = np.concatenate([b for b, h in zip(blocks, held) if h])

    def encode(self, text):
        lookup = {c: i for i, c in enumerate(self.chars)}
        return [lookup[c] for c in text if c in lookup]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def windows(ids, offsets, context):
    """Inputs (N, context) and next-character targets (N, context) starting at ``offsets``."""
    rows = offsets[:, None] + np.arange(context + 1)
    chunk = ids[rows]
    return chunk[:, :-1], chunk[:, 1:]


def learning_rate(config, step, total):
    """Linear warm-up over the first 5% of the steps, then cosine decay to a tenth: the usual
    transformer schedule over the run's first ``--epochs`` (its horizon, kept by --resume, so a
    resumed run continues it exactly; epochs past it stay at a tenth)."""
    warmup = max(1, total // 20)
    if step < warmup:
        return config["lr"] * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return config["lr"] * (0.1 + 0.45 * (1 + math.cos(math.pi * min(progress, 1.0))))


def train_epoch(model, corpus, optimizer, config, epoch, epochs, device, progress=True):
    """``config['steps']`` optimizer steps on random windows; returns the mean training loss (nats)."""
    import chainrule as cr
    from tqdm import tqdm
    from .runs import Diverged
    model.train()
    rng = np.random.default_rng(np.random.SeedSequence([config["seed"], epoch]))
    context, batch = config["context"], config["batch_size"]
    total = 0.0
    with tqdm(range(1, config["steps"] + 1), desc=f"epoch {epoch}/{epochs}", unit="step", leave=False,
              disable=not progress) as bar, np.errstate(over="ignore", invalid="ignore"):
        for step in bar:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, (epoch - 1) * config["steps"] + step - 1,
                                            config["horizon"] * config["steps"])
            x, y = windows(corpus.train, rng.integers(0, len(corpus.train) - context - 1, batch), context)
            logits, _ = model(cr.from_numpy(x).to(device))
            loss = cr.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                  cr.from_numpy(y.reshape(-1)).to(device))
            value = loss.item()
            if not math.isfinite(value):
                raise Diverged(f"loss became {value}", epoch, step)
            optimizer.zero_grad()
            loss.backward()
            cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += value
            bar.set_postfix(bits=f"{total / step / math.log(2):.3f}", refresh=False)
    return total / config["steps"]


def validation_bits(model, corpus, context, device, batch=64):
    """Mean next-character loss over evenly spaced validation windows, in bits per character."""
    import chainrule as cr
    model.eval()
    n = min(EVAL_WINDOWS, max(1, (len(corpus.valid) - 1) // context))
    offsets = np.linspace(0, len(corpus.valid) - context - 1, n).astype(np.int64)
    total = 0.0
    with cr.no_grad():
        for i in range(0, n, batch):
            x, y = windows(corpus.valid, offsets[i:i + batch], context)
            logits, _ = model(cr.from_numpy(x).to(device))
            loss = cr.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                  cr.from_numpy(y.reshape(-1)).to(device), reduction="sum")
            total += loss.item()
    return total / (n * context) / math.log(2)


def sample(model, corpus, context, device, length=400, prompt="def ", temperature=0.8, top_k=10, seed=0):
    """Generate ``length`` characters after ``prompt``: softmax(logits / temperature) over the
    ``top_k`` most likely characters, one character at a time (an RNN carries its state)."""
    import chainrule as cr
    model.eval()
    rng = np.random.default_rng(seed)
    ids = corpus.encode(prompt) or [0]
    out = list(ids)
    state, feed = None, ids
    with cr.no_grad():
        for _ in range(length):
            window = out[-context:] if state is None and not isinstance(model, _rnn_types()) else feed
            logits, state = model(cr.tensor([window], device=device), state)
            scores = logits[0, -1].numpy().astype(np.float64) / temperature
            keep = np.argsort(scores)[-top_k:]
            p = np.exp(scores[keep] - scores[keep].max())
            nxt = int(keep[rng.choice(len(keep), p=p / p.sum())])
            out.append(nxt)
            feed = [nxt]
    return corpus.decode(out)


def _rnn_types():
    from ..models import CharRNN
    return (CharRNN,)


def build_model(kind, vocab_size, context):
    from ..models import CharRNN, CharTransformer
    if kind == "transformer":
        return CharTransformer(vocab_size, context)
    return CharRNN(vocab_size, kind)


def run_text(args, config, checkpoint, out, ckpt_path, device):
    """The text counterpart of train._train's loop (same checkpoint, metrics and resume rules)."""
    import chainrule as cr
    from .runs import (Diverged, UsageError, write_metrics, plot_metrics, epoch_seed, check_parameters,
                       build_optimizer, restore, PLOT, METRICS)
    try:
        text = load_text(config["text"])
    except ValueError as e:
        raise UsageError(str(e)) from None
    corpus = Corpus(text, config["test_fraction"], config["seed"])
    epochs = args.epochs or TEXT_DEFAULTS[config["model"]]["epochs"]
    cr.manual_seed(config["seed"])
    model = build_model(config["model"], len(corpus.chars), config["context"]).to(device)
    optimizer = build_optimizer(config, model.parameters())
    history, start = restore(checkpoint, model, optimizer, ckpt_path)
    source = config["text"] or "the Python standard library's sources"
    n_params = sum(p.numel() for p in model.parameters())
    print(f"text: {len(corpus.train):,} train / {len(corpus.valid):,} validation characters of {source}, "
          f"{len(corpus.chars)} symbols | {config['model']} ({n_params:,} parameters) | {config['optimizer']} lr "
          f"{config['lr']:g} | batch {config['batch_size']} x {config['context']} chars, {config['steps']} steps "
          f"an epoch | {device} | -> {out}")
    os.makedirs(out, exist_ok=True)
    if checkpoint is not None:
        print(f"resuming after epoch {start}" + ("" if start < epochs else
              f"; already trained for {start} >= {epochs} epochs, nothing to do"))
    status, message, began_run = 0, None, time.perf_counter()
    try:
        for epoch in range(start + 1, epochs + 1):
            began = time.perf_counter()
            cr.manual_seed(epoch_seed(config["seed"], epoch))
            loss = train_epoch(model, corpus, optimizer, config, epoch, epochs, device, not args.no_progress)
            check_parameters(model, epoch, config["steps"])
            bits = validation_bits(model, corpus, config["context"], device)
            history.append({"epoch": epoch, "train_loss": loss, "valid_bits_per_char": bits,
                            "time_s": round(time.perf_counter() - began, 4)})
            print(f"epoch {epoch:>3}/{epochs}  train {loss / math.log(2):.3f} bits/char  validation {bits:.3f} "
                  f"bits/char  ({history[-1]['time_s']:.1f} s)", flush=True)
            cr.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                     "config": config, "history": history}, ckpt_path)
            write_metrics(os.path.join(out, METRICS), config, history)
    except Diverged as e:
        status, message = 1, f"stopped: {e}; try a smaller --lr"
    except KeyboardInterrupt:
        status, message = 130, f"interrupted during epoch {len(history) + 1}; continue with --resume --out {out}"
    write_metrics(os.path.join(out, METRICS), config, history, stopped=message)
    if history:
        plot_metrics(history, os.path.join(out, PLOT), title=f"text / {config['model']}",
                     metric=("valid_bits_per_char", "validation bits/char", 1))
    if message:
        import sys
        print(f"chainrule train: {message}", file=sys.stderr)
    elif history:
        text_out = sample(model, corpus, config["context"], device, seed=config["seed"])
        print(f"done: validation {history[-1]['valid_bits_per_char']:.3f} bits/char after {history[-1]['epoch']} "
              f"epochs ({time.perf_counter() - began_run:.0f} s); wrote {ckpt_path}, {METRICS}, {PLOT}\n"
              f"sample (temperature 0.8, top-k 10):\n{text_out}")
    return status


# per model: epochs of --steps batches that reach under 2 bits/char on the stdlib text
TEXT_DEFAULTS = {
    "transformer": {"epochs": 15, "batch_size": 32, "optimizer": "adam", "lr": 3e-3, "steps": 60, "context": 64},
    "lstm": {"epochs": 10, "batch_size": 32, "optimizer": "adam", "lr": 3e-3, "steps": 60, "context": 64},
    "gru": {"epochs": 10, "batch_size": 32, "optimizer": "adam", "lr": 3e-3, "steps": 60, "context": 64},
}
