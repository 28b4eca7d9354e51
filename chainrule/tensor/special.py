"""Elementwise math and predicates beyond the basic arithmetic: rounding, special functions,
classification predicates, logical and shift ops, and compositions of the primitives in
``chainrule.ops.elementwise`` (lerp's relatives, nan_to_num, logit, float_power, ...).

Predicates (bool results) and integer-only ops run on the arrays and record nothing, as in torch.
"""
import math

import numpy as np

from .. import dtypes as _dt
from ..backend import namespace
from ..ops.args import broadcast_error, float_needed, is_tensor, operand, plain, promote, same_device
from ..ops.compare import Logical
# the op classes the variants table names as special.X
from ..ops.elementwise import (Acos, Acosh, Asin, Asinh, Atan, Atan2, Atanh, Clamp, Copysign, Cosh, Digamma,  # noqa: F401
                               Div, Erf, Erfc, Erfinv, Exp2, Expm1, Fmod, Hypot, Lerp, Lgamma, Log1p, Log2, Log10,
                               LogAddExp, LogAddExp2, Mul, Neg, Polygamma, Remainder, Rounding, Sinh, Sub, Tan,
                               Where, Xlog1py, Xlogy, C_NAMES, not_implemented)


# ---- rounding (gradient 0; integers are returned as copies) --------------------------------------

def floor(input):
    """Rounds down elementwise, as ``torch.floor`` (integer inputs are returned unchanged)."""
    return Rounding.call(input, "floor")


def ceil(input):
    """Rounds up elementwise, as ``torch.ceil`` (integer inputs are returned unchanged)."""
    return Rounding.call(input, "ceil")


def trunc(input):
    """Rounds towards zero elementwise, as ``torch.trunc`` (alias ``fix``)."""
    return Rounding.call(input, "trunc")


def round(input, *, decimals=0):
    """Rounds half to even elementwise, to ``decimals`` decimal places, as ``torch.round``."""
    return Rounding.call(input, "round", decimals)


def frac(input):
    """x - trunc(x): the gradient passes unchanged, as torch's."""
    if input._data.dtype.kind != "f":
        raise not_implemented("frac_cpu", input)
    return input - Rounding.call(input, "trunc")


def polygamma(n, input):
    """The n-th derivative of the digamma function, elementwise, as ``torch.polygamma``."""
    return Polygamma.call(n, input)


def polygamma_method(self, n):
    """The n-th derivative of the digamma function, elementwise, as ``torch.Tensor.polygamma`` (note the argument
    order: ``x.polygamma(n)``)."""
    return Polygamma.call(n, self)


# ---- compositions with gradients -----------------------------------------------------------------

def _float(t):
    return float_needed(t, "")


def deg2rad(input):
    """Converts degrees to radians, x pi / 180, as ``torch.deg2rad``."""
    return _float(input) * (math.pi / 180.0)


def rad2deg(input):
    """Converts radians to degrees, x 180 / pi, as ``torch.rad2deg``."""
    return _float(input) * (180.0 / math.pi)


def logit(input, eps=None):
    """ln(z / (1 - z)) with z = x clamped to [eps, 1 - eps] when eps is given (gradient 0 outside)."""
    z = _float(input)
    if eps is not None:
        z = z.clamp(eps, 1.0 - eps)
    return (z / (1 - z)).log()


def float_power(input, exponent):
    """input ** exponent in float64."""
    if not is_tensor(input) and not is_tensor(exponent):
        raise TypeError("float_power(): expected at least one Tensor argument")
    to64 = (lambda v: v.to(_dt.float64) if is_tensor(v) else float(v))
    return to64(input) ** to64(exponent)


def float_power_(self, exponent):
    """In place x^exponent computed in float64, as ``torch.Tensor.float_power_`` (the tensor must be float64)."""
    if self._data.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype.name.capitalize()} but the "
                           "operation's result requires dtype Double")
    return self.copy_(float_power(self, exponent))


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value tensor1 tensor2 (elementwise, broadcast), as ``torch.addcmul``."""
    return input + (tensor1 * tensor2 if value == 1 else value * (tensor1 * tensor2))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value tensor1 / tensor2 (elementwise, broadcast), as ``torch.addcdiv``."""
    if tensor1._data.dtype.kind != "f" and tensor2._data.dtype.kind != "f":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
                           "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    return input + (tensor1 / tensor2 if value == 1 else value * (tensor1 / tensor2))


