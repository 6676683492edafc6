"""Combinators (Compose, RandomApply, OneOf), Normalize and the default pipeline."""

from __future__ import annotations

import numbers

import torch

from ..utils._validation import check_bool
from ._background import AmorphousHump, PolynomialBackground
from ._base import BatchTransform, _probability, _rand, _row_max
from ._geometry import CrystalliteBroadening, LatticeStrain, PeakShift, ScanRange
from ._noise import GaussianNoise, PoissonNoise
from ._peaks import (
    ImpurityPeaks,
    PreferredOrientationScaling,
    RandomPeakRemoval,
    RandomPeakScaling,
)

__all__ = [
    "Compose",
    "LinearIntensities",
    "Normalize",
    "OneOf",
    "RandomApply",
    "default_augmentation",
    "sample_augmentation",
]


def _check_transform(transform, name):
    if not callable(transform):
        raise TypeError(f"{name} must be callable, got {transform!r}")


class Normalize(BatchTransform):
    """Scale each pattern to a maximum of 1 (patterns with no positive value are kept).

    Models are trained on max-normalized patterns; put this last, after noise
    and backgrounds have changed the maxima.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import Normalize
    >>> Normalize()(torch.tensor([[1.0, 4.0, 2.0], [0.0, 0.0, 0.0]])).tolist()
    [[0.25, 1.0, 0.5], [0.0, 0.0, 0.0]]
    """

    def _transform(self, x, generator, grid):
        top = _row_max(x)
        return x / torch.where(top > 0, top, 1.0)


class Compose(BatchTransform):
    """Apply transforms one after the other (optionally max-normalizing at the end).

    Parameters
    ----------
    transforms : list of callables
        Batch transforms, each called as ``t(x, generator=generator)``.
    normalize : bool, default=False
        Scale each pattern to a maximum of 1 at the end (see :class:`Normalize`);
        True or False (numpy's too), checked at call time.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import Compose, GaussianNoise, PeakShift
    >>> aug = Compose([PeakShift(), GaussianNoise()], normalize=True)
    >>> x = torch.rand(8, 4250)
    >>> y = aug(x, generator=torch.Generator().manual_seed(0))
    >>> y.shape, bool(torch.allclose(y.amax(dim=1), torch.ones(8)))
    (torch.Size([8, 4250]), True)
    """

    def __init__(self, transforms, normalize=False):
        self.transforms = transforms
        self.normalize = normalize

    def _transform(self, x, generator, grid):
        # a flag, not a truthy value: normalize="no" max-normalized silently
        normalize = check_bool(self.normalize, "normalize")
        for i, transform in enumerate(self.transforms):
            _check_transform(transform, f"transforms[{i}]")
            x = transform(x, generator=generator)
        if normalize:
            x = Normalize()(x)
        return x


class RandomApply(BatchTransform):
    """Apply a transform to each pattern with probability ``p``.

    The patterns are chosen independently; the transform runs once, on the
    chosen sub-batch (vectorized, no loop over patterns), the others are copied.

    Parameters
    ----------
    transform : callable
        A batch transform.
    p : float, default=0.5
        Probability for each pattern.

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import GaussianNoise, RandomApply
    >>> x = torch.zeros(1000, 10)
    >>> x[:, 0] = 1.0
    >>> aug = RandomApply(GaussianNoise(sigma=0.1), p=0.3)
    >>> y = aug(x, generator=torch.Generator().manual_seed(0))
    >>> changed = (y != x).any(dim=1).float().mean()
    >>> round(float(changed), 1)
    0.3
    """

    def __init__(self, transform, p=0.5):
        self.transform = transform
        self.p = p

    def _transform(self, x, generator, grid):
        _check_transform(self.transform, "transform")
        p = _probability(self.p, "p")
        chosen = (_rand((x.shape[0],), generator, x.device) < p).nonzero()[:, 0]
        out = x.clone()
        if chosen.numel():
            out[chosen] = self.transform(x[chosen], generator=generator)
        return out


class OneOf(BatchTransform):
    """Apply one of several transforms to each pattern, chosen at random.

    Each transform runs once, on the sub-batch of the patterns that chose it.

    Parameters
    ----------
    transforms : list of callables
        Batch transforms.
    weights : list of float, optional
        Relative probabilities of the transforms (equal by default).

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import GaussianNoise, OneOf, PoissonNoise
    >>> aug = OneOf([GaussianNoise(), PoissonNoise()], weights=[1, 3])
    >>> aug(torch.rand(4, 4250), generator=torch.Generator().manual_seed(0)).shape
    torch.Size([4, 4250])
    """

    def __init__(self, transforms, weights=None):
        self.transforms = transforms
        self.weights = weights

    def _transform(self, x, generator, grid):
        transforms = list(self.transforms)
        if not transforms:
            raise ValueError("OneOf needs at least one transform")
        for i, transform in enumerate(transforms):
            _check_transform(transform, f"transforms[{i}]")
        weights = [1.0] * len(transforms) if self.weights is None else self.weights
        if len(weights) != len(transforms) or any(
            isinstance(w, bool) or not isinstance(w, numbers.Real) or not w >= 0
            for w in weights
        ):
            raise ValueError(
                "weights must be non-negative numbers, one per transform, "
                f"got {self.weights!r}"
            )
        total = float(sum(weights))
        if total <= 0:
            raise ValueError("weights must not all be 0")
        edges = torch.tensor(weights, dtype=torch.float64).cumsum(0) / total
        edges = edges.to(torch.float32).to(x.device)
        # right=True: a draw on an edge goes to the next transform, so that a
        # weight of 0 (an empty interval) is never chosen
        u = _rand((x.shape[0],), generator, x.device)
        choice = torch.searchsorted(edges, u, right=True)
        choice = choice.clamp_(max=len(transforms) - 1)
        out = x.clone()
        for k, transform in enumerate(transforms):
            chosen = (choice == k).nonzero()[:, 0]
            if chosen.numel():
                out[chosen] = transform(x[chosen], generator=generator)
        return out


