"""Plain convolutional networks: the 1D powder baseline and the 2D fingerprint CNN."""

from __future__ import annotations

import torch
from torch import nn

from ..utils._validation import check_int, check_int_sequence
from ._layers import (
    _as_input,
    _check_batch_statistics,
    _check_dropout,
    _conv,
    _init_weights,
)

__all__ = ["CNN1D", "FingerprintCNN"]


class CNN1D(nn.Module):
    """Plain CNN: (Conv1d → ReLU → MaxPool) blocks, then a linear head.

    The common baseline for the classification of powder patterns (in the
    style of Park et al., IUCrJ 4, 2017): one block per entry of ``channels``
    (a 'same'-padded convolution with bias, ReLU, max pool of ``pool`` with
    stride ``pool`` in ceil mode), then an adaptive average pool to
    ``pooled_length`` positions, flattening, dropout and a linear layer. The
    flattened map keeps where along the pattern the features are (the peak
    positions carry the lattice), unlike a global pool
    (``pooled_length=1``). ``hidden_units`` adds a fully connected ReLU layer
    before the output, as in the original dense head.

    Pools map a length ``L`` to ``ceil(L / pool)`` and the adaptive pool
    accepts any length, so every ``L >= 1`` works.

    Parameters
    ----------
    n_classes : int
        Number of classes (outputs).
    in_channels : int, default=1
        Number of input channels.
    channels : tuple of int, default=(64, 64, 64)
        Output channels of the convolutions (one block each).
    kernel_size : int, default=7
        Kernel size of the convolutions.
    pool : int, default=2
        Size and stride of the max pools (1: no pooling).
    dropout : float, default=0.1
        Dropout probability before the linear layer(s).
    pooled_length : int, default=16
        Length of the map after the adaptive pool (1: global average pooling).
    hidden_units : int or None, default=None
        Width of an optional hidden fully connected layer.

    Attributes
    ----------
    num_features : int
        Number of flattened features fed to the head.

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import CNN1D, n_parameters
    >>> _ = torch.manual_seed(0)
    >>> model = CNN1D(n_classes=7).eval()
    >>> model(torch.rand(2, 4250)).shape
    torch.Size([2, 7])
    >>> model(torch.rand(2, 2)).shape
    torch.Size([2, 7])
    >>> n_parameters(model)
    65159
    """

    def __init__(
        self,
        n_classes: int,
        in_channels: int = 1,
        channels: tuple = (64, 64, 64),
        kernel_size: int = 7,
        pool: int = 2,
        dropout: float = 0.1,
        *,
        pooled_length: int = 16,
        hidden_units: int | None = None,
    ):
        super().__init__()
        n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        channels = check_int_sequence(channels, "channels")
        kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        pool = check_int(pool, "pool", minimum=1)
        dropout = _check_dropout(dropout)
        pooled_length = check_int(pooled_length, "pooled_length", minimum=1)
        if hidden_units is not None:
            hidden_units = check_int(hidden_units, "hidden_units", minimum=1)

        layers = []
        in_ch = self.in_channels
        for out_ch in channels:
            layers += [
                _conv(1, in_ch, out_ch, kernel_size, bias=True),
                nn.ReLU(inplace=True),
            ]
            if pool > 1:
                layers.append(nn.MaxPool1d(pool, stride=pool, ceil_mode=True))
            in_ch = out_ch
        layers.append(nn.AdaptiveAvgPool1d(pooled_length))
        self.features = nn.Sequential(*layers)
        self.num_features = in_ch * pooled_length
        head = [nn.Flatten(), nn.Dropout(dropout)]
        if hidden_units is None:
            head.append(nn.Linear(self.num_features, n_classes))
        else:
            head += [
                nn.Linear(self.num_features, hidden_units),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(hidden_units, n_classes),
            ]
        self.head = nn.Sequential(*head)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of shape ``(B, n_classes)`` from ``(B, L)`` or ``(B, C, L)``."""
        x = _as_input(x, self.in_channels, 1, self.head[-1].weight.dtype)
        return self.head(self.features(x))


class FingerprintCNN(nn.Module):
    """Six-convolution 2D CNN for diffraction fingerprints (RGB images).

    The network of the defect-robust fingerprint study: three stages of two
    'same'-padded ``k x k`` convolutions (each with batch norm and ReLU),
    each stage followed by a 2x2 max pool (size ``n`` to ``ceil(n / 2)``),
    then global average pooling, dropout and a linear layer. Any image size
    ``H, W >= 1`` works (in training mode, a batch of one image needs more
    than one value per channel in the last BatchNorm: ``H`` or ``W >= 5`` by
    default).

    Parameters
    ----------
    n_classes : int
        Number of classes (outputs).
    in_channels : int, default=3
        Input channels (R, G, B = the fingerprints along x, y, z).
    channels : tuple of int, default=(32, 32, 64, 64, 128, 128)
        Output channels of the convolutions; a max pool follows every second.
    kernel_size : int, default=3
        Kernel size of the convolutions.
    dropout : float, default=0.25
        Dropout probability before the linear layer.

    Attributes
    ----------
    num_features : int
        Number of pooled features fed to the head.

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import FingerprintCNN, n_parameters
    >>> _ = torch.manual_seed(0)
    >>> model = FingerprintCNN(n_classes=7).eval()
    >>> model(torch.rand(2, 3, 64, 64)).shape
    torch.Size([2, 7])
    >>> model(torch.rand(2, 3, 1, 5)).shape  # any size
    torch.Size([2, 7])
    >>> n_parameters(model)
    288359
    """

    def __init__(
        self,
        n_classes: int,
        in_channels: int = 3,
        channels: tuple = (32, 32, 64, 64, 128, 128),
        kernel_size: int = 3,
        dropout: float = 0.25,
    ):
        super().__init__()
        n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        channels = check_int_sequence(channels, "channels")
        kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        dropout = _check_dropout(dropout)

        layers = []
        in_ch = self.in_channels
        for i, out_ch in enumerate(channels):
            layers += [
                _conv(2, in_ch, out_ch, kernel_size),
                nn.BatchNorm2d(out_ch),
                nn.ReLU(inplace=True),
            ]
            if i % 2 == 1:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        # the max pools before the last BatchNorm (one after every second conv)
        self._downsampling = 2 ** ((len(channels) - 1) // 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.num_features = in_ch
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(in_ch, n_classes)
        )
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, n_classes)`` from ``(B, C, H, W)`` (or ``(B, H, W)``)."""
        x = _as_input(x, self.in_channels, 2, self.head[-1].weight.dtype)
        # modules pickled before the attribute keep torch's own error
        downsampling = getattr(self, "_downsampling", None)
        if downsampling is not None:
            _check_batch_statistics(x, self.training, downsampling, "FingerprintCNN")
        return self.head(self.pool(self.features(x)))
