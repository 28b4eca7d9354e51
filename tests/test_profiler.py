"""chainrule.profiler / chainrule.autograd.profiler (torch.profiler's API): every op run inside a profile is
timed (forward as cr::Op, backward as its grad_fn name), spans nest, tables sort and print, Chrome traces are
JSON, schedules step as torch's, and the op table is left exactly as it was."""
import inspect
import json

import pytest
import torch

import chainrule as cr
from chainrule.autograd import profiler as aprof
from chainrule.ops.registry import OPS


def _methods():
    return {(name, kind): inspect.getattr_static(op, kind, None) for name, op in OPS.items()
            for kind in ("forward", "backward")}


def _step(model, x):
    loss = model(x).relu().sum()
    loss.backward()
    return loss


def test_ops_forward_and_backward_are_counted():
    model, x = cr.nn.Linear(5, 3), cr.randn(4, 5)
    with cr.profiler.profile(activities=[cr.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            _step(model, x)
    counts = {e.key: e.count for e in prof.key_averages()}
    assert counts["cr::Linear"] == counts["cr::Relu"] == counts["cr::Sum"] == 3
    assert counts["AddmmBackward0"] == counts["ReluBackward0"] == counts["SumBackward0"] == 3
    for e in prof.events():
        assert e.end >= e.start >= 0 and e.self_cpu_time_total <= e.cpu_time_total


def test_spans_hold_what_runs_inside_them():
    model, x = cr.nn.Linear(5, 3), cr.randn(4, 5)

    @aprof.record_function("decorated")
    def inner():
        return model(x).sum()
    with aprof.profile() as prof:
        with aprof.record_function("outer"):
            inner().backward()
    events = {e.name: e for e in prof.events() if e.name in ("outer", "decorated")}
    ops = [e for e in prof.events() if e.name not in events]
    outer, dec = events["outer"], events["decorated"]
    assert outer.start <= dec.start and dec.end <= outer.end
    inside_outer = sum(e.cpu_time_total for e in ops if e.start >= outer.start and e.end <= outer.end
                       and not (e.start >= dec.start and e.end <= dec.end)) + dec.cpu_time_total
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - inside_outer, abs=1e-3)
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    assert total == pytest.approx(outer.cpu_time_total, rel=1e-6)


def test_op_table_restored_and_nothing_timed_outside():
    before = _methods()
    with pytest.raises(ValueError):
        with aprof.profile():
            assert _methods() != before
            raise ValueError("inside")
    assert _methods() == before
    with aprof.profile(enabled=False) as off:
        _step(cr.nn.Linear(2, 2), cr.randn(1, 2))
    assert len(off.events()) == 0 and _methods() == before


def test_nested_profiles_raise():
    with aprof.profile():
        with pytest.raises(RuntimeError, match="already"):
            with cr.profiler.profile():
                pass


def test_table_sorts_limits_and_names_its_columns():
    model, x = cr.nn.Linear(5, 3), cr.randn(4, 5)
    with cr.profiler.profile(record_shapes=True) as prof:
        _step(model, x)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=2)
    for column in ("Name", "Self CPU %", "CPU total", "# of Calls", "Self CPU time total"):
        assert column in table
    rows = prof.key_averages()
    top = sorted(rows, key=lambda e: e.self_cpu_time_total, reverse=True)[:2]
    body = table.splitlines()[3:5]
    assert [r.split()[0] for r in body] == [e.key for e in top]
    shaped = prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total")
    assert "[[4, 5], [3, 5], [3]]" in shaped
    for lib_table in (lambda: prof.key_averages().table(sort_by="bogus"),):
        with pytest.raises(AttributeError):
            lib_table()
    with torch.autograd.profiler.profile() as tprof:
        torch.ones(2) + 1
    with pytest.raises(AttributeError):
        tprof.key_averages().table(sort_by="bogus")


def test_chrome_trace_is_json(tmp_path):
    with cr.autograd.profiler.profile(use_cuda=False) as prof:  # the tutorials' spelling
        _step(cr.nn.Linear(2, 2), cr.randn(1, 2))
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert {e["name"] for e in events} >= {"cr::Linear", "AddmmBackward0"}
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in events)


@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2, repeat=2), dict(wait=0, warmup=0, active=1),
                                dict(wait=2, warmup=0, active=3, repeat=1, skip_first=3)])
def test_schedule_matches_torch(kw):
    ours, theirs = cr.profiler.schedule(**kw), torch.profiler.schedule(**kw)
    assert [ours(i).name for i in range(20)] == [theirs(i).name for i in range(20)]


def test_scheduled_profile_records_active_steps_and_hands_each_cycle_over(tmp_path):
    model, x = cr.nn.Linear(3, 3), cr.randn(2, 3)
    cycles = []
    handler = cr.profiler.tensorboard_trace_handler(str(tmp_path))

    def ready(prof):
        cycles.append({e.key: e.count for e in prof.key_averages()})
        handler(prof)
    with cr.profiler.profile(schedule=cr.profiler.schedule(wait=1, warmup=1, active=2, repeat=2),
                             on_trace_ready=ready) as prof:
        for _ in range(10):
            _step(model, x)
            prof.step()
    assert len(cycles) == 2 and all(c["cr::Linear"] == 2 for c in cycles)
    assert len(list(tmp_path.glob("*.pt.trace.json"))) == 2
