"""The compiled step's IR (``Step``), its passes (dead-code elimination, elementwise fusion,
buffer release here; constant folding, CSE and the fused kernels in ``jit/passes.py``) and the
plan they become: one generated Python function over array slots. Recording (``jit/compile.py``)
makes the steps; ``Plan`` runs them."""
import numpy as np

from ..autograd.engine import _accumulate, _fit
from ..autograd.node import Node as Ctx, root_array
from ..backend import NP, random as _random
from ..ops.registry import NO_CTX
from ..tensor import Tensor
from . import passes as _passes
from .steps import Step, _slots_in, _Ref, _NewList, _last_uses  # noqa: F401  (compile.py imports them from here)


PASSES = ("dce", "fold", "cse", "biasrelu", "optim", "ewise", "fuse", "release")  # the default, in the order they run
_UFUNCS = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.true_divide,
           "Exp": np.exp, "Tanh": np.tanh, "Neg": np.negative, "Sqrt": np.sqrt, "Log": np.log,
           "Sin": np.sin, "Cos": np.cos, "Abs": np.abs}


class GraphBreakError(RuntimeError):
    """fullgraph=True and ``fn`` did something the graph cannot hold."""


class _Break(Exception):
    pass


def _bn_update(stats, running_mean, running_var, momentum):
    """nn.functional.batch_norm's running-statistics update, on the statistics the replayed
    BatchNorm forward appended to ``stats``."""
    mean, var, per_channel = stats[0]
    running_mean._data *= 1 - momentum
    running_mean._data += momentum * mean
    running_var._data *= 1 - momentum
    running_var._data += momentum * var * (per_channel / (per_channel - 1))


def _dropout_mask(shape, p, dtype, device):
    """nn.functional._dropout's mask, drawn the same way (same generator, same order)."""
    keep = (_random.uniform_array(shape, 0.0, 1.0, dtype, device) >= p).astype(dtype)
    return (keep * (1.0 / (1 - p))).astype(dtype, copy=False)



# ---- passes --------------------------------------------------------------------------------
def dce(steps, outputs):
    """Keep a step only if it has an effect or a kept step (or the output) reads what it writes; a
    forward whose context no backward reads runs without one."""
    live = set(outputs)
    kept = []
    for st in reversed(steps):
        if st.effect or any(w in live for w in st.writes):
            if st.kind == "fwd" and st.p["ctx"] is not None and st.p["ctx"] not in live:
                st = Step("fwd", st.reads, (st.p["out"],), st.effect, **dict(st.p, ctx=None, needs=None))
            kept.append(st)
            live.update(st.reads)
    return kept[::-1]





def writer(steps, outputs, rec):
    """``can_write(a, out, i)``: may step i write its result ``out`` into slot a's array? Only where a
    was made by a step (never an input, parameter or constant), dies at step i, matches ``out``'s
    shape and dtype, and shares its memory with no value still live (views, saved arrays, results
    handed to ``.grad`` or returned)."""
    last = _last_uses(steps, outputs)
    owned = {w for st in steps if st.kind in ("fwd", "bwd", "add", "fit") for w in st.writes}
    by_root = {}
    for s, a in enumerate(rec.arrays):
        if isinstance(a, np.ndarray):
            by_root.setdefault(id(root_array(a)), []).append(s)
    escaped = set(rec.escaped) | {id(root_array(rec.arrays[s])) for s in outputs if rec.arrays[s] is not None}
    escaped |= {id(root_array(a)) for s, a in enumerate(rec.arrays) if isinstance(a, np.ndarray) and s not in owned}
    born = {}
    for i, st in enumerate(steps):
        for w in st.writes:
            born.setdefault(w, i)

    def can_write(a, out, i):
        arr, res = rec.arrays[a], rec.arrays[out]
        if a not in owned or last.get(a) != i or arr is None or arr.shape != res.shape or arr.dtype != res.dtype \
                or not arr.flags.writeable:
            return False
        r = id(root_array(arr))
        if r in escaped:
            return False
        if any(s != a and last.get(s, -1) > i and born.get(s, -1) <= i for s in by_root[r]):
            return False
        return not any(r in roots and born.get(c, 0) < i < last.get(c, -1) for c, roots in rec.hidden.items())
    return can_write


