"""Matrix products: forward, backward and public entry side by side (never
broadcast-multiply-sum)."""
import math

import numpy as np

from .args import is_tensor, same_device
from .registry import Op, apply


def _t(xp, a):
    return xp.swapaxes(a, -1, -2)


def _rows(a):
    """``a`` as a matrix of its last-dim rows (explicit sizes: -1 cannot be inferred for size 0)."""
    return a.reshape((math.prod(a.shape[:-1]), a.shape[-1]))


class Matmul(Op):
    """out = a @ b;  da = g b^T,  db = a^T g  (1-D operands promoted then squeezed; batch dims
    summed by the engine)"""
    save_args = True
    bilinear = True

    @staticmethod
    def call(input, other):
        a, b = input, other
        if not is_tensor(a) or not is_tensor(b):
            raise TypeError(f"matmul(): argument 'other' must be Tensor, not "
                            f"{type(b if is_tensor(a) else a).__name__}")
        if a._data.ndim == 0 or b._data.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{a._data.ndim}D and {b._data.ndim}D")
        if a._data.dtype is not b._data.dtype and a._data.dtype != b._data.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
        if a._data.dtype == np.bool_:
            raise NotImplementedError("matmul: not implemented for bool tensors")
        ka = a._data.shape[-1]
        kb = b._data.shape[-2] if b._data.ndim > 1 else b._data.shape[0]
        if ka != kb:
            sa = list(a._data.shape) if a._data.ndim > 1 else [1] + list(a._data.shape)
            sb = b._data.shape[-2:] if b._data.ndim > 1 else (kb, 1)
            raise RuntimeError(f"matmul: mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, sa[-2:]))} "
                               f"and {'x'.join(map(str, sb))}); shapes {list(a._data.shape)} and {list(b._data.shape)}")
        same_device(a, b, "matmul")
        try:
            return apply(Matmul, a, b)
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {list(a._data.shape)} and {list(b._data.shape)} "
                               "cannot be broadcast") from None

    @staticmethod
    def forward(ctx, xp, a, b):
        return xp.matmul(a, b)

    @staticmethod
    def backward(ctx, xp, g, out, a, b):
        needs = ctx.needs
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        if a_vec and b_vec:
            return (g * b if needs[0] else None), (g * a if needs[1] else None)
        if a_vec:
            a, g = a.reshape((1, -1)), xp.expand_dims(g, -2)
        if b_vec:
            b, g = b.reshape((-1, 1)), xp.expand_dims(g, -1)
        ga = gb = None
        if needs[0]:
            ga = xp.matmul(g, _t(xp, b))
            if a_vec:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if needs[1]:
            if b.ndim == 2 and a.ndim > 2:  # one GEMM over all batch rows
                gb = xp.matmul(_t(xp, _rows(a)), _rows(g))
            else:
                gb = xp.matmul(_t(xp, a), g)
            if b_vec:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb


class Linear(Op):
    """out = x W^T + b (fused: one GEMM, bias added in place);
    dx = g W,  dW = g^T x,  db = sum of g over rows"""
    save_args = True
    bilinear = True

    @staticmethod
    def call(input, weight, bias=None):
        if input._data.ndim == 0 or input._data.shape[-1] != weight._data.shape[-1]:
            rows = input._data.size // max(input._data.shape[-1], 1) if input._data.ndim else 1
            raise RuntimeError(f"linear: mat1 and mat2 shapes cannot be multiplied ({rows}x"
                               f"{input._data.shape[-1] if input._data.ndim else 0} and "
                               f"{weight._data.shape[1]}x{weight._data.shape[0]}); input {list(input.shape)}, "
                               f"weight {list(weight.shape)}")
        if input._data.dtype != weight._data.dtype:
            raise RuntimeError(f"linear: mat1 and mat2 must have the same dtype, but got {input.dtype} and "
                               f"{weight.dtype}")
        return apply(Linear, input, weight, bias) if bias is not None else apply(Linear, input, weight)

    @staticmethod
    def forward(ctx, xp, x, w, b=None):
        out = xp.matmul(x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, xp, g, out, x, w, b=None):
        needs = ctx.needs
        gx = xp.matmul(g, w) if needs[0] else None
        g2 = _rows(g) if g.ndim != 2 else g
        gw = xp.matmul(_t(xp, g2), x if x.ndim == 2 else _rows(x)) if needs[1] else None
        gb = xp.sum(g2, axis=0) if len(needs) > 2 and needs[2] else None
        return gx, gw, gb
