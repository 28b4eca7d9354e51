"""chainrule.nn.utils: gradient clipping, parameters to one vector and back, padded and packed
sequences (``rnn``) and parametrizations (``parametrize``, ``parametrizations.weight_norm``), as
torch.nn.utils."""
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
from . import parametrizations, parametrize, rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "parametrizations",
           "parametrize", "rnn"]
