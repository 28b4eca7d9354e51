"""Elementwise primitives: forward, backward and public entry side by side.

Notation of the rules: g = dL/d(out); each returned entry is dL/d(input) before unbroadcasting.
"""
import math
import operator

import numpy as np

from .. import dtypes as _dt
from ..backend import device_of, to_device
from . import registry
from .args import (NUMBER, broadcast_error, float_needed, is_bool, is_float, is_tensor,
                   operand, promote)
from .registry import Op, apply


# ---- binary arithmetic ----------------------------------------------------------------------

def binary(op, a, b, name):
    """Apply a binary arithmetic op with torch's promotion and broadcasting errors."""
    # fast path: float tensors of one dtype, or a float tensor and a Python number
    tensor = registry.Tensor
    if isinstance(a, tensor):
        da = a._data.dtype
        fast = da.kind == "f" and (type(b) in NUMBER or isinstance(b, tensor) and b._data.dtype is da)
    else:
        fast = type(a) in NUMBER and isinstance(b, tensor) and b._data.dtype.kind == "f"
    if fast:
        try:
            return apply(op, a, b)
        except ValueError:
            raise broadcast_error(a, b, name) from None
    return _binary_promoting(op, a, b, name)


def _binary_promoting(op, a, b, name):
    if op is Pow and is_bool(a) and is_bool(b):
        raise NotImplementedError("pow: \"pow\" not implemented for 'Bool' (both operands are bool)")
    if op is Sub and (is_bool(a) or is_bool(b)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    if is_tensor(a) and is_tensor(b):
        if a._data.dtype is not b._data.dtype:
            a, b = promote(a, b, name)
    else:
        a, b = promote(operand(a, name), operand(b, name), name)
    if op is Div and not is_float(a) and not is_float(b):  # true division: int / int -> float
        f = _dt.get_default_dtype()
        a = a.to(f) if is_tensor(a) else float(a)
        b = b.to(f) if is_tensor(b) else float(b)
    elif op is Pow and isinstance(b, int) and b < 0 and is_tensor(a) and a._data.dtype.kind in "iub":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    try:
        return apply(op, a, b)
    except ValueError:
        raise broadcast_error(a, b, name) from None


def _alpha(op, a, b, alpha, name):
    """a + alpha b (a - alpha b) as torch: alpha b in the result dtype of a and b."""
    if op is Sub and (is_bool(a) or is_bool(b)):
        return _binary_promoting(op, a, b, name)  # raises as torch
    a, b = promote(a, operand(b, name), name)  # a: a Tensor (the entries' check), now of the result dtype
    if a._data.dtype.kind in "biu" and isinstance(alpha, float):
        raise RuntimeError(f"{name}: For integral input tensors, argument alpha must not be a floating point number.")
    b = b * alpha
    return binary(op, a, b.to(a.dtype) if is_tensor(b) and b._data.dtype != a._data.dtype else b, name)


class Add(Op):
    """out = a + b;  da = g,  db = g"""
    @staticmethod
    def call(input, other, alpha=1):
        return binary(Add, input, other, "add") if alpha == 1 else _alpha(Add, input, other, alpha, "add")

    @staticmethod
    def forward(ctx, xp, a, b):
        return a + b

    @staticmethod
    def backward(ctx, xp, g, out):
        return g, g


class Sub(Op):
    """out = a - b;  da = g,  db = -g"""
    @staticmethod
    def call(input, other, alpha=1):
        return binary(Sub, input, other, "sub") if alpha == 1 else _alpha(Sub, input, other, alpha, "sub")

    @staticmethod
    def forward(ctx, xp, a, b):
        return a - b

    @staticmethod
    def backward(ctx, xp, g, out):
        return g, (-g if ctx.needs[1] else None)


class Mul(Op):
    """out = a * b;  da = g * b,  db = g * a   (a mul gate swaps its inputs)"""
    save_args = True
    bilinear = True
    call = staticmethod(lambda input, other: binary(Mul, input, other, "mul"))

    @staticmethod
    def forward(ctx, xp, a, b):
        return a * b

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        needs = ctx.needs
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


class Div(Op):
    """out = a / b;  da = g / b,  db = -g (a / b) / b"""
    save_args = True
    call = staticmethod(lambda input, other: binary(Div, input, other, "div"))

    @staticmethod
    def forward(ctx, xp, a, b):
        return a / b

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        needs = ctx.needs
        return (g / b if needs[0] else None), (-g * (a / b / b) if needs[1] else None)  # no b * b to overflow


def _integer_power(xp, a, b):
    """Integers to negative integer tensor powers, as torch computes them (NumPy refuses): 1 for a
    base of 1, +-1 for -1, 0 for other bases."""
    negative = b < 0
    odd = (b % 2) != 0
    small = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, small, a ** xp.where(negative, 0, b)).astype(xp.result_type(a, b))


