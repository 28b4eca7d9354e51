"""Creating tensors: from data (tensor, from_numpy, as_tensor, scalar_tensor), filled (zeros,
ones, full, eye, arange, linspace, logspace, empty_strided, the ``*_like`` and ``Tensor.new_*``
forms), and random: the Generator, the samplers (rand, randn, randint, randperm, normal, bernoulli,
poisson, multinomial) and the in-place ``random_``, ``bernoulli_``, ``exponential_``, ... One
factory, ``_leaf``, puts every new array on its device and sets requires_grad.

Random draws come from ``chainrule.backend.random``: chainrule's streams are not torch's, so
values differ from torch's for the same seed; distributions, shapes, dtypes, seeding, state
round-trips and errors are torch's. As in torch, ``normal``, ``bernoulli`` and ``poisson`` are
not reparameterised: their results require grad when an input does, and the gradient is zero.
"""
import functools

import numpy as np

from .. import dtypes as _dt
from ..autograd.grad_mode import state as _grad_state
from ..backend import parse_device, to_device, cuda_support, namespace, Device
from ..backend.device import DEFAULT as _default_device  # set_default_device and ``with device:``
from ..backend import random as _random
from ..ops.args import leaf_array, size_args, plain
from ..ops.elementwise import Where
from .core import Tensor
from .inplace import store, write_out


_IGNORED = ("layout", "pin_memory", "memory_format", "out")  # accepted as torch accepts them


class memory_format:
    """torch's memory formats, accepted by the factories; chainrule's memory is always strided
    C order (NumPy), so every format gives that."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"chainrule.{self.name}"


contiguous_format, preserve_format = memory_format("contiguous_format"), memory_format("preserve_format")
channels_last, channels_last_3d = memory_format("channels_last"), memory_format("channels_last_3d")


def get_default_device():
    """The device factories create tensors on when not given ``device=`` (see ``set_default_device``), as
    ``torch.get_default_device``."""
    return _default_device[0] or Device.CPU


def set_default_device(device):
    """Where factories (zeros, rand, tensor, arange, ...) create tensors without ``device=``; None
    or 'cpu' restores the CPU. Tensors made from others (``*_like``, ops) follow their inputs."""
    dev = parse_device(device)
    _default_device[0] = None if dev is None or dev.type == "cpu" else dev


def _leaf(arr, device=None, requires_grad=False):
    """A new leaf tensor holding ``arr``, moved to ``device`` (a name or Device; else the default
    device)."""
    dev = parse_device(device) or _default_device[0]
    if dev is not None and dev.type == "cuda":
        cuda_support.require(dev)
    if dev is not None:
        arr = to_device(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        if arr.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad_(True)
    if _grad_state.inference:
        t._set_meta("inference", True)
    return t


def _float_dtype(dtype):
    return _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()


def _device(device):
    dev = parse_device(device) or _default_device[0]
    if dev is not None and dev.type == "cuda":
        cuda_support.require(dev)
    return dev


def _extra(name, kwargs):
    bad = [k for k in kwargs if k not in _IGNORED]
    if bad:
        raise TypeError(f"{name}() got an unexpected keyword argument '{bad[0]}'")


def _into_out(fn):
    """``fn(..., out=t)`` as torch's: made with t's dtype and device unless they are given, then written into
    t (``inplace.write_out``: resized if its shape differs), which is returned, requiring grad if asked."""
    def create(*args, out=None, requires_grad=False, **kwargs):
        if out is None:
            return fn(*args, requires_grad=requires_grad, **kwargs)
        if isinstance(out, Tensor):
            kwargs["dtype"] = kwargs.get("dtype") or out.dtype
            kwargs["device"] = kwargs.get("device") or out.device
        out = write_out(fn.__name__, fn(*args, **kwargs), out)
        return out.requires_grad_(True) if requires_grad else out
    return functools.wraps(fn)(create)


def _shape(name, size, size_kw):
    if size and size_kw is not None:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    if not size and size_kw is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    return size_args(size if size_kw is None else (size_kw,), name)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor copying ``data`` (nested lists, scalars, arrays or tensors)."""
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                      "or sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "chainrule.tensor(sourceTensor).", UserWarning, stacklevel=2)
    return _leaf(leaf_array(data, dtype), device, requires_grad)


