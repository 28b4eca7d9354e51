"""The Tensor type and its public API.

``core.py`` is the type itself. Its methods live in the modules beside it, one per kind as in
``chainrule.ops`` (elementwise, reduce, movement, linalg, inplace, conversion), and reach the
class through the variants table below: one row per op says what it yields, PyTorch's
``variants: function, method`` idea.

Variants of a row ``(name, implementation, variants)``:
  method      Tensor.name                          function    chainrule.name (input checked)
  inplace     Tensor.name_ (result stored in self) free        chainrule.name (taken as is)
  __x__       that dunder calls the implementation
  __rx__      reflected: other <op> self           __ix__      augmented: self <op>= other
An op class as the implementation means its public entry ``Op.call``; for the binary arithmetic
ops the dunders go straight to ``binary`` (no extra call on the hottest path).
"""
from ..ops import elementwise as E, linalg as L, movement as M, reduce as R
from ..ops.args import check_tensor
from ..ops.registry import Op
from . import conversion as C, elementwise as EW, inplace as I, linalg as LA, movement as MV, reduce as RD
from .core import Tensor, Size, root_grad
from .creation import (tensor, from_numpy, as_tensor, is_tensor, zeros, ones, empty, full, zeros_like, ones_like,
                       empty_like, full_like, arange, linspace, eye, rand, randn, randint, rand_like, randn_like,
                       randperm)
from .namespace import tensor_namespace
from .. import dtypes as _dt

VARIANTS = (
    # ---- elementwise -----------------------------------------------------------------------------
    ("add",           E.Add,            "method function inplace __add__ __radd__ __iadd__"),
    ("sub",           E.Sub,            "method function inplace __sub__ __rsub__ __isub__"),
    ("mul",           E.Mul,            "method function inplace __mul__ __rmul__ __imul__"),
    ("div",           E.Div,            "method function inplace __truediv__ __rtruediv__ __itruediv__"),
    ("pow",           E.Pow,            "method function inplace __pow__ __rpow__"),
    ("neg",           E.Neg,            "method function inplace __neg__"),
    ("positive",      EW.positive,      "method function __pos__"),
    ("abs",           E.Abs,            "method function __abs__"),
    ("exp",           E.Exp,            "method function inplace"),
    ("log",           E.Log,            "method function"),
    ("sqrt",          E.Sqrt,           "method function inplace"),
    ("rsqrt",         EW.rsqrt,         "method function"),
    ("sin",           E.Sin,            "method function"),
    ("cos",           E.Cos,            "method function"),
    ("tanh",          E.Tanh,           "method function"),
    ("sigmoid",       E.Sigmoid,        "method function"),
    ("relu",          E.Relu,           "method function inplace"),
    ("sign",          EW.sign,          "method function"),
    ("square",        EW.square,        "method function"),
    ("reciprocal",    EW.reciprocal,    "method function"),
    ("clamp",         E.Clamp,          "method function inplace"),
    ("clip",          E.Clamp,          "method function"),
    ("clamp_min",     EW.clamp_min,     "method"),
    ("clamp_max",     EW.clamp_max,     "method"),
    ("maximum",       E.Maximum,        "method free"),
    ("minimum",       E.Minimum,        "method free"),
    ("where",         E.Where,          "free"),
    ("eq",            EW.eq,            "method function __eq__"),
    ("ne",            EW.ne,            "method function __ne__"),
    ("lt",            EW.lt,            "method function __lt__"),
    ("le",            EW.le,            "method function __le__"),
    ("gt",            EW.gt,            "method function __gt__"),
    ("ge",            EW.ge,            "method function __ge__"),
    ("floor_divide",  EW.floor_divide,  "method function __floordiv__"),
    ("remainder",     EW.remainder,     "method function __mod__"),
    ("bitwise_and",   EW.bitwise_and,   "method function __and__ __rand__"),
    ("bitwise_or",    EW.bitwise_or,    "method function __or__ __ror__"),
    ("bitwise_xor",   EW.bitwise_xor,   "method function __xor__"),
    ("bitwise_not",   EW.bitwise_not,   "method function __invert__"),
    ("logical_not",   EW.logical_not,   "method function"),
    ("isnan",         EW.isnan,         "method function"),
    ("isfinite",      EW.isfinite,      "method function"),
    ("equal",         EW.equal,         "method function"),
    ("allclose",      EW.allclose,      "method function"),
    ("clone",         E.Clone,          "method function"),
    # ---- reductions ------------------------------------------------------------------------------
    ("sum",           R.Sum,            "method function"),
    ("mean",          R.Mean,           "method function"),
    ("prod",          R.Prod,           "method function"),
    ("var",           RD.var,           "method function"),
    ("std",           RD.std,           "method function"),
    ("norm",          RD.norm,          "method function"),
    ("max",           RD.max_over,         "method function"),
    ("min",           RD.min_over,         "method function"),
    ("amax",          R.Amax,           "method function"),
    ("amin",          R.Amin,           "method function"),
    ("argmax",        RD.argmax,        "method function"),
    ("argmin",        RD.argmin,        "method function"),
    ("all",           RD.all_true,         "method function"),
    ("any",           RD.any_true,         "method function"),
    ("logsumexp",     R.LogSumExp,      "method function"),
    ("softmax",       R.Softmax,        "method function"),
    ("log_softmax",   R.LogSoftmax,     "method function"),
    # ---- movement --------------------------------------------------------------------------------
    ("reshape",       M.Reshape,        "method function"),
    ("view",          MV.view,          "method"),
    ("view_as",       MV.reshape_as,    "method"),
    ("reshape_as",    MV.reshape_as,    "method"),
    ("flatten",       MV.flatten,       "method function"),
    ("unflatten",     MV.unflatten,     "method function"),
    ("squeeze",       MV.squeeze,       "method function"),
    ("unsqueeze",     MV.unsqueeze,     "method function"),
    ("transpose",     MV.transpose,     "method function"),
    ("swapaxes",      MV.transpose,     "method function"),
    ("t",             MV.t,             "method function"),
    ("permute",       M.Permute,        "method function"),
    ("expand",        M.Expand,         "method"),
    ("broadcast_to",  M.Expand,         "method"),
    ("expand_as",     MV.expand_as,     "method"),
    ("repeat",        M.Repeat,         "method"),
    ("split",         MV.split,         "method function"),
    ("chunk",         MV.chunk,         "method function"),
    ("unbind",        MV.unbind,        "method function"),
    ("index",         M.Index,          "__getitem__"),
    ("iterate",       MV.iterate,       "__iter__"),
    ("cat",           M.Cat,            "free"),
    ("stack",         MV.stack,         "free"),
    # ---- matrix products -------------------------------------------------------------------------
    ("matmul",        L.Matmul,         "method function __matmul__ __rmatmul__"),
    ("mm",            LA.mm,            "method function"),
    ("bmm",           LA.bmm,           "method function"),
    ("dot",           LA.dot,           "method function"),
    # ---- in place only ---------------------------------------------------------------------------
    ("zero_",         I.zero_,          "method"),
    ("fill_",         I.fill_,          "method"),
    ("copy_",         I.copy_,          "method"),
    ("uniform_",      I.uniform_,       "method"),
    ("normal_",       I.normal_,        "method"),
    ("setitem",       I.setitem,        "__setitem__"),
    # ---- conversion ------------------------------------------------------------------------------
    ("to",            C.to,             "method"),
    ("astype",        C.astype,         "method"),
    ("type_as",       C.type_as,        "method"),
    ("float",         C.to_dtype(_dt.float32), "method"),
    ("double",        C.to_dtype(_dt.float64), "method"),
    ("half",          C.to_dtype(_dt.float16), "method"),
    ("long",          C.to_dtype(_dt.int64),   "method"),
    ("int",           C.to_dtype(_dt.int32),   "method"),
    ("bool",          C.to_dtype(_dt.bool_),   "method"),
    ("cpu",           C.cpu,            "method"),
    ("cuda",          C.cuda,           "method"),
    ("contiguous",    C.contiguous,     "method"),
    ("numpy",         C.numpy,          "method"),
    ("item",          C.item,           "method"),
    ("tolist",        C.tolist,         "method"),
    ("as_array",      C.as_array,       "__array__"),
    ("to_float",      C.to_float,       "__float__"),
    ("to_int",        C.to_int,         "__int__"),
    ("to_index",      C.to_index,       "__index__"),
    ("to_bool",       C.to_bool,        "__bool__"),
    ("numel",         Tensor.numel,     "function"),
)

