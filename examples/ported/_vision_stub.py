"""A tiny stand-in for the few torchvision names the ported scripts use.

The ported scripts must run without downloads, so the datasets come from data that ships with
scikit-learn and every Python install:

- ``datasets.MNIST``: scikit-learn's 8x8 digits (``sklearn.datasets.load_digits``, 1797 images),
  scaled to 0..255, upsampled 3x (nearest) to 24x24 and zero-padded to MNIST's 28x28; the first
  1500 images are the train split, the remaining 297 the test split. Items are (uint8 array, int);
  ``.data`` (uint8, N x 28 x 28) and ``.targets`` (int64) are tensors, as torchvision's.
- ``datasets.FakeData``: seeded random uint8 images, like torchvision's FakeData.
- ``datasets.CIFAR10``: the same digits upsampled 4x to 32x32 and tinted with a colour per image
  (seeded), items (uint8 H x W x 3 array, int); ``.data`` a uint8 array, ``.targets`` a list, as torchvision's.
- ``transforms``: Compose, ToTensor, Normalize, Lambda, Resize (nearest), CenterCrop, Pad (zeros),
  RandomCrop and RandomHorizontalFlip (drawing from chainrule's generator, so manual_seed governs them).
- ``utils.save_image``: writes the image grid as a PNG with matplotlib.
- ``models.resnet18(weights=None)``: torchvision's ResNet-18 layout (same module names and shapes:
  conv1, bn1, relu, maxpool, layer1-4 of BasicBlocks, avgpool, fc), untrained.

This file is not part of the ported programs' logic: it replaces torchvision only.
"""
import importlib
import os
import sys
import types

import numpy as np

# PORTED_FRAMEWORK=torch lets the same data feed a torch run of the original script (for comparison).
torch = importlib.import_module(os.environ.get("PORTED_FRAMEWORK", "chainrule"))


class _MNIST:
    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        from sklearn.datasets import load_digits
        d = load_digits()
        img = (d.images * (255.0 / 16.0)).round().astype(np.uint8)
        img = np.kron(img, np.ones((3, 3), np.uint8))
        img = np.pad(img, ((0, 0), (2, 2), (2, 2)))
        sl = slice(0, 1500) if train else slice(1500, None)
        self.data, self.targets = torch.from_numpy(img[sl]), torch.from_numpy(d.target[sl].astype(np.int64))
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def _item(self, i):
        return self.data[i].numpy(), int(self.targets[i])

    def __getitem__(self, i):
        x, y = self._item(i)
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


class _CIFAR10(_MNIST):
    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None):
        from sklearn.datasets import load_digits
        d = load_digits()
        gray = np.kron(d.images / 16.0, np.ones((4, 4)))[..., None]  # (N, 32, 32, 1) in 0..1
        tint = np.random.default_rng(0).uniform(0.3, 1.0, (len(gray), 1, 1, 3))
        img = (gray * tint * 255).round().astype(np.uint8)
        sl = slice(0, 1500) if train else slice(1500, None)
        self.data, self.targets = img[sl], d.target[sl].tolist()
        self.transform, self.target_transform = transform, target_transform

    def _item(self, i):
        return self.data[i], self.targets[i]


class _FakeData:
    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        self.size, self.image_size, self.num_classes = size, image_size, num_classes
        self.transform, self.random_offset = transform, random_offset

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        rng = np.random.default_rng(i + self.random_offset)
        c, h, w = self.image_size
        x = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        y = int(rng.integers(0, self.num_classes))
        return (self.transform(x) if self.transform else x), y


class _Compose:
    def __init__(self, fns):
        self.fns = fns

    def __call__(self, x):
        for f in self.fns:
            x = f(x)
        return x


class _ToTensor:
    def __call__(self, x):
        a = np.asarray(x)
        if a.ndim == 2:
            a = a[:, :, None]
        return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)).astype(np.float32) / 255.0)


