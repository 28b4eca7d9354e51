"""NumPy-style names over differentiable Tensor ops: the ``xp`` that backward rules run in under
``create_graph``, so that the same rule that computes a gradient from arrays also records it as a
graph (and second derivatives follow)."""
from ..backend import namespace as array_namespace
from ..ops.elementwise import Maximum, Minimum, Polygamma, Where
from ..ops.linalg import Matmul
from ..ops.movement import Cat, IndexGrad
from ..ops.registry import apply
from .core import Tensor


def _where(cond, a, b):
    return Where.call(cond if isinstance(cond, Tensor) else Tensor._make(cond), a, b)


def _prod(a, axis=None, keepdims=False):
    out = a
    for ax in sorted(axis if axis is not None else range(a.ndim), reverse=True):
        out = out.prod(ax, keepdim=True)
    return out if keepdims else out.reshape(tuple(n for i, n in enumerate(a.shape)
                                                  if axis is not None and i not in axis))


def _put_along_axis_grad(shape, index, g, axis):
    grids = list(array_namespace(index).ogrid[tuple(slice(n) for n in index.shape)])
    grids[axis] = index
    return apply(IndexGrad, g, shape=shape, key=tuple(grids), basic=False)


class TensorNamespace:
    """The names the rules in ``chainrule.ops`` call on ``xp``, each a differentiable Tensor op."""
    sum = staticmethod(lambda a, axis=None, keepdims=False: a.sum(dim=axis, keepdim=keepdims))
    broadcast_to = staticmethod(lambda a, shape: a.expand(shape))
    where = staticmethod(_where)
    masked = staticmethod(lambda g, keep: _where(keep, g, 0.0))
    relu_grad = staticmethod(lambda g, out: _where(out != 0, g, 0.0))
    expand_dims = staticmethod(lambda a, axis: a.unsqueeze(axis))
    swapaxes = staticmethod(lambda a, a1, a2: a.transpose(a1, a2))
    transpose = staticmethod(lambda a, axes: a.permute(axes))
    matmul = staticmethod(Matmul.call)
    index_grad = staticmethod(lambda shape, key, g, dtype, basic:
                              apply(IndexGrad, g, shape=shape, key=key, basic=basic))
    put_along_axis_grad = staticmethod(_put_along_axis_grad)
    prod = staticmethod(_prod)
    sign = staticmethod(lambda a: a.sign())
    exp = staticmethod(lambda a: a.exp())
    log = staticmethod(lambda a: a.log())
    sqrt = staticmethod(lambda a: a.sqrt())
    sin = staticmethod(lambda a: a.sin())
    cos = staticmethod(lambda a: a.cos())
    sinh = staticmethod(lambda a: a.sinh())
    cosh = staticmethod(lambda a: a.cosh())
    log1p = staticmethod(lambda a: a.log1p())
    polygamma = staticmethod(lambda n, a: Polygamma.call(n, a))
    trigamma = staticmethod(lambda a: Polygamma.call(1, a))
    trunc = staticmethod(lambda a: a.trunc())
    floor_divide = staticmethod(lambda a, b: (a / b).floor())  # only a quotient with zero gradient is needed
    tanh = staticmethod(lambda a: a.tanh())
    abs = staticmethod(lambda a: a.abs())
    maximum = staticmethod(Maximum.call)
    minimum = staticmethod(Minimum.call)
    cumprod = staticmethod(lambda a, axis, dtype=None: a.cumprod(axis))
    concatenate = staticmethod(lambda arrays, axis=0: Cat.call(list(arrays), axis))
    flip = staticmethod(lambda a, axis: a.flip(axis))
    moveaxis = staticmethod(lambda a, source, destination: a.movedim(source, destination))
    ones_like = staticmethod(lambda a: Tensor._make(array_namespace(a._data).ones_like(a._data)))


tensor_namespace = TensorNamespace()
