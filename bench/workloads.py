"""Benchmark workloads, each written once against the shared torch/chainrule API.

A workload is a function ``setup(lib, device, size) -> step`` where ``lib`` is the ``torch`` or
``chainrule`` module; ``step()`` runs one timed unit (e.g. a full training step) and returns a
scalar loss tensor or None. Models are built from the same code for both libraries, then the
chainrule model receives torch's initial weights so both compute the same numbers.
"""
import numpy as np


# ---- models (identical code for both libraries) ---------------------------------------------

def mlp(nn, width=256, depth=2, n_in=784, n_out=10):
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, n_out))


def lenet5(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def resnet_small(nn):
    """3 stages of 2 residual blocks with BatchNorm, 16/32/64 channels, for 3x32x32 inputs."""

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
            blocks, cin = [], 16
            for cout, stride in ((16, 1), (32, 2), (64, 2)):
                blocks += [Block(cin, cout, stride), Block(cout, cout, 1)]
                cin = cout
            self.blocks = nn.Sequential(*blocks)
            self.pool = nn.AvgPool2d(8)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = self.pool(self.blocks(self.stem(x)))
            return self.fc(x.flatten(1))

    return ResNet()


def depthwise_separable(nn, width=32, blocks=2):
    """MobileNet-style: a 3x3 stem, then blocks of depthwise 3x3 (groups = channels) + pointwise 1x1,
    each with BatchNorm and ReLU, the first of them strided; average pool and a linear head."""
    layers, c = [nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()], width
    for i in range(blocks):
        layers += [nn.Conv2d(c, c, 3, stride=2 if i == 0 else 1, padding=1, groups=c, bias=False),
                   nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, 2 * c, 1, bias=False), nn.BatchNorm2d(2 * c), nn.ReLU()]
        c *= 2
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


def lstm_lm(nn, vocab=64, embed=64, hidden=256, layers=2):
    """Character LSTM: embedding, 2x256 LSTM, linear to the vocabulary; logits as (N T, V)."""

    class LSTMModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, embed)
            self.rnn = nn.LSTM(embed, hidden, layers, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, idx):
            out, _ = self.rnn(self.embed(idx))
            return self.head(out).reshape(-1, vocab)
    return LSTMModel()


def gpt(nn, vocab=64, context=64, d=128, heads=4, layers=4):
    """GPT-style stack: token + position embeddings, pre-norm causal blocks (tanh GELU), LayerNorm, head."""

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(context, d)
            block = nn.TransformerEncoderLayer(d, heads, 4 * d, 0.0, activation=_gelu_tanh(nn), batch_first=True,
                                               norm_first=True)
            self.blocks = nn.ModuleList([block] + [_deepcopy(block) for _ in range(layers - 1)])
            self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)
            mask = np.triu(np.full((context, context), -np.inf, dtype=np.float32), 1)
            self.register_buffer("mask", _as_tensor(nn, mask))

        def forward(self, idx):
            t = idx.shape[1]
            x = self.tok(idx) + self.pos.weight[:t]
            for block in self.blocks:
                x = block(x, src_mask=self.mask[:t, :t], is_causal=True)
            return self.head(self.norm(x)).reshape(-1, vocab)
    return GPT()


def _gelu_tanh(nn):
    return lambda x: nn.functional.gelu(x, approximate="tanh")


def _deepcopy(m):
    import copy
    return copy.deepcopy(m)


def _as_tensor(nn, array):
    import importlib
    return importlib.import_module(nn.__name__.rsplit(".", 1)[0]).tensor(array)


def copy_weights(src_torch, dst_cr):
    """Give the chainrule model the torch model's parameters and buffers."""
    import chainrule as cr
    state = {k: cr.tensor(v.detach().cpu().numpy()) for k, v in src_torch.state_dict().items()}
    dst_cr.load_state_dict(state)


def _is_torch(lib):
    return lib.__name__ == "torch"


def _rng_inputs(shape, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, n_classes, shape[0])


# ---- training-step workloads ------------------------------------------------------------