class Pow(Op):
    """out = a ** b;  da = g b a^(b-1),  db = g out log(a)  (0 where a == 0 and b >= 0)"""
    save_args = True
    save_out = True
    call = staticmethod(lambda input, exponent: binary(Pow, input, exponent, "pow"))

    @staticmethod
    def forward(ctx, xp, a, b):
        if getattr(b, "dtype", None) is not None and b.dtype.kind == "i" and bool((b < 0).any()):
            return _integer_power(xp, a, b)
        return a ** b

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        needs = ctx.needs
        ga = gb = None
        if needs[0]:
            if isinstance(b, (int, float)):
                ga = g * 0.0 if b == 0 else g * (b * a ** (b - 1))
            else:
                ga = g * xp.where(b == 0, 0.0, b * a ** (b - 1))
        if needs[1]:
            safe = xp.where((a == 0) & (b >= 0), 1.0, a)
            gb = g * out * xp.log(safe)
        return ga, gb


def _pair_call(op, name):
    """maximum/minimum: two tensors, or a tensor and a number (made a tensor of its dtype)."""
    def call(input, other):
        if not is_tensor(input) and not is_tensor(other):
            raise TypeError(f"{name}(): expected at least one Tensor argument")
        if not is_tensor(input):
            input = registry.make(to_device(np.asarray(input, other._data.dtype), device_of(other._data)))
        if not is_tensor(other):
            other = registry.make(to_device(np.asarray(other, input._data.dtype), device_of(input._data)))
        return binary(op, input, other, name)
    return staticmethod(call)


def _route(xp, g, a, b, needs, loses):
    """The max/min gate: an input that lost gets 0, the winner g, a tie half each."""
    share = xp.where(a == b, g * 0.5, g)
    return (xp.where(loses(a, b), 0.0, share) if needs[0] else None,
            xp.where(loses(b, a), 0.0, share) if needs[1] else None)


class Maximum(Op):
    """out = max(a, b);  the larger input gets g, ties split it evenly (a max gate routes)"""
    save_args = True
    pick, loses = "maximum", operator.lt  # the namespace function; when input a lost to b

    @classmethod
    def forward(cls, ctx, xp, a, b):
        return getattr(xp, cls.pick)(a, b)

    @classmethod
    def backward(cls, ctx, xp, g, out, a, b):
        return _route(xp, g, a, b, ctx.needs, cls.loses)


class Minimum(Maximum):
    """out = min(a, b);  the smaller input gets g, ties split it evenly"""
    pick, loses = "minimum", operator.gt


Maximum.call = _pair_call(Maximum, "maximum")
Minimum.call = _pair_call(Minimum, "minimum")


