"""Parameters to one flat vector and back (torch.nn.utils.convert_parameters)."""
from ...tensor import Tensor, functions as _functions

_cat = _functions["cat"]


def _check_param_device(param, old_param_device):
    """The device index of the first parameter (-1 for the CPU); a TypeError when a later one differs."""
    device = param.device
    index = (device.index or 0) if device.type == "cuda" else -1
    if old_param_device is not None and index != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return index


def parameters_to_vector(parameters):
    """One 1-D tensor of all the parameters, flattened and concatenated in order (differentiable;
    mixed dtypes promote, as torch.cat)."""
    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.view(-1))
    return _cat(vec)


def vector_to_parameters(vec, parameters):
    """Copy slices of the 1-D ``vec`` into the parameters, in order. As torch, each parameter's
    ``.data`` becomes a view of ``vec``'s memory (and takes its dtype); returns None."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected chainrule.Tensor, but got: {_typename(vec)}")
    param_device = None
    pointer = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        param._data = vec[pointer:pointer + num_param].view_as(param)._data
        pointer += num_param


def _typename(obj):
    """torch.typename: the qualified class name (``numpy.ndarray``), builtins unqualified (``list``)."""
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", None) else f"{module}.{cls.__qualname__}"
