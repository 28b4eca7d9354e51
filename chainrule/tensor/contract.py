"""Matrix products with stricter shape rules than matmul (mm, bmm, dot) and the contractions, as
torch spells them: einsum (one Einsum op for any equation),
tensordot, outer/inner/kron/cross, mv/vdot/vecdot, addmm and friends, multi_dot, matrix_power."""
import string

import numpy as np

from ..ops.args import check_tensor, dim as _dim, is_tensor, plain
from ..ops.elementwise import Where
from ..ops.linalg import Einsum, Matmul
from ..ops.registry import apply


def mm(input, mat2):
    """Matrix product of two 2-D tensors (n, m) @ (m, p) -> (n, p), as ``torch.mm`` (no broadcasting); a
    sparse COO ``input`` gives ``sparse.mm(input, mat2)``, dense."""
    from .sparse import SparseCOOTensor, mm as sparse_mm
    if isinstance(input, SparseCOOTensor):
        return sparse_mm(input, mat2)
    check_tensor(input, "mm")
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix (got {input._data.ndim}-D and {mat2._data.ndim}-D)")
    return Matmul.call(input, mat2)


def bmm(input, mat2):
    """Batched matrix product (b, n, m) @ (b, m, p) -> (b, n, p), as ``torch.bmm`` (no broadcasting)."""
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor (got {input._data.ndim}-D and {mat2._data.ndim}-D)")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"bmm: batch1 and batch2 must have same number of batches, got "
                           f"{input._data.shape[0]} and {mat2._data.shape[0]}")
    return Matmul.call(input, mat2)


def dot(input, other):
    """Inner product of two 1-D tensors of the same size and dtype, a 0-d result, as ``torch.dot``."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    return Matmul.call(input, other)


_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                "float16": "Half", "float32": "Float", "float64": "Double"}


def _tname(t):
    return _TORCH_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _ndim(t, n, op, arg="self"):
    check_tensor(t, op)
    if t._data.ndim != n:
        raise RuntimeError(f"{op}: Expected {n}-D argument {arg}, but got {t._data.ndim}-D")


def _same_dtype(op, *ts):
    if len({t._data.dtype for t in ts}) > 1:
        raise RuntimeError(f"{op}: expected all tensors to have the same dtype, but got "
                           f"{', '.join(_tname(t) for t in ts)}")


def einsum(equation, *operands):
    """torch.einsum(equation, *operands) (operands may be one list), or the sublist form
    einsum(op0, [0, 1], op1, [1, 2], [0, 2])."""
    if is_tensor(equation):
        return einsum(*_sublist_equation(equation, *operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for a in operands:
        check_tensor(a, "einsum", "operands")
    eq = _einsum_equation(equation, [a._data.shape for a in operands])
    if len({a._data.dtype for a in operands}) > 1:
        raise RuntimeError(f"einsum(): expected all operands to have the same dtype, but got "
                           f"{', '.join(_tname(a) for a in operands)}")
    return apply(Einsum, *operands, eq=eq)


def _einsum_equation(equation, shapes):
    """torch's einsum equation checked against the operands' shapes and made explicit: '...' as
    letters, the implicit output (ellipsis dims, then the letters seen once, sorted) spelled out."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): {'more' if len(shapes) > len(terms) else 'fewer'} operands were provided "
                           f"than specified in the equation")
    for t in terms + [rhs]:
        if any(c not in string.ascii_letters for c in t.replace("...", "")) or t.count("...") > 1:
            raise RuntimeError(f"einsum(): invalid subscript given in the equation string '{equation}', subscripts "
                               f"must be in [a-zA-Z]")
    spare = [c for c in string.ascii_letters if c not in eq]
    n_ell = 0
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        k = len(t.replace("...", ""))
        if "..." not in t and k != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({k}) does not match the number "
                               f"of dimensions ({len(shape)}) for operand {i} and no ellipsis was given")
        if k > len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({k}) is more than the number "
                               f"of dimensions ({len(shape)}) for operand {i}")
        if "..." in t:
            n_ell = max(n_ell, len(shape) - k)
    if n_ell > len(spare):
        raise RuntimeError("einsum(): too many subscripts (at most 52 labels)")
    ell = "".join(spare[:n_ell])
    terms = [t.replace("...", ell[n_ell - (len(s) - len(t) + 3):] if "..." in t else "") for t, s in zip(terms, shapes)]
    joined = "".join(terms)
    if arrow:
        rhs = rhs.replace("...", ell)
        for c in rhs:
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in joined:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   f"operand")
    else:
        rhs = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in ell))
    sizes = {}
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        mine = {}
        for c, n in zip(t, shape):
            if mine.setdefault(c, n) != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't match, "
                                   f"{mine[c]} != {n}")
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast "
                                   f"with previously seen size {sizes[c]}")
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    return ",".join(terms) + "->" + rhs


