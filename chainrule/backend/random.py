"""Random numbers: seeded streams (torch.Generator's state, below the Tensor type), the arrays
every sampler draws, and the argument checks torch's distribution kernels make.

A ``Stream`` is one PCG64 bit generator plus the seed it started from. The CPU default stream
lives here, so ``manual_seed`` makes every random function (creation, init, dropout, shuffling)
reproducible; ``chainrule.Generator`` (in ``chainrule.tensor.creation``) is a
``numpy.random.Generator`` over a stream, and the default generator is the one over this
module's stream. On a GPU, draws come from CuPy's generator, seeded from the stream's seed.
Chainrule cannot reproduce torch's random streams (different bit generators); distributions,
shapes, dtypes, seeding and state round-trips are torch's.
"""
import os

import numpy as np

from . import cuda_support
from .device import Device

DEFAULT_SEED = 67280421310721  # torch's default CPU seed (c10::default_rng_seed_val)
_MASK = (1 << 64) - 1
_STATE_BYTES = 16 + 16 + 1 + 4 + 8  # PCG64 state, increment, has_uint32, uinteger, initial seed

# torch's names for dtypes in kernel messages: the scalar-type name and the C type name
SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                "float16": "Half", "float32": "Float", "float64": "Double"}
C_NAMES = {"int64": "long int", "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char",
           "bool": "bool", "float16": "c10::Half", "float32": "float", "float64": "double"}


def check_seed(seed, strict=False):
    """A seed as torch stores it: an int in [-2^63, 2^64), kept modulo 2^64. ``strict``:
    Generator.manual_seed's check (no floats); torch.manual_seed converts with int()."""
    if strict and (isinstance(seed, (float, np.floating)) or not hasattr(seed, "__index__")):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed <= _MASK:
        raise ValueError("Overflow when unpacking long long")
    return seed & _MASK


class Stream:
    """One seeded PCG64 bit generator, its initial seed, and (lazily) CuPy generators on GPUs."""
    __slots__ = ("bits", "seed", "cuda")

    def __init__(self, seed=DEFAULT_SEED):
        self.bits = np.random.PCG64(seed)
        self.seed, self.cuda = seed, {}

    def reseed(self, seed):
        self.bits.state = np.random.PCG64(seed).state  # in place: every Generator over it follows
        self.seed = seed
        self.cuda.clear()

    def fresh_seed(self):
        """torch's Generator.seed(): a non-deterministic seed, set and returned."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.reseed(seed)
        return seed

    def state_bytes(self):
        s = self.bits.state
        fields = (s["state"]["state"].to_bytes(16, "little"), s["state"]["inc"].to_bytes(16, "little"),
                  bytes([s["has_uint32"]]), int(s["uinteger"]).to_bytes(4, "little"), self.seed.to_bytes(8, "little"))
        return np.frombuffer(b"".join(fields), dtype=np.uint8).copy()

    def set_state_bytes(self, a):
        if a.size != _STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found the input "
                               f"RNG state size to be {a.size}")
        b = bytes(a.reshape(-1))
        word = lambda lo, hi: int.from_bytes(b[lo:hi], "little")  # noqa: E731
        self.bits.state = {"bit_generator": "PCG64", "has_uint32": b[32], "uinteger": word(33, 37),
                           "state": {"state": word(0, 16), "inc": word(16, 32)}}
        self.seed = word(37, 45)
        self.cuda.clear()

    def cupy_rng(self, index):
        gen = self.cuda.get(index)
        if gen is None:
            cp = cuda_support.cupy()
            with cp.cuda.Device(index):
                gen = self.cuda[index] = cp.random.default_rng(self.seed + index)
        return gen


# torch seeds its default CPU generator from a non-deterministic source at start-up (a new Generator() starts
# from DEFAULT_SEED): unseeded runs differ, as they do in torch.
_cpu = Stream()
_cpu.fresh_seed()
_cpu_rng = np.random.Generator(_cpu.bits)
_cuda = Stream(0)  # the default CUDA generators (torch.cuda.manual_seed), one CuPy generator per device


def default_stream():
    return _cpu


def manual_seed(seed):
    """Seed every default generator (CPU and CUDA), as torch.manual_seed."""
    seed = check_seed(seed)
    _cpu.reseed(seed)
    _cuda.reseed(seed)
    return seed


def cuda_manual_seed(seed):
    _cuda.reseed(check_seed(seed))


def cuda_seed():
    return _cuda.seed


def generator(device=None):
    """The default generator for ``device``: NumPy's on the CPU, CuPy's on a GPU."""
    if device is None or device.type == "cpu":
        return _cpu_rng
    return _cuda.cupy_rng(device.index)


def rng(gen, device=None):
    """What to draw from: the default for ``device``, or ``gen`` (a chainrule.Generator, or a plain
    numpy.random.Generator on the CPU) checked against the device, as torch checks."""
    if gen is None:
        return generator(device)
    dev_type = "cpu" if device is None else device.type
    gen_dev = getattr(gen, "device", None)
    if not isinstance(gen, np.random.Generator) or not isinstance(gen_dev, (Device, type(None))):
        raise TypeError(f"generator must be a chainrule.Generator, not {type(gen).__name__}")
    gen_type = "cpu" if gen_dev is None else gen_dev.type
    if gen_type != dev_type:
        raise RuntimeError(f"Expected a '{dev_type}' device type for generator but found '{gen_type}'")
    return gen if dev_type == "cpu" else gen.cuda_rng(device.index)


# ---- arrays ------------------------------------------------------------------------------------

def _float_dtype(dtype):
    return dtype if dtype.kind == "f" and dtype.itemsize >= 4 else np.dtype(np.float32)


def uniform_array(shape, low, high, dtype, device=None, gen=None):
    a = rng(gen, device).random(shape, dtype=_float_dtype(dtype))
    if low != 0 or high != 1:
        a = a * (high - low) + low
    return a.astype(dtype, copy=False)


def normal_array(shape, mean, std, dtype, device=None, gen=None):
    a = rng(gen, device).standard_normal(shape, dtype=_float_dtype(dtype))
    if std != 1 or mean != 0:
        a = a * std + mean
    return a.astype(dtype, copy=False)


def exponential_array(shape, dtype, device=None, gen=None):
    return rng(gen, device).standard_exponential(shape, dtype=_float_dtype(dtype))


def integers_array(low, high, shape, device=None, gen=None, endpoint=False):
    return rng(gen, device).integers(low, high, size=shape, dtype=np.int64, endpoint=endpoint)


def permutation_array(n, device=None, gen=None):
    return rng(gen, device).permutation(n)


def geometric_array(p, shape, device=None, gen=None):
    return rng(gen, device).geometric(p, size=shape)


def poisson_array(lam, device=None, gen=None):
    """Poisson draws at float64 rates ``lam`` (non-negative); rates past NumPy's limit give
    -2^63 as torch's int64 conversion does."""
    r = rng(gen, device)
    huge = ~(lam < 1e18)
    out = r.poisson(np.where(huge, 0.0, lam)).astype(np.float64)
    out[huge] = -2.0 ** 63
    return out


