"""``torch.autograd.profiler``: the time each op takes, forward and backward, and the spans the user marks.

    with cr.autograd.profiler.profile(record_shapes=True) as prof:   # or cr.profiler.profile()
        with cr.autograd.profiler.record_function("train step"):
            loss = model(x).sum(); loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))

While a profile is active every op of the table is timed: its forward as ``cr::<Op>`` and its backward as
torch's grad_fn name (``AddmmBackward0``); ``record_function`` spans hold what runs inside them (their self
time is what is not an op or an inner span). Times are wall-clock microseconds on the calling thread, as
torch's CPU times; on the GPU they include waiting for the device. Nothing is timed outside a profile (the op
methods are wrapped on entry and restored on exit), and ``cr.compile``'s replayed plans run no ops, so a
profile sees only their first, eager calls.
"""
import inspect
import json
import threading
import time

from ..ops.registry import OPS

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]
SORT_KEYS = ("cpu_time_total", "self_cpu_time_total", "cpu_time", "self_cpu_time", "count")
_active = []  # the running profile (at most one, as torch)
_local = threading.local()  # per thread: the open spans' inner time


class FunctionEvent:
    """One timed op call or span: name, start and end (us since the profile began), inner time, shapes."""
    __slots__ = ("name", "start", "end", "inner", "input_shapes", "thread")

    def __init__(self, name, start, end, inner, input_shapes, thread):
        self.name, self.start, self.end, self.inner = name, start, end, inner
        self.input_shapes, self.thread = input_shapes, thread

    key = property(lambda self: self.name)
    count = property(lambda self: 1)
    cpu_time_total = cpu_time = property(lambda self: self.end - self.start)
    self_cpu_time_total = self_cpu_time = property(lambda self: self.end - self.start - self.inner)

    def __repr__(self):
        return f"<FunctionEvent {self.name} cpu_time={_format_time(self.cpu_time_total)}>"