class TrainStep:
    """zero_grad, forward, loss, backward, optimizer step: the unit users pay for."""

    def __init__(self, lib, model, opt, x, y, loss_fn=None):
        self.lib, self.model, self.opt, self.x, self.y = lib, model, opt, x, y
        self.loss_fn = loss_fn or lib.nn.CrossEntropyLoss()

    def __call__(self):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss


_MODEL_CACHE = {}


def _torch_model(name, builder, seed=0):
    """One torch model per workload so both libraries start from the same weights."""
    import torch
    if name not in _MODEL_CACHE:
        torch.manual_seed(seed)
        _MODEL_CACHE[name] = builder(torch.nn)
    return _MODEL_CACHE[name]


def _same_model(lib, name, builder, device):
    """The workload's model in ``lib``, starting from the one torch model's weights, in training mode."""
    import copy
    ref = _torch_model(name, builder)
    if _is_torch(lib):
        return copy.deepcopy(ref).to(device).train()
    model = builder(lib.nn)
    copy_weights(ref, model)
    return model.to(device).train()


def _train_workload(name, builder, input_shape, optimizer, **opt_kwargs):
    def setup(lib, device="cpu"):
        model = _same_model(lib, name, builder, device)
        xa, ya = _rng_inputs(input_shape, 10)
        x = lib.tensor(xa, device=device)
        y = lib.tensor(ya, device=device)
        opt = getattr(lib.optim, optimizer)(model.parameters(), **opt_kwargs)
        return TrainStep(lib, model, opt, x, y)
    return setup


def mlp_step(batch, width=256):
    return _train_workload(f"mlp{width}", lambda nn: mlp(nn, width=width), (batch, 784), "SGD",
                           lr=0.01, momentum=0.9)


def lenet_step(batch=64):
    return _train_workload("lenet", lenet5, (batch, 1, 28, 28), "SGD", lr=0.01)


def resnet_step(batch=32):
    return _train_workload("resnet", resnet_small, (batch, 3, 32, 32), "Adam", lr=1e-3)


def depthwise_step(batch=32):
    return _train_workload("depthwise", depthwise_separable, (batch, 3, 32, 32), "Adam", lr=1e-3)


def _sequence_workload(name, builder, batch, length, vocab=64):
    def setup(lib, device="cpu"):
        model = _same_model(lib, name, builder, device)
        rng = np.random.default_rng(0)
        ids = rng.integers(0, vocab, (batch, length + 1))
        x = lib.tensor(ids[:, :-1], device=device)
        y = lib.tensor(ids[:, 1:].reshape(-1), device=device)
        return TrainStep(lib, model, lib.optim.Adam(model.parameters(), lr=1e-3), x, y)
    return setup


def lstm_step(batch=32, length=64):
    return _sequence_workload("lstm", lstm_lm, batch, length)


def gpt_step(batch=32, length=64):
    return _sequence_workload("gpt", gpt, batch, length)


# ---- op-level workloads ---------------------------------------------------------------------

def add_backward(lib, device="cpu"):
    a = lib.tensor([1.0], requires_grad=True, device=device)
    b = lib.tensor([2.0], requires_grad=True, device=device)

    def step():
        c = a + b
        c.backward()
    return step


def chain50(lib, device="cpu"):
    """50 small elementwise ops (8 elements, 5 per round) then backward."""
    x = lib.tensor(np.linspace(0.1, 0.9, 8, dtype=np.float32), requires_grad=True, device=device)

    def step():
        y = x
        for i in range(10):
            y = (y * 1.01).tanh() * y - y.sigmoid()
        y.sum().backward()
    return step


def conv_strided_dilated(batch=32, c=16, size=32):
    """One 3x3 convolution, stride 2 and dilation 2 (padding 2), forward and backward to input and weight."""
    def setup(lib, device="cpu"):
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((batch, c, size, size)).astype(np.float32), requires_grad=True,
                       device=device)
        w = lib.tensor(rng.standard_normal((2 * c, c, 3, 3)).astype(np.float32) * 0.1, requires_grad=True,
                       device=device)

        def step():
            x.grad = w.grad = None
            out = lib.nn.functional.conv2d(x, w, stride=2, padding=2, dilation=2)
            out.square().mean().backward()
            return out.detach().sum()
        return step
    return setup


