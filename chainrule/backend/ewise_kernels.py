"""numba kernels of elementwise rules that NumPy runs slowly, compiled on first use and cached on
disk; imported only by backend/__init__.py after ``compiled.enabled()`` (see backend/compiled.py).

Measured on a (32, 16, 32, 32) float32 array (ResNet-small's first stage): ``np.maximum(x, 0)``
204 us, this ``relu`` 48 us; ReLU's backward ``g * (out != 0)`` plus the finiteness check of
``masked`` ~190 us, ``relu_grad`` 71 us. Both write a new flat array (no aliasing: LLVM vectorises
the select).
"""
import numba


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
