"""TensorBoard logging with torch's names: ``from chainrule.utils.tensorboard import SummaryWriter``.

Needs the optional extra ``pip install chainrule[tensorboard]`` (the ``tensorboard`` package, whose
event-file writer and protocol buffers write the files; ``tensorboard --logdir runs`` shows them).
"""
from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
