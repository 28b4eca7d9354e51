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


def _tensor_fn(call, name):
    def fn(input):
        return call(check_tensor(input, f"special_{name}"))
    fn.__name__ = name
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
