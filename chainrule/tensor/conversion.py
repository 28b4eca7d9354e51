"""Conversions: dtype and device moves (``to``, ``float``, ``cuda``, ``type``, ...), out to Python
and NumPy (``numpy``, ``item``, ``tolist``, ``float(t)``, ...), and the storage attributes torch
reports (``stride``, ``storage_offset``, ``data_ptr``, ``is_contiguous``, ``nbytes``, ...), read
from the NumPy/CuPy array: element strides from its byte strides, offsets from its base."""
import numpy as np

from .. import dtypes as _dt
from ..autograd.node import root_array
from ..backend import Device, parse_device, parse_to_args, to_device
from ..ops.args import dim as _dim
from ..ops.elementwise import Cast, Clone, ToDevice
from ..ops.registry import apply
from .core import Tensor

_ndarray = np.ndarray


def to(input, *args, **kwargs):
    """to(dtype) / to(device) / to(device, dtype) / to(other_tensor), as torch."""
    dev, dtype, copy = parse_to_args(args, kwargs)
    out = input
    if dev is not None and dev != input.device:
        out = apply(ToDevice, out, device=dev)
    if dtype is not None:
        dtype = _dt.to_dtype(dtype)
        if dtype.np != out._data.dtype:
            out = apply(Cast, out, dtype=dtype.np)
            if not dtype.is_floating_point:  # integer/bool results carry no gradient
                out = Tensor._make(out._data)
    if copy and out is input:
        out = Clone.call(input)
    return out


def astype(input, np_dtype):  # the engine's cast, also under create_graph
    """Casts to the chainrule dtype matching the NumPy dtype ``np_dtype`` (the engine's cast, recorded by
    autograd)."""
    return to(input, _dt.from_numpy(np.dtype(np_dtype)))


def type_as(input, other):
    """Casts to ``other``'s dtype, as ``torch.Tensor.type_as``."""
    return to(input, other.dtype)


_TO_DTYPE_DOC = """This tensor as ``chainrule.{dtype}``, as ``torch.Tensor.{method}`` (``self.to(chainrule.{dtype})``).

``self`` itself when it already has that dtype, else a new tensor. {how} torch's
``memory_format`` argument is not accepted.

Returns
-------
Tensor
    Of dtype ``chainrule.{dtype}``.

Examples
--------
>>> cr.tensor([1.7, -1.7, 0.]).{method}()
{example}
"""
_TO_DTYPE = {  # dtype name: (torch's method name, what the cast does, example output)
    "float32": ("float", "float", "tensor([ 1.7000, -1.7000,  0.0000])"),
    "float64": ("double", "float", "tensor([ 1.7000, -1.7000,  0.0000], dtype=chainrule.float64)"),
    "float16": ("half", "float", "tensor([ 1.7002, -1.7002,  0.0000], dtype=chainrule.float16)"),
    "int64": ("long", "int", "tensor([ 1, -1,  0])"),
    "int32": ("int", "int", "tensor([ 1, -1,  0], dtype=chainrule.int32)"),
    "bool": ("bool", "bool", "tensor([ True,  True, False])")}
_TO_DTYPE_HOW = {
    "float": "The cast is recorded by autograd: the gradient flows back cast to the input's dtype.",
    "int": "Floats are truncated toward zero (NaN and out-of-range values are undefined, as in torch); the "
           "result has no gradient.",
    "bool": "Nonzero elements (and NaN) become True; the result has no gradient."}


def to_dtype(dtype):
    """The conversion method for one dtype (t.float(), t.long(), ...)."""
    def convert(input):
        return to(input, dtype)
    convert.__name__ = dtype.name
    if dtype.name in _TO_DTYPE:
        method, kind, example = _TO_DTYPE[dtype.name]
        convert.__doc__ = _TO_DTYPE_DOC.format(dtype=dtype.name, method=method, how=_TO_DTYPE_HOW[kind],
                                               example=example)
    return convert


def cpu(input):
    """This tensor on the CPU (itself when already there), as ``torch.Tensor.cpu``."""
    return to(input, "cpu")


