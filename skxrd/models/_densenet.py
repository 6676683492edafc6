"""Densely connected networks (1D and 2D) and the multi-stream DenseNet."""

from __future__ import annotations

import torch
from torch import nn

from ..utils._validation import check_int, check_int_sequence, check_real
from ._layers import (
    _as_input,
    _avgpool_half,
    _batchnorm,
    _check_batch_statistics,
    _check_dropout,
    _conv,
    _global_avgpool,
    _init_weights,
    _maxpool_half,
)

__all__ = ["DenseNet1D", "DenseNet2D", "MultiStreamDenseNet"]


class _DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1 bottleneck then BN-ReLU-Conv k, giving ``growth_rate`` maps."""

    def __init__(self, dims, in_ch, growth_rate, bn_size, kernel_size, dropout):
        super().__init__()
        mid = bn_size * growth_rate
        self.layers = nn.Sequential(
            _batchnorm(dims, in_ch),
            nn.ReLU(inplace=True),
            _conv(dims, in_ch, mid, 1),
            _batchnorm(dims, mid),
            nn.ReLU(inplace=True),
            _conv(dims, mid, growth_rate, kernel_size),
            nn.Dropout(dropout),
        )

    def forward(self, features):
        return self.layers(torch.cat(features, 1))


class _DenseBlock(nn.Module):
    def __init__(
        self, dims, n_layers, in_ch, growth_rate, bn_size, kernel_size, dropout
    ):
        super().__init__()
        self.layers = nn.ModuleList(
            _DenseLayer(
                dims,
                in_ch + i * growth_rate,
                growth_rate,
                bn_size,
                kernel_size,
                dropout,
            )
            for i in range(n_layers)
        )

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


class _DenseNet(nn.Module):
    """DenseNet-BC (Huang et al., 2017) for 1D or 2D inputs of any size >= 1."""

    _dims = 1

    def __init__(
        self,
        n_classes: int,
        in_channels: int = 1,
        growth_rate: int = 16,
        block_config: tuple = (4, 4, 4),
        kernel_size: int = 7,
        dropout: float = 0.1,
        *,
        bn_size: int = 4,
        compression: float = 0.5,
        stem_stride: int = 2,
    ):
        super().__init__()
        dims = self._dims
        n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        growth_rate = check_int(growth_rate, "growth_rate", minimum=1)
        block_config = check_int_sequence(block_config, "block_config")
        kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
        dropout = _check_dropout(dropout)
        bn_size = check_int(bn_size, "bn_size", minimum=1)
        compression = check_real(
            compression, "compression", minimum=0.0, include_min=False, maximum=1.0
        )
        stem_stride = check_int(stem_stride, "stem_stride", minimum=1)

        n_ch = 2 * growth_rate
        self.stem = nn.Sequential(
            _conv(dims, self.in_channels, n_ch, kernel_size, stride=stem_stride),
            _batchnorm(dims, n_ch),
            nn.ReLU(inplace=True),
            _maxpool_half(dims),
        )
        stages = []
        for i, n_layers in enumerate(block_config):
            stages.append(
                _DenseBlock(
                    dims, n_layers, n_ch, growth_rate, bn_size, kernel_size, dropout
                )
            )
            n_ch += n_layers * growth_rate
            if i < len(block_config) - 1:
                out_ch = max(1, int(n_ch * compression))
                # transition; the pool halves long inputs and keeps a size of 1
                stages.append(
                    nn.Sequential(
                        _batchnorm(dims, n_ch),
                        nn.ReLU(inplace=True),
                        _conv(dims, n_ch, out_ch, 1),
                        _avgpool_half(dims),
                    )
                )
                n_ch = out_ch
        self.features = nn.Sequential(*stages)
        # stem, max pool, one average pool per transition
        self._downsampling = stem_stride * 2 ** len(block_config)
        self.final = nn.Sequential(_batchnorm(dims, n_ch), nn.ReLU(inplace=True))
        self.pool = _global_avgpool(dims)
        self.num_features = n_ch
        self.fc = nn.Linear(n_ch, n_classes)
        _init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features of shape ``(B, num_features)``."""
        x = _as_input(x, self.in_channels, self._dims, self.fc.weight.dtype)
        # modules pickled before the attribute keep torch's own error
        downsampling = getattr(self, "_downsampling", None)
        if downsampling is not None:
            _check_batch_statistics(x, self.training, downsampling, type(self).__name__)
        x = self.final(self.features(self.stem(x)))
        return self.pool(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of shape ``(B, n_classes)``."""
        return self.fc(self.forward_features(x))


class DenseNet1D(_DenseNet):
    """Densely connected network (DenseNet-BC) for 1D patterns.

    A stem (convolution with stride 2, batch norm, ReLU, max pool with stride
    2), dense blocks whose layers (BN → ReLU → 1x1 bottleneck conv to
    ``bn_size · growth_rate`` channels → BN → ReLU → conv of ``kernel_size`` to
    ``growth_rate`` channels → dropout) each see the concatenation of all
    earlier maps of the block, transitions between blocks (BN → ReLU → 1x1
    conv compressing the channels by ``compression`` → average pool with
    stride 2), a final BN-ReLU, global average pooling and a linear head
    (Huang et al., 2017).

    Every downsampling maps a length ``L`` to ``ceil(L / 2)``, so long
    patterns are halved and a length of 1 stays 1: any length ``L >= 1``
    works. In training mode BatchNorm needs more than one value per channel,
    so a batch of one pattern must then be longer than the downsampling
    (``L >= 17`` by default; a ValueError says so).

    Parameters
    ----------
    n_classes : int
        Number of classes (outputs).
    in_channels : int, default=1
        Number of input channels.
    growth_rate : int, default=16
        Channels added by each dense layer (the stem has twice as many).
    block_config : tuple of int, default=(4, 4, 4)
        Number of dense layers in each block.
    kernel_size : int, default=7
        Kernel size of the stem and of the dense layers.
    dropout : float, default=0.1
        Dropout probability after each dense layer.
    bn_size : int, default=4
        Width of the bottleneck, in multiples of ``growth_rate``.
    compression : float, default=0.5
        Fraction of the channels kept by a transition.
    stem_stride : int, default=2
        Stride of the stem convolution.

    Attributes
    ----------
    num_features : int
        Number of pooled features fed to the head.

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import DenseNet1D, n_parameters
    >>> _ = torch.manual_seed(0)
    >>> model = DenseNet1D(n_classes=7).eval()
    >>> model(torch.rand(2, 4250)).shape
    torch.Size([2, 7])
    >>> model(torch.rand(2, 1, 1)).shape
    torch.Size([2, 7])
    >>> n_parameters(model)
    155135
    """

    _dims = 1


class DenseNet2D(_DenseNet):
    """Densely connected network (DenseNet-BC) for 2D images (e.g. zone-axis patterns).

    The 2D twin of :class:`DenseNet1D`: the same layers with ``k x k``
    convolutions and 2D pooling; every downsampling maps a size ``n`` to
    ``ceil(n / 2)`` along each axis, so any image size ``H, W >= 1`` works
    (in training mode, a batch of one image needs ``H`` or ``W >= 17`` by
    default: BatchNorm needs more than one value per channel). Inputs are
    ``(B, H, W)`` (one channel) or ``(B, C, H, W)``; the module also runs in
    the ``torch.channels_last`` memory format.

    Parameters
    ----------
    n_classes : int
        Number of classes (outputs).
    in_channels : int, default=1
        Number of input channels.
    growth_rate : int, default=16
        Channels added by each dense layer.
    block_config : tuple of int, default=(4, 4, 4)
        Number of dense layers in each block.
    kernel_size : int, default=7
        Kernel size (along both axes) of the stem and of the dense layers.
    dropout : float, default=0.1
        Dropout probability after each dense layer.
    bn_size : int, default=4
        Width of the bottleneck, in multiples of ``growth_rate``.
    compression : float, default=0.5
        Fraction of the channels kept by a transition.
    stem_stride : int, default=2
        Stride of the stem convolution.

    Attributes
    ----------
    num_features : int
        Number of pooled features fed to the head.

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import DenseNet2D
    >>> _ = torch.manual_seed(0)
    >>> model = DenseNet2D(n_classes=5).eval()
    >>> model(torch.rand(2, 64, 64)).shape
    torch.Size([2, 5])
    >>> model(torch.rand(2, 1, 3, 1)).shape
    torch.Size([2, 5])
    """

    _dims = 2


class MultiStreamDenseNet(nn.Module):
    """Several DenseNets, one per input stream, whose logits are summed.

    Each of the ``n_streams`` streams (e.g. the same pattern at several
    resolutions or preprocessings, or several diffraction images of one
    crystal) goes through its own :class:`DenseNet1D` (``dims=1``) or
    :class:`DenseNet2D` (``dims=2``), with separate weights; the output is
    the sum of the streams' logits.

    Parameters
    ----------
    n_classes : int
        Number of classes (outputs).
    n_streams : int, default=3
        Number of streams.
    in_channels : int, default=1
        Channels of each stream.
    dims : {1, 2}, default=1
        1 for patterns ``(B, S, C, L)``, 2 for images ``(B, S, C, H, W)``. With
        one channel the channel axis may be left out: ``(B, S, L)`` or
        ``(B, S, H, W)``. A list of ``S`` tensors of shape ``(B, [C,] L)`` (or
        ``(B, [C,] H, W)``) is accepted too; its streams may differ in size
        but not in batch size ``B``.
    growth_rate, block_config, kernel_size, dropout
        Passed to each stream's DenseNet.
    **kwargs
        Further keyword arguments of the DenseNet (``bn_size``,
        ``compression``, ``stem_stride``).

    Attributes
    ----------
    streams : torch.nn.ModuleList
        The streams' DenseNets.

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import MultiStreamDenseNet
    >>> _ = torch.manual_seed(0)
    >>> model = MultiStreamDenseNet(n_classes=4, n_streams=3).eval()
    >>> x = torch.rand(2, 3, 500)
    >>> logits = model(x)
    >>> logits.shape
    torch.Size([2, 4])
    >>> parts = sum(s(x[:, i]) for i, s in enumerate(model.streams))
    >>> bool(torch.allclose(logits, parts, atol=1e-5))
    True
    >>> images = MultiStreamDenseNet(4, n_streams=2, dims=2).eval()
    >>> images(torch.rand(2, 2, 32, 32)).shape
    torch.Size([2, 4])
    """

    def __init__(
        self,
        n_classes: int,
        n_streams: int = 3,
        in_channels: int = 1,
        dims: int = 1,
        growth_rate: int = 16,
        block_config: tuple = (4, 4, 4),
        kernel_size: int = 7,
        dropout: float = 0.1,
        **kwargs,
    ):
        super().__init__()
        self.n_streams = check_int(n_streams, "n_streams", minimum=1)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        if dims not in (1, 2) or isinstance(dims, bool):
            raise ValueError(f"dims must be 1 or 2, got {dims!r}")
        self.dims = int(dims)
        net = DenseNet1D if self.dims == 1 else DenseNet2D
        self.streams = nn.ModuleList(
            net(
                n_classes,
                in_channels,
                growth_rate=growth_rate,
                block_config=block_config,
                kernel_size=kernel_size,
                dropout=dropout,
                **kwargs,
            )
            for _ in range(self.n_streams)
        )

    def _split(self, x):
        if isinstance(x, (list, tuple)):
            if len(x) != self.n_streams:
                raise ValueError(f"expected {self.n_streams} streams, got {len(x)}")
            return list(x)
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(x)
        ndim = self.dims + 3  # (B, S, C, *spatial)
        if not (x.ndim == ndim or (x.ndim == ndim - 1 and self.in_channels == 1)):
            spatial = "L" if self.dims == 1 else "H, W"
            raise ValueError(
                f"expected an input of shape (B, S, C, {spatial})"
                + (f" or (B, S, {spatial})" if self.in_channels == 1 else "")
                + f", got {tuple(x.shape)}"
            )
        if x.shape[1] != self.n_streams:
            raise ValueError(
                f"input has {x.shape[1]} streams (axis 1), expected {self.n_streams}"
            )
        return x.unbind(1)

    def forward(self, x) -> torch.Tensor:
        """Sum of the streams' logits, shape ``(B, n_classes)``.

        Parameters
        ----------
        x : torch.Tensor or list of torch.Tensor
            ``(B, S, C, L)`` / ``(B, S, L)`` for ``dims=1``,
            ``(B, S, C, H, W)`` / ``(B, S, H, W)`` for ``dims=2``, or a list of
            the ``S`` streams.

        Returns
        -------
        torch.Tensor of shape (B, n_classes)
        """
        parts = self._split(x)
        outputs = [stream(part) for stream, part in zip(self.streams, parts)]
        sizes = [len(out) for out in outputs]
        if len(set(sizes)) > 1:
            # a stream of batch size 1 was broadcast against the others: one
            # sample's stream was added to every sample's logits
            raise ValueError(f"the streams must have the same batch size, got {sizes}")
        logits = outputs[0]
        for out in outputs[1:]:
            logits = logits + out
        return logits
