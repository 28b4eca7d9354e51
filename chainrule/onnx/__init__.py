"""``cr.onnx.export``: a model as an ONNX file, through the same trace as ``cr.jit``.

    cr.onnx.export(model.eval(), (x,), "model.onnx", input_names=["x"], output_names=["logits"],
                   dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})

The model runs once on the example inputs while every primitive op is recorded (``jit/ir.py``);
each op then becomes one or a few ONNX nodes (the table ``_HANDLERS`` below) and the weights
become initializers. With ``dynamic_axes`` the model is traced a second time with those axes one
longer: shape arguments that change with them (reshape targets such as ``(B * heads, T, d)``)
are written so ONNX infers them; anything else that changes is refused with the op's name.
An op with no mapping raises, naming the op and the module path that ran it.
Needs the ``onnx`` package (``pip install 'chainrule[onnx]'``).
"""
import numpy as np

from chainrule.jit.ir import Plan, Ref, TraceError, trace_graph, verify
from chainrule.tensor import Tensor

__all__ = ["export", "ExportError"]

_BIG = np.iinfo(np.int64).max


class ExportError(RuntimeError):
    """Raised by ``export`` when the model cannot be written as ONNX: an op with no ONNX form, a trace
    error, or a graph whose ops change with a dynamic axis' size. The message says which op (and module) failed."""


def _onnx():
    try:
        import onnx  # the package, not this module: absolute import
    except ImportError:
        raise ImportError("cr.onnx.export needs the onnx package: pip install 'chainrule[onnx]'") from None
    return onnx


def export(model, args, f, *, input_names=None, output_names=None, dynamic_axes=None, opset_version=17,
           training="eval", do_constant_folding=True, verbose=False, dynamo=True, export_params=True):
    """torch.onnx.export (the TorchScript exporter's arguments): trace ``model`` on ``args`` and write
    the ONNX model to path ``f`` (or a binary file object). Returns the ``onnx.ModelProto``.
    ``training``: ``"eval"`` (torch's default TrainingMode.EVAL: the model is exported in eval mode,
    its modes restored afterwards) or ``"preserve"`` (as it is). ``dynamo`` is accepted either way (one
    tracing exporter serves both); the weights are always stored (``export_params=False`` raises)."""
    if not export_params:
        raise ValueError("cr.onnx.export: export_params=False is not supported (the weights are always stored)")
    if opset_version < 17:
        raise ValueError(f"cr.onnx.export: opset_version {opset_version} is not supported (17 or later)")
    if training not in ("eval", "preserve"):
        raise ValueError(f"cr.onnx.export: training must be 'eval' or 'preserve', got {training!r}")
    from chainrule.nn import Module
    module = model if isinstance(model, Module) else None
    modes = [(m, m.training) for m in module.modules()] if module is not None and training == "eval" else []
    for m, _ in modes:
        m.training = False
    try:
        return _export(model, module, args, f, input_names, output_names, dynamic_axes, opset_version, verbose)
    finally:
        for m, mode in modes:
            m.training = mode


def _flat_args(args):
    """torch's example inputs: a Tensor or a (nested) tuple/list of them, as the flat tuple of graph
    inputs (torch's order) and a function that rebuilds the model's arguments from that flat tuple."""
    def leaves(a):
        if isinstance(a, Tensor):
            return [a]
        if isinstance(a, (tuple, list)):
            return [t for x in a for t in leaves(x)]
        raise TypeError(f"cr.onnx.export: example inputs must be Tensors or (nested) tuples of them, got a "
                        f"{type(a).__name__}")

    def rebuild(a, it):
        return next(it) if isinstance(a, Tensor) else type(a)(rebuild(x, it) for x in a)
    top = (args,) if isinstance(args, Tensor) else tuple(args)
    return tuple(leaves(top)), lambda flat: rebuild(top, iter(flat))


