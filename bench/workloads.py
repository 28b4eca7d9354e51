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


def matmul(n):
    def setup(lib, device="cpu"):
        rng = np.random.default_rng(0)
        a = lib.tensor(rng.standard_normal((n, n)).astype(np.float32), device=device)
        b = lib.tensor(rng.standard_normal((n, n)).astype(np.float32), device=device)
        return lambda: a @ b
    return setup


CPU_WORKLOADS = {
    "add+backward (1 elem)": add_backward,
    "50-op chain + backward": chain50,
    "MLP 784-256-256-10 step b32": mlp_step(32),
    "MLP 784-256-256-10 step b128": mlp_step(128),
    "MLP 784-256-256-10 step b512": mlp_step(512),
    "LeNet-5 step b64": lenet_step(64),
    "ResNet-small step b32": resnet_step(32),
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
        "LSTM 2x256 step b32 T64": lstm_step(2, 3),
        "GPT 4x4x128 step b32 T64": gpt_step(2, 5),
        "matmul 512": matmul(8),
    }
