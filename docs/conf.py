"""Sphinx configuration for chainrule's documentation.

Build (warnings are errors; tutorials are executed, their output and pictures generated):

    pip install -e '.[docs]' && python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference pages (docs/api/*.rst) hold one ``chainrule-api`` directive each: it expands at
build time into autodoc entries for every public name of the namespace, the same names
``docs/check_docstrings.py`` checks. Tutorials are the scripts in docs/tutorials_src/, run by
sphinx-gallery into docs/tutorials/ (generated; never edited or committed).
"""
import io
import re
import os
import sys
from contextlib import redirect_stdout

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["COLUMNS"] = "100"          # argparse help wraps at a fixed width: the CLI page is reproducible
os.environ.setdefault("MPLBACKEND", "Agg")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # the repository root: chainrule without installing
sys.path.insert(0, HERE)                    # check_docstrings

from docutils import nodes  # noqa: E402
from docutils.parsers.rst import directives  # noqa: E402
from sphinx.util.docutils import SphinxDirective  # noqa: E402

import check_docstrings  # noqa: E402

project = "chainrule"
author = "the chainrule authors"
copyright = "the chainrule authors"
release = version = "0.1.0"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax", "myst_parser",
              "sphinx_gallery.gen_gallery"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "tutorials_src/README.txt", "**/*.ipynb", "**/*.py.md5", "**/*.codeobj.json"]
default_role = "code"                   # `x` in a docstring is code, as in Markdown
html_theme = "furo"
html_title = "chainrule"
templates_path = []
html_static_path = []

toc_object_entries = False              # 1,200 entries in every page's navigation cost half the build time
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_inherit_docstrings = False      # a name's entry shows its own docstring (what check_docstrings checks)
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_custom_sections = ["Shape"]      # the nn modules' numpydoc "Shape" section (input/output shapes)
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
suppress_warnings = ["myst.header", "myst.xref_missing"]

sphinx_gallery_conf = {
    "examples_dirs": "tutorials_src",
    "gallery_dirs": "tutorials",
    "filename_pattern": r".*\.py$",     # execute every tutorial
    "within_subsection_order": "FileNameSortKey",
    "capture_repr": ("_repr_html_", "__repr__"),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "write_computation_times": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    # a tutorial whose source is unchanged is not run again, unless CHAINRULE_DOCS_RERUN=1 (the test sets it)
    "run_stale_examples": os.environ.get("CHAINRULE_DOCS_RERUN") == "1",
}

# ---- the generated API reference -----------------------------------------------------------------

# classes whose documented members are listed under them (the others show their constructor only)
WITH_MEMBERS = {"Module", "Optimizer", "Distribution", "DataLoader", "Dataset", "Graph", "Explanation", "Function",
                "Generator", "TracedModule", "Parameter", "Sequential", "LRScheduler", "Size"}


_HOMES = None


def home(namespace, name, obj):
    """Where an object exported under several names gets its one indexed entry: the namespace whose
    path is the longest prefix of the module defining it (``no_grad``: chainrule.autograd)."""
    global _HOMES
    if _HOMES is None:
        _HOMES, seen = {}, {}
        for ns in check_docstrings.NAMESPACES:
            if ns == "chainrule.Tensor":
                continue
            for n, o in check_docstrings.public_names(ns):
                seen.setdefault(id(o), []).append((ns, n))
        for key, places in seen.items():
            module = None
            for ns, n in places:
                o = getattr(check_docstrings.resolve(ns), n)
                module = getattr(o, "__module__", None) or ""
                break
            best = max(places, key=lambda p: (len(p[0]) if module.startswith(p[0]) else -1, -places.index(p)))
            _HOMES[key] = best
    if namespace == "chainrule.Tensor":
        return namespace, name
    return _HOMES.get(id(obj), (namespace, name))


