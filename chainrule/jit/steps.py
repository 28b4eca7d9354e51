"""The compiled step's IR instruction (``Step``) and the slot references its payloads hold:
shared by the recorder (``jit/compile.py``), the passes (``jit/passes.py``) and the plan."""


class Step:
    """One IR instruction: ``kind`` (fwd, bwd, add, fit, acc, load, draw, call), the slots it
    ``reads`` and ``writes``, whether it has an ``effect`` beyond its writes, and its payload."""
    __slots__ = ("kind", "reads", "writes", "effect", "p")

    def __init__(self, kind, reads, writes, effect=False, **p):
        self.kind, self.reads, self.writes, self.effect, self.p = kind, tuple(reads), tuple(writes), effect, p

    def __repr__(self):
        name = self.p.get("op").__name__ if "op" in self.p else self.p.get("fn", "")
        name = getattr(name, "__qualname__", name)
        return f"{list(self.writes)} = {self.kind}{'(' + str(name) + ')' if name else ''}{list(self.reads)}"


def _slots_in(v, out):
    if isinstance(v, _Ref):
        out.append(v.slot)
    elif isinstance(v, (tuple, list)):
        for x in v:
            _slots_in(x, out)
    elif isinstance(v, dict):
        for x in v.values():
            _slots_in(x, out)
    return out


class _Ref:
    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


class _NewList(_Ref):
    """A param that is a fresh list each run (BatchNorm's batch_stats), kept in its slot."""
    __slots__ = ()


def _last_uses(steps, outputs):
    last = {}
    for i, st in enumerate(steps):
        for s in st.writes:
            last.setdefault(s, i)
        for s in st.reads:
            last[s] = i
    for s in outputs:
        last[s] = len(steps)
    return last
