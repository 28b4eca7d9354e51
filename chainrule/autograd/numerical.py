"""Finite-difference checks of analytic gradients (central differences, float64): gradcheck for
first derivatives, gradgradcheck for second ones; either takes a function or a Module."""
import copy

import numpy as np

from ..tensor import Tensor
from .function import grad as _grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` / ``gradgradcheck`` when analytical and numerical gradients differ."""
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]


def _output_copy(fn, inputs, oi):
    """Output ``oi`` as a flat float64 copy (an output may be a view of the perturbed input)."""
    return np.array(_outputs(fn, inputs)[oi]._data, dtype=np.float64).ravel()


def _as_function(fn, inputs):
    """(function, inputs): a Module becomes a float64 copy of it, checked with respect to its
    inputs and every parameter that requires grad (the user's module is left as it is)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not hasattr(fn, "parameters") or not hasattr(fn, "double"):
        return fn, inputs
    module = copy.deepcopy(fn).double()
    inputs = tuple(x.detach().double().requires_grad_(x.requires_grad)
                   if isinstance(x, Tensor) and x.is_floating_point() else x for x in inputs)
    params = tuple(p for p in module.parameters() if p.requires_grad)
    n = len(inputs)
    return (lambda *args: module(*args[:n])), inputs + params


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, *, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, nondet_tol=0.0, check_undefined_grad=True,
              check_grad_dtypes=False, check_batched_grad=False, check_batched_forward_grad=False, masked=None):
    """Compare every analytic Jacobian entry d(output)/d(input) with (f(x+eps) - f(x-eps)) / 2eps.

    Returns True, or raises GradcheckError (returns False with raise_exception=False) naming the
    output, the input, the worst entry and both values. torch's other options are accepted: ``fast_mode``
    runs this full check, ``check_forward_ad=True`` raises NotImplementedError, and nondet_tol,
    check_undefined_grad, check_grad_dtypes and the batched checks are not run.
    """
    if check_forward_ad:
        raise NotImplementedError("gradcheck: forward-mode AD checks are not supported (reverse mode only)")
    if not check_backward_ad:
        return True
    fn, inputs = _as_function(fn, inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    outputs = _outputs(fn, inputs)
    for oi, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        n_out = out.numel()
        analytic = {i: np.zeros((n_out, inputs[i].numel())) for i in wrt}
        for k in range(n_out):
            seed = np.zeros(n_out, dtype=out._data.dtype)
            seed[k] = 1
            grads = _grad(_outputs(fn, inputs)[oi], [inputs[i] for i in wrt],
                          grad_outputs=Tensor._make(seed.reshape(out._data.shape)), allow_unused=True)
            for i, g in zip(wrt, grads):
                if g is not None:
                    analytic[i][k] = np.asarray(g._data, dtype=np.float64).ravel()
        for i in wrt:
            x = inputs[i]._data
            numeric = np.zeros_like(analytic[i])
            with no_grad():
                for j in range(x.size):
                    at = np.unravel_index(j, x.shape)  # C order like the analytic rows, for any memory layout
                    orig = x[at].item()
                    x[at] = orig + eps
                    plus = _output_copy(fn, inputs, oi)
                    x[at] = orig - eps
                    minus = _output_copy(fn, inputs, oi)
                    x[at] = orig
                    numeric[:, j] = (plus - minus) / (2 * eps)
            err = np.abs(analytic[i] - numeric) - (atol + rtol * np.abs(numeric))
            if err.size and (err.max() > 0 or not np.isfinite(analytic[i]).all()):
                bad = np.unravel_index(np.nanargmax(np.where(np.isfinite(err), err, np.inf)), err.shape)
                msg = (f"Jacobian mismatch for output {oi} with respect to input {i}: worst entry "
                       f"(output element {bad[0]}, input element {bad[1]}): numerical {numeric[bad]:.10g} "
                       f"vs analytical {analytic[i][bad]:.10g} (atol={atol}, rtol={rtol})")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, *,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  gen_non_contig_grad_outputs=False, masked=None):
    """gradcheck of the first derivatives: the vector-Jacobian products of ``fn`` with
    ``grad_outputs`` (random when not given), taken with create_graph, checked with respect to the
    inputs and the grad_outputs by central differences (torch's options as in gradcheck)."""
    if check_fwd_over_rev:
        raise NotImplementedError("gradgradcheck: forward-mode AD checks are not supported (reverse mode only)")
    if not check_rev_over_rev:
        return True
    fn, inputs = _as_function(fn, inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradgradcheck expects at least one input tensor to require gradient")
    outputs = [o for o in _outputs(fn, inputs) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._make(rng.standard_normal(o._data.shape)).requires_grad_() for o in outputs]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    n = len(inputs)

    def first_derivatives(*args):
        xs, gos = args[:n], args[n:]
        with enable_grad():  # also when gradcheck evaluates it under no_grad for the differences
            outs = [o for o in _outputs(fn, xs) if o.requires_grad]
            grads = _grad(outs, [xs[i] for i in wrt], grad_outputs=list(gos), create_graph=True,
                          allow_unused=True)
        return tuple(g for g in grads if g is not None and g.requires_grad)
    return gradcheck(first_derivatives, tuple(inputs) + tuple(grad_outputs), eps, atol, rtol, raise_exception)