def fuse(steps, outputs, rec):
    """Elementwise forward ops become their NumPy ufunc (checked equal while tracing), and those and
    the gradient sums whose first operand dies there, sharing its memory with no other live value,
    become ``ufunc(a, b, out=a)``; runs of them are one step, one NumPy ``out=`` sequence."""
    can_write = writer(steps, outputs, rec)
    out, run = [], []
    for i, st in enumerate(steps):
        k = None
        if st.kind == "add" and can_write(st.reads[0], st.writes[0], i):
            k = (np.add, st.reads, st.writes[0], None, None, None, True, False)
        elif st.kind == "fwd" and st.p["ufunc"] is not None:  # the ufunc itself, in place where it can
            p = st.p
            k = (p["ufunc"], p["args"], p["out"], p["refs"], p["ctx"], (p["op"], p["needs"]),
                 can_write(p["args"][0], p["out"], i), rec.arrays[p["out"]].ndim == 0)
        if k is None:
            if run:
                out.append(_chain(run))
                run = []
            out.append(st)
        else:
            run.append((st, k))
    if run:
        out.append(_chain(run))
    return out


def _chain(run):
    reads = [s for st, _ in run for s in st.reads]
    writes_ = [w for st, _ in run for w in st.writes]
    return Step("chain", reads, writes_, any(st.effect for st, _ in run), ops=tuple(k for _, k in run))


