"""The data ``chainrule train`` learns from, as NumPy arrays: the 8x8 digits bundled with
scikit-learn, the classic 3-class spiral, or the user's own ``.npz`` file. No downloads."""
import os

import numpy as np


class DataError(ValueError):
    """Unusable training data; the message names the file and what is wrong with it."""


def load(source, seed=0):
    """``source`` is ``"digits"``, ``"spiral"`` or a path to an ``.npz`` file.
    Returns ``(x float32 of shape (N, ...), y int64 of shape (N,), name)``."""
    if source == "digits":
        return (*load_digits(), "digits")
    if source == "spiral":
        return (*make_spiral(seed=seed), "spiral")
    return (*load_npz(source), os.path.splitext(os.path.basename(source))[0])


def load_digits():
    """The 1,797 8x8 handwritten digits from scikit-learn as (N, 1, 8, 8) images in [0, 1]."""
    from sklearn.datasets import load_digits as sklearn_digits
    digits = sklearn_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # pixels are 0..16
    return x, digits.target.astype(np.int64)


def make_spiral(points_per_class=100, classes=3, seed=0):
    """The classic spiral (CS231n): ``classes`` arms of noisy 2-D points, one class per arm."""
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, points_per_class), classes)
    arm = np.repeat(np.arange(classes), points_per_class)
    theta = (arm + np.tile(np.linspace(0.0, 1.0, points_per_class), classes)) * 4.0
    theta += rng.standard_normal(theta.shape) * 0.2
    x = np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=1).astype(np.float32)
    return x, arm.astype(np.int64)


def load_npz(path):
    """Arrays ``x`` (N samples, any trailing shape, numeric) and ``y`` (N integer labels >= 0)."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError(f"{path}: this is a single .npy array; save x and y together with "
                            f"np.savez(path, x=inputs, y=labels)")
        with archive:
            missing = [k for k in ("x", "y") if k not in archive.files]
            if missing:
                raise DataError(f"{path}: no array named {' or '.join(map(repr, missing))} "
                                f"(found {sorted(archive.files)}); save your data with "
                                f"np.savez(path, x=inputs, y=labels)")
            x, y = archive["x"], archive["y"]
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except ValueError as e:  # object arrays (pickle) or not an .npz/.npy at all
        raise DataError(f"{path}: cannot read it as an .npz of plain arrays ({e})") from None
    except (OSError, EOFError, KeyError) as e:
        raise DataError(f"{path}: cannot read it as an .npz file ({type(e).__name__}: {e})") from None
    return _check_xy(path, x, y)


def _check_xy(path, x, y):
    if x.ndim < 2:
        raise DataError(f"{path}: x must have shape (N, features...), got shape {x.shape}")
    if y.ndim != 1:
        raise DataError(f"{path}: y must be a 1-D array of N class labels, got shape {y.shape}")
    if len(x) != len(y):
        raise DataError(f"{path}: x and y have different lengths ({len(x)} samples in x, "
                        f"{len(y)} labels in y)")
    if len(x) < 2:
        raise DataError(f"{path}: need at least 2 samples to split into train and test, got {len(x)}")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{path}: x must be numeric, got dtype {x.dtype}")
    if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)  # whole-number float labels are fine
    if y.dtype.kind not in "biu" or (y.size and y.min() < 0):
        raise DataError(f"{path}: y must hold class indices 0, 1, 2, ... "
                        f"(dtype {y.dtype}, min {y.min() if y.size else None})")
    return x.astype(np.float32), y.astype(np.int64)


def split(n, test_fraction, seed):
    """Seeded shuffle of ``range(n)`` cut into (train indices, test indices), both non-empty."""
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test fraction must be between 0 and 1, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(max(1, round(n * test_fraction)), n - 1)
    return order[n_test:], order[:n_test]
