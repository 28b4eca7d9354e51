"""The training examples run, learn, and port to PyTorch by changing only their imports."""
import os
import runpy
import subprocess
import sys

import pytest
from threadpoolctl import threadpool_limits

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


@pytest.fixture(autouse=True)
def one_blas_thread():
    """These tiny GEMMs run fastest, and steadiest on a busy machine, on one BLAS thread."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def run_example(name, *argv):
    """Load examples/<name>.py (its __main__ block skipped) and call its main(argv)."""
    path = os.path.join(EXAMPLES, name + ".py")
    namespace = runpy.run_path(path, run_name="example")  # defines everything, skips the __main__ block
    return namespace["main"](list(argv))


def as_torch(name):
    """The example's source with its chainrule imports turned into torch's."""
    with open(os.path.join(EXAMPLES, name + ".py")) as f:
        source = f.read()
    ported = source.replace("import chainrule as torch", "import torch").replace("from chainrule", "from torch")
    assert ported != source and "chainrule" not in ported.split('"""', 2)[2]  # only imports changed
    return ported


def test_mlp_training_loop_learns_the_digits(capsys):
    accuracy = run_example("mlp_training_loop", "--epochs", "3")
    assert accuracy > 0.9
    assert "epoch   3  train loss" in capsys.readouterr().out


def test_cnn_digits_learns(capsys):
    accuracy = run_example("cnn_digits", "--epochs", "2")
    assert accuracy > 0.8
    assert "epoch   2" in capsys.readouterr().out


def test_examples_run_as_scripts(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["mlp_training_loop.py", "--epochs", "1"])
    runpy.run_path(os.path.join(EXAMPLES, "mlp_training_loop.py"), run_name="__main__")
    assert "epoch   1" in capsys.readouterr().out


@pytest.mark.parametrize("name, epochs, target", [("mlp_training_loop", "3", 0.9), ("cnn_digits", "2", 0.8)])
def test_examples_run_unchanged_under_pytorch(tmp_path, name, epochs, target):
    # its own process, with one OpenMP thread: torch's spinning thread pool next to NumPy's BLAS
    # threads (or a busy machine) makes these tiny batches 5x slower
    script = tmp_path / (name + "_torch.py")
    script.write_text(as_torch(name) + "\nassert 'chainrule' not in torch.__file__\n")
    proc = subprocess.run([sys.executable, str(script), "--epochs", epochs], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]  # "epoch   3  ...  test accuracy 91.94%"
    assert float(last.rsplit(" ", 1)[1].rstrip("%")) / 100 > target
