"""chainrule.random: torch.random's names: the default generator, seeding, its state, and
``fork_rng`` (a region whose draws leave the default generators as they were)."""
import contextlib

from .backend import random as _random
from .tensor.creation import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                              set_rng_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """On exit, restore the default CPU generator's state (and reseed the default CUDA generators
    with the seed they had: CuPy's state itself cannot be saved)."""
    if not enabled:
        yield
        return
    cpu_state, cuda_seed = get_rng_state(), _random.cuda_seed()
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        _random.cuda_manual_seed(cuda_seed)


__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state"]
