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
from ..ops.args import check_tensor
from ..ops.elementwise import (Abs, Add, Clamp, Clone, Cos, Div, Exp, Log, Mul, Neg, Pow, Relu,
                               Sigmoid, Sin, Sqrt, Sub, Tanh, Where, binary)
from ..ops.linalg import Matmul
from ..ops.movement import Cat, Expand, Index, Permute, Repeat, Reshape
from ..ops.reduce import Amax, Amin, LogSoftmax, LogSumExp, Mean, Prod, Softmax, Sum
from ..ops.registry import Op
from . import conversion, elementwise, inplace, linalg, movement, reduce
from .core import Tensor, Size, root_grad
from .creation import (tensor, from_numpy, as_tensor, is_tensor, zeros, ones, empty, full, zeros_like, ones_like,
                       empty_like, full_like, arange, linspace, eye, rand, randn, randint, rand_like, randn_like,
                       randperm)
from .namespace import tensor_namespace
from .. import dtypes as _dt

VARIANTS = (
    # ---- elementwise -----------------------------------------------------------------------------
    ("add",           Add,                               "method function inplace __add__ __radd__ __iadd__"),
    ("sub",           Sub,                               "method function inplace __sub__ __rsub__ __isub__"),
    ("mul",           Mul,                               "method function inplace __mul__ __rmul__ __imul__"),
    ("div",           Div,                               "method function inplace __truediv__ __rtruediv__ __itruediv__"),
    ("pow",           Pow,                               "method function inplace __pow__ __rpow__"),
    ("neg",           Neg,                               "method function inplace __neg__"),
    ("positive",      elementwise.positive,              "method function __pos__"),
    ("abs",           Abs,                               "method function __abs__"),
    ("exp",           Exp,                               "method function inplace"),
    ("log",           Log,                               "method function"),
    ("sqrt",          Sqrt,                              "method function inplace"),
    ("rsqrt",         elementwise.rsqrt,                 "method function"),
    ("sin",           Sin,                               "method function"),
    ("cos",           Cos,                               "method function"),
    ("tanh",          Tanh,                              "method function"),
    ("sigmoid",       Sigmoid,                           "method function"),
    ("relu",          Relu,                              "method function inplace"),
    ("sign",          elementwise.sign,                  "method function"),
    ("square",        elementwise.square,                "method function"),
    ("reciprocal",    elementwise.reciprocal,            "method function"),
    ("clamp",         Clamp,                             "method function inplace"),
    ("clip",          Clamp,                             "method function"),
    ("clamp_min",     elementwise.clamp_min,             "method"),
    ("clamp_max",     elementwise.clamp_max,             "method"),
    ("maximum",       elementwise.maximum,               "method free"),
    ("minimum",       elementwise.minimum,               "method free"),
    ("where",         Where,                             "free"),
    ("eq",            elementwise.eq,                    "method function __eq__"),
    ("ne",            elementwise.ne,                    "method function __ne__"),
    ("lt",            elementwise.lt,                    "method function __lt__"),
    ("le",            elementwise.le,                    "method function __le__"),
    ("gt",            elementwise.gt,                    "method function __gt__"),
    ("ge",            elementwise.ge,                    "method function __ge__"),
    ("floor_divide",  elementwise.floor_divide,          "method function __floordiv__"),
    ("remainder",     elementwise.remainder,             "method function __mod__"),
    ("bitwise_and",   elementwise.bitwise_and,           "method function __and__ __rand__"),
    ("bitwise_or",    elementwise.bitwise_or,            "method function __or__ __ror__"),
    ("bitwise_xor",   elementwise.bitwise_xor,           "method function __xor__"),
    ("bitwise_not",   elementwise.bitwise_not,           "method function __invert__"),
    ("logical_not",   elementwise.logical_not,           "method function"),
    ("isnan",         elementwise.isnan,                 "method function"),
    ("isfinite",      elementwise.isfinite,              "method function"),
    ("equal",         elementwise.equal,                 "method function"),
    ("allclose",      elementwise.allclose,              "method function"),
    ("masked_fill",   elementwise.masked_fill,           "method function inplace"),
    ("clone",         Clone,                             "method function"),
    # ---- reductions ------------------------------------------------------------------------------
    ("sum",           Sum,                               "method function"),
    ("mean",          Mean,                              "method function"),
    ("prod",          Prod,                              "method function"),
    ("var",           reduce.var,                        "method function"),
    ("std",           reduce.std,                        "method function"),
    ("norm",          reduce.norm,                       "method function"),
    ("max",           reduce.max_over,                   "method function"),
    ("min",           reduce.min_over,                   "method function"),
    ("amax",          Amax,                              "method function"),
    ("amin",          Amin,                              "method function"),
    ("argmax",        reduce.argmax,                     "method function"),
    ("argmin",        reduce.argmin,                     "method function"),
    ("all",           reduce.all_true,                   "method function"),
    ("any",           reduce.any_true,                   "method function"),
    ("logsumexp",     LogSumExp,                         "method function"),
    ("softmax",       Softmax,                           "method function"),
    ("log_softmax",   LogSoftmax,                        "method function"),
    # ---- movement --------------------------------------------------------------------------------
    ("reshape",       Reshape,                           "method function"),
    ("view",          movement.view,                     "method"),
    ("view_as",       movement.reshape_as,               "method"),
    ("reshape_as",    movement.reshape_as,               "method"),
    ("flatten",       movement.flatten,                  "method function"),
    ("unflatten",     movement.unflatten,                "method function"),
    ("squeeze",       movement.squeeze,                  "method function"),
    ("unsqueeze",     movement.unsqueeze,                "method function"),
    ("transpose",     movement.transpose,                "method function"),
    ("swapaxes",      movement.transpose,                "method function"),
    ("t",             movement.t,                        "method function"),
    ("permute",       Permute,                           "method function"),
    ("expand",        Expand,                            "method"),
    ("broadcast_to",  Expand,                            "method"),
    ("narrow",        movement.narrow,                   "method function"),
    ("expand_as",     movement.expand_as,                "method"),
    ("repeat",        Repeat,                            "method"),
    ("split",         movement.split,                    "method function"),
    ("chunk",         movement.chunk,                    "method function"),
    ("unbind",        movement.unbind,                   "method function"),
    ("index",         Index,                             "__getitem__"),
    ("iterate",       movement.iterate,                  "__iter__"),
    ("cat",           Cat,                               "free"),
    ("stack",         movement.stack,                    "free"),
    # ---- matrix products -------------------------------------------------------------------------
    ("matmul",        Matmul,                            "method function __matmul__ __rmatmul__"),
    ("mm",            linalg.mm,                         "method function"),
    ("bmm",           linalg.bmm,                        "method function"),
    ("dot",           linalg.dot,                        "method function"),
    # ---- in place only ---------------------------------------------------------------------------
    ("zero_",         inplace.zero_,                     "method"),
    ("fill_",         inplace.fill_,                     "method"),
    ("copy_",         inplace.copy_,                     "method"),
    ("uniform_",      inplace.uniform_,                  "method"),
    ("normal_",       inplace.normal_,                   "method"),
    ("setitem",       inplace.setitem,                   "__setitem__"),
    # ---- conversion ------------------------------------------------------------------------------
    ("to",            conversion.to,                     "method"),
    ("astype",        conversion.astype,                 "method"),
    ("type_as",       conversion.type_as,                "method"),
    ("float",         conversion.to_dtype(_dt.float32),  "method"),
    ("double",        conversion.to_dtype(_dt.float64),  "method"),
    ("half",          conversion.to_dtype(_dt.float16),  "method"),
    ("long",          conversion.to_dtype(_dt.int64),    "method"),
    ("int",           conversion.to_dtype(_dt.int32),    "method"),
    ("bool",          conversion.to_dtype(_dt.bool_),    "method"),
    ("cpu",           conversion.cpu,                    "method"),
    ("cuda",          conversion.cuda,                   "method"),
    ("contiguous",    conversion.contiguous,             "method"),
    ("numpy",         conversion.numpy,                  "method"),
    ("item",          conversion.item,                   "method"),
    ("tolist",        conversion.tolist,                 "method"),
    ("as_array",      conversion.as_array,               "__array__"),
    ("to_float",      conversion.to_float,               "__float__"),
    ("to_int",        conversion.to_int,                 "__int__"),
    ("to_index",      conversion.to_index,               "__index__"),
    ("to_bool",       conversion.to_bool,                "__bool__"),
    ("numel",         Tensor.numel,                      "function"),
    # ---- sort, scan, search and counting ops (issue 13) ----
    # ---- indexing, scatter and shape ops (issue 13) ----
    # ---- elementwise math and predicates (issue 13) ----
    # ---- random sampling and creation (issue 13) ----
    # ---- linear algebra and contractions (issue 13) ----
    # ---- losses (issue 13) ----
)

