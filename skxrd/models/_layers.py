"""Building blocks shared by the networks: 'same' convolutions, input layouts, init."""

from __future__ import annotations

import numbers

import torch
from torch import nn
from torch.nn import functional as F

from ..utils._validation import check_real

__all__ = ["ConfidenceHead", "ConfidenceLoss", "HierarchicalLoss", "n_parameters"]


def n_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters of a module.

    Parameters
    ----------
    model : torch.nn.Module
        Any module.
    trainable_only : bool, default=False
        Count only the parameters with ``requires_grad=True``.

    Returns
    -------
    int
        The total number of elements of the parameters (buffers such as the
        running statistics of batch normalisation are not counted).

    Examples
    --------
    >>> from torch import nn
    >>> from skxrd.models import n_parameters
    >>> n_parameters(nn.Linear(10, 3))
    33
    >>> layer = nn.Linear(10, 3)
    >>> layer.bias.requires_grad_(False)
    Parameter containing:...
    >>> n_parameters(layer, trainable_only=True)
    30
    """
    return sum(
        p.numel() for p in model.parameters() if p.requires_grad or not trainable_only
    )


class ConfidenceHead(nn.Module):
    """Confidence estimate in (0, 1) from pooled features (DeVries & Taylor, 2018).

    A linear layer to one unit followed by a sigmoid, as in "Learning
    Confidence for Out-of-Distribution Detection in Neural Networks"
    (T. DeVries and G. W. Taylor, arXiv:1802.04865). The output is clamped to
    ``[eps, 1 - eps]`` so that it stays strictly inside (0, 1) and its
    logarithm is finite, also in float32.

    Parameters
    ----------
    in_features : int
        Number of pooled features.
    eps : float, default=1e-6
        Distance kept from 0 and 1, in (0, 0.5).

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import ConfidenceHead
    >>> _ = torch.manual_seed(0)
    >>> head = ConfidenceHead(8)
    >>> c = head(torch.randn(5, 8))
    >>> c.shape, bool(((c > 0) & (c < 1)).all())
    (torch.Size([5]), True)
    """

    def __init__(self, in_features: int, eps: float = 1e-6):
        super().__init__()
        # [eps, 1 - eps] must be a range inside (0, 1): eps 0.7 clamped every
        # confidence to 0.3, eps -1 let log c reach -inf
        self.eps = check_real(
            eps, "eps", minimum=0.0, include_min=False, maximum=0.5, include_max=False
        )
        self.linear = nn.Linear(in_features, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        c = torch.sigmoid(self.linear(features).squeeze(-1))
        return c.clamp(self.eps, 1.0 - self.eps)


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction):
    if not (isinstance(reduction, str) and reduction in _REDUCTIONS):
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Per-sample losses reduced as torch's losses reduce them."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def confidence_loss(
    logits: torch.Tensor,
    confidence: torch.Tensor,
    target: torch.Tensor,
    lmbda: float = 0.1,
    hint_probability: float = 0.5,
    generator: torch.Generator | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Loss of learned confidence (DeVries & Taylor, 2018).

    The predicted probabilities are interpolated towards the one-hot target,
    ``p' = c p + (1 - c) y``, for a random fraction ``hint_probability`` of
    the samples (the "hints"; the others keep ``c = 1``), and the network pays
    ``-lmbda · log c`` for asking for them. The loss is
    ``NLL(p', y) + lmbda · mean(-log c)``.

    Parameters
    ----------
    logits : torch.Tensor of shape (B, n_classes)
        Class scores.
    confidence : torch.Tensor of shape (B,)
        Confidence in (0, 1), e.g. from :class:`ConfidenceHead`.
    target : torch.Tensor of shape (B,)
        Integer class labels.
    lmbda : float, default=0.1
        Weight of the confidence penalty (the paper adapts it to keep
        ``-log c`` near a budget; a fixed value is a good start).
    hint_probability : float, default=0.5
        Fraction of the samples that get hints.
    generator : torch.Generator, default=None
        Source of the random choice of the hinted samples.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in torch's losses: the mean over the samples, their sum, or one
        loss per sample (``NLL_i + lmbda · (-log c_i)``; what weighted
        training weighs).

    Returns
    -------
    torch.Tensor
        The scalar loss, or with ``reduction="none"`` one per sample.

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import confidence_loss
    >>> logits = torch.tensor([[4.0, 0.0], [0.0, 4.0]])
    >>> target = torch.tensor([0, 0])
    >>> sure = confidence_loss(logits, torch.tensor([1.0, 1.0]), target)
    >>> hinted = confidence_loss(
    ...     logits, torch.tensor([1.0, 0.1]), target, hint_probability=1.0
    ... )
    >>> bool(hinted < sure)  # asking for the hint on the wrong sample pays off
    True
    """
    probs = torch.softmax(logits, dim=-1)
    c = confidence.to(probs.dtype)
    if hint_probability > 0:
        hinted = (
            torch.rand(c.shape, generator=generator, device=c.device) < hint_probability
        )
        c_used = torch.where(hinted, c, torch.ones_like(c))
    else:
        c_used = torch.ones_like(c)
    onehot = F.one_hot(target.long(), probs.shape[-1]).to(probs.dtype)
    mixed = c_used.unsqueeze(-1) * probs + (1.0 - c_used.unsqueeze(-1)) * onehot
    log_mixed = torch.log(mixed.clamp_min(1e-12))
    if _check_reduction(reduction) == "mean":  # as before weighted training
        nll = F.nll_loss(log_mixed, target.long())
        return nll + lmbda * (-torch.log(c)).mean()
    per_sample = F.nll_loss(log_mixed, target.long(), reduction="none")
    return _reduce(per_sample + lmbda * (-torch.log(c)), reduction)


