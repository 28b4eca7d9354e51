"""chainrule.nn.init: torch.nn.init's initialisers, in place, with its fan and gain rules.

Every function writes into ``tensor`` under ``no_grad`` (so a leaf that requires grad can be
initialised in grad mode, as in torch) and returns the same tensor object. Argument checks and
messages are torch's, including those torch makes inside ``Tensor.uniform_``/``normal_`` (bounds,
``std >= 0``, integer dtypes).

``generator=``: ``None`` draws from chainrule's seeded default generator (``chainrule.manual_seed``);
a ``chainrule.Generator`` (a ``numpy.random.Generator``) draws from itself; anything else (a
``torch.Generator`` included) is a TypeError.
"""
import math
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backend import random as _random
from ..tensor import as_tensor, empty, empty_like, eye as _eye, functions as _functions, rand, Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
           "sparse_",
           # deprecated aliases, as torch keeps them
           "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
           "kaiming_normal", "orthogonal", "sparse"]

_where = _functions["where"]

# torch's names for the dtypes in its messages
_KERNEL_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                 "float16": "Half", "float32": "Float", "float64": "Double"}
_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double"}


# ---- the checks torch makes in Tensor.uniform_ / normal_ ------------------------------------------

def _check_generator(fn, generator):
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"{fn}(): argument 'generator' must be None or a chainrule.Generator, not "
                        f"{type(generator).__name__}")


def _check_floating(tensor, kernel):
    if not tensor.dtype.is_floating_point:
        if kernel == "normal":
            kernel = f"normal_kernel_{tensor.device.type}"
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_KERNEL_NAMES.get(tensor.dtype.name, tensor.dtype.name)}'")


def _check_uniform(tensor, a, b):
    return _random.check_uniform(tensor.dtype, a, b)


def _check_normal(tensor, std):
    _check_floating(tensor, "normal")
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


# ---- sampling (callers hold no_grad) --------------------------------------------------------------

def _uniform_into(tensor, a, b, generator):
    if generator is None:
        return tensor.uniform_(a, b)
    values = generator.random(tuple(tensor.shape)) * (b - a) + a
    return tensor.copy_(as_tensor(values.astype(tensor.dtype.np), device=tensor.device))


def _normal_into(tensor, mean, std, generator):
    if generator is None:
        return tensor.normal_(mean, std)
    values = generator.standard_normal(tuple(tensor.shape)) * std + mean
    return tensor.copy_(as_tensor(values.astype(tensor.dtype.np), device=tensor.device))


def _no_grad_uniform_(tensor, a, b, generator=None):
    a, b = _check_uniform(tensor, a, b)
    with no_grad():
        return _uniform_into(tensor, a, b, generator)


def _no_grad_normal_(tensor, mean, std, generator=None):
    _check_normal(tensor, std)
    with no_grad():
        return _normal_into(tensor, mean, std, generator)


# ---- gains and fans -------------------------------------------------------------------------------

