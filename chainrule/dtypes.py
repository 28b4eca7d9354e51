"""chainrule dtypes and PyTorch's type-promotion rules."""
import numpy as np


class dtype:
    """A tensor element type (``chainrule.float32``, ``chainrule.int64``, ...), as ``torch.dtype``: a name, its
    NumPy dtype and its category (bool, integer or floating) in type promotion."""
    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_rank")

    def __init__(self, name, np_dtype, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_complex = False
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize
        self._rank = rank  # category: 0 bool, 1 integer, 2 floating

    def __repr__(self):
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return self.name


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)


class UnsupportedDtype:
    """A torch dtype name that chainrule's arrays cannot hold (NumPy has no bfloat16): it exists so
    that scripts naming it in a table import and run; using it for a tensor raises a TypeError."""
    __slots__ = ("name",)
    is_floating_point, is_complex, is_signed = True, False, True

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"chainrule.{self.name}"


bfloat16 = UnsupportedDtype("bfloat16")
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(float=float32, double=float64, long=int64, int=int32, half=float16)

_default_float = float32


def get_default_dtype():
    """The floating dtype factories use by default (float32 unless changed), as ``torch.get_default_dtype``."""
    return _default_float


def set_default_dtype(d):
    """Sets the default floating dtype used by factories and for Python floats, as ``torch.set_default_dtype``."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def from_numpy(np_dtype):
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        d = _BY_NP.get(np.dtype(np_dtype))
        if d is None:
            raise TypeError(f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
                            + ", ".join(x.name for x in ALL)) from None
        return d


def to_dtype(d):
    """Accept a chainrule dtype, a NumPy dtype/type, a Python type or a name."""
    if type(d) is dtype:
        return d
    if d is float:  # a Python float is a double, as in torch
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    if type(d) is UnsupportedDtype:
        raise TypeError(f"{d!r} is not supported: chainrule's arrays are NumPy/CuPy arrays, which have no {d.name}; "
                        f"use chainrule.float16 or chainrule.float32")
    if isinstance(d, type) and type(getattr(d, "dtype", None)) is dtype:  # torch.LongTensor & co (t.type(cls))
        return d.dtype
    try:
        return from_numpy(np.dtype(d))
    except (TypeError, ValueError):  # ValueError: an object with a .dtype (a Tensor), as torch's TypeError
        raise TypeError(f"argument 'dtype' must be a dtype, not {type(d).__name__}: {d!r}") from None


def promote(a, b):
    """Result dtype of two chainrule dtypes of dimensioned tensors (torch.promote_types)."""
    if a is b:
        return a
    if a._rank != b._rank:  # a higher category wins outright: float32 + int64 -> float32
        return a if a._rank > b._rank else b
    return _BY_NP[np.promote_types(a.np, b.np)]


def result_type(x, y):
    """PyTorch's promotion for a binary op between arrays (a tensor's data) and Python scalars.

    Dimensioned tensors decide within their category; 0-dim tensors and Python scalars only
    lift the category (int tensor + 2.5 -> default float; float32 + float64 0-dim -> float32).
    """
    cats = []
    for v in (x, y):
        if hasattr(v, "dtype"):
            d = _BY_NP[v.dtype]
            cats.append((d, d._rank, 2 if v.ndim else 1))
        elif isinstance(v, bool):
            cats.append((bool_, 0, 0))
        elif isinstance(v, int):
            cats.append((int64, 1, 0))
        else:
            cats.append((_default_float, 2, 0))
    (da, ra, pa), (db, rb, pb) = cats
    if pa == pb:
        return promote(da, db)
    if pa < pb:
        (da, ra, pa), (db, rb, pb) = (db, rb, pb), (da, ra, pa)
    # a has priority (more "dimensioned"); b only matters if it is of a higher category
    if rb > ra:
        if pb == 1:  # 0-dim tensor of higher category keeps its own dtype
            return db
        return _default_float if rb == 2 else int64
    return da
