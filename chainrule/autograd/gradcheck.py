"""Finite-difference check of analytic gradients (central differences, float64)."""
import numpy as np

from ..tensor import Tensor
from .function import grad as _grad
from .grad_mode import no_grad


class GradcheckError(RuntimeError):
    pass


def _outputs(fn, inputs):
    out = fn(*inputs)
    return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]


def _output_copy(fn, inputs, oi):
    """Output ``oi`` as a flat float64 copy (an output may be a view of the perturbed input)."""
    return np.array(_outputs(fn, inputs)[oi].data, dtype=np.float64).ravel()


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare every analytic Jacobian entry d(output)/d(input) with (f(x+eps) - f(x-eps)) / 2eps.

    Returns True, or raises GradcheckError (returns False with raise_exception=False) naming the
    output, the input, the worst entry and both values.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
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
            seed = np.zeros(n_out, dtype=out.data.dtype)
            seed[k] = 1
            grads = _grad(_outputs(fn, inputs)[oi], [inputs[i] for i in wrt],
                          grad_outputs=Tensor._make(seed.reshape(out.data.shape)), allow_unused=True)
            for i, g in zip(wrt, grads):
                if g is not None:
                    analytic[i][k] = np.asarray(g.data, dtype=np.float64).ravel()
        for i in wrt:
            x = inputs[i].data
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
