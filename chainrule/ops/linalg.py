"""Matrix products: forward and backward side by side (never broadcast-multiply-sum)."""
from .registry import Op


def _t(xp, a):
    return xp.swapaxes(a, -1, -2)


class Matmul(Op):
    """out = a @ b;  da = g b^T,  db = a^T g  (1-D operands promoted then squeezed; batch dims
    summed by the engine)"""
    save_args = True
    bilinear = True

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
                gb = xp.matmul(_t(xp, a.reshape((-1, a.shape[-1]))), g.reshape((-1, g.shape[-1])))
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
    def forward(ctx, xp, x, w, b=None):
        out = xp.matmul(x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, xp, g, out, x, w, b=None):
        needs = ctx.needs
        gx = xp.matmul(g, w) if needs[0] else None
        g2 = g.reshape((-1, g.shape[-1])) if g.ndim != 2 else g
        gw = xp.matmul(_t(xp, g2), x.reshape((-1, x.shape[-1]))) if needs[1] else None
        gb = xp.sum(g2, axis=0) if len(needs) > 2 and needs[2] else None
        return gx, gw, gb
