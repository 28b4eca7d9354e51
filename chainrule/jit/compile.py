"""``cr.compile``: trace a whole training step once per signature, then replay it on raw arrays.

    step = cr.compile(step)          # or @cr.compile, cr.compile(fn, fullgraph=True, passes=("dce",))
    loss = step(x, y)                # first two calls for this signature: eager, recorded, compared
    loss = step(x, y)                # later calls: the recorded plan, no Tensors/graph/dispatch inside
    step.stats                       # {"traces", "replays", "graph_breaks", "eager_calls", ...}

Recording (one eager run of ``fn``): every op-table ``apply`` (``ops.registry.set_tracer``), the
backward walk ``.backward()`` starts (``autograd.engine.recorders``: ``Recorder.walk`` runs the
engine's algorithm itself, recording each rule call, gradient sum, unbroadcast and the final
accumulation into ``.grad``), ``Optimizer.step``/``zero_grad`` and ``Module.zero_grad`` calls (one
step each, replayed by calling the same method: the optimizers are functional updates over the
parameter arrays), dropout masks (one ``draw`` step: fresh numbers from chainrule's generator on
every replay, in the eager order, so a seeded replay gives eager's numbers), BatchNorm's
running-statistics update and the loss helpers that derive arrays from target values (replayed
as calls on the new values). Those calls, a value read back into Python (``.item()``, ``bool(t)``,
``.tolist()``, ``.numpy()``, ...), other random draws, LR-scheduler steps, in-place writes into
traced values or parameters outside the optimizer, ``autograd.grad``/``create_graph``/hooks are
seen through ``sys.setprofile`` while tracing only (under another profiler a signature runs
eagerly). The unsupported ones are a *graph break*: the signature runs eagerly from then on
(counted in ``stats``, reasons in ``stats["break_reasons"]``), or with ``fullgraph=True`` an error.
A value computed from traced tensors outside the op table cannot be seen when it is computed, only
frozen into the plan: so a signature is traced twice, and a plan is made only when the second trace
froze the same values as the first (``_validated``); ops whose params are computed from their
input's values (``Op.order_from_values``: sort, topk, median, cummax, ...) and the integer results
of argmax, nonzero, histc, searchsorted, ... are graph breaks outright. What two traces cannot
show stays frozen: a tensor made inside ``fn`` from Python data that happened to be equal on both
(a flag read from a counter that changes every 100 calls) replays its traced value; pass such
values to ``fn`` as tensor arguments (torch.compile, reading the bytecode, re-traces when they change).

The IR is a list of ``Step``s over numbered slots (``reads``/``writes``); the passes are small
functions over it, each switchable (``passes=`` or ``CHAINRULE_COMPILE_PASSES="dce,fuse"``):

    dce      drop steps whose results nothing reads (and forward contexts no backward uses)
    fuse     elementwise forward ops as their NumPy ufunc; those and gradient sums whose first
             operand dies there computed in place (``ufunc(a, b, out=a)``), runs of them one step
    release  free each slot after its last reader (liveness), so a replay holds only live arrays
    fold, cse, biasrelu, optim, ewise: constant folding, common subexpressions, fused kernels
             (jit/passes.py; the order they run in is ``PASSES``)

The plan is then one generated Python function (``compiled.plans()[0].source``), a line or two
per step with the slots as its locals.

Comparisons and logical ops (``x > 0``, ``&``, ``~``, ``where`` conditions: the graph-free ``Compare``
and ``Logical`` ops) are recorded like any op. ``DistributedDataParallel``'s gradient hooks are
recorded as plan steps calling the same methods: ``ddp_grad`` (a gradient into its bucket slot),
``all_reduce`` (a bucket's non-blocking all-reduce, where the eager run started it) and
``all_reduce_wait``; its buffer broadcast is a ``call``; ``no_sync()`` is part of the signature.
With ``find_unused_parameters=True`` the parameters the traced forward did not reach are recorded
too (``ddp_unused``): Python control flow is frozen at the traced path, and so is that set.

Limits: CPU arrays only (other devices run eagerly); predicates still computed outside the op
table (``isinf``, ``isclose``, ``sign``...) on traced values and the nn functionals that read index
values (embedding with padding_idx, embedding_bag, one_hot, ctc_loss) are graph breaks; any other
value made outside the op table from a traced value (NumPy on ``.data``) is caught by the second
trace when it changes between calls (a value equal on both would replay frozen); Python side effects other than those above (attributes a module sets in
``forward``, prints, lists appended to) happen on the traced calls only; a function that returns
tensors requiring grad without running their backward runs eagerly (a replay returns values, not a
graph). One thread at a time traces (the op tracer is process-wide).
"""
import os
import sys
import time
from collections import OrderedDict

