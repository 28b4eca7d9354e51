"""Elementwise functions that are not primitives of their own: comparisons and logical ops
(bool results, no gradient), and compositions of the primitives in ``chainrule.ops.elementwise``."""
import numpy as np

from ..backend import namespace
from ..ops.args import broadcast_error, is_tensor, no_bool_pair, operand, plain, promote, same_device
from ..ops.elementwise import Div, Maximum, Minimum, Mul, Pow, Where, sign_of


def _on_arrays(a, b, method, promoted=False):
    """a._data <method> b's array (or number): bool comparisons and logical ops, no graph."""
    name = method.strip("_")
    b = operand(b, name)
    if is_tensor(b):
        same_device(a, b, name)
    if promoted:  # the arithmetic ones compute in the promoted dtype
        a, b = promote(a, b, name)
    try:
        return plain(getattr(a._data, method)(b._data if is_tensor(b) else b))
    except ValueError:
        raise broadcast_error(a, b, name) from None


def _comparison(method):
    def compare(input, other):
        return _on_arrays(input, other, method)
    compare.__name__ = method.strip("_")
    return compare


eq, ne, lt, le, gt, ge = (_comparison(f"__{n}__") for n in ("eq", "ne", "lt", "le", "gt", "ge"))


def floor_divide(input, other):
    no_bool_pair(input, other, "floor_divide")
    return _on_arrays(input, other, "__floordiv__", promoted=True)


def remainder(input, other):
    no_bool_pair(input, other, "remainder")
    return _on_arrays(input, other, "__mod__", promoted=True)


def _logical(method):
    def logical(input, other):
        if not is_tensor(input):  # reflected (2 & t): the op commutes
            input, other = other, input
        b = operand(other, method.strip("_"))
        bd = b._data if is_tensor(b) else b
        if input._data.dtype.kind == "f" or getattr(bd, "dtype", np.dtype(int)).kind == "f" or isinstance(bd, float):
            raise RuntimeError(f"\"{method.strip('_')}\" not implemented for floating point tensors")
        return _on_arrays(input, b, method)
    logical.__name__ = method.strip("_")
    return logical


bitwise_and, bitwise_or, bitwise_xor = (_logical(m) for m in ("__and__", "__or__", "__xor__"))


def bitwise_not(input):
    """Bitwise NOT of an integer tensor (logical NOT for bool), as ``torch.bitwise_not``."""
    if input._data.dtype.kind not in "iub":
        raise TypeError(f"~ (bitwise_not) is only supported for integer and bool tensors, got {input.dtype}")
    return plain(~input._data)


def logical_not(input):
    """True where an element is zero, as ``torch.logical_not``."""
    return plain(namespace(input._data).logical_not(input._data))


def isnan(input):
    """True where an element is NaN, as ``torch.isnan``."""
    return plain(namespace(input._data).isnan(input._data))


def isfinite(input):
    """True where an element is neither infinite nor NaN, as ``torch.isfinite``."""
    return plain(namespace(input._data).isfinite(input._data))


def sign(input):
    """-1, 0 or 1 (0 at nan, as torch). Differentiable with gradient 0, as in torch: recorded as
    where(True, sign, input), so the output requires grad where the input does."""
    if input._data.dtype == np.bool_:  # NumPy has no bool sign loop; sign(b) is b
        return plain(input._data.copy())
    xp = namespace(input._data)
    out = plain(sign_of(xp, input._data))
    if not input.requires_grad:
        return out
    return Where.call(plain(xp.ones(out._data.shape, dtype=bool)), out, input)


def equal(input, other):
    """True when both tensors have the same shape and elements, as ``torch.equal`` (a Python bool)."""
    return input.shape == other.shape and bool((input._data == other._data).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(namespace(input._data).allclose(input._data, other._data, rtol, atol, equal_nan))


# ---- compositions --------------------------------------------------------------------------------

def square(input):
    """x^2 elementwise, as ``torch.square``."""
    return Mul.call(input, input) if input._data.dtype != np.bool_ else Pow.call(input, 2)  # bool**2 is int64


def reciprocal(input):
    """1 / x elementwise, as ``torch.reciprocal`` (integer inputs give the default float dtype)."""
    return Div.call(1, input)


def rsqrt(input):
    """1 / sqrt(x) elementwise, as ``torch.rsqrt``."""
    return Div.call(1, input.sqrt())


def clamp_min(input, min):
    """max(x, min) elementwise, as ``torch.clamp_min``."""
    return input.clamp(min=min)


def clamp_max(input, max):
    """min(x, max) elementwise, as ``torch.clamp_max``."""
    return input.clamp(max=max)


def masked_fill(input, mask, value):
    """Out of place: a copy of ``input`` with ``value`` where the boolean ``mask`` (broadcast) is True, as
    ``torch.masked_fill``."""
    if not is_tensor(mask) or mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if is_tensor(value) and value._data.ndim:
        raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s)")
    return Where.call(mask, value.to(input.dtype) if is_tensor(value) else value, input).to(input.dtype)


def _tensor_pair(op):
    """torch.maximum/minimum: two tensors (a number raises TypeError, as torch; the ops' own entry,
    which backward rules use, also takes numbers)."""
    def pair(input, other):
        for position, (arg, value) in enumerate((("input", input), ("other", other))):
            if not is_tensor(value):
                raise TypeError(f"{op.__name__.lower()}(): argument '{arg}' (position {position + 1}) must be "
                                f"Tensor, not {type(value).__name__}")
        return op.call(input, other)
    pair.__name__ = op.__name__.lower()
    return pair


maximum, minimum = _tensor_pair(Maximum), _tensor_pair(Minimum)


def positive(input):
    return input
