"""Matrix products with stricter shape rules than matmul (mm, bmm, dot): checks, then Matmul."""
from ..ops.linalg import Matmul


def mm(input, mat2):
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix (got {input._data.ndim}-D and {mat2._data.ndim}-D)")
    return Matmul.call(input, mat2)


def bmm(input, mat2):
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor (got {input._data.ndim}-D and {mat2._data.ndim}-D)")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"bmm: batch1 and batch2 must have same number of batches, got "
                           f"{input._data.shape[0]} and {mat2._data.shape[0]}")
    return Matmul.call(input, mat2)


def dot(input, other):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    return Matmul.call(input, other)
