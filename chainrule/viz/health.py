"""Gradient health: per-layer gradient norms, dead ReLUs and saturated sigmoids/tanhs.

    rec = cr.viz.record_activations(model)   # forward hooks on ReLU/Sigmoid/Tanh modules
    loss = loss_fn(model(x), y); loss.backward()
    stats = cr.viz.grad_stats(model, rec)      # after backward, before zero_grad
    rec.remove()

Vanishing gradients show as norms shrinking layer by layer towards the input (with many saturated
sigmoids); exploding ones as norms growing; dead ReLUs as units that output 0 for a whole batch.
"""
import numpy as np

SATURATION = 0.05  # a sigmoid output below 0.05 or above 0.95 (local gradient < 0.0475) is saturated


def _np(a):
    return np.asarray(a.get() if hasattr(a, "get") else a)


class ActivationRecord:
    """The last output of every ReLU, Sigmoid and Tanh module of a model (module path -> array),
    kept by forward hooks until ``remove()`` (or the end of a ``with`` block)."""

    KINDS = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}

    def __init__(self, model):
        self.outputs, self.kind, self._handles = {}, {}, []
        for path, module in model.named_modules():
            kind = self.KINDS.get(type(module).__name__)
            if kind is not None:
                self.kind[path] = kind
                self._handles.append(module.register_forward_hook(self._keeper(path)))

    def _keeper(self, path):
        def keep(module, args, output):
            self.outputs[path] = _np(output._data)
        return keep

    def remove(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def record_activations(model):
    """Start recording the outputs of ``model``'s ReLU/Sigmoid/Tanh modules (see ``ActivationRecord``)."""
    return ActivationRecord(model)


def grad_stats(model, activations=None, saturation=SATURATION):
    """Gradient health of ``model`` after ``backward()``, as plain numbers:

    grad_norm:  {module path: L2 norm of the gradients of the parameters it owns directly}, in
                ``named_modules`` order (inputs first); parameters without a gradient are skipped.
    dead_relu:  {ReLU path: fraction of its units (output positions; dim 0 is the batch) that are 0
                for every sample of the last recorded batch}.
    saturated:  {Sigmoid/Tanh path: fraction of its outputs with sigmoid s < saturation or
                s > 1 - saturation (tanh: |t| > 1 - 2 saturation, the same inputs scaled)}.

    The last two need ``activations``, a ``record_activations(model)`` record.
    """
    norms = {}
    for path, module in model.named_modules():
        grads = [_np(p.grad._data).astype(np.float64) for _, p in module.named_parameters(recurse=False)
                 if p.grad is not None]
        if grads:
            norms[path or type(module).__name__] = float(np.sqrt(sum(float((g * g).sum()) for g in grads)))
    dead, saturated = {}, {}
    if activations is not None:
        for path, out in activations.outputs.items():
            kind = activations.kind[path]
            if kind == "relu":
                units = out.reshape(out.shape[0], -1) if out.ndim > 1 else out.reshape(1, -1)
                dead[path] = float(np.mean(np.all(units == 0, axis=0))) if units.size else 0.0
            elif out.size:
                x = out.astype(np.float64)
                bad = (x < saturation) | (x > 1 - saturation) if kind == "sigmoid" else np.abs(x) > 1 - 2 * saturation
                saturated[path] = float(bad.mean())
    return {"grad_norm": norms, "dead_relu": dead, "saturated": saturated}