class Where(Op):
    """out = cond ? a : b;  da = g where cond,  db = g elsewhere"""
    save_args = True

    @staticmethod
    def call(condition, input=None, other=None):
        """where(cond, a, b); where(cond) alone gives the indices of its true entries."""
        if input is None and other is None:
            xp = registry.namespace(condition._data)
            return tuple(registry.make(i.astype(np.int64)) for i in xp.nonzero(condition._data))
        cond = condition._data if is_tensor(condition) else np.asarray(condition)
        if cond.dtype != np.bool_:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dt.from_numpy(cond.dtype)}")
        a, b = input, other
        if is_tensor(a) and is_tensor(b):
            if a._data.dtype != b._data.dtype:
                a, b = promote(a, b, "where")
        else:  # a number takes the tensor's dtype, or the promoted one if it is of a higher kind
            ref = a if is_tensor(a) else b
            if not is_tensor(ref):
                ref = a = operand([a], "where").reshape(())
            res = _dt.result_type(a._data if is_tensor(a) else a, b._data if is_tensor(b) else b)
            a, b = (x.to(res) if is_tensor(x) else registry.make(to_device(np.asarray(x, res.np), ref.device))
                    for x in (a, b))
        try:
            return apply(Where, registry.make(cond), a, b)
        except ValueError:
            raise broadcast_error(a, b, "where") from None

    @staticmethod
    def forward(ctx, xp, cond, a, b):
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, xp, g, out, cond, a, b):
        needs = ctx.needs
        return (None,
                xp.masked(g, cond) if needs[1] else None,
                xp.masked(g, ~cond) if needs[2] else None)


# ---- unary math: one row per op ----------------------------------------------------------------

def _unary(name, rule, saves, forward, backward, check=float_needed):
    """An op from one row: its rule text, what backward reads (the input "x", the output "out" or
    nothing), forward ``(ctx, xp, x) -> out``, backward ``(ctx, xp, g, out[, x]) -> (dx,)``, and the
    argument check of its public entry (by default integer and bool inputs promote to the default
    float). The rows hold the op's own functions: no wrapper call on the hot path."""
    public = name.lower()

    def call(input):
        return apply(op, check(input, public))
    op = type(name, (Op,), dict(__doc__=rule, save_args=saves == "x", save_out=saves == "out",
                                forward=staticmethod(forward), backward=staticmethod(backward),
                                call=staticmethod(call)))
    return op


def _no_bool(error, message):
    def check(t, op):
        if t._data.dtype == np.bool_:
            raise error(message)
        return t
    return check


def sign_of(xp, x):
    """torch's sign: -1, 0 or 1, and 0 (NumPy: nan) at nan."""
    s = xp.sign(x)
    return xp.where(s == s, s, 0)


def _sqrt(ctx, xp, x):
    return xp.sqrt(x)


def _norm_sqrt_grad(ctx, xp, g, out):
    zero = out == 0
    return (xp.where(zero, 0.0, g / (2 * xp.where(zero, 1.0, out))),)


# Sigmoid's forward is overflow-free for any |x|. NormSqrt closes std and norm: torch gives a zero
# std or norm the gradient 0, where plain sqrt's would be inf * 0 = nan.
Neg = _unary("Neg", "out = -x;  dx = -g", None,
             lambda ctx, xp, x: -x, lambda ctx, xp, g, out: (-g,),
             _no_bool(RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                      "trying to invert a mask, use the `~` or `logical_not()` operator instead."))
Exp = _unary("Exp", "out = e^x;  dx = g out", "out",
             lambda ctx, xp, x: xp.exp(x), lambda ctx, xp, g, out: (g * out,))
Log = _unary("Log", "out = ln x;  dx = g / x", "x",
             lambda ctx, xp, x: xp.log(x), lambda ctx, xp, g, out, x: (g / x,))
Sqrt = _unary("Sqrt", "out = sqrt(x);  dx = g / (2 out)", "out",
              _sqrt, lambda ctx, xp, g, out: (g / (2 * out),))
NormSqrt = _unary("NormSqrt", "out = sqrt(x) closing std/norm;  dx = g / (2 out), 0 where out == 0", "out",
                  _sqrt, _norm_sqrt_grad)
Sin = _unary("Sin", "out = sin x;  dx = g cos x", "x",
             lambda ctx, xp, x: xp.sin(x), lambda ctx, xp, g, out, x: (g * xp.cos(x),))
Cos = _unary("Cos", "out = cos x;  dx = -g sin x", "x",
             lambda ctx, xp, x: xp.cos(x), lambda ctx, xp, g, out, x: (-g * xp.sin(x),))
