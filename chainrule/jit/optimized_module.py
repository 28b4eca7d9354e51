"""What ``cr.compile(module)`` returns, as torch's ``OptimizedModule``: a Module that holds the
original as ``_orig_mod`` (so its state_dict keys read ``_orig_mod.<name>``, as torch's, and code
that strips that prefix on loading works), runs calls through the compiled function, and forwards
every other attribute (methods, config) to the original module."""
from ..nn import Module


class OptimizedModule(Module):
    def __init__(self, mod, compiled):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled"] = compiled  # not a submodule: no state of its own
        self.training = mod.training

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            pass
        compiled = self.__dict__.get("_compiled")
        if compiled is not None and name in ("stats", "plans", "cache", "passes", "fn"):
            return getattr(compiled, name)
        return getattr(self._modules["_orig_mod"], name)

    def __repr__(self):
        return f"OptimizedModule(\n  (_orig_mod): {repr(self._orig_mod).replace(chr(10), chr(10) + '  ')}\n)"