# ---- the plan: one generated Python function, a line or two per step, slots as locals -------
class _Gen:
    """Emits the plan's source: slot s is the local ``v<s>``; everything else (op functions,
    literals, tensors read from outside, params) is a global ``k<n>`` of the generated function."""

    def __init__(self):
        self.globals = {"NP": NP, "NO_CTX": NO_CTX, "ndarray": np.ndarray, "asarray": np.asarray, "Ctx": Ctx,
                        "new": object.__new__, "_fit": _fit, "_accumulate": _accumulate, "make": Tensor._make,
                        "_dropout_mask": _dropout_mask, "_bn_update": _bn_update, "matmul": NP.matmul,
                        "maximum": np.maximum, "empty_like": np.empty_like, "empty": np.empty,
                        "ascontiguousarray": np.ascontiguousarray}
        self.names = {}
        self.lines = []

    def k(self, obj):
        key = id(obj)
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"k{len(self.names)}"
            self.globals[name] = obj
        return name

    def expr(self, v):
        if isinstance(v, _NewList):
            self.lines.append(f"v{v.slot} = []")
            return f"v{v.slot}"
        if isinstance(v, _Ref):
            return f"v{v.slot}"
        if isinstance(v, tuple):
            return "(" + "".join(self.expr(x) + ", " for x in v) + ")"
        if isinstance(v, list):
            return "[" + ", ".join(self.expr(x) for x in v) + "]"
        if isinstance(v, dict) and all(isinstance(x, str) for x in v):
            return "{" + ", ".join(f"{x!r}: {self.expr(y)}" for x, y in v.items()) + "}"
        if v is None or isinstance(v, bool):
            return repr(v)
        if _slots_in(v, []):
            raise TypeError(f"a param of type {type(v).__name__} holding tensors")
        return self.k(v)

    def arg(self, a, r):
        return f"v{a}" if r else self.expr(a)

    def leaf(self, ref):
        return f"inputs[{ref[1]}]" if ref[0] == "arg" else self.k(ref[1])

    def ctx(self, slot, op, needs):  # a graph Node without its __init__: backward reads needs and saved
        self.lines += [f"v{slot} = new(Ctx)", f"v{slot}.needs = {self.k(needs)}", f"v{slot}.saved = None"]

    def step(self, st):
        p, L = st.p, self.lines
        if st.kind == "fwd":
            args = ", ".join(self.arg(a, r) for a, r in zip(p["args"], p["refs"]))
            kw = "".join(f", {k}={self.expr(v)}" for k, v in p["params"].items())
            ctx = "NO_CTX"
            if p["ctx"] is not None:
                self.ctx(p["ctx"], p["op"], p["needs"])
                ctx = f"v{p['ctx']}"
            o = f"v{p['out']}"
            L += [f"{o} = {self.k(p['op'].forward)}({ctx}, NP, {args}{kw})",
                  f"if type({o}) is not ndarray: {o} = asarray({o})"]
        elif st.kind == "bwd":
            args = "".join(", " + self.arg(a, r) for a, r in zip(p["args"], p["refs"]))
            out = "None" if p["out"] is None else f"v{p['out']}"
            targets = ", ".join("_" if s is None else f"v{s}" for s in p["outs"])
            L.append(f"{targets}, = {self.k(p['op'].backward)}(v{p['ctx']}, NP, v{p['g']}, {out}{args})")
        elif st.kind == "add":
            L.append(f"v{st.writes[0]} = v{st.reads[0]} + v{st.reads[1]}")
        elif st.kind == "fit":
            L.append(f"v{st.writes[0]} = _fit(NP, v{st.reads[0]}, {self.k(p['shape'])}, {self.k(p['dtype'])})")
        elif st.kind == "load":
            kind, src = p["src"]
            L.append(f"v{st.writes[0]} = {self.k(src) if kind == 'obj' else self.leaf(src) + '.grad'}._data")
        elif st.kind == "acc":
            L.append("given = set()")
            L += [f"_accumulate({self.leaf(ref)}, v{s}, False, given)" for ref, s in p["accs"]]
        elif st.kind == "draw":
            L.append(f"v{st.writes[0]} = _dropout_mask({self.k(p['shape'])}, {self.k(p['prob'])}, "
                     f"{self.k(p['dtype'])}, {self.k(p['device'])})")
        elif st.kind == "call":
            L.append(f"{self.k(p['fn'])}({self.k(p['obj'])}{''.join(', ' + self.expr(a) for a in p['args'])})")
        elif st.kind == "bnupdate":
            L.append(f"_bn_update(v{st.reads[0]}, {self.k(p['mean'])}, {self.k(p['var'])}, {self.k(p['momentum'])})")
        elif st.kind == "bump":
            L.append(f"{self.k(p['t'])}._data += 1")
        elif st.kind == "view":
            L.append(f"v{st.writes[0]} = v{st.reads[0]}.reshape({self.k(p['shape'])})")
        elif st.kind == "derive":
            args = ", ".join(f"make(v{v})" if k == "t" else f"v{v}" if k == "a" else self.expr(v) for k, v in p["args"])
            L.append(f"r = {self.k(p['fn'])}({args})")
            L += [f"v{v} = r[{i}]" + ("._data" if k == "t" else "") for i, (k, v) in enumerate(p["outs"]) if k != "v"]
            L.append("r = None")
        elif st.kind == "emit":  # a fused kernel (jit/passes.py) writes its own lines
            p["emit"](self, st)
        elif st.kind == "chain":  # in place into the dead first operand
            for ufunc, args, out, refs, ctx_slot, opneeds, inplace, zero_d in p["ops"]:
                b = "" if len(args) == 1 else ", " + (f"v{args[1]}" if refs is None or refs[1] else self.expr(args[1]))
                if inplace:
                    L += [f"{self.k(ufunc)}(v{args[0]}{b}, out=v{args[0]})", f"v{out} = v{args[0]}"]
                else:
                    L.append(f"v{out} = {self.k(ufunc)}(v{args[0]}{b})")
                    if zero_d:
                        L.append(f"v{out} = asarray(v{out})")
                if ctx_slot is not None:
                    self.ctx(ctx_slot, *opneeds)
        elif "extern" in p:  # a library call in the plan (DDP's bucket fill/all_reduce/wait): extern(*args)
            targets = ", ".join(f"v{w}" for w in st.writes)
            call = f"{self.k(p['extern'])}({', '.join(self.expr(a) for a in p['args'])})"
            L.append(f"{targets} = {call}" if targets else call)
        else:
            raise AssertionError(st.kind)