def _export(model, module, args, f, input_names, output_names, dynamic_axes, opset_version, verbose):
    onnx = _onnx()
    inputs, rebuild = _flat_args(args)
    fn = model
    if any(not isinstance(a, Tensor) for a in ((args,) if isinstance(args, Tensor) else args)):
        def fn(*flat):  # nested example inputs: the model sees them nested, the graph flat
            return model(*rebuild(flat))
    graph, out = trace_graph(fn, inputs, module)
    try:
        verify(graph, Plan(graph), fn, inputs)
    except TraceError as e:
        raise ExportError(str(e).replace("jit.trace", "cr.onnx.export")) from None
    input_names = list(input_names or [f"input{i}" if len(inputs) > 1 else "input" for i in range(len(inputs))])
    n_out = len(graph.outputs)
    output_names = list(output_names or [f"output{i}" if n_out > 1 else "output" for i in range(n_out)])
    if len(input_names) != len(inputs) or len(output_names) != n_out:
        raise ValueError(f"cr.onnx.export: {len(inputs)} input(s) and {n_out} output(s), got {len(input_names)} "
                         f"input_names and {len(output_names)} output_names")
    dyn = _dynamic_axes(dynamic_axes, input_names, output_names)
    varying = _varying(fn, module, graph, inputs, dyn, input_names) if dyn else {}
    b = _Builder(graph, opset_version, varying)
    for name, x, spec_name in zip(graph.inputs, inputs, input_names):
        b.names[name] = spec_name
    for node in graph.nodes:
        handler = _HANDLERS.get(node.op)
        if handler is None:
            raise ExportError(f"cr.onnx.export: op {node.op} (in module '{node.site or '<top>'}') has no ONNX "
                              "mapping")
        b.node_ir = node
        out = handler(b, node, [b.arg(a) for a in node.args], node.params)
        b.names[node.out] = out
    h = onnx.helper
    for ir_name, oname in zip(graph.outputs, output_names):
        b.add("Identity", [b.ref(ir_name)], out=oname)
    g_inputs = [h.make_tensor_value_info(n, h.np_dtype_to_tensor_dtype(np.dtype(d)),
                                         _dims(s, dyn.get(n, {})))
                for n, (s, d) in zip(input_names, graph.input_specs)]
    g_outputs = [h.make_tensor_value_info(n, h.np_dtype_to_tensor_dtype(np.dtype(graph.specs[o][1])),
                                          _dims(graph.specs[o][0], dyn.get(n, {})))
                 for n, o in zip(output_names, graph.outputs)]
    name = type(model).__name__ if module is not None else getattr(model, "__name__", "model")
    used = {i for node in b.nodes for i in node.input}  # weights a mapping replaced (RNNs' reordered gates)
    proto = h.make_graph(b.nodes, name, g_inputs, g_outputs, initializer=[i for i in b.initializers if i.name in used])
    m = h.make_model(proto, opset_imports=[h.make_opsetid("", opset_version)], producer_name="chainrule")
    m.ir_version = min(m.ir_version, 8 if opset_version <= 17 else m.ir_version)
    onnx.checker.check_model(m)
    if verbose:
        print(h.printable_graph(m.graph))
    if hasattr(f, "write"):
        f.write(m.SerializeToString())
    else:
        onnx.save(m, f)
    return m


def _dims(shape, dyn):
    return [dyn[i] if i in dyn else int(d) for i, d in enumerate(shape)]


def _dynamic_axes(dynamic_axes, input_names, output_names):
    """torch's format: {name: {axis: dim_name}} or {name: [axes]} -> {name: {axis: dim_name}}."""
    out = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in input_names and name not in output_names:
            raise ValueError(f"cr.onnx.export: dynamic_axes names '{name}', which is neither an input nor an output "
                             f"(inputs {input_names}, outputs {output_names})")
        if isinstance(axes, dict):
            out[name] = {int(a): str(d) for a, d in axes.items()}
        else:
            out[name] = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
    return out


