"""Small ready-made classifiers, built from ``chainrule.nn`` (used by ``chainrule train``)."""
from . import nn


class MLP(nn.Sequential):
    """Flatten, then ``hidden`` ReLU layers, then a linear layer to ``num_classes`` logits."""

    def __init__(self, in_features, num_classes, hidden=(256, 128)):
        layers = [nn.Flatten()]
        for width in hidden:
            layers += [nn.Linear(in_features, width), nn.ReLU()]
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
