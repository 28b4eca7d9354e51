"""Elementwise primitives: forward and backward side by side.

Notation of the rules: g = dL/d(out); each returned entry is dL/d(input) before unbroadcasting.
"""
from .registry import Op


# ---- binary arithmetic ----------------------------------------------------------------------

class Add(Op):
    """out = a + b;  da = g,  db = g"""
    @staticmethod
    def forward(ctx, xp, a, b):
        return a + b

    @staticmethod
    def backward(ctx, xp, g, out):
        return g, g


class Sub(Op):
    """out = a - b;  da = g,  db = -g"""
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

    @staticmethod
    def forward(ctx, xp, a, b):
        return a / b

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        needs = ctx.needs
        return (g / b if needs[0] else None), (-g * a / (b * b) if needs[1] else None)


class Pow(Op):
    """out = a ** b;  da = g b a^(b-1),  db = g out log(a)  (0 where a == 0 and b >= 0)"""
    save_args = True
    save_out = True

    @staticmethod
    def forward(ctx, xp, a, b):
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


class Maximum(Op):
    """out = max(a, b);  the larger input gets g, ties split it evenly (a max gate routes)"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, a, b):
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        share = xp.where(a == b, g * 0.5, g)
        return (xp.where(a < b, 0.0, share) if ctx.needs[0] else None,
                xp.where(b < a, 0.0, share) if ctx.needs[1] else None)


class Minimum(Op):
    """out = min(a, b);  the smaller input gets g, ties split it evenly"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, a, b):
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        share = xp.where(a == b, g * 0.5, g)
        return (xp.where(a > b, 0.0, share) if ctx.needs[0] else None,
                xp.where(b > a, 0.0, share) if ctx.needs[1] else None)


class Where(Op):
    """out = cond ? a : b;  da = g where cond,  db = g elsewhere"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, cond, a, b):
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, xp, g, out, cond, a, b):
        needs = ctx.needs
        return (None,
                xp.masked(g, cond) if needs[1] else None,
                xp.masked(g, ~cond) if needs[2] else None)


# ---- unary math -----------------------------------------------------------------------------

class Neg(Op):
    """out = -x;  dx = -g"""
    @staticmethod
    def forward(ctx, xp, x):
        return -x

    @staticmethod
    def backward(ctx, xp, g, out):
        return (-g,)


class Exp(Op):
    """out = e^x;  dx = g out"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.exp(x)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g * out,)


class Log(Op):
    """out = ln x;  dx = g / x"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.log(x)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (g / x,)


class Sqrt(Op):
    """out = sqrt(x);  dx = g / (2 out)"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.sqrt(x)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g / (2 * out),)


class NormSqrt(Op):
    """out = sqrt(x) closing std/norm;  dx = g / (2 out), and 0 where out == 0 (torch's choice for a
    zero std or norm, where plain sqrt would give inf * 0 = nan)"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.sqrt(x)

    @staticmethod
    def backward(ctx, xp, g, out):
        zero = out == 0
        return (xp.where(zero, 0.0, g / (2 * xp.where(zero, 1.0, out))),)


class Sin(Op):
    """out = sin x;  dx = g cos x"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.sin(x)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (g * xp.cos(x),)


class Cos(Op):
    """out = cos x;  dx = -g sin x"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.cos(x)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (-g * xp.sin(x),)


class Tanh(Op):
    """out = tanh x;  dx = g (1 - out^2)"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.tanh(x)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g * (1 - out * out),)


class Sigmoid(Op):
    """out = 1 / (1 + e^-x);  dx = g out (1 - out)"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.sigmoid(x)  # overflow-free for any |x|

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g * out * (1 - out),)


class Relu(Op):
    """out = max(x, 0);  dx = g where out > 0"""
    save_out = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.maximum(x, 0)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (xp.masked(g, out > 0),)


class Abs(Op):
    """out = |x|;  dx = g sign(x)"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, x):
        return xp.abs(x)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        return (g * xp.sign(x),)


class Clamp(Op):
    """out = min(max(x, lo), hi);  dx = g where lo <= x <= hi"""
    save_args = True

    @staticmethod
    def forward(ctx, xp, x, lo=None, hi=None):
        ctx.saved = (lo, hi)
        return xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, xp, g, out, x):
        lo, hi = ctx.saved
        if lo is None:
            inside = x <= hi
        elif hi is None:
            inside = x >= lo
        else:
            inside = (x >= lo) & (x <= hi)
        return (xp.masked(g, inside),)


class Cast(Op):
    """out = x as another dtype;  dx = g cast back (by the engine)"""
    @staticmethod
    def forward(ctx, xp, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g,)


class Clone(Op):
    """out = a copy of x;  dx = g"""
    @staticmethod
    def forward(ctx, xp, x):
        return x.copy()

    @staticmethod
    def backward(ctx, xp, g, out):
        return (g,)