class _Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, t):
        m = torch.tensor(self.mean, dtype=t.dtype).view(-1, 1, 1)
        s = torch.tensor(self.std, dtype=t.dtype).view(-1, 1, 1)
        return (t - m) / s


class _Lambda:
    def __init__(self, f):
        self.f = f

    def __call__(self, x):
        return self.f(x)


class _Resize:
    def __init__(self, size):
        self.size = size

    def __call__(self, x):
        a = np.asarray(x)
        h, w = a.shape[:2]
        ri = (np.arange(self.size) * h // self.size)
        ci = (np.arange(self.size) * w // self.size)
        return a[ri][:, ci]


class _CenterCrop:
    def __init__(self, size):
        self.size = size

    def __call__(self, x):
        a = np.asarray(x)
        h, w = a.shape[:2]
        t, l = (h - self.size) // 2, (w - self.size) // 2
        return a[t:t + self.size, l:l + self.size]


class _Pad:
    def __init__(self, padding):
        self.padding = padding

    def __call__(self, x):
        a, p = np.asarray(x), self.padding
        return np.pad(a, ((p, p), (p, p)) + ((0, 0),) * (a.ndim - 2))


class _RandomCrop:
    def __init__(self, size):
        self.size = size

    def __call__(self, x):
        a = np.asarray(x)
        t = int(torch.randint(0, a.shape[0] - self.size + 1, (1,)))
        l = int(torch.randint(0, a.shape[1] - self.size + 1, (1,)))
        return a[t:t + self.size, l:l + self.size]


class _RandomHorizontalFlip:
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, x):
        a = np.asarray(x)
        return a[:, ::-1] if float(torch.rand(1)) < self.p else a


def _save_image(tensor, fp, nrow=8, padding=2, normalize=False, **kwargs):
    a = tensor.detach().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    if a.ndim == 3:
        a = a[None]
    if normalize:
        a = (a - a.min()) / max(a.max() - a.min(), 1e-5)
    n, c, h, w = a.shape
    ncol = min(nrow, n)
    rows = (n + ncol - 1) // ncol
    grid = np.zeros((c, rows * (h + padding) + padding, ncol * (w + padding) + padding), np.float32)
    for k in range(n):
        r, q = divmod(k, ncol)
        grid[:, padding + r * (h + padding):padding + r * (h + padding) + h,
             padding + q * (w + padding):padding + q * (w + padding) + w] = a[k]
    grid = np.clip(grid, 0, 1).transpose(1, 2, 0)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.imsave(fp, grid[:, :, 0] if c == 1 else grid, cmap="gray" if c == 1 else None)


def _resnet18(weights=None, num_classes=1000):
    nn = torch.nn
    if weights is not None:
        raise ValueError("_vision_stub.models.resnet18: no pretrained weights here (weights=None only)")

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample, self.stride = downsample, stride

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1, self.layer2 = self._make_layer(64, 1), self._make_layer(128, 2)
            self.layer3, self.layer4 = self._make_layer(256, 2), self._make_layer(512, 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def _make_layer(self, planes, stride):
            down = None
            if stride != 1 or self.inplanes != planes:
                down = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
            first = BasicBlock(self.inplanes, planes, stride, down)
            self.inplanes = planes
            return nn.Sequential(first, BasicBlock(planes, planes))

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))
    return ResNet()


def _module(name, **names):
    m = types.ModuleType(__name__ + "." + name)
    m.__dict__.update(names)
    sys.modules[m.__name__] = m  # so that `from _vision_stub.datasets import MNIST` works
    return m


datasets = _module("datasets", MNIST=_MNIST, CIFAR10=_CIFAR10, FakeData=_FakeData)
transforms = _module("transforms", Compose=_Compose, ToTensor=_ToTensor, Normalize=_Normalize,
                     Lambda=_Lambda, Resize=_Resize, CenterCrop=_CenterCrop, Pad=_Pad, RandomCrop=_RandomCrop,
                     RandomHorizontalFlip=_RandomHorizontalFlip)
utils = _module("utils", save_image=_save_image)
models = _module("models", resnet18=_resnet18)
