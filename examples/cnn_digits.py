"""A small convolutional network on the 8x8 handwritten digits, written as for PyTorch.

Two 3x3 convolutions with ReLU and 2x2 max-pooling, then a linear classifier; about 99% test
accuracy after 20 epochs, in seconds on a laptop CPU. With `import torch` (and torch.nn,
torch.optim, torch.utils.data) in place of the chainrule imports it runs under PyTorch.

    python examples/cnn_digits.py --epochs 20
"""
import argparse

from sklearn.datasets import load_digits

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.utils.data import DataLoader, TensorDataset


class DigitsCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)   # 1x8x8 -> 16x8x8 -> pool 16x4x4
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)  # -> 32x4x4 -> pool 32x2x2
        self.fc = nn.Linear(32 * 2 * 2, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)  # (N, 1, 8, 8)
    labels = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(images))
    test, train = order[:360], order[360:]
    loader = DataLoader(TensorDataset(images[train], labels[train]), batch_size=args.batch_size, shuffle=True)

    model = DigitsCNN()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
        test_accuracy = accuracy(model, images[test], labels[test])
        print(f"epoch {epoch:3d}  last batch loss {loss.item():.4f}  test accuracy {test_accuracy:.2%}")
    return test_accuracy


if __name__ == "__main__":
    main()