def _varying(model, module, graph, inputs, dyn, input_names):
    """Trace again with every dynamic input axis one longer; return {node index: {param: mask}}
    where the params' integers changed (only reshape/expand targets may), refusing other changes."""
    grown = []
    for x, name in zip(inputs, input_names):
        a = x._data
        for axis in sorted(dyn.get(name, {})):
            a = np.concatenate([a, a.take([0], axis=axis)], axis=axis)
        grown.append(Tensor._make(a) if a is not x._data else x)
    g2, _ = trace_graph(model, tuple(grown), module)
    if [n.op for n in g2.nodes] != [n.op for n in graph.nodes]:
        raise ExportError("cr.onnx.export: the model runs different ops when a dynamic axis changes size "
                          "(control flow on shapes); export without that dynamic axis")
    varying = {}
    for i, (n1, n2) in enumerate(zip(graph.nodes, g2.nodes)):
        for key, v1 in n1.params.items():
            v2 = n2.params[key]
            if _same(v1, v2):
                continue
            if n1.op in ("Reshape", "Expand") and key == "shape" and len(v1) == len(v2):
                varying[i] = [a != b for a, b in zip(v1, v2)]
            elif key not in ("out_hw", "extra", "pad_end"):
                raise ExportError(f"cr.onnx.export: op {n1.op} (in module '{n1.site or '<top>'}') has its {key} "
                                  f"change with a dynamic axis ({v1!r} -> {v2!r}); export without that dynamic axis")
    for name in graph.weights:
        if name not in g2.weights or g2.weights[name].shape != graph.weights[name].shape:
            raise ExportError(f"cr.onnx.export: constant '{name}' changes shape with a dynamic axis (a tensor "
                              "created inside forward from a shape); export without that dynamic axis")
    return varying


def _same(a, b):
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, Ref) or isinstance(b, Ref):
        return isinstance(a, Ref) and isinstance(b, Ref)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