Tanh = _unary("Tanh", "out = tanh x;  dx = g (1 - out^2)", "out",
              lambda ctx, xp, x: xp.tanh(x), lambda ctx, xp, g, out: (g * (1 - out * out),))
Sigmoid = _unary("Sigmoid", "out = 1 / (1 + e^-x);  dx = g out (1 - out)", "out",
                 lambda ctx, xp, x: xp.sigmoid(x), lambda ctx, xp, g, out: (g * out * (1 - out),))
Relu = _unary("Relu", "out = max(x, 0);  dx = g where out != 0  (so g passes at nan, as torch)", "out",
              lambda ctx, xp, x: xp.relu(x), lambda ctx, xp, g, out: (xp.relu_grad(g, out),),
              _no_bool(RuntimeError, "relu: \"clamp_min_scalar_cpu\" not implemented for 'Bool'"))
Abs = _unary("Abs", "out = |x|;  dx = g sign(x)  (0 at nan, as torch)", "x",
             lambda ctx, xp, x: xp.abs(x), lambda ctx, xp, g, out, x: (g * sign_of(xp, x),),
             _no_bool(NotImplementedError, "abs: \"abs_cpu\" not implemented for 'Bool'"))


class Clamp(Op):
    """out = clip(x, lo, hi);  dx = g where lo <= x <= hi,  dlo = g where x < lo < hi,  dhi = g where x > hi or hi < lo
    (the bounds: None, numbers or tensors, which get gradients; a nan anywhere gives nan, as torch)"""
    save_args = True

    @staticmethod
    def call(input, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
        t, lo, hi = input, min, max
        if is_tensor(lo) or is_tensor(hi):  # tensor bounds: promoted with the input, differentiable
            t, lo = promote(t, lo, "clamp") if lo is not None else (t, lo)
            t, hi = promote(t, hi, "clamp") if hi is not None else (t, hi)
            lo = lo.to(t.dtype) if is_tensor(lo) and lo._data.dtype != t._data.dtype else lo
        elif t._data.dtype.kind != "f" and any(isinstance(v, float) for v in (lo, hi)):
            t = t.to(_dt.get_default_dtype())
        try:
            return apply(Clamp, t, lo, hi)
        except ValueError:
            raise broadcast_error(t, lo if is_tensor(lo) else hi, "clamp") from None

    @staticmethod
    def forward(ctx, xp, x, lo, hi):
        return xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, xp, g, out, x, lo, hi):
        _, need_lo, need_hi = ctx.needs
        inside = x <= hi if lo is None else (x >= lo if hi is None else (x >= lo) & (x <= hi))
        return (xp.masked(g, inside) if ctx.needs[0] else None,
                xp.masked(g, x < lo if hi is None else (x < lo) & (lo < hi)) if need_lo else None,
                xp.masked(g, x > hi if lo is None else (x > hi) | (hi < lo)) if need_hi else None)


# ---- copies, casts and moves ---------------------------------------------------------------------

class Clone(Op):
    """out = a copy of x;  dx = g"""
    call = staticmethod(lambda input: apply(Clone, input))

    @staticmethod
    def forward(ctx, xp, x):
        return x.copy()

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g,)


class Cast(Op):
    """out = x as another dtype;  dx = g cast back (by the engine)"""
    @staticmethod
    def forward(ctx, xp, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g,)


class ToDevice(Op):
    """out = x on another device;  dx = g moved back"""
    @staticmethod
    def forward(ctx, xp, x, device):
        ctx.saved = device_of(x)
        return to_device(x, device)

    @staticmethod
    def backward(ctx, xp, g, out):
        if is_tensor(g):
            return (g.to(ctx.saved),)
        return (to_device(g, ctx.saved),)


# ---- elementwise math and predicates (issue 13): more unary rows, rounding, binary math ----------

_LN2, _LN10, _2_SQRTPI = math.log(2.0), math.log(10.0), 2.0 / math.sqrt(math.pi)
C_NAMES = dict(bool="Bool", uint8="Byte", int8="Char", int16="Short", int32="Int", int64="Long", float16="Half",
               float32="Float", float64="Double")  # torch's names of dtypes in "not implemented" errors


def not_implemented(op, t):
    return NotImplementedError(f"\"{op}\" not implemented for '{C_NAMES[_dt.from_numpy(t._data.dtype).name]}'")


def _special_out(fn):
    """A SciPy special function computed in x's dtype (SciPy may return float64 for float16)."""
    return lambda ctx, xp, x: getattr(xp, fn)(x).astype(x.dtype, copy=False)


Log1p = _unary("Log1p", "out = ln(1 + x);  dx = g / (1 + x)", "x",
               lambda ctx, xp, x: xp.log1p(x), lambda ctx, xp, g, out, x: (g / (x + 1),))
Expm1 = _unary("Expm1", "out = e^x - 1;  dx = g (out + 1)", "out",
               lambda ctx, xp, x: xp.expm1(x), lambda ctx, xp, g, out: (g * (out + 1),))
Log2 = _unary("Log2", "out = log2 x;  dx = g / (x ln 2)", "x",
              lambda ctx, xp, x: xp.log2(x), lambda ctx, xp, g, out, x: (g / (x * _LN2),))
Log10 = _unary("Log10", "out = log10 x;  dx = g / (x ln 10)", "x",
               lambda ctx, xp, x: xp.log10(x), lambda ctx, xp, g, out, x: (g / (x * _LN10),))
Exp2 = _unary("Exp2", "out = 2^x;  dx = g out ln 2", "out",
              lambda ctx, xp, x: xp.exp2(x), lambda ctx, xp, g, out: (g * out * _LN2,))
Erf = _unary("Erf", "out = erf x;  dx = g 2/sqrt(pi) e^(-x^2)", "x",
             _special_out("erf"), lambda ctx, xp, g, out, x: (g * (_2_SQRTPI * xp.exp(-(x * x))),))
Erfc = _unary("Erfc", "out = 1 - erf x;  dx = -g 2/sqrt(pi) e^(-x^2)", "x",
              _special_out("erfc"), lambda ctx, xp, g, out, x: (g * (-_2_SQRTPI * xp.exp(-(x * x))),))
Erfinv = _unary("Erfinv", "out = erf^-1(x);  dx = g sqrt(pi)/2 e^(out^2)", "out",
                _special_out("erfinv"), lambda ctx, xp, g, out: (g * (0.5 * math.sqrt(math.pi) * xp.exp(out * out)),))
Lgamma = _unary("Lgamma", "out = ln|Gamma(x)|;  dx = g digamma(x)", "x",
                lambda ctx, xp, x: xp.lgamma(x), lambda ctx, xp, g, out, x: (g * xp.polygamma(0, x),))
Digamma = _unary("Digamma", "out = digamma(x) = Gamma'(x)/Gamma(x);  dx = g polygamma(1, x)", "x",
                 lambda ctx, xp, x: xp.polygamma(0, x), lambda ctx, xp, g, out, x: (g * xp.trigamma(x),))
Sinh = _unary("Sinh", "out = sinh x;  dx = g cosh x", "x",
              lambda ctx, xp, x: xp.sinh(x), lambda ctx, xp, g, out, x: (g * xp.cosh(x),))
Cosh = _unary("Cosh", "out = cosh x;  dx = g sinh x", "x",
              lambda ctx, xp, x: xp.cosh(x), lambda ctx, xp, g, out, x: (g * xp.sinh(x),))
Tan = _unary("Tan", "out = tan x;  dx = g (1 + out^2)", "out",
             lambda ctx, xp, x: xp.tan(x), lambda ctx, xp, g, out: (g * (1 + out * out),))
Asin = _unary("Asin", "out = asin x;  dx = g / sqrt(1 - x^2)", "x",
              lambda ctx, xp, x: xp.arcsin(x), lambda ctx, xp, g, out, x: (g / xp.sqrt(1 - x * x),))
Acos = _unary("Acos", "out = acos x;  dx = -g / sqrt(1 - x^2)", "x",
              lambda ctx, xp, x: xp.arccos(x), lambda ctx, xp, g, out, x: (-g / xp.sqrt(1 - x * x),))
