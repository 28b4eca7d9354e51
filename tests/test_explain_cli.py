"""`chainrule explain EXPR name=value ...`: the slides' numbers, and refusal of anything unsafe."""
import shutil
import subprocess
import sys

import pytest

from chainrule.cli import main
from chainrule.viz.expr import ExpressionError, parse


def run_cli(capsys, *argv):
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_mul_slide(capsys):
    code, out, err = run_cli(capsys, "(x + y) * z", "x=-2", "y=5", "z=-4")
    assert code == 0 and err == ""
    lines = [line.strip() for line in out.splitlines()]
    assert "q = x + y  = 3" in lines and "f = q * z  = -12" in lines
    for grad in ("df/dq = -4", "df/dx = -4", "df/dy = -4", "df/dz = 3"):
        assert grad in lines
    assert any(line.split()[:3] == ["1", "f", "Mul"] for line in lines)


def test_sigmoid_gate_slide(capsys):
    code, out, _ = run_cli(capsys, "1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))",
                           "w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3")
    assert code == 0
    assert "= 0.7311" in out
    for grad in ("df/dw0 = -0.1966", "df/dx0 = 0.3932", "df/dw1 = -0.3932", "df/dx1 = -0.5898",
                 "df/dw2 = 0.1966"):
        assert grad in out


def test_apples_bill(capsys):
    code, out, _ = run_cli(capsys, "(apple * apples + melon * melons) * tax",
                           "apple=10", "apples=2", "melon=30", "melons=1", "tax=1.05")
    assert code == 0
    assert "= 52.5" in out and "df/dapple = 2.1" in out and "df/dapples = 10.5" in out and "df/dtax = 50" in out


def test_functions_and_branch_sums(capsys):
    code, out, _ = run_cli(capsys, "max(x, y) * x + relu(y) + sigmoid(x) + tanh(y) + sin(x) + cos(y) + log(x) - min(x, y)",
                           "x=3", "y=1")
    assert code == 0 and "sum of" in out and "df/dx" in out


def test_markdown_and_dot_output(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "x * y", "x=2", "y=3", "--markdown", "--svg", str(tmp_path / "g.dot"))
    assert code == 0 and "| step | node |" in out
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    if shutil.which("dot"):
        code, _, _ = run_cli(capsys, "x * y", "x=2", "y=3", "--svg", str(tmp_path / "g.svg"))
        assert code == 0 and "<svg" in (tmp_path / "g.svg").read_text()


@pytest.mark.parametrize("expr, message", [
    ("__import__('os')", "__import__"),
    ("x.__class__", "Attribute is not allowed"),
    ("x.real", "Attribute is not allowed"),
    ("x[0]", "Subscript is not allowed"),
    ("(lambda: 1)()", "not allowed"),
    ("lambda: 1", "Lambda is not allowed"),
    ("[x for x in y]", "not allowed"),
    ("open('/etc/passwd')", "call of 'open'"),
    ("exp(x, y)", "takes 1 positional"),
    ("exp(x=1)", "takes 1 positional"),
    ("x ** 100000", "exponent"),
    ("x ** y", "exponent"),            # y = 5000 here: bounded at evaluation time
    ("exp(exp(exp(x)))", "finite"),    # overflows: refused, not printed as inf
    ("2 ** 1000 * x", "finite"),
    ("x if y else 1", "IfExp is not allowed"),
    ("x and y", "BoolOp is not allowed"),
    ("x // y", "FloorDiv"),
    ("'a' * x", "only numbers"),
    ("unknown * x", "unknown name 'unknown'"),
    ("_secret * x", "name '_secret'"),
    ("x = 1", "not a valid expression"),
    ("x" + "+x" * 2000, "characters long"),
    ("2 * 3", "nothing to differentiate"),
])
def test_refused(capsys, expr, message):
    code, out, err = run_cli(capsys, expr, "x=10", "y=5000")
    assert code == 2 and out == ""
    assert err.startswith("chainrule explain: error:") and message in err


def test_bad_values(capsys):
    assert run_cli(capsys, "x * 2", "x=abc")[0] == 2
    assert run_cli(capsys, "x * 2", "x")[0] == 2
    assert run_cli(capsys, "x * 2", "__x=1")[0] == 2


def test_deep_nesting_is_refused_cleanly(capsys):
    code, _, err = run_cli(capsys, "--", "-" * 1900 + "x", "x=1")  # "--": the text starts with '-'
    assert code in (0, 2) and "Traceback" not in err


def test_parse_never_evaluates():
    with pytest.raises(ExpressionError):
        parse("__import__('os').system('echo pwned')")


def test_console_entry_point():
    r = subprocess.run([sys.executable, "-m", "chainrule", "explain", "(x + y) * z", "x=-2", "y=5", "z=-4"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "df/dz = 3" in r.stdout
    r = subprocess.run([sys.executable, "-m", "chainrule", "explain", "__import__('os')"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "not allowed" in r.stderr and r.stdout == ""


def test_svg_and_png_without_graphviz(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as on a fresh pip install
    code, out, err = run_cli(capsys, "(x + y) * z", "x=-2", "y=5", "z=-4", "--svg", str(tmp_path / "g.svg"))
    assert code == 0 and err == "" and "graph saved to" in out
    svg = (tmp_path / "g.svg").read_text()
    assert svg.count('class="node ') == 5 and svg.count('class="edge"') == 4 and "q = Add" in svg
    code, _, _ = run_cli(capsys, "x * y", "x=2", "y=3", "--svg", str(tmp_path / "g.png"))
    assert code == 0 and (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    code, _, err = run_cli(capsys, "x * y", "x=2", "y=3", "--svg", str(tmp_path / "nowhere" / "g.svg"))
    assert code == 1 and "does not exist" in err
