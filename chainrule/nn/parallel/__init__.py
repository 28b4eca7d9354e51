"""torch.nn.parallel's single-process piece: DataParallel on one device is a pass-through wrapper
(chainrule runs one device per process; DistributedDataParallel is the multi-process path)."""
from ..module import Module


class DataParallel(Module):
    """Wraps a module for data parallelism on one device, as ``torch.nn.parallel.DataParallel``.

    The wrapped module is ``.module`` and the state_dict keys gain the prefix ``module.``, as torch's;
    calling the wrapper calls the module.

    Parameters
    ----------
    module : Module
        The module to wrap.
    device_ids : list of int or device, optional
        Stored; chainrule runs one device per process.
    output_device : int or device, optional
        Stored.
    dim : int, default 0
        The batch dim torch would scatter along; stored.

    Shape
    -----
    - Input and output: those of the wrapped module.

    Notes
    -----
    Where chainrule differs from torch: there is no scatter over several GPUs (chainrule runs one
    device per process); use DistributedDataParallel with one process per device.

    Examples
    --------
    >>> model = nn.parallel.DataParallel(nn.Linear(4, 2))
    >>> model(cr.randn(3, 4)).shape
    chainrule.Size([3, 2])
    >>> list(model.state_dict())
    ['module.weight', 'module.bias']
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a chainrule.nn.Module, got {type(module).__name__}")
        self.module, self.device_ids, self.output_device, self.dim = module, device_ids, output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


from .distributed import DistributedDataParallel  # noqa: E402  (issue 17)

__all__ = ["DataParallel", "DistributedDataParallel"]
