"""Array-to-array transformers for diffraction patterns.

Each works on ``X`` of shape (n_samples, n_points), one pattern per row:
resampling onto a model's grid and wavelength (:class:`PatternResampler`, which
also takes :class:`~skxrd.io.Pattern` objects), Kα2 stripping
(:class:`Kalpha2Stripper`, arrays or patterns), cropping, background
subtraction, smoothing and normalization. :class:`SpotMeshShaper` works on
single-crystal zone-axis spot images instead, of shape (n_samples, n_axes, H,
W): it joins neighbouring spots by a line mesh and builds one colour image per
axis.
"""

from ._background import (
    BackgroundSubtractor,
    rolling_ball_background,
    snip_background,
)
from ._crop import PatternCropper
from ._kalpha2 import Kalpha2Stripper
from ._normalize import PatternNormalizer
from ._resample import PatternResampler
from ._screen import screen_patterns
from ._shaping import SpotMeshShaper
from ._smooth import PatternSmoother

__all__ = [
    "BackgroundSubtractor",
    "Kalpha2Stripper",
    "PatternCropper",
    "PatternNormalizer",
    "PatternResampler",
    "PatternSmoother",
    "SpotMeshShaper",
    "rolling_ball_background",
    "screen_patterns",
    "snip_background",
]