class _Builder:
    def __init__(self, graph, opset, varying):
        self.graph, self.opset, self.varying = graph, opset, varying
        self.onnx = _onnx()
        self.nodes, self.initializers = [], []
        self.names = {}     # IR value -> ONNX value name
        self.dtypes = {}    # ONNX value name -> numpy dtype
        self.n = 0
        self.node_ir = None
        for name, w in graph.weights.items():
            w = w if w.flags.c_contiguous else w.copy(order="C")
            self.initializers.append(self.onnx.numpy_helper.from_array(w, name))
            self.names[name] = name
        for name, (s, d) in graph.specs.items():
            self.dtypes[name] = np.dtype(d)

    def fresh(self, hint="t"):
        self.n += 1
        return f"_{hint}{self.n}"

    def add(self, op_type, inputs, out=None, dtype=None, **attrs):
        out = out or self.fresh(op_type)
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [out], **attrs))
        if dtype is not None:
            self.dtypes[out] = np.dtype(dtype)
        return out

    def const(self, value, dtype):
        name = self.fresh("c")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        self.dtypes[name] = np.dtype(dtype)
        return name

    def ref(self, ir_name):
        return self.names[ir_name]

    def arg(self, a):
        return self.ref(a.name) if isinstance(a, Ref) else a

    def fail(self, why):
        n = self.node_ir
        raise ExportError(f"cr.onnx.export: op {n.op} (in module '{n.site or '<top>'}') {why}")

    def out_dtype(self):
        return np.dtype(self.node_ir.dtype)

    def operand(self, a, dtype):
        """``a`` (ONNX name or Python scalar) as a tensor of ``dtype``."""
        if a is None or isinstance(a, (bool, int, float, np.generic)):
            return self.const(a, dtype)
        return a if self.dtypes.get(a) == dtype else self.cast(a, dtype)

    def cast(self, a, dtype):
        to = self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        return self.add("Cast", [a], dtype=dtype, to=to)

    def result(self, name):
        self.dtypes[name] = self.out_dtype()
        return name

    def axes_op(self, op_type, x, axes, **attrs):
        """A reduction with ``axes`` (an attribute before opset 18, an input from 18; ReduceSum's from 13)."""
        if axes is None:
            return self.add(op_type, [x], **attrs)
        axes = [int(a) for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.add(op_type, [x, self.const(axes, np.int64)], **attrs)
        return self.add(op_type, [x], axes=axes, **attrs)

    def shape_const(self, shape):
        mask = self.varying.get(self.graph.nodes.index(self.node_ir))
        shape = list(shape)
        if mask and any(mask):
            if self.node_ir.op == "Reshape":
                if sum(mask) != 1 or -1 in shape:
                    self.fail(f"reshapes to {tuple(shape)} where {sum(mask)} sizes follow a dynamic axis; ONNX "
                              "can infer one")
                shape[mask.index(True)] = -1
            else:  # Expand: 1 keeps the input's own (dynamic) size
                shape = [1 if m else s for s, m in zip(shape, mask)]
        return self.const(shape, np.int64)


# ---- the table: IR op -> ONNX nodes -------------------------------------------------------------
def _unary(onnx_op):
    return lambda b, n, a, p: b.result(b.add(onnx_op, [b.operand(a[0], b.out_dtype())]))


def _binary(onnx_op):
    def handler(b, n, a, p):
        dt = b.out_dtype()
        return b.result(b.add(onnx_op, [b.operand(a[0], dt), b.operand(a[1], dt)]))
    return handler


def _linear(b, n, a, p):
    x, w = a[0], a[1]
    bias = a[2] if len(a) > 2 else None
    rank = len(b.graph.specs[n.args[0].name][0])
    if rank == 2:
        ins = [x, w] + ([bias] if bias is not None else [])
        return b.result(b.add("Gemm", ins, transB=1))
    y = b.add("MatMul", [x, b.add("Transpose", [w], perm=[1, 0])])
    return b.result(b.add("Add", [y, bias]) if bias is not None else y)


def _conv2d(b, n, a, p):
    x, w, bias = a[0], a[1], a[2]
    pads = [p["padding"][0], p["padding"][1], p["pad_end"][0], p["pad_end"][1]]
    ins = [x, w] + ([bias] if bias is not None else [])
    return b.result(b.add("Conv", ins, strides=list(p["stride"]), pads=pads, dilations=list(p["dilation"]),
                          group=int(p["groups"]), kernel_shape=list(b.graph.specs[n.args[1].name][0][2:])))


def _pool_pads(p):
    return [p["padding"][0], p["padding"][1], p["padding"][0] + p["extra"][0], p["padding"][1] + p["extra"][1]]


def _maxpool(b, n, a, p):
    return b.result(b.add("MaxPool", [a[0]], kernel_shape=list(p["kernel"]), strides=list(p["stride"]),
                          pads=_pool_pads(p), dilations=list(p["dilation"])))


def _avgpool(b, n, a, p):
    kh, kw = p["kernel"]
    y = b.add("AveragePool", [a[0]], kernel_shape=[kh, kw], strides=list(p["stride"]), pads=_pool_pads(p),
              count_include_pad=1)
    div = p["divisor"]
    if isinstance(div, float) and div == kh * kw:
        return b.result(y)
    div = b.arg(div) if isinstance(div, Ref) else div
    return b.result(b.add("Div", [b.add("Mul", [y, b.const(kh * kw, b.out_dtype())]), b.operand(div, b.out_dtype())]))


def _batchnorm(b, n, a, p):
    if p.get("batch_stats") is not None:
        b.fail("updates running statistics (training mode); export in eval mode (training='eval')")
    x, w, bias = a[0], a[1], a[2]
    shape = b.graph.specs[n.args[0].name][0]
    dt, c = b.out_dtype(), shape[1]
    if p.get("training"):  # batch statistics only (InstanceNorm, track_running_stats=False)
        axes = [0] + list(range(2, len(shape)))
        d = b.add("Sub", [x, b.axes_op("ReduceMean", x, axes, keepdims=1)])
        var = b.axes_op("ReduceMean", b.add("Mul", [d, d]), axes, keepdims=1)
        y = b.add("Div", [d, b.add("Sqrt", [b.add("Add", [var, b.const(float(p["eps"]), dt)])])])
        per_channel = b.const([1, -1] + [1] * (len(shape) - 2), np.int64)
        if w is not None:
            y = b.add("Mul", [y, b.add("Reshape", [w, per_channel])])
        if bias is not None:
            y = b.add("Add", [y, b.add("Reshape", [bias, per_channel])])
        return b.result(y)
    w = w if w is not None else b.const(np.ones(c), dt)
    bias = bias if bias is not None else b.const(np.zeros(c), dt)
    mean, var = b.operand(b.arg(p["mean"]), dt), b.operand(b.arg(p["var"]), dt)
    return b.result(b.add("BatchNormalization", [x, w, bias, mean, var], epsilon=float(p["eps"])))


def _layernorm(b, n, a, p):
    x, w, bias = a[0], a[1], a[2]
    dt = b.out_dtype()
    shape = b.graph.specs[n.args[0].name][0][-p["k"]:]
    w = w if w is not None else b.const(np.ones(shape), dt)
    ins = [x, w] + ([bias] if bias is not None else [])
    return b.result(b.add("LayerNormalization", ins, axis=-int(p["k"]), epsilon=float(p["eps"])))


def _gelu(b, n, a, p):
    x, dt = a[0], b.out_dtype()
    if p.get("approximate", "none") == "tanh":
        x3 = b.add("Mul", [b.add("Mul", [x, x]), x])
        inner = b.add("Mul", [b.add("Add", [x, b.add("Mul", [x3, b.const(0.044715, dt)])]),
                              b.const(np.sqrt(2 / np.pi), dt)])
        phi = b.add("Add", [b.add("Tanh", [inner]), b.const(1.0, dt)])
    else:
        phi = b.add("Add", [b.add("Erf", [b.add("Mul", [x, b.const(1 / np.sqrt(2), dt)])]), b.const(1.0, dt)])
    return b.result(b.add("Mul", [b.add("Mul", [x, phi]), b.const(0.5, dt)]))


def _clamp(b, n, a, p):
    x, lo, hi = a
    dt = b.out_dtype()
    y = b.operand(x, dt)
    if lo is not None:
        y = b.add("Max", [y, b.operand(lo, dt)])
    if hi is not None:
        y = b.add("Min", [y, b.operand(hi, dt)])
    return b.result(y)


def _where(b, n, a, p):
    dt = b.out_dtype()
    return b.result(b.add("Where", [b.operand(a[0], np.dtype(bool)), b.operand(a[1], dt), b.operand(a[2], dt)]))


def _reduce(onnx_op):
    def handler(b, n, a, p):
        y = b.axes_op(onnx_op, b.operand(a[0], b.out_dtype()), p.get("axes"), keepdims=int(bool(p.get("keepdim"))))
        return b.result(y)
    return handler


def _index(b, n, a, p):
    x = a[0]
    key = p["key"]
    key = key if isinstance(key, tuple) else (key,)
    rank = len(b.graph.specs[n.args[0].name][0])
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (rank - used) + key[i + 1:]
    key = key + (slice(None),) * (rank - sum(1 for k in key if k is not None))
    refs = [i for i, k in enumerate(key) if isinstance(k, Ref)]
    if refs:
        if len(refs) > 1 or any(k != slice(None) for i, k in enumerate(key) if i != refs[0]) or None in key:
            b.fail(f"indexes with {key!r}; ONNX export handles one index tensor (Gather) with full slices around it")
        idx = b.arg(key[refs[0]])
        if b.dtypes.get(idx, np.dtype(np.int64)).kind not in "iu":
            b.fail("indexes with a boolean mask, which has no fixed-shape ONNX mapping")
        return b.result(b.add("Gather", [x, b.operand(idx, np.dtype(np.int64))], axis=refs[0]))
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out_axis = 0
    for k in key:
        if k is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(k, (int, np.integer)):
            k = int(k)
            starts.append(k), ends.append(k + 1 if k != -1 else _BIG), axes.append(axis), steps.append(1)
            squeeze.append(axis)
        elif isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if k != slice(None):
                starts.append(int(k.start) if k.start is not None else (0 if step > 0 else -1))
                ends.append(int(k.stop) if k.stop is not None else (_BIG if step > 0 else -_BIG))
                axes.append(axis), steps.append(step)
            out_axis += 1
        else:
            b.fail(f"indexes with a {type(k).__name__} in its key")
        axis += 1
    y = x
    if axes:
        y = b.add("Slice", [x, b.const(starts, np.int64), b.const(ends, np.int64), b.const(axes, np.int64),
                            b.const(steps, np.int64)])
    if squeeze:
        y = b.add("Squeeze", [y, b.const(squeeze, np.int64)])
    if unsqueeze:
        y = b.add("Unsqueeze", [y, b.const(unsqueeze, np.int64)])
    if y is x:
        y = b.add("Identity", [x])
    return b.result(y)


def _rounding(b, n, a, p):
    if p.get("decimals", 0):
        b.fail("rounds to decimals, which has no ONNX mapping")
    ops = {"floor": "Floor", "ceil": "Ceil", "round": "Round"}
    if p["kind"] not in ops:
        b.fail(f"rounds with kind {p['kind']!r}, which has no ONNX mapping")
    return b.result(b.add(ops[p["kind"]], [a[0]]))


def _conv_transpose(b, n, a, p):
    x, w, bias = a[0], a[1], a[2]
    (h, wd), (kh, kw) = b.graph.specs[n.args[0].name][0][2:], b.graph.specs[n.args[1].name][0][2:]
    (ph, pw), (sh, sw), (dh, dw) = p["padding"], p["stride"], p["dilation"]
    out_pad = [int(p["out_hw"][0] - ((h - 1) * sh - 2 * ph + dh * (kh - 1) + 1)),
               int(p["out_hw"][1] - ((wd - 1) * sw - 2 * pw + dw * (kw - 1) + 1))]
    ins = [x, w] + ([bias] if bias is not None else [])
    return b.result(b.add("ConvTranspose", ins, strides=[sh, sw], pads=[ph, pw, ph, pw], dilations=[dh, dw],
                          group=int(p["groups"]), kernel_shape=[kh, kw], output_padding=out_pad))


def _reduce_dim(onnx_op):
    def handler(b, n, a, p):
        return b.result(b.axes_op(onnx_op, a[0], [int(p["axis"])], keepdims=int(bool(p.get("keepdim")))))
    return handler


def _composed(build):
    """A unary op as a few ONNX nodes: ``build(b, x, const)`` with const(v) a scalar of the output dtype."""
    def handler(b, n, a, p):
        dt = b.out_dtype()
        return b.result(build(b, b.operand(a[0], dt), lambda v: b.const(v, dt)))
    return handler


def _logaddexp(b, n, a, p):
    """log(e^a + e^b) = max(a, b) + log(1 + e^-|a - b|): no overflow."""
    dt = b.out_dtype()
    x, y = b.operand(a[0], dt), b.operand(a[1], dt)
    tail = b.add("Exp", [b.add("Neg", [b.add("Abs", [b.add("Sub", [x, y])])])])
    return b.result(b.add("Add", [b.add("Max", [x, y]), b.add("Log", [b.add("Add", [tail, b.const(1.0, dt)])])]))


# torch's gate rows -> ONNX's: LSTM (i, f, g, o) -> (i, o, f, c); GRU (r, z, n) -> (z, r, h)
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}


