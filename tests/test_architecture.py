"""The architecture, checked: imports point down the layers, no module plants globals in another,
the engine and the ops stay within their line budget (README: "Reading the code")."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "chainrule"

# Lowest first. A module belongs to the layer of the longest prefix that names it.
LAYERS = (
    ("arrays and dtypes", ("chainrule.dtypes", "chainrule.backend")),
    ("graph", ("chainrule.autograd.grad_mode", "chainrule.autograd.node", "chainrule.autograd.engine",
               "chainrule.autograd.anomaly")),
    ("ops", ("chainrule.ops",)),
    ("tensor core", ("chainrule.tensor.core",)),
    ("tensor methods", ("chainrule.tensor.creation", "chainrule.tensor.conversion", "chainrule.tensor.elementwise",
                        "chainrule.tensor.reduce", "chainrule.tensor.movement", "chainrule.tensor.linalg",
                        "chainrule.tensor.inplace", "chainrule.tensor.namespace", "chainrule.tensor.scan",
                        "chainrule.tensor.indexing", "chainrule.tensor.special", "chainrule.tensor.contract",
                        "chainrule.tensor.sparse", "chainrule.tensor.extra",
                        "chainrule.tensor.numeric", "chainrule.tensor.storage", "chainrule.tensor.settings",
                        "chainrule.tensor.signal", "chainrule.tensor.joining", "chainrule.tensor.draws")),
    ("tensor variants table", ("chainrule.tensor",)),
    ("autograd on tensors", ("chainrule.autograd",)),
    ("libraries", ("chainrule.nn", "chainrule.optim", "chainrule.io", "chainrule.utils", "chainrule.viz",
                   "chainrule.cuda", "chainrule.models", "chainrule.amp",
                   "chainrule.distributions", "chainrule.distributed", "chainrule.multiprocessing",
                   "chainrule.profiler")),
    ("package and commands", ("chainrule", "chainrule.cli", "chainrule.__main__")),
)

# Lines per package (README states them): small enough to read in an afternoon.
LINE_BUDGET = {"autograd": 1000, "ops": 3800}
# Libraries over autograd.grad that torch keeps under torch.autograd (not the engine a student reads)
OUTSIDE_BUDGET = ("autograd/functional.py", "autograd/profiler.py", "autograd/forward_ad.py")
TENSOR_CORE_BUDGET = 300


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, path.name == "__init__.py"


MODULES = {name: (path, is_pkg) for name, path, is_pkg in _modules()}


def _layer(module):
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > len(best[1])):
                best = (rank, p)
    assert best is not None, f"{module} is in no layer of tests/test_architecture.py: add it"
    return best[0]


def _resolve(module, is_pkg, node):
    """The chainrule modules an import statement loads (from-imports of submodules included)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "chainrule"]
    base = module if is_pkg else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    target = (base + "." + node.module if node.module else base) if node.level else node.module
    if not target or target.split(".")[0] != "chainrule":
        return []
    subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
    return subs if len(subs) == len(node.names) else subs + [target]


def _imports():
    edges = {}
    for module, (path, is_pkg) in MODULES.items():
        tree = ast.parse(path.read_text())
        found = set()
        for node in ast.walk(tree):  # nested (function-level) imports count too
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(t for t in _resolve(module, is_pkg, node) if t != module)
        edges[module] = found
    return edges


def test_every_import_points_down_the_layers():
    upward = [f"{m} ({LAYERS[_layer(m)][0]}) imports {t} ({LAYERS[_layer(t)][0]})"
              for m, targets in _imports().items() for t in sorted(targets) if _layer(t) > _layer(m)]
    assert not upward, "imports pointing up the layers:\n" + "\n".join(upward)


def test_no_import_cycles():
    edges = _imports()
    state = {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(edges.get(m, ())):
            if state.get(t) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])


def test_no_module_assigns_another_modules_globals():
    """Lower layers learn about the Tensor type through one binding call, never by a higher module
    writing their globals (``engine.Tensor = Tensor``)."""
    planted = []
    for module, (path, is_pkg) in MODULES.items():
        tree = ast.parse(path.read_text())
        aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for a in node.names:
                    if any(t in MODULES and t.endswith("." + a.name) for t in _resolve(module, is_pkg, node)):
                        aliases.add(a.asname or a.name)
            elif isinstance(node, ast.Import):  # chainrule's modules only (sys.excepthook is the stdlib's API)
                aliases.update((a.asname or a.name).split(".")[0] for a in node.names
                               if a.name.split(".")[0] == "chainrule")
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in aliases:
                    planted.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} assigns {t.value.id}.{t.attr}")
    assert not planted, "\n".join(planted)


def _lines(path):
    return len(path.read_text().splitlines())


def test_engine_and_ops_within_line_budget():
    over = []
    for package, budget in LINE_BUDGET.items():
        n = sum(_lines(p) for p in (PACKAGE / package).rglob("*.py")
                if p.relative_to(PACKAGE).as_posix() not in OUTSIDE_BUDGET)
        if n > budget:
            over.append(f"chainrule/{package}/: {n} lines, budget {budget}")
    core = _lines(PACKAGE / "tensor" / "core.py")
    if core > TENSOR_CORE_BUDGET:
        over.append(f"chainrule/tensor/core.py: {core} lines, budget {TENSOR_CORE_BUDGET}")
    assert not over, "over the line budget (README: Reading the code):\n" + "\n".join(over)


def test_the_layer_check_can_fail(tmp_path):
    """The resolver sees an upward import written the way the old tensor.py planted its globals."""
    tree = ast.parse("from ..tensor import Tensor\nfrom . import engine\nengine.Tensor = Tensor\n")
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.update(_resolve("chainrule.autograd.node", False, node))
    assert "chainrule.tensor" in found and "chainrule.autograd.engine" in found
    assert _layer("chainrule.tensor") > _layer("chainrule.autograd.node")


def test_variants_table_yields_every_variant():
    import chainrule as cr
    from chainrule.tensor import VARIANTS
    missing = []
    for name, _, kinds in VARIANTS:
        for kind in kinds.split():
            where, attr = {"method": (cr.Tensor, name), "function": (cr, name), "free": (cr, name),
                           "inplace": (cr.Tensor, name + "_")}.get(kind, (cr.Tensor, kind))
            if not callable(getattr(where, attr, None)):
                missing.append(f"{name}: {kind}")
    assert not missing, missing
    t = cr.tensor([1.0, -2.0])
    assert (2 - t).tolist() == [1.0, 4.0] and (t ** 2).tolist() == [1.0, 4.0] and (-t).tolist() == [-1.0, 2.0]
    t += 1
    assert t.tolist() == [2.0, -1.0]
    import pytest
    with pytest.raises(TypeError, match="exp\\(\\): argument 'input' must be Tensor"):
        cr.exp([1.0])
