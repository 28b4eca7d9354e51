"""A safe evaluator for scalar arithmetic expressions, for ``chainrule explain``.

The text is parsed with ``ast`` and only a whitelist is evaluated (never ``eval``): numbers,
the given variable names, + - * / **, unary - and +, and calls of a few math functions by name.
Anything else (attributes, subscripts, lambdas, comprehensions, unknown names, keywords) is
refused with an ``ExpressionError`` that says what and where.
"""
import ast
import math

MAX_LENGTH = 2000      # characters; also bounds the parser's recursion
MAX_EXPONENT = 1000    # |b| in a ** b
MAX_MAGNITUDE = 1e300  # any intermediate result

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_FUNCTIONS = {"exp": 1, "log": 1, "sin": 1, "cos": 1, "tanh": 1, "sigmoid": 1, "relu": 1, "max": 2, "min": 2}


class ExpressionError(ValueError):
    """An expression outside the whitelist, or one whose value gets out of bounds."""


def parse(text):
    """Parse ``text`` and check every node against the whitelist; returns the expression's AST."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; at most {MAX_LENGTH} are allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as e:
        raise ExpressionError(f"not a valid expression: {text!r} ({getattr(e, 'msg', type(e).__name__)})") from None
    for node in ast.walk(tree.body):
        _check(node)
    return tree.body


def _check(node):
    where = f"at column {getattr(node, 'col_offset', 0) + 1}"
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise ExpressionError(f"only numbers are allowed as constants, not {node.value!r} {where}")
        if abs(node.value) > MAX_MAGNITUDE:
            raise ExpressionError(f"the number at {where[3:]} is larger than {MAX_MAGNITUDE:g}")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed {where} (use + - * / **)")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"unary operator {type(node.op).__name__} is not allowed {where}")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            shown = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(f"call of '{shown}' is not allowed {where}; functions: {', '.join(_FUNCTIONS)}")
        if node.keywords or len(node.args) != _FUNCTIONS[node.func.id] or \
                any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"{node.func.id}() takes {_FUNCTIONS[node.func.id]} positional argument(s) {where}")
    elif isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise ExpressionError(f"name '{node.id}' is not allowed {where}")
    elif not isinstance(node, (ast.operator, ast.unaryop, ast.Load)):
        raise ExpressionError(f"{type(node).__name__} is not allowed {where}: only numbers, variable names, "
                              f"+ - * / **, unary -, and calls of {', '.join(_FUNCTIONS)}")


def evaluate(tree, variables, cr):
    """Evaluate a checked AST over ``variables`` (name -> leaf Tensor) with chainrule ops.

    Returns (result, steps, names): steps lists (tensor, text) for every op result in evaluation
    order, the text written over its operands' names ("x + y", "q * z"); names maps each step's
    name (q, r, s, ... in order, the last one f) and each variable to its tensor.
    """
    steps = []

    def value_of(node):
        if isinstance(node, ast.Constant):
            return float(node.value), repr(node.value)
        if isinstance(node, ast.Name):
            if node.id not in variables:
                raise ExpressionError(f"unknown name '{node.id}': give it a value as {node.id}=NUMBER")
            return variables[node.id], node.id
        if isinstance(node, ast.UnaryOp):
            v, text = value_of(node.operand)
            if isinstance(node.op, ast.UAdd):
                return v, text
            return record(-v, f"-{text}") if hasattr(v, "shape") else (-v, f"-{text}")
        if isinstance(node, ast.BinOp):
            (a, ta), (b, tb) = value_of(node.left), value_of(node.right)
            sym = _BINARY[type(node.op)]
            if sym == "**" and abs(_number(b)) > MAX_EXPONENT:
                raise ExpressionError(f"exponent {_number(b):g} is too large (|exponent| <= {MAX_EXPONENT})")
            if not hasattr(a, "shape") and not hasattr(b, "shape"):  # two numbers: fold
                a = cr.tensor(a, dtype=cr.float64)
            result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                      "/": lambda: a / b, "**": lambda: a ** b}[sym]()
            return record(result, f"{ta} {sym} {tb}")
        (args, texts) = zip(*(value_of(a) for a in node.args))
        args = [a if hasattr(a, "shape") else cr.tensor(a, dtype=cr.float64) for a in args]
        fn = node.func.id
        result = {"max": lambda: cr.maximum(*args), "min": lambda: cr.minimum(*args)}.get(
            fn, lambda: getattr(args[0], fn)())()
        return record(result, f"{fn}({', '.join(texts)})")

    def record(result, text):
        v = _number(result)
        if not math.isfinite(v) or abs(v) > MAX_MAGNITUDE:
            raise ExpressionError(f"{text} = {v:g}: the result is not a finite number of magnitude <= {MAX_MAGNITUDE:g}")
        # operands are written by placeholder \0i\0 until the steps get their names
        steps.append([result, text])
        return result, f"\0{len(steps) - 1}\0"

    result, _ = value_of(tree)
    names = dict(variables)
    fresh = (n for n in ("q", "r", "s", "t", "u", "v", *(f"q{i}" for i in range(1, len(steps) + 1)))
             if n not in variables and n != "f")
    step_names = [next(fresh) for _ in steps[:-1]] + ["f" if "f" not in variables else "out"]
    for (tensor, _), name in zip(steps, step_names):
        names[name] = tensor
    for step in steps:
        for i, name in enumerate(step_names):
            step[1] = step[1].replace(f"\0{i}\0", name)
    return result, [(name, tensor, text) for name, (tensor, text) in zip(step_names, steps)], names


def _number(v):
    return float(v._data.reshape(())) if hasattr(v, "_data") else float(v)
