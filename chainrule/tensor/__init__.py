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
import functools
import inspect

from ..ops.args import check_tensor
from ..ops.elementwise import (Abs, Add, Clamp, Clone, Cos, Div, Exp, Log, Mul, Neg, Pow, Relu,
                               Sigmoid, Sin, Sqrt, Sub, Tanh, Where, binary)
from ..ops.linalg import Matmul
from ..ops.movement import Cat, Expand, Index, Permute, Repeat, Reshape
from ..ops.reduce import Amax, Amin, LogSoftmax, LogSumExp, Mean, Prod, Softmax, Sum
from ..ops.registry import Op
from . import conversion, creation, elementwise, inplace, linalg, movement, reduce
from . import scan
from . import indexing
from . import joining
from . import contract
from . import sparse
from . import draws
from . import extra, numeric, signal, storage, settings
from .core import Tensor, Size, root_grad
from .creation import (tensor, from_numpy, as_tensor, is_tensor, zeros, ones, empty, full, zeros_like, ones_like,
                       empty_like, full_like, arange, linspace, eye, rand, randn, randint, rand_like, randn_like,
                       randperm)
from .namespace import tensor_namespace
from . import docstrings
from . import special
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
    ("index",         indexing.getitem,                  "__getitem__"),
    ("iterate",       movement.iterate,                  "__iter__"),
    ("cat",           Cat,                               "free"),
    ("stack",         movement.stack,                    "free"),
    # ---- matrix products -------------------------------------------------------------------------
    ("matmul",        Matmul,                            "method function __matmul__ __rmatmul__"),
    ("mm",            contract.mm,                         "method free"),  # checks its input: sparse too
    ("bmm",           contract.bmm,                        "method function"),
    ("dot",           contract.dot,                        "method function"),
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
    ("to_sparse",     sparse.to_sparse,                  "method"),
    ("to_sparse_coo", sparse.to_sparse,                  "method"),
    ("to_dense",      sparse.dense_to_dense,             "method"),
    # ---- sort, scan, search and counting ops (issue 13) ----
    ("sort",          scan.sort,                         "method function"),
    ("argsort",       scan.argsort,                      "method function"),
    ("msort",         scan.msort,                        "method function"),
    ("topk",          scan.topk,                         "method function"),
    ("kthvalue",      scan.kthvalue,                     "method function"),
    ("median",        scan.median,                       "method function"),
    ("nanmedian",     scan.nanmedian,                    "method function"),
    ("mode",          scan.mode,                         "method function"),
    ("unique",        scan.unique,                       "method function"),
    ("unique_consecutive", scan.unique_consecutive,      "method function"),
    ("cumsum",        scan.cumsum,                       "method function inplace"),
    ("cumprod",       scan.cumprod,                      "method function inplace"),
    ("cummax",        scan.cummax,                       "method function"),
    ("cummin",        scan.cummin,                       "method function"),
    ("logcumsumexp",  scan.logcumsumexp,                 "method function"),
    ("diff",          scan.diff,                         "method function"),
    ("count_nonzero", scan.count_nonzero,                "method function"),
    ("nonzero",       scan.nonzero,                      "method function"),
    ("argwhere",      scan.argwhere,                     "method function"),
    ("bincount",      scan.bincount,                     "method function"),
    ("histc",         scan.histc,                        "method function"),
    ("histogram",     scan.histogram,                    "method function"),
    ("bucketize",     scan.bucketize,                    "free"),
    ("searchsorted",  scan.searchsorted,                 "free"),
    ("aminmax",       scan.aminmax,                      "method function"),
    ("std_mean",      scan.std_mean,                     "function"),
    ("var_mean",      scan.var_mean,                     "function"),
    ("isin",          scan.isin,                         "free"),
    # ---- indexing, scatter and shape ops (issue 13) ----
    ("tril",          indexing.tril,                     "method function inplace"),
    ("triu",          indexing.triu,                     "method function inplace"),
    ("tril_indices",  indexing.tril_indices,             "free"),
    ("triu_indices",  indexing.triu_indices,             "free"),
    ("masked_select", indexing.masked_select,            "method function"),
    ("masked_scatter", indexing.masked_scatter,          "method function inplace"),
    ("where",         indexing.where_method,             "method"),
    ("gather",        indexing.gather,                   "method function"),
    ("take_along_dim", indexing.take_along_dim,          "method function"),
    ("scatter",       indexing.scatter,                  "method function inplace"),
    ("scatter_add",   indexing.scatter_add,              "method function inplace"),
    ("scatter_reduce", indexing.scatter_reduce,          "method function inplace"),
    ("index_select",  indexing.index_select,             "method function"),
    ("index_add",     indexing.index_add,                "method function inplace"),
    ("index_copy",    indexing.index_copy,               "method function inplace"),
    ("index_fill",    indexing.index_fill,               "method function inplace"),
    ("index_put",     indexing.index_put,                "method function inplace"),
    ("take",          indexing.take,                     "method function"),
    ("put",           indexing.put,                      "method function inplace"),
    ("flip",          indexing.flip,                     "function"),
    ("flip",          indexing.flip_method,              "method"),
    ("fliplr",        indexing.fliplr,                   "method function"),
    ("flipud",        indexing.flipud,                   "method function"),
    ("roll",          indexing.roll,                     "method function"),
    ("rot90",         indexing.rot90,                    "method function"),
    ("repeat_interleave", indexing.repeat_interleave,    "method function"),
    ("tile",          indexing.tile,                     "method function"),
    ("movedim",       indexing.movedim,                  "method function"),
    ("moveaxis",      indexing.movedim,                  "method function"),
    ("swapdims",      indexing.swapdims,                 "method function"),
    ("diagonal",      indexing.diagonal,                 "method function"),
    ("diag",          indexing.diag,                     "method function"),
    ("diag_embed",    indexing.diag_embed,               "method function"),
    ("diagflat",      indexing.diagflat,                 "method function"),
    ("trace",         indexing.trace,                    "method function"),
    ("meshgrid",      joining.meshgrid,                 "free"),
    ("cartesian_prod", joining.cartesian_prod,          "free"),
    ("combinations",  joining.combinations,             "function"),
    ("block_diag",    joining.block_diag,               "free"),
    ("atleast_1d",    joining.atleast_1d,               "free"),
    ("atleast_2d",    joining.atleast_2d,               "free"),
    ("atleast_3d",    joining.atleast_3d,               "free"),
    ("hstack",        joining.hstack,                   "free"),
    ("vstack",        joining.vstack,                   "free"),
    ("row_stack",     joining.vstack,                   "free"),
    ("dstack",        joining.dstack,                   "free"),
    ("column_stack",  joining.column_stack,             "free"),
    ("tensor_split",  joining.tensor_split,             "method function"),
    ("hsplit",        joining.hsplit,                   "method function"),
    ("vsplit",        joining.vsplit,                   "method function"),
    ("dsplit",        joining.dsplit,                   "method function"),
    # ---- elementwise math and predicates (issue 13) ----
    ("log1p",         special.Log1p,                     "method function inplace"),
    ("expm1",         special.Expm1,                     "method function inplace"),
    ("log2",          special.Log2,                      "method function inplace"),
    ("log10",         special.Log10,                     "method function inplace"),
    ("exp2",          special.Exp2,                      "method function inplace"),
    ("erf",           special.Erf,                       "method function inplace"),
    ("erfc",          special.Erfc,                      "method function inplace"),
    ("erfinv",        special.Erfinv,                    "method function inplace"),
    ("lgamma",        special.Lgamma,                    "method function inplace"),
    ("digamma",       special.Digamma,                   "method function inplace"),
    ("polygamma",     special.polygamma,                 "free"),
    ("polygamma",     special.polygamma_method,          "method inplace"),
    ("sinh",          special.Sinh,                      "method function inplace"),
    ("cosh",          special.Cosh,                      "method function inplace"),
    ("tan",           special.Tan,                       "method function inplace"),
    ("asin",          special.Asin,                      "method function inplace"),
    ("acos",          special.Acos,                      "method function inplace"),
    ("atan",          special.Atan,                      "method function inplace"),
    ("asinh",         special.Asinh,                     "method function inplace"),
    ("acosh",         special.Acosh,                     "method function inplace"),
    ("atanh",         special.Atanh,                     "method function inplace"),
    ("arcsin",        special.Asin,                      "method function inplace"),
    ("arccos",        special.Acos,                      "method function inplace"),
    ("arctan",        special.Atan,                      "method function inplace"),
    ("arcsinh",       special.Asinh,                     "method function inplace"),
    ("arccosh",       special.Acosh,                     "method function inplace"),
    ("arctanh",       special.Atanh,                     "method function inplace"),
    ("floor",         special.floor,                     "method function inplace"),
    ("ceil",          special.ceil,                      "method function inplace"),
    ("trunc",         special.trunc,                     "method function inplace"),
    ("fix",           special.trunc,                     "method function inplace"),
    ("round",         special.round,                     "method function inplace"),
    ("frac",          special.frac,                      "method function inplace"),
    ("sgn",           elementwise.sign,                  "method function inplace"),
    ("sign",          elementwise.sign,                  "inplace"),
    ("signbit",       special.signbit,                   "method function"),
    ("fmod",          special.Fmod,                      "method function inplace"),
    ("remainder",     special.Remainder,                 "method function inplace __mod__ __rmod__ __imod__"),
    ("hypot",         special.Hypot,                     "method function inplace"),
    ("atan2",         special.Atan2,                     "method function inplace"),
    ("arctan2",       special.Atan2,                     "method function inplace"),
    ("logaddexp",     special.LogAddExp,                 "method function"),
    ("logaddexp2",    special.LogAddExp2,                "method function"),
    ("xlogy",         special.Xlogy,                     "method free inplace"),
    ("copysign",      special.Copysign,                  "method function inplace"),
    ("lerp",          special.lerp,                      "method function inplace"),
    ("addcmul",       special.addcmul,                   "method function inplace"),
    ("addcdiv",       special.addcdiv,                   "method function inplace"),
    ("float_power",   special.float_power,               "method free"),
    ("float_power_",  special.float_power_,              "method"),
    ("logit",         special.logit,                     "method function inplace"),
    ("deg2rad",       special.deg2rad,                   "method function inplace"),
    ("rad2deg",       special.rad2deg,                   "method function inplace"),
    ("nan_to_num",    special.nan_to_num,                "method function inplace"),
    ("isclose",       special.isclose,                   "method function"),
    ("isinf",         special.isinf,                     "method function"),
    ("isposinf",      special.isposinf,                  "method function"),
    ("isneginf",      special.isneginf,                  "method function"),
    ("isreal",        special.isreal,                    "method function"),
    ("logical_and",   special.logical_and,               "method function inplace"),
    ("logical_or",    special.logical_or,                "method function inplace"),
    ("logical_xor",   special.logical_xor,               "method function inplace"),
    ("bitwise_left_shift", special.bitwise_left_shift,   "method function inplace __lshift__ __rlshift__ __ilshift__"),
    ("bitwise_right_shift", special.bitwise_right_shift, "method function inplace __rshift__ __rrshift__ __irshift__"),
    ("heaviside",     special.heaviside,                 "method function inplace"),
    ("gcd",           special.gcd,                       "method function inplace"),
    ("lcm",           special.lcm,                       "method function inplace"),
    ("negative",      special.Neg,                       "method function inplace"),
    ("multiply",      special.Mul,                       "method function inplace"),
    ("subtract",      special.Sub,                       "method function inplace"),
    ("divide",        special.div,                       "method function inplace"),
    ("div",           special.div,                       "method function inplace"),
    ("true_divide",   special.Div,                       "method function inplace"),
    ("rsqrt",         elementwise.rsqrt,                 "inplace"),
    ("square",        elementwise.square,                "inplace"),
    ("sigmoid",       Sigmoid,                           "inplace"),
    ("clamp",         special.clamp,                     "method function inplace"),
    ("clip",          special.clamp,                     "method function inplace"),
    ("positive",      special.positive,                  "method function __pos__"),
    ("allclose",      special.allclose,                  "method function"),
    ("floor_divide",  special.floor_divide,              "method function inplace __floordiv__ __rfloordiv__ __ifloordiv__"),
    # ---- random sampling and creation (issue 13) ----
    ("new_zeros",     creation.new_zeros,                "method"),
    ("new_ones",      creation.new_ones,                 "method"),
    ("new_empty",     creation.new_empty,                "method"),
    ("new_full",      creation.new_full,                 "method"),
    ("new_tensor",    creation.new_tensor,               "method"),
    ("normal",        creation.normal,                   "free"),
    ("bernoulli",     creation.bernoulli,                "method function"),
    ("bernoulli_",    creation.bernoulli_,               "method"),
    ("poisson",       creation.poisson,                  "function"),
    ("multinomial",   creation.multinomial,              "method function"),
    ("random_",       draws.random_,                  "method"),
    ("exponential_",  draws.exponential_,             "method"),
    ("geometric_",    draws.geometric_,               "method"),
    ("log_normal_",   draws.log_normal_,              "method"),
    ("cauchy_",       draws.cauchy_,                  "method"),
    ("type",          conversion.tensor_type,            "method"),
    ("stride",        conversion.stride,                 "method"),
    ("storage_offset", conversion.storage_offset,        "method"),
    ("data_ptr",      conversion.data_ptr,               "method"),
    ("is_contiguous", conversion.is_contiguous,          "method"),
    ("is_inference",  conversion.is_inference,           "method"),
    ("is_complex",    conversion.is_complex,             "method function"),
    ("is_nonzero",    conversion.is_nonzero,             "method function"),
    ("is_floating_point", Tensor.is_floating_point,      "function"),
    ("result_type",   conversion.result_type,            "free"),
    ("promote_types", conversion.promote_types,          "free"),
    ("can_cast",      conversion.can_cast,               "free"),
    ("typename",      conversion.typename,               "free"),
    ("repr",          conversion.tensor_repr,            "__repr__ __str__"),
    # ---- linear algebra and contractions (issue 13) ----
    ("inverse",       linalg.inv,                        "method function"),
    ("det",           linalg.det,                        "method function"),
    ("logdet",        linalg.logdet,                     "method function"),
    ("slogdet",       linalg.slogdet,                    "method function"),
    ("cholesky",      linalg.cholesky,                   "method function"),
    ("qr",            linalg.torch_qr,                   "method function"),
    ("svd",           linalg.torch_svd,                  "method function"),
    ("pinverse",      linalg.pinverse,                   "method function"),
    ("matrix_power",  linalg.matrix_power,               "method function"),
    ("matrix_exp",    linalg.matrix_exp,                 "method function"),
    ("outer",         contract.outer,                      "method function"),
    ("ger",           contract.outer,                      "method function"),
    ("inner",         contract.inner,                      "method function"),
    ("kron",          contract.kron,                       "method function"),
    ("cross",         contract.cross,                      "method function"),
    ("mv",            contract.mv,                         "method function"),
    ("vdot",          contract.vdot,                       "method function"),
    ("addmm",         contract.addmm,                      "method function inplace"),
    ("addmv",         contract.addmv,                      "method function inplace"),
    ("addr",          contract.addr,                       "method function inplace"),
    ("addbmm",        contract.addbmm,                     "method function inplace"),
    ("baddbmm",       contract.baddbmm,                    "method function inplace"),
    ("einsum",        contract.einsum,                     "free"),
    ("tensordot",     contract.tensordot,                  "free"),
    ("chain_matmul",  contract.chain_matmul,               "free"),
    # ---- losses (issue 13) ----
    # ---- ddp ----
    ("bitwise_xor",   elementwise.bitwise_xor,           "__rxor__"),  # 3 ^ t: the op commutes
    ("bitwise_and",   elementwise.bitwise_and,           "inplace __and__ __iand__"),
    ("bitwise_or",    elementwise.bitwise_or,            "inplace __or__ __ior__"),
    ("bitwise_xor",   elementwise.bitwise_xor,           "inplace __xor__ __ixor__"),
    ("bitwise_not",   elementwise.bitwise_not,           "method function inplace"),
    ("invert",        elementwise.invert,                "__invert__"),
    ("logical_not",   elementwise.logical_not,           "inplace"),
    ("eq",            elementwise.eq,                    "inplace"),
    ("ne",            elementwise.ne,                    "inplace"),
    ("lt",            elementwise.lt,                    "inplace"),
    ("le",            elementwise.le,                    "inplace"),
    ("gt",            elementwise.gt,                    "inplace"),
    ("ge",            elementwise.ge,                    "inplace"),
    ("eq",            elementwise.comparison_dunders["eq"], "__eq__"),  # other types: NotImplemented
    ("ne",            elementwise.comparison_dunders["ne"], "__ne__"),  # other types: NotImplemented
    ("lt",            elementwise.comparison_dunders["lt"], "__lt__"),  # other types: NotImplemented
    ("le",            elementwise.comparison_dunders["le"], "__le__"),  # other types: NotImplemented
    ("gt",            elementwise.comparison_dunders["gt"], "__gt__"),  # other types: NotImplemented
    ("ge",            elementwise.comparison_dunders["ge"], "__ge__"),  # other types: NotImplemented
    # ---- everyday gaps (session 3) ----
    ("broadcast_to",  extra.broadcast_to,                "function"),
    ("broadcast_tensors", extra.broadcast_tensors,       "free"),
    ("broadcast_shapes", extra.broadcast_shapes,         "free"),
    ("clamp_min",     extra.clamp_min,                   "method function"),
    ("clamp_max",     extra.clamp_max,                   "method function"),
    ("clamp_min_",    storage.clamp_min_,                  "method"),
    ("clamp_max_",    storage.clamp_max_,                  "method"),
    ("absolute",      Abs,                               "method function inplace"),
    ("abs",           Abs,                               "inplace"),
    ("rsub",          extra.rsub,                        "function"),
    ("fmax",          extra.fmax,                        "method function"),
    ("fmin",          extra.fmin,                        "method function"),
    ("ldexp",         extra.ldexp,                       "method function"),
    ("ldexp_",        storage.ldexp_,                      "method"),
    ("frexp",         extra.frexp,                       "method function"),
    ("ravel",         extra.ravel,                       "method function"),
    ("select",        extra.select,                      "method function"),
    ("adjoint",       extra.adjoint,                     "method function"),
    ("is_same_size",  extra.is_same_size,                "method function"),
    ("is_signed",     extra.is_signed,                   "method function"),
    ("nansum",        numeric.nansum,                      "method function"),
    ("nanmean",       numeric.nanmean,                     "method function"),
    ("quantile",      numeric.quantile,                    "method function"),
    ("nanquantile",   numeric.nanquantile,                 "method function"),
    ("cdist",         numeric.cdist,                       "function"),
    ("dist",          numeric.dist,                        "method function"),
    ("cov",           numeric.cov,                         "method function"),
    ("corrcoef",      numeric.corrcoef,                    "method function"),
    ("renorm",        numeric.renorm,                      "method function"),
    ("renorm_",       numeric.renorm_,                     "method"),
    ("hann_window",   signal.hann_window,                 "free"),
    ("hamming_window", signal.hamming_window,             "free"),
    ("bartlett_window", signal.bartlett_window,           "free"),
    ("blackman_window", signal.blackman_window,           "free"),
    ("kaiser_window", signal.kaiser_window,               "free"),
    ("diagonal_scatter", extra.diagonal_scatter,         "method function"),
    ("select_scatter", extra.select_scatter,             "method function"),
    ("slice_scatter", extra.slice_scatter,               "method function"),
    ("index_reduce",  extra.index_reduce,                "method function"),
    ("index_reduce_", storage.index_reduce_,               "method"),
    ("unfold",        extra.unfold,                      "method"),
    ("resize_",       storage.resize_,                     "method"),
    ("share_memory_", storage.share_memory_,               "method"),
    ("is_shared",     storage.is_shared,                   "method"),
    ("resize_as_",    storage.resize_as_,                  "method"),
    ("asarray",       storage.asarray,                     "free"),
    ("frombuffer",    storage.frombuffer,                  "free"),
    ("get_num_interop_threads", storage.get_num_interop_threads, "free"),
    ("set_num_interop_threads", storage.set_num_interop_threads, "free"),
    ("byte",          storage.byte,                        "method"),
    ("char",          storage.char,                        "method"),
    ("short",         storage.short,                       "method"),
    ("ndimension",    Tensor.dim,                        "method"),
    ("get_device",    storage.get_device,                  "method function"),
    ("cos",           Cos,                               "inplace"),
    ("sin",           Sin,                               "inplace"),
    ("tanh",          Tanh,                              "inplace"),
    ("log",           Log,                               "inplace"),
    ("reciprocal",    elementwise.reciprocal,            "inplace"),
    ("sinc",          signal.sinc,                        "method function"),
    ("sinc_",         signal.sinc_,                       "method"),
    ("i0",            signal.i0,                          "method function"),
    ("i0_",           signal.i0_,                         "method"),
    ("nextafter",     signal.nextafter,                   "method function"),
    ("nextafter_",    signal.nextafter_,                  "method"),
    ("mvlgamma",      signal.mvlgamma,                    "method function"),
    ("mvlgamma_",     signal.mvlgamma_,                   "method"),
    ("fill",          storage.fill,                        "function"),
    ("fill_diagonal_", storage.fill_diagonal_,             "method"),
    ("sum_to_size",   storage.sum_to_size,                 "method"),
    ("split_with_sizes", storage.split_with_sizes,         "method function"),
    ("trapezoid",     signal.trapezoid,                   "free"),
    ("trapz",         signal.trapz,                       "free"),
    ("cumulative_trapezoid", signal.cumulative_trapezoid, "free"),
    ("unravel_index", storage.unravel_index,               "free"),
    ("vander",        signal.vander,                      "free"),
    ("squeeze_",      settings.squeeze_,                    "method"),
    ("unsqueeze_",    settings.unsqueeze_,                  "method"),
    ("t_",            settings.t_,                          "method"),
    ("transpose_",    settings.transpose_,                  "method"),
    ("swapaxes_",     settings.swapaxes_,                   "method"),
    ("swapdims_",     settings.swapdims_,                   "method"),
    ("apply_",        settings.apply_,                      "method"),
    ("map_",          settings.map_,                        "method"),
    ("map2_",         settings.map2_,                       "method"),
    ("is_pinned",     settings.is_pinned,                   "method"),
    ("const_data_ptr", conversion.data_ptr,              "method"),
    ("gradient",      signal.gradient,                  "function"),
    ("empty_permuted", settings.empty_permuted,             "free"),
    ("is_inference",  settings.is_inference,                "function"),
    ("is_storage",    settings.is_storage,                  "free"),
    ("is_conj",       settings.is_conj,                     "method function"),
    ("is_neg",        settings.is_neg,                      "method function"),
    ("resolve_conj",  settings.resolve_conj,                "method function"),
    ("resolve_neg",   settings.resolve_neg,                 "method function"),
    ("get_float32_matmul_precision", settings.get_float32_matmul_precision, "free"),
    ("set_float32_matmul_precision", settings.set_float32_matmul_precision, "free"),
    ("set_warn_always", settings.set_warn_always,           "free"),
    ("is_warn_always_enabled", settings.is_warn_always_enabled, "free"),
    ("set_flush_denormal", settings.set_flush_denormal,     "free"),
    ("set_anomaly_enabled", settings.set_anomaly_enabled,   "free"),
    ("is_anomaly_enabled", settings.is_anomaly_enabled,     "free"),
    ("is_anomaly_check_nan_enabled", settings.is_anomaly_check_nan_enabled, "free"),
)

