"""torch.nn.parallel's single-process piece: DataParallel on one device is a pass-through wrapper
(chainrule runs one device per process; DistributedDataParallel is the multi-process path)."""
from ..module import Module


class DataParallel(Module):
    """Wraps ``module`` as torch's DataParallel does (``.module``, state_dict keys prefixed with
    ``module.``); with one device the call is the module's call."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a chainrule.nn.Module, got {type(module).__name__}")
        self.module, self.device_ids, self.output_device, self.dim = module, device_ids, output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


from .distributed import DistributedDataParallel  # noqa: E402  (issue 17)

__all__ = ["DataParallel", "DistributedDataParallel"]
