"""``torch.autograd.functional``: derivatives of a whole function at a point, built on ``autograd.grad``.

    jacobian(f, x)        d f(x) / d x, shape f(x).shape + x.shape (tuples of them for tuple inputs/outputs)
    hessian(f, x)         the Jacobian of the gradient of a scalar f
    vjp(f, x, v)          (f(x), v^T J): one backward pass
    jvp(f, x, v)          (f(x), J v): two backward passes (the "double vjp" trick: J v = d(u^T J)/du . v)
    vhp(f, x, v)          (f(x), v^T H)
    hvp(f, x, v)          (f(x), H v)

As torch's: the inputs are differentiated at their values (detached first unless ``create_graph``), an
output that does not depend on an input gives zeros there (``strict=True`` raises instead), and the
results carry no graph unless ``create_graph=True``. Jacobians are built one output element at a time
(reverse mode); ``vectorize`` and ``strategy="forward-mode"`` are accepted and run the same loop.
"""
from ..tensor import Tensor, functions
from .function import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, what, fn_name):
    """(tuple of Tensors, whether x was one Tensor)."""
    if isinstance(x, Tensor):
        return (x,), True
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return tuple(x), False
    raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors but the value "
                    f"given has type {type(x)}.")


def _prepare(inputs, create_graph):
    """Inputs to differentiate at: detached leaves (a differentiable view under create_graph)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in inputs)


def _outputs(func, inputs, fn_name):
    with enable_grad():
        out = func(*inputs)
    return _as_tuple(out, "outputs of the user-provided function", fn_name)


def _check_v(v, outputs, fn_name, what="output"):
    v, _ = _as_tuple(v, "v", fn_name)
    if len(v) != len(outputs):
        raise RuntimeError(f"{fn_name}: v has {len(v)} Tensors but the function's {what}s are {len(outputs)}")
    for i, (a, b) in enumerate(zip(v, outputs)):
        if a.shape != b.shape:
            raise RuntimeError(f"Entry {i} in v has invalid size: should be {b.shape} but got {a.shape}.")
    return v


def _grads(outputs, inputs, grad_outputs, create_graph, strict, fn_name):
    """autograd.grad with zeros for inputs the outputs do not reach (or strict's error)."""
    diff = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    got = _grad([o for o, _ in diff], inputs, [g for _, g in diff], retain_graph=True, create_graph=create_graph,
                allow_unused=True) if diff else [None] * len(inputs)
    res = []
    for i, (g, x) in enumerate(zip(got, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn_name}: the output of the user-provided function is independent of input "
                                   f"{i}. This is not allowed in strict mode.")
            g = x.new_zeros(x.shape)
        res.append(g)
    return tuple(res)


def _finish(values, create_graph):
    return tuple(v if create_graph else v.detach() for v in values)


def _fit(values, single):
    return values[0] if single else values


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J), as ``torch.autograd.functional.vjp``; v may be None for a one-element output."""
    inputs, single_in = _as_tuple(inputs, "inputs", "vjp")
    inputs = _prepare(inputs, create_graph)
    outputs, single_out = _outputs(func, inputs, "vjp")
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single Tensor "
                               "with a single element.")
        v = (outputs[0].new_ones(outputs[0].shape),)
    v = _check_v(v, outputs, "vjp")
    res = _grads(outputs, inputs, v, create_graph, strict, "vjp")
    return _fit(_finish(outputs, create_graph), single_out), _fit(_finish(res, create_graph), single_in)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), as ``torch.autograd.functional.jvp``; v may be None for a one-element input."""
    inputs, single_in = _as_tuple(inputs, "inputs", "jvp")
    inputs = _prepare(inputs, create_graph)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                               "Tensor with a single element.")
        v = (inputs[0].new_ones(inputs[0].shape),)
    v = _check_v(v, inputs, "jvp", what="input")
    outputs, single_out = _outputs(func, inputs, "jvp")
    with enable_grad():
        us = tuple(o.new_zeros(o.shape).requires_grad_(True) for o in outputs)
        ut_j = _grads(outputs, inputs, us, True, strict, "jvp")  # u^T J, linear in u
        res = _grads(ut_j, us, v, create_graph, strict, "jvp")
    return _fit(_finish(outputs, create_graph), single_out), _fit(_finish(res, create_graph), single_out)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func / d inputs, as ``torch.autograd.functional.jacobian``: one Tensor of shape out.shape + in.shape,
    or tuples over inputs (and over outputs, outermost) where those are tuples."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    inputs, single_in = _as_tuple(inputs, "inputs", "jacobian")
    inputs = _prepare(inputs, create_graph)
    outputs, single_out = _outputs(func, inputs, "jacobian")
    table = []
    for out in outputs:
        rows = [[] for _ in inputs]
        flat = out.reshape(-1)
        for k in range(flat.numel()):
            if out.requires_grad:
                got = _grads((flat[k],), inputs, (flat.new_ones(()),), create_graph, strict, "jacobian")
            elif strict:
                raise RuntimeError("jacobian: the output of the user-provided function is independent of the "
                                   "inputs. This is not allowed in strict mode.")
            else:
                got = tuple(x.new_zeros(x.shape) for x in inputs)
            for r, g in zip(rows, got):
                r.append(g if create_graph else g.detach())
        blocks = []
        for x, r in zip(inputs, rows):
            stacked = r[0].new_zeros((0,) + tuple(x.shape)) if not r else _stack(r)
            blocks.append(stacked.reshape(tuple(out.shape) + tuple(x.shape)))
        table.append(_fit(tuple(blocks), single_in))
    return _fit(tuple(table), single_out)


def _stack(rows):
    return functions["stack"](rows)


def _scalar_function(func, fn_name):
    def scalar(*inputs):
        out = func(*inputs)
        outputs, _ = _as_tuple(out, "outputs of the user-provided function", fn_name)
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor with a single "
                               f"element")
        return outputs[0].reshape(())
    return scalar


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``, as ``torch.autograd.functional.hessian``: shape in.shape + in.shape, or a
    tuple (over inputs) of tuples for tuple inputs."""
    scalar = _scalar_function(func, "hessian")
    inputs, single_in = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        return jacobian(scalar, xs[0] if single_in else xs, create_graph=True, strict=strict)
    return jacobian(gradient, inputs[0] if single_in else inputs, create_graph=create_graph, strict=strict)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) of a scalar ``func``, as ``torch.autograd.functional.vhp``."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v), as ``torch.autograd.functional.hvp``: for the twice-differentiable scalar functions
    it takes the Hessian is symmetric, so H v = (v^T H)^T, one double backward (torch's own formula makes two)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn_name):
    inputs, single_in = _as_tuple(inputs, "inputs", fn_name)
    inputs = _prepare(inputs, create_graph)
    outputs, _ = _outputs(_scalar_function(func, fn_name), inputs, fn_name)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                               "Tensor with a single element.")
        v = (inputs[0].new_ones(inputs[0].shape),)
    v = _check_v(v, inputs, fn_name, what="input")
    with enable_grad():
        g = _grads(outputs, inputs, (outputs[0].new_ones(()),), True, strict, fn_name)
        res = _grads(g, inputs, v, create_graph, strict, fn_name)
    return _finish(outputs, create_graph)[0], _fit(_finish(res, create_graph), single_in)