class ConfidenceLoss(nn.Module):
    """Learned-confidence loss whose penalty weight adapts to a budget.

    The criterion of networks with a :class:`ConfidenceHead`: it takes the
    ``(logits, confidence)`` pair they return and computes
    :func:`confidence_loss`. In training mode half of the samples (by default)
    get hints and, as in DeVries & Taylor (2018), the penalty weight ``lmbda``
    is divided by 1.01 after each batch whose mean ``-log c`` is below
    ``budget`` and by 0.99 when it is above, so that the network asks for
    hints at a steady rate instead of collapsing to ``c = 0`` or ``c = 1``.
    In evaluation mode there are no hints and ``lmbda`` is left alone (a
    validation loss is comparable between epochs).

    Parameters
    ----------
    budget : float, default=0.3
        Target mean of ``-log c`` over a training batch.
    lmbda : float, default=0.1
        Initial weight of the confidence penalty.
    hint_probability : float, default=0.5
        Fraction of the training samples that get hints.
    reduction : {"mean", "sum", "none"}, default="mean"
        How the per-sample losses are reduced (:func:`confidence_loss`);
        ``"none"`` gives one per sample, for weighted training. ``lmbda``
        adapts to the unweighted mean ``-log c`` of a batch either way.

    Attributes
    ----------
    lmbda : float
        The current penalty weight (updated in training mode; kept in the
        module's ``state_dict``, so that a resumed training run goes on from
        it).

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import ConfidenceLoss
    >>> loss = ConfidenceLoss(budget=0.3)
    >>> logits, target = torch.zeros(4, 3), torch.tensor([0, 1, 2, 0])
    >>> value = loss((logits, torch.full((4,), 0.5)), target)  # -log 0.5 > 0.3
    >>> round(loss.lmbda, 4)                                   # so lmbda grows
    0.101
    >>> _ = loss.eval()((logits, torch.full((4,), 0.5)), target)
    >>> round(loss.lmbda, 4)                                   # not in eval mode
    0.101
    """

    def __init__(
        self,
        budget: float = 0.3,
        lmbda: float = 0.1,
        hint_probability: float = 0.5,
        reduction: str = "mean",
    ):
        super().__init__()
        self.reduction = _check_reduction(reduction)
        for value, name in ((budget, "budget"), (lmbda, "lmbda")):
            if not isinstance(value, numbers.Real) or not value > 0:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        if not isinstance(hint_probability, numbers.Real) or not (
            0 <= hint_probability <= 1
        ):
            raise ValueError(
                f"hint_probability must be in [0, 1], got {hint_probability!r}"
            )
        self.budget = float(budget)
        self.lmbda = float(lmbda)
        self.hint_probability = float(hint_probability)

    def forward(self, output, target: torch.Tensor) -> torch.Tensor:
        if not (isinstance(output, tuple | list) and len(output) == 2):
            raise ValueError(
                "ConfidenceLoss needs the (logits, confidence) pair of a network "
                "with a confidence head"
            )
        logits, confidence = output
        logits = logits.float()
        confidence = confidence.float()
        loss = confidence_loss(
            logits,
            confidence,
            target,
            lmbda=self.lmbda,
            hint_probability=self.hint_probability if self.training else 0.0,
            reduction=getattr(self, "reduction", "mean"),  # pickled before it
        )
        if self.training:
            penalty = float(-torch.log(confidence.detach()).mean())
            self.lmbda = self.lmbda / (1.01 if penalty < self.budget else 0.99)
        return loss

    # lmbda is training state (adapted batch by batch): in the state dict, so
    # that a resumed training run goes on from the value it had reached
    def get_extra_state(self):
        return {"lmbda": self.lmbda}

    def set_extra_state(self, state):
        self.lmbda = float(state["lmbda"])