def _sublist_equation(*args):
    letters = string.ascii_letters

    def spell(sub):
        return "".join("..." if s is Ellipsis else letters[s] for s in sub)
    ops, subs = args[0::2], args[1::2]
    out = args[-1] if len(args) % 2 else None
    if out is not None:
        ops = ops[:-1]
    eq = ",".join(spell(s) for s in subs) + ("->" + spell(out) if out is not None else "")
    return (eq,) + tuple(ops)


def mv(input, vec):
    """Matrix-vector product (n, m) @ (m,) -> (n,), as ``torch.mv``."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0]}), mat "
                           f"({input._data.shape[0]}x{input._data.shape[1]}), vec ({vec._data.shape[0]})")
    _same_dtype("mv", input, vec)
    return Matmul.call(input, vec)


def vdot(input, other):
    """Inner product of two 1-D tensors, as ``torch.vdot`` (for real dtypes the same as ``dot``)."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_tname(input)} and "
                           f"{_tname(other)}")
    return dot(input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors, out[i, j] = input[i] vec2[j], as ``torch.outer`` (alias ``ger``)."""
    _ndim(input, 1, "outer")
    _ndim(vec2, 1, "outer", "vec2")
    return input.reshape(-1, 1) * vec2


def inner(input, other):
    """Inner product over the last dim of both inputs, of shape input.shape[:-1] + other.shape[:-1], as
    ``torch.inner``; a 0-d input multiplies."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.dtype != other._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input._data.shape)} and {list(other._data.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def tensordot(a, b, dims=2):
    """Contract dims ``dims[0]`` of a with ``dims[1]`` of b (an int n: a's last n with b's first n)."""
    check_tensor(a, "tensordot", "a")
    check_tensor(b, "tensordot", "b")
    if is_tensor(dims):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a._data.ndim - dims, a._data.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    da = [_dim(d, a._data.ndim, "tensordot") for d in da]
    db = [_dim(d, b._data.ndim, "tensordot") for d in db]
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a._data.ndim)]
    sb = [next(letters) for _ in range(b._data.ndim)]
    for i, j in zip(da, db):
        if a._data.shape[i] != b._data.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._data.shape[i]} in dim "
                               f"{i} and second has size {b._data.shape[j]} in dim {j}")
        sb[j] = sa[i]
    res = [c for k, c in enumerate(sa) if k not in da] + [c for k, c in enumerate(sb) if k not in db]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(res), a, b)


def kron(input, other):
    """Kronecker product of two tensors, as ``torch.kron``: the result's dim i has size input.size(i)
    other.size(i) (the shorter shape is padded with leading 1s)."""
    n = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (n - input._data.ndim) + tuple(input._data.shape)
    sb = (1,) * (n - other._data.ndim) + tuple(other._data.shape)
    a = input.reshape(tuple(x for s in sa for x in (s, 1)))
    b = other.reshape(tuple(x for s in sb for x in (1, s)))
    return (a * b).reshape(tuple(x * y for x, y in zip(sa, sb)))


def linalg_cross(input, other, dim=-1):
    """Cross product of 3-vectors along ``dim`` (default -1), broadcasting the other dims, as
    ``torch.linalg.cross``."""
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = _dim(dim, input._data.ndim, "linalg.cross")
    if input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input._data.shape[d]} and {other._data.shape[d]}")
    key = (slice(None),) * d

    def roll(t, k):  # component i of the result takes components i + k
        return t[key + (np.array([(i + k) % 3 for i in range(3)]),)]
    return roll(input, 1) * roll(other, 2) - roll(input, 2) * roll(other, 1)


def cross(input, other, dim=None):
    """torch.cross: dim None is the first dim of size 3 (torch's deprecated default)."""
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"expected scalar type {_tname(input)} but found {_tname(other)}")
    if dim is None:
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim)


def vecdot(x, y, dim=-1):
    """Dot product of ``x`` and ``y`` along ``dim`` after broadcasting, sum(x y, dim), as ``torch.linalg.vecdot``."""
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as input. Got {_tname(x)}")
    return (x * y).sum(dim)


