"""Compiled CPU kernels: numba where it is installed, a NumPy path everywhere.

Convention: kernels live in their own modules (``backend/*_kernels.py``) that import numba at the
top and compile with ``numba.njit(cache=True, ...)`` (later processes load the machine code from
``__pycache__``). Callers import such a module only inside the function that needs it, after
``enabled()`` said yes, so importing chainrule never imports numba and ``chainrule train`` starts
as fast as without it. ``enabled()`` is False when numba is missing or CHAINRULE_NUMBA=0, which is
how the tests run the NumPy fallback on a machine that has numba.
"""
import importlib.util
import os

_has_numba = []  # [bool] once looked up


def enabled():
    """True when compiled kernels are used: numba importable and CHAINRULE_NUMBA is not "0"."""
    if os.environ.get("CHAINRULE_NUMBA", "1") == "0":
        return False
    if not _has_numba:
        _has_numba.append(importlib.util.find_spec("numba") is not None)
    return _has_numba[0]
