"""A graph node: one recorded op application (a tensor's ``grad_fn``), and the check that the
arrays it saved for backward were not overwritten in place since (torch's version counters).

Rather than a counter on every tensor, unrecorded in-place writes (under no_grad, optimizer
steps, ``fill_``, ...) put the id of the written array's root base in a fixed ring of the
latest writes and advance an epoch; each node remembers the epoch it was recorded at. Backward
looks closer only at a node recorded before some write, and raises if it saved an array with a
written root base. As with torch's counters, which views share with their base, a write through
any view of a buffer counts for all of it. Ids are safe here: the node has kept its saved arrays
alive since before the write, so an id match is the very array that was written. A training loop
writes only after backward, so its nodes never need the closer look; the ring allocates nothing.
"""
import numpy as np

_RING = 256


class _WriteLog:
    __slots__ = ("epoch", "epochs", "ids")

    def __init__(self):
        self.epoch = 0                                # in-place writes so far
        self.epochs = np.zeros(_RING, dtype=np.int64)  # epoch of each slot's write
        self.ids = np.zeros(_RING, dtype=np.int64)     # id of the root base it wrote


writes = _WriteLog()


def root_array(array):
    base = array
    while type(getattr(base, "base", None)) is type(array):
        base = base.base
    return base


def note_write(array):
    """Record an in-place write into ``array``."""
    epoch = writes.epoch = writes.epoch + 1
    slot = epoch % _RING
    writes.epochs[slot] = epoch
    writes.ids[slot] = id(root_array(array))


def _arrays(value):
    if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _arrays(v)


def check_saved(node):
    """Raise if an array ``node`` saved for backward was written in place after it was recorded."""
    if node.epoch < writes.epoch - _RING:
        return  # its writes have left the ring: cannot tell
    written = set(writes.ids[writes.epochs > node.epoch].tolist())
    args = node.args
    if node.op.bilinear:  # input 0 is read only for input 1's gradient and vice versa
        args = [a for i, a in enumerate(args[:2]) if node.needs[1 - i]]
    for array in _arrays((args, node.out, node.saved)):
        if id(root_array(array)) in written:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{array.dtype} {list(array.shape)}], saved by {node.name()}, was "
                f"written after the forward pass that saved it. Hint: make the in-place change after "
                f"backward(), or on a clone().")


class Node:
    """What backward needs from one op application.

    parents: per input, the producing Node, the leaf Tensor that requires grad, or None.
    needs:   per input, whether a gradient must flow there (ctx.needs_input_grad).
    args:    the input arrays, when the op's backward reads them (op.save_args); None once freed.
    out:     the output array, when the op's backward reads it (op.save_out).
    saved:   anything else the op's forward kept for its backward.
    shape, dtype: of the output (so gradients can be checked without the output tensor).
    xp:      the array namespace the op ran in.
    hooks:   tensor hooks registered on the output (rare; None otherwise).
    epoch:   the in-place write log's epoch when the node was recorded.
    site:    the user's source line that created the op (anomaly mode only).
    """
    __slots__ = ("op", "parents", "needs", "args", "out", "saved", "shape", "dtype", "xp",
                 "hooks", "label", "shown", "epoch", "site", "__weakref__")

    def __init__(self, op, xp):
        self.op = op
        self.xp = xp
        self.epoch = writes.epoch
        self.args = ()
        self.out = None
        self.saved = None
        self.hooks = None

    def name(self):  # torch's grad_fn name (MulBackward0; ops.registry.TORCH_NAMES)
        return getattr(self, "label", None) or self.op.torch_name

    def op_name(self):  # the op's name in chainrule's table (Mul), or a custom Function's (its label's)
        label = getattr(self, "label", None)
        return label[:-len("Backward")] if label and self.op.__name__[0] == "_" else self.op.__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self):
        """(parent, 0) pairs as torch shows them: a leaf as an AccumulateGrad; a fused loss's inputs if ``shown``."""
        return tuple((p if p is None or hasattr(p, "next_functions") else AccumulateGrad.of(p), 0)
                     for p in (getattr(self, "shown", None) or self.parents))

    def register_hook(self, fn):
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)


class AccumulateGrad:
    """What torch's next_functions shows for a leaf that requires grad: ``variable`` is the leaf."""
    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    @staticmethod
    def of(leaf):
        """The leaf's one AccumulateGrad (kept in its rarely used extras, as torch keeps one per leaf)."""
        if leaf._meta is None:
            leaf._meta = {}
        return leaf._meta.setdefault("grad_accumulator", AccumulateGrad(leaf))

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"