def cuda(input, device=None):
    """This tensor on a CUDA device (``device``: an index, a name or a device; default the current one), as
    ``torch.Tensor.cuda``; needs CuPy."""
    return to(input, "cuda" if device is None else parse_device(
        device if not isinstance(device, int) else f"cuda:{device}"))


def contiguous(input, memory_format=None):
    """``input`` if its memory is C-contiguous, else a contiguous copy (gradient flows through)."""
    return input if input._data.flags.c_contiguous else Clone.call(input)


# ---- type() and torch's legacy tensor-type names ---------------------------------------------------

_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
               "float16": "Half", "float32": "Float", "float64": "Double"}
_BY_TYPE_NAME = {v + "Tensor": k for k, v in _TYPE_NAMES.items()}


def type_name(input):
    cuda = "cuda." if input._data.__class__ is not _ndarray else ""
    return f"torch.{cuda}{_TYPE_NAMES[input.dtype.name]}Tensor"


def tensor_type(input, dtype=None, non_blocking=False, **kwargs):
    """t.type() -> 'torch.FloatTensor' (torch's names); t.type(dtype or such a name) -> converted."""
    if dtype is None:
        return type_name(input)
    if isinstance(dtype, str):
        prefix, _, name = dtype.rpartition(".")
        if prefix not in ("torch", "torch.cuda", "chainrule", "chainrule.cuda") or name not in _BY_TYPE_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        out = to(input, _dt.to_dtype(_BY_TYPE_NAME[name]))
        return cuda(out) if prefix.endswith("cuda") else cpu(out) if input.is_cuda else out
    return to(input, _dt.to_dtype(dtype))


# ---- storage attributes ---------------------------------------------------------------------------

def stride(input, dim=None):
    """torch's element strides; an empty array, or a NumPy view with negative strides (a flip),
    reports the contiguous strides torch gives it (torch's flip makes a copy)."""
    a = input._data
    st = tuple(s // a.itemsize for s in a.strides)
    if a.size == 0 or any(s < 0 for s in st):
        st, n = [], 1
        for size in reversed(a.shape):
            st.insert(0, n)
            n *= max(size, 1)
        st = tuple(st)
    return st if dim is None else st[_dim(dim, a.ndim, "stride")]


def _address(a):
    return a.__array_interface__["data"][0] if a.__class__ is _ndarray else a.data.ptr


def data_ptr(input):
    """The address of the tensor's first element, as ``torch.Tensor.data_ptr``."""
    return _address(input._data)


def storage_offset(input):
    """The offset, in elements, of the tensor's first element from the start of the array it views, as
    ``torch.Tensor.storage_offset``."""
    a = input._data
    return (_address(a) - _address(root_array(a))) // a.itemsize


def is_contiguous(input, memory_format=None):
    """True when the tensor's elements are laid out in row-major (C) order without gaps, as
    ``torch.Tensor.is_contiguous``."""
    return bool(input._data.flags.c_contiguous)


def is_inference(input):
    """True for a tensor created in inference mode, as ``torch.Tensor.is_inference``."""
    return bool(input._meta and input._meta.get("inference"))


def is_nonzero(input):
    """The truth value of a one-element tensor, as ``torch.is_nonzero``; other sizes raise RuntimeError."""
    if input._data.size != 1:
        raise RuntimeError("Boolean value of Tensor with " + ("no values" if input._data.size == 0 else
                                                             "more than one value") + " is ambiguous")
    return bool(item(input))


def _false(input):
    """Always False for a dense Tensor (torch's ``is_meta``, ``is_sparse`` (see chainrule.tensor.sparse), ``is_quantized``,
    ``is_mkldnn``, ``is_nested``, ``is_xpu``, ``is_mps``)."""
    return False


def is_complex(input):  # chainrule has no complex dtypes
    """Always False, as ``torch.is_complex`` for real tensors: chainrule has no complex dtypes."""
    return False


ATTRIBUTES = {"is_xpu": _false, "is_mps": _false, "is_sparse": _false, "is_quantized": _false, "is_meta": _false,
              "is_mkldnn": _false, "is_nested": _false, "itemsize": lambda t: t._data.itemsize,
              "nbytes": lambda t: int(t._data.nbytes)}


# ---- out of chainrule ------------------------------------------------------------------------------

def numpy(input, force=False):
    """The tensor's NumPy array, sharing memory, as ``torch.Tensor.numpy``.

    Raises for a tensor that requires grad or lives on a GPU unless ``force=True`` (which returns a CPU copy
    for a GPU tensor)."""
    if type(input._data) is not _ndarray:
        if force:
            return to_device(input._data, Device.CPU)
        raise TypeError(f"can't convert {input.device} device type tensor to numpy. Use "
                        "Tensor.cpu() to copy the tensor to host memory first.")
    if input._requires_grad and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                           "tensor.detach().numpy() instead.")
    return input._data


