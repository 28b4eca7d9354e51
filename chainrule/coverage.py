"""API coverage: which of torch's public names chainrule has. ``python -m chainrule.coverage``.

torch is a test dependency only: it is imported when the report runs, never when this module is
imported (without torch the command says so and exits 2).

    python -m chainrule.coverage                      # every namespace, counts and missing names
    python -m chainrule.coverage --namespace torch.nn  # one namespace (repeatable)
    python -m chainrule.coverage --markdown docs/api-coverage.md

Each torch namespace is compared with chainrule's namespace of the same path (``torch.nn`` with
``chainrule.nn``, ``torch.Tensor`` with ``chainrule.Tensor``); a name counts as present when
chainrule's namespace has an attribute of that name. Which torch names count ("public names"):

1. The name does not start with ``_`` and is not a submodule.
2. ``torch.Tensor``: every method and property (``shape``, ``grad``, ``add_``, ...). The module
   namespaces: the names in the module's ``__all__`` if it has one (not for ``torch``, whose
   ``__all__`` omits ``set_grad_enabled``, ``unique``, ...), else every name; and of those only
   functions, classes and dtypes (constants, layouts, memory formats, dicts dropped), defined in
   torch (not ``typing.Optional``, ``math``, ...) but not in its plumbing (``torch._jit_internal``,
   ``torch.overrides``, ``torch.jit``, the deprecated DataPipes of ``torch.utils.data.datapipes``),
   no TorchScript IR binding (a class of metaclass ``pybind11_type``: ``Graph``, ``ScriptModule``,
   ...), no re-export of ``torch.Tensor``.
3. Not deprecated: no ``__deprecated__`` mark (``nn.Container``, ``nn.utils.clip_grad_norm``) and no
   "This function is deprecated" in the docstring (``torch.range``, ``nn.init.normal``).
4. Not in the curated exclusions (``_EXCLUDED``): legacy typed tensors and storages
   (``FloatTensor``, ``*Storage``); other backends' kernels (cudnn, miopen, mkldnn, fbgemm, vulkan,
   xpu, ipu, mtia, ...) and ``native_*``; quantization (``q_*``, ``*quantiz*``, ``int_repr``, the
   ``qint``, sub-byte and float8 dtypes); autocast plumbing (``*autocast_*``; ``torch.autocast``
   stays); symbolic shapes (``sym_*``, ``Sym*``); functionalization copies (``*_copy``); ``unsafe_*``;
   the kernels behind nn modules (``lstm_cell``, ``batch_norm_elemt``, ``grid_sampler_2d``, ...);
   TorchScript helpers (``parse_ir``, ``fork``, ...); internals (``has_torch_function``, ...);
   and the stubs of removed functions (``torch.solve``, ``Tensor.symeig``, ...).
5. ``torch`` only: no in-place function variants ``torch.f_`` (``Tensor.f_`` is counted).
"""
import argparse
import importlib
import re
import sys
import textwrap
from collections import namedtuple

NAMESPACES = ("torch", "torch.Tensor", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils",
              "torch.optim", "torch.optim.lr_scheduler", "torch.utils.data", "torch.distributions")

_EXCLUDED = re.compile(r"""
    .*Storage(Base)? | (Bool|Byte|Char|Short|Int|Long|Half|BFloat16|Float|Double)Tensor       # legacy types
  | .*(^|_)(cudnn|miopen|mkldnn|fbgemm|vulkan|xla|xpu|ipu|mtia|maia|hpu|mps)(_|$).* | native_.*  # backends
  | q_.* | .*quantiz.* | int_repr | qscheme | .*qparams.* | fused_moving_avg.*               # quantization
  | q?u?int[1-7] | (q|qu)int.* | bits.* | bit | float(8|4)_.*                               # exotic dtypes
  | .*autocast_.* | sym_.* | Sym[A-Z].* | .*_copy | unsafe_.* | slice_inverse                 # plumbing
  | (rnn_relu|rnn_tanh|lstm|gru)(_cell)? | batch_norm_.+ | grid_sampler(_[23]d)? | conv_tbc  # nn kernels
  | affine_grid_generator | convolution | constant_pad_nd | norm_except_dim | frobenius_norm
  | segment_reduce | dsmm | hsmm | saddmm
  | fork | wait | import_ir_module.* | merge_type_from_type_comment | parse_(ir|schema|type_comment)  # JIT
  | unify_type_list | init_num_threads | get_file_path | prepare_multiprocessing_environment  # internals
  | profiler_allow_.* | compiled_with_cxx11_abi | classproperty | DisableTorchFunction.* | LoggerBase
  | FatalError | has_torch_function.* | is_distributed | module_load | output_nr | factory_kwargs
  | assert_int_or_pair
  | volatile | reinforce | eig | lstsq | matrix_rank | solve | symeig                         # removed
""", re.VERBOSE)
_DEPRECATED = re.compile(r"This (function|method) is (now )?deprecated")
_PLUMBING = ("torch._jit_internal", "torch.overrides", "torch.jit", "torch.utils.data.datapipes")

Coverage = namedtuple("Coverage", "namespace total have missing")


def _resolve(dotted):
    """The module or attribute at a dotted path, or None where there is none."""
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as e:
        if not e.name or not (dotted == e.name or dotted.startswith(e.name + ".")):
            raise  # a module that exists failed to import
    parent, _, attr = dotted.rpartition(".")
    owner = _resolve(parent) if parent else None
    return getattr(owner, attr, None)


def _kept(torch, namespace, obj):
    """The kind and origin rules (3) for a name of a module namespace."""
    if isinstance(obj, torch.dtype):
        return True
    if type(obj).__name__ == "module" or not callable(obj) or obj is torch.Tensor and namespace != "torch":
        return False
    if isinstance(obj, type) and type(obj).__name__ == "pybind11_type":
        return False
    origin = getattr(obj, "__module__", None) or ""
    return (origin.split(".")[0] == "torch"
            and not any(origin == p or origin.startswith(p + ".") for p in _PLUMBING))


def _deprecated(obj):
    doc = getattr(obj, "__doc__", None)
    return isinstance(getattr(obj, "__deprecated__", None), str) or (
        isinstance(doc, str) and _DEPRECATED.search(doc) is not None)


def torch_names(namespace):
    """The public names of one torch namespace, by the rules of the module docstring."""
    import torch
    where = _resolve(namespace)
    declared = getattr(where, "__all__", None) if namespace not in ("torch", "torch.Tensor") else None
    names = [n for n in (declared or dir(where)) if not n.startswith("_") and not _EXCLUDED.fullmatch(n)
             and hasattr(where, n) and not _deprecated(getattr(where, n))]
    if namespace == "torch":
        names = [n for n in names if not n.endswith("_")]
    if namespace != "torch.Tensor":
        names = [n for n in names if _kept(torch, namespace, getattr(where, n))]
    return sorted(set(names))


def report(namespaces=NAMESPACES):
    """One Coverage per torch namespace: total public names, those chainrule has, those missing."""
    rows = []
    for namespace in namespaces:
        if namespace not in NAMESPACES:
            raise ValueError(f"unknown namespace {namespace!r}; one of: {', '.join(NAMESPACES)}")
        ours = _resolve("chainrule" + namespace[len("torch"):])
        names = torch_names(namespace)
        have = [n for n in names if ours is not None and hasattr(ours, n)]
        rows.append(Coverage(namespace, len(names), have, sorted(set(names) - set(have))))
    return rows


def _percent(row):
    return 100.0 * len(row.have) / row.total if row.total else 100.0


def _overall(rows):
    return Coverage("all", sum(r.total for r in rows), [n for r in rows for n in r.have], [])


def format_text(rows, width=100):
    out = []
    for row in rows:
        out.append(f"{row.namespace}: {len(row.have)} / {row.total} ({_percent(row):.1f}%), "
                   f"{len(row.missing)} missing")
        out.extend(textwrap.wrap(", ".join(row.missing), width, initial_indent="    ", subsequent_indent="    "))
    everything = _overall(rows)
    out.append(f"all: {len(everything.have)} / {everything.total} ({_percent(everything):.1f}%)")
    return "\n".join(out) + "\n"


def format_markdown(rows, width=100):
    import torch
    out = ["# API coverage", "",
           f"Which public names of torch {torch.__version__.split('+')[0]} chainrule has, namespace by namespace.",
           "Generated by `python -m chainrule.coverage --markdown docs/api-coverage.md`; which names count as",
           "public is set out in the docstring of `chainrule/coverage.py`.", "",
           "| torch namespace | chainrule has | torch total | coverage |", "|---|---:|---:|---:|"]
    out += [f"| `{r.namespace}` | {len(r.have)} | {r.total} | {_percent(r):.1f}% |" for r in rows]
    everything = _overall(rows)
    out += [f"| **all** | {len(everything.have)} | {everything.total} | {_percent(everything):.1f}% |", ""]
    for row in rows:
        out += [f"## `{row.namespace}`: {len(row.missing)} missing", ""]
        out += textwrap.wrap(", ".join(f"`{n}`" for n in row.missing), width) or ["(none)"]
        out.append("")
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m chainrule.coverage",
                                     description="Which of torch's public names chainrule has.")
    parser.add_argument("--namespace", action="append", choices=NAMESPACES,
                        help="limit the report to this torch namespace (repeatable)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as Markdown to PATH")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("chainrule.coverage compares chainrule with torch, and torch is not installed: "
              "pip install 'chainrule[test]' (or torch==2.13.0)", file=sys.stderr)
        return 2
    rows = report(args.namespace or NAMESPACES)
    sys.stdout.write(format_text(rows))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(format_markdown(rows))
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
