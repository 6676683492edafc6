"""Array-to-array transformers for diffraction patterns.

Each works on ``X`` of shape (n_samples, n_points), one pattern per row:
resampling onto a model's grid and wavelength (:class:`PatternResampler`, which
also takes :class:`~skxrd.io.Pattern` objects), cropping, background
subtraction, smoothing and normalization.
"""

from ._background import (
    BackgroundSubtractor,
    rolling_ball_background,
    snip_background,
)
from ._crop import PatternCropper
from ._normalize import PatternNormalizer
from ._resample import PatternResampler
from ._smooth import PatternSmoother

__all__ = [
    "BackgroundSubtractor",
    "PatternCropper",
    "PatternNormalizer",
    "PatternResampler",
    "PatternSmoother",
    "rolling_ball_background",
    "snip_background",
]
