"""Elementwise functions that are not primitives of their own: comparisons and logical ops
(bool results, no gradient), and compositions of the primitives in ``chainrule.ops.elementwise``."""
import numpy as np

from ..backend import namespace
from ..ops.args import broadcast_error, is_tensor, no_bool_pair, operand, plain, promote, same_device
from ..ops.compare import Compare, Logical
from ..ops.elementwise import Div, Maximum, Minimum, Mul, Pow, Where, not_implemented, sign_of
from .core import Tensor


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


_COMPARISON_DOC = """Elementwise ``input {sym} other``, as ``torch.{name}`` (also ``Tensor.{name}`` and the ``{sym}`` operator).

``other`` is a tensor or a Python number; the operands broadcast. The result is a bool tensor with
no gradient (a comparison is not differentiable).

Differs from torch: an integer tensor compared with a float (number or tensor) is compared exactly,
as NumPy does, where torch first rounds the integer to the float dtype (``tensor([16777217]) ==
16777216.0`` is True in torch, False here).

Parameters
----------
input : Tensor
    The left operand.
other : Tensor or number
    The right operand, broadcast against ``input``.

Returns
-------
Tensor
    bool, of the broadcast shape.

Examples
--------
>>> cr.tensor([1, 2, 3]).{name}(2)
{example}
"""
_COMPARISONS = {"eq": ("==", "tensor([False,  True, False])"), "ne": ("!=", "tensor([ True, False,  True])"),
                "lt": ("<", "tensor([ True, False, False])"), "le": ("<=", "tensor([ True,  True, False])"),
                "gt": (">", "tensor([False, False,  True])"), "ge": (">=", "tensor([False,  True,  True])")}


def _comparison(method):
    call, name = Compare.call, method.strip("_")

    def compare(input, other):  # the op's entry (fast path inside): jit.trace and cr.compile record it
        return call(input, other, name)
    compare.__name__ = name
    sym, example = _COMPARISONS[compare.__name__]
    compare.__doc__ = _COMPARISON_DOC.format(name=compare.__name__, sym=sym, example=example)
    return compare


eq, ne, lt, le, gt, ge = (_comparison(f"__{n}__") for n in ("eq", "ne", "lt", "le", "gt", "ge"))


def _comparison_dunder(name):
    call = Compare.call

    def dunder(self, other):  # as torch: another type gives NotImplemented (== and != then compare identities)
        if type(other) not in _OPERAND_TYPES and not isinstance(other, (Tensor, np.ndarray, np.generic)):
            return NotImplemented
        return call(self, other, name)
    dunder.__name__ = f"__{name}__"
    return dunder


_OPERAND_TYPES = {float, int, bool, Tensor}
comparison_dunders = {n: _comparison_dunder(n) for n in ("eq", "ne", "lt", "le", "gt", "ge")}


def floor_divide(input, other):
    no_bool_pair(input, other, "floor_divide")
    return _on_arrays(input, other, "__floordiv__", promoted=True)


def remainder(input, other):
    no_bool_pair(input, other, "remainder")
    return _on_arrays(input, other, "__mod__", promoted=True)


_BITWISE_DOC = """Elementwise bitwise {word} ``input {sym} other``, as ``torch.bitwise_{word}`` (also the ``{sym}`` operator).

Integer and bool tensors only: a floating-point operand raises NotImplementedError. ``other`` is a tensor
or a Python int/bool; the operands broadcast and promote as torch (two bool tensors give a bool
tensor: the logical {word}). No gradient.

Parameters
----------
input : Tensor
    An integer or bool tensor.
other : Tensor or int
    An integer or bool tensor or number, broadcast against ``input``.

Returns
-------
Tensor
    Of the promoted dtype and the broadcast shape.

Examples
--------
>>> cr.tensor([12, 10]).bitwise_{word}(6)   # 0b1100, 0b1010 {sym} 0b0110
{example}
"""
_BITWISE = {"and": ("&", "tensor([4, 2])"), "or": ("|", "tensor([14, 14])"), "xor": ("^", "tensor([10, 12])")}


def _logical(method):
    call, name = Logical.call, "bitwise_" + method.strip("_")

    def logical(input, other):
        if not is_tensor(input):  # reflected (2 & t): the op commutes
            input, other = other, input
        return call(input, other, name)
    logical.__name__ = method.strip("_")
    word = logical.__name__
    logical.__doc__ = _BITWISE_DOC.format(word=word, sym=_BITWISE[word][0], example=_BITWISE[word][1])
    return logical


bitwise_and, bitwise_or, bitwise_xor = (_logical(m) for m in ("__and__", "__or__", "__xor__"))


invert = Logical.invert  # ``~t``: the op's entry itself (a hot path); TypeError on floats, as torch's ``~``


def bitwise_not(input):
    """Bitwise NOT of an integer tensor (logical NOT for bool), as ``torch.bitwise_not``."""
    if input._data.dtype.kind not in "iub":
        raise not_implemented("bitwise_not_cpu", input)
    return invert(input)


def logical_not(input):
    """True where an element is zero, as ``torch.logical_not``."""
    return Logical.call(input, None, "logical_not")


def isnan(input):
    """True where an element is NaN (x != x), as ``torch.isnan``."""
    return Compare.call(input, input, "ne")


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


_PAIR_DOC = """The elementwise {word} of two tensors, as ``torch.{name}`` (also ``Tensor.{name}``).

Both arguments must be tensors: a number raises TypeError, as torch (``clamp`` takes one). They
broadcast and promote as torch; a NaN in either operand gives NaN. Gradient: the {side} input gets
the upstream gradient and a tie splits it evenly between the two, as torch's.

Parameters
----------
input : Tensor
    The first operand.
other : Tensor
    The second operand, broadcast against ``input``.

Returns
-------
Tensor
    Of the promoted dtype and the broadcast shape.

Examples
--------
>>> cr.{name}(cr.tensor([1., 5.]), cr.tensor([3., 2.]))
{example}
"""


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
    big = pair.__name__ == "maximum"
    pair.__doc__ = _PAIR_DOC.format(name=pair.__name__, word="maximum" if big else "minimum",
                                    side="larger" if big else "smaller",
                                    example="tensor([3., 5.])" if big else "tensor([1., 2.])")
    return pair


maximum, minimum = _tensor_pair(Maximum), _tensor_pair(Minimum)


def positive(input):
    return input