class _KeepMaximum(BatchTransform):
    """``transform``'s max-normalized output scaled back to each input
    pattern's maximum (patterns with no positive value as ``transform`` gives
    them).

    For the default augmentations wherever they act on patterns that may not
    be max-normalized (``AugmentingSampler``, ``augment="default"``): their
    final :class:`Normalize` put every augmented pattern at a maximum of 1
    while the patterns they came from, and those seen at prediction time,
    kept their own scale (area-normalized, counts). Max-normalized patterns
    come back as ``transform`` gives them (times 1).
    """

    def __init__(self, transform):
        self.transform = transform

    def _transform(self, x, generator, grid):
        _check_transform(self.transform, "transform")
        out = self.transform(x, generator=generator)
        top = _row_max(x)
        return out * torch.where(top > 0, top, 1.0)


class LinearIntensities(BatchTransform):
    """Apply ``transform`` to the linear intensities of square-root-scaled patterns.

    Models that read square roots of intensities
    (``PatternNormalizer(scale="sqrt")``) get their training batches in that
    scale, but the physical transforms set their heights in linear intensity:
    an impurity line of 1 % of the strongest peak is 10 % of it in square
    roots, and scaling a peak by 2 scales its square root by √2. This squares
    each value (keeping its sign), applies ``transform`` and takes square
    roots again (keeping the sign), so the transform acts as it would before
    the scaling. Max-normalized patterns stay max-normalized.

    Parameters
    ----------
    transform : callable
        A batch transform such as :func:`sample_augmentation`'s.
    scale : {"sqrt"}, default="sqrt"
        The scale of the patterns (the only one with an inverse that does
        not depend on the pattern's lost maximum).

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import ImpurityPeaks, LinearIntensities
    >>> x = torch.zeros(1, 4250)
    >>> x[0, 2000] = 1.0
    >>> aug = LinearIntensities(ImpurityPeaks(n_peaks=1, intensity=0.04))
    >>> y = aug(x, generator=torch.Generator().manual_seed(0))
    >>> round(float((y**2 - x**2).max()), 3)  # 4 % in linear intensity
    0.04
    """

    def __init__(self, transform, scale="sqrt"):
        self.transform = transform
        self.scale = scale

    def _transform(self, x, generator, grid):
        _check_transform(self.transform, "transform")
        if self.scale != "sqrt":
            raise ValueError(f"scale must be 'sqrt', got {self.scale!r}")
        y = self.transform(x * x.abs(), generator=generator)
        return y.sign() * y.abs().sqrt()


def _relative_intensities(min_snr=None):
    """Texture, or random scaling or removal of peaks: one of them per pattern."""
    peaks = {} if min_snr is None else {"min_snr": min_snr}
    return OneOf(
        [
            PreferredOrientationScaling(max_factor=2.0, **peaks),
            RandomPeakScaling(probability=0.3, scale=(0.3, 1.5), **peaks),
            RandomPeakRemoval(probability=0.05, **peaks),
        ]
    )