PROPERTIES = {"T": movement.reversed_dims, "mT": movement.matrix_transpose, "layout": sparse.layout,
              **conversion.ATTRIBUTES}


def _checked(fn, name):
    """The chainrule.name form of a method: the input must be a Tensor, as torch checks; ``out=`` writes the
    result into a given tensor (``inplace.write_out``)."""
    def function(input, *args, out=None, **kwargs):
        check_tensor(input, name)
        if out is None:
            return fn(input, *args, **kwargs)
        return inplace.write_out(name, fn(input, *args, **kwargs), out)
    function.__name__ = name
    function.__doc__ = fn.__doc__
    function.__wrapped__ = fn  # inspect.signature (and the docs) show fn's parameters
    return function


def _with_out(fn, name):
    """A free function (its first argument not a Tensor: ``cat``'s list) with ``out=``, as _checked."""
    def function(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        return inplace.write_out(name, fn(*args, **kwargs), out)
    functools.update_wrapper(function, fn)
    function.__name__ = name
    return function


def _binary_dunders(op, name):
    def forward(self, other):
        return binary(op, self, other, name)

    def reflected(self, other):
        return binary(op, other, self, name)
    # 2 * t is t * 2 for add and mul, as torch (the tensor's input first in grad_fn.next_functions)
    return forward, (forward if op in (Add, Mul) else reflected)


def _reflected(fn):
    def reflected(self, other):
        return fn(other, self)
    return reflected


# torch's argument parser takes NumPy's names too (x.sum(axis=0, keepdims=True)), and the sizes of
# the methods that take them as *args by keyword (x.permute(dims=(1, 0)))
NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}
SIZES_KEYWORD = {"permute": "dims", "reshape": "shape", "view": "size", "expand": "size", "repeat": "repeats",
                 "flip": "dims", "tile": "dims"}


