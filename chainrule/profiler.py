"""``torch.profiler``: ``profile(activities=..., schedule=..., on_trace_ready=...)``, ``record_function``,
``schedule``, ``ProfilerActivity``, ``tensorboard_trace_handler``, over ``chainrule.autograd.profiler``'s op
timing (see there for what is timed).

    with cr.profiler.profile(activities=[cr.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        train_step()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

With a ``schedule``, ``prof.step()`` after each training step moves through its wait/warmup/active steps:
ops are timed in the active ones, and ``on_trace_ready(prof)`` runs at the end of each active stretch.
"""
import enum
import os
import socket
import time

from .autograd import profiler as _autograd_profiler
from .autograd.profiler import EventList, record_function

__all__ = ["profile", "record_function", "schedule", "ProfilerAction", "ProfilerActivity",
           "tensorboard_trace_handler", "EventList"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """step -> ProfilerAction: skip_first steps, then cycles of wait, warmup and active steps (the last active
    step of a cycle RECORD_AND_SAVE), ``repeat`` cycles (0: for ever), as ``torch.profiler.schedule``."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each trace as ``<worker>.<time>.pt.trace.json`` under ``dir_name``."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(dir_name, f"{worker}.{time.time_ns()}.pt.trace.json"))
    return handler


class profile(_autograd_profiler.profile):
    """As ``torch.profiler.profile``; ``activities`` defaults to the CPU (only CPU times are recorded)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes)
        self.schedule, self.on_trace_ready, self.step_num = schedule, on_trace_ready, 0

    def __enter__(self):
        super().__enter__()
        self._recording = self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        return self

    def __exit__(self, *exc):
        if self.schedule is None and self.on_trace_ready is not None:
            self._recording = False
            self.on_trace_ready(self)
        return super().__exit__(*exc)

    def start(self):
        return self.__enter__()

    def stop(self):
        return self.__exit__(None, None, None)

    def _action(self):
        return ProfilerAction.RECORD if self.schedule is None else self.schedule(self.step_num)

    def step(self):
        """The end of one training step: with a schedule, record or not in the next, and hand a finished
        active stretch to ``on_trace_ready``."""
        done = self._action()
        self.step_num += 1
        if done is ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
            self.on_trace_ready(self)
        nxt = self._action()
        if nxt in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) and done is not ProfilerAction.RECORD:
            self._events.clear()  # a new active stretch starts with no events (the last one's stay readable)
        self._recording = nxt in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