Atan = _unary("Atan", "out = atan x;  dx = g / (1 + x^2)", "x",
              lambda ctx, xp, x: xp.arctan(x), lambda ctx, xp, g, out, x: (g / (x * x + 1),))
Asinh = _unary("Asinh", "out = asinh x;  dx = g / sqrt(x^2 + 1)", "x",
               lambda ctx, xp, x: xp.arcsinh(x), lambda ctx, xp, g, out, x: (g / xp.sqrt(x * x + 1),))
Acosh = _unary("Acosh", "out = acosh x;  dx = g / sqrt(x^2 - 1)", "x",
               lambda ctx, xp, x: xp.arccosh(x), lambda ctx, xp, g, out, x: (g / xp.sqrt(x * x - 1),))
Atanh = _unary("Atanh", "out = atanh x;  dx = g / (1 - x^2)", "x",
               lambda ctx, xp, x: xp.arctanh(x), lambda ctx, xp, g, out, x: (g / (1 - x * x),))
Ndtri = _unary("Ndtri", "out = Phi^-1(x), the standard normal quantile;  dx = g sqrt(2 pi) e^(out^2 / 2)", "out",
                _special_out("ndtri"), lambda ctx, xp, g, out: (g * math.sqrt(2 * math.pi) * xp.exp(0.5 * out * out),))
def _bessel(xp, fn, x):
    """I0 or I1 in x's dtype, inf where e^|x| overflows (torch computes e^|x| times a series)."""
    out = getattr(xp, fn)(x).astype(x.dtype, copy=False)
    with np.errstate(over="ignore"):
        return xp.where(xp.isinf(xp.exp(xp.abs(x))), xp.sign(out) * x.dtype.type(math.inf), out)


I0 = _unary("I0", "out = I0(x), the modified Bessel function of order 0;  dx = g I1(x)", "x",
            lambda ctx, xp, x: _bessel(xp, "i0", x), lambda ctx, xp, g, out, x: (g * _bessel(xp, "i1", x),))
I0.once_differentiable = True  # its rule calls I1, which the Tensor namespace (create_graph's xp) lacks


class Polygamma(Op):
    """out = polygamma(n, x), the n-th derivative of digamma;  dx = g polygamma(n + 1, x)"""
    save_args = True

    @staticmethod
    def call(n, input):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
        if n < 0:
            raise RuntimeError("polygamma(n, x) does not support negative n.")
        return apply(Polygamma, float_needed(input, "polygamma"), n=int(n))

    @staticmethod
    def forward(ctx, xp, x, n):
        ctx.saved = n
        return xp.polygamma(n, x)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (g * xp.polygamma(ctx.saved + 1, x),)


class Rounding(Op):
    """out = floor x, ceil x, trunc x or round(x, decimals) (half to even);  dx = 0"""
    @staticmethod
    def call(input, kind="round", decimals=0):
        kind_of = input._data.dtype.kind
        if kind_of == "b" or (kind_of in "iu" and decimals):
            raise not_implemented(f"{kind}_cpu" if decimals else f"{kind}_vml_cpu", input)
        if kind_of in "iu":  # integers are already whole: a copy, as torch
            return registry.make(input._data.copy())
        return apply(Rounding, input, kind=kind, decimals=int(decimals))

    @staticmethod
    def forward(ctx, xp, x, kind, decimals):
        if kind != "round":
            return getattr(xp, kind)(x)
        if not decimals:
            return xp.rint(x)
        p = x.dtype.type(10.0 ** abs(decimals))
        return xp.rint(x * p) / p if decimals > 0 else xp.rint(x / p) * p

    @staticmethod
    def backward(ctx, xp, g, out):
        return (zero_grad(xp, g),)


def zero_grad(xp, g):
    """A zero gradient of g's shape and dtype (on arrays and, under create_graph, on Tensors)."""
    return xp.masked(g, (g != g) & False)


def _number(v):
    return isinstance(v, (int, float, np.generic)) and not is_tensor(v)