def _torch_keywords(fn, name):
    """``fn`` accepting torch's keyword spellings (a wrapper only where ``fn`` has such parameters)."""
    sizes = SIZES_KEYWORD.get(name)
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    if sizes is None and "dim" not in params and "keepdim" not in params:
        return fn

    def with_keywords(*args, **kwargs):
        if kwargs:
            for numpy_name, torch_name in NUMPY_NAMES.items():
                if numpy_name in kwargs and torch_name not in kwargs:
                    kwargs[torch_name] = kwargs.pop(numpy_name)
            if sizes in kwargs and len(args) == 1:
                args = (args[0], kwargs.pop(sizes))
        return fn(*args, **kwargs)
    functools.update_wrapper(with_keywords, fn)
    return with_keywords


def install(cls, variants, properties):
    """Attach every row's variants to ``cls``; returns the chainrule.name functions."""
    functions = {}
    for name, impl, kinds in variants:
        is_binary = impl in (Add, Sub, Mul, Div, Pow)
        fn = impl.call if isinstance(impl, type) and issubclass(impl, Op) else impl
        if fn is not impl and not fn.__doc__ and impl.__doc__:   # the op's rule is its entry's docstring
            fn.__doc__ = f"As ``torch.{name}``; the rule: " + impl.__doc__
        if not is_binary:
            fn = _torch_keywords(fn, name)
        kinds = kinds.split()
        for kind in kinds:
            plain_dunder = "__" + kind[3:]  # __radd__ / __iadd__ -> __add__
            if kind == "method":
                setattr(cls, name, fn)
            elif kind == "function":
                functions[name] = _checked(fn, name)
            elif kind == "free":
                functions[name] = _with_out(fn, name)
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
Tensor.grad = inplace.grad_property  # assignments checked as torch's

# torch.sin_(t), torch.relu_(t), ...: the in-place methods torch also has as functions (same checks)
INPLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
    "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
    "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_",
    "i0_", "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
    "negative_", "rad2deg_", "reciprocal_", "relu_", "resize_as_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_",
    "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_",
)
functions.update((name, _checked(getattr(Tensor, name), name)) for name in INPLACE_FUNCTIONS)
docstrings.attach(Tensor)

__all__ = ["Tensor", "Size", "root_grad", "tensor_namespace", "functions", "VARIANTS", "tensor", "from_numpy",
           "as_tensor", "is_tensor", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
           "full_like", "arange", "linspace", "eye", "rand", "randn", "randint", "rand_like", "randn_like",
           "randperm"]
