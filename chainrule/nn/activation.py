"""The activation modules: each holds its options and calls its ``functional`` form (one
definition of the math). The generated ones first, then those written as classes (ReLU, ...)."""
from ..tensor import full
from .module import Module, Parameter
from . import functional as F


class _Activation(Module):
    """Stores the keyword options named in ``options`` and calls ``fn(input, **options)``."""
    fn = None
    options = ()

    def __init__(self, *args, **kwargs):
        super().__init__()
        names = self.options + ("inplace",)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes at most {len(names)} arguments ({len(args)} given)")
        values = dict(zip(names, args))
        for k in kwargs:
            if k not in names or k in values:
                raise TypeError(f"{type(self).__name__}() got an unexpected or repeated keyword argument '{k}'")
        values.update(kwargs)
        for name, default in zip(self.options, self.defaults):
            object.__setattr__(self, name, values.get(name, default))
        self.inplace = values.get("inplace", False)

    defaults = ()

    def forward(self, input):
        options = {k: getattr(self, k) for k in self.options}
        if self.inplace:
            options["inplace"] = True
        return type(self).fn(input, **options)

    def extra_repr(self):
        shown = [f"{k}={getattr(self, k)}" for k in self.options]
        return ", ".join(shown + (["inplace=True"] if self.inplace and self.shows_inplace else []))

    shows_inplace = True  # torch's repr names inplace=True, except Hardsigmoid's and Hardswish's


def _activation(name, fn, options=(), defaults=()):
    return type(name, (_Activation,), {"fn": staticmethod(fn), "options": options, "defaults": defaults,
                                       "__doc__": f"Module form of ``functional.{fn.__name__}``."})


SiLU = _activation("SiLU", F.silu)
Mish = _activation("Mish", F.mish)
Hardtanh = _activation("Hardtanh", F.hardtanh, ("min_val", "max_val"), (-1.0, 1.0))
ReLU6 = _activation("ReLU6", F.relu6)
Hardsigmoid = _activation("Hardsigmoid", F.hardsigmoid)
Hardswish = _activation("Hardswish", F.hardswish)
Softsign = _activation("Softsign", F.softsign)
LogSigmoid = _activation("LogSigmoid", F.logsigmoid)
SELU = _activation("SELU", F.selu)
CELU = _activation("CELU", F.celu, ("alpha",), (1.0,))
Tanhshrink = _activation("Tanhshrink", F.tanhshrink)
Threshold = _activation("Threshold", F.threshold, ("threshold", "value"), (None, None))
Hardshrink = _activation("Hardshrink", F.hardshrink, ("lambd",), (0.5,))
Softshrink = _activation("Softshrink", F.softshrink, ("lambd",), (0.5,))
Softplus = _activation("Softplus", F.softplus, ("beta", "threshold"), (1.0, 20.0))
Hardsigmoid.shows_inplace = Hardswish.shows_inplace = False
Hardshrink.extra_repr = Softshrink.extra_repr = lambda self: f"{self.lambd}"  # torch prints the bare value
GLU = _activation("GLU", F.glu, ("dim",), (-1,))
Softmin = _activation("Softmin", F.softmin, ("dim",), (None,))


class RReLU(_Activation):
    """Applies the randomized leaky ReLU elementwise, as ``torch.nn.RReLU``.

    `RReLU(x) = x if x >= 0 else a * x`: in training mode a is drawn per element from U(lower, upper);
    in eval mode a = (lower + upper) / 2. The draws come from chainrule's generator, so they differ
    from torch's for the same seed.

    Parameters
    ----------
    lower : float, default 1/8
        Lower bound of the uniform distribution.
    upper : float, default 1/3
        Upper bound of the uniform distribution.
    inplace : bool, default False
        If True, overwrites the input.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.RReLU(0.1, 0.3)
    >>> m(cr.randn(2, 3)).shape
    chainrule.Size([2, 3])
    >>> m.eval()(cr.tensor([-1.0, 2.0]))
    tensor([-0.2000,  2.0000])
    """
    options, defaults = ("lower", "upper"), (1.0 / 8, 1.0 / 3)

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)


