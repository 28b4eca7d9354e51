"""The Tensor: an array (NumPy or CuPy), its gradient, and the graph node that produced it.

Methods validate their arguments (raising what PyTorch raises) and hand the arrays to a
primitive in ``chainrule.ops``; nothing here computes a derivative.
"""

import numpy as np

from . import dtypes as _dt
from .autograd import engine as _engine
from .autograd.grad_mode import state as _grad_state
from .autograd.node import note_write
from .backend import namespace, device_of, to_device, parse_device, Device, cuda_support
from .ops import apply, registry as _registry
from .ops import elementwise as E, reduce as R, movement as M, linalg as L

_ndarray = np.ndarray
_scalar_types = (int, float, bool, np.generic)


def _dims(dim, ndim, op):
    """Normalise an int or a tuple of ints to a tuple of non-negative axes, checking the range."""
    if isinstance(dim, (tuple, list)):
        out = tuple(_dim(d, ndim, op) for d in dim)
        if len(set(out)) != len(out):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return out if ndim else ()
    d = _dim(dim, ndim, op)
    return (d,) if ndim else ()  # a 0-dim tensor accepts dim 0 / -1 and has no axis to reduce


def _dim(d, ndim, op):
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError(f"{op}(): argument 'dim' must be int or tuple of ints, not {type(d).__name__}")
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not lo <= d <= hi:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{lo}, {hi}], "
                         f"but got {d})")
    return int(d) % ndim if ndim else 0


