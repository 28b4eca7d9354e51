"""Fail listing every public name of chainrule's documented namespaces that has no docstring.

    python docs/check_docstrings.py            # exit 1 and the list when a name lacks one
    python docs/check_docstrings.py --summary  # counts per namespace only
    python docs/check_docstrings.py --baseline docs/missing_docstrings.txt        # the CI check
    python docs/check_docstrings.py --write-baseline docs/missing_docstrings.txt  # after adding docstrings

The baseline lists the names that had no docstring when the check was introduced: with
``--baseline``, a public name without a docstring that is not in it fails the check, and so does a
name in it that now has one (remove it with ``--write-baseline``), so the list only shrinks.

The API reference (docs/api/) is generated from these same names (``public_names``), so a name
that passes here is a name with a page entry, and a name missing here would be an empty entry.

Which names are public: a namespace's ``__all__`` when it has one, else every attribute not
starting with ``_`` that is not a module; of those, the functions, classes and other callables
(dtypes and constants such as ``chainrule.float32`` are data, documented on the page's intro).
``chainrule.Tensor``: every method and property defined on the class. A name has a docstring
when the object's own ``__doc__`` (a property's getter's, a class's own, not a base class's) is
non-empty after stripping.
"""
import argparse
import importlib
import inspect
import io
import re
import sys
import types

# the namespaces the reference documents, in its order (docs/api/<name>.rst per entry)
NAMESPACES = ("chainrule", "chainrule.Tensor", "chainrule.autograd", "chainrule.nn", "chainrule.nn.functional",
              "chainrule.nn.init", "chainrule.nn.utils", "chainrule.optim", "chainrule.optim.lr_scheduler",
              "chainrule.utils.data", "chainrule.distributions", "chainrule.linalg", "chainrule.special",
              "chainrule.sparse", "chainrule.amp", "chainrule.cuda", "chainrule.viz", "chainrule.jit", "chainrule.onnx",
              "chainrule.distributed")


def resolve(namespace):
    """The module (or the Tensor class) a dotted namespace names."""
    if namespace == "chainrule.Tensor":
        return importlib.import_module("chainrule").Tensor
    return importlib.import_module(namespace)


def _documentable(obj):
    return callable(obj) or isinstance(obj, property) or inspect.isclass(obj)


def public_names(namespace):
    """Sorted (name, object) pairs of the namespace's public callables and classes."""
    where = resolve(namespace)
    if inspect.isclass(where):
        names = [n for n in vars(where) if not n.startswith("_")]
        objs = {n: vars(where)[n] for n in names}
        objs = {n: (o.__func__ if isinstance(o, (staticmethod, classmethod)) else o) for n, o in objs.items()}
        return sorted((n, o) for n, o in objs.items() if _documentable(o))
    declared = getattr(where, "__all__", None)
    names = declared if declared is not None else [n for n in dir(where) if not n.startswith("_")]
    pairs = []
    for n in dict.fromkeys(names):
        obj = getattr(where, n, None)
        if obj is None or isinstance(obj, types.ModuleType) or not _documentable(obj):
            continue
        pairs.append((n, obj))
    return sorted(pairs, key=lambda p: p[0])


def own_doc(obj):
    """The object's own docstring ('' when it has none)."""
    if isinstance(obj, property):
        doc = obj.__doc__ or (obj.fget.__doc__ if obj.fget else None)
    elif inspect.isclass(obj):
        doc = vars(obj).get("__doc__")
    else:
        doc = getattr(obj, "__doc__", None)
        if doc is not None and doc == getattr(type(obj), "__doc__", None) and not inspect.isroutine(obj):
            doc = None   # an instance (e.g. a Generator object) carries its class's doc, not its own
    return (doc or "").strip() if isinstance(doc, str) else ""


_LITERAL = re.compile(r"``.+?``|`[^`]+`|(?<!\S)\*\*?\w[^*\n]*?\w\*\*?(?![\w*])")  # code, `x`, *emphasis*


def _escape_line(line):
    out, last = [], 0
    for m in _LITERAL.finditer(line):
        out += [_escape_text(line[last:m.start()]), m.group(0)]
        last = m.end()
    return "".join(out + [_escape_text(line[last:])])