class HierarchicalLoss(nn.Module):
    """Cross-entropy of the classes plus that of coarser groups of them.

    A multi-task loss for one classification head: the probability of a
    group (a crystal system, a Bravais lattice...) is the sum of the
    probabilities of its classes (space groups), and each grouping adds the
    negative log-likelihood of the true group, with its weight, to the
    cross-entropy of the true class::

        loss = CE(logits, y) + sum_l  w_l * -log sum_{k in g_l(y)} p_k

    The coarse terms push probability into the right group even when the
    network cannot yet tell the classes inside it apart, which the class
    cross-entropy alone rewards only through the one true class. Answers at
    every level still come from the one head and never contradict each other
    (:class:`skxrd.estimators.CoarseLabelClassifier`).

    Parameters
    ----------
    groups : sequence of sequences of int, default=()
        One grouping per coarse level: for each class index ``0..n-1``, the
        index ``0..G-1`` of its group. Every group index below the largest
        must have at least one class.
    weights : sequence of float, default=()
        The weight of each grouping's term (>= 0), as many as ``groups``.
    label_smoothing : float, default=0.0
        Label smoothing of the class cross-entropy (in ``[0, 1)``, as in
        :class:`torch.nn.CrossEntropyLoss`); the coarse terms are not smoothed.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in torch's losses: the mean over the samples, their sum, or one
        loss per sample (for weighted training).

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import HierarchicalLoss
    >>> target = torch.tensor([0])
    >>> # classes 0 and 1 form one group, class 2 another
    >>> loss = HierarchicalLoss(groups=[[0, 0, 1]], weights=[1.0])
    >>> right_group = torch.tensor([[0.0, 3.0, -3.0]])  # wrong class, right group
    >>> wrong_group = torch.tensor([[0.0, -3.0, 3.0]])  # wrong class and group
    >>> bool(loss(right_group, target) < loss(wrong_group, target))
    True
    >>> plain = torch.nn.CrossEntropyLoss()         # the same to plain CE
    >>> bool(plain(right_group, target) == plain(wrong_group, target))
    True
    """

    def __init__(
        self,
        groups=(),
        weights=(),
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ):
        super().__init__()
        self.reduction = _check_reduction(reduction)
        groups, weights = list(groups), list(weights)
        if len(groups) != len(weights):
            raise ValueError(
                f"HierarchicalLoss needs one weight per grouping: got {len(groups)} "
                f"groupings and {len(weights)} weights"
            )
        for w in weights:
            if isinstance(w, bool) or not isinstance(w, numbers.Real) or not w >= 0:
                raise ValueError(f"weights must be numbers >= 0, got {w!r}")
        if (
            isinstance(label_smoothing, bool)
            or not isinstance(label_smoothing, numbers.Real)
            or not 0 <= label_smoothing < 1
        ):
            raise ValueError(
                f"label_smoothing must be in [0, 1), got {label_smoothing!r}"
            )
        self.weights = [float(w) for w in weights]
        self.label_smoothing = float(label_smoothing)
        n_classes = None
        for level, group in enumerate(groups):
            index = torch.as_tensor(group, dtype=torch.long)
            if index.ndim != 1 or len(index) == 0 or int(index.min()) < 0:
                raise ValueError(
                    f"groups[{level}] must be a non-empty list of group indices "
                    f">= 0, one per class"
                )
            if n_classes is not None and len(index) != n_classes:
                raise ValueError(
                    f"groups[{level}] has {len(index)} classes, groups[0] {n_classes}"
                )
            n_classes = len(index)
            n_groups = int(index.max()) + 1
            if len(torch.unique(index)) != n_groups:
                raise ValueError(
                    f"groups[{level}] leaves a group index below {n_groups - 1} "
                    "without classes"
                )
            # log of the (n_classes, n_groups) 0/1 membership: log-probabilities
            # plus it, log-sum-exp'd over classes, are those of the groups
            member = F.one_hot(index, n_groups).to(torch.float32)
            self.register_buffer(f"_log_member_{level}", member.log(), persistent=False)
            self.register_buffer(f"_index_{level}", index, persistent=False)
        self.n_classes = n_classes

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if isinstance(logits, tuple | list):
            raise ValueError(
                "HierarchicalLoss takes logits; a network with a confidence head "
                "is trained with ConfidenceLoss"
            )
        logits = logits.float()  # the loss in float32 under bf16 autocast
        target = target.long()
        if self.n_classes is not None and logits.shape[-1] != self.n_classes:
            raise ValueError(
                f"HierarchicalLoss was built for {self.n_classes} classes, "
                f"got logits of {logits.shape[-1]}"
            )
        reduction = getattr(self, "reduction", "mean")  # pickled before it
        loss = F.cross_entropy(
            logits, target, label_smoothing=self.label_smoothing, reduction=reduction
        )
        if not self.weights:
            return loss
        log_p = F.log_softmax(logits, dim=-1)
        for level, weight in enumerate(self.weights):
            log_member = getattr(self, f"_log_member_{level}")
            index = getattr(self, f"_index_{level}")
            log_group = torch.logsumexp(log_p.unsqueeze(-1) + log_member, dim=1)
            nll = F.nll_loss(log_group, index[target], reduction=reduction)
            loss = loss + weight * nll
        return loss