def _recurrent(b, n, a, p):
    """One Recurrent op (a layer and direction) as an ONNX LSTM/GRU/RNN node (num_directions 1,
    direction "reverse" for the backward one); its outputs Y, Y_h (, Y_c) flattened and concatenated
    as the op's flat output, which the graph then slices."""
    mode, dt = p["mode"], b.out_dtype()
    if a[7] is not None:
        b.fail("has a projection (proj_size > 0), which ONNX's LSTM does not have")
    order = _GATE_ORDER[mode]
    weights = []
    for i in (3, 4, 5, 6):  # W_ih, W_hh, b_ih, b_hh: the model's parameters, gate rows reordered
        if a[i] is None:
            weights.append(None)
            continue
        w = b.graph.weights.get(n.args[i].name)
        if w is None:
            b.fail("takes weights computed in forward; ONNX export needs them as parameters")
        parts = np.split(w, len(order))
        weights.append(np.concatenate([parts[k] for k in order]))
    w_ih, w_hh, b_ih, b_hh = weights
    bias = np.concatenate([np.zeros(w_ih.shape[0]) if b_ih is None else b_ih,
                           np.zeros(w_hh.shape[0]) if b_hh is None else b_hh])
    lengths = p.get("lengths")
    ins = [a[0], b.const(w_ih[None], dt), b.const(w_hh[None], dt), b.const(bias[None], dt),
           "" if lengths is None else b.const(np.asarray(lengths), np.int32),
           b.add("Unsqueeze", [b.operand(a[1], dt), b.const([0], np.int64)])]
    attrs = dict(hidden_size=int(w_hh.shape[1]), direction="reverse" if p["reverse"] else "forward")
    if mode == "LSTM":
        ins.append(b.add("Unsqueeze", [b.operand(a[2], dt), b.const([0], np.int64)]))
    elif mode == "GRU":
        attrs["linear_before_reset"] = 1  # torch's n = tanh(x W_in + b_in + r (h W_hn + b_hn))
    else:
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"]
    outs = [b.fresh("Y"), b.fresh("Y_h")] + ([b.fresh("Y_c")] if mode == "LSTM" else [])
    b.nodes.append(b.onnx.helper.make_node(mode if mode in ("LSTM", "GRU") else "RNN", ins, outs, **attrs))
    flat = b.const([-1], np.int64)  # Y is (T, 1, N, H): flattened in the op's (t, n, h) order
    return b.result(b.add("Concat", [b.add("Reshape", [o, flat]) for o in outs], axis=0))


