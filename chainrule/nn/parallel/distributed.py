"""DistributedDataParallel: one model replica per process, gradients averaged over the processes.

How the averaging overlaps backward (torch's Reducer, in Python):

* At construction the parameters are checked to have the same shapes and dtypes on every rank,
  then parameters and buffers are broadcast from rank 0, and the parameters are laid out in
  buckets (reverse registration order, the order their gradients roughly become ready; the first
  bucket 1 MB, the rest ``bucket_cap_mb``), each one flat array.
* Each forward that will be followed by a synchronised backward runs the module with every
  parameter seen through an alias (a reshape to its own shape: one graph node per parameter).
  The alias's gradient hook fires once the parameter's whole gradient has arrived in the backward
  walk; it writes ``grad / world_size`` into the parameter's slot of its bucket and returns that
  slot, so the engine accumulates the slot into ``.grad`` at the end of the walk.
* A bucket whose slots are all written starts a non-blocking all-reduce (``Iallreduce``) at
  once, in bucket order on every rank; the hooks that follow test the in-flight requests so the
  library progresses while backward computes the rest. The hook of the last parameter waits for
  all of them, so when ``backward()`` returns the slots (and then ``.grad``) hold the averages.
* ``no_sync()``: the forward runs the bare module; gradients accumulate locally and the next
  synchronised backward averages the accumulated sum.
* ``find_unused_parameters``: after the forward, the graph is walked from the outputs; parameters
  it does not reach are ready at once (their slot holds their local ``.grad``, or zeros), and a
  parameter no rank used keeps its ``.grad`` untouched, as in torch.
* ``cr.compile``: a compiled step's plan calls the hooks' pieces where the traced run did (``_fill``
  per gradient, ``_start`` per bucket, ``_finish`` after the last; ``_fill_unused``), so the bucket
  all-reduces are steps of the plan, through the same backend (jit/compile.py records them).
"""
import contextlib
import time

import numpy as np

from ..module import Module
from ...tensor import Tensor
from ...ops.registry import apply
from ...ops.movement import Reshape
from ...autograd.grad_mode import is_grad_enabled
from ...backend import namespace
from ... import distributed as dist

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES
_UNFINISHED = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
               "indicates that your module has parameters that were not used in producing loss. You can enable "
               "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
               "`chainrule.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
               "participate in calculating loss.")


_DTYPE_NAMES = {np.dtype(t).num: np.dtype(t).name for t in ("float16", "float32", "float64", "int8", "int16", "int32",
                                                       "int64", "uint8", "bool", "complex64", "complex128")}


class _Bucket:
    __slots__ = ("buffer", "members", "views", "left")

    def __init__(self, xp, dtype, members, params):
        self.members = members  # indices into the DDP's parameter list
        self.buffer = xp.zeros(sum(params[i]._data.size for i in members), dtype)
        self.views, offset = {}, 0
        for i in members:
            a = params[i]._data
            self.views[i] = self.buffer[offset:offset + a.size].reshape(a.shape)
            offset += a.size
        self.left = len(members)


def _tensors_in(obj, found):
    if isinstance(obj, Tensor):
        found.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors_in(o, found)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors_in(o, found)
    return found


