"""In-place view ops (squeeze_, unsqueeze_, t_, transpose_, ...), Python-callable maps (apply_,
map_, map2_) and the global settings and predicates scripts call (matmul precision, warn-always,
anomaly mode, is_conj/is_neg, ...), which change nothing in NumPy's arithmetic."""
import warnings

import numpy as np

from .. import dtypes as _dt
from ..autograd import anomaly as _anomaly
from ..autograd.grad_mode import state as _grad_state
from ..ops.args import check_tensor, plain, size_args
from .core import Tensor
from .creation import _leaf
from .inplace import check_inplace, store


# ---- in-place view ops (squeeze_, unsqueeze_, t_, transpose_, ...) and Python-callable maps ------------

def _view_in_place(fn, name, what):
    """``name``: this tensor becomes the view ``fn(self, ...)`` returns (same memory, new shape).

    A tensor that is not itself a view hands its identity as a base (its history and its live views)
    to a new Tensor first, and then becomes a view of that base, so in-place writes through it or
    through views taken earlier still reach one another with their histories, as torch's strided views.
    """
    def variant(self, *args, **kwargs):
        check_inplace(self, name)
        meta = dict(self._meta) if self._meta is not None else {}
        root = meta.get("view_of", (None,))[0]
        if root is not None and root._node is None and root._requires_grad and _grad_state.enabled:
            raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        src = self
        if "view_of" not in meta:
            src = Tensor._make(self._data)
            src._node, src._requires_grad, src._meta = self._node, self._requires_grad, self._meta
            moved = list(meta.pop("views", None) or ())
            for v in moved:
                v._meta["view_of"] = (src, v._meta["view_of"][1])
        out = fn(src, *args, **kwargs)
        if out is src:  # nothing to do (transpose_(1, 1)): the views stay with self
            for v in moved if src is not self else ():
                v._meta["view_of"] = (self, v._meta["view_of"][1])
            return self
        meta.pop("view_of", None)
        meta.update(out._meta or {})
        if "view_of" in meta and src is not self:  # src re-derives self (not the temporary ``out``) after a write
            meta["view_of"][0]._meta["views"].add(self)
        self._data, self._node, self._requires_grad = out._data, out._node, out._requires_grad
        self._meta = meta or None
        return self
    variant.__name__ = name
    variant.__doc__ = f"""In-place ``{name[:-1]}``: this tensor itself becomes {what}, as ``torch.Tensor.{name}``.

    Same memory, new shape; a leaf that requires grad refuses it in grad mode, as torch.

    Returns
    -------
    Tensor
        ``self``.
    """
    return variant


squeeze_ = _view_in_place(lambda t, dim=None: t.squeeze(dim), "squeeze_", "``squeeze(dim)`` (size-1 dims removed)")
unsqueeze_ = _view_in_place(lambda t, dim: t.unsqueeze(dim), "unsqueeze_", "``unsqueeze(dim)``")
t_ = _view_in_place(lambda t: t.t(), "t_", "its transpose (``t()``)")
transpose_ = _view_in_place(lambda t, dim0, dim1: t.transpose(dim0, dim1), "transpose_", "``transpose(dim0, dim1)``")
swapaxes_ = _view_in_place(lambda t, axis0, axis1: t.transpose(axis0, axis1), "swapaxes_",
                           "``swapaxes(axis0, axis1)``")
swapdims_ = _view_in_place(lambda t, dim0, dim1: t.transpose(dim0, dim1), "swapdims_", "``swapdims(dim0, dim1)``")


def _python_map(self, others, callable, name):
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")
    if not isinstance(self._data, np.ndarray):
        raise RuntimeError(f"{name} is only implemented on CPU tensors")
    arrays = [self._data]
    for o in others:
        check_tensor(o, name, "tensor")
        try:
            arrays.append(np.broadcast_to(o._data, self._data.shape))
        except ValueError:
            raise RuntimeError(f"The expanded size of the tensor ({list(self._data.shape)}) must match the existing "
                               f"size ({list(o._data.shape)})") from None
    kind = self._data.dtype.type
    values = [kind(callable(*(a.item() for a in items))) for items in zip(*(a.reshape(-1) for a in arrays))]
    return store(self, plain(np.asarray(values, dtype=self._data.dtype).reshape(self._data.shape)), name)


def apply_(self, callable):
    """Replaces each element ``x`` by ``callable(x)`` (a Python function, element by element), as ``torch.Tensor.apply_``.

    CPU only and slow, as in torch; a tensor that requires grad refuses it.

    Parameters
    ----------
    callable : callable
        Maps a Python number to a number (cast to the tensor's dtype).

    Returns
    -------
    Tensor
        ``self``.
    """
    return _python_map(self, (), callable, "apply_")


def map_(self, tensor, callable):
    """Replaces each element ``x`` by ``callable(x, y)`` with ``y`` from ``tensor`` (broadcast), as ``torch.Tensor.map_``.

    Parameters
    ----------
    tensor : Tensor
        Broadcast to this tensor's shape.
    callable : callable
        Maps two Python numbers to a number.

    Returns
    -------
    Tensor
        ``self``.
    """
    return _python_map(self, (tensor,), callable, "map_")