def _onnx_dtype(b, dt):
    return b.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dt))


_HANDLERS = {
    "Linear": _linear, "Conv2d": _conv2d, "MaxPool2d": _maxpool, "AvgPool2d": _avgpool,
    "BatchNorm": _batchnorm, "LayerNorm": _layernorm, "Gelu": _gelu,
    "Relu": _unary("Relu"), "Tanh": _unary("Tanh"), "Sigmoid": _unary("Sigmoid"), "Exp": _unary("Exp"),
    "Log": _unary("Log"), "Sqrt": _unary("Sqrt"), "Abs": _unary("Abs"), "Neg": _unary("Neg"), "Erf": _unary("Erf"),
    "Sin": _unary("Sin"), "Cos": _unary("Cos"), "Tan": _unary("Tan"), "Asin": _unary("Asin"),
    "Acos": _unary("Acos"), "Atan": _unary("Atan"), "Sinh": _unary("Sinh"), "Cosh": _unary("Cosh"),
    "Asinh": _unary("Asinh"), "Acosh": _unary("Acosh"), "Atanh": _unary("Atanh"),
    "Elu": lambda b, n, a, p: b.result(b.add("Elu", [a[0]], alpha=float(p["alpha"]))),
    "LeakyRelu": lambda b, n, a, p: b.result(b.add("LeakyRelu", [a[0]], alpha=float(p["slope"]))),
    "Softmax": lambda b, n, a, p: b.result(b.add("Softmax", [a[0]], axis=int(p["axis"]))),
    "LogSoftmax": lambda b, n, a, p: b.result(b.add("LogSoftmax", [a[0]], axis=int(p["axis"]))),
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"), "Div": _binary("Div"),
    "Pow": _binary("Pow"), "Maximum": _binary("Max"), "Minimum": _binary("Min"),
    "Where": _where, "Clamp": _clamp, "LogAddExp": _logaddexp,
    "Sum": _reduce("ReduceSum"), "Mean": _reduce("ReduceMean"), "Amax": _reduce("ReduceMax"),
    "Amin": _reduce("ReduceMin"), "LogSumExp": _reduce("ReduceLogSumExp"),
    "Matmul": lambda b, n, a, p: b.result(b.add("MatMul", [a[0], a[1]])),
    "Einsum": lambda b, n, a, p: b.result(b.add("Einsum", list(a), equation=p["eq"])),
    "Reshape": lambda b, n, a, p: b.result(b.add("Reshape", [a[0], b.shape_const(p["shape"])])),
    "Expand": lambda b, n, a, p: b.result(b.add("Expand", [a[0], b.shape_const(p["shape"])])),
    "Permute": lambda b, n, a, p: b.result(b.add("Transpose", [a[0]], perm=[int(d) for d in p["dims"]])),
    "Cat": lambda b, n, a, p: b.result(b.add("Concat", [b.operand(x, b.out_dtype()) if not p.get("new_axis") else
                                              b.add("Unsqueeze", [b.operand(x, b.out_dtype()),
                                                                  b.const([int(p["axis"])], np.int64)]) for x in a],
                                             axis=int(p["axis"]))),
    "Repeat": lambda b, n, a, p: b.result(b.add("Tile", [a[0], b.const(list(p["reps"]), np.int64)])),
    "Index": _index,
    "Cast": lambda b, n, a, p: b.result(b.add("Cast", [a[0]], to=_onnx_dtype(b, p["dtype"]))),
    "Clone": lambda b, n, a, p: b.result(b.add("Identity", [a[0]])),
    "ToDevice": lambda b, n, a, p: b.result(b.add("Identity", [a[0]])),
    "Rounding": _rounding, "Recurrent": _recurrent,
    "ConvTranspose2d": _conv_transpose, "MaxDim": _reduce_dim("ReduceMax"), "MinDim": _reduce_dim("ReduceMin"),
    "NormSqrt": _unary("Sqrt"),
    "Expm1": _composed(lambda b, x, c: b.add("Sub", [b.add("Exp", [x]), c(1.0)])),
    "Log1p": _composed(lambda b, x, c: b.add("Log", [b.add("Add", [x, c(1.0)])])),
    "Log2": _composed(lambda b, x, c: b.add("Div", [b.add("Log", [x]), c(np.log(2.0))])),
    "Log10": _composed(lambda b, x, c: b.add("Div", [b.add("Log", [x]), c(np.log(10.0))])),
    "Exp2": _composed(lambda b, x, c: b.add("Pow", [c(2.0), x])),
    "Erfc": _composed(lambda b, x, c: b.add("Sub", [c(1.0), b.add("Erf", [x])])),
}


