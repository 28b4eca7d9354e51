"""chainrule.io: ``save``/``load`` on safetensors files (nothing is ever unpickled)."""
from .checkpoint import save, load

__all__ = ["save", "load"]