def map2_(self, x, y, callable):
    """Replaces each element ``a`` by ``callable(a, b, c)`` with ``b``, ``c`` from ``x``, ``y`` (broadcast), as ``torch.Tensor.map2_``.

    Parameters
    ----------
    x, y : Tensor
        Broadcast to this tensor's shape.
    callable : callable
        Maps three Python numbers to a number.

    Returns
    -------
    Tensor
        ``self``.
    """
    return _python_map(self, (x, y), callable, "map2_")


def is_pinned(self, device=None):
    """False: chainrule has no page-locked host memory, as ``torch.Tensor.is_pinned`` for unpinned memory.

    Parameters
    ----------
    device : optional
        Accepted, no effect.

    Returns
    -------
    bool
    """
    return False


# ---- global settings and predicates that scripts call (no effect on NumPy's arithmetic) -------------------

_settings = {"matmul_precision": "highest", "warn_always": False}


def get_float32_matmul_precision():
    """The float32 matmul precision last set (``'highest'`` by default), as ``torch.get_float32_matmul_precision``.

    Returns
    -------
    str
    """
    return _settings["matmul_precision"]


def set_float32_matmul_precision(precision):
    """Records the float32 matmul precision, as ``torch.set_float32_matmul_precision``.

    NumPy's BLAS always computes float32 products in float32 (``'highest'``); ``'high'`` and
    ``'medium'`` (TF32/bfloat16 on GPUs in torch) are accepted and only reported back. An unknown
    value warns and changes nothing, as torch.

    Parameters
    ----------
    precision : str
        ``'highest'``, ``'high'`` or ``'medium'``.
    """
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning, stacklevel=2)
        return
    _settings["matmul_precision"] = precision


def set_warn_always(b):
    """Records whether warnings that torch issues once should be issued every time, as ``torch.set_warn_always``.

    Parameters
    ----------
    b : bool
    """
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled():
    """The flag ``set_warn_always`` sets, as ``torch.is_warn_always_enabled``.

    Returns
    -------
    bool
    """
    return _settings["warn_always"]


def set_flush_denormal(mode):
    """Would flush denormal floats to zero, as ``torch.set_flush_denormal``; NumPy cannot, so it returns False.

    Parameters
    ----------
    mode : bool
        Ignored.

    Returns
    -------
    bool
        False: flushing denormals is not supported (torch's answer on a CPU without the feature).
    """
    return False


def set_anomaly_enabled(enabled, check_nan=True):
    """Turns anomaly detection on or off, as ``torch.set_anomaly_enabled`` (``cr.autograd.set_detect_anomaly``).

    Parameters
    ----------
    enabled : bool
        On or off.
    check_nan : bool, optional
        Accepted; chainrule's anomaly mode always checks for NaN and inf.
    """
    _anomaly.set_detect_anomaly(enabled)


def is_anomaly_enabled():
    """True when anomaly detection is on, as ``torch.is_anomaly_enabled``.

    Returns
    -------
    bool
    """
    return _anomaly.is_anomaly_enabled()


def is_anomaly_check_nan_enabled():
    """True when anomaly detection (which checks for NaN) is on, as ``torch.is_anomaly_check_nan_enabled``.

    Returns
    -------
    bool
    """
    return _anomaly.is_anomaly_enabled()


def is_storage(obj):
    """False: chainrule has no storage objects (tensors hold arrays), as ``torch.is_storage`` for a non-storage.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    return False


def is_inference(input):
    """True for a tensor made in ``inference_mode``, as ``torch.is_inference``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    bool
    """
    return input.is_inference()


def is_conj(input):
    """False: a real tensor has no lazy conjugate bit, as ``torch.is_conj`` (also ``Tensor.is_conj``).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    bool
    """
    return False


def is_neg(input):
    """False: a real tensor has no lazy negative bit, as ``torch.is_neg`` (also ``Tensor.is_neg``).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    bool
    """
    return False


def resolve_conj(input):
    """``input`` itself (no lazy conjugation to materialise), as ``torch.resolve_conj`` (also ``Tensor.resolve_conj``).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return input


def resolve_neg(input):
    """``input`` itself (no lazy negation to materialise), as ``torch.resolve_neg`` (also ``Tensor.resolve_neg``).

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return input


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised tensor of shape ``size`` laid out in memory in the dim order ``physical_layout``, as ``torch.empty_permuted``.

    Parameters
    ----------
    size : sequence of ints
        The logical shape.
    physical_layout : sequence of ints
        A permutation of the dims, outermost first (``(0, 2, 3, 1)`` is channels-last for NCHW).
    dtype : dtype, optional
        The default float dtype when None.
    layout : optional
        Strided only.
    device : device, optional
        Where to create it.
    requires_grad : bool, optional
        Make it a leaf that requires grad.
    pin_memory : bool, optional
        Accepted, no effect.

    Returns
    -------
    Tensor
        Its ``stride()`` follows ``physical_layout``, as torch's.
    """
    size = size_args((size,), "empty_permuted")
    order = tuple(physical_layout)
    if len(order) != len(size):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; i.e. "
                           f"len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}")
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"physical_layout must be a permutation of the dims, got {list(order)}")
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    physical = np.empty(tuple(size[i] for i in order), dtype=d.np)
    return _leaf(physical.transpose(tuple(int(i) for i in np.argsort(order))), device, requires_grad)