def _scaled(out, input, beta, alpha, op):
    """beta * input + alpha * out (beta == 0: input ignored, nan included, as torch)."""
    if alpha != 1:
        out = out * alpha
    if input._data.dtype != out._data.dtype:
        raise RuntimeError(f"{op}: self and mat2 must have the same dtype, but got {_tname(input)} and "
                           f"{_tname(out)}")
    try:
        shape = np.broadcast_shapes(input._data.shape, out._data.shape)
    except ValueError:
        shape = None
    if shape != tuple(out._data.shape):
        raise RuntimeError(f"The expanded size of the tensor ({out._data.shape[-1]}) must match the existing size "
                           f"({input._data.shape[-1]}) at non-singleton dimension {out._data.ndim - 1}.  Target "
                           f"sizes: {list(out._data.shape)}.  Tensor sizes: {list(input._data.shape)}")
    if beta == 0:  # input not read (nan included); its gradient is zeros, as torch's
        return out + Where.call(plain(np.zeros((), bool)), input, 0) if input.requires_grad else out
    return out + (input if beta == 1 else input * beta)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta input + alpha (mat1 @ mat2) for 2-D mat1 and mat2, as ``torch.addmm``; with beta = 0 the input is not
    read (nan in it does not propagate)."""
    return _scaled(mm(mat1, mat2), input, beta, alpha, "addmm")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta input + alpha (mat @ vec), as ``torch.addmv``; with beta = 0 the input is not read."""
    return _scaled(mv(mat, vec), input, beta, alpha, "addmv")


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta input + alpha outer(vec1, vec2), as ``torch.addr``; with beta = 0 the input is not read."""
    return _scaled(outer(vec1, vec2), input, beta, alpha, "addr")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta input + alpha bmm(batch1, batch2), as ``torch.baddbmm``; with beta = 0 the input is not read."""
    return _scaled(bmm(batch1, batch2), input, beta, alpha, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta input + alpha sum over b of batch1[b] @ batch2[b], as ``torch.addbmm``; with beta = 0 the input is not
    read."""
    if batch1._data.ndim != 3 or batch2._data.ndim != 3 or batch1._data.shape[0] != batch2._data.shape[0] \
            or batch1._data.shape[2] != batch2._data.shape[1]:
        bmm(batch1, batch2)  # raises torch's error
    return _scaled(einsum("bij,bjk->ik", batch1, batch2), input, beta, alpha, "addbmm")


def multi_dot(tensors):
    """A chain of matrix products in the cheapest order (first/last operand may be 1-D)."""
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first, last = tensors[0]._data.ndim, tensors[-1]._data.ndim
    for i, t in enumerate(tensors):
        nd = t._data.ndim
        if (i == 0 and nd not in (1, 2)) or (i == n - 1 and nd not in (1, 2)) or (0 < i < n - 1 and nd != 2):
            which = "first" if i == 0 else "last" if i == n - 1 else f"tensor {i}"
            raise RuntimeError(f"multi_dot(): the {which} tensor must be " +
                               ("1D or 2D" if i in (0, n - 1) else "2D") + f" but got {nd}D")
    ts = list(tensors)
    if first == 1:
        ts[0] = ts[0].unsqueeze(0)
    if last == 1:
        ts[-1] = ts[-1].unsqueeze(1)
    for a, b in zip(ts, ts[1:]):
        if a._data.shape[1] != b._data.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {ts.index(a)} and {ts.index(a) + 1} with shapes "
                               f"{list(a._data.shape)} and {list(b._data.shape)} cannot be multiplied")
    dims = [t._data.shape[0] for t in ts] + [ts[-1]._data.shape[1]]
    cost, split = {}, {}
    for length in range(1, n):  # matrix-chain order by dynamic programming
        for i in range(n - length):
            j = i + length
            cost[i, j], split[i, j] = min((cost.get((i, k), 0) + cost.get((k + 1, j), 0) +
                                           dims[i] * dims[k + 1] * dims[j + 1], k) for k in range(i, j))

    def product(i, j):
        return ts[i] if i == j else Matmul.call(product(i, split[i, j]), product(split[i, j] + 1, j))
    out = product(0, n - 1)
    if first == 1:
        out = out.squeeze(0)
    if last == 1:
        out = out.squeeze(-1)
    return out


def chain_matmul(*matrices):
    """Product of 2-D matrices in the cheapest multiplication order, as ``torch.chain_matmul`` (deprecated in
    torch in favour of ``torch.linalg.multi_dot``)."""
    for t in matrices:
        if t._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {t._data.ndim}, expected 2 instead.")
    return matrices[0].clone() if len(matrices) == 1 else multi_dot(matrices)