def matmul(n):
    def setup(lib, device="cpu"):
        rng = np.random.default_rng(0)
        a = lib.tensor(rng.standard_normal((n, n)).astype(np.float32), device=device)
        b = lib.tensor(rng.standard_normal((n, n)).astype(np.float32), device=device)
        return lambda: a @ b
    return setup


# ---- per-layer convolution table (docs/performance.md) -----------------------------------------

CONV_LAYERS = {  # name: (input shape, weight shape, conv2d keywords); the first layer of a net needs no dx
    "LeNet c1 1->6 5x5 p2, 28x28": ((64, 1, 28, 28), (6, 1, 5, 5), dict(padding=2)),
    "LeNet c2 6->16 5x5, 14x14": ((64, 6, 14, 14), (16, 6, 5, 5), {}),
    "ResNet stem 3->16 3x3, 32x32": ((32, 3, 32, 32), (16, 3, 3, 3), dict(padding=1)),
    "ResNet s1 16->16 3x3, 32x32": ((32, 16, 32, 32), (16, 16, 3, 3), dict(padding=1)),
    "ResNet s2 16->32 3x3 /2": ((32, 16, 32, 32), (32, 16, 3, 3), dict(stride=2, padding=1)),
    "ResNet s2 32->32 3x3, 16x16": ((32, 32, 16, 16), (32, 32, 3, 3), dict(padding=1)),
    "ResNet s2 shortcut 1x1 /2": ((32, 16, 32, 32), (32, 16, 1, 1), dict(stride=2)),
    "ResNet s3 32->64 3x3 /2": ((32, 32, 16, 16), (64, 32, 3, 3), dict(stride=2, padding=1)),
    "ResNet s3 64->64 3x3, 8x8": ((32, 64, 8, 8), (64, 64, 3, 3), dict(padding=1)),
    "ResNet s3 shortcut 1x1 /2": ((32, 32, 16, 16), (64, 32, 1, 1), dict(stride=2)),
    "depthwise 32 3x3, 32x32": ((32, 32, 32, 32), (32, 1, 3, 3), dict(padding=1, groups=32)),
    "3x3 stride 2 dilation 2": ((32, 16, 32, 32), (32, 16, 3, 3), dict(stride=2, padding=2, dilation=2)),
}


FIRST_LAYERS = ("LeNet c1", "ResNet stem")  # no input gradient, as in the networks


def conv_layer_table(threads=1, samples=7, min_time=0.02):
    """Markdown rows: each CONV_LAYERS layer's forward and backward (ms, medians of interleaved samples)
    in chainrule and torch with ``threads`` threads each, with the path chainrule's heuristic took:
    ``python -c "from bench.workloads import conv_layer_table as t; print(t(2))"``."""
    import torch
    import chainrule as cr  # noqa: F401  (NumPy and SciPy's BLAS loaded before the limit)
    from threadpoolctl import threadpool_limits
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            return _conv_layer_rows(samples, min_time)
    finally:
        torch.set_num_threads(before)