def math_pair(op, name, scalars="", ints="float"):
    """The public entry of a binary math op: ``scalars`` names the arguments that may be numbers
    ("input", "other"), the rest must be tensors; operands promote as torch, then an integer or bool
    result dtype becomes the default float (ints="float"), stays (ints="keep"; bool raises) or raises
    (ints="raise"), as torch's kernels do."""
    def call(input, other):
        for position, (arg, value) in enumerate((("input", input), ("other", other))):
            if not is_tensor(value) and not (arg in scalars and _number(value)):
                raise TypeError(f"{name}(): argument '{arg}' (position {position + 1}) must be Tensor, "
                                f"not {type(value).__name__}")
        if not is_tensor(input) and not is_tensor(other):
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(other).__name__}): one of them must be a Tensor")
        a, b = promote(operand(input, name), operand(other, name), name)
        t = a if is_tensor(a) else b
        # a number becomes a 0-d tensor of the result dtype (NumPy would compute log(2.0) in float64)
        a, b = (x if is_tensor(x) else registry.make(to_device(np.asarray(x, t._data.dtype), device_of(t._data)))
                for x in (a, b))
        if t._data.dtype.kind != "f":
            if ints == "raise" or (ints == "keep" and t._data.dtype == np.bool_):
                raise not_implemented(f"{name}_cpu", t)
            if ints == "float":
                f = _dt.get_default_dtype()
                a, b = a.to(f), b.to(f)
            elif not bool(b._data.all()):
                raise RuntimeError("ZeroDivisionError")
        try:
            return apply(op, a, b)
        except ValueError:
            raise broadcast_error(a, b, name) from None
    return staticmethod(call)


