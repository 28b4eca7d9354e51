"""The graph IR: what ``jit.trace`` records from the op table and what ``save``/``load`` and
``onnx.export`` read.

A ``Graph`` is a straight-line program over named values:

    inputs   names of the traced function's tensor inputs, with their shapes and dtypes
    weights  {name: array}: parameters and buffers (by their state-dict names) and other constants
    nodes    one ``Node`` per primitive call: op name (a key of ``ops.registry.OPS``), args (value
             names as ``Ref`` or literal scalars), params (the op's keyword arguments, where an
             array is a ``Ref`` too), out (a new value name), site (the module path that ran it)
    outputs  the value names returned, and ``out_tree`` the nesting (tensor, tuple, list)

Recording: ``Tracer`` is installed with ``ops.registry.set_tracer`` while the function runs once
on example inputs; ``apply`` calls it after every op with the op, its inputs (Tensors or Python
scalars), params and result. A tensor the tracer has not seen is a constant (a weight); one that
shares memory with a traced value but was made outside the op table (``.numpy()`` round trips,
``.data``) is refused rather than frozen into the graph silently.
"""
import json
import math

import numpy as np

from ..autograd.node import root_array, writes
from ..backend import NP
from ..ops.registry import OPS, NO_CTX, Op, set_tracer
from ..tensor import Tensor

FORMAT_VERSION = 1


class Ref:
    """A reference to a named value (input, weight or a node's output) inside args or params."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"%{self.name}"

    def __eq__(self, other):
        return isinstance(other, Ref) and other.name == self.name

    def __hash__(self):
        return hash(("Ref", self.name))


class Node:
    __slots__ = ("op", "args", "params", "out", "site", "shape", "dtype")

    def __init__(self, op, args, params, out, site="", shape=None, dtype=None):
        self.op, self.args, self.params, self.out, self.site = op, args, params, out, site
        self.shape, self.dtype = shape, dtype

    def __repr__(self):
        ps = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"%{self.out} = {self.op}({', '.join(map(repr, self.args))}{', ' if ps else ''}{ps})"


class Graph:
    """The traced program: input names and specs, weights (name to array), nodes in execution order and output
    names."""
    def __init__(self):
        self.inputs = []        # value names
        self.input_specs = []   # (shape tuple, dtype name) per input
        self.weights = {}       # name -> np.ndarray
        self.nodes = []
        self.outputs = []       # value names
        self.out_tree = None    # "t" | ["tuple"|"list", [subtrees]]
        self.specs = {}         # value name -> (shape, dtype name), for every value

    def __repr__(self):
        lines = [f"graph({', '.join(f'%{n}: {d}{list(s)}' for n, (s, d) in zip(self.inputs, self.input_specs))}):"]
        lines += [f"  {n!r}" + (f"  # {n.site}" if n.site else "") for n in self.nodes]
        lines.append(f"  return {', '.join('%' + o for o in self.outputs)}")
        return "\n".join(lines)

    # ---- JSON --------------------------------------------------------------------------------
    def to_json(self):
        return {"format": "chainrule.jit", "version": FORMAT_VERSION,
                "inputs": [{"name": n, "shape": list(s), "dtype": d}
                           for n, (s, d) in zip(self.inputs, self.input_specs)],
                "weights": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in self.weights.items()},
                "nodes": [{"op": n.op, "args": [encode(a) for a in n.args],
                           "params": {k: encode(v) for k, v in n.params.items()}, "out": n.out, "site": n.site,
                           "shape": list(n.shape) if n.shape is not None else None, "dtype": n.dtype}
                          for n in self.nodes],
                "outputs": list(self.outputs), "out_tree": self.out_tree}

    @classmethod
    def from_json(cls, doc, weights, where="graph"):
        """Rebuild a graph from ``to_json``'s document and a {name: array} dict, checking every
        name and op before anything runs."""
        if not isinstance(doc, dict) or doc.get("format") != "chainrule.jit":
            raise ValueError(f"{where}: not a chainrule.jit graph")
        if doc.get("version") != FORMAT_VERSION:
            raise ValueError(f"{where}: unsupported graph version {doc.get('version')!r} (expected {FORMAT_VERSION})")
        g = cls()
        try:
            for spec in doc["inputs"]:
                g.inputs.append(str(spec["name"]))
                g.input_specs.append((tuple(int(d) for d in spec["shape"]), str(np.dtype(spec["dtype"]))))
            for name, spec in doc["weights"].items():
                if name not in weights:
                    raise ValueError(f"{where}: tensor '{name}' named by the graph is missing from the weights file")
                w = weights[name]
                if list(w.shape) != list(spec["shape"]) or str(w.dtype) != spec["dtype"]:
                    raise ValueError(f"{where}: weight '{name}' is {w.dtype}{list(w.shape)} in the weights file, "
                                     f"the graph expects {spec['dtype']}{spec['shape']}")
                g.weights[name] = w
            known = set(g.inputs) | set(g.weights)
            for i, nd in enumerate(doc["nodes"]):
                op = nd["op"]
                if op not in OPS or op.startswith("_"):
                    raise ValueError(f"{where}: node {i} uses unknown op {op!r} (not in chainrule's op table)")
                args = [decode(a) for a in nd["args"]]
                params = {str(k): decode(v) for k, v in nd["params"].items()}
                for r in _refs((args, params)):
                    if r.name not in known:
                        raise ValueError(f"{where}: node {i} ({op}) reads '{r.name}', which is neither an input, "
                                         "a weight nor an earlier node's output")
                out = str(nd["out"])
                if out in known:
                    raise ValueError(f"{where}: node {i} ({op}) writes '{out}', which already names a value")
                known.add(out)
                g.nodes.append(Node(op, args, params, out, str(nd.get("site") or ""),
                                    tuple(nd["shape"]) if nd.get("shape") is not None else None, nd.get("dtype")))
            g.outputs = [str(o) for o in doc["outputs"]]
            for o in g.outputs:
                if o not in known:
                    raise ValueError(f"{where}: output '{o}' is not a value of the graph")
            g.out_tree = doc["out_tree"]
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"{where}: malformed graph ({type(e).__name__}: {e})") from None
        return g


# ---- params <-> JSON ---------------------------------------------------------------------------
def encode(v):
    """A param or literal arg as JSON: plain values as themselves, the rest tagged."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(v, Ref):
        return {"ref": v.name}
    if isinstance(v, np.generic):
        return {"scalar": encode(v.item()), "dtype": str(v.dtype)}
    if isinstance(v, np.dtype):
        return {"dtype": str(v)}
    if isinstance(v, tuple):
        return {"tuple": [encode(x) for x in v]}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, slice):
        return {"slice": [encode(v.start), encode(v.stop), encode(v.step)]}
    if v is Ellipsis:
        return {"ellipsis": True}
    if isinstance(v, dict):
        return {"dict": [[k, encode(x)] for k, x in v.items()]}
    if isinstance(v, type) and issubclass(v, Op):
        return {"op": v.__name__}
    raise TypeError(f"cannot encode a {type(v).__name__} in the graph")