def default_augmentation(two_theta=None, *, normalize=True):
    """A sensible train-time augmentation of simulated powder patterns.

    In physical order: sample-level changes (lattice strain, texture, crystallite
    size), an impurity phase, instrument errors (displacement and zero offset),
    backgrounds and counting noise, then max-normalization. Each step is applied
    to a random part of the batch::

        LatticeStrain(±0.5 %)                            p = 0.5
        OneOf(PreferredOrientationScaling(max 2),
              RandomPeakScaling(0.3, (0.3, 1.5)),
              RandomPeakRemoval(0.05))                   p = 0.4
        CrystalliteBroadening(10–200 nm)                 p = 0.3
        ImpurityPeaks(1–3, 1–5 %)                        p = 0.2
        PeakShift(±0.1° displacement, ±0.02° zero)       p = 0.5
        PolynomialBackground(degree 3, up to 10 %)       p = 0.5
        AmorphousHump(up to 15 %)                        p = 0.2
        OneOf(PoissonNoise(1e3–1e5 counts),
              GaussianNoise(σ up to 1 %))                p = 0.8
        Normalize()                                      if normalize

    Parameters
    ----------
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.
    normalize : bool, default=True
        Max-normalize each pattern at the end.

    Returns
    -------
    Compose

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import default_augmentation
    >>> aug = default_augmentation()
    >>> x = torch.rand(16, 4250)
    >>> y = aug(x, generator=torch.Generator().manual_seed(0))
    >>> y.shape, float(y.max())
    (torch.Size([16, 4250]), 1.0)
    """
    tt = two_theta
    return Compose(
        [
            RandomApply(LatticeStrain(strain=(-0.005, 0.005), two_theta=tt), p=0.5),
            RandomApply(_relative_intensities(), p=0.4),
            RandomApply(CrystalliteBroadening(size=(10.0, 200.0), two_theta=tt), p=0.3),
            RandomApply(
                ImpurityPeaks(n_peaks=(1, 3), intensity=(0.01, 0.05), two_theta=tt),
                p=0.2,
            ),
            RandomApply(
                PeakShift(
                    displacement=(-0.1, 0.1), zero_offset=(-0.02, 0.02), two_theta=tt
                ),
                p=0.5,
            ),
            RandomApply(
                PolynomialBackground(degree=3, amplitude=(0.0, 0.1), two_theta=tt),
                p=0.5,
            ),
            RandomApply(AmorphousHump(amplitude=(0.0, 0.15), two_theta=tt), p=0.2),
            RandomApply(
                OneOf(
                    [
                        PoissonNoise(counts=(1e3, 1e5)),
                        GaussianNoise(sigma=(0.0, 0.01)),
                    ]
                ),
                p=0.8,
            ),
        ],
        normalize=normalize,
    )


def sample_augmentation(
    two_theta=None, *, normalize=True, scan_range=0.0, min_snr=None
):
    """The sample-level part of :func:`default_augmentation`.

    For patterns whose instrument effects (peak widths, backgrounds, counting
    noise, zero shift) already come from the simulation, for example with
    :data:`skxrd.simulation.MEASURED_LIKE` settings, and have been through the
    same preprocessing as measured patterns (background subtraction and
    normalization): adding backgrounds or noise after that preprocessing
    would show the network patterns that no preprocessed measurement looks
    like. In physical order::

        LatticeStrain(±0.5 %)                            p = 0.5
        OneOf(PreferredOrientationScaling(max 2),
              RandomPeakScaling(0.3, (0.3, 1.5)),
              RandomPeakRemoval(0.05))                   p = 0.5
        ImpurityPeaks(1–3, 1–8 %)                        p = 0.3
        PeakShift(±0.1° displacement, ±0.05° zero)       p = 0.5
        ScanRange(start 5–15°, stop 60–90°)              p = scan_range
        Normalize()                                      if normalize

    Parameters
    ----------
    two_theta : array-like of shape (n_points,), optional
        The patterns' 2θ grid in degrees; by default the standard 5–90° grid in
        0.02° steps.
    normalize : bool, default=True
        Max-normalize each pattern at the end.
    scan_range : float, default=0.0
        The share of patterns cut to a shorter scan (:class:`ScanRange`), for
        measured scans that cover less than the grid; 0 leaves it out.
    min_snr : float, optional
        The peak transforms (texture, peak scaling and removal) count only
        peaks that rise more than this many times the pattern's noise level
        above their surroundings (:func:`find_peaks`): for patterns simulated
        with counting noise, where noise spikes would otherwise outnumber the
        lines (6 keeps 92 % of what it finds near a line on measured-like
        simulations; see ``experiments/peak_detection.py``). None finds peaks
        as on noise-free patterns.

    Returns
    -------
    Compose

    Examples
    --------
    >>> import torch
    >>> from skxrd.augmentation import sample_augmentation
    >>> aug = sample_augmentation()
    >>> y = aug(torch.rand(8, 4250), generator=torch.Generator().manual_seed(0))
    >>> y.shape, float(y.max())
    (torch.Size([8, 4250]), 1.0)

    For square-root-scaled patterns with counting noise (the shipped recipes'
    inputs), on their linear intensities and on the peaks above the noise:

    >>> from skxrd.augmentation import LinearIntensities
    >>> aug = LinearIntensities(sample_augmentation(min_snr=6))
    """
    tt = two_theta
    return Compose(
        [
            RandomApply(LatticeStrain(strain=(-0.005, 0.005), two_theta=tt), p=0.5),
            RandomApply(_relative_intensities(min_snr), p=0.5),
            RandomApply(
                ImpurityPeaks(n_peaks=(1, 3), intensity=(0.01, 0.08), two_theta=tt),
                p=0.3,
            ),
            RandomApply(
                PeakShift(
                    displacement=(-0.1, 0.1), zero_offset=(-0.05, 0.05), two_theta=tt
                ),
                p=0.5,
            ),
            *(
                [RandomApply(ScanRange(two_theta=tt), p=scan_range)]
                if scan_range
                else []
            ),
        ],
        normalize=normalize,
    )