class _SameConvMixin:
    """'Same' padding for any kernel size and stride: output length ceil(L / stride).

    Odd kernels use the symmetric padding of the convolution itself; even
    kernels get the one extra zero on the right from an explicit pad. Every
    input length >= 1 gives an output length >= 1, so strided layers
    downsample long sequences and leave a length of 1 alone.
    """

    def _setup_padding(self, kernel_size: int, dims: int):
        if kernel_size % 2:
            self._extra_pad = None
        else:
            left, right = (kernel_size - 1) // 2, kernel_size // 2
            self._extra_pad = (left, right) * dims

    def forward(self, x):
        if self._extra_pad is not None:
            x = F.pad(x, self._extra_pad)
        return super().forward(x)


class _SameConv1d(_SameConvMixin, nn.Conv1d):
    def __init__(self, in_ch, out_ch, kernel_size, stride=1, bias=False):
        super().__init__(
            in_ch,
            out_ch,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2 if kernel_size % 2 else 0,
            bias=bias,
        )
        self._setup_padding(kernel_size, 1)


class _SameConv2d(_SameConvMixin, nn.Conv2d):
    def __init__(self, in_ch, out_ch, kernel_size, stride=1, bias=False):
        super().__init__(
            in_ch,
            out_ch,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2 if kernel_size % 2 else 0,
            bias=bias,
        )
        self._setup_padding(kernel_size, 2)


