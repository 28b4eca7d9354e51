"""``chainrule explain EXPR name=value ...``: the backward pass of a scalar expression, step by step.

    $ chainrule explain "(x + y) * z" x=-2 y=5 z=-4

prints the forward value of every intermediate (q = x + y = 3, f = q * z = -12), the engine's
backward walk as a table, and the gradients df/dq, df/dx, ... ``--svg g.svg`` saves the picture
(Graphviz or the built-in layout), ``--html page.html`` the interactive step-through page. The expression is parsed with
``ast`` and evaluated over a whitelist (chainrule.viz.expr); anything else exits with status 2.
"""
import sys

import numpy as np

from ..viz.graph import describe


def add_arguments(parser):
    parser.add_argument("expression", help='arithmetic over named scalars, e.g. "(x + y) * z"; '
                        "+ - * / ** and exp log sin cos tanh sigmoid relu max min")
    parser.add_argument("values", nargs="*", metavar="name=value", help="a value for each variable, e.g. x=-2")
    parser.add_argument("--svg", metavar="PATH", help="also save the computation graph (.svg, .png or .dot)")
    parser.add_argument("--html", metavar="PATH", help="also write the interactive step-through page (one "
                        "self-contained .html file: Next/Back or the arrow keys walk the backward pass)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")


def _parse_values(pairs):
    from ..viz.expr import ExpressionError
    values = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or name.startswith("_"):
            raise ExpressionError(f"expected name=value, got {pair!r}")
        try:
            values[name] = float(text)
        except ValueError:
            raise ExpressionError(f"the value of {name} must be a number, got {text!r}") from None
    return values


def run(args):
    import chainrule as cr
    from ..viz.expr import ExpressionError, parse, evaluate

    try:
        tree = parse(args.expression)
        values = _parse_values(args.values)
        variables = {k: cr.tensor(v, dtype=cr.float64, requires_grad=True) for k, v in values.items()}
        try:
            with np.errstate(all="ignore"):  # overflow is reported by evaluate's magnitude check
                result, steps, names = evaluate(tree, variables, cr)
        except RecursionError:
            raise ExpressionError("the expression is nested too deeply") from None
        if not steps or result._node is None:
            raise ExpressionError("the expression does not depend on any variable through an operation: "
                                  "nothing to differentiate")
    except ExpressionError as e:
        print(f"chainrule explain: error: {e}", file=sys.stderr)
        return 2

    width = max(len(f"{name} = {text}") for name, _, text in steps)
    print("forward:")
    for name, tensor, text in steps:
        print(f"  {f'{name} = {text}'.ljust(width)}  = {describe(tensor._data)}")
    explanation = cr.viz.explain(result, names=names)
    print("\nbackward (downstream = upstream x local):")
    print(explanation.table(markdown=args.markdown))
    print("\ngradients:")
    for name in [name for name, _, _ in reversed(steps[:-1])] + list(values):
        grad = explanation.grad(name) if name in explanation.leaf_grads or name not in values else None
        parts = explanation.sums.get(name)
        note = f"  (sum of {len(parts)} branches: {' + '.join(describe(v) for _, v in parts)})" if parts else ""
        print(f"  df/d{name} = {describe(grad) if grad is not None else '0  (f does not depend on it)'}{note}")
    if args.svg:
        try:
            explanation.graph.save(args.svg)
        except (RuntimeError, ValueError, OSError) as e:
            print(f"chainrule explain: error: {e}", file=sys.stderr)
            return 1
        print(f"\ngraph saved to {args.svg}")
    if args.html:
        try:
            explanation.to_html(args.html, title=f"Backward pass of f = {args.expression}")
        except OSError as e:
            print(f"chainrule explain: error: {e}", file=sys.stderr)
            return 1
        print(f"\nstep-through page saved to {args.html}")
    return 0