# ---- comparisons and logical ops (graph-free: bool results, or integers for bitwise ops on them) ----
_ONNX_COMPARE = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual"}
_ONNX_LOGICAL = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor", "logical_not": "Not"}


def _same_dtype(b, n, a, p):
    """A comparison's or bitwise op's operands in one dtype: the op's promoted ``dtype``, else its first input's."""
    dt = np.dtype(p["dtype"]) if p.get("dtype") is not None else np.dtype(b.graph.specs[n.args[0].name][1])
    return [b.operand(x, dt) for x in a], dt


def _compare(b, n, a, p):
    xs, _ = _same_dtype(b, n, a, p)
    if p["op"] == "ne":
        return b.result(b.add("Not", [b.add("Equal", xs)]))
    return b.result(b.add(_ONNX_COMPARE[p["op"]], xs))


def _logical(b, n, a, p):
    op = p["op"]
    if op in _ONNX_LOGICAL:  # any dtypes: nonzero is True
        return b.result(b.add(_ONNX_LOGICAL[op], [b.operand(x, np.dtype(bool)) for x in a]))
    xs, dt = _same_dtype(b, n, a, p)
    word = op[len("bitwise_"):].capitalize()
    if dt == np.bool_:
        return b.result(b.add(word, xs))
    if b.opset < 18:
        b.fail(f"(bitwise {word.lower()} of {dt} tensors) needs opset_version=18 or later (ONNX Bitwise{word})")
    return b.result(b.add("Bitwise" + word, xs))


_HANDLERS.update(Compare=_compare, Logical=_logical)