# ---- the checks torch's distribution kernels make ----------------------------------------------

def fmt(v):
    """A double as torch prints it in messages (c10::str: 6 significant digits)."""
    return f"{float(v):g}"


def not_implemented(kernel, dtype):
    return NotImplementedError(f'"{kernel}" not implemented for \'{SCALAR_NAMES.get(dtype.name, dtype.name)}\'')


def check_floating(dtype, kernel):
    """``dtype`` (a chainrule dtype) must be floating, else torch's dispatch error for ``kernel``."""
    if not dtype.is_floating_point:
        raise not_implemented(kernel, dtype)


def check_continuous(dtype, name, c_name=False):
    if not dtype.is_floating_point:
        kind = C_NAMES[dtype.name] if c_name else SCALAR_NAMES[dtype.name]
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {kind}")


def random_bounds(low, high, dtype):
    """The inclusive range [low, last] of random_/randint on ``dtype`` (``high`` exclusive, or
    None: up to the dtype's largest exactly representable integer), checked as torch checks."""
    if high is not None and low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype.is_floating_point:
        return low, (2 ** (np.finfo(dtype.np).nmant + 1) if high is None else high - 1)
    lo, top = (0, 1) if dtype.name == "bool" else (int(np.iinfo(dtype.np).min), int(np.iinfo(dtype.np).max))
    if not lo <= low <= top:
        raise RuntimeError(f"from is out of bounds for {C_NAMES[dtype.name]}")
    if high is not None and not lo <= high - 1 <= top:
        raise RuntimeError(f"to - 1 is out of bounds for {C_NAMES[dtype.name]}")
    return low, (top if high is None else high - 1)


def check_uniform(dtype, a, b):
    """uniform_'s checks: a floating dtype, bounds within it, from <= to, to - from finite."""
    check_floating(dtype, "check_uniform_bounds")
    a, b = float(a), float(b)
    hi, name = float(np.finfo(dtype.np).max), C_NAMES[dtype.name]
    for value, which in ((a, "from"), (b, "to")):
        if not -hi <= value <= hi:
            raise RuntimeError(f"{which} is out of bounds for {name}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={fmt(a)} > to={fmt(b)}")
    if b - a > hi:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{SCALAR_NAMES[dtype.name]}>::max(), "
                           f"but found to={fmt(b)} and from={fmt(a)} which result in to-from to exceed the limit")
    return a, b
