"""cr.compile's optimisation passes beyond dce/fuse/release (``jit/plan.py``): each a small function
over the IR (a list of ``Step``s), each switchable by name (``cr.compile(fn, passes=...)``,
``CHAINRULE_COMPILE_PASSES``). fold, cse, biasrelu and optim leave results bitwise those of eager;
ewise computes exp/log/tanh with the C library's functions, within an ulp of NumPy's
(tests/test_compile_passes.py). (SoftmaxCrossEntropy needs no pass: its op runs one compiled pass
per row, eager or replayed.)

    fold       a forward step whose inputs are all constants runs once, while planning: its result
               is a constant of the plan (also the class-index loss's coefficients from constant targets)
    cse        a forward step computing what an earlier one computed (same op, inputs, parameters)
               is dropped; its readers read the earlier result (and context)
    biasrelu   Linear then ReLU on Linear's result: the GEMM, then bias + max(., 0) in one pass in
               place (numba; NumPy: ``out += b; maximum(out, 0, out=out)``), no second buffer; any
               other ReLU whose input dies there (after a convolution, a residual sum) in place;
               ReLU's backward mask one pass (numba), into its incoming gradient where that dies
    optim      ``Optimizer.step`` of SGD (momentum, no decay/nesterov) or Adam (no decay/amsgrad):
               one kernel over all parameters (numba; without it the eager update runs)
    ewise      runs of elementwise steps over small arrays: one generated numba loop (below)

numba kernels are in ``jit/fused_kernels.py``, imported only when ``backend.compiled.enabled()``;
without numba (or CHAINRULE_NUMBA=0) biasrelu emits NumPy ``out=`` code and optim and ewise
leave their steps as they are.
"""
import numpy as np

from ..backend import NP, compiled
from ..ops.registry import NO_CTX, OPS
from ..ops.loss import coefficients
from ..autograd.node import note_write, root_array
from ..optim.sgd import SGD
from ..optim.adam import Adam
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .steps import Step, _Ref, _NewList, _last_uses


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))  # what the kernels are written for (not float16)


def _kernels():
    from . import fused_kernels  # numba: imported only here, after compiled.enabled()
    return fused_kernels


def _readers(steps):
    n = {}
    for st in steps:
        for s in st.reads:
            n[s] = n.get(s, 0) + 1
    return n


# ---- constant folding ------------------------------------------------------------------------
def fold(steps, outputs, rec, init):
    """Run forward steps (and views, and the loss coefficients) whose array inputs are constants
    now; ``init`` gets their results. Results a caller may write (outputs, gradients handed to
    ``.grad``) stay steps, so each run returns fresh arrays as eager does."""
    protected = set(outputs) | {s for st in steps if st.kind == "acc" for s in st.reads}
    const = {s for s, v in enumerate(init) if v is not None}
    out = []
    for st in steps:
        if not st.effect and not set(st.writes) & protected and all(r in const for r in st.reads):
            if st.kind == "fwd" and st.p["ctx"] is None and not st.p["dynamic"]:
                p = st.p
                vals = [init[a] if r else a for a, r in zip(p["args"], p["refs"])]
                with np.errstate(all="ignore"):
                    res = p["op"].forward(NO_CTX, NP, *vals, **p["params"])
                init[p["out"]] = np.asarray(res)
                const.add(p["out"])
                continue
            if st.kind == "view":
                init[st.writes[0]] = init[st.reads[0]].reshape(st.p["shape"])
                const.add(st.writes[0])
                continue
        if st.kind == "derive" and st.p["fn"] is coefficients and not set(st.writes) & protected:
            args = st.p["args"]  # coefficients reads the logits (its first argument) for their dtype only
            if args[0][0] == "t" and all(s in const for k, s in args[1:] if k != "v"):
                vals = [Tensor._make(rec.arrays[args[0][1]][:0])] + \
                       [Tensor._make(init[s]) if k == "t" else init[s] if k == "a" else s for k, s in args[1:]]
                res = coefficients(*vals)
                for (k, s), r in zip(st.p["outs"], res):
                    if k != "v":
                        init[s] = r._data if k == "t" else r
                        const.add(s)
                continue
        out.append(st)
    return out


