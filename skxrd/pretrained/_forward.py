"""The forward pass of a trained :class:`~skxrd.models.ResNet1D` in numpy.

``skxrd predict`` answers one pattern per call, in a fresh process, on the
CPU: importing torch costs 1.4-1.8 s there, most of the 2 s an answer may
take, for a network that needs about 0.01 s of arithmetic. The light
predictor (:mod:`._runtime`) therefore runs the shipped networks (ResNets:
the space-group network and the members of the structure-type union) with
this module: the same layers, in float32, on the weights of a model file as
:func:`._archive.read_archive` reads them. Its outputs equal the module's in
float32 rounding (tests compare them). Other networks are run by torch.

Every pass takes the same number of patterns (the last batch padded), so
that a pattern's answer does not depend on what is predicted with it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NumpyResNet1D"]

# defaults of skxrd.models.ResNet1D that a stored state dict does not show
# (the tests check them against the module's signature)
STEM_STRIDE = 2
BN_EPS = 1e-5
CONFIDENCE_EPS = 1e-6
CHUNK = 8  # patterns per pass (the CPU pipeline takes 16)

_window = np.lib.stride_tricks.sliding_window_view


def _conv(x, w, stride=1):
    """'Same'-padded, bias-free 1D convolution of patterns ``x`` (N, L, C),
    channels last, with ``w`` (C * K, O), the rows of torch's (O, C, K)
    weights flattened: output (N, ceil(L / stride), O)."""
    n, _, c = x.shape
    k = len(w) // c
    # odd kernels: symmetric padding; even: the extra zero on the right
    x = np.pad(x, ((0, 0), ((k - 1) // 2, k // 2), (0, 0)))
    windows = _window(x, k, axis=1)[:, ::stride]  # (N, L_out, C, K)
    out = windows.reshape(-1, c * k) @ w
    return out.reshape(n, -1, w.shape[1])


def _maxpool_half(x):
    """3-wide max pool with stride 2 and padding 1 along the length of
    ``x`` (N, L, C): length ceil(L / 2)."""
    x = np.pad(x, ((0, 0), (1, 1), (0, 0)), constant_values=-np.inf)
    return _window(x, 3, axis=1)[:, ::2].max(axis=3)


class _BatchNorm:
    """Batch norm in evaluation: one scale and shift per channel."""

    def __init__(self, state, name):
        var = state[f"{name}.running_var"]
        scale = state[f"{name}.weight"] / np.sqrt(var + np.float32(BN_EPS))
        shift = state[f"{name}.bias"] - state[f"{name}.running_mean"] * scale
        self.scale, self.shift = scale, shift  # on the last (channel) axis

    def relu(self, x):
        return np.maximum(x * self.scale + self.shift, 0)


class NumpyResNet1D:
    """A trained :class:`~skxrd.models.ResNet1D` as numpy arrays.

    Parameters
    ----------
    state_dict : dict of str to ndarray
        The module's ``state_dict()`` (float16 weights are cast to float32,
        as ``load_state_dict`` casts them).
    stem_stride : int, default=2
        The module's ``stem_stride`` (not visible in its weights).

    Raises
    ------
    ValueError
        If the state dict is not one of a :class:`~skxrd.models.ResNet1D`
        with one input channel.

    Examples
    --------
    >>> import torch
    >>> from skxrd.models import ResNet1D
    >>> from skxrd.pretrained._forward import NumpyResNet1D
    >>> _ = torch.manual_seed(0)
    >>> module = ResNet1D(5, depth=2, width=8, confidence_head=True).eval()
    >>> state = {k: v.numpy() for k, v in module.state_dict().items()}
    >>> x = torch.rand(3, 100)
    >>> logits, confidence = NumpyResNet1D(state).forward(x.numpy())
    >>> expected = module(x)[0].detach().numpy()
    >>> bool(abs(logits - expected).max() < 1e-5), logits.dtype, confidence.shape
    (True, dtype('float32'), (3,))
    """

    def __init__(self, state_dict, stem_stride=STEM_STRIDE):
        state = {k: np.asarray(v, dtype=np.float32) for k, v in state_dict.items()}

        def conv(name):  # (O, C, K) -> (C * K, O), for channels-last inputs
            w = state[name]
            return np.ascontiguousarray(w.reshape(len(w), -1).T)

        try:
            self._stem = conv("stem.0.weight")
            self._stem_bn = _BatchNorm(state, "stem.1")
            self._blocks = []
            i = 0
            while f"blocks.{i}.conv1.weight" in state:
                p = f"blocks.{i}."
                shortcut = None
                if p + "shortcut.weight" in state:
                    shortcut = conv(p + "shortcut.weight")
                # a projection shortcut marks a stage's first block, which
                # halves the length (skxrd.models.ResNet1D), except the first
                stride = 2 if shortcut is not None and i > 0 else 1
                self._blocks.append(
                    (
                        _BatchNorm(state, p + "bn1"),
                        conv(p + "conv1.weight"),
                        _BatchNorm(state, p + "bn2"),
                        conv(p + "conv2.weight"),
                        shortcut,
                        stride,
                    )
                )
                i += 1
            self._final = _BatchNorm(state, "final.0")
            # the linear head, and the confidence head's unit as one more column
            self._head, self._bias = state["fc.weight"].T, state["fc.bias"]
            self.n_classes = len(self._bias)
            self.has_head = "confidence.linear.weight" in state
            if self.has_head:
                w = state["confidence.linear.weight"][0]
                self._head = np.column_stack([self._head, w])
                self._bias = np.append(self._bias, state["confidence.linear.bias"])
        except KeyError as exc:
            raise ValueError(f"not a ResNet1D state dict: no {exc}") from None
        stem = state["stem.0.weight"]
        if stem.ndim != 3 or stem.shape[1] != 1 or not self._blocks:
            raise ValueError("not a ResNet1D state dict of one input channel")
        self._stem_stride = int(stem_stride)

    def _features(self, x):
        """Pooled features (N, F) of patterns (N, L)."""
        out = _conv(x[:, :, None], self._stem, self._stem_stride)
        out = _maxpool_half(self._stem_bn.relu(out))
        for bn1, conv1, bn2, conv2, shortcut, stride in self._blocks:
            pre = bn1.relu(out)
            skip = out if shortcut is None else _conv(pre, shortcut, stride)
            out = _conv(bn2.relu(_conv(pre, conv1, stride)), conv2) + skip
        return self._final.relu(out).mean(axis=1)

    def forward(self, X):
        """Logits of the patterns ``X`` (n, L), and the confidence head's
        outputs (n,) (None without a head)."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"expected patterns of shape (n, L), got {X.shape}")
        n = len(X)
        # every pass takes CHUNK patterns (the last padded with zeros): the
        # same array shapes, so the same arithmetic, whatever is predicted
        # with a pattern
        X = np.concatenate([X, np.zeros((-n % CHUNK, X.shape[1]), np.float32)])
        parts = [
            self._features(X[i : i + CHUNK]) @ self._head + self._bias
            for i in range(0, len(X), CHUNK)
        ]
        out = np.concatenate(parts)[:n] if parts else np.zeros((0, len(self._bias)))
        out = out.astype(np.float32, copy=False)
        if not self.has_head:
            return out, None
        logits, z = out[:, :-1], out[:, -1]
        confidence = np.clip(
            1 / (1 + np.exp(-z)), np.float32(CONFIDENCE_EPS), 1 - CONFIDENCE_EPS
        ).astype(np.float32)
        return logits, confidence