import numpy as np

from ..autograd import engine
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import writes, root_array
from ..ops.registry import set_tracer
from ..tensor import Tensor
from ..nn import Module
from ..nn.parallel.distributed import DistributedDataParallel
from .plan import PASSES, GraphBreakError, _Break, Plan, _Const
from .recorder import Recorder

__all__ = ["compile", "CompiledFunction", "GraphBreakError", "PASSES"]


# ---- the compiled function -----------------------------------------------------------------------
def _flat_inputs(args, kwargs):
    """fn's tensors in order, and the hashable rest of the signature."""
    tensors, key = [], []

    def visit(v):
        if isinstance(v, Tensor):
            tensors.append(v)
            a = v._data
            key.append(("T", a.shape, a.dtype.str, type(a) is np.ndarray, v._requires_grad))
        elif isinstance(v, (tuple, list)):
            key.append((type(v).__name__, len(v)))
            for x in v:
                visit(x)
        elif isinstance(v, dict):
            key.append(("dict", tuple(v)))
            for x in v.values():
                visit(x)
        else:
            try:
                hash(v)
                key.append((type(v), v))
            except TypeError:
                key.append((type(v), id(v)))
    visit(args)
    visit(kwargs)
    return tensors, tuple(key)


def _modules_of(fn, args):
    """The Modules a step can reach without running it: fn itself, its instance, its closure,
    the globals its code names and its arguments (their training flags are part of the signature)."""
    found = []
    cands = [fn, getattr(fn, "__self__", None)] + list(args)
    for obj in (fn, getattr(fn, "__func__", None), getattr(type(fn), "__call__", None)):
        code = getattr(obj, "__code__", None)
        if code is not None:
            cands += [c.cell_contents for c in (obj.__closure__ or ()) if _filled(c)]
            cands += [obj.__globals__.get(n) for n in code.co_names]
    for holder in (fn, getattr(fn, "__self__", None)):
        d = getattr(holder, "__dict__", None)
        if isinstance(d, dict) and not isinstance(holder, Module):
            cands += list(d.values())
    seen = set()
    for c in cands:
        if isinstance(c, Module):
            for m in c.modules():
                if id(m) not in seen:
                    seen.add(id(m))
                    found.append(m)
    return found


def _filled(cell):
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


