"""A graph node: one recorded op application (a tensor's ``grad_fn``)."""


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
    """
    __slots__ = ("op", "parents", "needs", "args", "out", "saved", "shape", "dtype", "xp",
                 "hooks", "label", "__weakref__")

    def __init__(self, op, xp):
        self.op = op
        self.xp = xp
        self.args = ()
        self.out = None
        self.saved = None
        self.hooks = None

    def name(self):
        return getattr(self, "label", None) or self.op.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self):
        """(parent, 0) pairs as torch shows them; leaves appear as AccumulateGrad tensors."""
        return tuple((p, 0) for p in self.parents)

    def register_hook(self, fn):
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)