# ---- common-subexpression elimination --------------------------------------------------------
def _key(v):
    if isinstance(v, _NewList):
        raise TypeError  # a fresh list per run: never shared
    if isinstance(v, _Ref):
        return ("slot", v.slot)
    if isinstance(v, (tuple, list)):
        return (type(v).__name__,) + tuple(_key(x) for x in v)
    if isinstance(v, dict):
        return ("dict",) + tuple((k, _key(x)) for k, x in sorted(v.items()))
    if isinstance(v, np.ndarray):
        return ("array", id(v))
    try:
        hash(v)
        return (type(v), v)
    except TypeError:
        return ("id", id(v))


def cse(steps, outputs):
    """Forward steps with the same op, inputs and parameters compute the same array (the traced
    ops are deterministic: random draws are their own steps): the later one is dropped and every
    reader of its result (and of its context, when both recorded one for the same gradients) reads
    the earlier. A result that is returned or handed to ``.grad`` is kept distinct."""
    protected = set(outputs) | {s for st in steps if st.kind == "acc" for s in st.reads}
    seen, alias, out = {}, {}, []
    for st in steps:
        if alias:
            st = _renamed(st, alias)
        if st.kind == "fwd" and not st.effect and st.p["out"] not in protected:
            p = st.p
            try:
                key = (p["op"], tuple(_key(a) if not r else ("slot", a) for a, r in zip(p["args"], p["refs"])),
                       _key(p["params"]), p["needs"] if p["ctx"] is not None else None)
            except TypeError:
                out.append(st)
                continue
            first = seen.get(key)
            if first is None and p["ctx"] is None:  # an earlier one with a context serves too
                first = next((f for k, f in seen.items() if k[:3] == key[:3]), None)
            if first is not None:
                alias[p["out"]] = first.p["out"]
                if p["ctx"] is not None:
                    alias[p["ctx"]] = first.p["ctx"]
                continue
            seen[key] = st
        out.append(st)
    return out


def _renamed(st, alias):
    if not any(s in alias for s in st.reads):
        return st

    def ren(v):
        if isinstance(v, _Ref):
            return type(v)(alias.get(v.slot, v.slot))
        if isinstance(v, tuple):
            return tuple(ren(x) for x in v)
        if isinstance(v, list):
            return [ren(x) for x in v]
        if isinstance(v, dict):
            return {k: ren(x) for k, x in v.items()}
        return v
    p = dict(st.p)
    a = alias.get
    if st.kind == "fwd":
        p["args"] = tuple(a(x, x) if r else x for x, r in zip(p["args"], p["refs"]))
        p["params"] = ren(p["params"])
    elif st.kind == "bwd":
        p["ctx"], p["g"] = a(p["ctx"], p["ctx"]), a(p["g"], p["g"])
        p["out"] = None if p["out"] is None else a(p["out"], p["out"])
        p["args"] = tuple(a(x, x) if r else x for x, r in zip(p["args"], p["refs"]))
    elif st.kind == "acc":
        p["accs"] = tuple((ref, a(s, s)) for ref, s in p["accs"])
    elif st.kind == "derive":
        p["args"] = tuple((k, a(s, s) if k != "v" else s) for k, s in p["args"])
    elif st.kind == "call":
        p["args"] = ren(p["args"])
    elif st.kind not in ("add", "fit", "view", "bnupdate"):
        raise AssertionError(st.kind)
    return Step(st.kind, [a(s, s) for s in st.reads], st.writes, st.effect, **p)