def _size_args(size, op="size"):
    """zeros(2, 3) / zeros((2, 3)) / zeros([2, 3]) -> (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element of "
                            f"type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"{op}(): Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


class Size(tuple):
    """torch.Size: a tuple of ints with a torch-like repr."""

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


def _float_only(t, op):
    """softmax-like ops refuse integer/bool input (as torch) instead of promoting it."""
    if t.data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {t.dtype} tensors (pass dtype=chainrule.float32)")
    return t


def _no_bool_pair(a, b, op):
    if a.data.dtype == np.bool_ and (isinstance(b, bool) or isinstance(b, Tensor) and b.data.dtype == np.bool_):
        raise NotImplementedError(f"{op}: not implemented for two bool operands")


def _float_needed(t, op):
    """Elementwise float math on int/bool tensors promotes to the default float dtype."""
    return t if t.data.dtype.kind == "f" else t.to(_dt.get_default_dtype())


class Tensor:
    __slots__ = ("data", "grad", "_rg", "_node", "_meta", "__weakref__")
    __array_ufunc__ = None  # make numpy defer to our reflected operators

    # ---- construction ---------------------------------------------------------------------
    def __init__(self, data, requires_grad=False):
        t = tensor(data, requires_grad=requires_grad)
        self.data, self.grad, self._rg, self._node, self._meta = t.data, None, t._rg, None, None

    @staticmethod
    def _make(data, node=None):
        t = _new(Tensor)
        t.data = data
        t.grad = None
        t._rg = node is not None
        t._node = node
        t._meta = None
        return t

    # ---- attributes -----------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self.data.shape)

    @property
    def dtype(self):
        return _dt.from_numpy(self.data.dtype)

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    def size(self, dim=None):
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[_dim(dim, self.data.ndim, "size")]

    def numel(self):
        return int(self.data.size)

    nelement = numel

    def element_size(self):
        return self.data.itemsize

    @property
    def device(self):
        return device_of(self.data)

    @property
    def is_cuda(self):
        return type(self.data) is not _ndarray

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def T(self):
        return self.permute(tuple(range(self.data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    @property
    def name(self):
        return None if self._meta is None else self._meta.get("name")

    @name.setter
    def name(self, value):
        self._set_meta("name", value)

    def _set_meta(self, key, value):
        if self._meta is None:
            self._meta = {}
        self._meta[key] = value

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def requires_grad_(self, requires_grad=True):
        if self._node is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want "
                               "to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got {self.dtype})")
        if self._node is None:
            self._rg = bool(requires_grad)
        return self

    # ---- conversion -----------------------------------------------------------------------
    def numpy(self, force=False):
        if type(self.data) is not _ndarray:
            if force:
                return to_device(self.data, Device.CPU)
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self.data

    def __array__(self, dtype=None, copy=None):
        a = to_device(self.data, Device.CPU)
        return a if dtype is None else a.astype(dtype)

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"a Tensor with {self.data.size} elements cannot be converted to Scalar")
        return self.data.reshape(()).item() if type(self.data) is _ndarray else self.data.item()

    def tolist(self):
        return to_device(self.data, Device.CPU).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def detach(self):
        return Tensor._make(self.data)

    def detach_(self):
        if self._node is not None and self._meta and self._meta.get("view"):
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._node = None
        self._rg = False
        return self

    def clone(self):
        return apply(E.Clone, self)

    def contiguous(self):
        return self

    def to(self, *args, **kwargs):
        """to(dtype) / to(device) / to(device, dtype) / to(other_tensor), as torch."""
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, Tensor):
                dev, dtype = a.device, a.dtype
            elif isinstance(a, (str, Device, int)) and not isinstance(a, bool):
                dev = a
            else:
                dtype = a
        out = self
        if dev is not None:
            dev = parse_device(dev)
            if dev != self.device:
                if dev.type == "cuda":
                    cuda_support.require(dev)
                out = apply(ToDevice, out, device=dev)
        if dtype is not None:
            dtype = _dt.to_dtype(dtype)
            if dtype.np != out.data.dtype:
                out = apply(E.Cast, out, dtype=dtype.np)
                if not dtype.is_floating_point:  # integer/bool results carry no gradient
                    out = Tensor._make(out.data)
        if copy and out is self:
            out = self.clone()
        return out

    def astype(self, np_dtype):  # the engine's cast, also under create_graph
        return self.to(_dt.from_numpy(np.dtype(np_dtype)))

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    def long(self):
        return self.to(_dt.int64)

    def int(self):
        return self.to(_dt.int32)

    def bool(self):
        return self.to(_dt.bool_)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else parse_device(device if not isinstance(device, int)
                                                                  else f"cuda:{device}"))

    # ---- autograd -------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if not self._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if inputs is not None:
            raise NotImplementedError("backward(inputs=...) is not supported; use chainrule.autograd.grad")
        g = _root_grad(self, gradient, create_graph, "backward")
        _engine.run_backward([self], [g], create_graph if retain_graph is None else retain_graph,
                             create_graph)

    def register_hook(self, hook):
        """hook(grad) -> new grad or None, run when this tensor's gradient is computed."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is None:
            if self._meta is None or "hooks" not in self._meta:
                self._set_meta("hooks", [])
            self._meta["hooks"].append(hook)
        else:
            self._node.register_hook(hook)
            hooks = self._node.hooks
            retain = [h for h in hooks if isinstance(h, _RetainGrad)]
            if retain:  # torch runs the retain_grad hook after all others
                hooks.remove(retain[0])
                hooks.append(retain[0])
        return _HookHandle(self, hook)

    def retain_grad(self):
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is None or (self._meta and self._meta.get("retains_grad")):
            return
        self._set_meta("retains_grad", True)
        self._node.register_hook(_RetainGrad(self))

    @property
    def retains_grad(self):
        return bool(self._meta and self._meta.get("retains_grad"))

    # ---- arithmetic -----------------------------------------------------------------------
    def __add__(self, other):
        return _binary(E.Add, self, other, "add")

    def __radd__(self, other):
        return _binary(E.Add, other, self, "add")

    def __sub__(self, other):
        return _binary(E.Sub, self, other, "sub")

    def __rsub__(self, other):
        return _binary(E.Sub, other, self, "sub")

    def __mul__(self, other):
        return _binary(E.Mul, self, other, "mul")

    def __rmul__(self, other):
        return _binary(E.Mul, other, self, "mul")

    def __truediv__(self, other):
        return _binary(E.Div, self, other, "div")

    def __rtruediv__(self, other):
        return _binary(E.Div, other, self, "div")

    def __pow__(self, other):
        return _binary(E.Pow, self, other, "pow")

    def __rpow__(self, other):
        return _binary(E.Pow, other, self, "pow")

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        if self.data.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                               "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        return apply(E.Neg, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __invert__(self):
        if self.data.dtype.kind not in "iub":
            raise TypeError(f"~ (bitwise_not) is only supported for integer and bool tensors, got {self.dtype}")
        return _plain(~self.data)

    def __and__(self, other):
        return _logical(self, other, "__and__")

    def __or__(self, other):
        return _logical(self, other, "__or__")

    def __xor__(self, other):
        return _logical(self, other, "__xor__")

    __rand__ = __and__
    __ror__ = __or__

    def __floordiv__(self, other):
        _no_bool_pair(self, other, "floor_divide")
        return _compare(self, other, "__floordiv__", keep_dtype=True)

    def __mod__(self, other):
        _no_bool_pair(self, other, "remainder")
        return _compare(self, other, "__mod__", keep_dtype=True)

    # comparisons: bool results, no gradient
    def __eq__(self, other):
        return _compare(self, other, "__eq__")

    def __ne__(self, other):
        return _compare(self, other, "__ne__")

    def __lt__(self, other):
        return _compare(self, other, "__lt__")

    def __le__(self, other):
        return _compare(self, other, "__le__")

    def __gt__(self, other):
        return _compare(self, other, "__gt__")

    def __ge__(self, other):
        return _compare(self, other, "__ge__")

    __hash__ = object.__hash__

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def equal(self, other):
        return self.shape == other.shape and bool((self.data == other.data).all())

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(namespace(self.data).allclose(self.data, other.data, rtol, atol, equal_nan))

    def isnan(self):
        return _plain(namespace(self.data).isnan(self.data))

    def isfinite(self):
        return _plain(namespace(self.data).isfinite(self.data))

    def logical_not(self):
        return _plain(namespace(self.data).logical_not(self.data))

    def add(self, other, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return -self

    # ---- elementwise math -----------------------------------------------------------------
    def exp(self):
        return apply(E.Exp, _float_needed(self, "exp"))

    def log(self):
        return apply(E.Log, _float_needed(self, "log"))

    def sqrt(self):
        return apply(E.Sqrt, _float_needed(self, "sqrt"))

    def rsqrt(self):
        return 1 / self.sqrt()

    def sin(self):
        return apply(E.Sin, _float_needed(self, "sin"))

    def cos(self):
        return apply(E.Cos, _float_needed(self, "cos"))

    def tanh(self):
        return apply(E.Tanh, _float_needed(self, "tanh"))

    def sigmoid(self):
        return apply(E.Sigmoid, _float_needed(self, "sigmoid"))

    def relu(self):
        if self.data.dtype == np.bool_:
            raise RuntimeError("relu: \"clamp_min_scalar_cpu\" not implemented for 'Bool'")
        return apply(E.Relu, self)

    def abs(self):
        if self.data.dtype == np.bool_:
            raise NotImplementedError("abs: \"abs_cpu\" not implemented for 'Bool'")
        return apply(E.Abs, self)

    def sign(self):
        if self.data.dtype == np.bool_:  # NumPy has no bool sign loop; sign(b) is b
            return _plain(self.data.copy())
        return _plain(namespace(self.data).sign(self.data))

    def square(self):
        return self * self if self.data.dtype != np.bool_ else self ** 2  # bool squares to int64

    def reciprocal(self):
        return 1 / self

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            # where, not maximum/minimum: at a tie the gradient goes to self, as in torch
            out = self
            if min is not None:
                out = where(out < min, min, out)
            if max is not None:
                out = where(out > max, max, out)
            return out
        t = self if (self.data.dtype.kind == "f" or not any(isinstance(v, float) for v in (min, max))) \
            else self.to(_dt.get_default_dtype())
        return apply(E.Clamp, t, lo=min, hi=max)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    # ---- reductions -----------------------------------------------------------------------
    def _axes(self, dim, op):
        """None (all axes) for dim=None or an empty tuple/list, as torch's reductions."""
        return None if dim is None or (isinstance(dim, (tuple, list)) and not dim) else _dims(dim, self.data.ndim, op)

    def sum(self, dim=None, keepdim=False, dtype=None):
        t = self if dtype is None else self.to(dtype)
        if t.data.dtype.kind in "biu":
            t = t.to(_dt.int64)
        return apply(R.Sum, t, axes=t._axes(dim, "sum"), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        t = self if dtype is None else self.to(dtype)
        if t.data.dtype.kind != "f":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                               f"floating point or complex dtype. Got: {t.dtype}")
        return apply(R.Mean, t, axes=t._axes(dim, "mean"), keepdim=keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        if self.data.dtype.kind != "f":
            raise RuntimeError(f"var(): input dtype should be floating point, got {self.dtype}")
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        axes = self._axes(dim, "var")
        n = self.data.size if axes is None else int(np.prod([self.data.shape[a] for a in axes]))
        centered = self - self.mean(dim=axes, keepdim=True)
        return (centered * centered).sum(dim=axes, keepdim=keepdim) / max(n - correction, 0)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return apply(E.NormSqrt, self.var(dim, unbiased, keepdim, correction))

    def prod(self, dim=None, keepdim=False):
        t = self.to(_dt.int64) if self.data.dtype.kind in "biu" else self
        if dim is not None and not isinstance(dim, int):
            raise TypeError("prod(): argument 'dim' must be int")
        return apply(R.Prod, t, axes=t._axes(dim, "prod"), keepdim=keepdim)

    def _extreme(self, dim, keepdim, minimum, op):
        if dim is None:
            if self.data.size == 0:
                raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument.")
            return apply(R.Amax, self, axes=None, keepdim=False, minimum=minimum)
        if isinstance(dim, Tensor):  # max(a, b) spelled as a.max(b)
            return (minimum_ if minimum else maximum)(self, dim)
        axis = _dim(dim, self.data.ndim, op)
        xp = namespace(self.data)
        if self.data.ndim == 0:
            return _MinMax(apply(R.Amax, self, axes=(), keepdim=False, minimum=minimum),
                           Tensor._make(xp.zeros((), dtype=np.int64)))
        if self.data.shape[axis] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {dim} to have non-zero size.")
        values = apply(R.MaxDim, self, axis=axis, keepdim=keepdim, minimum=minimum)
        idx = (xp.argmin if minimum else xp.argmax)(self.data, axis=axis, keepdims=keepdim)
        return _MinMax(values, _plain(idx.astype(np.int64)))

    def max(self, dim=None, keepdim=False):
        return self._extreme(dim, keepdim, False, "max")

    def min(self, dim=None, keepdim=False):
        return self._extreme(dim, keepdim, True, "min")

    def amax(self, dim=(), keepdim=False):
        axes = None if dim == () or dim is None else _dims(dim, self.data.ndim, "amax")
        return apply(R.Amax, self, axes=axes, keepdim=keepdim, minimum=False)

    def amin(self, dim=(), keepdim=False):
        axes = None if dim == () or dim is None else _dims(dim, self.data.ndim, "amin")
        return apply(R.Amax, self, axes=axes, keepdim=keepdim, minimum=True)

    def argmax(self, dim=None, keepdim=False):
        return self._arg(dim, keepdim, "argmax")

    def argmin(self, dim=None, keepdim=False):
        return self._arg(dim, keepdim, "argmin")

    def _arg(self, dim, keepdim, op):
        if self.data.dtype == np.bool_:
            raise RuntimeError(f"{op}(): does not support bool input")
        xp = namespace(self.data)
        if dim is None:
            idx = getattr(xp, op)(self.data)
            return Tensor._make(xp.asarray(idx, dtype=np.int64).reshape((1,) * self.data.ndim if keepdim else ()))
        axis = _dim(dim, self.data.ndim, op)
        return _plain(getattr(xp, op)(self.data, axis=axis, keepdims=keepdim).astype(np.int64))

    def all(self, dim=None, keepdim=False):
        xp = namespace(self.data)
        return Tensor._make(xp.asarray(xp.all(self.data, axis=self._axes(dim, "all"), keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        xp = namespace(self.data)
        return Tensor._make(xp.asarray(xp.any(self.data, axis=self._axes(dim, "any"), keepdims=keepdim)))

    def logsumexp(self, dim, keepdim=False):
        t = _float_needed(self, "logsumexp")
        return apply(R.LogSumExp, t, axes=_dims(dim, self.data.ndim, "logsumexp"), keepdim=keepdim)

    def softmax(self, dim, dtype=None):
        t = _float_only(self if dtype is None else self.to(dtype), "softmax")
        return apply(R.Softmax, t, axis=_dim(dim, self.data.ndim, "softmax"))

    def log_softmax(self, dim, dtype=None):
        t = _float_only(self if dtype is None else self.to(dtype), "log_softmax")
        return apply(R.LogSoftmax, t, axis=_dim(dim, self.data.ndim, "log_softmax"))

    def norm(self, p=2, dim=None, keepdim=False):
        if self.data.dtype.kind != "f":
            raise RuntimeError(f"norm: Expected a floating point tensor as input. Got {self.dtype}")
        if p == 2:
            return apply(E.NormSqrt, (self * self).sum(dim, keepdim))
        if p == 1:
            return self.abs().sum(dim, keepdim)
        if p == float("inf"):
            return self.abs().amax(dim if dim is not None else (), keepdim)
        return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)

    # ---- shape ----------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = _infer_shape(_size_args_neg(shape), self.data.size, self.data.shape, "reshape")
        if shape == self.data.shape:
            return self
        return apply(M.Reshape, self, shape=shape)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, Size)):
            return self.to(shape[0])
        return self.reshape(*shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self.data.ndim
        if nd == 0:
            return self.reshape(1)
        s, e = _dim(start_dim, nd, "flatten"), _dim(end_dim, nd, "flatten")
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shp = self.data.shape
        return self.reshape(shp[:s] + (-1,) + shp[e + 1:]) if shp[s:e + 1] else self.reshape(shp[:s] + (1,) + shp[e + 1:])

    def unflatten(self, dim, sizes):
        d = _dim(dim, self.data.ndim, "unflatten")
        shp = self.data.shape
        return self.reshape(shp[:d] + tuple(sizes) + shp[d + 1:])

    def squeeze(self, dim=None):
        shp = self.data.shape
        if dim is None:
            return self.reshape(tuple(n for n in shp if n != 1))
        axes = _dims(dim, self.data.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(shp) if not (i in axes and n == 1)))

    def unsqueeze(self, dim):
        d = _dim(dim, self.data.ndim + 1, "unsqueeze")
        shp = self.data.shape
        return self.reshape(shp[:d] + (1,) + shp[d:])

    def transpose(self, dim0, dim1):
        nd = self.data.ndim
        a, b = _dim(dim0, nd, "transpose"), _dim(dim1, nd, "transpose")
        if a == b:
            return self
        dims = list(range(nd))
        dims[a], dims[b] = b, a
        return apply(M.Permute, self, dims=tuple(dims))

    swapaxes = transpose

    def t(self):
        if self.data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.data.ndim}D")
        return self.transpose(0, 1) if self.data.ndim == 2 else self

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        nd = self.data.ndim
        if len(dims) != nd:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                               f"match the length of the desired ordering of dimensions i.e. input.dim() "
                               f"= {nd} is not equal to len(dims) = {len(dims)}")
        norm = _dims(tuple(dims), nd, "permute")
        return apply(M.Permute, self, dims=norm)

    def expand(self, *sizes):
        sizes = _size_args_neg(sizes)
        shp = self.data.shape
        if len(sizes) < len(shp):
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
                               f"equal to the number of dimensions in the tensor ({len(shp)})")
        lead = len(sizes) - len(shp)
        target = []
        for i, s in enumerate(sizes):
            cur = shp[i - lead] if i >= lead else None
            if s == -1:
                if cur is None:
                    raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension {i}")
                s = cur
            elif cur is not None and cur != s and cur != 1:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                                   f"({cur}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                                   f"Tensor sizes: {list(shp)}")
            target.append(s)
        target = tuple(target)
        if target == shp:
            return self
        return apply(M.Expand, self, shape=target)

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def repeat(self, *sizes):
        reps = _size_args(sizes, "repeat")
        if len(reps) < self.data.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                               "dimensions of tensor")
        return apply(M.Repeat, self, reps=reps)

    def split(self, split_size_or_sections, dim=0):
        d = _dim(dim, self.data.ndim, "split")
        n = self.data.shape[d]
        if isinstance(split_size_or_sections, int):
            if split_size_or_sections <= 0 and n:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
            step = split_size_or_sections
            sizes = [min(step, n - s) for s in range(0, n, step)] if n else [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                                   f"size at dimension {d}), but got split_sizes={sizes}")
        out, start = [], 0
        lead = (slice(None),) * d
        for s in sizes:
            out.append(self[lead + (slice(start, start + s),)])
            start += s
        return tuple(out)

    def chunk(self, chunks, dim=0):
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        n = self.data.shape[_dim(dim, self.data.ndim, "chunk")]
        return self.split(max(-(-n // chunks), 1), dim)

    def unbind(self, dim=0):
        d = _dim(dim, self.data.ndim, "unbind")
        lead = (slice(None),) * d
        return tuple(self[lead + (i,)] for i in range(self.data.shape[d]))

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __getitem__(self, key):
        key, basic = _index_key(self, key)
        keys = _torch_order(key, basic)
        if len(keys) == 2:
            return apply(M.Index, apply(M.Index, self, key=keys[0], basic=True), key=keys[1], basic=False)
        return apply(M.Index, self, key=key, basic=basic)

    def __setitem__(self, key, value):
        _check_inplace(self, "index_put_")
        key, basic = _index_key(self, key)
        keys = _torch_order(key, basic)
        v = value.data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor):
            _same_device(self, value, "index_put_")
        try:
            if _grad_state.enabled and (self._rg or isinstance(value, Tensor) and value._rg):
                self._record_put(keys, value)
            else:
                M._put(self.data, keys, v)
                note_write(self.data)
        except ValueError:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be "
                               f"broadcast to indexing result of shape {list(self.data[key].shape)}") from None

    def _record_put(self, keys, value):
        """A differentiable ``self[keys] = value``: self becomes IndexPut(self, value) in the graph."""
        if isinstance(value, Tensor) and value.data.dtype != self.data.dtype:
            value = value.to(self.dtype)
        self._inplace(apply(M.IndexPut, self, value, keys=keys), "index_put_")

    # ---- matrix ---------------------------------------------------------------------------
    def matmul(self, other):
        return matmul(self, other)

    def mm(self, other):
        if self.data.ndim != 2 or other.data.ndim != 2:
            raise RuntimeError(f"mm: self must be a matrix (got {self.data.ndim}-D and {other.data.ndim}-D)")
        return matmul(self, other)

    def bmm(self, other):
        if self.data.ndim != 3 or other.data.ndim != 3:
            raise RuntimeError(f"bmm: batch1 must be a 3D tensor (got {self.data.ndim}-D and {other.data.ndim}-D)")
        if self.data.shape[0] != other.data.shape[0]:
            raise RuntimeError(f"bmm: batch1 and batch2 must have same number of batches, got "
                               f"{self.data.shape[0]} and {other.data.shape[0]}")
        return matmul(self, other)

    def dot(self, other):
        if self.data.ndim != 1 or other.data.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {self.data.ndim}D and {other.data.ndim}D tensors")
        return matmul(self, other)

    # ---- in place (data updates for optimizers and init) -----------------------------------
    def _inplace(self, result, op):
        """Store ``result`` (a Tensor computed out of place) into self."""
        _check_inplace(self, op)
        if result.data.dtype != self.data.dtype and not np.can_cast(result.data.dtype, self.data.dtype, "same_kind"):
            raise RuntimeError(f"{op}: result type {result.dtype.name.capitalize()} can't be cast to the "
                               f"desired output type {self.dtype.name.capitalize()}")
        if result.data.shape != self.data.shape:
            raise RuntimeError(f"{op}: output with shape {list(self.data.shape)} doesn't match the "
                               f"broadcast shape {list(result.data.shape)}")
        if _grad_state.enabled and result._node is not None:
            # recorded in-place op: self becomes the new graph value (old arrays stay intact for
            # the backward of ops that saved them)
            if result.data.dtype != self.data.dtype:
                result = result.to(self.dtype)
            self.data, self._node, self._rg = result.data, result._node, True
            return self
        namespace(self.data).copyto(self.data, result.data, casting="unsafe")
        note_write(self.data)
        return self

    def add_(self, other, alpha=1):
        return self._inplace(self.add(other, alpha=alpha), "add_")

    def sub_(self, other, alpha=1):
        return self._inplace(self.sub(other, alpha=alpha), "sub_")

    def mul_(self, other):
        return self._inplace(self * other, "mul_")

    def div_(self, other):
        return self._inplace(self / other, "div_")

    # x += y is in place, as in torch (`with no_grad(): w -= lr * w.grad` updates the parameter)
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def pow_(self, other):
        return self._inplace(self ** other, "pow_")

    def clamp_(self, min=None, max=None):
        return self._inplace(self.clamp(min, max), "clamp_")

    def neg_(self):
        return self._inplace(-self, "neg_")

    def sqrt_(self):
        return self._inplace(self.sqrt(), "sqrt_")

    def exp_(self):
        return self._inplace(self.exp(), "exp_")

    def relu_(self):
        return self._inplace(self.relu(), "relu_")

    def zero_(self):
        _check_inplace(self, "zero_")
        return self.fill_(0)

    def fill_(self, value):
        _check_inplace(self, "fill_")
        self.data[...] = value.item() if isinstance(value, Tensor) else value
        note_write(self.data)
        return self

    def copy_(self, src):
        _check_inplace(self, "copy_")
        src_data = src.data if isinstance(src, Tensor) else np.asarray(src)
        try:
            b = np.broadcast_shapes(np.shape(src_data), self.data.shape)
        except ValueError:
            b = None
        if b != self.data.shape:
            raise RuntimeError(f"copy_: the size of src {list(np.shape(src_data))} does not broadcast to "
                               f"self {list(self.data.shape)}")
        if _grad_state.enabled and (self._node is not None or isinstance(src, Tensor) and src._rg):
            self._record_put(((Ellipsis,),), src if isinstance(src, Tensor) else tensor(src_data))
            return self
        xp = namespace(self.data)
        xp.copyto(self.data, to_device(src_data, self.device) if hasattr(src_data, "shape") else src_data,
                  casting="unsafe")
        note_write(self.data)
        return self

    def uniform_(self, a=0.0, b=1.0):
        _check_inplace(self, "uniform_")
        from .random import uniform_array
        self.data[...] = uniform_array(self.data.shape, a, b, self.data.dtype, self.device)
        note_write(self.data)
        return self

    def normal_(self, mean=0.0, std=1.0):
        _check_inplace(self, "normal_")
        from .random import normal_array
        self.data[...] = normal_array(self.data.shape, mean, std, self.data.dtype, self.device)
        note_write(self.data)
        return self

    # ---- repr -----------------------------------------------------------------------------
    def __repr__(self):
        data = to_device(self.data, Device.CPU)
        kind = data.dtype.kind
        opts = dict(separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
        if kind == "f":
            finite = data[np.isfinite(data)]
            if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
                opts["formatter"] = {"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)}
            else:
                opts["precision"] = 4
                opts["floatmode"] = "fixed"
        elif kind == "b":  # torch pads True only when a False sets the column width
            width = 4 if data.all() else 5
            opts["formatter"] = {"bool": lambda v: f"{v!s:>{width}}"}
        body = np.array2string(data, **opts) if data.ndim else (
            repr(data.item()) if kind != "f" else np.array2string(data, **{k: v for k, v in opts.items() if k != "prefix"}))
        extras = []
        if type(self.data) is not _ndarray:
            extras.append(f"device='{self.device}'")
        if data.size == 0 and data.ndim != 1:
            extras.append(f"size={tuple(data.shape)}")
        if self.dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_) or (data.size == 0 and self.dtype is not _dt.get_default_dtype()):
            extras.append(f"dtype={self.dtype!r}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name()}>")
        elif self._rg:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__

    def __format__(self, spec):
        if self.data.ndim == 0:
            return format(self.item(), spec)
        return repr(self)


_new = object.__new__
_dt._tensor_type = Tensor


def _plain(result):
    """A graph-free tensor from a raw array result (ufuncs on 0-d arrays return NumPy scalars)."""
    return Tensor._make(result if not isinstance(result, np.generic) else np.asarray(result))


class _MinMax(tuple):
    """(values, indices) as returned by max(dim)/min(dim)."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


class _RetainGrad:
    """The hook retain_grad() puts on a non-leaf: stores the gradient on the tensor (weakly held)."""
    __slots__ = ("ref",)

    def __init__(self, t):
        import weakref
        self.ref = weakref.ref(t)

    def __call__(self, g):
        t = self.ref()
        if t is not None:
            if t.grad is None:
                t.grad = g if g._node is not None else Tensor._make(g.data.copy())
            else:
                t.grad = t.grad + g
        return None


class _HookHandle:
    def __init__(self, t, hook):
        self.t, self.hook = t, hook

    def remove(self):
        hooks = self.t._node.hooks if self.t._node is not None else (self.t._meta or {}).get("hooks", [])
        if hooks and self.hook in hooks:
            hooks.remove(self.hook)


class ToDevice(E.Op):
    """out = x on another device;  dx = g moved back"""
    @staticmethod
    def forward(ctx, xp, x, device):
        ctx.saved = device_of(x)
        return to_device(x, device)

    @staticmethod
    def backward(ctx, xp, g, out):
        if isinstance(g, Tensor):
            return (g.to(ctx.saved),)
        return (to_device(g, ctx.saved),)


# ---- helpers used by the methods above ----------------------------------------------------

def _check_inplace(t, op):
    if t._node is None and t._rg and _grad_state.enabled:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def _same_device(a, b, op):
    if (type(a.data) is _ndarray) != (type(b.data) is _ndarray) or a.device != b.device:
        raise RuntimeError(f"{op}: Expected all tensors to be on the same device, but found at least two "
                           f"devices, {a.device} and {b.device}!")


def _broadcast_error(a, b, op):
    sa, sb = tuple(np.shape(getattr(a, "data", a))), tuple(np.shape(getattr(b, "data", b)))
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(f"{op}: The size of tensor a ({pa[i]}) must match the size of tensor b "
                                f"({pb[i]}) at non-singleton dimension {i} (shapes {list(sa)} and {list(sb)})")
    return RuntimeError(f"{op}: shapes {list(sa)} and {list(sb)} cannot be broadcast together")


def _as_tensor_operand(x, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, _scalar_types):
        return x.item() if isinstance(x, np.generic) else x
    if isinstance(x, _ndarray) or (hasattr(x, "__cuda_array_interface__")):
        return Tensor._make(x)
    if isinstance(x, (list, tuple)):
        return tensor(x)
    raise TypeError(f"{op}(): unsupported operand type {type(x).__name__}")


def _binary(op, a, b, name):
    """Apply a binary arithmetic op with torch's promotion and broadcasting errors."""
    # fast path: float tensors of one dtype, or a float tensor and a Python number
    if isinstance(a, Tensor):
        da = a.data.dtype
        fast = da.kind == "f" and (type(b) in _NUMBER or isinstance(b, Tensor) and b.data.dtype is da)
    else:
        fast = type(a) in _NUMBER and isinstance(b, Tensor) and b.data.dtype.kind == "f"
    if fast:
        try:
            return apply(op, a, b)
        except ValueError:
            raise _broadcast_error(a, b, name) from None
    return _binary_promoting(op, a, b, name)


_NUMBER = (float, int)


def _binary_promoting(op, a, b, name):
    if op is E.Pow and _is_bool(a) and _is_bool(b):
        raise NotImplementedError("pow: \"pow\" not implemented for 'Bool' (both operands are bool)")
    if op is E.Sub and (_is_bool(a) or _is_bool(b)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    if type(a) is Tensor and type(b) is Tensor:
        if a.data.dtype is not b.data.dtype:
            a, b = _promote(a, b, name)
    else:
        a, b = _as_tensor_operand(a, name), _as_tensor_operand(b, name)
        a, b = _promote(a, b, name)
    if op is E.Div and not _is_float(a) and not _is_float(b):  # true division: int / int -> float
        f = _dt.get_default_dtype()
        a = a.to(f) if isinstance(a, Tensor) else float(a)
        b = b.to(f) if isinstance(b, Tensor) else float(b)
    elif op is E.Pow and isinstance(b, int) and b < 0 and isinstance(a, Tensor) and a.data.dtype.kind in "iub":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    try:
        return apply(op, a, b)
    except ValueError:
        raise _broadcast_error(a, b, name) from None


def _is_float(x):
    return x.data.dtype.kind == "f" if isinstance(x, Tensor) else isinstance(x, float)


def _is_bool(x):
    return x.data.dtype == np.bool_ if isinstance(x, Tensor) else isinstance(x, bool)


def _promote(a, b, name):
    """Cast tensor operands to the torch result dtype; scalars stay Python numbers."""
    res = _dt.result_type(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        _same_device(a, b, name)
    if isinstance(a, Tensor) and a.data.dtype != res.np:
        a = a.to(res)
    if isinstance(b, Tensor) and b.data.dtype != res.np:
        b = b.to(res)
    return a, b


def _compare(a, b, method, keep_dtype=False):
    b = _as_tensor_operand(b, method.strip("_"))
    if isinstance(b, Tensor):
        _same_device(a, b, method.strip("_"))
        a_, b_ = _promote(a, b, method.strip("_")) if keep_dtype else (a, b)
        a_d, b_d = a_.data, b_.data
    else:
        a_d, b_d = (_promote(a, b, method.strip("_"))[0].data if keep_dtype else a.data), b
    try:
        return _plain(getattr(a_d, method)(b_d))
    except ValueError:
        raise _broadcast_error(a, b, method.strip("_")) from None


def _logical(a, b, method):
    b = _as_tensor_operand(b, method.strip("_"))
    bd = b.data if isinstance(b, Tensor) else b
    if a.data.dtype.kind == "f" or getattr(bd, "dtype", np.dtype(int)).kind == "f" or isinstance(bd, float):
        raise RuntimeError(f"\"{method.strip('_')}\" not implemented for floating point tensors")
    try:
        return _plain(getattr(a.data, method)(bd))
    except ValueError:
        raise _broadcast_error(a, b, method.strip("_")) from None


def _size_args_neg(shape):
    """Like _size_args but allows a single -1 (reshape/expand)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"shape must be a sequence of ints, but found element of type {type(s).__name__}")
    return tuple(int(s) for s in shape)


def _infer_shape(shape, size, old, op):
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or size % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        if s < 0:
            raise RuntimeError(f"{op}: invalid shape dimension {s}")
        n *= s
    if n != size:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {size} "
                           f"(input shape {list(old)})")
    return shape


def _index_key(t, key):
    """Validate an index and convert it for the array: (key, basic?)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    dim = 0
    nd = t.data.ndim
    n_specified = sum(1 for k in key if k is not None and k is not Ellipsis
                      and not (isinstance(k, Tensor) and k.data.dtype == np.bool_)) + sum(
        k.data.ndim for k in key if isinstance(k, Tensor) and k.data.dtype == np.bool_)
    if n_specified > nd:
        raise IndexError(f"index: too many indices for tensor of dimension {nd}")
    for k in key:
        if k is None:
            out.append(None)
            continue
        if k is Ellipsis:
            out.append(k)
            dim = nd - (n_specified - dim)
            continue
        if isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("index: step must be greater than zero")
            out.append(k)
            dim += 1
            continue
        if isinstance(k, bool):
            raise IndexError("index: indexing with a Python bool is not supported")
        if isinstance(k, (int, np.integer)):
            size = t.data.shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
            out.append(int(k))
            dim += 1
            continue
        # advanced: Tensor, list, ndarray
        if isinstance(k, Tensor):
            arr = k.data
        else:
            arr = np.asarray(k)
            if arr.dtype == object or (arr.size == 0 and arr.dtype.kind == "f"):
                arr = arr.astype(np.int64) if arr.size == 0 else arr
        if arr.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors (got {arr.dtype})")
        basic = False
        if arr.dtype == np.bool_:
            if arr.shape != t.data.shape[dim:dim + arr.ndim]:
                raise IndexError(f"The shape of the mask {list(arr.shape)} at index {dim} does not match the "
                                 f"shape of the indexed tensor {list(t.data.shape[dim:dim + arr.ndim])}")
            dim += arr.ndim
        else:
            size = t.data.shape[dim]
            if arr.size:
                lo, hi = int(arr.min()), int(arr.max())
                if lo < -size or hi >= size:
                    bad = hi if hi >= size else lo
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
            dim += 1
        if type(t.data) is not type(arr):
            arr = to_device(arr, t.device)
        out.append(arr)
    return tuple(out), basic


def _torch_order(key, basic):
    """(key,), or (ints and slices, index arrays) where a key mixes integers with index arrays.

    torch applies integer indices first (as select), then the index arrays; NumPy would treat the
    integers as index arrays too and could move the broadcast dims to the front.
    """
    if basic or not any(type(k) is int for k in key):
        return (key,)
    first, rest = [], []
    for k in key:
        if hasattr(k, "dtype"):  # an index array or mask: its dims stay for the second step
            first += [slice(None)] * (k.ndim if k.dtype == np.bool_ else 1)
            rest.append(k)
        else:
            first.append(k)
            if type(k) is not int:
                rest.append(k if k is Ellipsis else slice(None))
    return tuple(first), tuple(rest)


def _root_grad(t, gradient, create_graph, op):
    if gradient is None:
        if t.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs (got shape "
                               f"{list(t.data.shape)})")
        g = namespace(t.data).empty(t.data.shape, t.data.dtype)
        g.fill(1)
        return Tensor._make(g) if create_graph else g
    if not isinstance(gradient, Tensor):
        gradient = tensor(gradient, dtype=t.dtype)
    if gradient.data.shape != t.data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {list(gradient.data.shape)} "
                           f"and output[0] has a shape of {list(t.data.shape)}.")
    if create_graph:
        return gradient
    return gradient.data.astype(t.data.dtype, copy=True)


# ---- functions ----------------------------------------------------------------------------

def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor copying ``data`` (nested lists, scalars, arrays or tensors)."""
    if isinstance(data, Tensor):
        arr = data.data.copy()
    elif hasattr(data, "__cuda_array_interface__"):
        arr = data.copy()
    else:
        arr = _to_array(data)
    if dtype is not None:
        arr = arr.astype(_dt.to_dtype(dtype).np, copy=False)
    elif arr.dtype.kind == "f" and not isinstance(data, (np.ndarray, np.generic, Tensor)):
        arr = arr.astype(_dt.get_default_dtype().np, copy=False)
    else:
        _dt.from_numpy(arr.dtype)  # raises for unsupported dtypes
    dev = parse_device(device)
    if dev is not None:
        if dev.type == "cuda":
            cuda_support.require(dev)
        arr = to_device(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _to_array(data):
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _untensor(data)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"tensor(): could not build a tensor from the given data ({e})") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__} "
                        "(expected numbers, booleans or nested sequences of them with a regular shape)")
    if arr.dtype.kind == "i" and arr.dtype != np.int64:
        arr = arr.astype(np.int64) if not isinstance(data, (np.ndarray, np.generic)) else arr
    return arr


def _flat(x):
    for v in x:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _untensor(x):
    if isinstance(x, Tensor):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_untensor(v) for v in x]
    return x


def matmul(a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not "
                        f"{type(b if isinstance(a, Tensor) else a).__name__}")
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.data.ndim}D and {b.data.ndim}D")
    if a.data.dtype is not b.data.dtype:
        if a.data.dtype != b.data.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
    if a.data.dtype == np.bool_:
        raise NotImplementedError("matmul: not implemented for bool tensors")
    ka = a.data.shape[-1]
    kb = b.data.shape[-2] if b.data.ndim > 1 else b.data.shape[0]
    if ka != kb:
        sa = list(a.data.shape) if a.data.ndim > 1 else [1] + list(a.data.shape)
        raise RuntimeError(f"matmul: mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, sa[-2:]))} "
                           f"and {'x'.join(map(str, b.data.shape[-2:] if b.data.ndim > 1 else (kb, 1)))}); "
                           f"shapes {list(a.data.shape)} and {list(b.data.shape)}")
    _same_device(a, b, "matmul")
    try:
        return apply(L.Matmul, a, b)
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {list(a.data.shape)} and {list(b.data.shape)} "
                           "cannot be broadcast") from None


def _elementwise_pair(op, a, b, name):
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{name}(): expected at least one Tensor argument")
    if not isinstance(a, Tensor):
        a = tensor(a, dtype=b.dtype, device=b.device)
    if not isinstance(b, Tensor):
        b = tensor(b, dtype=a.dtype, device=a.device)
    return _binary(op, a, b, name)


def maximum(a, b):
    return _elementwise_pair(E.Maximum, a, b, "maximum")


def minimum(a, b):
    return _elementwise_pair(E.Minimum, a, b, "minimum")


minimum_ = minimum


def where(condition, input=None, other=None):
    if input is None and other is None:
        return tuple(Tensor._make(i.astype(np.int64)) for i in namespace(condition.data).nonzero(condition.data))
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dt.from_numpy(cond.dtype)}")
    ref = input if isinstance(input, Tensor) else other
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        ref = tensor(input)
    a = input if isinstance(input, Tensor) else input
    b = other if isinstance(other, Tensor) else other
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype != b.data.dtype:
        a, b = _promote(a, b, "where")
    elif not isinstance(a, Tensor):
        a = tensor(a, dtype=_dt.result_type(b, a), device=ref.device) if isinstance(b, Tensor) else tensor(a)
        if a.data.dtype != b.data.dtype if isinstance(b, Tensor) else False:
            b = b.to(a.dtype)
    elif not isinstance(b, Tensor):
        res = _dt.result_type(a, b)
        a = a.to(res)
        b = tensor(b, dtype=res, device=ref.device)
    try:
        return apply(E.Where, Tensor._make(cond), a, b)
    except ValueError:
        raise _broadcast_error(a, b, "where") from None


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"cat(): expected a sequence of Tensors, but got {type(t).__name__}")
    ref = tensors[0]
    nd = ref.data.ndim
    if nd == 0:
        raise RuntimeError("cat(): zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _dim(dim, nd, "cat")
    res = ref.dtype
    for i, t in enumerate(tensors):
        if t.data.ndim != nd:
            raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got {nd} and {t.data.ndim}")
        for ax in range(nd):
            if ax != d and t.data.shape[ax] != ref.data.shape[ax]:
                raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.data.shape[ax]} but got size {t.data.shape[ax]} for tensor number "
                                   f"{i} in the list.")
        _same_device(ref, t, "cat")
        res = _dt.promote(res, t.dtype)
    tensors = [t if t.data.dtype == res.np else t.to(res) for t in tensors]
    return apply(M.Cat, *tensors, axis=d)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                               f"and {list(t.shape)} at entry {i}")
    d = _dim(dim, len(shape) + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d)


def _make_array_fn(name):
    def fn(*shape, size=None, dtype=None, device=None, requires_grad=False):
        shape = _size_args(shape if size is None else (size,), name)
        d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
        arr = getattr(np, name)(shape, dtype=d.np)
        return _finish(arr, device, requires_grad)
    fn.__name__ = name
    return fn


def _finish(arr, device, requires_grad):
    dev = parse_device(device)
    if dev is not None and dev.type == "cuda":
        cuda_support.require(dev)
        arr = to_device(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


zeros = _make_array_fn("zeros")
ones = _make_array_fn("ones")
empty = _make_array_fn("empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    shape = _size_args((size,), "full")
    if dtype is None:
        dtype = _dt.bool_ if isinstance(fill_value, bool) else (
            _dt.int64 if isinstance(fill_value, int) else _dt.get_default_dtype())
    return _finish(np.full(shape, fill_value, dtype=_dt.to_dtype(dtype).np), device, requires_grad)


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False):
        return fn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                  requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = _dt.int64 if is_int else _dt.get_default_dtype()
    d = _dt.to_dtype(dtype)
    n = max(int(np.ceil((end - start) / step)), 0)
    arr = (start + step * np.arange(n, dtype=np.float64 if d.is_floating_point else np.int64)).astype(d.np)
    return _finish(arr, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    return _finish(np.linspace(start, end, steps).astype(d.np), device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    return _finish(np.eye(n, m, dtype=d.np), device, requires_grad)


def from_numpy(a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _dt.from_numpy(a.dtype)
    return Tensor._make(a)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray) and dtype is None and device is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()


class _TensorNamespace:
    """numpy-style names over differentiable Tensor ops: the ``xp`` of rules under create_graph."""

    @staticmethod
    def sum(a, axis=None, keepdims=False):
        return a.sum(dim=axis, keepdim=keepdims)

    @staticmethod
    def broadcast_to(a, shape):
        return a.expand(shape)

    @staticmethod
    def where(cond, a, b):
        cond = cond if isinstance(cond, Tensor) else Tensor._make(cond)
        return where(cond, a, b)

    @staticmethod
    def masked(g, keep):
        return _TensorNamespace.where(keep, g, 0.0)

    @staticmethod
    def expand_dims(a, axis):
        return a.unsqueeze(axis)

    @staticmethod
    def swapaxes(a, a1, a2):
        return a.transpose(a1, a2)

    @staticmethod
    def transpose(a, axes):
        return a.permute(axes)

    @staticmethod
    def matmul(a, b):
        return matmul(a, b)

    @staticmethod
    def index_grad(shape, key, g, dtype, basic):
        return apply(M.IndexGrad, g, shape=shape, key=key, basic=basic)

    @staticmethod
    def put_along_axis_grad(shape, index, g, axis):
        xp = namespace(index)
        grids = list(xp.ogrid[tuple(slice(n) for n in index.shape)])
        grids[axis] = index
        return apply(M.IndexGrad, g, shape=shape, key=tuple(grids), basic=False)

    @staticmethod
    def sign(a):
        return a.sign()

    @staticmethod
    def prod(a, axis=None, keepdims=False):
        out = a
        for ax in sorted(axis if axis is not None else range(a.ndim), reverse=True):
            out = out.prod(ax, keepdim=True)
        return out if keepdims else out.reshape(_reduced(a.shape, axis))

    exp = staticmethod(lambda a: a.exp())
    log = staticmethod(lambda a: a.log())
    sqrt = staticmethod(lambda a: a.sqrt())
    sin = staticmethod(lambda a: a.sin())
    cos = staticmethod(lambda a: a.cos())
    tanh = staticmethod(lambda a: a.tanh())
    abs = staticmethod(lambda a: a.abs())
    maximum = staticmethod(maximum)
    minimum = staticmethod(minimum)


def _reduced(shape, axes):
    return tuple(n for i, n in enumerate(shape) if axes is not None and i not in axes)


tensor_xp = _TensorNamespace()
_engine.Tensor = Tensor
_registry.Tensor = Tensor
_registry.make = Tensor._make
_engine.tensor_xp = tensor_xp
