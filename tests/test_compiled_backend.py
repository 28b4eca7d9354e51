"""chainrule.backend.compiled: the numba switch (kernels compile lazily; importing chainrule never
imports numba, so start-up does not pay for it)."""
import subprocess
import sys

from chainrule.backend import compiled


def test_switch_off_by_environment(monkeypatch):
    monkeypatch.setenv("CHAINRULE_NUMBA", "0")
    assert compiled.enabled() is False
    monkeypatch.setenv("CHAINRULE_NUMBA", "1")
    assert compiled.enabled() is (compiled.importlib.util.find_spec("numba") is not None)


def test_importing_chainrule_does_not_import_numba():
    code = "import sys, chainrule, chainrule.nn, chainrule.optim; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