# ---- bias + ReLU, forward and backward -------------------------------------------------------
def biasrelu(steps, outputs, rec, writer, rows=True):
    """Linear(x, w, b) whose result only ReLU reads: one step, the GEMM then bias + ReLU in place.
    ReLU's backward: one numba pass, in place into its incoming gradient where that dies there."""
    linear, relu = OPS["Linear"], OPS["Relu"]
    numba = compiled.enabled()
    readers = _readers(steps)
    made = {w: i for i, st in enumerate(steps) for w in st.writes}
    merged, drop = {}, set()
    for i, st in enumerate(steps):
        if st.kind != "fwd" or st.p["op"] is not relu or st.p["refs"] != (True,) or st.p["params"]:
            continue
        a = st.p["args"][0]
        j = made.get(a)
        lin = steps[j] if j is not None else None
        if lin is None or lin.kind != "fwd" or lin.p["op"] is not linear or len(lin.p["args"]) != 3 \
                or not all(lin.p["refs"]) or readers.get(a) != 1 or a in outputs:
            continue
        arr, b = rec.arrays[a], rec.arrays[lin.p["args"][2]]
        if arr.ndim < 1 or arr.dtype not in _FLOATS or b.ndim != 1 or b.dtype != arr.dtype:
            continue
        merged[j] = Step("emit", lin.reads, (st.p["out"],) + tuple(w for w in lin.writes + st.writes if w != a
                                                                     and w != st.p["out"]),
                         emit=_emit_bias_relu, lin=lin.p, relu=st.p, numba=numba, n=arr.shape[-1],
                         rows=arr.ndim == 2 and arr.shape[0] <= 128 and rows,
                         label=["fused: Linear + bias + ReLU", "bias and ReLU in one pass, in place"])
        drop.add(i)
    steps = [merged.get(i, st) for i, st in enumerate(steps) if i not in drop]
    can_write = writer(steps)
    out = []
    for i, st in enumerate(steps):
        if st.kind == "fwd" and st.p["op"] is relu and st.p["refs"] == (True,) and not st.p["params"] \
                and rec.arrays[st.p["args"][0]].dtype in _FLOATS and can_write(st.p["args"][0], st.p["out"], i):
            # ReLU on a result that dies here (a convolution's, a residual sum's): in place, no new buffer
            st = Step("emit", st.reads, st.writes, emit=_emit_relu_inplace, relu=st.p, numba=numba,
                      label=["ReLU (in place)"])
        if numba and st.kind == "bwd" and st.p["op"] is relu and st.p["outs"][0] is not None:
            g, o, dst = st.p["g"], st.p["out"], st.p["outs"][0]
            ga, oa = rec.arrays[g], rec.arrays[o]
            if ga.shape == oa.shape and ga.dtype == oa.dtype and ga.dtype in _FLOATS:
                st = Step("emit", st.reads, st.writes, emit=_emit_relu_mask, bwd=st.p,
                          inplace=can_write(g, dst, i), n=max(ga.shape[-1] if ga.ndim else 1, 1),
                          label=["ReLU backward (one-pass mask)"])
        out.append(st)
    return out


def _emit_bias_relu(gen, st):
    lin, relu, L = st.p["lin"], st.p["relu"], gen.lines
    x, w, b = (f"v{s}" for s in lin["args"])
    o = f"v{relu['out']}"
    if st.p["rows"]:  # (W x^T)^T: the same dot products as x W^T, and OpenBLAS runs W x^T ~1.4x
        # faster for few rows (32x784 @ 784x256: 0.16 vs 0.23 ms); copied back to C order, as
        # eager's, so every later op (and its BLAS call) sees eager's layout
        L.append(f"{o} = ascontiguousarray(matmul({w}, {x}.T).T)")
    else:
        L.append(f"{o} = matmul({x}, {w}.T)")
    if st.p["numba"]:
        L.append(f"{gen.k(_kernels().bias_relu)}({o}.reshape(-1, {st.p['n']}), {b})")
    else:
        L += [f"{o} += {b}", f"maximum({o}, 0, out={o})"]
    for p in (lin, relu):
        if p["ctx"] is not None:
            gen.ctx(p["ctx"], p["op"], p["needs"])


def _emit_relu_inplace(gen, st):
    p, L = st.p["relu"], gen.lines
    a, o = f"v{p['args'][0]}", f"v{p['out']}"
    if st.p["numba"]:
        L += [f"if {a}.flags.c_contiguous: {gen.k(_kernels().relu_)}({a}.reshape(-1))",
              f"else: maximum({a}, 0, out={a})"]
    else:
        L.append(f"maximum({a}, 0, out={a})")
    L.append(f"{o} = {a}")
    if p["ctx"] is not None:
        gen.ctx(p["ctx"], p["op"], p["needs"])


def _emit_relu_mask(gen, st):
    p, L = st.p["bwd"], gen.lines
    g, o, dst = f"v{p['g']}", f"v{p['out']}", f"v{p['outs'][0]}"
    k = _kernels()
    for cond, view in ((f"{g}.ndim == 2", ""), (f"{g}.flags.c_contiguous and {o}.flags.c_contiguous",
                                                  f".reshape(-1, {st.p['n']})")):
        L.append(("if " if not view else "elif ") + cond + ":")
        if st.p["inplace"]:
            L += [f"    {gen.k(k.relu_mask_)}({g}{view}, {o}{view})", f"    {dst} = {g}"]
        else:
            L += [f"    {dst} = empty_like({g})", f"    {gen.k(k.relu_mask)}({g}{view}, {o}{view}, {dst}{view})"]
    L.append(f"else: {dst}, = {gen.k(p['op'].backward)}(v{p['ctx']}, NP, {g}, {o})")


