"""Counting noise: Poisson statistics of the detector and additive Gaussian noise."""

from __future__ import annotations

import numbers

import torch

from ._base import BatchTransform, _bounds, _randn, _row_max, _uniform

__all__ = ["GaussianNoise", "PoissonNoise"]


class PoissonNoise(BatchTransform):
    """Counting statistics: scale to counts, draw Poisson counts, scale back.

    Each pattern is scaled so that its maximum (``reference="max"``) or its sum
    (``reference="sum"``) equals a number of counts drawn log-uniformly from
    ``counts``; every point is replaced by a Poisson draw with that mean and the
    pattern is scaled back. The noise is unbiased: the expected pattern is the
    input. Where the expected count is at least ``gaussian_threshold`` the
    Poisson law is replaced by its Gaussian approximation ``N(λ, λ)`` (fast on
    any device); below, points are drawn exactly with :func:`torch.poisson`.
    Negative intensities (e.g. after a background subtraction) get no noise.

    Parameters
    ----------
    counts : float or (float, float), default=(1e3, 1e5)
        Counts of the reference (a fixed value or a log-uniform range).
    reference : {"max", "sum"}, default="max"
        Whether ``counts`` are the counts of the strongest point (a property of
        the measurement, independent of the grid) or the total counts.
    gaussian_threshold : float, default=20.0
        Expected counts from which the Gaussian approximation is used.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import PoissonNoise
    >>> x = torch.full((2, 4250), 0.5)
    >>> y = PoissonNoise(counts=1e4)(x, generator=torch.Generator().manual_seed(0))
    >>> y.shape, y.dtype
    (torch.Size([2, 4250]), torch.float32)
    >>> round(float(y.mean()), 2), round(float(y.std()), 3)  # 0.5 · sqrt(1e4) / 1e4
    (0.5, 0.005)
    """

    def __init__(self, counts=(1e3, 1e5), reference="max", gaussian_threshold=20.0):
        self.counts = counts
        self.reference = reference
        self.gaussian_threshold = gaussian_threshold

    def _transform(self, x, generator, grid):
        lo, hi = _bounds(self.counts, "counts")
        if lo <= 0:
            raise ValueError(f"counts must be positive, got {self.counts!r}")
        if self.reference not in ("max", "sum"):
            raise ValueError(
                f"reference must be 'max' or 'sum', got {self.reference!r}"
            )
        threshold = self.gaussian_threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, numbers.Real)
            or not threshold >= 0
        ):
            raise ValueError(
                f"gaussian_threshold must be a number >= 0, got {threshold!r}"
            )
        n = x.shape[0]
        counts = _uniform((lo, hi), (n, 1), generator, x.device, x.dtype, log=True)
        z = _randn(x.shape, generator, x.device).to(x.dtype)
        positive = x.clamp(min=0)
        ref = _row_max(x) if self.reference == "max" else positive.sum(1, keepdim=True)
        ok = ref > 0
        scale = torch.where(ok, counts / torch.where(ok, ref, 1.0), 0.0)
        lam = positive * scale
        noisy = torch.addcmul(lam, lam.sqrt(), z)
        small = (lam < threshold) & (lam > 0)  # (0 counts stay 0)
        if bool(small.any()):
            noisy[small] = torch.poisson(lam[small], generator=generator)
        noisy.clamp_(min=0)
        return torch.where(lam > 0, noisy / torch.where(ok, scale, 1.0), x)


class GaussianNoise(BatchTransform):
    """Additive white Gaussian noise relative to each pattern's maximum.

    ``x + σ · max(x) · N(0, 1)`` with σ drawn uniformly from ``sigma`` per
    pattern: detector read-out noise or, crudely, counting noise of a constant
    level. Where ``x`` is near zero the result goes below it, as a measured
    pattern does after its background is subtracted; :class:`PoissonNoise`
    gives counting noise that stays non-negative.

    Parameters
    ----------
    sigma : float or (float, float), default=(0, 0.02)
        Standard deviation relative to the pattern's maximum (a fixed value or a
        uniform range).

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import GaussianNoise
    >>> x = torch.zeros(3, 4250)
    >>> x[:, 100] = 2.0
    >>> y = GaussianNoise(sigma=0.01)(x, generator=torch.Generator().manual_seed(0))
    >>> round(float(y[:, 200:].std()), 3)  # 0.01 * max
    0.02
    """

    def __init__(self, sigma=(0.0, 0.02)):
        self.sigma = sigma

    def _transform(self, x, generator, grid):
        bounds = _bounds(self.sigma, "sigma", low=0.0)
        sigma = _uniform(bounds, (x.shape[0], 1), generator, x.device, x.dtype)
        z = _randn(x.shape, generator, x.device).to(x.dtype)
        return torch.addcmul(x, z, sigma * _row_max(x).clamp(min=0))