class Softmax2d(Module):
    """Applies softmax over the channels at each spatial location, as ``torch.nn.Softmax2d``.

    `out(n, c, h, w) = exp(x(n, c, h, w)) / sum_k exp(x(n, k, h, w))`: softmax along dim -3.

    Shape
    -----
    - Input: `(N, C, H, W)` or `(C, H, W)`.
    - Output: `(N, C, H, W)` or `(C, H, W)`, the same shape as the input, values in [0, 1].

    Examples
    --------
    >>> m = nn.Softmax2d()
    >>> m(cr.randn(2, 3, 12, 13)).shape
    chainrule.Size([2, 3, 12, 13])
    >>> m(cr.zeros(2, 1, 1)).tolist()
    [[[0.5]], [[0.5]]]
    """

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return F.softmax(input, -3)


__all__ = ["ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "GELU", "PReLU", "Softmax", "LogSoftmax", "SiLU", "Mish", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Softsign", "LogSigmoid", "SELU", "CELU",
           "Tanhshrink", "Threshold", "Hardshrink", "Softshrink", "Softplus", "GLU", "Softmin", "RReLU", "Softmax2d"]

# ---- the generated classes' docstrings (numpydoc; tests/test_nn_docstrings.py runs their examples) ----

SiLU.__doc__ = """Applies the sigmoid linear unit (swish) `SiLU(x) = x * sigmoid(x)` elementwise, as ``torch.nn.SiLU``.

Parameters
----------
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.SiLU()
>>> m(cr.tensor([-1.0, 0.0, 2.0]))
tensor([-0.2689,  0.0000,  1.7616])
"""

Mish.__doc__ = """Applies `Mish(x) = x * tanh(softplus(x))` elementwise, as ``torch.nn.Mish``.

Parameters
----------
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Mish()
>>> m(cr.tensor([-1.0, 0.0, 2.0]))
tensor([-0.3034,  0.0000,  1.9440])
"""

Hardtanh.__doc__ = """Clamps its input to [min_val, max_val] elementwise, as ``torch.nn.Hardtanh``.

`Hardtanh(x) = max_val if x > max_val, min_val if x < min_val, else x`; the gradient is 1 inside
the range and 0 outside.

Parameters
----------
min_val : float, default -1.0
    Minimum of the linear region.
max_val : float, default 1.0
    Maximum of the linear region.
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Hardtanh(-2, 2)
>>> m(cr.tensor([-3.0, 0.5, 3.0]))
tensor([-2.0000,  0.5000,  2.0000])
"""

ReLU6.__doc__ = """Applies `ReLU6(x) = min(max(0, x), 6)` elementwise, as ``torch.nn.ReLU6``.

Parameters
----------
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.ReLU6()
>>> m(cr.tensor([-1.0, 3.0, 8.0]))
tensor([0., 3., 6.])
"""

Hardsigmoid.__doc__ = """Applies the piecewise linear sigmoid elementwise, as ``torch.nn.Hardsigmoid``.

`Hardsigmoid(x) = 0 if x <= -3, 1 if x >= 3, else x / 6 + 1 / 2`.

Parameters
----------
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Hardsigmoid()
>>> m(cr.tensor([-4.0, 0.0, 1.5, 4.0]))
tensor([0.0000, 0.5000, 0.7500, 1.0000])
"""

Hardswish.__doc__ = """Applies the hard swish `x * ReLU6(x + 3) / 6` elementwise, as ``torch.nn.Hardswish``.

That is 0 for x <= -3, x for x >= 3, and `x (x + 3) / 6` between (MobileNetV3).

Parameters
----------
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Hardswish()
>>> m(cr.tensor([-4.0, 1.0, 4.0]))
tensor([-0.0000,  0.6667,  4.0000])
"""

Softsign.__doc__ = """Applies `Softsign(x) = x / (1 + abs(x))` elementwise, as ``torch.nn.Softsign``.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Softsign()
>>> m(cr.tensor([-1.0, 0.0, 3.0]))
tensor([-0.5000,  0.0000,  0.7500])
"""

LogSigmoid.__doc__ = """Applies `LogSigmoid(x) = log(1 / (1 + exp(-x)))` elementwise, as ``torch.nn.LogSigmoid``.

Computed stably as `-softplus(-x)`.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.LogSigmoid()
>>> m(cr.tensor([-1.0, 0.0, 2.0]))
tensor([-1.3133, -0.6931, -0.1269])
"""

SELU.__doc__ = """Applies the scaled exponential linear unit elementwise, as ``torch.nn.SELU``.

`SELU(x) = scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))` with alpha = 1.6732632423543772
and scale = 1.0507009873554805 (self-normalising networks; pair it with AlphaDropout).

Parameters
----------
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.SELU()
>>> m(cr.tensor([-1.0, 0.0, 2.0]))
tensor([-1.1113,  0.0000,  2.1014])
"""