# ---- the optimizer update as one kernel -------------------------------------------------------
def optim(steps):
    """``Optimizer.step`` of an SGD or Adam: replayed by ``fused_step`` (one numba kernel over all
    parameters of a group, where the group's options allow it; else the eager update)."""
    if not compiled.enabled():
        return steps
    return [Step("call", st.reads, st.writes, True, fn=fused_step, obj=st.p["obj"], args=())
            if st.kind == "call" and st.p["fn"] is Optimizer.step and type(st.p["obj"]) in (SGD, Adam) else st
            for st in steps]


def _flat(arrays):
    return tuple(a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1) for a in arrays)


def fused_step(opt):
    """``opt.step()`` for SGD/Adam, each group in one kernel where its options and arrays allow."""
    for group in opt.param_groups:
        params = [p for p in group["params"] if p._grad is not None]
        if params:
            if not _fused_group(opt, group, params):
                opt._update_group(group, params)
            for p in params:
                note_write(p._data)
    opt._opt_called = True


def _plain(group, params):
    return not group["weight_decay"] and not group["maximize"] and type(group["lr"]) in (float, int) \
        and len({p._data.dtype for p in params}) == 1 and params[0]._data.dtype in _FLOATS \
        and all(p._data.flags.c_contiguous for p in params)


def _fused_group(opt, group, params):
    if not _plain(group, params):
        return False
    dt = params[0]._data.dtype.type
    state = opt.state
    if type(opt) is SGD:
        m = group["momentum"]
        if not m or group["dampening"] or group["nesterov"]:
            return False
        bufs = [state.get(p, {}).get("momentum_buffer") for p in params]
        if any(b is None or not b._data.flags.c_contiguous for b in bufs):
            return False
        _kernels().sgd_momentum(_flat(p._data for p in params), _flat(p._grad._data for p in params),
                                _flat(b._data for b in bufs), dt(group["lr"]), dt(m))
        return True
    beta1, beta2 = group["betas"]
    if group["amsgrad"] or group.get("decoupled_weight_decay", opt._decoupled) or 1 - beta1 >= 0.5:
        return False
    sts = [state.get(p, {}) for p in params]
    if any("exp_avg" not in s or "step" not in s or not s["exp_avg"]._data.flags.c_contiguous
           or not s["exp_avg_sq"]._data.flags.c_contiguous for s in sts):
        return False
    lr, eps = group["lr"], group["eps"]
    steps = [opt._step_count(p) for p in params]
    sizes = np.array([lr / (1 - beta1 ** t) for t in steps], dt)
    bc2 = np.array([(1 - beta2 ** t) ** 0.5 for t in steps], dt)
    _kernels().adam(_flat(p._data for p in params), _flat(p._grad._data for p in params),
                    _flat(s["exp_avg"]._data for s in sts), _flat(s["exp_avg_sq"]._data for s in sts),
                    dt(1 - beta1), dt(beta2), dt(1 - beta2), sizes, bc2, dt(eps))
    return True


# ---- elementwise regions as one generated numba kernel ----------------------------------------
# Per op: the forward and each input's gradient as scalar expressions, in the order of operations
# of the op's NumPy rule (ops/elementwise.py); a, b the inputs, o the output, g its gradient, D()
# a constant in the arrays' dtype (NumPy casts Python scalars to it too). +, -, *, / agree with
# NumPy bitwise; exp, log, tanh, sin, cos come from the C library, within an ulp of NumPy's.
_FWD = {"Add": "{a} + {b}", "Sub": "{a} - {b}", "Mul": "{a} * {b}", "Div": "{a} / {b}", "Neg": "-{a}",
        "Exp": "np.exp({a})", "Log": "np.log({a})", "Sqrt": "np.sqrt({a})", "Tanh": "np.tanh({a})",
        "Sigmoid": "D(1) / (D(1) + np.exp(-{a}))", "Sin": "np.sin({a})", "Cos": "np.cos({a})",
        "Relu": "D(0) if {a} < 0 else {a}"}
_BWD = {"Add": ("{g}", "{g}"), "Sub": ("{g}", "-{g}"), "Mul": ("{g} * {b}", "{g} * {a}"),
        "Div": ("{g} / {b}", "-{g} * ({a} / {b} / {b})"), "Neg": ("-{g}",), "Exp": ("{g} * {o}",),
        "Log": ("{g} / {a}",), "Sqrt": ("{g} / (D(2) * {o})",), "Tanh": ("{g} * (D(1) - {o} * {o})",),
        "Sigmoid": ("{g} * {o} * (D(1) - {o})",), "Sin": ("{g} * np.cos({a})",), "Cos": ("-{g} * np.sin({a})",),
        "Relu": ("{g} if {o} != 0 else D(0)",)}
