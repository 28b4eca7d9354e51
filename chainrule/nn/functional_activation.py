"""nn.functional's activations (relu, gelu, softmax, softplus, ..., rrelu) and ``_in_place``, torch's
``inplace=True`` for any of them; chainrule.nn.functional re-exports every name."""
import functools
import inspect

from ..tensor import Tensor
from ..ops.nn import Elu, Gelu, LeakyRelu, check_float as _check_float
from ..ops.elementwise import Where
from ..backend import random as _random
from .functional_losses import _log1p_exp


def _in_place(fn):
    """torch's ``inplace=True``: the result is written into ``input`` (through copy_, so autograd
    records the write as for any in-place op) and ``input`` is returned."""
    at = list(inspect.signature(fn).parameters).index("inplace")

    @functools.wraps(fn)
    def function(*args, **kwargs):
        inplace = kwargs.pop("inplace", False)
        if len(args) > at:
            inplace, args = args[at], args[:at] + args[at + 1:]
        out = fn(*args, **kwargs)
        return args[0].copy_(out) if inplace and out is not args[0] else out
    return function


def relu(input, inplace=False):
    """Applies the rectified linear unit max(0, x) elementwise, as ``torch.nn.functional.relu``."""
    return input.relu_() if inplace else input.relu()


def sigmoid(input):
    """Applies the logistic sigmoid 1 / (1 + exp(-x)) elementwise, as ``torch.nn.functional.sigmoid``."""
    return input.sigmoid()


def tanh(input):
    """Applies the hyperbolic tangent elementwise, as ``torch.nn.functional.tanh``."""
    return input.tanh()


def softmax(input, dim=None, dtype=None):
    """Applies softmax along ``dim``: exp(x_i) / sum_j exp(x_j), as ``torch.nn.functional.softmax``.

    With ``dim=None`` the dim is inferred as torch's legacy rule does (0 for 0-, 1- and 3-D inputs, else 1);
    ``dtype`` casts the input first."""
    return input.softmax(_default_dim(input, dim), dtype=dtype)


def log_softmax(input, dim=None, dtype=None):
    """Applies log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x), as
    ``torch.nn.functional.log_softmax``.

    With ``dim=None`` the dim is inferred as torch's legacy rule does; ``dtype`` casts the input first."""
    return input.log_softmax(_default_dim(input, dim), dtype=dtype)


def _default_dim(input, dim):
    if dim is None:  # torch's legacy implicit choice
        return 0 if input._data.ndim in (0, 1, 3) else 1
    return dim


leaky_relu = _in_place(LeakyRelu.call)
elu = _in_place(Elu.call)
gelu = Gelu.call


def prelu(input, weight):
    """Applies the parametric ReLU max(0, x) + weight min(0, x), as ``torch.nn.functional.prelu``.

    ``weight`` holds one slope or one per channel (dim 1 of the input)."""
    _check_float(input, "prelu")
    c = weight._data.size
    if c != 1 and (input._data.ndim < 2 or input._data.shape[1] != c):
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{c} and channel size = {input._data.shape[1] if input._data.ndim > 1 else 1}.")
    w = weight.reshape((1, c) + (1,) * (input._data.ndim - 2)) if c != 1 else weight.reshape(())
    return Where.call(input > 0, input, w * input)


def softplus(input, beta=1.0, threshold=20.0):
    """Applies softplus log(1 + exp(beta x)) / beta elementwise, as ``torch.nn.functional.softplus``.

    Where beta x > ``threshold`` the result is x itself (the linear regime), as in torch."""
    scaled = input * beta
    return Where.call(scaled > threshold, input, _log1p_exp(scaled) / beta)


@_in_place
def silu(input, inplace=False):
    """Applies the sigmoid linear unit x sigmoid(x) elementwise, as ``torch.nn.functional.silu``."""
    return input * input.sigmoid()


@_in_place
def mish(input, inplace=False):
    """Applies Mish, x tanh(softplus(x)), elementwise, as ``torch.nn.functional.mish``."""
    return input * softplus(input).tanh()