class CompiledFunction:
    """What ``cr.compile`` returns: call it as ``fn``; ``stats`` counts traces, replays and breaks."""

    def __init__(self, fn, fullgraph=False, passes=None, cache_size=8):
        self.fn = fn
        self.fullgraph = fullgraph
        if passes is None:
            env = os.environ.get("CHAINRULE_COMPILE_PASSES")
            passes = PASSES if env is None else tuple(p for p in env.replace(" ", "").split(",") if p)
        unknown = [p for p in passes if p not in PASSES]
        if unknown:
            raise ValueError(f"cr.compile: unknown pass(es) {unknown}; the passes are {list(PASSES)}")
        self.passes = tuple(passes)
        self.cache_size = cache_size
        self.cache = OrderedDict()  # signature -> Plan, or None for a signature that runs eagerly
        self._modules = None
        self._pending = {}  # signature -> (tries, what the last trace froze), until two traces agree
        self.stats = {"traces": 0, "replays": 0, "graph_breaks": 0, "eager_calls": 0, "evictions": 0,
                      "break_reasons": [], "trace_s": 0.0, "compile_s": 0.0}  # seconds: recording, passes+codegen
        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            if hasattr(fn, attr):
                try:
                    setattr(self, attr, getattr(fn, attr))
                except (AttributeError, TypeError):
                    pass

    def __repr__(self):
        return f"CompiledFunction({getattr(self.fn, '__name__', type(self.fn).__name__)}, {len(self.cache)} plan(s))"

    def __get__(self, obj, objtype=None):  # as a method decorator
        if obj is None:
            return self
        return lambda *a, **k: self(obj, *a, **k)

    def __call__(self, *args, **kwargs):
        tensors, key = _flat_inputs(args, kwargs)
        if self._modules is None:
            self._modules = _modules_of(self.fn, args)
        key = (grad_state.enabled, key, tuple(m.training for m in self._modules),
               tuple(m.require_backward_grad_sync for m in self._modules if type(m) is DistributedDataParallel))
        if key in self.cache:
            plan = self.cache[key]
            if plan is None:
                self.stats["eager_calls"] += 1
                return self.fn(*args, **kwargs)
            if plan.ok():
                self.cache.move_to_end(key)
                self.stats["replays"] += 1
                return plan.run(tensors)
        return self._trace(key, tensors, args, kwargs)

    def _trace(self, key, tensors, args, kwargs):
        self.stats["traces"] += 1
        if any(type(t._data) is not np.ndarray for t in tensors) or engine.recorders or sys.getprofile() is not None:
            self._store(key, None, "inputs off the CPU, a compiled call inside another, or a profiler running")
            return self.fn(*args, **kwargs)
        start = time.perf_counter()
        rec = Recorder(self.fullgraph)
        input_slots = []
        for i, t in enumerate(tensors):
            rec.arg_slots[id(t)] = i
            input_slots.append(rec.new_slot(t._data))
            rec.keep.append(t)
            rec.traced_roots.add(id(root_array(t._data)))
        prev = set_tracer(rec)
        engine.recorders.append(rec.walk)
        sys.setprofile(rec.profile)
        try:
            out = self.fn(*args, **kwargs)
            if not rec.dead:
                try:
                    if writes.epoch != rec.epoch:
                        rec.check_writes("the end of the function")
                    tree, slots = self._outputs(out, rec)
                except _Break as e:
                    rec.stop(str(e))
        finally:
            sys.setprofile(None)
            engine.recorders.remove(rec.walk)
            set_tracer(prev)
        if rec.dead:
            self._store(key, None, rec.breaks[0])
            return out
        if not self._validated(key, rec):
            return out
        mid = time.perf_counter()
        try:
            plan = Plan(rec, input_slots, tree, slots, self.passes)
        except Exception as e:  # noqa: BLE001  (this call ran eagerly: the signature keeps doing so)
            if self.fullgraph:
                raise GraphBreakError(f"cr.compile(fullgraph=True): no plan for this step ({e})") from e
            self._store(key, None, f"no plan could be built: {type(e).__name__}: {e}")
            return out
        self._store(key, plan)
        self.stats["trace_s"] += mid - start
        self.stats["compile_s"] += time.perf_counter() - mid
        return out

    def _validated(self, key, rec):
        """Whether this trace may become the signature's plan: the previous trace of it froze the
        same values. A value computed from traced arrays outside the op table (an index order, an
        arg-max, a count read into an array) would be replayed as it was when traced; two traces
        on different values expose it, and the signature runs eagerly (a counted graph break)."""
        frozen = _frozen_values(rec)
        tries, before = self._pending.pop(key, (0, None))
        verdict = "first" if before is None else _compare_frozen(before, frozen)
        if verdict is None:
            return True
        if verdict == "value":
            reason = ("a value computed from traced tensors outside the op table (sort order, arg-max, index "
                      "or count read into an array) changes between calls: it cannot be replayed")
            if self.fullgraph:
                raise GraphBreakError(f"cr.compile(fullgraph=True): {reason}")
            self._store(key, None, reason)
        elif tries >= 3:  # a different graph on every call (e.g. control flow on values)
            self._store(key, None, "the function records a different graph on every call")
        else:
            self._pending[key] = (tries + 1, frozen)  # the next call traces again and compares
        return False

    def _outputs(self, out, rec):
        slots = []

        def visit(v):
            if isinstance(v, Tensor):
                if v.requires_grad and not rec.backward_ran:  # the plan replays values, not a graph
                    rec.brk("the function returned a tensor that requires grad and ran no backward: a replay "
                            "would return it without its graph (compile the whole step, or call it under no_grad)")
                s = rec.value(v)
                slots.append(s)
                rec.escaped.add(id(root_array(v._data)))
                return "t"
            if isinstance(v, (tuple, list)):
                return (type(v).__name__ if type(v) in (tuple, list) else "tuple", [visit(x) for x in v])
            if v is not None and not isinstance(v, (bool, int, float, str)):
                rec.brk(f"the function returned a {type(v).__name__}")
            slots.append(_Const(v))
            return "t"
        tree = visit(out)
        return tree, slots

    def _store(self, key, plan, reason=None):
        if plan is None:
            self.stats["graph_breaks"] += 1
            self.stats["eager_calls"] += 1
            self.stats["break_reasons"].append(reason)
        self.cache[key] = plan
        self.cache.move_to_end(key)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
            self.stats["evictions"] += 1

    def plans(self):
        return [p for p in self.cache.values() if p is not None]