def _conv_layer_rows(samples, min_time):
    import logging
    import statistics
    import time
    import torch
    import chainrule as cr
    log = logging.getLogger("chainrule.conv")
    rows = ["| layer | path (algorithm, dx, threads) | fwd chainrule | fwd torch | ratio | bwd chainrule | bwd torch | "
            "ratio |", "|---|---|---|---|---|---|---|---|"]
    rng = np.random.default_rng(0)
    for name, (xs, ws, kw) in CONV_LAYERS.items():
        x, w = rng.standard_normal(xs).astype(np.float32), (rng.standard_normal(ws) * 0.1).astype(np.float32)
        fns = {}
        for lib in (cr, torch):
            xt, wt = lib.tensor(x, requires_grad=not name.startswith(FIRST_LAYERS)), lib.tensor(w, requires_grad=True)
            g = lib.tensor(rng.standard_normal(tuple(lib.nn.functional.conv2d(xt, wt, **kw).shape)).astype(np.float32))

            def fwd(lib=lib, xt=xt, wt=wt):
                with lib.no_grad():
                    lib.nn.functional.conv2d(xt, wt, **kw)

            def both(lib=lib, xt=xt, wt=wt, g=g):
                xt.grad = wt.grad = None
                lib.nn.functional.conv2d(xt, wt, **kw).backward(g)
            fns[lib.__name__] = (fwd, both)
        messages = []
        handler = logging.Handler()
        handler.emit = lambda record: messages.append(record.getMessage())
        log.addHandler(handler)
        level = log.level
        log.setLevel(logging.DEBUG)
        fns["chainrule"][1]()
        log.removeHandler(handler)
        log.setLevel(level)
        layout = "Winograd" if "Winograd" in messages[0] else "direct" if ": direct" in messages[0] else "im2col"
        dx = "conv" if any("dx as a convolution" in m for m in messages) else (
            "col2im" if any("dx by col2im" in m for m in messages) else "-")
        threads = max(int(m.split(", ")[-1].split()[0]) for m in messages if "thread" in m)
        times = {k: ([], []) for k in fns}
        for _ in range(samples):
            for k, (fwd, both) in fns.items():
                for fn, out in ((fwd, times[k][0]), (both, times[k][1])):
                    reps, start = 0, time.perf_counter()
                    while time.perf_counter() - start < min_time:
                        fn()
                        reps += 1
                    out.append((time.perf_counter() - start) / reps * 1e3)
        (cf, cb), (tf, tb) = ((statistics.median(a), statistics.median(b) - statistics.median(a))
                              for a, b in times.values())
        rows.append(f"| {name} | {layout}, {dx}, {threads} | {cf:.2f} | {tf:.2f} | {cf / tf:.2f} | {cb:.2f} | "
                    f"{tb:.2f} | {cb / tb:.2f} |")
    return "\n".join(rows)


CPU_WORKLOADS = {
    "add+backward (1 elem)": add_backward,
    "50-op chain + backward": chain50,
    "MLP 784-256-256-10 step b32": mlp_step(32),
    "MLP 784-256-256-10 step b128": mlp_step(128),
    "MLP 784-256-256-10 step b512": mlp_step(512),
    "LeNet-5 step b64": lenet_step(64),
    "ResNet-small step b32": resnet_step(32),
    "Depthwise-separable step b32": depthwise_step(32),
    "conv 3x3 stride 2 dilation 2 fwd+bwd b32": conv_strided_dilated(32),
    "LSTM 2x256 step b32 T64": lstm_step(32, 64),
    "GPT 4x4x128 step b32 T64": gpt_step(32, 64),
    "matmul 512": matmul(512),
    "matmul 2048": matmul(2048),
}

CUDA_WORKLOADS = {
    "MLP 784-2048-2048-10 step b4096": _train_workload("mlp2048", lambda nn: mlp(nn, width=2048),
                                                       (4096, 784), "SGD", lr=0.01, momentum=0.9),
    "ResNet-small step b256": resnet_step(256),
    "matmul 8192": matmul(8192),
}

MEMORY_WORKLOADS = ("MLP 784-256-256-10 step b128", "LeNet-5 step b64", "ResNet-small step b32",
                    "LSTM 2x256 step b32 T64", "GPT 4x4x128 step b32 T64")


def tiny_workloads():
    """Every CPU workload at a tiny size, same names (the fast test that keeps bench/ working)."""
    return {
        "add+backward (1 elem)": add_backward,
        "50-op chain + backward": chain50,
        "MLP 784-256-256-10 step b128": mlp_step(4),
        "LeNet-5 step b64": lenet_step(2),
        "ResNet-small step b32": resnet_step(2),
        "Depthwise-separable step b32": depthwise_step(2),
        "conv 3x3 stride 2 dilation 2 fwd+bwd b32": conv_strided_dilated(2, 4, 9),
        "LSTM 2x256 step b32 T64": lstm_step(2, 3),
        "GPT 4x4x128 step b32 T64": gpt_step(2, 5),
        "matmul 512": matmul(8),
    }