def as_array(input, dtype=None, copy=None):  # __array__
    a = to_device(input._data, Device.CPU)
    return a if dtype is None else a.astype(dtype)


def item(input):
    """The value of a one-element tensor as a Python number, as ``torch.Tensor.item``."""
    if input._data.size != 1:
        raise RuntimeError(f"a Tensor with {input._data.size} elements cannot be converted to Scalar")
    return input._data.reshape(()).item() if type(input._data) is _ndarray else input._data.item()


def tolist(input):
    """The tensor as nested Python lists of Python numbers (a number for a 0-d tensor), as
    ``torch.Tensor.tolist``."""
    return to_device(input._data, Device.CPU).tolist()


def _scalar(input):
    if input._data.size != 1:
        raise ValueError("only one element tensors can be converted to Python scalars "
                         f"(got shape {list(input._data.shape)})")
    return item(input)


def to_float(input):  # float(t)
    return float(_scalar(input))


def to_int(input):  # int(t)
    return int(_scalar(input))


def to_index(input):  # operator.index(t): an integer tensor of one element
    if input._data.dtype.kind not in "iub" or input._data.size != 1:
        raise TypeError("only integer tensors of a single element can be converted to an index")
    return int(item(input))


def to_bool(input):  # bool(t), `if t:`
    if input._data.size != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(item(input))


# ---- dtypes of values ------------------------------------------------------------------------------

def _dtype_arg(d, fn, pos, name):
    if d.__class__ is not _dt.dtype:
        raise TypeError(f"{fn}(): argument '{name}' (position {pos}) must be torch.dtype, not {d.__class__.__name__}")
    return d


def result_type(tensor, other):
    """The dtype torch's promotion gives ``tensor`` op ``other`` (tensors or Python numbers)."""
    return _dt.result_type(*(v._data if isinstance(v, Tensor) else v for v in (tensor, other)))


def promote_types(type1, type2):
    """The dtype that type promotion gives for ``type1`` and ``type2``, as ``torch.promote_types``."""
    return _dt.promote(_dtype_arg(type1, "promote_types", 1, "type1"), _dtype_arg(type2, "promote_types", 2, "type2"))


def can_cast(from_, to):
    """torch's casting rule: never to a lower category (float -> int, int -> bool)."""
    return _dtype_arg(from_, "can_cast", 1, "from_")._rank <= _dtype_arg(to, "can_cast", 2, "to")._rank


def typename(obj):
    """torch's type name of ``obj``: e.g. ``'torch.FloatTensor'`` for a float32 tensor, else the object's
    module-qualified type name, as ``torch.typename``."""
    if isinstance(obj, Tensor):
        return type_name(obj)
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


