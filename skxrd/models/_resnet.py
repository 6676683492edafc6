"""Pre-activation 1D ResNet for patterns, with an optional confidence head."""

from __future__ import annotations

import torch
from torch import nn

from ..utils._validation import check_bool, check_int
from ._layers import (
    ConfidenceHead,
    _as_input,
    _check_batch_statistics,
    _check_dropout,
    _conv,
    _init_weights,
    _maxpool_half,
)

__all__ = ["ResNet1D"]


class _PreActBlock1d(nn.Module):
    """BN-ReLU-Conv-BN-ReLU-Dropout-Conv plus an identity or 1x1 projection shortcut."""

    def __init__(self, in_ch, out_ch, kernel_size, stride, dropout):
        super().__init__()
        self.bn1 = nn.BatchNorm1d(in_ch)
        self.conv1 = _conv(1, in_ch, out_ch, kernel_size, stride=stride)
        self.bn2 = nn.BatchNorm1d(out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = _conv(1, out_ch, out_ch, kernel_size)
        if stride != 1 or in_ch != out_ch:
            # 1x1 strided conv: length floor((L - 1) / s) + 1 = ceil(L / s), as conv1
            self.shortcut = nn.Conv1d(in_ch, out_ch, 1, stride=stride, bias=False)
        else:
            self.shortcut = None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.relu(self.bn1(x))
        shortcut = x if self.shortcut is None else self.shortcut(out)
        out = self.conv1(out)
        out = self.conv2(self.dropout(self.relu(self.bn2(out))))
        return out + shortcut


class ResNet1D(nn.Module):
    """Pre-activation residual network for 1D patterns (He et al., 2016).

    A stem (convolution with stride 2, batch norm, ReLU, max pool with stride
    2), then ``depth`` pre-activation residual blocks (BN → ReLU → Conv → BN →
    ReLU → Dropout → Conv, with an identity shortcut or a 1x1 projection where
    the shape changes) in ``n_stages`` stages whose widths double
    (``width, 2 width, 4 width, ...``) with stride-2 downsampling between them,
    a final BN-ReLU, global average pooling and a linear head.

    All convolutions are 'same'-padded and every downsampling maps a length
    ``L`` to ``ceil(L / 2)``, so any length ``L >= 1`` works: long patterns are
    downsampled 32 times (with the default 4 stages), while a short one shrinks
    to length 1 and then stays there. In training mode BatchNorm needs more
    than one value per channel, so a batch of one pattern must then be longer
    than the downsampling (``L >= 33`` by default; a ValueError says so).
    Nothing in ``forward`` depends on the data (only on static shapes), so the
    module can be scripted by :func:`torch.compile` in one graph.

    Parameters
    ----------
    n_classes : int
        Number of classes (outputs).
    in_channels : int, default=1
        Number of input channels (1 for a single pattern).
    depth : int, default=8
        Number of residual blocks, spread as evenly as possible over the
        stages (8 → 2 per stage).
    width : int, default=32
        Channels of the stem and of the first stage.
    kernel_size : int, default=7
        Kernel size of the stem and of the block convolutions (odd or even).
    dropout : float, default=0.1
        Dropout probability between the two convolutions of each block.
    confidence_head : bool, default=False
        Add a :class:`ConfidenceHead` on the pooled features: ``forward`` then
        returns ``(logits, confidence)`` with ``confidence`` of shape ``(B,)``
        in (0, 1) (DeVries & Taylor, 2018).
    n_stages : int, default=4
        Number of stages (at most ``depth``).
    stem_stride : int, default=2
        Stride of the stem convolution (1 keeps the full resolution, at four
        times the cost of the first stage).

    Attributes
    ----------
    num_features : int
        Number of pooled features fed to the head(s).

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import ResNet1D, n_parameters
    >>> _ = torch.manual_seed(0)
    >>> model = ResNet1D(n_classes=7).eval()
    >>> model(torch.rand(2, 4250)).shape
    torch.Size([2, 7])
    >>> model(torch.rand(2, 1, 5)).shape  # any length >= 1
    torch.Size([2, 7])
    >>> n_parameters(model)
    2185063
    >>> logits, confidence = ResNet1D(7, confidence_head=True).eval()(torch.rand(3, 64))
    >>> logits.shape, confidence.shape
    (torch.Size([3, 7]), torch.Size([3]))
    """

    def __init__(
        self,
        n_classes: int,
        in_channels: int = 1,
        depth: int = 8,
        width: int = 32,
        kernel_size: int = 7,
        dropout: float = 0.1,
        confidence_head: bool = False,
        *,
        n_stages: int = 4,
        stem_stride: int = 2,
    ):
        super().__init__()
        n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        depth = check_int(depth, "depth", minimum=1)
        width = check_int(width, "width", minimum=1)
        kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        dropout = _check_dropout(dropout)
        n_stages = min(check_int(n_stages, "n_stages", minimum=1), depth)
        stem_stride = check_int(stem_stride, "stem_stride", minimum=1)
        confidence_head = check_bool(confidence_head, "confidence_head")

        self.stem = nn.Sequential(
            _conv(1, self.in_channels, width, kernel_size, stride=stem_stride),
            nn.BatchNorm1d(width),
            nn.ReLU(inplace=True),
            _maxpool_half(1),
        )
        blocks = []
        in_ch = width
        for stage in range(n_stages):
            out_ch = width * 2**stage
            n_blocks = depth // n_stages + (stage < depth % n_stages)
            for i in range(n_blocks):
                stride = 2 if (stage > 0 and i == 0) else 1
                blocks.append(
                    _PreActBlock1d(in_ch, out_ch, kernel_size, stride, dropout)
                )
                in_ch = out_ch
        self.blocks = nn.Sequential(*blocks)
        # stem, max pool, one stride 2 per stage after the first
        self._downsampling = stem_stride * 2**n_stages
        self.final = nn.Sequential(nn.BatchNorm1d(in_ch), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.num_features = in_ch
        self.fc = nn.Linear(in_ch, n_classes)
        self.confidence = ConfidenceHead(in_ch) if confidence_head else None
        _init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features of shape ``(B, num_features)``.

        Parameters
        ----------
        x : torch.Tensor of shape (B, L) or (B, C, L)
            Patterns.

        Returns
        -------
        torch.Tensor of shape (B, num_features)
        """
        x = _as_input(x, self.in_channels, 1, self.fc.weight.dtype)
        # modules pickled before the attribute keep torch's own error
        downsampling = getattr(self, "_downsampling", None)
        if downsampling is not None:
            _check_batch_statistics(x, self.training, downsampling, "ResNet1D")
        x = self.final(self.blocks(self.stem(x)))
        return self.pool(x).flatten(1)

    def forward(self, x: torch.Tensor):
        """Class logits (and the confidence when the model has a confidence head).

        Parameters
        ----------
        x : torch.Tensor of shape (B, L) or (B, C, L)
            Patterns (any float dtype is cast to the model's dtype).

        Returns
        -------
        logits : torch.Tensor of shape (B, n_classes)
        confidence : torch.Tensor of shape (B,)
            Only with ``confidence_head=True``: values in (0, 1).
        """
        features = self.forward_features(x)
        logits = self.fc(features)
        if self.confidence is None:
            return logits
        return logits, self.confidence(features)
