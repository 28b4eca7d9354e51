"""numba kernels for cr.compile's fusion passes (``jit/passes.py``), imported only after
``backend.compiled.enabled()`` said yes.

Each kernel does, element by element and in the same order of operations, what the NumPy rules
it replaces do, with every scalar already cast to the arrays' dtype (NumPy casts a Python float
to float32 before it multiplies a float32 array): +, -, *, / and sqrt are correctly rounded in
both, so these results are bitwise those of eager. numba does not contract a*b + c into an FMA
unless fastmath is on, and it is off here.
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def bias_relu(out, b):
    """out = max(out + b, 0) in place, for out (M, N) and b (N,): Linear's bias then ReLU
    (NumPy's maximum keeps nan and -0.0, and so does this)."""
    m, n = out.shape
    for i in range(m):
        for j in range(n):
            v = out[i, j] + b[j]
            out[i, j] = 0 if v < 0 else v


@numba.njit(cache=True, nogil=True)
def relu_(x):
    """x = max(x, 0) in place, flat x (ReLU on a result nothing else reads)."""
    for i in range(x.size):
        v = x[i]
        x[i] = 0 if v < 0 else v


@numba.njit(cache=True, nogil=True)
def relu_mask(g, out, dst):
    """dst = g where out != 0, else 0 (ReLU's backward, as backend ``masked``); (M, N) arrays of
    any order (a forward from ``bias_relu`` may be F-ordered)."""
    m, n = g.shape
    for i in range(m):
        for j in range(n):
            dst[i, j] = g[i, j] if out[i, j] != 0 else 0


@numba.njit(cache=True, nogil=True)
def relu_mask_(g, out):
    """relu_mask into g itself. Its own kernel: with dst aliasing g, LLVM cannot vectorise the
    select and the loop branches on every element (512x256: 1.8 ms instead of 15 us)."""
    m, n = g.shape
    for i in range(m):
        for j in range(n):
            g[i, j] = g[i, j] if out[i, j] != 0 else 0


@numba.njit(cache=True, nogil=True)
def sgd_momentum(ps, gs, bs, lr, momentum):
    """Over every parameter: b = momentum b + g;  p -= lr b  (optim.sgd, dampening 0). One call of
    the one-array kernel per parameter: with the arrays taken from the tuples inside the loop LLVM did
    not vectorise it (MLP 784-256-256-10: 259 us instead of 43)."""
    for k in range(len(ps)):
        _sgd_momentum(ps[k], gs[k], bs[k], lr, momentum)


@numba.njit(cache=True, nogil=True)
def _sgd_momentum(p, g, b, lr, momentum):
    for i in range(p.size):
        v = b[i] * momentum
        v = v + g[i]
        b[i] = v
        p[i] = p[i] - v * lr


@numba.njit(cache=True, nogil=True)
def adam(ps, gs, ms, vs, w1, beta2, w2, step_sizes, bc2s, eps):
    """Over every parameter (optim.adam, weight 1 - beta1 < 0.5):  m += w1 (g - m);
    v = beta2 v + w2 g^2;  p -= step_size m / (sqrt(v) / bc2 + eps). One call per parameter, as
    sgd_momentum."""
    for k in range(len(ps)):
        _adam(ps[k], gs[k], ms[k], vs[k], w1, beta2, w2, step_sizes[k], bc2s[k], eps)


@numba.njit(cache=True, nogil=True)
def _adam(p, g, m, v, w1, beta2, w2, ss, bc, eps):
    for i in range(p.size):
        gi = g[i]
        mi = m[i] + w1 * (gi - m[i])
        m[i] = mi
        vi = v[i] * beta2
        vi = vi + w2 * (gi * gi)
        v[i] = vi
        d = np.sqrt(vi) / bc
        d = d + eps
        p[i] = p[i] - ss * mi / d