def scalar_tensor(s, dtype=None, device=None, requires_grad=False, **kwargs):
    """A 0-d tensor of the default float dtype (whatever ``s`` is), as torch.scalar_tensor."""
    _extra("scalar_tensor", kwargs)
    return _leaf(np.array(s, dtype=_float_dtype(dtype).np), device, requires_grad)


def from_numpy(a):
    """A tensor sharing memory with the NumPy array ``a`` (same dtype and shape), as ``torch.from_numpy``."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    _dt.from_numpy(a.dtype)
    return Tensor._make(a if type(a) is np.ndarray else a.view(np.ndarray))  # np.memmap, np.matrix, ...: plain views


def as_tensor(data, dtype=None, device=None):
    """``data`` itself when it already is a tensor of that dtype and device (else ``data.to(...)``,
    which keeps the graph); a NumPy array of that dtype is shared, not copied; anything else is
    copied as ``tensor`` does."""
    if isinstance(data, Tensor):
        return data if dtype is None and device is None else data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dt.to_dtype(dtype).np == data.dtype):
        t = from_numpy(data)
        return t if device is None else t.to(device=device)
    return tensor(data, dtype=dtype, device=device)


def is_tensor(obj):
    """True when ``obj`` is a chainrule Tensor, as ``torch.is_tensor``."""
    return isinstance(obj, Tensor)


# ---- filled -----------------------------------------------------------------------------------------

# what each factory family's (zeros, zeros_like, Tensor.new_zeros, ...) docstring says of its values
_FILLS = {
    "zeros": ("filled with zeros", ">>> cr.zeros(2, 3)\ntensor([[0., 0., 0.],\n        [0., 0., 0.]])"),
    "ones": ("filled with ones", ">>> cr.ones(2, dtype=cr.int64)\ntensor([1, 1])"),
    "empty": ("left uninitialised (whatever the new memory holds)", ">>> cr.empty(2, 3).shape\nchainrule.Size([2, 3])"),
    "rand": ("of independent samples from the uniform distribution on [0, 1)",
             ">>> g = cr.Generator().manual_seed(0)\n>>> cr.rand(2, generator=g)\ntensor([0.8506, 0.6370])"),
    "randn": ("of independent samples from the standard normal distribution (mean 0, variance 1)",
              ">>> cr.randn(2, 3, dtype=cr.float64).dtype\nchainrule.float64")}
_RANDOM_NOTE = ("\n\nDiffers from torch: the samples come from NumPy's PCG64 generator, so a seed gives other numbers than "
                "torch's (the distribution is the same). ``generator``: a ``chainrule.Generator`` (default: the global "
                "one, seeded by ``chainrule.manual_seed``). A non-floating ``dtype`` raises NotImplementedError, as torch.")
_FILLED_DOC = """A new tensor of shape ``size`` {what}, as ``torch.{name}``.

``size`` is given as separate ints (``{name}(2, 3)``), as one sequence (``{name}((2, 3))``) or as
``size=``. The dtype is the default float dtype (``chainrule.get_default_dtype()``, float32 unless
changed) unless ``dtype`` is given; torch's ``layout``, ``pin_memory`` and ``memory_format`` are
accepted and ignored, and ``out=`` raises TypeError.{note}

Parameters
----------
*size : int or sequence of int
    The shape.{generator}
dtype : chainrule.dtype, optional
    The element type; the default float dtype unless given.
device : str or chainrule.device, optional
    ``"cpu"`` or ``"cuda"`` (needs CuPy); the default device unless given.
requires_grad : bool, default False
    Make a leaf that autograd tracks (floating dtypes only).

Returns
-------
Tensor

Examples
--------
{example}
"""
_GENERATOR_PARAM = "\ngenerator : chainrule.Generator, optional\n    The random source; the global one by default."
_LIKE_DOC = """A tensor with ``input``'s shape {what}, as ``torch.{name}``: ``{base}(input.shape)`` with ``input``'s dtype and device unless ``dtype``/``device`` are given.

torch's ``layout``, ``pin_memory`` and ``memory_format`` are accepted and ignored.{note}