def calculate_gain(nonlinearity, param=None):
    """The recommended gain for ``nonlinearity`` (torch's table; ``param`` is leaky_relu's slope)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, int) or isinstance(param, float):
            negative_slope = param  # True/False are ints: refused, as torch
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return tensor.shape[1] * receptive_field_size, tensor.shape[0] * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ---- the initialisers -----------------------------------------------------------------------------

def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill ``tensor`` with values drawn from U(a, b)."""
    _check_generator("uniform_", generator)
    return _no_grad_uniform_(tensor, a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill ``tensor`` with values drawn from N(mean, std²)."""
    _check_generator("normal_", generator)
    return _no_grad_normal_(tensor, mean, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill ``tensor`` with N(mean, std²) truncated to [a, b], by torch's two rejection samplers:
    redraw from the normal where the interval holds most of the mass (p > 0.3), else uniform
    proposals on [a, b] accepted with probability pdf(x) / pdf(mode)."""
    _check_generator("trunc_normal_", generator)

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    if p > 0.3:
        _check_normal(tensor, std)
        lo, hi = (float(np.asarray(v, dtype=tensor.dtype.np)) for v in (a, b))  # bounds in the tensor's dtype
        with no_grad():
            _normal_into(tensor, mean, std, generator)
            while True:
                mask = (tensor < lo) | (tensor > hi)
                if not mask.any().item():
                    break
                tensor.copy_(_where(mask, _normal_into(empty_like(tensor), mean, std, generator), tensor))
        return tensor
    a, b = _check_uniform(tensor, a, b)
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def rejected(x):  # log U > log pdf(x) - log pdf(mode)
        log_ratio = ((x - mean) / std) ** 2 * -0.5 - log_peak
        return _uniform_into(empty_like(x), 0.0, 1.0, generator).log() > log_ratio

    with no_grad():
        _uniform_into(tensor, a, b, generator)
        pending = rejected(tensor)
        while pending.any().item():
            candidates = _uniform_into(empty_like(tensor), a, b, generator)
            tensor.copy_(_where(pending, candidates, tensor))
            pending = pending & rejected(candidates)
    return tensor


def constant_(tensor, val):
    """Fill ``tensor`` with ``val`` (a number or a 0-dim tensor)."""
    if isinstance(val, Tensor):
        if val.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {val.dim()} "
                               "dimensions.")
    elif not isinstance(val, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"fill_() received an invalid combination of arguments - got ({type(val).__name__}), but "
                        "expected one of:\n * (Tensor value)\n * (Number value)")
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill ``tensor`` with 1."""
    with no_grad():
        return tensor.fill_(1.0)


def zeros_(tensor):
    """Fill ``tensor`` with 0."""
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill the 2-D ``tensor`` with the identity matrix (ones on the main diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor.copy_(_eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def dirac_(tensor, groups=1):
    """Fill the 3/4/5-D ``tensor`` with the Dirac delta: a convolution with it is the identity on
    the first min(out/groups, in) channels of each group."""
    dimensions = tensor.dim()
    if dimensions not in [3, 4, 5]:
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    centre = tuple(s // 2 for s in sizes[2:])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min_dim):
                tensor[(g * out_chans_per_grp + d, d) + centre] = 1
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    _check_generator("uniform_", generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return _no_grad_uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    _check_generator("normal_", generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _no_grad_normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity, sampler, generator):
    """gain / sqrt(fan_mode), or None for a zero-element tensor (torch warns and leaves it)."""
    _check_generator(sampler, generator)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan_mode) (He et al., 2015)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "uniform_", generator)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _no_grad_uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std²) with std = gain / sqrt(fan_mode) (He et al., 2015)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "normal_", generator)
    return tensor if std is None else _no_grad_normal_(tensor, 0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times ``gain``, the trailing dimensions flattened (Saxe et al.,
    2013): the QR decomposition of a Gaussian matrix (NumPy's, in float64), Q's columns multiplied
    by the signs of R's diagonal so that Q is uniform over the orthogonal group, as torch does."""
    _check_generator("normal_", generator)
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    _check_normal(tensor, 1.0)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with no_grad():
        sample = _normal_into(empty(rows, cols, dtype=tensor.dtype, device=tensor.device), 0.0, 1.0, generator)
    flattened = sample.cpu().numpy().astype(np.float64)
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    q = (q * gain).reshape(tuple(tensor.shape)).astype(tensor.dtype.np)
    with no_grad():
        return tensor.copy_(as_tensor(q, device=tensor.device))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """N(0, std²) values with ceil(sparsity * rows) entries of each column set to zero, the rows
    drawn at random per column (Martens, 2010)."""
    _check_generator("normal_", generator)
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    _check_normal(tensor, std)
    with no_grad():
        _normal_into(tensor, 0, std, generator)
        # a random permutation of the rows per column; its first num_zeros (Python slicing, as torch's
        # row_indices[:num_zeros]) are zeroed
        keys = generator.random((rows, cols)) if generator is not None else rand(rows, cols).numpy()
        order = np.argsort(keys, axis=0, kind="stable")[:num_zeros]
        mask = np.zeros((rows, cols), dtype=bool)
        mask[order, np.arange(cols)] = True
        tensor.masked_fill_(as_tensor(mask, device=tensor.device), 0)
    return tensor


# ---- deprecated aliases ---------------------------------------------------------------------------

def _make_deprecate(meth):
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"{old_name}(...)\n\n.. warning::\n    This method is now deprecated in favor of " \
                              f":func:`chainrule.nn.init.{new_name}`.\n\nSee :func:`~chainrule.nn.init.{new_name}`."
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
