"""``chainrule.special``: torch.special's functions (SciPy's names) over chainrule's ops."""
import math

from .ops.args import check_tensor, float_needed
from .ops.elementwise import Digamma, Erf, Erfc, Erfinv, Expm1, Exp2, I0, Lgamma, Log1p, Ndtri, Polygamma, Sigmoid
from .ops.elementwise import Xlog1py, Xlogy, not_implemented
from .ops.reduce import LogSoftmax, LogSumExp, Softmax
from .tensor import special as _s

__all__ = ["erf", "erfc", "erfinv", "expit", "logit", "gammaln", "digamma", "psi", "polygamma", "multigammaln",
           "xlogy", "xlog1py", "log1p", "expm1", "exp2", "logsumexp", "softmax", "log_softmax", "ndtr", "ndtri",
           "i0", "round", "sinc", "entr"]


_UNARY_DOC = """{what}, elementwise, as ``torch.special.{name}``{same}.

{more}Integer and bool inputs give the default float dtype; differentiable.

Parameters
----------
input : Tensor
    The argument, elementwise.

Returns
-------
Tensor

Examples
--------
>>> cr.special.{name}(cr.tensor([0., 0.5]))
{example}
"""
_UNARY = {  # name: (what, more, the same function elsewhere, example output)
    "erf": ("The error function, erf(x) = 2 / sqrt(pi) * integral of exp(-t**2) from 0 to x", "", "cr.erf",
            "tensor([0.0000, 0.5205])"),
    "erfc": ("The complementary error function, erfc(x) = 1 - erf(x)", "Accurate where erf(x) is close to 1. ",
             "cr.erfc", "tensor([1.0000, 0.4795])"),
    "erfinv": ("The inverse error function", "Defined on [-1, 1]: +-1 give +-inf, values outside give nan. ",
               "cr.erfinv", "tensor([0.0000, 0.4769])"),
    "expit": ("The logistic sigmoid, 1 / (1 + exp(-x))", "", "cr.sigmoid", "tensor([0.5000, 0.6225])"),
    "gammaln": ("The log of the absolute value of the gamma function, ln abs(Gamma(x))",
                "inf at 0 and the negative integers. ", "cr.lgamma", "tensor([   inf, 0.5724])"),
    "digamma": ("The digamma function, the derivative of ln Gamma(x) (alias ``psi``)",
                "-inf at 0 and nan at the negative integers, as torch; its gradient is ``polygamma(1, x)``. ",
                "cr.digamma", "tensor([   -inf, -1.9635])"),
    "log1p": ("ln(1 + x)", "Accurate for small x, where ``log(1 + x)`` loses the digits. ", "cr.log1p",
              "tensor([0.0000, 0.4055])"),
    "expm1": ("exp(x) - 1", "Accurate for small x, where ``exp(x) - 1`` loses the digits. ", "cr.expm1",
              "tensor([0.0000, 0.6487])"),
    "exp2": ("2 to the power x", "", "cr.exp2", "tensor([1.0000, 1.4142])"),
    "ndtri": ("The inverse of the standard normal CDF (the quantile function), sqrt(2) * erfinv(2p - 1)",
              "Defined on [0, 1]: 0 and 1 give -inf and inf. ", "", "tensor([-inf, 0.])"),
    "i0": ("The modified Bessel function of the first kind of order 0", "Its gradient is the order-1 function i1. ",
           "", "tensor([1.0000, 1.0635])")}


def _tensor_fn(call, name):
    def fn(input):
        return call(check_tensor(input, f"special_{name}"))
    fn.__name__ = name
    what, more, same, example = _UNARY[name]
    fn.__doc__ = _UNARY_DOC.format(name=name, what=what, more=more, same=f" (``{same}``)" if same else "",
                                   example=example)
    return fn


