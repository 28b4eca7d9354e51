"""torch.serialization's allowlist API (``add_safe_globals``, ``safe_globals``, ...) for torch code
that wraps ``torch.load`` in it. ``chainrule.load`` reads safetensors and never unpickles, so the
allowlist changes nothing here; it is kept, and reported by ``get_safe_globals``, so that such
programs run unchanged."""
from .io import save, load  # noqa: F401 (torch.serialization.save/load)

DEFAULT_PROTOCOL = 2
_safe_globals = []


def add_safe_globals(safe_globals):
    _safe_globals.extend(safe_globals)


def get_safe_globals():
    return list(_safe_globals)


def clear_safe_globals():
    _safe_globals.clear()


class safe_globals:
    """Context manager: ``safe_globals`` are on the allowlist inside the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._before = list(_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _safe_globals[:] = self._before


__all__ = ["save", "load", "DEFAULT_PROTOCOL", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]