EWISE_MAX = 1 << 14  # elements: past this NumPy's vectorised ufuncs (and its SIMD exp/tanh) pay better
_kernel_cache = {}


def _ew_shape(st, rec):
    """(shape, dtype) of an elementwise step whose arrays all share them, else None."""
    p, name = st.p, st.p.get("op") and st.p["op"].__name__
    if st.kind == "add":
        slots, scal = list(st.reads) + list(st.writes), ()
    elif st.kind == "fwd" and name in _FWD and not p["params"]:
        slots = [a for a, r in zip(p["args"], p["refs"]) if r] + [p["out"]]
        scal = [a for a, r in zip(p["args"], p["refs"]) if not r]
        if not p["refs"][0] and len(p["args"]) == 1:
            return None
    elif st.kind == "bwd" and name in _BWD:
        slots = [p["g"]] + [s for s in p["outs"] if s is not None] + ([p["out"]] if p["out"] is not None else []) \
            + [a for a, r in zip(p["args"], p["refs"]) if r]
        scal = [a for a, r in zip(p["args"], p["refs"]) if not r]
    else:
        return None
    if any(type(c) not in (int, float) for c in scal):
        return None
    arrs = [rec.arrays[s] for s in slots]
    if not all(isinstance(a, np.ndarray) for a in arrs):
        return None
    shape, dtype = arrs[0].shape, arrs[0].dtype
    if dtype not in _FLOATS or arrs[0].size > EWISE_MAX or any(a.shape != shape or a.dtype != dtype for a in arrs):
        return None
    return shape, dtype


def ewise(steps, outputs, rec, writer):
    """Runs of elementwise steps (forward ops, their gradients, gradient sums) over small arrays of
    one shape and dtype become one numba kernel: one loop over the elements, every value a scalar
    in registers, only the values read after the run written to memory (into an input that dies in
    the run where it may be written: the memory plan's in-place write)."""
    if not compiled.enabled():
        return steps
    runs, cur, key = [], [], None
    for i, st in enumerate(steps):
        k = _ew_shape(st, rec)
        if k is not None and k == key:
            cur.append(i)
            continue
        if len(cur) > 1:
            runs.append(cur)
        cur, key = ([i], k) if k is not None else ([], None)
    if len(cur) > 1:
        runs.append(cur)
    if not runs:
        return steps
    in_run = {i: n for n, run in enumerate(runs) for i in run}
    last = _last_uses(steps, outputs)
    can_write = writer(steps)
    needed = {}  # slot -> the runs reading it (None: a step in no run)
    for i, st in enumerate(steps):
        for s in st.reads:
            needed.setdefault(s, set()).add(in_run.get(i))
    out, done = [], set()
    for i, st in enumerate(steps):
        n = in_run.get(i)
        if n is None:
            out.append(st)
        elif n not in done:
            done.add(n)
            out.append(_region([steps[j] for j in runs[n]], runs[n], n, needed, outputs, last, can_write, rec))
    return out


