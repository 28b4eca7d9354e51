"""Small ready-made models built from ``chainrule.nn`` (used by ``chainrule train``): classifiers
for images and vectors, character language models for text."""
from . import nn
from .tensor import arange


ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class MLP(nn.Sequential):
    """Flatten, then ``hidden`` layers (Linear + ``activation``: relu, sigmoid or tanh), then a
    linear layer to ``num_classes`` logits."""

    def __init__(self, in_features, num_classes, hidden=(256, 128), activation="relu"):
        layers = [nn.Flatten()]
        for width in hidden:
            layers += [nn.Linear(in_features, width), ACTIVATIONS[activation]()]
            in_features = width
        layers.append(nn.Linear(in_features, num_classes))
        super().__init__(*layers)


class CNN(nn.Sequential):
    """Two (3x3 conv, ReLU, 2x2 max-pool) stages, then a linear layer to ``num_classes`` logits.
    Takes (N, C, H, W) images with H, W >= 4."""

    def __init__(self, in_channels, height, width, num_classes, channels=(16, 32)):
        if height < 4 or width < 4:
            raise ValueError(f"CNN: images must be at least 4x4 (two 2x2 poolings), got {height}x{width}")
        c1, c2 = channels
        super().__init__(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(c2 * (height // 4) * (width // 4), num_classes),
        )


class CharRNN(nn.Module):
    """Character language model: embedding, a stacked LSTM or GRU, a linear layer to the vocabulary.
    ``forward(idx, state)`` returns (logits (N, T, V), state) so sampling can carry the state."""

    def __init__(self, vocab_size, kind="lstm", embed=64, hidden=256, layers=2, dropout=0.0):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.embed = nn.Embedding(vocab_size, embed)
        self.rnn = rnn(embed, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, idx, state=None):
        out, state = self.rnn(self.embed(idx), state)
        return self.head(out), state


class CharTransformer(nn.Module):
    """GPT-style character model: token and position embeddings, pre-norm causal self-attention
    blocks (tanh-GELU feed-forward, as GPT-2), a final LayerNorm and a linear layer to the vocabulary."""

    def __init__(self, vocab_size, context=64, d_model=128, heads=4, layers=4, dropout=0.0):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(context, d_model)
        block = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout, activation=_gelu_tanh,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context), persistent=False)

    def forward(self, idx, state=None):
        t = idx.shape[1]
        if t > self.context:
            raise ValueError(f"CharTransformer: sequence of {t} tokens is longer than the context ({self.context})")
        x = self.tok(idx) + self.pos(arange(t, device=idx.device))
        x = self.blocks(x, mask=self.mask[:t, :t].to(x.dtype), is_causal=True)
        return self.head(self.norm(x)), None


def _gelu_tanh(x):
    return nn.functional.gelu(x, approximate="tanh")