PROPERTIES = {"T": MV.reversed_dims, "mT": MV.matrix_transpose}


def _checked(fn, name):
    """The chainrule.name form of a method: the input must be a Tensor, as torch checks."""
    def function(input, *args, **kwargs):
        check_tensor(input, name)
        return fn(input, *args, **kwargs)
    function.__name__ = name
    function.__doc__ = fn.__doc__
    return function


def _binary_dunders(op, name):
    binary = E.binary

    def forward(self, other):
        return binary(op, self, other, name)

    def reflected(self, other):
        return binary(op, other, self, name)
    return forward, reflected


def _reflected(fn):
    def reflected(self, other):
        return fn(other, self)
    return reflected


def install(cls, variants, properties):
    """Attach every row's variants to ``cls``; returns the chainrule.name functions."""
    functions = {}
    for name, impl, kinds in variants:
        binary = impl in (E.Add, E.Sub, E.Mul, E.Div, E.Pow)
        fn = impl.call if isinstance(impl, type) and issubclass(impl, Op) else impl
        kinds = kinds.split()
        for kind in kinds:
            plain_dunder = "__" + kind[3:]  # __radd__ / __iadd__ -> __add__
            if kind == "method":
                setattr(cls, name, fn)
            elif kind == "function":
                functions[name] = _checked(fn, name)
            elif kind == "free":
                functions[name] = fn
            elif kind == "inplace":
                setattr(cls, name + "_", I.inplace_variant(fn, name + "_"))
            elif kind.startswith("__i") and plain_dunder in kinds:
                setattr(cls, kind, getattr(cls, name + "_"))
            elif kind.startswith("__r") and plain_dunder in kinds:
                setattr(cls, kind, _binary_dunders(impl, name)[1] if binary else _reflected(fn))
            else:
                setattr(cls, kind, _binary_dunders(impl, name)[0] if binary else fn)
    for name, fn in properties.items():
        setattr(cls, name, property(fn))
    return functions


functions = install(Tensor, VARIANTS, PROPERTIES)

__all__ = ["Tensor", "Size", "root_grad", "tensor_namespace", "functions", "VARIANTS", "tensor", "from_numpy",
           "as_tensor", "is_tensor", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
           "full_like", "arange", "linspace", "eye", "rand", "randn", "randint", "rand_like", "randn_like",
           "randperm"]