def _region(sts, idx, n, needed, outputs, last, can_write, rec):
    shape, dtype = _ew_shape(sts[0], rec)
    lo, hi = idx[0], idx[-1]
    made, reads, body, ctxs = set(), [], [], []

    def val(s):
        if s not in made and s not in reads:
            reads.append(s)
        return f"s{s}"

    def lit(c):
        return f"D({c!r})"
    for st in sts:
        p = st.p
        if st.kind == "add":
            a, b = (val(s) for s in st.reads)
            body.append(f"s{st.writes[0]} = {a} + {b}")
            made.add(st.writes[0])
        elif st.kind == "fwd":
            args = [val(a) if r else lit(a) for a, r in zip(p["args"], p["refs"])]
            body.append(f"s{p['out']} = " + _FWD[p["op"].__name__].format(a=args[0], b=args[-1]))
            made.add(p["out"])
            if p["ctx"] is not None:
                ctxs.append(p)
        else:
            args = [val(a) if r else lit(a) for a, r in zip(p["args"], p["refs"])]
            env = dict(g=val(p["g"]), o=val(p["out"]) if p["out"] is not None else "",
                       a=args[0] if args else "", b=args[-1] if args else "")
            for s, rule in zip(p["outs"], _BWD[p["op"].__name__]):
                if s is not None:
                    body.append(f"s{s} = " + rule.format(**env))
                    made.add(s)
    outs = sorted(s for s in made if s in outputs or needed.get(s, set()) - {n})
    ctx_live = [p for p in ctxs if None in needed.get(p["ctx"], ())]
    # in place: an output into an input that dies inside the run (each input once, none that shares
    # memory with another input: the kernel reads every input at k before it writes at k)
    roots = [id(root_array(rec.arrays[a])) for a in reads]
    reuse, used = {}, set()
    for s in outs:
        for a, r in zip(reads, roots):
            if a not in used and roots.count(r) == 1 and lo <= last.get(a, -1) <= hi and can_write(a, s, last[a]):
                reuse[s] = a
                used.add(a)
                break
    names = [f"i{s}" for s in reads] + [f"o{s}" for s in outs]
    src = "def kernel(n, " + ", ".join(names) + "):\n    for k in range(n):\n"
    src += "".join(f"        s{s} = i{s}[k]\n" for s in reads)
    src += "".join(f"        {ln}\n" for ln in body)
    src += "".join(f"        o{s}[k] = s{s}\n" for s in outs)
    names = [("grad sum" if st.kind == "add" else st.p["op"].__name__ + (" backward" if st.kind == "bwd" else ""))
             for st in sts]
    label = [f"fused kernel: {len(sts)} ops, {len(reuse)} in place", " + ".join(names)]
    return Step("emit", [s for s in reads], outs + [p["ctx"] for p in ctx_live], emit=_emit_region, src=src,
                dtype=dtype, shape=shape, reads_=tuple(reads), outs=tuple(outs), reuse=reuse, ctxs=ctx_live,
                label=label)


def _compiled_kernel(src, dtype):
    """The numba function of a generated kernel. Its source is written once to a file in the
    kernel cache folder (``CHAINRULE_KERNEL_CACHE``, default ``~/.cache/chainrule/kernels``), so
    numba's own cache (``cache=True``) keeps the machine code for later processes: a 50-op kernel
    compiles in ~0.5 s, loads in milliseconds. Without a writable folder it compiles in memory."""
    fn = _kernel_cache.get((src, dtype))
    if fn is None:
        text = (f"# generated by chainrule.jit.passes (cr.compile's ewise pass)\nimport numba\nimport numpy as np\n"
                f"D = np.{dtype.name}\n\n\n@numba.njit(cache=True, nogil=True)\n{src}")
        fn = _kernel_cache[(src, dtype)] = _load_kernel(text)
    return fn


def _read(path):
    with open(path) as fh:
        return fh.read()


def _load_kernel(text):
    import hashlib
    import importlib.util
    import os
    import sys
    folder = os.environ.get("CHAINRULE_KERNEL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                                    "chainrule", "kernels")
    name = "ewise_" + hashlib.sha256(text.encode()).hexdigest()[:24]
    path = os.path.join(folder, name + ".py")
    try:
        if not os.path.exists(path) or _read(path) != text:  # missing, or not what we generated
            os.makedirs(folder, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as fh:
                fh.write(text)
            os.replace(tmp, path)  # atomic: another process never imports half a file
        module = sys.modules.get(name)
        if module is None:  # numba's cache finds the kernel's module by name
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)  # the file this function wrote from our own generated source
        return module.kernel
    except OSError:
        g = {}
        exec(compile(text, "<cr.compile elementwise kernel>", "exec"), g)  # our generated source only
        return g["kernel"]


def _emit_region(gen, st):
    p, L = st.p, gen.lines
    shape, dt = gen.k(p["shape"]), gen.k(p["dtype"])
    flat = len(p["shape"]) == 1
    for s in p["outs"]:
        a = p["reuse"].get(s)
        L.append(f"v{s} = v{a} if v{a}.flags.c_contiguous else empty({shape}, {dt})" if a is not None
                 else f"v{s} = empty({shape}, {dt})")
    args = [f"v{s}" if flat else f"v{s}.reshape(-1)" for s in p["reads_"] + p["outs"]]
    size = 1
    for d in p["shape"]:
        size *= d
    L.append(f"{gen.k(_compiled_kernel(p['src'], p['dtype']))}({size}, {', '.join(args)})")
    for c in p["ctxs"]:
        gen.ctx(c["ctx"], c["op"], c["needs"])
