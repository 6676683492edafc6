"""Plain torch networks for diffraction patterns and images.

The modules here are ordinary :class:`torch.nn.Module` objects with no
knowledge of scikit-learn; the estimators of :mod:`skxrd.estimators` wrap
them. Every 1D network takes float patterns of shape ``(B, L)`` (a channel
axis is added) or ``(B, C, L)``, for any length ``L >= 1``, and returns class
logits of shape ``(B, n_classes)``. In training mode, BatchNorm needs more than
one value per channel: a batch of one pattern must then be longer than the
network's downsampling (a ValueError names the minimum length). Complex
inputs are refused; other dtypes are cast to the model's.

- :class:`ResNet1D`: pre-activation residual network, optionally with a
  :class:`ConfidenceHead` (then it returns ``(logits, confidence)``);
- :class:`DenseNet1D` and its 2D twin :class:`DenseNet2D`;
- :class:`MultiStreamDenseNet`: one DenseNet per input stream, logits summed;
- :class:`CNN1D`: the classic three-convolution baseline;
- :class:`FingerprintCNN`: the six-convolution 2D CNN of diffraction
  fingerprints.

:func:`n_parameters` counts parameters; :func:`confidence_loss` is the
training loss of learned confidence (DeVries & Taylor, 2018) and
:class:`ConfidenceLoss` its criterion with a penalty weight that adapts to a
budget; :class:`HierarchicalLoss` adds the cross-entropy of coarser groups of
the classes (crystal systems of space groups) to that of the classes.

Examples
--------
>>> import torch
>>> from skxrd.models import ResNet1D
>>> _ = torch.manual_seed(0)
>>> model = ResNet1D(n_classes=7, depth=4, width=8).eval()
>>> model(torch.rand(3, 4250)).argmax(1).shape
torch.Size([3])
"""

from ._cnn import CNN1D, FingerprintCNN
from ._densenet import DenseNet1D, DenseNet2D, MultiStreamDenseNet
from ._layers import (
    ConfidenceHead,
    ConfidenceLoss,
    HierarchicalLoss,
    confidence_loss,
    n_parameters,
)
from ._resnet import ResNet1D

__all__ = [
    "CNN1D",
    "ConfidenceHead",
    "ConfidenceLoss",
    "DenseNet1D",
    "DenseNet2D",
    "FingerprintCNN",
    "HierarchicalLoss",
    "MultiStreamDenseNet",
    "ResNet1D",
    "confidence_loss",
    "n_parameters",
]