def _escape_text(text):
    text = re.sub(r"([*|])", r"\\\1", text)                 # a * b, |x|: plain math, not markup
    return re.sub(r"(\w)_(?=\W|$)", r"\1\\_", text)          # add_, x_: names, not link targets


def escape_plain(lines):
    """Docstring lines with the plain-text math that reStructuredText would misread escaped: ``*``
    and ``|`` outside code, emphasis and literal blocks, and a name's trailing underscore."""
    out, literal_indent = [], None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None and line.strip() and indent <= literal_indent:
            literal_indent = None
        if literal_indent is not None or line.lstrip().startswith(">>>") or line.lstrip().startswith("..."):
            out.append(line)
        else:
            out.append(_escape_line(line))
            if line.rstrip().endswith("::"):
                literal_indent = indent
    return out


def rst_problems(text):
    """The reStructuredText problems (warnings and errors) docutils reports for a docstring."""
    from docutils import nodes
    from docutils.core import publish_doctree
    text = re.sub(r":[\w.:+-]+:`", "`", inspect.cleandoc(text))  # Sphinx roles: plain code for this check
    try:
        doc = publish_doctree(text, settings_overrides={
            "report_level": 2, "halt_level": 5, "warning_stream": io.StringIO(), "file_insertion_enabled": False,
            "raw_enabled": False})
    except Exception as e:  # a directive that needs Sphinx's environment: the docs show it verbatim
        return [f"{type(e).__name__}: {e}"]
    return ([m.astext() for m in doc.findall(nodes.system_message) if m["level"] >= 2]
            + [f"problematic markup: {p.astext()}" for p in doc.findall(nodes.problematic)])


def bad_rst(namespaces=NAMESPACES):
    """{namespace: [names whose docstring is not valid reStructuredText even after escape_plain]}."""
    out = {}
    for ns in namespaces:
        bad = [n for n, obj in public_names(ns) if own_doc(obj)
               and rst_problems("\n".join(escape_plain(inspect.cleandoc(own_doc(obj)).splitlines())))]
        if bad:
            out[ns] = bad
    return out


def missing(namespaces=NAMESPACES):
    """{namespace: [names without a docstring]} (namespaces with none missing left out)."""
    out = {}
    for ns in namespaces:
        lacking = [n for n, obj in public_names(ns) if not own_doc(obj)]
        if lacking:
            out[ns] = lacking
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true", help="counts per namespace, not the names")
    parser.add_argument("--rst", action="store_true",
                        help="also list docstrings that are not valid reStructuredText (shown verbatim in the docs)")
    parser.add_argument("--baseline", metavar="PATH", help="fail only on names not listed in PATH (and on stale entries)")
    parser.add_argument("--write-baseline", metavar="PATH", help="write the names now missing to PATH and exit")
    args = parser.parse_args(argv)
    if args.write_baseline or args.baseline:
        now = sorted(f"{ns}.{n}" for ns, names in missing().items() for n in names)
        if args.write_baseline:
            with open(args.write_baseline, "w") as f:
                f.write("".join(line + "\n" for line in now))
            print(f"wrote {len(now)} names to {args.write_baseline}")
            return 0
        with open(args.baseline) as f:
            known = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        new_names, stale = sorted(set(now) - known), sorted(known - set(now))
        print(f"{len(now)} public names without a docstring, {len(known)} in {args.baseline}")
        if new_names:
            print(f"{len(new_names)} public names without a docstring (add one): {', '.join(new_names)}")
        if stale:
            print(f"{len(stale)} names in {args.baseline} now have a docstring or are gone (run "
                  f"python docs/check_docstrings.py --write-baseline {args.baseline}): {', '.join(stale)}")
        return 1 if new_names or stale else 0
    if args.rst:
        for ns, names in bad_rst().items():
            print(f"{ns}: {len(names)} docstrings shown verbatim (not valid reStructuredText): {', '.join(names)}")
    lacking = missing()
    total = 0
    for ns in NAMESPACES:
        names = lacking.get(ns, [])
        total += len(names)
        count = len(public_names(ns))
        print(f"{ns}: {len(names)} of {count} public names without a docstring")
        if names and not args.summary:
            print("    " + ", ".join(names))
    print(f"total: {total} public names without a docstring")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
