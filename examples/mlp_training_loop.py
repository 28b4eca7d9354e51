"""A PyTorch training loop, run by chainrule: an MLP learns the 8x8 handwritten digits.

This is a plain PyTorch script with its imports changed. Put back
    import torch
    from torch import nn, optim
    from torch.utils.data import DataLoader, TensorDataset
and it runs under PyTorch unchanged (tests/test_examples_training.py runs it both ways).

    python examples/mlp_training_loop.py --epochs 20
"""
import argparse

from sklearn.datasets import load_digits

import chainrule as torch
from chainrule import nn, optim
from chainrule.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, in_features=64, hidden=256, num_classes=10):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden // 2), nn.ReLU(),
            nn.Linear(hidden // 2, num_classes),
        )

    def forward(self, x):
        return self.layers(x)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    digits = load_digits()  # 1,797 images of 8x8 pixels valued 0..16, flattened to 64 features
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(x))
    test, train = order[:360], order[360:]
    train_loader = DataLoader(TensorDataset(x[train], y[train]), batch_size=args.batch_size, shuffle=True)

    model = MLP()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(inputs)
        model.eval()
        with torch.no_grad():
            accuracy = (model(x[test]).argmax(dim=1) == y[test]).float().mean().item()
        print(f"epoch {epoch:3d}  train loss {total / len(train):.4f}  test accuracy {accuracy:.2%}")
    return accuracy


if __name__ == "__main__":
    main()