def _generate(steps, frees, init, input_slots, outputs):
    g = _Gen()
    g.lines += [f"v{s} = inputs[{i}]._data" for i, s in enumerate(input_slots)]
    used = {r for st in steps for r in st.reads}
    g.lines += [f"v{s} = {g.k(v)}" for s, v in enumerate(init) if v is not None and s in used]
    for st, free in zip(steps, frees):
        g.step(st)
        if free:
            g.lines.append(" = ".join(f"v{s}" for s in free) + " = None")
    g.lines.append("return (" + "".join(f"v{s}, " for s in outputs) + ")")
    src = "def plan(inputs):\n" + "".join("    " + ln + "\n" for ln in g.lines)
    code = compile_source(src, "<cr.compile plan>", "exec")
    exec(code, g.globals)  # our own generated source: names and slots only, no user text
    return g.globals["plan"], src


compile_source = compile  # the builtin, before this module's ``compile`` shadows it


class Plan:
    def __init__(self, rec, input_slots, out_tree, out_slots, passes):
        steps = list(rec.steps)
        outputs = [s for s in out_slots if type(s) is int]
        self.graph_before = list(steps)
        init = list(rec.init)
        if "dce" in passes:
            steps = dce(steps, outputs)
        if "fold" in passes:
            steps = _passes.fold(steps, outputs, rec, init)
        if "cse" in passes:
            steps = _passes.cse(steps, outputs)
        if "dce" in passes and ("fold" in passes or "cse" in passes):  # what fed only folded steps
            steps = dce(steps, outputs)
        if "biasrelu" in passes:
            steps = _passes.biasrelu(steps, outputs, rec, lambda s: writer(s, outputs, rec))
        if "optim" in passes:
            steps = _passes.optim(steps)
        if "ewise" in passes:
            steps = _passes.ewise(steps, outputs, rec, lambda s: writer(s, outputs, rec))
        if "fuse" in passes:
            steps = fuse(steps, outputs, rec)
        frees = [()] * len(steps)
        if "release" in passes:
            last = _last_uses(steps, outputs)
            by_step = {}
            for s, i in last.items():
                if i < len(steps):
                    by_step.setdefault(i, []).append(s)
            frees = [tuple(by_step.get(i, ())) for i in range(len(steps))]
        self.steps = steps
        self.fn, self.source = _generate(steps, frees, init, input_slots, outputs)
        self.out_tree, self.out_slots = out_tree, out_slots
        self.guards = rec.guards
        self.input_slots = tuple(input_slots)  # for cr.viz.graph: inputs, and (shape, dtype) per slot
        self.specs = [(a.shape, a.dtype) if isinstance(a, np.ndarray) else None for a in rec.arrays]

    def ok(self):
        for t, shape, dtype, rg in self.guards:
            a = t._data
            if a.shape != shape or a.dtype != dtype or t._requires_grad != rg or type(a) is not np.ndarray:
                return False
        return True

    def run(self, inputs):
        arrays = iter(self.fn(inputs))
        vals = iter(s if isinstance(s, _Const) else Tensor._make(next(arrays)) for s in self.out_slots)
        return _build(self.out_tree, vals)

    def __repr__(self):
        return "\n".join(map(repr, self.steps))


class _Const:
    __slots__ = ("value",)

    def __init__(self, v):
        self.value = v


def _build(tree, vals):
    if tree == "t":
        v = next(vals)
        return v.value if isinstance(v, _Const) else v
    kind, subs = tree
    seq = [_build(s, vals) for s in subs]
    return tuple(seq) if kind == "tuple" else seq
