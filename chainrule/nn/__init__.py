"""chainrule.nn: modules, layers, activations and losses (torch.nn's names and semantics)."""
from .module import Module, Parameter, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .activation import *  # noqa: F401,F403 -- the activation modules (their __all__)
from . import activation as _activation
from .layers import Identity, Linear, Bilinear, Conv2d, MaxPool2d, AvgPool2d, Flatten, Unflatten
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, SyncBatchNorm
from .embedding import Embedding, EmbeddingBag
from .loss import *  # noqa: F401,F403 -- the loss and distance modules (their __all__)
from . import loss as _loss
from .loss_margin import *  # noqa: F401,F403 -- ranking, margin, triplet losses; distances
from . import loss_margin as _loss_margin
from .normalization import LayerNorm, RMSNorm, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LocalResponseNorm
from .transformer import (MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder,
                          TransformerDecoder, Transformer)
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from . import functional, init, utils, parallel
from .conv import Conv1d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Unfold, Fold
from .pooling import (MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
                      AdaptiveMaxPool2d, AdaptiveMaxPool3d, MaxUnpool1d, MaxUnpool2d, LPPool1d, LPPool2d)
from .upsampling import (Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle, ZeroPad1d,
                         ZeroPad2d, ZeroPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
                         ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d,
                         CircularPad1d, CircularPad2d, CircularPad3d)
from .adaptive import LinearCrossEntropyLoss, AdaptiveLogSoftmaxWithLoss

__all__ = _activation.__all__ + _loss.__all__ + _loss_margin.__all__ + ["Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
                                 "ParameterDict", "Identity", "Linear", "Conv2d",
           "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d", "BatchNorm2d", "Embedding", "ReLU",
           "Sigmoid", "Tanh", "LeakyReLU", "ELU", "GELU", "PReLU", "Softmax", "LogSoftmax",
           "functional", "init", "utils",
           "Unflatten", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Bilinear",
           "BatchNorm3d", "SyncBatchNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "LocalResponseNorm", "parallel", "LayerNorm", "RMSNorm", "MultiheadAttention",
           "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder",
           "Transformer", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "EmbeddingBag"]
__all__ += ["Conv1d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Unfold", "Fold", "MaxPool1d",
            "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "LPPool1d", "LPPool2d", "Upsample", "UpsamplingNearest2d",
            "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
            "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
            "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d",
            "CircularPad3d"]
__all__ += ["LinearCrossEntropyLoss", "AdaptiveLogSoftmaxWithLoss"]
from . import modules  # noqa: E402 -- torch.nn.modules.<file>.<Class> paths, filled now that every name exists
modules._build()
