"""Conversions: dtype and device moves (``to``, ``float``, ``cuda``, ...), and out to Python and
NumPy (``numpy``, ``item``, ``tolist``, ``float(t)``, ...)."""
import numpy as np

from .. import dtypes as _dt
from ..backend import Device, parse_device, parse_to_args, to_device
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
    return to(input, _dt.from_numpy(np.dtype(np_dtype)))


def type_as(input, other):
    return to(input, other.dtype)


def to_dtype(dtype):
    """The conversion method for one dtype (t.float(), t.long(), ...)."""
    def convert(input):
        return to(input, dtype)
    convert.__name__ = dtype.name
    return convert


def cpu(input):
    return to(input, "cpu")


def cuda(input, device=None):
    return to(input, "cuda" if device is None else parse_device(
        device if not isinstance(device, int) else f"cuda:{device}"))


def contiguous(input):
    return input


# ---- out of chainrule ------------------------------------------------------------------------------

def numpy(input, force=False):
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
    if input._data.size != 1:
        raise RuntimeError(f"a Tensor with {input._data.size} elements cannot be converted to Scalar")
    return input._data.reshape(()).item() if type(input._data) is _ndarray else input._data.item()


def tolist(input):
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