def lerp(input, end, weight):
    """Linear interpolation input + weight (end - input), as ``torch.lerp``; ``weight`` is a number or a tensor."""
    return Lerp.call(input, end, weight)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan, +inf and -inf replaced (by 0 and the dtype's largest/smallest finite values by default);
    the gradient passes where the input is finite, 0 elsewhere."""
    x = input._data
    if x.dtype.kind != "f":
        return plain(x.copy())
    fi = np.finfo(x.dtype)
    xp = namespace(x)
    with np.errstate(over="ignore"):
        fill = xp.where(x != x, x.dtype.type(nan), xp.where(x > 0, x.dtype.type(fi.max if posinf is None else posinf),
                                                            x.dtype.type(fi.min if neginf is None else neginf)))
    return Where.call(plain(xp.isfinite(x)), input, plain(fill.astype(x.dtype, copy=False)))


def div(input, other, *, rounding_mode=None):
    """a / b; rounding_mode "trunc" or "floor" rounds the quotient (integers stay integers, the
    gradient is 0, as torch)."""
    if rounding_mode is None:
        return Div.call(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    return _rounded_div(input, other, rounding_mode, "div")


def _rounded_div(input, other, rounding_mode, name):
    a, b = promote(operand(input, name), operand(other, name), name)
    t = a if is_tensor(a) else b
    x, y = (v._data if is_tensor(v) else v for v in (a, b))
    xp = namespace(t._data)
    if t._data.dtype == np.bool_:
        raise NotImplementedError(f"{name}: \"div_{rounding_mode}_cpu\" not implemented for 'Bool'")
    if t._data.dtype.kind in "iu":
        if not bool(xp.asarray(y).all()):
            raise RuntimeError("ZeroDivisionError")
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            q = xp.floor_divide(x, y)
            if rounding_mode == "trunc":  # one up where the floor went below a negative quotient
                q = (q + ((xp.remainder(x, y) != 0) & ((x < 0) != (y < 0)))).astype(q.dtype) \
                    if t._data.dtype.kind != "f" else xp.trunc(x / y)
    except ValueError:
        raise broadcast_error(a, b, name) from None
    out = plain(xp.asarray(q, dtype=q.dtype))
    grads = [v for v in (a, b) if is_tensor(v) and v.requires_grad]
    for v in grads:  # the gradient is 0: recorded as where(True, q, v)
        out = Where.call(plain(xp.ones(out._data.shape, dtype=bool)), out, v)
    return out


def floor_divide(input, other):
    """a // b rounded toward -inf (Python's rule); an integer division by zero raises, as torch."""
    if not is_tensor(input) and not is_tensor(other):
        raise TypeError("floor_divide(): expected at least one Tensor argument")
    return _rounded_div(input, other, "floor", "floor_divide")


def positive(input):
    """Returns ``input`` itself, as ``torch.positive`` (bool inputs raise)."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when abs(input - other) <= atol + rtol abs(other) for every element, as ``torch.allclose``; NaNs
    compare equal only with ``equal_nan``."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def clamp(input, min=None, max=None):
    """clamp with bounds that are both numbers or both tensors (or None), as torch's overloads."""
    if (min is not None and max is not None) and is_tensor(min) != is_tensor(max):
        raise TypeError(f"clamp() received an invalid combination of arguments - got (Tensor, "
                        f"{type(min).__name__}, {type(max).__name__}): min and max must both be Tensors or "
                        "both be numbers")
    return Clamp.call(input, min, max)


# ---- predicates and integer ops: no graph ----------------------------------------------------------

def _arrays(input, other, name, arg="other"):
    """Both operands' arrays; both must be tensors on one device, as torch's Tensor overloads."""
    for position, (a, v) in enumerate((("input", input), (arg, other))):
        if not is_tensor(v):
            raise TypeError(f"{name}(): argument '{a}' (position {position + 1}) must be Tensor, not "
                            f"{type(v).__name__}")
    same_device(input, other, name)
    return input._data, other._data


def _broadcasting(name, fn, a, b):
    try:
        return plain(fn(a, b))
    except ValueError:
        raise broadcast_error(a, b, name) from None


def signbit(input):
    """True where the sign bit is set (negative numbers and -0.0), as ``torch.signbit``."""
    return plain(namespace(input._data).signbit(input._data))


def isinf(input):
    """True where an element is +inf or -inf, as ``torch.isinf``."""
    return plain(namespace(input._data).isinf(input._data))


def isposinf(input):
    """True where an element is +inf, as ``torch.isposinf``."""
    return plain(input._data == math.inf)


def isneginf(input):
    """True where an element is -inf, as ``torch.isneginf``."""
    return plain(input._data == -math.inf)


def isreal(input):
    """True everywhere for real tensors (chainrule has no complex dtypes), as ``torch.isreal``."""
    return plain(namespace(input._data).ones(input._data.shape, dtype=bool))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol |b|, or a == b (infinities), or both nan with equal_nan: torch's formula."""
    a, b = _arrays(input, other, "isclose")
    if a.dtype != b.dtype:
        raise RuntimeError(f"{_C(input)} did not match {_C(other)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    return _broadcasting("isclose", lambda u, v: _isclose(namespace(u), u, v, rtol, atol, equal_nan), a, b)


def _isclose(xp, a, b, rtol, atol, equal_nan):
    close = a == b
    if equal_nan and a.dtype.kind == "f":
        close = close | ((a != a) & (b != b))
    if not (rtol or atol):
        return close
    if a.dtype.kind != "f":  # integers and bools: compared in the default float dtype
        f = _dt.get_default_dtype().np
        a, b = a.astype(f), b.astype(f)
    with np.errstate(invalid="ignore", over="ignore"):
        err = xp.abs(a - b)
        return close | (xp.isfinite(err) & (err <= atol + xp.abs(rtol * b)))


def _C(t):
    return C_NAMES[t.dtype.name]


_LOGICAL_DOC = """Elementwise logical {word}: True where {when}, as ``torch.{name}`` (also ``Tensor.{name}``).

Inputs of any dtype (nonzero is True); both are tensors and broadcast. The result is bool with no
gradient; the in-place ``Tensor.{name}_`` keeps ``input``'s dtype (stores 1 and 0), as torch.

Parameters
----------
input : Tensor
    The first operand, of any dtype.
other : Tensor
    The second operand, broadcast against ``input``.

Returns
-------
Tensor
    bool, of the broadcast shape.

Examples
--------
>>> cr.tensor([1., 0., 2.]).{name}(cr.tensor([1, 1, 0]))
{example}
"""
_LOGICAL = {"logical_and": ("AND", "both are nonzero", "tensor([ True, False, False])"),
            "logical_or": ("OR", "either is nonzero", "tensor([True, True, True])"),
            "logical_xor": ("XOR", "exactly one is nonzero", "tensor([False,  True,  True])")}


def _logical(name, fn):
    def logical(input, other):
        _arrays(input, other, name)  # two tensors, on one device
        return Logical.call(input, other, fn)  # the op: jit.trace and cr.compile record it
    logical.__name__ = name
    word, when, example = _LOGICAL[name]
    logical.__doc__ = _LOGICAL_DOC.format(name=name, word=word, when=when, example=example)
    return logical


logical_and = _logical("logical_and", "logical_and")
logical_or = _logical("logical_or", "logical_or")
logical_xor = _logical("logical_xor", "logical_xor")


def _shift(name, left):
    """<< and >> as torch: shifts of the bit width or more (or negative) give 0 (or -1 for a negative
    value shifted right), where C and NumPy leave them undefined."""
    def shift(input, other):
        if not is_tensor(input):  # reflected: 1 << t
            input = operand(input, name)
            input = plain(namespace(other._data).asarray(input, dtype=other._data.dtype)) if not is_tensor(input) else input
        a, b = promote(input, operand(other, name), name)
        t = a if is_tensor(a) else b
        if t._data.dtype.kind not in "iu" or (is_tensor(b) and b._data.dtype == np.bool_ and a._data.dtype == np.bool_):
            raise not_implemented("lshift_cpu" if left else "rshift_cpu", t)
        x, n = a._data, b._data if is_tensor(b) else b
        xp = namespace(x)
        bits = x.dtype.itemsize * 8
        big = (n < 0) | (n >= bits)
        safe = xp.where(big, 0, n).astype(x.dtype)

        def run(u, s):
            if left:
                return xp.where(big, 0, xp.left_shift(u, s)).astype(x.dtype)
            return xp.where(big, xp.where(u < 0, -1, 0), xp.right_shift(u, s)).astype(x.dtype)
        return _broadcasting(name, run, x, safe)
    shift.__name__ = name
    shift.__doc__ = _SHIFT_DOC.format(name=name, sym="<<" if left else ">>", way="left" if left else "right",
                                      big="0" if left else "0 (-1 for a negative value)",
                                      example="tensor([ 4, 32])" if left else "tensor([0, 2])")
    return shift


_SHIFT_DOC = """Elementwise ``input {sym} other`` (the bits of ``input`` shifted {way} by ``other``), as ``torch.{name}`` (also the ``{sym}`` operator).

Integer tensors only: floating-point or bool operands raise NotImplementedError. Either operand may
be a Python int (``1 {sym} t`` works); they broadcast and promote as torch. As torch, a shift by the
bit width or more, or by a negative amount, gives {big}, where C and NumPy leave it undefined. No
gradient.

Parameters
----------
input : Tensor or int
    The values to shift (an integer tensor, or a number when ``other`` is the tensor).
other : Tensor or int
    The shift amounts, broadcast against ``input``.

Returns
-------
Tensor
    Of the promoted integer dtype and the broadcast shape.

Examples
--------
>>> cr.tensor([1, 8]).{name}(2)
{example}
"""


bitwise_left_shift = _shift("bitwise_left_shift", True)
bitwise_right_shift = _shift("bitwise_right_shift", False)


def heaviside(input, values):
    """0 where x < 0 (and at nan, as torch), values where x == 0, 1 where x > 0; no gradient."""
    a, v = _arrays(input, values, "heaviside", "values")
    if a.dtype != v.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    xp = namespace(a)
    return _broadcasting("heaviside", lambda u, w: xp.where(u == 0, w, (u > 0).astype(u.dtype)).astype(u.dtype), a, v)


def _integer_pair(name, fn):
    def integer(input, other):
        if not is_tensor(other):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
        a, b = promote(input, other, name)
        t = a if is_tensor(a) else b
        if t._data.dtype.kind not in "iu":
            raise not_implemented(f"{name}_cpu", t)
        return _broadcasting(name, lambda u, v: getattr(namespace(u), fn)(u, v).astype(u.dtype),
                             a._data, b._data if is_tensor(b) else b)
    integer.__name__ = name
    integer.__doc__ = _INTEGER_PAIR_DOC.format(name=name, **_INTEGER_PAIR[name])
    return integer


_INTEGER_PAIR_DOC = """Elementwise {what} of ``input`` and ``other``, as ``torch.{name}`` (also ``Tensor.{name}``).

Integer tensors only (floating-point and bool raise NotImplementedError); they broadcast and
promote as torch. The result is non-negative, and {zero}. No gradient.

Parameters
----------
input : Tensor
    An integer tensor.
other : Tensor
    An integer tensor, broadcast against ``input``.

Returns
-------
Tensor
    Of the promoted integer dtype and the broadcast shape.

Examples
--------
>>> cr.{name}(cr.tensor([12, 18]), cr.tensor([8, 0]))
{example}
"""
_INTEGER_PAIR = {"gcd": {"what": "greatest common divisor", "zero": "``gcd(x, 0)`` is ``abs(x)``",
                         "example": "tensor([ 4, 18])"},
                 "lcm": {"what": "least common multiple", "zero": "0 when either is 0", "example": "tensor([24,  0])"}}


gcd = _integer_pair("gcd", "gcd")
lcm = _integer_pair("lcm", "lcm")


# ---- finfo / iinfo -----------------------------------------------------------------------------------

class finfo:
    """Machine limits of a floating-point dtype (the default one when none is given), as torch.finfo."""

    def __init__(self, type=None):
        d = _dt.get_default_dtype() if type is None else _dt.to_dtype(type)
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        fi = np.finfo(d.np)
        self.dtype, self.bits = d.name, fi.bits
        self.eps, self.max, self.min = float(fi.eps), float(fi.max), float(fi.min)
        self.tiny = self.smallest_normal = float(fi.smallest_normal)
        self.resolution = 10.0 ** -fi.precision

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as torch.iinfo."""

    def __init__(self, type):
        d = _dt.to_dtype(type)
        if d.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        if d.np == np.bool_:
            raise TypeError(f"{d!r} is not supported by torch.iinfo")
        ii = np.iinfo(d.np)
        self.dtype, self.bits, self.min, self.max = d.name, ii.bits, int(ii.min), int(ii.max)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