PROPERTIES = {"T": movement.reversed_dims, "mT": movement.matrix_transpose}


def _checked(fn, name):
    """The chainrule.name form of a method: the input must be a Tensor, as torch checks."""
    def function(input, *args, **kwargs):
        check_tensor(input, name)
        return fn(input, *args, **kwargs)
    function.__name__ = name
    function.__doc__ = fn.__doc__
    return function


def _binary_dunders(op, name):
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
        is_binary = impl in (Add, Sub, Mul, Div, Pow)
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
                setattr(cls, name + "_", inplace.inplace_variant(fn, name + "_"))
            elif kind.startswith("__i") and plain_dunder in kinds:
                setattr(cls, kind, getattr(cls, name + "_"))
            elif kind.startswith("__r") and plain_dunder in kinds:
                setattr(cls, kind, _binary_dunders(impl, name)[1] if is_binary else _reflected(fn))
            else:
                setattr(cls, kind, _binary_dunders(impl, name)[0] if is_binary else fn)
    for name, fn in properties.items():
        setattr(cls, name, property(fn))
    return functions


functions = install(Tensor, VARIANTS, PROPERTIES)

__all__ = ["Tensor", "Size", "root_grad", "tensor_namespace", "functions", "VARIANTS", "tensor", "from_numpy",
           "as_tensor", "is_tensor", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
           "full_like", "arange", "linspace", "eye", "rand", "randn", "randint", "rand_like", "randn_like",
           "randperm"]
