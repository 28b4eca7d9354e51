"""Every public Module class of chainrule.nn documents itself in one style (numpydoc): a one-line
summary, a ``Shape`` section with the input/output shapes in torch's notation, an ``Examples``
section whose doctest runs here, and ``Parameters`` naming its constructor's arguments. The
docstrings are valid reStructuredText (the API reference renders them; docs/conf.py registers
``Shape`` as a napoleon section).

The examples run with ``cr`` (chainrule) and ``nn`` (chainrule.nn) already imported, as torch's
examples assume ``torch`` and ``nn``, and print shapes or values that do not depend on random draws.
"""
import ast
import doctest
import inspect
import re
import sys
from pathlib import Path

import pytest

import chainrule as cr
from chainrule import nn

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS))
import check_docstrings  # noqa: E402

# constructor arguments a docstring may leave out: torch's deprecated loss arguments, factory
# keywords (every module with parameters takes them, as torch's) and private ones
UNDOCUMENTED_ARGS = {"self", "size_average", "reduce", "device", "dtype", "_weight", "_freeze"}


def module_classes():
    """chainrule.nn's public Module classes, and those of its subpackages documented in the same style
    (DistributedDataParallel's example makes a process group of one, MPI in this process)."""
    from chainrule.nn.utils import parametrize
    return [(name, obj) for name, obj in check_docstrings.public_names("chainrule.nn")
            if inspect.isclass(obj) and issubclass(obj, nn.Module)] + [
        ("DataParallel", nn.parallel.DataParallel), ("ParametrizationList", parametrize.ParametrizationList),
        ("DistributedDataParallel", nn.parallel.DistributedDataParallel)]


CLASSES = module_classes()
NAMES = [name for name, _ in CLASSES]


def sections(doc):
    """{numpydoc section title: its text} of a docstring (titles underlined with dashes)."""
    lines = inspect.cleandoc(doc).splitlines()
    heads = [i for i in range(len(lines) - 1)
             if lines[i].strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip())
             and len(lines[i + 1].strip()) == len(lines[i].strip())]
    out = {}
    for k, i in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else len(lines)
        out[lines[i].strip()] = "\n".join(lines[i + 2:end])
    return out


def problems(cls):
    """What a class's docstring lacks (empty when it follows the style)."""
    doc = vars(cls).get("__doc__") or ""
    if not doc.strip():
        return ["no docstring"]
    out = []
    lines = inspect.cleandoc(doc).splitlines()
    if len(lines) > 1 and lines[1].strip():
        out.append("the summary is not one line followed by a blank line")
    found = sections(doc)
    for title in ("Shape", "Examples"):
        if not found.get(title, "").strip():
            out.append(f"no {title} section")
    if ">>>" not in found.get("Examples", ""):
        out.append("no doctest in Examples")
    params = [p for p in inspect.signature(cls.__init__).parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in UNDOCUMENTED_ARGS]
    documented = set(re.findall(r"^(\w+)(?: :|,)", found.get("Parameters", ""), re.M))
    for name in (line.split(" :")[0] for line in found.get("Parameters", "").splitlines() if " : " in line):
        documented.update(n.strip() for n in name.split(","))
    lacking = [p.name for p in params if p.name not in documented]
    if lacking:
        out.append(f"Parameters lacks {lacking}")
    return out


def test_there_are_many_module_classes():
    assert len(CLASSES) > 100 and "Linear" in NAMES and "TransformerEncoderLayer" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_module_docstring_follows_the_style(name):
    cls = dict(CLASSES)[name]
    assert problems(cls) == [], (name, problems(cls))
    doc = check_docstrings.own_doc(cls)
    fixed = check_docstrings.escape_plain(inspect.cleandoc(doc).splitlines())
    assert check_docstrings.rst_problems("\n".join(fixed)) == [], name


def test_the_style_check_fails_without_shape_or_examples():
    class NoShape(nn.Module):
        """Doubles its input.

        Parameters
        ----------
        scale : float
            The factor.

        Examples
        --------
        >>> 1 + 1
        2
        """

        def __init__(self, scale, extra):
            super().__init__()

    class Bare(nn.Module):
        pass

    assert "no Shape section" in problems(NoShape) and "Parameters lacks ['extra']" in problems(NoShape)
    assert problems(Bare) == ["no docstring"]


def _run_examples(name, doc):
    cr.manual_seed(0)
    globs = {"cr": cr, "nn": nn, "F": nn.functional}
    test = doctest.DocTestParser().get_doctest(doc, globs, f"chainrule.nn.{name}", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    out = []
    failed, attempted = runner.run(test, out=out.append)
    return (failed, attempted), "".join(out)


@pytest.mark.parametrize("name", NAMES)
def test_module_examples_run(name):
    doc = sections(check_docstrings.own_doc(dict(CLASSES)[name])).get("Examples", "")
    (failed, attempted), report = _run_examples(name, doc)
    assert attempted > 0 and failed == 0, report


def test_a_wrong_example_fails():
    (failed, attempted), report = _run_examples("X", ">>> nn.Linear(2, 3)(cr.zeros(4, 2)).shape\n"
                                                     "chainrule.Size([4, 2])\n")
    assert (failed, attempted) == (1, 1) and "chainrule.Size([4, 3])" in report


def test_the_docs_render_shape_as_a_section():
    """docs/conf.py registers ``Shape`` with napoleon: without it napoleon reads the section's lines as
    parameters."""
    napoleon = pytest.importorskip("sphinx.ext.napoleon")
    settings = {t.id: ast.literal_eval(node.value) for node in ast.parse((DOCS / "conf.py").read_text()).body
                if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name) and t.id.startswith("napoleon_")}
    config = napoleon.Config(**settings)
    lines = check_docstrings.escape_plain(inspect.cleandoc(check_docstrings.own_doc(nn.Linear)).splitlines())
    text = str(napoleon.GoogleDocstring(str(napoleon.NumpyDocstring(lines, config, what="class")), config,
                                        what="class"))
    assert ".. rubric:: Shape" in text and ".. rubric:: Examples" in text and ":param in_features:" in text
    assert ":param - Input" not in text and check_docstrings.rst_problems(text) == []
