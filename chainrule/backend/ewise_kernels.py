"""numba kernels of elementwise and row-wise rules that NumPy runs slowly, compiled on first use and cached on
disk; imported only by backend/__init__.py after ``compiled.enabled()`` (see backend/compiled.py).

Measured on a (32, 16, 32, 32) float32 array (ResNet-small's first stage): ``np.maximum(x, 0)``
204 us, this ``relu`` 48 us; ReLU's backward ``g * (out != 0)`` plus the finiteness check of
``masked`` ~190 us, ``relu_grad`` 71 us. Both write a new flat array (no aliasing: LLVM vectorises
the select). Softmax-cross-entropy on (64, 10) logits: NumPy's rule 24 us forward, this one 3 us.
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def relu(x, out):
    """out = max(x, 0) over flat arrays: nan stays nan and -0.0 stays -0.0, as in torch (np.maximum(x, 0),
    the NumPy path, gives +0.0 there)."""
    for i in range(x.size):
        v = x[i]
        out[i] = 0 if v < 0 else v


@numba.njit(cache=True, nogil=True)
def relu_grad(g, out, dx):
    """dx = g where out != 0, else 0 (torch's select: a nan or inf of g where out == 0 gives 0)."""
    for i in range(g.size):
        dx[i] = g[i] if out[i] != 0 else 0


@numba.njit(cache=True, nogil=True)
def softmax_xent(x, coef, loss, p):
    """SoftmaxCrossEntropy's forward on (M, C) logits, one pass over each row (NumPy's rule makes six):
    loss_i = -sum_c coef_ic (x_ic - max_i - log sum_c e^(x_ic - max_i)), p = softmax(x). False
    (and the caller runs the NumPy rule) where a log-probability is not finite: that rule then
    keeps only the terms torch has. Sums in float64, in order (NumPy: float32, pairwise): the
    loss and gradients agree with NumPy's to about an ulp, not bitwise."""
    m, c = x.shape
    if c == 0:
        return False
    for i in range(m):
        mx = x[i, 0]
        for j in range(1, c):
            if x[i, j] > mx:
                mx = x[i, j]
        s = 0.0  # float64 sums
        for j in range(c):
            e = np.exp(x[i, j] - mx)
            p[i, j] = e
            s += e
        ls = np.log(s)
        acc = 0.0
        for j in range(c):
            lp = (x[i, j] - mx) - ls
            if not np.isfinite(lp):
                return False
            acc += coef[i, j] * lp
            p[i, j] = p[i, j] / s
        loss[i] = -acc
    return True


@numba.njit(cache=True, nogil=True)
def softmax_xent_grad(g, p, coef, dx):
    """dx_i = g_i (p_i sum_c coef_ic - coef_i)."""
    m, c = p.shape
    for i in range(m):
        cs = 0.0
        for j in range(c):
            cs += coef[i, j]
        for j in range(c):
            dx[i, j] = g[i] * (p[i, j] * cs - coef[i, j])