CELU.__doc__ = """Applies `max(0, x) + min(0, alpha * (exp(x / alpha) - 1))` elementwise, as ``torch.nn.CELU``.

Parameters
----------
alpha : float, default 1.0
    The alpha value of the CELU formulation.
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.CELU(alpha=2.0)
>>> m(cr.tensor([-2.0, 0.0, 1.0]))
tensor([-1.2642,  0.0000,  1.0000])
"""

Tanhshrink.__doc__ = """Applies `Tanhshrink(x) = x - tanh(x)` elementwise, as ``torch.nn.Tanhshrink``.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Tanhshrink()
>>> m(cr.tensor([-1.0, 0.0, 2.0]))
tensor([-0.2384,  0.0000,  1.0360])
"""

Threshold.__doc__ = """Replaces the elements not above ``threshold`` by ``value``, as ``torch.nn.Threshold``.

`y = x if x > threshold else value`.

Parameters
----------
threshold : float
    The value to threshold at.
value : float
    The value to replace with.
inplace : bool, default False
    If True, overwrites the input.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Threshold(0.1, 20)
>>> m(cr.tensor([0.0, 0.1, 0.5]))
tensor([20.0000, 20.0000,  0.5000])
"""

Hardshrink.__doc__ = """Applies the hard shrinkage `x if abs(x) > lambd else 0` elementwise, as ``torch.nn.Hardshrink``.

Parameters
----------
lambd : float, default 0.5
    The lambda of the formulation.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Hardshrink()
>>> m(cr.tensor([-1.0, 0.25, 0.75]))
tensor([-1.0000,  0.0000,  0.7500])
"""

Softshrink.__doc__ = """Applies the soft shrinkage (soft thresholding) elementwise, as ``torch.nn.Softshrink``.

`Softshrink(x) = x - lambd if x > lambd, x + lambd if x < -lambd, else 0`.

Parameters
----------
lambd : float, default 0.5
    The lambda (at least 0) of the formulation.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Softshrink()
>>> m(cr.tensor([-1.0, 0.25, 0.75]))
tensor([-0.5000,  0.0000,  0.2500])
"""

Softplus.__doc__ = """Applies `Softplus(x) = 1 / beta * log(1 + exp(beta * x))` elementwise, as ``torch.nn.Softplus``.

A smooth ReLU; where `beta * x > threshold` the result is `x` (the linear function it tends to).

Parameters
----------
beta : float, default 1.0
    The beta of the formulation.
threshold : float, default 20.0
    Above `beta * x > threshold` the module is linear.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Softplus()
>>> m(cr.tensor([-1.0, 0.0, 30.0]))
tensor([ 0.3133,  0.6931, 30.0000])
"""

GLU.__doc__ = """Applies the gated linear unit `GLU(a, b) = a * sigmoid(b)`, as ``torch.nn.GLU``.

The input is split in two halves a and b along ``dim``.

Parameters
----------
dim : int, default -1
    The dim to split the input along (its size must be even).

Shape
-----
- Input: `(*_1, N, *_2)` where `*` means any number of additional dims.
- Output: `(*_1, M, *_2)` where M = N / 2.

Examples
--------
>>> m = nn.GLU()
>>> m(cr.randn(4, 2)).shape
chainrule.Size([4, 1])
>>> m(cr.tensor([1.0, 2.0, 0.0, 0.0]))
tensor([0.5000, 1.0000])
"""

Softmin.__doc__ = """Applies `Softmin(x_i) = exp(-x_i) / sum_j exp(-x_j)` along ``dim``, as ``torch.nn.Softmin``.

The slices along ``dim`` lie in [0, 1] and sum to 1; the smallest input gets the largest weight.

Parameters
----------
dim : int, optional
    The dim along which softmin is computed; None picks torch's legacy choice (0 for 0-, 1- and 3-D
    inputs, else 1), without torch's deprecation warning.

Shape
-----
- Input: `(*)`, any number of dims.
- Output: `(*)`, the same shape as the input.

Examples
--------
>>> m = nn.Softmin(dim=1)
>>> m(cr.tensor([[0.0, 2.0], [1.0, 1.0]]))
tensor([[0.8808, 0.1192],
        [0.5000, 0.5000]])
"""


# ---- the activations written as classes ---------------------------------------------------------