@_in_place
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val) whose gradient, as torch's, is 0 at the bounds themselves."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    inside = (input > min_val) & (input < max_val)
    return Where.call(inside, input, input.detach().clamp(min_val, max_val))


@_in_place
def relu6(input, inplace=False):
    """Applies min(max(0, x), 6) elementwise, as ``torch.nn.functional.relu6``."""
    return hardtanh(input, 0.0, 6.0)


@_in_place
def hardsigmoid(input, inplace=False):
    """Applies the piecewise-linear sigmoid min(max(0, x + 3), 6) / 6 elementwise, as
    ``torch.nn.functional.hardsigmoid``."""
    return hardtanh(input + 3, 0.0, 6.0) / 6


@_in_place
def hardswish(input, inplace=False):
    """Applies x min(max(0, x + 3), 6) / 6 elementwise, as ``torch.nn.functional.hardswish``."""
    return input * hardtanh(input + 3, 0.0, 6.0) / 6


def softsign(input):
    """Applies x / (1 + abs(x)) elementwise, as ``torch.nn.functional.softsign``."""
    return input / (input.abs() + 1)


def softmin(input, dim=None, dtype=None):
    """Applies softmax(-x) along ``dim``, as ``torch.nn.functional.softmin``."""
    return (-input).softmax(_default_dim(input, dim), dtype=dtype)


def logsigmoid(input):
    """Applies log(sigmoid(x)) = -softplus(-x) elementwise, computed stably, as
    ``torch.nn.functional.logsigmoid``."""
    return -_log1p_exp(-input)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


@_in_place
def selu(input, inplace=False):
    """Applies the scaled ELU, scale (max(0, x) + min(0, alpha (exp(x) - 1))), as ``torch.nn.functional.selu``.

    alpha = 1.6732632423543772, scale = 1.0507009873554805."""
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


@_in_place
def celu(input, alpha=1.0, inplace=False):
    """Applies max(0, x) + min(0, alpha (exp(x / alpha) - 1)) elementwise, as ``torch.nn.functional.celu``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu with alpha=0")
    return elu(input / alpha, 1.0) * alpha


def glu(input, dim=-1):
    """Applies the gated linear unit a sigmoid(b), where a and b are the two halves of the input along ``dim``, as
    ``torch.nn.functional.glu``.

    The size of ``dim`` must be even; the output has half of it."""
    if input._data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input._data.ndim if -input._data.ndim <= dim < input._data.ndim else dim
    if not isinstance(d, int) or not 0 <= d < input._data.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input._data.ndim}, "
                         f"{input._data.ndim - 1}], but got {dim})")
    n = input._data.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * b.sigmoid()


def tanhshrink(input):
    """Applies x - tanh(x) elementwise, as ``torch.nn.functional.tanhshrink``."""
    return input - input.tanh()


@_in_place
def threshold(input, threshold, value, inplace=False):
    """Keeps x where x > ``threshold`` and puts ``value`` elsewhere, as ``torch.nn.functional.threshold``."""
    return Where.call(input > threshold, input, value)


def hardshrink(input, lambd=0.5):
    """Keeps x where abs(x) > ``lambd`` and puts 0 elsewhere, as ``torch.nn.functional.hardshrink``."""
    return Where.call((input > lambd) | (input < -lambd), input, 0.0)


def softshrink(input, lambd=0.5):
    """Shrinks x towards 0 by ``lambd``: x - lambd above lambd, x + lambd below -lambd, 0 between, as
    ``torch.nn.functional.softshrink``."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return Where.call(input > lambd, input - lambd, Where.call(input < -lambd, input + lambd, 0.0))


@_in_place
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with slope (lower + upper) / 2 in eval; in training a uniform random slope per element."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    slope = _random.uniform_array(input._data.shape, lower, upper, input._data.dtype, input.device)
    return Where.call(input >= 0, input, input * Tensor._make(slope.astype(input._data.dtype, copy=False)))