# ---- repr, with torch's print options (torch/_tensor_str.py) ------------------------------------------

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)}
PRINT_OPTIONS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions: how reprs format values (a profile first, then each option given);
    ``sci_mode`` None lets the values decide, True/False forces scientific notation on/off."""
    if profile is not None:
        PRINT_OPTIONS.update(_PROFILES[profile])
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            PRINT_OPTIONS[k] = v
    PRINT_OPTIONS["sci_mode"] = sci_mode


class _Formatter:
    """One width and notation for every value shown, chosen from the (summarized) values."""

    def __init__(self, values, floating):
        p = PRINT_OPTIONS["precision"]
        self.floating, self.int_mode, self.sci_mode, self.width = floating, True, False, 1
        if floating:
            v = values[np.isfinite(values) & (values != 0)].astype(np.float64)
            if v.size:
                a = np.abs(v)
                lo, hi = a.min(), a.max()
                self.int_mode = bool(np.all(v == np.ceil(v)))
                self.sci_mode = hi / lo > 1000.0 or hi > 1e8 or (not self.int_mode and lo < 1e-4)
                if PRINT_OPTIONS["sci_mode"] is not None:
                    self.sci_mode = PRINT_OPTIONS["sci_mode"]
                spec = f".{p}e" if self.sci_mode else (".0f" if self.int_mode else f".{p}f")
                extra = 1 if self.int_mode and not self.sci_mode else 0
                self.width = max(len(format(x, spec)) + extra for x in v.tolist())
        else:
            self.width = max([len(str(x)) for x in values.tolist()] or [1])

    def format(self, value):
        p = PRINT_OPTIONS["precision"]
        if not self.floating:
            s = str(value)
        elif self.sci_mode:
            s = f"{value:{self.width}.{p}e}"
        elif self.int_mode:
            s = f"{value:.0f}" + ("" if value != value or value in (float("inf"), -float("inf")) else ".")
        else:
            s = f"{value:.{p}f}"
        return " " * (self.width - len(s)) + s


def _summarized(a, edge):
    """The values a summarized repr shows (edge items along every dim)."""
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * edge:
        a = np.concatenate([a[:edge], a[-edge:]]) if edge else a[:0]
    return np.stack([_summarized(x, edge) for x in a]) if a.ndim > 1 and len(a) else a


def _vector_str(a, indent, summarize, fmt):
    edge, width = PRINT_OPTIONS["edgeitems"], PRINT_OPTIONS["linewidth"]
    per_line = max(1, int((width - indent) // (fmt.width + 2)))
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = [fmt.format(v) for v in a[:edge].tolist()] + [" ..."] + [fmt.format(v) for v in a[-edge:].tolist()]
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    edge = PRINT_OPTIONS["edgeitems"]
    if summarize and a.shape[0] > 2 * edge:
        rows = ([_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
                + [_tensor_str(a[i], indent + 1, summarize, fmt) for i in range(len(a) - edge, len(a))])
    else:
        rows = [_tensor_str(x, indent + 1, summarize, fmt) for x in a]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_repr(input, column=0):
    """torch's Tensor repr: values, then device, size, dtype and grad_fn/requires_grad suffixes;
    ``column``: where the repr starts on its line (a sparse tensor's indices and values)."""
    a, prefix = to_device(input._data, Device.CPU), "tensor("
    indent, suffixes, d = len(prefix) + column, [], input.dtype
    if input.is_cuda:
        suffixes.append(f"device='{input.device}'")
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if d is not _dt.get_default_dtype():
            suffixes.append(f"dtype={d!r}")
        body = "[]"
    else:
        if not PRINT_OPTIONS["edgeitems"]:
            suffixes.append(f"size={tuple(a.shape)}")
        if d not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_):
            suffixes.append(f"dtype={d!r}")
        summarize = a.size > PRINT_OPTIONS["threshold"]
        shown = _summarized(a, PRINT_OPTIONS["edgeitems"]) if summarize else a
        body = _tensor_str(a, indent, summarize, _Formatter(shown.reshape(-1), a.dtype.kind == "f"))
    if input._node is not None:
        suffixes.append(f"grad_fn=<{input._node.name()}>")
    elif input._requires_grad:
        suffixes.append("requires_grad=True")
    out, last = [prefix + body], len(prefix + body) - (prefix + body).rfind("\n") + 1 + (0 if "\n" in body else column)
    for s in suffixes:
        n = len(s.replace("chainrule.", "torch."))  # wrap where torch wraps, whatever the dtype's prefix
        if last + n + 2 > PRINT_OPTIONS["linewidth"]:
            out.append(",\n" + " " * indent + s)
            last = indent + n
        else:
            out.append(", " + s)
            last += n + 2
    return "".join(out) + ")"