class Atan2(Op):
    """out = atan2(a, b);  da = g b / (a^2 + b^2),  db = -g a / (a^2 + b^2)  (0 where a^2 + b^2 == 0, as torch)"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, a, b):
        return xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        d = a * a + b * b
        r = xp.where(d == 0, 0.0, 1 / xp.where(d == 0, 1.0, d))  # torch: 0 at a == b == 0
        return (g * b * r if ctx.needs[0] else None), (g * -a * r if ctx.needs[1] else None)


class Hypot(Op):
    """out = sqrt(a^2 + b^2) (no overflow);  da = g a / out,  db = g b / out"""
    save_args = save_out = True

    @staticmethod
    def forward(ctx, xp, a, b):
        return xp.hypot(a, b)

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        return (g * a / out if ctx.needs[0] else None), (g * b / out if ctx.needs[1] else None)


class LogAddExp(Op):
    """out = ln(e^a + e^b);  da = g / (1 + e^(b - a)),  db = g / (1 + e^(a - b))"""
    save_args = True
    power, scale = "exp", 1.0  # LogAddExp2: 2^t = e^(t ln 2)

    @classmethod
    def forward(cls, ctx, xp, a, b):
        m = xp.maximum(a, b)  # torch's formula (NumPy's logaddexp2(a, a) is a + 1, torch's rounds)
        with np.errstate(invalid="ignore"):
            t = xp.log1p(getattr(xp, cls.power)(-xp.abs(a - b)))
            out = m + (t if cls.scale == 1.0 else t * m.dtype.type(1 / cls.scale))
        return xp.where(xp.isinf(a) & (a == b), a, out)

    @classmethod
    def backward(cls, ctx, xp, g, out, a, b):
        needs, s = ctx.needs, cls.scale
        return (g / (1 + xp.exp((b - a) * s)) if needs[0] else None,
                g / (1 + xp.exp((a - b) * s)) if needs[1] else None)


class LogAddExp2(LogAddExp):
    """out = log2(2^a + 2^b);  da = g / (1 + 2^(b - a)),  db = g / (1 + 2^(a - b))"""
    power, scale = "exp2", _LN2


class Xlogy(Op):
    """out = x ln y (0 where x == 0, unless y is nan);  dx = g ln y (0 where x == 0 and y <= 0),  dy = g x / y"""
    save_args = True
    log, shift = "log", 0  # Xlog1py: ln(1 + y)

    @classmethod
    def forward(cls, ctx, xp, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * getattr(xp, cls.log)(y)
        return xp.where((x == 0) & (y == y), 0, out).astype(out.dtype, copy=False)

    @classmethod
    def backward(cls, ctx, xp, g, out, x, y):
        needs = ctx.needs
        dx = dy = None
        if needs[0]:
            dx = xp.where(((g == 0) & (y == y)) | ((x == 0) & (y <= -cls.shift)), 0.0, g * getattr(xp, cls.log)(y))
        if needs[1]:
            dy = g * x / (y + cls.shift if cls.shift else y)
        return dx, dy


class Xlog1py(Xlogy):
    """out = x ln(1 + y) (0 where x == 0, unless y is nan);  dx = g ln(1 + y) (0 where x == 0 and y <= -1),
    dy = g x / (1 + y)"""
    log, shift = "log1p", 1


class Fmod(Op):
    """out = a - trunc(a / b) b (the sign of a);  da = g,  db = -g trunc(a / b)"""
    save_args = True

    @classmethod
    def forward(cls, ctx, xp, a, b):
        mod = xp.fmod(a, b)
        if cls is Fmod:
            return mod  # Remainder: moved into b's sign, as torch's kernel (keeps -0.0)
        return xp.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod).astype(mod.dtype, copy=False)

    @classmethod
    def backward(cls, ctx, xp, g, out, a, b):
        q = xp.trunc(a / b) if cls is Fmod else xp.floor_divide(a, b)
        return g, (-g * q if ctx.needs[1] else None)


class Remainder(Fmod):
    """out = a - floor(a / b) b (the sign of b);  da = g,  db = -g floor(a / b)"""


class Copysign(Op):
    """out = |a| with the sign of b;  da = g out / a (0 where a == 0),  db = 0"""
    save_args = save_out = True

    @staticmethod
    def forward(ctx, xp, a, b):
        return xp.copysign(a, b)

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        return (xp.where(a == 0, 0.0, g * (out / a)) if ctx.needs[0] else None,
                zero_grad(xp, g) if ctx.needs[1] else None)


Atan2.call = math_pair(Atan2, "atan2")
Hypot.call = math_pair(Hypot, "hypot", ints="raise")
LogAddExp.call = math_pair(LogAddExp, "logaddexp", ints="raise")
LogAddExp2.call = math_pair(LogAddExp2, "logaddexp2", ints="raise")
Xlogy.call = math_pair(Xlogy, "xlogy", scalars="input other")
Xlog1py.call = math_pair(Xlog1py, "xlog1py", scalars="input other")
Fmod.call = math_pair(Fmod, "fmod", scalars="other", ints="keep")
Remainder.call = math_pair(Remainder, "remainder", scalars="input other", ints="keep")
Copysign.call = math_pair(Copysign, "copysign", scalars="other")


class Lerp(Op):
    """out = a + w (b - a);  da = g (1 - w),  db = g w,  dw = g (b - a)"""
    save_args = True

    @staticmethod
    def call(input, end, weight):
        for arg, value in (("end", end), ("weight", weight)):
            if is_tensor(value) and value._data.dtype != input._data.dtype and (arg == "end" or value._data.ndim):
                raise RuntimeError(f"expected dtype {input.dtype.name.replace('float32', 'float')} for `{arg}` but "
                                   f"got dtype {value.dtype.name.replace('int64', 'long int')}")
        if input._data.dtype.kind != "f":
            raise not_implemented("lerp_kernel_tensor" if is_tensor(weight) else "lerp_kernel_scalar", input)
        if is_tensor(weight) and weight._data.dtype != input._data.dtype:
            weight = weight.to(input.dtype)
        try:
            return apply(Lerp, input, end, weight)
        except ValueError:
            raise broadcast_error(input, end, "lerp") from None

    @staticmethod
    def forward(ctx, xp, a, b, w):
        d = b - a  # torch's two-sided formula: exact at both ends
        return xp.where(xp.abs(w) < 0.5, a + w * d, b - d * (1 - w)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, xp, g, out, a, b, w):
        needs = ctx.needs
        return (g * (1 - w) if needs[0] else None, g * w if needs[1] else None,
                g * (b - a) if needs[2] else None)
