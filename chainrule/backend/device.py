"""Device names: 'cpu', 'cuda', 'cuda:N' (as torch.device)."""


DEFAULT = [None]  # where factories create when not given device= (None: the CPU); set_default_device sets it
_entered = []  # the defaults that ``with device:`` blocks replaced


class Device:
    """A device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``, as ``torch.device``; built from a name, a name and an
    index, or another device."""
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, Device):
            type, index = type.type, type.index
        elif isinstance(type, str) and ":" in type:
            type, _, idx = type.partition(":")
            try:
                index = int(idx)
            except ValueError:
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'") from None
        if type not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if type == "cuda" and index is None:
            index = 0
        if type == "cpu":
            index = None
        self.type = type
        self.index = index

    def __enter__(self):
        """``with cr.device("cuda"):``: factories without ``device=`` create here inside the block, as torch."""
        _entered.append(DEFAULT[0])
        DEFAULT[0] = None if self.type == "cpu" else self
        return self

    def __exit__(self, *exc):
        DEFAULT[0] = _entered.pop()
        return False

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


Device.CPU = Device("cpu")
device = Device


def parse_device(dev):
    """None -> None; str/int/Device -> Device."""
    if dev is None or type(dev) is Device:
        return dev
    if isinstance(dev, int):
        return Device("cuda", dev)
    if isinstance(dev, str):
        return Device(dev)
    raise TypeError(f"device must be a str or chainrule.device, got {type(dev).__name__}")