def _entry(namespace, name, obj):
    import inspect
    full = f"{namespace}.{name}"
    if namespace == "chainrule.Tensor":
        kind = "autoproperty" if isinstance(obj, property) else "automethod"
        return [f".. {kind}:: {full}", ""]
    elsewhere = home(namespace, name, obj) != (namespace, name)
    if inspect.isclass(obj):
        lines = [f".. autoclass:: {full}"]
        if elsewhere:
            lines.append("   :no-index:")
        elif name in WITH_MEMBERS and namespace != "chainrule" or (namespace == "chainrule" and name == "Generator"):
            lines.append("   :members:")
        return lines + [""]
    kind = "autofunction" if inspect.isroutine(obj) else "autodata"
    return [f".. {kind}:: {full}"] + (["   :no-index:"] if elsewhere else []) + [""]


class NamespaceDirective(SphinxDirective):
    """``.. chainrule-api:: chainrule.nn``: a summary table and one autodoc entry per public name."""
    required_arguments = 1
    option_spec = {"exclude": directives.unchanged}

    def run(self):
        namespace = self.arguments[0]
        exclude = set((self.options.get("exclude") or "").split())
        pairs = [(n, o) for n, o in check_docstrings.public_names(namespace) if n not in exclude]
        lines = [".. list-table::", "   :widths: 30 70", ""]
        for name, obj in pairs:
            first = check_docstrings.own_doc(obj).split("\n\n")[0].replace("\n", " ").strip()
            target = ".".join(home(namespace, name, obj))
            summary = _summary(first) if first else f"No docstring yet: as ``{_torch_name(namespace, name)}``."
            lines += [f"   * - :py:obj:`{name} <{target}>`", f"     - {summary}"]
        lines.append("")
        for name, obj in pairs:
            lines += _entry(namespace, name, obj)
        return self.parse_text_to_nodes("\n".join(lines))


def _torch_name(namespace, name):
    return "torch" + namespace[len("chainrule"):] + "." + name


def _summary(text):
    """A docstring's first paragraph as plain, safe table text (its markup can span lines)."""
    text = text if len(text) <= 160 else text[:157].rsplit(" ", 1)[0] + " ..."
    text = re.sub(r":\w+:`([^`]*)`", r"\1", text).replace("`", "")
    text = re.sub(r"::$", ":", text)
    return re.sub(r"([\\*|_<>\[\]])", r"\\\1", text)


# ---- docstrings: plain-text math (|x|, a * b) made safe; a docstring that is still not valid
# reStructuredText is shown verbatim, and docs/check_docstrings.py --rst lists it for fixing ----

def process_docstring(app, what, name, obj, options, lines):
    if not lines:
        return
    fixed = check_docstrings.escape_plain(lines)
    if check_docstrings.rst_problems("\n".join(fixed)):
        fixed = ["::", ""] + ["    " + line for line in lines] + [""]
    lines[:] = fixed


class CliDirective(SphinxDirective):
    """``.. chainrule-cli::``: the ``--help`` text of ``chainrule`` and of each subcommand, as built now."""

    def run(self):
        from chainrule.cli import SUBCOMMANDS, build_parser
        parser = build_parser()
        out = []
        texts = [("chainrule", parser.format_help())]
        for name in SUBCOMMANDS:
            buf = io.StringIO()
            with redirect_stdout(buf):
                try:
                    parser.parse_args([name, "--help"])
                except SystemExit:
                    pass
            texts.append((f"chainrule {name}", buf.getvalue()))
        for title, text in texts:
            section = nodes.section(ids=[nodes.make_id(title)])
            section += nodes.title(text=title)
            section += nodes.literal_block(text, text, language="text")
            out.append(section)
        return out


def setup(app):
    app.connect("autodoc-process-docstring", process_docstring, priority=400)   # before napoleon (500)
    app.add_directive("chainrule-api", NamespaceDirective)
    app.add_directive("chainrule-cli", CliDirective)
    return {"parallel_read_safe": True}
