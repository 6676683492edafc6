"""Train-time augmentation: torch batch transforms and class balancing by augmentation.

Everything here acts during training only. The transforms are callables on
torch tensors of shape ``(batch, n_points)`` (CPU or CUDA), meant to be used
inside an estimator's ``fit`` (e.g. in a data loader or a skorch callback);
:class:`AugmentingSampler` is an imbalanced-learn sampler whose resampling
happens in ``fit`` of an :class:`imblearn.pipeline.Pipeline`. None of them is a
scikit-learn transformer, which would also act at predict time.

Physical transforms: :class:`PoissonNoise`, :class:`GaussianNoise`,
:class:`PolynomialBackground`, :class:`AmorphousHump`, :class:`PeakShift`,
:class:`LatticeStrain`, :class:`CrystalliteBroadening`, :class:`ScanRange`,
:class:`PreferredOrientationScaling`, :class:`RandomPeakScaling`,
:class:`RandomPeakRemoval`, :class:`ImpurityPeaks`, :class:`KbetaLeak`. Combinators:
:class:`Compose`, :class:`RandomApply`, :class:`OneOf`, :class:`Normalize` and
:class:`LinearIntensities` (transforms on the linear intensities of
square-root-scaled patterns);
:func:`default_augmentation` builds a sensible pipeline.

Examples
--------
>>> import torch
>>> from skxrd.augmentation import default_augmentation
>>> x = torch.rand(4, 4250)
>>> aug = default_augmentation()
>>> y = aug(x, generator=torch.Generator().manual_seed(0))
>>> z = aug(x, generator=torch.Generator().manual_seed(0))
>>> y.shape, bool(torch.equal(y, z))
(torch.Size([4, 4250]), True)
"""

from ._background import AmorphousHump, PolynomialBackground
from ._base import BatchTransform, default_two_theta
from ._compose import (
    Compose,
    LinearIntensities,
    Normalize,
    OneOf,
    RandomApply,
    default_augmentation,
    sample_augmentation,
)
from ._geometry import CrystalliteBroadening, LatticeStrain, PeakShift, ScanRange
from ._noise import GaussianNoise, PoissonNoise
from ._peaks import (
    ImpurityPeaks,
    KbetaLeak,
    PreferredOrientationScaling,
    RandomPeakRemoval,
    RandomPeakScaling,
    find_peaks,
)
from ._sampler import AugmentingSampler

__all__ = [
    "AmorphousHump",
    "AugmentingSampler",
    "BatchTransform",
    "Compose",
    "CrystalliteBroadening",
    "GaussianNoise",
    "ImpurityPeaks",
    "KbetaLeak",
    "LatticeStrain",
    "LinearIntensities",
    "Normalize",
    "OneOf",
    "PeakShift",
    "PoissonNoise",
    "PolynomialBackground",
    "PreferredOrientationScaling",
    "RandomApply",
    "RandomPeakRemoval",
    "RandomPeakScaling",
    "ScanRange",
    "default_augmentation",
    "sample_augmentation",
    "default_two_theta",
    "find_peaks",
]