def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "ref" in v:
        return Ref(str(v["ref"]))
    if "float" in v:
        return float(v["float"])
    if "scalar" in v:
        return np.dtype(v["dtype"]).type(decode(v["scalar"]))
    if "dtype" in v:
        return np.dtype(v["dtype"])
    if "tuple" in v:
        return tuple(decode(x) for x in v["tuple"])
    if "slice" in v:
        return slice(*(decode(x) for x in v["slice"]))
    if "ellipsis" in v:
        return Ellipsis
    if "dict" in v:
        return {str(k): decode(x) for k, x in v["dict"]}
    if "op" in v:
        if v["op"] not in OPS:
            raise ValueError(f"unknown op {v['op']!r} in a param")
        return OPS[v["op"]]
    raise ValueError(f"unknown tagged value {sorted(v)}")


def _refs(v):
    if isinstance(v, Ref):
        yield v
    elif isinstance(v, (tuple, list)):
        for x in v:
            yield from _refs(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _refs(x)


# ---- recording ---------------------------------------------------------------------------------
class TraceError(RuntimeError):
    """Raised when a function cannot be traced into a Graph."""
    pass


class Tracer:
    """Records every ``apply`` into a Graph while installed (see ``trace_graph``)."""

    def __init__(self, weight_names):
        self.graph = Graph()
        self.names = {}        # id(Tensor) -> value name
        self.keep = []         # every Tensor seen, alive while tracing (ids stay unique)
        self.by_array = {}     # id(array) -> value name, for arrays passed inside params
        self.roots = {}        # id(root array) -> value name of a traced value (not a view of a constant)
        self.const_roots = set()  # id(root array) of every constant
        self.weight_names = weight_names  # id(array) -> state-dict name
        self.sites = []        # module path stack
        self.n = 0
        self.epoch = writes.epoch

    def _new(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def add_input(self, t, name):
        self._bind(t, name, traced=True)
        self.graph.inputs.append(name)
        self.graph.input_specs.append((tuple(t.shape), str(t._data.dtype)))

    def _bind(self, t, name, traced):
        self.names[id(t)] = name
        self.keep.append(t)
        a = t._data
        self.by_array[id(a)] = name
        self.keep.append(a)
        self.graph.specs[name] = (tuple(a.shape), str(a.dtype))
        if traced:
            root = id(root_array(a))
            if root not in self.const_roots:  # a view of a weight is as constant as the weight
                self.roots.setdefault(root, name)

    def value(self, t, op_name):
        """The value name of Tensor ``t``, registering it as a constant when new."""
        name = self.names.get(id(t))
        if name is not None:
            return name
        return self._array_value(t._data, op_name, t)

    def _array_value(self, a, op_name, t=None):
        name = self.by_array.get(id(a))
        if name is not None:
            return name
        if not isinstance(a, np.ndarray):
            raise TraceError(f"jit.trace: {op_name} read a {type(a).__name__} array: tracing runs on the CPU only")
        if id(root_array(a)) in self.roots:
            raise TraceError(f"jit.trace: {op_name} (in '{self.site() or '<top>'}') read a tensor that shares memory "
                             f"with the traced value %{self.roots[id(root_array(a))]} but was made outside the op "
                             "table (.data, .detach(), .numpy() or an in-place write): the graph would freeze its "
                             "current values. Use differentiable tensor ops instead.")
        name = self.weight_names.get(id(a))
        if name is None or name in self.graph.weights and self.graph.weights[name] is not a:
            name = self._new("const")
        self.graph.weights[name] = a
        self.const_roots.add(id(root_array(a)))
        if t is not None:
            self.names[id(t)] = name
            self.keep.append(t)
        self.by_array[id(a)] = name
        self.keep.append(a)
        self.graph.specs[name] = (tuple(a.shape), str(a.dtype))
        return name

    def site(self):
        return self.sites[-1] if self.sites else ""

    def _param(self, v, op_name):
        if isinstance(v, np.ndarray):
            return Ref(self._array_value(v, op_name))
        if isinstance(v, Tensor):
            return Ref(self.value(v, op_name))
        if isinstance(v, tuple):
            return tuple(self._param(x, op_name) for x in v)
        if isinstance(v, list):
            return [self._param(x, op_name) for x in v]
        if isinstance(v, dict):
            return {k: self._param(x, op_name) for k, x in v.items()}
        return v

    def __call__(self, op, inputs, params, result):
        name = op.__name__
        if writes.epoch != self.epoch:
            self._check_writes(name)
        args = []
        for t in inputs:
            if isinstance(t, Tensor):
                args.append(Ref(self.value(t, name)))
            elif t is None or isinstance(t, (bool, int, float, np.generic)):
                args.append(t)
            elif isinstance(t, np.ndarray):
                args.append(Ref(self._array_value(t, name)))
            else:
                raise TraceError(f"jit.trace: {name} got an input of type {type(t).__name__} that the graph "
                                 "cannot hold")
        out = self._new("v")
        node = Node(name, args, {k: self._param(v, name) for k, v in params.items()}, out, self.site(),
                    tuple(result._data.shape), str(result._data.dtype))
        self.graph.nodes.append(node)
        self._bind(result, out, traced=True)

    def write(self, t, result, op_name, before):
        """Tensor ``t`` (a whole traced tensor, no view of it traced) overwritten in place by ``result`` (the
        out-of-place op's output, just traced; the write was epoch ``before`` + 1): t names result's value
        from now on, as torch's exporter records relu_ and add_ as Relu and Add. Other writes still raise."""
        self._check_writes(op_name, upto=before)
        root = root_array(t._data)
        name = self.roots.get(id(root))
        if name is None or root is not t._data or result._data is root or any(
                isinstance(a, np.ndarray) and a is not root and root_array(a) is root for a in self.keep):
            return  # not traced, or a view of it is (its value would go stale): _check_writes refuses it
        name = self.value(result, op_name)
        self.names[id(t)] = self.by_array[id(root)] = self.roots[id(root)] = name
        self.epoch = writes.epoch

    def _check_writes(self, op_name, upto=None):
        """In-place writes into traced values are not recorded by ``apply``: refuse them."""
        ring = writes.epochs
        upto = writes.epoch if upto is None else upto
        written = set(writes.ids[(ring > self.epoch) & (ring <= upto)].tolist())
        self.epoch = upto
        hit = written & set(self.roots)
        if hit:
            raise TraceError(f"jit.trace: an in-place write into traced value %{self.roots[hit.pop()]} happened before "
                             f"{op_name} (in '{self.site() or '<top>'}'); traced graphs hold no in-place ops. Use the "
                             "out-of-place form (e.g. inplace=False).")

    def finish(self, out):
        if writes.epoch != self.epoch:
            self._check_writes("the end of the function")
        tree, names = _flatten(out, self)
        self.graph.out_tree = tree
        self.graph.outputs = names
        return self.graph


def _flatten(out, tracer):
    if isinstance(out, Tensor):
        return "t", [tracer.value(out, "output")]
    if out is None:
        return "none", []
    if isinstance(out, (tuple, list)):
        trees, names = [], []
        for o in out:
            t, n = _flatten(o, tracer)
            trees.append(t)
            names += n
        return [type(out).__name__ if type(out) in (tuple, list) else "tuple", trees], names
    raise TraceError(f"jit.trace: the traced function returned a {type(out).__name__}; only tensors, None and "
                     "(nested) tuples/lists of them can be traced")


def unflatten(tree, values):
    it = iter(values)

    def build(t):
        if t == "t":
            return next(it)
        if t == "none":
            return None
        kind, subs = t
        seq = [build(s) for s in subs]
        return tuple(seq) if kind == "tuple" else seq
    return build(tree)


def trace_graph(fn, inputs, module=None):
    """Run ``fn(*inputs)`` once (no grad) while recording; returns (Graph, eager output)."""
    from ..autograd.grad_mode import no_grad
    weight_names = {}
    handles, bare = [], []
    if module is not None:
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            weight_names.setdefault(id(t._data), name)
        for path, m in module.named_modules():
            if m.__dict__.get("_hooks") is None:
                bare.append(m)
            handles.append(m.register_forward_pre_hook(_push(path)))
            handles.append(m.register_forward_hook(_pop, always_call=True))
    tracer = Tracer(weight_names)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"jit.trace: example input {i} is a {type(x).__name__}, expected a Tensor")
        if type(x._data) is not np.ndarray:
            raise TypeError(f"jit.trace: example input {i} is on {x.device}; traced graphs run on the CPU")
        tracer.add_input(x, f"input{i}")
    _TRACERS.append(tracer)
    prev = set_tracer(tracer)
    try:
        with no_grad():
            out = fn(*inputs)
        graph = tracer.finish(out)
    finally:
        set_tracer(prev)
        _TRACERS.pop()
        for h in handles:
            h.remove()
        for m in bare:  # no hooks before: back on Module.__call__'s fast path
            object.__setattr__(m, "_hooks", None)
    return graph, out


_TRACERS = []


def _push(path):
    def hook(module, args):
        if _TRACERS:
            _TRACERS[-1].sites.append(path or type(module).__name__)
    return hook


def _pop(module, args, out):
    if _TRACERS and _TRACERS[-1].sites:
        _TRACERS[-1].sites.pop()


# ---- replay ------------------------------------------------------------------------------------
class Plan:
    """The graph as a list of raw-array kernels over slots: no Tensors, no graph, no dispatch. Each
    step drops the values it read for the last time, so the peak memory of a replay is that of the
    live values, not of every intermediate."""

    def __init__(self, graph):
        slots = {}
        for n in list(graph.inputs) + list(graph.weights) + [node.out for node in graph.nodes]:
            slots.setdefault(n, len(slots))
        last = {}
        for i, node in enumerate(graph.nodes):
            for r in _refs((node.args, node.params)):
                last[slots[r.name]] = i
        outs = [slots[o] for o in graph.outputs]
        frees = [[] for _ in graph.nodes]
        for slot, i in last.items():
            if slot not in outs:
                frees[i].append(slot)
        steps = []
        for node, free in zip(graph.nodes, frees):
            args = tuple(slots[a.name] if isinstance(a, Ref) else a for a in node.args)
            refs = tuple(isinstance(a, Ref) for a in node.args)
            dynamic = any(True for _ in _refs(node.params))
            params = node.params
            if params.get("batch_stats") is not None:  # a replay does not update running statistics
                params = dict(params, batch_stats=None)
            steps.append((OPS[node.op].forward, args, refs if not all(refs) else None, params, dynamic,
                          slots[node.out], tuple(free)))
        self.init = [None] * len(graph.inputs) + list(graph.weights.values()) + [None] * len(graph.nodes)
        self.n_in = len(graph.inputs)
        self.steps = steps
        self.outs = outs
        self.slot_of = slots

    def run(self, arrays):
        env = list(self.init)
        env[:self.n_in] = arrays
        asarray, ndarray = np.asarray, np.ndarray
        for fwd, args, refs, params, dynamic, out, free in self.steps:
            if refs is None:  # every argument is a value
                vals = [env[a] for a in args]
            else:
                vals = [env[a] if r else a for a, r in zip(args, refs)]
            if dynamic:
                params = _resolve(params, env, self.slot_of)
            res = fwd(NO_CTX, NP, *vals, **params)
            env[out] = res if type(res) is ndarray else asarray(res)
            for s in free:
                env[s] = None
        return [env[o] for o in self.outs]


def _resolve(v, env, slot_of):
    if isinstance(v, Ref):
        return env[slot_of[v.name]]
    if isinstance(v, tuple):
        return tuple(_resolve(x, env, slot_of) for x in v)
    if isinstance(v, list):
        return [_resolve(x, env, slot_of) for x in v]
    if isinstance(v, dict):
        return {k: _resolve(x, env, slot_of) for k, x in v.items()}
    return v


def dumps(graph):
    return json.dumps(graph.to_json(), allow_nan=False)


def _other_values(a):
    """An array of ``a``'s shape and dtype with other values: floats negated and reversed, integers
    reversed (still valid indices), booleans flipped."""
    flipped = a.reshape(-1)[::-1].reshape(a.shape)
    if a.dtype.kind == "f":
        return np.ascontiguousarray(-flipped)
    if a.dtype.kind == "b":
        return ~a
    return np.ascontiguousarray(flipped)


def verify(graph, plan, fn, inputs):
    """Run ``fn`` eagerly on other values of the traced signature and replay ``plan`` on them: a value
    computed outside the op table (an arg-max, ``.item()``, NumPy) is a constant in the graph, so
    the two disagree. Raises TraceError naming the ops reading such constants; returns False when
    the eager run fails on those values (nothing to compare), else True."""
    from ..autograd.grad_mode import no_grad
    others = [_other_values(x._data) for x in inputs]
    if all(np.array_equal(o, x._data) for o, x in zip(others, inputs)):
        return False
    try:
        with no_grad():
            eager = flat_out(fn(*[Tensor._make(o) for o in others]))
    except Exception:  # noqa: BLE001  (the model refuses these values: nothing to compare)
        return False
    replay = plan.run(others)
    for a, b in zip(eager, replay):
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True):
            suspects = [f"{n.op} (in '{n.site or '<top>'}') reads %{r.name}" for n in graph.nodes
                        for r in _refs((n.args, n.params)) if r.name.startswith("const")]
            raise TraceError("jit.trace: the graph does not follow its inputs: replayed on other values it disagrees "
                             "with the eager run, so a value computed outside the op table (an index or order read "
                             "into an array, .item(), NumPy, Python control flow on values) was frozen as a constant"
                             + (f"; constants made during the trace: {'; '.join(suspects[:4])}" if suspects else ""))
    return True


def flat_out(out):
    if isinstance(out, Tensor):
        return [out._data]
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in flat_out(o)]
    raise TraceError(f"jit.trace: the function returned a {type(out).__name__}")