class DistributedDataParallel(Module):
    """Data parallelism over processes, as ``torch.nn.parallel.DistributedDataParallel``.

    Wrap the model after ``chainrule.distributed.init_process_group``: construction broadcasts
    rank 0's parameters and buffers (and checks that every rank's parameter shapes agree); each rank
    then feeds its own share of the batch, and during ``backward()`` gradient hooks fill buckets
    whose all-reduces (averaging over the ranks) start as soon as a bucket is full, overlapping the
    rest of backward. After ``backward()`` every rank holds the same averaged gradients.

    Parameters
    ----------
    module : Module
        The model; its parameters that require grad are synchronised.
    device_ids, output_device : None
        For CUDA modules (one GPU per process); must be None for a CPU module.
    dim : int, default 0
        The batch dimension (kept for torch's signature; inputs are not scattered).
    broadcast_buffers : bool, default True
        Broadcast rank 0's buffers (BatchNorm's running statistics) at every forward.
    bucket_cap_mb : float, default 25
        Bucket size; the first bucket is 1 MB with the default, as torch's.
    find_unused_parameters : bool, default False
        Mark parameters the forward did not reach as ready, so their buckets still reduce.
    process_group : ProcessGroup, optional
        The group to average over (default: the world).
    init_sync : bool, default True
        Broadcast rank 0's parameters and buffers at construction.
    check_reduction, gradient_as_bucket_view, static_graph : bool
        Accepted for torch's signature; they change nothing here.

    Shape
    -----
    - Input: whatever ``module`` takes (each rank its own part of the batch).
    - Output: whatever ``module`` returns.

    Examples
    --------
    A world of one process (``chainrule launch -n 4 script.py`` or ``mpiexec -n 4`` runs four):

    >>> import chainrule.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> model = cr.nn.parallel.DistributedDataParallel(cr.nn.Linear(4, 2))
    >>> model(cr.randn(3, 4)).sum().backward()
    >>> model.module.weight.grad.shape
    chainrule.Size([2, 4])
    >>> dist.destroy_process_group()

    Notes
    -----
    ``no_sync()`` skips the all-reduce (gradient accumulation); BatchNorm statistics stay local,
    as torch's default. Under ``cr.compile`` the bucket all-reduces are steps of the compiled plan.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a chainrule.nn.Module, got "
                            f"{type(module).__name__}")
        pg = dist._group(process_group)  # ValueError before init_process_group, as torch
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        on_cpu = all(type(p._data) is np.ndarray for _, p in named)
        if on_cpu and (device_ids is not None or output_device is not None):
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters "
                             "{device(type='cpu')}.")
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        # as torch: with the default cap the first bucket is small (1 MB), so the first all-reduce starts early
        self._first_bucket_cap = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.process_group = pg
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._slots = self._find_slots(module)
        self._verify_shapes(pg)
        if init_sync and pg.size() > 1:
            for t in list(module.parameters()) + list(module.buffers()):
                self._broadcast(t, pg)
        self._buckets, self._bucket_of = self._build_buckets()
        self._inv_world = 1.0 / pg.size()
        self._grad_hooks = [self._make_hook(i) for i in range(len(self._params))]
        self._reset()
        self._comm_wait_s = 0.0  # time backward spent waiting for gradient all-reduces (benchmarks read it)
        self._last_wait = (0.0, 0.0)

    # ---- construction ------------------------------------------------------------------------
    def _find_slots(self, module):
        """For each parameter, every (sub-module, attribute name) holding it (tied weights: several)."""
        index = {id(p): i for i, p in enumerate(self._params)}
        slots = [[] for _ in self._params]
        seen = set()
        for _, m in module.named_modules(remove_duplicate=False):
            for name, p in m._parameters.items():
                key = (id(m), name)
                if p is not None and id(p) in index and key not in seen:
                    seen.add(key)
                    slots[index[id(p)]].append((m, name))
        return slots

    def _verify_shapes(self, pg):
        """Every rank must hold the same parameters: compare shapes and dtypes with rank 0's."""
        mine = [len(self._params)]
        for p in self._params:
            mine += [np.dtype(p._data.dtype).num, p._data.ndim, *p._data.shape]
        every = pg.backend.all_same(np.array(mine, np.int64))

        def decode(values):
            out, k = [], 1
            for _ in range(values[0]):
                ndim = int(values[k + 1])
                code = int(values[k])
                out.append((list(map(int, values[k + 2:k + 2 + ndim])), _DTYPE_NAMES.get(code, f"dtype #{code}")))
                k += 2 + ndim
            return out
        ref = decode(every[0])
        for r, values in enumerate(every[1:], 1):
            theirs = decode(values)
            if len(theirs) != len(ref):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {r} has {len(theirs)} params, "
                                   f"while rank 0 has inconsistent {len(ref)} params.")
            for name, a, b in zip(self._names, ref, theirs):
                if a != b:
                    raise RuntimeError(f"DDP expects same model across all ranks, but parameter '{name}' has shape "
                                       f"{b[0]} ({b[1]}) on rank {r} and shape {a[0]} ({a[1]}) on rank 0")

    @staticmethod
    def _broadcast(t, pg):
        if not t._data.flags.c_contiguous:
            t._data = namespace(t._data).ascontiguousarray(t._data)
        dist.Work(*pg.backend.bcast(t._data, 0, True), pg.timeout, "DDP broadcast").wait()

    def _broadcast_buffers(self, pg):
        """Rank 0's buffers (BatchNorm statistics...) to every rank: one broadcast per dtype."""
        groups = {}
        for t in self.module.buffers():
            if t._data.size:
                groups.setdefault((type(t._data), t._data.dtype), []).append(t)
        for tensors in groups.values():
            if len(tensors) == 1:
                self._broadcast(tensors[0], pg)
                continue
            xp = namespace(tensors[0]._data)
            flat = xp.concatenate([t._data.ravel() for t in tensors])
            dist.Work(*pg.backend.bcast(flat, 0, True), pg.timeout, "DDP buffer broadcast").wait()
            offset = 0
            for t in tensors:
                n = t._data.size
                t._data[...] = flat[offset:offset + n].reshape(t._data.shape)
                offset += n

    def _build_buckets(self):
        """Parameters in reverse order, cut into buckets of one dtype and at most the cap in bytes."""
        buckets, current, size, cap = [], [], 0, self._first_bucket_cap
        for i in reversed(range(len(self._params))):
            a = self._params[i]._data
            if current and (a.dtype != self._params[current[0]]._data.dtype or size + a.nbytes > cap):
                buckets.append(current)
                current, size, cap = [], 0, self.bucket_bytes_cap
            current.append(i)
            size += a.nbytes
        buckets.append(current)
        built, bucket_of = [], {}
        for b, members in enumerate(buckets):
            a = self._params[members[0]]._data
            built.append(_Bucket(namespace(a), a.dtype, members, self._params))
            for i in members:
                bucket_of[i] = b
        return built, bucket_of

    # ---- one iteration -----------------------------------------------------------------------
    def _reset(self):
        self._marked = [False] * len(self._params)
        self._used = np.ones(len(self._params), np.int32)
        for b in self._buckets:
            b.left = len(b.members)
        self._next, self._inflight, self._works = 0, [], []
        self._expecting = False

    def _make_hook(self, i):
        def hook(grad):
            if self._marked[i]:
                raise RuntimeError(f"Expected to mark a variable ready only once (parameter '{self._names[i]}' got "
                                   "a second gradient in one iteration: a parameter used outside forward, or a "
                                   "second backward through the same forward)")
            view = self._fill(i, grad._data)
            self._mark_ready(i)
            return Tensor._make(view)
        hook.ddp_param = (self, i)  # cr.compile records the hook as _fill, _start and _finish calls
        return hook

    # The three pieces of a hook, also what a cr.compile'd step's plan calls in the hooks' place: the
    # recording notes where the eager hooks filled a slot, started a bucket and waited for them all.
    def _fill(self, i, g):
        """This rank's gradient ``g`` of parameter i, divided by the world size, into its bucket slot
        (returned); a gradient accumulated under no_sync is added first."""
        p, view = self._params[i], self._buckets[self._bucket_of[i]].views[i]
        if p.grad is not None and p.grad._node is None:  # accumulated under no_sync: average the sum
            g = g + p.grad._data
            p.grad = None
        namespace(view).multiply(g, self._inv_world, out=view)
        return view

    def _start(self, b):
        """Start bucket b's non-blocking all-reduce (a sum of the slots, so their average); let the
        library move the buckets already in flight along."""
        if self._inflight:
            self._inflight = [w for w in self._inflight if not w.is_completed()]
        pg = self.process_group
        work = dist.Work(*pg.backend.allreduce(self._buckets[b].buffer, dist.ReduceOp.SUM, False), pg.timeout,
                         "DDP gradient all_reduce")
        self._works.append(work)
        self._inflight.append(work)

    def _mark_ready(self, i):
        self._marked[i] = True
        bucket = self._buckets[self._bucket_of[i]]
        bucket.left -= 1
        if bucket.left == 0:
            while self._next < len(self._buckets) and self._buckets[self._next].left == 0:
                self._start(self._next)
                self._next += 1
            if self._next == len(self._buckets):
                self._finish()
                return
        if self._inflight:  # let the library move the in-flight buckets along
            self._inflight = [w for w in self._inflight if not w.is_completed()]

    def _finish(self):
        start = time.perf_counter()
        for w in self._works:
            w.wait()
        done = time.perf_counter()
        self._comm_wait_s += done - start
        self._last_wait = (start, done)  # when this rank's backward was done, and its gradients (benchmarks)
        if self.find_unused_parameters:  # every rank joins (one rank may have used everything)
            used = self._used.copy()
            dist.Work(*self.process_group.backend.allreduce(used, dist.ReduceOp.MAX, True),
                      self.process_group.timeout, "DDP unused-parameter map").wait()
            for i in np.flatnonzero(~self._used.astype(bool) & used.astype(bool)):
                view = self._buckets[self._bucket_of[i]].views[i]
                self._params[i].grad = Tensor._make(view.copy())
        self._expecting = False
        self._works, self._inflight = [], []

    def _mark_unused(self, output, aliases):
        """Parameters the graph from ``output`` does not reach are ready now (find_unused_parameters)."""
        seen, stack = set(), [t._node for t in _tensors_in(output, []) if t._node is not None]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(q for q in node.parents if q is not None and not isinstance(q, Tensor))
        for i, a in enumerate(aliases):
            if id(a._node) not in seen:
                self._fill_unused(i)
                self._mark_ready(i)

    def _fill_unused(self, i):
        """Parameter i, which the forward did not use: its slot holds its local ``.grad`` (accumulated
        under no_sync) divided by the world size, or zeros (returned); marked unused for ``_finish``."""
        p, view = self._params[i], self._buckets[self._bucket_of[i]].views[i]
        if p.grad is not None:
            namespace(view).multiply(p.grad._data, self._inv_world, out=view)
        else:
            view[...] = 0
        self._used[i] = 0
        return view

    def forward(self, *inputs, **kwargs):
        pg = self.process_group
        if self.broadcast_buffers and self.require_forward_param_sync and pg.size() > 1:
            self._broadcast_buffers(pg)
        if not (self.require_backward_grad_sync and is_grad_enabled()):
            return self.module(*inputs, **kwargs)
        if self._expecting and any(self._marked):
            missing = [n for n, m in zip(self._names, self._marked) if not m]
            raise RuntimeError(_UNFINISHED + f"\nParameters which did not receive grad for rank {pg.rank()}: "
                               + ", ".join(missing))
        self._reset()
        self._expecting = True
        aliases = []
        for i, p in enumerate(self._params):
            a = apply(Reshape, p, shape=p._data.shape)  # one node per parameter: its hook sees the whole grad
            a.register_hook(self._grad_hooks[i])
            aliases.append(a)
            for m, name in self._slots[i]:
                m._parameters[name] = a
        try:
            output = self.module(*inputs, **kwargs)
        finally:
            for i, p in enumerate(self._params):
                for m, name in self._slots[i]:
                    m._parameters[name] = p
        if self.find_unused_parameters:
            self._mark_unused(output, aliases)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Within this context backward accumulates gradients locally, without communication; the
        first synchronised backward after it averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
