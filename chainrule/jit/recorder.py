"""The recorder of ``cr.compile`` (see ``jit/compile.py`` for the whole design): one eager run of the
step with every op-table ``apply``, the backward walk, optimizer calls and the watched functions
(``sys.setprofile``) written down as IR ``Step``s over numbered slots."""
import sys

import numpy as np

from ..autograd import engine
from ..autograd.engine import _accumulate, _fit, _count_dependencies, _release_parents, _FREED
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import Node as Ctx, check_saved, writes, root_array
from ..backend import NP, random as _random
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
from .plan import _UFUNCS, GraphBreakError, _Break, Step, _slots_in, _Ref, _NewList


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