Parameters
----------
input : Tensor
    The tensor whose shape (and dtype and device) the result takes.{generator}
dtype : chainrule.dtype, optional
    The element type; ``input``'s unless given.
device : str or chainrule.device, optional
    The device; ``input``'s unless given.
requires_grad : bool, default False
    Make a leaf that autograd tracks (floating dtypes only).

Returns
-------
Tensor

Examples
--------
>>> cr.{name}(cr.ones(2, 3)).shape
chainrule.Size([2, 3])
"""
_NEW_DOC = """A new tensor of shape ``size`` {what}, with this tensor's dtype and device unless given, as ``torch.Tensor.{name}``.

``size`` is given as separate ints or as one sequence (or ``size=``).

Parameters
----------
*size : int or sequence of int
    The shape.
dtype : chainrule.dtype, optional
    The element type; this tensor's unless given.
device : str or chainrule.device, optional
    The device; this tensor's unless given.
requires_grad : bool, default False
    Make a leaf that autograd tracks (floating dtypes only).

Returns
-------
Tensor

Examples
--------
>>> cr.tensor([1, 2]).{name}(2, 3).dtype
chainrule.int64
"""


def _filled(name, fill):
    """zeros/ones/empty(*size, size=, dtype, device, requires_grad)."""
    def create(*size, dtype=None, device=None, requires_grad=False, **kwargs):
        shape = _shape(name, size, kwargs.pop("size", None))
        _extra(name, kwargs)
        return _leaf(fill(shape, _float_dtype(dtype).np), _device(device), requires_grad)
    create.__name__ = create.__qualname__ = name
    create.__doc__ = _FILLED_DOC.format(name=name, what=_FILLS[name][0], note="", generator="", example=_FILLS[name][1])
    return _into_out(create)


zeros = _filled("zeros", np.zeros)
ones = _filled("ones", np.ones)
empty = _filled("empty", np.empty)


def _fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if isinstance(fill_value, (bool, np.bool_)):
        return _dt.bool_
    if isinstance(fill_value, (int, np.integer)):
        return _dt.int64
    return _dt.get_default_dtype()


@_into_out
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """A tensor of shape ``size`` filled with ``fill_value``, as ``torch.full``; the dtype is inferred from the
    value (bool, int64 or the default float) unless given."""
    _extra("full", kwargs)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    shape = size_args((size,), "full")
    d = _dt.to_dtype(dtype) if dtype is not None else _fill_dtype(fill_value)
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _leaf(np.full(shape, value, dtype=d.np), device, requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """An uninitialised tensor whose memory has torch's element ``stride`` per dim."""
    _extra("empty_strided", kwargs)
    shape, stride = size_args((size,), "empty_strided"), tuple(int(s) for s in stride)
    if len(stride) != len(shape):
        raise RuntimeError("mismatch in length of strides and shape")
    d = _float_dtype(dtype).np
    span = 1 + sum((n - 1) * s for n, s in zip(shape, stride)) if all(shape) else 0
    buf = np.empty(span, dtype=d)
    arr = np.lib.stride_tricks.as_strided(buf, shape, tuple(s * d.itemsize for s in stride))
    return _leaf(arr, device, requires_grad)


@_into_out
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """Values from ``start`` to ``end`` (excluded) by ``step``, as ``torch.arange``; int64 when all arguments are
    integers, else the default float dtype."""
    _extra("arange", kwargs)
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
    return _leaf(arr, device, requires_grad)


def _linspace(start, end, steps, d):
    """torch's kernel: start + i*step for the first half, end - (steps-1-i)*step for the rest (so
    both ends are exact), in the dtype's precision (float64 for integer dtypes)."""
    ct = d.np if d.is_floating_point else np.dtype(np.float64)
    i = np.arange(steps, dtype=ct)
    start, end = ct.type(start), ct.type(end)
    step = (end - start) / ct.type(max(steps - 1, 1))
    if steps == 1:
        return np.full(1, start, dtype=ct)
    return np.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i)).astype(ct)