def _conv(dims, in_ch, out_ch, kernel_size, stride=1, bias=False):
    cls = _SameConv1d if dims == 1 else _SameConv2d
    return cls(in_ch, out_ch, kernel_size, stride=stride, bias=bias)


def _batchnorm(dims, n):
    return nn.BatchNorm1d(n) if dims == 1 else nn.BatchNorm2d(n)


def _maxpool_half(dims):
    """3-wide max pool with stride 2: length ceil(L / 2), so L = 1 stays 1."""
    cls = nn.MaxPool1d if dims == 1 else nn.MaxPool2d
    return cls(kernel_size=3, stride=2, padding=1)


def _avgpool_half(dims):
    """2-wide average pool with stride 2 in ceil mode: length ceil(L / 2)."""
    cls = nn.AvgPool1d if dims == 1 else nn.AvgPool2d
    return cls(kernel_size=2, stride=2, ceil_mode=True)


def _global_avgpool(dims):
    return nn.AdaptiveAvgPool1d(1) if dims == 1 else nn.AdaptiveAvgPool2d(1)


def _as_input(x: torch.Tensor, in_channels: int, dims: int, dtype) -> torch.Tensor:
    """(B, L) -> (B, 1, L) (or (B, H, W) -> (B, 1, H, W)); check; cast to ``dtype``."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    if x.ndim == dims + 1:
        if in_channels != 1:
            raise ValueError(
                f"input of shape {tuple(x.shape)} has no channel axis but the "
                f"model expects in_channels={in_channels}"
            )
        x = x.unsqueeze(1)
    elif x.ndim != dims + 2:
        layout = "(B, L) or (B, C, L)" if dims == 1 else "(B, H, W) or (B, C, H, W)"
        raise ValueError(f"expected an input of shape {layout}, got {tuple(x.shape)}")
    if x.shape[1] != in_channels:
        raise ValueError(
            f"input has {x.shape[1]} channels, the model expects {in_channels}"
        )
    if min(x.shape[2:]) < 1:
        # torch's own error ("Kernel size can't be greater than actual input
        # size") names neither the input nor the rule
        what = "length" if dims == 1 else "height and width"
        raise ValueError(
            f"input of shape {tuple(x.shape)} is empty: the model needs a {what} >= 1"
        )
    if x.is_complex():
        # the cast would drop the imaginary part with only a torch warning
        raise TypeError(f"input must be real, got a tensor of dtype {x.dtype}")
    if x.dtype != dtype:
        x = x.to(dtype)
    return x


def _check_batch_statistics(
    x: torch.Tensor, training: bool, downsampling: int, name: str
) -> None:
    """A clear error where training-mode BatchNorm would see one value per channel.

    The last BatchNorm of the network sees the input downsampled
    ``downsampling`` times along each spatial axis (``n -> ceil(n / d)``); in
    training mode it needs more than one value per channel over the batch.
    torch's own error there ("Expected more than 1 value per channel when
    training") names neither the input size nor the minimum.
    """
    if not training:
        return
    sizes = tuple(int(n) for n in x.shape[2:])
    reduced = [-(-n // downsampling) for n in sizes]
    values = int(x.shape[0])
    for n in reduced:
        values *= n
    if values >= 2 or x.shape[0] == 0:
        return
    if len(sizes) == 1:
        size, minimum = f"length {sizes[0]}", f"a length >= {downsampling + 1}"
    else:
        size = "size " + " x ".join(map(str, sizes))
        minimum = f"a height or width >= {downsampling + 1}"
    raise ValueError(
        f"{name} in training mode needs more than one value per channel in its "
        f"last BatchNorm, but a batch of 1 input of {size} is downsampled "
        f"{downsampling} times to a single value: give a batch of 2 or more, "
        f"{minimum}, or call .eval() to predict"
    )


def _init_weights(module: nn.Module) -> None:
    """Kaiming-normal convolutions, unit/zero batch norm, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)


def _check_dropout(value):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0 <= value < 1
    ):
        raise ValueError(f"dropout must be a number in [0, 1), got {value!r}")
    return float(value)
