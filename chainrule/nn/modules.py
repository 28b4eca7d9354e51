"""torch.nn.modules' paths (``torch.nn.modules.linear.Linear``, ``nn.modules.batchnorm._BatchNorm``, ...),
for programs that name a class where torch defines it: isinstance checks on base classes
(``nn.modules.loss._Loss``, ``nn.modules.conv._ConvNd``) and ``torch.serialization.safe_globals``
lists (pytorch/examples word_language_model). Each ``chainrule.nn.modules.<file>`` is a namespace
holding chainrule's classes under torch's file layout; the code lives in chainrule.nn's modules."""
import sys
import types

from .module import _IncompatibleKeys
from .batchnorm import _BatchNorm
from .loss import _Loss, _WeightedLoss
from .conv import _ConvNd, _ConvTransposeNd
from .normalization import _InstanceNorm
from .transformer import NonDynamicallyQuantizableLinear

_LAYOUT = {
    "module": "Module _IncompatibleKeys",
    "container": "Sequential ModuleList ModuleDict ParameterList ParameterDict",
    "linear": "Identity Linear Bilinear NonDynamicallyQuantizableLinear",
    "activation": "Threshold ReLU RReLU Hardtanh ReLU6 Sigmoid Hardsigmoid Tanh SiLU Mish Hardswish ELU CELU SELU GLU "
                  "GELU Hardshrink LeakyReLU LogSigmoid Softplus Softshrink MultiheadAttention PReLU Softsign "
                  "Tanhshrink Softmin Softmax Softmax2d LogSoftmax",
    "batchnorm": "_BatchNorm BatchNorm1d BatchNorm2d BatchNorm3d SyncBatchNorm",
    "instancenorm": "_InstanceNorm InstanceNorm1d InstanceNorm2d InstanceNorm3d",
    "normalization": "LocalResponseNorm LayerNorm GroupNorm RMSNorm",
    "conv": "_ConvNd _ConvTransposeNd Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d",
    "dropout": "Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout",
    "distance": "PairwiseDistance CosineSimilarity",
    "flatten": "Flatten Unflatten",
    "fold": "Fold Unfold",
    "sparse": "Embedding EmbeddingBag",
    "rnn": "RNNBase RNN LSTM GRU RNNCellBase RNNCell LSTMCell GRUCell",
    "transformer": "Transformer TransformerEncoder TransformerDecoder TransformerEncoderLayer TransformerDecoderLayer",
    "loss": "_Loss _WeightedLoss L1Loss NLLLoss PoissonNLLLoss GaussianNLLLoss KLDivLoss MSELoss BCELoss "
            "BCEWithLogitsLoss HingeEmbeddingLoss MultiLabelMarginLoss SmoothL1Loss HuberLoss SoftMarginLoss "
            "CrossEntropyLoss MultiLabelSoftMarginLoss CosineEmbeddingLoss MarginRankingLoss MultiMarginLoss "
            "TripletMarginLoss TripletMarginWithDistanceLoss CTCLoss LinearCrossEntropyLoss",
    "adaptive": "AdaptiveLogSoftmaxWithLoss",
    "pooling": "MaxPool1d MaxPool2d MaxUnpool1d MaxUnpool2d AvgPool1d AvgPool2d LPPool1d LPPool2d AdaptiveMaxPool1d "
               "AdaptiveMaxPool2d AdaptiveMaxPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d",
    "padding": "CircularPad1d CircularPad2d CircularPad3d ConstantPad1d ConstantPad2d ConstantPad3d ReflectionPad1d "
               "ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d ZeroPad1d "
               "ZeroPad2d ZeroPad3d",
    "pixelshuffle": "PixelShuffle PixelUnshuffle",
    "upsampling": "Upsample UpsamplingNearest2d UpsamplingBilinear2d",
}
_PRIVATE = dict(_IncompatibleKeys=_IncompatibleKeys, _BatchNorm=_BatchNorm, _Loss=_Loss, _WeightedLoss=_WeightedLoss,
                _ConvNd=_ConvNd, _ConvTransposeNd=_ConvTransposeNd, _InstanceNorm=_InstanceNorm,
                NonDynamicallyQuantizableLinear=NonDynamicallyQuantizableLinear)


def _build():
    """Called by chainrule.nn once all its names exist: fill this module and register its files."""
    nn = sys.modules[__package__]
    for file, names in _LAYOUT.items():
        ns = types.ModuleType(f"{__name__}.{file}", f"torch.nn.modules.{file}'s names in chainrule.")
        for name in names.split():
            ns.__dict__[name] = _PRIVATE[name] if name in _PRIVATE else getattr(nn, name)
            if not name.startswith("_"):
                globals()[name] = ns.__dict__[name]
        sys.modules[ns.__name__] = globals()[file] = ns  # so `import chainrule.nn.modules.loss` works