erf, erfc, erfinv = _tensor_fn(Erf.call, "erf"), _tensor_fn(Erfc.call, "erfc"), _tensor_fn(Erfinv.call, "erfinv")
expit = _tensor_fn(Sigmoid.call, "expit")
gammaln, digamma = _tensor_fn(Lgamma.call, "gammaln"), _tensor_fn(Digamma.call, "digamma")
psi = digamma
log1p, expm1, exp2 = _tensor_fn(Log1p.call, "log1p"), _tensor_fn(Expm1.call, "expm1"), _tensor_fn(Exp2.call, "exp2")
ndtri, i0 = _tensor_fn(Ndtri.call, "ndtri"), _tensor_fn(I0.call, "i0")


def logit(input, eps=None):
    """The log-odds log(p / (1 - p)), as ``torch.special.logit``; with ``eps``, p is first clamped to [eps, 1 -
    eps]."""
    return _s.logit(check_tensor(input, "special_logit"), eps)

xlogy, xlog1py = Xlogy.call, Xlog1py.call
if not xlog1py.__doc__:  # the op's public entry: its docstring is this page's
    xlog1py.__doc__ = """x * ln(1 + y) elementwise, 0 where x == 0 (unless y is nan), as ``torch.special.xlog1py``.

    Either argument may be a Python number (not both); the operands broadcast and promote, and
    integer or bool results become the default float dtype. Differentiable in both: dx = ln(1 + y)
    (0 where x == 0 and y <= -1), dy = x / (1 + y).

    Parameters
    ----------
    input : Tensor or number
        x.
    other : Tensor or number
        y.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> cr.special.xlog1py(cr.tensor([0., 2.]), cr.tensor([-1., 1.]))
    tensor([0.0000, 1.3863])
    """


def polygamma(n, input):
    """The n-th derivative of the digamma function, as ``torch.special.polygamma`` (n = 0 is digamma)."""
    return Polygamma.call(n, check_tensor(input, "special_polygamma", "self"))


def multigammaln(input, p):
    """ln of the multivariate gamma function: p(p-1)/4 ln(pi) + sum_j lgamma(x - j/2)."""
    check_tensor(input, "special_multigammaln")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = float_needed(input, "multigammaln")
    out = Lgamma.call(x)
    for j in range(1, p):
        out = out + Lgamma.call(x - j / 2)
    return out + p * (p - 1) / 4 * math.log(math.pi)


def ndtr(input):
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2, as torch computes it (so 0 below -5.5 in float32)."""
    return (1 + Erf.call(check_tensor(input, "special_ndtr") * math.sqrt(0.5))) * 0.5


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed stably, as ``torch.special.logsumexp``."""
    return LogSumExp.call(input, dim, keepdim)


def softmax(input, dim, *, dtype=None):
    """Softmax exp(x_i) / sum_j exp(x_j) along ``dim``, as ``torch.special.softmax``; ``dtype`` casts the input
    first."""
    return Softmax.call(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably, as ``torch.special.log_softmax``; ``dtype`` casts the input
    first."""
    return LogSoftmax.call(input, dim, dtype=dtype)


def round(input, *, decimals=0):
    """Rounds half to even, to ``decimals`` decimal places, as ``torch.special.round``; integer inputs raise, as
    in torch."""
    if check_tensor(input, "special_round")._data.dtype.kind in "biu":  # torch.round takes them, this one not
        raise not_implemented("round_vml_cpu", input)
    return _s.round(input, decimals=decimals)


def sinc(input):
    """sin(pi x) / (pi x), 1 at 0."""
    x = float_needed(check_tensor(input, "special_sinc"), "sinc")
    px = x * math.pi
    zero = x == 0
    safe = px.masked_fill(zero, 1.0)
    return (safe.sin() / safe).masked_fill(zero, 1.0)


def entr(input):
    """-x ln x for x > 0, 0 at 0, -inf for x < 0."""
    x = float_needed(check_tensor(input, "special_entr"), "entr")
    return (0 - Xlogy.call(x, x)).masked_fill(x < 0, -math.inf)