class ReLU(Module):
    """Applies the rectified linear unit `ReLU(x) = max(0, x)` elementwise, as ``torch.nn.ReLU``.

    Parameters
    ----------
    inplace : bool, default False
        If True, overwrites the input.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.ReLU()
    >>> m(cr.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    >>> m(cr.randn(2, 3)).shape
    chainrule.Size([2, 3])
    """
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return input.relu_() if self.inplace else input.relu()

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """Applies the logistic sigmoid `1 / (1 + exp(-x))` elementwise, as ``torch.nn.Sigmoid``.

    Its local gradient is `s (1 - s)` with s the output: the gate of the backprop lectures.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.Sigmoid()
    >>> m(cr.tensor([0.0, 2.0]))
    tensor([0.5000, 0.8808])
    """
    def forward(self, input):
        return input.sigmoid()


class Tanh(Module):
    """Applies the hyperbolic tangent elementwise, as ``torch.nn.Tanh``.

    `Tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))`, with local gradient `1 - Tanh(x)^2`.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.Tanh()
    >>> m(cr.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7616])
    """
    def forward(self, input):
        return input.tanh()


class LeakyReLU(Module):
    """Applies `max(0, x) + negative_slope * min(0, x)` elementwise, as ``torch.nn.LeakyReLU``.

    Parameters
    ----------
    negative_slope : float, default 0.01
        The slope for negative inputs.
    inplace : bool, default False
        If True, overwrites the input.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.LeakyReLU(0.1)
    >>> m(cr.tensor([-2.0, 3.0]))
    tensor([-0.2000,  3.0000])
    """
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """Applies `ELU(x) = x if x > 0 else alpha (exp(x) - 1)` elementwise, as ``torch.nn.ELU``.

    Parameters
    ----------
    alpha : float, default 1.0
        The value the output tends to for large negative inputs is -alpha.
    inplace : bool, default False
        If True, overwrites the input.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.ELU()
    >>> m(cr.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Applies the Gaussian error linear unit `x Phi(x)` elementwise, as ``torch.nn.GELU``.

    Phi is the standard normal CDF; with ``approximate='tanh'``,
    `GELU(x) = 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`.

    Parameters
    ----------
    approximate : str, default 'none'
        ``'none'`` for the exact form, ``'tanh'`` for the tanh approximation.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.GELU()
    >>> m(cr.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    """
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class PReLU(Module):
    """Applies `PReLU(x) = max(0, x) + a * min(0, x)` with a learnable slope a, as ``torch.nn.PReLU``.

    ``weight`` holds a: one value shared by every channel, or one per channel (dim 1 of the input, dim
    0 when it is 1-D).

    Parameters
    ----------
    num_parameters : int, default 1
        Number of slopes to learn: 1 or the number of input channels.
    init : float, default 0.25
        The initial value of every slope.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.PReLU()
    >>> m(cr.tensor([-2.0, 3.0])).tolist()
    [-0.5, 3.0]
    >>> nn.PReLU(16)(cr.randn(2, 16, 4, 4)).shape
    chainrule.Size([2, 16, 4, 4])
    """
    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(full((num_parameters,), float(init), device=device, dtype=dtype))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    """Applies `Softmax(x_i) = exp(x_i) / sum_j exp(x_j)` along ``dim``, as ``torch.nn.Softmax``.

    The slices along ``dim`` lie in [0, 1] and sum to 1.

    Parameters
    ----------
    dim : int, optional
        The dim along which softmax is computed; None picks torch's legacy choice (0 for 0-, 1- and 3-D
        inputs, else 1), without torch's deprecation warning.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input.

    Examples
    --------
    >>> m = nn.Softmax(dim=1)
    >>> m(cr.tensor([[1.0, 1.0], [0.0, 2.0]]))
    tensor([[0.5000, 0.5000],
            [0.1192, 0.8808]])
    """
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Applies `log(exp(x_i) / sum_j exp(x_j))` along ``dim``, as ``torch.nn.LogSoftmax``.

    Computed as `x_i - logsumexp(x)`, stable for large inputs; pair it with NLLLoss (or use
    CrossEntropyLoss on the logits).

    Parameters
    ----------
    dim : int, optional
        The dim along which it is computed; None picks torch's legacy choice (0 for 0-, 1- and 3-D
        inputs, else 1), without torch's deprecation warning.

    Shape
    -----
    - Input: `(*)`, any number of dims.
    - Output: `(*)`, the same shape as the input, values in [-inf, 0).

    Examples
    --------
    >>> m = nn.LogSoftmax(dim=1)
    >>> m(cr.tensor([[0.0, 0.0]]))
    tensor([[-0.6931, -0.6931]])
    """
    def forward(self, input):
        return F.log_softmax(input, self.dim)
