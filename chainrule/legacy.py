"""torch's legacy tensor-type constructors (``torch.FloatTensor(2, 3)``, ``torch.LongTensor([1, 2])``),
still common in older programs. Each is a class only for ``isinstance`` (true for a CPU tensor of
its dtype, as in torch); calling it builds an ordinary Tensor:

- no argument: an empty 1-d tensor; ints or a ``Size``: a tensor of that shape (torch leaves it
  uninitialised; here it is zeros);
- a sequence or NumPy array: a tensor of that data, converted to the type's dtype;
- a Tensor of the same dtype: a new Tensor on its storage; of another dtype: TypeError, as torch.
"""
from . import dtypes as _dt
from .tensor import Tensor, Size
from .tensor.creation import tensor as _tensor, zeros as _zeros


class _TensorType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and not obj.is_cuda

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"

    def __call__(cls, *args, device=None):
        if not args:
            return _zeros(0, dtype=cls.dtype, device=device)
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args) or (
                len(args) == 1 and isinstance(args[0], Size)):
            shape = tuple(args[0]) if isinstance(args[0], Size) else args
            if any(s < 0 for s in shape):
                raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
            return _zeros(shape, dtype=cls.dtype, device=device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != cls.dtype:
                raise TypeError(f"{cls.__name__}(): expected a tensor of dtype {cls.dtype} (got {args[0].dtype})")
            return Tensor._make(args[0]._data)  # shares the storage, no history (torch: an alias)
        if len(args) == 1 and not isinstance(args[0], (int, float, bool, complex, str)):
            return _tensor(args[0], dtype=cls.dtype, device=device)
        raise TypeError(f"{cls.__name__}.new() received an invalid combination of arguments: expected no "
                        f"argument, sizes (ints), a sequence or a Tensor; got "
                        f"({', '.join(type(a).__name__ for a in args)})")


def _tensor_type(name, dtype):
    return _TensorType(name, (), {"dtype": dtype, "is_cuda": False, "__module__": "torch",
                                  "__doc__": f"Legacy constructor for {dtype} CPU tensors (see module docstring)."})


FloatTensor = _tensor_type("FloatTensor", _dt.float32)
DoubleTensor = _tensor_type("DoubleTensor", _dt.float64)
HalfTensor = _tensor_type("HalfTensor", _dt.float16)
ByteTensor = _tensor_type("ByteTensor", _dt.uint8)
CharTensor = _tensor_type("CharTensor", _dt.int8)
ShortTensor = _tensor_type("ShortTensor", _dt.int16)
IntTensor = _tensor_type("IntTensor", _dt.int32)
LongTensor = _tensor_type("LongTensor", _dt.int64)
BoolTensor = _tensor_type("BoolTensor", _dt.bool_)

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "ByteTensor", "CharTensor", "ShortTensor", "IntTensor",
           "LongTensor", "BoolTensor"]