class FunctionEventAvg:
    """The events of one name (and, grouped by shape, one list of input shapes) added up."""

    def __init__(self, key, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count, self.cpu_time_total, self.self_cpu_time_total = 0, 0.0, 0.0

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        return self

    cpu_time = property(lambda self: self.cpu_time_total / max(self.count, 1))
    self_cpu_time = property(lambda self: self.self_cpu_time_total / max(self.count, 1))

    def __repr__(self):
        return f"<FunctionEventAvg key={self.key} count={self.count} cpu_time_total={_format_time(self.cpu_time_total)}>"


def _format_time(us):
    return f"{us / 1e6:.3f}s" if us >= 1e6 else f"{us / 1e3:.3f}ms" if us >= 1e3 else f"{us:.3f}us"


class EventList(list):
    """A list of events (or of their averages) that prints as torch's profiler table."""

    def key_averages(self, group_by_input_shape=False):
        groups = {}
        for e in self:
            key = (e.key, str(e.input_shapes) if group_by_input_shape else None)
            groups.setdefault(key, FunctionEventAvg(e.key, e.input_shapes if group_by_input_shape else None)).add(e)
        return EventList(groups.values())

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, header=None,
              top_level_events_only=False, **ignored):
        """The rows sorted by ``sort_by`` (largest first; one of SORT_KEYS, ``cuda``/``device`` keys read as 0),
        ``row_limit`` of them (-1: all), with each time's share of the total self time."""
        rows = list(self)
        if sort_by is not None:
            attr = sort_by.replace("cuda", "device")
            if attr not in SORT_KEYS and not attr.startswith(("device", "self_device")):
                raise AttributeError(f"profiler table: sort_by={sort_by!r} is not an event attribute; one of "
                                     f"{', '.join(SORT_KEYS)}")
            rows.sort(key=lambda e: getattr(e, attr, 0), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total = sum(e.self_cpu_time_total for e in self) or 1.0
        shapes = any(getattr(e, "input_shapes", None) for e in rows) and isinstance(self[0], FunctionEventAvg)
        width = max([len("Name")] + [min(len(e.key), max_name_column_width) for e in rows]) + 2
        cols = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        head = "Name".rjust(width) + "".join(c.rjust(14) for c in cols) + ("  Input Shapes" if shapes else "")
        line = "-" * len(head)
        out = ([header] if header else []) + [line, head, line]
        for e in rows:
            cells = [f"{100 * e.self_cpu_time_total / total:.2f}%", _format_time(e.self_cpu_time_total),
                     f"{100 * e.cpu_time_total / total:.2f}%", _format_time(e.cpu_time_total),
                     _format_time(e.cpu_time), str(e.count)]
            out.append(e.key[:max_name_column_width].rjust(width) + "".join(c.rjust(14) for c in cells)
                       + (f"  {e.input_shapes or []}" if shapes else ""))
        out += [line, f"Self CPU time total: {_format_time(sum(e.self_cpu_time_total for e in self))}", ""]
        return "\n".join(out)

    def __str__(self):
        return self.table()


def _open():
    """Start an event on this thread: its inner time accumulates in the thread's stack of open events."""
    _local.__dict__.setdefault("stack", []).append(0.0)
    return time.perf_counter()


def _close(prof, name, start, shapes):
    end = time.perf_counter()
    stack = _local.stack
    inner = stack.pop()
    if stack:
        stack[-1] += end - start
    t0 = prof._t0
    prof._events.append(FunctionEvent(name, (start - t0) * 1e6, (end - t0) * 1e6, inner * 1e6, shapes,
                                      threading.get_ident()))


def _recording():
    prof = _active[0] if _active else None
    return prof if prof is not None and prof._recording else None


def _span(name, shapes, fn, *args, **kwargs):
    """Run fn, recording it as one event of the active profile (if any)."""
    prof = _recording()
    if prof is None:
        return fn(*args, **kwargs)
    start = _open()
    try:
        return fn(*args, **kwargs)
    finally:
        _close(prof, name, start, shapes)


def _timed(name, kind, method, record_shapes):
    """A replacement for an op's forward/backward (static or class method) that times each call."""
    fn, is_class = method.__func__, isinstance(method, classmethod)

    def timed(*args, **kwargs):
        arrays = args[3:] if is_class else args[2:]  # after (cls,) ctx, xp
        if kind == "backward":
            ctx = args[1] if is_class else args[0]
            label = ctx.name() if hasattr(ctx, "name") else name + "Backward0"
            arrays = arrays[2:]  # after g, out
        else:
            label = "cr::" + name
        shapes = [list(a.shape) if hasattr(a, "shape") else [] for a in arrays] if record_shapes else None
        return _span(label, shapes, fn, *args, **kwargs)
    return classmethod(timed) if is_class else staticmethod(timed)


class profile:
    """As ``torch.autograd.profiler.profile``: a context manager that times every op (and ``record_function``
    span) run inside it; ``key_averages()``, ``events()``, ``table()`` and ``export_chrome_trace(path)`` read it.
    ``use_cuda``/``use_device``, ``profile_memory``, ``with_stack``, ``with_flops`` and ``with_modules`` are
    accepted; only CPU (wall) times are recorded."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        self.enabled, self.record_shapes = bool(enabled), bool(record_shapes)
        self._events, self._saved, self._recording, self._t0 = EventList(), [], False, 0.0

    def __enter__(self):
        if not self.enabled:
            return self
        if _active:
            raise RuntimeError("profiler: a profile is already running (profiles cannot be nested)")
        _active.append(self)
        for op in set(OPS.values()):
            for kind in ("forward", "backward"):
                method = inspect.getattr_static(op, kind, None)
                if isinstance(method, (staticmethod, classmethod)):
                    self._saved.append((op, kind, op.__dict__.get(kind)))
                    setattr(op, kind, _timed(op.__name__, kind, method, self.record_shapes))
        self._t0 = time.perf_counter()
        self._recording = True
        return self

    def __exit__(self, *exc):
        if not self.enabled or not _active or _active[0] is not self:
            return False
        self._recording = False
        for op, kind, own in reversed(self._saved):
            if own is None:
                delattr(op, kind)
            else:
                setattr(op, kind, own)
        self._saved.clear()
        _active.clear()
        return False

    def events(self):
        return self._events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        return self._events.key_averages(group_by_input_shape)

    def table(self, *args, **kwargs):
        return self.key_averages().table(*args, **kwargs)

    def export_chrome_trace(self, path):
        """The events as a Chrome trace (JSON, ``chrome://tracing`` or Perfetto)."""
        trace = [{"name": e.name, "ph": "X", "ts": e.start, "dur": e.end - e.start, "pid": 0, "tid": e.thread,
                  "cat": "cpu_op", "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}}
                 for e in self._events]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)

    def __str__(self):
        return self._events.table()


class record_function:
    """A named span in the active profile (context manager or decorator), as torch's ``record_function``."""

    def __init__(self, name, args=None):
        self.name, self._prof, self._start = name, None, 0.0

    def __enter__(self):
        self._prof = _recording()
        if self._prof is not None:
            self._start = _open()
        return self

    def __exit__(self, *exc):
        if self._prof is not None:
            _close(self._prof, self.name, self._start, None)
            self._prof = None
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapped
