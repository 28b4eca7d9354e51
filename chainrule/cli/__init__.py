"""The ``chainrule`` command: subcommands register in ``SUBCOMMANDS``."""
import argparse
import importlib
import sys

# name -> (module under chainrule.cli, one-line help); each module has add_arguments(p) and run(args)
SUBCOMMANDS = {
    "train": ("train", "train a model on bundled data (digits), spiral or your own .npz"),
    "explain": ("explain", "explain the backward pass of a scalar expression step by step"),
    "export": ("export", "export a `chainrule train` run's classifier to ONNX and check it with onnxruntime"),
    "launch": ("launch", "run a chainrule command or a script as N processes through mpiexec (MPI)"),
}


def build_parser():
    parser = argparse.ArgumentParser(prog="chainrule", description="chainrule: autograd you can see.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        try:
            mod = importlib.import_module(f"chainrule.cli.{module}")
        except ImportError:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(p)
        p.set_defaults(run=mod.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 0
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