def _frozen_values(rec):
    """What a replay of ``rec`` takes as fixed: the graph's shape, then every Tensor it loads (by
    object) and every constant array it captured."""
    shape = tuple((st.kind, getattr(st.p.get("op"), "__name__", None), len(st.reads)) for st in rec.steps)
    values = [("obj", st.p["src"][1]) for st in rec.steps
              if st.kind == "load" and st.p.get("src") is not None and st.p["src"][0] == "obj"]
    values += [("const", a) for a in rec.init if isinstance(a, np.ndarray)]
    return shape, values


def _compare_frozen(first, second):
    """None when two traces froze the same things; "graph" when they recorded different graphs;
    "value" when a Tensor created during the call, or a captured constant, differs between them."""
    (shape1, values1), (shape2, values2) = first, second
    if shape1 != shape2 or len(values1) != len(values2):
        return "graph"
    for (kind, v1), (_, v2) in zip(values1, values2):
        if v1 is v2:  # the same object both times (a parameter, a buffer): replays load its current data
            continue
        a1, a2 = (v1._data, v2._data) if kind == "obj" else (v1, v2)
        if a1.shape != a2.shape or a1.dtype != a2.dtype or not np.array_equal(a1, a2, equal_nan=a1.dtype.kind in "fc"):
            return "value"
    return None


def compile(fn=None, *, fullgraph=False, passes=None, cache_size=8, disable=False, **_torch_options):
    """``torch.compile`` for a step: returns a ``CompiledFunction`` (or, without ``fn``, a decorator).
    ``passes``: the IR passes to run (default all of ``PASSES``, or ``CHAINRULE_COMPILE_PASSES``);
    ``cache_size``: signatures kept (least recently used evicted, counted in ``stats``)."""
    if fn is None:
        return lambda f: compile(f, fullgraph=fullgraph, passes=passes, cache_size=cache_size, disable=disable)
    if not callable(fn):
        raise RuntimeError("torch.compile: model must be callable")
    if disable:
        return fn
    compiled = CompiledFunction(fn, fullgraph=fullgraph, passes=passes, cache_size=cache_size)
    if isinstance(fn, Module):  # torch.compile(model): still a Module (train/eval, state_dict, its methods)
        from .optimized_module import OptimizedModule
        return OptimizedModule(fn, compiled)
    return compiled
