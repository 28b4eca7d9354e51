"""chainrule.nn: modules, layers, activations and losses (torch.nn's names and semantics)."""
from .module import Module, Parameter, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .activation import *  # noqa: F401,F403 -- the activation modules (their __all__)
from . import activation as _activation
from .layers import (Identity, Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout, BatchNorm1d, BatchNorm2d,
                     Embedding, ReLU, Sigmoid, Tanh, LeakyReLU, ELU, GELU, PReLU, Softmax, LogSoftmax)
from .loss import *  # noqa: F401,F403 -- the loss and distance modules (their __all__)
from . import loss as _loss
from .layers import (Unflatten, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout, Bilinear,
                     BatchNorm3d, SyncBatchNorm, EmbeddingBag)
from .normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LocalResponseNorm
from . import functional, init, utils, parallel

__all__ = _activation.__all__ + _loss.__all__ + ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
                                 "ParameterDict", "Identity", "Linear", "Conv2d",
           "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d", "Embedding", "ReLU",
           "Sigmoid", "Tanh", "LeakyReLU", "ELU", "GELU", "PReLU", "Softmax", "LogSoftmax",
           "functional", "init", "utils",
           "Unflatten", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Bilinear",
           "BatchNorm3d", "SyncBatchNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "LocalResponseNorm", "parallel", "EmbeddingBag"]
