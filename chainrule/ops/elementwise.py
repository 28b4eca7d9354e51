"""Elementwise primitives: forward, backward and public entry side by side.

Notation of the rules: g = dL/d(out); each returned entry is dL/d(input) before unbroadcasting.
"""
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


class Add(Op):
    """out = a + b;  da = g,  db = g"""
    @staticmethod
    def call(input, other, alpha=1):
        return binary(Add, input, other if alpha == 1 else other * alpha, "add")

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
        return binary(Sub, input, other if alpha == 1 else other * alpha, "sub")

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
    """out = a / b;  da = g / b,  db = -g a / b^2"""
    save_args = True
    call = staticmethod(lambda input, other: binary(Div, input, other, "div"))

    @staticmethod
    def forward(ctx, xp, a, b):
        return a / b

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        needs = ctx.needs
        return (g / b if needs[0] else None), (-g * a / (b * b) if needs[1] else None)


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
              lambda ctx, xp, x: xp.maximum(x, 0), lambda ctx, xp, g, out: (xp.masked(g, out != 0),),
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
