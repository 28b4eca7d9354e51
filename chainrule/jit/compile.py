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
of argmax, nonzero, histc, searchsorted, ... are graph breaks outright.

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
values (embedding with padding_idx, embedding_bag, one_hot, ctc_loss) are graph breaks; any other Tensor made outside the op table from a traced value (NumPy
on ``.data``) is frozen as a constant; Python side effects other than those above (attributes a module sets in
``forward``, prints, lists appended to) happen on the traced call only; returned tensors carry no
graph. One thread at a time traces (the op tracer is process-wide).
"""
import os
import sys
import time
from collections import OrderedDict

import numpy as np

from ..autograd import engine
from ..autograd.engine import _accumulate, _fit, _count_dependencies, _release_parents, _FREED
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import Node as Ctx, check_saved, writes, root_array
from ..backend import NP, random as _random
from ..ops.registry import set_tracer
from ..ops.loss import coefficients
from ..tensor import Tensor
from ..tensor import elementwise as _tensor_elementwise, special as _tensor_special
from ..tensor import reduce as _tensor_reduce, scan as _tensor_scan
from ..tensor.elementwise import _on_arrays
from ..nn import Module
from ..nn import functional as F
from ..nn.batchnorm import _BatchNorm
from ..nn.parallel.distributed import DistributedDataParallel
from ..optim.optimizer import Optimizer
from ..optim.lr_scheduler import LRScheduler

__all__ = ["compile", "CompiledFunction", "GraphBreakError", "PASSES"]

from .plan import PASSES, _UFUNCS, GraphBreakError, _Break, Step, _slots_in, _Ref, _NewList, Plan, _Const


# ---- recording ---------------------------------------------------------------------------------
class Recorder:
    """Records one eager run of the step: installed as the op tracer, the engine's backward
    recorder and a profile function (for the calls listed in the module docstring)."""

    def __init__(self, fullgraph):
        self.fullgraph = fullgraph
        self.steps = []
        self.arrays = []         # slot -> the trace-time array (None for contexts); for the passes
        self.init = []           # slot -> constant value, else None
        self.slot = {}           # id(array) -> slot
        self.keep = []           # everything whose id is a key, alive while tracing
        self.ctx = {}            # id(graph Node) -> (ctx slot, args spec, out slot)
        self.hidden = {}         # ctx slot -> roots of the arrays its forward saved in ctx.saved
        self.arg_slots = {}      # id(Tensor) -> index of fn's tensor inputs
        self.grad_of = {}        # id(grad Tensor) -> leaf ref, for .grad read after backward
        self.guards = []         # (Tensor, shape, dtype, requires_grad) of every tensor read from outside
        self.traced_roots = set()
        self.ext_roots = set()
        self.escaped = set()     # roots of arrays handed to .grad or returned: never written in place
        self.breaks = []
        self.dead = False
        self.backward_ran = False  # a function returning graph tensors without backward cannot replay
        self.dropout = None      # (shape, p, dtype, device, id(input array)) until its mask is read
        self.dropout_frame = None
        self.in_call = None      # the frame of a recorded optimizer/zero_grad call in progress
        self.derive_frame = self.derive = None
        self.bn_frame = self.bn = None  # F.batch_norm in training: (running mean, var, momentum, [stats slot])
        self.ddp_slots = {}      # (id(DDP), parameter index) -> slot of its averaged gradient (a bucket view)
        self.unused = None       # (DDP, its next bucket, frame) while DDP._mark_unused runs
        self.epoch = writes.epoch

    # ---- values
    def new_slot(self, arr, const=False):
        s = len(self.arrays)
        self.arrays.append(arr)
        self.init.append(arr if const else None)
        if arr is not None:
            self.slot[id(arr)] = s
            self.keep.append(arr)
        return s

    def leaf_ref(self, t):
        i = self.arg_slots.get(id(t))
        return ("arg", i) if i is not None else ("obj", t)

    def value(self, t):
        a = t._data
        s = self.slot.get(id(a))
        if s is not None:
            return s
        if type(a) is not np.ndarray:
            self.brk(f"a tensor on {t.device} (compiled steps run on the CPU)")
        if self.dropout is not None and id(a) != self.dropout[4]:  # the mask of the dropout in progress
            shape, p, dtype, device, _ = self.dropout
            s = self.new_slot(a)
            self.steps.append(Step("draw", (), (s,), True, shape=shape, prob=p, dtype=dtype, device=device))
            self.dropout = None
            return s
        s = self.new_slot(a)
        leaf = self.grad_of.get(id(t))
        self.keep.append(t)
        self.steps.append(Step("load", (), (s,), src=("grad", leaf) if leaf is not None else ("obj", t)))
        if leaf is None:
            self.guards.append((t, a.shape, a.dtype, t._requires_grad))
        self.ext_roots.add(id(root_array(a)))
        return s

    def array_slot(self, a):
        s = self.slot.get(id(a))
        if s is not None:
            return s
        root = root_array(a)
        r = self.slot.get(id(root))
        if r is not None and id(root) in self.traced_roots:  # e.g. target._data.reshape(-1)
            if a.size != root.size or not (a.flags.c_contiguous and root.flags.c_contiguous) or a.dtype != root.dtype:
                self.brk("a view of a traced value made outside the op table")
            s = self.new_slot(a)
            self.steps.append(Step("view", (r,), (s,), shape=a.shape))
            return s
        return self.new_slot(a, const=True)

    def brk(self, reason):
        if self.fullgraph:
            raise GraphBreakError(f"cr.compile(fullgraph=True): {reason}")
        raise _Break(reason)

    # ---- the op tracer
    def __call__(self, op, inputs, params, result):
        if self.dead or self.in_call is not None:
            return
        sys.setprofile(None)  # our own bookkeeping need not be watched (it is most of the profile's cost)
        try:
            self._record_op(op, inputs, params, result)
        except _Break as e:
            self.stop(str(e))
        finally:
            sys.setprofile(self.profile)

    def _record_op(self, op, inputs, params, result):
        if op.order_from_values:
            self.brk(f"{op.__name__}: its order (sort, topk, median, mode, cummax...) is computed from the "
                     f"input's values outside the recorded op")
        if writes.epoch != self.epoch:
            self.check_writes(op.__name__)
        args, refs = [], []
        for x in inputs:
            if isinstance(x, Tensor):
                args.append(self.value(x))
                refs.append(True)
            elif isinstance(x, np.ndarray):
                args.append(self.array_slot(x))
                refs.append(True)
            else:
                args.append(x)
                refs.append(False)
        stats = params.get("batch_stats")
        ps = {k: self._param(v) for k, v in params.items() if k != "batch_stats"}
        if stats is not None:  # a fresh list on every replay, read by the running-statistics update
            if self.bn is None or len(stats) != 1:
                self.brk(f"{op.__name__} with batch statistics outside nn.functional.batch_norm")
            ps["batch_stats"] = _NewList(self.new_slot(None))
            self.bn[3].append(ps["batch_stats"].slot)
        reads = [a for a, r in zip(args, refs) if r] + _slots_in(ps, [])
        out = result._data
        node = result._node
        ctx_slot = None
        if node is not None:
            ctx_slot = self.new_slot(None)
            self.keep.append(node)
            self.ctx[id(node)] = (ctx_slot, (tuple(args), tuple(refs)), None)
            if node.saved is not None:
                self.hidden[ctx_slot] = {id(root_array(a)) for a in _arrays(node.saved)}
        out_slot = self.new_slot(out)
        if node is not None:
            self.ctx[id(node)] = self.ctx[id(node)][:2] + (out_slot,)
        self.traced_roots.add(id(root_array(out)))
        ufunc = _UFUNCS.get(op.__name__)
        if ufunc is not None and (params or node is not None and node.saved is not None
                                  or not all(refs[:1]) or ufunc.nin != len(args)):
            ufunc = None
        if ufunc is not None:  # the pass may compute it in place: only where it is this very ufunc
            vals = [self.arrays[a] if r else a for a, r in zip(args, refs)]
            ref = ufunc(*vals)
            if not (isinstance(ref, np.ndarray) and ref.dtype == out.dtype and ref.shape == out.shape
                    and np.array_equal(ref, out, equal_nan=True)):
                ufunc = None
        effect = stats is not None or any(isinstance(v, np.ndarray) for v in _flat(params))
        stats_w = (ps["batch_stats"].slot,) if stats is not None else ()
        self.steps.append(Step("fwd", reads, (out_slot,) + ((ctx_slot,) if ctx_slot is not None else ()) + stats_w,
                               effect,
                               op=op, args=tuple(args), refs=tuple(refs), params=ps,
                               dynamic=bool(_slots_in(ps, [])), out=out_slot, ctx=ctx_slot,
                               needs=tuple(node.needs) if node is not None else None, ufunc=ufunc))

    def _param(self, v):
        if callable(v) and id(v) in self.slot:
            return _Ref(self.slot[id(v)])
        if isinstance(v, np.ndarray):
            return _Ref(self.array_slot(v))
        if isinstance(v, Tensor):
            return _Ref(self.value(v))
        if isinstance(v, tuple):
            return tuple(self._param(x) for x in v)
        if isinstance(v, list):
            return [self._param(x) for x in v]
        if isinstance(v, dict):
            return {k: self._param(x) for k, x in v.items()}
        return v

    def check_writes(self, where):
        written = set(writes.ids[writes.epochs > self.epoch].tolist())
        self.epoch = writes.epoch
        if written & self.traced_roots:
            self.brk(f"an in-place write into a traced value before {where}")
        if written & self.ext_roots:
            self.brk(f"an in-place write into a parameter or other outside tensor (not by an optimizer) "
                     f"before {where}")

    # ---- the backward walk (the engine's run_backward, recorded)
    def walk(self, tensors, grads, retain_graph, create_graph, capture):
        if self.dead:
            return self._engine(tensors, grads, retain_graph, create_graph, capture)
        try:
            if create_graph or capture is not None or engine.observers:
                self.brk("autograd.grad, create_graph=True or an observed backward inside the step")
            if writes.epoch != self.epoch:
                self.check_writes("backward")
            self.backward_ran = True
            roots = [t._node for t in tensors if t._node is not None]
            deps = _count_dependencies(roots)
            for node in deps:
                if node.hooks is not None and not all(hasattr(h, "ddp_param") for h in node.hooks):
                    self.brk("a tensor hook in the backward graph")
                if id(node) not in self.ctx:
                    self.brk(f"backward reaches {node.name()}, recorded outside the compiled call")
                if node.xp is not NP:
                    self.brk("a backward on another device")
                for p in node.parents:
                    if isinstance(p, Tensor) and p._meta is not None and p._meta.get("hooks"):
                        self.brk("a hook on a leaf tensor")
        except _Break as e:
            self.stop(str(e))
            return self._engine(tensors, grads, retain_graph, create_graph, capture)
        sys.setprofile(None)  # the rules run on arrays: nothing there to watch
        try:
            self._walk(tensors, grads, retain_graph, deps, roots)
        finally:
            sys.setprofile(self.profile)

    def _ddp_hooks(self, hooks, g, gs):
        """DistributedDataParallel's gradient hooks run (this call is eager) and are recorded as what
        the plan calls in their place: the gradient into its bucket slot (``ddp_grad``), each bucket
        all-reduce the hook started (``all_reduce``: non-blocking, so it overlaps the rest of the
        backward replay) and, after the last gradient, the wait for all of them (``all_reduce_wait``)."""
        for hook in hooks:
            ddp, i = hook.ddp_param
            first = ddp._next
            g = hook(Tensor._make(g))._data
            s = self.new_slot(g)
            self.steps.append(Step("ddp_grad", (gs,), (s,), True, extern=ddp._fill, args=(i, _Ref(gs))))
            self.ddp_slots[(id(ddp), i)] = gs = s
            self._ddp_started(ddp, first)
        return g, gs

    def _ddp_started(self, ddp, first):
        for b in range(first, ddp._next):
            reads = [self.ddp_slots[(id(ddp), m)] for m in ddp._buckets[b].members]
            self.steps.append(Step("all_reduce", reads, (), True, extern=ddp._start, args=(b,)))
        if not ddp._expecting:  # the last gradient: the hook waited for every bucket
            reads = [v for (d, _), v in self.ddp_slots.items() if d == id(ddp)]
            self.steps.append(Step("all_reduce_wait", reads, (), True, extern=ddp._finish, args=()))

    def _engine(self, *a):
        engine.recorders.remove(self.walk)
        try:
            return engine.run_backward(*a)
        finally:
            engine.recorders.append(self.walk)

    def _add(self, x, y):
        out = x[0] + y[0]
        s = self.new_slot(out)
        self.steps.append(Step("add", (x[1], y[1]), (s,)))
        return out, s

    def _fit(self, ig, s, shape, dtype):
        out = _fit(NP, ig, shape, dtype)
        o = self.new_slot(out)
        self.steps.append(Step("fit", (s,), (o,), shape=shape, dtype=dtype))
        return out, o

    def _walk(self, tensors, grads, retain_graph, deps, roots):
        pending, leaf_grads = {}, {}
        for t, g in zip(tensors, grads):
            gp = (g, self.array_slot(g))
            key, into = (t, leaf_grads) if t._node is None else (t._node, pending)
            into[key] = self._add(into[key], gp) if key in into else gp
        ready = [n for n in dict.fromkeys(roots) if not deps[n]]
        mode = grad_state
        prev, mode.enabled = mode.enabled, False
        epoch = writes.epoch
        try:
            while ready:
                node = ready.pop()
                gp = pending.pop(node)
                if gp is None:
                    _release_parents(node, deps, pending, ready)
                    continue
                if node.args is None:
                    raise RuntimeError(_FREED)
                if node.epoch != epoch:
                    check_saved(node)
                g, gs = gp
                if node.hooks is not None:  # DistributedDataParallel's (walk() refused any other)
                    g, gs = self._ddp_hooks(node.hooks, g, gs)
                op = node.op
                in_grads = op.backward(node, NP, g, node.out, *node.args)
                ctx_slot, (args, refs), out_slot = self.ctx[id(node)]
                outs = tuple(None if ig is None else self.new_slot(ig) for ig in in_grads)
                self.steps.append(Step("bwd", (ctx_slot, gs) + ((out_slot,) if op.save_out else ())
                                       + (tuple(a for a, r in zip(args, refs) if r) if op.save_args else ()),
                                       tuple(o for o in outs if o is not None), op=op, ctx=ctx_slot, g=gs,
                                       out=out_slot if op.save_out else None,
                                       args=args if op.save_args else (), refs=refs, outs=outs))
                if not retain_graph:
                    node.args = None
                    node.out = None
                    node.saved = None
                for p, ig, s in zip(node.parents, in_grads, outs):
                    if p is None:
                        continue
                    if type(p) is Ctx:
                        if ig is not None:
                            if ig.shape != p.shape or ig.dtype is not p.dtype:
                                ig, s = self._fit(ig, s, p.shape, p.dtype)
                            pending[p] = self._add(pending[p], (ig, s)) if pending.get(p) is not None else (ig, s)
                        left = deps[p] - 1
                        deps[p] = left
                        if not left:
                            pending.setdefault(p, None)
                            ready.append(p)
                    elif ig is not None:
                        data = p._data
                        if ig.shape != data.shape or ig.dtype is not data.dtype:
                            ig, s = self._fit(ig, s, data.shape, data.dtype)
                        leaf_grads[p] = self._add(leaf_grads[p], (ig, s)) if p in leaf_grads else (ig, s)
        finally:
            mode.enabled = prev
        given, accs, reads = set(), [], []
        for leaf, (g, s) in leaf_grads.items():
            _accumulate(leaf, g, False, given)
            ref = self.leaf_ref(leaf)
            accs.append((ref, s))
            reads.append(s)
            self.escaped.add(id(root_array(g)))
            self.grad_of[id(leaf.grad)] = ref
            self.keep.append(leaf.grad)
        self.steps.append(Step("acc", reads, (), True, accs=tuple(accs)))
        self.epoch = writes.epoch

    # ---- calls seen by the profile function (sys.settrace measured slower: it slows every frame)
    def profile(self, frame, event, arg):
        if event == "call":
            what = _WATCH.get(frame.f_code)
            if what is not None and not self.dead and self.in_call is None:
                try:
                    self._on_call(what, frame)
                except _Break as e:
                    self.stop(str(e))
        elif event == "return":
            if frame is self.in_call:
                self.in_call = None
                self.epoch = writes.epoch  # the optimizer's own writes into the parameters
            elif frame is self.dropout_frame:
                self.dropout_frame = self.dropout = None
            elif frame is self.derive_frame:
                self.derive_frame = None
                self._derived(arg)
            elif self.unused is not None and frame is self.unused[2]:
                ddp, first, _ = self.unused
                self.unused = None
                for i in map(int, np.flatnonzero(ddp._used == 0)):
                    s = self.new_slot(ddp._buckets[ddp._bucket_of[i]].views[i])
                    self.steps.append(Step("ddp_unused", (), (s,), True, extern=ddp._fill_unused, args=(i,)))
                    self.ddp_slots[(id(ddp), i)] = s
                self._ddp_started(ddp, first)
            elif frame is self.bn_frame:
                rm, rv, momentum, stats = self.bn
                self.bn_frame = self.bn = None
                if len(stats) == 1:
                    self.epoch = writes.epoch
                    self.steps.append(Step("bnupdate", stats, (), True, mean=rm, var=rv, momentum=momentum))

    def _on_call(self, what, frame):
        loc = frame.f_locals
        if what == "read":
            self.brk(f"Tensor.{frame.f_code.co_name}() reads a value back into Python")
        elif what == "indices":
            name = frame.f_code.co_name
            if name != "embedding" or loc.get("padding_idx") is not None or loc.get("max_norm") is not None \
                    or loc.get("scale_grad_by_freq"):
                self.brk(f"{name} builds arrays from index values outside the op table")
        elif what == "compare":  # predicates still computed outside the op table (isinf, isclose, sign...):
            # on a traced value their result would be frozen into the plan as a constant
            for v in (loc.get("a"), loc.get("b"), loc.get("input"), loc.get("other")):
                if isinstance(v, Tensor) and (id(v._data) in self.slot or id(root_array(v._data)) in self.slot):
                    self.brk(f"{loc.get('method') or frame.f_code.co_name} (computed outside the op table) on "
                             "a traced value")
        elif what == "random":
            if self.dropout_frame is None:
                self.brk(f"a random draw ({frame.f_code.co_name}) outside dropout")
        elif what == "derive":  # a pure helper computing arrays from tensors' values: replayed as a call
            code = frame.f_code
            names = code.co_varnames[:code.co_argcount]
            self.derive = (code, [self._derive_arg(loc[n]) for n in names])
            self.derive_frame = frame
        elif what == "bn":  # F.batch_norm updates the running statistics outside the op table
            if loc["training"] and loc["running_mean"] is not None:
                self.bn = (loc["running_mean"], loc["running_var"], loc["momentum"], [])
                self.bn_frame = frame
        elif what == "bncount":  # _BatchNorm.forward: num_batches_tracked += 1
            m = loc["self"]
            if m.training and m.track_running_stats:
                self.steps.append(Step("bump", (), (), True, t=m.num_batches_tracked))
        elif what == "ddp":  # DistributedDataParallel.forward: its buffer broadcast is a call of the plan
            m = loc["self"]
            if m.find_unused_parameters and m.require_backward_grad_sync and grad_state.enabled:
                self.steps.append(Step("call", (), (), True, fn=type(m)._reset, obj=m, args=()))  # the unused map
            if m.broadcast_buffers and m.require_forward_param_sync and m.process_group.size() > 1 \
                    and any(True for _ in m.module.buffers()):
                self.steps.append(Step("call", (), (), True, fn=type(m)._broadcast_buffers, obj=m,
                                       args=(m.process_group,)))
        elif what == "unused":  # DDP._mark_unused: the parameters this (frozen) forward did not reach
            self.unused = (loc["self"], loc["self"]._next, frame)
        elif what == "sched":
            self.brk("an LR scheduler step inside the compiled function (call it outside)")
        elif what == "dropout":
            p = loc["p"]
            if loc["training"] and 0 < p < 1:
                if loc["alpha"]:
                    self.brk("alpha dropout")
                x = loc["input"]
                self.dropout = (tuple(loc["mask_shape"]), p, x._data.dtype, x.device, id(x._data))
                self.dropout_frame = frame
        else:  # optimizer step / zero_grad: one step calling the same method
            obj = loc["self"]
            if what is Optimizer.step:
                if loc.get("closure") is not None:
                    self.brk("Optimizer.step(closure) inside the compiled function")
                if type(obj).step is not Optimizer.step:
                    self.brk(f"{type(obj).__name__}.step overrides Optimizer.step")
                args = ()
            else:
                args = (loc["set_to_none"],)
            if writes.epoch != self.epoch:
                self.check_writes(what.__qualname__)
            self.steps.append(Step("call", (), (), True, fn=what, obj=obj, args=args))
            self.in_call = frame

    def _derive_arg(self, v):
        if isinstance(v, Tensor):
            return ("t", self.value(v))
        if isinstance(v, np.ndarray):
            return ("a", self.array_slot(v))
        return ("v", v)

    def _derived(self, res):
        code, args = self.derive
        outs = []
        for v in res:
            if isinstance(v, Tensor):
                outs.append(("t", self.new_slot(v._data)))
            elif callable(v):
                self.keep.append(v)
                outs.append(("f", self.new_slot(v)))
            else:
                outs.append(("v", v))
        self.steps.append(Step("derive", [a[1] for a in args if a[0] != "v"],
                               [o[1] for o in outs if o[0] != "v"], fn=coefficients, args=tuple(args),
                               outs=tuple(outs)))

    def stop(self, reason):
        if not self.dead:
            self.dead = True
            self.breaks.append(reason)


def _arrays(v):
    if isinstance(v, np.ndarray):
        yield v
    elif isinstance(v, (tuple, list)):
        for x in v:
            yield from _arrays(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _arrays(x)


def _flat(v):
    if isinstance(v, (tuple, list)):
        for x in v:
            yield from _flat(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _flat(x)
    else:
        yield v


def _watch_table():
    t = {}
    for name in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "__array__",
                 "__complex__"):
        f = getattr(Tensor, name, None)
        if f is not None and hasattr(f, "__code__"):
            t[f.__code__] = "read"
    for name in dir(_random):
        if name.endswith("_array"):
            t[getattr(_random, name).__code__] = "random"
    t[_on_arrays.__code__] = "compare"
    for f in [*vars(_tensor_elementwise).values(), *vars(_tensor_special).values()]:  # raw-array predicates
        code = getattr(f, "__code__", None)
        if code is not None and {"plain", "_broadcasting"} & set(code.co_names) or f in (
                _tensor_elementwise.equal, _tensor_elementwise.allclose):
            t.setdefault(code, "compare")
    for f in (F.embedding, F.embedding_bag, F.one_hot, F.ctc_loss):   # they read index values into arrays
        t[getattr(f, "__wrapped__", f).__code__] = "indices"
    for f in (_tensor_reduce._arg, _tensor_scan.nonzero, _tensor_scan.count_nonzero, _tensor_scan.histc,
              _tensor_scan.searchsorted, _tensor_scan.bucketize):  # integer results computed from values
        t[f.__code__] = "indices"
    t[F._dropout.__code__] = "dropout"
    t[coefficients.__code__] = "derive"
    t[F.batch_norm.__code__] = "bn"
    t[_BatchNorm.forward.__code__] = "bncount"
    t[LRScheduler.step.__code__] = "sched"
    t[DistributedDataParallel.forward.__code__] = "ddp"
    t[DistributedDataParallel._mark_unused.__code__] = "unused"
    for f in (Optimizer.step, Optimizer.zero_grad, Module.zero_grad):
        t[f.__code__] = f
    return t


_WATCH = _watch_table()



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
        unknown = [p for p in passes if p not in PASSES + Plan.OPTIONAL]  # OPTIONAL: off by default
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
