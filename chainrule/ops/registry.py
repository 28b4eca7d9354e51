"""The op table and ``apply``: run a primitive's forward and record one graph node.

An op is a class written in one place in its kind's module: its docstring's first line is the
rule in slide notation (``viz.explain`` prints it), ``call`` is the public entry where it has
one (``cr.exp``/``Tensor.exp``: checks the arguments, raising what torch raises, normalises
them and calls ``apply``), and two static methods do the math:

    forward(ctx, xp, *arrays, **params) -> array
    backward(ctx, xp, g, out, *args)    -> one gradient (or None) per input

``xp`` is the array namespace (numpy/cupy; under create_graph the Tensor namespace), ``g`` the
gradient of the output, ``out`` the output (when ``save_out``) and ``args`` the inputs (when
``save_args``). Anything else backward needs, forward puts in ``ctx.saved``. ``ctx.needs[i]``
says whether input i needs a gradient. Broadcasting and dtype casts of the returned gradients
are undone by the engine (one ``sum_to`` for every op).
"""
import numpy as np

from ..autograd.node import Node
from ..autograd import anomaly, engine
from ..autograd.grad_mode import state as _grad_state
from ..backend import namespace, device_of, NP, FP_STATE, FP_QUIET

OPS = {}
_ndarray = np.ndarray
_tracer = None  # jit.trace's recorder: tracer(op, inputs, params, result) after each op, or None


def set_tracer(tracer):  # returns the previous one
    global _tracer
    prev, _tracer = _tracer, tracer
    return prev
# Ops sit below the Tensor type: ``bind_tensor_type`` hands them the type once, at package import.
Tensor = None
make = None


def bind_tensor_type(tensor_type, tensor_namespace):
    """Tell the layers below the Tensor type what it is (the one binding, made by
    ``chainrule/__init__``): ``apply`` and the ops' checks wrap arrays with ``tensor_type._make``,
    the engine also runs rules over ``tensor_namespace`` under create_graph."""
    global Tensor, make
    Tensor, make = tensor_type, tensor_type._make
    engine.bind(tensor_type._make, tensor_namespace)


# torch's grad_fn names where not <Op>Backward0: its commonest form's (x.sum(): SumBackward0, x.sum(1): ...1)
TORCH_NAMES = dict(pair.split("=") for pair in """
    AvgPool2d=AvgPool2DBackward0 BatchNorm=NativeBatchNormBackward0 Cast=ToCopyBackward0 Clamp=ClampBackward1
    Cholesky=LinalgCholeskyExBackward0 Conv2d=ConvolutionBackward0 ConvTranspose2d=ConvolutionBackward0
    CumMax=CummaxBackward0 CumMin=CumminBackward0 Det=LinalgDetBackward0 Eigh=LinalgEighBackward0
    Einsum=ViewBackward0 IndexGrad=IndexBackwardBackward0 Inv=LinalgInvExBackward0 Linear=AddmmBackward0
    LayerNorm=NativeLayerNormBackward0 Log1p=Log1PBackward0 LogAddExp=LogaddexpBackward0 Matmul=MmBackward0
    LogAddExp2=Logaddexp2Backward0 LogCumSumExp=LogcumsumexpBackward0 LogSumExp=LogsumexpBackward0
    MaxDim=MaxBackward0 MaxPool2d=MaxPool2DWithIndicesBackward0 MinDim=MinBackward0 Qr=LinalgQrBackward0
    Ndtri=SpecialNdtriBackward0 NormSqrt=LinalgVectorNormBackward0 Pinv=LinalgPinvBackward0
    Recurrent=MkldnnRnnLayerBackward0 Reshape=ViewBackward0 Rounding=RoundBackward0 Svd=LinalgSvdBackward0
    Slogdet=LinalgSlogdetBackward0 SoftmaxCrossEntropy=NllLossBackward0 Solve=LinalgSolveExBackward0
    ToDevice=ToCopyBackward0 Xlog1py=SpecialXlog1PyBackward0""".split())


class Op:
    save_args = False
    save_out = False
    # True where backward's rule only holds for raw arrays (fused kernels): create_graph through
    # it raises instead of silently giving wrong second derivatives.
    once_differentiable = False
    # True for a * b, a @ b and linear: backward reads each of the first two inputs only for the
    # other's gradient and no further input (so writing an input whose partner needs no gradient,
    # or linear's bias, is harmless, as in torch)
    bilinear = False
    # True where call computes a param from the input's values (Sort's order, CumMax's running
    # arg-max): a compiled plan, which replays params as traced, must not record the op
    order_from_values = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        OPS[cls.__name__] = cls
        cls.torch_name = TORCH_NAMES.get(cls.__name__, cls.__name__ + "Backward0")

    @staticmethod
    def forward(ctx, xp, *arrays, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, xp, g, out, *args):
        raise NotImplementedError


class _Discard:
    """ctx for forwards that record nothing (no_grad, no input needs a gradient, or an op's forward
    replayed on arrays)."""
    __slots__ = ()
    needs = ()

    def __setattr__(self, name, value):
        pass


NO_CTX = _Discard()


def _check_devices(op, arrays):
    devs = {str(device_of(a)) for a in arrays if hasattr(a, "shape") and not isinstance(a, np.generic)}
    if len(devs) > 1:
        a, b = sorted(devs)
        raise RuntimeError(f"{op.__name__}: expected all tensors to be on the same device, but found "
                           f"at least two devices, {b} and {a}!")


def apply(op, *inputs, **params):
    """Run ``op`` on Tensors (or Python scalars) and return the output Tensor."""
    arrays = []
    parents = []  # per input: producing Node, leaf Tensor needing grad, or None
    needs = []
    record = False
    xp = None
    for t in inputs:
        if isinstance(t, Tensor):
            a = t._data
            arrays.append(a)
            if xp is None:
                xp = NP if type(a) is _ndarray else namespace(a)
            elif (type(a) is _ndarray) is not (xp is NP):
                _check_devices(op, arrays)
            node = t._node
            if node is not None:
                parents.append(node)
                needs.append(True)
                record = True
            elif t._requires_grad:
                parents.append(t)
                needs.append(True)
                record = True
            else:
                parents.append(None)
                needs.append(False)
        else:
            arrays.append(t)
            parents.append(None)
            needs.append(False)
    if xp is not NP and xp is not None and len(arrays) > 1:
        _check_devices(op, arrays)
    if record and _grad_state.enabled:
        node = Node(op, xp)
        node.parents = parents
        node.needs = needs
    else:
        node = None
    fp = FP_STATE.set(FP_QUIET)  # no NumPy RuntimeWarnings (log(0), 1/0, overflow), as torch
    try:
        out = op.forward(NO_CTX if node is None else node, xp, *arrays, **params)
    finally:
        FP_STATE.reset(fp)
    if type(out) is not _ndarray and xp is NP and not hasattr(out, "__cuda_array_interface__"):
        out = np.asarray(out)  # NumPy scalars from reductions (ToDevice's CuPy array from a CPU input stays)
    if node is not None:
        node.shape = out.shape
        node.dtype = out.dtype
        if op.save_args:
            node.args = arrays
        if op.save_out:
            node.out = out
        if _grad_state.anomaly:
            anomaly.check_forward(op, arrays, out, node)
        result = make(out, node)
    else:
        if _grad_state.anomaly:
            anomaly.check_forward(op, arrays, out, None)
        result = make(out)
    if _tracer is not None:
        _tracer(op, inputs, params, result)
    return result