@_into_out
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """``steps`` values evenly spaced from ``start`` to ``end`` (both included), as ``torch.linspace``."""
    _extra("linspace", kwargs)
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    d = _float_dtype(dtype)
    return _leaf(_linspace(start, end, steps, d).astype(d.np), device, requires_grad)


@_into_out
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """``base ** linspace(start, end, steps)``."""
    _extra("logspace", kwargs)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = _float_dtype(dtype)
    exponents = _linspace(start, end, steps, d)
    return _leaf(np.power(exponents.dtype.type(base), exponents).astype(d.np), device, requires_grad)


@_into_out
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """A 2-D tensor with ones on the diagonal and zeros elsewhere, of shape (n, m) (m defaults to n), as
    ``torch.eye``."""
    _extra("eye", kwargs)
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype).np), device, requires_grad)


# ---- *_like and Tensor.new_*: shape (or dtype and device) from another tensor --------------------

def _like(fn, generator=False):
    def like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None,
             pin_memory=False, **kwargs):
        extra = {"generator": kwargs.pop("generator", None)} if generator else {}
        _extra(fn.__name__ + "_like", kwargs)
        return fn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                  requires_grad=requires_grad, **extra)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = _LIKE_DOC.format(name=like.__name__, base=fn.__name__, what=_FILLS[fn.__name__][0],
                                    note=_RANDOM_NOTE if generator else "", generator=_GENERATOR_PARAM if generator else "")
    return like


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None, **kwargs):
    """A tensor of ``input``'s shape (and dtype and device unless given) filled with ``fill_value``, as
    ``torch.full_like``."""
    _extra("full_like", kwargs)
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def _new(fn):
    """Tensor.new_zeros/new_ones/new_empty(size): dtype and device of ``self`` unless given."""
    def new(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        shape = _shape("new_" + fn.__name__, size, kwargs.pop("size", None))
        _extra("new_" + fn.__name__, kwargs)
        return fn(shape, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    new.__name__ = "new_" + fn.__name__
    new.__doc__ = _NEW_DOC.format(name=new.__name__, what=_FILLS[fn.__name__][0])
    return new


new_zeros, new_ones, new_empty = _new(zeros), _new(ones), _new(empty)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """A tensor of shape ``size`` filled with ``fill_value``, with this tensor's dtype and device unless given, as
    ``torch.Tensor.new_full``."""
    _extra("new_full", kwargs)
    return full(tuple(size), fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **kwargs):
    """A new tensor copied from ``data``, with this tensor's dtype and device unless given, as
    ``torch.Tensor.new_tensor``."""
    _extra("new_tensor", kwargs)
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


# ---- the Generator ----------------------------------------------------------------------------------

class Generator(np.random.Generator):
    """torch.Generator(device='cpu'): a seeded random stream to pass as ``generator=``.

    It is a ``numpy.random.Generator`` (PCG64), so ``chainrule.nn.init`` and the samplers of
    ``chainrule.utils.data`` take it too. ``get_state()`` is a uint8 Tensor (PCG64's 45-byte state
    and the initial seed; torch's is MT19937's 5056 bytes) that ``set_state`` takes back. A CUDA
    generator draws from CuPy's generator seeded with its seed; its state cannot be read."""

    def __init__(self, device="cpu", *, _stream=None):
        dev = Device(device) if not isinstance(device, Device) else device
        self._stream = _stream or _random.Stream()
        super().__init__(self._stream.bits)
        self._device = dev

    @property
    def device(self):
        return self._device

    def manual_seed(self, seed):
        self._stream.reseed(_random.check_seed(seed, strict=True))
        return self

    def seed(self):
        return self._stream.fresh_seed()

    def initial_seed(self):
        return self._stream.seed

    def get_state(self):
        self._cpu_only("get_state")
        return Tensor._make(self._stream.state_bytes())

    def set_state(self, new_state):
        self._cpu_only("set_state")
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype is not _dt.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        self._stream.set_state_bytes(to_device(new_state._data, Device.CPU))
        return self

    def clone_state(self):
        g = Generator(self._device)
        g._stream.set_state_bytes(self._stream.state_bytes())
        return g

    def cuda_rng(self, index):
        return self._stream.cupy_rng(index)

    def _cpu_only(self, what):
        if self._device.type != "cpu":
            raise RuntimeError(f"chainrule: {what}() of a CUDA Generator is not supported (CuPy's generator "
                               "state cannot be saved)")

    def __repr__(self):
        return f"<chainrule.Generator object (device='{self._device}', initial_seed={self._stream.seed})>"

    __str__ = __repr__

    def __reduce__(self):
        return _rebuild_generator, (str(self._device), self._stream.state_bytes())


def _rebuild_generator(device, state):
    g = Generator(device)
    g._stream.set_state_bytes(state)
    return g


default_generator = Generator(_stream=_random.default_stream())


def manual_seed(seed):
    """Seed every default generator (CPU and CUDA); returns ``default_generator``, as torch."""
    _random.manual_seed(seed)
    return default_generator


def seed():
    """Seed the default generators with a non-deterministic number and return it."""
    s = default_generator.seed()
    _random.cuda_manual_seed(s)
    return s


def initial_seed():
    """The initial seed of the default random generator, as ``torch.initial_seed``."""
    return default_generator.initial_seed()


def get_rng_state():
    """The state of the default random generator, to restore with ``set_rng_state``, as ``torch.get_rng_state``."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restores the default random generator to a state from ``get_rng_state``, as ``torch.set_rng_state``."""
    default_generator.set_state(new_state)


# ---- random tensors ---------------------------------------------------------------------------------

def _random_sized(name, draw):
    """rand/randn(*size, generator, size=, dtype, device, requires_grad)."""
    def create(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
        shape = _shape(name, size, kwargs.pop("size", None))
        _extra(name, kwargs)
        d, dev = _float_dtype(dtype), _device(device)
        return _leaf(draw(shape, d, dev, generator), dev, requires_grad)
    create.__name__ = create.__qualname__ = name
    create.__doc__ = _FILLED_DOC.format(name=name, what=_FILLS[name][0], note=_RANDOM_NOTE, generator=_GENERATOR_PARAM,
                                        example=_FILLS[name][1])
    return _into_out(create)


def _uniform(shape, d, dev, gen):
    _random.check_floating(d, "check_uniform_bounds")
    return _random.uniform_array(shape, 0.0, 1.0, d.np, dev, gen)


def _normal(shape, d, dev, gen):
    _random.check_floating(d, "normal_kernel_cpu")
    return _random.normal_array(shape, 0.0, 1.0, d.np, dev, gen)


rand = _random_sized("rand", _uniform)
randn = _random_sized("randn", _normal)
zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)
rand_like, randn_like = _like(rand, generator=True), _like(randn, generator=True)


def _int_draw(low, high, shape, d, dev, gen):
    low, last = _random.random_bounds(int(low), None if high is None else int(high), d)
    return _random.integers_array(low, last, shape, dev, gen, endpoint=True).astype(d.np)


@_into_out
def randint(*args, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """randint(low=0, high, size, *, generator, dtype=int64, device, requires_grad)."""
    pos = list(args)
    size = kwargs.pop("size") if "size" in kwargs else (pos.pop() if pos else None)
    if len(pos) > 2 or size is None:
        raise TypeError("randint() takes (high, size) or (low, high, size), each by position or keyword")
    low, high = pos if len(pos) == 2 else (kwargs.pop("low", 0), pos[0] if pos else kwargs.pop("high", None))
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    _extra("randint", kwargs)
    d, dev = _dt.to_dtype(dtype) if dtype is not None else _dt.int64, _device(device)
    shape = size_args((size,), "randint")
    return _leaf(_int_draw(low, high, shape, d, dev, generator), dev, requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None, requires_grad=False,
                 memory_format=None, **kwargs):
    """Random integers uniform in [low, high) of ``input``'s shape (and dtype and device unless given), as
    ``torch.randint_like``; one bound given is ``high``."""
    _extra("randint_like", kwargs)
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


@_into_out
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """A random permutation of 0 .. n - 1 (int64 by default), as ``torch.randperm``."""
    _extra("randperm", kwargs)
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.int64
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if d.is_floating_point and n > 2 ** (np.finfo(d.np).nmant + 1) + 1:
        limit = {"float16": "2049", "float32": "2^24+1", "float64": "2^53+1"}[d.name]
        raise RuntimeError(f"n cannot be greater than {limit} for {_random.SCALAR_NAMES[d.name]} type.")
    if not d.is_floating_point and n > 0 and n - 1 > (1 if d.name == "bool" else np.iinfo(d.np).max):
        raise RuntimeError(f"value cannot be converted to type {d.name}_t without overflow")
    dev = _device(device)
    gen = generator if generator is not None else None
    if dev is not None and dev.type == "cuda" and gen is not None:
        _random.rng(gen, dev)  # the device check; the permutation itself is drawn below
        gen = np.random.default_rng(int(gen.cuda_rng(dev.index).integers(0, 2 ** 62)))
    return _leaf(_random.permutation_array(n, None, gen).astype(d.np), dev, requires_grad)


def _zero_grad_link(sample, *params):
    """``sample`` joined to the inputs that need a gradient by a Where that never selects them:
    the result requires grad and every input's gradient is 0, as torch's normal/bernoulli/poisson."""
    need = [p for p in params if is_tensor(p) and p._requires_grad]
    if not need or not _grad_state.enabled:
        return sample
    link = need[0].to(sample.dtype)
    for p in need[1:]:
        link = link + p.to(sample.dtype)
    never = namespace(sample._data).zeros(sample._data.shape, dtype=bool)
    return Where.call(Tensor._make(never), link, sample)


def _broadcast_error(a, b):
    for i in range(1, max(len(a), len(b)) + 1):
        x, y = (a[-i] if i <= len(a) else 1), (b[-i] if i <= len(b) else 1)
        if x != y and 1 not in (x, y):
            return RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                                f"non-singleton dimension {max(len(a), len(b)) - i}")


@_into_out
def normal(mean=None, std=None, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False, **kwargs):
    """normal(mean: Tensor, std: Tensor | float = 1) / normal(mean: float, std: Tensor) /
    normal(mean: float, std: float, size, dtype, device, requires_grad). The gradient to a tensor
    mean or std is 0 (torch does not reparameterise)."""
    _extra("normal", kwargs)
    mt, st = is_tensor(mean), is_tensor(std)
    if not mt and not st:
        if size is None or mean is None or std is None:
            raise TypeError("normal() received an invalid combination of arguments: expected (Tensor mean, "
                            "Tensor std), (Tensor mean, float std), (float mean, Tensor std) or (float mean, "
                            "float std, tuple of ints size)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_random.fmt(std)}")
        d, dev = _float_dtype(dtype), _device(device)
        _random.check_floating(d, "normal_kernel_cpu")
        shape = size_args((size,), "normal")
        return _leaf(_random.normal_array(shape, mean, std, d.np, dev, generator), dev, requires_grad)
    if size is not None or dtype is not None or requires_grad:
        raise TypeError("normal() received an invalid combination of arguments: size, dtype and requires_grad "
                        "go with a float mean and std only")
    std = 1.0 if std is None else std
    like = mean if mt else std
    _random.check_floating(like.dtype, "normal_kernel_cpu")
    ma = mean._data if mt else mean
    sa = std._data if st else std
    if st:
        if namespace(sa).any(~(sa >= 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_random.fmt(std)}")
    try:
        shape = np.broadcast_shapes(np.shape(ma), np.shape(sa))
    except ValueError:
        raise _broadcast_error(np.shape(ma), np.shape(sa)) from None
    z = _random.normal_array(shape, 0.0, 1.0, like._data.dtype, like.device, generator)
    sample = plain((z * sa + ma).astype(like._data.dtype, copy=False))
    return _zero_grad_link(sample, mean, std)


def _check_probabilities(p):
    xp = namespace(p)
    if p.size and not bool(xp.all((p >= 0) & (p <= 1))):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                           "be improved?  If so, please report an enhancement request to PyTorch.)")


def bernoulli(input, p=None, *, generator=None, out=None):
    """bernoulli(input): 1 with probability input[i]; bernoulli(input, p): input's shape and dtype,
    1 with probability p."""
    _extra("bernoulli", {"out": out})
    if p is not None:
        return _zero_grad_link(_bernoulli_float(input, p, generator), input)
    _random.check_floating(input.dtype, "bernoulli_tensor_cpu_p_")
    _check_probabilities(input._data)
    u = _random.uniform_array(input._data.shape, 0.0, 1.0, input._data.dtype, input.device, generator)
    return _zero_grad_link(plain((u < input._data).astype(input._data.dtype)), input)


def _bernoulli_float(input, p, generator):
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_random.fmt(p)}")
    u = _random.uniform_array(input._data.shape, 0.0, 1.0, np.dtype(np.float64), input.device, generator)
    return plain((u < p).astype(input._data.dtype))


def bernoulli_(input, p=0.5, *, generator=None):
    """Fills the tensor in place with 0/1 draws, 1 with probability ``p`` (a number or a tensor of probabilities),
    as ``torch.Tensor.bernoulli_``."""
    if not is_tensor(p):
        return store(input, _bernoulli_float(input, p, generator), "bernoulli_")
    pa = p._data
    if pa.shape != input._data.shape:
        try:
            pa = namespace(pa).broadcast_to(pa, input._data.shape)
        except ValueError:
            n = next(i for i in range(1, pa.ndim + 1) if i > input.ndim or pa.shape[-i] not in (1, input.shape[-i]))
            raise RuntimeError(f"The expanded size of the tensor ({input.shape[-n] if n <= input.ndim else 1}) must "
                               f"match the existing size ({pa.shape[-n]}) at non-singleton dimension "
                               f"{input.ndim - n}.  Target sizes: {list(input.shape)}.  Tensor sizes: "
                               f"{list(pa.shape)}") from None
    _check_probabilities(pa)
    u = _random.uniform_array(input._data.shape, 0.0, 1.0, np.dtype(np.float64), input.device, generator)
    return store(input, plain((u < pa).astype(input._data.dtype)), "bernoulli_")


def poisson(input, generator=None):
    """Poisson draws at the rates ``input`` (a float tensor of non-negative rates)."""
    _random.check_floating(input.dtype, "poisson_cpu")
    lam = to_device(input._data, Device.CPU).astype(np.float64)
    if lam.size and not (lam >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    gen = generator
    if generator is not None and input.device.type == "cuda":
        _random.rng(generator, input.device)
        gen = np.random.default_rng(int(generator.cuda_rng(input.device.index).integers(0, 2 ** 62)))
    elif generator is not None:
        _random.rng(generator, None)
    counts = _random.poisson_array(lam, None, gen).astype(input._data.dtype)
    return _zero_grad_link(plain(to_device(counts, input.device)), input)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from each row of ``input`` (1-D or 2-D non-negative weights): with replacement
    by inverting the rows' cumulative sums, without by the exponential race (torch's algorithm:
    the ``num_samples`` largest of w / Exp(1))."""
    _extra("multinomial", {"out": out})
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_random.SCALAR_NAMES[input.dtype.name]}")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    cats = input.shape[-1]
    if not replacement and n > cats:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if cats > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    w = to_device(input._data, Device.CPU).astype(np.float64).reshape(-1, cats)
    if w.size and not (np.isfinite(w) & (w >= 0)).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = w.sum(axis=1)
    if w.shape[0] and not (total > 0).all():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    gen = generator
    if generator is not None and input.device.type == "cuda":
        _random.rng(generator, input.device)
        gen = np.random.default_rng(int(generator.cuda_rng(input.device.index).integers(0, 2 ** 62)))
    elif generator is not None:
        _random.rng(generator, None)
    if replacement:
        u = _random.uniform_array((w.shape[0], n), 0.0, 1.0, np.dtype(np.float64), None, gen)
        cdf = np.cumsum(w, axis=1)
        idx = np.stack([np.searchsorted(c, uu * c[-1], side="right") for c, uu in zip(cdf, u)]) \
            if w.shape[0] else np.zeros((0, n), np.int64)
        idx = np.minimum(idx, cats - 1)
    else:
        keys = w / _random.exponential_array(w.shape, np.dtype(np.float64), None, gen)
        idx = np.argsort(-keys, axis=1, kind="stable")[:, :n]
    idx = idx.astype(np.int64).reshape(input.shape[:-1] + (n,))
    return plain(to_device(idx, input.device))
